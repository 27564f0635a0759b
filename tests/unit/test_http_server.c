/*
 * test_http_server.c - `outpost serve`'s server (src/http): started in-process on a free port
 * of 127.0.0.1 over a real central, and spoken to with plain sockets; and its parsers (Range,
 * query string, JSON body) on their own.
 */
#include "instance_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/api.h"
#include "http/body.h"
#include "http/query.h"
#include "http/range.h"
#include "http/server.h"

/* ---- handlers of the test routes ---- */

static int h_echo(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    int rc = http_request_check_type(req, res, "application/json", e);
    if (rc != 0)
        return rc;
    json_t *doc;
    if ((rc = http_request_json(req, &doc, e)) != 0)
        return rc;
    return http_response_json(
        res, 200, json_pack("{s:o, s:I}", "got", doc, "bytes", (json_int_t)req->body_len));
}

static int h_sleep(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    const char *ms = http_request_query(req, "ms");
    struct timespec t = {0, 0};
    long v = ms ? atol(ms) : 0;
    t.tv_sec = v / 1000;
    t.tv_nsec = (v % 1000) * 1000000L;
    nanosleep(&t, NULL);
    return http_response_body(res, 200, "text/plain", "slept\n", 6);
}

static int h_unauth(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    http_response_header(res, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return err_set(e, OP_EUNAUTH, "the token has expired");
}

static int h_busy(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    return err_set(e, OP_EBUSY, "the database is busy");
}

static int h_internal(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    return err_set(e, OP_EDB, "database: secret detail /var/lib/outpost");
}

static int h_field(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    return err_set_field(e, OP_EINPUT, "login", "login: missing");
}

static int h_throttle(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    http_response_header(res, "Retry-After", "7");
    err_set(e, OP_EINPUT, "too many attempts");
    return http_response_error(res, 429, e);
}

static int h_tx(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    int rc = db_begin(req->db, e); /* left open on purpose: the server must undo it */
    if (rc != 0)
        return rc;
    return http_response_body(res, 200, "text/plain", "oops\n", 5);
}

static int h_query(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    const char *a = http_request_query(req, "a");
    const char *h = http_request_header(req, "x-test-header");
    return http_response_json(res, 200,
                              json_pack("{s:s?, s:s?, s:s, s:s, s:b}", "a", a, "h", h, "rest",
                                        req->path_rest, "remote", req->remote, "same_db",
                                        req->db == req->inst->db));
}

static char file_path[4096];

static int h_file(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    int fd = open(file_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, OP_EIO, "open");
    return http_response_file_range(res, req, fd, 100, "application/octet-stream");
}

static const struct http_route test_routes[] = {
    {"GET", "/api/v1/health", 0, api_health_get},
    {"POST", "/t/echo", 0, h_echo},
    {"GET", "/t/sleep", 0, h_sleep},
    {"GET", "/t/unauth", 0, h_unauth},
    {"GET", "/t/busy", 0, h_busy},
    {"GET", "/t/internal", 0, h_internal},
    {"GET", "/t/field", 0, h_field},
    {"GET", "/t/throttle", 0, h_throttle},
    {"GET", "/t/tx", 0, h_tx},
    {"GET", "/t/query", 0, h_query},
    {"DELETE", "/t/query", 0, h_query},
    {"GET", "/t/prefix/", 1, h_query},
    {"GET", "/t/file", 0, h_file},
    {NULL, NULL, 0, NULL},
};

/* ---- a client on plain sockets ---- */

struct reply {
    int status;
    char head[8192];
    char body[65536];
    size_t body_len;
    int closed_early; /* the connection closed before any byte came */
};

static int connect_to(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close first (413 before the body) */
        data += n;
        len -= (size_t)n;
    }
}

/* Reads a whole answer until the server closes (requests say Connection: close). */
static void read_reply(int fd, struct reply *r)
{
    static char raw[sizeof r->head + sizeof r->body];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof raw - 1 && (n = recv(fd, raw + len, sizeof raw - 1 - len, 0)) > 0)
        len += (size_t)n;
    raw[len] = '\0';
    memset(r, 0, sizeof *r);
    r->closed_early = len == 0;
    char *split = strstr(raw, "\r\n\r\n");
    if (!split)
        return;
    size_t hl = (size_t)(split - raw);
    if (hl >= sizeof r->head)
        hl = sizeof r->head - 1;
    memcpy(r->head, raw, hl);
    r->body_len = len - (size_t)(split + 4 - raw);
    if (r->body_len >= sizeof r->body)
        r->body_len = sizeof r->body - 1;
    memcpy(r->body, split + 4, r->body_len);
    sscanf(r->head, "HTTP/1.%*d %d", &r->status);
}

static void exchange(unsigned port, const char *request, size_t len, struct reply *r)
{
    int fd = connect_to(port);
    assert_true(fd >= 0);
    send_all(fd, request, len);
    read_reply(fd, r);
    close(fd);
}

static void get(unsigned port, const char *path, struct reply *r)
{
    char req[2048];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    exchange(port, req, strlen(req), r);
}

static void post(unsigned port, const char *path, const char *type, const char *body,
                 struct reply *r)
{
    char req[8192];
    snprintf(req, sizeof req,
             "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s%sContent-Length: "
             "%zu\r\n\r\n%s",
             path, type ? "Content-Type: " : "", type ? type : "", type ? "\r\n" : "", strlen(body),
             body);
    exchange(port, req, strlen(req), r);
}

/* The value of header `name` in r->head (matched in any case), copied, or "" */
static const char *header(const struct reply *r, const char *name)
{
    static char value[512];
    value[0] = '\0';
    size_t n = strlen(name);
    for (const char *p = r->head; (p = strstr(p, "\r\n")); p += 2) {
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ')
                v++;
            size_t l = strcspn(v, "\r\n");
            snprintf(value, sizeof value, "%.*s", (int)l, v);
            break;
        }
    }
    return value;
}

/* ---- the fixture: a central and its server ---- */

struct fx {
    struct instance *inst;
    char *dir;
    struct http_server *srv;
    unsigned port;
};

static struct fx *start(void **state, void (*tweak)(struct http_server_options *))
{
    struct fx *f = calloc(1, sizeof *f);
    f->inst = fx_instance("central", &f->dir);
    struct http_server_options o;
    http_server_options_default(&o);
    o.listen = "127.0.0.1:0";
    o.routes = test_routes;
    o.threads = 2;
    if (tweak)
        tweak(&o);
    struct op_err e = {0};
    if (http_server_start(f->inst, &o, &f->srv, &e) != 0)
        fail_msg("http_server_start: %s", e.msg);
    f->port = http_server_port(f->srv);
    assert_true(f->port > 0);
    *state = f;
    return f;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f) {
        http_server_stop(f->srv);
        instance_close(f->inst);
        testutil_rmdir(f->dir);
        free(f);
    }
    return 0;
}

/* ---- the tests ---- */

static void test_health_answers_role_version_schema(void **state)
{
    struct fx *f = start(state, NULL);
    struct reply r;
    get(f->port, "/api/v1/health", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type"), "application/json");
    assert_int_equal(strlen(header(&r, "X-Request-Id")), HTTP_REQUEST_ID_LEN);
    assert_string_equal(header(&r, "Cache-Control"), "no-store");
    json_t *doc = json_loads(r.body, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(doc, "role")), "central");
    assert_true(json_integer_value(json_object_get(doc, "schema")) > 0);
    assert_true(json_integer_value(json_object_get(doc, "time")) > 1700000000);
    assert_non_null(json_string_value(json_object_get(doc, "version")));
    json_decref(doc);
    /* HEAD runs the GET route, without a body */
    const char *head = "HEAD /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    exchange(f->port, head, strlen(head), &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
}

static void test_unknown_path_is_404_json(void **state)
{
    struct fx *f = start(state, NULL);
    struct reply r;
    get(f->port, "/api/v1/nothing-here", &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "\"code\":\"not_found\""));
    assert_non_null(strstr(r.body, "/api/v1/nothing-here"));
}

static void test_wrong_method_is_405_with_allow(void **state)
{
    struct fx *f = start(state, NULL);
    struct reply r;
    post(f->port, "/t/query", "application/json", "{}", &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(header(&r, "Allow"), "GET, HEAD, DELETE");
    assert_non_null(strstr(r.body, "\"code\":\"method_not_allowed\""));
}

static void set_small_body(struct http_server_options *o)
{
    o->max_body = 2048;
    o->max_header = 1024;
}

static void test_body_over_limit_is_413(void **state)
{
    struct fx *f = start(state, set_small_body);
    struct reply r;
    /* announced by Content-Length: refused before it is read */
    const char *big = "POST /t/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
                      "application/json\r\nContent-Length: 4096\r\n\r\n";
    exchange(f->port, big, strlen(big), &r);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "\"code\":\"payload_too_large\""));
    /* chunked: read up to the limit, then refused */
    char req[8192];
    int n = snprintf(req, sizeof req,
                     "POST /t/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
                     "application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n",
                     3000);
    memset(req + n, ' ', 3000);
    n += 3000;
    n += snprintf(req + n, sizeof req - (size_t)n, "\r\n0\r\n\r\n");
    exchange(f->port, req, (size_t)n, &r);
    assert_int_equal(r.status, 413);
    /* at the limit: accepted */
    char body[2048 + 1];
    memset(body, ' ', 2046);
    body[0] = '{';
    body[2046] = '}';
    body[2047] = '\0';
    post(f->port, "/t/echo", "application/json", body, &r);
    assert_int_equal(r.status, 200);
}

static void test_headers_over_limit_are_431(void **state)
{
    struct fx *f = start(state, set_small_body);
    struct reply r;
    char req[8192];
    char pad[1500];
    memset(pad, 'a', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    snprintf(req, sizeof req,
             "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: %s\r\n\r\n",
             pad);
    exchange(f->port, req, strlen(req), &r);
    assert_int_equal(r.status, 431);
    assert_non_null(strstr(r.body, "\"code\":\"headers_too_large\""));
    /* far past MHD's own buffer: still 431 (MHD's answer), and the server lives on */
    char huge[40000];
    memset(huge, 'b', sizeof huge);
    int n = snprintf(req, sizeof req, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Huge: ");
    int fd = connect_to(f->port);
    send_all(fd, req, (size_t)n);
    send_all(fd, huge, sizeof huge);
    send_all(fd, "\r\n\r\n", 4);
    read_reply(fd, &r);
    close(fd);
    assert_int_equal(r.status, 431);
    get(f->port, "/api/v1/health", &r);
    assert_int_equal(r.status, 200);
}

static void test_malformed_json_is_400_with_position(void **state)
{
    struct fx *f = start(state, NULL);
    struct reply r;
    post(f->port, "/t/echo", "application/json", "{\"a\": [1, 2,, 3]}", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"code\":\"invalid_request\""));
    assert_non_null(strstr(r.body, "line 1 column"));
    assert_non_null(strstr(r.body, "\"field\":\"body\""));
    post(f->port, "/t/echo", "application/json", "{\"a\": 1, \"a\": 2}", &r);
    assert_int_equal(r.status, 400);
    post(f->port, "/t/echo", "application/json", "", &r);
    assert_int_equal(r.status, 400);
    post(f->port, "/t/echo", "application/json; charset=utf-8", "{\"a\": [1]}", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"got\":{\"a\":[1]}"));
    post(f->port, "/t/echo", "text/plain", "{}", &r);
    assert_int_equal(r.status, 415);
    assert_non_null(strstr(r.body, "unsupported_media_type"));
    post(f->port, "/t/echo", NULL, "{}", &r);
    assert_int_equal(r.status, 415);
}

static void test_handler_errors_become_json_with_status(void **state)
{
    struct fx *f = start(state, NULL);
    struct reply r;
    get(f->port, "/t/unauth", &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(header(&r, "WWW-Authenticate"), "Bearer error=\"invalid_token\"");
    assert_non_null(strstr(r.body, "{\"error\":{\"code\":\"unauthorized\",\"message\":\"the token "
                                   "has expired\"}}"));
    get(f->port, "/t/busy", &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(header(&r, "Retry-After"), "1");
    assert_non_null(strstr(r.body, "\"code\":\"busy\""));
    get(f->port, "/t/internal", &r);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(r.body, "\"code\":\"internal\""));
    assert_null(strstr(r.body, "secret detail")); /* the details are for the log */
    get(f->port, "/t/field", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"field\":\"login\""));
    get(f->port, "/t/throttle", &r);
    assert_int_equal(r.status, 429);
    assert_string_equal(header(&r, "Retry-After"), "7");
    assert_non_null(strstr(r.body, "too_many_requests"));
}

static void test_transaction_left_open_is_undone(void **state)
{
    struct fx *f = start(state, NULL);
    struct reply r;
    for (int i = 0; i < 4; i++) { /* both threads, twice */
        get(f->port, "/t/tx", &r);
        assert_int_equal(r.status, 500);
    }
    get(f->port, "/api/v1/health", &r);
    assert_int_equal(r.status, 200);
}

static void test_query_headers_prefix_and_thread_db(void **state)
{
    struct fx *f = start(state, NULL);
    struct reply r;
    const char *q = "GET /t/query?a=x%20y&b HTTP/1.1\r\nHost: x\r\nX-TEST-Header: hv\r\n"
                    "Connection: close\r\n\r\n";
    exchange(f->port, q, strlen(q), &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"a\":\"x y\""));
    assert_non_null(strstr(r.body, "\"h\":\"hv\""));
    assert_non_null(strstr(r.body, "\"remote\":\"127.0.0.1\""));
    assert_non_null(strstr(r.body, "\"same_db\":true"));
    get(f->port, "/t/prefix/abc123", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"rest\":\"abc123\""));
    get(f->port, "/t/query?a=1&a=2", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "more than once"));
    get(f->port, "/t/query?a=%4", &r);
    assert_int_equal(r.status, 400);
}

static void test_file_ranges(void **state)
{
    struct fx *f = start(state, NULL);
    snprintf(file_path, sizeof file_path, "%s/file.bin", f->dir);
    char content[100];
    for (int i = 0; i < 100; i++)
        content[i] = (char)('a' + i % 26);
    FILE *fp = fopen(file_path, "wb");
    fwrite(content, 1, sizeof content, fp);
    fclose(fp);
    struct reply r;
    get(f->port, "/t/file", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 100);
    assert_string_equal(header(&r, "Accept-Ranges"), "bytes");
    const char *ranged = "GET /t/file HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\nConnection: "
                         "close\r\n\r\n";
    exchange(f->port, ranged, strlen(ranged), &r);
    assert_int_equal(r.status, 206);
    assert_string_equal(header(&r, "Content-Range"), "bytes 10-19/100");
    assert_int_equal(r.body_len, 10);
    assert_memory_equal(r.body, content + 10, 10);
    const char *past = "GET /t/file HTTP/1.1\r\nHost: x\r\nRange: bytes=100-\r\nConnection: "
                       "close\r\n\r\n";
    exchange(f->port, past, strlen(past), &r);
    assert_int_equal(r.status, 416);
    assert_string_equal(header(&r, "Content-Range"), "bytes */100");
}

/* A client that sends its request a byte at a time. */
struct slow {
    unsigned port;
    int fd;
    volatile int stop;
};

static void *slow_client(void *arg)
{
    struct slow *s = arg;
    const char *req = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaa";
    for (const char *p = req; *p && !s->stop; p++) {
        send(s->fd, p, 1, MSG_NOSIGNAL);
        struct timespec t = {0, 50 * 1000000L};
        nanosleep(&t, NULL);
    }
    return NULL;
}

static void one_thread(struct http_server_options *o)
{
    o->threads = 1;
    o->timeout_s = 2;
}

static void test_slow_client_blocks_no_one(void **state)
{
    struct fx *f = start(state, one_thread);
    struct slow s = {f->port, connect_to(f->port), 0};
    assert_true(s.fd >= 0);
    pthread_t t;
    pthread_create(&t, NULL, slow_client, &s);
    struct timespec nap = {0, 200 * 1000000L};
    nanosleep(&nap, NULL);
    /* the one worker thread is not held by the slow client */
    for (int i = 0; i < 5; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct reply r;
        get(f->port, "/api/v1/health", &r);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_int_equal(r.status, 200);
        assert_true(t1.tv_sec - t0.tv_sec < 2);
    }
    s.stop = 1;
    pthread_join(t, NULL);
    /* an idle half-sent request is closed after the timeout (2 s here) */
    struct reply r;
    time_t before = time(NULL);
    read_reply(s.fd, &r);
    assert_true(time(NULL) - before <= 5);
    assert_int_equal(r.status, 0);
    close(s.fd);
}

struct burst {
    unsigned port;
    int ok;
};

static void *burst_client(void *arg)
{
    struct burst *b = arg;
    for (int i = 0; i < 20; i++) {
        struct reply *r = malloc(sizeof *r);
        get(b->port, "/api/v1/health", r);
        b->ok += r->status == 200;
        free(r);
    }
    return NULL;
}

static void test_concurrent_requests_all_answered(void **state)
{
    struct fx *f = start(state, NULL);
    pthread_t t[8];
    struct burst b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (struct burst){f->port, 0};
        pthread_create(&t[i], NULL, burst_client, &b[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(b[i].ok, 20);
    }
}

struct inflight {
    unsigned port;
    struct reply r;
};

static void *inflight_client(void *arg)
{
    struct inflight *c = arg;
    get(c->port, "/t/sleep?ms=600", &c->r);
    return NULL;
}

static void test_graceful_stop_lets_request_finish(void **state)
{
    struct fx *f = start(state, NULL);
    struct inflight *c = calloc(1, sizeof *c);
    c->port = f->port;
    pthread_t t;
    pthread_create(&t, NULL, inflight_client, c);
    struct timespec nap = {0, 200 * 1000000L};
    nanosleep(&nap, NULL);
    assert_int_equal(http_server_stop(f->srv), 0);
    f->srv = NULL;
    pthread_join(t, NULL);
    assert_int_equal(c->r.status, 200);
    assert_memory_equal(c->r.body, "slept\n", 6);
    assert_int_equal(connect_to(f->port), -1); /* no longer listening */
    free(c);
}

static void short_grace(struct http_server_options *o)
{
    o->stop_grace_ms = 100;
}

static void test_stop_cuts_after_grace(void **state)
{
    struct fx *f = start(state, short_grace);
    struct inflight *c = calloc(1, sizeof *c);
    c->port = f->port;
    pthread_t t;
    pthread_create(&t, NULL, inflight_client, c);
    struct timespec nap = {0, 150 * 1000000L};
    nanosleep(&nap, NULL);
    assert_int_equal(http_server_stop(f->srv), 1);
    f->srv = NULL;
    pthread_join(t, NULL);
    free(c);
}

static void test_start_refusals(void **state)
{
    struct fx *f = start(state, NULL);
    struct http_server_options o;
    http_server_options_default(&o);
    struct http_server *s = NULL;
    struct op_err e = {0};
    const char *bad[] = {"nohost", "127.0.0.1", "127.0.0.1:99999",        "127.0.0.1:x",
                         ":80",    "::1:80",    "no-such-host.invalid:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.listen = bad[i];
        assert_int_not_equal(http_server_start(f->inst, &o, &s, &e), 0);
        assert_null(s);
        assert_non_null(strstr(e.msg, "listen address"));
    }
    char busy[64];
    snprintf(busy, sizeof busy, "127.0.0.1:%u", f->port);
    o.listen = busy;
    assert_int_equal(http_server_start(f->inst, &o, &s, &e), OP_EIO);
    assert_non_null(strstr(e.msg, "in use"));
    o.listen = "[::1]:0";
    if (http_server_start(f->inst, &o, &s, &e) == 0) /* where IPv6 exists */
        http_server_stop(s);
    o.listen = "127.0.0.1:0";
    o.tls_cert = "/nonexistent/cert.pem";
    o.tls_key = "/nonexistent/key.pem";
    assert_int_not_equal(http_server_start(f->inst, &o, &s, &e), 0);
    assert_non_null(strstr(e.msg, "TLS certificate"));
    assert_non_null(strstr(e.msg, "/nonexistent/cert.pem"));
    char *junk = testutil_write(f->dir, "junk.pem", "not a certificate\n");
    o.tls_cert = junk;
    o.tls_key = junk;
    assert_int_not_equal(http_server_start(f->inst, &o, &s, &e), 0);
    assert_non_null(strstr(e.msg, "not a PEM"));
    free(junk);
    o.tls_key = NULL;
    assert_int_equal(http_server_start(f->inst, &o, &s, &e), OP_EINPUT);
    o.tls_cert = NULL;
    o.threads = 0;
    assert_int_equal(http_server_start(f->inst, &o, &s, &e), OP_EINPUT);
}

/* ---- the parsers on their own ---- */

static void test_range_parse(void **state)
{
    struct http_range r;
    assert_int_equal(http_range_parse(NULL, 100, &r), HTTP_RANGE_FULL);
    assert_true(r.start == 0 && r.length == 100);
    assert_int_equal(http_range_parse("bytes=0-9", 100, &r), HTTP_RANGE_PARTIAL);
    assert_true(r.start == 0 && r.length == 10);
    assert_int_equal(http_range_parse("bytes=90-", 100, &r), HTTP_RANGE_PARTIAL);
    assert_true(r.start == 90 && r.length == 10);
    assert_int_equal(http_range_parse("bytes=90-1000", 100, &r), HTTP_RANGE_PARTIAL);
    assert_true(r.start == 90 && r.length == 10);
    assert_int_equal(http_range_parse("bytes=-10", 100, &r), HTTP_RANGE_PARTIAL);
    assert_true(r.start == 90 && r.length == 10);
    assert_int_equal(http_range_parse("bytes=-500", 100, &r), HTTP_RANGE_PARTIAL);
    assert_true(r.start == 0 && r.length == 100);
    assert_int_equal(http_range_parse(" BYTES= 5-5 ", 100, &r), HTTP_RANGE_PARTIAL);
    assert_true(r.start == 5 && r.length == 1);
    assert_int_equal(http_range_parse("bytes=100-", 100, &r), HTTP_RANGE_UNSATISFIABLE);
    assert_int_equal(http_range_parse("bytes=-0", 100, &r), HTTP_RANGE_UNSATISFIABLE);
    assert_int_equal(http_range_parse("bytes=0-", 0, &r), HTTP_RANGE_UNSATISFIABLE);
    /* ignored: the whole file */
    const char *ignored[] = {"bytes=5-1",  "bytes=0-1,5-9",
                             "items=0-1",  "bytes=",
                             "bytes=-",    "bytes=a-b",
                             "bytes=1-2x", "bytes=99999999999999999999-",
                             "bytes=--1",  ""};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        assert_int_equal(http_range_parse(ignored[i], 100, &r), HTTP_RANGE_FULL);
        assert_true(r.start == 0 && r.length == 100);
    }
    char longh[HTTP_RANGE_HEADER_MAX + 10];
    memset(longh, ' ', sizeof longh - 1);
    longh[sizeof longh - 1] = '\0';
    memcpy(longh, "bytes=0-1", 9);
    assert_int_equal(http_range_parse(longh, 100, &r), HTTP_RANGE_FULL);
    assert_int_equal(http_range_parse("bytes=9999999999999999999-", UINT64_MAX, &r),
                     HTTP_RANGE_PARTIAL);
    assert_true(r.length == UINT64_MAX - 9999999999999999999u);
}

static void test_query_parse(void **state)
{
    struct http_query q;
    struct op_err e = {0};
    const char *raw = "since=42&limit=5&&name=a+b%21&flag&token=s3cr3t";
    assert_int_equal(http_query_parse(raw, strlen(raw), &q, &e), 0);
    assert_string_equal(http_query_get(&q, "since"), "42");
    assert_string_equal(http_query_get(&q, "name"), "a b!");
    assert_string_equal(http_query_get(&q, "flag"), "");
    assert_null(http_query_get(&q, "absent"));
    struct buf b = BUF_INIT;
    assert_int_equal(http_query_log(&q, 512, &b), 0);
    assert_string_equal(b.data, "?since=42&limit=5&name=a%20b%21&flag&token=*");
    buf_free(&b);
    http_query_free(&q);
    const char *bad[] = {"a=%zz", "a=%4", "=x", "a=1&a=2", "a=%00", "a=%ff", "a=\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(http_query_parse(bad[i], strlen(bad[i]), &q, &e), OP_EINPUT);
        http_query_free(&q);
    }
    char many[1024] = "";
    for (int i = 0; i <= HTTP_QUERY_MAX_PARAMS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "p%d=1&", i);
    assert_int_equal(http_query_parse(many, strlen(many), &q, &e), OP_EINPUT);
    http_query_free(&q);
    assert_true(http_query_name_is_secret("client_secret"));
    assert_true(http_query_name_is_secret("Access_Token"));
    assert_true(http_query_name_is_secret("password"));
    assert_false(http_query_name_is_secret("since"));
}

static void test_json_parse_bounds(void **state)
{
    struct op_err e = {0};
    json_t *doc = NULL;
    char deep[200];
    memset(deep, '[', 40);
    memset(deep + 40, ']', 40);
    deep[80] = '\0';
    assert_int_equal(http_json_parse(deep, 80, HTTP_JSON_MAX_DEPTH, &doc, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "deeper than"));
    assert_int_equal(http_json_parse("[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]", 40,
                                     HTTP_JSON_MAX_DEPTH, &doc, &e),
                     0); /* brackets inside a string do not count */
    json_decref(doc);
    assert_int_equal(http_json_parse("{\"a\":\n tru}", 12, 8, &doc, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "line 2"));
    assert_true(http_content_type_is("Application/JSON; charset=utf-8", "application/json"));
    assert_false(http_content_type_is("application/jsonx", "application/json"));
    assert_false(http_content_type_is(NULL, "application/json"));
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_health_answers_role_version_schema, teardown),
        cmocka_unit_test_teardown(test_unknown_path_is_404_json, teardown),
        cmocka_unit_test_teardown(test_wrong_method_is_405_with_allow, teardown),
        cmocka_unit_test_teardown(test_body_over_limit_is_413, teardown),
        cmocka_unit_test_teardown(test_headers_over_limit_are_431, teardown),
        cmocka_unit_test_teardown(test_malformed_json_is_400_with_position, teardown),
        cmocka_unit_test_teardown(test_handler_errors_become_json_with_status, teardown),
        cmocka_unit_test_teardown(test_transaction_left_open_is_undone, teardown),
        cmocka_unit_test_teardown(test_query_headers_prefix_and_thread_db, teardown),
        cmocka_unit_test_teardown(test_file_ranges, teardown),
        cmocka_unit_test_teardown(test_slow_client_blocks_no_one, teardown),
        cmocka_unit_test_teardown(test_concurrent_requests_all_answered, teardown),
        cmocka_unit_test_teardown(test_graceful_stop_lets_request_finish, teardown),
        cmocka_unit_test_teardown(test_stop_cuts_after_grace, teardown),
        cmocka_unit_test_teardown(test_start_refusals, teardown),
        cmocka_unit_test(test_range_parse),
        cmocka_unit_test(test_query_parse),
        cmocka_unit_test(test_json_parse_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
