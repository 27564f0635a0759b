/*
 * fuzz_bo_admin_bodies.c - the bodies of the backoffice's test-center, eligibility and
 * delivery endpoints (app/bo_admin.h; docs/api.md "Backoffice: test centers, eligibilities,
 * deliveries"), and the upload's query: any bytes are parsed as the server does
 * (http_json_parse), then checked by the parser the first byte chooses (modulo 6): 0 a
 * center to create, 1 a center's change, 2 a staff assignment, 3 an eligibility, 4 a
 * version (publish, withdraw) and, the same bytes, an import's retry, 5 the upload's query (the
 * bytes split at NULs into filename, label, proctored, max_executions). Each answer is checked
 * against the parser's contract.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/bo_admin.h"
#include "http/body.h"
#include "store/eligibilities.h"
#include "store/testcenters.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the contract holds in every build (assert would vanish under NDEBUG) */
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

/* A text the parsers accept: 1 to BO_TEXT_MAX bytes, no control character. */
static int good_text(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > BO_TEXT_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static void upload_query(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *parts[4] = {NULL, NULL, NULL, NULL};
    const char *p = copy;
    for (int i = 0; i < 4 && p <= copy + size; i++) {
        parts[i] = *p == '\x01' ? NULL : p; /* a part that is "\1": absent */
        p += strlen(p) + 1;
    }
    struct bo_upload_params u;
    struct op_err e = {0};
    int rc = app_bo_upload_params_parse(parts[0], parts[1], parts[2], parts[3], &u, &e);
    CHECK(rc == 0 || rc == OP_EINPUT);
    if (rc == 0) {
        CHECK(u.filename && u.filename[0] && strlen(u.filename) <= 255);
        CHECK(!u.label || good_text(u.label));
        CHECK(u.proctored_default == 0 || u.proctored_default == 1);
        CHECK(u.max_executions >= 0 && u.max_executions <= 1000000);
    } else {
        CHECK(e.field[0] != '\0');
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % 6;
    if (which == 5) {
        upload_query(data + 1, size - 1);
        return 0;
    }
    json_t *body = NULL;
    struct op_err e = {0};
    if (http_json_parse((const char *)data + 1, size - 1, HTTP_JSON_MAX_DEPTH, &body, &e) != 0) {
        CHECK(body == NULL);
        return 0;
    }
    int rc;
    if (which == 0 || which == 1) {
        struct bo_center_body b;
        rc = app_bo_center_body_parse(body, which == 0, &b, &e);
        if (rc == 0 && which == 0)
            CHECK(good_text(b.label) && good_text(b.org_id) && b.version == 0);
        if (rc == 0 && which == 1)
            CHECK(b.version >= 1 && (b.label || b.org_id || b.parent_id));
        if (rc == 0) {
            CHECK(!b.label || good_text(b.label));
            CHECK(!b.org_id || good_text(b.org_id));
            CHECK(!b.parent_id || !b.parent_id[0] || good_text(b.parent_id));
        } else {
            CHECK(!b.label && !b.org_id && !b.parent_id);
        }
    } else if (which == 2) {
        struct bo_staff_body b;
        rc = app_bo_staff_body_parse(body, &b, &e);
        if (rc == 0)
            CHECK(good_text(b.login) && (strcmp(b.duty, CENTER_DUTY_ADMIN) == 0 ||
                                         strcmp(b.duty, CENTER_DUTY_PROCTOR) == 0));
    } else if (which == 3) {
        struct bo_eligibility_body b;
        rc = app_bo_eligibility_body_parse(body, &b, &e);
        if (rc == 0) {
            CHECK(good_text(b.center) && good_text(b.delivery));
            CHECK(b.n >= 0 && b.n <= BO_TEST_TAKERS_MAX);
            CHECK((size_t)b.n == json_array_size(json_object_get(body, "test_takers")));
            for (int i = 0; i < b.n; i++)
                CHECK(b.test_takers[i] && b.test_takers[i][0]);
            CHECK(b.proctored == 0 || b.proctored == 1 ||
                  b.proctored == ELIGIBILITY_PROCTORED_KEEP);
        } else {
            CHECK(b.test_takers == NULL && b.n == 0);
        }
        app_bo_eligibility_body_clear(&b);
    } else {
        int64_t version;
        rc = app_bo_version_body_parse(body, &version, &e);
        if (rc == 0)
            CHECK(version >= 0);
        else
            CHECK(version == 0);
        CHECK(rc == 0 || rc == OP_EINPUT);
        if (rc == OP_EINPUT)
            CHECK(e.field[0] != '\0');
        /* the same bytes as an import's retry */
        struct bo_retry_body b;
        memset(&e, 0, sizeof e);
        rc = app_bo_retry_body_parse(body, &b, &e);
        if (rc == 0)
            CHECK(b.new_version == 1 ? !b.label : b.new_version == 0 && good_text(b.label));
        else
            CHECK(!b.label && !b.new_version);
    }
    CHECK(rc == 0 || rc == OP_EINPUT || rc == OP_ENOMEM);
    if (rc == OP_EINPUT)
        CHECK(e.field[0] != '\0');
    json_decref(body);
    return 0;
}
