/* test_app_executions.c - executions on a device (app/executions.h, store/executions.h): every
 * transition and every forbidden one, compare-and-set races, eligibility and limit refusals,
 * proctors of another center, the hash-chained audit log, and the result sealed into the
 * outbox in the same transaction as the state change (and nothing after a crash before its
 * commit). The device's synced records are written as the pull writes them (store/synced.h).
 * Run again on PostgreSQL as pg/unit/test_app_executions. */
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/central.h"
#include "app/executions.h"
#include "app_instance_fixture.h"
#include "base/clock.h"
#include "crypto/envelope.h"
#include "crypto/keys.h"
#include "crypto/vault.h"
#include "store/meta.h"
#include "store/outbox.h"
#include "store/synced.h"

#define T1     "11111111-0000-4000-8000-000000000001" /* test taker, eligible in A */
#define T2     "11111111-0000-4000-8000-000000000002" /* test taker, eligible nowhere */
#define P1     "22222222-0000-4000-8000-000000000001" /* proctor of A */
#define P2     "22222222-0000-4000-8000-000000000002" /* proctor of B */
#define P3     "22222222-0000-4000-8000-000000000003" /* a second proctor of A */
#define ADM    "22222222-0000-4000-8000-000000000004" /* administrator of A */
#define CA     "33333333-0000-4000-8000-00000000000a"
#define CB     "33333333-0000-4000-8000-00000000000b"
#define DPROC  "44444444-0000-4000-8000-000000000001" /* proctored in A, max 2 */
#define DFREE  "44444444-0000-4000-8000-000000000002" /* not proctored in A, unlimited */
#define DOTHER "44444444-0000-4000-8000-000000000003" /* only in B */

static time_t now_t = 1800000000;

struct fixture {
    struct instance *dev;
    struct key results; /* central's results key (secret kept here to open envelopes) */
    struct key device;  /* the device's signing key */
    unsigned char p1_pk[VAULT_PUBLIC_BYTES], p1_sk[VAULT_SECRET_BYTES];
};

static void put(struct db *db, const char *entity, const char *id, const char *data)
{
    struct op_err e = {0};
    if (synced_put(db, entity, id, 1, data, 0, &e) != 0)
        fail_msg("synced_put %s %s: %s", entity, id, e.msg);
}

static void put_json(struct db *db, const char *entity, const char *id, json_t *o)
{
    char *t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    put(db, entity, id, t);
    free(t);
    json_decref(o);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->dev = fx_instance(ROLE_DEVICE);
    struct db *db = f->dev->db;
    struct op_err e = {0};
    /* central's results key, as enrolment pins it */
    memset(&f->results, 0, sizeof f->results);
    f->results.kind = KEY_RESULTS;
    crypto_box_keypair(f->results.public_key, f->results.secret);
    key_id_of_public(f->results.public_key, f->results.id);
    char hex[2 * KEY_PUBLIC_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, f->results.public_key, KEY_PUBLIC_BYTES);
    assert_int_equal(meta_set(db, META_CENTRAL_RESULTS_KEY, hex, &e), 0);
    assert_int_equal(meta_set(db, META_CENTRAL_RESULTS_KEY_ID, f->results.id, &e), 0);
    char *keys = fs_join(f->dev->dir, "keys");
    assert_int_equal(keys_load_device_signing(keys, &f->device, &e), 0);
    free(keys);
    /* the synced records */
    put(db, "test-center", CA,
        "{\"admins\":[\"" ADM "\"],\"label\":\"Lyc\xc3\xa9"
        "e A\",\"org_id\":\"ORG\",\"parent_id\":null,\"proctors\":[\"" P1 "\",\"" P3 "\"]}");
    put(db, "test-center", CB,
        "{\"admins\":[],\"label\":\"B\",\"org_id\":\"ORG\",\"parent_id\":null,"
        "\"proctors\":[\"" P2 "\"]}");
    put(db, "delivery", DPROC,
        "{\"label\":\"Maths\",\"max_executions\":2,\"proctored_default\":true,"
        "\"content_version\":3}");
    put(db, "delivery", DFREE,
        "{\"label\":\"Free\",\"max_executions\":0,\"content_version\":null}");
    put(db, "delivery", DOTHER, "{\"label\":\"Other\",\"max_executions\":0}");
    put(db, "eligibility", "e-1",
        "{\"center_id\":\"" CA "\",\"delivery_id\":\"" DPROC "\",\"proctored\":true,"
        "\"test_takers\":[\"" T1 "\"],\"content_keys\":[]}");
    put(db, "eligibility", "e-2",
        "{\"center_id\":\"" CA "\",\"delivery_id\":\"" DFREE "\",\"proctored\":false,"
        "\"test_takers\":[\"" T1 "\",\"" T2 "\"],\"content_keys\":[]}");
    put(db, "eligibility", "e-3",
        "{\"center_id\":\"" CB "\",\"delivery_id\":\"" DOTHER "\",\"proctored\":false,"
        "\"test_takers\":[\"" T2 "\"],\"content_keys\":[]}");
    /* T1's profile sealed to P1, as central seals it */
    vault_keypair(f->p1_pk, f->p1_sk);
    const char *profile = "{\"label\":\"\xc3\x89lise Martin\"}";
    unsigned char sealed[128];
    assert_int_equal(
        vault_seal(f->p1_pk, (const unsigned char *)profile, strlen(profile), sealed, &e), 0);
    char text[256];
    vault_to_text(sealed, strlen(profile) + VAULT_SEAL_OVERHEAD, text, sizeof text);
    put_json(db, "user", T1,
             json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "login", "t1", "role", "test-taker", "profile",
                       "to", P1, "sealed", text));
    put(db, "user", T2, "{\"login\":\"t2\",\"role\":\"test-taker\",\"profile\":[]}");
    now_t = 1800000000;
    clock_set(&(struct op_clock){clock_fixed, &now_t});
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    clock_set(NULL);
    app_executions_fail_before_commit(0);
    key_wipe(&f->device);
    fx_instance_free(f->dev);
    free(f);
    return 0;
}

static const struct app_exec_viewer V_P1 = {P1, NULL, NULL};
static const struct app_exec_viewer V_P2 = {P2, NULL, NULL};
static const struct app_exec_viewer V_P3 = {P3, NULL, NULL};
static const struct app_exec_viewer V_ADM = {ADM, NULL, NULL};

static int outbox_rows(struct fixture *f)
{
    return fx_count(f->dev, "SELECT count(*) FROM result_outbox");
}

static int audit_rows(struct fixture *f, const char *id)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM execution_audit WHERE execution_id = '%s'", id);
    return fx_count(f->dev, sql);
}

/* Starts an execution of `delivery` in CA for T1 (must succeed). */
static void start(struct fixture *f, const char *delivery, struct app_execution *x)
{
    struct op_err e = {0};
    if (app_execution_start(f->dev, T1, delivery, CA, x, &e) != 0)
        fail_msg("start: %s", e.msg);
}

static int act(struct fixture *f, const struct app_exec_viewer *p, const char *id, int action,
               int64_t version, struct app_execution *out, struct op_err *e)
{
    struct app_proctor_request r = {action, version, 60, "because", NULL};
    return app_execution_proctor_act(f->dev, p, id, &r, out, e);
}

/* act() that must succeed; *x becomes the execution after it. */
static void act_ok(struct fixture *f, const struct app_exec_viewer *p, struct app_execution *x,
                   int action)
{
    struct op_err e = {0};
    struct app_execution out;
    if (act(f, p, x->row.id, action, x->row.version, &out, &e) != 0)
        fail_msg("%s: %s", app_proctor_action_name(action), e.msg);
    app_execution_clear(x);
    *x = out;
}

static void save_ok(struct fixture *f, struct app_execution *x, int64_t position,
                    int64_t time_limit)
{
    struct op_err e = {0};
    struct app_exec_save s = {position, 5, "{\"answers\":{\"i1\":\"A\"}}", time_limit};
    struct app_execution out;
    if (app_execution_save(f->dev, T1, x->row.id, x->row.version, &s, &out, &e) != 0)
        fail_msg("save: %s", e.msg);
    app_execution_clear(x);
    *x = out;
}

/* Opens the one envelope of the outbox with central's key: its payload JSON. */
static json_t *open_outbox(struct fixture *f, int *state)
{
    struct outbox_item *items;
    int n;
    struct op_err e = {0};
    assert_int_equal(outbox_pending(f->dev->db, 10, 1u << 30, &items, &n, &e), 0);
    assert_int_equal(n, 1);
    struct envelope env;
    assert_int_equal(envelope_parse(items[0].envelope, items[0].len, &env, &e), 0);
    assert_int_equal(envelope_verify(&env, f->device.public_key, &e), 0);
    *state = env.h.state;
    unsigned char *payload;
    size_t len;
    if (envelope_open(&env, &f->results, &payload, &len, &e) != 0)
        fail_msg("open: %s", e.msg);
    json_error_t je;
    json_t *doc = json_loads((const char *)payload, 0, &je);
    assert_non_null(doc);
    free(payload);
    outbox_items_free(items, n);
    return doc;
}

/* ---- transitions ---- */

static void test_unproctored_start_is_active_saves_and_finishes_into_one_envelope(void **state)
{
    struct fixture *f = *state;
    struct app_execution x;
    struct op_err e = {0};
    start(f, DFREE, &x);
    assert_string_equal(x.row.state, "active");
    assert_int_equal(x.row.version, 1);
    assert_int_equal(x.proctored, 0);
    assert_string_equal(x.delivery_label, "Free");
    now_t += 10;
    save_ok(f, &x, 1, 0);
    assert_int_equal(x.row.version, 2);
    assert_int_equal(x.row.position, 1);
    struct app_execution got;
    assert_int_equal(app_execution_get_for_taker(f->dev, T1, x.row.id, &got, &e), 0);
    assert_string_equal(got.row.session, "{\"answers\":{\"i1\":\"A\"}}");
    app_execution_clear(&got);
    assert_int_equal(outbox_rows(f), 0);
    struct app_execution fin;
    now_t += 10;
    assert_int_equal(
        app_execution_finish(f->dev, T1, x.row.id, x.row.version, NULL, "{\"SCORE\":3}", &fin, &e),
        0);
    assert_string_equal(fin.row.state, "finished");
    assert_int_equal(fin.row.ended_at, now_t);
    assert_true(uuid_is_valid(fin.row.result_id));
    assert_int_equal(outbox_rows(f), 1);
    int st;
    json_t *doc = open_outbox(f, &st);
    assert_int_equal(st, ENVELOPE_FINISHED);
    json_t *xe = json_object_get(doc, "execution");
    assert_string_equal(json_string_value(json_object_get(xe, "id")), x.row.id);
    assert_string_equal(json_string_value(json_object_get(xe, "state")), "finished");
    assert_int_equal(json_integer_value(json_object_get(xe, "time_used")), 20);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "outcome"), "SCORE")),
                     3);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(doc, "session"), "answers"), "i1")),
                        "A");
    json_t *audit = json_object_get(doc, "audit");
    assert_int_equal(json_array_size(audit), 2); /* start, finish: saves are not audited */
    assert_string_equal(json_string_value(json_object_get(json_array_get(audit, 1), "action")),
                        "finish");
    json_decref(doc);
    /* finishing again changes nothing */
    struct app_execution again;
    assert_int_equal(
        app_execution_finish(f->dev, T1, x.row.id, fin.row.version, NULL, NULL, &again, &e),
        OP_ECONFLICT);
    assert_int_equal(outbox_rows(f), 1);
    app_execution_clear(&fin);
    app_execution_clear(&x);
}

static void test_proctored_start_waits_then_authorize_begin_pause_resume_terminate(void **state)
{
    struct fixture *f = *state;
    struct app_execution x, y;
    struct op_err e = {0};
    start(f, DPROC, &x);
    assert_string_equal(x.row.state, "awaiting_authorization");
    assert_int_equal(x.proctored, 1);
    assert_int_equal(x.row.delivery_version, 3);
    /* the test taker cannot begin before a proctor authorizes */
    assert_int_equal(app_execution_begin(f->dev, T1, x.row.id, x.row.version, &y, &e),
                     OP_ECONFLICT);
    act_ok(f, &V_P1, &x, PROCTOR_AUTHORIZE);
    assert_string_equal(x.row.state, "authorized");
    assert_int_equal(app_execution_begin(f->dev, T1, x.row.id, x.row.version, &y, &e), 0);
    assert_string_equal(y.row.state, "active");
    app_execution_clear(&x);
    x = y;
    act_ok(f, &V_P3, &x, PROCTOR_PAUSE); /* any proctor of the center */
    assert_string_equal(x.row.state, "paused");
    /* no answer while paused */
    struct app_exec_save s = {0, 5, "{}", -1};
    assert_int_equal(app_execution_save(f->dev, T1, x.row.id, x.row.version, &s, &y, &e),
                     OP_ECONFLICT);
    act_ok(f, &V_P1, &x, PROCTOR_RESUME);
    assert_string_equal(x.row.state, "active");
    act_ok(f, &V_ADM, &x, PROCTOR_IRREGULARITY); /* the center's administrator too */
    act_ok(f, &V_P1, &x, PROCTOR_EXTRA_TIME);
    assert_int_equal(x.row.extra_time, 60);
    assert_int_equal(outbox_rows(f), 0);
    act_ok(f, &V_P1, &x, PROCTOR_TERMINATE);
    assert_string_equal(x.row.state, "terminated");
    assert_int_equal(outbox_rows(f), 1);
    int st;
    json_t *doc = open_outbox(f, &st);
    assert_int_equal(st, ENVELOPE_TERMINATED);
    json_t *audit = json_object_get(doc, "audit");
    const char *want[] = {"start",  "authorize",    "begin",      "pause",
                          "resume", "irregularity", "extra-time", "terminate"};
    assert_int_equal(json_array_size(audit), 8);
    for (int i = 0; i < 8; i++)
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(audit, (size_t)i), "action")),
            want[i]);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(audit, 7), "detail"), "reason")),
                        "because");
    json_decref(doc);
    app_execution_clear(&x);
}

static void test_cancel_before_the_test_begins_and_not_after(void **state)
{
    struct fixture *f = *state;
    struct app_execution x, y;
    struct op_err e = {0};
    start(f, DPROC, &x);
    assert_int_equal(app_execution_cancel(f->dev, T1, x.row.id, x.row.version, &y, &e), 0);
    assert_string_equal(y.row.state, "canceled");
    assert_int_equal(outbox_rows(f), 0); /* nothing was taken: nothing to seal */
    app_execution_clear(&y);
    app_execution_clear(&x);
    start(f, DFREE, &x); /* active */
    assert_int_equal(app_execution_cancel(f->dev, T1, x.row.id, x.row.version, &y, &e),
                     OP_ECONFLICT);
    app_execution_clear(&x);
}

/* Puts execution `id` in state `s` behind the application's back (a test's shortcut). */
static void force_state(struct fixture *f, const char *id, const char *s)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "UPDATE executions SET state = '%s', active_since = %s WHERE id = '%s'", s,
             strcmp(s, "active") == 0 ? "1800000000" : "NULL", id);
    struct op_err e = {0};
    assert_int_equal(db_exec(f->dev->db, sql, &e), 0);
}

static void test_every_forbidden_transition_is_refused_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    /* allowed[action][state]: 1 if the proctor action applies in that state */
    static const int allowed[PROCTOR_ACTION_COUNT][EXEC_STATE_COUNT] = {
        /*                awa auth act pau fin ter can */
        [PROCTOR_AUTHORIZE] = {1, 0, 0, 0, 0, 0, 0},
        [PROCTOR_PAUSE] = {0, 1, 1, 0, 0, 0, 0},
        [PROCTOR_RESUME] = {0, 0, 0, 1, 0, 0, 0},
        [PROCTOR_TERMINATE] = {1, 1, 1, 1, 0, 0, 0},
        [PROCTOR_EXTRA_TIME] = {1, 1, 1, 1, 0, 0, 0},
        [PROCTOR_IRREGULARITY] = {1, 1, 1, 1, 0, 0, 0},
    };
    static const int taker_allowed[4][EXEC_STATE_COUNT] = {
        /* begin */ {0, 1, 0, 0, 0, 0, 0},
        /* cancel */ {1, 1, 0, 0, 0, 0, 0},
        /* save */ {0, 0, 1, 0, 0, 0, 0},
        /* finish */ {0, 0, 1, 0, 0, 0, 0},
    };
    struct op_err e = {0};
    for (int s = 0; s < EXEC_STATE_COUNT; s++) {
        for (int a = 0; a < PROCTOR_ACTION_COUNT + 4; a++) {
            struct app_execution x, y;
            start(f, DFREE, &x);
            force_state(f, x.row.id, app_exec_state_name(s));
            int before = audit_rows(f, x.row.id), outbox = outbox_rows(f);
            int rc, want;
            if (a < PROCTOR_ACTION_COUNT) {
                rc = act(f, &V_P1, x.row.id, a, x.row.version, &y, &e);
                want = allowed[a][s];
            } else {
                int k = a - PROCTOR_ACTION_COUNT;
                struct app_exec_save sv = {0, 5, "{}", -1};
                rc = k == 0   ? app_execution_begin(f->dev, T1, x.row.id, 1, &y, &e)
                     : k == 1 ? app_execution_cancel(f->dev, T1, x.row.id, 1, &y, &e)
                     : k == 2 ? app_execution_save(f->dev, T1, x.row.id, 1, &sv, &y, &e)
                              : app_execution_finish(f->dev, T1, x.row.id, 1, NULL, NULL, &y, &e);
                want = taker_allowed[k][s];
            }
            if (want && rc != 0)
                fail_msg("action %d in %s refused: %s", a, app_exec_state_name(s), e.msg);
            if (!want) {
                if (rc != OP_ECONFLICT)
                    fail_msg("action %d in %s: %d, not a conflict", a, app_exec_state_name(s), rc);
                struct app_execution now;
                assert_int_equal(app_execution_get_for_taker(f->dev, T1, x.row.id, &now, &e), 0);
                assert_string_equal(now.row.state, app_exec_state_name(s));
                assert_int_equal(now.row.version, 1);
                assert_int_equal(audit_rows(f, x.row.id), before);
                assert_int_equal(outbox_rows(f), outbox);
                app_execution_clear(&now);
            } else
                app_execution_clear(&y);
            /* end it so that the next start is allowed */
            force_state(f, x.row.id, "canceled");
            app_execution_clear(&x);
        }
    }
}

/* ---- compare-and-set ---- */

static void test_two_actors_on_the_same_version_one_wins_one_conflicts(void **state)
{
    struct fixture *f = *state;
    struct app_execution x, a, b;
    struct op_err e = {0};
    start(f, DFREE, &x);
    int64_t v = x.row.version;
    /* two proctors */
    assert_int_equal(act(f, &V_P1, x.row.id, PROCTOR_PAUSE, v, &a, &e), 0);
    assert_int_equal(act(f, &V_P3, x.row.id, PROCTOR_TERMINATE, v, &b, &e), OP_ECONFLICT);
    assert_string_equal(a.row.state, "paused");
    assert_int_equal(outbox_rows(f), 0);
    /* a proctor and the test taker */
    act_ok(f, &V_P1, &a, PROCTOR_RESUME);
    v = a.row.version;
    struct app_exec_save s = {1, 5, "{\"late\":true}", -1};
    assert_int_equal(act(f, &V_P1, x.row.id, PROCTOR_PAUSE, v, &b, &e), 0);
    struct app_execution c;
    assert_int_equal(app_execution_save(f->dev, T1, x.row.id, v, &s, &c, &e), OP_ECONFLICT);
    struct app_execution now;
    assert_int_equal(app_execution_get_for_taker(f->dev, T1, a.row.id, &now, &e), 0);
    assert_string_equal(now.row.state, "paused");
    assert_null(strstr(now.row.session ? now.row.session : "", "late"));
    app_execution_clear(&now);
    app_execution_clear(&a);
    app_execution_clear(&b);
}

struct racer {
    struct instance inst; /* a copy with its own connection */
    const char *id;
    int64_t version;
    int action;
    const char *proctor;
    int rc;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct app_exec_viewer v = {r->proctor, NULL, NULL};
    struct app_proctor_request req = {r->action, r->version, 0, "race", NULL};
    struct app_execution out;
    struct op_err e = {0};
    r->rc = app_execution_proctor_act(&r->inst, &v, r->id, &req, &out, &e);
    if (r->rc == 0)
        app_execution_clear(&out);
    return NULL;
}

static void test_concurrent_proctors_on_two_connections_never_both_win(void **state)
{
    struct fixture *f = *state;
    for (int round = 0; round < 8; round++) {
        struct app_execution x;
        start(f, DFREE, &x);
        struct racer r[2];
        pthread_t th[2];
        for (int i = 0; i < 2; i++) {
            r[i].inst = *f->dev;
            r[i].inst.db = testutil_db_open(f->dev->dir, "outpost.db");
            r[i].id = x.row.id;
            r[i].version = x.row.version;
            r[i].action = i == 0 ? PROCTOR_PAUSE : PROCTOR_TERMINATE;
            r[i].proctor = i == 0 ? P1 : P3;
        }
        for (int i = 0; i < 2; i++)
            pthread_create(&th[i], NULL, race, &r[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        for (int i = 0; i < 2; i++)
            db_close(r[i].inst.db);
        int wins = (r[0].rc == 0) + (r[1].rc == 0);
        assert_int_equal(wins, 1);
        assert_true(r[0].rc == OP_ECONFLICT || r[1].rc == OP_ECONFLICT);
        assert_int_equal(audit_rows(f, x.row.id), 2);
        /* terminated only if the terminate won, and then exactly one envelope */
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM executions WHERE id = '%s' AND state = 'terminated'",
                 x.row.id);
        assert_int_equal(fx_count(f->dev, sql), r[1].rc == 0);
        force_state(f, x.row.id, "canceled");
        app_execution_clear(&x);
    }
}

/* ---- who may ---- */

static void test_a_test_taker_not_eligible_there_is_refused(void **state)
{
    struct fixture *f = *state;
    struct app_execution x;
    struct op_err e = {0};
    /* T2 is not in the eligibility of DPROC */
    assert_int_equal(app_execution_start(f->dev, T2, DPROC, CA, &x, &e), OP_EFORBIDDEN);
    /* T1 is eligible for DFREE in A, not in B */
    assert_int_equal(app_execution_start(f->dev, T1, DFREE, CB, &x, &e), OP_EFORBIDDEN);
    /* DOTHER is T2's in B only */
    assert_int_equal(app_execution_start(f->dev, T1, DOTHER, CB, &x, &e), OP_EFORBIDDEN);
    /* an unknown delivery */
    assert_int_equal(
        app_execution_start(f->dev, T1, "44444444-0000-4000-8000-0000000000ff", CA, &x, &e),
        OP_EFORBIDDEN);
    /* not an id */
    assert_int_equal(app_execution_start(f->dev, T1, "' OR 1=1 --", CA, &x, &e), OP_EINPUT);
    assert_string_equal(e.field, "delivery_id");
    assert_int_equal(fx_count(f->dev, "SELECT count(*) FROM executions"), 0);
    assert_int_equal(fx_count(f->dev, "SELECT count(*) FROM execution_audit"), 0);
    /* and another test taker's execution is not theirs */
    start(f, DFREE, &x);
    struct app_execution y;
    assert_int_equal(app_execution_get_for_taker(f->dev, T2, x.row.id, &y, &e), OP_EFORBIDDEN);
    struct app_exec_save s = {0, 5, "{}", -1};
    assert_int_equal(app_execution_save(f->dev, T2, x.row.id, x.row.version, &s, &y, &e),
                     OP_EFORBIDDEN);
    assert_int_equal(app_execution_finish(f->dev, T2, x.row.id, x.row.version, NULL, NULL, &y, &e),
                     OP_EFORBIDDEN);
    assert_int_equal(app_execution_get_for_taker(f->dev, T1, "no-such", &y, &e), OP_ENOTFOUND);
    assert_int_equal(outbox_rows(f), 0);
    app_execution_clear(&x);
}

static void test_no_more_executions_than_the_delivery_allows(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct app_execution x, y;
    /* one that has not ended is resumed, not started again */
    start(f, DPROC, &x);
    assert_int_equal(app_execution_start(f->dev, T1, DPROC, CA, &y, &e), OP_ECONFLICT);
    /* a canceled one does not count */
    assert_int_equal(app_execution_cancel(f->dev, T1, x.row.id, x.row.version, &y, &e), 0);
    app_execution_clear(&y);
    app_execution_clear(&x);
    for (int i = 0; i < 2; i++) { /* max_executions 2 */
        start(f, DPROC, &x);
        act_ok(f, &V_P1, &x, PROCTOR_TERMINATE);
        app_execution_clear(&x);
    }
    assert_int_equal(app_execution_start(f->dev, T1, DPROC, CA, &y, &e), OP_EFORBIDDEN);
    assert_non_null(strstr(e.msg, "allows 2"));
    assert_int_equal(fx_count(f->dev, "SELECT count(*) FROM executions"), 3);
    /* unlimited */
    for (int i = 0; i < 3; i++) {
        start(f, DFREE, &x);
        assert_int_equal(
            app_execution_finish(f->dev, T1, x.row.id, x.row.version, NULL, NULL, &y, &e), 0);
        app_execution_clear(&y);
        app_execution_clear(&x);
    }
}

static void test_a_proctor_of_another_center_is_refused_and_nothing_changes(void **state)
{
    struct fixture *f = *state;
    struct app_execution x, y;
    struct op_err e = {0};
    start(f, DPROC, &x);
    for (int a = 0; a < PROCTOR_ACTION_COUNT; a++) {
        assert_int_equal(act(f, &V_P2, x.row.id, a, x.row.version, &y, &e), OP_EFORBIDDEN);
        /* the test taker is no proctor either */
        struct app_exec_viewer t = {T1, NULL, NULL};
        assert_int_equal(act(f, &t, x.row.id, a, x.row.version, &y, &e), OP_EFORBIDDEN);
    }
    assert_int_equal(audit_rows(f, x.row.id), 1);
    struct app_execution now;
    assert_int_equal(app_execution_get_for_taker(f->dev, T1, x.row.id, &now, &e), 0);
    assert_int_equal(now.row.version, 1);
    assert_string_equal(now.row.state, "awaiting_authorization");
    app_execution_clear(&now);
    assert_int_equal(outbox_rows(f), 0);
    /* an unknown id: not found */
    assert_int_equal(
        act(f, &V_P1, "55555555-0000-4000-8000-000000000000", PROCTOR_PAUSE, 1, &y, &e),
        OP_ENOTFOUND);
    /* bad input */
    struct app_proctor_request r = {PROCTOR_EXTRA_TIME, 1, 0, NULL, NULL};
    assert_int_equal(app_execution_proctor_act(f->dev, &V_P1, x.row.id, &r, &y, &e), OP_EINPUT);
    r.seconds = APP_EXEC_EXTRA_MAX + 1;
    assert_int_equal(app_execution_proctor_act(f->dev, &V_P1, x.row.id, &r, &y, &e), OP_EINPUT);
    struct app_proctor_request t = {PROCTOR_IRREGULARITY, 1, 0, "", NULL};
    assert_int_equal(app_execution_proctor_act(f->dev, &V_P1, x.row.id, &t, &y, &e), OP_EINPUT);
    assert_string_equal(e.field, "reason");
    app_execution_clear(&x);
}

static void test_a_proctor_lists_the_executions_of_their_centers_only(void **state)
{
    struct fixture *f = *state;
    struct app_execution x, y;
    struct op_err e = {0};
    start(f, DFREE, &x);
    assert_int_equal(app_execution_start(f->dev, T2, DOTHER, CB, &y, &e), 0);
    json_t *l;
    assert_int_equal(app_proctor_executions(f->dev, &V_P1, &l, &e), 0);
    json_t *xs = json_object_get(l, "executions");
    assert_int_equal(json_array_size(xs), 1);
    json_t *one = json_array_get(xs, 0);
    assert_string_equal(json_string_value(json_object_get(one, "id")), x.row.id);
    assert_string_equal(json_string_value(json_object_get(one, "test_taker_label")), "t1");
    assert_string_equal(json_string_value(json_object_get(one, "delivery_label")), "Free");
    assert_string_equal(json_string_value(json_object_get(one, "state")), "active");
    json_decref(l);
    /* with P1's vault key pair, the label sealed to P1 */
    struct app_exec_viewer v = {P1, f->p1_pk, f->p1_sk};
    assert_int_equal(app_proctor_executions(f->dev, &v, &l, &e), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(l, "executions"), 0),
                                          "test_taker_label")),
        "\xc3\x89lise Martin");
    json_decref(l);
    assert_int_equal(app_proctor_executions(f->dev, &V_P2, &l, &e), 0);
    assert_int_equal(json_array_size(json_object_get(l, "executions")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(l, "executions"), 0), "id")),
                        y.row.id);
    json_decref(l);
    struct app_exec_viewer t = {T1, NULL, NULL};
    assert_int_equal(app_proctor_executions(f->dev, &t, &l, &e), 0);
    assert_int_equal(json_array_size(json_object_get(l, "executions")), 0);
    json_decref(l);
    app_execution_clear(&x);
    app_execution_clear(&y);
}

static void test_my_deliveries_lists_eligibilities_with_their_executions(void **state)
{
    struct fixture *f = *state;
    struct app_execution x;
    struct op_err e = {0};
    start(f, DFREE, &x);
    json_t *l;
    assert_int_equal(app_my_deliveries(f->dev, T1, &l, &e), 0);
    json_t *ds = json_object_get(l, "deliveries");
    assert_int_equal(json_array_size(ds), 2);
    int seen = 0;
    size_t i;
    json_t *d;
    json_array_foreach(ds, i, d)
    {
        const char *id = json_string_value(json_object_get(d, "delivery_id"));
        assert_string_equal(json_string_value(json_object_get(d, "center_id")), CA);
        assert_string_equal(json_string_value(json_object_get(d, "center_label")), "Lyc\xc3\xa9"
                                                                                   "e A");
        if (strcmp(id, DPROC) == 0) {
            assert_true(json_is_true(json_object_get(d, "proctored")));
            assert_int_equal(json_integer_value(json_object_get(d, "max_executions")), 2);
            assert_int_equal(json_array_size(json_object_get(d, "executions")), 0);
            seen |= 1;
        } else {
            assert_string_equal(id, DFREE);
            assert_true(json_is_null(json_object_get(d, "max_executions")));
            json_t *xs = json_object_get(d, "executions");
            assert_int_equal(json_array_size(xs), 1);
            assert_string_equal(json_string_value(json_object_get(json_array_get(xs, 0), "id")),
                                x.row.id);
            seen |= 2;
        }
    }
    assert_int_equal(seen, 3);
    json_decref(l);
    assert_int_equal(app_my_deliveries(f->dev, T2, &l, &e), 0);
    assert_int_equal(json_array_size(json_object_get(l, "deliveries")), 2); /* A free, B other */
    json_decref(l);
    app_execution_clear(&x);
}

/* ---- time ---- */

static void test_time_runs_only_while_active_and_no_answer_after_it(void **state)
{
    struct fixture *f = *state;
    struct app_execution x, y;
    struct op_err e = {0};
    start(f, DFREE, &x);
    save_ok(f, &x, 0, 60); /* the runner sets a 60 s limit */
    assert_int_equal(x.time_left, 60);
    now_t += 30;
    save_ok(f, &x, 1, -1);
    assert_int_equal(x.time_left, 30);
    act_ok(f, &V_P1, &x, PROCTOR_PAUSE);
    now_t += 1000; /* paused: the clock stops */
    act_ok(f, &V_P1, &x, PROCTOR_RESUME);
    assert_int_equal(x.time_left, 30);
    act_ok(f, &V_P1, &x, PROCTOR_EXTRA_TIME); /* +60 */
    assert_int_equal(x.time_left, 90);
    now_t += 90;
    struct app_exec_save s = {2, 5, "{\"late\":1}", -1};
    assert_int_equal(app_execution_save(f->dev, T1, x.row.id, x.row.version, &s, &y, &e),
                     OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "time is up"));
    /* the runner finishes it */
    assert_int_equal(app_execution_finish(f->dev, T1, x.row.id, x.row.version, NULL, NULL, &y, &e),
                     0);
    assert_int_equal(y.time_left, 0);
    assert_int_equal(y.row.consumed, 120);
    /* extra time never reopens an ended execution */
    struct app_execution z;
    assert_int_equal(act(f, &V_P1, x.row.id, PROCTOR_EXTRA_TIME, y.row.version, &z, &e),
                     OP_ECONFLICT);
    app_execution_clear(&x);
    app_execution_clear(&y);
}

/* ---- the audit log and the seal ---- */

static void test_the_audit_chain_verifies_and_a_tampered_entry_breaks_it(void **state)
{
    struct fixture *f = *state;
    struct app_execution x;
    struct op_err e = {0};
    start(f, DPROC, &x);
    act_ok(f, &V_P1, &x, PROCTOR_AUTHORIZE);
    act_ok(f, &V_P1, &x, PROCTOR_PAUSE);
    act_ok(f, &V_P1, &x, PROCTOR_RESUME);
    int64_t bad;
    assert_int_equal(app_execution_audit_verify(f->dev, x.row.id, &bad, &e), 0);
    assert_int_equal(bad, 0);
    char sql[300];
    snprintf(sql, sizeof sql,
             "UPDATE execution_audit SET actor_id = '" P2 "' WHERE execution_id = '%s' AND seq = 3",
             x.row.id);
    assert_int_equal(db_exec(f->dev->db, sql, &e), 0);
    assert_int_equal(app_execution_audit_verify(f->dev, x.row.id, &bad, &e), 0);
    assert_int_equal(bad, 3);
    /* removing an entry breaks the chain too */
    snprintf(sql, sizeof sql,
             "UPDATE execution_audit SET actor_id = '" P1 "' WHERE execution_id = '%s' AND seq = 3;"
             "DELETE FROM execution_audit WHERE execution_id = '%s' AND seq = 2",
             x.row.id, x.row.id);
    assert_int_equal(db_exec(f->dev->db, sql, &e), 0);
    assert_int_equal(app_execution_audit_verify(f->dev, x.row.id, &bad, &e), 0);
    assert_int_equal(bad, 3);
    app_execution_clear(&x);
}

static void test_the_sealed_audit_chain_verifies_at_central(void **state)
{
    struct fixture *f = *state;
    struct app_execution x, y;
    struct op_err e = {0};
    start(f, DPROC, &x);
    act_ok(f, &V_P1, &x, PROCTOR_AUTHORIZE);
    assert_int_equal(app_execution_begin(f->dev, T1, x.row.id, x.row.version, &y, &e), 0);
    assert_int_equal(app_execution_finish(f->dev, T1, y.row.id, y.row.version, NULL, NULL, &x, &e),
                     0);
    int st;
    json_t *doc = open_outbox(f, &st);
    json_t *chain = json_object_get(doc, "audit");
    int n = (int)json_array_size(chain);
    assert_int_equal(n, 4);
    struct audit_entry *v = calloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) { /* rebuilt from the JSON alone, as central would */
        json_t *a = json_array_get(chain, (size_t)i);
        snprintf(v[i].execution_id, sizeof v[i].execution_id, "%s", x.row.id);
        v[i].seq = json_integer_value(json_object_get(a, "seq"));
        v[i].at = json_integer_value(json_object_get(a, "at"));
        snprintf(v[i].actor_id, sizeof v[i].actor_id, "%s",
                 json_string_value(json_object_get(a, "actor_id")));
        snprintf(v[i].actor_role, sizeof v[i].actor_role, "%s",
                 json_string_value(json_object_get(a, "actor_role")));
        snprintf(v[i].action, sizeof v[i].action, "%s",
                 json_string_value(json_object_get(a, "action")));
        snprintf(v[i].from_state, sizeof v[i].from_state, "%s",
                 json_string_value(json_object_get(a, "from")));
        snprintf(v[i].to_state, sizeof v[i].to_state, "%s",
                 json_string_value(json_object_get(a, "to")));
        char *d = json_dumps(json_object_get(a, "detail"), JSON_COMPACT | JSON_SORT_KEYS);
        snprintf(v[i].detail, sizeof v[i].detail, "%s", d);
        free(d);
        snprintf(v[i].prev_hash, sizeof v[i].prev_hash, "%s",
                 json_string_value(json_object_get(a, "prev_hash")));
        snprintf(v[i].hash, sizeof v[i].hash, "%s", json_string_value(json_object_get(a, "hash")));
    }
    int64_t bad;
    assert_int_equal(executions_audit_check(v, n, &bad, &e), 0);
    assert_int_equal(bad, 0);
    snprintf(v[1].actor_id, sizeof v[1].actor_id, "%s", P3);
    assert_int_equal(executions_audit_check(v, n, &bad, &e), 0);
    assert_int_equal(bad, 2);
    free(v);
    json_decref(doc);
    app_execution_clear(&x);
    app_execution_clear(&y);
}

static void test_a_crash_before_the_commit_seals_nothing_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct app_execution x, y;
    struct op_err e = {0};
    start(f, DFREE, &x);
    save_ok(f, &x, 1, 0);
    app_executions_fail_before_commit(1);
    assert_int_equal(app_execution_finish(f->dev, T1, x.row.id, x.row.version, NULL, NULL, &y, &e),
                     OP_EIO);
    assert_int_equal(act(f, &V_P1, x.row.id, PROCTOR_TERMINATE, x.row.version, &y, &e), OP_EIO);
    app_executions_fail_before_commit(0);
    assert_int_equal(outbox_rows(f), 0);
    assert_int_equal(audit_rows(f, x.row.id), 1);
    struct app_execution now;
    assert_int_equal(app_execution_get_for_taker(f->dev, T1, x.row.id, &now, &e), 0);
    assert_string_equal(now.row.state, "active");
    assert_int_equal(now.row.version, x.row.version);
    assert_string_equal(now.row.result_id, "");
    app_execution_clear(&now);
    /* and then it finishes, once */
    assert_int_equal(app_execution_finish(f->dev, T1, x.row.id, x.row.version, NULL, NULL, &y, &e),
                     0);
    assert_int_equal(outbox_rows(f), 1);
    app_execution_clear(&y);
    app_execution_clear(&x);
}

static void test_a_device_without_central_results_key_cannot_finish_and_keeps_state(void **state)
{
    struct fixture *f = *state;
    struct app_execution x, y;
    struct op_err e = {0};
    start(f, DFREE, &x);
    assert_int_equal(meta_delete(f->dev->db, META_CENTRAL_RESULTS_KEY, &e), 0);
    assert_int_equal(app_execution_finish(f->dev, T1, x.row.id, x.row.version, NULL, NULL, &y, &e),
                     OP_ESTATE);
    assert_int_equal(outbox_rows(f), 0);
    assert_int_equal(audit_rows(f, x.row.id), 1);
    app_execution_clear(&x);
}

/* ---- request bodies ---- */

static void test_bodies_are_parsed_strictly(void **state)
{
    (void)state;
    struct op_err e = {0};
    struct app_exec_start_body sb;
    struct {
        const char *json;
        int rc;
        const char *field;
    } starts[] = {
        {"{\"delivery_id\":\"" DPROC "\",\"center_id\":\"" CA "\"}", 0, NULL},
        {"{\"delivery_id\":\"" DPROC "\"}", OP_EINPUT, "center_id"},
        {"{\"delivery_id\":\"" DPROC "\",\"center_id\":\"" CA "\",\"test_taker_id\":\"" T2 "\"}",
         OP_EINPUT, "body"},
        {"{\"delivery_id\":7,\"center_id\":\"" CA "\"}", OP_EINPUT, "delivery_id"},
        {"{\"delivery_id\":\"../x\",\"center_id\":\"" CA "\"}", OP_EINPUT, "delivery_id"},
        {"[]", OP_EINPUT, "body"},
    };
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        json_t *b = json_loads(starts[i].json, 0, NULL);
        assert_non_null(b);
        memset(&e, 0, sizeof e);
        assert_int_equal(app_exec_start_body_parse(b, &sb, &e), starts[i].rc);
        if (starts[i].field)
            assert_string_equal(e.field, starts[i].field);
        else
            assert_string_equal(sb.center_id, CA);
        json_decref(b);
    }
    struct app_proctor_request r;
    struct {
        int action;
        const char *json;
        int rc;
        const char *field;
    } acts[] = {
        {PROCTOR_PAUSE, "{\"version\":3}", 0, NULL},
        {PROCTOR_PAUSE, "{}", OP_EINPUT, "version"},
        {PROCTOR_PAUSE, "{\"version\":0}", OP_EINPUT, "version"},
        {PROCTOR_PAUSE, "{\"version\":\"3\"}", OP_EINPUT, "version"},
        {PROCTOR_PAUSE, "{\"version\":3,\"seconds\":60}", OP_EINPUT, "body"},
        {PROCTOR_EXTRA_TIME, "{\"version\":3,\"seconds\":60}", 0, NULL},
        {PROCTOR_EXTRA_TIME, "{\"version\":3}", OP_EINPUT, "seconds"},
        {PROCTOR_EXTRA_TIME, "{\"version\":3,\"seconds\":86401}", OP_EINPUT, "seconds"},
        {PROCTOR_EXTRA_TIME, "{\"version\":3,\"seconds\":-5}", OP_EINPUT, "seconds"},
        {PROCTOR_TERMINATE, "{\"version\":3}", 0, NULL},
        {PROCTOR_TERMINATE, "{\"version\":3,\"reason\":\"fire alarm\"}", 0, NULL},
        {PROCTOR_IRREGULARITY, "{\"version\":3}", OP_EINPUT, "reason"},
        {PROCTOR_IRREGULARITY, "{\"version\":3,\"reason\":[1]}", OP_EINPUT, "reason"},
        {PROCTOR_IRREGULARITY, "{\"version\":3,\"reason\":\"a\\u0000b\"}", OP_EINPUT, "reason"},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        json_t *b = json_loads(acts[i].json, JSON_ALLOW_NUL, NULL);
        assert_non_null(b);
        memset(&e, 0, sizeof e);
        int rc = app_proctor_body_parse(b, acts[i].action, &r, &e);
        if (rc != acts[i].rc)
            fail_msg("%s: %d (%s)", acts[i].json, rc, e.msg);
        if (acts[i].field)
            assert_string_equal(e.field, acts[i].field);
        else
            assert_int_equal(r.version, 3);
        json_decref(b);
    }
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_unproctored_start_is_active_saves_and_finishes_into_one_envelope),
        T(test_proctored_start_waits_then_authorize_begin_pause_resume_terminate),
        T(test_cancel_before_the_test_begins_and_not_after),
        T(test_every_forbidden_transition_is_refused_and_changes_nothing),
        T(test_two_actors_on_the_same_version_one_wins_one_conflicts),
        T(test_concurrent_proctors_on_two_connections_never_both_win),
        T(test_a_test_taker_not_eligible_there_is_refused),
        T(test_no_more_executions_than_the_delivery_allows),
        T(test_a_proctor_of_another_center_is_refused_and_nothing_changes),
        T(test_a_proctor_lists_the_executions_of_their_centers_only),
        T(test_my_deliveries_lists_eligibilities_with_their_executions),
        T(test_time_runs_only_while_active_and_no_answer_after_it),
        T(test_the_audit_chain_verifies_and_a_tampered_entry_breaks_it),
        T(test_the_sealed_audit_chain_verifies_at_central),
        T(test_a_crash_before_the_commit_seals_nothing_and_changes_nothing),
        T(test_a_device_without_central_results_key_cannot_finish_and_keeps_state),
        cmocka_unit_test(test_bodies_are_parsed_strictly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
