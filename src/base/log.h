/*
 * log.h - messages for the operator on stderr, one line each. Secrets never go through here:
 * functions that handle a password or key log what happened, never the value.
 *
 * A line is formatted whole and written with one write(2), so lines of concurrent processes
 * or threads never interleave:
 *
 *   2026-12-06T01:30:00Z outpost warning req=- result ... refused: ...
 *
 * the UTC time (base/clock.h), the level, the request id of the calling thread (`-` outside a
 * request; the server sets one per request with log_set_request_id), then the message with
 * control characters escaped (base/text.h), so a quoted value cannot forge a line.
 */
#ifndef OUTPOST_BASE_LOG_H
#define OUTPOST_BASE_LOG_H

#include <stddef.h>

/* OP_ prefixed: <syslog.h> defines LOG_ERR, LOG_WARNING, LOG_INFO and LOG_DEBUG. */
enum log_level { OP_LOG_ERROR, OP_LOG_WARN, OP_LOG_INFO, OP_LOG_DEBUG };

#define LOG_LINE_MAX       4096 /* a longer message is cut, the line still ends in '\n' */
#define LOG_REQUEST_ID_MAX 64   /* a longer request id is cut */

void log_set_level(enum log_level level);

/* Where lines go: stderr (2) unless set (tests log to a pipe or file). */
void log_set_fd(int fd);

/* The request id printed as req=<id> on the lines this thread logs, until set again; NULL or
 * "" prints req=-. The id is copied (cut to LOG_REQUEST_ID_MAX - 1 bytes, control characters
 * written as '?'). */
void log_set_request_id(const char *id);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats the line log_msg would write (with its '\n') into out[LOG_LINE_MAX]; returns its
 * length. For tests, and for log_msg itself. */
size_t log_format(char out[LOG_LINE_MAX], enum log_level level, const char *msg);

#define log_error(...) log_msg(OP_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(OP_LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(OP_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(OP_LOG_DEBUG, __VA_ARGS__)

#endif
