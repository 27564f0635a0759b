/*
 * results_view.h - the results of one delivery as the backoffice's results tab and the
 * exports read them (app/results_view.h): each result with its test taker's login and label,
 * its test center, its device, and the test-level outcomes of the decrypted result
 * (results.outcomes_json, migration 16), filtered and read in keyset pages, newest first.
 *
 * Invariants:
 *  - a page is "up to N results before key K" in the order (started_at DESC, id DESC), a
 *    unique order served by the indexes (delivery_id, started_at, id) and (delivery_id,
 *    center_id, started_at, id): a page costs the same wherever it is in 100,000 results;
 *  - a filter that names a test-center administrator (`admin_id`) keeps only the results of
 *    the centers that user administers and of their sub-centers, whatever else the filter
 *    says: the scope is applied in SQL, never after the page is read;
 *  - results_set_summary takes a center the decrypted result names only when it is a test
 *    center of the organisation of the device that sent the result (a device speaks for its
 *    own organisation only); otherwise the center found at intake stays.
 */
#ifndef OUTPOST_STORE_RESULTS_VIEW_H
#define OUTPOST_STORE_RESULTS_VIEW_H

#include "store/db.h"
#include "store/results.h"

/* Which results of a delivery. Every member but delivery_id may be NULL (no filter); all are
 * borrowed. */
struct results_filter {
    const char *delivery_id;
    const char *center_id;
    const char *status;   /* pending, decrypted, damaged, or a review: quarantined, accepted,
                             rejected */
    const char *state;    /* finished or terminated */
    const char *from;     /* started_at >= from (ISO-8601 UTC text) */
    const char *to;       /* started_at < to */
    const char *search;   /* a LIKE pattern, lower case, '\' escapes: on the test taker's login
                             or label (app/results_view.c builds it from the words typed) */
    const char *admin_id; /* only the centers this test-center administrator administers */
};

/* One result as the tab shows it (strings owned by the row: results_view_row_clear). */
struct results_view_row {
    struct result_row r;
    char *taker_login;            /* NULL if the user was deleted */
    char *taker_label;            /* NULL if none */
    char center_id[UUID_STR_LEN]; /* "" if unknown */
    char *center_label;           /* NULL if unknown */
    char *device_label;
    char *outcomes_json; /* the test-level outcomes, a JSON object; NULL until decrypted */
};
void results_view_row_clear(struct results_view_row *row);

#define RESULTS_VIEW_PAGE_MAX 1000

/* A page of results: rows[0..n), `more` when rows follow, and the key to ask for them in
 * next_started/next_id. */
struct results_view_page {
    struct results_view_row *rows;
    int n;
    int more;
    char next_started[TIMESTAMP_STR_LEN];
    char next_id[UUID_STR_LEN];
};
void results_view_page_clear(struct results_view_page *p);

/* Reads up to `limit` (1..RESULTS_VIEW_PAGE_MAX) results of `f` after the key (after_started,
 * after_id) (both NULL or "": the first page) into *out, which the caller clears. */
int results_view_read(struct db *db, const struct results_filter *f, const char *after_started,
                      const char *after_id, int limit, struct results_view_page *out,
                      struct op_err *e);

/* How many results `f` selects. */
int results_view_count(struct db *db, const struct results_filter *f, int64_t *n, struct op_err *e);

/* One result by id with the same columns (OP_ENOTFOUND with *e untouched if there is none, or
 * none in the scope of `admin_id` when not NULL). The caller clears *out. */
int results_view_get(struct db *db, const char *id, const char *admin_id,
                     struct results_view_row *out, struct op_err *e);

/* After decryption: the test-level outcomes (a JSON object, NULL for none) and the test center
 * the result names (NULL: unknown), taken only if it is a center of the device's
 * organisation. */
int results_set_summary(struct db *db, const char *id, const char *outcomes_json,
                        const char *center_id, struct op_err *e);

/* The ids of decrypted results without a summary (decrypted before migration 16), up to `max`
 * of them (results_free_ids). */
int results_unsummarised_ids(struct db *db, int max, char ***ids, int *n, struct op_err *e);

#endif
