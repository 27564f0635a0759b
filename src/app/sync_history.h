/*
 * sync_history.h - the bookkeeping of synchronisations, on both roles: each run recorded from
 * its start to its end (store/sync_runs.h), the device's sync lock, and the history that
 * `outpost sync-history` prints.
 *
 * On a device, app_sync_run_begin first takes the sync lock, an exclusive flock(2) on
 * DATA/sync.lock (base/lockfile.h), without waiting: a second sync is refused at once, OP_EBUSY
 * "a sync is already running (pid N)". The lock is held until app_sync_run_end, or until the
 * process dies (the kernel drops it). So a run still 'running' in the table while the lock is
 * free was left by a killed process: the history shows it as "interrupted".
 *
 * On central, the server begins and ends a run for each device's sync (no lock: a device's
 * own lock keeps its syncs apart); a run left 'running' by a stopped server shows as
 * "running" with no end.
 */
#ifndef OUTPOST_APP_SYNC_HISTORY_H
#define OUTPOST_APP_SYNC_HISTORY_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "instance/instance.h"

#define SYNC_LOCK_FILE       "sync.lock"
#define SYNC_HISTORY_DEFAULT 20   /* runs `sync-history` shows without --limit */
#define SYNC_RUN_ERROR_MAX   2000 /* an error text is cut to this many bytes */

/* A run between begin and end. */
struct app_sync_run {
    char id[UUID_STR_LEN];
    char device_id[UUID_STR_LEN];
    int lock_fd; /* the device's sync lock; -1 on central */
};

/* What a run did, for app_sync_run_end. */
struct app_sync_outcome {
    int ok;         /* 1: 'ok', 0: 'failed' */
    json_t *counts; /* {"<entity>": {"created": n, "updated": n, "deleted": n}}, borrowed; NULL
                     * for none */
    int64_t results_sent;
    int64_t bytes;
    const char *error; /* a failed run's message (cut to SYNC_RUN_ERROR_MAX), or NULL */
};

/* Begins a run, in its own transaction. On a device: takes the sync lock (OP_EBUSY when a
 * sync runs) and records a run of the device's own id (`device_id` must be NULL). On central:
 * records a run of the enrolled device `device_id` (OP_EINPUT if it is not a UUID,
 * OP_ENOTFOUND if it is not enrolled). On success *run holds the run until app_sync_run_end;
 * on failure nothing is held. */
int app_sync_run_begin(struct instance *inst, const char *device_id, struct app_sync_run *run,
                       struct op_err *e);

/* Ends the run with its outcome, in its own transaction, and releases the sync lock, whether
 * or not the write succeeds. OP_EINPUT for counts that are not an object of objects of
 * non-negative integers or negative totals. */
int app_sync_run_end(struct instance *inst, struct app_sync_run *run,
                     const struct app_sync_outcome *o, struct op_err *e);

/* The `limit` (1 to 1000) latest runs, newest first, as a JSON array (*out, caller releases):
 * {id, device_id, started_at, ended_at (null while running), status ("running", "ok",
 * "failed", or "interrupted": see above), counts {...}, results_sent, bytes, error (null)}.
 * `device_id` (central only; NULL for every device) filters. */
int app_sync_history(struct instance *inst, const char *device_id, int limit, json_t **out,
                     struct op_err *e);

#endif
