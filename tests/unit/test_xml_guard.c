/* test_xml_guard.c - hostile XML that libxml2 2.9 parses in quadratic time: an element with
 * hundreds of thousands of attributes (its duplicate check compares every pair). Found by the
 * red-team review: a 3.4 MB item took over 11 minutes of CPU in import-qti. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qti/item.h"
#include "qti/package.h"
#include "qti_testzip.h"

#define MANY 60000

static const char *HEAD = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" "
                          "identifier=\"i1\" title=\"t\" ";
static const char *TAIL = "><itemBody><p>x</p></itemBody></assessmentItem>\n";

/* An item whose root element carries MANY attributes a0="x" a1="x" ... (caller frees). */
static char *many_attributes(size_t *len)
{
    size_t cap = strlen(HEAD) + strlen(TAIL) + (size_t)MANY * 16 + 1;
    char *s = malloc(cap);
    size_t n = (size_t)snprintf(s, cap, "%s", HEAD);
    for (int i = 0; i < MANY; i++)
        n += (size_t)snprintf(s + n, cap - n, "a%d=\"x\" ", i);
    n += (size_t)snprintf(s + n, cap - n, "%s", TAIL);
    *len = n;
    return s;
}

/* The same item in UTF-16LE with a byte-order mark, which a byte scan for '=' would miss. */
static char *to_utf16le(const char *s, size_t len, size_t *out_len)
{
    char *u = malloc(2 * len + 2);
    u[0] = (char)0xff;
    u[1] = (char)0xfe;
    for (size_t i = 0; i < len; i++) {
        u[2 + 2 * i] = s[i];
        u[3 + 2 * i] = 0;
    }
    *out_len = 2 * len + 2;
    return u;
}

static void test_element_with_too_many_attributes_is_refused_quickly(void **state)
{
    (void)state;
    size_t len;
    char *xml = many_attributes(&len);
    struct op_err e = {0};
    xmlDoc *doc = NULL;
    alarm(60); /* without the guard this takes minutes: fail rather than hang */
    time_t t0 = time(NULL);
    assert_int_equal(qti_xml_read("item.xml", xml, len, NULL, &doc, &e), OP_EINPUT);
    assert_null(doc);
    assert_non_null(strstr(e.msg, "attributes"));
    assert_true(time(NULL) - t0 < 5);
    /* the same in UTF-16 */
    size_t ulen;
    char *u = to_utf16le(xml, len, &ulen);
    struct qti_xml_limits lim;
    qti_xml_limits_default(&lim);
    lim.max_bytes = ulen;
    assert_int_equal(qti_xml_read("item.xml", u, ulen, &lim, &doc, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "attributes"));
    alarm(0);
    free(u);
    free(xml);
}

static void test_attribute_count_guard_ignores_markup_in_values_comments_and_cdata(void **state)
{
    (void)state;
    /* '=' inside quoted values, comments, CDATA and text is not an attribute */
    struct op_err e = {0};
    size_t cap = 4 * 1024 * 1024, n = 0;
    char *s = malloc(cap);
    n += (size_t)snprintf(s + n, cap - n, "%s", HEAD);
    n += (size_t)snprintf(s + n, cap - n, "%s", "><itemBody><p title=\"");
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(s + n, cap - n, "a=b ");
    n += (size_t)snprintf(s + n, cap - n, "%s", "\">");
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(s + n, cap - n, "x=y ");
    n += (size_t)snprintf(s + n, cap - n, "%s", "<!-- ");
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(s + n, cap - n, "<a b=c> ");
    n += (size_t)snprintf(s + n, cap - n, "%s", "--><![CDATA[");
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(s + n, cap - n, "<a b=\"c\"> ");
    n += (size_t)snprintf(s + n, cap - n, "%s", "]]></p></itemBody></assessmentItem>\n");
    xmlDoc *doc = NULL;
    assert_int_equal(qti_xml_read("item.xml", s, n, NULL, &doc, &e), 0);
    xmlFreeDoc(doc);
    free(s);
}

/* Markup that a naive scan would read differently from libxml2, hiding the attributes of the
 * root: a quote in a comment of the internal subset, "<!--" in a system literal, a quote
 * left open by a malformed tag. Each must still be refused by the guard. */
static void test_attribute_guard_is_not_fooled_by_quotes_or_literals(void **state)
{
    (void)state;
    const char *preludes[] = {
        "<!DOCTYPE assessmentItem [<!-- \" -->]>\n",
        "<!DOCTYPE assessmentItem SYSTEM \"<!--\">\n",
        "<!DOCTYPE assessmentItem [<!ATTLIST assessmentItem x CDATA \"'\">]>\n",
        "<?pi \" ?>\n",
    };
    for (size_t k = 0; k < sizeof preludes / sizeof preludes[0]; k++) {
        size_t cap = strlen(preludes[k]) + strlen(HEAD) + strlen(TAIL) + 1000 * 16 + 1, n = 0;
        char *xml = malloc(cap);
        n += (size_t)snprintf(xml + n, cap - n, "<?xml version=\"1.0\"?>\n%s%s", preludes[k],
                              strchr(HEAD, '\n') + 1);
        for (int i = 0; i < 1000; i++)
            n += (size_t)snprintf(xml + n, cap - n, "a%d=\"x\" ", i);
        n += (size_t)snprintf(xml + n, cap - n, "%s", TAIL);
        struct op_err e = {0};
        assert_int_equal(qti_xml_attr_guard("item.xml", xml, n, QTI_XML_MAX_ATTRIBUTES, 0, &e),
                         OP_EINPUT);
        assert_non_null(strstr(e.msg, "attributes"));
        free(xml);
    }
    /* a malformed tag leaves a quote open: the next tag is still counted */
    size_t cap = 1000 * 16 + 256, n = 0;
    char *xml = malloc(cap);
    n += (size_t)snprintf(xml + n, cap - n, "<r><a b=\"x><c ");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(xml + n, cap - n, "a%d=\"x\" ", i);
    n += (size_t)snprintf(xml + n, cap - n, "/></r>");
    struct op_err e = {0};
    assert_int_equal(qti_xml_attr_guard("x.xml", xml, n, QTI_XML_MAX_ATTRIBUTES, 0, &e), OP_EINPUT);
    free(xml);
    /* entity declarations, in UTF-16 too, when the caller asks */
    const char *ent =
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE r [<!ENTITY x \"<!--\">]><r/>";
    size_t ulen;
    char *u = to_utf16le(ent, strlen(ent), &ulen);
    assert_int_equal(qti_xml_attr_guard("m.xml", u, ulen, QTI_XML_MAX_ATTRIBUTES, 1, &e),
                     OP_EINPUT);
    assert_non_null(strstr(e.msg, "entity"));
    assert_int_equal(qti_xml_attr_guard("m.xml", u, ulen, QTI_XML_MAX_ATTRIBUTES, 0, &e), 0);
    free(u);
}

static void test_manifest_with_too_many_attributes_is_refused_quickly(void **state)
{
    (void)state;
    size_t cap = (size_t)MANY * 16 + 1024, n = 0;
    char *man = malloc(cap);
    n += (size_t)snprintf(man + n, cap - n, "%s",
                          "<?xml version=\"1.0\"?>\n<manifest "
                          "xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" ");
    for (int i = 0; i < MANY; i++)
        n += (size_t)snprintf(man + n, cap - n, "a%d=\"x\" ", i);
    n += (size_t)snprintf(man + n, cap - n, "%s", "><resources/></manifest>\n");
    /* a stored zip with the manifest only, built with libzip */
    char *dir = testutil_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/p.zip", dir);
    int zerr;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(za);
    zip_source_t *src = zip_source_buffer(za, man, n, 0);
    assert_true(zip_file_add(za, "imsmanifest.xml", src, 0) >= 0);
    assert_int_equal(zip_close(za), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long zl = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *zdata = malloc((size_t)zl);
    assert_int_equal(fread(zdata, 1, (size_t)zl, f), (size_t)zl);
    fclose(f);
    struct qti_package *p = NULL;
    struct op_err e = {0};
    alarm(60);
    time_t t0 = time(NULL);
    assert_int_equal(qti_package_open_memory("p.zip", zdata, (size_t)zl, NULL, &p, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "attributes"));
    assert_true(time(NULL) - t0 < 5);
    alarm(0);
    free(zdata);
    free(man);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_element_with_too_many_attributes_is_refused_quickly),
        cmocka_unit_test(test_attribute_count_guard_ignores_markup_in_values_comments_and_cdata),
        cmocka_unit_test(test_attribute_guard_is_not_fooled_by_quotes_or_literals),
        cmocka_unit_test(test_manifest_with_too_many_attributes_is_refused_quickly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
