/*
 * api_session.c - the web session endpoints of a device (docs/api.md, "Session"):
 *
 *   POST   /api/v1/session  {"login", "password"} -> 200 {"user", "csrf", "idle_timeout"}
 *                           and the cookie; 401 wrong login or password (one answer for
 *                           both), 429 throttled (Retry-After), 503 too many sessions
 *   GET    /api/v1/session  -> 200 the same body, or 401
 *   DELETE /api/v1/session  -> 204, the session ended and its key wiped, the cookie cleared
 *
 * The login is app/weblogin.h's, with sync/enrol.h's sync_enrol as its enrolment handshake;
 * the session is http/websession.h's. On central the same endpoints log the super-user and
 * test-center administrators in to the backoffice (app_weblogin_central: the password
 * checked against central's record, no key in the session); any other role is 403
 * "not_backoffice" (app/backoffice.h).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/backoffice.h"
#include "app/weblogin.h"
#include "http/api.h"
#include "http/websession.h"
#include "sync/enrol.h"

static json_t *session_json(const struct web_user *u, const char *csrf, unsigned idle_s,
                            int enrolled)
{
    json_t *roles = json_array();
    for (unsigned bit = 1; roles && bit <= WEB_ROLE_SUPER_USER; bit <<= 1)
        if (u->roles & bit)
            json_array_append_new(roles, json_string(web_role_name(bit)));
    json_t *doc =
        json_pack("{s:{s:s, s:s, s:s, s:o}, s:s, s:i}", "user", "id", u->id, "login", u->login,
                  "label", u->label, "roles", roles, "csrf", csrf, "idle_timeout", (int)idle_s);
    if (doc && enrolled)
        json_object_set_new(doc, "device_enrolled", json_true());
    return doc;
}

/* The enrolment handshake of a first login: `outpost enrol`'s own code path. */
static int enrol_at_login(struct instance *device, const char *login, const char *password,
                          char *org_id, void *ctx, struct op_err *e)
{
    (void)ctx;
    const struct sync_enrol_request r = {login, password, NULL, 0};
    struct sync_enrolment en;
    int rc = sync_enrol(device, &r, &en, e);
    if (rc == 0)
        snprintf(org_id, WEBLOGIN_TEXT_MAX, "%s", en.org_id);
    return rc;
}

int api_session_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    int rc = websession_same_origin(req, res, e); /* no login from another site's page */
    if (rc == 0)
        rc = http_request_check_type(req, res, "application/json", e);
    if (rc != 0)
        return rc;
    if (!req->sessions)
        return err_set(e, OP_ESTATE, "this server keeps no web sessions");
    struct weblogin_body b;
    char password[WEBLOGIN_PASSWORD_MAX + 1];
    rc = weblogin_body_parse(req->body, req->body_len, &b, password, e);
    struct websession *s = NULL;
    if (rc == 0)
        rc = websession_reserve(req->sessions, &s, e);
    struct weblogin_result r;
    memset(&r, 0, sizeof r);
    int central = req->inst->role == ROLE_CENTRAL;
    if (rc == 0) {
        const struct weblogin_request in = {b.login,     password,       b.password_len,
                                            req->remote, enrol_at_login, NULL};
        rc = central
                 ? app_weblogin_central(req->inst, &in, &r, e)
                 : app_weblogin(req->inst, &in, websession_key_pk(s), websession_key_sk(s), &r, e);
    }
    sodium_memzero(password, sizeof password);
    if (rc != 0) {
        if (s)
            websession_discard(req->sessions, s);
        if (rc == OP_EIO && strcmp(e->field, WEBLOGIN_FIELD_CENTRAL) == 0)
            /* not this server's fault, and the person should know: 503 keeps the message */
            return http_response_error_code(res, 503, "central_unreachable", e);
        if (rc == OP_EFORBIDDEN && strcmp(e->field, BO_FIELD_ROLE) == 0)
            return http_response_error_code(res, 403, BO_CODE_NOT_BACKOFFICE, e);
        return rc;
    }
    struct web_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.id, sizeof u.id, "%s", r.user_id);
    snprintf(u.login, sizeof u.login, "%s", r.login);
    snprintf(u.label, sizeof u.label, "%s", r.label);
    snprintf(u.org_id, sizeof u.org_id, "%s", r.org_id);
    u.roles = web_role_of_store(r.role);
    char token[WEBSESSION_TOKEN_LEN + 1], csrf[WEBSESSION_TOKEN_LEN + 1];
    websession_open(req->sessions, s, &u, r.has_key, token, csrf);
    rc = websession_set_cookie(res, token, req->tls, e);
    sodium_memzero(token, sizeof token);
    if (rc == 0)
        rc = http_response_json(
            res, 200, session_json(&u, csrf, websessions_idle_s(req->sessions), r.enrolled));
    sodium_memzero(csrf, sizeof csrf);
    return rc;
}

int api_session_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    const struct web_user *u;
    struct websession *s;
    int rc = websession_require_session(req, res, WEB_ROLE_ANY, &u, &s, e);
    if (rc != 0)
        return rc;
    return http_response_json(
        res, 200, session_json(u, websession_csrf(s), websessions_idle_s(req->sessions), 0));
}

int api_session_delete(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    const struct web_user *u;
    struct websession *s;
    int rc = websession_require_session(req, res, WEB_ROLE_ANY, &u, &s, e);
    if (rc != 0)
        return rc;
    websession_end(req->sessions, s); /* the key is wiped when this request gives it back */
    rc = websession_set_cookie(res, NULL, req->tls, e);
    return rc != 0 ? rc : http_response_body(res, 204, "", NULL, 0);
}
