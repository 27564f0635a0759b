/*
 * eligibilities.h - eligibilities: which test takers may sit which delivery at which test
 * center, and whether a proctor must authorise them. One eligibility per (test center,
 * delivery) pair; only users with the role test-taker can be in one.
 *
 * Invariants kept here:
 *  - an eligibility's version is bumped whenever its test takers or its proctored flag
 *    change, and only then (setting the same list again writes nothing);
 *  - the change feed (feed.h) is current after every write: a test taker added to an
 *    eligibility enters the organisation's feed, one removed from the last eligibility of an
 *    organisation leaves it as a tombstone; a delivery is in an organisation's feed while an
 *    eligibility of that organisation names it.
 *
 * All writes must run inside a transaction the caller opened (db_begin).
 */
#ifndef OUTPOST_STORE_ELIGIBILITIES_H
#define OUTPOST_STORE_ELIGIBILITIES_H

#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "store/db.h"
#include "store/idlist.h"

/* For eligibilities_set's `proctored`: a new eligibility takes the delivery's
 * proctored_default, an existing one keeps its setting. */
#define ELIGIBILITY_PROCTORED_KEEP (-1)

/* Parses "yes" or "no" (any case) into 1 or 0; -1 for anything else. */
int eligibilities_parse_proctored(const char *s);

enum eligibility_outcome { ELIGIBILITY_UNCHANGED, ELIGIBILITY_CREATED, ELIGIBILITY_UPDATED };

struct eligibility {
    char id[UUID_STR_LEN];
    char center_id[UUID_STR_LEN];
    char delivery_id[UUID_STR_LEN];
    char *center_label;   /* read from the center, for display */
    char *delivery_label; /* read from the delivery, for display */
    int proctored;
    int64_t version;
    char created_at[TIMESTAMP_STR_LEN];
    char updated_at[TIMESTAMP_STR_LEN];
};

/* Frees the strings a struct eligibility owns and zeroes it. */
void eligibility_clear(struct eligibility *el);

/* Creates the eligibility of (center_id, delivery_id) with the `n` test takers of
 * `user_ids` (duplicates counted once), or replaces the test takers of the existing one.
 * `proctored`: 1, 0 or ELIGIBILITY_PROCTORED_KEEP. Every user must exist and be a
 * test-taker. *outcome (may be NULL) says what happened; id_out (may be NULL) receives the
 * eligibility's id. */
int eligibilities_set(struct db *db, const char *center_id, const char *delivery_id,
                      const char *const *user_ids, int n, int proctored,

                      enum eligibility_outcome *outcome, char id_out[UUID_STR_LEN],
                      struct op_err *e);

/* Reads an eligibility by id, or by its (center, delivery) pair; OP_ENOTFOUND if none. The
 * caller owns *out (eligibility_clear). */
int eligibilities_get(struct db *db, const char *id, struct eligibility *out, struct op_err *e);
int eligibilities_get_pair(struct db *db, const char *center_id, const char *delivery_id,
                           struct eligibility *out, struct op_err *e);

/* Gives every eligibility of delivery `delivery_id` a new version with nothing else changed,
 * so that devices get them again: they carry the delivery's content key sealed to each test
 * taker, and the delivery got a new encrypted package (app/content.h). */
int eligibilities_bump_delivery(struct db *db, const char *delivery_id, struct op_err *e);

/* Deletes an eligibility; its test takers leave organisations they are no longer in. */
int eligibilities_delete(struct db *db, const char *id, struct op_err *e);

/* The eligibilities ordered by center label, center id, delivery label, delivery id and id
 * (the key, five parts), a page at a time (db.h); the rows are struct eligibility.
 * eligibilities_cursor opens a cursor on them. */
int eligibilities_page(struct db *db, const struct db_key *after, int limit, struct db_page *out,
                       struct op_err *e);
#define ELIGIBILITIES_CURSOR_PAGE 100
void eligibilities_cursor(struct db_cursor *c);

/* Appends the logins of the test takers of eligibility `id` to *logins, ordered by login. */
int eligibilities_test_takers(struct db *db, const char *id, struct idlist *logins,
                              struct op_err *e);
/* The same list a page at a time (db.h): up to `limit` logins after the login after->col[0];
 * the rows are struct eligibility_test_taker. */
struct eligibility_test_taker {
    char *login;
};
int eligibilities_test_takers_page(struct db *db, const char *id, const struct db_key *after,
                                   int limit, struct db_page *out, struct op_err *e);

#endif
