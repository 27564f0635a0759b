/*
 * results_push.h - pushing results, on the wire (docs/sync-protocol.md, "Pushing results"):
 * the three steps that turn bytes into the application's operations, for the HTTP door
 * (POST /api/v1/results) and `outpost sync` to call. The rules are app/results.h's
 * (app_results_push) and app/outbox.h's; the formats are sync/batch.h's and
 * sync/receipts.h's. They sit here, above src/app, because the codecs do.
 *
 *   device: sync_outbox_next_batch -> POST the batch -> sync_outbox_apply_receipts
 *   central:                 sync_results_push (batch in, signed receipts out)
 */
#ifndef OUTPOST_SYNC_RESULTS_PUSH_H
#define OUTPOST_SYNC_RESULTS_PUSH_H

#include <stddef.h>

#include "app/outbox.h"
#include "base/err.h"
#include "crypto/keys.h"
#include "instance/instance.h"

/* Device: the next batch of pending envelopes, encoded (sync/batch.h): at most max_count
 * envelopes and max_bytes of them (capped at SYNC_BATCH_MAX_ENVELOPE_BYTES). *batch is
 * malloc'ed (the caller frees), NULL with *count 0 when nothing is pending. */
int sync_outbox_next_batch(struct instance *device, int max_count, size_t max_bytes, char **batch,
                           size_t *len, int *count, struct op_err *e);

/* Device: verifies central's receipts with the pinned signing public key `pinned_pk` first
 * (OP_ECRYPTO, nothing marked, if they do not verify or are for another device), then marks
 * the outbox in one transaction (app_outbox_mark), keeping the receipts. */
int sync_outbox_apply_receipts(struct instance *device, const unsigned char *receipts, size_t len,
                               const unsigned char pinned_pk[KEY_PUBLIC_BYTES],
                               struct app_outbox_report *report, struct op_err *e);

/* Central: receives a batch pushed by device `device_id` (from its OAuth credential, never
 * from the body): decodes it (OP_EINPUT if malformed: nothing stored), app_results_push
 * (OP_EFORBIDDEN for an unknown or revoked device, or a batch naming another device), and
 * answers with receipts signed by central's signing key (*receipts malloc'ed,
 * NUL-terminated; the caller frees). */
int sync_results_push(struct instance *central, const char *device_id, const unsigned char *batch,
                      size_t len, char **receipts, size_t *out_len, struct op_err *e);

#endif
