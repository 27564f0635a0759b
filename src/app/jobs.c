/*
 * app/jobs.c - background jobs (see jobs.h): a table under one mutex, each job a thread that
 * the table joins, either when it forgets the job or when it is freed.
 */
#include "app/jobs.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/ids.h"

struct job {
    struct jobs *t;
    char id[JOB_ID_LEN];
    char *owner_id;
    void *data;
    pthread_t thread;
    uint64_t serial; /* start order: the oldest ended job is forgotten first */
    /* under t->lock: */
    enum job_state state;
    const char *phase;
    char started_at[TIMESTAMP_STR_LEN], ended_at[TIMESTAMP_STR_LEN];
    char *error;     /* failed: why */
    char *new_error; /* set by the kind's `ended`, taken as the error */
};

struct jobs {
    const struct jobs_kind *kind;
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
    if (j->data && j->t->kind->free_data)
        j->t->kind->free_data(j->data);
    free(j->owner_id);
    free(j->error);
    free(j->new_error);
    free(j);
}

int jobs_new(const struct jobs_kind *kind, const struct instance *inst, unsigned running_max,
             struct jobs **out, struct op_err *e)
{
    *out = NULL;
    struct jobs *t = calloc(1, sizeof *t);
    if (!t)
        return err_set(e, OP_ENOMEM, "out of memory");
    t->kind = kind;
    t->inst = *inst;
    t->inst.db = NULL;
    t->running_max = running_max ? running_max : kind->running_max;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return 0;
}

void jobs_free(struct jobs *t)
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

/* ---- for the kinds ---- */

void *job_data(const struct job *j)
{
    return j->data;
}
const char *job_id(const struct job *j)
{
    return j->id;
}
enum job_state job_state(const struct job *j)
{
    return j->state;
}
const char *job_phase(const struct job *j)
{
    return j->phase;
}
void job_set_phase(struct job *j, const char *phase)
{
    j->phase = phase;
}
const struct instance *jobs_instance(const struct jobs *t)
{
    return &t->inst;
}
void jobs_lock(struct job *j)
{
    pthread_mutex_lock(&j->t->lock);
}
void jobs_unlock(struct job *j)
{
    pthread_mutex_unlock(&j->t->lock);
}

void job_set_error(struct job *j, char *error)
{
    free(j->new_error);
    j->new_error = error;
}

/* ---- the job's thread ---- */

static void *job_run(void *arg)
{
    struct job *j = arg;
    const struct jobs_kind *k = j->t->kind;
    struct op_err e = {0};
    struct instance inst = j->t->inst;
    int rc = instance_open_db(&j->t->inst, &inst.db, &e);
    if (rc == 0) {
        rc = k->run(j, &inst, &e);
        db_close(inst.db);
    }
    if (k->ended)
        k->ended(j, rc, &e);
    char *error = NULL;
    if (rc != 0) {
        error = j->new_error ? j->new_error : strdup(e.msg);
        j->new_error = NULL;
        if (!error)
            abort(); /* out of memory aborts, as everywhere in Outpost */
    }
    pthread_mutex_lock(&j->t->lock);
    timestamp_now(j->ended_at);
    j->state = rc == 0 ? JOB_DONE : JOB_FAILED;
    j->phase = rc == 0 ? "done" : "failed";
    j->error = error;
    pthread_mutex_unlock(&j->t->lock);
    return NULL;
}

/* ---- the table ---- */

/* Forgets the oldest ended job while more than `keep` have ended (under the lock; an ended
 * job's thread has returned or is returning: joined here). */
static void forget_old(struct jobs *t)
{
    for (;;) {
        int ended = 0, oldest = -1;
        for (int i = 0; i < t->n; i++)
            if (t->v[i]->state != JOB_RUNNING) {
                ended++;
                if (oldest < 0 || t->v[i]->serial < t->v[oldest]->serial)
                    oldest = i;
            }
        if (ended <= t->kind->keep)
            return;
        struct job *j = t->v[oldest];
        t->v[oldest] = t->v[--t->n]; /* out of the table before it is freed */
        t->v[t->n] = NULL;
        if (!j)
            return; /* cannot be: every slot below n holds a job */
        pthread_join(j->thread, NULL);
        job_free(j);
    }
}

int jobs_start(struct jobs *t, const char *owner_id, void *data, const char *phase,
               char id[JOB_ID_LEN], struct op_err *e)
{
    id[0] = '\0';
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    int running = 0;
    for (int i = 0; i < t->n; i++)
        running += t->v[i]->state == JOB_RUNNING;
    if ((unsigned)running >= t->running_max)
        rc = err_set(e, OP_EBUSY,
                     "already %d running (%s: at most %u at once); try again when one has ended",
                     running, t->kind->what, t->running_max);
    if (rc == 0) {
        forget_old(t);
        struct job **v = realloc(t->v, sizeof *v * (size_t)(t->n + 1));
        struct job *j = calloc(1, sizeof *j);
        char *owner = strdup(owner_id ? owner_id : "");
        if (!v || !j || !owner)
            abort(); /* out of memory aborts, as everywhere in Outpost */
        t->v = v;
        unsigned char raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(j->id, sizeof j->id, raw, sizeof raw);
        j->t = t;
        j->owner_id = owner;
        j->data = data;
        j->state = JOB_RUNNING;
        j->phase = phase;
        j->serial = ++t->serial;
        timestamp_now(j->started_at);
        if (pthread_create(&j->thread, NULL, job_run, j) != 0) {
            rc = err_set(e, OP_ENOMEM, "cannot start the %s's thread", t->kind->what);
            j->data = NULL; /* the caller's again */
            job_free(j);
        } else {
            t->v[t->n++] = j;
            memcpy(id, j->id, JOB_ID_LEN);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

/* Job `id` of `viewer_id`, or NULL (under the lock). */
static struct job *find(struct jobs *t, const char *id, const char *viewer_id)
{
    for (int i = 0; id && i < t->n; i++)
        if (strcmp(t->v[i]->id, id) == 0 &&
            strcmp(t->v[i]->owner_id, viewer_id ? viewer_id : "") == 0)
            return t->v[i];
    return NULL;
}

int jobs_with(struct jobs *t, const char *id, const char *viewer_id,
              int (*fn)(struct job *j, void *ctx, struct op_err *e), void *ctx, struct op_err *e)
{
    pthread_mutex_lock(&t->lock);
    struct job *j = find(t, id, viewer_id);
    int rc = j ? fn(j, ctx, e)
               : err_set(e, OP_ENOTFOUND, "no %s %.40s (%ss are kept a while after they end)",
                         t->kind->what, id ? id : "", t->kind->what);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int jobs_status(struct jobs *t, const char *id, const char *viewer_id, json_t **out,
                struct op_err *e)
{
    *out = NULL;
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    struct job *j = find(t, id, viewer_id);
    if (!j) {
        rc = err_set(e, OP_ENOTFOUND, "no %s %.40s (%ss are kept a while after they end)",
                     t->kind->what, id ? id : "", t->kind->what);
    } else {
        static const char *const states[] = {"running", "done", "failed"};
        *out = json_pack(
            "{s:s, s:s, s:s, s:i, s:s, s:o, s:o}", "id", j->id, "state", states[j->state], "phase",
            j->phase, "percent", j->state == JOB_RUNNING ? t->kind->percent(j) : 100, "started_at",
            j->started_at, "ended_at", j->ended_at[0] ? json_string(j->ended_at) : json_null(),
            "error", j->error ? json_string(j->error) : json_null());
        if (!*out)
            rc = err_set(e, OP_ENOMEM, "out of memory");
        else
            t->kind->status(j, *out);
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}
