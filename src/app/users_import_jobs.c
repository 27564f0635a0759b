/*
 * users_import_jobs.c - background user imports (users_import_jobs.h): a table under one
 * mutex, each job a thread that the table joins. The import's progress callback writes the
 * job's counts under the mutex; a status reads them under it.
 */
#include "app/users_import_jobs.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/imports.h"
#include "base/fs.h"
#include "base/ids.h"
#include "base/log.h"
#include "store/users.h"

enum job_state { JOB_RUNNING, JOB_DONE, JOB_FAILED };

struct job {
    struct users_import_jobs *t;
    char id[USERS_IMPORT_JOB_ID_LEN];
    char *owner_id, *role, *name, *file, *dir;
    pthread_t thread;
    uint64_t serial;
    /* under t->lock: */
    enum job_state state;
    const char *phase;
    int done, total;
    char started_at[TIMESTAMP_STR_LEN], ended_at[TIMESTAMP_STR_LEN];
    json_t *report;
    char *error;
};

struct users_import_jobs {
    struct instance inst; /* a copy, without its connection: a job opens its own */
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
    free(j->role);
    free(j->name);
    free(j->file);
    free(j->dir);
    json_decref(j->report);
    free(j->error);
    free(j);
}

int users_import_jobs_new(const struct instance *inst, struct users_import_jobs **out,
                          struct op_err *e)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return err_set(e, OP_ENOMEM, "out of memory");
    (*out)->inst = *inst;
    (*out)->inst.db = NULL;
    pthread_mutex_init(&(*out)->lock, NULL);
    return 0;
}

void users_import_jobs_free(struct users_import_jobs *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n; i++) {
        pthread_join(t->v[i]->thread, NULL);
        job_free(t->v[i]);
    }
    free(t->v);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* ---- the job's thread ---- */

static void on_progress(void *ctx, int done, int total)
{
    struct job *j = ctx;
    pthread_mutex_lock(&j->t->lock);
    j->phase = done >= total ? "writing" : "hashing";
    j->done = done;
    j->total = total;
    pthread_mutex_unlock(&j->t->lock);
}

/* `msg` with the server's path of the upload replaced by the name the user gave it (the
 * import names its file in its messages; the page must not show a path of the server). */
static char *named_message(const struct job *j, const char *msg)
{
    size_t fl = strlen(j->file), nl = strlen(j->name);
    char *out = malloc(strlen(msg) / (fl ? fl : 1) * nl + strlen(msg) + 1);
    if (!out)
        abort();
    char *w = out;
    for (const char *m = msg; *m;) {
        if (fl && strncmp(m, j->file, fl) == 0) {
            memcpy(w, j->name, nl);
            w += nl;
            m += fl;
        } else {
            *w++ = *m++;
        }
    }
    *w = '\0';
    return out;
}

static void *job_run(void *arg)
{
    struct job *j = arg;
    struct op_err e = {0};
    struct instance inst = j->t->inst;
    struct users_import_report r;
    users_import_report_init(&r, j->name);
    int rc = instance_open_db(&j->t->inst, &inst.db, &e);
    if (rc == 0) {
        const struct app_users_import_request req = {j->file, j->role, 0, 0, on_progress, j};
        rc = app_imports_users(&inst, &req, &r, &e);
        db_close(inst.db);
    }
    json_t *report = app_users_import_json(&r);
    users_import_report_free(&r);
    /* the upload is the job's: gone whatever the outcome */
    unlink(j->file);
    fs_remove_tree(j->dir);
    char *why = rc == 0 ? NULL : named_message(j, e.msg);
    log_info("users import %s (%s, %s): %s", j->id, j->name, j->role, why ? why : "imported");
    pthread_mutex_lock(&j->t->lock);
    timestamp_now(j->ended_at);
    j->report = report;
    if (rc == 0) {
        j->state = JOB_DONE;
        j->phase = "done";
    } else {
        j->state = JOB_FAILED;
        j->phase = "failed";
        j->error = why;
    }
    pthread_mutex_unlock(&j->t->lock);
    return NULL;
}

/* ---- the table ---- */

/* Forgets the oldest ended jobs past USERS_IMPORT_JOBS_KEEP (under the lock). */
static void forget_old(struct users_import_jobs *t)
{
    for (;;) {
        int ended = 0, oldest = -1;
        for (int i = 0; i < t->n; i++)
            if (t->v[i]->state != JOB_RUNNING) {
                ended++;
                if (oldest < 0 || t->v[i]->serial < t->v[oldest]->serial)
                    oldest = i;
            }
        if (ended <= USERS_IMPORT_JOBS_KEEP)
            return;
        struct job *j = t->v[oldest];
        pthread_join(j->thread, NULL);
        job_free(j);
        t->v[oldest] = t->v[--t->n];
    }
}

static char *copy_text(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort(); /* out of memory aborts, as everywhere in Outpost */
    return d;
}

/* Writes the upload into a new private folder of the instance's uploads/ (the folder, so that
 * `deliveries prune-packages` sweeps what a killed server left, as for a QTI upload):
 * *path the file, *dir its folder (the caller frees both). */
static int write_upload(const struct instance *inst, const char *csv, size_t len, char **path,
                        char **dir, struct op_err *e)
{
    *path = *dir = NULL;
    char *root = instance_path(inst, "uploads");
    int rc = root ? fs_mkdir_p(root, 0700, e) : err_set(e, OP_ENOMEM, "out of memory");
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    char name[48];
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    snprintf(name, sizeof name, "users-%s", hex);
    char *d = rc == 0 ? fs_join(root, name) : NULL;
    free(root);
    if (rc == 0)
        rc = fs_mkdir_p(d, 0700, e);
    char *p = rc == 0 ? fs_join(d, "users.csv") : NULL;
    int created = 0;
    if (rc == 0)
        rc = fs_write_new(p, csv, len, 0600, &created, e);
    if (rc != 0) {
        if (d)
            fs_remove_tree(d);
        free(d);
        free(p);
        return rc;
    }
    *path = p;
    *dir = d;
    return 0;
}

int users_import_jobs_start(struct users_import_jobs *t, const char *owner_id, const char *role,
                            const char *name, const char *csv, size_t len,
                            char id[USERS_IMPORT_JOB_ID_LEN], struct op_err *e)
{
    id[0] = '\0';
    if (!role || !user_role_is_valid(role))
        return err_set_field(e, OP_EINPUT, "role", "unknown role \"%.40s\" (use %s)",
                             role ? role : "", user_roles_list());
    if (len == 0)
        return err_set_field(e, OP_EINPUT, "body", "the CSV file is empty");
    if (len > t->inst.settings.csv_max_bytes)
        return err_set_field(e, OP_EINPUT, "body",
                             "the CSV file is %zu bytes; at most %zu are accepted (csv-max-bytes)",
                             len, (size_t)t->inst.settings.csv_max_bytes);
    char *file, *dir;
    int rc = write_upload(&t->inst, csv, len, &file, &dir, e);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < t->n && rc == 0; i++)
        if (t->v[i]->state == JOB_RUNNING)
            rc = err_set(e, OP_EBUSY, "a users import is running; try again when it has ended");
    struct job *j = NULL;
    if (rc == 0) {
        forget_old(t);
        struct job **v = realloc(t->v, sizeof *v * (size_t)(t->n + 1));
        if (!v)
            abort();
        t->v = v;
        j = calloc(1, sizeof *j);
        if (!j)
            abort();
        unsigned char raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(j->id, sizeof j->id, raw, sizeof raw);
        j->t = t;
        j->owner_id = copy_text(owner_id);
        j->role = copy_text(role);
        j->name = copy_text(name && name[0] ? name : "users.csv");
        j->file = file;
        j->dir = dir;
        j->state = JOB_RUNNING;
        j->phase = "checking";
        j->serial = ++t->serial;
        timestamp_now(j->started_at);
        if (pthread_create(&j->thread, NULL, job_run, j) != 0) {
            rc = err_set(e, OP_ENOMEM, "cannot start the import's thread");
            j->file = j->dir = NULL;
            job_free(j);
        } else {
            t->v[t->n++] = j;
            memcpy(id, j->id, USERS_IMPORT_JOB_ID_LEN);
            file = dir = NULL;
        }
    }
    pthread_mutex_unlock(&t->lock);
    if (file) {
        unlink(file);
        fs_remove_tree(dir);
        free(file);
        free(dir);
    }
    return rc;
}

/* 0 to 100: checking 0-5, hashing 5-95 by passwords, writing 95-99, ended 100. */
static int percent_of(const struct job *j)
{
    if (j->state != JOB_RUNNING)
        return 100;
    if (strcmp(j->phase, "hashing") == 0 && j->total > 0)
        return 5 + (int)(90LL * j->done / j->total);
    if (strcmp(j->phase, "writing") == 0)
        return 95;
    return 0;
}

int users_import_jobs_status(struct users_import_jobs *t, const char *id, const char *viewer_id,
                             json_t **out, struct op_err *e)
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
        rc = err_set(e, OP_ENOTFOUND,
                     "no users import %.40s (imports are kept a while after they end)",
                     id ? id : "");
    } else {
        static const char *const states[] = {"running", "done", "failed"};
        *out = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s, s:o, s:O, s:o}", "id",
                         j->id, "state", states[j->state], "phase", j->phase, "done", j->done,
                         "total", j->total, "percent", percent_of(j), "role", j->role, "file",
                         j->name, "started_at", j->started_at, "ended_at",
                         j->ended_at[0] ? json_string(j->ended_at) : json_null(), "report",
                         j->report ? j->report : json_null(), "error",
                         j->error ? json_string(j->error) : json_null());
        if (!*out)
            rc = err_set(e, OP_ENOMEM, "out of memory");
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}
