/* test_app_sync_history.c - sync runs on both roles (app/sync_history.h): begun and ended, the
 * device's sync lock (a second sync refused with the holder's pid), a run left by a killed
 * process shown as interrupted, bad outcomes refused with the lock released; on central, runs
 * per enrolled device and what a device reports of itself (app_devices_report_sync). Also on
 * PostgreSQL (PG_UNIT_TESTS). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/devices.h"
#include "app/sync_history.h"
#include "app_instance_fixture.h"
#include "base/clock.h"
#include "base/lockfile.h"

#define DEVICE_ID "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"

static json_t *history(struct instance *inst, const char *device, int limit)
{
    json_t *arr;
    struct op_err e = {0};
    if (app_sync_history(inst, device, limit, &arr, &e) != 0)
        fail_msg("history: %s", e.msg);
    return arr;
}

static const char *field(json_t *arr, size_t i, const char *k)
{
    return json_string_value(json_object_get(json_array_get(arr, i), k));
}

static void test_device_run_is_recorded_from_begin_to_end(void **state)
{
    (void)state;
    struct instance *inst = fx_instance(ROLE_DEVICE);
    struct op_err e = {0};
    struct app_sync_run run;
    db_lose_races(inst->db, 1); /* the begin's body runs twice: one row */
    assert_int_equal(app_sync_run_begin(inst, NULL, &run, &e), 0);
    assert_string_equal(run.device_id, inst->id);
    assert_true(run.lock_fd >= 0);
    json_t *h = history(inst, NULL, 20);
    assert_int_equal(json_array_size(h), 1);
    assert_string_equal(field(h, 0, "status"), "running");
    assert_true(json_is_null(json_object_get(json_array_get(h, 0), "ended_at")));
    json_decref(h);

    json_t *counts = json_pack("{s:{s:i, s:i}, s:{s:i}}", "users", "created", 3, "deleted", 1,
                               "deliveries", "updated", 2);
    struct app_sync_outcome o = {.ok = 1, .counts = counts, .results_sent = 7, .bytes = 5000000001};
    db_lose_races(inst->db, 1);
    assert_int_equal(app_sync_run_end(inst, &run, &o, &e), 0);
    json_decref(counts);
    assert_int_equal(run.lock_fd, -1);
    h = history(inst, NULL, 20);
    json_t *r = json_array_get(h, 0);
    assert_string_equal(field(h, 0, "status"), "ok");
    assert_string_equal(field(h, 0, "device_id"), inst->id);
    assert_non_null(field(h, 0, "ended_at"));
    assert_int_equal(json_integer_value(json_object_get(r, "results_sent")), 7);
    assert_true(json_integer_value(json_object_get(r, "bytes")) == 5000000001LL);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(r, "counts"), "users"), "created")),
                     3);
    assert_true(json_is_null(json_object_get(r, "error")));
    json_decref(h);
    assert_int_equal(fx_count(inst, "SELECT count(*) FROM sync_runs"), 1);
    fx_instance_free(inst);
}

/* A clock one second on at every reading, so that runs sort by their start. */
static time_t ticking(void *ctx)
{
    return (*(time_t *)ctx)++;
}

static void test_second_sync_is_refused_while_one_runs(void **state)
{
    (void)state;
    struct instance *inst = fx_instance(ROLE_DEVICE);
    struct op_err e = {0};
    time_t t = 1790000000;
    clock_set(&(struct op_clock){ticking, &t});
    struct app_sync_run a, b;
    assert_int_equal(app_sync_run_begin(inst, NULL, &a, &e), 0);
    assert_int_equal(app_sync_run_begin(inst, NULL, &b, &e), OP_EBUSY);
    char want[64];
    snprintf(want, sizeof want, "a sync is already running (pid %ld)", (long)getpid());
    assert_string_equal(e.msg, want);
    assert_int_equal(b.lock_fd, -1);
    assert_int_equal(fx_count(inst, "SELECT count(*) FROM sync_runs"), 1);
    struct app_sync_outcome o = {.ok = 0, .error = "central unreachable"};
    assert_int_equal(app_sync_run_end(inst, &a, &o, &e), 0);
    /* ended: the next one may run */
    assert_int_equal(app_sync_run_begin(inst, NULL, &b, &e), 0);
    assert_int_equal(app_sync_run_end(inst, &b, &(struct app_sync_outcome){.ok = 1}, &e), 0);
    json_t *h = history(inst, NULL, 20);
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(field(h, 1, "status"), "failed");
    assert_string_equal(field(h, 1, "error"), "central unreachable");
    json_decref(h);
    clock_set(NULL);
    fx_instance_free(inst);
}

static void test_run_left_running_by_a_killed_sync_is_shown_interrupted(void **state)
{
    (void)state;
    struct instance *inst = fx_instance(ROLE_DEVICE);
    struct op_err e = {0};
    time_t t = 1790000000;
    clock_set(&(struct op_clock){clock_fixed, &t});
    struct app_sync_run killed, now;
    assert_int_equal(app_sync_run_begin(inst, NULL, &killed, &e), 0);
    lockfile_release(killed.lock_fd); /* what the kernel does when the process dies */
    json_t *h = history(inst, NULL, 20);
    assert_string_equal(field(h, 0, "status"), "interrupted");
    json_decref(h);
    /* a new sync runs: it is running, the older one still interrupted */
    t += 60;
    assert_int_equal(app_sync_run_begin(inst, NULL, &now, &e), 0);
    h = history(inst, NULL, 20);
    assert_string_equal(field(h, 0, "status"), "running");
    assert_string_equal(field(h, 1, "status"), "interrupted");
    json_decref(h);
    assert_int_equal(app_sync_run_end(inst, &now, &(struct app_sync_outcome){.ok = 1}, &e), 0);
    /* the limit keeps the newest */
    h = history(inst, NULL, 1);
    assert_int_equal(json_array_size(h), 1);
    assert_string_equal(field(h, 0, "status"), "ok");
    json_decref(h);
    clock_set(NULL);
    fx_instance_free(inst);
}

static void test_bad_outcome_is_refused_and_the_lock_released(void **state)
{
    (void)state;
    struct instance *inst = fx_instance(ROLE_DEVICE);
    struct op_err e = {0};
    time_t t = 1790000000;
    clock_set(&(struct op_clock){ticking, &t});
    struct app_sync_run run;
    const char *bad[] = {"[]", "{\"users\": 3}", "{\"users\": {\"created\": -1}}",
                         "{\"users\": {\"moved\": 1}}", "{\"users\": {\"created\": \"2\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(app_sync_run_begin(inst, NULL, &run, &e), 0);
        json_t *counts = json_loads(bad[i], 0, NULL);
        assert_non_null(counts);
        struct app_sync_outcome o = {.ok = 1, .counts = counts};
        if (app_sync_run_end(inst, &run, &o, &e) != OP_EINPUT)
            fail_msg("counts %s accepted", bad[i]);
        json_decref(counts);
        assert_int_equal(run.lock_fd, -1); /* released: the next begin succeeds */
    }
    assert_int_equal(app_sync_run_begin(inst, NULL, &run, &e), 0);
    struct app_sync_outcome neg = {.ok = 1, .bytes = -1};
    assert_int_equal(app_sync_run_end(inst, &run, &neg, &e), OP_EINPUT);
    /* a long error is cut, on a character boundary */
    char long_err[5000];
    memset(long_err, 'x', sizeof long_err);
    memcpy(long_err + SYNC_RUN_ERROR_MAX - 1, "\xc3\xa9", 2); /* é across the cut */
    long_err[sizeof long_err - 1] = '\0';
    assert_int_equal(app_sync_run_begin(inst, NULL, &run, &e), 0);
    struct app_sync_outcome o = {.ok = 0, .error = long_err};
    assert_int_equal(app_sync_run_end(inst, &run, &o, &e), 0);
    json_t *h = history(inst, NULL, 1);
    assert_int_equal(strlen(field(h, 0, "error")), SYNC_RUN_ERROR_MAX - 1);
    json_decref(h);
    /* a device keeps its own runs: no device id */
    assert_int_equal(app_sync_run_begin(inst, DEVICE_ID, &run, &e), OP_EINPUT);
    json_t *arr;
    assert_int_equal(app_sync_history(inst, DEVICE_ID, 5, &arr, &e), OP_EINPUT);
    assert_int_equal(app_sync_history(inst, NULL, 0, &arr, &e), OP_EINPUT);
    assert_int_equal(app_sync_history(inst, NULL, 1001, &arr, &e), OP_EINPUT);
    clock_set(NULL);
    fx_instance_free(inst);
}

static void enrol(struct instance *inst, const char *id)
{
    struct app_device_enrol_request req = {.id = id, .label = "Laptop", .org_id = "ORG-1"};
    randombytes_buf(req.signing_public_key, KEY_PUBLIC_BYTES);
    struct device d;
    struct op_err e = {0};
    if (app_devices_enrol(inst, &req, &d, &e) != 0)
        fail_msg("enrol: %s", e.msg);
    device_clear(&d);
}

static void test_central_records_runs_per_enrolled_device(void **state)
{
    (void)state;
    struct instance *inst = fx_instance(ROLE_CENTRAL);
    struct op_err e = {0};
    struct app_sync_run run;
    assert_int_equal(app_sync_run_begin(inst, DEVICE_ID, &run, &e), OP_ENOTFOUND);
    assert_int_equal(app_sync_run_begin(inst, "not-a-uuid", &run, &e), OP_EINPUT);
    assert_int_equal(app_sync_run_begin(inst, NULL, &run, &e), OP_EINPUT);
    enrol(inst, DEVICE_ID);
    const char *other = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    enrol(inst, other);
    assert_int_equal(app_sync_run_begin(inst, DEVICE_ID, &run, &e), 0);
    assert_int_equal(run.lock_fd, -1);
    /* central takes no lock: another device's sync runs at the same time */
    struct app_sync_run run2;
    assert_int_equal(app_sync_run_begin(inst, other, &run2, &e), 0);
    assert_int_equal(app_sync_run_end(inst, &run2, &(struct app_sync_outcome){.ok = 1}, &e), 0);
    json_t *h = history(inst, DEVICE_ID, 20);
    assert_int_equal(json_array_size(h), 1);
    assert_string_equal(field(h, 0, "device_id"), DEVICE_ID);
    assert_string_equal(field(h, 0, "status"), "running"); /* central: no interrupted */
    json_decref(h);
    assert_int_equal(app_sync_run_end(inst, &run, &(struct app_sync_outcome){.ok = 1}, &e), 0);
    h = history(inst, NULL, 20);
    assert_int_equal(json_array_size(h), 2);
    json_decref(h);
    fx_instance_free(inst);
}

static void test_device_report_is_kept_with_its_clock_offset(void **state)
{
    (void)state;
    struct instance *inst = fx_instance(ROLE_CENTRAL);
    struct op_err e = {0};
    time_t t = 1790000000;
    clock_set(&(struct op_clock){clock_fixed, &t});
    assert_int_equal(app_devices_report_sync(inst, DEVICE_ID, "0.1.0", 0, t, &e), OP_ENOTFOUND);
    enrol(inst, DEVICE_ID);
    struct device d;
    assert_int_equal(app_devices_get(inst, DEVICE_ID, &d, &e), 0);
    json_t *o = app_device_json(&d);
    assert_true(json_is_null(json_object_get(o, "software_version")));
    assert_true(json_is_null(json_object_get(o, "pending_results")));
    assert_true(json_is_null(json_object_get(o, "clock_offset_seconds")));
    json_decref(o);
    device_clear(&d);

    db_lose_races(inst->db, 1);
    assert_int_equal(app_devices_report_sync(inst, DEVICE_ID, "0.1.0", 12, t - 95, &e), 0);
    assert_int_equal(app_devices_get(inst, DEVICE_ID, &d, &e), 0);
    assert_string_equal(d.software_version, "0.1.0");
    assert_int_equal(d.pending_results, 12);
    assert_int_equal(d.clock_offset_seconds, -95);
    assert_string_equal(d.last_sync_at, "2026-09-21T14:13:20Z");
    o = app_device_json(&d);
    assert_int_equal(json_integer_value(json_object_get(o, "clock_offset_seconds")), -95);
    assert_int_equal(json_integer_value(json_object_get(o, "pending_results")), 12);
    json_decref(o);
    device_clear(&d);

    assert_int_equal(app_devices_report_sync(inst, DEVICE_ID, "", 0, t, &e), OP_EINPUT);
    assert_int_equal(app_devices_report_sync(inst, DEVICE_ID, NULL, 0, t, &e), OP_EINPUT);
    assert_int_equal(app_devices_report_sync(inst, DEVICE_ID, "0.1\n", 0, t, &e), OP_EINPUT);
    assert_int_equal(app_devices_report_sync(inst, DEVICE_ID, "0.1.0", -1, t, &e), OP_EINPUT);
    assert_int_equal(app_devices_report_sync(inst, DEVICE_ID, "0.1.0", 0, t + 400LL * 86400, &e),
                     OP_EINPUT);
    assert_string_equal(e.field, "device_time");
    assert_int_equal(app_devices_get(inst, DEVICE_ID, &d, &e), 0);
    assert_int_equal(d.pending_results, 12); /* unchanged by the refusals */
    device_clear(&d);
    clock_set(NULL);
    fx_instance_free(inst);

    struct instance *dev = fx_instance(ROLE_DEVICE);
    assert_int_equal(app_devices_report_sync(dev, DEVICE_ID, "0.1.0", 0, t, &e), OP_ESTATE);
    fx_instance_free(dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_run_is_recorded_from_begin_to_end),
        cmocka_unit_test(test_second_sync_is_refused_while_one_runs),
        cmocka_unit_test(test_run_left_running_by_a_killed_sync_is_shown_interrupted),
        cmocka_unit_test(test_bad_outcome_is_refused_and_the_lock_released),
        cmocka_unit_test(test_central_records_runs_per_enrolled_device),
        cmocka_unit_test(test_device_report_is_kept_with_its_clock_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
