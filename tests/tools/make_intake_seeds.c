/*
 * make_intake_seeds.c - writes the seed corpus of tests/fuzz/fuzz_intake.c into a folder:
 * valid envelopes under the fuzz target's fixed keys (results key secret 32 bytes of 0x11,
 * device seed 0x22, device id 0d0d0d0d-...-000000000001) and a few that each reach one
 * refusal or problem, every one behind the flags byte the target reads.
 *
 *   make_intake_seeds DIR
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/envelope.h"
#include "crypto/keys.h"

#define ALL 0x0f /* scope, device id, key id, decrypt */

static struct key device;
static unsigned char results_pk[32], stranger_pk[32];

static void fixed_keys(void)
{
    unsigned char sk[32];
    memset(sk, 0x11, sizeof sk);
    crypto_scalarmult_base(results_pk, sk);
    memset(sk, 0x33, sizeof sk);
    crypto_scalarmult_base(stranger_pk, sk);
    device.kind = KEY_SIGNING;
    memset(device.secret, 0x22, 32);
    crypto_sign_seed_keypair(device.public_key, device.sign_secret, device.secret);
}

static struct envelope_header header(int n)
{
    struct envelope_header h;
    memset(&h, 0, sizeof h);
    h.state = ENVELOPE_FINISHED;
    snprintf(h.result_id, sizeof h.result_id, "11111111-0000-4000-8000-%012d", n);
    snprintf(h.execution_id, sizeof h.execution_id, "22222222-0000-4000-8000-%012d", n);
    snprintf(h.delivery_id, sizeof h.delivery_id, "dddddddd-0000-4000-8000-000000000001");
    snprintf(h.test_taker_id, sizeof h.test_taker_id, "aaaaaaaa-0000-4000-8000-000000000001");
    snprintf(h.device_id, sizeof h.device_id, "0d0d0d0d-0000-4000-8000-000000000001");
    h.started_at = 1700000000;
    h.ended_at = 1700003600;
    h.sealed_at = 1700003601;
    return h;
}

struct seed {
    unsigned char *bytes;
    size_t len;
};

static void add(struct seed *s, const struct envelope_header *h, const char *payload,
                const unsigned char *pk)
{
    unsigned char *env;
    size_t len;
    struct op_err e = {0};
    if (envelope_seal(h, (const unsigned char *)payload, strlen(payload), pk, &device, &env, &len,
                      &e) != 0) {
        fprintf(stderr, "make_intake_seeds: %s\n", e.msg);
        exit(1);
    }
    s->bytes = realloc(s->bytes, s->len + len);
    memcpy(s->bytes + s->len, env, len);
    s->len += len;
    free(env);
}

static void put_i64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        p[i] = (unsigned char)u;
}

static void write_seed(const char *dir, const char *name, int flags, struct seed *s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    unsigned char b = (unsigned char)flags;
    if (!f || fwrite(&b, 1, 1, f) != 1 || fwrite(s->bytes, 1, s->len, f) != s->len ||
        fclose(f) != 0) {
        fprintf(stderr, "make_intake_seeds: cannot write %s\n", path);
        exit(1);
    }
    free(s->bytes);
    s->bytes = NULL;
    s->len = 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || sodium_init() < 0) {
        fprintf(stderr, "usage: make_intake_seeds DIR\n");
        return 2;
    }
    fixed_keys();
    const char *dir = argv[1];
    struct seed s = {NULL, 0};
    struct envelope_header h = header(1);
    add(&s, &h, "{\"score\": 7, \"items\": [\"i1\", \"i2\"]}", results_pk);
    write_seed(dir, "finished.bin", ALL, &s);

    h = header(2);
    add(&s, &h, "{\"score\": 1}", results_pk);
    h = header(3);
    h.state = ENVELOPE_TERMINATED;
    add(&s, &h, "{}", results_pk);
    write_seed(dir, "two.bin", ALL, &s);

    /* the same id twice with other content: the second is held in quarantine */
    h = header(4);
    add(&s, &h, "{\"score\": 1}", results_pk);
    add(&s, &h, "{\"score\": 2}", results_pk);
    write_seed(dir, "conflict.bin", ALL, &s);

    /* a time stamp near INT64_MAX (written after sealing, which refuses it; the target
     * re-signs): once a stack buffer overflow in results_insert */
    h = header(5);
    add(&s, &h, "{\"score\": 5}", results_pk);
    put_i64(s.bytes + 112, INT64_MAX);
    write_seed(dir, "huge-time.bin", ALL, &s);

    /* sealed to a results key central never had (the key id is left as it is) */
    h = header(6);
    add(&s, &h, "{\"score\": 6}", stranger_pk);
    write_seed(dir, "stranger-key.bin", ALL & ~4, &s);

    /* a test taker not eligible in the device's organisation */
    h = header(7);
    add(&s, &h, "{\"score\": 7}", results_pk);
    write_seed(dir, "no-scope.bin", ALL & ~1, &s);

    /* stored, then marked damaged by decrypt-results: not a JSON object */
    h = header(8);
    add(&s, &h, "[1, 2, 3]", results_pk);
    write_seed(dir, "not-an-object.bin", ALL, &s);
    return 0;
}
