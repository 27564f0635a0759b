/*
 * intake.c - receiving and decrypting result envelopes on central (see intake.h).
 *
 * Decryption re-checks the device signature of the stored bytes (a cheap guard against a
 * database edited behind outpost's back) but not the revoked flag: an envelope accepted
 * before its device was revoked stays valid.
 */
#include "crypto/intake.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "store/devices.h"
#include "store/results.h"

#define KEY_CACHE_MAX 32
#define BATCH         256

int intake_receive(struct db *db, const unsigned char *data, size_t len, struct envelope *env_out,
                   struct op_err *e)
{
    struct envelope env;
    if (envelope_parse(data, len, &env, e) != 0)
        return OP_EINPUT;
    if (env_out)
        *env_out = env;
    struct device d;
    int rc = devices_get(db, env.h.device_id, &d, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "result %s: unknown device %s (not enrolled)",
                       env.h.result_id, env.h.device_id);
    if (rc != 0)
        return rc;
    if (d.revoked) {
        rc = err_set(e, OP_ESTATE, "result %s: device %s (%s) is revoked", env.h.result_id, d.id,
                     d.label ? d.label : "");
        device_clear(&d);
        return rc;
    }
    rc = envelope_verify(&env, d.signing_public_key, e);
    if (rc == 0) {
        /* A valid signature proves which device sent it, not that the device may speak for
         * this test taker and delivery: those must be in its organisation's scope. */
        int in = results_in_scope(db, d.org_id, &env, e);
        if (in == 0)
            rc = err_set(e, OP_ESTATE,
                         "result %s: test taker %s is not eligible for delivery %s at a test "
                         "center of organisation %s, the organisation of device %s; refused",
                         env.h.result_id, env.h.test_taker_id, env.h.delivery_id, d.org_id, d.id);
        else if (in < 0)
            rc = in;
    }
    device_clear(&d);
    if (rc != 0)
        return rc;
    return results_insert(db, &env, e);
}

struct key_cache {
    struct key keys[KEY_CACHE_MAX];
    int n;
};

/* The results key `id` from the cache or the key folder; NULL with *e filled if missing. */
static const struct key *cached_key(struct key_cache *c, const char *dir, const char *id,
                                    struct op_err *e)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->keys[i].id, id) == 0)
            return &c->keys[i];
    struct key k;
    if (keys_results_by_id(dir, id, &k, e) != 0)
        return NULL;
    if (c->n == KEY_CACHE_MAX) { /* never in practice: recycle the oldest slot */
        key_wipe(&c->keys[0]);
        memmove(&c->keys[0], &c->keys[1], sizeof c->keys[0] * (KEY_CACHE_MAX - 1));
        c->n--;
    }
    c->keys[c->n] = k;
    key_wipe(&k);
    return &c->keys[c->n++];
}

/* Decrypts one stored envelope. Returns 0 (decrypted), 1 (damaged), 2 (missing key) with the
 * problem in *e, or a negative database error. */
static int decrypt_one(struct db *db, struct key_cache *cache, const char *dir, const char *id,
                       struct op_err *e)
{
    unsigned char *data;
    size_t len;
    if (results_get_envelope(db, id, &data, &len, e) != 0)
        return e->code;
    struct envelope env;
    int outcome = 1;
    unsigned char *payload = NULL;
    size_t plen = 0;
    struct device d;
    memset(&d, 0, sizeof d);
    const struct key *k = NULL;
    int drc = 0;
    if (envelope_parse(data, len, &env, e) != 0) {
        outcome = 1;
    } else if ((drc = devices_get(db, env.h.device_id, &d, e)) == OP_EDB) {
        outcome = OP_EDB;
    } else if (drc != 0 || envelope_verify(&env, d.signing_public_key, e) != 0) {
        outcome = 1;
    } else if (!(k = cached_key(cache, dir, env.h.key_id, e))) {
        outcome = e->code == OP_ENOTFOUND ? 2 : e->code;
    } else if (envelope_open(&env, k, &payload, &plen, e) != 0) {
        outcome = 1;
    } else {
        json_error_t jerr;
        json_t *doc = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc || !json_is_object(doc)) {
            err_set(e, OP_EINPUT, "result %s: the decrypted content is not a JSON object%s%s", id,
                    doc ? "" : ": ", doc ? "" : jerr.text);
            outcome = 1;
        } else {
            outcome = 0;
        }
        json_decref(doc);
    }
    device_clear(&d);
    int rc;
    if (outcome == 0) {
        rc = results_set_decrypted(db, id, (const char *)payload, e);
    } else if (outcome == 1) {
        struct op_err why = *e;
        rc = results_set_damaged(db, id, why.msg, e);
        if (rc == 0)
            *e = why;
    } else if (outcome == 2) {
        struct op_err why = *e;
        rc = results_set_problem(db, id, why.msg, e);
        if (rc == 0)
            *e = why;
    } else {
        rc = outcome;
    }
    if (payload) {
        sodium_memzero(payload, plen);
        free(payload);
    }
    free(data);
    return rc < 0 ? rc : outcome;
}

int intake_decrypt(struct db *db, const char *keys_dir, const char *delivery_id,
                   struct intake_report *rep, intake_problem_fn fn, void *ctx, struct op_err *e)
{
    memset(rep, 0, sizeof *rep);
    char **ids;
    int n;
    if (results_pending_ids(db, delivery_id, &ids, &n, e) != 0)
        return OP_EDB;
    struct key_cache *cache = calloc(1, sizeof *cache);
    if (!cache) {
        results_free_ids(ids, n);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i += BATCH) {
        if ((rc = db_begin(db, e)) != 0)
            break;
        for (int j = i; j < n && j < i + BATCH && rc == 0; j++) {
            struct op_err why = {0};
            int outcome = decrypt_one(db, cache, keys_dir, ids[j], &why);
            if (outcome < 0) {
                *e = why;
                rc = outcome;
            } else if (outcome == 0) {
                rep->decrypted++;
            } else {
                if (outcome == 1)
                    rep->damaged++;
                else
                    rep->missing_key++;
                if (fn)
                    fn(ids[j], outcome == 1, why.msg, ctx);
            }
        }
        rc = db_commit_if(db, rc, e);
    }
    for (int i = 0; i < cache->n; i++)
        key_wipe(&cache->keys[i]);
    free(cache);
    results_free_ids(ids, n);
    return rc;
}
