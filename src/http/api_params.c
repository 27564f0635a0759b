/* api_params.c - reading the numbers of a query string for the handlers (see api.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "http/api.h"

int api_query_int64(const struct http_request *req, const char *name, int64_t min, int64_t max,
                    int64_t def, int64_t *out, struct op_err *e)
{
    const char *v = http_request_query(req, name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long n = (*v >= '0' && *v <= '9') ? strtoll(v, &end, 10) : 0;
    if (!end || *end != '\0' || errno != 0 || n < min || n > max)
        return err_set_field(e, OP_EINPUT, name,
                             "query parameter %s: a whole number from %" PRId64 " to %" PRId64
                             " is expected",
                             name, min, max);
    *out = (int64_t)n;
    return 0;
}
