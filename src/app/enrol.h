/*
 * enrol.h - enrolment of a device on central (docs/sync-protocol.md, "Enrolment"): a sync
 * manager's login and password and the device's public signing key in; client credentials
 * bound to that sync manager, their organisation and that device key out, with central's
 * public keys for the device to pin. The HTTP handler parses the body with auth/enrol.h,
 * calls app_enrol and answers enrol_response_json(&out.msg).
 */
#ifndef OUTPOST_APP_ENROL_H
#define OUTPOST_APP_ENROL_H

#include <stddef.h>

#include "auth/enrol.h"
#include "base/err.h"
#include "instance/instance.h"

struct app_enrol_request {
    const char *login;
    const char *password;
    size_t password_len;
    const char *device_id; /* a UUID: the device instance's id */
    const char *label;     /* the device's label, 1 to 255 bytes of text */
    unsigned char signing_public_key[KEY_PUBLIC_BYTES];
};

/* The request of a parsed body (borrowed from *m). */
void app_enrol_request_from(const struct enrol_request *m, struct app_enrol_request *out);

struct app_enrol_out {
    /* client_id, client_secret (shown once: the caller wipes *out after sending it), org_id,
     * device_id, central's signing key (id, fingerprint) and current results key with its
     * signature by the signing key. */
    struct enrol_response msg;
};

/* Checks the password of the sync manager `login` (wrong password and unknown login: the same
 * OP_EUNAUTH; throttled per login and per address, app/throttle.h), then, in one
 * transaction, enrols the device (app/devices.h: OP_ECONFLICT for a device or key enrolled
 * already, saying to revoke it first) and creates its OAuth2 client (app/oauth.h), and resets
 * the login's failures. OP_EFORBIDDEN for a user who is not a sync manager or has no
 * organisation; OP_EINPUT for a bad device id, label or key. The caller wipes *out with
 * app_enrol_out_wipe whatever the outcome. */
int app_enrol(struct instance *central, const struct app_enrol_request *req,
              const char *remote_addr, struct app_enrol_out *out, struct op_err *e);
void app_enrol_out_wipe(struct app_enrol_out *out);

/* Central's public keys as an enrolment answers them (GET /api/v1/keys): the signing key (id,
 * fingerprint), the current results key and its signature by the signing key
 * (enrol_results_key_sign); the credential fields of *out stay empty. */
int app_enrol_central_keys(struct instance *central, struct enrol_response *out, struct op_err *e);

#endif
