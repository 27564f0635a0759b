/*
 * api_bo_eligibilities.c - the backoffice's eligibilities (docs/api.md, "Backoffice:
 * eligibilities"), doors into app/bo_admin.h behind api_bo_caller:
 *
 *   GET    /api/v1/admin/eligibilities[?center=ID][&delivery=ID]  {"eligibilities"} of the
 *                                                                 caller's centers
 *   PUT    /api/v1/admin/eligibilities    {"center", "delivery", "test_takers", "proctored"}
 *                                         -> 201 (created) or 200 {"eligibility"}
 *   DELETE /api/v1/admin/eligibilities/{id}                       204
 */
#include <string.h>

#include "app/bo_admin.h"
#include "http/api.h"

int api_bo_eligibilities_get(const struct http_request *req, struct http_response *res,
                             struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    json_t *doc;
    rc = app_bo_eligibilities_list(req->inst, &who, http_request_query(req, "center"),
                                   http_request_query(req, "delivery"), &doc, e);
    app_bo_caller_clear(&who);
    return rc ? rc : http_response_json(res, 200, doc);
}

int api_bo_eligibilities_put(const struct http_request *req, struct http_response *res,
                             struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    static const char *const allowed[] = {"center", "delivery", "test_takers", "proctored", NULL};
    json_t *body = NULL, *doc = NULL;
    struct bo_eligibility_body b = {0};
    int created = 0;
    rc = api_bo_body(req, res, allowed, &body, e);
    if (rc == 0)
        rc = app_bo_eligibility_body_parse(body, &b, e);
    if (rc == 0)
        rc = app_bo_eligibility_set(req->inst, &who, &b, &doc, &created, e);
    app_bo_eligibility_body_clear(&b);
    json_decref(body);
    app_bo_caller_clear(&who);
    if (rc != 0)
        return rc;
    return http_response_json(res, created ? 201 : 200, json_pack("{s:o}", "eligibility", doc));
}

int api_bo_eligibility_delete(const struct http_request *req, struct http_response *res,
                              struct op_err *e)
{
    const char *id = req->path_rest;
    if (!id[0] || strchr(id, '/') || strlen(id) > 64)
        return err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    rc = app_bo_eligibility_delete(req->inst, &who, id, e);
    app_bo_caller_clear(&who);
    return rc ? rc : http_response_body(res, 204, "", NULL, 0);
}
