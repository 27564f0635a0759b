/*
 * users.h - users: test takers, proctors, test-center administrators, sync managers and the
 * super-user. One role per user. The password is stored only as an Argon2id record
 * (auth/password.h).
 *
 * All writes must run inside a transaction the caller opened (db_begin); they keep the change
 * feed (feed.h) up to date themselves.
 */
#ifndef OUTPOST_STORE_USERS_H
#define OUTPOST_STORE_USERS_H

#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "store/db.h"

#define ROLE_SUPER_USER        "super-user"
#define ROLE_TEST_TAKER        "test-taker"
#define ROLE_PROCTOR           "proctor"
#define ROLE_TEST_CENTER_ADMIN "test-center-admin"
#define ROLE_SYNC_MANAGER      "sync-manager"

/* 1 if `role` is one of the four roles that can be imported or added (not super-user). */
int user_role_is_valid(const char *role);
/* "test-taker, proctor, test-center-admin, sync-manager" for messages. */
const char *user_roles_list(void);

struct user {
    char id[UUID_STR_LEN];
    char *login;
    char *role;
    char *label;
    char *first_name;
    char *last_name;
    char *mail;
    char *interface_lang;
    char *default_lang;
    char *org_id;        /* sync managers only */
    char *password_hash; /* Argon2id record */
    /* The vault (crypto/vault.h), base64: public key, secret key wrapped under the password
     * KEK, escrow copy under central's master key (central only; NULL on devices and for the
     * super-user). Set together with password_hash (auth/credentials.h). */
    char *vault_public_key;
    char *vault_secret_wrapped;
    char *vault_secret_escrow;
    int64_t version;
    char created_at[TIMESTAMP_STR_LEN];
    char updated_at[TIMESTAMP_STR_LEN];
};

/* Frees the strings a struct user owns (those filled by users_get_*) and zeroes it. */
void user_clear(struct user *u);

/* Looks a user up; OP_ENOTFOUND (with a message naming the login) if there is none. On
 * success the caller owns the strings in *out (user_clear). */
int users_get_by_login(struct db *db, const char *login, struct user *out, struct op_err *e);
int users_get_by_id(struct db *db, const char *id, struct user *out, struct op_err *e);

/* The store's own rules for what a user record may hold, whatever door it came through
 * (users add, import-users, sync later): a login of 1 to 255 bytes, and a known role;
 * login, label, first and last name, mail, languages and organisation id all text by the
 * rule of base/text.h (valid UTF-8, no control character: no newline, tab, ESC, DEL or C1
 * control; no space at either end). The optional fields may be NULL or "". OP_EINPUT with a
 * message naming the field (and never echoing the bad text) if something breaks them. */
int users_check(const struct user *u, struct op_err *e);

/* Inserts a new user; fills u->id (if empty), version and time stamps. OP_ECONFLICT if the
 * login exists. Checks users_check first. */
int users_insert(struct db *db, struct user *u, struct op_err *e);

/* Replaces the profile fields and password record of the user with u->id; bumps the version.
 * Checks users_check first. */
int users_update(struct db *db, struct user *u, struct op_err *e);

/* Sets the password record and the vault columns together; bumps the version. */
int users_set_credentials(struct db *db, const char *id, const char *password_hash,
                          const char *vault_public_key, const char *vault_secret_wrapped,
                          const char *vault_secret_escrow, struct op_err *e);

/* Deletes a user, removing them from test-center staff and eligibilities first (those
 * records get a new version). */
int users_delete(struct db *db, const char *id, struct op_err *e);

/* Calls `fn` for each user (of `role`, or all if NULL) ordered by login. The struct passed to
 * `fn` is only valid during the call. A non-zero return from fn stops and is returned. */
typedef int (*users_each_fn)(const struct user *u, void *ctx);
int users_each(struct db *db, const char *role, users_each_fn fn, void *ctx, struct op_err *e);

int users_count(struct db *db, const char *role, int64_t *n, struct op_err *e);

#endif
