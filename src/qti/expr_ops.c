/*
 * expr_ops.c - the QTI expression operators, one evaluator per family (variables and maps,
 * random numbers, containers, logic, comparison, arithmetic, aggregates, maths, strings and
 * patterns), and the dispatcher expr_eval that picks one by operator (see expr.h). Helpers
 * they share are in expr_internal.h and expr_eval.c.
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

/* ---- evaluation: operators ---- */

static int eval_variable(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    const struct qti_value *v = NULL;
    if (ev->ops->get(ev->ud, x->identifier, &v) < 0)
        return expr_fail(ev, x, "unknown variable %s", x->identifier);
    qti_value_copy(v, out);
    /* weights apply to item variables looked up as ITEM.VAR in a test, numbers only */
    const char *dot = strchr(x->identifier, '.');
    if (!*out || !x->weight_identifier || !dot || !is_numeric((*out)->type) ||
        (*out)->card == QTI_CARD_RECORD)
        return 0;
    /* QTI 2.1 variable: a weight the item ref does not define is 1.0, and applying a weight
     * to an integer promotes it to float, so the result is a float either way. */
    char ref[256];
    snprintf(ref, sizeof ref, "%.*s", (int)(dot - x->identifier), x->identifier);
    bool weighted;
    double w = expr_item_weight(ev, ref, x->weight_identifier, &weighted);
    struct qti_value *v2 = (*out);
    for (size_t i = 0; i < v2->n; i++) {
        double d = scalar_num(&v2->items[i]) * w;
        v2->items[i].type = QTI_BT_FLOAT;
        v2->items[i].u.f = d;
    }
    v2->type = QTI_BT_FLOAT;
    return 0;
}

static const struct qti_decl *need_decl(const struct ev *ev, const struct qti_expr *x,
                                        const char *id)
{
    const struct qti_decl *d = ev->ops->decl(ev->ud, id);
    if (!d)
        expr_fail(ev, x, "unknown variable %s", id);
    return d;
}

static int eval_map(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    const struct qti_decl *d = need_decl(ev, x, x->identifier);
    if (!d)
        return ev->e->code;
    if (d->kind != QTI_DECL_RESPONSE)
        return expr_fail(ev, x, "%s is not a response variable", x->identifier);
    const struct qti_value *v = NULL;
    if (ev->ops->get(ev->ud, x->identifier, &v) < 0)
        return expr_fail(ev, x, "unknown variable %s", x->identifier);
    double r;
    int rc = x->op == QTI_OP_MAP_RESPONSE ? qti_decl_map_response(d, v, &r, ev->e)
                                          : qti_decl_map_response_point(d, v, &r, ev->e);
    if (rc < 0)
        return x->line ? err_prefix(ev->e, "line %d", x->line) : rc;
    *out = qti_value_float(r);
    return 0;
}

static int eval_random_number(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    if (!ev->ops->random)
        return expr_fail(ev, x, "randomness is not available here");
    double lo, hi, step = 1;
    bool n1, n2, n3 = false;
    int rc;
    char k = x->op == QTI_OP_RANDOM_INTEGER ? 'i' : 'f';
    if ((rc = expr_resolve_ref(ev, x, &x->a, k, &lo, NULL, &n1)) < 0 ||
        (rc = expr_resolve_ref(ev, x, &x->b, k, &hi, NULL, &n2)) < 0)
        return rc;
    if (k == 'i' && (rc = expr_resolve_ref(ev, x, &x->c, 'i', &step, NULL, &n3)) < 0)
        return rc;
    if (n1 || n2 || n3 || hi < lo)
        return 0; /* NULL */
    if (k == 'f') {
        *out = float_or_null(lo + qti_random_unit(ev->ops->random(ev->ud)) * (hi - lo));
        return 0;
    }
    if (step < 1)
        return expr_fail(ev, x, "step must be 1 or more");
    uint64_t count = (uint64_t)floor((hi - lo) / step) + 1;
    uint64_t k2 = qti_random_below(ev->ops, ev->ud, count);
    *out = int_from_double(lo + (double)k2 * step);
    return 0;
}

/* multiple, ordered, repeat: gather values into a container. */
static int gather(const struct ev *ev, const struct qti_expr *x, enum qti_cardinality card,
                  struct qti_value *acc, struct qti_value *v)
{
    if (!v || qti_value_is_null(v))
        return 0;
    if (v->card == QTI_CARD_RECORD || (v->card != QTI_CARD_SINGLE && v->card != card))
        return expr_fail(ev, x, "sub-expressions must be single or %s, not %s",
                         qti_cardinality_name(card), qti_cardinality_name(v->card));
    if (acc->type == QTI_BT_NONE)
        acc->type = v->type;
    if (v->type != acc->type)
        return expr_fail(ev, x, "sub-expressions must share one base type (%s and %s)",
                         qti_base_type_name(acc->type), qti_base_type_name(v->type));
    for (size_t i = 0; i < v->n; i++) {
        int rc = qti_value_append(acc, &v->items[i], ev->e);
        if (rc < 0)
            return expr_fail(ev, x, "%s", ev->e->msg);
    }
    return 0;
}

static int eval_container(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    enum qti_cardinality card = x->op == QTI_OP_MULTIPLE ? QTI_CARD_MULTIPLE : QTI_CARD_ORDERED;
    struct qti_value *acc = qti_value_container(card, QTI_BT_NONE);
    int rc = 0;
    int64_t repeats = 1;
    if (x->op == QTI_OP_REPEAT) {
        double n;
        bool isnull;
        if ((rc = expr_resolve_ref(ev, x, &x->a, 'i', &n, NULL, &isnull)) < 0) {
            qti_value_free(acc);
            return rc;
        }
        if (isnull || n < 1) {
            qti_value_free(acc);
            return 0;
        }
        if (n > QTI_VALUE_MAX_ITEMS) {
            qti_value_free(acc);
            return expr_fail(ev, x, "numberRepeats over %d", QTI_VALUE_MAX_ITEMS);
        }
        repeats = (int64_t)n;
    }
    for (int64_t r = 0; r < repeats && rc == 0; r++)
        for (size_t i = 0; i < x->nargs && rc == 0; i++) {
            struct qti_value *v = NULL;
            rc = expr_eval(ev, x->args[i], &v);
            if (rc == 0)
                rc = gather(ev, x, card, acc, v);
            qti_value_free(v);
        }
    if (rc < 0 || acc->n == 0) {
        qti_value_free(acc);
        acc = NULL;
    }
    *out = acc;
    return rc;
}

static bool text_type(enum qti_base_type t)
{
    return t == QTI_BT_STRING || t == QTI_BT_IDENTIFIER || t == QTI_BT_URI;
}

static const char *find_sub(const char *hay, const char *needle, bool case_sensitive)
{
    return case_sensitive ? strstr(hay, needle) : strcasestr(hay, needle);
}

/* Is `b` (as a container of a's cardinality) contained in container `a`? */
static bool contains(const struct qti_value *a, const struct qti_value *b)
{
    if (a->card == QTI_CARD_ORDERED) {
        if (b->n > a->n)
            return false;
        for (size_t s = 0; s + b->n <= a->n; s++) {
            size_t k = 0;
            while (k < b->n && qti_scalar_equal(&a->items[s + k], &b->items[k]))
                k++;
            if (k == b->n)
                return true;
        }
        return false;
    }
    bool *used = qti_xcalloc(a->n, sizeof *used);
    bool ok = true;
    for (size_t i = 0; i < b->n && ok; i++) {
        ok = false;
        for (size_t k = 0; k < a->n && !ok; k++)
            if (!used[k] && qti_scalar_equal(&a->items[k], &b->items[i]))
                used[k] = ok = true;
    }
    free(used);
    return ok;
}

static int eval_containers2(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                            struct qti_value **out)
{
    char b1[80], b2[80];
    if (any_null(v, 2))
        return 0;
    struct qti_value *a = v[0], *b = v[1];
    if (a->type != b->type || a->card == QTI_CARD_RECORD || b->card == QTI_CARD_RECORD)
        return expr_fail(ev, x, "sub-expressions must have the same base type (got %s and %s)",
                         card_type(a, b1, sizeof b1), card_type(b, b2, sizeof b2));
    if (x->op == QTI_OP_CONTAINS) {
        if (a->card == QTI_CARD_SINGLE || (b->card != QTI_CARD_SINGLE && a->card != b->card))
            return expr_fail(ev, x,
                             "sub-expressions must be containers of the same cardinality "
                             "(got %s and %s)",
                             card_type(a, b1, sizeof b1), card_type(b, b2, sizeof b2));
        *out = qti_value_boolean(contains(a, b));
        return 0;
    }
    if (a->card != QTI_CARD_SINGLE || !is_container(b))
        return expr_fail(ev, x, "needs a single value and a container (got %s and %s)",
                         card_type(a, b1, sizeof b1), card_type(b, b2, sizeof b2));
    if (x->op == QTI_OP_MEMBER) {
        bool found = false;
        for (size_t i = 0; i < b->n && !found; i++)
            found = qti_scalar_equal(&a->items[0], &b->items[i]);
        *out = qti_value_boolean(found);
        return 0;
    }
    struct qti_value *r = qti_value_container(b->card, b->type);
    for (size_t i = 0; i < b->n; i++)
        if (!qti_scalar_equal(&a->items[0], &b->items[i]))
            qti_value_append(r, &b->items[i], ev->e);
    if (r->n == 0) {
        qti_value_free(r);
        r = NULL;
    }
    *out = r;
    return 0;
}

static int eval_logic(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    size_t ntrue = 0, nfalse = 0, nnull = 0;
    for (size_t i = 0; i < x->nargs; i++) {
        struct qti_value *v = NULL;
        int rc = expr_eval(ev, x->args[i], &v);
        if (rc < 0)
            return rc;
        char b1[80];
        if (qti_value_is_null(v))
            nnull++;
        else if (!is_single(v, QTI_BT_BOOLEAN)) {
            rc = expr_fail(ev, x, "sub-expression %zu must be a single boolean, not %s", i + 1,
                           card_type(v, b1, sizeof b1));
            qti_value_free(v);
            return rc;
        } else if (v->items[0].u.b)
            ntrue++;
        else
            nfalse++;
        qti_value_free(v);
        /* false decides `and`, true decides `or` */
        if ((x->op == QTI_OP_AND && nfalse) || (x->op == QTI_OP_OR && ntrue))
            break;
    }
    if (x->op == QTI_OP_AND) {
        if (!nfalse && !nnull)
            *out = qti_value_boolean(true);
        else if (nfalse)
            *out = qti_value_boolean(false);
        return 0;
    }
    if (x->op == QTI_OP_OR) {
        if (ntrue)
            *out = qti_value_boolean(true);
        else if (!nnull)
            *out = qti_value_boolean(false);
        return 0;
    }
    if (x->op == QTI_OP_NOT) {
        if (!nnull)
            *out = qti_value_boolean(nfalse == 1);
        return 0;
    }
    /* anyN */
    double lo, hi;
    bool n1, n2;
    int rc;
    if ((rc = expr_resolve_ref(ev, x, &x->a, 'i', &lo, NULL, &n1)) < 0 ||
        (rc = expr_resolve_ref(ev, x, &x->b, 'i', &hi, NULL, &n2)) < 0)
        return rc;
    if (n1 || n2)
        return 0;
    double n = (double)x->nargs;
    if ((double)nfalse > n - lo || (double)ntrue > hi)
        *out = qti_value_boolean(false);
    else if ((double)ntrue >= lo && (double)(ntrue + nnull) <= hi)
        *out = qti_value_boolean(true);
    return 0; /* otherwise the NULLs decide: NULL */
}

static int eval_compare(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                        struct qti_value **out)
{
    char b1[80], b2[80];
    if (any_null(v, 2))
        return 0;
    bool dur = x->op == QTI_OP_DURATION_LT || x->op == QTI_OP_DURATION_GTE;
    bool ok = dur ? is_single(v[0], QTI_BT_DURATION) && is_single(v[1], QTI_BT_DURATION)
                  : is_num_single(v[0]) && is_num_single(v[1]);
    if (!ok)
        return expr_fail(ev, x, "needs two single %s (got %s and %s)",
                         dur ? "durations" : "numbers", card_type(v[0], b1, sizeof b1),
                         card_type(v[1], b2, sizeof b2));
    double a = num_of(v[0]), b = num_of(v[1]);
    if (dur) {
        a = v[0]->items[0].u.f;
        b = v[1]->items[0].u.f;
    }
    /* compare integers exactly (doubles lose precision above 2^53) */
    int c;
    if (v[0]->type == QTI_BT_INTEGER && v[1]->type == QTI_BT_INTEGER)
        c = v[0]->items[0].u.i < v[1]->items[0].u.i ? -1 : v[0]->items[0].u.i > v[1]->items[0].u.i;
    else
        c = a < b ? -1 : a > b;
    bool r;
    switch (x->op) {
    case QTI_OP_LT:
    case QTI_OP_DURATION_LT:
        r = c < 0;
        break;
    case QTI_OP_GT:
        r = c > 0;
        break;
    case QTI_OP_LTE:
        r = c <= 0;
        break;
    default: /* gte, durationGTE */
        r = c >= 0;
        break;
    }
    if (isnan(a) || isnan(b))
        return 0;
    *out = qti_value_boolean(r);
    return 0;
}

static int eval_equal(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                      struct qti_value **out)
{
    char b1[80], b2[80];
    if (any_null(v, 2))
        return 0;
    if (!is_num_single(v[0]) || !is_num_single(v[1]))
        return expr_fail(ev, x, "needs two single numbers (got %s and %s)",
                         card_type(v[0], b1, sizeof b1), card_type(v[1], b2, sizeof b2));
    double a = num_of(v[0]), b = num_of(v[1]);
    if (x->op == QTI_OP_EQUAL_ROUNDED) {
        double f;
        bool isnull;
        int rc = expr_resolve_ref(ev, x, &x->a, 'i', &f, NULL, &isnull);
        if (rc < 0 || isnull)
            return rc;
        double ra, rb;
        if (expr_round_figures(a, x->sub, (int64_t)f, &ra) < 0 ||
            expr_round_figures(b, x->sub, (int64_t)f, &rb) < 0)
            return expr_fail(ev, x, "figures %g is out of range for %s", f,
                             expr_rounding_names[x->sub]);
        *out = qti_value_boolean(ra == rb);
        return 0;
    }
    if (x->sub == QTI_TOL_EXACT) {
        if (v[0]->type == QTI_BT_INTEGER && v[1]->type == QTI_BT_INTEGER)
            *out = qti_value_boolean(v[0]->items[0].u.i == v[1]->items[0].u.i);
        else
            *out = qti_value_boolean(a == b);
        return 0;
    }
    double t0, t1;
    bool n0, n1 = false;
    int rc = expr_resolve_ref(ev, x, &x->a, 'f', &t0, NULL, &n0);
    if (rc < 0)
        return rc;
    t1 = t0;
    if (x->b.present && (rc = expr_resolve_ref(ev, x, &x->b, 'f', &t1, NULL, &n1)) < 0)
        return rc;
    if (n0 || n1)
        return 0;
    /* QTI 2.1: the range is defined by the first value x, [x-t0, x+t1] (absolute) or
     * [x*(1-t0/100), x*(1+t1/100)] (relative), and the second value y must lie in it. For a
     * negative x the relative bounds come out reversed; they are put in order (the
     * specification does not say, and an empty range would make every answer wrong). */
    double lo, hi;
    if (x->sub == QTI_TOL_ABSOLUTE) {
        lo = a - t0;
        hi = a + t1;
    } else {
        lo = a * (1 - t0 / 100);
        hi = a * (1 + t1 / 100);
        if (lo > hi) {
            double t = lo;
            lo = hi;
            hi = t;
        }
    }
    bool ok = (x->include_lower ? b >= lo : b > lo) && (x->include_upper ? b <= hi : b < hi);
    *out = qti_value_boolean(ok);
    return 0;
}

/* sum and product: QTI 2.1 lets their arguments be containers too (for testVariables). */
static int eval_sum_product(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                            struct qti_value **out)
{
    char b1[80];
    bool all_int = true;
    for (size_t i = 0; i < x->nargs; i++) {
        if (qti_value_is_null(v[i]))
            continue;
        if (v[i]->card == QTI_CARD_RECORD || !is_numeric(v[i]->type))
            return expr_fail(ev, x, "sub-expression %zu must be numbers, not %s", i + 1,
                             card_type(v[i], b1, sizeof b1));
        all_int = all_int && v[i]->type == QTI_BT_INTEGER;
    }
    if (any_null(v, x->nargs))
        return 0;
    bool sum = x->op == QTI_OP_SUM;
    int64_t iacc = sum ? 0 : 1;
    double facc = sum ? 0 : 1;
    for (size_t i = 0; i < x->nargs; i++)
        for (size_t k = 0; k < v[i]->n; k++) {
            if (all_int) {
                int64_t y = v[i]->items[k].u.i;
                if (sum ? __builtin_add_overflow(iacc, y, &iacc)
                        : __builtin_mul_overflow(iacc, y, &iacc))
                    return 0;
            } else {
                double y = scalar_num(&v[i]->items[k]);
                facc = sum ? facc + y : facc * y;
            }
        }
    *out = all_int ? int_or_null(iacc) : float_or_null(facc);
    return 0;
}

static int eval_arith(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                      struct qti_value **out)
{
    char b1[80];
    if (x->op == QTI_OP_SUM || x->op == QTI_OP_PRODUCT)
        return eval_sum_product(ev, x, v, out);
    for (size_t i = 0; i < x->nargs; i++)
        if (!qti_value_is_null(v[i]) && !is_num_single(v[i]))
            return expr_fail(ev, x, "sub-expression %zu must be a single number, not %s", i + 1,
                             card_type(v[i], b1, sizeof b1));
    if (any_null(v, x->nargs))
        return 0;
    bool all_int = true;
    for (size_t i = 0; i < x->nargs; i++)
        all_int = all_int && v[i]->type == QTI_BT_INTEGER;
    switch (x->op) {
    case QTI_OP_SUBTRACT: {
        if (all_int) {
            int64_t acc;
            if (__builtin_sub_overflow(v[0]->items[0].u.i, v[1]->items[0].u.i, &acc))
                return 0;
            *out = int_or_null(acc);
            return 0;
        }
        *out = float_or_null(num_of(v[0]) - num_of(v[1]));
        return 0;
    }
    case QTI_OP_DIVIDE: {
        double b = num_of(v[1]);
        if (b == 0)
            return 0;
        *out = float_or_null(num_of(v[0]) / b);
        return 0;
    }
    case QTI_OP_POWER:
        *out = float_or_null(pow(num_of(v[0]), num_of(v[1])));
        return 0;
    case QTI_OP_INTEGER_DIVIDE:
    case QTI_OP_INTEGER_MODULUS: {
        if (!all_int)
            return expr_fail(ev, x, "needs two integers");
        int64_t a = v[0]->items[0].u.i, b = v[1]->items[0].u.i;
        if (b == 0 || (a == INT64_MIN && b == -1))
            return 0;
        /* QTI: rounded down, so -7 / 2 = -4 and -7 mod 2 = 1 */
        int64_t q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0)))
            q--;
        *out = int_or_null(x->op == QTI_OP_INTEGER_DIVIDE ? q : a - q * b);
        return 0;
    }
    default:
        return expr_fail(ev, x, "internal: not an arithmetic operator");
    }
}

static int eval_unary_num(const struct ev *ev, const struct qti_expr *x, struct qti_value *v,
                          struct qti_value **out)
{
    char b1[80];
    if (qti_value_is_null(v))
        return 0;
    if (!is_num_single(v))
        return expr_fail(ev, x, "needs a single number, not %s", card_type(v, b1, sizeof b1));
    double d = num_of(v);
    switch (x->op) {
    case QTI_OP_INTEGER_TO_FLOAT:
        if (v->type != QTI_BT_INTEGER)
            return expr_fail(ev, x, "needs a single integer, not %s", card_type(v, b1, sizeof b1));
        *out = qti_value_float(d);
        return 0;
    case QTI_OP_TRUNCATE:
        if (v->type == QTI_BT_INTEGER)
            return qti_value_copy(v, out);
        *out = int_from_double(trunc(d));
        return 0;
    case QTI_OP_ROUND:
        if (v->type == QTI_BT_INTEGER)
            return qti_value_copy(v, out);
        /* [n - 0.5, n + 0.5) rounds to n: -6.5 gives -6 */
        *out = int_from_double(floor(d + 0.5));
        return 0;
    case QTI_OP_ROUND_TO: {
        double f, r;
        bool isnull;
        int rc = expr_resolve_ref(ev, x, &x->a, 'i', &f, NULL, &isnull);
        if (rc < 0 || isnull)
            return rc;
        if (expr_round_figures(d, x->sub, (int64_t)f, &r) < 0)
            return expr_fail(ev, x, "figures %g is out of range for %s", f,
                             expr_rounding_names[x->sub]);
        *out = float_or_null(r);
        return 0;
    }
    default:
        return expr_fail(ev, x, "internal: not a unary operator");
    }
}

/* max, min, gcd, lcm, statsOperator: numbers from single or container values. QTI says a
 * NULL or a non-numeric argument makes the result NULL. */
static int eval_aggregate(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                          struct qti_value **out)
{
    size_t total = 0;
    bool all_int = true;
    for (size_t i = 0; i < x->nargs; i++) {
        if (qti_value_is_null(v[i]) || v[i]->card == QTI_CARD_RECORD || !is_numeric(v[i]->type))
            return 0;
        if (x->op == QTI_OP_STATS_OPERATOR && !is_container(v[i]))
            return 0;
        all_int = all_int && v[i]->type == QTI_BT_INTEGER;
        total += v[i]->n;
    }
    if (total == 0)
        return 0;
    if ((x->op == QTI_OP_GCD || x->op == QTI_OP_LCM) && !all_int)
        return 0;
    if (x->op == QTI_OP_MAX || x->op == QTI_OP_MIN) {
        bool max = x->op == QTI_OP_MAX;
        const struct qti_scalar *best = NULL;
        for (size_t i = 0; i < x->nargs; i++)
            for (size_t k = 0; k < v[i]->n; k++) {
                const struct qti_scalar *s = &v[i]->items[k];
                if (isnan(scalar_num(s)))
                    return 0;
                bool better;
                if (!best)
                    better = true;
                else if (all_int)
                    better = max ? s->u.i > best->u.i : s->u.i < best->u.i;
                else
                    better =
                        max ? scalar_num(s) > scalar_num(best) : scalar_num(s) < scalar_num(best);
                if (better)
                    best = s;
            }
        *out = all_int ? qti_value_integer(best->u.i) : float_or_null(scalar_num(best));
        return 0;
    }
    if (x->op == QTI_OP_GCD || x->op == QTI_OP_LCM) {
        uint64_t acc = x->op == QTI_OP_GCD ? 0 : 1;
        for (size_t i = 0; i < x->nargs; i++)
            for (size_t k = 0; k < v[i]->n; k++) {
                int64_t si = v[i]->items[k].u.i;
                uint64_t n = si < 0 ? (uint64_t)0 - (uint64_t)si : (uint64_t)si;
                if (x->op == QTI_OP_LCM && n == 0) {
                    *out = qti_value_integer(0);
                    return 0;
                }
                uint64_t a = acc, b = n;
                while (b) {
                    uint64_t t = a % b;
                    a = b;
                    b = t;
                }
                if (x->op == QTI_OP_GCD)
                    acc = a;
                else if (__builtin_mul_overflow(acc / a, n, &acc))
                    return 0;
            }
        if (acc > (uint64_t)QTI_INT_MAX)
            return 0;
        *out = qti_value_integer((int64_t)acc);
        return 0;
    }
    /* statsOperator */
    double sum = 0, n = (double)total;
    for (size_t k = 0; k < v[0]->n; k++)
        sum += scalar_num(&v[0]->items[k]);
    double mean = sum / n;
    if (x->sub == QTI_STATS_MEAN) {
        *out = float_or_null(mean);
        return 0;
    }
    double ss = 0;
    for (size_t k = 0; k < v[0]->n; k++) {
        double d = scalar_num(&v[0]->items[k]) - mean;
        ss += d * d;
    }
    bool sample = x->sub == QTI_STATS_SAMPLE_VARIANCE || x->sub == QTI_STATS_SAMPLE_SD;
    if (sample && total < 2)
        return 0;
    double var = ss / (sample ? n - 1 : n);
    bool sd = x->sub == QTI_STATS_SAMPLE_SD || x->sub == QTI_STATS_POP_SD;
    *out = float_or_null(sd ? sqrt(var) : var);
    return 0;
}

static int eval_math(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                     struct qti_value **out)
{
    char b1[80];
    for (size_t i = 0; i < x->nargs; i++) {
        if (qti_value_is_null(v[i]))
            return 0;
        if (!is_num_single(v[i]))
            return expr_fail(ev, x, "%s needs single numbers, not %s", expr_math_names[x->sub],
                             card_type(v[i], b1, sizeof b1));
    }
    double a = num_of(v[0]), r;
    switch ((enum qti_math_fn)x->sub) {
    case QTI_MATH_SIN:
        r = sin(a);
        break;
    case QTI_MATH_COS:
        r = cos(a);
        break;
    case QTI_MATH_TAN:
        r = tan(a);
        break;
    case QTI_MATH_SEC:
        r = 1 / cos(a);
        break;
    case QTI_MATH_CSC:
        r = 1 / sin(a);
        break;
    case QTI_MATH_COT:
        r = 1 / tan(a);
        break;
    case QTI_MATH_ASIN:
        r = asin(a);
        break;
    case QTI_MATH_ACOS:
        r = acos(a);
        break;
    case QTI_MATH_ATAN:
        r = atan(a);
        break;
    case QTI_MATH_ATAN2:
        r = atan2(a, num_of(v[1]));
        break;
    case QTI_MATH_ASEC:
        r = acos(1 / a);
        break;
    case QTI_MATH_ACSC:
        r = asin(1 / a);
        break;
    case QTI_MATH_ACOT:
        r = a == 0 ? M_PI / 2 : atan(1 / a);
        break;
    case QTI_MATH_SINH:
        r = sinh(a);
        break;
    case QTI_MATH_COSH:
        r = cosh(a);
        break;
    case QTI_MATH_TANH:
        r = tanh(a);
        break;
    case QTI_MATH_SECH:
        r = 1 / cosh(a);
        break;
    case QTI_MATH_CSCH:
        r = 1 / sinh(a);
        break;
    case QTI_MATH_COTH:
        r = 1 / tanh(a);
        break;
    case QTI_MATH_LOG:
        r = a > 0 ? log10(a) : NAN;
        break;
    case QTI_MATH_LN:
        r = a > 0 ? log(a) : NAN;
        break;
    case QTI_MATH_EXP:
        r = exp(a);
        break;
    case QTI_MATH_ABS:
        if (v[0]->type == QTI_BT_INTEGER) {
            int64_t i = v[0]->items[0].u.i;
            *out = i == INT64_MIN ? NULL : int_or_null(i < 0 ? -i : i);
            return 0;
        }
        r = fabs(a);
        break;
    case QTI_MATH_TO_DEGREES:
        r = a * 180.0 / M_PI;
        break;
    case QTI_MATH_TO_RADIANS:
        r = a * M_PI / 180.0;
        break;
    case QTI_MATH_SIGNUM:
        if (isnan(a))
            return 0;
        *out = qti_value_integer(a > 0 ? 1 : a < 0 ? -1 : 0);
        return 0;
    case QTI_MATH_FLOOR:
        *out = int_from_double(floor(a));
        return 0;
    case QTI_MATH_CEIL:
        *out = int_from_double(ceil(a));
        return 0;
    default:
        return expr_fail(ev, x, "internal: unknown function");
    }
    *out = float_or_null(r);
    return 0;
}

static int eval_strings(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                        struct qti_value **out)
{
    char b1[80];
    for (size_t i = 0; i < x->nargs; i++) {
        if (qti_value_is_null(v[i]))
            return 0;
        if (v[i]->card != QTI_CARD_SINGLE || !text_type(v[i]->type))
            return expr_fail(ev, x, "needs single strings, not %s", card_type(v[i], b1, sizeof b1));
    }
    const char *a = v[0]->items[0].u.s;
    if (x->op == QTI_OP_PATTERN_MATCH) {
        const char *pattern = NULL, *why = NULL;
        bool isnull, matched = false;
        int rc = expr_resolve_ref(ev, x, &x->a, 's', NULL, &pattern, &isnull);
        if (rc < 0 || isnull)
            return rc;
        if (qti_pattern_match(pattern, a, &matched, &why) < 0)
            return expr_fail(ev, x, "pattern \"%.100s\" %s", pattern, why);
        *out = qti_value_boolean(matched);
        return 0;
    }
    const char *b = v[1]->items[0].u.s;
    bool r;
    if (x->op == QTI_OP_SUBSTRING) /* the first is a substring of the second */
        r = find_sub(b, a, x->case_sensitive) != NULL;
    else if (x->substring) /* deprecated stringMatch substring="true": first contains second */
        r = find_sub(a, b, x->case_sensitive) != NULL;
    else
        r = x->case_sensitive ? strcmp(a, b) == 0 : strcasecmp(a, b) == 0;
    *out = qti_value_boolean(r);
    return 0;
}

static int eval_single_arg(const struct ev *ev, const struct qti_expr *x, struct qti_value *v,
                           struct qti_value **out)
{
    char b1[80];
    switch (x->op) {
    case QTI_OP_IS_NULL:
        *out = qti_value_boolean(qti_value_is_null(v));
        return 0;
    case QTI_OP_CONTAINER_SIZE:
        if (qti_value_is_null(v)) {
            *out = qti_value_integer(0);
            return 0;
        }
        if (!is_container(v))
            return expr_fail(ev, x, "needs a multiple or ordered container, not %s",
                             card_type(v, b1, sizeof b1));
        *out = qti_value_integer((int64_t)v->n);
        return 0;
    case QTI_OP_INDEX: {
        if (qti_value_is_null(v))
            return 0;
        if (v->card != QTI_CARD_ORDERED)
            return expr_fail(ev, x, "needs an ordered container, not %s",
                             card_type(v, b1, sizeof b1));
        double n;
        bool isnull;
        int rc = expr_resolve_ref(ev, x, &x->a, 'i', &n, NULL, &isnull);
        if (rc < 0 || isnull)
            return rc;
        if (n < 1 || n > (double)v->n)
            return 0;
        *out = qti_value_single(&v->items[(size_t)n - 1]);
        return 0;
    }
    case QTI_OP_FIELD_VALUE:
        if (qti_value_is_null(v))
            return 0;
        if (v->card != QTI_CARD_RECORD)
            return expr_fail(ev, x, "needs a record, not %s", card_type(v, b1, sizeof b1));
        return qti_value_copy(qti_value_record_get(v, x->identifier), out);
    case QTI_OP_RANDOM:
        if (qti_value_is_null(v))
            return 0;
        if (v->card == QTI_CARD_RECORD)
            return expr_fail(ev, x, "needs a container, not a record");
        if (!ev->ops->random)
            return expr_fail(ev, x, "randomness is not available here");
        *out = qti_value_single(&v->items[qti_random_below(ev->ops, ev->ud, v->n)]);
        return 0;
    case QTI_OP_INSIDE: {
        if (qti_value_is_null(v))
            return 0;
        if (v->card == QTI_CARD_RECORD || v->type != QTI_BT_POINT)
            return expr_fail(ev, x, "needs points, not %s", card_type(v, b1, sizeof b1));
        bool in = false;
        for (size_t i = 0; i < v->n && !in; i++)
            in = qti_shape_contains((enum qti_shape)x->sub, x->coords, x->ncoords,
                                    (double)v->items[i].u.point.x, (double)v->items[i].u.point.y);
        *out = qti_value_boolean(in);
        return 0;
    }
    default:
        return eval_unary_num(ev, x, v, out);
    }
}

static int eval_match(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                      struct qti_value **out)
{
    char b1[80], b2[80];
    if (any_null(v, 2))
        return 0;
    if (v[0]->card != v[1]->card || v[0]->type != v[1]->type)
        return expr_fail(ev, x,
                         "sub-expressions must have the same cardinality and base type (got "
                         "%s and %s)",
                         card_type(v[0], b1, sizeof b1), card_type(v[1], b2, sizeof b2));
    *out = qti_value_boolean(qti_value_equal(v[0], v[1]));
    return 0;
}

static int eval_leaf(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    const struct qti_decl *d;
    switch (x->op) {
    case QTI_OP_BASE_VALUE:
        return qti_value_copy(x->value, out);
    case QTI_OP_VARIABLE:
        return eval_variable(ev, x, out);
    case QTI_OP_DEFAULT:
        if (!(d = need_decl(ev, x, x->identifier)))
            return ev->e->code;
        return qti_value_copy(d->default_value, out);
    case QTI_OP_CORRECT:
        if (!(d = need_decl(ev, x, x->identifier)))
            return ev->e->code;
        if (d->kind == QTI_DECL_OUTCOME)
            return expr_fail(ev, x, "%s is an outcome variable: it has no correct response",
                             x->identifier);
        return qti_value_copy(d->correct_response, out);
    case QTI_OP_MAP_RESPONSE:
    case QTI_OP_MAP_RESPONSE_POINT:
        return eval_map(ev, x, out);
    case QTI_OP_MATH_CONSTANT:
        *out = qti_value_float(x->sub == QTI_CONST_PI ? M_PI : M_E);
        return 0;
    case QTI_OP_NULL:
        return 0;
    case QTI_OP_RANDOM_INTEGER:
    case QTI_OP_RANDOM_FLOAT:
        return eval_random_number(ev, x, out);
    default:
        return expr_eval_subset(ev, x, out);
    }
}

int expr_eval(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    *out = NULL;
    if (*ev->steps == 0)
        return expr_fail(ev, x, "evaluation over %d steps: the rules loop or are too big",
                         QTI_EXPR_MAX_STEPS);
    (*ev->steps)--;
    if (x->op <= QTI_OP_OUTCOME_MINIMUM)
        return eval_leaf(ev, x, out);
    switch (x->op) {
    case QTI_OP_MULTIPLE:
    case QTI_OP_ORDERED:
    case QTI_OP_REPEAT:
        return eval_container(ev, x, out);
    case QTI_OP_AND:
    case QTI_OP_OR:
    case QTI_OP_NOT:
    case QTI_OP_ANY_N:
        return eval_logic(ev, x, out);
    default:
        break;
    }
    struct qti_value **v;
    int rc = expr_eval_all(ev, x, &v);
    if (rc < 0)
        return rc;
    switch (x->op) {
    case QTI_OP_MEMBER:
    case QTI_OP_DELETE:
    case QTI_OP_CONTAINS:
        rc = eval_containers2(ev, x, v, out);
        break;
    case QTI_OP_SUBSTRING:
    case QTI_OP_STRING_MATCH:
    case QTI_OP_PATTERN_MATCH:
        rc = eval_strings(ev, x, v, out);
        break;
    case QTI_OP_MATCH:
        rc = eval_match(ev, x, v, out);
        break;
    case QTI_OP_EQUAL:
    case QTI_OP_EQUAL_ROUNDED:
        rc = eval_equal(ev, x, v, out);
        break;
    case QTI_OP_LT:
    case QTI_OP_GT:
    case QTI_OP_LTE:
    case QTI_OP_GTE:
    case QTI_OP_DURATION_LT:
    case QTI_OP_DURATION_GTE:
        rc = eval_compare(ev, x, v, out);
        break;
    case QTI_OP_SUM:
    case QTI_OP_PRODUCT:
    case QTI_OP_SUBTRACT:
    case QTI_OP_DIVIDE:
    case QTI_OP_POWER:
    case QTI_OP_INTEGER_DIVIDE:
    case QTI_OP_INTEGER_MODULUS:
        rc = eval_arith(ev, x, v, out);
        break;
    case QTI_OP_MAX:
    case QTI_OP_MIN:
    case QTI_OP_GCD:
    case QTI_OP_LCM:
    case QTI_OP_STATS_OPERATOR:
        rc = eval_aggregate(ev, x, v, out);
        break;
    case QTI_OP_MATH_OPERATOR:
        rc = eval_math(ev, x, v, out);
        break;
    default:
        rc = eval_single_arg(ev, x, v[0], out);
        break;
    }
    free_all(v, x->nargs);
    if (rc < 0) {
        qti_value_free(*out);
        *out = NULL;
    }
    return rc;
}
