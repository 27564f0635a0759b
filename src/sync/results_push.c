/* results_push.c - pushing results on the wire (see results_push.h). */
#include "sync/results_push.h"

#include <stdlib.h>
#include <string.h>

#include "app/results.h"
#include "sync/batch.h"
#include "sync/receipts.h"

int sync_outbox_next_batch(struct instance *device, int max_count, size_t max_bytes, char **batch,
                           size_t *len, int *count, struct op_err *e)
{
    *batch = NULL;
    *len = 0;
    *count = 0;
    if (max_bytes > SYNC_BATCH_MAX_ENVELOPE_BYTES)
        max_bytes = SYNC_BATCH_MAX_ENVELOPE_BYTES;
    struct outbox_item *items;
    int n;
    int rc = app_outbox_next_batch(device, max_count, max_bytes, &items, &n, e);
    if (rc != 0 || n == 0) {
        outbox_items_free(items, n);
        return rc;
    }
    rc = sync_batch_encode(device->id, items, n, batch, len, e);
    outbox_items_free(items, n);
    if (rc == 0)
        *count = n;
    return rc;
}

int sync_outbox_apply_receipts(struct instance *device, const unsigned char *receipts, size_t len,
                               const unsigned char pinned_pk[KEY_PUBLIC_BYTES],
                               struct app_outbox_report *report, struct op_err *e)
{
    memset(report, 0, sizeof *report);
    int rc = instance_require_role(device, ROLE_DEVICE, "applying receipts", e);
    if (rc != 0)
        return rc;
    struct sync_receipts r;
    rc = sync_receipts_open(receipts, len, pinned_pk, device->id, &r, e);
    if (rc == 0) {
        /* kept as received: the proof is the signed document itself */
        char *text = malloc(len + 1);
        if (!text)
            abort();
        memcpy(text, receipts, len);
        text[len] = '\0';
        rc = app_outbox_mark(device, r.r, r.n, text, report, e);
        free(text);
    }
    sync_receipts_free(&r);
    return rc;
}

int sync_results_push(struct instance *central, const char *device_id, const unsigned char *batch,
                      size_t len, char **receipts, size_t *out_len, struct op_err *e)
{
    *receipts = NULL;
    *out_len = 0;
    int rc = instance_require_role(central, ROLE_CENTRAL, "receiving pushed results", e);
    if (rc != 0)
        return rc;
    struct sync_batch b;
    rc = sync_batch_decode(batch, len, &b, e);
    struct outbox_receipt *r = NULL;
    if (rc == 0) {
        r = calloc(b.n ? (size_t)b.n : 1, sizeof *r);
        if (!r)
            abort();
        const struct app_push_in in = {b.device_id, b.items, b.n};
        rc = app_results_push(central, device_id, &in, r, e);
    }
    if (rc == 0) {
        char *dir = instance_path(central, "keys");
        struct key signer;
        memset(&signer, 0, sizeof signer);
        rc = keys_load_central_signing(dir, &signer, e);
        free(dir);
        if (rc == 0)
            rc = sync_receipts_sign(device_id, r, b.n, &signer, receipts, out_len, e);
        key_wipe(&signer);
    }
    free(r);
    sync_batch_free(&b);
    return rc;
}
