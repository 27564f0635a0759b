/*
 * password.c - Argon2id password records (see password.h for the format and the split of
 * the derived key into verifier and KEK). Derived material is wiped before returning.
 */
#include "auth/password.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define SALT_BYTES     crypto_pwhash_SALTBYTES
#define VERIFIER_BYTES 32
#define DERIVED_BYTES  (VERIFIER_BYTES + PASSWORD_KEK_BYTES)
#define B64_VARIANT    sodium_base64_VARIANT_URLSAFE_NO_PADDING

_Static_assert(PASSWORD_MIN_OPSLIMIT == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
               "the floor of the setup file's opslimit is libsodium's interactive one");

int password_cost_check(const struct password_cost *cost, const char *what, struct op_err *e)
{
    uint64_t mem_bytes = cost->memlimit_kib * 1024u;
    if (cost->opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN || cost->opslimit > 64)
        return err_set(e, OP_EINPUT, "%s: opslimit must be between %llu and 64, not %" PRIu64, what,
                       (unsigned long long)crypto_pwhash_argon2id_OPSLIMIT_MIN, cost->opslimit);
    if (mem_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN || cost->memlimit_kib > 4u * 1024 * 1024)
        return err_set(e, OP_EINPUT,
                       "%s: memlimit-kib must be between %llu and 4194304 (4 GiB), not %" PRIu64,
                       what, (unsigned long long)crypto_pwhash_argon2id_MEMLIMIT_MIN / 1024,
                       cost->memlimit_kib);
    return 0;
}

static int derive(const char *password, size_t len, const unsigned char salt[SALT_BYTES],
                  const struct password_cost *cost, unsigned char out[DERIVED_BYTES],
                  struct op_err *e)
{
    if (crypto_pwhash(out, DERIVED_BYTES, password, len, salt, cost->opslimit,
                      (size_t)(cost->memlimit_kib * 1024u), crypto_pwhash_ALG_ARGON2ID13) != 0)
        return err_set(e, OP_ENOMEM,
                       "password hashing ran out of memory (memlimit %" PRIu64 " KiB)",
                       cost->memlimit_kib);
    return 0;
}

int password_hash(const char *password, size_t len, const struct password_cost *cost,
                  char record[PASSWORD_RECORD_MAX], unsigned char kek[PASSWORD_KEK_BYTES],
                  struct op_err *e)
{
    if (len == 0)
        return err_set(e, OP_EINPUT, "empty password");
    if (password_cost_check(cost, "password cost", e) != 0)
        return OP_EINPUT;
    unsigned char salt[SALT_BYTES];
    unsigned char derived[DERIVED_BYTES];
    randombytes_buf(salt, sizeof salt);
    if (derive(password, len, salt, cost, derived, e) != 0)
        return OP_ENOMEM;
    char salt64[sodium_base64_ENCODED_LEN(SALT_BYTES, B64_VARIANT)];
    char ver64[sodium_base64_ENCODED_LEN(VERIFIER_BYTES, B64_VARIANT)];
    sodium_bin2base64(salt64, sizeof salt64, salt, sizeof salt, B64_VARIANT);
    sodium_bin2base64(ver64, sizeof ver64, derived, VERIFIER_BYTES, B64_VARIANT);
    snprintf(record, PASSWORD_RECORD_MAX, "$op-argon2id$v=1$m=%" PRIu64 ",t=%" PRIu64 "$%s$%s",
             cost->memlimit_kib, cost->opslimit, salt64, ver64);
    if (kek)
        memcpy(kek, derived + VERIFIER_BYTES, PASSWORD_KEK_BYTES);
    sodium_memzero(derived, sizeof derived);
    return 0;
}

int password_verify(const char *record, const char *password, size_t len,
                    unsigned char kek[PASSWORD_KEK_BYTES], struct op_err *e)
{
    unsigned long long m, t;
    char salt64[64], ver64[64];
    int consumed = 0;
    if (!record ||
        sscanf(record, "$op-argon2id$v=1$m=%llu,t=%llu$%63[^$]$%63[^$]%n", &m, &t, salt64, ver64,
               &consumed) != 4 ||
        record[consumed] != '\0')
        return err_set(e, OP_EINPUT, "malformed password record");
    unsigned char salt[SALT_BYTES], stored[VERIFIER_BYTES];
    size_t n1 = 0, n2 = 0;
    if (sodium_base642bin(salt, sizeof salt, salt64, strlen(salt64), NULL, &n1, NULL,
                          B64_VARIANT) != 0 ||
        n1 != SALT_BYTES ||
        sodium_base642bin(stored, sizeof stored, ver64, strlen(ver64), NULL, &n2, NULL,
                          B64_VARIANT) != 0 ||
        n2 != VERIFIER_BYTES)
        return err_set(e, OP_EINPUT, "malformed password record");
    struct password_cost cost = {t, m};
    if (password_cost_check(&cost, "password record", e) != 0)
        return OP_EINPUT;
    unsigned char derived[DERIVED_BYTES];
    if (derive(password, len, salt, &cost, derived, e) != 0)
        return OP_ENOMEM;
    int ok = sodium_memcmp(derived, stored, VERIFIER_BYTES) == 0;
    if (ok && kek)
        memcpy(kek, derived + VERIFIER_BYTES, PASSWORD_KEK_BYTES);
    sodium_memzero(derived, sizeof derived);
    if (!ok)
        return err_set(e, OP_ECRYPTO, "wrong password");
    return 0;
}
