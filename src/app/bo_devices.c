/*
 * bo_devices.c - the backoffice's devices and sync history (see bo_devices.h): the access rule
 * (super-user: all; test-center administrator: the organisations of their centers; anyone else:
 * nothing), the checks of the filters, and the JSON of a device and of a run.
 */
#include "app/bo_devices.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/devices.h"
#include "app/sync_history.h"
#include "base/ids.h"
#include "store/devices.h"
#include "store/sync_runs.h"
#include "store/testcenters.h"

/* ---- Who may see what ---- */

/* What the caller may see: every device (all), or those of the organisations of the centers
 * in admin_id's scope. */
struct scope {
    int all;
    const char *admin_id;
};

static int caller_scope(struct instance *inst, const struct bo_caller *who, struct scope *s,
                        struct op_err *e)
{
    memset(s, 0, sizeof *s);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "the backoffice", e);
    if (rc != 0)
        return rc;
    if (!who || !who->user_id[0])
        return err_set(e, OP_EUNAUTH, "not logged in as a user of this central");
    s->all = who->super;
    s->admin_id = who->super ? NULL : who->user_id;
    return 0;
}

/* The scope's admin_id for a store filter: NULL when the caller sees everything. */
static const char *scope_admin(const struct scope *s)
{
    return s->admin_id;
}

/* 0 when the caller may see device `id`; for an administrator, OP_ENOTFOUND when it is not of
 * their organisations, the same answer as for a device that does not exist. */
static int check_device_scope(struct instance *inst, const struct scope *s, const char *id,
                              struct op_err *e)
{
    if (s->all)
        return 0;
    int in = devices_in_admin_scope(inst->db, id, s->admin_id, e);
    if (in < 0)
        return in;
    if (!in)
        return err_set(e, OP_ENOTFOUND, "unknown device %s (not enrolled with this central)", id);
    return 0;
}

static int check_id(const char *id, const char *field, const char *what, struct op_err *e)
{
    if (!id || !uuid_is_valid(id))
        return err_set_field(e, OP_EINPUT, field, "\"%s\" is not a %s id (a UUID)", id ? id : "",
                             what);
    return 0;
}

/* ---- Devices ---- */

static const char *device_status(const struct device_overview *d)
{
    if (d->revoked)
        return "revoked";
    if (d->last_run_status[0])
        return d->last_run_status;
    return d->last_sync_at[0] ? "ok" : "never_synced";
}

static json_t *overview_json(const struct device_overview *d)
{
    json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:s?, s:b, s:s}", "id", d->id,
                          "label", d->label, "org_id", d->org_id, "sync_manager_login",
                          d->sync_manager_login, "enrolled_at", d->enrolled_at, "last_sync_at",
                          d->last_sync_at[0] ? d->last_sync_at : NULL, "software_version",
                          d->software_version, "revoked", d->revoked, "status", device_status(d));
    if (!o)
        return NULL;
    json_object_set_new(o, "results_waiting",
                        d->has_report ? json_integer(d->pending_results) : json_null());
    json_object_set_new(o, "clock_offset_seconds",
                        d->has_report ? json_integer(d->clock_offset_seconds) : json_null());
    return o;
}

/* Sets *key to the (label, id) of device `id`, the start of the page after it. */
static int device_key(struct instance *inst, const char *id, struct db_key *key, struct op_err *e)
{
    int rc = check_id(id, "after", "device", e);
    if (rc != 0)
        return rc;
    struct device d;
    struct op_err ge = {0};
    rc = devices_get(inst->db, id, &d, &ge);
    if (rc == OP_ENOTFOUND)
        return err_set_field(e, OP_EINPUT, "after", "after: no device %s", id);
    if (rc != 0)
        return err_set(e, rc, "%s", ge.msg);
    const char *cols[2] = {d.label, d.id};
    db_key_set(key, 2, cols);
    device_clear(&d);
    return 0;
}

static int page_limit(int limit, int def, int max, struct op_err *e)
{
    if (limit == 0)
        return def;
    if (limit < 1 || limit > max)
        return err_set_field(e, OP_EINPUT, "limit", "limit: a page holds 1 to %d rows", max);
    return limit;
}

int app_bo_devices_list(struct instance *inst, const struct bo_caller *who,
                        const struct app_bo_devices_query *q, json_t **out, struct op_err *e)
{
    *out = NULL;
    struct scope s;
    int rc = caller_scope(inst, who, &s, e);
    if (rc != 0)
        return rc;
    int limit = page_limit(q->limit, BO_DEVICES_PAGE_DEFAULT, BO_DEVICES_PAGE_MAX, e);
    if (limit < 0)
        return limit;
    struct op_err oe = {0};
    if (q->org_id && testcenters_check_org(q->org_id, &oe) != 0)
        return err_set_field(e, OP_EINPUT, "org_id", "org_id: %s", oe.msg);
    struct db_key after = {0};
    if (q->after && (rc = device_key(inst, q->after, &after, e)) != 0)
        return rc;
    struct db_page page;
    rc = devices_overview_page(inst->db, scope_admin(&s), q->org_id, &after, limit, &page, e);
    db_key_clear(&after);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    const struct device_overview *rows = page.rows;
    for (int i = 0; arr && i < page.n; i++)
        if (json_array_append_new(arr, overview_json(&rows[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    const char *next = page.more && page.n > 0 ? rows[page.n - 1].id : NULL;
    *out = arr ? json_pack("{s:o, s:s?}", "devices", arr, "next", next) : NULL;
    db_page_clear(&page);
    return *out ? 0 : err_set(e, OP_ENOMEM, "out of memory");
}

/* The overview of the one device `id`. */
static int device_overview(struct instance *inst, const char *id, json_t **out, struct op_err *e)
{
    struct device_overview d;
    int rc = devices_overview_get(inst->db, id, &d, e);
    if (rc != 0)
        return rc;
    *out = overview_json(&d);
    device_overview_clear(&d);
    return *out ? 0 : err_set(e, OP_ENOMEM, "out of memory");
}

static json_t *run_json(const struct sync_run_row *r)
{
    json_t *counts = json_loads(r->run.counts, 0, NULL);
    if (!counts)
        counts = json_object();
    return json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s?, s:s, s:o, s:I, s:I, s:s?}", "id", r->run.id,
                     "device_id", r->run.device_id, "device_label", r->device_label, "org_id",
                     r->org_id, "started_at", r->run.started_at, "ended_at",
                     r->run.ended_at[0] ? r->run.ended_at : NULL, "status", r->run.status, "counts",
                     counts, "results_sent", (json_int_t)r->run.results_sent, "bytes",
                     (json_int_t)r->run.bytes, "error", r->run.error);
}

/* The runs of rows[0..n-1] as a JSON array; NULL out of memory. */
static json_t *runs_json(const struct sync_run_row *rows, int n)
{
    json_t *arr = json_array();
    for (int i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, run_json(&rows[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    return arr;
}

int app_bo_device_get(struct instance *inst, const struct bo_caller *who, const char *id,
                      json_t **out, struct op_err *e)
{
    *out = NULL;
    struct scope s;
    int rc = caller_scope(inst, who, &s, e);
    if (rc == 0)
        rc = check_id(id, "id", "device", e);
    if (rc == 0)
        rc = check_device_scope(inst, &s, id, e);
    json_t *device = NULL;
    if (rc == 0)
        rc = device_overview(inst, id, &device, e);
    if (rc != 0)
        return rc;
    struct sync_runs_filter f = {.device_id = id};
    struct sync_run_row *rows;
    int n, more;
    rc = sync_runs_page(inst->db, &f, SYNC_HISTORY_DEFAULT, &rows, &n, &more, e);
    if (rc != 0) {
        json_decref(device);
        return rc;
    }
    json_t *runs = runs_json(rows, n);
    sync_run_rows_free(rows, n);
    *out = runs ? json_pack("{s:o, s:o}", "device", device, "runs", runs) : NULL;
    if (!*out) {
        json_decref(device);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    return 0;
}

int app_bo_device_revoke(struct instance *inst, const struct bo_caller *who, const char *id,
                         struct op_err *e)
{
    struct scope s;
    int rc = caller_scope(inst, who, &s, e);
    if (rc == 0)
        rc = check_id(id, "id", "device", e);
    if (rc == 0)
        rc = check_device_scope(inst, &s, id, e);
    if (rc == 0)
        rc = app_devices_revoke(inst, id, e);
    return rc;
}

/* ---- Sync runs ---- */

int app_bo_parse_day(const char *text, const char *field, int next_day, char out[11],
                     struct op_err *e)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int ok = strlen(text) == 10 && text[0] != '0' && text[4] == '-' && text[7] == '-';
    for (int i = 0; ok && i < 10; i++)
        ok = i == 4 || i == 7 || (text[i] >= '0' && text[i] <= '9');
    if (ok) {
        tm.tm_year = atoi(text) - 1900;
        tm.tm_mon = atoi(text + 5) - 1;
        tm.tm_mday = atoi(text + 8);
        tm.tm_hour = 12;
        int mday = tm.tm_mday, mon = tm.tm_mon;
        time_t t = timegm(&tm); /* normalises tm: 2026-02-30 becomes 2026-03-02 */
        struct tm back;
        ok = t != (time_t)-1 && gmtime_r(&t, &back) && back.tm_mday == mday && back.tm_mon == mon;
        if (ok && next_day) {
            t += 24 * 3600;
            ok = gmtime_r(&t, &back) != NULL;
        }
        if (ok)
            ok = strftime(out, 11, "%Y-%m-%d", &back) == 10;
    }
    if (!ok)
        return err_set_field(e, OP_EINPUT, field, "%s: \"%.40s\" is not a date such as 2026-12-06",
                             field, text);
    return 0;
}

int app_bo_sync_runs_list(struct instance *inst, const struct bo_caller *who,
                          const struct app_bo_runs_query *q, json_t **out, struct op_err *e)
{
    *out = NULL;
    struct scope s;
    int rc = caller_scope(inst, who, &s, e);
    if (rc != 0)
        return rc;
    int limit = page_limit(q->limit, BO_RUNS_PAGE_DEFAULT, BO_RUNS_PAGE_MAX, e);
    if (limit < 0)
        return limit;
    struct sync_runs_filter f = {.admin_id = scope_admin(&s), .status = q->status};
    if (q->device_id) {
        if ((rc = check_id(q->device_id, "device_id", "device", e)) != 0 ||
            (rc = check_device_scope(inst, &s, q->device_id, e)) != 0)
            return rc;
        f.device_id = q->device_id;
    }
    if (q->status && strcmp(q->status, "ok") != 0 && strcmp(q->status, "failed") != 0 &&
        strcmp(q->status, "running") != 0)
        return err_set_field(e, OP_EINPUT, "status", "status: ok, failed or running, not \"%s\"",
                             q->status);
    char from[11], until[11];
    if (q->from) {
        if ((rc = app_bo_parse_day(q->from, "from", 0, from, e)) != 0)
            return rc;
        f.from = from;
    }
    if (q->to) {
        if ((rc = app_bo_parse_day(q->to, "to", 1, until, e)) != 0)
            return rc;
        f.until = until;
        if (f.from && strcmp(until, from) <= 0)
            return err_set_field(e, OP_EINPUT, "to", "to: %s is before from (%s)", q->to, q->from);
    }
    struct sync_run_row after = {0};
    if (q->after) {
        if ((rc = check_id(q->after, "after", "sync run", e)) != 0)
            return rc;
        struct op_err ge = {0};
        rc = sync_runs_get(inst->db, q->after, &after, &ge);
        if (rc == OP_ENOTFOUND)
            return err_set_field(e, OP_EINPUT, "after", "after: no sync run %s", q->after);
        if (rc != 0)
            return err_set(e, rc, "%s", ge.msg);
        f.before_started_at = after.run.started_at;
        f.before_id = after.run.id;
    }
    struct sync_run_row *rows;
    int n, more;
    rc = sync_runs_page(inst->db, &f, limit, &rows, &n, &more, e);
    sync_run_row_clear(&after);
    if (rc != 0)
        return rc;
    json_t *runs = runs_json(rows, n);
    *out = runs ? json_pack("{s:o, s:s?}", "runs", runs, "next",
                            more && n > 0 ? rows[n - 1].run.id : NULL)
                : NULL;
    sync_run_rows_free(rows, n);
    return *out ? 0 : err_set(e, OP_ENOMEM, "out of memory");
}

int app_bo_sync_run_get(struct instance *inst, const struct bo_caller *who, const char *id,
                        json_t **out, struct op_err *e)
{
    *out = NULL;
    struct scope s;
    int rc = caller_scope(inst, who, &s, e);
    if (rc == 0)
        rc = check_id(id, "id", "sync run", e);
    if (rc != 0)
        return rc;
    struct sync_run_row r;
    struct op_err ge = {0};
    rc = sync_runs_get(inst->db, id, &r, &ge);
    if (rc != 0)
        return err_set(e, rc, "%s", ge.msg);
    rc = check_device_scope(inst, &s, r.run.device_id, e);
    if (rc == OP_ENOTFOUND)
        err_set(e, OP_ENOTFOUND, "sync run %s: no such run", id);
    if (rc == 0 && !(*out = json_pack("{s:o}", "run", run_json(&r))))
        rc = err_set(e, OP_ENOMEM, "out of memory");
    sync_run_row_clear(&r);
    return rc;
}
