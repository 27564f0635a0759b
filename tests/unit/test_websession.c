/*
 * test_websession.c - the web sessions' table (http/websession.h) on its own, with a clock
 * the test moves: a session is found by its cookie value only, ends after the idle time-out
 * (also by the sweep, with no request), its key is wiped at logout, idle time-out and when
 * the table is freed, the CSRF token is checked, and the table is bounded.
 */
#include "testutil.h"

#include <sodium.h>
#include <string.h>

#include "http/cookie.h"
#include "http/websession.h"

static time_t fake_now = 1000;
static time_t test_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static struct websessions *table(unsigned idle, unsigned max)
{
    const struct websession_options o = {idle, max, test_clock, NULL, 1};
    struct websessions *t = NULL;
    struct op_err e = {0};
    if (websessions_new(&o, &t, &e) != 0)
        fail_msg("websessions_new: %s", e.msg);
    return t;
}

/* Logs a user in with a recognisable key; returns the slot (for looking at its key). */
static struct websession *login(struct websessions *t, const char *login, unsigned roles,
                                char token[WEBSESSION_TOKEN_LEN + 1],
                                char csrf[WEBSESSION_TOKEN_LEN + 1])
{
    struct websession *s = NULL;
    struct op_err e = {0};
    assert_int_equal(websession_reserve(t, &s, &e), 0);
    memset(websession_key_pk(s), 0xA5, VAULT_PUBLIC_BYTES);
    memset(websession_key_sk(s), 0x5A, VAULT_SECRET_BYTES);
    struct web_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.id, sizeof u.id, "id-%s", login);
    snprintf(u.login, sizeof u.login, "%s", login);
    u.roles = roles;
    websession_open(t, s, &u, 1, token, csrf);
    return s;
}

static int is_zero(const unsigned char *p, size_t n)
{
    return sodium_is_zero(p, n);
}

static void test_a_session_is_found_by_its_cookie_only(void **state)
{
    (void)state;
    struct websessions *t = table(900, 8);
    char tok[WEBSESSION_TOKEN_LEN + 1], csrf[WEBSESSION_TOKEN_LEN + 1];
    char tok2[WEBSESSION_TOKEN_LEN + 1], csrf2[WEBSESSION_TOKEN_LEN + 1];
    login(t, "alice", WEB_ROLE_TEST_TAKER, tok, csrf);
    login(t, "bob", WEB_ROLE_PROCTOR, tok2, csrf2);
    assert_int_equal(strlen(tok), WEBSESSION_TOKEN_LEN);
    assert_string_not_equal(tok, tok2);
    assert_string_not_equal(tok, csrf);

    struct websession *s = NULL;
    struct op_err e = {0};
    assert_int_equal(websession_get(t, tok, &s, &e), 0);
    const struct web_user *u = websession_user(s);
    assert_string_equal(u->login, "alice");
    assert_int_equal(u->roles, WEB_ROLE_TEST_TAKER);
    assert_non_null(u->vault_sk);
    assert_int_equal(u->vault_sk[0], 0x5A);
    websession_put(t, s);

    char wrong[WEBSESSION_TOKEN_LEN + 1];
    memcpy(wrong, tok, sizeof wrong);
    wrong[5] = wrong[5] == 'A' ? 'B' : 'A';
    assert_int_equal(websession_get(t, wrong, &s, &e), OP_EUNAUTH);
    assert_null(s);
    assert_int_equal(websession_get(t, csrf, &s, &e), OP_EUNAUTH); /* the CSRF token is no id */
    assert_int_equal(websession_get(t, "", &s, &e), OP_EUNAUTH);
    assert_int_equal(websession_get(t, NULL, &s, &e), OP_EUNAUTH);
    assert_int_equal(websessions_count(t), 2);
    websessions_free(t);
}

static void test_csrf_token_is_checked(void **state)
{
    (void)state;
    struct websessions *t = table(900, 4);
    char tok[WEBSESSION_TOKEN_LEN + 1], csrf[WEBSESSION_TOKEN_LEN + 1];
    char tok2[WEBSESSION_TOKEN_LEN + 1], csrf2[WEBSESSION_TOKEN_LEN + 1];
    struct websession *s = login(t, "alice", WEB_ROLE_TEST_TAKER, tok, csrf);
    login(t, "bob", WEB_ROLE_TEST_TAKER, tok2, csrf2);
    assert_true(websession_csrf_ok(s, csrf));
    assert_string_equal(websession_csrf(s), csrf);
    assert_false(websession_csrf_ok(s, csrf2)); /* another session's token */
    assert_false(websession_csrf_ok(s, NULL));
    assert_false(websession_csrf_ok(s, ""));
    char cut[WEBSESSION_TOKEN_LEN];
    memcpy(cut, csrf, sizeof cut - 1);
    cut[sizeof cut - 1] = '\0';
    assert_false(websession_csrf_ok(s, cut));
    websessions_free(t);
}

static void test_idle_session_ends_and_its_key_is_wiped(void **state)
{
    (void)state;
    fake_now = 1000;
    struct websessions *t = table(60, 4);
    char tok[WEBSESSION_TOKEN_LEN + 1], csrf[WEBSESSION_TOKEN_LEN + 1];
    struct websession *s = login(t, "alice", WEB_ROLE_TEST_TAKER, tok, csrf);
    unsigned char *sk = websession_key_sk(s);
    struct websession *got;
    struct op_err e = {0};

    fake_now += 59; /* used within the time-out: it goes on, and its clock restarts */
    assert_int_equal(websession_get(t, tok, &got, &e), 0);
    websession_put(t, got);
    fake_now += 59;
    assert_int_equal(websession_get(t, tok, &got, &e), 0);
    websession_put(t, got);
    assert_false(is_zero(sk, VAULT_SECRET_BYTES));

    fake_now += 60; /* idle for the whole time-out */
    assert_int_equal(websession_get(t, tok, &got, &e), OP_EUNAUTH);
    assert_non_null(strstr(e.msg, "without use"));
    assert_true(is_zero(sk, VAULT_SECRET_BYTES));
    assert_true(is_zero(websession_key_pk(s), VAULT_PUBLIC_BYTES));
    assert_int_equal(websessions_count(t), 0);
    websessions_free(t);
}

static void test_sweep_wipes_idle_sessions_without_a_request(void **state)
{
    (void)state;
    fake_now = 5000;
    struct websessions *t = table(60, 4);
    char tok[WEBSESSION_TOKEN_LEN + 1], csrf[WEBSESSION_TOKEN_LEN + 1];
    struct websession *a = login(t, "alice", WEB_ROLE_TEST_TAKER, tok, csrf);
    fake_now += 30;
    struct websession *b = login(t, "bob", WEB_ROLE_TEST_TAKER, tok, csrf);
    fake_now += 30;
    assert_int_equal(websessions_sweep(t), 1); /* alice's only */
    assert_true(is_zero(websession_key_sk(a), VAULT_SECRET_BYTES));
    assert_false(is_zero(websession_key_sk(b), VAULT_SECRET_BYTES));
    assert_int_equal(websessions_count(t), 1);
    fake_now += 30;
    assert_int_equal(websessions_sweep(t), 1);
    assert_true(is_zero(websession_key_sk(b), VAULT_SECRET_BYTES));
    websessions_free(t);
}

static void test_logout_wipes_the_key_when_the_last_borrower_returns_it(void **state)
{
    (void)state;
    struct websessions *t = table(900, 4);
    char tok[WEBSESSION_TOKEN_LEN + 1], csrf[WEBSESSION_TOKEN_LEN + 1];
    struct websession *s = login(t, "alice", WEB_ROLE_TEST_TAKER, tok, csrf);
    struct websession *h1, *h2;
    struct op_err e = {0};
    assert_int_equal(websession_get(t, tok, &h1, &e), 0); /* a handler running */
    assert_int_equal(websession_get(t, tok, &h2, &e), 0); /* the logout request */
    websession_end(t, h2);
    /* gone for everyone at once... */
    struct websession *h3;
    assert_int_equal(websession_get(t, tok, &h3, &e), OP_EUNAUTH);
    assert_int_equal(websessions_count(t), 0);
    websession_put(t, h2);
    /* ...but the running handler's key stays readable until it gives it back */
    assert_false(is_zero(websession_user(h1)->vault_sk, VAULT_SECRET_BYTES));
    websession_put(t, h1);
    assert_true(is_zero(websession_key_sk(s), VAULT_SECRET_BYTES));
    websessions_free(t);
}

static void test_the_table_is_bounded_and_idle_sessions_make_room(void **state)
{
    (void)state;
    fake_now = 9000;
    struct websessions *t = table(60, 3);
    char tok[3][WEBSESSION_TOKEN_LEN + 1], csrf[WEBSESSION_TOKEN_LEN + 1];
    for (int i = 0; i < 3; i++)
        login(t, "u", WEB_ROLE_TEST_TAKER, tok[i], csrf);
    struct websession *s = NULL;
    struct op_err e = {0};
    assert_int_equal(websession_reserve(t, &s, &e), OP_EBUSY);
    assert_non_null(strstr(e.msg, "too many"));
    /* a live session is never pushed out; an idle one is */
    fake_now += 30;
    struct websession *got;
    assert_int_equal(websession_get(t, tok[1], &got, &e), 0);
    websession_put(t, got);
    fake_now += 40; /* 0 and 2 idle for 70 s, 1 for 40 s */
    assert_int_equal(websession_reserve(t, &s, &e), 0);
    websession_discard(t, s);
    assert_int_equal(websession_get(t, tok[1], &got, &e), 0);
    websession_put(t, got);
    assert_int_equal(websessions_count(t), 1);
    websessions_free(t);
}

static void test_one_login_cannot_fill_the_table(void **state)
{
    (void)state;
    fake_now = 20000;
    struct websessions *t = table(900, 64);
    char tok[WEBSESSION_PER_USER_MAX + 1][WEBSESSION_TOKEN_LEN + 1], csrf[WEBSESSION_TOKEN_LEN + 1];
    char other[WEBSESSION_TOKEN_LEN + 1];
    login(t, "bob", WEB_ROLE_PROCTOR, other, csrf);
    for (int i = 0; i <= WEBSESSION_PER_USER_MAX; i++) {
        fake_now++;
        login(t, "alice", WEB_ROLE_TEST_TAKER, tok[i], csrf);
        if (i == 1) { /* the first one is used again: the second becomes the oldest */
            struct websession *got;
            struct op_err e0 = {0};
            fake_now++;
            assert_int_equal(websession_get(t, tok[0], &got, &e0), 0);
            websession_put(t, got);
        }
    }
    assert_int_equal(websessions_count(t), WEBSESSION_PER_USER_MAX + 1); /* alice's 8 and bob's */
    struct websession *got;
    struct op_err e = {0};
    assert_int_equal(websession_get(t, tok[1], &got, &e), OP_EUNAUTH); /* least recently used */
    assert_int_equal(websession_get(t, tok[0], &got, &e), 0);
    websession_put(t, got);
    assert_int_equal(websession_get(t, tok[WEBSESSION_PER_USER_MAX], &got, &e), 0);
    websession_put(t, got);
    assert_int_equal(websession_get(t, other, &got, &e), 0); /* bob is untouched */
    websession_put(t, got);
    websessions_free(t);
}

static void test_a_discarded_login_leaves_nothing(void **state)
{
    (void)state;
    struct websessions *t = table(900, 1);
    struct websession *s = NULL;
    struct op_err e = {0};
    assert_int_equal(websession_reserve(t, &s, &e), 0);
    memset(websession_key_sk(s), 0x77, VAULT_SECRET_BYTES);
    unsigned char *sk = websession_key_sk(s);
    websession_discard(t, s); /* a wrong password */
    assert_true(is_zero(sk, VAULT_SECRET_BYTES));
    assert_int_equal(websessions_count(t), 0);
    assert_int_equal(websession_reserve(t, &s, &e), 0); /* the slot is free again */
    websession_discard(t, s);
    websessions_free(t);
}

static void test_a_session_without_key_has_no_key_pointers(void **state)
{
    (void)state;
    struct websessions *t = table(900, 2);
    struct websession *s = NULL;
    struct op_err e = {0};
    assert_int_equal(websession_reserve(t, &s, &e), 0);
    struct web_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.login, sizeof u.login, "sm");
    u.roles = WEB_ROLE_SYNC_MANAGER;
    char tok[WEBSESSION_TOKEN_LEN + 1], csrf[WEBSESSION_TOKEN_LEN + 1];
    websession_open(t, s, &u, 0, tok, csrf);
    struct websession *got;
    assert_int_equal(websession_get(t, tok, &got, &e), 0);
    assert_null(websession_user(got)->vault_sk);
    assert_null(websession_user(got)->vault_pk);
    websession_put(t, got);
    websessions_free(t);
}

static void test_roles_map_between_store_and_json(void **state)
{
    (void)state;
    assert_int_equal(web_role_of_store("test-taker"), WEB_ROLE_TEST_TAKER);
    assert_int_equal(web_role_of_store("sync-manager"), WEB_ROLE_SYNC_MANAGER);
    assert_int_equal(web_role_of_store("super-user"), WEB_ROLE_SUPER_USER); /* central only */
    assert_int_equal(web_role_of_store("nobody"), 0);
    assert_string_equal(web_role_name(WEB_ROLE_SUPER_USER), "super_user");
    assert_int_equal(web_role_of_store(NULL), 0);
    assert_string_equal(web_role_name(WEB_ROLE_PROCTOR), "proctor");
    assert_string_equal(web_role_name(WEB_ROLE_TEST_CENTER_ADMIN), "test_center_admin");
}

static void test_options_out_of_range_are_refused(void **state)
{
    (void)state;
    struct websessions *t = NULL;
    struct op_err e = {0};
    const struct websession_options big = {WEBSESSION_MAX_IDLE_S + 1, 4, NULL, NULL, 1};
    assert_int_equal(websessions_new(&big, &t, &e), OP_EINPUT);
    assert_null(t);
    /* the defaults, with the real sweeper thread, start and stop */
    assert_int_equal(websessions_new(NULL, &t, &e), 0);
    assert_int_equal(websessions_idle_s(t), WEBSESSION_DEFAULT_IDLE_S);
    websessions_free(t);
}

static void test_cookie_header_parser(void **state)
{
    (void)state;
    char v[16];
    assert_int_equal(
        http_cookie_find("a=1; outpost_session=xyz; b=2", "outpost_session", v, sizeof v), 1);
    assert_string_equal(v, "xyz");
    assert_int_equal(http_cookie_find("outpost_session=\"q\";b=2", "outpost_session", v, sizeof v),
                     1);
    assert_string_equal(v, "q");
    assert_int_equal(http_cookie_find("x_outpost_session=1", "outpost_session", v, sizeof v), 0);
    assert_int_equal(http_cookie_find("outpost_session=first; outpost_session=second",
                                      "outpost_session", v, sizeof v),
                     1);
    assert_string_equal(v, "first");
    assert_int_equal(
        http_cookie_find("outpost_session=0123456789abcdef", "outpost_session", v, sizeof v),
        -1); /* longer than the room: never cut */
    assert_string_equal(v, "");
    assert_int_equal(http_cookie_find("outpost_session=a\\b", "outpost_session", v, sizeof v), -1);
    assert_int_equal(http_cookie_find("outpost_session=a b", "outpost_session", v, sizeof v), -1);
    assert_int_equal(http_cookie_find(NULL, "outpost_session", v, sizeof v), 0);
    assert_int_equal(http_cookie_find("", "outpost_session", v, sizeof v), 0);
    assert_int_equal(http_cookie_find("novalue; outpost_session", "outpost_session", v, sizeof v),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_session_is_found_by_its_cookie_only),
        cmocka_unit_test(test_csrf_token_is_checked),
        cmocka_unit_test(test_idle_session_ends_and_its_key_is_wiped),
        cmocka_unit_test(test_sweep_wipes_idle_sessions_without_a_request),
        cmocka_unit_test(test_logout_wipes_the_key_when_the_last_borrower_returns_it),
        cmocka_unit_test(test_the_table_is_bounded_and_idle_sessions_make_room),
        cmocka_unit_test(test_one_login_cannot_fill_the_table),
        cmocka_unit_test(test_a_discarded_login_leaves_nothing),
        cmocka_unit_test(test_a_session_without_key_has_no_key_pointers),
        cmocka_unit_test(test_roles_map_between_store_and_json),
        cmocka_unit_test(test_options_out_of_range_are_refused),
        cmocka_unit_test(test_cookie_header_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
