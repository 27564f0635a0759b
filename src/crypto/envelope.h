/*
 * envelope.h - the result envelope: how a result leaves a device so that only central can
 * read it, and central can tell who sent it and that nothing was changed on the way.
 *
 * Format version 1 (all integers big-endian; docs/security.md has the same table):
 *     offset size field
 *     0      4    magic "OPRE"
 *     4      1    format version = 1
 *     5      1    state: 1 finished, 2 terminated
 *     6      2    reserved, zero
 *     8      8    results key id (crypto/keys.h) the result is sealed to
 *     16     16   result id (UUID, 16 bytes)
 *     32     16   execution id
 *     48     16   delivery id
 *     64     16   test taker id
 *     80     16   device id
 *     96     8    started at (signed seconds since 1970-01-01 UTC)
 *     104    8    ended at (finished or terminated)
 *     112    8    sealed at
 *     120    4    ciphertext length C
 *     124    C    crypto_box_seal(BLAKE2b-256(bytes 0..123) || result JSON) to the results key
 *     124+C  64   Ed25519 signature by the device over
 *                 "outpost result envelope v1" NUL || bytes 0 .. 124+C-1 (crypto/sign.h)
 * The header is in clear so central can file, deduplicate and route an envelope without
 * decrypting it; the signature covers it, and its hash inside the sealed box binds it to the
 * ciphertext, so a header cannot be moved onto another result even by a device that signs.
 *
 * The parser is strict and bounded: it refuses a buffer shorter than its header or its stated
 * length (truncated), longer than ENVELOPE_MAX_BYTES (oversized), a bad magic, another format
 * version, non-zero reserved bytes, an unknown state, a time stamp outside the years 2000 to
 * 9999 (ENVELOPE_TIME_MIN..MAX) or out of order (started <= ended <= sealed), and bytes after
 * the signature (envelope_parse; envelope_parse_next reads one envelope off a concatenation;
 * envelope_read_next reads one off a file, holding only that envelope in memory).
 */
#ifndef OUTPOST_CRYPTO_ENVELOPE_H
#define OUTPOST_CRYPTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "base/sha256.h"
#include "crypto/keys.h"

#define ENVELOPE_MAGIC           "OPRE"
#define ENVELOPE_VERSION         1
#define ENVELOPE_HEADER_BYTES    124
#define ENVELOPE_HASH_BYTES      32
#define ENVELOPE_SEAL_OVERHEAD   48 /* crypto_box_SEALBYTES */
#define ENVELOPE_SIGNATURE_BYTES 64
#define ENVELOPE_MAX_PAYLOAD     (8u * 1024 * 1024)
#define ENVELOPE_TIME_MIN        INT64_C(946684800)    /* 2000-01-01T00:00:00Z */
#define ENVELOPE_TIME_MAX        INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define ENVELOPE_MIN_CIPHERTEXT  (ENVELOPE_SEAL_OVERHEAD + ENVELOPE_HASH_BYTES)
#define ENVELOPE_MAX_CIPHERTEXT  (ENVELOPE_MIN_CIPHERTEXT + ENVELOPE_MAX_PAYLOAD)
#define ENVELOPE_MIN_BYTES                                                                         \
    (ENVELOPE_HEADER_BYTES + ENVELOPE_MIN_CIPHERTEXT + ENVELOPE_SIGNATURE_BYTES)
#define ENVELOPE_MAX_BYTES                                                                         \
    (ENVELOPE_HEADER_BYTES + ENVELOPE_MAX_CIPHERTEXT + ENVELOPE_SIGNATURE_BYTES)

enum envelope_state { ENVELOPE_FINISHED = 1, ENVELOPE_TERMINATED = 2 };

/* "finished" / "terminated" */
const char *envelope_state_name(int state);

struct envelope_header {
    int state;
    char key_id[KEY_ID_HEX_LEN];
    char result_id[UUID_STR_LEN];
    char execution_id[UUID_STR_LEN];
    char delivery_id[UUID_STR_LEN];
    char test_taker_id[UUID_STR_LEN];
    char device_id[UUID_STR_LEN];
    int64_t started_at;
    int64_t ended_at;
    int64_t sealed_at;
};

/* A parsed envelope: the header decoded, pointers into the caller's buffer. */
struct envelope {
    struct envelope_header h;
    const unsigned char *bytes; /* the whole envelope */
    size_t len;
    const unsigned char *ciphertext;
    size_t ciphertext_len;
    const unsigned char *signature;
};

/* Device side: seals `payload` (the result JSON) to central's results key and signs it with
 * the device key (KEY_SIGNING). h->key_id is ignored: the id of `results_pk` is written.
 * *out is malloc'ed (caller frees). */
int envelope_seal(const struct envelope_header *h, const unsigned char *payload, size_t len,
                  const unsigned char results_pk[KEY_PUBLIC_BYTES], const struct key *device_key,
                  unsigned char **out, size_t *out_len, struct op_err *e);

/* Parses exactly one envelope filling all of data[0..len). */
int envelope_parse(const unsigned char *data, size_t len, struct envelope *env, struct op_err *e);

/* Parses the envelope at the start of data; *used gets its length. */
int envelope_parse_next(const unsigned char *data, size_t len, struct envelope *env, size_t *used,
                        struct op_err *e);

/* Reads the next envelope of a concatenation from `fd`: the fixed header, then exactly the
 * length it states (never over ENVELOPE_MAX_BYTES), into *buf of *cap bytes, grown as needed
 * (start with NULL and 0; the caller frees *buf). Memory stays at one envelope whatever the
 * file size. Returns 0 with *got 1 and *env (pointing into *buf) and *used set, or with *got
 * 0 at the end of the file (no byte left); OP_EINPUT with the message envelope_parse_next
 * gives on the rest of the file (the next envelope cannot be found after that); OP_EIO or
 * OP_ENOMEM. */
int envelope_read_next(int fd, unsigned char **buf, size_t *cap, struct envelope *env, size_t *used,
                       int *got, struct op_err *e);

/* Checks the device's signature; OP_ECRYPTO with the reason if it does not verify. */
int envelope_verify(const struct envelope *env, const unsigned char device_pk[KEY_PUBLIC_BYTES],
                    struct op_err *e);

/* Central side: opens the sealed result with the results key named in the header and checks
 * the header hash inside. *payload is malloc'ed, NUL-terminated (caller frees). */
int envelope_open(const struct envelope *env, const struct key *results_key,
                  unsigned char **payload, size_t *len, struct op_err *e);

/* SHA-256 of the whole envelope, hex (how central recognises a re-sent envelope). */
void envelope_sha256(const struct envelope *env, char out[SHA256_HEX_LEN]);

#endif
