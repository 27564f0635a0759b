/*
 * body.h - reading a request body: the JSON parser every endpoint uses (bounded, reporting
 * where it failed) and the Content-Type check. Pure functions over bytes, fuzzed
 * (tests/fuzz/fuzz_http_parse.c); handlers reach them through http_request_json and
 * http_request_check_type (http/server.h).
 */
#ifndef OUTPOST_HTTP_BODY_H
#define OUTPOST_HTTP_BODY_H

#include <jansson.h>
#include <stddef.h>

#include "base/err.h"

/* How deep arrays and objects may nest in a request body: far more than any endpoint needs,
 * far less than what would exhaust a thread's stack in the parser. */
#define HTTP_JSON_MAX_DEPTH 32

/* Parses `len` bytes of `data` (the body, whose size the server has already bounded) as one
 * JSON document into *out (a new reference, the caller json_decrefs it). Refuses (OP_EINPUT,
 * field "body") an empty body, nesting deeper than `max_depth`, a duplicated object key, a NUL
 * character, invalid UTF-8 and anything jansson refuses, saying where: "request body line 1
 * column 9 (byte 8): ...". */
int http_json_parse(const char *data, size_t len, int max_depth, json_t **out, struct op_err *e);

/* Whether a Content-Type header value names the media type `type` ("application/json"):
 * compared without regard to case, parameters after ';' ("; charset=utf-8") ignored. NULL
 * `header` is no match. */
int http_content_type_is(const char *header, const char *type);

#endif
