/* cookie.c - the Cookie header parser (cookie.h). */
#include "http/cookie.h"

#include <string.h>

/* RFC 6265 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E */
static int cookie_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
           (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

int http_cookie_find(const char *header, const char *name, char *out, size_t cap)
{
    if (cap > 0)
        out[0] = '\0';
    if (!header || !name || !*name || cap == 0)
        return 0;
    size_t hlen = strnlen(header, HTTP_COOKIE_HEADER_MAX + 1);
    if (hlen > HTTP_COOKIE_HEADER_MAX)
        return 0;
    size_t nlen = strlen(name);
    const char *p = header, *end = header + hlen;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
            p++;
        const char *pair = p;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pair_end = semi ? semi : end;
        p = semi ? semi + 1 : end;
        const char *eq = memchr(pair, '=', (size_t)(pair_end - pair));
        if (!eq)
            continue;
        const char *ne = eq;
        while (ne > pair && (ne[-1] == ' ' || ne[-1] == '\t'))
            ne--;
        if ((size_t)(ne - pair) != nlen || memcmp(pair, name, nlen) != 0)
            continue;
        const char *v = eq + 1, *ve = pair_end;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
            v++;
            ve--;
        }
        size_t vlen = (size_t)(ve - v);
        if (vlen >= cap)
            return -1;
        for (size_t i = 0; i < vlen; i++)
            if (!cookie_octet((unsigned char)v[i]))
                return -1;
        memcpy(out, v, vlen);
        out[vlen] = '\0';
        return 1;
    }
    return 0;
}
