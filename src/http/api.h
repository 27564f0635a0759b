/*
 * api.h - the handlers of the JSON API under /api/v1, one line each, listed in routes.c.
 * A handler lives in api_<topic>.c and is a thin door into one operation of src/app
 * (server.h says what a handler may count on and must do).
 */
#ifndef OUTPOST_HTTP_API_H
#define OUTPOST_HTTP_API_H

#include "http/server.h"

/* GET /api/v1/health: {"status", "role", "version", "schema", "time"}; no authentication. */
int api_health_get(const struct http_request *req, struct http_response *res, struct op_err *e);

#endif
