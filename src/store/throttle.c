/* throttle.c - SQL for the failure counters of auth_throttle (see throttle.h). */
#include "store/throttle.h"

int throttle_get(struct db *db, const char *key, int64_t *failures, int64_t *window_start,
                 struct op_err *e)
{
    *failures = 0;
    *window_start = 0;
    struct db_stmt *st =
        db_stmt(db, "SELECT failures, window_start FROM auth_throttle WHERE key = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, key);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *failures = db_column_int64(st, 0);
        *window_start = db_column_int64(st, 1);
    }
    db_stmt_done(db, st);
    return rc == DB_ERROR ? db_fail(db, e, "reading the failure counters") : 0;
}

int throttle_put(struct db *db, const char *key, int64_t failures, int64_t window_start,
                 struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO auth_throttle (key, failures, window_start)"
                                 " VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE SET"
                                 " failures = excluded.failures,"
                                 " window_start = excluded.window_start",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, key);
    db_bind_int64(st, 2, failures);
    db_bind_int64(st, 3, window_start);
    return db_step_done(db, st, "counting a failure", e);
}

int throttle_reset(struct db *db, const char *key, struct op_err *e)
{
    return db_run(db, "DELETE FROM auth_throttle WHERE key = ?1", key, NULL,
                  "resetting a failure counter", e);
}

int throttle_delete_before(struct db *db, int64_t before, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, "DELETE FROM auth_throttle WHERE window_start < ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_int64(st, 1, before);
    return db_step_done(db, st, "deleting old failure counters", e);
}
