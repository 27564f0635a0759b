/*
 * db_backend.h - what a storage backend provides to db.c (private to src/store/db*.c).
 *
 * db.c is backend-neutral: the statement cache, transactions and savepoints, paging and the
 * row helpers. Everything that talks to a database library sits behind one struct db_backend,
 * chosen when the connection is opened: db_sqlite.c (the only file that calls into SQLite) and
 * db_pgsql.c (the only file to call PQ*). A backend works on its own opaque
 * connection (`void *conn`) and statement (`void *h`) handles; db.c wraps the statement in a
 * struct db_stmt that also knows its connection and SQL text, for the cache.
 *
 * SQL text: placeholders are numbered, ?1 .. ?N (SQLite's spelling); a backend whose library
 * wants another spelling ($1 on PostgreSQL) translates when it prepares. Time never comes
 * from SQL: callers bind timestamp_now().
 *
 * Errors: a backend call that fails returns DB_ERROR (or -1 / NULL) and keeps the reason on
 * the connection, read back with `error` (a backend-neutral class and the library's
 * message), which db_fail turns into an OP_E* code. DB_ERR_RETRY is only for a failure
 * after which the transaction is undone (or must be) and running it again from the start may
 * succeed; a lock wait that ran out is DB_ERR_BUSY (the wait was the bound).
 */
#ifndef OUTPOST_STORE_DB_BACKEND_H
#define OUTPOST_STORE_DB_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/db.h"

struct db_backend {
    const char *name; /* "sqlite", "pgsql" */
    int remote;       /* each request is a round trip to a server (db_is_remote) */
    /* Opens the database named by `target` (a path for SQLite, a libpq connection string for
     * PostgreSQL), creating it when `create` (SQLite only);
     * sets up the connection (journal, foreign keys, timeouts). 0, or an OP_E* code with *e
     * filled. */
    int (*open)(const char *target, int create, void **conn, struct op_err *e);
    void (*close)(void *conn);
    /* Runs SQL that returns no rows and takes no parameters (may hold several statements):
     * 0 or -1. */
    int (*exec)(void *conn, const char *sql);
    /* Prepares one statement; `cached` says it will be reused many times. NULL on failure. */
    void *(*prepare)(void *conn, const char *sql, int cached);
    void (*finalize)(void *h);
    /* Makes `h` ready to run again from the start, with no bindings. */
    void (*reset)(void *h);
    int (*step)(void *h); /* DB_ROW, DB_DONE or DB_ERROR */
    /* Optional (NULL: db.c steps at once): sends `h`, a statement that returns no rows,
     * without waiting for its outcome, which the connection's next request collects (the
     * COMMIT, in the same round trip). 0, or -1 when it could not be sent. */
    int (*step_later)(void *h);
    /* Binding, 1-based: 0 or -1. Text and blobs are copied. */
    int (*bind_null)(void *h, int idx);
    int (*bind_text)(void *h, int idx, const char *s);
    int (*bind_text_n)(void *h, int idx, const char *s, size_t n); /* n bytes, no NUL among them */
    int (*bind_int64)(void *h, int idx, int64_t v);
    int (*bind_blob)(void *h, int idx, const void *p, size_t n);
    /* Columns of the current row, 0-based; pointers valid until the next step or reset. */
    int (*column_is_null)(void *h, int col);
    const char *(*column_text)(void *h, int col);
    int64_t (*column_int64)(void *h, int col);
    const void *(*column_blob)(void *h, int col, size_t *n);
    /* Rows changed by the last statement that wrote. */
    int64_t (*changes)(void *conn);
    /* Transactions: begin takes the write lock at once (so a transaction never fails
     * half-way for a lock another writer holds); 0 or -1. in_tx is 1 while one is open. */
    int (*begin)(void *conn);
    int (*commit)(void *conn);
    void (*rollback)(void *conn);
    int (*in_tx)(void *conn);
    /* A read-only transaction (db_read): begin_read opens it with one snapshot for all its
     * statements and takes no write lock (SQLite: a deferred BEGIN, its snapshot taken by the
     * first read, in WAL; PostgreSQL: REPEATABLE READ READ ONLY), a write inside fails;
     * end_read ends it (nothing to commit) and restores the connection. 0 or -1. */
    int (*begin_read)(void *conn);
    void (*end_read)(void *conn);
    /* How long to wait for a lock another connection holds (db_set_busy_timeout), ms >= 1;
     * outside a transaction. 0 or -1. */
    int (*set_busy_timeout)(void *conn, int ms);
    /* The last failure on the connection: its class and message. */
    enum db_errclass (*error)(void *conn, const char **msg);
    /* Optional (NULL: not offered by this backend): copies the whole database, one consistent
     * snapshot, into the new file `dest` while other connections go on (db_backup_to_file).
     * 0, or -1 with the reason in msg (msg_cap bytes). */
    int (*backup_to)(void *conn, const char *dest, char *msg, size_t msg_cap);
};

extern const struct db_backend db_sqlite_backend;
extern const struct db_backend db_pgsql_backend;

#endif
