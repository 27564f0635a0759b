/*
 * intake.h - central's handling of result envelopes (crypto/envelope.h): receiving them
 * (strict parse, enrolled and not revoked device, valid signature, then an idempotent store;
 * store/results.h) and decrypting the pending ones (TAO's DecryptResults), each with the
 * results key its header names, so results sealed before a key rotation still decrypt.
 */
#ifndef OUTPOST_CRYPTO_INTAKE_H
#define OUTPOST_CRYPTO_INTAKE_H

#include <stddef.h>

#include "base/err.h"
#include "crypto/envelope.h"
#include "store/db.h"

/* Verifies and stores one envelope (exactly `len` bytes) inside the caller's transaction.
 * Returns RESULTS_STORED or RESULTS_DUPLICATE (store/results.h), or a negative error whose
 * message gives the reason: malformed (OP_EINPUT), unknown or revoked device (OP_ENOTFOUND,
 * OP_ESTATE), bad signature (OP_ECRYPTO), same id with other content (OP_ECONFLICT). *env (if
 * not NULL) gets the parsed header when parsing succeeded. */
int intake_receive(struct db *db, const unsigned char *data, size_t len, struct envelope *env,
                   struct op_err *e);

struct intake_report {
    int decrypted;   /* now decrypted */
    int damaged;     /* marked damaged (do not open, altered header, not a JSON result) */
    int missing_key; /* left pending: their results key is not in the key folder */
};

/* Called for every envelope that is damaged or waits for a missing key. */
typedef void (*intake_problem_fn)(const char *result_id, int damaged, const char *problem,
                                  void *ctx);

/* Decrypts every pending envelope (of `delivery_id`, or all if NULL) with the keys in
 * `keys_dir`; stores the result JSON next to the envelope. A bad envelope is reported through
 * `fn` and does not stop the others. Runs its own transactions. Returns 0 unless the database
 * or the key folder fails. */
int intake_decrypt(struct db *db, const char *keys_dir, const char *delivery_id,
                   struct intake_report *rep, intake_problem_fn fn, void *ctx, struct op_err *e);

#endif
