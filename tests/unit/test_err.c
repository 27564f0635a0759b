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
        {OP_OK, 200},         {OP_EINPUT, 400},     {OP_EUSAGE, 400},    {OP_EUNAUTH, 401},
        {OP_EFORBIDDEN, 403}, {OP_ENOTFOUND, 404},  {OP_ECONFLICT, 409}, {OP_ECRYPTO, 422},
        {OP_EBUSY, 503},      {OP_ESTATE, 500},     {OP_EIO, 500},       {OP_EDB, 500},
        {OP_ENOMEM, 500},     {OP_ETHROTTLED, 429}, {-999, 500},
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
    e.retry_after = 60;
    err_set(&e, OP_EIO, "disk full");
    assert_int_equal(e.retry_after, 0);
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

/* Every code has its own name, an exit status and an HTTP status in the table's range; the
 * codes a client may fix are 4xx, the rest 5xx. */
static void test_err_every_code_has_a_name_and_a_status(void **state)
{
    (void)state;
    const int codes[] = {OP_EINPUT,  OP_EIO,        OP_EDB,       OP_ENOTFOUND, OP_ECONFLICT,
                         OP_ESTATE,  OP_ECRYPTO,    OP_ENOMEM,    OP_EUSAGE,    OP_EBUSY,
                         OP_EUNAUTH, OP_EFORBIDDEN, OP_ETHROTTLED};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        assert_string_not_equal(err_code_name(codes[i]), "error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(err_code_name(codes[i]), err_code_name(codes[j]));
        assert_int_equal(err_exit_status(codes[i]), codes[i] == OP_EUSAGE ? 2 : 1);
        int http = err_http_status(codes[i]);
        assert_true(http >= 400 && http <= 599);
    }
    assert_string_equal(err_code_name(OP_OK), "ok");
    assert_int_equal(err_exit_status(OP_OK), 0);
    assert_string_equal(err_code_name(-999), "error");
    assert_int_equal(err_exit_status(-999), 1);
}

/* err_set_remedy sets the kind of fix with the message; err_prefix keeps it, err_set and
 * err_clear drop it. */
static void test_err_set_remedy_keeps_the_remedy_through_a_prefix(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_int_equal(err_set_remedy(&e, OP_EINPUT, OP_REMEDY_CSV_LIMIT, "%d bytes", 2000),
                     OP_EINPUT);
    assert_string_equal(e.msg, "2000 bytes");
    assert_string_equal(e.field, "");
    assert_int_equal(e.remedy, OP_REMEDY_CSV_LIMIT);
    assert_int_equal(err_prefix(&e, "users.csv"), OP_EINPUT);
    assert_string_equal(e.msg, "users.csv: 2000 bytes");
    assert_int_equal(e.remedy, OP_REMEDY_CSV_LIMIT);
    err_clear(&e);
    assert_int_equal(e.remedy, OP_REMEDY_NONE);
    assert_int_equal(err_set_remedy(NULL, OP_EIO, OP_REMEDY_SETUP, "x"), OP_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_http_status_follows_the_documented_table),
        cmocka_unit_test(test_err_new_codes_have_names),
        cmocka_unit_test(test_err_set_field_names_the_field_and_err_set_clears_it),
        cmocka_unit_test(test_err_set_field_cuts_a_long_field_name),
        cmocka_unit_test(test_err_every_code_has_a_name_and_a_status),
        cmocka_unit_test(test_err_set_remedy_keeps_the_remedy_through_a_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
