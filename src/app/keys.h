/*
 * keys.h - an instance's keys as the command line and the HTTP server both handle them:
 * `keys show` (the public side, what a device pins and an operator compares), `keys rotate`
 * (a new results key on central), setup-central (central's keys, with the lost-key check of
 * instance/keycheck.h) and setup-device (the device's signing key). The key files themselves
 * are crypto/keys.h; secret keys never leave this layer in an output.
 */
#ifndef OUTPOST_APP_KEYS_H
#define OUTPOST_APP_KEYS_H

#include <jansson.h>

#include "base/err.h"
#include "crypto/keys.h"
#include "instance/instance.h"

/* The public description of the instance's keys, *out owned by the caller (json_decref):
 * {role, instance_id, results_keys: [{id, public_key, fingerprint_sha256, created, serial,
 * current}], signing_key: {id, public_key, fingerprint_sha256, created}, master_key: {id,
 * created}, restored_master_keys: [{id, created}]}; a device has only role, instance_id and
 * signing_key. Every key file is loaded and checked on the way. */
int app_keys_show(struct instance *inst, json_t **out, struct op_err *e);

/* Central: adds a new results key, which becomes current, and records it in the database
 * (store/results_keys.h). *out (public part and id; wipe with key_wipe) is the new key. */
int app_keys_rotate(struct instance *inst, struct key *out, struct op_err *e);

/* {id, public_key, fingerprint_sha256, created} of a key, and "serial" for a results key. */
json_t *app_key_json(const struct key *k);

/* What setup-central and setup-device did. */
struct app_keys_setup_report {
    int created;                               /* key files created */
    int kept;                                  /* key files that existed and were kept */
    char instance_id[UUID_STR_LEN];            /* the device's id (setup-device) */
    char key_id[KEY_ID_HEX_LEN];               /* central: current results key; device: signing */
    char fingerprint[KEY_FINGERPRINT_HEX_LEN]; /* its SHA-256 fingerprint */
    int replaced;                              /* a lost key was replaced (replace_lost_key) */
    /* Lines about keys that data depends on and that are missing ("missing master key ...",
     * "replaced lost results key ..."), for the operator; NULL if none. Owned by the report
     * (app_keys_setup_report_free). */
    char *notes;
};

struct app_keys_setup_central_request {
    /* Make a new key in place of a lost one that data depends on (escrow copies, sealed
     * results). Without it such a setup is refused with OP_ESTATE naming the file to restore. */
    int replace_lost_key;
};

/* setup-central: creates the missing keys of a central (existing ones are kept), records the
 * results keys in the database and reports the current results key. Idempotent. The caller
 * frees *rep with app_keys_setup_report_free whatever the outcome. */
int app_keys_setup_central(struct instance *inst, const struct app_keys_setup_central_request *req,
                           struct app_keys_setup_report *rep, struct op_err *e);

/* setup-device: creates the device's signing key if missing and reports it. Idempotent. */
int app_keys_setup_device(struct instance *inst, struct app_keys_setup_report *rep,
                          struct op_err *e);

void app_keys_setup_report_free(struct app_keys_setup_report *rep);

/* {created, kept, results_key_id, results_key_fingerprint_sha256} */
json_t *app_keys_setup_central_json(const struct app_keys_setup_report *rep);
/* {created, kept, device_id, signing_key_id, signing_key_fingerprint_sha256} */
json_t *app_keys_setup_device_json(const struct app_keys_setup_report *rep);

#endif
