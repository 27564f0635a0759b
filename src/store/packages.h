/*
 * packages.h - the content-addressed store of compiled delivery packages: DIR/packages/<sha256>,
 * where <sha256> is the lower-case hex SHA-256 of the file's bytes. A package is written once
 * (atomically: temporary file, fsync, rename) and never changed; reading checks the hash, so
 * a corrupted or altered file is refused instead of delivered.
 */
#ifndef OUTPOST_STORE_PACKAGES_H
#define OUTPOST_STORE_PACKAGES_H

#include <stddef.h>

#include "base/err.h"

#define PACKAGE_SHA256_HEX 65

/* Lower-case hex SHA-256 of `len` bytes. */
void packages_sha256_hex(const void *data, size_t len, char out[PACKAGE_SHA256_HEX]);

/* Stores `data` under its hash in `dir`/packages and writes the hash to `sha`. Storing bytes
 * that are already there is a no-op. */
int packages_put(const char *dir, const void *data, size_t len, char sha[PACKAGE_SHA256_HEX],
                 struct op_err *e);

/* Reads the package `sha` (at most `max` bytes) into *out (caller frees) and checks its hash. */
int packages_get(const char *dir, const char *sha, size_t max, unsigned char **out, size_t *len,
                 struct op_err *e);

/* 1 if `s` is 64 lower-case hex digits. */
int packages_sha_is_valid(const char *s);

#endif
