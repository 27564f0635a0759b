/* api_health.c - GET /api/v1/health: is this instance up, and what is it (see api.h). */
#include "app/health.h"
#include "http/api.h"

int api_health_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct app_health h;
    int rc = app_health_read(req->inst, &h, e);
    if (rc != 0)
        return rc;
    return http_response_json(res, 200, app_health_json(&h));
}
