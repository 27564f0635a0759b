/*
 * api_bo_deliveries.c - the backoffice's deliveries (docs/api.md, "Backoffice: deliveries"),
 * doors into app/bo_admin.h and app/import_jobs.h behind api_bo_caller:
 *
 *   GET  /api/v1/admin/deliveries                    {"deliveries"}
 *   GET  /api/v1/admin/deliveries/{id}               {"delivery", "versions"}
 *   POST /api/v1/admin/deliveries/{id}/publish       {"version"} -> {"delivery", "changed"}
 *   POST /api/v1/admin/deliveries/{id}/withdraw      {"version"} -> {"delivery", "changed"}
 *   POST /api/v1/admin/deliveries/upload?filename=&label=&proctored=&max_executions=
 *        the package's bytes (an upload route: streamed to a file, server.h) -> 202
 *        {"import"}; the import runs in the background
 *   GET  /api/v1/admin/imports/{id}                  {"import"}: its phase, or the delivery
 *                                                    made, or every problem found
 *   POST /api/v1/admin/imports/{id}/retry            {"label"} or {"new_version": true} ->
 *        202 {"import"}: an import refused for a label taken, run again (import_jobs_retry)
 */
#include <stdio.h>
#include <string.h>

#include "app/bo_admin.h"
#include "app/import_jobs.h"
#include "store/deliveries.h"
#include "http/api.h"
#include "http/body.h"

int api_bo_deliveries_get(const struct http_request *req, struct http_response *res,
                          struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    json_t *doc;
    rc = app_bo_deliveries_list(req->inst, &who, &doc, e);
    app_bo_caller_clear(&who);
    return rc ? rc : http_response_json(res, 200, doc);
}

/* "{id}" or "{id}/ACTION" after the route's prefix into id and action ("" for none). */
static int delivery_path(const struct http_request *req, char id[64], char action[16],
                         struct op_err *e)
{
    const char *rest = req->path_rest, *slash = strchr(rest, '/');
    size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *act = slash ? slash + 1 : "";
    if (idlen == 0 || idlen >= 64 || strlen(act) >= 16 || strchr(act, '/'))
        return err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    memcpy(id, rest, idlen);
    id[idlen] = '\0';
    snprintf(action, 16, "%s", act);
    return 0;
}

int api_bo_delivery_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    char id[64], action[16];
    int rc = delivery_path(req, id, action, e);
    if (rc == 0 && action[0])
        rc = err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    if (rc != 0)
        return rc;
    struct bo_caller who;
    if ((rc = api_bo_caller(req, res, &who, e)) != 0)
        return rc;
    json_t *doc;
    rc = app_bo_delivery_get(req->inst, &who, id, &doc, e);
    app_bo_caller_clear(&who);
    return rc ? rc : http_response_json(res, 200, doc);
}

int api_bo_delivery_post(const struct http_request *req, struct http_response *res,
                         struct op_err *e)
{
    char id[64], action[16];
    int rc = delivery_path(req, id, action, e);
    const char *status = strcmp(action, "publish") == 0    ? DELIVERY_PUBLISHED
                         : strcmp(action, "withdraw") == 0 ? DELIVERY_WITHDRAWN
                                                           : NULL;
    if (rc == 0 && !status)
        rc = err_set(e, OP_ENOTFOUND,
                     "%s: no such endpoint (POST /api/v1/admin/deliveries/{id}/publish or "
                     "/withdraw)",
                     req->path);
    if (rc != 0)
        return rc;
    struct bo_caller who;
    if ((rc = api_bo_caller(req, res, &who, e)) != 0)
        return rc;
    static const char *const allowed[] = {"version", NULL};
    json_t *body = NULL, *doc = NULL;
    int64_t version = 0;
    rc = api_bo_body(req, res, allowed, &body, e);
    if (rc == 0)
        rc = app_bo_version_body_parse(body, &version, e);
    if (rc == 0)
        rc = app_bo_delivery_set_status(req->inst, &who, id, version, status, &doc, e);
    json_decref(body);
    app_bo_caller_clear(&who);
    return rc ? rc : http_response_json(res, 200, doc);
}

/* ---- the upload ---- */

/* Who may upload, and what: the caller (the super-user), the query's parameters and the
 * body's media type. Run before the body is read (the upload's check) and again with it. */
static int upload_allowed(const struct http_request *req, struct http_response *res,
                          struct bo_caller *who, struct bo_upload_params *p, struct op_err *e)
{
    int rc = api_bo_caller(req, res, who, e);
    if (rc != 0)
        return rc;
    rc = app_bo_delivery_may_upload(who, e);
    if (rc == 0)
        rc = app_bo_upload_params_parse(
            http_request_query(req, "filename"), http_request_query(req, "label"),
            http_request_query(req, "proctored"), http_request_query(req, "max_executions"), p, e);
    const char *type = http_request_header(req, "Content-Type");
    if (rc == 0 && !http_content_type_is(type, "application/zip") &&
        !http_content_type_is(type, "application/octet-stream") &&
        !http_content_type_is(type, "application/x-zip-compressed")) {
        err_set_field(e, OP_EINPUT, "Content-Type",
                      "the upload is the package's bytes, as application/zip (not a form)");
        rc = http_response_error(res, 415, e);
    }
    if (rc != 0)
        app_bo_caller_clear(who);
    return rc;
}

int api_bo_upload_check(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    struct bo_upload_params p;
    int rc = upload_allowed(req, res, &who, &p, e);
    if (rc == 0)
        app_bo_caller_clear(&who);
    return rc; /* 0 and no answer: the body may come */
}

int api_bo_upload_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    struct bo_upload_params p;
    int rc = upload_allowed(req, res, &who, &p, e);
    if (rc != 0)
        return rc;
    if (!req->upload_path || !req->import_jobs)
        rc = err_set(e, OP_ESTATE, "the server takes no upload here");
    else if (req->upload_len == 0)
        rc = err_set_field(e, OP_EINPUT, "body", "the upload is empty: send the package's bytes");
    char id[IMPORT_JOB_ID_LEN];
    if (rc == 0) {
        http_request_take_upload(req); /* the job's from now on, also if it cannot start */
        const struct import_job_request r = {
            who.user_id, req->upload_path,    req->upload_dir,  p.filename,
            p.label,     p.proctored_default, p.max_executions, 0};
        rc = import_jobs_start(req->import_jobs, &r, id, e);
    }
    json_t *doc = NULL;
    if (rc == 0)
        rc = import_jobs_status(req->import_jobs, id, who.user_id, &doc, e);
    app_bo_caller_clear(&who);
    if (rc != 0)
        return rc;
    char where[128];
    snprintf(where, sizeof where, "/api/v1/admin/imports/%s", id);
    http_response_header(res, "Location", where);
    return http_response_json(res, 202, json_pack("{s:o}", "import", doc));
}

int api_bo_import_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    const char *id = req->path_rest;
    if (strlen(id) != IMPORT_JOB_ID_LEN - 1)
        return err_set(e, OP_ENOTFOUND, "%s: no such import", req->path);
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    json_t *doc = NULL;
    if (!req->import_jobs)
        rc = err_set(e, OP_ENOTFOUND, "no import %s", id);
    else
        rc = import_jobs_status(req->import_jobs, id, who.user_id, &doc, e);
    app_bo_caller_clear(&who);
    return rc ? rc : http_response_json(res, 200, json_pack("{s:o}", "import", doc));
}

int api_bo_import_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    const char *rest = req->path_rest;
    size_t idlen = IMPORT_JOB_ID_LEN - 1;
    if (strlen(rest) <= idlen || strcmp(rest + idlen, "/retry") != 0)
        return err_set(e, OP_ENOTFOUND,
                       "%s: no such endpoint (POST /api/v1/admin/imports/{id}/retry)", req->path);
    char id[IMPORT_JOB_ID_LEN];
    memcpy(id, rest, idlen);
    id[idlen] = '\0';
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    rc = app_bo_delivery_may_upload(&who, e);
    static const char *const allowed[] = {"label", "new_version", NULL};
    json_t *body = NULL, *doc = NULL;
    struct bo_retry_body b;
    char newid[IMPORT_JOB_ID_LEN];
    if (rc == 0)
        rc = api_bo_body(req, res, allowed, &body, e);
    if (rc == 0)
        rc = app_bo_retry_body_parse(body, &b, e);
    if (rc == 0 && !req->import_jobs)
        rc = err_set(e, OP_ENOTFOUND, "no import %s", id);
    if (rc == 0) {
        const struct import_job_retry r = {b.label, b.new_version};
        rc = import_jobs_retry(req->import_jobs, id, who.user_id, &r, newid, e);
    }
    if (rc == 0)
        rc = import_jobs_status(req->import_jobs, newid, who.user_id, &doc, e);
    json_decref(body);
    app_bo_caller_clear(&who);
    if (rc != 0)
        return rc;
    char where[128];
    snprintf(where, sizeof where, "/api/v1/admin/imports/%s", newid);
    http_response_header(res, "Location", where);
    return http_response_json(res, 202, json_pack("{s:o}", "import", doc));
}
