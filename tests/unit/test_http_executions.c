/*
 * test_http_executions.c - the execution endpoints of a device over HTTP (api_executions.c,
 * docs/api.md "Test taker" and "Proctor"): the real server on a free port of 127.0.0.1 over a
 * device whose synced records (users with real vaults, test centers with their proctors,
 * deliveries, eligibilities) are stored as the pull stores them, spoken to with plain sockets
 * and real web sessions. Every refusal of issue 12's "Bad input and faults" that these doors
 * own is here, each checked to change nothing: a test taker not eligible, or past the
 * delivery's limit; a tampered body; a request without the session's CSRF token (cross-site)
 * or replayed; a proctor of another center; a stale version.
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

#include "app/central.h"
#include "auth/credentials.h"
#include "http/server.h"
#include "http/websession.h"
#include "store/feed.h"
#include "store/meta.h"
#include "store/synced.h"

static const struct password_cost cheap = {1, 8};

#define DPROC  "44444444-0000-4000-8000-000000000001" /* proctored in A, max 1 */
#define DFREE  "44444444-0000-4000-8000-000000000002" /* not proctored in A */
#define DOTHER "44444444-0000-4000-8000-000000000003" /* in B */
#define CA     "33333333-0000-4000-8000-00000000000a"
#define CB     "33333333-0000-4000-8000-00000000000b"

struct fx {
    struct instance *inst;
    char *dir;
    struct http_server *srv;
    unsigned port;
    char tt1[UUID_STR_LEN], tt2[UUID_STR_LEN], pr1[UUID_STR_LEN], pr2[UUID_STR_LEN];
    unsigned char pr1_pk[VAULT_PUBLIC_BYTES];
};

/* A request with optional cookie and CSRF headers and a JSON body (web_client_fixture.h). */
static void call(struct fx *f, const char *method, const char *path, const char *cookie,
                 const char *csrf, const char *body, struct reply *r)
{
    web_call(f->port, method, path, cookie, csrf, body, r);
}

/* ---- the device ---- */

static void put(struct fx *f, const char *entity, const char *id, json_t *data)
{
    char *text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
    struct op_err e = {0};
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    assert_int_equal(synced_put(f->inst->db, entity, id, 1, text, 0, &e), 0);
    assert_int_equal(db_commit(f->inst->db, &e), 0);
    free(text);
    json_decref(data);
}

static void seal_profile(json_t *arr, const char *to, const unsigned char pk[VAULT_PUBLIC_BYTES],
                         const char *label)
{
    char prof[256];
    snprintf(prof, sizeof prof, "{\"label\": \"%s\"}", label);
    unsigned char sealed[512];
    struct op_err e = {0};
    assert_int_equal(vault_seal(pk, (const unsigned char *)prof, strlen(prof), sealed, &e), 0);
    char text[1024];
    vault_to_text(sealed, strlen(prof) + VAULT_SEAL_OVERHEAD, text, sizeof text);
    json_array_append_new(arr, json_pack("{s:s, s:s}", "to", to, "sealed", text));
}

/* A synced user with a real vault, their profile sealed to them and to `also` (may be NULL). */
static void synced_user(struct fx *f, const char *login, const char *role, const char *label,
                        const char *also, const unsigned char *also_pk, char id[UUID_STR_LEN],
                        unsigned char pk[VAULT_PUBLIC_BYTES])
{
    uuid_generate(id);
    struct credentials c;
    struct op_err e = {0};
    char password[64];
    snprintf(password, sizeof password, "pw-%s", login);
    if (credentials_make(&cheap, id, password, strlen(password), NULL, &c, &e) != 0)
        fail_msg("credentials_make: %s", e.msg);
    assert_int_equal(vault_from_text(c.vault_public_key, pk, VAULT_PUBLIC_BYTES, "pk", &e), 0);
    json_t *profile = json_array();
    seal_profile(profile, id, pk, label);
    if (also)
        seal_profile(profile, also, also_pk, label);
    put(f, FEED_USER, id,
        json_pack("{s:s, s:s, s:n, s:s, s:s, s:s, s:o}", "login", login, "role", role, "org_id",
                  "password_hash", c.password_record, "vault_public_key", c.vault_public_key,
                  "vault_secret_wrapped", c.vault_secret_wrapped, "profile", profile));
    credentials_wipe(&c);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->inst = fx_instance("device", &f->dir);
    unsigned char pk[VAULT_PUBLIC_BYTES];
    synced_user(f, "pr1", "proctor", "Pat Proctor", NULL, NULL, f->pr1, f->pr1_pk);
    synced_user(f, "pr2", "proctor", "Other Proctor", NULL, NULL, f->pr2, pk);
    synced_user(f, "tt1", "test-taker", "Tess Taker", f->pr1, f->pr1_pk, f->tt1, pk);
    synced_user(f, "tt2", "test-taker", "Theo Taker", NULL, NULL, f->tt2, pk);
    put(f, FEED_TEST_CENTER, CA,
        json_pack("{s:s, s:s, s:n, s:[s], s:[]}", "label", "Centre A", "org_id", "ORG", "parent_id",
                  "proctors", f->pr1, "admins"));
    put(f, FEED_TEST_CENTER, CB,
        json_pack("{s:s, s:s, s:n, s:[s], s:[]}", "label", "Centre B", "org_id", "ORG", "parent_id",
                  "proctors", f->pr2, "admins"));
    put(f, FEED_DELIVERY, DPROC, json_pack("{s:s, s:i}", "label", "Maths", "max_executions", 1));
    put(f, FEED_DELIVERY, DFREE, json_pack("{s:s, s:i}", "label", "Free", "max_executions", 0));
    put(f, FEED_DELIVERY, DOTHER, json_pack("{s:s, s:i}", "label", "Other", "max_executions", 0));
    put(f, FEED_ELIGIBILITY, "e-1",
        json_pack("{s:s, s:s, s:b, s:[s], s:[]}", "center_id", CA, "delivery_id", DPROC,
                  "proctored", 1, "test_takers", f->tt1, "content_keys"));
    put(f, FEED_ELIGIBILITY, "e-2",
        json_pack("{s:s, s:s, s:b, s:[s], s:[]}", "center_id", CA, "delivery_id", DFREE,
                  "proctored", 0, "test_takers", f->tt1, "content_keys"));
    put(f, FEED_ELIGIBILITY, "e-3",
        json_pack("{s:s, s:s, s:b, s:[s], s:[]}", "center_id", CB, "delivery_id", DOTHER,
                  "proctored", 0, "test_takers", f->tt2, "content_keys"));
    /* central's results key, as enrolment pins it, so that a termination can seal */
    unsigned char rpk[crypto_box_PUBLICKEYBYTES], rsk[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(rpk, rsk);
    char hex[2 * sizeof rpk + 1];
    sodium_bin2hex(hex, sizeof hex, rpk, sizeof rpk);
    struct op_err e = {0};
    assert_int_equal(meta_set(f->inst->db, META_CENTRAL_RESULTS_KEY, hex, &e), 0);
    assert_int_equal(meta_set(f->inst->db, META_CENTRAL_RESULTS_KEY_ID, "0123456789abcdef", &e), 0);
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
    instance_close(f->inst);
    testutil_rmdir(f->dir);
    free(f);
    return 0;
}

struct who {
    char cookie[128], csrf[128];
};

static void login(struct fx *f, const char *login, struct who *w)
{
    struct reply r;
    char body[256];
    snprintf(body, sizeof body, "{\"login\": \"%s\", \"password\": \"pw-%s\"}", login, login);
    call(f, "POST", "/api/v1/session", NULL, NULL, body, &r);
    if (r.status != 200)
        fail_msg("login %s: %d %s", login, r.status, r.body);
    snprintf(w->cookie, sizeof w->cookie, "%s", cookie_of(&r));
    snprintf(w->csrf, sizeof w->csrf, "%s", json_field(r.body, "csrf", NULL));
}

static int count(struct fx *f, const char *sql)
{
    return (int)testutil_query_int(f->inst->db, sql);
}

/* The execution in a reply: its id and version. */
static void execution_of(const struct reply *r, char id[64], int64_t *version)
{
    json_t *doc = json_loads(r->body, 0, NULL);
    assert_non_null(doc);
    json_t *x = json_object_get(doc, "execution");
    snprintf(id, 64, "%s", json_string_value(json_object_get(x, "id")));
    *version = json_integer_value(json_object_get(x, "version"));
    json_decref(doc);
}

static void start_exec(struct fx *f, const struct who *w, const char *delivery, const char *center,
                       struct reply *r)
{
    char body[256];
    snprintf(body, sizeof body, "{\"delivery_id\": \"%s\", \"center_id\": \"%s\"}", delivery,
             center);
    call(f, "POST", "/api/v1/executions", w->cookie, w->csrf, body, r);
}

static void proctor(struct fx *f, const struct who *w, const char *id, const char *action,
                    const char *body, struct reply *r)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/proctor/executions/%s/%s", id, action);
    call(f, "POST", path, w->cookie, w->csrf, body, r);
}

/* ---- the tests ---- */

static void test_a_test_taker_sees_and_starts_only_what_they_are_eligible_for(void **state)
{
    struct fx *f = *state;
    struct who t1, t2, p1;
    login(f, "tt1", &t1);
    login(f, "tt2", &t2);
    login(f, "pr1", &p1);
    struct reply r;
    call(f, "GET", "/api/v1/my/deliveries", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    call(f, "GET", "/api/v1/my/deliveries", p1.cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 403);
    call(f, "GET", "/api/v1/my/deliveries", t1.cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *doc = json_loads(r.body, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(doc, "deliveries")), 2);
    json_decref(doc);

    start_exec(f, &t1, DPROC, CA, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(json_field(r.body, "execution", "state"), "awaiting_authorization");
    assert_string_equal(json_field(r.body, "execution", "test_taker_id"), f->tt1);
    /* one that has not ended is not started twice */
    start_exec(f, &t1, DPROC, CA, &r);
    assert_int_equal(r.status, 409);
    /* not eligible: another test taker, another center */
    start_exec(f, &t2, DPROC, CA, &r);
    assert_int_equal(r.status, 403);
    start_exec(f, &t1, DOTHER, CB, &r);
    assert_int_equal(r.status, 403);
    start_exec(f, &t1, DFREE, CB, &r);
    assert_int_equal(r.status, 403);
    /* a proctor does not start tests */
    start_exec(f, &p1, DFREE, CA, &r);
    assert_int_equal(r.status, 403);
    /* tampered bodies: another test taker named, bad ids, not JSON */
    char body[512];
    snprintf(body, sizeof body,
             "{\"delivery_id\": \"" DFREE "\", \"center_id\": \"" CA "\", \"test_taker_id\": "
             "\"%s\"}",
             f->tt2);
    call(f, "POST", "/api/v1/executions", t1.cookie, t1.csrf, body, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "body");
    call(f, "POST", "/api/v1/executions", t1.cookie, t1.csrf,
         "{\"delivery_id\": \"x' OR 1=1\", \"center_id\": \"" CA "\"}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "delivery_id");
    call(f, "POST", "/api/v1/executions", t1.cookie, t1.csrf, "{\"delivery_id\": ", &r);
    assert_int_equal(r.status, 400);
    /* a cross-site request carries the cookie but not the token; a replayed token of another
     * session is not this one's */
    call(f, "POST", "/api/v1/executions", t1.cookie, NULL,
         "{\"delivery_id\": \"" DFREE "\", \"center_id\": \"" CA "\"}", &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "csrf");
    call(f, "POST", "/api/v1/executions", t1.cookie, t2.csrf,
         "{\"delivery_id\": \"" DFREE "\", \"center_id\": \"" CA "\"}", &r);
    assert_int_equal(r.status, 403);
    assert_int_equal(count(f, "SELECT count(*) FROM executions"), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM execution_audit"), 1);
}

static void test_no_more_executions_than_the_delivery_allows(void **state)
{
    struct fx *f = *state;
    struct who t1, p1;
    login(f, "tt1", &t1);
    login(f, "pr1", &p1);
    struct reply r;
    start_exec(f, &t1, DPROC, CA, &r);
    assert_int_equal(r.status, 201);
    char id[64];
    int64_t v;
    execution_of(&r, id, &v);
    char body[128];
    snprintf(body, sizeof body, "{\"version\": %lld, \"reason\": \"fire alarm\"}", (long long)v);
    proctor(f, &p1, id, "terminate", body, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "execution", "state"), "terminated");
    assert_int_equal(count(f, "SELECT count(*) FROM result_outbox"), 1);
    start_exec(f, &t1, DPROC, CA, &r); /* max_executions 1 */
    assert_int_equal(r.status, 403);
    assert_int_equal(count(f, "SELECT count(*) FROM executions"), 1);
}

static void test_a_proctor_acts_on_their_centers_only_with_the_version_they_saw(void **state)
{
    struct fx *f = *state;
    struct who t1, t2, p1, p2;
    login(f, "tt1", &t1);
    login(f, "tt2", &t2);
    login(f, "pr1", &p1);
    login(f, "pr2", &p2);
    struct reply r;
    start_exec(f, &t1, DPROC, CA, &r);
    char id[64];
    int64_t v;
    execution_of(&r, id, &v);
    start_exec(f, &t2, DOTHER, CB, &r);
    assert_int_equal(r.status, 201);

    /* the list: own centers only, the label sealed to this proctor */
    call(f, "GET", "/api/v1/proctor/executions", p1.cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *doc = json_loads(r.body, 0, NULL);
    json_t *xs = json_object_get(doc, "executions");
    assert_int_equal(json_array_size(xs), 1);
    json_t *x = json_array_get(xs, 0);
    assert_string_equal(json_string_value(json_object_get(x, "id")), id);
    assert_string_equal(json_string_value(json_object_get(x, "test_taker_label")), "Tess Taker");
    assert_string_equal(json_string_value(json_object_get(x, "delivery_label")), "Maths");
    json_decref(doc);
    call(f, "GET", "/api/v1/proctor/executions", t1.cookie, NULL, NULL, &r);
    assert_int_equal(r.status, 403);

    char body[128];
    snprintf(body, sizeof body, "{\"version\": %lld}", (long long)v);
    /* another center's proctor, a test taker, no token: refused, nothing changes */
    proctor(f, &p2, id, "authorize", body, &r);
    assert_int_equal(r.status, 403);
    proctor(f, &t1, id, "authorize", body, &r);
    assert_int_equal(r.status, 403);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/proctor/executions/%s/authorize", id);
    call(f, "POST", path, p1.cookie, NULL, body, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_field(r.body, "error", "code"), "csrf");
    assert_int_equal(
        count(f, "SELECT count(*) FROM executions WHERE state = 'awaiting_authorization'"), 1);
    /* what is not an action or an execution */
    proctor(f, &p1, id, "approve", body, &r);
    assert_int_equal(r.status, 404);
    proctor(f, &p1, "55555555-0000-4000-8000-000000000000", "authorize", body, &r);
    assert_int_equal(r.status, 404);
    proctor(f, &p1, "0123456789012345678901234567890123456789", "authorize", body, &r);
    assert_int_equal(r.status, 404);
    proctor(f, &p1, id, "authorize", "{}", &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "version");
    proctor(f, &p1, id, "authorize", "{\"version\": 1, \"state\": \"finished\"}", &r);
    assert_int_equal(r.status, 400);
    /* the proctor's action */
    proctor(f, &p1, id, "authorize", body, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_field(r.body, "execution", "state"), "authorized");
    /* the same request again (a replay, or a second proctor on the same screen): stale */
    proctor(f, &p1, id, "authorize", body, &r);
    assert_int_equal(r.status, 409);
    proctor(f, &p1, id, "pause", body, &r);
    assert_int_equal(r.status, 409);
    /* extra time is bounded */
    snprintf(body, sizeof body, "{\"version\": %lld, \"seconds\": 0}", (long long)v + 1);
    proctor(f, &p1, id, "extra-time", body, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_field(r.body, "error", "field"), "seconds");
    snprintf(body, sizeof body, "{\"version\": %lld, \"seconds\": 300}", (long long)v + 1);
    proctor(f, &p1, id, "extra-time", body, &r);
    assert_int_equal(r.status, 200);
    snprintf(body, sizeof body, "{\"version\": %lld, \"reason\": \"phone on the desk\"}",
             (long long)v + 2);
    proctor(f, &p1, id, "irregularity", body, &r);
    assert_int_equal(r.status, 200);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM execution_audit WHERE execution_id = '%s'", id);
    assert_int_equal(count(f, sql), 4); /* start, authorize, extra-time, irregularity */
    assert_int_equal(count(f, "SELECT count(*) FROM result_outbox"), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_test_taker_sees_and_starts_only_what_they_are_eligible_for),
        T(test_no_more_executions_than_the_delivery_allows),
        T(test_a_proctor_acts_on_their_centers_only_with_the_version_they_saw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
