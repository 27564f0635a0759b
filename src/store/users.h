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

/* What users_update changes: the fields whose USER_SET_* bit is in `set`; the others keep
 * their stored value. A set optional field may be NULL, which clears it. The four credential
 * columns go together (USER_SET_CREDENTIALS), as auth/credentials.h makes them. The strings
 * are borrowed. */
enum {
    USER_SET_LOGIN = 1 << 0,
    USER_SET_ROLE = 1 << 1,
    USER_SET_LABEL = 1 << 2,
    USER_SET_FIRST_NAME = 1 << 3,
    USER_SET_LAST_NAME = 1 << 4,
    USER_SET_MAIL = 1 << 5,
    USER_SET_INTERFACE_LANG = 1 << 6,
    USER_SET_DEFAULT_LANG = 1 << 7,
    USER_SET_ORG_ID = 1 << 8,
    USER_SET_CREDENTIALS = 1 << 9,
};
struct user_changes {
    unsigned set;
    const char *login, *role, *label, *first_name, *last_name, *mail, *interface_lang,
        *default_lang, *org_id;
    const char *password_hash, *vault_public_key, *vault_secret_wrapped, *vault_secret_escrow;
};

/* Points the fields of `u` that `ch` sets at the strings of `ch` (borrowed): the record as it
 * would be after the change, for users_check, or a new record for users_insert. */
void user_apply_changes(struct user *u, const struct user_changes *ch);

/* Writes the fields `ch` sets, and only those, in the user with `id`, provided the stored
 * version is still `version` (the one the caller read): otherwise OP_ECONFLICT, so that two
 * administrators editing the same user never silently overwrite each other. The record as
 * changed must pass users_check. Bumps the version when `ch` sets anything; *new_version (may
 * be NULL) receives the version after. OP_ENOTFOUND if there is no such user. */
int users_update(struct db *db, const char *id, int64_t version, const struct user_changes *ch,
                 int64_t *new_version, struct op_err *e);

/* Deletes a user, removing them from test-center staff and eligibilities first (those
 * records get a new version). */
int users_delete(struct db *db, const char *id, struct op_err *e);

/* The users (of `role`, or all if NULL) ordered by login, a page at a time (db.h): up to
 * `limit` rows after the login after->col[0] (a key of one part). The rows are struct user. */
int users_page(struct db *db, const char *role, const struct db_key *after, int limit,
               struct db_page *out, struct op_err *e);
/* Opens a cursor on the same list (db_cursor_next yields const struct user *). */
#define USERS_CURSOR_PAGE 100
void users_cursor(struct db_cursor *c, const char *role);

int users_count(struct db *db, const char *role, int64_t *n, struct op_err *e);

/* ---- the backoffice's list (app/bo_users.h) ---- */

#define USERS_SEARCH_MAX 100 /* bytes of the search text */

/* What the backoffice's users list shows. */
struct users_search {
    const char *role; /* NULL: every role */
    const char *text; /* NULL or "": everyone; else a substring of the login, label, first
                         or last name, matched without regard to case (ASCII letters) */
    const char
        *admin_id;     /* NULL: every user; else only the users within the reach of that
                          test-center administrator (store/testcenters.h): staff of the
                          centers of their scope and test takers of those centers' eligibilities */
    const char *after; /* NULL or "": from the first; else the login after which to start */
    int limit;         /* 1 to DB_PAGE_MAX */
};

/* A page of the list, ordered by login: walks the unique index on login (or (role, login)
 * with a role), so a page costs the same wherever it starts, at any number of users; a
 * search text filters the rows walked. *rows (n of them, each cleared with user_clear, the
 * array freed with free) and *more when rows follow the last (its login is the next page's
 * `after`). OP_EINPUT for a limit out of range or a search text over USERS_SEARCH_MAX. */
int users_search_page(struct db *db, const struct users_search *q, struct user **rows, int *n,
                      int *more, struct op_err *e);

#endif
