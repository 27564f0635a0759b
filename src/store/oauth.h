/*
 * oauth.h - the OAuth2 clients and access tokens of central (app/oauth.h).
 *
 * A client is the credential a device receives at enrolment: a client id (a UUID) and a
 * secret, bound here, on the server, to one device, the sync manager who enrolled it and
 * their organisation. What a request may see is read from this row, never from the request.
 * The secret and every access token are stored only as keyed hashes (hex; app/oauth.c makes
 * them), so a copy of the database lets no one sync. A client whose revoked_at is set, or
 * whose device is revoked, is dead: its tokens stop authenticating at once.
 *
 * Writes run inside the caller's transaction. Times are seconds since the epoch (expires_at)
 * or ISO-8601 text (created_at, revoked_at), bound by the caller, never read from SQL.
 */
#ifndef OUTPOST_STORE_OAUTH_H
#define OUTPOST_STORE_OAUTH_H

#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "store/db.h"

#define OAUTH_HASH_HEX_LEN 65 /* a 32-byte hash in hex, with its NUL */
#define OAUTH_ORG_ID_MAX   256

struct oauth_client {
    char client_id[UUID_STR_LEN];
    char secret_hash[OAUTH_HASH_HEX_LEN];
    char device_id[UUID_STR_LEN];
    char user_id[UUID_STR_LEN];
    char org_id[OAUTH_ORG_ID_MAX];
    char created_at[TIMESTAMP_STR_LEN];
    int revoked;        /* revoked_at is set */
    int device_revoked; /* its device is revoked */
};

/* Inserts a new client (revoked_at NULL); OP_ECONFLICT if the id exists. */
int oauth_clients_insert(struct db *db, const struct oauth_client *c, struct op_err *e);

/* The client `client_id` with its device's revoked flag; OP_ENOTFOUND (message untouched:
 * the caller words it) if there is none. */
int oauth_clients_get(struct db *db, const char *client_id, struct oauth_client *out,
                      struct op_err *e);

/* Revokes every live client of device `device_id` (revoked_at = `now`) and every token of
 * theirs. *n (may be NULL) receives the number of clients revoked. */
int oauth_revoke_device(struct db *db, const char *device_id, const char *now, int64_t *n,
                        struct op_err *e);

/* Stores a new token hash for `client_id`, valid until `expires_at`. */
int oauth_tokens_insert(struct db *db, const char *token_hash, const char *client_id,
                        int64_t expires_at, struct op_err *e);

/* What a token hash leads to: its client (with the client's and device's revocation) and the
 * token's own expiry and revocation. OP_ENOTFOUND (message untouched) for an unknown hash. */
struct oauth_token_row {
    struct oauth_client client;
    int64_t expires_at;
    int revoked;
};
int oauth_tokens_lookup(struct db *db, const char *token_hash, struct oauth_token_row *out,
                        struct op_err *e);

/* Deletes the tokens that expired before `now` and the revoked ones; *n (may be NULL)
 * receives how many. */
int oauth_tokens_delete_expired(struct db *db, int64_t now, int64_t *n, struct op_err *e);

#endif
