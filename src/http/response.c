/*
 * response.c - building an answer (see server.h, "Responses"): bodies, JSON, files with
 * ranges, headers and the JSON error body. Nothing here talks to libmicrohttpd: server.c
 * turns a finished struct http_response into its response.
 */
#include "http/server.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/log.h"
#include "base/text.h"
#include "http/body.h"
#include "http/range.h"

void http_response_init(struct http_response *res)
{
    memset(res, 0, sizeof *res);
    res->fd = -1;
}

void http_response_clear(struct http_response *res)
{
    free(res->body);
    if (res->fd >= 0)
        close(res->fd);
    for (int i = 0; i < res->nheaders; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    http_response_init(res);
}

/* RFC 9110 token characters */
static int is_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              strchr("!#$%&'*+-.^_`|~", c)))
            return 0;
    }
    return 1;
}

int http_response_header(struct http_response *res, const char *name, const char *value)
{
    if (!is_token(name))
        return OP_EINPUT;
    for (const char *v = value; *v; v++)
        if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
            return OP_EINPUT;
    for (int i = 0; i < res->nheaders; i++) {
        if (strcasecmp(res->headers[i].name, name) == 0) {
            char *copy = strdup(value);
            if (!copy)
                return OP_ENOMEM;
            free(res->headers[i].value);
            res->headers[i].value = copy;
            return 0;
        }
    }
    if (res->nheaders == HTTP_RESPONSE_HEADERS_MAX)
        return OP_EINPUT;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return OP_ENOMEM;
    }
    res->headers[res->nheaders].name = n;
    res->headers[res->nheaders].value = v;
    res->nheaders++;
    return 0;
}

/* Drops what a previous answer set (body, file), keeping the headers. */
static void drop_content(struct http_response *res)
{
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    if (res->fd >= 0)
        close(res->fd);
    res->fd = -1;
    res->file_offset = res->file_length = 0;
}

int http_response_body(struct http_response *res, int status, const char *type, const void *data,
                       size_t len)
{
    drop_content(res);
    char *copy = malloc(len + 1);
    if (!copy)
        return OP_ENOMEM;
    if (len)
        memcpy(copy, data, len);
    copy[len] = '\0';
    res->body = copy;
    res->body_len = len;
    res->status = status;
    snprintf(res->content_type, sizeof res->content_type, "%s", type);
    return 0;
}

int http_response_json(struct http_response *res, int status, json_t *doc)
{
    if (!doc)
        return OP_ENOMEM;
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return OP_ENOMEM;
    drop_content(res);
    size_t len = strlen(text);
    /* a newline, so that `curl` leaves the shell's prompt on a line of its own */
    char *body = realloc(text, len + 2);
    if (!body) {
        free(text);
        return OP_ENOMEM;
    }
    body[len] = '\n';
    body[len + 1] = '\0';
    res->body = body;
    res->body_len = len + 1;
    res->status = status;
    snprintf(res->content_type, sizeof res->content_type, "application/json");
    return 0;
}

int http_response_file(struct http_response *res, int fd, uint64_t offset, uint64_t length,
                       uint64_t total, const char *type)
{
    drop_content(res);
    res->fd = fd;
    if (offset > total || length > total - offset)
        return OP_EINPUT; /* fd closed with the response */
    res->file_offset = offset;
    res->file_length = length;
    res->status = 200;
    snprintf(res->content_type, sizeof res->content_type, "%s", type);
    int rc = http_response_header(res, "Accept-Ranges", "bytes");
    if (rc == 0 && (offset != 0 || length != total)) {
        char range[96];
        snprintf(range, sizeof range, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, offset,
                 offset + length - 1, total);
        res->status = 206;
        rc = http_response_header(res, "Content-Range", range);
    }
    return rc;
}

int http_response_file_range(struct http_response *res, const struct http_request *req, int fd,
                             uint64_t total, const char *type)
{
    struct http_range r;
    switch (http_range_parse(http_request_header(req, "Range"), total, &r)) {
    case HTTP_RANGE_UNSATISFIABLE: {
        close(fd);
        char range[64];
        snprintf(range, sizeof range, "bytes */%" PRIu64, total);
        struct op_err e;
        err_set(&e, OP_EINPUT, "the range asked for is outside the %" PRIu64 " bytes of the file",
                total);
        http_response_error(res, 416, &e);
        return http_response_header(res, "Content-Range", range);
    }
    case HTTP_RANGE_PARTIAL:
        return http_response_file(res, fd, r.start, r.length, total, type);
    case HTTP_RANGE_FULL:
    default:
        return http_response_file(res, fd, 0, total, total, type);
    }
}

const char *http_error_code(int status)
{
    switch (status) {
    case 400:
        return "invalid_request";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 409:
        return "conflict";
    case 413:
        return "payload_too_large";
    case 415:
        return "unsupported_media_type";
    case 416:
        return "range_not_satisfiable";
    case 422:
        return "crypto";
    case 429:
        return "too_many_requests";
    case 431:
        return "headers_too_large";
    case 503:
        return "busy";
    default:
        return status >= 400 && status < 500 ? "invalid_request" : "internal";
    }
}

int http_response_error(struct http_response *res, int status, const struct op_err *e)
{
    return http_response_error_code(res, status, http_error_code(status), e);
}

int http_response_error_code(struct http_response *res, int status, const char *code_text,
                             const struct op_err *e)
{
    int code = e && e->code < 0 ? e->code : OP_EINPUT;
    const char *msg = e && e->msg[0] ? e->msg : err_code_name(code);
    char generic[160];
    if (status >= 500 && status != 503) {
        /* the details of a server fault (a path, a database message) are for the operator */
        log_error("%d: %s", status, msg);
        snprintf(generic, sizeof generic,
                 "the server failed to answer; its log tells why (look for this request's "
                 "X-Request-Id)");
        msg = generic;
    }
    char clean[OP_ERR_MAX];
    snprintf(clean, sizeof clean, "%s", msg);
    if (!utf8_is_valid(clean, strlen(clean))) /* JSON strings are UTF-8: keep the ASCII */
        for (char *c = clean; *c; c++)
            if ((unsigned char)*c >= 0x80)
                *c = '?';
    json_t *err = json_pack("{s:s, s:s}", "code", code_text, "message", clean);
    if (err && e && e->field[0] && status < 500)
        json_object_set_new(err, "field", json_string(e->field));
    json_t *doc = err ? json_pack("{s:o}", "error", err) : NULL;
    if (http_response_json(res, status, doc) != 0) {
        /* out of memory: a body that needs none */
        static const char fallback[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of "
                                       "memory\"}}\n";
        http_response_body(res, status, "application/json", fallback, sizeof fallback - 1);
    }
    return code;
}
