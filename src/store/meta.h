/*
 * meta.h - the instance's own facts in the `meta` table (key, value): for now the master keys
 * an operator gave up for lost with `setup-central --replace-lost-key`
 * ("lost-master-key:<id>"), so that a password reset knows it may make a new key pair for a
 * user whose escrow copy is under one of them, and must refuse (restore the key) otherwise;
 * on a device, the central server it syncs with (app/central.h).
 */
#ifndef OUTPOST_STORE_META_H
#define OUTPOST_STORE_META_H

#include "base/err.h"
#include "store/db.h"

/* Sets `key` to `value` (inside the caller's transaction, or on its own). */
int meta_set(struct db *db, const char *key, const char *value, struct op_err *e);

/* The value of `key` in *value (caller frees): 0, or OP_ENOTFOUND with *e untouched when it is
 * not set, or a database error. */
int meta_get(struct db *db, const char *key, char **value, struct op_err *e);

/* Removes `key` (0 whether or not it was set). */
int meta_delete(struct db *db, const char *key, struct op_err *e);

/* 1 if `key` is set, 0 if not, negative on a database error. */
int meta_has(struct db *db, const char *key, struct op_err *e);

#endif
