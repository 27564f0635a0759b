/*
 * test_http_bo_admin.c - the backoffice's test centers, eligibilities and deliveries over
 * HTTP (docs/api.md, "Backoffice: test centers, eligibilities, deliveries"): the real server
 * on a real central, spoken to with plain sockets as a page does (session cookie and CSRF
 * token). What the super-user may do; every refusal of a test-center administrator outside
 * their centers (404, as an absent record) and of the super-user's actions (403); bad bodies
 * (400); the streamed upload of a QTI package (refused before its body for the wrong caller,
 * 413 over the limit, 415 not a package's bytes), its import in the background and its
 * problems.
 */
#include "instance_fixture.h"
#include "qti_testzip.h"
#include "web_client_fixture.h"

#include <jansson.h>
#include <time.h>

#include "app/deliveries.h"
#include "app/import_jobs.h"
#include "app/testcenters.h"
#include "app/users.h"
#include "http/server.h"

struct fx {
    struct instance *inst;
    char *dir;
    struct http_server *srv;
    unsigned port;
    char north[UUID_STR_LEN], north_sub[UUID_STR_LEN], south[UUID_STR_LEN];
    char delivery[UUID_STR_LEN];
    char cookie[2][128], csrf[2][128]; /* 0: the super-user admin, 1: tca */
    char *zip;                         /* the demo package */
};

enum { ADMIN = 0, TCA = 1 };

static void add_user(struct fx *f, const char *login, const char *role)
{
    char pw[64];
    snprintf(pw, sizeof pw, "pw-%s", login);
    const struct app_user_new in = {login, role, NULL, NULL, NULL, NULL, NULL, NULL};
    struct op_err e = {0};
    if (app_users_add(f->inst, &in, pw, strlen(pw), NULL, &e) != 0)
        fail_msg("app_users_add %s: %s", login, e.msg);
}

static void add_center(struct fx *f, const char *label, const char *org, const char *parent,
                       char id[UUID_STR_LEN])
{
    const struct app_center_new in = {label, org, parent};
    struct test_center c;
    struct op_err e = {0};
    if (app_testcenters_add(f->inst, &in, &c, NULL, &e) != 0)
        fail_msg("app_testcenters_add: %s", e.msg);
    memcpy(id, c.id, UUID_STR_LEN);
    test_center_clear(&c);
}

static void login(struct fx *f, int who, const char *login, const char *password)
{
    char body[256];
    snprintf(body, sizeof body, "{\"login\": \"%s\", \"password\": \"%s\"}", login, password);
    struct reply r;
    web_call(f->port, "POST", "/api/v1/session", NULL, NULL, body, &r);
    assert_int_equal(r.status, 200);
    snprintf(f->cookie[who], sizeof f->cookie[who], "%s", cookie_of(&r));
    snprintf(f->csrf[who], sizeof f->csrf[who], "%s", json_field(r.body, "csrf", NULL));
}

/* A central with the super-user admin; tca administers North (with its sub-center North-1);
 * tcb administers South; a proctor pr1, test takers tt1, tt2; one delivery (the demo
 * package); both admin and tca logged in. The upload limit is 64 KiB. */
static struct fx *start(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    *state = f;
    f->inst = fx_instance("central", &f->dir);
    add_user(f, "tca", ROLE_TEST_CENTER_ADMIN);
    add_user(f, "tcb", ROLE_TEST_CENTER_ADMIN);
    add_user(f, "pr1", ROLE_PROCTOR);
    add_user(f, "tt1", ROLE_TEST_TAKER);
    add_user(f, "tt2", ROLE_TEST_TAKER);
    add_center(f, "North", "org-n", NULL, f->north);
    add_center(f, "North-1", "org-n", f->north, f->north_sub);
    add_center(f, "South", "org-s", NULL, f->south);
    struct op_err e = {0};
    assert_int_equal(app_testcenters_assign(f->inst, f->north, "tca", CENTER_DUTY_ADMIN, NULL, &e),
                     0);
    assert_int_equal(app_testcenters_assign(f->inst, f->south, "tcb", CENTER_DUTY_ADMIN, NULL, &e),
                     0);
    f->zip = fs_join(f->dir, "Demo test.zip");
    assert_int_equal(testzip_fixture_zip("demo/qti-test", f->zip), 0);
    const struct app_deliveries_import_in in = {f->zip, "Maths", 1, 0, 0};
    struct delivery d;
    if (app_deliveries_import(f->inst, &in, &d, &e) != 0)
        fail_msg("import: %s", e.msg);
    memcpy(f->delivery, d.id, UUID_STR_LEN);
    delivery_clear(&d);
    struct http_server_options o;
    http_server_options_default(&o);
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    o.max_upload = 64 * 1024;
    if (http_server_start(f->inst, &o, &f->srv, &e) != 0)
        fail_msg("http_server_start: %s", e.msg);
    f->port = http_server_port(f->srv);
    login(f, ADMIN, "admin", "a-test-password");
    login(f, TCA, "tca", "pw-tca");
    return f;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f) {
        http_server_stop(f->srv);
        instance_close(f->inst);
        testutil_rmdir(f->dir);
        free(f->zip);
        free(f);
    }
    return 0;
}

/* A call as `who` (-1: no session), with the CSRF token. */
static void call(struct fx *f, int who, const char *method, const char *path, const char *body,
                 struct reply *r)
{
    web_call(f->port, method, path, who >= 0 ? f->cookie[who] : NULL,
             who >= 0 ? f->csrf[who] : NULL, body, r);
}

/* The integer member `name` of the object `path1` of a reply's body (-1 when absent). */
static long long json_int(const char *body, const char *path1, const char *name)
{
    json_t *doc = json_loads(body, 0, NULL);
    assert_non_null(doc);
    json_t *x = json_object_get(json_object_get(doc, path1), name);
    long long v = json_is_integer(x) ? json_integer_value(x) : -1;
    json_decref(doc);
    return v;
}

/* ---- test centers ---- */

static void test_the_super_user_creates_changes_staffs_and_deletes_a_center(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    char body[512], path[256], id[UUID_STR_LEN];
    snprintf(body, sizeof body,
             "{\"label\": \"Lycee Hugo\", \"org_id\": \"LVH-01\", \"parent_id\": \"%s\"}",
             f->south);
    call(f, ADMIN, "POST", "/api/v1/admin/centers", body, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(json_field(r.body, "center", "org_id"), "LVH-01");
    assert_string_equal(json_field(r.body, "center", "parent_label"), "South");
    snprintf(id, sizeof id, "%s", json_field(r.body, "center", "id"));

    call(f, ADMIN, "GET", "/api/v1/admin/centers", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Lycee Hugo"));
    assert_non_null(strstr(r.body, "North-1"));

    snprintf(path, sizeof path, "/api/v1/admin/centers/%s", id);
    call(f, ADMIN, "PUT", path, "{\"version\": 1, \"label\": \"Lycee V. Hugo\"}", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "center", "label"), "Lycee V. Hugo");
    assert_int_equal(json_int(r.body, "center", "version"), 2);
    /* the same version again: someone changed it meanwhile */
    call(f, ADMIN, "PUT", path, "{\"version\": 1, \"org_id\": \"X\"}", &r);
    assert_int_equal(r.status, 409);

    snprintf(path, sizeof path, "/api/v1/admin/centers/%s/staff", id);
    call(f, ADMIN, "POST", path, "{\"login\": \"pr1\", \"duty\": \"proctor\"}", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"proctors\":[\"pr1\"]"));
    call(f, ADMIN, "POST", path, "{\"login\": \"tt1\", \"duty\": \"proctor\"}", &r);
    assert_int_equal(r.status, 400); /* a test taker is no proctor */
    snprintf(path, sizeof path, "/api/v1/admin/centers/%s/staff/proctor/pr1", id);
    call(f, ADMIN, "DELETE", path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"proctors\":[]"));
    call(f, ADMIN, "DELETE", path, NULL, &r);
    assert_int_equal(r.status, 404); /* not a proctor there any more */

    snprintf(path, sizeof path, "/api/v1/admin/centers/%s", id);
    call(f, ADMIN, "DELETE", path, NULL, &r);
    assert_int_equal(r.status, 204);
    call(f, ADMIN, "GET", path, NULL, &r);
    assert_int_equal(r.status, 404);
    /* a center with sub-centers is not deleted */
    snprintf(path, sizeof path, "/api/v1/admin/centers/%s", f->north);
    call(f, ADMIN, "DELETE", path, NULL, &r);
    assert_int_equal(r.status, 409);
}

static void test_bad_center_bodies_are_refused_naming_the_member(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"org_id\": \"X\"}", "label"},
        {"{\"label\": \"A\"}", "org_id"},
        {"{\"label\": 3, \"org_id\": \"X\"}", "label"},
        {"{\"label\": \"\", \"org_id\": \"X\"}", "label"},
        {"{\"label\": \"A\\u0001\", \"org_id\": \"X\"}", "label"},
        {"{\"label\": \"A\", \"org_id\": \"X\", \"admins\": []}", "body"},
        {"[1]", "body"},
        {"{\"label\": \"A\", \"org_id\": \"X\", \"parent_id\": 7}", "parent_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        call(f, ADMIN, "POST", "/api/v1/admin/centers", cases[i].body, &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(json_field(r.body, "error", "field"), cases[i].field);
    }
    char path[256];
    snprintf(path, sizeof path, "/api/v1/admin/centers/%s", f->north);
    call(f, ADMIN, "PUT", path, "{\"label\": \"No version\"}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "version");
    call(f, ADMIN, "PUT", path, "{\"version\": 1}", &r);
    assert_int_equal(r.status, 400);
    snprintf(path, sizeof path, "/api/v1/admin/centers/%s/staff", f->north);
    call(f, ADMIN, "POST", path, "{\"login\": \"pr1\", \"duty\": \"boss\"}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "duty");
    call(f, -1, "GET", "/api/v1/admin/centers", NULL, &r);
    assert_int_equal(r.status, 401);
    /* without the CSRF token, nothing changes */
    web_call(f->port, "POST", "/api/v1/admin/centers", f->cookie[ADMIN], NULL,
             "{\"label\": \"A\", \"org_id\": \"X\"}", &r);
    assert_int_equal(r.status, 403);
}

static void test_an_administrator_reaches_only_their_centers(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    char path[256], body[512];
    call(f, TCA, "GET", "/api/v1/admin/centers", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, f->north));
    assert_non_null(strstr(r.body, f->north_sub));
    assert_null(strstr(r.body, f->south));

    /* another's center: as if it did not exist, for every action */
    snprintf(path, sizeof path, "/api/v1/admin/centers/%s", f->south);
    call(f, TCA, "GET", path, NULL, &r);
    assert_int_equal(r.status, 404);
    call(f, TCA, "PUT", path, "{\"version\": 1, \"label\": \"Mine\"}", &r);
    assert_int_equal(r.status, 404);
    call(f, TCA, "DELETE", path, NULL, &r);
    assert_int_equal(r.status, 404);
    snprintf(path, sizeof path, "/api/v1/admin/centers/%s/staff", f->south);
    call(f, TCA, "POST", path, "{\"login\": \"pr1\", \"duty\": \"proctor\"}", &r);
    assert_int_equal(r.status, 404);
    snprintf(path, sizeof path, "/api/v1/admin/centers/%s/staff/admin/tcb", f->south);
    call(f, TCA, "DELETE", path, NULL, &r);
    assert_int_equal(r.status, 404);

    /* a top-level center is the super-user's to add; a sub-center of theirs is fine */
    call(f, TCA, "POST", "/api/v1/admin/centers", "{\"label\": \"Top\", \"org_id\": \"X\"}", &r);
    assert_int_equal(r.status, 403);
    snprintf(body, sizeof body, "{\"label\": \"Under\", \"org_id\": \"X\", \"parent_id\": \"%s\"}",
             f->south);
    call(f, TCA, "POST", "/api/v1/admin/centers", body, &r);
    assert_int_equal(r.status, 404);
    snprintf(body, sizeof body, "{\"label\": \"Under\", \"org_id\": \"X\", \"parent_id\": \"%s\"}",
             f->north);
    call(f, TCA, "POST", "/api/v1/admin/centers", body, &r);
    assert_int_equal(r.status, 201);

    /* moving their sub-center under another's center, or out of their centers */
    snprintf(path, sizeof path, "/api/v1/admin/centers/%s", f->north_sub);
    snprintf(body, sizeof body, "{\"version\": 1, \"parent_id\": \"%s\"}", f->south);
    call(f, TCA, "PUT", path, body, &r);
    assert_int_equal(r.status, 404);
    call(f, TCA, "PUT", path, "{\"version\": 1, \"parent_id\": null}", &r);
    assert_int_equal(r.status, 403);
    /* what they may change */
    call(f, TCA, "PUT", path, "{\"version\": 1, \"label\": \"North One\", \"org_id\": \"org-n1\"}",
         &r);
    assert_int_equal(r.status, 200);
    snprintf(path, sizeof path, "/api/v1/admin/centers/%s/staff", f->north_sub);
    call(f, TCA, "POST", path, "{\"login\": \"pr1\", \"duty\": \"proctor\"}", &r);
    assert_int_equal(r.status, 200);
    /* nothing of South changed */
    call(f, ADMIN, "GET", "/api/v1/admin/centers", NULL, &r);
    assert_non_null(strstr(r.body, "\"label\":\"South\""));
}

/* ---- eligibilities ---- */

static void test_eligibilities_are_set_listed_and_deleted_within_the_scope(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    char body[512], path[256], south_el[UUID_STR_LEN];
    snprintf(body, sizeof body,
             "{\"center\": \"%s\", \"delivery\": \"%s\", \"test_takers\": [\"tt1\"], "
             "\"proctored\": false}",
             f->south, f->delivery);
    call(f, ADMIN, "PUT", "/api/v1/admin/eligibilities", body, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(json_field(r.body, "eligibility", "outcome"), "created");
    snprintf(south_el, sizeof south_el, "%s", json_field(r.body, "eligibility", "id"));
    call(f, ADMIN, "PUT", "/api/v1/admin/eligibilities", body, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "eligibility", "outcome"), "unchanged");

    /* another "North-1", at South: a label ambiguous on central, not among tca's centers */
    char twin[UUID_STR_LEN];
    add_center(f, "North-1", "org-s", f->south, twin);
    call(f, TCA, "PUT", "/api/v1/admin/eligibilities",
         "{\"center\": \"South\", \"delivery\": \"Maths\", \"test_takers\": []}", &r);
    assert_int_equal(r.status, 404);
    /* tca: by label, at their center */
    call(f, TCA, "PUT", "/api/v1/admin/eligibilities",
         "{\"center\": \"North-1\", \"delivery\": \"Maths\", \"test_takers\": [\"tt1\", \"tt2\"]}",
         &r);
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(r.body, "\"proctored\":true")); /* the delivery's default */
    assert_null(strstr(r.body, twin));
    /* the super-user must say which "North-1" */
    call(f, ADMIN, "PUT", "/api/v1/admin/eligibilities",
         "{\"center\": \"North-1\", \"delivery\": \"Maths\", \"test_takers\": []}", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, twin));
    call(f, TCA, "GET", "/api/v1/admin/eligibilities", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "North-1"));
    assert_null(strstr(r.body, south_el));
    /* South's: out of reach */
    call(f, TCA, "PUT", "/api/v1/admin/eligibilities", body, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(json_field(r.body, "error", "field"), "center");
    snprintf(path, sizeof path, "/api/v1/admin/eligibilities/%s", south_el);
    call(f, TCA, "DELETE", path, NULL, &r);
    assert_int_equal(r.status, 404);
    /* bad bodies */
    call(f, TCA, "PUT", "/api/v1/admin/eligibilities",
         "{\"center\": \"North\", \"delivery\": \"Maths\", \"test_takers\": \"tt1\"}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "test_takers");
    call(f, TCA, "PUT", "/api/v1/admin/eligibilities",
         "{\"center\": \"North\", \"delivery\": \"Maths\", \"test_takers\": [\"pr1\", \"ghost\"]}",
         &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "ghost"));
    call(f, TCA, "PUT", "/api/v1/admin/eligibilities",
         "{\"center\": \"North\", \"delivery\": \"Nope\", \"test_takers\": []}", &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(json_field(r.body, "error", "field"), "delivery");
    /* the super-user deletes South's; listed by delivery */
    call(f, ADMIN, "DELETE", path, NULL, &r);
    assert_int_equal(r.status, 204);
    snprintf(path, sizeof path, "/api/v1/admin/eligibilities?delivery=%s", f->delivery);
    call(f, ADMIN, "GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, south_el));
    assert_non_null(strstr(r.body, "North-1"));
}

/* ---- deliveries ---- */

static void test_deliveries_are_listed_and_only_the_super_user_publishes_or_withdraws(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    char path[256];
    call(f, TCA, "GET", "/api/v1/admin/deliveries", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"status\":\"published\""));
    snprintf(path, sizeof path, "/api/v1/admin/deliveries/%s", f->delivery);
    call(f, TCA, "GET", path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"versions\":[{"));
    snprintf(path, sizeof path, "/api/v1/admin/deliveries/%s/withdraw", f->delivery);
    call(f, TCA, "POST", path, "{\"version\": 1}", &r);
    assert_int_equal(r.status, 403);
    call(f, ADMIN, "POST", path, "{\"version\": 7}", &r);
    assert_int_equal(r.status, 409);
    call(f, ADMIN, "POST", path, "{\"version\": \"1\"}", &r);
    assert_int_equal(r.status, 400);
    call(f, ADMIN, "POST", path, "{\"version\": 1}", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "delivery", "status"), "withdrawn");
    assert_non_null(strstr(r.body, "\"changed\":true"));
    snprintf(path, sizeof path, "/api/v1/admin/deliveries/%s/publish", f->delivery);
    call(f, TCA, "POST", path, "{}", &r);
    assert_int_equal(r.status, 403);
    call(f, ADMIN, "POST", path, "{}", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "delivery", "status"), "published");
    snprintf(path, sizeof path, "/api/v1/admin/deliveries/%s/archive", f->delivery);
    call(f, ADMIN, "POST", path, "{}", &r);
    assert_int_equal(r.status, 404);
    call(f, ADMIN, "GET", "/api/v1/admin/deliveries/no-such-id", NULL, &r);
    assert_int_equal(r.status, 404);
}

/* ---- the upload ---- */

/* POSTs `len` bytes of `data` to the upload endpoint with `query`, as `who` (-1: no session),
 * as `type`. */
static void upload(struct fx *f, int who, const char *query, const char *type, const void *data,
                   size_t len, struct reply *r)
{
    char head[2048];
    int n =
        snprintf(head, sizeof head,
                 "POST /api/v1/admin/deliveries/upload%s HTTP/1.1\r\nHost: x\r\n"
                 "Connection: close\r\n%s%s%s%s%s%sContent-Type: %s\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 query, who >= 0 ? "Cookie: outpost_session=" : "", who >= 0 ? f->cookie[who] : "",
                 who >= 0 ? "\r\n" : "", who >= 0 ? "X-CSRF-Token: " : "",
                 who >= 0 ? f->csrf[who] : "", who >= 0 ? "\r\n" : "", type, len);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)f->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    send(fd, head, (size_t)n, MSG_NOSIGNAL);
    /* the body, as far as the server takes it (a refused upload is cut) */
    for (size_t off = 0; off < len;) {
        ssize_t s = send(fd, (const char *)data + off, len - off, MSG_NOSIGNAL);
        if (s <= 0)
            break;
        off += (size_t)s;
    }
    static char raw[sizeof r->head + sizeof r->body];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof raw - 1 && (k = recv(fd, raw + got, sizeof raw - 1 - got, 0)) > 0)
        got += (size_t)k;
    raw[got] = '\0';
    close(fd);
    memset(r, 0, sizeof *r);
    char *split = strstr(raw, "\r\n\r\n");
    assert_non_null(split);
    snprintf(r->head, sizeof r->head, "%.*s", (int)(split - raw), raw);
    snprintf(r->body, sizeof r->body, "%s", split + 4);
    sscanf(r->head, "HTTP/1.%*d %d", &r->status);
}

/* Polls import `id` as the super-user until it has ended; its reply. */
static void wait_import(struct fx *f, const char *id, struct reply *r)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/admin/imports/%s", id);
    for (int i = 0; i < 3000; i++) {
        call(f, ADMIN, "GET", path, NULL, r);
        assert_int_equal(r->status, 200);
        if (strcmp(json_field(r->body, "import", "state"), "running") != 0)
            return;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the import did not end");
}

static void read_zip(struct fx *f, char **data, size_t *len)
{
    struct op_err e = {0};
    assert_int_equal(fs_read_file(f->zip, 1 << 20, data, len, &e), 0);
}

static void test_an_uploaded_package_is_imported_in_the_background(void **state)
{
    struct fx *f = start(state);
    char *zip;
    size_t len;
    read_zip(f, &zip, &len);
    struct reply r;
    upload(f, ADMIN, "?filename=Demo%20test.zip&label=Physics&proctored=no&max_executions=2",
           "application/zip", zip, len, &r);
    assert_int_equal(r.status, 202);
    assert_non_null(header(&r, "Location"));
    char id[IMPORT_JOB_ID_LEN + 8];
    snprintf(id, sizeof id, "%s", json_field(r.body, "import", "id"));
    wait_import(f, id, &r);
    assert_string_equal(json_field(r.body, "import", "state"), "done");
    assert_int_equal(json_int(r.body, "import", "percent"), 100);
    assert_non_null(strstr(r.body, "\"label\":\"Physics\""));
    assert_non_null(strstr(r.body, "\"proctored_default\":false"));
    assert_non_null(strstr(r.body, "\"max_executions\":2"));
    call(f, ADMIN, "GET", "/api/v1/admin/deliveries", NULL, &r);
    assert_non_null(strstr(r.body, "Physics"));
    /* another user does not see the import */
    char path[256];
    snprintf(path, sizeof path, "/api/v1/admin/imports/%s", id);
    call(f, TCA, "GET", path, NULL, &r);
    assert_int_equal(r.status, 404);
    /* no upload is left on disk */
    char *uploads = fs_join(f->inst->dir, "uploads");
    assert_true(!fs_exists(uploads) || fs_dir_is_empty(uploads));
    free(uploads);

    /* a broken package: refused, every problem listed with its file and line */
    char *bad = malloc(len);
    memcpy(bad, zip, len);
    upload(f, ADMIN, "?filename=Broken.zip", "application/zip", "PK\3\4 not really", 16, &r);
    assert_int_equal(r.status, 202);
    snprintf(id, sizeof id, "%s", json_field(r.body, "import", "id"));
    wait_import(f, id, &r);
    assert_string_equal(json_field(r.body, "import", "state"), "failed");
    assert_non_null(strstr(json_field(r.body, "import", "error"), "Broken.zip"));
    assert_non_null(strstr(r.body, "\"problems\":[{"));
    free(bad);
    free(zip);
}

static void test_an_upload_is_refused_before_its_body_unless_by_the_super_user(void **state)
{
    struct fx *f = start(state);
    char *zip;
    size_t len;
    read_zip(f, &zip, &len);
    struct reply r;
    upload(f, TCA, "", "application/zip", zip, len, &r);
    assert_int_equal(r.status, 403);
    upload(f, -1, "", "application/zip", zip, len, &r);
    assert_int_equal(r.status, 401);
    upload(f, ADMIN, "", "multipart/form-data; boundary=x", zip, len, &r);
    assert_int_equal(r.status, 415);
    upload(f, ADMIN, "?proctored=maybe", "application/zip", zip, len, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "proctored");
    upload(f, ADMIN, "?max_executions=-1", "application/zip", zip, len, &r);
    assert_int_equal(r.status, 400);
    upload(f, ADMIN, "", "application/zip", "", 0, &r);
    assert_int_equal(r.status, 400);
    /* over the limit (64 KiB here) */
    size_t big = 200 * 1024;
    char *junk = calloc(1, big);
    upload(f, ADMIN, "", "application/zip", junk, big, &r);
    assert_int_equal(r.status, 413);
    free(junk);
    /* none of these made a delivery or left a file */
    call(f, ADMIN, "GET", "/api/v1/admin/deliveries", NULL, &r);
    json_t *doc = json_loads(r.body, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(doc, "deliveries")), 1);
    json_decref(doc);
    char *uploads = fs_join(f->inst->dir, "uploads");
    assert_true(!fs_exists(uploads) || fs_dir_is_empty(uploads));
    free(uploads);
    free(zip);
}

/* A package refused because its label is taken runs again as a new version of that delivery
 * (POST /api/v1/admin/imports/{id}/retry); every refusal of the retry has its status. */
static void test_an_upload_refused_for_its_label_runs_again_and_every_refusal_is_told(void **state)
{
    struct fx *f = start(state);
    char *zip;
    size_t len;
    read_zip(f, &zip, &len);
    struct reply r;
    upload(f, ADMIN, "?filename=Demo%20test.zip&label=Maths", "application/zip", zip, len, &r);
    assert_int_equal(r.status, 202);
    char id[IMPORT_JOB_ID_LEN + 8], path[256], other[256];
    snprintf(id, sizeof id, "%s", json_field(r.body, "import", "id"));
    wait_import(f, id, &r);
    assert_string_equal(json_field(r.body, "import", "state"), "failed");
    assert_non_null(strstr(r.body, "\"label_taken\":{"));
    assert_non_null(strstr(r.body, "\"label\":\"Maths\""));
    snprintf(path, sizeof path, "/api/v1/admin/imports/%s/retry", id);

    /* who: no session 401, a test-center administrator 403 */
    call(f, -1, "POST", path, "{\"new_version\": true}", &r);
    assert_int_equal(r.status, 401);
    call(f, TCA, "POST", path, "{\"new_version\": true}", &r);
    assert_int_equal(r.status, 403);
    /* what: both ways, neither, an unknown member, a label that is not text: 400 */
    call(f, ADMIN, "POST", path, "{\"new_version\": true, \"label\": \"X\"}", &r);
    assert_int_equal(r.status, 400);
    call(f, ADMIN, "POST", path, "{}", &r);
    assert_int_equal(r.status, 400);
    call(f, ADMIN, "POST", path, "{\"proctored\": false}", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(json_field(r.body, "error", "message"), "proctored"));
    call(f, ADMIN, "POST", path, "{\"label\": 7}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "label");
    /* which: no such import, no such action: 404 */
    call(f, ADMIN, "POST", "/api/v1/admin/imports/0123456789abcdef0123456789abcdef/retry",
         "{\"new_version\": true}", &r);
    assert_int_equal(r.status, 404);
    snprintf(other, sizeof other, "/api/v1/admin/imports/%s/again", id);
    call(f, ADMIN, "POST", other, "{\"new_version\": true}", &r);
    assert_int_equal(r.status, 404);
    /* none of these took the upload: it runs again as Maths's next version (the same
     * package: nothing changed) */
    call(f, ADMIN, "POST", path, "{\"new_version\": true}", &r);
    assert_int_equal(r.status, 202);
    assert_non_null(header(&r, "Location"));
    char again[IMPORT_JOB_ID_LEN + 8];
    snprintf(again, sizeof again, "%s", json_field(r.body, "import", "id"));
    wait_import(f, again, &r);
    assert_string_equal(json_field(r.body, "import", "state"), "done");
    assert_non_null(strstr(r.body, "\"new_version\":true"));
    assert_non_null(strstr(r.body, "\"changed\":false"));
    assert_string_equal(json_field(r.body, "import", "file"), "Demo test.zip");
    /* run again already: 409 */
    call(f, ADMIN, "POST", path, "{\"label\": \"Maths 2\"}", &r);
    assert_int_equal(r.status, 409);
    /* an import refused for another reason: 409 */
    upload(f, ADMIN, "?filename=Broken.zip", "application/zip", "PK\3\4 not really", 16, &r);
    snprintf(id, sizeof id, "%s", json_field(r.body, "import", "id"));
    wait_import(f, id, &r);
    snprintf(path, sizeof path, "/api/v1/admin/imports/%s/retry", id);
    call(f, ADMIN, "POST", path, "{\"label\": \"Maths 2\"}", &r);
    assert_int_equal(r.status, 409);
    /* still one delivery, and no upload left */
    call(f, ADMIN, "GET", "/api/v1/admin/deliveries", NULL, &r);
    json_t *doc = json_loads(r.body, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(doc, "deliveries")), 1);
    json_decref(doc);
    char *uploads = fs_join(f->inst->dir, "uploads");
    assert_true(!fs_exists(uploads) || fs_dir_is_empty(uploads));
    free(uploads);
    free(zip);
}

/* A client that goes away in the middle of an upload leaves no file behind. */
static void test_an_upload_cut_in_the_middle_leaves_nothing(void **state)
{
    struct fx *f = start(state);
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "POST /api/v1/admin/deliveries/upload?filename=cut.zip HTTP/1.1\r\nHost: x\r\n"
                     "Cookie: outpost_session=%s\r\nX-CSRF-Token: %s\r\n"
                     "Content-Type: application/zip\r\nContent-Length: 60000\r\n\r\n",
                     f->cookie[ADMIN], f->csrf[ADMIN]);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)f->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    static char part[20000];
    memset(part, 'x', sizeof part);
    send(fd, head, (size_t)n, MSG_NOSIGNAL);
    send(fd, part, sizeof part, MSG_NOSIGNAL);
    char *uploads = fs_join(f->inst->dir, "uploads");
    /* the file is being written ... */
    /* bounded polls of 20 s: an ASan server under a loaded CI machine may take seconds to be
     * scheduled (2 s was once too short there) */
    int seen = 0;
    for (int i = 0; i < 2000 && !seen; i++) {
        seen = fs_exists(uploads) && !fs_dir_is_empty(uploads);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_true(seen);
    close(fd); /* ... and the client goes */
    int gone = 0;
    for (int i = 0; i < 2000 && !gone; i++) {
        gone = fs_dir_is_empty(uploads);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_true(gone);
    free(uploads);
    struct reply r;
    call(f, ADMIN, "GET", "/api/v1/admin/deliveries", NULL, &r);
    json_t *doc = json_loads(r.body, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(doc, "deliveries")), 1);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_the_super_user_creates_changes_staffs_and_deletes_a_center,
                                  teardown),
        cmocka_unit_test_teardown(test_bad_center_bodies_are_refused_naming_the_member, teardown),
        cmocka_unit_test_teardown(test_an_administrator_reaches_only_their_centers, teardown),
        cmocka_unit_test_teardown(test_eligibilities_are_set_listed_and_deleted_within_the_scope,
                                  teardown),
        cmocka_unit_test_teardown(
            test_deliveries_are_listed_and_only_the_super_user_publishes_or_withdraws, teardown),
        cmocka_unit_test_teardown(test_an_uploaded_package_is_imported_in_the_background, teardown),
        cmocka_unit_test_teardown(
            test_an_upload_is_refused_before_its_body_unless_by_the_super_user, teardown),
        cmocka_unit_test_teardown(test_an_upload_cut_in_the_middle_leaves_nothing, teardown),
        cmocka_unit_test_teardown(
            test_an_upload_refused_for_its_label_runs_again_and_every_refusal_is_told, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
