/* weblogin.c - a person's login on the device's web pages (weblogin.h). */
#include "app/weblogin.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/throttle.h"
#include "auth/credentials.h"
#include "auth/password.h"
#include "base/text.h"
#include "store/feed.h"
#include "store/synced.h"
#include "store/users.h"

#define THROTTLE_KIND "weblogin"
#define BAD_LOGIN     "wrong login or password"

/* A record no password matches, verified for an unknown login so that the answer takes as
 * long as for a known one (app/enrol.c does the same on central). */
#define DUMMY_RECORD                                                                               \
    "$op-argon2id$v=1$m=19456,t=2$AAAAAAAAAAAAAAAAAAAAAA$"                                         \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

/* ---- the body ---- */

int weblogin_body_parse(const char *body, size_t len, struct weblogin_body *out, char *password,
                        struct op_err *e)
{
    memset(out, 0, sizeof *out);
    password[0] = '\0';
    if (len > WEBLOGIN_BODY_MAX)
        return err_set_field(e, OP_EINPUT, "body", "login: the body is over %d bytes",
                             WEBLOGIN_BODY_MAX);
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return err_set_field(e, OP_EINPUT, "body",
                             "login: the body is not a JSON object {\"login\", \"password\"}");
    }
    int rc = 0;
    json_t *l = json_object_get(doc, "login"), *p = json_object_get(doc, "password");
    if (!json_is_string(l) || json_string_length(l) == 0)
        rc = err_set_field(e, OP_EINPUT, "login", "login: enter your login");
    else if (json_string_length(l) > WEBLOGIN_LOGIN_MAX ||
             text_check(json_string_value(l), WEBLOGIN_LOGIN_MAX) != TEXT_OK)
        rc = err_set_field(e, OP_EINPUT, "login", "login: not a valid login");
    else if (!json_is_string(p) || json_string_length(p) == 0)
        rc = err_set_field(e, OP_EINPUT, "password", "login: enter your password");
    else if (json_string_length(p) > WEBLOGIN_PASSWORD_MAX)
        rc = err_set_field(e, OP_EINPUT, "password", "login: the password is over %d bytes",
                           WEBLOGIN_PASSWORD_MAX);
    if (rc == 0) {
        snprintf(out->login, sizeof out->login, "%s", json_string_value(l));
        out->password_len = json_string_length(p);
        memcpy(password, json_string_value(p), out->password_len);
        password[out->password_len] = '\0';
        /* jansson's copy of the password: wiped before it is freed */
        sodium_memzero((char *)json_string_value(p), out->password_len);
    }
    json_decref(doc);
    return rc;
}

/* ---- the synced user ---- */

struct find_ctx {
    const char *login;
    char id[UUID_STR_LEN]; /* synced ids are UUIDs: a longer one is no user of ours */
    json_t *data;          /* the record of that login, owned */
};

static int find_login(const char *id, int64_t version, const char *data, void *vctx,
                      struct op_err *e)
{
    (void)version;
    (void)e;
    struct find_ctx *c = vctx;
    if (!strstr(data, c->login)) /* most records are not it: skip their parse */
        return 0;
    json_t *doc = json_loads(data, 0, NULL);
    const char *l = json_string_value(json_object_get(doc, "login"));
    size_t idlen = strlen(id);
    if (l && strcmp(l, c->login) == 0 && idlen < sizeof c->id) {
        memcpy(c->id, id, idlen + 1);
        c->data = doc;
        return 1; /* found: stop */
    }
    json_decref(doc);
    return 0;
}

/* The profile sealed to the user: its label, when it opens. */
static void profile_label(json_t *data, const char *id, const unsigned char *pk,
                          const unsigned char *sk, char *label, size_t cap)
{
    json_t *arr = json_object_get(data, "profile"), *it;
    size_t i;
    const char *text = NULL;
    json_array_foreach(arr, i, it)
    {
        const char *to = json_string_value(json_object_get(it, "to"));
        if (to && strcmp(to, id) == 0)
            text = json_string_value(json_object_get(it, "sealed"));
    }
    if (!text || strlen(text) > 64 * 1024)
        return;
    size_t n = strlen(text) * 3 / 4 + 1;
    unsigned char *bin = malloc(n);
    unsigned char *plain = malloc(n + 1);
    size_t got = 0;
    struct op_err ignored = {0};
    if (bin && plain &&
        sodium_base642bin(bin, n, text, strlen(text), NULL, &got, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
        got > VAULT_SEAL_OVERHEAD && vault_open(pk, sk, bin, got, plain, &ignored) == 0) {
        size_t plen = got - VAULT_SEAL_OVERHEAD;
        plain[plen] = '\0';
        json_t *prof = json_loadb((const char *)plain, plen, 0, NULL);
        const char *l = json_string_value(json_object_get(prof, "label"));
        if (l && *l && text_check(l, cap - 1) == TEXT_OK)
            snprintf(label, cap, "%s", l);
        json_decref(prof);
        sodium_memzero(plain, plen);
    }
    free(bin);
    free(plain);
}

/* ---- the login ---- */

static int reset_body(struct db *db, void *ctx, struct op_err *e)
{
    return app_throttle_reset_in(db, THROTTLE_KIND, ctx, e);
}

/* A failure: counted, and answered as one answer for every cause. */
static int refuse(struct instance *inst, const struct weblogin_request *req, struct op_err *e)
{
    app_throttle_fail(inst, THROTTLE_KIND, req->login, req->remote);
    return err_set(e, OP_EUNAUTH, BAD_LOGIN);
}

/* The login is unknown here: a sync manager enrolling the device, or a wrong login. */
static int login_unknown(struct instance *inst, const struct weblogin_request *req,
                         struct weblogin_result *out, struct op_err *e)
{
    if (!req->enrol) {
        struct op_err ignored = {0};
        (void)password_verify(DUMMY_RECORD, req->password, req->password_len, NULL, &ignored);
        return refuse(inst, req, e);
    }
    struct op_err ee = {0};
    int rc = req->enrol(inst, req->login, req->password, out->org_id, req->enrol_ctx, &ee);
    if (rc == OP_ECONFLICT || rc == OP_ENOTFOUND) {
        /* enrolled already, or no central registered: simply not a user of this device */
        struct op_err ignored = {0};
        (void)password_verify(DUMMY_RECORD, req->password, req->password_len, NULL, &ignored);
        return refuse(inst, req, e);
    }
    if (rc == OP_EUNAUTH)
        return refuse(inst, req, e);
    if (rc != 0) /* central unreachable, throttled, not a manager: said as central said it */
        return err_set_field(e, rc, WEBLOGIN_FIELD_CENTRAL, "%s", ee.msg);
    snprintf(out->login, sizeof out->login, "%s", req->login);
    snprintf(out->label, sizeof out->label, "%s", req->login);
    snprintf(out->role, sizeof out->role, "%s", ROLE_SYNC_MANAGER);
    out->enrolled = 1;
    char *login = (char *)req->login;
    return db_write(inst->db, reset_body, login, e);
}

int app_weblogin(struct instance *device, const struct weblogin_request *req,
                 unsigned char pk[VAULT_PUBLIC_BYTES], unsigned char sk[VAULT_SECRET_BYTES],
                 struct weblogin_result *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (device->role != ROLE_DEVICE)
        return err_set(e, OP_EFORBIDDEN, "web login is for a device's users; this is central");
    if (!req->login || !req->login[0] || strlen(req->login) > WEBLOGIN_LOGIN_MAX ||
        !req->password || req->password_len == 0 || req->password_len > WEBLOGIN_PASSWORD_MAX)
        return err_set_field(e, OP_EINPUT, "login", "login: a login and a password are needed");
    int rc = app_throttle_check(device, THROTTLE_KIND, req->login, req->remote, "login", e);
    if (rc != 0)
        return rc;

    struct find_ctx f = {.login = req->login};
    rc = synced_each(device->db, FEED_USER, find_login, &f, e);
    if (rc < 0) {
        json_decref(f.data);
        return rc;
    }
    if (!f.data)
        return login_unknown(device, req, out, e);

    struct user u;
    memset(&u, 0, sizeof u);
    memcpy(u.id, f.id, sizeof u.id);
    u.login = (char *)req->login;
    u.role = (char *)json_string_value(json_object_get(f.data, "role"));
    u.password_hash = (char *)json_string_value(json_object_get(f.data, "password_hash"));
    u.vault_public_key = (char *)json_string_value(json_object_get(f.data, "vault_public_key"));
    u.vault_secret_wrapped =
        (char *)json_string_value(json_object_get(f.data, "vault_secret_wrapped"));
    const char *org = json_string_value(json_object_get(f.data, "org_id"));

    struct op_err ue = {0};
    if (!u.password_hash || !u.password_hash[0] || !u.role) {
        struct op_err ignored = {0};
        (void)password_verify(DUMMY_RECORD, req->password, req->password_len, NULL, &ignored);
        rc = OP_EUNAUTH; /* no password set on central: nobody can log in as them */
    } else {
        rc = credentials_unlock(&u, req->password, req->password_len, pk, sk, &ue);
    }
    if (rc == 0) {
        snprintf(out->user_id, sizeof out->user_id, "%s", f.id);
        snprintf(out->login, sizeof out->login, "%s", req->login);
        snprintf(out->label, sizeof out->label, "%s", req->login);
        snprintf(out->role, sizeof out->role, "%s", u.role);
        snprintf(out->org_id, sizeof out->org_id, "%s", org ? org : "");
        out->has_key = 1;
        profile_label(f.data, f.id, pk, sk, out->label, sizeof out->label);
        char *login = (char *)req->login;
        rc = db_write(device->db, reset_body, login, e);
    } else if (rc == OP_ECRYPTO || rc == OP_EUNAUTH) {
        rc = refuse(device, req, e);
    } else {
        rc = err_set(e, rc, "%s", ue.msg); /* a vault that does not parse: the operator's */
    }
    json_decref(f.data);
    if (rc != 0) {
        sodium_memzero(pk, VAULT_PUBLIC_BYTES);
        sodium_memzero(sk, VAULT_SECRET_BYTES);
        memset(out, 0, sizeof *out);
    }
    return rc;
}
