/*
 * bench_store.c - the store on SQLite and on PostgreSQL in the same run, each operation
 * against its bare limit (bare SQLite, bare libpq) measured in the same run:
 *
 *   insert  N test takers with users_insert in one transaction (pre-computed password
 *           records: the Argon2id cost is bench_import_users' subject), against N prepared
 *           INSERTs of the same rows in one transaction;
 *   feed    the whole feed of an organisation whose one center makes the N test takers
 *           eligible (N + 3 records), read with feed_read in pages of 500, against the same
 *           SELECT run page by page;
 *   edits   N/10 single-record edits (users_update of a label, each in its own transaction:
 *           db_begin, update, db_commit, which refreshes the record's feed rows), against
 *           BEGIN, one prepared UPDATE, COMMIT.
 *
 * PostgreSQL: the server that the PG* environment variables name (bench/run.sh starts a
 * throw-away one with tests/tools/pg_tmp.sh and sets them); the program creates (and drops)
 * the databases bench_outpost and bench_bare on it. Without PGHOST it says so and runs SQLite
 * only. Round trips per operation are counted by db_pgsql_round_trips() for outpost and by
 * the program itself for bare libpq.
 *
 * usage: bench_store            (N = 10000; BENCH_STORE_N=1000 for a quick check)
 */
#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fs.h"
#include "store/db.h"
#include "store/deliveries.h"
#include "store/eligibilities.h"
#include "store/feed.h"
#include "store/testcenters.h"
#include "store/users.h"

#define PAGE 500
#define ORG  "org-bench"
#define HASH "$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x"
#define TS   "2026-12-06T00:00:00.000Z"

static int n_rows = 10000, n_edits = 1000;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, msg);
    exit(1);
}

static void check(int rc, const struct op_err *e)
{
    if (rc != 0)
        die("outpost", e->msg);
}

struct figures {
    double insert, feed, edits;         /* seconds */
    double rt_insert, rt_feed, rt_edit; /* round trips per row, per page, per edit */
};

/* ---- outpost, through the store ---------------------------------------------------------- */

static void outpost_run(struct db *db, int pg, struct figures *f)
{
    struct op_err e = {0};
    char(*ids)[UUID_STR_LEN] = calloc((size_t)n_rows, UUID_STR_LEN);
    if (!ids)
        abort();
    uint64_t rt0 = db_pgsql_round_trips();
    double t0 = now();
    check(db_begin(db, &e), &e);
    for (int i = 0; i < n_rows; i++) {
        struct user u;
        memset(&u, 0, sizeof u);
        char login[32];
        snprintf(login, sizeof login, "tt%06d", i);
        u.login = login;
        u.role = (char *)ROLE_TEST_TAKER;
        u.password_hash = (char *)HASH;
        check(users_insert(db, &u, &e), &e);
        memcpy(ids[i], u.id, UUID_STR_LEN);
    }
    check(db_commit(db, &e), &e);
    f->insert = now() - t0;
    f->rt_insert = pg ? (double)(db_pgsql_round_trips() - rt0) / n_rows : 0;

    /* the organisation: one center, one delivery, every test taker eligible (not timed) */
    check(db_begin(db, &e), &e);
    struct test_center c;
    memset(&c, 0, sizeof c);
    c.label = (char *)"Bench center";
    c.org_id = (char *)ORG;
    check(testcenters_insert(db, &c, &e), &e);
    struct delivery d;
    memset(&d, 0, sizeof d);
    d.label = (char *)"Bench delivery";
    check(deliveries_insert(db, &d, &e), &e);
    const char **uids = malloc((size_t)n_rows * sizeof *uids);
    if (!uids)
        abort();
    for (int i = 0; i < n_rows; i++)
        uids[i] = ids[i];
    check(eligibilities_set(db, c.id, d.id, uids, n_rows, 1, NULL, NULL, &e), &e);
    check(db_commit(db, &e), &e);
    free(uids);

    /* the feed, fastest of 3 reads */
    struct feed_change *page = calloc(PAGE, sizeof *page);
    if (!page)
        abort();
    f->feed = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        rt0 = db_pgsql_round_trips();
        t0 = now();
        int64_t since = 0;
        int total = 0, pages = 0, n;
        do {
            check(feed_read(db, ORG, since, PAGE, page, &n, &e), &e);
            pages++;
            total += n;
            if (n > 0)
                since = page[n - 1].seq;
        } while (n == PAGE);
        double dt = now() - t0;
        if (dt < f->feed)
            f->feed = dt;
        if (total != n_rows + 3)
            die("outpost feed", "not every record of the organisation was read");
        f->rt_feed = pg ? (double)(db_pgsql_round_trips() - rt0) / pages : 0;
    }
    free(page);

    /* the edits: versions read first (not timed), as an editor has them from its form */
    int64_t *ver = malloc((size_t)n_edits * sizeof *ver);
    if (!ver)
        abort();
    for (int i = 0; i < n_edits; i++) {
        struct user u;
        memset(&u, 0, sizeof u);
        check(users_get_by_id(db, ids[i], &u, &e), &e);
        ver[i] = u.version;
        user_clear(&u);
    }
    rt0 = db_pgsql_round_trips();
    t0 = now();
    for (int i = 0; i < n_edits; i++) {
        char label[32];
        snprintf(label, sizeof label, "Edited %d", i);
        struct user_changes ch;
        memset(&ch, 0, sizeof ch);
        ch.set = USER_SET_LABEL;
        ch.label = label;
        check(db_begin(db, &e), &e);
        check(users_update(db, ids[i], ver[i], &ch, NULL, &e), &e);
        check(db_commit(db, &e), &e);
    }
    f->edits = now() - t0;
    f->rt_edit = pg ? (double)(db_pgsql_round_trips() - rt0) / n_edits : 0;
    free(ver);
    free(ids);
}

/* ---- the same shapes, bare ---------------------------------------------------------------- */

#define SQL_INSERT                                                                                 \
    "INSERT INTO users (id, login, role, password_hash, updated_at, created_at, version)"          \
    " VALUES ($1, $2, 'test-taker', $3, $4, $4, 1)"
#define SQL_FEED                                                                                   \
    "SELECT seq, entity, entity_id, version, deleted FROM sync_feed"                               \
    " WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
#define SQL_UPDATE                                                                                 \
    "UPDATE users SET label = $1, version = version + 1, updated_at = $2"                          \
    " WHERE id = $3 AND version = $4"

static void bare_id(char *id, int i)
{
    snprintf(id, UUID_STR_LEN, "00000000-0000-4000-8000-%012d", i);
}

static void sq_ok(sqlite3 *s, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        die(what, sqlite3_errmsg(s));
}

static sqlite3_stmt *sq_prepare(sqlite3 *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    sq_ok(s, sqlite3_prepare_v2(s, sql, -1, &st, NULL), sql);
    return st;
}

/* bare SQLite: inserts and edits in `bare` (the schema, empty), the feed read in `full` (the
 * file outpost filled) */
static void sqlite_bare(const char *bare, const char *full, struct figures *f)
{
    sqlite3 *s = NULL;
    if (sqlite3_open_v2(bare, &s, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die(bare, sqlite3_errmsg(s));
    sqlite3_exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL", NULL, NULL, NULL);
    char id[UUID_STR_LEN], text[32];
    double t0 = now();
    sq_ok(s, sqlite3_exec(s, "BEGIN IMMEDIATE", NULL, NULL, NULL), "BEGIN");
    sqlite3_stmt *ins = sq_prepare(s, SQL_INSERT);
    for (int i = 0; i < n_rows; i++) {
        bare_id(id, i);
        snprintf(text, sizeof text, "tt%06d", i);
        sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, text, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, HASH, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, TS, -1, SQLITE_STATIC);
        sq_ok(s, sqlite3_step(ins), "INSERT");
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    sq_ok(s, sqlite3_exec(s, "COMMIT", NULL, NULL, NULL), "COMMIT");
    f->insert = now() - t0;

    sqlite3_stmt *up = sq_prepare(s, SQL_UPDATE);
    t0 = now();
    for (int i = 0; i < n_edits; i++) {
        bare_id(id, i);
        snprintf(text, sizeof text, "Edited %d", i);
        sq_ok(s, sqlite3_exec(s, "BEGIN IMMEDIATE", NULL, NULL, NULL), "BEGIN");
        sqlite3_bind_text(up, 1, text, -1, SQLITE_STATIC);
        sqlite3_bind_text(up, 2, TS, -1, SQLITE_STATIC);
        sqlite3_bind_text(up, 3, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(up, 4, 1);
        sq_ok(s, sqlite3_step(up), "UPDATE");
        if (sqlite3_changes(s) != 1)
            die("bare UPDATE", "no row");
        sqlite3_reset(up);
        sq_ok(s, sqlite3_exec(s, "COMMIT", NULL, NULL, NULL), "COMMIT");
    }
    f->edits = now() - t0;
    sqlite3_finalize(up);
    sqlite3_close(s);

    if (sqlite3_open_v2(full, &s, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die(full, sqlite3_errmsg(s));
    sqlite3_stmt *sel = sq_prepare(s, SQL_FEED);
    f->feed = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        t0 = now();
        int64_t since = 0;
        int n, total = 0;
        do {
            n = 0;
            sqlite3_bind_text(sel, 1, ORG, -1, SQLITE_STATIC);
            sqlite3_bind_int64(sel, 2, since);
            sqlite3_bind_int(sel, 3, PAGE);
            struct feed_change c;
            while (sqlite3_step(sel) == SQLITE_ROW) {
                c.seq = sqlite3_column_int64(sel, 0);
                snprintf(c.entity, sizeof c.entity, "%s", sqlite3_column_text(sel, 1));
                snprintf(c.entity_id, sizeof c.entity_id, "%s", sqlite3_column_text(sel, 2));
                c.version = sqlite3_column_int64(sel, 3);
                c.deleted = sqlite3_column_int(sel, 4);
                since = c.seq;
                n++;
            }
            sqlite3_reset(sel);
            total += n;
        } while (n == PAGE);
        double dt = now() - t0;
        if (dt < f->feed)
            f->feed = dt;
        if (total != n_rows + 3)
            die("bare SQLite feed", "not every record was read");
    }
    sqlite3_finalize(sel);
    sqlite3_close(s);
}

static uint64_t bare_rt;

static PGconn *pq_connect(const char *dbname)
{
    char ci[128];
    snprintf(ci, sizeof ci, "dbname=%s", dbname);
    PGconn *c = PQconnectdb(ci);
    if (PQstatus(c) != CONNECTION_OK)
        die(dbname, PQerrorMessage(c));
    return c;
}

static void pq_ok(PGconn *c, PGresult *r, const char *what)
{
    bare_rt++;
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        die(what, PQerrorMessage(c));
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg; /* "database ... does not exist, skipping" */
}

static void pq_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    pq_ok(c, r, sql);
    PQclear(r);
}

/* bare libpq: inserts and edits in bench_bare (the schema, empty), the feed read in
 * bench_outpost (what outpost filled) */
static void pgsql_bare(struct figures *f)
{
    PGconn *c = pq_connect("bench_bare");
    PGresult *r = PQprepare(c, "ins", SQL_INSERT, 0, NULL);
    pq_ok(c, r, "prepare");
    PQclear(r);
    r = PQprepare(c, "up", SQL_UPDATE, 0, NULL);
    pq_ok(c, r, "prepare");
    PQclear(r);
    char id[UUID_STR_LEN], text[32];
    uint64_t rt0 = bare_rt;
    double t0 = now();
    pq_exec(c, "BEGIN");
    for (int i = 0; i < n_rows; i++) {
        bare_id(id, i);
        snprintf(text, sizeof text, "tt%06d", i);
        const char *v[4] = {id, text, HASH, TS};
        r = PQexecPrepared(c, "ins", 4, v, NULL, NULL, 0);
        pq_ok(c, r, "INSERT");
        PQclear(r);
    }
    pq_exec(c, "COMMIT");
    f->insert = now() - t0;
    f->rt_insert = (double)(bare_rt - rt0) / n_rows;

    rt0 = bare_rt;
    t0 = now();
    for (int i = 0; i < n_edits; i++) {
        bare_id(id, i);
        snprintf(text, sizeof text, "Edited %d", i);
        const char *v[4] = {text, TS, id, "1"};
        pq_exec(c, "BEGIN");
        r = PQexecPrepared(c, "up", 4, v, NULL, NULL, 0);
        pq_ok(c, r, "UPDATE");
        if (strcmp(PQcmdTuples(r), "1") != 0)
            die("bare UPDATE", "no row");
        PQclear(r);
        pq_exec(c, "COMMIT");
    }
    f->edits = now() - t0;
    f->rt_edit = (double)(bare_rt - rt0) / n_edits;
    PQfinish(c);

    c = pq_connect("bench_outpost");
    r = PQprepare(c, "feed", SQL_FEED, 0, NULL);
    pq_ok(c, r, "prepare");
    PQclear(r);
    f->feed = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        rt0 = bare_rt;
        t0 = now();
        long long since = 0;
        int n, total = 0, pages = 0;
        do {
            char s_since[24], s_lim[12];
            snprintf(s_since, sizeof s_since, "%lld", since);
            snprintf(s_lim, sizeof s_lim, "%d", PAGE);
            const char *v[3] = {ORG, s_since, s_lim};
            r = PQexecPrepared(c, "feed", 3, v, NULL, NULL, 0);
            pq_ok(c, r, "feed");
            n = PQntuples(r);
            struct feed_change ch;
            for (int i = 0; i < n; i++) {
                ch.seq = strtoll(PQgetvalue(r, i, 0), NULL, 10);
                snprintf(ch.entity, sizeof ch.entity, "%s", PQgetvalue(r, i, 1));
                snprintf(ch.entity_id, sizeof ch.entity_id, "%s", PQgetvalue(r, i, 2));
                ch.version = strtoll(PQgetvalue(r, i, 3), NULL, 10);
                ch.deleted = PQgetvalue(r, i, 4)[0] == '1' || PQgetvalue(r, i, 4)[0] == 't';
                since = ch.seq;
            }
            PQclear(r);
            total += n;
            pages++;
        } while (n == PAGE);
        double dt = now() - t0;
        if (dt < f->feed)
            f->feed = dt;
        if (total != n_rows + 3)
            die("bare libpq feed", "not every record was read");
        f->rt_feed = (double)(bare_rt - rt0) / pages;
    }
    PQfinish(c);
}

/* ---- main --------------------------------------------------------------------------------- */

static void row(const char *op, const char *backend, double o, double b, double rt_o, double rt_b,
                const char *per)
{
    if (rt_o > 0)
        printf("%-8s %-7s %10.3f %10.3f %7.2f %9.2f %9.2f  %s\n", op, backend, o, b, o / b, rt_o,
               rt_b, per);
    else
        printf("%-8s %-7s %10.3f %10.3f %7.2f %9s %9s\n", op, backend, o, b, o / b, "-", "-");
}

static void table(const char *backend, const struct figures *o, const struct figures *b)
{
    row("insert", backend, o->insert, b->insert, o->rt_insert, b->rt_insert, "per row");
    row("feed", backend, o->feed, b->feed, o->rt_feed, b->rt_feed, "per page of 500");
    row("edits", backend, o->edits, b->edits, o->rt_edit, b->rt_edit, "per edit");
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const char *n_env = getenv("BENCH_STORE_N");
    if (n_env && atoi(n_env) >= 10) {
        n_rows = atoi(n_env);
        n_edits = n_rows / 10;
    }
    char tmpl[] = "/tmp/outpost-bench-store-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir)
        return 1;
    struct op_err e = {0};

    /* SQLite */
    struct figures so, sb;
    memset(&so, 0, sizeof so);
    memset(&sb, 0, sizeof sb);
    char *full = fs_join(dir, "outpost.db"), *bare = fs_join(dir, "bare.db");
    struct db *db;
    check(db_open(full, 1, &db, &e), &e);
    outpost_run(db, 0, &so);
    db_close(db);
    check(db_open(bare, 1, &db, &e), &e); /* the schema */
    db_close(db);
    sqlite_bare(bare, full, &sb);
    free(full);
    free(bare);
    fs_remove_tree(dir);

    /* PostgreSQL */
    struct figures po, pb;
    int have_pg = getenv("PGHOST") != NULL;
    if (have_pg) {
        PGconn *c = pq_connect(getenv("PGDATABASE") ? getenv("PGDATABASE") : "outpost");
        PQsetNoticeProcessor(c, quiet, NULL);
        pq_exec(c, "DROP DATABASE IF EXISTS bench_outpost");
        pq_exec(c, "DROP DATABASE IF EXISTS bench_bare");
        pq_exec(c, "CREATE DATABASE bench_outpost");
        pq_exec(c, "CREATE DATABASE bench_bare");
        memset(&po, 0, sizeof po);
        memset(&pb, 0, sizeof pb);
        check(db_open_pgsql("dbname=bench_outpost", 1, &db, &e), &e);
        outpost_run(db, 1, &po);
        db_close(db);
        check(db_open_pgsql("dbname=bench_bare", 1, &db, &e), &e); /* the schema */
        db_close(db);
        pgsql_bare(&pb);
        pq_exec(c, "DROP DATABASE bench_outpost");
        pq_exec(c, "DROP DATABASE bench_bare");
        PQfinish(c);
    }

    printf("store: insert %d test takers in one transaction; read the feed of an organisation"
           " of %d records in pages of %d (fastest of 3); %d single-record edits\n",
           n_rows, n_rows + 3, PAGE, n_edits);
    printf("%-8s %-7s %10s %10s %7s %9s %9s\n", "op", "backend", "outpost s", "bare s", "ratio",
           "rt outp", "rt bare");
    table("sqlite", &so, &sb);
    if (have_pg)
        table("pgsql", &po, &pb);
    else
        printf("pgsql: no PostgreSQL server (PGHOST unset; bench/run.sh starts one with"
               " tests/tools/pg_tmp.sh): SQLite only\n");
    return 0;
}
