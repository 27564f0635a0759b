/*
 * render_dump.c - a test tool for the browser tests of the item renderer (web/qti.js): it
 * loads a QTI package as import-qti does, walks its route for a seed as a candidate who
 * answers nothing, and prints for each item the render model the device sends to the browser
 * (qti_item_compile's render model) and the session view of that item (choice order,
 * printed variables, templates). The renderer is then tested on the engine's own output,
 * and the responses the browser collects are scored with `outpost qti run`.
 *
 *   render_dump PACKAGE.zip [SEED]
 *       prints {"items": [{"key": "Q01", "item": <render model>, "view": <session view>}]}
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "qti/compile.h"
#include "qti/item_session.h"
#include "qti/test_session.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: render_dump PACKAGE.zip [SEED]\n");
        return 2;
    }
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    struct op_err e = {0};
    struct qti_loaded *l;
    if (qti_load(argv[1], NULL, &l, &e)) {
        fprintf(stderr, "render_dump: %s\n", e.msg);
        return 1;
    }
    struct qti_test_session *s;
    double now = 0;
    if (qti_test_session_start(l->test, qti_loaded_lookup, l, seed, now, &s, &e)) {
        fprintf(stderr, "render_dump: %s\n", e.msg);
        qti_loaded_free(l);
        return 1;
    }
    const struct qti_route *route = qti_test_session_route(s);
    json_t *items = json_array();
    int rc = 0;
    size_t guard = route->n * 4 + 16;
    while (!qti_test_session_ended(s) && guard-- > 0) {
        int pos = qti_test_session_position(s);
        const struct qti_item *item = qti_loaded_lookup(l, route->entries[pos].item, &e);
        json_t *render, *scoring;
        if (!item || qti_item_compile(item, &render, &scoring, &e)) {
            rc = 1;
            break;
        }
        json_decref(scoring);
        json_t *view = qti_item_session_view(qti_test_session_item(s, (size_t)pos), 1);
        json_array_append_new(items,
                              json_pack("{s:s,s:o,s:o}", "key", qti_test_session_current_key(s),
                                        "item", render, "view", view));
        now += 1;
        struct op_err se = {0};
        qti_test_session_submit(s, NULL, now, NULL, &se); /* empty: skipping may be refused */
        if (qti_test_session_next(s, now, &e)) {
            rc = 1;
            break;
        }
    }
    if (rc)
        fprintf(stderr, "render_dump: %s\n", e.msg);
    else {
        json_t *out = json_pack("{s:o}", "items", items);
        items = NULL;
        json_dumpf(out, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
        fputc('\n', stdout);
        json_decref(out);
    }
    json_decref(items);
    qti_test_session_free(s);
    qti_loaded_free(l);
    return rc;
}
