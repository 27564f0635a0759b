/* test_envelope.c - result envelopes: sealed to central, signed by the device, parsed
 * strictly, verified with the device's key, opened with the key they name. Central's intake
 * of them (devices, scope, quarantine) is tested by test_app_results.c. */
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
#include "crypto/keys.h"
#include "crypto/sign.h"
#include "envelope_fixture.h"

struct fixture {
    char *dir;
    char *central_keys;
    char *device_keys;
    struct key results; /* central's current results key */
    struct key device;  /* the device's signing key */
    char device_id[UUID_STR_LEN];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->dir = testutil_tmpdir();
    f->central_keys = fs_join(f->dir, "central-keys");
    f->device_keys = fs_join(f->dir, "device-keys");
    struct op_err e = {0};
    assert_int_equal(keys_setup_central(f->central_keys, NULL, &e), 0);
    assert_int_equal(keys_setup_device(f->device_keys, NULL, &e), 0);
    assert_int_equal(keys_results_current(f->central_keys, &f->results, &e), 0);
    assert_int_equal(keys_load_device_signing(f->device_keys, &f->device, &e), 0);
    uuid_generate(f->device_id);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
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
    return envfx_header(f->device_id);
}

static unsigned char *seal(const struct fixture *f, const struct envelope_header *h,
                           const char *payload, const struct key *results, size_t *len)
{
    return envfx_seal(h, payload, results, &f->device, len);
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
    int got;
    struct envelope env;
    struct op_err e = {0};
    for (int i = 0; i < N; i++) {
        assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &got, &e), 0);
        assert_int_equal(got, 1);
        assert_int_equal(used, lens[i]);
        assert_memory_equal(buf, envs[i], lens[i]);
        assert_string_equal(env.h.result_id, ids[i]);
        assert_int_equal(full_check(f, buf, used), 0);
        largest = lens[i] > largest ? lens[i] : largest;
    }
    /* the end of the file is a success (0, so `db_commit_if(db, rc, e)` after the loop
     * commits), told apart by *got */
    assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &got, &e), 0);
    assert_int_equal(got, 0);
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
    int got;
    struct envelope env;
    struct op_err e = {0};
    assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &got, &e), 0);
    assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &got, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "bad magic"));
    close(fd);
    /* the second envelope cut anywhere: the same "truncated" message as envelope_parse_next
     * on the rest of the file in memory */
    for (size_t cut = 1; cut < lens[1]; cut += 37) {
        size_t keep = lens[1];
        lens[1] = cut;
        fd = concat_file(f, envs, lens, 2, NULL);
        lens[1] = keep;
        assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &got, &e), 0);
        assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &got, &e), OP_EINPUT);
        struct op_err want = {0};
        assert_int_equal(envelope_parse_next(envs[1], cut, &env, &used, &want), OP_EINPUT);
        assert_string_equal(e.msg, want.msg);
        close(fd);
    }
    /* a header announcing more than the limit is refused before anything is allocated for it */
    envs[1][120] = 0x7f;
    fd = concat_file(f, envs, lens, 2, NULL);
    size_t before = cap;
    assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &got, &e), 0);
    assert_int_equal(envelope_read_next(fd, &buf, &cap, &env, &used, &got, &e), OP_EINPUT);
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

static void test_altered_header_resigned_by_a_device_is_detected(void **state)
{
    struct fixture *f = *state;
    struct envelope_header h = header(f);
    size_t len;
    unsigned char *data = seal(f, &h, PAYLOAD, &f->results, &len);
    /* the device (or anyone with its key) moves the sealed result onto another test taker */
    data[64] ^= 0xff;
    envfx_resign(&f->device, data, len);
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
    free(msg);
    free(data);
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
            test_envelope_signature_is_bound_to_the_result_envelope_context, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
