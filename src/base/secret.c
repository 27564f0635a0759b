/* secret.c - password input (see secret.h). Buffers are sodium_malloc'ed (guarded, locked,
 * left out of core dumps) and wiped on free; input is read with read(2), never through stdio. */
#include "base/secret.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Reads one line from `fd` with read(2), one byte at a time, straight into `dst`: nothing
 * is read past the newline (the rest of standard input stays for whoever reads next) and no
 * stdio buffer, which nobody wipes, ever holds the password. */
static int read_line(int fd, char *dst, size_t cap)
{
    size_t n = 0;
    int too_long = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (n == 0 && !too_long) {
                dst[0] = '\0';
                return -1;
            }
            break;
        }
        if (c == '\n')
            break;
        if (n + 1 >= cap) {
            too_long = 1; /* keep reading to the end of the line, keep nothing */
            continue;
        }
        dst[n++] = c;
    }
    if (too_long) {
        sodium_memzero(dst, cap);
        return -2;
    }
    if (n > 0 && dst[n - 1] == '\r')
        n--;
    dst[n] = '\0';
    return 0;
}

static int read_tty(const char *prompt, char *dst, size_t cap)
{
    struct termios old, quiet;
    fprintf(stderr, "%s", prompt);
    fflush(stderr);
    int have_tty = tcgetattr(STDIN_FILENO, &old) == 0;
    if (have_tty) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    int rc = read_line(STDIN_FILENO, dst, cap);
    if (have_tty)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return rc;
}

int secret_read(const char *prompt, int confirm, char **out, struct op_err *e)
{
    *out = NULL;
    char *pw = sodium_malloc(SECRET_MAX);
    if (!pw)
        return err_set(e, OP_ENOMEM, "out of memory");
    int tty = isatty(STDIN_FILENO);
    int rc = tty ? read_tty(prompt, pw, SECRET_MAX) : read_line(STDIN_FILENO, pw, SECRET_MAX);
    if (rc == -2) {
        sodium_free(pw);
        return err_set(e, OP_EINPUT, "password longer than %d bytes", SECRET_MAX - 1);
    }
    if (rc != 0 || pw[0] == '\0') {
        sodium_free(pw);
        return err_set(e, OP_EINPUT,
                       "empty password: type it on the terminal or pipe it on "
                       "standard input (never as an argument)");
    }
    if (tty && confirm) {
        char *again = sodium_malloc(SECRET_MAX);
        if (!again) {
            sodium_free(pw);
            return err_set(e, OP_ENOMEM, "out of memory");
        }
        rc = read_tty("Repeat the password: ", again, SECRET_MAX);
        int same = rc == 0 && strcmp(pw, again) == 0;
        sodium_free(again);
        if (!same) {
            sodium_free(pw);
            return err_set(e, OP_EINPUT, "the two passwords differ; nothing was changed");
        }
    }
    *out = pw;
    return 0;
}

void secret_free(char *s)
{
    if (s)
        sodium_free(s); /* wipes before release */
}
