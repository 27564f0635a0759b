/*
 * oauth.c - issuing and checking OAuth2 access tokens on central (see oauth.h). Network work
 * never runs here: every function is one short read or one db_write.
 */
#include "app/oauth.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "app/throttle.h"
#include "base/clock.h"
#include "crypto/keys.h"
#include "store/throttle.h"

#define HASH_KEY_CONTEXT "oauth2hk" /* crypto_kdf_CONTEXTBYTES */
#define HASH_KEY_ID      1

_Static_assert(OAUTH2_HASH_KEY_BYTES >= crypto_kdf_BYTES_MIN &&
                   OAUTH2_HASH_KEY_BYTES <= crypto_kdf_BYTES_MAX,
               "the hash key is a KDF subkey");
_Static_assert(KEY_SECRET_BYTES == crypto_kdf_KEYBYTES, "the master key is a KDF key");

int app_oauth_hash_key(struct instance *inst, unsigned char key[OAUTH2_HASH_KEY_BYTES],
                       struct op_err *e)
{
    struct key *master = key_new();
    if (!master)
        return err_set(e, OP_ENOMEM, "out of memory loading the master key");
    char *dir = instance_path(inst, "keys");
    int rc = dir ? keys_load_master(dir, master, e) : err_set(e, OP_ENOMEM, "out of memory");
    free(dir);
    if (rc == 0)
        crypto_kdf_derive_from_key(key, OAUTH2_HASH_KEY_BYTES, HASH_KEY_ID, HASH_KEY_CONTEXT,
                                   master->secret);
    key_free(master);
    return rc;
}

static int token_lifetime(const struct instance *inst)
{
    int s = inst->settings.oauth_token_lifetime_s;
    return s > 0 ? s : OAUTH_TOKEN_LIFETIME_S;
}

/* ---- The token endpoint ---- */

struct issue_ctx {
    const char *client_id;
    const char *token_hash;
    int64_t expires_at;
};

/* db_write body: the client is still alive (a revocation may have come since the check),
 * the token is stored, the client's failures are forgotten. */
static int issue_body(struct db *db, void *ctx, struct op_err *e)
{
    struct issue_ctx *c = ctx;
    struct oauth_client cl;
    int rc = oauth_clients_get(db, c->client_id, &cl, e);
    if (rc == OP_ENOTFOUND || (rc == 0 && (cl.revoked || cl.device_revoked)))
        return err_set(e, OP_EUNAUTH, "the client was revoked");
    if (rc == 0)
        rc = oauth_tokens_insert(db, c->token_hash, c->client_id, c->expires_at, e);
    if (rc == 0)
        rc = app_throttle_reset_in(db, "client", c->client_id, e);
    return rc;
}

int app_oauth_token(struct instance *inst, const struct oauth_token_request *req,
                    const char *remote_addr, struct oauth_token_out *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    out->error = OAUTH2_INVALID_CLIENT;
    int rc = instance_require_role(inst, ROLE_CENTRAL, "the token endpoint", e);
    if (rc != 0) {
        out->error = OAUTH2_INVALID_REQUEST;
        return rc;
    }
    rc = app_throttle_check(inst, "client", req->client_id, remote_addr, "token request", e);
    if (rc != 0)
        return rc;
    unsigned char key[OAUTH2_HASH_KEY_BYTES];
    rc = app_oauth_hash_key(inst, key, e);
    if (rc != 0) {
        out->error = OAUTH2_INVALID_REQUEST;
        return rc;
    }
    struct oauth_client cl;
    struct op_err ge = {0};
    rc = oauth_clients_get(inst->db, req->client_id, &cl, &ge);
    if (rc != 0 && rc != OP_ENOTFOUND) {
        sodium_memzero(key, sizeof key);
        out->error = OAUTH2_INVALID_REQUEST;
        return err_set(e, rc, "%s", ge.msg);
    }
    /* the secret is hashed even for an unknown client: the answer takes as long */
    int good = oauth2_hash_matches(key, req->client_secret, rc == 0 ? cl.secret_hash : "");
    if (rc != 0 || !good || cl.revoked || cl.device_revoked) {
        sodium_memzero(key, sizeof key);
        app_throttle_fail(inst, "client", req->client_id, remote_addr);
        return err_set(e, OP_EUNAUTH,
                       "client authentication failed: unknown client, wrong secret, or a "
                       "revoked client or device");
    }
    char token[OAUTH2_TOKEN_LEN], hash[OAUTH2_HASH_HEX_LEN];
    oauth2_random_token(token);
    oauth2_hash(key, token, hash);
    sodium_memzero(key, sizeof key);
    int lifetime = token_lifetime(inst);
    struct issue_ctx ctx = {req->client_id, hash, (int64_t)clock_now() + lifetime};
    rc = db_write(inst->db, issue_body, &ctx, e);
    if (rc == OP_EUNAUTH)
        err_set(e, OP_EUNAUTH,
                "client authentication failed: unknown client, wrong secret, or a revoked "
                "client or device");
    if (rc != 0) {
        sodium_memzero(token, sizeof token);
        if (rc != OP_EUNAUTH)
            out->error = OAUTH2_INVALID_REQUEST;
        return rc;
    }
    memcpy(out->access_token, token, sizeof token);
    sodium_memzero(token, sizeof token);
    out->expires_in = lifetime;
    out->error = OAUTH2_OK;
    return 0;
}

/* ---- Bearer authentication ---- */

static int unauth(struct oauth_principal *out, const char *bearer_error, struct op_err *e,
                  const char *msg)
{
    const char *keep = bearer_error;
    memset(out, 0, sizeof *out);
    out->bearer_error = keep;
    return err_set(e, OP_EUNAUTH, "%s", msg);
}

int app_oauth_authenticate(struct instance *inst, const char *authorization_header_value,
                           struct oauth_principal *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    out->bearer_error = "";
    int rc = instance_require_role(inst, ROLE_CENTRAL, "the sync API", e);
    if (rc != 0)
        return rc;
    char token[OAUTH2_TOKEN_MAX + 1];
    switch (oauth2_parse_bearer(authorization_header_value, token)) {
    case OAUTH2_BEARER_MISSING:
        return unauth(out, "", e, "this request needs an access token (Authorization: Bearer)");
    case OAUTH2_BEARER_MALFORMED:
        return unauth(out, "invalid_request", e, "malformed Authorization: Bearer header");
    case OAUTH2_BEARER_OK:
        break;
    }
    if (!oauth2_token_shape_ok(token))
        return unauth(out, "invalid_token", e, "the access token is not one this server issued");
    unsigned char key[OAUTH2_HASH_KEY_BYTES];
    rc = app_oauth_hash_key(inst, key, e);
    if (rc != 0)
        return rc;
    char hash[OAUTH2_HASH_HEX_LEN];
    oauth2_hash(key, token, hash);
    sodium_memzero(key, sizeof key);
    sodium_memzero(token, sizeof token);
    struct oauth_token_row row;
    struct op_err le = {0};
    rc = oauth_tokens_lookup(inst->db, hash, &row, &le);
    if (rc == OP_ENOTFOUND)
        return unauth(out, "invalid_token", e, "the access token is unknown");
    if (rc != 0)
        return err_set(e, rc, "%s", le.msg);
    if (row.revoked || row.client.revoked || row.client.device_revoked)
        return unauth(out, "invalid_token", e, "the access token was revoked");
    if (row.expires_at <= (int64_t)clock_now())
        return unauth(out, "invalid_token", e, "the access token expired");
    memcpy(out->client_id, row.client.client_id, sizeof out->client_id);
    memcpy(out->device_id, row.client.device_id, sizeof out->device_id);
    memcpy(out->user_id, row.client.user_id, sizeof out->user_id);
    memcpy(out->org_id, row.client.org_id, sizeof out->org_id);
    out->bearer_error = NULL;
    return 0;
}

/* ---- Revocation and cleanup ---- */

int app_oauth_revoke_device_in(struct db *db, const char *device_id, struct op_err *e)
{
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    return oauth_revoke_device(db, device_id, now, NULL, e);
}

static int revoke_body(struct db *db, void *id, struct op_err *e)
{
    return app_oauth_revoke_device_in(db, id, e);
}

int app_oauth_revoke_device(struct instance *inst, const char *device_id, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "device revocation", e);
    if (rc != 0)
        return rc;
    if (!device_id || !uuid_is_valid(device_id))
        return err_set(e, OP_EINPUT, "\"%s\" is not a device id (a UUID)",
                       device_id ? device_id : "");
    return db_write(inst->db, revoke_body, (void *)device_id, e);
}

struct cleanup_ctx {
    int64_t now;
    int64_t n;
};

static int cleanup_body(struct db *db, void *ctx, struct op_err *e)
{
    struct cleanup_ctx *c = ctx;
    int rc = oauth_tokens_delete_expired(db, c->now, &c->n, e);
    if (rc == 0)
        rc = throttle_delete_before(db, c->now - 2 * THROTTLE_WINDOW_S, e);
    return rc;
}

int app_oauth_cleanup(struct instance *inst, int64_t *n, struct op_err *e)
{
    if (n)
        *n = 0;
    int rc = instance_require_role(inst, ROLE_CENTRAL, "token cleanup", e);
    if (rc != 0)
        return rc;
    struct cleanup_ctx c = {(int64_t)clock_now(), 0};
    rc = db_write(inst->db, cleanup_body, &c, e);
    if (rc == 0 && n)
        *n = c.n;
    return rc;
}
