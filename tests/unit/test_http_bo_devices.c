/*
 * test_http_bo_devices.c - the backoffice's devices and sync history over HTTP (docs/api.md,
 * "Devices and their syncs"): the real server on a real central, plain sockets. What the
 * super-user and an administrator see, and every refusal: no session (401), a user who lost the
 * backoffice role (403 not_backoffice), another organisation's device or run (404, as an
 * unknown id), a revoke without the CSRF token (403 csrf), from another site (403 cross_site)
 * or with a body (400), bad filters (400 naming the field).
 */
#include "instance_fixture.h"
#include "web_client_fixture.h"

#include <jansson.h>
#include <sodium.h>

#include "app/apitokens.h"
#include "app/devices.h"
#include "app/testcenters.h"
#include "app/users.h"
#include "http/server.h"
#include "store/sync_runs.h"

#define DEV_A "0b6f4a57-1c1e-4d0e-9d3b-5a4e0f7c2d11" /* org-a */
#define DEV_B "1b6f4a57-1c1e-4d0e-9d3b-5a4e0f7c2d22" /* org-b */
#define NO_ID "7d4f0a57-1c1e-4d0e-9d3b-5a4e0f7c2d99"

struct fx {
    struct instance *inst;
    char *dir;
    struct http_server *srv;
    unsigned port;
    char run_a[UUID_STR_LEN], run_b[UUID_STR_LEN];
};

static void add_user(struct fx *f, const char *login, const char *role, const char *org)
{
    char pw[64];
    snprintf(pw, sizeof pw, "pw-%s", login);
    const struct app_user_new in = {login, role, org, NULL, NULL, NULL, NULL, NULL};
    struct op_err e = {0};
    if (app_users_add(f->inst, &in, pw, strlen(pw), NULL, &e) != 0)
        fail_msg("app_users_add %s: %s", login, e.msg);
}

static void add_center(struct fx *f, const char *label, const char *org, const char *admin)
{
    const struct app_center_new in = {label, org, NULL};
    struct test_center c;
    struct op_err e = {0};
    if (app_testcenters_add(f->inst, &in, &c, NULL, &e) != 0 ||
        app_testcenters_assign(f->inst, c.id, admin, CENTER_DUTY_ADMIN, NULL, &e) != 0)
        fail_msg("center %s: %s", label, e.msg);
    test_center_clear(&c);
}

static void enrol(struct fx *f, const char *id, const char *label, const char *org)
{
    struct app_device_enrol_request req = {id, label, org, NULL, {0}};
    randombytes_buf(req.signing_public_key, KEY_PUBLIC_BYTES);
    struct device d;
    struct op_err e = {0};
    if (app_devices_enrol(f->inst, &req, &d, &e) != 0)
        fail_msg("enrol: %s", e.msg);
    device_clear(&d);
}

static void add_run(struct fx *f, const char *device, const char *at, const char *status,
                    char id[UUID_STR_LEN])
{
    struct op_err e = {0};
    uuid_generate(id);
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    if (sync_runs_insert(f->inst->db, id, device, at, &e) != 0 ||
        sync_runs_finish(f->inst->db, id, status, at, "{\"users\":{\"created\":2}}", 1, 999,
                         strcmp(status, "failed") == 0 ? "central unreachable" : NULL, &e) != 0)
        fail_msg("run: %s", e.msg);
    assert_int_equal(db_commit(f->inst->db, &e), 0);
}

/* A central with the super-user admin; tca administers North (org-a), tcb South (org-b); a
 * device of each organisation, each with a run; DEV_A reported its state. */
static struct fx *start(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->inst = fx_instance("central", &f->dir);
    add_user(f, "tca", ROLE_TEST_CENTER_ADMIN, NULL);
    add_user(f, "tcb", ROLE_TEST_CENTER_ADMIN, NULL);
    add_center(f, "North", "org-a", "tca");
    add_center(f, "South", "org-b", "tcb");
    enrol(f, DEV_A, "Laptop A", "org-a");
    enrol(f, DEV_B, "Laptop B", "org-b");
    add_run(f, DEV_A, "2026-12-05T10:00:00Z", "failed", f->run_a);
    add_run(f, DEV_B, "2026-12-06T10:00:00Z", "ok", f->run_b);
    struct op_err e = {0};
    if (app_devices_report_sync(f->inst, DEV_A, "0.13.0", 3, (int64_t)time(NULL), &e) != 0)
        fail_msg("report: %s", e.msg);
    struct http_server_options o;
    http_server_options_default(&o);
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    if (http_server_start(f->inst, &o, &f->srv, &e) != 0)
        fail_msg("http_server_start: %s", e.msg);
    f->port = http_server_port(f->srv);
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

/* Logs `login` in; its cookie and CSRF token into cookie and csrf (128 bytes each). */
static void login(struct fx *f, const char *login, const char *password, char *cookie, char *csrf)
{
    char body[256];
    snprintf(body, sizeof body, "{\"login\": \"%s\", \"password\": \"%s\"}", login, password);
    struct reply r;
    web_call(f->port, "POST", "/api/v1/session", NULL, NULL, body, &r);
    assert_int_equal(r.status, 200);
    snprintf(cookie, 128, "%s", cookie_of(&r));
    snprintf(csrf, 128, "%s", json_field(r.body, "csrf", NULL));
}

static json_t *body_of(const struct reply *r)
{
    json_t *doc = json_loads(r->body, 0, NULL);
    assert_non_null(doc);
    return doc;
}

static void test_super_user_lists_devices_and_runs_and_reads_one_of_each(void **state)
{
    struct fx *f = start(state);
    char cookie[128], csrf[128];
    login(f, "admin", "a-test-password", cookie, csrf);
    struct reply r;
    web_call(f->port, "GET", "/api/v1/admin/devices", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *doc = body_of(&r);
    json_t *devs = json_object_get(doc, "devices");
    assert_int_equal(json_array_size(devs), 2);
    json_t *a = json_array_get(devs, 0);
    assert_string_equal(json_string_value(json_object_get(a, "id")), DEV_A);
    assert_int_equal(json_integer_value(json_object_get(a, "results_waiting")), 3);
    assert_string_equal(json_string_value(json_object_get(a, "software_version")), "0.13.0");
    assert_string_equal(json_string_value(json_object_get(a, "status")), "failed");
    assert_true(json_is_null(json_object_get(doc, "next")));
    json_decref(doc);

    web_call(f->port, "GET", "/api/v1/admin/devices?limit=1", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "next", NULL), DEV_A);
    web_call(f->port, "GET", "/api/v1/admin/devices?limit=1&after=" DEV_A, cookie, NULL, NULL, &r);
    assert_non_null(strstr(r.body, DEV_B));
    web_call(f->port, "GET", "/api/v1/admin/devices?org_id=org-b&org_id_unused=", cookie, NULL,
             NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, DEV_A));

    web_call(f->port, "GET", "/api/v1/admin/devices/" DEV_A, cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    doc = body_of(&r);
    json_t *runs = json_object_get(doc, "runs");
    assert_int_equal(json_array_size(runs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 0), "error")),
                        "central unreachable");
    json_decref(doc);

    web_call(f->port, "GET", "/api/v1/admin/sync-runs", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    doc = body_of(&r);
    runs = json_object_get(doc, "runs");
    assert_int_equal(json_array_size(runs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(runs, 0), "id")),
                        f->run_b); /* newest first */
    json_decref(doc);
    web_call(f->port, "GET", "/api/v1/admin/sync-runs?status=failed&from=2026-12-05&to=2026-12-05",
             cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, f->run_a));
    assert_null(strstr(r.body, f->run_b));
    /* empty filters, as a form sends them, filter nothing */
    web_call(f->port, "GET", "/api/v1/admin/sync-runs?status=&device_id=&from=&to=", cookie, NULL,
             NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, f->run_a));

    char path[128];
    snprintf(path, sizeof path, "/api/v1/admin/sync-runs/%s", f->run_b);
    web_call(f->port, "GET", path, cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "run", "device_label"), "Laptop B");
    web_call(f->port, "GET", "/api/v1/admin/sync-runs/" NO_ID, cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    web_call(f->port, "GET", "/api/v1/admin/devices/" NO_ID, cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
}

static void test_an_administrator_sees_their_organisation_only_and_nothing_else_exists(void **state)
{
    struct fx *f = start(state);
    char cookie[128], csrf[128];
    login(f, "tca", "pw-tca", cookie, csrf);
    struct reply r;
    web_call(f->port, "GET", "/api/v1/admin/devices", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, DEV_A));
    assert_null(strstr(r.body, DEV_B));
    web_call(f->port, "GET", "/api/v1/admin/sync-runs", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, f->run_a));
    assert_null(strstr(r.body, f->run_b));

    /* another organisation's device and run: 404, the answer to an id that does not exist */
    char path[128];
    const char *const gets[] = {"/api/v1/admin/devices/" DEV_B,
                                "/api/v1/admin/sync-runs?device_id=" DEV_B, path};
    snprintf(path, sizeof path, "/api/v1/admin/sync-runs/%s", f->run_b);
    for (int i = 0; i < 3; i++) {
        web_call(f->port, "GET", gets[i], cookie, NULL, NULL, &r);
        assert_int_equal(r.status, 404);
        assert_null(strstr(r.body, "Laptop B"));
    }
    web_call(f->port, "POST", "/api/v1/admin/devices/" DEV_B "/revoke", cookie, csrf, NULL, &r);
    assert_int_equal(r.status, 404);
    struct device d;
    struct op_err e = {0};
    assert_int_equal(app_devices_get(f->inst, DEV_B, &d, &e), 0);
    assert_int_equal(d.revoked, 0);
    device_clear(&d);

    /* their own device: revoked */
    web_call(f->port, "POST", "/api/v1/admin/devices/" DEV_A "/revoke", cookie, csrf, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "device", "status"), "revoked");
}

static void test_refusals_without_session_token_role_or_csrf(void **state)
{
    struct fx *f = start(state);
    const char *const paths[] = {"/api/v1/admin/devices", "/api/v1/admin/devices/" DEV_A,
                                 "/api/v1/admin/sync-runs", "/api/v1/admin/sync-runs/" NO_ID};
    struct reply r;
    for (int i = 0; i < 4; i++) {
        web_call(f->port, "GET", paths[i], NULL, NULL, NULL, &r);
        assert_int_equal(r.status, 401);
    }
    web_call(f->port, "POST", "/api/v1/admin/devices/" DEV_A "/revoke", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 401);

    /* a token of tcb, who then stops being an administrator */
    const struct app_apitoken_new in = {"tcb", 0, "script"};
    struct api_token t;
    char token[OAUTH2_TOKEN_LEN], req[512];
    struct op_err e = {0};
    if (app_apitokens_create(f->inst, &in, &t, token, &e) != 0)
        fail_msg("token: %s", e.msg);
    snprintf(req, sizeof req,
             "GET /api/v1/admin/devices HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             "Authorization: Bearer %s\r\n\r\n",
             token);
    exchange(f->port, req, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, DEV_B));
    struct op_err ue = {0};
    char south[UUID_STR_LEN];
    struct test_center c;
    assert_int_equal(testcenters_find(f->inst->db, "South", &c, &ue), 0);
    memcpy(south, c.id, UUID_STR_LEN);
    test_center_clear(&c);
    assert_int_equal(app_testcenters_unassign(f->inst, south, "tcb", CENTER_DUTY_ADMIN, &e), 0);
    struct user u;
    assert_int_equal(users_get_by_login(f->inst->db, "tcb", &u, &e), 0);
    const struct user_changes ch = {.set = USER_SET_ROLE, .role = ROLE_PROCTOR};
    if (app_users_update(f->inst, u.id, u.version, &ch, NULL, &e) != 0)
        fail_msg("update: %s", e.msg);
    user_clear(&u);
    exchange(f->port, req, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "not_backoffice");

    /* the super-user's session without its CSRF token, or with a body */
    char cookie[128], csrf[128];
    login(f, "admin", "a-test-password", cookie, csrf);
    web_call(f->port, "POST", "/api/v1/admin/devices/" DEV_A "/revoke", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "csrf");
    char xreq[1024];
    snprintf(xreq, sizeof xreq,
             "POST /api/v1/admin/devices/" DEV_A "/revoke HTTP/1.1\r\nHost: x\r\n"
             "Connection: close\r\nCookie: outpost_session=%s\r\nX-CSRF-Token: %s\r\n"
             "Sec-Fetch-Site: cross-site\r\nContent-Length: 0\r\n\r\n",
             cookie, csrf);
    exchange(f->port, xreq, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "cross_site");
    web_call(f->port, "POST", "/api/v1/admin/devices/" DEV_A "/revoke", cookie, csrf,
             "{\"reason\": \"x\"}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "body");
    struct device d;
    assert_int_equal(app_devices_get(f->inst, DEV_A, &d, &e), 0);
    assert_int_equal(d.revoked, 0);
    device_clear(&d);
    web_call(f->port, "POST", "/api/v1/admin/devices/" DEV_A "/revoke", cookie, csrf, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(app_devices_get(f->inst, DEV_A, &d, &e), 0);
    assert_int_equal(d.revoked, 1);
    device_clear(&d);
    /* other shapes of path */
    web_call(f->port, "POST", "/api/v1/admin/devices/" DEV_A "/delete", cookie, csrf, NULL, &r);
    assert_int_equal(r.status, 404);
    web_call(f->port, "GET", "/api/v1/admin/devices/" DEV_A "/x", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
}

static void test_bad_filters_are_400_naming_the_field(void **state)
{
    struct fx *f = start(state);
    char cookie[128], csrf[128];
    login(f, "admin", "a-test-password", cookie, csrf);
    const char *const cases[][2] = {
        {"/api/v1/admin/devices?limit=0", "limit"},
        {"/api/v1/admin/devices?limit=501", "limit"},
        {"/api/v1/admin/devices?after=nope", "after"},
        {"/api/v1/admin/devices?after=" NO_ID, "after"},
        {"/api/v1/admin/sync-runs?status=done", "status"},
        {"/api/v1/admin/sync-runs?from=2026-02-30", "from"},
        {"/api/v1/admin/sync-runs?to=tomorrow", "to"},
        {"/api/v1/admin/sync-runs?from=2026-12-06&to=2026-12-01", "to"},
        {"/api/v1/admin/sync-runs?device_id=laptop", "device_id"},
        {"/api/v1/admin/sync-runs?limit=x", "limit"},
        {"/api/v1/admin/devices/laptop", "id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct reply r;
        web_call(f->port, "GET", cases[i][0], cookie, NULL, NULL, &r);
        if (r.status != 400)
            fail_msg("%s: %d %s", cases[i][0], r.status, r.body);
        assert_string_equal(json_field(r.body, "error", "field"), cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_super_user_lists_devices_and_runs_and_reads_one_of_each,
                                  teardown),
        cmocka_unit_test_teardown(
            test_an_administrator_sees_their_organisation_only_and_nothing_else_exists, teardown),
        cmocka_unit_test_teardown(test_refusals_without_session_token_role_or_csrf, teardown),
        cmocka_unit_test_teardown(test_bad_filters_are_400_naming_the_field, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
