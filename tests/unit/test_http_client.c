/* test_http_client.c - the device's HTTP client (src/http/client.h) against a libmicrohttpd
 * server started in this process: requests and replies, the bearer header, retries (503 with
 * Retry-After obeyed, never a 400), the response limit, a server that never answers, no
 * redirect followed, and resumable, hash-checked downloads. */
#include "testutil.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/sha256.h"
#include "http/client.h"

/* ---------------------------------------------------------------- the server */

#define BLOB_SIZE 200000

static struct {
    struct MHD_Daemon *d;
    unsigned port;
    int busy_left;    /* /busy answers 503 (Retry-After: 1) this many times */
    int requests;     /* every request */
    char auth[256];   /* the last Authorization header */
    char range[64];   /* the last Range header of /blob ("" when none) */
    int cut_next;     /* the next /blob reply stops half-way */
    int ignore_range; /* /blob answers 200 whole to a Range */
    unsigned char blob[BLOB_SIZE];
} srv;

struct upload {
    char data[4096];
    size_t len;
};

struct blob_reader {
    size_t start; /* the first byte sent */
    size_t stop;  /* cut: stop sending at this absolute offset; BLOB_SIZE when not cut */
};

static ssize_t blob_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct blob_reader *br = cls;
    size_t at = br->start + (size_t)pos;
    if (at >= br->stop)
        return br->stop < BLOB_SIZE ? MHD_CONTENT_READER_END_WITH_ERROR
                                    : MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = br->stop - at;
    if (n > max)
        n = max;
    if (n > 4096) /* small pieces, so that a cut falls after some bytes are sent */
        n = 4096;
    memcpy(out, srv.blob + at, n);
    return (ssize_t)n;
}

static enum MHD_Result send_text(struct MHD_Connection *con, unsigned status, const char *text,
                                 const char *hname, const char *hvalue)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "text/plain");
    if (hname)
        MHD_add_response_header(r, hname, hvalue);
    enum MHD_Result ret = MHD_queue_response(con, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result serve_blob(struct MHD_Connection *con)
{
    const char *range = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Range");
    snprintf(srv.range, sizeof srv.range, "%s", range ? range : "");
    size_t start = 0;
    unsigned status = 200;
    if (range && !srv.ignore_range) {
        unsigned long long a;
        if (sscanf(range, "bytes=%llu-", &a) != 1)
            return send_text(con, 400, "bad range", NULL, NULL);
        if (a >= BLOB_SIZE) {
            char cr[64];
            snprintf(cr, sizeof cr, "bytes */%d", BLOB_SIZE);
            return send_text(con, 416, "", "Content-Range", cr);
        }
        start = (size_t)a;
        status = 206;
    }
    struct blob_reader *br = malloc(sizeof *br);
    br->start = start;
    br->stop = BLOB_SIZE;
    if (srv.cut_next) {
        srv.cut_next = 0;
        br->stop = start + (BLOB_SIZE - start) / 2;
    }
    struct MHD_Response *r =
        MHD_create_response_from_callback(BLOB_SIZE - start, 4096, blob_read, br, free);
    if (status == 206) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %zu-%d/%d", start, BLOB_SIZE - 1, BLOB_SIZE);
        MHD_add_response_header(r, "Content-Range", cr);
    }
    enum MHD_Result ret = MHD_queue_response(con, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    if (strcmp(method, "POST") == 0) {
        if (!*con_cls) {
            *con_cls = calloc(1, sizeof(struct upload));
            return MHD_YES;
        }
        struct upload *u = *con_cls;
        if (*upload_size) {
            size_t n = *upload_size;
            if (n > sizeof u->data - u->len)
                n = sizeof u->data - u->len;
            memcpy(u->data + u->len, upload_data, n);
            u->len += n;
            *upload_size = 0;
            return MHD_YES;
        }
    }
    srv.requests++;
    const char *auth = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization");
    snprintf(srv.auth, sizeof srv.auth, "%s", auth ? auth : "");
    if (strcmp(url, "/root/hello") == 0)
        return send_text(con, 200, "hello", NULL, NULL);
    if (strcmp(url, "/root/echo") == 0) {
        struct upload *u = *con_cls;
        char text[4200];
        const char *ct = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Type");
        snprintf(text, sizeof text, "%s|%.*s", ct ? ct : "", u ? (int)u->len : 0, u ? u->data : "");
        return send_text(con, 200, text, NULL, NULL);
    }
    if (strcmp(url, "/root/busy") == 0) {
        if (srv.busy_left > 0) {
            srv.busy_left--;
            return send_text(con, 503, "busy", "Retry-After", "1");
        }
        return send_text(con, 200, "done", NULL, NULL);
    }
    if (strcmp(url, "/root/busylong") == 0)
        return send_text(con, 429, "slow down", "Retry-After", "3600");
    if (strcmp(url, "/root/busydate") == 0) { /* an HTTP-date two hours ahead */
        char date[64];
        time_t later = time(NULL) + 7200;
        struct tm tm;
        gmtime_r(&later, &tm);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        return send_text(con, 429, "slow down", "Retry-After", date);
    }
    if (strcmp(url, "/root/busypast") == 0) {
        if (srv.busy_left > 0) {
            srv.busy_left--;
            return send_text(con, 503, "busy", "Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT");
        }
        return send_text(con, 200, "done", NULL, NULL);
    }
    if (strcmp(url, "/root/bad") == 0)
        return send_text(con, 400, "{\"error\":\"bad\"}", "WWW-Authenticate",
                         "Bearer error=\"invalid_request\"");
    if (strcmp(url, "/root/big") == 0) {
        static char big[100000];
        memset(big, 'x', sizeof big - 1);
        return send_text(con, 200, big, NULL, NULL);
    }
    if (strcmp(url, "/root/redirect") == 0)
        return send_text(con, 302, "moved", "Location", "/root/hello");
    if (strcmp(url, "/root/blob") == 0)
        return serve_blob(con);
    return send_text(con, 404, "not found", NULL, NULL);
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static int server_start(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof srv);
    for (size_t i = 0; i < BLOB_SIZE; i++)
        srv.blob[i] = (unsigned char)(i * 7 + i / 251);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                             NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    assert_non_null(srv.d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    srv.port = info->port;
    return 0;
}

static int server_stop(void **state)
{
    (void)state;
    MHD_stop_daemon(srv.d);
    return 0;
}

/* A client of the test server's /root prefix, written the way an operator might (slashes). */
static struct http_client *client(int attempts, long total_ms)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/root//", srv.port);
    struct http_client_options o = {.root_url = url,
                                    .user_agent = "outpost/test",
                                    .max_attempts = attempts,
                                    .backoff_base_ms = 20,
                                    .backoff_max_ms = 100,
                                    .total_timeout_ms = total_ms,
                                    .connect_timeout_ms = 2000,
                                    .max_response_bytes = 50000};
    struct op_err e = {0};
    struct http_client *c = http_client_new(&o, &e);
    assert_non_null(c);
    return c;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- requests */

static void test_http_get_and_post_return_status_body_and_headers(void **state)
{
    (void)state;
    struct http_client *c = client(1, 5000);
    assert_non_null(strstr(http_client_root(c), "/root"));
    assert_true(http_client_root(c)[strlen(http_client_root(c)) - 1] != '/');
    struct http_reply r;
    struct op_err e = {0};
    assert_int_equal(http_get(c, "/hello", &r, &e), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "hello");
    assert_string_equal(r.content_type, "text/plain");
    assert_int_equal(r.attempts, 1);
    http_reply_free(&r);
    assert_int_equal(http_post(c, "/echo", "application/json", "{\"a\":1}", 7, &r, &e), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "application/json|{\"a\":1}");
    http_reply_free(&r);
    /* a 404 is a reply, not an error: the caller judges it */
    assert_int_equal(http_get(c, "/nothing", &r, &e), 0);
    assert_int_equal(r.status, 404);
    http_reply_free(&r);
    http_client_free(c);
}

static void test_http_bearer_header_is_sent_until_cleared(void **state)
{
    (void)state;
    struct http_client *c = client(1, 5000);
    struct http_reply r;
    struct op_err e = {0};
    assert_int_equal(http_client_set_bearer(c, "tok-123", &e), 0);
    assert_int_equal(http_get(c, "/hello", &r, &e), 0);
    assert_string_equal(srv.auth, "Bearer tok-123");
    http_reply_free(&r);
    assert_int_equal(http_client_set_bearer(c, NULL, &e), 0);
    assert_int_equal(http_get(c, "/hello", &r, &e), 0);
    assert_string_equal(srv.auth, "");
    http_reply_free(&r);
    /* a token that would split the header is refused */
    assert_int_equal(http_client_set_bearer(c, "a\r\nX-Evil: 1", &e), OP_EINPUT);
    http_client_free(c);
}

static void test_http_503_is_retried_obeying_retry_after(void **state)
{
    (void)state;
    struct http_client *c = client(3, 5000);
    struct http_reply r;
    struct op_err e = {0};
    srv.busy_left = 1;
    double t0 = now_s();
    assert_int_equal(http_get(c, "/busy", &r, &e), 0);
    double took = now_s() - t0;
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 2);
    assert_true(took >= 1.0); /* Retry-After: 1, not the 20 ms backoff */
    http_reply_free(&r);
    /* still busy after every attempt: the last 503 is the answer */
    srv.busy_left = 5;
    assert_int_equal(http_get(c, "/busy", &r, &e), 0);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.retry_after_s, 1);
    assert_int_equal(r.attempts, 3);
    http_reply_free(&r);
    srv.busy_left = 0;
    http_client_free(c);
}

static void test_http_retry_after_longer_than_the_cap_is_returned_at_once(void **state)
{
    (void)state;
    struct http_client *c = client(3, 5000);
    struct http_reply r;
    struct op_err e = {0};
    int before = srv.requests;
    assert_int_equal(http_get(c, "/busylong", &r, &e), 0);
    assert_int_equal(r.status, 429);
    assert_int_equal(r.retry_after_s, 3600);
    assert_int_equal(srv.requests - before, 1);
    http_reply_free(&r);
    http_client_free(c);
}

static void test_http_retry_after_as_an_http_date_is_obeyed(void **state)
{
    (void)state;
    struct http_client *c = client(3, 5000);
    struct http_reply r;
    struct op_err e = {0};
    int before = srv.requests;
    /* two hours ahead: more than the cap (DEFAULT_RETRY_AFTER), so the answer at once */
    assert_int_equal(http_get(c, "/busydate", &r, &e), 0);
    assert_int_equal(r.status, 429);
    assert_true(r.retry_after_s > 7100 && r.retry_after_s <= 7200);
    assert_int_equal(srv.requests - before, 1);
    http_reply_free(&r);
    /* a date already past: wait 0 and try again */
    srv.busy_left = 1;
    before = srv.requests;
    assert_int_equal(http_get(c, "/busypast", &r, &e), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(srv.requests - before, 2);
    http_reply_free(&r);
    srv.busy_left = 0;
    http_client_free(c);
}

static void test_http_400_is_never_retried(void **state)
{
    (void)state;
    struct http_client *c = client(5, 5000);
    struct http_reply r;
    struct op_err e = {0};
    int before = srv.requests;
    assert_int_equal(http_post(c, "/bad", "application/json", "{}", 2, &r, &e), 0);
    assert_int_equal(r.status, 400);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(srv.requests - before, 1);
    assert_string_equal(r.www_authenticate, "Bearer error=\"invalid_request\"");
    http_reply_free(&r);
    http_client_free(c);
}

static void test_http_reply_over_the_limit_fails(void **state)
{
    (void)state;
    struct http_client *c = client(3, 5000);
    struct http_reply r;
    struct op_err e = {0};
    int before = srv.requests;
    assert_int_equal(http_get(c, "/big", &r, &e), OP_EIO);
    assert_non_null(strstr(e.msg, "larger than the limit of 50000 bytes"));
    assert_int_equal(srv.requests - before, 1); /* not retried */
    http_reply_free(&r);
    http_client_free(c);
}

static void test_http_redirect_is_not_followed(void **state)
{
    (void)state;
    struct http_client *c = client(1, 5000);
    struct http_reply r;
    struct op_err e = {0};
    assert_int_equal(http_get(c, "/redirect", &r, &e), 0);
    assert_int_equal(r.status, 302);
    assert_string_equal(r.body.data, "moved");
    http_reply_free(&r);
    http_client_free(c);
}

static void test_http_server_that_never_answers_times_out(void **state)
{
    (void)state;
    /* a socket that listens and never accepts: the kernel completes the connection, no one
     * ever reads the request */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(s, 4), 0);
    socklen_t sl = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &sl);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(sa.sin_port));
    struct http_client_options o = {.root_url = url,
                                    .max_attempts = 2,
                                    .backoff_base_ms = 10,
                                    .total_timeout_ms = 300,
                                    .connect_timeout_ms = 300};
    struct op_err e = {0};
    struct http_client *c = http_client_new(&o, &e);
    assert_non_null(c);
    struct http_reply r;
    double t0 = now_s();
    assert_int_equal(http_get(c, "/api/v1/health", &r, &e), OP_EIO);
    assert_true(now_s() - t0 < 5.0);
    assert_non_null(strstr(e.msg, "127.0.0.1"));
    assert_non_null(strstr(e.msg, "no answer in time"));
    assert_non_null(strstr(e.msg, "after 2 attempts"));
    http_reply_free(&r);
    http_client_free(c);
    close(s);
}

static void test_http_connection_refused_names_host_and_what_to_check(void **state)
{
    (void)state;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &sl);
    close(s); /* a port no one listens on */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", ntohs(sa.sin_port));
    struct http_client_options o = {.root_url = url, .max_attempts = 3, .backoff_base_ms = 10};
    struct op_err e = {0};
    struct http_client *c = http_client_new(&o, &e);
    struct http_reply r;
    assert_int_equal(http_get(c, "/api/v1/health", &r, &e), OP_EIO);
    assert_non_null(strstr(e.msg, "cannot connect"));
    assert_non_null(strstr(e.msg, "after 3 attempts"));
    assert_non_null(strstr(e.msg, "check that central runs"));
    assert_int_equal(r.attempts, 3);
    http_reply_free(&r);
    http_client_free(c);
}

static void test_http_client_refuses_a_bad_root_url(void **state)
{
    (void)state;
    struct http_client_options o = {.root_url = "ftp://central.example.org"};
    struct op_err e = {0};
    assert_null(http_client_new(&o, &e));
    assert_int_equal(e.code, OP_EINPUT);
}

/* ---------------------------------------------------------------- downloads */

static char *blob_sha(void)
{
    static char hex[SHA256_HEX_LEN];
    sha256_hex(srv.blob, BLOB_SIZE, hex);
    return hex;
}

static void assert_file_is_blob(const char *path)
{
    char *data;
    size_t len;
    struct op_err e = {0};
    assert_int_equal(fs_read_file(path, BLOB_SIZE * 2, &data, &len, &e), 0);
    assert_int_equal(len, BLOB_SIZE);
    assert_memory_equal(data, srv.blob, BLOB_SIZE);
    free(data);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static uint64_t progress_last;
static void on_progress(void *arg, uint64_t have, uint64_t total)
{
    (void)arg;
    (void)total;
    progress_last = have;
}

static void test_http_download_resumes_after_a_cut(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *dest = fs_join(dir, "pkg.zip");
    char *part = fs_join(dir, "pkg.zip.part");
    struct op_err e = {0};
    /* one attempt: the cut fails the call and leaves half in the .part */
    struct http_client *c = client(1, 5000);
    srv.cut_next = 1;
    assert_int_equal(http_download(c, "/blob", dest, blob_sha(), 0, NULL, NULL, &e), OP_EIO);
    off_t half = file_size(part);
    assert_true(half > 0 && half < BLOB_SIZE);
    assert_int_equal(file_size(dest), -1);
    /* the next call asks for the rest only */
    progress_last = 0;
    assert_int_equal(http_download(c, "/blob", dest, blob_sha(), 0, on_progress, NULL, &e), 0);
    char want[64];
    snprintf(want, sizeof want, "bytes=%lld-", (long long)half);
    assert_string_equal(srv.range, want);
    assert_int_equal(progress_last, BLOB_SIZE);
    assert_file_is_blob(dest);
    assert_int_equal(file_size(part), -1);
    http_client_free(c);
    unlink(dest);

    /* with retries, a cut is resumed within one call */
    c = client(3, 5000);
    srv.cut_next = 1;
    assert_int_equal(http_download(c, "/blob", dest, blob_sha(), 0, NULL, NULL, &e), 0);
    assert_true(strncmp(srv.range, "bytes=", 6) == 0);
    assert_file_is_blob(dest);
    http_client_free(c);
    free(dest);
    free(part);
    testutil_rmdir(dir);
}

static void test_http_download_200_to_a_range_starts_over(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *dest = fs_join(dir, "pkg.zip");
    char *part = testutil_write(dir, "pkg.zip.part", "garbage that is not the start");
    struct op_err e = {0};
    struct http_client *c = client(1, 5000);
    srv.ignore_range = 1;
    assert_int_equal(http_download(c, "/blob", dest, blob_sha(), 0, NULL, NULL, &e), 0);
    srv.ignore_range = 0;
    assert_file_is_blob(dest);
    http_client_free(c);
    free(dest);
    free(part);
    testutil_rmdir(dir);
}

static void test_http_download_416_with_a_complete_part_renames_it(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *dest = fs_join(dir, "pkg.zip");
    char *part = fs_join(dir, "pkg.zip.part");
    struct op_err e = {0};
    assert_int_equal(fs_write_atomic(part, srv.blob, BLOB_SIZE, 0600, &e), 0);
    struct http_client *c = client(1, 5000);
    assert_int_equal(http_download(c, "/blob", dest, blob_sha(), 0, NULL, NULL, &e), 0);
    assert_file_is_blob(dest);
    assert_int_equal(file_size(part), -1);
    http_client_free(c);
    free(dest);
    free(part);
    testutil_rmdir(dir);
}

static void test_http_download_with_a_wrong_hash_deletes_the_part(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *dest = fs_join(dir, "pkg.zip");
    char *part = fs_join(dir, "pkg.zip.part");
    struct op_err e = {0};
    struct http_client *c = client(1, 5000);
    char wrong[SHA256_HEX_LEN];
    sha256_hex("other", 5, wrong);
    assert_int_equal(http_download(c, "/blob", dest, wrong, 0, NULL, NULL, &e), OP_ECRYPTO);
    assert_non_null(strstr(e.msg, wrong));
    assert_int_equal(file_size(part), -1);
    assert_int_equal(file_size(dest), -1);
    /* a bad expected hash is refused before any request */
    assert_int_equal(http_download(c, "/blob", dest, "ABC", 0, NULL, NULL, &e), OP_EINPUT);
    http_client_free(c);
    free(dest);
    free(part);
    testutil_rmdir(dir);
}

/* The hash is taken while the bytes arrive; a resumed .part's earlier bytes are read back
 * into it first, so a .part altered before the resume is caught, not trusted. */
static void test_http_download_resumed_over_an_altered_part_is_refused(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *dest = fs_join(dir, "pkg.zip");
    char *part = fs_join(dir, "pkg.zip.part");
    struct op_err e = {0};
    char *half = malloc(BLOB_SIZE / 2);
    assert_non_null(half);
    memcpy(half, srv.blob, BLOB_SIZE / 2);
    half[100] ^= 1;
    assert_int_equal(fs_write_atomic(part, half, BLOB_SIZE / 2, 0600, &e), 0);
    struct http_client *c = client(1, 5000);
    assert_int_equal(http_download(c, "/blob", dest, blob_sha(), 0, NULL, NULL, &e), OP_ECRYPTO);
    char want[64];
    snprintf(want, sizeof want, "bytes=%d-", BLOB_SIZE / 2);
    assert_string_equal(srv.range, want); /* it was a resume */
    assert_int_equal(file_size(part), -1);
    assert_int_equal(file_size(dest), -1);
    /* the next try starts over and gets the right bytes */
    assert_int_equal(http_download(c, "/blob", dest, blob_sha(), 0, NULL, NULL, &e), 0);
    assert_file_is_blob(dest);
    http_client_free(c);
    free(half);
    free(dest);
    free(part);
    testutil_rmdir(dir);
}

static void test_http_download_over_max_bytes_fails_and_deletes_the_part(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *dest = fs_join(dir, "pkg.zip");
    char *part = fs_join(dir, "pkg.zip.part");
    struct op_err e = {0};
    struct http_client *c = client(3, 5000);
    assert_int_equal(http_download(c, "/blob", dest, blob_sha(), 1000, NULL, NULL, &e), OP_EIO);
    assert_non_null(strstr(e.msg, "larger than the limit"));
    assert_int_equal(file_size(part), -1);
    assert_int_equal(file_size(dest), -1);
    /* an error status names it and keeps nothing */
    assert_int_equal(http_download(c, "/missing", dest, blob_sha(), 0, NULL, NULL, &e), OP_EIO);
    assert_non_null(strstr(e.msg, "answered 404"));
    http_client_free(c);
    free(dest);
    free(part);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_get_and_post_return_status_body_and_headers),
        cmocka_unit_test(test_http_bearer_header_is_sent_until_cleared),
        cmocka_unit_test(test_http_503_is_retried_obeying_retry_after),
        cmocka_unit_test(test_http_retry_after_as_an_http_date_is_obeyed),
        cmocka_unit_test(test_http_retry_after_longer_than_the_cap_is_returned_at_once),
        cmocka_unit_test(test_http_400_is_never_retried),
        cmocka_unit_test(test_http_reply_over_the_limit_fails),
        cmocka_unit_test(test_http_redirect_is_not_followed),
        cmocka_unit_test(test_http_server_that_never_answers_times_out),
        cmocka_unit_test(test_http_connection_refused_names_host_and_what_to_check),
        cmocka_unit_test(test_http_client_refuses_a_bad_root_url),
        cmocka_unit_test(test_http_download_resumes_after_a_cut),
        cmocka_unit_test(test_http_download_200_to_a_range_starts_over),
        cmocka_unit_test(test_http_download_416_with_a_complete_part_renames_it),
        cmocka_unit_test(test_http_download_with_a_wrong_hash_deletes_the_part),
        cmocka_unit_test(test_http_download_resumed_over_an_altered_part_is_refused),
        cmocka_unit_test(test_http_download_over_max_bytes_fails_and_deletes_the_part),
    };
    return cmocka_run_group_tests(tests, server_start, server_stop);
}
