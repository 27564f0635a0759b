/* test_ids.c - UUIDs and time stamps (base/ids.h). */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#include "base/ids.h"

static void test_timestamp_format_writes_utc_iso_8601(void **state)
{
    (void)state;
    char out[TIMESTAMP_STR_LEN];
    assert_int_equal(timestamp_format(0, out), 0);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    assert_int_equal(timestamp_format((time_t)253402300799, out), 0);
    assert_string_equal(out, "9999-12-31T23:59:59Z");
}

/* gmtime_r fails for a time near INT64_MAX (its year does not fit an int), and a year of many
 * digits does not fit the buffer: the formatter says so and leaves an empty string, never the
 * text of an uninitialised struct tm or an unterminated buffer. */
static void test_timestamp_format_fails_cleanly_on_a_time_it_cannot_write(void **state)
{
    (void)state;
    const time_t bad[] = {(time_t)INT64_MAX, (time_t)INT64_MIN, (time_t)INT64_MAX / 2,
                          (time_t)67767976233316800LL /* year 2147485547 */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[TIMESTAMP_STR_LEN];
        memset(out, 'x', sizeof out);
        assert_true(timestamp_format(bad[i], out) < 0);
        assert_string_equal(out, "");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamp_format_writes_utc_iso_8601),
        cmocka_unit_test(test_timestamp_format_fails_cleanly_on_a_time_it_cannot_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
