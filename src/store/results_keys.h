/*
 * results_keys.h - the record of every results key central has had (crypto/keys.h): its id,
 * serial, public key and creation time, kept in the database even after its key file is lost.
 *
 * Key files are the keys; this table is only their memory. It lets intake refuse an envelope
 * sealed to a key id central never had ("never had", refused) while still accepting one
 * sealed to a key that existed and whose file is missing (stored, decrypt-results reports it
 * waiting for the key). Rows are never deleted. Writes run inside the caller's transaction.
 */
#ifndef OUTPOST_STORE_RESULTS_KEYS_H
#define OUTPOST_STORE_RESULTS_KEYS_H

#include "base/err.h"
#include "base/keysize.h"
#include "store/db.h"

/* A results key as the table records it (the key itself, with its secret, is crypto's; the
 * strings and bytes stay the caller's). */
struct results_key_info {
    const char *id; /* KEY_ID_HEX_LEN - 1 hex digits */
    int serial;
    const unsigned char *public_key; /* KEY_PUBLIC_BYTES */
    const char *created;             /* ISO-8601 UTC */
};

/* Records a results key (idempotent; a row known only by id gets the details). Recording the
 * key files of a folder: keycheck_record_results_keys (instance/keycheck.h). */
int results_keys_record(struct db *db, const struct results_key_info *k, struct op_err *e);

/* 1 if central has had the results key `id`, 0 if not, or a negative error. */
int results_keys_known(struct db *db, const char *id, struct op_err *e);

#endif
