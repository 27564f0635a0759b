/* sha256.c - SHA-256 in hex (see sha256.h). */
#include "base/sha256.h"

#include <sodium.h>
#include <string.h>

void sha256_stream_init(struct sha256_stream *s)
{
    sha256_init(&s->ctx);
}

void sha256_stream_update(struct sha256_stream *s, const void *data, size_t len)
{
    sha256_update(&s->ctx, len, data);
}

void sha256_stream_final_hex(struct sha256_stream *s, char out[SHA256_HEX_LEN])
{
    unsigned char h[SHA256_DIGEST_SIZE];
    sha256_digest(&s->ctx, sizeof h, h);
    sodium_bin2hex(out, SHA256_HEX_LEN, h, sizeof h);
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN])
{
    struct sha256_stream s;
    sha256_stream_init(&s);
    sha256_stream_update(&s, data, len);
    sha256_stream_final_hex(&s, out);
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
