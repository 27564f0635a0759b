/* receipts.c - central's signed receipts (see receipts.h). */
#include "sync/receipts.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "crypto/sign.h"
#include "sync/batch.h"

int sync_receipts_sign(const char *device_id, const struct outbox_receipt *r, int n,
                       const struct key *signer, char **out, size_t *len, struct op_err *e)
{
    *out = NULL;
    *len = 0;
    if (n < 0 || n > SYNC_BATCH_MAX_RESULTS)
        return err_set(e, OP_EINPUT, "receipts: at most %d, not %d", SYNC_BATCH_MAX_RESULTS, n);
    json_t *list = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s?}", "result_id", r[i].result_id,
                                              "sha256", r[i].sha256, "status",
                                              outbox_receipt_status_name(r[i].status), "reason",
                                              r[i].reason[0] ? r[i].reason : NULL));
    json_t *body = json_pack("{s:s, s:s, s:o}", "format", SYNC_RECEIPTS_FORMAT, "device_id",
                             device_id, "receipts", list);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return err_set(e, OP_ENOMEM, "out of memory");
    unsigned char sig[SIGN_BYTES];
    int rc = sign_detached(SIGN_CONTEXT_RESULTS_RECEIPTS, (const unsigned char *)text, strlen(text),
                           signer, sig, e);
    if (rc != 0) {
        free(text);
        return rc;
    }
    char *b64 = sync_b64_encode((const unsigned char *)text, strlen(text));
    char *sig64 = sync_b64_encode(sig, sizeof sig);
    free(text);
    json_t *doc =
        json_pack("{s:s, s:s, s:s}", "body", b64, "key_id", signer->id, "signature", sig64);
    free(b64);
    free(sig64);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!s)
        return err_set(e, OP_ENOMEM, "out of memory");
    *out = s;
    *len = strlen(s);
    return 0;
}

void sync_receipts_free(struct sync_receipts *r)
{
    free(r->r);
    memset(r, 0, sizeof *r);
}

static int decode_receipt(json_t *o, int i, struct outbox_receipt *r, struct op_err *e)
{
    static const char *const names[] = {"result_id", "sha256", "status", "reason"};
    if (sync_json_exact_members(o, names, 4) != 0)
        return err_set(e, OP_EINPUT,
                       "receipts: receipts[%d] must have exactly result_id, sha256, status and "
                       "reason",
                       i);
    json_t *id = json_object_get(o, "result_id"), *sha = json_object_get(o, "sha256"),
           *st = json_object_get(o, "status"), *why = json_object_get(o, "reason");
    if (!json_is_string(id) || !uuid_is_valid(json_string_value(id)))
        return err_set(e, OP_EINPUT, "receipts: receipts[%d].result_id is not a UUID", i);
    if (!json_is_string(sha) || !sha256_hex_is_valid(json_string_value(sha)))
        return err_set(e, OP_EINPUT, "receipts: receipts[%d].sha256 is not a SHA-256 in hex", i);
    int status = json_is_string(st) ? outbox_receipt_status_of(json_string_value(st)) : -1;
    if (status < 0)
        return err_set(e, OP_EINPUT,
                       "receipts: receipts[%d].status must be stored, duplicate, quarantined or "
                       "refused",
                       i);
    if (!json_is_null(why) &&
        (!json_is_string(why) || json_string_length(why) >= OUTBOX_REASON_MAX))
        return err_set(e, OP_EINPUT,
                       "receipts: receipts[%d].reason must be null or a text under %d bytes", i,
                       OUTBOX_REASON_MAX);
    memset(r, 0, sizeof *r);
    snprintf(r->result_id, sizeof r->result_id, "%s", json_string_value(id));
    snprintf(r->sha256, sizeof r->sha256, "%s", json_string_value(sha));
    r->status = (enum outbox_receipt_status)status;
    if (json_is_string(why))
        snprintf(r->reason, sizeof r->reason, "%s", json_string_value(why));
    return 0;
}

static int decode_body(const unsigned char *body, size_t len, const char *device_id,
                       struct sync_receipts *out, struct op_err *e)
{
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return err_set(e, OP_EINPUT, "receipts: the signed body is not JSON (%s)", jerr.text);
    static const char *const names[] = {"format", "device_id", "receipts"};
    json_t *format = json_object_get(doc, "format"), *dev = json_object_get(doc, "device_id"),
           *list = json_object_get(doc, "receipts");
    int rc = 0;
    if (sync_json_exact_members(doc, names, 3) != 0)
        rc = err_set(e, OP_EINPUT,
                     "receipts: the body must have exactly format, device_id and receipts");
    else if (!json_is_string(format) ||
             strcmp(json_string_value(format), SYNC_RECEIPTS_FORMAT) != 0)
        rc = err_set(e, OP_EINPUT, "receipts: format must be \"%s\"", SYNC_RECEIPTS_FORMAT);
    else if (!json_is_string(dev) || !uuid_is_valid(json_string_value(dev)))
        rc = err_set(e, OP_EINPUT, "receipts: device_id is not a UUID");
    else if (device_id && strcmp(json_string_value(dev), device_id) != 0)
        rc = err_set(e, OP_ECRYPTO,
                     "receipts: they are for device %s, not this device (%s); nothing marked",
                     json_string_value(dev), device_id);
    else if (!json_is_array(list) || json_array_size(list) > SYNC_BATCH_MAX_RESULTS)
        rc = err_set(e, OP_EINPUT, "receipts: receipts must be an array of at most %d",
                     SYNC_BATCH_MAX_RESULTS);
    if (rc == 0) {
        snprintf(out->device_id, sizeof out->device_id, "%s", json_string_value(dev));
        size_t n = json_array_size(list);
        out->r = calloc(n ? n : 1, sizeof *out->r);
        if (!out->r)
            abort();
        for (size_t i = 0; rc == 0 && i < n; i++, out->n++)
            rc = decode_receipt(json_array_get(list, i), (int)i, &out->r[i], e);
    }
    json_decref(doc);
    return rc;
}

int sync_receipts_open(const unsigned char *data, size_t len,
                       const unsigned char pinned_pk[KEY_PUBLIC_BYTES], const char *device_id,
                       struct sync_receipts *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (len > SYNC_RECEIPTS_MAX_BYTES)
        return err_set(e, OP_EINPUT, "receipts: %zu bytes, over the limit of %u", len,
                       SYNC_RECEIPTS_MAX_BYTES);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return err_set(e, OP_EINPUT, "receipts: not JSON (%s, byte %d)", jerr.text, jerr.position);
    static const char *const names[] = {"body", "key_id", "signature"};
    json_t *body = json_object_get(doc, "body"), *kid = json_object_get(doc, "key_id"),
           *sig = json_object_get(doc, "signature");
    char pinned_id[KEY_ID_HEX_LEN];
    key_id_of_public(pinned_pk, pinned_id);
    int rc = 0;
    unsigned char *text = NULL, *sigbin = NULL;
    size_t tlen = 0, slen = 0;
    if (sync_json_exact_members(doc, names, 3) != 0 || !json_is_string(body) ||
        !json_is_string(kid) || !json_is_string(sig))
        rc = err_set(e, OP_EINPUT,
                     "receipts: must be an object with exactly body, key_id and signature, all "
                     "texts");
    else if (strcmp(json_string_value(kid), pinned_id) != 0)
        rc = err_set(e, OP_ECRYPTO,
                     "receipts: signed by key %s, not by central's pinned signing key %s; "
                     "nothing marked (check that this device talks to its own central)",
                     json_string_value(kid), pinned_id);
    else if (!(text = sync_b64_decode(json_string_value(body), json_string_length(body),
                                      SYNC_RECEIPTS_MAX_BYTES, &tlen)))
        rc = err_set(e, OP_EINPUT, "receipts: body is not base64");
    else if (!(sigbin = sync_b64_decode(json_string_value(sig), json_string_length(sig), SIGN_BYTES,
                                        &slen)) ||
             slen != SIGN_BYTES)
        rc = err_set(e, OP_EINPUT, "receipts: signature is not base64 of %d bytes", SIGN_BYTES);
    else if (sign_verify(SIGN_CONTEXT_RESULTS_RECEIPTS, text, tlen, sigbin, pinned_pk) != 0)
        rc = err_set(e, OP_ECRYPTO,
                     "receipts: the signature does not verify with central's pinned signing "
                     "key; nothing marked");
    else
        rc = decode_body(text, tlen, device_id, out, e);
    free(text);
    free(sigbin);
    json_decref(doc);
    return rc;
}
