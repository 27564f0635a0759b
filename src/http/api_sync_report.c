/*
 * api_sync_report.c - POST /api/v1/sync/report (bearer): what a device's sync did, recorded
 * for that device (app/sync_report.h; docs/protocol.md, "Sync report").
 */
#include "app/sync_report.h"
#include "http/api.h"

int api_sync_report_post(const struct http_request *req, struct http_response *res,
                         struct op_err *e)
{
    struct oauth_principal p;
    int rc = api_authenticate(req, res, &p, e);
    if (rc != 0)
        return rc;
    if ((rc = http_request_check_type(req, res, "application/json", e)) != 0)
        return rc;
    struct app_sync_report r;
    if ((rc = app_sync_report_parse(req->body, req->body_len, &r, e)) != 0)
        return rc;
    char run_id[UUID_STR_LEN];
    int64_t now = 0;
    rc = app_sync_report_record(req->inst, p.device_id, &r, run_id, &now, e);
    app_sync_report_free(&r);
    if (rc != 0)
        return rc;
    return http_response_json(
        res, 200, json_pack("{s:s, s:I}", "run_id", run_id, "server_time", (json_int_t)now));
}
