/*
 * users_import_jobs.h - `import-users` in the background of central's server, for the
 * backoffice's users page (POST /api/v1/admin/users/import, docs/api.md): the request ends
 * once the uploaded CSV is on disk, the import itself (app_imports_users: check every row,
 * hash the passwords, one transaction; all or nothing, the same report as the command) runs
 * in a thread of its own, and the page polls its status: the phase, passwords hashed of all,
 * then the report or the refused rows.
 *
 * Invariants:
 *   - a job owns its CSV file and the private folder of uploads/ it lies in: both removed
 *     when the job ends, whatever the outcome (a killed server's are swept by `deliveries
 *     prune-packages`, as QTI uploads);
 *   - a job opens its own database connection (a struct db serves one thread) and holds no
 *     transaction but the import's own, never while it waits on anything but the CPU;
 *   - one import runs at a time (hashing takes every core): another is OP_EBUSY (503, retry);
 *     the USERS_IMPORT_JOBS_KEEP newest ended jobs are kept for their status;
 *   - a job's status is shown to the user who started it only (another gets OP_ENOTFOUND,
 *     as for an id that does not exist);
 *   - users_import_jobs_free waits for a running job to end.
 */
#ifndef OUTPOST_APP_USERS_IMPORT_JOBS_H
#define OUTPOST_APP_USERS_IMPORT_JOBS_H

#include <jansson.h>

#include "base/err.h"
#include "instance/instance.h"

#define USERS_IMPORT_JOBS_KEEP  16
#define USERS_IMPORT_JOB_ID_LEN 33 /* 32 hex characters and NUL */

struct users_import_jobs;

/* A new table for `inst` (which must outlive it). */
int users_import_jobs_new(const struct instance *inst, struct users_import_jobs **out,
                          struct op_err *e);
void users_import_jobs_free(struct users_import_jobs *t);

/* Writes the `len` bytes of `csv` (an upload, at most the instance's csv-max-bytes) to a
 * private file of the instance and starts importing it as users of `role` for `owner_id`;
 * `name` names the file in the report's messages. OP_EINPUT for an unknown role, an empty or
 * too big file; OP_EBUSY while another import runs. */
int users_import_jobs_start(struct users_import_jobs *t, const char *owner_id, const char *role,
                            const char *name, const char *csv, size_t len,
                            char id[USERS_IMPORT_JOB_ID_LEN], struct op_err *e);

/* The status of job `id` for `viewer_id` (*out, a new reference):
 *   {"id", "state": "running" | "done" | "failed", "phase": "checking" | "hashing" |
 *    "writing" | "done" | "failed", "done", "total" (passwords hashed, of all), "percent",
 *    "role", "file", "started_at", "ended_at" (null while running), "report":
 *    app_users_import_json's {"created", "updated", "skipped", "invalid": [{"line",
 *    "message"}]} or null while running, "error": why nothing was imported, or null}
 * OP_ENOTFOUND for no such job, or another user's. */
int users_import_jobs_status(struct users_import_jobs *t, const char *id, const char *viewer_id,
                             json_t **out, struct op_err *e);

#endif
