/*
 * executions.c - the rules of executions on a device (see executions.h): the synced records
 * that say who may do what (eligibilities, deliveries, test centers' staff, users), the state
 * machine run as compare-and-set transactions, and the sealing of the result into the outbox.
 */
#include "app/executions.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/central.h"
#include "app/outbox.h"
#include "base/killpoint.h"
#include "base/clock.h"
#include "base/fs.h"
#include "crypto/envelope.h"
#include "crypto/keys.h"
#include "store/meta.h"
#include "store/synced.h"

#define ENT_USER        "user"
#define ENT_TEST_CENTER "test-center"
#define ENT_ELIGIBILITY "eligibility"
#define ENT_DELIVERY    "delivery"

#define ROLE_TAKER   "test-taker"
#define ROLE_PROCTOR "proctor"

static const char *const state_names[EXEC_STATE_COUNT] = {"awaiting_authorization",
                                                          "authorized",
                                                          "active",
                                                          "paused",
                                                          "finished",
                                                          "terminated",
                                                          "canceled"};

const char *app_exec_state_name(int s)
{
    return s >= 0 && s < EXEC_STATE_COUNT ? state_names[s] : "?";
}

int app_exec_state_of(const char *name)
{
    for (int i = 0; name && i < EXEC_STATE_COUNT; i++)
        if (strcmp(name, state_names[i]) == 0)
            return i;
    return -1;
}

int app_exec_state_ended(int s)
{
    return s == EXEC_FINISHED || s == EXEC_TERMINATED || s == EXEC_CANCELED;
}

static const char *const action_names[PROCTOR_ACTION_COUNT] = {
    "authorize", "pause", "resume", "terminate", "extra-time", "irregularity"};

const char *app_proctor_action_name(int a)
{
    return a >= 0 && a < PROCTOR_ACTION_COUNT ? action_names[a] : "?";
}

int app_proctor_action_of(const char *name)
{
    for (int i = 0; name && i < PROCTOR_ACTION_COUNT; i++)
        if (strcmp(name, action_names[i]) == 0)
            return i;
    return -1;
}

void app_execution_clear(struct app_execution *x)
{
    execution_row_clear(&x->row);
}

int64_t app_execution_time_left(const struct execution_row *r, int64_t now)
{
    if (r->time_limit <= 0)
        return -1;
    int64_t used = r->consumed;
    if (r->active_since && now > r->active_since)
        used += now - r->active_since;
    int64_t left = r->time_limit + r->extra_time - used;
    return left > 0 ? left : 0;
}

static json_t *time_or_null(int64_t t)
{
    return t ? json_integer(t) : json_null();
}

json_t *app_execution_json(const struct app_execution *x)
{
    const struct execution_row *r = &x->row;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "delivery_id", json_string(r->delivery_id));
    json_object_set_new(o, "delivery_label", json_string(x->delivery_label));
    json_object_set_new(o, "test_taker_id", json_string(r->test_taker_id));
    json_object_set_new(o, "test_taker_label", json_string(x->test_taker_label));
    json_object_set_new(o, "center_id", json_string(r->center_id));
    json_object_set_new(o, "state", json_string(r->state));
    json_object_set_new(o, "version", json_integer(r->version));
    json_object_set_new(o, "proctored", json_boolean(x->proctored));
    json_object_set_new(o, "position", json_integer(r->position));
    json_object_set_new(o, "item_count", json_integer(r->item_count));
    json_object_set_new(o, "time_left",
                        x->time_left < 0 ? json_null() : json_integer(x->time_left));
    json_object_set_new(o, "extra_time", json_integer(r->extra_time));
    json_object_set_new(o, "created_at", json_integer(r->created_at));
    json_object_set_new(o, "started_at", time_or_null(r->started_at));
    json_object_set_new(o, "updated_at", json_integer(r->updated_at));
    json_object_set_new(o, "ended_at", time_or_null(r->ended_at));
    return o;
}

static int oom(struct op_err *e)
{
    return err_set(e, OP_ENOMEM, "out of memory");
}

/* ---- the synced records ---- */

/* The data of synced record (entity, id) parsed; *out NULL (and 0) when the device has none. */
static int synced_json(struct db *db, const char *entity, const char *id, json_t **out,
                       struct op_err *e)
{
    *out = NULL;
    int64_t version;
    char *data = NULL;
    struct op_err none = {0};
    int rc = synced_get(db, entity, id, &version, &data, &none);
    if (rc == OP_ENOTFOUND)
        return 0;
    if (rc != 0)
        return err_set(e, rc, "%s", none.msg);
    json_error_t je;
    *out = json_loads(data, 0, &je);
    free(data);
    if (!*out || !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return err_set(e, OP_ESTATE, "the synced %s %s does not parse: sync the device again",
                       entity, id);
    }
    return 0;
}

static const char *str_of(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int array_has(json_t *arr, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strcmp(s, id) == 0)
            return 1;
    }
    return 0;
}

int app_exec_is_center_staff(struct db *db, const char *center_id, const char *user, int *is,
                             struct op_err *e)
{
    *is = 0;
    json_t *c;
    int rc = synced_json(db, ENT_TEST_CENTER, center_id, &c, e);
    if (rc == 0 && c)
        *is = array_has(json_object_get(c, "proctors"), user) ||
              array_has(json_object_get(c, "admins"), user);
    json_decref(c);
    return rc;
}

/* The eligibility of (center, delivery) listing `taker`, if the device holds one. */
struct elig_find {
    const char *taker, *center, *delivery; /* center, delivery NULL: any */
    int found, proctored;
    /* app_my_deliveries: every match */
    json_t *list;
};

static int elig_match(const char *id, int64_t version, const char *data, void *ctx,
                      struct op_err *e)
{
    (void)id;
    (void)version;
    struct elig_find *f = ctx;
    json_error_t je;
    json_t *o = json_loads(data, 0, &je);
    if (!o)
        return err_set(e, OP_ESTATE, "the synced eligibility %s does not parse: sync again", id);
    const char *c = str_of(o, "center_id"), *d = str_of(o, "delivery_id");
    int rc = 0;
    if ((!f->center || strcmp(c, f->center) == 0) &&
        (!f->delivery || strcmp(d, f->delivery) == 0) &&
        array_has(json_object_get(o, "test_takers"), f->taker)) {
        int proctored = json_is_true(json_object_get(o, "proctored"));
        if (f->list) {
            if (json_array_append_new(f->list,
                                      json_pack("{s:s, s:s, s:b}", "center_id", c, "delivery_id", d,
                                                "proctored", proctored)) != 0)
                rc = oom(e);
        } else if (!f->found || proctored) {
            /* two eligibilities of one (center, delivery) cannot exist on central; if they
             * did, the proctored one wins */
            f->found = 1;
            f->proctored = proctored;
        }
    }
    json_decref(o);
    return rc;
}

/* The user's login, or their label when the profile sealed to the viewer opens. */
static void user_label(struct db *db, const char *user_id, const struct app_exec_viewer *v,
                       char *out, size_t cap)
{
    snprintf(out, cap, "%s", user_id);
    json_t *u;
    struct op_err ignore = {0};
    if (synced_json(db, ENT_USER, user_id, &u, &ignore) != 0 || !u)
        return;
    if (str_of(u, "login")[0])
        snprintf(out, cap, "%s", str_of(u, "login"));
    if (v && v->vault_pk && v->vault_sk && v->user_id) {
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(u, "profile"), i, s)
        {
            if (strcmp(str_of(s, "to"), v->user_id) != 0)
                continue;
            const char *text = str_of(s, "sealed");
            size_t tl = strlen(text), bl = tl * 3 / 4;
            if (bl <= VAULT_SEAL_OVERHEAD || bl > 65536)
                break;
            unsigned char *bin = malloc(bl), *plain = malloc(bl - VAULT_SEAL_OVERHEAD + 1);
            if (bin && plain && vault_from_text(text, bin, bl, "profile", &ignore) == 0 &&
                vault_open(v->vault_pk, v->vault_sk, bin, bl, plain, &ignore) == 0) {
                plain[bl - VAULT_SEAL_OVERHEAD] = 0;
                json_error_t je;
                json_t *p = json_loads((const char *)plain, 0, &je);
                const char *label = p ? str_of(p, "label") : "";
                if (label[0])
                    snprintf(out, cap, "%s", label);
                else if (p && (str_of(p, "first_name")[0] || str_of(p, "last_name")[0]))
                    snprintf(out, cap, "%s%s%s", str_of(p, "first_name"),
                             str_of(p, "first_name")[0] && str_of(p, "last_name")[0] ? " " : "",
                             str_of(p, "last_name"));
                json_decref(p);
                sodium_memzero(plain, bl - VAULT_SEAL_OVERHEAD);
            }
            free(bin);
            free(plain);
            break;
        }
    }
    json_decref(u);
}

/* Fills the labels, proctored flag and time left of x from the synced records. */
static void decorate(struct db *db, struct app_execution *x, const struct app_exec_viewer *v,
                     int64_t now)
{
    json_t *d;
    struct op_err ignore = {0};
    snprintf(x->delivery_label, sizeof x->delivery_label, "%s", x->row.delivery_id);
    if (synced_json(db, ENT_DELIVERY, x->row.delivery_id, &d, &ignore) == 0 && d &&
        str_of(d, "label")[0])
        snprintf(x->delivery_label, sizeof x->delivery_label, "%s", str_of(d, "label"));
    json_decref(d);
    user_label(db, x->row.test_taker_id, v, x->test_taker_label, sizeof x->test_taker_label);
    x->proctored = x->row.proctored;
    x->time_left = app_execution_time_left(&x->row, now);
}

/* ---- changing state ---- */

/* Moves r to state `to` at `now`, keeping the clock: time is consumed only while active. */
static void move_to(struct execution_row *r, int to, int64_t now)
{
    int from = app_exec_state_of(r->state);
    if (from == EXEC_ACTIVE && r->active_since) {
        if (now > r->active_since)
            r->consumed += now - r->active_since;
        r->active_since = 0;
    }
    if (to == EXEC_ACTIVE) {
        r->active_since = now;
        if (!r->started_at)
            r->started_at = now;
    }
    r->paused_at = to == EXEC_PAUSED ? now : 0;
    if (app_exec_state_ended(to))
        r->ended_at = now;
    snprintf(r->state, sizeof r->state, "%s", app_exec_state_name(to));
    r->updated_at = now;
}

/* Appends the audit entry of an action on r (already moved to its new state) by `actor`. */
static int audit(struct db *db, const struct execution_row *r, const char *from, const char *actor,
                 const char *role, const char *action, json_t *detail, int64_t now,
                 struct op_err *e)
{
    struct audit_entry a;
    memset(&a, 0, sizeof a);
    snprintf(a.execution_id, sizeof a.execution_id, "%s", r->id);
    a.at = now;
    snprintf(a.actor_id, sizeof a.actor_id, "%s", actor);
    snprintf(a.actor_role, sizeof a.actor_role, "%s", role);
    snprintf(a.action, sizeof a.action, "%s", action);
    snprintf(a.from_state, sizeof a.from_state, "%s", from);
    snprintf(a.to_state, sizeof a.to_state, "%s", r->state);
    if (detail) {
        char *text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
            return oom(e);
        if (strlen(text) >= sizeof a.detail) {
            free(text);
            return err_set(e, OP_EINPUT, "the audit detail is over %d bytes", EXEC_DETAIL_MAX - 1);
        }
        snprintf(a.detail, sizeof a.detail, "%s", text);
        free(text);
    }
    return executions_audit_append(db, &a, e);
}

json_t *app_execution_audit_json(const struct audit_entry *v, int n)
{
    json_t *arr = json_array();
    for (int i = 0; arr && i < n; i++) {
        json_error_t je;
        json_t *detail = json_loads(v[i].detail, 0, &je);
        json_t *o =
            json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s}", "seq",
                      (json_int_t)v[i].seq, "at", (json_int_t)v[i].at, "actor_id", v[i].actor_id,
                      "actor_role", v[i].actor_role, "action", v[i].action, "from", v[i].from_state,
                      "to", v[i].to_state, "detail", detail ? detail : json_string(v[i].detail),
                      "prev_hash", v[i].prev_hash, "hash", v[i].hash);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* For the crash test: fail every sealing transaction after the envelope is queued. */
static int fail_before_commit;
void app_executions_fail_before_commit(int on)
{
    fail_before_commit = on;
}

/* The device's signing key and central's results key, loaded before a transaction that
 * seals. */
struct seal_keys {
    struct key *device;
};

static int load_seal_keys(struct instance *device, struct seal_keys *k, struct op_err *e)
{
    k->device = key_new();
    if (!k->device)
        return oom(e);
    char *dir = instance_path(device, "keys");
    if (!dir)
        return oom(e);
    int rc = keys_load_device_signing(dir, k->device, e);
    free(dir);
    return rc;
}

static void free_seal_keys(struct seal_keys *k)
{
    key_free(k->device);
    k->device = NULL;
}

/* The result JSON (docs/api.md, "The sealed result"): the execution, the runner's session
 * and outcome, the audit chain. *out malloc'ed. */
static int result_json(struct db *db, const char *device_id, const struct execution_row *r,
                       const char *outcome, char **out, struct op_err *e)
{
    struct audit_entry *v;
    int n;
    int rc = executions_audit_list(db, r->id, &v, &n, e);
    if (rc != 0)
        return rc;
    json_t *chain = app_execution_audit_json(v, n);
    free(v);
    json_error_t je;
    json_t *session = r->session ? json_loads(r->session, 0, &je) : NULL;
    if (r->session && !session)
        session = json_string(r->session); /* opaque text that is not JSON travels as text */
    /* the PCIs' states (app/runner.h) are not part of a result: a terminated test still has
     * them, sealed to the test taker: they never leave the device */
    if (json_is_object(session))
        json_object_del(session, "pci_states");
    json_t *out_json = outcome ? json_loads(outcome, 0, &je) : NULL;
    if (outcome && !out_json) {
        json_decref(chain);
        json_decref(session);
        return err_set(e, OP_EINPUT, "the outcome of execution %s is not JSON", r->id);
    }
    json_t *x = json_pack(
        "{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:s}", "id",
        r->id, "delivery_id", r->delivery_id, "delivery_version", (json_int_t)r->delivery_version,
        "test_taker_id", r->test_taker_id, "center_id", r->center_id, "device_id", device_id,
        "state", r->state, "position", (json_int_t)r->position, "item_count",
        (json_int_t)r->item_count, "time_limit", (json_int_t)r->time_limit, "extra_time",
        (json_int_t)r->extra_time, "time_used", (json_int_t)r->consumed, "created_at",
        (json_int_t)r->created_at, "started_at", time_or_null(r->started_at), "ended_at",
        (json_int_t)r->ended_at, "result_id", r->result_id);
    json_t *doc = x && chain
                      ? json_pack("{s:s, s:o, s:o, s:o, s:o}", "format", "outpost result v1",
                                  "execution", x, "session", session ? session : json_null(),
                                  "outcome", out_json ? out_json : json_null(), "audit", chain)
                      : NULL;
    if (!doc) {
        if (!x || !chain) {
            json_decref(x);
            json_decref(chain);
            json_decref(session);
            json_decref(out_json);
        }
        return oom(e);
    }
    *out = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return *out ? 0 : oom(e);
}

/* Seals r (ended, with its result id and final audit entry written) and queues it in the
 * outbox, inside the caller's transaction. */
static int seal_result(struct db *db, const char *device_id, const struct seal_keys *k,
                       const struct execution_row *r, const char *outcome, int64_t now,
                       struct op_err *e)
{
    char *rk = NULL, *rk_id = NULL;
    struct op_err none = {0};
    int rc = meta_get(db, META_CENTRAL_RESULTS_KEY, &rk, &none);
    if (rc == 0)
        rc = meta_get(db, META_CENTRAL_RESULTS_KEY_ID, &rk_id, &none);
    if (rc == OP_ENOTFOUND)
        rc = err_set(e, OP_ESTATE,
                     "this device has no results key of central: it is not enrolled, so a "
                     "result cannot be sealed; nothing was changed");
    else if (rc != 0)
        rc = err_set(e, rc, "%s", none.msg);
    unsigned char pk[KEY_PUBLIC_BYTES];
    size_t got = 0;
    if (rc == 0 &&
        (strlen(rk) != 2 * KEY_PUBLIC_BYTES ||
         sodium_hex2bin(pk, sizeof pk, rk, strlen(rk), NULL, &got, NULL) != 0 || got != sizeof pk))
        rc = err_set(e, OP_ESTATE,
                     "central's results key in this device's database is damaged: "
                     "enrol the device again");
    free(rk);
    free(rk_id);
    char *payload = NULL;
    if (rc == 0)
        rc = result_json(db, device_id, r, outcome, &payload, e);
    struct envelope_header h;
    memset(&h, 0, sizeof h);
    h.state = strcmp(r->state, "finished") == 0 ? ENVELOPE_FINISHED : ENVELOPE_TERMINATED;
    snprintf(h.result_id, sizeof h.result_id, "%s", r->result_id);
    snprintf(h.execution_id, sizeof h.execution_id, "%s", r->id);
    snprintf(h.delivery_id, sizeof h.delivery_id, "%s", r->delivery_id);
    snprintf(h.test_taker_id, sizeof h.test_taker_id, "%s", r->test_taker_id);
    snprintf(h.device_id, sizeof h.device_id, "%s", device_id);
    h.started_at = r->started_at ? r->started_at : r->created_at;
    h.ended_at = r->ended_at;
    h.sealed_at = now;
    unsigned char *env = NULL;
    size_t len = 0;
    if (rc == 0)
        rc = envelope_seal(&h, (const unsigned char *)payload, strlen(payload), pk, k->device, &env,
                           &len, e);
    free(payload);
    if (rc == 0)
        rc = app_outbox_add_in(db, device_id, env, len, e);
    free(env);
    if (rc == 0 && fail_before_commit)
        rc = err_set(e, OP_EIO, "test: failing before the commit that seals a result");
    return rc;
}

/* A copy of id in dst, so that an id pointing into the caller's *out survives the clearing of
 * *out; NULL when it is no id at all (too long). */
static const char *own_id(char dst[EXEC_ID_LEN], const char *id)
{
    if (!id || strlen(id) >= EXEC_ID_LEN)
        return NULL;
    memcpy(dst, id, strlen(id) + 1);
    return dst;
}

/* ---- one action in one transaction ---- */

enum op_kind { OP_BEGIN, OP_CANCEL, OP_SAVE, OP_FINISH, OP_PROCTOR };

struct act {
    /* in */
    struct instance *device;
    enum op_kind kind;
    const char *id;
    const char *actor;
    const struct app_exec_viewer *viewer;
    int64_t version;
    const struct app_exec_save *save;
    const char *outcome;
    const struct app_proctor_request *preq;
    const struct seal_keys *keys;
    /* out */
    struct app_execution *out;
    char idbuf[EXEC_ID_LEN]; /* run_act's copy of id */
};

static int check_save(const struct app_exec_save *s, struct op_err *e)
{
    if (s->position < 0 || s->item_count < 0 || (s->item_count && s->position >= s->item_count))
        return err_set_field(e, OP_EINPUT, "position", "position %lld is not an item of %lld",
                             (long long)s->position, (long long)s->item_count);
    if (s->time_limit < -1 || s->time_limit > 100LL * 86400)
        return err_set_field(e, OP_EINPUT, "time_limit", "a time limit is 0 to 100 days");
    if (s->session && strlen(s->session) > EXEC_SESSION_MAX)
        return err_set(e, OP_EINPUT, "the session state is over %u bytes", EXEC_SESSION_MAX);
    return 0;
}

static void apply_save(struct execution_row *r, const struct app_exec_save *s)
{
    r->position = s->position;
    r->item_count = s->item_count;
    if (s->time_limit >= 0)
        r->time_limit = s->time_limit;
    free(r->session);
    r->session = s->session ? strdup(s->session) : NULL;
    if (s->session && !r->session)
        abort();
}

static int state_refusal(const struct execution_row *r, const char *what, struct op_err *e)
{
    return err_set(e, OP_ECONFLICT, "execution %s is %s: it cannot %s", r->id, r->state, what);
}

static int proctor_body(struct db *db, struct act *a, struct execution_row *r, int64_t now,
                        struct op_err *e)
{
    const struct app_proctor_request *p = a->preq;
    int from = app_exec_state_of(r->state), to = from;
    char from_name[EXEC_STATE_LEN];
    snprintf(from_name, sizeof from_name, "%s", r->state);
    json_t *detail = json_object();
    if (!detail)
        return oom(e);
    int rc = 0, seal = 0;
    switch (p->action) {
    case PROCTOR_AUTHORIZE:
        if (from != EXEC_AWAITING_AUTHORIZATION)
            rc =
                state_refusal(r, "be authorized (only an execution awaiting authorization can)", e);
        to = EXEC_AUTHORIZED;
        break;
    case PROCTOR_PAUSE:
        if (from != EXEC_ACTIVE && from != EXEC_AUTHORIZED)
            rc = state_refusal(r, "be paused", e);
        to = EXEC_PAUSED;
        break;
    case PROCTOR_RESUME:
        if (from != EXEC_PAUSED)
            rc = state_refusal(r, "be resumed (only a paused execution can)", e);
        to = EXEC_ACTIVE;
        break;
    case PROCTOR_TERMINATE:
        if (app_exec_state_ended(from))
            rc = state_refusal(r, "be terminated", e);
        to = EXEC_TERMINATED;
        seal = 1;
        break;
    case PROCTOR_EXTRA_TIME:
        if (app_exec_state_ended(from))
            rc = state_refusal(r, "be given extra time (an ended execution is never reopened)", e);
        else {
            r->extra_time += p->seconds;
            r->updated_at = now;
            json_object_set_new(detail, "seconds", json_integer(p->seconds));
        }
        break;
    case PROCTOR_IRREGULARITY:
        if (app_exec_state_ended(from))
            rc = state_refusal(
                r, "get an irregularity report (its result is sealed; report it to central)", e);
        r->updated_at = now;
        break;
    default:
        rc = err_set(e, OP_EINPUT, "unknown proctor action");
    }
    if (rc == 0 && p->reason && p->reason[0])
        json_object_set_new(detail, "reason", json_string(p->reason));
    if (rc == 0 && to != from)
        move_to(r, to, now);
    if (rc == 0 && seal)
        uuid_generate(r->result_id);
    if (rc == 0 && seal)
        json_object_set_new(detail, "result_id", json_string(r->result_id));
    char *outcome = NULL;
    if (rc == 0 && seal && p->outcome)
        rc = p->outcome(a->device, r, &outcome, e);
    if (rc == 0)
        rc = executions_update(db, r, a->version, 0, e);
    if (rc == 0)
        rc = audit(db, r, from_name, a->actor, ROLE_PROCTOR, app_proctor_action_name(p->action),
                   detail, now, e);
    if (rc == 0 && seal)
        rc = seal_result(db, a->device->id, a->keys, r, outcome, now, e);
    free(outcome);
    json_decref(detail);
    return rc;
}

static int taker_body(struct db *db, struct act *a, struct execution_row *r, int64_t now,
                      struct op_err *e)
{
    int from = app_exec_state_of(r->state), to = from;
    char from_name[EXEC_STATE_LEN];
    snprintf(from_name, sizeof from_name, "%s", r->state);
    const char *action = "save";
    int with_session = 0;
    switch (a->kind) {
    case OP_BEGIN:
        if (from != EXEC_AUTHORIZED)
            return state_refusal(r,
                                 from == EXEC_AWAITING_AUTHORIZATION
                                     ? "begin before a proctor authorizes it"
                                     : "begin (only an authorized execution can)",
                                 e);
        to = EXEC_ACTIVE;
        action = "begin";
        break;
    case OP_CANCEL:
        if (from != EXEC_AWAITING_AUTHORIZATION && from != EXEC_AUTHORIZED)
            return state_refusal(r, "be canceled (only one that has not begun can)", e);
        to = EXEC_CANCELED;
        action = "cancel";
        break;
    case OP_SAVE:
        if (from != EXEC_ACTIVE)
            return state_refusal(r, "take answers", e);
        if (app_execution_time_left(r, now) == 0)
            return err_set(e, OP_ECONFLICT,
                           "execution %s: the time is up; no answer is taken after it", r->id);
        apply_save(r, a->save);
        r->updated_at = now;
        with_session = 1;
        break;
    case OP_FINISH:
        if (from != EXEC_ACTIVE)
            return state_refusal(r, "be finished (only an active execution can)", e);
        if (a->save) {
            apply_save(r, a->save);
            with_session = 1;
        }
        to = EXEC_FINISHED;
        action = "finish";
        uuid_generate(r->result_id);
        break;
    default:
        return err_set(e, OP_EINPUT, "unknown action");
    }
    if (to != from)
        move_to(r, to, now);
    int rc = executions_update(db, r, a->version, with_session, e);
    if (rc != 0 || a->kind == OP_SAVE)
        return rc; /* answers are the session's, not the audit's */
    json_t *detail = a->kind == OP_FINISH ? json_pack("{s:s}", "result_id", r->result_id) : NULL;
    rc = audit(db, r, from_name, a->actor, ROLE_TAKER, action, detail, now, e);
    json_decref(detail);
    if (rc == 0 && a->kind == OP_FINISH)
        rc = seal_result(db, a->device->id, a->keys, r, a->outcome, now, e);
    return rc;
}

static int act_body(struct db *db, void *ctx, struct op_err *e)
{
    struct act *a = ctx;
    app_execution_clear(a->out);
    memset(a->out, 0, sizeof *a->out);
    struct execution_row *r = &a->out->row;
    int64_t now = (int64_t)clock_now();
    int rc = executions_get(db, a->id, r, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no execution %s on this device", a->id);
    if (rc != 0)
        return rc;
    if (a->kind == OP_PROCTOR) {
        int is;
        if ((rc = app_exec_is_center_staff(db, r->center_id, a->actor, &is, e)) != 0)
            return rc;
        if (!is)
            return err_set(e, OP_EFORBIDDEN,
                           "you are not a proctor of the test center of execution %s", a->id);
    } else if (strcmp(r->test_taker_id, a->actor) != 0)
        return err_set(e, OP_EFORBIDDEN, "execution %s is not yours", a->id);
    if (r->version != a->version)
        return err_set(e, OP_ECONFLICT,
                       "execution %s changed meanwhile (version %lld, not %lld): read it again",
                       a->id, (long long)r->version, (long long)a->version);
    rc = a->kind == OP_PROCTOR ? proctor_body(db, a, r, now, e) : taker_body(db, a, r, now, e);
    if (rc == 0)
        decorate(db, a->out, a->viewer, now);
    if (rc == 0 && a->kind == OP_SAVE)
        kill_point_at("exec-save-written"); /* tests: written, not committed */
    else if (rc == 0 && a->kind == OP_FINISH)
        kill_point_at("exec-finish-sealed");
    return rc;
}

static int run_act(struct instance *device, struct act *a, const char *what, struct op_err *e)
{
    a->id = own_id(a->idbuf, a->id); /* a->id may point into *a->out, cleared below */
    memset(a->out, 0, sizeof *a->out);
    if (!a->id || !a->id[0])
        return err_set(e, OP_ENOTFOUND, "no such execution");
    int rc = instance_require_role(device, ROLE_DEVICE, what, e);
    if (rc != 0)
        return rc;
    struct seal_keys keys = {NULL};
    int seals =
        a->kind == OP_FINISH || (a->kind == OP_PROCTOR && a->preq->action == PROCTOR_TERMINATE);
    if (seals && (rc = load_seal_keys(device, &keys, e)) != 0) {
        free_seal_keys(&keys);
        return rc;
    }
    a->keys = &keys;
    rc = db_write(device->db, act_body, a, e);
    if (rc == 0 && a->kind == OP_SAVE)
        kill_point_at("exec-save-committed"); /* tests: committed, not answered */
    else if (rc == 0 && a->kind == OP_FINISH)
        kill_point_at("exec-finish-committed");
    free_seal_keys(&keys);
    if (rc != 0)
        app_execution_clear(a->out);
    return rc;
}

/* ---- test taker ---- */

struct start {
    const char *taker, *delivery, *center;
    struct app_execution *out;
};

static int start_body(struct db *db, void *ctx, struct op_err *e)
{
    struct start *s = ctx;
    app_execution_clear(s->out);
    memset(s->out, 0, sizeof *s->out);
    int64_t now = (int64_t)clock_now();
    struct elig_find f = {s->taker, s->center, s->delivery, 0, 0, NULL};
    int rc = synced_each(db, ENT_ELIGIBILITY, elig_match, &f, e);
    if (rc != 0)
        return rc;
    if (!f.found)
        return err_set(e, OP_EFORBIDDEN,
                       "you are not eligible for delivery %s in test center %s on this device",
                       s->delivery, s->center);
    json_t *d;
    if ((rc = synced_json(db, ENT_DELIVERY, s->delivery, &d, e)) != 0)
        return rc;
    if (!d)
        return err_set(e, OP_ESTATE, "delivery %s is not on this device yet: sync the device",
                       s->delivery);
    json_int_t max = json_integer_value(json_object_get(d, "max_executions"));
    json_int_t content = json_integer_value(json_object_get(d, "content_version"));
    json_decref(d);
    struct execution_row *open = NULL;
    int n = 0;
    if ((rc = executions_list(db, s->taker, NULL, APP_EXEC_LIST_MAX, &open, &n, e)) != 0)
        return rc;
    for (int i = 0; i < n; i++)
        if (strcmp(open[i].delivery_id, s->delivery) == 0 &&
            !app_exec_state_ended(app_exec_state_of(open[i].state))) {
            rc = err_set(e, OP_ECONFLICT,
                         "you have an execution of this delivery that has not ended (%s, %s): "
                         "go on with it",
                         open[i].id, open[i].state);
            break;
        }
    free(open);
    if (rc != 0)
        return rc;
    int64_t count;
    if ((rc = executions_count(db, s->taker, s->delivery, &count, e)) != 0)
        return rc;
    if (max > 0 && count >= max)
        return err_set(e, OP_EFORBIDDEN,
                       "delivery %s allows %lld execution%s and you have had %lld", s->delivery,
                       (long long)max, max == 1 ? "" : "s", (long long)count);
    struct execution_row *r = &s->out->row;
    uuid_generate(r->id);
    snprintf(r->delivery_id, sizeof r->delivery_id, "%s", s->delivery);
    r->delivery_version = content;
    snprintf(r->test_taker_id, sizeof r->test_taker_id, "%s", s->taker);
    snprintf(r->center_id, sizeof r->center_id, "%s", s->center);
    r->proctored = f.proctored;
    r->created_at = r->updated_at = now;
    snprintf(r->state, sizeof r->state, "%s", app_exec_state_name(EXEC_AWAITING_AUTHORIZATION));
    if (!f.proctored)
        move_to(r, EXEC_ACTIVE, now);
    if ((rc = executions_insert(db, r, e)) != 0)
        return rc;
    json_t *detail = json_pack("{s:b}", "proctored", f.proctored);
    rc = audit(db, r, "", s->taker, ROLE_TAKER, "start", detail, now, e);
    json_decref(detail);
    if (rc == 0)
        decorate(db, s->out, NULL, now);
    return rc;
}

static int check_id(const char *v, const char *field, struct op_err *e)
{
    if (!v || !uuid_is_valid(v))
        return err_set_field(e, OP_EINPUT, field, "%s must be an id (a UUID)", field);
    return 0;
}

int app_execution_start(struct instance *device, const char *taker, const char *delivery_id,
                        const char *center_id, struct app_execution *out, struct op_err *e)
{
    char dc[EXEC_ID_LEN], cc[EXEC_ID_LEN];
    delivery_id = own_id(dc, delivery_id);
    center_id = own_id(cc, center_id);
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(device, ROLE_DEVICE, "starting an execution", e);
    if (rc == 0)
        rc = check_id(delivery_id, "delivery_id", e);
    if (rc == 0)
        rc = check_id(center_id, "center_id", e);
    if (rc == 0 && (!taker || !uuid_is_valid(taker)))
        rc = err_set(e, OP_EFORBIDDEN, "only a test taker can start an execution");
    if (rc != 0)
        return rc;
    struct start s = {taker, delivery_id, center_id, out};
    rc = db_write(device->db, start_body, &s, e);
    if (rc != 0)
        app_execution_clear(out);
    return rc;
}

struct get_one {
    const char *taker, *id;
    struct app_execution *out;
};

static int get_body(struct db *db, void *ctx, struct op_err *e)
{
    struct get_one *g = ctx;
    app_execution_clear(g->out);
    memset(g->out, 0, sizeof *g->out);
    int rc = executions_get(db, g->id, &g->out->row, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no execution %s on this device", g->id);
    if (rc == 0 && strcmp(g->out->row.test_taker_id, g->taker) != 0)
        rc = err_set(e, OP_EFORBIDDEN, "execution %s is not yours", g->id);
    if (rc == 0)
        decorate(db, g->out, NULL, (int64_t)clock_now());
    return rc;
}

int app_execution_get_for_taker(struct instance *device, const char *taker, const char *id,
                                struct app_execution *out, struct op_err *e)
{
    char idc[EXEC_ID_LEN];
    id = own_id(idc, id);
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(device, ROLE_DEVICE, "reading an execution", e);
    if (rc != 0)
        return rc;
    if (!id || !id[0] || strlen(id) >= EXEC_ID_LEN)
        return err_set(e, OP_ENOTFOUND, "no such execution");
    struct get_one g = {taker ? taker : "", id, out};
    rc = db_read(device->db, get_body, &g, e);
    if (rc != 0)
        app_execution_clear(out);
    return rc;
}

int app_execution_begin(struct instance *device, const char *taker, const char *id, int64_t version,
                        struct app_execution *out, struct op_err *e)
{
    struct act a = {device, OP_BEGIN, id, taker ? taker : "", NULL, version, NULL, NULL, NULL,
                    NULL,   out,      {0}};
    return run_act(device, &a, "beginning an execution", e);
}

int app_execution_cancel(struct instance *device, const char *taker, const char *id,
                         int64_t version, struct app_execution *out, struct op_err *e)
{
    struct act a = {device, OP_CANCEL, id, taker ? taker : "", NULL, version, NULL, NULL, NULL,
                    NULL,   out,       {0}};
    return run_act(device, &a, "canceling an execution", e);
}

int app_execution_save(struct instance *device, const char *taker, const char *id, int64_t version,
                       const struct app_exec_save *s, struct app_execution *out, struct op_err *e)
{
    char idc[EXEC_ID_LEN];
    id = own_id(idc, id);
    memset(out, 0, sizeof *out);
    int rc = check_save(s, e);
    if (rc != 0)
        return rc;
    struct act a = {device, OP_SAVE, id, taker ? taker : "", NULL, version, s, NULL, NULL,
                    NULL,   out,     {0}};
    return run_act(device, &a, "saving an execution", e);
}

int app_execution_finish(struct instance *device, const char *taker, const char *id,
                         int64_t version, const struct app_exec_save *s, const char *outcome,
                         struct app_execution *out, struct op_err *e)
{
    char idc[EXEC_ID_LEN];
    id = own_id(idc, id);
    memset(out, 0, sizeof *out);
    int rc = s ? check_save(s, e) : 0;
    if (rc != 0)
        return rc;
    struct act a = {device, OP_FINISH, id, taker ? taker : "", NULL, version, s, outcome, NULL,
                    NULL,   out,       {0}};
    return run_act(device, &a, "finishing an execution", e);
}

/* ---- my deliveries ---- */

struct mine {
    const char *taker;
    json_t *out;
};

static int mine_body(struct db *db, void *ctx, struct op_err *e)
{
    struct mine *m = ctx;
    json_decref(m->out);
    m->out = NULL;
    int64_t now = (int64_t)clock_now();
    json_t *found = json_array(), *list = json_array();
    if (!found || !list) {
        json_decref(found);
        json_decref(list);
        return oom(e);
    }
    struct elig_find f = {m->taker, NULL, NULL, 0, 0, found};
    int rc = synced_each(db, ENT_ELIGIBILITY, elig_match, &f, e);
    struct execution_row *rows = NULL;
    int n = 0;
    if (rc == 0)
        rc = executions_list(db, m->taker, NULL, APP_EXEC_LIST_MAX, &rows, &n, e);
    size_t i;
    json_t *el;
    json_array_foreach(found, i, el)
    {
        if (rc != 0)
            break;
        const char *did = str_of(el, "delivery_id"), *cid = str_of(el, "center_id");
        json_t *d = NULL, *c = NULL;
        if ((rc = synced_json(db, ENT_DELIVERY, did, &d, e)) != 0 ||
            (rc = synced_json(db, ENT_TEST_CENTER, cid, &c, e)) != 0) {
            json_decref(d);
            break;
        }
        json_int_t max = d ? json_integer_value(json_object_get(d, "max_executions")) : 0;
        json_t *xs = json_array();
        for (int k = 0; xs && k < n; k++) {
            if (strcmp(rows[k].delivery_id, did) != 0 || strcmp(rows[k].center_id, cid) != 0)
                continue;
            struct app_execution x;
            memset(&x, 0, sizeof x);
            x.row = rows[k];
            snprintf(x.delivery_label, sizeof x.delivery_label, "%s",
                     d && str_of(d, "label")[0] ? str_of(d, "label") : did);
            user_label(db, m->taker, NULL, x.test_taker_label, sizeof x.test_taker_label);
            x.proctored = x.row.proctored;
            x.time_left = app_execution_time_left(&x.row, now);
            json_array_append_new(xs, app_execution_json(&x));
        }
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:O, s:o, s:o}", "delivery_id", did, "label",
            d && str_of(d, "label")[0] ? str_of(d, "label") : did, "center_id", cid, "center_label",
            c && str_of(c, "label")[0] ? str_of(c, "label") : cid, "proctored",
            json_object_get(el, "proctored"), "max_executions",
            max > 0 ? json_integer(max) : json_null(), "executions", xs ? xs : json_array());
        json_decref(d);
        json_decref(c);
        if (!o || json_array_append_new(list, o) != 0)
            rc = oom(e);
    }
    free(rows);
    json_decref(found);
    if (rc == 0 && !(m->out = json_pack("{s:o}", "deliveries", list)))
        rc = oom(e);
    else if (rc != 0)
        json_decref(list);
    return rc;
}

int app_my_deliveries(struct instance *device, const char *taker, json_t **out, struct op_err *e)
{
    *out = NULL;
    int rc = instance_require_role(device, ROLE_DEVICE, "listing deliveries", e);
    if (rc != 0)
        return rc;
    struct mine m = {taker ? taker : "", NULL};
    rc = db_read(device->db, mine_body, &m, e);
    if (rc != 0) {
        json_decref(m.out);
        return rc;
    }
    *out = m.out;
    return 0;
}

/* ---- request bodies ---- */

/* OP_EINPUT naming the first member of `body` not in `allowed` (NULL-terminated). */
static int only_members(const json_t *body, const char *const *allowed, struct op_err *e)
{
    if (!json_is_object(body))
        return err_set_field(e, OP_EINPUT, "body", "the request body must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        (void)v;
        int ok = 0;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return err_set_field(e, OP_EINPUT, "body", "unknown member \"%.64s\" in the body", key);
    }
    return 0;
}

static int id_member(const json_t *body, const char *name, char out[EXEC_ID_LEN], struct op_err *e)
{
    const char *s = json_string_value(json_object_get(body, name));
    if (!s || !uuid_is_valid(s))
        return err_set_field(e, OP_EINPUT, name, "%s must be an id (a UUID)", name);
    snprintf(out, EXEC_ID_LEN, "%s", s);
    return 0;
}

int app_exec_start_body_parse(const json_t *body, struct app_exec_start_body *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    static const char *const allowed[] = {"delivery_id", "center_id", NULL};
    int rc = only_members(body, allowed, e);
    if (rc == 0)
        rc = id_member(body, "delivery_id", out->delivery_id, e);
    if (rc == 0)
        rc = id_member(body, "center_id", out->center_id, e);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

int app_proctor_body_parse(const json_t *body, enum app_proctor_action action,
                           struct app_proctor_request *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    out->action = action;
    if (action < 0 || action >= PROCTOR_ACTION_COUNT)
        return err_set(e, OP_EINPUT, "unknown proctor action");
    static const char *const plain[] = {"version", NULL};
    static const char *const extra[] = {"version", "seconds", NULL};
    static const char *const why[] = {"version", "reason", NULL};
    int rc = only_members(body,
                          action == PROCTOR_EXTRA_TIME                                    ? extra
                          : action == PROCTOR_TERMINATE || action == PROCTOR_IRREGULARITY ? why
                                                                                          : plain,
                          e);
    if (rc != 0)
        return rc;
    json_t *v = json_object_get(body, "version");
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return err_set_field(e, OP_EINPUT, "version",
                             "version must be the execution's version as last read (a whole "
                             "number from 1)");
    out->version = (int64_t)json_integer_value(v);
    if (action == PROCTOR_EXTRA_TIME) {
        json_t *sec = json_object_get(body, "seconds");
        if (!json_is_integer(sec) || json_integer_value(sec) < 1 ||
            json_integer_value(sec) > APP_EXEC_EXTRA_MAX)
            return err_set_field(e, OP_EINPUT, "seconds", "seconds must be 1 to %d",
                                 APP_EXEC_EXTRA_MAX);
        out->seconds = (int64_t)json_integer_value(sec);
    }
    json_t *r = json_object_get(body, "reason");
    if (r && !json_is_string(r))
        return err_set_field(e, OP_EINPUT, "reason", "reason must be text");
    if (r && json_string_length(r) > APP_EXEC_REASON_MAX)
        return err_set_field(e, OP_EINPUT, "reason", "a reason is at most %d bytes",
                             APP_EXEC_REASON_MAX);
    if (r && strlen(json_string_value(r)) != json_string_length(r))
        return err_set_field(e, OP_EINPUT, "reason", "a reason holds no NUL character");
    out->reason = r ? json_string_value(r) : NULL;
    if (action == PROCTOR_IRREGULARITY && (!out->reason || !out->reason[0]))
        return err_set_field(e, OP_EINPUT, "reason", "an irregularity needs a reason");
    return 0;
}

/* ---- proctor ---- */

int app_execution_proctor_act(struct instance *device, const struct app_exec_viewer *proctor,
                              const char *id, const struct app_proctor_request *req,
                              struct app_execution *out, struct op_err *e)
{
    char idc[EXEC_ID_LEN];
    id = own_id(idc, id);
    memset(out, 0, sizeof *out);
    if (req->action < 0 || req->action >= PROCTOR_ACTION_COUNT)
        return err_set(e, OP_EINPUT, "unknown proctor action");
    if (req->action == PROCTOR_EXTRA_TIME &&
        (req->seconds < 1 || req->seconds > APP_EXEC_EXTRA_MAX))
        return err_set_field(e, OP_EINPUT, "seconds", "extra time is 1 to %d seconds",
                             APP_EXEC_EXTRA_MAX);
    int needs_reason = req->action == PROCTOR_IRREGULARITY;
    if (needs_reason && (!req->reason || !req->reason[0]))
        return err_set_field(e, OP_EINPUT, "reason", "%s needs a reason",
                             app_proctor_action_name(req->action));
    if (req->reason && strlen(req->reason) > APP_EXEC_REASON_MAX)
        return err_set_field(e, OP_EINPUT, "reason", "a reason is at most %d bytes",
                             APP_EXEC_REASON_MAX);
    if (!proctor || !proctor->user_id || !proctor->user_id[0])
        return err_set(e, OP_EFORBIDDEN, "only a proctor can do this");
    struct act a = {device,  OP_PROCTOR,   id,   proctor->user_id,
                    proctor, req->version, NULL, NULL,
                    req,     NULL,         out,  {0}};
    return run_act(device, &a, "a proctor's action", e);
}

struct centers_of {
    const char *user;
    char (*ids)[EXEC_ID_LEN];
    int n, cap;
};

static int center_match(const char *id, int64_t version, const char *data, void *ctx,
                        struct op_err *e)
{
    (void)version;
    struct centers_of *c = ctx;
    json_error_t je;
    json_t *o = json_loads(data, 0, &je);
    if (!o)
        return err_set(e, OP_ESTATE, "the synced test center %s does not parse: sync again", id);
    int staff = array_has(json_object_get(o, "proctors"), c->user) ||
                array_has(json_object_get(o, "admins"), c->user);
    json_decref(o);
    if (!staff || strlen(id) >= EXEC_ID_LEN)
        return 0;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4;
        void *nv = realloc(c->ids, (size_t)c->cap * sizeof *c->ids);
        if (!nv)
            abort();
        c->ids = nv;
    }
    snprintf(c->ids[c->n++], EXEC_ID_LEN, "%s", id);
    return 0;
}

struct plist {
    const struct app_exec_viewer *v;
    json_t *out;
};

static int plist_body(struct db *db, void *ctx, struct op_err *e)
{
    struct plist *p = ctx;
    json_decref(p->out);
    p->out = NULL;
    int64_t now = (int64_t)clock_now();
    struct centers_of c = {p->v->user_id, NULL, 0, 0};
    int rc = synced_each(db, ENT_TEST_CENTER, center_match, &c, e);
    json_t *arr = json_array();
    if (!arr)
        rc = oom(e);
    for (int i = 0; rc == 0 && i < c.n; i++) {
        struct execution_row *rows;
        int n;
        if ((rc = executions_list(db, NULL, c.ids[i], APP_EXEC_LIST_MAX, &rows, &n, e)) != 0)
            break;
        for (int k = 0; k < n; k++) {
            struct app_execution x;
            memset(&x, 0, sizeof x);
            x.row = rows[k];
            decorate(db, &x, p->v, now);
            json_array_append_new(arr, app_execution_json(&x));
        }
        free(rows);
    }
    free(c.ids);
    if (rc == 0 && !(p->out = json_pack("{s:o}", "executions", arr)))
        rc = oom(e);
    else if (rc != 0)
        json_decref(arr);
    return rc;
}

int app_proctor_executions(struct instance *device, const struct app_exec_viewer *proctor,
                           json_t **out, struct op_err *e)
{
    *out = NULL;
    int rc = instance_require_role(device, ROLE_DEVICE, "listing executions", e);
    if (rc != 0)
        return rc;
    if (!proctor || !proctor->user_id || !proctor->user_id[0])
        return err_set(e, OP_EFORBIDDEN, "only a proctor can list executions");
    struct plist p = {proctor, NULL};
    rc = db_read(device->db, plist_body, &p, e);
    if (rc != 0) {
        json_decref(p.out);
        return rc;
    }
    *out = p.out;
    return 0;
}

/* ---- the audit log ---- */

int app_execution_audit_verify(struct instance *device, const char *id, int64_t *bad,
                               struct op_err *e)
{
    *bad = 0;
    int rc = instance_require_role(device, ROLE_DEVICE, "checking an audit log", e);
    if (rc != 0)
        return rc;
    struct audit_entry *v;
    int n;
    if ((rc = executions_audit_list(device->db, id, &v, &n, e)) != 0)
        return rc;
    rc = executions_audit_check(v, n, bad, e);
    free(v);
    return rc;
}
