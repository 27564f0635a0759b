/*
 * api_bo_devices.c - the backoffice's devices and sync history (docs/api.md, "Backoffice:
 * devices and sync history"): thin doors into app/bo_devices.h, which holds who may see what.
 *
 *   GET  /api/v1/admin/devices[?org_id=&after=&limit=]          the devices, by label
 *   GET  /api/v1/admin/devices/{id}                              one device and its newest runs
 *   POST /api/v1/admin/devices/{id}/revoke                       revoke it (no body)
 *   GET  /api/v1/admin/sync-runs[?device_id=&status=&from=&to=&after=&limit=]  the runs
 *   GET  /api/v1/admin/sync-runs/{id}                            one run and its report
 */
#include <string.h>

#include "app/backoffice.h"
#include "app/bo_devices.h"
#include "base/ids.h"
#include "http/api.h"

/* The id in req->path_rest before `suffix` ("" or "/revoke"), copied to id; OP_ENOTFOUND for any
 * other shape of path. */
static int path_id(const struct http_request *req, const char *suffix, char id[UUID_STR_LEN],
                   struct op_err *e)
{
    const char *rest = req->path_rest;
    size_t n = strlen(rest), s = strlen(suffix);
    if (n < s || strcmp(rest + n - s, suffix) != 0 || n - s == 0 || n - s >= UUID_STR_LEN ||
        memchr(rest, '/', n - s))
        return err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    memcpy(id, rest, n - s);
    id[n - s] = '\0';
    return 0;
}

/* The query parameter `name`, NULL when absent or empty (a form's empty filter). */
static const char *param(const struct http_request *req, const char *name)
{
    const char *v = http_request_query(req, name);
    return v && v[0] ? v : NULL;
}

/* Answers `doc` (or the error) after the caller is released. */
static int answer(struct http_response *res, struct bo_caller *who, int rc, json_t *doc)
{
    app_bo_caller_clear(who);
    if (rc != 0)
        return rc;
    return http_response_json(res, 200, doc);
}

int api_bo_devices_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    int64_t limit = 0;
    rc = api_query_int64(req, "limit", 1, BO_DEVICES_PAGE_MAX, BO_DEVICES_PAGE_DEFAULT, &limit, e);
    json_t *doc = NULL;
    if (rc == 0) {
        struct app_bo_devices_query q = {
            .org_id = param(req, "org_id"), .after = param(req, "after"), .limit = (int)limit};
        rc = app_bo_devices_list(req->inst, &who, &q, &doc, e);
    }
    return answer(res, &who, rc, doc);
}

int api_bo_device_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    char id[UUID_STR_LEN];
    json_t *doc = NULL;
    if ((rc = path_id(req, "", id, e)) != 0)
        return answer(res, &who, rc, NULL);
    rc = app_bo_device_get(req->inst, &who, id, &doc, e);
    return answer(res, &who, rc, doc);
}

int api_bo_device_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    char id[UUID_STR_LEN];
    json_t *doc = NULL;
    if ((rc = path_id(req, "/revoke", id, e)) != 0)
        return answer(res, &who, rc, NULL);
    if (req->body_len != 0)
        return answer(res, &who,
                      err_set_field(e, OP_EINPUT, "body", "revoking a device takes no body"), NULL);
    rc = app_bo_device_revoke(req->inst, &who, id, e);
    if (rc == 0)
        rc = app_bo_device_get(req->inst, &who, id, &doc, e);
    return answer(res, &who, rc, doc);
}

int api_bo_sync_runs_get(const struct http_request *req, struct http_response *res,
                         struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    int64_t limit = 0;
    rc = api_query_int64(req, "limit", 1, BO_RUNS_PAGE_MAX, BO_RUNS_PAGE_DEFAULT, &limit, e);
    json_t *doc = NULL;
    if (rc == 0) {
        struct app_bo_runs_query q = {.device_id = param(req, "device_id"),
                                      .status = param(req, "status"),
                                      .from = param(req, "from"),
                                      .to = param(req, "to"),
                                      .after = param(req, "after"),
                                      .limit = (int)limit};
        rc = app_bo_sync_runs_list(req->inst, &who, &q, &doc, e);
    }
    return answer(res, &who, rc, doc);
}

int api_bo_sync_run_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    char id[UUID_STR_LEN];
    json_t *doc = NULL;
    if ((rc = path_id(req, "", id, e)) != 0)
        return answer(res, &who, rc, NULL);
    rc = app_bo_sync_run_get(req->inst, &who, id, &doc, e);
    return answer(res, &who, rc, doc);
}
