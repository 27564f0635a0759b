/* test_password_policy.c - the password policy's rules (auth/policy.h): the minimum counted
 * in characters, the login and the login backwards refused whatever the case of its ASCII
 * letters, the embedded list of common passwords (its size, case, the file's notes left
 * out), each rule off when relaxed, and the messages naming the rule without the password. */
#include <string.h>

#include "auth/policy.h"
#include "testutil.h"

static void test_the_defaults_are_on(void **state)
{
    (void)state;
    struct password_policy p;
    password_policy_default(&p);
    assert_int_equal(p.min_length, 10);
    assert_true(p.refuse_login);
    assert_true(p.refuse_common);
}

static enum password_fault check(const struct password_policy *p, const char *login, const char *pw)
{
    return password_policy_check(p, login, pw, strlen(pw));
}

static void test_the_minimum_counts_characters_not_bytes(void **state)
{
    (void)state;
    struct password_policy p;
    password_policy_default(&p);
    assert_int_equal(check(&p, "x", "nine-char"), PASSWORD_TOO_SHORT);
    assert_int_equal(check(&p, "x", "ten-chars!"), PASSWORD_OK);
    /* "ééééééééé": 9 characters, 18 bytes */
    assert_int_equal(check(&p, "x",
                           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                           "\xc3\xa9\xc3\xa9"),
                     PASSWORD_TOO_SHORT);
    p.min_length = 3;
    assert_int_equal(check(&p, "x", "Pass"), PASSWORD_IS_COMMON);
    assert_int_equal(check(&p, "x", "zq7"), PASSWORD_OK);
    assert_int_equal(check(&p, "x", ""), PASSWORD_TOO_SHORT);
}

static void test_the_login_and_the_login_backwards_are_refused_whatever_the_case(void **state)
{
    (void)state;
    struct password_policy p;
    password_policy_default(&p);
    const char *login = "grace.hopper";
    assert_int_equal(check(&p, login, "grace.hopper"), PASSWORD_IS_LOGIN);
    assert_int_equal(check(&p, login, "Grace.Hopper"), PASSWORD_IS_LOGIN);
    assert_int_equal(check(&p, login, "REPPOH.ECARG"), PASSWORD_IS_LOGIN);
    assert_int_equal(check(&p, login, "reppoh.ecarg"), PASSWORD_IS_LOGIN);
    assert_int_equal(check(&p, login, "grace.hopper1"), PASSWORD_OK);
    assert_int_equal(check(&p, NULL, "grace.hopper"), PASSWORD_OK); /* no login to compare */
    p.refuse_login = 0;
    assert_int_equal(check(&p, login, "grace.hopper"), PASSWORD_OK);
}

static void test_the_common_list_is_embedded_and_compared_without_case(void **state)
{
    (void)state;
    assert_int_equal(password_common_count(), 10000);
    assert_true(password_is_common("123456", 6));
    assert_true(password_is_common("password", 8));
    assert_true(password_is_common("PASSWORD", 8));
    assert_true(password_is_common("QwertyUiop", 10));
    assert_true(password_is_common("1234567890", 10));
    /* the file's notes are not passwords */
    assert_false(password_is_common("# common-passwords.txt", 22));
    assert_false(password_is_common("", 0));
    assert_false(password_is_common("correct horse battery staple", 28));
    assert_false(password_is_common("password\0x", 10)); /* a NUL does not end the password */
    struct password_policy p;
    password_policy_default(&p);
    assert_int_equal(check(&p, "x", "qwertyuiop"), PASSWORD_IS_COMMON);
    p.refuse_common = 0;
    assert_int_equal(check(&p, "x", "qwertyuiop"), PASSWORD_OK);
}

static void test_tao_example_passwords_pass_only_a_relaxed_policy(void **state)
{
    (void)state;
    struct password_policy p;
    password_policy_default(&p);
    assert_int_not_equal(check(&p, "user1", "user1"), PASSWORD_OK);
    p.min_length = 1;
    assert_int_equal(check(&p, "user1", "user1"), PASSWORD_IS_LOGIN);
    p.refuse_login = 0;
    assert_int_equal(check(&p, "user1", "user1"), PASSWORD_OK);
}

static void test_the_messages_name_the_rule(void **state)
{
    (void)state;
    struct password_policy p;
    password_policy_default(&p);
    char why[256];
    assert_string_equal(password_fault_text(PASSWORD_TOO_SHORT, &p, why, sizeof why),
                        "shorter than 10 characters (password policy: min-length)");
    assert_non_null(strstr(password_fault_text(PASSWORD_IS_LOGIN, &p, why, sizeof why),
                           "(password policy: refuse-login)"));
    assert_non_null(strstr(password_fault_text(PASSWORD_IS_COMMON, &p, why, sizeof why),
                           "10000 most common passwords"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_defaults_are_on),
        cmocka_unit_test(test_the_minimum_counts_characters_not_bytes),
        cmocka_unit_test(test_the_login_and_the_login_backwards_are_refused_whatever_the_case),
        cmocka_unit_test(test_the_common_list_is_embedded_and_compared_without_case),
        cmocka_unit_test(test_tao_example_passwords_pass_only_a_relaxed_policy),
        cmocka_unit_test(test_the_messages_name_the_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
