/*
 * api_oauth.c - POST /api/v1/oauth/token: the token endpoint of the client-credentials grant
 * (RFC 6749 §4.4; docs/protocol.md, "Tokens"). Parsed by auth/oauth2.h, done by
 * app_oauth_token; its errors are RFC 6749 §5.2 bodies {"error", "error_description"}, not
 * the API's error body, as an OAuth2 client expects.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/oauth.h"
#include "http/api.h"

/* An RFC 6749 §5.2 error answer: `status`, the error body, and for invalid_client asked with
 * HTTP Basic, WWW-Authenticate: Basic (§5.2). Returns 0: the answer is complete. */
static int oauth_error(struct http_response *res, int status, enum oauth2_error err, int basic,
                       const struct op_err *e)
{
    if (err == OAUTH2_INVALID_CLIENT && basic) {
        char www[64];
        snprintf(www, sizeof www, "Basic realm=\"%s\"", OAUTH_REALM);
        http_response_header(res, "WWW-Authenticate", www);
    }
    if (status == 429 && e->retry_after > 0) {
        char ra[32];
        snprintf(ra, sizeof ra, "%d", e->retry_after);
        http_response_header(res, "Retry-After", ra);
    }
    http_response_header(res, "Pragma", "no-cache");
    char *body = oauth2_error_json(err, e->msg);
    if (!body)
        return OP_ENOMEM;
    int rc = http_response_body(res, status, "application/json", body, strlen(body));
    free(body);
    return rc;
}

static int starts_basic(const char *h)
{
    return h && strncasecmp(h, "Basic", 5) == 0 && (h[5] == ' ' || h[5] == '\0');
}

int api_oauth_token_post(const struct http_request *req, struct http_response *res,
                         struct op_err *e)
{
    const char *authz = http_request_header(req, "Authorization");
    if (!oauth2_is_form_content_type(http_request_header(req, "Content-Type"))) {
        err_set(e, OP_EINPUT,
                "a token request is sent as application/x-www-form-urlencoded (RFC 6749 §4.4)");
        return oauth_error(res, 400, OAUTH2_INVALID_REQUEST, 0, e);
    }
    struct oauth_token_request tr;
    memset(&tr, 0, sizeof tr);
    enum oauth2_error oerr = OAUTH2_OK;
    int rc = oauth2_parse_token_request(req->body, req->body_len, authz, &tr, &oerr, e);
    if (rc != 0) {
        oauth2_token_request_wipe(&tr);
        return oauth_error(res, oauth2_error_http_status(oerr), oerr,
                           tr.basic || starts_basic(authz), e);
    }
    struct oauth_token_out out;
    memset(&out, 0, sizeof out);
    rc = app_oauth_token(req->inst, &tr, req->remote, &out, e);
    int basic = tr.basic;
    oauth2_token_request_wipe(&tr);
    if (rc == OP_EUNAUTH || rc == OP_ETHROTTLED || (rc < 0 && out.error != OAUTH2_OK)) {
        int status = rc == OP_ETHROTTLED      ? 429
                     : out.error != OAUTH2_OK ? oauth2_error_http_status(out.error)
                                              : 401;
        enum oauth2_error err = out.error != OAUTH2_OK ? out.error : OAUTH2_INVALID_CLIENT;
        sodium_memzero(&out, sizeof out);
        return oauth_error(res, status, err, basic, e);
    }
    if (rc != 0) {
        sodium_memzero(&out, sizeof out);
        return rc; /* busy or internal: the server's answer */
    }
    char *body = oauth2_token_json(out.access_token, out.expires_in);
    sodium_memzero(&out, sizeof out);
    if (!body)
        return err_set(e, OP_ENOMEM, "out of memory writing the token answer");
    http_response_header(res, "Cache-Control", "no-store");
    http_response_header(res, "Pragma", "no-cache");
    rc = http_response_body(res, 200, "application/json", body, strlen(body));
    sodium_memzero(body, strlen(body));
    free(body);
    return rc;
}
