/* oauth.c - SQL for the OAuth2 clients and tokens, and the device listing (see oauth.h). */
#include "store/oauth.h"

#include <stdlib.h>
#include <string.h>

int oauth_clients_insert(struct db *db, const struct oauth_client *c, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO oauth_clients (client_id, secret_hash, device_id,"
                                 " user_id, org_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                 e);
    if (!st)
        return OP_EDB;
    const char *v[] = {c->client_id, c->secret_hash, c->device_id,
                       c->user_id,   c->org_id,      c->created_at};
    db_bind_texts(st, 1, v, 6);
    return db_step_done(db, st, "storing an OAuth2 client", e);
}

#define CLIENT_COLS                                                                                \
    "c.client_id, c.secret_hash, c.device_id, c.user_id, c.org_id, c.created_at,"                  \
    " CASE WHEN c.revoked_at IS NULL THEN 0 ELSE 1 END, d.revoked"

static void read_client(struct db_stmt *st, struct oauth_client *c)
{
    memset(c, 0, sizeof *c);
    db_column_copy(st, 0, c->client_id, sizeof c->client_id);
    db_column_copy(st, 1, c->secret_hash, sizeof c->secret_hash);
    db_column_copy(st, 2, c->device_id, sizeof c->device_id);
    db_column_copy(st, 3, c->user_id, sizeof c->user_id);
    db_column_copy(st, 4, c->org_id, sizeof c->org_id);
    db_column_copy(st, 5, c->created_at, sizeof c->created_at);
    c->revoked = db_column_int(st, 6) != 0;
    c->device_revoked = db_column_int(st, 7) != 0;
}

static void read_client_row(struct db_stmt *st, void *out)
{
    read_client(st, out);
}

int oauth_clients_get(struct db *db, const char *client_id, struct oauth_client *out,
                      struct op_err *e)
{
    memset(out, 0, sizeof *out);
    return db_get_row(db,
                      "SELECT " CLIENT_COLS " FROM oauth_clients c JOIN devices d"
                      " ON d.id = c.device_id WHERE c.client_id = ?1",
                      client_id, read_client_row, out, "reading an OAuth2 client", e);
}

int oauth_revoke_device(struct db *db, const char *device_id, const char *now, int64_t *n,
                        struct op_err *e)
{
    if (n)
        *n = 0;
    int rc = db_run(db,
                    "UPDATE oauth_tokens SET revoked = 1 WHERE revoked = 0 AND client_id IN"
                    " (SELECT client_id FROM oauth_clients WHERE device_id = ?1)",
                    device_id, NULL, "revoking the device's tokens", e);
    if (rc != 0)
        return rc;
    rc = db_run(db,
                "UPDATE oauth_clients SET revoked_at = ?2 WHERE device_id = ?1"
                " AND revoked_at IS NULL",
                device_id, now, "revoking the device's OAuth2 clients", e);
    if (rc == 0 && n)
        *n = db_changes(db);
    return rc;
}

int oauth_tokens_insert(struct db *db, const char *token_hash, const char *client_id,
                        int64_t expires_at, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO oauth_tokens (token_hash, client_id, expires_at,"
                                 " revoked) VALUES (?1, ?2, ?3, 0)",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, token_hash);
    db_bind_text(st, 2, client_id);
    db_bind_int64(st, 3, expires_at);
    return db_step_done(db, st, "storing an access token", e);
}

static void read_token_row(struct db_stmt *st, void *out)
{
    struct oauth_token_row *r = out;
    read_client(st, &r->client);
    r->expires_at = db_column_int64(st, 8);
    r->revoked = db_column_int(st, 9) != 0;
}

int oauth_tokens_lookup(struct db *db, const char *token_hash, struct oauth_token_row *out,
                        struct op_err *e)
{
    memset(out, 0, sizeof *out);
    return db_get_row(db,
                      "SELECT " CLIENT_COLS ", t.expires_at, t.revoked FROM oauth_tokens t"
                      " JOIN oauth_clients c ON c.client_id = t.client_id"
                      " JOIN devices d ON d.id = c.device_id WHERE t.token_hash = ?1",
                      token_hash, read_token_row, out, "reading an access token", e);
}

int oauth_tokens_delete_expired(struct db *db, int64_t now, int64_t *n, struct op_err *e)
{
    if (n)
        *n = 0;
    struct db_stmt *st =
        db_stmt(db, "DELETE FROM oauth_tokens WHERE expires_at <= ?1 OR revoked <> 0", e);
    if (!st)
        return OP_EDB;
    db_bind_int64(st, 1, now);
    int rc = db_step_done(db, st, "deleting expired access tokens", e);
    if (rc == 0 && n)
        *n = db_changes(db);
    return rc;
}
