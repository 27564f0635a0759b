/* body.c - request bodies: JSON and Content-Type (see body.h). */
#include "http/body.h"

#include <string.h>
#include <strings.h>

/* Finds the first byte where arrays and objects nest deeper than `max`, outside strings;
 * returns its offset, or `len` when there is none. */
static size_t too_deep_at(const char *data, size_t len, int max)
{
    int depth = 0, in_string = 0, escaped = 0;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                return i;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return len;
}

int http_json_parse(const char *data, size_t len, int max_depth, json_t **out, struct op_err *e)
{
    *out = NULL;
    if (len == 0)
        return err_set_field(e, OP_EINPUT, "body",
                             "request body: empty; a JSON document is expected");
    size_t deep = too_deep_at(data, len, max_depth);
    if (deep < len)
        return err_set_field(e, OP_EINPUT, "body",
                             "request body byte %zu: arrays and objects nest deeper than %d levels",
                             deep, max_depth);
    json_error_t jerr;
    json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return err_set_field(e, OP_EINPUT, "body", "request body line %d column %d (byte %d): %s",
                             jerr.line, jerr.column, jerr.position, jerr.text);
    *out = doc;
    return 0;
}

int http_content_type_is(const char *header, const char *type)
{
    if (!header)
        return 0;
    while (*header == ' ' || *header == '\t')
        header++;
    size_t n = strlen(type);
    if (strncasecmp(header, type, n) != 0)
        return 0;
    const char *rest = header + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}
