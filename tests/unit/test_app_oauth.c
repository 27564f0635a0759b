/* test_app_oauth.c - app/enrol.h, app/oauth.h and app/throttle.h on a real temporary central
 * (SQLite, and PostgreSQL as pg/unit/test_app_oauth): enrolment and its refusals, issuing
 * tokens, their expiry (base/clock.h), revocation stopping them at once, the principal read
 * from the client row, throttling per login, client and address, and cleanup. */
#include "instance_fixture.h"

#include <sodium.h>

#include "app/devices.h"
#include "app/enrol.h"
#include "app/oauth.h"
#include "app/throttle.h"
#include "app/users.h"
#include "base/clock.h"

#define DEV_A "0b6f4a57-1c1e-4d0e-9d3b-5a4e0f7c2d11"
#define DEV_B "1c7f5b68-2d2f-4e1f-8e4c-6b5f1a8d3e22"
#define PW    "sync-manager-password"

/* The number `sql` (SELECT count(*) ...) returns. */
static int fx_count(struct instance *inst, const char *sql)
{
    return (int)testutil_query_int(inst->db, sql);
}

struct fixture {
    char *dir;
    struct instance *inst;
    time_t now;
    unsigned char key_a[KEY_PUBLIC_BYTES], key_b[KEY_PUBLIC_BYTES];
};

static void add_user(struct instance *inst, const char *login, const char *role, const char *org)
{
    struct op_err e = {0};
    struct app_user_new u = {login, role, org, NULL, NULL, NULL, NULL, NULL};
    if (app_users_add(inst, &u, PW, strlen(PW), NULL, &e) != 0)
        fail_msg("app_users_add %s: %s", login, e.msg);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance("central", &f->dir);
    f->now = 1800000000;
    clock_set(&(struct op_clock){clock_fixed, &f->now});
    randombytes_buf(f->key_a, sizeof f->key_a);
    randombytes_buf(f->key_b, sizeof f->key_b);
    add_user(f->inst, "sm-a", "sync-manager", "ORG-A");
    add_user(f->inst, "sm-b", "sync-manager", "ORG-B");
    add_user(f->inst, "proctor-1", "proctor", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    clock_set(NULL);
    instance_close(f->inst);
    testutil_rmdir(f->dir);
    free(f);
    return 0;
}

static int enrol(struct fixture *f, const char *login, const char *pw, const char *dev,
                 const unsigned char *key, const char *addr, struct app_enrol_out *out,
                 struct op_err *e)
{
    struct app_enrol_request req = {login, pw, strlen(pw), dev, "Laptop", {0}};
    memcpy(req.signing_public_key, key, KEY_PUBLIC_BYTES);
    return app_enrol(f->inst, &req, addr, out, e);
}

static void enrol_ok(struct fixture *f, const char *login, const char *dev,
                     const unsigned char *key, struct app_enrol_out *out)
{
    struct op_err e = {0};
    if (enrol(f, login, PW, dev, key, "10.0.0.1", out, &e) != 0)
        fail_msg("enrol: %s", e.msg);
}

static int token(struct fixture *f, const char *id, const char *secret, const char *addr,
                 struct oauth_token_out *out, struct op_err *e)
{
    struct oauth_token_request r;
    memset(&r, 0, sizeof r);
    snprintf(r.client_id, sizeof r.client_id, "%s", id);
    snprintf(r.client_secret, sizeof r.client_secret, "%s", secret);
    return app_oauth_token(f->inst, &r, addr, out, e);
}

static void token_ok(struct fixture *f, const struct app_enrol_out *en, struct oauth_token_out *out)
{
    struct op_err e = {0};
    if (token(f, en->msg.client_id, en->msg.client_secret, "10.0.0.1", out, &e) != 0)
        fail_msg("token: %s", e.msg);
}

static int authenticate(struct fixture *f, const char *tok, struct oauth_principal *p,
                        struct op_err *e)
{
    char h[600];
    snprintf(h, sizeof h, "Bearer %s", tok);
    return app_oauth_authenticate(f->inst, h, p, e);
}

static void test_enrol_gives_credentials_bound_to_the_sync_manager_org_and_device(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out en;
    db_lose_races(f->inst->db, 1); /* the body runs twice: one device, one client */
    enrol_ok(f, "sm-a", DEV_A, f->key_a, &en);
    assert_string_equal(en.msg.org_id, "ORG-A");
    assert_string_equal(en.msg.device_id, DEV_A);
    assert_true(uuid_is_valid(en.msg.client_id));
    assert_true(oauth2_token_shape_ok(en.msg.client_secret));
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM devices"), 1);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM oauth_clients"), 1);
    /* the secret is stored only as a hash */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM oauth_clients WHERE secret_hash = '%.60s' OR client_id = '%.40s'"
             " AND length(secret_hash) = 64",
             en.msg.client_secret, en.msg.client_id);
    assert_int_equal(fx_count(f->inst, sql), 1);
    /* central's keys, and the results key signed by the signing key */
    struct op_err e = {0};
    char *json = enrol_response_json(&en.msg);
    struct enrol_response back;
    assert_int_equal(enrol_response_parse(json, strlen(json), &back, &e), 0);
    assert_int_equal(enrol_results_key_verify(back.signing_public_key, back.results_key_id,
                                              back.results_public_key, back.results_key_signature,
                                              &e),
                     0);
    free(json);
    enrol_response_wipe(&back);

    struct device d;
    assert_int_equal(app_devices_get(f->inst, DEV_A, &d, &e), 0);
    assert_string_equal(d.org_id, "ORG-A");
    assert_memory_equal(d.signing_public_key, f->key_a, KEY_PUBLIC_BYTES);
    device_clear(&d);
    app_enrol_out_wipe(&en);
}

static void test_token_authenticates_with_the_principal_of_the_client_row(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out a, b;
    enrol_ok(f, "sm-a", DEV_A, f->key_a, &a);
    enrol_ok(f, "sm-b", DEV_B, f->key_b, &b);
    struct oauth_token_out ta, tb;
    db_lose_races(f->inst->db, 1);
    token_ok(f, &a, &ta);
    token_ok(f, &b, &tb);
    assert_int_equal(ta.expires_in, OAUTH_TOKEN_LIFETIME_S);
    assert_true(oauth2_token_shape_ok(ta.access_token));
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM oauth_tokens"), 2);
    struct oauth_principal p;
    struct op_err e = {0};
    assert_int_equal(authenticate(f, ta.access_token, &p, &e), 0);
    assert_string_equal(p.org_id, "ORG-A");
    assert_string_equal(p.device_id, DEV_A);
    assert_string_equal(p.client_id, a.msg.client_id);
    struct user u;
    assert_int_equal(users_get_by_login(f->inst->db, "sm-a", &u, &e), 0);
    assert_string_equal(p.user_id, u.id);
    user_clear(&u);
    /* the other client's token is the other device, whatever the request says */
    assert_int_equal(authenticate(f, tb.access_token, &p, &e), 0);
    assert_string_equal(p.org_id, "ORG-B");
    assert_string_equal(p.device_id, DEV_B);
    /* a client's secret does not open another client */
    struct oauth_token_out t;
    assert_int_equal(token(f, a.msg.client_id, b.msg.client_secret, NULL, &t, &e), OP_EUNAUTH);
    assert_int_equal(t.error, OAUTH2_INVALID_CLIENT);
    app_enrol_out_wipe(&a);
    app_enrol_out_wipe(&b);
}

static void test_bad_tokens_and_headers_are_refused_with_their_bearer_error(void **state)
{
    struct fixture *f = *state;
    struct oauth_principal p;
    struct op_err e = {0};
    assert_int_equal(app_oauth_authenticate(f->inst, NULL, &p, &e), OP_EUNAUTH);
    assert_string_equal(p.bearer_error, "");
    assert_int_equal(app_oauth_authenticate(f->inst, "Basic YTpi", &p, &e), OP_EUNAUTH);
    assert_string_equal(p.bearer_error, "");
    assert_int_equal(app_oauth_authenticate(f->inst, "Bearer a b", &p, &e), OP_EUNAUTH);
    assert_string_equal(p.bearer_error, "invalid_request");
    assert_int_equal(app_oauth_authenticate(f->inst, "Bearer abc", &p, &e), OP_EUNAUTH);
    assert_string_equal(p.bearer_error, "invalid_token");
    char forged[OAUTH2_TOKEN_LEN];
    oauth2_random_token(forged);
    assert_int_equal(authenticate(f, forged, &p, &e), OP_EUNAUTH);
    assert_string_equal(p.bearer_error, "invalid_token");
    assert_string_equal(p.org_id, "");
    assert_int_equal(err_http_status(e.code), 401);
}

static void test_wrong_secret_and_unknown_client_are_invalid_client(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out a;
    enrol_ok(f, "sm-a", DEV_A, f->key_a, &a);
    struct oauth_token_out t;
    struct op_err e1 = {0}, e2 = {0};
    char other[OAUTH2_TOKEN_LEN];
    oauth2_random_token(other);
    assert_int_equal(token(f, a.msg.client_id, other, NULL, &t, &e1), OP_EUNAUTH);
    assert_int_equal(t.error, OAUTH2_INVALID_CLIENT);
    assert_string_equal(t.access_token, "");
    assert_int_equal(token(f, "no-such-client", other, NULL, &t, &e2), OP_EUNAUTH);
    assert_string_equal(e1.msg, e2.msg); /* one message: nothing told about which */
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM oauth_tokens"), 0);
    app_enrol_out_wipe(&a);
}

static void test_token_expires_after_its_lifetime(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out a;
    enrol_ok(f, "sm-a", DEV_A, f->key_a, &a);
    struct oauth_token_out t;
    token_ok(f, &a, &t);
    struct oauth_principal p;
    struct op_err e = {0};
    f->now += OAUTH_TOKEN_LIFETIME_S - 1;
    assert_int_equal(authenticate(f, t.access_token, &p, &e), 0);
    f->now += 1;
    assert_int_equal(authenticate(f, t.access_token, &p, &e), OP_EUNAUTH);
    assert_string_equal(p.bearer_error, "invalid_token");
    assert_non_null(strstr(e.msg, "expired"));
    /* cleanup deletes it; a fresh one lives */
    struct oauth_token_out t2;
    token_ok(f, &a, &t2);
    int64_t n = 0;
    assert_int_equal(app_oauth_cleanup(f->inst, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM oauth_tokens"), 1);
    assert_int_equal(authenticate(f, t2.access_token, &p, &e), 0);
    app_enrol_out_wipe(&a);
}

static void test_token_lifetime_is_configurable(void **state)
{
    struct fixture *f = *state;
    f->inst->settings.oauth_token_lifetime_s = 60;
    struct app_enrol_out a;
    enrol_ok(f, "sm-a", DEV_A, f->key_a, &a);
    struct oauth_token_out t;
    token_ok(f, &a, &t);
    assert_int_equal(t.expires_in, 60);
    struct oauth_principal p;
    struct op_err e = {0};
    f->now += 60;
    assert_int_equal(authenticate(f, t.access_token, &p, &e), OP_EUNAUTH);
    app_enrol_out_wipe(&a);
}

static void test_revoking_the_device_stops_its_tokens_and_client_at_once(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out a, b;
    enrol_ok(f, "sm-a", DEV_A, f->key_a, &a);
    enrol_ok(f, "sm-b", DEV_B, f->key_b, &b);
    struct oauth_token_out ta, tb;
    token_ok(f, &a, &ta);
    token_ok(f, &b, &tb);
    struct op_err e = {0};
    assert_int_equal(app_devices_revoke(f->inst, DEV_A, &e), 0);
    struct oauth_principal p;
    assert_int_equal(authenticate(f, ta.access_token, &p, &e), OP_EUNAUTH);
    assert_string_equal(p.bearer_error, "invalid_token");
    assert_non_null(strstr(e.msg, "revoked"));
    struct oauth_token_out t;
    assert_int_equal(token(f, a.msg.client_id, a.msg.client_secret, NULL, &t, &e), OP_EUNAUTH);
    assert_int_equal(t.error, OAUTH2_INVALID_CLIENT);
    /* the other device goes on */
    assert_int_equal(authenticate(f, tb.access_token, &p, &e), 0);
    /* revoking again is fine */
    assert_int_equal(app_devices_revoke(f->inst, DEV_A, &e), 0);
    app_enrol_out_wipe(&a);
    app_enrol_out_wipe(&b);
}

static void test_enrol_refuses_wrong_password_and_unknown_login_alike(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out out;
    struct op_err e1 = {0}, e2 = {0};
    assert_int_equal(enrol(f, "sm-a", "wrong", DEV_A, f->key_a, NULL, &out, &e1), OP_EUNAUTH);
    assert_int_equal(enrol(f, "nobody", "wrong", DEV_A, f->key_a, NULL, &out, &e2), OP_EUNAUTH);
    assert_string_equal(e1.msg, e2.msg);
    assert_int_equal(err_http_status(e1.code), 401);
    assert_string_equal(out.msg.client_secret, "");
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM devices"), 0);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM oauth_clients"), 0);
}

static void test_enrol_refuses_a_user_who_is_not_a_sync_manager(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out out;
    struct op_err e = {0};
    assert_int_equal(enrol(f, "proctor-1", PW, DEV_A, f->key_a, NULL, &out, &e), OP_EFORBIDDEN);
    assert_non_null(strstr(e.msg, "not a sync manager"));
    /* the super-user has neither the role nor an organisation */
    assert_int_equal(enrol(f, "admin", "a-test-password", DEV_A, f->key_a, NULL, &out, &e),
                     OP_EFORBIDDEN);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM devices"), 0);
}

static void test_enrol_refuses_bad_input(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out out;
    struct op_err e = {0};
    assert_int_equal(enrol(f, "sm-a", PW, "laptop", f->key_a, NULL, &out, &e), OP_EINPUT);
    assert_string_equal(e.field, "device_id");
    unsigned char zero[KEY_PUBLIC_BYTES] = {0};
    assert_int_equal(enrol(f, "sm-a", PW, DEV_A, zero, NULL, &out, &e), OP_EINPUT);
    assert_int_equal(enrol(f, "", PW, DEV_A, f->key_a, NULL, &out, &e), OP_EINPUT);
    assert_int_equal(enrol(f, "sm-a", "", DEV_A, f->key_a, NULL, &out, &e), OP_EINPUT);
}

static void test_enrolling_again_is_a_conflict_until_the_device_is_revoked(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out a, again;
    enrol_ok(f, "sm-a", DEV_A, f->key_a, &a);
    struct op_err e = {0};
    assert_int_equal(enrol(f, "sm-a", PW, DEV_A, f->key_a, NULL, &again, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "revoke"));
    /* the same key under another device id */
    assert_int_equal(enrol(f, "sm-a", PW, DEV_B, f->key_a, NULL, &again, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "revoke"));
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM oauth_clients"), 1);
    /* revoked, it enrols again: a new client, the old one stays dead */
    struct oauth_token_out t;
    token_ok(f, &a, &t);
    assert_int_equal(app_devices_revoke(f->inst, DEV_A, &e), 0);
    enrol_ok(f, "sm-b", DEV_A, f->key_b, &again);
    assert_string_equal(again.msg.org_id, "ORG-B");
    assert_string_not_equal(again.msg.client_id, a.msg.client_id);
    struct oauth_principal p;
    assert_int_equal(authenticate(f, t.access_token, &p, &e), OP_EUNAUTH);
    struct oauth_token_out t2;
    assert_int_equal(token(f, a.msg.client_id, a.msg.client_secret, NULL, &t2, &e), OP_EUNAUTH);
    token_ok(f, &again, &t2);
    assert_int_equal(authenticate(f, t2.access_token, &p, &e), 0);
    assert_string_equal(p.org_id, "ORG-B");
    struct device d;
    assert_int_equal(app_devices_get(f->inst, DEV_A, &d, &e), 0);
    assert_int_equal(d.revoked, 0);
    assert_memory_equal(d.signing_public_key, f->key_b, KEY_PUBLIC_BYTES);
    device_clear(&d);
    app_enrol_out_wipe(&a);
    app_enrol_out_wipe(&again);
}

static void test_five_failed_logins_throttle_the_login_until_the_window_ends(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out out;
    struct op_err e = {0};
    for (int i = 0; i < THROTTLE_NAME_FAILURES; i++) {
        assert_int_equal(enrol(f, "sm-a", "wrong", DEV_A, f->key_a, "10.0.0.1", &out, &e),
                         OP_EUNAUTH);
        f->now += 10;
    }
    /* the right password is refused too, from any address, with the time to wait */
    assert_int_equal(enrol(f, "sm-a", PW, DEV_A, f->key_a, "10.9.9.9", &out, &e), OP_ETHROTTLED);
    assert_int_equal(err_http_status(e.code), 429);
    assert_int_equal(e.retry_after, THROTTLE_WINDOW_S - 10 * THROTTLE_NAME_FAILURES);
    /* another login is not throttled */
    enrol_ok(f, "sm-b", DEV_B, f->key_b, &out);
    app_enrol_out_wipe(&out);
    /* after the window, the login may try again; a success resets its counter */
    f->now += e.retry_after;
    enrol_ok(f, "sm-a", DEV_A, f->key_a, &out);
    app_enrol_out_wipe(&out);
    assert_int_equal(
        fx_count(f->inst, "SELECT count(*) FROM auth_throttle WHERE key = 'login:sm-a'"), 0);
}

static void test_a_success_resets_the_login_counter(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out out;
    struct op_err e = {0};
    for (int i = 0; i < THROTTLE_NAME_FAILURES - 1; i++)
        assert_int_equal(enrol(f, "sm-a", "wrong", DEV_A, f->key_a, NULL, &out, &e), OP_EUNAUTH);
    enrol_ok(f, "sm-a", DEV_A, f->key_a, &out);
    app_enrol_out_wipe(&out);
    assert_int_equal(enrol(f, "sm-a", "wrong", DEV_B, f->key_b, NULL, &out, &e), OP_EUNAUTH);
    assert_int_equal(enrol(f, "sm-a", "wrong", DEV_B, f->key_b, NULL, &out, &e), OP_EUNAUTH);
}

static void test_twenty_failures_from_one_address_throttle_the_address(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out out;
    struct op_err e = {0};
    char login[32];
    for (int i = 0; i < THROTTLE_ADDR_FAILURES; i++) {
        snprintf(login, sizeof login, "guess-%d", i); /* never 5 for one login */
        assert_int_equal(enrol(f, login, "wrong", DEV_A, f->key_a, "192.0.2.7", &out, &e),
                         OP_EUNAUTH);
    }
    assert_int_equal(enrol(f, "sm-a", PW, DEV_A, f->key_a, "192.0.2.7", &out, &e), OP_ETHROTTLED);
    assert_true(e.retry_after > 0 && e.retry_after <= THROTTLE_WINDOW_S);
    assert_non_null(strstr(e.msg, "address"));
    /* token requests from there too */
    struct oauth_token_out t;
    assert_int_equal(token(f, "x", "y", "192.0.2.7", &t, &e), OP_ETHROTTLED);
    assert_int_equal(t.error, OAUTH2_INVALID_CLIENT);
    /* another address is not */
    enrol_ok(f, "sm-a", DEV_A, f->key_a, &out);
    app_enrol_out_wipe(&out);
}

static void test_five_bad_secrets_throttle_the_client(void **state)
{
    struct fixture *f = *state;
    struct app_enrol_out a;
    enrol_ok(f, "sm-a", DEV_A, f->key_a, &a);
    struct oauth_token_out t;
    struct op_err e = {0};
    for (int i = 0; i < THROTTLE_NAME_FAILURES; i++)
        assert_int_equal(token(f, a.msg.client_id, "wrong", NULL, &t, &e), OP_EUNAUTH);
    assert_int_equal(token(f, a.msg.client_id, a.msg.client_secret, NULL, &t, &e), OP_ETHROTTLED);
    assert_int_equal(e.retry_after, THROTTLE_WINDOW_S);
    f->now += THROTTLE_WINDOW_S;
    token_ok(f, &a, &t);
    app_enrol_out_wipe(&a);
}

static void test_oauth_refuses_on_a_device(void **state)
{
    (void)state;
    char *dir;
    struct instance *dev = fx_instance("device", &dir);
    struct oauth_principal p;
    struct op_err e = {0};
    assert_int_equal(app_oauth_authenticate(dev, "Bearer abc", &p, &e), OP_ESTATE);
    struct app_enrol_out out;
    struct app_enrol_request req = {"sm", "pw", 2, DEV_A, "L", {1}};
    assert_int_equal(app_enrol(dev, &req, NULL, &out, &e), OP_ESTATE);
    instance_close(dev);
    testutil_rmdir(dir);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_enrol_gives_credentials_bound_to_the_sync_manager_org_and_device),
        T(test_token_authenticates_with_the_principal_of_the_client_row),
        T(test_bad_tokens_and_headers_are_refused_with_their_bearer_error),
        T(test_wrong_secret_and_unknown_client_are_invalid_client),
        T(test_token_expires_after_its_lifetime),
        T(test_token_lifetime_is_configurable),
        T(test_revoking_the_device_stops_its_tokens_and_client_at_once),
        T(test_enrol_refuses_wrong_password_and_unknown_login_alike),
        T(test_enrol_refuses_a_user_who_is_not_a_sync_manager),
        T(test_enrol_refuses_bad_input),
        T(test_enrolling_again_is_a_conflict_until_the_device_is_revoked),
        T(test_five_failed_logins_throttle_the_login_until_the_window_ends),
        T(test_a_success_resets_the_login_counter),
        T(test_twenty_failures_from_one_address_throttle_the_address),
        T(test_five_bad_secrets_throttle_the_client),
        cmocka_unit_test(test_oauth_refuses_on_a_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
