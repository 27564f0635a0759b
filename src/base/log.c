/* log.c - operator messages, one write(2) per line (see log.h). */
#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/ids.h"
#include "base/text.h"

static enum log_level current_level = OP_LOG_INFO;
static int log_fd = 2;
static _Thread_local char request_id[LOG_REQUEST_ID_MAX];

void log_set_level(enum log_level level)
{
    current_level = level;
}

void log_set_fd(int fd)
{
    log_fd = fd;
}

void log_set_request_id(const char *id)
{
    size_t n = 0;
    for (; id && id[n] && n < sizeof request_id - 1; n++) {
        unsigned char c = (unsigned char)id[n];
        request_id[n] = c < 0x21 || c == 0x7f ? '?' : (char)c; /* one word, no control */
    }
    request_id[n] = '\0';
}

size_t log_format(char out[LOG_LINE_MAX], enum log_level level, const char *msg)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    char when[TIMESTAMP_STR_LEN];
    if (timestamp_format(clock_now(), when) != 0)
        snprintf(when, sizeof when, "-");
    char *safe = text_escape(msg);
    int n = snprintf(out, LOG_LINE_MAX, "%s outpost %s req=%s %s", when, names[level],
                     request_id[0] ? request_id : "-", safe);
    free(safe);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > LOG_LINE_MAX - 2)
        len = LOG_LINE_MAX - 2; /* cut, leaving room for the newline */
    out[len++] = '\n';
    out[len] = '\0';
    return len;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level > current_level)
        return;
    char msg[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char line[LOG_LINE_MAX];
    size_t len = log_format(line, level, msg);
    /* One write(2): with O_APPEND or a pipe, lines of other writers never land inside it.
     * A short write (a full pipe, a signal) is not retried: a second write could interleave. */
    ssize_t w;
    do
        w = write(log_fd, line, len);
    while (w < 0 && errno == EINTR);
}
