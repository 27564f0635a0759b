/*
 * feed.c - maintains and reads the per-organisation change feed (see feed.h for the model).
 */
#include "store/feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The organisations in whose scope a record is now, one row each. */
static const char *scope_sql(const char *entity)
{
    if (strcmp(entity, FEED_TEST_CENTER) == 0)
        return "SELECT org_id FROM test_centers WHERE id = ?1";
    if (strcmp(entity, FEED_ELIGIBILITY) == 0)
        return "SELECT tc.org_id FROM eligibilities e"
               " JOIN test_centers tc ON tc.id = e.center_id WHERE e.id = ?1";
    if (strcmp(entity, FEED_DELIVERY) == 0)
        return "SELECT DISTINCT tc.org_id FROM eligibilities e"
               " JOIN test_centers tc ON tc.id = e.center_id WHERE e.delivery_id = ?1";
    if (strcmp(entity, FEED_USER) == 0)
        return "SELECT tc.org_id FROM eligibility_test_takers t"
               " JOIN eligibilities e ON e.id = t.eligibility_id"
               " JOIN test_centers tc ON tc.id = e.center_id"
               " JOIN users u ON u.id = t.user_id AND u.role = 'test-taker'"
               " WHERE t.user_id = ?1"
               " UNION SELECT tc.org_id FROM test_center_staff s"
               " JOIN test_centers tc ON tc.id = s.center_id"
               " JOIN users u ON u.id = s.user_id"
               "  AND ((s.duty = 'proctor' AND u.role = 'proctor')"
               "    OR (s.duty = 'admin' AND u.role = 'test-center-admin'))"
               " WHERE s.user_id = ?1"
               " UNION SELECT org_id FROM users WHERE id = ?1 AND role = 'sync-manager'";
    return NULL;
}

static const char *version_sql(const char *entity)
{
    if (strcmp(entity, FEED_TEST_CENTER) == 0)
        return "SELECT version FROM test_centers WHERE id = ?1";
    if (strcmp(entity, FEED_ELIGIBILITY) == 0)
        return "SELECT version FROM eligibilities WHERE id = ?1";
    if (strcmp(entity, FEED_DELIVERY) == 0)
        return "SELECT version FROM deliveries WHERE id = ?1";
    if (strcmp(entity, FEED_USER) == 0)
        return "SELECT version FROM users WHERE id = ?1";
    return NULL;
}

struct org_list {
    char **v;
    int n;
};

static void org_list_free(struct org_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int org_list_has(const struct org_list *l, const char *org)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i], org) == 0)
            return 1;
    return 0;
}

static int current_scope(struct db *db, const char *entity, const char *id, struct org_list *out,
                         struct op_err *e)
{
    sqlite3_stmt *st = db_stmt(db, scope_sql(entity), e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char *org = db_column_strdup(st, 0);
        if (!org)
            continue;
        if (org_list_has(out, org)) {
            free(org);
            continue;
        }
        char **v = realloc(out->v, sizeof *v * (size_t)(out->n + 1));
        if (!v)
            abort();
        out->v = v;
        out->v[out->n++] = org;
    }
    int result = 0;
    if (rc != SQLITE_DONE) {
        org_list_free(out);
        result = db_fail(db, e, "change feed: scope");
    }
    db_stmt_done(db, st);
    return result;
}

static int upsert_row(struct db *db, const char *org, const char *entity, const char *id,
                      int64_t version, int deleted, struct op_err *e)
{
    int64_t seq;
    if (db_next_seq(db, &seq, e) != 0)
        return OP_EDB;
    sqlite3_stmt *st = db_stmt(db,
                               "INSERT INTO sync_feed (org_id, entity, entity_id, seq, version,"
                               " deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                               " ON CONFLICT (org_id, entity, entity_id) DO UPDATE SET"
                               " seq = excluded.seq, version = excluded.version,"
                               " deleted = excluded.deleted",
                               e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    db_bind_text(st, 2, entity);
    db_bind_text(st, 3, id);
    sqlite3_bind_int64(st, 4, seq);
    sqlite3_bind_int64(st, 5, version);
    sqlite3_bind_int(st, 6, deleted);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, e, "change feed: write");
    db_stmt_done(db, st);
    return rc;
}

/* Brings the feed rows of one record up to date now. */
static int refresh(struct db *db, const char *entity, const char *id, struct op_err *e)
{
    /* Current version; a record that no longer exists is out of every scope. */
    int64_t version = -1;
    sqlite3_stmt *st = db_stmt(db, version_sql(entity), e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        version = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        rc = db_fail(db, e, "change feed: version");
    db_stmt_done(db, st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;

    struct org_list scope = {0};
    if (version >= 0 && current_scope(db, entity, id, &scope, e) != 0)
        return OP_EDB;

    /* Existing rows: tombstone those out of scope, refresh those whose version changed. */
    struct org_list seen = {0};
    st = db_stmt(db,
                 "SELECT org_id, version, deleted FROM sync_feed"
                 " WHERE entity = ?1 AND entity_id = ?2",
                 e);
    if (!st) {
        org_list_free(&scope);
        return OP_EDB;
    }
    db_bind_text(st, 1, entity);
    db_bind_text(st, 2, id);
    struct pending {
        char *org;
        int64_t version;
        int deleted;
    } *todo = NULL;
    int ntodo = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char *org = db_column_strdup(st, 0);
        int64_t row_version = sqlite3_column_int64(st, 1);
        int row_deleted = sqlite3_column_int(st, 2);
        int in_scope = org_list_has(&scope, org);
        int want_deleted = !in_scope;
        int64_t want_version = in_scope ? version : row_version;
        char **v = realloc(seen.v, sizeof *v * (size_t)(seen.n + 1));
        if (!v)
            abort();
        seen.v = v;
        seen.v[seen.n++] = strdup(org);
        if (want_deleted != row_deleted || want_version != row_version) {
            struct pending *t = realloc(todo, sizeof *t * (size_t)(ntodo + 1));
            if (!t)
                abort();
            todo = t;
            todo[ntodo].org = org;
            todo[ntodo].version = want_version;
            todo[ntodo].deleted = want_deleted;
            ntodo++;
        } else {
            free(org);
        }
    }
    int result = 0;
    if (rc != SQLITE_DONE)
        result = db_fail(db, e, "change feed: read");
    db_stmt_done(db, st);
    for (int i = 0; i < ntodo; i++) {
        if (result == 0)
            result = upsert_row(db, todo[i].org, entity, id, todo[i].version, todo[i].deleted, e);
        free(todo[i].org);
    }
    free(todo);
    /* Organisations the record has newly entered. */
    for (int i = 0; result == 0 && i < scope.n; i++)
        if (!org_list_has(&seen, scope.v[i]))
            result = upsert_row(db, scope.v[i], entity, id, version, 0, e);
    org_list_free(&scope);
    org_list_free(&seen);
    return result;
}

int feed_read(struct db *db, const char *org, int64_t since, int limit, struct feed_change *out,
              int *n, struct op_err *e)
{
    *n = 0;
    sqlite3_stmt *st = db_stmt(db,
                               "SELECT seq, entity, entity_id, version, deleted FROM sync_feed"
                               " WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                               e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    sqlite3_bind_int64(st, 2, since);
    sqlite3_bind_int(st, 3, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < limit) {
        struct feed_change *c = &out[(*n)++];
        c->seq = sqlite3_column_int64(st, 0);
        snprintf(c->entity, sizeof c->entity, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(c->entity_id, sizeof c->entity_id, "%s", (const char *)sqlite3_column_text(st, 2));
        c->version = sqlite3_column_int64(st, 3);
        c->deleted = sqlite3_column_int(st, 4);
    }
    int result = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_fail(db, e, "change feed: read");
    db_stmt_done(db, st);
    return result;
}

/* Refreshes every record the transaction touched, once each, then forgets them. Runs just
 * before COMMIT (db_set_precommit). */
static int flush(struct db *db, struct op_err *e)
{
    sqlite3_stmt *st = db_stmt(db, "SELECT entity, entity_id FROM temp.feed_pending", e);
    if (!st)
        return OP_EDB;
    int rc, result = 0;
    while (result == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char entity[16];
        char *id = db_column_strdup(st, 1);
        snprintf(entity, sizeof entity, "%s", (const char *)sqlite3_column_text(st, 0));
        result = refresh(db, entity, id, e);
        free(id);
    }
    if (result == 0 && rc != SQLITE_DONE)
        result = db_fail(db, e, "change feed: pending records");
    db_stmt_done(db, st);
    if (result == 0) {
        st = db_stmt(db, "DELETE FROM temp.feed_pending", e);
        if (!st)
            return OP_EDB;
        if (sqlite3_step(st) != SQLITE_DONE)
            result = db_fail(db, e, "change feed: pending records");
        db_stmt_done(db, st);
    }
    return result;
}

int feed_touch(struct db *db, const char *entity, const char *id, struct op_err *e)
{
    if (!scope_sql(entity))
        return err_set(e, OP_EINPUT, "change feed: unknown entity \"%s\"", entity);
    if (sqlite3_get_autocommit(db_sqlite(db)))
        return refresh(db, entity, id, e); /* no transaction open: nothing to wait for */
    /* Inside a transaction, a record is refreshed once at commit however often it was
     * touched: an import that assigns the same proctor to 20,000 centers computes that
     * proctor's scope once, not 20,000 times. */
    sqlite3_stmt *st = db_stmt(db,
                               "INSERT INTO temp.feed_pending (entity, entity_id) VALUES (?1, ?2)"
                               " ON CONFLICT DO NOTHING",
                               e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, entity);
    db_bind_text(st, 2, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, e, "change feed: pending records");
    db_stmt_done(db, st);
    if (rc == 0)
        db_set_precommit(db, flush);
    return rc;
}
