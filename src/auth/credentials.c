/* credentials.c - password-derived credentials of a user (see credentials.h). */
#include "auth/credentials.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store/meta.h"
#include "store/testcenters.h"
#include "store/users.h"

int credentials_make(const struct password_cost *cost, const char *user_id, const char *password,
                     size_t len, const struct credentials_keys *keys, struct credentials *out,
                     struct op_err *e)
{
    memset(out, 0, sizeof *out);
    unsigned char kek[PASSWORD_KEK_BYTES];
    if (password_hash(password, len, cost, out->password_record, kek, e) != 0)
        return e->code;
    unsigned char pk[VAULT_PUBLIC_BYTES], sk[VAULT_SECRET_BYTES];
    if (keys && keys->secret_key) {
        memcpy(sk, keys->secret_key, sizeof sk);
        crypto_scalarmult_base(pk, sk);
    } else {
        vault_keypair(pk, sk);
    }
    unsigned char wrapped[VAULT_WRAPPED_BYTES];
    int rc = vault_wrap(sk, user_id, kek, wrapped, e);
    if (rc == 0) {
        vault_to_text(pk, sizeof pk, out->vault_public_key, sizeof out->vault_public_key);
        vault_to_text(wrapped, sizeof wrapped, out->vault_secret_wrapped,
                      sizeof out->vault_secret_wrapped);
    }
    if (rc == 0 && keys && keys->master) {
        unsigned char escrow[VAULT_ESCROW_BYTES];
        rc = vault_escrow(sk, user_id, keys->master, escrow, e);
        if (rc == 0)
            vault_to_text(escrow, sizeof escrow, out->vault_secret_escrow,
                          sizeof out->vault_secret_escrow);
    }
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(kek, sizeof kek);
    if (rc != 0)
        sodium_memzero(out, sizeof *out);
    return rc;
}

int credentials_recover(const struct key *master, const struct user *u,
                        unsigned char sk[VAULT_SECRET_BYTES], struct op_err *e)
{
    if (!u->vault_secret_escrow || !u->vault_secret_escrow[0])
        return err_set(e, OP_ENOTFOUND, "user %s has no escrow copy of their vault key",
                       u->login ? u->login : u->id);
    unsigned char escrow[VAULT_ESCROW_BYTES];
    if (vault_from_text(u->vault_secret_escrow, escrow, sizeof escrow, "vault escrow copy", e) != 0)
        return err_prefix(e, "user %s", u->login ? u->login : u->id);
    return vault_recover(escrow, sizeof escrow, u->id, master, sk, e);
}

int credentials_recover_in(struct db *db, const char *keys_dir, const struct user *u,
                           unsigned char sk[VAULT_SECRET_BYTES], struct op_err *e)
{
    if (!u->vault_secret_escrow || !u->vault_secret_escrow[0])
        return err_set(e, OP_ENOTFOUND, "user %s has no escrow copy of their vault key",
                       u->login ? u->login : u->id);
    unsigned char escrow[VAULT_ESCROW_BYTES];
    if (vault_from_text(u->vault_secret_escrow, escrow, sizeof escrow, "vault escrow copy", e) != 0)
        return err_prefix(e, "user %s", u->login ? u->login : u->id);
    char id[KEY_ID_HEX_LEN];
    sodium_bin2hex(id, sizeof id, escrow + 1, KEY_ID_BYTES);
    struct key *master = key_new();
    if (!master)
        return err_set(e, OP_ENOMEM, "out of memory");
    int rc = keys_load_master_by_id(keys_dir, id, master, e);
    if (rc == 0)
        rc = vault_recover(escrow, sizeof escrow, u->id, master, sk, e);
    key_free(master);
    if (rc == OP_ENOTFOUND) {
        char fact[64];
        snprintf(fact, sizeof fact, "lost-master-key:%s", id);
        struct op_err why = *e;
        int given_up = meta_has(db, fact, e);
        if (given_up < 0)
            return given_up;
        *e = why;
        if (!given_up)
            return err_set(e, OP_ESTATE,
                           "user %s: the escrow copy of their vault key is under master key %s, "
                           "which is not in %s: restore its key file from a backup (as "
                           "master-%s.key) and run again",
                           u->login ? u->login : u->id, id, keys_dir, id);
    }
    return rc;
}

int credentials_unlock(const struct user *u, const char *password, size_t len,
                       unsigned char pk[VAULT_PUBLIC_BYTES], unsigned char sk[VAULT_SECRET_BYTES],
                       struct op_err *e)
{
    if (!u->vault_secret_wrapped || !u->vault_public_key)
        return err_set(e, OP_ESTATE, "user %s has no vault yet; set their password on central",
                       u->login ? u->login : u->id);
    unsigned char wrapped[VAULT_WRAPPED_BYTES];
    if (vault_from_text(u->vault_secret_wrapped, wrapped, sizeof wrapped, "vault", e) != 0 ||
        vault_from_text(u->vault_public_key, pk, VAULT_PUBLIC_BYTES, "vault public key", e) != 0)
        return OP_EINPUT;
    unsigned char kek[PASSWORD_KEK_BYTES];
    int rc = password_verify(u->password_hash, password, len, kek, e);
    if (rc == 0)
        rc = vault_unwrap(wrapped, sizeof wrapped, u->id, kek, sk, e);
    sodium_memzero(kek, sizeof kek);
    if (rc == 0) {
        /* The public key is synchronised in clear: make sure it belongs to this secret key, so
         * nothing is ever sealed to a substituted key. */
        unsigned char derived[VAULT_PUBLIC_BYTES];
        crypto_scalarmult_base(derived, sk);
        if (sodium_memcmp(derived, pk, VAULT_PUBLIC_BYTES) != 0) {
            sodium_memzero(sk, VAULT_SECRET_BYTES);
            rc = err_set(e, OP_ECRYPTO, "user %s: vault public key does not match the vault",
                         u->login ? u->login : u->id);
        }
    }
    return rc;
}

void credentials_changes(const struct credentials *c, struct user_changes *ch)
{
    ch->set |= USER_SET_CREDENTIALS;
    ch->password_hash = c->password_record;
    ch->vault_public_key = c->vault_public_key;
    ch->vault_secret_wrapped = c->vault_secret_wrapped;
    ch->vault_secret_escrow = c->vault_secret_escrow[0] ? c->vault_secret_escrow : NULL;
}

void credentials_apply(struct credentials *c, struct user *u)
{
    struct user_changes ch = {0};
    credentials_changes(c, &ch);
    user_apply_changes(u, &ch);
}

int credentials_store(struct db *db, const char *user_id, int64_t version,
                      const struct credentials *c, struct op_err *e)
{
    struct user u;
    int rc = users_get_by_id(db, user_id, &u, e);
    if (rc != 0)
        return rc;
    int new_key = !u.vault_public_key || strcmp(u.vault_public_key, c->vault_public_key) != 0;
    user_clear(&u);
    struct user_changes ch = {0};
    credentials_changes(c, &ch);
    rc = users_update(db, user_id, version, &ch, NULL, e);
    /* a new key pair (not the same one re-wrapped): re-send what is sealed to the old one */
    if (rc == 0 && new_key)
        rc = testcenters_reseal_to_user(db, user_id, e);
    return rc;
}

void credentials_wipe(struct credentials *c)
{
    sodium_memzero(c, sizeof *c);
}
