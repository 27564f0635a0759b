/*
 * vault.h - the per-user vault: every user has an X25519 key pair; data meant for one user
 * (profile, the content keys of their deliveries, their session) is sealed to the public key,
 * and only the user's password opens the secret key.
 *
 * Wrapped secret key (stored with the user, synchronised to devices), 73 bytes:
 *     [0]       version = 1
 *     [1..24]   random nonce (XChaCha20-Poly1305 IETF)
 *     [25..72]  AEAD(key = password KEK, the 32-byte secret key) = 32 bytes + 16-byte tag
 *     associated data: version byte || "outpost-vault" || user id (UTF-8, no NUL)
 * The KEK is the second half of the user's one Argon2id derivation (auth/password.h). A
 * successful unwrap is the password check on a device: a wrong password fails the tag.
 *
 * Escrow copy (central only, never synchronised), 81 bytes:
 *     [0]       version = 1
 *     [1..8]    id of the master key it is under (crypto/keys.h)
 *     [9..32]   random nonce
 *     [33..80]  AEAD(key = central's master key, the secret key) = 32 + 16
 *     associated data: version byte || "outpost-escrow" || master key id || user id
 * It lets an administrator's reset on central re-wrap the same key pair under a new password,
 * so what was sealed to the user stays readable.
 *
 * The associated data binds each blob to its user: a blob copied onto another user does not
 * open. Text form in the database and on the wire: URL-safe base64 without padding.
 */
#ifndef OUTPOST_CRYPTO_VAULT_H
#define OUTPOST_CRYPTO_VAULT_H

#include <stddef.h>

#include "base/err.h"
#include "crypto/keys.h"

#define VAULT_VERSION       1
#define VAULT_PUBLIC_BYTES  32
#define VAULT_SECRET_BYTES  32
#define VAULT_KEK_BYTES     32
#define VAULT_WRAPPED_BYTES (1 + 24 + VAULT_SECRET_BYTES + 16)
#define VAULT_ESCROW_BYTES  (1 + KEY_ID_BYTES + 24 + VAULT_SECRET_BYTES + 16)
#define VAULT_SEAL_OVERHEAD 48 /* crypto_box_SEALBYTES */
/* Base64 text lengths with the NUL (URL-safe, no padding). */
#define VAULT_PUBLIC_B64_LEN  44
#define VAULT_WRAPPED_B64_LEN 99
#define VAULT_ESCROW_B64_LEN  109

/* A fresh key pair. */
void vault_keypair(unsigned char pk[VAULT_PUBLIC_BYTES], unsigned char sk[VAULT_SECRET_BYTES]);

/* The longest user id a vault or escrow copy can be bound to (ids are UUIDs, 36 bytes); the
 * functions below refuse a longer one with OP_EINPUT rather than cut it. */
#define VAULT_USER_ID_MAX 448

/* Wraps `sk` for `user_id` under `kek`. OP_EINPUT if the id is over VAULT_USER_ID_MAX. */
int vault_wrap(const unsigned char sk[VAULT_SECRET_BYTES], const char *user_id,
               const unsigned char kek[VAULT_KEK_BYTES], unsigned char out[VAULT_WRAPPED_BYTES],
               struct op_err *e);

/* Unwraps; OP_ECRYPTO "wrong password" if the KEK (or user id) is not the one it was wrapped
 * for or the blob was altered, OP_EINPUT if it is not a vault of a known version. */
int vault_unwrap(const unsigned char *wrapped, size_t len, const char *user_id,
                 const unsigned char kek[VAULT_KEK_BYTES], unsigned char sk[VAULT_SECRET_BYTES],
                 struct op_err *e);

/* Escrows `sk` for `user_id` under the master key (KEY_MASTER). OP_EINPUT if the id is over
 * VAULT_USER_ID_MAX. */
int vault_escrow(const unsigned char sk[VAULT_SECRET_BYTES], const char *user_id,
                 const struct key *master, unsigned char out[VAULT_ESCROW_BYTES], struct op_err *e);

/* Recovers the secret key from an escrow copy; OP_ECRYPTO if it does not open. */
int vault_recover(const unsigned char *escrow, size_t len, const char *user_id,
                  const struct key *master, unsigned char sk[VAULT_SECRET_BYTES], struct op_err *e);

/* Seals `len` bytes to a user's public key: out gets len + VAULT_SEAL_OVERHEAD bytes. */
int vault_seal(const unsigned char pk[VAULT_PUBLIC_BYTES], const unsigned char *msg, size_t len,
               unsigned char *out, struct op_err *e);

/* Opens what vault_seal produced with the user's unwrapped key pair: out gets
 * len - VAULT_SEAL_OVERHEAD bytes. OP_ECRYPTO if it was not sealed to this key or altered. */
int vault_open(const unsigned char pk[VAULT_PUBLIC_BYTES],
               const unsigned char sk[VAULT_SECRET_BYTES], const unsigned char *sealed, size_t len,
               unsigned char *out, struct op_err *e);

/* Text form: base64 into `out` (cap bytes, NUL-terminated) / back to bytes (exactly `len`). */
void vault_to_text(const unsigned char *bin, size_t len, char *out, size_t cap);
int vault_from_text(const char *text, unsigned char *out, size_t len, const char *what,
                    struct op_err *e);

#endif
