/*
 * client.h - the device's HTTP client (on libcurl): how a device talks to central.
 *
 * One client holds one CURL handle, so requests to central reuse one connection (and its TLS
 * session). It is not thread-safe: one client per thread.
 *
 * What it guarantees, whatever the caller asks:
 *   - TLS verification is always on for https:// (peer and host name); `ca_file` adds a CA
 *     bundle (a private CA), it never turns checking off. Only a plain http:// root URL talks
 *     without TLS (the sync protocol signs what matters: docs/sync-protocol.md).
 *   - Redirects are never followed: a 3xx is returned as it is.
 *   - Only http and https, to the root URL's host: a request path is appended to the root.
 *   - A response body is held to `max_response_bytes`; a longer one fails the request.
 *   - Connection errors (refused, reset, timeout, cut), 429 and 503 are retried up to
 *     `max_attempts` times with exponential backoff and full jitter (a random wait between 0
 *     and min(backoff_max, backoff_base * 2^attempt)); a Retry-After (seconds) from the server
 *     is obeyed when it is no more than `retry_after_max_s`, and the reply returned at once when
 *     it is more. Any other status (4xx, 5xx but 503) is never retried. A POST is retried too:
 *     every POST of the sync protocol is idempotent (docs/protocol.md).
 *   - Errors are OP_EIO with one message naming the host, what failed and what to check.
 *
 * Base level (docs/architecture.md, "src/http"): this file and url.c include only base/, so
 * that the device's sync code (src/sync, below cli) may call them; only client.c calls curl_*
 * (scripts/check-layers.sh).
 */
#ifndef OUTPOST_HTTP_CLIENT_H
#define OUTPOST_HTTP_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct http_client_options {
    const char *root_url;      /* central's root URL, any form http_root_url_normalise takes */
    const char *ca_file;       /* a PEM CA bundle to trust, or NULL for the system's */
    long connect_timeout_ms;   /* 0: 10 s */
    long total_timeout_ms;     /* per attempt, 0: 60 s (downloads: no total, a stall limit) */
    size_t max_response_bytes; /* 0: 16 MiB */
    const char *user_agent;    /* "outpost/VERSION"; NULL: "outpost" */
    int max_attempts;          /* 0: 5 (1: no retry) */
    long backoff_base_ms;      /* 0: 500 */
    long backoff_max_ms;       /* 0: 30000 */
    long retry_after_max_s;    /* 0: 120 */
};

#define HTTP_HEADER_MAX 512

/* What a request received. The body is NUL-terminated (buf), at most max_response_bytes. */
struct http_reply {
    long status;                            /* 200, 404, ...; 0 before any reply */
    char content_type[HTTP_HEADER_MAX];     /* "" when absent */
    char www_authenticate[HTTP_HEADER_MAX]; /* "" when absent (RFC 6750 errors) */
    long retry_after_s;                     /* -1 when absent or not a number of seconds */
    int attempts;                           /* requests made, retries included */
    struct buf body;
};

struct http_client;

/* A new client, or NULL with `e` set (a bad root URL: OP_EINPUT; out of memory). The client
 * copies what it needs from `o`. Free with http_client_free. */
struct http_client *http_client_new(const struct http_client_options *o, struct op_err *e);
void http_client_free(struct http_client *c);

/* The normalised root URL the client sends to. */
const char *http_client_root(const struct http_client *c);

/* Sends "Authorization: Bearer TOKEN" on the requests that follow; NULL stops it. The client
 * keeps a copy, wiped when replaced or freed. */
int http_client_set_bearer(struct http_client *c, const char *token, struct op_err *e);

/* Sends "Authorization: Basic base64(user:password)" (RFC 7617; the OAuth2 token request's
 * client authentication, RFC 6749 2.3.1) instead, until replaced; NULL `user` stops it.
 * OP_EINPUT for a user holding ':' or either holding a control character. Wiped like the
 * bearer token. */
int http_client_set_basic(struct http_client *c, const char *user, const char *password,
                          struct op_err *e);

/* Makes the client watch `*flag` (NULL: stop watching): once it is nonzero, a transfer under
 * way is aborted within about a second, a wait between attempts ends, and every request fails
 * at once with OP_EIO "cancelled" (a download's .part stays for a later resume). For a server
 * that stops while a background sync runs (sync/bg.h). The flag must outlive the client. */
void http_client_set_cancel(struct http_client *c, const atomic_int *flag);

/* 1 when the client's cancel flag is set. */
int http_client_cancelled(const struct http_client *c);

/* GET root+path_and_query ("/api/v1/changes?since=3"). Returns 0 when a reply came (any
 * status: the caller judges it; out->status), OP_EIO when none did after the retries, or the
 * body was over the limit. `out` is reset first; free it with http_reply_free either way. */
int http_get(struct http_client *c, const char *path_and_query, struct http_reply *out,
             struct op_err *e);

/* POST `len` bytes of `body` with `content_type`; as http_get. */
int http_post(struct http_client *c, const char *path, const char *content_type, const void *body,
              size_t len, struct http_reply *out, struct op_err *e);

void http_reply_free(struct http_reply *r);

/* Progress of a download: bytes on disk so far, and the total (0 when unknown). */
typedef void (*http_progress_fn)(void *arg, uint64_t have, uint64_t total);

/* Downloads root+path into `dest_path`, resumably: the bytes go to DEST.part, and a later call
 * (or a retry after a cut) asks only for the rest with a Range header; a 206 is appended, a 200
 * starts over, a 416 means the .part may hold it all. When the server is done, the .part's
 * SHA-256 must be `expected_sha256_hex` (64 lower-case hex digits): then it is synced and
 * renamed onto DEST atomically; otherwise the .part is deleted and OP_ECRYPTO returned. More
 * than `max_bytes` (0: no limit) fails with OP_EIO and deletes the .part. A non-2xx status
 * fails with OP_EIO naming it (the .part stays for a later resume). `progress` may be NULL. */
int http_download(struct http_client *c, const char *path, const char *dest_path,
                  const char *expected_sha256_hex, uint64_t max_bytes, http_progress_fn progress,
                  void *progress_arg, struct op_err *e);

#endif
