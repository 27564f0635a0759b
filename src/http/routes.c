/*
 * routes.c - the route table of the JSON API: every endpoint of `outpost serve`, one line
 * each (method, path, prefix, handler). An endpoint is added here and in api.h, with its
 * handler in api_<topic>.c (docs/architecture.md, "The HTTP server").
 */
#include "http/api.h"

const struct http_route http_api_routes[] = {
    {"GET", "/api/v1/health", 0, api_health_get},
    {"POST", "/api/v1/enrol", 0, api_enrol_post},
    {"POST", "/api/v1/oauth/token", 0, api_oauth_token_post},
    {"GET", "/api/v1/changes", 0, api_changes_get},
    {NULL, NULL, 0, NULL},
};
