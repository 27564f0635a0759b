/* test_cli_remedy.c - the CLI's words for the kinds of fix (cli/remedy.h): every remedy the
 * lower layers can set gets advice, and the message plus advice read as before the lower
 * layers stopped naming options. */
#include "testutil.h"

#include <string.h>

#include "cli/cli.h"
#include "cli/remedy.h"

static const char *text_of(int code, enum op_remedy remedy, const char *msg, char *out, size_t cap)
{
    struct op_err e = {0};
    err_set_remedy(&e, code, remedy, "%s", msg);
    return cli_error_text(&e, out, cap);
}

static void test_every_remedy_has_advice_and_none_has_none(void **state)
{
    (void)state;
    char out[512];
    struct op_err e = {0};
    err_set(&e, OP_EINPUT, "bad");
    assert_string_equal(cli_remedy_advice(&e, out, sizeof out), "");
    for (int r = OP_REMEDY_NONE + 1; r < OP_REMEDY_COUNT; r++) {
        e.remedy = (enum op_remedy)r;
        assert_true(strlen(cli_remedy_advice(&e, out, sizeof out)) > 0);
    }
}

static void test_the_message_and_its_advice_read_as_one_sentence(void **state)
{
    (void)state;
    char out[OP_ERR_MAX + 512];
    assert_string_equal(text_of(OP_EINPUT, OP_REMEDY_SKIP_INVALID,
                                "bad.csv: 2 problems; nothing was imported", out, sizeof out),
                        "bad.csv: 2 problems; nothing was imported (fix the rows listed, or "
                        "give --skip-invalid to import the valid rows)");
    assert_string_equal(text_of(OP_EINPUT, OP_REMEDY_CSV_LIMIT,
                                "big.csv: the file is 2000 bytes, over the limit of 1024 bytes",
                                out, sizeof out),
                        "big.csv: the file is 2000 bytes, over the limit of 1024 bytes (raise "
                        "configuration.limits.csv-max-bytes, or split the file)");
    assert_string_equal(text_of(OP_ECONFLICT, OP_REMEDY_REPARENT,
                                "test center \"A\" has 1 sub-center: \"B\" (b); delete it or give "
                                "it another parent",
                                out, sizeof out),
                        "test center \"A\" has 1 sub-center: \"B\" (b); delete it or give it "
                        "another parent (testcenters update --parent or --no-parent) first");
    assert_string_equal(text_of(OP_ENOTFOUND, OP_REMEDY_SETUP_DEVICE_KEYS,
                                "k/device-signing.key: no such key file", out, sizeof out),
                        "k/device-signing.key: no such key file; run `outpost setup-device`");
}

/* OP_EBUSY always means "try again": the CLI says so whatever the remedy, even when a caller
 * copied the message and lost the remedy but kept the code. */
static void test_busy_says_try_again(void **state)
{
    (void)state;
    char out[OP_ERR_MAX + 512];
    assert_string_equal(
        text_of(OP_EBUSY, OP_REMEDY_NONE, "users: the database is busy", out, sizeof out),
        "users: the database is busy (another outpost command is writing); try "
        "again");
}

/* OP_ETHROTTLED says when to try again: the seconds the refusal carries. */
static void test_throttled_says_when_to_try_again(void **state)
{
    (void)state;
    char out[OP_ERR_MAX + 512];
    struct op_err e = {0};
    err_set(&e, OP_ETHROTTLED, "too many failed logins for \"sm\"");
    e.retry_after = 120;
    assert_string_equal(cli_error_text(&e, out, sizeof out),
                        "too many failed logins for \"sm\"; try again in 120 seconds");
    e.retry_after = 0;
    assert_string_equal(cli_error_text(&e, out, sizeof out),
                        "too many failed logins for \"sm\"; wait a few minutes and try again");
}

static void test_setup_advice_names_the_data_folder_in_use(void **state)
{
    (void)state;
    char out[OP_ERR_MAX + 512];
    cli_data_option = "/tmp/nowhere";
    assert_string_equal(text_of(OP_ESTATE, OP_REMEDY_SETUP,
                                "/tmp/nowhere: no Outpost instance "
                                "here",
                                out, sizeof out),
                        "/tmp/nowhere: no Outpost instance here; create one with `outpost "
                        "--data /tmp/nowhere setup FILE.json` or point --data (or OUTPOST_HOME) "
                        "at one");
    cli_data_option = NULL;
}

static void test_a_message_without_text_prints_the_code_name(void **state)
{
    (void)state;
    char out[64];
    struct op_err e = {.code = OP_ENOTFOUND};
    assert_string_equal(cli_error_text(&e, out, sizeof out), "not found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_remedy_has_advice_and_none_has_none),
        cmocka_unit_test(test_the_message_and_its_advice_read_as_one_sentence),
        cmocka_unit_test(test_busy_says_try_again),
        cmocka_unit_test(test_throttled_says_when_to_try_again),
        cmocka_unit_test(test_setup_advice_names_the_data_folder_in_use),
        cmocka_unit_test(test_a_message_without_text_prints_the_code_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
