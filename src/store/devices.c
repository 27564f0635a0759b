/* devices.c - SQL for the devices table (see devices.h). */
#include "store/devices.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void device_clear(struct device *d)
{
    free(d->label);
    free(d->org_id);
    free(d->sync_manager_id);
    memset(d, 0, sizeof *d);
}

int devices_insert(struct db *db, struct device *d, struct op_err *e)
{
    timestamp_now(d->enrolled_at);
    char hex[KEY_PUBLIC_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, d->signing_public_key, KEY_PUBLIC_BYTES);
    sqlite3_stmt *st = db_stmt(db,
                               "INSERT INTO devices (id, label, org_id, sync_manager_id,"
                               " signing_public_key, revoked, enrolled_at)"
                               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                               e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, d->id);
    db_bind_text(st, 2, d->label);
    db_bind_text(st, 3, d->org_id);
    db_bind_text(st, 4, d->sync_manager_id);
    db_bind_text(st, 5, hex);
    sqlite3_bind_int(st, 6, d->revoked ? 1 : 0);
    db_bind_text(st, 7, d->enrolled_at);
    if (sqlite3_step(st) != SQLITE_DONE) {
        int rc = db_fail(db, e, "enrolling device");
        if (rc == OP_ECONFLICT)
            return err_set(e, OP_ECONFLICT, "device %s or its key is already enrolled", d->id);
        return rc;
    }
    return 0;
}

int devices_get(struct db *db, const char *id, struct device *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = db_stmt(db,
                               "SELECT id, label, org_id, sync_manager_id, signing_public_key,"
                               " revoked, enrolled_at, last_sync_at FROM devices WHERE id = ?1",
                               e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            return err_set(e, OP_ENOTFOUND, "unknown device %s (not enrolled with this central)",
                           id);
        return db_fail(db, e, "devices");
    }
    db_column_copy(st, 0, out->id, sizeof out->id);
    out->label = db_column_strdup(st, 1);
    out->org_id = db_column_strdup(st, 2);
    out->sync_manager_id = db_column_strdup(st, 3);
    const char *hex = (const char *)sqlite3_column_text(st, 4);
    size_t got = 0;
    int bad = !hex ||
              sodium_hex2bin(out->signing_public_key, KEY_PUBLIC_BYTES, hex, strlen(hex), NULL,
                             &got, NULL) != 0 ||
              got != KEY_PUBLIC_BYTES;
    out->revoked = sqlite3_column_int(st, 5);
    db_column_copy(st, 6, out->enrolled_at, sizeof out->enrolled_at);
    db_column_copy(st, 7, out->last_sync_at, sizeof out->last_sync_at);
    sqlite3_reset(st);
    if (bad) {
        device_clear(out);
        return err_set(e, OP_EDB, "device %s: damaged public key in the database", id);
    }
    return 0;
}

static int update_one(struct db *db, const char *sql, const char *id, int value, struct op_err *e)
{
    sqlite3_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    sqlite3_bind_int(st, 2, value);
    if (sqlite3_step(st) != SQLITE_DONE)
        return db_fail(db, e, "updating device");
    if (sqlite3_changes(db_sqlite(db)) == 0)
        return err_set(e, OP_ENOTFOUND, "unknown device %s", id);
    return 0;
}

int devices_set_revoked(struct db *db, const char *id, int revoked, struct op_err *e)
{
    return update_one(db, "UPDATE devices SET revoked = ?2 WHERE id = ?1", id, revoked ? 1 : 0, e);
}

int devices_touch_sync(struct db *db, const char *id, struct op_err *e)
{
    return update_one(db,
                      "UPDATE devices SET last_sync_at = op_now()"
                      " WHERE id = ?1 AND ?2 = ?2",
                      id, 0, e);
}
