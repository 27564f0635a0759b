/* test_app_eligibilities.c - the application's eligibilities (app/eligibilities.h): set with
 * the center, delivery and test takers named by id, label or login, every bad login in one
 * message, list with the test takers, delete, the field at fault, central only, and the
 * public JSON shape, on a temporary instance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/eligibilities.h"
#include "import/tao_uri.h"
#include "app_instance_fixture.h"
#include "centers_fixture.h"

struct fixture {
    struct instance *inst;
    char center[UUID_STR_LEN], delivery[UUID_STR_LEN];
    char t1[UUID_STR_LEN], t2[UUID_STR_LEN], proctor[UUID_STR_LEN];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance(ROLE_CENTRAL);
    struct db *db = f->inst->db;
    fx_center(db, "Lycee Nord", "ORG-A", NULL, f->center);
    fx_delivery(db, "Maths", 1, f->delivery);
    fx_user(db, "t2", ROLE_TEST_TAKER, f->t2); /* added first: listed by login, not by age */
    fx_user(db, "t1", ROLE_TEST_TAKER, f->t1);
    fx_user(db, "proc", ROLE_PROCTOR, f->proctor);
    *state = f;
    return 0;
}

/* Sets the eligibility of "Lycee Nord" x "Maths" to these logins; returns the code. */
static int set(struct fixture *f, const char *const *logins, int n, int proctored,
               enum eligibility_outcome *outcome, struct app_eligibility *out, struct op_err *e)
{
    const struct app_eligibility_set in = {"Lycee Nord", "Maths", logins, n, proctored};
    return app_eligibilities_set(f->inst, &in, outcome, out, e);
}

static void test_set_creates_then_updates_then_leaves_unchanged(void **state)
{
    struct fixture *f = *state;
    const char *one[] = {"t1"}, *two[] = {"t2", "t1"};
    enum eligibility_outcome outcome;
    struct app_eligibility el;
    struct op_err e = {0};
    db_lose_races(f->inst->db, 1); /* run twice (db_write): the result is one run's */
    assert_int_equal(set(f, one, 1, ELIGIBILITY_PROCTORED_KEEP, &outcome, &el, &e), 0);
    assert_int_equal(outcome, ELIGIBILITY_CREATED);
    assert_string_equal(el.el.center_id, f->center);
    assert_string_equal(el.el.delivery_id, f->delivery);
    assert_string_equal(el.el.center_label, "Lycee Nord");
    assert_string_equal(el.el.delivery_label, "Maths");
    assert_int_equal(el.test_takers.n, 1);
    assert_string_equal(el.test_takers.v[0], "t1");
    int64_t v1 = el.el.version;
    app_eligibility_clear(&el);

    assert_int_equal(set(f, two, 2, ELIGIBILITY_PROCTORED_KEEP, &outcome, &el, &e), 0);
    assert_int_equal(outcome, ELIGIBILITY_UPDATED);
    assert_int_equal(el.test_takers.n, 2);
    assert_string_equal(el.test_takers.v[0], "t1"); /* ordered by login */
    assert_string_equal(el.test_takers.v[1], "t2");
    assert_true(el.el.version > v1);
    int64_t v2 = el.el.version;
    app_eligibility_clear(&el);

    assert_int_equal(set(f, two, 2, ELIGIBILITY_PROCTORED_KEEP, &outcome, &el, &e), 0);
    assert_int_equal(outcome, ELIGIBILITY_UNCHANGED);
    assert_int_equal(el.el.version, v2);
    app_eligibility_clear(&el);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM eligibilities"), 1);
}

static void test_set_accepts_ids_and_an_empty_list(void **state)
{
    struct fixture *f = *state;
    const char *one[] = {"t1"};
    const struct app_eligibility_set in = {f->center, f->delivery, one, 1, 0};
    struct app_eligibility el;
    struct op_err e = {0};
    assert_int_equal(app_eligibilities_set(f->inst, &in, NULL, &el, &e), 0);
    assert_string_equal(el.el.center_label, "Lycee Nord");
    app_eligibility_clear(&el);
    const struct app_eligibility_set none = {f->center, f->delivery, NULL, 0,
                                             ELIGIBILITY_PROCTORED_KEEP};
    enum eligibility_outcome outcome;
    assert_int_equal(app_eligibilities_set(f->inst, &none, &outcome, &el, &e), 0);
    assert_int_equal(outcome, ELIGIBILITY_UPDATED);
    assert_int_equal(el.test_takers.n, 0);
    app_eligibility_clear(&el);
}

static void test_set_takes_the_delivery_default_then_keeps_the_setting(void **state)
{
    struct fixture *f = *state;
    const char *one[] = {"t1"}, *two[] = {"t1", "t2"};
    struct app_eligibility el;
    struct op_err e = {0};
    /* Maths is proctored by default: a new eligibility without a setting takes it. */
    assert_int_equal(set(f, one, 1, ELIGIBILITY_PROCTORED_KEEP, NULL, &el, &e), 0);
    assert_int_equal(el.el.proctored, 1);
    app_eligibility_clear(&el);
    assert_int_equal(set(f, one, 1, 0, NULL, &el, &e), 0);
    assert_int_equal(el.el.proctored, 0);
    app_eligibility_clear(&el);
    /* Without a setting an existing one keeps its own. */
    assert_int_equal(set(f, two, 2, ELIGIBILITY_PROCTORED_KEEP, NULL, &el, &e), 0);
    assert_int_equal(el.el.proctored, 0);
    app_eligibility_clear(&el);
    /* Anything but yes, no or keep is refused. */
    assert_int_equal(set(f, one, 1, 7, NULL, &el, &e), OP_EINPUT);
    assert_string_equal(e.field, "proctored");
}

static void test_set_names_every_bad_login_in_one_message_and_writes_nothing(void **state)
{
    struct fixture *f = *state;
    const char *logins[] = {"t1", "ghost", "proc", "nobody"};
    struct app_eligibility el;
    struct op_err e = {0};
    assert_int_equal(set(f, logins, 4, 1, NULL, &el, &e), OP_EINPUT);
    assert_string_equal(e.field, "test_takers");
    assert_non_null(strstr(e.msg, "no user with login \"ghost\""));
    assert_non_null(strstr(e.msg, "\"proc\" is a proctor, not a test-taker"));
    assert_non_null(strstr(e.msg, "no user with login \"nobody\""));
    assert_null(strstr(e.msg, "--")); /* the app names no command-line option */
    assert_int_equal(el.test_takers.n, 0);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM eligibilities"), 0);
}

static void test_an_unknown_or_ambiguous_center_or_delivery_is_blamed_on_its_field(void **state)
{
    struct fixture *f = *state;
    const char *one[] = {"t1"};
    struct op_err e = {0};
    const struct app_eligibility_set no_center = {"Nowhere", "Maths", one, 1, 1};
    assert_int_equal(app_eligibilities_set(f->inst, &no_center, NULL, NULL, &e), OP_ENOTFOUND);
    assert_string_equal(e.field, "center");
    assert_non_null(strstr(e.msg, "no test center with id or label \"Nowhere\""));
    const struct app_eligibility_set no_delivery = {"Lycee Nord", "Chemistry", one, 1, 1};
    assert_int_equal(app_eligibilities_set(f->inst, &no_delivery, NULL, NULL, &e), OP_ENOTFOUND);
    assert_string_equal(e.field, "delivery");
    assert_non_null(strstr(e.msg, "no delivery with id or label \"Chemistry\""));

    char twin1[UUID_STR_LEN], twin2[UUID_STR_LEN];
    fx_center(f->inst->db, "Twin", "ORG-A", NULL, twin1);
    fx_center(f->inst->db, "Twin", "ORG-B", NULL, twin2);
    const struct app_eligibility_set twin = {"Twin", "Maths", one, 1, 1};
    assert_int_not_equal(app_eligibilities_set(f->inst, &twin, NULL, NULL, &e), 0);
    assert_string_equal(e.field, "center");
    assert_non_null(strstr(e.msg, "2 test centers are labelled \"Twin\""));
    assert_int_not_equal(app_eligibilities_delete(f->inst, "Lycee Nord", "Chem", NULL, &e), 0);
    assert_string_equal(e.field, "delivery");
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM eligibilities"), 0);
}

/* TAO names test centers, deliveries and users by URIs, which Outpost does not keep: such a
 * URI is refused saying so and what names the record instead; a record whose own label is
 * such a URI is still found by it. */
static void test_a_tao_uri_is_refused_saying_what_names_the_record_instead(void **state)
{
    struct fixture *f = *state;
    const char *uri = "https://tao.example.org/ontologies/tao.rdf#i16290218743521";
    const char *one[] = {"t1"};
    struct op_err e = {0};
    const struct app_eligibility_set by_center = {uri, "Maths", one, 1, 1};
    assert_int_equal(app_eligibilities_set(f->inst, &by_center, NULL, NULL, &e), OP_ENOTFOUND);
    assert_string_equal(e.field, "center");
    assert_non_null(strstr(e.msg, "is a TAO URI, and Outpost keeps none: name the test center "
                                  "by its organisation id, label or id"));
    const struct app_eligibility_set by_delivery = {"Lycee Nord", uri, one, 1, 1};
    assert_int_equal(app_eligibilities_set(f->inst, &by_delivery, NULL, NULL, &e), OP_ENOTFOUND);
    assert_string_equal(e.field, "delivery");
    assert_non_null(strstr(e.msg, "name the delivery by its label or id"));
    const char *takers[] = {"t1", "http://www.tao.lu/Ontologies/TAO.rdf#i42", "ghost"};
    assert_int_equal(set(f, takers, 3, 1, NULL, NULL, &e), OP_EINPUT);
    assert_string_equal(e.field, "test_takers");
    assert_non_null(strstr(e.msg, "\"http://www.tao.lu/Ontologies/TAO.rdf#i42\" is a TAO URI, "
                                  "and Outpost keeps none: name users by their login"));
    assert_non_null(strstr(e.msg, "no user with login \"ghost\""));
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM eligibilities"), 0);

    /* a delivery labelled with such a URI (a label is any text) is found by it */
    char odd[UUID_STR_LEN];
    fx_delivery(f->inst->db, uri, 1, odd);
    assert_int_equal(app_eligibilities_set(f->inst, &by_delivery, NULL, NULL, &e), 0);

    assert_true(tao_uri_is(uri));
    assert_true(tao_uri_is("HTTP://host/tao.rdf#i1"));
    assert_false(tao_uri_is("Maths"));
    assert_false(tao_uri_is("https://example.org/page"));  /* no fragment */
    assert_false(tao_uri_is("https://example.org/page#")); /* an empty one */
    assert_false(tao_uri_is("https:///tao.rdf#i1"));       /* no host */
    assert_false(tao_uri_is("https://host/a b#i1"));
    assert_false(tao_uri_is("#i1"));
    assert_false(tao_uri_is("ftp://host/tao.rdf#i1"));
}

struct seen {
    int n, stop_after;
    char lines[4][128];
};

static int collect(const struct app_eligibility *a, void *ctx)
{
    struct seen *s = ctx;
    char *p = s->lines[s->n];
    int len =
        snprintf(p, 128, "%s/%s/%d:", a->el.center_label, a->el.delivery_label, a->el.proctored);
    for (int i = 0; i < a->test_takers.n; i++)
        len += snprintf(p + len, (size_t)(128 - len), "%s%s", i ? "," : "", a->test_takers.v[i]);
    s->n++;
    return s->stop_after && s->n == s->stop_after ? 42 : 0;
}

static void test_list_gives_each_eligibility_with_its_test_takers_in_order(void **state)
{
    struct fixture *f = *state;
    char other[UUID_STR_LEN], id[UUID_STR_LEN];
    fx_center(f->inst->db, "Annexe", "ORG-A", NULL, other);
    const char *both[] = {f->t2, f->t1}, *none[] = {NULL};
    fx_eligible(f->inst->db, f->center, f->delivery, both, 2, 1, id);
    fx_eligible(f->inst->db, other, f->delivery, none, 0, 0, id);
    struct seen s = {0};
    struct op_err e = {0};
    assert_int_equal(app_eligibilities_list(f->inst, collect, &s, &e), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.lines[0], "Annexe/Maths/0:");
    assert_string_equal(s.lines[1], "Lycee Nord/Maths/1:t1,t2");
    /* A non-zero return from the callback stops the list and is returned. */
    struct seen first = {.stop_after = 1};
    assert_int_equal(app_eligibilities_list(f->inst, collect, &first, &e), 42);
    assert_int_equal(first.n, 1);
}

static void test_delete_by_labels_returns_it_as_it_was(void **state)
{
    struct fixture *f = *state;
    const char *one[] = {"t1"};
    struct app_eligibility el;
    struct op_err e = {0};
    assert_int_equal(set(f, one, 1, 1, NULL, NULL, &e), 0);
    db_lose_races(f->inst->db, 1); /* run twice (db_write): the result is one run's */
    assert_int_equal(app_eligibilities_delete(f->inst, "Lycee Nord", "Maths", &el, &e), 0);
    assert_string_equal(el.el.center_label, "Lycee Nord");
    assert_string_equal(el.el.delivery_label, "Maths");
    assert_int_equal(el.test_takers.n, 1);
    assert_string_equal(el.test_takers.v[0], "t1");
    app_eligibility_clear(&el);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM eligibilities"), 0);
    /* The test taker left the organisation's feed with the last eligibility. */
    assert_int_equal(fx_feed(f->inst->db, "ORG-A", "user", f->t1), FEED_TOMBSTONE);

    assert_int_equal(app_eligibilities_delete(f->inst, "Lycee Nord", "Maths", &el, &e),
                     OP_ENOTFOUND);
    assert_string_equal(e.msg, "test center \"Lycee Nord\" has no eligibility for delivery "
                               "\"Maths\"");
    assert_string_equal(e.field, "");
}

static void test_eligibilities_run_on_a_central_only(void **state)
{
    (void)state;
    struct instance *dev = fx_instance(ROLE_DEVICE);
    const char *one[] = {"t1"};
    const struct app_eligibility_set in = {"C", "D", one, 1, 1};
    struct seen s = {0};
    struct op_err e = {0};
    assert_int_equal(app_eligibilities_set(dev, &in, NULL, NULL, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "eligibilities set runs on a central"));
    assert_int_equal(app_eligibilities_list(dev, collect, &s, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "eligibilities list runs on a central"));
    assert_int_equal(app_eligibilities_delete(dev, "C", "D", NULL, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "eligibilities delete runs on a central"));
    assert_int_equal(s.n, 0);
    fx_instance_free(dev);
}

static void test_eligibility_json_has_the_public_fields(void **state)
{
    struct fixture *f = *state;
    const char *two[] = {"t2", "t1"};
    struct app_eligibility el;
    struct op_err e = {0};
    assert_int_equal(set(f, two, 2, 0, NULL, &el, &e), 0);
    json_t *o = app_eligibility_json(&el);
    const char *keys[] = {"id",          "center_id",      "center_label",
                          "delivery_id", "delivery_label", "proctored",
                          "test_takers", "version"};
    assert_int_equal(json_object_size(o), 8);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_non_null(json_object_get(o, keys[i]));
    assert_string_equal(json_string_value(json_object_get(o, "id")), el.el.id);
    assert_string_equal(json_string_value(json_object_get(o, "center_id")), f->center);
    assert_string_equal(json_string_value(json_object_get(o, "delivery_label")), "Maths");
    assert_true(json_is_false(json_object_get(o, "proctored")));
    json_t *takers = json_object_get(o, "test_takers");
    assert_int_equal(json_array_size(takers), 2);
    assert_string_equal(json_string_value(json_array_get(takers, 0)), "t1");
    assert_string_equal(json_string_value(json_array_get(takers, 1)), "t2");
    assert_int_equal(json_integer_value(json_object_get(o, "version")), el.el.version);
    json_decref(o);
    app_eligibility_clear(&el);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, fx_state_teardown)
    const struct CMUnitTest tests[] = {
        T(test_set_creates_then_updates_then_leaves_unchanged),
        T(test_set_accepts_ids_and_an_empty_list),
        T(test_set_takes_the_delivery_default_then_keeps_the_setting),
        T(test_set_names_every_bad_login_in_one_message_and_writes_nothing),
        T(test_an_unknown_or_ambiguous_center_or_delivery_is_blamed_on_its_field),
        T(test_a_tao_uri_is_refused_saying_what_names_the_record_instead),
        T(test_list_gives_each_eligibility_with_its_test_takers_in_order),
        T(test_delete_by_labels_returns_it_as_it_was),
        cmocka_unit_test(test_eligibilities_run_on_a_central_only),
        T(test_eligibility_json_has_the_public_fields),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
