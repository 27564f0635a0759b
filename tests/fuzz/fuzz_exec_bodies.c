/*
 * fuzz_exec_bodies.c - the bodies of the execution endpoints (POST /api/v1/executions and
 * POST /api/v1/proctor/executions/{id}/{action}; app/executions.h): any bytes are parsed as
 * the server does (http_json_parse), then checked by app_exec_start_body_parse or
 * app_proctor_body_parse. The first byte chooses the parser: 0 the start body, 1 .. 6 the
 * proctor body of action (byte - 1); other values are taken modulo 7. Each answer is checked
 * against the parser's contract.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/executions.h"
#include "base/ids.h"
#include "http/body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the contract holds in every build (assert would vanish under NDEBUG) */
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % 7;
    json_t *body = NULL;
    struct op_err e = {0};
    if (http_json_parse((const char *)data + 1, size - 1, HTTP_JSON_MAX_DEPTH, &body, &e) != 0) {
        CHECK(body == NULL);
        return 0;
    }
    if (which == 0) {
        struct app_exec_start_body b;
        int rc = app_exec_start_body_parse(body, &b, &e);
        CHECK(rc == 0 || rc == OP_EINPUT);
        if (rc == 0) {
            CHECK(uuid_is_valid(b.delivery_id) && uuid_is_valid(b.center_id));
            CHECK(json_object_size(body) == 2);
        } else {
            CHECK(e.field[0] != '\0');
            CHECK(b.delivery_id[0] == '\0' && b.center_id[0] == '\0');
        }
    } else {
        enum app_proctor_action a = (enum app_proctor_action)(which - 1);
        struct app_proctor_request r;
        int rc = app_proctor_body_parse(body, a, &r, &e);
        CHECK(rc == 0 || rc == OP_EINPUT);
        if (rc == 0) {
            CHECK(r.action == a && r.version >= 1 && r.outcome == NULL);
            CHECK(a != PROCTOR_EXTRA_TIME || (r.seconds >= 1 && r.seconds <= APP_EXEC_EXTRA_MAX));
            CHECK(a == PROCTOR_EXTRA_TIME || r.seconds == 0);
            CHECK(!r.reason || strlen(r.reason) <= APP_EXEC_REASON_MAX);
            CHECK(a != PROCTOR_IRREGULARITY || (r.reason && r.reason[0]));
            CHECK(r.reason == NULL || a == PROCTOR_TERMINATE || a == PROCTOR_IRREGULARITY);
        } else {
            CHECK(e.field[0] != '\0' || strstr(e.msg, "action"));
        }
    }
    json_decref(body);
    return 0;
}
