/* test_vault.c - per-user vaults: only the user's own password opens their key and the data
 * sealed to them; resets keep the key pair; escrow copies are bound to their user. */
#include "testutil.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credentials.h"
#include "crypto/keys.h"
#include "crypto/vault.h"

static const struct password_cost cheap = {1, 8};
static const char *A_ID = "0b6a3b8e-3f5e-4c55-9d55-6f3f0b6a3b8e";
static const char *B_ID = "9a1c2d3e-4f50-4a6b-8c7d-8e9fa0b1c2d3";

/* A user struct whose fields point into `c` (as the store would return them). */
static struct user user_of(const char *id, struct credentials *c)
{
    struct user u;
    memset(&u, 0, sizeof u);
    assert_true(strlen(id) < sizeof u.id);
    memcpy(u.id, id, strlen(id) + 1);
    u.login = (char *)id;
    credentials_apply(c, &u);
    return u;
}

static void make(const char *id, const char *pw, const struct credentials_keys *keys,
                 struct credentials *c)
{
    struct op_err e = {0};
    if (credentials_make(&cheap, id, pw, strlen(pw), keys, c, &e) != 0)
        fail_msg("credentials_make: %s", e.msg);
}

static void test_right_password_opens_the_vault(void **state)
{
    (void)state;
    struct credentials c;
    make(A_ID, "alpha-pw", NULL, &c);
    struct user u = user_of(A_ID, &c);
    unsigned char pk[32], sk[32], derived[32];
    struct op_err e = {0};
    assert_int_equal(credentials_unlock(&u, "alpha-pw", 8, pk, sk, &e), 0);
    crypto_scalarmult_base(derived, sk);
    assert_memory_equal(derived, pk, 32);
}

static void test_wrong_password_does_not_open_the_vault(void **state)
{
    (void)state;
    struct credentials c;
    make(A_ID, "alpha-pw", NULL, &c);
    struct user u = user_of(A_ID, &c);
    unsigned char pk[32], sk[32];
    struct op_err e = {0};
    assert_int_equal(credentials_unlock(&u, "alpha-pX", 8, pk, sk, &e), OP_ECRYPTO);
    assert_string_equal(e.msg, "wrong password");
}

static void test_vault_tag_alone_rejects_a_wrong_password(void **state)
{
    (void)state;
    /* The verifier is right for "alpha-pw", but the vault was wrapped under another password:
     * the unwrap itself must refuse, so a device needs no separate password check. */
    struct credentials right, other;
    make(A_ID, "alpha-pw", NULL, &right);
    make(A_ID, "another", NULL, &other);
    struct user u = user_of(A_ID, &right);
    u.vault_secret_wrapped = other.vault_secret_wrapped;
    u.vault_public_key = other.vault_public_key;
    unsigned char pk[32], sk[32];
    struct op_err e = {0};
    assert_int_equal(credentials_unlock(&u, "alpha-pw", 8, pk, sk, &e), OP_ECRYPTO);
    unsigned char wrapped[VAULT_WRAPPED_BYTES], kek[32];
    assert_int_equal(vault_from_text(right.vault_secret_wrapped, wrapped, sizeof wrapped, "v", &e),
                     0);
    randombytes_buf(kek, sizeof kek);
    assert_int_equal(vault_unwrap(wrapped, sizeof wrapped, A_ID, kek, sk, &e), OP_ECRYPTO);
}

static void test_password_of_user_a_does_not_open_data_of_user_b(void **state)
{
    (void)state;
    struct credentials ca, cb;
    make(A_ID, "alpha-pw", NULL, &ca);
    make(B_ID, "bravo-pw", NULL, &cb);
    struct user ua = user_of(A_ID, &ca), ub = user_of(B_ID, &cb);
    unsigned char pkb[32], pka[32], ska[32], skb[32];
    struct op_err e = {0};
    assert_int_equal(vault_from_text(cb.vault_public_key, pkb, 32, "pk", &e), 0);
    const unsigned char msg[] = "B's profile: Bravo Example";
    unsigned char sealed[sizeof msg + VAULT_SEAL_OVERHEAD], opened[sizeof msg];
    assert_int_equal(vault_seal(pkb, msg, sizeof msg, sealed, &e), 0);
    /* A's password opens A's vault, and A's key does not open what was sealed to B */
    assert_int_equal(credentials_unlock(&ua, "alpha-pw", 8, pka, ska, &e), 0);
    assert_int_equal(vault_open(pka, ska, sealed, sizeof sealed, opened, &e), OP_ECRYPTO);
    assert_int_equal(vault_open(pkb, ska, sealed, sizeof sealed, opened, &e), OP_ECRYPTO);
    /* A's password does not open B's vault */
    assert_int_equal(credentials_unlock(&ub, "alpha-pw", 8, pkb, skb, &e), OP_ECRYPTO);
    /* B's own password does */
    assert_int_equal(credentials_unlock(&ub, "bravo-pw", 8, pkb, skb, &e), 0);
    assert_int_equal(vault_open(pkb, skb, sealed, sizeof sealed, opened, &e), 0);
    assert_memory_equal(opened, msg, sizeof msg);
}

static void test_vault_copied_to_another_user_does_not_open(void **state)
{
    (void)state;
    /* Same password on two users: A's wrapped key placed on B's record must not open,
     * because the user id is bound in as associated data. */
    struct credentials ca, cb;
    make(A_ID, "same-pw", NULL, &ca);
    make(B_ID, "same-pw", NULL, &cb);
    assert_string_not_equal(ca.vault_secret_wrapped, cb.vault_secret_wrapped);
    struct user ub = user_of(B_ID, &cb);
    ub.vault_secret_wrapped = ca.vault_secret_wrapped;
    ub.vault_public_key = ca.vault_public_key;
    unsigned char pk[32], sk[32];
    struct op_err e = {0};
    assert_int_equal(credentials_unlock(&ub, "same-pw", 7, pk, sk, &e), OP_ECRYPTO);
}

/* The whole of A's credentials (password record, wrapped key, public key) copied onto B's
 * row: the password check passes and the KEK is right, so only the user id bound in as
 * associated data stops A's password from opening a vault on B's row. */
static void test_all_credentials_of_a_copied_to_b_do_not_open_as_b(void **state)
{
    (void)state;
    struct credentials ca;
    make(A_ID, "alpha-pw", NULL, &ca);
    struct user ub = user_of(B_ID, &ca);
    unsigned char pk[32], sk[32];
    struct op_err e = {0};
    assert_int_equal(credentials_unlock(&ub, "alpha-pw", 8, pk, sk, &e), OP_ECRYPTO);
    assert_non_null(strstr(e.msg, "wrong password"));
    struct user ua = user_of(A_ID, &ca);
    assert_int_equal(credentials_unlock(&ua, "alpha-pw", 8, pk, sk, &e), 0);
}

static void test_password_reset_from_escrow_keeps_sealed_data_readable(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct op_err e = {0};
    struct key master;
    assert_int_equal(keys_setup_central(dir, NULL, &e), 0);
    assert_int_equal(keys_load_master(dir, &master, &e), 0);
    struct credentials_keys with_master = {&master, NULL};
    struct credentials old;
    make(A_ID, "old-password", &with_master, &old);
    assert_true(old.vault_secret_escrow[0] != '\0');
    unsigned char pk[32];
    assert_int_equal(vault_from_text(old.vault_public_key, pk, 32, "pk", &e), 0);
    const unsigned char msg[] = "content key of delivery D";
    unsigned char sealed[sizeof msg + VAULT_SEAL_OVERHEAD], opened[sizeof msg];
    assert_int_equal(vault_seal(pk, msg, sizeof msg, sealed, &e), 0);

    /* administrator's reset: recover from escrow, re-wrap under the new password */
    struct user u = user_of(A_ID, &old);
    unsigned char sk[32];
    assert_int_equal(credentials_recover(&master, &u, sk, &e), 0);
    struct credentials_keys rewrap = {&master, sk};
    struct credentials fresh;
    make(A_ID, "new-password", &rewrap, &fresh);
    assert_string_equal(fresh.vault_public_key, old.vault_public_key);
    assert_string_not_equal(fresh.vault_secret_wrapped, old.vault_secret_wrapped);

    struct user nu = user_of(A_ID, &fresh);
    unsigned char pk2[32], sk2[32];
    assert_int_equal(credentials_unlock(&nu, "old-password", 12, pk2, sk2, &e), OP_ECRYPTO);
    assert_int_equal(credentials_unlock(&nu, "new-password", 12, pk2, sk2, &e), 0);
    assert_int_equal(vault_open(pk2, sk2, sealed, sizeof sealed, opened, &e), 0);
    assert_memory_equal(opened, msg, sizeof msg);
    key_wipe(&master);
    testutil_rmdir(dir);
}

static void test_escrow_copy_opens_only_for_its_user_and_master_key(void **state)
{
    (void)state;
    char *d1 = testutil_tmpdir(), *d2 = testutil_tmpdir();
    struct op_err e = {0};
    struct key m1, m2;
    assert_int_equal(keys_setup_central(d1, NULL, &e), 0);
    assert_int_equal(keys_setup_central(d2, NULL, &e), 0);
    assert_int_equal(keys_load_master(d1, &m1, &e), 0);
    assert_int_equal(keys_load_master(d2, &m2, &e), 0);
    struct credentials_keys k1 = {&m1, NULL};
    struct credentials c;
    make(A_ID, "pw", &k1, &c);
    struct user u = user_of(A_ID, &c);
    unsigned char sk[32];
    assert_int_equal(credentials_recover(&m2, &u, sk, &e), OP_ECRYPTO);
    assert_non_null(strstr(e.msg, m1.id)); /* names the master key it needs */
    snprintf(u.id, sizeof u.id, "%s", B_ID);
    assert_int_equal(credentials_recover(&m1, &u, sk, &e), OP_ECRYPTO);
    snprintf(u.id, sizeof u.id, "%s", A_ID);
    assert_int_equal(credentials_recover(&m1, &u, sk, &e), 0);
    /* no escrow copy: a clear "not found" for the caller to make a new key pair */
    u.vault_secret_escrow = NULL;
    assert_int_equal(credentials_recover(&m1, &u, sk, &e), OP_ENOTFOUND);
    key_wipe(&m1);
    key_wipe(&m2);
    testutil_rmdir(d1);
    testutil_rmdir(d2);
}

static void test_altered_sealed_data_does_not_open(void **state)
{
    (void)state;
    unsigned char pk[32], sk[32];
    vault_keypair(pk, sk);
    const unsigned char msg[] = "x";
    unsigned char sealed[sizeof msg + VAULT_SEAL_OVERHEAD], opened[sizeof msg];
    struct op_err e = {0};
    assert_int_equal(vault_seal(pk, msg, sizeof msg, sealed, &e), 0);
    for (size_t i = 0; i < sizeof sealed; i++) {
        sealed[i] ^= 0x01;
        assert_int_equal(vault_open(pk, sk, sealed, sizeof sealed, opened, &e), OP_ECRYPTO);
        sealed[i] ^= 0x01;
    }
    assert_int_equal(vault_open(pk, sk, sealed, 10, opened, &e), OP_EINPUT);
}

static void test_damaged_vault_text_is_a_clear_error(void **state)
{
    (void)state;
    struct credentials c;
    make(A_ID, "pw", NULL, &c);
    struct user u = user_of(A_ID, &c);
    c.vault_secret_wrapped[10] = '*';
    unsigned char pk[32], sk[32];
    struct op_err e = {0};
    assert_int_equal(credentials_unlock(&u, "pw", 2, pk, sk, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "damaged"));
    u.vault_secret_wrapped = NULL;
    assert_int_equal(credentials_unlock(&u, "pw", 2, pk, sk, &e), OP_ESTATE);
}

struct job {
    char id[40];
    struct credentials c;
    int rc;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    struct op_err e = {0};
    j->rc = credentials_make(&cheap, j->id, "threaded", 8, NULL, &j->c, &e);
    return NULL;
}

static void test_credentials_make_runs_in_parallel_threads(void **state)
{
    (void)state;
    struct job jobs[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        snprintf(jobs[i].id, sizeof jobs[i].id, "00000000-0000-4000-8000-00000000000%d", i);
        pthread_create(&t[i], NULL, run_job, &jobs[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(jobs[i].rc, 0);
        struct user u = user_of(jobs[i].id, &jobs[i].c);
        unsigned char pk[32], sk[32];
        struct op_err e = {0};
        assert_int_equal(credentials_unlock(&u, "threaded", 8, pk, sk, &e), 0);
        if (i > 0)
            assert_string_not_equal(jobs[i].c.vault_public_key, jobs[0].c.vault_public_key);
    }
}

/* Two 1,000-character ids that differ only at the end: cut to fit a buffer they would bind
 * the same vault; they must be refused instead. */
static char *long_id(char last)
{
    char *id = malloc(1001);
    memset(id, 'a', 1000);
    id[999] = last;
    id[1000] = '\0';
    return id;
}

static void test_a_user_id_too_long_to_bind_is_refused_not_cut(void **state)
{
    (void)state;
    char *id = long_id('a'), *other = long_id('b');
    unsigned char sk[VAULT_SECRET_BYTES], kek[VAULT_KEK_BYTES], out[VAULT_SECRET_BYTES];
    unsigned char wrapped[VAULT_WRAPPED_BYTES], escrow[VAULT_ESCROW_BYTES];
    randombytes_buf(sk, sizeof sk);
    randombytes_buf(kek, sizeof kek);
    struct op_err e = {0};
    assert_int_equal(vault_wrap(sk, id, kek, wrapped, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "1000 bytes, over the limit of 448"));
    /* a vault wrapped for a 448-byte id (the limit) opens for it and not for a longer id */
    id[VAULT_USER_ID_MAX] = '\0';
    assert_int_equal(vault_wrap(sk, id, kek, wrapped, &e), 0);
    assert_int_equal(vault_unwrap(wrapped, sizeof wrapped, id, kek, out, &e), 0);
    assert_memory_equal(out, sk, sizeof sk);
    id[VAULT_USER_ID_MAX] = 'a';
    assert_int_equal(vault_unwrap(wrapped, sizeof wrapped, id, kek, out, &e), OP_EINPUT);
    assert_int_equal(vault_unwrap(wrapped, sizeof wrapped, other, kek, out, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "over the limit"));

    struct key master;
    memset(&master, 0, sizeof master);
    master.kind = KEY_MASTER;
    randombytes_buf(master.secret, sizeof master.secret);
    memset(master.id, '0', KEY_ID_BYTES * 2);
    assert_int_equal(vault_escrow(sk, id, &master, escrow, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "over the limit"));
    assert_int_equal(vault_escrow(sk, "short-id", &master, escrow, &e), 0);
    assert_int_equal(vault_recover(escrow, sizeof escrow, id, &master, out, &e), OP_EINPUT);

    /* and so is setting a password for such an id: no credentials come out */
    struct credentials c;
    assert_int_equal(credentials_make(&cheap, id, "pw", 2, NULL, &c, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "user id"));
    assert_int_equal(c.vault_secret_wrapped[0], '\0');
    free(id);
    free(other);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_right_password_opens_the_vault),
        cmocka_unit_test(test_wrong_password_does_not_open_the_vault),
        cmocka_unit_test(test_vault_tag_alone_rejects_a_wrong_password),
        cmocka_unit_test(test_password_of_user_a_does_not_open_data_of_user_b),
        cmocka_unit_test(test_vault_copied_to_another_user_does_not_open),
        cmocka_unit_test(test_all_credentials_of_a_copied_to_b_do_not_open_as_b),
        cmocka_unit_test(test_password_reset_from_escrow_keeps_sealed_data_readable),
        cmocka_unit_test(test_escrow_copy_opens_only_for_its_user_and_master_key),
        cmocka_unit_test(test_altered_sealed_data_does_not_open),
        cmocka_unit_test(test_damaged_vault_text_is_a_clear_error),
        cmocka_unit_test(test_credentials_make_runs_in_parallel_threads),
        cmocka_unit_test(test_a_user_id_too_long_to_bind_is_refused_not_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
