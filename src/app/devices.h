/*
 * devices.h - the devices enrolled with a central server (store/devices.h), as the enrolment
 * (app/enrol.h), `outpost devices` and the sync endpoints handle them: enrol, look up, list,
 * revoke, record what a device reports at a sync, and the public JSON shape of a device.
 *
 * A device is enrolled for one organisation, by a sync manager of that organisation
 * (docs/sync-protocol.md); its Ed25519 public signing key is what every result envelope it
 * sends is verified with (crypto/intake.h). A revoked device stays in the table, so that its
 * envelopes are refused by name.
 */
#ifndef OUTPOST_APP_DEVICES_H
#define OUTPOST_APP_DEVICES_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/keys.h"
#include "instance/instance.h"
#include "store/devices.h"
#include "store/oauth.h"

struct app_device_enrol_request {
    const char *id;              /* the device instance's id (a UUID) */
    const char *label;           /* 1 to 255 bytes of text */
    const char *org_id;          /* the organisation it syncs */
    const char *sync_manager_id; /* the enrolling sync manager's user id, or NULL */
    unsigned char signing_public_key[KEY_PUBLIC_BYTES];
};

/* Enrols a device on central, in its own transaction; *out (caller clears with device_clear)
 * is the device as stored. OP_EINPUT for a bad id, label or organisation id, or a sync manager
 * that is not a sync-manager of that organisation; OP_ECONFLICT if the id or the key is
 * enrolled already; OP_ESTATE on a device. */
int app_devices_enrol(struct instance *inst, const struct app_device_enrol_request *req,
                      struct device *out, struct op_err *e);

/* The checks and the writes of app_devices_enrol inside the caller's transaction (a db_write
 * body part: app/enrol.h enrols a device and creates its OAuth2 client in one). A device
 * already enrolled and not revoked, or a key enrolled for another device, is OP_ECONFLICT
 * saying to revoke it first; a revoked device enrols again (its row takes the new label,
 * organisation, sync manager and key, and is no longer revoked). */
int app_devices_enrol_in(struct instance *inst, const struct app_device_enrol_request *req,
                         struct op_err *e);

/* Revokes the device `id` inside the caller's transaction: the device and its OAuth2 clients
 * and tokens (app/oauth.h). OP_ENOTFOUND if it is not enrolled. */
int app_devices_revoke_in(struct db *db, const char *id, struct op_err *e);

/* The device list of `outpost devices list`: every device (store/oauth.h's struct
 * device_listing), ordered by label, through fn; a non-zero return of fn stops the walk and
 * is returned. */
typedef int (*app_devices_each_fn)(const struct device_overview *d, void *ctx);
int app_devices_list(struct instance *inst, app_devices_each_fn fn, void *ctx, struct op_err *e);

/* {id, label, org_id, sync_manager_login (null if none), enrolled_at, last_sync_at (null if
 * never), revoked, software_version, pending_results, clock_offset_seconds (each null until the
 * device reported them at a sync)} */
json_t *app_device_listing_json(const struct device_overview *d);

/* The device `id`; OP_ENOTFOUND if it is not enrolled. The caller clears *out. */
int app_devices_get(struct instance *inst, const char *id, struct device *out, struct op_err *e);

/* Revokes the device `id` (idempotent): its envelopes are refused from now on, and its
 * OAuth2 clients and tokens stop at once (app/oauth.h).
 * OP_ENOTFOUND if it is not enrolled. */
int app_devices_revoke(struct instance *inst, const char *id, struct op_err *e);

/* Records what the device `id` reports at a sync (central): its software version (1 to 64
 * bytes of text), the results it still has to send (>= 0), and the time on its clock when it
 * sent the report (`device_time`, seconds since the epoch), kept as the offset of its clock from
 * central's (device minus central, in seconds; a device far off is a device whose results are
 * dated wrong). last_sync_at becomes now. OP_ENOTFOUND if it is not enrolled, OP_EINPUT for a
 * bad value, OP_ESTATE on a device. */
int app_devices_report_sync(struct instance *inst, const char *id, const char *version,
                            int64_t pending_results, int64_t device_time, struct op_err *e);

/* {id, label, org_id, sync_manager_id (null if none), signing_public_key (hex),
 * signing_key_fingerprint_sha256, revoked, enrolled_at, last_sync_at (null if never),
 * software_version, pending_results, clock_offset_seconds (each null until reported)}. */
json_t *app_device_json(const struct device *d);

#endif
