/* keycheck.c - the keys central's data depends on (see keycheck.h). */
#include "instance/keycheck.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fs.h"
#include "crypto/vault.h"
#include "instance/instance.h"
#include "store/meta.h"
#include "store/results_keys.h"

/* Adds `n` (and `pending`) to the entry of `id`, creating it. */
static int tally(struct keycheck_lost **v, int *n, const char *id, int64_t count, int64_t pending)
{
    for (int i = 0; i < *n; i++)
        if (strcmp((*v)[i].id, id) == 0) {
            (*v)[i].count += count;
            (*v)[i].pending += pending;
            return 0;
        }
    struct keycheck_lost *p = realloc(*v, sizeof **v * (size_t)(*n + 1));
    if (!p)
        return -1;
    *v = p;
    memset(&p[*n], 0, sizeof p[*n]);
    snprintf(p[*n].id, sizeof p[*n].id, "%s", id);
    p[*n].count = count;
    p[*n].pending = pending;
    (*n)++;
    return 0;
}

/* keys_*_each callback: stops (1) at the key whose id is ctx. */
static int is_id(const struct key *k, void *ctx)
{
    return strcmp(k->id, (const char *)ctx) == 0;
}

/* Master key ids named by escrow copies, with the number of users under each. */
static int escrow_ids(struct db *db, struct keycheck_lost **v, int *n, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "SELECT vault_secret_escrow FROM users WHERE vault_secret_escrow "
                                 "IS NOT NULL AND vault_secret_escrow <> ''",
                                 e);
    if (!st)
        return OP_EDB;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        unsigned char escrow[VAULT_ESCROW_BYTES];
        struct op_err ignored = {0};
        const char *text = db_column_text(st, 0);
        if (vault_from_text(text, escrow, sizeof escrow, "escrow", &ignored) != 0)
            continue; /* a damaged copy says so when it is used */
        char id[KEY_ID_HEX_LEN];
        sodium_bin2hex(id, sizeof id, escrow + 1, KEY_ID_BYTES);
        if (tally(v, n, id, 1, 0) != 0) {
            db_stmt_done(db, st);
            return err_set(e, OP_ENOMEM, "out of memory");
        }
    }
    db_stmt_done(db, st);
    return rc == DB_DONE ? 0 : db_fail(db, e, "reading escrow copies");
}

/* Results key ids named by stored results, with how many and how many are pending. */
static int results_ids(struct db *db, struct keycheck_lost **v, int *n, struct op_err *e)
{
    struct db_stmt *st =
        db_stmt(db,
                "SELECT key_id, count(*), sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END)"
                " FROM results "
                "GROUP BY key_id ORDER BY key_id",
                e);
    if (!st)
        return OP_EDB;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        char id[KEY_ID_HEX_LEN];
        db_column_copy(st, 0, id, sizeof id);
        if (tally(v, n, id, db_column_int64(st, 1), db_column_int64(st, 2)) != 0) {
            db_stmt_done(db, st);
            return err_set(e, OP_ENOMEM, "out of memory");
        }
    }
    db_stmt_done(db, st);
    return rc == DB_DONE ? 0 : db_fail(db, e, "reading results");
}

/* Keeps the entries of `v` whose key is not in the folder. */
static int keep_missing(const char *dir, struct keycheck_lost *v, int *n,
                        int (*each)(const char *, keys_each_fn, void *, struct op_err *),
                        keys_each_fn has, struct op_err *e)
{
    int kept = 0;
    for (int i = 0; i < *n; i++) {
        int rc = each(dir, has, v[i].id, e);
        if (rc < 0)
            return rc;
        if (rc == 0)
            v[kept++] = v[i];
    }
    *n = kept;
    return 0;
}

/* keys_results_each in keys_master_each's shape: a key file that does not load is an error
 * here (the check cannot tell whether the lost key is that file). */
static int results_each(const char *dir, keys_each_fn fn, void *ctx, struct op_err *e)
{
    return keys_results_each(dir, fn, NULL, ctx, e);
}

static int count_results(const struct key *k, void *ctx)
{
    (void)k;
    (*(int *)ctx)++;
    return 0;
}

int keycheck_central(struct instance *inst, struct keycheck *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    char *dir = instance_path(inst, "keys");
    char *master = fs_join(dir, "master.key");
    out->master_file_missing = !fs_exists(master);
    free(master);
    int nkeys = 0;
    int rc = results_each(dir, count_results, &nkeys, e);
    out->results_none = rc == 0 && nkeys == 0;
    if (rc == 0)
        rc = escrow_ids(inst->db, &out->masters, &out->nmasters, e);
    if (rc == 0)
        rc = results_ids(inst->db, &out->results, &out->nresults, e);
    if (rc == 0)
        rc = keep_missing(dir, out->masters, &out->nmasters, keys_master_each, is_id, e);
    if (rc == 0)
        rc = keep_missing(dir, out->results, &out->nresults, results_each, is_id, e);
    free(dir);
    if (rc != 0)
        keycheck_free(out);
    return rc;
}

void keycheck_free(struct keycheck *kc)
{
    free(kc->masters);
    free(kc->results);
    memset(kc, 0, sizeof *kc);
}

int keycheck_needs_replacement(const struct keycheck *kc)
{
    return (kc->master_file_missing && kc->nmasters > 0) || (kc->results_none && kc->nresults > 0);
}

int keycheck_refuse(const struct instance *inst, const struct keycheck *kc, struct op_err *e)
{
    char *dir = instance_path(inst, "keys");
    struct buf b = BUF_INIT;
    if (kc->master_file_missing && kc->nmasters > 0) {
        for (int i = 0; i < kc->nmasters; i++)
            buf_printf(&b,
                       "%s/master.key is missing, and the vault escrow copies of %lld user%s "
                       "are under master key %s: restore that key file from a backup of %s "
                       "(as master.key, or as master-%s.key) and run again. ",
                       dir, (long long)kc->masters[i].count, kc->masters[i].count == 1 ? "" : "s",
                       kc->masters[i].id, dir, kc->masters[i].id);
    }
    if (kc->results_none && kc->nresults > 0) {
        for (int i = 0; i < kc->nresults; i++)
            buf_printf(&b,
                       "%s has no results key, and %lld pending result%s (%lld in all) are "
                       "sealed to results key %s: restore its key file from a backup, under its "
                       "own name (results-NNNN.key) or as %s/results-%s.key, and run again. ",
                       dir, (long long)kc->results[i].pending,
                       kc->results[i].pending == 1 ? "" : "s", (long long)kc->results[i].count,
                       kc->results[i].id, dir, kc->results[i].id);
    }
    if (b.len > 0 && b.data[b.len - 1] == ' ')
        b.data[--b.len] = '\0';
    /* the front end adds how to replace a key lost for good (OP_REMEDY_REPLACE_LOST_KEY) */
    int rc = err_set_remedy(e, OP_ESTATE, OP_REMEDY_REPLACE_LOST_KEY, "%s", b.data ? b.data : "");
    buf_free(&b);
    free(dir);
    return rc;
}

void keycheck_describe(const struct instance *inst, const struct keycheck *kc, int replaced,
                       struct buf *out)
{
    char *dir = instance_path(inst, "keys");
    int lost_master = replaced && kc->master_file_missing;
    for (int i = 0; i < kc->nmasters; i++)
        buf_printf(
            out,
            "%s master key %s: %lld escrow cop%s of user vault keys %s under it; %s (restore "
            "its key file from a backup as %s/master-%s.key to open them)\n",
            lost_master ? "replaced lost" : "missing", kc->masters[i].id,
            (long long)kc->masters[i].count, kc->masters[i].count == 1 ? "y" : "ies",
            kc->masters[i].count == 1 ? "is" : "are",
            lost_master ? "they can no longer be opened, and a password reset gives those "
                          "users a new key pair"
                        : "a password reset of those users waits for it",
            dir, kc->masters[i].id);
    for (int i = 0; i < kc->nresults; i++)
        buf_printf(out,
                   "%s results key %s: %lld pending result%s sealed to it %s (restore its key "
                   "file from a backup as %s/results-%s.key to decrypt them)\n",
                   replaced && kc->results_none ? "replaced lost" : "missing", kc->results[i].id,
                   (long long)kc->results[i].pending, kc->results[i].pending == 1 ? "" : "s",
                   replaced && kc->results_none ? "can no longer be decrypted" : "wait for it", dir,
                   kc->results[i].id);
    free(dir);
}

int keycheck_record_replaced(struct instance *inst, const struct keycheck *kc, struct op_err *e)
{
    if (!kc->master_file_missing || kc->nmasters == 0)
        return 0;
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    int rc = 0;
    for (int i = 0; i < kc->nmasters && rc == 0; i++) {
        char fact[64];
        snprintf(fact, sizeof fact, "lost-master-key:%s", kc->masters[i].id);
        rc = meta_set(inst->db, fact, now, e);
    }
    return rc;
}

int keycheck_record_results_key(struct db *db, const struct key *k, struct op_err *e)
{
    const struct results_key_info info = {k->id, k->serial, k->public_key, k->created};
    return results_keys_record(db, &info, e);
}

struct record_ctx {
    struct db *db;
    struct op_err *e;
};

static int record_one(const struct key *k, void *ctx)
{
    struct record_ctx *r = ctx;
    return keycheck_record_results_key(r->db, k, r->e);
}

static void skip_problem(const char *path, const struct op_err *why, void *ctx)
{
    (void)path;
    (void)why;
    (void)ctx;
}

int keycheck_record_results_keys(struct db *db, const char *dir, struct op_err *e)
{
    struct record_ctx r = {db, e};
    int rc = keys_results_each(dir, record_one, skip_problem, &r, e);
    return rc < 0 ? rc : 0;
}
