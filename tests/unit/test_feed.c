/* test_feed.c - the per-organisation change feed: versions, scope and tombstones. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "centers_fixture.h"
#include "feed_view_fixture.h"
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

/* Two organisations with more records than a page, live ones and tombstones: centers, their
 * eligibilities, deliveries and test takers; a center moved from ORG-A to ORG-B, an
 * eligibility withdrawn, a test taker deleted. */
struct two_orgs {
    char d1[UUID_STR_LEN], d2[UUID_STR_LEN];
    char c1[UUID_STR_LEN], c2[UUID_STR_LEN], c3[UUID_STR_LEN];
    char t[8][UUID_STR_LEN];
    char e1[UUID_STR_LEN], e2[UUID_STR_LEN], e3[UUID_STR_LEN];
};

static void move_center(struct db *db, const char *id, const char *org)
{
    struct test_center_changes ch = {.org_id = org};
    int changed = 0;
    int64_t v = fx_center_version(db, id);
    fx_begin(db);
    OK(testcenters_update(db, id, v, &ch, &changed, fx_e));
    fx_commit(db);
    assert_int_equal(changed, 1);
}

static void withdraw(struct db *db, const char *eligibility_id)
{
    fx_begin(db);
    OK(eligibilities_delete(db, eligibility_id, fx_e));
    fx_commit(db);
}

static void build_two_orgs(struct db *db, struct two_orgs *o)
{
    char sm[UUID_STR_LEN], login[16];
    fx_delivery(db, "D1", 0, o->d1);
    fx_delivery(db, "D2", 1, o->d2);
    fx_center(db, "C1", "ORG-A", NULL, o->c1);
    fx_center(db, "C2", "ORG-A", NULL, o->c2);
    fx_center(db, "C3", "ORG-B", NULL, o->c3);
    for (int i = 0; i < 8; i++) {
        snprintf(login, sizeof login, "t%d", i);
        fx_user(db, login, ROLE_TEST_TAKER, o->t[i]);
    }
    fx_user(db, "sm-a", ROLE_SYNC_MANAGER, sm); /* ORG-A */
    const char *a[] = {o->t[0], o->t[1], o->t[2]}, *b[] = {o->t[3], o->t[4]},
               *c[] = {o->t[5], o->t[6], o->t[7]};
    fx_eligible(db, o->c1, o->d1, a, 3, 0, o->e1);
    fx_eligible(db, o->c2, o->d2, b, 2, 1, o->e2);
    fx_eligible(db, o->c3, o->d1, c, 3, 0, o->e3);
    move_center(db, o->c2, "ORG-B"); /* ORG-A: tombstones for C2, e2, D2, t3, t4 */
    withdraw(db, o->e3);             /* ORG-B: tombstones for e3, D1, t5..t7 */
    fx_begin(db);
    OK(users_delete(db, o->t[1], fx_e)); /* ORG-A: tombstone for t1 */
    fx_commit(db);
}

/* A device paging through its organisation's feed with pages smaller than the feed gets
 * every record once, live or as a tombstone, exactly the scope central holds. */
static void test_feed_paged_in_small_pages_gives_the_scope_once(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct two_orgs o;
    build_two_orgs(db, &o);
    static const int limits[] = {1, 2, 3, 7};
    const char *orgs[] = {"ORG-A", "ORG-B"};
    for (size_t l = 0; l < sizeof limits / sizeof *limits; l++)
        for (int k = 0; k < 2; k++) {
            struct feed_view fv;
            assert_int_equal(fv_read_once(db, orgs[k], limits[l], &fv), 0);
            assert_true(fv.n > 7); /* more records than the largest page */
            assert_int_equal(fv_check(db, orgs[k], &fv), 0);
            fv_free(&fv);
        }
    db_close(db);
    testutil_rmdir(dir);
}

/* One write of a sequence that moves records in and out of both organisations' scopes;
 * returns 0 once the sequence is over. */
static int write_step(struct db *db, struct two_orgs *o, int step)
{
    char id[UUID_STR_LEN];
    struct user_changes uc = {.set = USER_SET_LABEL, .label = "renamed"};
    switch (step) {
    case 0:
        move_center(db, o->c2, "ORG-A"); /* back: C2, e2, D2, t3, t4 return to ORG-A */
        return 1;
    case 1: {
        const char *v[] = {o->t[0], o->t[2], o->t[5]};
        fx_eligible(db, o->c1, o->d1, v, 3, ELIGIBILITY_PROCTORED_KEEP, o->e1);
        return 1;
    }
    case 2: {
        struct user u;
        OK(users_get_by_id(db, o->t[0], &u, fx_e));
        fx_begin(db);
        OK(users_update(db, o->t[0], u.version, &uc, NULL, fx_e));
        fx_commit(db);
        user_clear(&u);
        return 1;
    }
    case 3:
        withdraw(db, o->e2);
        return 1;
    case 4:
        move_center(db, o->c1, "ORG-B");
        return 1;
    case 5: {
        const char *v[] = {o->t[6], o->t[7]};
        fx_eligible(db, o->c3, o->d2, v, 2, 0, o->e3);
        return 1;
    }
    case 6:
        fx_center(db, "C4", "ORG-A", NULL, id);
        return 1;
    case 7:
        fx_begin(db);
        OK(users_delete(db, o->t[2], fx_e));
        fx_commit(db);
        return 1;
    case 8:
        move_center(db, o->c1, "ORG-A");
        return 1;
    default:
        return 0;
    }
}

/* Writes committed between a device's pages: it resumes after the last seq it read and ends
 * with the scope central holds, every seq read in increasing order. */
static void test_feed_paged_between_writes_ends_with_the_scope(void **state)
{
    (void)state;
    static const int limits[] = {1, 2, 3, 7};
    const char *orgs[] = {"ORG-A", "ORG-B"};
    for (size_t l = 0; l < sizeof limits / sizeof *limits; l++) {
        char *dir;
        struct db *db = testutil_db(&dir);
        struct two_orgs o;
        build_two_orgs(db, &o);
        struct feed_view fv[2];
        memset(fv, 0, sizeof fv);
        int step = 0, writing = 1;
        while (writing) {
            for (int k = 0; k < 2; k++)
                assert_true(fv_page(db, orgs[k], limits[l], &fv[k]) >= 0);
            writing = write_step(db, &o, step++);
        }
        for (int k = 0; k < 2; k++) {
            assert_int_equal(fv_catch_up(db, orgs[k], limits[l], &fv[k]), 0);
            assert_int_equal(fv_check(db, orgs[k], &fv[k]), 0);
            fv_free(&fv[k]);
        }
        db_close(db);
        testutil_rmdir(dir);
    }
}

/* A transaction touching more records than one refresh statement takes (16) numbers their rows
 * in the order they were first touched, once each, with no gap. */
static void test_feed_numbers_a_large_transaction_in_first_touch_order(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    enum { N = 150 };
    static char ids[N][UUID_STR_LEN];
    assert_int_equal(db_begin(db, &e), 0);
    for (int i = 0; i < N; i++) {
        struct user u;
        memset(&u, 0, sizeof u);
        char login[16];
        snprintf(login, sizeof login, "sm%03d", N - i); /* ids and logins in no useful order */
        u.login = login;
        u.role = (char *)ROLE_SYNC_MANAGER;
        u.org_id = (char *)"ORG-A";
        u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
        assert_int_equal(users_insert(db, &u, &e), 0);
        memcpy(ids[i], u.id, UUID_STR_LEN);
    }
    assert_int_equal(db_commit(db, &e), 0);
    struct feed_change ch[N + 1];
    int n;
    assert_int_equal(feed_read(db, "ORG-A", 0, N + 1, ch, &n, &e), 0);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        assert_string_equal(ch[i].entity_id, ids[i]);
        assert_int_equal(ch[i].seq, i + 1);
    }
    db_close(db);
    testutil_rmdir(dir);
}

static void insert_in_role(struct db *db, const char *login, const char *role, const char *org,
                           char id_out[UUID_STR_LEN])
{
    struct op_err e = {0};
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)login;
    u.role = (char *)role;
    u.org_id = (char *)org;
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    if (users_insert(db, &u, &e) != 0)
        fail_msg("users_insert: %s", e.msg);
    if (id_out)
        memcpy(id_out, u.id, UUID_STR_LEN);
}

/* n test takers named PREFIXnnn in one transaction. */
static void insert_test_takers(struct db *db, const char *prefix, int n)
{
    struct op_err e = {0};
    assert_int_equal(db_begin(db, &e), 0);
    for (int i = 0; i < n; i++) {
        char login[32];
        snprintf(login, sizeof login, "%s%03d", prefix, i);
        insert_in_role(db, login, ROLE_TEST_TAKER, NULL, NULL);
    }
    assert_int_equal(db_commit(db, &e), 0);
}

static void edit_label(struct db *db, const char *id, int64_t version, const char *label)
{
    struct op_err e = {0};
    struct user_changes uc = {.set = USER_SET_LABEL, .label = label};
    assert_int_equal(db_begin(db, &e), 0);
    if (users_update(db, id, version, &uc, NULL, &e) != 0)
        fail_msg("users_update: %s", e.msg);
    assert_int_equal(db_commit(db, &e), 0);
}

/* Round trips to PostgreSQL per operation, pinned (bench/README.md explains each): a write
 * transaction is BEGIN with the write lock (1) and COMMIT (1), around the INSERT or the UPDATE
 * with its version check (1 each). The change feed's refresh (one statement per 16 touched
 * records) goes with the COMMIT, in the same round trip (db_step_later): as many round trips
 * as bare libpq needs for the same rows without a feed. Statements are prepared before
 * counting (once per connection). On SQLite nothing is sent. */
static void test_an_insert_and_an_edit_cost_fixed_round_trips(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    int pg = strcmp(db_backend_name(db), "pgsql") == 0;
    struct op_err e = {0};
    char sm[UUID_STR_LEN], sm2[UUID_STR_LEN];
    /* every statement counted below, prepared once */
    insert_test_takers(db, "warm", 100);
    assert_int_equal(db_begin(db, &e), 0);
    insert_user(db, "sm", "ORG-A", sm);
    assert_int_equal(db_commit(db, &e), 0);
    edit_label(db, sm, 1, "warm");

    uint64_t rt = db_pgsql_round_trips();
    assert_int_equal(db_begin(db, &e), 0);
    insert_user(db, "sm2", "ORG-A", sm2); /* in scope: a feed row written */
    assert_int_equal(db_commit(db, &e), 0);
    assert_int_equal(db_pgsql_round_trips() - rt, pg ? 3 : 0);

    rt = db_pgsql_round_trips();
    edit_label(db, sm, 2, "Sync manager");
    assert_int_equal(db_pgsql_round_trips() - rt, pg ? 3 : 0);

    rt = db_pgsql_round_trips();
    insert_test_takers(db, "tt", 100); /* 100 INSERTs; 7 refresh statements with the COMMIT */
    assert_int_equal(db_pgsql_round_trips() - rt, pg ? 1 + 100 + 1 : 0);

    struct feed_change ch[4];
    int n;
    assert_int_equal(feed_read(db, "ORG-A", 0, 4, ch, &n, &e), 0);
    assert_int_equal(n, 2); /* the refreshes did their work */
    assert_string_equal(ch[0].entity_id, sm2);
    assert_string_equal(ch[1].entity_id, sm);
    assert_int_equal(ch[1].version, 3);
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
        cmocka_unit_test(test_feed_paged_in_small_pages_gives_the_scope_once),
        cmocka_unit_test(test_feed_paged_between_writes_ends_with_the_scope),
        cmocka_unit_test(test_feed_numbers_a_large_transaction_in_first_touch_order),
        cmocka_unit_test(test_an_insert_and_an_edit_cost_fixed_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
