/* bg.c - the big button's background sync (see bg.h). */
#include "sync/bg.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/sync_history.h"
#include "base/lockfile.h"
#include "sync/run.h"

struct sync_bg {
    struct instance *tmpl; /* the server's instance: read-only parts shared, never its db */
    char *lock_path;       /* DATA/sync.lock */
    atomic_int cancel;     /* sync_run's cancel flag */

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;  /* signalled when the thread passed the lock, or ended */
    struct sync_bg_progress p;
    int has_thread; /* a thread was created and not joined yet */
    int active;     /* the thread runs (between create and its last publish) */
    int past_lock;  /* the running thread's sync took the lock, or the thread ended */
    int busy;       /* the thread's sync was refused: another process holds the lock */
    int stopping;
    pthread_t thread;
};

/* ---- the sync thread ---- */

static void on_progress(void *arg, const char *phase, const struct sync_run_summary *s,
                        int64_t downloading)
{
    struct sync_bg *bg = arg;
    pthread_mutex_lock(&bg->mu);
    snprintf(bg->p.phase, sizeof bg->p.phase, "%s", phase);
    snprintf(bg->p.run_id, sizeof bg->p.run_id, "%s", s->run_id);
    bg->p.records = s->records;
    bg->p.bytes = s->bytes + downloading;
    bg->p.results_sent = s->results_sent;
    if (!bg->past_lock) {
        bg->past_lock = 1;
        pthread_cond_broadcast(&bg->cv);
    }
    pthread_mutex_unlock(&bg->mu);
}

static void *bg_main(void *arg)
{
    struct sync_bg *bg = arg;
    struct instance view = *bg->tmpl; /* its own connection, as an HTTP worker's view */
    view.db = NULL;
    struct op_err e;
    err_clear(&e);
    struct sync_run_summary s;
    memset(&s, 0, sizeof s);
    int rc = instance_open_db(bg->tmpl, &view.db, &e);
    if (rc == 0) {
        const struct sync_run_options o = {
            .on_progress = on_progress, .progress_arg = bg, .cancel = &bg->cancel};
        rc = sync_run(&view, &o, &s, &e);
    }
    if (view.db)
        db_close(view.db);
    pthread_mutex_lock(&bg->mu);
    bg->busy = rc == OP_EBUSY && !s.run_id[0];
    bg->p.running = 0;
    snprintf(bg->p.run_id, sizeof bg->p.run_id, "%s", s.run_id);
    bg->p.records = s.records;
    bg->p.bytes = s.bytes;
    bg->p.results_sent = s.results_sent;
    bg->p.outcome = rc == 0 ? SYNC_BG_OK : SYNC_BG_FAILED;
    snprintf(bg->p.phase, sizeof bg->p.phase, "%s", rc == 0 ? "done" : "failed");
    snprintf(bg->p.error, sizeof bg->p.error, "%s", rc == 0 ? "" : e.msg);
    timestamp_now(bg->p.ended_at);
    bg->active = 0;
    bg->past_lock = 1;
    pthread_cond_broadcast(&bg->cv);
    pthread_mutex_unlock(&bg->mu);
    return NULL;
}

/* The string member `name` of `o`, or "". */
static const char *str_of(json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s ? s : "";
}

/* ---- reading another process's sync, or the last one, from the history ---- */

/* Fills *p from the newest run of the history (none: *p stays empty). `running_elsewhere`:
 * another process holds the lock, and its run is the newest if that one is 'running'. */
static int from_history(struct instance *inst, int running_elsewhere, long pid,
                        struct sync_bg_progress *p, struct op_err *e)
{
    memset(p, 0, sizeof *p);
    if (running_elsewhere) {
        p->running = 1;
        p->elsewhere = 1;
        p->pid = pid;
        snprintf(p->phase, sizeof p->phase, "running");
    }
    json_t *runs = NULL;
    int rc = app_sync_history(inst, NULL, 1, &runs, e);
    if (rc != 0)
        return rc;
    json_t *r = json_array_get(runs, 0);
    const char *status = json_string_value(json_object_get(r, "status"));
    if (status && (strcmp(status, "running") == 0) == running_elsewhere) {
        snprintf(p->run_id, sizeof p->run_id, "%s", str_of(r, "id"));
        snprintf(p->started_at, sizeof p->started_at, "%s", str_of(r, "started_at"));
        snprintf(p->ended_at, sizeof p->ended_at, "%s", str_of(r, "ended_at"));
        p->bytes = json_integer_value(json_object_get(r, "bytes"));
        p->results_sent = json_integer_value(json_object_get(r, "results_sent"));
        const char *ent;
        json_t *c;
        json_object_foreach(json_object_get(r, "counts"), ent, c)
        {
            p->records += json_integer_value(json_object_get(c, "created")) +
                          json_integer_value(json_object_get(c, "updated")) +
                          json_integer_value(json_object_get(c, "deleted"));
        }
        if (!running_elsewhere) {
            int ok = strcmp(status, "ok") == 0;
            p->outcome = ok ? SYNC_BG_OK : SYNC_BG_FAILED;
            snprintf(p->phase, sizeof p->phase, "%s", ok ? "done" : "failed");
            const char *err = json_string_value(json_object_get(r, "error"));
            if (strcmp(status, "interrupted") == 0 && !err)
                err = "interrupted: the process running it ended before the sync did (killed, "
                      "or the machine stopped); the next sync resumes";
            snprintf(p->error, sizeof p->error, "%s", ok || !err ? "" : err);
        }
    }
    json_decref(runs);
    return 0;
}

/* ---- the button ---- */

int sync_bg_new(struct instance *device, struct sync_bg **out, struct op_err *e)
{
    *out = NULL;
    int rc = instance_require_role(device, ROLE_DEVICE, "the sync button", e);
    if (rc != 0)
        return rc;
    struct sync_bg *bg = calloc(1, sizeof *bg);
    if (!bg)
        return err_set(e, OP_ENOMEM, "out of memory");
    bg->tmpl = device;
    bg->lock_path = instance_path(device, SYNC_LOCK_FILE);
    if (!bg->lock_path) {
        free(bg);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    atomic_init(&bg->cancel, 0);
    pthread_mutex_init(&bg->mu, NULL);
    pthread_cond_init(&bg->cv, NULL);
    *out = bg;
    return 0;
}

/* Joins a thread that ended (under bg->mu; it ends without taking the mutex again). */
static void reap(struct sync_bg *bg)
{
    if (bg->has_thread && !bg->active) {
        pthread_join(bg->thread, NULL);
        bg->has_thread = 0;
    }
}

int sync_bg_start(struct sync_bg *bg, struct instance *inst, struct sync_bg_progress *out,
                  int *started, struct op_err *e)
{
    *started = 0;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&bg->mu);
    if (bg->stopping) {
        pthread_mutex_unlock(&bg->mu);
        return err_set(e, OP_EBUSY, "the server is stopping: no new sync");
    }
    if (bg->active) { /* this server's sync runs: that one */
        *out = bg->p;
        pthread_mutex_unlock(&bg->mu);
        return 0;
    }
    reap(bg);
    long pid = 0;
    int held = lockfile_holder(bg->lock_path, &pid);
    if (held != 1) {
        memset(&bg->p, 0, sizeof bg->p);
        bg->p.running = 1;
        bg->p.pid = (long)getpid();
        snprintf(bg->p.phase, sizeof bg->p.phase, "starting");
        timestamp_now(bg->p.started_at);
        bg->active = 1;
        bg->past_lock = 0;
        bg->busy = 0;
        int prc = pthread_create(&bg->thread, NULL, bg_main, bg);
        if (prc != 0) {
            bg->active = 0;
            memset(&bg->p, 0, sizeof bg->p);
            pthread_mutex_unlock(&bg->mu);
            return err_set(e, OP_EIO, "cannot start the sync's thread: %s", strerror(prc));
        }
        bg->has_thread = 1;
        while (!bg->past_lock)
            pthread_cond_wait(&bg->cv, &bg->mu);
        if (!bg->busy) {
            *out = bg->p;
            *started = 1;
            pthread_mutex_unlock(&bg->mu);
            return 0;
        }
        /* cron took the lock first: report its sync, and forget this refusal */
        memset(&bg->p, 0, sizeof bg->p);
        held = lockfile_holder(bg->lock_path, &pid);
    }
    pthread_mutex_unlock(&bg->mu);
    /* another process syncs (or did, and has just ended: then its outcome) */
    return from_history(inst, held == 1, pid, out, e);
}

int sync_bg_read(struct sync_bg *bg, struct instance *inst, struct sync_bg_progress *out,
                 struct op_err *e)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&bg->mu);
    if (bg->active) {
        *out = bg->p;
        pthread_mutex_unlock(&bg->mu);
        return 0;
    }
    struct sync_bg_progress mine = bg->p; /* this server's last sync, if any */
    pthread_mutex_unlock(&bg->mu);
    long pid = 0;
    int held = lockfile_holder(bg->lock_path, &pid);
    int rc = from_history(inst, held == 1, pid, out, e);
    if (rc != 0)
        return rc;
    if (out->running || mine.outcome == SYNC_BG_NONE)
        return 0;
    /* This server's last sync, when no run of the history started after it was pressed (the
     * history dates runs to the second; two runs of one second are told apart by run id only
     * when it is this server's): its own figures (records received, the error as it was) are
     * the fuller ones, and a press that failed before a run was recorded (not enrolled, no
     * central registered) is shown too. */
    if ((mine.run_id[0] && strcmp(mine.run_id, out->run_id) == 0) ||
        strcmp(mine.started_at, out->started_at) >= 0)
        *out = mine;
    return 0;
}

void sync_bg_stop(struct sync_bg *bg)
{
    pthread_mutex_lock(&bg->mu);
    bg->stopping = 1;
    atomic_store(&bg->cancel, 1);
    int join = bg->has_thread;
    bg->has_thread = 0;
    pthread_mutex_unlock(&bg->mu);
    if (join)
        pthread_join(bg->thread, NULL);
}

void sync_bg_free(struct sync_bg *bg)
{
    if (!bg)
        return;
    sync_bg_stop(bg);
    pthread_cond_destroy(&bg->cv);
    pthread_mutex_destroy(&bg->mu);
    free(bg->lock_path);
    free(bg);
}

static json_t *str_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

json_t *sync_bg_progress_json(const struct sync_bg_progress *p)
{
    static const char *const outcomes[] = {NULL, "ok", "failed"};
    const char *oc = outcomes[p->outcome];
    return json_pack("{s:b, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:b, s:o}", "running",
                     p->running, "phase", p->phase, "records", (json_int_t)p->records, "bytes",
                     (json_int_t)p->bytes, "results_sent", (json_int_t)p->results_sent, "outcome",
                     oc ? json_string(oc) : json_null(), "error", str_or_null(p->error),
                     "started_at", str_or_null(p->started_at), "ended_at", str_or_null(p->ended_at),
                     "run_id", str_or_null(p->run_id), "elsewhere", p->elsewhere, "pid",
                     p->pid > 0 ? json_integer((json_int_t)p->pid) : json_null());
}
