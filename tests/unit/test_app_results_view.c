/* test_app_results_view.c - the results tab (app/results_view.h): rows with test taker,
 * center, device and outcomes, filters, keyset pages, an administrator's scope, one result
 * with its audit chain verified (and a tampered chain shown broken), the score distribution,
 * the review within scope, and the summary recorded at decryption; on SQLite and PostgreSQL. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/results_view.h"
#include "app_instance_fixture.h"
#include "results_fixture.h"

static int setup(void **state)
{
    *state = rf_on(fx_instance(ROLE_CENTRAL));
    return 0;
}

static int teardown(void **state)
{
    struct rf *f = *state;
    struct instance *inst = f->inst;
    rf_release(f);
    fx_instance_free(inst);
    return 0;
}

/* Four results: ada in C1 (3 of 5), alan in C1 terminated (1), grace in C1B (5), edsger in C2
 * from ORG-2's device (2); decrypted. ids[0..3] in that order (so newest last). */
static void four_results(struct rf *f, char ids[4][UUID_STR_LEN])
{
    const struct rf_spec s[4] = {
        {RF_TAKER(1), RF_C1, 0, 0, 3, 5, "choice_a", NULL},
        {RF_TAKER(2), RF_C1, 0, 1, 1, 5, "=1+2", "@SUM(A1)"},
        {RF_TAKER(3), RF_C1B, 0, 0, 5, 5, "choice_c", NULL},
        {RF_TAKER(4), RF_C2, 1, 0, 2, 5, "choice_d", NULL},
    };
    for (int i = 0; i < 4; i++)
        rf_result(f, &s[i], ids[i]);
    rf_decrypt(f);
}

static json_t *page(struct rf *f, const struct app_results_query *q, const char *after, int limit)
{
    struct op_err e = {0};
    json_t *out = NULL;
    if (app_results_page(f->inst, q, after, limit, &out, &e) != 0)
        fail_msg("page: %s", e.msg);
    return out;
}

static int page_error(struct rf *f, const struct app_results_query *q, const char *after, int limit,
                      struct op_err *e)
{
    json_t *out = NULL;
    int rc = app_results_page(f->inst, q, after, limit, &out, e);
    json_decref(out);
    return rc;
}

static const char *row_str(json_t *p, size_t i, const char *k)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(p, "results"), i), k));
}

static json_int_t total(json_t *p)
{
    return json_integer_value(json_object_get(p, "total"));
}

static void test_the_tab_lists_each_result_with_taker_center_device_and_outcomes(void **state)
{
    struct rf *f = *state;
    char ids[4][UUID_STR_LEN];
    four_results(f, ids);
    const struct app_results_query q = {.delivery = "Maths 2026"};
    json_t *p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 4);
    json_t *rows = json_object_get(p, "results");
    assert_int_equal(json_array_size(rows), 4);
    assert_true(json_is_null(json_object_get(p, "next")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "delivery"), "id")),
                        RF_DELIV);
    /* newest first: edsger, grace, alan, ada */
    assert_string_equal(row_str(p, 0, "id"), ids[3]);
    assert_string_equal(row_str(p, 3, "id"), ids[0]);
    json_t *ada = json_array_get(rows, 3);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ada, "test_taker"), "login")), "ada");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ada, "test_taker"), "label")),
        "Ada Lovelace");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ada, "center"), "label")),
                        "Lycée A");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ada, "device"), "label")),
                        "Laptop 1");
    assert_string_equal(json_string_value(json_object_get(ada, "state")), "finished");
    assert_string_equal(json_string_value(json_object_get(ada, "status")), "decrypted");
    assert_true(json_number_value(json_object_get(ada, "score")) == 3.0);
    assert_true(json_number_value(json_object_get(ada, "max_score")) == 5.0);
    assert_true(
        json_number_value(json_object_get(json_object_get(ada, "outcomes"), "SCORE_TOTAL")) == 3.0);
    assert_string_equal(json_string_value(json_object_get(ada, "started_at")),
                        "2027-01-15T08:00:00Z");
    assert_string_equal(row_str(p, 1, "state"), "finished");
    assert_string_equal(row_str(p, 2, "state"), "terminated");
    json_decref(p);
}

static void test_filters_select_by_center_status_state_dates_and_test_taker(void **state)
{
    struct rf *f = *state;
    char ids[4][UUID_STR_LEN], late[UUID_STR_LEN];
    four_results(f, ids);
    const struct rf_spec s = {RF_TAKER(1), RF_C1, 0, 0, 4, 5, NULL, NULL};
    rf_result(f, &s, late); /* received, not decrypted */
    struct app_results_query q = {.delivery = RF_DELIV, .center = RF_C1};
    json_t *p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 3); /* ada, alan and the pending one (center from intake) */
    json_decref(p);
    q = (struct app_results_query){.delivery = RF_DELIV, .status = "pending"};
    p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 1);
    assert_string_equal(row_str(p, 0, "id"), late);
    assert_true(
        json_is_null(json_object_get(json_array_get(json_object_get(p, "results"), 0), "score")));
    json_decref(p);
    q = (struct app_results_query){.delivery = RF_DELIV, .state = "terminated"};
    p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 1);
    assert_string_equal(row_str(p, 0, "id"), ids[1]);
    json_decref(p);
    /* 2027-01-15T08:00 + 10 minutes each: from 08:10 to the end of the day */
    q = (struct app_results_query){
        .delivery = RF_DELIV, .from = "2027-01-15T08:10:00Z", .to = "2027-01-15"};
    p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 4);
    json_decref(p);
    q = (struct app_results_query){.delivery = RF_DELIV, .to = "2027-01-14"};
    p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 0);
    json_decref(p);
    q = (struct app_results_query){.delivery = RF_DELIV, .search = "LOVE"};
    p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 2); /* ada's two results, by her label, any case */
    json_decref(p);
    q = (struct app_results_query){.delivery = RF_DELIV, .search = "%"};
    p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 0); /* a % typed is a %, not a wildcard */
    json_decref(p);

    struct op_err e = {0};
    q = (struct app_results_query){.delivery = RF_DELIV, .from = "2027-02-30"};
    assert_int_equal(page_error(f, &q, NULL, 0, &e), OP_EINPUT);
    assert_string_equal(e.field, "from");
    q = (struct app_results_query){.delivery = RF_DELIV, .status = "lost"};
    assert_int_equal(page_error(f, &q, NULL, 0, &e), OP_EINPUT);
    assert_string_equal(e.field, "status");
    q = (struct app_results_query){.delivery = RF_DELIV, .state = "paused"};
    assert_int_equal(page_error(f, &q, NULL, 0, &e), OP_EINPUT);
    assert_string_equal(e.field, "state");
    q = (struct app_results_query){.delivery = RF_DELIV, .center = "C1"};
    assert_int_equal(page_error(f, &q, NULL, 0, &e), OP_EINPUT);
    assert_string_equal(e.field, "center");
    q = (struct app_results_query){.delivery = "No such test"};
    assert_int_equal(page_error(f, &q, NULL, 0, &e), OP_ENOTFOUND);
    assert_string_equal(e.field, "delivery");
    q = (struct app_results_query){.delivery = RF_DELIV};
    assert_int_equal(page_error(f, &q, "2027-01-15T08:00:00Z;x", 0, &e), OP_EINPUT);
    assert_string_equal(e.field, "after");
    assert_int_equal(page_error(f, &q, NULL, 501, &e), OP_EINPUT);
    assert_string_equal(e.field, "limit");
}

static void test_keyset_pages_walk_every_result_once_newest_first(void **state)
{
    struct rf *f = *state;
    char ids[7][UUID_STR_LEN];
    for (int i = 0; i < 7; i++) {
        const struct rf_spec s = {RF_TAKER(1), RF_C1, 0, 0, i % 6, 5, NULL, NULL};
        rf_result(f, &s, ids[i]);
    }
    const struct app_results_query q = {.delivery = RF_DELIV};
    char *after = NULL;
    int seen = 0;
    for (int pg = 0; pg < 3; pg++) {
        json_t *p = page(f, &q, after, 3);
        free(after);
        after = NULL;
        json_t *rows = json_object_get(p, "results");
        assert_int_equal(json_array_size(rows), pg < 2 ? 3 : 1);
        /* the total on the first page only */
        if (pg == 0)
            assert_int_equal(json_integer_value(json_object_get(p, "total")), 7);
        else
            assert_true(json_is_null(json_object_get(p, "total")));
        for (size_t i = 0; i < json_array_size(rows); i++, seen++)
            assert_string_equal(row_str(p, i, "id"), ids[6 - seen]);
        const char *next = json_string_value(json_object_get(p, "next"));
        assert_true(pg < 2 ? next != NULL : next == NULL);
        if (next)
            after = strdup(next);
        json_decref(p);
    }
    assert_int_equal(seen, 7);
}

static void test_an_administrator_sees_only_the_results_of_their_centers(void **state)
{
    struct rf *f = *state;
    char ids[4][UUID_STR_LEN];
    four_results(f, ids);
    struct app_results_query q = {.delivery = RF_DELIV, .admin_id = RF_ADMIN1};
    json_t *p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 3); /* C1 and its sub-center C1B */
    for (int i = 0; i < 3; i++)
        assert_string_not_equal(row_str(p, (size_t)i, "id"), ids[3]);
    json_decref(p);
    q.admin_id = RF_ADMIN2;
    p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 1);
    assert_string_equal(row_str(p, 0, "id"), ids[3]);
    json_decref(p);
    /* another center given as a filter does not widen the scope */
    q.center = RF_C1;
    p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 0);
    json_decref(p);
    q.admin_id = RF_PROCTOR; /* administers nothing */
    q.center = NULL;
    p = page(f, &q, NULL, 0);
    assert_int_equal(total(p), 0);
    json_decref(p);

    struct op_err e = {0};
    json_t *d = NULL;
    assert_int_equal(app_results_detail(f->inst, ids[0], RF_ADMIN2, &d, &e), OP_ENOTFOUND);
    assert_null(d);
    assert_int_equal(app_results_detail(f->inst, ids[0], RF_ADMIN1, &d, &e), 0);
    json_decref(d);
    json_t *dist = NULL;
    q = (struct app_results_query){.delivery = RF_DELIV, .admin_id = RF_ADMIN2};
    assert_int_equal(app_results_distribution(f->inst, &q, 5, &dist, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(dist, "results")), 1);
    json_decref(dist);
}

static json_t *audit_of(json_t *detail)
{
    return json_object_get(detail, "audit");
}

static void test_a_result_shows_items_outcomes_and_its_verified_audit_chain(void **state)
{
    struct rf *f = *state;
    char ids[4][UUID_STR_LEN];
    four_results(f, ids);
    struct op_err e = {0};
    json_t *d = NULL;
    assert_int_equal(app_results_detail(f->inst, ids[1], NULL, &d, &e), 0);
    assert_string_equal(json_string_value(json_object_get(d, "delivery_label")), "Maths 2026");
    assert_true(json_is_true(json_object_get(d, "outcome_partial")));
    json_t *items = json_object_get(d, "items");
    assert_int_equal(json_array_size(items), 2);
    json_t *i1 = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(i1, "key")), "i1");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(i1, "responses"), "RESPONSE")), "=1+2");
    json_t *audit = audit_of(d);
    assert_true(json_is_true(json_object_get(audit, "verified")));
    assert_true(json_is_null(json_object_get(audit, "broken_at")));
    assert_int_equal(json_array_size(json_object_get(audit, "entries")), 3);
    json_decref(d);

    /* an entry altered after the device sealed it (here in central's database) */
    assert_int_equal(db_run(f->inst->db,
                            "UPDATE results SET result_json = replace(result_json, 'phone out',"
                            " 'phone in') WHERE id = ?1",
                            ids[1], NULL, "tamper", &e),
                     0);
    assert_int_equal(app_results_detail(f->inst, ids[1], NULL, &d, &e), 0);
    audit = audit_of(d);
    assert_true(json_is_false(json_object_get(audit, "verified")));
    assert_int_equal(json_integer_value(json_object_get(audit, "broken_at")), 2);
    assert_non_null(strstr(json_string_value(json_object_get(audit, "problem")), "altered"));
    json_decref(d);

    /* an entry removed: the next one no longer follows */
    assert_int_equal(app_results_detail(f->inst, ids[0], NULL, &d, &e), 0);
    json_t *entries = json_object_get(audit_of(d), "entries");
    json_t *copy = json_deep_copy(entries);
    json_array_remove(copy, 1);
    int64_t bad = 0;
    char why[APP_AUDIT_WHY_MAX];
    const char *exec = json_string_value(json_object_get(d, "execution_id"));
    assert_int_equal(app_results_audit_check(entries, exec, &bad, why), 0);
    assert_int_equal(app_results_audit_check(copy, exec, &bad, why), 1);
    assert_int_equal(bad, 2);
    /* the chain of another execution does not hold for this one */
    assert_int_equal(app_results_audit_check(entries, RF_DELIV, &bad, why), 1);
    assert_int_equal(bad, 1);
    /* no log at all is not a verified log */
    json_t *empty = json_array();
    assert_int_equal(app_results_audit_check(empty, exec, &bad, why), 1);
    json_decref(empty);
    json_decref(copy);
    json_decref(d);
}

static void test_a_pending_result_has_no_items_nor_audit_yet(void **state)
{
    struct rf *f = *state;
    char id[UUID_STR_LEN];
    const struct rf_spec s = {RF_TAKER(1), RF_C1, 0, 0, 4, 5, NULL, NULL};
    rf_result(f, &s, id);
    struct op_err e = {0};
    json_t *d = NULL;
    assert_int_equal(app_results_detail(f->inst, id, NULL, &d, &e), 0);
    assert_string_equal(json_string_value(json_object_get(d, "status")), "pending");
    assert_true(json_is_null(json_object_get(d, "items")));
    assert_true(json_is_null(json_object_get(d, "audit")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "center"), "id")),
                        RF_C1);
    json_decref(d);
    assert_int_equal(app_results_detail(f->inst, "not-an-id", NULL, &d, &e), OP_EINPUT);
    assert_int_equal(app_results_detail(f->inst, RF_DELIV, NULL, &d, &e), OP_ENOTFOUND);
}

static void test_the_distribution_counts_scores_in_equal_ranges_up_to_the_maximum(void **state)
{
    struct rf *f = *state;
    char ids[4][UUID_STR_LEN];
    four_results(f, ids); /* 3, 1, 5, 2 of 5 */
    struct op_err e = {0};
    json_t *d = NULL;
    const struct app_results_query q = {.delivery = RF_DELIV};
    assert_int_equal(app_results_distribution(f->inst, &q, 5, &d, &e), 0);
    assert_int_equal(json_integer_value(json_object_get(d, "results")), 4);
    assert_int_equal(json_integer_value(json_object_get(d, "scored")), 4);
    assert_true(json_number_value(json_object_get(d, "max_score")) == 5.0);
    assert_true(json_number_value(json_object_get(d, "mean")) == 2.75);
    json_t *b = json_object_get(d, "buckets");
    assert_int_equal(json_array_size(b), 5);
    static const int want[5] = {0, 1, 1, 1, 1};
    for (int i = 0; i < 5; i++) {
        json_t *x = json_array_get(b, (size_t)i);
        assert_int_equal(json_integer_value(json_object_get(x, "count")), want[i]);
        assert_true(json_number_value(json_object_get(x, "from")) == (double)i);
    }
    json_decref(d);
    assert_int_equal(app_results_distribution(f->inst, &q, 51, &d, &e), OP_EINPUT);
    assert_string_equal(e.field, "buckets");
}

static void test_review_of_a_held_result_is_limited_to_the_callers_centers(void **state)
{
    struct rf *f = *state;
    char ids[4][UUID_STR_LEN];
    four_results(f, ids);
    struct op_err e = {0};
    assert_int_equal(db_run(f->inst->db, "UPDATE results SET review = 'quarantined' WHERE id = ?1",
                            ids[0], NULL, "hold", &e),
                     0);
    assert_int_equal(app_results_review(f->inst, ids[0], RF_ADMIN2, 1, NULL, &e), OP_ENOTFOUND);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM results WHERE review = 'quarantined'"),
                     1);
    assert_int_equal(app_results_review(f->inst, ids[0], RF_ADMIN1, 0, "seen twice", &e), 0);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM results WHERE review = 'rejected'"),
                     1);
    assert_int_equal(app_results_review(f->inst, ids[0], NULL, 1, NULL, &e), OP_ECONFLICT);
}

static void test_a_center_named_by_the_result_counts_only_in_the_devices_organisation(void **state)
{
    struct rf *f = *state;
    char a[UUID_STR_LEN], b[UUID_STR_LEN];
    const struct rf_spec s1 = {RF_TAKER(1), RF_C2, 0, 0, 1, 5, NULL, NULL}; /* C2: ORG-2 */
    const struct rf_spec s2 = {RF_TAKER(1), RF_C1B, 0, 0, 1, 5, NULL, NULL};
    rf_result(f, &s1, a);
    rf_result(f, &s2, b);
    rf_decrypt(f);
    struct op_err e = {0};
    json_t *d = NULL;
    assert_int_equal(app_results_detail(f->inst, a, NULL, &d, &e), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "center"), "id")),
                        RF_C1); /* from ada's eligibility at intake */
    json_decref(d);
    assert_int_equal(app_results_detail(f->inst, b, NULL, &d, &e), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "center"), "id")),
                        RF_C1B);
    json_decref(d);
}

static void test_decrypt_results_fills_the_summary_of_results_decrypted_before_it(void **state)
{
    struct rf *f = *state;
    char ids[4][UUID_STR_LEN];
    four_results(f, ids);
    struct op_err e = {0};
    assert_int_equal(db_exec(f->inst->db, "UPDATE results SET outcomes_json = NULL", &e), 0);
    const struct app_results_query q = {.delivery = RF_DELIV};
    json_t *p = page(f, &q, NULL, 0);
    assert_true(
        json_is_null(json_object_get(json_array_get(json_object_get(p, "results"), 0), "score")));
    json_decref(p);
    rf_decrypt(f);
    assert_int_equal(
        fx_count(f->inst, "SELECT count(*) FROM results WHERE outcomes_json IS NOT NULL"), 4);
    p = page(f, &q, NULL, 0);
    assert_true(json_number_value(json_object_get(json_array_get(json_object_get(p, "results"), 0),
                                                  "score")) == 2.0);
    json_decref(p);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_the_tab_lists_each_result_with_taker_center_device_and_outcomes),
        T(test_filters_select_by_center_status_state_dates_and_test_taker),
        T(test_keyset_pages_walk_every_result_once_newest_first),
        T(test_an_administrator_sees_only_the_results_of_their_centers),
        T(test_a_result_shows_items_outcomes_and_its_verified_audit_chain),
        T(test_a_pending_result_has_no_items_nor_audit_yet),
        T(test_the_distribution_counts_scores_in_equal_ranges_up_to_the_maximum),
        T(test_review_of_a_held_result_is_limited_to_the_callers_centers),
        T(test_a_center_named_by_the_result_counts_only_in_the_devices_organisation),
        T(test_decrypt_results_fills_the_summary_of_results_decrypted_before_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
