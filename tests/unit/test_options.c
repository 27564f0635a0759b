/* test_options.c - options_parse_exact: the positional-argument count every command checks.
 * <getopt.h> is included on purpose: the option table's type must not clash with its
 * `struct option`, so this file stops compiling if the name comes back. */
#include "testutil.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"

static const struct command_usage usage = {"outpost thing [--json] [NAME]", "Does a thing."};

static int parse(int argc, char **argv, int nargs, int *json, int *status)
{
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", json, "print JSON"),
        OPT_END(),
    };
    return options_parse_exact(argc, argv, opts, &usage, nargs, "give one NAME", status);
}

static void test_parse_exact_leaves_the_one_argument_in_argv(void **state)
{
    (void)state;
    char *argv[] = {"thing", "--json", "ada", NULL};
    int json = 0, status = -1;
    assert_int_equal(parse(3, argv, 1, &json, &status), 0);
    assert_int_equal(json, 1);
    assert_string_equal(argv[0], "ada");
}

static void test_parse_exact_refuses_an_argument_where_none_is_taken(void **state)
{
    (void)state;
    char *argv[] = {"thing", "ada", NULL};
    int json = 0, status = -1;
    assert_int_equal(parse(2, argv, 0, &json, &status), -1);
    assert_int_equal(status, 2);
}

static void test_parse_exact_refuses_a_missing_argument(void **state)
{
    (void)state;
    char *argv[] = {"thing", "--json", NULL};
    int json = 0, status = -1;
    assert_int_equal(parse(2, argv, 1, &json, &status), -1);
    assert_int_equal(status, 2);
}

static void test_parse_exact_ends_with_status_0_after_help(void **state)
{
    (void)state;
    char *argv[] = {"thing", "--help", NULL};
    int json = 0, status = -1;
    assert_int_equal(parse(2, argv, 1, &json, &status), -1);
    assert_int_equal(status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_exact_leaves_the_one_argument_in_argv),
        cmocka_unit_test(test_parse_exact_refuses_an_argument_where_none_is_taken),
        cmocka_unit_test(test_parse_exact_refuses_a_missing_argument),
        cmocka_unit_test(test_parse_exact_ends_with_status_0_after_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
