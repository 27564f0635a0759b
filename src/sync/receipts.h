/*
 * receipts.h - central's signed receipts for a pushed results batch (docs/sync-protocol.md,
 * "Pushing results"). The document sent is
 *
 *     {"body": "<base64 of BODY>", "key_id": "<id of central's signing key>",
 *      "signature": "<base64 of the Ed25519 signature>"}
 *
 * where the signature is central's signing key's over SIGN_CONTEXT_RESULTS_RECEIPTS NUL ||
 * BODY (crypto/sign.h), and BODY, JSON, is
 *
 *     {"format": "outpost results receipts v1", "device_id": "<uuid>",
 *      "receipts": [{"result_id": "<uuid>", "sha256": "<hex>",
 *                    "status": "stored|duplicate|quarantined|refused",
 *                    "reason": "<text>" or null}]}
 *
 * The device checks the signature with the signing key it pinned at enrolment before it
 * reads anything of BODY, so a receipt that central did not write marks nothing. Both
 * parsers are strict and bounded (SYNC_RECEIPTS_MAX_BYTES, exactly these members, at most
 * SYNC_BATCH_MAX_RESULTS receipts, reasons under OUTBOX_REASON_MAX bytes).
 */
#ifndef OUTPOST_SYNC_RECEIPTS_H
#define OUTPOST_SYNC_RECEIPTS_H

#include <stddef.h>

#include "base/err.h"
#include "base/ids.h"
#include "crypto/keys.h"
#include "store/outbox.h"

#define SYNC_RECEIPTS_FORMAT    "outpost results receipts v1"
#define SYNC_RECEIPTS_MAX_BYTES (2u * 1024 * 1024)

/* Signs receipts r[0..n) for device `device_id` with central's signing key `signer`. *out
 * is malloc'ed, NUL-terminated (the caller frees). */
int sync_receipts_sign(const char *device_id, const struct outbox_receipt *r, int n,
                       const struct key *signer, char **out, size_t *len, struct op_err *e);

struct sync_receipts {
    char device_id[UUID_STR_LEN];
    struct outbox_receipt *r; /* malloc'ed */
    int n;
};

/* Verifies `data` with central's pinned signing public key `pinned_pk` (OP_ECRYPTO if the
 * key id is not the pinned key's or the signature fails: nothing of the body is read), then
 * decodes the body (OP_EINPUT naming the member at fault) and checks it is for
 * `device_id` (OP_ECRYPTO if not: receipts of another device). Free with
 * sync_receipts_free (also after a failure). */
int sync_receipts_open(const unsigned char *data, size_t len,
                       const unsigned char pinned_pk[KEY_PUBLIC_BYTES], const char *device_id,
                       struct sync_receipts *out, struct op_err *e);
void sync_receipts_free(struct sync_receipts *r);

#endif
