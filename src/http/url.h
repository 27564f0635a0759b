/*
 * url.h - central's root URL, as a device stores it and the HTTP client builds requests on it.
 *
 * An operator types the root URL in many forms; they all name one server, so they all give one
 * base: `https://central.example.org`, `https://central.example.org/` and
 * `https://central.example.org//` give `https://central.example.org`, and
 * `https://h/outpost/` gives `https://h/outpost` (a path prefix, for a central behind a
 * reverse proxy). The base never ends in '/', so a request path ("/api/v1/health") is
 * appended as is. The scheme and host are lower-cased; a default port (:443 for https, :80
 * for http) is dropped. Refused, with a message saying why: any scheme but http and https,
 * userinfo (`https://user:pw@h`: a password in a URL ends up in logs), a query or a fragment
 * (a root is not a page), an empty host, a "." or ".." path segment, spaces and control
 * characters, and a URL longer than HTTP_URL_MAX.
 *
 * Base level, like client.c: it includes only base/ (docs/architecture.md, "src/http").
 */
#ifndef OUTPOST_HTTP_URL_H
#define OUTPOST_HTTP_URL_H

#include <stddef.h>

#include "base/err.h"

#define HTTP_URL_MAX 1024 /* a root URL, and a root URL plus a request path */

/* Normalises the root URL `in` into `out` (HTTP_URL_MAX bytes). 0, or OP_EINPUT (field
 * "root-url") with the reason. */
int http_root_url_normalise(const char *in, char out[HTTP_URL_MAX], struct op_err *e);

/* 1 when the normalised root URL `base` is https, 0 when it is http. */
int http_root_url_is_https(const char *base);

/* The host (and port, if any) of the normalised root URL `base`, into `out` (`n` bytes), for
 * messages. */
void http_root_url_host(const char *base, char *out, size_t n);

#endif
