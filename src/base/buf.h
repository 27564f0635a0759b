/*
 * buf.h - a growable byte buffer, always NUL-terminated so it doubles as a string builder.
 * The buffer owns `data`; buf_free releases it, buf_detach hands it to the caller.
 */
#ifndef OUTPOST_BASE_BUF_H
#define OUTPOST_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append; always NUL-terminated after */
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_reset(struct buf *b);
/* Returns the data (never NULL: "" for an empty buffer); the caller frees it. */
char *buf_detach(struct buf *b);
void buf_free(struct buf *b);

#endif
