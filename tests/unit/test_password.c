/* test_password.c - Argon2id password records: verify, refuse, KEK derivation, format. */
#include "testutil.h"

#include <sodium.h>
#include <string.h>

#include "auth/password.h"

static const struct password_cost cheap = {1, 8};

static void test_password_verifies_the_right_password(void **state)
{
    (void)state;
    char rec[PASSWORD_RECORD_MAX];
    struct op_err e = {0};
    assert_int_equal(password_hash("correct horse", 13, &cheap, rec, NULL, &e), 0);
    assert_int_equal(password_verify(rec, "correct horse", 13, NULL, &e), 0);
}

static void test_password_refuses_a_wrong_password(void **state)
{
    (void)state;
    char rec[PASSWORD_RECORD_MAX];
    struct op_err e = {0};
    assert_int_equal(password_hash("correct horse", 13, &cheap, rec, NULL, &e), 0);
    assert_int_equal(password_verify(rec, "correct hors3", 13, NULL, &e), OP_ECRYPTO);
    assert_string_equal(e.msg, "wrong password");
}

static void test_password_gives_the_same_kek_at_set_and_at_login(void **state)
{
    (void)state;
    char rec[PASSWORD_RECORD_MAX];
    unsigned char k1[PASSWORD_KEK_BYTES], k2[PASSWORD_KEK_BYTES];
    struct op_err e = {0};
    assert_int_equal(password_hash("pw", 2, &cheap, rec, k1, &e), 0);
    assert_int_equal(password_verify(rec, "pw", 2, k2, &e), 0);
    assert_memory_equal(k1, k2, sizeof k1);
}

static void test_password_record_never_contains_the_kek(void **state)
{
    (void)state;
    char rec[PASSWORD_RECORD_MAX];
    unsigned char kek[PASSWORD_KEK_BYTES];
    struct op_err e = {0};
    assert_int_equal(password_hash("pw", 2, &cheap, rec, kek, &e), 0);
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, kek, sizeof kek, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_null(strstr(rec, b64));
}

static void test_password_salts_differ_between_two_hashes(void **state)
{
    (void)state;
    char r1[PASSWORD_RECORD_MAX], r2[PASSWORD_RECORD_MAX];
    struct op_err e = {0};
    assert_int_equal(password_hash("same", 4, &cheap, r1, NULL, &e), 0);
    assert_int_equal(password_hash("same", 4, &cheap, r2, NULL, &e), 0);
    assert_string_not_equal(r1, r2);
}

static void test_password_refuses_malformed_records(void **state)
{
    (void)state;
    struct op_err e = {0};
    const char *bad[] = {"",
                         "plain",
                         "$op-argon2id$v=1$m=8,t=1$!!$!!",
                         "$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$short",
                         "$op-argon2id$v=2$m=8,t=1$a$b",
                         NULL};
    for (const char **b = bad; *b; b++)
        assert_int_equal(password_verify(*b, "x", 1, NULL, &e), OP_EINPUT);
}

static void test_password_refuses_an_empty_password(void **state)
{
    (void)state;
    char rec[PASSWORD_RECORD_MAX];
    struct op_err e = {0};
    assert_int_equal(password_hash("", 0, &cheap, rec, NULL, &e), OP_EINPUT);
}

static void test_password_cost_limits_are_checked(void **state)
{
    (void)state;
    struct op_err e = {0};
    struct password_cost zero_ops = {0, 8}, tiny_mem = {1, 1};
    assert_int_equal(password_cost_check(&zero_ops, "cost", &e), OP_EINPUT);
    assert_int_equal(password_cost_check(&tiny_mem, "cost", &e), OP_EINPUT);
    assert_int_equal(password_cost_check(&cheap, "cost", &e), 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_verifies_the_right_password),
        cmocka_unit_test(test_password_refuses_a_wrong_password),
        cmocka_unit_test(test_password_gives_the_same_kek_at_set_and_at_login),
        cmocka_unit_test(test_password_record_never_contains_the_kek),
        cmocka_unit_test(test_password_salts_differ_between_two_hashes),
        cmocka_unit_test(test_password_refuses_malformed_records),
        cmocka_unit_test(test_password_refuses_an_empty_password),
        cmocka_unit_test(test_password_cost_limits_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
