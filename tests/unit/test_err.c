/* test_err.c - the error type: HTTP statuses, the field at fault, what err_set resets. */
#include <string.h>

#include "base/err.h"
#include "testutil.h"

static void test_err_http_status_follows_the_documented_table(void **state)
{
    (void)state;
    const struct {
        int code, http;
    } table[] = {
        {OP_OK, 200},         {OP_EINPUT, 400},    {OP_EUSAGE, 400},    {OP_EUNAUTH, 401},
        {OP_EFORBIDDEN, 403}, {OP_ENOTFOUND, 404}, {OP_ECONFLICT, 409}, {OP_ECRYPTO, 422},
        {OP_EBUSY, 503},      {OP_ESTATE, 500},    {OP_EIO, 500},       {OP_EDB, 500},
        {OP_ENOMEM, 500},     {-999, 500},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        assert_int_equal(err_http_status(table[i].code), table[i].http);
}

static void test_err_new_codes_have_names(void **state)
{
    (void)state;
    assert_string_equal(err_code_name(OP_EBUSY), "busy");
    assert_string_equal(err_code_name(OP_EUNAUTH), "not authenticated");
    assert_string_equal(err_code_name(OP_EFORBIDDEN), "forbidden");
    assert_int_equal(err_exit_status(OP_EFORBIDDEN), 1);
}

static void test_err_set_field_names_the_field_and_err_set_clears_it(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_int_equal(err_set_field(&e, OP_EINPUT, "login", "a login is at most %d bytes", 255),
                     OP_EINPUT);
    assert_string_equal(e.field, "login");
    assert_string_equal(e.msg, "a login is at most 255 bytes");
    err_prefix(&e, "users.csv line %d", 4);
    assert_string_equal(e.field, "login"); /* context keeps the field */
    e.remedy = OP_REMEDY_SKIP_INVALID;
    err_set(&e, OP_EIO, "disk full");
    assert_string_equal(e.field, "");
    assert_int_equal(e.remedy, OP_REMEDY_NONE);
}

static void test_err_set_field_cuts_a_long_field_name(void **state)
{
    (void)state;
    struct op_err e = {0};
    char longname[200];
    memset(longname, 'f', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    err_set_field(&e, OP_EINPUT, longname, "bad");
    assert_int_equal(strlen(e.field), OP_ERR_FIELD_MAX - 1);
    err_clear(&e);
    assert_int_equal(e.code, 0);
    assert_string_equal(e.field, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_http_status_follows_the_documented_table),
        cmocka_unit_test(test_err_new_codes_have_names),
        cmocka_unit_test(test_err_set_field_names_the_field_and_err_set_clears_it),
        cmocka_unit_test(test_err_set_field_cuts_a_long_field_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
