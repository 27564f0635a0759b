/*
 * take.h - a test taker taking a test on the device: the steps of the runner API
 * (docs/api.md, "Test taker"; docs/runner.md) over an execution (app/executions.h) and the
 * runner (app/runner.h). The HTTP doors (src/http/api_take.c) call these and nothing else.
 *
 * Every step:
 *  - reads the execution for the caller (OP_EFORBIDDEN when it is another test taker's,
 *    OP_ENOTFOUND when there is none);
 *  - acts only while it is active (OP_ECONFLICT, field "state", otherwise: awaiting
 *    authorization, authorized, paused or ended), except GET, which then answers a null view;
 *  - opens the package with the caller's vault key (runner_package_open, through the server's
 *    cache), sets the runner's clock from the execution's (time counted only while active,
 *    the proctor's extra time), runs the step, and saves the runner's state in one
 *    compare-and-set transaction (app_execution_save): a proctor who paused meanwhile wins,
 *    and the step is refused (OP_ECONFLICT) with nothing saved;
 *  - when the test has ended - finished by the test taker, or its time over - finishes the
 *    execution with the runner's result sealed into the outbox in the same transaction
 *    (app_execution_finish).
 * `now` is the device's clock (base/clock.h), in seconds.
 */
#ifndef OUTPOST_APP_TAKE_H
#define OUTPOST_APP_TAKE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app/runner.h"
#include "base/buf.h"
#include "base/err.h"
#include "instance/instance.h"

/* The caller: a test taker's id and the vault key pair their login unwrapped (NULL: none,
 * and nothing can be opened: OP_EFORBIDDEN). */
struct app_taker {
    const char *id;
    const unsigned char *vault_pk;
    const unsigned char *vault_sk;
};

/* GET /api/v1/executions/{id}: {"execution": <execution>, "view": <runner view> | null}. An
 * active execution without a session yet starts it here. *out is the caller's. */
int app_take_get(struct instance *device, struct runner_cache *cache, const struct app_taker *who,
                 const char *id, double now, json_t **out, struct op_err *e);

/* POST .../responses, .../move ({"execution", "view"}) and .../finish ({"execution"}), with
 * the request body as parsed JSON (runner_request_parse checks it). */
int app_take_step(struct instance *device, struct runner_cache *cache, const struct app_taker *who,
                  const char *id, enum runner_op op, const json_t *body, double now, json_t **out,
                  struct op_err *e);

/* POST .../begin and .../cancel {"version": n} (the version the page saw): an authorized
 * execution begins (becomes active), one not yet begun is canceled, by its test taker
 * (app_execution_begin, app_execution_cancel). -> {"execution"}. */
enum app_take_transition { APP_TAKE_BEGIN, APP_TAKE_CANCEL };
/* The body {"version": n} (n >= 1, nothing else): 0 and *version, or OP_EINPUT. */
int app_take_version_parse(const json_t *body, int64_t *version, struct op_err *e);
int app_take_transition(struct instance *device, const struct app_taker *who, const char *id,
                        enum app_take_transition what, const json_t *body, json_t **out,
                        struct op_err *e);

/* GET .../pci/<entry>: the sandboxed frame document of the PCI whose entry module is `entry`
 * (app/pci_frame.h), for an active execution of the caller's: the page (html) and its
 * Content-Security-Policy (csp), appended to. `shim` is web/pci-frame.js. */
int app_take_pci_frame(struct instance *device, struct runner_cache *cache,
                       const struct app_taker *who, const char *id, const char *entry,
                       const char *shim, size_t shim_len, struct buf *html, struct buf *csp,
                       struct op_err *e);

/* GET .../assets/<path>: a file of the execution's package, while the execution is active and
 * the caller's. *pkg holds the bytes (runner_package_release it after sending). */
int app_take_asset(struct instance *device, struct runner_cache *cache, const struct app_taker *who,
                   const char *id, const char *path, struct runner_package **pkg,
                   const unsigned char **data, size_t *len, const char **type, struct op_err *e);

/* An app_exec_outcome_fn (app/executions.h) for an execution a proctor terminates: the
 * partial result its saved session holds (runner_state_partial_result), or NULL when it has
 * none (or one the runner cannot read: a termination is never refused for it). */
struct execution_row;
int app_take_outcome(struct instance *device, const struct execution_row *row, char **outcome,
                     struct op_err *e);

#endif
