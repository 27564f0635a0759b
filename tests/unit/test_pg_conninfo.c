/* test_pg_conninfo.c - the PostgreSQL settings of instance/config.h reach a real server: the
 * tests' throw-away server's persistence.json (the shape of setup.json's persistences.default)
 * passes pg_settings_parse, its password file passes pg_settings_read_password, and the string
 * pg_conninfo builds logs in, with the password from the file or from PGPASSWORD; a database
 * whose name holds a quote, a backslash and a space is reached through the same quoting.
 *
 * Needs the CTest fixture `pgserver` (OUTPOST_PG_DIR); exits 77 (skipped) when the folder says
 * no server could be started. libpq is called here only, until the store has its backend. */
#include "testutil.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instance/config.h"

static json_t *persistence; /* DIR/persistence.json */

/* Connects with `s` through pg_conninfo; the caller PQfinish-es the connection. */
static PGconn *connect_with(const struct pg_settings *s)
{
    char *ci = NULL;
    struct op_err e = {0};
    if (pg_conninfo(s, &ci, &e) != 0)
        fail_msg("pg_conninfo: %s", e.msg);
    PGconn *c = PQconnectdb(ci);
    pg_conninfo_free(ci);
    return c;
}

/* The one value of `sql` on `c`; the caller frees. */
static char *one_value(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    char *v = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static void test_pg_conninfo_from_the_servers_persistence_logs_in(void **state)
{
    (void)state;
    struct pg_settings s;
    struct op_err e = {0};
    if (pg_settings_parse(persistence, &s, &e) != 0)
        fail_msg("persistence.json: %s", e.msg);
    assert_non_null(s.password_file);
    if (pg_settings_read_password(&s, &e) != 0)
        fail_msg("%s", e.msg);
    PGconn *c = connect_with(&s);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(c));
    char *who = one_value(c, "SELECT current_user || '@' || current_database()");
    assert_string_equal(who, "outpost@outpost");
    free(who);
    PQfinish(c);

    /* the same without the password: the server asks for one, and nothing else gives it */
    pg_settings_free(&s);
    c = connect_with(&s);
    assert_int_equal(PQstatus(c), CONNECTION_BAD);
    PQfinish(c);
}

static void test_pg_conninfo_with_the_password_from_PGPASSWORD_logs_in(void **state)
{
    (void)state;
    struct pg_settings s;
    struct op_err e = {0};
    assert_int_equal(pg_settings_parse(persistence, &s, &e), 0);
    assert_int_equal(pg_settings_read_password(&s, &e), 0);
    setenv("PGPASSWORD", s.password, 1);
    pg_settings_free(&s);
    s.password_file = NULL;
    assert_int_equal(pg_settings_read_password(&s, &e), 0);
    unsetenv("PGPASSWORD"); /* so that only the connection string can carry it */
    PGconn *c = connect_with(&s);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(c));
    PQfinish(c);
    pg_settings_free(&s);
}

static void test_pg_conninfo_reaches_a_database_whose_name_needs_quoting(void **state)
{
    (void)state;
    struct pg_settings s;
    struct op_err e = {0};
    assert_int_equal(pg_settings_parse(persistence, &s, &e), 0);
    assert_int_equal(pg_settings_read_password(&s, &e), 0);
    PGconn *c = connect_with(&s);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    const char *odd = "it's a \\ db";
    PGresult *r = PQexec(c, "DROP DATABASE IF EXISTS \"it's a \\ db\"");
    PQclear(r);
    r = PQexec(c, "CREATE DATABASE \"it's a \\ db\"");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("CREATE DATABASE: %s", PQerrorMessage(c));
    PQclear(r);

    struct pg_settings odd_s = s; /* the builder quotes any value the validator might allow */
    odd_s.dbname = odd;
    PGconn *o = connect_with(&odd_s);
    if (PQstatus(o) != CONNECTION_OK)
        fail_msg("connect to %s: %s", odd, PQerrorMessage(o));
    char *db = one_value(o, "SELECT current_database()");
    assert_string_equal(db, odd);
    free(db);
    PQfinish(o);

    r = PQexec(c, "DROP DATABASE \"it's a \\ db\"");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
    pg_settings_free(&s);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const char *dir = testutil_pg_dir("test_pg_conninfo");
    char path[4096];
    snprintf(path, sizeof path, "%s/persistence.json", dir);
    json_error_t jerr;
    persistence = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!persistence) {
        fprintf(stderr, "%s: %s (did `pg_tmp.sh start` run?)\n", path, jerr.text);
        return 1;
    }
    /* Only what the tests give may log in: no PGPASSWORD, no ~/.pgpass. */
    unsetenv("PGPASSWORD");
    snprintf(path, sizeof path, "%s/no-such-passfile", dir);
    setenv("PGPASSFILE", path, 1);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_conninfo_from_the_servers_persistence_logs_in),
        cmocka_unit_test(test_pg_conninfo_with_the_password_from_PGPASSWORD_logs_in),
        cmocka_unit_test(test_pg_conninfo_reaches_a_database_whose_name_needs_quoting),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    json_decref(persistence);
    return rc;
}
