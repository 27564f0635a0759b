/*
 * fuzz_content.c - what a device downloads and what central reads back from its database must
 * be refused cleanly whatever the bytes: decrypting an encrypted package (content_decrypt: the
 * file a device fetched by hash, header and chunks) and unwrapping a content key
 * (content_key_unwrap). The first input byte picks the path; the rest is the blob. Fixed keys
 * (content key 0x66, master 0x44) and delivery id let the seeds, made under them, reach the
 * successful paths too.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/content.h"
#include "crypto/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DELIVERY_ID "6e494831-8d38-4732-9a8a-6957d89748f2"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static unsigned char key[CONTENT_KEY_BYTES];
    static struct key master;
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        memset(key, 0x66, sizeof key);
        master.kind = KEY_MASTER;
        memset(master.secret, 0x44, sizeof master.secret);
        memcpy(master.id, "0a1b2c3d4e5f6071", KEY_ID_HEX_LEN);
        ready = 1;
    }
    if (size < 1)
        return 0;
    int mode = data[0] % 2;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct op_err e = {0};
    if (mode == 0) {
        if (n == 0)
            return 0; /* fmemopen refuses an empty buffer; an empty file is a short header */
        FILE *in = fmemopen((void *)p, n, "rb");
        FILE *out = fopen("/dev/null", "wb");
        if (in && out)
            (void)content_decrypt(in, out, key, DELIVERY_ID, &e);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
    } else {
        unsigned char k[CONTENT_KEY_BYTES];
        char id[KEY_ID_HEX_LEN];
        (void)content_key_wrapped_by(p, n, id, &e);
        (void)content_key_unwrap(p, n, DELIVERY_ID, 1, &master, k, &e);
        sodium_memzero(k, sizeof k);
    }
    return 0;
}
