/* query.c - the query string of a request URL (see query.h). */
#include "http/query.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/text.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes raw[from, to) into *dst (NUL-terminated, advanced past the NUL). `what` names the
 * piece in a message. */
static int decode(const char *raw, size_t from, size_t to, char **dst, const char *what,
                  struct op_err *e)
{
    char *out = *dst;
    char *start = out;
    for (size_t i = from; i < to; i++) {
        char c = raw[i];
        if (c == '+') {
            *out++ = ' ';
        } else if (c == '%') {
            int hi = i + 2 < to ? hex_value(raw[i + 1]) : -1;
            int lo = i + 2 < to ? hex_value(raw[i + 2]) : -1;
            if (i + 2 >= to || hi < 0 || lo < 0)
                return err_set_field(e, OP_EINPUT, "query",
                                     "query string byte %zu: bad percent escape in a %s "
                                     "(write %%XX with two hexadecimal digits)",
                                     i + 1, what);
            char d = (char)(hi * 16 + lo);
            if (d == '\0')
                return err_set_field(e, OP_EINPUT, "query",
                                     "query string byte %zu: a %s holds a NUL byte (%%00)", i + 1,
                                     what);
            *out++ = d;
            i += 2;
        } else if ((unsigned char)c < 0x20 || c == 0x7f) {
            return err_set_field(e, OP_EINPUT, "query",
                                 "query string byte %zu: a control character in a %s", i + 1, what);
        } else {
            *out++ = c;
        }
    }
    *out = '\0';
    if (!utf8_is_valid(start, (size_t)(out - start)))
        return err_set_field(e, OP_EINPUT, "query",
                             "query string byte %zu: a %s is not valid UTF-8", from + 1, what);
    *dst = out + 1;
    return 0;
}

int http_query_parse(const char *raw, size_t len, struct http_query *q, struct op_err *e)
{
    memset(q, 0, sizeof *q);
    if (len > HTTP_QUERY_MAX_LEN)
        return err_set_field(e, OP_EINPUT, "query",
                             "query string: %zu bytes, more than the %d allowed", len,
                             HTTP_QUERY_MAX_LEN);
    /* every decoded piece is no longer than its raw bytes, plus a NUL for the name and one
     * for the value, which take the places of '=' and '&' or are added (at most two per
     * piece, and a piece takes at least one raw byte) */
    q->storage = malloc(3 * len + 2);
    if (!q->storage)
        return err_set(e, OP_ENOMEM, "query string: out of memory");
    char *dst = q->storage;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && raw[end] != '&')
            end++;
        if (end > i) {
            if (q->n == HTTP_QUERY_MAX_PARAMS)
                return err_set_field(e, OP_EINPUT, "query", "query string: more than %d parameters",
                                     HTTP_QUERY_MAX_PARAMS);
            size_t eq = i;
            while (eq < end && raw[eq] != '=')
                eq++;
            if (eq == i)
                return err_set_field(e, OP_EINPUT, "query",
                                     "query string byte %zu: a parameter without a name", i + 1);
            const char *name = dst;
            if (decode(raw, i, eq, &dst, "parameter name", e) != 0)
                return OP_EINPUT;
            const char *value = "";
            if (eq < end) {
                value = dst;
                if (decode(raw, eq + 1, end, &dst, "parameter value", e) != 0)
                    return OP_EINPUT;
            }
            if (http_query_get(q, name))
                return err_set_field(e, OP_EINPUT, name,
                                     "query parameter \"%s\" is given more than once", name);
            q->name[q->n] = name;
            q->value[q->n] = value;
            q->n++;
        }
        i = end + 1;
    }
    return 0;
}

const char *http_query_get(const struct http_query *q, const char *name)
{
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->name[i], name) == 0)
            return q->value[i];
    return NULL;
}

void http_query_free(struct http_query *q)
{
    free(q->storage);
    memset(q, 0, sizeof *q);
}

int http_query_name_is_secret(const char *name)
{
    static const char *const words[] = {"token", "secret", "pass", "key", "code", "auth", "sig"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(name, words[i]))
            return 1;
    return 0;
}

static int append_encoded(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '~' || c == '-';
        char enc[3] = {(char)c, 0, 0};
        size_t n = 1;
        if (!plain) {
            enc[0] = '%';
            enc[1] = hex[c >> 4];
            enc[2] = hex[c & 15];
            n = 3;
        }
        if (buf_append(out, enc, n) != 0)
            return OP_ENOMEM;
    }
    return 0;
}

int http_query_log(const struct http_query *q, size_t max, struct buf *out)
{
    struct buf b = BUF_INIT;
    int rc = 0;
    for (int i = 0; i < q->n && rc == 0; i++) {
        rc = buf_puts(&b, i == 0 ? "?" : "&");
        if (rc == 0)
            rc = append_encoded(&b, q->name[i]);
        if (rc == 0 && (*q->value[i] || http_query_name_is_secret(q->name[i])))
            rc = buf_puts(&b, "=");
        if (rc == 0)
            rc = http_query_name_is_secret(q->name[i]) ? buf_puts(&b, "*")
                                                       : append_encoded(&b, q->value[i]);
    }
    if (rc == 0 && b.len > 0) {
        if (b.len > max) {
            rc = buf_append(out, b.data, max);
            if (rc == 0)
                rc = buf_puts(out, "...");
        } else {
            rc = buf_append(out, b.data, b.len);
        }
    }
    buf_free(&b);
    return rc ? OP_ENOMEM : 0;
}
