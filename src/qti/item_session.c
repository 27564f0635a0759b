/*
 * item_session.c - one candidate's session with one item (see item_session.h).
 *
 * The session keeps one slot per declared variable (built-ins included), in the item's
 * declaration order. A slot holds the current value and, once templateProcessing has changed
 * its correct response or default value (setCorrectResponse, setDefaultValue), a private
 * copy of the declaration; otherwise it borrows the item's. The random stream (splitmix64)
 * starts from the seed and is saved with the session, so a resumed session draws what the
 * original would have drawn.
 */
#include "qti/item_session.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "qti/item_internal.h"
#include "qti/qti_alloc.h"
#include "qti/rules.h"

struct slot {
    const struct qti_decl *decl; /* the item's (borrowed) */
    struct qti_decl *live;       /* changed by templateProcessing, or NULL */
    struct qti_value *value;     /* owned; NULL = QTI NULL */
};

struct qti_item_session {
    const struct qti_item *item;
    uint64_t seed;
    uint64_t rng;
    size_t nslots;
    struct slot *slots;
    int num_attempts;
    double duration;
    int presented;
    /* While the session starts: the default of each template slot given by the test
     * (templateDefault), parallel to slots, NULL where the item's declaration holds. */
    struct qti_value **template_defaults;
};

/* ------------------------------------------------------------------- variable slots -- */

static struct slot *find_slot(const struct qti_item_session *s, const char *id)
{
    for (size_t i = 0; i < s->nslots; i++)
        if (strcmp(s->slots[i].decl->identifier, id) == 0)
            return &s->slots[i];
    return NULL;
}

static const struct qti_decl *slot_decl(const struct slot *sl)
{
    return sl->live ? sl->live : sl->decl;
}

static int is_builtin(const char *id)
{
    return strcmp(id, "numAttempts") == 0 || strcmp(id, "duration") == 0 ||
           strcmp(id, "completionStatus") == 0;
}

static void slot_set(struct slot *sl, struct qti_value *v)
{
    qti_value_free(sl->value);
    sl->value = v;
}

/* Sets the slot to a copy of its (live) default value. QTI 2.1 outcomeDeclaration: an
 * outcome without a default value starts at NULL "unless the outcome is of a numeric type
 * (integer or float) in which case it is initialized to 0" (single cardinality). */
static int slot_reset(struct slot *sl, struct op_err *e)
{
    const struct qti_decl *d = slot_decl(sl);
    struct qti_value *v = NULL;
    if (!d->default_value && d->kind == QTI_DECL_OUTCOME && d->card == QTI_CARD_SINGLE &&
        (d->type == QTI_BT_INTEGER || d->type == QTI_BT_FLOAT)) {
        slot_set(sl, d->type == QTI_BT_INTEGER ? qti_value_integer(0) : qti_value_float(0));
        return 0;
    }
    if (qti_value_copy(d->default_value, &v) < 0)
        return err_set(e, OP_ENOMEM, "out of memory");
    slot_set(sl, v);
    return 0;
}

static void set_builtin(struct qti_item_session *s, const char *id, struct qti_value *v)
{
    struct slot *sl = find_slot(s, id);
    if (sl)
        slot_set(sl, v);
    else
        qti_value_free(v);
}

static void set_status(struct qti_item_session *s, const char *status)
{
    set_builtin(s, "completionStatus", qti_value_identifier(status));
}

/* ------------------------------------------------------------- evaluation callbacks -- */

static int ops_get(void *ud, const char *identifier, const struct qti_value **out)
{
    struct slot *sl = find_slot(ud, identifier);
    if (!sl)
        return -1;
    *out = sl->value;
    return 0;
}

static const struct qti_decl *ops_decl(void *ud, const char *identifier)
{
    struct slot *sl = find_slot(ud, identifier);
    return sl ? slot_decl(sl) : NULL;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t ops_random(void *ud)
{
    struct qti_item_session *s = ud;
    return splitmix64(&s->rng);
}

static const struct qti_eval_ops session_ops = {
    .get = ops_get,
    .decl = ops_decl,
    .item_subset = NULL,
    .weight = NULL,
    .random = ops_random,
};

static int ops_set(void *ud, enum qti_set_what what, const char *identifier, struct qti_value *v,
                   struct op_err *e)
{
    struct qti_item_session *s = ud;
    struct slot *sl = find_slot(s, identifier);
    if (!sl) {
        qti_value_free(v);
        return err_set(e, OP_EINPUT, "item %s: unknown variable %s", qti_item_identifier(s->item),
                       identifier);
    }
    if (what == QTI_SET_VALUE) {
        slot_set(sl, v);
        return 0;
    }
    if (!sl->live && qti_decl_copy(sl->decl, &sl->live) < 0) {
        qti_value_free(v);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    struct qti_value **target =
        what == QTI_SET_CORRECT ? &sl->live->correct_response : &sl->live->default_value;
    qti_value_free(*target);
    *target = v;
    return 0;
}

/* Sets template slot `i` to its default: the test's (templateDefault) when it gives one. */
static int template_reset(struct qti_item_session *s, size_t i, struct op_err *e)
{
    if (!s->template_defaults || !s->template_defaults[i])
        return slot_reset(&s->slots[i], e);
    struct qti_value *v = NULL;
    if (qti_value_copy(s->template_defaults[i], &v) < 0)
        return err_set(e, OP_ENOMEM, "out of memory");
    slot_set(&s->slots[i], v);
    return 0;
}

/* Before each retry of templateProcessing: template variables back to their defaults, every
 * correct response and default value back to the declared one. */
static int ops_reset(void *ud, struct op_err *e)
{
    struct qti_item_session *s = ud;
    for (size_t i = 0; i < s->nslots; i++) {
        struct slot *sl = &s->slots[i];
        qti_decl_free(sl->live);
        sl->live = NULL;
        if (sl->decl->kind == QTI_DECL_TEMPLATE && template_reset(s, i, e) < 0)
            return OP_ENOMEM;
    }
    return 0;
}

/* ---------------------------------------------------------------------- lifecycle -- */

static struct qti_item_session *session_alloc(const struct qti_item *item, uint64_t seed)
{
    struct qti_item_session *s = qti_xcalloc(1, sizeof *s);
    s->item = item;
    s->seed = seed;
    s->rng = seed ^ 0x6f7574706f7374ULL; /* "outpost": seed 0 still gets a mixed stream */
    s->nslots = item->ndecls;
    s->slots = qti_xcalloc(item->ndecls, sizeof *s->slots);
    for (size_t i = 0; i < item->ndecls; i++)
        s->slots[i].decl = item->decls[i];
    return s;
}

/* A deep copy of the whole state (new; abort on out of memory, as session_alloc). */
static struct qti_item_session *session_clone(const struct qti_item_session *s)
{
    struct qti_item_session *c = session_alloc(s->item, s->seed);
    c->rng = s->rng;
    c->num_attempts = s->num_attempts;
    c->duration = s->duration;
    c->presented = s->presented;
    for (size_t i = 0; i < s->nslots; i++) {
        if (qti_value_copy(s->slots[i].value, &c->slots[i].value) < 0 ||
            (s->slots[i].live && qti_decl_copy(s->slots[i].live, &c->slots[i].live) < 0))
            abort();
    }
    return c;
}

/* Exchanges the states of two sessions of the same item (their addresses stay). */
static void session_swap(struct qti_item_session *a, struct qti_item_session *b)
{
    struct qti_item_session t = *a;
    *a = *b;
    *b = t;
}

int qti_item_session_clone(const struct qti_item_session *s, struct qti_item_session **out)
{
    *out = session_clone(s);
    return 0;
}

void qti_item_session_swap(struct qti_item_session *a, struct qti_item_session *b)
{
    assert(a->item == b->item);
    session_swap(a, b);
}

static void drop_template_defaults(struct qti_item_session *s);

void qti_item_session_free(struct qti_item_session *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nslots; i++) {
        qti_decl_free(s->slots[i].live);
        qti_value_free(s->slots[i].value);
    }
    drop_template_defaults(s);
    free(s->slots);
    free(s);
}

/* Records the test's template defaults in the session being started; OP_EINPUT when one
 * names no template variable of the item or does not fit its declaration. */
static int take_template_defaults(struct qti_item_session *s,
                                  const struct qti_template_value *defaults, size_t n,
                                  struct op_err *e)
{
    if (n == 0)
        return 0;
    s->template_defaults = qti_xcalloc(s->nslots, sizeof *s->template_defaults);
    for (size_t k = 0; k < n; k++) {
        struct slot *sl = find_slot(s, defaults[k].identifier);
        if (!sl || sl->decl->kind != QTI_DECL_TEMPLATE)
            return err_set(e, OP_EINPUT,
                           "templateDefault: item %s declares no template variable %s",
                           qti_item_identifier(s->item), defaults[k].identifier);
        struct qti_value *v = NULL, *fitted = NULL;
        if (qti_value_copy(defaults[k].value, &v) < 0)
            return err_set(e, OP_ENOMEM, "out of memory");
        if (qti_value_fit(sl->decl, v, &fitted, e) < 0)
            return err_prefix(e, "templateDefault");
        size_t i = (size_t)(sl - s->slots);
        qti_value_free(s->template_defaults[i]);
        s->template_defaults[i] = fitted;
    }
    return 0;
}

/* After templateProcessing: a template variable whose default the test gave keeps that default
 * in its live declaration (the `default` operator reads it, and saving keeps it). */
static int keep_template_defaults(struct qti_item_session *s, struct op_err *e)
{
    for (size_t i = 0; s->template_defaults && i < s->nslots; i++) {
        struct slot *sl = &s->slots[i];
        if (!s->template_defaults[i])
            continue;
        if (!sl->live && qti_decl_copy(sl->decl, &sl->live) < 0)
            return err_set(e, OP_ENOMEM, "out of memory");
        qti_value_free(sl->live->default_value);
        sl->live->default_value = NULL;
        if (qti_value_copy(s->template_defaults[i], &sl->live->default_value) < 0)
            return err_set(e, OP_ENOMEM, "out of memory");
    }
    return 0;
}

static void drop_template_defaults(struct qti_item_session *s)
{
    for (size_t i = 0; s->template_defaults && i < s->nslots; i++)
        qti_value_free(s->template_defaults[i]);
    free(s->template_defaults);
    s->template_defaults = NULL;
}

int qti_item_session_new(const struct qti_item *item, uint64_t seed, struct qti_item_session **out,
                         struct op_err *e)
{
    return qti_item_session_new_with_defaults(item, seed, NULL, 0, out, e);
}

int qti_item_session_new_with_defaults(const struct qti_item *item, uint64_t seed,
                                       const struct qti_template_value *defaults, size_t ndefaults,
                                       struct qti_item_session **out, struct op_err *e)
{
    *out = NULL;
    struct qti_item_session *s = session_alloc(item, seed);
    int rc = take_template_defaults(s, defaults, ndefaults, e);
    for (size_t i = 0; i < s->nslots && rc == 0; i++)
        if (s->slots[i].decl->kind == QTI_DECL_TEMPLATE)
            rc = template_reset(s, i, e);
    if (rc == 0 && item->template_processing) {
        rc = qti_rules_run_template(item->template_processing, &session_ops, s, ops_set, ops_reset,
                                    e);
        if (rc < 0)
            err_prefix(e, "item %s: templateProcessing", item->identifier);
    }
    if (rc == 0)
        rc = keep_template_defaults(s, e);
    drop_template_defaults(s);
    /* Responses and outcomes start at their defaults, which templateProcessing may have set. */
    for (size_t i = 0; i < s->nslots && rc == 0; i++)
        if (s->slots[i].decl->kind != QTI_DECL_TEMPLATE)
            rc = slot_reset(&s->slots[i], e);
    if (rc < 0) {
        qti_item_session_free(s);
        return rc;
    }
    set_builtin(s, "numAttempts", qti_value_integer(0));
    set_builtin(s, "duration", qti_value_duration(0));
    set_status(s, "not_attempted");
    *out = s;
    return 0;
}

void qti_item_session_present(struct qti_item_session *s)
{
    s->presented = 1;
    if (strcmp(qti_item_session_completion_status(s), "not_attempted") == 0)
        set_status(s, "unknown");
}

void qti_item_session_add_duration(struct qti_item_session *s, double seconds)
{
    if (seconds > 0)
        s->duration += seconds;
    set_builtin(s, "duration", qti_value_duration(s->duration));
}

/* Types `responses` by the declarations into vals[] (one per slot, NULL for the others). */
static int type_responses(struct qti_item_session *s, const json_t *responses,
                          struct qti_value **vals, struct op_err *e)
{
    const char *item_id = qti_item_identifier(s->item);
    if (responses && !json_is_null(responses) && !json_is_object(responses))
        return err_set(e, OP_EINPUT, "item %s: responses must be a JSON object", item_id);
    const char *key;
    const json_t *j;
    json_object_foreach((json_t *)responses, key, j)
    {
        struct slot *sl = find_slot(s, key);
        if (!sl || sl->decl->kind != QTI_DECL_RESPONSE || is_builtin(key))
            return err_set(e, OP_EINPUT, "item %s: %s is not a response variable of this item",
                           item_id, key);
        const struct qti_decl *d = sl->decl;
        char name[600];
        snprintf(name, sizeof name, "item %s, response %s", item_id, key);
        size_t k = (size_t)(sl - s->slots);
        /* a PCI answers in the QTI JSON binding ({"base": {"integer": 3}}): an object for a
         * variable bound to a customInteraction is read as such, but a file the device has
         * already checked and kept ({"name", "type", ...}, app/upload.h) is in the file form */
        const struct qti_interaction *it = qti_item_interaction_for(s->item, key);
        int binding = it && it->kind == QTI_INTERACTION_CUSTOM && json_is_object(j) &&
                      (d->type != QTI_BT_FILE || json_object_get(j, "base"));
        int rc = binding ? qti_value_from_pci_json(d->type, d->card, j, name, &vals[k], e)
                         : qti_value_from_json(d->type, d->card, j, name, &vals[k], e);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static json_t *validate_all(struct qti_item_session *s, struct qti_value **vals)
{
    json_t *problems = json_array();
    const struct qti_item *item = s->item;
    for (size_t i = 0; i < item->ninteractions; i++) {
        const struct qti_interaction *it = item->interactions[i];
        struct slot *sl = find_slot(s, it->response_identifier);
        if (!sl)
            continue;
        json_t *j = qti_value_to_json(vals[sl - s->slots]);
        struct qti_invalid why;
        if (j && !qti_interaction_validate(it, j, &why))
            json_array_append_new(problems,
                                  json_pack("{s:s,s:s,s:s}", "response", it->response_identifier,
                                            "rule", why.rule, "message", why.message));
        json_decref(j);
    }
    return problems;
}

/* Records an attempt with the typed responses vals[] (consumed) and runs
 * responseProcessing. On failure the session is left part way: the caller restores it. */
static int apply_attempt(struct qti_item_session *s, struct qti_value **vals,
                         const struct qti_submit_opts *opts, struct op_err *e)
{
    const struct qti_item *item = s->item;
    int rc;
    /* endAttemptInteraction: its response is true when the candidate ended the attempt with
     * it, false otherwise (never NULL); with countAttempt="false" (QTI 2.2) using it does not
     * count as an attempt. */
    int counts = 1;
    for (size_t i = 0; i < item->ninteractions; i++) {
        const struct qti_interaction *it = item->interactions[i];
        struct slot *sl =
            it->kind == QTI_INTERACTION_END_ATTEMPT ? find_slot(s, it->response_identifier) : NULL;
        if (!sl)
            continue;
        struct qti_value **v = &vals[sl - s->slots];
        if (qti_value_is_null(*v)) {
            qti_value_free(*v);
            *v = qti_value_boolean(false);
        } else if ((*v)->items[0].u.b && !it->count_attempt) {
            counts = 0;
        }
    }
    /* The attempt counts from here on (QTI: numAttempts is incremented at its start). */
    for (size_t i = 0; i < s->nslots; i++) {
        struct slot *sl = &s->slots[i];
        if (sl->decl->kind == QTI_DECL_RESPONSE && !is_builtin(sl->decl->identifier))
            slot_set(sl, vals[i]);
        else
            qti_value_free(vals[i]);
    }
    s->num_attempts += counts;
    s->presented = 1;
    set_builtin(s, "numAttempts", qti_value_integer(s->num_attempts));
    qti_item_session_add_duration(s, opts ? opts->duration_seconds : 0);
    if (!item->adaptive) {
        /* Non-adaptive items score each attempt afresh from the default outcome values. */
        for (size_t i = 0; i < s->nslots; i++)
            if (s->slots[i].decl->kind == QTI_DECL_OUTCOME &&
                strcmp(s->slots[i].decl->identifier, "completionStatus") != 0 &&
                (rc = slot_reset(&s->slots[i], e)) < 0)
                return rc;
    } else if (strcmp(qti_item_session_completion_status(s), "not_attempted") == 0) {
        set_status(s, "unknown");
    }
    if (item->response_processing) {
        enum qti_run_end end;
        rc = qti_rules_run(item->response_processing, &session_ops, s, ops_set, &end, e);
        if (rc < 0)
            return err_prefix(e, "item %s: responseProcessing", item->identifier);
    }
    if (!item->adaptive)
        set_status(s, "completed");
    return 0;
}

int qti_item_session_submit(struct qti_item_session *s, const json_t *responses,
                            const struct qti_submit_opts *opts, json_t **invalid, struct op_err *e)
{
    const struct qti_item *item = s->item;
    if (invalid)
        *invalid = NULL;
    if (item->adaptive && strcmp(qti_item_session_completion_status(s), "completed") == 0)
        return err_set(e, OP_ECONFLICT,
                       "item %s: the adaptive item is completed; no further attempts",
                       item->identifier);

    struct qti_value **vals = qti_xcalloc(s->nslots, sizeof *vals);
    int rc = type_responses(s, responses, vals, e);
    if (rc == 0 && opts && opts->validate_responses) {
        json_t *problems = validate_all(s, vals);
        if (json_array_size(problems) > 0) {
            json_t *first = json_array_get(problems, 0);
            rc = err_set(e, OP_EINPUT, "item %s, response %s: %s", item->identifier,
                         json_string_value(json_object_get(first, "response")),
                         json_string_value(json_object_get(first, "message")));
            if (invalid)
                *invalid = json_incref(problems);
        }
        json_decref(problems);
    }
    if (rc < 0) {
        for (size_t i = 0; i < s->nslots; i++)
            qti_value_free(vals[i]);
        free(vals);
        return rc;
    }

    /* From here on the session changes; a copy of the state before lets a failure in
     * responseProcessing put it back exactly, so a submission is all or nothing. */
    struct qti_item_session *before = session_clone(s);
    rc = apply_attempt(s, vals, opts, e);
    free(vals);
    if (rc < 0)
        session_swap(s, before);
    qti_item_session_free(before);
    return rc;
}

/* -------------------------------------------------------------------------- state -- */

const struct qti_item *qti_item_session_item(const struct qti_item_session *s)
{
    return s->item;
}

int qti_item_session_num_attempts(const struct qti_item_session *s)
{
    return s->num_attempts;
}

double qti_item_session_duration(const struct qti_item_session *s)
{
    return s->duration;
}

const char *qti_item_session_completion_status(const struct qti_item_session *s)
{
    struct slot *sl = find_slot(s, "completionStatus");
    if (!sl || !sl->value || sl->value->card != QTI_CARD_SINGLE || sl->value->n != 1 ||
        (sl->value->type != QTI_BT_IDENTIFIER && sl->value->type != QTI_BT_STRING))
        return "unknown";
    return sl->value->items[0].u.s;
}

int qti_item_session_is_presented(const struct qti_item_session *s)
{
    return s->presented;
}

static int is_real_response(const struct slot *sl)
{
    return sl->decl->kind == QTI_DECL_RESPONSE && !is_builtin(sl->decl->identifier);
}

/* QTI 2.1 numberResponded and allowSkipping: a response counts when it is not NULL and
 * differs from its declared default value (the value the interaction starts at). */
static int counts_as_response(const struct slot *sl, const struct qti_value *v)
{
    return is_real_response(sl) && !qti_value_is_null(v) &&
           !qti_value_equal(v, slot_decl(sl)->default_value);
}

int qti_item_session_is_responded(const struct qti_item_session *s)
{
    if (s->num_attempts == 0)
        return 0;
    for (size_t i = 0; i < s->nslots; i++)
        if (counts_as_response(&s->slots[i], s->slots[i].value))
            return 1;
    return 0;
}

int qti_item_session_has_responses(const struct qti_item_session *s)
{
    for (size_t i = 0; i < s->nslots; i++)
        if (is_real_response(&s->slots[i]))
            return 1;
    return 0;
}

int qti_item_session_would_respond(struct qti_item_session *s, const json_t *responses,
                                   int *responded, struct op_err *e)
{
    *responded = 0;
    struct qti_value **vals = qti_xcalloc(s->nslots, sizeof *vals);
    int rc = type_responses(s, responses, vals, e);
    for (size_t i = 0; i < s->nslots; i++) {
        if (rc == 0 && counts_as_response(&s->slots[i], vals[i]))
            *responded = 1;
        qti_value_free(vals[i]);
    }
    free(vals);
    return rc;
}

int qti_item_session_is_judgeable(const struct qti_item_session *s)
{
    int any = 0;
    for (size_t i = 0; i < s->nslots; i++) {
        if (!is_real_response(&s->slots[i]))
            continue;
        if (!slot_decl(&s->slots[i])->correct_response)
            return 0;
        any = 1;
    }
    return any;
}

int qti_item_session_is_correct(const struct qti_item_session *s)
{
    if (!qti_item_session_is_judgeable(s))
        return 0;
    for (size_t i = 0; i < s->nslots; i++) {
        const struct slot *sl = &s->slots[i];
        if (!is_real_response(sl))
            continue;
        const struct qti_value *correct = slot_decl(sl)->correct_response;
        if (qti_value_is_null(sl->value) || !qti_value_equal(sl->value, correct))
            return 0;
    }
    return 1;
}

const struct qti_value *qti_item_session_variable(const struct qti_item_session *s,
                                                  const char *identifier)
{
    struct slot *sl = find_slot(s, identifier);
    return sl ? sl->value : NULL;
}

json_t *qti_item_session_variable_json(const struct qti_item_session *s, const char *identifier)
{
    struct slot *sl = find_slot(s, identifier);
    return sl ? qti_value_to_json(sl->value) : NULL;
}

static json_t *vars_json(const struct qti_item_session *s, enum qti_decl_kind kind,
                         int with_builtins)
{
    json_t *o = json_object();
    for (size_t i = 0; i < s->nslots; i++) {
        const struct slot *sl = &s->slots[i];
        if (sl->decl->kind != kind || (!with_builtins && is_builtin(sl->decl->identifier)))
            continue;
        json_object_set_new(o, sl->decl->identifier, qti_value_to_json(sl->value));
    }
    return o;
}

json_t *qti_item_session_outcomes_json(const struct qti_item_session *s)
{
    return vars_json(s, QTI_DECL_OUTCOME, 1);
}

json_t *qti_item_session_responses_json(const struct qti_item_session *s)
{
    return vars_json(s, QTI_DECL_RESPONSE, 0);
}

/* ------------------------------------------------------------------------ feedback -- */

/* 1 if `identifier` is the value of the variable, or a member of it when it is a
 * container (QTI showHide semantics for feedback, templates and choices). */
static int value_has(const struct qti_value *v, const char *identifier)
{
    if (qti_value_is_null(v) || v->card == QTI_CARD_RECORD)
        return 0;
    for (size_t i = 0; i < v->n; i++) {
        const struct qti_scalar *sc = &v->items[i];
        if (sc->type == QTI_BT_IDENTIFIER || sc->type == QTI_BT_STRING || sc->type == QTI_BT_URI) {
            if (strcmp(sc->u.s, identifier) == 0)
                return 1;
        } else {
            char *t = qti_scalar_format(sc);
            int eq = t && strcmp(t, identifier) == 0;
            free(t);
            if (eq)
                return 1;
        }
    }
    return 0;
}

static int cond_visible(const struct qti_item_session *s, const struct item_cond *c)
{
    struct slot *sl = find_slot(s, c->outcome_identifier);
    int has = sl && value_has(sl->value, c->identifier);
    return c->show ? has : !has;
}

int qti_item_session_feedback_visible(const struct qti_item_session *s, const char *key)
{
    const struct qti_item *item = s->item;
    for (size_t i = 0; i < item->nfeedback; i++) {
        const struct item_cond *c = &item->feedback[i];
        if (strcmp(c->key, key) != 0)
            continue;
        if (c->kind == FB_MODAL && s->num_attempts == 0)
            return 0;
        return cond_visible(s, c);
    }
    return 0;
}

/* Formats a number with a printedVariable format: text, then one conversion with flags,
 * width and precision and one of d i e E f F g G x X o, then text; anything else (%s, %n,
 * length modifiers, two conversions) is refused and the value printed plainly. The
 * conversion is rebuilt here (with "ll" for integers) so the argument always fits it. */
static int format_number(const char *fmt, int64_t i, double d, int is_int, struct buf *out)
{
    const char *p = strchr(fmt, '%');
    if (!p || strlen(fmt) > 64)
        return -1;
    const char *spec = p++;
    while (*p && strchr("-+ 0#", *p))
        p++;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (!*p || !strchr("dieEfFgGxXo", *p) || strchr(p + 1, '%'))
        return -1;
    char conv = *p;
    char cspec[80];
    char tmp[160];
    int int_conv = strchr("dixXo", conv) != NULL;
    snprintf(cspec, sizeof cspec, "%.*s%s%c", (int)(p - spec), spec, int_conv ? "ll" : "", conv);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    if (int_conv)
        snprintf(tmp, sizeof tmp, cspec, (long long)(is_int ? i : (int64_t)d));
    else
        snprintf(tmp, sizeof tmp, cspec, is_int ? (double)i : d);
#pragma GCC diagnostic pop
    buf_append(out, fmt, (size_t)(spec - fmt));
    buf_puts(out, tmp);
    buf_puts(out, p + 1);
    return 0;
}

static void format_scalar(struct buf *out, const struct qti_scalar *sc,
                          const struct item_printed *pv)
{
    int is_num =
        sc->type == QTI_BT_INTEGER || sc->type == QTI_BT_FLOAT || sc->type == QTI_BT_DURATION;
    if (pv->format && is_num &&
        format_number(pv->format, sc->type == QTI_BT_INTEGER ? sc->u.i : 0, sc->u.f,
                      sc->type == QTI_BT_INTEGER, out) == 0)
        return;
    if (sc->type == QTI_BT_INTEGER && pv->base >= 2 && pv->base <= 36 && pv->base != 10) {
        char tmp[80];
        int64_t v = sc->u.i;
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        size_t n = 0;
        do {
            tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[u % (uint64_t)pv->base];
            u /= (uint64_t)pv->base;
        } while (u && n < sizeof tmp - 1);
        if (v < 0)
            buf_puts(out, "-");
        while (n)
            buf_append(out, &tmp[--n], 1);
        return;
    }
    char *t = qti_scalar_format(sc);
    if (t)
        buf_puts(out, t);
    free(t);
}

static char *printed_text(const struct qti_item_session *s, const struct item_printed *pv)
{
    struct slot *sl = find_slot(s, pv->identifier);
    const struct qti_value *v = sl ? sl->value : NULL;
    struct buf out = BUF_INIT;
    if (v && v->card == QTI_CARD_RECORD)
        v = pv->field ? qti_value_record_get(v, pv->field) : NULL;
    if (v && !qti_value_is_null(v)) {
        long index = pv->index ? strtol(pv->index, NULL, 10) : 0;
        if (index > 0 && (v->card == QTI_CARD_ORDERED || v->card == QTI_CARD_MULTIPLE)) {
            if ((size_t)index <= v->n)
                format_scalar(&out, &v->items[index - 1], pv);
        } else {
            for (size_t i = 0; i < v->n; i++) {
                if (i)
                    buf_puts(&out, pv->delimiter ? pv->delimiter : ";");
                format_scalar(&out, &v->items[i], pv);
            }
        }
    }
    return buf_detach(&out);
}

json_t *qti_item_session_view(const struct qti_item_session *s, int show_feedback)
{
    const struct qti_item *item = s->item;
    json_t *view = json_object();
    json_t *order = json_object(), *hidden = json_object();
    for (size_t i = 0; i < item->ninteractions; i++) {
        const struct qti_interaction *it = item->interactions[i];
        size_t *perm = qti_xmalloc(it->nchoices, sizeof *perm);
        qti_interaction_shuffle(it, s->seed, perm);
        json_t *ids = json_array(), *hid = json_array();
        for (size_t k = 0; k < it->nchoices; k++) {
            const struct qti_choice *c = &it->choices[perm[k]];
            json_array_append_new(ids, json_string(c->identifier));
            if (c->template_identifier) {
                struct slot *sl = find_slot(s, c->template_identifier);
                int has = sl && value_has(sl->value, c->identifier);
                if (c->show_hide_show ? !has : has)
                    json_array_append_new(hid, json_string(c->identifier));
            }
        }
        free(perm);
        json_object_set_new(order, it->response_identifier, ids);
        if (json_array_size(hid))
            json_object_set_new(hidden, it->response_identifier, hid);
        else
            json_decref(hid);
    }
    json_object_set_new(view, "order", order);
    json_object_set_new(view, "hiddenChoices", hidden);

    json_t *printed = json_object();
    for (size_t i = 0; i < item->nprinted; i++) {
        /* a value inside feedback is sent only while the feedback shows */
        if (item->printed[i].feedback[0] &&
            (!show_feedback || !qti_item_session_feedback_visible(s, item->printed[i].feedback)))
            continue;
        char *t = printed_text(s, &item->printed[i]);
        json_object_set_new(printed, item->printed[i].key, json_string(t));
        free(t);
    }
    json_object_set_new(view, "printed", printed);

    json_t *templates = json_object();
    for (size_t i = 0; i < item->ntemplates; i++)
        json_object_set_new(templates, item->templates[i].key,
                            json_boolean(cond_visible(s, &item->templates[i])));
    json_object_set_new(view, "templates", templates);

    json_t *feedback = json_object(), *modal = json_array();
    for (size_t i = 0; show_feedback && i < item->nfeedback; i++) {
        const struct item_cond *c = &item->feedback[i];
        if (!qti_item_session_feedback_visible(s, c->key))
            continue;
        if (c->kind == FB_MODAL) {
            json_t *m = json_pack("{s:s,s:s}", "key", c->key, "html", c->html);
            if (c->title)
                json_object_set_new(m, "title", json_string(c->title));
            json_array_append_new(modal, m);
        } else {
            json_object_set_new(feedback, c->key, json_string(c->html));
        }
    }
    json_object_set_new(view, "feedback", feedback);
    json_object_set_new(view, "modal", modal);
    json_object_set_new(view, "completionStatus",
                        json_string(qti_item_session_completion_status(s)));
    json_object_set_new(view, "numAttempts", json_integer(s->num_attempts));
    return view;
}

/* --------------------------------------------------------------- save and restore -- */

json_t *qti_item_session_save(const struct qti_item_session *s)
{
    char seed[24], rng[24];
    snprintf(seed, sizeof seed, "%016" PRIx64, s->seed);
    snprintf(rng, sizeof rng, "%016" PRIx64, s->rng);
    json_t *values = json_object(), *correct = json_object(), *defaults = json_object();
    for (size_t i = 0; i < s->nslots; i++) {
        const struct slot *sl = &s->slots[i];
        json_object_set_new(values, sl->decl->identifier, qti_value_to_typed_json(sl->value));
        if (sl->live) {
            json_object_set_new(correct, sl->decl->identifier,
                                qti_value_to_typed_json(sl->live->correct_response));
            json_object_set_new(defaults, sl->decl->identifier,
                                qti_value_to_typed_json(sl->live->default_value));
        }
    }
    return json_pack("{s:s,s:s,s:s,s:i,s:f,s:b,s:o,s:o,s:o}", "item", qti_item_identifier(s->item),
                     "seed", seed, "rng", rng, "numAttempts", s->num_attempts, "duration",
                     s->duration, "presented", s->presented, "values", values, "correct", correct,
                     "defaults", defaults);
}

static int parse_hex64(const json_t *j, uint64_t *out)
{
    const char *t = json_string_value(j);
    if (!t || strlen(t) != 16)
        return -1;
    char *end;
    *out = strtoull(t, &end, 16);
    return *end ? -1 : 0;
}

int qti_item_session_restore(const struct qti_item *item, const json_t *state,
                             struct qti_item_session **out, struct op_err *e)
{
    *out = NULL;
    const char *id = json_string_value(json_object_get(state, "item"));
    if (!id || strcmp(id, qti_item_identifier(item)) != 0)
        return err_set(e, OP_EINPUT, "saved session is for item %s, not %s", id ? id : "?",
                       qti_item_identifier(item));
    uint64_t seed, rng;
    const json_t *na = json_object_get(state, "numAttempts");
    const json_t *du = json_object_get(state, "duration");
    if (parse_hex64(json_object_get(state, "seed"), &seed) < 0 ||
        parse_hex64(json_object_get(state, "rng"), &rng) < 0 || !json_is_integer(na) ||
        json_integer_value(na) < 0 || json_integer_value(na) > 1000000 || !json_is_number(du))
        return err_set(e, OP_EINPUT,
                       "saved session of item %s: seed, rng, numAttempts or "
                       "duration missing or invalid",
                       id);
    struct qti_item_session *s = session_alloc(item, seed);
    s->rng = rng;
    s->num_attempts = (int)json_integer_value(na);
    s->duration = json_number_value(du);
    s->presented = json_is_true(json_object_get(state, "presented"));
    const json_t *values = json_object_get(state, "values");
    const json_t *correct = json_object_get(state, "correct");
    const json_t *defaults = json_object_get(state, "defaults");
    int rc = 0;
    for (size_t i = 0; i < s->nslots && rc == 0; i++) {
        struct slot *sl = &s->slots[i];
        const char *vid = sl->decl->identifier;
        char name[600];
        snprintf(name, sizeof name, "saved session of item %s, variable %s", id, vid);
        const json_t *v = json_object_get(values, vid);
        if (v && (rc = qti_value_from_typed_json(v, name, &sl->value, e)) < 0)
            break;
        const json_t *c = json_object_get(correct, vid), *d = json_object_get(defaults, vid);
        if (c || d) {
            if (qti_decl_copy(sl->decl, &sl->live) < 0) {
                rc = err_set(e, OP_ENOMEM, "out of memory");
                break;
            }
            qti_value_free(sl->live->correct_response);
            qti_value_free(sl->live->default_value);
            sl->live->correct_response = sl->live->default_value = NULL;
            if ((c &&
                 (rc = qti_value_from_typed_json(c, name, &sl->live->correct_response, e)) < 0) ||
                (d && (rc = qti_value_from_typed_json(d, name, &sl->live->default_value, e)) < 0))
                break;
        }
    }
    if (rc < 0) {
        qti_item_session_free(s);
        return rc;
    }
    *out = s;
    return 0;
}
