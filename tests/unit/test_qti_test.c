/* test_qti_test.c - the assessmentTest reader, item session control inheritance, routes
 * (selection and ordering) and the JSON form; written from QTI 2.1 §"Tests". */
#include "testutil.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>

#include "qti/test.h"

#define NS "xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\""

static struct qti_test *parse_ok(const char *xml, const char *file)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), file, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    struct qti_test *t = NULL;
    struct op_err e = {0};
    int rc = qti_test_parse(doc, file, file, &t, &e);
    xmlFreeDoc(doc);
    if (rc != 0)
        fail_msg("parse failed: %s", e.msg);
    return t;
}

static void parse_refused(const char *xml, const char *needle)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "test.xml", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    struct qti_test *t = NULL;
    struct op_err e = {0};
    int rc = qti_test_parse(doc, "test.xml", "P.zip: test.xml", &t, &e);
    xmlFreeDoc(doc);
    if (rc == 0) {
        qti_test_free(t);
        fail_msg("accepted; expected \"%s\"", needle);
    }
    if (!strstr(e.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
}

static const char linear_xml[] =
    "<assessmentTest " NS " identifier=\"T\" title=\"Test\">\n"
    "<timeLimits maxTime=\"400\"/>\n"
    "<testPart identifier=\"P1\" navigationMode=\"linear\" submissionMode=\"individual\">\n"
    "<itemSessionControl maxAttempts=\"2\" allowSkipping=\"false\"/>\n"
    "<timeLimits maxTime=\"200\" allowLateSubmission=\"true\"/>\n"
    "<assessmentSection identifier=\"S1\" title=\"One\" visible=\"true\">\n"
    "<itemSessionControl allowSkipping=\"true\"/>\n"
    "<rubricBlock view=\"candidate scorer\"><p>Read <em>this</em>.</p></rubricBlock>\n"
    "<assessmentItemRef identifier=\"Q1\" href=\"../items/q1.xml\" category=\"a b\">\n"
    "  <itemSessionControl maxAttempts=\"0\"/>\n"
    "  <timeLimits minTime=\"5\" maxTime=\"50\"/>\n"
    "  <weight identifier=\"W\" value=\"2.5\"/>\n"
    "  <variableMapping sourceIdentifier=\"X\" targetIdentifier=\"SCORE\"/>\n"
    "</assessmentItemRef>\n"
    "<assessmentItemRef identifier=\"Q2\" href=\"./q2.xml\"/>\n"
    "</assessmentSection>\n"
    "</testPart>\n"
    "<testPart identifier=\"P2\" navigationMode=\"nonlinear\" submissionMode=\"simultaneous\">\n"
    "<assessmentSection identifier=\"S2\" title=\"Two\" visible=\"false\">\n"
    "<assessmentItemRef identifier=\"Q3\" href=\"q3.xml\"/>\n"
    "</assessmentSection>\n"
    "</testPart>\n"
    "</assessmentTest>\n";

static void test_test_reads_parts_sections_and_item_refs(void **state)
{
    (void)state;
    struct qti_test *t = parse_ok(linear_xml, "tests/test.xml");
    assert_string_equal(t->identifier, "T");
    assert_int_equal(t->nparts, 2);
    assert_int_equal(t->parts[0].navigation, QTI_NAV_LINEAR);
    assert_int_equal(t->parts[0].submission, QTI_SUB_INDIVIDUAL);
    assert_int_equal(t->parts[1].navigation, QTI_NAV_NONLINEAR);
    assert_int_equal(t->parts[1].submission, QTI_SUB_SIMULTANEOUS);
    assert_true(t->time_limits.has_max);
    assert_true(t->time_limits.max_time == 400);
    assert_true(t->parts[0].time_limits.allow_late_submission);
    const struct qti_node *q1 = qti_test_find(t, "Q1");
    assert_non_null(q1);
    assert_string_equal(q1->href, "items/q1.xml");
    assert_string_equal(qti_test_find(t, "Q2")->href, "tests/q2.xml");
    assert_int_equal(q1->ncategories, 2);
    assert_string_equal(q1->categories[1], "b");
    assert_int_equal(q1->nweights, 1);
    assert_true(q1->weights[0].value == 2.5);
    assert_string_equal(q1->mappings[0].target, "SCORE");
    assert_true(q1->time_limits.has_min && q1->time_limits.min_time == 5);
    const struct qti_node *s1 = qti_test_find(t, "S1");
    assert_int_equal(s1->nrubrics, 1);
    assert_int_equal(s1->rubrics[0].nviews, 2);
    assert_non_null(strstr(s1->rubrics[0].xhtml, "this"));
    assert_false(qti_test_find(t, "S2")->visible);
    assert_int_equal(qti_test_find_part(t, "P2"), 1);
    qti_test_free(t);
}

static void test_item_session_control_is_inherited_item_section_part_default(void **state)
{
    (void)state;
    struct qti_test *t = parse_ok(linear_xml, "tests/test.xml");
    struct qti_isc q1 = qti_isc_effective(t, qti_test_find(t, "Q1"));
    assert_int_equal(q1.max_attempts, 0);   /* its own */
    assert_int_equal(q1.allow_skipping, 1); /* the section's */
    struct qti_isc q2 = qti_isc_effective(t, qti_test_find(t, "Q2"));
    assert_int_equal(q2.max_attempts, 2); /* the part's */
    assert_int_equal(q2.allow_review, 1); /* the default */
    struct qti_isc q3 = qti_isc_effective(t, qti_test_find(t, "Q3"));
    assert_int_equal(q3.max_attempts, 1); /* QTI default */
    assert_int_equal(q3.allow_skipping, 1);
    assert_int_equal(q3.validate_responses, 0);
    qti_test_free(t);
}

static void test_test_refuses_unknown_attribute_with_line(void **state)
{
    (void)state;
    parse_refused("<assessmentTest " NS " identifier=\"T\" title=\"t\">\n"
                  "<testPart navigationMode=\"linear\" submissionMode=\"individual\" "
                  "identifier=\"P\" myAttribute=\"foo\">\n"
                  "<assessmentSection identifier=\"S\" title=\"s\" visible=\"true\"/>\n"
                  "</testPart></assessmentTest>",
                  "P.zip: test.xml line 2: testPart: unknown attribute \"myAttribute\"");
}

static void test_test_refuses_unknown_element(void **state)
{
    (void)state;
    parse_refused("<assessmentTest " NS " identifier=\"T\">\n"
                  "<testPart navigationMode=\"linear\" submissionMode=\"individual\" "
                  "identifier=\"P\">\n<assessmentSection identifier=\"S\" title=\"s\" "
                  "visible=\"true\">\n<script/>\n</assessmentSection></testPart></assessmentTest>",
                  "line 4: assessmentSection S: unexpected element <script>");
}

static void test_test_refuses_duplicate_identifier(void **state)
{
    (void)state;
    parse_refused("<assessmentTest " NS " identifier=\"T\">\n"
                  "<testPart navigationMode=\"linear\" submissionMode=\"individual\" "
                  "identifier=\"P\">\n<assessmentSection identifier=\"S\" title=\"s\" "
                  "visible=\"true\">\n<assessmentItemRef identifier=\"Q\" href=\"a.xml\"/>\n"
                  "<assessmentItemRef identifier=\"Q\" href=\"b.xml\"/>\n"
                  "</assessmentSection></testPart></assessmentTest>",
                  "line 5: identifier Q is used twice");
}

/* Route keys of an item selected several times are "Q04.1", "Q04.2", ...: an item ref named
 * "Q04.1" would be read for the first occurrence of Q04 (and the other way round). */
static void test_test_refuses_item_ref_named_like_an_occurrence_key(void **state)
{
    (void)state;
    parse_refused("<assessmentTest " NS " identifier=\"T\">\n"
                  "<testPart navigationMode=\"linear\" submissionMode=\"individual\" "
                  "identifier=\"P\">\n<assessmentSection identifier=\"S\" title=\"s\" "
                  "visible=\"true\">\n<assessmentItemRef identifier=\"Q04\" href=\"a.xml\"/>\n"
                  "<assessmentItemRef identifier=\"Q04.1\" href=\"b.xml\"/>\n"
                  "</assessmentSection></testPart></assessmentTest>",
                  "P.zip: test.xml line 5: assessmentItemRef Q04.1: the identifier reads as "
                  "the route key of occurrence 1 of item ref Q04");
    /* Other dotted identifiers are fine. */
    struct qti_test *t =
        parse_ok("<assessmentTest " NS " identifier=\"T\">\n"
                 "<testPart navigationMode=\"linear\" submissionMode=\"individual\" "
                 "identifier=\"P\">\n<assessmentSection identifier=\"S\" title=\"s\" "
                 "visible=\"true\">\n<assessmentItemRef identifier=\"Q04\" href=\"a.xml\"/>\n"
                 "<assessmentItemRef identifier=\"Q04.01\" href=\"b.xml\"/>\n"
                 "<assessmentItemRef identifier=\"Q05.1\" href=\"c.xml\"/>\n"
                 "<assessmentItemRef identifier=\"Q04.x\" href=\"d.xml\"/>\n"
                 "</assessmentSection></testPart></assessmentTest>",
                 "test.xml");
    qti_test_free(t);
}

static void test_test_refuses_item_href_climbing_out(void **state)
{
    (void)state;
    parse_refused("<assessmentTest " NS " identifier=\"T\">\n"
                  "<testPart navigationMode=\"linear\" submissionMode=\"individual\" "
                  "identifier=\"P\">\n<assessmentSection identifier=\"S\" title=\"s\" "
                  "visible=\"true\">\n<assessmentItemRef identifier=\"Q\" href=\"../a.xml\"/>\n"
                  "</assessmentSection></testPart></assessmentTest>",
                  "line 4: assessmentItemRef Q: href \"../a.xml\" climbs out of the package");
}

static void test_test_refuses_selection_larger_than_section(void **state)
{
    (void)state;
    parse_refused("<assessmentTest " NS " identifier=\"T\">\n"
                  "<testPart navigationMode=\"linear\" submissionMode=\"individual\" "
                  "identifier=\"P\">\n<assessmentSection identifier=\"S\" title=\"s\" "
                  "visible=\"true\">\n<selection select=\"3\"/>\n"
                  "<assessmentItemRef identifier=\"Q\" href=\"a.xml\"/>\n"
                  "</assessmentSection></testPart></assessmentTest>",
                  "line 4: selection: select=\"3\" but section S has only 1 children");
}

/* Found by fuzz_qti_test: an out-of-range select was refused but still converted to int
 * (undefined behaviour for 1e32 or NaN, caught by UBSan). */
static void test_test_refuses_huge_or_nan_selection_without_converting_it(void **state)
{
    (void)state;
    const char *values[] = {"1e32", "-1e32", "NaN", "INF"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char xml[1024];
        snprintf(xml, sizeof xml,
                 "<assessmentTest " NS " identifier=\"T\">\n"
                 "<testPart navigationMode=\"linear\" submissionMode=\"individual\" "
                 "identifier=\"P\">\n<assessmentSection identifier=\"S\" title=\"s\" "
                 "visible=\"true\">\n<selection select=\"%s\"/>\n"
                 "<assessmentItemRef identifier=\"Q\" href=\"a.xml\"/>\n"
                 "</assessmentSection></testPart></assessmentTest>",
                 values[i]);
        parse_refused(xml, "select");
    }
}

static void test_test_refuses_test_part_without_section(void **state)
{
    (void)state;
    parse_refused("<assessmentTest " NS " identifier=\"T\">\n"
                  "<testPart navigationMode=\"linear\" submissionMode=\"individual\" "
                  "identifier=\"P\"/>\n</assessmentTest>",
                  "testPart P has no assessmentSection");
}

static void test_test_refuses_unknown_qti_namespace(void **state)
{
    (void)state;
    parse_refused("<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v3p0\" "
                  "identifier=\"T\"/>",
                  "unknown QTI namespace http://www.imsglobal.org/xsd/imsqti_v3p0");
}

static void test_test_refuses_bad_navigation_mode(void **state)
{
    (void)state;
    parse_refused("<assessmentTest " NS " identifier=\"T\">\n"
                  "<testPart navigationMode=\"sideways\" submissionMode=\"individual\" "
                  "identifier=\"P\"/>\n</assessmentTest>",
                  "line 2: testPart P: navigationMode must be linear or nonlinear");
}

/* A section of six items, select 3 of which Q1 is required; shuffled, with Q6 fixed. */
static const char select_xml[] =
    "<assessmentTest " NS " identifier=\"T\">\n"
    "<testPart identifier=\"P\" navigationMode=\"linear\" submissionMode=\"individual\">\n"
    "<assessmentSection identifier=\"S\" title=\"s\" visible=\"true\">\n"
    "<selection select=\"3\"/><ordering shuffle=\"true\"/>\n"
    "<assessmentItemRef identifier=\"Q1\" href=\"1.xml\" required=\"true\"/>\n"
    "<assessmentItemRef identifier=\"Q2\" href=\"2.xml\"/>\n"
    "<assessmentItemRef identifier=\"Q3\" href=\"3.xml\"/>\n"
    "<assessmentItemRef identifier=\"Q4\" href=\"4.xml\"/>\n"
    "<assessmentItemRef identifier=\"Q5\" href=\"5.xml\"/>\n"
    "</assessmentSection>\n"
    "<assessmentSection identifier=\"O\" title=\"o\" visible=\"true\">\n"
    "<ordering shuffle=\"true\"/>\n"
    "<assessmentItemRef identifier=\"A\" href=\"a.xml\" fixed=\"true\"/>\n"
    "<assessmentItemRef identifier=\"B\" href=\"b.xml\"/>\n"
    "<assessmentItemRef identifier=\"C\" href=\"c.xml\"/>\n"
    "<assessmentItemRef identifier=\"D\" href=\"d.xml\"/>\n"
    "<assessmentItemRef identifier=\"E\" href=\"e.xml\" fixed=\"true\"/>\n"
    "</assessmentSection>\n"
    "</testPart></assessmentTest>\n";

static char *route_string(const struct qti_route *r)
{
    static char s[1024];
    s[0] = 0;
    for (size_t i = 0; i < r->n; i++) {
        strcat(s, r->entries[i].key);
        strcat(s, " ");
    }
    return s;
}

static void test_route_selects_required_items_and_keeps_fixed_in_place(void **state)
{
    (void)state;
    struct qti_test *t = parse_ok(select_xml, "test.xml");
    struct op_err e = {0};
    int differ = 0;
    char first[1024] = "";
    for (uint64_t seed = 1; seed <= 40; seed++) {
        struct qti_route r;
        assert_int_equal(qti_test_route(t, seed, &r, &e), 0);
        assert_int_equal(r.n, 8);
        int has_q1 = 0;
        for (size_t i = 0; i < 3; i++) {
            has_q1 |= strcmp(r.entries[i].key, "Q1") == 0;
            assert_true(r.entries[i].key[0] == 'Q');
        }
        assert_true(has_q1);
        for (size_t i = 0; i < 3; i++)
            for (size_t k = 0; k < i; k++)
                assert_string_not_equal(r.entries[i].key, r.entries[k].key);
        assert_string_equal(r.entries[3].key, "A");
        assert_string_equal(r.entries[7].key, "E");
        if (seed == 1)
            strcpy(first, route_string(&r));
        else
            differ |= strcmp(first, route_string(&r)) != 0;
        qti_route_free(&r);
    }
    assert_true(differ);
    qti_test_free(t);
}

static void test_route_is_the_same_for_the_same_seed(void **state)
{
    (void)state;
    struct qti_test *t = parse_ok(select_xml, "test.xml");
    struct op_err e = {0};
    struct qti_route a, b;
    assert_int_equal(qti_test_route(t, 12345, &a, &e), 0);
    assert_int_equal(qti_test_route(t, 12345, &b, &e), 0);
    char sa[1024];
    strcpy(sa, route_string(&a));
    assert_string_equal(sa, route_string(&b));
    qti_route_free(&a);
    qti_route_free(&b);
    qti_test_free(t);
}

static void test_route_with_replacement_numbers_occurrences(void **state)
{
    (void)state;
    struct qti_test *t =
        parse_ok("<assessmentTest " NS " identifier=\"T\">\n"
                 "<testPart identifier=\"P\" navigationMode=\"linear\" "
                 "submissionMode=\"individual\">\n"
                 "<assessmentSection identifier=\"S\" title=\"s\" visible=\"true\">\n"
                 "<selection select=\"4\" withReplacement=\"true\"/>\n"
                 "<assessmentItemRef identifier=\"X\" href=\"x.xml\"/>\n"
                 "</assessmentSection></testPart></assessmentTest>",
                 "test.xml");
    struct op_err e = {0};
    struct qti_route r;
    assert_int_equal(qti_test_route(t, 7, &r, &e), 0);
    assert_int_equal(r.n, 4);
    assert_string_equal(r.entries[0].key, "X.1");
    assert_string_equal(r.entries[3].key, "X.4");
    assert_int_equal(r.entries[3].occurrence, 4);
    qti_route_free(&r);
    qti_test_free(t);
}

static void test_route_without_selection_keeps_document_order(void **state)
{
    (void)state;
    struct qti_test *t = parse_ok(linear_xml, "tests/test.xml");
    struct op_err e = {0};
    struct qti_route r;
    assert_int_equal(qti_test_route(t, 99, &r, &e), 0);
    assert_string_equal(route_string(&r), "Q1 Q2 Q3 ");
    assert_int_equal(r.entries[2].part, 1);
    qti_route_free(&r);
    qti_test_free(t);
}

static void test_test_json_round_trip_is_identical(void **state)
{
    (void)state;
    struct qti_test *t = parse_ok(linear_xml, "tests/test.xml");
    json_t *j = qti_test_to_json(t);
    char *s1 = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    struct qti_test *t2;
    struct op_err e = {0};
    if (qti_test_from_json(j, &t2, &e) != 0)
        fail_msg("%s", e.msg);
    json_t *j2 = qti_test_to_json(t2);
    char *s2 = json_dumps(j2, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s1, s2);
    struct qti_isc q1 = qti_isc_effective(t2, qti_test_find(t2, "Q1"));
    assert_int_equal(q1.allow_skipping, 1);
    free(s1);
    free(s2);
    json_decref(j);
    json_decref(j2);
    qti_test_free(t);
    qti_test_free(t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_test_reads_parts_sections_and_item_refs),
        cmocka_unit_test(test_item_session_control_is_inherited_item_section_part_default),
        cmocka_unit_test(test_test_refuses_unknown_attribute_with_line),
        cmocka_unit_test(test_test_refuses_unknown_element),
        cmocka_unit_test(test_test_refuses_duplicate_identifier),
        cmocka_unit_test(test_test_refuses_item_ref_named_like_an_occurrence_key),
        cmocka_unit_test(test_test_refuses_item_href_climbing_out),
        cmocka_unit_test(test_test_refuses_selection_larger_than_section),
        cmocka_unit_test(test_test_refuses_huge_or_nan_selection_without_converting_it),
        cmocka_unit_test(test_test_refuses_test_part_without_section),
        cmocka_unit_test(test_test_refuses_bad_navigation_mode),
        cmocka_unit_test(test_test_refuses_unknown_qti_namespace),
        cmocka_unit_test(test_route_selects_required_items_and_keeps_fixed_in_place),
        cmocka_unit_test(test_route_is_the_same_for_the_same_seed),
        cmocka_unit_test(test_route_with_replacement_numbers_occurrences),
        cmocka_unit_test(test_route_without_selection_keeps_document_order),
        cmocka_unit_test(test_test_json_round_trip_is_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
