/*
 * db.c - the backend-neutral part of the storage interface: the statement cache, transactions
 * and savepoints, the migrations runner, keyset pages and the small row helpers every entity
 * file uses. Every call into the database goes through db->be (db_backend.h; db_sqlite.c for
 * SQLite). See db.h for the invariants this file keeps.
 */
#include "store/db.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/ids.h"
#include "store/db_backend.h"
#include "store/migrations.h"

#define STMT_CACHE_MAX 256
#define SAVEPOINT_MAX  16

/* A statement: the backend's handle, with its connection and SQL text (the cache finds a
 * statement again by its text, never by the address of the caller's string: a reused buffer
 * must not get another statement's plan). */
struct db_stmt {
    struct db *db;
    void *h;
    char *sql;
};

/* One statement of the cache. `held` from db_stmt until db_stmt_done: a held statement is
 * never handed out again (a nested caller gets a private one) and never evicted. */
struct cached_stmt {
    struct db_stmt *st;
    uint64_t last_used; /* db->clock when last handed out: the least recent free one goes */
    int held;
};

struct db {
    const struct db_backend *be;
    void *conn;
    struct cached_stmt cache[STMT_CACHE_MAX];
    int ncache;
    uint64_t clock;
    int nprivate; /* private statements handed out and not yet given back */
    /* the transaction's in-memory state (db_set_tx_state) and its savepoint marks */
    const struct db_tx_hooks *tx_hooks;
    void *tx_state;
    size_t sp_mark[SAVEPOINT_MAX];
    int nsp;
    int retry;       /* db_write's run met a DB_ERR_RETRY failure (db_fail, db_exec) that no
                      * savepoint rollback undid */
    uint64_t jitter; /* db_write's pause: a xorshift state, per connection (no lock) */
    int lose;        /* db_write runs still to lose (db_lose_races, for tests) */
};

void db_set_tx_state(struct db *db, const struct db_tx_hooks *hooks, void *state)
{
    if (db->tx_hooks && db->tx_hooks->release)
        db->tx_hooks->release(db->tx_state);
    db->tx_hooks = hooks;
    db->tx_state = state;
}

void *db_tx_state(struct db *db)
{
    return db->tx_state;
}

/* The transaction ended (committed or rolled back): its in-memory state goes. */
static void tx_end(struct db *db)
{
    db->nsp = 0;
    if (db->tx_hooks && db->tx_hooks->end)
        db->tx_hooks->end(db->tx_state);
}

enum db_errclass db_error_class(struct db *db)
{
    const char *msg;
    return db->be->error(db->conn, &msg);
}

int db_fail(struct db *db, struct op_err *e, const char *what)
{
    const char *msg;
    enum db_errclass c = db->be->error(db->conn, &msg);
    db->retry |= c == DB_ERR_RETRY;
    if (c == DB_ERR_RETRY)
        /* OP_EBUSY as well: outside db_write, the caller tells its user to try again */
        return err_set(e, OP_EBUSY, "%s: the database undid the transaction (%s)", what, msg);
    if (c == DB_ERR_BUSY)
        /* OP_EBUSY: the front end tells its user to try again */
        return err_set(e, OP_EBUSY, "%s: the database is busy", what);
    int code = c == DB_ERR_UNIQUE || c == DB_ERR_CONSTRAINT ? OP_ECONFLICT : OP_EDB;
    return err_set(e, code, "%s: %s", what, msg);
}

int db_exec(struct db *db, const char *sql, struct op_err *e)
{
    if (db->be->exec(db->conn, sql) != 0) {
        const char *msg;
        enum db_errclass c = db->be->error(db->conn, &msg);
        db->retry |= c == DB_ERR_RETRY;
        return err_set(e, c == DB_ERR_RETRY ? OP_EBUSY : OP_EDB, "database: %s", msg);
    }
    return 0;
}

static struct db_stmt *prepare(struct db *db, const char *sql, int cached, struct op_err *e)
{
    void *h = db->be->prepare(db->conn, sql, cached);
    if (!h) {
        db_fail(db, e, "database: preparing a statement");
        return NULL;
    }
    struct db_stmt *st = malloc(sizeof *st);
    char *copy = strdup(sql);
    if (!st || !copy)
        abort();
    *st = (struct db_stmt){.db = db, .h = h, .sql = copy};
    return st;
}

static void finalize(struct db_stmt *st)
{
    st->db->be->finalize(st->h);
    free(st->sql);
    free(st);
}

/* A statement only this caller uses, for when the cached one is held by a caller up the
 * stack (or every slot is held); db_stmt_done finalizes it. */
static struct db_stmt *prepare_private(struct db *db, const char *sql, struct op_err *e)
{
    struct db_stmt *st = prepare(db, sql, 0, e);
    if (st)
        db->nprivate++;
    return st;
}

/* The slot a new statement goes into: a free one at the end, else the least recently used
 * statement nobody holds (finalized here); NULL when all are held. */
static struct cached_stmt *free_slot(struct db *db)
{
    if (db->ncache < STMT_CACHE_MAX)
        return &db->cache[db->ncache++];
    struct cached_stmt *lru = NULL;
    for (int i = 0; i < db->ncache; i++)
        if (!db->cache[i].held && (!lru || db->cache[i].last_used < lru->last_used))
            lru = &db->cache[i];
    if (lru) {
        finalize(lru->st);
        lru->st = NULL;
    }
    return lru;
}

struct db_stmt *db_stmt(struct db *db, const char *sql, struct op_err *e)
{
    for (int i = 0; i < db->ncache; i++) {
        struct cached_stmt *c = &db->cache[i];
        if (strcmp(c->st->sql, sql) != 0)
            continue;
        if (c->held)
            return prepare_private(db, sql, e);
        db->be->reset(c->st->h);
        c->held = 1;
        c->last_used = ++db->clock;
        return c->st;
    }
    struct cached_stmt *slot = free_slot(db);
    if (!slot)
        return prepare_private(db, sql, e);
    struct db_stmt *st = prepare(db, sql, 1, e);
    if (!st) {
        /* leave no empty slot behind: the last one takes its place */
        *slot = db->cache[--db->ncache];
        return NULL;
    }
    *slot = (struct cached_stmt){.st = st, .last_used = ++db->clock, .held = 1};
    return st;
}

void db_stmt_done(struct db *db, struct db_stmt *st)
{
    if (!st)
        return;
    for (int i = 0; i < db->ncache; i++) {
        if (db->cache[i].st == st) {
            assert(db->cache[i].held);
            db->be->reset(st->h);
            db->cache[i].held = 0;
            return;
        }
    }
    assert(db->nprivate > 0);
    db->nprivate--;
    finalize(st);
}

int db_step(struct db_stmt *st)
{
    return st->db->be->step(st->h);
}

int db_step_done(struct db *db, struct db_stmt *st, const char *what, struct op_err *e)
{
    int rc = db_step(st) == DB_DONE ? 0 : db_fail(db, e, what);
    db_stmt_done(db, st);
    return rc;
}

int db_step_later(struct db *db, struct db_stmt *st, const char *what, struct op_err *e)
{
    if (!db->be->step_later)
        return db_step_done(db, st, what, e);
    int rc = db->be->step_later(st->h) == 0 ? 0 : db_fail(db, e, what);
    db_stmt_done(db, st);
    return rc;
}

int db_stmt_held(struct db *db)
{
    int n = db->nprivate;
    for (int i = 0; i < db->ncache; i++)
        n += db->cache[i].held;
    return n;
}

int db_stmt_cached(struct db *db)
{
    return db->ncache;
}

int64_t db_changes(struct db *db)
{
    return db->be->changes(db->conn);
}

int db_begin(struct db *db, struct op_err *e)
{
    if (db->be->begin(db->conn) != 0)
        return db_fail(db, e, "database: starting a transaction");
    db->nsp = 0;
    return 0;
}

int db_commit(struct db *db, struct op_err *e)
{
    if (db->tx_hooks && db->tx_hooks->precommit &&
        db->tx_hooks->precommit(db, db->tx_state, e) != 0) {
        db_rollback(db);
        return e->code ? e->code : OP_EDB;
    }
    if (db->be->commit(db->conn) != 0) {
        int rc = db_fail(db, e, "database: commit");
        db_rollback(db);
        return rc;
    }
    tx_end(db);
    return 0;
}

void db_rollback(struct db *db)
{
    db->be->rollback(db->conn);
    tx_end(db);
}

int db_commit_if(struct db *db, int rc, struct op_err *e)
{
    if (rc != 0) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db, e);
}

int db_in_transaction(struct db *db)
{
    return db->be->in_tx(db->conn);
}

/* ---- the transaction runner ---- */

/* Sleeps a random time below `cap_ms` ("full jitter": writers that lost the same race
 * spread out instead of colliding again in step). */
static void backoff(struct db *db, int cap_ms)
{
    if (!db->jitter) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        db->jitter = ((uint64_t)now.tv_nsec << 20) ^ (uint64_t)now.tv_sec ^ (uintptr_t)db;
        db->jitter |= 1;
    }
    db->jitter ^= db->jitter << 13;
    db->jitter ^= db->jitter >> 7;
    db->jitter ^= db->jitter << 17;
    long us = (long)(db->jitter % ((uint64_t)cap_ms * 1000));
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* One run: begin, the body, commit or roll back. A body that went on after a lost race it
 * did not undo (it took the failure for a refusal, say) is not committed: on PostgreSQL its
 * transaction is already aborted and COMMIT would only roll it back. */
static int write_once(struct db *db, db_write_fn body, void *ctx, struct op_err *e)
{
    int rc = db_begin(db, e);
    if (rc != 0)
        return rc;
    rc = body(db, ctx, e);
    if (rc == 0 && db->lose > 0) {
        db->lose--;
        db->retry = 1;
    }
    if (rc == 0 && db->retry)
        rc = err_set(e, OP_EBUSY, "database: the transaction lost a race with another writer");
    return db_commit_if(db, rc, e);
}

/* Runs `once` (write_once or read_once) until it did not lose a race, at most DB_WRITE_TRIES
 * times; `what` names the transaction in the final refusal. */
typedef int (*run_once_fn)(struct db *db, db_write_fn body, void *ctx, struct op_err *e);
static int run_with_retries(struct db *db, run_once_fn once, db_write_fn body, void *ctx,
                            const char *what, struct op_err *e)
{
    assert(!db_in_transaction(db));
    int rc = 0;
    for (int attempt = 1; attempt <= DB_WRITE_TRIES; attempt++) {
        if (attempt > 1) {
            /* 2, 4, 8, 16 ms caps: a lost race is decided in a few ms, not a busy wait */
            backoff(db, 1 << (attempt - 1));
            memset(e, 0, sizeof *e);
        }
        db->retry = 0;
        rc = once(db, body, ctx, e);
        /* a run that met a lost race and failed for it: as OP_EBUSY (db_fail's code for it)
         * or OP_EDB (a later statement of PostgreSQL's aborted transaction) */
        if (!db->retry || (rc != OP_EBUSY && rc != OP_EDB))
            return rc;
    }
    char last[OP_ERR_MAX];
    snprintf(last, sizeof last, "%s", e->msg);
    return err_set(e, OP_EBUSY, "the database is busy: %d tries of %s lost a race (%s)",
                   DB_WRITE_TRIES, what, last);
}

int db_write(struct db *db, db_write_fn body, void *ctx, struct op_err *e)
{
    return run_with_retries(db, write_once, body, ctx, "a write", e);
}

static int read_once(struct db *db, db_write_fn body, void *ctx, struct op_err *e)
{
    if (db->be->begin_read(db->conn) != 0)
        return db_fail(db, e, "database: starting a read transaction");
    db->nsp = 0;
    int rc = body(db, ctx, e);
    /* a read transaction has nothing to bring up to date at commit: state noted for the
     * commit (the change feed's touched records) is a write that was attempted */
    if (rc == 0 && db->tx_hooks && db->tx_hooks->mark && db->tx_hooks->mark(db->tx_state) > 0)
        rc = err_set(e, OP_ESTATE, "database: a read transaction noted a change to write");
    if (rc == 0 && db->lose > 0) {
        db->lose--;
        db->retry = 1;
    }
    if (rc == 0 && db->retry)
        rc = err_set(e, OP_EBUSY, "database: the read transaction lost a race");
    db->be->end_read(db->conn);
    tx_end(db);
    return rc;
}

int db_read(struct db *db, db_write_fn body, void *ctx, struct op_err *e)
{
    return run_with_retries(db, read_once, body, ctx, "a read", e);
}

void db_lose_races(struct db *db, int n)
{
    db->lose = n;
}

int db_set_busy_timeout(struct db *db, int ms, struct op_err *e)
{
    assert(ms >= 1 && !db_in_transaction(db));
    if (db->be->set_busy_timeout(db->conn, ms) != 0)
        return db_fail(db, e, "database: setting the busy timeout");
    return 0;
}

int db_savepoint(struct db *db, struct op_err *e)
{
    if (db->nsp == SAVEPOINT_MAX)
        return err_set(e, OP_EDB, "database: more than %d nested savepoints", SAVEPOINT_MAX);
    if (db_exec(db, "SAVEPOINT op_savepoint", e) != 0)
        return OP_EDB;
    size_t mark = 0;
    if (db->tx_hooks && db->tx_hooks->mark)
        mark = db->tx_hooks->mark(db->tx_state);
    db->sp_mark[db->nsp++] = mark;
    return 0;
}

int db_savepoint_rollback(struct db *db, struct op_err *e)
{
    assert(db->nsp > 0);
    if (db_exec(db, "ROLLBACK TO SAVEPOINT op_savepoint", e) != 0 ||
        db_exec(db, "RELEASE SAVEPOINT op_savepoint", e) != 0)
        return OP_EDB;
    size_t mark = db->sp_mark[--db->nsp];
    /* a lost race inside the savepoint is undone with it: the transaction goes on (PostgreSQL
     * would have refused the rollback had the race doomed the whole transaction) */
    db->retry = 0;
    if (db->tx_hooks && db->tx_hooks->undo)
        db->tx_hooks->undo(db->tx_state, mark);
    return 0;
}

int db_savepoint_release(struct db *db, struct op_err *e)
{
    assert(db->nsp > 0);
    if (db_exec(db, "RELEASE SAVEPOINT op_savepoint", e) != 0)
        return OP_EDB;
    db->nsp--;
    return 0;
}

int db_schema_version(struct db *db)
{
    /* not cached: read once per open */
    void *h = db->be->prepare(db->conn, "SELECT max(version) FROM schema_migrations", 0);
    int v = 0;
    if (h && db->be->step(h) == DB_ROW)
        v = (int)db->be->column_int64(h, 0);
    if (h)
        db->be->finalize(h);
    return v;
}

void db_bind_null(struct db_stmt *st, int idx)
{
    st->db->be->bind_null(st->h, idx);
}

void db_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
    st->db->be->bind_int64(st->h, idx, v);
}

void db_bind_int(struct db_stmt *st, int idx, int v)
{
    st->db->be->bind_int64(st->h, idx, v);
}

void db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t n)
{
    st->db->be->bind_blob(st->h, idx, p, n);
}

int db_column_is_null(struct db_stmt *st, int col)
{
    return st->db->be->column_is_null(st->h, col);
}

const char *db_column_text(struct db_stmt *st, int col)
{
    return st->db->be->column_text(st->h, col);
}

int64_t db_column_int64(struct db_stmt *st, int col)
{
    return st->db->be->column_int64(st->h, col);
}

int db_column_int(struct db_stmt *st, int col)
{
    return (int)st->db->be->column_int64(st->h, col);
}

const void *db_column_blob(struct db_stmt *st, int col, size_t *len)
{
    return st->db->be->column_blob(st->h, col, len);
}

int db_bind_text(struct db_stmt *st, int idx, const char *s)
{
    if (!s)
        return st->db->be->bind_null(st->h, idx);
    return st->db->be->bind_text(st->h, idx, s);
}

int db_bind_text_n(struct db_stmt *st, int idx, const char *s, size_t n)
{
    return st->db->be->bind_text_n(st->h, idx, s, n);
}

void db_bind_texts(struct db_stmt *st, int first, const char *const *v, int n)
{
    for (int i = 0; i < n; i++)
        db_bind_text(st, first + i, v[i]);
}

char *db_column_strdup(struct db_stmt *st, int col)
{
    const char *s = db_column_text(st, col);
    if (!s)
        return NULL;
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

void db_column_copy(struct db_stmt *st, int col, char *dst, size_t cap)
{
    const char *s = db_column_text(st, col);
    snprintf(dst, cap, "%s", s ? s : "");
}

int db_run(struct db *db, const char *sql, const char *p1, const char *p2, const char *what,
           struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, p1);
    db_bind_text(st, 2, p2);
    return db_step_done(db, st, what, e);
}

int db_get_row(struct db *db, const char *sql, const char *key, db_read_fn read, void *out,
               const char *what, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, key);
    int rc = db_step(st);
    if (rc == DB_ROW)
        read(st, out);
    int result = rc == DB_ROW ? 0 : rc == DB_DONE ? OP_ENOTFOUND : db_fail(db, e, what);
    db_stmt_done(db, st);
    return result;
}

int db_find_labelled(struct db *db, const char *sql, const char *label, const char *noun,
                     const char *nouns, db_read_fn read, void *out, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, label);
    int n = 0, rc;
    struct buf ids = BUF_INIT;
    while ((rc = db_step(st)) == DB_ROW) {
        if (n == 0)
            read(st, out);
        buf_printf(&ids, "%s%s", n ? ", " : "", db_column_text(st, 0));
        n++;
    }
    char what[64];
    snprintf(what, sizeof what, "finding %s", noun);
    if (rc != DB_DONE)
        rc = db_fail(db, e, what);
    else if (n == 0)
        rc = err_set(e, OP_ENOTFOUND, "no %s with id or label \"%s\"", noun, label);
    else if (n > 1)
        rc = err_set(e, OP_EINPUT, "%d %s are labelled \"%s\" (%s); give the id", n, nouns, label,
                     ids.data);
    else
        rc = 0;
    db_stmt_done(db, st);
    buf_free(&ids);
    return rc;
}

/* ---- lists ---- */

void db_key_clear(struct db_key *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->col[i]);
    memset(k, 0, sizeof *k);
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

void db_key_set(struct db_key *k, int n, const char *const *cols)
{
    assert(n >= 0 && n <= DB_KEY_COLS);
    db_key_clear(k);
    for (int i = 0; i < n; i++)
        k->col[i] = xstrdup(cols[i]);
    k->n = n;
}

void db_key_move(struct db_key *dst, struct db_key *src)
{
    db_key_clear(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

/* Keeps the sort key of the row `st` is on as the page's next key. */
static void keep_key(struct db_page *p, struct db_stmt *st)
{
    const struct db_list *l = p->list;
    db_key_clear(&p->next);
    for (int i = 0; i < l->nkey; i++)
        p->next.col[i] = xstrdup(db_column_text(st, l->key_col[i]));
    p->next.n = l->nkey;
}

void db_page_clear(struct db_page *p)
{
    if (p->list && p->list->clear)
        for (int i = 0; i < p->n; i++)
            p->list->clear((char *)p->rows + (size_t)i * p->list->row_size);
    free(p->rows);
    db_key_clear(&p->next);
    memset(p, 0, sizeof *p);
}

/* The one row loop of every list: steps a statement asking for limit + 1 rows, reads the first
 * `limit` and notes whether the extra one exists. */
int db_page_read(struct db *db, const struct db_list *l, const char *f1, const char *f2,
                 const struct db_key *after, int limit, struct db_page *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    out->list = l;
    if (limit < 1 || limit > DB_PAGE_MAX)
        return err_set(e, OP_EINPUT, "a page holds 1 to %d rows, not %d", DB_PAGE_MAX, limit);
    if (after && after->n != 0 && after->n != l->nkey)
        return err_set(e, OP_EINPUT, "%s: the page key has %d part%s, not %d", l->what, l->nkey,
                       l->nkey == 1 ? "" : "s", after->n);
    struct db_stmt *st = db_stmt(db, l->sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, f1);
    db_bind_text(st, 2, f2);
    for (int i = 0; i < l->nkey; i++)
        db_bind_text(st, 3 + i, after && after->n ? after->col[i] : "");
    db_bind_int(st, 3 + l->nkey, limit + 1);
    size_t cap = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (out->n == limit) {
            out->more = 1;
            rc = DB_DONE;
            break;
        }
        if ((size_t)out->n == cap) {
            cap = cap ? cap * 2 : 16;
            char *grown = realloc(out->rows, cap * l->row_size);
            if (!grown)
                abort();
            out->rows = grown;
        }
        void *row = (char *)out->rows + (size_t)out->n * l->row_size;
        memset(row, 0, l->row_size);
        l->read(st, row);
        out->n++;
        keep_key(out, st);
    }
    int result = rc == DB_DONE ? 0 : db_fail(db, e, l->what);
    db_stmt_done(db, st);
    if (result != 0)
        db_page_clear(out);
    return result;
}

void db_cursor_open(struct db_cursor *c, const struct db_list *l, const char *f1, const char *f2,
                    int page_size)
{
    memset(c, 0, sizeof *c);
    c->list = l;
    c->f1 = f1;
    c->f2 = f2;
    c->page_size = page_size;
}

int db_cursor_next(struct db *db, struct db_cursor *c, const void **row, struct op_err *e)
{
    *row = NULL;
    if (c->pos == c->page.n) {
        if (c->started && !c->page.more)
            return 0;
        struct db_key after = {0};
        db_key_move(&after, &c->page.next);
        db_page_clear(&c->page);
        c->pos = 0;
        c->started = 1;
        int rc = db_page_read(db, c->list, c->f1, c->f2, &after, c->page_size, &c->page, e);
        db_key_clear(&after);
        if (rc != 0)
            return rc;
        if (c->page.n == 0)
            return 0;
    }
    *row = (const char *)c->page.rows + (size_t)c->pos++ * c->list->row_size;
    return 0;
}

void db_cursor_close(struct db_cursor *c)
{
    db_page_clear(&c->page);
    memset(c, 0, sizeof *c);
}

/* The version migrate() brings a database to: -1 for the latest (migrations_count()), or the
 * one a test set with db_set_migration_limit. */
static int migration_limit = -1;

void db_set_migration_limit(int version)
{
    assert(version <= migrations_count());
    migration_limit = version;
}

/* Applies the migrations the database lacks, one transaction per version. Each transaction
 * takes the write lock first (db_begin: BEGIN IMMEDIATE on SQLite, the advisory write lock on
 * PostgreSQL) and reads the version under it, so two processes starting together after an
 * upgrade never both apply a migration: the second waits, then finds nothing left to do. */
static int migrate(struct db *db, struct op_err *e)
{
    int latest = migration_limit >= 0 ? migration_limit : migrations_count();
    /* up to date (the usual case): no lock taken, so opening never waits for a writer */
    if (db_schema_version(db) == latest)
        return 0;
    for (;;) {
        if (db_begin(db, e) != 0)
            return e->code;
        if (db_exec(db,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
                    e) != 0) {
            db_rollback(db);
            return OP_EDB;
        }
        int current = db_schema_version(db);
        if (current > latest) {
            db_rollback(db);
            return err_set(e, OP_ESTATE,
                           "database schema version %d is newer than this outpost (%d); "
                           "upgrade outpost",
                           current, latest);
        }
        if (current == latest)
            return db_commit(db, e) != 0 ? OP_EDB : 0;
        int v = current + 1;
        if (db_exec(db, migrations_sql(v), e) != 0) {
            err_prefix(e, "migration %d", v);
            db_rollback(db);
            return OP_EDB;
        }
        struct db_stmt *st = db_stmt(db,
                                     "INSERT INTO schema_migrations (version, applied_at) "
                                     "VALUES (?1, ?2)",
                                     e);
        if (!st) {
            db_rollback(db);
            return OP_EDB;
        }
        char now[TIMESTAMP_STR_LEN];
        timestamp_now(now);
        db_bind_int(st, 1, v);
        db_bind_text(st, 2, now);
        if (db_step_done(db, st, "migration bookkeeping", e) != 0) {
            db_rollback(db);
            return OP_EDB;
        }
        if (db_commit(db, e) != 0)
            return OP_EDB;
    }
}

/* Opens `target` with backend `be` and migrates; `name` prefixes an error (never the
 * PostgreSQL connection string: it holds the password). */
static int open_with(const struct db_backend *be, const char *target, int create, const char *name,
                     struct db **out, struct op_err *e)
{
    *out = NULL;
    struct db *db = calloc(1, sizeof *db);
    if (!db)
        return err_set(e, OP_ENOMEM, "out of memory");
    db->be = be;
    int rc = db->be->open(target, create, &db->conn, e);
    if (rc != 0) {
        free(db);
        return rc;
    }
    if ((rc = migrate(db, e)) != 0) { /* OP_ESTATE for a newer schema, else OP_EDB */
        err_prefix(e, "%s", name);
        db_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

int db_open(const char *path, int create, struct db **out, struct op_err *e)
{
    return open_with(&db_sqlite_backend, path, create, path, out, e);
}

/* PostgreSQL only, before migrating: what the database's schema holds. A database with tables
 * and no schema_migrations is not ours (refused: migrating would mix two applications'
 * tables); with `create` (setup), a database that already holds an Outpost schema is refused
 * too (setup never takes over a database). */
static int pg_check_owner(struct db *db, int create, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "SELECT count(*), count(*) FILTER (WHERE table_name ="
                                 " 'schema_migrations') FROM information_schema.tables"
                                 " WHERE table_schema = current_schema()",
                                 e);
    if (!st)
        return OP_EDB;
    int rc = db_step(st) == DB_ROW ? 0 : db_fail(db, e, "PostgreSQL: reading the schema");
    int64_t tables = db_column_int64(st, 0), ours = db_column_int64(st, 1);
    db_stmt_done(db, st);
    if (rc != 0)
        return rc;
    if (tables > 0 && !ours)
        return err_set(e, OP_ESTATE,
                       "the PostgreSQL database is not empty and holds no Outpost schema (%lld "
                       "table%s of another application); give Outpost a database of its own",
                       (long long)tables, tables == 1 ? "" : "s");
    if (create && ours)
        return err_set(e, OP_ESTATE,
                       "the PostgreSQL database already holds an Outpost instance; setup never "
                       "takes over a database (give it a new, empty one)");
    return 0;
}

int db_open_pgsql(const char *conninfo, int create, struct db **out, struct op_err *e)
{
    *out = NULL;
    struct db *db = calloc(1, sizeof *db);
    if (!db)
        return err_set(e, OP_ENOMEM, "out of memory");
    db->be = &db_pgsql_backend;
    int rc = db->be->open(conninfo, create, &db->conn, e);
    if (rc != 0) {
        free(db);
        return rc;
    }
    if ((rc = pg_check_owner(db, create, e)) != 0) {
        db_close(db);
        return rc;
    }
    if ((rc = migrate(db, e)) != 0) { /* OP_ESTATE for a newer schema, else OP_EDB */
        err_prefix(e, "PostgreSQL");
        db_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

/* A connection to the PostgreSQL database of `conninfo` with no migration: for looking at a
 * database before or after a restore (db_pgsql_table_count, db_pgsql_drop_tables). */
static int open_pgsql_raw(const char *conninfo, struct db **out, struct op_err *e)
{
    *out = NULL;
    struct db *db = calloc(1, sizeof *db);
    if (!db)
        return err_set(e, OP_ENOMEM, "out of memory");
    db->be = &db_pgsql_backend;
    int rc = db->be->open(conninfo, 0, &db->conn, e);
    if (rc != 0) {
        free(db);
        return rc;
    }
    *out = db;
    return 0;
}

int db_pgsql_table_count(const char *conninfo, int64_t *n, struct op_err *e)
{
    *n = 0;
    struct db *db = NULL;
    int rc = open_pgsql_raw(conninfo, &db, e);
    if (rc != 0)
        return rc;
    struct db_stmt *st = db_stmt(
        db, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        e);
    rc = !st                     ? OP_EDB
         : db_step(st) == DB_ROW ? 0
                                 : db_fail(db, e, "PostgreSQL: reading the schema");
    if (rc == 0)
        *n = db_column_int64(st, 0);
    if (st)
        db_stmt_done(db, st);
    db_close(db);
    return rc;
}

int db_pgsql_drop_tables(const char *conninfo, struct op_err *e)
{
    struct db *db = NULL;
    int rc = open_pgsql_raw(conninfo, &db, e);
    if (rc != 0)
        return rc;
    rc = db_exec(db,
                 "DO $$ DECLARE t record; BEGIN"
                 " FOR t IN SELECT tablename FROM pg_tables"
                 "  WHERE schemaname = current_schema() AND tableowner = current_user LOOP"
                 "  EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(t.tablename) || ' CASCADE';"
                 " END LOOP; END $$",
                 e);
    db_close(db);
    return rc;
}

int db_latest_schema_version(void)
{
    return migration_limit >= 0 ? migration_limit : migrations_count();
}

const char *db_backend_name(struct db *db)
{
    return db->be->name;
}

int db_is_remote(struct db *db)
{
    return db->be->remote;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    db_rollback(db);
    /* a statement still held here is a missing db_stmt_done: its caller's bug */
    assert(db_stmt_held(db) == 0);
    for (int i = 0; i < db->ncache; i++)
        finalize(db->cache[i].st);
    db_set_tx_state(db, NULL, NULL);
    db->be->close(db->conn);
    free(db);
}

int db_backup_to_file(struct db *db, const char *dest, struct op_err *e)
{
    if (!db->be->backup_to)
        return err_set(e, OP_EINPUT, "the %s backend has no file backup", db->be->name);
    char msg[512] = "";
    if (db->be->backup_to(db->conn, dest, msg, sizeof msg) != 0)
        return err_set(e, OP_EIO, "%s", msg);
    return 0;
}

int db_check_integrity(struct db *db, struct op_err *e)
{
    if (strcmp(db->be->name, "sqlite") != 0)
        return 0;
    struct db_stmt *st = db_stmt(db, "PRAGMA integrity_check", e);
    if (!st)
        return e->code;
    int rc = 0;
    if (db_step(st) != DB_ROW)
        rc = db_fail(db, e, "checking the database's integrity");
    else if (strcmp(db_column_text(st, 0), "ok") != 0)
        rc = err_set(e, OP_EDB, "the database is damaged: %.300s", db_column_text(st, 0));
    db_stmt_done(db, st);
    return rc;
}
