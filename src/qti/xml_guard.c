/*
 * xml_guard.c - linear pre-scans of XML bytes, run before libxml2 parses them (see item.h).
 *
 * The encoding check accepts UTF-8 and UTF-16 documents only. libxml2 2.9 decodes whatever a
 * document declares or its first bytes suggest (UTF-7, UTF-32, ISO-8859-x, EBCDIC, ... through
 * iconv), and honours a declaration even after a byte order mark, switching decoders in the
 * middle of a UTF-16 document. A byte scan cannot follow those: in UTF-7, "<!ENTITY" and
 * every '=' are base64. So the check decides the encoding the way libxml2 does
 * (xmlDetectCharEncoding, then the XML declaration) and refuses anything else; the scans that
 * follow then read the same characters as the parser.
 *
 * The attribute guard refuses an element with too many attributes: libxml2 2.9 checks the
 * attributes of an element for duplicates pair by pair, so one element with 300,000
 * attributes (a 3.4 MB file) costs minutes of CPU. It reads UTF-8 (and any ASCII-compatible
 * encoding), UTF-16 and UTF-32 in either byte order: markup characters are ASCII in each.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* ----------------------------------------------------------------------- encodings -- */

/* Bytes per code unit and order of what libxml2 2.9 reads from these first bytes
 * (xmlDetectCharEncoding), or 0 with `*refused` naming an encoding we do not read. */
static int sniff(const unsigned char *d, size_t len, struct scan *s, const char **refused,
                 const char **how)
{
    static const unsigned char ucs4[][4] = {
        {0, 0, 0, '<'}, {'<', 0, 0, 0}, {0, 0, '<', 0}, {0, '<', 0, 0}};
    *refused = NULL;
    *how = "its first bytes say so";
    size_t skip = 0;
    s->width = 1;
    s->big = 0;
    if (len >= 4 && (!memcmp(d, "\0\0\xfe\xff", 4) || !memcmp(d, "\xff\xfe\0\0", 4))) {
        *refused = "UTF-32";
        *how = "its byte order mark says so";
        return 0;
    }
    for (size_t k = 0; len >= 4 && k < sizeof ucs4 / sizeof ucs4[0]; k++)
        if (!memcmp(d, ucs4[k], 4)) {
            *refused = "UTF-32";
            return 0;
        }
    if (len >= 4 && !memcmp(d, "\x4c\x6f\xa7\x94", 4)) { /* "<?xm" in EBCDIC */
        *refused = "EBCDIC";
        return 0;
    }
    if (len >= 3 && !memcmp(d, "\xef\xbb\xbf", 3)) {
        skip = 3;
    } else if (len >= 2 && !memcmp(d, "\xfe\xff", 2)) {
        s->width = 2, s->big = 1, skip = 2;
    } else if (len >= 2 && !memcmp(d, "\xff\xfe", 2)) {
        s->width = 2, skip = 2;
    } else if (len >= 4 && !memcmp(d, "<\0?\0", 4)) {
        s->width = 2;
    } else if (len >= 4 && !memcmp(d, "\0<\0?", 4)) {
        s->width = 2, s->big = 1;
    } else if (memchr(d, 0, len)) {
        /* libxml2 would read UTF-8 and stop at the NUL; say what the file probably is */
        *refused = "";
        return 0;
    }
    s->p = d + skip;
    s->n = (len - skip) / (size_t)s->width;
    return s->width;
}

/* Copies the units of a declared name from i up to the quote `q` into out (printable ASCII,
 * at most size - 1 characters). */
static void declared_name(const struct scan *s, size_t i, int q, char *out, size_t size)
{
    size_t k = 0;
    for (; i < s->n && k + 1 < size; i++) {
        int c = unit(s, i);
        if (c == q || c < 0)
            break;
        out[k++] = c > 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[k] = 0;
}

static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int qti_xml_encoding_check(const char *href, const void *data, size_t len, struct op_err *e)
{
    struct scan s;
    const char *refused, *how;
    if (!sniff(data, len, &s, &refused, &how)) {
        if (!refused[0])
            return err_set(e, OP_EINPUT,
                           "%s: the file holds NUL bytes, so it is not UTF-8 (and UTF-16 needs a "
                           "byte order mark); re-save it as UTF-8",
                           href);
        return err_set(e, OP_EINPUT,
                       "%s: the file is encoded in %s (%s); only UTF-8 and UTF-16 are accepted: "
                       "re-save it as UTF-8",
                       href, refused, how);
    }
    /* libxml2 reads the XML declaration only at the very start, in the encoding found above,
     * and takes "encoding" even from a malformed declaration (no version, no blank before
     * it). Every encoding="..." up to the first "?>" is checked. */
    if (!starts(&s, 0, "<?xml"))
        return 0;
    for (size_t i = 5; i < s.n && !starts(&s, i, "?>"); i++) {
        if (!starts(&s, i, "encoding"))
            continue;
        size_t j = i + 8;
        while (is_blank(unit(&s, j)))
            j++;
        if (unit(&s, j) != '=')
            continue;
        for (j++; is_blank(unit(&s, j));)
            j++;
        int q = unit(&s, j);
        if (q != '"' && q != '\'')
            continue;
        char name[48];
        declared_name(&s, j + 1, q, name, sizeof name);
        int utf8 = !strcasecmp(name, "UTF-8") || !strcasecmp(name, "UTF8");
        int utf16 = !strcasecmp(name, "UTF-16") || !strcasecmp(name, "UTF16");
        int utf16le = !strcasecmp(name, "UTF-16LE"), utf16be = !strcasecmp(name, "UTF-16BE");
        const char *is = s.width == 1 ? "UTF-8" : s.big ? "UTF-16BE" : "UTF-16LE";
        /* On UTF-16 bytes libxml2 ignores a "UTF-8" label and reads on in UTF-16 (Windows
         * tools write such files): harmless, accepted. */
        if (s.width == 1 ? utf8 : utf8 || utf16 || (s.big ? utf16be : utf16le))
            continue;
        if (utf8 || utf16 || utf16le || utf16be)
            return err_set(e, OP_EINPUT,
                           "%s: the XML declaration says encoding \"%s\" but the file is %s; "
                           "re-save it as UTF-8",
                           href, name, is);
        return err_set(e, OP_EINPUT,
                       "%s: the file is encoded in %s (its XML declaration says so); only UTF-8 "
                       "and UTF-16 are accepted: re-save it as UTF-8",
                       href, name);
    }
    return 0;
}

/* ------------------------------------------------------------- attributes -- */

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
