/* fuzz_qti_test.c - hostile assessmentTest documents: the reader, routes for a few seeds and
 * the JSON round trip must refuse or accept any bytes without crashing or leaking. The test
 * is read as part of a small package holding two section files (sections/a.xml refers to
 * sections/b.xml), so that its assessmentSectionRefs are resolved too; a seed refers to them. */
#include <stddef.h>
#include <stdint.h>

#include "qti/item.h"
#include "qti/package.h"
#include "qti/test.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NS "xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\""

static const char manifest[] =
    "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\"><resources>"
    "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"tests/test.xml\"/>"
    "</resources></manifest>";
static const char section_a[] =
    "<assessmentSection " NS " identifier=\"SA\" title=\"A\" visible=\"true\">"
    "<rubricBlock view=\"candidate\"><p>Read <a href=\"b.xml\">this</a>.</p></rubricBlock>"
    "<assessmentItemRef identifier=\"QA\" href=\"../items/q.xml\"/>"
    "<assessmentSectionRef identifier=\"SB\" href=\"b.xml\"/></assessmentSection>";
static const char section_b[] =
    "<assessmentSection " NS " identifier=\"SB\" title=\"B\" visible=\"false\">"
    "<assessmentItemRef identifier=\"QB\" href=\"../items/q.xml\"/></assessmentSection>";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct qti_package *pkg;
    struct op_err e = {0};
    if (!pkg) {
        const struct qti_file files[] = {
            {(char *)"imsmanifest.xml", (unsigned char *)manifest, sizeof manifest - 1},
            {(char *)"tests/test.xml", (unsigned char *)"<x/>", 4},
            {(char *)"tests/sections/a.xml", (unsigned char *)section_a, sizeof section_a - 1},
            {(char *)"tests/sections/b.xml", (unsigned char *)section_b, sizeof section_b - 1},
        };
        if (qti_package_from_files("fuzz.zip", files, 4, NULL, &pkg, &e) != 0)
            __builtin_trap();
    }
    struct qti_xml_limits lim;
    qti_xml_limits_default(&lim);
    lim.max_bytes = 1 << 20;
    lim.max_nodes = 20000;
    xmlDoc *doc = NULL;
    if (qti_xml_read("test.xml", (const char *)data, size, &lim, &doc, &e) != 0)
        return 0;
    struct qti_test *t = NULL;
    if (qti_test_parse_package(pkg, doc, "tests/test.xml", "fuzz: test.xml", &t, &e) == 0) {
        for (uint64_t seed = 0; seed < 3; seed++) {
            struct qti_route r;
            if (qti_test_route(t, seed, &r, &e) == 0)
                qti_route_free(&r);
        }
        json_t *j = qti_test_to_json(t);
        struct qti_test *t2 = NULL;
        if (j && qti_test_from_json(j, &t2, &e) == 0)
            qti_test_free(t2);
        json_decref(j);
        qti_test_free(t);
    }
    xmlFreeDoc(doc);
    return 0;
}
