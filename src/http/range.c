/* range.c - the Range header of a download (see range.h). */
#include "http/range.h"

#include <string.h>
#include <strings.h>

/* Reads 1 to 19 digits at *p (19 digits always fit in 64 bits) into *v and moves *p past
 * them; -1 when there is no digit or more than 19. */
static int read_number(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t n = 0;
    int digits = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        if (++digits > 19)
            return -1;
        n = n * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (digits == 0)
        return -1;
    *p = s;
    *v = n;
    return 0;
}

static const char *skip_ows(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

enum http_range_kind http_range_parse(const char *header, uint64_t total, struct http_range *out)
{
    out->start = 0;
    out->length = total;
    if (!header)
        return HTTP_RANGE_FULL;
    size_t len = strnlen(header, HTTP_RANGE_HEADER_MAX + 1);
    if (len > HTTP_RANGE_HEADER_MAX)
        return HTTP_RANGE_FULL;
    const char *end = header + len;
    const char *p = skip_ows(header, end);
    if ((size_t)(end - p) < 6 || strncasecmp(p, "bytes=", 6) != 0)
        return HTTP_RANGE_FULL;
    p = skip_ows(p + 6, end);
    uint64_t first = 0, last = 0;
    int suffix = 0, open_end = 0;
    if (p < end && *p == '-') {
        p++;
        if (read_number(&p, end, &last) != 0)
            return HTTP_RANGE_FULL;
        suffix = 1;
    } else {
        if (read_number(&p, end, &first) != 0 || p >= end || *p != '-')
            return HTTP_RANGE_FULL;
        p++;
        if (p < end && *p >= '0' && *p <= '9') {
            if (read_number(&p, end, &last) != 0 || first > last)
                return HTTP_RANGE_FULL;
        } else {
            open_end = 1;
        }
    }
    p = skip_ows(p, end);
    if (p != end) /* a second range, or anything after the one: not ours to guess */
        return HTTP_RANGE_FULL;
    if (suffix) {
        if (last == 0 || total == 0)
            return HTTP_RANGE_UNSATISFIABLE;
        out->length = last < total ? last : total;
        out->start = total - out->length;
        return HTTP_RANGE_PARTIAL;
    }
    if (first >= total)
        return HTTP_RANGE_UNSATISFIABLE;
    if (open_end || last >= total)
        last = total - 1;
    out->start = first;
    out->length = last - first + 1;
    return HTTP_RANGE_PARTIAL;
}
