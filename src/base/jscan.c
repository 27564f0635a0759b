/*
 * jscan.c - the strict JSON scanner of jscan.h. One pass, no allocation, bounded recursion
 * (JSCAN_MAX_DEPTH). Every accept path is at least as strict as jansson's reader with
 * JSON_REJECT_DUPLICATES, which tests/fuzz/fuzz_changes_page.c checks on every input it takes.
 */
#include "base/jscan.h"

#include <string.h>

void jscan_init(struct jscan *s, const void *text, size_t len)
{
    s->start = s->p = text;
    s->end = s->start + len;
    s->err = NULL;
    s->err_at = 0;
}

int jscan_fail(struct jscan *s, const char *what)
{
    if (!s->err) {
        s->err = what;
        s->err_at = (size_t)(s->p - s->start);
    }
    return -1;
}

static void ws(struct jscan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

int jscan_peek(struct jscan *s)
{
    ws(s);
    return s->p < s->end ? *s->p : 0;
}

int jscan_end(struct jscan *s)
{
    ws(s);
    return s->p == s->end ? 0 : jscan_fail(s, "bytes after the value");
}

static int take(struct jscan *s, unsigned char c, const char *what)
{
    ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 0;
    }
    return jscan_fail(s, what);
}

/* The length of the UTF-8 sequence starting at p (a byte >= 0x80), 0 if it is not valid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* the range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong form */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogate */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing over U+10FFFF */
    } else
        return 0;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

static int hex4(struct jscan *s, unsigned *out)
{
    if (s->end - s->p < 4)
        return jscan_fail(s, "a \\u escape is cut short");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s->p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return jscan_fail(s, "a \\u escape is not 4 hex digits");
        v = v * 16 + d;
    }
    s->p += 4;
    *out = v;
    return 0;
}

/* Appends k bytes to out (when out is not NULL). */
static int put(struct jscan *s, char *out, size_t cap, size_t *n, const void *b, size_t k)
{
    if (out) {
        if (*n + k >= cap)
            return jscan_fail(s, "a string is too long");
        memcpy(out + *n, b, k);
    }
    *n += k;
    return 0;
}

static int escape(struct jscan *s, char *out, size_t cap, size_t *n)
{
    s->p++; /* the backslash */
    if (s->p >= s->end)
        return jscan_fail(s, "a string is not closed");
    unsigned char c = *s->p++, ch;
    switch (c) {
    case '"':
    case '\\':
    case '/':
        ch = c;
        break;
    case 'b':
        ch = '\b';
        break;
    case 'f':
        ch = '\f';
        break;
    case 'n':
        ch = '\n';
        break;
    case 'r':
        ch = '\r';
        break;
    case 't':
        ch = '\t';
        break;
    case 'u': {
        unsigned u = 0, lo = 0;
        if (hex4(s, &u) != 0)
            return -1;
        if (u == 0)
            return jscan_fail(s, "a string holds \\u0000");
        if (u >= 0xDC00 && u <= 0xDFFF)
            return jscan_fail(s, "a \\u escape is a lone low surrogate");
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
                return jscan_fail(s, "a \\u escape is a lone high surrogate");
            s->p += 2;
            if (hex4(s, &lo) != 0)
                return -1;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return jscan_fail(s, "a \\u escape is a lone high surrogate");
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        }
        unsigned char b[4];
        size_t k;
        if (u < 0x80) {
            b[0] = (unsigned char)u;
            k = 1;
        } else if (u < 0x800) {
            b[0] = (unsigned char)(0xC0 | (u >> 6));
            b[1] = (unsigned char)(0x80 | (u & 0x3F));
            k = 2;
        } else if (u < 0x10000) {
            b[0] = (unsigned char)(0xE0 | (u >> 12));
            b[1] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
            b[2] = (unsigned char)(0x80 | (u & 0x3F));
            k = 3;
        } else {
            b[0] = (unsigned char)(0xF0 | (u >> 18));
            b[1] = (unsigned char)(0x80 | ((u >> 12) & 0x3F));
            b[2] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
            b[3] = (unsigned char)(0x80 | (u & 0x3F));
            k = 4;
        }
        return put(s, out, cap, n, b, k);
    }
    default:
        s->p--;
        return jscan_fail(s, "a string has an unknown escape");
    }
    return put(s, out, cap, n, &ch, 1);
}

/* The string at s->p (its opening quote), decoded into out when out is not NULL; keys
 * (is_key) may hold no escape. */
static int string_at(struct jscan *s, char *out, size_t cap, size_t *len, int is_key)
{
    size_t n = 0;
    if (s->p >= s->end || *s->p != '"')
        return jscan_fail(s, is_key ? "a key was expected" : "a string was expected");
    s->p++;
    for (;;) {
        const unsigned char *run = s->p;
        while (s->p < s->end && *s->p >= 0x20 && *s->p < 0x80 && *s->p != '"' && *s->p != '\\')
            s->p++;
        if (s->p > run && put(s, out, cap, &n, run, (size_t)(s->p - run)) != 0)
            return -1;
        if (s->p >= s->end)
            return jscan_fail(s, "a string is not closed");
        unsigned char c = *s->p;
        if (c == '"') {
            s->p++;
            break;
        }
        if (c < 0x20)
            return jscan_fail(s, "a string holds a control character");
        if (c == '\\') {
            if (is_key)
                return jscan_fail(s, "a key holds an escape");
            if (escape(s, out, cap, &n) != 0)
                return -1;
            continue;
        }
        size_t k = utf8_len(s->p, s->end);
        if (k == 0)
            return jscan_fail(s, "a string is not valid UTF-8");
        if (put(s, out, cap, &n, s->p, k) != 0)
            return -1;
        s->p += k;
    }
    if (out)
        out[n] = '\0';
    if (len)
        *len = n;
    return 0;
}

int jscan_string(struct jscan *s, char *out, size_t cap, size_t *len)
{
    ws(s);
    if (out && cap == 0)
        return jscan_fail(s, "a string is too long");
    return string_at(s, out, cap, len, 0);
}

int jscan_int(struct jscan *s, int64_t *out)
{
    ws(s);
    int neg = 0;
    if (s->p < s->end && *s->p == '-') {
        neg = 1;
        s->p++;
    }
    if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        return jscan_fail(s, "an integer was expected");
    uint64_t v = 0, max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (*s->p == '0') {
        s->p++;
        if (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            return jscan_fail(s, "an integer has a leading zero");
    } else {
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
            unsigned d = (unsigned)(*s->p - '0');
            if (v > (max - d) / 10)
                return jscan_fail(s, "an integer is out of range");
            v = v * 10 + d;
            s->p++;
        }
    }
    if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
        return jscan_fail(s, "a number is not an integer");
    if (out)
        *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return 0;
}

static int literal(struct jscan *s, const char *word)
{
    size_t n = strlen(word);
    ws(s);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return jscan_fail(s, "a value was expected");
    s->p += n;
    return 0;
}

int jscan_bool(struct jscan *s, int *out)
{
    int c = jscan_peek(s);
    if (c == 't' && literal(s, "true") == 0) {
        *out = 1;
        return 0;
    }
    if (c == 'f' && literal(s, "false") == 0) {
        *out = 0;
        return 0;
    }
    return jscan_fail(s, "true or false was expected");
}

int jscan_null(struct jscan *s)
{
    return literal(s, "null");
}

int jscan_object_begin(struct jscan *s, struct jscan_obj *o)
{
    o->n = 0;
    return take(s, '{', "an object was expected");
}

int jscan_array_begin(struct jscan *s)
{
    return take(s, '[', "an array was expected");
}

int jscan_key_is(const unsigned char *key, size_t klen, const char *name)
{
    return strlen(name) == klen && memcmp(key, name, klen) == 0;
}

int jscan_object_next(struct jscan *s, struct jscan_obj *o, const unsigned char **key, size_t *klen)
{
    int c = jscan_peek(s);
    if (c == '}') {
        s->p++;
        return 0;
    }
    if (o->n > 0 && take(s, ',', "',' or '}' was expected after a member") != 0)
        return -1;
    ws(s);
    if (o->n >= JSCAN_MAX_MEMBERS)
        return jscan_fail(s, "an object has too many members");
    const unsigned char *k = s->p + 1;
    size_t n = 0;
    if (string_at(s, NULL, 0, &n, 1) != 0)
        return -1;
    for (int i = 0; i < o->n; i++)
        if (o->klen[i] == n && memcmp(o->key[i], k, n) == 0)
            return jscan_fail(s, "an object has a key twice");
    o->key[o->n] = k;
    o->klen[o->n] = n;
    o->n++;
    if (take(s, ':', "':' was expected after a key") != 0)
        return -1;
    *key = k;
    *klen = n;
    return 1;
}

int jscan_array_next(struct jscan *s, int first)
{
    int c = jscan_peek(s);
    if (c == ']') {
        s->p++;
        return 0;
    }
    if (first)
        return 1;
    if (c != ',')
        return jscan_fail(s, "',' or ']' was expected after an element");
    s->p++;
    return 1;
}

int jscan_value(struct jscan *s, int depth, const unsigned char **vs, const unsigned char **ve)
{
    int c = jscan_peek(s), rc = 0;
    if (vs)
        *vs = s->p;
    if ((c == '{' || c == '[') && depth >= JSCAN_MAX_DEPTH)
        return jscan_fail(s, "values are nested too deep");
    if (c == '{') {
        struct jscan_obj o;
        const unsigned char *k;
        size_t kl;
        rc = jscan_object_begin(s, &o);
        while (rc == 0 && (rc = jscan_object_next(s, &o, &k, &kl)) == 1)
            rc = jscan_value(s, depth + 1, NULL, NULL);
    } else if (c == '[') {
        rc = jscan_array_begin(s);
        for (int first = 1; rc == 0 && (rc = jscan_array_next(s, first)) == 1; first = 0)
            rc = jscan_value(s, depth + 1, NULL, NULL);
    } else if (c == '"')
        rc = string_at(s, NULL, 0, NULL, 0);
    else if (c == '-' || (c >= '0' && c <= '9'))
        rc = jscan_int(s, NULL);
    else if (c == 't' || c == 'f') {
        int b;
        rc = jscan_bool(s, &b);
    } else if (c == 'n')
        rc = jscan_null(s);
    else
        rc = jscan_fail(s, "a value was expected");
    if (rc < 0)
        return -1;
    if (ve)
        *ve = s->p;
    return 0;
}
