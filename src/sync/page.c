/*
 * page.c - the pull's wire format: page JSON and its signed envelope (see page.h).
 */
#include "sync/page.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/sha256.h"
#include "crypto/sign.h"
#include "store/feed.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static int oom(struct op_err *e)
{
    return err_set(e, OP_ENOMEM, "out of memory building a changes page");
}

int sync_page_encode(const struct changes_page *p, char **json, size_t *len, struct op_err *e)
{
    *json = NULL;
    *len = 0;
    json_t *recs = json_array();
    int rc = recs ? 0 : oom(e);
    for (int i = 0; rc == 0 && i < p->n; i++) {
        const struct changes_record *r = &p->rec[i];
        json_t *o =
            json_pack("{s:I, s:s, s:s, s:I, s:b}", "seq", (json_int_t)r->seq, "entity", r->entity,
                      "id", r->id, "version", (json_int_t)r->version, "deleted", r->deleted);
        if (o && !r->deleted && r->data)
            json_object_set(o, "data", r->data);
        if (!o || json_array_append_new(recs, o) != 0)
            rc = oom(e);
    }
    json_t *root = NULL;
    if (rc == 0) {
        root =
            json_pack("{s:s, s:s, s:I, s:I, s:b, s:I, s:O}", "format", SYNC_PAGE_FORMAT, "org",
                      p->org, "since", (json_int_t)p->since, "next", (json_int_t)p->next,
                      "has_more", p->has_more, "max_seq", (json_int_t)p->max_seq, "records", recs);
        if (root && !p->has_more && p->digest[0])
            json_object_set_new(root, "digest", json_string(p->digest));
        if (!root)
            rc = oom(e);
    }
    if (rc == 0) {
        *json = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
        if (!*json)
            rc = oom(e);
        else
            *len = strlen(*json);
    }
    if (rc == 0 && *len > SYNC_PAGE_MAX_BYTES) {
        free(*json);
        *json = NULL;
        *len = 0;
        rc = err_set_field(e, OP_EINPUT, "page",
                           "the page of %d records is over %u bytes: ask for fewer", p->n,
                           SYNC_PAGE_MAX_BYTES);
    }
    json_decref(root);
    json_decref(recs);
    return rc;
}

/* What the signature covers: the BLAKE2b-512 hash of the body (one fast pass over a page of
 * megabytes; Ed25519 over the body itself hashed it twice with SHA-512). */
static void page_hash(const unsigned char *body, size_t len, unsigned char h[SYNC_PAGE_HASH_BYTES])
{
    crypto_generichash(h, SYNC_PAGE_HASH_BYTES, body, len, NULL, 0);
}

int sync_envelope_sign(const char *body, size_t len, const struct key *signer, char **envelope,
                       size_t *envlen, struct op_err *e)
{
    *envelope = NULL;
    *envlen = 0;
    if (len > SYNC_PAGE_MAX_BYTES)
        return err_set(e, OP_EINPUT, "the page is over %u bytes", SYNC_PAGE_MAX_BYTES);
    unsigned char h[SYNC_PAGE_HASH_BYTES], sig[SIGN_BYTES];
    page_hash((const unsigned char *)body, len, h);
    int rc = sign_detached(SIGN_CONTEXT_CHANGES_PAGE, h, sizeof h, signer, sig, e);
    if (rc != 0)
        return rc;
    char *out = malloc(SYNC_ENVELOPE_HEAD_LEN + len + 1);
    if (!out)
        return oom(e);
    int n = snprintf(out, SYNC_ENVELOPE_HEAD_LEN + 1, SYNC_ENVELOPE_MAGIC " %s ", signer->id);
    sodium_bin2base64(out + n, SYNC_ENVELOPE_HEAD_LEN + 1 - (size_t)n, sig, sizeof sig, B64);
    out[SYNC_ENVELOPE_HEAD_LEN - 1] = '\n';
    memcpy(out + SYNC_ENVELOPE_HEAD_LEN, body, len);
    out[SYNC_ENVELOPE_HEAD_LEN + len] = '\0';
    *envelope = out;
    *envlen = SYNC_ENVELOPE_HEAD_LEN + len;
    return 0;
}

int sync_changes_page(struct instance *central, const char *org_id, int64_t since, int limit,
                      char **page_json, size_t *len, struct op_err *e)
{
    *page_json = NULL;
    *len = 0;
    struct key *signer = key_new();
    if (!signer)
        return oom(e);
    char *dir = fs_join(central->dir, "keys");
    int rc = dir ? keys_load_central_signing(dir, signer, e) : oom(e);
    free(dir);
    char *body = NULL;
    size_t blen = 0;
    while (rc == 0) {
        struct changes_page p;
        rc = changes_read(central, org_id, since, limit, &p, e);
        if (rc == 0)
            rc = sync_page_encode(&p, &body, &blen, e);
        changes_page_free(&p);
        if (rc == OP_EINPUT && strcmp(e->field, "page") == 0 && limit > 1) {
            limit /= 2; /* records too big for one page: fewer per page */
            rc = 0;
            continue;
        }
        break;
    }
    if (rc == 0)
        rc = sync_envelope_sign(body, blen, signer, page_json, len, e);
    free(body);
    key_free(signer);
    return rc;
}

static int is_hex(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

int sync_envelope_open(const unsigned char *envelope, size_t len,
                       const unsigned char pk[KEY_PUBLIC_BYTES], unsigned char **body, size_t *blen,
                       struct op_err *e)
{
    *body = NULL;
    *blen = 0;
    if (len > SYNC_ENVELOPE_MAX_BYTES)
        return err_set(e, OP_EINPUT, "the signed page is %zu bytes, over the limit of %zu", len,
                       SYNC_ENVELOPE_MAX_BYTES);
    const size_t magic = sizeof SYNC_ENVELOPE_MAGIC - 1, kid_at = magic + 1,
                 sig_at = kid_at + KEY_ID_HEX_LEN; /* KEY_ID_HEX_LEN counts the NUL: the space */
    if (len < SYNC_ENVELOPE_HEAD_LEN || memcmp(envelope, SYNC_ENVELOPE_MAGIC " ", kid_at) != 0 ||
        !is_hex(envelope + kid_at, KEY_ID_HEX_LEN - 1) || envelope[sig_at - 1] != ' ' ||
        envelope[SYNC_ENVELOPE_HEAD_LEN - 1] != '\n')
        return err_set(
            e, OP_EINPUT,
            "the answer is not a signed changes page (it does not start with '" SYNC_ENVELOPE_MAGIC
            " KEY_ID SIGNATURE'): is the central's software"
            " older than this device's?");
    char want[KEY_ID_HEX_LEN];
    key_id_of_public(pk, want);
    if (memcmp(envelope + kid_at, want, KEY_ID_HEX_LEN - 1) != 0)
        return err_set_field(e, OP_ECRYPTO, "key_id",
                             "the page is signed by key %.16s, not by central's pinned key %s:"
                             " check the central this device is registered with",
                             (const char *)envelope + kid_at, want);
    unsigned char sig[SIGN_BYTES];
    size_t slen = 0;
    const char *end = NULL;
    if (sodium_base642bin(sig, sizeof sig, (const char *)envelope + sig_at,
                          SYNC_ENVELOPE_HEAD_LEN - 1 - sig_at, NULL, &slen, &end, B64) != 0 ||
        slen != SIGN_BYTES || end != (const char *)envelope + SYNC_ENVELOPE_HEAD_LEN - 1)
        return err_set_field(e, OP_EINPUT, "signature",
                             "the page's signature is not %d bytes of base64url", SIGN_BYTES);
    size_t n = len - SYNC_ENVELOPE_HEAD_LEN;
    if (n > SYNC_PAGE_MAX_BYTES)
        return err_set_field(e, OP_EINPUT, "body", "the signed page's body is over %u bytes",
                             SYNC_PAGE_MAX_BYTES);
    unsigned char h[SYNC_PAGE_HASH_BYTES];
    page_hash(envelope + SYNC_ENVELOPE_HEAD_LEN, n, h);
    if (sign_verify(SIGN_CONTEXT_CHANGES_PAGE, h, sizeof h, sig, pk) != 0)
        return err_set_field(e, OP_ECRYPTO, "signature",
                             "the page's signature does not verify against central's pinned key:"
                             " it was altered or not sent by central; nothing was applied");
    unsigned char *b = malloc(n ? n : 1);
    if (!b)
        return oom(e);
    memcpy(b, envelope + SYNC_ENVELOPE_HEAD_LEN, n);
    *body = b;
    *blen = n;
    return 0;
}

static int bad(struct op_err *e, const char *field, const char *what)
{
    return err_set_field(e, OP_EINPUT, field, "the changes page is malformed: %s", what);
}

static int get_int(json_t *o, const char *name, int64_t min, int64_t *out, struct op_err *e)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v) || json_integer_value(v) < min)
        return err_set_field(e, OP_EINPUT, name,
                             "the changes page is malformed: '%s' is not an integer >= %lld", name,
                             (long long)min);
    *out = json_integer_value(v);
    return 0;
}

static int known_entity(const char *s)
{
    return strcmp(s, FEED_USER) == 0 || strcmp(s, FEED_TEST_CENTER) == 0 ||
           strcmp(s, FEED_ELIGIBILITY) == 0 || strcmp(s, FEED_DELIVERY) == 0;
}

static int is_id(json_t *v)
{
    return json_is_string(v) && json_string_length(v) >= 1 && json_string_length(v) <= 39 &&
           strlen(json_string_value(v)) == json_string_length(v);
}

/* null, or an integer >= min */
static int null_or_int(json_t *v, int64_t min)
{
    return json_is_null(v) || (json_is_integer(v) && json_integer_value(v) >= min);
}

/* A delivery's encrypted package: enc_sha256 (64 hex), enc_size (>= 0) and content_version
 * (>= 1), all three or all null. */
static int check_delivery(json_t *d, struct op_err *e)
{
    json_t *sha = json_object_get(d, "enc_sha256"), *size = json_object_get(d, "enc_size");
    json_t *ver = json_object_get(d, "content_version");
    if (!sha || !size || !ver)
        return bad(e, "data", "a delivery lacks enc_sha256, enc_size or content_version");
    if (json_is_null(sha) && json_is_null(size) && json_is_null(ver))
        return 0;
    if (!json_is_string(sha) || !sha256_hex_is_valid(json_string_value(sha)))
        return bad(e, "enc_sha256", "a delivery's enc_sha256 is not 64 hex digits");
    if (!json_is_integer(size) || json_integer_value(size) < 0)
        return bad(e, "enc_size", "a delivery's enc_size is not an integer >= 0");
    if (!json_is_integer(ver) || json_integer_value(ver) < 1)
        return bad(e, "content_version", "a delivery's content_version is not an integer >= 1");
    return 0;
}

/* An eligibility: test_takers (ids), content_keys ([{to, sealed: SYNC_SEALED_KEY_TEXT_LEN
 * base64url}], for test takers in the order of test_takers, each once) and content_version
 * (null, with no keys, or >= 1). */
static int check_eligibility(json_t *d, struct op_err *e)
{
    json_t *takers = json_object_get(d, "test_takers"), *keys = json_object_get(d, "content_keys");
    json_t *ver = json_object_get(d, "content_version"), *v;
    size_t i, at = 0;
    if (!json_is_array(takers))
        return bad(e, "test_takers", "an eligibility's test_takers is not an array");
    json_array_foreach(takers, i, v) if (!is_id(v)) return bad(
        e, "test_takers", "an eligibility's test taker is not an id of 1 to 39 bytes");
    if (!json_is_array(keys) || json_array_size(keys) > json_array_size(takers))
        return bad(e, "content_keys",
                   "an eligibility's content_keys is not an array of at most one per test taker");
    if (!ver || !null_or_int(ver, 1) || (json_is_null(ver) && json_array_size(keys) > 0))
        return bad(e, "content_version",
                   "an eligibility's content_version is not null (no keys) or an integer >= 1");
    json_array_foreach(keys, i, v)
    {
        json_t *to = json_object_get(v, "to"), *sealed = json_object_get(v, "sealed");
        if (!json_is_object(v) || json_object_size(v) != 2 || !is_id(to) ||
            !json_is_string(sealed) || json_string_length(sealed) != SYNC_SEALED_KEY_TEXT_LEN)
            return bad(e, "content_keys", "an eligibility's content key is not {to, sealed}");
        /* in the order of test_takers, one walk over both (no quadratic check) */
        while (at < json_array_size(takers) && !json_equal(json_array_get(takers, at), to))
            at++;
        if (at++ >= json_array_size(takers))
            return bad(e, "content_keys",
                       "an eligibility's content keys are not for its test takers, in their"
                       " order, once each");
    }
    return 0;
}

static int parse_record(json_t *o, int64_t after, struct sync_page_record *r, struct op_err *e)
{
    if (!json_is_object(o))
        return bad(e, "records", "a record is not an object");
    int rc = get_int(o, "seq", after + 1, &r->seq, e);
    if (rc == 0)
        rc = get_int(o, "version", 1, &r->version, e);
    if (rc != 0)
        return rc;
    json_t *ent = json_object_get(o, "entity"), *id = json_object_get(o, "id");
    json_t *del = json_object_get(o, "deleted"), *data = json_object_get(o, "data");
    if (!json_is_string(ent) || !known_entity(json_string_value(ent)))
        return bad(e, "entity",
                   "a record's entity is not user, test-center, eligibility or delivery");
    if (!json_is_string(id) || json_string_length(id) < 1 || json_string_length(id) > 39 ||
        strlen(json_string_value(id)) != json_string_length(id))
        return bad(e, "id", "a record's id is not 1 to 39 bytes of text");
    if (!json_is_boolean(del))
        return bad(e, "deleted", "a record's 'deleted' is not true or false");
    r->entity = json_string_value(ent);
    r->id = json_string_value(id);
    r->deleted = json_is_true(del);
    if (r->deleted && data)
        return bad(e, "data", "a tombstone carries data");
    if (!r->deleted && !json_is_object(data))
        return bad(e, "data", "a record has no 'data' object");
    r->data = r->deleted ? NULL : data;
    if (r->data && strcmp(r->entity, FEED_DELIVERY) == 0)
        return check_delivery(r->data, e);
    if (r->data && strcmp(r->entity, FEED_ELIGIBILITY) == 0)
        return check_eligibility(r->data, e);
    return 0;
}

int sync_page_parse(const unsigned char *body, size_t len, struct sync_page *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (len > SYNC_PAGE_MAX_BYTES)
        return bad(e, "body", "it is over 4 MiB");
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return bad(e, "body", "it is not a JSON object");
    }
    out->root = root;
    int rc = 0;
    json_t *fmt = json_object_get(root, "format"), *org = json_object_get(root, "org");
    json_t *more = json_object_get(root, "has_more"), *dig = json_object_get(root, "digest");
    json_t *recs = json_object_get(root, "records");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), SYNC_PAGE_FORMAT) != 0)
        rc = bad(e, "format", "its format is not '" SYNC_PAGE_FORMAT "'");
    else if (!json_is_string(org) || json_string_length(org) < 1 || json_string_length(org) > 255 ||
             strlen(json_string_value(org)) != json_string_length(org))
        rc = bad(e, "org", "'org' is not 1 to 255 bytes of text");
    else if (!json_is_boolean(more))
        rc = bad(e, "has_more", "'has_more' is not true or false");
    else if (!json_is_array(recs) || json_array_size(recs) > SYNC_PAGE_MAX_RECORDS)
        rc = bad(e, "records", "'records' is not an array of at most 1000 records");
    if (rc == 0)
        rc = get_int(root, "since", 0, &out->since, e);
    if (rc == 0)
        rc = get_int(root, "next", out->since, &out->next, e);
    if (rc == 0)
        rc = get_int(root, "max_seq", 0, &out->max_seq, e);
    if (rc == 0) {
        out->org = json_string_value(org);
        out->has_more = json_is_true(more);
        if (dig &&
            (out->has_more || !json_is_string(dig) || !sha256_hex_is_valid(json_string_value(dig))))
            rc = bad(e, "digest", "'digest' is not 64 hex digits on the last page");
        else if (!dig && !out->has_more)
            rc = bad(e, "digest", "the last page has no digest");
        else
            out->digest = dig ? json_string_value(dig) : NULL;
    }
    size_t n = rc == 0 ? json_array_size(recs) : 0;
    if (rc == 0 && n > 0) {
        out->rec = calloc(n, sizeof *out->rec);
        if (!out->rec)
            rc = err_set(e, OP_ENOMEM, "out of memory reading a changes page");
    }
    int64_t last = out->since;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = parse_record(json_array_get(recs, i), last, &out->rec[i], e);
        if (rc == 0) {
            last = out->rec[i].seq;
            out->n++;
        }
    }
    if (rc == 0 && last != out->next)
        rc = bad(e, "next", "'next' is not the seq of its last record");
    if (rc != 0)
        sync_page_free(out);
    return rc;
}

void sync_page_free(struct sync_page *p)
{
    free(p->rec);
    json_decref(p->root);
    memset(p, 0, sizeof *p);
}
