/* test_qti_pci.c - Portable Custom Interactions (qti/pci.h): a customInteraction in TAO's
 * form (hook, libraries, entries) and in IMS PCI 1.0's (interactionModules; modules with a
 * primaryConfiguration, as TAO exports it) is read with its modules, properties and
 * sanitised markup, travels through the compiled package; the shared libraries TAO provides
 * to PCIs are provided and inlined in the frame, an unknown one refused naming it; a package
 * whose PCI cannot be loaded is refused naming the PCI and the file; the response in the QTI
 * JSON binding is read against its declaration (each cardinality, the refusals) and scored
 * like any other; a PCI bound to a file response (an audio recording) gives its file in the
 * binding, read into the file form and checked as an upload's (app/upload.h: the device's
 * size limit, the content against its type). Packages are built in memory
 * (qti_package_from_files). */
#include "testutil.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/pci_frame.h"
#include "app/runner.h"
#include "app/upload.h"
#include "base/buf.h"
#include "qti/compile.h"
#include "qti/item_session.h"
#include "qti/pci.h"

#define NS      "xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p2\""
#define PCI_TAO "xmlns:pci=\"http://www.imsglobal.org/xsd/portableCustomInteraction\""

static const char manifest[] =
    "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\"><resources>"
    "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p2\" href=\"test.xml\"/>"
    "</resources></manifest>";

static const char test_xml[] =
    "<assessmentTest " NS " identifier=\"T\" title=\"T\">"
    "<testPart identifier=\"P\" navigationMode=\"linear\" submissionMode=\"individual\">"
    "<assessmentSection identifier=\"S\" title=\"S\" visible=\"true\">"
    "<assessmentItemRef identifier=\"Q\" href=\"items/q.xml\"/>"
    "</assessmentSection></testPart></assessmentTest>";

static const char likert_item[] =
    "<assessmentItem " NS " " PCI_TAO " identifier=\"q\" title=\"q\" adaptive=\"false\" "
    "timeDependent=\"false\">\n"
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"integer\">"
    "<correctResponse><value>4</value></correctResponse></responseDeclaration>\n"
    "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\"/>\n"
    "<itemBody>\n"
    "<customInteraction responseIdentifier=\"RESPONSE\">\n"
    "<pci:portableCustomInteraction customInteractionTypeIdentifier=\"likert\" "
    "hook=\"likert/likert.amd.js\">\n"
    "<pci:resources><pci:libraries><pci:lib id=\"likert/renderer\"/></pci:libraries>"
    "</pci:resources>\n"
    "<pci:properties><pci:entry key=\"level\">5</pci:entry>"
    "<pci:properties key=\"labels\"><pci:entry key=\"min\">no</pci:entry></pci:properties>"
    "</pci:properties>\n"
    "<pci:markup><div xmlns=\"http://www.w3.org/1999/xhtml\" class=\"scale\">"
    "<script>alert(1)</script><img src=\"likert/face.png\" alt=\"face\"/></div></pci:markup>\n"
    "</pci:portableCustomInteraction>\n"
    "</customInteraction>\n"
    "</itemBody>\n"
    "<responseProcessing "
    "template=\"http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct\"/>\n"
    "</assessmentItem>";

static const char reader_item[] =
    "<assessmentItem " NS " identifier=\"q\" title=\"q\" adaptive=\"false\" "
    "timeDependent=\"false\">\n"
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"multiple\" "
    "baseType=\"identifier\"/>\n"
    "<itemBody>\n"
    "<customInteraction responseIdentifier=\"RESPONSE\">\n"
    "<portableCustomInteraction "
    "xmlns=\"http://www.imsglobal.org/xsd/portableCustomInteraction_v1\" "
    "customInteractionTypeIdentifier=\"urn:x:reader\" module=\"reader\">\n"
    "<resources><interactionModules>"
    "<interactionModule id=\"reader\" primaryPath=\"reader/reader.js\"/>"
    "<interactionModule id=\"pages\" primaryPath=\"reader/pages\"/>"
    "</interactionModules></resources>\n"
    "<properties><property key=\"pages\">3</property></properties>\n"
    "<markup><p xmlns=\"http://www.w3.org/1999/xhtml\">Once upon a time</p></markup>\n"
    "</portableCustomInteraction>\n"
    "</customInteraction>\n"
    "</itemBody>\n"
    "</assessmentItem>";

static const char amd[] =
    "define(['qtiCustomInteractionContext'], function (c) { c.register({}); });";
static const char lib[] = "define([], function () { return {}; });";

/* Loads a package of test.xml, items/q.xml = `item` and the NULL-terminated (path, content)
 * pairs of `extra` (a NULL content leaves the file out). NULL with e filled when refused. */
static struct qti_loaded *load(const char *item, const char *const *extra, struct op_err *e)
{
    struct qti_file files[16] = {
        {(char *)"imsmanifest.xml", (unsigned char *)manifest, sizeof manifest - 1},
        {(char *)"test.xml", (unsigned char *)test_xml, sizeof test_xml - 1},
        {(char *)"items/q.xml", (unsigned char *)item, strlen(item)},
    };
    size_t n = 3;
    for (size_t i = 0; extra && extra[i]; i += 2)
        if (extra[i + 1])
            files[n++] = (struct qti_file){(char *)extra[i], (unsigned char *)extra[i + 1],
                                           strlen(extra[i + 1])};
    struct qti_package *p = NULL;
    if (qti_package_from_files("p.zip", files, n, NULL, &p, e) != 0)
        fail_msg("package: %s", e->msg);
    struct qti_loaded *l = NULL;
    qti_load_package(p, &l, e);
    return l;
}

static const char *const likert_files[] = {"items/likert/likert.amd.js",
                                           amd,
                                           "items/likert/renderer.js",
                                           lib,
                                           "items/likert/face.png",
                                           "png",
                                           NULL};

static void refused(const char *item, const char *const *extra, const char *needle)
{
    struct op_err e = {0};
    struct qti_loaded *l = load(item, extra, &e);
    if (l) {
        qti_loaded_free(l);
        fail_msg("accepted; expected \"%s\"", needle);
    }
    if (!strstr(e.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
}

static const struct qti_interaction *only_interaction(const struct qti_loaded *l)
{
    assert_non_null(l);
    if (!l)
        return NULL;
    assert_int_equal(l->nitems, 1);
    assert_int_equal(qti_item_interaction_count(l->items[0].item), 1);
    return qti_item_interaction(l->items[0].item, 0);
}

static void test_tao_pci_is_read_with_its_modules_properties_and_markup(void **state)
{
    (void)state;
    struct op_err e = {0};
    struct qti_loaded *l = load(likert_item, likert_files, &e);
    if (!l) {
        fail_msg("%s", e.msg);
        return;
    }
    const struct qti_interaction *it = only_interaction(l);
    assert_int_equal(it->kind, QTI_INTERACTION_CUSTOM);
    const struct qti_pci *pci = it->pci;
    assert_string_equal(pci->type_identifier, "likert");
    assert_int_equal(pci->version, 0);
    assert_int_equal(pci->nmodules, 2); /* the library first, the hook (entry) last */
    assert_string_equal(pci->modules[0], "items/likert/renderer.js");
    assert_string_equal(pci->module_ids[0], "likert/renderer");
    assert_string_equal(pci->modules[1], "items/likert/likert.amd.js");
    assert_string_equal(pci->module_ids[1], "likert/likert.amd");
    assert_string_equal(json_string_value(json_object_get(pci->properties, "level")), "5");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(pci->properties, "labels"), "min")),
        "no");
    assert_null(strstr(pci->markup, "script"));
    assert_non_null(strstr(pci->markup, "items/likert/face.png"));
    /* the modules and the markup's image travel as assets of the compiled package */
    struct buf out = BUF_INIT;
    assert_int_equal(qti_compile(l, &out, &e), 0);
    struct qti_loaded *back = NULL;
    if (qti_delivery_load((const unsigned char *)out.data, out.len, &back, &e) != 0 || !back) {
        fail_msg("reload: %s", e.msg);
        return;
    }
    const struct qti_pci *again = only_interaction(back)->pci;
    assert_non_null(again);
    assert_string_equal(again->modules[1], "items/likert/likert.amd.js");
    assert_string_equal(again->module_ids[0], "likert/renderer");
    assert_string_equal(again->markup, pci->markup);
    assert_true(json_equal(again->properties, pci->properties));
    struct qti_delivery d;
    assert_int_equal(qti_delivery_open((const unsigned char *)out.data, out.len, &d, &e), 0);
    int found = 0;
    for (size_t i = 0; i < d.n; i++)
        found += strcmp(d.entries[i].name, "assets/items/likert/likert.amd.js") == 0 ||
                 strcmp(d.entries[i].name, "assets/items/likert/renderer.js") == 0;
    assert_int_equal(found, 2);
    qti_delivery_close(&d);
    qti_loaded_free(back);
    buf_free(&out);
    qti_loaded_free(l);
}

static void test_ims_pci_v1_entry_is_its_module_attribute(void **state)
{
    (void)state;
    struct op_err e = {0};
    const char *const files[] = {"items/reader/reader.js", amd, "items/reader/pages.js", lib, NULL};
    struct qti_loaded *l = load(reader_item, files, &e);
    if (!l) {
        fail_msg("%s", e.msg);
        return;
    }
    const struct qti_pci *pci = only_interaction(l)->pci;
    assert_int_equal(pci->version, 1);
    assert_int_equal(pci->nmodules, 2);
    assert_string_equal(pci->modules[0], "items/reader/pages.js"); /* ".js" added */
    assert_string_equal(pci->module_ids[0], "pages");
    assert_string_equal(pci->modules[1], "items/reader/reader.js");
    assert_string_equal(pci->module_ids[1], "reader");
    assert_string_equal(json_string_value(json_object_get(pci->properties, "pages")), "3");
    assert_non_null(strstr(pci->markup, "Once upon a time"));
    qti_loaded_free(l);
}

static void test_pci_that_cannot_be_loaded_is_refused_naming_it(void **state)
{
    (void)state;
    const char *const no_lib[] = {"items/likert/likert.amd.js", amd, "items/likert/face.png", "p",
                                  NULL};
    refused(likert_item, no_lib,
            "items/q.xml line 5: item q: customInteraction RESPONSE: PCI likert cannot be loaded: "
            "its module likert/renderer (items/likert/renderer.js) is not in the archive");
    const char *const no_hook[] = {"items/likert/renderer.js", lib, "items/likert/face.png", "p",
                                   NULL};
    refused(likert_item, no_hook,
            "its entry module likert/likert.amd (items/likert/likert.amd.js) "
            "is not in the archive");
    const char *const empty[] = {"items/likert/likert.amd.js",
                                 "",
                                 "items/likert/renderer.js",
                                 lib,
                                 "items/likert/face.png",
                                 "p",
                                 NULL};
    refused(likert_item, empty, "likert.amd.js) is empty");
    const char *const binary[] = {"items/likert/likert.amd.js",
                                  "define(\xff\xfe)",
                                  "items/likert/renderer.js",
                                  lib,
                                  "items/likert/face.png",
                                  "p",
                                  NULL};
    refused(likert_item, binary, "is not UTF-8 text");
    const char *const plain[] = {"items/likert/likert.amd.js",
                                 "var x = 1;",
                                 "items/likert/renderer.js",
                                 lib,
                                 "items/likert/face.png",
                                 "p",
                                 NULL};
    refused(likert_item, plain,
            "neither defines an AMD module nor registers with qtiCustomInteractionContext");
    /* a module a define([...]) asks for that is none of the PCI's, nor a shared library
     * Outpost provides (TAO's Raphael scale is not) */
    const char *const undeclared[] = {
        "items/likert/likert.amd.js",
        "define(['qtiCustomInteractionContext', 'taoQtiItem/portableLib/jquery_2_1_1', "
        "'OAT/scale.raphael'], function (c, $) {});",
        "items/likert/renderer.js",
        lib,
        "items/likert/face.png",
        "p",
        NULL};
    refused(likert_item, undeclared,
            "its entry module likert/likert.amd (items/likert/likert.amd.js) needs the module "
            "OAT/scale.raphael, which the package does not hold (a library the PCI lists with "
            "its file) and which is no shared library Outpost provides");
    /* what the PCI holds answers: a listed module (also by a relative id), a named define, a
     * loader plugin, the built-ins */
    const char *const held[] = {
        "items/likert/likert.amd.js",
        "define(['qtiCustomInteractionContext', './renderer', 'likert/renderer.js', 'helper', "
        "'css!likert/style', 'require'], function () {});",
        "items/likert/renderer.js",
        "define('helper', [], function () {}); define([ \"../likert/renderer\" ], function () {});",
        "items/likert/face.png",
        "p",
        NULL};
    struct op_err e = {0};
    struct qti_loaded *l = load(likert_item, held, &e);
    if (!l) {
        fail_msg("refused: %s", e.msg);
        return;
    }
    qti_loaded_free(l);
    const char *const shared[] = {NULL};
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", likert_item);
    char *at = strstr(buf, "likert/renderer\"");
    memcpy(at, "IMSGlobal/jq_21", 15); /* a shared library of another platform */
    refused(buf, shared,
            "its module IMSGlobal/jq_21 (items/IMSGlobal/jq_21.js) is not in the archive");
}

static void test_malformed_custom_interaction_is_refused(void **state)
{
    (void)state;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", likert_item);
    char *at = strstr(buf, "customInteractionTypeIdentifier=\"likert\"");
    memcpy(at, "customInteractionTypeXdentifier", 31);
    refused(buf, likert_files, "portableCustomInteraction needs a customInteractionTypeIdentifier");

    snprintf(buf, sizeof buf, "%s", likert_item);
    at = strstr(buf, "hook=\"likert/likert.amd.js\"");
    memcpy(at, "hook=\"../../../../etc/x.js\"", 27);
    refused(buf, likert_files, "is not a path inside the package");

    /* a file response of PCI is single, as every file response */
    snprintf(buf, sizeof buf, "%s", likert_item);
    at = strstr(buf, "cardinality=\"single\" baseType=\"integer\"");
    memcpy(at, "cardinality=\"multiple\" baseType=\"file\" ", 39);
    at = strstr(buf, "<correctResponse>");
    memmove(at, strstr(at, "</responseDeclaration>"),
            strlen(strstr(at, "</responseDeclaration>")) + 1);
    refused(buf, likert_files, "single cardinality only");

    refused("<assessmentItem " NS " identifier=\"q\" title=\"q\" adaptive=\"false\" "
            "timeDependent=\"false\"><responseDeclaration identifier=\"R\" cardinality=\"single\" "
            "baseType=\"string\"/><itemBody><customInteraction responseIdentifier=\"R\">"
            "<object data=\"x.swf\"/></customInteraction></itemBody></assessmentItem>",
            NULL, "holds no portableCustomInteraction");
}

/* Reads `json` as a response of (t, c); NULL expect = refused, the message holding `why`. */
static void binding(enum qti_base_type t, enum qti_cardinality c, const char *json,
                    const char *expect, const char *why)
{
    json_error_t jerr;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &jerr);
    if (!j)
        fail_msg("bad JSON in the test: %s", json);
    struct qti_value *v = NULL;
    struct op_err e = {0};
    int rc = qti_value_from_pci_json(t, c, j, "R", &v, &e);
    json_decref(j);
    if (!expect) {
        if (rc == 0)
            fail_msg("%s accepted", json);
        if (!strstr(e.msg, why))
            fail_msg("%s: message \"%s\" lacks \"%s\"", json, e.msg, why);
        return;
    }
    if (rc != 0)
        fail_msg("%s refused: %s", json, e.msg);
    json_t *got = qti_value_to_json(v);
    char *s = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    if (strcmp(s, expect) != 0)
        fail_msg("%s gave %s, expected %s", json, s, expect);
    free(s);
    json_decref(got);
    qti_value_free(v);
}

static void test_json_binding_is_read_against_the_declaration(void **state)
{
    (void)state;
    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "{\"base\":{\"integer\":3}}", "3", NULL);
    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "{\"base\":null}", "null", NULL);
    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "null", "null", NULL);
    binding(QTI_BT_FLOAT, QTI_CARD_SINGLE, "{\"base\":{\"integer\":2}}", "2.0", NULL);
    binding(QTI_BT_FLOAT, QTI_CARD_SINGLE, "{\"base\":{\"float\":2.5}}", "2.5", NULL);
    binding(QTI_BT_BOOLEAN, QTI_CARD_SINGLE, "{\"base\":{\"boolean\":true}}", "true", NULL);
    binding(QTI_BT_STRING, QTI_CARD_SINGLE, "{\"base\":{\"string\":\"hi there\"}}", "\"hi there\"",
            NULL);
    binding(QTI_BT_POINT, QTI_CARD_SINGLE, "{\"base\":{\"point\":[10,20]}}", "\"10 20\"", NULL);
    binding(QTI_BT_DIRECTED_PAIR, QTI_CARD_SINGLE, "{\"base\":{\"directedPair\":[\"A\",\"B\"]}}",
            "\"A B\"", NULL);
    binding(QTI_BT_IDENTIFIER, QTI_CARD_MULTIPLE, "{\"list\":{\"identifier\":[\"a\",\"b\"]}}",
            "[\"a\",\"b\"]", NULL);
    binding(QTI_BT_IDENTIFIER, QTI_CARD_ORDERED, "{\"list\":{\"identifier\":[]}}", "null", NULL);
    binding(QTI_BT_PAIR, QTI_CARD_MULTIPLE, "{\"list\":{\"pair\":[[\"A\",\"B\"],[\"C\",\"D\"]]}}",
            "[\"A B\",\"C D\"]", NULL);
    binding(
        QTI_BT_NONE, QTI_CARD_RECORD,
        "{\"record\":[{\"name\":\"x\",\"base\":{\"integer\":1}},{\"name\":\"y\",\"base\":null}]}",
        "{\"x\":{\"baseType\":\"integer\",\"value\":1}}", NULL);

    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "{\"base\":{\"string\":\"3\"}}", NULL,
            "the PCI gave a value of base type string, the declaration is integer");
    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "{\"base\":{\"integer\":2.5}}", NULL,
            "not in the form of the JSON binding");
    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "{\"base\":{\"integer\":3000000000}}", NULL, "R");
    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "{\"list\":{\"integer\":[3]}}", NULL,
            "cardinality is single, so the PCI's response must be {\"base\": ...}");
    binding(QTI_BT_IDENTIFIER, QTI_CARD_MULTIPLE, "{\"base\":{\"identifier\":\"a\"}}", NULL,
            "must be {\"list\": ...}");
    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "{\"base\":{\"integer\":3},\"list\":null}", NULL,
            "must be one of");
    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "3", NULL, "must be one of");
    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "{\"value\":3}", NULL, "not {\"value\": ...}");
    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "{\"base\":{\"integer\":1,\"float\":1}}", NULL,
            "must name one base type");
    binding(QTI_BT_INTEGER, QTI_CARD_SINGLE, "{\"base\":{\"number\":1}}", NULL,
            "unknown base type \"number\"");
    binding(QTI_BT_POINT, QTI_CARD_SINGLE, "{\"base\":{\"point\":[1]}}", NULL, "not in the form");
    binding(QTI_BT_PAIR, QTI_CARD_SINGLE, "{\"base\":{\"pair\":[\"A B\",\"C\"]}}", NULL,
            "not in the form");
    binding(QTI_BT_IDENTIFIER, QTI_CARD_SINGLE, "{\"base\":{\"identifier\":\"not one\"}}", NULL,
            "R");
    /* a file, as TAO's audio recording PCI gives it */
    binding(QTI_BT_FILE, QTI_CARD_SINGLE,
            "{\"base\":{\"file\":{\"data\":\"GkXfow==\",\"mime\":\"audio/webm;codecs=opus\","
            "\"name\":\"audioRecording_1.webm\"}}}",
            "{\"data\":\"GkXfow==\",\"name\":\"audioRecording_1.webm\",\"type\":\"audio/"
            "webm;codecs=opus\"}",
            NULL);
    binding(QTI_BT_FILE, QTI_CARD_SINGLE, "{\"base\":null}", "null", NULL);
    binding(QTI_BT_FILE, QTI_CARD_SINGLE, "{\"base\":{\"string\":\"a.webm\"}}", NULL,
            "the PCI gave a value of base type string, the declaration is file");
    binding(QTI_BT_FILE, QTI_CARD_SINGLE, "{\"list\":{\"file\":[]}}", NULL,
            "the declaration is a single file");
    binding(QTI_BT_FILE, QTI_CARD_SINGLE, "{\"base\":{\"file\":{\"mime\":\"audio/webm\"}}}", NULL,
            "the PCI's file has no data");
    binding(QTI_BT_FILE, QTI_CARD_SINGLE,
            "{\"base\":{\"file\":{\"data\":\"AA==\",\"mime\":\"audio/webm\",\"url\":\"x\"}}}", NULL,
            "the PCI's file has a member \"url\"");
    binding(QTI_BT_FILE, QTI_CARD_SINGLE, "{\"base\":{\"file\":{\"data\":7}}}", NULL,
            "data must be a string");
    binding(QTI_BT_FILE, QTI_CARD_SINGLE, "{\"base\":{\"file\":\"AA==\"}}", NULL,
            "the PCI's file must be {\"data\": base64");
    binding(QTI_BT_FILE, QTI_CARD_MULTIPLE, "{\"list\":{\"file\":[{\"data\":\"\"}]}}", NULL,
            "base type file is not supported");
    binding(QTI_BT_NONE, QTI_CARD_RECORD,
            "{\"record\":[{\"name\":\"x\",\"base\":null},{\"name\":\"x\",\"base\":null}]}", NULL,
            "a name used once");
    /* over the size limit */
    struct buf big = BUF_INIT;
    buf_puts(&big, "{\"base\":{\"string\":\"");
    for (int i = 0; i < QTI_PCI_MAX_RESPONSE; i++)
        buf_puts(&big, "x");
    buf_puts(&big, "\"}}");
    binding(QTI_BT_STRING, QTI_CARD_SINGLE, big.data, NULL, "over 256 KiB");
    buf_free(&big);
    /* a file's base64 is bounded before anything is decoded */
    buf_puts(&big, "{\"base\":{\"file\":{\"mime\":\"audio/webm\",\"data\":\"");
    for (int i = 0; i < QTI_PCI_MAX_FILE_DATA / 4 + 1; i++)
        buf_puts(&big, "AAAA");
    buf_puts(&big, "\"}}}");
    binding(QTI_BT_FILE, QTI_CARD_SINGLE, big.data, NULL, "the PCI's file is over 3 MiB of base64");
    buf_free(&big);
}

/* likert_item bound to a single file response instead (an audio recording PCI's). */
static void file_bound_item(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", likert_item);
    char *at = strstr(buf, "baseType=\"integer\"");
    memcpy(at, "baseType=\"file\"   ", 18);
    at = strstr(buf, "<correctResponse>");
    memmove(at, strstr(at, "</responseDeclaration>"),
            strlen(strstr(at, "</responseDeclaration>")) + 1);
    /* SCORE 1 when a file was given, as TAO's recording items do */
    at = strstr(buf, "<responseProcessing");
    snprintf(at, cap - (size_t)(at - buf), "%s",
             "<responseProcessing><responseCondition><responseIf><not><isNull><variable "
             "identifier=\"RESPONSE\"/></isNull></not><setOutcomeValue identifier=\"SCORE\">"
             "<baseValue baseType=\"float\">1</baseValue></setOutcomeValue></responseIf>"
             "</responseCondition></responseProcessing></assessmentItem>");
}

/* A PCI bound to a file response (TAO's audio recording) is delivered: its file comes in the
 * binding, is read into the file form and checked as an upload's: the device's size limit,
 * a content that is what its type says and that the device recognises; the item scores it. */
static void test_file_bound_pci_gives_a_file_checked_as_an_upload(void **state)
{
    (void)state;
    char buf[4096];
    file_bound_item(buf, sizeof buf);
    struct op_err e = {0};
    struct qti_loaded *l = load(buf, likert_files, &e);
    const struct qti_interaction *it = l ? only_interaction(l) : NULL;
    if (!it) {
        fail_msg("a file-bound PCI is refused: %s", e.msg);
        return;
    }
    assert_int_equal(it->kind, QTI_INTERACTION_CUSTOM);

    /* the binding, into the file form the upload checks read */
    const char webm[] = "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm-ish recording bytes";
    char b64[256];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)webm, sizeof webm - 1,
                      sodium_base64_VARIANT_ORIGINAL);
    char json[512];
    snprintf(json, sizeof json,
             "{\"base\":{\"file\":{\"data\":\"%s\",\"mime\":\"audio/webm;codecs=opus\","
             "\"name\":\"../audioRecording_1.webm\"}}}",
             b64);
    json_t *j = json_loads(json, 0, NULL), *file = NULL;
    assert_int_equal(qti_pci_file_from_binding(j, "item q, response RESPONSE", &file, &e), 0);
    unsigned char *data = NULL;
    size_t len = 0;
    char *type = NULL, *name = NULL;
    assert_int_equal(app_upload_check(it, file, 1024, &data, &len, &type, &name, &e), 0);
    assert_int_equal(len, sizeof webm - 1);
    assert_string_equal(type, "audio/webm"); /* the codecs parameter dropped */
    assert_string_equal(name, "audioRecording_1.webm");
    free(data);
    free(type);
    free(name);

    /* over the device's limit (upload-max-bytes): the sentence the page shows */
    assert_int_equal(app_upload_check(it, file, 16, &data, &len, &type, &name, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "the largest this test takes is 16 bytes"));
    json_decref(file);
    json_decref(j);

    /* a content that is not what its type says, or that the device does not recognise */
    static const struct {
        const char *data, *mime, *why;
    } bad[] = {
        {"iVBORw0KGgoAAAANSUhEUg==", "audio/webm", "it looks like image/png"},
        {"AAECAwQFBgc=", "audio/webm", "is not what its type (audio/webm) says"},
        {"AAECAwQFBgc=", "audio/x-unknown", "is not a kind of file this device recognises"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(json, sizeof json, "{\"base\":{\"file\":{\"data\":\"%s\",\"mime\":\"%s\"}}}",
                 bad[i].data, bad[i].mime);
        j = json_loads(json, 0, NULL);
        assert_int_equal(qti_pci_file_from_binding(j, "R", &file, &e), 0);
        if (app_upload_check(it, file, 1024, &data, &len, &type, &name, &e) != OP_EINPUT)
            fail_msg("%s accepted", json);
        if (!strstr(e.msg, bad[i].why))
            fail_msg("%s: \"%s\" lacks \"%s\"", json, e.msg, bad[i].why);
        json_decref(file);
        json_decref(j);
    }

    /* the item session: the binding (as `qti run` files give it) scores; a binding of another
     * base type is refused naming the item and the response */
    struct qti_item_session *s;
    assert_int_equal(qti_item_session_new(l->items[0].item, 1, &s, &e), 0);
    struct qti_submit_opts validate = {1, 0};
    snprintf(json, sizeof json,
             "{\"RESPONSE\":{\"base\":{\"file\":{\"data\":\"%s\",\"mime\":\"audio/"
             "webm\"}}}}",
             b64);
    j = json_loads(json, 0, NULL);
    assert_int_equal(qti_item_session_submit(s, j, &validate, NULL, &e), 0);
    json_decref(j);
    json_t *v = qti_item_session_variable_json(s, "SCORE");
    assert_true(json_number_value(v) == 1);
    json_decref(v);
    /* the form the device keeps (sealed, app/upload.h) is read as a file, not as a binding */
    j = json_loads("{\"RESPONSE\":{\"name\":\"a.webm\",\"type\":\"audio/webm\",\"size\":9,"
                   "\"sha256\":\"00\",\"key_id\":\"k\",\"sealed\":\"AA==\"}}",
                   0, NULL);
    assert_int_equal(qti_item_session_submit(s, j, &validate, NULL, &e), 0);
    json_decref(j);
    j = json_loads("{\"RESPONSE\":{\"base\":{\"string\":\"a.webm\"}}}", 0, NULL);
    assert_int_equal(qti_item_session_submit(s, j, &validate, NULL, &e), OP_EINPUT);
    json_decref(j);
    if (!strstr(e.msg, "item q, response RESPONSE: the PCI gave a value of base type string"))
        fail_msg("message \"%s\" does not name the item and the response", e.msg);
    qti_item_session_free(s);
    qti_loaded_free(l);
}

/* The item session reads a PCI's response in the binding, validates it and scores it. */
static void test_pci_response_is_scored_like_any_other(void **state)
{
    (void)state;
    struct op_err e = {0};
    struct qti_loaded *l = load(likert_item, likert_files, &e);
    if (!l) {
        fail_msg("%s", e.msg);
        return;
    }
    struct qti_item_session *s;
    assert_int_equal(qti_item_session_new(l->items[0].item, 1, &s, &e), 0);
    struct qti_submit_opts validate = {1, 0};
    const struct {
        const char *json;
        int rc;
        double score;
    } cases[] = {
        {"{\"RESPONSE\": {\"base\": {\"integer\": 4}}}", 0, 1},
        {"{\"RESPONSE\": {\"base\": {\"integer\": 2}}}", 0, 0},
        {"{\"RESPONSE\": 4}", 0, 1}, /* the engine's own form, as `qti run` files write it */
        {"{\"RESPONSE\": {\"base\": null}}", 0, 0},
        {"{\"RESPONSE\": {\"base\": {\"string\": \"4\"}}}", OP_EINPUT, 0},
        {"{\"RESPONSE\": {\"list\": {\"integer\": [4]}}}", OP_EINPUT, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = json_loads(cases[i].json, 0, NULL);
        int rc = qti_item_session_submit(s, r, &validate, NULL, &e);
        json_decref(r);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d (%s)", cases[i].json, rc, e.msg);
        if (rc == 0) {
            json_t *v = qti_item_session_variable_json(s, "SCORE");
            assert_true(json_number_value(v) == cases[i].score);
            json_decref(v);
        }
    }
    qti_item_session_free(s);
    qti_loaded_free(l);
}

/* The frame document the device serves: the shim and each module inline, each listed by its
 * hash in the CSP, which fetches nothing; "</script" inside a module cannot end its element. */
/* The frame document of the only PCI of `l` (compiled, then read as a device does): its HTML
 * and CSP into html and csp. */
static void frame_of(struct qti_loaded *l, const char *entry, struct buf *html, struct buf *csp)
{
    struct op_err e = {0};
    struct buf out = BUF_INIT;
    assert_int_equal(qti_compile(l, &out, &e), 0);
    struct runner_package *p = NULL;
    if (runner_package_from_bytes((const unsigned char *)out.data, out.len, &p, &e) != 0)
        fail_msg("package: %s", e.msg);
    buf_free(&out);
    const struct qti_pci *pci = NULL;
    assert_int_equal(runner_package_pci(p, entry, &pci, &e), 0);
    assert_int_equal(pci_frame_build(p, pci, "/* shim */", 10, html, csp, &e), 0);
    runner_package_release(p);
}

static int count_hashes(const char *csp)
{
    int n = 0;
    for (const char *c = csp; (c = strstr(c, "'sha256-")) != NULL; c++)
        n++;
    return n;
}

static void test_tao_shared_libraries_are_provided_to_the_frame(void **state)
{
    (void)state;
    /* TAO's ids (3.2's and the older ones): a library listed by its id alone, and the
     * modules' define([...]) asking for jQuery, OAT/util/event and OAT/util/html */
    char item[4096];
    snprintf(item, sizeof item, "%s", likert_item);
    char *at = strstr(item, "<pci:lib id=\"likert/renderer\"/>");
    assert_non_null(at);
    const char *libs = "<pci:lib id=\"likert/renderer\"/><pci:lib id=\"IMSGlobal/jquery_2_1_1\"/>";
    memmove(at + strlen(libs), at + strlen("<pci:lib id=\"likert/renderer\"/>"),
            strlen(at + strlen("<pci:lib id=\"likert/renderer\"/>")) + 1);
    memcpy(at, libs, strlen(libs));
    const char *const files[] = {
        "items/likert/likert.amd.js",
        "define(['qtiCustomInteractionContext', 'taoQtiItem/portableLib/jquery_2_1_1', "
        "'taoQtiItem/portableLib/OAT/util/event', 'likert/renderer'], function () {});",
        "items/likert/renderer.js",
        "define(['IMSGlobal/jquery_2_1_1', 'OAT/util/html'], function () {});",
        "items/likert/face.png",
        "png",
        NULL};
    struct op_err e = {0};
    struct qti_loaded *l = load(item, files, &e);
    if (!l) {
        fail_msg("refused: %s", e.msg);
        return;
    }
    const struct qti_pci *pci = only_interaction(l)->pci;
    /* the provided library is no module of the package; each library after its own needs */
    assert_int_equal(pci->nmodules, 2);
    assert_string_equal(pci->module_ids[0], "likert/renderer");
    const char *want[] = {
        "jquery",           "OAT/util/xml",  "OAT/util/math",     "jquery.qtip",
        "OAT/util/tooltip", "OAT/util/html", "OAT/util/EventMgr", "OAT/util/event"};
    assert_int_equal(pci->nlibs, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < pci->nlibs; i++)
        assert_string_equal(pci->libs[i], want[i]);
    /* they travel in the compiled package's model, and the frame inlines them by hash, each
     * with its ids, before the PCI's modules */
    struct buf html = BUF_INIT, csp = BUF_INIT;
    frame_of(l, "items/likert/likert.amd.js", &html, &csp);
    const char *jq =
        strstr(html.data, "<script data-module=\"taoQtiItem/portableLib/jquery_2_1_1\" "
                          "data-aliases=\"IMSGlobal/jquery_2_1_1 jquery_2_1_1 jquery\">");
    assert_non_null(jq);
    assert_non_null(strstr(jq, "jQuery")); /* Debian's jQuery itself */
    const char *html_lib = strstr(html.data, "data-module=\"taoQtiItem/portableLib/OAT/util/html\" "
                                             "data-aliases=\"OAT/util/html\"");
    assert_non_null(html_lib);
    assert_true(jq < html_lib);
    assert_true(html_lib < strstr(html.data, "data-module=\"likert/renderer\""));
    assert_int_equal(count_hashes(csp.data), 1 + 8 + 2); /* shim, libraries, modules */
    assert_null(strstr(csp.data, "unsafe-eval"));
    assert_non_null(strstr(csp.data, "connect-src 'none'"));
    buf_free(&html);
    buf_free(&csp);
    qti_loaded_free(l);
}

static void test_unknown_shared_library_is_refused_naming_it(void **state)
{
    (void)state;
    const char *const files[] = {"items/likert/likert.amd.js",
                                 "define(['qtiCustomInteractionContext', 'likert/renderer'], "
                                 "function () {});",
                                 "items/likert/renderer.js",
                                 "define(['IMSGlobal/jquery_2_1_1', 'OAT/interact'], "
                                 "function () {});",
                                 "items/likert/face.png",
                                 "p",
                                 NULL};
    refused(likert_item, files,
            "PCI likert cannot be loaded: its module likert/renderer (items/likert/renderer.js) "
            "needs the module OAT/interact, which the package does not hold");
}

/* IMS PCI 1.0 as TAO exports it: the item in a folder of its own, the PCI's files at the
 * package's root, a modules list with a primaryConfiguration. */
static const char ims_item[] =
    "<assessmentItem " NS " xmlns:html5=\"html5\" identifier=\"q\" title=\"q\" adaptive=\"false\" "
    "timeDependent=\"false\">\n"
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"integer\"/>\n"
    "<itemBody>\n"
    "<customInteraction responseIdentifier=\"RESPONSE\">\n"
    "<pci:portableCustomInteraction "
    "xmlns:pci=\"http://www.imsglobal.org/xsd/portableCustomInteraction_v1\" "
    "customInteractionTypeIdentifier=\"urn:oat:pci:likert\" data-version=\"1.0.0\">\n"
    "<pci:properties><pci:property key=\"level\">5</pci:property>"
    "<pci:properties key=\"pages\"><pci:properties key=\"0\"><pci:property key=\"t\">a"
    "</pci:property></pci:properties><pci:properties key=\"1\"><pci:property key=\"t\">b"
    "</pci:property></pci:properties></pci:properties>"
    "<pci:properties key=\"sparse\"><pci:property key=\"0\">a</pci:property>"
    "<pci:property key=\"2\">c</pci:property></pci:properties></pci:properties>\n"
    "<pci:modules primaryConfiguration=\"../likert/config.json\">\n"
    "<pci:module id=\"likert/js/likert\" primaryPath=\"../likert/js/likert.js\"/>\n"
    "<pci:module id=\"likert/js/renderer\"/>\n"
    "<pci:module id=\"MODULE\"/>\n"
    "</pci:modules>\n"
    "<markup xmlns=\"http://www.w3.org/1999/xhtml\"><div class=\"likert\">"
    "<script type=\"text/x-handlebars-template\" class=\"tpl\">{{#each x}}&lt;li&gt;{{this}}"
    "&lt;/li&gt;{{/each}}</script><script>alert(1)</script>"
    "<script type=\"text/javascript\">alert(2)</script>"
    "<html5:script type=\"text/x-handlebars-template\" class=\"nav\"><![CDATA[<html5:p>"
    "<html5:button>{{next}}</html5:button></html5:p>]]></html5:script></div></markup>\n"
    "</pci:portableCustomInteraction>\n"
    "</customInteraction>\n"
    "</itemBody>\n"
    "</assessmentItem>";

static void test_ims_pci_as_tao_exports_it_is_read(void **state)
{
    (void)state;
    char item[4096];
    snprintf(item, sizeof item, "%s", ims_item);
    char *at = strstr(item, "MODULE");
    memcpy(at, "jquery", 6); /* "jquery": a shared library of that id */
    const char *const files[] = {
        "likert/config.json",
        "{\"waitSeconds\": 30, \"paths\": {\"likert/js/renderer\": \"js/renderer.js\"}}",
        "likert/js/likert.js",
        "define(['qtiCustomInteractionContext', 'jquery', 'likert/js/renderer', "
        "'taoQtiItem/portableLib/lodash'], function () {});",
        "likert/js/renderer.js",
        lib,
        NULL};
    struct op_err e = {0};
    struct qti_loaded *l = load(item, files, &e);
    if (!l) {
        fail_msg("refused: %s", e.msg);
        return;
    }
    const struct qti_pci *pci = only_interaction(l)->pci;
    assert_int_equal(pci->version, 1);
    /* the entry (the first, as TAO writes it) last; the renderer by the configuration */
    assert_int_equal(pci->nmodules, 2);
    assert_string_equal(pci->modules[0], "likert/js/renderer.js");
    assert_string_equal(pci->module_ids[0], "likert/js/renderer");
    assert_string_equal(pci->modules[1], "likert/js/likert.js");
    assert_int_equal(pci->nlibs, 2);
    assert_string_equal(pci->libs[0], "jquery");
    assert_string_equal(pci->libs[1], "lodash");
    /* the template is kept as text for the PCI's code to read; scripts are not */
    assert_non_null(strstr(pci->markup, "<script type=\"text/x-handlebars-template\" "
                                        "class=\"tpl\">{{#each x}}&lt;li&gt;{{this}}"));
    assert_null(strstr(pci->markup, "alert"));
    /* nested properties keyed 0..n-1 are a list, as TAO gives them; others stay objects */
    const json_t *pages = json_object_get(pci->properties, "pages");
    assert_true(json_is_array(pages));
    assert_int_equal(json_array_size(pages), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(pages, 1), "t")), "b");
    assert_true(json_is_object(json_object_get(pci->properties, "sparse")));
    /* the markup in the XHTML namespace (TAO's IMS exports) is read as the PCI's */
    assert_non_null(strstr(pci->markup, "class=\"likert\""));
    /* TAO's html5 prefix is taken off the tags of a template's text as off its elements */
    assert_non_null(strstr(pci->markup,
                           "<script type=\"text/x-handlebars-template\" "
                           "class=\"nav\">&lt;p&gt;&lt;button&gt;{{next}}&lt;/button&gt;"
                           "&lt;/p&gt;</script>"));
    struct buf html = BUF_INIT, csp = BUF_INIT;
    frame_of(l, "likert/js/likert.js", &html, &csp);
    assert_non_null(strstr(html.data, "data-module=\"taoQtiItem/portableLib/lodash\""));
    assert_int_equal(count_hashes(csp.data), 1 + 2 + 2);
    buf_free(&html);
    buf_free(&csp);
    qti_loaded_free(l);

    /* a module with no file, in no configuration, that is no shared library */
    memcpy(at, "noSuch", 6);
    refused(item, files,
            "PCI urn:oat:pci:likert cannot be loaded: its module noSuch has no file (no "
            "primaryPath, not in the primaryConfiguration's paths) and is no shared library "
            "Outpost provides");
    memcpy(at, "jquery", 6);
    const char *const no_config[] = {"likert/js/likert.js", lib, "likert/js/renderer.js", lib,
                                     NULL};
    refused(item, no_config, "its primaryConfiguration likert/config.json is not in the archive");
}

static void test_pci_stylesheets_are_inlined_in_the_frame(void **state)
{
    (void)state;
    /* the item's stylesheet, TAO's resources/stylesheets and a css! dependency */
    char item[4096];
    snprintf(item, sizeof item, "%s", likert_item);
    char *at = strstr(item, "<itemBody>");
    const char *sheet = "<stylesheet href=\"likert/item.css\" type=\"text/css\"/>\n";
    memmove(at + strlen(sheet), at, strlen(at) + 1);
    memcpy(at, sheet, strlen(sheet));
    at = strstr(item, "</pci:resources>");
    const char *link = "<pci:stylesheets><pci:link href=\"likert/style.css\" type=\"text/css\"/>"
                       "</pci:stylesheets>";
    memmove(at + strlen(link), at, strlen(at) + 1);
    memcpy(at, link, strlen(link));
    const char *const files[] = {"items/likert/likert.amd.js",
                                 "define(['qtiCustomInteractionContext', 'likert/renderer', "
                                 "'css!likert/extra', 'css!likert/absent'], function () {});",
                                 "items/likert/renderer.js",
                                 lib,
                                 "items/likert/face.png",
                                 "png",
                                 "items/likert/item.css",
                                 ".item { color: black }",
                                 "items/likert/style.css",
                                 ".likert { display: flex }",
                                 "items/likert/extra.css",
                                 ".x::after { content: \"</style><script>\" }",
                                 NULL};
    struct op_err e = {0};
    struct qti_loaded *l = load(item, files, &e);
    if (!l) {
        fail_msg("refused: %s", e.msg);
        return;
    }
    const struct qti_pci *pci = only_interaction(l)->pci;
    assert_int_equal(pci->nstyles, 3); /* a css! file the package lacks is left out */
    /* the PCI's own, then the item's (an author's styles win), then what its code asks for */
    assert_string_equal(pci->styles[0], "items/likert/style.css");
    assert_string_equal(pci->styles[1], "items/likert/item.css");
    assert_string_equal(pci->styles[2], "items/likert/extra.css");
    struct buf html = BUF_INIT, csp = BUF_INIT;
    frame_of(l, "items/likert/likert.amd.js", &html, &csp);
    const char *head_end = strstr(html.data, "</head>");
    const char *item_css = strstr(html.data, "<style>.item { color: black }</style>");
    assert_non_null(item_css);
    assert_true(item_css < head_end);
    assert_non_null(strstr(html.data, "<style>.likert { display: flex }</style>"));
    /* "</style" cannot end the element early */
    assert_non_null(
        strstr(html.data, "<style>.x::after { content: \"<\\/style><script>\" }</style>"));
    assert_int_equal(count_hashes(csp.data), 3); /* styles add no script */
    assert_non_null(strstr(csp.data, "style-src 'unsafe-inline'"));
    buf_free(&html);
    buf_free(&csp);
    qti_loaded_free(l);
}

static void test_frame_document_holds_the_modules_by_hash(void **state)
{
    (void)state;
    struct op_err e = {0};
    const char *const files[] = {"items/likert/likert.amd.js",
                                 "define([], function () { return '</script><b>'; }); "
                                 "qtiCustomInteractionContext;",
                                 "items/likert/renderer.js",
                                 lib,
                                 "items/likert/face.png",
                                 "png",
                                 NULL};
    struct qti_loaded *l = load(likert_item, files, &e);
    if (!l) {
        fail_msg("%s", e.msg);
        return;
    }
    struct buf out = BUF_INIT;
    assert_int_equal(qti_compile(l, &out, &e), 0);
    qti_loaded_free(l);
    struct runner_package *p = NULL;
    if (runner_package_from_bytes((const unsigned char *)out.data, out.len, &p, &e) != 0)
        fail_msg("package: %s", e.msg);
    buf_free(&out);
    const struct qti_pci *pci = NULL;
    assert_int_equal(runner_package_pci(p, "items/likert/renderer.js", &pci, &e), OP_ENOTFOUND);
    assert_int_equal(runner_package_pci(p, "items/likert/likert.amd.js", &pci, &e), 0);
    struct buf html = BUF_INIT, csp = BUF_INIT;
    assert_int_equal(pci_frame_build(p, pci, "/* shim */", 10, &html, &csp, &e), 0);
    const char *h = html.data;
    assert_non_null(strstr(h, "<script>/* shim */</script>"));
    assert_non_null(strstr(h, "<script data-module=\"likert/renderer\">define([], function () "));
    assert_non_null(strstr(h, "data-entry=\"likert/likert.amd\""));
    assert_non_null(strstr(h, "return '<\\/script><b>'"));
    assert_null(strstr(h, "return '</script>"));
    /* the shim, the library, the entry: three hashes and nothing else may run */
    int hashes = 0;
    for (const char *c = csp.data; (c = strstr(c, "'sha256-")) != NULL; c++)
        hashes++;
    assert_int_equal(hashes, 3);
    assert_true(strncmp(csp.data, "default-src 'none'; script-src 'sha256-", 39) == 0);
    assert_non_null(strstr(csp.data, "connect-src 'none'"));
    assert_non_null(strstr(csp.data, "sandbox allow-scripts"));
    assert_null(strstr(csp.data, "unsafe-eval"));
    buf_free(&html);
    buf_free(&csp);
    runner_package_release(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tao_pci_is_read_with_its_modules_properties_and_markup),
        cmocka_unit_test(test_ims_pci_v1_entry_is_its_module_attribute),
        cmocka_unit_test(test_pci_that_cannot_be_loaded_is_refused_naming_it),
        cmocka_unit_test(test_malformed_custom_interaction_is_refused),
        cmocka_unit_test(test_json_binding_is_read_against_the_declaration),
        cmocka_unit_test(test_pci_response_is_scored_like_any_other),
        cmocka_unit_test(test_file_bound_pci_gives_a_file_checked_as_an_upload),
        cmocka_unit_test(test_frame_document_holds_the_modules_by_hash),
        cmocka_unit_test(test_tao_shared_libraries_are_provided_to_the_frame),
        cmocka_unit_test(test_unknown_shared_library_is_refused_naming_it),
        cmocka_unit_test(test_ims_pci_as_tao_exports_it_is_read),
        cmocka_unit_test(test_pci_stylesheets_are_inlined_in_the_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
