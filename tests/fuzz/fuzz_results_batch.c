/*
 * fuzz_results_batch.c - the results batch decoder (sync/batch.h), what central parses from
 * a device's POST body, must refuse or accept any bytes without crashing, reading out of
 * bounds or leaking; what it accepts must encode again to a batch that decodes to the same
 * envelopes (the device's encoder and central's decoder agree).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sync_batch b;
    struct op_err e = {0};
    if (sync_batch_decode(data, size, &b, &e) != 0) {
        sync_batch_free(&b);
        return 0;
    }
    struct outbox_item *items = calloc(b.n ? (size_t)b.n : 1, sizeof *items);
    if (!items)
        abort();
    for (int i = 0; i < b.n; i++) {
        memcpy(items[i].result_id, b.items[i].result_id, UUID_STR_LEN);
        items[i].envelope = (unsigned char *)b.items[i].envelope;
        items[i].len = b.items[i].len;
    }
    char *text;
    size_t len;
    if (sync_batch_encode(b.device_id, items, b.n, &text, &len, &e) == 0) {
        struct sync_batch again;
        if (sync_batch_decode((const unsigned char *)text, len, &again, &e) != 0 || again.n != b.n)
            abort();
        for (int i = 0; i < b.n; i++)
            if (again.items[i].len != b.items[i].len ||
                memcmp(again.items[i].envelope, b.items[i].envelope, b.items[i].len) != 0 ||
                strcmp(again.items[i].result_id, b.items[i].result_id) != 0)
                abort();
        sync_batch_free(&again);
        free(text);
    }
    free(items);
    sync_batch_free(&b);
    return 0;
}
