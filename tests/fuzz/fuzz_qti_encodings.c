/* fuzz_qti_encodings.c - documents in other encodings through every XML reader of a package.
 *
 * The first byte picks the reader (low 2 bits: 0 the manifest, 1 the test, 2 an item, 3 a
 * shared stimulus an item includes) and the form (the rest of the byte, see `forms`); the
 * other bytes are the document as UTF-8, transcoded with iconv (UTF-16, UTF-32, UTF-7,
 * ISO-8859-1, EBCDIC, UCS-2; with or without a byte order mark), or prefixed by an XML
 * declaration naming an encoding, possibly after a UTF-16 byte order mark with the rest
 * transcoded to the declared encoding (libxml2 2.9 switches decoders there). The package is
 * then loaded and compiled as import-qti does.
 *
 * Besides crashes and leaks, it aborts when
 *  - the parser's own encoding lock fires ("found by the parser"): qti_xml_encoding_check
 *    let through a document libxml2 decodes from something other than UTF-8 or UTF-16;
 *  - a document starting with a byte order mark of UTF-32 or a declaration of an encoding
 *    that is not UTF-8 or UTF-16 is accepted. */
#include <errno.h>
#include <iconv.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "qti/compile.h"
#include "qti/package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char manifest_xml[] =
    "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\"><resources>"
    "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\">"
    "<file href=\"test.xml\"/><dependency identifierref=\"Q\"/></resource>"
    "<resource identifier=\"Q\" type=\"imsqti_item_xmlv2p1\" href=\"q.xml\">"
    "<file href=\"q.xml\"/></resource></resources></manifest>";
static const char test_xml[] =
    "<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"T\" "
    "title=\"t\"><testPart identifier=\"P\" navigationMode=\"linear\" "
    "submissionMode=\"individual\"><assessmentSection identifier=\"S\" title=\"s\" "
    "visible=\"true\"><assessmentItemRef identifier=\"Q\" href=\"q.xml\"/>"
    "</assessmentSection></testPart></assessmentTest>";
static const char item_xml[] =
    "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" "
    "xmlns:xi=\"http://www.w3.org/2001/XInclude\" identifier=\"Q\" title=\"q\" "
    "adaptive=\"false\" timeDependent=\"false\"><itemBody><xi:include href=\"stimulus.xml\"/>"
    "</itemBody></assessmentItem>";
static const char stimulus_xml[] =
    "<div xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\"><p>x</p></div>";

/* Forms 0..13: the document transcoded (to NULL: as it is); "bom" adds the byte order mark. */
static const struct {
    const char *to;
    const char *bom;
    size_t bom_len;
} forms[] = {
    {NULL, "", 0},
    {NULL, "\xef\xbb\xbf", 3},
    {"UTF-16LE", "\xff\xfe", 2},
    {"UTF-16BE", "\xfe\xff", 2},
    {"UTF-16LE", "", 0},
    {"UTF-16BE", "", 0},
    {"UTF-32LE", "\xff\xfe\0\0", 4},
    {"UTF-32BE", "\0\0\xfe\xff", 4},
    {"UTF-32LE", "", 0},
    {"UTF-32BE", "", 0},
    {"UTF-7", "", 0},
    {"ISO-8859-1", "", 0},
    {"IBM037", "", 0},
    {"UCS-2LE", "\xff\xfe", 2},
};
#define NFORMS (sizeof forms / sizeof forms[0])

/* Forms 14..43: a declaration of one of these, then the document as it is (14..23); a
 * UTF-16LE byte order mark and the declaration, then the document transcoded to the declared
 * encoding (24..33); the declaration, then the document transcoded (34..43). */
static const char *const declared[] = {"UTF-7",    "UTF-32",      "ISO-8859-1", "UTF-16",
                                       "UTF-16LE", "UTF-16BE",    "IBM037",     "UCS-2",
                                       "UTF-8",    "windows-1252"};
#define NDECLARED (sizeof declared / sizeof declared[0])

/* iconv from UTF-8 into `to`, appended to `out`; bytes that do not convert are skipped. */
static void transcode(const char *to, const uint8_t *in, size_t len, struct buf *out)
{
    static struct {
        const char *to;
        iconv_t cd;
    } cache[32];
    iconv_t cd = (iconv_t)-1;
    for (size_t i = 0; i < sizeof cache / sizeof cache[0]; i++) {
        if (cache[i].to && strcmp(cache[i].to, to) == 0) {
            cd = cache[i].cd;
            break;
        }
        if (!cache[i].to) {
            cache[i].to = to;
            cache[i].cd = cd = iconv_open(to, "UTF-8");
            break;
        }
    }
    if (cd == (iconv_t)-1) {
        buf_append(out, in, len);
        return;
    }
    iconv(cd, NULL, NULL, NULL, NULL);
    char *ip = (char *)in;
    size_t il = len;
    char tmp[4096];
    while (il > 0) {
        char *op = tmp;
        size_t ol = sizeof tmp;
        size_t r = iconv(cd, &ip, &il, &op, &ol);
        buf_append(out, tmp, (size_t)(op - tmp));
        if (r == (size_t)-1 && errno != E2BIG) {
            ip++; /* invalid or incomplete UTF-8: skip a byte */
            il--;
        }
    }
    char *op = tmp;
    size_t ol = sizeof tmp;
    iconv(cd, NULL, NULL, &op, &ol); /* UTF-7 closes its base64 run here */
    buf_append(out, tmp, (size_t)(op - tmp));
}

/* 1 if `msg` is the refusal of qti_xml_read's second lock (a decoder libxml2 chose), not
 * another message that quotes the input (a malformed-XML message may hold any text). */
static int parser_lock_fired(const char *msg)
{
    static const char *const files[] = {
        "fuzz.zip: imsmanifest.xml: ", "fuzz.zip: test.xml: ", "fuzz.zip: q.xml: "};
    const char *m = strstr(msg, "the file is encoded in ");
    if (!m)
        return 0;
    const char *sp = strchr(m + 23, ' ');
    if (!sp || strncmp(sp, " (found by the parser);", 23) != 0)
        return 0;
    size_t pl = (size_t)(m - msg);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (pl == strlen(files[i]) && strncmp(msg, files[i], pl) == 0)
            return 1;
    const char *p = msg;
    if (strncmp(p, "fuzz.zip: q.xml line ", 21) != 0)
        return 0;
    for (p += 21; *p >= '0' && *p <= '9'; p++)
        ;
    return p + 28 == m && strncmp(p, ": xi:include: stimulus.xml: ", 28) == 0;
}

static int accepted_name(const char *name)
{
    return !strcmp(name, "UTF-8") || !strncmp(name, "UTF-16", 6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned reader = data[0] & 3, form = data[0] >> 2;
    data++, size--;
    struct buf doc = BUF_INIT;
    int must_refuse = 0;
    if (form < NFORMS) {
        buf_append(&doc, forms[form].bom, forms[form].bom_len);
        if (forms[form].to)
            transcode(forms[form].to, data, size, &doc);
        else
            buf_append(&doc, data, size);
        must_refuse = forms[form].bom_len == 4; /* UTF-32 with its byte order mark */
    } else if (form < NFORMS + 3 * NDECLARED) {
        size_t k = (form - NFORMS) % NDECLARED;
        char decl[128];
        snprintf(decl, sizeof decl, "<?xml version=\"1.0\" encoding=\"%s\"?>", declared[k]);
        if (form < NFORMS + NDECLARED) {
            buf_puts(&doc, decl);
            buf_append(&doc, data, size);
            must_refuse = strcmp(declared[k], "UTF-8") != 0;
        } else if (form >= NFORMS + 2 * NDECLARED) {
            buf_puts(&doc, decl);
            transcode(declared[k], data, size, &doc);
            must_refuse = strcmp(declared[k], "UTF-8") != 0;
        } else {
            buf_append(&doc, "\xff\xfe", 2);
            transcode("UTF-16LE", (const uint8_t *)decl, strlen(decl), &doc);
            transcode(declared[k], data, size, &doc);
            must_refuse = !accepted_name(declared[k]) || !strcmp(declared[k], "UTF-16BE");
        }
    } else {
        buf_append(&doc, data, size);
    }

    struct qti_file files[] = {
        {(char *)"imsmanifest.xml", (unsigned char *)manifest_xml, sizeof manifest_xml - 1},
        {(char *)"test.xml", (unsigned char *)test_xml, sizeof test_xml - 1},
        {(char *)"q.xml", (unsigned char *)item_xml, sizeof item_xml - 1},
        {(char *)"stimulus.xml", (unsigned char *)stimulus_xml, sizeof stimulus_xml - 1},
    };
    files[reader].data = (unsigned char *)(doc.data ? doc.data : "");
    files[reader].len = doc.len;
    struct qti_limits lim;
    qti_limits_default(&lim);
    lim.max_xml_bytes = 1 << 20;
    struct qti_package *p = NULL;
    struct op_err e = {0};
    int rc = qti_package_from_files("fuzz.zip", files, 4, &lim, &p, &e);
    if (rc == 0) {
        struct qti_loaded *l = NULL;
        rc = qti_load_package(p, &l, &e);
        if (rc == 0) {
            struct buf out = BUF_INIT;
            rc = qti_compile(l, &out, &e);
            buf_free(&out);
        }
        qti_loaded_free(l);
    }
    if (rc != 0 && parser_lock_fired(e.msg)) {
        fprintf(stderr, "encoding check missed: %s\n", e.msg);
        abort();
    }
    if (rc == 0 && must_refuse) {
        fprintf(stderr, "accepted form %u of reader %u\n", form, reader);
        abort();
    }
    buf_free(&doc);
    return 0;
}
