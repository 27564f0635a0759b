/* test_app_runner.c - the device's test runner (app/runner.h) on real compiled packages: the
 * demo test (linear, maxAttempts 1, maxTime 1800) and tests/fixtures/qti/runner-nonlinear
 * (nonlinear, maxAttempts 0, maxTime 600). The view leaks no answer; linear and nonlinear
 * navigation; a reload resumes at the same item with the same answers and time left; time
 * limits, paused time, extra time; scoring and the result; and a package opened for a test
 * taker from what a sync leaves on a device (sealed key, encrypted file), through the cache. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/runner.h"
#include "app_instance_fixture.h"
#include "base/buf.h"
#include "crypto/content.h"
#include "qti/compile.h"
#include "qti_testzip.h"
#include "store/feed.h"
#include "store/packages.h"
#include "store/synced.h"

#define OK(call)                                                                                   \
    do {                                                                                           \
        struct op_err e_ = {0};                                                                    \
        struct op_err *fx_e = &e_;                                                                 \
        if ((call) != 0)                                                                           \
            fail_msg("%s: %s", #call, e_.msg);                                                     \
    } while (0)

#define T0 1800000000.0 /* the device clock at the start */

/* The compiled package of fixture `name` (caller frees). */
static unsigned char *compile_fixture(const char *name, size_t *len)
{
    char *dir = testutil_tmpdir();
    char *zip = fs_join(dir, "t.zip");
    assert_int_equal(testzip_fixture_zip(name, zip), 0);
    struct qti_loaded *l;
    struct op_err e = {0};
    if (qti_load(zip, NULL, &l, &e) != 0)
        fail_msg("load %s: %s", name, e.msg);
    struct buf b = {0};
    if (qti_compile(l, &b, &e) != 0)
        fail_msg("compile %s: %s", name, e.msg);
    qti_loaded_free(l);
    free(zip);
    testutil_rmdir(dir);
    *len = b.len;
    return (unsigned char *)b.data;
}

static struct runner_package *package(const char *name)
{
    size_t len;
    unsigned char *bytes = compile_fixture(name, &len);
    struct runner_package *p;
    struct op_err e = {0};
    if (runner_package_from_bytes(bytes, len, &p, &e) != 0)
        fail_msg("package %s: %s", name, e.msg);
    free(bytes);
    return p;
}

/* A session of the caller: package, state, last view. */
struct run {
    struct runner_package *p;
    json_t *state, *view;
};

static void run_start(struct run *r, const char *fixture)
{
    memset(r, 0, sizeof *r);
    r->p = package(fixture);
    struct op_err e = {0};
    if (runner_start(r->p, 7, T0, &r->state, &e) != 0)
        fail_msg("start: %s", e.msg);
}

static void run_free(struct run *r)
{
    json_decref(r->state);
    json_decref(r->view);
    runner_package_release(r->p);
}

/* Takes a step's outputs: a new state replaces the old one (as the store would save it). */
static void take(struct run *r, json_t *state_out, json_t *view)
{
    if (state_out) {
        json_decref(r->state);
        r->state = state_out;
    }
    if (view) {
        json_decref(r->view);
        r->view = view;
    }
}

static int view(struct run *r, double t)
{
    json_t *so, *v;
    struct op_err e = {0};
    int rc = runner_view(r->p, r->state, t, &so, &v, &e);
    take(r, so, v);
    if (rc != 0)
        fail_msg("view: %s", e.msg);
    return rc;
}

static const char *cur_key(struct run *r)
{
    view(r, T0);
    return json_string_value(json_object_get(r->view, "item_key"));
}

/* Responds `responses_json` to item `key` at t; returns the code, the error in *e. */
static int respond(struct run *r, const char *key, const char *responses_json, double t,
                   struct op_err *e)
{
    json_t *body =
        json_pack("{s:s, s:o}", "item_key", key, "responses", json_loads(responses_json, 0, NULL));
    struct runner_request req;
    int rc = runner_request_parse(RUNNER_OP_RESPOND, body, &req, e);
    json_t *so = NULL, *v = NULL;
    if (rc == 0)
        rc = runner_respond(r->p, r->state, &req, t, &so, &v, e);
    take(r, so, v);
    json_decref(body);
    return rc;
}

static int move(struct run *r, const char *key, json_t *to, double t, struct op_err *e)
{
    json_t *body = json_pack("{s:s, s:o}", "item_key", key, "to", to);
    struct runner_request req;
    int rc = runner_request_parse(RUNNER_OP_MOVE, body, &req, e);
    json_t *so = NULL, *v = NULL;
    if (rc == 0)
        rc = runner_move(r->p, r->state, &req, t, &so, &v, e);
    take(r, so, v);
    json_decref(body);
    return rc;
}

static int finish(struct run *r, const char *key, double t, struct op_err *e)
{
    json_t *body = json_pack("{s:s}", "item_key", key);
    struct runner_request req;
    int rc = runner_request_parse(RUNNER_OP_FINISH, body, &req, e);
    json_t *so = NULL;
    if (rc == 0)
        rc = runner_finish(r->p, r->state, &req, t, &so, e);
    take(r, so, NULL);
    json_decref(body);
    return rc;
}

static double time_left(struct run *r)
{
    return json_number_value(json_object_get(r->view, "time_left"));
}

static int nav(struct run *r, const char *what)
{
    return json_is_true(json_object_get(json_object_get(r->view, "navigation"), what));
}

/* ---------------------------------------------------------------------------- tests -- */

static void test_view_shows_the_current_item_and_no_answer(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "runner-nonlinear");
    const char *titles[] = {"Capital of France", "Prime numbers", "Planet"};
    for (int pos = 0; pos < 3; pos++) {
        struct op_err e = {0};
        if (pos > 0 && move(&r, cur_key(&r), json_integer(pos), T0 + pos, &e) != 0)
            fail_msg("jump: %s", e.msg);
        view(&r, T0 + pos);
        char *text = json_dumps(r.view, JSON_COMPACT);
        assert_non_null(strstr(text, "\"item_key\""));
        assert_null(strstr(text, "correctResponse"));
        assert_null(strstr(text, "mapping"));
        assert_null(strstr(text, "mapEntry"));
        assert_null(strstr(text, "responseProcessing"));
        assert_null(strstr(text, "outcomeProcessing"));
        assert_null(strstr(text, "scoring"));
        assert_null(strstr(text, "Mars")); /* planet's correct text entry */
        assert_null(strstr(text, "mappedValue"));
        /* the current item only */
        for (int o = 0; o < 3; o++)
            if (o != pos && strstr(text, titles[o]) && strcmp(titles[o], "Planet") != 0)
                fail_msg("the view of item %d shows item %d: %s", pos, o, text);
        assert_int_equal(json_integer_value(json_object_get(r.view, "item_count")), 3);
        assert_int_equal(json_integer_value(json_object_get(r.view, "position")), pos);
        free(text);
    }
    /* the rubric of the section is shown, as authored */
    char *rub = json_dumps(json_object_get(r.view, "rubrics"), 0);
    assert_non_null(strstr(rub, "Answer in any order."));
    free(rub);
    /* the package's image is served with its type */
    const unsigned char *data;
    size_t len;
    const char *type;
    OK(runner_package_asset(r.p, "assets/planet.svg", &data, &len, &type, fx_e));
    assert_string_equal(type, "image/svg+xml");
    assert_true(len > 0);
    struct op_err e = {0};
    assert_int_equal(
        runner_package_asset(r.p, "items/planet.xml/scoring.json", &data, &len, &type, &e),
        OP_ENOTFOUND);
    run_free(&r);
}

static void test_linear_navigation_moves_forward_only(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "demo/qti-test");
    view(&r, T0);
    assert_string_equal(cur_key(&r), "capital");
    assert_false(nav(&r, "previous"));
    assert_false(nav(&r, "jump"));
    assert_true(nav(&r, "next"));
    struct op_err e = {0};
    /* a response to an item that is not the current one: a stale page */
    assert_int_equal(respond(&r, "primes", "{\"RESPONSE\": [\"n2\"]}", T0 + 5, &e), OP_ECONFLICT);
    assert_string_equal(e.field, "item_key");
    /* a variable the item does not declare; a value that does not fit */
    assert_int_equal(respond(&r, "capital", "{\"SCORE\": 1}", T0 + 5, &e), OP_EINPUT);
    assert_string_equal(e.field, "responses");
    assert_int_equal(respond(&r, "capital", "{\"RESPONSE\": [1, 2]}", T0 + 5, &e), OP_EINPUT);
    assert_string_equal(e.field, "responses");
    OK(respond(&r, "capital", "{\"RESPONSE\": \"paris\"}", T0 + 10, fx_e));
    /* maxAttempts 1 */
    assert_int_equal(respond(&r, "capital", "{\"RESPONSE\": \"lyon\"}", T0 + 11, &e), OP_ECONFLICT);
    assert_string_equal(e.field, "attempts");
    OK(move(&r, "capital", json_string("next"), T0 + 12, fx_e));
    assert_string_equal(cur_key(&r), "primes");
    /* previous and jumps are refused in a linear part, and nothing changes */
    json_t *before = json_deep_copy(r.state);
    assert_int_equal(move(&r, "primes", json_string("previous"), T0 + 13, &e), OP_ECONFLICT);
    assert_string_equal(e.field, "to");
    assert_int_equal(move(&r, "primes", json_integer(0), T0 + 13, &e), OP_ECONFLICT);
    assert_string_equal(e.field, "to");
    assert_true(json_equal(before, r.state));
    json_decref(before);
    /* a move from a stale page */
    assert_int_equal(move(&r, "capital", json_string("next"), T0 + 13, &e), OP_ECONFLICT);
    assert_string_equal(e.field, "item_key");
    run_free(&r);
}

static void test_nonlinear_navigation_goes_back_and_jumps(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "runner-nonlinear");
    view(&r, T0);
    assert_true(nav(&r, "jump"));
    assert_false(nav(&r, "previous"));
    assert_true(nav(&r, "review"));
    assert_true(nav(&r, "skip"));
    struct op_err e = {0};
    assert_int_equal(move(&r, "capital", json_string("previous"), T0 + 1, &e), OP_ECONFLICT);
    assert_string_equal(e.field, "to");
    OK(move(&r, "capital", json_integer(2), T0 + 2, fx_e));
    assert_string_equal(cur_key(&r), "planet");
    assert_true(nav(&r, "previous"));
    OK(move(&r, "planet", json_string("previous"), T0 + 3, fx_e));
    assert_string_equal(cur_key(&r), "primes");
    assert_int_equal(move(&r, "primes", json_integer(3), T0 + 4, &e), OP_ECONFLICT);
    /* answers may be changed (maxAttempts 0) and the last one counts */
    OK(respond(&r, "primes", "{\"RESPONSE\": [\"n4\"]}", T0 + 5, fx_e));
    OK(respond(&r, "primes", "{\"RESPONSE\": [\"n2\", \"n3\", \"n7\"]}", T0 + 6, fx_e));
    OK(finish(&r, "primes", T0 + 7, fx_e));
    json_t *res;
    OK(runner_result(r.p, r.state, &res, fx_e));
    assert_true(
        json_number_value(json_object_get(json_object_get(res, "outcomes"), "TOTAL_SCORE")) == 3.0);
    json_decref(res);
    /* after the end, every step is refused */
    assert_int_equal(respond(&r, "primes", "{\"RESPONSE\": [\"n2\"]}", T0 + 8, &e), OP_ECONFLICT);
    assert_string_equal(e.field, "ended");
    assert_int_equal(finish(&r, "primes", T0 + 8, &e), OP_ECONFLICT);
    assert_string_equal(e.field, "ended");
    run_free(&r);
}

/* The numAttempts of the current item in the last view. */
static int attempts_now(struct run *r)
{
    return (int)json_integer_value(
        json_object_get(json_object_get(r->view, "session"), "numAttempts"));
}

static void test_the_same_responses_again_count_no_attempt(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "runner-nonlinear"); /* maxAttempts 0 */
    view(&r, T0);
    OK(respond(&r, "capital", "{\"RESPONSE\": \"lyon\"}", T0 + 1, fx_e));
    assert_int_equal(attempts_now(&r), 1);
    /* replayed: the same view, no state to save, no attempt */
    json_t *body =
        json_pack("{s:s, s:{s:s}}", "item_key", "capital", "responses", "RESPONSE", "lyon");
    struct runner_request req;
    OK(runner_request_parse(RUNNER_OP_RESPOND, body, &req, fx_e));
    json_t *so = NULL, *v = NULL;
    OK(runner_respond(r.p, r.state, &req, T0 + 2, &so, &v, fx_e));
    assert_null(so);
    assert_non_null(v);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(v, "responses"), "RESPONSE")), "lyon");
    take(&r, so, v);
    json_decref(body);
    assert_int_equal(attempts_now(&r), 1);
    /* another answer is another attempt, and so is the first one again after it */
    OK(respond(&r, "capital", "{\"RESPONSE\": \"paris\"}", T0 + 3, fx_e));
    assert_int_equal(attempts_now(&r), 2);
    OK(respond(&r, "capital", "{\"RESPONSE\": \"lyon\"}", T0 + 4, fx_e));
    assert_int_equal(attempts_now(&r), 3);
    run_free(&r);

    /* where no attempt is left (maxAttempts 1), the same answer again is still refused */
    run_start(&r, "demo/qti-test");
    view(&r, T0);
    OK(respond(&r, "capital", "{\"RESPONSE\": \"paris\"}", T0 + 1, fx_e));
    struct op_err e = {0};
    assert_int_equal(respond(&r, "capital", "{\"RESPONSE\": \"paris\"}", T0 + 2, &e), OP_ECONFLICT);
    assert_string_equal(e.field, "attempts");
    run_free(&r);
}

static void test_a_reload_resumes_at_the_same_item_with_the_same_answers_and_time(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "runner-nonlinear");
    OK(move(&r, "capital", json_integer(1), T0 + 20, fx_e));
    OK(respond(&r, "primes", "{\"RESPONSE\": [\"n2\", \"n9\"]}", T0 + 50, fx_e));
    view(&r, T0 + 100);
    char *v1 = json_dumps(r.view, JSON_SORT_KEYS | JSON_COMPACT);
    assert_true(time_left(&r) == 500);
    /* the state goes through text, as a database column keeps it; the package is parsed
     * again, as a restarted server would */
    char *text = json_dumps(r.state, JSON_COMPACT);
    runner_package_release(r.p);
    json_decref(r.state);
    r.p = package("runner-nonlinear");
    r.state = json_loads(text, 0, NULL);
    free(text);
    view(&r, T0 + 100);
    char *v2 = json_dumps(r.view, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(v1, v2);
    assert_string_equal(cur_key(&r), "primes");
    json_t *saved = json_object_get(json_object_get(r.view, "responses"), "RESPONSE");
    assert_int_equal(json_array_size(saved), 2);
    free(v1);
    free(v2);
    run_free(&r);
}

static void test_a_response_after_the_time_limit_is_refused_and_ends_the_test(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "runner-nonlinear");
    OK(respond(&r, "capital", "{\"RESPONSE\": \"paris\"}", T0 + 100, fx_e));
    struct runner_summary s;
    OK(runner_state_summary(r.state, T0 + 100, &s, fx_e));
    assert_true(s.has_time_left && s.time_left == 500);
    struct op_err e = {0};
    json_t *before = json_deep_copy(r.state);
    assert_int_equal(respond(&r, "capital", "{\"RESPONSE\": \"lyon\"}", T0 + 601, &e),
                     OP_ECONFLICT);
    assert_string_equal(e.field, "time");
    /* the test ended as its rules say (maxTime of the test over), the answer kept is paris */
    assert_false(json_equal(before, r.state));
    json_decref(before);
    view(&r, T0 + 602);
    assert_true(json_is_true(json_object_get(r.view, "ended")));
    json_t *res;
    OK(runner_result(r.p, r.state, &res, fx_e));
    assert_true(
        json_number_value(json_object_get(json_object_get(res, "outcomes"), "TOTAL_SCORE")) == 1.0);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(res, "items"), "capital"), "responses"),
            "RESPONSE")),
        "paris");
    json_decref(res);
    run_free(&r);
}

static void test_end_closes_the_session_whatever_the_page(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "demo/qti-test");
    OK(respond(&r, "capital", "{\"RESPONSE\": \"paris\"}", T0 + 10, fx_e));
    json_t *so;
    OK(runner_end(r.p, r.state, T0 + 20, &so, fx_e));
    assert_non_null(so);
    take(&r, so, NULL);
    OK(runner_end(r.p, r.state, T0 + 30, &so, fx_e));
    assert_null(so); /* ended already: nothing changes */
    json_t *res;
    OK(runner_result(r.p, r.state, &res, fx_e));
    assert_true(
        json_number_value(json_object_get(json_object_get(res, "outcomes"), "TOTAL_SCORE")) == 1.0);
    assert_true(json_number_value(json_object_get(res, "ended_at")) == T0 + 20);
    json_decref(res);
    run_free(&r);
}

static void test_paused_time_is_not_counted(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "runner-nonlinear");
    json_t *so;
    OK(runner_state_pause(r.state, T0 + 100, &so, fx_e));
    take(&r, so, NULL);
    struct op_err e = {0};
    /* paused: the candidate can do nothing, and the clock stands still */
    assert_int_equal(respond(&r, "capital", "{\"RESPONSE\": \"paris\"}", T0 + 200, &e),
                     OP_ECONFLICT);
    assert_string_equal(e.field, "paused");
    assert_int_equal(runner_state_pause(r.state, T0 + 300, &so, &e), OP_ECONFLICT);
    view(&r, T0 + 5000);
    assert_true(time_left(&r) == 500);
    OK(runner_state_resume(r.state, T0 + 5000, &so, fx_e));
    take(&r, so, NULL);
    /* 4,900 s paused: at T0 + 5050 only 150 s were spent */
    OK(respond(&r, "capital", "{\"RESPONSE\": \"paris\"}", T0 + 5050, fx_e));
    assert_true(time_left(&r) == 450);
    struct runner_summary s;
    OK(runner_state_summary(r.state, T0 + 5050, &s, fx_e));
    assert_true(s.time_left == 450);
    run_free(&r);
}

static void test_extra_time_lengthens_the_limit(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "runner-nonlinear");
    json_t *so;
    struct op_err e = {0};
    assert_int_equal(runner_state_add_extra_time(r.state, 0, &so, &e), OP_EINPUT);
    OK(runner_state_add_extra_time(r.state, 300, &so, fx_e));
    take(&r, so, NULL);
    OK(respond(&r, "capital", "{\"RESPONSE\": \"paris\"}", T0 + 700, fx_e));
    assert_true(time_left(&r) == 200);
    assert_int_equal(respond(&r, "capital", "{\"RESPONSE\": \"paris\"}", T0 + 901, &e),
                     OP_ECONFLICT);
    assert_string_equal(e.field, "time");
    run_free(&r);
}

static void test_a_clock_kept_by_the_caller_sets_the_time_spent(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "runner-nonlinear");
    json_t *so;
    /* an hour later, the executions store says 100 s were active, with 60 s extra */
    OK(runner_state_clock(r.state, T0 + 3600, 100, 60, &so, fx_e));
    take(&r, so, NULL);
    view(&r, T0 + 3600);
    assert_true(time_left(&r) == 560);
    struct runner_summary s;
    OK(runner_state_summary(r.state, T0 + 3610, &s, fx_e));
    assert_true(s.time_left == 550);
    OK(respond(&r, "capital", "{\"RESPONSE\": \"paris\"}", T0 + 3610, fx_e));
    assert_true(time_left(&r) == 550);
    run_free(&r);
}

static void test_the_result_holds_scores_responses_and_duration(void **state)
{
    (void)state;
    struct run r;
    run_start(&r, "demo/qti-test");
    struct op_err e = {0};
    double t = T0;
    const char *answers[][2] = {{"capital", "{\"RESPONSE\": \"paris\"}"},
                                {"primes", "{\"RESPONSE\": [\"n2\", \"n3\", \"n9\"]}"},
                                {"planet", "{\"RESPONSE\": \"Venus\"}"},
                                {"rivers", NULL},
                                {"comment", "{\"RESPONSE\": \"Nice test.\"}"}};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(cur_key(&r), answers[i][0]);
        t += 10;
        if (answers[i][1] && respond(&r, answers[i][0], answers[i][1], t, &e) != 0)
            fail_msg("respond %s: %s", answers[i][0], e.msg);
        t += 5;
        if (i < 4 && move(&r, answers[i][0], json_string("next"), t, &e) != 0)
            fail_msg("next: %s", e.msg);
    }
    assert_int_equal(runner_result(r.p, r.state, &(json_t *){NULL}, &e), OP_ECONFLICT);
    OK(finish(&r, "comment", t + 1, fx_e));
    json_t *res;
    OK(runner_result(r.p, r.state, &res, fx_e));
    json_t *out = json_object_get(res, "outcomes"), *items = json_object_get(res, "items");
    /* paris 1 + primes (2, 3 right, 9 wrong) 1 + Venus 0 + rivers unanswered 0 + comment 0 */
    assert_true(json_number_value(json_object_get(out, "TOTAL_SCORE")) == 2.0);
    assert_int_equal(json_integer_value(json_object_get(out, "NCORRECT")), 1);
    assert_true(json_number_value(json_object_get(
                    json_object_get(json_object_get(items, "primes"), "outcomes"), "SCORE")) ==
                1.0);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(items, "comment"), "responses"), "RESPONSE")),
        "Nice test.");
    assert_true(json_number_value(json_object_get(res, "duration")) == t + 1 - T0);
    assert_true(json_number_value(json_object_get(res, "started_at")) == T0);
    assert_int_equal(json_array_size(json_object_get(res, "route")), 5);
    json_decref(res);
    run_free(&r);
}

static void test_requests_of_the_wrong_shape_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {"[]",
                         "{}",
                         "{\"item_key\": 3, \"responses\": {}}",
                         "{\"item_key\": \"a\"}",
                         "{\"item_key\": \"a\", \"responses\": []}",
                         "{\"item_key\": \"a\", \"responses\": {}, \"extra\": 1}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *b = json_loads(bad[i], 0, NULL);
        struct runner_request r;
        struct op_err e = {0};
        assert_int_equal(runner_request_parse(RUNNER_OP_RESPOND, b, &r, &e), OP_EINPUT);
        json_decref(b);
    }
    const char *bad_moves[] = {"{\"item_key\": \"a\"}", "{\"item_key\": \"a\", \"to\": \"up\"}",
                               "{\"item_key\": \"a\", \"to\": -1}",
                               "{\"item_key\": \"a\", \"to\": 1.5}"};
    for (size_t i = 0; i < sizeof bad_moves / sizeof *bad_moves; i++) {
        json_t *b = json_loads(bad_moves[i], 0, NULL);
        struct runner_request r;
        struct op_err e = {0};
        assert_int_equal(runner_request_parse(RUNNER_OP_MOVE, b, &r, &e), OP_EINPUT);
        json_decref(b);
    }
}

/* Sessions on one shared package from many threads at once, as the server's threads run them. */
struct thread_run {
    struct runner_package *p;
    int ok;
};

static void *run_session(void *arg)
{
    struct thread_run *tr = arg;
    struct run r = {tr->p, NULL, NULL};
    struct op_err e = {0};
    if (runner_start(r.p, 99, T0, &r.state, &e) != 0)
        return NULL;
    const char *keys[] = {"capital", "primes", "planet"};
    const char *answers[] = {"{\"RESPONSE\": \"paris\"}", "{\"RESPONSE\": [\"n2\", \"n3\"]}",
                             "{\"RESPONSE\": \"Mars\"}"};
    int bad = 0;
    for (int round = 0; round < 20 && !bad; round++)
        for (int i = 0; i < 3 && !bad; i++) {
            bad |= move(&r, keys[i == 0 ? 2 : i - 1], json_integer(i), T0 + round, &e) != 0 &&
                   !(round == 0 && i == 0);
            bad |= respond(&r, keys[i], answers[i], T0 + round, &e) != 0;
        }
    json_t *res = NULL;
    if (!bad && finish(&r, "planet", T0 + 30, &e) == 0 &&
        runner_result(r.p, r.state, &res, &e) == 0)
        tr->ok = json_number_value(
                     json_object_get(json_object_get(res, "outcomes"), "TOTAL_SCORE")) == 4.0;
    json_decref(res);
    json_decref(r.state);
    json_decref(r.view);
    return NULL;
}

static void test_sessions_share_a_package_across_threads(void **state)
{
    (void)state;
    struct runner_package *p = package("runner-nonlinear");
    pthread_t th[8];
    struct thread_run tr[8];
    for (int i = 0; i < 8; i++) {
        tr[i] = (struct thread_run){p, 0};
        assert_int_equal(pthread_create(&th[i], NULL, run_session, &tr[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_true(tr[i].ok);
    }
    runner_package_release(p);
}

/* ------------------------------------------------- a package opened for a test taker -- */

struct device_fx {
    struct instance *dev;
    char delivery_id[UUID_STR_LEN];
    unsigned char pk[VAULT_PUBLIC_BYTES], sk[VAULT_SECRET_BYTES];
    unsigned char pk2[VAULT_PUBLIC_BYTES], sk2[VAULT_SECRET_BYTES];
};

struct put_ctx {
    const char *entity, *id, *data;
};

static int put_body(struct db *db, void *ctx, struct op_err *e)
{
    struct put_ctx *c = ctx;
    return synced_put(db, c->entity, c->id, 1, c->data, 0, e);
}

static void put(struct instance *dev, const char *entity, const char *id, json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT);
    struct put_ctx c = {entity, id, text};
    OK(db_write(dev->db, put_body, &c, fx_e));
    free(text);
    json_decref(data);
}

/* What a sync leaves on a device for delivery `id` of the compiled package `bytes`: the
 * encrypted file, the delivery record and an eligibility with the key sealed to `pk`. */
static void synced_delivery(struct device_fx *f, const char *id, const unsigned char *bytes,
                            size_t len, const char *taker, const unsigned char *pk)
{
    unsigned char key[CONTENT_KEY_BYTES];
    content_key_generate(key);
    char *enc = NULL;
    size_t enc_len = 0;
    FILE *in = fmemopen((void *)bytes, len, "rb");
    FILE *out = open_memstream(&enc, &enc_len);
    OK(content_encrypt(in, out, key, id, fx_e));
    fclose(in);
    fclose(out);
    char enc_sha[SHA256_HEX_LEN], sha[SHA256_HEX_LEN];
    sha256_hex(enc, enc_len, enc_sha);
    sha256_hex(bytes, len, sha);
    char *path = packages_enc_path(f->dev->dir, enc_sha);
    char *slash = strrchr(path, '/');
    *slash = 0;
    OK(fs_mkdir_p(path, 0700, fx_e));
    *slash = '/';
    OK(fs_write_atomic(path, enc, enc_len, 0600, fx_e));
    free(path);
    free(enc);
    put(f->dev, FEED_DELIVERY, id,
        json_pack("{s:s, s:s, s:s, s:I, s:i}", "label", "Runner", "package_sha256", sha,
                  "enc_sha256", enc_sha, "enc_size", (json_int_t)enc_len, "content_version", 1));
    unsigned char sealed[CONTENT_SEALED_KEY_BYTES];
    OK(content_key_seal(key, pk, sealed, fx_e));
    char text[CONTENT_SEALED_KEY_BYTES * 2];
    vault_to_text(sealed, sizeof sealed, text, sizeof text);
    char el_id[64];
    snprintf(el_id, sizeof el_id, "el-%s", id);
    put(f->dev, FEED_ELIGIBILITY, el_id,
        json_pack("{s:s, s:s, s:b, s:[s], s:[{s:s, s:s}], s:i}", "center_id", "c1", "delivery_id",
                  id, "proctored", 0, "test_takers", taker, "content_keys", "to", taker, "sealed",
                  text, "content_version", 1));
    sodium_memzero(key, sizeof key);
}

static void test_a_package_opens_for_its_test_taker_only_and_is_cached(void **state)
{
    (void)state;
    struct device_fx f;
    memset(&f, 0, sizeof f);
    f.dev = fx_instance(ROLE_DEVICE);
    crypto_box_keypair(f.pk, f.sk);
    crypto_box_keypair(f.pk2, f.sk2);
    size_t len1, len2;
    unsigned char *b1 = compile_fixture("runner-nonlinear", &len1);
    unsigned char *b2 = compile_fixture("demo/qti-test", &len2);
    synced_delivery(&f, "d1", b1, len1, "taker-1", f.pk);
    synced_delivery(&f, "d2", b2, len2, "taker-1", f.pk);
    struct runner_cache *c;
    OK(runner_cache_new(1, &c, fx_e));
    struct runner_package *p, *q;
    OK(runner_package_open(f.dev, c, "d1", "taker-1", f.pk, f.sk, &p, fx_e));
    char sha[SHA256_HEX_LEN];
    sha256_hex(b1, len1, sha);
    assert_string_equal(runner_package_sha256(p), sha);
    OK(runner_package_open(f.dev, c, "d1", "taker-1", f.pk, f.sk, &q, fx_e));
    assert_ptr_equal(p, q);
    assert_int_equal(runner_cache_loads(c), 1);
    runner_package_release(q);
    /* another test taker: no key of theirs on the device, even with the package cached */
    struct op_err e = {0};
    assert_int_equal(runner_package_open(f.dev, c, "d1", "taker-2", f.pk2, f.sk2, &q, &e),
                     OP_ENOTFOUND);
    /* the right test taker's id with another's key pair */
    struct runner_cache *c2;
    OK(runner_cache_new(4, &c2, fx_e));
    assert_int_equal(runner_package_open(f.dev, c2, "d1", "taker-1", f.pk2, f.sk2, &q, &e),
                     OP_ECRYPTO);
    assert_int_equal(runner_package_open(f.dev, c2, "nope", "taker-1", f.pk, f.sk, &q, &e),
                     OP_ENOTFOUND);
    runner_cache_free(c2);
    /* a second package evicts the first from a cache of one; the package held stays usable */
    OK(runner_package_open(f.dev, c, "d2", "taker-1", f.pk, f.sk, &q, fx_e));
    assert_int_equal(runner_cache_size(c), 1);
    assert_int_equal(runner_cache_loads(c), 2);
    json_t *st;
    OK(runner_start(p, 1, T0, &st, fx_e));
    json_decref(st);
    runner_package_release(q);
    runner_package_release(p);
    OK(runner_package_open(f.dev, c, "d1", "taker-1", f.pk, f.sk, &p, fx_e));
    assert_int_equal(runner_cache_loads(c), 3);
    runner_package_release(p);
    runner_cache_free(c);
    free(b1);
    free(b2);
    fx_instance_free(f.dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_shows_the_current_item_and_no_answer),
        cmocka_unit_test(test_linear_navigation_moves_forward_only),
        cmocka_unit_test(test_nonlinear_navigation_goes_back_and_jumps),
        cmocka_unit_test(test_the_same_responses_again_count_no_attempt),
        cmocka_unit_test(test_a_reload_resumes_at_the_same_item_with_the_same_answers_and_time),
        cmocka_unit_test(test_a_response_after_the_time_limit_is_refused_and_ends_the_test),
        cmocka_unit_test(test_end_closes_the_session_whatever_the_page),
        cmocka_unit_test(test_paused_time_is_not_counted),
        cmocka_unit_test(test_extra_time_lengthens_the_limit),
        cmocka_unit_test(test_a_clock_kept_by_the_caller_sets_the_time_spent),
        cmocka_unit_test(test_the_result_holds_scores_responses_and_duration),
        cmocka_unit_test(test_requests_of_the_wrong_shape_are_refused),
        cmocka_unit_test(test_sessions_share_a_package_across_threads),
        cmocka_unit_test(test_a_package_opens_for_its_test_taker_only_and_is_cached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
