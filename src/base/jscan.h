/*
 * jscan.h - a small, bounded, strict JSON scanner that builds no tree: it checks JSON text in
 * place and tells where each value starts and ends, so that a reader can keep the bytes of a
 * value as they came (the device stores each record of a changes page so, sync/page.c) and
 * decode only the few scalars it needs.
 *
 * It accepts a subset of RFC 8259 that is never wider than what jansson accepts with
 * JSON_REJECT_DUPLICATES (so whatever it lets through, json_loads reads back):
 *   - whitespace: space, tab, LF, CR;
 *   - strings: valid UTF-8 (no overlong forms, no surrogates, nothing over U+10FFFF), no control
 *     character, the escapes \" \\ \/ \b \f \n \r \t and \uXXXX (surrogates only in pairs,
 *     never \u0000);
 *   - numbers: integers only (no fraction, no exponent), -?(0|[1-9][0-9]*), within int64;
 *   - objects: at most JSCAN_MAX_MEMBERS members, keys without escapes, no key twice;
 *   - nesting: at most JSCAN_MAX_DEPTH arrays and objects deep.
 * Errors say what is wrong and at which byte; nothing is allocated.
 */
#ifndef OUTPOST_BASE_JSCAN_H
#define OUTPOST_BASE_JSCAN_H

#include <stddef.h>
#include <stdint.h>

#define JSCAN_MAX_DEPTH   32
#define JSCAN_MAX_MEMBERS 64

struct jscan {
    const unsigned char *start, *p, *end;
    const char *err; /* what is wrong (static text), NULL while all is well */
    size_t err_at;   /* byte offset of the fault */
};

/* An object being read member by member (jscan_object_next): the keys seen, to refuse one
 * given twice. */
struct jscan_obj {
    const unsigned char *key[JSCAN_MAX_MEMBERS];
    size_t klen[JSCAN_MAX_MEMBERS];
    int n;
};

void jscan_init(struct jscan *s, const void *text, size_t len);
/* Records the first fault (later ones keep the first) and returns -1. */
int jscan_fail(struct jscan *s, const char *what);
/* The next byte that is not whitespace (0 at the end), without taking it. */
int jscan_peek(struct jscan *s);
/* 0 when only whitespace remains, else -1 ("bytes after the value"). */
int jscan_end(struct jscan *s);

/* Checks one value of any type (depth: how deep it already is) and moves past it; *vs and
 * *ve (either may be NULL) get its first byte and the byte after its last. */
int jscan_value(struct jscan *s, int depth, const unsigned char **vs, const unsigned char **ve);

/* A string, decoded into out (cap bytes with the NUL; longer: -1, "a string is too long");
 * *len its length (NULL allowed). With out NULL, only checked and measured. */
int jscan_string(struct jscan *s, char *out, size_t cap, size_t *len);
/* An integer within int64. */
int jscan_int(struct jscan *s, int64_t *out);
/* true or false. */
int jscan_bool(struct jscan *s, int *out);
/* null. */
int jscan_null(struct jscan *s);

/* '{' and '[': begin an object or an array (o is reset). */
int jscan_object_begin(struct jscan *s, struct jscan_obj *o);
int jscan_array_begin(struct jscan *s);
/* The next member of the object: 1 with its key (not NUL-terminated, no escapes) after the
 * ':' has been taken, the caller then reads the value; 0 after the closing '}'; -1 on a fault. */
int jscan_object_next(struct jscan *s, struct jscan_obj *o, const unsigned char **key,
                      size_t *klen);
/* 1 when another element follows (the caller reads it), 0 after the closing ']', -1 on a
 * fault. `first` is 1 before the first element, then 0. */
int jscan_array_next(struct jscan *s, int first);

/* 1 if key/klen is the NUL-terminated name. */
int jscan_key_is(const unsigned char *key, size_t klen, const char *name);

#endif
