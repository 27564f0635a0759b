/*
 * query.h - the query string of a request URL ("since=42&limit=500"), parsed by us rather than
 * by libmicrohttpd so that the rules are ours, stated here, and fuzzed
 * (tests/fuzz/fuzz_http_parse.c):
 *
 *   - at most HTTP_QUERY_MAX_LEN bytes and HTTP_QUERY_MAX_PARAMS parameters;
 *   - "name=value" pairs split on '&' (empty pieces are skipped); "name" alone has the value "";
 *   - names and values are percent-decoded ('+' is a space); a bad escape ("%G1", a '%' at the
 *     end), a decoded NUL byte or invalid UTF-8 is refused;
 *   - an empty name, or a name given twice ("since=1&since=2": which one would a proxy have
 *     checked?), is refused.
 *
 * A refusal is OP_EINPUT with a message naming the parameter or the byte (HTTP 400).
 * The access log writes the query with the value of every secret-looking parameter
 * (http_query_name_is_secret) replaced by "*".
 */
#ifndef OUTPOST_HTTP_QUERY_H
#define OUTPOST_HTTP_QUERY_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define HTTP_QUERY_MAX_LEN    4096
#define HTTP_QUERY_MAX_PARAMS 32

struct http_query {
    int n;
    const char *name[HTTP_QUERY_MAX_PARAMS];  /* decoded, point into `storage` */
    const char *value[HTTP_QUERY_MAX_PARAMS]; /* decoded, "" when none was given */
    char *storage;                            /* owned; http_query_free */
};

/* Parses `len` bytes of `raw` (without the '?') into *q, which the caller frees with
 * http_query_free on success and failure alike. */
int http_query_parse(const char *raw, size_t len, struct http_query *q, struct op_err *e);

/* The value of parameter `name` (compared exactly), or NULL when absent. */
const char *http_query_get(const struct http_query *q, const char *name);

void http_query_free(struct http_query *q);

/* Whether a parameter's value must never be logged: its name contains (in any case) "token",
 * "secret", "pass", "key", "code", "auth" or "sig". */
int http_query_name_is_secret(const char *name);

/* Appends the query as the access log shows it: "?a=1&token=*" (nothing when it has no
 * parameter), every name and value percent-encoded again except [A-Za-z0-9._~-], secret values
 * as "*", cut with "..." past `max` bytes. Returns 0 or OP_ENOMEM. */
int http_query_log(const struct http_query *q, size_t max, struct buf *out);

#endif
