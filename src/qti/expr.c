/* expr.c - stub, being implemented */
#include "qti/expr.h"

const char *qti_op_name(enum qti_op op)
{
    return NULL;
}
int qti_op_from_name(const char *name)
{
    return 0;
}
int qti_expr_parse(xmlNode *node, struct qti_expr **out, struct op_err *e)
{
    return -1;
}
int qti_expr_parse_budget(xmlNode *node, int depth, size_t *budget, struct qti_expr **out,
                          struct op_err *e)
{
    return -1;
}
void qti_expr_free(struct qti_expr *x) {}
json_t *qti_expr_to_json(const struct qti_expr *x)
{
    return NULL;
}
int qti_expr_from_json(const json_t *j, struct qti_expr **out, struct op_err *e)
{
    return -1;
}
int qti_expr_from_json_budget(const json_t *j, int depth, size_t *budget, struct qti_expr **out,
                              struct op_err *e)
{
    return -1;
}
int qti_expr_eval(const struct qti_expr *x, const struct qti_eval_ops *ops, void *ud,
                  struct qti_value **out, struct op_err *e)
{
    return -1;
}
int qti_expr_eval_budget(const struct qti_expr *x, const struct qti_eval_ops *ops, void *ud,
                         size_t *steps, struct qti_value **out, struct op_err *e)
{
    return -1;
}
double qti_random_unit(uint64_t r)
{
    return 0;
}
uint64_t qti_random_below(const struct qti_eval_ops *ops, void *ud, uint64_t n)
{
    return 0;
}
