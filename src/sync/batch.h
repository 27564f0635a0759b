/*
 * batch.h - the results batch, what a device pushes to central (docs/sync-protocol.md,
 * "Pushing results"):
 *
 *     {"format": "outpost results batch v1",
 *      "device_id": "<uuid>",
 *      "results": [{"result_id": "<uuid>", "envelope": "<base64 of the envelope bytes>"}]}
 *
 * The decoder is strict and bounded: at most SYNC_BATCH_MAX_BYTES of JSON, an object with
 * exactly these members (no other, none twice), this format, a valid UUID device id, at most
 * SYNC_BATCH_MAX_RESULTS results, each an object with exactly result_id (a valid UUID, not
 * twice in one batch) and envelope (standard base64 with padding, decoding to 1 ..
 * ENVELOPE_MAX_BYTES bytes). It does not parse the envelopes: central checks each one
 * (app/results.h, app_results_push), refusing one without refusing the others.
 */
#ifndef OUTPOST_SYNC_BATCH_H
#define OUTPOST_SYNC_BATCH_H

#include <jansson.h>
#include <stddef.h>

#include "app/results.h"
#include "base/err.h"
#include "base/ids.h"
#include "store/outbox.h"

#define SYNC_BATCH_FORMAT      "outpost results batch v1"
#define SYNC_BATCH_MAX_RESULTS APP_PUSH_MAX
#define SYNC_BATCH_MAX_BYTES   (16u * 1024 * 1024)
/* The most envelope bytes a device puts in one batch, so that their base64 (4/3) and the
 * JSON around them stay under SYNC_BATCH_MAX_BYTES. */
#define SYNC_BATCH_MAX_ENVELOPE_BYTES (SYNC_BATCH_MAX_BYTES / 4 * 3 - 64u * 1024)

/* A decoded batch: the items point into buffers the batch owns. */
struct sync_batch {
    char device_id[UUID_STR_LEN];
    struct app_push_item *items;
    int n;
    char (*ids)[UUID_STR_LEN]; /* the items' result ids */
    unsigned char **bufs;      /* the items' envelopes */
};

/* Encodes the envelopes items[0..n) of device `device_id` as a batch. *out is malloc'ed
 * (NUL-terminated; the caller frees), *len its length. OP_EINPUT if n is over
 * SYNC_BATCH_MAX_RESULTS or the JSON would be over SYNC_BATCH_MAX_BYTES. */
int sync_batch_encode(const char *device_id, const struct outbox_item *items, int n, char **out,
                      size_t *len, struct op_err *e);

/* Decodes a batch (see above); OP_EINPUT naming the member at fault. Free with
 * sync_batch_free (also after a failure). */
int sync_batch_decode(const unsigned char *data, size_t len, struct sync_batch *out,
                      struct op_err *e);
void sync_batch_free(struct sync_batch *b);

/* Shared by the codecs of sync/: standard base64 with padding. b64_encode returns a
 * malloc'ed string; b64_decode a malloc'ed buffer of *len bytes (at most `max`), or NULL if
 * `s` is not strict base64 or decodes to more than `max` bytes. */
char *sync_b64_encode(const unsigned char *bin, size_t len);
unsigned char *sync_b64_decode(const char *s, size_t slen, size_t max, size_t *len);

/* 0 if `o` is a JSON object whose members are exactly names[0..n) (no more, no fewer): the
 * strict shape check of every sync message (batch, receipts). */
int sync_json_exact_members(json_t *o, const char *const *names, int n);

#endif
