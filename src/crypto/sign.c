/*
 * sign.c - Ed25519 signatures with a context (see sign.h). The signed bytes are assembled in
 * one buffer (context, NUL, message) because Ed25519 signs a contiguous message; a result
 * envelope is at most 8 MiB, so the copy is bounded.
 */
#include "crypto/sign.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(SIGN_BYTES == crypto_sign_BYTES, "signature size");

/* context || 0x00 || msg, malloc'ed (caller frees); NULL when out of memory. */
static unsigned char *with_context(const char *context, const unsigned char *msg, size_t len,
                                   size_t *out_len)
{
    size_t n = strlen(context) + 1;
    if (len > SIZE_MAX - n)
        return NULL;
    unsigned char *buf = malloc(n + len);
    if (!buf)
        return NULL;
    memcpy(buf, context, n); /* with its NUL */
    if (len)
        memcpy(buf + n, msg, len);
    *out_len = n + len;
    return buf;
}

int sign_detached(const char *context, const unsigned char *msg, size_t len,
                  const struct key *signer, unsigned char sig[SIGN_BYTES], struct op_err *e)
{
    if (signer->kind != KEY_SIGNING)
        return err_set(e, OP_EINPUT, "signing (%s) needs an Ed25519 signing key", context);
    size_t n;
    unsigned char *buf = with_context(context, msg, len, &n);
    if (!buf)
        return err_set(e, OP_ENOMEM, "out of memory");
    crypto_sign_detached(sig, NULL, buf, n, signer->sign_secret);
    free(buf);
    return 0;
}

int sign_verify(const char *context, const unsigned char *msg, size_t len,
                const unsigned char sig[SIGN_BYTES], const unsigned char pk[KEY_PUBLIC_BYTES])
{
    size_t n;
    unsigned char *buf = with_context(context, msg, len, &n);
    if (!buf)
        return OP_ENOMEM;
    int ok = crypto_sign_verify_detached(sig, buf, n, pk) == 0;
    free(buf);
    return ok ? 0 : OP_ECRYPTO;
}
