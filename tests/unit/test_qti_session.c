/* test_qti_session.c - the test session: navigation, skipping, attempts, time limits,
 * preconditions, branch rules, simultaneous submission, test outcome processing with
 * weights and item subsets, save and restore. Written from QTI 2.1 §"Tests"; packages are
 * built in memory from the XML below. */
#include "testutil.h"

#include <string.h>

#include "qti/compile.h"
#include "qti/item_session.h"
#include "qti/test_session.h"
#include "qti_testzip.h"

#define NS "xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\""

static char *tmp;

static int setup(void **state)
{
    (void)state;
    tmp = testutil_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testutil_rmdir(tmp);
    return 0;
}

/* A single-choice item (choices A, B, C) whose correct response is A (match_correct). */
static char *item_xml(const char *id)
{
    char *s = malloc(2048);
    snprintf(s, 2048,
             "<assessmentItem " NS " identifier=\"%s\" title=\"%s\" adaptive=\"false\" "
             "timeDependent=\"false\">"
             "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" "
             "baseType=\"identifier\"><correctResponse><value>A</value></correctResponse>"
             "</responseDeclaration>"
             "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\">"
             "<defaultValue><value>0</value></defaultValue></outcomeDeclaration>"
             "<itemBody><choiceInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"1\">"
             "<simpleChoice identifier=\"A\">a</simpleChoice>"
             "<simpleChoice identifier=\"B\">b</simpleChoice>"
             "<simpleChoice identifier=\"C\">c</simpleChoice></choiceInteraction></itemBody>"
             "<responseProcessing template=\"http://www.imsglobal.org/question/qti_v2p1/"
             "rptemplates/match_correct\"/></assessmentItem>",
             id, id);
    return s;
}

static const char manifest[] =
    "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\"><resources>"
    "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\">"
    "<file href=\"test.xml\"/></resource></resources></manifest>";

/* Loads a package of `test`, items Q1..Q4 and the `extra` files (file name, XML text, ...,
 * NULL); the caller frees it. Fails the test with the loader's message if refused. */
static int load_with_rc(const char *test, const char *const *extra, struct qti_loaded **out,
                        struct op_err *e)
{
    char *items[4];
    char names[4][16];
    struct testzip_entry ents[16] = {{"imsmanifest.xml", manifest, sizeof manifest - 1, 0},
                                     {"test.xml", test, strlen(test), 0}};
    size_t n = 6;
    for (int i = 0; i < 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "Q%d", i + 1);
        snprintf(names[i], sizeof names[i], "Q%d.xml", i + 1);
        items[i] = item_xml(id);
        ents[2 + i] = (struct testzip_entry){names[i], items[i], strlen(items[i]), 0};
    }
    for (size_t k = 0; extra && extra[k]; k += 2) {
        assert_true(n < 16);
        ents[n++] = (struct testzip_entry){extra[k], extra[k + 1], strlen(extra[k + 1]), 0};
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/p.zip", tmp);
    assert_int_equal(testzip_write(path, ents, (int)n), 0);
    for (int i = 0; i < 4; i++)
        free(items[i]);
    return qti_load(path, NULL, out, e);
}

static struct qti_loaded *load_with(const char *test, const char *const *extra)
{
    struct qti_loaded *l;
    struct op_err e = {0};
    if (load_with_rc(test, extra, &l, &e) != 0)
        fail_msg("load: %s", e.msg);
    return l;
}

/* Loads a package of `test` and items Q1..Q4. */
static struct qti_loaded *load(const char *test)
{
    return load_with(test, NULL);
}

static struct qti_test_session *start(struct qti_loaded *l, double now)
{
    struct qti_test_session *s;
    struct op_err e = {0};
    if (qti_test_session_start(l->test, qti_loaded_lookup, l, 1, now, &s, &e) != 0)
        fail_msg("start: %s", e.msg);
    return s;
}

static json_t *answer(const char *choice)
{
    return json_pack("{s:s}", "RESPONSE", choice);
}

static void submit_ok(struct qti_test_session *s, const char *choice, double now)
{
    struct op_err e = {0};
    json_t *r = choice ? answer(choice) : NULL;
    if (qti_test_session_submit(s, r, now, NULL, &e) != 0)
        fail_msg("submit: %s", e.msg);
    json_decref(r);
}

static void next_ok(struct qti_test_session *s, double now)
{
    struct op_err e = {0};
    if (qti_test_session_next(s, now, &e) != 0)
        fail_msg("next: %s", e.msg);
}

static char *taken(const struct qti_test_session *s)
{
    static char out[256];
    json_t *a = qti_test_session_route_taken_json(s);
    char *d = json_dumps(a, JSON_COMPACT);
    snprintf(out, sizeof out, "%s", d);
    free(d);
    json_decref(a);
    return out;
}

static double outcome_num(const struct qti_test_session *s, const char *id)
{
    const struct qti_value *v = qti_test_session_outcome(s, id);
    assert_non_null(v);
    return v->type == QTI_BT_INTEGER ? (double)v->items[0].u.i : v->items[0].u.f;
}

#define PART_OPEN(nav, sub)                                                                        \
    "<testPart identifier=\"P\" navigationMode=\"" nav "\" submissionMode=\"" sub "\">"
#define SECTION_OPEN "<assessmentSection identifier=\"S\" title=\"s\" visible=\"true\">"
#define REF(id)      "<assessmentItemRef identifier=\"" id "\" href=\"" id ".xml\"/>"
#define CLOSE        "</assessmentSection></testPart>"

static void test_linear_part_refuses_moving_on_unanswered_item_without_skipping(void **state)
{
    (void)state;
    struct qti_loaded *l = load("<assessmentTest " NS " identifier=\"T\">" PART_OPEN(
        "linear",
        "individual") "<itemSessionControl allowSkipping=\"false\"/>" SECTION_OPEN REF("Q1")
                                    REF("Q2") CLOSE "</assessmentTest>");
    struct qti_test_session *s = start(l, 0);
    struct op_err e = {0};
    assert_int_equal(qti_test_session_next(s, 1, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "item Q1: answer it before moving on"));
    assert_int_equal(qti_test_session_previous(s, 1, &e), OP_ECONFLICT);
    submit_ok(s, "A", 2);
    next_ok(s, 3);
    assert_string_equal(qti_test_session_current_key(s), "Q2");
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static void test_max_attempts_bounds_submissions_and_nonlinear_allows_going_back(void **state)
{
    (void)state;
    struct qti_loaded *l = load("<assessmentTest " NS " identifier=\"T\">" PART_OPEN(
        "nonlinear", "individual") "<itemSessionControl maxAttempts=\"1\"/>" SECTION_OPEN REF("Q1")
                                    REF("Q2") CLOSE "</assessmentTest>");
    struct qti_test_session *s = start(l, 0);
    struct op_err e = {0};
    submit_ok(s, "B", 1);
    json_t *r = answer("A");
    assert_int_equal(qti_test_session_submit(s, r, 2, NULL, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "no attempt left (maxAttempts 1)"));
    next_ok(s, 3); /* unanswered items may be left in a nonlinear part */
    assert_string_equal(qti_test_session_current_key(s), "Q2");
    assert_int_equal(qti_test_session_previous(s, 4, &e), 0);
    assert_string_equal(qti_test_session_current_key(s), "Q1");
    assert_int_equal(qti_test_session_submit(s, r, 5, NULL, &e), OP_ECONFLICT);
    json_decref(r);
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static void test_nonlinear_jump_and_previous(void **state)
{
    (void)state;
    struct qti_loaded *l =
        load("<assessmentTest " NS " identifier=\"T\">" PART_OPEN("nonlinear", "individual")
                 SECTION_OPEN REF("Q1") REF("Q2") REF("Q3") CLOSE "</assessmentTest>");
    struct qti_test_session *s = start(l, 0);
    struct op_err e = {0};
    assert_int_equal(qti_test_session_jump(s, 2, 1, &e), 0);
    assert_string_equal(qti_test_session_current_key(s), "Q3");
    assert_int_equal(qti_test_session_previous(s, 2, &e), 0);
    assert_string_equal(qti_test_session_current_key(s), "Q2");
    assert_int_equal(qti_test_session_jump(s, 7, 3, &e), OP_EINPUT);
    assert_string_equal(taken(s), "[\"Q1\",\"Q3\",\"Q2\"]");
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static const char branch_test[] =
    "<assessmentTest " NS " identifier=\"T\">" PART_OPEN("linear", "individual") SECTION_OPEN
    "<assessmentItemRef identifier=\"Q1\" href=\"Q1.xml\">"
    "<branchRule target=\"Q3\"><match><variable identifier=\"Q1.SCORE\"/>"
    "<baseValue baseType=\"float\">1</baseValue></match></branchRule>"
    "</assessmentItemRef>" REF("Q2")
        REF("Q3") "<assessmentItemRef identifier=\"Q4\" href=\"Q4.xml\">"
                  "<preCondition><match><variable identifier=\"Q2.SCORE\"/>"
                  "<baseValue baseType=\"float\">1</baseValue></match></preCondition>"
                  "</assessmentItemRef>" CLOSE "</assessmentTest>";

static void test_branch_rule_skips_to_target_when_true(void **state)
{
    (void)state;
    struct qti_loaded *l = load(branch_test);
    struct qti_test_session *s = start(l, 0);
    submit_ok(s, "A", 1);
    next_ok(s, 2);
    assert_string_equal(qti_test_session_current_key(s), "Q3");
    submit_ok(s, "A", 3);
    next_ok(s, 4);
    /* Q4's precondition reads Q2.SCORE, NULL since Q2 was never presented: Q4 is skipped. */
    assert_true(qti_test_session_ended(s));
    assert_string_equal(taken(s), "[\"Q1\",\"Q3\"]");
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static void test_branch_rule_false_and_precondition_true_follow_the_route(void **state)
{
    (void)state;
    struct qti_loaded *l = load(branch_test);
    struct qti_test_session *s = start(l, 0);
    submit_ok(s, "B", 1);
    next_ok(s, 2);
    assert_string_equal(qti_test_session_current_key(s), "Q2");
    submit_ok(s, "A", 3);
    next_ok(s, 4);
    submit_ok(s, NULL, 5);
    next_ok(s, 6);
    assert_string_equal(qti_test_session_current_key(s), "Q4");
    next_ok(s, 7);
    assert_true(qti_test_session_ended(s));
    assert_string_equal(taken(s), "[\"Q1\",\"Q2\",\"Q3\",\"Q4\"]");
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static void test_exit_test_branch_ends_the_test(void **state)
{
    (void)state;
    struct qti_loaded *l = load(
        "<assessmentTest " NS " identifier=\"T\">" PART_OPEN("linear", "individual") SECTION_OPEN
        "<assessmentItemRef identifier=\"Q1\" href=\"Q1.xml\">"
        "<branchRule target=\"EXIT_TEST\"><baseValue baseType=\"boolean\">true</baseValue>"
        "</branchRule></assessmentItemRef>" REF("Q2") CLOSE "</assessmentTest>");
    struct qti_test_session *s = start(l, 0);
    next_ok(s, 1);
    assert_true(qti_test_session_ended(s));
    assert_null(qti_test_session_current_key(s));
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static void test_item_time_limits_refuse_late_submission_and_early_leaving(void **state)
{
    (void)state;
    struct qti_loaded *l = load(
        "<assessmentTest " NS " identifier=\"T\">" PART_OPEN("linear", "individual") SECTION_OPEN
        "<assessmentItemRef identifier=\"Q1\" href=\"Q1.xml\">"
        "<timeLimits minTime=\"5\" maxTime=\"10\"/></assessmentItemRef>"
        "<assessmentItemRef identifier=\"Q2\" href=\"Q2.xml\">"
        "<timeLimits maxTime=\"10\" allowLateSubmission=\"true\"/></assessmentItemRef>" CLOSE
        "</assessmentTest>");
    struct qti_test_session *s = start(l, 100);
    struct op_err e = {0};
    submit_ok(s, "A", 102);
    assert_int_equal(qti_test_session_next(s, 103, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "minTime"));
    json_t *r = answer("A");
    assert_int_equal(qti_test_session_submit(s, r, 120, NULL, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "the time limit of item Q1 (10 s) is over"));
    next_ok(s, 121); /* time is over: moving on is allowed */
    assert_int_equal(qti_test_session_submit(s, r, 140, NULL, &e), 0); /* late allowed */
    assert_true(qti_test_session_duration(s) == 40);
    json_decref(r);
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static void test_test_max_time_over_ends_the_test_on_next(void **state)
{
    (void)state;
    struct qti_loaded *l =
        load("<assessmentTest " NS
             " identifier=\"T\"><timeLimits maxTime=\"60\"/>" PART_OPEN("linear", "individual")
                 SECTION_OPEN REF("Q1") REF("Q2") REF("Q3") CLOSE "</assessmentTest>");
    struct qti_test_session *s = start(l, 0);
    next_ok(s, 30);
    next_ok(s, 61);
    assert_true(qti_test_session_ended(s));
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static void test_simultaneous_part_scores_when_the_part_ends(void **state)
{
    (void)state;
    struct qti_loaded *l = load("<assessmentTest " NS " identifier=\"T\">" PART_OPEN(
        "nonlinear", "simultaneous") SECTION_OPEN REF("Q1") REF("Q2") CLOSE "</assessmentTest>");
    struct qti_test_session *s = start(l, 0);
    submit_ok(s, "A", 1);
    const struct qti_item_session *is = qti_test_session_item(s, 0);
    assert_int_equal(qti_item_session_num_attempts(is), 0); /* kept, not yet submitted */
    next_ok(s, 2);
    submit_ok(s, "B", 3);
    next_ok(s, 4);
    assert_true(qti_test_session_ended(s));
    is = qti_test_session_item(s, 0);
    assert_int_equal(qti_item_session_num_attempts(is), 1);
    const struct qti_value *score = qti_item_session_variable(is, "SCORE");
    assert_non_null(score);
    assert_true(score->items[0].u.f == 1.0);
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static const char outcome_test[] =
    "<assessmentTest " NS " identifier=\"T\">"
    "<outcomeDeclaration identifier=\"NCORRECT\" cardinality=\"single\" baseType=\"integer\"/>"
    "<outcomeDeclaration identifier=\"NPRESENTED\" cardinality=\"single\" baseType=\"integer\"/>"
    "<outcomeDeclaration identifier=\"NGEO\" cardinality=\"single\" baseType=\"integer\"/>"
    "<outcomeDeclaration identifier=\"WEIGHTED\" cardinality=\"single\" "
    "baseType=\"float\"/>" PART_OPEN("linear", "individual") SECTION_OPEN
    "<assessmentItemRef identifier=\"Q1\" href=\"Q1.xml\" category=\"geo\">"
    "<weight identifier=\"W\" value=\"2\"/></assessmentItemRef>"
    "<assessmentItemRef identifier=\"Q2\" href=\"Q2.xml\" category=\"geo\"/>" REF("Q3") CLOSE
    "<outcomeProcessing>"
    "<setOutcomeValue identifier=\"NCORRECT\"><numberCorrect/></setOutcomeValue>"
    "<setOutcomeValue identifier=\"NPRESENTED\"><numberPresented/></setOutcomeValue>"
    "<setOutcomeValue identifier=\"NGEO\"><numberCorrect includeCategory=\"geo\"/>"
    "</setOutcomeValue>"
    "<setOutcomeValue identifier=\"WEIGHTED\"><variable identifier=\"Q1.SCORE\" "
    "weightIdentifier=\"W\"/></setOutcomeValue>"
    "</outcomeProcessing></assessmentTest>";

static void test_outcome_processing_counts_item_subsets_and_applies_weights(void **state)
{
    (void)state;
    struct qti_loaded *l = load(outcome_test);
    struct qti_test_session *s = start(l, 0);
    submit_ok(s, "A", 1);
    next_ok(s, 2);
    submit_ok(s, "B", 3);
    next_ok(s, 4);
    submit_ok(s, "A", 5);
    next_ok(s, 6);
    assert_true(qti_test_session_ended(s));
    assert_true(outcome_num(s, "NCORRECT") == 2);
    assert_true(outcome_num(s, "NPRESENTED") == 3);
    assert_true(outcome_num(s, "NGEO") == 1);
    assert_true(outcome_num(s, "WEIGHTED") == 2.0);
    qti_test_session_free(s);
    qti_loaded_free(l);
}

/* outcomeProcessing that fails at run time once Q1 has a response (sum of an identifier),
 * after a rule that already changed TOTAL. */
static const char failing_outcome_test[] =
    "<assessmentTest " NS " identifier=\"T\">"
    "<outcomeDeclaration identifier=\"TOTAL\" cardinality=\"single\" baseType=\"float\"/>"
    "<outcomeDeclaration identifier=\"BROKEN\" cardinality=\"single\" "
    "baseType=\"integer\"/>" PART_OPEN(
        "nonlinear", "individual") "<itemSessionControl maxAttempts=\"0\"/>" SECTION_OPEN REF("Q1")
        REF("Q2") CLOSE
    "<outcomeProcessing>"
    "<setOutcomeValue identifier=\"TOTAL\"><sum><variable identifier=\"Q1.SCORE\"/>"
    "<baseValue baseType=\"float\">10</baseValue></sum></setOutcomeValue>"
    "<setOutcomeValue identifier=\"BROKEN\"><sum><variable identifier=\"Q1.RESPONSE\"/>"
    "<baseValue baseType=\"integer\">1</baseValue></sum></setOutcomeValue>"
    "</outcomeProcessing></assessmentTest>";

static char *saved_text(const struct qti_test_session *s)
{
    json_t *j = qti_test_session_save(s);
    char *t = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    return t;
}

static void test_submit_failing_in_outcome_processing_changes_nothing(void **state)
{
    (void)state;
    struct qti_loaded *l = load(failing_outcome_test);
    struct qti_test_session *s = start(l, 0);
    submit_ok(s, NULL, 1); /* no response: the sum is NULL, nothing fails */
    assert_true(outcome_num(s, "TOTAL") == 10);
    char *before = saved_text(s);

    struct op_err e = {0};
    json_t *r = answer("A");
    assert_int_equal(qti_test_session_submit(s, r, 5, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "test T: outcomeProcessing"));
    char *after = saved_text(s);
    assert_string_equal(after, before); /* item session, outcomes and clock as before */
    free(after);

    /* Refusals before the item is touched (an unknown response) change nothing either. */
    json_t *bad = json_pack("{s:s}", "NOPE", "A");
    assert_int_equal(qti_test_session_submit(s, bad, 6, NULL, &e), OP_EINPUT);
    json_decref(bad);
    after = saved_text(s);
    assert_string_equal(after, before);
    free(after);

    /* The time of the failed calls is not lost: the next call counts it. */
    submit_ok(s, NULL, 7);
    assert_true(qti_test_session_duration(s) == 7);
    assert_int_equal(qti_item_session_num_attempts(qti_test_session_item(s, 0)), 2);
    free(before);
    json_decref(r);
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static void test_saved_session_resumes_where_it_was(void **state)
{
    (void)state;
    struct qti_loaded *l = load(outcome_test);
    struct qti_test_session *s = start(l, 0);
    submit_ok(s, "A", 1);
    next_ok(s, 2);
    json_t *saved = qti_test_session_save(s);
    char *text = json_dumps(saved, JSON_COMPACT);
    json_decref(saved);
    qti_test_session_free(s); /* the device crashes */
    json_error_t je;
    saved = json_loads(text, 0, &je);
    free(text);
    struct op_err e = {0};
    if (qti_test_session_restore(l->test, qti_loaded_lookup, l, saved, &s, &e) != 0)
        fail_msg("restore: %s", e.msg);
    json_decref(saved);
    assert_string_equal(qti_test_session_current_key(s), "Q2");
    submit_ok(s, "A", 3);
    next_ok(s, 4);
    submit_ok(s, "A", 5);
    next_ok(s, 6);
    assert_true(qti_test_session_ended(s));
    assert_true(outcome_num(s, "NCORRECT") == 3);
    assert_true(outcome_num(s, "WEIGHTED") == 2.0);
    assert_true(qti_test_session_duration(s) == 6);
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static void test_restore_refuses_state_of_another_test(void **state)
{
    (void)state;
    struct qti_loaded *l = load(outcome_test);
    json_t *bad =
        json_pack("{s:i, s:s, s:s, s:s}", "format", 1, "test", "OTHER", "seed", "1", "rng", "2");
    struct qti_test_session *s = NULL;
    struct op_err e = {0};
    assert_int_equal(qti_test_session_restore(l->test, qti_loaded_lookup, l, bad, &s, &e),
                     OP_EINPUT);
    assert_non_null(strstr(e.msg, "another test"));
    json_decref(bad);
    qti_loaded_free(l);
}

static void test_compiled_package_is_deterministic_and_loads_back(void **state)
{
    (void)state;
    struct qti_loaded *l = load(outcome_test);
    struct buf a = BUF_INIT, b = BUF_INIT;
    struct op_err e = {0};
    assert_int_equal(qti_compile(l, &a, &e), 0);
    assert_int_equal(qti_compile(l, &b, &e), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    /* What the browser is sent never holds the answers. */
    struct qti_delivery d;
    assert_int_equal(qti_delivery_open((const unsigned char *)a.data, a.len, &d, &e), 0);
    size_t renders = 0;
    for (size_t i = 0; i < d.n; i++) {
        if (!strstr(d.entries[i].name, "render.json"))
            continue;
        renders++;
        char *text = strndup((const char *)d.entries[i].data, d.entries[i].len);
        assert_null(strstr(text, "correctResponse"));
        assert_null(strstr(text, "responseProcessing"));
        free(text);
    }
    assert_int_equal(renders, 3);
    qti_delivery_close(&d);
    struct qti_loaded *dev;
    if (qti_delivery_load((const unsigned char *)a.data, a.len, &dev, &e) != 0)
        fail_msg("load: %s", e.msg);
    assert_int_equal(dev->nitems, 3);
    struct qti_test_session *s;
    assert_int_equal(qti_test_session_start(dev->test, qti_loaded_lookup, dev, 1, 0, &s, &e), 0);
    submit_ok(s, "A", 1);
    assert_int_equal(qti_test_session_finish(s, 2, &e), 0);
    assert_true(outcome_num(s, "NCORRECT") == 1);
    qti_test_session_free(s);
    /* A flipped byte in an entry is caught by its hash. */
    a.data[a.len - 3] ^= 1;
    struct qti_loaded *bad = NULL;
    assert_int_not_equal(qti_delivery_load((const unsigned char *)a.data, a.len, &bad, &e), 0);
    assert_null(bad);
    qti_loaded_free(dev);
    buf_free(&a);
    buf_free(&b);
    qti_loaded_free(l);
}

/* ---- test-level rules of QTI 2.1 that items and sections depend on ---- */

static const struct qti_value *item_var(const struct qti_test_session *s, size_t pos,
                                        const char *id)
{
    const struct qti_item_session *is = qti_test_session_item(s, pos);
    assert_non_null(is);
    return qti_item_session_variable(is, id);
}

static double num(const struct qti_value *v)
{
    assert_non_null(v);
    return v->type == QTI_BT_INTEGER ? (double)v->items[0].u.i : v->items[0].u.f;
}

/* An item whose score is declared as `scoring` (normalMaximum 2, normalMinimum -1): 2 for
 * the correct choice A, else -1. */
static const char scoring_item[] =
    "<assessmentItem " NS " identifier=\"M\" title=\"M\" adaptive=\"false\" "
    "timeDependent=\"false\">"
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"identifier\">"
    "<correctResponse><value>A</value></correctResponse></responseDeclaration>"
    "<outcomeDeclaration identifier=\"scoring\" cardinality=\"single\" baseType=\"float\" "
    "normalMaximum=\"2\" normalMinimum=\"-1\"/>"
    "<itemBody><choiceInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"1\">"
    "<simpleChoice identifier=\"A\">a</simpleChoice>"
    "<simpleChoice identifier=\"B\">b</simpleChoice></choiceInteraction></itemBody>"
    "<responseProcessing><responseCondition><responseIf><match>"
    "<variable identifier=\"RESPONSE\"/><correct identifier=\"RESPONSE\"/></match>"
    "<setOutcomeValue identifier=\"scoring\"><baseValue baseType=\"float\">2</baseValue>"
    "</setOutcomeValue></responseIf><responseElse>"
    "<setOutcomeValue identifier=\"scoring\"><baseValue baseType=\"float\">-1</baseValue>"
    "</setOutcomeValue></responseElse></responseCondition></responseProcessing>"
    "</assessmentItem>";

static const char mapping_test[] =
    "<assessmentTest " NS " identifier=\"T\">"
    "<outcomeDeclaration identifier=\"TOTAL\" cardinality=\"single\" baseType=\"float\"/>"
    "<outcomeDeclaration identifier=\"MAX\" cardinality=\"single\" baseType=\"float\"/>"
    "<outcomeDeclaration identifier=\"MIN\" cardinality=\"single\" baseType=\"float\"/>"
    "<outcomeDeclaration identifier=\"DIRECT\" cardinality=\"single\" baseType=\"float\"/>"
    "<outcomeDeclaration identifier=\"UNMAPPED\" cardinality=\"single\" baseType=\"float\"/>"
    "<outcomeDeclaration identifier=\"HIDDEN\" cardinality=\"single\" "
    "baseType=\"float\"/>" PART_OPEN("linear", "individual") SECTION_OPEN
    "<assessmentItemRef identifier=\"Q1\" href=\"M.xml\" category=\"mapped\">"
    "<variableMapping sourceIdentifier=\"scoring\" targetIdentifier=\"SCORE\"/>"
    "</assessmentItemRef>" REF("Q2") CLOSE
    "<outcomeProcessing>"
    "<setOutcomeValue identifier=\"TOTAL\"><sum><testVariables variableIdentifier=\"SCORE\"/>"
    "</sum></setOutcomeValue>"
    "<setOutcomeValue identifier=\"MAX\"><sum><outcomeMaximum outcomeIdentifier=\"SCORE\" "
    "includeCategory=\"mapped\"/></sum></setOutcomeValue>"
    "<setOutcomeValue identifier=\"MIN\"><sum><outcomeMinimum outcomeIdentifier=\"SCORE\"/>"
    "</sum></setOutcomeValue>"
    "<setOutcomeValue identifier=\"DIRECT\"><variable identifier=\"Q1.SCORE\"/>"
    "</setOutcomeValue>"
    "<setOutcomeValue identifier=\"UNMAPPED\"><sum><testVariables "
    "variableIdentifier=\"scoring\"/></sum></setOutcomeValue>"
    "<setOutcomeValue identifier=\"HIDDEN\"><variable identifier=\"Q1.scoring\"/>"
    "</setOutcomeValue>"
    "</outcomeProcessing></assessmentTest>";

/* QTI 2.1 variableMapping: the source variable "is treated as if it were declared with the
 * name targetIdentifier during outcomeProcessing". */
static void test_variable_mapping_renames_item_variable_in_outcome_processing(void **state)
{
    (void)state;
    const char *const extra[] = {"M.xml", scoring_item, NULL};
    struct qti_loaded *l = load_with(mapping_test, extra);
    struct qti_test_session *s = start(l, 0);
    submit_ok(s, "A", 1); /* Q1: scoring 2 */
    next_ok(s, 2);
    submit_ok(s, "A", 3); /* Q2: SCORE 1 */
    next_ok(s, 4);
    assert_true(qti_test_session_ended(s));
    assert_true(outcome_num(s, "TOTAL") == 3.0);  /* Q1's scoring counts as SCORE */
    assert_true(outcome_num(s, "MAX") == 2.0);    /* Q1's normalMaximum of scoring */
    assert_true(outcome_num(s, "MIN") == -1.0);   /* Q2 has no normalMinimum: ignored */
    assert_true(outcome_num(s, "DIRECT") == 2.0); /* Q1.SCORE names Q1's scoring */
    /* The source name is gone at test level. */
    assert_null(qti_test_session_outcome(s, "UNMAPPED"));
    assert_null(qti_test_session_outcome(s, "HIDDEN"));
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static void test_variable_mapping_of_undeclared_variable_is_refused(void **state)
{
    (void)state;
    const char *const extra[] = {"M.xml", scoring_item, NULL};
    struct qti_loaded *l = NULL;
    struct op_err e = {0};
    assert_int_equal(
        load_with_rc("<assessmentTest " NS " identifier=\"T\">" PART_OPEN("linear", "individual")
                         SECTION_OPEN
                     "<assessmentItemRef identifier=\"Q1\" href=\"M.xml\">"
                     "<variableMapping sourceIdentifier=\"SCROING\" targetIdentifier=\"SCORE\"/>"
                     "</assessmentItemRef>" CLOSE "</assessmentTest>",
                     extra, &l, &e),
        OP_EINPUT);
    assert_null(l);
    if (!strstr(e.msg, "assessmentItemRef Q1: variableMapping: item M declares no variable "
                       "SCROING"))
        fail_msg("message: %s", e.msg);
}

/* An item with template variables N (no default) and M = N + 10 (templateProcessing);
 * SCORE = N + M. */
static const char template_item[] =
    "<assessmentItem " NS " identifier=\"TPL\" title=\"TPL\" adaptive=\"false\" "
    "timeDependent=\"false\">"
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"identifier\"/>"
    "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\"/>"
    "<templateDeclaration identifier=\"N\" cardinality=\"single\" baseType=\"float\"/>"
    "<templateDeclaration identifier=\"M\" cardinality=\"single\" baseType=\"float\"/>"
    "<templateProcessing><setTemplateValue identifier=\"M\"><sum>"
    "<variable identifier=\"N\"/><baseValue baseType=\"float\">10</baseValue></sum>"
    "</setTemplateValue></templateProcessing>"
    "<itemBody><choiceInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"1\">"
    "<simpleChoice identifier=\"A\">a</simpleChoice></choiceInteraction></itemBody>"
    "<responseProcessing><setOutcomeValue identifier=\"SCORE\"><sum>"
    "<variable identifier=\"N\"/><variable identifier=\"M\"/></sum></setOutcomeValue>"
    "</responseProcessing></assessmentItem>";

/* QTI 2.1 templateDefault: the item ref overrides the default of a template variable with
 * an expression evaluated in the test's context (here Q1.SCORE + BONUS, when Q2 starts). */
static void test_template_default_overrides_template_variable_default(void **state)
{
    (void)state;
    const char *const extra[] = {"TPL.xml", template_item, NULL};
    struct qti_loaded *l = load_with(
        "<assessmentTest " NS " identifier=\"T\">"
        "<outcomeDeclaration identifier=\"BONUS\" cardinality=\"single\" baseType=\"float\">"
        "<defaultValue><value>2</value></defaultValue></outcomeDeclaration>" PART_OPEN("linear",
                                                                                       "individual")
            SECTION_OPEN REF("Q1") "<assessmentItemRef identifier=\"Q2\" href=\"TPL.xml\">"
                                   "<templateDefault templateIdentifier=\"N\"><sum><variable "
                                   "identifier=\"Q1.SCORE\"/>"
                                   "<variable identifier=\"BONUS\"/></sum></templateDefault>"
                                   "</assessmentItemRef>" CLOSE "</assessmentTest>",
        extra);
    struct qti_test_session *s = start(l, 0);
    submit_ok(s, "A", 1); /* Q1.SCORE 1 */
    next_ok(s, 2);
    assert_string_equal(qti_test_session_current_key(s), "Q2");
    assert_true(num(item_var(s, 1, "N")) == 3.0);  /* 1 + 2 */
    assert_true(num(item_var(s, 1, "M")) == 13.0); /* templateProcessing saw N = 3 */
    submit_ok(s, "A", 3);
    assert_true(num(item_var(s, 1, "SCORE")) == 16.0);
    /* The overridden default survives saving and restoring the session. */
    json_t *saved = qti_test_session_save(s);
    struct qti_test_session *r = NULL;
    struct op_err e = {0};
    if (qti_test_session_restore(l->test, qti_loaded_lookup, l, saved, &r, &e) != 0)
        fail_msg("restore: %s", e.msg);
    json_decref(saved);
    assert_true(num(item_var(r, 1, "N")) == 3.0);
    qti_test_session_free(r);
    qti_test_session_free(s);
    qti_loaded_free(l);
}

static void test_template_default_of_unknown_template_variable_is_refused(void **state)
{
    (void)state;
    const char *const extra[] = {"TPL.xml", template_item, NULL};
    struct qti_loaded *l = NULL;
    struct op_err e = {0};
    assert_int_equal(load_with_rc("<assessmentTest " NS " identifier=\"T\">" PART_OPEN(
                                      "linear", "individual") SECTION_OPEN
                                  "<assessmentItemRef identifier=\"Q1\" href=\"TPL.xml\">"
                                  "<templateDefault templateIdentifier=\"SCORE\">"
                                  "<baseValue baseType=\"float\">1</baseValue></templateDefault>"
                                  "</assessmentItemRef>" CLOSE "</assessmentTest>",
                                  extra, &l, &e),
                     OP_EINPUT);
    assert_null(l);
    if (!strstr(e.msg, "assessmentItemRef Q1: templateDefault: item TPL declares no template "
                       "variable SCORE"))
        fail_msg("message: %s", e.msg);
}

/* Three parts; the first is nonlinear and branches to the third when Q1 is right. */
static const char nonlinear_branch_test[] =
    "<assessmentTest " NS " identifier=\"T\">"
    "<testPart identifier=\"P1\" navigationMode=\"nonlinear\" submissionMode=\"individual\">"
    "<branchRule target=\"P3\"><match><variable identifier=\"Q1.SCORE\"/>"
    "<baseValue baseType=\"float\">1</baseValue></match></branchRule>"
    "<assessmentSection identifier=\"S1\" title=\"s\" visible=\"true\">" REF(
        "Q1") "</assessmentSection></testPart>"
              "<testPart identifier=\"P2\" navigationMode=\"linear\" submissionMode=\"individual\">"
              "<assessmentSection identifier=\"S2\" title=\"s\" visible=\"true\">" REF(
                  "Q2") "</assessmentSection></testPart>"
                        "<testPart identifier=\"P3\" navigationMode=\"nonlinear\" "
                        "submissionMode=\"individual\">"
                        "<branchRule target=\"EXIT_TEST\"><baseValue "
                        "baseType=\"boolean\">true</baseValue>"
                        "</branchRule>"
                        "<assessmentSection identifier=\"S3\" title=\"s\" visible=\"true\">" REF(
                            "Q3") "</assessmentSection></testPart>"
                                  "<testPart identifier=\"P4\" navigationMode=\"linear\" "
                                  "submissionMode=\"individual\">"
                                  "<assessmentSection identifier=\"S4\" title=\"s\" "
                                  "visible=\"true\">" REF(
                                      "Q4") "</assessmentSection></testPart></assessmentTest>";

/* QTI 2.1 ignores branch rules only for the items and sections inside a nonlinear part: the
 * part's own branchRule chooses the next part. */
static void test_nonlinear_part_branch_rule_chooses_next_part(void **state)
{
    (void)state;
    struct qti_loaded *l = load(nonlinear_branch_test);
    struct qti_test_session *s = start(l, 0);
    submit_ok(s, "A", 1);
    next_ok(s, 2);
    assert_string_equal(qti_test_session_current_key(s), "Q3"); /* P2 skipped */
    next_ok(s, 3);
    assert_true(qti_test_session_ended(s)); /* P3 exits the test: P4 never comes */
    assert_string_equal(taken(s), "[\"Q1\",\"Q3\"]");
    qti_test_session_free(s);

    s = start(l, 0);
    submit_ok(s, "B", 1); /* the rule is false: on to P2 */
    next_ok(s, 2);
    assert_string_equal(qti_test_session_current_key(s), "Q2");
    qti_test_session_free(s);
    qti_loaded_free(l);
}

/* Q1 selected three times (with replacement) in a nonlinear simultaneous part; LAST reads
 * Q1.SCORE, SECOND reads the occurrence Q1.2 by its key. */
static const char repeated_test[] =
    "<assessmentTest " NS " identifier=\"T\">"
    "<outcomeDeclaration identifier=\"LAST\" cardinality=\"single\" baseType=\"float\"/>"
    "<outcomeDeclaration identifier=\"SECOND\" cardinality=\"single\" "
    "baseType=\"float\"/>" PART_OPEN("nonlinear", "simultaneous") SECTION_OPEN
    "<selection select=\"3\" withReplacement=\"true\"/>" REF("Q1") CLOSE
    "<outcomeProcessing>"
    "<setOutcomeValue identifier=\"LAST\"><variable identifier=\"Q1.SCORE\"/></setOutcomeValue>"
    "<setOutcomeValue identifier=\"SECOND\"><variable identifier=\"Q1.2.SCORE\"/>"
    "</setOutcomeValue></outcomeProcessing></assessmentTest>";

/* QTI 2.1 variable: for an item selected several times, "the value of the variable is
 * obtained from the last instance submitted if submission is simultaneous". */
static void test_repeated_item_variable_comes_from_last_instance_submitted(void **state)
{
    (void)state;
    struct qti_loaded *l = load(repeated_test);
    struct qti_test_session *s = start(l, 0);
    assert_string_equal(qti_test_session_current_key(s), "Q1.1");
    submit_ok(s, "A", 1); /* Q1.1 right */
    next_ok(s, 2);
    submit_ok(s, "B", 3); /* Q1.2 wrong */
    next_ok(s, 4);
    submit_ok(s, "B", 5); /* Q1.3 wrong, the last submitted */
    next_ok(s, 6);
    assert_true(qti_test_session_ended(s));
    assert_true(outcome_num(s, "LAST") == 0.0);
    assert_true(outcome_num(s, "SECOND") == 0.0);
    qti_test_session_free(s);

    /* In the candidate's order: Q1.3 first, then back to Q1.1, submitted last. */
    s = start(l, 0);
    struct op_err e = {0};
    assert_int_equal(qti_test_session_jump(s, 2, 1, &e), 0);
    submit_ok(s, "B", 2);
    assert_int_equal(qti_test_session_jump(s, 0, 3, &e), 0);
    submit_ok(s, "A", 4);
    assert_int_equal(qti_test_session_finish(s, 5, &e), 0);
    assert_true(outcome_num(s, "LAST") == 1.0);
    qti_test_session_free(s);

    /* The order of submissions survives saving and restoring the session. */
    s = start(l, 0);
    submit_ok(s, "A", 1); /* Q1.1 right */
    assert_int_equal(qti_test_session_jump(s, 2, 2, &e), 0);
    submit_ok(s, "B", 3); /* Q1.3 wrong, last */
    json_t *saved = qti_test_session_save(s);
    qti_test_session_free(s);
    if (qti_test_session_restore(l->test, qti_loaded_lookup, l, saved, &s, &e) != 0)
        fail_msg("restore: %s", e.msg);
    json_decref(saved);
    assert_int_equal(qti_test_session_finish(s, 4, &e), 0);
    assert_true(outcome_num(s, "LAST") == 0.0);
    qti_test_session_free(s);
    qti_loaded_free(l);
}

/* An item with a right-or-wrong RESPONSE (correct A) and a free-text COMMENT that has no
 * correct response. */
static const char commented_item[] =
    "<assessmentItem " NS " identifier=\"C\" title=\"C\" adaptive=\"false\" "
    "timeDependent=\"false\">"
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"identifier\">"
    "<correctResponse><value>A</value></correctResponse></responseDeclaration>"
    "<responseDeclaration identifier=\"COMMENT\" cardinality=\"single\" baseType=\"string\"/>"
    "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\"/>"
    "<itemBody><choiceInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"1\">"
    "<simpleChoice identifier=\"A\">a</simpleChoice>"
    "<simpleChoice identifier=\"B\">b</simpleChoice></choiceInteraction>"
    "<extendedTextInteraction responseIdentifier=\"COMMENT\"/></itemBody>"
    "<responseProcessing template=\"http://www.imsglobal.org/question/qti_v2p1/"
    "rptemplates/match_correct\"/></assessmentItem>";

static const char counting_test[] =
    "<assessmentTest " NS " identifier=\"T\">"
    "<outcomeDeclaration identifier=\"NCORRECT\" cardinality=\"single\" baseType=\"integer\"/>"
    "<outcomeDeclaration identifier=\"NINCORRECT\" cardinality=\"single\" "
    "baseType=\"integer\"/>" PART_OPEN("linear", "individual") SECTION_OPEN REF(
        "Q1") "<assessmentItemRef identifier=\"Q2\" href=\"C.xml\"/>" CLOSE "<outcomeProcessing>"
              "<setOutcomeValue identifier=\"NCORRECT\"><numberCorrect/></setOutcomeValue>"
              "<setOutcomeValue identifier=\"NINCORRECT\"><numberIncorrect/></setOutcomeValue>"
              "</outcomeProcessing></assessmentTest>";

/* QTI 2.1 numberCorrect / numberIncorrect: "Only items for which all declared response
 * variables have correct responses defined are considered." */
static void test_number_correct_and_incorrect_skip_items_without_all_correct_responses(void **state)
{
    (void)state;
    const char *const extra[] = {"C.xml", commented_item, NULL};
    struct qti_loaded *l = load_with(counting_test, extra);
    struct op_err e = {0};
    static const char *const answers[] = {"A", "B"};
    for (int i = 0; i < 2; i++) {
        struct qti_test_session *s = start(l, 0);
        submit_ok(s, answers[i], 1);
        next_ok(s, 2);
        json_t *r = json_pack("{s:s, s:s}", "RESPONSE", answers[i], "COMMENT", "why not");
        assert_int_equal(qti_test_session_submit(s, r, 3, NULL, &e), 0);
        json_decref(r);
        next_ok(s, 4);
        assert_true(qti_test_session_ended(s));
        /* Q2 is scored (match_correct) but is neither correct nor incorrect. */
        assert_true(num(item_var(s, 1, "SCORE")) == (i == 0 ? 1.0 : 0.0));
        assert_true(outcome_num(s, "NCORRECT") == (i == 0 ? 1 : 0));
        assert_true(outcome_num(s, "NINCORRECT") == (i == 0 ? 0 : 1));
        qti_test_session_free(s);
    }
    qti_loaded_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_linear_part_refuses_moving_on_unanswered_item_without_skipping, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_max_attempts_bounds_submissions_and_nonlinear_allows_going_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nonlinear_jump_and_previous, setup, teardown),
        cmocka_unit_test_setup_teardown(test_branch_rule_skips_to_target_when_true, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_branch_rule_false_and_precondition_true_follow_the_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_test_branch_ends_the_test, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_item_time_limits_refuse_late_submission_and_early_leaving, setup, teardown),
        cmocka_unit_test_setup_teardown(test_test_max_time_over_ends_the_test_on_next, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_simultaneous_part_scores_when_the_part_ends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_outcome_processing_counts_item_subsets_and_applies_weights, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submit_failing_in_outcome_processing_changes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_saved_session_resumes_where_it_was, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_refuses_state_of_another_test, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_compiled_package_is_deterministic_and_loads_back,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_variable_mapping_renames_item_variable_in_outcome_processing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_variable_mapping_of_undeclared_variable_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_template_default_overrides_template_variable_default,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_template_default_of_unknown_template_variable_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nonlinear_part_branch_rule_chooses_next_part, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_repeated_item_variable_comes_from_last_instance_submitted, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_number_correct_and_incorrect_skip_items_without_all_correct_responses, setup,
            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
