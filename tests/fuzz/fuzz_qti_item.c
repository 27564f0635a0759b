/* fuzz_qti_item.c - any bytes as an assessmentItem: parse, compile, load the compiled JSON
 * back, and run a session with empty responses; nothing may crash, leak or run unbounded. */
#include <stddef.h>
#include <stdint.h>

#include "qti/item.h"
#include "qti/item_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qti_xml_limits lim;
    qti_xml_limits_default(&lim);
    lim.max_bytes = 256 * 1024;
    struct op_err e = {0};
    struct qti_item *item = NULL;
    if (qti_item_parse("items/fuzz.xml", (const char *)data, size, &lim, &item, &e) != 0)
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
