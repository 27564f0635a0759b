/*
 * results_fixture.h - a central with results to read, for the tests of the results tab and
 * the exports: organisation ORG-1 with test center C1 and its sub-center C1B, ORG-2 with C2;
 * test takers, an administrator of C1 (ADMIN1) and one of C2 (ADMIN2); delivery DELIV ("Maths
 * 2026"); a device of each organisation; and rf_result(), which seals a result as a device
 * does (the execution, the runner's outcome with items, a hash-chained audit log built with
 * the store's own audit_hash), receives it and, on request, decrypts it. On a central the test
 * made (rf_on). Static functions, included by test programs only.
 */
#ifndef OUTPOST_TESTS_RESULTS_FIXTURE_H
#define OUTPOST_TESTS_RESULTS_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/executions.h"
#include "app/results.h"
#include "base/fs.h"
#include "crypto/keys.h"
#include "instance/instance.h"
#include "testutil.h"
#include "crypto/envelope.h"
#include "store/devices.h"
#include "store/executions.h"

#define RF_DELIV    "dddddddd-1111-4000-8000-000000000001"
#define RF_C1       "cccccccc-1111-4000-8000-000000000001"
#define RF_C1B      "cccccccc-1111-4000-8000-000000000002"
#define RF_C2       "cccccccc-1111-4000-8000-000000000003"
#define RF_ADMIN1   "eeeeeeee-1111-4000-8000-000000000001"
#define RF_ADMIN2   "eeeeeeee-1111-4000-8000-000000000002"
#define RF_PROCTOR  "eeeeeeee-1111-4000-8000-000000000003"
#define RF_TAKER(n) "aaaaaaaa-1111-4000-8000-00000000000" #n

struct rf {
    struct instance *inst;
    struct key results;
    struct key dev1, dev2; /* devices of ORG-1 and ORG-2 */
    char dev1_id[UUID_STR_LEN], dev2_id[UUID_STR_LEN];
    int64_t clock; /* the next result's start */
};

static inline void rf_enrol(struct rf *f, const char *org, const char *label, struct key *k,
                            char id[UUID_STR_LEN])
{
    struct op_err e = {0};
    uuid_generate(id);
    char *dir = fs_join(f->inst->dir, id);
    assert_int_equal(keys_setup_device(dir, NULL, &e), 0);
    assert_int_equal(keys_load_device_signing(dir, k, &e), 0);
    free(dir);
    struct device d;
    memset(&d, 0, sizeof d);
    memcpy(d.id, id, UUID_STR_LEN);
    d.label = (char *)label;
    d.org_id = (char *)org;
    memcpy(d.signing_public_key, k->public_key, KEY_PUBLIC_BYTES);
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    assert_int_equal(devices_insert(f->inst->db, &d, &e), 0);
    assert_int_equal(db_commit(f->inst->db, &e), 0);
}

#define RF_T "'2026-01-01T00:00:00Z'"

/* The fixture's records on central `inst` (the caller's, which it keeps: rf_release). */
static inline struct rf *rf_on(struct instance *inst)
{
    struct rf *f = calloc(1, sizeof *f);
    f->inst = inst;
    struct op_err e = {0};
    char *keys = instance_path(f->inst, "keys");
    assert_int_equal(keys_results_current(keys, &f->results, &e), 0);
    free(keys);
    static const char *sql =
        "INSERT INTO users (id, login, role, label, password_hash, created_at, updated_at) VALUES"
        " ('" RF_TAKER(
            1) "', 'ada', 'test-taker', 'Ada Lovelace', 'x', " RF_T ", " RF_T "),"
               " ('" RF_TAKER(
                   2) "', 'alan', 'test-taker', '=HYPERLINK(\"x\")', 'x', " RF_T ", " RF_T "),"
                      " ('" RF_TAKER(
                          3) "', 'grace', 'test-taker', 'Grace \"Amazing\" Hopper, USN', 'x', " RF_T
                             ", " RF_T "),"
                             " ('" RF_TAKER(
                                 4) "', 'edsger', 'test-taker', 'Edsger Dijkstra', 'x', " RF_T
                                    ", " RF_T "),"
                                    " ('" RF_ADMIN1
                                    "', 'admin1', 'test-center-admin', NULL, 'x', " RF_T ", " RF_T
                                    "),"
                                    " ('" RF_ADMIN2
                                    "', 'admin2', 'test-center-admin', NULL, 'x', " RF_T ", " RF_T
                                    "),"
                                    " ('" RF_PROCTOR "', 'proc', 'proctor', NULL, 'x', " RF_T
                                    ", " RF_T ");"
                                    "INSERT INTO test_centers (id, label, org_id, parent_id, "
                                    "created_at, updated_at) VALUES"
                                    " ('" RF_C1 "', 'Lycée A', 'ORG-1', NULL, " RF_T ", " RF_T "),"
                                    " ('" RF_C1B "', 'Lycée A annexe', 'ORG-1', '" RF_C1 "', " RF_T
                                    ", " RF_T "),"
                                    " ('" RF_C2 "', 'School B', 'ORG-2', NULL, " RF_T ", " RF_T ");"
                                    "INSERT INTO test_center_staff (center_id, user_id, duty) "
                                    "VALUES"
                                    " ('" RF_C1 "', '" RF_ADMIN1 "', 'admin'), ('" RF_C2
                                    "', '" RF_ADMIN2 "', 'admin'),"
                                    " ('" RF_C1 "', '" RF_PROCTOR "', 'proctor');"
                                    "INSERT INTO deliveries (id, label, created_at, updated_at) "
                                    "VALUES"
                                    " ('" RF_DELIV "', 'Maths 2026', " RF_T ", " RF_T ");"
                                    "INSERT INTO eligibilities (id, center_id, delivery_id, "
                                    "created_at, updated_at) VALUES"
                                    " ('el-1', '" RF_C1 "', '" RF_DELIV "', " RF_T ", " RF_T "),"
                                    " ('el-1b', '" RF_C1B "', '" RF_DELIV "', " RF_T ", " RF_T "),"
                                    " ('el-2', '" RF_C2 "', '" RF_DELIV "', " RF_T ", " RF_T ");"
                                    "INSERT INTO eligibility_test_takers (eligibility_id, user_id) "
                                    "VALUES"
                                    " ('el-1', '" RF_TAKER(1) "'), ('el-1', '" RF_TAKER(
                                        2) "'), ('el-1b', '" RF_TAKER(3) "'),"
                                                                         " ('el-2', '" RF_TAKER(
                                                                             4) "');";
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    if (db_exec(f->inst->db, sql, &e) != 0)
        fail_msg("results fixture: %s", e.msg);
    assert_int_equal(db_commit(f->inst->db, &e), 0);
    rf_enrol(f, "ORG-1", "Laptop 1", &f->dev1, f->dev1_id);
    rf_enrol(f, "ORG-2", "Laptop 2", &f->dev2, f->dev2_id);
    f->clock = 1800000000;
    return f;
}

static inline void rf_release(struct rf *f)
{
    key_wipe(&f->results);
    key_wipe(&f->dev1);
    key_wipe(&f->dev2);
    free(f);
}

/* What one result holds. */
struct rf_spec {
    const char *taker;  /* RF_TAKER(n) */
    const char *center; /* the center the device says */
    int org2;           /* sent by ORG-2's device */
    int terminated;
    double score, max;
    const char *response; /* item i1's RESPONSE (a string) */
    const char *note;     /* a test-level string outcome NOTE, or NULL */
};

/* The device's audit log of an execution: start, finish (or a proctor's terminate). */
static inline json_t *rf_audit(const char *execution_id, const char *taker, int terminated,
                               int64_t t0)
{
    struct audit_entry v[3];
    memset(v, 0, sizeof v);
    const char *actions[3] = {"start", "irregularity", terminated ? "terminate" : "finish"};
    const char *from[3] = {"", "active", "active"};
    const char *to[3] = {"active", "active", terminated ? "terminated" : "finished"};
    char prev[SHA256_HEX_LEN];
    memset(prev, '0', SHA256_HEX_LEN - 1);
    prev[SHA256_HEX_LEN - 1] = '\0';
    struct op_err e = {0};
    for (int i = 0; i < 3; i++) {
        snprintf(v[i].execution_id, sizeof v[i].execution_id, "%s", execution_id);
        v[i].seq = i + 1;
        v[i].at = t0 + 60 * i;
        snprintf(v[i].actor_id, sizeof v[i].actor_id, "%s", i == 0 ? taker : RF_PROCTOR);
        snprintf(v[i].actor_role, sizeof v[i].actor_role, "%s", i == 0 ? "test-taker" : "proctor");
        snprintf(v[i].action, sizeof v[i].action, "%s", actions[i]);
        snprintf(v[i].from_state, sizeof v[i].from_state, "%s", from[i]);
        snprintf(v[i].to_state, sizeof v[i].to_state, "%s", to[i]);
        snprintf(v[i].detail, sizeof v[i].detail, "%s",
                 i == 1 ? "{\"reason\":\"phone out, \\u00e9t\\u00e9\"}" : "{}");
        /* the device stores the detail as jansson writes it */
        json_error_t je;
        json_t *d = json_loads(v[i].detail, 0, &je);
        char *text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
        snprintf(v[i].detail, sizeof v[i].detail, "%s", text);
        free(text);
        json_decref(d);
        memcpy(v[i].prev_hash, prev, SHA256_HEX_LEN);
        assert_int_equal(audit_hash(&v[i], prev, v[i].hash, &e), 0);
        memcpy(prev, v[i].hash, SHA256_HEX_LEN);
    }
    return app_execution_audit_json(v, 3);
}

/* The result JSON of `s` as a device seals it (docs/api.md, "The sealed result"); the caller
 * frees it. */
static inline char *rf_payload(const struct rf_spec *s, const char *execution_id,
                               const char *result_id, const char *device_id, int64_t t0)
{
    json_t *outcomes = json_pack("{s:f, s:f}", "SCORE_TOTAL", s->score, "SCORE_TOTAL_MAX", s->max);
    if (s->note)
        json_object_set_new(outcomes, "NOTE", json_string(s->note));
    json_t *items = json_pack(
        "{s:{s:s, s:{s:s}, s:{s:f, s:s}, s:f}, s:{s:s, s:{s:[s,s], s:s}, s:{s:f}, s:f}}", "i1",
        "identifier", "item-1", "responses", "RESPONSE", s->response ? s->response : "choice_a",
        "outcomes", "SCORE", s->score > 0 ? 1.0 : 0.0, "completionStatus", "completed", "duration",
        12.5, "i2", "identifier", "item-2", "responses", "RESPONSE", "A", "B", "PAIR", "x y",
        "outcomes", "SCORE", s->score > 1 ? s->score - 1 : 0.0, "duration", 30.0);
    json_t *outcome =
        json_pack("{s:i, s:s, s:o, s:[s,s], s:o, s:b}", "format", 1, "test", "maths", "outcomes",
                  outcomes, "route", "i1", "i2", "items", items, "partial", s->terminated);
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:s}, s:n, s:o, s:o}", "format",
        "outpost result v1", "execution", "id", execution_id, "delivery_id", RF_DELIV,
        "delivery_version", 1, "test_taker_id", s->taker, "center_id", s->center, "device_id",
        device_id, "state", s->terminated ? "terminated" : "finished", "started_at", (json_int_t)t0,
        "ended_at", (json_int_t)(t0 + 120), "result_id", result_id, "session", "outcome", outcome,
        "audit", rf_audit(execution_id, s->taker, s->terminated, t0));
    assert_non_null(doc);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return text;
}

/* Seals `s` as its device does and receives it on central; its result id in id. Each result
 * starts 10 minutes after the one before. */
static inline void rf_result(struct rf *f, const struct rf_spec *s, char id[UUID_STR_LEN])
{
    struct envelope_header h;
    memset(&h, 0, sizeof h);
    h.state = s->terminated ? ENVELOPE_TERMINATED : ENVELOPE_FINISHED;
    uuid_generate(h.result_id);
    uuid_generate(h.execution_id);
    snprintf(h.delivery_id, sizeof h.delivery_id, "%s", RF_DELIV);
    snprintf(h.test_taker_id, sizeof h.test_taker_id, "%s", s->taker);
    const char *dev = s->org2 ? f->dev2_id : f->dev1_id;
    snprintf(h.device_id, sizeof h.device_id, "%s", dev);
    int64_t t0 = f->clock;
    f->clock += 600;
    h.started_at = t0;
    h.ended_at = t0 + 120;
    h.sealed_at = t0 + 121;
    char *payload = rf_payload(s, h.execution_id, h.result_id, dev, t0);
    unsigned char *env;
    size_t len;
    struct op_err e = {0};
    if (envelope_seal(&h, (const unsigned char *)payload, strlen(payload), f->results.public_key,
                      s->org2 ? &f->dev2 : &f->dev1, &env, &len, &e) != 0)
        fail_msg("seal: %s", e.msg);
    free(payload);
    enum app_results_outcome outcome;
    if (app_results_receive(f->inst, env, len, &outcome, &e) != 0)
        fail_msg("receive: %s", e.msg);
    free(env);
    memcpy(id, h.result_id, UUID_STR_LEN);
}

static inline void rf_decrypt(struct rf *f)
{
    struct op_err e = {0};
    const struct app_results_decrypt_in in = {NULL};
    struct app_results_decrypt_out out;
    if (app_results_decrypt(f->inst, &in, &out, NULL, NULL, &e) != 0)
        fail_msg("decrypt: %s", e.msg);
}

#endif
