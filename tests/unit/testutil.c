/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "base/fs.h"
#include "instance/config.h"

/* ---- the backend the tests run on ----
 *
 * OUTPOST_TEST_DB=pgsql runs them on the throw-away PostgreSQL server of the CTest fixture
 * `pgserver` (OUTPOST_PG_DIR, see docs/architecture.md, "Tests on PostgreSQL"): each test
 * folder gets its own database, "outpost_t_" and the folder's name, created by the first open
 * and dropped by testutil_rmdir. When the fixture says no server could be started, the test
 * program exits 77 (skipped). This file and the two test_pg_* programs are the only tests that
 * call libpq: to create and drop databases, which the store never does. */

int testutil_on_pgsql(void)
{
    const char *v = getenv("OUTPOST_TEST_DB");
    return v && strcmp(v, "pgsql") == 0;
}

const char *testutil_pg_dir(const char *who)
{
    const char *dir = getenv("OUTPOST_PG_DIR");
    if (!dir || !*dir) {
        fprintf(stderr,
                "%s: OUTPOST_PG_DIR is not set; run it with ctest, or "
                "`sh tests/tools/pg_tmp.sh start DIR` and OUTPOST_PG_DIR=DIR\n",
                who);
        exit(77);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/unavailable", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char why[1024] = "";
        if (!fgets(why, sizeof why, f))
            why[0] = '\0';
        fclose(f);
        fprintf(stderr, "%s: skipped, no PostgreSQL server: %s", who, why);
        exit(77);
    }
    return dir;
}

/* The fixture's settings (password read), loaded once; exits 77 when there is no server. */
static json_t *pg_persistence;
static struct pg_settings pg_admin;

static const struct pg_settings *pg_fixture(void)
{
    if (pg_persistence)
        return &pg_admin;
    const char *dir = testutil_pg_dir("OUTPOST_TEST_DB=pgsql");
    char path[4096];
    snprintf(path, sizeof path, "%s/persistence.json", dir);
    json_error_t jerr;
    pg_persistence = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!pg_persistence)
        fail_msg("%s: %s (did `pg_tmp.sh start` run?)", path, jerr.text);
    struct op_err e = {0};
    if (pg_settings_parse(pg_persistence, &pg_admin, &e) != 0 ||
        pg_settings_read_password(&pg_admin, &e) != 0)
        fail_msg("%s: %s", path, e.msg);
    return &pg_admin;
}

/* The database of the test folder `dir`. */
static void pg_dbname(const char *dir, char *out, size_t cap)
{
    const char *base = strrchr(dir, '/');
    snprintf(out, cap, "outpost_t_%s", base ? base + 1 : dir);
}

/* The connection string for database `dbname` (NULL: the fixture's own); the caller frees it
 * with pg_conninfo_free. */
static char *pg_conninfo_for(const char *dbname)
{
    struct pg_settings s = *pg_fixture();
    if (dbname)
        s.dbname = dbname;
    char *ci = NULL;
    struct op_err e = {0};
    if (pg_conninfo(&s, &ci, &e) != 0)
        fail_msg("pg_conninfo: %s", e.msg);
    return ci;
}

/* Runs `sql` on the fixture's own database; 0 or fails the test (unless `may_fail`). */
static int pg_admin_exec(const char *sql, int may_fail)
{
    char *ci = pg_conninfo_for(NULL);
    PGconn *c = PQconnectdb(ci);
    pg_conninfo_free(ci);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("PostgreSQL test server: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok && !may_fail)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok;
}

char *testutil_pg_conninfo(const char *dir, const char *password)
{
    char name[256], sql[512];
    pg_dbname(dir, name, sizeof name);
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
    pg_admin_exec(sql, 1);
    struct pg_settings s = *pg_fixture();
    s.dbname = name;
    if (password)
        s.password = (char *)password;
    char *ci = NULL;
    struct op_err e = {0};
    if (pg_conninfo(&s, &ci, &e) != 0)
        fail_msg("pg_conninfo: %s", e.msg);
    return ci;
}

char *testutil_persistence(const char *dir, const char *role)
{
    if (!testutil_on_pgsql() || strcmp(role, "central") != 0)
        return strdup("{\"driver\": \"sqlite\", \"path\": \"outpost.db\"}");
    char name[256], sql[512];
    pg_dbname(dir, name, sizeof name);
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
    pg_fixture(); /* loads pg_persistence, or exits 77 without a server */
    pg_admin_exec(sql, 0);
    json_t *p = json_deep_copy(pg_persistence);
    if (!p || json_object_set_new(p, "dbname", json_string(name)) != 0)
        fail_msg("out of memory");
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if (!text)
        fail_msg("out of memory");
    return text;
}

struct db *testutil_db_open(const char *dir, const char *file)
{
    struct db *db = NULL;
    struct op_err e = {0};
    if (testutil_on_pgsql()) {
        char name[256], sql[512];
        pg_dbname(dir, name, sizeof name);
        snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
        pg_admin_exec(sql, 1); /* exists already when the folder's database is opened again */
        char *ci = pg_conninfo_for(name);
        int rc = db_open_pgsql(ci, 0, &db, &e);
        pg_conninfo_free(ci);
        if (rc != 0)
            fail_msg("db_open_pgsql: %s", e.msg);
        return db;
    }
    char *path = fs_join(dir, file);
    int rc = db_open(path, 1, &db, &e);
    if (rc != 0)
        fail_msg("db_open: %s", e.msg);
    free(path);
    return db;
}

char *testutil_tmpdir(void)
{
    if (sodium_init() < 0)
        abort();
    char tmpl[] = "/tmp/outpost-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

void testutil_rmdir(char *dir)
{
    if (testutil_on_pgsql() && pg_persistence) {
        char name[256], sql[512];
        pg_dbname(dir, name, sizeof name);
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
        /* FORCE must end every session on the database, autovacuum's included; the test role
         * may (pg_signal_backend, tests/tools/pg_tmp.sh), but a backend starting at that very
         * moment can still fail the drop under load: try again a few times. */
        int tries = 0;
        const struct timespec pause = {0, 200 * 1000 * 1000};
        while (!pg_admin_exec(sql, 1) && ++tries < 10)
            nanosleep(&pause, NULL);
        if (tries == 10)
            pg_admin_exec(sql, 0); /* fails the test with the server's message */
    }
    fs_remove_tree(dir);
    free(dir);
}

struct db *testutil_db(char **dir)
{
    *dir = testutil_tmpdir();
    return testutil_db_open(*dir, "test.db");
}

char *testutil_write(const char *dir, const char *name, const char *text)
{
    char *path = fs_join(dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    return path;
}

int64_t testutil_query_int(struct db *db, const char *sql)
{
    struct op_err e = {0};
    struct db_stmt *st = db_stmt(db, sql, &e);
    if (!st)
        fail_msg("%s: %s", sql, e.msg);
    if (db_step(st) != DB_ROW) {
        db_fail(db, &e, "query");
        fail_msg("%s: no row (%s)", sql, e.msg);
    }
    int64_t v = db_column_int64(st, 0);
    db_stmt_done(db, st);
    return v;
}
