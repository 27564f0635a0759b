/*
 * sealed.h - central's cache of the sealed boxes its pages carry (migration 13, `sync_sealed`).
 *
 * A page of changes carries each user's profile sealed to the user and to the proctors of
 * their centers, and each eligibility's content key sealed to each test taker
 * (app/changes.h). Sealing costs two X25519 operations per box, and the same boxes were made
 * again for every page served, to every device. Here a box is kept once made, under its
 * record (kind, record id, recipient) with the fingerprint of what it was made from; the
 * application (app/changes.c) computes the fingerprint of the current recipient key and
 * plaintext and reuses a box only when it is equal, and always reads the recipients anew, so
 * the cache can never hand a box to someone who is no longer a recipient, nor serve a box of
 * an old key or an old plaintext. This file only stores and reads rows.
 */
#ifndef OUTPOST_STORE_SEALED_H
#define OUTPOST_STORE_SEALED_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/db.h"

#define SEALED_PROFILE     "profile"     /* record: a user id */
#define SEALED_CONTENT_KEY "content-key" /* record: a delivery id */
#define SEALED_ID_MAX      40            /* ids: UUIDs, at most 39 bytes */
#define SEALED_FP_HEX      65            /* a fingerprint: 64 hex digits */

struct sealed_row {
    char record_id[SEALED_ID_MAX];
    char recipient[SEALED_ID_MAX];
    char fingerprint[SEALED_FP_HEX];
    char *sealed; /* the box as text, as a page carries it; owned */
};

/* Rows sorted by (record_id, recipient). */
struct sealed_rows {
    struct sealed_row *v;
    size_t n, cap;
};

void sealed_rows_clear(struct sealed_rows *r);
/* Appends a row (copies every string). 0 or OP_ENOMEM/OP_EINPUT (an id too long). */
int sealed_rows_add(struct sealed_rows *r, const char *record_id, const char *recipient,
                    const char *fingerprint, const char *sealed, struct op_err *e);
/* The row of (record_id, recipient) in rows sorted as sealed_rows_* read them, or NULL. */
const struct sealed_row *sealed_rows_find(const struct sealed_rows *r, const char *record_id,
                                          const char *recipient);

/* How many rows of r (sorted) are of `record_id`. */
size_t sealed_rows_count(const struct sealed_rows *r, const char *record_id);

/* Reads, sorted, the `kind` boxes of the live records of entity `entity` in the feed rows of
 * `org` with since < seq <= upto (the records of one page), appending them to `out`. */
int sealed_read_page(struct db *db, const char *kind, const char *entity, const char *org,
                     int64_t since, int64_t upto, struct sealed_rows *out, struct op_err *e);
/* Reads, sorted, the boxes of one record. */
int sealed_read_record(struct db *db, const char *kind, const char *record_id,
                       struct sealed_rows *out, struct op_err *e);
/* Writes `rows` (each record's rows together). With `prune`, each record named in `rows` keeps
 * only those rows (its others, for a recipient who left, are deleted); without, the rows are
 * added or replaced one by one. In the caller's write transaction. */
int sealed_replace(struct db *db, const char *kind, const struct sealed_rows *rows, int prune,
                   struct op_err *e);

/* ---- the records' texts (migration 18, `sync_texts`) ----
 * Each record's data as a page carries it, kept per organisation with the feed row (version,
 * seq) it was made for. A page uses a text only for that exact feed row (app/changes.c). A
 * record deleted or out of an organisation's scope keeps no text there: the transaction that
 * writes its tombstone drops it (store/feed.c; migration 19 dropped those kept before). */

/* One kept text: the feed seq of the page's row it belongs to, and the text (owned). */
struct sync_text {
    int64_t seq;
    char *data;
    size_t len;
};
struct sync_texts {
    struct sync_text *v;
    size_t n, cap;
};
void sync_texts_clear(struct sync_texts *t);
/* Reads, in seq order, the kept texts of the live feed rows of `org` with since < seq <= upto
 * whose version and seq are those the text was made for. */
int sync_texts_read_page(struct db *db, const char *org, int64_t since, int64_t upto,
                         struct sync_texts *out, struct op_err *e);
/* Keeps the text of (org, entity, id) made for the feed row (version, seq), replacing any
 * older one, if that feed row is still the record's live row in `org`: a text made in a read
 * snapshot is not kept for a record that has since been deleted or left the scope (the
 * feed drops a record's text in the transaction that writes its tombstone, store/feed.c, so
 * `sync_texts` only holds texts of records in scope). In the caller's write transaction. */
int sync_texts_put(struct db *db, const char *org, const char *entity, const char *id,
                   int64_t version, int64_t seq, const char *data, size_t len, struct op_err *e);

#endif
