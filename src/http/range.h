/*
 * range.h - the HTTP Range request header (RFC 9110 §14), for downloads that resume: a
 * package fetched by its hash asks for the bytes it lacks ("Range: bytes=1048576-").
 *
 * One range only, in bytes: "bytes=FIRST-LAST", "bytes=FIRST-" or "bytes=-SUFFIX". Anything
 * else (another unit, several ranges, a syntax error, FIRST > LAST, a number of more than 19
 * digits, a header longer than HTTP_RANGE_HEADER_MAX) is ignored, as RFC 9110 allows: the
 * answer is the whole file (200). A range that starts at or past the end of the file, or a
 * suffix of 0 bytes, cannot be satisfied (416, "Content-Range: bytes * /TOTAL"). The parser
 * reads at most HTTP_RANGE_HEADER_MAX bytes and allocates nothing.
 */
#ifndef OUTPOST_HTTP_RANGE_H
#define OUTPOST_HTTP_RANGE_H

#include <stdint.h>

#define HTTP_RANGE_HEADER_MAX 256

enum http_range_kind {
    HTTP_RANGE_FULL,          /* no usable Range: answer 200 with the whole file */
    HTTP_RANGE_PARTIAL,       /* answer 206 with bytes [start, start + length) */
    HTTP_RANGE_UNSATISFIABLE, /* answer 416 */
};

struct http_range {
    uint64_t start;
    uint64_t length; /* > 0 for HTTP_RANGE_PARTIAL; the whole file for HTTP_RANGE_FULL */
};

/* Reads `header` (the Range header's value, NULL when absent) for a file of `total` bytes;
 * fills *out for HTTP_RANGE_FULL (0, total) and HTTP_RANGE_PARTIAL (the last byte is clamped to
 * the end of the file; a suffix longer than the file is the whole file). */
enum http_range_kind http_range_parse(const char *header, uint64_t total, struct http_range *out);

#endif
