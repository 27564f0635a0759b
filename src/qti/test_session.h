/*
 * test_session.h - one candidate's session with a whole test: the route (built from a seed by
 * selection and ordering), the current item, submissions through the item sessions
 * (item_session.h), navigation as the test part allows, attempts and skipping, preconditions
 * and branch rules, time limits, and test-level outcome processing.
 *
 * The session never reads a clock: every call that may spend time takes `now` (seconds, any
 * epoch, never decreasing), so the device runner passes its own clock and tests control time.
 * Time between two calls is added to the current item (and so to its sections, its part and
 * the test); limits are checked against those sums.
 *
 * Rules, as QTI 2.1 "Tests" says:
 *  - linear parts move forward only (qti_test_session_next); nonlinear parts also allow
 *    previous and jump inside the part. A new part cannot be left for an earlier one.
 *  - allowSkipping false (individual submission only, items with a response variable): a
 *    submission whose responses are all NULL or their default values is refused (OP_EINPUT,
 *    naming the item), and in a linear part moving on from an item not submitted is refused;
 *  - in a linear part, moving on from an item whose minTime is not reached is refused;
 * preconditions of an item, section or part are evaluated when the route reaches it (a false one
 * skips it), and the branch rules of an item (then of the sections and part it ends) when the
 * candidate leaves it. Those of items and sections are ignored inside nonlinear parts; a
 * nonlinear part's own preCondition and branchRule are not.
 *  - maxAttempts (0 = unlimited) bounds the submissions of an item; an adaptive item ends
 *    when it says it is completed.
 *  - submissionMode simultaneous keeps the responses and submits them all when the part ends.
 *  - a maxTime that is over refuses submissions (unless allowLateSubmission) but still lets
 *    the candidate move on; when the test's or a part's maxTime is over, moving on ends it.
 *  - outcomeProcessing runs after each submission and when the test ends; test-level
 *    expressions read item variables as "KEY.VAR" (KEY: the route key of an occurrence, see
 *    test.h, or an item ref identifier: for an item selected several times in a simultaneous
 *    part, the occurrence submitted last) and numberCorrect, testVariables, outcomeMaximum...
 *    through item_subset. VAR is the name after the item ref's variableMappings.
 *  - an item session starts when its item is first presented, with the item ref's
 *    templateDefaults evaluated then, in the test's context.
 *
 * Ownership: the session borrows the test and the items (they must outlive it).
 */
#ifndef OUTPOST_QTI_TEST_SESSION_H
#define OUTPOST_QTI_TEST_SESSION_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "qti/item.h"
#include "qti/test.h"

struct qti_test_session; /* opaque */

/* Gives the item an item ref points to (borrowed; it must outlive the session); NULL with
 * *e filled if it has none. */
typedef const struct qti_item *(*qti_item_lookup)(void *ud, const struct qti_node *ref,
                                                  struct op_err *e);

/* Starts a session at time `now`: builds the route for `seed`, and moves to the first item
 * whose preconditions hold (the session may end at once if none does). */
int qti_test_session_start(const struct qti_test *t, qti_item_lookup lookup, void *ud,
                           uint64_t seed, double now, struct qti_test_session **out,
                           struct op_err *e);
void qti_test_session_free(struct qti_test_session *s);

/* 1 once the test has ended. */
int qti_test_session_ended(const struct qti_test_session *s);
/* The route position of the current item, or -1 when the test has ended. */
int qti_test_session_position(const struct qti_test_session *s);
const struct qti_route *qti_test_session_route(const struct qti_test_session *s);
/* The route key of the current item ("Q01"), or NULL when the test has ended. */
const char *qti_test_session_current_key(const struct qti_test_session *s);
/* The item session of route position `i` (NULL if that item was never presented). */
const struct qti_item_session *qti_test_session_item(const struct qti_test_session *s, size_t i);

/* Submits `responses` (JSON object, see item_session.h; NULL = all empty) to the current
 * item. OP_ECONFLICT when attempts are used up or a time limit is over; OP_EINPUT when a
 * response does not fit (the message names the item and the variable), is invalid with
 * validateResponses (*invalid as in item_session.h), or is empty where allowSkipping is
 * false. */
int qti_test_session_submit(struct qti_test_session *s, const json_t *responses, double now,
                            json_t **invalid, struct op_err *e);

/* Moves to the next item the route allows (branch rules, preconditions), ending parts and
 * finally the test. */
int qti_test_session_next(struct qti_test_session *s, double now, struct op_err *e);
/* Nonlinear parts only: the previous item, or route position `pos` in the current part. */
int qti_test_session_previous(struct qti_test_session *s, double now, struct op_err *e);
int qti_test_session_jump(struct qti_test_session *s, size_t pos, double now, struct op_err *e);
/* Ends the test now (the candidate or a proctor finishes early); outcome processing runs. */
int qti_test_session_finish(struct qti_test_session *s, double now, struct op_err *e);

/* Time spent so far on the test, as the session counts it. */
double qti_test_session_duration(const struct qti_test_session *s);

/* Extra time granted to this candidate (a proctor's decision, seconds): it lengthens the
 * maxTime of the test and of its test parts (not those of sections or items). It is not part
 * of the saved state: the device runner keeps it and sets it after every restore. */
void qti_test_session_set_extra_time(struct qti_test_session *s, double seconds);

/* The time left at `now` before the nearest maxTime that applies to the current item (its
 * own, its sections', its part's, the test's; extra time included), never below 0: 1 with
 * *left set, 0 when no limit applies or the test has ended. Changes nothing. */
int qti_test_session_time_left(const struct qti_test_session *s, double now, double *left);
/* 1 if at `now` the maxTime of the test or of the current test part (extra time included)
 * is over: qti_test_session_next then closes the part or ends the test. Changes nothing. */
int qti_test_session_over(const struct qti_test_session *s, double now);

/* A test outcome variable (borrowed), NULL if NULL or unknown. */
const struct qti_value *qti_test_session_outcome(const struct qti_test_session *s,
                                                 const char *identifier);
/* All test outcome variables as {"TOTAL_SCORE": 2, ...} (new reference). */
json_t *qti_test_session_outcomes_json(const struct qti_test_session *s);
/* The keys of the route entries the candidate was presented, in order (new array). */
json_t *qti_test_session_route_taken_json(const struct qti_test_session *s);

/* Saves the whole state (new reference) and restores it with the same test, items and
 * lookup: a device saves after every step and resumes after a crash where it was. */
json_t *qti_test_session_save(const struct qti_test_session *s);
int qti_test_session_restore(const struct qti_test *t, qti_item_lookup lookup, void *ud,
                             const json_t *state, struct qti_test_session **out, struct op_err *e);

#endif
