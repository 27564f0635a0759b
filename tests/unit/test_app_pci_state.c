/* test_app_pci_state.c - a Portable Custom Interaction's state (getState) on a device holding
 * what a sync leaves (the PCI package of tests/browser/fixtures/pci): sent with the responses
 * or alone (no attempt counted), kept in the execution's session sealed to the test taker
 * (never in clear), given back in the view when the item is drawn again (after a move, in a
 * new request as after a reload), refused clearly over its size or for a response that is not
 * a PCI's, and never part of the sealed result (finished or terminated). */
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
#include "store/executions.h"
#include "store/meta.h"
#include "store/outbox.h"
#include "store/packages.h"
#include "store/synced.h"

#define TAKE_FIXTURE_PACKAGE "tests/browser/fixtures/pci"
#include "take_fixture.h"

/* What the reader's state says: page 2, and a note the candidate wrote (an answer of sorts). */
#define READER_STATE "{\"at\":1,\"note\":\"the keeper-7731\"}"

static const char *view_state(json_t *out, const char *rid)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(out, "view"), "pci_states"), rid));
}

/* Starts and moves to Q02, the text reader. */
static char *start_at_reader(struct fixture *f)
{
    char *id = start(f);
    json_t *out = get(f, id);
    assert_string_equal(key_of(out), "Q01");
    /* no state yet: an empty object, so that a page never reads it as missing */
    assert_true(json_is_object(json_object_get(json_object_get(out, "view"), "pci_states")));
    assert_int_equal(json_object_size(json_object_get(json_object_get(out, "view"), "pci_states")),
                     0);
    json_decref(out);
    now_t += 5;
    step_ok(f, id, RUNNER_OP_MOVE, "{\"item_key\":\"Q01\",\"to\":\"next\"}");
    return id;
}

static void test_a_pci_state_travels_with_the_responses_sealed_and_comes_back(void **state)
{
    struct fixture *f = *state;
    char *id = start_at_reader(f);
    json_t *body = json_pack("{s:s, s:{s:{s:{s:[s, s]}}}, s:{s:s}}", "item_key", "Q02", "responses",
                             "RESPONSE", "list", "identifier", "p1", "p2", "pci_states", "RESPONSE",
                             READER_STATE);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_t *out;
    struct op_err e = {0};
    now_t += 5;
    if (step(f, id, RUNNER_OP_RESPOND, text, &out, &e) != 0)
        fail_msg("respond: %s", e.msg);
    free(text);
    /* the answer gives it back at once, opened */
    assert_string_equal(view_state(out, "RESPONSE"), READER_STATE);
    assert_null(json_object_get(json_object_get(out, "view"), "pci_states_kept"));
    json_decref(out);
    /* kept sealed: the database holds neither the state nor a word of it in clear */
    char *session = stored_session(f, id);
    assert_non_null(strstr(session, "\"pci_states\""));
    assert_null(strstr(session, "keeper-7731"));
    assert_null(strstr(session, "\\\"at\\\""));
    free(session);
    /* a reload (a new request): the state is back, with the response */
    out = get(f, id);
    assert_string_equal(view_state(out, "RESPONSE"), READER_STATE);
    assert_non_null(
        json_object_get(json_object_get(json_object_get(out, "view"), "responses"), "RESPONSE"));
    json_decref(out);
    /* leaving the item and coming back: the state is back too */
    step_ok(f, id, RUNNER_OP_MOVE, "{\"item_key\":\"Q02\",\"to\":\"next\"}");
    out = get(f, id);
    assert_string_equal(key_of(out), "Q03");
    assert_int_equal(json_object_size(json_object_get(json_object_get(out, "view"), "pci_states")),
                     0); /* Q03 has none of its own */
    json_decref(out);
    assert_int_equal(
        step(f, id, RUNNER_OP_MOVE, "{\"item_key\":\"Q03\",\"to\":\"previous\"}", &out, &e), 0);
    assert_string_equal(key_of(out), "Q02");
    assert_string_equal(view_state(out, "RESPONSE"), READER_STATE);
    json_decref(out);
    /* another test taker's key does not open it: the PCI starts from its response */
    struct app_taker other = {T1, f->pk2, f->sk2};
    assert_int_equal(app_take_get(f->dev, f->cache, &other, id, (double)now_t, &out, &e), 0);
    assert_int_equal(json_object_size(json_object_get(json_object_get(out, "view"), "pci_states")),
                     0);
    json_decref(out);
    /* a null state takes it back */
    step_ok(f, id, RUNNER_OP_RESPOND, "{\"item_key\":\"Q02\",\"pci_states\":{\"RESPONSE\":null}}");
    out = get(f, id);
    assert_int_equal(json_object_size(json_object_get(json_object_get(out, "view"), "pci_states")),
                     0);
    json_decref(out);
    session = stored_session(f, id);
    assert_null(strstr(session, "\"pci_states\""));
    free(session);
    free(id);
}

static void test_a_state_sent_alone_counts_no_attempt(void **state)
{
    struct fixture *f = *state;
    char *id = start_at_reader(f);
    now_t += 5;
    step_ok(f, id, RUNNER_OP_RESPOND,
            "{\"item_key\":\"Q02\",\"pci_states\":{\"RESPONSE\":\"{\\\"at\\\":2}\"}}");
    json_t *out = get(f, id);
    assert_string_equal(view_state(out, "RESPONSE"), "{\"at\":2}");
    /* nothing was submitted: no response saved, no attempt */
    assert_int_equal(json_object_size(json_object_get(json_object_get(out, "view"), "responses")),
                     0);
    json_decref(out);
    char *session = stored_session(f, id);
    json_t *st = json_loads(session, 0, NULL);
    json_t *entry = json_array_get(json_object_get(json_object_get(st, "session"), "entries"), 1);
    assert_false(json_is_true(json_object_get(entry, "submitted")));
    json_decref(st);
    free(session);
    /* the same state again changes nothing (the execution's version stays) */
    out = get(f, id);
    json_int_t v =
        json_integer_value(json_object_get(json_object_get(out, "execution"), "version"));
    json_decref(out);
    struct op_err e = {0};
    assert_int_equal(step(f, id, RUNNER_OP_RESPOND,
                          "{\"item_key\":\"Q02\",\"pci_states\":{\"RESPONSE\":\"{\\\"at\\\":2}\"}}",
                          &out, &e),
                     0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(out, "execution"), "version")), v);
    json_decref(out);
    free(id);
}

static void test_a_state_over_its_size_or_not_a_pci_s_is_refused(void **state)
{
    struct fixture *f = *state;
    char *id = start_at_reader(f);
    struct op_err e = {0};
    json_t *out = NULL;
    /* one byte over 64 KiB */
    char *big = malloc(RUNNER_PCI_STATE_MAX + 2);
    memset(big, 'x', RUNNER_PCI_STATE_MAX + 1);
    big[RUNNER_PCI_STATE_MAX + 1] = 0;
    json_t *b = json_pack("{s:s, s:{s:s}}", "item_key", "Q02", "pci_states", "RESPONSE", big);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    assert_int_equal(step(f, id, RUNNER_OP_RESPOND, text, &out, &e), OP_EINPUT);
    assert_string_equal(e.field, "pci_states");
    assert_non_null(strstr(e.msg, "the state of the interaction RESPONSE is 65537 bytes"));
    assert_non_null(strstr(e.msg, "at most 65536 bytes (64 KiB)"));
    free(text);
    /* exactly 64 KiB is kept */
    big[RUNNER_PCI_STATE_MAX] = 0;
    b = json_pack("{s:s, s:{s:s}}", "item_key", "Q02", "pci_states", "RESPONSE", big);
    text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    e = (struct op_err){0};
    if (step(f, id, RUNNER_OP_RESPOND, text, &out, &e) != 0)
        fail_msg("64 KiB: %s", e.msg);
    assert_int_equal(strlen(view_state(out, "RESPONSE")), RUNNER_PCI_STATE_MAX);
    json_decref(out);
    free(text);
    /* five states of 60 KiB: over the 256 KiB of one item */
    big[60 * 1024] = 0;
    b = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s}}", "item_key", "Q02", "pci_states", "A", big,
                  "B", big, "C", big, "D", big, "E", big);
    text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    e = (struct op_err){0};
    assert_int_equal(step(f, id, RUNNER_OP_RESPOND, text, &out, &e), OP_EINPUT);
    assert_string_equal(e.field, "pci_states");
    assert_non_null(strstr(e.msg, "at most 262144 bytes (256 KiB) are kept for one item"));
    free(text);
    free(big);
    /* not a string */
    e = (struct op_err){0};
    assert_int_equal(step(f, id, RUNNER_OP_RESPOND,
                          "{\"item_key\":\"Q02\",\"pci_states\":{\"RESPONSE\":{\"at\":1}}}", &out,
                          &e),
                     OP_EINPUT);
    assert_string_equal(e.field, "pci_states");
    assert_non_null(strstr(e.msg, "must be a string"));
    e = (struct op_err){0};
    assert_int_equal(
        step(f, id, RUNNER_OP_RESPOND, "{\"item_key\":\"Q02\",\"pci_states\":[]}", &out, &e),
        OP_EINPUT);
    assert_string_equal(e.field, "pci_states");
    /* a response no PCI is bound to */
    e = (struct op_err){0};
    assert_int_equal(step(f, id, RUNNER_OP_RESPOND,
                          "{\"item_key\":\"Q02\",\"pci_states\":{\"SCORE\":\"x\"}}", &out, &e),
                     OP_EINPUT);
    assert_string_equal(e.field, "pci_states");
    assert_non_null(
        strstr(e.msg, "item Q02 has no portable custom interaction bound to \"SCORE\""));
    /* a move takes no state */
    e = (struct op_err){0};
    assert_int_equal(step(f, id, RUNNER_OP_MOVE,
                          "{\"item_key\":\"Q02\",\"to\":\"next\",\"pci_states\":{}}", &out, &e),
                     OP_EINPUT);
    assert_string_equal(e.field, "pci_states");
    /* a stale page's state is refused like its responses */
    e = (struct op_err){0};
    assert_int_equal(step(f, id, RUNNER_OP_RESPOND,
                          "{\"item_key\":\"Q01\",\"pci_states\":{\"RESPONSE\":\"x\"}}", &out, &e),
                     OP_ECONFLICT);
    assert_string_equal(e.field, "item_key");
    /* nothing of the refused ones was kept: the 64 KiB state is still the one */
    out = get(f, id);
    assert_int_equal(strlen(view_state(out, "RESPONSE")), RUNNER_PCI_STATE_MAX);
    json_decref(out);
    free(id);
}

static void test_the_result_carries_no_pci_state(void **state)
{
    struct fixture *f = *state;
    char *id = start_at_reader(f);
    now_t += 5;
    step_ok(f, id, RUNNER_OP_RESPOND,
            "{\"item_key\":\"Q02\",\"responses\":{\"RESPONSE\":{\"list\":{\"identifier\":[\"p1\","
            "\"p2\",\"p3\"]}}},\"pci_states\":{\"RESPONSE\":\"{\\\"note\\\":\\\"keeper-7731\\\"}"
            "\"}}");
    step_ok(f, id, RUNNER_OP_FINISH, "{\"item_key\":\"Q02\"}");
    json_t *doc = sealed_result(f);
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_null(strstr(text, "pci_states"));
    assert_null(strstr(text, "keeper-7731"));
    /* the response itself is there and scored */
    json_t *items = json_object_get(json_object_get(doc, "outcome"), "items");
    json_t *q2 = json_object_get(json_object_get(items, "Q02"), "outcomes");
    assert_true(json_number_value(json_object_get(q2, "SCORE")) == 1.0);
    free(text);
    json_decref(doc);
    /* and the ended execution's session dropped them */
    char *session = stored_session(f, id);
    assert_null(strstr(session, "pci_states"));
    free(session);
    free(id);
}

static void test_a_terminated_execution_s_result_carries_no_pci_state(void **state)
{
    struct fixture *f = *state;
    char *id = start_at_reader(f);
    now_t += 5;
    step_ok(f, id, RUNNER_OP_RESPOND,
            "{\"item_key\":\"Q02\",\"pci_states\":{\"RESPONSE\":\"{\\\"at\\\":2}\"}}");
    struct app_execution x;
    struct op_err e = {0};
    assert_int_equal(app_execution_get_for_taker(f->dev, T1, id, &x, &e), 0);
    struct app_exec_viewer p1 = {P1, NULL, NULL};
    struct app_proctor_request term = {PROCTOR_TERMINATE, x.row.version, 0, "fire alarm",
                                       app_take_outcome};
    struct app_execution y;
    if (app_execution_proctor_act(f->dev, &p1, id, &term, &y, &e) != 0)
        fail_msg("terminate: %s", e.msg);
    json_t *doc = sealed_result(f);
    assert_true(json_is_object(json_object_get(doc, "session")));
    assert_null(json_object_get(json_object_get(doc, "session"), "pci_states"));
    json_decref(doc);
    app_execution_clear(&x);
    app_execution_clear(&y);
    free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_pci_state_travels_with_the_responses_sealed_and_comes_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_state_sent_alone_counts_no_attempt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_state_over_its_size_or_not_a_pci_s_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_the_result_carries_no_pci_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_terminated_execution_s_result_carries_no_pci_state,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
