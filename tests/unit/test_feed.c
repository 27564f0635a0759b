/* test_feed.c - the per-organisation change feed: versions, scope and tombstones. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "store/feed.h"
#include "store/users.h"

static void add_user(struct db *db, const char *login, const char *role, const char *org,
                     char id_out[UUID_STR_LEN])
{
    struct op_err e = {0};
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)login;
    u.role = (char *)role;
    u.org_id = (char *)org;
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    assert_int_equal(db_begin(db, &e), 0);
    if (users_insert(db, &u, &e) != 0)
        fail_msg("users_insert: %s", e.msg);
    assert_int_equal(db_commit(db, &e), 0);
    memcpy(id_out, u.id, UUID_STR_LEN);
}

static void test_feed_lists_sync_manager_in_own_org_only(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    char id[UUID_STR_LEN];
    add_user(db, "sm", ROLE_SYNC_MANAGER, "ORG-A", id);
    struct feed_change ch[8];
    int n;
    struct op_err e = {0};
    assert_int_equal(feed_read(db, "ORG-A", 0, 8, ch, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ch[0].entity_id, id);
    assert_int_equal(ch[0].deleted, 0);
    assert_int_equal(feed_read(db, "ORG-B", 0, 8, ch, &n, &e), 0);
    assert_int_equal(n, 0);
    db_close(db);
    testutil_rmdir(dir);
}

static void test_feed_tombstones_deleted_user_with_new_seq(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    char id[UUID_STR_LEN];
    add_user(db, "sm", ROLE_SYNC_MANAGER, "ORG-A", id);
    struct feed_change ch[8];
    int n;
    struct op_err e = {0};
    assert_int_equal(feed_read(db, "ORG-A", 0, 8, ch, &n, &e), 0);
    int64_t first = ch[0].seq;
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(users_delete(db, id, &e), 0);
    assert_int_equal(db_commit(db, &e), 0);
    assert_int_equal(feed_read(db, "ORG-A", first, 8, ch, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ch[0].deleted, 1);
    assert_true(ch[0].seq > first);
    db_close(db);
    testutil_rmdir(dir);
}

static void test_feed_touch_is_idempotent(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    char id[UUID_STR_LEN];
    add_user(db, "sm", ROLE_SYNC_MANAGER, "ORG-A", id);
    struct op_err e = {0};
    struct feed_change ch[8];
    int n;
    assert_int_equal(feed_read(db, "ORG-A", 0, 8, ch, &n, &e), 0);
    int64_t seq = ch[0].seq;
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(feed_touch(db, FEED_USER, id, &e), 0);
    assert_int_equal(db_commit(db, &e), 0);
    assert_int_equal(feed_read(db, "ORG-A", 0, 8, ch, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ch[0].seq, seq); /* nothing changed, nothing new in the feed */
    db_close(db);
    testutil_rmdir(dir);
}

static void test_feed_refreshes_a_record_touched_many_times_once_at_commit(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)"sm";
    u.role = (char *)ROLE_SYNC_MANAGER;
    u.org_id = (char *)"ORG-A";
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(users_insert(db, &u, &e), 0);
    struct user_changes uc = {.set = USER_SET_LABEL, .label = "Sync manager"};
    for (int64_t v = 1; v <= 5; v++)
        assert_int_equal(users_update(db, u.id, v, &uc, NULL, &e), 0);
    assert_int_equal(db_commit(db, &e), 0);
    struct feed_change ch[8];
    int n;
    assert_int_equal(feed_read(db, "ORG-A", 0, 8, ch, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ch[0].version, 6); /* the version at commit */
    assert_int_equal(ch[0].seq, 1);     /* one feed write for six changes */
    db_close(db);
    testutil_rmdir(dir);
}

static void test_feed_forgets_touches_of_a_rolled_back_transaction(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)"sm";
    u.role = (char *)ROLE_SYNC_MANAGER;
    u.org_id = (char *)"ORG-A";
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(users_insert(db, &u, &e), 0);
    db_rollback(db);
    char id[UUID_STR_LEN];
    add_user(db, "other", ROLE_SYNC_MANAGER, "ORG-B", id);
    struct feed_change ch[8];
    int n;
    assert_int_equal(feed_read(db, "ORG-A", 0, 8, ch, &n, &e), 0);
    assert_int_equal(n, 0); /* the rolled-back user never reached the feed */
    assert_int_equal(feed_read(db, "ORG-B", 0, 8, ch, &n, &e), 0);
    assert_int_equal(n, 1);
    db_close(db);
    testutil_rmdir(dir);
}

/* Inserts a sync manager of `org` inside the open transaction (no commit). */
static void insert_user(struct db *db, const char *login, const char *org,
                        char id_out[UUID_STR_LEN])
{
    struct op_err e = {0};
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)login;
    u.role = (char *)ROLE_SYNC_MANAGER;
    u.org_id = (char *)org;
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    if (users_insert(db, &u, &e) != 0)
        fail_msg("users_insert: %s", e.msg);
    memcpy(id_out, u.id, UUID_STR_LEN);
}

/* The touched records live in memory on the connection: a savepoint rolled back must forget
 * the records first touched after it, as the rows of a table would be, so the records that
 * commit are numbered in the order their kept changes were made. Here x is touched inside an
 * undone savepoint, then y, then x again: y comes first in the feed. */
static void test_feed_forgets_touches_undone_by_a_savepoint(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    char x[UUID_STR_LEN], y[UUID_STR_LEN];
    add_user(db, "x", ROLE_SYNC_MANAGER, "ORG-A", x);
    struct feed_change ch[8];
    int n;
    assert_int_equal(feed_read(db, "ORG-A", 0, 8, ch, &n, &e), 0);
    int64_t first = ch[0].seq;
    struct user_changes uc = {.set = USER_SET_LABEL, .label = "X"};
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(db_savepoint(db, &e), 0);
    assert_int_equal(users_update(db, x, 1, &uc, NULL, &e), 0);
    assert_int_equal(db_savepoint_rollback(db, &e), 0);
    insert_user(db, "y", "ORG-A", y);
    assert_int_equal(users_update(db, x, 1, &uc, NULL, &e), 0);
    assert_int_equal(db_commit(db, &e), 0);
    assert_int_equal(feed_read(db, "ORG-A", first, 8, ch, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ch[0].entity_id, y);
    assert_string_equal(ch[1].entity_id, x);
    assert_int_equal(ch[1].version, 2);
    db_close(db);
    testutil_rmdir(dir);
}

/* Many records touched and undone (an import whose rows keep failing) leave nothing behind
 * and never fill the set with forgotten entries: the next touch and the commit still work. */
static void test_feed_survives_many_undone_savepoints(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    char id[UUID_STR_LEN], login[32];
    assert_int_equal(db_begin(db, &e), 0);
    for (int i = 0; i < 500; i++) {
        assert_int_equal(db_savepoint(db, &e), 0);
        snprintf(login, sizeof login, "undone%d", i);
        insert_user(db, login, "ORG-A", id);
        assert_int_equal(db_savepoint_rollback(db, &e), 0);
    }
    insert_user(db, "kept", "ORG-A", id);
    assert_int_equal(db_savepoint(db, &e), 0);
    insert_user(db, "released", "ORG-A", id);
    assert_int_equal(db_savepoint_release(db, &e), 0);
    assert_int_equal(db_commit(db, &e), 0);
    struct feed_change ch[8];
    int n;
    assert_int_equal(feed_read(db, "ORG-A", 0, 8, ch, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ch[0].seq, 1); /* no sequence number went to an undone record */
    assert_int_equal(ch[1].seq, 2);
    assert_string_equal(ch[1].entity_id, id);
    db_close(db);
    testutil_rmdir(dir);
}

static void test_db_stmt_finds_statements_by_text_not_by_address(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT 1");
    struct db_stmt *one = db_stmt(db, sql, &e);
    assert_non_null(one);
    snprintf(sql, sizeof sql, "SELECT 2"); /* same buffer, other SQL */
    struct db_stmt *two = db_stmt(db, sql, &e);
    assert_non_null(two);
    assert_ptr_not_equal(one, two);
    assert_int_equal(db_step(two), DB_ROW);
    assert_int_equal(db_column_int(two, 0), 2);
    db_stmt_done(db, two);
    db_stmt_done(db, one);
    struct db_stmt *again = db_stmt(db, "SELECT 1", &e);
    assert_ptr_equal(again, one); /* same text: the cached one */
    db_stmt_done(db, again);
    db_close(db);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feed_lists_sync_manager_in_own_org_only),
        cmocka_unit_test(test_feed_tombstones_deleted_user_with_new_seq),
        cmocka_unit_test(test_feed_touch_is_idempotent),
        cmocka_unit_test(test_feed_refreshes_a_record_touched_many_times_once_at_commit),
        cmocka_unit_test(test_feed_forgets_touches_of_a_rolled_back_transaction),
        cmocka_unit_test(test_db_stmt_finds_statements_by_text_not_by_address),
        cmocka_unit_test(test_feed_forgets_touches_undone_by_a_savepoint),
        cmocka_unit_test(test_feed_survives_many_undone_savepoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
