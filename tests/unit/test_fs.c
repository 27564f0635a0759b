/* test_fs.c - fs_write_new (base/fs.h): written once, never replaced, and 0 either way, so a
 * caller's db_commit_if commits after it. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"

static void test_fs_write_new_writes_once_and_reports_created(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *path = fs_join(dir, "key");
    struct op_err e = {0};
    int created = -1;
    assert_int_equal(fs_write_new(path, "first", 5, 0600, &created, &e), 0);
    assert_int_equal(created, 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* there already: 0, nothing written, *created 0 */
    assert_int_equal(fs_write_new(path, "second", 6, 0600, &created, &e), 0);
    assert_int_equal(created, 0);
    char *data;
    size_t len;
    assert_int_equal(fs_read_file(path, 100, &data, &len, &e), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "first", 5);
    free(data);
    assert_int_equal(fs_write_new(path, "third", 5, 0600, NULL, &e), 0);
    free(path);
    testutil_rmdir(dir);
}

/* fs_write_new returned 1 for "already there", so `db_commit_if(db, rc, e)` after it rolled
 * back work that had succeeded. */
static void test_fs_write_new_of_an_existing_file_lets_the_transaction_commit(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    assert_int_equal(db_exec(db, "CREATE TABLE t (x TEXT)", &e), 0);
    char *path = fs_join(dir, "key");
    for (int i = 0; i < 2; i++) { /* created, then already there */
        assert_int_equal(db_begin(db, &e), 0);
        assert_int_equal(db_exec(db, "INSERT INTO t VALUES ('row')", &e), 0);
        int rc = fs_write_new(path, "k", 1, 0600, NULL, &e);
        assert_int_equal(db_commit_if(db, rc, &e), 0);
    }
    struct db_stmt *st = db_stmt(db, "SELECT count(*) FROM t", &e);
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_column_int(st, 0), 2);
    db_stmt_done(db, st);
    free(path);
    db_close(db);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fs_write_new_writes_once_and_reports_created),
        cmocka_unit_test(test_fs_write_new_of_an_existing_file_lets_the_transaction_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
