/*
 * upload.c - the files a test taker gives as answers: checked, sealed on the device, opened on
 * central (see upload.h).
 */
#include "app/upload.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/sha256.h"
#include "base/text.h"

/* What a sealed file's box holds before the content: binds the box to its use. */
static const char SEAL_LABEL[] = "outpost answer file v1";

static int refuse(struct op_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(struct op_err *e, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set_field(e, OP_EINPUT, "responses", "%s", msg);
}

static int oom(struct op_err *e)
{
    return err_set(e, OP_ENOMEM, "out of memory");
}

/* ------------------------------------------------------------------------ sniffing -- */

static int starts(const unsigned char *d, size_t n, const char *magic, size_t m)
{
    return n >= m && memcmp(d, magic, m) == 0;
}

/* Plain text: valid UTF-8 (a BOM allowed), no NUL nor control character but tab, CR, LF,
 * form feed. */
static int is_text(const unsigned char *d, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (d[i] < 0x20 && d[i] != '\t' && d[i] != '\n' && d[i] != '\r' && d[i] != '\f')
            return 0;
    /* utf8_is_valid reads a NUL-terminated copy's length: it takes len */
    return utf8_is_valid((const char *)d, n);
}

const char *app_upload_sniff(const unsigned char *d, size_t n)
{
    if (starts(d, n, "\x89PNG\r\n\x1a\n", 8))
        return "image/png";
    if (starts(d, n, "\xff\xd8\xff", 3))
        return "image/jpeg";
    if (starts(d, n, "GIF87a", 6) || starts(d, n, "GIF89a", 6))
        return "image/gif";
    if (n >= 12 && starts(d, n, "RIFF", 4) && memcmp(d + 8, "WEBP", 4) == 0)
        return "image/webp";
    if (n >= 12 && starts(d, n, "RIFF", 4) && memcmp(d + 8, "WAVE", 4) == 0)
        return "audio/wav";
    if (starts(d, n, "%PDF-", 5))
        return "application/pdf";
    if (starts(d, n, "PK\x03\x04", 4) || starts(d, n, "PK\x05\x06", 4))
        return "application/zip";
    if (starts(d, n, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8))
        return "application/x-ole-storage";
    if (starts(d, n, "{\\rtf", 5))
        return "application/rtf";
    if (starts(d, n, "OggS", 4))
        return "application/ogg";
    /* EBML: WebM, what browsers' MediaRecorder gives (audio/webm;codecs=opus), and Matroska */
    if (starts(d, n, "\x1a\x45\xdf\xa3", 4))
        return "video/webm";
    if (starts(d, n, "ID3", 3) || (n >= 2 && d[0] == 0xff && (d[1] & 0xe0) == 0xe0))
        return "audio/mpeg";
    if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0)
        return "video/mp4";
    if (is_text(d, n))
        return "text/plain";
    return NULL;
}

/* The types a declared type may stand for, by what the content shows. */
static const struct {
    const char *sniffed;
    const char *declared; /* a type, or a prefix ending in '*' */
} families[] = {
    {"image/png", "image/png"},
    {"image/jpeg", "image/jpeg"},
    {"image/jpeg", "image/jpg"},
    {"image/jpeg", "image/pjpeg"},
    {"image/gif", "image/gif"},
    {"image/webp", "image/webp"},
    {"audio/wav", "audio/wav"},
    {"audio/wav", "audio/x-wav"},
    {"audio/wav", "audio/wave"},
    {"audio/wav", "audio/vnd.wave"},
    {"application/pdf", "application/pdf"},
    {"application/pdf", "application/x-pdf"},
    {"application/zip", "application/zip"},
    {"application/zip", "application/x-zip-compressed"},
    {"application/zip", "application/vnd.openxmlformats-officedocument.*"},
    {"application/zip", "application/vnd.oasis.opendocument.*"},
    {"application/zip", "application/epub+zip"},
    {"application/zip", "application/vnd.ms-*"}, /* docm, xlsm, pptm */
    {"application/x-ole-storage", "application/msword"},
    {"application/x-ole-storage", "application/vnd.ms-*"},
    {"application/rtf", "application/rtf"},
    {"application/rtf", "text/rtf"},
    {"application/ogg", "application/ogg"},
    {"application/ogg", "audio/ogg"},
    {"application/ogg", "video/ogg"},
    {"video/webm", "video/webm"},
    {"video/webm", "audio/webm"},
    {"video/webm", "video/x-matroska"},
    {"video/webm", "audio/x-matroska"},
    {"audio/mpeg", "audio/mpeg"},
    {"audio/mpeg", "audio/mp3"},
    {"video/mp4", "video/mp4"},
    {"video/mp4", "audio/mp4"},
    {"video/mp4", "audio/x-m4a"},
    {"video/mp4", "video/quicktime"},
    {"text/plain", "text/*"},
    {"text/plain", "application/json"},
    {"text/plain", "application/xml"},
    {"text/plain", "application/x-tex"},
    {"text/plain", "image/svg+xml"},
};
#define NFAMILIES (sizeof families / sizeof families[0])

static int type_matches(const char *pattern, const char *type)
{
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '*')
        return strncasecmp(pattern, type, n - 1) == 0;
    return strcasecmp(pattern, type) == 0;
}

/* 1 if content sniffed as `sniffed` may be declared as `declared`. */
static int family_has(const char *sniffed, const char *declared)
{
    for (size_t i = 0; i < NFAMILIES; i++)
        if (strcmp(families[i].sniffed, sniffed) == 0 &&
            type_matches(families[i].declared, declared))
            return 1;
    return 0;
}

/* 1 if Outpost would recognise content of type `declared` (so content it does not recognise
 * cannot be of that type). */
static int type_is_known(const char *declared)
{
    if (strncasecmp(declared, "text/", 5) == 0)
        return 1;
    for (size_t i = 0; i < NFAMILIES; i++)
        if (strcmp(families[i].declared, "text/*") != 0 &&
            type_matches(families[i].declared, declared))
            return 1;
    return 0;
}

/* ------------------------------------------------------------------------------ PNG -- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int app_upload_png_check(const unsigned char *d, size_t n, unsigned *w, unsigned *h,
                         struct op_err *e)
{
    if (!starts(d, n, "\x89PNG\r\n\x1a\n", 8))
        return refuse(e, "The drawing is not a PNG image.");
    if (n < 8 + 25 + 12 || be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0)
        return refuse(e, "The drawing is not a complete PNG image (no IHDR header).");
    uint32_t width = be32(d + 16), height = be32(d + 20);
    unsigned depth = d[24], colour = d[25];
    if (width < 1 || height < 1 || width > APP_DRAWING_MAX_SIDE || height > APP_DRAWING_MAX_SIDE)
        return refuse(e, "The drawing is %u by %u pixels; each side must be from 1 to %d.",
                      (unsigned)width, (unsigned)height, APP_DRAWING_MAX_SIDE);
    int ok_depth =
        (colour == 0 && (depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16)) ||
        (colour == 3 && (depth == 1 || depth == 2 || depth == 4 || depth == 8)) ||
        ((colour == 2 || colour == 4 || colour == 6) && (depth == 8 || depth == 16));
    if (!ok_depth || d[26] != 0 || d[27] != 0 || d[28] > 1)
        return refuse(e, "The drawing's PNG header is not valid.");
    /* the chunks follow one another up to IEND, which ends the file */
    size_t at = 8;
    int chunks = 0;
    while (at + 12 <= n) {
        uint32_t len = be32(d + at);
        if (len > n - at - 12 || ++chunks > 100000)
            return refuse(e, "The drawing's PNG data is cut or damaged.");
        if (memcmp(d + at + 4, "IEND", 4) == 0) {
            if (at + 12 + len != n)
                return refuse(e, "The drawing has bytes after its PNG image.");
            if (w)
                *w = width;
            if (h)
                *h = height;
            return 0;
        }
        at += 12 + (size_t)len;
    }
    return refuse(e, "The drawing's PNG data is cut or damaged (no IEND chunk).");
}

/* ---------------------------------------------------------------------- the checks -- */

static void human_size(size_t n, char *out, size_t cap)
{
    if (n >= 1024 * 1024)
        snprintf(out, cap, "%.1f MB", (double)n / (1024.0 * 1024.0));
    else if (n >= 1024)
        snprintf(out, cap, "%.0f KB", (double)n / 1024.0);
    else
        snprintf(out, cap, "%zu bytes", n);
}

/* The name without folders, control characters or quotes; NULL for none. */
static char *clean_name(const char *s)
{
    if (!s)
        return NULL;
    const char *base = s;
    for (const char *p = s; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t n = strlen(base);
    if (n > 255)
        n = 255;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)base[i];
        if (c >= 0x20 && c != 0x7f && c != '"')
            out[k++] = (char)c;
    }
    out[k] = '\0';
    /* a name cut inside a UTF-8 sequence loses the broken tail */
    while (k > 0 && !utf8_is_valid(out, k))
        out[--k] = '\0';
    if (k == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
        free(out);
        return NULL;
    }
    return out;
}

static char *lower_dup(const char *s)
{
    char *out = strdup(s);
    for (char *p = out; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

/* The MIME type without its parameters ("audio/webm;codecs=opus": "audio/webm"), in `out`;
 * NULL when it is longer than `cap`. */
static const char *type_only(const char *t, char *out, size_t cap)
{
    size_t n = strcspn(t, ";");
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    if (n >= cap)
        return NULL;
    memcpy(out, t, n);
    out[n] = '\0';
    return out;
}

int app_upload_check(const struct qti_interaction *it, const json_t *value, size_t max_bytes,
                     unsigned char **data, size_t *len, char **type, char **name, struct op_err *e)
{
    *data = NULL;
    *len = 0;
    *type = *name = NULL;
    int drawing = it->kind == QTI_INTERACTION_DRAWING;
    int pci = it->kind == QTI_INTERACTION_CUSTOM; /* a recording (qti/pci.h) */
    if (it->kind != QTI_INTERACTION_UPLOAD && !drawing && !pci)
        return refuse(e, "response %s takes no file", it->response_identifier);
    const json_t *b64 = json_object_get(value, "data");
    const char *declared = json_string_value(json_object_get(value, "type"));
    const json_t *jname = json_object_get(value, "name");
    if (!json_is_object(value) || !json_is_string(b64) || (jname && !json_is_string(jname)) ||
        (json_object_get(value, "type") && !declared))
        return refuse(e, "response %s: a file is sent as {\"name\", \"type\", \"data\": base64}",
                      it->response_identifier);
    size_t b64len = json_string_length(b64);
    /* base64's length bounds the content before decoding anything */
    size_t most = b64len / 4 * 3 + 3;
    char lim[32], got[32];
    human_size(max_bytes, lim, sizeof lim);
    if (b64len / 4 * 3 > max_bytes + 2) {
        human_size(b64len / 4 * 3, got, sizeof got);
        return refuse(e, "The %s is %s; the largest this test takes is %s.",
                      drawing ? "drawing" : "file", got, lim);
    }
    unsigned char *buf = malloc(most ? most : 1);
    if (!buf)
        return oom(e);
    size_t n = 0;
    const char *end = NULL;
    if (sodium_base642bin(buf, most, json_string_value(b64), b64len, "\r\n", &n, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != json_string_value(b64) + b64len) {
        free(buf);
        return refuse(e, "response %s: the file's data is not valid base64",
                      it->response_identifier);
    }
    int rc = 0;
    char *kept = NULL;
    if (n == 0) {
        rc = refuse(e, "The %s is empty.", drawing ? "drawing" : "file");
    } else if (n > max_bytes) {
        human_size(n, got, sizeof got);
        rc = refuse(e, "The %s is %s; the largest this test takes is %s.",
                    drawing ? "drawing" : "file", got, lim);
    } else if (drawing) {
        rc = app_upload_png_check(buf, n, NULL, NULL, e);
        if (rc == 0 && !(kept = strdup("image/png")))
            rc = oom(e);
    } else {
        const char *sniffed = app_upload_sniff(buf, n);
        char bare[128];
        if (declared)
            declared = type_only(declared, bare, sizeof bare);
        if (declared && (!*declared || !strchr(declared, '/') ||
                         strcasecmp(declared, "application/octet-stream") == 0))
            declared = NULL; /* the browser does not know: the content says */
        if (declared && sniffed && !family_has(sniffed, declared))
            rc = refuse(e,
                        "The file's content is not what its type (%.100s) says: it looks like "
                        "%s. Choose the file again or save it in the right format.",
                        declared, sniffed);
        else if (declared && !sniffed && type_is_known(declared))
            rc = refuse(e,
                        "The file's content is not what its type (%.100s) says. Choose the file "
                        "again or save it in the right format.",
                        declared);
        else if (pci && !sniffed)
            /* a PCI names no types: what it gives must be a kind of file the device knows */
            rc = refuse(e,
                        "This answer's file cannot be kept: its content (%.100s) is not a kind "
                        "of file this device recognises (a recording: WebM, Ogg, WAV, MP3, MP4).",
                        declared ? declared : "unknown");
        if (rc == 0) {
            const char *t = declared ? declared : sniffed ? sniffed : "application/octet-stream";
            if (!(kept = lower_dup(t)))
                rc = oom(e);
            else if (!qti_interaction_accepts_type(it, kept) &&
                     !(sniffed && qti_interaction_accepts_type(it, sniffed) &&
                       strcmp(sniffed, "text/plain") != 0))
                rc = refuse(e, "This question takes files of type %.200s; this file is %.100s.",
                            it->upload_types ? it->upload_types : "(any)", kept);
        }
    }
    if (rc == 0) {
        *name = clean_name(json_string_value(jname));
        if (!*name && !(*name = strdup(drawing ? "drawing.png" : "file")))
            rc = oom(e);
    }
    if (rc != 0) {
        sodium_memzero(buf, most);
        free(buf);
        free(kept);
        free(*name);
        *name = NULL;
        return rc;
    }
    *data = buf;
    *len = n;
    *type = kept;
    return 0;
}

/* -------------------------------------------------------------------------- sealing -- */

static char *b64_of(const unsigned char *d, size_t n)
{
    size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    if (out)
        sodium_bin2base64(out, cap, d, n, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

int app_upload_seal(const unsigned char *data, size_t len, const char *type, const char *name,
                    const unsigned char pk[KEY_PUBLIC_BYTES], const char *key_id, json_t **out,
                    struct op_err *e)
{
    *out = NULL;
    size_t inner_len = sizeof SEAL_LABEL + len;
    unsigned char *inner = malloc(inner_len);
    unsigned char *box = malloc(inner_len + crypto_box_SEALBYTES);
    if (!inner || !box) {
        free(inner);
        free(box);
        return oom(e);
    }
    memcpy(inner, SEAL_LABEL, sizeof SEAL_LABEL); /* with its NUL */
    memcpy(inner + sizeof SEAL_LABEL, data, len);
    int rc = crypto_box_seal(box, inner, inner_len, pk);
    sodium_memzero(inner, inner_len);
    free(inner);
    char *b64 = rc == 0 ? b64_of(box, inner_len + crypto_box_SEALBYTES) : NULL;
    free(box);
    if (rc != 0)
        return err_set(e, OP_ECRYPTO, "sealing a file failed");
    if (!b64)
        return oom(e);
    char sha[SHA256_HEX_LEN];
    sha256_hex(data, len, sha);
    *out = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "name", name, "type", type, "size",
                     (json_int_t)len, "sha256", sha, "key_id", key_id, "sealed", b64);
    free(b64);
    return *out ? 0 : oom(e);
}

int app_upload_is_sealed(const json_t *v)
{
    return json_is_object(v) && json_is_string(json_object_get(v, "sealed")) &&
           json_is_string(json_object_get(v, "key_id"));
}

json_t *app_upload_public(const json_t *v)
{
    json_t *o = json_object();
    if (!o || !json_is_object(v))
        return o;
    static const char *const keep[] = {"name", "type", "size", "sha256", NULL};
    for (int i = 0; keep[i]; i++) {
        json_t *x = json_object_get(v, keep[i]);
        if (x)
            json_object_set(o, keep[i], x);
    }
    return o;
}

int app_upload_is_open(const json_t *v)
{
    return json_is_object(v) && json_is_string(json_object_get(v, "data")) &&
           json_is_string(json_object_get(v, "type")) &&
           json_is_string(json_object_get(v, "sha256")) && !json_object_get(v, "baseType");
}

void app_upload_strip_all(json_t *doc)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(doc)) {
        json_object_foreach(doc, k, v)
        {
            if (app_upload_is_open(v) || app_upload_is_sealed(v)) {
                json_t *pub = app_upload_public(v);
                json_object_set_new(pub, "file", json_true());
                json_object_set_new(doc, k, pub);
            } else {
                app_upload_strip_all(v);
            }
        }
    } else if (json_is_array(doc)) {
        json_array_foreach(doc, i, v)
        {
            if (app_upload_is_open(v) || app_upload_is_sealed(v)) {
                json_t *pub = app_upload_public(v);
                json_object_set_new(pub, "file", json_true());
                json_array_set_new(doc, i, pub);
            } else {
                app_upload_strip_all(v);
            }
        }
    }
}

/* Opens one sealed file value in place. */
static int open_one(json_t *v, app_upload_key_fn keyfn, void *ctx, struct op_err *e)
{
    const char *key_id = json_string_value(json_object_get(v, "key_id"));
    const char *b64 = json_string_value(json_object_get(v, "sealed"));
    const char *sha = json_string_value(json_object_get(v, "sha256"));
    const char *name = json_string_value(json_object_get(v, "name"));
    if (!name)
        name = "file";
    const struct key *k = keyfn(key_id, ctx);
    if (!k)
        return err_set(e, OP_ENOTFOUND,
                       "the answer file \"%.100s\" is sealed to results key %.40s, which is not "
                       "among central's keys that load",
                       name, key_id);
    size_t b64len = strlen(b64), cap = b64len / 4 * 3 + 3, n = 0;
    unsigned char *box = malloc(cap ? cap : 1);
    if (!box)
        return oom(e);
    if (sodium_base642bin(box, cap, b64, b64len, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) !=
            0 ||
        n < crypto_box_SEALBYTES + sizeof SEAL_LABEL) {
        free(box);
        return err_set(e, OP_ECRYPTO, "the answer file \"%.100s\" is damaged (not a sealed box)",
                       name);
    }
    size_t inner_len = n - crypto_box_SEALBYTES;
    unsigned char *inner = malloc(inner_len);
    if (!inner) {
        free(box);
        return oom(e);
    }
    int rc = crypto_box_seal_open(inner, box, n, k->public_key, k->secret);
    free(box);
    char got[SHA256_HEX_LEN];
    size_t len = inner_len - sizeof SEAL_LABEL;
    if (rc == 0 && memcmp(inner, SEAL_LABEL, sizeof SEAL_LABEL) == 0)
        sha256_hex(inner + sizeof SEAL_LABEL, len, got);
    if (rc != 0 || memcmp(inner, SEAL_LABEL, sizeof SEAL_LABEL) != 0 || !sha ||
        strcmp(sha, got) != 0) {
        sodium_memzero(inner, inner_len);
        free(inner);
        return err_set(e, OP_ECRYPTO,
                       "the answer file \"%.100s\" is damaged: it does not open with results "
                       "key %.40s, or its content is not the one the device sealed",
                       name, key_id);
    }
    char *clear = b64_of(inner + sizeof SEAL_LABEL, len);
    sodium_memzero(inner, inner_len);
    free(inner);
    if (!clear)
        return oom(e);
    json_object_del(v, "sealed");
    json_object_del(v, "key_id");
    json_object_set_new(v, "size", json_integer((json_int_t)len));
    json_object_set_new(v, "data", json_string(clear));
    free(clear);
    return 0;
}

int app_upload_open_all(json_t *doc, app_upload_key_fn keyfn, void *ctx, struct op_err *e)
{
    if (json_is_object(doc)) {
        if (app_upload_is_sealed(doc))
            return open_one(doc, keyfn, ctx, e);
        const char *k;
        json_t *v;
        json_object_foreach(doc, k, v)
        {
            int rc = app_upload_open_all(v, keyfn, ctx, e);
            if (rc)
                return rc;
        }
    } else if (json_is_array(doc)) {
        size_t i;
        json_t *v;
        json_array_foreach(doc, i, v)
        {
            int rc = app_upload_open_all(v, keyfn, ctx, e);
            if (rc)
                return rc;
        }
    }
    return 0;
}
