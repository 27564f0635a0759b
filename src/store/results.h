/*
 * results.h - result envelopes received by central (crypto/envelope.h), stored as received
 * and never deleted, with the decrypted result JSON next to them once decrypt-results ran.
 *
 * status: pending (stored, not decrypted yet), decrypted (result_json is set), damaged (the
 * envelope does not open or its content is not a result; `problem` says why). A pending
 * envelope whose results key is missing keeps status pending with `problem` set.
 *
 * A result id belongs to the device that first sent it. Insert is idempotent by result id: the
 * same id from the same device with the same envelope SHA-256 is accepted again
 * (RESULTS_DUPLICATE). Any other envelope under a stored id (from another device, or other
 * bytes from the same device) never replaces the stored one and is never dropped: it is kept
 * in quarantine (results_quarantine, one row per result id, device and SHA-256) for an
 * operator (RESULTS_QUARANTINED), so a genuine result filed after an impostor's is kept too.
 * Writes run inside the caller's transaction.
 */
#ifndef OUTPOST_STORE_RESULTS_H
#define OUTPOST_STORE_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "base/keysize.h"
#include "base/sha256.h"
#include "store/db.h"

/* What results_insert did with an envelope. It returns 0 for all three (each is a success the
 * caller's transaction commits: a quarantined copy is kept too), so the outcome comes apart. */
enum results_outcome { RESULTS_STORED, RESULTS_DUPLICATE, RESULTS_QUARANTINED };

/* Why a copy is in quarantine: RESULTS_OTHER_DEVICE (the id belongs to another device) or
 * RESULTS_OTHER_CONTENT (the device that owns the id sent other bytes under it). */
#define RESULTS_OTHER_DEVICE  "other device"
#define RESULTS_OTHER_CONTENT "other content"

/* A row without the envelope bytes and result JSON (strings owned by the struct). */
struct result_row {
    char id[UUID_STR_LEN];
    char execution_id[UUID_STR_LEN];
    char delivery_id[UUID_STR_LEN];
    char test_taker_id[UUID_STR_LEN];
    char device_id[UUID_STR_LEN];
    char key_id[KEY_ID_HEX_LEN];
    char state[16];
    char started_at[TIMESTAMP_STR_LEN];
    char ended_at[TIMESTAMP_STR_LEN];
    char sealed_at[TIMESTAMP_STR_LEN];
    char envelope_sha256[SHA256_HEX_LEN];
    char status[16];
    char *problem; /* NULL if none */
    char received_at[TIMESTAMP_STR_LEN];
    char decrypted_at[TIMESTAMP_STR_LEN]; /* "" if not decrypted */
    int quarantined;                      /* copies under this id held in quarantine */
    char review[16];                      /* "", quarantined, accepted or rejected */
    char *review_reason;                  /* why held, then the operator's reason; or NULL */
    char test_taker_login[256];           /* "" when the user is gone (results_page only) */
    char delivery_label[256];             /* "" when the delivery is gone (results_page only) */
};

/* A copy held in quarantine (strings owned by the struct). */
struct quarantine_row {
    char result_id[UUID_STR_LEN];
    char device_id[UUID_STR_LEN];       /* the device that sent this copy */
    char owner_device_id[UUID_STR_LEN]; /* the device the id belongs to */
    char reason[16];                    /* RESULTS_OTHER_DEVICE or RESULTS_OTHER_CONTENT */
    char delivery_id[UUID_STR_LEN];
    char test_taker_id[UUID_STR_LEN];
    char key_id[KEY_ID_HEX_LEN];
    char envelope_sha256[SHA256_HEX_LEN];
    char received_at[TIMESTAMP_STR_LEN];
};

/* What results_insert files: the header of a parsed and verified envelope, its bytes and
 * their SHA-256. The caller decodes the envelope (app/results.c): the store never parses
 * one. The strings and bytes stay the caller's. */
struct result_new {
    const char *id; /* the result id */
    const char *execution_id;
    const char *delivery_id;
    const char *test_taker_id;
    const char *device_id;                   /* the device named in the envelope */
    const char *key_id;                      /* the results key it is sealed to */
    const char *state;                       /* "finished" or "terminated" */
    int64_t started_at, ended_at, sealed_at; /* seconds since 1970-01-01 UTC */
    const unsigned char *envelope;
    size_t envelope_len;
    char envelope_sha256[SHA256_HEX_LEN]; /* sha256_hex of the envelope */
    /* NULL: an ordinary result. Else it is stored held for review (review 'quarantined')
     * with this reason: its eligibility was withdrawn after the test (results_was_in_scope). */
    const char *quarantine_reason;
};

/* Stores a parsed (and already verified) envelope. Returns 0 with *outcome set to
 * RESULTS_STORED, RESULTS_DUPLICATE or RESULTS_QUARANTINED (then *why, if not NULL, gets
 * RESULTS_OTHER_DEVICE or RESULTS_OTHER_CONTENT and *owner the device the id belongs to), or a
 * negative error. */
int results_insert(struct db *db, const struct result_new *res, enum results_outcome *outcome,
                   const char **why, char owner[UUID_STR_LEN], struct op_err *e);

/* 1 if a device of organisation `org_id` may file this result: its test taker is listed on an
 * eligibility for its delivery at a test center of that organisation, or the device named in
 * the envelope has already stored a result under its id (results_insert then tells a copy
 * from a conflict, so a copy re-sent after the eligibility is gone is still acknowledged). 0
 * if not, or a negative error. Another device's result under the id does not count: a device
 * outside the scope is refused alike whether the id exists or not. The scope comes from the
 * device's enrolment, never from the envelope. */
int results_in_scope(struct db *db, const char *org_id, const struct result_new *res,
                     struct op_err *e);

/* 1 if the test taker and the delivery of `res` have both been in the scope of organisation
 * `org_id` (both have a row, current or tombstone, in its change feed: store/feed.h), so a
 * result that results_in_scope refuses now comes from a test taken before the eligibility
 * was withdrawn; 0 if not (never in scope: refused), or a negative error. */
int results_was_in_scope(struct db *db, const char *org_id, const struct result_new *res,
                         struct op_err *e);

/* An operator's decision on a result held for review: review ("accepted" or "rejected")
 * with `reason` (may be NULL) and the time. OP_ENOTFOUND if there is no result `id`,
 * OP_ESTATE (saying what it is) if it is not held for review. The result is never deleted. */
int results_set_review(struct db *db, const char *id, const char *review, const char *reason,
                       struct op_err *e);

/* The ids of pending envelopes (of `delivery_id`, or all if NULL), oldest first. *ids is a
 * malloc'ed array of malloc'ed strings (free with results_free_ids). */
int results_pending_ids(struct db *db, const char *delivery_id, char ***ids, int *n,
                        struct op_err *e);
void results_free_ids(char **ids, int n);
/* Steps `st` to its end, collecting its first column as results_pending_ids does, then
 * finishes it; `what` names the listing in a database error (for results_view.c). */
int results_collect_ids(struct db *db, struct db_stmt *st, char ***ids, int *n, const char *what,
                        struct op_err *e);

/* The stored envelope bytes of result `id` (*data malloc'ed; caller frees). */
int results_get_envelope(struct db *db, const char *id, unsigned char **data, size_t *len,
                         struct op_err *e);

/* The decrypted result JSON (*json malloc'ed; caller frees); OP_ENOTFOUND if not decrypted. */
int results_get_json(struct db *db, const char *id, char **json, struct op_err *e);

int results_set_decrypted(struct db *db, const char *id, const char *json, struct op_err *e);
int results_set_damaged(struct db *db, const char *id, const char *problem, struct op_err *e);
/* Notes a problem on a result that stays pending (e.g. its key is missing). */
int results_set_problem(struct db *db, const char *id, const char *problem, struct op_err *e);

#define RESULTS_CURSOR_PAGE 100

/* The copies held in quarantine by received time, then result id, device and SHA-256 (the
 * key, four parts), a page at a time (db.h); the rows are struct quarantine_row.
 * results_quarantine_cursor opens a cursor on them. */
int results_quarantine_page(struct db *db, const struct db_key *after, int limit,
                            struct db_page *out, struct op_err *e);
void results_quarantine_cursor(struct db_cursor *c);

/* The results (of `delivery_id` / with `status`, NULL for any: status is one of pending,
 * decrypted, damaged, or one of the review states quarantined, accepted, rejected) by received time
 * then id (the key), a page at a time; the rows are struct result_row. results_cursor opens a
 * cursor on them (the filters are borrowed). */
int results_page(struct db *db, const char *delivery_id, const char *status,
                 const struct db_key *after, int limit, struct db_page *out, struct op_err *e);
void results_cursor(struct db_cursor *c, const char *delivery_id, const char *status);

#endif
