/*
 * password.h - password hashing with Argon2id (libsodium crypto_pwhash).
 *
 * One Argon2id derivation per password gives 64 bytes: the first 32 are the *verifier*
 * stored in the password record (what a login compares), the last 32 are the *key-encryption
 * key* (KEK) that wraps the user's vault secret key (crypto/vault.h). The two halves are
 * independent outputs of the KDF, so the stored verifier reveals nothing about the KEK, and a
 * password set or a login costs one Argon2id run, not two.
 *
 * Stored form (one text column):
 *     $op-argon2id$v=1$m=<memlimit KiB>,t=<opslimit>$<salt, base64>$<verifier, base64>
 * The cost parameters are kept per record, so raising the defaults does not lock anyone out.
 */
#ifndef OUTPOST_AUTH_PASSWORD_H
#define OUTPOST_AUTH_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define PASSWORD_KEK_BYTES  32
#define PASSWORD_RECORD_MAX 160

struct password_cost {
    uint64_t opslimit;     /* Argon2id passes (t) */
    uint64_t memlimit_kib; /* memory in KiB (m) */
};

/* OWASP's recommendation for Argon2id: m = 19 MiB, t = 2, p = 1 (see docs/security.md). */
#define PASSWORD_DEFAULT_OPSLIMIT     2
#define PASSWORD_DEFAULT_MEMLIMIT_KIB 19456

/* The weakest cost setup accepts without "insecure-for-tests": libsodium's interactive
 * opslimit (2) and OWASP's 19 MiB. libsodium's MEMLIMIT_INTERACTIVE (64 MiB) would refuse the
 * default above, which is chosen for the burst of logins a test center makes (security.md §2). */
#define PASSWORD_MIN_OPSLIMIT     2
#define PASSWORD_MIN_MEMLIMIT_KIB 19456

/* Checks a cost against libsodium's limits; fills *e naming `what` if out of range. */
int password_cost_check(const struct password_cost *cost, const char *what, struct op_err *e);

/* Hashes a new password with a fresh random salt. Writes the record string into `record`
 * (PASSWORD_RECORD_MAX bytes) and, if `kek` is not NULL, the key-encryption key. */
int password_hash(const char *password, size_t len, const struct password_cost *cost,
                  char record[PASSWORD_RECORD_MAX], unsigned char kek[PASSWORD_KEK_BYTES],
                  struct op_err *e);

/* Verifies `password` against `record` in constant time. Returns 0 if it matches (and fills
 * `kek` if not NULL), OP_ECRYPTO if not, OP_EINPUT if the record is malformed. */
int password_verify(const char *record, const char *password, size_t len,
                    unsigned char kek[PASSWORD_KEK_BYTES], struct op_err *e);

#endif
