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

#endif
