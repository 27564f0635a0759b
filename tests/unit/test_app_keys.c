/* test_app_keys.c - app/keys.h on real temporary instances: setup-central and setup-device
 * are idempotent, rotate adds a current key, show describes it, roles are checked, and a lost
 * master key that escrow copies depend on is refused unless replace_lost_key. */
#include "instance_fixture.h"

#include <unistd.h>

#include "app/keys.h"

static void test_setup_central_rerun_keeps_keys_and_reports_the_current_results_key(void **state)
{
    (void)state;
    char *dir;
    struct instance *inst = fx_instance("central", &dir);
    struct app_keys_setup_central_request req = {0};
    struct app_keys_setup_report rep;
    struct op_err e = {0};
    if (app_keys_setup_central(inst, &req, &rep, &e) != 0)
        fail_msg("setup-central: %s", e.msg);
    assert_int_equal(rep.created, 0);
    assert_true(rep.kept >= 3);
    assert_int_equal(strlen(rep.fingerprint), 64);
    assert_null(rep.notes);
    json_t *o = app_keys_setup_central_json(&rep);
    assert_string_equal(json_string_value(json_object_get(o, "results_key_id")), rep.key_id);
    json_decref(o);
    app_keys_setup_report_free(&rep);
    instance_close(inst);
    testutil_rmdir(dir);
}

static void test_rotate_makes_a_new_current_key_that_show_lists(void **state)
{
    (void)state;
    char *dir;
    struct instance *inst = fx_instance("central", &dir);
    struct key k;
    struct op_err e = {0};
    if (app_keys_rotate(inst, &k, &e) != 0)
        fail_msg("rotate: %s", e.msg);
    assert_int_equal(k.serial, 2);
    json_t *doc;
    assert_int_equal(app_keys_show(inst, &doc, &e), 0);
    json_t *arr = json_object_get(doc, "results_keys");
    assert_int_equal(json_array_size(arr), 2);
    size_t i;
    json_t *r;
    int current = 0;
    json_array_foreach(arr, i, r)
    {
        if (json_is_true(json_object_get(r, "current"))) {
            current++;
            assert_string_equal(json_string_value(json_object_get(r, "id")), k.id);
        }
    }
    assert_int_equal(current, 1);
    assert_non_null(json_object_get(doc, "master_key"));
    json_decref(doc);
    key_wipe(&k);
    instance_close(inst);
    testutil_rmdir(dir);
}

static void test_device_operations_check_the_role(void **state)
{
    (void)state;
    char *dir;
    struct instance *inst = fx_instance("device", &dir);
    struct key k;
    struct op_err e = {0};
    assert_int_equal(app_keys_rotate(inst, &k, &e), OP_ESTATE);
    struct app_keys_setup_central_request req = {0};
    struct app_keys_setup_report rep;
    assert_int_equal(app_keys_setup_central(inst, &req, &rep, &e), OP_ESTATE);
    app_keys_setup_report_free(&rep);
    if (app_keys_setup_device(inst, &rep, &e) != 0)
        fail_msg("setup-device: %s", e.msg);
    assert_int_equal(rep.created, 0);
    assert_string_equal(rep.instance_id, inst->id);
    app_keys_setup_report_free(&rep);
    json_t *doc;
    assert_int_equal(app_keys_show(inst, &doc, &e), 0);
    assert_non_null(json_object_get(doc, "signing_key"));
    assert_null(json_object_get(doc, "results_keys"));
    json_decref(doc);
    instance_close(inst);
    testutil_rmdir(dir);
}

static void test_lost_master_key_is_refused_unless_replace_lost_key(void **state)
{
    (void)state;
    char *dir;
    struct instance *inst = fx_instance("central", &dir);
    char *master = fx_key_path(inst, "master.key");
    assert_int_equal(unlink(master), 0); /* the super-user's escrow copy depends on it */
    struct app_keys_setup_central_request req = {0};
    struct app_keys_setup_report rep;
    struct op_err e = {0};
    assert_int_equal(app_keys_setup_central(inst, &req, &rep, &e), OP_ESTATE);
    /* the app names the lost key; the replacement is the front end's advice to word */
    assert_non_null(strstr(e.msg, "master.key is missing"));
    assert_null(strstr(e.msg, "--replace-lost-key"));
    assert_int_equal(e.remedy, OP_REMEDY_REPLACE_LOST_KEY);
    app_keys_setup_report_free(&rep);
    req.replace_lost_key = 1;
    if (app_keys_setup_central(inst, &req, &rep, &e) != 0)
        fail_msg("setup-central: %s", e.msg);
    assert_int_equal(rep.replaced, 1);
    assert_int_equal(rep.created, 1);
    assert_non_null(rep.notes);
    assert_non_null(strstr(rep.notes, "replaced lost master key"));
    app_keys_setup_report_free(&rep);
    free(master);
    instance_close(inst);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setup_central_rerun_keeps_keys_and_reports_the_current_results_key),
        cmocka_unit_test(test_rotate_makes_a_new_current_key_that_show_lists),
        cmocka_unit_test(test_device_operations_check_the_role),
        cmocka_unit_test(test_lost_master_key_is_refused_unless_replace_lost_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
