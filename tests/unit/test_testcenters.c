/* test_testcenters.c - test centers: labels, parents, staff, versions and the change feed. */
#include "centers_fixture.h"

struct world {
    char *dir;
    struct db *db;
};

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    w->db = testutil_db(&w->dir);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    db_close(w->db);
    testutil_rmdir(w->dir);
    free(w);
    return 0;
}

static void test_new_center_is_in_its_own_org_feed_only(void **state)
{
    struct world *w = *state;
    char c[UUID_STR_LEN];
    fx_center(w->db, "Lycee Nord", "ORG-A", NULL, c);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_TEST_CENTER, c), FEED_LIVE);
    assert_int_equal(fx_feed(w->db, "ORG-B", FEED_TEST_CENTER, c), FEED_ABSENT);
    assert_int_equal(fx_center_version(w->db, c), 1);
}

static void test_several_centers_may_share_an_org(void **state)
{
    struct world *w = *state;
    char a[UUID_STR_LEN], b[UUID_STR_LEN];
    fx_center(w->db, "Room 1", "ORG-A", NULL, a);
    fx_center(w->db, "Room 2", "ORG-A", NULL, b);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_TEST_CENTER, a), FEED_LIVE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_TEST_CENTER, b), FEED_LIVE);
}

static void test_find_takes_id_or_label_and_refuses_a_shared_label(void **state)
{
    struct world *w = *state;
    char a[UUID_STR_LEN], b[UUID_STR_LEN], c[UUID_STR_LEN];
    fx_center(w->db, "Twin", "ORG-A", NULL, a);
    fx_center(w->db, "Twin", "ORG-B", NULL, b);
    fx_center(w->db, "Single", "ORG-A", NULL, c);
    struct test_center found;
    struct op_err e = {0};
    assert_int_equal(testcenters_find(w->db, "Single", &found, &e), 0);
    assert_string_equal(found.id, c);
    test_center_clear(&found);
    assert_int_equal(testcenters_find(w->db, a, &found, &e), 0);
    assert_string_equal(found.org_id, "ORG-A");
    test_center_clear(&found);
    assert_int_equal(testcenters_find(w->db, "Twin", &found, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "2 test centers are labelled \"Twin\""));
    assert_non_null(strstr(e.msg, a));
    assert_non_null(strstr(e.msg, b));
    assert_int_equal(testcenters_find(w->db, "Nowhere", &found, &e), OP_ENOTFOUND);
    assert_non_null(strstr(e.msg, "\"Nowhere\""));
}

static void test_bad_label_or_org_is_refused(void **state)
{
    struct world *w = *state;
    struct op_err e = {0};
    struct test_center c;
    memset(&c, 0, sizeof c);
    c.org_id = (char *)"ORG-A";
    c.label = (char *)"";
    fx_begin(w->db);
    assert_int_equal(testcenters_insert(w->db, &c, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "needs a label"));
    c.label = (char *)"0b5b3c2e-8a4f-4d7e-9c1a-2f3e4d5c6b7a";
    assert_int_equal(testcenters_insert(w->db, &c, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "looks like an id"));
    c.label = (char *)"Bad\tlabel";
    assert_int_equal(testcenters_insert(w->db, &c, &e), OP_EINPUT);
    c.label = (char *)"Good";
    c.org_id = (char *)"";
    assert_int_equal(testcenters_insert(w->db, &c, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "organisation id"));
    db_rollback(w->db);
}

static void test_unknown_parent_is_refused(void **state)
{
    struct world *w = *state;
    struct op_err e = {0};
    struct test_center c;
    memset(&c, 0, sizeof c);
    c.label = (char *)"Child";
    c.org_id = (char *)"ORG-A";
    snprintf(c.parent_id, sizeof c.parent_id, "%s", "0b5b3c2e-8a4f-4d7e-9c1a-2f3e4d5c6b7a");
    fx_begin(w->db);
    assert_int_equal(testcenters_insert(w->db, &c, &e), OP_ENOTFOUND);
    assert_non_null(strstr(e.msg, "no parent test center"));
    db_rollback(w->db);
}

static void test_parent_cycles_are_refused(void **state)
{
    struct world *w = *state;
    char a[UUID_STR_LEN], b[UUID_STR_LEN], c[UUID_STR_LEN];
    fx_center(w->db, "A", "ORG-A", NULL, a);
    fx_center(w->db, "B", "ORG-A", a, b);
    fx_center(w->db, "C", "ORG-A", b, c);
    struct test_center top;
    struct op_err e = {0};
    OK(testcenters_get(w->db, a, &top, fx_e));
    fx_begin(w->db);
    struct test_center_changes ch = {.parent_id = c}; /* A under its grandchild */
    assert_int_equal(testcenters_update(w->db, a, top.version, &ch, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "cycle"));
    assert_non_null(strstr(e.msg, "\"C\" is a sub-center of \"A\""));
    ch.parent_id = a; /* A under itself */
    assert_int_equal(testcenters_update(w->db, a, top.version, &ch, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "its own parent"));
    db_rollback(w->db);
    test_center_clear(&top);
    /* Moving C up to A is fine. */
    struct test_center leaf;
    OK(testcenters_get(w->db, c, &leaf, fx_e));
    int changed = 0;
    fx_begin(w->db);
    OK(testcenters_update(w->db, c, leaf.version, &ch, &changed, fx_e));
    fx_commit(w->db);
    assert_int_equal(changed, 1);
    assert_int_equal(fx_center_version(w->db, c), 2);
    test_center_clear(&leaf);
}

static void test_update_bumps_version_only_on_change(void **state)
{
    struct world *w = *state;
    char a[UUID_STR_LEN];
    fx_center(w->db, "A", "ORG-A", NULL, a);
    int64_t seq = fx_feed_last(w->db, "ORG-A");
    struct test_center c;
    OK(testcenters_get(w->db, a, &c, fx_e));
    int changed = 1;
    struct test_center_changes ch = {.label = c.label, .org_id = c.org_id, .parent_id = ""};
    fx_begin(w->db);
    OK(testcenters_update(w->db, a, c.version, &ch, &changed, fx_e));
    fx_commit(w->db);
    assert_int_equal(changed, 0);
    assert_int_equal(fx_center_version(w->db, a), 1);
    assert_int_equal(fx_feed_last(w->db, "ORG-A"), seq);
    ch.label = "A renamed";
    fx_begin(w->db);
    OK(testcenters_update(w->db, a, c.version, &ch, &changed, fx_e));
    fx_commit(w->db);
    assert_int_equal(changed, 1);
    assert_int_equal(fx_center_version(w->db, a), 2);
    assert_true(fx_feed_last(w->db, "ORG-A") > seq);
    test_center_clear(&c);
}

static void test_staff_role_must_match_duty(void **state)
{
    struct world *w = *state;
    char c[UUID_STR_LEN], p[UUID_STR_LEN], t[UUID_STR_LEN], a[UUID_STR_LEN];
    fx_center(w->db, "A", "ORG-A", NULL, c);
    fx_user(w->db, "proc", ROLE_PROCTOR, p);
    fx_user(w->db, "taker", ROLE_TEST_TAKER, t);
    fx_user(w->db, "boss", ROLE_TEST_CENTER_ADMIN, a);
    struct op_err e = {0};
    fx_begin(w->db);
    assert_int_equal(testcenters_assign(w->db, c, p, CENTER_DUTY_ADMIN, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "\"proc\" is a proctor; only test-center-admin users"));
    assert_int_equal(testcenters_assign(w->db, c, t, CENTER_DUTY_PROCTOR, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "\"taker\" is a test-taker; only proctor users"));
    assert_int_equal(testcenters_assign(w->db, c, a, CENTER_DUTY_PROCTOR, NULL, &e), OP_EINPUT);
    const char *ids[] = {p, t};
    assert_int_equal(testcenters_set_staff(w->db, c, CENTER_DUTY_PROCTOR, ids, 2, NULL, &e),
                     OP_EINPUT);
    db_rollback(w->db);
    assert_int_equal(fx_center_version(w->db, c), 1);
}

static void test_assigning_staff_bumps_center_and_puts_user_in_feed(void **state)
{
    struct world *w = *state;
    char c[UUID_STR_LEN], p[UUID_STR_LEN];
    fx_center(w->db, "A", "ORG-A", NULL, c);
    fx_user(w->db, "proc", ROLE_PROCTOR, p);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, p), FEED_ABSENT);
    int changed = 0;
    fx_begin(w->db);
    OK(testcenters_assign(w->db, c, p, CENTER_DUTY_PROCTOR, &changed, fx_e));
    fx_commit(w->db);
    assert_int_equal(changed, 1);
    assert_int_equal(fx_center_version(w->db, c), 2);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, p), FEED_LIVE);
    /* Again: nothing changes. */
    fx_begin(w->db);
    OK(testcenters_assign(w->db, c, p, CENTER_DUTY_PROCTOR, &changed, fx_e));
    fx_commit(w->db);
    assert_int_equal(changed, 0);
    assert_int_equal(fx_center_version(w->db, c), 2);
    /* Unassigned: a tombstone for the user, a new center version. */
    fx_begin(w->db);
    OK(testcenters_unassign(w->db, c, p, CENTER_DUTY_PROCTOR, fx_e));
    fx_commit(w->db);
    assert_int_equal(fx_center_version(w->db, c), 3);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, p), FEED_TOMBSTONE);
    struct op_err e = {0};
    fx_begin(w->db);
    assert_int_equal(testcenters_unassign(w->db, c, p, CENTER_DUTY_PROCTOR, &e), OP_ENOTFOUND);
    assert_non_null(strstr(e.msg, "\"proc\" is not a proctor of test center \"A\""));
    db_rollback(w->db);
}

static void test_set_staff_replaces_the_list(void **state)
{
    struct world *w = *state;
    char c[UUID_STR_LEN], a1[UUID_STR_LEN], a2[UUID_STR_LEN];
    fx_center(w->db, "A", "ORG-A", NULL, c);
    fx_user(w->db, "boss1", ROLE_TEST_CENTER_ADMIN, a1);
    fx_user(w->db, "boss2", ROLE_TEST_CENTER_ADMIN, a2);
    const char *first[] = {a1, a1};
    int changed;
    fx_begin(w->db);
    OK(testcenters_set_staff(w->db, c, CENTER_DUTY_ADMIN, first, 2, &changed, fx_e));
    fx_commit(w->db);
    assert_int_equal(changed, 1);
    const char *second[] = {a2};
    fx_begin(w->db);
    OK(testcenters_set_staff(w->db, c, CENTER_DUTY_ADMIN, second, 1, &changed, fx_e));
    fx_commit(w->db);
    assert_int_equal(changed, 1);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, a1), FEED_TOMBSTONE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, a2), FEED_LIVE);
    int64_t v = fx_center_version(w->db, c);
    fx_begin(w->db);
    OK(testcenters_set_staff(w->db, c, CENTER_DUTY_ADMIN, second, 1, &changed, fx_e));
    fx_commit(w->db);
    assert_int_equal(changed, 0);
    assert_int_equal(fx_center_version(w->db, c), v);
}

static void test_org_change_moves_everything_in_scope(void **state)
{
    struct world *w = *state;
    char c[UUID_STR_LEN], p[UUID_STR_LEN], t[UUID_STR_LEN], d[UUID_STR_LEN], el[UUID_STR_LEN];
    fx_center(w->db, "A", "ORG-A", NULL, c);
    fx_user(w->db, "proc", ROLE_PROCTOR, p);
    fx_user(w->db, "taker", ROLE_TEST_TAKER, t);
    fx_delivery(w->db, "Maths", 1, d);
    fx_begin(w->db);
    OK(testcenters_assign(w->db, c, p, CENTER_DUTY_PROCTOR, NULL, fx_e));
    fx_commit(w->db);
    const char *takers[] = {t};
    fx_eligible(w->db, c, d, takers, 1, 1, el);
    struct test_center tc;
    OK(testcenters_get(w->db, c, &tc, fx_e));
    int64_t v = tc.version;
    struct test_center_changes ch = {.org_id = "ORG-B"};
    fx_begin(w->db);
    OK(testcenters_update(w->db, c, v, &ch, NULL, fx_e));
    fx_commit(w->db);
    assert_int_equal(fx_center_version(w->db, c), v + 1);
    test_center_clear(&tc);
    const char *entities[] = {FEED_TEST_CENTER, FEED_ELIGIBILITY, FEED_DELIVERY, FEED_USER,
                              FEED_USER};
    const char *ids[] = {c, el, d, t, p};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(fx_feed(w->db, "ORG-A", entities[i], ids[i]), FEED_TOMBSTONE);
        assert_int_equal(fx_feed(w->db, "ORG-B", entities[i], ids[i]), FEED_LIVE);
    }
}

static void test_org_change_keeps_what_another_center_still_holds(void **state)
{
    struct world *w = *state;
    char c1[UUID_STR_LEN], c2[UUID_STR_LEN], t[UUID_STR_LEN], d[UUID_STR_LEN];
    char e1[UUID_STR_LEN], e2[UUID_STR_LEN];
    fx_center(w->db, "One", "ORG-A", NULL, c1);
    fx_center(w->db, "Two", "ORG-A", NULL, c2);
    fx_user(w->db, "taker", ROLE_TEST_TAKER, t);
    fx_delivery(w->db, "Maths", 1, d);
    const char *takers[] = {t};
    fx_eligible(w->db, c1, d, takers, 1, 1, e1);
    fx_eligible(w->db, c2, d, takers, 1, 1, e2);
    struct test_center tc;
    OK(testcenters_get(w->db, c1, &tc, fx_e));
    struct test_center_changes ch = {.org_id = "ORG-B"};
    fx_begin(w->db);
    OK(testcenters_update(w->db, c1, tc.version, &ch, NULL, fx_e));
    fx_commit(w->db);
    test_center_clear(&tc);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_ELIGIBILITY, e1), FEED_TOMBSTONE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_ELIGIBILITY, e2), FEED_LIVE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, t), FEED_LIVE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_DELIVERY, d), FEED_LIVE);
    assert_int_equal(fx_feed(w->db, "ORG-B", FEED_USER, t), FEED_LIVE);
}

static void test_delete_refuses_a_center_with_sub_centers_naming_them(void **state)
{
    struct world *w = *state;
    char a[UUID_STR_LEN], b[UUID_STR_LEN], c[UUID_STR_LEN];
    fx_center(w->db, "Region", "ORG-A", NULL, a);
    fx_center(w->db, "School 1", "ORG-A", a, b);
    fx_center(w->db, "School 2", "ORG-B", a, c);
    struct op_err e = {0};
    fx_begin(w->db);
    assert_int_equal(testcenters_delete(w->db, a, &e), OP_ECONFLICT);
    db_rollback(w->db);
    assert_non_null(strstr(e.msg, "\"Region\" has 2 sub-centers"));
    assert_non_null(strstr(e.msg, "\"School 1\""));
    assert_non_null(strstr(e.msg, "\"School 2\""));
    assert_int_equal(fx_center_version(w->db, a), 1);
}

static void test_delete_removes_eligibilities_and_staff_with_tombstones(void **state)
{
    struct world *w = *state;
    char c[UUID_STR_LEN], p[UUID_STR_LEN], t[UUID_STR_LEN], d[UUID_STR_LEN], el[UUID_STR_LEN];
    fx_center(w->db, "A", "ORG-A", NULL, c);
    fx_user(w->db, "proc", ROLE_PROCTOR, p);
    fx_user(w->db, "taker", ROLE_TEST_TAKER, t);
    fx_delivery(w->db, "Maths", 0, d);
    fx_begin(w->db);
    OK(testcenters_assign(w->db, c, p, CENTER_DUTY_PROCTOR, NULL, fx_e));
    fx_commit(w->db);
    const char *takers[] = {t};
    fx_eligible(w->db, c, d, takers, 1, ELIGIBILITY_PROCTORED_KEEP, el);
    fx_begin(w->db);
    OK(testcenters_delete(w->db, c, fx_e));
    fx_commit(w->db);
    struct test_center gone;
    struct op_err e = {0};
    assert_int_equal(testcenters_get(w->db, c, &gone, &e), OP_ENOTFOUND);
    struct eligibility eg;
    assert_int_equal(eligibilities_get(w->db, el, &eg, &e), OP_ENOTFOUND);
    const char *entities[] = {FEED_TEST_CENTER, FEED_ELIGIBILITY, FEED_DELIVERY, FEED_USER,
                              FEED_USER};
    const char *ids[] = {c, el, d, t, p};
    for (int i = 0; i < 5; i++)
        assert_int_equal(fx_feed(w->db, "ORG-A", entities[i], ids[i]), FEED_TOMBSTONE);
    /* The users and the delivery themselves remain. */
    struct user u;
    assert_int_equal(users_get_by_id(w->db, t, &u, &e), 0);
    user_clear(&u);
    struct delivery dv;
    assert_int_equal(deliveries_get(w->db, d, &dv, &e), 0);
    delivery_clear(&dv);
}

static void test_deleting_a_staff_user_bumps_the_center(void **state)
{
    struct world *w = *state;
    char c[UUID_STR_LEN], a[UUID_STR_LEN];
    fx_center(w->db, "A", "ORG-A", NULL, c);
    fx_user(w->db, "boss", ROLE_TEST_CENTER_ADMIN, a);
    fx_begin(w->db);
    OK(testcenters_assign(w->db, c, a, CENTER_DUTY_ADMIN, NULL, fx_e));
    fx_commit(w->db);
    int64_t v = fx_center_version(w->db, c);
    fx_begin(w->db);
    OK(users_delete(w->db, a, fx_e));
    fx_commit(w->db);
    assert_int_equal(fx_center_version(w->db, c), v + 1);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, a), FEED_TOMBSTONE);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_new_center_is_in_its_own_org_feed_only),
        T(test_several_centers_may_share_an_org),
        T(test_find_takes_id_or_label_and_refuses_a_shared_label),
        T(test_bad_label_or_org_is_refused),
        T(test_unknown_parent_is_refused),
        T(test_parent_cycles_are_refused),
        T(test_update_bumps_version_only_on_change),
        T(test_staff_role_must_match_duty),
        T(test_assigning_staff_bumps_center_and_puts_user_in_feed),
        T(test_set_staff_replaces_the_list),
        T(test_org_change_moves_everything_in_scope),
        T(test_org_change_keeps_what_another_center_still_holds),
        T(test_delete_refuses_a_center_with_sub_centers_naming_them),
        T(test_delete_removes_eligibilities_and_staff_with_tombstones),
        T(test_deleting_a_staff_user_bumps_the_center),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
