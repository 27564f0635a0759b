/* test_app_pci_file.c - a recording PCI's file (a customInteraction bound to a file response,
 * the package of tests/browser/fixtures/pci_audio) on a device holding what a sync leaves:
 * sent in the QTI JSON binding ({"base": {"file": {"data", "mime", "name"}}}), it is checked,
 * sealed and kept as an upload's file (app/upload.h): the page is shown its name and size,
 * the database holds it sealed only, the shown form sent back keeps it, {"base": null} takes
 * it back, the sealed result carries it and central opens it to the bytes sent; refused over
 * the device's limit, for a content that is not its type, for a malformed binding (naming
 * the item and the response) and for a PCI bound to another type, nothing kept. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/central.h"
#include "app/executions.h"
#include "app/take.h"
#include "app/upload.h"
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

#define TAKE_FIXTURE_PACKAGE "tests/browser/fixtures/pci_audio"
#include "take_fixture.h"

/* What a browser's MediaRecorder gives: an EBML (WebM) header, then the recording. */
static const char webm[] = "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01"
                           "webm: a few seconds of a test taker's voice";

/* The body of a respond step on Q01 giving `d` (n bytes) as the PCI gives a recording. */
static char *recording_body(const char *item, const void *d, size_t n, const char *mime)
{
    char *data = b64(d, n);
    json_t *b = json_pack("{s:s, s:{s:{s:{s:{s:s, s:s, s:s}}}}}", "item_key", item, "responses",
                          "RESPONSE", "base", "file", "data", data, "mime", mime, "name",
                          "audioRecording_1800000000000.webm");
    free(data);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return text;
}

static json_t *shown_response(json_t *out)
{
    return json_object_get(json_object_get(json_object_get(out, "view"), "responses"), "RESPONSE");
}

static void test_a_recording_is_sealed_on_the_device_and_opened_on_central(void **state)
{
    struct fixture *f = *state;
    char *id = start(f);
    json_t *out = get(f, id);
    assert_string_equal(key_of(out), "Q01");
    json_decref(out);
    char *body = recording_body("Q01", webm, sizeof webm - 1, "audio/webm;codecs=opus");
    struct op_err e = {0};
    now_t += 5;
    if (step(f, id, RUNNER_OP_RESPOND, body, &out, &e) != 0)
        fail_msg("respond: %s", e.msg);
    free(body);
    /* the page is shown the file's name, type (without its codecs) and size, never its bytes */
    json_t *shown = shown_response(out);
    assert_string_equal(json_string_value(json_object_get(shown, "name")),
                        "audioRecording_1800000000000.webm");
    assert_string_equal(json_string_value(json_object_get(shown, "type")), "audio/webm");
    assert_int_equal(json_integer_value(json_object_get(shown, "size")), sizeof webm - 1);
    assert_null(json_object_get(shown, "data"));
    assert_null(json_object_get(shown, "sealed"));
    /* the shown form sent back (the page after a reload): the same recording is kept */
    char *again = json_dumps(shown, JSON_COMPACT);
    char kept_body[2048];
    snprintf(kept_body, sizeof kept_body, "{\"item_key\":\"Q01\",\"responses\":{\"RESPONSE\":%s}}",
             again);
    free(again);
    json_decref(out);
    step_ok(f, id, RUNNER_OP_RESPOND, kept_body);
    /* the database holds it sealed only */
    char *session = stored_session(f, id);
    char *clear64 = b64(webm, sizeof webm - 1);
    assert_non_null(strstr(session, "\"sealed\""));
    assert_null(strstr(session, clear64));
    assert_null(strstr(session, "a test taker's voice"));
    free(session);
    free(clear64);
    /* {"base": null}: the candidate deleted it */
    step_ok(f, id, RUNNER_OP_RESPOND,
            "{\"item_key\":\"Q01\",\"responses\":{\"RESPONSE\":{\"base\":null}}}");
    out = get(f, id);
    assert_true(json_is_null(shown_response(out)) || !shown_response(out));
    json_decref(out);
    session = stored_session(f, id);
    assert_null(strstr(session, "\"sealed\""));
    free(session);
    /* recorded again, finished: the sealed result carries it, central opens it */
    body = recording_body("Q01", webm, sizeof webm - 1, "audio/webm");
    step_ok(f, id, RUNNER_OP_RESPOND, body);
    free(body);
    step_ok(f, id, RUNNER_OP_FINISH, "{\"item_key\":\"Q01\"}");
    json_t *doc = sealed_result(f);
    json_t *items = json_object_get(json_object_get(doc, "outcome"), "items");
    json_t *q1 = json_object_get(items, "Q01");
    json_t *rec = json_object_get(json_object_get(q1, "responses"), "RESPONSE");
    assert_true(app_upload_is_sealed(rec));
    assert_true(json_number_value(json_object_get(json_object_get(q1, "outcomes"), "SCORE")) == 1);
    assert_int_equal(app_upload_open_all(doc, the_key, &f->results, &e), 0);
    const char *d = json_string_value(json_object_get(rec, "data"));
    unsigned char clear[256];
    size_t got = 0;
    assert_int_equal(sodium_base642bin(clear, sizeof clear, d, strlen(d), NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(got, sizeof webm - 1);
    assert_memory_equal(clear, webm, got);
    assert_string_equal(json_string_value(json_object_get(rec, "type")), "audio/webm");
    json_decref(doc);
    free(id);
}

/* A respond step on the item that is refused: OP_EINPUT on the field responses, the message
 * holding `why`, and no file kept. */
static void refused(struct fixture *f, const char *id, const char *body, const char *why)
{
    json_t *out = NULL;
    struct op_err e = {0};
    now_t += 1;
    if (step(f, id, RUNNER_OP_RESPOND, body, &out, &e) != OP_EINPUT)
        fail_msg("accepted: %.200s", body);
    assert_string_equal(e.field, "responses");
    if (!strstr(e.msg, why))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, why);
    char *session = stored_session(f, id);
    assert_null(strstr(session, "\"sealed\""));
    free(session);
}

static void test_a_recording_is_refused_clearly_and_nothing_is_kept(void **state)
{
    struct fixture *f = *state;
    f->dev->settings.upload_max_bytes = 1024;
    char *id = start(f);
    json_t *out = get(f, id);
    json_decref(out);
    /* over the device's limit (configuration.limits.upload-max-bytes) */
    char big[3000];
    memcpy(big, webm, sizeof webm - 1);
    memset(big + sizeof webm - 1, 'a', sizeof big - (sizeof webm - 1));
    char *body = recording_body("Q01", big, sizeof big, "audio/webm");
    refused(f, id, body, "The file is 3 KB; the largest this test takes is 1 KB.");
    free(body);
    /* a content that is not what its type says, a content the device does not recognise */
    body = recording_body("Q01", "\x89PNG\r\n\x1a\n....", 12, "audio/webm");
    refused(f, id, body, "it looks like image/png");
    free(body);
    body = recording_body("Q01", "\x01\x02\x03\x04", 4, "audio/x-unheard");
    refused(f, id, body, "is not a kind of file this device recognises");
    free(body);
    /* a malformed binding names the item and the response */
    refused(f, id,
            "{\"item_key\":\"Q01\",\"responses\":{\"RESPONSE\":{\"base\":{\"file\":{\"data\":"
            "\"GkXfow==\",\"url\":\"http://x\"}}}}}",
            "item record, response RESPONSE: the PCI's file has a member \"url\"");
    refused(f, id,
            "{\"item_key\":\"Q01\",\"responses\":{\"RESPONSE\":{\"base\":{\"string\":\"a\"}}}}",
            "item record, response RESPONSE: the PCI gave a value of base type string, the "
            "declaration is file");
    /* a PCI bound to another base type gives no file */
    step_ok(f, id, RUNNER_OP_MOVE, "{\"item_key\":\"Q01\",\"to\":\"next\"}");
    body = recording_body("Q02", webm, sizeof webm - 1, "audio/webm");
    refused(f, id, body, "the PCI gave a value of base type file, the declaration is string");
    free(body);
    free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_recording_is_sealed_on_the_device_and_opened_on_central, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_recording_is_refused_clearly_and_nothing_is_kept,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
