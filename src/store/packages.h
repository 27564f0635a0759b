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
#include "base/sha256.h"

#define PACKAGE_SHA256_HEX SHA256_HEX_LEN /* a package's name: sha256_hex of its bytes */

/* Stores `data` under its hash in `dir`/packages and writes the hash to `sha`. Storing bytes
 * that are already there is a no-op. */
int packages_put(const char *dir, const void *data, size_t len, char sha[PACKAGE_SHA256_HEX],
                 struct op_err *e);

/* Reads the package `sha` (at most `max` bytes) into *out (caller frees) and checks its hash. */
int packages_get(const char *dir, const char *sha, size_t max, unsigned char **out, size_t *len,
                 struct op_err *e);

#endif
