/*
 * content.h - encryption of compiled delivery packages. Each package gets its own random
 * content key; the package is encrypted as a stream (libsodium secretstream
 * XChaCha20-Poly1305) in chunks of CONTENT_CHUNK_BYTES, so a package of any size goes through
 * in bounded memory; the key reaches a device only sealed to each eligible test taker's vault
 * public key (crypto/vault.h), never in clear.
 *
 * Encrypted package (version 1):
 *     [0..7]    magic "OPCONT01" (8 bytes; the last two are the format version)
 *     [8..31]   secretstream header (24 bytes)
 *     then chunks: each is the encryption of up to CONTENT_CHUNK_BYTES bytes plus a 17-byte
 *     overhead; every chunk but the last carries exactly CONTENT_CHUNK_BYTES bytes; the last
 *     chunk carries the FINAL tag (it may be empty).
 *     Associated data of every chunk: the 8-byte magic || the delivery id.
 * Decryption refuses a wrong key, a package of another delivery, a reordered, altered or
 * truncated chunk (no FINAL tag), and bytes after the FINAL chunk. It writes each chunk once it
 * is authenticated; the output must be discarded when it fails (write to a temporary file and
 * rename on success).
 *
 * Sealed content key: crypto_box_seal of the 32-byte key to a user's public key, 80 bytes.
 *
 * Wrapped content key (central only, stored in delivery_content, never synchronised), 81 bytes:
 *     [0]       version = 1
 *     [1..8]    id of the master key it is under (crypto/keys.h)
 *     [9..32]   random nonce (XChaCha20-Poly1305 IETF)
 *     [33..80]  AEAD(key = central's master key, the 32-byte content key) = 32 + 16
 *     associated data: version byte || "outpost-content" || master key id || delivery id ||
 *                      0x00 || the delivery version (8 bytes, big-endian)
 * The associated data binds the wrapped key to its delivery and version: a blob copied onto
 * another delivery's row, or another version's, does not open.
 */
#ifndef OUTPOST_CRYPTO_CONTENT_H
#define OUTPOST_CRYPTO_CONTENT_H

#include <stddef.h>
#include <stdio.h>

#include "base/err.h"
#include "crypto/vault.h"

#define CONTENT_KEY_BYTES        32
#define CONTENT_CHUNK_BYTES      (64 * 1024)
#define CONTENT_MAGIC            "OPCONT01"
#define CONTENT_MAGIC_BYTES      8
#define CONTENT_HEADER_BYTES     (CONTENT_MAGIC_BYTES + 24)
#define CONTENT_CHUNK_OVERHEAD   17
#define CONTENT_SEALED_KEY_BYTES (CONTENT_KEY_BYTES + VAULT_SEAL_OVERHEAD)
/* The longest delivery id a package can be bound to (ids are UUIDs, 36 bytes); encrypt and
 * decrypt refuse a longer one with OP_EINPUT rather than cut it. */
#define CONTENT_DELIVERY_ID_MAX 256
#define CONTENT_WRAP_VERSION      1
#define CONTENT_WRAPPED_KEY_BYTES (1 + KEY_ID_BYTES + 24 + CONTENT_KEY_BYTES + 16)

/* A fresh random content key. */
void content_key_generate(unsigned char key[CONTENT_KEY_BYTES]);

/* Encrypts all of `in` into `out` for delivery `delivery_id`. */
int content_encrypt(FILE *in, FILE *out, const unsigned char key[CONTENT_KEY_BYTES],
                    const char *delivery_id, struct op_err *e);

/* Decrypts `in` into `out`; OP_ECRYPTO with the reason if anything does not verify. */
int content_decrypt(FILE *in, FILE *out, const unsigned char key[CONTENT_KEY_BYTES],
                    const char *delivery_id, struct op_err *e);

/* Seals the content key to a test taker's vault public key. */
int content_key_seal(const unsigned char key[CONTENT_KEY_BYTES],
                     const unsigned char user_pk[VAULT_PUBLIC_BYTES],
                     unsigned char out[CONTENT_SEALED_KEY_BYTES], struct op_err *e);

/* Opens a sealed content key with the user's unwrapped vault key pair. */
int content_key_open(const unsigned char *sealed, size_t len,
                     const unsigned char user_pk[VAULT_PUBLIC_BYTES],
                     const unsigned char user_sk[VAULT_SECRET_BYTES],
                     unsigned char key[CONTENT_KEY_BYTES], struct op_err *e);

/* Wraps the content key of delivery `delivery_id` at `version` under central's master key
 * (KEY_MASTER). OP_EINPUT for a delivery id over CONTENT_DELIVERY_ID_MAX. */
int content_key_wrap(const unsigned char key[CONTENT_KEY_BYTES], const char *delivery_id,
                     long long version, const struct key *master,
                     unsigned char out[CONTENT_WRAPPED_KEY_BYTES], struct op_err *e);

/* The id (hex) of the master key a wrapped content key is under, into `id`; OP_EINPUT if the
 * blob is not a wrapped content key of a known version. */
int content_key_wrapped_by(const unsigned char *wrapped, size_t len, char id[KEY_ID_HEX_LEN],
                           struct op_err *e);

/* Unwraps; OP_ECRYPTO if `master` is not the key it is under, or it was wrapped for another
 * delivery or version, or altered; OP_EINPUT if it is not a wrapped key of a known version. */
int content_key_unwrap(const unsigned char *wrapped, size_t len, const char *delivery_id,
                       long long version, const struct key *master,
                       unsigned char key[CONTENT_KEY_BYTES], struct op_err *e);

#endif
