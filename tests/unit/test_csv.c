/* test_csv.c - the bounded CSV reader: RFC 4180 cases, line numbers, refusals. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "import/csv.h"

static struct csv_table *parse_ok(const char *text)
{
    struct csv_table *t = NULL;
    struct op_err e = {0};
    if (csv_table_parse("t.csv", text, strlen(text), &t, &e) != 0)
        fail_msg("parse failed: %s", e.msg);
    return t;
}

static int parse_fails(const char *text, size_t len, const char *expect)
{
    struct csv_table *t = NULL;
    struct op_err e = {0};
    int rc = csv_table_parse("t.csv", text, len, &t, &e);
    if (rc == 0) {
        csv_table_free(t);
        return 0;
    }
    if (!strstr(e.msg, expect))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, expect);
    return 1;
}

static void test_csv_reads_tao_header_with_space_before_quote(void **state)
{
    (void)state;
    struct csv_table *t = parse_ok("Label,\"First Name\",Login, \"Default language\"\n"
                                   "u1,\"first\",user1,en-US\n");
    assert_int_equal(t->ncols, 4);
    assert_int_equal(csv_table_column(t, "default language"), 3);
    assert_int_equal(csv_table_column(t, "FIRST NAME"), 1);
    assert_int_equal(csv_table_column(t, "mail"), -1);
    assert_string_equal(csv_table_field(&t->rows[0], 2), "user1");
    csv_table_free(t);
}

static void test_csv_handles_bom_crlf_quotes_and_embedded_newlines(void **state)
{
    (void)state;
    struct csv_table *t = parse_ok("\xEF\xBB\xBFlogin,note\r\n"
                                   "a,\"one, two\"\r\n"
                                   "b,\"say \"\"hi\"\"\"\r\n"
                                   "c,\"line1\nline2\"\r\n"
                                   "d,last\r\n");
    assert_string_equal(t->header[0], "login");
    assert_int_equal(t->nrows, 4);
    assert_string_equal(csv_table_field(&t->rows[0], 1), "one, two");
    assert_string_equal(csv_table_field(&t->rows[1], 1), "say \"hi\"");
    assert_string_equal(csv_table_field(&t->rows[2], 1), "line1\nline2");
    /* rows know the line they start on, even after an embedded newline */
    assert_int_equal(t->rows[0].line, 2);
    assert_int_equal(t->rows[2].line, 4);
    assert_int_equal(t->rows[3].line, 6);
    csv_table_free(t);
}

static void test_csv_skips_blank_lines_and_keeps_line_numbers(void **state)
{
    (void)state;
    struct csv_table *t = parse_ok("login\n\nx\n\n\ny");
    assert_int_equal(t->nrows, 2);
    assert_int_equal(t->rows[0].line, 3);
    assert_int_equal(t->rows[1].line, 6);
    csv_table_free(t);
}

static void test_csv_knows_the_header_line_after_blank_lines(void **state)
{
    (void)state;
    struct csv_table *t = parse_ok("\n\r\nlogin,password\nx,y\n");
    assert_int_equal(t->header_line, 3);
    assert_int_equal(t->rows[0].line, 4);
    csv_table_free(t);
}

static void test_csv_refuses_binary_data(void **state)
{
    (void)state;
    static const char bin[] = "login\nab\0cd\n";
    assert_true(parse_fails(bin, sizeof bin - 1, "line 2: binary data"));
}

static void test_csv_refuses_invalid_utf8(void **state)
{
    (void)state;
    assert_true(parse_fails("login\n\xff\xfe\n", 9, "line 2: not valid UTF-8"));
}

static void test_csv_refuses_an_unclosed_quote(void **state)
{
    (void)state;
    const char *s = "login\nok\n\"never closed\n";
    assert_true(parse_fails(s, strlen(s), "line 3: a quoted field is not closed"));
}

static void test_csv_refuses_a_stray_quote(void **state)
{
    (void)state;
    const char *s = "login,note\nok,fine\nbad,a\"b\n";
    assert_true(parse_fails(s, strlen(s), "line 3: a stray quote"));
}

static void test_csv_refuses_an_empty_file(void **state)
{
    (void)state;
    assert_true(parse_fails("", 0, "empty file"));
}

static void test_csv_refuses_a_field_over_the_limit(void **state)
{
    (void)state;
    size_t n = CSV_FIELD_MAX + 100;
    char *s = malloc(n + 16);
    memcpy(s, "login\n", 6);
    memset(s + 6, 'a', n);
    s[6 + n] = '\n';
    assert_true(parse_fails(s, n + 7, "longer than"));
    free(s);
}

static void test_csv_refuses_too_many_columns(void **state)
{
    (void)state;
    size_t n = (CSV_COLUMNS_MAX + 10) * 2;
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i += 2) {
        s[i] = 'a';
        s[i + 1] = ',';
    }
    s[n - 1] = '\n';
    assert_true(parse_fails(s, n, "more than"));
    free(s);
}

static void test_csv_load_refuses_a_file_over_the_size_limit(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *path = testutil_write(dir, "big.csv", "login,password\nabc,def\nghi,jkl\n");
    struct csv_table *t = NULL;
    struct op_err e = {0};
    assert_int_equal(csv_table_load(path, 10, &t, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "over the limit of 10 bytes"));
    free(path);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_reads_tao_header_with_space_before_quote),
        cmocka_unit_test(test_csv_handles_bom_crlf_quotes_and_embedded_newlines),
        cmocka_unit_test(test_csv_skips_blank_lines_and_keeps_line_numbers),
        cmocka_unit_test(test_csv_knows_the_header_line_after_blank_lines),
        cmocka_unit_test(test_csv_refuses_binary_data),
        cmocka_unit_test(test_csv_refuses_invalid_utf8),
        cmocka_unit_test(test_csv_refuses_an_unclosed_quote),
        cmocka_unit_test(test_csv_refuses_a_stray_quote),
        cmocka_unit_test(test_csv_refuses_an_empty_file),
        cmocka_unit_test(test_csv_refuses_a_field_over_the_limit),
        cmocka_unit_test(test_csv_refuses_too_many_columns),
        cmocka_unit_test(test_csv_load_refuses_a_file_over_the_size_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
