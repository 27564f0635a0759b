/* test_qti_section_refs.c - assessmentSectionRef (QTI 2.1/2.2: a section kept in a file of its
 * own, referred to by its href relative to the file that refers to it), resolved when a
 * package is loaded; and the refusals of a missing, malformed, misplaced or circular one,
 * each naming the file and line of the reference. Packages are built in memory
 * (qti_package_from_files) or from tests/fixtures/qti/section-refs. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "qti/compile.h"
#include "qti_testzip.h"

#define NS "xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\""

static const char manifest[] =
    "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\"><resources>"
    "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\"/>"
    "</resources></manifest>";

static const char item_xml[] =
    "<assessmentItem " NS " identifier=\"q\" title=\"q\" adaptive=\"false\" "
    "timeDependent=\"false\"><itemBody><p>x</p></itemBody></assessmentItem>";

/* A test whose part holds section S0 with `inside` (item refs, section refs). */
static char *test_with(const char *inside)
{
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "<assessmentTest " NS " identifier=\"T\" title=\"T\">\n"
             "<testPart identifier=\"P\" navigationMode=\"linear\" submissionMode=\"individual\">\n"
             "<assessmentSection identifier=\"S0\" title=\"S0\" visible=\"true\">\n"
             "%s\n"
             "</assessmentSection>\n"
             "</testPart>\n"
             "</assessmentTest>\n",
             inside);
    return buf;
}

/* Loads a package of the manifest, test.xml = `test`, items/q.xml and the NULL-terminated
 * (path, content) pairs of `extra`. Returns the loaded test or NULL with e filled. */
static struct qti_loaded *load(const char *test, const char *const *extra, struct op_err *e)
{
    struct qti_file files[96] = {
        {(char *)"imsmanifest.xml", (unsigned char *)manifest, sizeof manifest - 1},
        {(char *)"test.xml", (unsigned char *)test, strlen(test)},
        {(char *)"items/q.xml", (unsigned char *)item_xml, sizeof item_xml - 1},
    };
    size_t n = 3;
    for (size_t i = 0; extra && extra[i]; i += 2)
        files[n++] = (struct qti_file){(char *)extra[i], (unsigned char *)extra[i + 1],
                                       strlen(extra[i + 1])};
    struct qti_package *p = NULL;
    if (qti_package_from_files("p.zip", files, n, NULL, &p, e) != 0)
        fail_msg("package: %s", e->msg);
    struct qti_loaded *l = NULL;
    qti_load_package(p, &l, e);
    return l;
}

static void refused(const char *test, const char *const *extra, const char *needle)
{
    struct op_err e = {0};
    struct qti_loaded *l = load(test, extra, &e);
    if (l) {
        qti_loaded_free(l);
        fail_msg("accepted; expected \"%s\"", needle);
    }
    if (!strstr(e.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
}

static const char *route_keys(const struct qti_loaded *l, char *buf, size_t size)
{
    struct qti_route r;
    struct op_err e = {0};
    if (qti_test_route(l->test, 1, &r, &e) != 0)
        fail_msg("route: %s", e.msg);
    buf[0] = 0;
    for (size_t i = 0; i < r.n; i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? " " : "", r.entries[i].key);
    qti_route_free(&r);
    return buf;
}

static void test_section_ref_is_replaced_by_the_section_of_its_file(void **state)
{
    (void)state;
    const char *const extra[] = {"sections/a.xml",
                                 "<assessmentSection " NS
                                 " identifier=\"SA\" title=\"A\" visible=\"true\">\n"
                                 "<assessmentItemRef identifier=\"Q2\" href=\"../items/q.xml\"/>\n"
                                 "</assessmentSection>",
                                 NULL};
    struct op_err e = {0};
    struct qti_loaded *l =
        load(test_with("<assessmentItemRef identifier=\"Q1\" href=\"items/q.xml\"/>\n"
                       "<assessmentSectionRef identifier=\"SA\" href=\"sections/a.xml\"/>\n"
                       "<assessmentItemRef identifier=\"Q3\" href=\"items/q.xml\"/>"),
             extra, &e);
    if (!l)
        fail_msg("%s", e.msg);
    const struct qti_node *sa = qti_test_find(l->test, "SA");
    assert_non_null(sa);
    assert_int_equal(sa->kind, QTI_NODE_SECTION);
    assert_string_equal(sa->title, "A");
    assert_string_equal(sa->parent->identifier, "S0");
    assert_string_equal(sa->src, "sections/a.xml");
    /* the item ref inside is resolved from the section's file */
    const struct qti_node *q2 = qti_test_find(l->test, "Q2");
    assert_string_equal(q2->href, "items/q.xml");
    assert_int_equal(q2->line, 2);
    char buf[256];
    /* in document order, the section where its reference was */
    assert_string_equal(route_keys(l, buf, sizeof buf), "Q1 Q2 Q3");
    /* and it compiles: the compiled test knows nothing of the reference */
    struct buf out = BUF_INIT;
    assert_int_equal(qti_compile(l, &out, &e), 0);
    struct qti_loaded *dev = NULL;
    assert_int_equal(qti_delivery_load((unsigned char *)out.data, out.len, &dev, &e), 0);
    assert_string_equal(route_keys(dev, buf, sizeof buf), "Q1 Q2 Q3");
    assert_non_null(qti_test_find(dev->test, "SA"));
    qti_loaded_free(dev);
    buf_free(&out);
    qti_loaded_free(l);
}

static void test_nested_section_refs_resolve_from_their_own_file(void **state)
{
    (void)state;
    const char *const extra[] = {
        "sections/a.xml",
        "<assessmentSection " NS " identifier=\"SA\" title=\"A\" visible=\"true\">\n"
        "<assessmentSectionRef identifier=\"SB\" href=\"deeper/b.xml\"/>\n"
        "</assessmentSection>",
        "sections/deeper/b.xml",
        "<assessmentSection " NS " identifier=\"SB\" title=\"B\" visible=\"true\">\n"
        "<rubricBlock view=\"candidate\"><p><img src=\"pic.png\" alt=\"p\"/></p></rubricBlock>\n"
        "<assessmentSection identifier=\"SC\" title=\"C\" visible=\"true\">\n"
        "<assessmentSectionRef identifier=\"SD\" href=\"../d.xml\"/>\n"
        "</assessmentSection>\n"
        "</assessmentSection>",
        "sections/deeper/pic.png",
        "PNG",
        "sections/d.xml",
        "<assessmentSection " NS " identifier=\"SD\" title=\"D\" visible=\"true\">\n"
        "<assessmentItemRef identifier=\"Q9\" href=\"../items/q.xml\"/>\n"
        "</assessmentSection>",
        NULL};
    struct op_err e = {0};
    struct qti_loaded *l = load(
        test_with("<assessmentSectionRef identifier=\"SA\" href=\"sections/a.xml\"/>"), extra, &e);
    if (!l)
        fail_msg("%s", e.msg);
    const struct qti_node *sd = qti_test_find(l->test, "SD");
    assert_non_null(sd);
    /* a ref inside a plain section of a section file is resolved from that file */
    assert_string_equal(sd->parent->identifier, "SC");
    assert_string_equal(sd->src, "sections/d.xml");
    assert_string_equal(qti_test_find(l->test, "Q9")->href, "items/q.xml");
    /* the rubric's picture is found from its section's file */
    const struct qti_node *sb = qti_test_find(l->test, "SB");
    assert_int_equal(sb->nrubrics, 1);
    assert_non_null(strstr(sb->rubrics[0].xhtml, "src=\"sections/deeper/pic.png\""));
    int has = 0;
    for (size_t i = 0; i < l->test->assets.count; i++)
        has |= strcmp(l->test->assets.paths[i], "sections/deeper/pic.png") == 0;
    assert_true(has);
    qti_loaded_free(l);
}

static void test_section_ref_passes_its_own_settings_to_the_section(void **state)
{
    (void)state;
    const char *const extra[] = {"a.xml",
                                 "<assessmentSection " NS
                                 " identifier=\"SA\" title=\"A\" visible=\"true\">\n"
                                 "<itemSessionControl allowSkipping=\"false\"/>\n"
                                 "<assessmentItemRef identifier=\"Q2\" href=\"items/q.xml\"/>\n"
                                 "</assessmentSection>",
                                 NULL};
    struct op_err e = {0};
    struct qti_loaded *l = load(
        test_with("<assessmentItemRef identifier=\"Q1\" href=\"items/q.xml\"/>\n"
                  "<assessmentSectionRef identifier=\"SA\" href=\"a.xml\" required=\"true\">\n"
                  "<preCondition><baseValue baseType=\"boolean\">true</baseValue></preCondition>\n"
                  "<branchRule target=\"EXIT_TEST\"><baseValue baseType=\"boolean\">false"
                  "</baseValue></branchRule>\n"
                  "<itemSessionControl maxAttempts=\"3\" allowSkipping=\"true\"/>\n"
                  "<timeLimits maxTime=\"60\"/>\n"
                  "</assessmentSectionRef>"),
        extra, &e);
    if (!l)
        fail_msg("%s", e.msg);
    const struct qti_node *sa = qti_test_find(l->test, "SA");
    assert_true(sa->required);
    assert_int_equal(sa->npre, 1);
    assert_int_equal(sa->nbranches, 1);
    assert_true(sa->time_limits.has_max && sa->time_limits.max_time == 60);
    /* the section's own setting wins; what it leaves unset comes from the reference */
    struct qti_isc isc = qti_isc_effective(l->test, qti_test_find(l->test, "Q2"));
    assert_int_equal(isc.allow_skipping, 0);
    assert_int_equal(isc.max_attempts, 3);
    qti_loaded_free(l);
}

static void test_section_ref_to_a_missing_file_is_refused_naming_the_line(void **state)
{
    (void)state;
    refused(test_with("<assessmentSectionRef identifier=\"SA\" href=\"sections/none.xml\"/>"), NULL,
            "p.zip: test.xml line 4: assessmentSectionRef SA points to sections/none.xml, which "
            "is not in the archive");
    refused(test_with("<assessmentSectionRef identifier=\"SA\"/>"), NULL,
            "test.xml line 4: assessmentSectionRef SA: missing href");
    refused(test_with("<assessmentSectionRef identifier=\"SA\" href=\"../../etc/passwd\"/>"), NULL,
            "test.xml line 4: assessmentSectionRef SA: href \"../../etc/passwd\" climbs out of the "
            "package");
    refused(
        test_with("<assessmentSectionRef identifier=\"SA\" href=\"http://example.com/s.xml\"/>"),
        NULL, "test.xml line 4: assessmentSectionRef SA: href \"http://example.com/s.xml\"");
    refused(test_with("<assessmentSectionRef identifier=\"SA\" href=\"a.xml\" bogus=\"1\"/>"), NULL,
            "test.xml line 4: assessmentSectionRef: unknown attribute \"bogus\"");
}

static void test_malformed_or_foreign_section_file_is_refused_naming_it(void **state)
{
    (void)state;
    const char *ref = "<assessmentSectionRef identifier=\"SA\" href=\"s/a.xml\"/>";
    const char *const bad_xml[] = {
        "s/a.xml", "<assessmentSection " NS " identifier=\"SA\">\n<oops></assessmentSection>",
        NULL};
    refused(test_with(ref), bad_xml, "p.zip: s/a.xml line 2: malformed XML");
    const char *const not_section[] = {"s/a.xml", "<assessmentItem " NS " identifier=\"x\"/>",
                                       NULL};
    refused(test_with(ref), not_section,
            "p.zip: test.xml line 4: assessmentSectionRef SA: the root element of s/a.xml is "
            "<assessmentItem>, not <assessmentSection>");
    const char *const qti3[] = {
        "s/a.xml",
        "<assessmentSection xmlns=\"http://www.imsglobal.org/xsd/imsqtiasi_v3p0\" "
        "identifier=\"SA\" title=\"A\" visible=\"true\"/>",
        NULL};
    refused(test_with(ref), qti3, "assessmentSectionRef SA: s/a.xml is not in the QTI 2.1 or 2.2");
    /* an error inside the section file names that file and its line */
    const char *const bad_inside[] = {
        "s/a.xml",
        "<assessmentSection " NS " identifier=\"SA\" title=\"A\" visible=\"true\">\n"
        "\n<assessmentItemRef identifier=\"Q2\" href=\"../items/q.xml\" weird=\"1\"/>\n"
        "</assessmentSection>",
        NULL};
    refused(test_with(ref), bad_inside,
            "p.zip: s/a.xml line 3: assessmentItemRef: unknown attribute \"weird\"");
    /* an item the section file names is looked for from that file, and missing, named there */
    const char *const missing_item[] = {
        "s/a.xml",
        "<assessmentSection " NS " identifier=\"SA\" title=\"A\" visible=\"true\">\n"
        "<assessmentItemRef identifier=\"Q2\" href=\"items/q.xml\"/>\n"
        "</assessmentSection>",
        NULL};
    refused(test_with(ref), missing_item,
            "p.zip: s/a.xml line 2: assessmentItemRef Q2 points to s/items/q.xml, which is not "
            "in the archive");
    /* an identifier used twice across files names the second one's file */
    const char *const twice[] = {"s/a.xml",
                                 "<assessmentSection " NS
                                 " identifier=\"SA\" title=\"A\" visible=\"true\">\n"
                                 "<assessmentItemRef identifier=\"S0\" href=\"../items/q.xml\"/>\n"
                                 "</assessmentSection>",
                                 NULL};
    refused(test_with(ref), twice, "p.zip: s/a.xml line 2: identifier S0 is used twice");
}

static void test_circular_section_refs_are_refused_with_the_chain(void **state)
{
    (void)state;
    const char *const self[] = {"s/a.xml",
                                "<assessmentSection " NS
                                " identifier=\"SA\" title=\"A\" visible=\"true\">\n"
                                "<assessmentSectionRef identifier=\"SB\" href=\"a.xml\"/>\n"
                                "</assessmentSection>",
                                NULL};
    refused(test_with("<assessmentSectionRef identifier=\"SA\" href=\"s/a.xml\"/>"), self,
            "p.zip: s/a.xml line 2: assessmentSectionRef SB: circular reference (s/a.xml -> "
            "s/a.xml)");
    const char *const loop[] = {
        "s/a.xml",
        "<assessmentSection " NS " identifier=\"SA\" title=\"A\" visible=\"true\">\n"
        "<assessmentSectionRef identifier=\"SB\" href=\"b.xml\"/>\n"
        "</assessmentSection>",
        "s/b.xml",
        "<assessmentSection " NS " identifier=\"SB\" title=\"B\" visible=\"true\">\n"
        "<assessmentSectionRef identifier=\"SX\" href=\"../test.xml\"/>\n"
        "</assessmentSection>",
        NULL};
    refused(test_with("<assessmentSectionRef identifier=\"SA\" href=\"s/a.xml\"/>"), loop,
            "p.zip: s/b.xml line 2: assessmentSectionRef SX: circular reference (test.xml -> "
            "s/a.xml -> s/b.xml -> test.xml)");
}

static void test_section_refs_are_bounded(void **state)
{
    (void)state;
    /* a chain of distinct files deeper than sections may nest */
    static char files[40][2][256];
    const char *extra[2 * 40 + 1];
    size_t n = 0;
    for (int i = 0; i < 40; i++) {
        snprintf(files[i][0], sizeof files[i][0], "s/%d.xml", i);
        snprintf(files[i][1], sizeof files[i][1],
                 "<assessmentSection " NS " identifier=\"S%d\" title=\"s\" visible=\"true\">"
                 "<assessmentSectionRef identifier=\"R%d\" href=\"%d.xml\"/></assessmentSection>",
                 i + 1, i + 1, i + 1);
        extra[n++] = files[i][0];
        extra[n++] = files[i][1];
    }
    extra[n] = NULL;
    refused(test_with("<assessmentSectionRef identifier=\"R0\" href=\"s/0.xml\"/>"), extra,
            "sections nested deeper than 32");
    /* a file read twice over by two refs: a section may not appear twice */
    const char *const once[] = {"s/a.xml",
                                "<assessmentSection " NS
                                " identifier=\"SA\" title=\"A\" visible=\"true\">\n"
                                "<assessmentItemRef identifier=\"Q2\" href=\"../items/q.xml\"/>\n"
                                "</assessmentSection>",
                                NULL};
    refused(test_with("<assessmentSectionRef identifier=\"SA\" href=\"s/a.xml\"/>\n"
                      "<assessmentSectionRef identifier=\"SA2\" href=\"s/a.xml\"/>"),
            once, "s/a.xml line 1: identifier SA is used twice in the test");
}

static void test_section_ref_without_a_package_is_refused(void **state)
{
    (void)state;
    const char *xml = test_with("<assessmentSectionRef identifier=\"SA\" href=\"a.xml\"/>");
    xmlDocPtr doc = NULL;
    struct op_err e = {0};
    assert_int_equal(qti_xml_read("test.xml", xml, strlen(xml), NULL, &doc, &e), 0);
    struct qti_test *t = NULL;
    assert_int_not_equal(qti_test_parse(doc, "test.xml", "test.xml", &t, &e), 0);
    assert_non_null(strstr(e.msg, "test.xml line 4: assessmentSectionRef SA: a section in a file "
                                  "of its own needs the test's package"));
    xmlFreeDoc(doc);
}

/* The fixture package: SA in sections/part-a.xml refers to SB in sections/nested/part-b.xml. */
static void test_fixture_package_with_section_refs_loads(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char zip[4200];
    snprintf(zip, sizeof zip, "%s/section-refs.zip", dir);
    assert_int_equal(testzip_fixture_zip("section-refs", zip), 0);
    struct qti_loaded *l = NULL;
    struct op_err e = {0};
    if (qti_load(zip, NULL, &l, &e) != 0)
        fail_msg("%s", e.msg);
    char buf[256];
    assert_string_equal(route_keys(l, buf, sizeof buf), "Q01 Q02 Q03");
    assert_string_equal(qti_test_find(l->test, "SB")->parent->identifier, "SA");
    struct qti_isc isc = qti_isc_effective(l->test, qti_test_find(l->test, "Q03"));
    assert_int_equal(isc.max_attempts, 2);
    qti_loaded_free(l);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_section_ref_is_replaced_by_the_section_of_its_file),
        cmocka_unit_test(test_nested_section_refs_resolve_from_their_own_file),
        cmocka_unit_test(test_section_ref_passes_its_own_settings_to_the_section),
        cmocka_unit_test(test_section_ref_to_a_missing_file_is_refused_naming_the_line),
        cmocka_unit_test(test_malformed_or_foreign_section_file_is_refused_naming_it),
        cmocka_unit_test(test_circular_section_refs_are_refused_with_the_chain),
        cmocka_unit_test(test_section_refs_are_bounded),
        cmocka_unit_test(test_section_ref_without_a_package_is_refused),
        cmocka_unit_test(test_fixture_package_with_section_refs_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
