/*
 * item_session.h - one candidate's session with one item: template values, attempts,
 * responses, outcomes, and which feedback is visible.
 *
 * Life of a session (QTI 2.1 information model, item session lifecycle):
 *   qti_item_session_new       runs templateProcessing with the session's seed (retrying up
 *                              to 100 times while a templateConstraint fails, then keeping
 *                              the defaults as the specification asks); outcomes take their
 *                              defaults; completionStatus "not_attempted".
 *   qti_item_session_present   the candidate saw the item (completionStatus "unknown").
 *   qti_item_session_submit    ends an attempt: types the responses by their declarations,
 *                              optionally validates them (validateResponses), counts the
 *                              attempt (numAttempts), adds the time spent (duration), runs
 *                              responseProcessing; for a non-adaptive item completionStatus
 *                              becomes "completed", an adaptive item sets it itself.
 *   qti_item_session_view      what the runner shows now: choice order, printed variables,
 *                              visible templates and feedback (with the feedback content).
 *
 * The seed makes every random step (template values, shuffling, the random operators of
 * response processing) reproducible: the same item, seed and responses give the same
 * outcomes.
 *
 * Responses are JSON as in `outpost qti run`: identifier/string -> string, multiple/ordered
 * -> array, pair/directedPair -> "A B", point -> "x y", integer/float -> number, boolean ->
 * true/false, null or absent -> no response.
 */
#ifndef OUTPOST_QTI_ITEM_SESSION_H
#define OUTPOST_QTI_ITEM_SESSION_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "qti/item.h"
#include "qti/value.h"

struct qti_item_session; /* opaque */

/* Starts a session for `item` (borrowed: it must outlive the session) and `seed`. */
int qti_item_session_new(const struct qti_item *item, uint64_t seed, struct qti_item_session **out,
                         struct op_err *e);
/* A template variable's default given by the test (QTI 2.1 templateDefault of the item ref,
 * evaluated by the caller in the test's context). */
struct qti_template_value {
    const char *identifier;
    const struct qti_value *value; /* NULL = QTI NULL */
};

/* The same, with the defaults of some template variables overridden: template processing
 * starts from them (and from them again on each templateConstraint retry), and they remain
 * the variables' defaults. OP_EINPUT, naming the variable, when one is not a template
 * variable of the item or its value does not fit the declaration. Values are copied. */
int qti_item_session_new_with_defaults(const struct qti_item *item, uint64_t seed,
                                       const struct qti_template_value *defaults, size_t ndefaults,
                                       struct qti_item_session **out, struct op_err *e);
void qti_item_session_free(struct qti_item_session *s);

/* Marks the item as presented to the candidate. */
void qti_item_session_present(struct qti_item_session *s);

/* Options of one submission (itemSessionControl of the test, and the clock of the runner). */
struct qti_submit_opts {
    int validate_responses;  /* refuse responses the interactions do not accept */
    double duration_seconds; /* time spent on the item since the last submission */
};

/* Submits an attempt with `responses` (a JSON object: response identifier -> value; a
 * response it does not mention is submitted empty; NULL = all empty).
 *  - A value that does not fit its declaration, or an unknown response identifier, is refused
 *    with OP_EINPUT: "item Q01, response RESPONSE: expected an array of identifiers (multiple
 *    identifier), got a number". Nothing changes.
 *  - With opts->validate_responses, responses an interaction does not accept are refused with
 *    OP_EINPUT, nothing changes, and *invalid (if not NULL) receives a new JSON array
 *    [{"response": "RESPONSE", "rule": "maxChoices", "message": "Select at most 2 answers."}]
 *    the caller frees.
 *  - Otherwise the attempt is counted, responseProcessing runs and completionStatus is
 *    updated. An error in responseProcessing (e.g. a type error in a broken item) fails
 *    with OP_EINPUT naming the item.
 * A submission is all or nothing: whenever it fails, the session is exactly as before
 * (attempts, duration, responses, outcomes, completion status, random stream). Submitting to a
 * completed non-adaptive item is allowed (a new attempt, as with maxAttempts > 1); an adaptive item
 * whose completionStatus is "completed" refuses further attempts with OP_ECONFLICT. */
int qti_item_session_submit(struct qti_item_session *s, const json_t *responses,
                            const struct qti_submit_opts *opts, json_t **invalid, struct op_err *e);

/* A deep copy of the session (new, the caller frees it; same item, borrowed). Always 0. */
int qti_item_session_clone(const struct qti_item_session *s, struct qti_item_session **out);
/* Exchanges the states of two sessions of the same item; their addresses stay valid. With
 * clone, lets a caller undo a submission when a later step of its own fails. */
void qti_item_session_swap(struct qti_item_session *a, struct qti_item_session *b);

/* Adds time spent without submitting (the candidate left the item). */
void qti_item_session_add_duration(struct qti_item_session *s, double seconds);

/* State */
const struct qti_item *qti_item_session_item(const struct qti_item_session *s);
int qti_item_session_num_attempts(const struct qti_item_session *s);
double qti_item_session_duration(const struct qti_item_session *s);
/* "not_attempted", "unknown", "incomplete" or "completed" (borrowed). */
const char *qti_item_session_completion_status(const struct qti_item_session *s);
/* 1 once presented. */
int qti_item_session_is_presented(const struct qti_item_session *s);
/* 1 if the last submission gave a response (QTI numberResponded): at least one response
 * variable is not NULL and differs from its default value. 0 before any submission. */
int qti_item_session_is_responded(const struct qti_item_session *s);
/* 1 if the item declares a response variable (built-ins aside): one without any cannot be
 * answered, so it is never held back by allowSkipping. */
int qti_item_session_has_responses(const struct qti_item_session *s);
/* Whether submitting `responses` would count as a response in the sense above (*responded
 * 1) or as skipping the item (0: every response NULL or its default value). Changes
 * nothing; OP_EINPUT, as qti_item_session_submit, when a value does not fit. */
int qti_item_session_would_respond(struct qti_item_session *s, const json_t *responses,
                                   int *responded, struct op_err *e);
/* 1 if the item can be judged and every response variable matches its correct response
 * (QTI "correct": same value, multiple compared as sets, ordered as sequences); 0
 * otherwise. */
int qti_item_session_is_correct(const struct qti_item_session *s);
/* 1 if the item can be judged correct or incorrect: it declares a response variable and
 * every response variable it declares has a correctResponse (QTI 2.1 numberCorrect: "Only
 * items for which all declared response variables have correct responses defined are
 * considered"). An item with a right-or-wrong choice and a free-text comment cannot. */
int qti_item_session_is_judgeable(const struct qti_item_session *s);

/* A variable (response, outcome, template, or built-in duration/numAttempts/
 * completionStatus) by identifier, for test-level expressions and result reporting; NULL
 * if the item declares no such variable. Borrowed: valid until the next submission. */
const struct qti_value *qti_item_session_variable(const struct qti_item_session *s,
                                                  const char *identifier);
/* The same as typed JSON (new reference): numbers for integer/float/duration, strings for
 * identifier/string/uri, "A B" for pairs, "x y" for points, arrays for multiple/ordered,
 * objects for records, null for NULL. NULL if no such variable. */
json_t *qti_item_session_variable_json(const struct qti_item_session *s, const char *identifier);

/* All outcome variables (built-ins included) as one JSON object {"SCORE": 1, ...} (new). */
json_t *qti_item_session_outcomes_json(const struct qti_item_session *s);
/* All response variables as JSON (new): {"RESPONSE": ["A", "C"], ...}. */
json_t *qti_item_session_responses_json(const struct qti_item_session *s);

/* 1 if the feedback element `key` ("fb0", see item.h) is visible given the current outcome
 * values: showHide="show" shows it when its identifier is the value (or a member of the
 * container value) of its outcomeIdentifier, showHide="hide" hides it then. Modal feedback
 * is only shown after a submission. */
int qti_item_session_feedback_visible(const struct qti_item_session *s, const char *key);

/* What the runner shows now (new JSON object, caller frees):
 * {"order": {"RESPONSE": ["C", "A", "B"]},            choice order per interaction
 *  "hiddenChoices": {"RESPONSE": ["B"]},               choices hidden by templateIdentifier
 *  "printed": {"pv0": "3"},                            printedVariable values as text (not
 *                                                      those inside hidden feedback)
 *  "templates": {"tb0": true},                         templateBlock/Inline visibility
 *  "feedback": {"fb1": "<p>...</p>"},                  visible feedbackBlock/Inline content
 *  "modal": [{"title": "...", "html": "..."}],         visible modalFeedback
 *  "completionStatus": "...", "numAttempts": 1}
 * `show_feedback` = 0 (itemSessionControl showFeedback false) leaves feedback and modal
 * empty. Never includes correct responses. */
json_t *qti_item_session_view(const struct qti_item_session *s, int show_feedback);

/* Saves the whole session state as JSON (new), and restores it for the same item: a device
 * saves after every step and resumes after a crash. Restore refuses state from another item
 * or a document that does not fit. */
json_t *qti_item_session_save(const struct qti_item_session *s);
int qti_item_session_restore(const struct qti_item *item, const json_t *state,
                             struct qti_item_session **out, struct op_err *e);

#endif
