/* decl.c - stub, being implemented */
#include "qti/decl.h"

int qti_shape_from_name(const char *name, enum qti_shape *out)
{
    return 0;
}
const char *qti_shape_name(enum qti_shape s)
{
    return NULL;
}
int qti_shape_parse_coords(enum qti_shape s, const char *text, const char *what, double **coords,
                           size_t *n, struct op_err *e)
{
    return -1;
}
bool qti_shape_contains(enum qti_shape s, const double *coords, size_t n, double x, double y)
{
    return false;
}
int qti_decl_parse(xmlNode *node, struct qti_decl **out, struct op_err *e)
{
    return -1;
}
struct qti_decl *qti_decl_new(enum qti_decl_kind kind, const char *identifier,
                              enum qti_cardinality card, enum qti_base_type type)
{
    return NULL;
}
int qti_decl_copy(const struct qti_decl *d, struct qti_decl **out)
{
    return -1;
}
void qti_decl_free(struct qti_decl *d) {}
json_t *qti_decl_to_json(const struct qti_decl *d, enum qti_decl_view view)
{
    return NULL;
}
int qti_decl_from_json(const json_t *j, struct qti_decl **out, struct op_err *e)
{
    return -1;
}
int qti_decl_map_response(const struct qti_decl *d, const struct qti_value *v, double *out,
                          struct op_err *e)
{
    return -1;
}
int qti_decl_map_response_point(const struct qti_decl *d, const struct qti_value *v, double *out,
                                struct op_err *e)
{
    return -1;
}
