/*
 * db_sqlite.c - the SQLite backend of the storage interface (see db_backend.h): the one file
 * of the project that calls sqlite3_*.
 *
 * A connection is one database file, private to its owner (created 0600; an existing one
 * that group or others can read is refused), in WAL mode with foreign keys on and full
 * synchronous commits. A busy database is waited for up to the busy timeout (10 s,
 * DB_BUSY_TIMEOUT_MS, until db_set_busy_timeout changes it), then reported as DB_ERR_BUSY.
 * Transactions are BEGIN IMMEDIATE: the write lock is taken at the start, so a transaction
 * never fails half-way because another process writes. A stale snapshot (SQLITE_BUSY_SNAPSHOT:
 * a read transaction that another connection's commit overtook before it could write) is
 * DB_ERR_RETRY: SQLite returns it at once, without waiting, and only running the transaction
 * again gets past it. A connection is opened SQLITE_OPEN_NOMUTEX: it belongs to one thread at
 * a time (db.h, "Threads"), so SQLite's per-connection mutex would only cost.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/db_backend.h"

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

static int sq_exec(void *conn, const char *sql)
{
    return sqlite3_exec(conn, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int sq_open(const char *path, int create, void **out, struct op_err *e)
{
    *out = NULL;
    int in_memory = path[0] == '\0' || strcmp(path, ":memory:") == 0;
    if (!in_memory && (create ? create_private(path, e) : check_private(path, e)) != 0)
        return e->code;
    sqlite3 *conn = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &conn, flags, NULL) != SQLITE_OK) {
        err_set(e, OP_EDB, "%s: cannot open database: %s", path,
                conn ? sqlite3_errmsg(conn) : "out of memory");
        sqlite3_close(conn);
        return OP_EDB;
    }
    sqlite3_busy_timeout(conn, DB_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(conn, 1);
    const char *setup[] = {"PRAGMA journal_mode = WAL", "PRAGMA foreign_keys = ON",
                           "PRAGMA synchronous = FULL"};
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++) {
        if (sq_exec(conn, setup[i]) != 0) {
            err_set(e, OP_EDB, "%s: database: %s", path, sqlite3_errmsg(conn));
            sqlite3_close(conn);
            return OP_EDB;
        }
    }
    *out = conn;
    return 0;
}

static void writer_give(void *conn); /* below, with the writers' queue */

static void sq_close(void *conn)
{
    writer_give(conn);
    sqlite3_close(conn);
}

static void *sq_prepare(void *conn, const char *sql, int cached)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(conn, sql, -1, cached ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static void sq_finalize(void *h)
{
    sqlite3_finalize(h);
}

static void sq_reset(void *h)
{
    sqlite3_reset(h);
    sqlite3_clear_bindings(h);
}

static int sq_step(void *h)
{
    int rc = sqlite3_step(h);
    return rc == SQLITE_ROW ? DB_ROW : rc == SQLITE_DONE ? DB_DONE : DB_ERROR;
}

static int sq_bind_null(void *h, int idx)
{
    return sqlite3_bind_null(h, idx) == SQLITE_OK ? 0 : -1;
}

static int sq_bind_text(void *h, int idx, const char *s)
{
    return sqlite3_bind_text(h, idx, s, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
}

static int sq_bind_text_n(void *h, int idx, const char *s, size_t n)
{
    return sqlite3_bind_text64(h, idx, s, n, SQLITE_TRANSIENT, SQLITE_UTF8) == SQLITE_OK ? 0 : -1;
}

static int sq_bind_int64(void *h, int idx, int64_t v)
{
    return sqlite3_bind_int64(h, idx, v) == SQLITE_OK ? 0 : -1;
}

static int sq_bind_blob(void *h, int idx, const void *p, size_t n)
{
    return sqlite3_bind_blob64(h, idx, p, n, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
}

static int sq_column_is_null(void *h, int col)
{
    return sqlite3_column_type(h, col) == SQLITE_NULL;
}

static const char *sq_column_text(void *h, int col)
{
    return (const char *)sqlite3_column_text(h, col);
}

static int64_t sq_column_int64(void *h, int col)
{
    return sqlite3_column_int64(h, col);
}

static const void *sq_column_blob(void *h, int col, size_t *n)
{
    const void *p = sqlite3_column_blob(h, col); /* before _bytes, as SQLite asks */
    *n = (size_t)sqlite3_column_bytes(h, col);
    return p;
}

static int64_t sq_changes(void *conn)
{
    return sqlite3_changes64(conn);
}

/* ---- the writers of one process queue ----
 * SQLite lets one writer at a time have a file; the others poll for the lock with sleeps that
 * grow to 100 ms (its busy handler), so under many writers of one process (the server's
 * threads: test takers' answers, the sync button) a writer can miss its turn past a short
 * busy timeout although every transaction is short. Writers of this process to one file
 * therefore wait in turn on a mutex before BEGIN IMMEDIATE: no polling, no 503 for a queue of
 * short transactions. The wait is bounded by the connection's busy timeout: past it, BEGIN
 * IMMEDIATE runs anyway and SQLite's busy handling decides, as for another process (cron's
 * `outpost sync`), so a server thread still answers 503 in about its short timeout.
 * A thread that already holds a file's mutex (a second connection to the same file inside
 * its transaction, as some tests do) does not wait on it again. */
#define WRITER_FILES 16
#define WRITER_HELD  4

struct writer_file {
    char *path;
    pthread_mutex_t mutex;
};
static struct writer_file writer_files[WRITER_FILES];
static int n_writer_files;
static pthread_mutex_t writer_files_lock = PTHREAD_MUTEX_INITIALIZER;

/* The mutexes this thread holds, with the connection that holds each. */
static __thread struct {
    void *conn;
    pthread_mutex_t *mutex;
} writer_held[WRITER_HELD];
static __thread int n_writer_held;

/* The mutex of the connection's file (NULL for an in-memory database or a full table). */
static pthread_mutex_t *writer_mutex(void *conn)
{
    const char *path = sqlite3_db_filename(conn, "main");
    if (!path || !*path)
        return NULL;
    pthread_mutex_t *m = NULL;
    pthread_mutex_lock(&writer_files_lock);
    for (int i = 0; i < n_writer_files && !m; i++)
        if (strcmp(writer_files[i].path, path) == 0)
            m = &writer_files[i].mutex;
    if (!m && n_writer_files < WRITER_FILES) {
        struct writer_file *f = &writer_files[n_writer_files];
        if ((f->path = strdup(path)) != NULL) { /* kept for the life of the process */
            pthread_mutex_init(&f->mutex, NULL);
            m = &f->mutex;
            n_writer_files++;
        }
    }
    pthread_mutex_unlock(&writer_files_lock);
    return m;
}

/* The connection's busy timeout (PRAGMA busy_timeout reads it back). */
static long busy_timeout_ms(void *conn)
{
    sqlite3_stmt *st = NULL;
    long ms = 0;
    if (sqlite3_prepare_v2(conn, "PRAGMA busy_timeout", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        ms = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return ms;
}

static void writer_take(void *conn)
{
    pthread_mutex_t *m = writer_mutex(conn);
    if (!m || n_writer_held == WRITER_HELD)
        return;
    for (int i = 0; i < n_writer_held; i++)
        if (writer_held[i].mutex == m)
            return;
    long ms = busy_timeout_ms(conn);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (pthread_mutex_timedlock(m, &until) != 0)
        return;
    writer_held[n_writer_held].conn = conn;
    writer_held[n_writer_held].mutex = m;
    n_writer_held++;
}

static void writer_give(void *conn)
{
    for (int i = 0; i < n_writer_held; i++)
        if (writer_held[i].conn == conn) {
            pthread_mutex_unlock(writer_held[i].mutex);
            writer_held[i] = writer_held[--n_writer_held];
            return;
        }
}

static int sq_in_tx(void *conn)
{
    return !sqlite3_get_autocommit(conn);
}

static int sq_begin(void *conn)
{
    writer_take(conn);
    int rc = sq_exec(conn, "BEGIN IMMEDIATE");
    if (rc != 0)
        writer_give(conn);
    return rc;
}

static int sq_commit(void *conn)
{
    int rc = sq_exec(conn, "COMMIT");
    if (!sq_in_tx(conn))
        writer_give(conn);
    return rc;
}

static void sq_rollback(void *conn)
{
    if (sq_in_tx(conn))
        sqlite3_exec(conn, "ROLLBACK", NULL, NULL, NULL);
    writer_give(conn);
}

/* query_only makes a write in a read transaction fail (SQLITE_READONLY) instead of taking the
 * write lock; it is the connection's, so end_read turns it off again. */
static int sq_begin_read(void *conn)
{
    if (sq_exec(conn, "BEGIN DEFERRED") != 0)
        return -1;
    if (sq_exec(conn, "PRAGMA query_only = 1") == 0)
        return 0;
    sqlite3_exec(conn, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static void sq_end_read(void *conn)
{
    sq_rollback(conn);
    sqlite3_exec(conn, "PRAGMA query_only = 0", NULL, NULL, NULL);
}

static int sq_set_busy_timeout(void *conn, int ms)
{
    return sqlite3_busy_timeout(conn, ms) == SQLITE_OK ? 0 : -1;
}

static enum db_errclass sq_error(void *conn, const char **msg)
{
    int rc = sqlite3_extended_errcode(conn);
    *msg = sqlite3_errmsg(conn);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return DB_ERR_UNIQUE;
    if (rc == SQLITE_BUSY_SNAPSHOT)
        return DB_ERR_RETRY;
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        return DB_ERR_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DB_ERR_BUSY;
    default:
        return DB_ERR_OTHER;
    }
}

/* SQLite's online backup of the whole database in one step: it reads one snapshot (in WAL mode
 * writers go on meanwhile) and writes it into `dest`, a new file made private first. */
static int sq_backup_to(void *conn, const char *dest, char *msg, size_t cap)
{
    int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(msg, cap, "%s: cannot create it: %s", dest, strerror(errno));
        return -1;
    }
    close(fd);
    sqlite3 *to = NULL;
    int rc = sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE, NULL);
    sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(to, "main", conn, "main") : NULL;
    if (b) {
        rc = sqlite3_backup_step(b, -1);
        int fin = sqlite3_backup_finish(b);
        if (rc == SQLITE_DONE)
            rc = fin;
    }
    if (!b || rc != SQLITE_OK)
        snprintf(msg, cap, "%s: the backup failed: %s", dest,
                 to ? sqlite3_errmsg(to) : sqlite3_errstr(rc));
    if (sqlite3_close(to) != SQLITE_OK && b && rc == SQLITE_OK) {
        snprintf(msg, cap, "%s: closing the backup failed", dest);
        rc = SQLITE_ERROR;
    }
    return b && rc == SQLITE_OK ? 0 : -1;
}

const struct db_backend db_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .reset = sq_reset,
    .step = sq_step,
    .bind_null = sq_bind_null,
    .bind_text = sq_bind_text,
    .bind_text_n = sq_bind_text_n,
    .bind_int64 = sq_bind_int64,
    .bind_blob = sq_bind_blob,
    .column_is_null = sq_column_is_null,
    .column_text = sq_column_text,
    .column_int64 = sq_column_int64,
    .column_blob = sq_column_blob,
    .changes = sq_changes,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .begin_read = sq_begin_read,
    .end_read = sq_end_read,
    .in_tx = sq_in_tx,
    .set_busy_timeout = sq_set_busy_timeout,
    .error = sq_error,
    .backup_to = sq_backup_to,
};
