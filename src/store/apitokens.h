/*
 * apitokens.h - the bearer tokens of central's backoffice API (app/apitokens.h): each bound
 * to one backoffice user (the super-user or a test-center administrator), for scripts that
 * call the API under /api/v1/admin without a browser session.
 *
 * A token is stored only as its keyed hash (hex, app/apitokens.c makes it), so a copy of the
 * database lets no one call the API. A token whose revoked_at is set, whose expires_at has
 * passed, or whose user is gone (the row goes with the user: ON DELETE CASCADE) is dead.
 *
 * Writes run inside the caller's transaction. Times: expires_at in seconds since 1970 (0:
 * never), created_at and revoked_at ISO-8601 text, bound by the caller.
 */
#ifndef OUTPOST_STORE_APITOKENS_H
#define OUTPOST_STORE_APITOKENS_H

#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "store/db.h"

#define APITOKEN_HASH_HEX_LEN 65
#define APITOKEN_LABEL_MAX    256

struct api_token {
    char id[UUID_STR_LEN];
    char user_id[UUID_STR_LEN];
    char login[256]; /* the user's login (read joined; not stored in the row) */
    char role[32];   /* the user's role (idem) */
    char label[APITOKEN_LABEL_MAX];
    char created_at[TIMESTAMP_STR_LEN];
    int64_t expires_at;                 /* 0: never */
    char revoked_at[TIMESTAMP_STR_LEN]; /* "" while live */
};

/* Inserts a token (`t` without login and role) with its hash; OP_ECONFLICT if the id or the
 * hash exists. */
int apitokens_insert(struct db *db, const struct api_token *t, const char *token_hash,
                     struct op_err *e);

/* The token of hash `token_hash` with its user's login and role: 0, or OP_ENOTFOUND with *e
 * untouched. */
int apitokens_lookup(struct db *db, const char *token_hash, struct api_token *out,
                     struct op_err *e);

/* The token `id`; OP_ENOTFOUND with *e untouched. */
int apitokens_get(struct db *db, const char *id, struct api_token *out, struct op_err *e);

/* Sets revoked_at = `now` on token `id` if it is live; *changed says whether it was. */
int apitokens_revoke(struct db *db, const char *id, const char *now, int *changed,
                     struct op_err *e);

/* Calls fn for every token (of user `user_id`, or all when NULL), ordered by creation then
 * id; a non-zero return stops and is returned. Tokens are few (one per script): one
 * statement, read whole, then the calls. */
typedef int (*apitoken_fn)(const struct api_token *t, void *ctx);
int apitokens_each(struct db *db, const char *user_id, apitoken_fn fn, void *ctx, struct op_err *e);

#endif
