/* test_qti_tao_samples.c - conformance over the real TAO test packages
 * ($OUTPOST_SAMPLES/qti/tao/): the behaviour each package exists to show, driven through the
 * test session API with its own clock, on the package compiled and loaded back as a device
 * loads it. Scores for correct, partly correct, wrong and empty answers of every package are
 * in tests/cli/qti_conformance.sh; here: navigation (nonlinear moves, linear refusals),
 * maxAttempts=1, simultaneous submission, the timer stack, skipping, modal feedback, shared
 * stimuli in the render model and a test file in a subfolder. Each expected value has a
 * comment saying how it follows from the package's XML. Prints a SKIP line when
 * the samples are absent, exiting 77 (skipped, for CTest). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fs.h"
#include "qti/compile.h"
#include "qti/item_session.h"
#include "qti/test_session.h"

#define NO_SCORE (-999.0)

static const char *samples_dir(void)
{
    static char dir[1024];
    const char *s = getenv("OUTPOST_SAMPLES");
    if (!s)
        return NULL;
    snprintf(dir, sizeof dir, "%s/qti/tao", s);
    return fs_is_dir(dir) ? dir : NULL;
}

/* A sample package compiled and loaded back (dev), as `qti run` and a device do. */
struct pkg {
    struct qti_loaded *src, *dev;
    struct buf compiled;
};

static void pkg_from_loaded(struct pkg *p, struct qti_loaded *src)
{
    struct op_err e = {0};
    p->src = src;
    p->compiled = (struct buf)BUF_INIT;
    if (qti_compile(p->src, &p->compiled, &e) != 0)
        fail_msg("compile: %s", e.msg);
    if (qti_delivery_load((const unsigned char *)p->compiled.data, p->compiled.len, &p->dev, &e) !=
        0)
        fail_msg("delivery load: %s", e.msg);
}

static void pkg_open(struct pkg *p, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.zip", samples_dir(), name);
    struct op_err e = {0};
    struct qti_loaded *src;
    if (qti_load(path, NULL, &src, &e) != 0)
        fail_msg("load %s: %s", name, e.msg);
    pkg_from_loaded(p, src);
}

static void pkg_close(struct pkg *p)
{
    qti_loaded_free(p->dev);
    qti_loaded_free(p->src);
    buf_free(&p->compiled);
}

static struct qti_test_session *start(struct pkg *p, double now)
{
    struct qti_test_session *s;
    struct op_err e = {0};
    if (qti_test_session_start(p->dev->test, qti_loaded_lookup, p->dev, 1, now, &s, &e) != 0)
        fail_msg("start: %s", e.msg);
    return s;
}

/* Submits `json` (responses of the current item) at `now`; returns the code, message in e. */
static int submit(struct qti_test_session *s, const char *json, double now, struct op_err *e)
{
    json_error_t je;
    json_t *r = json_loads(json, 0, &je);
    if (!r)
        fail_msg("bad JSON in the test: %s", json);
    *e = (struct op_err){0};
    int rc = qti_test_session_submit(s, r, now, NULL, e);
    json_decref(r);
    return rc;
}

static void submit_ok(struct qti_test_session *s, const char *json, double now)
{
    struct op_err e = {0};
    if (submit(s, json, now, &e) != 0)
        fail_msg("submit %s to %s: %s", json, qti_test_session_current_key(s), e.msg);
}

static void next_ok(struct qti_test_session *s, double now)
{
    struct op_err e = {0};
    if (qti_test_session_next(s, now, &e) != 0)
        fail_msg("next: %s", e.msg);
}

static void jump_ok(struct qti_test_session *s, size_t pos, double now)
{
    struct op_err e = {0};
    if (qti_test_session_jump(s, pos, now, &e) != 0)
        fail_msg("jump: %s", e.msg);
}

static const struct qti_item_session *item_at(const struct qti_test_session *s, size_t pos)
{
    const struct qti_item_session *is = qti_test_session_item(s, pos);
    if (!is)
        fail_msg("route position %zu was never presented", pos);
    return is;
}

/* SCORE of route position `pos`, NO_SCORE when NULL. */
static double score_at(const struct qti_test_session *s, size_t pos)
{
    json_t *v = qti_item_session_variable_json(item_at(s, pos), "SCORE");
    double d = json_is_number(v) ? json_number_value(v) : NO_SCORE;
    json_decref(v);
    return d;
}

static int attempts_at(const struct qti_test_session *s, size_t pos)
{
    return qti_item_session_num_attempts(item_at(s, pos));
}

static char *taken(const struct qti_test_session *s)
{
    static char out[512];
    json_t *a = qti_test_session_route_taken_json(s);
    char *d = json_dumps(a, JSON_COMPACT);
    snprintf(out, sizeof out, "%s", d);
    free(d);
    json_decref(a);
    return out;
}

#define contains(hay, needle) assert_non_null(strstr((hay), (needle)))

/* ---- navigation ---- */

/* Basic: one linear part (navigationMode="linear"): only forward; previous and jump are
 * refused, and the items come in document order Item-Q01, Item-Q02, Item-Q03. */
static void test_basic_linear_part_moves_forward_only(void **state)
{
    (void)state;
    struct pkg p;
    pkg_open(&p, "basic/Basic");
    struct qti_test_session *s = start(&p, 0);
    struct op_err e = {0};
    assert_string_equal(qti_test_session_current_key(s), "Item-Q01");
    next_ok(s, 1);
    assert_int_equal(qti_test_session_previous(s, 2, &e), OP_ECONFLICT);
    contains(e.msg, "linear");
    assert_int_equal(qti_test_session_jump(s, 2, 3, &e), OP_ECONFLICT);
    assert_string_equal(qti_test_session_current_key(s), "Item-Q02");
    next_ok(s, 4);
    next_ok(s, 5);
    assert_true(qti_test_session_ended(s));
    assert_string_equal(taken(s), "[\"Item-Q01\",\"Item-Q02\",\"Item-Q03\"]");
    qti_test_session_free(s);
    pkg_close(&p);
}

/* BasicNonLinear: navigationMode="nonlinear", maxAttempts="0" (unlimited): the candidate
 * jumps and goes back inside the part and may answer an item again; the route taken lists
 * items in the order first presented. */
static void test_nonlinear_part_jumps_goes_back_and_resubmits(void **state)
{
    (void)state;
    struct pkg p;
    pkg_open(&p, "basic/BasicNonLinear");
    struct qti_test_session *s = start(&p, 0);
    struct op_err e = {0};
    assert_string_equal(qti_test_session_current_key(s), "Q01");
    /* the first item has no previous one */
    assert_int_equal(qti_test_session_previous(s, 1, &e), OP_ECONFLICT);
    submit_ok(s, "{\"RESPONSE\": \"chinese\"}", 2);
    assert_true(score_at(s, 0) == 0.0); /* Q01 correct is "tao": "chinese" -> 0 */
    jump_ok(s, 2, 3);
    assert_string_equal(qti_test_session_current_key(s), "Q03");
    if (qti_test_session_previous(s, 4, &e) != 0)
        fail_msg("previous: %s", e.msg);
    assert_string_equal(qti_test_session_current_key(s), "Q02");
    submit_ok(s, "{\"RESPONSE\": \"lego\"}", 5);
    assert_true(score_at(s, 1) == 1.0); /* Q02 correct is "lego" -> 1 */
    jump_ok(s, 0, 6);
    submit_ok(s, "{\"RESPONSE\": \"tao\"}", 7); /* a second attempt: maxAttempts 0 */
    assert_true(score_at(s, 0) == 1.0);         /* "tao" is Q01's correct response -> 1 */
    assert_int_equal(attempts_at(s, 0), 2);
    assert_string_equal(taken(s), "[\"Q01\",\"Q03\",\"Q02\"]");
    jump_ok(s, 2, 8);
    next_ok(s, 9); /* next from the last item ends the part and so the test */
    assert_true(qti_test_session_ended(s));
    assert_true(score_at(s, 2) == 0.0); /* Q03 presented, never submitted: SCORE default 0 */
    assert_int_equal(attempts_at(s, 2), 0);
    qti_test_session_free(s);
    pkg_close(&p);
}

/* BasicNonLinearOneAttempt: itemSessionControl maxAttempts="1" on a nonlinear part: the
 * second submission of an item is refused, also after coming back to it, and changes
 * nothing; moving around without answering is allowed (allowSkipping defaults to true). */
static void test_one_attempt_refuses_second_submission_even_after_coming_back(void **state)
{
    (void)state;
    struct pkg p;
    pkg_open(&p, "basic/BasicNonLinearOneAttempt");
    struct qti_test_session *s = start(&p, 0);
    struct op_err e = {0};
    submit_ok(s, "{\"RESPONSE\": \"chinese\"}", 1);
    assert_true(score_at(s, 0) == 0.0); /* wrong: correct is "tao" */
    assert_int_equal(submit(s, "{\"RESPONSE\": \"tao\"}", 2, &e), OP_ECONFLICT);
    contains(e.msg, "item Q01: no attempt left (maxAttempts 1)");
    assert_true(score_at(s, 0) == 0.0); /* unchanged */
    assert_int_equal(attempts_at(s, 0), 1);
    next_ok(s, 3); /* Q02 left unanswered */
    next_ok(s, 4);
    assert_string_equal(qti_test_session_current_key(s), "Q03");
    submit_ok(s, "{\"RESPONSE\": \"turismo\"}", 5);
    assert_true(score_at(s, 2) == 1.0); /* Q03 correct is "turismo" */
    jump_ok(s, 0, 6);
    assert_int_equal(submit(s, "{\"RESPONSE\": \"tao\"}", 7, &e), OP_ECONFLICT);
    assert_int_equal(attempts_at(s, 0), 1);
    jump_ok(s, 1, 8);
    submit_ok(s, "{\"RESPONSE\": \"lego\"}", 9); /* Q02's one attempt is still there */
    assert_true(score_at(s, 1) == 1.0);
    assert_int_equal(submit(s, "{\"RESPONSE\": \"cards\"}", 10, &e), OP_ECONFLICT);
    if (qti_test_session_finish(s, 11, &e) != 0)
        fail_msg("finish: %s", e.msg);
    assert_true(qti_test_session_ended(s));
    qti_test_session_free(s);
    pkg_close(&p);
}

/* BasicSimultaneous: submissionMode="simultaneous": a submission only keeps the responses;
 * nothing is scored (numAttempts 0, SCORE at its default 0) until the part ends, when all
 * kept responses are submitted; a later submission to the same item replaces the kept one. */
static void test_simultaneous_part_scores_only_when_the_part_ends(void **state)
{
    (void)state;
    struct pkg p;
    pkg_open(&p, "basic/BasicSimultaneous");
    struct qti_test_session *s = start(&p, 0);
    submit_ok(s, "{\"RESPONSE\": \"tao\"}", 1);
    assert_int_equal(attempts_at(s, 0), 0);
    assert_true(score_at(s, 0) == 0.0); /* default 0, not yet the 1 of "tao" */
    assert_string_not_equal(qti_item_session_completion_status(item_at(s, 0)), "completed");
    next_ok(s, 2);
    submit_ok(s, "{\"RESPONSE\": \"cards\"}", 3);
    next_ok(s, 4);
    submit_ok(s, "{\"RESPONSE\": \"turismo\"}", 5);
    submit_ok(s, "{\"RESPONSE\": \"turbo\"}", 6); /* replaces "turismo" */
    assert_int_equal(attempts_at(s, 0), 0);
    assert_int_equal(attempts_at(s, 2), 0);
    next_ok(s, 7); /* the part, and the test, end: everything is submitted now */
    assert_true(qti_test_session_ended(s));
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(attempts_at(s, i), 1);
        assert_string_equal(qti_item_session_completion_status(item_at(s, i)), "completed");
    }
    assert_true(score_at(s, 0) == 1.0); /* "tao" is Q01's correct response */
    assert_true(score_at(s, 1) == 0.0); /* "cards", Q02's correct is "lego" */
    assert_true(score_at(s, 2) == 0.0); /* "turbo" replaced "turismo": wrong */
    qti_test_session_free(s);
    pkg_close(&p);
}

/* ---- the timer stack ---- */

/* BasicFullTimerStack: test maxTime 400, part TP01 200, sections S01..S03 100 each, items
 * Q01..Q03 50 each, allowLateSubmission nowhere (false). A limit is over once the time spent
 * exceeds it (at exactly the limit a submission is accepted); an item's time counts for its
 * section, the part and the test. Each section holds one item, so a section's time is its
 * item's and its 100 s never bind before the item's 50 s; the test's 400 s never bind before
 * its only part's 200 s. */
static void test_timer_stack_refuses_submissions_after_each_limit(void **state)
{
    (void)state;
    struct pkg p;
    pkg_open(&p, "timing/BasicFullTimerStack");
    struct qti_test_session *s = start(&p, 0);
    struct op_err e = {0};
    submit_ok(s, "{\"RESPONSE\": \"tao\"}", 50); /* Q01: 50 s, exactly its limit */
    assert_true(score_at(s, 0) == 1.0);
    assert_int_equal(submit(s, "{\"RESPONSE\": \"drink\"}", 51, &e), OP_ECONFLICT);
    contains(e.msg, "item Q01: the time limit of item Q01 (50 s) is over");
    assert_true(score_at(s, 0) == 1.0); /* the late submission changed nothing */
    assert_int_equal(attempts_at(s, 0), 1);
    /* The candidate stays on Q01 until 120 s (section S01: 120 > 100 too), then moves on:
     * a limit that is over never keeps the candidate on the item. */
    next_ok(s, 120);
    assert_string_equal(qti_test_session_current_key(s), "Q02");
    /* Q02 at 160: 40 s on Q02 and in S02 (a section counts only its own items), 160 s in the
     * part: under every limit. */
    submit_ok(s, "{\"RESPONSE\": \"lego\"}", 160);
    assert_true(score_at(s, 1) == 1.0);
    next_ok(s, 160);
    /* Q03 at 200: 40 s on Q03, the part at exactly its 200 s: accepted. */
    submit_ok(s, "{\"RESPONSE\": \"turbo\"}", 200);
    assert_true(score_at(s, 2) == 0.0); /* Q03 correct is "turismo" */
    /* At 201, Q03 has 41 s (< 50) and S03 41 s (< 100), but the part 201 s (> 200). */
    assert_int_equal(submit(s, "{\"RESPONSE\": \"turismo\"}", 201, &e), OP_ECONFLICT);
    contains(e.msg, "item Q03: the time limit of test part TP01 (200 s) is over");
    assert_true(score_at(s, 2) == 0.0);
    /* Moving on with the part's time over closes the part: the test (one part) ends. */
    next_ok(s, 201);
    assert_true(qti_test_session_ended(s));
    assert_true(fabs(qti_test_session_duration(s) - 201) < 1e-9);
    assert_true(fabs(qti_item_session_duration(item_at(s, 0)) - 120) < 1e-9);
    qti_test_session_free(s);
    pkg_close(&p);
}

/* The same package with allowLateSubmission="true" added to the part's timeLimits (the only
 * change to the sample's XML): a submission after the part's 200 s is accepted, the items'
 * own limits (allowLateSubmission false) still refuse. */
static void test_timer_stack_late_submission_allowed_on_the_part(void **state)
{
    (void)state;
    char path[1200];
    snprintf(path, sizeof path, "%s/timing/BasicFullTimerStack.zip", samples_dir());
    struct op_err e = {0};
    struct qti_package *orig;
    if (qti_package_open(path, NULL, &orig, &e) != 0)
        fail_msg("%s", e.msg);
    struct qti_file files[16];
    assert_true(orig->nfiles <= 16);
    char *test_xml = NULL;
    for (size_t i = 0; i < orig->nfiles; i++) {
        files[i] = orig->files[i];
        if (strcmp(orig->files[i].path, "test.xml") != 0)
            continue;
        const char *from = "<timeLimits maxTime=\"200\"/>";
        const char *at = strstr((const char *)orig->files[i].data, from);
        assert_non_null(at);
        size_t pre = (size_t)(at - (const char *)orig->files[i].data);
        test_xml = malloc(orig->files[i].len + 64);
        snprintf(test_xml, orig->files[i].len + 64, "%.*s%s%s", (int)pre,
                 (const char *)orig->files[i].data,
                 "<timeLimits maxTime=\"200\" allowLateSubmission=\"true\"/>", at + strlen(from));
        files[i].data = (unsigned char *)test_xml;
        files[i].len = strlen(test_xml);
    }
    assert_non_null(test_xml);
    struct qti_package *pk;
    if (qti_package_from_files("BasicFullTimerStack-late.zip", files, orig->nfiles, NULL, &pk,
                               &e) != 0)
        fail_msg("%s", e.msg);
    qti_package_free(orig);
    free(test_xml);
    struct qti_loaded *src;
    if (qti_load_package(pk, &src, &e) != 0)
        fail_msg("%s", e.msg);
    struct pkg p;
    pkg_from_loaded(&p, src);
    struct qti_test_session *s = start(&p, 0);
    next_ok(s, 90);  /* Q01: 90 s */
    next_ok(s, 180); /* Q02: 90 s; part 180 */
    assert_int_equal(submit(s, "{\"RESPONSE\": \"turismo\"}", 240, &e), OP_ECONFLICT);
    /* Q03: 60 s > its own 50 s: the item's limit refuses (allowLateSubmission false there) */
    contains(e.msg, "the time limit of item Q03 (50 s) is over");
    qti_test_session_free(s);
    s = start(&p, 0);
    next_ok(s, 100); /* Q01: 100 s */
    next_ok(s, 170); /* Q02: 70 s; part 170 */
    /* Q03 at 215: 45 s on it (< 50), the part at 215 s (> 200) allows late submission and
     * the test is at 215 (< 400): accepted and scored. */
    submit_ok(s, "{\"RESPONSE\": \"turismo\"}", 215);
    assert_true(score_at(s, 2) == 1.0);
    next_ok(s, 216); /* the part's time is over: moving on still ends it */
    assert_true(qti_test_session_ended(s));
    qti_test_session_free(s);
    pkg_close(&p);
}

/* ---- skipping ---- */

/* SkippingNotAllowed: allowSkipping="false", maxAttempts="1", linear individual. QTI 2.1
 * itemSessionControl: an item is skipped when every response is NULL or its default value;
 * without allowSkipping such a submission is refused (and uses no attempt), and the candidate
 * cannot move on without submitting. Q07 declares no response: nothing to answer, so moving
 * on is allowed. */
static void test_skipping_not_allowed_refuses_empty_and_default_responses(void **state)
{
    (void)state;
    struct pkg p;
    pkg_open(&p, "skipping/SkippingNotAllowed");
    struct qti_test_session *s = start(&p, 0);
    struct op_err e = {0};
    /* Q01 (multiple, no default): empty is refused, moving on without submitting too */
    assert_int_equal(submit(s, "{}", 1, &e), OP_EINPUT);
    contains(e.msg, "item Q01: skipping is not allowed in test part TP01");
    assert_int_equal(attempts_at(s, 0), 0); /* the one attempt is not used up */
    assert_int_equal(qti_test_session_next(s, 2, &e), OP_ECONFLICT);
    contains(e.msg, "item Q01: answer it before moving on");
    submit_ok(s, "{\"RESPONSE\": [\"yoda\"]}", 3); /* a response, partly correct */
    assert_true(score_at(s, 0) == 0.0); /* match_correct needs {stormtrooper, yoda} -> 0 */
    next_ok(s, 4);
    /* Q02 (slider, default 0): its default does not count as a response */
    assert_int_equal(submit(s, "{\"RESPONSE\": 0}", 5, &e), OP_EINPUT);
    contains(e.msg, "item Q02: skipping is not allowed");
    submit_ok(s, "{\"RESPONSE\": 50}", 6);
    assert_true(score_at(s, 1) == 1.0); /* correct 50 */
    next_ok(s, 7);
    /* Q03 (slider, default 30) */
    assert_int_equal(submit(s, "{\"RESPONSE\": 30}", 8, &e), OP_EINPUT);
    contains(e.msg, "item Q03: skipping is not allowed");
    submit_ok(s, "{\"RESPONSE\": 70}", 9);
    assert_true(score_at(s, 2) == 0.0); /* correct is 80 */
    next_ok(s, 10);
    /* Q04 (choice, default capitaine) */
    assert_int_equal(submit(s, "{\"RESPONSE\": \"capitaine\"}", 11, &e), OP_EINPUT);
    contains(e.msg, "item Q04: skipping is not allowed");
    submit_ok(s, "{\"RESPONSE\": \"occupe\"}", 12);
    assert_true(score_at(s, 3) == 1.0); /* correct occupe */
    next_ok(s, 13);
    /* Q05 (slider, no default): NULL, explicit or left out, is refused */
    assert_int_equal(submit(s, "{\"RESPONSE\": null}", 14, &e), OP_EINPUT);
    assert_int_equal(submit(s, "{}", 15, &e), OP_EINPUT);
    contains(e.msg, "item Q05: skipping is not allowed");
    submit_ok(s, "{\"RESPONSE\": 60}", 16);
    assert_true(score_at(s, 4) == 1.0); /* correct 60 */
    next_ok(s, 17);
    /* Q06 (choice, no default) */
    assert_int_equal(submit(s, "{}", 18, &e), OP_EINPUT);
    submit_ok(s, "{\"RESPONSE\": \"heureux\"}", 19);
    assert_true(score_at(s, 5) == 0.0); /* correct triste */
    next_ok(s, 20);
    /* Q07: no response declared: moving on without a submission is allowed */
    assert_string_equal(qti_test_session_current_key(s), "Q07");
    next_ok(s, 21);
    assert_true(qti_test_session_ended(s));
    qti_test_session_free(s);
    pkg_close(&p);
}

/* SkippingAllowed: the same items with allowSkipping="true": empty and default submissions
 * are accepted, and (QTI numberResponded) only a value other than the default counts as a
 * response. */
static void test_skipping_allowed_accepts_empty_and_counts_only_non_default_responses(void **state)
{
    (void)state;
    struct pkg p;
    pkg_open(&p, "skipping/SkippingAllowed");
    struct qti_test_session *s = start(&p, 0);
    submit_ok(s, "{}", 1); /* Q01 empty */
    assert_false(qti_item_session_is_responded(item_at(s, 0)));
    assert_true(score_at(s, 0) == 0.0); /* match with NULL is NULL -> else branch 0 */
    next_ok(s, 2);
    submit_ok(s, "{\"RESPONSE\": 0}", 3); /* Q02 default 0 submitted as is */
    assert_false(qti_item_session_is_responded(item_at(s, 1)));
    assert_true(score_at(s, 1) == 0.0); /* 0 is not the correct 50 */
    next_ok(s, 4);
    submit_ok(s, "{\"RESPONSE\": 80}", 5); /* Q03: 80, not its default 30 */
    assert_true(qti_item_session_is_responded(item_at(s, 2)));
    assert_true(score_at(s, 2) == 1.0); /* correct 80 */
    next_ok(s, 6);
    next_ok(s, 7); /* Q04 left without a submission: allowed */
    submit_ok(s, "{}", 8);
    assert_true(score_at(s, 4) == 0.0); /* Q05 empty */
    next_ok(s, 9);
    next_ok(s, 10);
    next_ok(s, 11);
    assert_true(qti_test_session_ended(s));
    assert_int_equal(attempts_at(s, 3), 0); /* Q04 never submitted */
    qti_test_session_free(s);
    pkg_close(&p);
}

/* ---- feedback ---- */

/* ModalItemsFeedbackTrue: showFeedback="true"; each item's responseProcessing sets
 * SHOW_FEEDBACK to "correct" or "incorrect", and modalFeedback identifier="correct" ("Good
 * job!") or "incorrect" ("This is wrong!") shows for it (showHide="show"). */
static void test_modal_feedback_follows_the_outcome(void **state)
{
    (void)state;
    struct pkg p;
    pkg_open(&p, "feedback/ModalItemsFeedbackTrue");
    struct qti_test_session *s = start(&p, 0);
    const struct qti_node *ref = qti_test_find(p.dev->test, "Q01");
    assert_int_equal(qti_isc_effective(p.dev->test, ref).show_feedback, 1);
    json_t *view = qti_item_session_view(item_at(s, 0), 1);
    assert_int_equal(json_array_size(json_object_get(view, "modal")), 0); /* nothing yet */
    json_decref(view);
    submit_ok(s, "{\"RESPONSE\": \"tao\"}", 1);
    view = qti_item_session_view(item_at(s, 0), 1);
    json_t *modal = json_object_get(view, "modal");
    assert_int_equal(json_array_size(modal), 1);
    contains(json_string_value(json_object_get(json_array_get(modal, 0), "html")), "Good job!");
    json_decref(view);
    next_ok(s, 2);
    submit_ok(s, "{\"RESPONSE\": \"socks\"}", 3);
    view = qti_item_session_view(item_at(s, 1), 1);
    modal = json_object_get(view, "modal");
    assert_int_equal(json_array_size(modal), 1);
    contains(json_string_value(json_object_get(json_array_get(modal, 0), "html")),
             "This is wrong!");
    json_decref(view);
    qti_test_session_free(s);
    pkg_close(&p);
}

/* SumScore: outcomeProcessing sets TOTAL_SCORE = sum(testVariables(SCORE)) after every
 * submission: 1 after Q01 right, still 1 after Q02 wrong, 2 after Q03 right. */
static void test_sum_score_follows_each_submission(void **state)
{
    (void)state;
    struct pkg p;
    pkg_open(&p, "outcomeProcessing/SumScore");
    struct qti_test_session *s = start(&p, 0);
    submit_ok(s, "{\"RESPONSE\": \"rhinoceros\"}", 1);
    const struct qti_value *v = qti_test_session_outcome(s, "TOTAL_SCORE");
    assert_non_null(v);
    assert_true(v->type == QTI_BT_FLOAT && v->items[0].u.f == 1.0);
    next_ok(s, 2);
    submit_ok(s, "{\"RESPONSE\": \"horse\"}", 3);
    assert_true(qti_test_session_outcome(s, "TOTAL_SCORE")->items[0].u.f == 1.0);
    next_ok(s, 4);
    submit_ok(s, "{\"RESPONSE\": \"lion\"}", 5);
    assert_true(qti_test_session_outcome(s, "TOTAL_SCORE")->items[0].u.f == 2.0);
    next_ok(s, 6);
    assert_true(qti_test_session_ended(s));
    assert_true(qti_test_session_outcome(s, "TOTAL_SCORE")->items[0].u.f == 2.0);
    qti_test_session_free(s);
    pkg_close(&p);
}

/* ---- content ---- */

static json_t *entry_json(const struct qti_delivery *d, const char *name)
{
    const struct qti_delivery_entry *en = qti_delivery_find(d, name);
    if (!en)
        fail_msg("no entry %s in the compiled package", name);
    json_error_t je;
    json_t *j = json_loadb((const char *)en->data, en->len, 0, &je);
    if (!j)
        fail_msg("%s: %s", name, je.text);
    return j;
}

static int json_array_has(const json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i,
                       v) if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return 1;
    return 0;
}

/* BasicSharedStimulus: each item's body has <xi:include href="../STIMULUS/qti.xml"/>, a div
 * with <img src="logo.png"/>. From the item (Q01/qti.xml) that image is STIMULUS/logo.png:
 * the render model of every item shows the image under that path, lists it as an asset, and
 * the compiled package holds the file, byte for byte. */
static void test_shared_stimulus_reaches_every_render_model(void **state)
{
    (void)state;
    struct pkg p;
    pkg_open(&p, "sharedStimulus/BasicSharedStimulus");
    struct qti_delivery d;
    struct op_err e = {0};
    if (qti_delivery_open((const unsigned char *)p.compiled.data, p.compiled.len, &d, &e) != 0)
        fail_msg("%s", e.msg);
    static const char *const items[] = {"Q01", "Q02", "Q03"};
    for (size_t i = 0; i < 3; i++) {
        char name[128];
        snprintf(name, sizeof name, "items/%s/qti.xml/render.json", items[i]);
        json_t *r = entry_json(&d, name);
        const char *body = json_string_value(json_object_get(r, "body"));
        assert_non_null(body);
        contains(body, "src=\"STIMULUS/logo.png\"");
        contains(body, "alt=\"An Image\"");
        assert_null(strstr(body, "include")); /* the include itself is gone */
        assert_true(json_array_has(json_object_get(r, "assets"), "STIMULUS/logo.png"));
        json_decref(r);
    }
    const struct qti_delivery_entry *logo = qti_delivery_find(&d, "assets/STIMULUS/logo.png");
    assert_non_null(logo);
    const struct qti_file *orig = qti_package_find(p.src->pkg, "STIMULUS/logo.png");
    assert_non_null(orig);
    assert_int_equal(logo->len, orig->len);
    assert_memory_equal(logo->data, orig->data, orig->len);
    qti_delivery_close(&d);
    pkg_close(&p);
}

/* TestDefinitionInSubFolders: the test is path/to/test/test.xml and refers to its items as
 * ../../../Q01/qti.xml: resolved from the test's folder they are Q01/qti.xml... at the top
 * of the archive, where the manifest puts them; the compiled package keys them so. */
static void test_test_in_a_subfolder_finds_its_items_relative_to_it(void **state)
{
    (void)state;
    struct pkg p;
    pkg_open(&p, "misc/TestDefinitionInSubFolders");
    assert_int_equal(p.dev->nitems, 3);
    assert_string_equal(p.dev->items[0].href, "Q01/qti.xml");
    assert_string_equal(p.dev->items[1].href, "Q02/qti.xml");
    assert_string_equal(p.dev->items[2].href, "Q03/qti.xml");
    struct qti_delivery d;
    struct op_err e = {0};
    if (qti_delivery_open((const unsigned char *)p.compiled.data, p.compiled.len, &d, &e) != 0)
        fail_msg("%s", e.msg);
    assert_non_null(qti_delivery_find(&d, "items/Q02/qti.xml/render.json"));
    qti_delivery_close(&d);
    struct qti_test_session *s = start(&p, 0);
    submit_ok(s, "{\"RESPONSE\": \"tao\"}", 1);
    assert_true(score_at(s, 0) == 1.0); /* Q01's correct "tao", found through ../../../ */
    qti_test_session_free(s);
    pkg_close(&p);
}

int main(void)
{
    if (!samples_dir()) {
        printf("SKIP: QTI TAO sample packages (no samples)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_linear_part_moves_forward_only),
        cmocka_unit_test(test_nonlinear_part_jumps_goes_back_and_resubmits),
        cmocka_unit_test(test_one_attempt_refuses_second_submission_even_after_coming_back),
        cmocka_unit_test(test_simultaneous_part_scores_only_when_the_part_ends),
        cmocka_unit_test(test_timer_stack_refuses_submissions_after_each_limit),
        cmocka_unit_test(test_timer_stack_late_submission_allowed_on_the_part),
        cmocka_unit_test(test_skipping_not_allowed_refuses_empty_and_default_responses),
        cmocka_unit_test(test_skipping_allowed_accepts_empty_and_counts_only_non_default_responses),
        cmocka_unit_test(test_modal_feedback_follows_the_outcome),
        cmocka_unit_test(test_sum_score_follows_each_submission),
        cmocka_unit_test(test_shared_stimulus_reaches_every_render_model),
        cmocka_unit_test(test_test_in_a_subfolder_finds_its_items_relative_to_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
