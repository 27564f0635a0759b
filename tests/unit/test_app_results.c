/* test_app_results.c - the application's results on central (app/results.h): receiving
 * envelopes (device, signature, results key, scope, quarantine), importing a file of them,
 * decrypting, and the JSON forms, on a temporary central. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/results.h"
#include "app_instance_fixture.h"
#include "crypto/envelope.h"
#include "crypto/sign.h"
#include "envelope_fixture.h"
#include "instance/keycheck.h"
#include "store/devices.h"
#include "store/results_keys.h"

struct fixture {
    struct instance *inst; /* a central */
    char *central_keys;    /* its key folder */
    struct key results;    /* central's current results key */
    struct key device;     /* the device's signing key */
    char device_id[UUID_STR_LEN];
};

/* The device's organisation (ORG-1) has a test center where TAKER is eligible for DELIVERY;
 * ORG-2 has one where OTHER_TAKER is eligible for OTHER_DELIVERY. */
#define OTHER_TAKER    "aaaaaaaa-0000-4000-8000-000000000002"
#define OTHER_DELIVERY "dddddddd-0000-4000-8000-000000000002"

static void make_scope(struct db *db)
{
    static const char *sql =
        "INSERT INTO users (id, login, role, password_hash, created_at, updated_at) VALUES"
        " ('" TAKER "', 't1', 'test-taker', 'x', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'),"
        " ('" OTHER_TAKER "', 't2', 'test-taker', 'x', '2024-01-01T00:00:00Z',"
        "  '2024-01-01T00:00:00Z');"
        "INSERT INTO test_centers (id, label, org_id, created_at, updated_at) VALUES"
        " ('c1', 'C1', 'ORG-1', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'),"
        " ('c2', 'C2', 'ORG-2', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z');"
        "INSERT INTO deliveries (id, label, created_at, updated_at) VALUES"
        " ('" DELIVERY "', 'D1', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'),"
        " ('" OTHER_DELIVERY "', 'D2', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z');"
        "INSERT INTO eligibilities (id, center_id, delivery_id, created_at, updated_at) VALUES"
        " ('e1', 'c1', '" DELIVERY "', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'),"
        " ('e2', 'c2', '" OTHER_DELIVERY "', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z');"
        "INSERT INTO eligibility_test_takers (eligibility_id, user_id) VALUES"
        " ('e1', '" TAKER "'), ('e2', '" OTHER_TAKER "');";
    struct op_err e = {0};
    if (db_exec(db, sql, &e) != 0)
        fail_msg("scope: %s", e.msg);
}

/* A device of organisation `org` with its own key folder, enrolled on central; its key in
 * *k, its id in id. */
static void enrol_device(struct fixture *f, const char *org, struct key *k, char id[UUID_STR_LEN])
{
    struct op_err e = {0};
    uuid_generate(id);
    char *dir = fs_join(f->inst->dir, id); /* the device's key folder */
    assert_int_equal(keys_setup_device(dir, NULL, &e), 0);
    assert_int_equal(keys_load_device_signing(dir, k, &e), 0);
    free(dir);
    struct device d;
    memset(&d, 0, sizeof d);
    memcpy(d.id, id, UUID_STR_LEN);
    d.label = (char *)org;
    d.org_id = (char *)org;
    memcpy(d.signing_public_key, k->public_key, KEY_PUBLIC_BYTES);
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    assert_int_equal(devices_insert(f->inst->db, &d, &e), 0);
    assert_int_equal(db_commit(f->inst->db, &e), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance(ROLE_CENTRAL);
    f->central_keys = instance_path(f->inst, "keys");
    struct op_err e = {0};
    assert_int_equal(keys_results_current(f->central_keys, &f->results, &e), 0);
    enrol_device(f, "ORG-1", &f->device, f->device_id);
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    make_scope(f->inst->db);
    assert_int_equal(db_commit(f->inst->db, &e), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    key_wipe(&f->results);
    key_wipe(&f->device);
    free(f->central_keys);
    fx_instance_free(f->inst);
    free(f);
    return 0;
}

enum { STORED = 1, DUPLICATE = 2 };

/* app_results_receive: STORED or DUPLICATE, or its error. */
static int receive(struct fixture *f, const unsigned char *data, size_t len, struct op_err *e)
{
    enum app_results_outcome outcome;
    int rc = app_results_receive(f->inst, data, len, &outcome, e);
    if (rc != 0)
        return rc;
    return outcome == APP_RESULTS_STORED ? STORED : DUPLICATE;
}

struct problems {
    int n;
    char last[256];
    char all[4096];
};

static void note(const struct app_results_problem *p, void *ctx)
{
    struct problems *ps = ctx;
    ps->n++;
    snprintf(ps->last, sizeof ps->last, "%s: %s", p->id, p->reason);
    size_t used = strlen(ps->all);
    snprintf(ps->all + used, sizeof ps->all - used, "%s\n", ps->last);
}

/* app_results_decrypt of the pending results of `delivery_id` (NULL: all). */
static int decrypt(struct fixture *f, const char *delivery_id, struct app_results_decrypt_out *rep,
                   struct problems *probs, struct op_err *e)
{
    const struct app_results_decrypt_in in = {delivery_id};
    return app_results_decrypt(f->inst, &in, rep, note, probs, e);
}

/* The count a query with ?1 = p1 and ?2 = p2 (each if not NULL) gives. */
static int count_sql(struct fixture *f, const char *sql, const char *p1, const char *p2)
{
    struct op_err e = {0};
    struct db_stmt *st = db_stmt(f->inst->db, sql, &e);
    if (!st)
        fail_msg("%s: %s", sql, e.msg);
    if (p1)
        db_bind_text(st, 1, p1);
    if (p2)
        db_bind_text(st, 2, p2);
    assert_int_equal(db_step(st), DB_ROW);
    int n = db_column_int(st, 0);
    db_stmt_done(f->inst->db, st);
    return n;
}

static int count_results(struct fixture *f)
{
    return count_sql(f, "SELECT count(*) FROM results", NULL, NULL);
}

static struct envelope_header header(const struct fixture *f)
{
    return envfx_header(f->device_id);
}

static unsigned char *seal(const struct fixture *f, const struct envelope_header *h,
                           const char *payload, const struct key *results, size_t *len)
{
    return envfx_seal(h, payload, results, &f->device, len);
}

static void put_time(unsigned char *data, size_t off, int64_t t)
{
    uint64_t u = (uint64_t)t;
    for (int i = 7; i >= 0; i--, u >>= 8)
        data[off + (size_t)i] = (unsigned char)u;
}

/* A signed envelope from an enrolled device with a time stamp near INT64_MAX made gmtime_r
 * fail and the unterminated text of an uninitialised struct tm reach the database (a stack
 * buffer overflow in `results import`). Time stamps must lie in the years 2000 to 9999 and
 * in order: started <= ended <= sealed. */
static void test_time_stamps_outside_2000_to_9999_or_out_of_order_are_refused(void **state)
{
    struct fixture *f = *state;
    const int64_t lo = 946684800, hi = 253402300799; /* 2000-01-01, 9999-12-31T23:59:59 */
    const struct {
        int64_t started, ended, sealed;
        const char *msg;
    } cases[] = {
        {INT64_MAX, INT64_MAX, INT64_MAX, "outside the years 2000 to 9999"},
        {1700000000, 1700000001, INT64_MAX, "sealed at"},
        {1700000000, INT64_MAX - 1, INT64_MAX, "ended at"},
        {lo - 1, 1700000001, 1700000002, "started at"},
        {1700000000, 1700000001, hi + 1, "sealed at"},
        {1700000002, 1700000001, 1700000003, "started after it ended"},
        {1700000000, 1700000003, 1700000002, "ended after it was sealed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct envelope_header h = header(f);
        size_t len;
        unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
        put_time(data, 96, cases[i].started);
        put_time(data, 104, cases[i].ended);
        put_time(data, 112, cases[i].sealed);
        envfx_resign(&f->device, data, len);
        struct envelope env;
        struct op_err e = {0};
        assert_int_equal(envelope_parse(data, len, &env, &e), OP_EINPUT);
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("case %zu: expected \"%s\" in \"%s\"", i, cases[i].msg, e.msg);
        assert_int_equal(receive(f, data, len, &e), OP_EINPUT);
        assert_int_equal(count_results(f), 0);
        free(data);
    }
    /* the limits themselves are accepted and stored as written */
    struct envelope_header h = header(f);
    h.started_at = lo;
    h.ended_at = hi;
    h.sealed_at = hi;
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    struct op_err e = {0};
    assert_int_equal(receive(f, data, len, &e), STORED);
    struct db_stmt *st = db_stmt(f->inst->db, "SELECT started_at, sealed_at FROM results", &e);
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_column_text(st, 0), "2000-01-01T00:00:00Z");
    assert_string_equal(db_column_text(st, 1), "9999-12-31T23:59:59Z");
    db_stmt_done(f->inst->db, st);
    free(data);
    /* and a device refuses to seal a time stamp out of range */
    h = header(f);
    h.sealed_at = INT64_MAX;
    unsigned char *out;
    assert_int_equal(envelope_seal(&h, (const unsigned char *)PAYLOAD, strlen(PAYLOAD),
                                   f->results.public_key, &f->device, &out, &len, &e),
                     OP_EINPUT);
}

static void test_central_rejects_unknown_revoked_and_wrongly_signed(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct envelope_header h = header(f);
    size_t len;
    /* unknown device */
    uuid_generate(h.device_id);
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    assert_int_equal(receive(f, data, len, &e), OP_ENOTFOUND);
    assert_non_null(strstr(e.msg, "unknown device"));
    free(data);
    /* signed by another key than the enrolled one */
    h = header(f);
    struct key other;
    char *odir = fs_join(f->inst->dir, "other-device");
    assert_int_equal(keys_setup_device(odir, NULL, &e), 0);
    assert_int_equal(keys_load_device_signing(odir, &other, &e), 0);
    unsigned char *forged;
    assert_int_equal(envelope_seal(&h, (const unsigned char *)PAYLOAD, strlen(PAYLOAD),
                                   f->results.public_key, &other, &forged, &len, &e),
                     0);
    assert_int_equal(receive(f, forged, len, &e), OP_ECRYPTO);
    assert_non_null(strstr(e.msg, "signature does not verify"));
    free(forged);
    key_wipe(&other);
    free(odir);
    /* revoked device */
    data = seal(f, &h, PAYLOAD, &f->results, &len);
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    assert_int_equal(devices_set_revoked(f->inst->db, f->device_id, 1, &e), 0);
    assert_int_equal(db_commit(f->inst->db, &e), 0);
    assert_int_equal(receive(f, data, len, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "revoked"));
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    assert_int_equal(devices_set_revoked(f->inst->db, f->device_id, 0, &e), 0);
    assert_int_equal(db_commit(f->inst->db, &e), 0);
    assert_int_equal(receive(f, data, len, &e), STORED);
    free(data);
}

/* TAO's results API trusted the test taker and delivery a client named (S4 in the prior-art
 * report): a device enrolled for one organisation must not file results for another's test
 * takers or deliveries, even with a valid signature. */
static void test_central_rejects_a_result_outside_the_device_organisation(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    const char *cases[][2] = {
        {OTHER_TAKER, OTHER_DELIVERY},                      /* both of ORG-2 */
        {TAKER, OTHER_DELIVERY},                            /* ORG-1 taker, ORG-2 delivery */
        {OTHER_TAKER, DELIVERY},                            /* ORG-2 taker, ORG-1 delivery */
        {"aaaaaaaa-0000-4000-8000-00000000ffff", DELIVERY}, /* unknown taker */
        {TAKER, "dddddddd-0000-4000-8000-00000000ffff"},    /* unknown delivery */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct envelope_header h = header(f);
        snprintf(h.test_taker_id, sizeof h.test_taker_id, "%s", cases[i][0]);
        snprintf(h.delivery_id, sizeof h.delivery_id, "%s", cases[i][1]);
        size_t len;
        unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
        assert_int_equal(receive(f, data, len, &e), OP_ESTATE);
        assert_non_null(strstr(e.msg, "not eligible"));
        assert_non_null(strstr(e.msg, "ORG-1"));
        free(data);
    }
    /* in scope: stored; once stored, a copy is still recognised after the eligibility goes */
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    assert_int_equal(receive(f, data, len, &e), STORED);
    assert_int_equal(
        db_exec(f->inst->db, "DELETE FROM eligibility_test_takers WHERE user_id = '" TAKER "'", &e),
        0);
    assert_int_equal(receive(f, data, len, &e), DUPLICATE);
    free(data);
}

/* An envelope sealed to a results key central never had used to be stored and then reported
 * as "waiting for key, restore the key file from a backup", sending the operator after a key
 * that never existed: it is refused at intake, saying so. */
static void test_central_refuses_an_envelope_sealed_to_a_key_it_never_had(void **state)
{
    struct fixture *f = *state;
    struct key stranger = f->results;
    randombytes_buf(stranger.secret, sizeof stranger.secret);
    crypto_scalarmult_base(stranger.public_key, stranger.secret);
    key_id_of_public(stranger.public_key, stranger.id);
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &stranger, &len);
    struct op_err e = {0};
    assert_int_equal(receive(f, data, len, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, stranger.id));
    assert_non_null(strstr(e.msg, "never had"));
    assert_int_equal(count_results(f), 0);
    key_wipe(&stranger);
    free(data);
}

static void test_receive_is_idempotent_by_result_id(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct envelope_header h = header(f);
    size_t len, len2;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    unsigned char *other = seal(f, &h, "{\"score\": 8}", &f->results, &len2);
    assert_int_equal(receive(f, data, len, &e), STORED);
    assert_int_equal(receive(f, data, len, &e), DUPLICATE);
    assert_int_equal(receive(f, other, len2, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "held for review"));
    unsigned char *stored;
    size_t slen;
    assert_int_equal(results_get_envelope(f->inst->db, h.result_id, &stored, &slen, &e), 0);
    assert_int_equal(slen, len);
    assert_memory_equal(stored, data, len); /* the first one is kept as received */
    free(stored);
    free(data);
    free(other);
}

/* A result id travels in clear: a device that learns one could file its own envelope under it
 * first, and the genuine result was then refused and lost, while the "already received"
 * answer told any device which ids exist. An id belongs to the device that first sent it;
 * another device's envelope under it is refused with an ordinary refusal and held in
 * quarantine, and so is the genuine copy when an impostor came first: nothing is lost. */
static void test_a_device_cannot_take_over_another_devices_result_id(void **state)
{
    struct fixture *f = *state;
    struct key thief;
    char thief_id[UUID_STR_LEN];
    enrol_device(f, "ORG-1", &thief, thief_id);
    struct op_err e = {0};
    /* the genuine result first: the thief's envelope under its id is refused and held */
    struct envelope_header h = header(f);
    size_t len, tlen;
    unsigned char *genuine = seal(f, &h, PAYLOAD, &f->results, &len);
    struct envelope_header th = h;
    memcpy(th.device_id, thief_id, UUID_STR_LEN);
    unsigned char *forged = envfx_seal(&th, "{\"score\": 0}", &f->results, &thief, &tlen);
    assert_int_equal(receive(f, genuine, len, &e), STORED);
    assert_int_equal(receive(f, forged, tlen, &e), OP_ECONFLICT);
    /* the refusal tells the thief nothing about the result or its device */
    assert_null(strstr(e.msg, f->device_id));
    assert_null(strstr(e.msg, "already"));
    assert_null(strstr(e.msg, "different content"));
    char refusal[OP_ERR_MAX];
    snprintf(refusal, sizeof refusal, "%s", e.msg);
    assert_int_equal(count_sql(f, "SELECT count(*) FROM results WHERE id = ?1 AND device_id = ?2",
                               h.result_id, f->device_id),
                     1);
    assert_int_equal(count_sql(f,
                               "SELECT count(*) FROM results_quarantine WHERE result_id = ?1"
                               " AND device_id = ?2",
                               h.result_id, thief_id),
                     1);
    /* sent again: the same refusal, still one copy held */
    assert_int_equal(receive(f, forged, tlen, &e), OP_ECONFLICT);
    assert_string_equal(e.msg, refusal);
    assert_int_equal(count_sql(f, "SELECT count(*) FROM results_quarantine WHERE result_id = ?1",
                               h.result_id, NULL),
                     1);

    /* the impostor first: the genuine copy is refused, but held, never lost */
    struct envelope_header h2 = header(f);
    unsigned char *genuine2 = seal(f, &h2, PAYLOAD, &f->results, &len);
    struct envelope_header th2 = h2;
    memcpy(th2.device_id, thief_id, UUID_STR_LEN);
    unsigned char *forged2 = envfx_seal(&th2, "{\"score\": 0}", &f->results, &thief, &tlen);
    assert_int_equal(receive(f, forged2, tlen, &e), STORED);
    assert_int_equal(receive(f, genuine2, len, &e), OP_ECONFLICT);
    char sha[65];
    struct envelope env;
    assert_int_equal(envelope_parse(genuine2, len, &env, &e), 0);
    envelope_sha256(&env, sha);
    assert_int_equal(count_sql(f,
                               "SELECT count(*) FROM results_quarantine WHERE result_id = ?1"
                               " AND envelope_sha256 = ?2",
                               h2.result_id, sha),
                     1);

    /* a device of another organisation gets the same refusal for a known id as for any */
    struct key outsider;
    char outsider_id[UUID_STR_LEN];
    enrol_device(f, "ORG-2", &outsider, outsider_id);
    struct envelope_header oh = h;
    memcpy(oh.device_id, outsider_id, UUID_STR_LEN);
    unsigned char *probe = envfx_seal(&oh, PAYLOAD, &f->results, &outsider, &tlen);
    assert_int_equal(receive(f, probe, tlen, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "not eligible"));
    assert_int_equal(count_sql(f, "SELECT count(*) FROM results_quarantine WHERE device_id = ?1",
                               outsider_id, NULL),
                     0);
    key_wipe(&thief);
    key_wipe(&outsider);
    free(genuine);
    free(forged);
    free(genuine2);
    free(forged2);
    free(probe);
}

/* The same device sending other bytes under one of its result ids was refused and the copy
 * dropped: it is kept in quarantine for an operator. */
static void test_a_conflicting_copy_from_the_same_device_is_held_not_dropped(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct envelope_header h = header(f);
    size_t len, len2;
    unsigned char *first = seal(f, &h, PAYLOAD, &f->results, &len);
    unsigned char *second = seal(f, &h, "{\"score\": 8}", &f->results, &len2);
    assert_int_equal(receive(f, first, len, &e), STORED);
    assert_int_equal(receive(f, second, len2, &e), OP_ECONFLICT);
    struct envelope env;
    char sha[65];
    assert_int_equal(envelope_parse(second, len2, &env, &e), 0);
    envelope_sha256(&env, sha);
    assert_int_equal(count_sql(f,
                               "SELECT count(*) FROM results_quarantine WHERE result_id = ?1"
                               " AND envelope_sha256 = ?2 AND length(envelope) > 0",
                               h.result_id, sha),
                     1);
    free(first);
    free(second);
}

/* A receive that lost a race is run again (db_write): the refusal still commits its copy to
 * quarantine, once, and the caller gets the refusal. */
static void test_a_retried_receive_holds_a_conflicting_copy_once(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct envelope_header h = header(f);
    size_t len, len2;
    unsigned char *first = seal(f, &h, PAYLOAD, &f->results, &len);
    unsigned char *second = seal(f, &h, "{\"score\": 8}", &f->results, &len2);
    db_lose_races(f->inst->db, 1);
    assert_int_equal(receive(f, first, len, &e), STORED);
    db_lose_races(f->inst->db, 2);
    assert_int_equal(receive(f, second, len2, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "held for review"));
    assert_int_equal(count_results(f), 1);
    assert_int_equal(count_sql(f, "SELECT count(*) FROM results_quarantine WHERE result_id = ?1",
                               h.result_id, NULL),
                     1);
    free(first);
    free(second);
}

/* results_insert returned RESULTS_STORED (1) for success, so `db_commit_if(db, rc, e)` after
 * it rolled the stored result back. It returns 0 with the outcome apart: each of its three
 * outcomes commits, the quarantined copy too. */
static void test_results_insert_commits_under_db_commit_if(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct envelope_header h = header(f);
    size_t len, len2;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    unsigned char *other = seal(f, &h, "{\"score\": 8}", &f->results, &len2);
    const struct {
        const unsigned char *data;
        size_t len;
        enum results_outcome outcome;
    } sends[] = {
        {data, len, RESULTS_STORED},
        {data, len, RESULTS_DUPLICATE},
        {other, len2, RESULTS_QUARANTINED},
    };
    for (size_t i = 0; i < sizeof sends / sizeof *sends; i++) {
        struct envelope env;
        enum results_outcome outcome = (enum results_outcome) - 1;
        assert_int_equal(envelope_parse(sends[i].data, sends[i].len, &env, &e), 0);
        struct result_new res;
        app_results_new_of(&env, &res);
        assert_int_equal(db_begin(f->inst->db, &e), 0);
        int rc = results_insert(f->inst->db, &res, &outcome, NULL, NULL, &e);
        assert_int_equal(db_commit_if(f->inst->db, rc, &e), 0);
        assert_int_equal(outcome, sends[i].outcome);
    }
    assert_int_equal(count_sql(f, "SELECT count(*) FROM results WHERE id = ?1", h.result_id, NULL),
                     1);
    assert_int_equal(count_sql(f, "SELECT count(*) FROM results_quarantine WHERE result_id = ?1",
                               h.result_id, NULL),
                     1);
    free(data);
    free(other);
}

static void receive_all(struct fixture *f, unsigned char **envs, size_t *lens, int n)
{
    struct op_err e = {0};
    for (int i = 0; i < n; i++)
        assert_int_equal(receive(f, envs[i], lens[i], &e), STORED);
}

static void test_old_result_still_decrypts_after_key_rotation(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct envelope_header h1 = header(f), h2 = header(f);
    unsigned char *envs[2];
    size_t lens[2];
    envs[0] = seal(f, &h1, PAYLOAD, &f->results, &lens[0]);
    struct key rotated;
    assert_int_equal(keys_rotate_results(f->central_keys, &rotated, &e), 0);
    envs[1] = seal(f, &h2, "{\"score\": 3}", &rotated, &lens[1]);
    receive_all(f, envs, lens, 2);
    struct app_results_decrypt_out rep;
    struct problems probs = {0, "", ""};
    assert_int_equal(decrypt(f, NULL, &rep, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 2);
    assert_int_equal(probs.n, 0);
    char *json;
    assert_int_equal(results_get_json(f->inst->db, h1.result_id, &json, &e), 0);
    assert_string_equal(json, PAYLOAD);
    free(json);
    assert_int_equal(results_get_json(f->inst->db, h2.result_id, &json, &e), 0);
    assert_string_equal(json, "{\"score\": 3}");
    free(json);
    /* a second run is idempotent: nothing left to do */
    assert_int_equal(decrypt(f, NULL, &rep, &probs, &e), 0);
    assert_int_equal(rep.decrypted + rep.damaged + rep.missing_key, 0);
    key_wipe(&rotated);
    free(envs[0]);
    free(envs[1]);
}

static void test_damaged_envelope_is_reported_and_the_rest_decrypt(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct envelope_header hs[3] = {header(f), header(f), header(f)};
    unsigned char *envs[3];
    size_t lens[3];
    envs[0] = seal(f, &hs[0], PAYLOAD, &f->results, &lens[0]);
    envs[1] = seal(f, &hs[1], "this is not JSON", &f->results, &lens[1]);
    envs[2] = seal(f, &hs[2], PAYLOAD, &f->results, &lens[2]);
    receive_all(f, envs, lens, 3);
    struct app_results_decrypt_out rep;
    struct problems probs = {0, "", ""};
    assert_int_equal(decrypt(f, NULL, &rep, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 2);
    assert_int_equal(rep.damaged, 1);
    assert_int_equal(probs.n, 1);
    assert_non_null(strstr(probs.last, hs[1].result_id));
    assert_non_null(strstr(probs.last, "not a JSON object"));
    unsigned char *stored;
    size_t slen;
    assert_int_equal(results_get_envelope(f->inst->db, hs[1].result_id, &stored, &slen, &e), 0);
    assert_memory_equal(stored, envs[1], lens[1]); /* the damaged envelope is kept */
    free(stored);
    for (int i = 0; i < 3; i++)
        free(envs[i]);
}

/* One results key file that cannot be loaded (here readable by others) stopped every
 * decryption, even of results sealed to other keys: the others decrypt, the file is reported,
 * and the results sealed to it wait. */
/* decrypt-results' transactions (the key record, a batch) run again after a lost race:
 * counts and problems of the run that committed, each once. */
static void test_a_retried_decrypt_reports_each_problem_once(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct envelope_header hs[3] = {header(f), header(f), header(f)};
    unsigned char *envs[3];
    size_t lens[3];
    envs[0] = seal(f, &hs[0], PAYLOAD, &f->results, &lens[0]);
    envs[1] = seal(f, &hs[1], "this is not JSON", &f->results, &lens[1]);
    envs[2] = seal(f, &hs[2], PAYLOAD, &f->results, &lens[2]);
    receive_all(f, envs, lens, 3);
    struct app_results_decrypt_out rep;
    struct problems probs = {0, "", ""};
    db_lose_races(f->inst->db, 3);
    assert_int_equal(decrypt(f, NULL, &rep, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 2);
    assert_int_equal(rep.damaged, 1);
    assert_int_equal(probs.n, 1);
    assert_int_equal(
        count_sql(f, "SELECT count(*) FROM results WHERE status = 'pending'", NULL, NULL), 0);
    for (int i = 0; i < 3; i++)
        free(envs[i]);
}

static void test_an_unloadable_old_key_does_not_stop_the_others(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct envelope_header h1 = header(f), h2 = header(f);
    unsigned char *envs[2];
    size_t lens[2];
    envs[0] = seal(f, &h1, PAYLOAD, &f->results, &lens[0]);
    struct key rotated;
    assert_int_equal(keys_rotate_results(f->central_keys, &rotated, &e), 0);
    envs[1] = seal(f, &h2, "{\"score\": 3}", &rotated, &lens[1]);
    receive_all(f, envs, lens, 2);
    char *old = fs_join(f->central_keys, "results-0001.key");
    assert_int_equal(chmod(old, 0644), 0);
    struct app_results_decrypt_out rep;
    struct problems probs = {0, "", ""};
    assert_int_equal(decrypt(f, NULL, &rep, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 1);
    assert_int_equal(rep.missing_key, 1);
    char *json;
    assert_int_equal(results_get_json(f->inst->db, h2.result_id, &json, &e), 0);
    assert_string_equal(json, "{\"score\": 3}");
    free(json);
    assert_int_equal(results_get_json(f->inst->db, h1.result_id, &json, &e), OP_ENOTFOUND);
    assert_true(probs.n >= 2);
    assert_non_null(strstr(probs.all, "results-0001.key"));
    assert_non_null(strstr(probs.all, "chmod 600"));
    assert_non_null(strstr(probs.all, h1.result_id));
    /* once the file is fixed, the waiting result decrypts */
    assert_int_equal(chmod(old, 0600), 0);
    assert_int_equal(decrypt(f, NULL, &rep, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 1);
    free(old);
    key_wipe(&rotated);
    free(envs[0]);
    free(envs[1]);
}

/* A key central had and whose file is lost is not a key it never had: an envelope sealed to
 * it is still stored, and waits for the key file to be restored. */
static void test_a_known_key_whose_file_is_lost_is_still_accepted_and_waits(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct key rotated;
    assert_int_equal(keys_rotate_results(f->central_keys, &rotated, &e), 0);
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    assert_int_equal(keycheck_record_results_key(f->inst->db, &rotated, &e), 0);
    assert_int_equal(db_commit(f->inst->db, &e), 0);
    char *path = fs_join(f->central_keys, "results-0002.key");
    char *away = fs_join(f->inst->dir, "results-0002.key");
    assert_int_equal(rename(path, away), 0);
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &rotated, &len);
    assert_int_equal(receive(f, data, len, &e), STORED);
    struct app_results_decrypt_out rep;
    struct problems probs = {0, "", ""};
    assert_int_equal(decrypt(f, NULL, &rep, &probs, &e), 0);
    assert_int_equal(rep.missing_key, 1);
    assert_non_null(strstr(probs.last, "restore the key file"));
    assert_int_equal(rename(away, path), 0);
    assert_int_equal(decrypt(f, NULL, &rep, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 1);
    /* a key file central has but had not recorded yet (set up before the record existed) is
     * recorded when an envelope names it */
    assert_int_equal(db_exec(f->inst->db, "DELETE FROM results_keys", &e), 0);
    h = header(f);
    free(data);
    data = seal(f, &h, PAYLOAD, &f->results, &len);
    assert_int_equal(receive(f, data, len, &e), STORED);
    assert_int_equal(results_keys_known(f->inst->db, f->results.id, &e), 1);
    assert_int_equal(results_keys_known(f->inst->db, rotated.id, &e), 1);
    /* and one that was stored before intake checked key ids, under a key central never had,
     * is marked damaged by decrypt-results, not left waiting for a key that never existed */
    struct key stranger = f->results;
    randombytes_buf(stranger.secret, sizeof stranger.secret);
    crypto_scalarmult_base(stranger.public_key, stranger.secret);
    key_id_of_public(stranger.public_key, stranger.id);
    h = header(f);
    free(data);
    data = seal(f, &h, PAYLOAD, &stranger, &len);
    struct envelope env;
    assert_int_equal(envelope_parse(data, len, &env, &e), 0);
    enum results_outcome outcome;
    assert_int_equal(db_begin(f->inst->db, &e), 0);
    struct result_new res;
    app_results_new_of(&env, &res);
    assert_int_equal(results_insert(f->inst->db, &res, &outcome, NULL, NULL, &e), 0);
    assert_int_equal(outcome, RESULTS_STORED);
    assert_int_equal(db_commit(f->inst->db, &e), 0);
    assert_int_equal(decrypt(f, NULL, &rep, &probs, &e), 0);
    assert_int_equal(rep.damaged, 1);
    assert_non_null(strstr(probs.last, "never had"));
    key_wipe(&stranger);
    key_wipe(&rotated);
    free(path);
    free(away);
    free(data);
}

static void test_missing_key_leaves_result_pending_until_restored(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct envelope_header h = header(f);
    unsigned char *envs[1];
    size_t lens[1];
    envs[0] = seal(f, &h, PAYLOAD, &f->results, &lens[0]);
    receive_all(f, envs, lens, 1);
    char *path = fs_join(f->central_keys, "results-0001.key");
    char *away = fs_join(f->inst->dir, "results-0001.key");
    assert_int_equal(rename(path, away), 0);
    struct app_results_decrypt_out rep;
    struct problems probs = {0, "", ""};
    assert_int_equal(decrypt(f, h.delivery_id, &rep, &probs, &e), 0);
    assert_int_equal(rep.missing_key, 1);
    assert_non_null(strstr(probs.last, f->results.id));
    assert_int_equal(rename(away, path), 0);
    assert_int_equal(decrypt(f, h.delivery_id, &rep, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 1);
    free(path);
    free(away);
    free(envs[0]);
}
/* ---- import, list, show, quarantine ---- */

struct refusals {
    int n, skipped;
    json_t *arr;
};

static void on_refusal(const struct app_results_refusal *r, void *ctx)
{
    struct refusals *rs = ctx;
    rs->n++;
    rs->skipped += r->rest_skipped;
    json_array_append_new(rs->arr, app_results_refusal_json(r));
}

/* Writes the envelopes back to back to DIR/name; returns the path (caller frees). */
static char *write_file(struct fixture *f, const char *name, unsigned char **envs, size_t *lens,
                        int n)
{
    char *path = fs_join(f->inst->dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    for (int i = 0; i < n; i++)
        assert_int_equal(fwrite(envs[i], 1, lens[i], fp), lens[i]);
    fclose(fp);
    return path;
}

static void test_import_stores_a_file_of_envelopes_and_reports_each_refusal(void **state)
{
    struct fixture *f = *state;
    struct envelope_header hs[3] = {header(f), header(f), header(f)};
    unsigned char *envs[3];
    size_t lens[3];
    envs[0] = seal(f, &hs[0], PAYLOAD, &f->results, &lens[0]);
    snprintf(hs[1].test_taker_id, sizeof hs[1].test_taker_id, "%s", OTHER_TAKER); /* out of scope */
    envs[1] = seal(f, &hs[1], PAYLOAD, &f->results, &lens[1]);
    envs[2] = seal(f, &hs[2], "{\"score\": 2}", &f->results, &lens[2]);
    char *path = write_file(f, "batch.bin", envs, lens, 3);
    const struct app_results_import_in in = {path};
    struct app_results_import_out out;
    struct refusals rs = {0, 0, json_array()};
    struct op_err e = {0};
    assert_int_equal(app_results_import(f->inst, &in, &out, on_refusal, &rs, &e), 0);
    assert_int_equal(out.stored, 2);
    assert_int_equal(out.rejected, 1);
    assert_int_equal(out.duplicates, 0);
    assert_int_equal(rs.n, 1);
    json_t *r = json_array_get(rs.arr, 0);
    assert_string_equal(json_string_value(json_object_get(r, "result_id")), hs[1].result_id);
    assert_int_equal(json_integer_value(json_object_get(r, "offset")), (json_int_t)lens[0]);
    assert_non_null(strstr(json_string_value(json_object_get(r, "reason")), "not eligible"));
    /* again, losing two races on the way: the stored ones are duplicates, the refusal the
     * same, reported once */
    rs.n = 0;
    db_lose_races(f->inst->db, 2);
    assert_int_equal(app_results_import(f->inst, &in, &out, on_refusal, &rs, &e), 0);
    assert_int_equal(out.stored, 0);
    assert_int_equal(out.duplicates, 2);
    assert_int_equal(out.rejected, 1);
    assert_int_equal(rs.n, 1);
    json_t *doc = app_results_import_json(&out, rs.arr);
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(strstr(text, "{\"stored\":0,\"held\":0,\"duplicates\":2,\"rejected\":1,"
                                 "\"quarantined\":0,"
                                 "\"refusals\":[{\"result_id\":\""));
    free(text);
    json_decref(doc);
    assert_int_equal(count_results(f), 2);
    for (int i = 0; i < 3; i++)
        free(envs[i]);
    free(path);
}

static void test_import_stops_at_an_unreadable_header_and_refuses_an_empty_file(void **state)
{
    struct fixture *f = *state;
    struct envelope_header h = header(f);
    unsigned char *envs[2];
    size_t lens[2];
    envs[0] = seal(f, &h, PAYLOAD, &f->results, &lens[0]);
    envs[1] = (unsigned char *)strdup("garbage, not an envelope at all, and long enough");
    lens[1] = strlen((char *)envs[1]);
    char *path = write_file(f, "cut.bin", envs, lens, 2);
    const struct app_results_import_in in = {path};
    struct app_results_import_out out;
    struct refusals rs = {0, 0, json_array()};
    struct op_err e = {0};
    assert_int_equal(app_results_import(f->inst, &in, &out, on_refusal, &rs, &e), 0);
    assert_int_equal(out.stored, 1);
    assert_int_equal(out.rejected, 1);
    assert_int_equal(rs.skipped, 1);
    json_t *r = json_array_get(rs.arr, 0);
    assert_true(json_is_null(json_object_get(r, "result_id")));
    assert_int_equal(json_integer_value(json_object_get(r, "offset")), (json_int_t)lens[0]);
    json_decref(rs.arr);
    /* an empty file is an error, and so is a missing one */
    char *empty = testutil_write(f->inst->dir, "empty.bin", "");
    const struct app_results_import_in none = {empty};
    assert_int_equal(app_results_import(f->inst, &none, &out, NULL, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "empty file"));
    const struct app_results_import_in missing = {"/nonexistent/outpost-envelopes.bin"};
    assert_int_not_equal(app_results_import(f->inst, &missing, &out, NULL, NULL, &e), 0);
    assert_int_equal(count_results(f), 1);
    free(empty);
    free(path);
    free(envs[0]);
    free(envs[1]);
}

struct rows {
    int n;
    json_t *arr;
};

static int result_row(const struct result_row *r, void *ctx)
{
    struct rows *rs = ctx;
    rs->n++;
    json_array_append_new(rs->arr, app_result_json(r));
    return 0;
}

static int quarantine_row(const struct quarantine_row *q, void *ctx)
{
    struct rows *rs = ctx;
    rs->n++;
    json_array_append_new(rs->arr, app_quarantine_json(q));
    return 0;
}

static void test_list_show_and_quarantine_give_the_public_json_forms(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct envelope_header h = header(f);
    size_t len, len2;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    unsigned char *other = seal(f, &h, "{\"score\": 8}", &f->results, &len2);
    assert_int_equal(receive(f, data, len, &e), STORED);
    assert_int_equal(receive(f, other, len2, &e), OP_ECONFLICT);
    struct rows rs = {0, json_array()};
    const struct app_results_list_in pending = {NULL, "pending"};
    assert_int_equal(app_results_list(f->inst, &pending, result_row, &rs, &e), 0);
    assert_int_equal(rs.n, 1);
    json_t *r = json_array_get(rs.arr, 0);
    static const char *fields[] = {"id",
                                   "execution_id",
                                   "delivery_id",
                                   "delivery_label",
                                   "test_taker_id",
                                   "test_taker_login",
                                   "device_id",
                                   "key_id",
                                   "state",
                                   "started_at",
                                   "ended_at",
                                   "sealed_at",
                                   "envelope_sha256",
                                   "status",
                                   "problem",
                                   "received_at",
                                   "decrypted_at",
                                   "quarantined",
                                   "review",
                                   "review_reason"};
    assert_int_equal(json_object_size(r), sizeof fields / sizeof fields[0]);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        assert_non_null(json_object_get(r, fields[i]));
    assert_string_equal(json_string_value(json_object_get(r, "state")), "finished");
    assert_string_equal(json_string_value(json_object_get(r, "started_at")),
                        "2023-11-14T22:13:20Z");
    assert_true(json_is_null(json_object_get(r, "decrypted_at")));
    assert_int_equal(json_integer_value(json_object_get(r, "quarantined")), 1);
    json_decref(rs.arr);
    const struct app_results_list_in bad = {NULL, "lost"};
    assert_int_equal(app_results_list(f->inst, &bad, result_row, &rs, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "unknown status \"lost\""));
    /* the copy held in quarantine, with the device the id belongs to */
    rs = (struct rows){0, json_array()};
    assert_int_equal(app_results_quarantine(f->inst, quarantine_row, &rs, &e), 0);
    assert_int_equal(rs.n, 1);
    json_t *q = json_array_get(rs.arr, 0);
    assert_int_equal(json_object_size(q), 9);
    assert_string_equal(json_string_value(json_object_get(q, "owner_device_id")), f->device_id);
    assert_string_equal(json_string_value(json_object_get(q, "reason")), RESULTS_OTHER_CONTENT);
    json_decref(rs.arr);
    /* show: only once decrypted */
    char *json;
    assert_int_equal(app_results_show(f->inst, h.result_id, &json, &e), OP_ENOTFOUND);
    struct app_results_decrypt_out rep;
    struct problems probs = {0, "", ""};
    assert_int_equal(decrypt(f, NULL, &rep, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 1);
    assert_int_equal(app_results_show(f->inst, h.result_id, &json, &e), 0);
    assert_string_equal(json, PAYLOAD);
    free(json);
    free(data);
    free(other);
}

static void test_problem_and_decrypt_json_forms(void **state)
{
    (void)state;
    const struct app_results_problem damaged = {APP_RESULTS_DAMAGED, "r1", "bad"};
    const struct app_results_problem waiting = {APP_RESULTS_MISSING_KEY, "r2", "no key"};
    const struct app_results_problem key = {APP_RESULTS_BAD_KEY, "/k/results-0001.key", "mode"};
    json_t *problems = json_array(), *keys = json_array();
    json_array_append_new(problems, app_results_problem_json(&damaged));
    json_array_append_new(problems, app_results_problem_json(&waiting));
    json_array_append_new(keys, app_results_problem_json(&key));
    const struct app_results_decrypt_out out = {3, 1, 1, 1};
    json_t *doc = app_results_decrypt_json(&out, problems, keys);
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_string_equal(text, "{\"decrypted\":3,\"damaged\":1,\"missing_key\":1,\"bad_keys\":1,"
                              "\"problems\":[{\"result_id\":\"r1\",\"damaged\":true,\"reason\":"
                              "\"bad\"},{\"result_id\":\"r2\",\"damaged\":false,\"reason\":\"no "
                              "key\"}],\"key_problems\":[{\"file\":\"/k/results-0001.key\","
                              "\"reason\":\"mode\"}]}");
    free(text);
    json_decref(doc);
}

static void test_results_operations_run_on_a_central_only(void **state)
{
    (void)state;
    struct instance *dev = fx_instance(ROLE_DEVICE);
    struct op_err e = {0};
    enum app_results_outcome outcome;
    const unsigned char junk[4] = {0};
    assert_int_equal(app_results_receive(dev, junk, sizeof junk, &outcome, &e), OP_ESTATE);
    const struct app_results_import_in in = {"x"};
    struct app_results_import_out out;
    assert_int_equal(app_results_import(dev, &in, &out, NULL, NULL, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "results import runs on a central"));
    const struct app_results_list_in all = {NULL, NULL};
    assert_int_equal(app_results_list(dev, &all, result_row, NULL, &e), OP_ESTATE);
    assert_int_equal(app_results_quarantine(dev, quarantine_row, NULL, &e), OP_ESTATE);
    char *json;
    assert_int_equal(app_results_show(dev, "x", &json, &e), OP_ESTATE);
    const struct app_results_decrypt_in din = {NULL};
    struct app_results_decrypt_out dout;
    assert_int_equal(app_results_decrypt(dev, &din, &dout, NULL, NULL, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "decrypt-results runs on a central"));
    fx_instance_free(dev);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_time_stamps_outside_2000_to_9999_or_out_of_order_are_refused),
        T(test_central_rejects_unknown_revoked_and_wrongly_signed),
        T(test_central_rejects_a_result_outside_the_device_organisation),
        T(test_central_refuses_an_envelope_sealed_to_a_key_it_never_had),
        T(test_receive_is_idempotent_by_result_id),
        T(test_a_device_cannot_take_over_another_devices_result_id),
        T(test_a_conflicting_copy_from_the_same_device_is_held_not_dropped),
        T(test_results_insert_commits_under_db_commit_if),
        T(test_old_result_still_decrypts_after_key_rotation),
        T(test_damaged_envelope_is_reported_and_the_rest_decrypt),
        T(test_a_retried_decrypt_reports_each_problem_once),
        T(test_a_retried_receive_holds_a_conflicting_copy_once),
        T(test_an_unloadable_old_key_does_not_stop_the_others),
        T(test_a_known_key_whose_file_is_lost_is_still_accepted_and_waits),
        T(test_missing_key_leaves_result_pending_until_restored),
        T(test_import_stores_a_file_of_envelopes_and_reports_each_refusal),
        T(test_import_stops_at_an_unreadable_header_and_refuses_an_empty_file),
        T(test_list_show_and_quarantine_give_the_public_json_forms),
        T(test_problem_and_decrypt_json_forms),
        T(test_results_operations_run_on_a_central_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
