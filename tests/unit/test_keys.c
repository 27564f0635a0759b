/* test_keys.c - key files: created once, kept on a re-run, private, rotated without loss. */
#include "testutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "crypto/keys.h"

/* noinline: gcc 12 -O2 mistakes the returned buffer for the local pointer variable and warns
 * of a dangling pointer (-Wdangling-pointer false positive). */
__attribute__((noinline)) static char *slurp(const char *dir, const char *name, size_t *len)
{
    char *path = fs_join(dir, name);
    char *data = NULL;
    struct op_err e = {0};
    if (fs_read_file(path, 4096, &data, len, &e) != 0)
        fail_msg("%s", e.msg);
    free(path);
    return data;
}

static void assert_same_file(const char *dir, const char *name, const char *before, size_t len)
{
    size_t n;
    char *now = slurp(dir, name, &n);
    assert_int_equal(n, len);
    assert_memory_equal(now, before, len);
    free(now);
}

static void test_setup_central_rerun_keeps_every_key_byte_for_byte(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *keys = fs_join(dir, "keys");
    struct op_err e = {0};
    struct keys_setup_report rep = {0, 0};
    assert_int_equal(keys_setup_central(keys, &rep, &e), 0);
    assert_int_equal(rep.created, 3);
    size_t l1, l2, l3;
    char *r = slurp(keys, "results-0001.key", &l1);
    char *s = slurp(keys, "signing.key", &l2);
    char *m = slurp(keys, "master.key", &l3);
    struct keys_setup_report again = {0, 0};
    assert_int_equal(keys_setup_central(keys, &again, &e), 0);
    assert_int_equal(again.created, 0);
    assert_int_equal(again.kept, 3);
    assert_same_file(keys, "results-0001.key", r, l1);
    assert_same_file(keys, "signing.key", s, l2);
    assert_same_file(keys, "master.key", m, l3);
    free(r);
    free(s);
    free(m);
    free(keys);
    testutil_rmdir(dir);
}

static void test_key_files_and_folder_are_private(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *keys = fs_join(dir, "keys");
    struct op_err e = {0};
    assert_int_equal(keys_setup_central(keys, NULL, &e), 0);
    assert_int_equal(keys_setup_device(keys, NULL, &e), 0);
    struct stat st;
    assert_int_equal(stat(keys, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    const char *names[] = {"results-0001.key", "signing.key", "master.key", "device-signing.key"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *p = fs_join(keys, names[i]);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        free(p);
    }
    free(keys);
    testutil_rmdir(dir);
}

static void test_key_file_readable_by_others_is_refused(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct op_err e = {0};
    assert_int_equal(keys_setup_device(dir, NULL, &e), 0);
    char *p = fs_join(dir, "device-signing.key");
    chmod(p, 0644);
    struct key k;
    assert_int_equal(keys_load_device_signing(dir, &k, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "chmod 600"));
    free(p);
    testutil_rmdir(dir);
}

/* A key file replaced by a FIFO must be refused at once: opening a FIFO for reading blocks
 * until a writer comes, which would hang setup-central and decrypt-results for ever. The
 * alarm turns a hang into a failure of this test. */
static void test_key_file_that_is_a_fifo_is_refused_without_blocking(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct op_err e = {0};
    char *p = fs_join(dir, "device-signing.key");
    assert_int_equal(mkfifo(p, 0600), 0);
    alarm(10);
    struct key k;
    assert_int_not_equal(keys_load_device_signing(dir, &k, &e), 0);
    assert_non_null(strstr(e.msg, "not a regular file"));
    assert_int_not_equal(keys_setup_device(dir, NULL, &e), 0);
    alarm(0);
    free(p);
    testutil_rmdir(dir);
}

static void test_huge_key_file_is_refused_without_reading_it(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct op_err e = {0};
    char *p = fs_join(dir, "device-signing.key");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)1 << 32), 0); /* sparse: 4 GiB */
    fclose(f);
    chmod(p, 0600);
    struct key k;
    assert_int_equal(keys_load_device_signing(dir, &k, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "over the limit"));
    free(p);
    testutil_rmdir(dir);
}

/* A key file must be the file itself: a symlink is refused (O_NOFOLLOW), whether its target
 * is private or not, so that nobody can point a key name at a file of their choosing. The
 * folder itself may be a link to another volume. */
static void test_symlinked_key_file_is_refused(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *other = testutil_tmpdir();
    struct op_err e = {0};
    assert_int_equal(keys_setup_device(other, NULL, &e), 0);
    char *target = fs_join(other, "device-signing.key");
    char *p = fs_join(dir, "device-signing.key");
    assert_int_equal(symlink(target, p), 0);
    struct key k;
    assert_int_equal(keys_load_device_signing(dir, &k, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "symbolic link"));
    key_wipe(&k);
    /* a dangling link is not replaced by a new key: setup refuses rather than write through */
    unlink(target);
    assert_int_not_equal(keys_setup_device(dir, NULL, &e), 0);
    struct stat st;
    assert_int_not_equal(stat(target, &st), 0);
    /* a key folder that is a symlink to another volume works */
    char *linked = fs_join(dir, "keys-link");
    char *real = fs_join(other, "real");
    assert_int_equal(keys_setup_device(real, NULL, &e), 0);
    assert_int_equal(symlink(real, linked), 0);
    assert_int_equal(keys_load_device_signing(linked, &k, &e), 0);
    key_wipe(&k);
    free(linked);
    free(real);
    free(p);
    free(target);
    testutil_rmdir(other);
    testutil_rmdir(dir);
}

/* The owner and mode are checked on the file that was opened (fstat), not by a stat before. */
static void test_key_file_of_another_owner_is_refused(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* only root can give a file away */
    char *dir = testutil_tmpdir();
    struct op_err e = {0};
    assert_int_equal(keys_setup_device(dir, NULL, &e), 0);
    char *p = fs_join(dir, "device-signing.key");
    assert_int_equal(chown(p, 65534, 65534), 0);
    struct key k;
    assert_int_equal(keys_load_device_signing(dir, &k, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "owned by"));
    free(p);
    testutil_rmdir(dir);
}

/* A key folder others can read (a restore with cp -r under umask 022) is refused with the fix. */
static void test_key_folder_readable_by_others_is_refused(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct op_err e = {0};
    assert_int_equal(keys_setup_central(dir, NULL, &e), 0);
    chmod(dir, 0755);
    struct key k;
    assert_int_equal(keys_load_master(dir, &k, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "chmod 700"));
    assert_int_equal(keys_results_current(dir, &k, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "chmod 700"));
    chmod(dir, 0700);
    assert_int_equal(keys_load_master(dir, &k, &e), 0);
    key_wipe(&k);
    testutil_rmdir(dir);
}

static void test_damaged_key_file_is_refused(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct op_err e = {0};
    assert_int_equal(keys_setup_central(dir, NULL, &e), 0);
    size_t len;
    char *text = slurp(dir, "signing.key", &len);
    char *pub = strstr(text, "public ");
    assert_non_null(pub);
    pub[7] = pub[7] == 'a' ? 'b' : 'a'; /* a public key that does not match the secret */
    char *p = fs_join(dir, "signing.key");
    assert_int_equal(fs_write_atomic(p, text, len, 0600, &e), 0);
    struct key k;
    assert_int_equal(keys_load_central_signing(dir, &k, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "damaged key file"));
    /* and setup-central does not replace it either */
    assert_int_not_equal(keys_setup_central(dir, NULL, &e), 0);
    free(p);
    free(text);
    testutil_rmdir(dir);
}

static void test_rotate_adds_a_current_key_and_keeps_the_old_one(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct op_err e = {0};
    assert_int_equal(keys_setup_central(dir, NULL, &e), 0);
    struct key first, rotated, current, found;
    assert_int_equal(keys_results_current(dir, &first, &e), 0);
    assert_int_equal(keys_rotate_results(dir, &rotated, &e), 0);
    assert_int_equal(rotated.serial, 2);
    assert_string_not_equal(rotated.id, first.id);
    assert_int_equal(keys_results_current(dir, &current, &e), 0);
    assert_string_equal(current.id, rotated.id);
    assert_int_equal(keys_results_by_id(dir, first.id, &found, &e), 0);
    assert_memory_equal(found.secret, first.secret, KEY_SECRET_BYTES);
    assert_int_equal(keys_results_by_id(dir, "0000000000000000", &found, &e), OP_ENOTFOUND);
    assert_non_null(strstr(e.msg, "0000000000000000"));
    key_wipe(&first);
    key_wipe(&rotated);
    key_wipe(&current);
    key_wipe(&found);
    testutil_rmdir(dir);
}

/* A results key restored from a backup under its id (results-<id>.key) is found by that id;
 * a file whose name says another id is refused, naming the name it should have. */
static void test_results_key_restored_under_its_id_is_accepted_and_checked(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct op_err e = {0};
    assert_int_equal(keys_setup_central(dir, NULL, &e), 0);
    struct key first;
    assert_int_equal(keys_results_current(dir, &first, &e), 0);
    char name[64];
    snprintf(name, sizeof name, "results-%s.key", first.id);
    char *canonical = fs_join(dir, "results-0001.key");
    char *by_id = fs_join(dir, name);
    assert_int_equal(rename(canonical, by_id), 0);
    struct key found;
    assert_int_equal(keys_results_by_id(dir, first.id, &found, &e), 0);
    assert_memory_equal(found.secret, first.secret, KEY_SECRET_BYTES);
    key_wipe(&found);
    /* a rotation after it takes the next serial, and becomes current */
    struct key rotated, current;
    assert_int_equal(keys_rotate_results(dir, &rotated, &e), 0);
    assert_int_equal(rotated.serial, 2);
    assert_int_equal(keys_results_current(dir, &current, &e), 0);
    assert_string_equal(current.id, rotated.id);
    /* the file of one key under the id of another is refused */
    char *wrong = fs_join(dir, "results-0123456789abcdef.key");
    assert_int_equal(rename(by_id, wrong), 0);
    assert_int_not_equal(keys_results_by_id(dir, first.id, &found, &e), 0);
    assert_non_null(strstr(e.msg, name));
    key_wipe(&first);
    key_wipe(&rotated);
    key_wipe(&current);
    free(wrong);
    free(canonical);
    free(by_id);
    testutil_rmdir(dir);
}

static void test_key_id_is_first_eight_bytes_of_blake2b_of_public_key(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct op_err e = {0};
    assert_int_equal(keys_setup_device(dir, NULL, &e), 0);
    struct key k;
    assert_int_equal(keys_load_device_signing(dir, &k, &e), 0);
    unsigned char h[32];
    crypto_generichash(h, sizeof h, k.public_key, 32, NULL, 0);
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, h, 8);
    assert_string_equal(k.id, hex);
    unsigned char pk[32], sk[64];
    crypto_sign_seed_keypair(pk, sk, k.secret);
    assert_memory_equal(pk, k.public_key, 32);
    key_wipe(&k);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setup_central_rerun_keeps_every_key_byte_for_byte),
        cmocka_unit_test(test_key_files_and_folder_are_private),
        cmocka_unit_test(test_key_file_readable_by_others_is_refused),
        cmocka_unit_test(test_key_file_that_is_a_fifo_is_refused_without_blocking),
        cmocka_unit_test(test_huge_key_file_is_refused_without_reading_it),
        cmocka_unit_test(test_symlinked_key_file_is_refused),
        cmocka_unit_test(test_key_file_of_another_owner_is_refused),
        cmocka_unit_test(test_key_folder_readable_by_others_is_refused),
        cmocka_unit_test(test_damaged_key_file_is_refused),
        cmocka_unit_test(test_rotate_adds_a_current_key_and_keeps_the_old_one),
        cmocka_unit_test(test_results_key_restored_under_its_id_is_accepted_and_checked),
        cmocka_unit_test(test_key_id_is_first_eight_bytes_of_blake2b_of_public_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
