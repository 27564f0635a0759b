/* fuzz_qti_test.c - hostile assessmentTest documents: the reader, routes for a few seeds and
 * the JSON round trip must refuse or accept any bytes without crashing or leaking. */
#include <stddef.h>
#include <stdint.h>

#include "qti/item.h"
#include "qti/test.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qti_xml_limits lim;
    qti_xml_limits_default(&lim);
    lim.max_bytes = 1 << 20;
    lim.max_nodes = 20000;
    xmlDoc *doc = NULL;
    struct op_err e = {0};
    if (qti_xml_read("test.xml", (const char *)data, size, &lim, &doc, &e) != 0)
        return 0;
    struct qti_test *t = NULL;
    if (qti_test_parse(doc, "tests/test.xml", "fuzz: test.xml", &t, &e) == 0) {
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
