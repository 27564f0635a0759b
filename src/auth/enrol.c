/* enrol.c - the enrolment request and response as JSON (see enrol.h). */
#include "auth/enrol.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/text.h"

/* Copies the string field `name` of `o` into out (cap bytes): OP_EINPUT naming the field if
 * it is missing, not a string, empty, too long, or holds a NUL or a control character (for
 * `text`: base/text.h's rule; otherwise any byte but NUL). */
static int get_str(json_t *o, const char *name, char *out, size_t cap, int text, struct op_err *e)
{
    json_t *v = json_object_get(o, name);
    if (!v)
        return err_set_field(e, OP_EINPUT, name, "enrolment: missing \"%s\"", name);
    if (!json_is_string(v))
        return err_set_field(e, OP_EINPUT, name, "enrolment: \"%s\" is not a string", name);
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0)
        return err_set_field(e, OP_EINPUT, name, "enrolment: \"%s\" is empty", name);
    if (n >= cap)
        return err_set_field(e, OP_EINPUT, name, "enrolment: \"%s\" is longer than %zu bytes", name,
                             cap - 1);
    if (memchr(s, '\0', n))
        return err_set_field(e, OP_EINPUT, name, "enrolment: \"%s\" holds a NUL byte", name);
    if (text) {
        enum text_fault f = text_check(s, cap - 1);
        if (f != TEXT_OK)
            return err_set_field(e, OP_EINPUT, name, "enrolment: \"%s\": %s", name,
                                 text_fault_message(f));
    }
    memcpy(out, s, n + 1);
    return 0;
}

/* A hex field of exactly `n` bytes. */
static int get_hex(json_t *o, const char *name, unsigned char *out, size_t n, struct op_err *e)
{
    char hex[2 * SIGN_BYTES + 2];
    int rc = get_str(o, name, hex, 2 * n + 2 <= sizeof hex ? 2 * n + 2 : sizeof hex, 0, e);
    if (rc != 0)
        return rc;
    size_t got = 0;
    const char *end = NULL;
    if (strlen(hex) != 2 * n || sodium_hex2bin(out, n, hex, 2 * n, NULL, &got, &end) != 0 ||
        got != n)
        return err_set_field(e, OP_EINPUT, name, "enrolment: \"%s\" is not %zu hex digits", name,
                             2 * n);
    return 0;
}

static int is_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

static json_t *load(const char *body, size_t len, const char *what, struct op_err *e)
{
    if (len > ENROL_BODY_MAX) {
        err_set(e, OP_EINPUT, "the %s is longer than %d bytes", what, ENROL_BODY_MAX);
        return NULL;
    }
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        err_set(e, OP_EINPUT, "the %s is not valid JSON (%s)", what, je.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        err_set(e, OP_EINPUT, "the %s is not a JSON object", what);
        return NULL;
    }
    return o;
}

int enrol_request_parse(const char *body, size_t len, struct enrol_request *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    json_t *o = load(body, len, "enrolment request", e);
    if (!o)
        return OP_EINPUT;
    int rc = get_str(o, "login", out->login, sizeof out->login, 1, e);
    if (rc == 0)
        rc = get_str(o, "password", out->password, sizeof out->password, 0, e);
    if (rc == 0)
        rc = get_str(o, "device_id", out->device_id, sizeof out->device_id, 0, e);
    if (rc == 0 && !uuid_is_valid(out->device_id))
        rc = err_set_field(e, OP_EINPUT, "device_id", "enrolment: \"device_id\" is not a UUID");
    if (rc == 0)
        rc = get_str(o, "label", out->label, sizeof out->label, 1, e);
    if (rc == 0)
        rc = get_hex(o, "signing_public_key", out->signing_public_key, KEY_PUBLIC_BYTES, e);
    if (rc == 0 && sodium_is_zero(out->signing_public_key, KEY_PUBLIC_BYTES))
        rc = err_set_field(e, OP_EINPUT, "signing_public_key",
                           "enrolment: \"signing_public_key\" is all zeros");
    /* jansson's copy of the password goes with the object; its memory is not wiped. */
    json_decref(o);
    if (rc != 0)
        enrol_request_wipe(out);
    return rc;
}

char *enrol_request_json(const struct enrol_request *r)
{
    char pk[2 * KEY_PUBLIC_BYTES + 1];
    sodium_bin2hex(pk, sizeof pk, r->signing_public_key, KEY_PUBLIC_BYTES);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "login", r->login, "password", r->password,
                          "device_id", r->device_id, "label", r->label, "signing_public_key", pk);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

void enrol_request_wipe(struct enrol_request *r)
{
    sodium_memzero(r, sizeof *r);
}

char *enrol_response_json(const struct enrol_response *r)
{
    char spk[2 * KEY_PUBLIC_BYTES + 1], rpk[2 * KEY_PUBLIC_BYTES + 1], sig[2 * SIGN_BYTES + 1];
    sodium_bin2hex(spk, sizeof spk, r->signing_public_key, KEY_PUBLIC_BYTES);
    sodium_bin2hex(rpk, sizeof rpk, r->results_public_key, KEY_PUBLIC_BYTES);
    sodium_bin2hex(sig, sizeof sig, r->results_key_signature, SIGN_BYTES);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "client_id",
                          r->client_id, "client_secret", r->client_secret, "org_id", r->org_id,
                          "device_id", r->device_id, "signing_public_key", spk, "signing_key_id",
                          r->signing_key_id, "signing_key_fingerprint_sha256",
                          r->signing_key_fingerprint, "results_public_key", rpk, "results_key_id",
                          r->results_key_id, "results_key_signature", sig);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

int enrol_response_parse(const char *body, size_t len, struct enrol_response *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    json_t *o = load(body, len, "enrolment response", e);
    if (!o)
        return OP_EINPUT;
    int rc = get_str(o, "client_id", out->client_id, sizeof out->client_id, 1, e);
    if (rc == 0)
        rc = get_str(o, "client_secret", out->client_secret, sizeof out->client_secret, 0, e);
    if (rc == 0 && !oauth2_token_shape_ok(out->client_secret))
        rc = err_set_field(e, OP_EINPUT, "client_secret",
                           "enrolment: \"client_secret\" is not 43 base64url characters");
    if (rc == 0)
        rc = get_str(o, "org_id", out->org_id, sizeof out->org_id, 1, e);
    if (rc == 0)
        rc = get_str(o, "device_id", out->device_id, sizeof out->device_id, 0, e);
    if (rc == 0 && !uuid_is_valid(out->device_id))
        rc = err_set_field(e, OP_EINPUT, "device_id", "enrolment: \"device_id\" is not a UUID");
    if (rc == 0)
        rc = get_hex(o, "signing_public_key", out->signing_public_key, KEY_PUBLIC_BYTES, e);
    if (rc == 0)
        rc = get_str(o, "signing_key_id", out->signing_key_id, sizeof out->signing_key_id, 0, e);
    if (rc == 0)
        rc = get_str(o, "signing_key_fingerprint_sha256", out->signing_key_fingerprint,
                     sizeof out->signing_key_fingerprint, 0, e);
    if (rc == 0)
        rc = get_hex(o, "results_public_key", out->results_public_key, KEY_PUBLIC_BYTES, e);
    if (rc == 0)
        rc = get_str(o, "results_key_id", out->results_key_id, sizeof out->results_key_id, 0, e);
    if (rc == 0)
        rc = get_hex(o, "results_key_signature", out->results_key_signature, SIGN_BYTES, e);
    json_decref(o);
    if (rc == 0) { /* each id and the fingerprint belong to their key */
        char id[KEY_ID_HEX_LEN], rid[KEY_ID_HEX_LEN], fp[KEY_FINGERPRINT_HEX_LEN];
        struct key k;
        memset(&k, 0, sizeof k);
        memcpy(k.public_key, out->signing_public_key, KEY_PUBLIC_BYTES);
        key_fingerprint(&k, fp);
        key_id_of_public(out->signing_public_key, id);
        key_id_of_public(out->results_public_key, rid);
        if (!is_hex(out->signing_key_id, KEY_ID_HEX_LEN - 1) || strcmp(id, out->signing_key_id))
            rc = err_set_field(e, OP_EINPUT, "signing_key_id",
                               "enrolment: \"signing_key_id\" is not the id of the signing key");
        else if (strcmp(fp, out->signing_key_fingerprint) != 0)
            rc = err_set_field(e, OP_EINPUT, "signing_key_fingerprint_sha256",
                               "enrolment: the fingerprint is not the signing key's");
        else if (strcmp(rid, out->results_key_id) != 0)
            rc = err_set_field(e, OP_EINPUT, "results_key_id",
                               "enrolment: \"results_key_id\" is not the id of the results key");
    }
    if (rc != 0)
        enrol_response_wipe(out);
    return rc;
}

void enrol_response_wipe(struct enrol_response *r)
{
    sodium_memzero(r, sizeof *r);
}

/* The statement signed: the key id's 16 characters, then the public key. */
static void statement(const char *id, const unsigned char pk[KEY_PUBLIC_BYTES],
                      unsigned char out[KEY_ID_HEX_LEN - 1 + KEY_PUBLIC_BYTES])
{
    memset(out, 0, KEY_ID_HEX_LEN - 1);
    memcpy(out, id, strnlen(id, KEY_ID_HEX_LEN - 1));
    memcpy(out + KEY_ID_HEX_LEN - 1, pk, KEY_PUBLIC_BYTES);
}

int enrol_results_key_sign(const struct key *signer, const char *results_key_id,
                           const unsigned char results_pk[KEY_PUBLIC_BYTES],
                           unsigned char sig[SIGN_BYTES], struct op_err *e)
{
    unsigned char m[KEY_ID_HEX_LEN - 1 + KEY_PUBLIC_BYTES];
    statement(results_key_id, results_pk, m);
    return sign_detached(SIGN_CONTEXT_RESULTS_KEY, m, sizeof m, signer, sig, e);
}

int enrol_results_key_verify(const unsigned char signing_pk[KEY_PUBLIC_BYTES],
                             const char *results_key_id,
                             const unsigned char results_pk[KEY_PUBLIC_BYTES],
                             const unsigned char sig[SIGN_BYTES], struct op_err *e)
{
    unsigned char m[KEY_ID_HEX_LEN - 1 + KEY_PUBLIC_BYTES];
    statement(results_key_id, results_pk, m);
    if (sign_verify(SIGN_CONTEXT_RESULTS_KEY, m, sizeof m, sig, signing_pk) != 0)
        return err_set(e, OP_ECRYPTO,
                       "results key %s: its signature by central's signing key does not verify; "
                       "check that this is the central the device enrolled with",
                       results_key_id);
    return 0;
}
