/*
 * bench_crypto.c - cost of Outpost's result envelopes and vault unlock, each next to the bare
 * libsodium calls on the same bytes (the floor no wrapper can beat):
 *   1. seal+sign N results (envelope_seal) vs crypto_box_seal + crypto_sign_detached;
 *   2. parse+verify+open N envelopes vs crypto_sign_verify_detached + crypto_box_seal_open;
 *   3. one vault unlock with the default Argon2id cost (password check + unwrap) vs one bare
 *      crypto_pwhash with the same parameters.
 * usage: bench_crypto [N (default 10000)] [PAYLOAD_BYTES (default 2048)]
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/credentials.h"
#include "crypto/envelope.h"
#include "crypto/keys.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define ROUNDS 3

static double min(double a, double b)
{
    return a < b ? a : b;
}

static void report(const char *what, int n, size_t bytes, double secs, double floor_secs)
{
    printf("%-48s %8.3f s  %9.0f results/s  %7.1f MB/s", what, secs, n / secs,
           (double)bytes / secs / 1e6);
    if (floor_secs > 0)
        printf("  (%.2fx the bare calls)", secs / floor_secs);
    printf("\n");
}

static void die(const struct op_err *e)
{
    fprintf(stderr, "bench_crypto: %s\n", e->msg);
    exit(1);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    size_t plen = argc > 2 ? (size_t)atol(argv[2]) : 2048;
    if (n < 1 || plen < 2 || plen > ENVELOPE_MAX_PAYLOAD)
        return 2;

    /* keys in memory, as on a device (device key) and on central (results key) */
    struct key results, device;
    memset(&results, 0, sizeof results);
    memset(&device, 0, sizeof device);
    results.kind = KEY_RESULTS;
    randombytes_buf(results.secret, 32);
    crypto_scalarmult_base(results.public_key, results.secret);
    key_id_of_public(results.public_key, results.id);
    device.kind = KEY_SIGNING;
    randombytes_buf(device.secret, 32);
    crypto_sign_seed_keypair(device.public_key, device.sign_secret, device.secret);

    unsigned char *payload = malloc(plen);
    memset(payload, ' ', plen);
    payload[0] = '{';
    payload[plen - 1] = '}';
    struct envelope_header h;
    memset(&h, 0, sizeof h);
    h.state = ENVELOPE_FINISHED;
    uuid_generate(h.execution_id);
    uuid_generate(h.delivery_id);
    uuid_generate(h.test_taker_id);
    uuid_generate(h.device_id);
    h.started_at = 1700000000;
    h.ended_at = h.sealed_at = 1700003600;

    printf("bench_crypto: %d results of %zu bytes, libsodium %s\n", n, plen,
           sodium_version_string());

    /* The machine may be shared: every phase runs ROUNDS times and the fastest run counts. */
    unsigned char **raw = calloc((size_t)n, sizeof *raw);
    unsigned char **env = calloc((size_t)n, sizeof *env);
    size_t *env_len = calloc((size_t)n, sizeof *env_len);
    size_t raw_len = crypto_box_SEALBYTES + plen;
    unsigned char *out = malloc(plen + 64);
    struct op_err e = {0};
    double bare_seal = 1e9, seal = 1e9, bare_open = 1e9, open = 1e9;
    for (int round = 0; round < ROUNDS; round++) {
        /* 1. bare seal + sign on the same bytes */
        double t0 = now();
        for (int i = 0; i < n; i++) {
            free(raw[i]);
            raw[i] = malloc(raw_len + crypto_sign_BYTES);
            crypto_box_seal(raw[i], payload, plen, results.public_key);
            crypto_sign_detached(raw[i] + raw_len, NULL, raw[i], raw_len, device.sign_secret);
        }
        bare_seal = min(bare_seal, now() - t0);

        /* 1. envelope_seal */
        t0 = now();
        for (int i = 0; i < n; i++) {
            free(env[i]);
            uuid_generate(h.result_id);
            if (envelope_seal(&h, payload, plen, results.public_key, &device, &env[i], &env_len[i],
                              &e) != 0)
                die(&e);
        }
        seal = min(seal, now() - t0);

        /* 2. bare verify + open */
        t0 = now();
        for (int i = 0; i < n; i++) {
            if (crypto_sign_verify_detached(raw[i] + raw_len, raw[i], raw_len, device.public_key) ||
                crypto_box_seal_open(out, raw[i], raw_len, results.public_key, results.secret))
                return 1;
        }
        bare_open = min(bare_open, now() - t0);

        /* 2. parse + verify + open */
        t0 = now();
        for (int i = 0; i < n; i++) {
            struct envelope ev;
            unsigned char *p;
            size_t len;
            if (envelope_parse(env[i], env_len[i], &ev, &e) != 0 ||
                envelope_verify(&ev, device.public_key, &e) != 0 ||
                envelope_open(&ev, &results, &p, &len, &e) != 0)
                die(&e);
            free(p);
        }
        open = min(open, now() - t0);
    }

    size_t bytes = (size_t)n * plen;
    report("bare crypto_box_seal + crypto_sign_detached", n, bytes, bare_seal, 0);
    report("envelope_seal (seal + sign)", n, bytes, seal, bare_seal);
    report("bare crypto_sign_verify + crypto_box_seal_open", n, bytes, bare_open, 0);
    report("envelope parse + verify + open", n, bytes, open, bare_open);

    /* 3. one vault unlock with the default Argon2id cost (also best of ROUNDS) */
    struct password_cost cost = {PASSWORD_DEFAULT_OPSLIMIT, PASSWORD_DEFAULT_MEMLIMIT_KIB};
    const char *pw = "a test taker's password";
    char uid[UUID_STR_LEN];
    uuid_generate(uid);
    struct credentials c;
    unsigned char pk[32], sk[32];
    unsigned char salt[crypto_pwhash_SALTBYTES], derived[64];
    randombytes_buf(salt, sizeof salt);
    double make = 1e9, unlock = 1e9, bare_pwhash = 1e9;
    for (int round = 0; round < ROUNDS; round++) {
        double t0 = now();
        if (crypto_pwhash(derived, sizeof derived, pw, strlen(pw), salt, cost.opslimit,
                          (size_t)cost.memlimit_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
            return 1;
        bare_pwhash = min(bare_pwhash, now() - t0);
        t0 = now();
        if (credentials_make(&cost, uid, pw, strlen(pw), NULL, &c, &e) != 0)
            die(&e);
        make = min(make, now() - t0);
        struct user u;
        memset(&u, 0, sizeof u);
        memcpy(u.id, uid, sizeof u.id);
        credentials_apply(&c, &u);
        t0 = now();
        if (credentials_unlock(&u, pw, strlen(pw), pk, sk, &e) != 0)
            die(&e);
        unlock = min(unlock, now() - t0);
    }
    printf("%-48s %8.4f s  (m=%llu KiB, t=%llu)\n", "bare crypto_pwhash Argon2id, 64 bytes",
           bare_pwhash, (unsigned long long)cost.memlimit_kib, (unsigned long long)cost.opslimit);
    printf("%-48s %8.4f s  (%.2fx the bare call)\n", "credentials_make (password set + vault)",
           make, make / bare_pwhash);
    printf("%-48s %8.4f s  (%.2fx the bare call)\n", "vault unlock (password check + unwrap)",
           unlock, unlock / bare_pwhash);

    for (int i = 0; i < n; i++) {
        free(raw[i]);
        free(env[i]);
    }
    free(raw);
    free(env);
    free(env_len);
    free(out);
    free(payload);
    sodium_memzero(sk, sizeof sk);
    credentials_wipe(&c);
    key_wipe(&results);
    key_wipe(&device);
    return 0;
}
