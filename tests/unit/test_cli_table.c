/* test_cli_table.c - list tables align by characters, carry no trailing spaces, and never
 * print a control character raw. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/table.h"

static char *render(struct cli_table *t)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cli_table_print(t, f);
    fclose(f);
    return text;
}

static void test_table_aligns_accented_names_by_characters(void **state)
{
    (void)state;
    struct cli_table *t = cli_table_new("LOGIN", "LABEL", NULL);
    cli_table_add(t, "edouard",
                  "\xc3\x89"
                  "douard");
    cli_table_add(t, "ada", "Ada");
    char *text = render(t);
    assert_string_equal(text, "LOGIN    LABEL\n"
                              "edouard  \xc3\x89"
                              "douard\n"
                              "ada      Ada\n");
    free(text);
}

static void test_table_has_no_trailing_spaces_after_empty_cells(void **state)
{
    (void)state;
    struct cli_table *t = cli_table_new("A", "B", "C", NULL);
    cli_table_add(t, "x", NULL, "");
    char *text = render(t);
    assert_string_equal(text, "A  B  C\nx\n");
    free(text);
}

/* A table made from an array of headers (cli_list_command's) is the table made from
 * arguments, headers escaped alike. */
static void test_table_from_a_header_array_prints_as_from_arguments(void **state)
{
    (void)state;
    static const char *const headers[] = {"ID",
                                          "LA\x1b"
                                          "BEL",
                                          "C", NULL};
    struct cli_table *a = cli_table_new_columns(headers);
    struct cli_table *b = cli_table_new("ID",
                                        "LA\x1b"
                                        "BEL",
                                        "C", NULL);
    cli_table_add(a, "1", "ada", "");
    cli_table_add(b, "1", "ada", "");
    char *ta = render(a), *tb = render(b);
    assert_string_equal(ta, tb);
    assert_string_equal(ta, "ID  LA\\x1bBEL  C\n1   ada\n");
    free(ta);
    free(tb);
}

/* A label from an older database (or a door that let it in) must not reach the operator's
 * terminal as an escape sequence: every control character is shown escaped. */
static void test_table_prints_no_raw_control_characters(void **state)
{
    (void)state;
    struct cli_table *t = cli_table_new("LOGIN", "LABEL", NULL);
    cli_table_add(t, "eve", "\x1b]0;owned\x07\x1b[2Jred\x7f");
    cli_table_add(t, "tab\tnl\ncr\r",
                  "c1 \xc2\x9b"
                  "31m end");
    cli_table_add(t, "bad", "\xff utf-8");
    char *text = render(t);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        assert_false(*p < 0x20 && *p != '\n');
        assert_false(*p == 0x7f);
        assert_false(*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
        assert_false(*p == 0xff);
    }
    assert_string_equal(text, "LOGIN                LABEL\n"
                              "eve                  \\x1b]0;owned\\x07\\x1b[2Jred\\x7f\n"
                              "tab\\x09nl\\x0acr\\x0d  c1 \\u009b31m end\n"
                              "bad                  \\xff utf-8\n");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_aligns_accented_names_by_characters),
        cmocka_unit_test(test_table_has_no_trailing_spaces_after_empty_cells),
        cmocka_unit_test(test_table_prints_no_raw_control_characters),
        cmocka_unit_test(test_table_from_a_header_array_prints_as_from_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
