/*
 * test_http_session.c - the device's web sessions over HTTP (docs/web.md): the real server
 * (http/server.h with the API's routes) on a free port of 127.0.0.1 over a real device whose
 * synced users carry real vaults (as the pull stores them, store/synced.h), spoken to with
 * plain sockets so that every header is seen as a browser would see it. Login right, wrong
 * and throttled; the cookie's flags; the CSRF token refused when missing or wrong; logout;
 * the idle time-out; and the backoffice, which a device never serves.
 */
#include "instance_fixture.h"
#include "web_client_fixture.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sodium.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/credentials.h"
#include "http/server.h"
#include "http/webpages.h"
#include "http/websession.h"
#include "store/feed.h"
#include "store/synced.h"

static const struct password_cost cheap = {1, 8};

struct fx {
    struct instance *inst;
    char *dir;
    struct http_server *srv;
    unsigned port;
    char taker_id[UUID_STR_LEN];
};

/* A request with optional cookie and CSRF headers and a JSON body (web_client_fixture.h). */
static void call(struct fx *f, const char *method, const char *path, const char *cookie,
                 const char *csrf, const char *body, struct reply *r)
{
    web_call(f->port, method, path, cookie, csrf, body, r);
}

static void login_as(struct fx *f, const char *login, const char *password, struct reply *r)
{
    char body[512];
    snprintf(body, sizeof body, "{\"login\": \"%s\", \"password\": \"%s\"}", login, password);
    call(f, "POST", "/api/v1/session", NULL, NULL, body, r);
}

/* ---- the device ---- */

/* Stores a synced user as the pull does: password record, vault and a profile sealed to them. */
static void synced_user(struct fx *f, const char *login, const char *password, const char *role,
                        const char *label, char id[UUID_STR_LEN])
{
    uuid_generate(id);
    struct credentials c;
    struct op_err e = {0};
    if (credentials_make(&cheap, id, password, strlen(password), NULL, &c, &e) != 0)
        fail_msg("credentials_make: %s", e.msg);
    unsigned char pk[VAULT_PUBLIC_BYTES];
    assert_int_equal(vault_from_text(c.vault_public_key, pk, sizeof pk, "pk", &e), 0);
    char prof[256];
    snprintf(prof, sizeof prof, "{\"label\": \"%s\", \"first_name\": null}", label);
    unsigned char sealed[512];
    assert_int_equal(vault_seal(pk, (const unsigned char *)prof, strlen(prof), sealed, &e), 0);
    char sealed_text[1024];
    vault_to_text(sealed, strlen(prof) + VAULT_SEAL_OVERHEAD, sealed_text, sizeof sealed_text);
    json_t *data = json_pack("{s:s, s:s, s:n, s:s, s:s, s:s, s:[{s:s, s:s}]}", "login", login,
                             "role", role, "org_id", "password_hash", c.password_record,
                             "vault_public_key", c.vault_public_key, "vault_secret_wrapped",
                             c.vault_secret_wrapped, "profile", "to", id, "sealed", sealed_text);
    char *text = json_dumps(data, JSON_COMPACT);
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    assert_int_equal(synced_put(f->inst->db, FEED_USER, id, 1, text, 0, &e), 0);
    assert_int_equal(db_commit(f->inst->db, &e), 0);
    free(text);
    json_decref(data);
    credentials_wipe(&c);
}

static struct fx *start_on(void **state, const char *role, unsigned idle_s)
{
    struct fx *f = calloc(1, sizeof *f);
    f->inst = fx_instance(role, &f->dir);
    if (strcmp(role, "device") == 0) {
        synced_user(f, "tt1", "pw-tt1", "test-taker", "Tess Taker", f->taker_id);
        char id[UUID_STR_LEN];
        synced_user(f, "pr1", "pw-pr1", "proctor", "Pat Proctor", id);
    }
    struct http_server_options o;
    http_server_options_default(&o);
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    if (idle_s)
        o.session_idle_s = idle_s;
    struct op_err e = {0};
    if (http_server_start(f->inst, &o, &f->srv, &e) != 0)
        fail_msg("http_server_start: %s", e.msg);
    f->port = http_server_port(f->srv);
    *state = f;
    return f;
}

static struct fx *start(void **state)
{
    return start_on(state, "device", 0);
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

static void test_login_sets_a_strict_cookie_and_answers_user_and_csrf(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    login_as(f, "tt1", "pw-tt1", &r);
    assert_int_equal(r.status, 200);
    const char *sc = header(&r, "Set-Cookie");
    assert_non_null(sc);
    assert_non_null(strstr(sc, "; HttpOnly"));
    assert_non_null(strstr(sc, "; SameSite=Strict"));
    assert_non_null(strstr(sc, "; Path=/"));
    assert_null(strstr(sc, "Secure")); /* plain HTTP here */
    assert_string_equal(header(&r, "Cache-Control"), "no-store");
    char cookie[128], csrf[128];
    snprintf(cookie, sizeof cookie, "%s", cookie_of(&r));
    assert_int_equal(strlen(cookie), WEBSESSION_TOKEN_LEN);
    assert_string_equal(json_field(r.body, "user", "login"), "tt1");
    assert_string_equal(json_field(r.body, "user", "label"), "Tess Taker");
    assert_string_equal(json_field(r.body, "user", "id"), f->taker_id);
    assert_non_null(strstr(r.body, "\"roles\":[\"test_taker\"]"));
    snprintf(csrf, sizeof csrf, "%s", json_field(r.body, "csrf", NULL));
    assert_int_equal(strlen(csrf), WEBSESSION_TOKEN_LEN);
    assert_null(strstr(r.body, cookie)); /* the session id only in the HttpOnly cookie */

    call(f, "GET", "/api/v1/session", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "user", "login"), "tt1");
    assert_string_equal(json_field(r.body, "csrf", NULL), csrf);

    login_as(f, "pr1", "pw-pr1", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"roles\":[\"proctor\"]"));
    assert_string_not_equal(cookie_of(&r), cookie);
}

static void test_wrong_password_and_unknown_login_get_one_answer(void **state)
{
    struct fx *f = start(state);
    struct reply r, r2;
    login_as(f, "tt1", "not-it", &r);
    assert_int_equal(r.status, 401);
    assert_null(header(&r, "Set-Cookie"));
    assert_string_equal(json_field(r.body, "error", "code"), "unauthorized");
    assert_string_equal(json_field(r.body, "error", "message"), "wrong login or password");
    login_as(f, "nobody", "not-it", &r2); /* no central registered: simply unknown */
    assert_int_equal(r2.status, 401);
    assert_string_equal(json_field(r2.body, "error", "message"), "wrong login or password");

    call(f, "POST", "/api/v1/session", NULL, NULL, "{\"login\": \"tt1\"}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "password");
    call(f, "POST", "/api/v1/session", NULL, NULL, "[1]", &r);
    assert_int_equal(r.status, 400);
    call(f, "GET", "/api/v1/session", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    call(f, "GET", "/api/v1/session", "AAAA", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
}

static void test_failed_logins_are_throttled_even_for_the_right_password(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    for (int i = 0; i < 5; i++) {
        login_as(f, "tt1", "guess", &r);
        assert_int_equal(r.status, 401);
    }
    login_as(f, "tt1", "pw-tt1", &r);
    assert_int_equal(r.status, 429);
    assert_string_equal(json_field(r.body, "error", "code"), "too_many_requests");
    const char *ra = header(&r, "Retry-After");
    assert_non_null(ra);
    assert_true(atoi(ra) > 0 && atoi(ra) <= 900);
    assert_null(header(&r, "Set-Cookie"));
    /* another login is not throttled by tt1's failures */
    login_as(f, "pr1", "pw-pr1", &r);
    assert_int_equal(r.status, 200);
}

static void test_changes_need_the_csrf_token_and_logout_ends_the_session(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    login_as(f, "tt1", "pw-tt1", &r);
    char cookie[128], csrf[128];
    snprintf(cookie, sizeof cookie, "%s", cookie_of(&r));
    snprintf(csrf, sizeof csrf, "%s", json_field(r.body, "csrf", NULL));
    login_as(f, "pr1", "pw-pr1", &r);
    char other_csrf[128];
    snprintf(other_csrf, sizeof other_csrf, "%s", json_field(r.body, "csrf", NULL));

    call(f, "DELETE", "/api/v1/session", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "csrf");
    call(f, "DELETE", "/api/v1/session", cookie, "not-the-token", NULL, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "csrf");
    call(f, "DELETE", "/api/v1/session", cookie, other_csrf, NULL, &r);
    assert_int_equal(r.status, 403); /* another session's token */
    call(f, "GET", "/api/v1/session", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200); /* nothing happened */

    call(f, "DELETE", "/api/v1/session", cookie, csrf, NULL, &r);
    assert_int_equal(r.status, 204);
    const char *sc = header(&r, "Set-Cookie");
    assert_non_null(sc);
    assert_non_null(strstr(sc, "Max-Age=0"));
    call(f, "GET", "/api/v1/session", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    call(f, "DELETE", "/api/v1/session", cookie, csrf, NULL, &r);
    assert_int_equal(r.status, 401);
}

/* A request with extra header lines `extra` ("Name: value\r\n"...). */
static void call_with(struct fx *f, const char *method, const char *path, const char *cookie,
                      const char *csrf, const char *extra, const char *body, struct reply *r)
{
    char req[8192];
    snprintf(req, sizeof req,
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n%s%s%s%s%s%s%s"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             method, path, f->port, cookie ? "Cookie: outpost_session=" : "", cookie ? cookie : "",
             cookie ? "\r\n" : "", csrf ? "X-CSRF-Token: " : "", csrf ? csrf : "",
             csrf ? "\r\n" : "", extra, body ? strlen(body) : 0, body ? body : "");
    exchange(f->port, req, r);
}

static void test_a_cross_site_request_changes_nothing(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    const char *login = "{\"login\": \"tt1\", \"password\": \"pw-tt1\"}";
    call_with(f, "POST", "/api/v1/session", NULL, NULL, "Origin: http://evil.example\r\n", login,
              &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "cross_site");
    assert_null(header(&r, "Set-Cookie"));
    call_with(f, "POST", "/api/v1/session", NULL, NULL, "Sec-Fetch-Site: cross-site\r\n", login,
              &r);
    assert_int_equal(r.status, 403);
    assert_null(header(&r, "Set-Cookie"));

    char same[128];
    snprintf(same, sizeof same, "Origin: http://127.0.0.1:%u\r\nSec-Fetch-Site: same-origin\r\n",
             f->port);
    call_with(f, "POST", "/api/v1/session", NULL, NULL, same, login, &r);
    assert_int_equal(r.status, 200); /* the device's own page */
    char cookie[128], csrf[128];
    snprintf(cookie, sizeof cookie, "%s", cookie_of(&r));
    snprintf(csrf, sizeof csrf, "%s", json_field(r.body, "csrf", NULL));

    /* even with the cookie and the right token, another site's page changes nothing */
    const char *foreign[] = {"Origin: http://evil.example\r\n", "Origin: null\r\n",
                             "Sec-Fetch-Site: cross-site\r\n", "Sec-Fetch-Site: same-site\r\n",
                             "Origin: https://127.0.0.1\r\n"};
    for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++) {
        call_with(f, "DELETE", "/api/v1/session", cookie, csrf, foreign[i], NULL, &r);
        assert_int_equal(r.status, 403);
        assert_string_equal(json_field(r.body, "error", "code"), "cross_site");
        call(f, "GET", "/api/v1/session", cookie, NULL, NULL, &r);
        assert_int_equal(r.status, 200); /* still logged in */
    }
    call_with(f, "GET", "/api/v1/session", cookie, NULL, "Sec-Fetch-Site: cross-site\r\n", NULL,
              &r);
    assert_int_equal(r.status, 200); /* reading is not refused (the cookie is SameSite=Strict) */
    call_with(f, "DELETE", "/api/v1/session", cookie, csrf, same, NULL, &r);
    assert_int_equal(r.status, 204);
}

static void test_an_idle_session_ends(void **state)
{
    struct fx *f = start_on(state, "device", 1);
    struct reply r;
    login_as(f, "tt1", "pw-tt1", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"idle_timeout\":1"));
    char cookie[128];
    snprintf(cookie, sizeof cookie, "%s", cookie_of(&r));
    sleep(3);
    call(f, "GET", "/api/v1/session", cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
}

static void test_pages_are_served_with_a_strict_policy(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    call(f, "GET", "/", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type"), "text/html; charset=utf-8");
    const char *csp = header(&r, "Content-Security-Policy");
    assert_non_null(csp);
    assert_non_null(strstr(csp, "default-src 'self'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_null(strstr(csp, "unsafe-inline"));
    assert_null(strstr(csp, "unsafe-eval"));
    assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
    assert_non_null(strstr(r.body, "id=\"login-form\""));
    assert_non_null(strstr(r.body, "<html lang=\"en\">"));
    assert_null(strstr(r.body, "<script>")); /* no inline script */
    assert_null(strstr(r.body, "style="));   /* no inline style */

    call(f, "GET", "/login.js", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type"), "text/javascript; charset=utf-8");
    call(f, "GET", "/app.css", NULL, NULL, NULL, &r);
    assert_string_equal(header(&r, "Content-Type"), "text/css; charset=utf-8");
    call(f, "GET", "/i18n/en.json", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type"), "application/json");
    assert_non_null(strstr(r.body, "\"login.wrong\""));

    call(f, "GET", "/no-such-page.html", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    call(f, "GET", "/../outpost.json", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    call(f, "GET", "/api/v1/no-such-endpoint", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(json_field(r.body, "error", "code"), "not_found");

    /* API answers are never cached, and run nothing if opened in a browser */
    login_as(f, "tt1", "pw-tt1", &r);
    assert_string_equal(header(&r, "Cache-Control"), "no-store");
    assert_non_null(strstr(header(&r, "Content-Security-Policy"), "default-src 'none'"));
}

static void test_pages_speak_the_closest_language_there_is(void **state)
{
    (void)state;
    char lang[40];
    web_language("en-US", lang, sizeof lang);
    assert_string_equal(lang, "en");
    web_language("fr_FR", lang, sizeof lang); /* no French file: English */
    assert_string_equal(lang, "en");
    web_language("../../etc", lang, sizeof lang);
    assert_string_equal(lang, "en");
    web_language(NULL, lang, sizeof lang);
    assert_string_equal(lang, "en");
    assert_non_null(web_asset_find("/i18n/en.json"));
    assert_non_null(web_asset_find("/"));
    assert_string_equal(web_asset_find("/")->path, "/index.html");
    assert_null(web_asset_find("index.html"));
    assert_string_equal(web_content_type("/x.svg"), "image/svg+xml");
    assert_string_equal(web_content_type("/x"), "application/octet-stream");
}

/* Central's login is the backoffice's (test_http_backoffice.c); a device never serves the
 * backoffice, and central never serves the device's pages. */
static void test_the_backoffice_is_central_only(void **state)
{
    struct fx *f = start(state);
    struct reply r;
    call(f, "GET", "/admin/index.html", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    call(f, "GET", "/api/v1/admin/me", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_null(web_page_path("/admin/users.html", 0));
    assert_string_equal(web_page_path("/take.html", 0), "/take.html");
    assert_null(web_page_path("/take.html", 1));
    assert_string_equal(web_page_path("/", 1), "/admin/index.html");
    assert_string_equal(web_page_path("/lib.js", 1), "/lib.js");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_login_sets_a_strict_cookie_and_answers_user_and_csrf,
                                  teardown),
        cmocka_unit_test_teardown(test_wrong_password_and_unknown_login_get_one_answer, teardown),
        cmocka_unit_test_teardown(test_failed_logins_are_throttled_even_for_the_right_password,
                                  teardown),
        cmocka_unit_test_teardown(test_changes_need_the_csrf_token_and_logout_ends_the_session,
                                  teardown),
        cmocka_unit_test_teardown(test_a_cross_site_request_changes_nothing, teardown),
        cmocka_unit_test_teardown(test_an_idle_session_ends, teardown),
        cmocka_unit_test_teardown(test_pages_are_served_with_a_strict_policy, teardown),
        cmocka_unit_test(test_pages_speak_the_closest_language_there_is),
        cmocka_unit_test_teardown(test_the_backoffice_is_central_only, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
