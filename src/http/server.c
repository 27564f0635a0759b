/*
 * server.c - the HTTP server on libmicrohttpd (MHD), the only file that calls MHD_*
 * (scripts/check-layers.sh). It turns MHD's callbacks into the small interface of server.h:
 * a request read whole, routed to one handler, whose struct http_response it sends.
 *
 * Threads. MHD runs a pool of `threads` threads, each an event loop (epoll) over its share of
 * the connections: a connection costs a thread only while its handler runs. The other model
 * MHD offers, a thread per connection, lets every slow or half-open client hold a thread for
 * as long as it trickles bytes; here a slow client holds a connection slot and a few KiB, and
 * those are bounded: --max-connections in all, --max-per-ip from one address, the connection
 * closed after --timeout seconds without a byte, and a body that takes longer than --timeout
 * in all is cut (on_access). Reading headers and body is non-blocking, handlers run only once
 * the whole request is in memory (so they never wait on the network, and never hold a database
 * transaction while a client sends), and sending is non-blocking too. What blocks a worker
 * thread is a handler's own work, bounded by the database busy timeout
 * (HTTP_DB_BUSY_TIMEOUT_MS).
 *
 * Databases. Each worker thread opens its own connection at its first request (a struct db
 * serves one thread: store/db.h, "Threads") and keeps it until the server stops; req->inst is
 * a copy of the instance with that connection in it, so that application operations, which
 * take a struct instance, run unchanged.
 *
 * Limits. The request line and headers are bounded twice: by MHD's per-connection memory pool
 * (twice the limit and more: past it MHD answers 431 itself, with its own small HTML body) and
 * by our count of their bytes at the first call (431 with our JSON error). A body announced
 * larger than the limit by Content-Length is refused at once (413, before it is read); a
 * chunked one is read up to the limit, the rest discarded, then refused 413 (MHD cannot answer
 * in the middle of a body; a client that sends more than twice the limit is cut).
 *
 * Stopping. http_server_stop quiesces MHD (the listening socket closes: no new connection),
 * marks the server stopping (responses then carry "Connection: close", so kept-alive clients
 * leave), waits until the requests presented to a handler have completed or the grace period
 * has passed, then stops MHD (closing what remains), and closes the workers' databases.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app/import_jobs.h"
#include "app/runner.h"
#include "app/users_import_jobs.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/log.h"
#include "http/body.h"
#include "http/cookie.h"
#include "http/query.h"
#include "http/tls.h"
#include "http/webpages.h"
#include "http/websession.h"
#include "sync/bg.h"

#define LOG_QUERY_MAX 512 /* bytes of a query string in an access log line */

/* One worker thread's database connection and its view of the instance. */
struct worker {
    struct worker *next;
    struct instance view;
};

struct http_server {
    struct MHD_Daemon *mhd;
    struct instance *inst;
    struct http_server_options o;
    struct http_tls tls;
    unsigned port;
    char url[128];
    pthread_key_t worker_key;
    pthread_mutex_t lock; /* guards workers */
    struct worker *workers;
    atomic_int in_flight; /* requests presented to on_access and not completed */
    atomic_int stopping;
    char mhd_message[256]; /* MHD's last log message while starting, for the error */
    int starting;
    struct websessions *sessions;            /* the web sessions (websession.h), ended at stop */
    struct users_import_jobs *users_imports; /* central's user imports, waited for at stop */
    struct runner_cache *runner_cache;       /* parsed test packages (app/runner.h) */
    struct sync_bg *sync_bg;                 /* a device's sync button (sync/bg.h), stopped first */
    struct import_jobs *import_jobs;         /* central's background imports, joined last */
};

/* What the server keeps of a connection between its requests: the raw URI of the request
 * being read (MHD gives on_access the path without the query string). */
struct connection_state {
    char *raw_uri;
};

/* A request, from on_access's first call to on_completed. */
struct http_request_state {
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct http_request req;
    char id[HTTP_REQUEST_ID_LEN + 1];
    char remote[INET6_ADDRSTRLEN];
    char *method;
    char *path;
    struct http_query query;
    struct buf body;
    int too_large;    /* the body is over the limit: discarding it, then 413 */
    size_t discarded; /* bytes of it thrown away */
    /* an upload route's body, streamed to a file (http_upload_route) */
    const struct http_upload_route *upload;
    int upload_fd; /* open while the body arrives, else -1 */
    char *upload_dir, *upload_path;
    uint64_t upload_len;
    int upload_taken; /* the handler took the file (http_request_take_upload) */
    struct timespec start;
    int status;     /* what was answered; 0 when nothing was */
    uint64_t bytes; /* body bytes of the answer */
    struct {
        void (*fn)(void *);
        void *arg;
    } defer[HTTP_REQUEST_DEFER_MAX]; /* http_request_defer, run when the handler returns */
    int ndefer;
};

/* ---- small helpers ---- */

static double ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static void new_request_id(char out[HTTP_REQUEST_ID_LEN + 1])
{
    unsigned char raw[HTTP_REQUEST_ID_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, HTTP_REQUEST_ID_LEN + 1, raw, sizeof raw);
}

/* The client's address as text; an IPv4 client of a dual-stack socket as plain IPv4. */
static void remote_text(struct MHD_Connection *conn, char out[INET6_ADDRSTRLEN])
{
    snprintf(out, INET6_ADDRSTRLEN, "-");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  INET6_ADDRSTRLEN);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, INET6_ADDRSTRLEN);
        else
            inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN);
    }
}

/* ---- the request interface of server.h ---- */

const char *http_request_query(const struct http_request *req, const char *name)
{
    return req->state ? http_query_get(&req->state->query, name) : NULL;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
    if (!req->state)
        return NULL;
    return MHD_lookup_connection_value(req->state->conn, MHD_HEADER_KIND, name);
}

const char *http_request_cookie(const struct http_request *req, const char *name, char *out,
                                size_t cap)
{
    const char *h = http_request_header(req, "Cookie");
    return http_cookie_find(h, name, out, cap) == 1 ? out : NULL;
}

int http_request_defer(const struct http_request *req, void (*fn)(void *), void *arg,
                       struct op_err *e)
{
    struct http_request_state *r = req->state;
    if (!r || r->ndefer >= HTTP_REQUEST_DEFER_MAX)
        return err_set(e, OP_ENOMEM, "too many deferred calls in one request");
    r->defer[r->ndefer].fn = fn;
    r->defer[r->ndefer].arg = arg;
    r->ndefer++;
    return 0;
}

void http_request_take_upload(const struct http_request *req)
{
    if (req->state)
        req->state->upload_taken = 1;
}

/* Removes an upload's file and folder unless a handler took them, and forgets them. */
static void upload_discard(struct http_request_state *r)
{
    if (r->upload_fd >= 0)
        close(r->upload_fd);
    r->upload_fd = -1;
    if (!r->upload_taken && r->upload_dir)
        fs_remove_tree(r->upload_dir);
    free(r->upload_dir);
    free(r->upload_path);
    r->upload_dir = r->upload_path = NULL;
}

/* Runs the calls the handler deferred, last first. */
static void run_deferred(struct http_request_state *r)
{
    while (r->ndefer > 0) {
        r->ndefer--;
        r->defer[r->ndefer].fn(r->defer[r->ndefer].arg);
    }
}

int http_request_json(const struct http_request *req, json_t **out, struct op_err *e)
{
    return http_json_parse(req->body, req->body_len, HTTP_JSON_MAX_DEPTH, out, e);
}

int http_request_check_type(const struct http_request *req, struct http_response *res,
                            const char *type, struct op_err *e)
{
    const char *have = http_request_header(req, "Content-Type");
    if (http_content_type_is(have, type))
        return 0;
    if (have)
        err_set_field(e, OP_EINPUT, "Content-Type",
                      "request body: Content-Type is \"%.100s\"; this endpoint takes %s", have,
                      type);
    else
        err_set_field(e, OP_EINPUT, "Content-Type",
                      "request body: no Content-Type; this endpoint takes %s", type);
    return http_response_error(res, 415, e);
}

/* ---- workers ---- */

/* Opens the worker's database connection, with the server's short busy timeout. */
static int worker_open_db(struct http_server *s, struct worker *w, struct op_err *e)
{
    struct db *db = NULL;
    if (instance_open_db(s->inst, &db, e) != 0)
        return e->code;
    if (db_set_busy_timeout(db, HTTP_DB_BUSY_TIMEOUT_MS, e) != 0) {
        db_close(db);
        return e->code;
    }
    w->view.db = db;
    return 0;
}

/* This thread's worker, opening its database connection at the thread's first request (and
 * again after worker_drop_db). */
static struct worker *worker_get(struct http_server *s, struct op_err *e)
{
    struct worker *w = pthread_getspecific(s->worker_key);
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w) {
            err_set(e, OP_ENOMEM, "out of memory");
            return NULL;
        }
        w->view = *s->inst; /* shares the instance's read-only parts; never instance_close'd */
        w->view.db = NULL;
        pthread_mutex_lock(&s->lock);
        w->next = s->workers;
        s->workers = w;
        pthread_mutex_unlock(&s->lock);
        pthread_setspecific(s->worker_key, w);
    }
    if (!w->view.db && worker_open_db(s, w, e) != 0)
        return NULL;
    return w;
}

/* Closes the worker's connection (which undoes a transaction left open on it); the next
 * request opens another. */
static void worker_drop_db(struct worker *w)
{
    db_close(w->view.db);
    w->view.db = NULL;
}

/* ---- answering ---- */

/* Sends `res` (and clears it): MHD takes the body or the file. */
static enum MHD_Result send_response(struct http_request_state *r, struct http_response *res)
{
    struct MHD_Response *mr;
    uint64_t size;
    if (res->fd >= 0) {
        size = res->file_length;
        mr = MHD_create_response_from_fd_at_offset64(size, res->fd, res->file_offset);
        if (mr)
            res->fd = -1; /* MHD closes it with the response */
    } else {
        size = res->body_len;
        mr = MHD_create_response_from_buffer(res->body_len, res->body ? res->body : (char *)"",
                                             res->body ? MHD_RESPMEM_MUST_FREE
                                                       : MHD_RESPMEM_PERSISTENT);
        if (mr)
            res->body = NULL;
    }
    if (!mr) {
        http_response_clear(res);
        return MHD_NO;
    }
    if (res->content_type[0])
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    MHD_add_response_header(mr, "X-Request-Id", r->id);
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    int cache_set = 0, csp_set = 0;
    for (int i = 0; i < res->nheaders; i++) {
        MHD_add_response_header(mr, res->headers[i].name, res->headers[i].value);
        if (strcasecmp(res->headers[i].name, "Cache-Control") == 0)
            cache_set = 1;
        if (strcasecmp(res->headers[i].name, "Content-Security-Policy") == 0)
            csp_set = 1;
    }
    if (!cache_set)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (!csp_set) /* an API answer opened in a browser runs nothing and is framed nowhere */
        MHD_add_response_header(mr, "Content-Security-Policy",
                                "default-src 'none'; frame-ancestors 'none'");
    if (atomic_load(&r->srv->stopping))
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    r->status = res->status;
    r->bytes = size;
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)res->status, mr);
    MHD_destroy_response(mr);
    http_response_clear(res);
    return ok;
}

/* The Retry-After of an error answer: 1 s for 503 (busy) and for a 429 of the server's own,
 * e->retry_after for OP_ETHROTTLED; a header the handler set is kept. */
static void set_retry_after(struct http_response *res, int status, const struct op_err *e)
{
    for (int i = 0; i < res->nheaders; i++)
        if (strcasecmp(res->headers[i].name, "Retry-After") == 0)
            return;
    char v[32] = "";
    if (status == 429 && e && e->code == OP_ETHROTTLED && e->retry_after > 0)
        snprintf(v, sizeof v, "%d", e->retry_after);
    else if (status == 503 || status == 429)
        snprintf(v, sizeof v, "1");
    if (v[0])
        http_response_header(res, "Retry-After", v);
}

/* Answers an error the server finds itself (404, 405, 413, 431, 400 for the query...). */
static enum MHD_Result send_error(struct http_request_state *r, int status, int code,
                                  const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum MHD_Result send_error(struct http_request_state *r, int status, int code,
                                  const char *allow, const char *fmt, ...)
{
    struct op_err e;
    err_clear(&e);
    e.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    struct http_response res;
    http_response_init(&res);
    if (allow)
        http_response_header(&res, "Allow", allow);
    set_retry_after(&res, status, &e);
    log_set_request_id(r->id);
    http_response_error(&res, status, &e);
    log_set_request_id(NULL);
    return send_response(r, &res);
}

static enum MHD_Result send_op_error(struct http_request_state *r, const struct op_err *e)
{
    struct http_response res;
    http_response_init(&res);
    int status = err_http_status(e->code);
    set_retry_after(&res, status, e);
    log_set_request_id(r->id);
    http_response_error(&res, status, e);
    log_set_request_id(NULL);
    return send_response(r, &res);
}

/* ---- routing ---- */

static enum MHD_Result run_handler(struct http_request_state *r, http_handler_fn handler,
                                   const char *path_rest, int check);

static int method_matches(const char *route, const char *method)
{
    return strcmp(route, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(route, "GET") == 0);
}

static int path_matches(const struct http_route *rt, const char *path)
{
    if (rt->prefix)
        return strncmp(path, rt->path, strlen(rt->path)) == 0;
    return strcmp(path, rt->path) == 0;
}

/* Runs the handler of the route for the whole request, and sends its answer. */
static enum MHD_Result dispatch(struct http_request_state *r)
{
    struct http_server *s = r->srv;
    const struct http_route *found = NULL;
    const char *methods[16];
    int nmethods = 0;
    for (const struct http_route *rt = s->o.routes; rt->method && !found; rt++) {
        if (!path_matches(rt, r->path))
            continue;
        if (method_matches(rt->method, r->method))
            found = rt;
        int seen = 0;
        for (int i = 0; i < nmethods; i++)
            seen |= strcmp(methods[i], rt->method) == 0;
        if (!seen && nmethods < 15)
            methods[nmethods++] = rt->method;
    }
    struct http_route page_route;
    if (!found && nmethods == 0 && s->o.pages && method_matches("GET", r->method) &&
        strncmp(r->path, "/api/", 5) != 0) {
        page_route = (struct http_route){"GET", r->path, 0, s->o.pages};
        found = &page_route;
    }
    if (!found && nmethods == 0)
        return send_error(r, 404, OP_ENOTFOUND, NULL, "%s: no such endpoint", r->path);
    if (!found) {
        char allow[256] = "";
        for (int i = 0; i < nmethods; i++) {
            size_t used = strlen(allow);
            snprintf(allow + used, sizeof allow - used, "%s%s%s", i ? ", " : "", methods[i],
                     strcmp(methods[i], "GET") == 0 ? ", HEAD" : "");
        }
        return send_error(r, 405, OP_EINPUT, allow, "%s: method %s not allowed (allowed: %s)",
                          r->path, r->method, allow);
    }

    return run_handler(r, found->handler, found->prefix ? r->path + strlen(found->path) : "", 0);
}

/* Fills the request a handler sees (this thread's worker view, the body or the upload). */
static void fill_request(struct http_request_state *r, struct worker *w, const char *path_rest)
{
    struct http_server *s = r->srv;
    r->req.method = r->method;
    r->req.path = r->path;
    r->req.path_rest = path_rest;
    buf_reserve(&r->body, 0);
    r->req.body = r->body.data ? r->body.data : "";
    r->req.body_len = r->body.len;
    r->req.remote = r->remote;
    r->req.id = r->id;
    r->req.inst = &w->view;
    r->req.db = w->view.db;
    r->req.ctx = s->o.ctx;
    r->req.tls = s->o.tls_cert != NULL;
    r->req.sessions = s->sessions;
    r->req.users_imports = s->users_imports;
    r->req.runner_cache = s->runner_cache;
    r->req.sync_bg = s->sync_bg;
    r->req.import_jobs = s->import_jobs;
    r->req.upload_path = r->upload_fd < 0 ? r->upload_path : NULL;
    r->req.upload_dir = r->upload_fd < 0 ? r->upload_dir : NULL;
    r->req.upload_len = r->upload_len;
    r->req.state = r;
}

/* Runs `handler` for the request and sends its answer. With `check` (an upload's check,
 * before its body), a handler that answers nothing and returns 0 lets the request go on:
 * nothing is sent. */
static enum MHD_Result run_handler(struct http_request_state *r, http_handler_fn handler,
                                   const char *path_rest, int check)
{
    struct http_server *s = r->srv;
    struct op_err e;
    err_clear(&e);
    log_set_request_id(r->id);
    struct worker *w = worker_get(s, &e);
    log_set_request_id(NULL);
    if (!w)
        return send_op_error(r, &e);
    fill_request(r, w, path_rest);

    struct http_response res;
    http_response_init(&res);
    log_set_request_id(r->id);
    int rc = handler(&r->req, &res, &e);
    run_deferred(r);
    if (db_in_transaction(w->view.db)) {
        /* a rule of server.h broken: nothing of it may stay, nor hold the write lock */
        log_error("%s %s: the handler returned inside a transaction; it is undone", r->method,
                  r->path);
        worker_drop_db(w);
        err_set(&e, OP_EDB, "%s: the handler returned inside a transaction", r->path);
        rc = OP_EDB;
        res.status = 0;
    }
    if (rc < 0 && res.status < 400) {
        int status = err_http_status(rc);
        if (e.code == 0)
            e.code = rc;
        set_retry_after(&res, status, &e);
        http_response_error(&res, status, &e);
    } else if (rc == 0 && res.status == 0 && check) {
        log_set_request_id(NULL);
        http_response_clear(&res);
        return MHD_YES;
    } else if (rc == 0 && res.status == 0) {
        err_set(&e, OP_EIO, "%s %s: the handler answered nothing", r->method, r->path);
        http_response_error(&res, 500, &e);
    }
    log_set_request_id(NULL);
    if (r->upload)
        upload_discard(r); /* the handler has the file now, or never will */
    return send_response(r, &res);
}

/* ---- uploads ---- */

/* The base name an upload is kept under: the last component of `given` with every byte but
 * letters, digits, '.', '-' and '_' made '_', at most 100 bytes, never starting with '.';
 * "upload" when nothing is left. */
static void upload_name(const char *given, char out[101])
{
    const char *base = given ? given : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t n = 0;
    for (const char *p = base; *p && n < 100; p++) {
        unsigned char c = (unsigned char)*p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
        out[n++] = ok ? (char)c : '_';
    }
    out[n] = '\0';
    if (n == 0 || out[0] == '.')
        snprintf(out, 101, "upload%s", n ? out : "");
    out[100] = '\0';
}

/* Opens the private file an upload goes to: DIR/uploads/<random>/<name>. */
static int upload_open(struct http_request_state *r, struct op_err *e)
{
    char *root = fs_join(r->srv->inst->dir, IMPORT_UPLOADS_DIR);
    int rc = fs_mkdir_p(root, 0700, e);
    char name[101];
    upload_name(http_query_get(&r->query, "filename"), name);
    if (rc == 0) {
        struct buf tmpl = BUF_INIT;
        buf_printf(&tmpl, "%s/XXXXXX", root);
        if (!mkdtemp(tmpl.data)) {
            rc = err_set(e, OP_EIO, "cannot make a folder for the upload in %s: %s", root,
                         strerror(errno));
            buf_free(&tmpl);
        } else {
            r->upload_dir = tmpl.data; /* taken from the buf */
        }
    }
    if (rc == 0) {
        r->upload_path = fs_join(r->upload_dir, name);
        r->upload_fd = open(r->upload_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (r->upload_fd < 0)
            rc = err_set(e, OP_EIO, "cannot create the upload's file: %s", strerror(errno));
    }
    free(root);
    return rc;
}

/* Writes a chunk of an upload's body; -1 on a write error (the request is then cut). */
static int upload_write(struct http_request_state *r, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = write(r->upload_fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            log_error("upload %s: %s", r->upload_path, strerror(errno));
            return -1;
        }
        data += w;
        n -= (size_t)w;
        r->upload_len += (uint64_t)w;
    }
    return 0;
}

/* The whole upload is on disk: closes it and runs the route's handler. */
static enum MHD_Result upload_done(struct http_request_state *r)
{
    int failed = close(r->upload_fd) != 0;
    r->upload_fd = -1;
    if (failed)
        return send_error(r, 500, OP_EIO, NULL, "the upload could not be written");
    return run_handler(r, r->upload->handler, "", 0);
}

/* ---- MHD callbacks ---- */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(struct connection_state));
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        struct connection_state *cs = *socket_context;
        free(cs->raw_uri);
        free(cs);
        *socket_context = NULL;
    }
}

/* Called with the request line's URI, query string included: kept on the connection for
 * on_access. Returns NULL: the request's state is made by on_access, which MHD always pairs
 * with on_completed (a URI callback's allocation would leak for requests MHD refuses). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct connection_state *cs = ci ? ci->socket_context : NULL;
    if (cs) {
        free(cs->raw_uri);
        cs->raw_uri = strdup(uri);
    }
    return NULL;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    *(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
    return MHD_YES;
}

/* The first call of a request: its state, and the checks answered before the body is read. */
static enum MHD_Result begin_request(struct http_server *s, struct MHD_Connection *conn,
                                     const char *url, const char *method, void **con_cls)
{
    struct http_request_state *r = calloc(1, sizeof *r);
    if (!r)
        return MHD_NO;
    *con_cls = r;
    int before = atomic_fetch_add(&s->in_flight, 1);
    r->srv = s;
    r->conn = conn;
    r->upload_fd = -1;
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    new_request_id(r->id);
    remote_text(conn, r->remote);
    r->method = strdup(method);
    r->path = strdup(url);
    if (!r->method || !r->path)
        return MHD_NO;

    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct connection_state *cs = ci ? ci->socket_context : NULL;
    const char *raw = cs && cs->raw_uri ? cs->raw_uri : url;

    /* Overload: more requests in flight than the threads can serve are answered at once,
     * not queued (the client obeys Retry-After). */
    if (s->o.max_in_flight &&
        (unsigned)before >= (unsigned long long)s->o.max_in_flight * s->o.threads)
        return send_error(r, 429, OP_EBUSY, NULL,
                          "the server is busy (%d requests in flight); retry in 1 second", before);

    size_t header_bytes = strlen(method) + strlen(raw) + 12; /* " HTTP/1.1\r\n" */
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &header_bytes);
    if (header_bytes > s->o.max_header)
        return send_error(r, 431, OP_EINPUT, NULL,
                          "the request line and headers are %zu bytes, more than the %zu allowed",
                          header_bytes, s->o.max_header);

    const char *q = strchr(raw, '?');
    struct op_err e;
    err_clear(&e);
    if (q && http_query_parse(q + 1, strlen(q + 1), &r->query, &e) != 0)
        return send_error(r, 400, OP_EINPUT, NULL, "%s", e.msg);

    for (const struct http_upload_route *u = s->o.uploads; u && u->path && !r->upload; u++)
        if (strcmp(method, "POST") == 0 && strcmp(url, u->path) == 0)
            r->upload = u;
    uint64_t limit = r->upload ? s->o.max_upload : s->o.max_body;
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno == 0 && end != cl && n > limit)
            return send_error(r, 413, OP_EINPUT, NULL,
                              "the request body is %llu bytes, more than the %llu allowed", n,
                              (unsigned long long)limit);
    }
    if (r->upload) {
        /* who may upload is checked before a byte is read; the answer of a refusal is sent
         * at once (and the body cut, on_access) */
        if (r->upload->check) {
            enum MHD_Result mr = run_handler(r, r->upload->check, "", 1);
            if (r->status)
                return mr;
        }
        if (upload_open(r, &e) != 0) {
            log_set_request_id(r->id);
            log_error("%s", e.msg);
            log_set_request_id(NULL);
            return send_op_error(r, &e);
        }
    }
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct http_request_state *r = *con_cls;
    if (!r)
        return begin_request(s, conn, url, method, con_cls);
    if (r->status) { /* answered early: MHD discards the rest (a refused upload: 1 MiB) */
        r->discarded += *upload_data_size;
        *upload_data_size = 0;
        return r->upload && r->discarded > 1024 * 1024 ? MHD_NO : MHD_YES;
    }
    if (r->upload && *upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_large || n > s->o.max_upload - r->upload_len) {
            r->too_large = 1;
            r->discarded += n;
            return r->discarded > s->o.max_upload ? MHD_NO : MHD_YES;
        }
        return upload_write(r, upload_data, n) == 0 ? MHD_YES : MHD_NO;
    }
    if (r->upload) {
        if (r->too_large)
            return send_error(r, 413, OP_EINPUT, NULL,
                              "the upload is more than the %llu bytes allowed",
                              (unsigned long long)s->o.max_upload);
        return upload_done(r);
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (ms_since(&r->start) > 1000.0 * s->o.timeout_s)
            return MHD_NO; /* a body sent too slowly: cut, whatever its pace per byte */
        if (r->too_large || n > s->o.max_body - r->body.len) {
            r->too_large = 1;
            r->discarded += n;
            return r->body.len + r->discarded > 2 * s->o.max_body ? MHD_NO : MHD_YES;
        }
        buf_append(&r->body, upload_data, n);
        return MHD_YES;
    }
    if (r->too_large)
        return send_error(r, 413, OP_EINPUT, NULL,
                          "the request body is more than the %zu bytes allowed", s->o.max_body);
    return dispatch(r);
}

static const char *termination_text(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return NULL;
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "server-stop";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "client-gone";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client-abort";
    default:
        return "error";
    }
}

/* The access log line, then the request's state is freed. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    struct http_server *s = cls;
    struct http_request_state *r = *con_cls;
    if (!r)
        return;
    *con_cls = NULL;
    struct buf q = BUF_INIT;
    http_query_log(&r->query, LOG_QUERY_MAX, &q);
    const char *end = termination_text(toe);
    char status[16];
    snprintf(status, sizeof status, r->status ? "%d" : "-", r->status);
    log_set_request_id(r->id);
    log_info("access remote=%s method=%s path=%s%s status=%s bytes=%llu ms=%.1f%s%s", r->remote,
             r->method ? r->method : "-", r->path ? r->path : "-", q.data ? q.data : "", status,
             (unsigned long long)r->bytes, ms_since(&r->start), end ? " end=" : "", end ? end : "");
    log_set_request_id(NULL);
    buf_free(&q);
    upload_discard(r); /* a client gone in the middle of an upload */
    http_query_free(&r->query);
    buf_free(&r->body);
    free(r->method);
    free(r->path);
    free(r);
    atomic_fetch_sub(&s->in_flight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct http_server *s = cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    if (s->starting)
        snprintf(s->mhd_message, sizeof s->mhd_message, "%s", msg);
    log_debug("libmicrohttpd: %s", msg);
}

/* ---- listening ---- */

/* Splits "HOST:PORT" or "[V6]:PORT" and binds a listening socket to it (*fd). */
static int open_listener(const char *listen_addr, int *fd, unsigned *port, struct op_err *e)
{
    *fd = -1;
    char host[256];
    const char *colon = strrchr(listen_addr, ':');
    const char *h = listen_addr;
    size_t hlen = colon ? (size_t)(colon - listen_addr) : 0;
    if (colon && hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    const char *p = colon ? colon + 1 : "";
    int port_ok =
        *p != '\0' && strlen(p) <= 5 && strspn(p, "0123456789") == strlen(p) && atoi(p) <= 65535;
    if (!colon || hlen == 0 || hlen >= sizeof host || !port_ok)
        return err_set(e, OP_EINPUT,
                       "listen address \"%s\": expected ADDRESS:PORT, e.g. 127.0.0.1:8080, "
                       "[::1]:8080 or 0.0.0.0:443 (port 0 takes a free port)",
                       listen_addr);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (strchr(host, '[') || strchr(host, ']') || (strchr(host, ':') && h == listen_addr))
        return err_set(e, OP_EINPUT,
                       "listen address \"%s\": write an IPv6 address in brackets: [::1]:8080",
                       listen_addr);

    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int g = getaddrinfo(host, p, &hints, &ai);
    if (g != 0 || !ai)
        return err_set(e, OP_EINPUT, "listen address \"%s\": %s", listen_addr,
                       g ? gai_strerror(g) : "no address");
    int s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) {
        freeaddrinfo(ai);
        return err_set(e, OP_EIO, "listen address \"%s\": cannot create a socket: %s", listen_addr,
                       strerror(errno));
    }
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, 128) != 0) {
        int err = errno;
        close(s);
        freeaddrinfo(ai);
        if (err == EADDRINUSE)
            return err_set(e, OP_EIO,
                           "listen address %s: the port is in use (another server listens "
                           "there): stop it or choose another port",
                           listen_addr);
        if (err == EACCES)
            return err_set(e, OP_EIO,
                           "listen address %s: permission denied (a port below 1024 needs "
                           "privileges: use a higher port behind a proxy, or the "
                           "CAP_NET_BIND_SERVICE capability)",
                           listen_addr);
        if (err == EADDRNOTAVAIL)
            return err_set(e, OP_EIO,
                           "listen address %s: no interface of this machine has that address",
                           listen_addr);
        return err_set(e, OP_EIO, "listen address %s: %s", listen_addr, strerror(err));
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl = sizeof ss;
    if (getsockname(s, (struct sockaddr *)&ss, &sl) != 0) {
        int err = errno;
        close(s);
        return err_set(e, OP_EIO, "listen address %s: %s", listen_addr, strerror(err));
    }
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    *fd = s;
    return 0;
}

/* ---- the server ---- */

void http_server_options_default(struct http_server_options *o)
{
    memset(o, 0, sizeof *o);
    o->threads = HTTP_DEFAULT_THREADS;
    o->max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
    o->max_per_ip = HTTP_DEFAULT_MAX_PER_IP;
    o->timeout_s = HTTP_DEFAULT_TIMEOUT_S;
    o->max_body = (size_t)HTTP_DEFAULT_MAX_BODY_KIB * 1024;
    o->max_header = (size_t)HTTP_DEFAULT_MAX_HEADER_KIB * 1024;
    o->max_upload = 0; /* the instance's qti-package-max-bytes */
    o->stop_grace_ms = HTTP_DEFAULT_STOP_GRACE_MS;
    o->max_in_flight = HTTP_DEFAULT_MAX_IN_FLIGHT;
    o->session_idle_s = WEBSESSION_DEFAULT_IDLE_S;
    o->max_sessions = WEBSESSION_DEFAULT_MAX;
    o->pages = web_pages_get;
}

static int check_options(const struct http_server_options *o, struct op_err *e)
{
    if (!o->listen || !*o->listen)
        return err_set(e, OP_EINPUT, "no listen address (ADDRESS:PORT, e.g. 127.0.0.1:8080)");
    if (!o->tls_cert != !o->tls_key)
        return err_set(e, OP_EINPUT,
                       "TLS needs both a certificate and its key file (or neither, for plain "
                       "HTTP)");
    if (o->max_in_flight > HTTP_MAX_IN_FLIGHT)
        return err_set(e, OP_EINPUT, "max in flight: %u, expected 0 to %d", o->max_in_flight,
                       HTTP_MAX_IN_FLIGHT);
    if (o->threads < 1 || o->threads > HTTP_MAX_THREADS)
        return err_set(e, OP_EINPUT, "threads: %u, expected 1 to %d", o->threads, HTTP_MAX_THREADS);
    if (o->max_connections < 1 || o->max_connections > 100000)
        return err_set(e, OP_EINPUT, "maximum connections: %u, expected 1 to 100000",
                       o->max_connections);
    if (o->max_per_ip > o->max_connections)
        return err_set(e, OP_EINPUT,
                       "connections per address: %u, more than the %u connections in all",
                       o->max_per_ip, o->max_connections);
    if (o->timeout_s < 1 || o->timeout_s > 3600)
        return err_set(e, OP_EINPUT, "timeout: %u seconds, expected 1 to 3600", o->timeout_s);
    if (o->max_body < 1024 || o->max_body > (size_t)HTTP_MAX_BODY_KIB * 1024)
        return err_set(e, OP_EINPUT, "maximum body: %zu bytes, expected 1 KiB to %d KiB",
                       o->max_body, HTTP_MAX_BODY_KIB);
    if (o->max_header < 1024 || o->max_header > (size_t)HTTP_MAX_HEADER_KIB * 1024)
        return err_set(e, OP_EINPUT, "maximum header: %zu bytes, expected 1 KiB to %d KiB",
                       o->max_header, HTTP_MAX_HEADER_KIB);
    return 0;
}

static void free_server(struct http_server *s)
{
    for (struct worker *w = s->workers, *next; w; w = next) {
        next = w->next;
        db_close(w->view.db);
        free(w);
    }
    websessions_free(s->sessions);            /* every session's key wiped */
    users_import_jobs_free(s->users_imports); /* a running import is waited for */
    runner_cache_free(s->runner_cache);
    sync_bg_free(s->sync_bg);
    import_jobs_free(s->import_jobs); /* waits for the imports running */
    http_tls_free(&s->tls);
    pthread_key_delete(s->worker_key);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int http_server_start(struct instance *inst, const struct http_server_options *o,
                      struct http_server **out, struct op_err *e)
{
    *out = NULL;
    if (check_options(o, e) != 0)
        return OP_EINPUT;
    if (sodium_init() < 0)
        return err_set(e, OP_ECRYPTO, "cannot initialise libsodium");
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, OP_ENOMEM, "out of memory");
    s->inst = inst;
    s->o = *o;
    if (!s->o.routes)
        s->o.routes = http_api_routes;
    if (!s->o.uploads)
        s->o.uploads = http_upload_routes;
    if (!s->o.max_upload)
        s->o.max_upload = inst->settings.qti_package_max_bytes
                              ? inst->settings.qti_package_max_bytes
                              : ((uint64_t)512 << 20);
    pthread_mutex_init(&s->lock, NULL);
    if (pthread_key_create(&s->worker_key, NULL) != 0) {
        pthread_mutex_destroy(&s->lock);
        free(s);
        return err_set(e, OP_ENOMEM, "cannot create a thread key");
    }
    if (o->tls_cert && http_tls_load(o->tls_cert, o->tls_key, &s->tls, e) != 0) {
        free_server(s);
        return OP_EINPUT;
    }
    const struct websession_options wo = {.idle_s = o->session_idle_s, .max = o->max_sessions};
    if (websessions_new(&wo, &s->sessions, e) != 0) {
        int code = e->code;
        free_server(s);
        return code;
    }
    if (inst->role == ROLE_CENTRAL && users_import_jobs_new(inst, &s->users_imports, e) != 0) {
        int code = e->code;
        free_server(s);
        return code;
    }
    if (runner_cache_new(RUNNER_CACHE_DEFAULT, &s->runner_cache, e) != 0) {
        int code = e->code;
        free_server(s);
        return code;
    }
    /* on a device, the sync button: its thread starts at the first press */
    if (inst->role == ROLE_DEVICE && sync_bg_new(inst, &s->sync_bg, e) != 0) {
        int code = e->code;
        free_server(s);
        return code;
    }
    /* on central, the backoffice's imports run in threads of their own */
    if (inst->role == ROLE_CENTRAL &&
        import_jobs_new(inst, IMPORT_JOBS_RUNNING_MAX, &s->import_jobs, e) != 0) {
        int code = e->code;
        free_server(s);
        return code;
    }
    int fd;
    if (open_listener(o->listen, &fd, &s->port, e) != 0) {
        free_server(s);
        return e->code;
    }
    /* the host part as given, the port as bound */
    const char *colon = strrchr(o->listen, ':');
    snprintf(s->url, sizeof s->url, "%s://%.*s:%u", o->tls_cert ? "https" : "http",
             (int)(colon - o->listen), o->listen, s->port);

    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (o->tls_cert)
        flags |= MHD_USE_TLS;
    /* MHD's pool holds the request line, the headers and the read and write buffers: room
     * for headers up to our limit, which we then check and answer with our own 431 */
    size_t pool = 2 * o->max_header + 32 * 1024;
    struct MHD_OptionItem opts[16];
    int n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, o->max_connections, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_ip, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)pool, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL};
    if (o->threads > 1)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, o->threads, NULL};
    if (o->tls_cert) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls.cert_pem};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls.key_pem};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    s->starting = 1;
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    s->starting = 0;
    if (!s->mhd) {
        close(fd);
        err_set(e, OP_EIO, "%s: the HTTP server did not start%s%s", s->url,
                s->mhd_message[0] ? ": " : "", s->mhd_message);
        free_server(s);
        return OP_EIO;
    }
    *out = s;
    return 0;
}

unsigned http_server_port(const struct http_server *s)
{
    return s->port;
}

const char *http_server_url(const struct http_server *s)
{
    return s->url;
}

int http_server_stop(struct http_server *s)
{
    if (!s)
        return 0;
    atomic_store(&s->stopping, 1);
    /* a sync the button started is cancelled at its next safe point and waited for (about a
     * second): what it applied stays whole, its run is recorded, the lock released */
    if (s->sync_bg)
        sync_bg_stop(s->sync_bg);
    MHD_socket lfd = MHD_quiesce_daemon(s->mhd);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (atomic_load(&s->in_flight) > 0 && ms_since(&t0) < s->o.stop_grace_ms) {
        struct timespec nap = {0, 10 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    int cut = atomic_load(&s->in_flight);
    MHD_stop_daemon(s->mhd);
    free_server(s);
    return cut;
}
