/* test_app_content.c - encrypted delivery packages (app/content.h), on a temporary central
 * and device: the copy an import makes and the wrapped key it records, the key sealed to one
 * test taker, a new package on update (the old one kept), serving by hash, a transaction that
 * fails after the file was written, deliveries from before, and the device's side: storing a
 * download, opening it, what it lacks. Runs on SQLite and on PostgreSQL (pg/unit). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/content.h"
#include "app/deliveries.h"
#include "app_instance_fixture.h"
#include "qti_testzip.h"
#include "store/packages.h"

struct fixture {
    struct instance *inst; /* central */
    struct instance *dev;  /* device */
    char *zip;             /* the demo QTI package */
    char *zip2;            /* another test */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance(ROLE_CENTRAL);
    f->dev = fx_instance(ROLE_DEVICE);
    f->zip = fs_join(f->inst->dir, "demo.zip");
    f->zip2 = fs_join(f->inst->dir, "other.zip");
    assert_int_equal(testzip_fixture_zip("demo/qti-test", f->zip), 0);
    assert_int_equal(testzip_fixture_zip("rule-number-correct", f->zip2), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->zip);
    free(f->zip2);
    fx_instance_free(f->dev);
    fx_instance_free(f->inst);
    free(f);
    return 0;
}

/* Imports the demo package as `label` (its body run twice); the delivery in *d. */
static void import(struct fixture *f, const char *label, struct delivery *d)
{
    const struct app_deliveries_import_in in = {f->zip, label, 1, 0, 0};
    struct op_err e = {0};
    db_lose_races(f->inst->db, 1);
    if (app_deliveries_import(f->inst, &in, d, &e) != 0)
        fail_msg("import: %s", e.msg);
}

static void get_content(struct fixture *f, const char *id, int64_t version,
                        struct delivery_content *c)
{
    struct op_err e = {0};
    if (app_content_get(f->inst, id, version, c, &e) != 0)
        fail_msg("content of %s at %lld: %s", id, (long long)version, e.msg);
}

/* The clear content key of row c, unwrapped with central's master key. */
static void unwrap(struct fixture *f, const struct delivery_content *c,
                   unsigned char key[CONTENT_KEY_BYTES])
{
    struct key master;
    struct op_err e = {0};
    char *dir = fs_join(f->inst->dir, "keys");
    assert_int_equal(keys_load_master(dir, &master, &e), 0);
    free(dir);
    if (content_key_unwrap(c->wrapped_key, c->wrapped_len, c->delivery_id, c->version, &master, key,
                           &e) != 0)
        fail_msg("unwrap: %s", e.msg);
    key_wipe(&master);
}

/* The whole file at path (caller frees); its length in *len. */
static unsigned char *slurp(const char *path, size_t *len)
{
    char *data;
    struct op_err e = {0};
    if (fs_read_file(path, 64u << 20, &data, len, &e) != 0)
        fail_msg("%s: %s", path, e.msg);
    return (unsigned char *)data;
}

/* The compiled package of delivery d, as stored in clear. */
static unsigned char *compiled(struct fixture *f, const struct delivery *d, size_t *len)
{
    unsigned char *bytes;
    struct op_err e = {0};
    assert_int_equal(packages_get(f->inst->dir, d->package_sha256, 64u << 20, &bytes, len, &e), 0);
    return bytes;
}

/* Copies central's encrypted package `sha` to a download file in the device's folder. */
static char *download(struct fixture *f, const char *sha)
{
    char *src = packages_enc_path(f->inst->dir, sha);
    size_t len;
    unsigned char *bytes = slurp(src, &len);
    char *dst = fs_join(f->dev->dir, "download.part");
    struct op_err e = {0};
    assert_int_equal(fs_write_atomic(dst, bytes, len, 0600, &e), 0);
    free(bytes);
    free(src);
    return dst;
}

static void ref_of(const struct delivery_content *c, struct app_content_ref *r)
{
    memset(r, 0, sizeof *r);
    memcpy(r->delivery_id, c->delivery_id, sizeof r->delivery_id);
    r->version = c->version;
    memcpy(r->enc_sha256, c->enc_sha256, sizeof r->enc_sha256);
    r->enc_size = (uint64_t)c->enc_size;
}

static void test_import_stores_an_encrypted_copy_under_a_wrapped_key(void **state)
{
    struct fixture *f = *state;
    struct delivery d;
    import(f, "Maths", &d);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 1);
    struct delivery_content c;
    get_content(f, d.id, 0, &c);
    assert_int_equal(c.version, 1);
    assert_string_equal(c.package_sha256, d.package_sha256);
    /* the file is named by the hash of its encrypted bytes */
    char *path = packages_enc_path(f->inst->dir, c.enc_sha256);
    char sha[SHA256_HEX_LEN];
    uint64_t size;
    struct op_err e = {0};
    assert_int_equal(packages_file_sha256(path, sha, &size, &e), 0);
    assert_string_equal(sha, c.enc_sha256);
    assert_int_equal(size, (uint64_t)c.enc_size);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0077, 0);
    /* it is not the clear package, and the key opens it to the exact compiled bytes */
    size_t clen, elen;
    unsigned char *clear = compiled(f, &d, &clen);
    unsigned char *enc = slurp(path, &elen);
    assert_null(memmem(enc, elen, clear, clen < 64 ? clen : 64));
    unsigned char key[CONTENT_KEY_BYTES];
    unwrap(f, &c, key);
    FILE *in = fopen(path, "rb");
    char *out_buf = NULL;
    size_t out_len = 0;
    FILE *out = open_memstream(&out_buf, &out_len);
    assert_int_equal(content_decrypt(in, out, key, d.id, &e), 0);
    fclose(in);
    fclose(out);
    assert_int_equal(out_len, clen);
    assert_memory_equal(out_buf, clear, clen);
    /* the key in the database is wrapped: the clear key appears nowhere in the column */
    struct db_stmt *q = db_stmt(f->inst->db, "SELECT wrapped_key FROM delivery_content", &e);
    assert_non_null(q);
    assert_int_equal(db_step(q), DB_ROW);
    size_t wl;
    const void *w = db_column_blob(q, 0, &wl);
    assert_int_equal(wl, CONTENT_WRAPPED_KEY_BYTES);
    assert_null(memmem(w, wl, key, sizeof key));
    db_stmt_done(f->inst->db, q);
    /* another master key does not open it, under its own id or the right one */
    struct key other;
    memset(&other, 0, sizeof other);
    other.kind = KEY_MASTER;
    randombytes_buf(other.secret, sizeof other.secret);
    memcpy(other.id, "0011223344556677", KEY_ID_HEX_LEN);
    unsigned char k2[CONTENT_KEY_BYTES];
    assert_int_equal(content_key_unwrap(c.wrapped_key, c.wrapped_len, d.id, 1, &other, k2, &e),
                     OP_ECRYPTO);
    memcpy(other.id, c.master_key_id, KEY_ID_HEX_LEN);
    assert_int_equal(content_key_unwrap(c.wrapped_key, c.wrapped_len, d.id, 1, &other, k2, &e),
                     OP_ECRYPTO);
    /* nor is it good for another delivery or another version */
    struct key master;
    char *kd = fs_join(f->inst->dir, "keys");
    assert_int_equal(keys_load_master(kd, &master, &e), 0);
    free(kd);
    assert_int_equal(content_key_unwrap(c.wrapped_key, c.wrapped_len, d.id, 2, &master, k2, &e),
                     OP_ECRYPTO);
    assert_int_equal(
        content_key_unwrap(c.wrapped_key, c.wrapped_len, "another-id", 1, &master, k2, &e),
        OP_ECRYPTO);
    key_wipe(&master);
    /* deliveries show names it */
    json_t *o;
    assert_int_equal(app_deliveries_show(f->inst, "Maths", &o, &e), 0);
    json_t *ep = json_object_get(o, "encrypted_package");
    assert_string_equal(json_string_value(json_object_get(ep, "enc_sha256")), c.enc_sha256);
    assert_int_equal(json_integer_value(json_object_get(ep, "enc_size")), c.enc_size);
    assert_null(json_object_get(ep, "wrapped_key"));
    json_decref(o);
    free(out_buf);
    free(enc);
    free(clear);
    free(path);
    delivery_clear(&d);
}

static void test_sealed_key_opens_the_package_for_that_test_taker_only(void **state)
{
    struct fixture *f = *state;
    struct delivery d;
    import(f, "Maths", &d);
    struct delivery_content c;
    get_content(f, d.id, 1, &c);
    unsigned char pk_a[VAULT_PUBLIC_BYTES], sk_a[VAULT_SECRET_BYTES];
    unsigned char pk_b[VAULT_PUBLIC_BYTES], sk_b[VAULT_SECRET_BYTES];
    vault_keypair(pk_a, sk_a);
    vault_keypair(pk_b, sk_b);
    unsigned char sealed[CONTENT_SEALED_KEY_BYTES];
    struct op_err e = {0};
    assert_int_equal(app_content_sealed_key(f->inst, d.id, 1, pk_a, sealed, &e), 0);
    /* the device stores the download and opens it with A's key */
    char *dl = download(f, c.enc_sha256);
    assert_int_equal(app_content_store_downloaded(f->dev, d.id, 1, c.enc_sha256, dl, &e), 0);
    assert_false(fs_exists(dl));
    struct app_content_ref r;
    ref_of(&c, &r);
    char *out = fs_join(f->dev->dir, "runner.pkg");
    if (app_content_open_to_file(f->dev, &r, sealed, sizeof sealed, pk_a, sk_a, out, &e) != 0)
        fail_msg("open: %s", e.msg);
    size_t clen, olen;
    unsigned char *clear = compiled(f, &d, &clen);
    unsigned char *got = slurp(out, &olen);
    assert_int_equal(olen, clen);
    assert_memory_equal(got, clear, clen);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0077, 0);
    free(got);
    unlink(out);
    /* B cannot open A's key; nothing is left at the output */
    assert_int_equal(
        app_content_open_to_file(f->dev, &r, sealed, sizeof sealed, pk_b, sk_b, out, &e),
        OP_ECRYPTO);
    assert_false(fs_exists(out));
    /* a package named as another delivery's does not decrypt */
    struct app_content_ref other = r;
    snprintf(other.delivery_id, sizeof other.delivery_id, "%s", "00000000-0000-4000-8000-0000");
    assert_int_equal(
        app_content_open_to_file(f->dev, &other, sealed, sizeof sealed, pk_a, sk_a, out, &e),
        OP_ECRYPTO);
    assert_false(fs_exists(out));
    /* a truncated sealed key is refused */
    assert_int_equal(app_content_open_to_file(f->dev, &r, sealed, 10, pk_a, sk_a, out, &e),
                     OP_EINPUT);
    /* central refuses unknown deliveries and versions before the first */
    assert_int_equal(app_content_sealed_key(f->inst, "nope", 0, pk_a, sealed, &e), OP_ENOTFOUND);
    assert_int_equal(app_content_sealed_key(f->dev, d.id, 1, pk_a, sealed, &e), OP_ESTATE);
    free(clear);
    free(out);
    free(dl);
    delivery_clear(&d);
}

static void test_update_with_a_new_package_gets_a_new_copy_and_key_and_keeps_the_old(void **state)
{
    struct fixture *f = *state;
    struct delivery d, u;
    struct op_err e = {0};
    import(f, "Maths", &d);
    struct delivery_content v1;
    get_content(f, d.id, 0, &v1);
    unsigned char key1[CONTENT_KEY_BYTES], key3[CONTENT_KEY_BYTES];
    unwrap(f, &v1, key1);
    /* a label alone: a new version, no new package */
    const struct app_deliveries_update_in label = {d.id, "Maths 2", -1, -1, 0, NULL};
    assert_int_equal(app_deliveries_update(f->inst, &label, &u, NULL, &e), 0);
    assert_int_equal(u.version, 2);
    delivery_clear(&u);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 1);
    struct delivery_content c;
    get_content(f, d.id, 2, &c);
    assert_string_equal(c.enc_sha256, v1.enc_sha256);
    /* a new test: version 3 gets a new package under a new key (the body run twice) */
    const struct app_deliveries_update_in test = {"Maths 2", NULL, -1, -1, 0, f->zip2};
    db_lose_races(f->inst->db, 1);
    if (app_deliveries_update(f->inst, &test, &u, NULL, &e) != 0)
        fail_msg("update: %s", e.msg);
    assert_int_equal(u.version, 3);
    assert_string_not_equal(u.package_sha256, d.package_sha256);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 2);
    struct delivery_content v3;
    get_content(f, d.id, 0, &v3);
    assert_int_equal(v3.version, 3);
    assert_string_equal(v3.package_sha256, u.package_sha256);
    assert_string_not_equal(v3.enc_sha256, v1.enc_sha256);
    unwrap(f, &v3, key3);
    assert_memory_not_equal(key1, key3, sizeof key1);
    /* the old version's row and file stay, and are still served */
    get_content(f, d.id, 2, &c);
    assert_string_equal(c.enc_sha256, v1.enc_sha256);
    get_content(f, d.id, 1, &c);
    assert_string_equal(c.enc_sha256, v1.enc_sha256);
    char *path;
    uint64_t size;
    assert_int_equal(app_content_locate(f->inst, v1.enc_sha256, &path, &size, &e), 0);
    assert_int_equal(size, (uint64_t)v1.enc_size);
    free(path);
    assert_int_equal(app_content_locate(f->inst, v3.enc_sha256, &path, &size, &e), 0);
    free(path);
    /* a test taker sealed version 1's key still opens version 1's package */
    unsigned char pk[VAULT_PUBLIC_BYTES], sk[VAULT_SECRET_BYTES];
    vault_keypair(pk, sk);
    unsigned char sealed[CONTENT_SEALED_KEY_BYTES], opened[CONTENT_KEY_BYTES];
    assert_int_equal(app_content_sealed_key(f->inst, d.id, 2, pk, sealed, &e), 0);
    assert_int_equal(content_key_open(sealed, sizeof sealed, pk, sk, opened, &e), 0);
    assert_memory_equal(opened, key1, sizeof key1);
    assert_int_equal(app_content_sealed_key(f->inst, d.id, 0, pk, sealed, &e), 0);
    assert_int_equal(content_key_open(sealed, sizeof sealed, pk, sk, opened, &e), 0);
    assert_memory_equal(opened, key3, sizeof key3);
    delivery_clear(&u);
    /* the same package again with a label: a new version, no new package */
    const struct app_deliveries_update_in same = {d.id, "Maths 3", -1, -1, 0, f->zip2};
    assert_int_equal(app_deliveries_update(f->inst, &same, &u, NULL, &e), 0);
    assert_int_equal(u.version, 4);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 2);
    delivery_clear(&u);
    /* a bad package changes nothing */
    const struct app_deliveries_update_in bad = {d.id, NULL, -1, -1, 0, "/nonexistent.zip"};
    assert_int_not_equal(app_deliveries_update(f->inst, &bad, &u, NULL, &e), 0);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 2);
    /* withdrawing the delivery takes its rows: its packages are no longer served */
    struct delivery gone;
    assert_int_equal(app_deliveries_delete(f->inst, d.id, &gone, &e), 0);
    delivery_clear(&gone);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 0);
    assert_int_equal(app_content_locate(f->inst, v1.enc_sha256, &path, &size, &e), OP_ENOTFOUND);
    int removed;
    assert_int_equal(app_content_sweep(f->inst, 0, &removed, &e), 0);
    assert_int_equal(removed, 2);
    delivery_clear(&d);
}

static void test_locate_serves_only_packages_of_known_deliveries(void **state)
{
    struct fixture *f = *state;
    struct delivery d;
    import(f, "Maths", &d);
    char *path;
    uint64_t size;
    struct op_err e = {0};
    const char *unknown = "0000000000000000000000000000000000000000000000000000000000000000";
    assert_int_equal(app_content_locate(f->inst, unknown, &path, &size, &e), OP_ENOTFOUND);
    assert_null(path);
    /* a file planted in the folder under a hash's name is not served either */
    char planted[SHA256_HEX_LEN];
    sha256_hex("planted", 7, planted);
    char *p = packages_enc_path(f->inst->dir, planted);
    assert_int_equal(fs_write_atomic(p, "planted", 7, 0600, &e), 0);
    assert_int_equal(app_content_locate(f->inst, planted, &path, &size, &e), OP_ENOTFOUND);
    /* not a hash */
    assert_int_equal(app_content_locate(f->inst, "../../outpost.db", &path, &size, &e), OP_EINPUT);
    assert_int_equal(app_content_locate(f->inst, "ABC", &path, &size, &e), OP_EINPUT);
    /* a recorded file that went missing is an operator's problem, said so */
    struct delivery_content c;
    get_content(f, d.id, 0, &c);
    char *real = packages_enc_path(f->inst->dir, c.enc_sha256);
    char *aside = fs_join(f->inst->dir, "aside");
    assert_int_equal(rename(real, aside), 0);
    assert_int_equal(app_content_locate(f->inst, c.enc_sha256, &path, &size, &e), OP_ESTATE);
    assert_int_equal(rename(aside, real), 0);
    assert_int_equal(app_content_locate(f->inst, c.enc_sha256, &path, &size, &e), 0);
    assert_string_equal(path, real);
    free(path);
    /* the device serves nothing */
    assert_int_equal(app_content_locate(f->dev, c.enc_sha256, &path, &size, &e), OP_ESTATE);
    /* the sweep keeps what is referenced and young files, removes the planted one */
    int removed;
    assert_int_equal(app_content_sweep(f->inst, 3600, &removed, &e), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(app_content_sweep(f->inst, 0, &removed, &e), 0);
    assert_int_equal(removed, 1);
    assert_false(fs_exists(p));
    assert_true(fs_exists(real));
    free(aside);
    free(real);
    free(p);
    delivery_clear(&d);
}

/* Makes every insert into delivery_content fail, as a crash between the file and the
 * commit would leave it: on SQLite a trigger that aborts, on PostgreSQL one that raises. */
static void break_recording(struct fixture *f, int on)
{
    struct op_err e = {0};
    const char *sql;
    if (testutil_on_pgsql())
        sql = on ? "CREATE FUNCTION t_fail() RETURNS trigger LANGUAGE plpgsql AS"
                   " $$ BEGIN RAISE EXCEPTION 'simulated crash'; END $$;"
                   "CREATE TRIGGER t_fail BEFORE INSERT ON delivery_content"
                   " FOR EACH ROW EXECUTE FUNCTION t_fail()"
                 : "DROP TRIGGER t_fail ON delivery_content; DROP FUNCTION t_fail()";
    else
        sql = on ? "CREATE TRIGGER t_fail BEFORE INSERT ON delivery_content"
                   " BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
                 : "DROP TRIGGER t_fail";
    if (db_exec(f->inst->db, sql, &e) != 0)
        fail_msg("trigger: %s", e.msg);
}

/* The number of encrypted package files on central. */
static int enc_files(struct fixture *f)
{
    char *dir = fs_join(f->inst->dir, "packages/enc");
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    free(dir);
    return n;
}

static void test_failed_transaction_after_the_file_leaves_the_old_state(void **state)
{
    struct fixture *f = *state;
    struct delivery d, u;
    struct op_err e = {0};
    import(f, "Maths", &d);
    assert_int_equal(enc_files(f), 1);
    break_recording(f, 1);
    /* an import: no delivery, no row; the file is an orphan */
    const struct app_deliveries_import_in in = {f->zip, "Second", 1, 0, 0};
    assert_int_not_equal(app_deliveries_import(f->inst, &in, &u, &e), 0);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM deliveries"), 1);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 1);
    assert_int_equal(enc_files(f), 2);
    /* an update with a new test: the delivery stays at version 1 with its package */
    const struct app_deliveries_update_in test = {d.id, NULL, -1, -1, 0, f->zip2};
    assert_int_not_equal(app_deliveries_update(f->inst, &test, &u, NULL, &e), 0);
    struct delivery now;
    assert_int_equal(deliveries_get(f->inst->db, d.id, &now, &e), 0);
    assert_int_equal(now.version, 1);
    assert_string_equal(now.package_sha256, d.package_sha256);
    delivery_clear(&now);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 1);
    assert_int_equal(enc_files(f), 3);
    break_recording(f, 0);
    /* the orphans go with the sweep; the referenced file stays and is served */
    int removed;
    assert_int_equal(app_content_sweep(f->inst, 0, &removed, &e), 0);
    assert_int_equal(removed, 2);
    struct delivery_content c;
    get_content(f, d.id, 0, &c);
    char *path;
    uint64_t size;
    assert_int_equal(app_content_locate(f->inst, c.enc_sha256, &path, &size, &e), 0);
    free(path);
    /* a temporary file left by a kill mid-write is swept too, never served */
    char *tmp = fs_join(f->inst->dir, "packages/enc/.tmp-abcdef");
    assert_int_equal(fs_write_atomic(tmp, "half", 4, 0600, &e), 0);
    assert_int_equal(app_content_sweep(f->inst, 0, &removed, &e), 0);
    assert_int_equal(removed, 1);
    assert_false(fs_exists(tmp));
    free(tmp);
    delivery_clear(&d);
}

static void test_ensure_encrypts_a_delivery_imported_before(void **state)
{
    struct fixture *f = *state;
    struct delivery d;
    struct op_err e = {0};
    import(f, "Maths", &d);
    /* as a database from before migration 10 has it: no row, no file */
    assert_int_equal(db_exec(f->inst->db, "DELETE FROM delivery_content", &e), 0);
    int removed, made;
    assert_int_equal(app_content_sweep(f->inst, 0, &removed, &e), 0);
    assert_int_equal(removed, 1);
    struct delivery_content c;
    unsigned char pk[VAULT_PUBLIC_BYTES], sk[VAULT_SECRET_BYTES];
    vault_keypair(pk, sk);
    unsigned char sealed[CONTENT_SEALED_KEY_BYTES];
    assert_int_equal(app_content_get(f->inst, d.id, 0, &c, &e), OP_ENOTFOUND);
    assert_int_equal(app_content_sealed_key(f->inst, d.id, 0, pk, sealed, &e), OP_ENOTFOUND);
    json_t *o;
    assert_int_equal(app_deliveries_show(f->inst, d.id, &o, &e), 0);
    assert_true(json_is_null(json_object_get(o, "encrypted_package")));
    json_decref(o);
    assert_int_equal(app_content_ensure_all(f->inst, &made, &e), 0);
    assert_int_equal(made, 1);
    get_content(f, d.id, 0, &c);
    assert_int_equal(c.version, 1);
    char *path;
    uint64_t size;
    assert_int_equal(app_content_locate(f->inst, c.enc_sha256, &path, &size, &e), 0);
    free(path);
    assert_int_equal(app_content_sealed_key(f->inst, d.id, 0, pk, sealed, &e), 0);
    /* again: nothing to do */
    assert_int_equal(app_content_ensure(f->inst, d.id, &made, &e), 0);
    assert_int_equal(made, 0);
    assert_int_equal(app_content_ensure(f->inst, "nope", &made, &e), OP_ENOTFOUND);
    assert_int_equal(app_content_ensure(f->dev, d.id, &made, &e), OP_ESTATE);
    /* a damaged compiled package is not encrypted and shipped */
    assert_int_equal(db_exec(f->inst->db, "DELETE FROM delivery_content", &e), 0);
    char *clear = packages_path(f->inst->dir, d.package_sha256);
    assert_int_equal(fs_write_atomic(clear, "damaged", 7, 0600, &e), 0);
    assert_int_equal(app_content_ensure(f->inst, d.id, &made, &e), OP_ECRYPTO);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM delivery_content"), 0);
    free(clear);
    delivery_clear(&d);
}

static void test_device_refuses_a_wrong_hash_and_an_altered_byte(void **state)
{
    struct fixture *f = *state;
    struct delivery d;
    struct op_err e = {0};
    import(f, "Maths", &d);
    struct delivery_content c;
    get_content(f, d.id, 0, &c);
    unsigned char pk[VAULT_PUBLIC_BYTES], sk[VAULT_SECRET_BYTES];
    vault_keypair(pk, sk);
    unsigned char sealed[CONTENT_SEALED_KEY_BYTES];
    assert_int_equal(app_content_sealed_key(f->inst, d.id, 0, pk, sealed, &e), 0);
    /* a download under another hash is refused and left where it is */
    char *dl = download(f, c.enc_sha256);
    char wrong[SHA256_HEX_LEN];
    sha256_hex("other", 5, wrong);
    assert_int_equal(app_content_store_downloaded(f->dev, d.id, 1, wrong, dl, &e), OP_ECRYPTO);
    assert_true(fs_exists(dl));
    assert_false(packages_enc_has(f->dev->dir, wrong, 0));
    assert_int_equal(app_content_store_downloaded(f->dev, d.id, 1, "xyz", dl, &e), OP_EINPUT);
    assert_int_equal(app_content_store_downloaded(f->inst, d.id, 1, c.enc_sha256, dl, &e),
                     OP_ESTATE);
    /* a download with one byte altered does not match its hash */
    size_t len;
    unsigned char *bytes = slurp(dl, &len);
    bytes[len / 2] ^= 0x01;
    assert_int_equal(fs_write_atomic(dl, bytes, len, 0600, &e), 0);
    assert_int_equal(app_content_store_downloaded(f->dev, d.id, 1, c.enc_sha256, dl, &e),
                     OP_ECRYPTO);
    assert_false(packages_enc_has(f->dev->dir, c.enc_sha256, 0));
    free(dl);
    /* stored intact, then altered on the device's disk: opening refuses it, nothing out */
    dl = download(f, c.enc_sha256);
    assert_int_equal(app_content_store_downloaded(f->dev, d.id, 1, c.enc_sha256, dl, &e), 0);
    struct app_content_ref r;
    ref_of(&c, &r);
    char *stored = packages_enc_path(f->dev->dir, c.enc_sha256);
    bytes[len / 2] ^= 0x01; /* back to the original, then alter another byte */
    bytes[len - 3] ^= 0x80;
    assert_int_equal(fs_write_atomic(stored, bytes, len, 0600, &e), 0);
    char *out = fs_join(f->dev->dir, "runner.pkg");
    assert_int_equal(app_content_open_to_file(f->dev, &r, sealed, sizeof sealed, pk, sk, out, &e),
                     OP_ECRYPTO);
    assert_false(fs_exists(out));
    /* a package missing on the device */
    unlink(stored);
    assert_int_equal(app_content_open_to_file(f->dev, &r, sealed, sizeof sealed, pk, sk, out, &e),
                     OP_ENOTFOUND);
    assert_int_equal(app_content_open_to_file(f->inst, &r, sealed, sizeof sealed, pk, sk, out, &e),
                     OP_ESTATE);
    free(out);
    free(stored);
    free(bytes);
    free(dl);
    delivery_clear(&d);
}

static void test_missing_lists_each_package_the_device_lacks_once(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct app_content_ref need[4];
    memset(need, 0, sizeof need);
    const char *names[] = {"present", "absent", "absent", "short"};
    for (int i = 0; i < 4; i++) {
        snprintf(need[i].delivery_id, sizeof need[i].delivery_id, "d-%d", i);
        need[i].version = 1;
        sha256_hex(names[i], strlen(names[i]), need[i].enc_sha256);
        need[i].enc_size = 10;
    }
    char *p = packages_enc_path(f->dev->dir, need[0].enc_sha256);
    char *folder = fs_join(f->dev->dir, "packages/enc");
    assert_int_equal(fs_mkdir_p(folder, 0700, &e), 0);
    assert_int_equal(fs_write_atomic(p, "0123456789", 10, 0600, &e), 0);
    free(p);
    p = packages_enc_path(f->dev->dir, need[3].enc_sha256);
    assert_int_equal(fs_write_atomic(p, "01234", 5, 0600, &e), 0); /* a partial download */
    free(p);
    free(folder);
    struct app_content_ref *miss;
    size_t n;
    assert_int_equal(app_content_missing(f->dev, need, 4, &miss, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(miss[0].enc_sha256, need[1].enc_sha256);
    assert_string_equal(miss[0].delivery_id, "d-1");
    assert_string_equal(miss[1].enc_sha256, need[3].enc_sha256);
    free(miss);
    assert_int_equal(app_content_missing(f->dev, need, 1, &miss, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_null(miss);
    snprintf(need[2].enc_sha256, sizeof need[2].enc_sha256, "%s", "../x");
    assert_int_equal(app_content_missing(f->dev, need, 4, &miss, &n, &e), OP_EINPUT);
    assert_null(miss);
    assert_int_equal(app_content_missing(f->inst, need, 1, &miss, &n, &e), OP_ESTATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_stores_an_encrypted_copy_under_a_wrapped_key,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_key_opens_the_package_for_that_test_taker_only,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_update_with_a_new_package_gets_a_new_copy_and_key_and_keeps_the_old, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_locate_serves_only_packages_of_known_deliveries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_transaction_after_the_file_leaves_the_old_state,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_ensure_encrypts_a_delivery_imported_before, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_device_refuses_a_wrong_hash_and_an_altered_byte, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_lists_each_package_the_device_lacks_once,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
