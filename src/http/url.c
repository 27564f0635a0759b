/* url.c - root URL normalisation (see url.h). */
#include "http/url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

static int refuse(struct op_err *e, const char *in, const char *why)
{
    return err_set_field(e, OP_EINPUT, "root-url",
                         "root URL \"%.200s\": %s (write it as https://HOST[:PORT][/PREFIX])", in,
                         why);
}

int http_root_url_normalise(const char *in, char out[HTTP_URL_MAX], struct op_err *e)
{
    out[0] = '\0';
    if (!in || !*in)
        return err_set_field(e, OP_EINPUT, "root-url",
                             "the root URL is empty (write it as https://HOST[:PORT][/PREFIX])");
    size_t n = strlen(in);
    if (n >= HTTP_URL_MAX)
        return refuse(e, in, "longer than 1023 characters");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch <= ' ' || ch >= 0x7f)
            return refuse(e, in, "a space, control or non-ASCII character (percent-encode it)");
    }
    if (strchr(in, '#'))
        return refuse(e, in, "a root URL has no fragment (#...)");
    if (strchr(in, '?'))
        return refuse(e, in, "a root URL has no query (?...)");

    const char *sep = strstr(in, "://");
    if (!sep)
        return refuse(e, in, "no scheme (https:// or http://)");
    char scheme[8];
    size_t sl = (size_t)(sep - in);
    if (sl == 0 || sl >= sizeof scheme)
        return refuse(e, in, "only https:// and http:// URLs are accepted");
    for (size_t i = 0; i < sl; i++)
        scheme[i] = (char)tolower((unsigned char)in[i]);
    scheme[sl] = '\0';
    int https;
    if (strcmp(scheme, "https") == 0)
        https = 1;
    else if (strcmp(scheme, "http") == 0)
        https = 0;
    else
        return refuse(e, in, "only https:// and http:// URLs are accepted");

    const char *auth = sep + 3;
    size_t al = strcspn(auth, "/");
    if (memchr(auth, '@', al))
        return refuse(e, in,
                      "a user name or password in the URL is refused (it would end up "
                      "in logs); the device enrols with its own credentials");
    if (al == 0)
        return refuse(e, in, "no host");
    char host[HTTP_URL_MAX];
    memcpy(host, auth, al);
    host[al] = '\0';
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    /* the port: after the last ':' outside an IPv6 literal's brackets */
    /* brackets only around an IPv6 literal at the start: "[::1]" or "[::1]:8443" */
    char *close = strchr(host, ']');
    if (host[0] == '[' && !close)
        return refuse(e, in, "an IPv6 address without its closing ']'");
    if (strchr(host + 1, '[') || (close && (host[0] != '[' || (close[1] && close[1] != ':'))))
        return refuse(e, in, "a '[' or ']' outside an IPv6 address such as [::1]");
    if (!close && strchr(host, ':') != strrchr(host, ':'))
        return refuse(e, in, "an IPv6 address must be in brackets, such as [::1]");
    char *colon = close ? (close[1] == ':' ? close + 1 : NULL) : strchr(host, ':');
    if (colon) {
        const char *port = colon + 1;
        if (!*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
            return refuse(e, in, "the port is not a number");
        long pn = strtol(port, NULL, 10);
        if (pn < 1 || pn > 65535)
            return refuse(e, in, "the port is not between 1 and 65535");
        if ((https && pn == 443) || (!https && pn == 80))
            *colon = '\0';
        else
            snprintf(colon, (size_t)(host + sizeof host - colon), ":%ld", pn);
    }
    if (host[0] == '\0' || host[0] == ':')
        return refuse(e, in, "no host");
    for (const char *p = host; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr(".-_:[]%", *p)))
            return refuse(e, in, "a character that cannot be in a host name");

    struct buf b = BUF_INIT;
    int rc = buf_printf(&b, "%s://%s", scheme, host);
    /* the path: segments between slashes, empty ones dropped */
    const char *p = auth + al;
    while (rc == 0 && *p) {
        while (*p == '/')
            p++;
        size_t seg = strcspn(p, "/");
        if (seg == 0)
            break;
        if ((seg == 1 && p[0] == '.') || (seg == 2 && p[0] == '.' && p[1] == '.')) {
            buf_free(&b);
            return refuse(e, in, "a \".\" or \"..\" path segment");
        }
        rc = buf_puts(&b, "/");
        if (rc == 0)
            rc = buf_append(&b, p, seg);
        p += seg;
    }
    if (rc != 0) {
        buf_free(&b);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    if (b.len >= HTTP_URL_MAX) {
        buf_free(&b);
        return refuse(e, in, "longer than 1023 characters");
    }
    memcpy(out, b.data, b.len + 1);
    buf_free(&b);
    return 0;
}

int http_root_url_is_https(const char *base)
{
    return strncmp(base, "https://", 8) == 0;
}

void http_root_url_host(const char *base, char *out, size_t n)
{
    if (n == 0)
        return;
    const char *h = strstr(base, "://");
    h = h ? h + 3 : base;
    size_t l = strcspn(h, "/");
    if (l >= n)
        l = n - 1;
    memcpy(out, h, l);
    out[l] = '\0';
}
