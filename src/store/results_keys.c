/* results_keys.c - SQL for the results_keys table (see results_keys.h). */
#include "store/results_keys.h"

#include <sodium.h>

int results_keys_record(struct db *db, const struct results_key_info *k, struct op_err *e)
{
    char pub[KEY_PUBLIC_BYTES * 2 + 1];
    sodium_bin2hex(pub, sizeof pub, k->public_key, KEY_PUBLIC_BYTES);
    struct db_stmt *st =
        db_stmt(db,
                "INSERT INTO results_keys (id, serial, public_key, created_at)"
                " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET"
                " serial = coalesce(results_keys.serial, excluded.serial),"
                " public_key = coalesce(results_keys.public_key, excluded.public_key),"
                " created_at = coalesce(results_keys.created_at, excluded.created_at)",
                e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, k->id);
    db_bind_int(st, 2, k->serial);
    db_bind_text(st, 3, pub);
    db_bind_text(st, 4, k->created);
    int rc = db_step(st) == DB_DONE ? 0 : db_fail(db, e, "recording results key");
    db_stmt_done(db, st);
    return rc;
}

int results_keys_known(struct db *db, const char *id, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, "SELECT 1 FROM results_keys WHERE id = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    db_stmt_done(db, st);
    if (rc == DB_ROW)
        return 1;
    if (rc != DB_DONE)
        return db_fail(db, e, "results keys");
    return 0;
}
