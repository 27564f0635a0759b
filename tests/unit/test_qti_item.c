/* test_qti_item.c - assessmentItem parsing, the render/scoring split, loading from JSON, and
 * item sessions (attempts, adaptive items, feedback, templates), on the fixtures in
 * tests/fixtures/qti/items written from the QTI 2.1/2.2 information model. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "qti/item.h"
#include "qti/item_session.h"
#include "qti/package.h"

static char *fixture_path(const char *name)
{
    const char *src = getenv("OUTPOST_SOURCE");
    char *p = NULL;
    if (asprintf(&p, "%s/tests/fixtures/qti/items/%s", src ? src : ".", name) < 0)
        abort();
    return p;
}

/* Parses a fixture; NULL with `e` filled when the parser refuses it. */
static struct qti_item *parse_fixture(const char *name, struct op_err *e)
{
    char *path = fixture_path(name);
    char *data;
    size_t len;
    if (fs_read_file(path, 1 << 20, &data, &len, e) != 0)
        fail_msg("%s", e->msg);
    free(path);
    char href[256];
    snprintf(href, sizeof href, "items/%s", name);
    struct qti_item *item = NULL;
    qti_item_parse(href, data, len, NULL, &item, e);
    free(data);
    return item;
}

static struct qti_item *must_fixture(const char *name)
{
    struct op_err e = {0};
    struct qti_item *item = parse_fixture(name, &e);
    if (!item)
        fail_msg("parse %s: %s", name, e.msg);
    return item;
}

static struct qti_item_session *must_session(const struct qti_item *item, uint64_t seed)
{
    struct qti_item_session *s;
    struct op_err e = {0};
    if (qti_item_session_new(item, seed, &s, &e) != 0)
        fail_msg("session: %s", e.msg);
    return s;
}

/* Submits responses given as JSON text (validation off). */
static void must_submit(struct qti_item_session *s, const char *json)
{
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    if (!j)
        fail_msg("bad test JSON %s", json);
    struct qti_submit_opts o = {0, 1.5};
    struct op_err e = {0};
    if (qti_item_session_submit(s, j, &o, NULL, &e) != 0)
        fail_msg("submit %s: %s", json, e.msg);
    json_decref(j);
}

static double outcome_number(const struct qti_item_session *s, const char *id)
{
    json_t *v = qti_item_session_variable_json(s, id);
    if (!json_is_number(v))
        fail_msg("%s is not a number", id);
    double d = json_number_value(v);
    json_decref(v);
    return d;
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
}

static void test_item_parses_qti22_and_collects_assets(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("feedback_22.xml");
    assert_string_equal(qti_item_identifier(item), "fb22");
    assert_int_equal(qti_item_stylesheet_count(item), 1);
    assert_string_equal(qti_item_stylesheet(item, 0), "items/style/colours.css");
    const struct qti_assets *a = qti_item_assets(item);
    int found = 0;
    for (size_t i = 0; i < a->count; i++)
        found += strcmp(a->paths[i], "items/img/wheel.png") == 0;
    assert_int_equal(found, 1);
    assert_int_equal(qti_item_interaction_count(item), 1);
    assert_non_null(qti_item_interaction_for(item, "RESPONSE"));
    assert_non_null(qti_item_decl(item, "completionStatus"));
    qti_item_free(item);
}

static void test_render_model_has_no_correct_response(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("feedback_22.xml");
    json_t *render, *scoring;
    struct op_err e = {0};
    assert_int_equal(qti_item_compile(item, &render, &scoring, &e), 0);
    char *r = dump(render);
    assert_null(strstr(r, "correctResponse"));
    assert_null(strstr(r, "mapping"));
    assert_null(strstr(r, "mapKey"));
    assert_null(strstr(r, "responseProcessing"));
    assert_null(strstr(r, "SECRET")); /* no feedback content, no scorer rubric */
    assert_non_null(strstr(r, "data-qti-interaction=\\\"RESPONSE\\\""));
    assert_non_null(strstr(r, "data-qti-feedback=\\\"fb1\\\""));
    char *s = dump(scoring);
    assert_non_null(strstr(s, "SECRET BLOCK"));
    assert_non_null(strstr(s, "correctResponse"));
    free(r);
    free(s);
    json_decref(render);
    json_decref(scoring);
    qti_item_free(item);
}

static void test_render_model_drops_script_and_scorer_rubric(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("feedback_22.xml");
    const char *body = qti_item_body_html(item);
    assert_null(strstr(body, "script"));
    assert_null(strstr(body, "onclick"));
    assert_null(strstr(body, "javascript"));
    assert_null(strstr(body, "SCORER"));
    assert_non_null(strstr(body, "Choose every primary colour."));
    assert_non_null(strstr(body, "<img src=\"items/img/wheel.png\" alt=\"colour wheel\"/>"));
    qti_item_free(item);
}

static void test_compile_is_deterministic(void **state)
{
    (void)state;
    char *first[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        struct qti_item *item = must_fixture("feedback_22.xml");
        json_t *render, *scoring;
        struct op_err e = {0};
        assert_int_equal(qti_item_compile(item, &render, &scoring, &e), 0);
        char *r = dump(render), *s = dump(scoring);
        char *both = NULL;
        if (asprintf(&both, "%s\n%s", r, s) < 0)
            abort();
        first[k] = both;
        free(r);
        free(s);
        json_decref(render);
        json_decref(scoring);
        qti_item_free(item);
    }
    assert_string_equal(first[0], first[1]);
    free(first[0]);
    free(first[1]);
}

/* Compiles, serialises, parses the JSON text back and loads: what a device does. */
static struct qti_item *round_trip(const struct qti_item *item)
{
    json_t *render, *scoring;
    struct op_err e = {0};
    assert_int_equal(qti_item_compile(item, &render, &scoring, &e), 0);
    char *r = dump(render), *s = dump(scoring);
    json_decref(render);
    json_decref(scoring);
    json_error_t jerr;
    render = json_loads(r, 0, &jerr);
    scoring = json_loads(s, 0, &jerr);
    struct qti_item *back = NULL;
    if (qti_item_load(render, scoring, &back, &e) != 0)
        fail_msg("load: %s", e.msg);
    json_t *r2, *s2;
    assert_int_equal(qti_item_compile(back, &r2, &s2, &e), 0);
    char *rr = dump(r2), *ss = dump(s2);
    assert_string_equal(r, rr); /* loading loses nothing */
    assert_string_equal(s, ss);
    free(r);
    free(s);
    free(rr);
    free(ss);
    json_decref(render);
    json_decref(scoring);
    json_decref(r2);
    json_decref(s2);
    return back;
}

static void test_loaded_item_scores_like_the_parsed_one(void **state)
{
    (void)state;
    const char *fixtures[] = {"feedback_22.xml", "graphic_associate.xml", "template_block.xml",
                              "adaptive_retry.xml"};
    const char *answers[] = {"{\"RESPONSE\": [\"R\", \"B\"]}", "{\"RESPONSE\": [\"B A\"]}",
                             "{\"RESPONSE\": 8}", "{\"RESPONSE\": \"P\"}"};
    for (size_t i = 0; i < 4; i++) {
        struct qti_item *item = must_fixture(fixtures[i]);
        struct qti_item *loaded = round_trip(item);
        struct qti_item_session *a = must_session(item, 4), *b = must_session(loaded, 4);
        must_submit(a, answers[i]);
        must_submit(b, answers[i]);
        json_t *oa = qti_item_session_outcomes_json(a), *ob = qti_item_session_outcomes_json(b);
        char *sa = dump(oa), *sb = dump(ob);
        assert_string_equal(sa, sb);
        free(sa);
        free(sb);
        json_decref(oa);
        json_decref(ob);
        qti_item_session_free(a);
        qti_item_session_free(b);
        qti_item_free(loaded);
        qti_item_free(item);
    }
}

static void test_feedback_visibility_follows_outcomes(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("feedback_22.xml");
    struct qti_item_session *s = must_session(item, 1);
    /* fb0: inline R (show), fb1: block DONE (hide), fb2: block FULL (show), fb3: modal FULL */
    assert_false(qti_item_session_feedback_visible(s, "fb0"));
    assert_true(qti_item_session_feedback_visible(s, "fb1")); /* hidden only once DONE */
    assert_false(qti_item_session_feedback_visible(s, "fb2"));
    assert_false(qti_item_session_feedback_visible(s, "fb3"));
    /* the printedVariable inside hidden feedback is not sent either */
    json_t *before = qti_item_session_view(s, 1);
    assert_null(json_object_get(json_object_get(before, "printed"), "pv0"));
    json_decref(before);

    must_submit(s, "{\"RESPONSE\": [\"R\", \"P\"]}");
    assert_true(outcome_number(s, "SCORE") == 0.0); /* 1 + (-1), lowerBound 0 */
    assert_true(qti_item_session_feedback_visible(s, "fb0"));
    assert_false(qti_item_session_feedback_visible(s, "fb1"));
    assert_false(qti_item_session_feedback_visible(s, "fb2"));
    assert_false(qti_item_session_feedback_visible(s, "fb3"));

    must_submit(s, "{\"RESPONSE\": [\"B\", \"R\"]}");
    assert_true(outcome_number(s, "SCORE") == 2.0);
    assert_true(qti_item_session_feedback_visible(s, "fb2"));
    assert_true(qti_item_session_feedback_visible(s, "fb3"));
    json_t *view = qti_item_session_view(s, 1);
    const char *fb2 = json_string_value(json_object_get(json_object_get(view, "feedback"), "fb2"));
    assert_non_null(fb2);
    assert_non_null(strstr(fb2, "SECRET BLOCK"));
    assert_non_null(strstr(fb2, "data-qti-printed=\"pv0\""));
    assert_string_equal(json_string_value(json_object_get(json_object_get(view, "printed"), "pv0")),
                        "2.0");
    json_t *modal = json_object_get(view, "modal");
    assert_int_equal(json_array_size(modal), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(modal, 0), "title")),
                        "Well done");
    assert_int_equal(json_array_size(json_object_get(json_object_get(view, "order"), "RESPONSE")),
                     4);
    json_decref(view);

    /* showFeedback false: nothing of the feedback is sent */
    view = qti_item_session_view(s, 0);
    assert_int_equal(json_object_size(json_object_get(view, "feedback")), 0);
    assert_int_equal(json_array_size(json_object_get(view, "modal")), 0);
    json_decref(view);
    qti_item_session_free(s);
    qti_item_free(item);
}

static void test_submit_refuses_response_that_does_not_fit_its_declaration(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("feedback_22.xml");
    struct qti_item_session *s = must_session(item, 1);
    json_t *bad = json_pack("{s:i}", "RESPONSE", 3);
    struct op_err e = {0};
    assert_int_equal(qti_item_session_submit(s, bad, NULL, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "fb22"));
    assert_non_null(strstr(e.msg, "RESPONSE"));
    json_decref(bad);
    bad = json_pack("{s:s}", "ANSWER", "R");
    assert_int_equal(qti_item_session_submit(s, bad, NULL, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "item fb22: ANSWER is not a response variable"));
    json_decref(bad);
    assert_int_equal(qti_item_session_num_attempts(s), 0);
    qti_item_session_free(s);
    qti_item_free(item);
}

static void test_validate_responses_refuses_invalid_answers_with_reasons(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("feedback_22.xml");
    struct qti_item_session *s = must_session(item, 1);
    json_t *three = json_pack("{s:[sss]}", "RESPONSE", "R", "B", "P");
    struct qti_submit_opts validate = {1, 0};
    json_t *invalid = NULL;
    struct op_err e = {0};
    assert_int_equal(qti_item_session_submit(s, three, &validate, &invalid, &e), OP_EINPUT);
    assert_non_null(invalid);
    json_t *first = json_array_get(invalid, 0);
    assert_string_equal(json_string_value(json_object_get(first, "response")), "RESPONSE");
    assert_string_equal(json_string_value(json_object_get(first, "rule")), "maxChoices");
    assert_string_equal(json_string_value(json_object_get(first, "message")),
                        "Select at most 2 answers.");
    assert_int_equal(qti_item_session_num_attempts(s), 0);
    json_decref(invalid);

    /* without validateResponses the same answer is scored: 1 + 1 - 1 */
    struct qti_submit_opts lax = {0, 0};
    assert_int_equal(qti_item_session_submit(s, three, &lax, &invalid, &e), 0);
    assert_true(outcome_number(s, "SCORE") == 1.0);
    json_decref(three);
    qti_item_session_free(s);
    qti_item_free(item);
}

/* QTI 2.1 numberCorrect/numberIncorrect: an item is judged only when every declared response
 * variable has a correct response; a free-text comment beside a choice has none. */
static void test_item_with_response_without_correct_response_is_not_judgeable(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("choice_with_comment.xml");
    struct qti_item_session *s = must_session(item, 1);
    must_submit(s, "{\"RESPONSE\": \"A\", \"COMMENT\": \"easy\"}");
    assert_false(qti_item_session_is_judgeable(s));
    assert_false(qti_item_session_is_correct(s));
    assert_true(outcome_number(s, "SCORE") == 1.0); /* still scored by match_correct */
    qti_item_session_free(s);
    qti_item_free(item);
}

static void test_non_adaptive_item_counts_attempts_and_duration(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("feedback_22.xml");
    struct qti_item_session *s = must_session(item, 1);
    assert_string_equal(qti_item_session_completion_status(s), "not_attempted");
    assert_false(qti_item_session_is_presented(s));
    qti_item_session_present(s);
    assert_string_equal(qti_item_session_completion_status(s), "unknown");
    must_submit(s, "{}");
    assert_string_equal(qti_item_session_completion_status(s), "completed");
    assert_false(qti_item_session_is_responded(s));
    assert_false(qti_item_session_is_correct(s));
    assert_true(qti_item_session_is_judgeable(s));
    must_submit(s, "{\"RESPONSE\": [\"R\", \"B\"]}");
    assert_int_equal(qti_item_session_num_attempts(s), 2);
    assert_true(qti_item_session_duration(s) == 3.0);
    assert_true(qti_item_session_is_responded(s));
    assert_true(qti_item_session_is_correct(s));
    assert_true(outcome_number(s, "numAttempts") == 2);
    json_t *o = qti_item_session_outcomes_json(s);
    assert_string_equal(json_string_value(json_object_get(o, "completionStatus")), "completed");
    assert_true(json_number_value(json_object_get(o, "SCORE")) == 2.0);
    json_decref(o);
    qti_item_session_free(s);
    qti_item_free(item);
}

/* A failed submission leaves the session byte-identical: attempts, duration, responses,
 * outcomes, completion status and the random stream. */
static void test_submit_failing_in_response_processing_changes_nothing(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("rp_fails_late.xml");
    struct qti_item_session *s = must_session(item, 7);
    qti_item_session_present(s);
    must_submit(s, "{}"); /* RESPONSE is NULL: sum gives NULL, no failure */
    assert_true(outcome_number(s, "SCORE") == 1.0);
    json_t *saved = qti_item_session_save(s);
    char *before = dump(saved);
    json_decref(saved);

    json_t *r = json_pack("{s:s}", "RESPONSE", "B");
    struct qti_submit_opts o = {0, 4.0};
    struct op_err e = {0};
    assert_int_equal(qti_item_session_submit(s, r, &o, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "item failslate: responseProcessing"));
    assert_non_null(strstr(e.msg, "sum"));
    saved = qti_item_session_save(s);
    char *after = dump(saved);
    json_decref(saved);
    assert_string_equal(after, before);
    assert_int_equal(qti_item_session_num_attempts(s), 1);
    assert_string_equal(qti_item_session_completion_status(s), "completed");

    /* The session still works: a later good submission is counted from the old state. */
    must_submit(s, "{}");
    assert_int_equal(qti_item_session_num_attempts(s), 2);
    free(before);
    free(after);
    json_decref(r);
    qti_item_session_free(s);
    qti_item_free(item);
}

static void test_adaptive_item_completes_itself_and_refuses_more_attempts(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("adaptive_retry.xml");
    struct qti_item_session *s = must_session(item, 1);
    must_submit(s, "{\"RESPONSE\": \"L\"}");
    assert_string_equal(qti_item_session_completion_status(s), "incomplete");
    assert_true(outcome_number(s, "SCORE") == 0.0);
    json_t *view = qti_item_session_view(s, 1);
    assert_int_equal(json_array_size(json_object_get(view, "modal")), 1);
    json_decref(view);
    must_submit(s, "{\"RESPONSE\": \"P\"}");
    assert_string_equal(qti_item_session_completion_status(s), "completed");
    assert_true(outcome_number(s, "SCORE") == 0.5); /* right on the second attempt */
    struct op_err e = {0};
    assert_int_equal(qti_item_session_submit(s, NULL, NULL, NULL, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "retry"));
    qti_item_session_free(s);

    s = must_session(item, 1);
    must_submit(s, "{\"RESPONSE\": \"P\"}");
    assert_true(outcome_number(s, "SCORE") == 1.0); /* right at once */
    qti_item_session_free(s);
    qti_item_free(item);
}

static void test_template_processing_keeps_its_constraint_and_sets_correct(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("template_block.xml");
    int saw_four = 0, saw_other = 0;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        struct qti_item_session *s = must_session(item, seed);
        double n = outcome_number(s, "N");
        assert_true(n >= 2 && n <= 8 && (int)n % 2 == 0);
        json_t *view = qti_item_session_view(s, 1);
        char expect[16];
        snprintf(expect, sizeof expect, "%d", (int)n);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(view, "printed"), "pv0")), expect);
        int shown = json_is_true(json_object_get(json_object_get(view, "templates"), "tb0"));
        assert_int_equal(shown, (int)n == 4);
        saw_four |= shown;
        saw_other |= !shown;
        json_decref(view);
        char answer[64];
        snprintf(answer, sizeof answer, "{\"RESPONSE\": %d}", 2 * (int)n);
        must_submit(s, answer);
        assert_true(outcome_number(s, "SCORE") == 1.0);
        assert_true(qti_item_session_is_correct(s));
        qti_item_session_free(s);
    }
    assert_true(saw_four && saw_other);
    /* same seed, same template values */
    struct qti_item_session *a = must_session(item, 77), *b = must_session(item, 77);
    assert_true(outcome_number(a, "N") == outcome_number(b, "N"));
    qti_item_session_free(a);
    qti_item_session_free(b);
    qti_item_free(item);
}

static void test_graphic_associate_reads_hotspots_and_scores_pairs(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("graphic_associate.xml");
    const struct qti_interaction *it = qti_item_interaction_for(item, "RESPONSE");
    assert_int_equal(it->kind, QTI_INTERACTION_GRAPHIC_ASSOCIATE);
    assert_int_equal(it->nchoices, 4);
    assert_int_equal(it->choices[2].ncoords, 6);
    assert_string_equal(it->object_data, "items/map.png");
    struct qti_item_session *s = must_session(item, 1);
    must_submit(s, "{\"RESPONSE\": [\"B A\", \"D C\"]}"); /* pairs are unordered */
    assert_true(outcome_number(s, "SCORE") == 2.0);
    must_submit(s, "{\"RESPONSE\": [\"A C\"]}");
    assert_true(outcome_number(s, "SCORE") == 0.0);
    qti_item_session_free(s);
    qti_item_free(item);
}

static void test_session_save_and_restore_resume_where_it_was(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("template_block.xml");
    struct qti_item_session *s = must_session(item, 9);
    qti_item_session_present(s);
    json_t *saved = qti_item_session_save(s);
    char *text = dump(saved);
    json_decref(saved);
    json_error_t jerr;
    saved = json_loads(text, 0, &jerr);
    free(text);
    struct qti_item_session *r;
    struct op_err e = {0};
    if (qti_item_session_restore(item, saved, &r, &e) != 0)
        fail_msg("restore: %s", e.msg);
    json_decref(saved);
    double n = outcome_number(r, "N");
    assert_true(n == outcome_number(s, "N"));
    char answer[64];
    snprintf(answer, sizeof answer, "{\"RESPONSE\": %d}", 2 * (int)n);
    must_submit(r, answer); /* the restored correct response still applies */
    assert_true(outcome_number(r, "SCORE") == 1.0);
    qti_item_session_free(r);
    qti_item_session_free(s);
    qti_item_free(item);
}

static void test_unsupported_interaction_is_refused_naming_it_and_the_item(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_null(parse_fixture("upload.xml", &e));
    assert_non_null(strstr(e.msg, "items/upload.xml"));
    assert_non_null(
        strstr(e.msg, "unsupported interaction handwritingInteraction in item essayUpload"));
}

static void test_interaction_bound_to_undeclared_response_is_refused(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_null(parse_fixture("unbound.xml", &e));
    assert_non_null(strstr(e.msg, "items/unbound.xml line 7"));
    assert_non_null(strstr(e.msg, "RESPONS, which is not a declared response variable"));
}

static void test_item_refuses_unknown_qti_version(void **state)
{
    (void)state;
    const char *x = "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v3p0\" "
                    "identifier=\"x\" title=\"x\"/>";
    struct qti_item *item = NULL;
    struct op_err e = {0};
    assert_int_equal(qti_item_parse("items/x.xml", x, strlen(x), NULL, &item, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "items/x.xml line 1"));
    assert_non_null(strstr(e.msg, "unknown QTI version"));
}

/* ---- shared stimuli (xi:include) and declarations, through the package ---- */

#define QTI_NS "xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\""
#define XI_NS  "xmlns:xi=\"http://www.w3.org/2001/XInclude\""

static const char pkg_manifest[] =
    "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\"><resources>"
    "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\">"
    "<file href=\"test.xml\"/></resource></resources></manifest>";

/* An item at items/q/item.xml whose body holds `body`. */
static char *item_with_body(const char *body)
{
    char *s = NULL;
    if (asprintf(&s,
                 "<assessmentItem " QTI_NS " " XI_NS " identifier=\"Q\" title=\"q\" "
                 "adaptive=\"false\" timeDependent=\"false\">\n"
                 "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" "
                 "baseType=\"identifier\"/>\n"
                 "<itemBody>\n%s\n<choiceInteraction responseIdentifier=\"RESPONSE\" "
                 "maxChoices=\"1\"><simpleChoice identifier=\"A\">a</simpleChoice>"
                 "</choiceInteraction></itemBody></assessmentItem>",
                 body) < 0)
        abort();
    return s;
}

/* Parses items/q/item.xml of a package holding it, `extra` files (name, content pairs,
 * NULL-terminated) and an image at shared/img/logo.png; NULL with `e` filled if refused. */
static struct qti_item *parse_in_package(const char *item, const char *const *extra,
                                         struct op_err *e)
{
    struct qti_file files[16] = {
        {(char *)"imsmanifest.xml", (unsigned char *)pkg_manifest, sizeof pkg_manifest - 1},
        {(char *)"test.xml", (unsigned char *)"<x/>", 4},
        {(char *)"items/q/item.xml", (unsigned char *)item, strlen(item)},
        {(char *)"shared/img/logo.png", (unsigned char *)"PNG", 3},
    };
    size_t n = 4;
    for (size_t i = 0; extra && extra[i]; i += 2)
        files[n++] = (struct qti_file){(char *)extra[i], (unsigned char *)extra[i + 1],
                                       strlen(extra[i + 1])};
    struct qti_package *p = NULL;
    if (qti_package_from_files("p.zip", files, n, NULL, &p, e) != 0)
        fail_msg("package: %s", e->msg);
    struct qti_item *it = NULL;
    qti_item_parse_package(p, "items/q/item.xml", NULL, &it, e);
    qti_package_free(p);
    return it;
}

static int has_asset(const struct qti_item *item, const char *path)
{
    const struct qti_assets *a = qti_item_assets(item);
    for (size_t i = 0; a && i < a->count; i++)
        if (strcmp(a->paths[i], path) == 0)
            return 1;
    return 0;
}

static void test_shared_stimulus_is_included_with_its_asset_paths_rebased(void **state)
{
    (void)state;
    char *item = item_with_body("<xi:include href=\"../../shared/stim.xml\"/>");
    const char *const extra[] = {"shared/stim.xml",
                                 "<div " QTI_NS "><p>Read this.</p><img src=\"img/logo.png\" "
                                 "alt=\"logo\"/><img src=\"../../outside.png\" alt=\"x\"/></div>",
                                 NULL};
    struct op_err e = {0};
    struct qti_item *it = parse_in_package(item, extra, &e);
    if (!it)
        fail_msg("%s", e.msg);
    const char *body = qti_item_body_html(it);
    assert_non_null(strstr(body, "<p>Read this.</p>"));
    assert_non_null(strstr(body, "src=\"shared/img/logo.png\""));
    assert_true(has_asset(it, "shared/img/logo.png"));
    /* a URL that climbs out of the archive from the stimulus is dropped, not read from the
     * item's folder (where it would name items/outside.png) */
    assert_null(strstr(body, "outside.png"));
    assert_int_equal(qti_item_assets(it)->count, 1);
    qti_item_free(it);
    free(item);
}

/* Links of a shared stimulus to pages the package lacks are made inert when it is included,
 * and the warning names the stimulus's own file and line; a link to a page of the package
 * stays, rebased; the item's own links follow its stimuli's. */
static void test_shared_stimulus_links_to_absent_pages_are_warned_of_in_its_file(void **state)
{
    (void)state;
    char *item = item_with_body("<xi:include href=\"../../shared/stim.xml\"/>\n"
                                "<p><a href=\"gone.html\">mine</a></p>");
    const char *const extra[] = {"shared/stim.xml",
                                 "<div " QTI_NS ">\n<p><a href=\"img/logo.png\">logo</a></p>\n"
                                 "<p><a href=\"https://example.org/\">web</a></p>\n"
                                 "<p><a href=\"notes.html\">notes</a><a href=\"#x\">x</a></p>\n"
                                 "</div>",
                                 NULL};
    struct op_err e = {0};
    struct qti_item *it = parse_in_package(item, extra, &e);
    if (!it)
        fail_msg("%s", e.msg);
    const char *body = qti_item_body_html(it);
    assert_non_null(strstr(body, "<a href=\"shared/img/logo.png\">logo</a>"));
    assert_non_null(strstr(body, "<a>web</a>"));
    assert_non_null(strstr(body, "<a>notes</a><a href=\"#x\">x</a>"));
    assert_non_null(strstr(body, "<a>mine</a>"));
    const struct qti_warnings *w = qti_item_warnings(it);
    assert_int_equal(w->count, 3);
    assert_string_equal(w->msgs[0], "shared/stim.xml line 3: the link to \"https://example.org/\" "
                                    "was made inert (its text is kept): it points out of the "
                                    "package, and tests are delivered offline");
    assert_string_equal(w->msgs[1], "shared/stim.xml line 4: the link to \"notes.html\" was "
                                    "made inert (its text is kept): shared/notes.html is not in "
                                    "the archive");
    assert_string_equal(w->msgs[2], "items/q/item.xml line 5: the link to \"gone.html\" was "
                                    "made inert (its text is kept): items/q/gone.html is not in "
                                    "the archive");
    qti_item_free(it);
    free(item);
}

static void test_qti22_assessment_stimulus_brings_its_stimulus_body(void **state)
{
    (void)state;
    char *item = item_with_body("<xi:include href=\"../../shared/stim.xml\"/>");
    const char *const extra[] = {
        "shared/stim.xml",
        "<assessmentStimulus xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p2\" identifier=\"S\" "
        "title=\"s\"><stimulusBody><p>First.</p><p>Second.</p></stimulusBody>"
        "</assessmentStimulus>",
        NULL};
    struct op_err e = {0};
    struct qti_item *it = parse_in_package(item, extra, &e);
    if (!it)
        fail_msg("%s", e.msg);
    assert_non_null(strstr(qti_item_body_html(it), "<p>First.</p><p>Second.</p>"));
    assert_null(strstr(qti_item_body_html(it), "stimulusBody"));
    qti_item_free(it);
    free(item);
}

static void test_include_outside_the_archive_is_refused(void **state)
{
    (void)state;
    char *item = item_with_body("<xi:include href=\"../../../etc/passwd\"/>");
    struct op_err e = {0};
    assert_null(parse_in_package(item, NULL, &e));
    assert_non_null(strstr(e.msg, "items/q/item.xml line 4: xi:include: ../../../etc/passwd"));
    free(item);
    item = item_with_body("<xi:include href=\"/etc/passwd\"/>");
    assert_null(parse_in_package(item, NULL, &e));
    assert_non_null(strstr(e.msg, "items/q/item.xml line 4: xi:include"));
    free(item);
}

static void test_include_of_a_missing_file_is_refused(void **state)
{
    (void)state;
    char *item = item_with_body("<xi:include href=\"../../shared/nope.xml\"/>");
    struct op_err e = {0};
    assert_null(parse_in_package(item, NULL, &e));
    assert_non_null(strstr(e.msg, "items/q/item.xml line 4: xi:include: shared/nope.xml is not "
                                  "in the archive"));
    free(item);
}

static void test_include_in_an_included_file_is_refused(void **state)
{
    (void)state;
    char *item = item_with_body("<xi:include href=\"../../shared/a.xml\"/>");
    const char *const extra[] = {"shared/a.xml",
                                 "<div " QTI_NS " " XI_NS ">\n<xi:include href=\"b.xml\"/></div>",
                                 "shared/b.xml", "<div " QTI_NS "/>", NULL};
    struct op_err e = {0};
    assert_null(parse_in_package(item, extra, &e));
    assert_non_null(strstr(e.msg, "shared/a.xml line 2: a shared stimulus may not include"));
    free(item);
}

static void test_include_refuses_text_parsing_and_xpointer(void **state)
{
    (void)state;
    char *item = item_with_body("<xi:include href=\"../../shared/a.xml\" parse=\"text\"/>");
    const char *const extra[] = {"shared/a.xml", "<div " QTI_NS "/>", NULL};
    struct op_err e = {0};
    assert_null(parse_in_package(item, extra, &e));
    assert_non_null(strstr(e.msg, "only parse=\"xml\""));
    free(item);
    item = item_with_body("<xi:include href=\"../../shared/a.xml\" xpointer=\"x\"/>");
    assert_null(parse_in_package(item, extra, &e));
    assert_non_null(strstr(e.msg, "xpointer is not supported"));
    free(item);
}

static void test_item_without_its_package_refuses_include(void **state)
{
    (void)state;
    char *item = item_with_body("<xi:include href=\"stim.xml\"/>");
    struct qti_item *it = NULL;
    struct op_err e = {0};
    assert_int_equal(qti_item_parse("items/q/item.xml", item, strlen(item), NULL, &it, &e),
                     OP_EINPUT);
    assert_null(it);
    assert_non_null(strstr(e.msg, "items/q/item.xml line 4: xi:include: a shared stimulus needs "
                                  "the item's package"));
    free(item);
}

/* Declarations: an attribute the QTI schema does not allow is refused by the declaration
 * parser itself, wherever the item comes from (TAO's NotValidableXmlItem sample). */
static void test_declaration_with_unknown_attribute_is_refused_naming_it(void **state)
{
    (void)state;
    const char *x = "<assessmentItem " QTI_NS " identifier=\"Q\" title=\"q\" adaptive=\"false\" "
                    "timeDependent=\"false\">\n<responseDeclaration identifier=\"RESPONSE\" "
                    "cardinality=\"single\" baseType=\"identifier\" myAttribute=\"v\"/>"
                    "</assessmentItem>";
    struct qti_item *it = NULL;
    struct op_err e = {0};
    assert_int_equal(qti_item_parse("items/x.xml", x, strlen(x), NULL, &it, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "items/x.xml"));
    assert_non_null(strstr(e.msg, "responseDeclaration RESPONSE line 2: unknown attribute "
                                  "\"myAttribute\""));
    /* an outcome attribute is not allowed on a response declaration */
    x = "<assessmentItem " QTI_NS " identifier=\"Q\" title=\"q\" adaptive=\"false\" "
        "timeDependent=\"false\"><responseDeclaration identifier=\"R\" cardinality=\"single\" "
        "baseType=\"identifier\" normalMaximum=\"1\"/></assessmentItem>";
    assert_int_equal(qti_item_parse("items/x.xml", x, strlen(x), NULL, &it, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "unknown attribute \"normalMaximum\""));
    /* the schema's attributes, and attributes in other namespaces, pass */
    x = "<assessmentItem " QTI_NS " xmlns:z=\"urn:z\" identifier=\"Q\" title=\"q\" "
        "adaptive=\"false\" timeDependent=\"false\"><outcomeDeclaration identifier=\"S\" "
        "cardinality=\"single\" baseType=\"float\" view=\"author\" interpretation=\"i\" "
        "longInterpretation=\"l\" normalMaximum=\"1\" normalMinimum=\"0\" masteryValue=\"1\" "
        "z:extra=\"1\"/><templateDeclaration identifier=\"T\" cardinality=\"single\" "
        "baseType=\"integer\" paramVariable=\"false\" mathVariable=\"true\"/></assessmentItem>";
    if (qti_item_parse("items/x.xml", x, strlen(x), NULL, &it, &e) != 0)
        fail_msg("%s", e.msg);
    qti_item_free(it);
}

/* endAttemptInteraction: a button whose single boolean response is true when the candidate
 * used it and false otherwise; with countAttempt="false" using it is no attempt. */
static void check_end_attempt(struct qti_item *item)
{
    struct qti_item_session *s = must_session(item, 3);
    qti_item_session_present(s);
    must_submit(s, "{\"HINT\": true}");
    json_t *v = qti_item_session_variable_json(s, "HINT");
    assert_true(json_is_true(v));
    json_decref(v);
    v = qti_item_session_variable_json(s, "FEEDBACK");
    assert_string_equal(json_string_value(v), "hint");
    json_decref(v);
    assert_int_equal(qti_item_session_num_attempts(s), 0);
    assert_string_not_equal(qti_item_session_completion_status(s), "completed");

    must_submit(s, "{\"RESPONSE\": \"B\"}");
    v = qti_item_session_variable_json(s, "HINT");
    assert_true(json_is_false(v)); /* not used this time: false, never NULL */
    json_decref(v);
    assert_int_equal(qti_item_session_num_attempts(s), 1);
    assert_true(outcome_number(s, "SCORE") == 1.0);
    assert_string_equal(qti_item_session_completion_status(s), "completed");
    qti_item_session_free(s);
}

static void test_end_attempt_interaction_sets_its_response_and_may_not_count(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("end_attempt_hint.xml");
    const struct qti_interaction *it = qti_item_interaction_for(item, "HINT");
    assert_non_null(it);
    assert_int_equal(it->kind, QTI_INTERACTION_END_ATTEMPT);
    assert_string_equal(it->title, "Show a hint");
    assert_false(it->count_attempt);
    assert_non_null(strstr(qti_item_body_html(item), "data-qti-interaction=\"HINT\""));
    check_end_attempt(item);
    /* a device loads it from the compiled JSON and behaves the same */
    struct qti_item *loaded = round_trip(item);
    check_end_attempt(loaded);
    qti_item_free(loaded);
    qti_item_free(item);
}

static void test_end_attempt_interaction_needs_a_boolean_and_a_title(void **state)
{
    (void)state;
    const char *x = "<assessmentItem " QTI_NS " identifier=\"Q\" title=\"q\" adaptive=\"false\" "
                    "timeDependent=\"false\"><responseDeclaration identifier=\"E\" "
                    "cardinality=\"single\" baseType=\"identifier\"/><itemBody><p>"
                    "<endAttemptInteraction responseIdentifier=\"E\" title=\"Done\"/></p>"
                    "</itemBody></assessmentItem>";
    struct qti_item *it = NULL;
    struct op_err e = {0};
    assert_int_equal(qti_item_parse("items/x.xml", x, strlen(x), NULL, &it, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "endAttemptInteraction"));
    x = "<assessmentItem " QTI_NS " identifier=\"Q\" title=\"q\" adaptive=\"false\" "
        "timeDependent=\"false\"><responseDeclaration identifier=\"E\" cardinality=\"single\" "
        "baseType=\"boolean\"/><itemBody><p><endAttemptInteraction responseIdentifier=\"E\"/>"
        "</p></itemBody></assessmentItem>";
    assert_int_equal(qti_item_parse("items/x.xml", x, strlen(x), NULL, &it, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "needs a title"));
}

static void test_load_refuses_models_of_different_items(void **state)
{
    (void)state;
    struct qti_item *a = must_fixture("feedback_22.xml"), *b = must_fixture("adaptive_retry.xml");
    json_t *ra, *sa, *rb, *sb;
    struct op_err e = {0};
    assert_int_equal(qti_item_compile(a, &ra, &sa, &e), 0);
    assert_int_equal(qti_item_compile(b, &rb, &sb, &e), 0);
    struct qti_item *x = NULL;
    assert_int_equal(qti_item_load(ra, sb, &x, &e), OP_EINPUT);
    assert_null(x);
    json_object_del(sa, "declarations");
    assert_int_equal(qti_item_load(ra, sa, &x, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "declarations"));
    json_decref(ra);
    json_decref(sa);
    json_decref(rb);
    json_decref(sb);
    qti_item_free(a);
    qti_item_free(b);
}

/* A compiled model whose feedback or template entry lacks a field is refused, and what the
 * entry had already read is freed (the sanitizer build fails the test on a leak). */
static void test_load_refuses_incomplete_feedback_and_template_entries(void **state)
{
    (void)state;
    const char *fixtures[2] = {"feedback_22.xml", "template_block.xml"};
    const char *lists[2] = {"feedback", "templates"};
    const char *fields[2] = {"html", "identifier"};
    const char *messages[2] = {"a feedback entry is incomplete", "a template entry is incomplete"};
    for (int k = 0; k < 2; k++) {
        struct qti_item *item = must_fixture(fixtures[k]);
        json_t *render, *scoring;
        struct op_err e = {0};
        assert_int_equal(qti_item_compile(item, &render, &scoring, &e), 0);
        json_t *entry = json_array_get(json_object_get(scoring, lists[k]), 0);
        assert_non_null(entry);
        assert_int_equal(json_object_del(entry, fields[k]), 0);
        struct qti_item *back = NULL;
        assert_int_equal(qti_item_load(render, scoring, &back, &e), OP_EINPUT);
        assert_null(back);
        assert_non_null(strstr(e.msg, messages[k]));
        json_decref(render);
        json_decref(scoring);
        qti_item_free(item);
    }
}

/* mediaInteraction: its response is the number of plays (a single integer, QTI 2.1), scored
 * like any other response; under validateResponses no response or fewer plays than minPlays
 * and more than maxPlays are refused, and the render model carries the play limits. */
static void test_media_interaction_scores_plays_and_validates_its_bounds(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("media_plays.xml");
    assert_int_equal(qti_item_interaction_count(item), 1);
    const struct qti_interaction *it = qti_item_interaction_for(item, "PLAYS");
    assert_int_equal(it->kind, QTI_INTERACTION_MEDIA);
    assert_string_equal(it->object_data, "items/media/talk.mp3");
    assert_int_equal(it->min_plays, 1);
    assert_int_equal(it->max_plays, 3);
    assert_int_equal(it->autostart, 1);
    assert_int_equal(it->loop, 1);

    struct qti_item_session *s = must_session(item, 1);
    struct qti_submit_opts validate = {1, 0};
    struct op_err e = {0};
    const struct {
        const char *json;
        const char *rule; /* NULL: accepted */
        const char *message;
        double score;
    } cases[] = {
        {"{}", "minPlays", "Play the media at least 1 time.", 0},
        {"{\"PLAYS\": 0}", "minPlays", "Play the media at least 1 time.", 0},
        {"{\"PLAYS\": 4}", "maxPlays", "The media can be played at most 3 times.", 0},
        {"{\"PLAYS\": 1}", NULL, NULL, 0},
        {"{\"PLAYS\": 2}", NULL, NULL, 1},
        {"{\"PLAYS\": 3}", NULL, NULL, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_error_t jerr;
        json_t *r = json_loads(cases[i].json, 0, &jerr);
        json_t *invalid = NULL;
        int rc = qti_item_session_submit(s, r, &validate, &invalid, &e);
        if (cases[i].rule) {
            assert_int_equal(rc, OP_EINPUT);
            json_t *first = json_array_get(invalid, 0);
            assert_string_equal(json_string_value(json_object_get(first, "rule")), cases[i].rule);
            assert_string_equal(json_string_value(json_object_get(first, "message")),
                                cases[i].message);
        } else {
            assert_int_equal(rc, 0);
            assert_null(invalid);
            assert_true(outcome_number(s, "SCORE") == cases[i].score);
        }
        json_decref(invalid);
        json_decref(r);
    }
    /* a play count that is not an integer does not fit the declaration */
    json_t *bad = json_pack("{s:s}", "PLAYS", "two");
    assert_int_equal(qti_item_session_submit(s, bad, &validate, NULL, &e), OP_EINPUT);
    json_decref(bad);
    qti_item_session_free(s);

    /* the render model carries the object and the play limits, nothing secret */
    json_t *model, *scoring;
    assert_int_equal(qti_item_compile(item, &model, &scoring, &e), 0);
    json_t *ij = json_array_get(json_object_get(model, "interactions"), 0);
    assert_string_equal(json_string_value(json_object_get(ij, "type")), "mediaInteraction");
    assert_int_equal(json_integer_value(json_object_get(ij, "minPlays")), 1);
    assert_int_equal(json_integer_value(json_object_get(ij, "maxPlays")), 3);
    assert_true(json_is_true(json_object_get(ij, "autostart")));
    assert_true(json_is_true(json_object_get(ij, "loop")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(ij, "object"), "data")),
                        "items/media/talk.mp3");
    json_decref(model);
    json_decref(scoring);
    qti_item_free(item);
}

/* Submits `json` with validateResponses on: 0 when accepted, else the first refusal's rule
 * and message copied to rule/message. */
static int submit_validated(struct qti_item_session *s, const char *json, char *rule, char *message)
{
    json_error_t jerr;
    json_t *r = json_loads(json, 0, &jerr);
    if (!r)
        fail_msg("bad test JSON %s", json);
    struct qti_submit_opts validate = {1, 0};
    json_t *invalid = NULL;
    struct op_err e = {0};
    int rc = qti_item_session_submit(s, r, &validate, &invalid, &e);
    if (rc != 0) {
        json_t *first = json_array_get(invalid, 0);
        if (!first)
            fail_msg("submit %s: %s", json, e.msg);
        snprintf(rule, 32, "%s", json_string_value(json_object_get(first, "rule")));
        snprintf(message, 256, "%s", json_string_value(json_object_get(first, "message")));
    }
    json_decref(invalid);
    json_decref(r);
    return rc;
}

/* graphicGapMatchInteraction: directedPair "GAPIMG HOTSPOT" scored by map_response with the
 * mapping's default and bounds (QTI 2.1: each distinct pair counted once, then lowerBound
 * and upperBound); the images are assets of the item; under validateResponses a hotspot
 * or an image over its matchMax, and a pair the wrong way round, are refused. */
static void test_graphic_gap_match_scores_pairs_by_mapping_and_validates(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("graphic_gap_match.xml");
    const struct qti_interaction *it = qti_item_interaction_for(item, "RESPONSE");
    assert_int_equal(it->kind, QTI_INTERACTION_GRAPHIC_GAP_MATCH);
    const char *want[] = {"items/img/europe.png", "items/img/fr.png", "items/img/es.png",
                          "items/img/it.png"};
    const struct qti_assets *a = qti_item_assets(item);
    for (size_t w = 0; w < 4; w++) {
        int found = 0;
        for (size_t i = 0; i < a->count; i++)
            found += strcmp(a->paths[i], want[w]) == 0;
        assert_int_equal(found, 1);
    }
    struct qti_item *loaded = round_trip(item);
    const struct {
        const char *json;
        double score;
    } scored[] = {
        {"{\"RESPONSE\": [\"FR ZF\", \"ES ZE\"]}", 2},            /* both right */
        {"{\"RESPONSE\": [\"FR ZF\", \"ES ZE\", \"IT ZI\"]}", 2}, /* 2.5, upperBound 2 */
        {"{\"RESPONSE\": [\"FR ZF\", \"IT ZI\"]}", 1.5},
        {"{\"RESPONSE\": [\"FR ZE\"]}", 0},                       /* -1, lowerBound 0 */
        {"{\"RESPONSE\": [\"FR ZE\", \"ES ZF\", \"IT ZI\"]}", 0}, /* -1 + 0 + 0.5 */
        {"{\"RESPONSE\": [\"IT ZF\"]}", 0},                       /* unmapped: defaultValue */
        {"{\"RESPONSE\": []}", 0},
        {"{}", 0},
    };
    for (size_t i = 0; i < sizeof scored / sizeof scored[0]; i++) {
        struct qti_item *items[] = {item, loaded};
        for (size_t k = 0; k < 2; k++) {
            struct qti_item_session *s = must_session(items[k], 1);
            must_submit(s, scored[i].json);
            if (outcome_number(s, "SCORE") != scored[i].score)
                fail_msg("%s: SCORE %g, want %g", scored[i].json, outcome_number(s, "SCORE"),
                         scored[i].score);
            qti_item_session_free(s);
        }
    }
    const struct {
        const char *json;
        const char *rule; /* NULL: accepted */
        const char *message;
    } checked[] = {
        {"{\"RESPONSE\": [\"FR ZF\", \"ES ZF\"]}", "matchMax",
         "\"France\" can hold at most 1 image."},
        {"{\"RESPONSE\": [\"FR ZF\", \"FR ZE\"]}", "matchMax",
         "\"FR\" can be used at most 1 time."},
        {"{\"RESPONSE\": [\"ZF FR\"]}", "choice", "\"ZF\" cannot be placed in \"FR\"."},
        {"{\"RESPONSE\": [\"DE ZF\"]}", "choice",
         "\"DE\" is not one of the answers you can choose."},
        {"{\"RESPONSE\": [\"IT ZI\", \"IT ZF\"]}", NULL, NULL},
        {"{}", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++) {
        struct qti_item_session *s = must_session(loaded, 1);
        char rule[32] = "", message[256] = "";
        int rc = submit_validated(s, checked[i].json, rule, message);
        if (checked[i].rule) {
            assert_int_equal(rc, OP_EINPUT);
            assert_string_equal(rule, checked[i].rule);
            assert_string_equal(message, checked[i].message);
        } else {
            assert_int_equal(rc, 0);
        }
        qti_item_session_free(s);
    }
    qti_item_free(loaded);
    qti_item_free(item);
}

/* positionObjectStage and positionObjectInteraction: the stage's image is an asset and each
 * interaction carries it (its points are in the stage's pixels); points are scored by
 * mapResponsePoint over rect, circle, poly, ellipse and default areas (each area counted once,
 * a point in no area takes the defaultValue, then the bounds); maxChoices/minChoices and points
 * off the stage are refused under validateResponses. */
static void test_position_object_scores_points_by_area_mapping_and_validates(void **state)
{
    (void)state;
    struct qti_item *item = must_fixture("position_object.xml");
    assert_int_equal(qti_item_interaction_count(item), 2);
    const struct qti_interaction *tents = qti_item_interaction_for(item, "TENTS");
    assert_int_equal(tents->kind, QTI_INTERACTION_POSITION_OBJECT);
    assert_string_equal(tents->object_data, "items/img/tent.png");
    assert_string_equal(tents->object_label, "A tent"); /* its name for screen readers */
    assert_string_equal(tents->stage_data, "items/img/campsite.png");
    assert_int_equal(tents->stage_width, 400);
    assert_int_equal(tents->stage_height, 300);
    assert_int_equal(tents->center_x, 16);
    assert_int_equal(tents->center_y, 24);
    assert_int_equal(tents->max_choices, 3);
    const struct qti_interaction *flag = qti_item_interaction_for(item, "FLAG");
    assert_string_equal(flag->stage_data, "items/img/campsite.png");
    assert_int_equal(flag->has_center, 0);
    const struct qti_assets *a = qti_item_assets(item);
    int found = 0;
    for (size_t i = 0; i < a->count; i++)
        found += strcmp(a->paths[i], "items/img/campsite.png") == 0 ||
                 strcmp(a->paths[i], "items/img/tent.png") == 0 ||
                 strcmp(a->paths[i], "items/img/flag.png") == 0;
    assert_int_equal(found, 3);

    /* the body holds one stage marker around the two interactions' markers */
    json_t *model, *scoring;
    struct op_err e = {0};
    assert_int_equal(qti_item_compile(item, &model, &scoring, &e), 0);
    const char *body = json_string_value(json_object_get(model, "body"));
    assert_non_null(strstr(body, "<div class=\"qti-positionObjectStage\" data-qti-stage=\"\">"
                                 "<div data-qti-interaction=\"TENTS\"></div>"
                                 "<div data-qti-interaction=\"FLAG\"></div></div>"));
    json_t *ij = json_array_get(json_object_get(model, "interactions"), 0);
    assert_string_equal(json_string_value(json_object_get(ij, "type")),
                        "positionObjectInteraction");
    json_t *cp = json_object_get(ij, "centerPoint");
    assert_int_equal(json_integer_value(json_array_get(cp, 0)), 16);
    assert_int_equal(json_integer_value(json_array_get(cp, 1)), 24);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ij, "stage"), "data")),
                        "items/img/campsite.png");
    char *text = json_dumps(model, 0);
    assert_null(strstr(text, "areaMapping")); /* nothing secret */
    free(text);
    json_decref(model);
    json_decref(scoring);

    struct qti_item *loaded = round_trip(item);
    const struct {
        const char *json;
        double score, flag;
    } scored[] = {
        {"{\"TENTS\": [\"60 60\", \"200 150\", \"330 240\"], \"FLAG\": \"200 150\"}", 3, 1},
        /* two tents in the rect: the area counts once */
        {"{\"TENTS\": [\"30 30\", \"90 90\"]}", 1, 0},
        /* edges are inside: the rect's corner, the poly's corner, the circle's rim */
        {"{\"TENTS\": [\"20 20\", \"380 280\", \"240 150\"]}", 3, 0},
        /* a tent in no area takes the defaultValue -0.5 */
        {"{\"TENTS\": [\"60 60\", \"5 5\"]}", 0.5, 0},
        {"{\"TENTS\": [\"5 5\"]}", 0, 0}, /* -0.5, lowerBound 0 */
        /* the ellipse (200,40 radii 60,20): inside at 255 40, outside at 200 61 */
        {"{\"TENTS\": [\"255 40\"]}", 0.5, 0},
        {"{\"TENTS\": [\"200 61\"]}", 0, 0},
        /* the default shape holds every point the circle before it does not */
        {"{\"FLAG\": \"0 0\"}", 0, 0.25},
        {"{\"FLAG\": \"205 155\"}", 0, 1},
        {"{}", 0, 0},
    };
    for (size_t i = 0; i < sizeof scored / sizeof scored[0]; i++) {
        struct qti_item *items[] = {item, loaded};
        for (size_t k = 0; k < 2; k++) {
            struct qti_item_session *s = must_session(items[k], 1);
            must_submit(s, scored[i].json);
            if (outcome_number(s, "SCORE") != scored[i].score ||
                outcome_number(s, "FLAG_SCORE") != scored[i].flag)
                fail_msg("%s: SCORE %g FLAG_SCORE %g, want %g %g", scored[i].json,
                         outcome_number(s, "SCORE"), outcome_number(s, "FLAG_SCORE"),
                         scored[i].score, scored[i].flag);
            qti_item_session_free(s);
        }
    }
    const struct {
        const char *json;
        const char *rule; /* NULL: accepted */
        const char *message;
    } checked[] = {
        {"{\"TENTS\": [\"1 1\", \"2 2\", \"3 3\", \"4 4\"]}", "maxChoices",
         "Place the image at most 3 times."},
        {"{\"TENTS\": []}", "minChoices", "Place the image at least 1 time."},
        {"{\"FLAG\": \"1 1\"}", "minChoices", "Place the image at least 1 time."},
        {"{\"TENTS\": [\"401 10\"]}", "point", "The image is placed outside the picture."},
        {"{\"TENTS\": [\"10 10\"], \"FLAG\": \"10 301\"}", "point",
         "The image is placed outside the picture."},
        {"{\"TENTS\": [\"400 300\"]}", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof checked / sizeof checked[0]; i++) {
        struct qti_item_session *s = must_session(loaded, 1);
        char rule[32] = "", message[256] = "";
        int rc = submit_validated(s, checked[i].json, rule, message);
        if (checked[i].rule) {
            assert_int_equal(rc, OP_EINPUT);
            assert_string_equal(rule, checked[i].rule);
            assert_string_equal(message, checked[i].message);
        } else {
            assert_int_equal(rc, 0);
        }
        qti_item_session_free(s);
    }
    qti_item_free(loaded);
    qti_item_free(item);
}

/* What the information model forbids around positionObjectStage is refused at import, naming
 * the file and line. */
#define OBJ "<object type=\"image/png\" data=\"o.png\"/>"
static void test_position_object_stage_refusals_name_file_and_line(void **state)
{
    (void)state;
    const char *head =
        "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"P\" "
        "title=\"P\" adaptive=\"false\" timeDependent=\"false\">\n"
        "<responseDeclaration identifier=\"R\" cardinality=\"single\" baseType=\"point\"/>\n"
        "<responseDeclaration identifier=\"M\" cardinality=\"multiple\" baseType=\"point\"/>\n"
        "<itemBody>\n";
    const struct {
        const char *body;
        const char *message;
    } cases[] = {
        {"<positionObjectInteraction responseIdentifier=\"R\"><object type=\"image/png\" "
         "data=\"o.png\"/></positionObjectInteraction>",
         "items/p.xml line 5: item P: positionObjectInteraction must be inside a "
         "positionObjectStage"},
        {"<positionObjectStage><positionObjectInteraction responseIdentifier=\"R\">" OBJ
         "</positionObjectInteraction></positionObjectStage>",
         "line 5: item P: positionObjectStage needs an object (the image the objects are placed "
         "on)"},
        {"<positionObjectStage><object type=\"image/png\" data=\"s.png\"/></positionObjectStage>",
         "positionObjectStage needs at least one positionObjectInteraction"},
        {"<positionObjectStage>\n<object type=\"image/png\" data=\"http://x.example/s.png\"/>"
         "<positionObjectInteraction responseIdentifier=\"R\">" OBJ "</positionObjectInteraction>"
         "</positionObjectStage>",
         "line 6: item P: the object of positionObjectStage needs a data path inside the package "
         "(got http://x.example/s.png)"},
        {"<positionObjectStage><object type=\"video/mp4\" data=\"s.mp4\"/>"
         "<positionObjectInteraction responseIdentifier=\"R\">" OBJ "</positionObjectInteraction>"
         "</positionObjectStage>",
         "the object of positionObjectStage must be an image (type video/mp4)"},
        {"<positionObjectStage><object type=\"image/png\" data=\"s.png\"/><p>text</p>"
         "<positionObjectInteraction responseIdentifier=\"R\">" OBJ "</positionObjectInteraction>"
         "</positionObjectStage>",
         "positionObjectStage holds one object and positionObjectInteractions only (found p)"},
        {"<positionObjectStage><object type=\"image/png\" data=\"s.png\"/>"
         "<positionObjectInteraction responseIdentifier=\"R\" maxChoices=\"2\">" OBJ
         "</positionObjectInteraction></positionObjectStage>",
         "positionObjectInteraction with maxChoices 2 must be bound to a response of multiple "
         "cardinality (R is single)"},
        {"<positionObjectStage><object type=\"image/png\" data=\"s.png\"/>"
         "<positionObjectInteraction responseIdentifier=\"R\" maxChoices=\"0\">" OBJ
         "</positionObjectInteraction></positionObjectStage>",
         "maxChoices 0 must be bound to a response of multiple cardinality"},
        {"<positionObjectStage><object type=\"image/png\" data=\"s.png\" width=\"wide\"/>"
         "<positionObjectInteraction responseIdentifier=\"R\">" OBJ "</positionObjectInteraction>"
         "</positionObjectStage>",
         "the object of positionObjectStage: width must be a whole number"},
        {"<positionObjectStage><object type=\"image/png\" data=\"s.png\"/>"
         "<positionObjectInteraction responseIdentifier=\"X\">" OBJ "</positionObjectInteraction>"
         "</positionObjectStage>",
         "positionObjectInteraction is bound to X, which is not a declared response variable"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *doc = NULL;
        if (asprintf(&doc, "%s%s\n</itemBody></assessmentItem>", head, cases[i].body) < 0)
            abort();
        struct qti_item *item = NULL;
        struct op_err e = {0};
        int rc = qti_item_parse("items/p.xml", doc, strlen(doc), NULL, &item, &e);
        free(doc);
        assert_null(item);
        assert_int_equal(rc, OP_EINPUT);
        if (!strstr(e.msg, cases[i].message))
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, e.msg, cases[i].message);
    }
    /* bound to a response of another base type */
    const char *wrong =
        "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"P\" "
        "title=\"P\" adaptive=\"false\" timeDependent=\"false\">"
        "<responseDeclaration identifier=\"R\" cardinality=\"single\" baseType=\"identifier\"/>"
        "<itemBody><positionObjectStage><object type=\"image/png\" data=\"s.png\"/>"
        "<positionObjectInteraction responseIdentifier=\"R\"><object type=\"image/png\" "
        "data=\"o.png\"/></positionObjectInteraction></positionObjectStage></itemBody>"
        "</assessmentItem>";
    struct qti_item *item = NULL;
    struct op_err e = {0};
    assert_int_equal(qti_item_parse("items/p.xml", wrong, strlen(wrong), NULL, &item, &e),
                     OP_EINPUT);
    assert_non_null(strstr(e.msg, "cannot be bound to R of base type identifier"));
}
#undef OBJ

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_parses_qti22_and_collects_assets),
        cmocka_unit_test(test_render_model_has_no_correct_response),
        cmocka_unit_test(test_render_model_drops_script_and_scorer_rubric),
        cmocka_unit_test(test_compile_is_deterministic),
        cmocka_unit_test(test_loaded_item_scores_like_the_parsed_one),
        cmocka_unit_test(test_feedback_visibility_follows_outcomes),
        cmocka_unit_test(test_submit_refuses_response_that_does_not_fit_its_declaration),
        cmocka_unit_test(test_validate_responses_refuses_invalid_answers_with_reasons),
        cmocka_unit_test(test_non_adaptive_item_counts_attempts_and_duration),
        cmocka_unit_test(test_item_with_response_without_correct_response_is_not_judgeable),
        cmocka_unit_test(test_submit_failing_in_response_processing_changes_nothing),
        cmocka_unit_test(test_adaptive_item_completes_itself_and_refuses_more_attempts),
        cmocka_unit_test(test_template_processing_keeps_its_constraint_and_sets_correct),
        cmocka_unit_test(test_graphic_associate_reads_hotspots_and_scores_pairs),
        cmocka_unit_test(test_session_save_and_restore_resume_where_it_was),
        cmocka_unit_test(test_unsupported_interaction_is_refused_naming_it_and_the_item),
        cmocka_unit_test(test_interaction_bound_to_undeclared_response_is_refused),
        cmocka_unit_test(test_item_refuses_unknown_qti_version),
        cmocka_unit_test(test_shared_stimulus_is_included_with_its_asset_paths_rebased),
        cmocka_unit_test(test_shared_stimulus_links_to_absent_pages_are_warned_of_in_its_file),
        cmocka_unit_test(test_qti22_assessment_stimulus_brings_its_stimulus_body),
        cmocka_unit_test(test_include_outside_the_archive_is_refused),
        cmocka_unit_test(test_include_of_a_missing_file_is_refused),
        cmocka_unit_test(test_include_in_an_included_file_is_refused),
        cmocka_unit_test(test_include_refuses_text_parsing_and_xpointer),
        cmocka_unit_test(test_item_without_its_package_refuses_include),
        cmocka_unit_test(test_declaration_with_unknown_attribute_is_refused_naming_it),
        cmocka_unit_test(test_end_attempt_interaction_sets_its_response_and_may_not_count),
        cmocka_unit_test(test_end_attempt_interaction_needs_a_boolean_and_a_title),
        cmocka_unit_test(test_media_interaction_scores_plays_and_validates_its_bounds),
        cmocka_unit_test(test_graphic_gap_match_scores_pairs_by_mapping_and_validates),
        cmocka_unit_test(test_position_object_scores_points_by_area_mapping_and_validates),
        cmocka_unit_test(test_position_object_stage_refusals_name_file_and_line),
        cmocka_unit_test(test_load_refuses_models_of_different_items),
        cmocka_unit_test(test_load_refuses_incomplete_feedback_and_template_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
