/*
 * results_view.h - the results tab of central's backoffice and what the exports read: the
 * results received for one delivery (test taker, test center, device, start, end, finished or
 * terminated, score and every test-level outcome), filtered and read in keyset pages newest
 * first; one result in full (item responses and outcomes, the execution's audit log with its
 * hash chain verified here, on central); the score distribution of a delivery; and the review
 * of results held for review, within the caller's scope.
 *
 * Scope: every operation takes `admin_id`, the caller's user id when the caller is a
 * test-center administrator (only the results of the centers they administer and of their
 * sub-centers: store/results_view.h), or NULL for a caller who sees every center (the
 * super-user, the command line). A result out of scope is OP_ENOTFOUND, the same as a result
 * that does not exist. Who the caller is, is the door's to establish (the backoffice's access
 * rules); the scope is applied here, in the query.
 *
 * The score of a result is its test-level outcome SCORE_TOTAL, TOTAL_SCORE or SCORE (the
 * first present, a number), and its maximum SCORE_TOTAL_MAX, MAX_SCORE or MAXSCORE: TAO's
 * names, the demo's and QTI's.
 */
#ifndef OUTPOST_APP_RESULTS_VIEW_H
#define OUTPOST_APP_RESULTS_VIEW_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "instance/instance.h"
#include "store/results_view.h"

/* What the tab asks for; every member but `delivery` may be NULL or "". Borrowed. */
struct app_results_query {
    const char *delivery; /* id or label */
    const char *center;   /* a test center's id */
    const char *status;   /* pending, decrypted, damaged, quarantined, accepted, rejected */
    const char *state;    /* finished, terminated */
    const char *from;     /* YYYY-MM-DD (from 00:00 UTC) or a time stamp: started at or after */
    const char *to;       /* YYYY-MM-DD (that whole day, UTC) or a time stamp: started before */
    const char *search;   /* a part of the test taker's login or label, any case (ASCII) */
    const char *admin_id; /* the scope (above) */
};

/* The query made a store filter: the delivery found, dates and search checked and written as
 * the store wants them. OP_EINPUT naming the field (err_set_field: delivery, center, status,
 * state, from, to, search), OP_ENOTFOUND for an unknown delivery. */
struct app_results_filter {
    struct results_filter f;
    char delivery_id[UUID_STR_LEN];
    char *delivery_label;
    char from[TIMESTAMP_STR_LEN], to[TIMESTAMP_STR_LEN];
    char *search;
    char after_started[TIMESTAMP_STR_LEN], after_id[UUID_STR_LEN]; /* a page's cursor */
};
int app_results_filter_make(struct instance *inst, const struct app_results_query *q,
                            struct app_results_filter *out, struct op_err *e);
/* The checks of app_results_filter_make that need no database (fuzzed by
 * tests/fuzz/fuzz_bo_results.c), and of a page cursor `after` (NULL: none): *out filled but
 * for the delivery's id and label; clear it on every path. */
int app_results_query_parse(const struct app_results_query *q, const char *after,
                            struct app_results_filter *out, struct op_err *e);
void app_results_filter_clear(struct app_results_filter *f);

/* The score and maximum of test-level outcomes (a JSON object; may be NULL): 1 with *score
 * set (and *max, or NAN when none) when one is found, else 0. */
int app_results_score(const json_t *outcomes, double *score, double *max);

/* The JSON form of a row of the tab:
 * {id, execution_id, delivery_id, test_taker: {id, login, label}, center: {id, label} | null,
 *  device: {id, label}, state, status, review, review_reason, problem, quarantined,
 *  started_at, ended_at, received_at, decrypted_at, score, max_score, outcomes}
 * (score, max_score, outcomes null until decrypted or when absent). */
json_t *app_results_row_json(const struct results_view_row *v);

/* A page of the tab: {"delivery": {id, label}, "total": N (on the first page; null on the
 * pages after it), "results": [row...], "next": cursor | null}. `after` is the "next" of the
 * previous page (NULL or "": the first page); limit 1 .. 500 (0: 50). *out is the caller's. */
int app_results_page(struct instance *inst, const struct app_results_query *q, const char *after,
                     int limit, json_t **out, struct op_err *e);

/* Calls fn for every result the query selects, newest first, a page at a time (no statement
 * open during the call; memory bounded by a page whatever the number of results). A non-zero
 * return of fn stops the walk and is returned. */
typedef int (*app_results_row_fn)(const struct results_view_row *v, void *ctx);
int app_results_each(struct instance *inst, const struct app_results_filter *f,
                     app_results_row_fn fn, void *ctx, struct op_err *e);

/* The check of an execution's audit log as it travels in a sealed result ("audit", an array
 * of {seq, at, actor_id, actor_role, action, from, to, detail, prev_hash, hash}) against the
 * execution's id: each hash recomputed (store/executions.h, audit_canonical), each prev_hash
 * the hash before it, seq 1, 2, ... 0 when it holds; else 1 with *bad the seq (1-based
 * position) of the first entry that does not hold and `why` saying what is wrong. */
#define APP_AUDIT_WHY_MAX 256
int app_results_audit_check(const json_t *audit, const char *execution_id, int64_t *bad,
                            char why[APP_AUDIT_WHY_MAX]);

/* The items of a result's outcome (its "outcome" member) as an array in the route's order,
 * then any not on the route, each a copy of the item with its "key" added. New reference. */
json_t *app_results_items_json(const json_t *outcome);

/* One result in full: the row's JSON (app_results_row_json) plus "delivery_label",
 * "outcome_partial" (a terminated test's scores so far), "items" ([{key, identifier,
 * responses, outcomes, duration}] in the route's order; null until decrypted; a file response
 * as {"file": true, "name", "type", "size", "sha256"}, its bytes from app_results_file), and
 * "audit": {"entries": [...], "verified": true|false, "broken_at": seq | null, "problem":
 * text | null} (null until decrypted). OP_ENOTFOUND for an unknown result or one out of scope. */
int app_results_detail(struct instance *inst, const char *id, const char *admin_id, json_t **out,
                       struct op_err *e);

/* A file a test taker gave (an upload or a drawing) in result `id`: the response `response`
 * of item `item` (its key on the route), as decrypt-results opened it. Scoped as
 * app_results_detail; OP_ENOTFOUND (naming what) for an unknown or out-of-scope result, one
 * not decrypted, an unknown item or response, or a response that is not a file. The caller
 * frees the members (app_result_file_clear). */
struct app_result_file {
    unsigned char *data;
    size_t len;
    char *type; /* as the device kept it */
    char *name; /* without folders */
};
void app_result_file_clear(struct app_result_file *f);
int app_results_file(struct instance *inst, const char *id, const char *admin_id, const char *item,
                     const char *response, struct app_result_file *out, struct op_err *e);

/* The score distribution of the results the query selects: {"delivery": {id, label},
 * "results": N, "scored": N, "min", "max", "mean", "max_score" (null when the results
 * disagree or give none), "buckets": [{"from", "to", "count"}]} with `buckets` (1 .. 50; 0:
 * 10) equal ranges from 0 (or the lowest score if below 0) to the maximum score (or the
 * highest score), the last one closed. */
int app_results_distribution(struct instance *inst, const struct app_results_query *q, int buckets,
                             json_t **out, struct op_err *e);

/* Accept or reject (reason may be NULL) a result held for review, as app_results_accept and
 * app_results_reject, after checking it is in the scope of `admin_id`; a result not held for
 * review, or decided already, is OP_ECONFLICT. */
int app_results_review(struct instance *inst, const char *id, const char *admin_id, int accept,
                       const char *reason, struct op_err *e);

/* The body of a review through the API: for a rejection, {} or {"reason": text of at most
 * APP_REVIEW_REASON_MAX bytes} (*reason borrowed from `body`, NULL when absent); for an
 * acceptance, {} only. OP_EINPUT naming the member otherwise (fuzzed by fuzz_bo_results). */
int app_results_review_body(const json_t *body, int accept, const char **reason, struct op_err *e);

/* After decryption (app/results.c, inside its transaction): records the result's test-level
 * outcomes and test center (results_set_summary) from its decrypted JSON. */
int app_results_summarise(struct db *db, const char *id, const char *result_json, struct op_err *e);

#endif
