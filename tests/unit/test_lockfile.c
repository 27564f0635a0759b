/* test_lockfile.c - the process lock of base/lockfile.h, held by one process at a time: a
 * second process is refused at once with the holder's pid, and the lock is free again when the
 * holder exits, even by SIGKILL. */
#include "testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/lockfile.h"

/* Forks a child that takes the lock, tells the parent, and waits to be killed. */
static pid_t holder(const char *path)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        struct op_err e = {0};
        int fd;
        char ok = lockfile_take(path, "a sync", &fd, &e) == 0 ? 'y' : 'n';
        if (write(p[1], &ok, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    char ok = 0;
    assert_int_equal(read(p[0], &ok, 1), 1);
    close(p[0]);
    assert_int_equal(ok, 'y');
    return pid;
}

static void test_lockfile_second_process_is_refused_with_the_holders_pid(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *path = fs_join(dir, "sync.lock");
    assert_int_equal(lockfile_is_held(path), 0); /* no file yet */
    pid_t child = holder(path);
    assert_int_equal(lockfile_is_held(path), 1);
    struct op_err e = {0};
    int fd;
    assert_int_equal(lockfile_take(path, "a sync", &fd, &e), OP_EBUSY);
    char want[64];
    snprintf(want, sizeof want, "a sync is already running (pid %ld)", (long)child);
    assert_string_equal(e.msg, want);
    assert_int_equal(fd, -1);
    /* the holder dies without releasing: the kernel frees the lock */
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(lockfile_is_held(path), 0);
    assert_int_equal(lockfile_take(path, "a sync", &fd, &e), 0);
    assert_int_equal(lockfile_is_held(path), 1);
    lockfile_release(fd);
    assert_int_equal(lockfile_is_held(path), 0);
    free(path);
    testutil_rmdir(dir);
}

static void test_lockfile_is_taken_once_within_a_process_too(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *path = fs_join(dir, "sync.lock");
    struct op_err e = {0};
    int a, b;
    assert_int_equal(lockfile_take(path, "a sync", &a, &e), 0);
    assert_int_equal(lockfile_take(path, "a sync", &b, &e), OP_EBUSY);
    lockfile_release(a);
    assert_int_equal(lockfile_take(path, "a sync", &b, &e), 0);
    lockfile_release(b);
    char *bad = fs_join(dir, "no/such/folder/sync.lock");
    assert_int_equal(lockfile_take(bad, "a sync", &a, &e), OP_EIO);
    free(bad);
    free(path);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lockfile_second_process_is_refused_with_the_holders_pid),
        cmocka_unit_test(test_lockfile_is_taken_once_within_a_process_too),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
