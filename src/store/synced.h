/*
 * synced.h - a device's copy of what central's change feed sent it (sync/pull.h applies the
 * pages): table synced_records, one row per record (entity, id, version, its data as the
 * JSON text central signed, the generation of the full resync that last saw it), and table
 * sync_state, one row: the device's organisation, its cursor (the last applied seq), whether a
 * full resync is running, and its generation.
 *
 * Synced records are central's: nothing on the device writes them but the pull. Calls that
 * write run inside the caller's transaction (db_write).
 */
#ifndef OUTPOST_STORE_SYNCED_H
#define OUTPOST_STORE_SYNCED_H

#include <stdint.h>

#include "base/err.h"
#include "store/db.h"

#define SYNCED_ORG_MAX 256

struct synced_state {
    char org_id[SYNCED_ORG_MAX]; /* "" until the device is bound to an organisation */
    int64_t cursor;
    int full_resync;
    int64_t generation;
};

int synced_state_get(struct db *db, struct synced_state *out, struct op_err *e);
int synced_state_put(struct db *db, const struct synced_state *s, struct op_err *e);

/* The stored version of (entity, id): *found 0 when there is no such row. */
int synced_version(struct db *db, const char *entity, const char *id, int64_t *version, int *found,
                   struct op_err *e);

/* Creates or replaces the row of (entity, id). */
int synced_put(struct db *db, const char *entity, const char *id, int64_t version, const char *data,
               int64_t generation, struct op_err *e);
/* The same with the `len` bytes at `data` (a record's data as a page carried it). */
int synced_put_n(struct db *db, const char *entity, const char *id, int64_t version,
                 const char *data, size_t len, int64_t generation, struct op_err *e);

/* Marks (entity, id) as seen by the full resync of `generation`. */
int synced_mark_seen(struct db *db, const char *entity, const char *id, int64_t generation,
                     struct op_err *e);

/* Deletes the row of (entity, id); *deleted 1 if there was one. */
int synced_delete(struct db *db, const char *entity, const char *id, int *deleted,
                  struct op_err *e);

/* Deletes the rows of `entity` last seen before `generation` (the end of a full resync);
 * *n gets how many. */
int synced_sweep(struct db *db, const char *entity, int64_t generation, int64_t *n,
                 struct op_err *e);

/* The data (malloc'ed JSON text, caller frees) and version of (entity, id); OP_ENOTFOUND with
 * *e untouched when the device has no such record. */
int synced_get(struct db *db, const char *entity, const char *id, int64_t *version, char **data,
               struct op_err *e);

/* Calls fn for every record of `entity`, by id, with its version and data (JSON text, valid
 * during the call); a non-zero return of fn stops the walk and is returned. */
typedef int (*synced_each_fn)(const char *id, int64_t version, const char *data, void *ctx,
                              struct op_err *e);
int synced_each(struct db *db, const char *entity, synced_each_fn fn, void *ctx, struct op_err *e);

/* How many records of `entity` (NULL: all) the device holds. */
int synced_count(struct db *db, const char *entity, int64_t *n, struct op_err *e);

/* The scope digest (docs/sync-protocol.md): lower-case hex SHA-256 over the lines
 * "entity/id/version\n" of every record, sorted by entity then id (bytewise). Central computes
 * the same over its feed (app/changes.h). */
int synced_digest(struct db *db, char out[65], struct op_err *e);
/* The same digest over central's scope of `org`: the live (not deleted) rows of its feed. */
int synced_feed_digest(struct db *db, const char *org, char out[65], struct op_err *e);
/* The digest of `org` kept for the feed's max seq `max_seq` (migration 13, `sync_digests`):
 * *found 1 and `out` filled when the kept one is for exactly that max seq. Any change to the
 * scope gives the organisation's feed a higher seq, so a digest kept for the current max seq
 * is the current digest. */
int synced_feed_digest_kept(struct db *db, const char *org, int64_t max_seq, char out[65],
                            int *found, struct op_err *e);
/* Keeps `digest` as the digest of `org` at max seq `max_seq`, unless one for a higher max seq
 * is kept already. In the caller's write transaction. */
int synced_feed_digest_keep(struct db *db, const char *org, int64_t max_seq, const char *digest,
                            struct op_err *e);

#endif
