/*
 * client.c - the device's HTTP client on libcurl (see client.h): the one file of Outpost that
 * calls curl_* (scripts/check-layers.sh).
 *
 * A request is a loop of attempts on the client's one CURL handle. Each attempt resets the
 * reply, sets the handle's options for this request (everything a previous request may have
 * set: method, body, range), performs it, and says whether to try again; between attempts the
 * client sleeps (full-jitter backoff, or the server's Retry-After).
 */
#include "http/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/sha256.h"
#include "http/url.h"

#define DEFAULT_CONNECT_MS   10000L
#define DEFAULT_TOTAL_MS     60000L
#define DEFAULT_MAX_RESPONSE (16u * 1024u * 1024u)
#define DEFAULT_ATTEMPTS     5
#define DEFAULT_BACKOFF_BASE 500L
#define DEFAULT_BACKOFF_MAX  30000L
#define DEFAULT_RETRY_AFTER  120L
#define DOWNLOAD_ERROR_BODY  (64u * 1024u) /* what a download keeps of an error reply */

struct http_client {
    CURL *h;
    char root[HTTP_URL_MAX];
    char host[256];
    char *ca_file;
    char *user_agent;
    char *bearer; /* "Authorization: Bearer ..." header line, wiped on free */
    long connect_ms, total_ms, backoff_base, backoff_max, retry_after_max;
    size_t max_response;
    int max_attempts;
    const atomic_int *cancel; /* http_client_set_cancel's flag, or NULL */
    char errbuf[CURL_ERROR_SIZE];
};

/* One attempt's receiving state. */
struct xfer {
    struct http_reply *r;
    size_t max;  /* body limit */
    int too_big; /* the body went over `max` */
    /* downloads */
    int fd;             /* -1 when not downloading */
    uint64_t offset;    /* bytes in the .part when the attempt started */
    uint64_t written;   /* bytes this attempt wrote */
    uint64_t max_bytes; /* 0: none */
    int started;        /* the first body byte was seen (status checked) */
    int to_file;        /* the body goes to fd (2xx), else to r->body */
    int failed;         /* the write callback refused: see why */
    char why[256];
    long range_start;     /* Content-Range's first byte, -1 when absent */
    uint64_t range_total; /* Content-Range's total, 0 when absent or "*" */
    http_progress_fn progress;
    void *progress_arg;
    /* the SHA-256 of the .part's bytes [0, *hashed), updated as they are written (downloads) */
    struct sha256_stream *hs;
    uint64_t *hashed;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
    if (sodium_init() < 0)
        global_rc = -1;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct http_client *http_client_new(const struct http_client_options *o, struct op_err *e)
{
    pthread_once(&global_once, global_init);
    if (global_rc != 0) {
        err_set(e, OP_EIO, "the HTTP library (libcurl) could not start");
        return NULL;
    }
    char root[HTTP_URL_MAX];
    if (http_root_url_normalise(o->root_url, root, e) != 0)
        return NULL;
    struct http_client *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(e, OP_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(c->root, root, sizeof root);
    http_root_url_host(c->root, c->host, sizeof c->host);
    c->connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_MS;
    c->total_ms = o->total_timeout_ms > 0 ? o->total_timeout_ms : DEFAULT_TOTAL_MS;
    c->max_response = o->max_response_bytes > 0 ? o->max_response_bytes : DEFAULT_MAX_RESPONSE;
    c->max_attempts = o->max_attempts > 0 ? o->max_attempts : DEFAULT_ATTEMPTS;
    c->backoff_base = o->backoff_base_ms > 0 ? o->backoff_base_ms : DEFAULT_BACKOFF_BASE;
    c->backoff_max = o->backoff_max_ms > 0 ? o->backoff_max_ms : DEFAULT_BACKOFF_MAX;
    c->retry_after_max = o->retry_after_max_s > 0 ? o->retry_after_max_s : DEFAULT_RETRY_AFTER;
    c->ca_file = dup_or_null(o->ca_file && *o->ca_file ? o->ca_file : NULL);
    c->user_agent = strdup(o->user_agent && *o->user_agent ? o->user_agent : "outpost");
    c->h = curl_easy_init();
    if (!c->h || !c->user_agent || (o->ca_file && *o->ca_file && !c->ca_file)) {
        http_client_free(c);
        err_set(e, OP_ENOMEM, "out of memory (starting the HTTP client)");
        return NULL;
    }
    return c;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    if (c->h)
        curl_easy_cleanup(c->h);
    http_client_set_bearer(c, NULL, NULL);
    free(c->ca_file);
    free(c->user_agent);
    free(c);
}

const char *http_client_root(const struct http_client *c)
{
    return c->root;
}

int http_client_set_bearer(struct http_client *c, const char *token, struct op_err *e)
{
    if (c->bearer) {
        sodium_memzero(c->bearer, strlen(c->bearer));
        free(c->bearer);
        c->bearer = NULL;
    }
    if (!token)
        return 0;
    for (const char *p = token; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return err_set(e, OP_EINPUT, "a bearer token holds a space or control character");
    size_t n = strlen("Authorization: Bearer ") + strlen(token) + 1;
    c->bearer = malloc(n);
    if (!c->bearer)
        return err_set(e, OP_ENOMEM, "out of memory");
    snprintf(c->bearer, n, "Authorization: Bearer %s", token);
    return 0;
}

int http_client_set_basic(struct http_client *c, const char *user, const char *password,
                          struct op_err *e)
{
    int rc = http_client_set_bearer(c, NULL, e);
    if (rc != 0 || !user)
        return rc;
    size_t ul = strlen(user), pl = password ? strlen(password) : 0;
    for (size_t i = 0; i < ul; i++)
        if (user[i] == ':' || (unsigned char)user[i] < ' ' || (unsigned char)user[i] >= 0x7f)
            return err_set(e, OP_EINPUT, "a client id holds a colon or a control character");
    for (size_t i = 0; i < pl; i++)
        if ((unsigned char)password[i] < ' ' || (unsigned char)password[i] >= 0x7f)
            return err_set(e, OP_EINPUT, "a client secret holds a control character");
    size_t rawlen = ul + 1 + pl;
    char *raw = malloc(rawlen + 1);
    size_t b64cap = sodium_base64_ENCODED_LEN(rawlen, sodium_base64_VARIANT_ORIGINAL);
    size_t n = strlen("Authorization: Basic ") + b64cap;
    char *hdr = malloc(n);
    if (!raw || !hdr) {
        free(raw);
        free(hdr);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    memcpy(raw, user, ul);
    raw[ul] = ':';
    if (pl)
        memcpy(raw + ul + 1, password, pl);
    int off = snprintf(hdr, n, "Authorization: Basic ");
    sodium_bin2base64(hdr + off, n - (size_t)off, (const unsigned char *)raw, rawlen,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(raw, rawlen);
    free(raw);
    c->bearer = hdr;
    return 0;
}

void http_reply_free(struct http_reply *r)
{
    if (r)
        buf_free(&r->body);
}

static void reply_reset(struct http_reply *r)
{
    buf_free(&r->body);
    r->status = 0;
    r->content_type[0] = '\0';
    r->www_authenticate[0] = '\0';
    r->retry_after_s = -1;
}

/* ---------------------------------------------------------------- callbacks */

static void copy_value(char *dst, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    if (n >= HTTP_HEADER_MAX)
        n = HTTP_HEADER_MAX - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static int header_is(const char *line, size_t n, const char *name, const char **value, size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return 0;
    *value = line + k + 1;
    *vlen = n - k - 1;
    return 1;
}

/* The wait a Retry-After value asks for (RFC 9110 10.2.3): delay-seconds, or an HTTP-date
 * (curl_getdate reads its three forms) less `now`, 0 for a date already past; -1 for
 * anything else (then the client backs off as for any other failure). */
static long retry_after_seconds(const char *value, time_t now)
{
    size_t n = strlen(value);
    if (n > 0 && n <= 9 && strspn(value, "0123456789") == n)
        return strtol(value, NULL, 10);
    time_t at = n > 0 ? curl_getdate(value, NULL) : -1;
    if (at < 0)
        return -1;
    return at > now ? (long)(at - now) : 0;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    const char *v;
    size_t vl;
    char tmp[HTTP_HEADER_MAX];
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response (after a 100) */
        /* the write callback of a download needs the status before the first body byte */
        const char *sp = memchr(line, ' ', n);
        x->r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        x->r->content_type[0] = '\0';
        x->r->www_authenticate[0] = '\0';
        x->r->retry_after_s = -1;
        x->range_start = -1;
        x->range_total = 0;
    } else if (header_is(line, n, "Content-Type", &v, &vl)) {
        copy_value(x->r->content_type, v, vl);
    } else if (header_is(line, n, "WWW-Authenticate", &v, &vl)) {
        copy_value(x->r->www_authenticate, v, vl);
    } else if (header_is(line, n, "Retry-After", &v, &vl)) {
        copy_value(tmp, v, vl);
        x->r->retry_after_s = retry_after_seconds(tmp, time(NULL));
    } else if (header_is(line, n, "Content-Range", &v, &vl)) {
        copy_value(tmp, v, vl);
        unsigned long long a, b, t;
        if (sscanf(tmp, "bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
            x->range_start = (long)a;
            x->range_total = t;
        } else if (sscanf(tmp, "bytes %llu-%llu/*", &a, &b) == 2) {
            x->range_start = (long)a;
        }
    }
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    if (x->fd >= 0 && !x->started) {
        x->started = 1;
        long status = x->r->status;
        if (status == 206) {
            if (x->range_start < 0 || (uint64_t)x->range_start != x->offset) {
                snprintf(x->why, sizeof x->why,
                         "a 206 reply for bytes from %ld, asked from %" PRIu64, x->range_start,
                         x->offset);
                x->failed = 1;
                return 0;
            }
            x->to_file = 1;
        } else if (status == 200) {
            if (x->offset > 0 && ftruncate(x->fd, 0) != 0) {
                snprintf(x->why, sizeof x->why, "cannot truncate the .part file: %s",
                         strerror(errno));
                x->failed = 1;
                return 0;
            }
            x->offset = 0;
            x->to_file = 1;
            if (x->hs) { /* starts over: so does the hash */
                sha256_stream_init(x->hs);
                *x->hashed = 0;
            }
        }
    }
    if (x->to_file) {
        if (x->max_bytes && x->offset + x->written + n > x->max_bytes) {
            x->too_big = 1;
            return 0;
        }
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(x->fd, data + done, n - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                snprintf(x->why, sizeof x->why, "cannot write the .part file: %s", strerror(errno));
                x->failed = 1;
                return 0;
            }
            done += (size_t)w;
        }
        /* hashed while received: the file is not read back (one pass per package) */
        if (x->hs && *x->hashed == x->offset + x->written) {
            sha256_stream_update(x->hs, data, n);
            *x->hashed += n;
        }
        x->written += n;
        if (x->progress)
            x->progress(x->progress_arg, x->offset + x->written, x->range_total);
        return n;
    }
    if (x->r->body.len + n > x->max) {
        x->too_big = 1;
        return 0;
    }
    if (buf_append(&x->r->body, data, n) != 0) {
        snprintf(x->why, sizeof x->why, "out of memory");
        x->failed = 1;
        return 0;
    }
    return n;
}

/* ---------------------------------------------------------------- attempts */

void http_client_set_cancel(struct http_client *c, const atomic_int *flag)
{
    c->cancel = flag;
}

int http_client_cancelled(const struct http_client *c)
{
    return c->cancel && atomic_load(c->cancel) != 0;
}

static int cancelled_error(const struct http_client *c, struct op_err *e)
{
    return err_set(e, OP_EIO, "central %s: cancelled (the sync was stopped)", c->host);
}

/* Sleeps `ms`, in slices of at most 200 ms so that a cancel ends the wait early. */
static void sleep_ms(const struct http_client *c, long ms)
{
    while (ms > 0 && !http_client_cancelled(c)) {
        long slice = ms < 200 ? ms : 200;
        struct timespec ts = {slice / 1000, (slice % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        ms -= slice;
    }
}

/* libcurl's progress callback (about once a second while a transfer waits, more often while
 * it moves): a nonzero return aborts the transfer (CURLE_ABORTED_BY_CALLBACK). */
static int on_xferinfo(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return http_client_cancelled(arg);
}

/* Full jitter: a uniform wait in [0, min(max, base * 2^(attempt-1))]. */
static long backoff_ms(const struct http_client *c, int attempt)
{
    long cap = c->backoff_base;
    for (int i = 1; i < attempt && cap < c->backoff_max; i++)
        cap *= 2;
    if (cap > c->backoff_max)
        cap = c->backoff_max;
    return (long)randombytes_uniform((uint32_t)cap + 1);
}

static int retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

static int transfer_error(struct http_client *c, CURLcode cc, const struct xfer *x, int attempts,
                          struct op_err *e)
{
    if (cc == CURLE_ABORTED_BY_CALLBACK && http_client_cancelled(c))
        return cancelled_error(c, e);
    const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
    const char *check;
    const char *what;
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        what = "cannot resolve the host name";
        check = "check the root URL and the device's DNS";
        break;
    case CURLE_COULDNT_CONNECT:
        what = "cannot connect";
        check = "check that central runs and listens there, and the network and firewall "
                "between this device and it";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        what = "no answer in time";
        check = "check the network, and central's load";
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ISSUER_ERROR:
        what = "TLS failed: central's certificate is not trusted or the handshake failed";
        check = "check the CA file given for central, the certificate's host name, and the "
                "device's clock";
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        what = "unsupported protocol";
        check = "use an https:// or http:// root URL";
        break;
    default:
        what = "the transfer failed";
        check = "check the network and central";
        break;
    }
    if (x->failed)
        return err_set(e, OP_EIO, "central %s: %s", c->host, x->why);
    if (x->too_big)
        return err_set(e, OP_EIO,
                       "central %s: the reply is larger than the limit of %zu bytes: check the "
                       "root URL (is it central?) or raise the limit",
                       c->host, x->max_bytes ? (size_t)x->max_bytes : x->max);
    return err_set(e, OP_EIO, "central %s: %s (%s) after %d attempt%s: %s", c->host, what, detail,
                   attempts, attempts == 1 ? "" : "s", check);
}

/* Sets the handle up for one attempt and performs it. */
static CURLcode perform(struct http_client *c, const char *url, const char *content_type,
                        const void *body, size_t len, int is_post, const char *range, int download,
                        struct xfer *x)
{
    CURL *h = c->h;
    struct curl_slist *hdrs = NULL;
    char ct[HTTP_HEADER_MAX + 16];
    curl_easy_reset(h); /* keeps the connection cache, drops every option */
    c->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (c->cancel) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    }
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
    if (download) {
        /* a large package takes as long as it takes, but never stalls longer than a request */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (c->total_ms + 999) / 1000);
    } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->total_ms);
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, NULL);
    hdrs = curl_slist_append(hdrs, "Expect:");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (c->bearer)
        hdrs = curl_slist_append(hdrs, c->bearer);
    if (is_post) {
        snprintf(ct, sizeof ct, "Content-Type: %s",
                 content_type ? content_type : "application/octet-stream");
        hdrs = curl_slist_append(hdrs, ct);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    if (range)
        curl_easy_setopt(h, CURLOPT_RANGE, range);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = hdrs ? curl_easy_perform(h) : CURLE_OUT_OF_MEMORY;
    long status = 0;
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
        x->r->status = status;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    return cc;
}

/* Waits before attempt `next`: Retry-After when the server gave one, else backoff. Returns 0
 * to go on, -1 when the server asks for more than we wait (the reply is the answer). */
static int wait_before(struct http_client *c, const struct http_reply *r, int next)
{
    if (r->retry_after_s >= 0 && (r->status == 429 || r->status == 503)) {
        if (r->retry_after_s > c->retry_after_max)
            return -1;
        /* plus a little jitter, so devices told the same second do not come back together */
        sleep_ms(c, r->retry_after_s * 1000 + (long)randombytes_uniform(250));
        return 0;
    }
    sleep_ms(c, backoff_ms(c, next - 1));
    return 0;
}

static int request(struct http_client *c, const char *path, const char *content_type,
                   const void *body, size_t len, int is_post, struct http_reply *out,
                   struct op_err *e)
{
    memset(out, 0, sizeof *out);
    out->retry_after_s = -1;
    if (!path || path[0] != '/')
        return err_set(e, OP_EINPUT, "a request path must start with '/'");
    char url[HTTP_URL_MAX * 2];
    if ((size_t)snprintf(url, sizeof url, "%s%s", c->root, path) >= sizeof url)
        return err_set(e, OP_EINPUT, "a request URL is longer than %zu characters", sizeof url);
    for (int attempt = 1;; attempt++) {
        reply_reset(out);
        if (http_client_cancelled(c))
            return cancelled_error(c, e);
        out->attempts = attempt;
        struct xfer x = {.r = out, .max = c->max_response, .fd = -1, .range_start = -1};
        CURLcode cc = perform(c, url, content_type, body, len, is_post, NULL, 0, &x);
        if (cc != CURLE_OK) {
            if (!x.too_big && !x.failed && retryable(cc) && attempt < c->max_attempts) {
                sleep_ms(c, backoff_ms(c, attempt));
                continue;
            }
            int rc = transfer_error(c, cc, &x, attempt, e);
            reply_reset(out);
            return rc;
        }
        if ((out->status == 429 || out->status == 503) && attempt < c->max_attempts) {
            if (wait_before(c, out, attempt + 1) != 0)
                return 0;
            continue;
        }
        return 0;
    }
}

int http_get(struct http_client *c, const char *path_and_query, struct http_reply *out,
             struct op_err *e)
{
    return request(c, path_and_query, NULL, NULL, 0, 0, out, e);
}

int http_post(struct http_client *c, const char *path, const char *content_type, const void *body,
              size_t len, struct http_reply *out, struct op_err *e)
{
    return request(c, path, content_type, body, len, 1, out, e);
}

/* ---------------------------------------------------------------- downloads */

/* Hashes the first `upto` bytes of the file open on fd into hs (a fresh stream): the part of a
 * .part that an earlier attempt or run wrote before this one resumes it. */
static int hash_prefix(int fd, uint64_t upto, struct sha256_stream *hs, const char *path,
                       struct op_err *e)
{
    sha256_stream_init(hs);
    unsigned char chunk[65536];
    uint64_t at = 0;
    while (at < upto) {
        size_t want = upto - at < sizeof chunk ? (size_t)(upto - at) : sizeof chunk;
        ssize_t r = pread(fd, chunk, want, (off_t)at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_set(e, OP_EIO, "%s: cannot read it back: %s", path, strerror(errno));
        if (r == 0)
            return err_set(e, OP_EIO, "%s: shorter than %" PRIu64 " bytes", path, upto);
        sha256_stream_update(hs, chunk, (size_t)r);
        at += (uint64_t)r;
    }
    return 0;
}

/* The .part is complete as far as the server is concerned: check its hash (what the stream
 * `hs` holds, when it covers the whole file, else read back), then put it in place. A wrong
 * hash deletes it (the next try starts over). */
static int finish_download(int fd, const char *part, const char *dest, const char *want,
                           struct sha256_stream *hs, uint64_t hashed, int keep_on_mismatch,
                           struct op_err *e)
{
    char got[SHA256_HEX_LEN];
    struct stat st;
    if (fstat(fd, &st) != 0)
        return err_set(e, OP_EIO, "%s: %s", part, strerror(errno));
    if (hashed != (uint64_t)st.st_size) {
        int rc = hash_prefix(fd, (uint64_t)st.st_size, hs, part, e);
        if (rc != 0)
            return rc;
    }
    sha256_stream_final_hex(hs, got);
    if (strcmp(got, want) != 0) {
        if (keep_on_mismatch)
            return err_set(e, OP_ECRYPTO, "%s: not the expected bytes", part);
        unlink(part);
        return err_set(e, OP_ECRYPTO,
                       "%s: the downloaded bytes have SHA-256 %s, not the expected %s: deleted; "
                       "the next sync downloads it again (if it fails again, central's copy "
                       "or something between is at fault)",
                       dest, got, want);
    }
    if (fsync(fd) != 0)
        return err_set(e, OP_EIO, "%s: cannot sync it to disk: %s", part, strerror(errno));
    if (rename(part, dest) != 0)
        return err_set(e, OP_EIO, "cannot rename %s to %s: %s", part, dest, strerror(errno));
    fs_fsync_dir_of(dest);
    return 0;
}

int http_download(struct http_client *c, const char *path, const char *dest_path,
                  const char *expected_sha256_hex, uint64_t max_bytes, http_progress_fn progress,
                  void *progress_arg, struct op_err *e)
{
    if (!sha256_hex_is_valid(expected_sha256_hex))
        return err_set(e, OP_EINPUT,
                       "a download's expected SHA-256 must be 64 lower-case hex "
                       "digits");
    if (!path || path[0] != '/')
        return err_set(e, OP_EINPUT, "a request path must start with '/'");
    char url[HTTP_URL_MAX * 2];
    if ((size_t)snprintf(url, sizeof url, "%s%s", c->root, path) >= sizeof url)
        return err_set(e, OP_EINPUT, "a request URL is longer than %zu characters", sizeof url);
    size_t pl = strlen(dest_path) + sizeof ".part";
    char *part = malloc(pl);
    if (!part)
        return err_set(e, OP_ENOMEM, "out of memory");
    snprintf(part, pl, "%s.part", dest_path);
    int fd = open(part, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        int rc = err_set(e, OP_EIO,
                         "%s: cannot open it: %s (check the folder's space and "
                         "permissions)",
                         part, strerror(errno));
        free(part);
        return rc;
    }
    struct http_reply r = {0};
    int rc = 0;
    int restarted = 0;
    struct sha256_stream hs; /* of the .part's bytes [0, hashed) */
    uint64_t hashed = 0;
    sha256_stream_init(&hs);
    for (int attempt = 1;; attempt++) {
        if (http_client_cancelled(c)) {
            rc = cancelled_error(c, e);
            break;
        }
        struct stat st;
        if (fstat(fd, &st) != 0) {
            rc = err_set(e, OP_EIO, "%s: %s", part, strerror(errno));
            break;
        }
        uint64_t have = (uint64_t)st.st_size;
        if (max_bytes && have > max_bytes) { /* a .part larger than allowed: start over */
            if (ftruncate(fd, 0) != 0) {
                rc = err_set(e, OP_EIO, "%s: cannot truncate: %s", part, strerror(errno));
                break;
            }
            have = 0;
        }
        if (hashed != have) { /* a .part from before, or one cut short: its bytes first */
            rc = hash_prefix(fd, have, &hs, part, e);
            if (rc != 0)
                break;
            hashed = have;
        }
        char range[32];
        snprintf(range, sizeof range, "%" PRIu64 "-", have);
        reply_reset(&r);
        struct xfer x = {.r = &r,
                         .max = DOWNLOAD_ERROR_BODY,
                         .fd = fd,
                         .offset = have,
                         .max_bytes = max_bytes,
                         .range_start = -1,
                         .progress = progress,
                         .progress_arg = progress_arg,
                         .hs = &hs,
                         .hashed = &hashed};
        CURLcode cc = perform(c, url, NULL, NULL, 0, 0, have > 0 ? range : NULL, 1, &x);
        if (cc != CURLE_OK) {
            if (x.too_big && x.to_file) {
                unlink(part);
                rc = err_set(e, OP_EIO,
                             "central %s: %s is larger than the limit of %" PRIu64
                             " bytes: deleted (check the delivery on central)",
                             c->host, path, max_bytes);
                break;
            }
            if (!x.too_big && !x.failed && retryable(cc) && attempt < c->max_attempts) {
                sleep_ms(c, backoff_ms(c, attempt));
                continue;
            }
            rc = transfer_error(c, cc, &x, attempt, e);
            break;
        }
        if (r.status == 200 || r.status == 206) {
            if (r.status == 200 && !x.started && have > 0 && ftruncate(fd, 0) != 0) {
                rc = err_set(e, OP_EIO, "%s: cannot truncate: %s", part, strerror(errno));
                break;
            }
            rc = finish_download(fd, part, dest_path, expected_sha256_hex, &hs, hashed, 0, e);
            break;
        }
        if (r.status == 416) {
            /* nothing after `have`: the .part holds everything, or more than there is */
            struct op_err tmp;
            err_clear(&tmp);
            if (finish_download(fd, part, dest_path, expected_sha256_hex, &hs, hashed, 1, &tmp) ==
                0) {
                rc = 0;
                break;
            }
            sha256_stream_init(&hs); /* finish_download ended it; the .part starts over */
            hashed = 0;
            if (restarted || ftruncate(fd, 0) != 0) {
                rc = err_set(e, OP_EIO,
                             "central %s: %s: range not satisfiable for %" PRIu64
                             " bytes already here, and starting over failed",
                             c->host, path, have);
                break;
            }
            restarted = 1;
            continue;
        }
        if ((r.status == 429 || r.status == 503) && attempt < c->max_attempts) {
            if (wait_before(c, &r, attempt + 1) == 0)
                continue;
        }
        rc =
            err_set(e, OP_EIO,
                    "central %s: GET %s answered %ld%s%.200s (the partial file "
                    "stays for the next try)",
                    c->host, path, r.status, r.body.len ? ": " : "", r.body.len ? r.body.data : "");
        break;
    }
    close(fd);
    http_reply_free(&r);
    free(part);
    return rc;
}
