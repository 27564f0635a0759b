/*
 * interaction_validate.c - checking a candidate's response against its interaction (see
 * qti_interaction_validate in interaction.h): counts, known choices, pairs, points, the
 * patternMask and number of strings of text entries, slider bounds and steps. A refusal
 * fills a qti_invalid with the rule broken and a sentence for the candidate. Parsing and
 * the JSON form are interaction.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qti/interaction.h"
#include "qti/interaction_internal.h"
#include "qti/pattern.h"
#include "qti/qti_alloc.h"

/* ------------------------------------------------------------------------- validation -- */

static int invalid(struct qti_invalid *why, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int invalid(struct qti_invalid *why, const char *rule, const char *fmt, ...)
{
    if (why) {
        snprintf(why->rule, sizeof why->rule, "%s", rule);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why->message, sizeof why->message, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static const char *plural(int n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Collects the values of a response as an array (single values become one element). */
static size_t values_of(const json_t *response, const json_t **vals, size_t max)
{
    if (!response || json_is_null(response))
        return 0;
    if (!json_is_array(response)) {
        vals[0] = response;
        return 1;
    }
    size_t n = json_array_size(response);
    if (n > max)
        n = max;
    for (size_t i = 0; i < n; i++)
        vals[i] = json_array_get(response, i);
    return n;
}

/* Splits "A B" into two identifiers. */
static int split_pair(const char *s, char *a, char *b, size_t cap)
{
    while (*s == ' ')
        s++;
    const char *sp = strchr(s, ' ');
    if (!sp || (size_t)(sp - s) >= cap)
        return -1;
    memcpy(a, s, (size_t)(sp - s));
    a[sp - s] = '\0';
    while (*sp == ' ')
        sp++;
    size_t l = strlen(sp);
    while (l && sp[l - 1] == ' ')
        l--;
    if (!l || l >= cap || memchr(sp, ' ', l))
        return -1;
    memcpy(b, sp, l);
    b[l] = '\0';
    return 0;
}

#define MAX_VALUES 1024

static int check_count(const struct qti_interaction *it, size_t n, const char *what_one,
                       const char *what_many, const char *verb, struct qti_invalid *why)
{
    int assoc = interaction_counts_associations(it->kind);
    if (it->max_choices > 0 && n > (size_t)it->max_choices)
        return invalid(why, assoc ? "maxAssociations" : "maxChoices", "%s at most %d %s.", verb,
                       it->max_choices, plural(it->max_choices, what_one, what_many));
    if (n < (size_t)it->min_choices)
        return invalid(why, assoc ? "minAssociations" : "minChoices", "%s at least %d %s.", verb,
                       it->min_choices, plural(it->min_choices, what_one, what_many));
    return 1;
}

static int validate_choices(const struct qti_interaction *it, const json_t **vals, size_t n,
                            struct qti_invalid *why)
{
    int ordered = it->kind == QTI_INTERACTION_ORDER || it->kind == QTI_INTERACTION_GRAPHIC_ORDER;
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(vals[i]);
        if (!id)
            return invalid(why, "type", "The answer is not in the expected form.");
        if (qti_interaction_find_choice(it, id) < 0)
            return invalid(why, "choice", "\"%s\" is not one of the answers you can choose.", id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(vals[j]), id) == 0)
                return invalid(why, "choice", "\"%s\" is chosen more than once.", id);
    }
    if (it->kind == QTI_INTERACTION_INLINE_CHOICE) {
        if (it->min_choices && n == 0)
            return invalid(why, "required", "Choose an answer.");
        return 1;
    }
    if (ordered)
        return check_count(it, n, "answer", "answers", "Put in order", why);
    return check_count(it, n, "answer", "answers", "Select", why);
}

/* mediaInteraction: the response is the number of times the candidate played the media
 * (QTI 2.1: a single integer); it must be at least minPlays and, when maxPlays is not 0, at
 * most maxPlays. No response counts as 0 plays. */
static int validate_plays(const struct qti_interaction *it, const json_t **vals, size_t n,
                          struct qti_invalid *why)
{
    json_int_t plays = 0;
    if (n > 1)
        return invalid(why, "type", "The answer is not in the expected form.");
    if (n == 1) {
        if (!json_is_integer(vals[0]))
            return invalid(why, "type", "The number of plays must be a whole number.");
        plays = json_integer_value(vals[0]);
    }
    if (plays < 0)
        return invalid(why, "type", "The number of plays cannot be negative.");
    if (it->max_plays > 0 && plays > it->max_plays)
        return invalid(why, "maxPlays", "The media can be played at most %d %s.", it->max_plays,
                       plural(it->max_plays, "time", "times"));
    if (plays < it->min_plays)
        return invalid(why, "minPlays", "Play the media at least %d %s.", it->min_plays,
                       plural(it->min_plays, "time", "times"));
    return 1;
}

int qti_interaction_accepts_type(const struct qti_interaction *it, const char *mime)
{
    if (!mime)
        return 0;
    if (it->kind == QTI_INTERACTION_DRAWING)
        return strcmp(mime, "image/png") == 0;
    if (it->kind == QTI_INTERACTION_CUSTOM)
        return 1; /* a PCI's file (a recording): any type whose content the device recognised */
    if (it->kind != QTI_INTERACTION_UPLOAD)
        return 0;
    if (!it->upload_types)
        return 1;
    size_t mlen = strlen(mime);
    const char *slash = strchr(mime, '/');
    for (const char *t = it->upload_types; *t;) {
        const char *end = strchr(t, ' ');
        size_t len = end ? (size_t)(end - t) : strlen(t);
        if (len == mlen && strncasecmp(t, mime, len) == 0)
            return 1;
        /* a "type/" wildcard (a star after the slash) takes any subtype */
        if (slash && len >= 2 && t[len - 1] == '*' && t[len - 2] == '/' &&
            (size_t)(slash - mime) == len - 2 && strncasecmp(t, mime, len - 2) == 0)
            return 1;
        t += len;
        while (*t == ' ')
            t++;
    }
    return 0;
}

/* uploadInteraction, drawingInteraction: one file (value.h's JSON form) of a type the
 * interaction takes. What the file holds was checked before (app/upload.h). */
static int validate_file(const struct qti_interaction *it, const json_t **vals, size_t n,
                         struct qti_invalid *why)
{
    if (n == 0)
        return 1;
    if (n > 1 || !json_is_object(vals[0]))
        return invalid(why, "type", "The answer is not in the expected form.");
    const char *type = json_string_value(json_object_get(vals[0], "type"));
    if (!qti_interaction_accepts_type(it, type))
        return invalid(why, "type",
                       it->kind == QTI_INTERACTION_DRAWING
                           ? "The drawing must be a PNG image."
                           : "This file's type (%.60s) is not one this question takes: %.120s.",
                       type ? type : "none", it->upload_types ? it->upload_types : "");
    return 1;
}

static int validate_associations(const struct qti_interaction *it, const json_t **vals, size_t n,
                                 struct qti_invalid *why)
{
    int directed = it->kind == QTI_INTERACTION_MATCH || it->kind == QTI_INTERACTION_GAP_MATCH ||
                   it->kind == QTI_INTERACTION_GRAPHIC_GAP_MATCH;
    int placing =
        it->kind == QTI_INTERACTION_GAP_MATCH || it->kind == QTI_INTERACTION_GRAPHIC_GAP_MATCH;
    int *uses = qti_xcalloc(it->nchoices, sizeof *uses);
    int ok = 1;
    char a[260], b[260];
    for (size_t i = 0; i < n && ok; i++) {
        const char *s = json_string_value(vals[i]);
        if (!s || split_pair(s, a, b, sizeof a) < 0) {
            ok = invalid(why, "type", "The answer is not in the expected form.");
            break;
        }
        int ia = qti_interaction_find_choice(it, a), ib = qti_interaction_find_choice(it, b);
        if (ia < 0 || ib < 0) {
            ok = invalid(why, "choice", "\"%s\" is not one of the answers you can choose.",
                         ia < 0 ? a : b);
            break;
        }
        if (ia == ib) {
            ok = invalid(why, "choice", "\"%s\" cannot be associated with itself.", a);
            break;
        }
        if (directed && (it->choices[ia].match_set != 0 || it->choices[ib].match_set != 1)) {
            ok = invalid(why, "choice",
                         placing ? "\"%s\" cannot be placed in \"%s\"."
                                 : "\"%s\" cannot be matched with \"%s\" in that direction.",
                         a, b);
            break;
        }
        for (size_t j = 0; j < i; j++) {
            char a2[260], b2[260];
            split_pair(json_string_value(vals[j]), a2, b2, sizeof a2);
            int same = (strcmp(a, a2) == 0 && strcmp(b, b2) == 0) ||
                       (!directed && strcmp(a, b2) == 0 && strcmp(b, a2) == 0);
            if (same) {
                ok = invalid(why, "choice", "\"%s\" and \"%s\" are associated more than once.", a,
                             b);
                break;
            }
        }
        uses[ia]++;
        uses[ib]++;
    }
    for (size_t i = 0; i < it->nchoices && ok; i++) {
        const struct qti_choice *c = &it->choices[i];
        /* A gap holds one choice at most. */
        int max = it->kind == QTI_INTERACTION_GAP_MATCH && c->match_set == 1 ? 1 : c->match_max;
        if (max > 0 && uses[i] > max) {
            if (it->kind == QTI_INTERACTION_GAP_MATCH && c->match_set == 1)
                ok = invalid(why, "matchMax", "Put only one answer in each gap.");
            else if (it->kind == QTI_INTERACTION_GRAPHIC_GAP_MATCH && c->match_set == 1)
                ok = invalid(why, "matchMax", "\"%s\" can hold at most %d %s.",
                             c->label ? c->label : c->identifier, max,
                             plural(max, "image", "images"));
            else
                ok = invalid(why, "matchMax", "\"%s\" can be used at most %d %s.", c->identifier,
                             max, plural(max, "time", "times"));
        } else if (n > 0 && uses[i] < c->match_min) {
            ok = invalid(why, "matchMin", "\"%s\" must be used at least %d %s.", c->identifier,
                         c->match_min, plural(c->match_min, "time", "times"));
        } else if (c->required && uses[i] == 0) {
            ok = invalid(why, "required", "Fill in every required gap.");
        }
    }
    free(uses);
    if (!ok)
        return 0;
    return check_count(it, n, "association", "associations", "Make", why);
}

/* A string that holds "x y" with two numbers. */
static int parse_point(const char *s, double *x, double *y)
{
    char *end;
    *x = strtod(s, &end);
    if (end == s || *end != ' ')
        return -1;
    const char *p = end;
    *y = strtod(p, &end);
    if (end == p || !isfinite(*x) || !isfinite(*y))
        return -1;
    while (*end == ' ')
        end++;
    return *end ? -1 : 0;
}

/* Each of the n values is a point "x y" on a picture of w by h pixels (a side of 0: not
 * known, not checked); else the candidate is told `outside` (or that the form is wrong).
 * selectPoint and positionObject share it; 1 when every point is on the picture. */
static int points_on_picture(const json_t **vals, size_t n, int w, int h, const char *outside,
                             struct qti_invalid *why)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(vals[i]);
        double x, y;
        if (!s || parse_point(s, &x, &y) < 0)
            return invalid(why, "type", "The answer is not in the expected form.");
        if (x < 0 || y < 0 || (w && x > w) || (h && y > h))
            return invalid(why, "point", "%s", outside);
    }
    return 1;
}

static int validate_points(const struct qti_interaction *it, const json_t **vals, size_t n,
                           struct qti_invalid *why)
{
    if (!points_on_picture(vals, n, it->object_width, it->object_height,
                           "The point you marked is outside the image.", why))
        return 0;
    return check_count(it, n, "point", "points", "Mark", why);
}

/* positionObjectInteraction: each point is where the candidate put the object's centre
 * point, in the pixels of the stage's image; it must lie on the stage. */
static int validate_positions(const struct qti_interaction *it, const json_t **vals, size_t n,
                              struct qti_invalid *why)
{
    if (!points_on_picture(vals, n, it->stage_width, it->stage_height,
                           "The image is placed outside the picture.", why))
        return 0;
    if (it->max_choices > 0 && n > (size_t)it->max_choices)
        return invalid(why, "maxChoices", "Place the image at most %d %s.", it->max_choices,
                       plural(it->max_choices, "time", "times"));
    if (n < (size_t)it->min_choices)
        return invalid(why, "minChoices", "Place the image at least %d %s.", it->min_choices,
                       plural(it->min_choices, "time", "times"));
    return 1;
}

static int validate_text(const struct qti_interaction *it, const json_t **vals, size_t n,
                         struct qti_invalid *why)
{
    size_t filled = 0;
    for (size_t i = 0; i < n; i++) {
        if (json_is_number(vals[i])) {
            filled++;
            continue; /* typed numbers: the declaration already checked them */
        }
        const char *s = json_string_value(vals[i]);
        if (!s)
            return invalid(why, "type", "The answer is not in the expected form.");
        if (*s)
            filled++;
        bool matched = false;
        const char *fault = NULL;
        if (it->pattern_mask && *s &&
            (qti_pattern_match(it->pattern_mask, s, &matched, &fault) < 0 || !matched))
            return invalid(why, "patternMask", "The answer is not in the required format.");
    }
    if (it->kind == QTI_INTERACTION_EXTENDED_TEXT) {
        if (it->max_strings > 0 && filled > (size_t)it->max_strings)
            return invalid(why, "maxStrings", "Write at most %d %s.", it->max_strings,
                           plural(it->max_strings, "answer", "answers"));
        if (filled < (size_t)it->min_strings)
            return invalid(why, "minStrings", "Write at least %d %s.", it->min_strings,
                           plural(it->min_strings, "answer", "answers"));
    }
    return 1;
}

static int validate_slider(const struct qti_interaction *it, const json_t **vals, size_t n,
                           struct qti_invalid *why)
{
    if (n == 0)
        return 1;
    if (!json_is_number(vals[0]) || n > 1)
        return invalid(why, "type", "The answer is not in the expected form.");
    double v = json_number_value(vals[0]);
    if (v < it->lower_bound || v > it->upper_bound)
        return invalid(why, "bounds", "Choose a value between %g and %g.", it->lower_bound,
                       it->upper_bound);
    if (it->step > 0) {
        double k = (v - it->lower_bound) / it->step;
        if (fabs(k - nearbyint(k)) > 1e-9 * (fabs(k) + 1))
            return invalid(why, "step", "Choose a value in steps of %g from %g.", it->step,
                           it->lower_bound);
    }
    return 1;
}

int qti_interaction_validate(const struct qti_interaction *it, const json_t *response,
                             struct qti_invalid *why)
{
    const json_t **vals = qti_xmalloc(MAX_VALUES, sizeof *vals);
    if (json_is_array(response) && json_array_size(response) > MAX_VALUES) {
        free(vals);
        return invalid(why, "type", "The answer has too many parts.");
    }
    size_t n = values_of(response, vals, MAX_VALUES);
    int ok = 1;
    switch (it->kind) {
    case QTI_INTERACTION_CHOICE:
    case QTI_INTERACTION_ORDER:
    case QTI_INTERACTION_HOTTEXT:
    case QTI_INTERACTION_HOTSPOT:
    case QTI_INTERACTION_GRAPHIC_ORDER:
    case QTI_INTERACTION_INLINE_CHOICE:
        ok = validate_choices(it, vals, n, why);
        break;
    case QTI_INTERACTION_ASSOCIATE:
    case QTI_INTERACTION_MATCH:
    case QTI_INTERACTION_GAP_MATCH:
    case QTI_INTERACTION_GRAPHIC_ASSOCIATE:
    case QTI_INTERACTION_GRAPHIC_GAP_MATCH:
        ok = validate_associations(it, vals, n, why);
        break;
    case QTI_INTERACTION_TEXT_ENTRY:
    case QTI_INTERACTION_EXTENDED_TEXT:
        ok = validate_text(it, vals, n, why);
        break;
    case QTI_INTERACTION_SLIDER:
        ok = validate_slider(it, vals, n, why);
        break;
    case QTI_INTERACTION_SELECT_POINT:
        ok = validate_points(it, vals, n, why);
        break;
    case QTI_INTERACTION_POSITION_OBJECT:
        ok = validate_positions(it, vals, n, why);
        break;
    case QTI_INTERACTION_MEDIA:
        ok = validate_plays(it, vals, n, why);
        break;
    case QTI_INTERACTION_CUSTOM:
        /* a PCI's response is checked against its declaration (type, cardinality) only: the
         * PCI alone knows what else makes it valid (a file was checked by the device) */
        ok = 1;
        break;
    case QTI_INTERACTION_UPLOAD:
    case QTI_INTERACTION_DRAWING:
        ok = validate_file(it, vals, n, why);
        break;
    case QTI_INTERACTION_END_ATTEMPT:
        /* true (used) or false; the declaration already made it a single boolean */
        ok = n == 0 || json_is_boolean(vals[0]) ||
             invalid(why, "type", "The answer must be true or false.");
        break;
    }
    free(vals);
    return ok;
}
