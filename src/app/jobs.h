/*
 * app/jobs.h - a table of background jobs of one kind, for the server's requests whose work
 * outlives them (the backoffice's QTI upload, app/import_jobs.h; its CSV import of users,
 * app/users_import_jobs.h): the request starts a job and ends, the job runs in a thread of its
 * own, and the page polls its status.
 *
 * Invariants, for every kind:
 *   - a job runs with a database connection of its own (a struct db serves one thread),
 *     opened and closed by the table around the kind's `run`;
 *   - at most `running_max` jobs run at once: another start is OP_EBUSY (503, retry);
 *   - the table keeps the `keep` newest ended jobs for their status, older ones are joined
 *     and forgotten;
 *   - a job's status is shown to the user who started it only (another gets OP_ENOTFOUND, as
 *     for an id that does not exist);
 *   - jobs_free waits for the running jobs to end.
 *
 * A kind keeps its request and its outcome in the job's `data`; its `run` (in the job's
 * thread) and its `progress` calls write the parts a status reads between jobs_lock and
 * jobs_unlock, and its `status` (called under the lock) adds them to the status object.
 */
#ifndef OUTPOST_APP_JOBS_H
#define OUTPOST_APP_JOBS_H

#include <jansson.h>

#include "base/err.h"
#include "instance/instance.h"

#define JOB_ID_LEN 33 /* 32 hex characters and NUL */

enum job_state { JOB_RUNNING, JOB_DONE, JOB_FAILED };

struct jobs;
struct job;

struct jobs_kind {
    const char *what;     /* "import", "users import": in messages */
    unsigned running_max; /* jobs at once */
    int keep;             /* ended jobs remembered for their status */
    /* The work, in the job's thread, with `inst` connected to the database. 0 or an error
     * code with `e` set; the table then marks the job done or failed. */
    int (*run)(struct job *j, struct instance *inst, struct op_err *e);
    /* Called once the job has ended (rc its outcome), before it is marked ended: the
     * kind's last words outside the lock (removing its upload, logging). May be NULL. */
    void (*ended)(struct job *j, int rc, const struct op_err *e);
    /* Adds the kind's fields to status object `o` (under the lock). */
    void (*status)(const struct job *j, json_t *o);
    /* How far the job is, 0..99 while it runs (under the lock). */
    int (*percent)(const struct job *j);
    /* Frees the kind's data (the job has ended or never started). */
    void (*free_data)(void *data);
};

/* A new table of `kind` (static) for the instance `inst` (which must outlive it: jobs open
 * their own connection to its database); `running_max` 0 takes the kind's. */
int jobs_new(const struct jobs_kind *kind, const struct instance *inst, unsigned running_max,
             struct jobs **out, struct op_err *e);
/* Waits for the running jobs, then frees everything. NULL does nothing. */
void jobs_free(struct jobs *t);

/* Starts a job for `owner_id` with the kind's `data`, in phase `phase` (static), and gives
 * its id; the job owns `data` once started (the caller keeps it on failure). OP_EBUSY when
 * running_max jobs run; OP_ENOMEM when no thread can start. */
int jobs_start(struct jobs *t, const char *owner_id, void *data, const char *phase,
               char id[JOB_ID_LEN], struct op_err *e);

/* The status of job `id` for user `viewer_id` (*out, a new reference): {"id", "state":
 * "running" | "done" | "failed", "phase", "percent" (0..100), "started_at", "ended_at"
 * (null while running), "error": why it failed or null} plus the kind's fields. OP_ENOTFOUND
 * for no such job, or another user's. */
int jobs_status(struct jobs *t, const char *id, const char *viewer_id, json_t **out,
                struct op_err *e);

/* Calls fn(j, ctx, e) under the table's lock on job `id` of user `viewer_id` (another's is
 * OP_ENOTFOUND, as for an id that does not exist) and returns what fn returns: a kind's way
 * to read or take a part of an ended job's data (fn must not call back into the table). */
int jobs_with(struct jobs *t, const char *id, const char *viewer_id,
              int (*fn)(struct job *j, void *ctx, struct op_err *e), void *ctx, struct op_err *e);

/* For a kind: its data; the job's state and phase (read them under the lock); the table's
 * instance (its settings); and the lock over what a status reads. */
void *job_data(const struct job *j);
const char *job_id(const struct job *j);
enum job_state job_state(const struct job *j);
const char *job_phase(const struct job *j);
void job_set_phase(struct job *j, const char *phase); /* under the lock */
/* The error of a failed job, if its `ended` wants to replace it (a new malloc'ed text, or
 * NULL to keep e->msg). Called from `ended` only. */
void job_set_error(struct job *j, char *error);
const struct instance *jobs_instance(const struct jobs *t);
void jobs_lock(struct job *j);
void jobs_unlock(struct job *j);

#endif
