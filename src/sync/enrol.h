/*
 * enrol.h - the device's side of enrolment (docs/operations.md, "Enrolling a device";
 * docs/protocol.md, POST /api/v1/enrol): `outpost enrol --login L` sends the sync manager's
 * login and password and the device's public signing key to the central registered with
 * `register-central`, checks what comes back, and keeps it:
 *
 *   meta central-signing-key       central's Ed25519 public key (hex), PINNED: every page,
 *                                  receipt and rotated results key must verify with it
 *   meta central-signing-key-id    its key id
 *   meta central-results-key       central's X25519 results key (hex) result envelopes are
 *        central-results-key-id    sealed to, and its id (replaced only by a rotation signed
 *                                  with the pinned key: sync_keys_store_results)
 *   meta enrol-org-id              the organisation of the credential
 *   meta enrol-client-id           the OAuth2 client id
 *   DATA/keys/oauth-client.secret  the client secret, mode 0600: never in the database, never
 *                                  printed
 *
 * The pin: when register-central was given --pin, the key central presents must have that
 * fingerprint, or nothing is stored; otherwise the device trusts the first key it sees (TOFU).
 * Both checks (key ids, fingerprint, the results key's signature) happen before anything is
 * written. The secret file is written before the meta rows, so that a crash between the two
 * leaves a device that is not enrolled (the next enrol replaces the file).
 *
 * Above src/app (it uses the HTTP client and the device's organisation binding, sync/pull.h).
 */
#ifndef OUTPOST_SYNC_ENROL_H
#define OUTPOST_SYNC_ENROL_H

#include <jansson.h>

#include "app/central.h" /* META_CENTRAL_RESULTS_KEY(_ID) */
#include "auth/enrol.h"
#include "base/err.h"
#include "http/client.h"
#include "http/url.h"
#include "instance/instance.h"

#define META_CENTRAL_SIGNING_KEY    "central-signing-key"
#define META_CENTRAL_SIGNING_KEY_ID "central-signing-key-id"
#define META_ENROL_ORG_ID           "enrol-org-id"
#define META_ENROL_CLIENT_ID        "enrol-client-id"
#define SYNC_CLIENT_SECRET_FILE     "oauth-client.secret" /* in DATA/keys */

struct sync_enrol_request {
    const char *login;
    const char *password;
    const char *label; /* NULL: "device " + the first 8 characters of its id */
    int force;         /* enrol again although enrolled already */
};

/* What a device is enrolled as (no secret in it). */
struct sync_enrolment {
    char root_url[HTTP_URL_MAX];
    char org_id[ENROL_ORG_MAX + 1];
    char client_id[OAUTH2_CLIENT_ID_MAX + 1];
    char device_id[UUID_STR_LEN];
    char signing_key_id[KEY_ID_HEX_LEN];
    char signing_key_fingerprint[KEY_FINGERPRINT_HEX_LEN];
    unsigned char signing_public_key[KEY_PUBLIC_BYTES];
    char results_key_id[KEY_ID_HEX_LEN];
    unsigned char results_public_key[KEY_PUBLIC_BYTES];
    int pinned; /* sync_enrol: 1 when a --pin was checked, 0 trusted on first use */
};

/* Enrols this device with the registered central (see above). OP_ENOTFOUND when no central
 * is registered; OP_ECONFLICT when enrolled already and not `force`; OP_ECRYPTO when the
 * response does not verify or its key is not the pinned fingerprint (nothing stored);
 * central's refusals with its message (OP_EUNAUTH wrong login or password, OP_EFORBIDDEN not
 * a sync manager, OP_ECONFLICT enrolled already on central, OP_ETHROTTLED). */
int sync_enrol(struct instance *device, const struct sync_enrol_request *req,
               struct sync_enrolment *out, struct op_err *e);

/* The device's enrolment; OP_ENOTFOUND "not enrolled" (say to run `outpost enrol`). */
int sync_enrolment_get(struct instance *device, struct sync_enrolment *out, struct op_err *e);

/* The client secret (sodium_malloc'ed; free with fs_secret_free). */
int sync_client_secret_read(struct instance *device, char **secret, struct op_err *e);

/* Stores a results key central sent (GET /api/v1/keys) once its signature by the pinned
 * signing key verifies (OP_ECRYPTO otherwise, nothing stored). *changed is 1 when it differs
 * from the stored one. */
int sync_keys_store_results(struct instance *device, const char *results_key_id,
                            const unsigned char results_pk[KEY_PUBLIC_BYTES],
                            const unsigned char sig[SIGN_BYTES], int *changed, struct op_err *e);

/* {root_url, org_id, client_id, device_id, signing_key_id, signing_key_fingerprint_sha256,
 * results_key_id, trust: "pin" | "first-use"} (trust only from sync_enrol). */
json_t *sync_enrolment_json(const struct sync_enrolment *en, int with_trust);

/* A client for the registered central (its root URL and CA file), with the sync's timeouts.
 * *out is freed with http_client_free. */
int sync_client_open(struct instance *device, struct http_client **out, struct op_err *e);

/* Turns a reply that is not what was expected into an error: the code from the status
 * (401 OP_EUNAUTH, 403 OP_EFORBIDDEN, 404 OP_ENOTFOUND, 409 OP_ECONFLICT, 429 OP_ETHROTTLED,
 * 503 OP_EBUSY, other 4xx OP_EINPUT, else OP_EIO) and a message "central refused WHAT
 * (STATUS): MESSAGE" with central's own message from its JSON error body. */
int sync_reply_error(const struct http_reply *r, const char *what, struct op_err *e);

#endif
