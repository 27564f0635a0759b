/*
 * upload.h - the files a test taker gives as answers (QTI uploadInteraction and
 * drawingInteraction, responses of base type file; docs/qti.md, "Files").
 *
 * The page sends a file as {"name": "essay.pdf", "type": "application/pdf", "data": BASE64}
 * (a drawing: its PNG; a PCI bound to a file response, such as TAO's audio recording, gives
 * it in the QTI JSON binding, which the runner reads into this form first, qti/pci.h). On the
 * device, before the engine sees it, app_upload_check decodes it and checks it: at most `max_bytes`
 * (configuration.limits.upload-max-bytes), a content that is what its type says (sniffed from its
 * first bytes for every type Outpost knows: PNG, JPEG, GIF, WebP, PDF, ZIP and the office formats
 * built on it, OLE2, RTF, WAV, MP3, Ogg, MP4, WebM, plain text; a type's parameters,
 * ";codecs=opus", are dropped), a type the interaction takes (qti_interaction_accepts_type; a PCI
 * names none, so its file must be content Outpost recognises), and for a drawing a PNG whose header
 * is well formed and whose sides are at most APP_DRAWING_MAX_SIDE. Then app_upload_seal seals the
 * content to central's results key (crypto_box_seal): what the device keeps in the execution's
 * session and puts in the result is
 *   {"name", "type", "size", "sha256", "key_id", "sealed": BASE64}
 * so a file never rests in clear on the device, which cannot read it back. On central,
 * decrypt-results opens every sealed file of a result (app_upload_open_all) with the results
 * key it names, checks its SHA-256 and keeps {"name", "type", "size", "sha256", "data"}.
 *
 * Every refusal is OP_EINPUT with field "responses" and a sentence for the test taker.
 */
#ifndef OUTPOST_APP_UPLOAD_H
#define OUTPOST_APP_UPLOAD_H

#include <jansson.h>
#include <stddef.h>

#include "base/err.h"
#include "crypto/keys.h"
#include "qti/interaction.h"

/* The largest side, in pixels, of a drawing. */
#define APP_DRAWING_MAX_SIDE 4096

/* The MIME type the first bytes of `data` show, or NULL when Outpost does not recognise them
 * (text/plain for valid UTF-8 without control characters other than tab and line ends). */
const char *app_upload_sniff(const unsigned char *data, size_t len);

/* 0 when data is a PNG image: its signature, then an IHDR chunk of 13 bytes with a width and
 * height from 1 to APP_DRAWING_MAX_SIDE, a known bit depth and colour type, and an IEND chunk
 * at the end; else OP_EINPUT saying what is wrong. *w and *h get the size (may be NULL). */
int app_upload_png_check(const unsigned char *data, size_t len, unsigned *w, unsigned *h,
                         struct op_err *e);

/* A file the page sent (`value`, its JSON form above) for interaction `it`, checked (see the
 * top). On success *data (malloc'ed, the caller wipes and frees it), *len, *type (the MIME
 * type kept, lower case, malloc'ed) and *name (the file's name without any folder, malloc'ed;
 * "drawing.png" for a drawing, "file" when the page gave none). */
int app_upload_check(const struct qti_interaction *it, const json_t *value, size_t max_bytes,
                     unsigned char **data, size_t *len, char **type, char **name, struct op_err *e);

/* The kept form of a checked file, sealed to the results key `pk` whose id is `key_id` (a new
 * reference in *out). */
int app_upload_seal(const unsigned char *data, size_t len, const char *type, const char *name,
                    const unsigned char pk[KEY_PUBLIC_BYTES], const char *key_id, json_t **out,
                    struct op_err *e);

/* 1 if `v` is a file value in its kept (sealed) form. */
int app_upload_is_sealed(const json_t *v);

/* What the page is shown of a file value (name, type, size, sha256; never its content): a new
 * reference. */
json_t *app_upload_public(const json_t *v);

/* 1 if `v` is a file value opened on central ({"type", "data": base64, ...}). */
int app_upload_is_open(const json_t *v);

/* Replaces, in place, every opened file value under `doc` by what a list shows of it
 * (app_upload_public, with "file": true): results views carry no file's bytes. */
void app_upload_strip_all(json_t *doc);

/* Central: the results key whose id is `key_id`, or NULL. */
typedef const struct key *(*app_upload_key_fn)(const char *key_id, void *ctx);
/* Opens, in place, every sealed file of the result document `doc` (any object in it with
 * "sealed" and "key_id"), checking its SHA-256 and size. OP_ECRYPTO (damaged) or OP_ENOTFOUND
 * (no such key) naming the file. */
int app_upload_open_all(json_t *doc, app_upload_key_fn key, void *ctx, struct op_err *e);

#endif
