/* test_cli_table.c - list tables align by characters and carry no trailing spaces. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_aligns_accented_names_by_characters),
        cmocka_unit_test(test_table_has_no_trailing_spaces_after_empty_cells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
