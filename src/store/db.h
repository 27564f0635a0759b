/*
 * db.h - the storage interface: a connection, prepared statements, transactions, the change
 * sequence, and keyset pages, the same whatever database is behind it.
 *
 * The database itself is reached through one backend file (db_backend.h): db_sqlite.c for
 * SQLite (one file per instance, in WAL mode with foreign keys on), db_pgsql.c for
 * PostgreSQL (one database on a server, shared by any number of processes; db_open_pgsql).
 * No other file calls a database library: entity files (src/store/<entity>.c) write SQL and
 * use only what this header declares.
 *
 * Invariants:
 *  - every write happens between db_begin() and db_commit(); a failure calls db_rollback(),
 *    so a crash or an error leaves the database as it was before the command; application
 *    operations write through db_write, which does all three and runs a transaction that
 *    lost a race again;
 *  - SQL is only ever built from literals; values go in with db_bind_*; placeholders are
 *    numbered ?1 .. ?N (a backend translates them to its own spelling, $1 on PostgreSQL);
 *  - statements are prepared once per connection (db_stmt caches them by their SQL text) and
 *    held by one caller at a time, from db_stmt to db_stmt_done;
 *  - lists are read in keyset pages (db_page_read, db_cursor_next): no statement stays open
 *    while a caller handles a row;
 *  - time never comes from SQL: a row is dated by binding timestamp_now() (the process clock
 *    of base/clock.h, which a test can fix).
 * The schema (migrations.c) sticks to SQL that PostgreSQL also accepts.
 *
 * Threads: a struct db is one connection and belongs to one thread at a time; it is never
 * shared between threads that run at once. Its statement cache, the statements a caller holds,
 * the open transaction and its savepoints and in-memory state (db_set_tx_state) are all per
 * connection, unlocked, and a transaction is a property of the connection: two threads
 * writing through one struct db would interleave their statements in one transaction. A
 * server opens one connection per thread (or keeps a pool and hands a connection to one
 * request at a time); many connections, in one process or several, write to one database
 * safely, one writer at a time (db_begin), the others waiting up to the busy timeout.
 */
#ifndef OUTPOST_STORE_DB_H
#define OUTPOST_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct db;
/* A prepared statement, opaque: from db_stmt to db_stmt_done. */
struct db_stmt;

/* What db_step returns. */
enum { DB_ERROR = -1, DB_DONE = 0, DB_ROW = 1 };

/* The class of a database failure, the same for every backend (db_error_class). */
enum db_errclass {
    DB_ERR_OTHER = 0,
    DB_ERR_UNIQUE,     /* a unique or primary key constraint: the row already exists */
    DB_ERR_CONSTRAINT, /* another constraint (check, foreign key, not null) */
    DB_ERR_BUSY,       /* another connection holds a lock past the wait: retry later */
    DB_ERR_RETRY,      /* the transaction lost a race (serialization failure, deadlock,
                        * stale snapshot) and was undone: running it again may succeed */
};

/* Opens (creating if `create`, mode 0600) the SQLite database at `path` and applies pending
 * migrations. An existing database that group or others can read is refused (OP_ESTATE,
 * naming `chmod 600`). */
int db_open(const char *path, int create, struct db **out, struct op_err *e);
/* Opens the PostgreSQL database that the libpq connection string `conninfo` names (built by
 * instance/config.h's pg_conninfo; it is never printed or logged, as it holds the password)
 * and applies pending migrations, under the write lock, so processes starting together never
 * race; an empty database gets the whole schema. Fails with OP_EDB saying whether the server
 * could not be reached or refused the login; OP_ESTATE for a database that is not empty and
 * not Outpost's, and, with `create` (setup), for one that already holds an Outpost schema. A
 * schema newer than this outpost fails as in db_open. */
int db_open_pgsql(const char *conninfo, int create, struct db **out, struct op_err *e);
void db_close(struct db *db);
/* For a restore into PostgreSQL (app/backup.c), on the database of `conninfo`, with no
 * migration: the number of tables of its schema (0: empty, ready for pg_restore); and
 * dropping every table of its schema the connecting role owns (a restore that was refused
 * after pg_restore leaves the database empty again). */
int db_pgsql_table_count(const char *conninfo, int64_t *n, struct op_err *e);
int db_pgsql_drop_tables(const char *conninfo, struct op_err *e);
/* The schema version this outpost migrates a database to. */
int db_latest_schema_version(void);
/* How many requests this process has sent to PostgreSQL servers so far (each PQexec,
 * PQprepare and PQexecPrepared: one round trip), over all connections; for the benchmarks
 * (bench/bench_store.c) and tests that count round trips per operation. */
uint64_t db_pgsql_round_trips(void);
/* "sqlite" or "pgsql": for the few tests and messages that differ. */
const char *db_backend_name(struct db *db);
/* 1 when every request is a round trip to a server (PostgreSQL): fewer, larger statements
 * then cost less than many small ones; 0 when the database runs in the process (SQLite),
 * where small indexed statements are the cheapest. For code that picks its strategy (the
 * change feed's refresh). */
int db_is_remote(struct db *db);

/* Statements. db_stmt hands out a prepared statement for `sql`, reset and with no bindings,
 * held by the caller until it gives it back with db_stmt_done (on every path; NULL is fine),
 * or NULL with *e filled. A held statement is never handed out twice: a caller nested inside
 * another's use of the same SQL (a loop calling a function that runs it again) gets a private
 * statement, prepared for it and finalized by db_stmt_done. The cache keeps up to
 * STMT_CACHE_MAX statements and evicts the least recently used one nobody holds. Never
 * finalize or keep a statement past db_stmt_done. */
struct db_stmt *db_stmt(struct db *db, const char *sql, struct op_err *e);
void db_stmt_done(struct db *db, struct db_stmt *st);
/* Runs `st` to its next row: DB_ROW (read it with db_column_*), DB_DONE (no more rows), or
 * DB_ERROR (db_fail says why). */
int db_step(struct db_stmt *st);
/* Steps `st`, a statement that returns no rows, and gives it back (db_stmt_done): 0, or the
 * error of db_fail(what). */
int db_step_done(struct db *db, struct db_stmt *st, const char *what, struct op_err *e);
/* As db_step_done, for a statement whose outcome only matters at commit (the change feed's
 * refresh, which runs just before COMMIT): a backend that can (PostgreSQL) sends it without
 * waiting, and its outcome comes back with the connection's next request, the COMMIT in the
 * same round trip. A failure then fails that request (db_commit rolls back and returns it);
 * db_changes does not count the statement. 0 or the error of db_fail(what). */
int db_step_later(struct db *db, struct db_stmt *st, const char *what, struct op_err *e);
/* For tests: statements handed out and not given back; statements in the cache. */
int db_stmt_held(struct db *db);
int db_stmt_cached(struct db *db);

/* Rows inserted, changed or deleted by the last statement that wrote. */
int64_t db_changes(struct db *db);

/* Begins a write transaction, taking the write lock now (so a transaction never fails
 * half-way because another writer holds it; SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory
 * write lock: one writer at a time on both), COMMIT, ROLLBACK. db_rollback is safe to call
 * when no transaction is open. */
int db_begin(struct db *db, struct op_err *e);
int db_commit(struct db *db, struct op_err *e);
void db_rollback(struct db *db);
/* Ends the transaction db_begin opened after work that returned `rc`: commits when rc is 0
 * (returning the commit's status), else rolls back and returns rc. */
int db_commit_if(struct db *db, int rc, struct op_err *e);

/* ---- The transaction runner ----
 *
 * db_write runs body(db, ctx, e) in a write transaction: db_begin, the body, db_commit (or
 * db_rollback when the body fails). A transaction that lost a race the database resolved by
 * undoing it (DB_ERR_RETRY: PostgreSQL's serialization failure 40001 and deadlock 40P01,
 * SQLite's stale snapshot) is rolled back and run again after a short random pause, up to
 * DB_WRITE_TRIES times in all, so the user never sees it; past that, OP_EBUSY ("busy, try
 * again"). Anything else is not retried: a lock not granted within the busy timeout
 * (db_set_busy_timeout; DB_ERR_BUSY) is OP_EBUSY at once, since the wait was the bound the
 * connection's owner chose, and a unique violation or an input error is the body's answer.
 *
 * So a body may run more than once: it must have no effect outside the database that a second
 * run would repeat or trip over (files written before the transaction are fine), and it
 * starts from the same ctx each time: state it builds in ctx (counters, lists, out rows) is
 * reset at its start, and what it allocates there on a failed run is freed before it returns
 * the failure. On failure *e holds the last run's error. Must not be called inside a
 * transaction. */
typedef int (*db_write_fn)(struct db *db, void *ctx, struct op_err *e);
#define DB_WRITE_TRIES 5
int db_write(struct db *db, db_write_fn body, void *ctx, struct op_err *e);
/* For tests: the next n runs of a body that succeed end as if they had lost a race (rolled
 * back, run again), so a test proves an operation's body can run twice. */
void db_lose_races(struct db *db, int n);

/* db_read runs body(db, ctx, e) in a READ-ONLY transaction: every statement of the body sees
 * one snapshot of the database (what was committed when it began), and it takes no write lock,
 * so readers never wait for each other or for the writer, nor it for them (SQLite in WAL: a
 * deferred BEGIN with query_only; PostgreSQL: BEGIN ISOLATION LEVEL REPEATABLE READ READ
 * ONLY). A write inside fails (OP_EDB); the change feed may not be touched. The same rules as
 * db_write otherwise: a run that lost a race is run again (up to DB_WRITE_TRIES), db_lose_races
 * applies, the body must be re-runnable, never inside a transaction. For reads that must agree
 * with each other (a page of changes, its max seq and its digest) without serialising on the
 * write lock. */
int db_read(struct db *db, db_write_fn body, void *ctx, struct op_err *e);

/* How long a write waits for the write lock another connection holds before failing with
 * OP_EBUSY (SQLite's busy timeout; PostgreSQL's lock_timeout, which bounds the wait for the
 * advisory write lock). A connection starts with DB_BUSY_TIMEOUT_MS, what a command-line
 * run can afford; a server thread sets a short one (a few hundred ms) so that a busy database
 * comes back at once as "busy, retry" (HTTP 503 with Retry-After) instead of holding a thread
 * for seconds. ms >= 1; outside a transaction. 0 or OP_EDB. */
#define DB_BUSY_TIMEOUT_MS 10000
int db_set_busy_timeout(struct db *db, int ms, struct op_err *e);
/* 1 while a transaction is open on the connection. */
int db_in_transaction(struct db *db);

/* Savepoints inside a transaction, one level or nested: db_savepoint marks, then either
 * db_savepoint_rollback undoes what was written since the mark (and ends it), or
 * db_savepoint_release keeps it (and ends the mark). */
int db_savepoint(struct db *db, struct op_err *e);
int db_savepoint_rollback(struct db *db, struct op_err *e);
int db_savepoint_release(struct db *db, struct op_err *e);

/* State a module keeps in memory for the open transaction (the change feed's touched
 * records), with what the connection does with it: precommit runs inside the transaction just
 * before COMMIT (if it fails, the transaction is rolled back and db_commit returns its
 * error); mark and undo follow savepoints (mark returns how much state there is, undo(state,
 * mark) forgets what came after); end forgets the transaction's state after COMMIT or
 * ROLLBACK; release frees it when the connection closes. One per connection; db_tx_state
 * returns it (NULL before db_set_tx_state). */
struct db_tx_hooks {
    int (*precommit)(struct db *db, void *state, struct op_err *e);
    size_t (*mark)(void *state);
    void (*undo)(void *state, size_t mark);
    void (*end)(void *state);
    void (*release)(void *state);
};
void db_set_tx_state(struct db *db, const struct db_tx_hooks *hooks, void *state);
void *db_tx_state(struct db *db);

/* Fills *e from the connection's last error, prefixed with `what`; returns OP_EDB
 * (OP_ECONFLICT for a constraint violation, OP_EBUSY when another connection holds the lock
 * past the busy timeout or the transaction lost a race: DB_ERR_RETRY, which db_write
 * retries). */
int db_fail(struct db *db, struct op_err *e, const char *what);
/* The class of the connection's last error. */
enum db_errclass db_error_class(struct db *db);

/* Runs a statement that returns no rows, with no parameters (DDL). */
int db_exec(struct db *db, const char *sql, struct op_err *e);

/* The schema version the database is at. */
int db_schema_version(struct db *db);

/* A consistent copy of the whole database into the new file `dest` (made 0600; an existing
 * file is refused), taken while other connections go on writing: SQLite's online backup.
 * OP_EINPUT on a backend that has none (PostgreSQL: app/backup.c runs pg_dump). */
int db_backup_to_file(struct db *db, const char *dest, struct op_err *e);

/* SQLite's PRAGMA integrity_check: 0 when it says "ok", OP_EDB with its first finding
 * otherwise. 0 on a backend that has no such check (PostgreSQL checks its own pages). */
int db_check_integrity(struct db *db, struct op_err *e);

/* For the upgrade tests only (tests/unit/test_migrations.c): from now on db_open and
 * db_open_pgsql act as an outpost whose latest migration is `version` (0: an empty database,
 * no schema at all), so that a test builds a database at any past version through the real
 * open path, and one at a later version is refused as newer; -1 restores the real latest.
 * Process-wide and not thread-safe: set it while no database is being opened. */
void db_set_migration_limit(int version);

/* Binding, to ?idx (1-based); text and blobs are copied. */
void db_bind_null(struct db_stmt *st, int idx);
void db_bind_int64(struct db_stmt *st, int idx, int64_t v);
void db_bind_int(struct db_stmt *st, int idx, int v);
void db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t n);

/* Columns of the row db_step is on, 0-based: text (NULL for SQL NULL; valid until the next
 * step), integers (0 for SQL NULL), a blob and its length (valid until the next step). */
int db_column_is_null(struct db_stmt *st, int col);
const char *db_column_text(struct db_stmt *st, int col);
int64_t db_column_int64(struct db_stmt *st, int col);
int db_column_int(struct db_stmt *st, int col);
const void *db_column_blob(struct db_stmt *st, int col, size_t *len);

/* Binding helpers: NULL `s` binds SQL NULL; db_bind_texts binds the n strings of v to
 * ?first .. ?(first+n-1). */
int db_bind_text(struct db_stmt *st, int idx, const char *s);
/* The n bytes at s as text (not NUL-terminated; none of them NUL), copied. */
int db_bind_text_n(struct db_stmt *st, int idx, const char *s, size_t n);
void db_bind_texts(struct db_stmt *st, int first, const char *const *v, int n);

/* Column helpers: a malloc'ed copy of a text column (NULL for SQL NULL), or a copy into the
 * fixed buffer `dst` ("" for SQL NULL; a longer text is cut to fit). */
char *db_column_strdup(struct db_stmt *st, int col);
void db_column_copy(struct db_stmt *st, int col, char *dst, size_t cap);

/* Runs a statement that returns no rows, with ?1 = p1 and ?2 = p2 (NULL binds SQL NULL).
 * `what` names the operation in a database error. */
int db_run(struct db *db, const char *sql, const char *p1, const char *p2, const char *what,
           struct op_err *e);

/* Finds the one record labelled `label`: `sql` selects the records with ?1 as label, id in
 * the first column, ordered by id; read(st, out) fills *out from the first row. Fails with
 * OP_ENOTFOUND when none has the label and OP_EINPUT, listing their ids, when several do;
 * `noun` and `nouns` name the entity ("test center", "test centers"). On failure *out may
 * hold a row: the caller clears it. */
typedef void (*db_read_fn)(struct db_stmt *st, void *out);

/* Reads the first row `sql` selects with ?1 = key into *out with read(st, out): 0, or
 * OP_ENOTFOUND with *e untouched (the caller names what was missing), or a database error
 * naming `what`. */
int db_get_row(struct db *db, const char *sql, const char *key, db_read_fn read, void *out,
               const char *what, struct op_err *e);

int db_find_labelled(struct db *db, const char *sql, const char *label, const char *noun,
                     const char *nouns, db_read_fn read, void *out, struct op_err *e);

/* ---- Lists: keyset pages and cursors ----
 *
 * A list is read a page at a time, "up to N rows after key K" in the order of a unique key
 * (login; label then id; ...), so a page costs the same wherever it is, and rows inserted or
 * deleted between two pages never make one repeat or vanish. No statement stays open between
 * pages: a caller may run any query, or walk another list, while it walks one. */

#define DB_KEY_COLS 5    /* the most columns a sort key has */
#define DB_PAGE_MAX 1000 /* the most rows a page holds */

/* Where a page starts: after the row whose sort key is col[0..n-1]; n == 0 starts at the first
 * row. The strings are owned (db_key_clear). */
struct db_key {
    int n;
    char *col[DB_KEY_COLS];
};
void db_key_clear(struct db_key *k);
/* Sets *k to copies of the n strings of `cols` (a key a web page got back from the client). */
void db_key_set(struct db_key *k, int n, const char *const *cols);
/* Moves *src into *dst (clearing what *dst held first), leaving *src empty: how a caller
 * takes a page's next key before clearing the page. */
void db_key_move(struct db_key *dst, struct db_key *src);

/* What a list reads, defined once by the entity file (see users.c). `sql` takes ?1 and ?2 as
 * filters (NULL when unused), the key at ?3 .. ?(2+nkey), compared as a row value
 * "(a, b) > (?3, ?4)" so that an index on the key serves it (all "" on the first page: a key
 * is text, and never all empty), and
 * LIMIT ?(3+nkey); it orders by the key, a unique one, whose parts are the result columns
 * key_col[0..nkey-1]. read(st, row) fills a zeroed row of row_size bytes; clear(row) frees
 * it. */
struct db_list {
    const char *sql;
    int nkey;
    int key_col[DB_KEY_COLS];
    size_t row_size;
    db_read_fn read;
    void (*clear)(void *row);
    const char *what; /* "listing users", in a database error */
};

/* One page: n rows of the list's row type, `more` when rows follow, and `next`, the key to
 * ask for them. */
struct db_page {
    const struct db_list *list;
    void *rows;
    int n;
    int more;
    struct db_key next;
};

/* Reads up to `limit` (1 to DB_PAGE_MAX) rows of `l` after `after` (NULL: from the first)
 * into *out, which the caller clears with db_page_clear. OP_EINPUT for a bad limit or key. */
int db_page_read(struct db *db, const struct db_list *l, const char *f1, const char *f2,
                 const struct db_key *after, int limit, struct db_page *out, struct op_err *e);
void db_page_clear(struct db_page *p);

/* A cursor walks a whole list a page at a time:
 *     struct db_cursor c;
 *     users_cursor(&c, role);
 *     const void *row;
 *     while ((rc = db_cursor_next(db, &c, &row, e)) == 0 && row) { const struct user *u = row; }
 *     db_cursor_close(&c);
 * A row is valid until the next call. The filters are borrowed until db_cursor_close. */
struct db_cursor {
    const struct db_list *list;
    const char *f1, *f2;
    int page_size;
    struct db_page page;
    int pos; /* the next row of page */
    int started;
};
void db_cursor_open(struct db_cursor *c, const struct db_list *l, const char *f1, const char *f2,
                    int page_size);
int db_cursor_next(struct db *db, struct db_cursor *c, const void **row, struct op_err *e);
void db_cursor_close(struct db_cursor *c);

#endif
