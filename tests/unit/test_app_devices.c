/* test_app_devices.c - app/devices.h: enrolling a device on central and its checks, looking it
 * up, revoking it, and its JSON shape, on a real temporary central. */
#include "instance_fixture.h"

#include <sodium.h>

#include "app/devices.h"
#include "store/users.h"

#define DEVICE_ID "0b6f4a57-1c1e-4d0e-9d3b-5a4e0f7c2d11"

struct fixture {
    char *dir;
    struct instance *inst;
    struct app_device_enrol_request req;
    struct device d;
    struct op_err e;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance("central", &f->dir);
    f->req = (struct app_device_enrol_request){DEVICE_ID, "Laptop 3", "ORG-1", NULL, {0}};
    randombytes_buf(f->req.signing_public_key, KEY_PUBLIC_BYTES);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    device_clear(&f->d);
    instance_close(f->inst);
    testutil_rmdir(f->dir);
    free(f);
    return 0;
}

/* Adds a user; returns its id in `id`. */
static void add_user(struct instance *inst, const char *login, const char *role, const char *org,
                     char id[UUID_STR_LEN])
{
    struct op_err e = {0};
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)login;
    u.label = (char *)login;
    u.role = (char *)role;
    u.org_id = (char *)org;
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    assert_int_equal(db_begin(inst->db, &e), 0);
    if (users_insert(inst->db, &u, &e) != 0)
        fail_msg("users_insert: %s", e.msg);
    assert_int_equal(db_commit(inst->db, &e), 0);
    memcpy(id, u.id, UUID_STR_LEN);
}

static int enrolled(struct fixture *f)
{
    struct device d;
    struct op_err e = {0};
    int rc = app_devices_get(f->inst, DEVICE_ID, &d, &e);
    device_clear(&d);
    return rc == 0;
}

static void test_enrolled_device_is_stored_with_its_key_and_not_revoked(void **state)
{
    struct fixture *f = *state;
    db_lose_races(f->inst->db, 1); /* run twice (db_write): the result is one run's */
    if (app_devices_enrol(f->inst, &f->req, &f->d, &f->e) != 0)
        fail_msg("enrol: %s", f->e.msg);
    assert_string_equal(f->d.id, DEVICE_ID);
    assert_string_equal(f->d.label, "Laptop 3");
    assert_string_equal(f->d.org_id, "ORG-1");
    assert_null(f->d.sync_manager_id);
    assert_int_equal(f->d.revoked, 0);
    assert_true(f->d.enrolled_at[0] != '\0');
    assert_memory_equal(f->d.signing_public_key, f->req.signing_public_key, KEY_PUBLIC_BYTES);

    struct device again;
    assert_int_equal(app_devices_get(f->inst, DEVICE_ID, &again, &f->e), 0);
    assert_memory_equal(again.signing_public_key, f->req.signing_public_key, KEY_PUBLIC_BYTES);
    device_clear(&again);
}

static void test_device_json_has_the_public_fields(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(app_devices_enrol(f->inst, &f->req, &f->d, &f->e), 0);
    json_t *o = app_device_json(&f->d);
    char hex[KEY_PUBLIC_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, f->req.signing_public_key, KEY_PUBLIC_BYTES);
    assert_string_equal(json_string_value(json_object_get(o, "id")), DEVICE_ID);
    assert_string_equal(json_string_value(json_object_get(o, "label")), "Laptop 3");
    assert_string_equal(json_string_value(json_object_get(o, "org_id")), "ORG-1");
    assert_true(json_is_null(json_object_get(o, "sync_manager_id")));
    assert_string_equal(json_string_value(json_object_get(o, "signing_public_key")), hex);
    assert_int_equal(
        strlen(json_string_value(json_object_get(o, "signing_key_fingerprint_sha256"))), 64);
    assert_true(json_is_false(json_object_get(o, "revoked")));
    assert_true(json_is_null(json_object_get(o, "last_sync_at")));
    json_decref(o);
}

static void test_enrolling_the_same_device_twice_is_a_conflict(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(app_devices_enrol(f->inst, &f->req, &f->d, &f->e), 0);
    device_clear(&f->d);
    assert_int_equal(app_devices_enrol(f->inst, &f->req, &f->d, &f->e), OP_ECONFLICT);
}

static void test_enrol_refuses_bad_id_label_org_and_key_and_stores_nothing(void **state)
{
    struct fixture *f = *state;
    struct app_device_enrol_request bad = f->req;
    bad.id = "laptop-3";
    assert_int_equal(app_devices_enrol(f->inst, &bad, &f->d, &f->e), OP_EINPUT);
    bad = f->req;
    bad.label = "";
    assert_int_equal(app_devices_enrol(f->inst, &bad, &f->d, &f->e), OP_EINPUT);
    assert_non_null(strstr(f->e.msg, "missing label"));
    bad.label = "tab\there";
    assert_int_equal(app_devices_enrol(f->inst, &bad, &f->d, &f->e), OP_EINPUT);
    bad = f->req;
    bad.org_id = " ORG-1";
    assert_int_equal(app_devices_enrol(f->inst, &bad, &f->d, &f->e), OP_EINPUT);
    assert_non_null(strstr(f->e.msg, "organisation id"));
    bad = f->req;
    memset(bad.signing_public_key, 0, KEY_PUBLIC_BYTES);
    assert_int_equal(app_devices_enrol(f->inst, &bad, &f->d, &f->e), OP_EINPUT);
    assert_false(enrolled(f));
}

static void test_enrol_takes_a_sync_manager_of_the_same_organisation_only(void **state)
{
    struct fixture *f = *state;
    char same[UUID_STR_LEN], other[UUID_STR_LEN], proctor[UUID_STR_LEN];
    add_user(f->inst, "sm1", ROLE_SYNC_MANAGER, "ORG-1", same);
    add_user(f->inst, "sm2", ROLE_SYNC_MANAGER, "ORG-2", other);
    add_user(f->inst, "p1", ROLE_PROCTOR, NULL, proctor);
    f->req.sync_manager_id = other;
    assert_int_equal(app_devices_enrol(f->inst, &f->req, &f->d, &f->e), OP_EINPUT);
    assert_non_null(strstr(f->e.msg, "own organisation"));
    f->req.sync_manager_id = proctor;
    assert_int_equal(app_devices_enrol(f->inst, &f->req, &f->d, &f->e), OP_EINPUT);
    assert_non_null(strstr(f->e.msg, "not a sync-manager"));
    f->req.sync_manager_id = "7d4f0a57-1c1e-4d0e-9d3b-5a4e0f7c2d99";
    assert_int_equal(app_devices_enrol(f->inst, &f->req, &f->d, &f->e), OP_EINPUT);
    assert_false(enrolled(f));
    f->req.sync_manager_id = same;
    if (app_devices_enrol(f->inst, &f->req, &f->d, &f->e) != 0)
        fail_msg("enrol: %s", f->e.msg);
    assert_string_equal(f->d.sync_manager_id, same);
}

static void test_revoke_marks_the_device_and_is_idempotent(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(app_devices_enrol(f->inst, &f->req, &f->d, &f->e), 0);
    device_clear(&f->d);
    assert_int_equal(app_devices_revoke(f->inst, DEVICE_ID, &f->e), 0);
    assert_int_equal(app_devices_revoke(f->inst, DEVICE_ID, &f->e), 0);
    assert_int_equal(app_devices_get(f->inst, DEVICE_ID, &f->d, &f->e), 0);
    assert_int_equal(f->d.revoked, 1);
}

static void test_unknown_device_is_not_found(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(app_devices_get(f->inst, DEVICE_ID, &f->d, &f->e), OP_ENOTFOUND);
    assert_int_equal(app_devices_revoke(f->inst, DEVICE_ID, &f->e), OP_ENOTFOUND);
    assert_int_equal(app_devices_get(f->inst, "not-an-id", &f->d, &f->e), OP_EINPUT);
}

static void test_devices_are_enrolled_on_central_only(void **state)
{
    (void)state;
    char *dir;
    struct instance *dev = fx_instance("device", &dir);
    struct app_device_enrol_request req = {DEVICE_ID, "Laptop 3", "ORG-1", NULL, {1}};
    struct device d;
    struct op_err e = {0};
    assert_int_equal(app_devices_enrol(dev, &req, &d, &e), OP_ESTATE);
    assert_int_equal(app_devices_get(dev, DEVICE_ID, &d, &e), OP_ESTATE);
    instance_close(dev);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enrolled_device_is_stored_with_its_key_and_not_revoked,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_json_has_the_public_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enrolling_the_same_device_twice_is_a_conflict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_enrol_refuses_bad_id_label_org_and_key_and_stores_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_enrol_takes_a_sync_manager_of_the_same_organisation_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_marks_the_device_and_is_idempotent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_device_is_not_found, setup, teardown),
        cmocka_unit_test(test_devices_are_enrolled_on_central_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
