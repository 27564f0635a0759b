/*
 * executions.h - delivery executions on a device (issue 12; TAO's states, prior-art §4): who
 * may start one, who may change its state, and how it ends sealed in the outbox.
 *
 * States and transitions (every one a compare-and-set on (id, version), store/executions.h,
 * so two proctors, or a proctor and a test taker, acting on the same version cannot both
 * win: the second gets OP_ECONFLICT and changes nothing):
 *
 *   (start)  -> awaiting_authorization   test taker; the eligibility is proctored
 *   (start)  -> active                   test taker; not proctored
 *   awaiting_authorization -> authorized proctor "authorize"
 *   authorized -> active                 test taker "begin" (app_execution_begin)
 *   active, authorized -> paused         proctor "pause" (the clock stops)
 *   paused -> active                     proctor "resume" (a resume is an authorization)
 *   active -> finished                   test taker (the runner) finishes: result sealed
 *   awaiting_authorization, authorized, active, paused -> terminated
 *                                        proctor "terminate" (a reason may be given): result
 *                                        sealed
 *   awaiting_authorization, authorized -> canceled
 *                                        test taker cancels before the test started
 *   extra time, irregularity             proctor, on any state that has not ended (an
 *                                        irregularity needs a reason); the state stays; an ended
 * execution is never reopened (TAO's extra time reopened finished tests at item 0, D7)
 *
 * Who: a test taker starts only a delivery of an eligibility the device holds (synced from
 * central) that lists them in that center, and no more executions of a delivery than its
 * max_executions (canceled ones do not count); one that has not ended must be resumed, not
 * started again (OP_ECONFLICT). A test taker acts only on their own executions
 * (OP_EFORBIDDEN). A proctor acts only on the executions of a center whose synced record lists
 * them as proctor or administrator (OP_EFORBIDDEN otherwise, whatever the execution id).
 *
 * The clock: time is counted only while active (consumed + now - active_since), on the
 * device's clock (base/clock.h); time_left = time_limit + extra_time - used, or -1 without a
 * limit. The runner sets the limit (app_execution_save).
 *
 * The audit log: every state change and proctor action appends an entry to the execution's
 * hash chain in the same transaction. Finishing or terminating seals the result in the
 * same transaction too: the execution, the runner's session, its outcome and the whole audit
 * chain (docs/api.md, "The sealed result") go into an envelope (crypto/envelope.h) sealed to
 * central's results key and signed by the device, queued in the outbox (app/outbox.h). If
 * anything fails, nothing of it happened: no state change, no entry, no envelope.
 *
 * Every operation checks that the instance is a device. Device only, never prints.
 */
#ifndef OUTPOST_APP_EXECUTIONS_H
#define OUTPOST_APP_EXECUTIONS_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/vault.h"
#include "instance/instance.h"
#include "store/executions.h"

enum app_exec_state {
    EXEC_AWAITING_AUTHORIZATION,
    EXEC_AUTHORIZED,
    EXEC_ACTIVE,
    EXEC_PAUSED,
    EXEC_FINISHED,
    EXEC_TERMINATED,
    EXEC_CANCELED,
    EXEC_STATE_COUNT
};

/* "awaiting_authorization", ... (the contract's and the table's names). */
const char *app_exec_state_name(int s);
/* The state named `name`, or -1. */
int app_exec_state_of(const char *name);
/* 1 for finished, terminated and canceled. */
int app_exec_state_ended(int s);

#define APP_EXEC_LABEL_MAX 512
/* The most executions a list returns (a test taker's, a center's). */
#define APP_EXEC_LIST_MAX   500
#define APP_EXEC_EXTRA_MAX  86400 /* seconds of extra time one action may add */
#define APP_EXEC_REASON_MAX 1000

/* An execution as the application returns it. */
struct app_execution {
    struct execution_row row;
    char delivery_label[APP_EXEC_LABEL_MAX];
    char test_taker_label[APP_EXEC_LABEL_MAX]; /* the login, or the label when it could be read */
    int proctored;
    int64_t time_left; /* seconds at the time it was read; -1: no limit */
};
void app_execution_clear(struct app_execution *x);

/* <execution> of docs/api.md: id, delivery_id, delivery_label, test_taker_id,
 * test_taker_label, center_id, state, version, position, item_count, time_left (null without
 * a limit), started_at, updated_at, ended_at (null until then). */
json_t *app_execution_json(const struct app_execution *x);

/* The time left of `row` at `now` (-1 without a limit; never below 0). */
int64_t app_execution_time_left(const struct execution_row *row, int64_t now);

/* Who reads: a user id and, to read the labels sealed to them (profiles, docs/security.md
 * §5), their unwrapped vault key pair (both NULL: labels are logins). The web session holds
 * the pair. */
struct app_exec_viewer {
    const char *user_id;
    const unsigned char *vault_pk; /* VAULT_PUBLIC_BYTES, or NULL */
    const unsigned char *vault_sk; /* VAULT_SECRET_BYTES, or NULL */
};

/* ---- test taker ---- */

/* GET /api/v1/my/deliveries: {"deliveries": [{delivery_id, label, center_id, center_label,
 * proctored, max_executions (null: unlimited), executions: [<execution>...]}]}, one entry per
 * (center, delivery) of an eligibility that lists `taker`. *out is the caller's. */
int app_my_deliveries(struct instance *device, const char *taker, json_t **out, struct op_err *e);

/* Starts an execution of `delivery_id` in `center_id` for `taker` (see the rules above). */
int app_execution_start(struct instance *device, const char *taker, const char *delivery_id,
                        const char *center_id, struct app_execution *out, struct op_err *e);

/* Execution `id` of `taker` with its session (row.session): OP_ENOTFOUND if there is none,
 * OP_EFORBIDDEN if it is another test taker's. */
int app_execution_get_for_taker(struct instance *device, const char *taker, const char *id,
                                struct app_execution *out, struct op_err *e);

/* authorized -> active, by its test taker, if still at `version`. */
int app_execution_begin(struct instance *device, const char *taker, const char *id, int64_t version,
                        struct app_execution *out, struct op_err *e);

/* awaiting_authorization or authorized -> canceled, by its test taker, at `version`. */
int app_execution_cancel(struct instance *device, const char *taker, const char *id,
                         int64_t version, struct app_execution *out, struct op_err *e);

/* What the runner saves after every response or move. */
struct app_exec_save {
    int64_t position;
    int64_t item_count;
    const char *session; /* the runner's state (opaque text, at most EXEC_SESSION_MAX) */
    int64_t time_limit;  /* seconds, 0: none; -1: leave as it is */
};

/* Saves the runner's state of `taker`'s active execution `id` at `version` in one
 * transaction (compare-and-set: OP_ECONFLICT if the version moved, e.g. a proctor paused it;
 * OP_ECONFLICT "not active" in any other state; OP_ECONFLICT "the time is up" once the time
 * left is 0: the runner finishes it instead). *out gets the execution after the save (its
 * new version). */
int app_execution_save(struct instance *device, const char *taker, const char *id, int64_t version,
                       const struct app_exec_save *s, struct app_execution *out, struct op_err *e);

/* active -> finished by its test taker at `version`, saving `s` (NULL: the state as saved)
 * and sealing the result with `outcome` (a JSON text: the runner's scores and variables; NULL:
 * none) in the same transaction (see above). Allowed after the time is up. */
int app_execution_finish(struct instance *device, const char *taker, const char *id,
                         int64_t version, const struct app_exec_save *s, const char *outcome,
                         struct app_execution *out, struct op_err *e);

/* The body of POST /api/v1/executions: exactly {"delivery_id", "center_id"}, both ids
 * (UUIDs). OP_EINPUT, with the field, for anything else (an unknown member included: a
 * tampered form is refused, not half-read). */
struct app_exec_start_body {
    char delivery_id[EXEC_ID_LEN];
    char center_id[EXEC_ID_LEN];
};
int app_exec_start_body_parse(const json_t *body, struct app_exec_start_body *out,
                              struct op_err *e);

/* ---- proctor ---- */

enum app_proctor_action {
    PROCTOR_AUTHORIZE,
    PROCTOR_PAUSE,
    PROCTOR_RESUME,
    PROCTOR_TERMINATE,
    PROCTOR_EXTRA_TIME,
    PROCTOR_IRREGULARITY,
    PROCTOR_ACTION_COUNT
};
/* "authorize", "pause", "resume", "terminate", "extra-time", "irregularity" (the URL's). */
const char *app_proctor_action_name(int a);
int app_proctor_action_of(const char *name);

/* Builds the outcome of an execution a proctor terminates, from its saved session (the
 * runner scores what was answered): *outcome is a malloc'ed JSON text or NULL (none). */
typedef int (*app_exec_outcome_fn)(struct instance *device, const struct execution_row *row,
                                   char **outcome, struct op_err *e);

struct app_proctor_request {
    enum app_proctor_action action;
    int64_t version;             /* the version the proctor saw */
    int64_t seconds;             /* extra-time: 1 .. APP_EXEC_EXTRA_MAX */
    const char *reason;          /* terminate, irregularity: required, 1 .. APP_EXEC_REASON_MAX */
    app_exec_outcome_fn outcome; /* terminate: may be NULL (the result holds the session) */
};

/* The body of POST /api/v1/proctor/executions/{id}/{action}: {"version": n (required, >= 1),
 * "seconds": n (extra-time only, required there), "reason": "..." (terminate, irregularity;
 * required for irregularity)}; no other member. Fills *out (its reason points into `body`,
 * outcome NULL) for `action`. OP_EINPUT with the field otherwise. */
int app_proctor_body_parse(const json_t *body, enum app_proctor_action action,
                           struct app_proctor_request *out, struct op_err *e);

/* Applies a proctor's action to execution `id` (see above). OP_EFORBIDDEN when `proctor` is
 * not staff of the execution's center (also for an unknown id of another center: it is
 * answered as OP_ENOTFOUND only when no such execution exists); OP_ECONFLICT for a stale
 * version or a state the action does not apply to; OP_EINPUT for bad seconds or reason. */
int app_execution_proctor_act(struct instance *device, const struct app_exec_viewer *proctor,
                              const char *id, const struct app_proctor_request *req,
                              struct app_execution *out, struct op_err *e);

/* GET /api/v1/proctor/executions: {"executions": [<execution>...]} of the centers where
 * `proctor` is staff, newest first (at most APP_EXEC_LIST_MAX per center). */
int app_proctor_executions(struct instance *device, const struct app_exec_viewer *proctor,
                           json_t **out, struct op_err *e);

/* 1 if `user` is proctor or administrator of center `center_id` on this device. */
int app_exec_is_center_staff(struct db *db, const char *center_id, const char *user, int *is,
                             struct op_err *e);

/* For the tests: every transaction that seals a result fails (OP_EIO) after queuing the
 * envelope, as a crash before its commit would (1 on, 0 off). */
void app_executions_fail_before_commit(int on);

/* ---- the audit log ---- */

/* Checks execution `id`'s audit chain: *bad 0 when every entry holds, else the seq of the
 * first that does not. */
int app_execution_audit_verify(struct instance *device, const char *id, int64_t *bad,
                               struct op_err *e);

/* The audit entries as JSON: [{seq, at, actor_id, actor_role, action, from, to, detail,
 * prev_hash, hash}...] (what the sealed result carries). */
json_t *app_execution_audit_json(const struct audit_entry *v, int n);

#endif
