/* test_app_upload.c - the files a test taker gives (uploadInteraction, drawingInteraction;
 * app/upload.h): the content sniffed, the PNG check of a drawing, the size limit and the
 * interaction's types refused with a clear message, isNull scoring of a file response, and
 * the round trip on a device holding what a sync leaves: the file sealed to central's results
 * key as soon as it is sent (never in clear in the execution's session), its content never
 * shown back to the page, the sealed result carrying it, and central opening it again. */
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
#include "qti/item.h"
#include "qti/item_session.h"
#include "qti_testzip.h"
#include "store/executions.h"
#include "store/meta.h"
#include "store/outbox.h"
#include "store/packages.h"
#include "store/synced.h"

#define TAKE_FIXTURE_PACKAGE "tests/browser/fixtures/upload"
#include "take_fixture.h"

/* ------------------------------------------------------------------ bytes of files -- */

/* A small valid PNG (w x h, grey), malloc'ed, as a page's canvas gives it. */
static unsigned char *png_bytes(unsigned w, unsigned h, size_t *len)
{
    /* signature, IHDR, an IDAT that is not checked here, IEND */
    static const unsigned char idat[] = {0, 0, 0, 2, 'I', 'D', 'A', 'T', 0x78, 0x9c, 0, 0, 0, 0};
    size_t n = 8 + 25 + sizeof idat + 12;
    unsigned char *p = calloc(1, n);
    memcpy(p, "\x89PNG\r\n\x1a\n", 8);
    unsigned char *c = p + 8;
    c[3] = 13;
    memcpy(c + 4, "IHDR", 4);
    c[8] = (unsigned char)(w >> 24), c[9] = (unsigned char)(w >> 16),
    c[10] = (unsigned char)(w >> 8), c[11] = (unsigned char)w;
    c[12] = (unsigned char)(h >> 24), c[13] = (unsigned char)(h >> 16),
    c[14] = (unsigned char)(h >> 8), c[15] = (unsigned char)h;
    c[16] = 8; /* depth */
    c[17] = 6; /* RGBA */
    memcpy(p + 33, idat, sizeof idat);
    memcpy(p + 33 + sizeof idat, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
    *len = n;
    return p;
}

static json_t *file_value(const char *name, const char *type, const void *d, size_t n)
{
    char *t = b64(d, n);
    json_t *v = json_pack("{s:s, s:s, s:s}", "name", name, "type", type, "data", t);
    free(t);
    return v;
}

static struct qti_item *item_of(const char *file)
{
    const char *src = getenv("OUTPOST_SOURCE");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/qti/items/%s", src ? src : ".", file);
    char *data;
    size_t len;
    struct op_err e = {0};
    if (fs_read_file(path, 1 << 20, &data, &len, &e) != 0)
        fail_msg("%s", e.msg);
    char href[256];
    snprintf(href, sizeof href, "items/%s", file);
    struct qti_item *item = NULL;
    if (qti_item_parse(href, data, len, NULL, &item, &e) != 0)
        fail_msg("%s: %s", file, e.msg);
    free(data);
    return item;
}

/* app_upload_check's verdict on one file: 0, or the refusal's message in msg. */
static int check(const struct qti_interaction *it, json_t *v, size_t max, char *msg, size_t cap)
{
    unsigned char *data;
    size_t len;
    char *type, *name;
    struct op_err e = {0};
    int rc = app_upload_check(it, v, max, &data, &len, &type, &name, &e);
    json_decref(v);
    if (rc == 0) {
        snprintf(msg, cap, "%s|%s|%zu", type, name, len);
        free(data);
        free(type);
        free(name);
    } else {
        snprintf(msg, cap, "%.500s", e.msg);
        assert_string_equal(e.field, "responses");
    }
    return rc;
}

static void test_sniffing_knows_the_common_formats(void **state)
{
    (void)state;
    size_t n;
    unsigned char *png = png_bytes(4, 4, &n);
    assert_string_equal(app_upload_sniff(png, n), "image/png");
    free(png);
    assert_string_equal(app_upload_sniff((const unsigned char *)"%PDF-1.7\n", 9),
                        "application/pdf");
    assert_string_equal(app_upload_sniff((const unsigned char *)"\xff\xd8\xff\xe0", 4),
                        "image/jpeg");
    assert_string_equal(app_upload_sniff((const unsigned char *)"PK\x03\x04rest", 8),
                        "application/zip");
    assert_string_equal(app_upload_sniff((const unsigned char *)"Caf\xc3\xa9 au lait\n", 14),
                        "text/plain");
    assert_null(app_upload_sniff((const unsigned char *)"\x01\x02\x03\x00", 4));
    assert_null(app_upload_sniff((const unsigned char *)"bad \xff utf8", 10));
}

static void test_a_drawing_must_be_a_whole_png_of_bounded_size(void **state)
{
    (void)state;
    struct op_err e = {0};
    size_t n;
    unsigned w, h;
    unsigned char *png = png_bytes(200, 120, &n);
    assert_int_equal(app_upload_png_check(png, n, &w, &h, &e), 0);
    assert_int_equal(w, 200);
    assert_int_equal(h, 120);
    assert_int_equal(app_upload_png_check(png, n - 3, NULL, NULL, &e), OP_EINPUT); /* cut */
    assert_int_equal(app_upload_png_check(png, 20, NULL, NULL, &e), OP_EINPUT);
    free(png);
    png = png_bytes(5000, 10, &n);
    assert_int_equal(app_upload_png_check(png, n, NULL, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "5000 by 10 pixels"));
    free(png);
    png = png_bytes(0, 10, &n);
    assert_int_equal(app_upload_png_check(png, n, NULL, NULL, &e), OP_EINPUT);
    free(png);
}

static void test_limits_and_types_are_refused_with_a_clear_message(void **state)
{
    (void)state;
    struct qti_item *essay = item_of("upload_essay.xml");
    const struct qti_interaction *up = qti_item_interaction_for(essay, "ESSAY");
    assert_int_equal(up->kind, QTI_INTERACTION_UPLOAD);
    assert_string_equal(up->upload_types, "application/pdf text/plain");
    char msg[600];
    const char pdf[] = "%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
    assert_int_equal(check(up,
                           file_value("../../my essay.pdf", "application/pdf", pdf, sizeof pdf - 1),
                           1024, msg, sizeof msg),
                     0);
    assert_string_equal(msg, "application/pdf|my essay.pdf|35"); /* no folders in the name */
    /* a text file, its type given by the browser or not */
    assert_int_equal(
        check(up, file_value("a.txt", "text/plain", "hello\n", 6), 1024, msg, sizeof msg), 0);
    assert_int_equal(check(up, file_value("a.txt", "", "hello\n", 6), 1024, msg, sizeof msg), 0);
    assert_string_equal(msg, "text/plain|a.txt|6");
    /* over the limit */
    char big[3000];
    memset(big, 'a', sizeof big);
    assert_int_equal(
        check(up, file_value("big.txt", "text/plain", big, sizeof big), 1024, msg, sizeof msg),
        OP_EINPUT);
    assert_string_equal(msg, "The file is 3 KB; the largest this test takes is 1 KB.");
    /* a type the interaction does not take */
    size_t n;
    unsigned char *png = png_bytes(4, 4, &n);
    assert_int_equal(check(up, file_value("p.png", "image/png", png, n), 1024, msg, sizeof msg),
                     OP_EINPUT);
    assert_string_equal(msg, "This question takes files of type application/pdf text/plain; "
                             "this file is image/png.");
    /* a content that is not what its declared type says */
    assert_int_equal(
        check(up, file_value("p.pdf", "application/pdf", png, n), 1024, msg, sizeof msg),
        OP_EINPUT);
    assert_non_null(strstr(msg, "it looks like image/png"));
    assert_int_equal(
        check(up, file_value("x.pdf", "application/pdf", "\x01\x02\x03", 3), 1024, msg, sizeof msg),
        OP_EINPUT);
    /* not base64, empty, not a file object */
    assert_int_equal(check(up, json_pack("{s:s, s:s}", "type", "text/plain", "data", "!!"), 1024,
                           msg, sizeof msg),
                     OP_EINPUT);
    assert_int_equal(
        check(up, json_pack("{s:s, s:s}", "type", "text/plain", "data", ""), 1024, msg, sizeof msg),
        OP_EINPUT);
    assert_string_equal(msg, "The file is empty.");
    assert_int_equal(check(up, json_string("x"), 1024, msg, sizeof msg), OP_EINPUT);

    struct qti_item *map = item_of("drawing_map.xml");
    const struct qti_interaction *dr = qti_item_interaction_for(map, "DRAWING");
    assert_int_equal(dr->kind, QTI_INTERACTION_DRAWING);
    assert_int_equal(check(dr, file_value("", "image/png", png, n), 1024, msg, sizeof msg), 0);
    assert_string_equal(msg, "image/png|drawing.png|59");
    assert_int_equal(check(dr, file_value("d.png", "image/png", "hello", 5), 1024, msg, sizeof msg),
                     OP_EINPUT);
    assert_string_equal(msg, "The drawing is not a PNG image.");
    free(png);
    qti_item_free(essay);
    qti_item_free(map);
}

static double score(struct qti_item_session *s)
{
    json_t *v = qti_item_session_variable_json(s, "SCORE");
    double d = json_number_value(v);
    json_decref(v);
    return d;
}

/* A file response is not scored by its content: responseProcessing decides, here with isNull;
 * under validateResponses a type the interaction does not take is refused. */
static void test_a_file_response_is_scored_by_the_items_rules(void **state)
{
    (void)state;
    struct qti_item *essay = item_of("upload_essay.xml");
    struct qti_item_session *s;
    struct op_err e = {0};
    assert_int_equal(qti_item_session_new(essay, 1, &s, &e), 0);
    struct qti_submit_opts validate = {1, 0};
    json_t *r = json_pack("{s:n}", "ESSAY");
    assert_int_equal(qti_item_session_submit(s, r, &validate, NULL, &e), 0);
    json_decref(r);
    assert_true(score(s) == 0);
    json_t *given = qti_item_session_variable_json(s, "GIVEN");
    assert_true(json_is_false(given));
    json_decref(given);
    r = json_pack("{s:o}", "ESSAY", file_value("a.txt", "text/plain", "hi", 2));
    assert_int_equal(qti_item_session_submit(s, r, &validate, NULL, &e), 0);
    json_decref(r);
    assert_true(score(s) == 1);
    /* the kept form holds the same file */
    json_t *back = qti_item_session_responses_json(s);
    assert_string_equal(json_string_value(json_object_get(json_object_get(back, "ESSAY"), "name")),
                        "a.txt");
    json_decref(back);
    json_t *invalid = NULL;
    r = json_pack("{s:{s:s, s:s}}", "ESSAY", "type", "image/png", "data", "aGk=");
    assert_int_equal(qti_item_session_submit(s, r, &validate, &invalid, &e), OP_EINPUT);
    assert_string_equal(json_string_value(json_object_get(json_array_get(invalid, 0), "rule")),
                        "type");
    json_decref(invalid);
    json_decref(r);
    /* a file has no text form: a baseValue of it is refused at import */
    r = json_pack("{s:s}", "ESSAY", "a file");
    assert_int_equal(qti_item_session_submit(s, r, &validate, NULL, &e), OP_EINPUT);
    json_decref(r);
    qti_item_session_free(s);
    /* the render model carries the types */
    json_t *model, *scoring;
    assert_int_equal(qti_item_compile(essay, &model, &scoring, &e), 0);
    json_t *ij = json_array_get(json_object_get(model, "interactions"), 0);
    assert_string_equal(json_string_value(json_object_get(ij, "type")), "uploadInteraction");
    assert_string_equal(json_string_value(json_object_get(ij, "types")),
                        "application/pdf text/plain");
    json_decref(model);
    json_decref(scoring);
    qti_item_free(essay);
}

static json_t *item_response(json_t *doc, const char *item)
{
    return json_object_get(
        json_object_get(
            json_object_get(json_object_get(json_object_get(doc, "outcome"), "items"), item),
            "responses"),
        "RESPONSE");
}

/* The device seals a file as soon as it is sent: the execution's session holds it sealed, the
 * page is shown its name and size only, the sealed result carries it, and central opens it
 * with its results key to the same bytes. A file over the limit is refused, nothing saved. */
static void test_files_are_sealed_on_the_device_and_opened_on_central(void **state)
{
    struct fixture *f = *state;
    char *id = start(f);
    json_t *out = get(f, id);
    assert_string_equal(key_of(out), "Q01");
    json_decref(out);
    const char text[] = "My town has a river and a bridge.\n";
    char *t64 = b64(text, sizeof text - 1);
    char body[4096];
    snprintf(body, sizeof body,
             "{\"item_key\":\"Q01\",\"responses\":{\"RESPONSE\":{\"name\":\"town.txt\","
             "\"type\":\"text/plain\",\"data\":\"%s\"}}}",
             t64);
    struct op_err e = {0};
    if (step(f, id, RUNNER_OP_RESPOND, body, &out, &e) != 0)
        fail_msg("respond: %s", e.msg);
    json_t *shown =
        json_object_get(json_object_get(json_object_get(out, "view"), "responses"), "RESPONSE");
    assert_string_equal(json_string_value(json_object_get(shown, "name")), "town.txt");
    assert_int_equal(json_integer_value(json_object_get(shown, "size")), sizeof text - 1);
    assert_null(json_object_get(shown, "sealed"));
    assert_null(json_object_get(shown, "data"));
    /* sent again without its data (the page shows only its name): the same file is kept */
    char *again = json_dumps(shown, JSON_COMPACT);
    snprintf(body, sizeof body, "{\"item_key\":\"Q01\",\"responses\":{\"RESPONSE\":%s}}", again);
    free(again);
    json_decref(out);
    if (step(f, id, RUNNER_OP_RESPOND, body, &out, &e) != 0)
        fail_msg("respond again: %s", e.msg);
    json_decref(out);
    /* what rests in the device's database is sealed */
    struct execution_row row;
    assert_int_equal(executions_get(f->dev->db, id, &row, &e), 0);
    assert_non_null(strstr(row.session, "\"sealed\""));
    assert_null(strstr(row.session, t64));
    assert_null(strstr(row.session, "My town"));
    execution_row_clear(&row);
    free(t64);

    step_ok(f, id, RUNNER_OP_MOVE, "{\"item_key\":\"Q01\",\"to\":\"next\"}");
    /* a drawing over the limit is refused, with the limit in words */
    size_t big_n = 2 * 1024 * 1024;
    unsigned char *big = calloc(1, big_n);
    char *big64 = b64(big, big_n);
    char *bigbody = NULL;
    assert_true(asprintf(&bigbody,
                         "{\"item_key\":\"Q02\",\"responses\":{\"RESPONSE\":{\"type\":"
                         "\"image/png\",\"data\":\"%s\"}}}",
                         big64) > 0);
    assert_int_equal(step(f, id, RUNNER_OP_RESPOND, bigbody, &out, &e), OP_EINPUT);
    assert_string_equal(e.field, "responses");
    assert_string_equal(e.msg, "The drawing is 2.0 MB; the largest this test takes is 1.0 MB.");
    free(bigbody);
    free(big64);
    free(big);
    size_t n;
    unsigned char *png = png_bytes(200, 120, &n);
    char *p64 = b64(png, n);
    snprintf(body, sizeof body,
             "{\"item_key\":\"Q02\",\"responses\":{\"RESPONSE\":{\"name\":\"drawing.png\","
             "\"type\":\"image/png\",\"data\":\"%s\"}}}",
             p64);
    free(p64);
    step_ok(f, id, RUNNER_OP_RESPOND, body);
    step_ok(f, id, RUNNER_OP_FINISH, "{\"item_key\":\"Q02\"}");

    json_t *doc = sealed_result(f);
    json_t *o = json_object_get(doc, "outcome");
    assert_true(json_number_value(json_object_get(json_object_get(o, "outcomes"), "TOTAL")) == 2);
    assert_true(app_upload_is_sealed(item_response(doc, "Q01")));
    assert_true(app_upload_is_sealed(item_response(doc, "Q02")));
    /* central: every sealed file opens to the bytes sent */
    assert_int_equal(app_upload_open_all(doc, the_key, &f->results, &e), 0);
    json_t *essay = item_response(doc, "Q01");
    unsigned char clear[200];
    size_t got = 0;
    const char *d = json_string_value(json_object_get(essay, "data"));
    assert_int_equal(sodium_base642bin(clear, sizeof clear, d, strlen(d), NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(got, sizeof text - 1);
    assert_memory_equal(clear, text, got);
    assert_string_equal(json_string_value(json_object_get(essay, "type")), "text/plain");
    json_t *drawing = item_response(doc, "Q02");
    assert_string_equal(json_string_value(json_object_get(drawing, "type")), "image/png");
    assert_int_equal(json_integer_value(json_object_get(drawing, "size")), n);
    assert_null(json_object_get(drawing, "sealed"));
    json_decref(doc);

    /* another key opens nothing: the result waits for its key */
    doc = sealed_result(f);
    struct key other = {0};
    snprintf(other.id, sizeof other.id, "%s", "0000000000000000");
    assert_int_equal(app_upload_open_all(doc, the_key, &other, &e), OP_ENOTFOUND);
    /* a damaged box is refused */
    json_object_set_new(item_response(doc, "Q01"), "sealed", json_string("AAAA"));
    assert_int_equal(app_upload_open_all(doc, the_key, &f->results, &e), OP_ECRYPTO);
    json_decref(doc);
    free(png);
    free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniffing_knows_the_common_formats),
        cmocka_unit_test(test_a_drawing_must_be_a_whole_png_of_bounded_size),
        cmocka_unit_test(test_limits_and_types_are_refused_with_a_clear_message),
        cmocka_unit_test(test_a_file_response_is_scored_by_the_items_rules),
        cmocka_unit_test_setup_teardown(test_files_are_sealed_on_the_device_and_opened_on_central,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
