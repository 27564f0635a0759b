/* test_copy.c - a store copied table by table (store/copy.h) from a SQLite source into the
 * tests' backend (a SQLite file, or a PostgreSQL database as pg/unit/test_copy), and the
 * per-table digests that prove it: every row arrives, the digests follow the content and not
 * the order rows were written in, what the copy cannot carry stops it, and a failed copy
 * leaves the target as it was. */
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "store/copy.h"

struct fixture {
    char *dir, *dst_dir;
    struct db *src; /* always SQLite: what migrate-store moves */
    struct db *dst; /* the tests' backend */
};

static struct db *sqlite_db(const char *dir, const char *name)
{
    char *path = fs_join(dir, name);
    struct db *db = NULL;
    struct op_err e = {0};
    if (db_open(path, 1, &db, &e) != 0)
        fail_msg("db_open: %s", e.msg);
    free(path);
    return db;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->dir = testutil_tmpdir();
    f->src = sqlite_db(f->dir, "source.db");
    f->dst = testutil_db(&f->dst_dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(db_stmt_held(f->src), 0);
    assert_int_equal(db_stmt_held(f->dst), 0);
    db_close(f->src);
    db_close(f->dst);
    fs_remove_tree(f->dir); /* SQLite files only: no database of its own to drop */
    free(f->dir);
    testutil_rmdir(f->dst_dir);
    free(f);
    return 0;
}

static void exec(struct db *db, const char *sql)
{
    struct op_err e = {0};
    if (db_exec(db, sql, &e) != 0)
        fail_msg("%s: %s", sql, e.msg);
}

static const unsigned char envelope[] = {0x00, 0x01, 0xff, 0x00, 0x7f, 0x80, 0x00};

/* Every table gets rows, with what a copy can get wrong: NULLs and empty texts, text beyond
 * ASCII, 64-bit integers, blobs holding zero bytes and an empty blob, a test center whose
 * parent sorts after it (c-aaa under c-zzz), and more rows than a page (sync_feed). */
static void fill(struct db *db)
{
    exec(db,
         "INSERT INTO meta (key, value) VALUES ('lost-master-key:abc', '2026-01-01T00:00:00Z');"
         "UPDATE counters SET value = 5000000000 WHERE name = 'change_seq';"
         "INSERT INTO users (id, login, role, label, first_name, org_id, password_hash,"
         " version, created_at, updated_at, vault_public_key) VALUES"
         " ('u-1', 'admin', 'super-user', 'Super user', NULL, NULL, 'h1', 1, 't0', 't0', 'pk1'),"
         " ('u-2', 'zoë', 'test-taker', '', 'Zoë', 'org1', 'h2', 3, 't0', 't1', NULL),"
         " ('u-3', 'sm', 'sync-manager', NULL, NULL, 'org1', 'h3', 9007199254740993, 't0', 't0',"
         " NULL);"
         "INSERT INTO test_centers (id, label, org_id, parent_id, created_at, updated_at) VALUES"
         " ('c-zzz', 'Parent', 'org1', NULL, 't0', 't0'),"
         " ('c-aaa', 'Child', 'org1', 'c-zzz', 't0', 't0');"
         "INSERT INTO test_center_staff VALUES ('c-aaa', 'u-2', 'proctor'),"
         " ('c-aaa', 'u-1', 'admin');"
         "INSERT INTO deliveries (id, label, package_sha256, max_executions, created_at,"
         " updated_at) VALUES ('d-1', 'Maths', NULL, 2, 't0', 't0');"
         "INSERT INTO eligibilities (id, center_id, delivery_id, proctored, created_at,"
         " updated_at) VALUES ('e-1', 'c-aaa', 'd-1', 0, 't0', 't0');"
         "INSERT INTO eligibility_test_takers VALUES ('e-1', 'u-2');"
         "INSERT INTO devices (id, label, org_id, sync_manager_id, signing_public_key,"
         " enrolled_at) VALUES ('dev-1', 'Laptop', 'org1', 'u-3', 'spk', 't0');"
         "INSERT INTO results_keys (id, serial, public_key, created_at) VALUES"
         " ('k-1', 1, 'rpk', 't0'), ('k-0', NULL, NULL, NULL);"
         /* the sync caches (migrations 13 and 18): moved with the rest */
         "INSERT INTO sync_sealed VALUES ('profile', 'u-2', 'u-2', 'fp', 'box');"
         "INSERT INTO sync_digests VALUES ('org1', 4000001233, 'digest');"
         "INSERT INTO sync_texts VALUES ('org1', 'user', 'u-2', 3, 4000000001,"
         " '{\"label\":\"Zoë\"}');");
    struct op_err e = {0};
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO results (id, execution_id, delivery_id,"
                                 " test_taker_id, device_id, key_id, state, started_at, ended_at,"
                                 " sealed_at, envelope, envelope_sha256, received_at) VALUES"
                                 " ('r-1', 'x-1', 'd-1', 'u-2', 'dev-1', 'k-1', 'finished', 't0',"
                                 " 't1', 't1', ?1, 'sha', 't2')",
                                 &e);
    assert_non_null(st);
    db_bind_blob(st, 1, envelope, sizeof envelope);
    assert_int_equal(db_step_done(db, st, "result", &e), 0);
    st = db_stmt(db,
                 "INSERT INTO results_quarantine VALUES ('r-1', 'dev-1', 'sha2', 'other content',"
                 " 'd-1', 'u-2', 'k-1', ?1, 't3')",
                 &e);
    assert_non_null(st);
    db_bind_blob(st, 1, "", 0);
    assert_int_equal(db_step_done(db, st, "quarantine", &e), 0);
    for (int i = 0; i < 1234; i++) {
        st = db_stmt(db,
                     "INSERT INTO sync_feed (org_id, entity, entity_id, seq, version, deleted)"
                     " VALUES (?1, 'user', ?2, ?3, 1, ?4)",
                     &e);
        assert_non_null(st);
        char id[32];
        snprintf(id, sizeof id, "u-%05d", i);
        db_bind_text(st, 1, i % 2 ? "org1" : "org2");
        db_bind_text(st, 2, id);
        db_bind_int64(st, 3, 4000000000LL + i);
        db_bind_int(st, 4, i % 7 == 0);
        assert_int_equal(db_step_done(db, st, "feed", &e), 0);
    }
}

/* copy_source and copy_store under one source transaction, as migrate-store runs them. */
static int copy(struct fixture *f, struct copy_report *r, struct op_err *e)
{
    assert_int_equal(db_begin(f->src, e), 0);
    int rc = copy_source(f->src, r, e);
    if (rc == 0)
        rc = copy_store(f->src, f->dst, r, e);
    db_rollback(f->src);
    return rc;
}

static const struct copy_digest *digest_of(const struct copy_digests *d, const char *table)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->t[i].table, table) == 0)
            return &d->t[i];
    fail_msg("no digest of table %s", table);
    return NULL;
}

static void test_copy_knows_every_table_and_column_of_the_schema(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    assert_int_equal(copy_check_schema(f->src, &e), 0);
    assert_int_equal(copy_check_schema(f->dst, &e), 0);
}

static void test_copy_moves_every_row_and_the_digests_match(void **state)
{
    struct fixture *f = *state;
    fill(f->src);
    struct copy_report r;
    struct op_err e = {0};
    int rc = copy(f, &r, &e);
    if (rc != 0)
        fail_msg("copy: %s", e.msg);
    assert_int_equal(r.src.n, r.dst.n);
    int64_t rows = 0;
    for (int i = 0; i < r.src.n; i++) {
        assert_string_equal(r.src.t[i].table, r.dst.t[i].table);
        assert_int_equal(r.src.t[i].rows, r.dst.t[i].rows);
        assert_string_equal(r.src.t[i].sha256, r.dst.t[i].sha256);
        rows += r.src.t[i].rows;
    }
    assert_int_equal(r.rows, rows);
    assert_int_equal(digest_of(&r.src, "sync_feed")->rows, 1234);
    assert_int_equal(digest_of(&r.src, "users")->rows, 3);

    /* read back on the target through the statement API, not only through the digests */
    assert_int_equal(
        testutil_query_int(f->dst, "SELECT value FROM counters WHERE name = 'change_seq'"),
        5000000000LL);
    assert_int_equal(testutil_query_int(f->dst,
                                        "SELECT count(*) FROM test_centers WHERE id = 'c-aaa' AND"
                                        " parent_id = 'c-zzz'"),
                     1);
    assert_int_equal(
        testutil_query_int(f->dst, "SELECT count(*) FROM users WHERE label = '' AND login = 'zoë'"),
        1);
    assert_int_equal(testutil_query_int(f->dst, "SELECT count(*) FROM users WHERE label IS NULL"),
                     1);
    assert_int_equal(testutil_query_int(f->dst, "SELECT version FROM users WHERE id = 'u-3'"),
                     9007199254740993LL);
    struct db_stmt *st = db_stmt(f->dst, "SELECT envelope FROM results WHERE id = 'r-1'", &e);
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_ROW);
    size_t n = 0;
    const void *p = db_column_blob(st, 0, &n);
    assert_int_equal(n, sizeof envelope);
    assert_memory_equal(p, envelope, n);
    db_stmt_done(f->dst, st);
    assert_int_equal(testutil_query_int(f->dst,
                                        "SELECT count(*) FROM results_quarantine WHERE envelope IS"
                                        " NOT NULL"),
                     1);
    /* the source's migration history, not the target's */
    assert_int_equal(testutil_query_int(f->dst, "SELECT count(*) FROM schema_migrations"),
                     testutil_query_int(f->src, "SELECT count(*) FROM schema_migrations"));

    /* a target that holds records now is refused, and keeps them */
    rc = copy(f, &r, &e);
    assert_int_equal(rc, OP_ESTATE);
    assert_non_null(strstr(e.msg, "already holds 3 users"));
    assert_int_equal(testutil_query_int(f->dst, "SELECT count(*) FROM sync_feed"), 1234);
}

/* Digests follow the rows, not the order they were written in, and change with any value,
 * NULL told from "" */
static void test_copy_digest_follows_the_content_not_the_order(void **state)
{
    struct fixture *f = *state;
    struct db *other = sqlite_db(f->dir, "other.db");
    exec(f->src, "INSERT INTO meta VALUES ('a', '1'); INSERT INTO meta VALUES ('b', '2')");
    exec(other, "INSERT INTO meta VALUES ('b', '2'); INSERT INTO meta VALUES ('a', '1')");
    /* the two were migrated at other times: the same history, for the total's sake */
    exec(f->src, "UPDATE schema_migrations SET applied_at = 't'");
    exec(other, "UPDATE schema_migrations SET applied_at = 't'");
    struct copy_digests d1, d2;
    struct op_err e = {0};
    assert_int_equal(copy_digest(f->src, &d1, &e), 0);
    assert_int_equal(copy_digest(other, &d2, &e), 0);
    assert_string_equal(digest_of(&d1, "meta")->sha256, digest_of(&d2, "meta")->sha256);
    char t1[COPY_SHA256_HEX], t2[COPY_SHA256_HEX];
    copy_digests_total(&d1, t1);
    copy_digests_total(&d2, t2);
    assert_string_equal(t1, t2);

    exec(other, "UPDATE meta SET value = '3' WHERE key = 'b'");
    assert_int_equal(copy_digest(other, &d2, &e), 0);
    assert_string_not_equal(digest_of(&d1, "meta")->sha256, digest_of(&d2, "meta")->sha256);
    copy_digests_total(&d2, t2);
    assert_string_not_equal(t1, t2);

    /* a value moved from one column to the next is another row: length prefixes */
    exec(f->src, "INSERT INTO results_keys (id, public_key) VALUES ('k', 'ab')");
    exec(other, "INSERT INTO results_keys (id, public_key, created_at) VALUES ('k', 'a', 'b')");
    exec(f->src, "INSERT INTO deliveries (id, label, package_sha256, created_at, updated_at)"
                 " VALUES ('d', 'x', NULL, 't', 't')");
    exec(other, "INSERT INTO deliveries (id, label, package_sha256, created_at, updated_at)"
                " VALUES ('d', 'x', '', 't', 't')");
    assert_int_equal(copy_digest(f->src, &d1, &e), 0);
    assert_int_equal(copy_digest(other, &d2, &e), 0);
    assert_string_not_equal(digest_of(&d1, "results_keys")->sha256,
                            digest_of(&d2, "results_keys")->sha256);
    assert_string_not_equal(digest_of(&d1, "deliveries")->sha256,
                            digest_of(&d2, "deliveries")->sha256);
    assert_int_equal(db_stmt_held(other), 0);
    db_close(other);
}

/* SQLite keeps text in an INTEGER column: such a value is refused, never copied as 0. */
static void test_copy_refuses_text_in_an_integer_column(void **state)
{
    struct fixture *f = *state;
    exec(f->src, "UPDATE counters SET value = 'many' WHERE name = 'change_seq'");
    struct copy_report r;
    struct op_err e = {0};
    assert_int_equal(copy(f, &r, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "table counters, column value"));
    assert_non_null(strstr(e.msg, "\"many\" is not an integer"));
    assert_int_equal(testutil_query_int(f->dst, "SELECT count(*) FROM users"), 0);
}

/* A table or column the copy does not know (a newer schema, a hand-made change) stops it
 * before the target is touched. */
static void test_copy_refuses_a_table_or_column_it_does_not_know(void **state)
{
    struct fixture *f = *state;
    struct copy_report r;
    struct op_err e = {0};
    exec(f->src, "CREATE TABLE notes (id TEXT PRIMARY KEY)");
    assert_int_equal(copy(f, &r, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "a table notes that this outpost does not copy"));
    exec(f->src, "DROP TABLE notes; ALTER TABLE users ADD COLUMN shoe_size INTEGER");
    assert_int_equal(copy(f, &r, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "table users has a column shoe_size"));
}

/* A row the target refuses (here a result whose device is gone, kept by a source that did not
 * check its foreign keys) rolls the whole copy back: the target is as before, its seeds
 * included. */
static void test_copy_failure_leaves_the_target_as_it_was(void **state)
{
    struct fixture *f = *state;
    fill(f->src);
    exec(f->src, "PRAGMA foreign_keys = OFF; DELETE FROM devices; PRAGMA foreign_keys = ON");
    int64_t seeds = testutil_query_int(f->dst, "SELECT count(*) FROM counters");
    struct copy_report r;
    struct op_err e = {0};
    int rc = copy(f, &r, &e);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(e.msg, "table results"));
    assert_int_equal(testutil_query_int(f->dst, "SELECT count(*) FROM users"), 0);
    assert_int_equal(testutil_query_int(f->dst, "SELECT count(*) FROM sync_feed"), 0);
    assert_int_equal(testutil_query_int(f->dst, "SELECT count(*) FROM counters"), seeds);
    assert_false(db_in_transaction(f->dst));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_knows_every_table_and_column_of_the_schema, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_copy_moves_every_row_and_the_digests_match, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_copy_digest_follows_the_content_not_the_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_copy_refuses_text_in_an_integer_column, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_copy_refuses_a_table_or_column_it_does_not_know, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_copy_failure_leaves_the_target_as_it_was, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
