/* test_pg_server.c - the tests' throw-away PostgreSQL server (tests/tools/pg_tmp.sh), reached
 * through libpq with the parameters it wrote: the password is required, a transaction
 * creates, inserts and reads back, and two connections racing for one unique key see the
 * loser fail with SQLSTATE 23505 once the winner commits.
 *
 * OUTPOST_PG_DIR names the folder `pg_tmp.sh start` filled (CTest sets it, fixture
 * `pgserver`). When that folder says the server is unavailable, the program exits 77, which
 * CTest reports as skipped. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "testutil.h"

/* The connection parameters, as persistence.json and the password file give them. */
static struct {
    char host[256];
    char port[16];
    char dbname[64];
    char user[64];
    char password[256];
    char no_passfile[4096]; /* a passfile that does not exist, so ~/.pgpass cannot help */
} pg;

/* Reads DIR/persistence.json and its password file into `pg`; 0 or -1 (said on stderr). */
static int pg_params_load(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/persistence.json", dir);
    json_error_t jerr;
    json_t *conf = json_load_file(path, 0, &jerr);
    if (!conf) {
        fprintf(stderr, "%s: %s (did `pg_tmp.sh start` run?)\n", path, jerr.text);
        return -1;
    }
    const char *host = NULL, *dbname = NULL, *user = NULL, *pwfile = NULL, *driver = NULL;
    json_int_t port = 0;
    if (json_unpack_ex(conf, &jerr, 0, "{s:s, s:s, s:I, s:s, s:s, s:s}", "driver", &driver, "host",
                       &host, "port", &port, "dbname", &dbname, "user", &user, "password-file",
                       &pwfile) != 0 ||
        strcmp(driver, "pgsql") != 0) {
        fprintf(stderr, "%s: not a pgsql persistence: %s\n", path, jerr.text);
        json_decref(conf);
        return -1;
    }
    snprintf(pg.host, sizeof pg.host, "%s", host);
    snprintf(pg.port, sizeof pg.port, "%lld", (long long)port);
    snprintf(pg.dbname, sizeof pg.dbname, "%s", dbname);
    snprintf(pg.user, sizeof pg.user, "%s", user);
    snprintf(pg.no_passfile, sizeof pg.no_passfile, "%s/no-such-passfile", dir);
    FILE *f = fopen(pwfile, "r");
    if (!f || !fgets(pg.password, sizeof pg.password, f)) {
        fprintf(stderr, "%s: cannot read the password: %s\n", pwfile, strerror(errno));
        if (f)
            fclose(f);
        json_decref(conf);
        return -1;
    }
    fclose(f);
    pg.password[strcspn(pg.password, "\r\n")] = '\0';
    json_decref(conf);
    return 0;
}

/* A connection with `password` (NULL: none); the caller PQfinish-es it, good or bad. */
static PGconn *pg_connect_with(const char *password)
{
    const char *keys[] = {"host",     "port",     "dbname",          "user",
                          "passfile", "password", "connect_timeout", NULL};
    const char *values[] = {pg.host,        pg.port,  pg.dbname, pg.user,
                            pg.no_passfile, password, "10",      NULL};
    if (!password) { /* end the list before "password" */
        keys[5] = "connect_timeout";
        values[5] = "10";
        keys[6] = NULL;
        values[6] = NULL;
    }
    return PQconnectdbParams(keys, values, 0);
}

static PGconn *pg_connect(void)
{
    PGconn *c = pg_connect_with(pg.password);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connecting to %s:%s: %s", pg.host, pg.port, PQerrorMessage(c));
    return c;
}

/* Runs one statement that must succeed. */
static void pg_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* Inserts (id, login) with bound parameters; returns the SQLSTATE of the failure ("" if the
 * row went in) in `state`. */
static void pg_insert(PGconn *c, const char *id, const char *login, char state[6])
{
    const char *params[] = {id, login};
    PGresult *r = PQexecParams(c, "INSERT INTO pg_server_logins (id, login) VALUES ($1, $2)", 2,
                               NULL, params, NULL, NULL, 0);
    const char *s =
        PQresultStatus(r) == PGRES_COMMAND_OK ? "" : PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(state, 6, "%s", s ? s : "?");
    PQclear(r);
}

static long long pg_count(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    long long n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

static void test_pg_server_refuses_a_wrong_or_missing_password(void **state)
{
    (void)state;
    PGconn *c = pg_connect_with("not-the-password");
    assert_int_equal(PQstatus(c), CONNECTION_BAD);
    assert_non_null(strstr(PQerrorMessage(c), "password authentication failed"));
    PQfinish(c);

    c = pg_connect_with(NULL);
    assert_int_equal(PQstatus(c), CONNECTION_BAD);
    assert_true(PQconnectionNeedsPassword(c));
    PQfinish(c);

    c = pg_connect();
    assert_true(PQconnectionUsedPassword(c));
    PQfinish(c);
}

static void test_pg_server_transaction_creates_inserts_and_reads_back(void **state)
{
    (void)state;
    PGconn *c = pg_connect();
    pg_ok(c, "BEGIN");
    pg_ok(c, "DROP TABLE IF EXISTS pg_server_logins");
    pg_ok(c, "CREATE TABLE pg_server_logins (id BIGINT PRIMARY KEY, login TEXT NOT NULL UNIQUE)");
    char st[6];
    pg_insert(c, "1099511627776", "alice", st); /* 2^40: a 64-bit sequence number fits */
    assert_string_equal(st, "");
    pg_insert(c, "2", "bob", st);
    assert_string_equal(st, "");

    PGresult *r = PQexec(c, "SELECT id, login FROM pg_server_logins ORDER BY id");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 2);
    assert_string_equal(PQgetvalue(r, 0, 0), "2");
    assert_string_equal(PQgetvalue(r, 0, 1), "bob");
    assert_string_equal(PQgetvalue(r, 1, 0), "1099511627776");
    assert_string_equal(PQgetvalue(r, 1, 1), "alice");
    PQclear(r);

    /* not committed yet: another connection sees neither the table nor the rows */
    PGconn *other = pg_connect();
    assert_int_equal(pg_count(other, "SELECT count(*) FROM pg_tables "
                                     "WHERE tablename = 'pg_server_logins'"),
                     0);
    pg_ok(c, "COMMIT");
    assert_int_equal(pg_count(other, "SELECT count(*) FROM pg_server_logins"), 2);
    pg_ok(other, "DROP TABLE pg_server_logins");
    PQfinish(other);
    PQfinish(c);
}

/* Milliseconds on a monotonic clock. */
static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_pg_server_unique_race_loser_gets_sqlstate_23505(void **state)
{
    (void)state;
    PGconn *a = pg_connect(), *b = pg_connect();
    pg_ok(a, "DROP TABLE IF EXISTS pg_server_logins");
    pg_ok(a, "CREATE TABLE pg_server_logins (id BIGINT PRIMARY KEY, login TEXT NOT NULL UNIQUE)");

    /* a inserts "carol" and keeps its transaction open */
    pg_ok(a, "BEGIN");
    char st[6];
    pg_insert(a, "1", "carol", st);
    assert_string_equal(st, "");

    /* b inserts "carol" too: it must wait for a's transaction, not succeed */
    const char *params[] = {"2", "carol"};
    assert_int_equal(PQsendQueryParams(b,
                                       "INSERT INTO pg_server_logins (id, login) VALUES ($1, $2)",
                                       2, NULL, params, NULL, NULL, 0),
                     1);
    long long until = now_ms() + 300;
    for (long long left; (left = until - now_ms()) > 0;) {
        struct pollfd p = {.fd = PQsocket(b), .events = POLLIN};
        poll(&p, 1, (int)left);
        assert_int_equal(PQconsumeInput(b), 1);
        assert_true(PQisBusy(b)); /* still waiting on a's row lock */
    }

    /* a commits: b's insert now fails as a unique violation */
    pg_ok(a, "COMMIT");
    PGresult *r = PQgetResult(b);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
    PQclear(r);
    while ((r = PQgetResult(b)))
        PQclear(r);

    /* the same from a plain second attempt, after the commit */
    pg_insert(b, "3", "carol", st);
    assert_string_equal(st, "23505");
    assert_int_equal(pg_count(b, "SELECT count(*) FROM pg_server_logins WHERE login = 'carol'"), 1);
    pg_ok(b, "DROP TABLE pg_server_logins");
    PQfinish(b);
    PQfinish(a);
}

int main(void)
{
    const char *dir = testutil_pg_dir("test_pg_server");
    if (pg_params_load(dir) != 0)
        return 1;
    unsetenv("PGPASSWORD"); /* the tests give the password, or not, themselves */

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_server_refuses_a_wrong_or_missing_password),
        cmocka_unit_test(test_pg_server_transaction_creates_inserts_and_reads_back),
        cmocka_unit_test(test_pg_server_unique_race_loser_gets_sqlstate_23505),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    explicit_bzero(pg.password, sizeof pg.password);
    return rc;
}
