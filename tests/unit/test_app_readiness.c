/* test_app_readiness.c - the sync manager's readiness panel (app/readiness.h) of a real device,
 * with a real central serving in this process: central reachable or not (none registered,
 * refused, hanging), results waiting in the outbox, the disk threshold, the last sync. */
#include <string.h>
#include <time.h>

#include "app/readiness.h"
#include "app/sync_history.h"
#include "syncbtn_fixture.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_reachable_central_and_waiting_results(void **state)
{
    (void)state;
    struct sbfx *f = sbfx_new();
    struct op_err e = {0};
    struct app_readiness r;
    assert_int_equal(app_readiness_read(f->device, NULL, &r, &e), 0);
    assert_true(r.registered);
    assert_true(r.reachable);
    assert_true(r.latency_ms >= 0);
    assert_string_equal(r.central_error, "");
    assert_int_equal(r.results_waiting, 0);
    assert_null(r.last_sync);
    assert_true(r.disk_free_bytes > 0);
    assert_int_equal(r.disk_min_bytes, READINESS_DISK_MIN_BYTES);
    json_t *j = app_readiness_json(&r);
    assert_non_null(j);
    json_t *c = json_object_get(j, "central");
    assert_true(json_is_true(json_object_get(c, "reachable")));
    assert_true(json_is_integer(json_object_get(c, "latency_ms")));
    assert_true(json_is_null(json_object_get(c, "error")));
    assert_true(json_is_null(json_object_get(j, "last_sync")));
    assert_true(json_is_integer(json_object_get(json_object_get(j, "disk"), "free_bytes")));
    json_decref(j);
    app_readiness_clear(&r);

    sbfx_enrol(f);
    sbfx_result(f);
    sbfx_result(f);
    assert_int_equal(app_readiness_read(f->device, NULL, &r, &e), 0);
    assert_int_equal(r.results_waiting, 2);
    app_readiness_clear(&r);
    sbfx_free(f);
}

static void test_last_sync_is_the_newest_run(void **state)
{
    (void)state;
    struct sbfx *f = sbfx_new();
    struct op_err e = {0};
    struct app_sync_run run;
    assert_int_equal(app_sync_run_begin(f->device, NULL, &run, &e), 0);
    const struct app_sync_outcome oc = {0, NULL, 3, 1234, "central went away"};
    assert_int_equal(app_sync_run_end(f->device, &run, &oc, &e), 0);
    struct app_readiness r;
    assert_int_equal(app_readiness_read(f->device, NULL, &r, &e), 0);
    assert_non_null(r.last_sync);
    assert_string_equal(json_string_value(json_object_get(r.last_sync, "id")), run.id);
    assert_string_equal(json_string_value(json_object_get(r.last_sync, "status")), "failed");
    assert_string_equal(json_string_value(json_object_get(r.last_sync, "error")),
                        "central went away");
    json_t *j = app_readiness_json(&r);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "last_sync"), "bytes")),
                     1234);
    json_decref(j);
    app_readiness_clear(&r);
    sbfx_free(f);
}

static void test_disk_threshold(void **state)
{
    (void)state;
    struct sbfx *f = sbfx_new();
    struct op_err e = {0};
    struct app_readiness r;
    struct app_readiness_options o = {.disk_min_bytes = 1};
    assert_int_equal(app_readiness_read(f->device, &o, &r, &e), 0);
    assert_true(r.disk_ok);
    assert_true(r.reachable);
    json_t *j = app_readiness_json(&r);
    assert_true(json_is_true(json_object_get(j, "ready")));
    json_decref(j);
    app_readiness_clear(&r);
    /* more than any disk has free */
    o.disk_min_bytes = UINT64_MAX / 2;
    assert_int_equal(app_readiness_read(f->device, &o, &r, &e), 0);
    assert_false(r.disk_ok);
    j = app_readiness_json(&r);
    assert_false(json_is_true(json_object_get(j, "ready")));
    assert_false(json_is_true(json_object_get(json_object_get(j, "disk"), "ok")));
    json_decref(j);
    app_readiness_clear(&r);
    sbfx_free(f);
}

static void test_central_unreachable(void **state)
{
    (void)state;
    struct sbfx *f = sbfx_new();
    struct op_err e = {0};
    struct app_readiness r;
    /* nothing listens there */
    char closed[64];
    sbfx_closed_url(closed, sizeof closed);
    sbfx_register(f, closed);
    assert_int_equal(app_readiness_read(f->device, NULL, &r, &e), 0);
    assert_true(r.registered);
    assert_false(r.reachable);
    assert_int_equal(r.latency_ms, -1);
    assert_non_null(strstr(r.central_error, "cannot connect"));
    json_t *j = app_readiness_json(&r);
    assert_true(json_is_null(json_object_get(json_object_get(j, "central"), "latency_ms")));
    assert_false(json_is_true(json_object_get(j, "ready")));
    json_decref(j);
    app_readiness_clear(&r);

    /* central hangs: the panel answers within its short time-out */
    sbfx_stall(f);
    sbfx_register(f, f->stall_url);
    struct app_readiness_options o = {.timeout_ms = 500};
    double t0 = now_s();
    assert_int_equal(app_readiness_read(f->device, &o, &r, &e), 0);
    assert_true(now_s() - t0 < 3);
    assert_false(r.reachable);
    assert_true(r.central_error[0]);
    app_readiness_clear(&r);
    sbfx_free(f);
}

static void test_no_central_registered(void **state)
{
    (void)state;
    char *dir;
    struct instance *dev = fx_instance("device", &dir);
    struct op_err e = {0};
    struct app_readiness r;
    assert_int_equal(app_readiness_read(dev, NULL, &r, &e), 0);
    assert_false(r.registered);
    assert_false(r.reachable);
    assert_non_null(strstr(r.central_error, "register-central"));
    json_t *j = app_readiness_json(&r);
    assert_true(json_is_null(json_object_get(json_object_get(j, "central"), "url")));
    json_decref(j);
    app_readiness_clear(&r);
    instance_close(dev);
    testutil_rmdir(dir);

    /* central has no readiness panel */
    struct instance *c = fx_instance("central", &dir);
    assert_int_equal(app_readiness_read(c, NULL, &r, &e), OP_ESTATE);
    app_readiness_clear(&r);
    instance_close(c);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reachable_central_and_waiting_results),
        cmocka_unit_test(test_last_sync_is_the_newest_run),
        cmocka_unit_test(test_disk_threshold),
        cmocka_unit_test(test_central_unreachable),
        cmocka_unit_test(test_no_central_registered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
