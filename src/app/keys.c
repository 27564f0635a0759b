/*
 * keys.c - keys show, keys rotate, setup-central and setup-device (see keys.h): which checks
 * come first, what is recorded in the database and in which transaction, and the public JSON
 * shapes of keys.
 */
#include "app/keys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "instance/keycheck.h"
#include "instance/roles.h"

json_t *app_key_json(const struct key *k)
{
    char pub[KEY_PUBLIC_BYTES * 2 + 1], fp[KEY_FINGERPRINT_HEX_LEN];
    sodium_bin2hex(pub, sizeof pub, k->public_key, sizeof k->public_key);
    key_fingerprint(k, fp);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", k->id, "public_key", pub,
                          "fingerprint_sha256", fp, "created", k->created);
    if (k->kind == KEY_RESULTS)
        json_object_set_new(o, "serial", json_integer(k->serial));
    return o;
}

/* ---- keys show ---- */

struct collect {
    json_t *arr;
    char current_id[KEY_ID_HEX_LEN]; /* by id: a replacement and a restored key share serials */
};

static int collect_results(const struct key *k, void *ctx)
{
    struct collect *c = ctx;
    json_t *o = app_key_json(k);
    json_object_set_new(o, "current", json_boolean(strcmp(k->id, c->current_id) == 0));
    json_array_append_new(c->arr, o);
    return 0;
}

struct restored {
    json_t *arr;
    const char *current_id; /* master.key's, listed as master_key */
};

static int collect_restored_master(const struct key *k, void *ctx)
{
    struct restored *r = ctx;
    if (strcmp(k->id, r->current_id) != 0)
        json_array_append_new(r->arr, json_pack("{s:s, s:s}", "id", k->id, "created", k->created));
    return 0;
}

/* The signing key without "serial" (it has none): app_key_json's shape. */
static int describe_central(const char *dir, json_t *doc, struct op_err *e)
{
    struct key k;
    struct collect c = {json_array(), ""};
    int rc = keys_results_current(dir, &k, e);
    snprintf(c.current_id, sizeof c.current_id, "%s", k.id);
    key_wipe(&k);
    if (rc == 0)
        rc = keys_results_each(dir, collect_results, NULL, &c, e);
    json_object_set_new(doc, "results_keys", c.arr);
    if (rc == 0 && (rc = keys_load_central_signing(dir, &k, e)) == 0)
        json_object_set_new(doc, "signing_key", app_key_json(&k));
    key_wipe(&k);
    if (rc == 0 && (rc = keys_load_master(dir, &k, e)) == 0)
        json_object_set_new(doc, "master_key",
                            json_pack("{s:s, s:s}", "id", k.id, "created", k.created));
    key_wipe(&k);
    /* Master keys restored beside master.key (master-<id>.key): checked, and listed. */
    struct restored r = {json_array(), ""};
    json_t *m = json_object_get(doc, "master_key");
    if (m)
        r.current_id = json_string_value(json_object_get(m, "id"));
    if (rc == 0)
        rc = keys_master_each(dir, collect_restored_master, &r, e);
    json_object_set_new(doc, "restored_master_keys", r.arr);
    return rc;
}

int app_keys_show(struct instance *inst, json_t **out, struct op_err *e)
{
    *out = NULL;
    char *dir = instance_path(inst, "keys");
    json_t *doc =
        json_pack("{s:s, s:s}", "role", instance_role_name(inst->role), "instance_id", inst->id);
    int rc;
    if (inst->role == ROLE_DEVICE) {
        struct key k;
        rc = keys_load_device_signing(dir, &k, e);
        if (rc == 0)
            json_object_set_new(doc, "signing_key", app_key_json(&k));
        key_wipe(&k);
    } else {
        rc = describe_central(dir, doc, e);
    }
    free(dir);
    if (rc != 0) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

/* ---- keys rotate ---- */

/* db_write bodies: the database only (the key files are written before). */
static int record_key(struct db *db, void *k, struct op_err *e)
{
    return keycheck_record_results_key(db, k, e);
}

int app_keys_rotate(struct instance *inst, struct key *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "keys rotate", e);
    if (rc != 0)
        return rc;
    char *dir = instance_path(inst, "keys");
    rc = keys_rotate_results(dir, out, e);
    free(dir);
    /* remembered for good, so that intake still knows the key if its file is ever lost */
    if (rc == 0)
        rc = db_write(inst->db, record_key, out, e);
    if (rc != 0)
        key_wipe(out);
    return rc;
}

/* ---- setup-central, setup-device ---- */

static void report_key(struct app_keys_setup_report *rep, struct key *k)
{
    snprintf(rep->key_id, sizeof rep->key_id, "%s", k->id);
    key_fingerprint(k, rep->fingerprint);
    key_wipe(k);
}

struct record_central {
    struct instance *inst;
    const struct keycheck *kc;
    int replacing;
    const char *dir;
};

static int record_central(struct db *db, void *ctx, struct op_err *e)
{
    struct record_central *r = ctx;
    int rc = r->replacing ? keycheck_record_replaced(r->inst, r->kc, e) : 0;
    if (rc == 0)
        rc = keycheck_record_results_keys(db, r->dir, e);
    return rc;
}

int app_keys_setup_central(struct instance *inst, const struct app_keys_setup_central_request *req,
                           struct app_keys_setup_report *rep, struct op_err *e)
{
    memset(rep, 0, sizeof *rep);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "setup-central", e);
    if (rc != 0)
        return rc;
    struct keycheck kc;
    if ((rc = keycheck_central(inst, &kc, e)) != 0)
        return rc;
    int replacing = keycheck_needs_replacement(&kc);
    if (replacing && !req->replace_lost_key)
        rc = keycheck_refuse(inst, &kc, e);
    struct keys_setup_report made = {0, 0};
    if (rc == 0) {
        /* A replacement results key is named by its id: the lost key's name stays free. */
        struct keys_setup_options kopt = {kc.results_none && kc.nresults > 0};
        rc = roles_setup_central(inst, &kopt, &made, e);
    }
    rep->created = made.created;
    rep->kept = made.kept;
    rep->replaced = rc == 0 && replacing;
    if (rc == 0) {
        struct buf notes = BUF_INIT;
        keycheck_describe(inst, &kc, replacing, &notes);
        rep->notes = notes.len ? buf_detach(&notes) : (buf_free(&notes), NULL);
    }
    /* In one transaction: the lost master keys given up (a password reset then makes a new
     * key pair), and the results keys central has, remembered even if a file is lost later. */
    char *dir = instance_path(inst, "keys");
    struct record_central rec = {inst, &kc, replacing, dir};
    if (rc == 0)
        rc = db_write(inst->db, record_central, &rec, e);
    keycheck_free(&kc);
    struct key current;
    if (rc == 0 && (rc = keys_results_current(dir, &current, e)) == 0)
        report_key(rep, &current);
    free(dir);
    return rc;
}

int app_keys_setup_device(struct instance *inst, struct app_keys_setup_report *rep,
                          struct op_err *e)
{
    memset(rep, 0, sizeof *rep);
    int rc = instance_require_role(inst, ROLE_DEVICE, "setup-device", e);
    if (rc != 0)
        return rc;
    snprintf(rep->instance_id, sizeof rep->instance_id, "%s", inst->id);
    struct keys_setup_report made = {0, 0};
    if ((rc = roles_setup_device(inst, &made, e)) != 0)
        return rc;
    rep->created = made.created;
    rep->kept = made.kept;
    char *dir = instance_path(inst, "keys");
    struct key k;
    if ((rc = keys_load_device_signing(dir, &k, e)) == 0)
        report_key(rep, &k);
    free(dir);
    return rc;
}

void app_keys_setup_report_free(struct app_keys_setup_report *rep)
{
    free(rep->notes);
    rep->notes = NULL;
}

json_t *app_keys_setup_central_json(const struct app_keys_setup_report *rep)
{
    return json_pack("{s:i, s:i, s:s, s:s}", "created", rep->created, "kept", rep->kept,
                     "results_key_id", rep->key_id, "results_key_fingerprint_sha256",
                     rep->fingerprint);
}

json_t *app_keys_setup_device_json(const struct app_keys_setup_report *rep)
{
    return json_pack("{s:i, s:i, s:s, s:s, s:s}", "created", rep->created, "kept", rep->kept,
                     "device_id", rep->instance_id, "signing_key_id", rep->key_id,
                     "signing_key_fingerprint_sha256", rep->fingerprint);
}
