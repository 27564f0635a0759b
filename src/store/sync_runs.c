/* sync_runs.c - SQL for the sync_runs table (see sync_runs.h). */
#include "store/sync_runs.h"

#include "store/testcenters.h"

#include <stdio.h>
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

/* ---- The backoffice's list of runs, across devices ---- */

void sync_run_row_clear(struct sync_run_row *r)
{
    sync_run_clear(&r->run);
    free(r->device_label);
    free(r->org_id);
    memset(r, 0, sizeof *r);
}

void sync_run_rows_free(struct sync_run_row *rows, int n)
{
    if (!rows)
        return;
    for (int i = 0; i < n; i++)
        sync_run_row_clear(&rows[i]);
    free(rows);
}

#define RUN_ROW_COLS                                                                               \
    "SELECT r.id, r.device_id, r.started_at, r.ended_at, r.status, r.counts, r.results_sent,"      \
    " r.bytes, r.error, d.label, d.org_id FROM sync_runs r LEFT JOIN devices d ON d.id = "         \
    "r.device_id "

/* Fills *r from a row of RUN_ROW_COLS; 0, or -1 out of memory. */
static int read_run_row(struct db_stmt *st, struct sync_run_row *r)
{
    db_column_copy(st, 0, r->run.id, sizeof r->run.id);
    db_column_copy(st, 1, r->run.device_id, sizeof r->run.device_id);
    db_column_copy(st, 2, r->run.started_at, sizeof r->run.started_at);
    db_column_copy(st, 3, r->run.ended_at, sizeof r->run.ended_at);
    db_column_copy(st, 4, r->run.status, sizeof r->run.status);
    r->run.counts = db_column_strdup(st, 5);
    r->run.results_sent = db_column_int64(st, 6);
    r->run.bytes = db_column_int64(st, 7);
    r->run.error = db_column_strdup(st, 8);
    r->device_label = db_column_strdup(st, 9);
    r->org_id = db_column_strdup(st, 10);
    if (!r->run.counts)
        r->run.counts = strdup("{}");
    return r->run.counts ? 0 : -1;
}

int sync_runs_page(struct db *db, const struct sync_runs_filter *f, int limit,
                   struct sync_run_row **rows, int *n, int *more, struct op_err *e)
{
    *rows = NULL;
    *n = 0;
    *more = 0;
    if (limit < 1 || limit > SYNC_RUN_LIST_MAX)
        return err_set(e, OP_EINPUT, "a page of sync runs holds 1 to %d runs", SYNC_RUN_LIST_MAX);
    /* The statement names only the filters given (one of at most 32 texts, each prepared
     * once): with "(?1 IS NULL OR ...)" for absent ones, PostgreSQL's generic plan reads every
     * run before the key and sorts them, where this one walks sync_runs_started backwards and
     * stops after the page. The administrator's scope, when given, is ?1 (the CTE names it). */
    char sql[2048];
    const char *vals[8];
    int nv = 0;
    size_t len =
        (size_t)snprintf(sql, sizeof sql, "%s",
                         f->admin_id ? TESTCENTERS_ADMIN_SCOPE_CTE " " RUN_ROW_COLS : RUN_ROW_COLS);
#define RUN_FILTER(value, text)                                                                    \
    do {                                                                                           \
        if (value) {                                                                               \
            vals[nv++] = (value);                                                                  \
            len += (size_t)snprintf(sql + len, sizeof sql - len, text, nv);                        \
        }                                                                                          \
    } while (0)
    if (f->admin_id) {
        vals[nv++] = f->admin_id; /* ?1 */
        len += (size_t)snprintf(sql + len, sizeof sql - len,
                                "WHERE d.org_id IN (SELECT c.org_id FROM test_centers c"
                                " WHERE c.id IN (SELECT id FROM scope)) AND");
    } else {
        len += (size_t)snprintf(sql + len, sizeof sql - len, "WHERE");
    }
    RUN_FILTER(f->device_id, " r.device_id = ?%d AND");
    RUN_FILTER(f->status, " r.status = ?%d AND");
    RUN_FILTER(f->from, " r.started_at >= ?%d AND");
    RUN_FILTER(f->until, " r.started_at < ?%d AND");
#undef RUN_FILTER
    /* "~" sorts after every timestamp (text is compared byte by byte, COLLATE "C" on
     * PostgreSQL): the first page starts before it */
    vals[nv++] = f->before_started_at ? f->before_started_at : "~";
    vals[nv++] = f->before_started_at && f->before_id ? f->before_id : "";
    snprintf(sql + len, sizeof sql - len,
             " (r.started_at, r.id) < (?%d, ?%d) ORDER BY r.started_at DESC, r.id DESC LIMIT ?%d",
             nv - 1, nv, nv + 1);
    struct db_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_texts(st, 1, vals, nv);
    db_bind_int(st, nv + 1, limit + 1);
    struct sync_run_row *out = calloc((size_t)limit, sizeof *out);
    if (!out) {
        db_stmt_done(db, st);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    int count = 0, rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (count == limit) {
            *more = 1;
            rc = DB_DONE;
            break;
        }
        if (read_run_row(st, &out[count++]) != 0) {
            db_stmt_done(db, st);
            sync_run_rows_free(out, count);
            return err_set(e, OP_ENOMEM, "out of memory");
        }
    }
    if (rc == DB_ERROR) {
        int frc = db_fail(db, e, "listing sync runs");
        db_stmt_done(db, st);
        sync_run_rows_free(out, count);
        return frc;
    }
    db_stmt_done(db, st);
    *rows = out;
    *n = count;
    return 0;
}

int sync_runs_get(struct db *db, const char *id, struct sync_run_row *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_stmt(db, RUN_ROW_COLS "WHERE r.id = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        rc = read_run_row(st, out) == 0 ? 0 : err_set(e, OP_ENOMEM, "out of memory");
    } else if (rc == DB_DONE) {
        rc = err_set(e, OP_ENOTFOUND, "sync run %s: no such run", id);
    } else {
        rc = db_fail(db, e, "reading a sync run");
    }
    db_stmt_done(db, st);
    if (rc != 0)
        sync_run_row_clear(out);
    return rc;
}
