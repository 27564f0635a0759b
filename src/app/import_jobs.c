/*
 * app/import_jobs.c - background QTI imports (see import_jobs.h). A table of jobs under one
 * mutex; each job a detached-from-the-request thread that the table joins. The import's
 * progress callback writes the job's phase and counts under the mutex; a status reads them
 * under it.
 */
#include "app/import_jobs.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/deliveries.h"
#include "base/fs.h"
#include "base/ids.h"
#include "base/log.h"

enum job_state { JOB_RUNNING, JOB_DONE, JOB_FAILED };

struct job {
    struct import_jobs *t;
    char id[IMPORT_JOB_ID_LEN];
    char *owner_id, *file, *dir, *name, *label;
    int proctored_default;
    int64_t max_executions;
    pthread_t thread;
    int joined;
    uint64_t serial; /* start order: the oldest ended job is forgotten first */
    /* under t->lock: */
    enum job_state state;
    const char *phase; /* one of APP_IMPORT_* (static), "done" or "failed" */
    size_t items_done, items_total;
    char started_at[TIMESTAMP_STR_LEN], ended_at[TIMESTAMP_STR_LEN];
    json_t *deliveries; /* done: the deliveries made (one per test of the package) */
    json_t *warnings;   /* done: what the import changed rather than refused */
    json_t *problems;   /* failed: every problem */
    char *error;        /* failed: the first problem */
};

struct import_jobs {
    struct instance inst; /* a copy, without its connection: each job opens its own */
    unsigned running_max;
    pthread_mutex_t lock;
    struct job **v;
    int n;
    uint64_t serial;
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->owner_id);
    free(j->file);
    free(j->dir);
    free(j->name);
    free(j->label);
    json_decref(j->deliveries);
    json_decref(j->warnings);
    json_decref(j->problems);
    free(j->error);
    free(j);
}

int import_jobs_new(const struct instance *inst, unsigned running_max, struct import_jobs **out,
                    struct op_err *e)
{
    *out = NULL;
    struct import_jobs *t = calloc(1, sizeof *t);
    if (!t)
        return err_set(e, OP_ENOMEM, "out of memory");
    t->inst = *inst;
    t->inst.db = NULL;
    t->running_max = running_max ? running_max : IMPORT_JOBS_RUNNING_MAX;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

void import_jobs_free(struct import_jobs *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n; i++) {
        if (!t->v[i]->joined)
            pthread_join(t->v[i]->thread, NULL);
        job_free(t->v[i]);
    }
    free(t->v);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* ---- the job's thread ---- */

static void on_progress(void *ctx, const char *phase, size_t done, size_t total)
{
    struct job *j = ctx;
    pthread_mutex_lock(&j->t->lock);
    j->phase = phase;
    if (strcmp(phase, APP_IMPORT_CHECKING) == 0) {
        j->items_done = done;
        j->items_total = total;
    }
    pthread_mutex_unlock(&j->t->lock);
}

static void *job_run(void *arg)
{
    struct job *j = arg;
    struct op_err e = {0};
    struct instance inst = j->t->inst;
    json_t *problems = json_array();
    json_t *made = NULL, *warnings = NULL;
    int rc = instance_open_db(&j->t->inst, &inst.db, &e);
    if (rc == 0) {
        const struct app_deliveries_import_in in = {j->file, j->label, j->proctored_default,
                                                    j->max_executions};
        const struct app_import_watch w = {on_progress, j, problems, j->name};
        struct app_import_result r;
        rc = app_deliveries_import_all(&inst, &in, &w, &r, &e);
        if (rc == 0) {
            made = json_array();
            for (size_t i = 0; i < r.n; i++) {
                json_array_append_new(made, app_delivery_json(&r.deliveries[i]));
                log_info("import job %s: delivery %s (%s) imported from %s", j->id,
                         r.deliveries[i].id, r.deliveries[i].label, j->name);
            }
            warnings = json_incref(r.warnings);
            app_import_result_clear(&r);
        }
        db_close(inst.db);
    }
    if (rc != 0) {
        if (json_array_size(problems) == 0)
            json_array_append_new(problems, app_qti_problem_json(j->name, e.msg));
        log_info("import job %s: %s refused: %s", j->id, j->name, e.msg);
    }
    /* the upload is the job's: gone whatever the outcome */
    unlink(j->file);
    if (j->dir)
        fs_remove_tree(j->dir);
    pthread_mutex_lock(&j->t->lock);
    timestamp_now(j->ended_at);
    if (rc == 0) {
        j->state = JOB_DONE;
        j->phase = "done";
        j->deliveries = made;
        j->warnings = warnings;
        json_decref(problems);
    } else {
        j->state = JOB_FAILED;
        j->phase = "failed";
        j->problems = problems;
        j->error = strdup(e.msg);
    }
    pthread_mutex_unlock(&j->t->lock);
    return NULL;
}

/* ---- the table ---- */

/* Forgets the oldest ended job while more than IMPORT_JOBS_KEEP have ended (under the lock;
 * an ended job's thread has returned or is returning: joined here). */
static void forget_old(struct import_jobs *t)
{
    for (;;) {
        int ended = 0, oldest = -1;
        for (int i = 0; i < t->n; i++)
            if (t->v[i]->state != JOB_RUNNING) {
                ended++;
                if (oldest < 0 || t->v[i]->serial < t->v[oldest]->serial)
                    oldest = i;
            }
        if (ended <= IMPORT_JOBS_KEEP)
            return;
        struct job *j = t->v[oldest];
        if (!j->joined)
            pthread_join(j->thread, NULL);
        job_free(j);
        t->v[oldest] = t->v[--t->n];
    }
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
    id[0] = '\0';
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    int running = 0;
    for (int i = 0; i < t->n; i++)
        running += t->v[i]->state == JOB_RUNNING;
    if ((unsigned)running >= t->running_max)
        rc = err_set(e, OP_EBUSY,
                     "%d imports are running; try again when one has ended (at most %u at once)",
                     running, t->running_max);
    struct job *j = NULL;
    if (rc == 0) {
        forget_old(t);
        struct job **v = realloc(t->v, sizeof *v * (size_t)(t->n + 1));
        j = calloc(1, sizeof *j);
        if (!v || !j) {
            free(j);
            j = NULL;
            if (v)
                t->v = v;
            rc = err_set(e, OP_ENOMEM, "out of memory");
        } else {
            t->v = v;
        }
    }
    if (rc == 0) {
        unsigned char raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(j->id, sizeof j->id, raw, sizeof raw);
        j->t = t;
        j->owner_id = dup_or_null(r->owner_id ? r->owner_id : "");
        j->file = dup_or_null(r->file);
        j->dir = dup_or_null(r->dir);
        j->name = dup_or_null(r->name ? r->name : "package.zip");
        j->label = dup_or_null(r->label);
        j->proctored_default = r->proctored_default;
        j->max_executions = r->max_executions;
        j->state = JOB_RUNNING;
        j->phase = APP_IMPORT_READING;
        j->serial = ++t->serial;
        timestamp_now(j->started_at);
        if (pthread_create(&j->thread, NULL, job_run, j) != 0) {
            rc = err_set(e, OP_ENOMEM, "cannot start the import's thread");
            j->file = NULL; /* removed below by the caller's copy */
            job_free(j);
        } else {
            t->v[t->n++] = j;
            memcpy(id, j->id, IMPORT_JOB_ID_LEN);
        }
    }
    pthread_mutex_unlock(&t->lock);
    if (rc != 0) {
        if (r->file)
            unlink(r->file);
        if (r->dir)
            fs_remove_tree(r->dir);
    }
    return rc;
}

/* How far a running job is, 0 to 99: reading 0-10, checking 10-80 by items, compiling 80-88,
 * encrypting 88-95, recording 95-99. */
static int percent_of(const struct job *j)
{
    if (j->state == JOB_DONE)
        return 100;
    if (j->state == JOB_FAILED)
        return 100;
    if (strcmp(j->phase, APP_IMPORT_CHECKING) == 0)
        return j->items_total ? 10 + (int)(70 * j->items_done / j->items_total) : 10;
    if (strcmp(j->phase, APP_IMPORT_COMPILING) == 0)
        return 80;
    if (strcmp(j->phase, APP_IMPORT_ENCRYPTING) == 0)
        return 88;
    if (strcmp(j->phase, APP_IMPORT_RECORDING) == 0)
        return 95;
    return 0;
}

int import_jobs_status(struct import_jobs *t, const char *id, const char *viewer_id, json_t **out,
                       struct op_err *e)
{
    *out = NULL;
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    struct job *j = NULL;
    for (int i = 0; id && i < t->n && !j; i++)
        if (strcmp(t->v[i]->id, id) == 0 &&
            strcmp(t->v[i]->owner_id, viewer_id ? viewer_id : "") == 0)
            j = t->v[i];
    if (!j) {
        rc = err_set(e, OP_ENOTFOUND, "no import %s (imports are kept for a while after they end)",
                     id ? id : "");
    } else {
        static const char *const states[] = {"running", "done", "failed"};
        json_t *first = json_array_get(j->deliveries, 0);
        *out = json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:s, s:s, s:o, s:O, s:o, s:o, s:o, s:o}",
                         "id", j->id, "state", states[j->state], "phase", j->phase, "items_done",
                         (json_int_t)j->items_done, "items_total", (json_int_t)j->items_total,
                         "percent", percent_of(j), "file", j->name, "started_at", j->started_at,
                         "ended_at", j->ended_at[0] ? json_string(j->ended_at) : json_null(),
                         "delivery", first ? first : json_null(), "deliveries",
                         j->deliveries ? json_incref(j->deliveries) : json_array(), "warnings",
                         j->warnings ? json_incref(j->warnings) : json_array(), "error",
                         j->error ? json_string(j->error) : json_null(), "problems",
                         j->problems ? json_incref(j->problems) : json_array());
        if (!*out)
            rc = err_set(e, OP_ENOMEM, "out of memory");
    }
    pthread_mutex_unlock(&t->lock);
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
