/*
 * cookie.h - reading one cookie out of a request's Cookie header (RFC 6265 §4.2: pairs
 * "name=value" separated by ";" and optional spaces). A pure function over bytes, bounded and
 * fuzzed (tests/fuzz/fuzz_web_session.c); handlers reach it through http_request_cookie
 * (http/server.h). Writing a cookie is websession.h's (Set-Cookie with its attributes).
 */
#ifndef OUTPOST_HTTP_COOKIE_H
#define OUTPOST_HTTP_COOKIE_H

#include <stddef.h>

/* The longest Cookie header value looked at: past it the header is ignored (no cookie). */
#define HTTP_COOKIE_HEADER_MAX 8192

/* Finds cookie `name` in the Cookie header value `header` (NUL-terminated; NULL: none) and
 * copies its value, without surrounding double quotes, into `out` (cap bytes, NUL-terminated).
 * Returns 1 when found, 0 when absent, -1 when it is there but its value is longer than
 * cap - 1 bytes or holds a byte outside RFC 6265's cookie-octet (a control character, space,
 * '"', ',', ';' or '\\'): such a value is never copied. The first cookie of that name wins
 * (browsers send the most specific path first). */
int http_cookie_find(const char *header, const char *name, char *out, size_t cap);

#endif
