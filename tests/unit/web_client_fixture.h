/*
 * web_client_fixture.h - a plain-socket HTTP client for the tests of the device's web API
 * against a real server (test_http_session, test_http_executions): one request per
 * connection, the answer's status, headers and body, and the session cookie and CSRF header
 * set as a browser's page sends them. Header-only (static) so each test includes it.
 */
#ifndef OUTPOST_TESTS_WEB_CLIENT_FIXTURE_H
#define OUTPOST_TESTS_WEB_CLIENT_FIXTURE_H

#include "testutil.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct reply {
    int status;
    char head[8192];
    char body[65536];
};

static void exchange(unsigned port, const char *request, struct reply *r)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t len = strlen(request);
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, request + off, len - off, MSG_NOSIGNAL);
        assert_true(n > 0);
        off += (size_t)n;
    }
    static char raw[sizeof r->head + sizeof r->body];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof raw - 1 && (n = recv(fd, raw + got, sizeof raw - 1 - got, 0)) > 0)
        got += (size_t)n;
    raw[got] = '\0';
    close(fd);
    memset(r, 0, sizeof *r);
    char *split = strstr(raw, "\r\n\r\n");
    assert_non_null(split);
    snprintf(r->head, sizeof r->head, "%.*s", (int)(split - raw), raw);
    snprintf(r->body, sizeof r->body, "%s", split + 4);
    sscanf(r->head, "HTTP/1.%*d %d", &r->status);
}

static const char *header(const struct reply *r, const char *name)
{
    static char value[1024];
    value[0] = '\0';
    size_t n = strlen(name);
    for (const char *p = r->head; (p = strstr(p, "\r\n")); p += 2)
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof value, "%.*s", (int)strcspn(v, "\r\n"), v);
            return value;
        }
    return NULL;
}

/* A request with optional cookie and CSRF headers and a JSON body. */
static void web_call(unsigned port, const char *method, const char *path, const char *cookie,
                     const char *csrf, const char *body, struct reply *r)
{
    char req[8192];
    snprintf(req, sizeof req,
             "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s%s%s%s%s"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             method, path, cookie ? "Cookie: outpost_session=" : "", cookie ? cookie : "",
             cookie ? "\r\n" : "", csrf ? "X-CSRF-Token: " : "", csrf ? csrf : "",
             csrf ? "\r\n" : "", body ? strlen(body) : 0, body ? body : "");
    exchange(port, req, r);
}

/* The cookie value the reply set (static). */
static const char *cookie_of(const struct reply *r)
{
    static char v[128];
    const char *h = header(r, "Set-Cookie");
    assert_non_null(h);
    assert_int_equal(strncmp(h, "outpost_session=", 16), 0);
    snprintf(v, sizeof v, "%.*s", (int)strcspn(h + 16, ";"), h + 16);
    return v;
}

/* A string member of the JSON body (path1, then path2 inside it when given), "" when absent
 * (static). */
static const char *json_field(const char *body, const char *path1, const char *path2)
{
    static char v[256];
    json_t *doc = json_loads(body, 0, NULL);
    assert_non_null(doc);
    json_t *x = json_object_get(doc, path1);
    if (path2)
        x = json_object_get(x, path2);
    snprintf(v, sizeof v, "%s", json_is_string(x) ? json_string_value(x) : "");
    json_decref(doc);
    return v;
}

#endif
