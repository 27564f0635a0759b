/*
 * oauth.h - OAuth2 on central (RFC 6749 client-credentials grant, RFC 6750 bearer tokens):
 * issuing short-lived access tokens to enrolled devices, authenticating the requests that
 * carry one, revocation and cleanup. The HTTP handlers are thin doors: they parse with
 * auth/oauth2.h, call one function here and write what it says.
 *
 * A client (store/oauth.h) is created at enrolment (app/enrol.h), bound on the server to one
 * device, the sync manager who enrolled it and their organisation. A request's principal is
 * read from that row, never from the request. Client secrets and tokens are stored only as
 * BLAKE2b hashes keyed with the OAuth2 hash key, derived from central's master key
 * (crypto_kdf, context "oauth2hk", subkey 1; docs/security.md): a copy of the database lets
 * no one sync, and replacing the master key invalidates every client (devices enrol again).
 * Tokens live OAUTH_TOKEN_LIFETIME_S seconds, or configuration.security.
 * oauth-token-lifetime-seconds (instance/config.h).
 */
#ifndef OUTPOST_APP_OAUTH_H
#define OUTPOST_APP_OAUTH_H

#include <stdint.h>

#include "auth/oauth2.h"
#include "base/err.h"
#include "instance/instance.h"
#include "store/oauth.h"

#define OAUTH_TOKEN_LIFETIME_S 900
#define OAUTH_REALM            "outpost"

struct oauth_token_out {
    char access_token[OAUTH2_TOKEN_LEN]; /* shown once; the caller wipes it after sending */
    int expires_in;                      /* seconds */
    /* On failure, the RFC 6749 §5.2 code to answer with: invalid_client for OP_EUNAUTH and
     * OP_ETHROTTLED (then HTTP 429 with Retry-After: e->retry_after). */
    enum oauth2_error error;
};

/* Issues an access token to the client of a parsed token request (auth/oauth2.h), asked from
 * `remote_addr` (NULL if not over the network). OP_EUNAUTH (invalid_client) for an unknown
 * client, a wrong secret, a revoked client or a revoked device, all with one message;
 * OP_ETHROTTLED after too many failures of the client or the address (app/throttle.h). */
int app_oauth_token(struct instance *inst, const struct oauth_token_request *req,
                    const char *remote_addr, struct oauth_token_out *out, struct op_err *e);

/* Who a request is: read from the client row of its token. */
struct oauth_principal {
    char client_id[UUID_STR_LEN];
    char device_id[UUID_STR_LEN];
    char user_id[UUID_STR_LEN]; /* the sync manager who enrolled the device */
    char org_id[OAUTH_ORG_ID_MAX];
    /* On failure, the RFC 6750 error for WWW-Authenticate (oauth2_www_authenticate with
     * e->msg as description): "invalid_request" for a malformed header, "invalid_token" for
     * an unknown, expired or revoked token, "" when the request had no bearer token at all
     * (§3.1: no error code). */
    const char *bearer_error;
};

/* Authenticates the value of a request's Authorization header (NULL if none). 0 and *out, or
 * OP_EUNAUTH with out->bearer_error set and e->msg the description (HTTP 401). */
int app_oauth_authenticate(struct instance *inst, const char *authorization_header_value,
                           struct oauth_principal *out, struct op_err *e);

/* Revokes every client and token of device `device_id`, inside the caller's transaction
 * (app_devices_revoke calls it): its tokens stop authenticating at once. */
int app_oauth_revoke_device_in(struct db *db, const char *device_id, struct op_err *e);

/* The same in its own transaction. OP_ENOTFOUND for an unknown device. */
int app_oauth_revoke_device(struct instance *inst, const char *device_id, struct op_err *e);

/* Deletes expired and revoked tokens (and old throttling counters); *n (may be NULL) receives
 * how many tokens. */
int app_oauth_cleanup(struct instance *inst, int64_t *n, struct op_err *e);

/* The OAuth2 hash key, derived from the master key in the instance's key folder. The caller
 * wipes it (sodium_memzero). */
int app_oauth_hash_key(struct instance *inst, unsigned char key[OAUTH2_HASH_KEY_BYTES],
                       struct op_err *e);

#endif
