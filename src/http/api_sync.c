/*
 * api_sync.c - the sync manager's endpoints on a device (docs/api.md, "Sync manager"): the
 * big button (POST /api/v1/sync), its live progress (GET /api/v1/sync), the history of syncs
 * (GET /api/v1/sync/history) and the readiness panel (GET /api/v1/readiness). Each needs a
 * sync manager's web session (and its CSRF token on the POST); a test taker or a proctor is
 * refused 403. The sync itself runs in the server's background thread (sync/bg.h), with the
 * same code and lock as `outpost sync`.
 */
#include "app/readiness.h"
#include "app/sync_history.h"
#include "http/api.h"
#include "http/websession.h"
#include "sync/bg.h"

/* A sync manager's session, on a device. */
static int sync_manager(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    const struct web_user *u;
    int rc = websession_require(req, res, WEB_ROLE_SYNC_MANAGER, &u, e);
    if (rc != 0)
        return rc;
    if (!req->sync_bg)
        return err_set(e, OP_ENOTFOUND, "this is central: syncs are started on a device");
    return 0;
}

int api_sync_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    int rc = sync_manager(req, res, e);
    if (rc != 0)
        return rc;
    struct sync_bg_progress p;
    int started = 0;
    if ((rc = sync_bg_start(req->sync_bg, req->inst, &p, &started, e)) != 0)
        return rc;
    return http_response_json(
        res, started ? 202 : 200,
        json_pack("{s:o, s:b}", "sync", sync_bg_progress_json(&p), "already_running", !started));
}

int api_sync_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    int rc = sync_manager(req, res, e);
    if (rc != 0)
        return rc;
    struct sync_bg_progress p;
    if ((rc = sync_bg_read(req->sync_bg, req->inst, &p, e)) != 0)
        return rc;
    return http_response_json(res, 200, json_pack("{s:o}", "sync", sync_bg_progress_json(&p)));
}

int api_sync_history_get(const struct http_request *req, struct http_response *res,
                         struct op_err *e)
{
    int rc = sync_manager(req, res, e);
    if (rc != 0)
        return rc;
    int64_t limit;
    if ((rc = api_query_int64(req, "limit", 1, 1000, SYNC_HISTORY_DEFAULT, &limit, e)) != 0)
        return rc;
    json_t *runs = NULL;
    if ((rc = app_sync_history(req->inst, NULL, (int)limit, &runs, e)) != 0)
        return rc;
    return http_response_json(res, 200, json_pack("{s:o}", "runs", runs));
}

int api_readiness_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    int rc = sync_manager(req, res, e);
    if (rc != 0)
        return rc;
    struct app_readiness r;
    if ((rc = app_readiness_read(req->inst, NULL, &r, e)) != 0)
        return rc;
    json_t *doc = app_readiness_json(&r);
    app_readiness_clear(&r);
    return http_response_json(res, 200, doc);
}
