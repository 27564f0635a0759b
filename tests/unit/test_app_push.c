/* test_app_push.c - pushing results from a device's outbox to central and back
 * (app/outbox.h, app_results_push in app/results.h, sync/results_push.h, sync/batch.h,
 * sync/receipts.h): a central (on PostgreSQL when run as pg/unit/test_app_push) and a device
 * on SQLite, each with its own keys and database, talking through the wire formats only. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/outbox.h"
#include "app/results.h"
#include "app_instance_fixture.h"
#include "crypto/envelope.h"
#include "envelope_fixture.h"
#include "store/devices.h"
#include "store/feed.h"
#include "store/outbox.h"
#include "sync/batch.h"
#include "sync/receipts.h"
#include "sync/results_push.h"

#define OTHER_TAKER "aaaaaaaa-0000-4000-8000-000000000002"

struct fixture {
    struct instance *central;
    struct instance *device; /* always on SQLite */
    struct key results;      /* central's current results key */
    struct key signing;      /* central's signing key (its public half pinned) */
    struct key device_key;   /* the device's signing key */
    struct key other_key;    /* a second enrolled device's key */
    char other_id[UUID_STR_LEN];
};

/* ORG-1: center c1, eligibility e1 of TAKER for DELIVERY; ORG-2: c2, e2 of OTHER_TAKER for
 * DELIVERY. Every record is brought into the change feed, as the store's writes do. */
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
        " ('" DELIVERY "', 'D1', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z');"
        "INSERT INTO eligibilities (id, center_id, delivery_id, created_at, updated_at) VALUES"
        " ('e1', 'c1', '" DELIVERY "', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'),"
        " ('e2', 'c2', '" DELIVERY "', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z');"
        "INSERT INTO eligibility_test_takers (eligibility_id, user_id) VALUES"
        " ('e1', '" TAKER "'), ('e2', '" OTHER_TAKER "');";
    struct op_err e = {0};
    if (db_begin(db, &e) != 0 || db_exec(db, sql, &e) != 0)
        fail_msg("scope: %s", e.msg);
    const char *touch[][2] = {{FEED_TEST_CENTER, "c1"},  {FEED_TEST_CENTER, "c2"},
                              {FEED_ELIGIBILITY, "e1"},  {FEED_ELIGIBILITY, "e2"},
                              {FEED_DELIVERY, DELIVERY}, {FEED_USER, TAKER},
                              {FEED_USER, OTHER_TAKER}};
    for (size_t i = 0; i < sizeof touch / sizeof touch[0]; i++)
        if (feed_touch(db, touch[i][0], touch[i][1], &e) != 0)
            fail_msg("feed: %s", e.msg);
    if (db_commit(db, &e) != 0)
        fail_msg("commit: %s", e.msg);
}

static void enrol(struct instance *central, const char *id, const struct key *k)
{
    struct op_err e = {0};
    struct device d;
    memset(&d, 0, sizeof d);
    memcpy(d.id, id, UUID_STR_LEN);
    d.label = (char *)"dev";
    d.org_id = (char *)"ORG-1";
    memcpy(d.signing_public_key, k->public_key, KEY_PUBLIC_BYTES);
    assert_int_equal(db_begin(central->db, &e), 0);
    assert_int_equal(devices_insert(central->db, &d, &e), 0);
    assert_int_equal(db_commit(central->db, &e), 0);
}

/* A device instance on SQLite whatever OUTPOST_TEST_DB says. */
static struct instance *device_instance(void)
{
    struct instance *inst = calloc(1, sizeof *inst);
    assert_non_null(inst);
    inst->dir = testutil_tmpdir();
    inst->role = ROLE_DEVICE;
    uuid_generate(inst->id);
    struct op_err e = {0};
    char *path = fs_join(inst->dir, "outpost.db");
    if (db_open(path, 1, &inst->db, &e) != 0)
        fail_msg("device db: %s", e.msg);
    free(path);
    char *keys = fs_join(inst->dir, "keys");
    if (keys_setup_device(keys, NULL, &e) != 0)
        fail_msg("device keys: %s", e.msg);
    free(keys);
    return inst;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->central = fx_instance(ROLE_CENTRAL);
    f->device = device_instance();
    struct op_err e = {0};
    char *keys = instance_path(f->central, "keys");
    assert_int_equal(keys_results_current(keys, &f->results, &e), 0);
    assert_int_equal(keys_load_central_signing(keys, &f->signing, &e), 0);
    free(keys);
    keys = instance_path(f->device, "keys");
    assert_int_equal(keys_load_device_signing(keys, &f->device_key, &e), 0);
    free(keys);
    enrol(f->central, f->device->id, &f->device_key);
    /* a second device of the same organisation, keys of its own */
    uuid_generate(f->other_id);
    char *dir = fs_join(f->central->dir, f->other_id);
    assert_int_equal(keys_setup_device(dir, NULL, &e), 0);
    assert_int_equal(keys_load_device_signing(dir, &f->other_key, &e), 0);
    free(dir);
    enrol(f->central, f->other_id, &f->other_key);
    make_scope(f->central->db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    key_wipe(&f->results);
    key_wipe(&f->signing);
    key_wipe(&f->device_key);
    key_wipe(&f->other_key);
    fx_instance_free(f->central);
    fx_instance_free(f->device);
    free(f);
    return 0;
}

/* A result of `taker` by the device, signed with `signer` (the device's key unless a test
 * forges one), naming device `device_id`. */
static unsigned char *result(struct fixture *f, const char *device_id, const char *taker,
                             const struct key *signer, char id[UUID_STR_LEN], size_t *len)
{
    struct envelope_header h = envfx_header(device_id);
    snprintf(h.test_taker_id, sizeof h.test_taker_id, "%s", taker);
    if (id)
        memcpy(id, h.result_id, UUID_STR_LEN);
    return envfx_seal(&h, PAYLOAD, &f->results, signer, len);
}

/* Finishes n results on the device: each queued in the outbox. */
static void finish(struct fixture *f, int n)
{
    struct op_err e = {0};
    for (int i = 0; i < n; i++) {
        size_t len;
        unsigned char *env = result(f, f->device->id, TAKER, &f->device_key, NULL, &len);
        if (app_outbox_add(f->device, env, len, &e) != 0)
            fail_msg("outbox: %s", e.msg);
        /* queued twice: a no-op */
        assert_int_equal(app_outbox_add(f->device, env, len, &e), 0);
        free(env);
    }
}

/* Central's answer to `batch` from the credential of `device_id`; 0 with *receipts, or the
 * error. */
static int push_bytes(struct fixture *f, const char *device_id, const char *batch, size_t len,
                      char **receipts, size_t *rlen, struct op_err *e)
{
    return sync_results_push(f->central, device_id, (const unsigned char *)batch, len, receipts,
                             rlen, e);
}

/* The next batch of the device; NULL when nothing is pending. */
static char *next_batch(struct fixture *f, size_t *len, int *count)
{
    struct op_err e = {0};
    char *batch;
    if (sync_outbox_next_batch(f->device, 500, 16u << 20, &batch, len, count, &e) != 0)
        fail_msg("next batch: %s", e.msg);
    return batch;
}

/* One whole push: the next batch, central's receipts, applied on the device. */
static void push(struct fixture *f, struct app_outbox_report *rep)
{
    struct op_err e = {0};
    size_t len, rlen;
    int count;
    char *batch = next_batch(f, &len, &count);
    assert_non_null(batch);
    char *receipts;
    if (push_bytes(f, f->device->id, batch, len, &receipts, &rlen, &e) != 0)
        fail_msg("push: %s", e.msg);
    if (sync_outbox_apply_receipts(f->device, (unsigned char *)receipts, rlen,
                                   f->signing.public_key, rep, &e) != 0)
        fail_msg("receipts: %s", e.msg);
    free(batch);
    free(receipts);
}

static int central_results(struct fixture *f)
{
    return fx_count(f->central, "SELECT count(*) FROM results");
}

static struct outbox_counts counts(struct fixture *f)
{
    struct outbox_counts c;
    struct op_err e = {0};
    assert_int_equal(app_outbox_counts(f->device, &c, &e), 0);
    return c;
}

/* The statuses of signed receipts, opened with the pinned key: "stored,duplicate,..." */
static void statuses(struct fixture *f, const char *receipts, size_t len, char *out, size_t cap)
{
    struct sync_receipts r;
    struct op_err e = {0};
    if (sync_receipts_open((const unsigned char *)receipts, len, f->signing.public_key,
                           f->device->id, &r, &e) != 0)
        fail_msg("receipts: %s", e.msg);
    out[0] = '\0';
    for (int i = 0; i < r.n; i++) {
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%s", i ? "," : "",
                 outbox_receipt_status_name(r.r[i].status));
    }
    sync_receipts_free(&r);
}

static void test_a_batch_of_n_is_stored_exactly_once_and_acknowledged(void **state)
{
    struct fixture *f = *state;
    finish(f, 7);
    struct outbox_counts c = counts(f);
    assert_int_equal(c.pending, 7);
    struct app_outbox_report rep;
    push(f, &rep);
    assert_int_equal(rep.acknowledged, 7);
    assert_int_equal(rep.refused, 0);
    assert_int_equal(central_results(f), 7);
    c = counts(f);
    assert_int_equal(c.pending, 0);
    assert_int_equal(c.acknowledged, 7);
    /* the receipts are kept, once */
    assert_int_equal(fx_count(f->device, "SELECT count(*) FROM outbox_receipts"), 1);
    assert_int_equal(fx_count(f->device, "SELECT count(*) FROM result_outbox WHERE"
                                         " receipt_status = 'stored' AND receipt_id IS NOT NULL"),
                     7);
    /* nothing left to send */
    size_t len;
    int count;
    assert_null(next_batch(f, &len, &count));
    assert_int_equal(count, 0);
}

static void test_a_batch_pushed_twice_gives_duplicates_stored_once(void **state)
{
    struct fixture *f = *state;
    finish(f, 3);
    size_t len, rlen;
    int count;
    char *batch = next_batch(f, &len, &count);
    assert_int_equal(count, 3);
    struct op_err e = {0};
    char *receipts, text[256];
    assert_int_equal(push_bytes(f, f->device->id, batch, len, &receipts, &rlen, &e), 0);
    statuses(f, receipts, rlen, text, sizeof text);
    assert_string_equal(text, "stored,stored,stored");
    free(receipts);
    assert_int_equal(push_bytes(f, f->device->id, batch, len, &receipts, &rlen, &e), 0);
    statuses(f, receipts, rlen, text, sizeof text);
    assert_string_equal(text, "duplicate,duplicate,duplicate");
    assert_int_equal(central_results(f), 3);
    /* duplicates acknowledge as well */
    struct app_outbox_report rep;
    assert_int_equal(sync_outbox_apply_receipts(f->device, (unsigned char *)receipts, rlen,
                                                f->signing.public_key, &rep, &e),
                     0);
    assert_int_equal(rep.acknowledged, 3);
    free(receipts);
    free(batch);
}

/* The device crashed after central stored the batch and before it marked its outbox (the
 * receipts are lost): the next sync sends the same envelopes again, central answers
 * duplicate, nothing is stored twice and the outbox ends acknowledged. */
static void test_receipts_lost_in_a_crash_resend_gives_duplicates_nothing_twice(void **state)
{
    struct fixture *f = *state;
    finish(f, 4);
    size_t len, rlen;
    int count;
    char *batch = next_batch(f, &len, &count);
    struct op_err e = {0};
    char *receipts;
    assert_int_equal(push_bytes(f, f->device->id, batch, len, &receipts, &rlen, &e), 0);
    free(receipts); /* lost */
    free(batch);
    assert_int_equal(counts(f).pending, 4);
    assert_int_equal(central_results(f), 4);
    struct app_outbox_report rep;
    push(f, &rep);
    assert_int_equal(rep.acknowledged, 4);
    assert_int_equal(central_results(f), 4);
    assert_int_equal(fx_count(f->device, "SELECT count(*) FROM result_outbox WHERE"
                                         " receipt_status = 'duplicate'"),
                     4);
    assert_int_equal(counts(f).pending, 0);
}

/* An envelope altered on the way is refused, with the reason, and the others are stored;
 * the device keeps the refused one with central's reason and never sends it again. */
static void test_an_altered_envelope_is_refused_and_the_rest_stored(void **state)
{
    struct fixture *f = *state;
    finish(f, 2);
    size_t len;
    char id[UUID_STR_LEN];
    unsigned char *env = result(f, f->device->id, TAKER, &f->device_key, id, &len);
    env[ENVELOPE_HEADER_BYTES + 5] ^= 0x01; /* a ciphertext byte: parses, does not verify */
    struct op_err e = {0};
    assert_int_equal(app_outbox_add(f->device, env, len, &e), 0);
    free(env);
    struct app_outbox_report rep;
    push(f, &rep);
    assert_int_equal(rep.acknowledged, 2);
    assert_int_equal(rep.refused, 1);
    assert_int_equal(central_results(f), 2);
    char status[16];
    char *reason;
    assert_int_equal(outbox_get_status(f->device->db, id, status, &reason, &e), 0);
    assert_string_equal(status, "refused");
    assert_non_null(reason);
    assert_non_null(strstr(reason, "signature"));
    free(reason);
    struct outbox_counts c = counts(f);
    assert_int_equal(c.refused, 1);
    assert_int_equal(c.pending, 0);
    /* not resent */
    size_t blen;
    int count;
    assert_null(next_batch(f, &blen, &count));
    finish(f, 1);
    char *batch = next_batch(f, &blen, &count);
    assert_int_equal(count, 1);
    assert_null(strstr(batch, id));
    free(batch);
}

/* Envelopes a batch carries that the credential's device did not make: one naming the
 * device but signed by another device's key, one naming (and signed by) the other device.
 * Each is refused with its reason; the device's own is stored. */
static void test_envelopes_of_another_device_or_key_are_refused_each(void **state)
{
    struct fixture *f = *state;
    struct outbox_item items[3];
    char ids[3][UUID_STR_LEN];
    items[0].envelope = result(f, f->device->id, TAKER, &f->other_key, ids[0], &items[0].len);
    items[1].envelope = result(f, f->other_id, TAKER, &f->other_key, ids[1], &items[1].len);
    items[2].envelope = result(f, f->device->id, TAKER, &f->device_key, ids[2], &items[2].len);
    for (int i = 0; i < 3; i++)
        memcpy(items[i].result_id, ids[i], UUID_STR_LEN);
    char *batch;
    size_t len, rlen;
    struct op_err e = {0};
    assert_int_equal(sync_batch_encode(f->device->id, items, 3, &batch, &len, &e), 0);
    char *receipts;
    assert_int_equal(push_bytes(f, f->device->id, batch, len, &receipts, &rlen, &e), 0);
    struct sync_receipts r;
    assert_int_equal(sync_receipts_open((unsigned char *)receipts, rlen, f->signing.public_key,
                                        f->device->id, &r, &e),
                     0);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.r[0].status, OUTBOX_REFUSED);
    assert_non_null(strstr(r.r[0].reason, "signature"));
    assert_int_equal(r.r[1].status, OUTBOX_REFUSED);
    assert_non_null(strstr(r.r[1].reason, "names device"));
    assert_int_equal(r.r[2].status, OUTBOX_STORED);
    assert_string_equal(r.r[2].result_id, ids[2]);
    sync_receipts_free(&r);
    assert_int_equal(central_results(f), 1);
    /* a batch whose result id is not its envelope's: refused for that envelope */
    memcpy(items[2].result_id, ids[0], UUID_STR_LEN);
    free(batch);
    free(receipts);
    assert_int_equal(sync_batch_encode(f->device->id, &items[2], 1, &batch, &len, &e), 0);
    assert_int_equal(push_bytes(f, f->device->id, batch, len, &receipts, &rlen, &e), 0);
    char text[256];
    statuses(f, receipts, rlen, text, sizeof text);
    assert_string_equal(text, "refused");
    for (int i = 0; i < 3; i++)
        free(items[i].envelope);
    free(batch);
    free(receipts);
}

static void test_a_revoked_or_unknown_device_or_another_devices_batch_is_refused(void **state)
{
    struct fixture *f = *state;
    finish(f, 2);
    size_t len, rlen;
    int count;
    char *batch = next_batch(f, &len, &count);
    struct op_err e = {0};
    char *receipts = NULL;
    /* the batch names this device, the credential is the other device's */
    assert_int_equal(push_bytes(f, f->other_id, batch, len, &receipts, &rlen, &e), OP_EFORBIDDEN);
    assert_non_null(strstr(e.msg, "whole batch is refused"));
    assert_null(receipts);
    /* an unknown device */
    char unknown[UUID_STR_LEN];
    uuid_generate(unknown);
    assert_int_equal(push_bytes(f, unknown, batch, len, &receipts, &rlen, &e), OP_EFORBIDDEN);
    assert_non_null(strstr(e.msg, "not enrolled"));
    /* revoked */
    assert_int_equal(db_begin(f->central->db, &e), 0);
    assert_int_equal(devices_set_revoked(f->central->db, f->device->id, 1, &e), 0);
    assert_int_equal(db_commit(f->central->db, &e), 0);
    assert_int_equal(push_bytes(f, f->device->id, batch, len, &receipts, &rlen, &e), OP_EFORBIDDEN);
    assert_non_null(strstr(e.msg, "was revoked; its results are refused"));
    assert_int_equal(central_results(f), 0);
    assert_int_equal(counts(f).pending, 2);
    free(batch);
}

static int count_quarantined(const struct result_row *r, void *ctx)
{
    assert_string_equal(r->review, "quarantined");
    assert_non_null(strstr(r->review_reason, "withdrawn"));
    (*(int *)ctx)++;
    return 0;
}

static int count_rows(const struct result_row *r, void *ctx)
{
    (void)r;
    (*(int *)ctx)++;
    return 0;
}

/* A result whose eligibility was withdrawn after the test is stored, held for review and
 * acknowledged; an operator accepts one and rejects another (kept, marked). A result of a
 * test taker never in the organisation's scope is refused. */
static void test_withdrawn_eligibility_is_quarantined_acknowledged_then_reviewed(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    size_t len;
    char id1[UUID_STR_LEN], id2[UUID_STR_LEN], id3[UUID_STR_LEN];
    unsigned char *r1 = result(f, f->device->id, TAKER, &f->device_key, id1, &len);
    assert_int_equal(app_outbox_add(f->device, r1, len, &e), 0);
    free(r1);
    r1 = result(f, f->device->id, TAKER, &f->device_key, id2, &len);
    assert_int_equal(app_outbox_add(f->device, r1, len, &e), 0);
    free(r1);
    r1 = result(f, f->device->id, OTHER_TAKER, &f->device_key, id3, &len);
    assert_int_equal(app_outbox_add(f->device, r1, len, &e), 0);
    free(r1);
    /* central withdraws TAKER's eligibility after the tests were taken */
    struct db *db = f->central->db;
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(
        db_exec(db, "DELETE FROM eligibility_test_takers WHERE user_id = '" TAKER "'", &e), 0);
    assert_int_equal(feed_touch(db, FEED_USER, TAKER, &e), 0);
    assert_int_equal(db_commit(db, &e), 0);
    struct app_outbox_report rep;
    push(f, &rep);
    assert_int_equal(rep.acknowledged, 2);
    assert_int_equal(rep.refused, 1); /* OTHER_TAKER: never in ORG-1's scope */
    assert_int_equal(fx_count(f->device, "SELECT count(*) FROM result_outbox WHERE"
                                         " receipt_status = 'quarantined'"),
                     2);
    assert_int_equal(central_results(f), 2);
    assert_int_equal(fx_count(f->central, "SELECT count(*) FROM results WHERE"
                                          " review = 'quarantined'"),
                     2);
    /* results list --status quarantined */
    struct app_results_list_in in = {NULL, "quarantined"};
    int n = 0;
    assert_int_equal(app_results_list(f->central, &in, count_quarantined, &n, &e), 0);
    assert_int_equal(n, 2);
    /* accept one, reject the other */
    assert_int_equal(app_results_accept(f->central, id1, &e), 0);
    assert_int_equal(app_results_reject(f->central, id2, "taken under another name", &e), 0);
    assert_int_equal(app_results_accept(f->central, id1, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "accepted already"));
    assert_int_equal(app_results_reject(f->central, id2, NULL, &e), OP_ESTATE);
    char unknown[UUID_STR_LEN];
    uuid_generate(unknown);
    assert_int_equal(app_results_accept(f->central, unknown, &e), OP_ENOTFOUND);
    assert_int_equal(central_results(f), 2); /* rejected: kept */
    assert_int_equal(fx_count(f->central, "SELECT count(*) FROM results WHERE review = 'rejected'"
                                          " AND review_reason = 'taken under another name'"
                                          " AND reviewed_at IS NOT NULL"),
                     1);
    assert_int_equal(fx_count(f->central, "SELECT count(*) FROM results WHERE review = 'accepted'"),
                     1);
    n = 0;
    assert_int_equal(app_results_list(f->central, &in, count_quarantined, &n, &e), 0);
    assert_int_equal(n, 0);
    in.status = "rejected";
    assert_int_equal(app_results_list(f->central, &in, count_rows, &n, &e), 0);
    assert_int_equal(n, 1);
}

/* Receipts are believed only under central's pinned signing key: another key, an altered
 * body or receipts for another device mark nothing. */
static void test_receipts_under_another_key_or_altered_mark_nothing(void **state)
{
    struct fixture *f = *state;
    finish(f, 2);
    size_t len, rlen;
    int count;
    char *batch = next_batch(f, &len, &count);
    struct op_err e = {0};
    char *receipts;
    assert_int_equal(push_bytes(f, f->device->id, batch, len, &receipts, &rlen, &e), 0);
    struct app_outbox_report rep;
    /* pinned: another key */
    assert_int_equal(sync_outbox_apply_receipts(f->device, (unsigned char *)receipts, rlen,
                                                f->other_key.public_key, &rep, &e),
                     OP_ECRYPTO);
    assert_non_null(strstr(e.msg, "pinned"));
    /* the same receipts signed by another key that claims central's key id */
    struct outbox_receipt fake[1];
    memset(fake, 0, sizeof fake);
    struct outbox_item *items;
    int n;
    assert_int_equal(app_outbox_next_batch(f->device, 10, 1u << 20, &items, &n, &e), 0);
    memcpy(fake[0].result_id, items[0].result_id, UUID_STR_LEN);
    memcpy(fake[0].sha256, items[0].sha256, SHA256_HEX_LEN);
    fake[0].status = OUTBOX_STORED;
    outbox_items_free(items, n);
    struct key forger = f->other_key;
    memcpy(forger.id, f->signing.id, sizeof forger.id);
    char *forged;
    size_t flen;
    assert_int_equal(sync_receipts_sign(f->device->id, fake, 1, &forger, &forged, &flen, &e), 0);
    assert_int_equal(sync_outbox_apply_receipts(f->device, (unsigned char *)forged, flen,
                                                f->signing.public_key, &rep, &e),
                     OP_ECRYPTO);
    free(forged);
    /* receipts for another device, signed by central */
    assert_int_equal(sync_receipts_sign(f->other_id, fake, 1, &f->signing, &forged, &flen, &e), 0);
    assert_int_equal(sync_outbox_apply_receipts(f->device, (unsigned char *)forged, flen,
                                                f->signing.public_key, &rep, &e),
                     OP_ECRYPTO);
    free(forged);
    /* an altered byte of the body */
    char *altered = strdup(receipts);
    char *body = strstr(altered, "\"body\":\"") + 8;
    body[10] = body[10] == 'A' ? 'B' : 'A';
    assert_int_equal(sync_outbox_apply_receipts(f->device, (unsigned char *)altered, rlen,
                                                f->signing.public_key, &rep, &e),
                     OP_ECRYPTO);
    free(altered);
    assert_int_equal(counts(f).pending, 2);
    assert_int_equal(fx_count(f->device, "SELECT count(*) FROM outbox_receipts"), 0);
    /* the genuine ones, twice: the second changes nothing */
    assert_int_equal(sync_outbox_apply_receipts(f->device, (unsigned char *)receipts, rlen,
                                                f->signing.public_key, &rep, &e),
                     0);
    assert_int_equal(rep.acknowledged, 2);
    assert_int_equal(sync_outbox_apply_receipts(f->device, (unsigned char *)receipts, rlen,
                                                f->signing.public_key, &rep, &e),
                     0);
    assert_int_equal(rep.acknowledged, 0);
    assert_int_equal(rep.ignored, 2);
    free(receipts);
    free(batch);
}

static void test_outbox_refuses_bad_envelopes_and_other_bytes_under_an_id(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    unsigned char junk[200] = {0};
    assert_int_equal(app_outbox_add(f->device, junk, sizeof junk, &e), OP_EINPUT);
    size_t len;
    unsigned char *other = result(f, f->other_id, TAKER, &f->other_key, NULL, &len);
    assert_int_equal(app_outbox_add(f->device, other, len, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "not this device"));
    free(other);
    struct envelope_header h = envfx_header(f->device->id);
    unsigned char *a = envfx_seal(&h, PAYLOAD, &f->results, &f->device_key, &len);
    size_t len2;
    unsigned char *b = envfx_seal(&h, "{\"score\": 1}", &f->results, &f->device_key, &len2);
    assert_int_equal(app_outbox_add(f->device, a, len, &e), 0);
    assert_int_equal(app_outbox_add(f->device, b, len2, &e), OP_ECONFLICT);
    free(a);
    free(b);
    /* central's operations are refused on a device, and the device's on central */
    assert_int_equal(app_outbox_add(f->central, junk, sizeof junk, &e), OP_ESTATE);
    char *receipts;
    size_t rlen;
    assert_int_equal(push_bytes(f, f->device->id, "{}", 2, &receipts, &rlen, &e), OP_EINPUT);
    struct outbox_item *items;
    int n;
    assert_int_equal(app_outbox_next_batch(f->device, 0, 1, &items, &n, &e), OP_EINPUT);
    assert_int_equal(app_outbox_next_batch(f->device, 501, 1, &items, &n, &e), OP_EINPUT);
}

/* The batch decoder refuses every malformed batch, saying what is wrong. */
static void test_batch_decode_refuses_malformed_batches(void **state)
{
    (void)state;
    const char *id = "11111111-2222-4333-8444-555555555555";
    const struct {
        const char *json, *msg;
    } cases[] = {
        {"", "not JSON"},
        {"[]", "exactly format"},
        {"{\"format\":\"outpost results batch v2\",\"device_id\":\"x\",\"results\":[]}",
         "format must be"},
        {"{\"format\":\"outpost results batch v1\",\"device_id\":\"x\",\"results\":[]}",
         "device_id"},
        {"{\"format\":\"outpost results batch v1\",\"device_id\":\"11111111-2222-4333-8444-"
         "555555555555\",\"results\":{}}",
         "array"},
        {"{\"format\":\"outpost results batch v1\",\"device_id\":\"11111111-2222-4333-8444-"
         "555555555555\",\"results\":[],\"extra\":1}",
         "exactly"},
        {"{\"format\":\"outpost results batch v1\",\"format\":\"x\",\"device_id\":\"1\","
         "\"results\":[]}",
         "not JSON"},
        {"{\"format\":\"outpost results batch v1\",\"device_id\":\"11111111-2222-4333-8444-"
         "555555555555\",\"results\":[{\"result_id\":\"x\",\"envelope\":\"AAAA\"}]}",
         "result_id is not a UUID"},
        {"{\"format\":\"outpost results batch v1\",\"device_id\":\"11111111-2222-4333-8444-"
         "555555555555\",\"results\":[{\"result_id\":\"11111111-2222-4333-8444-555555555555\","
         "\"envelope\":\"A*AA\"}]}",
         "not base64"},
        {"{\"format\":\"outpost results batch v1\",\"device_id\":\"11111111-2222-4333-8444-"
         "555555555555\",\"results\":[{\"result_id\":\"11111111-2222-4333-8444-555555555555\","
         "\"envelope\":\"\"}]}",
         "not base64"},
        {"{\"format\":\"outpost results batch v1\",\"device_id\":\"11111111-2222-4333-8444-"
         "555555555555\",\"results\":[{\"result_id\":\"11111111-2222-4333-8444-555555555555\","
         "\"envelope\":\"AAAA\"},{\"result_id\":\"11111111-2222-4333-8444-555555555555\","
         "\"envelope\":\"AAAA\"}]}",
         "listed twice"},
        {"{\"format\":\"outpost results batch v1\",\"device_id\":\"11111111-2222-4333-8444-"
         "555555555555\",\"results\":[{\"result_id\":\"11111111-2222-4333-8444-555555555555\"}]}",
         "exactly result_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sync_batch b;
        struct op_err e = {0};
        int rc =
            sync_batch_decode((const unsigned char *)cases[i].json, strlen(cases[i].json), &b, &e);
        if (rc != OP_EINPUT || !strstr(e.msg, cases[i].msg))
            fail_msg("case %zu: %d %s", i, rc, e.msg);
        sync_batch_free(&b);
    }
    /* over 500 results, and over 16 MiB */
    json_t *list = json_array();
    for (int i = 0; i < 501; i++)
        json_array_append_new(list, json_pack("{s:s, s:s}", "result_id", id, "envelope", "AAAA"));
    json_t *doc =
        json_pack("{s:s, s:s, s:o}", "format", SYNC_BATCH_FORMAT, "device_id", id, "results", list);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    struct sync_batch b;
    struct op_err e = {0};
    assert_int_equal(sync_batch_decode((unsigned char *)text, strlen(text), &b, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "at most 500"));
    sync_batch_free(&b);
    free(text);
    size_t big = SYNC_BATCH_MAX_BYTES + 1;
    unsigned char *huge = calloc(big, 1);
    assert_int_equal(sync_batch_decode(huge, big, &b, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "over the limit"));
    free(huge);
    sync_batch_free(&b);
    /* and one that is well formed round-trips */
    struct outbox_item item = {"", "", (unsigned char *)"\x01\x02\x03\x04", 4};
    memcpy(item.result_id, id, UUID_STR_LEN);
    size_t len;
    assert_int_equal(sync_batch_encode(id, &item, 1, &text, &len, &e), 0);
    assert_int_equal(sync_batch_decode((unsigned char *)text, len, &b, &e), 0);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.items[0].len, 4);
    assert_memory_equal(b.items[0].envelope, "\x01\x02\x03\x04", 4);
    assert_string_equal(b.device_id, id);
    sync_batch_free(&b);
    free(text);
}

static void test_receipts_open_refuses_malformed_documents(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    const char *cases[] = {"", "{}", "{\"body\":\"e30=\",\"key_id\":1,\"signature\":\"\"}",
                           "{\"body\":\"e30=\",\"key_id\":\"x\",\"signature\":\"\"}"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sync_receipts r;
        int rc = sync_receipts_open((const unsigned char *)cases[i], strlen(cases[i]),
                                    f->signing.public_key, f->device->id, &r, &e);
        if (rc == 0)
            fail_msg("case %zu accepted", i);
        sync_receipts_free(&r);
    }
    /* a body signed by central that is not a receipts body */
    struct outbox_receipt one;
    memset(&one, 0, sizeof one);
    uuid_generate(one.result_id);
    sha256_hex("x", 1, one.sha256);
    one.status = OUTBOX_REFUSED;
    snprintf(one.reason, sizeof one.reason, "because");
    char *text;
    size_t len;
    assert_int_equal(sync_receipts_sign(f->device->id, &one, 1, &f->signing, &text, &len, &e), 0);
    struct sync_receipts r;
    assert_int_equal(sync_receipts_open((unsigned char *)text, len, f->signing.public_key,
                                        f->device->id, &r, &e),
                     0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.r[0].status, OUTBOX_REFUSED);
    assert_string_equal(r.r[0].reason, "because");
    sync_receipts_free(&r);
    free(text);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_batch_of_n_is_stored_exactly_once_and_acknowledged),
        T(test_a_batch_pushed_twice_gives_duplicates_stored_once),
        T(test_receipts_lost_in_a_crash_resend_gives_duplicates_nothing_twice),
        T(test_an_altered_envelope_is_refused_and_the_rest_stored),
        T(test_envelopes_of_another_device_or_key_are_refused_each),
        T(test_a_revoked_or_unknown_device_or_another_devices_batch_is_refused),
        T(test_withdrawn_eligibility_is_quarantined_acknowledged_then_reviewed),
        T(test_receipts_under_another_key_or_altered_mark_nothing),
        T(test_outbox_refuses_bad_envelopes_and_other_bytes_under_an_id),
        T(test_batch_decode_refuses_malformed_batches),
        T(test_receipts_open_refuses_malformed_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
