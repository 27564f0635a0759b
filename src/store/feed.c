/*
 * feed.c - maintains and reads the per-organisation change feed (see feed.h for the model).
 */
#include "store/feed.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

/* ---- many records per statement (PostgreSQL) ----
 *
 * On a server (db_is_remote), one statement refreshes a chunk of records of one entity at once
 * (a run of records of the same entity in first-touch order, up to CHUNK_MAX): it computes
 * their versions and scopes, compares them with their feed rows, and writes what differs,
 * numbering the rows it writes in the change sequence inside SQL: one request per chunk, not
 * five per record (version, scope, rows, number, write), sent with the COMMIT, so no round
 * trip of its own.
 * CHUNK_MAX is small on purpose: with more ids, PostgreSQL prefers reading a table whole to
 * probing its index once per id (64 probes of a 10,000-row table cost it as much as a
 * scan), and a chunk then costs as much as the table; 16 probes stay under a scan.
 *
 * The chunk's ids come in as ?1 .. ?K, K one of chunk_sizes (unused places bound to NULL, which
 * joins nothing), each with its place in the chunk (`pos`), so rows are numbered in
 * first-touch order, and, within a record, by organisation.
 *
 * Change sequence: the next numbers are max(seq) of sync_feed + 1, + 2, ... (the index
 * sync_feed_seq finds the maximum). Rows are never deleted from sync_feed, so the maximum
 * never goes back, and the write lock every write transaction holds (db_begin) means no
 * other writer takes numbers until this one commits: numbers are unique and in commit
 * order, as feed.h promises. */

#define CHUNK_MAX 16
static const int chunk_sizes[] = {1, 4, CHUNK_MAX};
#define NCHUNK_SIZES ((int)(sizeof chunk_sizes / sizeof chunk_sizes[0]))

struct feed_kind {
    const char *entity;
    const char *table; /* holds the record and its version */
    /* The organisations in whose scope each record of the chunk (its ids: @IDS) is now: (id,
     * org_id) pairs, once each; an org_id NULL counts as none. */
    const char *scope;
};

static const struct feed_kind kinds[] = {
    {FEED_TEST_CENTER, "test_centers",
     "SELECT tc.id, tc.org_id FROM test_centers tc WHERE tc.id IN (@IDS)"},
    {FEED_ELIGIBILITY, "eligibilities",
     "SELECT e.id, (SELECT tc.org_id FROM test_centers tc WHERE tc.id = e.center_id)"
     " FROM eligibilities e WHERE e.id IN (@IDS)"
     " AND (SELECT d.status FROM deliveries d WHERE d.id = e.delivery_id) = 'published'"},
    {FEED_DELIVERY, "deliveries",
     "SELECT DISTINCT e.delivery_id,"
     " (SELECT tc.org_id FROM test_centers tc WHERE tc.id = e.center_id)"
     " FROM eligibilities e WHERE e.delivery_id IN (@IDS)"
     " AND (SELECT d.status FROM deliveries d WHERE d.id = e.delivery_id) = 'published'"},
    {FEED_USER, "users",
     "SELECT x.user_id, (SELECT tc.org_id FROM eligibilities e CROSS JOIN test_centers tc"
     " WHERE e.id = x.eligibility_id AND tc.id = e.center_id)"
     " FROM eligibility_test_takers x WHERE x.user_id IN (@IDS)"
     " AND (SELECT u.role FROM users u WHERE u.id = x.user_id) = 'test-taker'"
     " AND (SELECT d.status FROM eligibilities e CROSS JOIN deliveries d"
     " WHERE e.id = x.eligibility_id AND d.id = e.delivery_id) = 'published'"
     " UNION SELECT s.user_id, (SELECT tc.org_id FROM test_centers tc WHERE tc.id = s.center_id)"
     " FROM test_center_staff s WHERE s.user_id IN (@IDS)"
     " AND (SELECT u.role FROM users u WHERE u.id = s.user_id)"
     " = CASE s.duty WHEN 'proctor' THEN 'proctor' WHEN 'admin' THEN 'test-center-admin' END"
     " UNION SELECT u.id, CASE WHEN u.role = 'sync-manager' THEN u.org_id END"
     " FROM users u WHERE u.id IN (@IDS)"},
};

static const struct feed_kind *kind_of(const char *entity)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].entity, entity) == 0)
            return &kinds[i];
    return NULL;
}

/* Appends `text` to b with every @IDS spelt `ids`. */
static void put_with_ids(struct buf *b, const char *text, const char *ids)
{
    const char *at;
    while ((at = strstr(text, "@IDS")) != NULL) {
        buf_append(b, text, (size_t)(at - text));
        buf_puts(b, ids);
        text = at + 4;
    }
    buf_puts(b, text);
}

/* The refresh statement of `k` for chunks of `size` ids (see above), into *b:
 *   t     the chunk: (pos, id), an id NULL where unused;
 *   cur   the records of the chunk that exist, with their version;
 *   scope the organisations each is in now;
 *   old   their feed rows;
 *   want  the feed rows the chunk should have: one per organisation in scope, live, at the
 *         record's version; every other old row a tombstone at the version it had (a record
 *         gone or out of scope);
 * and writes the wanted rows that differ from the old ones, numbered in the sequence.
 *
 * Every table is read through an index by the chunk's ids (IN (?1, ..., ?K)) or by a key
 * (a scalar subquery); only the small sets of the chunk are joined. A plan therefore never
 * depends on table statistics, which a large transaction outruns (PostgreSQL would otherwise
 * hash whole tables it believes empty, and SQLite start from an index on users.role). */
static void refresh_sql(struct buf *b, const struct feed_kind *k, int size)
{
    struct buf ids = BUF_INIT;
    for (int i = 1; i <= size; i++)
        buf_printf(&ids, "%s?%d", i > 1 ? ", " : "", i);
    buf_puts(b, "WITH t (pos, id) AS (VALUES");
    for (int i = 1; i <= size; i++)
        buf_printf(b, "%s (%d, CAST(?%d AS TEXT))", i > 1 ? "," : "", i, i);
    buf_printf(b, "), cur (id, version) AS (SELECT r.id, r.version FROM %s r WHERE r.id IN (",
               k->table);
    put_with_ids(b, "@IDS)), scope (id, org_id) AS (", ids.data);
    put_with_ids(b, k->scope, ids.data);
    buf_printf(b,
               "), old (org_id, id, version, deleted) AS (SELECT f.org_id, f.entity_id,"
               " f.version, f.deleted FROM sync_feed f WHERE f.entity = '%s'"
               " AND f.entity_id IN (",
               k->entity);
    put_with_ids(b, "@IDS)),", ids.data);
    buf_printf(b,
               " live (id, org_id, version) AS (SELECT cur.id, scope.org_id, cur.version"
               " FROM cur CROSS JOIN scope WHERE scope.id = cur.id AND scope.org_id IS NOT NULL),"
               " want (org_id, id, version, deleted) AS ("
               "SELECT org_id, id, version, 0 FROM live"
               " UNION ALL SELECT old.org_id, old.id, old.version, 1 FROM old"
               " WHERE NOT EXISTS (SELECT 1 FROM live WHERE live.id = old.id"
               " AND live.org_id = old.org_id))"
               " INSERT INTO sync_feed (org_id, entity, entity_id, seq, version, deleted)"
               " SELECT w.org_id, '%s', w.id,"
               " (SELECT coalesce(max(seq), 0) FROM sync_feed)"
               " + row_number() OVER (ORDER BY t.pos, w.org_id), w.version, w.deleted"
               " FROM want w CROSS JOIN t"
               " LEFT JOIN old ON old.org_id = w.org_id AND old.id = w.id"
               " WHERE t.id = w.id"
               " AND (old.id IS NULL OR old.version <> w.version OR old.deleted <> w.deleted)"
               " ON CONFLICT (org_id, entity, entity_id) DO UPDATE SET seq = excluded.seq,"
               " version = excluded.version, deleted = excluded.deleted",
               k->entity);
    buf_free(&ids);
}

/* The statement that drops the kept texts (store/sealed.h, `sync_texts`) of the chunk's
 * records in every organisation where their feed row is a tombstone: a record deleted or out
 * of a scope keeps no text there. It runs after the chunk's refresh statement, in the same
 * transaction and pipeline (db_step_later), so it sees the tombstones that statement wrote;
 * the feed's index on (entity, entity_id) finds the rows, the texts' key each text. */
static void prune_sql(struct buf *b, const struct feed_kind *k, int size)
{
    struct buf ids = BUF_INIT;
    for (int i = 1; i <= size; i++)
        buf_printf(&ids, "%s?%d", i > 1 ? ", " : "", i);
    buf_printf(b,
               "DELETE FROM sync_texts WHERE entity = '%s' AND (org_id, entity_id) IN"
               " (SELECT f.org_id, f.entity_id FROM sync_feed f WHERE f.entity = '%s'"
               " AND f.deleted = 1 AND f.entity_id IN (",
               k->entity, k->entity);
    put_with_ids(b, "@IDS))", ids.data);
    buf_free(&ids);
}

/* Brings the feed rows of the n (1 .. CHUNK_MAX) records `ids` of kind `k` up to date, in one
 * statement. */
static int refresh_chunk(struct db *db, const struct feed_kind *k, const char *const *ids, int n,
                         struct op_err *e)
{
    assert(n >= 1 && n <= CHUNK_MAX);
    int size = CHUNK_MAX;
    for (int i = 0; i < NCHUNK_SIZES; i++)
        if (chunk_sizes[i] >= n) {
            size = chunk_sizes[i];
            break;
        }
    struct buf sql = BUF_INIT;
    refresh_sql(&sql, k, size);
    struct db_stmt *st = db_stmt(db, sql.data, e);
    buf_free(&sql);
    if (!st)
        return OP_EDB;
    for (int i = 0; i < size; i++)
        db_bind_text(st, i + 1, i < n ? ids[i] : NULL);
    /* on PostgreSQL, sent with the COMMIT (db_step_later): the refresh costs no round trip */
    int rc = db_step_later(db, st, "change feed: write", e);
    if (rc != 0)
        return rc;
    struct buf prune = BUF_INIT;
    prune_sql(&prune, k, size);
    st = db_stmt(db, prune.data, e);
    buf_free(&prune);
    if (!st)
        return OP_EDB;
    for (int i = 0; i < size; i++)
        db_bind_text(st, i + 1, i < n ? ids[i] : NULL);
    return db_step_later(db, st, "change feed: dropping the texts of records out of scope", e);
}

/* ---- one record at a time (SQLite) ----
 *
 * In the process, a statement costs microseconds and no round trip: reading a record's
 * version, scope and feed rows with small indexed statements and writing what differs is
 * faster than one large statement that must materialise every step. Rows are numbered from
 * *seq, which flush reads once (the largest number in sync_feed, as the chunked statement
 * does). */

/* The organisations in whose scope a record is now, one row each. */
static const char *scope_sql(const char *entity)
{
    if (strcmp(entity, FEED_TEST_CENTER) == 0)
        return "SELECT org_id FROM test_centers WHERE id = ?1";
    if (strcmp(entity, FEED_ELIGIBILITY) == 0)
        return "SELECT tc.org_id FROM eligibilities e"
               " JOIN test_centers tc ON tc.id = e.center_id"
               " JOIN deliveries d ON d.id = e.delivery_id AND d.status = 'published'"
               " WHERE e.id = ?1";
    if (strcmp(entity, FEED_DELIVERY) == 0)
        return "SELECT DISTINCT tc.org_id FROM eligibilities e"
               " JOIN test_centers tc ON tc.id = e.center_id"
               " JOIN deliveries d ON d.id = e.delivery_id AND d.status = 'published'"
               " WHERE e.delivery_id = ?1";
    if (strcmp(entity, FEED_USER) == 0)
        return "SELECT tc.org_id FROM eligibility_test_takers t"
               " JOIN eligibilities e ON e.id = t.eligibility_id"
               " JOIN deliveries d ON d.id = e.delivery_id AND d.status = 'published'"
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
                      int64_t version, int deleted, int64_t *seq, struct op_err *e)
{
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
    db_bind_int64(st, 4, ++*seq);
    db_bind_int64(st, 5, version);
    db_bind_int(st, 6, deleted);
    int rc = db_step_done(db, st, "change feed: write", e);
    if (rc != 0 || !deleted)
        return rc;
    /* a tombstone: the record keeps no text in that organisation (store/sealed.h) */
    st = db_stmt(db, "DELETE FROM sync_texts WHERE org_id = ?1 AND entity = ?2 AND entity_id = ?3",
                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    db_bind_text(st, 2, entity);
    db_bind_text(st, 3, id);
    return db_step_done(db, st, "change feed: dropping the text of a record out of scope", e);
}

/* Brings the feed rows of one record up to date now, numbering rows from *seq. */
static int refresh_one(struct db *db, const char *entity, const char *id, int64_t *seq,
                       struct op_err *e)
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
            result =
                upsert_row(db, todo[i].org, entity, id, todo[i].version, todo[i].deleted, seq, e);
        free(todo[i].org);
    }
    free(todo);
    /* Organisations the record has newly entered. */
    for (int i = 0; result == 0 && i < scope.n; i++)
        if (!org_list_has(&seen, scope.v[i]))
            result = upsert_row(db, scope.v[i], entity, id, version, 0, seq, e);
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

/* Refreshes every record the transaction touched, once each, in the order first touched. On a
 * server (db_is_remote), each run of records of one entity, CHUNK_MAX at a time, in one
 * statement sent with the COMMIT; in the process (SQLite), one record at a time. Runs just
 * before COMMIT; the records are forgotten when the transaction ends. */
static int flush(struct db *db, void *state, struct op_err *e)
{
    struct touched *t = state;
    if (!db_is_remote(db)) {
        int64_t seq = 0;
        struct db_stmt *st = db_stmt(db, "SELECT coalesce(max(seq), 0) FROM sync_feed", e);
        if (!st)
            return OP_EDB;
        int rc = db_step(st);
        if (rc == DB_ROW)
            seq = db_column_int64(st, 0);
        db_stmt_done(db, st);
        if (rc != DB_ROW)
            return db_fail(db, e, "change feed: sequence");
        for (size_t i = 0; i < t->n; i++) {
            const char *entity = t->key[i];
            if (refresh_one(db, entity, entity + strlen(entity) + 1, &seq, e) != 0)
                return OP_EDB;
        }
        return 0;
    }
    const char *ids[CHUNK_MAX];
    size_t i = 0;
    while (i < t->n) {
        const char *entity = t->key[i];
        const struct feed_kind *k = kind_of(entity);
        int n = 0;
        while (i < t->n && n < CHUNK_MAX && strcmp(t->key[i], entity) == 0) {
            ids[n++] = t->key[i] + strlen(t->key[i]) + 1;
            i++;
        }
        if (refresh_chunk(db, k, ids, n, e) != 0)
            return OP_EDB;
    }
    return 0;
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
    if (!kind_of(entity))
        return err_set(e, OP_EINPUT, "change feed: unknown entity \"%s\"", entity);
    if (!db_in_transaction(db)) {
        /* no transaction open: one just for this record, for the write lock that keeps the
         * change sequence in commit order; its COMMIT refreshes it */
        if (db_begin(db, e) != 0)
            return e->code;
        return db_commit_if(db, feed_touch(db, entity, id, e), e);
    }
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

int feed_in_scope(struct db *db, const char *org, const char *entity, const char *id, int *in,
                  struct op_err *e)
{
    *in = 0;
    struct db_stmt *st = db_stmt(db,
                                 "SELECT deleted FROM sync_feed"
                                 " WHERE org_id = ?1 AND entity = ?2 AND entity_id = ?3",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    db_bind_text(st, 2, entity);
    db_bind_text(st, 3, id);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *in = db_column_int(st, 0) == 0;
    int result = rc == DB_DONE || rc == DB_ROW ? 0 : db_fail(db, e, "change feed: scope");
    db_stmt_done(db, st);
    return result;
}
