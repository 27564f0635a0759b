/* test_secret.c - password input: one line taken with read(2), nothing more, nothing left in a
 * stdio buffer; and the process hardening every command starts with (no core dumps). */
#include "testutil.h"

#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/process.h"
#include "base/secret.h"

/* Puts `text` on standard input through a pipe (closed after it: end of input follows). */
static void stdin_from(const char *text)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
    close(p[1]);
    assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
    close(p[0]);
}

/* The reader takes exactly the first line from the file descriptor: the rest is still there
 * for read(2). A stdio reader (fgetc) would have pulled the whole pipe, password included,
 * into stdin's buffer, which nobody wipes. */
static void test_secret_read_takes_one_line_and_leaves_the_rest_of_stdin_unread(void **state)
{
    (void)state;
    stdin_from("first-password\nthe rest of the input\n");
    char *pw = NULL;
    struct op_err e = {0};
    assert_int_equal(secret_read("Password: ", 0, &pw, &e), 0);
    assert_string_equal(pw, "first-password");
    secret_free(pw);
    char rest[64] = {0};
    assert_int_equal(read(STDIN_FILENO, rest, sizeof rest - 1), 22);
    assert_string_equal(rest, "the rest of the input\n");
}

static void test_secret_read_strips_a_carriage_return_and_refuses_empty_input(void **state)
{
    (void)state;
    stdin_from("pw-with-crlf\r\nnext");
    char *pw = NULL;
    struct op_err e = {0};
    assert_int_equal(secret_read("Password: ", 0, &pw, &e), 0);
    assert_string_equal(pw, "pw-with-crlf");
    secret_free(pw);
    stdin_from("");
    assert_int_equal(secret_read("Password: ", 0, &pw, &e), OP_EINPUT);
    assert_null(pw);
    stdin_from("no-newline-at-end");
    assert_int_equal(secret_read("Password: ", 0, &pw, &e), 0);
    assert_string_equal(pw, "no-newline-at-end");
    secret_free(pw);
}

static void test_secret_read_refuses_a_password_over_the_limit(void **state)
{
    (void)state;
    static char big[SECRET_MAX + 10];
    memset(big, 'x', sizeof big - 2);
    big[sizeof big - 2] = '\n';
    stdin_from(big);
    char *pw = NULL;
    struct op_err e = {0};
    assert_int_equal(secret_read("Password: ", 0, &pw, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "longer than"));
}

/* Every command starts with process_harden: no core file can hold a key or a password. */
static void test_process_harden_disables_core_dumps(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_int_equal(process_harden(&e), 0);
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
    assert_int_equal(rl.rlim_cur, 0);
    assert_int_equal(rl.rlim_max, 0);
    /* jansson's memory is wiped when freed (the allocator stays usable for everything) */
    json_t *j = json_pack("{s:s}", "password", "a-secret-in-json");
    char *text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(text, "{\"password\":\"a-secret-in-json\"}");
    free(text);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_read_takes_one_line_and_leaves_the_rest_of_stdin_unread),
        cmocka_unit_test(test_secret_read_strips_a_carriage_return_and_refuses_empty_input),
        cmocka_unit_test(test_secret_read_refuses_a_password_over_the_limit),
        cmocka_unit_test(test_process_harden_disables_core_dumps),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
