/* testutil.h - helpers shared by the cmocka unit tests. */
#ifndef OUTPOST_TESTS_TESTUTIL_H
#define OUTPOST_TESTS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/db.h"

/* A fresh temporary folder (caller frees the string; removed by testutil_rmdir). */
char *testutil_tmpdir(void);
void testutil_rmdir(char *dir);

/* A fresh migrated database in a temporary folder. */
struct db *testutil_db(char **dir);

/* Opens (creating and migrating the first time) the database of the test folder `dir`: the
 * SQLite file dir/file, or with OUTPOST_TEST_DB=pgsql the folder's own database on the test
 * PostgreSQL server (dropped by testutil_rmdir). A second open is a second connection. */
struct db *testutil_db_open(const char *dir, const char *file);

/* The first column of the first row of `sql` on db, as an integer; the test fails, naming
 * the query and the database's message, when it cannot run or returns no row. */
int64_t testutil_query_int(struct db *db, const char *sql);

/* PostgreSQL only: the connection string of the test folder's database, created empty when
 * missing (not migrated), with `password` instead of the fixture's when not NULL; free it
 * with pg_conninfo_free (instance/config.h). */
/* The throw-away PostgreSQL server's folder (OUTPOST_PG_DIR), or exit 77 (skipped), saying
 * why, when it is not set or the server could not start; `who` names the test. */
const char *testutil_pg_dir(const char *who);
char *testutil_pg_conninfo(const char *dir, const char *password);

/* 1 when the tests run on PostgreSQL (OUTPOST_TEST_DB=pgsql). */
int testutil_on_pgsql(void);

/* setup.json's persistences.default, as JSON text (caller frees), for an instance of `role`
 * made in the test folder `dir`: {"driver": "sqlite", "path": "outpost.db"}, or with
 * OUTPOST_TEST_DB=pgsql for a central, the fixture's server and the folder's own database,
 * created empty (setup makes the schema) and dropped by testutil_rmdir. A device stays on
 * SQLite, as devices always are. */
char *testutil_persistence(const char *dir, const char *role);

/* Writes `text` to DIR/name and returns the path (caller frees). */
char *testutil_write(const char *dir, const char *name, const char *text);

#endif
