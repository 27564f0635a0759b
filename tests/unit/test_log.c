/* test_log.c - operator log lines (base/log.h): one whole line per write, with the time, the
 * level and the request id of the thread, control characters escaped. */
#include "testutil.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

static time_t fixed_now = 1700000000; /* 2023-11-14T22:13:20Z */
static int fds[2];

static int setup(void **state)
{
    (void)state;
    if (pipe(fds) != 0)
        return -1;
    log_set_fd(fds[1]);
    clock_set(&(struct op_clock){clock_fixed, &fixed_now});
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    log_set_fd(2);
    log_set_level(OP_LOG_INFO);
    log_set_request_id(NULL);
    clock_set(NULL);
    close(fds[0]);
    close(fds[1]);
    return 0;
}

/* One read of the pipe: what one write put there (lines here are far below PIPE_BUF). */
static void expect_read(const char *want)
{
    char got[LOG_LINE_MAX + 1];
    ssize_t n = read(fds[0], got, sizeof got - 1);
    assert_true(n > 0);
    got[n] = '\0';
    assert_string_equal(got, want);
}

static void test_a_line_has_time_level_request_id_and_message(void **state)
{
    (void)state;
    log_warn("result %s refused", "r1");
    expect_read("2023-11-14T22:13:20Z outpost warning req=- result r1 refused\n");
    log_set_request_id("7f3a-01");
    log_error("disk %s", "full");
    expect_read("2023-11-14T22:13:20Z outpost error req=7f3a-01 disk full\n");
    log_set_request_id("");
    log_info("ok");
    expect_read("2023-11-14T22:13:20Z outpost info req=- ok\n");
}

static void test_levels_below_the_set_one_are_not_written(void **state)
{
    (void)state;
    log_debug("not shown");
    log_set_level(OP_LOG_DEBUG);
    log_debug("shown");
    expect_read("2023-11-14T22:13:20Z outpost debug req=- shown\n");
    log_set_level(OP_LOG_ERROR);
    log_warn("not shown");
    log_error("last");
    expect_read("2023-11-14T22:13:20Z outpost error req=- last\n");
}

/* A value quoted in a message cannot start a line of its own that looks like another entry,
 * and a request id stays one word. */
static void test_control_characters_cannot_forge_a_line(void **state)
{
    (void)state;
    log_set_request_id("a b\nc");
    log_warn("login %s", "x\n2023-11-14T22:13:20Z outpost error req=- forged");
    expect_read("2023-11-14T22:13:20Z outpost warning req=a?b?c login "
                "x\\x0a2023-11-14T22:13:20Z outpost error req=- forged\n");
}

static void test_a_long_message_is_cut_and_still_ends_the_line(void **state)
{
    (void)state;
    char out[LOG_LINE_MAX];
    char big[LOG_LINE_MAX * 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    size_t len = log_format(out, OP_LOG_INFO, big);
    assert_int_equal(len, LOG_LINE_MAX - 1);
    assert_int_equal(strlen(out), len);
    assert_int_equal(out[len - 1], '\n');
}

static void *log_from_thread(void *arg)
{
    log_set_request_id((const char *)arg);
    log_warn("from the thread");
    return NULL;
}

/* The request id is the calling thread's: a server thread's id never shows on another's. */
static void test_the_request_id_belongs_to_the_thread(void **state)
{
    (void)state;
    log_set_request_id("main");
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, log_from_thread, "worker-1"), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    expect_read("2023-11-14T22:13:20Z outpost warning req=worker-1 from the thread\n");
    log_warn("from main");
    expect_read("2023-11-14T22:13:20Z outpost warning req=main from main\n");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_line_has_time_level_request_id_and_message),
        T(test_levels_below_the_set_one_are_not_written),
        T(test_control_characters_cannot_forge_a_line),
        T(test_a_long_message_is_cut_and_still_ends_the_line),
        T(test_the_request_id_belongs_to_the_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
