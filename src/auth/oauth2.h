/*
 * oauth2.h - the wire formats of OAuth2 on central, as pure functions (no I/O, no database):
 * the token request of the client-credentials grant (RFC 6749 §4.4) with its client
 * authentication (HTTP Basic, §2.3.1, or client_id/client_secret in the body, never both),
 * the success body (§5.1) and the error bodies (§5.2); the bearer header of a request to the
 * API (RFC 6750 §2.1) and the WWW-Authenticate value of a 401 (§3); the keyed hash under
 * which secrets and tokens are stored (app/oauth.h owns the key).
 *
 * Every parser is bounded (OAUTH2_BODY_MAX, the field maxima below) and strict: a malformed
 * percent escape, a control character, invalid UTF-8 or a parameter given twice is refused,
 * never guessed at. Fuzzed by tests/fuzz/fuzz_oauth_token_request.c.
 */
#ifndef OUTPOST_AUTH_OAUTH2_H
#define OUTPOST_AUTH_OAUTH2_H

#include <stddef.h>

#include "base/err.h"

#define OAUTH2_BODY_MAX       4096 /* the largest token request body */
#define OAUTH2_HEADER_MAX     1024 /* the largest Authorization header value read */
#define OAUTH2_CLIENT_ID_MAX  128
#define OAUTH2_SECRET_MAX     128
#define OAUTH2_SCOPE_MAX      256
#define OAUTH2_RANDOM_BYTES   32  /* a token or a client secret: 32 random bytes */
#define OAUTH2_TOKEN_LEN      44  /* their base64url form (43 characters, no padding) + NUL */
#define OAUTH2_TOKEN_MAX      512 /* the longest bearer token the header parser accepts */
#define OAUTH2_HASH_KEY_BYTES 32
#define OAUTH2_HASH_BYTES     32
#define OAUTH2_HASH_HEX_LEN   65
#define OAUTH2_SCOPE_SYNC     "sync" /* the one scope there is, and the default */

/* The error codes of RFC 6749 §5.2. */
enum oauth2_error {
    OAUTH2_OK = 0,
    OAUTH2_INVALID_REQUEST,
    OAUTH2_INVALID_CLIENT,
    OAUTH2_INVALID_GRANT,
    OAUTH2_UNAUTHORIZED_CLIENT,
    OAUTH2_UNSUPPORTED_GRANT_TYPE,
    OAUTH2_INVALID_SCOPE,
};

/* "invalid_request", ... ("" for OAUTH2_OK). */
const char *oauth2_error_code(enum oauth2_error err);
/* The HTTP status of an error body: 401 for invalid_client, 400 for the others (§5.2). */
int oauth2_error_http_status(enum oauth2_error err);

/* A parsed token request. The secret is wiped by oauth2_token_request_wipe. */
struct oauth_token_request {
    char client_id[OAUTH2_CLIENT_ID_MAX + 1];
    char client_secret[OAUTH2_SECRET_MAX + 1];
    char scope[OAUTH2_SCOPE_MAX + 1]; /* "" when the request named none */
    int basic;                        /* the client authenticated with HTTP Basic */
};
void oauth2_token_request_wipe(struct oauth_token_request *r);

/* Parses a token request: `body` (len bytes, application/x-www-form-urlencoded; need not end
 * with a NUL) and the value of its Authorization header (NULL if none). 0 and *out filled, or
 * OP_EINPUT / OP_EUNAUTH with *err the RFC code to answer and e->msg its description:
 *   invalid_request         body too long, malformed escape or pair, control character or
 *                           invalid UTF-8, a parameter twice, grant_type missing, a
 *                           malformed Authorization header, or two ways of client
 *                           authentication at once (Basic and client_id/client_secret)
 *   unsupported_grant_type  a grant_type other than client_credentials
 *   invalid_scope           a scope other than "sync"
 *   invalid_client          no client authentication, an empty id or secret, or one too long
 *                           (OP_EUNAUTH; answered 401, with `WWW-Authenticate: Basic` when
 *                           out->basic or the request had a Basic header)
 * Parameters it does not know are ignored (§3.2). */
int oauth2_parse_token_request(const char *body, size_t len, const char *authorization,
                               struct oauth_token_request *out, enum oauth2_error *err,
                               struct op_err *e);

/* 1 if a Content-Type value is application/x-www-form-urlencoded (parameters such as
 * "; charset=UTF-8" allowed, case-insensitive). */
int oauth2_is_form_content_type(const char *content_type);

/* The success body {"access_token": ..., "token_type": "Bearer", "expires_in": N}; the caller
 * frees (and should send it with Cache-Control: no-store). NULL when out of memory. */
char *oauth2_token_json(const char *access_token, int expires_in);

/* An error body {"error": CODE, "error_description": TEXT}; the description is cut to 200
 * bytes and every character outside RFC 6749's set (printable ASCII but '"' and '\') becomes
 * '?'. The caller frees; NULL when out of memory. */
char *oauth2_error_json(enum oauth2_error err, const char *description);

/* What the bearer header parser found. */
enum oauth2_bearer {
    OAUTH2_BEARER_OK = 0,
    OAUTH2_BEARER_MISSING,   /* no header, or another scheme: 401 with no error code (§3.1) */
    OAUTH2_BEARER_MALFORMED, /* "Bearer" with a malformed or too long token: invalid_request */
};

/* Parses an Authorization header value "Bearer <b64token>" (scheme case-insensitive, one or
 * more spaces, RFC 6750 §2.1's b64token syntax, at most OAUTH2_TOKEN_MAX characters) and
 * copies the token into `token`. */
enum oauth2_bearer oauth2_parse_bearer(const char *header, char token[OAUTH2_TOKEN_MAX + 1]);

/* The value of WWW-Authenticate for a 401 of the API:
 *   Bearer realm="REALM"                                        (error NULL)
 *   Bearer realm="REALM", error="ERROR", error_description="TEXT"
 * with the realm and description cleaned as in oauth2_error_json. Writes at most cap bytes
 * (cut, always terminated); returns `out`. */
char *oauth2_www_authenticate(char *out, size_t cap, const char *realm, const char *error,
                              const char *description);

/* A new random token or client secret: OAUTH2_RANDOM_BYTES random bytes in base64url. */
void oauth2_random_token(char out[OAUTH2_TOKEN_LEN]);

/* 1 if `s` has the shape of what oauth2_random_token makes. */
int oauth2_token_shape_ok(const char *s);

/* The stored form of a secret or a token: BLAKE2b-256 of `secret` keyed with `key`, in hex. */
void oauth2_hash(const unsigned char key[OAUTH2_HASH_KEY_BYTES], const char *secret,
                 char out[OAUTH2_HASH_HEX_LEN]);

/* 1 if `secret` hashes to `hash_hex` under `key`, compared in constant time. */
int oauth2_hash_matches(const unsigned char key[OAUTH2_HASH_KEY_BYTES], const char *secret,
                        const char *hash_hex);

#endif
