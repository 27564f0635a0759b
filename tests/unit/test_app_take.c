/* test_app_take.c - a test taker's steps over an execution and the runner (app/take.h) on a
 * device holding what a sync leaves (the demo test's encrypted package, its key sealed to the
 * test taker): the view and steps, another test taker refused, a paused execution refusing
 * every step and its paused time not counted, the state saved after every response (a new
 * version), finishing sealing the scored result into the outbox, and a time limit over ending
 * the execution with its result. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/central.h"
#include "app/executions.h"
#include "app/take.h"
#include "app_instance_fixture.h"
#include "base/buf.h"
#include "base/clock.h"
#include "crypto/content.h"
#include "crypto/envelope.h"
#include "crypto/keys.h"
#include "qti/compile.h"
#include "qti_testzip.h"
#include "store/meta.h"
#include "store/outbox.h"
#include "store/packages.h"
#include "store/synced.h"

#define TAKE_FIXTURE_PACKAGE "demo/qti-test"
#include "take_fixture.h"

static json_int_t version_of(json_t *out)
{
    return json_integer_value(json_object_get(json_object_get(out, "execution"), "version"));
}

static double view_time_left(json_t *out)
{
    return json_number_value(json_object_get(json_object_get(out, "view"), "time_left"));
}

static double total_score(json_t *doc)
{
    json_t *o = json_object_get(doc, "outcome");
    return json_number_value(json_object_get(json_object_get(o, "outcomes"), "TOTAL_SCORE"));
}

static void test_steps_are_saved_and_finishing_seals_the_scored_result(void **state)
{
    struct fixture *f = *state;
    char *id = start(f);
    json_t *out = get(f, id);
    assert_string_equal(key_of(out), "capital");
    char *text = json_dumps(out, 0);
    assert_null(strstr(text, "correctResponse"));
    free(text);
    json_int_t v = version_of(out);
    json_decref(out);
    now_t += 10;
    assert_int_equal(step(f, id, RUNNER_OP_RESPOND,
                          "{\"item_key\":\"capital\",\"responses\":{\"RESPONSE\":\"paris\"}}", &out,
                          &(struct op_err){0}),
                     0);
    assert_true(version_of(out) > v); /* saved after the response */
    json_decref(out);
    /* a reload: the answer is there */
    out = get(f, id);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(out, "view"), "responses"), "RESPONSE")),
        "paris");
    json_decref(out);
    step_ok(f, id, RUNNER_OP_MOVE, "{\"item_key\":\"capital\",\"to\":\"next\"}");
    step_ok(f, id, RUNNER_OP_RESPOND,
            "{\"item_key\":\"primes\",\"responses\":{\"RESPONSE\":[\"n2\",\"n3\",\"n7\"]}}");
    struct op_err e = {0};
    assert_int_equal(step(f, id, RUNNER_OP_RESPOND,
                          "{\"item_key\":\"capital\",\"responses\":{\"RESPONSE\":\"nice\"}}", &out,
                          &e),
                     OP_ECONFLICT);
    assert_string_equal(e.field, "item_key");
    assert_int_equal(fx_count(f->dev, "SELECT count(*) FROM result_outbox"), 0);
    now_t += 10;
    if (step(f, id, RUNNER_OP_FINISH, "{\"item_key\":\"primes\"}", &out, &e) != 0)
        fail_msg("finish: %s", e.msg);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(out, "execution"), "state")), "finished");
    assert_null(json_object_get(out, "view"));
    json_decref(out);
    json_t *doc = sealed_result(f);
    assert_true(total_score(doc) == 4.0); /* paris 1 + primes 3 */
    json_decref(doc);
    /* nothing more after the end */
    assert_int_equal(step(f, id, RUNNER_OP_RESPOND,
                          "{\"item_key\":\"primes\",\"responses\":{\"RESPONSE\":[\"n2\"]}}", &out,
                          &e),
                     OP_ECONFLICT);
    out = get(f, id);
    assert_true(json_is_null(json_object_get(out, "view")));
    json_decref(out);
    free(id);
}

static void test_another_test_taker_is_refused(void **state)
{
    struct fixture *f = *state;
    char *id = start(f);
    struct app_taker t2 = {T2, f->pk2, f->sk2};
    json_t *out = NULL;
    struct op_err e = {0};
    assert_int_equal(app_take_get(f->dev, f->cache, &t2, id, (double)now_t, &out, &e),
                     OP_EFORBIDDEN);
    json_t *b =
        json_loads("{\"item_key\":\"capital\",\"responses\":{\"RESPONSE\":\"lyon\"}}", 0, NULL);
    assert_int_equal(
        app_take_step(f->dev, f->cache, &t2, id, RUNNER_OP_RESPOND, b, (double)now_t, &out, &e),
        OP_EFORBIDDEN);
    json_decref(b);
    struct runner_package *p = NULL;
    const unsigned char *data;
    size_t len;
    const char *type;
    assert_int_equal(
        app_take_asset(f->dev, f->cache, &t2, id, "assets/planet.svg", &p, &data, &len, &type, &e),
        OP_EFORBIDDEN);
    struct app_taker t1 = taker1(f);
    assert_int_equal(
        app_take_asset(f->dev, f->cache, &t1, id, "assets/planet.svg", &p, &data, &len, &type, &e),
        0);
    assert_string_equal(type, "image/svg+xml");
    runner_package_release(p);
    /* a PCI's frame: another taker's execution is refused; a module that is no PCI's entry
     * of the package is not found */
    struct buf html = BUF_INIT, csp = BUF_INIT;
    assert_int_equal(
        app_take_pci_frame(f->dev, f->cache, &t2, id, "items/x.js", "", 0, &html, &csp, &e),
        OP_EFORBIDDEN);
    assert_int_equal(
        app_take_pci_frame(f->dev, f->cache, &t1, id, "assets/planet.svg", "", 0, &html, &csp, &e),
        OP_ENOTFOUND);
    assert_int_equal(html.len, 0);
    buf_free(&html);
    buf_free(&csp);
    /* without a key in the web session nothing opens */
    struct app_taker nokey = {T1, NULL, NULL};
    assert_int_equal(app_take_get(f->dev, f->cache, &nokey, id, (double)now_t, &out, &e),
                     OP_EFORBIDDEN);
    free(id);
}

static void test_a_paused_execution_refuses_steps_and_its_pause_is_not_counted(void **state)
{
    struct fixture *f = *state;
    char *id = start(f);
    json_t *out = get(f, id);
    assert_true(view_time_left(out) == 1800);
    json_int_t v = version_of(out);
    json_decref(out);
    now_t += 100;
    struct app_exec_viewer p1 = {P1, NULL, NULL};
    struct app_proctor_request pause = {PROCTOR_PAUSE, v, 0, NULL, NULL};
    struct app_execution x;
    struct op_err e = {0};
    if (app_execution_proctor_act(f->dev, &p1, id, &pause, &x, &e) != 0)
        fail_msg("pause: %s", e.msg);
    now_t += 1000;
    assert_int_equal(step(f, id, RUNNER_OP_RESPOND,
                          "{\"item_key\":\"capital\",\"responses\":{\"RESPONSE\":\"paris\"}}", &out,
                          &e),
                     OP_ECONFLICT);
    assert_string_equal(e.field, "state");
    out = get(f, id);
    assert_true(json_is_null(json_object_get(out, "view")));
    json_decref(out);
    struct app_proctor_request resume = {PROCTOR_RESUME, x.row.version, 0, NULL, NULL};
    struct app_execution y;
    if (app_execution_proctor_act(f->dev, &p1, id, &resume, &y, &e) != 0)
        fail_msg("resume: %s", e.msg);
    app_execution_clear(&x);
    app_execution_clear(&y);
    now_t += 50;
    out = get(f, id);
    assert_true(view_time_left(out) == 1650); /* 100 + 50 s active, 1000 s paused */
    json_decref(out);
    free(id);
}

static void test_a_time_limit_over_ends_the_execution_with_its_result(void **state)
{
    struct fixture *f = *state;
    char *id = start(f);
    json_decref(get(f, id));
    now_t += 10;
    step_ok(f, id, RUNNER_OP_RESPOND,
            "{\"item_key\":\"capital\",\"responses\":{\"RESPONSE\":\"paris\"}}");
    now_t += 1800;
    json_t *out = NULL;
    struct op_err e = {0};
    assert_int_equal(
        step(f, id, RUNNER_OP_MOVE, "{\"item_key\":\"capital\",\"to\":\"next\"}", &out, &e),
        OP_ECONFLICT);
    assert_string_equal(e.field, "time");
    out = get(f, id);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(out, "execution"), "state")), "finished");
    json_decref(out);
    json_t *doc = sealed_result(f);
    assert_true(total_score(doc) == 1.0);
    json_decref(doc);
    free(id);
}

static void test_begin_and_cancel_take_the_version_the_page_saw(void **state)
{
    struct fixture *f = *state;
    char *id = start(f);
    struct app_taker t = taker1(f);
    json_t *out = NULL;
    struct op_err e = {0};
    const char *bad[] = {"{}", "{\"version\":0}", "{\"version\":\"1\"}", "{\"version\":1,\"x\":1}",
                         "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *b = json_loads(bad[i], 0, NULL);
        assert_int_equal(app_take_transition(f->dev, &t, id, APP_TAKE_CANCEL, b, &out, &e),
                         OP_EINPUT);
        json_decref(b);
    }
    /* an active execution is neither begun nor canceled again */
    json_t *b = json_loads("{\"version\":1}", 0, NULL);
    assert_int_equal(app_take_transition(f->dev, &t, id, APP_TAKE_CANCEL, b, &out, &e),
                     OP_ECONFLICT);
    assert_int_equal(app_take_transition(f->dev, &t, id, APP_TAKE_BEGIN, b, &out, &e),
                     OP_ECONFLICT);
    /* another test taker's */
    struct app_taker t2 = {T2, f->pk2, f->sk2};
    assert_int_equal(app_take_transition(f->dev, &t2, id, APP_TAKE_CANCEL, b, &out, &e),
                     OP_EFORBIDDEN);
    json_decref(b);
    free(id);
}

static void test_a_terminated_execution_carries_its_scores_so_far(void **state)
{
    struct fixture *f = *state;
    char *id = start(f);
    json_decref(get(f, id));
    now_t += 10;
    step_ok(f, id, RUNNER_OP_RESPOND,
            "{\"item_key\":\"capital\",\"responses\":{\"RESPONSE\":\"paris\"}}");
    struct app_execution x;
    struct op_err e = {0};
    struct app_taker t = taker1(f);
    assert_int_equal(app_execution_get_for_taker(f->dev, T1, id, &x, &e), 0);
    (void)t;
    struct app_exec_viewer p1 = {P1, NULL, NULL};
    struct app_proctor_request term = {PROCTOR_TERMINATE, x.row.version, 0, "fire alarm",
                                       app_take_outcome};
    struct app_execution y;
    if (app_execution_proctor_act(f->dev, &p1, id, &term, &y, &e) != 0)
        fail_msg("terminate: %s", e.msg);
    assert_string_equal(y.row.state, "terminated");
    json_t *doc = sealed_result(f);
    json_t *o = json_object_get(doc, "outcome");
    assert_true(json_is_true(json_object_get(o, "partial")));
    assert_true(total_score(doc) == 1.0);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(o, "items"), "capital"), "values"),
            "RESPONSE")),
        "paris");
    json_decref(doc);
    app_execution_clear(&x);
    app_execution_clear(&y);
    free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_steps_are_saved_and_finishing_seals_the_scored_result,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_another_test_taker_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_paused_execution_refuses_steps_and_its_pause_is_not_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_time_limit_over_ends_the_execution_with_its_result,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_terminated_execution_carries_its_scores_so_far,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_and_cancel_take_the_version_the_page_saw, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
