/*
 * delivery_content.c - SQL for the delivery_content table (see delivery_content.h).
 */
#include "store/delivery_content.h"

#include <stdlib.h>
#include <string.h>

#define CONTENT_COLUMNS                                                                            \
    "delivery_id, version, package_sha256, enc_sha256, enc_size, wrapped_key, master_key_id,"      \
    " created_at"

/* Fills a struct delivery_content from a row of CONTENT_COLUMNS (a db_read_fn). */
static void read_row(struct db_stmt *st, void *row)
{
    struct delivery_content *c = row;
    memset(c, 0, sizeof *c);
    db_column_copy(st, 0, c->delivery_id, sizeof c->delivery_id);
    c->version = db_column_int64(st, 1);
    db_column_copy(st, 2, c->package_sha256, sizeof c->package_sha256);
    db_column_copy(st, 3, c->enc_sha256, sizeof c->enc_sha256);
    c->enc_size = db_column_int64(st, 4);
    size_t n = 0;
    const void *p = db_column_blob(st, 5, &n);
    if (p && n <= sizeof c->wrapped_key) {
        memcpy(c->wrapped_key, p, n);
        c->wrapped_len = n;
    } /* else wrapped_len 0: the unwrap refuses it */
    db_column_copy(st, 6, c->master_key_id, sizeof c->master_key_id);
    db_column_copy(st, 7, c->created_at, sizeof c->created_at);
}

int delivery_content_insert(struct db *db, struct delivery_content *c, struct op_err *e)
{
    if (!c->delivery_id[0] || c->version < 1)
        return err_set(e, OP_EINPUT, "delivery content needs a delivery id and a version >= 1");
    if (!sha256_hex_is_valid(c->package_sha256) || !sha256_hex_is_valid(c->enc_sha256))
        return err_set(e, OP_EINPUT, "delivery %s: a package hash is not 64 hex digits",
                       c->delivery_id);
    if (c->enc_size <= 0 || c->wrapped_len == 0 || c->wrapped_len > sizeof c->wrapped_key ||
        !c->master_key_id[0])
        return err_set(e, OP_EINPUT, "delivery %s: encrypted package without size or key",
                       c->delivery_id);
    timestamp_now(c->created_at);
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO delivery_content (" CONTENT_COLUMNS
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, c->delivery_id);
    db_bind_int64(st, 2, c->version);
    db_bind_text(st, 3, c->package_sha256);
    db_bind_text(st, 4, c->enc_sha256);
    db_bind_int64(st, 5, c->enc_size);
    db_bind_blob(st, 6, c->wrapped_key, c->wrapped_len);
    db_bind_text(st, 7, c->master_key_id);
    db_bind_text(st, 8, c->created_at);
    int rc = db_step_done(db, st, "recording the encrypted package", e);
    if (rc == OP_ECONFLICT)
        return err_set(e, OP_ECONFLICT,
                       "delivery %s already has an encrypted package at version %lld",
                       c->delivery_id, (long long)c->version);
    return rc;
}

int delivery_content_get(struct db *db, const char *delivery_id, int64_t version,
                         struct delivery_content *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_stmt(db,
                                 "SELECT " CONTENT_COLUMNS " FROM delivery_content"
                                 " WHERE delivery_id = ?1 AND version <= ?2"
                                 " ORDER BY version DESC LIMIT 1",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, delivery_id);
    db_bind_int64(st, 2, version ? version : INT64_MAX);
    int rc = db_step(st);
    if (rc == DB_ROW)
        read_row(st, out);
    db_stmt_done(db, st);
    if (rc == DB_DONE) {
        if (version)
            return err_set(e, OP_ENOTFOUND, "delivery %s has no encrypted package at version %lld",
                           delivery_id, (long long)version);
        return err_set(e, OP_ENOTFOUND, "delivery %s has no encrypted package", delivery_id);
    }
    if (rc != DB_ROW)
        return db_fail(db, e, "reading the encrypted package of a delivery");
    return 0;
}

int delivery_content_find_enc(struct db *db, const char *enc_sha256, struct delivery_content *out,
                              struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = db_get_row(db,
                        "SELECT " CONTENT_COLUMNS " FROM delivery_content WHERE enc_sha256 = ?1"
                        " ORDER BY delivery_id, version DESC LIMIT 1",
                        enc_sha256, read_row, out, "finding an encrypted package", e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no package with hash %s", enc_sha256);
    return rc;
}

int delivery_content_history(struct db *db, const char *delivery_id, delivery_content_fn fn,
                             void *ctx, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "SELECT " CONTENT_COLUMNS " FROM delivery_content"
                                 " WHERE delivery_id = ?1 ORDER BY version",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, delivery_id);
    /* read whole before calling fn, so that fn may use the database */
    struct delivery_content *rows = NULL;
    int n = 0, r, rc = 0;
    while ((r = db_step(st)) == DB_ROW) {
        struct delivery_content *more = realloc(rows, sizeof *rows * (size_t)(n + 1));
        if (!more) {
            rc = err_set(e, OP_ENOMEM, "out of memory reading a package history");
            break;
        }
        rows = more;
        read_row(st, &rows[n++]);
    }
    if (rc == 0 && r != DB_DONE)
        rc = db_fail(db, e, "reading the package history of a delivery");
    db_stmt_done(db, st);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = fn(&rows[i], ctx);
    free(rows);
    return rc;
}
