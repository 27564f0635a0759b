/* apitokens.c - the backoffice API's bearer tokens (see apitokens.h). */
#include "app/apitokens.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/backoffice.h"
#include "app/oauth.h"
#include "base/clock.h"
#include "base/text.h"
#include "store/users.h"

struct create_ctx {
    struct api_token *t;
    const char *hash;
};

static int create_body(struct db *db, void *vctx, struct op_err *e)
{
    struct create_ctx *c = vctx;
    return apitokens_insert(db, c->t, c->hash, e);
}

int app_apitokens_create(struct instance *inst, const struct app_apitoken_new *in,
                         struct api_token *out, char token[OAUTH2_TOKEN_LEN], struct op_err *e)
{
    memset(out, 0, sizeof *out);
    token[0] = '\0';
    int rc = instance_require_role(inst, ROLE_CENTRAL, "api-tokens create", e);
    if (rc != 0)
        return rc;
    if (!in->login || !in->login[0])
        return err_set_field(e, OP_EINPUT, "login", "api-tokens create: give --login LOGIN");
    if (in->expires_days < 0 || in->expires_days > APITOKEN_MAX_DAYS)
        return err_set_field(e, OP_EINPUT, "expires_days",
                             "--expires-days: %d, expected 1 to %d (or none: never expires)",
                             in->expires_days, APITOKEN_MAX_DAYS);
    if (in->label && in->label[0] && text_check(in->label, APITOKEN_LABEL_MAX - 1) != TEXT_OK)
        return err_set_field(e, OP_EINPUT, "label", "--label: %s",
                             text_fault_message(text_check(in->label, APITOKEN_LABEL_MAX - 1)));
    struct user u;
    rc = users_get_by_login(inst->db, in->login, &u, e);
    if (rc != 0)
        return rc;
    if (!app_bo_role_allowed(u.role)) {
        rc = err_set_field(e, OP_EINPUT, "login",
                           "%s is a %s: API tokens are for backoffice users (the super-user and "
                           "test-center administrators)",
                           in->login, u.role);
        user_clear(&u);
        return rc;
    }
    uuid_generate(out->id);
    memcpy(out->user_id, u.id, sizeof out->user_id);
    snprintf(out->login, sizeof out->login, "%s", u.login);
    snprintf(out->role, sizeof out->role, "%s", u.role);
    user_clear(&u);
    snprintf(out->label, sizeof out->label, "%s", in->label ? in->label : "");
    timestamp_now(out->created_at);
    out->expires_at =
        in->expires_days ? (int64_t)clock_now() + (int64_t)in->expires_days * 86400 : 0;
    unsigned char key[OAUTH2_HASH_KEY_BYTES];
    if ((rc = app_oauth_hash_key(inst, key, e)) != 0)
        return rc;
    char hash[OAUTH2_HASH_HEX_LEN];
    oauth2_random_token(token);
    oauth2_hash(key, token, hash);
    sodium_memzero(key, sizeof key);
    struct create_ctx c = {out, hash};
    rc = db_write(inst->db, create_body, &c, e);
    if (rc != 0) {
        sodium_memzero(token, OAUTH2_TOKEN_LEN);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

int app_apitokens_list(struct instance *inst, const char *login, apitoken_fn fn, void *ctx,
                       struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "api-tokens list", e);
    if (rc != 0)
        return rc;
    char user_id[UUID_STR_LEN] = "";
    if (login) {
        struct user u;
        if ((rc = users_get_by_login(inst->db, login, &u, e)) != 0)
            return rc;
        memcpy(user_id, u.id, sizeof user_id);
        user_clear(&u);
    }
    return apitokens_each(inst->db, login ? user_id : NULL, fn, ctx, e);
}

struct revoke_ctx {
    const char *id;
    int changed;
};

static int revoke_body(struct db *db, void *vctx, struct op_err *e)
{
    struct revoke_ctx *c = vctx;
    struct api_token t;
    struct op_err ge = {0};
    int rc = apitokens_get(db, c->id, &t, &ge);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no API token %s (see `outpost api-tokens list`)", c->id);
    if (rc != 0)
        return err_set(e, rc, "%s", ge.msg);
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    return apitokens_revoke(db, c->id, now, &c->changed, e);
}

int app_apitokens_revoke(struct instance *inst, const char *id, int *changed, struct op_err *e)
{
    if (changed)
        *changed = 0;
    int rc = instance_require_role(inst, ROLE_CENTRAL, "api-tokens revoke", e);
    if (rc != 0)
        return rc;
    if (!id || !uuid_is_valid(id))
        return err_set(e, OP_EINPUT,
                       "\"%s\" is not a token id (a UUID; see `outpost api-tokens "
                       "list`)",
                       id ? id : "");
    struct revoke_ctx c = {id, 0};
    rc = db_write(inst->db, revoke_body, &c, e);
    if (rc == 0 && changed)
        *changed = c.changed;
    return rc;
}

const char *app_apitoken_state(const struct api_token *t)
{
    if (t->revoked_at[0])
        return "revoked";
    if (t->expires_at && t->expires_at <= (int64_t)clock_now())
        return "expired";
    return "live";
}

json_t *app_apitoken_json(const struct api_token *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(t->id));
    json_object_set_new(o, "user_id", json_string(t->user_id));
    json_object_set_new(o, "login", json_string(t->login));
    json_object_set_new(o, "label", t->label[0] ? json_string(t->label) : json_null());
    json_object_set_new(o, "created_at", json_string(t->created_at));
    char exp[TIMESTAMP_STR_LEN];
    if (t->expires_at && timestamp_format((time_t)t->expires_at, exp) == 0)
        json_object_set_new(o, "expires_at", json_string(exp));
    else
        json_object_set_new(o, "expires_at", json_null());
    json_object_set_new(o, "revoked_at",
                        t->revoked_at[0] ? json_string(t->revoked_at) : json_null());
    json_object_set_new(o, "state", json_string(app_apitoken_state(t)));
    return o;
}

static int unauth(const char **bearer_error, const char *code, struct op_err *e, const char *msg)
{
    *bearer_error = code;
    return err_set(e, OP_EUNAUTH, "%s", msg);
}

int app_apitokens_authenticate(struct instance *inst, const char *authorization,
                               char user_id[UUID_STR_LEN], const char **bearer_error,
                               struct op_err *e)
{
    user_id[0] = '\0';
    *bearer_error = "";
    char token[OAUTH2_TOKEN_MAX + 1];
    switch (oauth2_parse_bearer(authorization, token)) {
    case OAUTH2_BEARER_MISSING:
        return unauth(bearer_error, "", e,
                      "this request needs a session or an API token (Authorization: Bearer)");
    case OAUTH2_BEARER_MALFORMED:
        return unauth(bearer_error, "invalid_request", e, "malformed Authorization: Bearer header");
    case OAUTH2_BEARER_OK:
        break;
    }
    if (!oauth2_token_shape_ok(token)) {
        sodium_memzero(token, sizeof token);
        return unauth(bearer_error, "invalid_token", e, "this is not an API token of this server");
    }
    unsigned char key[OAUTH2_HASH_KEY_BYTES];
    int rc = app_oauth_hash_key(inst, key, e);
    if (rc != 0) {
        sodium_memzero(token, sizeof token);
        return rc;
    }
    char hash[OAUTH2_HASH_HEX_LEN];
    oauth2_hash(key, token, hash);
    sodium_memzero(key, sizeof key);
    sodium_memzero(token, sizeof token);
    struct api_token t;
    struct op_err le = {0};
    rc = apitokens_lookup(inst->db, hash, &t, &le);
    if (rc == OP_ENOTFOUND)
        return unauth(bearer_error, "invalid_token", e, "the API token is unknown");
    if (rc != 0)
        return err_set(e, rc, "%s", le.msg);
    const char *state = app_apitoken_state(&t);
    if (strcmp(state, "revoked") == 0)
        return unauth(bearer_error, "invalid_token", e, "the API token was revoked");
    if (strcmp(state, "expired") == 0)
        return unauth(bearer_error, "invalid_token", e, "the API token expired");
    memcpy(user_id, t.user_id, UUID_STR_LEN);
    *bearer_error = NULL;
    return 0;
}
