/* executions.c - SQL for a device's executions and their hash-chained audit log (see
 * executions.h). */
#include "store/executions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

static const char ZERO_HASH[SHA256_HEX_LEN] =
    "0000000000000000000000000000000000000000000000000000000000000000";

void execution_row_clear(struct execution_row *row)
{
    free(row->session);
    row->session = NULL;
}

#define EXEC_COLUMNS                                                                               \
    "id, delivery_id, delivery_version, test_taker_id, center_id, state, version,"                 \
    " item_position, item_count, time_limit, extra_time, consumed, active_since, paused_at,"       \
    " created_at, started_at, updated_at, ended_at, result_id, proctored"

/* 0 for NULL */
static int64_t col_time(struct db_stmt *st, int col)
{
    return db_column_is_null(st, col) ? 0 : db_column_int64(st, col);
}

static void bind_time(struct db_stmt *st, int idx, int64_t t)
{
    if (t)
        db_bind_int64(st, idx, t);
    else
        db_bind_null(st, idx);
}

/* Reads the columns of EXEC_COLUMNS (and, at column 20 when `with_session`, the session). */
static void read_row(struct db_stmt *st, struct execution_row *r, int with_session)
{
    memset(r, 0, sizeof *r);
    db_column_copy(st, 0, r->id, sizeof r->id);
    db_column_copy(st, 1, r->delivery_id, sizeof r->delivery_id);
    r->delivery_version = db_column_int64(st, 2);
    db_column_copy(st, 3, r->test_taker_id, sizeof r->test_taker_id);
    db_column_copy(st, 4, r->center_id, sizeof r->center_id);
    db_column_copy(st, 5, r->state, sizeof r->state);
    r->version = db_column_int64(st, 6);
    r->position = db_column_int64(st, 7);
    r->item_count = db_column_int64(st, 8);
    r->time_limit = db_column_int64(st, 9);
    r->extra_time = db_column_int64(st, 10);
    r->consumed = db_column_int64(st, 11);
    r->active_since = col_time(st, 12);
    r->paused_at = col_time(st, 13);
    r->created_at = db_column_int64(st, 14);
    r->started_at = col_time(st, 15);
    r->updated_at = db_column_int64(st, 16);
    r->ended_at = col_time(st, 17);
    if (!db_column_is_null(st, 18))
        db_column_copy(st, 18, r->result_id, sizeof r->result_id);
    r->proctored = db_column_int(st, 19);
    if (with_session && !db_column_is_null(st, 20))
        r->session = db_column_strdup(st, 20);
}

int executions_insert(struct db *db, struct execution_row *r, struct op_err *e)
{
    r->version = 1;
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO executions (" EXEC_COLUMNS ", session) VALUES"
                                 " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                                 " ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, r->id);
    db_bind_text(st, 2, r->delivery_id);
    db_bind_int64(st, 3, r->delivery_version);
    db_bind_text(st, 4, r->test_taker_id);
    db_bind_text(st, 5, r->center_id);
    db_bind_text(st, 6, r->state);
    db_bind_int64(st, 7, r->version);
    db_bind_int64(st, 8, r->position);
    db_bind_int64(st, 9, r->item_count);
    db_bind_int64(st, 10, r->time_limit);
    db_bind_int64(st, 11, r->extra_time);
    db_bind_int64(st, 12, r->consumed);
    bind_time(st, 13, r->active_since);
    bind_time(st, 14, r->paused_at);
    db_bind_int64(st, 15, r->created_at);
    bind_time(st, 16, r->started_at);
    db_bind_int64(st, 17, r->updated_at);
    bind_time(st, 18, r->ended_at);
    if (r->result_id[0])
        db_bind_text(st, 19, r->result_id);
    else
        db_bind_null(st, 19);
    db_bind_int(st, 20, r->proctored ? 1 : 0);
    if (r->session)
        db_bind_text(st, 21, r->session);
    else
        db_bind_null(st, 21);
    return db_step_done(db, st, "recording an execution", e);
}

int executions_get(struct db *db, const char *id, struct execution_row *row, struct op_err *e)
{
    memset(row, 0, sizeof *row);
    struct db_stmt *st =
        db_stmt(db, "SELECT " EXEC_COLUMNS ", session FROM executions WHERE id = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_ROW)
        read_row(st, row, 1);
    db_stmt_done(db, st);
    if (rc == DB_ROW)
        return 0;
    if (rc == DB_DONE)
        return OP_ENOTFOUND;
    return db_fail(db, e, "reading an execution");
}

int executions_update(struct db *db, struct execution_row *r, int64_t expected, int with_session,
                      struct op_err *e)
{
    struct db_stmt *st = db_stmt(
        db,
        with_session ? "UPDATE executions SET state = ?3, version = ?2 + 1, item_position = ?4,"
                       " item_count = ?5, time_limit = ?6, extra_time = ?7, consumed = ?8,"
                       " active_since = ?9, paused_at = ?10, started_at = ?11, updated_at = ?12,"
                       " ended_at = ?13, result_id = ?14, session = ?15"
                       " WHERE id = ?1 AND version = ?2"
                     : "UPDATE executions SET state = ?3, version = ?2 + 1, item_position = ?4,"
                       " item_count = ?5, time_limit = ?6, extra_time = ?7, consumed = ?8,"
                       " active_since = ?9, paused_at = ?10, started_at = ?11, updated_at = ?12,"
                       " ended_at = ?13, result_id = ?14 WHERE id = ?1 AND version = ?2",
        e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, r->id);
    db_bind_int64(st, 2, expected);
    db_bind_text(st, 3, r->state);
    db_bind_int64(st, 4, r->position);
    db_bind_int64(st, 5, r->item_count);
    db_bind_int64(st, 6, r->time_limit);
    db_bind_int64(st, 7, r->extra_time);
    db_bind_int64(st, 8, r->consumed);
    bind_time(st, 9, r->active_since);
    bind_time(st, 10, r->paused_at);
    bind_time(st, 11, r->started_at);
    db_bind_int64(st, 12, r->updated_at);
    bind_time(st, 13, r->ended_at);
    if (r->result_id[0])
        db_bind_text(st, 14, r->result_id);
    else
        db_bind_null(st, 14);
    if (with_session) {
        if (r->session)
            db_bind_text(st, 15, r->session);
        else
            db_bind_null(st, 15);
    }
    int rc = db_step_done(db, st, "updating an execution", e);
    if (rc != 0)
        return rc;
    if (db_changes(db) != 1)
        return err_set(e, OP_ECONFLICT,
                       "execution %s changed meanwhile (it is no longer at version %" PRId64
                       "): read it again and retry",
                       r->id, expected);
    r->version = expected + 1;
    return 0;
}

int executions_count(struct db *db, const char *taker, const char *delivery, int64_t *n,
                     struct op_err *e)
{
    *n = 0;
    struct db_stmt *st = db_stmt(db,
                                 "SELECT count(*) FROM executions WHERE test_taker_id = ?1"
                                 " AND delivery_id = ?2 AND state <> 'canceled'",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, taker);
    db_bind_text(st, 2, delivery);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *n = db_column_int64(st, 0);
    db_stmt_done(db, st);
    return rc == DB_ROW ? 0 : db_fail(db, e, "counting executions");
}

int executions_list(struct db *db, const char *taker, const char *center, int max,
                    struct execution_row **rows, int *n, struct op_err *e)
{
    *rows = NULL;
    *n = 0;
    if (max <= 0)
        return 0;
    struct db_stmt *st =
        db_stmt(db,
                taker ? "SELECT " EXEC_COLUMNS " FROM executions WHERE test_taker_id = ?1"
                        " ORDER BY created_at DESC, id DESC LIMIT ?2"
                      : "SELECT " EXEC_COLUMNS " FROM executions WHERE center_id = ?1"
                        " ORDER BY created_at DESC, id DESC LIMIT ?2",
                e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, taker ? taker : center);
    db_bind_int(st, 2, max);
    struct execution_row *v = calloc((size_t)max, sizeof *v);
    if (!v)
        abort();
    int rc, got = 0;
    while (got < max && (rc = db_step(st)) == DB_ROW)
        read_row(st, &v[got++], 0);
    if (got == max)
        rc = DB_DONE;
    db_stmt_done(db, st);
    if (rc != DB_DONE) {
        free(v);
        return db_fail(db, e, "listing executions");
    }
    *rows = v;
    *n = got;
    return 0;
}

/* ---- the audit log ---- */

static int put_field(struct buf *b, const char *name, const char *value)
{
    return buf_printf(b, "%s=%zu:%s\n", name, strlen(value), value);
}

static int put_int(struct buf *b, const char *name, int64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, v);
    return put_field(b, name, s);
}

int audit_canonical(const struct audit_entry *a, char **out, struct op_err *e)
{
    struct buf b = BUF_INIT;
    int bad = buf_puts(&b, "outpost execution audit v1\n");
    bad |= put_field(&b, "execution", a->execution_id);
    bad |= put_int(&b, "seq", a->seq);
    bad |= put_int(&b, "at", a->at);
    bad |= put_field(&b, "actor", a->actor_id);
    bad |= put_field(&b, "role", a->actor_role);
    bad |= put_field(&b, "action", a->action);
    bad |= put_field(&b, "from", a->from_state);
    bad |= put_field(&b, "to", a->to_state);
    bad |= put_field(&b, "detail", a->detail[0] ? a->detail : "{}");
    if (bad || !b.data) {
        buf_free(&b);
        return err_set(e, OP_ENOMEM, "out of memory hashing an audit entry");
    }
    *out = buf_detach(&b);
    return 0;
}

int audit_hash(const struct audit_entry *a, const char prev_hash[SHA256_HEX_LEN],
               char out[SHA256_HEX_LEN], struct op_err *e)
{
    char *text;
    int rc = audit_canonical(a, &text, e);
    if (rc != 0)
        return rc;
    size_t tl = strlen(text), pl = strlen(prev_hash);
    char *all = malloc(pl + tl + 1);
    if (!all) {
        free(text);
        return err_set(e, OP_ENOMEM, "out of memory hashing an audit entry");
    }
    memcpy(all, prev_hash, pl);
    memcpy(all + pl, text, tl + 1);
    sha256_hex(all, pl + tl, out);
    free(all);
    free(text);
    return 0;
}

int executions_audit_append(struct db *db, struct audit_entry *a, struct op_err *e)
{
    if (!a->detail[0])
        snprintf(a->detail, sizeof a->detail, "{}");
    struct db_stmt *st = db_stmt(db,
                                 "SELECT seq, hash FROM execution_audit WHERE execution_id = ?1"
                                 " ORDER BY seq DESC LIMIT 1",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, a->execution_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        a->seq = db_column_int64(st, 0) + 1;
        db_column_copy(st, 1, a->prev_hash, sizeof a->prev_hash);
    } else {
        a->seq = 1;
        memcpy(a->prev_hash, ZERO_HASH, sizeof a->prev_hash);
    }
    db_stmt_done(db, st);
    if (rc != DB_ROW && rc != DB_DONE)
        return db_fail(db, e, "reading an execution's audit log");
    if ((rc = audit_hash(a, a->prev_hash, a->hash, e)) != 0)
        return rc;
    st = db_stmt(db,
                 "INSERT INTO execution_audit (execution_id, seq, logged_at, actor_id, actor_role,"
                 " action, from_state, to_state, detail, prev_hash, hash)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, a->execution_id);
    db_bind_int64(st, 2, a->seq);
    db_bind_int64(st, 3, a->at);
    db_bind_text(st, 4, a->actor_id);
    db_bind_text(st, 5, a->actor_role);
    db_bind_text(st, 6, a->action);
    db_bind_text(st, 7, a->from_state);
    db_bind_text(st, 8, a->to_state);
    db_bind_text(st, 9, a->detail);
    db_bind_text(st, 10, a->prev_hash);
    db_bind_text(st, 11, a->hash);
    return db_step_done(db, st, "appending to an execution's audit log", e);
}

int executions_audit_list(struct db *db, const char *id, struct audit_entry **out, int *n,
                          struct op_err *e)
{
    *out = NULL;
    *n = 0;
    struct db_stmt *st = db_stmt(db,
                                 "SELECT execution_id, seq, logged_at, actor_id, actor_role,"
                                 " action, from_state, to_state, detail, prev_hash, hash"
                                 " FROM execution_audit WHERE execution_id = ?1 ORDER BY seq",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    struct audit_entry *v = NULL;
    int rc, got = 0, cap = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        if (got == cap) {
            cap = cap ? cap * 2 : 8;
            struct audit_entry *nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv)
                abort();
            v = nv;
        }
        struct audit_entry *a = &v[got++];
        memset(a, 0, sizeof *a);
        db_column_copy(st, 0, a->execution_id, sizeof a->execution_id);
        a->seq = db_column_int64(st, 1);
        a->at = db_column_int64(st, 2);
        db_column_copy(st, 3, a->actor_id, sizeof a->actor_id);
        db_column_copy(st, 4, a->actor_role, sizeof a->actor_role);
        db_column_copy(st, 5, a->action, sizeof a->action);
        db_column_copy(st, 6, a->from_state, sizeof a->from_state);
        db_column_copy(st, 7, a->to_state, sizeof a->to_state);
        db_column_copy(st, 8, a->detail, sizeof a->detail);
        db_column_copy(st, 9, a->prev_hash, sizeof a->prev_hash);
        db_column_copy(st, 10, a->hash, sizeof a->hash);
    }
    db_stmt_done(db, st);
    if (rc != DB_DONE) {
        free(v);
        return db_fail(db, e, "reading an execution's audit log");
    }
    *out = v;
    *n = got;
    return 0;
}

int executions_audit_check(const struct audit_entry *v, int n, int64_t *bad, struct op_err *e)
{
    *bad = 0;
    const char *prev = ZERO_HASH;
    for (int i = 0; i < n; i++) {
        char h[SHA256_HEX_LEN];
        int rc = audit_hash(&v[i], prev, h, e);
        if (rc != 0)
            return rc;
        if (v[i].seq != i + 1 || strcmp(v[i].prev_hash, prev) != 0 || strcmp(v[i].hash, h) != 0) {
            *bad = v[i].seq > 0 ? v[i].seq : i + 1;
            return 0;
        }
        prev = v[i].hash;
    }
    return 0;
}
