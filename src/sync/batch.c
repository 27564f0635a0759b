/* batch.c - the results batch (see batch.h). */
#include "sync/batch.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/envelope.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

char *sync_b64_encode(const unsigned char *bin, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, B64);
    char *s = malloc(cap);
    if (!s)
        abort();
    sodium_bin2base64(s, cap, bin, len, B64);
    return s;
}

unsigned char *sync_b64_decode(const char *s, size_t slen, size_t max, size_t *len)
{
    *len = 0;
    if (slen % 4 != 0 || slen / 4 * 3 > max + 2)
        return NULL;
    size_t cap = slen / 4 * 3 + 1;
    unsigned char *bin = malloc(cap);
    if (!bin)
        abort();
    const char *end;
    size_t n;
    if (sodium_base642bin(bin, cap, s, slen, NULL, &n, &end, B64) != 0 || end != s + slen ||
        n > max) {
        free(bin);
        return NULL;
    }
    *len = n;
    return bin;
}

int sync_batch_encode(const char *device_id, const struct outbox_item *items, int n, char **out,
                      size_t *len, struct op_err *e)
{
    *out = NULL;
    *len = 0;
    if (n < 0 || n > SYNC_BATCH_MAX_RESULTS)
        return err_set(e, OP_EINPUT, "a results batch holds at most %d results, not %d",
                       SYNC_BATCH_MAX_RESULTS, n);
    json_t *results = json_array();
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        total += items[i].len / 3 * 4 + 4 + 80;
        if (total > SYNC_BATCH_MAX_BYTES) {
            json_decref(results);
            return err_set(e, OP_EINPUT, "the results batch would be over %u bytes",
                           SYNC_BATCH_MAX_BYTES);
        }
        char *b64 = sync_b64_encode(items[i].envelope, items[i].len);
        json_array_append_new(
            results, json_pack("{s:s, s:s}", "result_id", items[i].result_id, "envelope", b64));
        free(b64);
    }
    json_t *doc = json_pack("{s:s, s:s, s:o}", "format", SYNC_BATCH_FORMAT, "device_id", device_id,
                            "results", results);
    if (!doc)
        return err_set(e, OP_ENOMEM, "out of memory");
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return err_set(e, OP_ENOMEM, "out of memory");
    *len = strlen(text);
    if (*len > SYNC_BATCH_MAX_BYTES) {
        free(text);
        *len = 0;
        return err_set(e, OP_EINPUT, "the results batch would be over %u bytes",
                       SYNC_BATCH_MAX_BYTES);
    }
    *out = text;
    return 0;
}

void sync_batch_free(struct sync_batch *b)
{
    for (int i = 0; i < b->n; i++)
        free(b->bufs[i]);
    free(b->bufs);
    free(b->ids);
    free(b->items);
    memset(b, 0, sizeof *b);
}

int sync_json_exact_members(json_t *o, const char *const *names, int n)
{
    if (!json_is_object(o) || json_object_size(o) != (size_t)n)
        return -1;
    for (int i = 0; i < n; i++)
        if (!json_object_get(o, names[i]))
            return -1;
    return 0;
}

static int decode_item(json_t *r, int i, struct sync_batch *b, struct op_err *e)
{
    static const char *const names[] = {"result_id", "envelope"};
    if (sync_json_exact_members(r, names, 2) != 0)
        return err_set(e, OP_EINPUT,
                       "results batch: results[%d] must be an object with exactly result_id "
                       "and envelope",
                       i);
    json_t *id = json_object_get(r, "result_id"), *env = json_object_get(r, "envelope");
    if (!json_is_string(id) || !uuid_is_valid(json_string_value(id)))
        return err_set(e, OP_EINPUT, "results batch: results[%d].result_id is not a UUID", i);
    if (!json_is_string(env))
        return err_set(e, OP_EINPUT, "results batch: results[%d].envelope is not a string", i);
    for (int j = 0; j < b->n; j++)
        if (strcmp(b->ids[j], json_string_value(id)) == 0)
            return err_set(e, OP_EINPUT, "results batch: result %s is listed twice",
                           json_string_value(id));
    size_t len;
    unsigned char *bin =
        sync_b64_decode(json_string_value(env), json_string_length(env), ENVELOPE_MAX_BYTES, &len);
    if (!bin || len == 0) {
        free(bin);
        return err_set(e, OP_EINPUT,
                       "results batch: results[%d].envelope is not base64 of 1 to %u bytes", i,
                       (unsigned)ENVELOPE_MAX_BYTES);
    }
    snprintf(b->ids[b->n], UUID_STR_LEN, "%s", json_string_value(id));
    b->bufs[b->n] = bin;
    b->items[b->n] = (struct app_push_item){b->ids[b->n], bin, len};
    b->n++;
    return 0;
}

int sync_batch_decode(const unsigned char *data, size_t len, struct sync_batch *b, struct op_err *e)
{
    memset(b, 0, sizeof *b);
    if (len > SYNC_BATCH_MAX_BYTES)
        return err_set(e, OP_EINPUT, "results batch: %zu bytes, over the limit of %u", len,
                       SYNC_BATCH_MAX_BYTES);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return err_set(e, OP_EINPUT, "results batch: not JSON (%s, byte %d)", jerr.text,
                       jerr.position);
    static const char *const names[] = {"format", "device_id", "results"};
    int rc = 0;
    json_t *format = json_object_get(doc, "format"), *dev = json_object_get(doc, "device_id"),
           *results = json_object_get(doc, "results");
    if (sync_json_exact_members(doc, names, 3) != 0)
        rc = err_set(e, OP_EINPUT,
                     "results batch: must be an object with exactly format, device_id and results");
    else if (!json_is_string(format) || strcmp(json_string_value(format), SYNC_BATCH_FORMAT) != 0)
        rc = err_set(e, OP_EINPUT, "results batch: format must be \"%s\"", SYNC_BATCH_FORMAT);
    else if (!json_is_string(dev) || !uuid_is_valid(json_string_value(dev)))
        rc = err_set(e, OP_EINPUT, "results batch: device_id is not a UUID");
    else if (!json_is_array(results) || json_array_size(results) > SYNC_BATCH_MAX_RESULTS)
        rc = err_set(e, OP_EINPUT, "results batch: results must be an array of at most %d",
                     SYNC_BATCH_MAX_RESULTS);
    if (rc == 0) {
        snprintf(b->device_id, sizeof b->device_id, "%s", json_string_value(dev));
        size_t n = json_array_size(results);
        b->items = calloc(n ? n : 1, sizeof *b->items);
        b->ids = calloc(n ? n : 1, sizeof *b->ids);
        b->bufs = calloc(n ? n : 1, sizeof *b->bufs);
        if (!b->items || !b->ids || !b->bufs)
            abort();
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = decode_item(json_array_get(results, i), (int)i, b, e);
    }
    json_decref(doc);
    return rc;
}
