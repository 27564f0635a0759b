/*
 * test_http_backoffice.c - central's backoffice over HTTP (docs/api.md, "Backoffice"): the
 * real server on a real central (its super-user "admin"), spoken to with plain sockets.
 * Login of the super-user and of a test-center administrator; the refusal of test takers,
 * proctors and sync managers (403 not_backoffice, after the password was checked; 401 for a
 * wrong one); bearer API tokens (right, unknown, malformed, revoked, expired, of a user who
 * lost the role); the pages a central serves; and the access rules of app/backoffice.h
 * (scope of an administrator with sub-centers, records out of reach answered as absent).
 */
#include "instance_fixture.h"
#include "web_client_fixture.h"

#include <jansson.h>
#include <sodium.h>
#include <unistd.h>

#include "app/apitokens.h"
#include "app/backoffice.h"
#include "app/eligibilities.h"
#include "app/testcenters.h"
#include "app/users.h"
#include "base/clock.h"
#include "base/fs.h"
#include "http/server.h"
#include "http/webpages.h"

struct fx {
    struct instance *inst;
    char *dir;
    struct http_server *srv;
    unsigned port;
    char north[UUID_STR_LEN], north_sub[UUID_STR_LEN], south[UUID_STR_LEN];
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

static void add_center(struct fx *f, const char *label, const char *parent, char id[UUID_STR_LEN])
{
    const struct app_center_new in = {label, "org-a", parent};
    struct test_center c;
    struct op_err e = {0};
    if (app_testcenters_add(f->inst, &in, &c, NULL, &e) != 0)
        fail_msg("app_testcenters_add: %s", e.msg);
    memcpy(id, c.id, UUID_STR_LEN);
    test_center_clear(&c);
}

static void assign(struct fx *f, const char *center, const char *login, const char *duty)
{
    struct op_err e = {0};
    if (app_testcenters_assign(f->inst, center, login, duty, NULL, &e) != 0)
        fail_msg("assign %s: %s", login, e.msg);
}

/* Whether start() gives the central the default password policy (the fixture's is relaxed). */
static int default_policy;

/* A central with: the super-user admin; tca (administrator of North, which has the
 * sub-center North-1); tcb (administrator of South); a proctor of North-1, a test taker, a
 * sync manager. */
static struct fx *start(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->inst = fx_instance("central", &f->dir);
    add_user(f, "tca", ROLE_TEST_CENTER_ADMIN, NULL);
    add_user(f, "tcb", ROLE_TEST_CENTER_ADMIN, NULL);
    add_user(f, "pr1", ROLE_PROCTOR, NULL);
    add_user(f, "pr2", ROLE_PROCTOR, NULL);
    add_user(f, "tt1", ROLE_TEST_TAKER, NULL);
    add_user(f, "sm1", ROLE_SYNC_MANAGER, "org-a");
    add_center(f, "North", NULL, f->north);
    add_center(f, "North-1", f->north, f->north_sub);
    add_center(f, "South", NULL, f->south);
    assign(f, f->north, "tca", CENTER_DUTY_ADMIN);
    assign(f, f->south, "tcb", CENTER_DUTY_ADMIN);
    assign(f, f->north_sub, "pr1", CENTER_DUTY_PROCTOR);
    assign(f, f->south, "pr2", CENTER_DUTY_PROCTOR);
    if (default_policy) /* as a setup file that says nothing about it: the default policy */
        password_policy_default(&f->inst->settings.password_policy);
    struct http_server_options o;
    http_server_options_default(&o);
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    struct op_err e = {0};
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
    clock_set(NULL);
    return 0;
}

static void login_as(struct fx *f, const char *login, const char *password, struct reply *r)
{
    char body[512];
    snprintf(body, sizeof body, "{\"login\": \"%s\", \"password\": \"%s\"}", login, password);
    web_call(f->port, "POST", "/api/v1/session", NULL, NULL, body, r);
}

/* A request with an Authorization header (and no cookie), and a body of `type`. */
static void bearer_send(struct fx *f, const char *method, const char *path,
                        const char *authorization, const char *type, const char *body,
                        struct reply *r)
{
    static char req[65536];
    snprintf(req, sizeof req,
             "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: %s\r\n"
             "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
             method, path, authorization, type ? type : "application/json", body ? strlen(body) : 0,
             body ? body : "");
    exchange(f->port, req, r);
}

static void bearer_call(struct fx *f, const char *method, const char *path,
                        const char *authorization, struct reply *r)
{
    bearer_send(f, method, path, authorization, NULL, NULL, r);
}

/* ---- login ---- */

static void test_the_super_user_logs_in_and_sees_everything(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    login_as(f, "admin", "a-test-password", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(header(&r, "Set-Cookie"), "; HttpOnly"));
    assert_non_null(strstr(r.body, "\"roles\":[\"super_user\"]"));
    char cookie[128];
    snprintf(cookie, sizeof cookie, "%s", cookie_of(&r));
    web_call(f->port, "GET", "/api/v1/admin/me", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "user", "role"), "super-user");
    assert_non_null(strstr(r.body, "\"super\":true"));
    assert_non_null(strstr(r.body, "\"centers\":[]"));
}

static void test_an_administrator_reaches_their_centers_and_sub_centers(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    login_as(f, "tca", "pw-tca", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"roles\":[\"test_center_admin\"]"));
    char cookie[128];
    snprintf(cookie, sizeof cookie, "%s", cookie_of(&r));
    web_call(f->port, "GET", "/api/v1/admin/me", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, f->north));
    assert_non_null(strstr(r.body, f->north_sub));
    assert_null(strstr(r.body, f->south));
    assert_non_null(strstr(r.body, "\"super\":false"));
}

static void test_test_takers_proctors_and_sync_managers_are_refused(void **state)
{
    struct fx *f = start(state);
    const char *const logins[] = {"tt1", "pr1", "sm1"};
    for (int i = 0; i < 3; i++) {
        struct reply r;
        char pw[32];
        snprintf(pw, sizeof pw, "pw-%s", logins[i]);
        login_as(f, logins[i], pw, &r);
        assert_int_equal(r.status, 403);
        assert_string_equal(json_field(r.body, "error", "code"), "not_backoffice");
        assert_null(header(&r, "Set-Cookie"));
        /* a wrong password learns nothing of the role */
        login_as(f, logins[i], "not-it", &r);
        assert_int_equal(r.status, 401);
        assert_string_equal(json_field(r.body, "error", "message"), "wrong login or password");
    }
    struct reply r;
    login_as(f, "nobody", "not-it", &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(json_field(r.body, "error", "message"), "wrong login or password");
}

static void test_a_session_without_its_csrf_token_changes_nothing(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    login_as(f, "admin", "a-test-password", &r);
    char cookie[128], csrf[128];
    snprintf(cookie, sizeof cookie, "%s", cookie_of(&r));
    snprintf(csrf, sizeof csrf, "%s", json_field(r.body, "csrf", NULL));
    web_call(f->port, "DELETE", "/api/v1/session", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "csrf");
    web_call(f->port, "GET", "/api/v1/admin/me", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200); /* still logged in */
    web_call(f->port, "DELETE", "/api/v1/session", cookie, csrf, NULL, &r);
    assert_int_equal(r.status, 204);
    web_call(f->port, "GET", "/api/v1/admin/me", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    web_call(f->port, "GET", "/api/v1/admin/me", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
}

static void test_a_user_who_loses_the_role_loses_the_backoffice_at_once(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    login_as(f, "tcb", "pw-tcb", &r);
    char cookie[128];
    snprintf(cookie, sizeof cookie, "%s", cookie_of(&r));
    struct op_err e = {0};
    assert_int_equal(app_testcenters_unassign(f->inst, f->south, "tcb", CENTER_DUTY_ADMIN, &e), 0);
    struct user u;
    assert_int_equal(users_get_by_login(f->inst->db, "tcb", &u, &e), 0);
    const struct user_changes ch = {.set = USER_SET_ROLE, .role = ROLE_PROCTOR};
    assert_int_equal(app_users_update(f->inst, u.id, u.version, &ch, NULL, &e), 0);
    user_clear(&u);
    web_call(f->port, "GET", "/api/v1/admin/me", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "not_backoffice");
}

/* ---- bearer tokens ---- */

static void make_token(struct fx *f, const char *login, int days, char token[OAUTH2_TOKEN_LEN],
                       char id[UUID_STR_LEN])
{
    const struct app_apitoken_new in = {login, days, "script"};
    struct api_token t;
    struct op_err e = {0};
    if (app_apitokens_create(f->inst, &in, &t, token, &e) != 0)
        fail_msg("app_apitokens_create: %s", e.msg);
    memcpy(id, t.id, UUID_STR_LEN);
}

static void test_an_api_token_acts_as_its_user_until_revoked(void **state)
{
    struct fx *f = start(state);
    char token[OAUTH2_TOKEN_LEN], id[UUID_STR_LEN], auth[128];
    make_token(f, "tca", 0, token, id);
    snprintf(auth, sizeof auth, "Bearer %s", token);
    struct reply r;
    bearer_call(f, "GET", "/api/v1/admin/me", auth, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "user", "login"), "tca");
    /* only the hash is stored */
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM api_tokens WHERE token_hash = '%s'", token);
    assert_int_equal(testutil_query_int(f->inst->db, sql), 0);

    bearer_call(f, "GET", "/api/v1/admin/me", "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(header(&r, "WWW-Authenticate"), "invalid_token"));
    bearer_call(f, "GET", "/api/v1/admin/me", "Bearer a b", &r);
    assert_int_equal(r.status, 401);
    bearer_call(f, "GET", "/api/v1/admin/me", "Basic YTpi", &r);
    assert_int_equal(r.status, 401);

    struct op_err e = {0};
    int changed = 0;
    assert_int_equal(app_apitokens_revoke(f->inst, id, &changed, &e), 0);
    assert_int_equal(changed, 1);
    bearer_call(f, "GET", "/api/v1/admin/me", auth, &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "revoked"));
    assert_int_equal(app_apitokens_revoke(f->inst, id, &changed, &e), 0);
    assert_int_equal(changed, 0);
    sodium_memzero(token, sizeof token);
}

static void test_an_api_token_expires(void **state)
{
    struct fx *f = start(state);
    char token[OAUTH2_TOKEN_LEN], id[UUID_STR_LEN], auth[128];
    make_token(f, "admin", 1, token, id);
    snprintf(auth, sizeof auth, "Bearer %s", token);
    struct reply r;
    bearer_call(f, "GET", "/api/v1/admin/me", auth, &r);
    assert_int_equal(r.status, 200);
    static struct op_clock later = {clock_fixed, NULL};
    static time_t when;
    when = time(NULL) + 2 * 86400;
    later.ctx = &when;
    clock_set(&later);
    bearer_call(f, "GET", "/api/v1/admin/me", auth, &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "expired"));
}

static void test_api_tokens_are_for_backoffice_users_only(void **state)
{
    struct fx *f = start(state);
    const char *const logins[] = {"tt1", "pr1", "sm1"};
    for (int i = 0; i < 3; i++) {
        const struct app_apitoken_new in = {logins[i], 0, NULL};
        struct api_token t;
        char token[OAUTH2_TOKEN_LEN];
        struct op_err e = {0};
        assert_int_equal(app_apitokens_create(f->inst, &in, &t, token, &e), OP_EINPUT);
    }
    const struct app_apitoken_new unknown = {"nobody", 0, NULL}, bad_days = {"admin", 9999, NULL};
    struct api_token t;
    char token[OAUTH2_TOKEN_LEN];
    struct op_err e = {0};
    assert_int_equal(app_apitokens_create(f->inst, &unknown, &t, token, &e), OP_ENOTFOUND);
    assert_int_equal(app_apitokens_create(f->inst, &bad_days, &t, token, &e), OP_EINPUT);
    /* a token whose user lost the role is refused as that user would be */
    char id[UUID_STR_LEN], auth[128];
    make_token(f, "tcb", 0, token, id);
    snprintf(auth, sizeof auth, "Bearer %s", token);
    struct user u;
    assert_int_equal(app_testcenters_unassign(f->inst, f->south, "tcb", CENTER_DUTY_ADMIN, &e), 0);
    assert_int_equal(users_get_by_login(f->inst->db, "tcb", &u, &e), 0);
    const struct user_changes ch = {.set = USER_SET_ROLE, .role = ROLE_PROCTOR};
    assert_int_equal(app_users_update(f->inst, u.id, u.version, &ch, NULL, &e), 0);
    user_clear(&u);
    struct reply r;
    bearer_call(f, "GET", "/api/v1/admin/me", auth, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "not_backoffice");
    /* and a deleted user's tokens go with them */
    assert_int_equal(app_users_delete(f->inst, "tcb", &e), 0);
    bearer_call(f, "GET", "/api/v1/admin/me", auth, &r);
    assert_int_equal(r.status, 401);
}

/* ---- pages ---- */

static void test_central_serves_the_backoffice_not_the_device_pages(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    web_call(f->port, "GET", "/", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "/admin/login.js"));
    assert_non_null(strstr(header(&r, "Content-Security-Policy"), "default-src 'self'"));
    web_call(f->port, "GET", "/admin/users.html", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "style="));
    web_call(f->port, "GET", "/admin/bo.js", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    web_call(f->port, "GET", "/lib.js", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    web_call(f->port, "GET", "/take.html", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    web_call(f->port, "GET", "/proctor.js", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
}

/* ---- the access rules (app/backoffice.h) ---- */

static void test_the_access_rules(void **state)
{
    struct fx *f = start(state);
    struct op_err e = {0};
    struct user u;
    assert_int_equal(users_get_by_login(f->inst->db, "tca", &u, &e), 0);
    struct bo_caller tca;
    assert_int_equal(app_bo_caller_load(f->inst, u.id, &tca, &e), 0);
    user_clear(&u);
    assert_int_equal(app_bo_access_center(&tca, f->north, &e), 0);
    assert_int_equal(app_bo_access_center(&tca, f->north_sub, &e), 0);
    assert_int_equal(app_bo_access_center(&tca, f->south, &e), OP_ENOTFOUND);
    assert_int_equal(app_bo_access_center(&tca, "no-such-id", &e), OP_ENOTFOUND);
    assert_int_equal(app_bo_require_super(&tca, "import users", &e), OP_EFORBIDDEN);

    /* users: staff of the scope (pr1 at the sub-center), not of another center (pr2) */
    struct user pr1, pr2, tt1;
    assert_int_equal(users_get_by_login(f->inst->db, "pr1", &pr1, &e), 0);
    assert_int_equal(users_get_by_login(f->inst->db, "pr2", &pr2, &e), 0);
    assert_int_equal(users_get_by_login(f->inst->db, "tt1", &tt1, &e), 0);
    assert_int_equal(app_bo_access_user(f->inst, &tca, pr1.id, &e), 0);
    assert_int_equal(app_bo_access_user(f->inst, &tca, pr2.id, &e), OP_ENOTFOUND);
    /* a test taker is reached once eligible at a center of the scope */
    assert_int_equal(app_bo_access_user(f->inst, &tca, tt1.id, &e), OP_ENOTFOUND);

    struct bo_caller admin;
    assert_int_equal(users_get_by_login(f->inst->db, "admin", &u, &e), 0);
    assert_int_equal(app_bo_caller_load(f->inst, u.id, &admin, &e), 0);
    user_clear(&u);
    assert_int_equal(app_bo_access_center(&admin, f->south, &e), 0);
    assert_int_equal(app_bo_access_user(f->inst, &admin, pr2.id, &e), 0);
    assert_int_equal(app_bo_require_super(&admin, "import users", &e), 0);

    struct bo_caller refused;
    assert_int_equal(app_bo_caller_load(f->inst, tt1.id, &refused, &e), OP_EFORBIDDEN);
    assert_string_equal(e.field, BO_FIELD_ROLE);
    assert_int_equal(app_bo_caller_load(f->inst, "no-such-id", &refused, &e), OP_EUNAUTH);

    user_clear(&pr1);
    user_clear(&pr2);
    user_clear(&tt1);
    app_bo_caller_clear(&tca);
    app_bo_caller_clear(&admin);
}

/* ---- users (api_bo_users.c, app/bo_users.h) ---- */

/* An Authorization header value for a new token of `login` (static). */
static const char *auth_of(struct fx *f, const char *login)
{
    static char auth[2][128];
    static int turn;
    char token[OAUTH2_TOKEN_LEN], id[UUID_STR_LEN];
    make_token(f, login, 0, token, id);
    turn = !turn;
    snprintf(auth[turn], sizeof auth[turn], "Bearer %s", token);
    return auth[turn];
}

static const char *user_id_of(struct fx *f, const char *login)
{
    static char id[UUID_STR_LEN];
    struct user u;
    struct op_err e = {0};
    assert_int_equal(users_get_by_login(f->inst->db, login, &u, &e), 0);
    memcpy(id, u.id, sizeof id);
    user_clear(&u);
    return id;
}

/* The logins of a list answer, comma-separated (static), and its "next" ("" for null). */
static const char *logins_of(const char *body, const char **next)
{
    static char out[8192], nx[300];
    out[0] = nx[0] = '\0';
    json_t *doc = json_loads(body, 0, NULL);
    assert_non_null(doc);
    json_t *arr = json_object_get(doc, "users"), *u;
    size_t i;
    json_array_foreach(arr, i, u)
    {
        size_t n = strlen(out);
        snprintf(out + n, sizeof out - n, "%s%s", i ? "," : "",
                 json_string_value(json_object_get(u, "login")));
    }
    const char *x = json_string_value(json_object_get(doc, "next"));
    snprintf(nx, sizeof nx, "%s", x ? x : "");
    if (next)
        *next = nx;
    json_decref(doc);
    return out;
}

static void test_the_users_list_searches_filters_and_pages(void **state)
{
    struct fx *f = start(state);
    for (int i = 0; i < 120; i++) {
        char login[32];
        snprintf(login, sizeof login, "u%03d", i);
        add_user(f, login, i % 2 ? ROLE_TEST_TAKER : ROLE_PROCTOR, NULL);
    }
    const char *auth = auth_of(f, "admin");
    struct reply r;
    /* every user, a page of 50 at a time, each once, in login order */
    char after[300] = "", prev[300] = "";
    int total = 0, pages = 0;
    do {
        char path[512];
        snprintf(path, sizeof path, "/api/v1/admin/users?limit=50&after=%s", after);
        bearer_call(f, "GET", path, auth, &r);
        assert_int_equal(r.status, 200);
        const char *next;
        const char *list = logins_of(r.body, &next);
        for (const char *p = list; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 1 : 0)) {
            char l[300];
            snprintf(l, sizeof l, "%.*s", (int)strcspn(p, ","), p);
            assert_true(strcmp(l, prev) > 0);
            snprintf(prev, sizeof prev, "%s", l);
            total++;
        }
        snprintf(after, sizeof after, "%s", next);
        pages++;
    } while (after[0]);
    assert_int_equal(total, 127); /* admin, 6 of the fixture, 120 */
    assert_int_equal(pages, 3);

    /* search: a substring of login, label or names, any case */
    bearer_call(f, "GET", "/api/v1/admin/users?q=U11", auth, &r);
    assert_string_equal(logins_of(r.body, NULL),
                        "u110,u111,u112,u113,u114,u115,u116,u117,u118,u119");
    bearer_call(f, "GET", "/api/v1/admin/users?q=u11&role=proctor", auth, &r);
    assert_string_equal(logins_of(r.body, NULL), "u110,u112,u114,u116,u118");
    bearer_call(f, "GET", "/api/v1/admin/users?q=%25", auth, &r); /* LIKE's own: literal */
    assert_int_equal(r.status, 200);
    assert_string_equal(logins_of(r.body, NULL), "");
    bearer_call(f, "GET", "/api/v1/admin/users?role=super-user", auth, &r);
    assert_string_equal(logins_of(r.body, NULL), "admin");

    bearer_call(f, "GET", "/api/v1/admin/users?role=wizard", auth, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "role");
    bearer_call(f, "GET", "/api/v1/admin/users?limit=0", auth, &r);
    assert_int_equal(r.status, 400);
    bearer_call(f, "GET", "/api/v1/admin/users?limit=201", auth, &r);
    assert_int_equal(r.status, 400);
}

static void test_an_administrator_lists_and_reads_their_centers_users_only(void **state)
{
    struct fx *f = start(state);
    /* tt1 becomes a test taker of the sub-center North-1 */
    struct op_err e = {0};
    const char *auth = auth_of(f, "tca");
    struct reply r;
    bearer_call(f, "GET", "/api/v1/admin/users", auth, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(logins_of(r.body, NULL), "pr1,tca"); /* pr1 of North-1, tca of North */
    bearer_call(f, "GET", "/api/v1/admin/users?role=proctor", auth, &r);
    assert_string_equal(logins_of(r.body, NULL), "pr1");
    char path[256];
    snprintf(path, sizeof path, "/api/v1/admin/users/%s", user_id_of(f, "pr1"));
    bearer_call(f, "GET", path, auth, &r);
    assert_int_equal(r.status, 200);
    snprintf(path, sizeof path, "/api/v1/admin/users/%s", user_id_of(f, "pr2"));
    bearer_call(f, "GET", path, auth, &r);
    assert_int_equal(r.status, 404); /* another center's: as if absent */
    bearer_call(f, "GET", "/api/v1/admin/users/no-such-user", auth, &r);
    assert_int_equal(r.status, 404);
    (void)e;
}

/* An administrator whose reach is large (more than the 2000 users store/users.c reads the
 * other way): every one of them once, in order, and no one else. */
static void test_a_large_reach_is_listed_whole_and_in_order(void **state)
{
    struct fx *f = start(state);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2100)"
             " INSERT INTO users (id, login, role, label, password_hash, created_at, updated_at)"
             " SELECT 'big-' || i, 'big' || i, 'proctor', 'Big ' || i, 'x',"
             " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM n");
    struct op_err e = {0};
    assert_int_equal(db_exec(f->inst->db, sql, &e), 0);
    snprintf(sql, sizeof sql,
             "INSERT INTO test_center_staff (center_id, user_id, duty) SELECT '%s', id,"
             " 'proctor' FROM users WHERE login LIKE 'big%%'",
             f->north_sub);
    assert_int_equal(db_exec(f->inst->db, sql, &e), 0);
    const char *auth = auth_of(f, "tca");
    struct reply r;
    char after[300] = "", prev[300] = "";
    int total = 0;
    do {
        char path[512];
        snprintf(path, sizeof path, "/api/v1/admin/users?limit=200&after=%s", after);
        bearer_call(f, "GET", path, auth, &r);
        assert_int_equal(r.status, 200);
        const char *next;
        const char *list = logins_of(r.body, &next);
        for (const char *p = list; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 1 : 0)) {
            char l[300];
            snprintf(l, sizeof l, "%.*s", (int)strcspn(p, ","), p);
            assert_true(strcmp(l, prev) > 0);
            assert_true(strncmp(l, "big", 3) == 0 || strcmp(l, "pr1") == 0 ||
                        strcmp(l, "tca") == 0);
            snprintf(prev, sizeof prev, "%s", l);
            total++;
        }
        snprintf(after, sizeof after, "%s", next);
    } while (after[0]);
    assert_int_equal(total, 2102);
    bearer_call(f, "GET", "/api/v1/admin/users?q=BIG210&role=proctor", auth, &r);
    assert_string_equal(logins_of(r.body, NULL), "big210,big2100");
    /* the other administrator's reach is still theirs alone */
    bearer_call(f, "GET", "/api/v1/admin/users", auth_of(f, "tcb"), &r);
    assert_string_equal(logins_of(r.body, NULL), "pr2,tcb");
}

static void test_users_are_created_edited_reset_and_deleted(void **state)
{
    struct fx *f = start(state);
    const char *su = auth_of(f, "admin");
    struct reply r;
    bearer_send(f, "POST", "/api/v1/admin/users", su, NULL,
                "{\"login\": \"ada\", \"role\": \"proctor\", \"password\": \"pw-ada\","
                " \"label\": \"Ada L\", \"mail\": \"ada@example.org\"}",
                &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(json_field(r.body, "user", "label"), "Ada L");
    assert_null(strstr(r.body, "password"));
    bearer_send(f, "POST", "/api/v1/admin/users", su, NULL,
                "{\"login\": \"ada\", \"role\": \"proctor\", \"password\": \"x\"}", &r);
    assert_int_equal(r.status, 409);
    bearer_send(f, "POST", "/api/v1/admin/users", su, NULL,
                "{\"login\": \"bob\", \"role\": \"proctor\"}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "password");
    bearer_send(f, "POST", "/api/v1/admin/users", su, NULL,
                "{\"login\": \"bob\", \"role\": \"proctor\", \"password\": \"x\", \"admin\": true}",
                &r);
    assert_int_equal(r.status, 400);
    bearer_send(f, "POST", "/api/v1/admin/users", su, NULL,
                "{\"login\": \"bob\", \"role\": \"sync-manager\", \"password\": \"x\"}", &r);
    assert_int_equal(r.status, 400); /* a sync manager needs an organisation */
    bearer_send(f, "POST", "/api/v1/admin/users", su, "text/plain", "{}", &r);
    assert_int_equal(r.status, 415);

    char path[256];
    snprintf(path, sizeof path, "/api/v1/admin/users/%s", user_id_of(f, "ada"));
    bearer_send(f, "PATCH", path, su, NULL,
                "{\"version\": 1, \"first_name\": \"Ada\", \"mail\": null}", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "user", "first_name"), "Ada");
    assert_non_null(strstr(r.body, "\"mail\":null"));
    bearer_send(f, "PATCH", path, su, NULL, "{\"version\": 1, \"last_name\": \"L\"}", &r);
    assert_int_equal(r.status, 409); /* stale: someone saved since */
    bearer_send(f, "PATCH", path, su, NULL, "{\"version\": 2, \"role\": \"test-taker\"}", &r);
    assert_int_equal(r.status, 400); /* no role, no login, no password here */
    bearer_send(f, "PATCH", path, su, NULL, "{\"last_name\": \"L\"}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "version");

    char pw_path[300];
    snprintf(pw_path, sizeof pw_path, "%s/password", path);
    bearer_send(f, "POST", pw_path, su, NULL, "{\"password\": \"a-new-one\"}", &r);
    assert_int_equal(r.status, 204);
    struct reply lr;
    web_call(f->port, "POST", "/api/v1/session", NULL, NULL,
             "{\"login\": \"ada\", \"password\": \"a-new-one\"}", &lr);
    assert_int_equal(lr.status, 403); /* the new password is right; a proctor has no backoffice */
    assert_string_equal(json_field(lr.body, "error", "code"), "not_backoffice");
    bearer_send(f, "POST", pw_path, su, NULL, "{\"password\": \"\"}", &r);
    assert_int_equal(r.status, 400);

    bearer_call(f, "DELETE", path, su, &r);
    assert_int_equal(r.status, 204);
    bearer_call(f, "GET", path, su, &r);
    assert_int_equal(r.status, 404);
    snprintf(path, sizeof path, "/api/v1/admin/users/%s", user_id_of(f, "admin"));
    bearer_call(f, "DELETE", path, su, &r);
    assert_int_equal(r.status, 400); /* never the super-user */
}

/* The backoffice's user create and password reset call the application layer, which keeps
 * the instance's password policy: each rule refused with 400, the field "password" and the
 * rule named; a password the policy accepts goes through. */
static void test_the_backoffice_keeps_the_password_policy(void **state)
{
    default_policy = 1;
    struct fx *f = start(state);
    default_policy = 0;
    const char *su = auth_of(f, "admin");
    struct reply r;
    const char *refused[][2] = {
        {"{\"login\": \"ada\", \"role\": \"proctor\", \"password\": \"pw-ada\"}", "min-length"},
        {"{\"login\": \"ada.lovelace\", \"role\": \"proctor\", \"password\": \"Ada.Lovelace\"}",
         "refuse-login"},
        {"{\"login\": \"ada\", \"role\": \"proctor\", \"password\": \"qwertyuiop\"}",
         "refuse-common"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        bearer_send(f, "POST", "/api/v1/admin/users", su, NULL, refused[i][0], &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(json_field(r.body, "error", "field"), "password");
        assert_non_null(strstr(json_field(r.body, "error", "message"), refused[i][1]));
    }
    bearer_send(f, "POST", "/api/v1/admin/users", su, NULL,
                "{\"login\": \"ada\", \"role\": \"proctor\", \"password\": \"a-long-pass-phrase\"}",
                &r);
    assert_int_equal(r.status, 201);
    char pw_path[300];
    snprintf(pw_path, sizeof pw_path, "/api/v1/admin/users/%s/password", user_id_of(f, "ada"));
    bearer_send(f, "POST", pw_path, su, NULL, "{\"password\": \"1234567890\"}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "password");
    assert_non_null(strstr(json_field(r.body, "error", "message"), "refuse-common"));
    bearer_send(f, "POST", pw_path, su, NULL, "{\"password\": \"another-long-one\"}", &r);
    assert_int_equal(r.status, 204);
}

static void test_an_administrator_changes_only_their_test_takers_and_proctors(void **state)
{
    struct fx *f = start(state);
    const char *tca = auth_of(f, "tca");
    struct reply r;
    bearer_send(f, "POST", "/api/v1/admin/users", tca, NULL,
                "{\"login\": \"ada\", \"role\": \"proctor\", \"password\": \"pw-ada\"}", &r);
    assert_int_equal(r.status, 403);
    char path[256], pw_path[300];
    snprintf(path, sizeof path, "/api/v1/admin/users/%s", user_id_of(f, "pr1"));
    bearer_call(f, "GET", path, tca, &r);
    json_t *doc = json_loads(r.body, 0, NULL);
    char patch[128];
    snprintf(
        patch, sizeof patch, "{\"version\": %lld, \"label\": \"Pat\"}",
        (long long)json_integer_value(json_object_get(json_object_get(doc, "user"), "version")));
    json_decref(doc);
    bearer_send(f, "PATCH", path, tca, NULL, patch, &r);
    assert_int_equal(r.status, 200);
    snprintf(pw_path, sizeof pw_path, "%s/password", path);
    bearer_send(f, "POST", pw_path, tca, NULL, "{\"password\": \"pw-new\"}", &r);
    assert_int_equal(r.status, 204);
    bearer_call(f, "DELETE", path, tca, &r);
    assert_int_equal(r.status, 403);
    /* another center's proctor: not found, whatever the action */
    snprintf(path, sizeof path, "/api/v1/admin/users/%s", user_id_of(f, "pr2"));
    bearer_send(f, "PATCH", path, tca, NULL, "{\"version\": 1, \"label\": \"X\"}", &r);
    assert_int_equal(r.status, 404);
    snprintf(pw_path, sizeof pw_path, "%s/password", path);
    bearer_send(f, "POST", pw_path, tca, NULL, "{\"password\": \"pw-new\"}", &r);
    assert_int_equal(r.status, 404);
    /* an administrator of their own center is in reach, but not theirs to change */
    snprintf(path, sizeof path, "/api/v1/admin/users/%s", user_id_of(f, "tca"));
    bearer_send(f, "PATCH", path, tca, NULL, "{\"version\": 1, \"label\": \"Me\"}", &r);
    assert_int_equal(r.status, 403);
    bearer_send(f, "POST", "/api/v1/admin/users/import?role=test-taker", tca, "text/csv",
                "Login,Password\nzed,pw\n", &r);
    assert_int_equal(r.status, 403);
}

static void test_a_change_by_session_needs_the_csrf_token(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    login_as(f, "admin", "a-test-password", &r);
    char cookie[128], csrf[128];
    snprintf(cookie, sizeof cookie, "%s", cookie_of(&r));
    snprintf(csrf, sizeof csrf, "%s", json_field(r.body, "csrf", NULL));
    const char *body = "{\"login\": \"ada\", \"role\": \"proctor\", \"password\": \"pw\"}";
    web_call(f->port, "POST", "/api/v1/admin/users", cookie, NULL, body, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "csrf");
    web_call(f->port, "POST", "/api/v1/admin/users", cookie,
             "not-the-token-not-the-token-not-the-token12", body, &r);
    assert_int_equal(r.status, 403);
    web_call(f->port, "POST", "/api/v1/admin/users", cookie, csrf, body, &r);
    assert_int_equal(r.status, 201);
    web_call(f->port, "GET", "/api/v1/admin/users?q=ada", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200); /* a read needs no token */
}

/* Polls an import job until it ends; its final answer in *r. */
static void wait_job(struct fx *f, const char *auth, const char *id, struct reply *r)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/admin/users/import/%s", id);
    for (int i = 0; i < 300; i++) {
        bearer_call(f, "GET", path, auth, r);
        assert_int_equal(r->status, 200);
        if (strcmp(json_field(r->body, "job", "state"), "running") != 0)
            return;
        usleep(50 * 1000);
    }
    fail_msg("the import did not end");
}

static void test_a_csv_import_runs_in_the_background_all_or_nothing(void **state)
{
    struct fx *f = start(state);
    const char *su = auth_of(f, "admin");
    struct reply r;
    bearer_send(f, "POST", "/api/v1/admin/users/import?role=test-taker&name=class.csv", su,
                "text/csv", "Login,Password,Label\nzoe,pw-zoe,Zoe\nyan,pw-yan,Yan\n", &r);
    assert_int_equal(r.status, 202);
    char id[64];
    snprintf(id, sizeof id, "%s", json_field(r.body, "job", "id"));
    wait_job(f, su, id, &r);
    assert_string_equal(json_field(r.body, "job", "state"), "done");
    assert_non_null(strstr(r.body, "\"created\":2"));
    assert_non_null(strstr(r.body, "\"percent\":100"));
    assert_int_equal(
        testutil_query_int(f->inst->db, "SELECT count(*) FROM users WHERE login IN ('zoe', 'yan')"),
        2);

    /* a bad row: nothing imported, the row named; the server's path never shown */
    bearer_send(f, "POST", "/api/v1/admin/users/import?role=test-taker&name=bad.csv", su,
                "text/csv", "Login,Password\nxia,pw-xia\n,pw-nobody\n", &r);
    assert_int_equal(r.status, 202);
    snprintf(id, sizeof id, "%s", json_field(r.body, "job", "id"));
    wait_job(f, su, id, &r);
    assert_string_equal(json_field(r.body, "job", "state"), "failed");
    assert_non_null(strstr(r.body, "\"line\":3"));
    assert_non_null(strstr(r.body, "bad.csv"));
    assert_null(strstr(r.body, "uploads"));
    assert_int_equal(
        testutil_query_int(f->inst->db, "SELECT count(*) FROM users WHERE login = 'xia'"), 0);
    /* both uploads are gone with their jobs */
    char *uploads = instance_path(f->inst, "uploads");
    assert_int_equal(fs_dir_is_empty(uploads), 1);
    free(uploads);

    /* the job is its starter's only */
    char path[256];
    snprintf(path, sizeof path, "/api/v1/admin/users/import/%s", id);
    char token[OAUTH2_TOKEN_LEN], tid[UUID_STR_LEN], other[128];
    make_token(f, "admin", 0, token, tid);
    snprintf(other, sizeof other, "Bearer %s", token);
    bearer_call(f, "GET", path, other, &r);
    assert_int_equal(r.status, 200); /* the same user with another token */
    bearer_call(f, "GET", path, auth_of(f, "tca"), &r);
    assert_int_equal(r.status, 404);
    bearer_call(f, "GET", "/api/v1/admin/users/import/nope", su, &r);
    assert_int_equal(r.status, 404);

    bearer_send(f, "POST", "/api/v1/admin/users/import?role=wizard", su, "text/csv",
                "Login,Password\n", &r);
    assert_int_equal(r.status, 400);
    bearer_send(f, "POST", "/api/v1/admin/users/import?role=test-taker", su, "application/json",
                "{}", &r);
    assert_int_equal(r.status, 415);
    bearer_send(f, "POST", "/api/v1/admin/users/import?role=test-taker", su, "text/csv", "", &r);
    assert_int_equal(r.status, 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_the_super_user_logs_in_and_sees_everything, teardown),
        cmocka_unit_test_teardown(test_an_administrator_reaches_their_centers_and_sub_centers,
                                  teardown),
        cmocka_unit_test_teardown(test_test_takers_proctors_and_sync_managers_are_refused,
                                  teardown),
        cmocka_unit_test_teardown(test_a_session_without_its_csrf_token_changes_nothing, teardown),
        cmocka_unit_test_teardown(test_a_user_who_loses_the_role_loses_the_backoffice_at_once,
                                  teardown),
        cmocka_unit_test_teardown(test_an_api_token_acts_as_its_user_until_revoked, teardown),
        cmocka_unit_test_teardown(test_an_api_token_expires, teardown),
        cmocka_unit_test_teardown(test_api_tokens_are_for_backoffice_users_only, teardown),
        cmocka_unit_test_teardown(test_central_serves_the_backoffice_not_the_device_pages,
                                  teardown),
        cmocka_unit_test_teardown(test_the_access_rules, teardown),
        cmocka_unit_test_teardown(test_the_users_list_searches_filters_and_pages, teardown),
        cmocka_unit_test_teardown(test_an_administrator_lists_and_reads_their_centers_users_only,
                                  teardown),
        cmocka_unit_test_teardown(test_a_large_reach_is_listed_whole_and_in_order, teardown),
        cmocka_unit_test_teardown(test_users_are_created_edited_reset_and_deleted, teardown),
        cmocka_unit_test_teardown(test_the_backoffice_keeps_the_password_policy, teardown),
        cmocka_unit_test_teardown(test_an_administrator_changes_only_their_test_takers_and_proctors,
                                  teardown),
        cmocka_unit_test_teardown(test_a_change_by_session_needs_the_csrf_token, teardown),
        cmocka_unit_test_teardown(test_a_csv_import_runs_in_the_background_all_or_nothing,
                                  teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
