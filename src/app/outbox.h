/*
 * outbox.h - the device's outbox of result envelopes, as the application sees it (the rows
 * are store/outbox.h's): queuing an envelope (in the transaction that finishes an
 * execution), taking the next batch to push, applying central's receipts once their
 * signature is verified (sync/receipts.h), and the counts for the sync report. Every
 * operation checks that the instance is a device and never prints.
 */
#ifndef OUTPOST_APP_OUTBOX_H
#define OUTPOST_APP_OUTBOX_H

#include <stddef.h>

#include "base/err.h"
#include "instance/instance.h"
#include "store/outbox.h"

/* Queues one result envelope of this device (exactly `len` bytes), inside the caller's
 * transaction on `db` (the delivery runner calls it in the transaction that finishes or
 * terminates the execution). The envelope must parse and name this device
 * (`device_id`); the same envelope again is a no-op; OP_EINPUT for one that does not parse
 * or names another device, OP_ECONFLICT for other bytes under a queued result id. */
int app_outbox_add_in(struct db *db, const char *device_id, const unsigned char *envelope,
                      size_t len, struct op_err *e);

/* The same in its own transaction. */
int app_outbox_add(struct instance *device, const unsigned char *envelope, size_t len,
                   struct op_err *e);

/* The next pending envelopes, oldest first: at most max_count (1 .. APP_PUSH_MAX) and
 * max_bytes in all (the first always), as store/outbox.h's outbox_pending. *items is
 * malloc'ed (outbox_items_free); *n is 0 when nothing is pending. Refused envelopes are never
 * taken again. */
int app_outbox_next_batch(struct instance *device, int max_count, size_t max_bytes,
                          struct outbox_item **items, int *n, struct op_err *e);

/* What applying receipts did. */
struct app_outbox_report {
    int acknowledged; /* now acknowledged (stored, duplicate or quarantined on central) */
    int refused;      /* now refused (kept with central's reason, not sent again) */
    int ignored;      /* receipts for no pending envelope of that id and SHA-256 */
};

/* Marks the outbox from receipts whose signature the caller verified with the pinned
 * signing key of central (sync/receipts.h): all in one transaction, and `receipts_text`
 * (the signed document as received) kept once under its SHA-256, as proof. A receipt is
 * applied only to a pending envelope of the same result id and SHA-256, so receipts applied
 * twice change nothing. */
int app_outbox_mark(struct instance *device, const struct outbox_receipt *receipts, int n,
                    const char *receipts_text, struct app_outbox_report *report, struct op_err *e);

/* pending / acknowledged / refused, for the sync report. */
int app_outbox_counts(struct instance *device, struct outbox_counts *out, struct op_err *e);

#endif
