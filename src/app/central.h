/*
 * central.h - the central server a device syncs with (TAO's RegisterHandShakeRootURL): its
 * root URL, the fingerprint its signing key must have (optional: without one the device trusts
 * the key central first presents, at enrolment), and a CA file to trust for its TLS
 * certificate (optional). Kept in the device's `meta` table under central-root-url,
 * central-signing-key-pin and central-ca-file.
 *
 * Registering checks that central answers GET /api/v1/health, unless told not to; an
 * unreachable central is a warning, never a refusal: devices are set up offline, before they
 * ever see the network central is on.
 */
#ifndef OUTPOST_APP_CENTRAL_H
#define OUTPOST_APP_CENTRAL_H

#include <jansson.h>

#include "base/err.h"
#include "base/sha256.h"
#include "http/url.h"
#include "instance/instance.h"

#define META_CENTRAL_ROOT_URL "central-root-url"
#define META_CENTRAL_PIN      "central-signing-key-pin"
#define META_CENTRAL_CA_FILE  "central-ca-file"
/* Central's results key that result envelopes are sealed to (hex) and its id, pinned at
 * enrolment and replaced only by a rotation signed with the pinned key (sync/enrol.h). */
#define META_CENTRAL_RESULTS_KEY    "central-results-key"
#define META_CENTRAL_RESULTS_KEY_ID "central-results-key-id"
#define CENTRAL_CA_FILE_MAX         4096

struct app_central_request {
    const char *root_url; /* any form http_root_url_normalise takes */
    const char *pin;      /* central's signing key fingerprint as `keys show` prints it on
                           * central (64 hex digits, colons and case ignored), or NULL */
    const char *ca_file;  /* a PEM CA bundle, or NULL for the system's */
    int no_check;         /* 1: do not try to reach central now */
};

struct app_central {
    char root_url[HTTP_URL_MAX];
    char pin[SHA256_HEX_LEN];          /* "" when none */
    char ca_file[CENTRAL_CA_FILE_MAX]; /* an absolute path, "" when none */
    /* app_central_register only: */
    int checked;              /* the health check was tried */
    int reachable;            /* and central answered 200 */
    char warning[OP_ERR_MAX]; /* why not, when checked and not reachable */
};

/* Registers central on a device: normalises the URL and the pin, checks that the CA file can
 * be read, tries GET /api/v1/health (unless no_check; outside any transaction), then stores
 * the three settings in one transaction (a setting not given is removed). *out tells what was
 * stored and how the check went. OP_EINPUT (field root-url, pin or ca-file) for bad values,
 * OP_ESTATE on central. */
int app_central_register(struct instance *inst, const struct app_central_request *req,
                         struct app_central *out, struct op_err *e);

/* The registered central; OP_ENOTFOUND when none is (register one first). */
int app_central_get(struct instance *inst, struct app_central *out, struct op_err *e);

/* Normalises a key fingerprint (64 hex digits, with or without colons, any case) to lower-case
 * hex in `out`; OP_EINPUT (field pin) otherwise. */
int app_central_normalise_pin(const char *in, char out[SHA256_HEX_LEN], struct op_err *e);

/* {root_url, signing_key_pin (null), ca_file (null)}, and after a registration
 * {checked, reachable, warning (null)}. */
json_t *app_central_json(const struct app_central *c, int with_check);

#endif
