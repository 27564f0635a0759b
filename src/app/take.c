/*
 * take.c - a test taker's steps over an execution and the runner (take.h). The runner decides
 * what a step does to the session; the executions decide who may act, in which state, and
 * keep the state (compare-and-set) and the sealed result. This file only joins them, once, so
 * that the HTTP doors hold no rule.
 */
#include "app/take.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/central.h"
#include "app/executions.h"
#include "app/pci_frame.h"
#include "app/upload.h"
#include "store/meta.h"

/* The session of an execution holds its files sealed (app/upload.h) and the sealed result
 * holds them twice (the session and the outcome), within the 8 MiB of an envelope: the files
 * of one execution stop at this size of its session. */
#define TAKE_FILES_BUDGET (3u * 1024 * 1024)

static int need_key(const struct app_taker *who, struct op_err *e)
{
    if (!who->id || !who->id[0] || !who->vault_pk || !who->vault_sk)
        return err_set(e, OP_EFORBIDDEN,
                       "this web session holds no key to open the test: log out and in again");
    return 0;
}

/* Seconds the execution has been active at `now` (its own clock: app/executions.h). */
static double active_used(const struct execution_row *r, double now)
{
    double t = (double)r->consumed;
    if (r->active_since > 0 && now > (double)r->active_since)
        t += now - (double)r->active_since;
    return t;
}

/* The runner's state of an active execution, its clock set from the execution's; a new
 * session when it has none yet (*fresh 1). */
static int session_of(const struct runner_package *p, const struct execution_row *r, double now,
                      json_t **state, int *fresh, struct op_err *e)
{
    *state = NULL;
    *fresh = 0;
    json_t *st = NULL;
    int rc;
    if (!r->session || !r->session[0]) {
        uint64_t seed;
        randombytes_buf(&seed, sizeof seed);
        rc = runner_start(p, seed, now, &st, e);
        *fresh = 1;
    } else {
        st = json_loads(r->session, JSON_REJECT_DUPLICATES, NULL);
        rc = st ? 0 : err_set(e, OP_EINPUT, "execution %s: its saved session is not JSON", r->id);
    }
    if (rc)
        return rc;
    json_t *synced = NULL;
    rc = runner_state_clock(st, now, active_used(r, now), (double)r->extra_time, &synced, e);
    json_decref(st);
    if (rc)
        return rc;
    *state = synced;
    return 0;
}

/* Replaces *x with the execution after a save or finish. */
static void take_row(struct app_execution *x, struct app_execution *next)
{
    app_execution_clear(x);
    *x = *next;
    memset(next, 0, sizeof *next);
}

static int save_args(const json_t *state, double now, struct app_exec_save *s, char **text,
                     struct runner_summary *sum, struct op_err *e)
{
    int rc = runner_state_summary(state, now, sum, e);
    if (rc)
        return rc;
    *text = json_dumps(state, JSON_COMPACT);
    if (!*text)
        return err_set(e, OP_ENOMEM, "out of memory");
    json_t *lim = json_object_get(state, "time_limit");
    s->position = sum->position >= 0    ? sum->position
                  : sum->item_count > 0 ? sum->item_count - 1
                                        : 0;
    s->item_count = sum->item_count;
    s->session = *text;
    s->time_limit = json_is_number(lim) ? (int64_t)json_number_value(lim) : 0;
    return 0;
}

/* Saves `state`, or, once the test has ended, finishes the execution with its result. */
static int store(struct instance *dev, const struct app_taker *who, const struct runner_package *p,
                 struct app_execution *x, const json_t *state, double now, struct op_err *e)
{
    struct app_exec_save s;
    struct runner_summary sum;
    char *text = NULL;
    int rc = save_args(state, now, &s, &text, &sum, e);
    struct app_execution next;
    memset(&next, 0, sizeof next);
    if (rc == 0 && !sum.ended) {
        rc = app_execution_save(dev, who->id, x->row.id, x->row.version, &s, &next, e);
    } else if (rc == 0) {
        json_t *result = NULL;
        char *outcome = NULL;
        rc = runner_result(p, state, &result, e);
        if (rc == 0 && !(outcome = json_dumps(result, JSON_COMPACT)))
            rc = err_set(e, OP_ENOMEM, "out of memory");
        json_decref(result);
        if (rc == 0)
            rc = app_execution_finish(dev, who->id, x->row.id, x->row.version, &s, outcome, &next,
                                      e);
        free(outcome);
    }
    free(text);
    if (rc == 0)
        take_row(x, &next);
    app_execution_clear(&next);
    return rc;
}

static int is_active(const struct app_execution *x)
{
    return app_exec_state_of(x->row.state) == EXEC_ACTIVE;
}

static int not_active(const struct app_execution *x, struct op_err *e)
{
    return err_set_field(e, OP_ECONFLICT, "state", "execution %s is %s, not active", x->row.id,
                         x->row.state);
}

/* The execution's own clock says the time is up (time_left 0): the runner ends the test. */
static int time_up(const struct app_execution *x, double now)
{
    return x->row.time_limit > 0 && app_execution_time_left(&x->row, (int64_t)now) == 0;
}

/* Opens what every step of an active execution needs: the package and the runner's state
 * (ended at once, and stored, when the execution's time is up). */
static int begin_step(struct instance *dev, struct runner_cache *cache, const struct app_taker *who,
                      struct app_execution *x, double now, struct runner_package **p,
                      json_t **state, struct op_err *e)
{
    *p = NULL;
    *state = NULL;
    int fresh = 0;
    int rc = runner_package_open(dev, cache, x->row.delivery_id, who->id, who->vault_pk,
                                 who->vault_sk, p, e);
    if (rc == 0)
        rc = session_of(*p, &x->row, now, state, &fresh, e);
    if (rc == 0 && time_up(x, now)) {
        json_t *ended = NULL;
        rc = runner_end(*p, *state, now, &ended, e);
        if (ended) {
            json_decref(*state);
            *state = ended;
        }
        if (rc == 0)
            rc = store(dev, who, *p, x, *state, now, e);
    } else if (rc == 0 && fresh) {
        rc = store(dev, who, *p, x, *state, now, e);
    }
    return rc;
}

/* ---- the PCIs' states ----
 * A Portable Custom Interaction's state (getState) may hold what the candidate wrote, so the
 * device keeps it as it keeps the test taker's other data: sealed to their vault key (the
 * runner keeps the sealed text per item, app/runner.h), opened again with the key of their
 * web session when the item is drawn again. Never sent to central: an ended session drops it. */

/* The text the runner keeps for `states` ({"RESPONSE": "state" | null}): the non-null ones as
 * JSON, sealed to the test taker's key, in base64; *out NULL when there are none. `tag` gets
 * their keyed hash (BLAKE2b keyed by the test taker's secret key, in hex), which names the
 * same states again without showing them. *out malloc'ed. */
static int pci_states_seal(const json_t *states, const struct app_taker *who, char **out,
                           char tag[33], struct op_err *e)
{
    *out = NULL;
    tag[0] = 0;
    json_t *keep = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)states, k, v)
    {
        if (json_is_string(v))
            json_object_set(keep, k, v);
    }
    if (!keep || json_object_size(keep) == 0) {
        json_decref(keep);
        return keep ? 0 : err_set(e, OP_ENOMEM, "out of memory");
    }
    char *text = json_dumps(keep, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(keep);
    if (!text)
        return err_set(e, OP_ENOMEM, "out of memory");
    size_t len = strlen(text), slen = len + VAULT_SEAL_OVERHEAD;
    unsigned char *sealed = malloc(slen);
    size_t cap = sodium_base64_encoded_len(slen, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = sealed ? malloc(cap) : NULL;
    int rc = b64 ? vault_seal(who->vault_pk, (const unsigned char *)text, len, sealed, e)
                 : err_set(e, OP_ENOMEM, "out of memory");
    if (rc == 0) {
        sodium_bin2base64(b64, cap, sealed, slen, sodium_base64_VARIANT_ORIGINAL);
        unsigned char h[16];
        crypto_generichash_state gs;
        crypto_generichash_init(&gs, who->vault_sk, VAULT_SECRET_BYTES, sizeof h);
        crypto_generichash_update(&gs, (const unsigned char *)"outpost pci states", 19);
        crypto_generichash_update(&gs, (const unsigned char *)text, len);
        crypto_generichash_final(&gs, h, sizeof h);
        sodium_bin2hex(tag, 33, h, sizeof h);
    }
    sodium_memzero(text, len);
    free(text);
    free(sealed);
    if (rc)
        free(b64);
    else
        *out = b64;
    return rc;
}

/* The view's "pci_states_kept" (what pci_states_seal made) opened with the test taker's key,
 * as "pci_states": {"RESPONSE": "state"}; {} when there is none or it does not open (the PCI
 * then starts from its response). */
static void pci_states_open(const struct app_taker *who, json_t *view)
{
    if (!json_is_object(view))
        return;
    json_t *kept = json_object_get(view, "pci_states_kept");
    json_t *states = NULL;
    size_t blen = json_string_length(kept), n = 0;
    unsigned char *bin = kept ? malloc(blen / 4 * 3 + 3) : NULL;
    if (bin && blen > VAULT_SEAL_OVERHEAD &&
        sodium_base642bin(bin, blen / 4 * 3 + 3, json_string_value(kept), blen, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) == 0 &&
        n > VAULT_SEAL_OVERHEAD) {
        size_t plen = n - VAULT_SEAL_OVERHEAD;
        char *plain = malloc(plen + 1);
        struct op_err ignored = {0};
        if (plain && vault_open(who->vault_pk, who->vault_sk, bin, n, (unsigned char *)plain,
                                &ignored) == 0) {
            states = json_loadb(plain, plen, JSON_REJECT_DUPLICATES, NULL);
            if (!json_is_object(states)) {
                json_decref(states);
                states = NULL;
            }
        }
        if (plain) {
            sodium_memzero(plain, plen);
            free(plain);
        }
    }
    free(bin);
    json_object_del(view, "pci_states_kept");
    json_object_set_new(view, "pci_states", states ? states : json_object());
}

static json_t *answer(const struct app_execution *x, json_t *view)
{
    json_t *o = json_pack("{s:o}", "execution", app_execution_json(x));
    if (o && view)
        json_object_set(o, "view", view);
    else if (o)
        json_object_set_new(o, "view", json_null());
    return o;
}

int app_take_get(struct instance *device, struct runner_cache *cache, const struct app_taker *who,
                 const char *id, double now, json_t **out, struct op_err *e)
{
    *out = NULL;
    struct app_execution x;
    memset(&x, 0, sizeof x);
    int rc = need_key(who, e);
    if (rc == 0)
        rc = app_execution_get_for_taker(device, who->id, id, &x, e);
    struct runner_package *p = NULL;
    json_t *state = NULL, *view = NULL;
    if (rc == 0 && is_active(&x)) {
        rc = begin_step(device, cache, who, &x, now, &p, &state, e);
        json_t *so = NULL;
        if (rc == 0 && is_active(&x))
            rc = runner_view(p, state, now, &so, &view, e);
        if (rc == 0)
            pci_states_open(who, view);
        if (rc == 0 && so)
            rc = store(device, who, p, &x, so, now, e);
        json_decref(so);
    }
    if (rc == 0 && !(*out = answer(&x, view)))
        rc = err_set(e, OP_ENOMEM, "out of memory");
    json_decref(view);
    json_decref(state);
    runner_package_release(p);
    app_execution_clear(&x);
    return rc;
}

/* What runner_request.file_hook needs on the device. */
struct take_files {
    struct instance *dev;
    size_t state_len; /* of the session before this step */
};

/* Central's results key, as enrolment recorded it on the device. */
static int results_key(struct instance *dev, unsigned char pk[KEY_PUBLIC_BYTES],
                       char id[KEY_ID_HEX_LEN], struct op_err *e)
{
    char *hex = NULL, *kid = NULL;
    struct op_err none = {0};
    int rc = meta_get(dev->db, META_CENTRAL_RESULTS_KEY, &hex, &none);
    if (rc == 0)
        rc = meta_get(dev->db, META_CENTRAL_RESULTS_KEY_ID, &kid, &none);
    size_t got = 0;
    if (rc == OP_ENOTFOUND)
        rc = err_set(e, OP_ESTATE,
                     "this device has no results key of central (it is not "
                     "enrolled): a file cannot be kept");
    else if (rc != 0)
        rc = err_set(e, rc, "%s", none.msg);
    else if (strlen(hex) != 2 * KEY_PUBLIC_BYTES || strlen(kid) >= KEY_ID_HEX_LEN ||
             sodium_hex2bin(pk, KEY_PUBLIC_BYTES, hex, strlen(hex), NULL, &got, NULL) != 0 ||
             got != KEY_PUBLIC_BYTES)
        rc = err_set(e, OP_ESTATE,
                     "central's results key in this device's database is damaged: "
                     "enrol the device again");
    else
        snprintf(id, KEY_ID_HEX_LEN, "%s", kid);
    free(hex);
    free(kid);
    return rc;
}

/* runner_request.file_hook: checks the file (size, type, content) and seals it. */
static int take_file(void *ctx, const struct qti_interaction *it, const json_t *value,
                     json_t **kept, struct op_err *e)
{
    struct take_files *tf = ctx;
    unsigned char *data = NULL;
    size_t len = 0;
    char *type = NULL, *name = NULL;
    *kept = NULL;
    size_t max = tf->dev->settings.upload_max_bytes ? tf->dev->settings.upload_max_bytes
                                                    : CONFIG_DEFAULT_UPLOAD_MAX_BYTES;
    int rc = app_upload_check(it, value, max, &data, &len, &type, &name, e);
    unsigned char pk[KEY_PUBLIC_BYTES];
    char kid[KEY_ID_HEX_LEN];
    if (rc == 0)
        rc = results_key(tf->dev, pk, kid, e);
    if (rc == 0)
        rc = app_upload_seal(data, len, type, name, pk, kid, kept, e);
    if (rc == 0) {
        const char *sealed = json_string_value(json_object_get(*kept, "sealed"));
        size_t add = sealed ? strlen(sealed) : 0;
        if (tf->state_len + add > TAKE_FILES_BUDGET) {
            json_decref(*kept);
            *kept = NULL;
            rc = err_set_field(e, OP_EINPUT, "responses",
                               "This file cannot be kept: the files of this test together would "
                               "be over the %u MB a test can hold. Send a smaller file.",
                               TAKE_FILES_BUDGET / (1024 * 1024));
        } else {
            tf->state_len += add;
        }
    }
    if (data) {
        sodium_memzero(data, len);
        free(data);
    }
    free(type);
    free(name);
    return rc;
}

int app_take_step(struct instance *device, struct runner_cache *cache, const struct app_taker *who,
                  const char *id, enum runner_op op, const json_t *body, double now, json_t **out,
                  struct op_err *e)
{
    *out = NULL;
    struct runner_request req;
    int rc = runner_request_parse(op, body, &req, e);
    if (rc)
        return rc;
    struct app_execution x;
    memset(&x, 0, sizeof x);
    rc = need_key(who, e);
    if (rc == 0)
        rc = app_execution_get_for_taker(device, who->id, id, &x, e);
    if (rc == 0 && !is_active(&x))
        rc = not_active(&x, e);
    struct runner_package *p = NULL;
    json_t *state = NULL, *so = NULL, *view = NULL;
    if (rc == 0)
        rc = begin_step(device, cache, who, &x, now, &p, &state, e);
    if (rc == 0 && !is_active(&x)) /* the time was up: the test ended before this step */
        rc = err_set_field(e, OP_ECONFLICT, "time", "the time is up: the test has ended");
    char *pci_kept = NULL, pci_tag[33];
    if (rc == 0 && op == RUNNER_OP_RESPOND && req.pci_states) {
        rc = pci_states_seal(req.pci_states, who, &pci_kept, pci_tag, e);
        req.pci_kept = pci_kept;
        req.pci_tag = pci_tag;
    }
    struct take_files tf = {device, 0};
    if (rc == 0 && op == RUNNER_OP_RESPOND) {
        /* the PCIs' states never reach the result: they do not count against its files */
        json_t *counted = json_copy(state);
        json_object_del(counted, "pci_states");
        char *text = counted ? json_dumps(counted, JSON_COMPACT) : NULL;
        tf.state_len = text ? strlen(text) : 0;
        free(text);
        json_decref(counted);
        req.file_hook = take_file;
        req.file_ctx = &tf;
    }
    if (rc == 0) {
        if (op == RUNNER_OP_RESPOND)
            rc = runner_respond(p, state, &req, now, &so, &view, e);
        else if (op == RUNNER_OP_MOVE)
            rc = runner_move(p, state, &req, now, &so, &view, e);
        else
            rc = runner_finish(p, state, &req, now, &so, e);
        if (so) { /* saved even when refused: time moved the session on */
            struct op_err se = {0};
            int src = store(device, who, p, &x, so, now, &se);
            if (src && rc == 0)
                rc = err_set_field(e, src, se.field, "%s", se.msg);
        }
    }
    if (rc == 0)
        pci_states_open(who, view);
    if (rc == 0 && !(*out = answer(&x, op == RUNNER_OP_FINISH ? NULL : view)))
        rc = err_set(e, OP_ENOMEM, "out of memory");
    if (rc == 0 && op == RUNNER_OP_FINISH)
        json_object_del(*out, "view");
    free(pci_kept);
    json_decref(so);
    json_decref(view);
    json_decref(state);
    runner_package_release(p);
    app_execution_clear(&x);
    return rc;
}

int app_take_version_parse(const json_t *body, int64_t *version, struct op_err *e)
{
    json_t *v = json_object_get(body, "version");
    if (!json_is_object(body) || json_object_size(body) != 1 || !json_is_integer(v) ||
        json_integer_value(v) < 1)
        return err_set_field(e, OP_EINPUT, "version",
                             "the body is {\"version\": n}, the execution's version the page saw");
    *version = json_integer_value(v);
    return 0;
}

int app_take_transition(struct instance *device, const struct app_taker *who, const char *id,
                        enum app_take_transition what, const json_t *body, json_t **out,
                        struct op_err *e)
{
    *out = NULL;
    int64_t version;
    int rc = app_take_version_parse(body, &version, e);
    if (rc)
        return rc;
    if (!who->id || !who->id[0])
        return err_set(e, OP_EFORBIDDEN, "no test taker is logged in");
    struct app_execution x;
    memset(&x, 0, sizeof x);
    rc = what == APP_TAKE_BEGIN ? app_execution_begin(device, who->id, id, version, &x, e)
                                : app_execution_cancel(device, who->id, id, version, &x, e);
    if (rc == 0 && !(*out = answer(&x, NULL)))
        rc = err_set(e, OP_ENOMEM, "out of memory");
    if (rc == 0)
        json_object_del(*out, "view");
    app_execution_clear(&x);
    return rc;
}

int app_take_asset(struct instance *device, struct runner_cache *cache, const struct app_taker *who,
                   const char *id, const char *path, struct runner_package **pkg,
                   const unsigned char **data, size_t *len, const char **type, struct op_err *e)
{
    *pkg = NULL;
    struct app_execution x;
    memset(&x, 0, sizeof x);
    int rc = need_key(who, e);
    if (rc == 0)
        rc = app_execution_get_for_taker(device, who->id, id, &x, e);
    if (rc == 0 && !is_active(&x))
        rc = not_active(&x, e);
    if (rc == 0)
        rc = runner_package_open(device, cache, x.row.delivery_id, who->id, who->vault_pk,
                                 who->vault_sk, pkg, e);
    if (rc == 0)
        rc = runner_package_asset(*pkg, path, data, len, type, e);
    if (rc) {
        runner_package_release(*pkg);
        *pkg = NULL;
    }
    app_execution_clear(&x);
    return rc;
}

int app_take_pci_frame(struct instance *device, struct runner_cache *cache,
                       const struct app_taker *who, const char *id, const char *entry,
                       const char *shim, size_t shim_len, struct buf *html, struct buf *csp,
                       struct op_err *e)
{
    struct runner_package *pkg = NULL;
    const struct qti_pci *pci = NULL;
    struct app_execution x;
    memset(&x, 0, sizeof x);
    int rc = need_key(who, e);
    if (rc == 0)
        rc = app_execution_get_for_taker(device, who->id, id, &x, e);
    if (rc == 0 && !is_active(&x))
        rc = not_active(&x, e);
    if (rc == 0)
        rc = runner_package_open(device, cache, x.row.delivery_id, who->id, who->vault_pk,
                                 who->vault_sk, &pkg, e);
    if (rc == 0)
        rc = runner_package_pci(pkg, entry, &pci, e);
    if (rc == 0)
        rc = pci_frame_build(pkg, pci, shim, shim_len, html, csp, e);
    runner_package_release(pkg);
    app_execution_clear(&x);
    return rc;
}

int app_take_outcome(struct instance *device, const struct execution_row *row, char **outcome,
                     struct op_err *e)
{
    (void)device;
    *outcome = NULL;
    if (!row->session || !row->session[0])
        return 0;
    /* a session the runner cannot read gives no outcome, never a refusal: a termination
     * must go through, and the sealed result holds the session as it is */
    struct op_err ignored = {0};
    json_t *st = json_loads(row->session, JSON_REJECT_DUPLICATES, NULL), *res = NULL;
    if (st && runner_state_partial_result(st, &res, &ignored) == 0 &&
        !(*outcome = json_dumps(res, JSON_COMPACT))) {
        json_decref(st);
        json_decref(res);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    json_decref(st);
    json_decref(res);
    return 0;
}
