/* lockfile.c - flock(2) process locks (see lockfile.h). */
#include "base/lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static long read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    long pid = strtol(buf, NULL, 10);
    return pid > 0 ? pid : 0;
}

int lockfile_take(const char *path, const char *what, int *fd, struct op_err *e)
{
    *fd = -1;
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f < 0)
        return err_set(e, OP_EIO, "%s: cannot open the lock file: %s", path, strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        long pid = err == EWOULDBLOCK ? read_pid(f) : 0;
        close(f);
        if (err != EWOULDBLOCK)
            return err_set(e, OP_EIO, "%s: cannot lock: %s", path, strerror(err));
        if (pid > 0)
            return err_set(e, OP_EBUSY, "%s is already running (pid %ld)", what, pid);
        return err_set(e, OP_EBUSY, "%s is already running", what);
    }
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, line, (size_t)n, 0) != n) {
        /* the pid is for messages only: the lock holds without it */
    }
    *fd = f;
    return 0;
}

void lockfile_release(int fd)
{
    if (fd >= 0)
        close(fd); /* drops the flock; the file stays, so the next taker need not create it */
}

int lockfile_holder(const char *path, long *pid)
{
    *pid = 0;
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (f < 0)
        return errno == ENOENT ? 0 : -1;
    int held;
    if (flock(f, LOCK_SH | LOCK_NB) == 0)
        held = 0;
    else
        held = errno == EWOULDBLOCK ? 1 : -1;
    if (held == 1)
        *pid = read_pid(f);
    close(f);
    return held;
}

int lockfile_is_held(const char *path)
{
    long pid;
    return lockfile_holder(path, &pid);
}
