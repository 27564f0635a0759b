/* test_text.c - the one rule for stored text (text_check) and its escaping for terminals. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

static void test_text_check_refuses_every_control_character(void **state)
{
    (void)state;
    char s[8];
    for (int c = 1; c < 0x20; c++) {
        snprintf(s, sizeof s, "a%cb", c);
        assert_int_equal(text_check(s, 0), TEXT_CONTROL);
    }
    assert_int_equal(text_check("a\x7f"
                                "b",
                                0),
                     TEXT_CONTROL);
    for (int c = 0x80; c <= 0x9f; c++) { /* C1, as UTF-8: C2 80 .. C2 9F */
        snprintf(s, sizeof s, "a\xc2%cb", c);
        assert_int_equal(text_check(s, 0), TEXT_CONTROL);
    }
    /* the first characters after the C1 block are text */
    assert_int_equal(text_check("a\xc2\xa0"
                                "b",
                                0),
                     TEXT_OK); /* U+00A0 */
    assert_int_equal(text_check("\xc3\x89"
                                "douard",
                                0),
                     TEXT_OK);
}

static void test_text_check_other_faults(void **state)
{
    (void)state;
    assert_int_equal(text_check(NULL, 0), TEXT_EMPTY);
    assert_int_equal(text_check("", 0), TEXT_EMPTY);
    assert_int_equal(text_check("abcd", 3), TEXT_TOO_LONG);
    assert_int_equal(text_check("abc", 3), TEXT_OK);
    assert_int_equal(text_check("a\xff", 0), TEXT_NOT_UTF8);
    assert_int_equal(text_check("\xc0\xaf", 0), TEXT_NOT_UTF8);     /* overlong "/" */
    assert_int_equal(text_check("\xed\xa0\x80", 0), TEXT_NOT_UTF8); /* a surrogate */
    assert_int_equal(text_check(" a", 0), TEXT_EDGE_SPACE);
    assert_int_equal(text_check("a ", 0), TEXT_EDGE_SPACE);
    assert_int_equal(text_check("a b", 0), TEXT_OK);
    assert_true(login_is_valid("ann"));
    assert_false(login_is_valid("a\xc2\x9b"
                                "b"));
    char long_login[300];
    memset(long_login, 'x', sizeof long_login - 1);
    long_login[sizeof long_login - 1] = '\0';
    assert_false(login_is_valid(long_login));
    long_login[255] = '\0';
    assert_true(login_is_valid(long_login));
}

static void test_text_escape_shows_controls_and_keeps_text(void **state)
{
    (void)state;
    char *s = text_escape("\x1b[2J\tx\n\x7f\xc2\x9b\xc3\x89\xff\\");
    assert_string_equal(s, "\\x1b[2J\\x09x\\x0a\\x7f\\u009b\xc3\x89\\xff\\");
    free(s);
    s = text_escape(NULL);
    assert_string_equal(s, "");
    free(s);
    assert_true(text_needs_escape("a\x1b"));
    assert_false(text_needs_escape("\xc3\x89"
                                   "douard"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_check_refuses_every_control_character),
        cmocka_unit_test(test_text_check_other_faults),
        cmocka_unit_test(test_text_escape_shows_controls_and_keeps_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
