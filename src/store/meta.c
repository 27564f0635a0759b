/* meta.c - the meta table (see meta.h). */
#include "store/meta.h"

int meta_set(struct db *db, const char *key, const char *value, struct op_err *e)
{
    return db_run(db,
                  "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                  key, value, "recording an instance fact", e);
}

int meta_has(struct db *db, const char *key, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, "SELECT 1 FROM meta WHERE key = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, key);
    int rc = db_step(st);
    db_stmt_done(db, st);
    if (rc == DB_ROW)
        return 1;
    if (rc == DB_DONE)
        return 0;
    return db_fail(db, e, "reading an instance fact");
}

int meta_get(struct db *db, const char *key, char **value, struct op_err *e)
{
    *value = NULL;
    struct db_stmt *st = db_stmt(db, "SELECT value FROM meta WHERE key = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, key);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        *value = db_column_strdup(st, 0);
        db_stmt_done(db, st);
        return *value ? 0 : err_set(e, OP_ENOMEM, "out of memory");
    }
    db_stmt_done(db, st);
    if (rc == DB_DONE)
        return OP_ENOTFOUND;
    return db_fail(db, e, "reading an instance fact");
}

int meta_delete(struct db *db, const char *key, struct op_err *e)
{
    return db_run(db, "DELETE FROM meta WHERE key = ?1", key, NULL, "removing an instance fact", e);
}
