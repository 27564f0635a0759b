/*
 * app/users.h - the users of an instance as the command line and the web server both see
 * them: list, add, update, delete, password resets, and the public JSON shape of a user.
 *
 * Every operation takes the instance first, validates its input, owns its transaction and
 * never prints nor reads the terminal: the caller reads a password and passes it in. The
 * store keeps the rules of what a record may hold (store/users.h users_check); the rules
 * kept here are those of the application: the super-user is never deleted, a sync-manager
 * has an organisation and only it has one, users are added and changed on central only,
 * and a password reset on central keeps the user's vault key pair (recovered from escrow)
 * unless new keys are asked for.
 */
#ifndef OUTPOST_APP_USERS_H
#define OUTPOST_APP_USERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/vault.h"
#include "instance/instance.h"
#include "store/users.h"

/* The public JSON shape of a user (users list --json, users add --json): id, login, role,
 * label, first_name, last_name, mail, interface_lang, default_lang, org_id,
 * vault_public_key, version, created_at, updated_at; never the password record nor the
 * wrapped vault key. The caller owns the object. */
json_t *app_user_json(const struct user *u);

/* OP_EINPUT unless `role` names a role a user can have (the four of
 * user_role_is_valid, or super-user). */
int app_users_check_role(const char *role, struct op_err *e);

/* Calls fn for each user (of `role`, or all if NULL) ordered by login (store/users.h); a
 * non-zero return stops and is returned. No statement is open during the call, so fn may use
 * the database (even list users again). */
typedef int (*app_user_fn)(const struct user *u, void *ctx);
int app_users_list(struct instance *inst, const char *role, app_user_fn fn, void *ctx,
                   struct op_err *e);

/* A new user (users add). The strings are borrowed. */
struct app_user_new {
    const char *login;
    const char *role;       /* test-taker, proctor, test-center-admin or sync-manager */
    const char *org_id;     /* a sync-manager's organisation: required there, refused elsewhere */
    const char *label;      /* NULL: the login */
    const char *first_name; /* the optional fields may be NULL */
    const char *last_name;
    const char *mail;
    const char *lang; /* interface and default language, e.g. en-US */
};

/* Checks a new user without touching the instance, so that a command can refuse before it
 * asks for the password. app_users_add checks again. */
int app_users_check_new(const struct app_user_new *in, struct op_err *e);

/* OP_EINPUT (field "password") unless `password` (len bytes) is one the instance's password
 * policy accepts for the user `login` (instance/config.h, auth/policy.h): not empty, long
 * enough, not the login, not a common password. The message names the rule broken, never the
 * password. app_users_add and app_users_passwd check it; the imports check every row so. */
int app_users_check_password(const struct instance *inst, const char *login, const char *password,
                             size_t len, struct op_err *e);

/* Checks that `inst` can add users or reset passwords (a central with its master key),
 * before the caller asks for a password. */
int app_users_check_central(struct instance *inst, const char *what, struct op_err *e);

/* Adds a user with `password` (len bytes): credentials and a vault key pair escrowed under
 * central's master key. On success *out (may be NULL) holds the stored user; the caller
 * clears it (user_clear). OP_ECONFLICT if the login exists; OP_EINPUT (field "password") if
 * the password policy refuses the password (app_users_check_password). */
int app_users_add(struct instance *inst, const struct app_user_new *in, const char *password,
                  size_t len, struct user *out, struct op_err *e);

/* Changes the profile of the user with `id`, read by the caller at `version` (OP_ECONFLICT
 * if it changed since). Passwords are not changed here (app_users_passwd): `ch` may not set
 * USER_SET_CREDENTIALS. The super-user's role cannot change, nor can another user become
 * super-user. A change to the values the user has already writes nothing (no new version).
 * On success *out (may be NULL) holds the stored user (user_clear). */
int app_users_update(struct instance *inst, const char *id, int64_t version,
                     const struct user_changes *ch, struct user *out, struct op_err *e);

/* Deletes the user `login` (central only); the super-user cannot be deleted. */
int app_users_delete(struct instance *inst, const char *login, struct op_err *e);

/* OP_EINPUT (field "lang") unless `lang` is a language tag (en-US, fr, pt-BR): the same rule
 * for users add, users update, the imports and the setup file. NULL passes (no language). */
int app_users_check_lang(const char *lang, struct op_err *e);

/* users update LOGIN, on central: the fields of `ch` (USER_SET_LABEL, names, mail, languages,
 * and the organisation of a sync manager; never the login, role or password) changed on the
 * user as they are now (the version read in the same transaction). OP_EINPUT when nothing is
 * to change or a field is refused; *out (may be NULL) is the stored user (user_clear).
 * A change to the values the user has already writes nothing and keeps the version;
 * *changed (may be NULL) says whether anything was written. */
int app_users_update_login(struct instance *inst, const char *login, const struct user_changes *ch,
                           struct user *out, int *changed, struct op_err *e);

/* A password reset (users passwd). */
struct app_user_passwd {
    const char *login;
    int new_keys;       /* a new vault key pair: after a leaked password or a stolen device */
    int64_t if_version; /* 0, or the version the caller read: OP_ECONFLICT if it changed */
};

/* Checks everything app_users_passwd needs but the password: the user exists, a device
 * changes only its super-user's password, and on central the escrow copy can be opened.
 * For a command to refuse before it asks for the password. */
int app_users_passwd_check(struct instance *inst, const struct app_user_passwd *in,
                           struct op_err *e);

/* Sets the password of in->login. On central the user's vault key pair is recovered from
 * escrow and wrapped under the new password (unless in->new_keys, or the user has no escrow
 * copy: then a new pair); on a device only the super-user's password changes here. The new
 * vault public key is written to public_key (may be NULL). The password policy applies
 * (app_users_check_password), on central and on a device alike. */
int app_users_passwd(struct instance *inst, const struct app_user_passwd *in, const char *password,
                     size_t len, char public_key[VAULT_PUBLIC_B64_LEN], struct op_err *e);

#endif
