/*
 * fuzz_changes_page.c - the device's reading of a signed changes page (sync/page.h) must
 * refuse or accept any bytes without crashing, reading out of bounds or leaking. The input is
 * tried as an envelope, checked against a fixed pinned key (the seeds are real pages signed
 * by it, so they reach the page parser behind the signature), and as a page body directly,
 * so that the parser is fuzzed without having to forge signatures.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync/page.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static unsigned char pk[32];
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        /* the signing key of the seeds: the Ed25519 key of seed 32 x 0x33 */
        unsigned char seed[32], sk[64];
        memset(seed, 0x33, sizeof seed);
        crypto_sign_seed_keypair(pk, sk, seed);
        ready = 1;
    }
    struct op_err e = {0};
    struct sync_page page;
    unsigned char *body = NULL;
    size_t blen = 0;
    if (sync_envelope_open(data, size, pk, &body, &blen, &e) == 0) {
        if (sync_page_parse(body, blen, &page, &e) == 0)
            sync_page_free(&page);
        free(body);
    }
    if (sync_page_parse(data, size, &page, &e) == 0) {
        for (int i = 0; i < page.n; i++)
            if (page.rec[i].data)
                (void)json_object_size(page.rec[i].data);
        sync_page_free(&page);
    }
    return 0;
}
