/*
 * test_http_bo_results.c - the backoffice's results over HTTP (docs/api.md, "Backoffice:
 * results"): the real server on a real central, plain sockets, API tokens and a session. What
 * the super-user and a test-center administrator get (a page, one result with its audit
 * chain, the distribution, the exports with Content-Disposition, accept and reject, decrypt),
 * and every refusal: no caller (401), a role outside the backoffice (403 not_backoffice),
 * another center's result (404 as an unknown id) for reading, exporting and reviewing,
 * decrypting by an administrator (403), a change by session without its CSRF token (403
 * csrf), bad filters and bodies (400 naming the field).
 */
#include "instance_fixture.h"
#include "web_client_fixture.h"

#include <jansson.h>

#include "app/apitokens.h"
#include "app/users.h"
#include "http/server.h"
#include "results_fixture.h"
#include "store/results.h"

struct fx {
    struct instance *inst;
    char *dir;
    struct rf *rf;
    struct http_server *srv;
    unsigned port;
    char super[OAUTH2_TOKEN_LEN], admin1[OAUTH2_TOKEN_LEN], admin2[OAUTH2_TOKEN_LEN];
    char ids[5][UUID_STR_LEN]; /* ada C1, alan C1 terminated, grace C1B, edsger C2, pending */
};

static void token(struct fx *f, const char *login, char out[OAUTH2_TOKEN_LEN])
{
    const struct app_apitoken_new in = {login, 0, "test"};
    struct api_token t;
    struct op_err e = {0};
    if (app_apitokens_create(f->inst, &in, &t, out, &e) != 0)
        fail_msg("token %s: %s", login, e.msg);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->inst = fx_instance("central", &f->dir);
    f->rf = rf_on(f->inst);
    const struct rf_spec s[5] = {
        {RF_TAKER(1), RF_C1, 0, 0, 3, 5, "choice_a", NULL},
        {RF_TAKER(2), RF_C1, 0, 1, 1, 5, "=1+2", "@SUM(A1)"},
        {RF_TAKER(3), RF_C1B, 0, 0, 5, 5, "choice_c", NULL},
        {RF_TAKER(4), RF_C2, 1, 0, 2, 5, "choice_d", NULL},
        {RF_TAKER(1), RF_C1, 0, 0, 4, 5, NULL, NULL},
    };
    for (int i = 0; i < 4; i++)
        rf_result(f->rf, &s[i], f->ids[i]);
    rf_decrypt(f->rf);
    rf_result(f->rf, &s[4], f->ids[4]);
    token(f, "admin", f->super);
    token(f, "admin1", f->admin1);
    token(f, "admin2", f->admin2);
    struct op_err e = {0};
    const struct app_user_new tt = {"tess", "test-taker", NULL, NULL, NULL, NULL, NULL, NULL};
    if (app_users_add(f->inst, &tt, "pw-tess", 7, NULL, &e) != 0)
        fail_msg("user: %s", e.msg);
    struct http_server_options o;
    http_server_options_default(&o);
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    if (http_server_start(f->inst, &o, &f->srv, &e) != 0)
        fail_msg("http_server_start: %s", e.msg);
    f->port = http_server_port(f->srv);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    http_server_stop(f->srv);
    rf_release(f->rf);
    instance_close(f->inst);
    testutil_rmdir(f->dir);
    free(f);
    return 0;
}

/* A request with `Authorization: Bearer TOKEN` (none when NULL) and a JSON body. */
static void call(struct fx *f, const char *method, const char *path, const char *tok,
                 const char *body, struct reply *r)
{
    char req[8192];
    snprintf(req, sizeof req,
             "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s%s"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             method, path, tok ? "Authorization: Bearer " : "", tok ? tok : "", tok ? "\r\n" : "",
             body ? strlen(body) : 0, body ? body : "");
    exchange(f->port, req, r);
}

static json_t *body_of(const struct reply *r)
{
    json_t *doc = json_loads(r->body, 0, NULL);
    if (!doc)
        fail_msg("not JSON (%d): %.300s", r->status, r->body);
    return doc;
}

static json_int_t total_of(const struct reply *r)
{
    json_t *d = body_of(r);
    json_int_t n = json_integer_value(json_object_get(d, "total"));
    json_decref(d);
    return n;
}

static void test_the_super_user_reads_pages_results_and_the_distribution(void **state)
{
    struct fx *f = *state;
    struct reply r;
    call(f, "GET", "/api/v1/admin/results?delivery=Maths%202026&limit=2", f->super, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *d = body_of(&r);
    assert_int_equal(json_integer_value(json_object_get(d, "total")), 5);
    assert_int_equal(json_array_size(json_object_get(d, "results")), 2);
    char next[128];
    snprintf(next, sizeof next, "%s", json_string_value(json_object_get(d, "next")));
    json_decref(d);
    char path[512];
    snprintf(path, sizeof path, "/api/v1/admin/results?delivery=%s&limit=2&after=%s", RF_DELIV,
             next);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(r.status, 200);
    d = body_of(&r);
    assert_int_equal(json_array_size(json_object_get(d, "results")), 2);
    json_decref(d);
    snprintf(path, sizeof path, "/api/v1/admin/results?delivery=%s&state=terminated", RF_DELIV);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(total_of(&r), 1);

    snprintf(path, sizeof path, "/api/v1/admin/results/%s", f->ids[0]);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(r.status, 200);
    d = body_of(&r);
    json_t *res = json_object_get(d, "result");
    assert_true(json_is_true(json_object_get(json_object_get(res, "audit"), "verified")));
    assert_int_equal(json_array_size(json_object_get(res, "items")), 2);
    json_decref(d);

    snprintf(path, sizeof path, "/api/v1/admin/results/distribution?delivery=%s&buckets=5",
             RF_DELIV);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(r.status, 200);
    d = body_of(&r);
    assert_int_equal(json_integer_value(json_object_get(d, "scored")), 4);
    assert_int_equal(json_array_size(json_object_get(d, "buckets")), 5);
    json_decref(d);
}

static void test_exports_download_with_a_file_name_and_keep_to_the_scope(void **state)
{
    struct fx *f = *state;
    struct reply r;
    char path[512];
    snprintf(path, sizeof path, "/api/v1/admin/results/export?delivery=%s&format=csv", RF_DELIV);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Disposition"),
                        "attachment; filename=\"Maths_2026.csv\"");
    assert_non_null(strstr(header(&r, "Content-Type"), "text/csv"));
    assert_non_null(strstr(r.body, "result_id,execution_id,"));
    assert_non_null(strstr(r.body, f->ids[3]));
    assert_non_null(strstr(r.body, ",'@SUM(A1),"));
    call(f, "GET", path, f->admin1, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, f->ids[3])); /* C2's result is not admin1's */
    assert_non_null(strstr(r.body, f->ids[2]));

    snprintf(path, sizeof path, "/api/v1/admin/results/export?delivery=%s&format=qti-xml",
             RF_DELIV);
    call(f, "GET", path, f->admin2, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "Content-Type"), "application/zip");
    assert_string_equal(header(&r, "Content-Disposition"),
                        "attachment; filename=\"Maths_2026.zip\"");
    assert_int_equal(memcmp(r.body, "PK", 2), 0);

    snprintf(path, sizeof path, "/api/v1/admin/results/%s/qti-xml", f->ids[3]);
    call(f, "GET", path, f->admin2, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<assessmentResult"));
    call(f, "GET", path, f->admin1, NULL, &r);
    assert_int_equal(r.status, 404);

    snprintf(path, sizeof path, "/api/v1/admin/results/export?delivery=%s&format=xlsx", RF_DELIV);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "format");
    /* nothing left behind in DIR/exports */
    char *dir = instance_path(f->inst, "exports");
    assert_int_equal(fs_dir_is_empty(dir), 1);
    free(dir);
}

static void test_an_administrator_reaches_only_the_results_of_their_centers(void **state)
{
    struct fx *f = *state;
    struct reply r;
    char path[512];
    snprintf(path, sizeof path, "/api/v1/admin/results?delivery=%s", RF_DELIV);
    call(f, "GET", path, f->admin1, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(total_of(&r), 4); /* C1 and C1B, the pending one included */
    call(f, "GET", path, f->admin2, NULL, &r);
    assert_int_equal(total_of(&r), 1);
    snprintf(path, sizeof path, "/api/v1/admin/results?delivery=%s&center=%s", RF_DELIV, RF_C1);
    call(f, "GET", path, f->admin2, NULL, &r);
    assert_int_equal(total_of(&r), 0); /* naming another center widens nothing */

    snprintf(path, sizeof path, "/api/v1/admin/results/%s", f->ids[0]);
    call(f, "GET", path, f->admin2, NULL, &r);
    assert_int_equal(r.status, 404);
    call(f, "GET", path, f->admin1, NULL, &r);
    assert_int_equal(r.status, 200);

    /* review: held for review, then admin2 (not theirs) 404, admin1 rejects */
    struct op_err e = {0};
    assert_int_equal(db_run(f->inst->db, "UPDATE results SET review = 'quarantined' WHERE id = ?1",
                            f->ids[0], NULL, "hold", &e),
                     0);
    snprintf(path, sizeof path, "/api/v1/admin/results/%s/accept", f->ids[0]);
    call(f, "POST", path, f->admin2, "{}", &r);
    assert_int_equal(r.status, 404);
    snprintf(path, sizeof path, "/api/v1/admin/results/%s/reject", f->ids[0]);
    call(f, "POST", path, f->admin1, "{\"reason\": 7}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "reason");
    call(f, "POST", path, f->admin1, "{\"reason\": \"twice\", \"by\": \"x\"}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "body");
    call(f, "POST", path, f->admin1, "{\"reason\": \"taken twice\"}", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "result", "review"), "rejected");
    call(f, "POST", path, f->admin1, "{}", &r);
    assert_int_equal(r.status, 409); /* decided once */
    snprintf(path, sizeof path, "/api/v1/admin/results/%s/accept", f->ids[1]);
    call(f, "POST", path, f->super, "{}", &r);
    assert_int_equal(r.status, 409); /* not held for review */
    call(f, "POST", path, f->super, "{\"reason\": \"x\"}", &r);
    assert_int_equal(r.status, 400); /* accepting takes no reason */
}

static void test_decrypting_is_the_super_users(void **state)
{
    struct fx *f = *state;
    struct reply r;
    call(f, "POST", "/api/v1/admin/results/decrypt", f->admin1, "{}", &r);
    assert_int_equal(r.status, 403);
    call(f, "POST", "/api/v1/admin/results/decrypt", f->super, "{\"delivery\": \"nope\"}", &r);
    assert_int_equal(r.status, 404);
    call(f, "POST", "/api/v1/admin/results/decrypt", f->super, "{\"all\": true}", &r);
    assert_int_equal(r.status, 400);
    call(f, "POST", "/api/v1/admin/results/decrypt", f->super, "{\"delivery\": \"Maths 2026\"}",
         &r);
    assert_int_equal(r.status, 200);
    json_t *d = body_of(&r);
    assert_int_equal(json_integer_value(json_object_get(d, "decrypted")), 1);
    json_decref(d);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/admin/results?delivery=%s&status=pending", RF_DELIV);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(total_of(&r), 0);
}

static void test_refusals_without_a_caller_for_other_roles_and_without_csrf(void **state)
{
    struct fx *f = *state;
    struct reply r;
    char path[512];
    snprintf(path, sizeof path, "/api/v1/admin/results?delivery=%s", RF_DELIV);
    call(f, "GET", path, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    call(f, "GET", path, "not-a-token", NULL, &r);
    assert_int_equal(r.status, 401);
    snprintf(path, sizeof path, "/api/v1/admin/results/%s", f->ids[0]);
    call(f, "GET", path, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    call(f, "POST", "/api/v1/admin/results/decrypt", NULL, "{}", &r);
    assert_int_equal(r.status, 401);
    /* a test taker with the right password gets no session */
    web_call(f->port, "POST", "/api/v1/session", NULL, NULL,
             "{\"login\": \"tess\", \"password\": \"pw-tess\"}", &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "not_backoffice");
    /* the super-user's session: a change without the CSRF token is refused */
    web_call(f->port, "POST", "/api/v1/session", NULL, NULL,
             "{\"login\": \"admin\", \"password\": \"a-test-password\"}", &r);
    assert_int_equal(r.status, 200);
    char cookie[128], csrf[128];
    snprintf(cookie, sizeof cookie, "%s", cookie_of(&r));
    snprintf(csrf, sizeof csrf, "%s", json_field(r.body, "csrf", NULL));
    web_call(f->port, "POST", "/api/v1/admin/results/decrypt", cookie, NULL, "{}", &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "csrf");
    web_call(f->port, "POST", "/api/v1/admin/results/decrypt", cookie, csrf, "{}", &r);
    assert_int_equal(r.status, 200);
    snprintf(path, sizeof path, "/api/v1/admin/results?delivery=%s", RF_DELIV);
    web_call(f->port, "GET", path, cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    /* bad filters name their field; unknown paths are 404 */
    snprintf(path, sizeof path, "/api/v1/admin/results?delivery=%s&from=yesterday", RF_DELIV);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "from");
    call(f, "GET", "/api/v1/admin/results", f->super, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "delivery");
    call(f, "GET", "/api/v1/admin/results/not-a-result", f->super, NULL, &r);
    assert_int_equal(r.status, 404);
    snprintf(path, sizeof path, "/api/v1/admin/results/%s/delete", f->ids[0]);
    call(f, "POST", path, f->super, "{}", &r);
    assert_int_equal(r.status, 404);
}

/* Gives result `id` (decrypted) an item Q9 whose response FILE is a file as decrypt-results
 * leaves it (app/upload.h): "hello file\n", named x/../my<notes>.txt. */
static void add_file(struct fx *f, const char *id)
{
    struct op_err e = {0};
    char *text = NULL;
    assert_int_equal(results_get_json(f->inst->db, id, &text, &e), 0);
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    json_t *items = json_object_get(json_object_get(doc, "outcome"), "items");
    assert_non_null(items);
    json_object_set_new(
        items, "Q9",
        json_pack("{s:s, s:{s:{s:s, s:s, s:i, s:s, s:s}}, s:{s:f}}", "identifier", "essay",
                  "responses", "FILE", "name", "my<notes>--.txt", "type", "text/plain", "size", 11,
                  "sha256", "0000000000000000000000000000000000000000000000000000000000000000",
                  "data", "aGVsbG8gZmlsZQo=", "outcomes", "SCORE", 1.0));
    char *back = json_dumps(doc, JSON_COMPACT);
    assert_int_equal(results_set_decrypted(f->inst->db, id, back, &e), 0);
    free(back);
    json_decref(doc);
}

/* A file a test taker gave is downloaded on its own, as octets with its name, by whoever
 * may read the result; the result's detail shows it without its bytes, its QTI XML holds it
 * in base64; another center's administrator, an unknown item or response, a response that
 * is not a file, and no caller are refused. */
static void test_a_file_of_a_result_downloads_within_the_scope(void **state)
{
    struct fx *f = *state;
    add_file(f, f->ids[0]);
    struct reply r;
    char path[512];
    snprintf(path, sizeof path, "/api/v1/admin/results/%s/files/Q9/FILE", f->ids[0]);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello file\n");
    assert_string_equal(header(&r, "Content-Type"), "application/octet-stream");
    assert_string_equal(header(&r, "Content-Disposition"),
                        "attachment; filename=\"my_notes_--.txt\"");
    assert_string_equal(header(&r, "Content-Security-Policy"), "sandbox");
    call(f, "GET", path, f->admin1, NULL, &r);
    assert_int_equal(r.status, 200);
    call(f, "GET", path, f->admin2, NULL, &r);
    assert_int_equal(r.status, 404); /* C1's result is not admin2's */
    call(f, "GET", path, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    const char *bad[] = {"Q8/FILE", "Q9/NOPE", "Q9/FILE/x", "Q9", "../FILE", "Q9/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "/api/v1/admin/results/%s/files/%s", f->ids[0], bad[i]);
        call(f, "GET", path, f->super, NULL, &r);
        assert_int_equal(r.status, 404);
    }
    /* a response that is not a file */
    char *text = NULL;
    struct op_err e = {0};
    assert_int_equal(results_get_json(f->inst->db, f->ids[0], &text, &e), 0);
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    const char *first = NULL;
    json_t *it;
    json_object_foreach(json_object_get(json_object_get(doc, "outcome"), "items"), first, it)
    {
        if (strcmp(first, "Q9") != 0 && json_object_size(json_object_get(it, "responses")))
            break;
    }
    assert_non_null(first);
    const char *rk = NULL;
    json_t *rv;
    json_object_foreach(json_object_get(it, "responses"), rk, rv) break;
    snprintf(path, sizeof path, "/api/v1/admin/results/%s/files/%s/%s", f->ids[0], first, rk);
    json_decref(doc);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(r.status, 404);
    /* the detail: the file without its bytes */
    snprintf(path, sizeof path, "/api/v1/admin/results/%s", f->ids[0]);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"file\":true"));
    assert_non_null(strstr(r.body, "my<notes>--.txt"));
    assert_null(strstr(r.body, "aGVsbG8gZmlsZQo="));
    /* the QTI XML: base type file, its content in base64, its name in a comment */
    snprintf(path, sizeof path, "/api/v1/admin/results/%s/qti-xml", f->ids[0]);
    call(f, "GET", path, f->super, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body,
                           "<responseVariable identifier=\"FILE\" cardinality=\"single\" "
                           "baseType=\"file\"><candidateResponse><!-- file my<notes>- -.txt "
                           "(text/plain, 11 bytes) --><value>aGVsbG8gZmlsZQo=</value>"));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_the_super_user_reads_pages_results_and_the_distribution),
        T(test_exports_download_with_a_file_name_and_keep_to_the_scope),
        T(test_an_administrator_reaches_only_the_results_of_their_centers),
        T(test_decrypting_is_the_super_users),
        T(test_refusals_without_a_caller_for_other_roles_and_without_csrf),
        T(test_a_file_of_a_result_downloads_within_the_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
