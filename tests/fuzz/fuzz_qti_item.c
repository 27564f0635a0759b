/* fuzz_qti_item.c - any bytes as an assessmentItem of a package (as import-qti and qti run
 * read items, shared stimuli included: the package also holds shared/stimulus.xml and its
 * image, and a PCI's module items/pci/mod.js): parse, compile, load the compiled JSON back,
 * and run a session with empty responses; nothing may crash, leak or run unbounded. */
#include <stddef.h>
#include <stdint.h>

#include "qti/item.h"
#include "qti/item_session.h"
#include "qti/package.h"

static const char manifest[] =
    "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\"><resources>"
    "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\">"
    "<file href=\"test.xml\"/></resource></resources></manifest>";
static const char stimulus[] =
    "<div xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\"><p>Shared text</p>"
    "<img src=\"img/logo.png\" alt=\"logo\"/></div>";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qti_xml_limits lim;
    qti_xml_limits_default(&lim);
    lim.max_bytes = 256 * 1024;
    struct op_err e = {0};
    struct qti_file files[] = {
        {(char *)"imsmanifest.xml", (unsigned char *)manifest, sizeof manifest - 1},
        {(char *)"test.xml", (unsigned char *)"<x/>", 4},
        {(char *)"items/fuzz.xml", (unsigned char *)data, size},
        {(char *)"shared/stimulus.xml", (unsigned char *)stimulus, sizeof stimulus - 1},
        {(char *)"shared/img/logo.png", (unsigned char *)"PNG", 3},
        /* the code of a PCI (qti/pci.h) an item may name */
        {(char *)"items/pci/mod.js", (unsigned char *)"define([], function () {});", 27},
    };
    struct qti_package *pkg = NULL;
    if (qti_package_from_files("fuzz.zip", files, sizeof files / sizeof *files, NULL, &pkg, &e))
        return 0;
    struct qti_item *item = NULL;
    int rc = qti_item_parse_package(pkg, "items/fuzz.xml", &lim, &item, &e);
    qti_package_free(pkg);
    if (rc != 0)
        return 0;
    json_t *render = NULL, *scoring = NULL;
    struct qti_item *loaded = NULL;
    if (qti_item_compile(item, &render, &scoring, &e) == 0 &&
        qti_item_load(render, scoring, &loaded, &e) == 0) {
        struct qti_item_session *s = NULL;
        if (qti_item_session_new(loaded, 7, &s, &e) == 0) {
            struct qti_submit_opts o = {1, 1.0};
            json_t *invalid = NULL;
            qti_item_session_present(s);
            qti_item_session_submit(s, NULL, &o, &invalid, &e);
            json_decref(invalid);
            json_t *v = qti_item_session_view(s, 1);
            json_decref(v);
            json_t *saved = qti_item_session_save(s);
            json_decref(saved);
            qti_item_session_free(s);
        }
        qti_item_free(loaded);
    }
    json_decref(render);
    json_decref(scoring);
    qti_item_free(item);
    return 0;
}
