/* apitokens.c - SQL for the backoffice API's bearer tokens (see apitokens.h). */
#include "store/apitokens.h"

#include <stdlib.h>
#include <string.h>

int apitokens_insert(struct db *db, const struct api_token *t, const char *token_hash,
                     struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO api_tokens (id, user_id, token_hash, label,"
                                 " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, t->id);
    db_bind_text(st, 2, t->user_id);
    db_bind_text(st, 3, token_hash);
    db_bind_text(st, 4, t->label[0] ? t->label : NULL);
    db_bind_text(st, 5, t->created_at);
    db_bind_int64(st, 6, t->expires_at);
    return db_step_done(db, st, "storing an API token", e);
}

#define TOKEN_COLS                                                                                 \
    "t.id, t.user_id, u.login, u.role, t.label, t.created_at, t.expires_at, t.revoked_at"

static void read_token(struct db_stmt *st, void *out)
{
    struct api_token *t = out;
    memset(t, 0, sizeof *t);
    db_column_copy(st, 0, t->id, sizeof t->id);
    db_column_copy(st, 1, t->user_id, sizeof t->user_id);
    db_column_copy(st, 2, t->login, sizeof t->login);
    db_column_copy(st, 3, t->role, sizeof t->role);
    db_column_copy(st, 4, t->label, sizeof t->label);
    db_column_copy(st, 5, t->created_at, sizeof t->created_at);
    t->expires_at = db_column_int64(st, 6);
    db_column_copy(st, 7, t->revoked_at, sizeof t->revoked_at);
}

int apitokens_lookup(struct db *db, const char *token_hash, struct api_token *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    return db_get_row(db,
                      "SELECT " TOKEN_COLS " FROM api_tokens t JOIN users u ON u.id = t.user_id"
                      " WHERE t.token_hash = ?1",
                      token_hash, read_token, out, "reading an API token", e);
}

int apitokens_get(struct db *db, const char *id, struct api_token *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    return db_get_row(db,
                      "SELECT " TOKEN_COLS " FROM api_tokens t JOIN users u ON u.id = t.user_id"
                      " WHERE t.id = ?1",
                      id, read_token, out, "reading an API token", e);
}

int apitokens_revoke(struct db *db, const char *id, const char *now, int *changed, struct op_err *e)
{
    *changed = 0;
    int rc =
        db_run(db, "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", id,
               now, "revoking an API token", e);
    if (rc == 0)
        *changed = db_changes(db) > 0;
    return rc;
}

int apitokens_each(struct db *db, const char *user_id, apitoken_fn fn, void *ctx, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "SELECT " TOKEN_COLS " FROM api_tokens t JOIN users u"
                                 " ON u.id = t.user_id WHERE ?1 IS NULL OR t.user_id = ?1"
                                 " ORDER BY t.created_at, t.id",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, user_id);
    struct api_token *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct api_token *grown = realloc(rows, cap * sizeof *rows);
            if (!grown) {
                db_stmt_done(db, st);
                free(rows);
                return err_set(e, OP_ENOMEM, "out of memory listing API tokens");
            }
            rows = grown;
        }
        read_token(st, &rows[n++]);
    }
    int result = rc == DB_DONE ? 0 : db_fail(db, e, "listing API tokens");
    db_stmt_done(db, st);
    for (size_t i = 0; result == 0 && i < n; i++)
        result = fn(&rows[i], ctx);
    free(rows);
    return result;
}
