/* text.c - the rule for stored text and its escaping for terminals (see text.h). */
#include "base/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes the UTF-8 sequence at p (avail bytes left) into *cp; returns its length, or 0 if
 * it is not a valid sequence (truncated, overlong, a surrogate, over U+10FFFF) or a NUL. */
static size_t utf8_next(const unsigned char *p, size_t avail, unsigned *cp)
{
    unsigned char c = p[0];
    size_t extra;
    unsigned v;
    if (c == 0)
        return 0;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        extra = 1;
        v = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        extra = 2;
        v = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        extra = 3;
        v = c & 0x07;
    } else {
        return 0;
    }
    if (extra >= avail)
        return 0;
    for (size_t k = 1; k <= extra; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[k] & 0x3f);
    }
    if ((extra == 1 && v < 0x80) || (extra == 2 && v < 0x800) ||
        (extra == 3 && (v < 0x10000 || v > 0x10ffff)) || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return extra + 1;
}

static int is_control(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

int utf8_is_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned cp;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

enum text_fault text_check(const char *s, size_t max)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0)
        return TEXT_EMPTY;
    if (max && len > max)
        return TEXT_TOO_LONG;
    const unsigned char *p = (const unsigned char *)s;
    int control = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0)
            return TEXT_NOT_UTF8;
        control |= is_control(cp);
        i += n;
    }
    if (control)
        return TEXT_CONTROL;
    if (s[0] == ' ' || s[len - 1] == ' ')
        return TEXT_EDGE_SPACE;
    return TEXT_OK;
}

const char *text_fault_message(enum text_fault f)
{
    switch (f) {
    case TEXT_OK:
        return "";
    case TEXT_EMPTY:
        return "is empty";
    case TEXT_TOO_LONG:
        return "is too long";
    case TEXT_NOT_UTF8:
        return "is not valid UTF-8 text";
    case TEXT_CONTROL:
        return "contains a control character (such as a newline, a tab or an escape)";
    case TEXT_EDGE_SPACE:
        return "starts or ends with a space";
    }
    return "is not acceptable text";
}

int login_is_valid(const char *login)
{
    return text_check(login, 255) == TEXT_OK;
}

/* Calls out(piece, len, ctx) for each piece of the escaped form of s; returns 1 if any piece
 * was an escape. */
static int escape_walk(const char *s, void (*out)(const char *, size_t, void *), void *ctx)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    int changed = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = utf8_next(p + i, len - i, &cp);
        char esc[8];
        if (n == 0) {
            snprintf(esc, sizeof esc, "\\x%02x", p[i]);
            n = 1;
        } else if (cp < 0x80 && is_control(cp)) {
            snprintf(esc, sizeof esc, "\\x%02x", cp);
        } else if (is_control(cp)) {
            snprintf(esc, sizeof esc, "\\u%04x", cp);
        } else {
            if (out)
                out(s + i, n, ctx);
            i += n;
            continue;
        }
        changed = 1;
        if (out)
            out(esc, strlen(esc), ctx);
        i += n;
    }
    return changed;
}

struct sink {
    char *data;
    size_t len, cap;
};

static void sink_put(const char *piece, size_t n, void *ctx)
{
    struct sink *k = ctx;
    if (k->len + n + 1 > k->cap) {
        size_t cap = (k->len + n + 1) * 2;
        char *d = realloc(k->data, cap);
        if (!d)
            abort();
        k->data = d;
        k->cap = cap;
    }
    memcpy(k->data + k->len, piece, n);
    k->len += n;
    k->data[k->len] = '\0';
}

char *text_escape(const char *s)
{
    struct sink k = {NULL, 0, 0};
    sink_put("", 0, &k);
    if (s)
        escape_walk(s, sink_put, &k);
    return k.data;
}

int text_needs_escape(const char *s)
{
    return s ? escape_walk(s, NULL, NULL) : 0;
}
