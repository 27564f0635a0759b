/*
 * fuzz_vault.c - unwrapping a vault, recovering an escrow copy, opening sealed data and
 * decoding their text forms must refuse any bytes cleanly. The first input byte picks the
 * path; the rest is the blob. Fixed keys (KEK 0x33, master 0x44, user key 0x55) let the
 * seeds, made under those keys, reach the successful paths too.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/content.h"
#include "crypto/keys.h"
#include "crypto/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define USER_ID "0b6a3b8e-3f5e-4c55-9d55-6f3f0b6a3b8e"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static unsigned char kek[32], pk[32], sk[32];
    static struct key master;
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        memset(kek, 0x33, sizeof kek);
        master.kind = KEY_MASTER;
        memset(master.secret, 0x44, sizeof master.secret);
        /* the id keys.c derives for this master key (BLAKE2b MAC of its label) */
        unsigned char h[32];
        crypto_generichash(h, sizeof h, (const unsigned char *)"outpost master key id v1", 24,
                           master.secret, 32);
        sodium_bin2hex(master.id, sizeof master.id, h, KEY_ID_BYTES);
        memset(sk, 0x55, sizeof sk);
        crypto_scalarmult_base(pk, sk);
        ready = 1;
    }
    if (size < 1)
        return 0;
    int mode = data[0] % 4;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct op_err e = {0};
    unsigned char out[VAULT_SECRET_BYTES];
    switch (mode) {
    case 0:
        (void)vault_unwrap(p, n, USER_ID, kek, out, &e);
        break;
    case 1:
        (void)vault_recover(p, n, USER_ID, &master, out, &e);
        break;
    case 2: {
        unsigned char *plain = malloc(n + 1);
        (void)vault_open(pk, sk, p, n, plain, &e);
        (void)content_key_open(p, n, pk, sk, out, &e);
        free(plain);
        break;
    }
    case 3: {
        char *text = malloc(n + 1);
        memcpy(text, p, n);
        text[n] = '\0';
        unsigned char wrapped[VAULT_WRAPPED_BYTES];
        if (vault_from_text(text, wrapped, sizeof wrapped, "fuzz", &e) == 0)
            (void)vault_unwrap(wrapped, sizeof wrapped, USER_ID, kek, out, &e);
        free(text);
        break;
    }
    }
    sodium_memzero(out, sizeof out);
    return 0;
}
