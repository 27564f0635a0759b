/*
 * qti_alloc.h - the one allocation helper of src/qti (every file there uses it; nothing
 * outside src/qti includes it): allocation that aborts on failure, as base/buf.c does (we
 * cannot report it usefully, and a path taken only when memory runs out would never be
 * tested). A count of 0 still returns a pointer to free; a count times a size that overflows
 * aborts too. qti_xstrdup(NULL) is "" (callers that want NULL to stay NULL say so).
 */
#ifndef OUTPOST_QTI_ALLOC_H
#define OUTPOST_QTI_ALLOC_H

#include <stdlib.h>
#include <string.h>

static inline void *qti_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

/* n elements of size bytes, not zeroed. */
static inline void *qti_xmalloc(size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        abort();
    size_t bytes = n * size;
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        abort();
    return p;
}

static inline void *qti_xrealloc(void *p, size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        abort();
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        abort();
    return q;
}

/* Makes room for element n (0-based) of an array that grows by doubling: its capacity is
 * the next power of two at or above its count, so it is full when n is 0 or a power of two. */
static inline void *qti_grow(void *p, size_t n, size_t size)
{
    if (n != 0 && (n & (n - 1)) != 0)
        return p;
    return qti_xrealloc(p, n ? n * 2 : 1, size);
}

/* Appends v to the array arr of n elements (both lvalues), growing it by one. */
#define QTI_PUSH(arr, n, v)                                                                        \
    do {                                                                                           \
        (arr) = qti_xrealloc((arr), (n) + 1, sizeof *(arr));                                       \
        (arr)[(n)++] = (v);                                                                        \
    } while (0)

static inline char *qti_xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

/* The first n bytes of s (fewer if s is shorter), NUL-terminated. */
static inline char *qti_xstrndup(const char *s, size_t n)
{
    char *p = strndup(s ? s : "", n);
    if (!p)
        abort();
    return p;
}

#endif
