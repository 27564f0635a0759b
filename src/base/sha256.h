/*
 * sha256.h - SHA-256 digests in lower-case hex: how packages are named and checked, how a
 * re-sent result envelope is recognised, how a package's files are pinned. Base, so that the
 * store, crypto and the QTI compiler share one helper.
 */
#ifndef OUTPOST_BASE_SHA256_H
#define OUTPOST_BASE_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 65 /* 64 hex digits and the NUL */

/* Lower-case hex SHA-256 of `len` bytes. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN]);

/* 1 if `s` is 64 lower-case hex digits (a sha256_hex result), else 0 (also for NULL). */
int sha256_hex_is_valid(const char *s);

#endif
