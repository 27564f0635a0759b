/* test_synced_digest.c - the device's scope digest (store/synced.h, synced_digest): the
 * lines "entity/id/version\n" of every synced record in (entity, id) order, hashed; and the
 * way SQLite reads both digests (the device's and central's synced_feed_digest): through a
 * covering index alone (migration 11), never the rows (bench/README.md, "Synchronisation").
 * The plans are SQLite's, so this test is not run on PostgreSQL. */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "store/synced.h"
#include "testutil.h"

static struct db *device_db(char **dir)
{
    *dir = testutil_tmpdir();
    char *path = fs_join(*dir, "outpost.db");
    struct db *db;
    struct op_err e = {0};
    if (db_open(path, 1, &db, &e) != 0)
        fail_msg("db_open: %s", e.msg);
    free(path);
    return db;
}

static void put(struct db *db, const char *entity, const char *id, int64_t version)
{
    struct op_err e = {0};
    if (synced_put(db, entity, id, version, "{\"label\": \"a long enough JSON text\"}", 0, &e) != 0)
        fail_msg("synced_put: %s", e.msg);
}

static void test_the_digest_hashes_entity_id_version_in_order(void **state)
{
    (void)state;
    char *dir;
    struct db *db = device_db(&dir);
    struct op_err e = {0};
    char empty[65], expect[65], got[65];
    assert_int_equal(synced_digest(db, got, &e), 0);
    sha256_hex("", 0, empty);
    assert_string_equal(got, empty);
    /* written out of order, with versions that sort differently from the ids */
    put(db, "user", "u2", 3);
    put(db, "delivery", "d1", 12);
    put(db, "user", "u1", 7);
    put(db, "test-center", "c1", 1);
    put(db, "user", "u1", 8); /* an update replaces the version */
    const char *lines = "delivery/d1/12\ntest-center/c1/1\nuser/u1/8\nuser/u2/3\n";
    sha256_hex(lines, strlen(lines), expect);
    assert_int_equal(synced_digest(db, got, &e), 0);
    assert_string_equal(got, expect);
    int deleted;
    assert_int_equal(synced_delete(db, "user", "u2", &deleted, &e), 0);
    assert_int_equal(deleted, 1);
    lines = "delivery/d1/12\ntest-center/c1/1\nuser/u1/8\n";
    sha256_hex(lines, strlen(lines), expect);
    assert_int_equal(synced_digest(db, got, &e), 0);
    assert_string_equal(got, expect);
    db_close(db);
    testutil_rmdir(dir);
}

/* Fails unless SQLite runs `query` from the covering index `index` alone, without sorting. */
static void assert_covered(struct db *db, const char *query, const char *index)
{
    struct op_err e = {0};
    struct buf sql = BUF_INIT, plan = BUF_INIT, want = BUF_INIT;
    buf_printf(&sql, "EXPLAIN QUERY PLAN %s", query);
    buf_printf(&want, "COVERING INDEX %s", index);
    struct db_stmt *st = db_stmt(db, sql.data, &e);
    assert_non_null(st);
    db_bind_text(st, 1, "ORG-A");
    while (db_step(st) == DB_ROW)
        buf_printf(&plan, "%s\n", db_column_text(st, 3));
    db_stmt_done(db, st);
    if (!plan.data || !strstr(plan.data, want.data) || strstr(plan.data, "TEMP B-TREE"))
        fail_msg("%s\ndoes not read the covering index %s alone:\n%s", query, index,
                 plan.data ? plan.data : "");
    buf_free(&sql);
    buf_free(&plan);
    buf_free(&want);
}

static void test_the_digests_read_a_covering_index_only(void **state)
{
    (void)state;
    char *dir;
    struct db *db = device_db(&dir);
    put(db, "user", "u1", 1);
    /* the queries of synced_digest and synced_feed_digest (store/synced.c) */
    assert_covered(db, "SELECT entity, id, version FROM synced_records ORDER BY entity, id",
                   "synced_records_digest");
    assert_covered(db,
                   "SELECT entity, entity_id, version FROM sync_feed"
                   " WHERE org_id = ?1 AND deleted = 0 ORDER BY entity, entity_id",
                   "sync_feed_digest");
    db_close(db);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_digest_hashes_entity_id_version_in_order),
        cmocka_unit_test(test_the_digests_read_a_covering_index_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
