/*
 * bg.h - the sync manager's big button: one synchronisation (sync/run.h, the same code and
 * the same lock as `outpost sync`) run in a background thread of `outpost serve` on a device,
 * with its live progress published for the HTTP handlers (POST and GET /api/v1/sync).
 *
 * Invariants:
 *   - At most one sync runs on a data folder: the button's thread goes through sync_run, which
 *     takes the device's sync lock (DATA/sync.lock, app/sync_history.h). A press while this
 *     server's sync runs returns that sync; a press while another process holds the lock
 *     (cron's `outpost sync`) starts nothing and reports "running, started by pid N", the pid
 *     the lock file names. A cron sync that takes the lock between the check and the thread's
 *     start is caught the same way: the thread's sync_run is refused (OP_EBUSY, no run
 *     recorded) and the press reports the other sync.
 *   - The progress is a struct behind a mutex: the sync thread writes it (sync_run's progress
 *     callback, after every page, package, batch and step), the handlers copy it out. Nothing
 *     else is shared: the thread opens its own database connection and closes it at its end,
 *     and sync_run never holds a transaction while it waits on the network.
 *   - sync_bg_stop (a server stopping) sets the run's cancel flag and waits for the thread:
 *     the run stops at its next safe point (a transfer under way is aborted at once), every
 *     page, batch of receipts and package already applied stays whole, the run is recorded
 *     'failed' with SYNC_CANCELLED_MSG, and the lock is released. Nothing is half-written,
 *     as after a crash (tests/cli/sync_kill.sh). Afterwards a press is refused.
 *
 * Not thread-safe to free: sync_bg_free after the HTTP server stopped (no handler running).
 */
#ifndef OUTPOST_SYNC_BG_H
#define OUTPOST_SYNC_BG_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "instance/instance.h"

#define SYNC_BG_PHASE_MAX 16

enum sync_bg_outcome {
    SYNC_BG_NONE = 0, /* running, or no sync known */
    SYNC_BG_OK,
    SYNC_BG_FAILED,
};

/* What the button shows. */
struct sync_bg_progress {
    int running;   /* a sync holds the lock now */
    int elsewhere; /* running in another process (cron's `outpost sync`): its steps are not
                      seen from here, only its pid and start */
    long pid;      /* the process running it (this server's when not elsewhere); 0 if unknown */
    char run_id[UUID_STR_LEN]; /* "" until the run is recorded, or when none is known */
    /* "starting", then sync_run's phases ("lock", "token", "pull", "content", "push", "keys",
     * "report"), then "done" or "failed"; "running" for a sync elsewhere; "" when none */
    char phase[SYNC_BG_PHASE_MAX];
    int64_t records;      /* records received in changes pages (of a run read back from the
                             history: the records it created, updated or deleted) */
    int64_t bytes;        /* bytes received, the package being downloaded included */
    int64_t results_sent; /* result envelopes pushed */
    enum sync_bg_outcome outcome;
    char error[OP_ERR_MAX];             /* a failed run's message, else "" */
    char started_at[TIMESTAMP_STR_LEN]; /* "" when unknown */
    char ended_at[TIMESTAMP_STR_LEN];   /* "" while running */
};

struct sync_bg;

/* A button for the device `device` (the server's instance: it must stay open until
 * sync_bg_free; the sync thread copies its read-only parts and opens its own connection).
 * OP_ESTATE on a central. */
int sync_bg_new(struct instance *device, struct sync_bg **out, struct op_err *e);

/* Presses the button. *started = 1 when a new sync started (its progress in *out, past the
 * lock: phase "lock" or later, or "failed" when it failed before); 0 when one was already
 * running, here or elsewhere (its progress in *out). `inst` is the caller's view of the
 * instance (its own connection), to read another process's run from the history. OP_EBUSY
 * once the server is stopping; OP_ENOMEM, OP_EIO when the thread cannot start. */
int sync_bg_start(struct sync_bg *bg, struct instance *inst, struct sync_bg_progress *out,
                  int *started, struct op_err *e);

/* The progress now: this server's sync while it runs; another process's while it holds the
 * lock; else the latest run of the history (its outcome, error and counts), or nothing
 * (running 0, outcome NONE, phase "") when there is none. */
int sync_bg_read(struct sync_bg *bg, struct instance *inst, struct sync_bg_progress *out,
                 struct op_err *e);

/* Cancels the running sync, if any, and waits for its thread to end (see above). Later
 * presses are refused. Idempotent. */
void sync_bg_stop(struct sync_bg *bg);

/* Stops (as sync_bg_stop) and frees. NULL does nothing. */
void sync_bg_free(struct sync_bg *bg);

/* {"running", "phase", "records", "bytes", "results_sent", "outcome" (null|"ok"|"failed"),
 * "error" (null), "started_at" (null), "ended_at" (null), "run_id" (null), "elsewhere",
 * "pid" (null)}, a new reference (NULL: out of memory). */
json_t *sync_bg_progress_json(const struct sync_bg_progress *p);

#endif
