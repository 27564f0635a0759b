/* test_envelope.c - result envelopes: sealed to central, signed by the device, parsed
 * strictly, verified against enrolled devices, decrypted with the key they name. */
#include "testutil.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "crypto/envelope.h"
#include "crypto/intake.h"
#include "crypto/keys.h"
#include "crypto/sign.h"
#include "store/devices.h"
#include "store/results.h"
#include "store/results_keys.h"

static const char *PAYLOAD = "{\"score\": 7, \"items\": [\"i1\", \"i2\"]}";

struct fixture {
    char *dir;
    char *central_keys;
    char *device_keys;
    struct db *db;
    struct key results; /* central's current results key */
    struct key device;  /* the device's signing key */
    char device_id[UUID_STR_LEN];
};

/* The device's organisation (ORG-1) has a test center where TAKER is eligible for DELIVERY;
 * ORG-2 has one where OTHER_TAKER is eligible for OTHER_DELIVERY. */
#define TAKER          "aaaaaaaa-0000-4000-8000-000000000001"
#define DELIVERY       "dddddddd-0000-4000-8000-000000000001"
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

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char *dbdir;
    f->db = testutil_db(&dbdir);
    f->dir = dbdir;
    f->central_keys = fs_join(f->dir, "central-keys");
    f->device_keys = fs_join(f->dir, "device-keys");
    struct op_err e = {0};
    assert_int_equal(keys_setup_central(f->central_keys, NULL, &e), 0);
    assert_int_equal(keys_setup_device(f->device_keys, NULL, &e), 0);
    assert_int_equal(keys_results_current(f->central_keys, &f->results, &e), 0);
    assert_int_equal(keys_load_device_signing(f->device_keys, &f->device, &e), 0);
    uuid_generate(f->device_id);
    struct device d;
    memset(&d, 0, sizeof d);
    memcpy(d.id, f->device_id, sizeof d.id);
    d.label = "school 1";
    d.org_id = "ORG-1";
    memcpy(d.signing_public_key, f->device.public_key, KEY_PUBLIC_BYTES);
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(devices_insert(f->db, &d, &e), 0);
    make_scope(f->db);
    assert_int_equal(db_commit(f->db, &e), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    key_wipe(&f->results);
    key_wipe(&f->device);
    free(f->central_keys);
    free(f->device_keys);
    testutil_rmdir(f->dir);
    free(f);
    return 0;
}

static struct envelope_header header(const struct fixture *f)
{
    struct envelope_header h;
    memset(&h, 0, sizeof h);
    h.state = ENVELOPE_FINISHED;
    uuid_generate(h.result_id);
    uuid_generate(h.execution_id);
    snprintf(h.delivery_id, sizeof h.delivery_id, "%s", DELIVERY);
    snprintf(h.test_taker_id, sizeof h.test_taker_id, "%s", TAKER);
    memcpy(h.device_id, f->device_id, sizeof h.device_id);
    h.started_at = 1700000000;
    h.ended_at = 1700003600;
    h.sealed_at = 1700003601;
    return h;
}

static unsigned char *seal(const struct fixture *f, const struct envelope_header *h,
                           const char *payload, const struct key *results, size_t *len)
{
    unsigned char *out;
    struct op_err e = {0};
    if (envelope_seal(h, (const unsigned char *)payload, strlen(payload), results->public_key,
                      &f->device, &out, len, &e) != 0)
        fail_msg("seal: %s", e.msg);
    return out;
}

/* The whole central-side check: parse, verify, open. 0 if everything passes. */
static int full_check(const struct fixture *f, const unsigned char *data, size_t len)
{
    struct envelope env;
    struct op_err e = {0};
    if (envelope_parse(data, len, &env, &e) != 0)
        return -1;
    if (envelope_verify(&env, f->device.public_key, &e) != 0)
        return -2;
    unsigned char *p;
    size_t n;
    if (envelope_open(&env, &f->results, &p, &n, &e) != 0)
        return -3;
    free(p);
    return 0;
}

static void test_envelope_round_trips_header_and_result(void **state)
{
    struct fixture *f = *state;
    struct envelope_header h = header(f);
    h.state = ENVELOPE_TERMINATED;
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    assert_int_equal(len, ENVELOPE_HEADER_BYTES + 80 + strlen(PAYLOAD) + 64);
    struct envelope env;
    struct op_err e = {0};
    assert_int_equal(envelope_parse(data, len, &env, &e), 0);
    assert_string_equal(env.h.result_id, h.result_id);
    assert_string_equal(env.h.test_taker_id, h.test_taker_id);
    assert_string_equal(env.h.device_id, f->device_id);
    assert_string_equal(env.h.key_id, f->results.id);
    assert_int_equal(env.h.state, ENVELOPE_TERMINATED);
    assert_int_equal(env.h.ended_at, 1700003600);
    assert_int_equal(envelope_verify(&env, f->device.public_key, &e), 0);
    unsigned char *p;
    size_t n;
    assert_int_equal(envelope_open(&env, &f->results, &p, &n, &e), 0);
    assert_int_equal(n, strlen(PAYLOAD));
    assert_memory_equal(p, PAYLOAD, n);
    free(p);
    free(data);
}

static void test_device_cannot_read_back_a_result_it_sealed(void **state)
{
    struct fixture *f = *state;
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    /* the result is not in clear anywhere in the envelope */
    assert_null(memmem(data, len, "score", 5));
    struct envelope env;
    struct op_err e = {0};
    assert_int_equal(envelope_parse(data, len, &env, &e), 0);
    /* everything the device holds: central's public key and its own signing key */
    unsigned char plain[4096];
    assert_int_not_equal(crypto_box_seal_open(plain, env.ciphertext, env.ciphertext_len,
                                              f->results.public_key, f->device.secret),
                         0);
    unsigned char curve_sk[32];
    crypto_sign_ed25519_sk_to_curve25519(curve_sk, f->device.sign_secret);
    assert_int_not_equal(crypto_box_seal_open(plain, env.ciphertext, env.ciphertext_len,
                                              f->results.public_key, curve_sk),
                         0);
    struct key fake = f->results;
    memcpy(fake.secret, f->device.secret, 32); /* a results key struct with the device's secret */
    unsigned char *p;
    size_t n;
    assert_int_equal(envelope_open(&env, &fake, &p, &n, &e), OP_ECRYPTO);
    key_wipe(&fake);
    free(data);
}

static void test_flipped_bit_anywhere_in_envelope_is_detected(void **state)
{
    struct fixture *f = *state;
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    assert_int_equal(full_check(f, data, len), 0);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            data[i] ^= (unsigned char)(1u << bit);
            if (full_check(f, data, len) == 0)
                fail_msg("a flip of bit %d of byte %zu went undetected", bit, i);
            data[i] ^= (unsigned char)(1u << bit);
        }
    }
    assert_int_equal(full_check(f, data, len), 0);
    free(data);
}

static void test_truncated_envelope_is_a_clear_error(void **state)
{
    struct fixture *f = *state;
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    struct envelope env;
    struct op_err e = {0};
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(envelope_parse(data, cut, &env, &e), OP_EINPUT);
        assert_non_null(strstr(e.msg, "truncated"));
    }
    free(data);
}

static void test_oversized_or_extended_envelope_is_a_clear_error(void **state)
{
    struct fixture *f = *state;
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    struct envelope env;
    struct op_err e = {0};
    unsigned char *longer = calloc(1, len + 3);
    memcpy(longer, data, len);
    assert_int_equal(envelope_parse(longer, len + 3, &env, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "3 trailing bytes"));
    /* the envelope at the front of a longer buffer is still readable one by one */
    size_t used;
    assert_int_equal(envelope_parse_next(longer, len + 3, &env, &used, &e), 0);
    assert_int_equal(used, len);
    free(longer);
    /* a buffer over the limit, and a header announcing a ciphertext over the limit */
    assert_int_equal(envelope_parse(data, (size_t)ENVELOPE_MAX_BYTES + 1, &env, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "oversized"));
    data[120] = 0x7f;
    assert_int_equal(envelope_parse(data, len, &env, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "oversized"));
    free(data);
    /* a result over the payload limit is refused when sealing */
    char *big = malloc(ENVELOPE_MAX_PAYLOAD + 2);
    memset(big, 'x', ENVELOPE_MAX_PAYLOAD + 1);
    big[ENVELOPE_MAX_PAYLOAD + 1] = '\0';
    unsigned char *out;
    assert_int_equal(envelope_seal(&h, (unsigned char *)big, ENVELOPE_MAX_PAYLOAD + 1,
                                   f->results.public_key, &f->device, &out, &len, &e),
                     OP_EINPUT);
    free(big);
}

/* Writes the n envelopes, with `gap` bytes of garbage after the first, to a file and opens it. */
static int concat_file(const struct fixture *f, unsigned char **envs, size_t *lens, int n,
                       const char *gap)
{
    char *path = fs_join(f->dir, "concat.bin");
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    for (int i = 0; i < n; i++) {
        assert_int_equal(fwrite(envs[i], 1, lens[i], out), lens[i]);
        if (i == 0 && gap)
            fputs(gap, out);
    }
    assert_int_equal(fclose(out), 0);
    struct op_err e = {0};
    int fd;
    assert_int_equal(fs_open_regular(path, &fd, &e), 0);
    free(path);
    return fd;
}

static void test_reading_a_file_gives_its_envelopes_one_at_a_time(void **state)
{
    struct fixture *f = *state;
    enum { N = 20 };
    unsigned char *envs[N];
    size_t lens[N];
    char ids[N][UUID_STR_LEN];
    for (int i = 0; i < N; i++) {
        struct envelope_header h = header(f);
        memcpy(ids[i], h.result_id, UUID_STR_LEN);
        envs[i] = seal(f, &h, i % 2 ? PAYLOAD : "{}", &f->results, &lens[i]);
    }
    int fd = concat_file(f, envs, lens, N, NULL);
    unsigned char *buf = NULL;
    size_t cap = 0, used, largest = 0;
    struct envelope env;
    struct op_err e = {0};
    for (int i = 0; i < N; i++) {
        assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &e), 0);
        assert_int_equal(used, lens[i]);
        assert_memory_equal(buf, envs[i], lens[i]);
        assert_string_equal(env.h.result_id, ids[i]);
        assert_int_equal(full_check(f, buf, used), 0);
        largest = lens[i] > largest ? lens[i] : largest;
    }
    assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &e), 1);
    assert_int_equal(cap, largest); /* one envelope in memory, not the file */
    close(fd);
    free(buf);
    for (int i = 0; i < N; i++)
        free(envs[i]);
}

static void test_reading_stops_at_garbage_or_a_cut_with_the_parser_message(void **state)
{
    struct fixture *f = *state;
    unsigned char *envs[2];
    size_t lens[2];
    for (int i = 0; i < 2; i++) {
        struct envelope_header h = header(f);
        envs[i] = seal(f, &h, PAYLOAD, &f->results, &lens[i]);
    }
    /* garbage between two envelopes: the first is read, then the reason the parser gives */
    int fd = concat_file(f, envs, lens, 2, "garbage");
    unsigned char *buf = NULL;
    size_t cap = 0, used;
    struct envelope env;
    struct op_err e = {0};
    assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &e), 0);
    assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "bad magic"));
    close(fd);
    /* the second envelope cut anywhere: the same "truncated" message as envelope_parse_next
     * on the rest of the file in memory */
    for (size_t cut = 1; cut < lens[1]; cut += 37) {
        size_t keep = lens[1];
        lens[1] = cut;
        fd = concat_file(f, envs, lens, 2, NULL);
        lens[1] = keep;
        assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &e), 0);
        assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &e), OP_EINPUT);
        struct op_err want = {0};
        assert_int_equal(envelope_parse_next(envs[1], cut, &env, &used, &want), OP_EINPUT);
        assert_string_equal(e.msg, want.msg);
        close(fd);
    }
    /* a header announcing more than the limit is refused before anything is allocated for it */
    envs[1][120] = 0x7f;
    fd = concat_file(f, envs, lens, 2, NULL);
    size_t before = cap;
    assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &e), 0);
    assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "oversized"));
    assert_int_equal(cap, before);
    close(fd);
    free(buf);
    free(envs[0]);
    free(envs[1]);
}

static void test_bad_magic_version_reserved_and_state_are_named(void **state)
{
    struct fixture *f = *state;
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    struct envelope env;
    struct op_err e = {0};
    const struct {
        size_t off;
        unsigned char value;
        const char *msg;
    } cases[] = {{0, 'X', "bad magic"},
                 {4, 2, "format version 2 is not supported"},
                 {6, 1, "reserved"},
                 {5, 9, "unknown state 9"},
                 {96, 0x80, "outside the years 2000 to 9999"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char saved = data[cases[i].off];
        data[cases[i].off] = cases[i].value;
        assert_int_equal(envelope_parse(data, len, &env, &e), OP_EINPUT);
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("expected \"%s\" in \"%s\"", cases[i].msg, e.msg);
        data[cases[i].off] = saved;
    }
    free(data);
}

/* Re-signs an envelope whose header was changed, as its device (or a thief with its key) can:
 * the signature then verifies, only central's checks of the header stand in the way. */
static void resign(const struct fixture *f, unsigned char *data, size_t len)
{
    size_t ct = len - ENVELOPE_HEADER_BYTES - ENVELOPE_SIGNATURE_BYTES;
    struct op_err e = {0};
    assert_int_equal(sign_detached(SIGN_CONTEXT_RESULT_ENVELOPE, data, ENVELOPE_HEADER_BYTES + ct,
                                   &f->device, data + ENVELOPE_HEADER_BYTES + ct, &e),
                     0);
}

static void put_time(unsigned char *data, size_t off, int64_t t)
{
    uint64_t u = (uint64_t)t;
    for (int i = 7; i >= 0; i--, u >>= 8)
        data[off + (size_t)i] = (unsigned char)u;
}

static int count_results(struct fixture *f)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db_sqlite(f->db), "SELECT count(*) FROM results", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
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
        resign(f, data, len);
        struct envelope env;
        struct op_err e = {0};
        assert_int_equal(envelope_parse(data, len, &env, &e), OP_EINPUT);
        if (!strstr(e.msg, cases[i].msg))
            fail_msg("case %zu: expected \"%s\" in \"%s\"", i, cases[i].msg, e.msg);
        assert_int_equal(db_begin(f->db, &e), 0);
        assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), OP_EINPUT);
        assert_int_equal(db_commit(f->db, &e), 0);
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
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), RESULTS_STORED);
    assert_int_equal(db_commit(f->db, &e), 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db_sqlite(f->db),
                                        "SELECT started_at, sealed_at FROM results", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "2000-01-01T00:00:00Z");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "9999-12-31T23:59:59Z");
    sqlite3_finalize(st);
    free(data);
    /* and a device refuses to seal a time stamp out of range */
    h = header(f);
    h.sealed_at = INT64_MAX;
    unsigned char *out;
    assert_int_equal(envelope_seal(&h, (const unsigned char *)PAYLOAD, strlen(PAYLOAD),
                                   f->results.public_key, &f->device, &out, &len, &e),
                     OP_EINPUT);
}

static void test_altered_header_resigned_by_a_device_is_detected(void **state)
{
    struct fixture *f = *state;
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    /* the device (or anyone with its key) moves the sealed result onto another test taker */
    data[64] ^= 0xff;
    resign(f, data, len);
    struct envelope env;
    struct op_err e = {0};
    assert_int_equal(envelope_parse(data, len, &env, &e), 0);
    assert_int_equal(envelope_verify(&env, f->device.public_key, &e), 0);
    unsigned char *p;
    size_t n;
    assert_int_equal(envelope_open(&env, &f->results, &p, &n, &e), OP_ECRYPTO);
    assert_non_null(strstr(e.msg, "header was altered"));
    free(data);
}

/* The device signs "outpost result envelope v1" NUL || bytes, never the bare bytes: a signature
 * its key makes for another type of message (sync, later) cannot pass as an envelope's, nor an
 * envelope's as another's (docs/security.md §4). */
static void test_envelope_signature_is_bound_to_the_result_envelope_context(void **state)
{
    struct fixture *f = *state;
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    size_t signed_len = len - ENVELOPE_SIGNATURE_BYTES;
    unsigned char *sig = data + signed_len;
    static const char ctx[] = "outpost result envelope v1"; /* with its NUL: sizeof ctx */
    unsigned char *msg = malloc(sizeof ctx + signed_len);
    memcpy(msg, ctx, sizeof ctx);
    memcpy(msg + sizeof ctx, data, signed_len);
    assert_int_equal(
        crypto_sign_verify_detached(sig, msg, sizeof ctx + signed_len, f->device.public_key), 0);
    assert_int_not_equal(crypto_sign_verify_detached(sig, data, signed_len, f->device.public_key),
                         0);
    /* a bare signature of the same bytes, or one under another context, is refused */
    struct envelope env;
    struct op_err e = {0};
    crypto_sign_detached(sig, NULL, data, signed_len, f->device.sign_secret);
    assert_int_equal(envelope_parse(data, len, &env, &e), 0);
    assert_int_equal(envelope_verify(&env, f->device.public_key, &e), OP_ECRYPTO);
    static const char other[] = "outpost sync request v1";
    memcpy(msg, other, sizeof other);
    memcpy(msg + sizeof other, data, signed_len);
    crypto_sign_detached(sig, NULL, msg, sizeof other + signed_len, f->device.sign_secret);
    assert_int_equal(envelope_verify(&env, f->device.public_key, &e), OP_ECRYPTO);
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), OP_ECRYPTO);
    db_rollback(f->db);
    free(msg);
    free(data);
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
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), OP_ENOTFOUND);
    assert_non_null(strstr(e.msg, "unknown device"));
    free(data);
    /* signed by another key than the enrolled one */
    h = header(f);
    struct key other;
    char *odir = fs_join(f->dir, "other-device");
    assert_int_equal(keys_setup_device(odir, NULL, &e), 0);
    assert_int_equal(keys_load_device_signing(odir, &other, &e), 0);
    unsigned char *forged;
    assert_int_equal(envelope_seal(&h, (const unsigned char *)PAYLOAD, strlen(PAYLOAD),
                                   f->results.public_key, &other, &forged, &len, &e),
                     0);
    assert_int_equal(intake_receive(f->db, f->central_keys, forged, len, NULL, &e), OP_ECRYPTO);
    assert_non_null(strstr(e.msg, "signature does not verify"));
    free(forged);
    key_wipe(&other);
    free(odir);
    /* revoked device */
    data = seal(f, &h, PAYLOAD, &f->results, &len);
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(devices_set_revoked(f->db, f->device_id, 1, &e), 0);
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "revoked"));
    assert_int_equal(devices_set_revoked(f->db, f->device_id, 0, &e), 0);
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), RESULTS_STORED);
    db_rollback(f->db);
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
        assert_int_equal(db_begin(f->db, &e), 0);
        assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), OP_ESTATE);
        assert_non_null(strstr(e.msg, "not eligible"));
        assert_non_null(strstr(e.msg, "ORG-1"));
        db_rollback(f->db);
        free(data);
    }
    /* in scope: stored; once stored, a copy is still recognised after the eligibility goes */
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), RESULTS_STORED);
    assert_int_equal(
        db_exec(f->db, "DELETE FROM eligibility_test_takers WHERE user_id = '" TAKER "'", &e), 0);
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e),
                     RESULTS_DUPLICATE);
    db_rollback(f->db);
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
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, stranger.id));
    assert_non_null(strstr(e.msg, "never had"));
    assert_int_equal(db_commit(f->db, &e), 0);
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
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), RESULTS_STORED);
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e),
                     RESULTS_DUPLICATE);
    assert_int_equal(intake_receive(f->db, f->central_keys, other, len2, NULL, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "held for review"));
    assert_int_equal(db_commit(f->db, &e), 0);
    unsigned char *stored;
    size_t slen;
    assert_int_equal(results_get_envelope(f->db, h.result_id, &stored, &slen, &e), 0);
    assert_int_equal(slen, len);
    assert_memory_equal(stored, data, len); /* the first one is kept as received */
    free(stored);
    free(data);
    free(other);
}

/* Another device of the organisation, enrolled on central; its key in *k, its id in id. */
static void enrol_other_device(struct fixture *f, const char *org, struct key *k,
                               char id[UUID_STR_LEN])
{
    struct op_err e = {0};
    char *dir = fs_join(f->dir, org);
    assert_int_equal(keys_setup_device(dir, NULL, &e), 0);
    assert_int_equal(keys_load_device_signing(dir, k, &e), 0);
    free(dir);
    uuid_generate(id);
    struct device d;
    memset(&d, 0, sizeof d);
    memcpy(d.id, id, UUID_STR_LEN);
    d.label = "school 2";
    d.org_id = (char *)org;
    memcpy(d.signing_public_key, k->public_key, KEY_PUBLIC_BYTES);
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(devices_insert(f->db, &d, &e), 0);
    assert_int_equal(db_commit(f->db, &e), 0);
}

/* An envelope of `h` sealed and signed by the device key `k`. */
static unsigned char *seal_by(const struct fixture *f, const struct envelope_header *h,
                              const char *payload, const struct key *k, size_t *len)
{
    unsigned char *out;
    struct op_err e = {0};
    if (envelope_seal(h, (const unsigned char *)payload, strlen(payload), f->results.public_key, k,
                      &out, len, &e) != 0)
        fail_msg("seal: %s", e.msg);
    return out;
}

static int count_sql(struct fixture *f, const char *sql, const char *p1, const char *p2)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db_sqlite(f->db), sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db_sqlite(f->db)));
    sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
    if (p2)
        sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int receive(struct fixture *f, const unsigned char *data, size_t len, struct op_err *e)
{
    struct op_err ignored = {0};
    assert_int_equal(db_begin(f->db, &ignored), 0);
    int rc = intake_receive(f->db, f->central_keys, data, len, NULL, e);
    assert_int_equal(db_commit(f->db, &ignored), 0);
    return rc;
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
    enrol_other_device(f, "ORG-1", &thief, thief_id);
    struct op_err e = {0};
    /* the genuine result first: the thief's envelope under its id is refused and held */
    struct envelope_header h = header(f);
    size_t len, tlen;
    unsigned char *genuine = seal(f, &h, PAYLOAD, &f->results, &len);
    struct envelope_header th = h;
    memcpy(th.device_id, thief_id, UUID_STR_LEN);
    unsigned char *forged = seal_by(f, &th, "{\"score\": 0}", &thief, &tlen);
    assert_int_equal(receive(f, genuine, len, &e), RESULTS_STORED);
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
    unsigned char *forged2 = seal_by(f, &th2, "{\"score\": 0}", &thief, &tlen);
    assert_int_equal(receive(f, forged2, tlen, &e), RESULTS_STORED);
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
    enrol_other_device(f, "ORG-2", &outsider, outsider_id);
    struct envelope_header oh = h;
    memcpy(oh.device_id, outsider_id, UUID_STR_LEN);
    unsigned char *probe = seal_by(f, &oh, PAYLOAD, &outsider, &tlen);
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
    assert_int_equal(receive(f, first, len, &e), RESULTS_STORED);
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

struct problems {
    int n;
    char last[256];
    char all[4096];
};

static void note(enum intake_problem kind, const char *id, const char *problem, void *ctx)
{
    (void)kind;
    struct problems *p = ctx;
    p->n++;
    snprintf(p->last, sizeof p->last, "%s: %s", id, problem);
    size_t used = strlen(p->all);
    snprintf(p->all + used, sizeof p->all - used, "%s\n", p->last);
}

static void receive_all(struct fixture *f, unsigned char **envs, size_t *lens, int n)
{
    struct op_err e = {0};
    assert_int_equal(db_begin(f->db, &e), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(intake_receive(f->db, f->central_keys, envs[i], lens[i], NULL, &e),
                         RESULTS_STORED);
    assert_int_equal(db_commit(f->db, &e), 0);
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
    struct intake_report rep;
    struct problems probs = {0, "", ""};
    assert_int_equal(intake_decrypt(f->db, f->central_keys, NULL, &rep, note, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 2);
    assert_int_equal(probs.n, 0);
    char *json;
    assert_int_equal(results_get_json(f->db, h1.result_id, &json, &e), 0);
    assert_string_equal(json, PAYLOAD);
    free(json);
    assert_int_equal(results_get_json(f->db, h2.result_id, &json, &e), 0);
    assert_string_equal(json, "{\"score\": 3}");
    free(json);
    /* a second run is idempotent: nothing left to do */
    assert_int_equal(intake_decrypt(f->db, f->central_keys, NULL, &rep, note, &probs, &e), 0);
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
    struct intake_report rep;
    struct problems probs = {0, "", ""};
    assert_int_equal(intake_decrypt(f->db, f->central_keys, NULL, &rep, note, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 2);
    assert_int_equal(rep.damaged, 1);
    assert_int_equal(probs.n, 1);
    assert_non_null(strstr(probs.last, hs[1].result_id));
    assert_non_null(strstr(probs.last, "not a JSON object"));
    unsigned char *stored;
    size_t slen;
    assert_int_equal(results_get_envelope(f->db, hs[1].result_id, &stored, &slen, &e), 0);
    assert_memory_equal(stored, envs[1], lens[1]); /* the damaged envelope is kept */
    free(stored);
    for (int i = 0; i < 3; i++)
        free(envs[i]);
}

/* One results key file that cannot be loaded (here readable by others) stopped every
 * decryption, even of results sealed to other keys: the others decrypt, the file is reported,
 * and the results sealed to it wait. */
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
    struct intake_report rep;
    struct problems probs = {0, "", ""};
    assert_int_equal(intake_decrypt(f->db, f->central_keys, NULL, &rep, note, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 1);
    assert_int_equal(rep.missing_key, 1);
    char *json;
    assert_int_equal(results_get_json(f->db, h2.result_id, &json, &e), 0);
    assert_string_equal(json, "{\"score\": 3}");
    free(json);
    assert_int_equal(results_get_json(f->db, h1.result_id, &json, &e), OP_ENOTFOUND);
    assert_true(probs.n >= 2);
    assert_non_null(strstr(probs.all, "results-0001.key"));
    assert_non_null(strstr(probs.all, "chmod 600"));
    assert_non_null(strstr(probs.all, h1.result_id));
    /* once the file is fixed, the waiting result decrypts */
    assert_int_equal(chmod(old, 0600), 0);
    assert_int_equal(intake_decrypt(f->db, f->central_keys, NULL, &rep, note, &probs, &e), 0);
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
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(results_keys_record(f->db, &rotated, &e), 0);
    assert_int_equal(db_commit(f->db, &e), 0);
    char *path = fs_join(f->central_keys, "results-0002.key");
    char *away = fs_join(f->dir, "results-0002.key");
    assert_int_equal(rename(path, away), 0);
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &rotated, &len);
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), RESULTS_STORED);
    assert_int_equal(db_commit(f->db, &e), 0);
    struct intake_report rep;
    struct problems probs = {0, "", ""};
    assert_int_equal(intake_decrypt(f->db, f->central_keys, NULL, &rep, note, &probs, &e), 0);
    assert_int_equal(rep.missing_key, 1);
    assert_non_null(strstr(probs.last, "restore the key file"));
    assert_int_equal(rename(away, path), 0);
    assert_int_equal(intake_decrypt(f->db, f->central_keys, NULL, &rep, note, &probs, &e), 0);
    assert_int_equal(rep.decrypted, 1);
    /* a key file central has but had not recorded yet (set up before the record existed) is
     * recorded when an envelope names it */
    assert_int_equal(db_exec(f->db, "DELETE FROM results_keys", &e), 0);
    h = header(f);
    free(data);
    data = seal(f, &h, PAYLOAD, &f->results, &len);
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(intake_receive(f->db, f->central_keys, data, len, NULL, &e), RESULTS_STORED);
    assert_int_equal(db_commit(f->db, &e), 0);
    assert_int_equal(results_keys_known(f->db, f->results.id, &e), 1);
    assert_int_equal(results_keys_known(f->db, rotated.id, &e), 1);
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
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(results_insert(f->db, &env, NULL, NULL, &e), RESULTS_STORED);
    assert_int_equal(db_commit(f->db, &e), 0);
    assert_int_equal(intake_decrypt(f->db, f->central_keys, NULL, &rep, note, &probs, &e), 0);
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
    char *away = fs_join(f->dir, "results-0001.key");
    assert_int_equal(rename(path, away), 0);
    struct intake_report rep;
    struct problems probs = {0, "", ""};
    assert_int_equal(intake_decrypt(f->db, f->central_keys, h.delivery_id, &rep, note, &probs, &e),
                     0);
    assert_int_equal(rep.missing_key, 1);
    assert_non_null(strstr(probs.last, f->results.id));
    assert_int_equal(rename(away, path), 0);
    assert_int_equal(intake_decrypt(f->db, f->central_keys, h.delivery_id, &rep, note, &probs, &e),
                     0);
    assert_int_equal(rep.decrypted, 1);
    free(path);
    free(away);
    free(envs[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_envelope_round_trips_header_and_result, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_device_cannot_read_back_a_result_it_sealed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flipped_bit_anywhere_in_envelope_is_detected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_truncated_envelope_is_a_clear_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_or_extended_envelope_is_a_clear_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reading_a_file_gives_its_envelopes_one_at_a_time,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_reading_stops_at_garbage_or_a_cut_with_the_parser_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_magic_version_reserved_and_state_are_named, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_altered_header_resigned_by_a_device_is_detected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_time_stamps_outside_2000_to_9999_or_out_of_order_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_envelope_signature_is_bound_to_the_result_envelope_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_central_rejects_unknown_revoked_and_wrongly_signed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_central_rejects_a_result_outside_the_device_organisation, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_central_refuses_an_envelope_sealed_to_a_key_it_never_had, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_known_key_whose_file_is_lost_is_still_accepted_and_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_is_idempotent_by_result_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_device_cannot_take_over_another_devices_result_id,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_conflicting_copy_from_the_same_device_is_held_not_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_result_still_decrypts_after_key_rotation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_damaged_envelope_is_reported_and_the_rest_decrypt,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_key_leaves_result_pending_until_restored,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_unloadable_old_key_does_not_stop_the_others, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
