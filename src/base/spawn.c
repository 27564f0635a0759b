/*
 * spawn.c - runs a program and waits for it (see spawn.h).
 */
#include "base/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child's side: never returns. */
static void child(const char *const *argv, const char *const *set, const char *const *unset,
                  int err_fd)
{
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(126);
    for (const char *const *u = unset; u && *u; u++)
        unsetenv(*u);
    for (const char *const *s = set; s && *s; s++) {
        const char *eq = strchr(*s, '=');
        if (!eq)
            continue;
        char name[128];
        size_t n = (size_t)(eq - *s) < sizeof name - 1 ? (size_t)(eq - *s) : sizeof name - 1;
        memcpy(name, *s, n);
        name[n] = '\0';
        setenv(name, eq + 1, 1);
    }
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], (char *const *)argv);
    dprintf(2, "%s", strerror(errno));
    _exit(127);
}

int spawn_run(const char *const *argv, const char *const *set, const char *const *unset,
              struct op_err *e)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return err_set(e, OP_EIO, "cannot run %s: %s", argv[0], strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        return err_set(e, OP_EIO, "cannot run %s: %s", argv[0], strerror(err));
    }
    if (pid == 0)
        child(argv, set, unset, fds[1]);
    close(fds[1]);
    char out[SPAWN_ERR_MAX + 1];
    size_t len = 0;
    for (;;) {
        char buf[4096];
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r < SPAWN_ERR_MAX - len ? (size_t)r : SPAWN_ERR_MAX - len;
        memcpy(out + len, buf, take);
        len += take;
    }
    out[len] = '\0';
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return err_set(e, OP_EIO, "%s: cannot wait for it: %s", argv[0], strerror(errno));
    /* its message on one line: line breaks as spaces, the last ones dropped */
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
        out[--len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (out[i] == '\n' || out[i] == '\r' || out[i] == '\t')
            out[i] = ' ';
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return err_set(e, OP_EIO, "cannot run %s: %s (is it installed? Debian: postgresql-client)",
                       argv[0], len ? out : "not found");
    if (WIFSIGNALED(status))
        return err_set(e, OP_EIO, "%s was killed by signal %d%s%s", argv[0], WTERMSIG(status),
                       len ? ": " : "", out);
    return err_set(e, OP_EIO, "%s failed (exit status %d)%s%s", argv[0],
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1, len ? ": " : "", out);
}
