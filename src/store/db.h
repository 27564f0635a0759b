/*
 * db.h - the storage interface: one SQLite connection per process, in WAL mode with foreign
 * keys on, migrated to the latest schema when opened.
 *
 * Invariants:
 *  - every write happens between db_begin() and db_commit(); a failure calls db_rollback(),
 *    so a crash or an error leaves the database as it was before the command;
 *  - SQL is only ever built from literals; values go in with sqlite3_bind_*;
 *  - statements are prepared once per connection (db_stmt caches them by their SQL text);
 *  - SQL dates a row with op_now() (the process clock of base/clock.h, which a test can fix),
 *    never with SQLite's own 'now'.
 * The schema (migrations.c) sticks to SQL that PostgreSQL also accepts, so a postgres driver
 * can implement this interface later.
 */
#ifndef OUTPOST_STORE_DB_H
#define OUTPOST_STORE_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct db;

/* Opens (creating if `create`, mode 0600) the database at `path` and applies pending
 * migrations. An existing database that group or others can read is refused (OP_ESTATE,
 * naming `chmod 600`). */
int db_open(const char *path, int create, struct db **out, struct op_err *e);
void db_close(struct db *db);

sqlite3 *db_sqlite(struct db *db);

/* Returns the cached prepared statement for `sql`, reset and with bindings cleared, or NULL
 * with *e filled. The statement belongs to the connection: do not finalize it. */
sqlite3_stmt *db_stmt(struct db *db, const char *sql, struct op_err *e);

/* BEGIN IMMEDIATE (takes the write lock now, so a transaction never fails half-way on
 * SQLITE_BUSY), COMMIT, ROLLBACK. db_rollback is safe to call when no transaction is open. */
int db_begin(struct db *db, struct op_err *e);
int db_commit(struct db *db, struct op_err *e);
void db_rollback(struct db *db);
/* Ends the transaction db_begin opened after work that returned `rc`: commits when rc is 0
 * (returning the commit's status), else rolls back and returns rc. */
int db_commit_if(struct db *db, int rc, struct op_err *e);

/* A function db_commit runs inside the transaction just before COMMIT (the change feed uses
 * it to bring every record touched by the transaction up to date once). If it fails, the
 * transaction is rolled back and db_commit returns its error. One per connection. */
typedef int (*db_precommit_fn)(struct db *db, struct op_err *e);
void db_set_precommit(struct db *db, db_precommit_fn fn);

/* Fills *e from the connection's last error, prefixed with `what`; returns OP_EDB
 * (OP_ECONFLICT for a constraint violation, OP_EBUSY when another connection holds the lock
 * past the busy timeout). */
int db_fail(struct db *db, struct op_err *e, const char *what);

/* Runs a statement that returns no rows, with no parameters (DDL, PRAGMA). */
int db_exec(struct db *db, const char *sql, struct op_err *e);

/* Takes the next value of the change sequence (a global monotonic counter; see feed.h). Must
 * be called inside a transaction. */
int db_next_seq(struct db *db, int64_t *seq, struct op_err *e);

/* The schema version the database is at. */
int db_schema_version(struct db *db);

/* Binding helpers: NULL `s` binds SQL NULL. */
int db_bind_text(sqlite3_stmt *st, int idx, const char *s);

/* Column helpers: a malloc'ed copy of a text column (NULL for SQL NULL), or a copy into the
 * fixed buffer `dst` ("" for SQL NULL; a longer text is cut to fit). */
char *db_column_strdup(sqlite3_stmt *st, int col);
void db_column_copy(sqlite3_stmt *st, int col, char *dst, size_t cap);

/* Runs a statement that returns no rows, with ?1 = p1 and ?2 = p2 (NULL binds SQL NULL).
 * `what` names the operation in a database error. */
int db_run(struct db *db, const char *sql, const char *p1, const char *p2, const char *what,
           struct op_err *e);

/* Finds the one record labelled `label`: `sql` selects the records with ?1 as label, id in
 * the first column, ordered by id; read(st, out) fills *out from the first row. Fails with
 * OP_ENOTFOUND when none has the label and OP_EINPUT, listing their ids, when several do;
 * `noun` and `nouns` name the entity ("test center", "test centers"). On failure *out may
 * hold a row: the caller clears it. */
typedef void (*db_read_fn)(sqlite3_stmt *st, void *out);
int db_find_labelled(struct db *db, const char *sql, const char *label, const char *noun,
                     const char *nouns, db_read_fn read, void *out, struct op_err *e);

#endif
