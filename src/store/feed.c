/*
 * feed.c - maintains and reads the per-organisation change feed (see feed.h for the model).
 */
#include "store/feed.h"

#include <stddef.h>
#include <stdint.h>
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
    struct db_stmt *st = db_stmt(db, scope_sql(entity), e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
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
    if (rc != DB_DONE) {
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
    struct db_stmt *st = db_stmt(db,
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
    db_bind_int64(st, 4, seq);
    db_bind_int64(st, 5, version);
    db_bind_int(st, 6, deleted);
    int rc = db_step(st) == DB_DONE ? 0 : db_fail(db, e, "change feed: write");
    db_stmt_done(db, st);
    return rc;
}

/* Brings the feed rows of one record up to date now. */
static int refresh(struct db *db, const char *entity, const char *id, struct op_err *e)
{
    /* Current version; a record that no longer exists is out of every scope. */
    int64_t version = -1;
    struct db_stmt *st = db_stmt(db, version_sql(entity), e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int rc = db_step(st);
    if (rc == DB_ROW)
        version = db_column_int64(st, 0);
    else if (rc != DB_DONE)
        rc = db_fail(db, e, "change feed: version");
    db_stmt_done(db, st);
    if (rc != DB_ROW && rc != DB_DONE)
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
    while ((rc = db_step(st)) == DB_ROW) {
        char *org = db_column_strdup(st, 0);
        int64_t row_version = db_column_int64(st, 1);
        int row_deleted = db_column_int(st, 2);
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
    if (rc != DB_DONE)
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
    struct db_stmt *st = db_stmt(db,
                                 "SELECT seq, entity, entity_id, version, deleted FROM sync_feed"
                                 " WHERE org_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    db_bind_int64(st, 2, since);
    db_bind_int(st, 3, limit);
    int rc;
    while ((rc = db_step(st)) == DB_ROW && *n < limit) {
        struct feed_change *c = &out[(*n)++];
        c->seq = db_column_int64(st, 0);
        snprintf(c->entity, sizeof c->entity, "%s", db_column_text(st, 1));
        snprintf(c->entity_id, sizeof c->entity_id, "%s", db_column_text(st, 2));
        c->version = db_column_int64(st, 3);
        c->deleted = db_column_int(st, 4);
    }
    int result = rc == DB_DONE || rc == DB_ROW ? 0 : db_fail(db, e, "change feed: read");
    db_stmt_done(db, st);
    return result;
}

/* ---- the records the open transaction touched ----
 *
 * Kept in memory on the connection (db_set_tx_state), in the order they were first touched,
 * once each (a hash set finds a record again), and forgotten when the transaction ends or a
 * savepoint they were touched after is rolled back. */

struct touched {
    char **key; /* "entity\0id", in first-touch order */
    size_t n, cap;
    ptrdiff_t *slot; /* open addressing: an index into key, EMPTY or GONE */
    size_t nslot;    /* a power of two, more than twice n + ngone */
    size_t ngone;    /* GONE slots */
};

#define EMPTY ((ptrdiff_t)-1)
#define GONE  ((ptrdiff_t)-2)

static size_t key_len(const char *k)
{
    size_t a = strlen(k) + 1;
    return a + strlen(k + a) + 1;
}

static uint64_t key_hash(const char *k, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return h;
}

/* The slot holding `k`, or the first free one on its probe path (EMPTY or GONE). */
static size_t find_slot(const struct touched *t, const char *k, size_t len, int *found)
{
    size_t mask = t->nslot - 1, i = key_hash(k, len) & mask, free_at = SIZE_MAX;
    for (;; i = (i + 1) & mask) {
        ptrdiff_t v = t->slot[i];
        if (v == EMPTY) {
            *found = 0;
            return free_at != SIZE_MAX ? free_at : i;
        }
        if (v == GONE) {
            if (free_at == SIZE_MAX)
                free_at = i;
        } else if (key_len(t->key[v]) == len && memcmp(t->key[v], k, len) == 0) {
            *found = 1;
            return i;
        }
    }
}

/* Rebuilds the slots, dropping GONE ones, with room for twice the records. */
static void rehash(struct touched *t)
{
    size_t nslot = 64;
    while (nslot < 4 * (t->n + 1))
        nslot *= 2;
    free(t->slot);
    t->nslot = nslot;
    t->ngone = 0;
    t->slot = malloc(sizeof *t->slot * nslot);
    if (!t->slot)
        abort();
    for (size_t i = 0; i < nslot; i++)
        t->slot[i] = EMPTY;
    for (size_t j = 0; j < t->n; j++) {
        int found;
        size_t len = key_len(t->key[j]);
        t->slot[find_slot(t, t->key[j], len, &found)] = (ptrdiff_t)j;
    }
}

static void touched_add(struct touched *t, const char *entity, const char *id)
{
    size_t a = strlen(entity) + 1, b = strlen(id) + 1;
    char *k = malloc(a + b);
    if (!k)
        abort();
    memcpy(k, entity, a);
    memcpy(k + a, id, b);
    if (2 * (t->n + t->ngone + 1) > t->nslot)
        rehash(t);
    int found;
    size_t i = find_slot(t, k, a + b, &found);
    if (found) {
        free(k);
        return;
    }
    if (t->slot[i] == GONE)
        t->ngone--;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        char **grown = realloc(t->key, sizeof *grown * t->cap);
        if (!grown)
            abort();
        t->key = grown;
    }
    t->slot[i] = (ptrdiff_t)t->n;
    t->key[t->n++] = k;
}

static size_t touched_mark(void *state)
{
    return ((struct touched *)state)->n;
}

/* Forgets the records first touched after `mark` (a savepoint rolled back). */
static void touched_undo(void *state, size_t mark)
{
    struct touched *t = state;
    while (t->n > mark) {
        char *k = t->key[--t->n];
        int found;
        size_t i = find_slot(t, k, key_len(k), &found);
        if (found) {
            t->slot[i] = GONE;
            t->ngone++;
        }
        free(k);
    }
}

static void touched_end(void *state)
{
    struct touched *t = state;
    for (size_t j = 0; j < t->n; j++)
        free(t->key[j]);
    t->n = 0;
    for (size_t i = 0; i < t->nslot; i++)
        t->slot[i] = EMPTY;
    t->ngone = 0;
}

static void touched_release(void *state)
{
    struct touched *t = state;
    touched_end(t);
    free(t->key);
    free(t->slot);
    free(t);
}

/* Refreshes every record the transaction touched, once each, in the order first touched.
 * Runs just before COMMIT; the records are forgotten when the transaction ends. */
static int flush(struct db *db, void *state, struct op_err *e)
{
    struct touched *t = state;
    int result = 0;
    for (size_t i = 0; result == 0 && i < t->n; i++) {
        const char *entity = t->key[i];
        result = refresh(db, entity, entity + strlen(entity) + 1, e);
    }
    return result;
}

static const struct db_tx_hooks feed_hooks = {
    .precommit = flush,
    .mark = touched_mark,
    .undo = touched_undo,
    .end = touched_end,
    .release = touched_release,
};

int feed_touch(struct db *db, const char *entity, const char *id, struct op_err *e)
{
    if (!scope_sql(entity))
        return err_set(e, OP_EINPUT, "change feed: unknown entity \"%s\"", entity);
    if (!db_in_transaction(db))
        return refresh(db, entity, id, e); /* no transaction open: nothing to wait for */
    /* Inside a transaction, a record is refreshed once at commit however often it was
     * touched: an import that assigns the same proctor to 20,000 centers computes that
     * proctor's scope once, not 20,000 times. */
    struct touched *t = db_tx_state(db);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t)
            abort();
        db_set_tx_state(db, &feed_hooks, t);
    }
    touched_add(t, entity, id);
    return 0;
}
