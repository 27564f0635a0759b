/*
 * expr_internal.h - the evaluator's inside, shared by expr_eval.c (context, helpers, the
 * test-level operators over item subsets, the entry points) and expr_ops.c (the operators
 * and the dispatcher). Nothing outside src/qti/expr*.c includes this.
 */
#ifndef OUTPOST_QTI_EXPR_INTERNAL_H
#define OUTPOST_QTI_EXPR_INTERNAL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "qti/expr.h"

/* One evaluation: the caller's variables and random stream, and the step budget. */
struct ev {
    const struct qti_eval_ops *ops;
    void *ud;
    size_t *steps;
    struct op_err *e;
};

/* Fills ev->e with "line N: OPERATOR: message" and returns its code (negative). */
int expr_fail(const struct ev *ev, const struct qti_expr *x, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Evaluates x (the dispatcher, expr_ops.c); *out is new, or NULL for a NULL value. */
int expr_eval(const struct ev *ev, const struct qti_expr *x, struct qti_value **out);

/* Evaluates every sub-expression; on success *out holds nargs values (owned, NULLs kept). */
int expr_eval_all(const struct ev *ev, const struct qti_expr *x, struct qti_value ***out);

/* Resolves a reference attribute to a number ('i' or 'f') or a string ('s', *str borrowed). */
int expr_resolve_ref(const struct ev *ev, const struct qti_expr *x, const struct qti_ref *r,
                     char kind, double *num, const char **str, bool *is_null);

/* Rounds half up to `places` decimal places (see expr_eval.c). */
double expr_round_places(double v, int places);

/* roundTo / equalRounded: `figures` significant figures or decimal places; -1 if invalid. */
int expr_round_figures(double v, int mode, int64_t figures, double *out);

/* The test-level operators over item subsets (testVariables, outcomeMaximum, ...). */
int expr_eval_subset(const struct ev *ev, const struct qti_expr *x, struct qti_value **out);

/* The names of mathOperator's and roundTo's modes, by enum value (expr.c). */
extern const char *const expr_math_names[];
extern const char *const expr_rounding_names[];

/* The weight `wid` of item ref `ref` for testVariables and outcomeMaximum; 1.0 (and
 * *weighted false) when the item ref does not define it. */
double expr_item_weight(const struct ev *ev, const char *ref, const char *wid, bool *weighted);

/* ---- small helpers ---- */

static inline bool is_numeric(enum qti_base_type t)
{
    return t == QTI_BT_INTEGER || t == QTI_BT_FLOAT;
}

static inline bool is_single(const struct qti_value *v, enum qti_base_type t)
{
    return v && v->card == QTI_CARD_SINGLE && v->type == t;
}

static inline bool is_num_single(const struct qti_value *v)
{
    return v && v->card == QTI_CARD_SINGLE && is_numeric(v->type);
}

static inline bool is_container(const struct qti_value *v)
{
    return v && (v->card == QTI_CARD_MULTIPLE || v->card == QTI_CARD_ORDERED);
}

static inline double scalar_num(const struct qti_scalar *s)
{
    return s->type == QTI_BT_INTEGER ? (double)s->u.i : s->u.f;
}

static inline double num_of(const struct qti_value *v)
{
    return scalar_num(&v->items[0]);
}

/* A float result; NULL when it is not finite (QTI: values outside the float value set). */
static inline struct qti_value *float_or_null(double d)
{
    return isfinite(d) ? qti_value_float(d) : NULL;
}

/* An integer result from a double that must be whole; NULL if it does not fit. */
/* An integer result, or NULL when it falls outside the 32-bit range of a QTI integer. */
static inline struct qti_value *int_or_null(int64_t i)
{
    if (i < QTI_INT_MIN || i > QTI_INT_MAX)
        return NULL;
    return qti_value_integer(i);
}

static inline struct qti_value *int_from_double(double d)
{
    if (!isfinite(d) || d > (double)QTI_INT_MAX || d < (double)QTI_INT_MIN)
        return NULL;
    return qti_value_integer((int64_t)d);
}

static inline const char *card_type(const struct qti_value *v, char *buf, size_t n)
{
    if (!v)
        return "NULL";
    if (v->card == QTI_CARD_RECORD)
        return "a record";
    snprintf(buf, n, "%s %s", qti_cardinality_name(v->card), qti_base_type_name(v->type));
    return buf;
}

static inline void free_all(struct qti_value **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        qti_value_free(v[i]);
    free(v);
}

static inline bool any_null(struct qti_value **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (qti_value_is_null(v[i]))
            return true;
    return false;
}

#endif
