/*
 * db_pgsql.c - the PostgreSQL backend of the storage interface (see db_backend.h): the one
 * file of src/ that calls libpq (PQ*); only tests that reach the server on purpose also do
 * (scripts/check-layers.sh names them: test_pg_server.c, test_pg_conninfo.c,
 * test_config_pgsql.c, and testutil.c, which creates and drops each test's database).
 *
 * A connection is one libpq connection, opened with a connection string that the instance
 * builds from setup.json's persistences.default (instance/config.h, pg_conninfo) with
 * sslmode=prefer and connect_timeout added here. It is never printed: it holds the password.
 *
 * SQL is the one text of the entity files; this file translates what PostgreSQL spells
 * otherwise, and nothing else:
 *  - placeholders ?N become $N (outside string literals, quoted names and comments);
 *  - in the schema (db_exec, which runs the migrations), the type names INTEGER, BLOB and TEXT
 *    become BIGINT (SQLite's integers are 64-bit, and sequence numbers and versions need it),
 *    BYTEA, and TEXT COLLATE "C" (so ORDER BY and keyset comparisons of text follow byte
 *    order, as on SQLite, whatever the database's locale);
 *  - a boolean column reads as 1 or 0 (db_column_int64 of "t" / "f").
 *
 * Statements: every statement is prepared on the server once (PQprepare, named "opN"), run
 * with PQexecPrepared, and deallocated when finalized (a private one, for a nested use, when
 * given back; a cached one when evicted or at close). Integers and text are sent as text, blobs in
 * binary; results come as text (bytea decoded by db_column_blob). The first db_step runs the
 * statement and fetches every row at once; later steps walk the result (lists are read in bounded
 * pages, db.h).
 *
 * Transactions: db_begin is BEGIN ISOLATION LEVEL READ COMMITTED followed, in the same round
 * trip, by pg_advisory_xact_lock(OP_WRITE_LOCK): one writer at a time, as on SQLite with BEGIN
 * IMMEDIATE. This keeps what the single writer gives SQLite on a shared server: change
 * sequence numbers are taken in commit order (a feed reader never misses a number below one
 * it has seen), and a record's set of organisations is computed from data no concurrent
 * writer changes. READ COMMITTED and not REPEATABLE READ or SERIALIZABLE on purpose: each
 * statement after the lock sees every transaction committed before the lock was granted,
 * whereas a snapshot taken when the transaction started would miss the previous writer's
 * commit. The lock is waited for up to lock_timeout (10 s, SQLite's busy wait; a server
 * thread sets a short one with db_set_busy_timeout), then the failure is DB_ERR_BUSY (SQLSTATE
 * 55P03); so are cancelled statements (57014). Serialization failures and deadlocks (40001,
 * 40P01) are DB_ERR_RETRY: the server undid the transaction, and db_write runs it again.
 * Readers take no lock.
 *
 * Threads: libpq is thread-safe as long as a PGconn is used by one thread at a time, which
 * db.h's "one connection per thread" gives; the one process-wide thing here, the round-trip
 * counter, is atomic.
 */
#include <libpq-fe.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "store/db_backend.h"

/* The advisory lock key every write transaction takes ("outpost" in ASCII). */
#define OP_WRITE_LOCK "31084848396784500"
#define LOCK_TIMEOUT  "10s" /* DB_BUSY_TIMEOUT_MS */
_Static_assert(DB_BUSY_TIMEOUT_MS == 10000, "LOCK_TIMEOUT spells DB_BUSY_TIMEOUT_MS");
#define CONNECT_TIMEOUT "10"
#define MAX_PARAMS      999 /* SQLite's default limit */
#define TEXT_OID        25  /* pg_type's oid of text */
/* The most requests sent in pipeline mode before their results are read: the server's
 * replies wait in the socket's buffers meanwhile, and must never fill them (the server would
 * block writing, stop reading, and the client block sending: a deadlock). 256 replies are a
 * few kilobytes. */
#define PIPELINE_MAX 256

struct pg_conn {
    PGconn *c;
    unsigned long next_name; /* the number of the next prepared statement's name */
    int64_t changes;
    int pending;   /* requests sent in pipeline mode whose results are not read yet */
    char state[6]; /* SQLSTATE of the last failure, "" when none came from the server */
    char *msg;     /* the last failure's message, malloc'ed */
};

struct pg_stmt {
    struct pg_conn *pc;
    char name[24]; /* "opN" on the server; "" when it failed to prepare */
    char *sql;     /* translated */
    int nparams;
    char **val;
    int *len;
    int *fmt;
    PGresult *res;
    int ran, row;
    unsigned char **blob; /* decoded bytea of the current row, per column */
    size_t *blob_len;
    int nblob;
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

static void set_error(struct pg_conn *pc, const char *state, const char *msg)
{
    snprintf(pc->state, sizeof pc->state, "%s", state ? state : "");
    free(pc->msg);
    pc->msg = strdup(msg && *msg ? msg : "unknown error");
    if (!pc->msg)
        abort();
    size_t n = strlen(pc->msg);
    while (n && (pc->msg[n - 1] == '\n' || pc->msg[n - 1] == ' '))
        pc->msg[--n] = '\0';
}

/* Keeps the failure `r` reports (or the connection's, when r is NULL). */
static void set_error_from(struct pg_conn *pc, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    set_error(pc, state, msg ? msg : PQerrorMessage(pc->c));
}

/* The result of a command that returns no rows: 0 and cleared, or -1 with the error kept. */
static int command_ok(struct pg_conn *pc, PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);
    int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        set_error_from(pc, r);
    PQclear(r);
    return ok ? 0 : -1;
}

/* ---- SQL translation ---- */

/* Copies the literal, quoted name or comment that starts at *p into b (when b is not NULL)
 * and advances *p past it; 0 when *p starts none. */
static int skip_quoted(const char **p, struct buf *b)
{
    const char *s = *p;
    if (*s == '\'' || *s == '"') {
        char q = *s;
        const char *t = s + 1;
        for (;;) {
            if (!*t)
                break;
            if (*t == q) {
                if (t[1] == q) { /* a doubled quote stays inside */
                    t += 2;
                    continue;
                }
                t++;
                break;
            }
            t++;
        }
        if (b)
            buf_append(b, s, (size_t)(t - s));
        *p = t;
        return 1;
    }
    if (s[0] == '-' && s[1] == '-') {
        const char *t = s + strcspn(s, "\n");
        if (b)
            buf_append(b, s, (size_t)(t - s));
        *p = t;
        return 1;
    }
    return 0;
}

/* `sql` with ?N spelt $N; *nparams the highest N; used[N - 1] set for each N that occurs
 * (`used` holds MAX_PARAMS). NULL for a bare ? (unnumbered). The caller frees the result. */
static char *translate_placeholders(const char *sql, int *nparams, unsigned char *used)
{
    struct buf b = BUF_INIT;
    *nparams = 0;
    const char *p = sql;
    while (*p) {
        if (skip_quoted(&p, &b))
            continue;
        if (*p == '?') {
            char *end;
            long n = strtol(p + 1, &end, 10);
            if (end == p + 1 || n < 1 || n > MAX_PARAMS) {
                buf_free(&b);
                return NULL;
            }
            if (n > *nparams)
                *nparams = (int)n;
            used[n - 1] = 1;
            buf_printf(&b, "$%ld", n);
            p = end;
            continue;
        }
        buf_append(&b, p++, 1);
    }
    return buf_detach(&b);
}

static int is_word_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* The schema's type names in PostgreSQL's spelling (see the top of the file). */
static char *translate_ddl(const char *sql)
{
    static const struct {
        const char *from, *to;
    } types[] = {
        {"INTEGER", "BIGINT"},
        {"BLOB", "BYTEA"},
        {"TEXT", "TEXT COLLATE \"C\""},
    };
    struct buf b = BUF_INIT;
    const char *p = sql;
    while (*p) {
        if (skip_quoted(&p, &b))
            continue;
        if (is_word_char(*p) && (p == sql || !is_word_char(p[-1]))) {
            size_t n = 0;
            while (is_word_char(p[n]))
                n++;
            const char *to = NULL;
            for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
                if (strlen(types[i].from) == n && memcmp(p, types[i].from, n) == 0)
                    to = types[i].to;
            if (to)
                buf_puts(&b, to);
            else
                buf_append(&b, p, n);
            p += n;
            continue;
        }
        buf_append(&b, p++, 1);
    }
    return buf_detach(&b);
}

/* ---- connection ---- */

static void note_changes(struct pg_conn *pc, PGresult *r);

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "relation already exists, skipping" and the like: not for the user */
}

/* Requests sent to the server by every connection of this process (db_pgsql_round_trips). */
static _Atomic uint64_t round_trips;

uint64_t db_pgsql_round_trips(void)
{
    return round_trips;
}

/* Collects the results of the requests sent in pipeline mode (pg_step_later, and the COMMIT
 * that follows them), in one round trip, and leaves pipeline mode: 0, or -1 with the first
 * failure kept (the server skipped the requests after it, COMMIT included). */
#define ABORTED_COMMIT "the transaction was aborted by an earlier error and rolled back"

/* A COMMIT whose status says ROLLBACK: the transaction had been aborted by an error. */
static int is_rollback(PGresult *r)
{
    return PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "ROLLBACK") == 0;
}

static int drain(struct pg_conn *pc)
{
    if (!pc->pending)
        return 0;
    pc->pending = 0;
    round_trips++;
    int rc = 0;
    if (PQpipelineSync(pc->c) != 1) {
        set_error_from(pc, NULL);
        rc = -1;
    }
    /* each request's results end with a NULL; the sync point ends them all; two NULLs in a row
     * mean nothing more will come (a broken connection) */
    for (int nulls = 0;;) {
        PGresult *r = PQgetResult(pc->c);
        if (!r) {
            if (++nulls == 2)
                break;
            continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (st == PGRES_COMMAND_OK && is_rollback(r) && rc == 0) {
            set_error(pc, "25P02", ABORTED_COMMIT);
            rc = -1;
        } else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            note_changes(pc, r);
        } else if (st != PGRES_PIPELINE_ABORTED && rc == 0) {
            set_error_from(pc, r);
            rc = -1;
        }
        PQclear(r);
    }
    if (PQexitPipelineMode(pc->c) != 1 && rc == 0) {
        set_error_from(pc, NULL);
        rc = -1;
    }
    return rc;
}

static int pg_run(struct pg_conn *pc, const char *sql)
{
    if (drain(pc) != 0)
        return -1;
    round_trips++;
    return command_ok(pc, PQexec(pc->c, sql));
}

static int pg_exec(void *conn, const char *sql)
{
    struct pg_conn *pc = conn;
    char *ddl = translate_ddl(sql);
    int rc = pg_run(pc, ddl);
    free(ddl);
    return rc;
}

static void pg_close(void *conn)
{
    struct pg_conn *pc = conn;
    if (!pc)
        return;
    PQfinish(pc->c);
    free(pc->msg);
    free(pc);
}

/* Opens the connection `conninfo` names, with sslmode=prefer and connect_timeout=10 unless it
 * names them (create is meaningless here: the database is made by its administrator; the
 * migrations create the schema in it). The message never holds conninfo. */
static int pg_open(const char *conninfo, int create, void **out, struct op_err *e)
{
    (void)create;
    *out = NULL;
    /* ours first: a keyword the caller's string names again wins (libpq keeps the last). The
     * string holds the password: made once at its exact size in guarded memory (no copy left
     * behind by a growing buffer), and wiped by sodium_free. */
    static const char fmt[] =
        "sslmode=prefer connect_timeout=" CONNECT_TIMEOUT " application_name=outpost %s";
    size_t n = (size_t)snprintf(NULL, 0, fmt, conninfo) + 1;
    char *ci = sodium_init() < 0 ? NULL : sodium_malloc(n); /* init: once, and idempotent */
    if (!ci)
        abort();
    snprintf(ci, n, fmt, conninfo);
    struct pg_conn *pc = xcalloc(1, sizeof *pc);
    pc->c = PQconnectdb(ci);
    sodium_free(ci);
    if (!pc->c)
        abort();
    if (PQstatus(pc->c) != CONNECTION_OK) {
        const char *why = PQerrorMessage(pc->c);
        int auth = strstr(why, "authentication failed") || strstr(why, "no password supplied") ||
                   strstr(why, "password authentication");
        /* libpq's message on one line: "...failed: Connection refused\n\tIs the server..." */
        struct buf msg = BUF_INIT;
        for (const char *p = why; *p; p++) {
            if (*p == '\n' || *p == '\t') {
                if (msg.len && msg.data[msg.len - 1] != ' ' && p[1] && p[1] != '\n')
                    buf_puts(&msg, *p == '\n' && p[1] == '\t' ? ";" : " ");
                if (msg.len && msg.data[msg.len - 1] == ';')
                    buf_puts(&msg, " ");
                continue;
            }
            buf_append(&msg, p, 1);
        }
        while (msg.len && msg.data[msg.len - 1] == ' ')
            msg.data[--msg.len] = '\0';
        if (!msg.data)
            buf_puts(&msg, "no reason given");
        if (auth)
            err_set(e, OP_EDB,
                    "PostgreSQL refused the login (%s): check `user` and the password in "
                    "`password-file` (or $PGPASSWORD)",
                    msg.data);
        else
            err_set(e, OP_EDB,
                    "cannot reach the PostgreSQL server (%s): check `host` and `port`, and that "
                    "the server runs and accepts connections",
                    msg.data);
        buf_free(&msg);
        pg_close(pc);
        return OP_EDB;
    }
    PQsetNoticeProcessor(pc->c, no_notices, NULL);
    /* jit off: our statements are short, and a plan whose estimate is high (a keyset page
     * over a filter PostgreSQL cannot size: the backoffice's users of an administrator) would
     * otherwise be compiled by LLVM first, 100 ms and more for a page read in 10 */
    if (pg_run(pc, "SET lock_timeout = '" LOCK_TIMEOUT "'; SET client_min_messages = warning;"
                   " SET TIME ZONE 'UTC'; SET jit = off") != 0) {
        err_set(e, OP_EDB, "PostgreSQL: setting up the connection: %s", pc->msg);
        pg_close(pc);
        return OP_EDB;
    }
    *out = pc;
    return 0;
}

/* ---- statements ---- */

static void pg_finalize(void *h);

static void clear_row(struct pg_stmt *st)
{
    for (int i = 0; i < st->nblob; i++) {
        PQfreemem(st->blob[i]);
        st->blob[i] = NULL;
    }
}

/* The N of "could not determine data type of parameter $N" (SQLSTATE 42P18, or 42P08 when
 * the uses disagree), or 0. */
static int indeterminate_param(const struct pg_conn *pc)
{
    if ((strcmp(pc->state, "42P18") != 0 && strcmp(pc->state, "42P08") != 0) || !pc->msg)
        return 0;
    const char *d = strrchr(pc->msg, '$');
    return d ? atoi(d + 1) : 0;
}

/* Prepares st on the server with the parameter types `types` (0: PostgreSQL infers it). A
 * parameter whose type nothing in the statement tells ("?1 IS NULL OR role = ?1" stops at
 * the first use) is retried as text, one at a time; inside a transaction each try runs under
 * a savepoint, since a failed statement would abort the transaction. */
static int prepare_on_server(struct pg_conn *pc, struct pg_stmt *st, Oid *types)
{
    if (drain(pc) != 0)
        return -1;
    for (int tries = 0; tries <= st->nparams; tries++) {
        int in_tx = PQtransactionStatus(pc->c) == PQTRANS_INTRANS;
        if (in_tx && pg_run(pc, "SAVEPOINT op_prepare") != 0)
            return -1;
        round_trips++;
        PGresult *r = PQprepare(pc->c, st->name, st->sql, st->nparams, types);
        int rc = command_ok(pc, r);
        if (in_tx) {
            char *state = strdup(pc->state), *msg = pc->msg ? strdup(pc->msg) : NULL;
            if (!state)
                abort();
            pg_run(pc, rc == 0 ? "RELEASE SAVEPOINT op_prepare"
                               : "ROLLBACK TO SAVEPOINT op_prepare; RELEASE SAVEPOINT op_prepare");
            if (rc != 0)
                set_error(pc, state, msg); /* the failure, not the savepoint's outcome */
            free(state);
            free(msg);
        }
        if (rc == 0)
            return 0;
        int n = indeterminate_param(pc);
        if (n < 1 || n > st->nparams || types[n - 1] == TEXT_OID)
            return -1;
        types[n - 1] = TEXT_OID;
    }
    return -1;
}

static void *pg_prepare(void *conn, const char *sql, int cached)
{
    struct pg_conn *pc = conn;
    int nparams;
    unsigned char used[MAX_PARAMS] = {0};
    char *text = translate_placeholders(sql, &nparams, used);
    if (!text) {
        set_error(pc, "", "a placeholder is not numbered (?1 .. ?N)");
        return NULL;
    }
    struct pg_stmt *st = xcalloc(1, sizeof *st);
    st->pc = pc;
    st->sql = text;
    st->nparams = nparams;
    st->val = xcalloc((size_t)nparams, sizeof *st->val);
    st->len = xcalloc((size_t)nparams, sizeof *st->len);
    st->fmt = xcalloc((size_t)nparams, sizeof *st->fmt);
    /* a private statement is prepared and named too (nested ones must not replace each
     * other as unnamed statements would), and deallocated when finalized */
    (void)cached;
    snprintf(st->name, sizeof st->name, "op%lu", ++pc->next_name);
    /* a parameter the SQL never names (a list's unused filter) is text: PostgreSQL would
     * refuse it as of no known type */
    Oid *types = xcalloc((size_t)nparams, sizeof *types);
    for (int i = 0; i < nparams; i++)
        types[i] = used[i] ? 0 : TEXT_OID;
    int rc = prepare_on_server(pc, st, types);
    free(types);
    if (rc != 0) {
        st->name[0] = '\0'; /* nothing to deallocate */
        pg_finalize(st);
        return NULL;
    }
    return st;
}

static void pg_reset(void *h)
{
    struct pg_stmt *st = h;
    clear_row(st);
    PQclear(st->res);
    st->res = NULL;
    st->ran = st->row = 0;
    for (int i = 0; i < st->nparams; i++) {
        free(st->val[i]);
        st->val[i] = NULL;
        st->len[i] = st->fmt[i] = 0;
    }
}

static void pg_finalize(void *h)
{
    struct pg_stmt *st = h;
    if (!st)
        return;
    pg_reset(st);
    if (st->name[0] && PQstatus(st->pc->c) == CONNECTION_OK &&
        PQtransactionStatus(st->pc->c) != PQTRANS_INERROR) {
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
        if (st->pc->pending) { /* joins the pipeline: its outcome comes with the rest */
            if (PQsendQueryParams(st->pc->c, sql, 0, NULL, NULL, NULL, NULL, 0) == 1)
                st->pc->pending++;
        } else {
            round_trips++;
            PQclear(PQexec(st->pc->c, sql)); /* a failure only leaves it until disconnection */
        }
    }
    free(st->blob);
    free(st->blob_len);
    free(st->val);
    free(st->len);
    free(st->fmt);
    free(st->sql);
    free(st);
}

/* Counts rows written, as the SQLite backend does: a SELECT leaves the count as it was. */
static void note_changes(struct pg_conn *pc, PGresult *r)
{
    const char *tag = PQcmdStatus(r);
    if (strncmp(tag, "INSERT", 6) == 0 || strncmp(tag, "UPDATE", 6) == 0 ||
        strncmp(tag, "DELETE", 6) == 0 || strncmp(tag, "MERGE", 5) == 0)
        pc->changes = strtoll(PQcmdTuples(r), NULL, 10);
}

static int pg_step(void *h)
{
    struct pg_stmt *st = h;
    struct pg_conn *pc = st->pc;
    clear_row(st);
    if (st->ran) {
        if (!st->res || st->row + 1 >= PQntuples(st->res)) {
            st->row = st->res ? PQntuples(st->res) : 0;
            return DB_DONE;
        }
        st->row++;
        return DB_ROW;
    }
    st->ran = 1;
    if (drain(pc) != 0)
        return DB_ERROR;
    const char *const *val = (const char *const *)st->val;
    round_trips++;
    st->res = PQexecPrepared(pc->c, st->name, st->nparams, val, st->len, st->fmt, 0);
    ExecStatusType s = PQresultStatus(st->res);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        set_error_from(pc, st->res);
        PQclear(st->res);
        st->res = NULL;
        return DB_ERROR;
    }
    note_changes(pc, st->res);
    int ncols = PQnfields(st->res);
    if (ncols > st->nblob) {
        free(st->blob);
        free(st->blob_len);
        st->blob = xcalloc((size_t)ncols, sizeof *st->blob);
        st->blob_len = xcalloc((size_t)ncols, sizeof *st->blob_len);
        st->nblob = ncols;
    }
    st->row = 0;
    return PQntuples(st->res) > 0 ? DB_ROW : DB_DONE;
}

/* Sends st in pipeline mode without waiting (see db_step_later): its outcome is read by drain,
 * with the connection's next request. */
static int pg_step_later(void *h)
{
    struct pg_stmt *st = h;
    struct pg_conn *pc = st->pc;
    clear_row(st);
    st->ran = 1;
    if (pc->pending >= PIPELINE_MAX && drain(pc) != 0)
        return -1;
    if (!pc->pending && PQenterPipelineMode(pc->c) != 1) {
        set_error_from(pc, NULL);
        return -1;
    }
    const char *const *val = (const char *const *)st->val;
    if (PQsendQueryPrepared(pc->c, st->name, st->nparams, val, st->len, st->fmt, 0) != 1) {
        set_error_from(pc, NULL);
        if (!pc->pending)
            PQexitPipelineMode(pc->c);
        return -1;
    }
    pc->pending++;
    return 0;
}

static int set_param(struct pg_stmt *st, int idx, char *v, int len, int fmt)
{
    if (idx < 1 || idx > st->nparams) {
        free(v);
        return -1;
    }
    free(st->val[idx - 1]);
    st->val[idx - 1] = v;
    st->len[idx - 1] = len;
    st->fmt[idx - 1] = fmt;
    return 0;
}

static int pg_bind_null(void *h, int idx)
{
    return set_param(h, idx, NULL, 0, 0);
}

static int pg_bind_text(void *h, int idx, const char *s)
{
    char *v = strdup(s);
    if (!v)
        abort();
    return set_param(h, idx, v, 0, 0);
}

static int pg_bind_text_n(void *h, int idx, const char *s, size_t n)
{
    char *v = xcalloc(n + 1, 1);
    memcpy(v, s, n);
    return set_param(h, idx, v, 0, 0);
}

static int pg_bind_int64(void *h, int idx, int64_t n)
{
    char *v = xcalloc(24, 1);
    snprintf(v, 24, "%lld", (long long)n);
    return set_param(h, idx, v, 0, 0);
}

static int pg_bind_blob(void *h, int idx, const void *p, size_t n)
{
    if (n > 0x7fffffff)
        return -1;
    char *v = xcalloc(n, 1);
    if (n)
        memcpy(v, p, n);
    return set_param(h, idx, v, (int)n, 1);
}

/* The current row's value of `col`, NULL for SQL NULL or no row. */
static const char *value(struct pg_stmt *st, int col)
{
    if (!st->res || st->row >= PQntuples(st->res) || col < 0 || col >= PQnfields(st->res) ||
        PQgetisnull(st->res, st->row, col))
        return NULL;
    return PQgetvalue(st->res, st->row, col);
}

static int pg_column_is_null(void *h, int col)
{
    return value(h, col) == NULL;
}

static const char *pg_column_text(void *h, int col)
{
    return value(h, col);
}

static int64_t pg_column_int64(void *h, int col)
{
    const char *v = value(h, col);
    if (!v)
        return 0;
    if (strcmp(v, "t") == 0)
        return 1;
    if (strcmp(v, "f") == 0)
        return 0;
    return strtoll(v, NULL, 10);
}

static const void *pg_column_blob(void *h, int col, size_t *n)
{
    struct pg_stmt *st = h;
    *n = 0;
    const char *v = value(st, col);
    if (!v)
        return NULL;
    if (!st->blob[col]) {
        size_t len = 0;
        st->blob[col] = PQunescapeBytea((const unsigned char *)v, &len);
        if (!st->blob[col])
            abort();
        st->blob_len[col] = len;
    }
    *n = st->blob_len[col];
    return st->blob[col];
}

static int64_t pg_changes(void *conn)
{
    return ((struct pg_conn *)conn)->changes;
}

static int pg_in_tx(void *conn)
{
    return PQtransactionStatus(((struct pg_conn *)conn)->c) != PQTRANS_IDLE;
}

static void pg_rollback(void *conn)
{
    struct pg_conn *pc = conn;
    drain(pc); /* what was sent is undone below */
    if (pg_in_tx(pc)) {
        round_trips++;
        PQclear(PQexec(pc->c, "ROLLBACK"));
    }
}

/* One round trip: the transaction and the write lock (see the top of the file). A lock not
 * granted in time leaves no transaction open, and its error (55P03, busy) kept. */
static int pg_begin(void *conn)
{
    struct pg_conn *pc = conn;
    if (pg_run(pc, "BEGIN ISOLATION LEVEL READ COMMITTED;"
                   " SELECT pg_advisory_xact_lock(" OP_WRITE_LOCK ")") == 0)
        return 0;
    pg_rollback(pc);
    return -1;
}

/* A read snapshot without the write lock: REPEATABLE READ takes one snapshot for the whole
 * transaction, READ ONLY refuses writes (25006); a read-only transaction never fails a
 * serialization check. Ended by a ROLLBACK: there is nothing to commit. */
static int pg_begin_read(void *conn)
{
    struct pg_conn *pc = conn;
    if (pg_run(pc, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") == 0)
        return 0;
    pg_rollback(pc);
    return -1;
}

static void pg_end_read(void *conn)
{
    pg_rollback(conn);
}

/* COMMIT; after statements sent with pg_step_later, in the same pipeline: one round trip.
 * COMMIT of a transaction an error aborted succeeds as a command and rolls back (its status
 * says "ROLLBACK"): that is a failure, never a commit (drain checks the pipelined one). */
static int pg_commit(void *conn)
{
    struct pg_conn *pc = conn;
    if (!pc->pending) {
        round_trips++;
        PGresult *r = PQexec(pc->c, "COMMIT");
        int rolled_back = is_rollback(r);
        if (command_ok(pc, r) != 0)
            return -1;
        if (rolled_back) {
            set_error(pc, "25P02", ABORTED_COMMIT);
            return -1;
        }
        return 0;
    }
    if (PQsendQueryParams(pc->c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) != 1) {
        set_error_from(pc, NULL);
        drain(pc);
        return -1;
    }
    pc->pending++;
    return drain(pc);
}

/* lock_timeout bounds the wait for the advisory write lock (and any row lock); a session
 * setting, so outside a transaction (a rollback would undo it). */
static int pg_set_busy_timeout(void *conn, int ms)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SET lock_timeout = %d", ms);
    return pg_run(conn, sql);
}

static enum db_errclass pg_error(void *conn, const char **msg)
{
    struct pg_conn *pc = conn;
    *msg = pc->msg ? pc->msg : "no error";
    const char *s = pc->state;
    if (strcmp(s, "23505") == 0)
        return DB_ERR_UNIQUE;
    if (strncmp(s, "23", 2) == 0)
        return DB_ERR_CONSTRAINT;
    if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
        return DB_ERR_RETRY;
    if (strcmp(s, "55P03") == 0 || strcmp(s, "57014") == 0)
        return DB_ERR_BUSY;
    return DB_ERR_OTHER;
}

const struct db_backend db_pgsql_backend = {
    .name = "pgsql",
    .remote = 1,
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .reset = pg_reset,
    .step = pg_step,
    .step_later = pg_step_later,
    .bind_null = pg_bind_null,
    .bind_text = pg_bind_text,
    .bind_text_n = pg_bind_text_n,
    .bind_int64 = pg_bind_int64,
    .bind_blob = pg_bind_blob,
    .column_is_null = pg_column_is_null,
    .column_text = pg_column_text,
    .column_int64 = pg_column_int64,
    .column_blob = pg_column_blob,
    .changes = pg_changes,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .begin_read = pg_begin_read,
    .end_read = pg_end_read,
    .in_tx = pg_in_tx,
    .set_busy_timeout = pg_set_busy_timeout,
    .error = pg_error,
};
