/*
 * test_qti_pattern.c - QTI patterns (qti/pattern.h): patternMatch and patternMask are one
 * XML Schema regular expression language, run by one engine, refused alike at import, and
 * compiled once per thread into a bounded cache.
 */
#include "qti_testctx.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qti/interaction.h"
#include "qti/item.h"
#include "qti/pattern.h"

#define QTI21 "http://www.imsglobal.org/xsd/imsqti_v2p1"

/* patternMatch on a string literal, through the expression evaluator (and its JSON form). */
static bool pattern_match_says(const char *pattern, const char *subject)
{
    char *xml = NULL;
    if (asprintf(&xml,
                 "<patternMatch pattern='%s'><baseValue baseType='string'>%s</baseValue>"
                 "</patternMatch>",
                 pattern, subject) < 0)
        abort();
    struct tctx c = {.rng = 42};
    struct qti_value *v = tctx_eval(&c, xml);
    free(xml);
    assert_non_null(v);
    assert_int_equal(v->type, QTI_BT_BOOLEAN);
    bool b = v->items[0].u.b;
    qti_value_free(v);
    tctx_free(&c);
    return b;
}

/* patternMask of a textEntryInteraction, through response validation. */
static bool pattern_mask_says(const char *pattern, const char *subject)
{
    char *doc_text = NULL;
    if (asprintf(&doc_text,
                 "<itemBody xmlns=\"" QTI21 "\"><textEntryInteraction responseIdentifier=\"R\" "
                 "patternMask=\"%s\"/></itemBody>",
                 pattern) < 0)
        abort();
    xmlDoc *doc;
    struct op_err e = {0};
    if (qti_xml_read("items/q.xml", doc_text, strlen(doc_text), NULL, &doc, &e) != 0)
        fail_msg("read: %s", e.msg);
    free(doc_text);
    xmlNode *n = xmlDocGetRootElement(doc)->children;
    struct qti_xhtml_ctx cx = {"items/q.xml", NULL, NULL, NULL, 0, NULL, NULL, NULL, 0};
    struct qti_interaction *it = NULL;
    if (qti_interaction_parse(n, "Q1", &cx, &it, &e) != 0)
        fail_msg("parse: %s", e.msg);
    xmlFreeDoc(doc);
    json_t *response = json_string(subject);
    struct qti_invalid why;
    memset(&why, 0, sizeof why);
    int ok = qti_interaction_validate(it, response, &why);
    json_decref(response);
    qti_interaction_free(it);
    return ok == 1;
}

static void test_pattern_match_and_pattern_mask_agree(void **state)
{
    (void)state;
    static const struct {
        const char *pattern, *subject;
        bool matches;
    } cases[] = {
        /* character class subtraction: consonants only */
        {"[a-z-[aeiou]]+", "rhythm", true},
        {"[a-z-[aeiou]]+", "rhino", false},
        /* a Unicode category: currency symbols */
        {"\\p{Sc}", "$", true},
        {"\\p{Sc}", "\xe2\x82\xac", true}, /* the euro sign, three bytes in UTF-8 */
        {"\\p{Sc}", "E", false},
        {"\\d{3}-[A-Z]+", "123-AB", true},
        {"\\d{3}", "1234", false},   /* anchored: the whole string */
        {".{2}", "\xc3\xa9t", true}, /* characters, not bytes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool m = pattern_match_says(cases[i].pattern, cases[i].subject);
        bool k = pattern_mask_says(cases[i].pattern, cases[i].subject);
        if (m != cases[i].matches || k != cases[i].matches)
            fail_msg("pattern %s on \"%s\": patternMatch %d, patternMask %d, expected %d",
                     cases[i].pattern, cases[i].subject, m, k, cases[i].matches);
    }
}

/* An item whose body or response processing uses the pattern `pattern`. */
static int parse_item_with(const char *mask, const char *match, struct op_err *e)
{
    char *x = NULL;
    if (asprintf(&x,
                 "<assessmentItem xmlns=\"" QTI21 "\" identifier=\"postcode\" title=\"Postcode\" "
                 "adaptive=\"false\" timeDependent=\"false\">"
                 "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" "
                 "baseType=\"string\"/>"
                 "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" "
                 "baseType=\"float\"/>"
                 "<itemBody><p><textEntryInteraction responseIdentifier=\"RESPONSE\" "
                 "patternMask=\"%s\"/></p></itemBody>"
                 "<responseProcessing><responseCondition><responseIf>"
                 "<patternMatch pattern=\"%s\"><variable identifier=\"RESPONSE\"/></patternMatch>"
                 "<setOutcomeValue identifier=\"SCORE\"><baseValue baseType=\"float\">1"
                 "</baseValue></setOutcomeValue>"
                 "</responseIf></responseCondition></responseProcessing></assessmentItem>",
                 mask, match) < 0)
        abort();
    struct qti_item *item = NULL;
    int rc = qti_item_parse("items/postcode.xml", x, strlen(x), NULL, &item, e);
    qti_item_free(item);
    free(x);
    return rc;
}

static void test_invalid_pattern_is_refused_at_import_naming_the_item(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_int_equal(parse_item_with("[a-z-[aeiou]]+", "\\p{Sc}[0-9]+", &e), 0);

    memset(&e, 0, sizeof e);
    assert_int_equal(parse_item_with("[0-9", "[0-9]+", &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "items/postcode.xml"));
    assert_non_null(strstr(e.msg, "item postcode"));
    assert_non_null(strstr(e.msg, "patternMask \"[0-9\" is not a valid XML Schema regular"));

    memset(&e, 0, sizeof e);
    assert_int_equal(parse_item_with("[0-9]+", "(a", &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "items/postcode.xml"));
    assert_non_null(strstr(e.msg, "item postcode"));
    assert_non_null(strstr(e.msg, "patternMatch: pattern \"(a\" is not a valid XML Schema"));
}

static void test_pattern_over_the_length_limit_is_refused(void **state)
{
    (void)state;
    char long_pattern[QTI_PATTERN_MAX_BYTES + 2];
    memset(long_pattern, 'a', sizeof long_pattern - 1);
    long_pattern[sizeof long_pattern - 1] = '\0';
    const char *why = NULL;
    assert_int_equal(qti_pattern_check(long_pattern, &why), -1);
    assert_non_null(strstr(why, "over 1000 bytes"));
    long_pattern[QTI_PATTERN_MAX_BYTES] = '\0';
    assert_int_equal(qti_pattern_check(long_pattern, &why), 0);
    qti_pattern_cache_clear();
}

static void test_cache_returns_the_same_compiled_pattern(void **state)
{
    (void)state;
    qti_pattern_cache_clear();
    const char *why = NULL;
    const void *a = qti_pattern_compiled("[a-z-[aeiou]]+", &why);
    assert_non_null(a);
    assert_int_equal(qti_pattern_cache_count(), 1);
    bool matched = false;
    assert_int_equal(qti_pattern_match("[a-z-[aeiou]]+", "xyz", &matched, &why), 0);
    assert_true(matched);
    assert_ptr_equal(qti_pattern_compiled("[a-z-[aeiou]]+", &why), a);
    assert_int_equal(qti_pattern_cache_count(), 1);
    /* invalid patterns are not cached */
    assert_null(qti_pattern_compiled("(a", &why));
    assert_int_equal(qti_pattern_cache_count(), 1);
    qti_pattern_cache_clear();
    assert_int_equal(qti_pattern_cache_count(), 0);
}

static void test_cache_is_bounded_and_keeps_recently_used_patterns(void **state)
{
    (void)state;
    qti_pattern_cache_clear();
    const char *why = NULL;
    const void *kept = qti_pattern_compiled("kept", &why);
    char p[32];
    for (int i = 0; i < 4 * QTI_PATTERN_CACHE_SLOTS; i++) {
        snprintf(p, sizeof p, "p%d[0-9]*", i);
        assert_non_null(qti_pattern_compiled(p, &why));
        assert_true(qti_pattern_cache_count() <= QTI_PATTERN_CACHE_SLOTS);
        assert_ptr_equal(qti_pattern_compiled("kept", &why), kept); /* used each time */
    }
    assert_int_equal(qti_pattern_cache_count(), QTI_PATTERN_CACHE_SLOTS);
    /* an evicted pattern compiles again and still matches */
    bool matched = false;
    assert_int_equal(qti_pattern_match("p0[0-9]*", "p042", &matched, &why), 0);
    assert_true(matched);
    qti_pattern_cache_clear();
}

static void *other_thread(void *arg)
{
    const char *why = NULL;
    const void *mine = qti_pattern_compiled("[a-z-[aeiou]]+", &why);
    size_t count = qti_pattern_cache_count();
    *(int *)arg = mine != NULL && mine != qti_pattern_compiled("[0-9]", &why) && count == 1;
    return (void *)mine; /* freed with this thread's cache when it exits */
}

static void test_each_thread_has_its_own_cache(void **state)
{
    (void)state;
    qti_pattern_cache_clear();
    const char *why = NULL;
    const void *main_copy = qti_pattern_compiled("[a-z-[aeiou]]+", &why);
    assert_non_null(main_copy);
    pthread_t t;
    int ok = 0;
    void *theirs = NULL;
    assert_int_equal(pthread_create(&t, NULL, other_thread, &ok), 0);
    assert_int_equal(pthread_join(t, &theirs), 0);
    assert_true(ok);
    assert_ptr_not_equal(theirs, main_copy);
    assert_int_equal(qti_pattern_cache_count(), 1);
    qti_pattern_cache_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_match_and_pattern_mask_agree),
        cmocka_unit_test(test_invalid_pattern_is_refused_at_import_naming_the_item),
        cmocka_unit_test(test_pattern_over_the_length_limit_is_refused),
        cmocka_unit_test(test_cache_returns_the_same_compiled_pattern),
        cmocka_unit_test(test_cache_is_bounded_and_keeps_recently_used_patterns),
        cmocka_unit_test(test_each_thread_has_its_own_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
