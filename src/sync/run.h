/*
 * run.h - `outpost sync` (TAO's SynchronizeAll): one synchronisation of a device with its
 * central, over the endpoints of docs/protocol.md. In order:
 *
 *   lock     app_sync_run_begin: the device's sync lock (a second sync is refused at once)
 *   token    POST /api/v1/oauth/token (client credentials, HTTP Basic); a token that
 *            expires mid-sync (401 invalid_token) is renewed once
 *   pull     GET /api/v1/changes from the cursor, each page verified with the PINNED key,
 *            a batch of pages applied with the cursor after its last page in one transaction
 *            (sync/pull.h), until the last page;
 *            a digest mismatch starts a full resync, at most SYNC_MAX_RESYNCS times per run
 *   content  the encrypted packages the synced deliveries name and the device lacks,
 *            GET /api/v1/packages/{enc_sha256}, resumable, verified, then stored
 *   push     POST /api/v1/results batches of the outbox until it is empty, each answered by
 *            signed receipts applied in one transaction (sync/results_push.h)
 *   keys     GET /api/v1/keys: a rotated results key, taken only if signed by the pinned key
 *   report   POST /api/v1/sync/report: the run's outcome for central's records
 *   end      app_sync_run_end: the run in the device's sync history, the lock released
 *
 * Every step is safe to cut by a crash at any point (tests/cli/sync_kill.sh): each page, each
 * batch of receipts, each package lands in one transaction or one rename; the next sync
 * resumes from the cursor, the .part file and the pending envelopes. Pages are applied a batch
 * at a time (sync/pull.h: up to SYNC_APPLY_PAGES_MAX pages or SYNC_APPLY_BYTES_MAX bytes held,
 * verified and parsed, then applied with the cursor after the last in one transaction), so a
 * first sync of many pages commits (and fsyncs) once or twice, not once a page.
 *
 * OUTPOST_TEST_KILL_AT=STEP (tests only) makes the process SIGKILL itself at STEP: "token",
 * "held-N" (the Nth page fetched, verified and held, its batch not yet applied), "page-N"
 * (after the batch holding the Nth page was applied), "package-N" (halfway through the Nth
 * download),
 * "batch-N" (after the Nth batch was sent, before its receipts are applied), "receipts-N",
 * "keys", "report". OUTPOST_TEST_PAGE_LIMIT=N asks pages of N records (more pages, more
 * points to cut), OUTPOST_TEST_APPLY_PAGES=N applies at most N pages a transaction (1: one a
 * page, as before batches), OUTPOST_SYNC_MAX_ATTEMPTS=N retries a failed request N-1 times
 * only.
 */
#ifndef OUTPOST_SYNC_RUN_H
#define OUTPOST_SYNC_RUN_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "base/ids.h"
#include "instance/instance.h"
#include "sync/pull.h"

#define SYNC_PAGE_LIMIT  500 /* records asked per page */
#define SYNC_MAX_RESYNCS 3   /* full resyncs one run may start before it gives up */
#define SYNC_BATCH_COUNT 200 /* envelopes per push */
#define SYNC_BATCH_BYTES (8u << 20)
#define SYNC_PACKAGE_MAX ((uint64_t)2 << 30) /* the largest package downloaded */

struct sync_run_summary;

/* Called with the run's phase ("lock" once the lock is taken and the run recorded, then
 * "token", "pull", "content", "push", "keys", "report") and what it did so far, after every
 * page, package, batch and step; `downloading` counts the bytes of the package being
 * downloaded now (not yet in s->bytes). From the sync's own thread. */
typedef void (*sync_progress_fn)(void *arg, const char *phase, const struct sync_run_summary *s,
                                 int64_t downloading);

struct sync_run_options {
    FILE *progress;               /* progress lines (a terminal's stderr), or NULL for none */
    int page_limit;               /* 0: SYNC_PAGE_LIMIT */
    sync_progress_fn on_progress; /* or NULL */
    void *progress_arg;
    /* Once *cancel is nonzero (another thread sets it: a server stopping), the run stops at
     * the next safe point (between pages, packages and batches; a transfer under way is
     * aborted) and ends failed with SYNC_CANCELLED_MSG, its run recorded; what it applied is
     * kept whole, as after a crash. NULL: never cancelled. */
    const atomic_int *cancel;
};

#define SYNC_CANCELLED_MSG                                                                         \
    "the sync was stopped because the server is stopping; what it received is kept and the "       \
    "next sync resumes"

struct sync_run_summary {
    char run_id[UUID_STR_LEN];
    struct sync_counts counts[SYNC_ENT_COUNT];
    int64_t pages, records;
    int full_resyncs;
    int64_t packages, bytes; /* packages downloaded; bytes received in all */
    int64_t results_sent, results_acknowledged, results_refused, results_pending;
    int results_key_changed;
    int pull_ok, push_ok;
    char error[OP_ERR_MAX]; /* "" when the run succeeded */
};

/* Runs one synchronisation (see above). Returns 0 when pull and push both succeeded; else the
 * error of the step that failed, with the run recorded as failed (*out says what was done).
 * OP_EBUSY "a sync is already running (pid N)" records no run. */
int sync_run(struct instance *device, const struct sync_run_options *o,
             struct sync_run_summary *out, struct op_err *e);

/* {run_id, status ("ok"/"failed"), pull, push ("ok"/"failed"/"skipped"), counts {entity:
 * {created, updated, deleted}}, pages, records, full_resyncs, packages, bytes, results_sent,
 * results_acknowledged, results_refused, results_pending, results_key_changed, error (null)} */
json_t *sync_run_summary_json(const struct sync_run_summary *s);

#endif
