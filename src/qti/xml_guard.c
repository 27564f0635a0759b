/*
 * xml_guard.c - a linear pre-scan of XML bytes that refuses an element with too many
 * attributes before libxml2 parses it (see item.h). libxml2 2.9 checks the attributes of an
 * element for duplicates pair by pair, so one element with 300,000 attributes (a 3.4 MB file)
 * costs minutes of CPU: the scan bounds that work. It reads UTF-8 (and any ASCII-compatible
 * encoding), UTF-16 and UTF-32 in either byte order: markup characters are ASCII in each.
 */
#include <stdint.h>
#include <string.h>

#include "qti/item.h"

struct scan {
    const unsigned char *p;
    size_t n;  /* code units */
    int width; /* bytes per code unit: 1, 2 or 4 */
    int big;   /* big-endian units */
};

/* The code unit at index i (non-ASCII units as 0x80), or -1 past the end. */
static int unit(const struct scan *s, size_t i)
{
    if (i >= s->n)
        return -1;
    const unsigned char *q = s->p + i * (size_t)s->width;
    uint32_t v = 0;
    for (int k = 0; k < s->width; k++)
        v |= (uint32_t)q[s->big ? s->width - 1 - k : k] << (8 * k);
    return v < 0x80 ? (int)v : 0x80;
}

static int starts(const struct scan *s, size_t i, const char *lit)
{
    for (size_t k = 0; lit[k]; k++)
        if (unit(s, i + k) != (unsigned char)lit[k])
            return 0;
    return 1;
}

/* Index just past the first `end` at or after i (s->n if none), counting newlines. */
static size_t skip_past(const struct scan *s, size_t i, const char *end, long *line)
{
    for (; i < s->n; i++) {
        if (starts(s, i, end))
            return i + strlen(end);
        if (unit(s, i) == '\n')
            (*line)++;
    }
    return s->n;
}

static void detect(struct scan *s, const unsigned char *d, size_t len)
{
    s->width = 1;
    s->big = 0;
    size_t skip = 0;
    if (len >= 4 && !memcmp(d, "\0\0\xfe\xff", 4)) {
        s->width = 4, s->big = 1, skip = 4;
    } else if (len >= 4 && !memcmp(d, "\xff\xfe\0\0", 4)) {
        s->width = 4, skip = 4;
    } else if (len >= 4 && !memcmp(d, "\0\0\0<", 4)) {
        s->width = 4, s->big = 1;
    } else if (len >= 4 && !memcmp(d, "<\0\0\0", 4)) {
        s->width = 4;
    } else if (len >= 2 && !memcmp(d, "\xfe\xff", 2)) {
        s->width = 2, s->big = 1, skip = 2;
    } else if (len >= 2 && !memcmp(d, "\xff\xfe", 2)) {
        s->width = 2, skip = 2;
    } else if (len >= 2 && !memcmp(d, "\0<", 2)) {
        s->width = 2, s->big = 1;
    } else if (len >= 2 && !memcmp(d, "<\0", 2)) {
        s->width = 2;
    }
    s->p = d + skip;
    s->n = (len - skip) / (size_t)s->width;
}

/* Skips a quoted literal starting at i (the quote); returns the index past its end. */
static size_t skip_literal(const struct scan *s, size_t i, long *line)
{
    int q = unit(s, i);
    for (i++; i < s->n; i++) {
        int c = unit(s, i);
        if (c == '\n')
            (*line)++;
        if (c == q)
            return i + 1;
    }
    return s->n;
}

/* A declaration (<!DOCTYPE ...>) from i (its '<'): literals may hold '<' and '>', and the
 * internal subset holds comments, processing instructions and more declarations. Returns the
 * index past its end, or (size_t)-1 at an entity declaration when `refuse_entities`. */
static size_t skip_declaration(const struct scan *s, size_t i, int refuse_entities, long *line)
{
    int subset = 0;
    for (i += 2; i < s->n;) {
        int c = unit(s, i);
        if (c == '\n')
            (*line)++;
        if (c == '"' || c == '\'') {
            i = skip_literal(s, i, line);
        } else if (subset && starts(s, i, "<!--")) {
            i = skip_past(s, i + 4, "-->", line);
        } else if (subset && starts(s, i, "<?")) {
            i = skip_past(s, i + 2, "?>", line);
        } else if (subset && refuse_entities && starts(s, i, "<!ENTITY")) {
            return (size_t)-1;
        } else if (c == '[') {
            subset = 1;
            i++;
        } else if (c == ']') {
            subset = 0;
            i++;
        } else if (c == '>' && !subset) {
            return i + 1;
        } else {
            i++;
        }
    }
    return s->n;
}

int qti_xml_attr_guard(const char *href, const void *data, size_t len, size_t max_attrs,
                       int refuse_entities, struct op_err *e)
{
    struct scan s;
    detect(&s, data, len);
    long line = 1;
    size_t i = 0;
    while (i < s.n) {
        int c = unit(&s, i);
        if (c == '\n')
            line++;
        if (c != '<') {
            i++;
            continue;
        }
        if (starts(&s, i, "<!--")) {
            i = skip_past(&s, i + 4, "-->", &line);
        } else if (starts(&s, i, "<![CDATA[")) {
            i = skip_past(&s, i + 9, "]]>", &line);
        } else if (starts(&s, i, "<?")) {
            i = skip_past(&s, i + 2, "?>", &line);
        } else if (starts(&s, i, "<!")) {
            long at = line;
            i = skip_declaration(&s, i, refuse_entities, &line);
            if (i == (size_t)-1)
                return err_set(e, OP_EINPUT,
                               "%s line %ld: entity declarations are not allowed (they can "
                               "expand without bound or read local files)",
                               href, at);
        } else {
            /* A start or end tag: count '=' outside quoted values up to the closing '>'. A
             * tag never holds a '<' (not even in a value), so one ends the count: no quote
             * left open by a malformed tag can hide the attributes of the next one. */
            long tag_line = line;
            size_t attrs = 0;
            int quote = 0;
            for (i++; i < s.n; i++) {
                c = unit(&s, i);
                if (c == '<')
                    break;
                if (c == '\n')
                    line++;
                if (quote) {
                    if (c == quote)
                        quote = 0;
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '=') {
                    if (++attrs > max_attrs)
                        return err_set(e, OP_EINPUT,
                                       "%s line %ld: an element with more than %zu attributes",
                                       href, tag_line, max_attrs);
                } else if (c == '>') {
                    i++;
                    break;
                }
            }
        }
    }
    return 0;
}
