/* test_qti_encodings.c - the character encodings of a package's XML files. Outpost reads
 * UTF-8 and UTF-16 only: every byte-level guard (the attribute count, the entity refusal)
 * must see the same characters as libxml2, and libxml2 2.9 decodes whatever a document
 * declares (UTF-7, UTF-32, ISO-8859-1, EBCDIC, ...) through iconv. Found in review: a
 * manifest in UTF-7 hid its entity declarations from the byte scan and imported, and a 58 KB
 * one with quadratic entity expansion took 17 s and 400 MB. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "qti/compile.h"
#include "qti/item.h"
#include "qti/package.h"
#include "qti_testzip.h"

/* ------------------------------------------------------------------ documents -- */

static const char manifest_body[] =
    "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\">\n"
    "<resources>\n"
    "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\">"
    "<file href=\"test.xml\"/><dependency identifierref=\"Q\"/></resource>\n"
    "<resource identifier=\"Q\" type=\"imsqti_item_xmlv2p1\" href=\"q.xml\">"
    "<file href=\"q.xml\"/></resource>\n"
    "</resources></manifest>\n";
static const char test_body[] =
    "<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"T\" "
    "title=\"Caf\xc3\xa9\">\n"
    "<testPart identifier=\"P\" navigationMode=\"linear\" submissionMode=\"individual\">\n"
    "<assessmentSection identifier=\"S\" title=\"s\" visible=\"true\">\n"
    "<assessmentItemRef identifier=\"Q\" href=\"q.xml\"/></assessmentSection></testPart>\n"
    "</assessmentTest>\n";
static const char item_body[] =
    "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"Q\" "
    "title=\"q\" adaptive=\"false\" timeDependent=\"false\">\n"
    "<itemBody><p>Gr\xc3\xbc\xc3\x9f Gott \xe2\x82\xac</p></itemBody>\n"
    "</assessmentItem>\n";

/* `decl` (an XML declaration, may be "") then `body`, in a new buffer. */
static char *cat2(const char *decl, const char *body, size_t *len)
{
    size_t a = strlen(decl), b = strlen(body);
    char *s = malloc(a + b + 1);
    memcpy(s, decl, a);
    memcpy(s + a, body, b + 1);
    *len = a + b;
    return s;
}

/* The code points of UTF-8 `s` (n bytes); *count set. Test input is valid UTF-8. */
static unsigned *code_points(const char *s, size_t n, size_t *count)
{
    unsigned *cp = malloc(sizeof *cp * (n + 1));
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        int extra = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
        unsigned v = extra == 0 ? c : extra == 1 ? c & 0x1f : extra == 2 ? c & 0x0f : c & 0x07;
        for (int j = 1; j <= extra; j++)
            v = v << 6 | ((unsigned char)s[i + (size_t)j] & 0x3f);
        cp[k++] = v;
        i += 1 + (size_t)extra;
    }
    *count = k;
    return cp;
}

/* UTF-8 `s` re-encoded as UTF-16 or UTF-32 (`width` 2 or 4), with a byte order mark when
 * `bom` (BMP characters only in these tests). */
static char *widen(const char *s, size_t n, int width, int big, int bom, size_t *len)
{
    size_t count;
    unsigned *cp = code_points(s, n, &count);
    unsigned char *out = malloc((count + 1) * (size_t)width);
    size_t o = 0;
    for (size_t i = bom ? 0 : 1; i <= count; i++) {
        unsigned v = i == 0 ? 0xfeff : cp[i - 1];
        for (int b = 0; b < width; b++)
            out[o + (size_t)(big ? width - 1 - b : b)] = (unsigned char)(v >> (8 * b));
        o += (size_t)width;
    }
    free(cp);
    *len = o;
    return (char *)out;
}

/* The XML declaration `decl` in ASCII, then `body` entirely in UTF-7 base64 (one shifted
 * run, so that no '<', '=' or '&' byte is left for a byte scan to see). */
static char *utf7(const char *decl, const char *body, size_t *len)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t count;
    unsigned *cp = code_points(body, strlen(body), &count);
    struct buf b = BUF_INIT;
    buf_puts(&b, decl);
    buf_puts(&b, "+");
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < count; i++) {
        acc = acc << 16 | cp[i];
        bits += 16;
        while (bits >= 6) {
            buf_append(&b, &b64[(acc >> (bits - 6)) & 0x3f], 1);
            bits -= 6;
        }
        acc &= (1u << bits) - 1;
    }
    if (bits)
        buf_append(&b, &b64[(acc << (6 - bits)) & 0x3f], 1);
    buf_puts(&b, "-");
    free(cp);
    *len = b.len;
    return buf_detach(&b);
}

/* ISO-8859-1 bytes of UTF-8 `s` (characters up to U+00FF only). */
static char *latin1(const char *decl, const char *body, size_t *len)
{
    size_t n, count;
    char *s = cat2(decl, body, &n);
    unsigned *cp = code_points(s, n, &count);
    char *out = malloc(count + 1);
    for (size_t i = 0; i < count; i++)
        out[i] = (char)(cp[i] <= 0xff ? cp[i] : '?');
    out[count] = 0;
    free(cp);
    free(s);
    *len = count;
    return out;
}

/* ------------------------------------------------------------------ packages -- */

struct doc {
    const char *data;
    size_t len;
};

/* Opens a package of manifest, test.xml and q.xml, with each document given as bytes or NULL
 * for its plain UTF-8 version; the package is also loaded (test and items read) and
 * compiled. Returns the rc, message in *e. */
static int open_and_load(struct doc manifest, struct doc test, struct doc item, struct op_err *e)
{
    size_t ml, tl, il;
    char *m = cat2("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", manifest_body, &ml);
    char *t = cat2("", test_body, &tl);
    char *it = cat2("", item_body, &il);
    struct qti_file files[] = {
        {(char *)"imsmanifest.xml", (unsigned char *)(manifest.data ? manifest.data : m),
         manifest.data ? manifest.len : ml},
        {(char *)"test.xml", (unsigned char *)(test.data ? test.data : t),
         test.data ? test.len : tl},
        {(char *)"q.xml", (unsigned char *)(item.data ? item.data : it), item.data ? item.len : il},
    };
    struct qti_package *p = NULL;
    int rc = qti_package_from_files("enc.zip", files, 3, NULL, &p, e);
    if (rc == 0) {
        struct qti_loaded *l = NULL;
        rc = qti_load_package(p, &l, e);
        if (rc == 0) {
            struct buf out = BUF_INIT;
            rc = qti_compile(l, &out, e);
            buf_free(&out);
        }
        qti_loaded_free(l);
    }
    free(m);
    free(t);
    free(it);
    return rc;
}

#define NONE ((struct doc){NULL, 0})

static void expect_message(int rc, const struct op_err *e, const char *const *needles)
{
    if (rc == 0)
        fail_msg("accepted a document that should be refused (%s)", needles[0]);
    for (size_t i = 0; needles[i]; i++)
        if (!strstr(e->msg, needles[i]))
            fail_msg("message \"%s\" does not contain \"%s\"", e->msg, needles[i]);
}

/* ------------------------------------------------------------------ tests -- */

static void test_manifest_in_utf7_declaring_an_entity_is_refused(void **state)
{
    (void)state;
    /* The entity is used for the item's href: before the fix the package imported. */
    const char *body =
        "<!DOCTYPE manifest [<!ENTITY q \"q.xml\">]>\n"
        "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\">\n"
        "<resources>\n"
        "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\">"
        "<file href=\"test.xml\"/><dependency identifierref=\"Q\"/></resource>\n"
        "<resource identifier=\"Q\" type=\"imsqti_item_xmlv2p1\" href=\"&q;\">"
        "<file href=\"&q;\"/></resource>\n"
        "</resources></manifest>\n";
    size_t n;
    char *m = utf7("<?xml version=\"1.0\" encoding=\"UTF-7\"?>\n", body, &n);
    assert_null(memchr(m + 40, '<', n - 40)); /* nothing left for a byte scan */
    struct op_err e = {0};
    int rc = open_and_load((struct doc){m, n}, NONE, NONE, &e);
    expect_message(
        rc, &e, (const char *[]){"enc.zip: imsmanifest.xml", "UTF-7", "re-save it as UTF-8", NULL});
    free(m);
}

/* Quadratic expansion: one 20 KB entity referenced 2,000 times in attribute values, in
 * UTF-7, UTF-16 and UTF-8. Each must be refused at once, whatever the encoding. */
static void test_manifest_with_quadratic_entity_expansion_is_refused_quickly(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_puts(&b, "<!DOCTYPE manifest [<!ENTITY a \"");
    for (int i = 0; i < 20000; i++)
        buf_puts(&b, "a");
    buf_puts(&b, "\">]>\n<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" "
                 "identifier=\"M\"><resources>\n"
                 "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\">"
                 "<file href=\"test.xml\"/><dependency identifierref=\"Q\"/></resource>\n"
                 "<resource identifier=\"Q\" type=\"imsqti_item_xmlv2p1\" href=\"q.xml\">"
                 "<file href=\"q.xml\"/></resource>\n");
    for (int i = 0; i < 2000; i++)
        buf_printf(&b, "<resource identifier=\"R%d\" type=\"webcontent\" x=\"&a;\"/>\n", i);
    buf_puts(&b, "</resources></manifest>\n");
    size_t n7, n16, n8;
    char *m7 = utf7("<?xml version=\"1.0\" encoding=\"UTF-7\"?>\n", b.data, &n7);
    char *s8 = cat2("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n", b.data, &n8);
    char *m16 = widen(s8, n8, 2, 0, 1, &n16);
    free(s8);
    char *m8 = cat2("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", b.data, &n8);
    struct doc docs[] = {{m7, n7}, {m16, n16}, {m8, n8}};
    for (size_t k = 0; k < 3; k++) {
        struct op_err e = {0};
        alarm(60); /* before the fix the UTF-7 one expanded for seconds: fail, never hang */
        time_t t0 = time(NULL);
        int rc = open_and_load(docs[k], NONE, NONE, &e);
        alarm(0);
        expect_message(rc, &e, (const char *[]){"enc.zip: imsmanifest.xml", NULL});
        if (k == 0)
            expect_message(rc, &e, (const char *[]){"UTF-7", NULL});
        else
            expect_message(rc, &e, (const char *[]){"entit", NULL});
        assert_true(time(NULL) - t0 < 5);
    }
    free(m7);
    free(m16);
    free(m8);
    buf_free(&b);
}

static void test_utf16_manifest_test_and_item_are_accepted(void **state)
{
    (void)state;
    /* little and big endian, with a byte order mark; declared UTF-16 or not declared */
    const char *decls[] = {"<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n",
                           "<?xml version=\"1.0\"?>\n", ""};
    for (int big = 0; big < 2; big++) {
        for (size_t d = 0; d < 3; d++) {
            size_t n, ml, tl, il;
            char *s = cat2(decls[d], manifest_body, &n);
            char *m = widen(s, n, 2, big, 1, &ml);
            free(s);
            s = cat2(decls[d], test_body, &n);
            char *t = widen(s, n, 2, big, 1, &tl);
            free(s);
            s = cat2(decls[d], item_body, &n);
            char *it = widen(s, n, 2, big, 1, &il);
            free(s);
            struct op_err e = {0};
            if (open_and_load((struct doc){m, ml}, (struct doc){t, tl}, (struct doc){it, il}, &e))
                fail_msg("UTF-16%s with \"%s\": %s", big ? "BE" : "LE", decls[d], e.msg);
            free(m);
            free(t);
            free(it);
        }
    }
    /* without a byte order mark, as libxml2 detects it from "<?" */
    size_t n, ml;
    char *s = cat2(decls[0], manifest_body, &n);
    char *m = widen(s, n, 2, 1, 0, &ml);
    free(s);
    struct op_err e = {0};
    if (open_and_load((struct doc){m, ml}, NONE, NONE, &e))
        fail_msg("UTF-16BE without BOM: %s", e.msg);
    free(m);
    /* labelled UTF-8 (as some Windows tools write UTF-16): libxml2 reads on in UTF-16 */
    s = cat2("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", manifest_body, &n);
    for (int bom = 0; bom < 2; bom++) {
        m = widen(s, n, 2, 1, bom, &ml);
        if (open_and_load((struct doc){m, ml}, NONE, NONE, &e))
            fail_msg("UTF-16BE labelled UTF-8: %s", e.msg);
        free(m);
    }
    free(s);
    /* and UTF-8 with a byte order mark */
    s = cat2("\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>\n", manifest_body, &n);
    if (open_and_load((struct doc){s, n}, NONE, NONE, &e))
        fail_msg("UTF-8 with BOM: %s", e.msg);
    free(s);
}

static void test_utf32_documents_are_refused_naming_the_file(void **state)
{
    (void)state;
    const char *decls[] = {"<?xml version=\"1.0\" encoding=\"UTF-32\"?>\n", ""};
    for (int which = 0; which < 3; which++) {
        for (int big = 0; big < 2; big++) {
            for (int bom = 0; bom < 2; bom++) {
                for (size_t d = 0; d < 2; d++) {
                    const char *body = which == 0   ? manifest_body
                                       : which == 1 ? test_body
                                                    : item_body;
                    size_t n, wl;
                    char *s = cat2(decls[d], body, &n);
                    char *w = widen(s, n, 4, big, bom, &wl);
                    free(s);
                    struct doc doc = {w, wl};
                    struct op_err e = {0};
                    int rc = open_and_load(which == 0 ? doc : NONE, which == 1 ? doc : NONE,
                                           which == 2 ? doc : NONE, &e);
                    const char *file = which == 0   ? "enc.zip: imsmanifest.xml"
                                       : which == 1 ? "enc.zip: test.xml"
                                                    : "enc.zip: q.xml";
                    expect_message(rc, &e,
                                   (const char *[]){file, "UTF-32", "re-save it as UTF-8", NULL});
                    free(w);
                }
            }
        }
    }
}

static void test_declared_iso_8859_1_is_refused(void **state)
{
    (void)state;
    const char *decl = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n";
    for (int which = 0; which < 3; which++) {
        size_t n;
        char *s = latin1(decl, which == 0 ? manifest_body : which == 1 ? test_body : item_body, &n);
        struct doc doc = {s, n};
        struct op_err e = {0};
        int rc = open_and_load(which == 0 ? doc : NONE, which == 1 ? doc : NONE,
                               which == 2 ? doc : NONE, &e);
        const char *file = which == 0   ? "enc.zip: imsmanifest.xml"
                           : which == 1 ? "enc.zip: test.xml"
                                        : "enc.zip: q.xml";
        expect_message(rc, &e, (const char *[]){file, "ISO-8859-1", "re-save it as UTF-8", NULL});
        free(s);
    }
    /* the same bytes undeclared are not UTF-8: libxml2 refuses them */
    size_t n;
    char *s = latin1("", item_body, &n);
    struct op_err e = {0};
    int rc = open_and_load(NONE, NONE, (struct doc){s, n}, &e);
    expect_message(rc, &e, (const char *[]){"enc.zip: q.xml line 2: malformed XML", "UTF-8", NULL});
    free(s);
}

/* Every other way of making libxml2 2.9 decode something other than UTF-8 or UTF-16: it
 * honours a declaration after a byte order mark (and switches decoders in the middle of a
 * UTF-16 document), detects EBCDIC and UCS-4 from the first bytes, and reads an encoding
 * even from a malformed declaration. */
static void test_other_declared_or_detected_encodings_are_refused(void **state)
{
    (void)state;
    struct {
        const char *what, *decl;
        int form; /* 0 UTF-8 bytes, 1 UTF-8 with BOM, 2 UTF-16LE with BOM, 3 UTF-16BE no BOM */
        const char *needle;
    } cases[] = {
        {"UTF-8 BOM, declares UTF-7", "<?xml version=\"1.0\" encoding=\"UTF-7\"?>", 1, "UTF-7"},
        {"UTF-16 BOM, declares ISO-8859-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", 2,
         "ISO-8859-1"},
        {"UTF-16 BOM, declares UTF-7", "<?xml version='1.0' encoding='utf-7'?>", 2, "utf-7"},
        {"UTF-16 BOM, declares UCS-2", "<?xml version=\"1.0\" encoding=\"UCS-2\"?>", 2, "UCS-2"},
        {"UTF-16LE BOM, declares UTF-16BE", "<?xml version=\"1.0\" encoding=\"UTF-16BE\"?>", 2,
         "UTF-16BE"},
        {"UTF-8, declares UTF-16", "<?xml version=\"1.0\" encoding=\"UTF-16\"?>", 0, "UTF-16"},
        {"declares windows-1252", "<?xml version=\"1.0\" encoding=\"windows-1252\"?>", 0,
         "windows-1252"},
        {"declares US-ASCII", "<?xml version=\"1.0\" encoding=\"US-ASCII\"?>", 0, "US-ASCII"},
        {"no blank before encoding", "<?xml version=\"1.0\"encoding=\"UTF-7\"?>", 0, "UTF-7"},
        {"no version", "<?xml encoding=\"UTF-7\"?>", 0, "UTF-7"},
        {"blanks around =", "<?xml version=\"1.0\" encoding \n= 'IBM037'?>", 0, "IBM037"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n, len;
        char *s = cat2(cases[k].decl, item_body, &n);
        char *d;
        if (cases[k].form == 0) {
            d = s, len = n, s = NULL;
        } else if (cases[k].form == 1) {
            d = cat2("\xef\xbb\xbf", s, &len);
        } else {
            d = widen(s, n, 2, cases[k].form == 3, cases[k].form == 2, &len);
        }
        free(s);
        struct op_err e = {0};
        int rc = open_and_load(NONE, NONE, (struct doc){d, len}, &e);
        if (rc == 0)
            fail_msg("%s: accepted", cases[k].what);
        if (!strstr(e.msg, "enc.zip: q.xml") || !strstr(e.msg, cases[k].needle) ||
            !strstr(e.msg, "re-save it as UTF-8"))
            fail_msg("%s: message \"%s\"", cases[k].what, e.msg);
        free(d);
    }
    /* EBCDIC (IBM037): "<?xml" is 4C 6F A7 94 93; libxml2 detects it and reads on */
    static const unsigned char ebcdic[] = {0x4c, 0x6f, 0xa7, 0x94, 0x93, 0x40, 0xa5, 0x85, 0x99,
                                           0xa2, 0x89, 0x96, 0x95, 0x7e, 0x7f, 0xf1, 0x4b, 0xf0,
                                           0x7f, 0x6f, 0x6e, 0x4c, 0x99, 0x61, 0x6e};
    struct op_err e = {0};
    int rc = open_and_load(NONE, NONE, (struct doc){(const char *)ebcdic, sizeof ebcdic}, &e);
    expect_message(rc, &e,
                   (const char *[]){"enc.zip: q.xml", "EBCDIC", "re-save it as UTF-8", NULL});
    /* NUL bytes: not UTF-8 (UTF-16 without a byte order mark or declaration) */
    size_t n, len;
    char *s = cat2("", item_body, &n);
    char *d = widen(s, n, 2, 0, 0, &len);
    rc = open_and_load(NONE, NONE, (struct doc){d, len}, &e);
    expect_message(rc, &e, (const char *[]){"enc.zip: q.xml", "re-save it as UTF-8", NULL});
    free(d);
    free(s);
}

/* The attribute guard reads bytes: in UTF-7 an element's 1,000 attributes are base64. */
static void test_item_in_utf7_cannot_hide_attributes_from_the_guard(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_puts(&b, "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" "
                 "identifier=\"Q\" title=\"q\" adaptive=\"false\" timeDependent=\"false\"");
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, " a%d=\"x\"", i);
    buf_puts(&b, "><itemBody><p>x</p></itemBody></assessmentItem>\n");
    size_t n;
    char *d = utf7("<?xml version=\"1.0\" encoding=\"UTF-7\"?>\n", b.data, &n);
    xmlDoc *doc = NULL;
    struct op_err e = {0};
    int rc = qti_xml_read("items/q.xml", d, n, NULL, &doc, &e);
    xmlFreeDoc(doc);
    expect_message(rc, &e, (const char *[]){"items/q.xml", "UTF-7", "re-save it as UTF-8", NULL});
    free(d);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_in_utf7_declaring_an_entity_is_refused),
        cmocka_unit_test(test_manifest_with_quadratic_entity_expansion_is_refused_quickly),
        cmocka_unit_test(test_utf16_manifest_test_and_item_are_accepted),
        cmocka_unit_test(test_utf32_documents_are_refused_naming_the_file),
        cmocka_unit_test(test_declared_iso_8859_1_is_refused),
        cmocka_unit_test(test_other_declared_or_detected_encodings_are_refused),
        cmocka_unit_test(test_item_in_utf7_cannot_hide_attributes_from_the_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
