/*
 * results.c - results on central as the application sees them (see results.h): the intake of
 * envelopes (moved here from crypto: the checks on bytes, signatures and ciphertexts are
 * crypto/envelope.h's; devices, scope, quarantine and the record of results keys are rows),
 * the import loop, decryption, and the JSON forms.
 *
 * Decryption re-checks the device signature of the stored bytes (a cheap guard against a
 * database edited behind outpost's back) but not the revoked flag: an envelope accepted
 * before its device was revoked stays valid.
 */
#include "app/results.h"
#include "app/deliveries.h"
#include "app/results_view.h"
#include "app/upload.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/log.h"
#include "crypto/envelope.h"
#include "crypto/keys.h"
#include "instance/keycheck.h"
#include "store/deliveries.h"
#include "store/devices.h"
#include "store/outbox.h"
#include "store/results_keys.h"

#define BATCH 256

/* 0 if central has had the results key `env` is sealed to; OP_EINPUT, saying it never had it,
 * if not. A key file not recorded yet (a central set up before the record existed) counts:
 * the key files are recorded, then the record is read again. */
static int check_key_known(struct db *db, const char *keys_dir, const struct envelope *env,
                           struct op_err *e)
{
    int known = results_keys_known(db, env->h.key_id, e);
    if (known == 0 && keys_dir) {
        int rc = keycheck_record_results_keys(db, keys_dir, e);
        if (rc != 0)
            return rc;
        known = results_keys_known(db, env->h.key_id, e);
    }
    if (known < 0)
        return known;
    if (!known)
        return err_set_remedy(e, OP_EINPUT, OP_REMEDY_SHOW_KEYS,
                              "result %s is sealed to results key %s, which central never had "
                              "(none of its results keys, current or past, has that id); "
                              "refused: the device must seal to central's current results key",
                              env->h.result_id, env->h.key_id);
    return 0;
}

void app_results_new_of(const struct envelope *env, struct result_new *res)
{
    const struct envelope_header *h = &env->h;
    *res = (struct result_new){
        .id = h->result_id,
        .execution_id = h->execution_id,
        .delivery_id = h->delivery_id,
        .test_taker_id = h->test_taker_id,
        .device_id = h->device_id,
        .key_id = h->key_id,
        .state = envelope_state_name(h->state),
        .started_at = h->started_at,
        .ended_at = h->ended_at,
        .sealed_at = h->sealed_at,
        .envelope = env->bytes,
        .envelope_len = env->len,
    };
    envelope_sha256(env, res->envelope_sha256);
}

#define WARN_MAX 512

/* A database failure: the transaction is rolled back (and may be run again, db_write); any
 * other failure of receive is a refusal, committed. */
static int receive_failed(int rc)
{
    return rc == OP_EDB || rc == OP_ENOMEM || rc == OP_EBUSY;
}

/* Verifies and stores one envelope inside the caller's transaction (see
 * app_results_receive); *env_out (if not NULL) gets the parsed header when parsing succeeded.
 * The quarantine row of an OP_ECONFLICT refusal is written in that transaction, which the
 * caller commits as for any refusal: only receive_failed codes call for a rollback. The
 * operator's warning about a copy held in quarantine goes to `warn` ("" when none), which the
 * caller logs once the transaction is committed (a run that db_write repeats logs nothing). */
static int receive(struct db *db, const char *keys_dir, const char *sender,
                   const unsigned char *data, size_t len, struct envelope *env_out,
                   enum app_results_outcome *outcome, char warn[WARN_MAX], struct op_err *e)
{
    warn[0] = '\0';
    struct envelope env;
    if (envelope_parse(data, len, &env, e) != 0)
        return OP_EINPUT;
    if (env_out)
        *env_out = env;
    /* Pushed by a device: the key checked is the key of the device whose credential sent it,
     * never the key of a device the envelope names. */
    if (sender && strcmp(sender, env.h.device_id) != 0)
        return err_set(e, OP_EFORBIDDEN,
                       "result %s names device %s, not device %s that sent it; refused",
                       env.h.result_id, env.h.device_id, sender);
    struct result_new res;
    app_results_new_of(&env, &res);
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
    if (rc == 0)
        rc = check_key_known(db, keys_dir, &env, e);
    char held[WARN_MAX];
    if (rc == 0) {
        /* A valid signature proves which device sent it, not that the device may speak for
         * this test taker and delivery: those must be in its organisation's scope. A result
         * of a test taken before its eligibility was withdrawn (both were in the scope once)
         * is kept, held for an operator's review: nothing taken is lost. */
        int in = results_in_scope(db, d.org_id, &res, e);
        if (in == 0)
            in = results_was_in_scope(db, d.org_id, &res, e) == 1 ? 2 : 0;
        if (in == 2) {
            snprintf(held, sizeof held,
                     "test taker %s is no longer eligible for delivery %s in organisation %s "
                     "(the eligibility was withdrawn after the test)",
                     env.h.test_taker_id, env.h.delivery_id, d.org_id);
            res.quarantine_reason = held;
        } else if (in == 0)
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
    const char *why = NULL;
    char owner[UUID_STR_LEN] = "";
    enum results_outcome stored;
    rc = results_insert(db, &res, &stored, &why, owner, e);
    if (rc != 0)
        return rc;
    if (stored != RESULTS_QUARANTINED) {
        *outcome = stored == RESULTS_DUPLICATE ? APP_RESULTS_DUPLICATE
                   : res.quarantine_reason     ? APP_RESULTS_HELD
                                               : APP_RESULTS_STORED;
        if (*outcome == APP_RESULTS_HELD)
            snprintf(warn, WARN_MAX,
                     "result %s from device %s stored and held for review: %s (outpost results "
                     "accept|reject %s)",
                     env.h.result_id, env.h.device_id, res.quarantine_reason, env.h.result_id);
        return 0;
    }
    /* For the operator, the whole story; for the sender, an ordinary refusal that says
     * neither which device holds the id nor what it holds, the same whoever sent it. */
    if (strcmp(why, RESULTS_OTHER_DEVICE) == 0)
        snprintf(warn, WARN_MAX,
                 "result %s from device %s refused: the id belongs to device %s; the copy is "
                 "held in quarantine for an operator",
                 env.h.result_id, env.h.device_id, owner);
    else
        snprintf(warn, WARN_MAX,
                 "result %s from device %s refused: the device already sent other content under "
                 "this id; the copy is held in quarantine for an operator",
                 env.h.result_id, env.h.device_id);
    return err_set(e, OP_ECONFLICT,
                   "result %s: refused; the envelope is held for review by an operator",
                   env.h.result_id);
}

struct receive_one {
    const char *keys_dir;
    const unsigned char *data;
    size_t len;
    enum app_results_outcome *outcome;
    int refused; /* receive's refusal, 0 when stored */
    struct op_err why;
    char warn[WARN_MAX];
};

/* db_write body: a refusal commits too (the copy held in quarantine is kept); it is kept in
 * the context, as db_write's *e is the commit's. */
static int receive_body(struct db *db, void *ctx, struct op_err *e)
{
    struct receive_one *r = ctx;
    memset(&r->why, 0, sizeof r->why);
    r->refused =
        receive(db, r->keys_dir, NULL, r->data, r->len, NULL, r->outcome, r->warn, &r->why);
    if (receive_failed(r->refused)) {
        *e = r->why;
        return r->refused;
    }
    return 0;
}

int app_results_receive(struct instance *inst, const unsigned char *data, size_t len,
                        enum app_results_outcome *outcome, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "receiving results", e);
    if (rc != 0)
        return rc;
    char *keys_dir = instance_path(inst, "keys");
    struct receive_one *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    *r = (struct receive_one){.keys_dir = keys_dir, .data = data, .len = len, .outcome = outcome};
    rc = db_write(inst->db, receive_body, r, e);
    free(keys_dir);
    if (rc == 0 && r->warn[0])
        log_warn("%s", r->warn);
    if (rc == 0 && r->refused) {
        *e = r->why;
        rc = r->refused;
    }
    free(r);
    return rc;
}

/* ---- pushing (a device's batch) ---- */

struct push_run {
    const char *keys_dir;
    const char *device_id; /* the credential's */
    const struct app_push_in *in;
    struct outbox_receipt *receipts;
    char (*warn)[WARN_MAX]; /* one per envelope, logged once committed */
};

static void receipt_refused(struct outbox_receipt *r, const char *reason)
{
    r->status = OUTBOX_REFUSED;
    size_t n = strnlen(reason, sizeof r->reason - 1); /* a long reason is cut */
    memcpy(r->reason, reason, n);
    r->reason[n] = '\0';
}

/* db_write body: the device, then every envelope, all in this transaction; from the start on
 * every run (the receipts are rewritten). */
static int push_body(struct db *db, void *ctx, struct op_err *e)
{
    struct push_run *run = ctx;
    const struct app_push_in *in = run->in;
    struct device d;
    int rc = devices_get(db, run->device_id, &d, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_EFORBIDDEN, "device %s is not enrolled; its results are refused",
                       run->device_id);
    if (rc != 0)
        return rc;
    int revoked = d.revoked;
    device_clear(&d);
    if (revoked)
        return err_set(e, OP_EFORBIDDEN, "device %s was revoked; its results are refused",
                       run->device_id);
    if (!in->device_id || strcmp(in->device_id, run->device_id) != 0)
        return err_set(e, OP_EFORBIDDEN,
                       "the batch names device %s, but its credential is device %s's; the "
                       "whole batch is refused",
                       in->device_id ? in->device_id : "(none)", run->device_id);
    for (int i = 0; i < in->n; i++) {
        const struct app_push_item *it = &in->items[i];
        struct outbox_receipt *r = &run->receipts[i];
        memset(r, 0, sizeof *r);
        run->warn[i][0] = '\0';
        snprintf(r->result_id, sizeof r->result_id, "%s", it->result_id ? it->result_id : "");
        sha256_hex(it->envelope, it->len, r->sha256);
        struct envelope env;
        enum app_results_outcome outcome = APP_RESULTS_STORED;
        struct op_err why = {0};
        int got = envelope_parse(it->envelope, it->len, &env, &why);
        if (got == 0 && strcmp(env.h.result_id, r->result_id) != 0) {
            char reason[OUTBOX_REASON_MAX];
            snprintf(reason, sizeof reason,
                     "the envelope holds result %s, not %s as the batch says; refused",
                     env.h.result_id, r->result_id);
            receipt_refused(r, reason);
            continue;
        }
        got = receive(db, run->keys_dir, run->device_id, it->envelope, it->len, NULL, &outcome,
                      run->warn[i], &why);
        if (receive_failed(got)) {
            *e = why;
            return got;
        }
        if (got != 0)
            receipt_refused(r, why.msg);
        else
            r->status = outcome == APP_RESULTS_DUPLICATE ? OUTBOX_DUPLICATE
                        : outcome == APP_RESULTS_HELD    ? OUTBOX_QUARANTINED
                                                         : OUTBOX_STORED;
    }
    return 0;
}

int app_results_push(struct instance *inst, const char *device_id, const struct app_push_in *in,
                     struct outbox_receipt *receipts, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "receiving pushed results", e);
    if (rc != 0)
        return rc;
    if (!device_id || !*device_id)
        return err_set(e, OP_EFORBIDDEN, "results pushed without a device credential: refused");
    if (in->n < 0 || in->n > APP_PUSH_MAX)
        return err_set(e, OP_EINPUT, "a batch holds at most %d results, not %d", APP_PUSH_MAX,
                       in->n);
    char *keys_dir = instance_path(inst, "keys");
    char(*warn)[WARN_MAX] = calloc(in->n > 0 ? (size_t)in->n : 1, sizeof *warn);
    if (!warn)
        abort();
    struct push_run run = {keys_dir, device_id, in, receipts, warn};
    rc = db_write(inst->db, push_body, &run, e);
    for (int i = 0; rc == 0 && i < in->n; i++)
        if (warn[i][0])
            log_warn("%s", warn[i]);
    free(warn);
    free(keys_dir);
    return rc;
}

/* ---- reviewing results held for review ---- */

struct review_one {
    const char *id, *review, *reason;
};

static int review_body(struct db *db, void *ctx, struct op_err *e)
{
    const struct review_one *r = ctx;
    return results_set_review(db, r->id, r->review, r->reason, e);
}

static int review(struct instance *inst, const char *what, const char *id, const char *verdict,
                  const char *reason, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, what, e);
    if (rc != 0)
        return rc;
    if (!id || !*id)
        return err_set(e, OP_EINPUT, "give the id of a result held for review");
    if (reason && strlen(reason) > APP_REVIEW_REASON_MAX)
        return err_set(e, OP_EINPUT, "the reason is longer than %d bytes", APP_REVIEW_REASON_MAX);
    struct review_one r = {id, verdict, reason && *reason ? reason : NULL};
    return db_write(inst->db, review_body, &r, e);
}

int app_results_accept(struct instance *inst, const char *id, struct op_err *e)
{
    return review(inst, "results accept", id, "accepted", NULL, e);
}

int app_results_reject(struct instance *inst, const char *id, const char *reason, struct op_err *e)
{
    return review(inst, "results reject", id, "rejected", reason, e);
}

/* One refusal of an import, kept until the transaction is over (db_write may run the import
 * again: the caller hears of the refusals of the run that counted, once). */
struct refusal {
    char *result_id; /* NULL when the header could not be read */
    size_t offset;
    char *reason;
    int rest_skipped;
    enum op_remedy remedy;
    char *warn; /* the operator's warning, NULL when none */
};

struct import_run {
    const char *keys_dir;
    int fd;
    const char *file;
    struct app_results_import_out *out;
    struct refusal *v;
    int n, cap;
};

static char *dup_or_null(const char *s)
{
    if (!s || !*s)
        return NULL;
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

static void add_refusal(struct import_run *run, const char *result_id, size_t off,
                        const struct op_err *why, int rest_skipped, const char *warn)
{
    if (run->n == run->cap) {
        run->cap = run->cap ? run->cap * 2 : 16;
        run->v = realloc(run->v, sizeof *run->v * (size_t)run->cap);
        if (!run->v)
            abort();
    }
    run->v[run->n++] = (struct refusal){dup_or_null(result_id), off,         dup_or_null(why->msg),
                                        rest_skipped,           why->remedy, dup_or_null(warn)};
}

static void clear_refusals(struct import_run *run)
{
    for (int i = 0; i < run->n; i++) {
        free(run->v[i].result_id);
        free(run->v[i].reason);
        free(run->v[i].warn);
    }
    run->n = 0;
}

/* Reads the envelopes of the open file `fd` (named `file`) one at a time and receives each,
 * inside the caller's transaction. */
static int import_fd(struct db *db, struct import_run *run, struct op_err *e)
{
    const char *keys_dir = run->keys_dir, *file = run->file;
    int fd = run->fd;
    struct app_results_import_out *out = run->out;
    unsigned char *buf = NULL;
    size_t cap = 0, off = 0;
    int rc = 0;
    for (;;) {
        struct envelope env;
        size_t used;
        struct op_err why = {0};
        int got;
        int r = envelope_read_next(fd, &buf, &cap, &env, &used, &got, &why);
        if (r == 0 && !got) {
            if (off == 0)
                rc = err_set(e, OP_EINPUT, "%s: empty file, no envelope in it", file);
            break;
        }
        if (r == OP_EIO || r == OP_ENOMEM) {
            rc = err_set(e, r, "%s: %s", file, why.msg);
            break;
        }
        if (r != 0) {
            /* Without a readable header the next envelope cannot be found: stop here. */
            out->rejected++;
            add_refusal(run, NULL, off, &why, 1, NULL);
            break;
        }
        enum app_results_outcome outcome;
        char warn[WARN_MAX];
        r = receive(db, keys_dir, NULL, buf, used, NULL, &outcome, warn, &why);
        if (r == 0 && outcome != APP_RESULTS_DUPLICATE) {
            out->stored++;
            out->held += outcome == APP_RESULTS_HELD; /* results list --status quarantined */
        } else if (r == 0) {
            out->duplicates++;
        } else if (receive_failed(r)) {
            *e = why;
            rc = r;
            break;
        } else {
            out->rejected++;
            out->quarantined += r == OP_ECONFLICT; /* refused and held in quarantine */
            add_refusal(run, env.h.result_id, off, &why, 0, warn);
        }
        off += used;
    }
    free(buf);
    return rc;
}

/* db_write body: the whole file, from its start on every run. */
static int import_body(struct db *db, void *ctx, struct op_err *e)
{
    struct import_run *run = ctx;
    memset(run->out, 0, sizeof *run->out);
    clear_refusals(run);
    if (lseek(run->fd, 0, SEEK_SET) != 0)
        return err_set(e, OP_EIO, "%s: cannot read it again from the start", run->file);
    return import_fd(db, run, e);
}

int app_results_import(struct instance *inst, const struct app_results_import_in *in,
                       struct app_results_import_out *out, app_results_refusal_fn fn, void *ctx,
                       struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "results import", e);
    if (rc == 0 && !in->file)
        rc = err_set(e, OP_EINPUT, "no file of envelopes given");
    int fd;
    if (rc == 0)
        rc = fs_open_regular(in->file, &fd, e);
    if (rc != 0)
        return rc;
    char *keys_dir = instance_path(inst, "keys");
    struct import_run run = {keys_dir, fd, in->file, out, NULL, 0, 0};
    rc = db_write(inst->db, import_body, &run, e);
    close(fd);
    free(keys_dir);
    /* the refusals of the run that counted, as before the transaction ended */
    for (int i = 0; i < run.n; i++) {
        const struct refusal *f = &run.v[i];
        if (rc == 0 && f->warn)
            log_warn("%s", f->warn);
        const struct app_results_refusal refusal = {
            f->result_id, f->offset, f->reason ? f->reason : "", f->rest_skipped, f->remedy};
        if (fn)
            fn(&refusal, ctx);
    }
    clear_refusals(&run);
    free(run.v);
    return rc;
}

json_t *app_results_refusal_json(const struct app_results_refusal *r)
{
    if (!r->result_id)
        return json_pack("{s:n, s:I, s:s}", "result_id", "offset", (json_int_t)r->offset, "reason",
                         r->reason);
    return json_pack("{s:s, s:I, s:s}", "result_id", r->result_id, "offset", (json_int_t)r->offset,
                     "reason", r->reason);
}

json_t *app_results_import_json(const struct app_results_import_out *out, json_t *refusals)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:o}", "stored", out->stored, "held", out->held,
                     "duplicates", out->duplicates, "rejected", out->rejected, "quarantined",
                     out->quarantined, "refusals", refusals);
}

/* The results keys that load, all held for one decryption run (wiped at its end). */
struct keyring {
    struct key *keys;
    int n, cap;
    int bad;         /* key files that do not load */
    const char *dir; /* the key folder */
    app_results_problem_fn fn;
    void *ctx;
};

static int keyring_add(const struct key *k, void *ctx)
{
    struct keyring *r = ctx;
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 8;
        struct key *v = sodium_allocarray((size_t)cap, sizeof *v);
        if (!v)
            return OP_ENOMEM;
        if (r->n)
            memcpy(v, r->keys, sizeof *v * (size_t)r->n);
        sodium_free(r->keys); /* wipes the old copies */
        r->keys = v;
        r->cap = cap;
    }
    r->keys[r->n++] = *k;
    return 0;
}

static void keyring_problem(const char *path, const struct op_err *why, void *ctx)
{
    struct keyring *r = ctx;
    r->bad++;
    const struct app_results_problem p = {APP_RESULTS_BAD_KEY, path, why->msg};
    if (r->fn)
        r->fn(&p, r->ctx);
}

static const struct key *keyring_find(const struct keyring *r, const char *id)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->keys[i].id, id) == 0)
            return &r->keys[i];
    return NULL;
}

/* The key of `env`, or NULL with the reason in *e and in *outcome: 2 (missing key: central
 * had it, the result waits), 1 (central never had it: damaged) or a negative error. */
static const struct key *key_for(struct db *db, const struct keyring *r, const struct envelope *env,
                                 int *outcome, struct op_err *e)
{
    const struct key *k = keyring_find(r, env->h.key_id);
    if (k)
        return k;
    int known = results_keys_known(db, env->h.key_id, e);
    if (known < 0) {
        *outcome = known;
    } else if (!known) {
        *outcome = 1;
        err_set(e, OP_ECRYPTO,
                "result %s is sealed to results key %s, which central never had (none of its "
                "results keys, current or past, has that id): it cannot be decrypted",
                env->h.result_id, env->h.key_id);
    } else if (r->bad) {
        *outcome = 2;
        err_set(e, OP_ENOTFOUND,
                "result %s is sealed to results key %s, which is not among the key files of %s "
                "that load; %d key file%s there do%s not load (reported above): fix %s, or "
                "restore the key file from a backup",
                env->h.result_id, env->h.key_id, r->dir, r->bad, r->bad > 1 ? "s" : "",
                r->bad > 1 ? "" : "es", r->bad > 1 ? "them" : "it");
    } else {
        *outcome = 2;
        err_set(e, OP_ENOTFOUND,
                "result %s is sealed to results key %s, which is not in %s (restore the key file "
                "from a backup)",
                env->h.result_id, env->h.key_id, r->dir);
    }
    return NULL;
}

/* app_upload_key_fn over the ring. */
static const struct key *ring_key(const char *key_id, void *ctx)
{
    return key_id ? keyring_find(ctx, key_id) : NULL;
}

/* 1 if the result holds a sealed answer file somewhere (app/upload.h). */
static int has_sealed_file(const json_t *v)
{
    if (app_upload_is_sealed(v))
        return 1;
    const char *k;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x)
        {
            if (has_sealed_file(x))
                return 1;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if (has_sealed_file(x))
                return 1;
        }
    }
    return 0;
}

/* Decrypts one stored envelope. Returns 0 (decrypted), 1 (damaged), 2 (missing key) with the
 * problem in *e, or a negative database error. */
static int decrypt_one(struct db *db, const struct keyring *ring, const char *id, struct op_err *e)
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
    } else if (!(k = key_for(db, ring, &env, &outcome, e))) {
        /* outcome set */
    } else if (envelope_open(&env, k, &payload, &plen, e) != 0) {
        outcome = 1;
    } else {
        json_error_t jerr;
        json_t *doc = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, &jerr);
        int frc = 0;
        if (!doc || !json_is_object(doc)) {
            err_set(e, OP_EINPUT, "result %s: the decrypted content is not a JSON object%s%s", id,
                    doc ? "" : ": ", doc ? "" : jerr.text);
            outcome = 1;
        } else if (!has_sealed_file(doc)) {
            outcome = 0;
        } else if ((frc = app_upload_open_all(doc, ring_key, (void *)ring, e)) != 0) {
            /* a file sealed to a key central lacks waits like the result would */
            outcome = frc == OP_ENOTFOUND ? 2 : frc == OP_ECRYPTO ? 1 : frc;
            if (outcome > 0)
                err_prefix(e, "result %s", id);
        } else {
            /* the answer files of the result are kept opened, as the rest of it */
            char *opened = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
            if (!opened) {
                outcome = err_set(e, OP_ENOMEM, "out of memory");
            } else {
                sodium_memzero(payload, plen);
                free(payload);
                payload = (unsigned char *)opened;
                plen = strlen(opened);
                outcome = 0;
            }
        }
        json_decref(doc);
    }
    device_clear(&d);
    int rc;
    if (outcome == 0) {
        rc = results_set_decrypted(db, id, (const char *)payload, e);
        if (rc == 0)
            rc = app_results_summarise(db, id, (const char *)payload, e);
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

/* db_write body: every key file that loads is recorded. */
static int record_ring(struct db *db, void *ctx, struct op_err *e)
{
    const struct keyring *ring = ctx;
    int rc = 0;
    for (int i = 0; i < ring->n && rc == 0; i++)
        rc = keycheck_record_results_key(db, &ring->keys[i], e);
    return rc;
}

/* One transaction of decrypt-results: ids[from .. to-1]. What a run finds (counts, problems)
 * is kept here and handed on once the transaction is over: db_write may run it again. */
struct decrypt_batch {
    const struct keyring *ring;
    char **ids;
    int from, to;
    struct app_results_decrypt_out got;
    struct app_results_problem *problems; /* reasons malloc'ed; ids borrowed from `ids` */
    int nproblems;
};

static void clear_problems(struct decrypt_batch *b)
{
    for (int k = 0; k < b->nproblems; k++)
        free((char *)b->problems[k].reason);
    b->nproblems = 0;
}

static int decrypt_batch(struct db *db, void *ctx, struct op_err *e)
{
    struct decrypt_batch *b = ctx;
    memset(&b->got, 0, sizeof b->got);
    clear_problems(b);
    int rc = 0;
    for (int j = b->from; j < b->to && rc == 0; j++) {
        struct op_err why = {0};
        int outcome = decrypt_one(db, b->ring, b->ids[j], &why);
        if (outcome < 0) {
            *e = why;
            rc = outcome;
        } else if (outcome == 0) {
            b->got.decrypted++;
        } else {
            if (outcome == 1)
                b->got.damaged++;
            else
                b->got.missing_key++;
            struct app_results_problem *grown =
                realloc(b->problems, sizeof *grown * (size_t)(b->nproblems + 1));
            char *reason = strdup(why.msg);
            if (!grown || !reason)
                abort();
            b->problems = grown;
            b->problems[b->nproblems++] = (struct app_results_problem){
                outcome == 1 ? APP_RESULTS_DAMAGED : APP_RESULTS_MISSING_KEY, b->ids[j], reason};
        }
    }
    return rc;
}

/* db_write body: the summary (app_results_summarise) of results decrypted before it was
 * recorded (migration 16). */
struct summarise_batch {
    char **ids;
    int n;
};

static int summarise_batch(struct db *db, void *ctx, struct op_err *e)
{
    const struct summarise_batch *b = ctx;
    int rc = 0;
    for (int i = 0; i < b->n && rc == 0; i++) {
        char *json = NULL;
        rc = results_get_json(db, b->ids[i], &json, e);
        if (rc == 0)
            rc = app_results_summarise(db, b->ids[i], json, e);
        free(json);
    }
    return rc;
}

static int summarise_old(struct db *db, struct op_err *e)
{
    for (;;) {
        struct summarise_batch b;
        int rc = results_unsummarised_ids(db, BATCH, &b.ids, &b.n, e);
        if (rc != 0)
            return rc;
        if (b.n > 0)
            rc = db_write(db, summarise_batch, &b, e);
        int n = b.n;
        results_free_ids(b.ids, b.n);
        if (rc != 0 || n == 0)
            return rc;
    }
}

/* The id of delivery `id_or_label` (NULL: none asked), as --delivery names it
 * (app_deliveries_resolve): an id of a delivery deleted since is taken as it is, its results
 * are kept. */
static int delivery_id_of(struct db *db, const char *id_or_label, char id[UUID_STR_LEN],
                          struct op_err *e)
{
    id[0] = '\0';
    if (!id_or_label)
        return 0;
    return app_deliveries_resolve(db, id_or_label, APP_DELIVERY_DELETED_OK, id, NULL, e);
}

int app_results_decrypt(struct instance *inst, const struct app_results_decrypt_in *in,
                        struct app_results_decrypt_out *rep, app_results_problem_fn fn, void *ctx,
                        struct op_err *e)
{
    memset(rep, 0, sizeof *rep);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "decrypt-results", e);
    if (rc != 0)
        return rc;
    struct db *db = inst->db;
    char **ids;
    int n;
    char id[UUID_STR_LEN];
    if ((rc = delivery_id_of(db, in->delivery_id, id, e)) != 0)
        return rc;
    if (results_pending_ids(db, in->delivery_id ? id : NULL, &ids, &n, e) != 0)
        return OP_EDB;
    char *keys_dir = instance_path(inst, "keys");
    struct keyring ring = {NULL, 0, 0, 0, keys_dir, fn, ctx};
    /* Every key that loads; each one that does not is reported once, here, even with nothing
     * pending, so that a bad file is known before a result needs it. */
    rc = keys_results_each(keys_dir, keyring_add, keyring_problem, &ring, e);
    if (rc == OP_ENOMEM)
        err_set(e, OP_ENOMEM, "out of memory");
    rep->bad_keys = ring.bad;
    /* every key file that loads is one central has had: record it (a central set up before
     * the record existed gets its keys recorded here) */
    if (rc == 0 && ring.n > 0)
        rc = db_write(db, record_ring, &ring, e);
    struct decrypt_batch b = {&ring, ids, 0, 0, {0}, NULL, 0};
    for (int i = 0; i < n && rc == 0; i += BATCH) {
        b.from = i;
        b.to = i + BATCH < n ? i + BATCH : n;
        rc = db_write(db, decrypt_batch, &b, e);
        /* the run that counted, as it went before the transaction ended */
        rep->decrypted += b.got.decrypted;
        rep->damaged += b.got.damaged;
        rep->missing_key += b.got.missing_key;
        for (int k = 0; k < b.nproblems && fn; k++)
            fn(&b.problems[k], ctx);
    }
    if (rc == 0)
        rc = summarise_old(db, e);
    clear_problems(&b);
    free(b.problems);
    sodium_free(ring.keys); /* wipes them */
    results_free_ids(ids, n);
    free(keys_dir);
    return rc;
}

json_t *app_results_problem_json(const struct app_results_problem *p)
{
    if (p->kind == APP_RESULTS_BAD_KEY)
        return json_pack("{s:s, s:s}", "file", p->id, "reason", p->reason);
    return json_pack("{s:s, s:b, s:s}", "result_id", p->id, "damaged",
                     p->kind == APP_RESULTS_DAMAGED, "reason", p->reason);
}

json_t *app_results_decrypt_json(const struct app_results_decrypt_out *out, json_t *problems,
                                 json_t *key_problems)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:o, s:o}", "decrypted", out->decrypted, "damaged",
                     out->damaged, "missing_key", out->missing_key, "bad_keys", out->bad_keys,
                     "problems", problems, "key_problems", key_problems);
}

/* ---- reading ---- */

json_t *app_result_json(const struct result_row *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "execution_id", json_string(r->execution_id));
    json_object_set_new(o, "delivery_id", json_string(r->delivery_id));
    json_object_set_new(o, "test_taker_id", json_string(r->test_taker_id));
    json_object_set_new(o, "test_taker_login",
                        r->test_taker_login[0] ? json_string(r->test_taker_login) : json_null());
    json_object_set_new(o, "delivery_label",
                        r->delivery_label[0] ? json_string(r->delivery_label) : json_null());
    json_object_set_new(o, "device_id", json_string(r->device_id));
    json_object_set_new(o, "key_id", json_string(r->key_id));
    json_object_set_new(o, "state", json_string(r->state));
    json_object_set_new(o, "started_at", json_string(r->started_at));
    json_object_set_new(o, "ended_at", json_string(r->ended_at));
    json_object_set_new(o, "sealed_at", json_string(r->sealed_at));
    json_object_set_new(o, "envelope_sha256", json_string(r->envelope_sha256));
    json_object_set_new(o, "status", json_string(r->status));
    json_object_set_new(o, "problem", r->problem ? json_string(r->problem) : json_null());
    json_object_set_new(o, "received_at", json_string(r->received_at));
    json_object_set_new(o, "decrypted_at",
                        r->decrypted_at[0] ? json_string(r->decrypted_at) : json_null());
    json_object_set_new(o, "quarantined", json_integer(r->quarantined));
    json_object_set_new(o, "review", r->review[0] ? json_string(r->review) : json_null());
    json_object_set_new(o, "review_reason",
                        r->review_reason ? json_string(r->review_reason) : json_null());
    return o;
}

json_t *app_quarantine_json(const struct quarantine_row *q)
{
    return json_pack(
        "{s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:s}", "result_id", q->result_id, "device_id",
        q->device_id, "owner_device_id", q->owner_device_id[0] ? q->owner_device_id : NULL,
        "reason", q->reason, "delivery_id", q->delivery_id, "test_taker_id", q->test_taker_id,
        "key_id", q->key_id, "envelope_sha256", q->envelope_sha256, "received_at", q->received_at);
}

int app_results_check_status(const char *st, struct op_err *e)
{
    if (st && strcmp(st, "pending") && strcmp(st, "decrypted") && strcmp(st, "damaged") &&
        strcmp(st, "quarantined") && strcmp(st, "accepted") && strcmp(st, "rejected"))
        return err_set(e, OP_EINPUT,
                       "unknown status \"%s\" (use pending, decrypted, damaged, quarantined, "
                       "accepted or rejected)",
                       st);
    return 0;
}

int app_results_list(struct instance *inst, const struct app_results_list_in *in, app_result_fn fn,
                     void *ctx, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "results list", e);
    if (rc != 0)
        return rc;
    if ((rc = app_results_check_status(in->status, e)) != 0)
        return rc;
    char id[UUID_STR_LEN];
    if ((rc = delivery_id_of(inst->db, in->delivery_id, id, e)) != 0)
        return rc;
    struct db_cursor c;
    results_cursor(&c, in->delivery_id ? id : NULL, in->status);
    const void *row;
    while ((rc = db_cursor_next(inst->db, &c, &row, e)) == 0 && row && (rc = fn(row, ctx)) == 0)
        ;
    db_cursor_close(&c);
    return rc;
}

int app_results_quarantine(struct instance *inst, app_quarantine_fn fn, void *ctx, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "results quarantine", e);
    if (rc != 0)
        return rc;
    struct db_cursor c;
    results_quarantine_cursor(&c);
    const void *row;
    while ((rc = db_cursor_next(inst->db, &c, &row, e)) == 0 && row && (rc = fn(row, ctx)) == 0)
        ;
    db_cursor_close(&c);
    return rc;
}

int app_results_show(struct instance *inst, const char *id, char **json, struct op_err *e)
{
    *json = NULL;
    int rc = instance_require_role(inst, ROLE_CENTRAL, "results show", e);
    return rc ? rc : results_get_json(inst->db, id, json, e);
}
