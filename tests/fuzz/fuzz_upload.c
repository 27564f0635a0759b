/*
 * fuzz_upload.c - the files a test taker sends (app/upload.h): any bytes, after a first byte
 * that chooses the interaction (even: an uploadInteraction taking text/plain, application/pdf
 * and any image; odd: a drawingInteraction), are parsed as the server parses a response body
 * (http_json_parse) and, when that gives an object, checked as a file for the interaction
 * (app_upload_check, 64 KiB limit) and read as a QTI file value (qti_value_from_json); the
 * raw bytes are also sniffed and checked as a PNG. A file the check takes is sealed and opened
 * back, and must give the same bytes.
 */
#include <jansson.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/upload.h"
#include "http/body.h"
#include "http/server.h"
#include "qti/interaction.h"
#include "qti/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct key results;
static struct qti_interaction *upload, *drawing;

static const struct key *key_of(const char *id, void *ctx)
{
    (void)ctx;
    return strcmp(id, results.id) == 0 ? &results : NULL;
}

static void init(void)
{
    if (upload)
        return;
    if (sodium_init() < 0)
        abort();
    crypto_box_keypair(results.public_key, results.secret);
    key_id_of_public(results.public_key, results.id);
    struct op_err e = {0};
    json_t *u = json_pack("{s:s, s:s, s:s}", "type", "uploadInteraction", "responseIdentifier", "R",
                          "types", "text/plain application/pdf image/*");
    json_t *d =
        json_pack("{s:s, s:s, s:{s:s, s:s}}", "type", "drawingInteraction", "responseIdentifier",
                  "R", "object", "data", "map.png", "type", "image/png");
    if (qti_interaction_from_json(u, "upload", &upload, &e) != 0 ||
        qti_interaction_from_json(d, "drawing", &drawing, &e) != 0)
        abort();
    json_decref(u);
    json_decref(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size < 1)
        return 0;
    const struct qti_interaction *it = data[0] & 1 ? drawing : upload;
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    (void)app_upload_sniff(rest, n);
    struct op_err e = {0};
    (void)app_upload_png_check(rest, n, NULL, NULL, &e);

    json_t *v = NULL;
    if (http_json_parse((const char *)rest, n, HTTP_JSON_MAX_DEPTH, &v, &e) != 0)
        return 0;
    struct qti_value *qv = NULL;
    if (qti_value_from_json(QTI_BT_FILE, QTI_CARD_SINGLE, v, "R", &qv, &e) == 0 && qv) {
        json_t *back = qti_value_to_json(qv);
        if (!json_is_object(back))
            abort(); /* a file value reads back as its object */
        json_decref(back);
    }
    qti_value_free(qv);
    unsigned char *content = NULL;
    size_t len = 0;
    char *type = NULL, *name = NULL;
    if (app_upload_check(it, v, 64 * 1024, &content, &len, &type, &name, &e) == 0) {
        if (len == 0 || len > 64 * 1024 || !qti_interaction_accepts_type(it, type) ||
            strchr(name, '/'))
            abort();
        json_t *kept = NULL;
        if (app_upload_seal(content, len, type, name, results.public_key, results.id, &kept, &e) !=
                0 ||
            !app_upload_is_sealed(kept))
            abort();
        json_t *pub = app_upload_public(kept);
        if (json_object_get(pub, "sealed"))
            abort();
        json_decref(pub);
        if (app_upload_open_all(kept, key_of, NULL, &e) != 0)
            abort();
        const char *d64 = json_string_value(json_object_get(kept, "data"));
        unsigned char *again = malloc(len + 3);
        size_t got = 0;
        if (!d64 || !again ||
            sodium_base642bin(again, len + 3, d64, strlen(d64), NULL, &got, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            got != len || memcmp(again, content, len) != 0)
            abort();
        free(again);
        json_decref(kept);
        free(content);
        free(type);
        free(name);
    }
    json_decref(v);
    return 0;
}
