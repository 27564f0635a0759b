/*
 * bo_devices.h - the backoffice's devices and sync history on central (docs/api.md,
 * "Backoffice: devices and sync history"): every enrolled device with what it reported at its
 * last sync, its revocation, and the runs of every device with the report of each.
 *
 * Who may see what (app/backoffice.h loads the caller, and refuses the roles that may not use
 * the backoffice): the super-user sees and revokes every device; a test-center administrator
 * only the devices of the organisations of the test centers in their scope (those they
 * administer and every sub-center: a device is enrolled for an organisation, not a center), and
 * their runs. Any other device or run is OP_ENOTFOUND for them, exactly as an id that does not
 * exist. Every function is OP_ESTATE on a device.
 *
 * Lists are keyset pages: `after` is the id of the last row of the previous page (the answer's
 * "next"), so a page costs the same wherever it is.
 */
#ifndef OUTPOST_APP_BO_DEVICES_H
#define OUTPOST_APP_BO_DEVICES_H

#include <jansson.h>

#include "app/backoffice.h"
#include "base/err.h"
#include "instance/instance.h"

#define BO_DEVICES_PAGE_DEFAULT 50
#define BO_DEVICES_PAGE_MAX     500

/* What app_bo_devices_list keeps; NULL members do not filter. Borrowed. */
struct app_bo_devices_query {
    const char *org_id; /* one organisation */
    const char *after;  /* the id of the last device of the previous page */
    int limit;          /* 1 to BO_DEVICES_PAGE_MAX; 0 for BO_DEVICES_PAGE_DEFAULT */
};

/* The devices `who` may see, by label, into *out (caller releases):
 *   {"devices": [<device>, ...], "next": "<id>" | null}
 * <device> = {id, label, org_id, sync_manager_login (null), enrolled_at, last_sync_at (null if
 * never), results_waiting (as the device last reported; null until it did), clock_offset_seconds
 * (device minus central; null), software_version (null), revoked, status}; status is "revoked",
 * "never_synced", or the status of its newest run ("ok", "failed", "running").
 * OP_EINPUT naming the field for a bad org_id, after (not a UUID, no such device) or limit. */
int app_bo_devices_list(struct instance *inst, const struct bo_caller *who,
                        const struct app_bo_devices_query *q, json_t **out, struct op_err *e);

/* The device `id` for `who`: {"device": <device>, "runs": [<run>, ...]} with its
 * SYNC_HISTORY_DEFAULT newest runs (below). OP_ENOTFOUND for an unknown id or a device outside
 * an administrator's organisations. */
int app_bo_device_get(struct instance *inst, const struct bo_caller *who, const char *id,
                      json_t **out, struct op_err *e);

/* Revokes the device `id` for `who` (app_devices_revoke: its tokens stop at once, its later
 * results are refused), with the same access rule as app_bo_device_get; idempotent. */
int app_bo_device_revoke(struct instance *inst, const struct bo_caller *who, const char *id,
                         struct op_err *e);

#define BO_RUNS_PAGE_DEFAULT 50
#define BO_RUNS_PAGE_MAX     500

/* What app_bo_sync_runs_list keeps; NULL members do not filter. Borrowed. */
struct app_bo_runs_query {
    const char *device_id;
    const char *status; /* "ok", "failed", "running" */
    const char *from;   /* a date, YYYY-MM-DD: runs started on that day (UTC) or later */
    const char *to;     /* a date, YYYY-MM-DD: runs started on that day or earlier */
    const char *after;  /* the id of the last run of the previous page */
    int limit;          /* 1 to BO_RUNS_PAGE_MAX; 0 for BO_RUNS_PAGE_DEFAULT */
};

/* The sync runs of the devices `who` may see, newest first, into *out (caller releases):
 *   {"runs": [<run>, ...], "next": "<run id>" | null}
 * <run> = {id, device_id, device_label, org_id, started_at, ended_at (null while running),
 * status ("running", "ok", "failed"), counts {"<entity>": {created, updated, deleted}},
 * results_sent, bytes, error (null)}: the report the device sent at the end of that sync.
 * OP_EINPUT naming the field for a bad device_id, status, from, to (or to before from), after
 * or limit; a device_id outside an administrator's organisations is OP_ENOTFOUND. */
int app_bo_sync_runs_list(struct instance *inst, const struct bo_caller *who,
                          const struct app_bo_runs_query *q, json_t **out, struct op_err *e);

/* The day filter's parser (pure, bounded, fuzzed by tests/fuzz/fuzz_bo_day.c): 0 when `text` is
 * a date YYYY-MM-DD that exists (years 1000 to 9999), written to out (10 characters and the NUL),
 * or with `next_day` the day after it; OP_EINPUT naming `field` otherwise. */
int app_bo_parse_day(const char *text, const char *field, int next_day, char out[11],
                     struct op_err *e);

/* The run `id`: {"run": <run>}; OP_ENOTFOUND for an unknown id or a run of a device outside an
 * administrator's organisations. */
int app_bo_sync_run_get(struct instance *inst, const struct bo_caller *who, const char *id,
                        json_t **out, struct op_err *e);

#endif
