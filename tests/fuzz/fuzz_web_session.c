/*
 * fuzz_web_session.c - the two parsers of a web login over outside input must accept or
 * refuse any bytes without crashing, leaking or reading past them: the first byte chooses
 * the parser (even: the Cookie header, http/cookie.h; odd: the login body, app/weblogin.h),
 * the rest is its input. Each answer is checked against the parser's contract.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/weblogin.h"
#include "http/cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the contract holds in every build (assert would vanish under NDEBUG) */
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static int cookie_octet(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] % 2 == 0) {
        char *text = malloc(len + 1);
        if (!text)
            return 0;
        memcpy(text, in, len);
        text[len] = '\0';
        static const char *names[] = {"outpost_session", "a", "x=y"};
        for (size_t i = 0; i < 3; i++) {
            char out[64];
            int rc = http_cookie_find(text, names[i], out, sizeof out);
            CHECK(rc >= -1 && rc <= 1);
            if (rc == 1) {
                CHECK(strlen(out) < sizeof out);
                for (const char *c = out; *c; c++)
                    CHECK(cookie_octet((unsigned char)*c));
            } else {
                CHECK(out[0] == '\0');
            }
        }
        char tiny[1];
        CHECK(http_cookie_find(text, "outpost_session", tiny, 1) != 1 || tiny[0] == '\0');
        free(text);
    } else {
        struct weblogin_body b;
        char password[WEBLOGIN_PASSWORD_MAX + 1];
        struct op_err e = {0};
        int rc = weblogin_body_parse(in, len, &b, password, &e);
        if (rc == 0) {
            CHECK(b.login[0] != '\0' && strlen(b.login) <= WEBLOGIN_LOGIN_MAX);
            CHECK(b.password_len > 0 && b.password_len <= WEBLOGIN_PASSWORD_MAX);
        } else {
            CHECK(rc == OP_EINPUT && e.field[0] != '\0');
        }
    }
    return 0;
}
