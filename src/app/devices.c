/*
 * devices.c - enrolling, looking up and revoking devices on central (see devices.h): the
 * checks of an enrolment and the transactions around the store's writes.
 */
#include "app/devices.h"

#include <sodium.h>
#include <string.h>

#include "base/clock.h"
#include "app/oauth.h"
#include "base/text.h"
#include "store/testcenters.h"
#include "store/users.h"

/* The enrolling sync manager: a sync-manager user of the device's organisation. */
static int check_sync_manager(struct db *db, const char *id, const char *org, struct op_err *e)
{
    struct user u;
    struct op_err ue = {0};
    int rc = users_get_by_id(db, id, &u, &ue);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_EINPUT, "sync manager %s: no such user", id);
    if (rc != 0)
        return err_set(e, rc, "%s", ue.msg);
    if (strcmp(u.role, ROLE_SYNC_MANAGER) != 0)
        rc = err_set(e, OP_EINPUT,
                     "user \"%s\" is a %s, not a sync-manager; only a sync manager "
                     "enrols a device",
                     u.login, u.role);
    else if (!u.org_id || strcmp(u.org_id, org) != 0)
        rc = err_set(e, OP_EINPUT,
                     "sync manager \"%s\" is of organisation \"%s\", not \"%s\"; a sync manager "
                     "enrols devices of their own organisation only",
                     u.login, u.org_id ? u.org_id : "", org);
    user_clear(&u);
    return rc;
}

static int check_enrol(struct instance *inst, const struct app_device_enrol_request *req,
                       struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "device enrolment", e);
    if (rc != 0)
        return rc;
    if (!req->id || !uuid_is_valid(req->id))
        return err_set(e, OP_EINPUT, "a device id is a UUID such as the device's instance id");
    enum text_fault f = req->label ? text_check(req->label, 255) : TEXT_OK;
    if (!req->label || !req->label[0])
        return err_set(e, OP_EINPUT, "device %s: missing label", req->id);
    if (f != TEXT_OK)
        return err_set(e, OP_EINPUT, "device %s: the label %s", req->id,
                       f == TEXT_TOO_LONG ? "is longer than 255 bytes" : text_fault_message(f));
    struct op_err oe = {0};
    if (!req->org_id || testcenters_check_org(req->org_id, &oe) != 0)
        return err_set(e, OP_EINPUT, "device %s: organisation id: %s", req->id,
                       req->org_id ? oe.msg : "missing");
    if (sodium_is_zero(req->signing_public_key, KEY_PUBLIC_BYTES))
        return err_set(e, OP_EINPUT, "device %s: no public signing key", req->id);
    if (req->sync_manager_id)
        return check_sync_manager(inst->db, req->sync_manager_id, req->org_id, e);
    return 0;
}

/* The message of a write refused because the key is enrolled for another device. */
static int key_conflict(int rc, struct op_err *e)
{
    if (rc == OP_ECONFLICT)
        err_set(e, OP_ECONFLICT,
                "this signing key is already enrolled for another device; an operator of "
                "central must revoke that device first (devices revoke)");
    return rc;
}

int app_devices_enrol_in(struct instance *inst, const struct app_device_enrol_request *req,
                         struct op_err *e)
{
    int rc = check_enrol(inst, req, e);
    if (rc != 0)
        return rc;
    struct device d, old;
    memset(&d, 0, sizeof d);
    snprintf(d.id, sizeof d.id, "%s", req->id);
    d.label = (char *)req->label; /* borrowed for the insert */
    d.org_id = (char *)req->org_id;
    d.sync_manager_id = (char *)req->sync_manager_id;
    memcpy(d.signing_public_key, req->signing_public_key, KEY_PUBLIC_BYTES);
    struct op_err ge = {0};
    rc = devices_get(inst->db, req->id, &old, &ge);
    if (rc == OP_ENOTFOUND)
        return key_conflict(devices_insert(inst->db, &d, e), e);
    if (rc != 0)
        return err_set(e, rc, "%s", ge.msg);
    int revoked = old.revoked;
    device_clear(&old);
    if (!revoked)
        return err_set(e, OP_ECONFLICT,
                       "device %s is already enrolled; to enrol it again, an operator of central "
                       "must revoke it first (devices revoke %s)",
                       req->id, req->id);
    return key_conflict(devices_reenrol(inst->db, &d, e), e);
}

/* db_write bodies. */
struct enrol_ctx {
    struct instance *inst;
    const struct app_device_enrol_request *req;
};

static int enrol_body(struct db *db, void *ctx, struct op_err *e)
{
    (void)db;
    struct enrol_ctx *c = ctx;
    return app_devices_enrol_in(c->inst, c->req, e);
}

int app_devices_revoke_in(struct db *db, const char *id, struct op_err *e)
{
    int rc = devices_set_revoked(db, id, 1, e);
    if (rc == 0)
        rc = app_oauth_revoke_device_in(db, id, e);
    return rc;
}

static int revoke_device(struct db *db, void *id, struct op_err *e)
{
    return app_devices_revoke_in(db, id, e);
}

int app_devices_enrol(struct instance *inst, const struct app_device_enrol_request *req,
                      struct device *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = check_enrol(inst, req, e);
    if (rc != 0)
        return rc;
    struct enrol_ctx ctx = {inst, req};
    rc = db_write(inst->db, enrol_body, &ctx, e);
    if (rc == 0)
        rc = devices_get(inst->db, req->id, out, e);
    return rc;
}

int app_devices_get(struct instance *inst, const char *id, struct device *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "devices", e);
    if (rc != 0)
        return rc;
    if (!id || !uuid_is_valid(id))
        return err_set(e, OP_EINPUT, "\"%s\" is not a device id (a UUID)", id ? id : "");
    return devices_get(inst->db, id, out, e);
}

int app_devices_revoke(struct instance *inst, const char *id, struct op_err *e)
{
    struct device d;
    int rc = app_devices_get(inst, id, &d, e); /* the role, the id, and OP_ENOTFOUND */
    if (rc != 0)
        return rc;
    device_clear(&d);
    /* even when the device is revoked already: a client made since is revoked too */
    return db_write(inst->db, revoke_device, (void *)id, e);
}

struct report_ctx {
    const char *id, *version;
    int64_t pending, offset;
    char now[TIMESTAMP_STR_LEN];
};

static int report_sync(struct db *db, void *arg, struct op_err *e)
{
    struct report_ctx *c = arg;
    return devices_report_sync(db, c->id, c->version, c->pending, c->offset, c->now, e);
}

/* A device's clock further than this from central's is refused as nonsense (a year). */
#define CLOCK_OFFSET_MAX (366LL * 24 * 3600)

int app_devices_report_sync(struct instance *inst, const char *id, const char *version,
                            int64_t pending_results, int64_t device_time, struct op_err *e)
{
    struct device d;
    int rc = app_devices_get(inst, id, &d, e); /* the role, the id, and OP_ENOTFOUND */
    if (rc != 0)
        return rc;
    device_clear(&d);
    enum text_fault f = version ? text_check(version, 64) : TEXT_OK;
    if (!version || !version[0] || f != TEXT_OK)
        return err_set_field(e, OP_EINPUT, "software_version", "device %s: the software version %s",
                             id,
                             !version || !version[0] ? "is missing"
                             : f == TEXT_TOO_LONG    ? "is longer than 64 bytes"
                                                     : text_fault_message(f));
    if (pending_results < 0)
        return err_set_field(e, OP_EINPUT, "pending_results",
                             "device %s: pending results cannot be negative", id);
    time_t now = clock_now();
    int64_t offset = device_time - (int64_t)now;
    if (offset > CLOCK_OFFSET_MAX || offset < -CLOCK_OFFSET_MAX)
        return err_set_field(e, OP_EINPUT, "device_time",
                             "device %s: its clock is more than a year off central's; set the "
                             "device's date and time",
                             id);
    struct report_ctx c = {
        .id = id, .version = version, .pending = pending_results, .offset = offset};
    if (timestamp_format(now, c.now) != 0)
        return err_set(e, OP_ESTATE, "central's clock cannot be read as a date");
    return db_write(inst->db, report_sync, &c, e);
}

json_t *app_device_json(const struct device *d)
{
    char pub[KEY_PUBLIC_BYTES * 2 + 1];
    sodium_bin2hex(pub, sizeof pub, d->signing_public_key, KEY_PUBLIC_BYTES);
    /* the fingerprint `keys show` prints on the device: SHA-256 of the public key */
    struct key k;
    memset(&k, 0, sizeof k);
    memcpy(k.public_key, d->signing_public_key, KEY_PUBLIC_BYTES);
    char fp[KEY_FINGERPRINT_HEX_LEN];
    key_fingerprint(&k, fp);
    json_t *o = json_pack(
        "{s:s, s:s?, s:s?, s:s?, s:s, s:s, s:b, s:s, s:s?, s:s?}", "id", d->id, "label", d->label,
        "org_id", d->org_id, "sync_manager_id", d->sync_manager_id, "signing_public_key", pub,
        "signing_key_fingerprint_sha256", fp, "revoked", d->revoked, "enrolled_at", d->enrolled_at,
        "last_sync_at", d->last_sync_at[0] ? d->last_sync_at : NULL, "software_version",
        d->software_version);
    if (o) {
        json_object_set_new(o, "pending_results",
                            d->has_report ? json_integer(d->pending_results) : json_null());
        json_object_set_new(o, "clock_offset_seconds",
                            d->has_report ? json_integer(d->clock_offset_seconds) : json_null());
    }
    return o;
}

int app_devices_list(struct instance *inst, app_devices_each_fn fn, void *ctx, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "devices", e);
    if (rc != 0)
        return rc;
    struct db_cursor c;
    devices_listing_cursor(&c);
    const void *row;
    while ((rc = db_cursor_next(inst->db, &c, &row, e)) == 0 && row)
        if ((rc = fn(row, ctx)) != 0)
            break;
    db_cursor_close(&c);
    return rc;
}

json_t *app_device_listing_json(const struct device_overview *d)
{
    json_t *o =
        json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:b, s:s?}", "id", d->id, "label", d->label,
                  "org_id", d->org_id, "sync_manager_login", d->sync_manager_login, "enrolled_at",
                  d->enrolled_at, "last_sync_at", d->last_sync_at[0] ? d->last_sync_at : NULL,
                  "revoked", d->revoked, "software_version", d->software_version);
    if (o) {
        json_object_set_new(o, "pending_results",
                            d->has_report ? json_integer(d->pending_results) : json_null());
        json_object_set_new(o, "clock_offset_seconds",
                            d->has_report ? json_integer(d->clock_offset_seconds) : json_null());
    }
    return o;
}
