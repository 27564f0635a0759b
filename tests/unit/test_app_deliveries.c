/* test_app_deliveries.c - the application's deliveries (app/deliveries.h): import-qti, update
 * with its version check, delete, and the public JSON form, on a temporary instance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/deliveries.h"
#include "app_instance_fixture.h"
#include "centers_fixture.h"
#include "qti_testzip.h"
#include "store/packages.h"

struct fixture {
    struct instance *inst;
    char *zip; /* the demo QTI package */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance(ROLE_CENTRAL);
    f->zip = fs_join(f->inst->dir, "demo.zip");
    assert_int_equal(testzip_fixture_zip("demo/qti-test", f->zip), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->zip);
    fx_instance_free(f->inst);
    free(f);
    return 0;
}

/* Imports the demo package as `label`; the delivery's id in id. */
static void import(struct fixture *f, const char *label, char id[UUID_STR_LEN])
{
    const struct app_deliveries_import_in in = {f->zip, label, 1, 0, 0};
    struct delivery d;
    struct op_err e = {0};
    db_lose_races(f->inst->db, 1); /* run twice (db_write): the result is one run's */
    if (app_deliveries_import(f->inst, &in, &d, &e) != 0)
        fail_msg("import: %s", e.msg);
    memcpy(id, d.id, UUID_STR_LEN);
    delivery_clear(&d);
}

/* Delivery `id` is stored with this label at this version. */
static void check_stored(struct fixture *f, const char *id, const char *label, int64_t version)
{
    struct delivery got;
    struct op_err e = {0};
    assert_int_equal(deliveries_get(f->inst->db, id, &got, &e), 0);
    assert_string_equal(got.label, label);
    assert_int_equal(got.version, version);
    delivery_clear(&got);
}

static void test_import_stores_the_compiled_package_and_creates_the_delivery(void **state)
{
    struct fixture *f = *state;
    const struct app_deliveries_import_in in = {f->zip, NULL, 0, 3, 0};
    struct delivery d;
    struct op_err e = {0};
    assert_int_equal(app_deliveries_import(f->inst, &in, &d, &e), 0);
    assert_string_equal(d.label, "Outpost demo test"); /* the test's title by default */
    assert_int_equal(d.proctored_default, 0);
    assert_int_equal(d.max_executions, 3);
    assert_int_equal(d.version, 1);
    assert_true(sha256_hex_is_valid(d.package_sha256));
    unsigned char *bytes;
    size_t len;
    assert_int_equal(packages_get(f->inst->dir, d.package_sha256, 64u << 20, &bytes, &len, &e), 0);
    free(bytes);
    delivery_clear(&d);
    /* the same package again: another delivery, the one package file */
    char id[UUID_STR_LEN];
    import(f, "Again", id);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 2);
    assert_int_equal(fx_count(f->inst, "SELECT count(DISTINCT package_sha256) FROM deliveries"), 1);
}

static void test_import_of_a_bad_package_or_bad_settings_creates_nothing(void **state)
{
    struct fixture *f = *state;
    char *junk = testutil_write(f->inst->dir, "junk.zip", "not a zip archive");
    struct op_err e = {0};
    struct delivery d;
    const struct app_deliveries_import_in bad = {junk, "Junk", 1, 0, 0};
    assert_int_not_equal(app_deliveries_import(f->inst, &bad, &d, &e), 0);
    assert_non_null(strstr(e.msg, "junk.zip"));
    const struct app_deliveries_import_in cases[] = {
        {f->zip, "", 1, 0, 0},   /* empty label */
        {f->zip, "M", 2, 0, 0},  /* proctored neither yes nor no */
        {f->zip, "M", 1, -1, 0}, /* negative executions */
        {NULL, "M", 1, 0, 0},    /* no file */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(app_deliveries_import(f->inst, &cases[i], &d, &e), OP_EINPUT);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 0);
    free(junk);
}

static void test_import_update_and_delete_run_on_a_central_only(void **state)
{
    struct fixture *f = *state;
    struct instance *dev = fx_instance(ROLE_DEVICE);
    struct op_err e = {0};
    struct delivery d;
    const struct app_deliveries_import_in in = {f->zip, NULL, 1, 0, 0};
    assert_int_equal(app_deliveries_import(dev, &in, &d, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "import-qti runs on a central"));
    const struct app_deliveries_update_in up = {"x", "y", -1, -1, 0, NULL};
    assert_int_equal(app_deliveries_update(dev, &up, &d, NULL, &e), OP_ESTATE);
    assert_int_equal(app_deliveries_delete(dev, "x", &d, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "deliveries delete runs on a central"));
    fx_instance_free(dev);
}

static void test_update_changes_what_is_given_and_bumps_the_version(void **state)
{
    struct fixture *f = *state;
    char id[UUID_STR_LEN];
    import(f, "Maths", id);
    const struct app_deliveries_update_in in = {"Maths", "Maths 2026", 0, -1, 0, NULL};
    struct delivery d;
    struct op_err e = {0};
    assert_int_equal(app_deliveries_update(f->inst, &in, &d, NULL, &e), 0);
    assert_string_equal(d.id, id);
    assert_string_equal(d.label, "Maths 2026");
    assert_int_equal(d.proctored_default, 0);
    assert_int_equal(d.max_executions, 0); /* not given: unchanged */
    assert_int_equal(d.version, 2);
    delivery_clear(&d);
    check_stored(f, id, "Maths 2026", 2);
}

static void test_update_with_the_stored_values_writes_nothing(void **state)
{
    struct fixture *f = *state;
    char id[UUID_STR_LEN];
    import(f, "Maths", id);
    int64_t seq = fx_count(f->inst, "SELECT max(seq) FROM sync_feed");
    const struct app_deliveries_update_in in = {id, "Maths", 1, 0, 0, NULL};
    struct delivery d;
    struct op_err e = {0};
    assert_int_equal(app_deliveries_update(f->inst, &in, &d, NULL, &e), 0);
    assert_int_equal(d.version, 1);
    delivery_clear(&d);
    assert_int_equal(fx_count(f->inst, "SELECT max(seq) FROM sync_feed"), seq);
    assert_int_equal(fx_count(f->inst, "SELECT version FROM deliveries"), 1);
}

static void test_update_refuses_bad_input_and_a_stale_version(void **state)
{
    struct fixture *f = *state;
    char id[UUID_STR_LEN];
    import(f, "Maths", id);
    struct delivery d;
    struct op_err e = {0};
    const struct app_deliveries_update_in bad[] = {
        {id, NULL, -1, -1, 0, NULL}, /* nothing to change */
        {id, "", -1, -1, 0, NULL},   /* empty label */
        {id, NULL, 5, -1, 0, NULL},  /* proctored neither yes nor no */
        {id, NULL, -1, -2, 0, NULL}, /* negative executions */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(app_deliveries_update(f->inst, &bad[i], &d, NULL, &e), OP_EINPUT);
    const struct app_deliveries_update_in unknown = {"Nope", "X", -1, -1, 0, NULL};
    assert_int_equal(app_deliveries_update(f->inst, &unknown, &d, NULL, &e), OP_ENOTFOUND);
    assert_non_null(strstr(e.msg, "\"Nope\""));
    /* read at version 1, changed meanwhile by someone else (version 2): refused */
    const struct app_deliveries_update_in first = {id, "First", -1, -1, 1, NULL};
    assert_int_equal(app_deliveries_update(f->inst, &first, &d, NULL, &e), 0);
    delivery_clear(&d);
    const struct app_deliveries_update_in stale = {id, "Second", -1, -1, 1, NULL};
    assert_int_equal(app_deliveries_update(f->inst, &stale, &d, NULL, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "changed meanwhile"));
    check_stored(f, id, "First", 2);
}

static void test_delete_by_label_withdraws_the_delivery(void **state)
{
    struct fixture *f = *state;
    char id[UUID_STR_LEN];
    import(f, "Maths", id);
    struct delivery d;
    struct op_err e = {0};
    assert_int_equal(app_deliveries_delete(f->inst, "Maths", &d, &e), 0);
    assert_string_equal(d.id, id);
    assert_string_equal(d.label, "Maths");
    delivery_clear(&d);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 0);
    assert_int_equal(app_deliveries_delete(f->inst, id, &d, &e), OP_ENOTFOUND);
}

/* The one resolver of --delivery (results list, decrypt-results, the results tab and its
 * exports): an id or a label; an unknown name refused with the field; a deleted delivery's id
 * taken as it is only when the caller keeps deleted deliveries' results. */
static void test_resolve_names_a_delivery_by_id_or_label(void **state)
{
    struct fixture *f = *state;
    char id[UUID_STR_LEN], got[UUID_STR_LEN], gone[UUID_STR_LEN];
    fx_delivery(f->inst->db, "Maths", 0, id);
    char *label = NULL;
    struct op_err e = {0};
    assert_int_equal(app_deliveries_resolve(f->inst->db, id, 0, got, &label, &e), 0);
    assert_string_equal(got, id);
    assert_string_equal(label, "Maths");
    free(label);
    assert_int_equal(
        app_deliveries_resolve(f->inst->db, "Maths", APP_DELIVERY_DELETED_OK, got, &label, &e), 0);
    assert_string_equal(got, id);
    assert_string_equal(label, "Maths");
    free(label);
    /* unknown: refused, naming it and the field, whatever the flags */
    for (unsigned flags = 0; flags <= APP_DELIVERY_DELETED_OK; flags++) {
        memset(&e, 0, sizeof e);
        assert_int_equal(app_deliveries_resolve(f->inst->db, "Physics", flags, got, NULL, &e),
                         OP_ENOTFOUND);
        assert_string_equal(e.field, "delivery");
        assert_non_null(strstr(e.msg, "no delivery \"Physics\""));
    }
    /* an id no delivery has (deleted since): refused, or taken as it is, without a label */
    uuid_generate(gone);
    memset(&e, 0, sizeof e);
    assert_int_equal(app_deliveries_resolve(f->inst->db, gone, 0, got, &label, &e), OP_ENOTFOUND);
    assert_string_equal(e.field, "delivery");
    assert_null(label);
    assert_int_equal(
        app_deliveries_resolve(f->inst->db, gone, APP_DELIVERY_DELETED_OK, got, &label, &e), 0);
    assert_string_equal(got, gone);
    assert_null(label);
}

static int collect(const struct delivery *d, void *ctx)
{
    json_array_append_new(ctx, app_delivery_json(d));
    return 0;
}

/* The JSON form users rely on (deliveries list --json, import-qti --json): these fields, in
 * this form. */
static void test_delivery_json_has_the_stable_fields(void **state)
{
    struct fixture *f = *state;
    struct delivery d;
    memset(&d, 0, sizeof d);
    strcpy(d.id, "dddddddd-0000-4000-8000-000000000001");
    d.label = "Maths";
    d.max_executions = 2;
    d.proctored_default = 1;
    d.version = 3;
    strcpy(d.created_at, "2026-01-01T00:00:00Z");
    strcpy(d.updated_at, "2026-01-02T00:00:00Z");
    json_t *o = app_delivery_json(&d);
    char *s = json_dumps(o, JSON_COMPACT);
    assert_string_equal(s, "{\"id\":\"dddddddd-0000-4000-8000-000000000001\",\"label\":\"Maths\","
                           "\"package_sha256\":null,\"max_executions\":2,"
                           "\"proctored_default\":true,\"version\":3,"
                           "\"created_at\":\"2026-01-01T00:00:00Z\","
                           "\"updated_at\":\"2026-01-02T00:00:00Z\",\"status\":\"published\"}");
    free(s);
    json_decref(o);
    /* and the list gives one per delivery, ordered by label */
    char a[UUID_STR_LEN], b[UUID_STR_LEN];
    import(f, "B", b);
    import(f, "A", a);
    json_t *arr = json_array();
    struct op_err e = {0};
    assert_int_equal(app_deliveries_list(f->inst, collect, arr, &e), 0);
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "id")), a);
    json_decref(arr);
}

/* One center of ORG-A with an eligibility of test taker t1 for delivery `id`. */
static void eligible_in_org_a(struct fixture *f, const char *id, char center[UUID_STR_LEN],
                              char taker[UUID_STR_LEN], char elig[UUID_STR_LEN])
{
    fx_user(f->inst->db, "t1", ROLE_TEST_TAKER, taker);
    fx_center(f->inst->db, "School", "ORG-A", NULL, center);
    const char *takers[] = {taker};
    fx_eligible(f->inst->db, center, id, takers, 1, 1, elig);
}

static void test_withdraw_takes_the_delivery_out_of_scope_and_publish_brings_it_back(void **state)
{
    struct fixture *f = *state;
    char id[UUID_STR_LEN], center[UUID_STR_LEN], taker[UUID_STR_LEN], elig[UUID_STR_LEN];
    import(f, "Maths", id);
    eligible_in_org_a(f, id, center, taker, elig);
    struct db *db = f->inst->db;
    assert_int_equal(fx_feed(db, "ORG-A", FEED_DELIVERY, id), FEED_LIVE);
    assert_int_equal(fx_feed(db, "ORG-A", FEED_ELIGIBILITY, elig), FEED_LIVE);
    assert_int_equal(fx_feed(db, "ORG-A", FEED_USER, taker), FEED_LIVE);

    struct delivery d;
    struct op_err e = {0};
    int changed = 0;
    db_lose_races(db, 1); /* run twice (db_write): the result is one run's */
    assert_int_equal(
        app_deliveries_set_status(f->inst, "Maths", 1, DELIVERY_WITHDRAWN, &d, &changed, &e), 0);
    assert_int_equal(changed, 1);
    assert_string_equal(d.status, DELIVERY_WITHDRAWN);
    assert_int_equal(d.version, 2);
    delivery_clear(&d);
    /* devices delete it, its eligibility and the test taker only it held ... */
    assert_int_equal(fx_feed(db, "ORG-A", FEED_DELIVERY, id), FEED_TOMBSTONE);
    assert_int_equal(fx_feed(db, "ORG-A", FEED_ELIGIBILITY, elig), FEED_TOMBSTONE);
    assert_int_equal(fx_feed(db, "ORG-A", FEED_USER, taker), FEED_TOMBSTONE);
    /* ... central keeps them, and the package history */
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM eligibilities"), 1);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 1);
    /* an eligibility set meanwhile stays out of scope too */
    char c2[UUID_STR_LEN], e2[UUID_STR_LEN];
    fx_center(db, "Other", "ORG-B", NULL, c2);
    const char *takers[] = {taker};
    fx_eligible(db, c2, id, takers, 1, 0, e2);
    assert_int_equal(fx_feed(db, "ORG-B", FEED_ELIGIBILITY, e2), FEED_ABSENT);
    assert_int_equal(fx_feed(db, "ORG-B", FEED_DELIVERY, id), FEED_ABSENT);

    /* withdrawing again changes nothing */
    int64_t last = fx_feed_last(db, "ORG-A");
    assert_int_equal(
        app_deliveries_set_status(f->inst, id, 0, DELIVERY_WITHDRAWN, &d, &changed, &e), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(d.version, 2);
    delivery_clear(&d);
    assert_int_equal(fx_feed_last(db, "ORG-A"), last);

    /* publishing brings back everything, in both organisations */
    assert_int_equal(
        app_deliveries_set_status(f->inst, id, 2, DELIVERY_PUBLISHED, &d, &changed, &e), 0);
    assert_int_equal(changed, 1);
    assert_string_equal(d.status, DELIVERY_PUBLISHED);
    delivery_clear(&d);
    assert_int_equal(fx_feed(db, "ORG-A", FEED_DELIVERY, id), FEED_LIVE);
    assert_int_equal(fx_feed(db, "ORG-A", FEED_ELIGIBILITY, elig), FEED_LIVE);
    assert_int_equal(fx_feed(db, "ORG-A", FEED_USER, taker), FEED_LIVE);
    assert_int_equal(fx_feed(db, "ORG-B", FEED_ELIGIBILITY, e2), FEED_LIVE);
    assert_int_equal(fx_feed(db, "ORG-B", FEED_DELIVERY, id), FEED_LIVE);
}

static void test_set_status_refuses_a_stale_version_a_bad_status_and_a_device(void **state)
{
    struct fixture *f = *state;
    char id[UUID_STR_LEN];
    import(f, "Maths", id);
    struct delivery d;
    struct op_err e = {0};
    assert_int_equal(app_deliveries_set_status(f->inst, id, 7, DELIVERY_WITHDRAWN, &d, NULL, &e),
                     OP_ECONFLICT);
    assert_int_equal(app_deliveries_set_status(f->inst, id, 0, "archived", &d, NULL, &e),
                     OP_EINPUT);
    assert_int_equal(
        app_deliveries_set_status(f->inst, "Nope", 0, DELIVERY_WITHDRAWN, &d, NULL, &e),
        OP_ENOTFOUND);
    check_stored(f, id, "Maths", 1); /* nothing written */
    struct instance *dev = fx_instance(ROLE_DEVICE);
    assert_int_equal(app_deliveries_set_status(dev, id, 0, DELIVERY_WITHDRAWN, &d, NULL, &e),
                     OP_ESTATE);
    json_t *v;
    assert_int_equal(app_deliveries_versions(dev, id, &v, &e), OP_ESTATE);
    fx_instance_free(dev);
}

static void test_versions_list_the_package_history_with_the_current_one(void **state)
{
    struct fixture *f = *state;
    char id[UUID_STR_LEN];
    import(f, "Maths", id);
    char *zip2 = fs_join(f->inst->dir, "other.zip");
    assert_int_equal(testzip_fixture_zip("rule-number-correct", zip2), 0);
    struct delivery d;
    struct op_err e = {0};
    const struct app_deliveries_update_in up = {id, NULL, -1, -1, 0, zip2};
    if (app_deliveries_update(f->inst, &up, &d, NULL, &e) != 0)
        fail_msg("update: %s", e.msg);
    char sha2[DELIVERY_SHA256_HEX];
    memcpy(sha2, d.package_sha256, sizeof sha2);
    delivery_clear(&d);
    const struct app_deliveries_update_in relabel = {id, "Maths 2", -1, -1, 0, NULL};
    assert_int_equal(app_deliveries_update(f->inst, &relabel, &d, NULL, &e), 0);
    delivery_clear(&d);
    json_t *v;
    assert_int_equal(app_deliveries_versions(f->inst, "Maths 2", &v, &e), 0);
    json_t *arr = json_object_get(v, "versions");
    assert_int_equal(json_array_size(arr), 2); /* the label change made no package version */
    json_t *v1 = json_array_get(arr, 0), *v2 = json_array_get(arr, 1);
    assert_int_equal(json_integer_value(json_object_get(v1, "version")), 1);
    assert_false(json_is_true(json_object_get(v1, "current")));
    assert_int_equal(json_integer_value(json_object_get(v2, "version")), 2);
    assert_true(json_is_true(json_object_get(v2, "current")));
    assert_string_equal(json_string_value(json_object_get(v2, "package_sha256")), sha2);
    assert_null(json_object_get(v2, "wrapped_key"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "delivery"), "version")),
                     3);
    json_decref(v);
    free(zip2);
}

/* A second import of a label a delivery has is refused, naming the delivery, and writes
 * nothing (no delivery, no encrypted copy); with new_version the package becomes that
 * delivery's next version, as deliveries update -f makes it: nothing written when it is the
 * package the delivery has, a new version when it differs (the settings changed only where
 * given), refused when no delivery has the label or the package has two tests. A relabel
 * to another delivery's label is refused too. */
static void test_a_label_taken_is_refused_and_new_version_updates_that_delivery(void **state)
{
    struct fixture *f = *state;
    char id[UUID_STR_LEN];
    import(f, NULL, id); /* "Outpost demo test" */
    const struct app_deliveries_import_in again = {f->zip, NULL, 1, 0, 0};
    struct app_import_result r;
    struct op_err e = {0};
    assert_int_equal(app_deliveries_import_all(f->inst, &again, NULL, &r, &e), OP_ECONFLICT);
    assert_int_equal(e.remedy, OP_REMEDY_LABEL_TAKEN);
    char want[256];
    snprintf(want, sizeof want, "a delivery is labelled \"Outpost demo test\" (%s) already", id);
    assert_non_null(strstr(e.msg, want));
    assert_int_equal(r.n, 0);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 1);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 1);

    /* the same package as a new version: nothing to write */
    const struct app_deliveries_import_in same = {f->zip, NULL, -1, -1, 1};
    if (app_deliveries_import_all(f->inst, &same, NULL, &r, &e) != 0)
        fail_msg("same: %s", e.msg);
    assert_true(r.new_version);
    assert_false(r.changed);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.deliveries[0].id, id);
    assert_int_equal(r.deliveries[0].version, 1);
    app_import_result_clear(&r);

    /* another package under the label given: the delivery's next version, with its warnings */
    char *zip2 = fs_join(f->inst->dir, "links.zip");
    assert_int_equal(testzip_fixture_zip("links-outside", zip2), 0);
    const struct app_deliveries_import_in next = {zip2, "Outpost demo test", 0, -1, 1};
    if (app_deliveries_import_all(f->inst, &next, NULL, &r, &e) != 0)
        fail_msg("new version: %s", e.msg);
    assert_true(r.new_version && r.changed);
    assert_string_equal(r.deliveries[0].id, id);
    assert_int_equal(r.deliveries[0].version, 2);
    assert_int_equal(r.deliveries[0].proctored_default, 0); /* given */
    assert_int_equal(r.deliveries[0].max_executions, 0);    /* kept */
    assert_int_equal(json_array_size(r.warnings), 5);       /* the links made inert */
    app_import_result_clear(&r);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 1);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 2);
    json_t *v;
    assert_int_equal(app_deliveries_versions(f->inst, id, &v, &e), 0);
    assert_int_equal(json_array_size(json_object_get(v, "versions")), 2);
    json_decref(v);

    /* no delivery of that label; a package of two tests */
    const struct app_deliveries_import_in none = {zip2, NULL, -1, -1, 1}; /* by its title */
    assert_int_equal(app_deliveries_import_all(f->inst, &none, NULL, &r, &e), OP_ENOTFOUND);
    assert_non_null(
        strstr(e.msg, "no delivery is labelled \"Links to pages outside the package\""));
    char *two = fs_join(f->inst->dir, "two.zip");
    assert_int_equal(testzip_fixture_zip("two-tests", two), 0);
    const struct app_deliveries_import_in both = {two, "Outpost demo test", -1, -1, 1};
    assert_int_equal(app_deliveries_import_all(f->inst, &both, NULL, &r, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "holds 2 tests"));
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 1);

    /* deliveries update: another delivery's label is refused */
    char other[UUID_STR_LEN];
    import(f, "Maths", other);
    struct delivery d;
    const struct app_deliveries_update_in relabel = {other, "Outpost demo test", -1, -1, 0, NULL};
    assert_int_equal(app_deliveries_update(f->inst, &relabel, &d, NULL, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "another delivery is labelled \"Outpost demo test\""));
    const struct app_deliveries_update_in own = {other, other, -1, -1, 0, NULL};
    assert_int_equal(app_deliveries_update(f->inst, &own, &d, NULL, &e), 0); /* its own id */
    delivery_clear(&d);
    free(two);
    free(zip2);
}

/* Replaces entry `name` of the zip `path` with `text`. */
static void entry_replace(const char *path, const char *name, const char *text)
{
    int err;
    zip_t *za = zip_open(path, 0, &err);
    assert_non_null(za);
    zip_int64_t idx = zip_name_locate(za, name, 0);
    assert_true(idx >= 0);
    zip_source_t *src = zip_source_buffer(za, text, strlen(text), 0);
    assert_int_equal(zip_file_replace(za, (zip_uint64_t)idx, src, 0), 0);
    assert_int_equal(zip_close(za), 0);
}

struct phases {
    char seen[8][16];
    int n;
    size_t items_done, items_total;
};

static void on_progress(void *ctx, const char *phase, size_t done, size_t total)
{
    struct phases *p = ctx;
    if (p->n == 0 || strcmp(p->seen[p->n - 1], phase) != 0) {
        if (p->n < 8)
            snprintf(p->seen[p->n++], sizeof p->seen[0], "%s", phase);
    }
    if (strcmp(phase, APP_IMPORT_CHECKING) == 0) {
        p->items_done = done;
        p->items_total = total;
    }
}

static void test_a_watched_import_reports_its_phases_and_every_bad_item(void **state)
{
    struct fixture *f = *state;
    struct phases ph = {0};
    json_t *problems = json_array();
    const struct app_import_watch w = {on_progress, &ph, problems, "Maths.zip", NULL};
    const struct app_deliveries_import_in in = {f->zip, NULL, 1, 0, 0};
    struct delivery d;
    struct op_err e = {0};
    assert_int_equal(app_deliveries_import_watched(f->inst, &in, &w, &d, &e), 0);
    delivery_clear(&d);
    assert_int_equal(json_array_size(problems), 0);
    assert_int_equal(ph.n, 5);
    assert_string_equal(ph.seen[0], APP_IMPORT_READING);
    assert_string_equal(ph.seen[1], APP_IMPORT_CHECKING);
    assert_string_equal(ph.seen[2], APP_IMPORT_COMPILING);
    assert_string_equal(ph.seen[3], APP_IMPORT_ENCRYPTING);
    assert_string_equal(ph.seen[4], APP_IMPORT_RECORDING);
    assert_int_equal(ph.items_total, 5);
    assert_int_equal(ph.items_done, 5);

    /* two broken items: both are listed, with their file and line, and nothing is created */
    entry_replace(f->zip, "items/planet.xml", "<assessmentItem>\n<oops></assessmentItem>");
    entry_replace(f->zip, "items/rivers.xml", "not xml at all");
    memset(&ph, 0, sizeof ph);
    assert_int_equal(app_deliveries_import_watched(f->inst, &in, &w, &d, &e), OP_EINPUT);
    assert_int_equal(json_array_size(problems), 2);
    json_t *p1 = json_array_get(problems, 0), *p2 = json_array_get(problems, 1);
    assert_string_equal(json_string_value(json_object_get(p1, "file")), "items/planet.xml");
    assert_int_equal(json_integer_value(json_object_get(p1, "line")), 2);
    assert_string_equal(json_string_value(json_object_get(p2, "file")), "items/rivers.xml");
    assert_non_null(strstr(json_string_value(json_object_get(p1, "message")), "Maths.zip: "));
    assert_non_null(strstr(e.msg, "Maths.zip: items/planet.xml line 2"));
    assert_int_equal(ph.items_done, 5); /* every item was checked */
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 1);
    json_decref(problems);
}

/* A package of two tests (tests/fixtures/qti/two-tests: maths then physics): one delivery
 * per test in one transaction, labelled by title or "--label (N)"; progress counts the items
 * of both; a bad second test imports nothing. */
static void test_a_package_of_two_tests_makes_two_deliveries_all_or_none(void **state)
{
    struct fixture *f = *state;
    char *zip = fs_join(f->inst->dir, "two-tests.zip");
    assert_int_equal(testzip_fixture_zip("two-tests", zip), 0);
    const struct app_deliveries_import_in in = {zip, NULL, 1, 2, 0};
    struct app_import_result r;
    struct op_err e = {0};
    struct phases ph = {0};
    const struct app_import_watch w = {on_progress, &ph, NULL, NULL, NULL};
    db_lose_races(f->inst->db, 1); /* the transaction runs twice: one run's deliveries */
    if (app_deliveries_import_all(f->inst, &in, &w, &r, &e) != 0)
        fail_msg("import: %s", e.msg);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.deliveries[0].label, "Maths");
    assert_string_equal(r.deliveries[1].label, "Physics");
    assert_int_equal(r.deliveries[1].max_executions, 2);
    assert_string_not_equal(r.deliveries[0].package_sha256, r.deliveries[1].package_sha256);
    assert_int_equal(json_array_size(r.warnings), 0);
    assert_int_equal(ph.items_total, 3); /* M1, M2 and F1 */
    assert_int_equal(ph.items_done, 3);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 2);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 2);
    app_import_result_clear(&r);

    /* a label given: "L (N)" in the manifest's order */
    const struct app_deliveries_import_in labelled = {zip, "Term 1", 1, 0, 0};
    assert_int_equal(app_deliveries_import_all(f->inst, &labelled, NULL, &r, &e), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.deliveries[0].label, "Term 1 (1)");
    assert_string_equal(r.deliveries[1].label, "Term 1 (2)");
    app_import_result_clear(&r);

    /* the labels are taken now: refused, naming both, nothing written */
    assert_int_equal(app_deliveries_import_all(f->inst, &labelled, NULL, &r, &e), OP_ECONFLICT);
    assert_int_equal(e.remedy, OP_REMEDY_LABEL_TAKEN);
    assert_non_null(strstr(e.msg, "deliveries are labelled \"Term 1 (1)\" ("));
    assert_non_null(strstr(e.msg, "\"Term 1 (2)\" ("));
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 4);

    /* the first delivery only, for the callers of one */
    struct delivery d;
    const struct app_deliveries_import_in term2 = {zip, "Term 2", 1, 0, 0};
    assert_int_equal(app_deliveries_import(f->inst, &term2, &d, &e), 0);
    assert_string_equal(d.label, "Term 2 (1)");
    delivery_clear(&d);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 6);

    /* the second test refers to an item the package lacks: nothing at all is imported */
    entry_replace(zip, "physics/test.xml",
                  "<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p2\" "
                  "identifier=\"physics\" title=\"Physics\">\n<testPart identifier=\"P1\" "
                  "navigationMode=\"linear\" submissionMode=\"individual\">\n"
                  "<assessmentSection identifier=\"S1\" title=\"S\" visible=\"true\">\n"
                  "<assessmentItemRef identifier=\"F1\" href=\"../items/none.xml\"/>\n"
                  "</assessmentSection></testPart></assessmentTest>");
    json_t *problems = json_array();
    const struct app_import_watch wp = {NULL, NULL, problems, "Sciences.zip", NULL};
    assert_int_equal(app_deliveries_import_all(f->inst, &in, &wp, &r, &e), OP_EINPUT);
    assert_int_equal(r.n, 0);
    assert_null(r.deliveries);
    assert_non_null(strstr(e.msg, "Sciences.zip: physics/test.xml line 4: assessmentItemRef F1 "
                                  "points to items/none.xml"));
    assert_int_equal(json_array_size(problems), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(problems, 0), "file")),
                        "physics/test.xml");
    json_decref(problems);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 6);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 6);
    free(zip);
}

/* Two tests of one package with the same title: "(N)" tells them apart. */
static void test_two_tests_sharing_a_title_are_numbered(void **state)
{
    struct fixture *f = *state;
    char *zip = fs_join(f->inst->dir, "two-tests.zip");
    assert_int_equal(testzip_fixture_zip("two-tests", zip), 0);
    entry_replace(zip, "physics/test.xml",
                  "<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p2\" "
                  "identifier=\"physics\" title=\"Maths\">\n<testPart identifier=\"P1\" "
                  "navigationMode=\"linear\" submissionMode=\"individual\">\n"
                  "<assessmentSection identifier=\"S1\" title=\"S\" visible=\"true\">\n"
                  "<assessmentItemRef identifier=\"F1\" href=\"../items/choice.xml\"/>\n"
                  "</assessmentSection></testPart></assessmentTest>");
    const struct app_deliveries_import_in in = {zip, NULL, 1, 0, 0};
    struct app_import_result r;
    struct op_err e = {0};
    assert_int_equal(app_deliveries_import_all(f->inst, &in, NULL, &r, &e), 0);
    assert_string_equal(r.deliveries[0].label, "Maths (1)");
    assert_string_equal(r.deliveries[1].label, "Maths (2)");
    app_import_result_clear(&r);
    free(zip);
}

/* Links to pages the package lacks are warnings with their file and line, named by the
 * name the user gave the package; the delivery is made. */
static void test_links_to_absent_pages_are_warnings_of_the_import(void **state)
{
    struct fixture *f = *state;
    char *zip = fs_join(f->inst->dir, "upload-1234.zip");
    assert_int_equal(testzip_fixture_zip("links-outside", zip), 0);
    const struct app_deliveries_import_in in = {zip, NULL, 1, 0, 0};
    const struct app_import_watch w = {NULL, NULL, NULL, "Geography.zip", NULL};
    struct app_import_result r;
    struct op_err e = {0};
    if (app_deliveries_import_all(f->inst, &in, &w, &r, &e) != 0)
        fail_msg("import: %s", e.msg);
    assert_int_equal(r.n, 1);
    assert_int_equal(json_array_size(r.warnings), 5);
    json_t *w0 = json_array_get(r.warnings, 0), *w3 = json_array_get(r.warnings, 3);
    assert_string_equal(json_string_value(json_object_get(w0, "file")), "test.xml");
    assert_int_equal(json_integer_value(json_object_get(w0, "line")), 10);
    assert_string_equal(json_string_value(json_object_get(w3, "file")), "items/linked.xml");
    assert_int_equal(json_integer_value(json_object_get(w3, "line")), 18);
    assert_string_equal(json_string_value(json_object_get(w3, "message")),
                        "Geography.zip: items/linked.xml line 18: the link to "
                        "\"../assets/legend.html\" was made inert (its text is kept): "
                        "assets/legend.html is not in the archive");
    app_import_result_clear(&r);
    free(zip);
}

static void test_problem_json_reads_the_file_and_the_line_of_a_message(void **state)
{
    (void)state;
    static const struct {
        const char *msg, *file;
        int line;
    } cases[] = {
        {"B.zip: Q02/qti.xml line 8: malformed XML: Opening and ending tag mismatch", "Q02/qti.xml",
         8},
        {"B.zip: Q01/qti.xml: item Q01: responseDeclaration RESPONSE line 4: unknown attribute",
         "Q01/qti.xml", 4},
        {"B.zip: items/q1.xml: uses items/img/map.png, which is not in the archive", "items/q1.xml",
         0},
        {"B.zip: not a valid zip archive (Not a zip archive)", NULL, 0},
        {"B.zip: test.xml line 19: assessmentItemRef Q03 points to Q03/qti.xml", "test.xml", 19},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *o = app_qti_problem_json("B.zip", cases[i].msg);
        json_t *file = json_object_get(o, "file"), *line = json_object_get(o, "line");
        if (cases[i].file)
            assert_string_equal(json_string_value(file), cases[i].file);
        else
            assert_true(json_is_null(file));
        if (cases[i].line)
            assert_int_equal(json_integer_value(line), cases[i].line);
        else
            assert_true(json_is_null(line));
        assert_string_equal(json_string_value(json_object_get(o, "message")), cases[i].msg);
        json_decref(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_import_stores_the_compiled_package_and_creates_the_delivery, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_import_of_a_bad_package_or_bad_settings_creates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_update_and_delete_run_on_a_central_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_update_changes_what_is_given_and_bumps_the_version,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_with_the_stored_values_writes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_update_refuses_bad_input_and_a_stale_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete_by_label_withdraws_the_delivery, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delivery_json_has_the_stable_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_withdraw_takes_the_delivery_out_of_scope_and_publish_brings_it_back, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_set_status_refuses_a_stale_version_a_bad_status_and_a_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_list_the_package_history_with_the_current_one,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_watched_import_reports_its_phases_and_every_bad_item,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_package_of_two_tests_makes_two_deliveries_all_or_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_tests_sharing_a_title_are_numbered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_links_to_absent_pages_are_warnings_of_the_import,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_label_taken_is_refused_and_new_version_updates_that_delivery, setup, teardown),
        cmocka_unit_test(test_problem_json_reads_the_file_and_the_line_of_a_message),
        cmocka_unit_test_setup_teardown(test_resolve_names_a_delivery_by_id_or_label, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
