/* results_view.c - SQL for the results tab and the exports (see results_view.h). */
#include "store/results_view.h"

#include <stdlib.h>
#include <string.h>

/* The columns of a row, then its filters ?1 .. ?8 (struct results_filter, in order). The
 * scope of an administrator (?8) is the centers they administer and every center below them. */
#define VIEW_COLUMNS                                                                               \
    "SELECT r.id, r.execution_id, r.delivery_id, r.test_taker_id, r.device_id, r.key_id,"          \
    " r.state, r.started_at, r.ended_at, r.sealed_at, r.envelope_sha256, r.status, r.problem,"     \
    " r.received_at, r.decrypted_at, (SELECT count(*) FROM results_quarantine q"                   \
    "  WHERE q.result_id = r.id), r.review, r.review_reason, u.login, u.label, r.center_id,"       \
    " c.label, d.label, r.outcomes_json FROM results r"                                            \
    " LEFT JOIN users u ON u.id = r.test_taker_id"                                                 \
    " LEFT JOIN test_centers c ON c.id = r.center_id"                                              \
    " LEFT JOIN devices d ON d.id = r.device_id"

#define ADMIN_SCOPE(p)                                                                             \
    "r.center_id IN (WITH RECURSIVE sc(id) AS (SELECT center_id FROM test_center_staff"            \
    " WHERE user_id = " p " AND duty = 'admin' UNION SELECT tc.id FROM test_centers tc"            \
    " JOIN sc ON tc.parent_id = sc.id) SELECT id FROM sc)"

#define VIEW_FILTERS                                                                               \
    " WHERE r.delivery_id = ?1"                                                                    \
    " AND (?2 IS NULL OR r.center_id = ?2)"                                                        \
    " AND (?3 IS NULL OR r.status = ?3 OR r.review = ?3)"                                          \
    " AND (?4 IS NULL OR r.state = ?4)"                                                            \
    " AND (?5 IS NULL OR r.started_at >= ?5)"                                                      \
    " AND (?6 IS NULL OR r.started_at < ?6)"                                                       \
    " AND (?7 IS NULL OR r.test_taker_id IN (SELECT id FROM users"                                 \
    "  WHERE lower(login) LIKE ?7 ESCAPE '\\' OR lower(COALESCE(label, '')) LIKE ?7 ESCAPE '\\'))" \
    " AND (?8 IS NULL OR " ADMIN_SCOPE("?8") ")"

static void bind_filter(struct db_stmt *st, const struct results_filter *f)
{
    const char *v[] = {f->delivery_id, f->center_id, f->status, f->state,
                       f->from,        f->to,        f->search, f->admin_id};
    db_bind_texts(st, 1, v, 8);
}

static void read_row(struct db_stmt *st, struct results_view_row *v)
{
    struct result_row *r = &v->r;
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
    v->taker_login = db_column_strdup(st, 18);
    v->taker_label = db_column_strdup(st, 19);
    db_column_copy(st, 20, v->center_id, sizeof v->center_id);
    v->center_label = db_column_strdup(st, 21);
    v->device_label = db_column_strdup(st, 22);
    v->outcomes_json = db_column_strdup(st, 23);
}

void results_view_row_clear(struct results_view_row *v)
{
    free(v->r.problem);
    free(v->r.review_reason);
    free(v->taker_login);
    free(v->taker_label);
    free(v->center_label);
    free(v->device_label);
    free(v->outcomes_json);
    memset(v, 0, sizeof *v);
}

void results_view_page_clear(struct results_view_page *p)
{
    for (int i = 0; i < p->n; i++)
        results_view_row_clear(&p->rows[i]);
    free(p->rows);
    memset(p, 0, sizeof *p);
}

int results_view_read(struct db *db, const struct results_filter *f, const char *after_started,
                      const char *after_id, int limit, struct results_view_page *out,
                      struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (limit < 1 || limit > RESULTS_VIEW_PAGE_MAX)
        return err_set(e, OP_EINPUT, "a page holds 1 to %d results, not %d", RESULTS_VIEW_PAGE_MAX,
                       limit);
    struct db_stmt *st = db_stmt(db,
                                 VIEW_COLUMNS VIEW_FILTERS " AND (r.started_at, r.id) < (?9, ?10)"
                                                           " ORDER BY r.started_at DESC, r.id DESC"
                                                           " LIMIT ?11",
                                 e);
    if (!st)
        return OP_EDB;
    bind_filter(st, f);
    /* the first page: a key above every time stamp ("~" sorts after digits) */
    int first = !after_started || !*after_started;
    db_bind_text(st, 9, first ? "~" : after_started);
    db_bind_text(st, 10, first ? "" : (after_id ? after_id : ""));
    db_bind_int(st, 11, limit + 1);
    int rc, cap = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        if (out->n == limit) {
            out->more = 1;
            rc = DB_DONE;
            break;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 32;
            struct results_view_row *v = realloc(out->rows, sizeof *v * (size_t)cap);
            if (!v)
                abort();
            out->rows = v;
        }
        struct results_view_row *row = &out->rows[out->n++];
        memset(row, 0, sizeof *row);
        read_row(st, row);
    }
    int result = rc == DB_DONE ? 0 : db_fail(db, e, "listing the results of a delivery");
    db_stmt_done(db, st);
    if (result != 0) {
        results_view_page_clear(out);
        return result;
    }
    if (out->more) {
        const struct result_row *last = &out->rows[out->n - 1].r;
        memcpy(out->next_started, last->started_at, sizeof out->next_started);
        memcpy(out->next_id, last->id, sizeof out->next_id);
    }
    return 0;
}

int results_view_count(struct db *db, const struct results_filter *f, int64_t *n, struct op_err *e)
{
    *n = 0;
    struct db_stmt *st = db_stmt(db, "SELECT count(*) FROM results r" VIEW_FILTERS, e);
    if (!st)
        return OP_EDB;
    bind_filter(st, f);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *n = db_column_int64(st, 0);
    db_stmt_done(db, st);
    return rc == DB_ROW ? 0 : db_fail(db, e, "counting the results of a delivery");
}

int results_view_get(struct db *db, const char *id, const char *admin_id,
                     struct results_view_row *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct db_stmt *st =
        db_stmt(db, VIEW_COLUMNS " WHERE r.id = ?1 AND (?2 IS NULL OR " ADMIN_SCOPE("?2") ")", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, admin_id);
    int rc = db_step(st);
    if (rc == DB_ROW)
        read_row(st, out);
    db_stmt_done(db, st);
    if (rc == DB_DONE)
        return OP_ENOTFOUND;
    return rc == DB_ROW ? 0 : db_fail(db, e, "reading a result");
}

int results_set_summary(struct db *db, const char *id, const char *outcomes_json,
                        const char *center_id, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "UPDATE results SET outcomes_json = COALESCE(?2, '{}'),"
                                 " center_id = COALESCE((SELECT tc.id FROM test_centers tc"
                                 "  JOIN devices d ON d.org_id = tc.org_id"
                                 "  WHERE tc.id = ?3 AND d.id = results.device_id), center_id)"
                                 " WHERE id = ?1",
                                 e);
    if (!st)
        return OP_EDB;
    const char *v[] = {id, outcomes_json, center_id};
    db_bind_texts(st, 1, v, 3);
    return db_step_done(db, st, "recording the outcomes of a result", e);
}

int results_unsummarised_ids(struct db *db, int max, char ***ids, int *n, struct op_err *e)
{
    *ids = NULL;
    *n = 0;
    struct db_stmt *st = db_stmt(db,
                                 "SELECT id FROM results WHERE status = 'decrypted'"
                                 " AND outcomes_json IS NULL ORDER BY id LIMIT ?1",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_int(st, 1, max);
    return results_collect_ids(db, st, ids, n, "listing the results to summarise", e);
}
