/*
 * expr_eval.c - evaluating QTI expressions (see expr.h): the entry points, the helpers every
 * operator shares (errors, sub-expressions, reference attributes, rounding, the random
 * stream), and the test-level operators over item subsets (testVariables, outcomeMaximum,
 * numberCorrect, ...). The operators themselves are in expr_ops.c; reading trees is expr.c.
 *
 * Bounds: evaluation recurses only as deep as the tree (at most QTI_EXPR_MAX_DEPTH) and
 * counts steps against a budget.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qti/expr_internal.h"
#include "qti/pattern.h"
#include "qti/qti_alloc.h"

/* ---- evaluation: context and helpers ---- */

int expr_fail(const struct ev *ev, const struct qti_expr *x, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (x->line > 0)
        return err_set(ev->e, OP_EINPUT, "line %d: %s: %s", x->line, qti_op_name(x->op), msg);
    return err_set(ev->e, OP_EINPUT, "%s: %s", qti_op_name(x->op), msg);
}

/* Evaluates every sub-expression; on success *out holds nargs values (owned, NULLs kept). */
int expr_eval_all(const struct ev *ev, const struct qti_expr *x, struct qti_value ***out)
{
    struct qti_value **v = qti_xcalloc(x->nargs, sizeof *v);
    for (size_t i = 0; i < x->nargs; i++) {
        int rc = expr_eval(ev, x->args[i], &v[i]);
        if (rc < 0) {
            free_all(v, x->nargs);
            *out = NULL;
            return rc;
        }
    }
    *out = v;
    return 0;
}

/* Resolves a reference attribute to a number ('i' or 'f') or a string ('s', *str borrowed). */
int expr_resolve_ref(const struct ev *ev, const struct qti_expr *x, const struct qti_ref *r,
                     char kind, double *num, const char **str, bool *is_null)
{
    *is_null = false;
    if (!r->var) {
        if (num)
            *num = r->num;
        if (str)
            *str = r->str ? r->str : "";
        return 0;
    }
    const struct qti_value *v = NULL;
    if (ev->ops->get(ev->ud, r->var, &v) < 0)
        return expr_fail(ev, x, "unknown variable %s", r->var);
    if (qti_value_is_null(v)) {
        *is_null = true;
        return 0;
    }
    if (kind == 's') {
        if (v->card != QTI_CARD_SINGLE ||
            (v->type != QTI_BT_STRING && v->type != QTI_BT_IDENTIFIER))
            return expr_fail(ev, x, "variable %s must be a single string", r->var);
        *str = v->items[0].u.s;
        return 0;
    }
    if (!is_num_single(v) || (kind == 'i' && v->type != QTI_BT_INTEGER))
        return expr_fail(ev, x, "variable %s must be a single %s", r->var,
                         kind == 'i' ? "integer" : "number");
    *num = num_of(v);
    return 0;
}

double qti_random_unit(uint64_t r)
{
    return (double)(r >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t qti_random_below(const struct qti_eval_ops *ops, void *ud, uint64_t n)
{
    if (n <= 1)
        return 0;
    /* reject the top partial range so every value is equally likely */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do
        r = ops->random(ud);
    while (r >= limit);
    return r % n;
}

/* Rounds half up to `places` decimal places (negative: tens, hundreds...). A value within a
 * hair of the .5 boundary counts as on it, so that 1.005 rounds to 1.01 as decimal
 * arithmetic would, not to 1.00 as its binary approximation suggests. */
double expr_round_places(double v, int places)
{
    if (!isfinite(v) || places > 300 || places < -300)
        return v;
    double p = pow(10.0, places);
    double r = v * p;
    if (!isfinite(r))
        return v;
    double f = floor(r);
    double frac = r - f;
    double eps = 1e-9 * fmax(1.0, fabs(r));
    if (frac >= 0.5 - eps)
        f += 1;
    return f / p;
}

int expr_round_figures(double v, int mode, int64_t figures, double *out)
{
    if (mode == QTI_ROUND_SIGNIFICANT_FIGURES) {
        if (figures < 1)
            return -1;
        if (v == 0 || !isfinite(v)) {
            *out = v;
            return 0;
        }
        int mag = (int)floor(log10(fabs(v)));
        *out = expr_round_places(v, (int)(figures > 400 ? 400 : figures) - 1 - mag);
        return 0;
    }
    if (figures < 0)
        return -1;
    *out = expr_round_places(v, (int)(figures > 400 ? 400 : figures));
    return 0;
}

/* ---- evaluation: test-level operators over item subsets ---- */

struct subset_acc {
    const struct ev *ev;
    const struct qti_expr *x;
    int64_t count;
    bool null_result;       /* outcomeMaximum: an item without normalMaximum */
    bool any_float;         /* testVariables: a float value or a weight was seen */
    struct qti_value *vals; /* float container being built, or of x->base_type */
    int64_t *ints;          /* testVariables integers, until a float shows up */
    size_t nints;
};

static char *item_var(const char *ref, const char *var)
{
    size_t n = strlen(ref) + strlen(var) + 2;
    char *s = qti_xcalloc(n, 1);
    snprintf(s, n, "%s.%s", ref, var);
    return s;
}

double expr_item_weight(const struct ev *ev, const char *ref, const char *wid, bool *weighted)
{
    double w = 1.0;
    *weighted = false;
    if (wid && ev->ops->weight && ev->ops->weight(ev->ud, ref, wid, &w) == 0)
        *weighted = true;
    else
        w = 1.0;
    return w;
}

static int add_float(struct subset_acc *a, double d)
{
    struct qti_scalar s = {.type = QTI_BT_FLOAT, .u.f = d};
    return qti_value_append(a->vals, &s, a->ev->e);
}

static int subset_each(void *arg, const struct qti_item_state *it, struct op_err *e)
{
    struct subset_acc *a = arg;
    const struct qti_expr *x = a->x;
    const struct ev *ev = a->ev;
    (void)e;
    switch (x->op) {
    case QTI_OP_NUMBER_CORRECT:
        /* QTI 2.1: "Only items for which all declared response variables have correct
         * responses defined are considered" (and, for numberIncorrect, "have been attempted
         * at least once"). */
        a->count += it->attempted && it->judgeable && it->correct;
        return 0;
    case QTI_OP_NUMBER_INCORRECT:
        a->count += it->attempted && it->judgeable && !it->correct;
        return 0;
    case QTI_OP_NUMBER_PRESENTED:
        a->count += it->presented;
        return 0;
    case QTI_OP_NUMBER_RESPONDED:
        a->count += it->responded;
        return 0;
    case QTI_OP_NUMBER_SELECTED:
        a->count += it->selected;
        return 0;
    case QTI_OP_OUTCOME_MAXIMUM:
    case QTI_OP_OUTCOME_MINIMUM: {
        char *id = item_var(it->ref, x->identifier);
        const struct qti_decl *d = ev->ops->decl(ev->ud, id);
        free(id);
        bool max = x->op == QTI_OP_OUTCOME_MAXIMUM;
        bool single = d && d->kind == QTI_DECL_OUTCOME && d->card == QTI_CARD_SINGLE;
        if (!single || !(max ? d->has_normal_maximum : d->has_normal_minimum)) {
            /* QTI 2.1: "if any of the items in the given subset have no declared maximum the
             * result is NULL" (an item without the outcome has none either); items with no
             * declared minimum are ignored */
            if (max)
                a->null_result = true;
            return 0;
        }
        bool weighted;
        double w = expr_item_weight(ev, it->ref, x->weight_identifier, &weighted);
        return add_float(a, (max ? d->normal_maximum : d->normal_minimum) * w);
    }
    case QTI_OP_TEST_VARIABLES: {
        char *id = item_var(it->ref, x->identifier);
        const struct qti_value *v = NULL;
        int rc = ev->ops->get(ev->ud, id, &v);
        free(id);
        if (rc < 0 || qti_value_is_null(v) || v->card != QTI_CARD_SINGLE)
            return 0;
        if (x->base_type != QTI_BT_NONE ? v->type != x->base_type : !is_numeric(v->type))
            return 0;
        if (!is_numeric(v->type))
            return qti_value_append(a->vals, &v->items[0], a->ev->e);
        bool weighted;
        double w = expr_item_weight(ev, it->ref, x->weight_identifier, &weighted);
        if (x->weight_identifier || v->type == QTI_BT_FLOAT)
            a->any_float = true;
        if (!a->any_float) {
            if (a->nints >= QTI_VALUE_MAX_ITEMS)
                return err_set(ev->e, OP_EINPUT, "testVariables: over %d values",
                               QTI_VALUE_MAX_ITEMS);
            a->ints = qti_grow(a->ints, a->nints, sizeof *a->ints);
            a->ints[a->nints++] = v->items[0].u.i;
            return 0;
        }
        /* a float appears: move the integers seen so far into the float container */
        for (size_t i = 0; i < a->nints; i++)
            if ((rc = add_float(a, (double)a->ints[i])) < 0)
                return rc;
        a->nints = 0;
        return add_float(a, num_of(v) * w);
    }
    default:
        return 0;
    }
}

int expr_eval_subset(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    if (!ev->ops->item_subset)
        return expr_fail(ev, x, "only allowed in outcome processing of a test");
    struct subset_acc a = {.ev = ev, .x = x};
    enum qti_base_type vt = QTI_BT_FLOAT;
    if (x->op == QTI_OP_TEST_VARIABLES && x->base_type != QTI_BT_NONE && !is_numeric(x->base_type))
        vt = x->base_type;
    a.vals = qti_value_container(QTI_CARD_MULTIPLE, vt);
    int rc = ev->ops->item_subset(ev->ud, x, subset_each, &a, ev->e);
    if (rc < 0) {
        qti_value_free(a.vals);
        free(a.ints);
        return rc;
    }
    switch (x->op) {
    case QTI_OP_NUMBER_CORRECT:
    case QTI_OP_NUMBER_INCORRECT:
    case QTI_OP_NUMBER_PRESENTED:
    case QTI_OP_NUMBER_RESPONDED:
    case QTI_OP_NUMBER_SELECTED:
        qti_value_free(a.vals);
        *out = qti_value_integer(a.count);
        return 0;
    default:
        break;
    }
    if (a.nints) {
        qti_value_free(a.vals);
        a.vals = qti_value_container(QTI_CARD_MULTIPLE, QTI_BT_INTEGER);
        for (size_t i = 0; i < a.nints; i++) {
            struct qti_scalar s = {.type = QTI_BT_INTEGER, .u.i = a.ints[i]};
            qti_value_append(a.vals, &s, ev->e);
        }
    }
    free(a.ints);
    if (a.null_result || a.vals->n == 0) {
        qti_value_free(a.vals);
        a.vals = NULL;
    }
    *out = a.vals;
    return 0;
}

int qti_expr_eval_budget(const struct qti_expr *x, const struct qti_eval_ops *ops, void *ud,
                         size_t *steps, struct qti_value **out, struct op_err *e)
{
    struct ev ev = {ops, ud, steps, e};
    int rc = expr_eval(&ev, x, out);
    /* the outside world never sees an empty container or empty string: they are NULL */
    if (rc == 0 && qti_value_is_null(*out)) {
        qti_value_free(*out);
        *out = NULL;
    }
    return rc;
}

int qti_expr_eval(const struct qti_expr *x, const struct qti_eval_ops *ops, void *ud,
                  struct qti_value **out, struct op_err *e)
{
    size_t steps = QTI_EXPR_MAX_STEPS;
    return qti_expr_eval_budget(x, ops, ud, &steps, out, e);
}
