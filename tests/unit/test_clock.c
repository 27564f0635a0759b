/* test_clock.c - the process clock (base/clock.h): a test fixes it, and every time stamp the
 * store writes follows it, all made in C (timestamp_now; no SQL reads a clock). */
#include "centers_fixture.h"

#include "base/clock.h"

static time_t fixed_now;

static int restore_clock(void **state)
{
    (void)state;
    clock_set(NULL);
    return 0;
}

static void test_a_fixed_clock_dates_the_records_the_store_writes(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    fixed_now = 1700000000; /* 2023-11-14T22:13:20Z */
    clock_set(&(struct op_clock){clock_fixed, &fixed_now});
    assert_int_equal(clock_now(), 1700000000);

    char c[UUID_STR_LEN], d[UUID_STR_LEN], u[UUID_STR_LEN], el[UUID_STR_LEN];
    fx_center(db, "School", "ORG-A", NULL, c);
    fx_delivery(db, "Maths", 1, d);
    fx_user(db, "ada", ROLE_TEST_TAKER, u);
    const char *takers[] = {u};
    fx_eligible(db, c, d, takers, 1, 1, el);
    struct test_center got;
    OK(testcenters_get(db, c, &got, fx_e));
    assert_string_equal(got.created_at, "2023-11-14T22:13:20Z");
    assert_string_equal(got.updated_at, "2023-11-14T22:13:20Z");
    test_center_clear(&got);
    struct delivery dl;
    OK(deliveries_get(db, d, &dl, fx_e));
    assert_string_equal(dl.created_at, "2023-11-14T22:13:20Z");
    delivery_clear(&dl);

    /* a day later, deleting the test taker touches the eligibility (users.c binds the time) */
    fixed_now += 86400;
    fx_begin(db);
    OK(users_delete(db, u, fx_e));
    fx_commit(db);
    struct op_err e = {0};
    struct db_stmt *st =
        db_stmt(db, "SELECT updated_at, created_at FROM eligibilities WHERE id = ?1", &e);
    assert_non_null(st);
    db_bind_text(st, 1, el);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_column_text(st, 0), "2023-11-15T22:13:20Z");
    assert_string_equal(db_column_text(st, 1), "2023-11-14T22:13:20Z");
    db_stmt_done(db, st);
    db_close(db);
    testutil_rmdir(dir);
}

static void test_without_a_set_clock_the_system_clock_answers(void **state)
{
    (void)state;
    fixed_now = 0;
    clock_set(&(struct op_clock){clock_fixed, &fixed_now});
    assert_int_equal(clock_now(), 0);
    clock_set(NULL);
    time_t before = time(NULL);
    time_t now = clock_now();
    assert_true(now >= before && now <= time(NULL));
    char stamp[TIMESTAMP_STR_LEN];
    timestamp_now(stamp);
    assert_int_equal(strlen(stamp), 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_a_fixed_clock_dates_the_records_the_store_writes,
                                  restore_clock),
        cmocka_unit_test_teardown(test_without_a_set_clock_the_system_clock_answers, restore_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
