/* rules.c - stub, being implemented */
#include "qti/rules.h"

int qti_rules_parse(xmlNode *node, struct qti_rules **out, struct op_err *e)
{
    return -1;
}
int qti_rules_standard_template(const char *uri, struct qti_rules **out, struct op_err *e)
{
    return -1;
}
const char *qti_rules_template_name(const char *uri)
{
    return NULL;
}
void qti_rules_free(struct qti_rules *r) {}
json_t *qti_rules_to_json(const struct qti_rules *r)
{
    return NULL;
}
int qti_rules_from_json(const json_t *j, struct qti_rules **out, struct op_err *e)
{
    return -1;
}
int qti_rules_run(const struct qti_rules *r, const struct qti_eval_ops *ops, void *ud,
                  qti_set_fn set, enum qti_run_end *end, struct op_err *e)
{
    return -1;
}
int qti_rules_run_template(const struct qti_rules *r, const struct qti_eval_ops *ops, void *ud,
                           qti_set_fn set, qti_reset_fn reset, struct op_err *e)
{
    return -1;
}
