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
 * OP_ESTATE), bad signature (OP_ECRYPTO), sealed to a results key central never had
 * (OP_EINPUT), a result id stored already from another device or with other content
 * (OP_ECONFLICT: the copy is held in quarantine, store/results.h, and logged for the
 * operator; the message, meant for the sender, names neither the other device nor the stored
 * copy; the quarantine row is written in the caller's transaction, which the caller commits
 * as for any refusal: only OP_EDB and OP_ENOMEM call for a rollback). A key id is known when
 * store/results_keys.h records it; `keys_dir` (central's key folder, or NULL) is where the
 * key files not recorded yet are looked for. *env (if not NULL) gets the parsed header when
 * parsing succeeded. */
int intake_receive(struct db *db, const char *keys_dir, const unsigned char *data, size_t len,
                   struct envelope *env, struct op_err *e);

struct intake_report {
    int decrypted;   /* now decrypted */
    int damaged;     /* marked damaged (do not open, altered header, not a JSON result) */
    int missing_key; /* left pending: their results key is not among the key files that load */
    int bad_keys;    /* results key files in the key folder that do not load */
};

enum intake_problem {
    INTAKE_DAMAGED,     /* `id` is a result id: marked damaged */
    INTAKE_MISSING_KEY, /* `id` is a result id: left pending, its key is missing */
    INTAKE_BAD_KEY,     /* `id` is the path of a results key file that does not load */
};

/* Called for every problem, with what it is about and the reason. */
typedef void (*intake_problem_fn)(enum intake_problem kind, const char *id, const char *problem,
                                  void *ctx);

/* Decrypts every pending envelope (of `delivery_id`, or all if NULL) with the keys in
 * `keys_dir`; stores the result JSON next to the envelope. Every results key file that loads
 * is used (and recorded, store/results_keys.h): one that does not (mode, damage) is reported
 * through `fn` and does not stop the others, nor does a bad envelope. A result whose key is
 * recorded but has no file that loads stays pending (INTAKE_MISSING_KEY); one sealed to a key
 * central never had (stored before intake checked key ids) is marked damaged. Runs its own
 * transactions. Returns 0 unless the database or the key folder fails. */
int intake_decrypt(struct db *db, const char *keys_dir, const char *delivery_id,
                   struct intake_report *rep, intake_problem_fn fn, void *ctx, struct op_err *e);

#endif
