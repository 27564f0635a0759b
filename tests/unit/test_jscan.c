/* test_jscan.c - the strict JSON scanner (base/jscan.h) and the changes page parser built on
 * it (sync/page.h): what it accepts, jansson reads back; what it refuses is named with its
 * byte; a record's data is the exact span central sent. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/jscan.h"
#include "sync/page.h"
#include "testutil.h"

/* 0 if `text` is one valid value for the scanner (and then jansson must agree), else -1. */
static int scan(const char *text)
{
    struct jscan s;
    jscan_init(&s, text, strlen(text));
    int rc = jscan_value(&s, 0, NULL, NULL);
    if (rc == 0)
        rc = jscan_end(&s);
    if (rc == 0) {
        json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        json_decref(j);
    } else
        assert_non_null(s.err);
    return rc;
}

static void test_jscan_accepts_what_jansson_reads(void **state)
{
    (void)state;
    const char *ok[] = {"{}",
                        "[]",
                        " {\"a\" : [1, -2, 0, -0, true, false, null, \"x\"]}\n",
                        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
                        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"",
                        "\"\\ud83d\\ude00\"",
                        "9223372036854775807",
                        "-9223372036854775808",
                        "{\"a\":{\"b\":{\"c\":[[[]]]}}}",
                        "\"\x7f\""};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (scan(ok[i]) != 0)
            fail_msg("refused: %s", ok[i]);
}

static void test_jscan_refuses_bad_json_and_what_it_does_not_take(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "{",
        "{\"a\":1,}",
        "[1,]",
        "[1 2]",
        "{\"a\" 1}",
        "{\"a\":1}x",
        "\"abc",
        "\"a\x01\"",
        "\"\xc3\"",             /* cut UTF-8 */
        "\"\xc0\xaf\"",         /* overlong */
        "\"\xed\xa0\x80\"",     /* a surrogate in UTF-8 */
        "\"\xf4\x90\x80\x80\"", /* over U+10FFFF */
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\x\"",
        "\"\\u12g4\"",
        "01",
        "1.5",
        "1e3",
        "-",
        "9223372036854775808",
        "-9223372036854775809",
        "{\"a\":1,\"a\":2}",
        "{\"\\u0061\":1}", /* keys hold no escape */
        "tru",
        "nul",
        "'a'",
        "{\"a\":1}{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (scan(bad[i]) == 0)
            fail_msg("accepted: %s", bad[i]);
    /* nesting and members are bounded */
    char deep[2 * JSCAN_MAX_DEPTH + 8], wide[JSCAN_MAX_MEMBERS * 12 + 8];
    size_t n = 0;
    for (int i = 0; i <= JSCAN_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i <= JSCAN_MAX_DEPTH; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    assert_int_equal(scan(deep), -1);
    deep[n - 1] = '\0';
    assert_int_equal(scan(deep + 1), 0); /* one level less: accepted */
    n = 0;
    wide[n++] = '{';
    for (int i = 0; i <= JSCAN_MAX_MEMBERS; i++)
        n += (size_t)snprintf(wide + n, sizeof wide - n, "%s\"k%d\":1", i ? "," : "", i);
    wide[n++] = '}';
    wide[n] = '\0';
    assert_int_equal(scan(wide), -1);
}

static void test_jscan_string_decodes_and_bounds(void **state)
{
    (void)state;
    const char *t = "\"a\\u00e9\\ud83d\\ude00\\n\"";
    struct jscan s;
    char out[16];
    size_t len = 0;
    jscan_init(&s, t, strlen(t));
    assert_int_equal(jscan_string(&s, out, sizeof out, &len), 0);
    assert_string_equal(out, "a\xc3\xa9\xf0\x9f\x98\x80\n");
    assert_int_equal(len, 8);
    jscan_init(&s, t, strlen(t));
    assert_int_equal(jscan_string(&s, out, 4, &len), -1);
    assert_string_equal(s.err, "a string is too long");
}

#define HEAD                                                                                       \
    "{\"digest\":\"" DIGEST "\",\"format\":\"outpost changes v1\",\"has_more\":false,"             \
    "\"max_seq\":2,\"next\":2,\"org\":\"O\",\"records\":["
#define DIGEST "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TAIL   "],\"since\":0}"

static void test_page_records_data_are_the_bytes_central_sent(void **state)
{
    (void)state;
    const char *d1 = "{\"b\":[1,{\"x\":\"caf\\u00e9\"}],\"a\":\"\\\"q\\\"\"}";
    char body[1024];
    snprintf(body, sizeof body,
             HEAD "{\"data\":%s,\"deleted\":false,\"entity\":\"user\",\"id\":\"u\\u0031\","
                  "\"seq\":1,\"version\":3},"
                  "{\"deleted\":true,\"entity\":\"test-center\",\"id\":\"c1\",\"seq\":2,"
                  "\"version\":2}" TAIL,
             d1);
    struct sync_page p;
    struct op_err e = {0};
    if (sync_page_parse((const unsigned char *)body, strlen(body), &p, &e) != 0)
        fail_msg("%s", e.msg);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.org, "O");
    assert_string_equal(p.digest, DIGEST);
    assert_string_equal(p.rec[0].id, "u1");
    assert_string_equal(p.rec[0].entity, "user");
    assert_int_equal(p.rec[0].version, 3);
    assert_int_equal(p.rec[0].data_len, strlen(d1));
    assert_memory_equal(p.rec[0].data, d1, strlen(d1));
    assert_true(p.rec[1].deleted);
    assert_null(p.rec[1].data);
    sync_page_free(&p);
}

/* The page of one user record whose data is `data`: 0 or the error (its message in msg). */
static int parse_data(const char *data, char *msg, size_t cap)
{
    char body[1024];
    snprintf(body, sizeof body,
             HEAD "{\"data\":%s,\"deleted\":false,\"entity\":\"user\",\"id\":\"u1\",\"seq\":2,"
                  "\"version\":1}" TAIL,
             data);
    struct sync_page p;
    struct op_err e = {0};
    int rc = sync_page_parse((const unsigned char *)body, strlen(body), &p, &e);
    if (rc == 0)
        sync_page_free(&p);
    snprintf(msg, cap, "%.400s", e.msg);
    return rc;
}

static void test_page_with_a_bad_record_span_is_refused_naming_the_byte(void **state)
{
    (void)state;
    char msg[512];
    assert_int_equal(parse_data("{\"a\":1}", msg, sizeof msg), 0);
    const char *bad[] = {"{\"a\":1,\"a\":2}", "{\"a\":1.5}",         "{\"a\":\"\xff\"}",
                         "{\"a\":[1,]}",      "{\"a\":\"\\u0000\"}", "{\"a\":\"x\x0a\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(parse_data(bad[i], msg, sizeof msg), OP_EINPUT);
        assert_non_null(strstr(msg, "malformed at byte"));
    }
    /* data that is not an object: refused by name, as before */
    assert_int_equal(parse_data("[1]", msg, sizeof msg), OP_EINPUT);
    assert_non_null(strstr(msg, "no 'data' object"));
    /* garbage before anything */
    struct sync_page p;
    struct op_err e = {0};
    assert_int_equal(sync_page_parse((const unsigned char *)"nope", 4, &p, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "not a JSON object"));
}

/* The corpus's pages: the escapes seed is read (its org and id decoded), the duplicate key
 * refused. */
static void test_page_corpus_seeds_of_the_scanner(void **state)
{
    (void)state;
    const char *src = getenv("OUTPOST_SOURCE");
    if (!src)
        skip();
    char path[1024];
    char *body;
    size_t len;
    struct op_err e = {0};
    struct sync_page p;
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_changes_page/escapes-body.json", src);
    assert_int_equal(fs_read_file(path, 1 << 20, &body, &len, &e), 0);
    if (sync_page_parse((const unsigned char *)body, len, &p, &e) != 0)
        fail_msg("%s", e.msg);
    assert_string_equal(p.org, "ORG-\xc3\x85 \"q\"");
    assert_string_equal(p.rec[0].id, "u1");
    assert_non_null(p.rec[0].data);
    sync_page_free(&p);
    free(body);
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_changes_page/duplicate-key-body.json",
             src);
    assert_int_equal(fs_read_file(path, 1 << 20, &body, &len, &e), 0);
    assert_int_equal(sync_page_parse((const unsigned char *)body, len, &p, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "key twice"));
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jscan_accepts_what_jansson_reads),
        cmocka_unit_test(test_jscan_refuses_bad_json_and_what_it_does_not_take),
        cmocka_unit_test(test_jscan_string_decodes_and_bounds),
        cmocka_unit_test(test_page_records_data_are_the_bytes_central_sent),
        cmocka_unit_test(test_page_with_a_bad_record_span_is_refused_naming_the_byte),
        cmocka_unit_test(test_page_corpus_seeds_of_the_scanner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
