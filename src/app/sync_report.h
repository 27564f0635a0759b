/*
 * sync_report.h - the report a device sends central at the end of each sync
 * (POST /api/v1/sync/report; docs/protocol.md, "Sync report"), both ends: its JSON form
 * (encoder for the device, a pure bounded parser for central, fuzzed by
 * tests/fuzz/fuzz_sync_report.c) and central's recording of it: a run in central's
 * sync_runs for that device (app/sync_history.h) and the device's last sync, software
 * version, pending results and clock offset (app_devices_report_sync).
 *
 *   {"started_at": "2026-12-06T08:00:00Z", "ended_at": "2026-12-06T08:00:03Z",
 *    "status": "ok" | "failed",
 *    "counts": {"<entity>": {"created": n, "updated": n, "deleted": n}},
 *    "results_sent": n, "bytes": n, "error": "..." | null,
 *    "software_version": "0.11.0", "pending_results": n, "device_time": unix seconds}
 */
#ifndef OUTPOST_APP_SYNC_REPORT_H
#define OUTPOST_APP_SYNC_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app/sync_history.h"
#include "base/err.h"
#include "base/ids.h"
#include "instance/instance.h"

#define SYNC_REPORT_MAX_BYTES    65536 /* the largest report body */
#define SYNC_REPORT_MAX_ENTITIES 16    /* entities in "counts" */
#define SYNC_REPORT_VERSION_MAX  64

struct app_sync_report {
    char started_at[TIMESTAMP_STR_LEN]; /* RFC 3339 UTC, as "YYYY-MM-DDTHH:MM:SSZ" */
    char ended_at[TIMESTAMP_STR_LEN];
    int ok;         /* status "ok" (1) or "failed" (0) */
    json_t *counts; /* owned; {} when none */
    int64_t results_sent, bytes, pending_results, device_time;
    char *error; /* owned, NULL when null; at most SYNC_RUN_ERROR_MAX bytes */
    char software_version[SYNC_REPORT_VERSION_MAX + 1];
};

/* Parses a report body (len bytes, need not end with a NUL): pure and bounded. OP_EINPUT
 * naming the field for a body over SYNC_REPORT_MAX_BYTES, not a JSON object, a field missing
 * or of the wrong type, a time that is not RFC 3339 UTC ("Z", optional fraction), an end
 * before the start, a status other than ok/failed, counts not {entity: {created|updated|
 * deleted: n >= 0}} (at most SYNC_REPORT_MAX_ENTITIES), a negative number, an error text over
 * SYNC_RUN_ERROR_MAX bytes or with a control character, a software version not 1 to 64 bytes
 * of text. Unknown fields are ignored. On success the caller frees with app_sync_report_free
 * (also after a failure: it is safe). */
int app_sync_report_parse(const char *body, size_t len, struct app_sync_report *out,
                          struct op_err *e);
void app_sync_report_free(struct app_sync_report *r);

/* The body of a report (the device); the caller frees. NULL when out of memory. */
char *app_sync_report_json(const struct app_sync_report *r);

/* Central: records the report of device `device_id` (from its credential): the device's last
 * sync, software version, pending results and clock offset (device_time - central's clock),
 * then a run of that device with the report's status, counts, results sent, bytes and error.
 * *run_id receives the run's id and *server_time central's clock. OP_ENOTFOUND for a device
 * not enrolled, OP_EINPUT for a bad value (app_devices_report_sync's checks). */
int app_sync_report_record(struct instance *central, const char *device_id,
                           const struct app_sync_report *r, char run_id[UUID_STR_LEN],
                           int64_t *server_time, struct op_err *e);

#endif
