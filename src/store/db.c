/*
 * db.c - the SQLite connection, statement cache, transactions and migrations runner, and
 * the small row helpers every entity file uses. See db.h for the invariants this file keeps.
 */
#include "store/db.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/ids.h"
#include "store/migrations.h"

#define STMT_CACHE_MAX 256

/* One statement of the cache. `held` from db_stmt until db_stmt_done: a held statement is
 * never handed out again (a nested caller gets a private one) and never evicted. */
struct cached_stmt {
    sqlite3_stmt *st;
    uint64_t last_used; /* db->clock when last handed out: the least recent free one goes */
    int held;
};

struct db {
    sqlite3 *conn;
    /* Prepared statements, found again by their SQL text (sqlite3_sql), never by the address of
     * the caller's string: a reused buffer must not get another statement's plan. */
    struct cached_stmt cache[STMT_CACHE_MAX];
    int ncache;
    uint64_t clock;
    int nprivate; /* private statements handed out and not yet given back */
    int in_tx;
    db_precommit_fn precommit; /* run by db_commit before COMMIT; NULL for none */
};

void db_set_precommit(struct db *db, db_precommit_fn fn)
{
    db->precommit = fn;
}

int db_fail(struct db *db, struct op_err *e, const char *what)
{
    int rc = sqlite3_extended_errcode(db->conn);
    int code = (rc & 0xff) == SQLITE_CONSTRAINT ? OP_ECONFLICT : OP_EDB;
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        /* OP_EBUSY: the front end tells its user to try again */
        return err_set(e, OP_EBUSY, "%s: the database is busy", what);
    return err_set(e, code, "%s: %s", what, sqlite3_errmsg(db->conn));
}

int db_exec(struct db *db, const char *sql, struct op_err *e)
{
    char *msg = NULL;
    if (sqlite3_exec(db->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(e, OP_EDB, "database: %s", msg ? msg : sqlite3_errmsg(db->conn));
        sqlite3_free(msg);
        return OP_EDB;
    }
    return 0;
}

sqlite3 *db_sqlite(struct db *db)
{
    return db->conn;
}

static sqlite3_stmt *prepare(struct db *db, const char *sql, unsigned flags, struct op_err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db->conn, sql, -1, flags, &st, NULL) != SQLITE_OK) {
        db_fail(db, e, "database: preparing a statement");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* A statement only this caller uses, for when the cached one is held by a caller up the
 * stack (or every slot is held); db_stmt_done finalizes it. */
static sqlite3_stmt *prepare_private(struct db *db, const char *sql, struct op_err *e)
{
    sqlite3_stmt *st = prepare(db, sql, 0, e);
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
        sqlite3_finalize(lru->st);
        lru->st = NULL;
    }
    return lru;
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql, struct op_err *e)
{
    for (int i = 0; i < db->ncache; i++) {
        struct cached_stmt *c = &db->cache[i];
        if (strcmp(sqlite3_sql(c->st), sql) != 0)
            continue;
        if (c->held)
            return prepare_private(db, sql, e);
        sqlite3_reset(c->st);
        sqlite3_clear_bindings(c->st);
        c->held = 1;
        c->last_used = ++db->clock;
        return c->st;
    }
    struct cached_stmt *slot = free_slot(db);
    if (!slot)
        return prepare_private(db, sql, e);
    sqlite3_stmt *st = prepare(db, sql, SQLITE_PREPARE_PERSISTENT, e);
    if (!st) {
        /* leave no empty slot behind: the last one takes its place */
        *slot = db->cache[--db->ncache];
        return NULL;
    }
    *slot = (struct cached_stmt){.st = st, .last_used = ++db->clock, .held = 1};
    return st;
}

void db_stmt_done(struct db *db, sqlite3_stmt *st)
{
    if (!st)
        return;
    for (int i = 0; i < db->ncache; i++) {
        if (db->cache[i].st == st) {
            assert(db->cache[i].held);
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            db->cache[i].held = 0;
            return;
        }
    }
    assert(db->nprivate > 0);
    db->nprivate--;
    sqlite3_finalize(st);
}

int db_step_done(struct db *db, sqlite3_stmt *st, const char *what, struct op_err *e)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, e, what);
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

int db_begin(struct db *db, struct op_err *e)
{
    if (db_exec(db, "BEGIN IMMEDIATE", e) != 0)
        return db_fail(db, e, "database: starting a transaction");
    db->in_tx = 1;
    return 0;
}

int db_commit(struct db *db, struct op_err *e)
{
    if (db->precommit && db->precommit(db, e) != 0) {
        db_rollback(db);
        return e->code ? e->code : OP_EDB;
    }
    if (db_exec(db, "COMMIT", e) != 0) {
        int rc = db_fail(db, e, "database: commit");
        db_rollback(db);
        return rc;
    }
    db->in_tx = 0;
    return 0;
}

void db_rollback(struct db *db)
{
    if (!sqlite3_get_autocommit(db->conn))
        sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
    db->in_tx = 0;
}

int db_commit_if(struct db *db, int rc, struct op_err *e)
{
    if (rc != 0) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db, e);
}

int db_next_seq(struct db *db, int64_t *seq, struct op_err *e)
{
    sqlite3_stmt *st = db_stmt(db,
                               "UPDATE counters SET value = value + 1 WHERE name = 'change_seq' "
                               "RETURNING value",
                               e);
    if (!st)
        return OP_EDB;
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    else
        rc = db_fail(db, e, "database: change sequence");
    db_stmt_done(db, st);
    return rc;
}

int db_schema_version(struct db *db)
{
    sqlite3_stmt *st = NULL;
    int v = 0;
    if (sqlite3_prepare_v2(db->conn, "SELECT max(version) FROM schema_migrations", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

int db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, idx);
    return sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
}

void db_bind_texts(sqlite3_stmt *st, int first, const char *const *v, int n)
{
    for (int i = 0; i < n; i++)
        db_bind_text(st, first + i, v[i]);
}

char *db_column_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    if (!s)
        return NULL;
    char *p = strdup((const char *)s);
    if (!p)
        abort();
    return p;
}

void db_column_copy(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", s ? (const char *)s : "");
}

int db_run(struct db *db, const char *sql, const char *p1, const char *p2, const char *what,
           struct op_err *e)
{
    sqlite3_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, p1);
    db_bind_text(st, 2, p2);
    return db_step_done(db, st, what, e);
}

int db_get_row(struct db *db, const char *sql, const char *key, db_read_fn read, void *out,
               const char *what, struct op_err *e)
{
    sqlite3_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read(st, out);
    int result = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? OP_ENOTFOUND : db_fail(db, e, what);
    db_stmt_done(db, st);
    return result;
}

int db_find_labelled(struct db *db, const char *sql, const char *label, const char *noun,
                     const char *nouns, db_read_fn read, void *out, struct op_err *e)
{
    sqlite3_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, label);
    int n = 0, rc;
    struct buf ids = BUF_INIT;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == 0)
            read(st, out);
        buf_printf(&ids, "%s%s", n ? ", " : "", (const char *)sqlite3_column_text(st, 0));
        n++;
    }
    char what[64];
    snprintf(what, sizeof what, "finding %s", noun);
    if (rc != SQLITE_DONE)
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
static void keep_key(struct db_page *p, sqlite3_stmt *st)
{
    const struct db_list *l = p->list;
    db_key_clear(&p->next);
    for (int i = 0; i < l->nkey; i++)
        p->next.col[i] = xstrdup((const char *)sqlite3_column_text(st, l->key_col[i]));
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
    sqlite3_stmt *st = db_stmt(db, l->sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, f1);
    db_bind_text(st, 2, f2);
    for (int i = 0; i < l->nkey; i++)
        db_bind_text(st, 3 + i, after && after->n ? after->col[i] : "");
    sqlite3_bind_int(st, 3 + l->nkey, limit + 1);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == limit) {
            out->more = 1;
            rc = SQLITE_DONE;
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
    int result = rc == SQLITE_DONE ? 0 : db_fail(db, e, l->what);
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

static int migrate(struct db *db, struct op_err *e)
{
    if (db_exec(db,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
                e) != 0)
        return OP_EDB;
    int current = db_schema_version(db);
    int latest = migrations_count();
    if (current > latest)
        return err_set(e, OP_ESTATE,
                       "database schema version %d is newer than this outpost (%d); "
                       "upgrade outpost",
                       current, latest);
    for (int v = current + 1; v <= latest; v++) {
        if (db_begin(db, e) != 0)
            return OP_EDB;
        if (db_exec(db, migrations_sql(v), e) != 0) {
            err_prefix(e, "migration %d", v);
            db_rollback(db);
            return OP_EDB;
        }
        sqlite3_stmt *st = db_stmt(db,
                                   "INSERT INTO schema_migrations (version, applied_at) "
                                   "VALUES (?, op_now())",
                                   e);
        if (!st) {
            db_rollback(db);
            return OP_EDB;
        }
        sqlite3_bind_int(st, 1, v);
        int step = sqlite3_step(st);
        if (step != SQLITE_DONE)
            db_fail(db, e, "migration bookkeeping");
        db_stmt_done(db, st);
        if (step != SQLITE_DONE) {
            db_rollback(db);
            return OP_EDB;
        }
        if (db_commit(db, e) != 0)
            return OP_EDB;
    }
    return 0;
}

/* The database holds password verifiers, wrapped vaults and decrypted results: refuse one
 * (or its write-ahead log) that group or others can read, such as a copy restored by a
 * backup tool under umask 022, naming the fix. */
static int check_private(const char *path, struct op_err *e)
{
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", path);
    const char *files[] = {path, wal};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct stat st;
        if (stat(files[i], &st) != 0)
            continue; /* a missing database is reported by sqlite3_open_v2 */
        if (st.st_mode & 077)
            return err_set(e, OP_ESTATE,
                           "%s: the database is accessible by others (mode %03o) and holds "
                           "password verifiers and results; run `chmod 600 %s`",
                           files[i], (unsigned)(st.st_mode & 0777), files[i]);
    }
    return 0;
}

/* Creates the database file 0600 before SQLite does (SQLite would follow the umask, and gives
 * its -wal and -shm files the mode of the database). */
static int create_private(const char *path, struct op_err *e)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return err_set(e, OP_EDB, "%s: cannot create database: %s", path, strerror(errno));
    int rc = fchmod(fd, 0600);
    close(fd);
    if (rc != 0)
        return err_set(e, OP_EDB, "%s: cannot make the database private: %s", path,
                       strerror(errno));
    return 0;
}

/* SQL op_now(): the time stamp of base/clock.h's clock (ids.h's timestamp_now), which a test
 * can fix, where SQLite's strftime(..., 'now') would read the system clock. */
static void sql_op_now(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    sqlite3_result_text(ctx, now, -1, SQLITE_TRANSIENT);
}

int db_open(const char *path, int create, struct db **out, struct op_err *e)
{
    *out = NULL;
    int in_memory = path[0] == '\0' || strcmp(path, ":memory:") == 0;
    if (!in_memory && (create ? create_private(path, e) : check_private(path, e)) != 0)
        return e->code;
    struct db *db = calloc(1, sizeof *db);
    if (!db)
        return err_set(e, OP_ENOMEM, "out of memory");
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db->conn, flags, NULL) != SQLITE_OK) {
        err_set(e, OP_EDB, "%s: cannot open database: %s", path,
                db->conn ? sqlite3_errmsg(db->conn) : "out of memory");
        sqlite3_close(db->conn);
        free(db);
        return OP_EDB;
    }
    if (sqlite3_create_function(db->conn, "op_now", 0, SQLITE_UTF8, NULL, sql_op_now, NULL, NULL) !=
        SQLITE_OK) {
        err_set(e, OP_EDB, "%s: %s", path, sqlite3_errmsg(db->conn));
        sqlite3_close(db->conn);
        free(db);
        return OP_EDB;
    }
    sqlite3_busy_timeout(db->conn, 10000);
    sqlite3_extended_result_codes(db->conn, 1);
    if (db_exec(db, "PRAGMA journal_mode = WAL", e) != 0 ||
        db_exec(db, "PRAGMA foreign_keys = ON", e) != 0 ||
        db_exec(db, "PRAGMA synchronous = FULL", e) != 0 || migrate(db, e) != 0 ||
        db_exec(db, migrations_connection_sql(), e) != 0) {
        err_prefix(e, "%s", path);
        db_close(db);
        return OP_EDB;
    }
    *out = db;
    return 0;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    db_rollback(db);
    /* a statement still held here is a missing db_stmt_done: its caller's bug */
    assert(db_stmt_held(db) == 0);
    for (int i = 0; i < db->ncache; i++)
        sqlite3_finalize(db->cache[i].st);
    sqlite3_close(db->conn);
    free(db);
}
