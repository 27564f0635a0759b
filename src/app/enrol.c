/*
 * enrol.c - enrolling a device on central (see enrol.h). The Argon2id check of the password
 * and the loading of keys run before the transaction; the transaction itself reads the sync
 * manager again, so a user changed in between is seen.
 */
#include "app/enrol.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "app/devices.h"
#include "app/oauth.h"
#include "app/throttle.h"
#include "auth/password.h"
#include "base/text.h"
#include "crypto/keys.h"
#include "store/oauth.h"
#include "store/users.h"

#define BAD_LOGIN "enrolment refused: wrong login or password"

/* A record no password matches, verified for an unknown login so that the answer takes as
 * long as for a known one (the cost is the defaults'). */
#define DUMMY_RECORD                                                                               \
    "$op-argon2id$v=1$m=19456,t=2$AAAAAAAAAAAAAAAAAAAAAA$"                                         \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

void app_enrol_request_from(const struct enrol_request *m, struct app_enrol_request *out)
{
    out->login = m->login;
    out->password = m->password;
    out->password_len = strlen(m->password);
    out->device_id = m->device_id;
    out->label = m->label;
    memcpy(out->signing_public_key, m->signing_public_key, KEY_PUBLIC_BYTES);
}

void app_enrol_out_wipe(struct app_enrol_out *out)
{
    enrol_response_wipe(&out->msg);
}

/* Central's public keys in the answer: the signing key, the current results key and its
 * signature. */
static int fill_keys(struct instance *inst, struct enrol_response *r, struct op_err *e)
{
    char *dir = instance_path(inst, "keys");
    if (!dir)
        return err_set(e, OP_ENOMEM, "out of memory");
    struct key *sk = key_new(), *rk = key_new();
    int rc = (!sk || !rk) ? err_set(e, OP_ENOMEM, "out of memory loading keys") : 0;
    if (rc == 0)
        rc = keys_load_central_signing(dir, sk, e);
    if (rc == 0)
        rc = keys_results_current(dir, rk, e);
    if (rc == 0)
        rc = enrol_results_key_sign(sk, rk->id, rk->public_key, r->results_key_signature, e);
    if (rc == 0) {
        memcpy(r->signing_public_key, sk->public_key, KEY_PUBLIC_BYTES);
        snprintf(r->signing_key_id, sizeof r->signing_key_id, "%s", sk->id);
        key_fingerprint(sk, r->signing_key_fingerprint);
        memcpy(r->results_public_key, rk->public_key, KEY_PUBLIC_BYTES);
        snprintf(r->results_key_id, sizeof r->results_key_id, "%s", rk->id);
    }
    key_free(sk);
    key_free(rk);
    free(dir);
    return rc;
}

int app_enrol_central_keys(struct instance *central, struct enrol_response *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(central, ROLE_CENTRAL, "central's keys", e);
    return rc != 0 ? rc : fill_keys(central, out, e);
}

struct enrol_ctx {
    struct instance *inst;
    const struct app_enrol_request *req;
    const char *user_id;
    const char *login;
    const char *org_id;
    struct oauth_client client;
};

static int enrol_body(struct db *db, void *ctx, struct op_err *e)
{
    struct enrol_ctx *c = ctx;
    struct app_device_enrol_request dr = {
        c->req->device_id, c->req->label, c->org_id, c->user_id, {0}};
    memcpy(dr.signing_public_key, c->req->signing_public_key, KEY_PUBLIC_BYTES);
    /* checks again, inside the transaction, that the user is a sync manager of the org */
    int rc = app_devices_enrol_in(c->inst, &dr, e);
    if (rc == 0) {
        timestamp_now(c->client.created_at);
        rc = oauth_clients_insert(db, &c->client, e);
    }
    if (rc == 0)
        rc = app_throttle_reset_in(db, "login", c->login, e);
    return rc;
}

static int check_request(const struct app_enrol_request *req, struct op_err *e)
{
    if (!req->login || !req->login[0] || strlen(req->login) > ENROL_LOGIN_MAX)
        return err_set_field(e, OP_EINPUT, "login", "enrolment: missing or too long login");
    if (!req->password || req->password_len == 0 || req->password_len > ENROL_PASSWORD_MAX)
        return err_set_field(e, OP_EINPUT, "password", "enrolment: missing or too long password");
    if (!req->device_id || !uuid_is_valid(req->device_id))
        return err_set_field(e, OP_EINPUT, "device_id",
                             "enrolment: a device id is a UUID (the device's instance id)");
    if (!req->label || !req->label[0] || text_check(req->label, ENROL_LABEL_MAX) != TEXT_OK)
        return err_set_field(e, OP_EINPUT, "label",
                             "enrolment: the device label is 1 to 255 bytes of text");
    if (sodium_is_zero(req->signing_public_key, KEY_PUBLIC_BYTES))
        return err_set_field(e, OP_EINPUT, "signing_public_key",
                             "enrolment: no device signing key");
    return 0;
}

int app_enrol(struct instance *central, const struct app_enrol_request *req,
              const char *remote_addr, struct app_enrol_out *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(central, ROLE_CENTRAL, "device enrolment", e);
    if (rc == 0)
        rc = check_request(req, e);
    if (rc == 0)
        rc = app_throttle_check(central, "login", req->login, remote_addr, "enrolment", e);
    if (rc != 0)
        return rc;

    struct user u;
    struct op_err ue = {0};
    rc = users_get_by_login(central->db, req->login, &u, &ue);
    if (rc != 0 && rc != OP_ENOTFOUND)
        return err_set(e, rc, "%s", ue.msg);
    int found = rc == 0;
    struct op_err pe = {0};
    int good = password_verify(found ? u.password_hash : DUMMY_RECORD, req->password,
                               req->password_len, NULL, &pe) == 0;
    if (!found || !good) {
        if (found)
            user_clear(&u);
        app_throttle_fail(central, "login", req->login, remote_addr);
        return err_set(e, OP_EUNAUTH, BAD_LOGIN);
    }
    if (strcmp(u.role, ROLE_SYNC_MANAGER) != 0 || !u.org_id || !u.org_id[0]) {
        rc = err_set(e, OP_EFORBIDDEN,
                     strcmp(u.role, ROLE_SYNC_MANAGER) != 0
                         ? "enrolment refused: \"%s\" is not a sync manager; only a sync manager "
                           "enrols a device"
                         : "enrolment refused: sync manager \"%s\" has no organisation; set "
                           "theirs first",
                     u.login);
        user_clear(&u);
        return rc;
    }

    struct enrol_response *r = &out->msg;
    rc = fill_keys(central, r, e);
    unsigned char key[OAUTH2_HASH_KEY_BYTES];
    if (rc == 0)
        rc = app_oauth_hash_key(central, key, e);
    if (rc != 0) {
        user_clear(&u);
        app_enrol_out_wipe(out);
        return rc;
    }
    struct enrol_ctx c;
    memset(&c, 0, sizeof c);
    c.inst = central;
    c.req = req;
    c.user_id = u.id;
    c.login = req->login;
    c.org_id = u.org_id;
    uuid_generate(c.client.client_id);
    oauth2_random_token(r->client_secret);
    oauth2_hash(key, r->client_secret, c.client.secret_hash);
    sodium_memzero(key, sizeof key);
    snprintf(c.client.device_id, sizeof c.client.device_id, "%s", req->device_id);
    snprintf(c.client.user_id, sizeof c.client.user_id, "%s", u.id);
    snprintf(c.client.org_id, sizeof c.client.org_id, "%s", u.org_id);
    rc = db_write(central->db, enrol_body, &c, e);
    if (rc == 0) {
        snprintf(r->client_id, sizeof r->client_id, "%s", c.client.client_id);
        snprintf(r->org_id, sizeof r->org_id, "%s", u.org_id);
        snprintf(r->device_id, sizeof r->device_id, "%s", req->device_id);
    } else {
        app_enrol_out_wipe(out);
    }
    user_clear(&u);
    return rc;
}
