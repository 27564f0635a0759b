/* test_db_retry.c - the transaction runner (db_write), the busy timeout and one connection per
 * thread, on both backends (unit/ and pg/unit/).
 *
 * The errors are real ones, raised by the database on the runner's own connection: on
 * PostgreSQL a deadlock between two connections (40P01) and a serialization failure (40001);
 * on SQLite a stale snapshot (SQLITE_BUSY_SNAPSHOT), which a deferred transaction meets when
 * another connection commits between its first read and its first write. db_begin never
 * opens such a transaction (BEGIN IMMEDIATE), so the body that provokes it swaps the runner's
 * transaction for a deferred one first: the runner then sees exactly what SQLite returns. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB_FILE  "test.db"
#define THREADS  4
#define WRITES   25
#define PATIENCE 2000 /* the most OP_EBUSY a thread takes for one write before giving up */

struct fixture {
    char *dir;
    struct db *a, *b; /* two connections to one database */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->dir = testutil_tmpdir();
    f->a = testutil_db_open(f->dir, DB_FILE);
    f->b = testutil_db_open(f->dir, DB_FILE);
    struct op_err e = {0};
    if (db_exec(f->a,
                "CREATE TABLE retry_t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);"
                "INSERT INTO retry_t (id, v) VALUES (1, 0), (2, 0)",
                &e) != 0)
        fail_msg("%s", e.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(db_stmt_held(f->a), 0);
    assert_int_equal(db_stmt_held(f->b), 0);
    db_close(f->a);
    db_close(f->b);
    testutil_rmdir(f->dir);
    free(f);
    return 0;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void exec_ok(struct db *db, const char *sql)
{
    struct op_err e = {0};
    if (db_exec(db, sql, &e) != 0)
        fail_msg("%s: %s", sql, e.msg);
}

/* Raises, on `f->a` inside the runner's transaction, a failure the database reports as a lost
 * race: SQLite's stale snapshot (with `f->b` committing in between), PostgreSQL's
 * serialization failure. Returns what the failing statement returned. */
static int lose_a_race(struct fixture *f, struct op_err *e)
{
    if (testutil_on_pgsql())
        return db_exec(f->a,
                       "DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' "
                       "USING ERRCODE = 'serialization_failure'; END $$",
                       e);
    exec_ok(f->a, "ROLLBACK");
    exec_ok(f->a, "BEGIN DEFERRED");
    testutil_query_int(f->a, "SELECT count(*) FROM retry_t"); /* the snapshot */
    exec_ok(f->b, "UPDATE retry_t SET v = v + 100 WHERE id = 2");
    return db_exec(f->a, "UPDATE retry_t SET v = v + 1 WHERE id = 1", e);
}

struct body {
    struct fixture *f;
    int runs;  /* how many times the body ran: the test's own count, on purpose not reset */
    int loses; /* the runs that lose a race */
};

static int body_update(struct db *db, void *ctx, struct op_err *e)
{
    struct body *b = ctx;
    if (b->runs++ < b->loses) {
        int rc = lose_a_race(b->f, e);
        assert_int_equal(rc, OP_EBUSY);
        assert_int_equal(db_error_class(db), DB_ERR_RETRY);
        return rc;
    }
    return db_run(db, "UPDATE retry_t SET v = v + 1 WHERE id = 1", NULL, NULL, "updating", e);
}

static void test_write_commits_a_body_that_succeeds(void **state)
{
    struct fixture *f = *state;
    struct body b = {.f = f};
    struct op_err e = {0};
    assert_int_equal(db_write(f->a, body_update, &b, &e), 0);
    assert_int_equal(b.runs, 1);
    assert_false(db_in_transaction(f->a));
    assert_int_equal(testutil_query_int(f->b, "SELECT v FROM retry_t WHERE id = 1"), 1);
}

static void test_write_retries_a_lost_race_invisibly(void **state)
{
    struct fixture *f = *state;
    struct body b = {.f = f, .loses = 2};
    struct op_err e = {0};
    assert_int_equal(db_write(f->a, body_update, &b, &e), 0);
    assert_int_equal(b.runs, 3);
    assert_int_equal(e.code, 0); /* nothing of the lost runs is left for the caller */
    assert_string_equal(e.msg, "");
    /* the lost runs wrote nothing; the third one once */
    assert_int_equal(testutil_query_int(f->b, "SELECT v FROM retry_t WHERE id = 1"), 1);
}

static void test_write_gives_up_after_the_bound_with_busy(void **state)
{
    struct fixture *f = *state;
    struct body b = {.f = f, .loses = 1000};
    struct op_err e = {0};
    assert_int_equal(db_write(f->a, body_update, &b, &e), OP_EBUSY);
    assert_int_equal(b.runs, DB_WRITE_TRIES);
    assert_non_null(strstr(e.msg, "the database is busy"));
    assert_false(db_in_transaction(f->a));
    assert_int_equal(testutil_query_int(f->b, "SELECT v FROM retry_t WHERE id = 1"), 0);
}

static int body_duplicate(struct db *db, void *ctx, struct op_err *e)
{
    struct body *b = ctx;
    b->runs++;
    int rc = db_run(db, "UPDATE retry_t SET v = v + 1 WHERE id = 1", NULL, NULL, "updating", e);
    if (rc == 0)
        rc = db_run(db, "INSERT INTO retry_t (id, v) VALUES (2, 0)", NULL, NULL, "inserting", e);
    return rc;
}

static void test_write_does_not_retry_a_unique_violation(void **state)
{
    struct fixture *f = *state;
    struct body b = {.f = f};
    struct op_err e = {0};
    assert_int_equal(db_write(f->a, body_duplicate, &b, &e), OP_ECONFLICT);
    assert_int_equal(b.runs, 1);
    assert_non_null(strstr(e.msg, "inserting"));
    assert_int_equal(testutil_query_int(f->b, "SELECT v FROM retry_t WHERE id = 1"),
                     0); /* rolled back */
}

static int body_input_error(struct db *db, void *ctx, struct op_err *e)
{
    struct body *b = ctx;
    b->runs++;
    (void)db;
    return err_set(e, OP_EINPUT, "no such thing");
}

static void test_write_does_not_retry_the_bodys_own_error(void **state)
{
    struct fixture *f = *state;
    struct body b = {.f = f};
    struct op_err e = {0};
    assert_int_equal(db_write(f->a, body_input_error, &b, &e), OP_EINPUT);
    assert_int_equal(b.runs, 1);
    assert_string_equal(e.msg, "no such thing");
}

/* A body that takes the lost race for an answer and returns 0 (as the results intake takes a
 * refusal) is not committed: on PostgreSQL its transaction is aborted already. */
static int body_swallow(struct db *db, void *ctx, struct op_err *e)
{
    struct body *b = ctx;
    if (b->runs++ < b->loses) {
        struct op_err lost = {0};
        assert_int_equal(lose_a_race(b->f, &lost), OP_EBUSY);
        return 0;
    }
    return db_run(db, "UPDATE retry_t SET v = v + 1 WHERE id = 1", NULL, NULL, "updating", e);
}

static void test_write_retries_a_body_that_ignored_a_lost_race(void **state)
{
    struct fixture *f = *state;
    struct body b = {.f = f, .loses = 1};
    struct op_err e = {0};
    assert_int_equal(db_write(f->a, body_swallow, &b, &e), 0);
    assert_int_equal(b.runs, 2);
    assert_int_equal(testutil_query_int(f->b, "SELECT v FROM retry_t WHERE id = 1"), 1);
}

/* A lost race inside a savepoint that the body rolls back is undone with it: no retry. */
static int body_savepoint(struct db *db, void *ctx, struct op_err *e)
{
    struct body *b = ctx;
    b->runs++;
    int rc = db_savepoint(db, e);
    if (rc != 0)
        return rc;
    struct op_err lost = {0};
    if (testutil_on_pgsql())
        assert_int_equal(lose_a_race(b->f, &lost), OP_EBUSY);
    else /* SQLite's stale snapshot cannot happen inside the runner's transaction */
        assert_int_equal(db_exec(db, "SELECT 1", &lost), 0);
    if ((rc = db_savepoint_rollback(db, e)) != 0)
        return rc;
    return db_run(db, "UPDATE retry_t SET v = v + 1 WHERE id = 1", NULL, NULL, "updating", e);
}

static void test_write_keeps_a_run_whose_savepoint_undid_a_lost_race(void **state)
{
    struct fixture *f = *state;
    struct body b = {.f = f};
    struct op_err e = {0};
    assert_int_equal(db_write(f->a, body_savepoint, &b, &e), 0);
    assert_int_equal(b.runs, 1);
    assert_int_equal(testutil_query_int(f->b, "SELECT v FROM retry_t WHERE id = 1"), 1);
}

/* PostgreSQL answers COMMIT of a transaction an error aborted with a success that rolled
 * back: db_commit reports it as the failure it is. */
static void test_commit_of_an_aborted_transaction_fails(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    assert_int_equal(db_begin(f->a, &e), 0);
    assert_int_equal(
        db_run(f->a, "UPDATE retry_t SET v = 5 WHERE id = 1", NULL, NULL, "updating", &e), 0);
    if (testutil_on_pgsql())
        assert_int_not_equal(db_exec(f->a, "SELECT 1 / 0", &e), 0);
    else
        assert_int_not_equal(db_exec(f->a, "SELECT * FROM no_such_table", &e), 0);
    int rc = db_commit(f->a, &e);
    if (testutil_on_pgsql()) {
        assert_int_equal(rc, OP_EDB);
        assert_non_null(strstr(e.msg, "rolled back"));
        assert_int_equal(testutil_query_int(f->b, "SELECT v FROM retry_t WHERE id = 1"), 0);
    } else { /* SQLite keeps the transaction: a failed statement undoes only itself */
        assert_int_equal(rc, 0);
        assert_int_equal(testutil_query_int(f->b, "SELECT v FROM retry_t WHERE id = 1"), 5);
    }
    assert_false(db_in_transaction(f->a));
}

/* PostgreSQL: a real deadlock. `b` holds row 2 and, once the body holds row 1 and waits for
 * row 2, asks for row 1. The body's connection waited first, so its deadlock check
 * (deadlock_timeout, 1 s) runs first and the server undoes its transaction (40P01); `b` gets
 * row 1 and commits; the runner runs the body again, which now succeeds. */
struct deadlock {
    struct db *db;
    atomic_int holds_row1;
    int runs;
    int rc;
    struct op_err e;
};

static int body_deadlock(struct db *db, void *ctx, struct op_err *e)
{
    struct deadlock *d = ctx;
    d->runs++;
    int rc = db_run(db, "UPDATE retry_t SET v = v + 1 WHERE id = 1", NULL, NULL, "row 1", e);
    atomic_store(&d->holds_row1, 1);
    if (rc == 0)
        rc = db_run(db, "UPDATE retry_t SET v = v + 1 WHERE id = 2", NULL, NULL, "row 2", e);
    return rc;
}

static void *run_deadlock(void *arg)
{
    struct deadlock *d = arg;
    d->rc = db_write(d->db, body_deadlock, d, &d->e);
    return NULL;
}

static void test_write_retries_a_real_deadlock(void **state)
{
    struct fixture *f = *state;
    if (!testutil_on_pgsql())
        skip(); /* SQLite's single writer never deadlocks: db_begin takes the lock first */
    exec_ok(f->b, "BEGIN");
    exec_ok(f->b, "UPDATE retry_t SET v = v + 10 WHERE id = 2");
    struct deadlock d = {.db = f->a};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_deadlock, &d), 0);
    while (!atomic_load(&d.holds_row1))
        sleep_ms(5);
    sleep_ms(300); /* the body is now waiting for row 2 */
    exec_ok(f->b, "UPDATE retry_t SET v = v + 10 WHERE id = 1"); /* waits until a is undone */
    exec_ok(f->b, "COMMIT");
    pthread_join(t, NULL);
    if (d.rc != 0)
        fail_msg("db_write: %s", d.e.msg);
    assert_int_equal(d.runs, 2);
    assert_int_equal(testutil_query_int(f->b, "SELECT v FROM retry_t WHERE id = 1"), 11);
    assert_int_equal(testutil_query_int(f->b, "SELECT v FROM retry_t WHERE id = 2"), 11);
}

/* ---- the busy timeout ---- */

static void test_short_busy_timeout_reports_busy_in_about_that_time(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    assert_int_equal(db_set_busy_timeout(f->a, 200, &e), 0);
    assert_int_equal(db_begin(f->b, &e), 0); /* b holds the write lock */
    struct body b = {.f = f};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(db_write(f->a, body_update, &b, &e), OP_EBUSY);
    double waited = ms_since(&t0);
    assert_int_equal(b.runs, 0); /* never began */
    assert_non_null(strstr(e.msg, "busy"));
    assert_true(waited >= 150);
    assert_true(waited < 3000); /* not the 10 s of DB_BUSY_TIMEOUT_MS */
    db_rollback(f->b);
    /* free again: the same short timeout writes at once */
    assert_int_equal(db_write(f->a, body_update, &b, &e), 0);
    assert_int_equal(b.runs, 1);
    /* and the long one waits for a writer that finishes within it */
    assert_int_equal(db_set_busy_timeout(f->a, DB_BUSY_TIMEOUT_MS, &e), 0);
    assert_int_equal(testutil_query_int(f->b, "SELECT v FROM retry_t WHERE id = 1"), 1);
}

/* ---- one connection per thread ---- */

struct writer {
    struct db *db;
    int n;       /* the writer's number */
    int i;       /* the write under way */
    int hold_ms; /* how long a write keeps the lock */
    int done, busy, other;
    struct op_err e;
};

/* One write: a row naming the writer and the write, numbered one past the largest number
 * (as the change feed numbers its rows): two writers at once would take the same number and
 * the UNIQUE seq would refuse one. */
static int body_row(struct db *db, void *ctx, struct op_err *e)
{
    struct writer *w = ctx;
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO retry_rows (seq, writer, i) "
                                 "SELECT COALESCE(max(seq), 0) + 1, ?1, ?2 FROM retry_rows",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_int(st, 1, w->n);
    db_bind_int(st, 2, w->i);
    int rc = db_step_done(db, st, "inserting a row", e);
    if (rc == 0 && w->hold_ms)
        sleep_ms(w->hold_ms);
    return rc;
}

static void *run_writer(void *arg)
{
    struct writer *w = arg;
    for (w->i = 0; w->i < WRITES; w->i++) {
        int tries = 0, rc;
        /* a busy answer is what a client gets as 503: it asks again */
        while ((rc = db_write(w->db, body_row, w, &w->e)) == OP_EBUSY && ++tries < PATIENCE) {
            w->busy++;
            sleep_ms(1);
        }
        if (rc == 0)
            w->done++;
        else {
            w->other++;
            return NULL;
        }
    }
    return NULL;
}

/* THREADS threads, each with its own connection, write at once; every write lands exactly
 * once. With `busy_ms`, each connection waits only that long for the lock while every write
 * holds it for a few ms: the only error a writer then sees is OP_EBUSY. */
static void run_writers(struct fixture *f, int busy_ms, int hold_ms)
{
    exec_ok(f->a, "CREATE TABLE retry_rows (seq INTEGER NOT NULL UNIQUE, writer INTEGER NOT "
                  "NULL, i INTEGER NOT NULL, PRIMARY KEY (writer, i))");
    struct writer w[THREADS];
    pthread_t t[THREADS];
    for (int n = 0; n < THREADS; n++) {
        /* opened here, then used by its thread only */
        w[n] = (struct writer){.db = testutil_db_open(f->dir, DB_FILE), .n = n, .hold_ms = hold_ms};
        if (busy_ms) {
            struct op_err e = {0};
            assert_int_equal(db_set_busy_timeout(w[n].db, busy_ms, &e), 0);
        }
    }
    for (int n = 0; n < THREADS; n++)
        assert_int_equal(pthread_create(&t[n], NULL, run_writer, &w[n]), 0);
    int busy = 0;
    for (int n = 0; n < THREADS; n++) {
        pthread_join(t[n], NULL);
        if (w[n].other)
            fail_msg("writer %d: %s", n, w[n].e.msg);
        assert_int_equal(w[n].done, WRITES);
        busy += w[n].busy;
        assert_int_equal(db_stmt_held(w[n].db), 0);
        db_close(w[n].db);
    }
    int64_t rows = testutil_query_int(f->a, "SELECT count(*) FROM retry_rows");
    assert_int_equal(rows, THREADS * WRITES);
    assert_int_equal(
        testutil_query_int(f->a, "SELECT count(DISTINCT writer * 1000 + i) FROM retry_rows"),
        THREADS * WRITES);
    /* one number per write that landed, 1 to N without a gap: each write saw every earlier
     * one (one writer at a time), none lost to a write that did not land */
    assert_int_equal(testutil_query_int(f->a, "SELECT min(seq) FROM retry_rows"), 1);
    assert_int_equal(testutil_query_int(f->a, "SELECT max(seq) FROM retry_rows"), THREADS * WRITES);
    if (busy_ms)
        assert_true(busy > 0); /* the short timeout was met, and only as OP_EBUSY */
    else
        assert_int_equal(busy, 0); /* the command-line wait outlasts every writer */
}

static void test_threads_with_own_connections_write_exactly_once(void **state)
{
    run_writers(*state, 0, 0);
}

static void test_threads_with_short_busy_timeout_see_only_busy(void **state)
{
    run_writers(*state, 1, 5);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_write_commits_a_body_that_succeeds),
        T(test_write_retries_a_lost_race_invisibly),
        T(test_write_gives_up_after_the_bound_with_busy),
        T(test_write_does_not_retry_a_unique_violation),
        T(test_write_does_not_retry_the_bodys_own_error),
        T(test_write_retries_a_body_that_ignored_a_lost_race),
        T(test_write_keeps_a_run_whose_savepoint_undid_a_lost_race),
        T(test_commit_of_an_aborted_transaction_fails),
        T(test_write_retries_a_real_deadlock),
        T(test_short_busy_timeout_reports_busy_in_about_that_time),
        T(test_threads_with_own_connections_write_exactly_once),
        T(test_threads_with_short_busy_timeout_see_only_busy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
