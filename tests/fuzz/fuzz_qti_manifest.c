/* fuzz_qti_manifest.c - hostile packages: input starting with "PK" is read as a zip archive
 * (entry checks, limits, decompression caps); any other input is an imsmanifest.xml placed
 * next to a small test and item, then the whole package is loaded (every test, items,
 * includes, section refs) and compiled.
 * Limits are small so memory stays bounded. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "qti/compile.h"
#include "qti/package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char test_xml[] =
    "<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"T\">"
    "<testPart identifier=\"P\" navigationMode=\"linear\" submissionMode=\"individual\">"
    "<assessmentSection identifier=\"S\" title=\"s\" visible=\"true\">"
    "<assessmentItemRef identifier=\"Q\" href=\"q.xml\"/></assessmentSection></testPart>"
    "</assessmentTest>";
static const char item_xml[] =
    "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"Q\" "
    "title=\"q\" adaptive=\"false\" timeDependent=\"false\"><itemBody><p>x</p></itemBody>"
    "</assessmentItem>";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qti_limits lim;
    qti_limits_default(&lim);
    lim.max_archive_bytes = 1 << 20;
    lim.max_total_bytes = 4 << 20;
    lim.max_entries = 256;
    lim.max_xml_bytes = 1 << 20;
    struct qti_package *p = NULL;
    struct op_err e = {0};
    int rc;
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        rc = qti_package_open_memory("fuzz.zip", data, size, &lim, &p, &e);
    } else {
        struct qti_file files[3] = {
            {(char *)"imsmanifest.xml", (unsigned char *)data, size},
            {(char *)"test.xml", (unsigned char *)test_xml, sizeof test_xml - 1},
            {(char *)"q.xml", (unsigned char *)item_xml, sizeof item_xml - 1},
        };
        rc = qti_package_from_files("fuzz.zip", files, 3, &lim, &p, &e);
    }
    if (rc == 0) {
        /* every test of the package (several: one delivery each), as import-qti loads them */
        struct qti_loaded_set set;
        if (qti_load_all_package(p, NULL, &set, &e) == 0) {
            for (size_t i = 0; i < set.n; i++) {
                struct buf out = BUF_INIT;
                if (qti_compile(set.tests[i], &out, &e) == 0)
                    buf_free(&out);
            }
            qti_loaded_set_free(&set);
        }
    }
    return 0;
}
