/*
 * keycheck.h - which of central's keys the data in the database depends on, and whether a
 * missing one may be replaced.
 *
 * The vault escrow copies of users name the master key they are under (bytes 1..8, see
 * crypto/vault.h), and every stored result envelope names the results key it is sealed to.
 * A key that such data names and that is not in DIR/keys is *lost* until its file is restored
 * from a backup: making a new key in its place (what setup-central did before) would leave
 * that data unreadable for good. So setup-central refuses to make a replacement for a key
 * data depends on unless the operator says the old one is lost for good
 * (--replace-lost-key), and then says what becomes unreadable.
 */
#ifndef OUTPOST_INSTANCE_KEYCHECK_H
#define OUTPOST_INSTANCE_KEYCHECK_H

#include <stdint.h>

#include "base/err.h"
#include "crypto/keys.h"

struct instance;

/* A key that data names and that is not in the key folder. */
struct keycheck_lost {
    char id[KEY_ID_HEX_LEN];
    int64_t count;   /* users whose escrow copy is under it, or results sealed to it */
    int64_t pending; /* results only: those not decrypted yet */
};

struct keycheck {
    int master_file_missing;       /* no master.key: setup-central would make one */
    int results_none;              /* no results key at all: setup-central would make one */
    struct keycheck_lost *masters; /* master key ids of escrow copies, not in the folder */
    int nmasters;
    struct keycheck_lost *results; /* results key ids of stored results, not in the folder */
    int nresults;
};

/* Looks at the database and the key folder of a central. The caller frees with
 * keycheck_free. */
int keycheck_central(struct instance *inst, struct keycheck *out, struct op_err *e);
void keycheck_free(struct keycheck *kc);

/* 1 if setup-central would make a new key in place of one that data depends on. */
int keycheck_needs_replacement(const struct keycheck *kc);

/* The refusal: names each lost key's file and id, the data that depends on it and the
 * restore; the remedy OP_REMEDY_REPLACE_LOST_KEY lets the front end name the replacement
 * last. Returns OP_ESTATE. */
int keycheck_refuse(const struct instance *inst, const struct keycheck *kc, struct op_err *e);

/* Appends to `out` one line per lost key: what stays unreadable (after a replacement when
 * `replaced`, else a reminder that restoring the file brings it back). */
struct buf;
void keycheck_describe(const struct instance *inst, const struct keycheck *kc, int replaced,
                       struct buf *out);

/* After a replacement: records each lost master key as given up (store/meta.h), so that a
 * password reset of a user whose escrow copy is under it makes a new key pair instead of
 * refusing. Runs inside the caller's transaction. */
int keycheck_record_replaced(struct instance *inst, const struct keycheck *kc, struct op_err *e);

/* Records results key `k` as one central has had (store/results_keys.h), so that intake
 * knows it even if its file is lost later. Runs inside the caller's transaction. */
struct db;
int keycheck_record_results_key(struct db *db, const struct key *k, struct op_err *e);

/* Records every results key file of `dir` that loads (one that does not is skipped: its id
 * cannot be read safely; decrypt-results reports it). Runs inside the caller's transaction. */
int keycheck_record_results_keys(struct db *db, const char *dir, struct op_err *e);

#endif
