/*
 * readiness.h - the sync manager's readiness panel on a device: is this device ready to sync
 * and to keep results? Four facts, read when asked (GET /api/v1/readiness):
 *
 *   central        the registered root URL answers GET /api/v1/health with 200, within a short
 *                  time-out (one attempt, no retry: a panel must not hang on a network the
 *                  device is not on), and how long it took;
 *   results        result envelopes waiting in the outbox (app/outbox.h: pending);
 *   disk           free space of the data folder, ok while at least a threshold is free (the
 *                  packages downloaded and the results kept live there);
 *   last sync      the newest run of the sync history (app/sync_history.h), or none.
 *
 * The network check runs outside any transaction: the database is read before it, in its own
 * short transactions.
 */
#ifndef OUTPOST_APP_READINESS_H
#define OUTPOST_APP_READINESS_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "http/url.h"
#include "instance/instance.h"

#define READINESS_TIMEOUT_MS     3000         /* the health check of central, in all */
#define READINESS_DISK_MIN_BYTES (1ull << 30) /* 1 GiB free: below it, disk not ok */

struct app_readiness_options {
    long timeout_ms;         /* 0: READINESS_TIMEOUT_MS */
    uint64_t disk_min_bytes; /* 0: READINESS_DISK_MIN_BYTES */
};

struct app_readiness {
    int registered;                 /* a central is registered (register-central) */
    char central_url[HTTP_URL_MAX]; /* "" when none */
    int reachable;                  /* it answered 200 to GET /api/v1/health */
    long latency_ms;                /* how long that took; -1 when not reachable */
    char central_error[OP_ERR_MAX]; /* why not reachable, else "" */
    int64_t results_waiting;        /* pending envelopes in the outbox */
    uint64_t disk_free_bytes;       /* available to this process in the data folder */
    uint64_t disk_min_bytes;        /* the threshold used */
    int disk_ok;                    /* disk_free_bytes >= disk_min_bytes */
    json_t *last_sync;              /* the newest run (as app_sync_history gives it), owned; NULL */
};

/* Reads the readiness of the device `inst` into *out (release with app_readiness_clear). `o`
 * may be NULL for the defaults. Central not registered or not reachable is a fact of the
 * answer, not an error. OP_ESTATE on central; OP_EIO when the data folder's free space cannot
 * be read; the database's errors. */
int app_readiness_read(struct instance *inst, const struct app_readiness_options *o,
                       struct app_readiness *out, struct op_err *e);

void app_readiness_clear(struct app_readiness *r);

/* {"ready": reachable and disk ok, "central": {"url" (null), "reachable", "latency_ms" (null),
 * "error" (null)}, "results_waiting", "disk": {"free_bytes", "min_bytes", "ok"}, "last_sync":
 * {id, started_at, ended_at, status, counts, results_sent, bytes, error} or null}, a new
 * reference (NULL: out of memory). */
json_t *app_readiness_json(const struct app_readiness *r);

#endif
