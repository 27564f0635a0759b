/*
 * server.h - `outpost serve`: the HTTP server (libmicrohttpd) and the interface of its
 * endpoints. This is the header an endpoint's author reads; docs/architecture.md, "The HTTP
 * server", says the same with an example.
 *
 * An endpoint is a route (routes.c: method, path, handler) and a handler, one function in
 * src/http/api_<topic>.c that is a thin door into the application layer:
 *
 *     int api_health_get(const struct http_request *req, struct http_response *res,
 *                        struct op_err *e)
 *     {
 *         struct app_health h;
 *         int rc = app_health_read(req->inst, &h, e);   // one operation of src/app
 *         if (rc != 0)
 *             return rc;                                // the server answers the error
 *         return http_response_json(res, 200, app_health_json(&h));
 *     }
 *
 * What the server guarantees a handler:
 *   - the whole request is in memory before the handler runs (headers within the header
 *     limit, body within the body limit), so a handler never waits on the network and never
 *     holds a database transaction while a client sends slowly; an upload route's body
 *     (struct http_upload_route) is on disk instead, whole, in req->upload_path;
 *   - req->inst is this worker thread's view of the instance: everything of the instance,
 *     with its own database connection (req->inst->db == req->db), so the operations of
 *     src/app run unchanged. Its busy timeout is HTTP_DB_BUSY_TIMEOUT_MS: a busy database
 *     comes back at once as OP_EBUSY, answered 503 with "Retry-After: 1". A handler must not
 *     close it, keep it past its return, or return inside a transaction (the server rolls it
 *     back, logs the fault and answers 500);
 *   - the query string is parsed (http/query.h; a malformed one is answered 400 before any
 *     handler runs), header names are matched without regard to case.
 *
 * What a handler answers: 0 after filling `res` (http_response_json, http_response_body,
 * http_response_file...), or a negative OP_E* code with `e` filled (base/err.h). For an error
 * the server answers err_http_status(code) with the JSON body
 *
 *     {"error": {"code": "not_found", "message": "...", "field": "login"}}
 *
 * ("field" only when e->field names one; for a 5xx other than 503 the message is a generic
 * one and the real one goes to the log), keeping the headers the handler set (a 401 carries
 * its WWW-Authenticate, a 429 its Retry-After). A handler that wants another status than
 * err_http_status gives (415, 429...) calls http_response_error itself and returns its result:
 * an error response already set is kept. The stable code strings are http_error_code's.
 */
#ifndef OUTPOST_HTTP_SERVER_H
#define OUTPOST_HTTP_SERVER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "instance/instance.h"
#include "store/db.h"

/* ---- Requests ---- */

#define HTTP_REQUEST_ID_LEN     16  /* hex characters of a request id */
#define HTTP_DB_BUSY_TIMEOUT_MS 300 /* how long a worker's connection waits for the write lock */

struct http_server;
struct http_response;
struct websessions;        /* http/websession.h: the server's web sessions */
struct users_import_jobs;  /* app/users_import_jobs.h: central's background user imports */
struct runner_cache;       /* app/runner.h: the server's parsed test packages */
struct sync_bg;            /* sync/bg.h: a device's sync button */
struct import_jobs;        /* app/import_jobs.h: central's background imports */
struct http_request_state; /* the server's own, not for handlers */

struct http_request {
    const char *method;           /* "GET", "POST", ...; a HEAD request runs the GET route */
    const char *path;             /* percent-decoded, without the query string: "/api/v1/health" */
    const char *path_rest;        /* for a prefix route, what follows the route's path; else "" */
    const char *body;             /* the whole body, NUL-terminated after body_len ("" if none) */
    size_t body_len;              /* at most the server's body limit */
    const char *remote;           /* the client's address as text: "192.0.2.7", "2001:db8::7" */
    const char *id;               /* HTTP_REQUEST_ID_LEN hex characters: X-Request-Id, log lines */
    struct instance *inst;        /* this thread's view of the instance (see above) */
    struct db *db;                /* == inst->db, this thread's connection */
    void *ctx;                    /* http_server_options.ctx: state the handlers share */
    int tls;                      /* 1 when the request came over TLS (cookies then get Secure) */
    struct websessions *sessions; /* the server's web sessions (http/websession.h) */
    struct users_import_jobs *users_imports; /* central: background user imports; else NULL */
    struct runner_cache *runner_cache;       /* the server's parsed test packages (app/runner.h) */
    struct sync_bg *sync_bg;         /* a device's sync button (sync/bg.h); NULL on central */
    struct import_jobs *import_jobs; /* central's background imports (app/import_jobs.h) */
    /* An upload route (http_upload_route): the body, streamed to a private file while it
     * arrived, instead of `body` (which is then ""): the file, the private folder it lies in,
     * and its size. NULL and 0 for any other route. */
    const char *upload_path;
    const char *upload_dir;
    uint64_t upload_len;
    struct http_request_state *state;
};

/* Takes the upload of the request: the caller owns upload_path and upload_dir from now on
 * (removes them when done; app/import_jobs.h does). Without it the server removes both once
 * the handler has returned. */
void http_request_take_upload(const struct http_request *req);

/* The value of query parameter `name` ("since" in "?since=42"), or NULL when absent. */
const char *http_request_query(const struct http_request *req, const char *name);

/* The value of request header `name`, matched without regard to case, or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/* The value of cookie `name` of the request (http/cookie.h), copied into `out` (cap bytes):
 * `out`, or NULL when absent or malformed (too long, a byte a cookie may not hold). */
const char *http_request_cookie(const struct http_request *req, const char *name, char *out,
                                size_t cap);

/* Has the server call fn(arg) once the handler has returned (whatever it answered), before
 * the response is sent: how a handler's helper releases what it lent the handler (a web
 * session, http/websession.h) without a second line in every handler. At most
 * HTTP_REQUEST_DEFER_MAX per request; past that OP_ENOMEM and fn is not called. */
#define HTTP_REQUEST_DEFER_MAX 4
int http_request_defer(const struct http_request *req, void (*fn)(void *), void *arg,
                       struct op_err *e);

/* Parses the body as JSON (http/body.h: nesting at most HTTP_JSON_MAX_DEPTH, duplicated keys
 * refused, the position of a fault in the message) into *out, a new reference the caller
 * releases. OP_EINPUT (400) when it is not JSON. */
int http_request_json(const struct http_request *req, json_t **out, struct op_err *e);

/* Checks that the request's Content-Type is `type` ("application/json"; parameters such as
 * "; charset=utf-8" are ignored). When it is not, answers 415 in `res` and returns OP_EINPUT:
 * `return rc;` it. */
int http_request_check_type(const struct http_request *req, struct http_response *res,
                            const char *type, struct op_err *e);

/* ---- Responses ---- */

#define HTTP_RESPONSE_HEADERS_MAX 16

struct http_header {
    char *name;
    char *value;
};

/* What a handler answers. Filled through the functions below; the server sends it and frees
 * what it holds. A new response has status 0 (nothing set), no body and no file. */
struct http_response {
    int status;
    char content_type[128];
    char *body; /* malloc'ed, owned by the response */
    size_t body_len;
    int fd;               /* a file to send (owned, closed by the server), or -1 */
    uint64_t file_offset; /* the bytes of fd to send: [file_offset, file_offset + file_length) */
    uint64_t file_length;
    int nheaders;
    struct http_header headers[HTTP_RESPONSE_HEADERS_MAX];
};

void http_response_init(struct http_response *res);
/* Frees the body, closes the file and forgets the headers; `res` is then as new. */
void http_response_clear(struct http_response *res);

/* Sets response header `name` (replacing one of the same name, in any case). Refuses
 * (OP_EINPUT) a name that is not a token, a value holding a control character (no header
 * injection), and more than HTTP_RESPONSE_HEADERS_MAX headers. The server sets Content-Type,
 * Content-Length, X-Request-Id and, unless set here, "Cache-Control: no-store". */
int http_response_header(struct http_response *res, const char *name, const char *value);

/* Answers `status` with `len` bytes of `data` (copied) of media type `type`. Returns 0. */
int http_response_body(struct http_response *res, int status, const char *type, const void *data,
                       size_t len);

/* Answers `status` with `doc` as compact JSON (application/json). Takes the reference to
 * `doc`, which may be NULL (then OP_ENOMEM, as json_pack returns NULL only for that). */
int http_response_json(struct http_response *res, int status, json_t *doc);

/* Answers with `length` bytes of the file `fd` (taken: the server closes it, also when this
 * fails) from `offset`, of a file of `total` bytes: 200 when that is the whole file, else 206
 * with "Content-Range: bytes FIRST-LAST/TOTAL"; with "Accept-Ranges: bytes", and the media
 * type `type`. */
int http_response_file(struct http_response *res, int fd, uint64_t offset, uint64_t length,
                       uint64_t total, const char *type);

/* A download that resumes: reads the request's Range header (http/range.h) and answers the
 * whole file (200), the range asked (206) or 416 with "Content-Range: bytes * /TOTAL" (the
 * file is then closed). `fd` is taken as by http_response_file. Returns 0 (416 is an answer,
 * not a fault of the handler). */
int http_response_file_range(struct http_response *res, const struct http_request *req, int fd,
                             uint64_t total, const char *type);

/* Answers `status` (>= 400) with the JSON error body for `e` (its message, and its field when
 * set), keeping the headers already set. Returns e->code when it is negative, else OP_EINPUT,
 * so that a handler can `return http_response_error(res, 429, e);`. */
int http_response_error(struct http_response *res, int status, const struct op_err *e);

/* As http_response_error with `code` as the body's "code" instead of http_error_code's (403
 * "csrf": the request lacked the session's CSRF token). */
int http_response_error_code(struct http_response *res, int status, const char *code,
                             const struct op_err *e);

/* The stable code string of an error status, the "code" of the JSON error body:
 * 400 invalid_request, 401 unauthorized, 403 forbidden, 404 not_found, 405
 * method_not_allowed, 409 conflict, 413 payload_too_large, 415 unsupported_media_type, 416
 * range_not_satisfiable, 422 crypto, 429 too_many_requests, 431 headers_too_large, 503 busy,
 * any other 4xx invalid_request, any other 5xx internal. */
const char *http_error_code(int status);

/* ---- Routes ---- */

typedef int (*http_handler_fn)(const struct http_request *req, struct http_response *res,
                               struct op_err *e);

/* One endpoint. `path` matches the request's path exactly, or with `prefix` every path that
 * starts with it (the rest in req->path_rest: "/api/v1/packages/" matches
 * "/api/v1/packages/9f86d0..."). A path that matches a route of another method only is answered
 * 405 with an Allow header; a path no route matches, 404. A table ends with {NULL}. */
struct http_route {
    const char *method;
    const char *path;
    int prefix;
    http_handler_fn handler;
};

/* The API of Outpost (routes.c), every path under /api/v1. */
extern const struct http_route http_api_routes[];

/* A POST whose body is a file (a QTI package) rather than JSON: the server streams it to a
 * private file (DIR/uploads/<random>/<name>, mode 0600; <name> from the query parameter
 * `filename`, reduced to a safe base name) as it arrives, never holding it in memory, up to
 * http_server_options.max_upload bytes (413 above: at once for a Content-Length over it,
 * else when the body passes it, and a client that sends more than twice as much is cut).
 * `check` runs first, with the headers only, before a byte of the body is read: an error it
 * answers (401, 403) is sent at once and the connection is cut after 1 MiB more, so a refused
 * caller cannot make the server read a package. `handler` then runs with the whole file
 * (req->upload_path). An upload is not cut by the whole-request time limit (a large package
 * on a slow link takes minutes), only by --timeout seconds without a byte. The path matches
 * exactly; the table ends with {NULL}. */
struct http_upload_route {
    const char *path;
    http_handler_fn check;
    http_handler_fn handler;
};
extern const struct http_upload_route http_upload_routes[];

/* ---- The server ---- */

#define HTTP_DEFAULT_THREADS                4
#define HTTP_DEVICE_DEFAULT_THREADS         16 /* serve on a device: cli/cmd_serve.c says why */
#define HTTP_DEFAULT_MAX_CONNECTIONS        256
#define HTTP_DEVICE_DEFAULT_MAX_CONNECTIONS 768 /* below the usual 1024 open files */
#define HTTP_DEFAULT_MAX_PER_IP             64
#define HTTP_DEFAULT_TIMEOUT_S              30
#define HTTP_DEFAULT_MAX_BODY_KIB           16384 /* 16 MiB: a batch of results, not a package */
#define HTTP_DEFAULT_MAX_HEADER_KIB         16
#define HTTP_DEFAULT_STOP_GRACE_MS          10000
#define HTTP_DEFAULT_MAX_IN_FLIGHT          16 /* requests in flight per thread before 429 */
#define HTTP_MAX_IN_FLIGHT                  100000
#define HTTP_MAX_THREADS                    256
#define HTTP_MAX_BODY_KIB                   (1024 * 1024) /* 1 GiB */
#define HTTP_MAX_HEADER_KIB                 1024

struct http_server_options {
    const char *listen;   /* "ADDRESS:PORT": "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:443";
                             port 0 takes a free port (http_server_port says which) */
    const char *tls_cert; /* PEM certificate chain file and its key file: both or neither */
    const char *tls_key;
    unsigned threads;         /* worker threads, 1..HTTP_MAX_THREADS */
    unsigned max_connections; /* open connections at once */
    unsigned max_per_ip;      /* of them from one address (0: no limit) */
    unsigned timeout_s;       /* a connection idle this long is closed; a request whose body
                                 takes longer than this in all is cut */
    size_t max_body;          /* bytes of a request body (413 above) */
    size_t max_header;        /* bytes of the request line and headers (431 above) */
    uint64_t max_upload;      /* bytes of an upload (http_upload_route); 0: the instance's
                                 qti-package-max-bytes (setup.json configuration.limits) */
    const struct http_upload_route *uploads; /* NULL: http_upload_routes */
    unsigned stop_grace_ms;          /* how long http_server_stop waits for requests in flight */
    unsigned max_in_flight;          /* requests in flight per thread (their headers read, their
                                        answer not yet sent) beyond which a new request is
                                        answered 429 with "Retry-After: 1" at once instead of
                                        queueing (overload); 0: no limit */
    unsigned session_idle_s;         /* a web session unused this long ends (websession.h) */
    unsigned max_sessions;           /* web sessions at once; a login past it is 503 */
    const struct http_route *routes; /* NULL: http_api_routes */
    http_handler_fn pages;           /* GET and HEAD of a path outside /api/ that no route
                                        has (the web pages, http/webpages.h); NULL: 404 */
    void *ctx;                       /* given to handlers as req->ctx */
};

/* Fills *o with the defaults above (listen NULL, no TLS, http_api_routes). */
void http_server_options_default(struct http_server_options *o);

/* Starts serving `inst` (which must stay open until http_server_stop returns) in threads of
 * its own, and returns at once. Refuses with a clear message a listen address that does not
 * parse or resolve, a port in use or forbidden, a certificate or key file that is missing,
 * unreadable, not PEM, or a key that does not match the certificate, and options out of
 * range. */
int http_server_start(struct instance *inst, const struct http_server_options *o,
                      struct http_server **out, struct op_err *e);

/* The port the server listens on (the one chosen when the option said 0). */
unsigned http_server_port(const struct http_server *s);

/* "http://127.0.0.1:8080" or "https://[::1]:8443": where the server listens. */
const char *http_server_url(const struct http_server *s);

/* Stops gracefully: stops accepting connections, lets the requests in flight finish (at most
 * stop_grace_ms; responses meanwhile carry "Connection: close"), closes every connection and
 * every worker's database connection, and frees `s`. Returns the number of requests cut at
 * the deadline (0 normally). NULL does nothing. */
int http_server_stop(struct http_server *s);

#endif
