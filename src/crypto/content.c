/*
 * content.c - streaming encryption of delivery packages and sealing of their keys (see
 * content.h for the format). Memory use is two chunk buffers whatever the package size.
 */
#include "crypto/content.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SS_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define AD_MAX    (CONTENT_MAGIC_BYTES + CONTENT_DELIVERY_ID_MAX)

_Static_assert(SS_HEADER == CONTENT_HEADER_BYTES - CONTENT_MAGIC_BYTES, "header size");
_Static_assert(SS_ABYTES == CONTENT_CHUNK_OVERHEAD, "chunk overhead");
_Static_assert(CONTENT_KEY_BYTES == crypto_secretstream_xchacha20poly1305_KEYBYTES, "key size");

/* magic || delivery id into ad, its length in *adlen. A delivery id over
 * CONTENT_DELIVERY_ID_MAX is refused, never cut: a cut id would bind the package to another. */
static int make_ad(unsigned char ad[AD_MAX], const char *delivery_id, size_t *adlen,
                   struct op_err *e)
{
    size_t n = strlen(delivery_id);
    *adlen = 0;
    if (n > CONTENT_DELIVERY_ID_MAX)
        return err_set(e, OP_EINPUT, "delivery id \"%.32s...\" is %zu bytes, over the limit of %d",
                       delivery_id, n, CONTENT_DELIVERY_ID_MAX);
    memcpy(ad, CONTENT_MAGIC, CONTENT_MAGIC_BYTES);
    memcpy(ad + CONTENT_MAGIC_BYTES, delivery_id, n);
    *adlen = CONTENT_MAGIC_BYTES + n;
    return 0;
}

void content_key_generate(unsigned char key[CONTENT_KEY_BYTES])
{
    crypto_secretstream_xchacha20poly1305_keygen(key);
}

/* Reads up to `cap` bytes (fewer only at end of file). */
static size_t read_full(FILE *in, unsigned char *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        size_t r = fread(buf + n, 1, cap - n, in);
        if (r == 0)
            break;
        n += r;
    }
    return n;
}

int content_encrypt(FILE *in, FILE *out, const unsigned char key[CONTENT_KEY_BYTES],
                    const char *delivery_id, struct op_err *e)
{
    unsigned char ad[AD_MAX];
    size_t adlen;
    if (make_ad(ad, delivery_id, &adlen, e) != 0)
        return OP_EINPUT;
    unsigned char *plain = malloc(CONTENT_CHUNK_BYTES);
    unsigned char *cipher = malloc(CONTENT_CHUNK_BYTES + SS_ABYTES);
    if (!plain || !cipher) {
        free(plain);
        free(cipher);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    crypto_secretstream_xchacha20poly1305_state st;
    unsigned char header[SS_HEADER];
    crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
    int rc = 0;
    if (fwrite(CONTENT_MAGIC, 1, CONTENT_MAGIC_BYTES, out) != CONTENT_MAGIC_BYTES ||
        fwrite(header, 1, sizeof header, out) != sizeof header)
        rc = err_set(e, OP_EIO, "writing the encrypted package failed");
    /* Read one chunk ahead so the last chunk, full or not, carries the FINAL tag. */
    size_t n = rc == 0 ? read_full(in, plain, CONTENT_CHUNK_BYTES) : 0;
    while (rc == 0) {
        if (ferror(in)) {
            rc = err_set(e, OP_EIO, "reading the package failed");
            break;
        }
        int last = n < CONTENT_CHUNK_BYTES;
        int c = last ? EOF : fgetc(in);
        if (c == EOF)
            last = 1;
        unsigned long long clen;
        crypto_secretstream_xchacha20poly1305_push(
            &st, cipher, &clen, plain, n, ad, adlen,
            last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
        if (fwrite(cipher, 1, (size_t)clen, out) != clen) {
            rc = err_set(e, OP_EIO, "writing the encrypted package failed");
            break;
        }
        if (last)
            break;
        plain[0] = (unsigned char)c;
        n = 1 + read_full(in, plain + 1, CONTENT_CHUNK_BYTES - 1);
    }
    if (rc == 0 && fflush(out) != 0)
        rc = err_set(e, OP_EIO, "writing the encrypted package failed");
    sodium_memzero(&st, sizeof st);
    sodium_memzero(plain, CONTENT_CHUNK_BYTES);
    free(plain);
    free(cipher);
    return rc;
}

int content_decrypt(FILE *in, FILE *out, const unsigned char key[CONTENT_KEY_BYTES],
                    const char *delivery_id, struct op_err *e)
{
    unsigned char ad[AD_MAX];
    size_t adlen;
    if (make_ad(ad, delivery_id, &adlen, e) != 0)
        return OP_EINPUT;
    unsigned char head[CONTENT_HEADER_BYTES];
    if (read_full(in, head, sizeof head) != sizeof head)
        return err_set(e, OP_EINPUT, "encrypted package truncated (no complete header)");
    if (memcmp(head, CONTENT_MAGIC, CONTENT_MAGIC_BYTES) != 0)
        return err_set(e, OP_EINPUT, "not an Outpost encrypted package of version 1");
    crypto_secretstream_xchacha20poly1305_state st;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&st, head + CONTENT_MAGIC_BYTES, key) !=
        0) {
        sodium_memzero(&st, sizeof st);
        return err_set(e, OP_ECRYPTO, "encrypted package: bad header");
    }
    unsigned char *plain = malloc(CONTENT_CHUNK_BYTES);
    unsigned char *cipher = malloc(CONTENT_CHUNK_BYTES + SS_ABYTES);
    if (!plain || !cipher) {
        sodium_memzero(&st, sizeof st); /* it holds the stream's subkey */
        free(plain);
        free(cipher);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    int rc = 0;
    unsigned long long chunk = 0;
    for (;;) {
        size_t n = read_full(in, cipher, CONTENT_CHUNK_BYTES + SS_ABYTES);
        if (ferror(in)) {
            rc = err_set(e, OP_EIO, "reading the encrypted package failed");
            break;
        }
        if (n < SS_ABYTES) {
            rc = err_set(e, OP_ECRYPTO, "encrypted package truncated after chunk %llu", chunk);
            break;
        }
        unsigned long long plen;
        unsigned char tag;
        if (crypto_secretstream_xchacha20poly1305_pull(&st, plain, &plen, &tag, cipher, n, ad,
                                                       adlen) != 0) {
            rc = err_set(e, OP_ECRYPTO,
                         "encrypted package: chunk %llu does not verify (wrong key, another "
                         "delivery's package, or altered)",
                         chunk);
            break;
        }
        if (fwrite(plain, 1, (size_t)plen, out) != plen) {
            rc = err_set(e, OP_EIO, "writing the decrypted package failed");
            break;
        }
        chunk++;
        if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
            if (fgetc(in) != EOF)
                rc = err_set(e, OP_ECRYPTO, "encrypted package: bytes after the final chunk");
            break;
        }
        if (n < CONTENT_CHUNK_BYTES + SS_ABYTES) {
            rc = err_set(e, OP_ECRYPTO, "encrypted package truncated after chunk %llu", chunk);
            break;
        }
    }
    if (rc == 0 && fflush(out) != 0)
        rc = err_set(e, OP_EIO, "writing the decrypted package failed");
    sodium_memzero(&st, sizeof st);
    sodium_memzero(plain, CONTENT_CHUNK_BYTES);
    free(plain);
    free(cipher);
    return rc;
}

int content_key_seal(const unsigned char key[CONTENT_KEY_BYTES],
                     const unsigned char user_pk[VAULT_PUBLIC_BYTES],
                     unsigned char out[CONTENT_SEALED_KEY_BYTES], struct op_err *e)
{
    return vault_seal(user_pk, key, CONTENT_KEY_BYTES, out, e);
}

int content_key_open(const unsigned char *sealed, size_t len,
                     const unsigned char user_pk[VAULT_PUBLIC_BYTES],
                     const unsigned char user_sk[VAULT_SECRET_BYTES],
                     unsigned char key[CONTENT_KEY_BYTES], struct op_err *e)
{
    if (len != CONTENT_SEALED_KEY_BYTES)
        return err_set(e, OP_EINPUT, "sealed content key: %zu bytes, expected %d", len,
                       CONTENT_SEALED_KEY_BYTES);
    return vault_open(user_pk, user_sk, sealed, len, key, e);
}

/* ---- the content key wrapped under central's master key ---- */

#define WRAP_LABEL  "outpost-content"
#define WRAP_NONCE  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define WRAP_AD_MAX (1 + sizeof WRAP_LABEL + KEY_ID_BYTES + CONTENT_DELIVERY_ID_MAX + 1 + 8)

_Static_assert(CONTENT_WRAPPED_KEY_BYTES == 1 + KEY_ID_BYTES + WRAP_NONCE + CONTENT_KEY_BYTES +
                                                crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "wrapped content key layout");

/* version || label || master key id || delivery id || 0 || version (big-endian) into ad. */
static int make_wrap_ad(unsigned char ad[WRAP_AD_MAX], const unsigned char id[KEY_ID_BYTES],
                        const char *delivery_id, long long version, size_t *adlen, struct op_err *e)
{
    size_t dl = strlen(delivery_id), n = 0;
    *adlen = 0;
    if (dl > CONTENT_DELIVERY_ID_MAX)
        return err_set(e, OP_EINPUT, "delivery id \"%.32s...\" is %zu bytes, over the limit of %d",
                       delivery_id, dl, CONTENT_DELIVERY_ID_MAX);
    ad[n++] = CONTENT_WRAP_VERSION;
    memcpy(ad + n, WRAP_LABEL, sizeof WRAP_LABEL - 1);
    n += sizeof WRAP_LABEL - 1;
    memcpy(ad + n, id, KEY_ID_BYTES);
    n += KEY_ID_BYTES;
    memcpy(ad + n, delivery_id, dl);
    n += dl;
    ad[n++] = 0;
    unsigned long long v = (unsigned long long)version;
    for (int i = 7; i >= 0; i--)
        ad[n++] = (unsigned char)(v >> (8 * i));
    *adlen = n;
    return 0;
}

int content_key_wrap(const unsigned char key[CONTENT_KEY_BYTES], const char *delivery_id,
                     long long version, const struct key *master,
                     unsigned char out[CONTENT_WRAPPED_KEY_BYTES], struct op_err *e)
{
    unsigned char id[KEY_ID_BYTES];
    if (sodium_hex2bin(id, sizeof id, master->id, KEY_ID_BYTES * 2, NULL, NULL, NULL) != 0)
        return err_set(e, OP_EINPUT, "master key id \"%s\" is not %d hex bytes", master->id,
                       KEY_ID_BYTES);
    unsigned char ad[WRAP_AD_MAX];
    size_t adlen;
    if (make_wrap_ad(ad, id, delivery_id, version, &adlen, e) != 0)
        return OP_EINPUT;
    out[0] = CONTENT_WRAP_VERSION;
    memcpy(out + 1, id, KEY_ID_BYTES);
    unsigned char *nonce = out + 1 + KEY_ID_BYTES;
    randombytes_buf(nonce, WRAP_NONCE);
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + WRAP_NONCE, NULL, key, CONTENT_KEY_BYTES, ad,
                                               adlen, NULL, nonce, master->secret);
    return 0;
}

int content_key_wrapped_by(const unsigned char *wrapped, size_t len, char id[KEY_ID_HEX_LEN],
                           struct op_err *e)
{
    id[0] = 0;
    if (len != CONTENT_WRAPPED_KEY_BYTES || wrapped[0] != CONTENT_WRAP_VERSION)
        return err_set(e, OP_EINPUT, "not a wrapped content key of version %d (%zu bytes)",
                       CONTENT_WRAP_VERSION, len);
    sodium_bin2hex(id, KEY_ID_HEX_LEN, wrapped + 1, KEY_ID_BYTES);
    return 0;
}

int content_key_unwrap(const unsigned char *wrapped, size_t len, const char *delivery_id,
                       long long version, const struct key *master,
                       unsigned char key[CONTENT_KEY_BYTES], struct op_err *e)
{
    char under[KEY_ID_HEX_LEN];
    if (content_key_wrapped_by(wrapped, len, under, e) != 0)
        return OP_EINPUT;
    if (strcmp(under, master->id) != 0)
        return err_set(e, OP_ECRYPTO,
                       "the content key of delivery %s version %lld is under master key %s, not "
                       "%s (restore that key file)",
                       delivery_id, version, under, master->id);
    unsigned char ad[WRAP_AD_MAX];
    size_t adlen;
    if (make_wrap_ad(ad, wrapped + 1, delivery_id, version, &adlen, e) != 0)
        return OP_EINPUT;
    const unsigned char *nonce = wrapped + 1 + KEY_ID_BYTES;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(key, NULL, NULL, nonce + WRAP_NONCE,
                                                   CONTENT_KEY_BYTES +
                                                       crypto_aead_xchacha20poly1305_ietf_ABYTES,
                                                   ad, adlen, nonce, master->secret) != 0) {
        sodium_memzero(key, CONTENT_KEY_BYTES);
        return err_set(e, OP_ECRYPTO,
                       "the content key of delivery %s version %lld does not open (altered, or "
                       "wrapped for another delivery or version)",
                       delivery_id, version);
    }
    return 0;
}
