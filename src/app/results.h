/*
 * results.h - the application's results on central: receiving result envelopes from devices
 * (one, or a file of them as `results import` reads it), listing them and the copies held in
 * quarantine, showing a decrypted result, and decrypting the pending ones (TAO's
 * DecryptResults), with the public JSON forms of each. The command line (results ...,
 * decrypt-results) and the sync server call these; every operation checks the instance is a
 * central, runs its own transactions and never prints (a refused envelope held in quarantine
 * is logged for the operator). Operations return 0 or a negative OP_E* code with *e filled.
 *
 * Receiving checks, in this order: the envelope's format (crypto/envelope.h), an enrolled and
 * not revoked device, the device's signature, a results key central has had (current or past,
 * store/results_keys.h; key files not recorded yet are looked for in DIR/keys), and that the
 * test taker is eligible for the delivery in the device's organisation (store/results.h);
 * then the envelope is stored, idempotently by result id. A result id belongs to the device
 * that first sent it: another envelope under it is refused and held in quarantine.
 */
#ifndef OUTPOST_APP_RESULTS_H
#define OUTPOST_APP_RESULTS_H

#include <jansson.h>
#include <stddef.h>

#include "base/err.h"
#include "crypto/envelope.h"
#include "instance/instance.h"
#include "store/outbox.h"
#include "store/results.h"

/* ---- reading ---- */

/* The JSON form of a received result (results list --json): id, execution_id, delivery_id,
 * test_taker_id, device_id, key_id, state, started_at, ended_at, sealed_at, envelope_sha256,
 * status, problem (or null), received_at, decrypted_at (or null), quarantined, review (null,
 * quarantined, accepted or rejected), review_reason (or null). */
json_t *app_result_json(const struct result_row *r);
/* The JSON form of a copy held in quarantine (results quarantine --json): result_id,
 * device_id, owner_device_id (left out when the id's owner is unknown), reason, delivery_id,
 * test_taker_id, key_id, envelope_sha256, received_at. */
json_t *app_quarantine_json(const struct quarantine_row *q);

struct app_results_list_in {
    const char *delivery_id; /* NULL: every delivery */
    const char *status;      /* pending, decrypted, damaged, or a review: quarantined,
                                accepted, rejected; NULL: any */
};

/* OP_EINPUT, naming the choices, unless `status` is pending, decrypted, damaged, quarantined,
 * accepted, rejected or NULL. */
int app_results_check_status(const char *status, struct op_err *e);

/* Calls fn for each received result of `in`, oldest first (store/results.h); a non-zero
 * return stops and is returned. No statement is open during the call. */
typedef int (*app_result_fn)(const struct result_row *r, void *ctx);
int app_results_list(struct instance *inst, const struct app_results_list_in *in, app_result_fn fn,
                     void *ctx, struct op_err *e);
/* Calls fn for each copy held in quarantine, oldest first, likewise. */
typedef int (*app_quarantine_fn)(const struct quarantine_row *q, void *ctx);
int app_results_quarantine(struct instance *inst, app_quarantine_fn fn, void *ctx,
                           struct op_err *e);
/* The decrypted result JSON of result `id` (*json malloc'ed, the caller frees); OP_ENOTFOUND
 * if it is unknown or not decrypted yet. */
int app_results_show(struct instance *inst, const char *id, char **json, struct op_err *e);

/* ---- receiving ---- */

/* The store's view of a parsed envelope (store/results.h: the store never parses one); it
 * points into `env`, which must outlive it. */
void app_results_new_of(const struct envelope *env, struct result_new *out);

enum app_results_outcome {
    APP_RESULTS_STORED,    /* new: stored, pending decryption */
    APP_RESULTS_DUPLICATE, /* the same envelope from the same device was stored already */
    APP_RESULTS_HELD,      /* new: stored, but held for review (review 'quarantined'): the
                              test taker's eligibility was withdrawn after the test */
};

/* Verifies and stores one envelope (exactly `len` bytes) in its own transaction; *outcome
 * says which. A refusal is a negative error whose message, meant for the sender, gives the
 * reason: malformed (OP_EINPUT), unknown or revoked device (OP_ENOTFOUND, OP_ESTATE), bad
 * signature (OP_ECRYPTO), sealed to a results key central never had (OP_EINPUT), test taker
 * not in the device's scope (OP_ESTATE), a result id stored already from another device or
 * with other content (OP_ECONFLICT: the copy is held in quarantine and logged; the message
 * names neither the other device nor the stored copy). OP_EDB and OP_ENOMEM are failures of
 * central, not refusals. */
int app_results_receive(struct instance *inst, const unsigned char *data, size_t len,
                        enum app_results_outcome *outcome, struct op_err *e);

/* ---- pushing: a device's batch (docs/sync-protocol.md, "Pushing results") ---- */

#define APP_PUSH_MAX 500 /* envelopes in one batch */

/* One envelope of a batch as the device listed it (borrowed). */
struct app_push_item {
    const char *result_id; /* the id the batch gives; must be the envelope's */
    const unsigned char *envelope;
    size_t len;
};

struct app_push_in {
    const char *device_id; /* the device the batch names; must be the credential's */
    const struct app_push_item *items;
    int n; /* 0 .. APP_PUSH_MAX */
};

/* Receives a batch pushed by device `device_id` (from its credential, never from the batch),
 * all in one transaction (db_write: re-runnable). The whole batch is refused
 * (OP_EFORBIDDEN, nothing stored) if that device is not enrolled or revoked, or if the batch
 * names another device. Else each envelope gets a receipt in receipts[i] (the caller's
 * array of in->n): its result id and SHA-256, and stored, duplicate (the same bytes were
 * stored already: acknowledged again), quarantined (stored, held for review: the eligibility
 * was withdrawn after the test) or refused with the reason (malformed, another device named
 * or another key's signature, a result id that is not the envelope's, other bytes under a
 * stored id: held in quarantine as app_results_receive does, a test taker never in scope).
 * Checks as app_results_receive, the key being that of the credential's device. */
int app_results_push(struct instance *inst, const char *device_id, const struct app_push_in *in,
                     struct outbox_receipt *receipts, struct op_err *e);

/* ---- reviewing results held for review (results list --status quarantined) ---- */

#define APP_REVIEW_REASON_MAX 1000

/* results accept ID: the result held for review counts as any other (review 'accepted').
 * results reject ID: it is marked rejected with the operator's reason (may be NULL), kept,
 * never deleted. OP_ENOTFOUND for an unknown id, OP_ESTATE if it is not held for review. */
int app_results_accept(struct instance *inst, const char *id, struct op_err *e);
int app_results_reject(struct instance *inst, const char *id, const char *reason, struct op_err *e);

struct app_results_import_in {
    const char *file; /* envelopes back to back, as a device exports them */
};

struct app_results_import_out {
    int stored;      /* new results */
    int held;        /* of the stored: held for review (eligibility withdrawn after the test) */
    int duplicates;  /* received already */
    int rejected;    /* refused (each reported to the refusal callback) */
    int quarantined; /* of the refused: held in quarantine */
};

/* One refused envelope of an import. */
struct app_results_refusal {
    const char *result_id; /* NULL when the header could not be read */
    size_t offset;         /* where the envelope starts in the file */
    const char *reason;
    int rest_skipped;      /* the header could not be read: the rest of the file is skipped */
    enum op_remedy remedy; /* the kind of fix the front end may add to `reason` (base/err.h) */
};
typedef void (*app_results_refusal_fn)(const struct app_results_refusal *r, void *ctx);

/* results import: receives every envelope of in->file, reading one at a time (at most
 * ENVELOPE_MAX_BYTES in memory whatever the file size), all in one transaction. Each refusal
 * goes to fn (may be NULL) and the import goes on, except after an envelope whose header
 * cannot be read (the next one cannot be found). Returns 0 whatever was refused; an error
 * (nothing stored) for a file that cannot be read or is empty, or a database failure. */
int app_results_import(struct instance *inst, const struct app_results_import_in *in,
                       struct app_results_import_out *out, app_results_refusal_fn fn, void *ctx,
                       struct op_err *e);

/* {result_id (or null), offset, reason}: one refusal of an import. */
json_t *app_results_refusal_json(const struct app_results_refusal *r);
/* {stored, held, duplicates, rejected, quarantined, refusals} (results import --json); takes
 * `refusals`, an array of app_results_refusal_json. */
json_t *app_results_import_json(const struct app_results_import_out *out, json_t *refusals);

/* ---- decrypting ---- */

struct app_results_decrypt_in {
    const char *delivery_id; /* NULL: the pending results of every delivery */
};

struct app_results_decrypt_out {
    int decrypted;   /* now decrypted */
    int damaged;     /* marked damaged (do not open, altered header, not a JSON result) */
    int missing_key; /* left pending: their results key is not among the key files that load */
    int bad_keys;    /* results key files in the key folder that do not load */
};

enum app_results_problem_kind {
    APP_RESULTS_DAMAGED,     /* `id` is a result id: marked damaged */
    APP_RESULTS_MISSING_KEY, /* `id` is a result id: left pending, its key is missing */
    APP_RESULTS_BAD_KEY,     /* `id` is the path of a results key file that does not load */
};

struct app_results_problem {
    enum app_results_problem_kind kind;
    const char *id;
    const char *reason;
};
typedef void (*app_results_problem_fn)(const struct app_results_problem *p, void *ctx);

/* decrypt-results: decrypts every pending envelope (of in->delivery_id, or all) with the
 * results key its header names, from DIR/keys, and stores the result JSON next to the
 * envelope, which is kept. Every results key file that loads is used (and recorded): one that
 * does not (mode, damage) is reported to fn and does not stop the others, nor does a bad
 * envelope. A result whose key is recorded but has no file that loads stays pending
 * (APP_RESULTS_MISSING_KEY); one sealed to a key central never had (stored before intake
 * checked key ids) is marked damaged. A decrypted result's test-level outcomes and test
 * center are recorded for the results tab (app/results_view.h, app_results_summarise), and
 * those of results decrypted by an outpost that did not record them are filled in. Idempotent.
 * Returns 0 unless the database or the key folder fails. */
int app_results_decrypt(struct instance *inst, const struct app_results_decrypt_in *in,
                        struct app_results_decrypt_out *out, app_results_problem_fn fn, void *ctx,
                        struct op_err *e);

/* {result_id, damaged, reason} for a result, {file, reason} for a key file. */
json_t *app_results_problem_json(const struct app_results_problem *p);
/* {decrypted, damaged, missing_key, bad_keys, problems, key_problems} (decrypt-results
 * --json); takes `problems` and `key_problems`, arrays of app_results_problem_json. */
json_t *app_results_decrypt_json(const struct app_results_decrypt_out *out, json_t *problems,
                                 json_t *key_problems);

#endif
