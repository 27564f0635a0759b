/*
 * vault.c - per-user key pairs, their password wrap and their escrow copy (see vault.h for
 * the byte layouts). All AEAD is libsodium's XChaCha20-Poly1305 IETF; sealing is
 * crypto_box_seal.
 */
#include "crypto/vault.h"

#include <sodium.h>
#include <string.h>

#define NONCE_BYTES  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES    crypto_aead_xchacha20poly1305_ietf_ABYTES
#define VAULT_LABEL  "outpost-vault"
#define ESCROW_LABEL "outpost-escrow"
#define AD_MAX       512
#define B64_VARIANT  sodium_base64_VARIANT_URLSAFE_NO_PADDING

_Static_assert(VAULT_WRAPPED_BYTES == 1 + NONCE_BYTES + VAULT_SECRET_BYTES + TAG_BYTES,
               "wrapped layout");
_Static_assert(VAULT_SEAL_OVERHEAD == crypto_box_SEALBYTES, "seal overhead");
_Static_assert(VAULT_PUBLIC_B64_LEN == sodium_base64_ENCODED_LEN(VAULT_PUBLIC_BYTES, B64_VARIANT),
               "public text");
_Static_assert(VAULT_WRAPPED_B64_LEN == sodium_base64_ENCODED_LEN(VAULT_WRAPPED_BYTES, B64_VARIANT),
               "wrapped text");
_Static_assert(VAULT_ESCROW_B64_LEN == sodium_base64_ENCODED_LEN(VAULT_ESCROW_BYTES, B64_VARIANT),
               "escrow text");

_Static_assert(VAULT_USER_ID_MAX + 1 + sizeof ESCROW_LABEL + KEY_ID_BYTES <= AD_MAX, "ad size");

/* version || label || [key id] || user id into ad, its length in *adlen. A user id over
 * VAULT_USER_ID_MAX is refused, never cut: a cut id would bind the vault to another id. */
static int make_ad(unsigned char ad[AD_MAX], const char *label, const unsigned char *key_id,
                   const char *user_id, size_t *adlen, struct op_err *e)
{
    size_t n = 0, ll = strlen(label), ul = strlen(user_id);
    *adlen = 0;
    if (ul > VAULT_USER_ID_MAX)
        return err_set(e, OP_EINPUT, "user id \"%.32s...\" is %zu bytes, over the limit of %d",
                       user_id, ul, VAULT_USER_ID_MAX);
    ad[n++] = VAULT_VERSION;
    memcpy(ad + n, label, ll);
    n += ll;
    if (key_id) {
        memcpy(ad + n, key_id, KEY_ID_BYTES);
        n += KEY_ID_BYTES;
    }
    memcpy(ad + n, user_id, ul);
    *adlen = n + ul;
    return 0;
}

void vault_keypair(unsigned char pk[VAULT_PUBLIC_BYTES], unsigned char sk[VAULT_SECRET_BYTES])
{
    crypto_box_keypair(pk, sk);
}

int vault_wrap(const unsigned char sk[VAULT_SECRET_BYTES], const char *user_id,
               const unsigned char kek[VAULT_KEK_BYTES], unsigned char out[VAULT_WRAPPED_BYTES],
               struct op_err *e)
{
    unsigned char ad[AD_MAX];
    size_t adlen;
    if (make_ad(ad, VAULT_LABEL, NULL, user_id, &adlen, e) != 0)
        return OP_EINPUT;
    out[0] = VAULT_VERSION;
    randombytes_buf(out + 1, NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + NONCE_BYTES, NULL, sk, VAULT_SECRET_BYTES,
                                               ad, adlen, NULL, out + 1, kek);
    return 0;
}

int vault_unwrap(const unsigned char *wrapped, size_t len, const char *user_id,
                 const unsigned char kek[VAULT_KEK_BYTES], unsigned char sk[VAULT_SECRET_BYTES],
                 struct op_err *e)
{
    if (len != VAULT_WRAPPED_BYTES || wrapped[0] != VAULT_VERSION)
        return err_set(e, OP_EINPUT, "user %s: not a vault of version %d (%zu bytes)", user_id,
                       VAULT_VERSION, len);
    unsigned char ad[AD_MAX];
    size_t adlen;
    if (make_ad(ad, VAULT_LABEL, NULL, user_id, &adlen, e) != 0)
        return OP_EINPUT;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(sk, NULL, NULL, wrapped + 1 + NONCE_BYTES,
                                                   VAULT_SECRET_BYTES + TAG_BYTES, ad, adlen,
                                                   wrapped + 1, kek) != 0) {
        sodium_memzero(sk, VAULT_SECRET_BYTES);
        return err_set(e, OP_ECRYPTO, "wrong password");
    }
    return 0;
}

int vault_escrow(const unsigned char sk[VAULT_SECRET_BYTES], const char *user_id,
                 const struct key *master, unsigned char out[VAULT_ESCROW_BYTES], struct op_err *e)
{
    unsigned char id[KEY_ID_BYTES];
    sodium_hex2bin(id, sizeof id, master->id, KEY_ID_BYTES * 2, NULL, NULL, NULL);
    unsigned char ad[AD_MAX];
    size_t adlen;
    if (make_ad(ad, ESCROW_LABEL, id, user_id, &adlen, e) != 0)
        return OP_EINPUT;
    out[0] = VAULT_VERSION;
    memcpy(out + 1, id, KEY_ID_BYTES);
    unsigned char *nonce = out + 1 + KEY_ID_BYTES;
    randombytes_buf(nonce, NONCE_BYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + NONCE_BYTES, NULL, sk, VAULT_SECRET_BYTES,
                                               ad, adlen, NULL, nonce, master->secret);
    return 0;
}

int vault_recover(const unsigned char *escrow, size_t len, const char *user_id,
                  const struct key *master, unsigned char sk[VAULT_SECRET_BYTES], struct op_err *e)
{
    if (len != VAULT_ESCROW_BYTES || escrow[0] != VAULT_VERSION)
        return err_set(e, OP_EINPUT, "user %s: not an escrow copy of version %d", user_id,
                       VAULT_VERSION);
    unsigned char id[KEY_ID_BYTES];
    sodium_hex2bin(id, sizeof id, master->id, KEY_ID_BYTES * 2, NULL, NULL, NULL);
    if (memcmp(id, escrow + 1, KEY_ID_BYTES) != 0) {
        char have[KEY_ID_HEX_LEN];
        sodium_bin2hex(have, sizeof have, escrow + 1, KEY_ID_BYTES);
        return err_set(e, OP_ECRYPTO,
                       "user %s: the escrow copy is under master key %s, not the current %s "
                       "(restore that key file)",
                       user_id, have, master->id);
    }
    unsigned char ad[AD_MAX];
    size_t adlen;
    if (make_ad(ad, ESCROW_LABEL, id, user_id, &adlen, e) != 0)
        return OP_EINPUT;
    const unsigned char *nonce = escrow + 1 + KEY_ID_BYTES;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(sk, NULL, NULL, nonce + NONCE_BYTES,
                                                   VAULT_SECRET_BYTES + TAG_BYTES, ad, adlen, nonce,
                                                   master->secret) != 0) {
        sodium_memzero(sk, VAULT_SECRET_BYTES);
        return err_set(e, OP_ECRYPTO,
                       "user %s: the escrow copy does not open (altered or "
                       "belongs to another user)",
                       user_id);
    }
    return 0;
}

int vault_seal(const unsigned char pk[VAULT_PUBLIC_BYTES], const unsigned char *msg, size_t len,
               unsigned char *out, struct op_err *e)
{
    if (crypto_box_seal(out, msg, len, pk) != 0)
        return err_set(e, OP_ECRYPTO, "sealing failed (invalid public key)");
    return 0;
}

int vault_open(const unsigned char pk[VAULT_PUBLIC_BYTES],
               const unsigned char sk[VAULT_SECRET_BYTES], const unsigned char *sealed, size_t len,
               unsigned char *out, struct op_err *e)
{
    if (len < crypto_box_SEALBYTES)
        return err_set(e, OP_EINPUT, "sealed data too short (%zu bytes)", len);
    if (crypto_box_seal_open(out, sealed, len, pk, sk) != 0)
        return err_set(e, OP_ECRYPTO,
                       "sealed data does not open with this key (not sealed to "
                       "this user, or altered)");
    return 0;
}

void vault_to_text(const unsigned char *bin, size_t len, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, bin, len, B64_VARIANT);
}

int vault_from_text(const char *text, unsigned char *out, size_t len, const char *what,
                    struct op_err *e)
{
    size_t got = 0;
    const char *end = NULL;
    if (!text ||
        sodium_base642bin(out, len, text, strlen(text), NULL, &got, &end, B64_VARIANT) != 0 ||
        got != len || *end)
        return err_set(e, OP_EINPUT, "%s: damaged (expected %zu bytes of base64)", what, len);
    return 0;
}
