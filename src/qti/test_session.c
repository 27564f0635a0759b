/*
 * test_session.c - a candidate's walk through a test (see test_session.h).
 *
 * State is one record per route entry (its item session, time spent, whether it was
 * presented and submitted) plus the current position and the test outcome values. Every
 * public call first "ticks" the clock: the time since the previous call goes to the current
 * entry. Sections, parts and the test have no clocks of their own: their time is the sum of
 * their entries', so they can never disagree.
 */
#include "qti/test_session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "qti/item_session.h"
#include "qti/qti_alloc.h"

struct entry_state {
    struct qti_item_session *is; /* created when first presented */
    double duration;             /* seconds spent on this entry */
    double unreported;           /* of which not yet given to the item session */
    bool presented, submitted;
    json_t *pending;          /* simultaneous parts: responses kept until the part ends */
    unsigned long submit_seq; /* when the candidate last submitted it (0: never) */
};

struct qti_test_session {
    const struct qti_test *t;
    qti_item_lookup lookup;
    void *ud;
    uint64_t seed, rng;
    struct qti_route route;
    struct entry_state *es;
    int pos; /* current route position, -1 when ended */
    int part;
    bool ended;
    double last_tick;
    struct qti_value **outcomes; /* parallel to t->outcomes */
    size_t *taken;               /* positions presented, in order of first presentation */
    size_t ntaken;
    unsigned long submits; /* the candidate's submissions so far, numbering submit_seq */
    double extra;          /* extra time granted (qti_test_session_set_extra_time), not saved */
};

/* ---- small questions ---- */

static bool in_section(const struct qti_node *item, const char *section_id)
{
    for (const struct qti_node *n = item->parent; n; n = n->parent)
        if (strcmp(n->identifier, section_id) == 0)
            return true;
    return false;
}

static bool has_ancestor(const struct qti_node *item, const struct qti_node *sec)
{
    for (const struct qti_node *n = item->parent; n; n = n->parent)
        if (n == sec)
            return true;
    return false;
}

static const struct qti_node *node_of(const struct qti_test_session *s, size_t i)
{
    return s->route.entries[i].item;
}

/* The route entry a test-level reference names: its route key ("Q01.2" for one occurrence),
 * else an item ref identifier. For an item selected several times in a part with simultaneous
 * submission that is the occurrence the candidate submitted last (QTI 2.1 variable: "the
 * value of the variable is obtained from the last instance submitted if submission is
 * simultaneous, otherwise it is undefined"); otherwise, or before any submission, the first
 * occurrence. -1 if none. Test parsing refuses item refs named like a route key. */
static int entry_by_ref(const struct qti_test_session *s, const char *ref, size_t len)
{
    for (size_t i = 0; i < s->route.n; i++)
        if (strlen(s->route.entries[i].key) == len &&
            strncmp(s->route.entries[i].key, ref, len) == 0)
            return (int)i;
    int first = -1, last = -1;
    for (size_t i = 0; i < s->route.n; i++) {
        const char *id = node_of(s, i)->identifier;
        if (strlen(id) != len || strncmp(id, ref, len) != 0)
            continue;
        if (first < 0)
            first = (int)i;
        if (s->t->parts[s->route.entries[i].part].submission == QTI_SUB_SIMULTANEOUS &&
            s->es[i].submit_seq > 0 && (last < 0 || s->es[i].submit_seq > s->es[last].submit_seq))
            last = (int)i;
    }
    return last >= 0 ? last : first;
}

/* The name item ref `ref`'s item gives the variable that outcome processing calls `var`
 * (QTI 2.1 variableMapping: the source variable "is treated as if it were declared with the
 * name targetIdentifier during outcomeProcessing"): the source of the mapping to `var`;
 * NULL when a mapping renames `var` itself away (its old name is not seen); else `var`. */
static const char *mapped_name(const struct qti_node *ref, const char *var)
{
    for (size_t k = 0; k < ref->nmappings; k++)
        if (strcmp(ref->mappings[k].target, var) == 0)
            return ref->mappings[k].source;
    for (size_t k = 0; k < ref->nmappings; k++)
        if (strcmp(ref->mappings[k].source, var) == 0)
            return NULL;
    return var;
}

static double time_where(const struct qti_test_session *s, const struct qti_node *sec, int part)
{
    double sum = 0;
    for (size_t i = 0; i < s->route.n; i++) {
        if (part >= 0 && s->route.entries[i].part != part)
            continue;
        if (sec && !has_ancestor(node_of(s, i), sec))
            continue;
        sum += s->es[i].duration;
    }
    return sum;
}

/* The first time limit of entry `i` that is over and allows no late submission, described
 * into `what`; 0 if none. `late_ok` limits count as over too when `strict`. */
static int time_over(const struct qti_test_session *s, size_t i, int strict, char *what, size_t wn)
{
    const struct qti_node *it = node_of(s, i);
    const struct qti_time_limits *tl = &it->time_limits;
    if (tl->has_max && s->es[i].duration > tl->max_time && (strict || !tl->allow_late_submission)) {
        snprintf(what, wn, "item %s (%g s)", s->route.entries[i].key, tl->max_time);
        return 1;
    }
    for (const struct qti_node *n = it->parent; n; n = n->parent) {
        tl = &n->time_limits;
        if (tl->has_max && (strict || !tl->allow_late_submission) &&
            time_where(s, n, -1) > tl->max_time) {
            snprintf(what, wn, "section %s (%g s)", n->identifier, tl->max_time);
            return 1;
        }
    }
    const struct qti_test_part *p = &s->t->parts[s->route.entries[i].part];
    tl = &p->time_limits;
    if (tl->has_max && (strict || !tl->allow_late_submission) &&
        time_where(s, NULL, s->route.entries[i].part) > tl->max_time + s->extra) {
        snprintf(what, wn, "test part %s (%g s)", p->identifier, tl->max_time);
        return 1;
    }
    tl = &s->t->time_limits;
    if (tl->has_max && (strict || !tl->allow_late_submission) &&
        time_where(s, NULL, -1) > tl->max_time + s->extra) {
        snprintf(what, wn, "test %s (%g s)", s->t->identifier, tl->max_time);
        return 1;
    }
    return 0;
}

static void tick(struct qti_test_session *s, double now)
{
    double dt = now - s->last_tick;
    if (!(dt > 0))
        dt = 0;
    if (now > s->last_tick)
        s->last_tick = now;
    if (s->pos >= 0) {
        s->es[s->pos].duration += dt;
        s->es[s->pos].unreported += dt;
    }
}

/* ---- the evaluation context of test-level expressions ---- */

static int ctx_get(void *ud, const char *identifier, const struct qti_value **out)
{
    struct qti_test_session *s = ud;
    *out = NULL;
    for (size_t i = 0; i < s->t->noutcomes; i++)
        if (strcmp(s->t->outcomes[i]->identifier, identifier) == 0) {
            *out = s->outcomes[i];
            return 0;
        }
    const char *dot = strrchr(identifier, '.');
    if (!dot)
        return -1;
    int i = entry_by_ref(s, identifier, (size_t)(dot - identifier));
    if (i < 0) {
        /* An item ref of the test that selection left out: its variables are NULL. */
        char ref[256];
        snprintf(ref, sizeof ref, "%.*s", (int)(dot - identifier), identifier);
        return qti_test_find(s->t, ref) ? 0 : -1;
    }
    const char *name = mapped_name(node_of(s, (size_t)i), dot + 1);
    if (!s->es[i].is || !name)
        return 0;
    *out = qti_item_session_variable(s->es[i].is, name);
    return 0;
}

static const struct qti_decl *ctx_decl(void *ud, const char *identifier)
{
    struct qti_test_session *s = ud;
    const struct qti_decl *d = qti_test_outcome(s->t, identifier);
    if (d)
        return d;
    const char *dot = strrchr(identifier, '.');
    if (!dot)
        return NULL;
    int i = entry_by_ref(s, identifier, (size_t)(dot - identifier));
    if (i < 0)
        return NULL;
    const char *name = mapped_name(node_of(s, (size_t)i), dot + 1);
    if (!name)
        return NULL;
    struct op_err ignore = {0};
    const struct qti_item *item = s->lookup(s->ud, node_of(s, (size_t)i), &ignore);
    return item ? qti_item_decl(item, name) : NULL;
}

static bool in_list(char **list, size_t n, char **cats, size_t ncats)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < ncats; k++)
            if (strcmp(list[i], cats[k]) == 0)
                return true;
    return false;
}

static int ctx_item_subset(void *ud, const struct qti_expr *x, qti_item_fn each, void *arg,
                           struct op_err *e)
{
    struct qti_test_session *s = ud;
    for (size_t i = 0; i < s->route.n; i++) {
        const struct qti_node *it = node_of(s, i);
        if (x->section_identifier && !in_section(it, x->section_identifier))
            continue;
        if (x->n_include &&
            !in_list(x->include_category, x->n_include, it->categories, it->ncategories))
            continue;
        if (x->n_exclude &&
            in_list(x->exclude_category, x->n_exclude, it->categories, it->ncategories))
            continue;
        const struct qti_item_session *is = s->es[i].is;
        bool attempted = is && qti_item_session_num_attempts(is) > 0;
        struct qti_item_state st = {
            .ref = s->route.entries[i].key,
            .selected = true,
            .presented = s->es[i].presented,
            .attempted = attempted,
            .responded = attempted && qti_item_session_is_responded(is),
            .judgeable = is && qti_item_session_is_judgeable(is),
            .correct = attempted && qti_item_session_is_correct(is),
        };
        int rc = each(arg, &st, e);
        if (rc)
            return rc;
    }
    return 0;
}

static int ctx_weight(void *ud, const char *ref, const char *weight_id, double *out)
{
    struct qti_test_session *s = ud;
    int i = entry_by_ref(s, ref, strlen(ref));
    if (i < 0)
        return -1;
    const struct qti_node *it = node_of(s, (size_t)i);
    for (size_t k = 0; k < it->nweights; k++)
        if (strcmp(it->weights[k].identifier, weight_id) == 0) {
            *out = it->weights[k].value;
            return 0;
        }
    return -1;
}

static uint64_t ctx_random(void *ud)
{
    struct qti_test_session *s = ud;
    return qti_splitmix64(&s->rng);
}

static const struct qti_eval_ops test_ops = {ctx_get, ctx_decl, ctx_item_subset, ctx_weight,
                                             ctx_random};

/* Evaluates a precondition or branch condition: true only for a boolean true. */
static int eval_true(struct qti_test_session *s, const struct qti_expr *x, int *out,
                     struct op_err *e)
{
    struct qti_value *v = NULL;
    *out = 0;
    if (qti_expr_eval(x, &test_ops, s, &v, e))
        return OP_EINPUT;
    *out = v && v->card == QTI_CARD_SINGLE && v->type == QTI_BT_BOOLEAN && v->n == 1 &&
           v->items[0].u.b;
    qti_value_free(v);
    return 0;
}

/* ---- outcome processing ---- */

static struct qti_value *outcome_default(const struct qti_decl *d)
{
    struct qti_value *v = NULL;
    if (d->default_value) {
        if (qti_value_copy(d->default_value, &v))
            abort();
        return v;
    }
    /* QTI: a numeric single outcome without a default starts at 0, others at NULL. */
    if (d->card == QTI_CARD_SINGLE && d->type == QTI_BT_INTEGER)
        return qti_value_integer(0);
    if (d->card == QTI_CARD_SINGLE && d->type == QTI_BT_FLOAT)
        return qti_value_float(0);
    return NULL;
}

static int set_outcome(void *ud, enum qti_set_what what, const char *identifier,
                       struct qti_value *v, struct op_err *e)
{
    struct qti_test_session *s = ud;
    for (size_t i = 0; i < s->t->noutcomes; i++)
        if (strcmp(s->t->outcomes[i]->identifier, identifier) == 0) {
            if (what != QTI_SET_VALUE) {
                qti_value_free(v);
                return err_set(e, OP_EINPUT, "outcomeProcessing can only set outcome values (%s)",
                               identifier);
            }
            qti_value_free(s->outcomes[i]);
            s->outcomes[i] = v;
            return 0;
        }
    qti_value_free(v);
    return err_set(e, OP_EINPUT, "outcomeProcessing sets %s, which the test does not declare",
                   identifier);
}

static void free_outcomes(struct qti_value **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        qti_value_free(v[i]);
    free(v);
}

/* Runs outcomeProcessing from the default values. All or nothing: on failure the outcome
 * values are those from before. */
static int run_outcome_processing(struct qti_test_session *s, struct op_err *e)
{
    size_t n = s->t->noutcomes;
    struct qti_value **old = s->outcomes;
    s->outcomes = qti_xcalloc(n, sizeof *s->outcomes);
    for (size_t i = 0; i < n; i++)
        s->outcomes[i] = outcome_default(s->t->outcomes[i]);
    enum qti_run_end end;
    if (s->t->outcome_processing &&
        qti_rules_run(s->t->outcome_processing, &test_ops, s, set_outcome, &end, e)) {
        free_outcomes(s->outcomes, n);
        s->outcomes = old;
        return err_prefix(e, "test %s: outcomeProcessing", s->t->identifier);
    }
    free_outcomes(old, n);
    return 0;
}

/* ---- moving ---- */

static uint64_t entry_seed(const struct qti_test_session *s, size_t i)
{
    uint64_t st = s->seed ^ ((uint64_t)(i + 1) * 0x9e3779b97f4a7c15ull);
    return qti_splitmix64(&st);
}

/* Starts the item session of entry `i`. The item ref's templateDefaults (QTI 2.1) are
 * evaluated now, in the test's context (test outcomes, variables of other items), and
 * override the defaults of the item's template variables before templateProcessing. */
static int start_item_session(struct qti_test_session *s, size_t i, const struct qti_item *item,
                              struct op_err *e)
{
    const struct qti_node *ref = node_of(s, i);
    size_t n = ref->ntemplate_defaults;
    struct qti_template_value *tv = qti_xcalloc(n, sizeof *tv);
    struct qti_value **vals = qti_xcalloc(n, sizeof *vals);
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < n; k++) {
        tv[k].identifier = ref->template_defaults[k].identifier;
        if (qti_expr_eval(ref->template_defaults[k].expr, &test_ops, s, &vals[k], e))
            rc = err_prefix(e, "templateDefault %s", tv[k].identifier);
        tv[k].value = vals[k];
    }
    if (rc == 0)
        rc = qti_item_session_new_with_defaults(item, entry_seed(s, i), tv, n, &s->es[i].is, e);
    for (size_t k = 0; k < n; k++)
        qti_value_free(vals[k]);
    free(vals);
    free(tv);
    return rc;
}

static int present(struct qti_test_session *s, size_t i, struct op_err *e)
{
    struct entry_state *es = &s->es[i];
    if (!es->is) {
        const struct qti_item *item = s->lookup(s->ud, node_of(s, i), e);
        if (!item)
            return e->code ? e->code : OP_EINPUT;
        if (start_item_session(s, i, item, e))
            return err_prefix(e, "item %s", s->route.entries[i].key);
    }
    if (!es->presented) {
        es->presented = true;
        size_t *t = qti_xrealloc(s->taken, s->ntaken + 1, sizeof *t);
        s->taken = t;
        s->taken[s->ntaken++] = i;
    }
    qti_item_session_present(es->is);
    s->pos = (int)i;
    s->part = s->route.entries[i].part;
    return 0;
}

/* Submits the kept responses of a simultaneous part. */
static int end_part(struct qti_test_session *s, int part, struct op_err *e)
{
    if (part < 0 || (size_t)part >= s->t->nparts)
        return 0;
    if (s->t->parts[part].submission != QTI_SUB_SIMULTANEOUS)
        return 0;
    for (size_t i = 0; i < s->route.n; i++) {
        struct entry_state *es = &s->es[i];
        if (s->route.entries[i].part != part || !es->is || !es->pending)
            continue;
        struct qti_isc isc = qti_isc_effective(s->t, node_of(s, i));
        struct qti_submit_opts o = {isc.validate_responses, es->unreported};
        int rc = qti_item_session_submit(es->is, es->pending, &o, NULL, e);
        json_decref(es->pending);
        es->pending = NULL;
        if (rc)
            return rc;
        es->unreported = 0;
    }
    return run_outcome_processing(s, e);
}

static int end_test(struct qti_test_session *s, struct op_err *e)
{
    if (s->ended)
        return 0;
    int rc = end_part(s, s->part, e);
    s->pos = -1;
    s->ended = true;
    if (rc == 0)
        rc = run_outcome_processing(s, e);
    return rc;
}

static int first_of_part(const struct qti_test_session *s, int part)
{
    for (size_t i = 0; i < s->route.n; i++)
        if (s->route.entries[i].part >= part)
            return (int)i;
    return (int)s->route.n;
}

/* Moves to the first entry at or after `target` that preconditions let through (linear parts
 * only check them), ending parts passed and the test past the end. `from` is the entry left
 * (-1 at the start). */
static int enter(struct qti_test_session *s, int from, int target, struct op_err *e)
{
    int prev_part = from >= 0 ? s->route.entries[from].part : -1;
    const struct qti_node *prev = from >= 0 ? node_of(s, (size_t)from) : NULL;
    for (;;) {
        if (target >= (int)s->route.n)
            return end_test(s, e);
        const struct qti_route_entry *en = &s->route.entries[target];
        const struct qti_test_part *p = &s->t->parts[en->part];
        if (en->part != prev_part) {
            if (prev_part >= 0) {
                int rc = end_part(s, prev_part, e);
                if (rc)
                    return rc;
            }
            prev_part = en->part;
            prev = NULL;
            int ok = 1;
            for (size_t k = 0; ok && k < p->npre; k++)
                if (eval_true(s, p->preconditions[k], &ok, e))
                    return err_prefix(e, "test part %s: preCondition", p->identifier);
            if (!ok) {
                target = first_of_part(s, en->part + 1);
                continue;
            }
        }
        if (p->navigation == QTI_NAV_LINEAR) {
            /* Sections entered now (not around the previous item), outermost first. */
            const struct qti_node *chain[QTI_TEST_MAX_DEPTH + 2];
            size_t nc = 0;
            for (const struct qti_node *n = en->item->parent; n && nc < QTI_TEST_MAX_DEPTH + 1;
                 n = n->parent)
                if (!prev || !has_ancestor(prev, n))
                    chain[nc++] = n;
            int ok = 1, skip_section = -1;
            for (size_t c = nc; ok && c-- > 0;) {
                for (size_t k = 0; ok && k < chain[c]->npre; k++)
                    if (eval_true(s, chain[c]->preconditions[k], &ok, e))
                        return err_prefix(e, "section %s: preCondition", chain[c]->identifier);
                if (!ok)
                    skip_section = (int)c;
            }
            if (!ok) {
                const struct qti_node *sec = chain[skip_section];
                while (target < (int)s->route.n && has_ancestor(node_of(s, (size_t)target), sec))
                    target++;
                continue;
            }
            for (size_t k = 0; ok && k < en->item->npre; k++)
                if (eval_true(s, en->item->preconditions[k], &ok, e))
                    return err_prefix(e, "item %s: preCondition", en->key);
            if (!ok) {
                target++;
                continue;
            }
        }
        return present(s, (size_t)target, e);
    }
}

/* Where a branch rule sends the candidate from position `pos`; -1 to ignore the rule. */
static int branch_target(const struct qti_test_session *s, int pos, const char *target)
{
    const struct qti_route_entry *cur = &s->route.entries[pos];
    if (strcmp(target, "EXIT_TEST") == 0)
        return (int)s->route.n;
    if (strcmp(target, "EXIT_TESTPART") == 0)
        return first_of_part(s, cur->part + 1);
    if (strcmp(target, "EXIT_SECTION") == 0) {
        const struct qti_node *sec = cur->item->parent;
        int i = pos + 1;
        while (i < (int)s->route.n && sec && has_ancestor(node_of(s, (size_t)i), sec))
            i++;
        return i;
    }
    int part = qti_test_find_part(s->t, target);
    if (part >= 0)
        return part > cur->part ? first_of_part(s, part) : -1;
    /* An item ref or section: its first occurrence later on the route (QTI allows forward
     * branching only). */
    for (int i = pos + 1; i < (int)s->route.n; i++) {
        const struct qti_node *it = node_of(s, (size_t)i);
        if (strcmp(it->identifier, target) == 0 || in_section(it, target))
            return i;
    }
    return -1;
}

static int eval_branches(struct qti_test_session *s, int pos, const struct qti_branch_rule *b,
                         size_t n, const char *what, int *target, struct op_err *e)
{
    for (size_t k = 0; k < n; k++) {
        int ok;
        if (eval_true(s, b[k].cond, &ok, e))
            return err_prefix(e, "%s: branchRule", what);
        if (ok) {
            int t = branch_target(s, pos, b[k].target);
            if (t >= 0) {
                *target = t;
                return 0;
            }
        }
    }
    return 0;
}

/* The next position from `pos` in a linear part: branch rules of the item, then of each
 * section it is the last of, then of the part if it ends it. */
static int linear_next(struct qti_test_session *s, int pos, int *target, struct op_err *e)
{
    *target = pos + 1;
    const struct qti_route_entry *cur = &s->route.entries[pos];
    int t = -1;
    if (eval_branches(s, pos, cur->item->branches, cur->item->nbranches, cur->key, &t, e))
        return OP_EINPUT;
    for (const struct qti_node *sec = cur->item->parent; t < 0 && sec; sec = sec->parent) {
        bool last = pos + 1 >= (int)s->route.n || !has_ancestor(node_of(s, (size_t)pos + 1), sec);
        if (!last)
            break;
        if (eval_branches(s, pos, sec->branches, sec->nbranches, sec->identifier, &t, e))
            return OP_EINPUT;
    }
    if (t < 0 && (pos + 1 >= (int)s->route.n || s->route.entries[pos + 1].part != cur->part)) {
        const struct qti_test_part *p = &s->t->parts[cur->part];
        if (eval_branches(s, pos, p->branches, p->nbranches, p->identifier, &t, e))
            return OP_EINPUT;
    }
    if (t >= 0)
        *target = t;
    return 0;
}

/* ---- the public calls ---- */

int qti_test_session_start(const struct qti_test *t, qti_item_lookup lookup, void *ud,
                           uint64_t seed, double now, struct qti_test_session **out,
                           struct op_err *e)
{
    *out = NULL;
    struct qti_test_session *s = qti_xcalloc(1, sizeof *s);
    s->t = t;
    s->lookup = lookup;
    s->ud = ud;
    s->seed = seed;
    s->rng = seed ^ 0x5851f42d4c957f2dull;
    s->pos = -1;
    s->part = -1;
    s->last_tick = now;
    int rc = qti_test_route(t, seed, &s->route, e);
    if (rc == 0) {
        s->es = qti_xcalloc(s->route.n, sizeof *s->es);
        s->outcomes = qti_xcalloc(t->noutcomes, sizeof *s->outcomes);
        for (size_t i = 0; i < t->noutcomes; i++)
            s->outcomes[i] = outcome_default(t->outcomes[i]);
        rc = enter(s, -1, 0, e);
    }
    if (rc) {
        qti_test_session_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void qti_test_session_free(struct qti_test_session *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->es && i < s->route.n; i++) {
        qti_item_session_free(s->es[i].is);
        json_decref(s->es[i].pending);
    }
    free(s->es);
    for (size_t i = 0; s->outcomes && i < s->t->noutcomes; i++)
        qti_value_free(s->outcomes[i]);
    free(s->outcomes);
    free(s->taken);
    qti_route_free(&s->route);
    free(s);
}

int qti_test_session_ended(const struct qti_test_session *s)
{
    return s->ended;
}

int qti_test_session_position(const struct qti_test_session *s)
{
    return s->pos;
}

const struct qti_route *qti_test_session_route(const struct qti_test_session *s)
{
    return &s->route;
}

const char *qti_test_session_current_key(const struct qti_test_session *s)
{
    return s->pos >= 0 ? s->route.entries[s->pos].key : NULL;
}

const struct qti_item_session *qti_test_session_item(const struct qti_test_session *s, size_t i)
{
    return i < s->route.n ? s->es[i].is : NULL;
}

double qti_test_session_duration(const struct qti_test_session *s)
{
    return time_where(s, NULL, -1);
}

void qti_test_session_set_extra_time(struct qti_test_session *s, double seconds)
{
    s->extra = seconds > 0 ? seconds : 0;
}

static void least(double *left, int *has, double v)
{
    if (!*has || v < *left)
        *left = v;
    *has = 1;
}

int qti_test_session_over(const struct qti_test_session *s, double now)
{
    if (s->ended || s->pos < 0)
        return 0;
    double dt = now - s->last_tick;
    if (!(dt > 0))
        dt = 0;
    const struct qti_time_limits *tl = &s->t->time_limits;
    if (tl->has_max && time_where(s, NULL, -1) + dt > tl->max_time + s->extra)
        return 1;
    tl = &s->t->parts[s->part].time_limits;
    return tl->has_max && time_where(s, NULL, s->part) + dt > tl->max_time + s->extra;
}

int qti_test_session_time_left(const struct qti_test_session *s, double now, double *left)
{
    if (s->ended || s->pos < 0)
        return 0;
    double dt = now - s->last_tick;
    if (!(dt > 0))
        dt = 0;
    int has = 0;
    const struct qti_node *it = node_of(s, (size_t)s->pos);
    if (it->time_limits.has_max)
        least(left, &has, it->time_limits.max_time - (s->es[s->pos].duration + dt));
    for (const struct qti_node *n = it->parent; n; n = n->parent)
        if (n->time_limits.has_max)
            least(left, &has, n->time_limits.max_time - (time_where(s, n, -1) + dt));
    const struct qti_test_part *p = &s->t->parts[s->part];
    if (p->time_limits.has_max)
        least(left, &has, p->time_limits.max_time + s->extra - (time_where(s, NULL, s->part) + dt));
    if (s->t->time_limits.has_max)
        least(left, &has, s->t->time_limits.max_time + s->extra - (time_where(s, NULL, -1) + dt));
    if (has && *left < 0)
        *left = 0;
    return has;
}

/* The submission proper, after the clock has ticked; the caller undoes the tick on failure. */
static int submit_current(struct qti_test_session *s, const json_t *responses, json_t **invalid,
                          struct op_err *e)
{
    if (s->ended)
        return err_set(e, OP_ESTATE, "the test has ended");
    struct entry_state *es = &s->es[s->pos];
    const char *key = s->route.entries[s->pos].key;
    const struct qti_node *it = node_of(s, (size_t)s->pos);
    struct qti_isc isc = qti_isc_effective(s->t, it);
    char what[256];
    if (time_over(s, (size_t)s->pos, 0, what, sizeof what))
        return err_set(e, OP_ECONFLICT, "item %s: the time limit of %s is over", key, what);
    int attempts = qti_item_session_num_attempts(es->is);
    if (isc.max_attempts > 0 && attempts >= isc.max_attempts &&
        !qti_item_adaptive(qti_item_session_item(es->is)))
        return err_set(e, OP_ECONFLICT, "item %s: no attempt left (maxAttempts %d)", key,
                       isc.max_attempts);
    const struct qti_test_part *p = &s->t->parts[s->part];
    if (p->submission == QTI_SUB_INDIVIDUAL && !isc.allow_skipping &&
        qti_item_session_has_responses(es->is)) {
        /* QTI 2.1 itemSessionControl: without allowSkipping (individual submission only) an
         * item is not submitted until some response differs from its default value; an
         * empty submission would be skipping it. */
        int responded;
        int rc = qti_item_session_would_respond(es->is, responses, &responded, e);
        if (rc)
            return rc;
        if (!responded)
            return err_set(e, OP_EINPUT,
                           "item %s: skipping is not allowed in test part %s (allowSkipping is "
                           "false): give a response (empty or default responses do not count)",
                           key, p->identifier);
    }
    if (p->submission == QTI_SUB_SIMULTANEOUS) {
        /* Kept until the part ends; a later submission replaces it. */
        json_decref(es->pending);
        es->pending = responses ? json_deep_copy(responses) : json_object();
        es->submitted = true;
        es->submit_seq = ++s->submits;
        return 0;
    }
    /* The item session is all or nothing by itself; a copy of it undoes a submission whose
     * outcomeProcessing then fails. */
    struct qti_item_session *before = NULL;
    qti_item_session_clone(es->is, &before);
    struct qti_submit_opts o = {isc.validate_responses, es->unreported};
    int rc = qti_item_session_submit(es->is, responses, &o, invalid, e);
    if (rc == 0) {
        rc = run_outcome_processing(s, e);
        if (rc)
            qti_item_session_swap(es->is, before);
    }
    qti_item_session_free(before);
    if (rc)
        return rc;
    es->unreported = 0;
    es->submitted = true;
    es->submit_seq = ++s->submits;
    return 0;
}

int qti_test_session_submit(struct qti_test_session *s, const json_t *responses, double now,
                            json_t **invalid, struct op_err *e)
{
    if (invalid)
        *invalid = NULL;
    /* All or nothing, the clock included: the time of a failed call is not lost, the next
     * call counts it for the same item. */
    double last_tick = s->last_tick;
    struct entry_state saved = s->pos >= 0 ? s->es[s->pos] : (struct entry_state){0};
    tick(s, now);
    int rc = submit_current(s, responses, invalid, e);
    if (rc) {
        s->last_tick = last_tick;
        if (s->pos >= 0) {
            s->es[s->pos].duration = saved.duration;
            s->es[s->pos].unreported = saved.unreported;
        }
    }
    return rc;
}

int qti_test_session_next(struct qti_test_session *s, double now, struct op_err *e)
{
    tick(s, now);
    if (s->ended)
        return err_set(e, OP_ESTATE, "the test has ended");
    int pos = s->pos;
    struct entry_state *es = &s->es[pos];
    const struct qti_node *it = node_of(s, (size_t)pos);
    const struct qti_test_part *p = &s->t->parts[s->part];
    char what[256];
    int over = time_over(s, (size_t)pos, 1, what, sizeof what);
    if (p->navigation == QTI_NAV_LINEAR && !over) {
        struct qti_isc isc = qti_isc_effective(s->t, it);
        /* allowSkipping only applies to individual submission, and an item without any
         * response variable has nothing to answer. */
        if (!es->submitted && !isc.allow_skipping && p->submission == QTI_SUB_INDIVIDUAL &&
            qti_item_session_has_responses(es->is))
            return err_set(e, OP_ECONFLICT,
                           "item %s: answer it before moving on (allowSkipping is false)",
                           s->route.entries[pos].key);
        if (it->time_limits.has_min && es->duration < it->time_limits.min_time)
            return err_set(e, OP_ECONFLICT, "item %s: stay at least %g s (minTime)",
                           s->route.entries[pos].key, it->time_limits.min_time);
    }
    if (es->is && es->unreported > 0 && !es->pending) {
        qti_item_session_add_duration(es->is, es->unreported);
        es->unreported = 0;
    }
    /* The test's or the part's time is over: the rest of it is closed. */
    if (s->t->time_limits.has_max &&
        qti_test_session_duration(s) > s->t->time_limits.max_time + s->extra)
        return end_test(s, e);
    if (p->time_limits.has_max && time_where(s, NULL, s->part) > p->time_limits.max_time + s->extra)
        return enter(s, pos, first_of_part(s, s->part + 1), e);
    int target = pos + 1;
    if (p->navigation == QTI_NAV_LINEAR && linear_next(s, pos, &target, e))
        return OP_EINPUT;
    if (p->navigation == QTI_NAV_NONLINEAR) {
        /* Nonlinear parts ignore preconditions and branch rules inside the part ... */
        if (target < (int)s->route.n && s->route.entries[target].part == s->part)
            return present(s, (size_t)target, e);
        /* ... but not the part's own: leaving it, its branch rules choose what comes next
         * (its preconditions were checked on entering it). */
        int t = -1;
        if (eval_branches(s, pos, p->branches, p->nbranches, p->identifier, &t, e))
            return OP_EINPUT;
        if (t >= 0)
            target = t;
    }
    return enter(s, pos, target, e);
}

int qti_test_session_jump(struct qti_test_session *s, size_t pos, double now, struct op_err *e)
{
    tick(s, now);
    if (s->ended)
        return err_set(e, OP_ESTATE, "the test has ended");
    if (s->t->parts[s->part].navigation != QTI_NAV_NONLINEAR)
        return err_set(e, OP_ECONFLICT, "test part %s is linear: only moving forward is allowed",
                       s->t->parts[s->part].identifier);
    if (pos >= s->route.n || s->route.entries[pos].part != s->part)
        return err_set(e, OP_EINPUT, "position %zu is not in test part %s", pos,
                       s->t->parts[s->part].identifier);
    struct entry_state *es = &s->es[s->pos];
    if (es->is && es->unreported > 0 && !es->pending) {
        qti_item_session_add_duration(es->is, es->unreported);
        es->unreported = 0;
    }
    return present(s, pos, e);
}

int qti_test_session_previous(struct qti_test_session *s, double now, struct op_err *e)
{
    if (!s->ended && s->pos > 0 && s->route.entries[s->pos - 1].part != s->part &&
        s->t->parts[s->part].navigation == QTI_NAV_NONLINEAR)
        return err_set(e, OP_ECONFLICT, "the previous item is in an earlier test part");
    if (!s->ended && s->pos == 0) {
        tick(s, now);
        return err_set(e, OP_ECONFLICT, "this is the first item");
    }
    return qti_test_session_jump(s, s->pos > 0 ? (size_t)s->pos - 1 : 0, now, e);
}

int qti_test_session_finish(struct qti_test_session *s, double now, struct op_err *e)
{
    tick(s, now);
    if (s->pos >= 0) {
        struct entry_state *es = &s->es[s->pos];
        if (es->is && es->unreported > 0 && !es->pending) {
            qti_item_session_add_duration(es->is, es->unreported);
            es->unreported = 0;
        }
    }
    return end_test(s, e);
}

const struct qti_value *qti_test_session_outcome(const struct qti_test_session *s,
                                                 const char *identifier)
{
    for (size_t i = 0; i < s->t->noutcomes; i++)
        if (strcmp(s->t->outcomes[i]->identifier, identifier) == 0)
            return s->outcomes[i];
    return NULL;
}

json_t *qti_test_session_outcomes_json(const struct qti_test_session *s)
{
    json_t *o = json_object();
    for (size_t i = 0; i < s->t->noutcomes; i++)
        json_object_set_new(o, s->t->outcomes[i]->identifier, qti_value_to_json(s->outcomes[i]));
    return o;
}

json_t *qti_test_session_route_taken_json(const struct qti_test_session *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->ntaken; i++)
        json_array_append_new(a, json_string(s->route.entries[s->taken[i]].key));
    return a;
}

/* ---- saving and restoring ---- */

json_t *qti_test_session_save(const struct qti_test_session *s)
{
    json_t *o = json_object();
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    json_object_set_new(o, "format", json_integer(1));
    json_object_set_new(o, "test", json_string(s->t->identifier));
    json_object_set_new(o, "seed", json_string(seed));
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->rng);
    json_object_set_new(o, "rng", json_string(seed));
    json_object_set_new(o, "position", json_integer(s->pos));
    json_object_set_new(o, "part", json_integer(s->part));
    json_object_set_new(o, "ended", json_boolean(s->ended));
    json_object_set_new(o, "lastTick", json_real(s->last_tick));
    json_t *route = json_array();
    for (size_t i = 0; i < s->route.n; i++)
        json_array_append_new(route, json_string(s->route.entries[i].key));
    json_object_set_new(o, "route", route);
    json_t *ents = json_array();
    for (size_t i = 0; i < s->route.n; i++) {
        const struct entry_state *es = &s->es[i];
        json_t *x = json_object();
        json_object_set_new(x, "duration", json_real(es->duration));
        json_object_set_new(x, "unreported", json_real(es->unreported));
        json_object_set_new(x, "presented", json_boolean(es->presented));
        json_object_set_new(x, "submitted", json_boolean(es->submitted));
        if (es->submit_seq)
            json_object_set_new(x, "submitOrder", json_integer((json_int_t)es->submit_seq));
        if (es->pending)
            json_object_set(x, "pending", es->pending);
        if (es->is)
            json_object_set_new(x, "item", qti_item_session_save(es->is));
        json_array_append_new(ents, x);
    }
    json_object_set_new(o, "entries", ents);
    json_t *taken = json_array();
    for (size_t i = 0; i < s->ntaken; i++)
        json_array_append_new(taken, json_integer((json_int_t)s->taken[i]));
    json_object_set_new(o, "taken", taken);
    json_t *outs = json_object();
    for (size_t i = 0; i < s->t->noutcomes; i++)
        json_object_set_new(outs, s->t->outcomes[i]->identifier,
                            qti_value_to_typed_json(s->outcomes[i]));
    json_object_set_new(o, "outcomes", outs);
    return o;
}

static int bad_state(struct op_err *e, const char *what)
{
    return err_set(e, OP_EINPUT, "saved test session: %s", what);
}

int qti_test_session_restore(const struct qti_test *t, qti_item_lookup lookup, void *ud,
                             const json_t *jc, struct qti_test_session **out, struct op_err *e)
{
    *out = NULL;
    json_t *j = (json_t *)jc;
    const char *tid = json_string_value(json_object_get(j, "test"));
    const char *seed = json_string_value(json_object_get(j, "seed"));
    const char *rng = json_string_value(json_object_get(j, "rng"));
    if (!json_is_object(j) || json_integer_value(json_object_get(j, "format")) != 1 || !tid ||
        !seed || !rng)
        return bad_state(e, "not a saved session of this format");
    if (strcmp(tid, t->identifier) != 0)
        return bad_state(e, "it belongs to another test");
    struct qti_test_session *s = qti_xcalloc(1, sizeof *s);
    s->t = t;
    s->lookup = lookup;
    s->ud = ud;
    s->seed = strtoull(seed, NULL, 10);
    s->rng = strtoull(rng, NULL, 10);
    int rc = qti_test_route(t, s->seed, &s->route, e);
    json_t *route = json_object_get(j, "route"), *ents = json_object_get(j, "entries");
    if (rc == 0 && (!json_is_array(route) || json_array_size(route) != s->route.n ||
                    !json_is_array(ents) || json_array_size(ents) != s->route.n))
        rc = bad_state(e, "its route does not match the test");
    if (rc == 0) {
        s->es = qti_xcalloc(s->route.n, sizeof *s->es);
        s->outcomes = qti_xcalloc(t->noutcomes, sizeof *s->outcomes);
    }
    for (size_t i = 0; rc == 0 && i < s->route.n; i++) {
        const char *k = json_string_value(json_array_get(route, i));
        if (!k || strcmp(k, s->route.entries[i].key) != 0) {
            rc = bad_state(e, "its route does not match the test");
            break;
        }
        json_t *x = json_array_get(ents, i);
        struct entry_state *es = &s->es[i];
        es->duration = json_number_value(json_object_get(x, "duration"));
        es->unreported = json_number_value(json_object_get(x, "unreported"));
        es->presented = json_is_true(json_object_get(x, "presented"));
        es->submitted = json_is_true(json_object_get(x, "submitted"));
        json_int_t order = json_integer_value(json_object_get(x, "submitOrder"));
        if (order < 0) {
            rc = bad_state(e, "bad submission order");
            break;
        }
        es->submit_seq = (unsigned long)order;
        if (es->submit_seq > s->submits)
            s->submits = es->submit_seq;
        json_t *pending = json_object_get(x, "pending");
        if (pending)
            es->pending = json_deep_copy(pending);
        json_t *item = json_object_get(x, "item");
        if (item) {
            const struct qti_item *it = lookup(ud, node_of(s, i), e);
            if (!it)
                rc = e->code ? e->code : OP_EINPUT;
            else if (qti_item_session_restore(it, item, &es->is, e))
                rc = err_prefix(e, "saved test session: item %s", k);
        }
    }
    json_t *taken = json_object_get(j, "taken");
    for (size_t i = 0; rc == 0 && i < json_array_size(taken); i++) {
        json_t *v = json_array_get(taken, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (size_t)json_integer_value(v) >= s->route.n) {
            rc = bad_state(e, "bad list of presented items");
            break;
        }
        size_t *tk = qti_xrealloc(s->taken, s->ntaken + 1, sizeof *tk);
        s->taken = tk;
        s->taken[s->ntaken++] = (size_t)json_integer_value(v);
    }
    json_t *outs = json_object_get(j, "outcomes");
    for (size_t i = 0; rc == 0 && i < t->noutcomes; i++)
        rc = qti_value_from_typed_json(json_object_get(outs, t->outcomes[i]->identifier),
                                       t->outcomes[i]->identifier, &s->outcomes[i], e);
    if (rc == 0) {
        json_t *pos = json_object_get(j, "position"), *part = json_object_get(j, "part");
        s->ended = json_is_true(json_object_get(j, "ended"));
        s->last_tick = json_number_value(json_object_get(j, "lastTick"));
        if (!json_is_integer(pos) || !json_is_integer(part) || json_integer_value(pos) < -1 ||
            json_integer_value(pos) >= (json_int_t)s->route.n ||
            json_integer_value(part) >= (json_int_t)t->nparts)
            rc = bad_state(e, "bad position");
        else {
            s->pos = (int)json_integer_value(pos);
            s->part = (int)json_integer_value(part);
            if ((s->pos < 0) != s->ended || (s->pos >= 0 && !s->es[s->pos].is))
                rc = bad_state(e, "inconsistent position");
        }
    }
    if (rc) {
        qti_test_session_free(s);
        return rc;
    }
    *out = s;
    return 0;
}
