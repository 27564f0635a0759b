/*
 * api_bo_users.c - the users of central's backoffice (docs/api.md, "Backoffice: users"), thin
 * doors into app/bo_users.h and app/users_import_jobs.h:
 *
 *   GET    /api/v1/admin/users?q=&role=&after=&limit=   a page: {"users", "next"}
 *   POST   /api/v1/admin/users                          201 {"user"} (super-user)
 *   GET    /api/v1/admin/users/{id}                     {"user"}
 *   PATCH  /api/v1/admin/users/{id}                     {"user"}: label, names, mail, lang
 *   POST   /api/v1/admin/users/{id}/password            204: a password reset
 *   DELETE /api/v1/admin/users/{id}                     204 (super-user)
 *   POST   /api/v1/admin/users/import?role=R[&name=F]   202 {"job"}: a CSV (text/csv) imported
 *                                                       in the background (super-user)
 *   GET    /api/v1/admin/users/import/{job}             {"job"}: its progress and report
 */
#include <sodium.h>
#include <string.h>

#include "app/bo_users.h"
#include "app/users_import_jobs.h"
#include "http/api.h"

/* Wipes jansson's copy of the body's "password" before the body is released. */
static void wipe_password(json_t *body)
{
    json_t *p = json_object_get(body, "password");
    if (json_is_string(p))
        sodium_memzero((char *)json_string_value(p), json_string_length(p));
}

int api_bo_users_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    int64_t limit = 0;
    rc = api_query_int64(req, "limit", 1, BO_USERS_PAGE_MAX, BO_USERS_PAGE_DEFAULT, &limit, e);
    const char *role = http_request_query(req, "role");
    const struct app_bo_users_query q = {http_request_query(req, "q"),
                                         role && role[0] ? role : NULL,
                                         http_request_query(req, "after"), (int)limit};
    json_t *doc = NULL;
    if (rc == 0)
        rc = app_bo_users_list(req->inst, &who, &q, &doc, e);
    app_bo_caller_clear(&who);
    return rc != 0 ? rc : http_response_json(res, 200, doc);
}

int api_bo_users_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    static const char *const allowed[] = {"login",      "role",      "password", "org_id", "label",
                                          "first_name", "last_name", "mail",     "lang",   NULL};
    json_t *body = NULL, *user = NULL;
    struct app_bo_user_create in;
    rc = app_bo_require_super(&who, "create users", e);
    if (rc == 0)
        rc = api_bo_body(req, res, allowed, &body, e);
    if (rc == 0)
        rc = app_bo_user_create_parse(body, &in, e);
    if (rc == 0)
        rc = app_bo_users_create(req->inst, &who, &in, &user, e);
    wipe_password(body);
    json_decref(body);
    app_bo_caller_clear(&who);
    return rc != 0 ? rc : http_response_json(res, 201, json_pack("{s:o}", "user", user));
}

/* ---- one user: /api/v1/admin/users/{id}[/password] ---- */

/* The id of path_rest "ID" or "ID/password" (`sub` gets "" or "password"); 0, or OP_ENOTFOUND
 * for any other shape. */
static int user_path(const struct http_request *req, char id[UUID_STR_LEN], const char **sub,
                     struct op_err *e)
{
    const char *rest = req->path_rest;
    size_t n = strcspn(rest, "/");
    *sub = rest[n] == '/' ? rest + n + 1 : "";
    if (n == 0 || n >= UUID_STR_LEN || strchr(*sub, '/'))
        return err_set(e, OP_ENOTFOUND, "%s: no such user", req->path);
    memcpy(id, rest, n);
    id[n] = '\0';
    return 0;
}

int api_bo_user_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    char id[UUID_STR_LEN];
    const char *sub;
    json_t *user = NULL;
    rc = user_path(req, id, &sub, e);
    if (rc == 0 && sub[0])
        rc = err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    if (rc == 0)
        rc = app_bo_users_get(req->inst, &who, id, &user, e);
    app_bo_caller_clear(&who);
    return rc != 0 ? rc : http_response_json(res, 200, json_pack("{s:o}", "user", user));
}

int api_bo_user_patch(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    static const char *const allowed[] = {"version", "label", "first_name", "last_name",
                                          "mail",    "lang",  NULL};
    char id[UUID_STR_LEN];
    const char *sub;
    json_t *body = NULL, *user = NULL;
    struct app_bo_user_edit in;
    rc = user_path(req, id, &sub, e);
    if (rc == 0 && sub[0])
        rc = err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    if (rc == 0)
        rc = api_bo_body(req, res, allowed, &body, e);
    if (rc == 0)
        rc = app_bo_user_edit_parse(body, &in, e);
    if (rc == 0)
        rc = app_bo_users_edit(req->inst, &who, id, &in, &user, e);
    json_decref(body);
    app_bo_caller_clear(&who);
    return rc != 0 ? rc : http_response_json(res, 200, json_pack("{s:o}", "user", user));
}

int api_bo_user_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    static const char *const allowed[] = {"password", "version", "new_keys", NULL};
    char id[UUID_STR_LEN];
    const char *sub;
    json_t *body = NULL;
    struct app_bo_user_password in;
    rc = user_path(req, id, &sub, e);
    if (rc == 0 && strcmp(sub, "password") != 0)
        rc = err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    if (rc == 0)
        rc = api_bo_body(req, res, allowed, &body, e);
    if (rc == 0)
        rc = app_bo_user_password_parse(body, &in, e);
    if (rc == 0)
        rc = app_bo_users_password(req->inst, &who, id, &in, e);
    wipe_password(body);
    json_decref(body);
    app_bo_caller_clear(&who);
    return rc != 0 ? rc : http_response_body(res, 204, "", NULL, 0);
}

int api_bo_user_delete(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    char id[UUID_STR_LEN];
    const char *sub;
    rc = user_path(req, id, &sub, e);
    if (rc == 0 && sub[0])
        rc = err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    if (rc == 0)
        rc = app_bo_users_delete(req->inst, &who, id, e);
    app_bo_caller_clear(&who);
    return rc != 0 ? rc : http_response_body(res, 204, "", NULL, 0);
}

/* ---- imports ---- */

int api_bo_users_import_post(const struct http_request *req, struct http_response *res,
                             struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    char id[USERS_IMPORT_JOB_ID_LEN];
    rc = app_bo_require_super(&who, "import users", e);
    if (rc == 0)
        rc = http_request_check_type(req, res, "text/csv", e);
    if (rc == 0 && !req->users_imports)
        rc = err_set(e, OP_ESTATE, "this server runs no imports");
    if (rc == 0)
        rc = users_import_jobs_start(
            req->users_imports, who.user_id, http_request_query(req, "role"),
            http_request_query(req, "name"), req->body, req->body_len, id, e);
    json_t *job = NULL;
    if (rc == 0)
        rc = users_import_jobs_status(req->users_imports, id, who.user_id, &job, e);
    app_bo_caller_clear(&who);
    return rc != 0 ? rc : http_response_json(res, 202, json_pack("{s:o}", "job", job));
}

int api_bo_users_import_get(const struct http_request *req, struct http_response *res,
                            struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    json_t *job = NULL;
    rc = req->users_imports
             ? users_import_jobs_status(req->users_imports, req->path_rest, who.user_id, &job, e)
             : err_set(e, OP_ENOTFOUND, "no such import");
    app_bo_caller_clear(&who);
    return rc != 0 ? rc : http_response_json(res, 200, json_pack("{s:o}", "job", job));
}
