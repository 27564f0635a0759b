/* test_keys_results.c - walking central's results keys when some key files do not load. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "crypto/keys.h"

struct walk {
    int loaded;
    int serials[8];
    int problems;
    char why[4200];
};

static int on_key(const struct key *k, void *ctx)
{
    struct walk *w = ctx;
    w->serials[w->loaded++] = k->serial;
    return 0;
}

static void on_problem(const char *path, const struct op_err *why, void *ctx)
{
    struct walk *w = ctx;
    w->problems++;
    snprintf(w->why, sizeof w->why, "%s | %s", path, why->msg);
}

/* keys_results_each stopped at the first key file it could not load, so every key after it
 * was out of reach too: it now reports that file and goes on. */
static void test_results_each_reports_an_unloadable_key_and_goes_on(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct op_err e = {0};
    assert_int_equal(keys_setup_central(dir, NULL, &e), 0);
    struct key k2, k3, found;
    assert_int_equal(keys_rotate_results(dir, &k2, &e), 0);
    assert_int_equal(keys_rotate_results(dir, &k3, &e), 0);
    char *first = fs_join(dir, "results-0001.key");
    char *second = fs_join(dir, "results-0002.key");
    assert_int_equal(chmod(first, 0644), 0);
    struct walk w;
    memset(&w, 0, sizeof w);
    assert_int_equal(keys_results_each(dir, on_key, on_problem, &w, &e), 0);
    assert_int_equal(w.loaded, 2);
    assert_int_equal(w.serials[0], 2);
    assert_int_equal(w.serials[1], 3);
    assert_int_equal(w.problems, 1);
    assert_non_null(strstr(w.why, "results-0001.key"));
    assert_non_null(strstr(w.why, "chmod 600"));
    /* the keys after the bad file are found by id */
    assert_int_equal(keys_results_by_id(dir, k3.id, &found, &e), 0);
    assert_memory_equal(found.secret, k3.secret, KEY_SECRET_BYTES);
    key_wipe(&found);
    /* an id no loadable file has: the bad file may be it, so it is named */
    assert_int_equal(keys_results_by_id(dir, "0000000000000000", &found, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "results-0001.key"));
    /* without a problem callback, the first bad file stops the walk with its error */
    memset(&w, 0, sizeof w);
    assert_int_equal(keys_results_each(dir, on_key, NULL, &w, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "chmod 600"));
    /* a damaged file in the middle is reported as well */
    assert_int_equal(chmod(first, 0600), 0);
    char *text;
    size_t len;
    assert_int_equal(fs_read_file(second, 4096, &text, &len, &e), 0);
    char *sec = strstr(text, "secret ");
    sec[7] = sec[7] == '0' ? '1' : '0';
    assert_int_equal(unlink(second), 0);
    assert_int_equal(fs_write_new(second, text, len, 0600, NULL, &e), 0);
    free(text);
    memset(&w, 0, sizeof w);
    assert_int_equal(keys_results_each(dir, on_key, on_problem, &w, &e), 0);
    assert_int_equal(w.loaded, 2);
    assert_int_equal(w.problems, 1);
    assert_non_null(strstr(w.why, "damaged key file"));
    key_wipe(&k2);
    key_wipe(&k3);
    free(first);
    free(second);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_each_reports_an_unloadable_key_and_goes_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
