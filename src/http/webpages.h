/*
 * webpages.h - the device's web pages (web/: HTML, CSS, JavaScript, the strings of each
 * language in web/i18n/LANG.json), embedded in the binary at build time by
 * scripts/embed-web.cmake and served by `outpost serve` at / (docs/web.md).
 *
 * Every page answer carries a strict Content-Security-Policy (WEB_CSP: nothing but this
 * server's own files, no inline script or style, no framing), X-Content-Type-Options:
 * nosniff (server.c), Referrer-Policy: no-referrer, and "Cache-Control: no-cache" (a browser
 * may keep a copy but asks again, so an upgraded device serves its new pages at once). An
 * HTML page's <html lang="en"> names the device's language: the i18n file closest to the
 * configured language (configuration.global.lang: "fr-FR" takes fr-FR.json, else fr.json,
 * else English), so web/lib.js loads those strings, with English for any key they lack.
 */
#ifndef OUTPOST_HTTP_WEBPAGES_H
#define OUTPOST_HTTP_WEBPAGES_H

#include <stddef.h>

#include "http/server.h"

#define WEB_CSP                                                                                    \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/* One embedded file: its path under web/ with a leading "/" ("/index.html"). */
struct web_asset {
    const char *path;
    const unsigned char *data;
    size_t len;
};

/* The files, sorted by path (generated: build/generated/web_assets.c). */
extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

/* The file at `path` ("/" is "/index.html"), or NULL. */
const struct web_asset *web_asset_find(const char *path);

/* The media type of a path by its extension ("text/html; charset=utf-8" ...;
 * "application/octet-stream" when unknown). */
const char *web_content_type(const char *path);

/* The language of the pages for a configured language tag (see above): "en" when NULL or
 * no file is closer; `out` gets at most cap - 1 bytes. */
void web_language(const char *configured, char *out, size_t cap);

/* Which embedded file a GET of `path` serves on a central (`central` 1) or a device (0), or
 * NULL for none (404). A device serves its pages (web/) and never the backoffice. A central
 * serves the backoffice, web/admin/ (docs/web-pages.md, "Central's backoffice"): "/" and
 * "/admin/" are "/admin/index.html"; besides /admin/ only the shared files (/lib.js,
 * /pages.css, /i18n/) - never the device's pages. */
const char *web_page_path(const char *path, int central);

/* The GET (and HEAD) handler of every path outside /api/ that no route has: the embedded
 * file, or 404. */
int web_pages_get(const struct http_request *req, struct http_response *res, struct op_err *e);

#endif
