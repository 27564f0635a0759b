/*
 * value.c - QTI values (see value.h): construction, copy, equality, text and JSON forms.
 *
 * Invariants: every scalar of a container has the container's base type; a record's fields
 * are single values or NULL, with distinct names; strings are NUL-terminated and owned by
 * their scalar. Allocation failure aborts (qti_alloc.h).
 */
#include "qti/value.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qti/qti_alloc.h"

/* ---- names ---- */

/* "a" or "an" before a base type name in messages ("an identifier", "a float"). */
static const char *article(const char *word)
{
    return strchr("aeiouAEIOU", word[0]) ? "an" : "a";
}

static const char *const bt_names[] = {
    [QTI_BT_NONE] = "none",
    [QTI_BT_IDENTIFIER] = "identifier",
    [QTI_BT_BOOLEAN] = "boolean",
    [QTI_BT_INTEGER] = "integer",
    [QTI_BT_FLOAT] = "float",
    [QTI_BT_STRING] = "string",
    [QTI_BT_POINT] = "point",
    [QTI_BT_PAIR] = "pair",
    [QTI_BT_DIRECTED_PAIR] = "directedPair",
    [QTI_BT_DURATION] = "duration",
    [QTI_BT_FILE] = "file",
    [QTI_BT_URI] = "uri",
};

enum qti_base_type qti_base_type_from_name(const char *name)
{
    if (!name)
        return QTI_BT_NONE;
    for (int t = QTI_BT_IDENTIFIER; t <= QTI_BT_URI; t++)
        if (strcmp(name, bt_names[t]) == 0)
            return (enum qti_base_type)t;
    return QTI_BT_NONE;
}

const char *qti_base_type_name(enum qti_base_type t)
{
    if ((int)t < 0 || t > QTI_BT_URI)
        return "none";
    return bt_names[t];
}

static const char *const card_names[] = {"single", "multiple", "ordered", "record"};

int qti_cardinality_from_name(const char *name, enum qti_cardinality *out)
{
    for (int c = 0; name && c < 4; c++)
        if (strcmp(name, card_names[c]) == 0) {
            *out = (enum qti_cardinality)c;
            return 0;
        }
    return -1;
}

const char *qti_cardinality_name(enum qti_cardinality c)
{
    if ((int)c < 0 || c > QTI_CARD_RECORD)
        return "single";
    return card_names[c];
}

static bool is_text_type(enum qti_base_type t)
{
    return t == QTI_BT_IDENTIFIER || t == QTI_BT_STRING || t == QTI_BT_URI;
}

/* Scalars whose u.s is owned text: the text types, and file (its JSON object as text). */
static bool owns_text(enum qti_base_type t)
{
    return is_text_type(t) || t == QTI_BT_FILE;
}

static bool is_pair_type(enum qti_base_type t)
{
    return t == QTI_BT_PAIR || t == QTI_BT_DIRECTED_PAIR;
}

/* ---- scalars ---- */

void qti_scalar_clear(struct qti_scalar *s)
{
    if (!s)
        return;
    if (owns_text(s->type))
        free(s->u.s);
    else if (is_pair_type(s->type)) {
        free(s->u.pair.a);
        free(s->u.pair.b);
    }
    memset(&s->u, 0, sizeof s->u);
}

int qti_scalar_copy(struct qti_scalar *dst, const struct qti_scalar *src)
{
    *dst = *src;
    if (owns_text(src->type))
        dst->u.s = qti_xstrdup(src->u.s);
    else if (is_pair_type(src->type)) {
        dst->u.pair.a = qti_xstrdup(src->u.pair.a);
        dst->u.pair.b = qti_xstrdup(src->u.pair.b);
    }
    return 0;
}

/* What identifies a file value: its content's SHA-256, type and name (the kept form of the
 * same file differs from one sealing to the next). Malloc'ed "sha256 type name". */
static char *file_identity(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    const char *sha = json_string_value(json_object_get(j, "sha256"));
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *name = json_string_value(json_object_get(j, "name"));
    char *out;
    if (!sha) {
        out = qti_xstrdup(text);
    } else {
        size_t n = strlen(sha) + (type ? strlen(type) : 0) + (name ? strlen(name) : 0) + 3;
        out = qti_xcalloc(n, 1);
        snprintf(out, n, "%s %s %s", sha, type ? type : "", name ? name : "");
    }
    json_decref(j);
    return out;
}

/* A total order on scalars of one type, used to compare bags; pairs are put in a canonical
 * order first because they are unordered. */
static int scalar_cmp(const struct qti_scalar *a, const struct qti_scalar *b)
{
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    switch (a->type) {
    case QTI_BT_BOOLEAN:
        return (int)a->u.b - (int)b->u.b;
    case QTI_BT_INTEGER:
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    case QTI_BT_FLOAT:
    case QTI_BT_DURATION:
        if (isnan(a->u.f) || isnan(b->u.f))
            return (int)isnan(a->u.f) - (int)isnan(b->u.f);
        return a->u.f < b->u.f ? -1 : a->u.f > b->u.f;
    case QTI_BT_IDENTIFIER:
    case QTI_BT_STRING:
    case QTI_BT_URI:
        return strcmp(a->u.s, b->u.s);
    case QTI_BT_FILE: {
        char *ia = file_identity(a->u.s), *ib = file_identity(b->u.s);
        int c = strcmp(ia, ib);
        free(ia);
        free(ib);
        return c;
    }
    case QTI_BT_POINT:
        if (a->u.point.x != b->u.point.x)
            return a->u.point.x < b->u.point.x ? -1 : 1;
        return a->u.point.y < b->u.point.y ? -1 : a->u.point.y > b->u.point.y;
    case QTI_BT_DIRECTED_PAIR: {
        int c = strcmp(a->u.pair.a, b->u.pair.a);
        return c ? c : strcmp(a->u.pair.b, b->u.pair.b);
    }
    case QTI_BT_PAIR: {
        const char *a1 = a->u.pair.a, *a2 = a->u.pair.b, *b1 = b->u.pair.a, *b2 = b->u.pair.b;
        if (strcmp(a1, a2) > 0) {
            const char *t = a1;
            a1 = a2;
            a2 = t;
        }
        if (strcmp(b1, b2) > 0) {
            const char *t = b1;
            b1 = b2;
            b2 = t;
        }
        int c = strcmp(a1, b1);
        return c ? c : strcmp(a2, b2);
    }
    default:
        return 0;
    }
}

bool qti_scalar_equal(const struct qti_scalar *a, const struct qti_scalar *b)
{
    if (a->type != b->type)
        return false;
    if ((a->type == QTI_BT_FLOAT || a->type == QTI_BT_DURATION) && (isnan(a->u.f) || isnan(b->u.f)))
        return false;
    return scalar_cmp(a, b) == 0;
}

/* ---- values ---- */

/* Arrays of items and fields grow by doubling: their capacity is always the next power of two
 * at or above their count, so a full array is one whose count is a power of two. */
static size_t capacity_for(size_t n)
{
    size_t c = 1;
    while (c < n)
        c *= 2;
    return c;
}

static bool is_full(size_t n)
{
    return n == 0 || (n & (n - 1)) == 0;
}

static struct qti_value *new_single(enum qti_base_type t)
{
    struct qti_value *v = qti_xcalloc(1, sizeof *v);
    v->card = QTI_CARD_SINGLE;
    v->type = t;
    v->n = 1;
    v->items = qti_xcalloc(1, sizeof *v->items);
    v->items[0].type = t;
    return v;
}

struct qti_value *qti_value_boolean(bool b)
{
    struct qti_value *v = new_single(QTI_BT_BOOLEAN);
    v->items[0].u.b = b;
    return v;
}

struct qti_value *qti_value_integer(int64_t i)
{
    struct qti_value *v = new_single(QTI_BT_INTEGER);
    v->items[0].u.i = i;
    return v;
}

struct qti_value *qti_value_float(double f)
{
    struct qti_value *v = new_single(QTI_BT_FLOAT);
    v->items[0].u.f = f;
    return v;
}

struct qti_value *qti_value_duration(double seconds)
{
    struct qti_value *v = new_single(QTI_BT_DURATION);
    v->items[0].u.f = seconds;
    return v;
}

struct qti_value *qti_value_text(enum qti_base_type t, const char *s)
{
    struct qti_value *v = new_single(t);
    v->items[0].u.s = qti_xstrdup(s);
    return v;
}

struct qti_value *qti_value_identifier(const char *s)
{
    return qti_value_text(QTI_BT_IDENTIFIER, s);
}

struct qti_value *qti_value_string(const char *s)
{
    return qti_value_text(QTI_BT_STRING, s);
}

struct qti_value *qti_value_point(int64_t x, int64_t y)
{
    struct qti_value *v = new_single(QTI_BT_POINT);
    v->items[0].u.point.x = x;
    v->items[0].u.point.y = y;
    return v;
}

struct qti_value *qti_value_pair(enum qti_base_type t, const char *a, const char *b)
{
    struct qti_value *v = new_single(t);
    v->items[0].u.pair.a = qti_xstrdup(a);
    v->items[0].u.pair.b = qti_xstrdup(b);
    return v;
}

struct qti_value *qti_value_single(const struct qti_scalar *s)
{
    struct qti_value *v = new_single(s->type);
    qti_scalar_copy(&v->items[0], s);
    return v;
}

struct qti_value *qti_value_container(enum qti_cardinality c, enum qti_base_type t)
{
    struct qti_value *v = qti_xcalloc(1, sizeof *v);
    v->card = c;
    v->type = t;
    return v;
}

struct qti_value *qti_value_record(void)
{
    struct qti_value *v = qti_xcalloc(1, sizeof *v);
    v->card = QTI_CARD_RECORD;
    v->type = QTI_BT_NONE;
    return v;
}

int qti_value_append(struct qti_value *v, const struct qti_scalar *s, struct op_err *e)
{
    if (v->card != QTI_CARD_MULTIPLE && v->card != QTI_CARD_ORDERED)
        return err_set(e, OP_EINPUT, "cannot add to a %s value", qti_cardinality_name(v->card));
    if (s->type != v->type)
        return err_set(e, OP_EINPUT, "cannot add a %s to a container of %s",
                       qti_base_type_name(s->type), qti_base_type_name(v->type));
    if (v->n >= QTI_VALUE_MAX_ITEMS)
        return err_set(e, OP_EINPUT, "container over %d values", QTI_VALUE_MAX_ITEMS);
    if (is_full(v->n))
        v->items = qti_xrealloc(v->items, v->n ? v->n * 2 : 1, sizeof *v->items);
    qti_scalar_copy(&v->items[v->n++], s);
    return 0;
}

int qti_value_record_set(struct qti_value *v, const char *name, struct qti_value *field,
                         struct op_err *e)
{
    if (v->card != QTI_CARD_RECORD) {
        qti_value_free(field);
        return err_set(e, OP_EINPUT, "cannot set field %s of a non-record value", name);
    }
    if (field && field->card != QTI_CARD_SINGLE) {
        qti_value_free(field);
        return err_set(e, OP_EINPUT, "record field %s: fields must have single cardinality", name);
    }
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->fields[i].name, name) == 0) {
            qti_value_free(v->fields[i].value);
            v->fields[i].value = field;
            return 0;
        }
    if (v->n >= QTI_VALUE_MAX_ITEMS) {
        qti_value_free(field);
        return err_set(e, OP_EINPUT, "record over %d fields", QTI_VALUE_MAX_ITEMS);
    }
    if (is_full(v->n))
        v->fields = qti_xrealloc(v->fields, v->n ? v->n * 2 : 1, sizeof *v->fields);
    v->fields[v->n].name = qti_xstrdup(name);
    v->fields[v->n].value = field;
    v->n++;
    return 0;
}

const struct qti_value *qti_value_record_get(const struct qti_value *v, const char *name)
{
    if (!v || v->card != QTI_CARD_RECORD)
        return NULL;
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->fields[i].name, name) == 0)
            return v->fields[i].value;
    return NULL;
}

int qti_value_copy(const struct qti_value *v, struct qti_value **out)
{
    *out = NULL;
    if (!v)
        return 0;
    struct qti_value *c = qti_xcalloc(1, sizeof *c);
    c->card = v->card;
    c->type = v->type;
    c->n = v->n;
    if (v->card == QTI_CARD_RECORD) {
        c->fields = qti_xcalloc(capacity_for(v->n), sizeof *c->fields);
        for (size_t i = 0; i < v->n; i++) {
            c->fields[i].name = qti_xstrdup(v->fields[i].name);
            qti_value_copy(v->fields[i].value, &c->fields[i].value);
        }
    } else {
        c->items = qti_xcalloc(capacity_for(v->n), sizeof *c->items);
        for (size_t i = 0; i < v->n; i++)
            qti_scalar_copy(&c->items[i], &v->items[i]);
    }
    *out = c;
    return 0;
}

void qti_value_free(struct qti_value *v)
{
    if (!v)
        return;
    if (v->card == QTI_CARD_RECORD) {
        for (size_t i = 0; i < v->n; i++) {
            free(v->fields[i].name);
            qti_value_free(v->fields[i].value);
        }
    } else {
        for (size_t i = 0; i < v->n; i++)
            qti_scalar_clear(&v->items[i]);
    }
    free(v->fields);
    free(v->items);
    free(v);
}

bool qti_value_is_null(const struct qti_value *v)
{
    if (!v || v->n == 0)
        return true;
    if (v->card == QTI_CARD_SINGLE && is_text_type(v->type))
        return v->items[0].u.s == NULL || v->items[0].u.s[0] == '\0';
    return false;
}

static int scalar_cmp_qsort(const void *a, const void *b)
{
    return scalar_cmp(a, b);
}

/* Bags are equal when their sorted members are; sorting shallow copies (the strings stay
 * owned by the values) keeps it O(n log n) for big containers. */
static bool bag_equal(const struct qti_value *a, const struct qti_value *b)
{
    struct qti_scalar *x = qti_xcalloc(a->n, sizeof *x), *y = qti_xcalloc(b->n, sizeof *y);
    memcpy(x, a->items, a->n * sizeof *x);
    memcpy(y, b->items, b->n * sizeof *y);
    qsort(x, a->n, sizeof *x, scalar_cmp_qsort);
    qsort(y, b->n, sizeof *y, scalar_cmp_qsort);
    bool eq = true;
    for (size_t i = 0; i < a->n && eq; i++)
        eq = qti_scalar_equal(&x[i], &y[i]);
    free(x);
    free(y);
    return eq;
}

bool qti_value_equal(const struct qti_value *a, const struct qti_value *b)
{
    bool an = qti_value_is_null(a), bn = qti_value_is_null(b);
    if (an || bn)
        return an && bn;
    if (a->card != b->card || a->type != b->type || a->n != b->n)
        return false;
    switch (a->card) {
    case QTI_CARD_SINGLE:
        return qti_scalar_equal(&a->items[0], &b->items[0]);
    case QTI_CARD_ORDERED:
        for (size_t i = 0; i < a->n; i++)
            if (!qti_scalar_equal(&a->items[i], &b->items[i]))
                return false;
        return true;
    case QTI_CARD_MULTIPLE:
        return bag_equal(a, b);
    case QTI_CARD_RECORD:
        for (size_t i = 0; i < a->n; i++) {
            const struct qti_value *f = a->fields[i].value;
            bool found = false;
            for (size_t j = 0; j < b->n && !found; j++)
                if (strcmp(a->fields[i].name, b->fields[j].name) == 0) {
                    found = true;
                    if (!qti_value_equal(f, b->fields[j].value))
                        return false;
                }
            if (!found)
                return false;
        }
        return true;
    }
    return false;
}

/* ---- text form ---- */

static const char *skip_space(const char *p)
{
    while (*p && isspace((unsigned char)*p))
        p++;
    return p;
}

/* Copies `text` without surrounding spaces into a new string. */
static char *trimmed(const char *text)
{
    const char *p = skip_space(text);
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    char *s = qti_xcalloc(n + 1, 1);
    memcpy(s, p, n);
    return s;
}

static bool has_space(const char *s)
{
    for (; *s; s++)
        if (isspace((unsigned char)*s))
            return true;
    return false;
}

static int parse_int(const char *s, int64_t *out)
{
    if (!*s)
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    if (v < QTI_INT_MIN || v > QTI_INT_MAX)
        return -2;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    if (!*s || strpbrk(s, "xXpP"))
        return -1;
    /* xsd:double spells infinity INF and -INF; strtod also takes "inf" and "nan" */
    if (strcmp(s, "INF") == 0 || strcmp(s, "+INF") == 0) {
        *out = INFINITY;
        return 0;
    }
    if (strcmp(s, "-INF") == 0) {
        *out = -INFINITY;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || (errno == ERANGE && isinf(v)))
        return -1;
    *out = v;
    return 0;
}

/* xsd:duration without years and months (their length in seconds is not fixed):
 * PnDTnHnMnS, optionally negative. */
static int parse_xsd_duration(const char *s, double *out)
{
    double sign = 1, total = 0;
    if (*s == '-') {
        sign = -1;
        s++;
    }
    if (*s++ != 'P' || !*s)
        return -1;
    bool in_time = false, any = false;
    while (*s) {
        if (*s == 'T') {
            if (in_time)
                return -1;
            in_time = true;
            s++;
            if (!*s)
                return -1;
            continue;
        }
        char *end;
        if (!isdigit((unsigned char)*s))
            return -1;
        double n = strtod(s, &end);
        if (end == s)
            return -1;
        char unit = *end;
        if (!in_time && unit == 'D')
            total += n * 86400;
        else if (in_time && unit == 'H')
            total += n * 3600;
        else if (in_time && unit == 'M')
            total += n * 60;
        else if (in_time && unit == 'S')
            total += n;
        else
            return -1;
        any = true;
        s = end + 1;
    }
    if (!any)
        return -1;
    *out = sign * total;
    return 0;
}

int qti_scalar_parse(enum qti_base_type t, const char *text, const char *what,
                     struct qti_scalar *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    out->type = t;
    if (!text)
        text = "";
    if (strlen(text) > QTI_VALUE_MAX_STRING)
        return err_set(e, OP_EINPUT, "%s: value over %d bytes", what, QTI_VALUE_MAX_STRING);
    if (t == QTI_BT_STRING) {
        out->u.s = qti_xstrdup(text);
        return 0;
    }
    char *s = trimmed(text);
    int rc = 0;
    switch (t) {
    case QTI_BT_IDENTIFIER:
        if (!*s || has_space(s)) {
            rc = err_set(e, OP_EINPUT, "%s: \"%.100s\" is not an identifier", what, s);
            break;
        }
        out->u.s = s;
        return 0;
    case QTI_BT_URI:
        out->u.s = s;
        return 0;
    case QTI_BT_BOOLEAN:
        if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
            out->u.b = true;
        else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
            out->u.b = false;
        else
            rc = err_set(e, OP_EINPUT, "%s: \"%.100s\" is not a boolean (true or false)", what, s);
        break;
    case QTI_BT_INTEGER: {
        int prc = parse_int(s, &out->u.i);
        if (prc == -2)
            rc = err_set(e, OP_EINPUT,
                         "%s: %.100s is outside the range of a QTI integer (-2147483648 to "
                         "2147483647)",
                         what, s);
        else if (prc < 0)
            rc = err_set(e, OP_EINPUT, "%s: \"%.100s\" is not an integer", what, s);
        break;
    }
    case QTI_BT_FLOAT:
        if (parse_double(s, &out->u.f) < 0)
            rc = err_set(e, OP_EINPUT, "%s: \"%.100s\" is not a number", what, s);
        break;
    case QTI_BT_DURATION:
        if (parse_double(s, &out->u.f) < 0 && parse_xsd_duration(s, &out->u.f) < 0)
            rc = err_set(e, OP_EINPUT, "%s: \"%.100s\" is not a duration (seconds, or PnDTnHnMnS)",
                         what, s);
        break;
    case QTI_BT_POINT: {
        char *sp = s;
        while (*sp && !isspace((unsigned char)*sp))
            sp++;
        int64_t x, y;
        bool ok = *sp != '\0';
        if (ok) {
            *sp = '\0';
            ok = parse_int(s, &x) == 0 && parse_int(skip_space(sp + 1), &y) == 0;
            *sp = ' ';
        }
        if (!ok) {
            rc = err_set(e, OP_EINPUT, "%s: \"%.100s\" is not a point (two integers \"x y\")", what,
                         s);
            break;
        }
        out->u.point.x = x;
        out->u.point.y = y;
        break;
    }
    case QTI_BT_PAIR:
    case QTI_BT_DIRECTED_PAIR: {
        char *sp = s;
        while (*sp && !isspace((unsigned char)*sp))
            sp++;
        const char *b = skip_space(sp);
        if (sp == s || !*b || has_space(b)) {
            rc = err_set(e, OP_EINPUT, "%s: \"%.100s\" is not a %s (two identifiers \"A B\")", what,
                         s, qti_base_type_name(t));
            break;
        }
        *sp = '\0';
        out->u.pair.a = qti_xstrdup(s);
        out->u.pair.b = qti_xstrdup(b);
        break;
    }
    case QTI_BT_FILE:
        rc = err_set(e, OP_EINPUT,
                     "%s: a file value has no text form (only a candidate's "
                     "upload or drawing makes one)",
                     what);
        break;
    default:
        rc = err_set(e, OP_EINPUT, "%s: no base type", what);
        break;
    }
    free(s);
    return rc;
}

char *qti_scalar_format(const struct qti_scalar *s)
{
    char tmp[80];
    switch (s->type) {
    case QTI_BT_IDENTIFIER:
    case QTI_BT_STRING:
    case QTI_BT_URI:
    case QTI_BT_FILE:
        return qti_xstrdup(s->u.s);
    case QTI_BT_BOOLEAN:
        return qti_xstrdup(s->u.b ? "true" : "false");
    case QTI_BT_INTEGER:
        snprintf(tmp, sizeof tmp, "%lld", (long long)s->u.i);
        return qti_xstrdup(tmp);
    case QTI_BT_FLOAT:
    case QTI_BT_DURATION:
        if (isinf(s->u.f))
            return qti_xstrdup(s->u.f > 0 ? "INF" : "-INF");
        if (isnan(s->u.f))
            return qti_xstrdup("NaN");
        snprintf(tmp, sizeof tmp, "%.17g", s->u.f);
        /* shortest form that reads back the same */
        for (int prec = 1; prec <= 17; prec++) {
            char t2[80];
            snprintf(t2, sizeof t2, "%.*g", prec, s->u.f);
            if (strtod(t2, NULL) == s->u.f) {
                memcpy(tmp, t2, sizeof tmp);
                break;
            }
        }
        return qti_xstrdup(tmp);
    case QTI_BT_POINT:
        snprintf(tmp, sizeof tmp, "%lld %lld", (long long)s->u.point.x, (long long)s->u.point.y);
        return qti_xstrdup(tmp);
    case QTI_BT_PAIR:
    case QTI_BT_DIRECTED_PAIR: {
        size_t n = strlen(s->u.pair.a) + strlen(s->u.pair.b) + 2;
        char *p = qti_xcalloc(n, 1);
        snprintf(p, n, "%s %s", s->u.pair.a, s->u.pair.b);
        return p;
    }
    default:
        return qti_xstrdup("");
    }
}

/* ---- JSON form ---- */

static bool is_string_form(enum qti_base_type t)
{
    return is_text_type(t) || t == QTI_BT_POINT || is_pair_type(t);
}

/* A file value (value.h): an object with "type" (a MIME type), "name", "size", "sha256" and
 * the content ("data" or "sealed"), kept as its compact JSON text. Only the shape and the
 * bounds are checked here: what a file may hold is the application's rule (app/upload.h). */
static int file_from_json(const json_t *j, const char *name, struct qti_scalar *out,
                          struct op_err *e)
{
    if (!json_is_object(j))
        return err_set(e, OP_EINPUT,
                       "%s: expected a file as a JSON object {\"name\", \"type\", ...}", name);
    const json_t *type = json_object_get(j, "type"), *fname = json_object_get(j, "name"),
                 *size = json_object_get(j, "size");
    if (!json_is_string(type) || json_string_length(type) < 3 ||
        json_string_length(type) > QTI_FILE_MAX_TYPE || !strchr(json_string_value(type), '/'))
        return err_set(e, OP_EINPUT, "%s: a file needs its MIME type (\"type\": \"image/png\")",
                       name);
    if (fname && (!json_is_string(fname) || json_string_length(fname) > QTI_FILE_MAX_NAME))
        return err_set(e, OP_EINPUT, "%s: a file's name is a string of at most %d bytes", name,
                       QTI_FILE_MAX_NAME);
    if (size && (!json_is_integer(size) || json_integer_value(size) < 0))
        return err_set(e, OP_EINPUT, "%s: a file's size is a whole number of bytes", name);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)j, k, v)
    {
        if (!json_is_string(v) && !json_is_integer(v))
            return err_set(e, OP_EINPUT, "%s: file member \"%.40s\" is not a string or a number",
                           name, k);
    }
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        abort();
    if (strlen(text) > QTI_FILE_MAX_JSON) {
        free(text);
        return err_set(e, OP_EINPUT, "%s: a file value is over %d bytes", name, QTI_FILE_MAX_JSON);
    }
    out->u.s = text;
    return 0;
}

/* Reads one scalar of type t from j. Returns 1 when j stands for NULL ("" or null). */
static int scalar_from_json(enum qti_base_type t, const json_t *j, const char *name,
                            struct qti_scalar *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    out->type = t;
    if (json_is_null(j))
        return 1;
    const char *tn = qti_base_type_name(t);
    if (is_string_form(t)) {
        if (!json_is_string(j))
            return err_set(e, OP_EINPUT, "%s: expected %s %s as a JSON string", name, article(tn),
                           tn);
        const char *s = json_string_value(j);
        if (t != QTI_BT_STRING && *skip_space(s) == '\0')
            return 1;
        if (t == QTI_BT_STRING && *s == '\0')
            return 1;
        return qti_scalar_parse(t, s, name, out, e);
    }
    switch (t) {
    case QTI_BT_BOOLEAN:
        if (!json_is_boolean(j))
            return err_set(e, OP_EINPUT, "%s: expected true or false", name);
        out->u.b = json_is_true(j);
        return 0;
    case QTI_BT_INTEGER: {
        double d = json_is_real(j) ? json_real_value(j) : 0;
        if (json_is_integer(j) || (json_is_real(j) && d == floor(d) && fabs(d) < 9.0e15)) {
            int64_t i = json_is_integer(j) ? (int64_t)json_integer_value(j) : (int64_t)d;
            if (i < QTI_INT_MIN || i > QTI_INT_MAX)
                return err_set(e, OP_EINPUT,
                               "%s: %" PRId64 " is outside the range of a QTI integer "
                               "(-2147483648 to 2147483647)",
                               name, i);
            out->u.i = i;
            return 0;
        }
        return err_set(e, OP_EINPUT, "%s: expected an integer (a whole JSON number)", name);
    }
    case QTI_BT_FLOAT:
    case QTI_BT_DURATION:
        if (!json_is_number(j))
            return err_set(e, OP_EINPUT, "%s: expected %s %s as a JSON number%s", name, article(tn),
                           tn, t == QTI_BT_DURATION ? " of seconds" : "");
        out->u.f = json_number_value(j);
        return 0;
    case QTI_BT_FILE:
        return file_from_json(j, name, out, e);
    default:
        return err_set(e, OP_EINPUT, "%s: no base type", name);
    }
}

static int record_from_json(const json_t *j, const char *name, struct qti_value **out,
                            struct op_err *e)
{
    if (!json_is_object(j))
        return err_set(e, OP_EINPUT, "%s: expected a record as a JSON object", name);
    if (json_object_size(j) == 0)
        return 0;
    if (json_object_size(j) > QTI_VALUE_MAX_ITEMS)
        return err_set(e, OP_EINPUT, "%s: record over %d fields", name, QTI_VALUE_MAX_ITEMS);
    struct qti_value *r = qti_value_record();
    const char *key;
    json_t *f;
    json_object_foreach((json_t *)j, key, f)
    {
        const char *btn = json_string_value(json_object_get(f, "baseType"));
        enum qti_base_type bt = qti_base_type_from_name(btn);
        if (!json_is_object(f) || bt == QTI_BT_NONE) {
            qti_value_free(r);
            return err_set(e, OP_EINPUT,
                           "%s: record field %s: expected {\"baseType\": ..., \"value\": ...}",
                           name, key);
        }
        struct qti_value *fv = NULL;
        int rc =
            qti_value_from_json(bt, QTI_CARD_SINGLE, json_object_get(f, "value"), name, &fv, e);
        if (rc == 0)
            rc = qti_value_record_set(r, key, fv, e);
        if (rc < 0) {
            qti_value_free(r);
            return err_prefix(e, "record field %s", key);
        }
    }
    *out = r;
    return 0;
}

int qti_value_from_json(enum qti_base_type t, enum qti_cardinality c, const json_t *j,
                        const char *name, struct qti_value **out, struct op_err *e)
{
    *out = NULL;
    if (!name)
        name = "value";
    if (!j || json_is_null(j))
        return 0;
    if (c == QTI_CARD_RECORD)
        return record_from_json(j, name, out, e);
    if (t == QTI_BT_NONE)
        return err_set(e, OP_EINPUT, "%s: no base type", name);
    struct qti_scalar s;
    if (c == QTI_CARD_SINGLE) {
        if (json_is_array(j) || (json_is_object(j) && t != QTI_BT_FILE))
            return err_set(e, OP_EINPUT, "%s: expected a single %s, not %s", name,
                           qti_base_type_name(t), json_is_array(j) ? "an array" : "an object");
        int rc = scalar_from_json(t, j, name, &s, e);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            struct qti_value *v = new_single(t);
            v->items[0] = s;
            *out = v;
        }
        return 0;
    }
    struct qti_value *v = qti_value_container(c, t);
    size_t n = json_is_array(j) ? json_array_size(j) : 1;
    if (n > QTI_VALUE_MAX_ITEMS) {
        qti_value_free(v);
        return err_set(e, OP_EINPUT, "%s: over %d values", name, QTI_VALUE_MAX_ITEMS);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_is_array(j) ? json_array_get(j, i) : j;
        if (json_is_array(item) || (json_is_object(item) && t != QTI_BT_FILE)) {
            qti_value_free(v);
            return err_set(e, OP_EINPUT, "%s: item %zu: expected %s %s, not %s", name, i + 1,
                           article(qti_base_type_name(t)), qti_base_type_name(t),
                           json_is_array(item) ? "an array" : "an object");
        }
        int rc = scalar_from_json(t, item, name, &s, e);
        if (rc < 0) {
            qti_value_free(v);
            return rc;
        }
        if (rc == 1) /* a NULL member adds nothing: containers hold no NULLs */
            continue;
        qti_value_append(v, &s, e);
        qti_scalar_clear(&s);
    }
    if (v->n == 0) {
        qti_value_free(v);
        return 0;
    }
    *out = v;
    return 0;
}

static json_t *scalar_to_json(const struct qti_scalar *s)
{
    switch (s->type) {
    case QTI_BT_BOOLEAN:
        return json_boolean(s->u.b);
    case QTI_BT_INTEGER:
        return json_integer(s->u.i);
    case QTI_BT_FLOAT:
    case QTI_BT_DURATION:
        /* JSON has no infinity or NaN; the evaluator turns them into NULL anyway */
        return isfinite(s->u.f) ? json_real(s->u.f) : json_null();
    case QTI_BT_FILE: {
        json_t *j = json_loads(s->u.s, 0, NULL);
        return j ? j : json_null();
    }
    default: {
        char *t = qti_scalar_format(s);
        json_t *j = json_string(t);
        free(t);
        return j ? j : json_null();
    }
    }
}

json_t *qti_value_to_json(const struct qti_value *v)
{
    if (!v)
        return json_null();
    if (v->card == QTI_CARD_SINGLE)
        return v->n ? scalar_to_json(&v->items[0]) : json_null();
    if (v->card == QTI_CARD_RECORD) {
        json_t *o = json_object();
        for (size_t i = 0; i < v->n; i++) {
            const struct qti_value *f = v->fields[i].value;
            json_t *fj = json_object();
            json_object_set_new(fj, "baseType",
                                json_string(qti_base_type_name(f ? f->type : QTI_BT_NONE)));
            json_object_set_new(fj, "value", qti_value_to_json(f));
            json_object_set_new(o, v->fields[i].name, fj);
        }
        return o;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < v->n; i++)
        json_array_append_new(a, scalar_to_json(&v->items[i]));
    return a;
}

json_t *qti_value_to_typed_json(const struct qti_value *v)
{
    if (!v)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "cardinality", json_string(qti_cardinality_name(v->card)));
    if (v->card != QTI_CARD_RECORD)
        json_object_set_new(o, "baseType", json_string(qti_base_type_name(v->type)));
    json_object_set_new(o, "value", qti_value_to_json(v));
    return o;
}

int qti_value_from_typed_json(const json_t *j, const char *name, struct qti_value **out,
                              struct op_err *e)
{
    *out = NULL;
    if (!j || json_is_null(j))
        return 0;
    enum qti_cardinality c;
    if (!json_is_object(j) ||
        qti_cardinality_from_name(json_string_value(json_object_get(j, "cardinality")), &c) < 0)
        return err_set(e, OP_EINPUT, "%s: expected {\"cardinality\", \"baseType\", \"value\"}",
                       name ? name : "value");
    enum qti_base_type t = QTI_BT_NONE;
    if (c != QTI_CARD_RECORD) {
        t = qti_base_type_from_name(json_string_value(json_object_get(j, "baseType")));
        if (t == QTI_BT_NONE)
            return err_set(e, OP_EINPUT, "%s: unknown or missing baseType", name ? name : "value");
    }
    return qti_value_from_json(t, c, json_object_get(j, "value"), name, out, e);
}
