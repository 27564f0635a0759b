/*
 * api_bo_centers.c - the backoffice's test centers (docs/api.md, "Backoffice: test
 * centers"), each a door into app/bo_admin.h behind api_bo_caller (session with CSRF token,
 * or API token):
 *
 *   GET    /api/v1/admin/centers                          {"centers"} of the caller's scope
 *   POST   /api/v1/admin/centers                          {"label", "org_id", "parent_id"}
 *                                                         -> 201 {"center"}
 *   GET    /api/v1/admin/centers/{id}                     {"center"} with its sub-centers
 *   PUT    /api/v1/admin/centers/{id}                     {"version", "label", "org_id",
 *                                                         "parent_id"} -> {"center"}
 *   DELETE /api/v1/admin/centers/{id}                     204
 *   POST   /api/v1/admin/centers/{id}/staff               {"login", "duty"} -> {"center"}
 *   DELETE /api/v1/admin/centers/{id}/staff/{duty}/{login} -> {"center"}
 */
#include <stdio.h>
#include <string.h>

#include "app/bo_admin.h"
#include "http/api.h"

/* The parts of a path after the route's prefix: "{id}", "{id}/staff", "{id}/staff/{duty}/
 * {login}". Each part at most `cap` - 1 bytes, no empty part; OP_ENOTFOUND otherwise. */
static int split_path(const char *rest, char parts[4][256], int *n, struct op_err *e)
{
    *n = 0;
    const char *p = rest;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || len >= 256 || *n == 4)
            return err_set(e, OP_ENOTFOUND, "no such endpoint");
        memcpy(parts[*n], p, len);
        parts[*n][len] = '\0';
        (*n)++;
        p += len + (slash ? 1 : 0);
        if (slash && !*p)
            return err_set(e, OP_ENOTFOUND, "no such endpoint");
    }
    return *n ? 0 : err_set(e, OP_ENOTFOUND, "no such endpoint");
}

static int answer(struct http_response *res, int status, const char *name, json_t *doc,
                  struct op_err *e)
{
    json_t *o = json_pack("{s:o}", name, doc);
    if (!o)
        return err_set(e, OP_ENOMEM, "out of memory");
    return http_response_json(res, status, o);
}

int api_bo_centers_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    json_t *doc;
    rc = app_bo_centers_list(req->inst, &who, &doc, e);
    app_bo_caller_clear(&who);
    return rc ? rc : http_response_json(res, 200, doc);
}

int api_bo_centers_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    static const char *const allowed[] = {"label", "org_id", "parent_id", NULL};
    json_t *body = NULL, *doc = NULL;
    struct bo_center_body b;
    rc = api_bo_body(req, res, allowed, &body, e);
    if (rc == 0)
        rc = app_bo_center_body_parse(body, 1, &b, e);
    if (rc == 0)
        rc = app_bo_center_create(req->inst, &who, &b, &doc, e);
    json_decref(body);
    app_bo_caller_clear(&who);
    return rc ? rc : answer(res, 201, "center", doc, e);
}

/* GET, PUT, DELETE /api/v1/admin/centers/{id}[/staff[/{duty}/{login}]] share one door. */
static int center_item(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    char parts[4][256];
    int n;
    int rc = split_path(req->path_rest, parts, &n, e);
    if (rc != 0)
        return rc;
    const char *m = req->method;
    int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0, put = strcmp(m, "PUT") == 0,
        del = strcmp(m, "DELETE") == 0, post = strcmp(m, "POST") == 0;
    int staff = n >= 2 && strcmp(parts[1], "staff") == 0;
    if (!((n == 1 && (get || put || del)) || (n == 2 && staff && post) || (n == 4 && staff && del)))
        return err_set(e, OP_ENOTFOUND, "%s %s: no such endpoint", m, req->path);
    struct bo_caller who;
    if ((rc = api_bo_caller(req, res, &who, e)) != 0)
        return rc;
    const char *id = parts[0];
    json_t *body = NULL, *doc = NULL;
    int status = 200;
    if (n == 1 && get) {
        rc = app_bo_center_get(req->inst, &who, id, &doc, e);
    } else if (n == 1 && put) {
        static const char *const allowed[] = {"version", "label", "org_id", "parent_id", NULL};
        struct bo_center_body b;
        rc = api_bo_body(req, res, allowed, &body, e);
        if (rc == 0)
            rc = app_bo_center_body_parse(body, 0, &b, e);
        if (rc == 0)
            rc = app_bo_center_update(req->inst, &who, id, &b, &doc, e);
    } else if (n == 1) {
        rc = app_bo_center_delete(req->inst, &who, id, e);
        status = 204;
    } else if (n == 2) {
        static const char *const allowed[] = {"login", "duty", NULL};
        struct bo_staff_body b;
        rc = api_bo_body(req, res, allowed, &body, e);
        if (rc == 0)
            rc = app_bo_staff_body_parse(body, &b, e);
        if (rc == 0)
            rc = app_bo_center_staff(req->inst, &who, id, b.login, b.duty, 1, &doc, e);
    } else {
        rc = app_bo_center_staff(req->inst, &who, id, parts[3], parts[2], 0, &doc, e);
    }
    json_decref(body);
    app_bo_caller_clear(&who);
    if (rc != 0)
        return rc;
    if (status == 204)
        return http_response_body(res, 204, "", NULL, 0);
    return answer(res, status, "center", doc, e);
}

int api_bo_center_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    return center_item(req, res, e);
}

int api_bo_center_put(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    return center_item(req, res, e);
}

int api_bo_center_delete(const struct http_request *req, struct http_response *res,
                         struct op_err *e)
{
    return center_item(req, res, e);
}

int api_bo_center_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    return center_item(req, res, e);
}
