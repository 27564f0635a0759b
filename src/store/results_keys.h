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
#include "crypto/keys.h"
#include "store/db.h"

/* Records a results key (idempotent; a row known only by id gets the details). */
int results_keys_record(struct db *db, const struct key *k, struct op_err *e);

/* Records every results key file of `dir` that loads (one that does not is skipped: its id
 * cannot be read safely; decrypt-results reports it). */
int results_keys_record_dir(struct db *db, const char *dir, struct op_err *e);

/* 1 if central has had the results key `id`, 0 if not, or a negative error. */
int results_keys_known(struct db *db, const char *id, struct op_err *e);

#endif
