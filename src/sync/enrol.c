/* enrol.c - enrolling a device with central, and its enrolment's settings (see enrol.h). */
#include "sync/enrol.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/central.h"
#include "base/fs.h"
#include "base/version.h"
#include "store/meta.h"
#include "sync/pull.h"

int sync_client_open(struct instance *device, struct http_client **out, struct op_err *e)
{
    *out = NULL;
    struct app_central c;
    int rc = app_central_get(device, &c, e);
    if (rc != 0)
        return rc;
    struct http_client_options o = {.root_url = c.root_url,
                                    .ca_file = c.ca_file[0] ? c.ca_file : NULL,
                                    .connect_timeout_ms = 10000,
                                    .total_timeout_ms = 120000,
                                    .max_response_bytes = 32u << 20,
                                    .user_agent = OUTPOST_USER_AGENT};
    const char *attempts = getenv("OUTPOST_SYNC_MAX_ATTEMPTS"); /* tests: fail fast */
    if (attempts && atoi(attempts) > 0) {
        o.max_attempts = atoi(attempts);
        o.backoff_base_ms = 100;
        o.backoff_max_ms = 1000;
    }
    *out = http_client_new(&o, e);
    return *out ? 0 : (e->code ? e->code : OP_ENOMEM);
}

int sync_reply_error(const struct http_reply *r, const char *what, struct op_err *e)
{
    int code = r->status == 401                      ? OP_EUNAUTH
               : r->status == 403                    ? OP_EFORBIDDEN
               : r->status == 404                    ? OP_ENOTFOUND
               : r->status == 409                    ? OP_ECONFLICT
               : r->status == 429                    ? OP_ETHROTTLED
               : r->status == 503                    ? OP_EBUSY
               : r->status >= 400 && r->status < 500 ? OP_EINPUT
                                                     : OP_EIO;
    const char *msg = NULL;
    json_t *doc = r->body.data ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
    json_t *err = doc ? json_object_get(doc, "error") : NULL;
    if (json_is_object(err))
        msg = json_string_value(json_object_get(err, "message"));
    else if (json_is_string(err)) /* RFC 6749 5.2: {"error": "invalid_client", ...} */
        msg = json_string_value(json_object_get(doc, "error_description"))
                  ? json_string_value(json_object_get(doc, "error_description"))
                  : json_string_value(err);
    err_set(e, code, "central refused %s (HTTP %ld): %s", what, r->status,
            msg ? msg : "no message (is the root URL that of an Outpost central?)");
    json_decref(doc);
    return code;
}

static void to_hex(const unsigned char *b, size_t n, char *out, size_t cap)
{
    sodium_bin2hex(out, cap, b, n);
}

static int from_hex(const char *hex, unsigned char *out, size_t n)
{
    size_t got = 0;
    if (!hex || strlen(hex) != 2 * n ||
        sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got, NULL) != 0 || got != n)
        return -1;
    return 0;
}

/* ---- reading the enrolment ---- */

static int meta_copy(struct db *db, const char *key, char *out, size_t cap, struct op_err *e)
{
    char *v = NULL;
    int rc = meta_get(db, key, &v, e);
    if (rc == 0) {
        snprintf(out, cap, "%s", v);
        free(v);
    }
    return rc;
}

int sync_enrolment_get(struct instance *device, struct sync_enrolment *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(device, ROLE_DEVICE, "the device's enrolment", e);
    if (rc != 0)
        return rc;
    struct app_central c;
    if ((rc = app_central_get(device, &c, e)) != 0)
        return rc;
    snprintf(out->root_url, sizeof out->root_url, "%s", c.root_url);
    snprintf(out->device_id, sizeof out->device_id, "%s", device->id);
    char pk[2 * KEY_PUBLIC_BYTES + 1], rk[2 * KEY_PUBLIC_BYTES + 1];
    struct op_err ignore = {0};
    rc =
        meta_copy(device->db, META_ENROL_CLIENT_ID, out->client_id, sizeof out->client_id, &ignore);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND,
                       "this device is not enrolled: enrol it with a sync manager of its "
                       "organisation first (`outpost enrol --login LOGIN`)");
    if (rc != 0)
        return err_set(e, rc, "%s", ignore.msg);
    if (rc == 0)
        rc = meta_copy(device->db, META_ENROL_ORG_ID, out->org_id, sizeof out->org_id, e);
    if (rc == 0)
        rc = meta_copy(device->db, META_CENTRAL_SIGNING_KEY, pk, sizeof pk, e);
    if (rc == 0)
        rc = meta_copy(device->db, META_CENTRAL_SIGNING_KEY_ID, out->signing_key_id,
                       sizeof out->signing_key_id, e);
    if (rc == 0)
        rc = meta_copy(device->db, META_CENTRAL_RESULTS_KEY, rk, sizeof rk, e);
    if (rc == 0)
        rc = meta_copy(device->db, META_CENTRAL_RESULTS_KEY_ID, out->results_key_id,
                       sizeof out->results_key_id, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ESTATE,
                       "this device's enrolment is incomplete: enrol it again "
                       "(`outpost enrol --login LOGIN --force`)");
    if (rc != 0)
        return rc;
    if (from_hex(pk, out->signing_public_key, KEY_PUBLIC_BYTES) != 0 ||
        from_hex(rk, out->results_public_key, KEY_PUBLIC_BYTES) != 0)
        return err_set(e, OP_ESTATE,
                       "the pinned central keys in this device's database are damaged: enrol "
                       "it again (`outpost enrol --login LOGIN --force`)");
    sha256_hex(out->signing_public_key, KEY_PUBLIC_BYTES, out->signing_key_fingerprint);
    return 0;
}

int sync_client_secret_read(struct instance *device, char **secret, struct op_err *e)
{
    *secret = NULL;
    char *path = instance_path(device, "keys/" SYNC_CLIENT_SECRET_FILE);
    if (!path)
        return err_set(e, OP_ENOMEM, "out of memory");
    size_t len = 0;
    int rc = fs_read_secret(path, OAUTH2_SECRET_MAX + 2, FS_NOFOLLOW | FS_PRIVATE,
                            "the device's client secret", secret, &len, NULL, e);
    if (rc == 0) {
        while (len > 0 && ((*secret)[len - 1] == '\n' || (*secret)[len - 1] == '\r'))
            (*secret)[--len] = '\0';
        if (len == 0) {
            fs_secret_free(*secret);
            *secret = NULL;
            rc = err_set(e, OP_ESTATE, "%s is empty: enrol the device again (--force)", path);
        }
    } else if (!fs_exists(path)) {
        rc = err_set(e, OP_ESTATE,
                     "%s is missing: enrol the device again (`outpost enrol --login LOGIN "
                     "--force`, after `outpost devices revoke` on central)",
                     path);
    }
    free(path);
    return rc;
}

json_t *sync_enrolment_json(const struct sync_enrolment *en, int with_trust)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "root_url", en->root_url, "org_id",
                          en->org_id, "client_id", en->client_id, "device_id", en->device_id,
                          "signing_key_id", en->signing_key_id, "signing_key_fingerprint_sha256",
                          en->signing_key_fingerprint, "results_key_id", en->results_key_id);
    if (o && with_trust)
        json_object_set_new(o, "trust", json_string(en->pinned ? "pin" : "first-use"));
    return o;
}

/* ---- enrolling ---- */

struct store_ctx {
    const struct enrol_response *r;
};

static int store_body(struct db *db, void *vctx, struct op_err *e)
{
    const struct enrol_response *r = ((struct store_ctx *)vctx)->r;
    char pk[2 * KEY_PUBLIC_BYTES + 1], rk[2 * KEY_PUBLIC_BYTES + 1];
    to_hex(r->signing_public_key, KEY_PUBLIC_BYTES, pk, sizeof pk);
    to_hex(r->results_public_key, KEY_PUBLIC_BYTES, rk, sizeof rk);
    int rc = meta_set(db, META_CENTRAL_SIGNING_KEY, pk, e);
    if (rc == 0)
        rc = meta_set(db, META_CENTRAL_SIGNING_KEY_ID, r->signing_key_id, e);
    if (rc == 0)
        rc = meta_set(db, META_CENTRAL_RESULTS_KEY, rk, e);
    if (rc == 0)
        rc = meta_set(db, META_CENTRAL_RESULTS_KEY_ID, r->results_key_id, e);
    if (rc == 0)
        rc = meta_set(db, META_ENROL_ORG_ID, r->org_id, e);
    if (rc == 0)
        rc = meta_set(db, META_ENROL_CLIENT_ID, r->client_id, e);
    return rc;
}

/* Checks the response: for this device, results key signed by the key presented, and that key
 * the pinned fingerprint when there is one. */
static int check_response(struct instance *device, const struct app_central *c,
                          const struct enrol_response *r, int *pinned, struct op_err *e)
{
    if (strcmp(r->device_id, device->id) != 0)
        return err_set(e, OP_ECRYPTO,
                       "central answered the enrolment of device %s, not this one (%s); nothing "
                       "was stored",
                       r->device_id, device->id);
    int rc = enrol_results_key_verify(r->signing_public_key, r->results_key_id,
                                      r->results_public_key, r->results_key_signature, e);
    if (rc != 0)
        return err_set(e, OP_ECRYPTO,
                       "central's results key is not signed by the signing key it presented; "
                       "nothing was stored (is something between this device and central "
                       "altering the traffic?)");
    *pinned = 0;
    if (c->pin[0]) {
        if (strcmp(c->pin, r->signing_key_fingerprint) != 0)
            return err_set(e, OP_ECRYPTO,
                           "central %s presented the signing key with fingerprint %s, but this "
                           "device was registered with --pin %s; nothing was stored. Compare "
                           "with what `outpost keys show` prints on central: if central's key "
                           "is that one, register again with its fingerprint "
                           "(`outpost register-central --root-url URL --pin FINGERPRINT`), "
                           "then revoke the device there (`outpost devices revoke %s`: central "
                           "enrolled it) and enrol again; if not, this is not your central",
                           c->root_url, r->signing_key_fingerprint, c->pin, device->id);
        *pinned = 1;
    }
    return 0;
}

static int write_secret(struct instance *device, const char *secret, struct op_err *e)
{
    char *dir = instance_path(device, "keys");
    char *path = instance_path(device, "keys/" SYNC_CLIENT_SECRET_FILE);
    int rc = dir && path ? fs_mkdir_p(dir, 0700, e) : err_set(e, OP_ENOMEM, "out of memory");
    if (rc == 0)
        rc = fs_write_atomic(path, secret, strlen(secret), 0600, e);
    free(dir);
    free(path);
    return rc;
}

int sync_enrol(struct instance *device, const struct sync_enrol_request *req,
               struct sync_enrolment *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(device, ROLE_DEVICE, "enrol", e);
    if (rc != 0)
        return rc;
    struct app_central c;
    if ((rc = app_central_get(device, &c, e)) != 0)
        return rc;
    struct sync_enrolment have;
    struct op_err ignore = {0};
    if (sync_enrolment_get(device, &have, &ignore) == 0 && !req->force)
        return err_set(e, OP_ECONFLICT,
                       "this device is enrolled already (organisation %s, client %s, central "
                       "%s). To enrol it again (another sync manager or organisation, a lost "
                       "credential), revoke it on central first (`outpost devices revoke %s`), "
                       "then run enrol again with --force: its credential is replaced, and "
                       "the records synced so far are cleared if the organisation changes",
                       have.org_id, have.client_id, have.root_url, device->id);

    struct enrol_request m;
    memset(&m, 0, sizeof m);
    if (!req->login || !req->login[0] || strlen(req->login) > ENROL_LOGIN_MAX)
        return err_set_field(e, OP_EINPUT, "login", "give the sync manager's login (--login)");
    if (!req->password || !req->password[0] || strlen(req->password) > ENROL_PASSWORD_MAX)
        return err_set_field(e, OP_EINPUT, "password", "the password is empty or too long");
    snprintf(m.login, sizeof m.login, "%s", req->login);
    snprintf(m.password, sizeof m.password, "%s", req->password);
    snprintf(m.device_id, sizeof m.device_id, "%s", device->id);
    if (req->label && strlen(req->label) > ENROL_LABEL_MAX) {
        enrol_request_wipe(&m);
        return err_set_field(e, OP_EINPUT, "label", "the label is over %d bytes", ENROL_LABEL_MAX);
    }
    if (req->label && req->label[0])
        snprintf(m.label, sizeof m.label, "%s", req->label);
    else
        snprintf(m.label, sizeof m.label, "device %.8s", device->id);
    char *keys = instance_path(device, "keys");
    struct key k;
    memset(&k, 0, sizeof k);
    rc = keys ? keys_load_device_signing(keys, &k, e) : err_set(e, OP_ENOMEM, "out of memory");
    free(keys);
    if (rc == 0)
        memcpy(m.signing_public_key, k.public_key, KEY_PUBLIC_BYTES);
    key_wipe(&k);
    char *body = rc == 0 ? enrol_request_json(&m) : NULL;
    if (rc == 0 && !body)
        rc = err_set(e, OP_ENOMEM, "out of memory");
    size_t blen = body ? strlen(body) : 0;
    enrol_request_wipe(&m);

    /* The network, outside any transaction. */
    struct http_client *hc = NULL;
    struct http_reply reply = {0};
    if (rc == 0)
        rc = sync_client_open(device, &hc, e);
    if (rc == 0)
        rc = http_post(hc, "/api/v1/enrol", "application/json", body, blen, &reply, e);
    if (body) {
        sodium_memzero(body, blen);
        free(body);
    }
    http_client_free(hc);
    if (rc == 0 && reply.status != 201 && reply.status != 200)
        rc = sync_reply_error(&reply, "the enrolment", e);

    struct enrol_response r;
    memset(&r, 0, sizeof r);
    if (rc == 0) {
        rc = enrol_response_parse(reply.body.data, reply.body.len, &r, e);
        if (rc != 0)
            rc = err_set(e, OP_ECRYPTO,
                         "central's answer to the enrolment is malformed (%s); "
                         "nothing was stored",
                         e->msg);
    }
    if (reply.body.data)
        sodium_memzero(reply.body.data, reply.body.len);
    http_reply_free(&reply);
    int pinned = 0;
    if (rc == 0)
        rc = check_response(device, &c, &r, &pinned, e);
    if (rc == 0)
        rc = write_secret(device, r.client_secret, e);
    struct store_ctx sc = {&r};
    if (rc == 0)
        rc = db_write(device->db, store_body, &sc, e);
    if (rc == 0)
        rc = sync_device_bind_org(device, r.org_id, e);
    enrol_response_wipe(&r);
    if (rc == 0) {
        rc = sync_enrolment_get(device, out, e);
        out->pinned = pinned;
    }
    return rc;
}

/* ---- a rotated results key ---- */

struct results_ctx {
    const char *id;
    const char *hex;
    int changed;
};

static int results_body(struct db *db, void *vctx, struct op_err *e)
{
    struct results_ctx *c = vctx;
    char *old = NULL;
    struct op_err ignore = {0};
    int rc = meta_get(db, META_CENTRAL_RESULTS_KEY, &old, &ignore);
    c->changed = rc != 0 || strcmp(old, c->hex) != 0;
    free(old);
    if (!c->changed)
        return 0;
    rc = meta_set(db, META_CENTRAL_RESULTS_KEY, c->hex, e);
    if (rc == 0)
        rc = meta_set(db, META_CENTRAL_RESULTS_KEY_ID, c->id, e);
    return rc;
}

int sync_keys_store_results(struct instance *device, const char *results_key_id,
                            const unsigned char results_pk[KEY_PUBLIC_BYTES],
                            const unsigned char sig[SIGN_BYTES], int *changed, struct op_err *e)
{
    *changed = 0;
    struct sync_enrolment en;
    int rc = sync_enrolment_get(device, &en, e);
    if (rc != 0)
        return rc;
    if (enrol_results_key_verify(en.signing_public_key, results_key_id, results_pk, sig, e) != 0)
        return err_set(e, OP_ECRYPTO,
                       "central's results key %s is not signed by the pinned signing key %s: "
                       "kept the results key %s. Check that central's keys have not changed "
                       "(`outpost keys show` on central)",
                       results_key_id, en.signing_key_id, en.results_key_id);
    char hex[2 * KEY_PUBLIC_BYTES + 1];
    to_hex(results_pk, KEY_PUBLIC_BYTES, hex, sizeof hex);
    struct results_ctx c = {results_key_id, hex, 0};
    rc = db_write(device->db, results_body, &c, e);
    *changed = c.changed;
    return rc;
}
