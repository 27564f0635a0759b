/* readiness.c - the sync manager's readiness panel (see readiness.h). */
#include "app/readiness.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "app/central.h"
#include "app/outbox.h"
#include "app/sync_history.h"
#include "base/version.h"
#include "http/client.h"

static long elapsed_ms(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (long)((b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000);
}

/* GET /api/v1/health of the registered central, once, within `timeout_ms`. */
static void check_central(const struct app_central *c, long timeout_ms, struct app_readiness *out)
{
    struct http_client_options o = {.root_url = c->root_url,
                                    .ca_file = c->ca_file[0] ? c->ca_file : NULL,
                                    .connect_timeout_ms = timeout_ms,
                                    .total_timeout_ms = timeout_ms,
                                    .max_response_bytes = 64 * 1024,
                                    .user_agent = OUTPOST_USER_AGENT,
                                    .max_attempts = 1};
    struct op_err he;
    err_clear(&he);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct http_client *hc = http_client_new(&o, &he);
    struct http_reply r = {0};
    if (hc && http_get(hc, "/api/v1/health", &r, &he) == 0) {
        if (r.status == 200) {
            out->reachable = 1;
            out->latency_ms = elapsed_ms(&t0);
        } else {
            snprintf(out->central_error, sizeof out->central_error,
                     "central %s answered %ld to GET /api/v1/health: is the registered root URL "
                     "that of an Outpost central?",
                     c->root_url, r.status);
        }
    } else {
        snprintf(out->central_error, sizeof out->central_error, "%s", he.msg);
    }
    http_reply_free(&r);
    http_client_free(hc);
}

int app_readiness_read(struct instance *inst, const struct app_readiness_options *o,
                       struct app_readiness *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    out->latency_ms = -1;
    int rc = instance_require_role(inst, ROLE_DEVICE, "readiness", e);
    if (rc != 0)
        return rc;
    long timeout = o && o->timeout_ms > 0 ? o->timeout_ms : READINESS_TIMEOUT_MS;
    out->disk_min_bytes = o && o->disk_min_bytes > 0 ? o->disk_min_bytes : READINESS_DISK_MIN_BYTES;

    /* the database first, each read in its own short transaction */
    struct app_central c;
    struct op_err ce;
    err_clear(&ce);
    rc = app_central_get(inst, &c, &ce);
    if (rc == 0) {
        out->registered = 1;
        snprintf(out->central_url, sizeof out->central_url, "%s", c.root_url);
    } else if (rc == OP_ENOTFOUND) {
        snprintf(out->central_error, sizeof out->central_error,
                 "no central is registered on this device (outpost register-central)");
    } else {
        *e = ce;
        return rc;
    }
    struct outbox_counts oc;
    if ((rc = app_outbox_counts(inst, &oc, e)) != 0)
        return rc;
    out->results_waiting = oc.pending;
    json_t *runs = NULL;
    if ((rc = app_sync_history(inst, NULL, 1, &runs, e)) != 0)
        return rc;
    out->last_sync = json_incref(json_array_get(runs, 0));
    json_decref(runs);

    struct statvfs vs;
    if (statvfs(inst->dir, &vs) != 0) {
        app_readiness_clear(out);
        return err_set(e, OP_EIO, "%s: cannot read the free disk space: %s", inst->dir,
                       strerror(errno));
    }
    out->disk_free_bytes = (uint64_t)vs.f_bavail * (uint64_t)vs.f_frsize;
    out->disk_ok = out->disk_free_bytes >= out->disk_min_bytes;

    /* then the network, holding nothing */
    if (out->registered)
        check_central(&c, timeout, out);
    return 0;
}

void app_readiness_clear(struct app_readiness *r)
{
    json_decref(r->last_sync);
    r->last_sync = NULL;
}

static json_t *str_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

json_t *app_readiness_json(const struct app_readiness *r)
{
    return json_pack("{s:b, s:{s:o, s:b, s:o, s:o}, s:I, s:{s:I, s:I, s:b}, s:O}", "ready",
                     r->reachable && r->disk_ok, "central", "url", str_or_null(r->central_url),
                     "reachable", r->reachable, "latency_ms",
                     r->latency_ms >= 0 ? json_integer((json_int_t)r->latency_ms) : json_null(),
                     "error", str_or_null(r->central_error), "results_waiting",
                     (json_int_t)r->results_waiting, "disk", "free_bytes",
                     (json_int_t)r->disk_free_bytes, "min_bytes", (json_int_t)r->disk_min_bytes,
                     "ok", r->disk_ok, "last_sync", r->last_sync ? r->last_sync : json_null());
}
