/* test_eligibilities.c - eligibilities: test-taker lists, versions and the change feed. */
#include "centers_fixture.h"

struct world {
    char *dir;
    struct db *db;
    char center[UUID_STR_LEN];
    char delivery[UUID_STR_LEN];
    char t1[UUID_STR_LEN], t2[UUID_STR_LEN], proc[UUID_STR_LEN];
};

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    w->db = testutil_db(&w->dir);
    fx_center(w->db, "Lycee Nord", "ORG-A", NULL, w->center);
    fx_delivery(w->db, "Maths 2026", 1, w->delivery);
    fx_user(w->db, "t1", ROLE_TEST_TAKER, w->t1);
    fx_user(w->db, "t2", ROLE_TEST_TAKER, w->t2);
    fx_user(w->db, "proc", ROLE_PROCTOR, w->proc);
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

/* Appends ",login" to the 256-byte string ctx. */
/* "t1,t2": the logins of an eligibility's test takers, in order, read whole and read in pages
 * of one (both must agree). */
static void takers_of(struct db *db, const char *id, char out[256])
{
    out[0] = '\0';
    struct idlist logins = IDLIST_INIT;
    OK(eligibilities_test_takers(db, id, &logins, fx_e));
    for (int i = 0; i < logins.n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, 256 - len, "%s%s", i ? "," : "", logins.v[i]);
    }
    char paged[256] = "";
    struct db_key after = {0};
    int more = 1;
    while (more) {
        struct db_page p;
        OK(eligibilities_test_takers_page(db, id, &after, 1, &p, fx_e));
        for (int i = 0; i < p.n; i++) {
            size_t len = strlen(paged);
            snprintf(paged + len, sizeof paged - len, "%s%s", len ? "," : "",
                     ((const struct eligibility_test_taker *)p.rows)[i].login);
        }
        more = p.more;
        db_key_move(&after, &p.next);
        db_page_clear(&p);
    }
    db_key_clear(&after);
    assert_string_equal(paged, out);
    idlist_free(&logins);
}

static void test_set_creates_eligibility_with_delivery_default(void **state)
{
    struct world *w = *state;
    const char *users[] = {w->t2, w->t1};
    char id[UUID_STR_LEN];
    assert_int_equal(
        fx_eligible(w->db, w->center, w->delivery, users, 2, ELIGIBILITY_PROCTORED_KEEP, id),
        ELIGIBILITY_CREATED);
    struct eligibility el;
    OK(eligibilities_get(w->db, id, &el, fx_e));
    assert_int_equal(el.proctored, 1);
    assert_int_equal(el.version, 1);
    assert_string_equal(el.center_label, "Lycee Nord");
    assert_string_equal(el.delivery_label, "Maths 2026");
    eligibility_clear(&el);
    char takers[256];
    takers_of(w->db, id, takers);
    assert_string_equal(takers, "t1,t2");
    OK(eligibilities_get_pair(w->db, w->center, w->delivery, &el, fx_e));
    assert_string_equal(el.id, id);
    eligibility_clear(&el);
}

static void test_explicit_proctored_overrides_the_default(void **state)
{
    struct world *w = *state;
    const char *users[] = {w->t1};
    char id[UUID_STR_LEN];
    fx_eligible(w->db, w->center, w->delivery, users, 1, 0, id);
    struct eligibility el;
    OK(eligibilities_get(w->db, id, &el, fx_e));
    assert_int_equal(el.proctored, 0);
    eligibility_clear(&el);
    /* Keep leaves an existing eligibility as it was. */
    assert_int_equal(
        fx_eligible(w->db, w->center, w->delivery, users, 1, ELIGIBILITY_PROCTORED_KEEP, id),
        ELIGIBILITY_UNCHANGED);
    OK(eligibilities_get(w->db, id, &el, fx_e));
    assert_int_equal(el.proctored, 0);
    assert_int_equal(el.version, 1);
    eligibility_clear(&el);
    assert_int_equal(fx_eligible(w->db, w->center, w->delivery, users, 1, 1, id),
                     ELIGIBILITY_UPDATED);
    assert_int_equal(fx_eligibility_version(w->db, id), 2);
}

static void test_setting_the_same_list_changes_nothing(void **state)
{
    struct world *w = *state;
    const char *users[] = {w->t1, w->t2};
    const char *again[] = {w->t2, w->t1, w->t1};
    char id[UUID_STR_LEN];
    fx_eligible(w->db, w->center, w->delivery, users, 2, 1, id);
    int64_t seq = fx_feed_last(w->db, "ORG-A");
    assert_int_equal(fx_eligible(w->db, w->center, w->delivery, again, 3, 1, id),
                     ELIGIBILITY_UNCHANGED);
    assert_int_equal(fx_eligibility_version(w->db, id), 1);
    assert_int_equal(fx_feed_last(w->db, "ORG-A"), seq);
}

static void test_test_taker_added_enters_the_org_feed(void **state)
{
    struct world *w = *state;
    const char *first[] = {w->t1};
    const char *both[] = {w->t1, w->t2};
    char id[UUID_STR_LEN];
    fx_eligible(w->db, w->center, w->delivery, first, 1, 1, id);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, w->t1), FEED_LIVE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, w->t2), FEED_ABSENT);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_DELIVERY, w->delivery), FEED_LIVE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_ELIGIBILITY, id), FEED_LIVE);
    assert_int_equal(fx_feed(w->db, "ORG-B", FEED_USER, w->t1), FEED_ABSENT);
    assert_int_equal(fx_eligible(w->db, w->center, w->delivery, both, 2, 1, id),
                     ELIGIBILITY_UPDATED);
    assert_int_equal(fx_eligibility_version(w->db, id), 2);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, w->t2), FEED_LIVE);
}

static void test_test_taker_removed_from_only_eligibility_gets_tombstone(void **state)
{
    struct world *w = *state;
    const char *both[] = {w->t1, w->t2};
    const char *second[] = {w->t2};
    char id[UUID_STR_LEN];
    fx_eligible(w->db, w->center, w->delivery, both, 2, 1, id);
    int64_t seq = fx_feed_last(w->db, "ORG-A");
    assert_int_equal(fx_eligible(w->db, w->center, w->delivery, second, 1, 1, id),
                     ELIGIBILITY_UPDATED);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, w->t1), FEED_TOMBSTONE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, w->t2), FEED_LIVE);
    /* The device sees the change after its cursor. */
    struct feed_change ch[16];
    int n;
    struct op_err e = {0};
    assert_int_equal(feed_read(w->db, "ORG-A", seq, 16, ch, &n, &e), 0);
    int saw_tombstone = 0, saw_eligibility = 0;
    for (int i = 0; i < n; i++) {
        saw_tombstone |= strcmp(ch[i].entity_id, w->t1) == 0 && ch[i].deleted;
        saw_eligibility |= strcmp(ch[i].entity_id, id) == 0 && ch[i].version == 2;
    }
    assert_true(saw_tombstone);
    assert_true(saw_eligibility);
}

static void test_test_taker_in_another_eligibility_of_the_org_stays(void **state)
{
    struct world *w = *state;
    char other[UUID_STR_LEN], d2[UUID_STR_LEN], e1[UUID_STR_LEN], e2[UUID_STR_LEN];
    fx_center(w->db, "Lycee Sud", "ORG-A", NULL, other);
    fx_delivery(w->db, "Physics", 0, d2);
    const char *one[] = {w->t1};
    fx_eligible(w->db, w->center, w->delivery, one, 1, 1, e1);
    fx_eligible(w->db, other, d2, one, 1, 1, e2);
    fx_eligible(w->db, w->center, w->delivery, NULL, 0, 1, e1);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, w->t1), FEED_LIVE);
    assert_int_equal(fx_eligibility_version(w->db, e1), 2);
}

static void test_only_test_takers_can_be_eligible(void **state)
{
    struct world *w = *state;
    const char *users[] = {w->t1, w->proc};
    struct op_err e = {0};
    fx_begin(w->db);
    assert_int_equal(eligibilities_set(w->db, w->center, w->delivery, users, 2, 1, NULL, NULL, &e),
                     OP_EINPUT);
    db_rollback(w->db);
    assert_non_null(strstr(e.msg, "\"proc\" is a proctor; only test-taker users"));
    struct eligibility el;
    assert_int_equal(eligibilities_get_pair(w->db, w->center, w->delivery, &el, &e), OP_ENOTFOUND);
}

static void test_unknown_center_or_delivery_is_refused(void **state)
{
    struct world *w = *state;
    struct op_err e = {0};
    const char *missing = "0b5b3c2e-8a4f-4d7e-9c1a-2f3e4d5c6b7a";
    fx_begin(w->db);
    assert_int_equal(eligibilities_set(w->db, missing, w->delivery, NULL, 0, 1, NULL, NULL, &e),
                     OP_ENOTFOUND);
    assert_non_null(strstr(e.msg, "test center"));
    assert_int_equal(eligibilities_set(w->db, w->center, missing, NULL, 0, 1, NULL, NULL, &e),
                     OP_ENOTFOUND);
    assert_non_null(strstr(e.msg, "delivery"));
    assert_int_equal(eligibilities_set(w->db, w->center, w->delivery, NULL, 0, 7, NULL, NULL, &e),
                     OP_EINPUT);
    db_rollback(w->db);
}

static void test_deleting_a_user_removes_them_and_bumps_the_eligibility(void **state)
{
    struct world *w = *state;
    const char *both[] = {w->t1, w->t2};
    char id[UUID_STR_LEN];
    fx_eligible(w->db, w->center, w->delivery, both, 2, 1, id);
    fx_begin(w->db);
    OK(users_delete(w->db, w->t1, fx_e));
    fx_commit(w->db);
    char takers[256];
    takers_of(w->db, id, takers);
    assert_string_equal(takers, "t2");
    assert_int_equal(fx_eligibility_version(w->db, id), 2);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, w->t1), FEED_TOMBSTONE);
}

static void test_delete_tombstones_eligibility_delivery_and_test_takers(void **state)
{
    struct world *w = *state;
    const char *users[] = {w->t1};
    char id[UUID_STR_LEN];
    fx_eligible(w->db, w->center, w->delivery, users, 1, 1, id);
    fx_begin(w->db);
    OK(eligibilities_delete(w->db, id, fx_e));
    fx_commit(w->db);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_ELIGIBILITY, id), FEED_TOMBSTONE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_DELIVERY, w->delivery), FEED_TOMBSTONE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, w->t1), FEED_TOMBSTONE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_TEST_CENTER, w->center), FEED_LIVE);
    struct op_err e = {0};
    fx_begin(w->db);
    assert_int_equal(eligibilities_delete(w->db, id, &e), OP_ENOTFOUND);
    db_rollback(w->db);
}

static void test_deleting_the_delivery_deletes_its_eligibilities(void **state)
{
    struct world *w = *state;
    const char *users[] = {w->t1};
    char id[UUID_STR_LEN];
    fx_eligible(w->db, w->center, w->delivery, users, 1, 1, id);
    fx_begin(w->db);
    OK(deliveries_delete(w->db, w->delivery, fx_e));
    fx_commit(w->db);
    struct eligibility el;
    struct op_err e = {0};
    assert_int_equal(eligibilities_get(w->db, id, &el, &e), OP_ENOTFOUND);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_ELIGIBILITY, id), FEED_TOMBSTONE);
    assert_int_equal(fx_feed(w->db, "ORG-A", FEED_USER, w->t1), FEED_TOMBSTONE);
}

/* Pages of one row walk the list by center label then delivery label: the key of five parts
 * picks up after the eligibility the page before ended on. */
static void test_pages_list_every_eligibility_in_order(void **state)
{
    struct world *w = *state;
    char d2[UUID_STR_LEN], id[UUID_STR_LEN];
    fx_delivery(w->db, "Physics", 0, d2); /* after the fixture's "Maths 2026" */
    const char *users[] = {w->t1};
    fx_eligible(w->db, w->center, d2, users, 1, 1, id);
    fx_eligible(w->db, w->center, w->delivery, users, 1, 1, id);
    struct db_key after = {0};
    char seen[256] = "";
    int more = 1, pages = 0;
    while (more) {
        struct db_page p;
        OK(eligibilities_page(w->db, &after, 1, &p, fx_e));
        pages++;
        for (int i = 0; i < p.n; i++) {
            size_t len = strlen(seen);
            snprintf(seen + len, sizeof seen - len, "%s%s", len ? "," : "",
                     ((const struct eligibility *)p.rows)[i].delivery_label);
        }
        db_key_move(&after, &p.next);
        more = p.more;
        db_page_clear(&p);
    }
    db_key_clear(&after);
    assert_string_equal(seen, "Maths 2026,Physics");
    assert_int_equal(pages, 2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_set_creates_eligibility_with_delivery_default),
        T(test_explicit_proctored_overrides_the_default),
        T(test_setting_the_same_list_changes_nothing),
        T(test_test_taker_added_enters_the_org_feed),
        T(test_test_taker_removed_from_only_eligibility_gets_tombstone),
        T(test_test_taker_in_another_eligibility_of_the_org_stays),
        T(test_only_test_takers_can_be_eligible),
        T(test_unknown_center_or_delivery_is_refused),
        T(test_deleting_a_user_removes_them_and_bumps_the_eligibility),
        T(test_delete_tombstones_eligibility_delivery_and_test_takers),
        T(test_deleting_the_delivery_deletes_its_eligibilities),
        T(test_pages_list_every_eligibility_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
