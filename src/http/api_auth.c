/*
 * api_auth.c - the bearer authentication of every protected endpoint (RFC 6750): the
 * Authorization header goes to app_oauth_authenticate, which reads the principal from the
 * client row of the token (never from the request). A failure is answered 401 with
 * WWW-Authenticate (auth/oauth2.h's value), so a revoked device's token stops at once.
 */
#include "app/oauth.h"
#include "http/api.h"

int api_authenticate(const struct http_request *req, struct http_response *res,
                     struct oauth_principal *p, struct op_err *e)
{
    const char *h = http_request_header(req, "Authorization");
    int rc = app_oauth_authenticate(req->inst, h, p, e);
    if (rc == 0)
        return 0;
    if (rc != OP_EUNAUTH)
        return rc; /* the database: 503 or 500, as the server answers it */
    char www[512];
    const char *err = p->bearer_error && p->bearer_error[0] ? p->bearer_error : NULL;
    oauth2_www_authenticate(www, sizeof www, OAUTH_REALM, err, err ? e->msg : NULL);
    http_response_header(res, "WWW-Authenticate", www);
    return http_response_error(res, 401, e);
}
