/* test_deliveries.c - the deliveries store: versions, lookup by id or label, withdrawal. */
#include "centers_fixture.h"

static void test_delivery_update_bumps_version_and_reaches_feed(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    char c[UUID_STR_LEN], d[UUID_STR_LEN], u[UUID_STR_LEN], el[UUID_STR_LEN];
    fx_center(db, "School", "ORG-A", NULL, c);
    fx_delivery(db, "Maths", 1, d);
    fx_user(db, "ada", ROLE_TEST_TAKER, u);
    const char *takers[] = {u};
    fx_eligible(db, c, d, takers, 1, 1, el);
    int64_t before = fx_feed_last(db, "ORG-A");

    struct delivery got;
    OK(deliveries_get(db, d, &got, fx_e));
    assert_int_equal(got.version, 1);
    free(got.label);
    got.label = strdup("Maths 2026");
    fx_begin(db);
    OK(deliveries_update(db, &got, NULL, fx_e));
    fx_commit(db);
    assert_int_equal(got.version, 2);
    delivery_clear(&got);
    assert_true(fx_feed_last(db, "ORG-A") > before);
    assert_int_equal(fx_feed(db, "ORG-A", FEED_DELIVERY, d), FEED_LIVE);
    db_close(db);
    testutil_rmdir(dir);
}

/* Two writers read version 1; the second to write must not undo the first's change. */
static void test_delivery_update_refuses_a_version_changed_meanwhile(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    char d[UUID_STR_LEN];
    fx_delivery(db, "Maths", 1, d);
    struct delivery first, second;
    OK(deliveries_get(db, d, &first, fx_e));
    OK(deliveries_get(db, d, &second, fx_e));
    first.max_executions = 2;
    int changed = 0;
    fx_begin(db);
    OK(deliveries_update(db, &first, &changed, fx_e));
    fx_commit(db);
    assert_int_equal(changed, 1);
    free(second.label);
    second.label = strdup("Maths 2026");
    struct op_err e = {0};
    fx_begin(db);
    assert_int_equal(deliveries_update(db, &second, &changed, &e), OP_ECONFLICT);
    assert_int_equal(changed, 0);
    assert_non_null(strstr(e.msg, "changed meanwhile"));
    db_rollback(db);
    /* nothing to change: nothing written, the version stays */
    fx_begin(db);
    OK(deliveries_update(db, &first, &changed, fx_e));
    fx_commit(db);
    assert_int_equal(changed, 0);
    assert_int_equal(first.version, 2);
    /* and the rules of a stored delivery hold for an update too */
    first.max_executions = -1;
    fx_begin(db);
    assert_int_equal(deliveries_update(db, &first, &changed, &e), OP_EINPUT);
    db_rollback(db);
    delivery_clear(&first);
    delivery_clear(&second);
    db_close(db);
    testutil_rmdir(dir);
}

static void test_delivery_find_by_label_and_refuse_ambiguous_label(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    char a[UUID_STR_LEN], b[UUID_STR_LEN], c[UUID_STR_LEN];
    fx_delivery(db, "Unique", 1, a);
    fx_delivery(db, "Twin", 1, b);
    fx_delivery(db, "Twin", 0, c);
    struct delivery got;
    OK(deliveries_find(db, "Unique", &got, fx_e));
    assert_string_equal(got.id, a);
    delivery_clear(&got);
    OK(deliveries_find(db, b, &got, fx_e)); /* an id always works */
    assert_string_equal(got.id, b);
    delivery_clear(&got);
    struct op_err e = {0};
    assert_int_equal(deliveries_find(db, "Twin", &got, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "2 deliveries are labelled \"Twin\""));
    assert_int_equal(deliveries_find(db, "Nothing", &got, &e), OP_ENOTFOUND);
    db_close(db);
    testutil_rmdir(dir);
}

static void test_delivery_delete_tombstones_delivery_eligibility_and_lone_test_taker(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    char c[UUID_STR_LEN], d[UUID_STR_LEN], d2[UUID_STR_LEN], u[UUID_STR_LEN], v[UUID_STR_LEN],
        el[UUID_STR_LEN], el2[UUID_STR_LEN];
    fx_center(db, "School", "ORG-A", NULL, c);
    fx_delivery(db, "Maths", 1, d);
    fx_delivery(db, "French", 1, d2);
    fx_user(db, "ada", ROLE_TEST_TAKER, u);
    fx_user(db, "bob", ROLE_TEST_TAKER, v);
    const char *both[] = {u, v};
    const char *only_bob[] = {v};
    fx_eligible(db, c, d, both, 2, 1, el);
    fx_eligible(db, c, d2, only_bob, 1, 1, el2);
    fx_begin(db);
    OK(deliveries_delete(db, d, fx_e));
    fx_commit(db);
    assert_int_equal(fx_feed(db, "ORG-A", FEED_DELIVERY, d), FEED_TOMBSTONE);
    assert_int_equal(fx_feed(db, "ORG-A", FEED_ELIGIBILITY, el), FEED_TOMBSTONE);
    assert_int_equal(fx_feed(db, "ORG-A", FEED_USER, u), FEED_TOMBSTONE); /* left the scope */
    assert_int_equal(fx_feed(db, "ORG-A", FEED_USER, v), FEED_LIVE); /* still eligible for French */
    assert_int_equal(fx_feed(db, "ORG-A", FEED_DELIVERY, d2), FEED_LIVE);
    struct delivery got;
    struct op_err e = {0};
    assert_int_equal(deliveries_get(db, d, &got, &e), OP_ENOTFOUND);
    db_close(db);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivery_update_bumps_version_and_reaches_feed),
        cmocka_unit_test(test_delivery_update_refuses_a_version_changed_meanwhile),
        cmocka_unit_test(test_delivery_find_by_label_and_refuse_ambiguous_label),
        cmocka_unit_test(test_delivery_delete_tombstones_delivery_eligibility_and_lone_test_taker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
