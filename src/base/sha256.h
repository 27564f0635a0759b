/*
 * sha256.h - SHA-256 digests in lower-case hex: how packages are named and checked, how a
 * re-sent result envelope is recognised, how a package's files are pinned. Base, so that the
 * store, crypto and the QTI compiler share one helper.
 */
#ifndef OUTPOST_BASE_SHA256_H
#define OUTPOST_BASE_SHA256_H

#include <nettle/sha2.h>
#include <stddef.h>

#define SHA256_HEX_LEN 65 /* 64 hex digits and the NUL */

/* Lower-case hex SHA-256 of `len` bytes. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN]);

/* The same over a stream given in pieces (a package file, a download): init, update as often
 * as needed, then final. Nettle's SHA-256, which uses the CPU's SHA extensions where it has
 * them: about 1.1 GB/s here against 170 MB/s for libsodium's portable one, and every package
 * a device stores is hashed before it is used (bench/README.md, "Synchronisation"). */
struct sha256_stream {
    struct sha256_ctx ctx;
};
void sha256_stream_init(struct sha256_stream *s);
void sha256_stream_update(struct sha256_stream *s, const void *data, size_t len);
void sha256_stream_final_hex(struct sha256_stream *s, char out[SHA256_HEX_LEN]);

/* 1 if `s` is 64 lower-case hex digits (a sha256_hex result), else 0 (also for NULL). */
int sha256_hex_is_valid(const char *s);

#endif
