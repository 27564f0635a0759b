/*
 * credentials.h - everything derived from a user's password when it is set: the Argon2id
 * password record (auth/password.h) and, from the same derivation, the user's vault (the
 * wrapped secret key, crypto/vault.h). `users add`, `users passwd` and `import-users` all go
 * through here, so every way of setting a password produces the same things.
 *
 * credentials_make is pure computation (no database) and safe to call from several threads at
 * once: import-users hashes its rows in parallel, then stores them in one transaction.
 */
#ifndef OUTPOST_AUTH_CREDENTIALS_H
#define OUTPOST_AUTH_CREDENTIALS_H

#include <stddef.h>

#include "auth/password.h"
#include "base/err.h"
#include "store/db.h"

struct credentials {
    char password_record[PASSWORD_RECORD_MAX];
};

/* Derives the credentials of user `user_id` for `password`. */
int credentials_make(const struct password_cost *cost, const char *user_id, const char *password,
                     size_t len, struct credentials *out, struct op_err *e);

/* Stores them for an existing user (inside the caller's transaction); bumps the version. */
int credentials_store(struct db *db, const char *user_id, const struct credentials *c,
                      struct op_err *e);

/* Wipes the struct. */
void credentials_wipe(struct credentials *c);

#endif
