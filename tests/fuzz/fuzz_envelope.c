/*
 * fuzz_envelope.c - the result envelope parser and central's checks must refuse or accept any
 * bytes without crashing, reading out of bounds or leaking. The input is read as a
 * concatenation of envelopes (as `results import` does), each then verified and opened with
 * fixed keys, so that the seeds (valid envelopes under these keys) reach the deep paths.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/envelope.h"
#include "crypto/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed test keys: the results key secret is 32 bytes of 0x11, the device seed 0x22. */
static void fixed_keys(struct key *results, unsigned char device_pk[32])
{
    memset(results, 0, sizeof *results);
    results->kind = KEY_RESULTS;
    memset(results->secret, 0x11, 32);
    crypto_scalarmult_base(results->public_key, results->secret);
    key_id_of_public(results->public_key, results->id);
    unsigned char seed[32], sk[64];
    memset(seed, 0x22, sizeof seed);
    crypto_sign_seed_keypair(device_pk, sk, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static struct key results;
    static unsigned char device_pk[32];
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        fixed_keys(&results, device_pk);
        ready = 1;
    }
    struct envelope env;
    struct op_err e = {0};
    (void)envelope_parse(data, size, &env, &e);
    size_t off = 0, used = 0;
    while (off < size && envelope_parse_next(data + off, size - off, &env, &used, &e) == 0) {
        char sha[65];
        envelope_sha256(&env, sha);
        if (envelope_verify(&env, device_pk, &e) == 0) {
            unsigned char *payload;
            size_t len;
            if (envelope_open(&env, &results, &payload, &len, &e) == 0)
                free(payload);
        }
        off += used;
    }
    return 0;
}
