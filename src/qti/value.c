/* value.c - stub, being implemented */
#include "qti/value.h"

enum qti_base_type qti_base_type_from_name(const char *name)
{
    return 0;
}
const char *qti_base_type_name(enum qti_base_type t)
{
    return NULL;
}
int qti_cardinality_from_name(const char *name, enum qti_cardinality *out)
{
    return 0;
}
const char *qti_cardinality_name(enum qti_cardinality c)
{
    return NULL;
}
struct qti_value *qti_value_boolean(bool b)
{
    return NULL;
}
struct qti_value *qti_value_integer(int64_t i)
{
    return NULL;
}
struct qti_value *qti_value_float(double f)
{
    return NULL;
}
struct qti_value *qti_value_duration(double seconds)
{
    return NULL;
}
struct qti_value *qti_value_text(enum qti_base_type t, const char *s)
{
    return NULL;
}
struct qti_value *qti_value_identifier(const char *s)
{
    return NULL;
}
struct qti_value *qti_value_string(const char *s)
{
    return NULL;
}
struct qti_value *qti_value_point(int64_t x, int64_t y)
{
    return NULL;
}
struct qti_value *qti_value_pair(enum qti_base_type t, const char *a, const char *b)
{
    return NULL;
}
struct qti_value *qti_value_single(const struct qti_scalar *s)
{
    return NULL;
}
struct qti_value *qti_value_container(enum qti_cardinality c, enum qti_base_type t)
{
    return NULL;
}
struct qti_value *qti_value_record(void)
{
    return NULL;
}
int qti_value_append(struct qti_value *v, const struct qti_scalar *s, struct op_err *e)
{
    return -1;
}
int qti_value_record_set(struct qti_value *v, const char *name, struct qti_value *field,
                         struct op_err *e)
{
    return -1;
}
const struct qti_value *qti_value_record_get(const struct qti_value *v, const char *name)
{
    return NULL;
}
int qti_value_copy(const struct qti_value *v, struct qti_value **out)
{
    return -1;
}
void qti_value_free(struct qti_value *v) {}
int qti_scalar_copy(struct qti_scalar *dst, const struct qti_scalar *src)
{
    return -1;
}
void qti_scalar_clear(struct qti_scalar *s) {}
bool qti_value_is_null(const struct qti_value *v)
{
    return false;
}
bool qti_value_equal(const struct qti_value *a, const struct qti_value *b)
{
    return false;
}
bool qti_scalar_equal(const struct qti_scalar *a, const struct qti_scalar *b)
{
    return false;
}
int qti_scalar_parse(enum qti_base_type t, const char *text, const char *what,
                     struct qti_scalar *out, struct op_err *e)
{
    return -1;
}
char *qti_scalar_format(const struct qti_scalar *s)
{
    return NULL;
}
int qti_value_from_json(enum qti_base_type t, enum qti_cardinality c, const json_t *j,
                        const char *name, struct qti_value **out, struct op_err *e)
{
    return -1;
}
json_t *qti_value_to_json(const struct qti_value *v)
{
    return NULL;
}
json_t *qti_value_to_typed_json(const struct qti_value *v)
{
    return NULL;
}
int qti_value_from_typed_json(const json_t *j, const char *name, struct qti_value **out,
                              struct op_err *e)
{
    return -1;
}
