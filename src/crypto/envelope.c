/*
 * envelope.c - sealing, signing, parsing, verifying and opening result envelopes (see
 * envelope.h for the byte layout). Only libsodium primitives: crypto_box_seal, Ed25519
 * detached signatures under the result envelope context (crypto/sign.h), BLAKE2b and SHA-256.
 */
#include "crypto/envelope.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/sign.h"

#define OFF_VERSION  4
#define OFF_STATE    5
#define OFF_RESERVED 6
#define OFF_KEY_ID   8
#define OFF_RESULT   16
#define OFF_EXEC     32
#define OFF_DELIVERY 48
#define OFF_TAKER    64
#define OFF_DEVICE   80
#define OFF_STARTED  96
#define OFF_ENDED    104
#define OFF_SEALED   112
#define OFF_CT_LEN   120

_Static_assert(ENVELOPE_SEAL_OVERHEAD == crypto_box_SEALBYTES, "seal overhead");
_Static_assert(ENVELOPE_SIGNATURE_BYTES == crypto_sign_BYTES, "signature size");
_Static_assert(OFF_CT_LEN + 4 == ENVELOPE_HEADER_BYTES, "header layout");

const char *envelope_state_name(int state)
{
    return state == ENVELOPE_FINISHED     ? "finished"
           : state == ENVELOPE_TERMINATED ? "terminated"
                                          : "unknown";
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_i64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        p[i] = (unsigned char)u;
}

static int64_t get_i64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
}

/* The time stamps of a header: each within the years 2000 to 9999 (so that every one has a
 * four-digit year and formats, base/ids.h), and started <= ended <= sealed. */
static int check_times(const struct envelope_header *h, const char *what, struct op_err *e)
{
    const struct {
        int64_t t;
        const char *name;
    } ts[] = {
        {h->started_at, "started at"}, {h->ended_at, "ended at"}, {h->sealed_at, "sealed at"}};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        if (ts[i].t < ENVELOPE_TIME_MIN || ts[i].t > ENVELOPE_TIME_MAX)
            return err_set(e, OP_EINPUT,
                           "%s %s: time stamp \"%s\" (%lld) is outside the years 2000 to 9999",
                           what, h->result_id, ts[i].name, (long long)ts[i].t);
    if (h->started_at > h->ended_at)
        return err_set(e, OP_EINPUT, "%s %s: started after it ended", what, h->result_id);
    if (h->ended_at > h->sealed_at)
        return err_set(e, OP_EINPUT, "%s %s: ended after it was sealed", what, h->result_id);
    return 0;
}

static int uuid_to_bin(const char *s, unsigned char out[16])
{
    if (!uuid_is_valid(s))
        return -1;
    char hex[33];
    size_t n = 0;
    for (const char *p = s; *p; p++)
        if (*p != '-')
            hex[n++] = *p;
    hex[n] = '\0';
    return sodium_hex2bin(out, 16, hex, 32, NULL, NULL, NULL);
}

static void uuid_from_bin(const unsigned char b[16], char out[UUID_STR_LEN])
{
    snprintf(out, UUID_STR_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

int envelope_seal(const struct envelope_header *h, const unsigned char *payload, size_t len,
                  const unsigned char results_pk[KEY_PUBLIC_BYTES], const struct key *device_key,
                  unsigned char **out, size_t *out_len, struct op_err *e)
{
    *out = NULL;
    *out_len = 0;
    if (len > ENVELOPE_MAX_PAYLOAD)
        return err_set(e, OP_EINPUT, "result %s: %zu bytes, over the envelope limit of %u",
                       h->result_id, len, ENVELOPE_MAX_PAYLOAD);
    if (h->state != ENVELOPE_FINISHED && h->state != ENVELOPE_TERMINATED)
        return err_set(e, OP_EINPUT, "result %s: state must be finished or terminated",
                       h->result_id);
    if (check_times(h, "result", e) != 0)
        return OP_EINPUT;
    if (device_key->kind != KEY_SIGNING)
        return err_set(e, OP_EINPUT, "envelope_seal needs the device signing key");
    size_t ct_len = ENVELOPE_MIN_CIPHERTEXT + len;
    size_t total = ENVELOPE_HEADER_BYTES + ct_len + ENVELOPE_SIGNATURE_BYTES;
    unsigned char *env = calloc(1, total);
    if (!env)
        return err_set(e, OP_ENOMEM, "out of memory");
    memcpy(env, ENVELOPE_MAGIC, 4);
    env[OFF_VERSION] = ENVELOPE_VERSION;
    env[OFF_STATE] = (unsigned char)h->state;
    char key_id[KEY_ID_HEX_LEN];
    key_id_of_public(results_pk, key_id);
    sodium_hex2bin(env + OFF_KEY_ID, KEY_ID_BYTES, key_id, KEY_ID_BYTES * 2, NULL, NULL, NULL);
    const struct {
        const char *id;
        int off;
        const char *name;
    } ids[] = {{h->result_id, OFF_RESULT, "result id"},
               {h->execution_id, OFF_EXEC, "execution id"},
               {h->delivery_id, OFF_DELIVERY, "delivery id"},
               {h->test_taker_id, OFF_TAKER, "test taker id"},
               {h->device_id, OFF_DEVICE, "device id"}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        if (uuid_to_bin(ids[i].id, env + ids[i].off) != 0) {
            free(env);
            return err_set(e, OP_EINPUT, "envelope: %s \"%s\" is not a UUID", ids[i].name,
                           ids[i].id);
        }
    }
    put_i64(env + OFF_STARTED, h->started_at);
    put_i64(env + OFF_ENDED, h->ended_at);
    put_i64(env + OFF_SEALED, h->sealed_at);
    put_u32(env + OFF_CT_LEN, (uint32_t)ct_len);

    /* inner = BLAKE2b(header) || payload, sealed to the results key */
    size_t inner_len = ENVELOPE_HASH_BYTES + len;
    unsigned char *inner = malloc(inner_len);
    if (!inner) {
        free(env);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    crypto_generichash(inner, ENVELOPE_HASH_BYTES, env, ENVELOPE_HEADER_BYTES, NULL, 0);
    if (len)
        memcpy(inner + ENVELOPE_HASH_BYTES, payload, len);
    int rc = crypto_box_seal(env + ENVELOPE_HEADER_BYTES, inner, inner_len, results_pk);
    sodium_memzero(inner, inner_len);
    free(inner);
    if (rc != 0) {
        free(env);
        return err_set(e, OP_ECRYPTO, "sealing the result failed (invalid results key)");
    }
    rc = sign_detached(SIGN_CONTEXT_RESULT_ENVELOPE, env, ENVELOPE_HEADER_BYTES + ct_len,
                       device_key, env + ENVELOPE_HEADER_BYTES + ct_len, e);
    if (rc != 0) {
        free(env);
        return rc;
    }
    *out = env;
    *out_len = total;
    return 0;
}

/* Checks the fixed header at data[0..ENVELOPE_HEADER_BYTES) and gives the whole envelope's
 * length (bounded by ENVELOPE_MAX_BYTES) in *total. */
static int check_header(const unsigned char *data, size_t *total, struct op_err *e)
{
    if (memcmp(data, ENVELOPE_MAGIC, 4) != 0)
        return err_set(e, OP_EINPUT, "not an Outpost result envelope (bad magic)");
    if (data[OFF_VERSION] != ENVELOPE_VERSION)
        return err_set(e, OP_EINPUT,
                       "result envelope format version %d is not supported (this outpost reads "
                       "version %d)",
                       data[OFF_VERSION], ENVELOPE_VERSION);
    if (data[OFF_RESERVED] || data[OFF_RESERVED + 1])
        return err_set(e, OP_EINPUT, "result envelope: reserved bytes are not zero");
    int state = data[OFF_STATE];
    if (state != ENVELOPE_FINISHED && state != ENVELOPE_TERMINATED)
        return err_set(e, OP_EINPUT, "result envelope: unknown state %d", state);
    uint32_t ct_len = get_u32(data + OFF_CT_LEN);
    if (ct_len < ENVELOPE_MIN_CIPHERTEXT)
        return err_set(e, OP_EINPUT, "result envelope: ciphertext of %u bytes is too short",
                       ct_len);
    if (ct_len > ENVELOPE_MAX_CIPHERTEXT)
        return err_set(e, OP_EINPUT,
                       "result envelope oversized: ciphertext of %u bytes, the limit is %u", ct_len,
                       (unsigned)ENVELOPE_MAX_CIPHERTEXT);
    *total = ENVELOPE_HEADER_BYTES + (size_t)ct_len + ENVELOPE_SIGNATURE_BYTES;
    return 0;
}

int envelope_parse_next(const unsigned char *data, size_t len, struct envelope *env, size_t *used,
                        struct op_err *e)
{
    memset(env, 0, sizeof *env);
    *used = 0;
    if (len < ENVELOPE_HEADER_BYTES)
        return err_set(e, OP_EINPUT, "result envelope truncated: %zu bytes, the header alone is %d",
                       len, ENVELOPE_HEADER_BYTES);
    size_t total = 0;
    if (check_header(data, &total, e) != 0)
        return OP_EINPUT;
    if (len < total)
        return err_set(e, OP_EINPUT, "result envelope truncated: %zu bytes of %zu", len, total);
    size_t ct_len = total - ENVELOPE_HEADER_BYTES - ENVELOPE_SIGNATURE_BYTES;
    struct envelope_header *h = &env->h;
    h->state = data[OFF_STATE];
    sodium_bin2hex(h->key_id, sizeof h->key_id, data + OFF_KEY_ID, KEY_ID_BYTES);
    uuid_from_bin(data + OFF_RESULT, h->result_id);
    uuid_from_bin(data + OFF_EXEC, h->execution_id);
    uuid_from_bin(data + OFF_DELIVERY, h->delivery_id);
    uuid_from_bin(data + OFF_TAKER, h->test_taker_id);
    uuid_from_bin(data + OFF_DEVICE, h->device_id);
    h->started_at = get_i64(data + OFF_STARTED);
    h->ended_at = get_i64(data + OFF_ENDED);
    h->sealed_at = get_i64(data + OFF_SEALED);
    if (check_times(h, "result envelope", e) != 0) {
        memset(env, 0, sizeof *env);
        return OP_EINPUT;
    }
    env->bytes = data;
    env->len = total;
    env->ciphertext = data + ENVELOPE_HEADER_BYTES;
    env->ciphertext_len = ct_len;
    env->signature = data + ENVELOPE_HEADER_BYTES + ct_len;
    *used = total;
    return 0;
}

int envelope_parse(const unsigned char *data, size_t len, struct envelope *env, struct op_err *e)
{
    if (len > ENVELOPE_MAX_BYTES)
        return err_set(e, OP_EINPUT, "result envelope oversized: %zu bytes, the limit is %zu", len,
                       (size_t)ENVELOPE_MAX_BYTES);
    size_t used;
    if (envelope_parse_next(data, len, env, &used, e) != 0)
        return OP_EINPUT;
    if (used != len) {
        memset(env, 0, sizeof *env);
        return err_set(e, OP_EINPUT, "result envelope: %zu trailing bytes after the signature",
                       len - used);
    }
    return 0;
}

/* Reads up to n bytes, fewer only at the end of the file; *got says how many. */
static int read_upto(int fd, unsigned char *p, size_t n, size_t *got, struct op_err *e)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = read(fd, p + *got, n - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_set(e, OP_EIO, "read failed: %s", strerror(errno));
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return 0;
}

int envelope_read_next(int fd, unsigned char **buf, size_t *cap, struct envelope *env, size_t *used,
                       int *got, struct op_err *e)
{
    memset(env, 0, sizeof *env);
    *used = 0;
    *got = 0;
    if (*cap < ENVELOPE_HEADER_BYTES) {
        unsigned char *p = realloc(*buf, ENVELOPE_HEADER_BYTES);
        if (!p)
            return err_set(e, OP_ENOMEM, "out of memory");
        *buf = p;
        *cap = ENVELOPE_HEADER_BYTES;
    }
    size_t head;
    if (read_upto(fd, *buf, ENVELOPE_HEADER_BYTES, &head, e) != 0)
        return OP_EIO;
    if (head == 0)
        return 0;
    size_t total = 0;
    int rc;
    if (head < ENVELOPE_HEADER_BYTES) { /* the end of the file: the parser names it truncated */
        rc = envelope_parse_next(*buf, head, env, used, e);
        *got = rc == 0;
        return rc;
    }
    if (check_header(*buf, &total, e) != 0)
        return OP_EINPUT;
    /* total is at most ENVELOPE_MAX_BYTES (check_header), so the buffer stays bounded. */
    if (*cap < total) {
        unsigned char *p = realloc(*buf, total);
        if (!p)
            return err_set(e, OP_ENOMEM, "out of memory");
        *buf = p;
        *cap = total;
    }
    size_t rest;
    if (read_upto(fd, *buf + ENVELOPE_HEADER_BYTES, total - ENVELOPE_HEADER_BYTES, &rest, e) != 0)
        return OP_EIO;
    /* Short only at the end of the file, where the parser gives the same "truncated: N bytes
     * of M" as for the rest of a file held in memory. */
    rc = envelope_parse_next(*buf, ENVELOPE_HEADER_BYTES + rest, env, used, e);
    *got = rc == 0;
    return rc;
}

int envelope_verify(const struct envelope *env, const unsigned char device_pk[KEY_PUBLIC_BYTES],
                    struct op_err *e)
{
    int rc = sign_verify(SIGN_CONTEXT_RESULT_ENVELOPE, env->bytes,
                         ENVELOPE_HEADER_BYTES + env->ciphertext_len, env->signature, device_pk);
    if (rc == OP_ENOMEM)
        return err_set(e, OP_ENOMEM, "out of memory");
    if (rc != 0)
        return err_set(e, OP_ECRYPTO,
                       "result %s: the signature does not verify with the key of device %s "
                       "(altered on the way, or not sent by that device)",
                       env->h.result_id, env->h.device_id);
    return 0;
}

int envelope_open(const struct envelope *env, const struct key *results_key,
                  unsigned char **payload, size_t *len, struct op_err *e)
{
    *payload = NULL;
    *len = 0;
    if (results_key->kind != KEY_RESULTS || strcmp(results_key->id, env->h.key_id) != 0)
        return err_set(e, OP_ECRYPTO, "result %s is sealed to results key %s, not %s",
                       env->h.result_id, env->h.key_id, results_key->id);
    size_t inner_len = env->ciphertext_len - ENVELOPE_SEAL_OVERHEAD;
    unsigned char *inner = malloc(inner_len + 1);
    if (!inner)
        return err_set(e, OP_ENOMEM, "out of memory");
    if (crypto_box_seal_open(inner, env->ciphertext, env->ciphertext_len, results_key->public_key,
                             results_key->secret) != 0) {
        free(inner);
        return err_set(e, OP_ECRYPTO,
                       "result %s: the sealed result does not open with results key %s (damaged)",
                       env->h.result_id, env->h.key_id);
    }
    unsigned char hash[ENVELOPE_HASH_BYTES];
    crypto_generichash(hash, sizeof hash, env->bytes, ENVELOPE_HEADER_BYTES, NULL, 0);
    if (sodium_memcmp(hash, inner, ENVELOPE_HASH_BYTES) != 0) {
        sodium_memzero(inner, inner_len);
        free(inner);
        return err_set(e, OP_ECRYPTO,
                       "result %s: the header was altered (it does not match the one sealed with "
                       "the result)",
                       env->h.result_id);
    }
    size_t n = inner_len - ENVELOPE_HASH_BYTES;
    memmove(inner, inner + ENVELOPE_HASH_BYTES, n);
    inner[n] = '\0';
    *payload = inner;
    *len = n;
    return 0;
}

void envelope_sha256(const struct envelope *env, char out[SHA256_HEX_LEN])
{
    sha256_hex(env->bytes, env->len, out);
}
