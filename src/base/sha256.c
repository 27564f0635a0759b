/* sha256.c - SHA-256 in hex (see sha256.h). */
#include "base/sha256.h"

#include <sodium.h>
#include <string.h>

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(out, SHA256_HEX_LEN, h, sizeof h);
}

int sha256_hex_is_valid(const char *s)
{
    if (!s || strlen(s) != SHA256_HEX_LEN - 1)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}
