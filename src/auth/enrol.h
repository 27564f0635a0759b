/*
 * enrol.h - the enrolment exchange as JSON, shared by the device that sends it and central's
 * HTTP handler that answers it (docs/sync-protocol.md, "Enrolment"). Pure functions: no I/O,
 * no database; bounded (ENROL_BODY_MAX) and strict about types and shapes. Fuzzed by
 * tests/fuzz/fuzz_enrol_request.c.
 *
 * Request  {"login", "password", "device_id" (UUID), "label",
 *           "signing_public_key" (64 hex: the device's Ed25519 key)}
 * Response {"client_id", "client_secret", "org_id", "device_id",
 *           "signing_public_key", "signing_key_id", "signing_key_fingerprint_sha256",
 *           "results_public_key", "results_key_id",
 *           "results_key_signature" (128 hex: central's signing key over the results key)}
 *
 * The results key statement signed is SIGN_CONTEXT_RESULTS_KEY || 0x00 || results_key_id (16
 * hex characters) || results public key (32 bytes): a device that pinned the signing key
 * takes a rotated results key only with a good signature (enrol_results_key_verify).
 */
#ifndef OUTPOST_AUTH_ENROL_H
#define OUTPOST_AUTH_ENROL_H

#include <stddef.h>

#include "auth/oauth2.h"
#include "base/err.h"
#include "base/ids.h"
#include "crypto/keys.h"
#include "crypto/sign.h"

#define ENROL_BODY_MAX     8192
#define ENROL_LOGIN_MAX    255
#define ENROL_PASSWORD_MAX 1024
#define ENROL_LABEL_MAX    255
#define ENROL_ORG_MAX      255

struct enrol_request {
    char login[ENROL_LOGIN_MAX + 1];
    char password[ENROL_PASSWORD_MAX + 1];
    char device_id[UUID_STR_LEN];
    char label[ENROL_LABEL_MAX + 1];
    unsigned char signing_public_key[KEY_PUBLIC_BYTES];
};

struct enrol_response {
    char client_id[OAUTH2_CLIENT_ID_MAX + 1];
    char client_secret[OAUTH2_TOKEN_LEN];
    char org_id[ENROL_ORG_MAX + 1];
    char device_id[UUID_STR_LEN];
    unsigned char signing_public_key[KEY_PUBLIC_BYTES];
    char signing_key_id[KEY_ID_HEX_LEN];
    char signing_key_fingerprint[KEY_FINGERPRINT_HEX_LEN];
    unsigned char results_public_key[KEY_PUBLIC_BYTES];
    char results_key_id[KEY_ID_HEX_LEN];
    unsigned char results_key_signature[SIGN_BYTES];
};

/* Parses a request body (len bytes, need not end with a NUL). OP_EINPUT naming the field for
 * a body over ENROL_BODY_MAX, not a JSON object, a field missing, of the wrong type, too long,
 * with a control character, or a key or id of the wrong shape. Unknown fields are ignored.
 * The caller wipes *out (enrol_request_wipe) on every path. */
int enrol_request_parse(const char *body, size_t len, struct enrol_request *out, struct op_err *e);
/* The body of a request; the caller frees (and should wipe: it holds the password). */
char *enrol_request_json(const struct enrol_request *r);
void enrol_request_wipe(struct enrol_request *r);

/* The body of a response, and its parser (as strict as the request's; it also checks that
 * each key id and the fingerprint belong to their key, but not the signature:
 * enrol_results_key_verify). The caller wipes *out (it holds the client secret). */
char *enrol_response_json(const struct enrol_response *r);
int enrol_response_parse(const char *body, size_t len, struct enrol_response *out,
                         struct op_err *e);
void enrol_response_wipe(struct enrol_response *r);

/* Signs the results key `results_key_id`/`results_pk` with central's signing key. */
int enrol_results_key_sign(const struct key *signer, const char *results_key_id,
                           const unsigned char results_pk[KEY_PUBLIC_BYTES],
                           unsigned char sig[SIGN_BYTES], struct op_err *e);
/* 0 if `sig` is the signature of that statement by `signing_pk`; OP_ECRYPTO otherwise. */
int enrol_results_key_verify(const unsigned char signing_pk[KEY_PUBLIC_BYTES],
                             const char *results_key_id,
                             const unsigned char results_pk[KEY_PUBLIC_BYTES],
                             const unsigned char sig[SIGN_BYTES], struct op_err *e);

#endif
