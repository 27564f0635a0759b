/*
 * page.c - the pull's wire format: page JSON and its signed envelope (see page.h).
 */
#include "sync/page.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fs.h"
#include "base/jscan.h"
#include "base/sha256.h"
#include "crypto/sign.h"
#include "store/feed.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static int oom(struct op_err *e)
{
    return err_set(e, OP_ENOMEM, "out of memory building a changes page");
}

/* s as a JSON string, escaped as jansson escapes (quote, backslash, control characters;
 * UTF-8 as it is), so a page is the bytes json_dumps would give. */
static int put_string(struct buf *b, const char *s)
{
    int rc = buf_append(b, "\"", 1);
    const char *run = s;
    for (; rc == 0 && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = buf_append(b, run, (size_t)(s - run));
        const char *esc = c == '"'    ? "\\\""
                          : c == '\\' ? "\\\\"
                          : c == '\b' ? "\\b"
                          : c == '\f' ? "\\f"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : NULL;
        if (rc == 0)
            rc = esc ? buf_puts(b, esc) : buf_printf(b, "\\u%04X", c);
        run = s + 1;
    }
    if (rc == 0)
        rc = buf_append(b, run, (size_t)(s - run));
    return rc == 0 ? buf_append(b, "\"", 1) : rc;
}

/* The page is put together from each record's text (app/changes.h: kept by central, not built
 * again), its keys in sorted order as JSON_SORT_KEYS would put them. */
int sync_page_encode(const struct changes_page *p, char **json, size_t *len, struct op_err *e)
{
    *json = NULL;
    *len = 0;
    struct buf b = BUF_INIT;
    size_t need = 256;
    for (int i = 0; i < p->n; i++)
        need += 160 + p->rec[i].text_len;
    int rc = buf_reserve(&b, need);
    if (rc == 0 && !p->has_more && p->digest[0])
        rc = buf_printf(&b, "{\"digest\":\"%s\",", p->digest);
    else if (rc == 0)
        rc = buf_puts(&b, "{");
    if (rc == 0)
        rc = buf_printf(&b,
                        "\"format\":\"%s\",\"has_more\":%s,\"max_seq\":%lld,\"next\":%lld,\"org\":",
                        SYNC_PAGE_FORMAT, p->has_more ? "true" : "false", (long long)p->max_seq,
                        (long long)p->next);
    if (rc == 0)
        rc = put_string(&b, p->org);
    if (rc == 0)
        rc = buf_puts(&b, ",\"records\":[");
    for (int i = 0; rc == 0 && i < p->n; i++) {
        const struct changes_record *r = &p->rec[i];
        rc = buf_puts(&b, i ? ",{" : "{");
        if (rc == 0 && !r->deleted && r->text) {
            rc = buf_puts(&b, "\"data\":");
            if (rc == 0)
                rc = buf_append(&b, r->text, r->text_len);
            if (rc == 0)
                rc = buf_puts(&b, ",");
        }
        if (rc == 0)
            rc = buf_printf(&b, "\"deleted\":%s,\"entity\":", r->deleted ? "true" : "false");
        if (rc == 0)
            rc = put_string(&b, r->entity);
        if (rc == 0)
            rc = buf_puts(&b, ",\"id\":");
        if (rc == 0)
            rc = put_string(&b, r->id);
        if (rc == 0)
            rc = buf_printf(&b, ",\"seq\":%lld,\"version\":%lld}", (long long)r->seq,
                            (long long)r->version);
    }
    if (rc == 0)
        rc = buf_printf(&b, "],\"since\":%lld}", (long long)p->since);
    if (rc != 0) {
        buf_free(&b);
        return oom(e);
    }
    if (b.len > SYNC_PAGE_MAX_BYTES) {
        buf_free(&b);
        return err_set_field(e, OP_EINPUT, "page",
                             "the page of %d records is over %u bytes: ask for fewer", p->n,
                             SYNC_PAGE_MAX_BYTES);
    }
    *len = b.len;
    *json = buf_detach(&b);
    return 0;
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

/* ---- reading a page: one pass of the strict scanner (base/jscan.h), no tree ----
 *
 * The scanner checks the whole body and gives each record's data as the span of bytes
 * central sent, which the device stores as it is (sync/pull.c); only the scalars a device
 * reads (the page's head, each record's seq, entity, id, version, deleted) are decoded, and
 * only deliveries' and eligibilities' data are loaded as JSON to check their fields. The
 * fields are read in any order (central sorts them: "records" comes before "since"), then
 * checked in one place, as before. */

#define DEPTH_DATA 3 /* page object, records array, record object */

struct f_int {
    int present, ok;
    int64_t v;
};
struct f_str {
    int present, ok; /* ok: a string that fit its buffer */
    size_t len;
};
struct f_bool {
    int present, ok, v;
};

static int read_int(struct jscan *s, struct f_int *f)
{
    f->present = 1;
    int c = jscan_peek(s);
    if (c == '-' || (c >= '0' && c <= '9')) {
        f->ok = 1;
        return jscan_int(s, &f->v);
    }
    return jscan_value(s, DEPTH_DATA, NULL, NULL);
}

static int read_bool(struct jscan *s, struct f_bool *f)
{
    f->present = 1;
    int c = jscan_peek(s);
    if (c == 't' || c == 'f') {
        f->ok = 1;
        return jscan_bool(s, &f->v);
    }
    return jscan_value(s, DEPTH_DATA, NULL, NULL);
}

/* A string into buf (cap with the NUL); one too long is checked but not kept (ok 0). */
static int read_str(struct jscan *s, struct f_str *f, char *buf, size_t cap)
{
    f->present = 1;
    if (jscan_peek(s) != '"')
        return jscan_value(s, DEPTH_DATA, NULL, NULL);
    const unsigned char *at = s->p;
    size_t n = 0;
    if (jscan_string(s, NULL, 0, &n) != 0)
        return -1;
    if (n >= cap)
        return 0;
    s->p = at;
    f->ok = 1;
    f->len = n;
    return jscan_string(s, buf, cap, NULL);
}

struct rec_scan {
    int is_object, has_data, data_is_object;
    struct f_int seq, version;
    struct f_str entity, id;
    struct f_bool deleted;
};

static int scan_record(struct jscan *s, struct sync_page_record *r, struct rec_scan *f)
{
    if (jscan_peek(s) != '{')
        return jscan_value(s, DEPTH_DATA - 1, NULL, NULL);
    f->is_object = 1;
    struct jscan_obj o;
    const unsigned char *k;
    size_t kl;
    int rc = jscan_object_begin(s, &o);
    while (rc == 0 && (rc = jscan_object_next(s, &o, &k, &kl)) == 1) {
        if (jscan_key_is(k, kl, "seq"))
            rc = read_int(s, &f->seq);
        else if (jscan_key_is(k, kl, "version"))
            rc = read_int(s, &f->version);
        else if (jscan_key_is(k, kl, "entity"))
            rc = read_str(s, &f->entity, r->entity, sizeof r->entity);
        else if (jscan_key_is(k, kl, "id"))
            rc = read_str(s, &f->id, r->id, sizeof r->id);
        else if (jscan_key_is(k, kl, "deleted"))
            rc = read_bool(s, &f->deleted);
        else if (jscan_key_is(k, kl, "data")) {
            const unsigned char *vs, *ve;
            f->has_data = 1;
            f->data_is_object = jscan_peek(s) == '{';
            rc = jscan_value(s, DEPTH_DATA, &vs, &ve);
            if (rc == 0 && f->data_is_object) {
                r->data = vs;
                r->data_len = (size_t)(ve - vs);
            }
        } else
            rc = jscan_value(s, DEPTH_DATA, NULL, NULL);
    }
    return rc < 0 ? -1 : 0;
}

struct page_scan {
    struct f_str format, org, digest;
    struct f_int since, next, max_seq;
    struct f_bool has_more;
    int records_present, records_ok; /* an array of at most SYNC_PAGE_MAX_RECORDS */
    struct rec_scan *rf;
    int cap;
};

static int scan_records(struct jscan *s, struct sync_page *out, struct page_scan *ps)
{
    ps->records_present = 1;
    if (jscan_peek(s) != '[')
        return jscan_value(s, 1, NULL, NULL);
    ps->records_ok = 1;
    int rc = jscan_array_begin(s);
    for (int first = 1; rc == 0 && (rc = jscan_array_next(s, first)) == 1; first = 0) {
        if (out->n >= SYNC_PAGE_MAX_RECORDS) { /* checked, not kept */
            ps->records_ok = 0;
            rc = jscan_value(s, DEPTH_DATA - 1, NULL, NULL);
            continue;
        }
        if (out->n == ps->cap) {
            int cap = ps->cap ? 2 * ps->cap : 64;
            struct sync_page_record *r = realloc(out->rec, sizeof *r * (size_t)cap);
            if (r)
                out->rec = r;
            struct rec_scan *f = r ? realloc(ps->rf, sizeof *f * (size_t)cap) : NULL;
            if (!r || !f)
                return jscan_fail(s, "out of memory");
            ps->rf = f;
            ps->cap = cap;
        }
        if (!out->rec || !ps->rf) /* cannot be: allocated above (for the analyser) */
            return jscan_fail(s, "out of memory");
        memset(&out->rec[out->n], 0, sizeof out->rec[out->n]);
        memset(&ps->rf[out->n], 0, sizeof ps->rf[out->n]);
        rc = scan_record(s, &out->rec[out->n], &ps->rf[out->n]);
        out->n++;
    }
    return rc < 0 ? -1 : 0;
}

static int scan_page(struct jscan *s, struct sync_page *out, struct page_scan *ps)
{
    char format[sizeof SYNC_PAGE_FORMAT + 1];
    struct jscan_obj o;
    const unsigned char *k;
    size_t kl;
    int rc = jscan_object_begin(s, &o);
    while (rc == 0 && (rc = jscan_object_next(s, &o, &k, &kl)) == 1) {
        if (jscan_key_is(k, kl, "format")) {
            rc = read_str(s, &ps->format, format, sizeof format);
            ps->format.ok = ps->format.ok && strcmp(format, SYNC_PAGE_FORMAT) == 0;
        } else if (jscan_key_is(k, kl, "org"))
            rc = read_str(s, &ps->org, out->org, sizeof out->org);
        else if (jscan_key_is(k, kl, "digest"))
            rc = read_str(s, &ps->digest, out->digest_text, sizeof out->digest_text);
        else if (jscan_key_is(k, kl, "has_more"))
            rc = read_bool(s, &ps->has_more);
        else if (jscan_key_is(k, kl, "since"))
            rc = read_int(s, &ps->since);
        else if (jscan_key_is(k, kl, "next"))
            rc = read_int(s, &ps->next);
        else if (jscan_key_is(k, kl, "max_seq"))
            rc = read_int(s, &ps->max_seq);
        else if (jscan_key_is(k, kl, "records"))
            rc = scan_records(s, out, ps);
        else
            rc = jscan_value(s, 1, NULL, NULL);
    }
    if (rc == 0)
        rc = jscan_end(s);
    return rc < 0 ? -1 : 0;
}

static int check_int(const struct f_int *f, const char *name, int64_t min, struct op_err *e)
{
    if (!f->ok || f->v < min)
        return err_set_field(e, OP_EINPUT, name,
                             "the changes page is malformed: '%s' is not an integer >= %lld", name,
                             (long long)min);
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

/* The checks of one record scanned (after the records before it, whose last seq is `after`). */
static int check_record(const struct rec_scan *f, const struct sync_page_record *r, int64_t after,
                        struct op_err *e)
{
    if (!f->is_object)
        return bad(e, "records", "a record is not an object");
    int rc = check_int(&f->seq, "seq", after + 1, e);
    if (rc == 0)
        rc = check_int(&f->version, "version", 1, e);
    if (rc != 0)
        return rc;
    if (!f->entity.ok || !known_entity(r->entity))
        return bad(e, "entity",
                   "a record's entity is not user, test-center, eligibility or delivery");
    if (!f->id.ok || f->id.len < 1)
        return bad(e, "id", "a record's id is not 1 to 39 bytes of text");
    if (!f->deleted.ok)
        return bad(e, "deleted", "a record's 'deleted' is not true or false");
    if (f->deleted.v && f->has_data)
        return bad(e, "data", "a tombstone carries data");
    if (!f->deleted.v && !f->data_is_object)
        return bad(e, "data", "a record has no 'data' object");
    int is_delivery = strcmp(r->entity, FEED_DELIVERY) == 0;
    if (f->deleted.v || (!is_delivery && strcmp(r->entity, FEED_ELIGIBILITY) != 0))
        return 0;
    /* the few records whose fields a device reads: loaded as JSON to check them */
    json_t *d = json_loadb((const char *)r->data, r->data_len, JSON_REJECT_DUPLICATES, NULL);
    rc = !json_is_object(d) ? bad(e, "data", "a record's data is not a JSON object")
         : is_delivery      ? check_delivery(d, e)
                            : check_eligibility(d, e);
    json_decref(d);
    return rc;
}

int sync_page_parse(const unsigned char *body, size_t len, struct sync_page *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (len > SYNC_PAGE_MAX_BYTES)
        return bad(e, "body", "it is over 4 MiB");
    struct jscan s;
    jscan_init(&s, body, len);
    struct page_scan ps;
    memset(&ps, 0, sizeof ps);
    int rc = 0;
    if (jscan_peek(&s) != '{')
        rc = bad(e, "body", "it is not a JSON object");
    else if (scan_page(&s, out, &ps) != 0)
        rc = err_set_field(e, s.err && strcmp(s.err, "out of memory") == 0 ? OP_ENOMEM : OP_EINPUT,
                           "body", "the changes page is malformed at byte %zu: %s", s.err_at,
                           s.err ? s.err : "?");
    else if (!ps.format.ok)
        rc = bad(e, "format", "its format is not '" SYNC_PAGE_FORMAT "'");
    else if (!ps.org.ok || ps.org.len < 1)
        rc = bad(e, "org", "'org' is not 1 to 255 bytes of text");
    else if (!ps.has_more.ok)
        rc = bad(e, "has_more", "'has_more' is not true or false");
    else if (!ps.records_ok)
        rc = bad(e, "records", "'records' is not an array of at most 1000 records");
    if (rc == 0)
        rc = check_int(&ps.since, "since", 0, e);
    if (rc == 0)
        rc = check_int(&ps.next, "next", ps.since.v, e);
    if (rc == 0)
        rc = check_int(&ps.max_seq, "max_seq", 0, e);
    if (rc == 0) {
        out->since = ps.since.v;
        out->next = ps.next.v;
        out->max_seq = ps.max_seq.v;
        out->has_more = ps.has_more.v;
        if (ps.digest.present &&
            (out->has_more || !ps.digest.ok || !sha256_hex_is_valid(out->digest_text)))
            rc = bad(e, "digest", "'digest' is not 64 hex digits on the last page");
        else if (!ps.digest.present && !out->has_more)
            rc = bad(e, "digest", "the last page has no digest");
        else
            out->digest = ps.digest.present ? out->digest_text : NULL;
    }
    int64_t last = out->since;
    for (int i = 0; rc == 0 && i < out->n; i++) {
        rc = check_record(&ps.rf[i], &out->rec[i], last, e);
        if (rc == 0) {
            out->rec[i].seq = ps.rf[i].seq.v;
            out->rec[i].version = ps.rf[i].version.v;
            out->rec[i].deleted = ps.rf[i].deleted.v;
            if (out->rec[i].deleted) {
                out->rec[i].data = NULL;
                out->rec[i].data_len = 0;
            }
            last = out->rec[i].seq;
        }
    }
    if (rc == 0 && last != out->next)
        rc = bad(e, "next", "'next' is not the seq of its last record");
    free(ps.rf);
    if (rc != 0)
        sync_page_free(out);
    return rc;
}

void sync_page_free(struct sync_page *p)
{
    free(p->rec);
    memset(p, 0, sizeof *p);
}
