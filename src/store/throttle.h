/*
 * throttle.h - the failure counters behind the throttling of logins and token requests
 * (app/throttle.h owns the rules). One row per key ("login:NAME", "client:ID", "addr:IP"):
 * how many failures since window_start (seconds since the epoch). Writes run inside the
 * caller's transaction; the time is the caller's (base/clock.h), never SQL's.
 */
#ifndef OUTPOST_STORE_THROTTLE_H
#define OUTPOST_STORE_THROTTLE_H

#include <stdint.h>

#include "base/err.h"
#include "store/db.h"

/* The failures of `key` and the start of their window; 0 and 0 when it has no row. */
int throttle_get(struct db *db, const char *key, int64_t *failures, int64_t *window_start,
                 struct op_err *e);

/* Sets the row of `key` (inserting it if missing). */
int throttle_put(struct db *db, const char *key, int64_t failures, int64_t window_start,
                 struct op_err *e);

/* Forgets the failures of `key` (a success). */
int throttle_reset(struct db *db, const char *key, struct op_err *e);

/* Deletes the rows whose window started before `before`. */
int throttle_delete_before(struct db *db, int64_t before, struct op_err *e);

#endif
