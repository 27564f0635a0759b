/*
 * sync_runs.h - the sync_runs table: one row per synchronisation, on both roles (migration
 * 6). A run is inserted 'running' when it starts and updated once when it ends, 'ok' or
 * 'failed', with what it did: counts per entity (a JSON object text), results sent, bytes
 * moved, and the error of a failed run. On central, device_id is the device that synced; on a
 * device, the device's own id.
 *
 * Writes run inside the caller's transaction.
 */
#ifndef OUTPOST_STORE_SYNC_RUNS_H
#define OUTPOST_STORE_SYNC_RUNS_H

#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "store/db.h"

#define SYNC_RUN_LIST_MAX 1000 /* the most runs one read returns */

struct sync_run {
    char id[UUID_STR_LEN];
    char device_id[UUID_STR_LEN];
    char started_at[TIMESTAMP_STR_LEN];
    char ended_at[TIMESTAMP_STR_LEN]; /* "" while running */
    char status[16];                  /* "running", "ok", "failed" */
    char *counts;                     /* JSON object text, never NULL after a read */
    int64_t results_sent;
    int64_t bytes;
    char *error; /* NULL unless failed */
};

void sync_run_clear(struct sync_run *r);

/* Inserts a 'running' run. */
int sync_runs_insert(struct db *db, const char *id, const char *device_id, const char *started_at,
                     struct op_err *e);

/* Ends the run `id`: status ("ok" or "failed"), ended_at, counts (JSON text), results sent,
 * bytes and error (NULL when none). OP_ENOTFOUND if there is no such run. */
int sync_runs_finish(struct db *db, const char *id, const char *status, const char *ended_at,
                     const char *counts, int64_t results_sent, int64_t bytes, const char *error,
                     struct op_err *e);

/* The `limit` (1 to SYNC_RUN_LIST_MAX) latest runs, newest first, of `device_id` (NULL: of
 * every device) into a new array *rows of *n (free with sync_runs_free). */
int sync_runs_latest(struct db *db, const char *device_id, int limit, struct sync_run **rows,
                     int *n, struct op_err *e);
void sync_runs_free(struct sync_run *rows, int n);

/* ---- The backoffice's list of runs, across devices ---- */

/* What sync_runs_page keeps; every member may be NULL (no filter). Borrowed strings. */
struct sync_runs_filter {
    const char *device_id;
    const char *status;   /* "running", "ok", "failed" */
    const char *from;     /* started_at >= from (a timestamp, or a prefix of one) */
    const char *until;    /* started_at < until */
    const char *admin_id; /* runs of the devices of the organisations of the test centers in
                           * that administrator's scope (TESTCENTERS_ADMIN_SCOPE_CTE) */
    /* the keyset: runs older than (before_started_at, before_id); both NULL for the newest */
    const char *before_started_at, *before_id;
};

/* A run with its device's label and organisation (NULL when the device row is gone). */
struct sync_run_row {
    struct sync_run run;
    char *device_label;
    char *org_id;
};
void sync_run_row_clear(struct sync_run_row *r);
void sync_run_rows_free(struct sync_run_row *rows, int n);

/* Up to `limit` (1 to SYNC_RUN_LIST_MAX) runs that `f` keeps, newest first (started_at, then id,
 * descending), into a new array *rows of *n (free with sync_run_rows_free); *more is 1 when more
 * runs follow the last one. */
int sync_runs_page(struct db *db, const struct sync_runs_filter *f, int limit,
                   struct sync_run_row **rows, int *n, int *more, struct op_err *e);

/* The run `id`; OP_ENOTFOUND if there is none. The caller clears *out. */
int sync_runs_get(struct db *db, const char *id, struct sync_run_row *out, struct op_err *e);

#endif
