/*
 * page.h - the wire format of the pull (docs/sync-protocol.md): a page of changes as JSON,
 * and the signed envelope that carries it, one line of head and the page's bytes as they are:
 *
 *   envelope  "outpost signed page v2 " KEY_ID " " SIGNATURE "\n" BODY
 *             KEY_ID: central signing key's id (16 hex); SIGNATURE: Ed25519 over
 *             SIGN_CONTEXT_CHANGES_PAGE || 0 || BLAKE2b-512(BODY), in base64url without
 *             padding (86 characters); BODY: the page JSON
 *   page      {"format": "outpost changes v1", "org": .., "since": .., "next": ..,
 *              "has_more": .., "max_seq": .., "digest": (last page only),
 *              "records": [{"seq", "entity", "id", "version", "deleted", "data": {..}}]}
 *
 * (v1 put the body in base64 inside a JSON envelope and signed the bytes themselves: encoding,
 * decoding and hashing a first sync's 27 MB twice with SHA-512 cost central and the device
 * more than reading their records; bench/README.md, "Synchronisation".)
 * Bounds: SYNC_PAGE_MAX_RECORDS records,
 * SYNC_PAGE_MAX_BYTES of page JSON, SYNC_ENVELOPE_MAX_BYTES of envelope. Everything here is
 * pure (no database), so the fuzz target tests/fuzz/fuzz_changes_page.c runs it all.
 */
#ifndef OUTPOST_SYNC_PAGE_H
#define OUTPOST_SYNC_PAGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app/changes.h"
#include "base/err.h"
#include "crypto/keys.h"

#define SYNC_PAGE_FORMAT        "outpost changes v1"
#define SYNC_PAGE_MAX_RECORDS   1000
#define SYNC_PAGE_MAX_BYTES     (4u << 20)
#define SYNC_ENVELOPE_MAX_BYTES ((size_t)SYNC_PAGE_MAX_BYTES + SYNC_ENVELOPE_HEAD_LEN)
#define SYNC_ENVELOPE_MAGIC     "outpost signed page v2"
#define SYNC_PAGE_MEDIA_TYPE    "application/vnd.outpost.signed-page"
#define SYNC_PAGE_HASH_BYTES    64 /* BLAKE2b-512 */
/* the head: magic, space, key id (16), space, signature (86), newline */
#define SYNC_ENVELOPE_HEAD_LEN (sizeof SYNC_ENVELOPE_MAGIC - 1 + 1 + 16 + 1 + 86 + 1)
/* A content key sealed to a test taker (CONTENT_SEALED_KEY_BYTES) in base64url without
 * padding, as an eligibility's content_keys carry it. */
#define SYNC_SEALED_KEY_TEXT_LEN 107

/* Central: the page JSON of `p` (malloc'ed, caller frees). OP_EINPUT with e->field "page"
 * when it would be over SYNC_PAGE_MAX_BYTES (the caller asks again for fewer records). */
int sync_page_encode(const struct changes_page *p, char **json, size_t *len, struct op_err *e);

/* Central: wraps `body` in the signed envelope, signed by `signer` (KEY_SIGNING). */
int sync_envelope_sign(const char *body, size_t len, const struct key *signer, char **envelope,
                       size_t *envlen, struct op_err *e);

/* Central: the signed envelope of the page of `org`'s changes after `since` (at most `limit`
 * records; fewer when the page would be over SYNC_PAGE_MAX_BYTES), signed by central's
 * signing key from its keys folder. The organisation comes from the caller's credential,
 * never from the request. */
int sync_changes_page(struct instance *central, const char *org_id, int64_t since, int limit,
                      char **page_json, size_t *len, struct op_err *e);

/* Device: checks the envelope (size, head, key id, signature against the pinned key
 * `pk`) and hands back the signed body (malloc'ed). Nothing of the body is read before the
 * signature verifies. OP_EINPUT for a malformed envelope, OP_ECRYPTO for a signature that
 * fails or a key that is not the pinned one. */
int sync_envelope_open(const unsigned char *envelope, size_t len,
                       const unsigned char pk[KEY_PUBLIC_BYTES], unsigned char **body, size_t *blen,
                       struct op_err *e);

struct sync_page_record {
    int64_t seq;
    char entity[16]; /* one of FEED_* */
    char id[40];
    int64_t version;
    int deleted;
    /* the record's data object, the bytes central sent (borrowed from the body given to
     * sync_page_parse, which must outlive the page); NULL for a tombstone */
    const unsigned char *data;
    size_t data_len;
};

struct sync_page {
    char org[256];
    int64_t since, next, max_seq;
    int has_more;
    const char *digest; /* NULL unless the last page, else digest_text */
    char digest_text[65];
    struct sync_page_record *rec;
    int n;
};

/* Parses and checks a page body with the strict scanner of base/jscan.h (as strict as jansson
 * with JSON_REJECT_DUPLICATES or stricter: integers only, at most 32 levels and 64 members an
 * object, keys without escapes), building no tree: bounded, every field typed, entities known,
 * ids 1..39 bytes, versions >= 1, seqs increasing in (since, next], next = the last seq (or
 * since when empty), a tombstone without data and a record with an object, a digest (64 hex)
 * on the last page only; a delivery's enc_sha256, enc_size and content_version (all null, or
 * 64 hex, >= 0, >= 1), an eligibility's test_takers (ids) and content_keys (each {to, sealed}:
 * for its test takers in their order, each once, sealed SYNC_SEALED_KEY_TEXT_LEN base64url
 * characters). Each record's data is given as the span of `body` it takes (the device stores
 * those bytes as they are). OP_EINPUT naming what is wrong, and for a fault of the JSON text
 * its byte offset. */
int sync_page_parse(const unsigned char *body, size_t len, struct sync_page *out, struct op_err *e);
/* Frees what sync_page_parse allocated (not the body). */
void sync_page_free(struct sync_page *p);

#endif
