/* results.c - SQL for the results table (see results.h). */
#include "store/results.h"

#include <stdlib.h>
#include <string.h>

int results_in_scope(struct db *db, const char *org_id, const struct result_new *res,
                     struct op_err *e)
{
    struct db_stmt *st =
        db_stmt(db,
                "SELECT EXISTS (SELECT 1 FROM results WHERE id = ?1"
                "  AND device_id = ?5)"
                " OR EXISTS (SELECT 1 FROM eligibility_test_takers t"
                "  JOIN eligibilities el ON el.id = t.eligibility_id"
                "  JOIN test_centers tc ON tc.id = el.center_id"
                "  WHERE t.user_id = ?2 AND el.delivery_id = ?3 AND tc.org_id = ?4)",
                e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, res->id);
    db_bind_text(st, 2, res->test_taker_id);
    db_bind_text(st, 3, res->delivery_id);
    db_bind_text(st, 4, org_id);
    db_bind_text(st, 5, res->device_id);
    int rc = db_step(st);
    int in = rc == DB_ROW ? db_column_int(st, 0) : 0;
    db_stmt_done(db, st);
    if (rc != DB_ROW)
        return db_fail(db, e, "results: checking the scope of a result");
    return in ? 1 : 0;
}

int results_was_in_scope(struct db *db, const char *org_id, const struct result_new *res,
                         struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "SELECT count(*) FROM sync_feed WHERE org_id = ?1"
                                 " AND ((entity = 'user' AND entity_id = ?2)"
                                 "  OR (entity = 'delivery' AND entity_id = ?3))",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org_id);
    db_bind_text(st, 2, res->test_taker_id);
    db_bind_text(st, 3, res->delivery_id);
    int rc = db_step(st);
    int64_t n = rc == DB_ROW ? db_column_int64(st, 0) : 0;
    db_stmt_done(db, st);
    if (rc != DB_ROW)
        return db_fail(db, e, "results: checking the past scope of a result");
    return n == 2 ? 1 : 0;
}

int results_set_review(struct db *db, const char *id, const char *review, const char *reason,
                       struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, "SELECT review FROM results WHERE id = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    char was[16] = "";
    if (rc == DB_ROW)
        db_column_copy(st, 0, was, sizeof was);
    db_stmt_done(db, st);
    if (rc == DB_DONE)
        return err_set(e, OP_ENOTFOUND, "no result %s (see outpost results list)", id);
    if (rc != DB_ROW)
        return db_fail(db, e, "results");
    if (strcmp(was, "quarantined") != 0) {
        if (was[0])
            return err_set(e, OP_ESTATE, "result %s is not held for review: it was %s already", id,
                           was);
        return err_set(e, OP_ESTATE,
                       "result %s is not held for review (see outpost results list --status "
                       "quarantined)",
                       id);
    }
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    st = db_stmt(db,
                 "UPDATE results SET review = ?2, review_reason = COALESCE(?3, review_reason),"
                 " reviewed_at = ?4 WHERE id = ?1 AND review = 'quarantined'",
                 e);
    if (!st)
        return OP_EDB;
    const char *texts[] = {id, review, reason, now};
    db_bind_texts(st, 1, texts, 4);
    return db_step_done(db, st, "recording the review of a result", e);
}

/* Keeps `res` in quarantine (idempotent: a copy held already stays as it is). */
static int quarantine(struct db *db, const struct result_new *res, const char *sha,
                      const char *reason, struct op_err *e)
{
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    struct db_stmt *st =
        db_stmt(db,
                "INSERT INTO results_quarantine (result_id, device_id,"
                " envelope_sha256, reason, delivery_id, test_taker_id, key_id,"
                " envelope, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                " ON CONFLICT (result_id, device_id, envelope_sha256) DO NOTHING",
                e);
    if (!st)
        return OP_EDB;
    const char *texts[] = {res->id,          res->device_id,     sha,        reason,
                           res->delivery_id, res->test_taker_id, res->key_id};
    db_bind_texts(st, 1, texts, 7);
    db_bind_blob(st, 8, res->envelope, res->envelope_len);
    db_bind_text(st, 9, now);
    return db_step_done(db, st, "holding a result in quarantine", e);
}

int results_insert(struct db *db, const struct result_new *res, enum results_outcome *outcome,
                   const char **why, char owner[UUID_STR_LEN], struct op_err *e)
{
    *outcome = RESULTS_STORED;
    const char *sha = res->envelope_sha256;
    struct db_stmt *st =
        db_stmt(db, "SELECT device_id, envelope_sha256 FROM results WHERE id = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, res->id);
    int rc = db_step(st);
    if (rc == DB_ROW) {
        char stored_device[UUID_STR_LEN];
        db_column_copy(st, 0, stored_device, sizeof stored_device);
        int same_device = strcmp(stored_device, res->device_id) == 0;
        int same = same_device && strcmp(db_column_text(st, 1), sha) == 0;
        db_stmt_done(db, st);
        if (same) {
            *outcome = RESULTS_DUPLICATE;
            return 0;
        }
        const char *reason = same_device ? RESULTS_OTHER_CONTENT : RESULTS_OTHER_DEVICE;
        if (why)
            *why = reason;
        if (owner)
            memcpy(owner, stored_device, UUID_STR_LEN);
        *outcome = RESULTS_QUARANTINED;
        return quarantine(db, res, sha, reason, e);
    }
    db_stmt_done(db, st);
    if (rc != DB_DONE)
        return db_fail(db, e, "results");
    char started[TIMESTAMP_STR_LEN], ended[TIMESTAMP_STR_LEN], sealed[TIMESTAMP_STR_LEN],
        now[TIMESTAMP_STR_LEN];
    /* envelope_parse keeps time stamps within the years 2000 to 9999; check anyway, as a
     * text that did not format must never be bound */
    if (timestamp_format((time_t)res->started_at, started) != 0 ||
        timestamp_format((time_t)res->ended_at, ended) != 0 ||
        timestamp_format((time_t)res->sealed_at, sealed) != 0)
        return err_set(e, OP_EINPUT, "result %s: a time stamp cannot be written as a date",
                       res->id);
    timestamp_now(now);
    st = db_stmt(db,
                 "INSERT INTO results (id, execution_id, delivery_id, test_taker_id, device_id,"
                 " key_id, state, started_at, ended_at, sealed_at, envelope, envelope_sha256,"
                 " status, received_at, review, review_reason, center_id) VALUES (?1, ?2, ?3,"
                 " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'pending', ?13,"
                 " CASE WHEN ?14 IS NULL THEN NULL ELSE 'quarantined' END, ?14,"
                 /* the center whose eligibility lets the device file it, until the decrypted
                  * result names its own (results_set_summary) */
                 " (SELECT el.center_id FROM eligibility_test_takers t"
                 "  JOIN eligibilities el ON el.id = t.eligibility_id"
                 "  JOIN test_centers tc ON tc.id = el.center_id"
                 "  JOIN devices d ON d.org_id = tc.org_id"
                 "  WHERE t.user_id = ?4 AND el.delivery_id = ?3 AND d.id = ?5"
                 "  ORDER BY el.center_id LIMIT 1))",
                 e);
    if (!st)
        return OP_EDB;
    const char *texts[] = {res->id,
                           res->execution_id,
                           res->delivery_id,
                           res->test_taker_id,
                           res->device_id,
                           res->key_id,
                           res->state,
                           started,
                           ended,
                           sealed};
    db_bind_texts(st, 1, texts, 10);
    db_bind_blob(st, 11, res->envelope, res->envelope_len);
    db_bind_text(st, 12, sha);
    db_bind_text(st, 13, now);
    db_bind_text(st, 14, res->quarantine_reason);
    return db_step_done(db, st, "storing result", e);
}

int results_pending_ids(struct db *db, const char *delivery_id, char ***ids, int *n,
                        struct op_err *e)
{
    *ids = NULL;
    *n = 0;
    struct db_stmt *st = db_stmt(db,
                                 "SELECT id FROM results WHERE status = 'pending'"
                                 " AND (?1 IS NULL OR delivery_id = ?1)"
                                 " ORDER BY received_at, id",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, delivery_id);
    return results_collect_ids(db, st, ids, n, "listing pending results", e);
}

int results_collect_ids(struct db *db, struct db_stmt *st, char ***ids, int *n, const char *what,
                        struct op_err *e)
{
    *ids = NULL;
    *n = 0;
    int rc, cap = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char **v = realloc(*ids, sizeof *v * (size_t)cap);
            if (!v)
                abort();
            *ids = v;
        }
        (*ids)[(*n)++] = db_column_strdup(st, 0);
    }
    db_stmt_done(db, st);
    if (rc != DB_DONE) {
        results_free_ids(*ids, *n);
        *ids = NULL;
        *n = 0;
        return db_fail(db, e, what);
    }
    return 0;
}

void results_free_ids(char **ids, int n)
{
    for (int i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

int results_get_envelope(struct db *db, const char *id, unsigned char **data, size_t *len,
                         struct op_err *e)
{
    *data = NULL;
    *len = 0;
    struct db_stmt *st = db_stmt(db, "SELECT envelope FROM results WHERE id = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    if (rc != DB_ROW) {
        db_stmt_done(db, st);
        return rc == DB_DONE ? err_set(e, OP_ENOTFOUND, "no result %s", id)
                             : db_fail(db, e, "results");
    }
    size_t n;
    const void *p = db_column_blob(st, 0, &n);
    *data = malloc(n > 0 ? n : 1);
    if (!*data)
        abort();
    if (n > 0)
        memcpy(*data, p, n);
    *len = n;
    db_stmt_done(db, st);
    return 0;
}

int results_get_json(struct db *db, const char *id, char **json, struct op_err *e)
{
    *json = NULL;
    struct db_stmt *st = db_stmt(db, "SELECT result_json FROM results WHERE id = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *json = db_column_strdup(st, 0);
    db_stmt_done(db, st);
    if (rc != DB_ROW && rc != DB_DONE)
        return db_fail(db, e, "results");
    if (!*json)
        return err_set(e, OP_ENOTFOUND, "result %s is unknown or not decrypted", id);
    return 0;
}

/* Runs `sql` with ?1 = id, ?2 = text and, when `dated`, ?3 = the time now. */
static int set_status(struct db *db, const char *sql, const char *id, const char *text, int dated,
                      struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, text);
    if (dated) {
        char now[TIMESTAMP_STR_LEN];
        timestamp_now(now);
        db_bind_text(st, 3, now);
    }
    int rc = db_step_done(db, st, "updating result", e);
    if (rc == 0 && db_changes(db) == 0)
        return err_set(e, OP_ENOTFOUND, "no result %s", id);
    return rc;
}

int results_set_decrypted(struct db *db, const char *id, const char *json, struct op_err *e)
{
    return set_status(db,
                      "UPDATE results SET status = 'decrypted', result_json = ?2, problem = NULL,"
                      " decrypted_at = ?3 WHERE id = ?1",
                      id, json, 1, e);
}

int results_set_damaged(struct db *db, const char *id, const char *problem, struct op_err *e)
{
    return set_status(db, "UPDATE results SET status = 'damaged', problem = ?2 WHERE id = ?1", id,
                      problem, 0, e);
}

int results_set_problem(struct db *db, const char *id, const char *problem, struct op_err *e)
{
    return set_status(db, "UPDATE results SET problem = ?2 WHERE id = ?1", id, problem, 0, e);
}

static void read_result(struct db_stmt *st, void *row)
{
    struct result_row *r = row;
    db_column_copy(st, 0, r->id, sizeof r->id);
    db_column_copy(st, 1, r->execution_id, sizeof r->execution_id);
    db_column_copy(st, 2, r->delivery_id, sizeof r->delivery_id);
    db_column_copy(st, 3, r->test_taker_id, sizeof r->test_taker_id);
    db_column_copy(st, 4, r->device_id, sizeof r->device_id);
    db_column_copy(st, 5, r->key_id, sizeof r->key_id);
    db_column_copy(st, 6, r->state, sizeof r->state);
    db_column_copy(st, 7, r->started_at, sizeof r->started_at);
    db_column_copy(st, 8, r->ended_at, sizeof r->ended_at);
    db_column_copy(st, 9, r->sealed_at, sizeof r->sealed_at);
    db_column_copy(st, 10, r->envelope_sha256, sizeof r->envelope_sha256);
    db_column_copy(st, 11, r->status, sizeof r->status);
    r->problem = db_column_strdup(st, 12);
    db_column_copy(st, 13, r->received_at, sizeof r->received_at);
    db_column_copy(st, 14, r->decrypted_at, sizeof r->decrypted_at);
    r->quarantined = db_column_int(st, 15);
    db_column_copy(st, 16, r->review, sizeof r->review);
    r->review_reason = db_column_strdup(st, 17);
    db_column_copy(st, 18, r->test_taker_login, sizeof r->test_taker_login);
    db_column_copy(st, 19, r->delivery_label, sizeof r->delivery_label);
}

static void clear_result(void *row)
{
    struct result_row *r = row;
    free(r->problem);
    free(r->review_reason);
}

/* The results of delivery ?1 with status ?2 (NULL for any) after (received ?3, id ?4). */
static const struct db_list results_by_received = {
    .sql = "SELECT id, execution_id, delivery_id, test_taker_id, device_id, key_id, state,"
           " started_at, ended_at, sealed_at, envelope_sha256, status, problem, received_at,"
           " decrypted_at, (SELECT count(*) FROM results_quarantine q"
           "  WHERE q.result_id = results.id), review, review_reason,"
           " (SELECT login FROM users u WHERE u.id = results.test_taker_id),"
           " (SELECT label FROM deliveries d WHERE d.id = results.delivery_id) FROM results"
           " WHERE (?1 IS NULL OR delivery_id = ?1)"
           " AND (?2 IS NULL OR status = ?2 OR review = ?2)"
           " AND (received_at, id) > (?3, ?4) ORDER BY received_at, id LIMIT ?5",
    .nkey = 2,
    .key_col = {13, 0},
    .row_size = sizeof(struct result_row),
    .read = read_result,
    .clear = clear_result,
    .what = "listing results",
};

int results_page(struct db *db, const char *delivery_id, const char *status,
                 const struct db_key *after, int limit, struct db_page *out, struct op_err *e)
{
    return db_page_read(db, &results_by_received, delivery_id, status, after, limit, out, e);
}

void results_cursor(struct db_cursor *c, const char *delivery_id, const char *status)
{
    db_cursor_open(c, &results_by_received, delivery_id, status, RESULTS_CURSOR_PAGE);
}

static void read_quarantined(struct db_stmt *st, void *row)
{
    struct quarantine_row *q = row;
    db_column_copy(st, 0, q->result_id, sizeof q->result_id);
    db_column_copy(st, 1, q->device_id, sizeof q->device_id);
    db_column_copy(st, 2, q->owner_device_id, sizeof q->owner_device_id);
    db_column_copy(st, 3, q->reason, sizeof q->reason);
    db_column_copy(st, 4, q->delivery_id, sizeof q->delivery_id);
    db_column_copy(st, 5, q->test_taker_id, sizeof q->test_taker_id);
    db_column_copy(st, 6, q->key_id, sizeof q->key_id);
    db_column_copy(st, 7, q->envelope_sha256, sizeof q->envelope_sha256);
    db_column_copy(st, 8, q->received_at, sizeof q->received_at);
}

/* The copies in quarantine after the key ?3..?6 (received, result id, device, SHA-256: the
 * table's unique key after the time). */
static const struct db_list quarantine_by_received = {
    .sql = "SELECT q.result_id, q.device_id, r.device_id, q.reason, q.delivery_id,"
           " q.test_taker_id, q.key_id, q.envelope_sha256, q.received_at"
           " FROM results_quarantine q LEFT JOIN results r ON r.id = q.result_id"
           " WHERE (q.received_at, q.result_id, q.device_id, q.envelope_sha256)"
           " > (?3, ?4, ?5, ?6)"
           " ORDER BY q.received_at, q.result_id, q.device_id, q.envelope_sha256 LIMIT ?7",
    .nkey = 4,
    .key_col = {8, 0, 1, 7},
    .row_size = sizeof(struct quarantine_row),
    .read = read_quarantined,
    .clear = NULL,
    .what = "listing the results held in quarantine",
};

int results_quarantine_page(struct db *db, const struct db_key *after, int limit,
                            struct db_page *out, struct op_err *e)
{
    return db_page_read(db, &quarantine_by_received, NULL, NULL, after, limit, out, e);
}

void results_quarantine_cursor(struct db_cursor *c)
{
    db_cursor_open(c, &quarantine_by_received, NULL, NULL, RESULTS_CURSOR_PAGE);
}
