/*
 * weblogin.h - logging a person in on a device's web pages with their own password
 * (issue 12; docs/web.md). The device knows its users from central's feed (store/synced.h:
 * each user record carries the Argon2id password record and the vault wrapped under the
 * password's KEK, sync/pull.h). A login:
 *
 *   1. is refused before any password is checked when throttled (app/throttle.h, kind
 *      "weblogin": THROTTLE_NAME_FAILURES per login and THROTTLE_ADDR_FAILURES per address
 *      within THROTTLE_WINDOW_S): OP_ETHROTTLED, e->retry_after;
 *   2. finds the synced user of that login and opens their vault with the password
 *      (auth/credentials.h credentials_unlock: verifier, then the vault's tag, then the public
 *      key checked against the secret one): the key pair goes to the caller's memory (the web
 *      session's sodium_malloc'ed slot, http/websession.h), and the profile sealed to them
 *      gives their label;
 *   3. a login the device does not know, on a device not yet enrolled, is tried as a sync
 *      manager's enrolment with central (the caller's `enrol`, which is sync/enrol.h's
 *      sync_enrol: the same code path as `outpost enrol`); once central accepts, the person
 *      is logged in as that sync manager, without a vault key (the device receives their
 *      record at the first sync);
 *   4. a wrong password and an unknown login are the same OP_EUNAUTH "wrong login or
 *      password", cost the same Argon2id run, and count as a failure; a success forgets the
 *      login's failures.
 */
#ifndef OUTPOST_APP_WEBLOGIN_H
#define OUTPOST_APP_WEBLOGIN_H

#include <stddef.h>

#include "base/err.h"
#include "crypto/vault.h"
#include "instance/instance.h"

#define WEBLOGIN_BODY_MAX     4096
#define WEBLOGIN_LOGIN_MAX    255
#define WEBLOGIN_PASSWORD_MAX 1024
#define WEBLOGIN_ID_MAX       64
#define WEBLOGIN_TEXT_MAX     256

/* The login body {"login", "password"} (unknown members ignored). The password is written
 * into the caller's `password` buffer (WEBLOGIN_PASSWORD_MAX + 1 bytes: the caller wipes it). */
struct weblogin_body {
    char login[WEBLOGIN_LOGIN_MAX + 1];
    size_t password_len;
};

/* Parses `len` bytes of a login body: OP_EINPUT naming the field for a body over
 * WEBLOGIN_BODY_MAX, not a JSON object, a member missing or not a string, an empty or too
 * long login or password, a login with a control character. Pure; fuzzed
 * (tests/fuzz/fuzz_web_session.c). */
int weblogin_body_parse(const char *body, size_t len, struct weblogin_body *out, char *password,
                        struct op_err *e);

/* The enrolment handshake, given by the caller (it sits above src/app): enrols this device
 * with central as sync manager `login`, filling `org_id` (WEBLOGIN_TEXT_MAX bytes). 0 when
 * enrolled; OP_ECONFLICT when the device is enrolled already and OP_ENOTFOUND when no
 * central is registered (the login is then unknown); central's refusals otherwise. */
typedef int (*weblogin_enrol_fn)(struct instance *device, const char *login, const char *password,
                                 char *org_id, void *ctx, struct op_err *e);

/* The `field` of an error that came from central during an enrolment at login (central
 * unreachable, or its refusal): the server tells the page so. */
#define WEBLOGIN_FIELD_CENTRAL "central"

struct weblogin_request {
    const char *login;
    const char *password;
    size_t password_len;
    const char *remote;      /* the client's address, for the throttle (NULL: none) */
    weblogin_enrol_fn enrol; /* NULL: no enrolment at login */
    void *enrol_ctx;
};

struct weblogin_result {
    char user_id[WEBLOGIN_ID_MAX]; /* "" for a sync manager logged in by enrolment */
    char login[WEBLOGIN_LOGIN_MAX + 1];
    char label[WEBLOGIN_TEXT_MAX];  /* the profile's label; the login when it has none */
    char role[32];                  /* the store's role: "test-taker", "proctor", ... */
    char org_id[WEBLOGIN_TEXT_MAX]; /* a sync manager's organisation */
    int has_key;                    /* the key pair was written to pk/sk */
    int enrolled;                   /* this login enrolled the device */
};

/* Logs `req->login` in (see above). `pk` and `sk` are the caller's memory for the key pair
 * (wiped here on failure). Device only (OP_EFORBIDDEN on central). */
int app_weblogin(struct instance *device, const struct weblogin_request *req,
                 unsigned char pk[VAULT_PUBLIC_BYTES], unsigned char sk[VAULT_SECRET_BYTES],
                 struct weblogin_result *out, struct op_err *e);

/* ---- central's backoffice (app/weblogin_central.c) ----
 *
 * The super-user and test-center administrators log in to central's backoffice with the
 * same endpoint, session and body (docs/web.md). Central holds each user's Argon2id record,
 * so the password is checked against it (no vault is opened: the session holds no key).
 * The same throttle (kind "weblogin"), the same one answer for a wrong login and a wrong
 * password after the same work. A right password of a user whose role may not use the
 * backoffice (test taker, proctor, sync manager; app/backoffice.h) is OP_EFORBIDDEN with
 * e->field BO_FIELD_ROLE ("role"), after the password was checked, so that the refusal
 * tells nothing to someone who does not know the password.
 *
 * Central only (OP_EFORBIDDEN on a device). req->enrol is ignored. out->has_key is 0. */
int app_weblogin_central(struct instance *central, const struct weblogin_request *req,
                         struct weblogin_result *out, struct op_err *e);

#endif
