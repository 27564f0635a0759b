/*
 * db.c - the SQLite connection, statement cache, transactions and migrations runner, and
 * the small row helpers every entity file uses. See db.h for the invariants this file keeps.
 */
#include "store/db.h"

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

struct db {
    sqlite3 *conn;
    /* Prepared statements, found again by their SQL text (sqlite3_sql), never by the address of
     * the caller's string: a reused buffer must not get another statement's plan. */
    sqlite3_stmt *cache[STMT_CACHE_MAX];
    int ncache;
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

sqlite3_stmt *db_stmt(struct db *db, const char *sql, struct op_err *e)
{
    for (int i = 0; i < db->ncache; i++) {
        if (strcmp(sqlite3_sql(db->cache[i]), sql) == 0) {
            sqlite3_stmt *st = db->cache[i];
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        db_fail(db, e, "database: preparing a statement");
        return NULL;
    }
    if (db->ncache < STMT_CACHE_MAX) {
        db->cache[db->ncache++] = st;
    } else {
        /* Cache full: a programming error (more distinct statements than we expected). */
        sqlite3_finalize(st);
        err_set(e, OP_EDB, "database: statement cache full");
        return NULL;
    }
    return st;
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
    if (sqlite3_step(st) != SQLITE_ROW)
        return db_fail(db, e, "database: change sequence");
    *seq = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
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
    if (sqlite3_step(st) != SQLITE_DONE)
        return db_fail(db, e, what);
    return 0;
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
    sqlite3_reset(st);
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
    buf_free(&ids);
    return rc;
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
        if (sqlite3_step(st) != SQLITE_DONE) {
            db_fail(db, e, "migration bookkeeping");
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
    for (int i = 0; i < db->ncache; i++)
        sqlite3_finalize(db->cache[i]);
    sqlite3_close(db->conn);
    free(db);
}
