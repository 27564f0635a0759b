/*
 * fuzz_bo_users.c - the bodies of the backoffice's users endpoints (app/bo_users.h) over
 * outside input: the first byte chooses the parser (0: a new user, 1: an edit, 2: a password
 * reset), the rest is the body, read by the server's own JSON reader (http/body.h) then by
 * the parser. Each must accept or refuse any bytes without crashing or leaking, and what it
 * accepts must keep its contract.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/bo_users.h"
#include "http/body.h"
#include "http/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static void check_text(const char *s, size_t max)
{
    if (s)
        CHECK(strlen(s) <= max);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    json_t *body = NULL;
    struct op_err e = {0};
    if (http_json_parse((const char *)data + 1, size - 1, HTTP_JSON_MAX_DEPTH, &body, &e) != 0)
        return 0;
    switch (data[0] % 3) {
    case 0: {
        struct app_bo_user_create c;
        if (app_bo_user_create_parse(body, &c, &e) == 0) {
            CHECK(c.user.login && c.user.login[0] && c.user.role && c.password);
            CHECK(c.password_len == strlen(c.password) && c.password_len > 0);
            CHECK(c.password_len <= BO_PASSWORD_MAX);
            CHECK(user_role_is_valid(c.user.role));
            check_text(c.user.label, 255);
            check_text(c.user.mail, 255);
        } else {
            CHECK(e.code == OP_EINPUT && e.msg[0]);
        }
        break;
    }
    case 1: {
        struct app_bo_user_edit ed;
        if (app_bo_user_edit_parse(body, &ed, &e) == 0) {
            CHECK(ed.version >= 1);
            CHECK((ed.ch.set & ~(unsigned)(USER_SET_LABEL | USER_SET_FIRST_NAME |
                                           USER_SET_LAST_NAME | USER_SET_MAIL |
                                           USER_SET_INTERFACE_LANG | USER_SET_DEFAULT_LANG)) == 0);
            check_text(ed.ch.label, 255);
            check_text(ed.ch.interface_lang, 35);
        } else {
            CHECK(e.code == OP_EINPUT && e.field[0]);
        }
        break;
    }
    default: {
        struct app_bo_user_password p;
        if (app_bo_user_password_parse(body, &p, &e) == 0) {
            CHECK(p.password && p.password_len == strlen(p.password) && p.password_len > 0);
            CHECK(p.version >= 0 && (p.new_keys == 0 || p.new_keys == 1));
        } else {
            CHECK(e.code == OP_EINPUT && e.field[0]);
        }
    }
    }
    json_decref(body);
    return 0;
}
