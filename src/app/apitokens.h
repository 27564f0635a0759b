/*
 * apitokens.h - bearer tokens for scripts that call central's backoffice API (docs/api.md,
 * "Backoffice: bearer tokens"): `outpost api-tokens create|list|revoke` and the
 * `Authorization: Bearer` check of every backoffice endpoint (http/api_bo.c).
 *
 * A token is 32 random bytes in base64url (auth/oauth2.h's oauth2_random_token), shown once
 * at creation and stored only as its BLAKE2b hash keyed with the OAuth2 hash key (derived
 * from central's master key, app/oauth.h): a copy of the database calls nothing. It is bound
 * to one backoffice user (the super-user or a test-center administrator) and acts as them,
 * with their access (app/backoffice.h) as it is at each request: a user who loses the role,
 * or is deleted, takes their tokens with them. A token may expire (--expires-days) and is
 * revoked by id.
 */
#ifndef OUTPOST_APP_APITOKENS_H
#define OUTPOST_APP_APITOKENS_H

#include <jansson.h>

#include "auth/oauth2.h"
#include "base/err.h"
#include "instance/instance.h"
#include "store/apitokens.h"

#define APITOKEN_MAX_DAYS 3650

struct app_apitoken_new {
    const char *login; /* the backoffice user the token acts as */
    int expires_days;  /* 1 to APITOKEN_MAX_DAYS; 0: never expires */
    const char *label; /* what it is for ("nightly export"); NULL or "" for none */
};

/* Creates a token for in->login: *out the stored row, `token` the secret (shown once; the
 * caller wipes it). OP_ENOTFOUND for an unknown login, OP_EINPUT for a user who may not use
 * the backoffice, days out of range, a bad label. Central only. */
int app_apitokens_create(struct instance *inst, const struct app_apitoken_new *in,
                         struct api_token *out, char token[OAUTH2_TOKEN_LEN], struct op_err *e);

/* Calls fn for every token (of `login`, or all when NULL), oldest first. */
int app_apitokens_list(struct instance *inst, const char *login, apitoken_fn fn, void *ctx,
                       struct op_err *e);

/* Revokes token `id` (a UUID from create or list): it stops authenticating at once.
 * OP_ENOTFOUND for an unknown id; revoking a revoked token is fine (*changed 0). */
int app_apitokens_revoke(struct instance *inst, const char *id, int *changed, struct op_err *e);

/* The JSON shape of a token (never its secret nor its hash): id, user_id, login, label
 * (null), created_at, expires_at (ISO-8601, null: never), revoked_at (null), state ("live",
 * "expired", "revoked"). The caller owns it. */
json_t *app_apitoken_json(const struct api_token *t);
/* "live", "expired" or "revoked" now. */
const char *app_apitoken_state(const struct api_token *t);

/* Authenticates an `Authorization` header value carrying a backoffice token: 0 and the user's
 * id in `user_id`, or OP_EUNAUTH with *bearer_error the RFC 6750 error ("" when the header
 * holds no bearer token, "invalid_request" when malformed, "invalid_token" for an unknown,
 * expired or revoked token) and e->msg saying which. */
int app_apitokens_authenticate(struct instance *inst, const char *authorization,
                               char user_id[UUID_STR_LEN], const char **bearer_error,
                               struct op_err *e);

#endif
