/*
 * test_http_api.c - central's sync endpoints (docs/protocol.md) end to end in one process: the
 * server (src/http) started on a free port of 127.0.0.1 over a real central (SQLite, or
 * PostgreSQL as pg/unit/test_http_api) with two organisations, spoken to with the project's
 * own HTTP client (http/client.h), and with plain sockets where a test needs a header the
 * client does not send (Basic, Range) or the answer byte for byte.
 */
#include "instance_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/devices.h"
#include "app/sync_report.h"
#include "crypto/envelope.h"
#include "envelope_fixture.h"
#include "store/delivery_content.h"
#include "store/feed.h"
#include "sync/batch.h"
#include "sync/receipts.h"
#include "app/testcenters.h"
#include "app/users.h"
#include "auth/enrol.h"
#include "base/clock.h"
#include "http/api.h"
#include "http/client.h"
#include "http/server.h"
#include "sync/page.h"

#define PW    "sync-manager-password"
#define DEV_A "0b6f4a57-1c1e-4d0e-9d3b-5a4e0f7c2d11"
#define DEV_B "1c7f5b68-2d2f-4e1f-8e4c-6b5f1a8d3e22"

/* ---- plain sockets ---- */

struct reply {
    int status;
    char head[8192];
    char body[65536];
    size_t body_len;
};

static int connect_to(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

static void read_reply(int fd, struct reply *r)
{
    static char raw[sizeof r->head + sizeof r->body];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof raw - 1 && (n = recv(fd, raw + len, sizeof raw - 1 - len, 0)) > 0)
        len += (size_t)n;
    raw[len] = '\0';
    memset(r, 0, sizeof *r);
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

/* Sends `request` (Connection: close) and reads the whole answer. */
static void exchange(unsigned port, const char *request, struct reply *r)
{
    int fd = connect_to(port);
    send_all(fd, request, strlen(request));
    read_reply(fd, r);
    close(fd);
}

static const char *header(const struct reply *r, const char *name)
{
    static char value[1024];
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

/* The head without its Date and X-Request-Id lines (which differ between any two answers). */
static void stable_head(const struct reply *r, char *out, size_t cap)
{
    out[0] = '\0';
    size_t used = 0;
    for (const char *p = r->head; *p;) {
        size_t l = strcspn(p, "\r\n");
        if (strncasecmp(p, "Date:", 5) != 0 && strncasecmp(p, "X-Request-Id:", 13) != 0)
            used += (size_t)snprintf(out + used, cap - used, "%.*s\n", (int)l, p);
        p += l;
        while (*p == '\r' || *p == '\n')
            p++;
    }
}

/* ---- the fixture: a central with two organisations, and its server ---- */

struct fx {
    struct instance *inst;
    char *dir;
    struct http_server *srv;
    unsigned port;
    char url[128];
    time_t now;
    struct key key_a, key_b; /* the devices' signing keys */
    unsigned char *dev_pk_a, *dev_pk_b;
    char center_a[UUID_STR_LEN], center_b[UUID_STR_LEN];
    char enc_a[SHA256_HEX_LEN], enc_b[SHA256_HEX_LEN]; /* the packages of D-A and D-B */
    unsigned char pkg_a[300000];
};

static void add_user(struct instance *inst, const char *login, const char *role, const char *org)
{
    struct op_err e = {0};
    struct app_user_new u = {login, role, org, NULL, NULL, NULL, NULL, NULL};
    if (app_users_add(inst, &u, PW, strlen(PW), NULL, &e) != 0)
        fail_msg("app_users_add %s: %s", login, e.msg);
}

static void add_center(struct instance *inst, const char *label, const char *org,
                       char id[UUID_STR_LEN])
{
    struct op_err e = {0};
    struct app_center_new c = {label, org, NULL};
    struct test_center out;
    memset(&out, 0, sizeof out);
    if (app_testcenters_add(inst, &c, &out, NULL, &e) != 0)
        fail_msg("app_testcenters_add: %s", e.msg);
    snprintf(id, UUID_STR_LEN, "%s", out.id);
    test_center_clear(&out);
}

/* A device's signing key, made as `outpost setup` makes it on a device. */
static void device_key(struct fx *f, const char *name, struct key *out)
{
    char *dir = fs_join(f->dir, name);
    struct op_err e = {0};
    if (keys_setup_device(dir, NULL, &e) != 0 || keys_load_device_signing(dir, out, &e) != 0)
        fail_msg("device keys: %s", e.msg);
    free(dir);
}

/* A delivery (id = a new UUID) eligible at `center`, with an "encrypted package" of the
 * given bytes in DIR/packages/enc, and everything brought into the change feed. */
static void add_delivery(struct fx *f, const char *label, const char *center,
                         const unsigned char *bytes, size_t len, char enc[SHA256_HEX_LEN])
{
    char id[UUID_STR_LEN], elig[UUID_STR_LEN];
    uuid_generate(id);
    uuid_generate(elig);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO deliveries (id, label, created_at, updated_at) VALUES"
             " ('%s', '%s', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z');"
             "INSERT INTO eligibilities (id, center_id, delivery_id, created_at, updated_at) VALUES"
             " ('%s', '%s', '%s', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z');",
             id, label, elig, center, id);
    struct db *db = f->inst->db;
    struct op_err e = {0};
    if (db_begin(db, &e) != 0 || db_exec(db, sql, &e) != 0)
        fail_msg("delivery: %s", e.msg);
    sha256_hex(bytes, len, enc);
    struct delivery_content c;
    memset(&c, 0, sizeof c);
    snprintf(c.delivery_id, sizeof c.delivery_id, "%s", id);
    c.version = 1;
    snprintf(c.package_sha256, sizeof c.package_sha256, "%s", enc);
    snprintf(c.enc_sha256, sizeof c.enc_sha256, "%s", enc);
    c.enc_size = (int64_t)len;
    c.wrapped_len = 72;
    randombytes_buf(c.wrapped_key, c.wrapped_len);
    snprintf(c.master_key_id, sizeof c.master_key_id, "0123456789abcdef");
    if (delivery_content_insert(db, &c, &e) != 0 ||
        feed_touch(db, FEED_ELIGIBILITY, elig, &e) != 0 ||
        feed_touch(db, FEED_DELIVERY, id, &e) != 0 || db_commit(db, &e) != 0)
        fail_msg("delivery content: %s", e.msg);
    char *encdir = instance_path(f->inst, "packages/enc");
    fs_mkdir_p(encdir, 0700, &e);
    char *file = fs_join(encdir, enc);
    FILE *fp = fopen(file, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, len, fp), len);
    fclose(fp);
    free(file);
    free(encdir);
}

static struct fx *start_with(void **state, unsigned threads, unsigned max_in_flight)
{
    struct fx *f = calloc(1, sizeof *f);
    f->inst = fx_instance("central", &f->dir);
    f->now = time(NULL);
    clock_set(&(struct op_clock){clock_fixed, &f->now});
    device_key(f, "dev-a", &f->key_a);
    device_key(f, "dev-b", &f->key_b);
    f->dev_pk_a = f->key_a.public_key;
    f->dev_pk_b = f->key_b.public_key;
    add_user(f->inst, "sm-a", "sync-manager", "ORG-A");
    add_user(f->inst, "sm-b", "sync-manager", "ORG-B");
    add_user(f->inst, "proctor-a", "proctor", NULL);
    add_center(f->inst, "Center A", "ORG-A", f->center_a);
    add_center(f->inst, "Center B", "ORG-B", f->center_b);
    randombytes_buf(f->pkg_a, sizeof f->pkg_a);
    add_delivery(f, "D-A", f->center_a, f->pkg_a, sizeof f->pkg_a, f->enc_a);
    unsigned char pkg_b[1000];
    randombytes_buf(pkg_b, sizeof pkg_b);
    add_delivery(f, "D-B", f->center_b, pkg_b, sizeof pkg_b, f->enc_b);
    struct http_server_options o;
    http_server_options_default(&o);
    o.listen = "127.0.0.1:0";
    o.threads = threads;
    o.max_in_flight = max_in_flight;
    struct op_err e = {0};
    if (http_server_start(f->inst, &o, &f->srv, &e) != 0)
        fail_msg("http_server_start: %s", e.msg);
    f->port = http_server_port(f->srv);
    snprintf(f->url, sizeof f->url, "%s", http_server_url(f->srv));
    *state = f;
    return f;
}

static int setup(void **state)
{
    start_with(state, 2, HTTP_DEFAULT_MAX_IN_FLIGHT);
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f) {
        http_server_stop(f->srv);
        key_wipe(&f->key_a);
        key_wipe(&f->key_b);
        clock_set(NULL);
        instance_close(f->inst);
        testutil_rmdir(f->dir);
        free(f);
    }
    return 0;
}

/* A client of the server that tries once (the tests judge every 429 and 503 themselves). */
static struct http_client *client(struct fx *f)
{
    struct http_client_options o;
    memset(&o, 0, sizeof o);
    o.root_url = f->url;
    o.max_attempts = 1;
    struct op_err e = {0};
    struct http_client *c = http_client_new(&o, &e);
    if (!c)
        fail_msg("http_client_new: %s", e.msg);
    return c;
}

static char *enrol_body(const char *login, const char *pw, const char *dev,
                        const unsigned char pk[KEY_PUBLIC_BYTES])
{
    struct enrol_request r;
    memset(&r, 0, sizeof r);
    snprintf(r.login, sizeof r.login, "%s", login);
    snprintf(r.password, sizeof r.password, "%s", pw);
    snprintf(r.device_id, sizeof r.device_id, "%s", dev);
    snprintf(r.label, sizeof r.label, "Laptop");
    memcpy(r.signing_public_key, pk, KEY_PUBLIC_BYTES);
    char *json = enrol_request_json(&r);
    enrol_request_wipe(&r);
    return json;
}

/* POST /api/v1/enrol; the reply is the caller's to free. */
static void post_enrol(struct fx *f, const char *login, const char *pw, const char *dev,
                       const unsigned char *pk, struct http_reply *out)
{
    struct http_client *c = client(f);
    char *body = enrol_body(login, pw, dev, pk);
    struct op_err e = {0};
    if (http_post(c, "/api/v1/enrol", "application/json", body, strlen(body), out, &e) != 0)
        fail_msg("POST enrol: %s", e.msg);
    free(body);
    http_client_free(c);
}

static void enrol_ok(struct fx *f, const char *login, const char *dev, const unsigned char *pk,
                     struct enrol_response *out)
{
    struct http_reply r;
    post_enrol(f, login, PW, dev, pk, &r);
    if (r.status != 201)
        fail_msg("enrol: %ld %.*s", r.status, (int)r.body.len, r.body.data);
    struct op_err e = {0};
    if (enrol_response_parse(r.body.data, r.body.len, out, &e) != 0)
        fail_msg("enrol_response_parse: %s", e.msg);
    http_reply_free(&r);
}

static long post_token(struct fx *f, const char *form, struct http_reply *out)
{
    struct http_client *c = client(f);
    struct op_err e = {0};
    if (http_post(c, "/api/v1/oauth/token", "application/x-www-form-urlencoded", form, strlen(form),
                  out, &e) != 0)
        fail_msg("POST token: %s", e.msg);
    http_client_free(c);
    return out->status;
}

/* An access token for the enrolled client (body authentication). */
static void token_ok(struct fx *f, const struct enrol_response *en, char tok[OAUTH2_TOKEN_MAX])
{
    char form[512];
    snprintf(form, sizeof form, "grant_type=client_credentials&client_id=%s&client_secret=%s",
             en->client_id, en->client_secret);
    struct http_reply r;
    assert_int_equal(post_token(f, form, &r), 200);
    json_t *doc = json_loadb(r.body.data, r.body.len, 0, NULL);
    assert_non_null(doc);
    snprintf(tok, OAUTH2_TOKEN_MAX, "%s", json_string_value(json_object_get(doc, "access_token")));
    assert_true(oauth2_token_shape_ok(tok));
    json_decref(doc);
    http_reply_free(&r);
}

/* GET with a bearer token (NULL: none). */
static long get_bearer(struct fx *f, const char *tok, const char *path, struct http_reply *out)
{
    struct http_client *c = client(f);
    struct op_err e = {0};
    if (tok)
        assert_int_equal(http_client_set_bearer(c, tok, &e), 0);
    if (http_get(c, path, out, &e) != 0)
        fail_msg("GET %s: %s", path, e.msg);
    http_client_free(c);
    return out->status;
}

/* ---- enrolment ---- */

static void test_enrol_good_gives_credentials_and_keys(void **state)
{
    struct fx *f = *state;
    struct http_reply r;
    post_enrol(f, "sm-a", PW, DEV_A, f->dev_pk_a, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.content_type, "application/json");
    struct enrol_response en;
    struct op_err e = {0};
    assert_int_equal(enrol_response_parse(r.body.data, r.body.len, &en, &e), 0);
    assert_string_equal(en.org_id, "ORG-A");
    assert_string_equal(en.device_id, DEV_A);
    assert_int_equal(enrol_results_key_verify(en.signing_public_key, en.results_key_id,
                                              en.results_public_key, en.results_key_signature, &e),
                     0);
    enrol_response_wipe(&en);
    http_reply_free(&r);

    /* the same device again: 409 */
    post_enrol(f, "sm-a", PW, DEV_A, f->dev_pk_a, &r);
    assert_int_equal(r.status, 409);
    http_reply_free(&r);
}

static void test_enrol_refusals(void **state)
{
    struct fx *f = *state;
    struct http_reply r;
    post_enrol(f, "sm-a", "wrong-password", DEV_A, f->dev_pk_a, &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body.data, "\"unauthorized\""));
    http_reply_free(&r);
    post_enrol(f, "nobody", PW, DEV_A, f->dev_pk_a, &r);
    assert_int_equal(r.status, 401);
    http_reply_free(&r);
    post_enrol(f, "proctor-a", PW, DEV_A, f->dev_pk_a, &r);
    assert_int_equal(r.status, 403);
    http_reply_free(&r);

    /* malformed JSON, a bad key, another content type */
    struct http_client *c = client(f);
    struct op_err e = {0};
    assert_int_equal(http_post(c, "/api/v1/enrol", "application/json", "{\"login\":", 10, &r, &e),
                     0);
    assert_int_equal(r.status, 400);
    http_reply_free(&r);
    const char *bad = "{\"login\":\"sm-a\",\"password\":\"x\",\"device_id\":\"" DEV_A
                      "\",\"label\":\"L\",\"signing_public_key\":\"zz\"}";
    assert_int_equal(http_post(c, "/api/v1/enrol", "application/json", bad, strlen(bad), &r, &e),
                     0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body.data, "signing_public_key"));
    http_reply_free(&r);
    assert_int_equal(http_post(c, "/api/v1/enrol", "text/plain", bad, strlen(bad), &r, &e), 0);
    assert_int_equal(r.status, 415);
    http_reply_free(&r);
    http_client_free(c);
}

static void test_enrol_throttled_is_429_with_retry_after(void **state)
{
    struct fx *f = *state;
    struct http_reply r;
    for (int i = 0; i < 5; i++) {
        post_enrol(f, "sm-a", "wrong-password", DEV_A, f->dev_pk_a, &r);
        assert_int_equal(r.status, 401);
        http_reply_free(&r);
    }
    /* even the right password now waits */
    post_enrol(f, "sm-a", PW, DEV_A, f->dev_pk_a, &r);
    assert_int_equal(r.status, 429);
    assert_true(r.retry_after_s > 0 && r.retry_after_s <= 900);
    assert_non_null(strstr(r.body.data, "too_many_requests"));
    http_reply_free(&r);
}

/* ---- tokens ---- */

static void test_token_with_body_and_basic(void **state)
{
    struct fx *f = *state;
    struct enrol_response en;
    enrol_ok(f, "sm-a", DEV_A, f->dev_pk_a, &en);

    char form[512];
    snprintf(form, sizeof form, "grant_type=client_credentials&client_id=%s&client_secret=%s",
             en.client_id, en.client_secret);
    struct http_reply r;
    assert_int_equal(post_token(f, form, &r), 200);
    json_t *doc = json_loadb(r.body.data, r.body.len, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "token_type")), "Bearer");
    assert_true(json_integer_value(json_object_get(doc, "expires_in")) > 0);
    json_decref(doc);
    http_reply_free(&r);

    /* HTTP Basic (RFC 6749 §2.3.1), with the no-store headers */
    char cred[256], b64[400], req[2048];
    snprintf(cred, sizeof cred, "%s:%s", en.client_id, en.client_secret);
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)cred, strlen(cred),
                      sodium_base64_VARIANT_ORIGINAL);
    const char *grant = "grant_type=client_credentials";
    snprintf(req, sizeof req,
             "POST /api/v1/oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             "Authorization: Basic %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             b64, strlen(grant), grant);
    struct reply raw;
    exchange(f->port, req, &raw);
    assert_int_equal(raw.status, 200);
    assert_string_equal(header(&raw, "Cache-Control"), "no-store");
    assert_string_equal(header(&raw, "Pragma"), "no-cache");
    assert_non_null(strstr(raw.body, "\"access_token\""));

    /* a wrong secret with Basic: 401 invalid_client with WWW-Authenticate: Basic */
    snprintf(cred, sizeof cred, "%s:%s", en.client_id,
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)cred, strlen(cred),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(req, sizeof req,
             "POST /api/v1/oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             "Authorization: Basic %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             b64, strlen(grant), grant);
    exchange(f->port, req, &raw);
    assert_int_equal(raw.status, 401);
    assert_string_equal(header(&raw, "WWW-Authenticate"), "Basic realm=\"outpost\"");
    assert_non_null(strstr(raw.body, "\"invalid_client\""));
    enrol_response_wipe(&en);
}

static void test_token_refusals(void **state)
{
    struct fx *f = *state;
    struct enrol_response en;
    enrol_ok(f, "sm-a", DEV_A, f->dev_pk_a, &en);
    char form[512];
    struct http_reply r;

    /* a wrong secret in the body: 401 invalid_client, no WWW-Authenticate: Basic */
    snprintf(form, sizeof form, "grant_type=client_credentials&client_id=%s&client_secret=%s",
             en.client_id, "wrong-secret");
    assert_int_equal(post_token(f, form, &r), 401);
    assert_non_null(strstr(r.body.data, "\"error\":\"invalid_client\""));
    assert_string_equal(r.www_authenticate, "");
    http_reply_free(&r);

    /* another grant */
    snprintf(form, sizeof form, "grant_type=password&client_id=%s&client_secret=%s", en.client_id,
             en.client_secret);
    assert_int_equal(post_token(f, form, &r), 400);
    assert_non_null(strstr(r.body.data, "\"unsupported_grant_type\""));
    http_reply_free(&r);

    /* another content type */
    snprintf(form, sizeof form, "grant_type=client_credentials&client_id=%s&client_secret=%s",
             en.client_id, en.client_secret);
    struct http_client *c = client(f);
    struct op_err e = {0};
    assert_int_equal(
        http_post(c, "/api/v1/oauth/token", "application/json", form, strlen(form), &r, &e), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body.data, "\"invalid_request\""));
    http_reply_free(&r);
    http_client_free(c);

    /* a revoked device's client: refused at once */
    assert_int_equal(app_devices_revoke(f->inst, DEV_A, &e), 0);
    assert_int_equal(post_token(f, form, &r), 401);
    assert_non_null(strstr(r.body.data, "\"invalid_client\""));
    http_reply_free(&r);
    enrol_response_wipe(&en);
}

/* ---- changes ---- */

static void test_changes_signed_page_of_the_org_only(void **state)
{
    struct fx *f = *state;
    struct enrol_response en;
    enrol_ok(f, "sm-a", DEV_A, f->dev_pk_a, &en);
    char tok[OAUTH2_TOKEN_MAX];
    token_ok(f, &en, tok);

    struct http_reply r;
    assert_int_equal(get_bearer(f, tok, "/api/v1/changes?since=0&limit=100", &r), 200);
    assert_string_equal(r.content_type, SYNC_PAGE_MEDIA_TYPE);
    unsigned char *body = NULL;
    size_t blen = 0;
    struct op_err e = {0};
    if (sync_envelope_open((const unsigned char *)r.body.data, r.body.len, en.signing_public_key,
                           &body, &blen, &e) != 0)
        fail_msg("sync_envelope_open: %s", e.msg);
    struct sync_page p;
    if (sync_page_parse(body, blen, &p, &e) != 0)
        fail_msg("sync_page_parse: %s", e.msg);
    assert_string_equal(p.org, "ORG-A");
    int saw_a = 0;
    for (int i = 0; i < p.n; i++) {
        assert_string_not_equal(p.rec[i].id, f->center_b);
        saw_a |= strcmp(p.rec[i].id, f->center_a) == 0;
    }
    assert_true(saw_a);
    sync_page_free(&p);
    free(body);
    http_reply_free(&r);

    /* bad parameters */
    assert_int_equal(get_bearer(f, tok, "/api/v1/changes?since=-1", &r), 400);
    assert_non_null(strstr(r.body.data, "since"));
    http_reply_free(&r);
    assert_int_equal(get_bearer(f, tok, "/api/v1/changes?limit=0", &r), 400);
    http_reply_free(&r);
    assert_int_equal(get_bearer(f, tok, "/api/v1/changes?limit=abc", &r), 400);
    http_reply_free(&r);
    enrol_response_wipe(&en);
}

static void test_changes_without_a_good_token_is_401(void **state)
{
    struct fx *f = *state;
    struct enrol_response en;
    enrol_ok(f, "sm-a", DEV_A, f->dev_pk_a, &en);
    char tok[OAUTH2_TOKEN_MAX];
    token_ok(f, &en, tok);
    struct http_reply r;

    /* no token: 401 with no error code (RFC 6750 §3.1) */
    assert_int_equal(get_bearer(f, NULL, "/api/v1/changes", &r), 401);
    assert_string_equal(r.www_authenticate, "Bearer realm=\"outpost\"");
    http_reply_free(&r);

    /* malformed: invalid_request */
    struct reply raw;
    exchange(f->port,
             "GET /api/v1/changes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             "Authorization: Bearer a b c\r\n\r\n",
             &raw);
    assert_int_equal(raw.status, 401);
    assert_non_null(strstr(header(&raw, "WWW-Authenticate"), "error=\"invalid_request\""));

    /* unknown token */
    assert_int_equal(
        get_bearer(f, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/api/v1/changes", &r), 401);
    assert_non_null(strstr(r.www_authenticate, "error=\"invalid_token\""));
    http_reply_free(&r);

    /* expired: the clock moves past its lifetime */
    assert_int_equal(get_bearer(f, tok, "/api/v1/changes", &r), 200);
    http_reply_free(&r);
    f->now += OAUTH_TOKEN_LIFETIME_S + 1;
    assert_int_equal(get_bearer(f, tok, "/api/v1/changes", &r), 401);
    assert_non_null(strstr(r.www_authenticate, "error=\"invalid_token\""));
    http_reply_free(&r);

    /* revoked: a fresh token stops at once */
    token_ok(f, &en, tok);
    assert_int_equal(get_bearer(f, tok, "/api/v1/changes", &r), 200);
    http_reply_free(&r);
    struct op_err e = {0};
    assert_int_equal(app_devices_revoke(f->inst, DEV_A, &e), 0);
    assert_int_equal(get_bearer(f, tok, "/api/v1/changes", &r), 401);
    assert_non_null(
        strstr(r.www_authenticate, "Bearer realm=\"outpost\", error=\"invalid_token\""));
    http_reply_free(&r);
    enrol_response_wipe(&en);
}

/* ---- packages ---- */

/* A GET with a bearer token over a plain socket; `extra` more header lines (or ""). */
static void raw_get(struct fx *f, const char *tok, const char *path, const char *extra,
                    struct reply *r)
{
    char req[2048];
    snprintf(
        req, sizeof req,
        "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\n%s\r\n",
        path, tok, extra);
    exchange(f->port, req, r);
}

static void test_packages_range_resume_and_scope(void **state)
{
    struct fx *f = *state;
    struct enrol_response en;
    enrol_ok(f, "sm-a", DEV_A, f->dev_pk_a, &en);
    char tok[OAUTH2_TOKEN_MAX];
    token_ok(f, &en, tok);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/packages/%s", f->enc_a);

    /* a range */
    struct reply raw;
    raw_get(f, tok, path, "Range: bytes=10-19\r\n", &raw);
    assert_int_equal(raw.status, 206);
    assert_string_equal(header(&raw, "Content-Range"), "bytes 10-19/300000");
    assert_string_equal(header(&raw, "Content-Type"), "application/octet-stream");
    assert_int_equal(raw.body_len, 10);
    assert_memory_equal(raw.body, f->pkg_a + 10, 10);
    raw_get(f, tok, path, "Range: bytes=300000-\r\n", &raw);
    assert_int_equal(raw.status, 416);

    /* a download cut after 1000 bytes resumes from there (the client's Range) */
    char *dest = fs_join(f->dir, "pkg");
    char *part = fs_join(f->dir, "pkg.part");
    FILE *fp = fopen(part, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(f->pkg_a, 1, 1000, fp), 1000);
    fclose(fp);
    struct http_client *c = client(f);
    struct op_err e = {0};
    assert_int_equal(http_client_set_bearer(c, tok, &e), 0);
    if (http_download(c, path, dest, f->enc_a, 0, NULL, NULL, &e) != 0)
        fail_msg("http_download: %s", e.msg);
    http_client_free(c);
    size_t got = 0;
    char *bytes = NULL;
    assert_int_equal(fs_read_file(dest, 1 << 20, &bytes, &got, &e), 0);
    assert_int_equal(got, sizeof f->pkg_a);
    assert_memory_equal(bytes, f->pkg_a, got);
    free(bytes);
    free(dest);
    free(part);

    /* org B's package, an unknown hash and a malformed one: one and the same 404 */
    struct reply other, unknown, bad;
    snprintf(path, sizeof path, "/api/v1/packages/%s", f->enc_b);
    raw_get(f, tok, path, "", &other);
    raw_get(f, tok,
            "/api/v1/packages/0000000000000000000000000000000000000000000000000000000000000000", "",
            &unknown);
    raw_get(f, tok, "/api/v1/packages/../../outpost.db", "", &bad);
    assert_int_equal(other.status, 404);
    char h1[8192], h2[8192], h3[8192];
    stable_head(&other, h1, sizeof h1);
    stable_head(&unknown, h2, sizeof h2);
    stable_head(&bad, h3, sizeof h3);
    assert_string_equal(h1, h2);
    assert_string_equal(h1, h3);
    assert_int_equal(other.body_len, unknown.body_len);
    assert_memory_equal(other.body, unknown.body, other.body_len);
    assert_int_equal(other.body_len, bad.body_len);
    assert_memory_equal(other.body, bad.body, other.body_len);

    /* org B's own device gets it */
    struct enrol_response eb;
    enrol_ok(f, "sm-b", DEV_B, f->dev_pk_b, &eb);
    char tb[OAUTH2_TOKEN_MAX];
    token_ok(f, &eb, tb);
    raw_get(f, tb, path, "", &raw);
    assert_int_equal(raw.status, 200);
    assert_int_equal(raw.body_len, 1000);
    /* and no token at all: 401 */
    exchange(f->port, "GET /api/v1/packages/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             &raw);
    assert_int_equal(raw.status, 401);
    enrol_response_wipe(&en);
    enrol_response_wipe(&eb);
}

/* ---- results ---- */

/* TAKER eligible for DELIVERY at center A (envelope_fixture.h's ids). */
static void taker_eligible(struct fx *f)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO users (id, login, role, password_hash, created_at, updated_at) VALUES"
             " ('" TAKER "', 't1', 'test-taker', 'x', '2024-01-01T00:00:00Z',"
             " '2024-01-01T00:00:00Z');"
             "INSERT INTO deliveries (id, label, created_at, updated_at) VALUES"
             " ('" DELIVERY "', 'D1', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z');"
             "INSERT INTO eligibilities (id, center_id, delivery_id, created_at, updated_at) VALUES"
             " ('e1', '%s', '" DELIVERY "', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z');"
             "INSERT INTO eligibility_test_takers (eligibility_id, user_id) VALUES"
             " ('e1', '" TAKER "');",
             f->center_a);
    struct db *db = f->inst->db;
    struct op_err e = {0};
    if (db_begin(db, &e) != 0 || db_exec(db, sql, &e) != 0 ||
        feed_touch(db, FEED_ELIGIBILITY, "e1", &e) != 0 ||
        feed_touch(db, FEED_DELIVERY, DELIVERY, &e) != 0 ||
        feed_touch(db, FEED_USER, TAKER, &e) != 0 || db_commit(db, &e) != 0)
        fail_msg("eligibility: %s", e.msg);
}

static void test_results_pushed_twice_are_stored_once(void **state)
{
    struct fx *f = *state;
    taker_eligible(f);
    struct enrol_response en;
    enrol_ok(f, "sm-a", DEV_A, f->dev_pk_a, &en);
    char tok[OAUTH2_TOKEN_MAX];
    token_ok(f, &en, tok);

    struct key results;
    struct op_err e = {0};
    char *keys = instance_path(f->inst, "keys");
    assert_int_equal(keys_results_current(keys, &results, &e), 0);
    free(keys);
    struct envelope_header h = envfx_header(DEV_A);
    struct outbox_item it;
    memset(&it, 0, sizeof it);
    it.envelope = envfx_seal(&h, PAYLOAD, &results, &f->key_a, &it.len);
    snprintf(it.result_id, sizeof it.result_id, "%s", h.result_id);
    sha256_hex(it.envelope, it.len, it.sha256);
    char *batch = NULL;
    size_t blen = 0;
    assert_int_equal(sync_batch_encode(DEV_A, &it, 1, &batch, &blen, &e), 0);

    for (int round = 0; round < 2; round++) {
        struct http_client *c = client(f);
        assert_int_equal(http_client_set_bearer(c, tok, &e), 0);
        struct http_reply r;
        assert_int_equal(http_post(c, "/api/v1/results", "application/json", batch, blen, &r, &e),
                         0);
        if (r.status != 200)
            fail_msg("results: %ld %.*s", r.status, (int)r.body.len, r.body.data);
        struct sync_receipts rc;
        if (sync_receipts_open((const unsigned char *)r.body.data, r.body.len,
                               en.signing_public_key, DEV_A, &rc, &e) != 0)
            fail_msg("receipts: %s", e.msg);
        assert_int_equal(rc.n, 1);
        assert_string_equal(rc.r[0].result_id, h.result_id);
        if (rc.r[0].status == OUTBOX_REFUSED)
            fail_msg("receipt %d: %s", (int)rc.r[0].status, rc.r[0].reason);
        sync_receipts_free(&rc);
        http_reply_free(&r);
        http_client_free(c);
    }
    assert_int_equal(testutil_query_int(f->inst->db, "SELECT count(*) FROM results") +
                         testutil_query_int(f->inst->db, "SELECT count(*) FROM results_quarantine"),
                     1);

    /* a batch of another device than the credential's: refused, nothing stored */
    char *other = NULL;
    size_t olen = 0;
    assert_int_equal(sync_batch_encode(DEV_B, &it, 1, &other, &olen, &e), 0);
    struct http_client *c = client(f);
    assert_int_equal(http_client_set_bearer(c, tok, &e), 0);
    struct http_reply r;
    assert_int_equal(http_post(c, "/api/v1/results", "application/json", other, olen, &r, &e), 0);
    assert_int_equal(r.status, 403);
    http_reply_free(&r);
    /* malformed */
    assert_int_equal(http_post(c, "/api/v1/results", "application/json", "{}", 2, &r, &e), 0);
    assert_int_equal(r.status, 400);
    http_reply_free(&r);
    http_client_free(c);
    free(other);
    free(batch);
    free(it.envelope);
    key_wipe(&results);
    enrol_response_wipe(&en);
}

/* ---- the sync report ---- */

static void test_report_records_the_run_and_the_device(void **state)
{
    struct fx *f = *state;
    struct enrol_response en;
    enrol_ok(f, "sm-a", DEV_A, f->dev_pk_a, &en);
    char tok[OAUTH2_TOKEN_MAX];
    token_ok(f, &en, tok);
    char body[1024];
    snprintf(body, sizeof body,
             "{\"started_at\":\"2026-12-06T08:00:00Z\",\"ended_at\":\"2026-12-06T08:00:03.250Z\","
             "\"status\":\"ok\",\"counts\":{\"user\":{\"created\":3,\"updated\":1,\"deleted\":0}},"
             "\"results_sent\":2,\"bytes\":12345,\"error\":null,\"software_version\":\"0.11.0\","
             "\"pending_results\":4,\"device_time\":%lld}",
             (long long)f->now + 42);
    struct http_client *c = client(f);
    struct op_err e = {0};
    assert_int_equal(http_client_set_bearer(c, tok, &e), 0);
    struct http_reply r;
    assert_int_equal(
        http_post(c, "/api/v1/sync/report", "application/json", body, strlen(body), &r, &e), 0);
    if (r.status != 200)
        fail_msg("report: %ld %.*s", r.status, (int)r.body.len, r.body.data);
    json_t *doc = json_loadb(r.body.data, r.body.len, 0, NULL);
    assert_true(uuid_is_valid(json_string_value(json_object_get(doc, "run_id"))));
    assert_int_equal(json_integer_value(json_object_get(doc, "server_time")), f->now);
    json_decref(doc);
    http_reply_free(&r);

    struct device d;
    assert_int_equal(app_devices_get(f->inst, DEV_A, &d, &e), 0);
    assert_true(d.last_sync_at[0] != '\0');
    assert_int_equal(d.clock_offset_seconds, 42);
    assert_int_equal(d.pending_results, 4);
    assert_string_equal(d.software_version, "0.11.0");
    device_clear(&d);
    json_t *runs = NULL;
    assert_int_equal(app_sync_history(f->inst, DEV_A, 10, &runs, &e), 0);
    assert_int_equal(json_array_size(runs), 1);
    json_t *run = json_array_get(runs, 0);
    assert_string_equal(json_string_value(json_object_get(run, "status")), "ok");
    assert_int_equal(json_integer_value(json_object_get(run, "results_sent")), 2);
    json_decref(runs);

    /* a bad report: 400 naming the field, nothing recorded */
    const char *bad = "{\"started_at\":\"yesterday\"}";
    assert_int_equal(
        http_post(c, "/api/v1/sync/report", "application/json", bad, strlen(bad), &r, &e), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body.data, "\"field\":\"started_at\""));
    http_reply_free(&r);
    http_client_free(c);
    enrol_response_wipe(&en);
}

/* ---- keys ---- */

static void test_keys_signature_verifies_with_the_pinned_key(void **state)
{
    struct fx *f = *state;
    struct enrol_response en;
    enrol_ok(f, "sm-a", DEV_A, f->dev_pk_a, &en);
    char tok[OAUTH2_TOKEN_MAX];
    token_ok(f, &en, tok);
    struct http_reply r;
    assert_int_equal(get_bearer(f, tok, "/api/v1/keys", &r), 200);
    json_t *doc = json_loadb(r.body.data, r.body.len, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "signing_key_id")),
                        en.signing_key_id);
    const char *kid = json_string_value(json_object_get(doc, "results_key_id"));
    unsigned char pk[KEY_PUBLIC_BYTES], sig[SIGN_BYTES];
    const char *pkh = json_string_value(json_object_get(doc, "results_public_key"));
    const char *sigh = json_string_value(json_object_get(doc, "results_key_signature"));
    assert_int_equal(sodium_hex2bin(pk, sizeof pk, pkh, strlen(pkh), NULL, NULL, NULL), 0);
    assert_int_equal(sodium_hex2bin(sig, sizeof sig, sigh, strlen(sigh), NULL, NULL, NULL), 0);
    struct op_err e = {0};
    assert_int_equal(enrol_results_key_verify(en.signing_public_key, kid, pk, sig, &e), 0);
    sig[0] ^= 1;
    assert_int_equal(enrol_results_key_verify(en.signing_public_key, kid, pk, sig, &e), OP_ECRYPTO);
    json_decref(doc);
    http_reply_free(&r);
    assert_int_equal(get_bearer(f, NULL, "/api/v1/keys", &r), 401);
    http_reply_free(&r);
    enrol_response_wipe(&en);
}

/* ---- the report parser on its own ---- */

static void test_report_parser_refuses_bad_bodies(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "[]",
        "{\"started_at\":\"2026-02-31T00:00:00Z\"}",
        "{\"started_at\":\"0116-12-06T08:00:00Z\",\"ended_at\":\"2026-12-06T08:00:00Z\"}",
        "{\"started_at\":\"2026-12-06T08:00:00+01:00\",\"ended_at\":\"2026-12-06T08:00:00Z\"}",
    };
    struct app_sync_report r;
    struct op_err e = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(app_sync_report_parse(bad[i], strlen(bad[i]), &r, &e), OP_EINPUT);
#define REPORT_FMT                                                                                 \
    "{\"started_at\":\"2026-12-06T08:00:00Z\",\"ended_at\":"                                       \
    "\"2026-12-06T08:00:01Z\",\"status\":\"%s\",\"counts\":%s,"                                    \
    "\"results_sent\":%s,\"bytes\":0,\"error\":%s,\"software_version\":"                           \
    "\"%s\",\"pending_results\":0,\"device_time\":1}"
    struct {
        const char *status, *counts, *sent, *error, *version, *field;
    } cases[] = {
        {"ok", "{}", "0", "null", "1.0", NULL},
        {"maybe", "{}", "0", "null", "1.0", "status"},
        {"ok", "{\"user\":{\"created\":-1}}", "0", "null", "1.0", "counts"},
        {"ok", "{\"user\":{\"moved\":1}}", "0", "null", "1.0", "counts"},
        {"ok", "[]", "0", "null", "1.0", "counts"},
        {"ok", "{}", "-3", "null", "1.0", "results_sent"},
        {"ok", "{}", "1.5", "null", "1.0", "results_sent"},
        {"failed", "{}", "0", "7", "1.0", "error"},
        {"ok", "{}", "0", "null", "", "software_version"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, REPORT_FMT, cases[i].status, cases[i].counts, cases[i].sent,
                 cases[i].error, cases[i].version);
        err_clear(&e);
        int rc = app_sync_report_parse(body, strlen(body), &r, &e);
        if (!cases[i].field) {
            assert_int_equal(rc, 0);
            /* what the device encodes parses back the same */
            char *json = app_sync_report_json(&r);
            struct app_sync_report back;
            assert_int_equal(app_sync_report_parse(json, strlen(json), &back, &e), 0);
            assert_string_equal(back.ended_at, r.ended_at);
            free(json);
            app_sync_report_free(&back);
            app_sync_report_free(&r);
        } else {
            assert_int_equal(rc, OP_EINPUT);
            assert_string_equal(e.field, cases[i].field);
        }
    }
    char *big = malloc(SYNC_REPORT_MAX_BYTES + 2);
    memset(big, ' ', SYNC_REPORT_MAX_BYTES + 1);
    big[SYNC_REPORT_MAX_BYTES + 1] = '\0';
    assert_int_equal(app_sync_report_parse(big, SYNC_REPORT_MAX_BYTES + 1, &r, &e), OP_EINPUT);
    free(big);
}

/* ---- overload ---- */

static int setup_one_in_flight(void **state)
{
    start_with(state, 1, 1);
    return 0;
}

static void test_overload_is_429_retry_after_at_once(void **state)
{
    struct fx *f = *state;
    /* a request in flight: its headers sent, its body not yet */
    int held = connect_to(f->port);
    const char *partial = "POST /api/v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          "application/json\r\nContent-Length: 100\r\n\r\n{";
    send_all(held, partial, strlen(partial));
    usleep(200 * 1000);
    struct http_reply r;
    assert_int_equal(get_bearer(f, NULL, "/api/v1/health", &r), 429);
    assert_int_equal(r.retry_after_s, 1);
    assert_non_null(strstr(r.body.data, "too_many_requests"));
    http_reply_free(&r);
    close(held);
    usleep(200 * 1000);
    assert_int_equal(get_bearer(f, NULL, "/api/v1/health", &r), 200);
    http_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enrol_good_gives_credentials_and_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_enrol_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enrol_throttled_is_429_with_retry_after, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_with_body_and_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_signed_page_of_the_org_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_without_a_good_token_is_401, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packages_range_resume_and_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results_pushed_twice_are_stored_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_records_the_run_and_the_device, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_keys_signature_verifies_with_the_pinned_key, setup,
                                        teardown),
        cmocka_unit_test(test_report_parser_refuses_bad_bodies),
        cmocka_unit_test_setup_teardown(test_overload_is_429_retry_after_at_once,
                                        setup_one_in_flight, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
