/*
 * api_bo.c - what every backoffice endpoint of central shares (api.h, "central's
 * backoffice"): the caller of a request, by web session or by API token, resolved into a
 * struct bo_caller (app/backoffice.h), the strict body reader, and GET /api/v1/admin/me.
 */
#include <stdio.h>
#include <string.h>

#include "app/apitokens.h"
#include "app/backoffice.h"
#include "app/oauth.h"
#include "http/api.h"
#include "http/websession.h"

/* The caller by `Authorization: Bearer`: its user id, or 401 with WWW-Authenticate. */
static int caller_by_token(const struct http_request *req, struct http_response *res,
                           const char *authorization, char user_id[UUID_STR_LEN], struct op_err *e)
{
    const char *bearer_error = "";
    int rc = app_apitokens_authenticate(req->inst, authorization, user_id, &bearer_error, e);
    if (rc == 0)
        return 0;
    if (rc != OP_EUNAUTH)
        return rc;
    char www[512];
    const char *err = bearer_error && bearer_error[0] ? bearer_error : NULL;
    oauth2_www_authenticate(www, sizeof www, OAUTH_REALM, err, err ? e->msg : NULL);
    http_response_header(res, "WWW-Authenticate", www);
    return http_response_error(res, 401, e);
}

int api_bo_caller(const struct http_request *req, struct http_response *res, struct bo_caller *who,
                  struct op_err *e)
{
    memset(who, 0, sizeof *who);
    if (req->inst->role != ROLE_CENTRAL)
        return err_set(e, OP_ENOTFOUND, "%s: no such endpoint (the backoffice is on central)",
                       req->path);
    char user_id[UUID_STR_LEN];
    const char *authorization = http_request_header(req, "Authorization");
    int by_token = authorization != NULL;
    int rc;
    if (by_token) {
        rc = caller_by_token(req, res, authorization, user_id, e);
    } else {
        const struct web_user *u;
        rc = websession_require(req, res, WEB_ROLE_SUPER_USER | WEB_ROLE_TEST_CENTER_ADMIN, &u, e);
        if (rc == 0)
            snprintf(user_id, sizeof user_id, "%.*s", (int)sizeof user_id - 1, u->id);
    }
    if (rc != 0)
        return rc;
    rc = app_bo_caller_load(req->inst, user_id, who, e);
    if (rc == OP_EFORBIDDEN && strcmp(e->field, BO_FIELD_ROLE) == 0)
        return http_response_error_code(res, 403, BO_CODE_NOT_BACKOFFICE, e);
    if (rc == 0)
        who->by_token = by_token;
    return rc;
}

int api_bo_body(const struct http_request *req, struct http_response *res,
                const char *const *allowed, json_t **out, struct op_err *e)
{
    *out = NULL;
    int rc = http_request_check_type(req, res, "application/json", e);
    if (rc != 0)
        return rc;
    json_t *doc;
    if ((rc = http_request_json(req, &doc, e)) != 0)
        return rc;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return err_set_field(e, OP_EINPUT, "body", "the body is not a JSON object");
    }
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        int known = 0;
        for (int i = 0; allowed && allowed[i] && !known; i++)
            known = strcmp(allowed[i], key) == 0;
        if (!known) {
            rc = err_set_field(e, OP_EINPUT, "body", "unknown member \"%.64s\"", key);
            json_decref(doc);
            return rc;
        }
    }
    *out = doc;
    return 0;
}

int api_bo_me_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    json_t *centers = json_array();
    for (int i = 0; i < who.centers.n; i++)
        json_array_append_new(centers, json_string(who.centers.v[i]));
    json_t *doc = json_pack("{s:{s:s, s:s, s:s, s:s, s:b}, s:o}", "user", "id", who.user_id,
                            "login", who.login, "label", who.label, "role", who.role, "super",
                            who.super, "centers", centers);
    app_bo_caller_clear(&who);
    return http_response_json(res, 200, doc);
}
