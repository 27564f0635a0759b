/*
 * users_import_jobs.c - background user imports (users_import_jobs.h): a kind of job of
 * app/jobs.h. The import's progress callback writes the job's counts under the table's lock;
 * a status reads them under it.
 */
#include "app/users_import_jobs.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/imports.h"
#include "app/jobs.h"
#include "base/fs.h"
#include "base/ids.h"
#include "base/log.h"
#include "store/users.h"

/* A users import: its request, then its progress and report (under jobs_lock). */
struct users_job {
    char *role, *name, *file, *dir;
    int done, total;
    json_t *report;
};

static void users_job_free(void *data)
{
    struct users_job *u = data;
    free(u->role);
    free(u->name);
    free(u->file);
    free(u->dir);
    json_decref(u->report);
    free(u);
}

static void on_progress(void *ctx, int done, int total)
{
    struct job *j = ctx;
    struct users_job *u = job_data(j);
    jobs_lock(j);
    job_set_phase(j, done >= total ? "writing" : "hashing");
    u->done = done;
    u->total = total;
    jobs_unlock(j);
}

/* `msg` with the server's path of the upload replaced by the name the user gave it (the
 * import names its file in its messages; the page must not show a path of the server). */
static char *named_message(const struct users_job *u, const char *msg)
{
    size_t fl = strlen(u->file), nl = strlen(u->name);
    char *out = malloc(strlen(msg) / (fl ? fl : 1) * nl + strlen(msg) + 1);
    if (!out)
        abort();
    char *w = out;
    for (const char *m = msg; *m;) {
        if (fl && strncmp(m, u->file, fl) == 0) {
            memcpy(w, u->name, nl);
            w += nl;
            m += fl;
        } else {
            *w++ = *m++;
        }
    }
    *w = '\0';
    return out;
}

static int users_job_run(struct job *j, struct instance *inst, struct op_err *e)
{
    struct users_job *u = job_data(j);
    struct users_import_report r;
    users_import_report_init(&r, u->name);
    const struct app_users_import_request req = {u->file, u->role, 0, 0, on_progress, j};
    int rc = app_imports_users(inst, &req, &r, e);
    json_t *report = app_users_import_json(&r);
    users_import_report_free(&r);
    jobs_lock(j);
    u->report = report;
    jobs_unlock(j);
    return rc;
}

static void users_job_ended(struct job *j, int rc, const struct op_err *e)
{
    struct users_job *u = job_data(j);
    /* the upload is the job's: gone whatever the outcome */
    unlink(u->file);
    fs_remove_tree(u->dir);
    char *why = rc == 0 ? NULL : named_message(u, e->msg);
    log_info("users import %s (%s, %s): %s", job_id(j), u->name, u->role, why ? why : "imported");
    if (why)
        job_set_error(j, why);
}

/* 0 to 99 while it runs: checking 0-5, hashing 5-95 by passwords, writing 95-99. */
static int users_job_percent(const struct job *j)
{
    const struct users_job *u = job_data(j);
    if (strcmp(job_phase(j), "hashing") == 0 && u->total > 0)
        return 5 + (int)(90LL * u->done / u->total);
    if (strcmp(job_phase(j), "writing") == 0)
        return 95;
    return 0;
}

static void users_job_status(const struct job *j, json_t *o)
{
    const struct users_job *u = job_data(j);
    json_object_set_new(o, "done", json_integer(u->done));
    json_object_set_new(o, "total", json_integer(u->total));
    json_object_set_new(o, "role", json_string(u->role));
    json_object_set_new(o, "file", json_string(u->name));
    json_object_set_new(o, "report",
                        u->report && job_state(j) != JOB_RUNNING ? json_incref(u->report)
                                                                 : json_null());
}

static const struct jobs_kind users_import = {
    .what = "users import",
    .running_max = 1, /* hashing takes every core */
    .keep = USERS_IMPORT_JOBS_KEEP,
    .run = users_job_run,
    .ended = users_job_ended,
    .status = users_job_status,
    .percent = users_job_percent,
    .free_data = users_job_free,
};

struct users_import_jobs {
    struct jobs *jobs;
};

int users_import_jobs_new(const struct instance *inst, struct users_import_jobs **out,
                          struct op_err *e)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return err_set(e, OP_ENOMEM, "out of memory");
    int rc = jobs_new(&users_import, inst, 0, &(*out)->jobs, e);
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

void users_import_jobs_free(struct users_import_jobs *t)
{
    if (t)
        jobs_free(t->jobs);
    free(t);
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
    const struct instance *inst = jobs_instance(t->jobs);
    if (!role || !user_role_is_valid(role))
        return err_set_field(e, OP_EINPUT, "role", "unknown role \"%.40s\" (use %s)",
                             role ? role : "", user_roles_list());
    if (len == 0)
        return err_set_field(e, OP_EINPUT, "body", "the CSV file is empty");
    if (len > inst->settings.csv_max_bytes)
        return err_set_field(e, OP_EINPUT, "body",
                             "the CSV file is %zu bytes; at most %zu are accepted (csv-max-bytes)",
                             len, (size_t)inst->settings.csv_max_bytes);
    struct users_job *u = calloc(1, sizeof *u);
    if (!u)
        abort();
    int rc = write_upload(inst, csv, len, &u->file, &u->dir, e);
    if (rc == 0) {
        u->role = copy_text(role);
        u->name = copy_text(name && name[0] ? name : "users.csv");
        rc = jobs_start(t->jobs, owner_id, u, "checking", id, e);
        if (rc != 0) {
            unlink(u->file);
            fs_remove_tree(u->dir);
        }
    }
    if (rc != 0)
        users_job_free(u);
    return rc;
}

int users_import_jobs_status(struct users_import_jobs *t, const char *id, const char *viewer_id,
                             json_t **out, struct op_err *e)
{
    return jobs_status(t->jobs, id, viewer_id, out, e);
}
