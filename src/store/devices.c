/* devices.c - SQL for the devices table (see devices.h). */
#include "store/devices.h"

#include "store/testcenters.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void device_clear(struct device *d)
{
    free(d->label);
    free(d->org_id);
    free(d->sync_manager_id);
    free(d->software_version);
    memset(d, 0, sizeof *d);
}

int devices_insert(struct db *db, struct device *d, struct op_err *e)
{
    timestamp_now(d->enrolled_at);
    char hex[KEY_PUBLIC_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, d->signing_public_key, KEY_PUBLIC_BYTES);
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO devices (id, label, org_id, sync_manager_id,"
                                 " signing_public_key, revoked, enrolled_at)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                 e);
    if (!st)
        return OP_EDB;
    const char *texts[] = {d->id, d->label, d->org_id, d->sync_manager_id, hex};
    db_bind_texts(st, 1, texts, 5);
    db_bind_int(st, 6, d->revoked ? 1 : 0);
    db_bind_text(st, 7, d->enrolled_at);
    int rc = db_step_done(db, st, "enrolling device", e);
    if (rc == OP_ECONFLICT)
        return err_set(e, OP_ECONFLICT, "device %s or its key is already enrolled", d->id);
    return rc;
}

int devices_get(struct db *db, const char *id, struct device *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_stmt(db,
                                 "SELECT id, label, org_id, sync_manager_id, signing_public_key,"
                                 " revoked, enrolled_at, last_sync_at, software_version,"
                                 " pending_results, clock_offset_seconds"
                                 " FROM devices WHERE id = ?1",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    if (rc != DB_ROW) {
        db_stmt_done(db, st);
        if (rc == DB_DONE)
            return err_set(e, OP_ENOTFOUND, "unknown device %s (not enrolled with this central)",
                           id);
        return db_fail(db, e, "devices");
    }
    db_column_copy(st, 0, out->id, sizeof out->id);
    out->label = db_column_strdup(st, 1);
    out->org_id = db_column_strdup(st, 2);
    out->sync_manager_id = db_column_strdup(st, 3);
    const char *hex = db_column_text(st, 4);
    size_t got = 0;
    int bad = !hex ||
              sodium_hex2bin(out->signing_public_key, KEY_PUBLIC_BYTES, hex, strlen(hex), NULL,
                             &got, NULL) != 0 ||
              got != KEY_PUBLIC_BYTES;
    out->revoked = db_column_int(st, 5);
    db_column_copy(st, 6, out->enrolled_at, sizeof out->enrolled_at);
    db_column_copy(st, 7, out->last_sync_at, sizeof out->last_sync_at);
    out->has_report = !db_column_is_null(st, 9);
    out->software_version = db_column_strdup(st, 8);
    out->pending_results = db_column_int64(st, 9);
    out->clock_offset_seconds = db_column_int64(st, 10);
    db_stmt_done(db, st);
    if (bad) {
        device_clear(out);
        return err_set(e, OP_EDB, "device %s: damaged public key in the database", id);
    }
    return 0;
}

int devices_reenrol(struct db *db, struct device *d, struct op_err *e)
{
    timestamp_now(d->enrolled_at);
    char hex[KEY_PUBLIC_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, d->signing_public_key, KEY_PUBLIC_BYTES);
    struct db_stmt *st = db_stmt(db,
                                 "UPDATE devices SET label = ?2, org_id = ?3, sync_manager_id = ?4,"
                                 " signing_public_key = ?5, revoked = 0, enrolled_at = ?6"
                                 " WHERE id = ?1 AND revoked <> 0",
                                 e);
    if (!st)
        return OP_EDB;
    const char *texts[] = {d->id, d->label, d->org_id, d->sync_manager_id, hex, d->enrolled_at};
    db_bind_texts(st, 1, texts, 6);
    int rc = db_step_done(db, st, "enrolling device again", e);
    if (rc == OP_ECONFLICT)
        return err_set(e, OP_ECONFLICT, "the signing key of device %s is another device's", d->id);
    if (rc == 0 && db_changes(db) == 0)
        return err_set(e, OP_ENOTFOUND, "no revoked device %s", d->id);
    return rc;
}

static int update_one(struct db *db, const char *sql, const char *id, int value, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    db_bind_int(st, 2, value);
    int rc = db_step_done(db, st, "updating device", e);
    if (rc != 0)
        return rc;
    if (db_changes(db) == 0)
        return err_set(e, OP_ENOTFOUND, "unknown device %s", id);
    return 0;
}

int devices_set_revoked(struct db *db, const char *id, int revoked, struct op_err *e)
{
    return update_one(db, "UPDATE devices SET revoked = ?2 WHERE id = ?1", id, revoked ? 1 : 0, e);
}

int devices_touch_sync(struct db *db, const char *id, struct op_err *e)
{
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    int rc = db_run(db, "UPDATE devices SET last_sync_at = ?2 WHERE id = ?1", id, now,
                    "updating device", e);
    if (rc == 0 && db_changes(db) == 0)
        return err_set(e, OP_ENOTFOUND, "unknown device %s", id);
    return rc;
}

int devices_report_sync(struct db *db, const char *id, const char *software_version,
                        int64_t pending_results, int64_t clock_offset_seconds, const char *now,
                        struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "UPDATE devices SET software_version = ?2, pending_results = ?3,"
                                 " clock_offset_seconds = ?4, last_sync_at = ?5 WHERE id = ?1",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, software_version);
    db_bind_int64(st, 3, pending_results);
    db_bind_int64(st, 4, clock_offset_seconds);
    db_bind_text(st, 5, now);
    int rc = db_step_done(db, st, "recording a device's sync report", e);
    if (rc == 0 && db_changes(db) == 0)
        return err_set(e, OP_ENOTFOUND, "unknown device %s", id);
    return rc;
}

/* ---- The backoffice's list of devices ---- */

void device_overview_clear(void *row)
{
    struct device_overview *d = row;
    free(d->label);
    free(d->org_id);
    free(d->sync_manager_login);
    free(d->software_version);
    memset(d, 0, sizeof *d);
}

/* Columns: label, id (the sort key), org, sync manager login, enrolled, last sync, revoked,
 * software version, pending results, clock offset, the newest run's status. */
static void read_overview(struct db_stmt *st, void *row)
{
    struct device_overview *d = row;
    d->label = db_column_strdup(st, 0);
    db_column_copy(st, 1, d->id, sizeof d->id);
    d->org_id = db_column_strdup(st, 2);
    d->sync_manager_login = db_column_strdup(st, 3);
    db_column_copy(st, 4, d->enrolled_at, sizeof d->enrolled_at);
    db_column_copy(st, 5, d->last_sync_at, sizeof d->last_sync_at);
    d->revoked = db_column_int(st, 6) != 0;
    d->software_version = db_column_strdup(st, 7);
    d->has_report = !db_column_is_null(st, 8);
    d->pending_results = db_column_int64(st, 8);
    d->clock_offset_seconds = db_column_int64(st, 9);
    db_column_copy(st, 10, d->last_run_status, sizeof d->last_run_status);
}

#define OVERVIEW_COLS                                                                              \
    "SELECT d.label, d.id, d.org_id, u.login, d.enrolled_at, d.last_sync_at, d.revoked,"           \
    " d.software_version, d.pending_results, d.clock_offset_seconds,"                              \
    " (SELECT r.status FROM sync_runs r WHERE r.device_id = d.id"                                  \
    "  ORDER BY r.started_at DESC, r.id DESC LIMIT 1)"                                             \
    " FROM devices d LEFT JOIN users u ON u.id = d.sync_manager_id"

/* The organisations of the test centers in the scope of administrator ?1 (the CTE `scope` of
 * TESTCENTERS_ADMIN_SCOPE_CTE: the centers they administer and every sub-center). */
#define ADMIN_ORGS "SELECT c.org_id FROM test_centers c WHERE c.id IN (SELECT id FROM scope)"

static const struct db_list device_overview_list = {
    .sql = TESTCENTERS_ADMIN_SCOPE_CTE
    " " OVERVIEW_COLS " WHERE (?1 IS NULL OR d.org_id IN (" ADMIN_ORGS "))"
    " AND (?2 IS NULL OR d.org_id = ?2)"
    " AND (d.label, d.id) > (?3, ?4) ORDER BY d.label, d.id LIMIT ?5",
    .nkey = 2,
    .key_col = {0, 1},
    .row_size = sizeof(struct device_overview),
    .read = read_overview,
    .clear = device_overview_clear,
    .what = "listing devices",
};

int devices_overview_page(struct db *db, const char *admin_id, const char *org_id,
                          const struct db_key *after, int limit, struct db_page *out,
                          struct op_err *e)
{
    return db_page_read(db, &device_overview_list, admin_id, org_id, after, limit, out, e);
}

void devices_listing_cursor(struct db_cursor *c)
{
    db_cursor_open(c, &device_overview_list, NULL, NULL, DEVICES_CURSOR_PAGE);
}

int devices_overview_get(struct db *db, const char *id, struct device_overview *out,
                         struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = db_get_row(db, OVERVIEW_COLS " WHERE d.id = ?1", id, read_overview, out,
                        "reading a device", e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "unknown device %s (not enrolled with this central)", id);
    return rc;
}

int devices_in_admin_scope(struct db *db, const char *id, const char *admin_id, struct op_err *e)
{
    struct db_stmt *st =
        db_stmt(db,
                TESTCENTERS_ADMIN_SCOPE_CTE
                " SELECT 1 FROM devices d WHERE d.id = ?2 AND d.org_id IN (" ADMIN_ORGS ")",
                e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, admin_id);
    db_bind_text(st, 2, id);
    int rc = db_step(st);
    if (rc == DB_ERROR) {
        rc = db_fail(db, e, "reading a device's organisation");
        db_stmt_done(db, st);
        return rc;
    }
    db_stmt_done(db, st);
    return rc == DB_ROW;
}
