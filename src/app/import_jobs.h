/*
 * app/import_jobs.h - QTI imports that run in the background of central's server, for the
 * backoffice's upload (POST /api/v1/admin/deliveries/upload, docs/api.md): the upload ends
 * when the package is on disk, the import (app_deliveries_import_watched: reading, checking
 * every item, compiling, encrypting, recording) then runs in a thread of its own, and the page
 * polls its status (phase, items checked of all, the delivery made or every problem found).
 *
 * Invariants:
 *   - a job owns its package file and the folder it was uploaded into: both are removed when
 *     the job ends, except when the package was refused for a label a delivery has already:
 *     then the job keeps them until it is run again (import_jobs_retry, whose job takes them)
 *     or forgotten, or the uploads are swept (import_uploads_sweep);
 *   - a job opens its own database connection (a struct db serves one thread) and never holds
 *     a transaction but the delivery's own (app_deliveries_import);
 *   - at most `running_max` jobs run at once (another is OP_EBUSY: 503, retry); the table
 *     keeps the IMPORT_JOBS_KEEP newest ended jobs for their status, older ones are forgotten;
 *   - a job's status is shown to the user who started it only (another gets OP_ENOTFOUND, as
 *     for an id that does not exist);
 *   - import_jobs_free waits for the running jobs to end (the server stops them last).
 */
#ifndef OUTPOST_APP_IMPORT_JOBS_H
#define OUTPOST_APP_IMPORT_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "instance/instance.h"

#define IMPORT_JOBS_RUNNING_MAX 2         /* imports at once: each takes a core while it checks */
#define IMPORT_JOBS_KEEP        32        /* ended jobs remembered for their status */
#define IMPORT_JOB_ID_LEN       33        /* 32 hex characters and NUL */
#define IMPORT_UPLOADS_DIR      "uploads" /* DIR/uploads/<random>/<name>: uploads (http/server.h) */

struct import_jobs;

/* A new table for the instance `inst` (which must outlive it: jobs open their own connection
 * to its database). */
int import_jobs_new(const struct instance *inst, unsigned running_max, struct import_jobs **out,
                    struct op_err *e);
/* Waits for the running jobs, then frees everything. NULL does nothing. */
void import_jobs_free(struct import_jobs *t);

/* What to import. The strings are copied. */
struct import_job_request {
    const char *owner_id;   /* the user who started it */
    const char *file;       /* the uploaded package: the job owns it from now on */
    const char *dir;        /* the private folder it lies in (removed with it), or NULL */
    const char *name;       /* the name the user gave the file (messages say it) */
    const char *label;      /* NULL: the test's title */
    int proctored_default;  /* 0 or 1 */
    int64_t max_executions; /* 0: unlimited */
    /* 1: the package (of one test) becomes the next version of the delivery its label (or
     * its test's title) names, as import-qti --new-version; proctored_default and
     * max_executions -1 then leave that delivery's settings as they are. */
    int new_version;
};

/* Starts the import of `r` in a thread and gives its id. On failure (OP_EBUSY when
 * running_max jobs run; OP_ENOMEM) the file and the folder are removed all the same. */
int import_jobs_start(struct import_jobs *t, const struct import_job_request *r,
                      char id[IMPORT_JOB_ID_LEN], struct op_err *e);

/* The status of job `id` for user `viewer_id` (*out, a new reference):
 *   {"id", "state": "running" | "done" | "failed", "phase", "items_done", "items_total",
 *    "percent" (0..100), "file": the name given, "started_at", "ended_at" (null while
 *    running), "deliveries": [<app_delivery_json>, ...] (done: one per test of the package,
 *    in the manifest's order; else []), "delivery": the first of them or null, "warnings":
 *    [{"file", "line", "message"}, ...] (done: what the import changed rather than refused),
 *    "error": the first problem or null, "problems": [{"file", "line", "message"}, ...],
 *    "new_version": true when the job gave an existing delivery a new version, "changed"
 *    (new_version: false when that delivery had this package and these settings already),
 *    "label_taken": null, or, when the package was refused because a delivery has its label
 *    already and it can be run again (import_jobs_retry), {"labels": [{"label", "delivery"}],
 *    "new_version": whether it can become the next version of that delivery (one test)},
 *    "retried_as": the id of the job that runs it again, or null}
 * OP_ENOTFOUND for no such job, or another user's. */
int import_jobs_status(struct import_jobs *t, const char *id, const char *viewer_id, json_t **out,
                       struct op_err *e);

/* How to run again an import refused for a label taken: exactly one of the two. */
struct import_job_retry {
    const char *label; /* import under this label instead (not empty) */
    int new_version;   /* 1: as the next version of the delivery that has the label */
};

/* Runs again, as a new job of `viewer_id`, the import `id` that was refused because a
 * delivery has its label already (its status's "label_taken"): under r->label, or as the
 * next version of that delivery (r->new_version: its proctored default and executions
 * allowed stay as they are), the rule of import-qti --label / --new-version
 * (app_deliveries_import_all). The refused job kept its package for this, and the new job
 * takes it: a refusal runs again once (a retry refused for a label again keeps it in turn).
 * Gives the new job's id.
 * OP_ENOTFOUND: no such job, or another user's, or its package is no longer kept (the job
 * was forgotten, the upload swept: upload it again); OP_ECONFLICT: that job did not end on a
 * label taken, or was run again already, or (new_version) its package holds several tests;
 * OP_EINPUT: not exactly one of label and new_version; OP_EBUSY as import_jobs_start (the
 * refused job keeps the package). */
int import_jobs_retry(struct import_jobs *t, const char *id, const char *viewer_id,
                      const struct import_job_retry *r, char newid[IMPORT_JOB_ID_LEN],
                      struct op_err *e);

/* Removes the upload folders of DIR/uploads (a server killed in the middle of an upload or
 * an import leaves its folder) whose folder and files are all older than `min_age` seconds;
 * *removed (added to) counts them. A younger one may belong to an upload or an import still
 * running. */
int import_uploads_sweep(const char *data_dir, long min_age, int *removed, struct op_err *e);

#endif
