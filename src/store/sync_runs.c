/* sync_runs.c - SQL for the sync_runs table (see sync_runs.h). */
#include "store/sync_runs.h"

#include <stdlib.h>
#include <string.h>

void sync_run_clear(struct sync_run *r)
{
    free(r->counts);
    free(r->error);
    memset(r, 0, sizeof *r);
}

int sync_runs_insert(struct db *db, const char *id, const char *device_id, const char *started_at,
                     struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO sync_runs (id, device_id, started_at, status, counts)"
                                 " VALUES (?1, ?2, ?3, 'running', '{}')",
                                 e);
    if (!st)
        return OP_EDB;
    const char *texts[] = {id, device_id, started_at};
    db_bind_texts(st, 1, texts, 3);
    return db_step_done(db, st, "recording a sync run", e);
}

int sync_runs_finish(struct db *db, const char *id, const char *status, const char *ended_at,
                     const char *counts, int64_t results_sent, int64_t bytes, const char *error,
                     struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "UPDATE sync_runs SET status = ?2, ended_at = ?3, counts = ?4,"
                                 " results_sent = ?5, bytes = ?6, error = ?7 WHERE id = ?1",
                                 e);
    if (!st)
        return OP_EDB;
    const char *texts[] = {id, status, ended_at, counts};
    db_bind_texts(st, 1, texts, 4);
    db_bind_int64(st, 5, results_sent);
    db_bind_int64(st, 6, bytes);
    db_bind_text(st, 7, error);
    int rc = db_step_done(db, st, "ending a sync run", e);
    if (rc == 0 && db_changes(db) == 0)
        return err_set(e, OP_ENOTFOUND, "sync run %s: no such run", id);
    return rc;
}

#define RUN_COLS                                                                                   \
    "SELECT id, device_id, started_at, ended_at, status, counts, results_sent, bytes, error"       \
    " FROM sync_runs "

int sync_runs_latest(struct db *db, const char *device_id, int limit, struct sync_run **rows,
                     int *n, struct op_err *e)
{
    *rows = NULL;
    *n = 0;
    if (limit < 1 || limit > SYNC_RUN_LIST_MAX)
        return err_set(e, OP_EINPUT, "a limit of sync runs is between 1 and %d", SYNC_RUN_LIST_MAX);
    struct db_stmt *st =
        device_id ? db_stmt(db,
                            RUN_COLS "WHERE device_id = ?1 ORDER BY started_at DESC, id DESC"
                                     " LIMIT ?2",
                            e)
                  : db_stmt(db, RUN_COLS "ORDER BY started_at DESC, id DESC LIMIT ?1", e);
    if (!st)
        return OP_EDB;
    if (device_id) {
        db_bind_text(st, 1, device_id);
        db_bind_int(st, 2, limit);
    } else {
        db_bind_int(st, 1, limit);
    }
    struct sync_run *out = calloc((size_t)limit, sizeof *out);
    if (!out) {
        db_stmt_done(db, st);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    int count = 0, rc;
    while ((rc = db_step(st)) == DB_ROW && count < limit) {
        struct sync_run *r = &out[count++];
        db_column_copy(st, 0, r->id, sizeof r->id);
        db_column_copy(st, 1, r->device_id, sizeof r->device_id);
        db_column_copy(st, 2, r->started_at, sizeof r->started_at);
        db_column_copy(st, 3, r->ended_at, sizeof r->ended_at);
        db_column_copy(st, 4, r->status, sizeof r->status);
        r->counts = db_column_strdup(st, 5);
        r->results_sent = db_column_int64(st, 6);
        r->bytes = db_column_int64(st, 7);
        r->error = db_column_strdup(st, 8);
        if (!r->counts) {
            r->counts = strdup("{}");
            if (!r->counts) {
                rc = DB_ERROR;
                break;
            }
        }
    }
    if (rc == DB_ERROR) {
        int frc = db_fail(db, e, "listing sync runs");
        db_stmt_done(db, st);
        sync_runs_free(out, count);
        return frc;
    }
    db_stmt_done(db, st);
    *rows = out;
    *n = count;
    return 0;
}

void sync_runs_free(struct sync_run *rows, int n)
{
    if (!rows)
        return;
    for (int i = 0; i < n; i++)
        sync_run_clear(&rows[i]);
    free(rows);
}
