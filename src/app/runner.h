/*
 * runner.h - a test taker's QTI test session on the device (docs/runner.md): the compiled
 * package opened for that test taker, and the steps of the session - start, view, respond,
 * move, finish, result - run on the server with the QTI engine (qti/test_session.h).
 *
 * The state of a session is plain JSON the caller keeps (the executions store keeps it in a
 * column) and passes back at every step:
 *     {"format": 1, "package_sha256": "<compiled package>", "item_count": n,
 *      "time_limit": <the test's maxTime, s> | null, "started_at": <device clock, s>,
 *      "paused_total": s, "paused_at": <device clock> | null, "extra_time": s,
 *      "ended_at": <device clock> | null, "session": <qti_test_session_save>,
 *      "pci_states": {"<item key>": {"tag", "kept"}} (absent when none)}
 * A step takes (package, state in, the device's clock `now`) and gives a new state when it
 * changed it (*state_out, NULL when nothing changed) and the view. Time is counted on the
 * device's clock only: the engine's clock is `now - started_at - paused_total` (minus the
 * pause in progress), so time paused is never counted, and extra time lengthens the test's
 * and its parts' maxTime. Once the test's (or a part's) maxTime is over, the next step moves
 * on as the test's rules say (a part closes, the test ends) and a response is refused.
 *
 * What the browser is sent (runner_view) is the render model of the current item only, as
 * the compiled package holds it (never a correct response, a mapping, a processing rule or
 * another item), the saved responses of that item, the navigation allowed now and the time
 * left.
 *
 * Errors: OP_ECONFLICT (409) for a step that the session's state refuses, with e->field
 * naming why: "item_key" (not the current item: a stale page), "to" (a move the test's
 * navigation forbids), "ended" (the test has ended), "paused" (the execution is paused),
 * "time" (a time limit is over), "attempts" (no attempt left); OP_EINPUT for a malformed
 * request or responses that do not fit the item's declarations (field "responses");
 * OP_ECRYPTO when the test taker's key does not open the package; OP_ENOTFOUND when the
 * device lacks the delivery, the package or a key for that test taker.
 */
#ifndef OUTPOST_APP_RUNNER_H
#define OUTPOST_APP_RUNNER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/vault.h"
#include "instance/instance.h"
#include "qti/interaction.h"

#define RUNNER_STATE_FORMAT  1
#define RUNNER_CACHE_DEFAULT 16           /* packages a server keeps parsed */
#define RUNNER_PACKAGE_MAX   (256u << 20) /* bytes of a compiled package the runner opens */
#define RUNNER_ITEM_KEY_MAX  256          /* bytes of an item_key in a request */
#define RUNNER_RESPONSES_MAX 256          /* response variables in one request */
/* A PCI's state (getState / getSerializedState): bytes of one interaction's, and of all the
 * states of one request together. */
#define RUNNER_PCI_STATE_MAX  (64u * 1024)
#define RUNNER_PCI_STATES_MAX (256u * 1024)

/* ---- packages ---- */

/* A compiled delivery package, parsed, immutable once loaded and shared between threads
 * (reference counted): the test, its items, the render models and the assets. */
struct runner_package;

/* Parses the compiled package `data` (copied). *out has one reference (runner_package_release). */
int runner_package_from_bytes(const unsigned char *data, size_t len, struct runner_package **out,
                              struct op_err *e);
void runner_package_release(struct runner_package *p);
/* The SHA-256 of the compiled package (hex). */
const char *runner_package_sha256(const struct runner_package *p);
/* The package file at `path` (as item bodies name it, e.g. "assets/planet.svg"): its bytes
 * (borrowed, valid while the package is held) and media type. OP_ENOTFOUND otherwise. */
int runner_package_asset(const struct runner_package *p, const char *path,
                         const unsigned char **data, size_t *len, const char **type,
                         struct op_err *e);

/* The PCI (qti/pci.h) of the package whose entry module is at `entry` (a package path, as
 * the render model's "pci" names it): borrowed, valid while the package is held.
 * OP_ENOTFOUND when no customInteraction of the package has that entry module. */
struct qti_pci;
int runner_package_pci(const struct runner_package *p, const char *entry,
                       const struct qti_pci **out, struct op_err *e);

/* A bounded cache of parsed packages by the compiled package's SHA-256, least recently used
 * evicted; thread-safe. A server owns one. */
struct runner_cache;
int runner_cache_new(size_t capacity, struct runner_cache **out, struct op_err *e);
void runner_cache_free(struct runner_cache *c);
/* How many packages it holds, and how many loads decrypted and parsed a package (tests). */
size_t runner_cache_size(struct runner_cache *c);
unsigned long runner_cache_loads(struct runner_cache *c);

/* The package of delivery `delivery_id` as the device holds it, for test taker
 * `test_taker_id` whose unwrapped vault key pair is (pk, sk): the content key sealed to
 * that test taker in a synchronised eligibility of the delivery is opened, the encrypted
 * package decrypted and checked against the delivery's package hash, then parsed - or taken
 * from `cache` (may be NULL) once the test taker's key has been seen to open it. *out has one
 * reference. OP_ENOTFOUND: no such delivery, no package, no key for that test taker or the
 * file is not on the device (not synchronised yet); OP_ECRYPTO: the key does not open it. */
int runner_package_open(struct instance *device, struct runner_cache *cache,
                        const char *delivery_id, const char *test_taker_id,
                        const unsigned char pk[VAULT_PUBLIC_BYTES],
                        const unsigned char sk[VAULT_SECRET_BYTES], struct runner_package **out,
                        struct op_err *e);

/* ---- the session ---- */

/* Starts a session at `now` with `seed` (selection, ordering, shuffling): *state_out is the
 * state to store (new reference). */
int runner_start(const struct runner_package *p, uint64_t seed, double now, json_t **state_out,
                 struct op_err *e);

/* The view of the current item (new reference; see docs/runner.md):
 *   {"item_key", "position", "item_count", "ended", "item": <render model>,
 *    "session": <qti_item_session_view: choice order, visible feedback, ...>,
 *    "rubrics": [<candidate rubric blocks of its sections>], "responses": {saved},
 *    "navigation": {"previous", "next", "skip", "review", "jump"}, "time_left": s | null,
 *    "pci_states_kept": <what runner_request.pci_kept kept for this item> (absent: none)}
 * with item_key, item, session and responses null once the test has ended. A time limit
 * found over moves on first (*state_out then set, the caller saves it). */
int runner_view(const struct runner_package *p, const json_t *state, double now, json_t **state_out,
                json_t **view, struct op_err *e);

/* A request to the session, as the HTTP body gives it, checked for its shape only (bounded:
 * RUNNER_ITEM_KEY_MAX, RUNNER_RESPONSES_MAX). Borrowed pointers into `body`. */
enum runner_to { RUNNER_TO_NONE = 0, RUNNER_TO_NEXT, RUNNER_TO_PREVIOUS, RUNNER_TO_POSITION };
struct runner_request {
    const char *item_key;
    const json_t *responses; /* object; respond only; NULL when only pci_states are sent */
    /* respond only: {"RESPONSE": "state" | null} of the item's Portable Custom Interactions
     * (each a customInteraction's response, its state at most RUNNER_PCI_STATE_MAX bytes, all
     * at most RUNNER_PCI_STATES_MAX), or NULL. The runner never reads a state: it keeps
     * `pci_kept` for the item in place of the ones it had (NULL: none kept any more), which
     * the caller makes of pci_states (the device seals them to the test taker: app/take.c),
     * and gives it back in the view as "pci_states_kept"; `pci_tag` names those states (the
     * same states, the same tag, whatever pci_kept is: a request whose tag is the one kept
     * changes nothing). Without "responses", the states are kept and nothing is submitted
     * (no attempt is counted). */
    const json_t *pci_states;
    const char *pci_kept;
    const char *pci_tag;
    /* respond only: turns a file the page sent ({"name", "type", "data"}) for upload or
     * drawing interaction `it` into what is kept (app/upload.h: checked and sealed), a new
     * reference in *kept; a refusal's message is for the test taker. NULL: files refused. A
     * file sent without "data" stands for the one the item holds already (the page shows only
     * its name): it must have the same sha256. */
    int (*file_hook)(void *ctx, const struct qti_interaction *it, const json_t *value,
                     json_t **kept, struct op_err *e);
    void *file_ctx;
    enum runner_to to; /* move only */
    size_t position;   /* RUNNER_TO_POSITION */
};
enum runner_op { RUNNER_OP_RESPOND, RUNNER_OP_MOVE, RUNNER_OP_FINISH };
int runner_request_parse(enum runner_op op, const json_t *body, struct runner_request *out,
                         struct op_err *e);

/* Submits the responses of the current item (checked against its declarations, scored on
 * the server). *state_out and *view as runner_view; on a refusal *state_out may still be set
 * (time ran out: the test moved on) and must be saved. */
int runner_respond(const struct runner_package *p, const json_t *state,
                   const struct runner_request *r, double now, json_t **state_out, json_t **view,
                   struct op_err *e);
/* Moves to the next item, the previous one or route position `r->position` (nonlinear test
 * parts only, inside the current part). */
int runner_move(const struct runner_package *p, const json_t *state, const struct runner_request *r,
                double now, json_t **state_out, json_t **view, struct op_err *e);
/* Ends the test now (outcome processing runs). *state_out is the final state. */
int runner_finish(const struct runner_package *p, const json_t *state,
                  const struct runner_request *r, double now, json_t **state_out, struct op_err *e);

/* Ends the test now whatever the page shows (the execution's time is up, a proctor
 * terminates): outcome processing runs. *state_out NULL when it had ended already. */
int runner_end(const struct runner_package *p, const json_t *state, double now, json_t **state_out,
               struct op_err *e);

/* The result of an ended session (new reference), what the sealed result envelope carries:
 *   {"format": 1, "package_sha256", "test": "<identifier>", "outcomes": {test outcomes},
 *    "route": [keys taken], "items": {"KEY": {"identifier", "responses": {...},
 *    "outcomes": {...}}}, "duration": <s counted by the session>, "started_at",
 *    "ended_at", "paused_total", "extra_time"}
 * OP_ECONFLICT (field "ended") while the test runs. */
int runner_result(const struct runner_package *p, const json_t *state, json_t **result,
                  struct op_err *e);

/* What a session's state says of its result without the package (a proctor terminates the
 * execution: no test taker's key to open the package): {"format": 1, "package_sha256",
 * "test", "partial": true, "outcomes": {test outcomes as of the last submission}, "route":
 * [keys presented], "items": {"KEY": {"identifier", "values": {every variable}}}, "started_at",
 * "paused_total", "extra_time"}. New reference. */
int runner_state_partial_result(const json_t *state, json_t **result, struct op_err *e);

/* ---- the state alone (no package needed: proctors act without the test taker's key) ---- */

struct runner_summary {
    int ended;
    int paused;
    int position;   /* route position of the current item, -1 once ended */
    int item_count; /* items on the route */
    int has_time_left;
    double time_left; /* before the test's maxTime (extra time included), if has_time_left */
    double started_at, ended_at; /* device clock; ended_at 0 while running */
};
int runner_state_summary(const json_t *state, double now, struct runner_summary *out,
                         struct op_err *e);
/* A pause starts / ends at `now` (OP_ECONFLICT, field "paused", when already paused / not
 * paused; field "ended" once ended). New state in *state_out. */
int runner_state_pause(const json_t *state, double now, json_t **state_out, struct op_err *e);
int runner_state_resume(const json_t *state, double now, json_t **state_out, struct op_err *e);
/* Sets the session's clock from a caller that counts active time itself (the executions
 * store: consumed + now - active_since): at `now` the session will have spent `active`
 * seconds, the rest since the start counting as paused, and `extra` seconds of extra time in
 * all. A pause in progress ends (the caller acts only on an active execution). */
int runner_state_clock(const json_t *state, double now, double active, double extra,
                       json_t **state_out, struct op_err *e);
/* Grants `seconds` more (added to what was granted; 1..86400). */
int runner_state_add_extra_time(const json_t *state, double seconds, json_t **state_out,
                                struct op_err *e);

#endif
