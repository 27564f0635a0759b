/*
 * fuzz_receipts.c - central's signed receipts (sync/receipts.h), what a device parses from
 * central's answer to a push, must be refused or accepted without crashing, reading out of
 * bounds or leaking, under a fixed pinned key (the seeds are receipts signed by it, so that
 * the body's parser is reached), and nothing is accepted that the key did not sign.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync/receipts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The pinned key: the Ed25519 key of seed 32 bytes of 0x33; the device id of the seeds. */
#define DEVICE "11111111-2222-4333-8444-555555555555"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static unsigned char pk[32];
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        unsigned char seed[32], sk[64];
        memset(seed, 0x33, sizeof seed);
        crypto_sign_seed_keypair(pk, sk, seed);
        ready = 1;
    }
    struct sync_receipts r;
    struct op_err e = {0};
    if (sync_receipts_open(data, size, pk, DEVICE, &r, &e) == 0) {
        for (int i = 0; i < r.n; i++)
            if (strlen(r.r[i].reason) >= OUTBOX_REASON_MAX ||
                outbox_receipt_status_name(r.r[i].status)[0] == '?')
                abort();
    }
    sync_receipts_free(&r);
    return 0;
}
