/* test_import_vault.c - import-users gives every user a vault escrowed on central, and a
 * re-import (an update) keeps the user's key pair while wrapping it under the new password. */
#include "testutil.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credentials.h"
#include "crypto/keys.h"
#include "import/users_import.h"
#include "store/users.h"

#define HEADER "Label,Login,Password,Interface Language\n"

static int import(struct db *db, const char *dir, const char *text, const struct key *master)
{
    char *path = testutil_write(dir, "users.csv", text);
    struct users_import_options opt;
    memset(&opt, 0, sizeof opt);
    opt.role = ROLE_TEST_TAKER;
    opt.max_bytes = 1 << 20;
    opt.cost.opslimit = 1;
    opt.cost.memlimit_kib = 8;
    opt.workers = 2;
    opt.master = master;
    struct users_import_report r;
    users_import_report_init(&r, "users.csv");
    struct op_err e = {0};
    int rc = users_import_file(db, path, &opt, &r, &e);
    if (rc != 0)
        print_error("import: %s\n", e.msg);
    users_import_report_free(&r);
    free(path);
    return rc;
}

static int unlocks(struct db *db, const char *login, const char *pw, unsigned char pk[32])
{
    struct user u;
    struct op_err e = {0};
    assert_int_equal(users_get_by_login(db, login, &u, &e), 0);
    unsigned char sk[32];
    int rc = credentials_unlock(&u, pw, strlen(pw), pk, sk, &e);
    user_clear(&u);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

static void test_imported_users_get_escrowed_vaults_kept_on_reimport(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    char *keys = testutil_tmpdir();
    struct key master;
    assert_int_equal(keys_setup_central(keys, NULL, &e), 0);
    assert_int_equal(keys_load_master(keys, &master, &e), 0);

    assert_int_equal(
        import(db, dir, HEADER "Ann,ann,first-ann,en-US\nBob,bob,first-bob,en-US\n", &master), 0);
    unsigned char pk1[32], pk2[32];
    assert_int_equal(unlocks(db, "ann", "first-ann", pk1), 0);
    assert_int_equal(unlocks(db, "ann", "first-bob", pk2), OP_ECRYPTO);
    struct user ann;
    assert_int_equal(users_get_by_login(db, "ann", &ann, &e), 0);
    assert_non_null(ann.vault_secret_escrow);
    unsigned char sk[32], derived[32];
    assert_int_equal(credentials_recover(&master, &ann, sk, &e), 0);
    crypto_scalarmult_base(derived, sk);
    assert_memory_equal(derived, pk1, 32);
    user_clear(&ann);

    /* a re-import with a new password updates ann and keeps her key pair */
    assert_int_equal(import(db, dir, HEADER "Ann,ann,second-ann,en-US\n", &master), 0);
    assert_int_equal(unlocks(db, "ann", "first-ann", pk2), OP_ECRYPTO);
    assert_int_equal(unlocks(db, "ann", "second-ann", pk2), 0);
    assert_memory_equal(pk1, pk2, 32);

    key_wipe(&master);
    sodium_memzero(sk, sizeof sk);
    testutil_rmdir(keys);
    db_close(db);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imported_users_get_escrowed_vaults_kept_on_reimport),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
