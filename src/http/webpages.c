/* webpages.c - serving the embedded web/ files (webpages.h). */
#include "http/webpages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct web_asset *web_asset_find(const char *path)
{
    if (!path || path[0] != '/')
        return NULL;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    size_t lo = 0, hi = web_assets_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, web_assets[mid].path);
        if (c == 0)
            return &web_assets[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *web_content_type(const char *path)
{
    static const struct {
        const char *ext;
        const char *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* 1 when web/i18n/TAG.json is embedded. */
static int has_strings(const char *tag)
{
    char p[96];
    snprintf(p, sizeof p, "/i18n/%s.json", tag);
    return web_asset_find(p) != NULL;
}

void web_language(const char *configured, char *out, size_t cap)
{
    snprintf(out, cap, "en");
    if (!configured || !*configured || strlen(configured) > 35)
        return;
    for (const char *c = configured; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_'))
            return; /* not a language tag: never put it in a page or a path */
    char tag[40];
    snprintf(tag, sizeof tag, "%s", configured);
    for (char *c = tag; *c; c++)
        if (*c == '_')
            *c = '-';
    if (has_strings(tag)) {
        snprintf(out, cap, "%s", tag);
        return;
    }
    tag[strcspn(tag, "-")] = '\0'; /* "fr-FR": "fr" */
    if (has_strings(tag))
        snprintf(out, cap, "%s", tag);
}

static int set_page_headers(struct http_response *res)
{
    int rc = http_response_header(res, "Content-Security-Policy", WEB_CSP);
    if (rc == 0)
        rc = http_response_header(res, "Referrer-Policy", "no-referrer");
    if (rc == 0)
        rc = http_response_header(res, "Cache-Control", "no-cache");
    return rc;
}

/* An HTML page with its <html lang="en"> naming the device's language. */
static int answer_html(const struct http_request *req, struct http_response *res,
                       const struct web_asset *a)
{
    static const char marker[] = "<html lang=\"en\">";
    char lang[40];
    web_language(req->inst ? req->inst->settings.lang : NULL, lang, sizeof lang);
    const char *text = (const char *)a->data;
    const char *at = strcmp(lang, "en") != 0 ? strstr(text, marker) : NULL;
    if (!at)
        return http_response_body(res, 200, web_content_type(a->path), a->data, a->len);
    size_t head = (size_t)(at - text), tail = a->len - head - (sizeof marker - 1);
    size_t cap = a->len + sizeof lang + 16;
    char *page = malloc(cap);
    if (!page)
        return OP_ENOMEM;
    int n = snprintf(page, cap, "%.*s<html lang=\"%s\">", (int)head, text, lang);
    memcpy(page + n, at + sizeof marker - 1, tail);
    int rc = http_response_body(res, 200, web_content_type(a->path), page, (size_t)n + tail);
    free(page);
    return rc;
}

const char *web_page_path(const char *path, int central)
{
    static const char admin[] = "/admin/";
    if (!path || path[0] != '/')
        return NULL;
    if (!central)
        return strncmp(path, admin, sizeof admin - 1) == 0 ? NULL : path;
    if (strcmp(path, "/") == 0 || strcmp(path, admin) == 0 || strcmp(path, "/admin") == 0 ||
        strcmp(path, "/index.html") == 0)
        return "/admin/index.html";
    if (strncmp(path, admin, sizeof admin - 1) == 0 || strcmp(path, "/lib.js") == 0 ||
        strcmp(path, "/pages.css") == 0 || strcmp(path, "/app.css") == 0 ||
        strncmp(path, "/i18n/", 6) == 0)
        return path;
    return NULL;
}

int web_pages_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    const char *path = web_page_path(req->path, req->inst && req->inst->role == ROLE_CENTRAL);
    const struct web_asset *a = path ? web_asset_find(path) : NULL;
    if (!a)
        return err_set(e, OP_ENOTFOUND, "%s: no such page", req->path);
    if (set_page_headers(res) != 0)
        return err_set(e, OP_ENOMEM, "out of memory");
    const char *type = web_content_type(a->path);
    int rc = strncmp(type, "text/html", 9) == 0
                 ? answer_html(req, res, a)
                 : http_response_body(res, 200, type, a->data, a->len);
    return rc != 0 ? err_set(e, OP_ENOMEM, "out of memory") : 0;
}
