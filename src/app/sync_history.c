/* sync_history.c - sync runs and the device's sync lock (see sync_history.h). */
#include "app/sync_history.h"

#include <stdlib.h>
#include <string.h>

#include "base/lockfile.h"
#include "store/devices.h"
#include "store/sync_runs.h"

struct begin_ctx {
    const struct app_sync_run *run;
    char started_at[TIMESTAMP_STR_LEN];
};

/* db_write bodies. */
static int insert_run(struct db *db, void *arg, struct op_err *e)
{
    struct begin_ctx *c = arg;
    return sync_runs_insert(db, c->run->id, c->run->device_id, c->started_at, e);
}

struct end_ctx {
    const char *id, *status, *counts, *error;
    int64_t results_sent, bytes;
    char ended_at[TIMESTAMP_STR_LEN];
};

static int finish_run(struct db *db, void *arg, struct op_err *e)
{
    struct end_ctx *c = arg;
    return sync_runs_finish(db, c->id, c->status, c->ended_at, c->counts, c->results_sent, c->bytes,
                            c->error, e);
}

int app_sync_run_begin(struct instance *inst, const char *device_id, struct app_sync_run *run,
                       struct op_err *e)
{
    memset(run, 0, sizeof *run);
    run->lock_fd = -1;
    int rc;
    if (inst->role == ROLE_DEVICE) {
        if (device_id)
            return err_set(e, OP_EINPUT, "a device records its own sync runs (no device id)");
        snprintf(run->device_id, sizeof run->device_id, "%s", inst->id);
        char *path = instance_path(inst, SYNC_LOCK_FILE);
        if (!path)
            return err_set(e, OP_ENOMEM, "out of memory");
        rc = lockfile_take(path, "a sync", &run->lock_fd, e);
        free(path);
        if (rc != 0)
            return rc;
    } else {
        if (!device_id || !uuid_is_valid(device_id))
            return err_set(e, OP_EINPUT, "\"%s\" is not a device id (a UUID)",
                           device_id ? device_id : "");
        struct device d;
        rc = devices_get(inst->db, device_id, &d, e);
        if (rc != 0)
            return rc;
        device_clear(&d);
        snprintf(run->device_id, sizeof run->device_id, "%s", device_id);
    }
    uuid_generate(run->id);
    struct begin_ctx c = {.run = run};
    timestamp_now(c.started_at);
    rc = db_write(inst->db, insert_run, &c, e);
    if (rc != 0) {
        lockfile_release(run->lock_fd);
        run->lock_fd = -1;
    }
    return rc;
}

/* counts: {"entity": {"created"|"updated"|"deleted": n >= 0}}. */
static int check_counts(json_t *counts, struct op_err *e)
{
    if (!json_is_object(counts))
        return err_set(e, OP_EINPUT, "sync run counts: not a JSON object");
    const char *entity;
    json_t *v;
    json_object_foreach(counts, entity, v)
    {
        if (!json_is_object(v))
            return err_set(e, OP_EINPUT, "sync run counts: \"%s\" is not an object", entity);
        const char *k;
        json_t *n;
        json_object_foreach(v, k, n)
        {
            if ((strcmp(k, "created") != 0 && strcmp(k, "updated") != 0 &&
                 strcmp(k, "deleted") != 0) ||
                !json_is_integer(n) || json_integer_value(n) < 0)
                return err_set(e, OP_EINPUT,
                               "sync run counts: \"%s\".\"%s\" is not created, updated or "
                               "deleted with a count of 0 or more",
                               entity, k);
        }
    }
    return 0;
}

int app_sync_run_end(struct instance *inst, struct app_sync_run *run,
                     const struct app_sync_outcome *o, struct op_err *e)
{
    int rc = 0;
    char *counts = NULL;
    char *error = NULL;
    if (o->counts && (rc = check_counts(o->counts, e)) != 0)
        goto out;
    if (o->results_sent < 0 || o->bytes < 0) {
        rc = err_set(e, OP_EINPUT, "sync run: negative results sent or bytes");
        goto out;
    }
    counts = o->counts ? json_dumps(o->counts, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
    if (o->error) {
        size_t n = strnlen(o->error, SYNC_RUN_ERROR_MAX);
        /* cut on a UTF-8 character boundary */
        while (n > 0 && n < strlen(o->error) && ((unsigned char)o->error[n] & 0xC0) == 0x80)
            n--;
        error = strndup(o->error, n);
    }
    if (!counts || (o->error && !error)) {
        rc = err_set(e, OP_ENOMEM, "out of memory");
        goto out;
    }
    struct end_ctx c = {.id = run->id,
                        .status = o->ok ? "ok" : "failed",
                        .counts = counts,
                        .error = o->ok ? NULL : error,
                        .results_sent = o->results_sent,
                        .bytes = o->bytes};
    timestamp_now(c.ended_at);
    rc = db_write(inst->db, finish_run, &c, e);
out:
    free(counts);
    free(error);
    lockfile_release(run->lock_fd);
    run->lock_fd = -1;
    return rc;
}

static json_t *run_json(const struct sync_run *r, int interrupted)
{
    json_t *counts = json_loads(r->counts, 0, NULL);
    if (!counts)
        counts = json_object();
    const char *status =
        strcmp(r->status, "running") == 0 && interrupted ? "interrupted" : r->status;
    return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o, s:I, s:I, s:s?}", "id", r->id, "device_id",
                     r->device_id, "started_at", r->started_at, "ended_at",
                     r->ended_at[0] ? r->ended_at : NULL, "status", status, "counts", counts,
                     "results_sent", (json_int_t)r->results_sent, "bytes", (json_int_t)r->bytes,
                     "error", r->error);
}

int app_sync_history(struct instance *inst, const char *device_id, int limit, json_t **out,
                     struct op_err *e)
{
    *out = NULL;
    if (inst->role == ROLE_DEVICE && device_id)
        return err_set(e, OP_EINPUT, "a device keeps its own sync runs only (no device id)");
    if (device_id && !uuid_is_valid(device_id))
        return err_set(e, OP_EINPUT, "\"%s\" is not a device id (a UUID)", device_id);
    struct sync_run *rows;
    int n;
    int rc = sync_runs_latest(inst->db, device_id, limit, &rows, &n, e);
    if (rc != 0)
        return rc;
    /* a device: a 'running' run was cut short by a killed process unless it is the newest run
     * and the lock is held (by the sync that runs it now) */
    int lock_free = 0;
    if (inst->role == ROLE_DEVICE) {
        char *path = instance_path(inst, SYNC_LOCK_FILE);
        lock_free = path && lockfile_is_held(path) == 0;
        free(path);
    }
    json_t *arr = json_array();
    for (int i = 0; arr && i < n; i++) {
        json_t *o = run_json(&rows[i], inst->role == ROLE_DEVICE && (lock_free || i > 0));
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    sync_runs_free(rows, n);
    if (!arr)
        return err_set(e, OP_ENOMEM, "out of memory");
    *out = arr;
    return 0;
}
