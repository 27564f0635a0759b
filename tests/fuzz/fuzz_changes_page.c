/*
 * fuzz_changes_page.c - the device's reading of a signed changes page (sync/page.h) must
 * refuse or accept any bytes without crashing, reading out of bounds or leaking. The input is
 * tried as an envelope, checked against a fixed pinned key (the seeds are real pages signed
 * by it, so they reach the page parser behind the signature), and as a page body directly,
 * so that the parser is fuzzed without having to forge signatures.
 *
 * The parser is our own scanner (base/jscan.h), and the device stores each record's data as
 * the bytes it spans: so whatever it accepts, jansson (JSON_REJECT_DUPLICATES) must read too,
 * the whole body and each record's data as an object; the target aborts otherwise.
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
        json_t *all = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(all))
            abort(); /* the scanner took what jansson refuses */
        json_decref(all);
        for (int i = 0; i < page.n; i++) {
            const struct sync_page_record *r = &page.rec[i];
            if (r->deleted != (r->data == NULL))
                abort();
            if (!r->data)
                continue;
            if (r->data < data || r->data + r->data_len > data + size || r->data[0] != '{' ||
                r->data[r->data_len - 1] != '}')
                abort();
            json_t *d =
                json_loadb((const char *)r->data, r->data_len, JSON_REJECT_DUPLICATES, NULL);
            if (!json_is_object(d))
                abort();
            json_decref(d);
        }
        sync_page_free(&page);
    }
    return 0;
}
