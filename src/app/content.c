/*
 * content.c - encrypted delivery packages (see content.h): the copy central makes and
 * records, the keys it seals and the files it serves; what a device stores and opens.
 */
#include "app/content.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/import_jobs.h"
#include "base/fs.h"
#include "store/deliveries.h"
#include "store/eligibilities.h"
#include "store/feed.h"
#include "store/packages.h"

struct app_content_new {
    unsigned char key[CONTENT_KEY_BYTES];
    char package_sha256[SHA256_HEX_LEN];
    char enc_sha256[SHA256_HEX_LEN];
    uint64_t enc_size;
    struct key master;
};

void app_content_new_free(struct app_content_new *n)
{
    if (n)
        sodium_free(n); /* wipes */
}

const char *app_content_new_package(const struct app_content_new *n)
{
    return n->package_sha256;
}

/* ---- central: making and recording the encrypted copy ---- */

struct encrypt_run {
    FILE *in;
    const unsigned char *key;
    const char *delivery_id;
};

static int encrypt_into(FILE *out, void *ctx, struct op_err *e)
{
    struct encrypt_run *r = ctx;
    return content_encrypt(r->in, out, r->key, r->delivery_id, e);
}

static int load_master(struct instance *inst, struct key *master, struct op_err *e)
{
    char *dir = instance_path(inst, "keys");
    int rc = keys_load_master(dir, master, e);
    free(dir);
    return rc;
}

int app_content_prepare(struct instance *inst, const char *delivery_id, const char *package_sha256,
                        struct app_content_new **out, struct op_err *e)
{
    *out = NULL;
    if (!sha256_hex_is_valid(package_sha256))
        return err_set(e, OP_EINPUT, "delivery %s: \"%s\" is not a package hash", delivery_id,
                       package_sha256);
    struct app_content_new *n = sodium_malloc(sizeof *n);
    if (!n)
        return err_set(e, OP_ENOMEM, "out of memory");
    memset(n, 0, sizeof *n);
    memcpy(n->package_sha256, package_sha256, SHA256_HEX_LEN);
    int rc = load_master(inst, &n->master, e);
    char *clear = packages_path(inst->dir, package_sha256);
    char got[SHA256_HEX_LEN];
    /* The compiled package is checked before it is encrypted: a damaged file would
     * otherwise be sealed and shipped as if it were the test. */
    if (rc == 0 && (rc = packages_file_sha256(clear, got, NULL, e)) == 0 &&
        strcmp(got, package_sha256) != 0)
        rc = err_set(e, OP_ECRYPTO,
                     "compiled package %s is corrupted: its content hashes to %s (import the "
                     "QTI package again)",
                     package_sha256, got);
    FILE *in = NULL;
    if (rc == 0 && !(in = fopen(clear, "rb")))
        rc = err_set(e, OP_EIO, "%s: cannot read: %s", clear, strerror(errno));
    if (rc == 0) {
        content_key_generate(n->key);
        struct encrypt_run r = {in, n->key, delivery_id};
        rc = packages_enc_write(inst->dir, encrypt_into, &r, n->enc_sha256, &n->enc_size, e);
    }
    if (in)
        fclose(in);
    free(clear);
    if (rc != 0) {
        app_content_new_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

int app_content_record(struct db *db, const struct app_content_new *n, const char *delivery_id,
                       int64_t version, struct op_err *e)
{
    struct delivery_content c;
    memset(&c, 0, sizeof c);
    snprintf(c.delivery_id, sizeof c.delivery_id, "%s", delivery_id);
    c.version = version;
    memcpy(c.package_sha256, n->package_sha256, SHA256_HEX_LEN);
    memcpy(c.enc_sha256, n->enc_sha256, SHA256_HEX_LEN);
    c.enc_size = (int64_t)n->enc_size;
    int rc = content_key_wrap(n->key, delivery_id, version, &n->master, c.wrapped_key, e);
    if (rc != 0)
        return rc;
    c.wrapped_len = CONTENT_WRAPPED_KEY_BYTES;
    memcpy(c.master_key_id, n->master.id, KEY_ID_HEX_LEN);
    rc = delivery_content_insert(db, &c, e);
    /* Its eligibilities carry the content key sealed to each test taker: devices must get
     * them again with the new key. */
    if (rc == 0)
        rc = eligibilities_bump_delivery(db, delivery_id, e);
    return rc;
}

/* ---- central: ensure ---- */

struct ensure_run {
    const char *delivery_id;
    const struct app_content_new *n;
    int made;
};

/* db_write body: the delivery must still have the package that was encrypted; its current
 * version gets the row, unless a row for that package appeared meanwhile. */
static int ensure_body(struct db *db, void *ctx, struct op_err *e)
{
    struct ensure_run *r = ctx;
    r->made = 0;
    struct delivery d;
    int rc = deliveries_get(db, r->delivery_id, &d, e);
    if (rc != 0)
        return rc;
    struct delivery_content c;
    struct op_err none = {0};
    int have = delivery_content_get(db, d.id, d.version, &c, &none);
    if (have == 0 && strcmp(c.package_sha256, d.package_sha256) == 0)
        rc = 0; /* done meanwhile */
    else if (have != 0 && have != OP_ENOTFOUND)
        rc = err_set(e, none.code, "%s", none.msg);
    else if (strcmp(d.package_sha256, r->n->package_sha256) != 0)
        rc = err_set(e, OP_ECONFLICT, "delivery %s changed meanwhile: run again", d.id);
    else if ((rc = app_content_record(db, r->n, d.id, d.version, e)) == 0 &&
             (rc = deliveries_bump(db, d.id, e)) == 0)
        r->made = 1; /* a new version of the delivery: devices get its encrypted package */
    delivery_clear(&d);
    return rc;
}

int app_content_ensure(struct instance *inst, const char *delivery_id, int *made, struct op_err *e)
{
    if (made)
        *made = 0;
    int rc = instance_require_role(inst, ROLE_CENTRAL, "encrypting a delivery's package", e);
    if (rc != 0)
        return rc;
    struct delivery d;
    if ((rc = deliveries_get(inst->db, delivery_id, &d, e)) != 0)
        return rc;
    struct delivery_content c;
    struct op_err none = {0};
    int have = delivery_content_get(inst->db, d.id, d.version, &c, &none);
    if (!d.package_sha256[0] || (have == 0 && strcmp(c.package_sha256, d.package_sha256) == 0)) {
        delivery_clear(&d);
        return 0;
    }
    if (have != 0 && have != OP_ENOTFOUND) {
        delivery_clear(&d);
        return err_set(e, none.code, "%s", none.msg);
    }
    struct app_content_new *n;
    rc = app_content_prepare(inst, d.id, d.package_sha256, &n, e);
    if (rc == 0) {
        struct ensure_run r = {d.id, n, 0};
        rc = db_write(inst->db, ensure_body, &r, e);
        if (rc == 0 && made)
            *made = r.made;
        app_content_new_free(n);
    }
    delivery_clear(&d);
    return rc;
}

int app_content_ensure_all(struct instance *inst, int *made, struct op_err *e)
{
    *made = 0;
    int rc = instance_require_role(inst, ROLE_CENTRAL, "encrypting deliveries' packages", e);
    if (rc != 0)
        return rc;
    struct db_cursor cur;
    deliveries_cursor(&cur);
    const void *row;
    while ((rc = db_cursor_next(inst->db, &cur, &row, e)) == 0 && row) {
        const struct delivery *d = row;
        int one = 0;
        if ((rc = app_content_ensure(inst, d->id, &one, e)) != 0) {
            err_prefix(e, "delivery %s", d->label ? d->label : d->id);
            break;
        }
        *made += one;
    }
    db_cursor_close(&cur);
    return rc;
}

/* ---- central: reading, sealing, serving ---- */

int app_content_get(struct instance *inst, const char *delivery_id, int64_t version,
                    struct delivery_content *out, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "reading an encrypted package", e);
    if (rc == 0 && version < 0)
        rc = err_set_field(e, OP_EINPUT, "version", "a version is 1 or more");
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    return delivery_content_get(inst->db, delivery_id, version, out, e);
}

json_t *app_content_json(const struct delivery_content *c)
{
    return json_pack("{s:s, s:I, s:I, s:s, s:s}", "enc_sha256", c->enc_sha256, "enc_size",
                     (json_int_t)c->enc_size, "since_version", (json_int_t)c->version,
                     "package_sha256", c->package_sha256, "master_key_id", c->master_key_id);
}

struct app_content_key {
    unsigned char key[CONTENT_KEY_BYTES];
    struct delivery_content row;
};

void app_content_key_free(struct app_content_key *k)
{
    if (k)
        sodium_free(k); /* wipes */
}

int app_content_key_open(struct instance *central, const char *delivery_id, int64_t version,
                         struct app_content_key **out, struct op_err *e)
{
    *out = NULL;
    struct app_content_key *k = sodium_malloc(sizeof *k);
    struct key *master = key_new();
    if (!master || !k) {
        key_free(master);
        app_content_key_free(k);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    memset(k, 0, sizeof *k);
    int rc = app_content_get(central, delivery_id, version, &k->row, e);
    char *dir = rc == 0 ? instance_path(central, "keys") : NULL;
    if (rc == 0)
        rc = keys_load_master_by_id(dir, k->row.master_key_id, master, e);
    if (rc == OP_ENOTFOUND && dir)
        rc = err_set(e, OP_ESTATE,
                     "the content key of delivery %s is under master key %s, which is not in %s: "
                     "restore its key file from a backup (as master-%s.key)",
                     delivery_id, k->row.master_key_id, dir, k->row.master_key_id);
    free(dir);
    if (rc == 0)
        rc = content_key_unwrap(k->row.wrapped_key, k->row.wrapped_len, k->row.delivery_id,
                                k->row.version, master, k->key, e);
    key_free(master);
    if (rc != 0) {
        app_content_key_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

const struct delivery_content *app_content_key_row(const struct app_content_key *k)
{
    return &k->row;
}

int app_content_key_seal(const struct app_content_key *k,
                         const unsigned char user_vault_pk[VAULT_PUBLIC_BYTES],
                         unsigned char out[CONTENT_SEALED_KEY_BYTES], struct op_err *e)
{
    return content_key_seal(k->key, user_vault_pk, out, e);
}

int app_content_sealed_key(struct instance *central, const char *delivery_id, int64_t version,
                           const unsigned char user_vault_pk[VAULT_PUBLIC_BYTES],
                           unsigned char out[CONTENT_SEALED_KEY_BYTES], struct op_err *e)
{
    struct app_content_key *k;
    int rc = app_content_key_open(central, delivery_id, version, &k, e);
    if (rc == 0)
        rc = app_content_key_seal(k, user_vault_pk, out, e);
    app_content_key_free(k);
    return rc;
}

int app_content_locate(struct instance *central, const char *enc_sha256, char **path,
                       uint64_t *size, struct op_err *e)
{
    *path = NULL;
    *size = 0;
    int rc = instance_require_role(central, ROLE_CENTRAL, "serving packages", e);
    if (rc != 0)
        return rc;
    if (!sha256_hex_is_valid(enc_sha256))
        return err_set_field(e, OP_EINPUT, "sha256",
                             "a package is named by its SHA-256: 64 lower-case hex digits");
    struct delivery_content c;
    if ((rc = delivery_content_find_enc(central->db, enc_sha256, &c, e)) != 0)
        return rc;
    char *p = packages_enc_path(central->dir, enc_sha256);
    struct stat st;
    if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode) || (int64_t)st.st_size != c.enc_size) {
        free(p);
        return err_set(e, OP_ESTATE,
                       "encrypted package %s of delivery %s is missing or damaged in "
                       "%s/packages/enc: restore it from a backup",
                       enc_sha256, c.delivery_id, central->dir);
    }
    *path = p;
    *size = (uint64_t)st.st_size;
    return 0;
}

int app_content_locate_in_org(struct instance *central, const char *org_id, const char *enc_sha256,
                              char **path, uint64_t *size, struct op_err *e)
{
    *path = NULL;
    *size = 0;
    int rc = instance_require_role(central, ROLE_CENTRAL, "serving packages", e);
    if (rc != 0)
        return rc;
    if (!org_id || !*org_id || !sha256_hex_is_valid(enc_sha256))
        return err_set(e, OP_ENOTFOUND, "%s", APP_CONTENT_NO_PACKAGE);
    struct delivery_content c;
    struct op_err quiet;
    err_clear(&quiet);
    rc = delivery_content_find_enc(central->db, enc_sha256, &c, &quiet);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "%s", APP_CONTENT_NO_PACKAGE);
    if (rc != 0) {
        *e = quiet;
        return rc;
    }
    int in = 0;
    if ((rc = feed_in_scope(central->db, org_id, FEED_DELIVERY, c.delivery_id, &in, e)) != 0)
        return rc;
    if (!in)
        return err_set(e, OP_ENOTFOUND, "%s", APP_CONTENT_NO_PACKAGE);
    return app_content_locate(central, enc_sha256, path, size, e);
}

static int referenced(const char *sha, void *ctx, struct op_err *e)
{
    struct instance *inst = ctx;
    struct delivery_content c;
    struct op_err none = {0};
    int rc = delivery_content_find_enc(inst->db, sha, &c, &none);
    if (rc == 0)
        return 1;
    if (rc == OP_ENOTFOUND)
        return 0;
    return err_set(e, none.code, "%s", none.msg);
}

int app_content_sweep(struct instance *central, long min_age, int *removed, struct op_err *e)
{
    *removed = 0;
    int rc = instance_require_role(central, ROLE_CENTRAL, "removing unused packages", e);
    if (rc == 0 && min_age < 0)
        rc = err_set(e, OP_EINPUT, "the minimum age is 0 seconds or more");
    if (rc != 0)
        return rc;
    rc = packages_enc_sweep(central->dir, referenced, central, (time_t)min_age, removed, e);
    /* and what an upload or an import killed in the middle left (app/import_jobs.h) */
    return rc ? rc : import_uploads_sweep(central->dir, min_age, removed, e);
}

/* ---- device ---- */

static int store_downloaded(struct instance *device, const char *delivery_id, int64_t version,
                            const char *enc_sha256, const char *downloaded_path, int hash_checked,
                            struct op_err *e)
{
    int rc = instance_require_role(device, ROLE_DEVICE, "storing a downloaded package", e);
    if (rc != 0)
        return rc;
    if (!sha256_hex_is_valid(enc_sha256))
        return err_set_field(e, OP_EINPUT, "sha256",
                             "a package is named by its SHA-256: 64 lower-case hex digits");
    rc = hash_checked ? packages_enc_adopt_checked(device->dir, downloaded_path, enc_sha256, e)
                      : packages_enc_adopt(device->dir, downloaded_path, enc_sha256, e);
    if (rc != 0)
        return err_prefix(e, "delivery %s version %lld", delivery_id, (long long)version);
    return 0;
}

int app_content_store_downloaded(struct instance *device, const char *delivery_id, int64_t version,
                                 const char *enc_sha256, const char *downloaded_path,
                                 struct op_err *e)
{
    return store_downloaded(device, delivery_id, version, enc_sha256, downloaded_path, 0, e);
}

int app_content_store_checked(struct instance *device, const char *delivery_id, int64_t version,
                              const char *enc_sha256, const char *downloaded_path, struct op_err *e)
{
    return store_downloaded(device, delivery_id, version, enc_sha256, downloaded_path, 1, e);
}

int app_content_open_for(struct instance *device, const struct app_content_ref *ref,
                         const unsigned char *sealed_key, size_t sealed_len,
                         const unsigned char user_pk[VAULT_PUBLIC_BYTES],
                         const unsigned char user_sk[VAULT_SECRET_BYTES], FILE *out,
                         struct op_err *e)
{
    int rc = instance_require_role(device, ROLE_DEVICE, "opening a package", e);
    if (rc != 0)
        return rc;
    if (!sha256_hex_is_valid(ref->enc_sha256))
        return err_set_field(e, OP_EINPUT, "sha256",
                             "a package is named by its SHA-256: 64 lower-case hex digits");
    if (!packages_enc_has(device->dir, ref->enc_sha256, ref->enc_size))
        return err_set(e, OP_ENOTFOUND,
                       "delivery %s version %lld: package %s is not on this device (sync again)",
                       ref->delivery_id, (long long)ref->version, ref->enc_sha256);
    unsigned char *key = sodium_malloc(CONTENT_KEY_BYTES);
    if (!key)
        return err_set(e, OP_ENOMEM, "out of memory");
    rc = content_key_open(sealed_key, sealed_len, user_pk, user_sk, key, e);
    if (rc != 0)
        rc = err_prefix(e, "delivery %s: the content key", ref->delivery_id);
    char *path = packages_enc_path(device->dir, ref->enc_sha256);
    FILE *in = NULL;
    if (rc == 0 && !(in = fopen(path, "rb")))
        rc = err_set(e, OP_EIO, "%s: cannot read: %s", path, strerror(errno));
    if (rc == 0 && (rc = content_decrypt(in, out, key, ref->delivery_id, e)) != 0)
        err_prefix(e, "delivery %s version %lld", ref->delivery_id, (long long)ref->version);
    if (in)
        fclose(in);
    free(path);
    sodium_free(key);
    return rc;
}

int app_content_open_to_file(struct instance *device, const struct app_content_ref *ref,
                             const unsigned char *sealed_key, size_t sealed_len,
                             const unsigned char user_pk[VAULT_PUBLIC_BYTES],
                             const unsigned char user_sk[VAULT_SECRET_BYTES], const char *out_path,
                             struct op_err *e)
{
    size_t n = strlen(out_path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return err_set(e, OP_ENOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmpXXXXXX", out_path);
    int fd = mkstemp(tmp); /* 0600: the clear test */
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out) {
        int saved = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return err_set(e, OP_EIO, "%s: cannot create: %s", out_path, strerror(saved));
    }
    int rc = app_content_open_for(device, ref, sealed_key, sealed_len, user_pk, user_sk, out, e);
    if (fclose(out) != 0 && rc == 0)
        rc = err_set(e, OP_EIO, "%s: cannot write: %s", out_path, strerror(errno));
    if (rc == 0 && rename(tmp, out_path) != 0)
        rc = err_set(e, OP_EIO, "%s: cannot write: %s", out_path, strerror(errno));
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int app_content_missing(struct instance *device, const struct app_content_ref *needed, size_t n,
                        struct app_content_ref **missing, size_t *nmissing, struct op_err *e)
{
    *missing = NULL;
    *nmissing = 0;
    int rc = instance_require_role(device, ROLE_DEVICE, "listing missing packages", e);
    if (rc != 0)
        return rc;
    struct app_content_ref *v = n ? calloc(n, sizeof *v) : NULL;
    if (n && !v)
        return err_set(e, OP_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!sha256_hex_is_valid(needed[i].enc_sha256)) {
            free(v);
            return err_set_field(
                e, OP_EINPUT, "sha256", "delivery %s version %lld: \"%.64s\" is not a package hash",
                needed[i].delivery_id, (long long)needed[i].version, needed[i].enc_sha256);
        }
        if (packages_enc_has(device->dir, needed[i].enc_sha256, needed[i].enc_size))
            continue;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(v[j].enc_sha256, needed[i].enc_sha256) == 0;
        if (!dup)
            v[k++] = needed[i];
    }
    if (k == 0) {
        free(v);
        v = NULL;
    }
    *missing = v;
    *nmissing = k;
    return 0;
}
