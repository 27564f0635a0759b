/*
 * outbox.h - a device's outbox of result envelopes (table result_outbox, migration 9), the
 * transactional half of pushing results (docs/sync-protocol.md, "Pushing results").
 *
 * An envelope enters the outbox in the transaction that finishes or terminates its execution
 * (outbox_add), so a result is never finished without being queued, nor queued twice: the
 * result id is the key, the same bytes again are a no-op, other bytes under a queued id are
 * refused. Each row is pending until central's signed receipts answer it:
 *   pending -> acknowledged  central stored it (stored, duplicate, or quarantined for review)
 *   pending -> refused       central refused it, with its reason: kept, never sent again
 * A receipt is applied only to a pending row whose SHA-256 it names; the receipts document
 * that answered is kept (outbox_receipts, once per batch) as proof. Rows are never deleted.
 * Batches go out in queue order (seq). Writes run inside the caller's transaction.
 */
#ifndef OUTPOST_STORE_OUTBOX_H
#define OUTPOST_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "base/sha256.h"
#include "store/db.h"

/* What central answered for one envelope (the "status" of a receipt). */
enum outbox_receipt_status {
    OUTBOX_STORED,      /* new on central */
    OUTBOX_DUPLICATE,   /* central had it already: same id, same bytes */
    OUTBOX_QUARANTINED, /* stored, held for an operator's review (eligibility withdrawn) */
    OUTBOX_REFUSED,     /* not stored; `reason` says why; never sent again */
};

/* "stored", "duplicate", "quarantined", "refused". */
const char *outbox_receipt_status_name(enum outbox_receipt_status s);
/* The status named `name`, or -1. */
int outbox_receipt_status_of(const char *name);

#define OUTBOX_REASON_MAX 1024

/* One receipt: the envelope central answered for, by result id and SHA-256. */
struct outbox_receipt {
    char result_id[UUID_STR_LEN];
    char sha256[SHA256_HEX_LEN];
    enum outbox_receipt_status status;
    char reason[OUTBOX_REASON_MAX]; /* "" when none */
};

/* Queues an envelope (bytes and their SHA-256 under `result_id`). 0 if queued now or queued
 * already with the same bytes; OP_ECONFLICT if other bytes are queued under that id. */
int outbox_add(struct db *db, const char *result_id, const unsigned char *envelope, size_t len,
               const char sha256[SHA256_HEX_LEN], struct op_err *e);

/* One pending envelope (bytes malloc'ed, owned by the item). */
struct outbox_item {
    char result_id[UUID_STR_LEN];
    char sha256[SHA256_HEX_LEN];
    unsigned char *envelope;
    size_t len;
};

/* The oldest pending envelopes, in queue order: at most max_count, and no more bytes in all
 * than max_bytes, except that the first is always taken (one envelope is never held back).
 * *items malloc'ed (free with outbox_items_free), *n how many (0: nothing pending). */
int outbox_pending(struct db *db, int max_count, size_t max_bytes, struct outbox_item **items,
                   int *n, struct op_err *e);
void outbox_items_free(struct outbox_item *items, int n);

/* Keeps a receipts document (its text) under `id` (idempotent). */
int outbox_keep_receipts(struct db *db, const char *id, const char *receipts, struct op_err *e);

/* Applies one receipt (kept under receipts_id) to its row if that row is pending with the
 * SHA-256 the receipt names. *applied is 1 if a row changed, 0 if none (unknown id, other
 * bytes, or answered already). */
int outbox_apply(struct db *db, const struct outbox_receipt *r, const char *receipts_id,
                 int *applied, struct op_err *e);

struct outbox_counts {
    int64_t pending, acknowledged, refused;
};
int outbox_count(struct db *db, struct outbox_counts *out, struct op_err *e);

/* The status ("pending", "acknowledged", "refused") and reason (malloc'ed or NULL) of a queued
 * result; OP_ENOTFOUND if it is not queued. */
int outbox_get_status(struct db *db, const char *result_id, char status[16], char **reason,
                      struct op_err *e);

#endif
