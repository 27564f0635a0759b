/*
 * packages.h - the content-addressed store of compiled delivery packages: DIR/packages/<sha256>,
 * where <sha256> is the lower-case hex SHA-256 of the file's bytes. A package is written once
 * (atomically: temporary file, fsync, rename) and never changed; reading checks the hash, so
 * a corrupted or altered file is refused instead of delivered.
 *
 * Encrypted packages (crypto/content.h) live beside them in DIR/packages/enc/<sha256>, named by
 * the SHA-256 of the ENCRYPTED bytes, which is what a device asks for and checks. They are
 * written as a stream into a private temporary file in that folder (".tmp-" and random
 * letters), fsynced, hashed and renamed to their hash: a kill mid-way leaves at most a
 * temporary file, never a half file under a final name. packages_enc_sweep removes temporary
 * files and files no row refers to.
 */
#ifndef OUTPOST_STORE_PACKAGES_H
#define OUTPOST_STORE_PACKAGES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "base/err.h"
#include "base/sha256.h"

#define PACKAGE_SHA256_HEX SHA256_HEX_LEN /* a package's name: sha256_hex of its bytes */

/* DIR/packages/<sha> (caller frees). */
char *packages_path(const char *dir, const char *sha);

/* Stores `data` under its hash in `dir`/packages and writes the hash to `sha`. Storing bytes
 * that are already there is a no-op. */
int packages_put(const char *dir, const void *data, size_t len, char sha[PACKAGE_SHA256_HEX],
                 struct op_err *e);

/* Reads the package `sha` (at most `max` bytes) into *out (caller frees) and checks its hash. */
int packages_get(const char *dir, const char *sha, size_t max, unsigned char **out, size_t *len,
                 struct op_err *e);

/* ---- encrypted packages: DIR/packages/enc/<sha256> ---- */

/* DIR/packages/enc/<sha> (caller frees); `sha` must be sha256_hex_is_valid. */
char *packages_enc_path(const char *dir, const char *sha);

/* Writes what fn writes to `out` into a new encrypted package file: sha and *size receive its
 * hash (its name) and length. Bytes that are already stored under that name leave the stored
 * file in place. On failure nothing is left under a final name. */
typedef int (*packages_writer_fn)(FILE *out, void *ctx, struct op_err *e);
int packages_enc_write(const char *dir, packages_writer_fn fn, void *ctx,
                       char sha[PACKAGE_SHA256_HEX], uint64_t *size, struct op_err *e);

/* SHA-256 and size of the file `path`, read as a stream (bounded memory). */
int packages_file_sha256(const char *path, char sha[PACKAGE_SHA256_HEX], uint64_t *size,
                         struct op_err *e);

/* Moves the file `path` (a download) into DIR/packages/enc as `sha`, after checking that its
 * bytes hash to `sha` (OP_ECRYPTO, the file left where it is, if not). `path` must be a
 * regular file; on another file system it is copied, then removed. */
int packages_enc_adopt(const char *dir, const char *path, const char *sha, struct op_err *e);
/* The same for a file whose bytes the caller has just checked against `sha` itself (the HTTP
 * client hashes a download while it writes it, http/client.h): not read back here. */
int packages_enc_adopt_checked(const char *dir, const char *path, const char *sha,
                               struct op_err *e);

/* 1 if DIR/packages/enc/<sha> exists with `size` bytes (size 0: any), else 0. Cheap: the hash
 * is checked when the file is stored and again by decryption, which authenticates every chunk. */
int packages_enc_has(const char *dir, const char *sha, uint64_t size);

/* Removes from DIR/packages/enc the temporary files, and the packages for which
 * referenced(sha, ctx, e) returns 0, when their last change is older than `min_age` seconds (a
 * younger file may belong to an import whose transaction has not committed yet).
 * referenced returns 1, 0, or a negative error that stops the sweep. *removed counts. */
typedef int (*packages_ref_fn)(const char *sha, void *ctx, struct op_err *e);
int packages_enc_sweep(const char *dir, packages_ref_fn referenced, void *ctx, time_t min_age,
                       int *removed, struct op_err *e);

#endif
