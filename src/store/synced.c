/*
 * synced.c - a device's synchronised records and pull state (see synced.h).
 */
#include "store/synced.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/ids.h"
#include "base/sha256.h"

int synced_state_get(struct db *db, struct synced_state *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_stmt(db,
                                 "SELECT org_id, cursor_seq, full_resync, generation"
                                 " FROM sync_state WHERE id = 1",
                                 e);
    if (!st)
        return OP_EDB;
    int r = db_step(st);
    if (r == DB_ROW) {
        db_column_copy(st, 0, out->org_id, sizeof out->org_id);
        out->cursor = db_column_int64(st, 1);
        out->full_resync = db_column_int(st, 2);
        out->generation = db_column_int64(st, 3);
    }
    db_stmt_done(db, st);
    if (r == DB_ERROR)
        return db_fail(db, e, "reading the sync state");
    if (r == DB_DONE)
        return err_set(e, OP_ESTATE, "the sync state row is missing from the database");
    return 0;
}

int synced_state_put(struct db *db, const struct synced_state *s, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "UPDATE sync_state SET org_id = ?1, cursor_seq = ?2,"
                                 " full_resync = ?3, generation = ?4, updated_at = ?5"
                                 " WHERE id = 1",
                                 e);
    if (!st)
        return OP_EDB;
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    db_bind_text(st, 1, s->org_id[0] ? s->org_id : NULL);
    db_bind_int64(st, 2, s->cursor);
    db_bind_int(st, 3, s->full_resync);
    db_bind_int64(st, 4, s->generation);
    db_bind_text(st, 5, now);
    return db_step_done(db, st, "writing the sync state", e);
}

int synced_version(struct db *db, const char *entity, const char *id, int64_t *version, int *found,
                   struct op_err *e)
{
    *found = 0;
    *version = 0;
    struct db_stmt *st =
        db_stmt(db, "SELECT version FROM synced_records WHERE entity = ?1 AND id = ?2", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, entity);
    db_bind_text(st, 2, id);
    int r = db_step(st);
    if (r == DB_ROW) {
        *found = 1;
        *version = db_column_int64(st, 0);
    }
    db_stmt_done(db, st);
    return r == DB_ERROR ? db_fail(db, e, "reading a synced record") : 0;
}

int synced_put(struct db *db, const char *entity, const char *id, int64_t version, const char *data,
               int64_t generation, struct op_err *e)
{
    return synced_put_n(db, entity, id, version, data, strlen(data), generation, e);
}

int synced_put_n(struct db *db, const char *entity, const char *id, int64_t version,
                 const char *data, size_t len, int64_t generation, struct op_err *e)
{
    struct db_stmt *st =
        db_stmt(db,
                "INSERT INTO synced_records (entity, id, version, data, generation)"
                " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (entity, id) DO UPDATE SET"
                " version = excluded.version, data = excluded.data,"
                " generation = excluded.generation",
                e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, entity);
    db_bind_text(st, 2, id);
    db_bind_int64(st, 3, version);
    db_bind_text_n(st, 4, data, len);
    db_bind_int64(st, 5, generation);
    return db_step_done(db, st, "writing a synced record", e);
}

int synced_mark_seen(struct db *db, const char *entity, const char *id, int64_t generation,
                     struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "UPDATE synced_records SET generation = ?3"
                                 " WHERE entity = ?1 AND id = ?2",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, entity);
    db_bind_text(st, 2, id);
    db_bind_int64(st, 3, generation);
    return db_step_done(db, st, "marking a synced record", e);
}

int synced_delete(struct db *db, const char *entity, const char *id, int *deleted, struct op_err *e)
{
    *deleted = 0;
    struct db_stmt *st = db_stmt(db, "DELETE FROM synced_records WHERE entity = ?1 AND id = ?2", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, entity);
    db_bind_text(st, 2, id);
    int rc = db_step_done(db, st, "deleting a synced record", e);
    if (rc == 0)
        *deleted = db_changes(db) > 0;
    return rc;
}

int synced_sweep(struct db *db, const char *entity, int64_t generation, int64_t *n,
                 struct op_err *e)
{
    *n = 0;
    struct db_stmt *st =
        db_stmt(db, "DELETE FROM synced_records WHERE entity = ?1 AND generation < ?2", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, entity);
    db_bind_int64(st, 2, generation);
    int rc = db_step_done(db, st, "deleting records central no longer sends", e);
    if (rc == 0)
        *n = db_changes(db);
    return rc;
}

int synced_get(struct db *db, const char *entity, const char *id, int64_t *version, char **data,
               struct op_err *e)
{
    *data = NULL;
    *version = 0;
    struct db_stmt *st =
        db_stmt(db, "SELECT version, data FROM synced_records WHERE entity = ?1 AND id = ?2", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, entity);
    db_bind_text(st, 2, id);
    int r = db_step(st);
    if (r == DB_ROW) {
        *version = db_column_int64(st, 0);
        *data = db_column_strdup(st, 1);
    }
    db_stmt_done(db, st);
    if (r == DB_ERROR)
        return db_fail(db, e, "reading a synced record");
    if (r == DB_DONE)
        return OP_ENOTFOUND;
    return *data ? 0 : err_set(e, OP_ENOMEM, "out of memory");
}

int synced_each(struct db *db, const char *entity, synced_each_fn fn, void *ctx, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "SELECT id, version, data FROM synced_records"
                                 " WHERE entity = ?1 ORDER BY id",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, entity);
    int r, rc = 0;
    while (rc == 0 && (r = db_step(st)) == DB_ROW)
        rc = fn(db_column_text(st, 0), db_column_int64(st, 1), db_column_text(st, 2), ctx, e);
    if (rc == 0 && r == DB_ERROR)
        rc = db_fail(db, e, "reading synced records");
    db_stmt_done(db, st);
    return rc;
}

int synced_count(struct db *db, const char *entity, int64_t *n, struct op_err *e)
{
    *n = 0;
    struct db_stmt *st = db_stmt(db,
                                 "SELECT count(*) FROM synced_records"
                                 " WHERE ?1 IS NULL OR entity = ?1",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, entity);
    int r = db_step(st);
    if (r == DB_ROW)
        *n = db_column_int64(st, 0);
    db_stmt_done(db, st);
    return r == DB_ROW ? 0 : db_fail(db, e, "counting synced records");
}

/* Hashes the lines "entity/id/version\n" of the rows `st` returns (bound by the caller). */
static int digest_rows(struct db *db, struct db_stmt *st, char out[65], struct op_err *e)
{
    struct buf b = {0};
    int r, rc = 0;
    while ((r = db_step(st)) == DB_ROW) {
        const char *entity = db_column_text(st, 0), *id = db_column_text(st, 1);
        if (buf_printf(&b, "%s/%s/%lld\n", entity ? entity : "", id ? id : "",
                       (long long)db_column_int64(st, 2)) != 0) {
            rc = err_set(e, OP_ENOMEM, "out of memory computing the sync digest");
            break;
        }
    }
    if (rc == 0 && r == DB_ERROR)
        rc = db_fail(db, e, "computing the sync digest");
    db_stmt_done(db, st);
    if (rc == 0)
        sha256_hex(b.len ? b.data : "", b.len, out);
    buf_free(&b);
    return rc;
}

int synced_digest(struct db *db, char out[65], struct op_err *e)
{
    struct db_stmt *st =
        db_stmt(db, "SELECT entity, id, version FROM synced_records ORDER BY entity, id", e);
    if (!st)
        return OP_EDB;
    return digest_rows(db, st, out, e);
}

int synced_feed_digest(struct db *db, const char *org, char out[65], struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "SELECT entity, entity_id, version FROM sync_feed"
                                 " WHERE org_id = ?1 AND deleted = 0 ORDER BY entity, entity_id",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    return digest_rows(db, st, out, e);
}

int synced_feed_digest_kept(struct db *db, const char *org, int64_t max_seq, char out[65],
                            int *found, struct op_err *e)
{
    *found = 0;
    out[0] = '\0';
    struct db_stmt *st =
        db_stmt(db, "SELECT max_seq, digest FROM sync_digests WHERE org_id = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    int r = db_step(st);
    if (r == DB_ROW && db_column_int64(st, 0) == max_seq) {
        const char *d = db_column_text(st, 1);
        if (d && strlen(d) == 64) {
            memcpy(out, d, 65);
            *found = 1;
        }
    }
    db_stmt_done(db, st);
    return r == DB_ERROR ? db_fail(db, e, "reading the kept sync digest") : 0;
}

int synced_feed_digest_keep(struct db *db, const char *org, int64_t max_seq, const char *digest,
                            struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO sync_digests (org_id, max_seq, digest)"
                                 " VALUES (?1, ?2, ?3) ON CONFLICT (org_id) DO UPDATE SET"
                                 " max_seq = excluded.max_seq, digest = excluded.digest"
                                 " WHERE excluded.max_seq > sync_digests.max_seq",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    db_bind_int64(st, 2, max_seq);
    db_bind_text(st, 3, digest);
    return db_step_done(db, st, "keeping the sync digest", e);
}
