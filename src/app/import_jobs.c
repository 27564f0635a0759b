/*
 * app/import_jobs.c - background QTI imports (see import_jobs.h): a kind of job of
 * app/jobs.h. The import's progress callback writes the job's phase and counts under the
 * table's lock; a status reads them under it.
 */
#include "app/import_jobs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "app/deliveries.h"
#include "app/jobs.h"
#include "base/fs.h"
#include "base/ids.h"
#include "base/log.h"

/* A QTI import: its request, then its progress and outcome (under jobs_lock). */
struct qti_job {
    char *file, *dir, *name, *label;
    int proctored_default;
    int64_t max_executions;
    int new_version; /* the request's */
    size_t items_done, items_total;
    json_t *deliveries; /* done: the deliveries made (one per test of the package) */
    json_t *warnings;   /* done: what the import changed rather than refused */
    json_t *problems;   /* failed: every problem */
    int made_version;   /* done: a delivery got a new version ... */
    int changed;        /* ... and its package or settings changed */
    /* failed on a label taken: {"labels", "new_version"} (app_import_watch.taken) */
    json_t *taken;
    int kept;                           /* file and dir kept for import_jobs_retry */
    char retried_as[IMPORT_JOB_ID_LEN]; /* the job that took them, or "" */
};

/* Removes the job's upload (its file and its folder) and forgets their names. */
static void remove_upload(struct qti_job *q)
{
    if (q->file)
        unlink(q->file);
    if (q->dir)
        fs_remove_tree(q->dir);
    free(q->file);
    free(q->dir);
    q->file = q->dir = NULL;
    q->kept = 0;
}

static void qti_job_free(void *data)
{
    struct qti_job *q = data;
    if (q->kept) /* a refused upload nobody ran again */
        remove_upload(q);
    json_decref(q->taken);
    free(q->file);
    free(q->dir);
    free(q->name);
    free(q->label);
    json_decref(q->deliveries);
    json_decref(q->warnings);
    json_decref(q->problems);
    free(q);
}

static void on_progress(void *ctx, const char *phase, size_t done, size_t total)
{
    struct job *j = ctx;
    struct qti_job *q = job_data(j);
    jobs_lock(j);
    job_set_phase(j, phase);
    if (strcmp(phase, APP_IMPORT_CHECKING) == 0) {
        q->items_done = done;
        q->items_total = total;
    }
    jobs_unlock(j);
}

static int qti_job_run(struct job *j, struct instance *inst, struct op_err *e)
{
    struct qti_job *q = job_data(j);
    json_t *problems = json_array(), *taken = json_object();
    const struct app_deliveries_import_in in = {q->file, q->label, q->proctored_default,
                                                q->max_executions, q->new_version};
    const struct app_import_watch w = {on_progress, j, problems, q->name, taken};
    struct app_import_result r;
    int rc = app_deliveries_import_all(inst, &in, &w, &r, e);
    json_t *made = NULL, *warnings = NULL;
    int made_version = 0, changed = 0;
    if (rc != 0 && (e->remedy != OP_REMEDY_LABEL_TAKEN || !json_object_get(taken, "labels"))) {
        json_decref(taken);
        taken = NULL;
    }
    if (rc == 0) {
        json_decref(taken);
        taken = NULL;
        made_version = r.new_version;
        changed = r.changed;
        made = json_array();
        for (size_t i = 0; i < r.n; i++) {
            json_array_append_new(made, app_delivery_json(&r.deliveries[i]));
            log_info("import job %s: delivery %s (%s) imported from %s", job_id(j),
                     r.deliveries[i].id, r.deliveries[i].label, q->name);
        }
        warnings = json_incref(r.warnings);
        app_import_result_clear(&r);
        json_decref(problems);
        problems = NULL;
    }
    jobs_lock(j);
    q->deliveries = made;
    q->warnings = warnings;
    q->problems = problems;
    q->made_version = made_version;
    q->changed = changed;
    q->taken = taken;
    jobs_unlock(j);
    return rc;
}

static void qti_job_ended(struct job *j, int rc, const struct op_err *e)
{
    struct qti_job *q = job_data(j);
    int keep = 0;
    if (rc != 0) {
        log_info("import job %s: %s refused: %s", job_id(j), q->name, e->msg);
        jobs_lock(j);
        if (!q->problems)
            q->problems = json_array();
        if (json_array_size(q->problems) == 0) /* a failure before the checks: say it */
            json_array_append_new(q->problems, app_qti_problem_json(q->name, e->msg));
        /* refused for a label taken: kept, to be run again under another label or as a new
         * version without being uploaded again */
        keep = q->taken != NULL;
        q->kept = keep;
        jobs_unlock(j);
    }
    /* the upload is the job's: gone whatever the outcome, unless kept for a retry (no retry
     * can take it before the job is marked failed, after this returns) */
    if (!keep)
        remove_upload(q);
}

/* How far a running job is, 0 to 99: reading 0-10, checking 10-80 by items, compiling 80-88,
 * encrypting 88-95, recording 95-99. */
static int qti_job_percent(const struct job *j)
{
    const struct qti_job *q = job_data(j);
    const char *phase = job_phase(j);
    if (strcmp(phase, APP_IMPORT_CHECKING) == 0)
        return q->items_total ? 10 + (int)(70 * q->items_done / q->items_total) : 10;
    if (strcmp(phase, APP_IMPORT_COMPILING) == 0)
        return 80;
    if (strcmp(phase, APP_IMPORT_ENCRYPTING) == 0)
        return 88;
    if (strcmp(phase, APP_IMPORT_RECORDING) == 0)
        return 95;
    return 0;
}

static void qti_job_status(const struct job *j, json_t *o)
{
    const struct qti_job *q = job_data(j);
    json_t *first = json_array_get(q->deliveries, 0);
    json_object_set_new(o, "items_done", json_integer((json_int_t)q->items_done));
    json_object_set_new(o, "items_total", json_integer((json_int_t)q->items_total));
    json_object_set_new(o, "file", json_string(q->name));
    json_object_set_new(o, "delivery", first ? json_incref(first) : json_null());
    json_object_set_new(o, "deliveries", q->deliveries ? json_incref(q->deliveries) : json_array());
    json_object_set_new(o, "warnings", q->warnings ? json_incref(q->warnings) : json_array());
    json_object_set_new(o, "problems",
                        q->problems && job_state(j) == JOB_FAILED ? json_incref(q->problems)
                                                                  : json_array());
    json_object_set_new(o, "new_version", json_boolean(q->made_version));
    json_object_set_new(o, "changed", json_boolean(q->changed));
    json_object_set_new(o, "label_taken",
                        q->kept && q->taken ? json_deep_copy(q->taken) : json_null());
    json_object_set_new(o, "retried_as",
                        q->retried_as[0] ? json_string(q->retried_as) : json_null());
}

static const struct jobs_kind qti_import = {
    .what = "import",
    .running_max = IMPORT_JOBS_RUNNING_MAX,
    .keep = IMPORT_JOBS_KEEP,
    .run = qti_job_run,
    .ended = qti_job_ended,
    .status = qti_job_status,
    .percent = qti_job_percent,
    .free_data = qti_job_free,
};

struct import_jobs {
    struct jobs *jobs;
};

int import_jobs_new(const struct instance *inst, unsigned running_max, struct import_jobs **out,
                    struct op_err *e)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return err_set(e, OP_ENOMEM, "out of memory");
    int rc = jobs_new(&qti_import, inst, running_max, &(*out)->jobs, e);
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

void import_jobs_free(struct import_jobs *t)
{
    if (t)
        jobs_free(t->jobs);
    free(t);
}

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

int import_jobs_start(struct import_jobs *t, const struct import_job_request *r,
                      char id[IMPORT_JOB_ID_LEN], struct op_err *e)
{
    struct qti_job *q = calloc(1, sizeof *q);
    if (!q)
        abort(); /* out of memory aborts, as everywhere in Outpost */
    q->file = dup_or_null(r->file);
    q->dir = dup_or_null(r->dir);
    q->name = dup_or_null(r->name ? r->name : "package.zip");
    q->label = dup_or_null(r->label);
    q->proctored_default = r->proctored_default;
    q->max_executions = r->max_executions;
    q->new_version = r->new_version;
    int rc = jobs_start(t->jobs, r->owner_id, q, APP_IMPORT_READING, id, e);
    if (rc != 0) {
        if (r->file)
            unlink(r->file);
        if (r->dir)
            fs_remove_tree(r->dir);
        qti_job_free(q);
    }
    return rc;
}

int import_jobs_status(struct import_jobs *t, const char *id, const char *viewer_id, json_t **out,
                       struct op_err *e)
{
    return jobs_status(t->jobs, id, viewer_id, out, e);
}

/* ---- running again an import refused for a label taken ---- */

struct retry {
    const struct import_job_retry *r;
    struct qti_job *next; /* the new job's data, with the refused job's upload */
    const char *newid;
};

/* Under the lock: the refused job's upload goes to a new job's data (import_jobs_retry). */
static int take_upload(struct job *j, void *ctx, struct op_err *e)
{
    struct retry *t = ctx;
    struct qti_job *q = job_data(j);
    if (q->retried_as[0])
        return err_set(e, OP_ECONFLICT, "import %s was run again already, as import %s", job_id(j),
                       q->retried_as);
    if (job_state(j) != JOB_FAILED || !q->kept)
        return err_set(e, OP_ECONFLICT,
                       "import %s was not refused for a label a delivery has already: there is "
                       "nothing to run again under another label or as a new version",
                       job_id(j));
    if (t->r->new_version && !json_is_true(json_object_get(q->taken, "new_version")))
        return err_set(e, OP_ECONFLICT,
                       "%s holds several tests, and a delivery has one: it cannot be the next "
                       "version of a delivery; import it under another label",
                       q->name);
    if (access(q->file, F_OK) != 0) {
        remove_upload(q);
        return err_set(e, OP_ENOTFOUND,
                       "the package of import %s is no longer kept (uploads refused for a "
                       "label are kept a while): upload it again",
                       job_id(j));
    }
    /* young again, so that a sweep of old uploads leaves it to the import that takes it */
    utimes(q->file, NULL);
    if (q->dir)
        utimes(q->dir, NULL);
    struct qti_job *n = calloc(1, sizeof *n);
    if (!n)
        abort(); /* out of memory aborts, as everywhere in Outpost */
    n->file = q->file;
    n->dir = q->dir;
    q->file = q->dir = NULL;
    q->kept = 0;
    n->name = dup_or_null(q->name);
    n->new_version = t->r->new_version;
    n->label = dup_or_null(t->r->new_version ? q->label : t->r->label);
    n->proctored_default = t->r->new_version ? -1 : q->proctored_default;
    n->max_executions = t->r->new_version ? -1 : q->max_executions;
    t->next = n;
    return 0;
}

/* Under the lock: the new job started (its id in t->newid), or could not and gives the
 * upload back. */
static int settle_retry(struct job *j, void *ctx, struct op_err *e)
{
    (void)e;
    struct retry *t = ctx;
    struct qti_job *q = job_data(j);
    if (t->newid) {
        snprintf(q->retried_as, sizeof q->retried_as, "%s", t->newid);
    } else if (!q->file) {
        q->file = t->next->file;
        q->dir = t->next->dir;
        t->next->file = t->next->dir = NULL;
        q->kept = 1;
    }
    return 0;
}

int import_jobs_retry(struct import_jobs *t, const char *id, const char *viewer_id,
                      const struct import_job_retry *r, char newid[IMPORT_JOB_ID_LEN],
                      struct op_err *e)
{
    newid[0] = '\0';
    if (!!r->new_version == !!(r->label && r->label[0]))
        return err_set_field(e, OP_EINPUT, "body",
                             "give either a label to import the package under, or new_version "
                             "to make it the next version of the delivery that has its label");
    struct retry rt = {r, NULL, NULL};
    int rc = jobs_with(t->jobs, id, viewer_id, take_upload, &rt, e);
    if (rc != 0)
        return rc;
    rc = jobs_start(t->jobs, viewer_id, rt.next, APP_IMPORT_READING, newid, e);
    if (rc == 0)
        rt.newid = newid;
    struct op_err ignored = {0};
    if (jobs_with(t->jobs, id, viewer_id, settle_retry, &rt, &ignored) != 0 && rc != 0)
        remove_upload(rt.next); /* the refused job is gone: so is its upload */
    if (rc != 0)
        qti_job_free(rt.next);
    return rc;
}

/* ---- leftovers ---- */

/* The newest modification time of folder `path` and the files in it. */
static time_t newest_in(const char *path)
{
    struct stat st;
    time_t newest = stat(path, &st) == 0 ? st.st_mtime : time(NULL);
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *f = fs_join(path, de->d_name);
        if (lstat(f, &st) == 0 && st.st_mtime > newest)
            newest = st.st_mtime;
        free(f);
    }
    if (d)
        closedir(d);
    return newest;
}

int import_uploads_sweep(const char *data_dir, long min_age, int *removed, struct op_err *e)
{
    char *root = fs_join(data_dir, IMPORT_UPLOADS_DIR);
    DIR *d = opendir(root);
    if (!d) {
        int err = errno;
        free(root);
        if (err == ENOENT)
            return 0;
        return err_set(e, OP_EIO, "cannot read the uploads folder: %s", strerror(err));
    }
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *path = fs_join(root, de->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && now - newest_in(path) >= min_age &&
            fs_remove_tree(path) == 0)
            (*removed)++;
        free(path);
    }
    closedir(d);
    free(root);
    return 0;
}
