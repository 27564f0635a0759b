/* test_db_pgsql.c - what is PostgreSQL's alone in the storage interface (store/db_pgsql.c): a
 * server that cannot be reached and a login that is refused are told apart, and neither
 * message holds the password; a database of another application is refused, and setup never
 * takes over an Outpost one; two processes opening an empty database at once apply every
 * migration exactly once (the write lock); a writer killed mid-transaction leaves nothing and
 * no lock behind; a second writer numbers its change feed rows only after the first
 * commits; the schema's types are PostgreSQL's (64-bit integers, bytea, byte-order
 * text); the round-trip counter the benchmarks read counts one per request. Everything else the
 * backend does is tested by the store and app tests run again on PostgreSQL (pg/unit/test_*).
 *
 * Needs the CTest fixture `pgserver` (OUTPOST_PG_DIR); exits 77 (skipped) without a server. */
#include "testutil.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "instance/config.h"
#include "store/feed.h"
#include "store/migrations.h"
#include "store/users.h"

#define SECRET "not-the-password-6f1c"

static void test_an_unreachable_server_is_named_and_the_password_never_printed(void **state)
{
    (void)state;
    struct db *db = NULL;
    struct op_err e = {0};
    /* port 1 on the loopback: nothing listens there */
    int rc = db_open_pgsql("host=127.0.0.1 port=1 dbname=outpost user=outpost "
                           "password=" SECRET,
                           0, &db, &e);
    assert_int_equal(rc, OP_EDB);
    assert_null(db);
    assert_non_null(strstr(e.msg, "cannot reach the PostgreSQL server"));
    assert_non_null(strstr(e.msg, "check `host` and `port`"));
    assert_null(strstr(e.msg, SECRET));
}

static void test_a_wrong_password_is_a_refused_login_and_never_printed(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *ci = testutil_pg_conninfo(dir, SECRET);
    struct db *db = NULL;
    struct op_err e = {0};
    assert_int_equal(db_open_pgsql(ci, 0, &db, &e), OP_EDB);
    pg_conninfo_free(ci);
    assert_null(db);
    assert_non_null(strstr(e.msg, "PostgreSQL refused the login"));
    assert_non_null(strstr(e.msg, "password-file"));
    assert_null(strstr(e.msg, SECRET));
    testutil_rmdir(dir);
}

/* A database of another application is refused (migrating would mix two schemas), and setup
 * (create) refuses one that is already an Outpost instance's; an empty one gets the schema. */
static void test_a_database_not_ours_is_refused_and_setup_never_takes_over_ours(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *ci = testutil_pg_conninfo(dir, NULL);
    struct db *db = NULL;
    struct op_err e = {0};
    assert_int_equal(db_open_pgsql(ci, 1, &db, &e), 0); /* empty: setup creates the schema */
    assert_int_equal(db_schema_version(db), migrations_count());
    db_close(db);
    assert_int_equal(db_open_pgsql(ci, 1, &db, &e), OP_ESTATE);
    assert_null(db);
    assert_non_null(strstr(e.msg, "already holds an Outpost instance"));
    memset(&e, 0, sizeof e);
    assert_int_equal(db_open_pgsql(ci, 0, &db, &e), 0); /* ours: opens */
    assert_int_equal(db_exec(db, "DROP TABLE schema_migrations", &e), 0);
    db_close(db);
    assert_int_equal(db_open_pgsql(ci, 0, &db, &e), OP_ESTATE);
    assert_null(db);
    assert_non_null(strstr(e.msg, "not empty and holds no Outpost schema"));
    pg_conninfo_free(ci);
    testutil_rmdir(dir);
}

/* Two processes started together after an upgrade (here: on an empty database) both open
 * it; the migrations run once, under the write lock, and neither fails. */
static void test_two_processes_migrating_at_once_apply_each_migration_once(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *ci = testutil_pg_conninfo(dir, NULL);
    fflush(NULL);
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            struct db *db = NULL;
            struct op_err e = {0};
            int rc = db_open_pgsql(ci, 0, &db, &e);
            if (rc != 0)
                fprintf(stderr, "child %d: %s\n", i, e.msg);
            db_close(db);
            _exit(rc == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < 2; i++) {
        int status = 0;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    struct db *db = NULL;
    struct op_err e = {0};
    assert_int_equal(db_open_pgsql(ci, 0, &db, &e), 0);
    pg_conninfo_free(ci);
    assert_int_equal(testutil_query_int(db, "SELECT count(*) FROM schema_migrations"),
                     migrations_count());
    assert_int_equal(
        testutil_query_int(db, "SELECT count(DISTINCT version) FROM schema_migrations"),
        migrations_count());
    assert_int_equal(db_schema_version(db), migrations_count());
    db_close(db);
    testutil_rmdir(dir);
}

/* kill -9 of a writer in the middle of its transaction: the server rolls it back and frees the
 * write lock; the next writer gets the lock at once and sees nothing of the killed one. */
static void test_a_writer_killed_mid_transaction_leaves_nothing_and_no_lock(void **state)
{
    (void)state;
    char *dir = NULL;
    struct db *db = testutil_db(&dir);
    char *ci = testutil_pg_conninfo(dir, NULL);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    fflush(NULL);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        struct db *w = NULL;
        struct op_err e = {0};
        if (db_open_pgsql(ci, 0, &w, &e) != 0 || db_begin(w, &e) != 0 ||
            db_run(w, "INSERT INTO meta (key, value) VALUES (?1, ?2)", "half", "done", "meta",
                   &e) != 0)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        for (;;)
            pause(); /* holds the transaction and the lock until killed */
    }
    pg_conninfo_free(ci);
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    assert_int_equal(kill(kid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(kid, &status, 0), kid);
    assert_true(WIFSIGNALED(status));
    struct op_err e = {0};
    assert_int_equal(db_begin(db, &e), 0); /* the lock is free (else: busy after 10 s) */
    assert_int_equal(testutil_query_int(db, "SELECT count(*) FROM meta WHERE key = 'half'"), 0);
    db_rollback(db);
    db_close(db);
    testutil_rmdir(dir);
}

/* A sync manager of `org` added in the open transaction: its feed row is numbered at commit. */
static int add_sync_manager(struct db *db, const char *login, const char *org, struct op_err *e)
{
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)login;
    u.role = (char *)ROLE_SYNC_MANAGER;
    u.org_id = (char *)org;
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    return users_insert(db, &u, e);
}

/* The last change sequence number in `org`'s feed, or -1. */
static int64_t last_seq(struct db *db, const char *org)
{
    struct feed_change ch[8];
    int n = 0;
    struct op_err e = {0};
    if (feed_read(db, org, 0, 8, ch, &n, &e) != 0 || n == 0)
        return -1;
    return ch[n - 1].seq;
}

/* The change feed's guarantee on a shared server: a writer cannot number feed rows while
 * another's transaction is open (db_begin waits for the write lock; the numbers are the
 * largest in sync_feed + 1, which a SEQUENCE or a second writer's snapshot would break), so
 * numbers commit in order and a reader that has seen S never later finds a number below S. */
static void test_a_second_writer_numbers_its_feed_rows_only_after_the_first_commits(void **state)
{
    (void)state;
    char *dir = NULL;
    struct db *db = testutil_db(&dir);
    char *ci = testutil_pg_conninfo(dir, NULL);
    struct op_err e = {0};
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(add_sync_manager(db, "first", "ORG-A", &e), 0);
    int out[2];
    assert_int_equal(pipe(out), 0);
    fflush(NULL);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        close(out[0]);
        struct db *w = NULL;
        int64_t seq = -1;
        if (db_open_pgsql(ci, 0, &w, &e) == 0 && db_begin(w, &e) == 0 &&
            add_sync_manager(w, "second", "ORG-B", &e) == 0 && db_commit(w, &e) == 0) {
            seq = last_seq(w, "ORG-B");
            if (write(out[1], &seq, sizeof seq) != (ssize_t)sizeof seq)
                _exit(1);
        }
        db_close(w);
        _exit(seq > 0 ? 0 : 1);
    }
    pg_conninfo_free(ci);
    close(out[1]);
    /* the second writer is still waiting for the lock the first holds */
    struct pollfd p = {.fd = out[0], .events = POLLIN};
    assert_int_equal(poll(&p, 1, 500), 0);
    assert_int_equal(db_commit(db, &e), 0);
    int64_t first = last_seq(db, "ORG-A");
    int64_t second = 0;
    assert_int_equal(read(out[0], &second, sizeof second), (ssize_t)sizeof second);
    close(out[0]);
    int status = 0;
    assert_int_equal(waitpid(kid, &status, 0), kid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(first == 1);
    assert_true(second == first + 1);
    db_close(db);
    testutil_rmdir(dir);
}

/* The schema says INTEGER, BLOB and TEXT once; on PostgreSQL they are BIGINT (a sequence
 * number or version past 2^31 fits), BYTEA and text in byte order ("C"). */
static void test_the_schema_types_are_64_bit_bytea_and_byte_order_text(void **state)
{
    (void)state;
    char *dir = NULL;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    struct db_stmt *st = db_stmt(db,
                                 "SELECT data_type, collation_name FROM information_schema.columns"
                                 " WHERE table_name = ?1 AND column_name = ?2",
                                 &e);
    assert_non_null(st);
    const char *cols[][4] = {
        {"sync_feed", "seq", "bigint", ""},
        {"users", "version", "bigint", ""},
        {"results", "envelope", "bytea", ""},
        {"users", "login", "text", "C"},
    };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        db_bind_text(st, 1, cols[i][0]);
        db_bind_text(st, 2, cols[i][1]);
        assert_int_equal(db_step(st), DB_ROW);
        assert_string_equal(db_column_text(st, 0), cols[i][2]);
        const char *coll = db_column_text(st, 1);
        assert_string_equal(coll ? coll : "", cols[i][3]);
        db_stmt_done(db, st);
        st = db_stmt(db,
                     "SELECT data_type, collation_name FROM information_schema.columns"
                     " WHERE table_name = ?1 AND column_name = ?2",
                     &e);
    }
    db_stmt_done(db, st);
    /* a change sequence number past 2^32 is kept and followed */
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(add_sync_manager(db, "first", "ORG-A", &e), 0);
    assert_int_equal(db_commit(db, &e), 0);
    assert_int_equal(db_run(db, "UPDATE sync_feed SET seq = ?1", "4294967296", NULL, "feed", &e),
                     0);
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(add_sync_manager(db, "second", "ORG-A", &e), 0);
    assert_int_equal(db_commit(db, &e), 0);
    assert_true(last_seq(db, "ORG-A") == INT64_C(4294967297));
    db_close(db);
    testutil_rmdir(dir);
}

/* db_pgsql_round_trips counts what bench_store reports: BEGIN with the write lock is one
 * round trip, a cached statement's step is one (its rows come with it), COMMIT is one. */
static void test_round_trips_are_counted_one_per_request(void **state)
{
    (void)state;
    char *dir = NULL;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    const char *sql = "SELECT name FROM counters WHERE name = ?1";
    struct db_stmt *st = db_stmt(db, sql, &e); /* prepared outside the count */
    assert_non_null(st);
    db_stmt_done(db, st);
    uint64_t before = db_pgsql_round_trips();
    assert_int_equal(db_begin(db, &e), 0);
    assert_true(db_pgsql_round_trips() - before == 1);
    st = db_stmt(db, sql, &e); /* cached: no request */
    assert_non_null(st);
    assert_true(db_pgsql_round_trips() - before == 1);
    db_bind_text(st, 1, "change_seq");
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_step(st), DB_DONE);
    db_stmt_done(db, st);
    assert_true(db_pgsql_round_trips() - before == 2);
    assert_int_equal(db_commit(db, &e), 0);
    assert_true(db_pgsql_round_trips() - before == 3);
    db_close(db);
    testutil_rmdir(dir);
}

int main(void)
{
    setenv("OUTPOST_TEST_DB", "pgsql", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_unreachable_server_is_named_and_the_password_never_printed),
        cmocka_unit_test(test_a_wrong_password_is_a_refused_login_and_never_printed),
        cmocka_unit_test(test_two_processes_migrating_at_once_apply_each_migration_once),
        cmocka_unit_test(test_a_database_not_ours_is_refused_and_setup_never_takes_over_ours),
        cmocka_unit_test(test_the_schema_types_are_64_bit_bytea_and_byte_order_text),
        cmocka_unit_test(test_a_writer_killed_mid_transaction_leaves_nothing_and_no_lock),
        cmocka_unit_test(test_a_second_writer_numbers_its_feed_rows_only_after_the_first_commits),
        cmocka_unit_test(test_round_trips_are_counted_one_per_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
