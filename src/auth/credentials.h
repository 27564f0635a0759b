/*
 * credentials.h - everything derived from a user's password when it is set: the Argon2id
 * password record (auth/password.h) and, from the same derivation, the user's vault (the
 * wrapped secret key, crypto/vault.h) with, on central, its escrow copy under the master key.
 * `users add`, `users passwd` and `import-users` all go through here, so every way of setting
 * a password produces the same things, for one Argon2id run.
 *
 * credentials_make is pure computation (no database, no files) and safe to call from several
 * threads at once: import-users hashes its rows in parallel, then stores them in one
 * transaction (credentials_apply for users_insert, credentials_changes for users_update,
 * or credentials_store).
 */
#ifndef OUTPOST_AUTH_CREDENTIALS_H
#define OUTPOST_AUTH_CREDENTIALS_H

#include <stddef.h>

#include "auth/password.h"
#include "base/err.h"
#include "crypto/keys.h"
#include "crypto/vault.h"
#include "store/db.h"
#include "store/users.h"

struct credentials {
    char password_record[PASSWORD_RECORD_MAX];
    char vault_public_key[VAULT_PUBLIC_B64_LEN];      /* base64 */
    char vault_secret_wrapped[VAULT_WRAPPED_B64_LEN]; /* base64, under the password KEK */
    char vault_secret_escrow[VAULT_ESCROW_B64_LEN];   /* base64, under the master key; "" if
                                                         no master key was given */
};

/* What credentials_make needs besides the password; both may be NULL. */
struct credentials_keys {
    const struct key *master; /* central's master key: escrow a copy; NULL: no escrow copy */
    /* The user's existing vault secret key (recovered from escrow, or unwrapped with the old
     * password): re-wrap the same key pair so what was sealed to the user stays readable.
     * NULL: a new key pair (a new user). */
    const unsigned char *secret_key;
};

/* Derives the credentials of user `user_id` for `password`. `keys` may be NULL. */
int credentials_make(const struct password_cost *cost, const char *user_id, const char *password,
                     size_t len, const struct credentials_keys *keys, struct credentials *out,
                     struct op_err *e);

/* Recovers an existing user's vault secret key from their escrow copy (central). Returns
 * OP_ENOTFOUND if the user has no escrow copy (a device's super-user):
 * the caller then makes a new key pair. */
int credentials_recover(const struct key *master, const struct user *u,
                        unsigned char sk[VAULT_SECRET_BYTES], struct op_err *e);

/* Like credentials_recover, with the master key the escrow copy names, found in the key
 * folder `keys_dir`: master.key, or a master key restored beside it as master-<id>.key
 * (crypto/keys.h). When that key is in neither: OP_ENOTFOUND (the caller makes a new key
 * pair) only if the operator gave it up with `setup-central --replace-lost-key` (recorded in
 * `db`, store/meta.h); otherwise OP_ESTATE, naming the key file and id to restore. */
int credentials_recover_in(struct db *db, const char *keys_dir, const struct user *u,
                           unsigned char sk[VAULT_SECRET_BYTES], struct op_err *e);

/* Device login: checks the password and opens the vault. Fails with OP_ECRYPTO "wrong
 * password" if either the verifier or the vault's tag does not match. */
int credentials_unlock(const struct user *u, const char *password, size_t len,
                       unsigned char pk[VAULT_PUBLIC_BYTES], unsigned char sk[VAULT_SECRET_BYTES],
                       struct op_err *e);

/* Points the credential fields of `u` at `c` (borrowed: `c` must outlive the use of `u`),
 * for users_insert. */
void credentials_apply(struct credentials *c, struct user *u);

/* Adds them to `ch` (borrowed, as above), for users_update. */
void credentials_changes(const struct credentials *c, struct user_changes *ch);

/* Stores them for an existing user (inside the caller's transaction), provided the user is
 * still at `version` (OP_ECONFLICT otherwise, users_update); bumps the version. */
int credentials_store(struct db *db, const char *user_id, int64_t version,
                      const struct credentials *c, struct op_err *e);

/* Wipes the struct. */
void credentials_wipe(struct credentials *c);

#endif
