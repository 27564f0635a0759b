/* outbox.c - SQL for a device's outbox of result envelopes (see outbox.h). */
#include "store/outbox.h"

#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {"stored", "duplicate", "quarantined", "refused"};

const char *outbox_receipt_status_name(enum outbox_receipt_status s)
{
    return (unsigned)s < 4 ? status_names[s] : "?";
}

int outbox_receipt_status_of(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, status_names[i]) == 0)
            return i;
    return -1;
}

int outbox_add(struct db *db, const char *result_id, const unsigned char *envelope, size_t len,
               const char sha256[SHA256_HEX_LEN], struct op_err *e)
{
    struct db_stmt *st =
        db_stmt(db, "SELECT envelope_sha256 FROM result_outbox WHERE result_id = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, result_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        int same = strcmp(db_column_text(st, 0), sha256) == 0;
        db_stmt_done(db, st);
        if (same)
            return 0;
        return err_set(e, OP_ECONFLICT,
                       "result %s: another envelope is already in the outbox under this id; "
                       "the queued one is kept",
                       result_id);
    }
    db_stmt_done(db, st);
    if (rc != DB_DONE)
        return db_fail(db, e, "outbox");
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    st = db_stmt(db,
                 "INSERT INTO result_outbox (result_id, seq, envelope, envelope_sha256, bytes,"
                 " added_at) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM result_outbox),"
                 " ?2, ?3, ?4, ?5)",
                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, result_id);
    db_bind_blob(st, 2, envelope, len);
    db_bind_text(st, 3, sha256);
    db_bind_int64(st, 4, (int64_t)len);
    db_bind_text(st, 5, now);
    return db_step_done(db, st, "queuing a result in the outbox", e);
}

void outbox_items_free(struct outbox_item *items, int n)
{
    for (int i = 0; i < n; i++)
        free(items[i].envelope);
    free(items);
}

int outbox_pending(struct db *db, int max_count, size_t max_bytes, struct outbox_item **items,
                   int *n, struct op_err *e)
{
    *items = NULL;
    *n = 0;
    if (max_count <= 0)
        return 0;
    struct db_stmt *st = db_stmt(db,
                                 "SELECT result_id, envelope_sha256, bytes, envelope"
                                 " FROM result_outbox WHERE status = 'pending'"
                                 " ORDER BY seq LIMIT ?1",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_int(st, 1, max_count);
    struct outbox_item *v = calloc((size_t)max_count, sizeof *v);
    if (!v)
        abort();
    size_t total = 0;
    int rc, got = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        size_t bytes = (size_t)db_column_int64(st, 2);
        if (got > 0 && (bytes > max_bytes || total + bytes > max_bytes))
            break;
        struct outbox_item *it = &v[got];
        db_column_copy(st, 0, it->result_id, sizeof it->result_id);
        db_column_copy(st, 1, it->sha256, sizeof it->sha256);
        size_t len;
        const void *p = db_column_blob(st, 3, &len);
        it->envelope = malloc(len ? len : 1);
        if (!it->envelope)
            abort();
        if (len)
            memcpy(it->envelope, p, len);
        it->len = len;
        total += len;
        got++;
    }
    db_stmt_done(db, st);
    if (rc != DB_ROW && rc != DB_DONE) {
        outbox_items_free(v, got);
        return db_fail(db, e, "reading the outbox");
    }
    if (got == 0) {
        free(v);
        v = NULL;
    }
    *items = v;
    *n = got;
    return 0;
}

int outbox_keep_receipts(struct db *db, const char *id, const char *receipts, struct op_err *e)
{
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO outbox_receipts (id, receipts, received_at)"
                                 " VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
                                 e);
    if (!st)
        return OP_EDB;
    const char *texts[] = {id, receipts, now};
    db_bind_texts(st, 1, texts, 3);
    return db_step_done(db, st, "keeping central's receipts", e);
}

int outbox_apply(struct db *db, const struct outbox_receipt *r, const char *receipts_id,
                 int *applied, struct op_err *e)
{
    *applied = 0;
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    struct db_stmt *st =
        db_stmt(db,
                "UPDATE result_outbox SET status = ?3, receipt_status = ?4, reason = ?5,"
                " receipt_id = ?6, answered_at = ?7"
                " WHERE result_id = ?1 AND envelope_sha256 = ?2 AND status = 'pending'",
                e);
    if (!st)
        return OP_EDB;
    const char *texts[] = {r->result_id,
                           r->sha256,
                           r->status == OUTBOX_REFUSED ? "refused" : "acknowledged",
                           outbox_receipt_status_name(r->status),
                           r->reason[0] ? r->reason : NULL,
                           receipts_id,
                           now};
    db_bind_texts(st, 1, texts, 7);
    int rc = db_step_done(db, st, "marking a result of the outbox", e);
    if (rc == 0)
        *applied = db_changes(db) > 0;
    return rc;
}

int outbox_count(struct db *db, struct outbox_counts *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct db_stmt *st =
        db_stmt(db, "SELECT status, count(*) FROM result_outbox GROUP BY status", e);
    if (!st)
        return OP_EDB;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *s = db_column_text(st, 0);
        int64_t n = db_column_int64(st, 1);
        if (strcmp(s, "pending") == 0)
            out->pending = n;
        else if (strcmp(s, "acknowledged") == 0)
            out->acknowledged = n;
        else
            out->refused = n;
    }
    db_stmt_done(db, st);
    return rc == DB_DONE ? 0 : db_fail(db, e, "counting the outbox");
}

int outbox_get_status(struct db *db, const char *result_id, char status[16], char **reason,
                      struct op_err *e)
{
    *reason = NULL;
    struct db_stmt *st =
        db_stmt(db, "SELECT status, reason FROM result_outbox WHERE result_id = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, result_id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        db_column_copy(st, 0, status, 16);
        *reason = db_column_strdup(st, 1);
    }
    db_stmt_done(db, st);
    if (rc == DB_DONE)
        return err_set(e, OP_ENOTFOUND, "result %s is not in the outbox", result_id);
    return rc == DB_ROW ? 0 : db_fail(db, e, "outbox");
}
