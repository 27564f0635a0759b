/*
 * devices.h - the devices enrolled with central: each has an id (the device instance's id),
 * a label, its organisation, the sync manager it enrolled with, its Ed25519 public signing
 * key (hex; what result envelopes are verified with), a revoked flag, and time stamps. The
 * sync handshake enrols devices; the intake of result envelopes (app/results.h) reads them.
 *
 * Writes run inside the caller's transaction.
 */
#ifndef OUTPOST_STORE_DEVICES_H
#define OUTPOST_STORE_DEVICES_H

#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "base/keysize.h"
#include "store/db.h"

struct device {
    char id[UUID_STR_LEN];
    char *label;
    char *org_id;
    char *sync_manager_id; /* a user id, or NULL */
    unsigned char signing_public_key[KEY_PUBLIC_BYTES];
    int revoked;
    char enrolled_at[TIMESTAMP_STR_LEN];
    char last_sync_at[TIMESTAMP_STR_LEN]; /* "" if never */
    /* What the device last reported of itself at a sync (devices_report_sync); has_report 0
     * until it first did. */
    int has_report;
    char *software_version;       /* NULL until reported */
    int64_t pending_results;      /* results it still had to send */
    int64_t clock_offset_seconds; /* its clock minus central's */
};

/* Frees the strings of a device filled by devices_get and zeroes it. */
void device_clear(struct device *d);

/* Enrols a device; fills enrolled_at. OP_ECONFLICT if the id or the key is already enrolled. */
int devices_insert(struct db *db, struct device *d, struct op_err *e);

/* OP_ENOTFOUND naming the id if there is no such device; the caller clears *out. */
int devices_get(struct db *db, const char *id, struct device *out, struct op_err *e);

/* Enrols again the revoked device d->id with the label, organisation, sync manager and key of
 * *d (revoked cleared, enrolled_at now). OP_ENOTFOUND if there is no revoked device with that
 * id; OP_ECONFLICT if the key is another device's. */
int devices_reenrol(struct db *db, struct device *d, struct op_err *e);

int devices_set_revoked(struct db *db, const char *id, int revoked, struct op_err *e);

/* Records a sync of the device now. */
int devices_touch_sync(struct db *db, const char *id, struct op_err *e);

/* Records what the device reported at a sync, now: its software version, the results it still
 * had to send, its clock's offset from central's; last_sync_at becomes `now`. OP_ENOTFOUND if
 * there is no such device. */
int devices_report_sync(struct db *db, const char *id, const char *software_version,
                        int64_t pending_results, int64_t clock_offset_seconds, const char *now,
                        struct op_err *e);

/* ---- The backoffice's list of devices ---- */

/* A device as the backoffice lists it: what it reported at its last sync, the login of its sync
 * manager, and the status of its newest sync run. */
struct device_overview {
    char id[UUID_STR_LEN];
    char *label;
    char *org_id;
    char *sync_manager_login; /* NULL if none (or the user was deleted) */
    char enrolled_at[TIMESTAMP_STR_LEN];
    char last_sync_at[TIMESTAMP_STR_LEN]; /* "" if never */
    int revoked;
    int has_report;         /* 0 until the device first sent a sync report */
    char *software_version; /* NULL until reported */
    int64_t pending_results;
    int64_t clock_offset_seconds;
    char last_run_status[16]; /* "running", "ok", "failed"; "" when it has no run */
};
void device_overview_clear(void *row);

/* Every device, ordered by label then id, as `outpost devices list` shows them: a cursor
 * (db_cursor_next yields const struct device_overview *). */
#define DEVICES_CURSOR_PAGE 100
void devices_listing_cursor(struct db_cursor *c);

/* The devices ordered by label then id, a page at a time (db.h): up to `limit` rows after the
 * key after->col[0..1] (label, id). `admin_id` (NULL: every device) keeps the devices of the
 * organisations of the test centers in that administrator's scope (TESTCENTERS_ADMIN_SCOPE_CTE:
 * the centers they administer and every sub-center); `org_id` (NULL: any) one
 * organisation. The rows are struct device_overview. */
int devices_overview_page(struct db *db, const char *admin_id, const char *org_id,
                          const struct db_key *after, int limit, struct db_page *out,
                          struct op_err *e);

/* The overview of device `id`; OP_ENOTFOUND if there is none. The caller clears *out. */
int devices_overview_get(struct db *db, const char *id, struct device_overview *out,
                         struct op_err *e);

/* 1 when the device `id`'s organisation is that of a test center in `admin_id`'s scope, 0 when
 * not (or when there is no such device), negative on a database error. */
int devices_in_admin_scope(struct db *db, const char *id, const char *admin_id, struct op_err *e);

#endif
