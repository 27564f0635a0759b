/*
 * sign.h - every Ed25519 signature Outpost makes or checks, each bound to the type of message
 * it signs. A key signs `context || 0x00 || message`, never the bare message, so a signature
 * made for one type of message (a result envelope) can never be replayed as another (a sync
 * request, later): the verifier of each type puts its own context in front, and no context is
 * the start of another (the NUL ends each one).
 *
 * The contexts, all of them, here and nowhere else; a new type of signed message adds its own
 * line (and a new version number when its signed bytes change meaning):
 */
#ifndef OUTPOST_CRYPTO_SIGN_H
#define OUTPOST_CRYPTO_SIGN_H

#include <stddef.h>

#include "base/err.h"
#include "crypto/keys.h"

#define SIGN_CONTEXT_RESULT_ENVELOPE "outpost result envelope v1" /* crypto/envelope.h */
#define SIGN_CONTEXT_RESULTS_KEY     "outpost results key v1"     /* auth/enrol.h */
/* v2: the page is signed through its BLAKE2b-512 hash (sync/page.h); v1 signed the bytes. */
#define SIGN_CONTEXT_CHANGES_PAGE     "outpost changes page v2"     /* sync/page.h */
#define SIGN_CONTEXT_RESULTS_RECEIPTS "outpost results receipts v1" /* sync/receipts.h */

#define SIGN_BYTES 64 /* crypto_sign_BYTES */

/* Signs `context || 0x00 || msg[0..len)` with the Ed25519 key `signer` (KEY_SIGNING) into
 * `sig`. Returns 0, OP_EINPUT for a key that cannot sign, or OP_ENOMEM. */
int sign_detached(const char *context, const unsigned char *msg, size_t len,
                  const struct key *signer, unsigned char sig[SIGN_BYTES], struct op_err *e);

/* 0 if `sig` is the signature of `context || 0x00 || msg[0..len)` by the Ed25519 public key
 * `pk`; OP_ECRYPTO if it is not (the caller writes the message that names what was refused);
 * OP_ENOMEM. */
int sign_verify(const char *context, const unsigned char *msg, size_t len,
                const unsigned char sig[SIGN_BYTES], const unsigned char pk[KEY_PUBLIC_BYTES]);

#endif
