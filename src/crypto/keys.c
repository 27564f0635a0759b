/*
 * keys.c - key files of an instance (see keys.h for the layout and the file format).
 *
 * Every secret read or generated here lives in a struct key that the caller wipes; the text
 * of a key file is wiped as soon as it is parsed or written.
 */
#include "crypto/keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"

#define KEY_FILE_MAX     1024
#define RESULTS_PREFIX   "results-"
#define RESULTS_SUFFIX   ".key"
#define CENTRAL_SIGNING  "signing.key"
#define MASTER_FILE      "master.key"
#define DEVICE_SIGNING   "device-signing.key"
#define MASTER_ID_LABEL  "outpost master key id v1"
#define MAX_RESULTS_KEYS 4096

static const char *kind_name(enum key_kind kind)
{
    switch (kind) {
    case KEY_RESULTS:
        return "results-x25519";
    case KEY_SIGNING:
        return "signing-ed25519";
    case KEY_MASTER:
        return "master";
    }
    return "?";
}

void key_wipe(struct key *k)
{
    sodium_memzero(k, sizeof *k);
}

struct key *key_new(void)
{
    struct key *k = sodium_malloc(sizeof *k);
    if (k)
        memset(k, 0, sizeof *k);
    return k;
}

void key_free(struct key *k)
{
    if (k)
        sodium_free(k); /* wipes before release */
}

void key_id_of_public(const unsigned char pk[KEY_PUBLIC_BYTES], char out[KEY_ID_HEX_LEN])
{
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, pk, KEY_PUBLIC_BYTES, NULL, 0);
    sodium_bin2hex(out, KEY_ID_HEX_LEN, h, KEY_ID_BYTES);
}

static void master_id(const unsigned char key[KEY_SECRET_BYTES], char out[KEY_ID_HEX_LEN])
{
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, (const unsigned char *)MASTER_ID_LABEL, strlen(MASTER_ID_LABEL),
                       key, KEY_SECRET_BYTES);
    sodium_bin2hex(out, KEY_ID_HEX_LEN, h, KEY_ID_BYTES);
}

void key_fingerprint(const struct key *k, char out[KEY_FINGERPRINT_HEX_LEN])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, k->public_key, KEY_PUBLIC_BYTES);
    sodium_bin2hex(out, KEY_FINGERPRINT_HEX_LEN, h, sizeof h);
}

/* Fills the derived parts (public key, expanded signing key, id) from k->secret. */
static void derive(struct key *k)
{
    switch (k->kind) {
    case KEY_RESULTS:
        crypto_scalarmult_base(k->public_key, k->secret);
        key_id_of_public(k->public_key, k->id);
        break;
    case KEY_SIGNING:
        crypto_sign_seed_keypair(k->public_key, k->sign_secret, k->secret);
        key_id_of_public(k->public_key, k->id);
        break;
    case KEY_MASTER:
        memset(k->public_key, 0, sizeof k->public_key);
        master_id(k->secret, k->id);
        break;
    }
}

static void generate(enum key_kind kind, int serial, struct key *k)
{
    memset(k, 0, sizeof *k);
    k->kind = kind;
    k->serial = serial;
    timestamp_now(k->created);
    randombytes_buf(k->secret, sizeof k->secret);
    derive(k);
}

/* ---- file format ---- */

static size_t serialize(const struct key *k, char *out, size_t cap)
{
    char pub[KEY_PUBLIC_BYTES * 2 + 1], sec[KEY_SECRET_BYTES * 2 + 1];
    sodium_bin2hex(pub, sizeof pub, k->public_key, KEY_PUBLIC_BYTES);
    sodium_bin2hex(sec, sizeof sec, k->secret, KEY_SECRET_BYTES);
    int n = snprintf(out, cap,
                     "# Outpost key file: secret, keep mode 0600, never edit\n"
                     "format 1\nkind %s\nid %s\n",
                     kind_name(k->kind), k->id);
    if (k->kind == KEY_RESULTS)
        n += snprintf(out + n, cap - (size_t)n, "serial %d\n", k->serial);
    n += snprintf(out + n, cap - (size_t)n, "created %s\n", k->created);
    if (k->kind != KEY_MASTER)
        n += snprintf(out + n, cap - (size_t)n, "public %s\n", pub);
    n += snprintf(out + n, cap - (size_t)n, "secret %s\n", sec);
    sodium_memzero(sec, sizeof sec);
    return (size_t)n;
}

/* Takes the next line of *p as "name value"; returns the value (NUL-terminated in place) if
 * the name matches, else NULL. */
static char *take_line(char **p, const char *name)
{
    char *line = *p;
    if (!*line)
        return NULL;
    char *nl = strchr(line, '\n');
    if (!nl)
        return NULL;
    *nl = '\0';
    *p = nl + 1;
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0 || line[n] != ' ')
        return NULL;
    return line + n + 1;
}

static int hex_exact(const char *hex, unsigned char *out, size_t len)
{
    size_t got = 0;
    const char *end = NULL;
    if (!hex || strlen(hex) != len * 2)
        return -1;
    if (sodium_hex2bin(out, len, hex, len * 2, NULL, &got, &end) != 0 || got != len || *end)
        return -1;
    return 0;
}

static int parse(const char *path, char *text, struct key *k, struct op_err *e)
{
    memset(k, 0, sizeof *k);
    char *p = text;
    if (strncmp(p, "# ", 2) == 0) { /* the comment line */
        char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : p + strlen(p);
    }
    const char *v = take_line(&p, "format");
    if (!v || strcmp(v, "1") != 0)
        return err_set(e, OP_ESTATE, "%s: not an Outpost key file of format 1", path);
    const char *kind = take_line(&p, "kind");
    if (kind && strcmp(kind, "results-x25519") == 0)
        k->kind = KEY_RESULTS;
    else if (kind && strcmp(kind, "signing-ed25519") == 0)
        k->kind = KEY_SIGNING;
    else if (kind && strcmp(kind, "master") == 0)
        k->kind = KEY_MASTER;
    else
        return err_set(e, OP_ESTATE, "%s: damaged key file (kind)", path);
    const char *id = take_line(&p, "id");
    if (!id || strlen(id) != KEY_ID_HEX_LEN - 1)
        return err_set(e, OP_ESTATE, "%s: damaged key file (id)", path);
    if (k->kind == KEY_RESULTS) {
        const char *s = take_line(&p, "serial");
        char *end = NULL;
        long serial = s ? strtol(s, &end, 10) : 0;
        if (!s || *end || serial < 1 || serial > 999999)
            return err_set(e, OP_ESTATE, "%s: damaged key file (serial)", path);
        k->serial = (int)serial;
    }
    const char *created = take_line(&p, "created");
    if (!created || strlen(created) >= sizeof k->created)
        return err_set(e, OP_ESTATE, "%s: damaged key file (created)", path);
    snprintf(k->created, sizeof k->created, "%s", created);
    unsigned char pub[KEY_PUBLIC_BYTES] = {0};
    if (k->kind != KEY_MASTER && hex_exact(take_line(&p, "public"), pub, sizeof pub) != 0)
        return err_set(e, OP_ESTATE, "%s: damaged key file (public)", path);
    if (hex_exact(take_line(&p, "secret"), k->secret, sizeof k->secret) != 0) {
        key_wipe(k);
        return err_set(e, OP_ESTATE, "%s: damaged key file (secret)", path);
    }
    if (*p) {
        key_wipe(k);
        return err_set(e, OP_ESTATE, "%s: damaged key file (unexpected trailing lines)", path);
    }
    char want_id[KEY_ID_HEX_LEN];
    snprintf(want_id, sizeof want_id, "%s", id);
    derive(k);
    if (sodium_memcmp(pub, k->public_key, sizeof pub) != 0 || strcmp(want_id, k->id) != 0) {
        key_wipe(k);
        return err_set(e, OP_ESTATE,
                       "%s: damaged key file (the public key or id does not match the secret "
                       "key); restore it from a backup",
                       path);
    }
    return 0;
}

int keys_load_file(const char *path, struct key *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0;
    if (fs_read_secret(path, KEY_FILE_MAX, FS_NOFOLLOW | FS_PRIVATE, "key file", &text, &len, NULL,
                       e) != 0)
        return e->code;
    int rc = parse(path, text, out, e);
    fs_secret_free(text);
    return rc;
}

/* Refuses a key folder that group or others can enter or list (a restore by `cp -r` under
 * umask 022). A missing folder is left to the caller, which reports the missing key. */
static int check_dir(const char *dir, struct op_err *e)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return errno == ENOENT ? 0 : err_set(e, OP_EIO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return err_set(e, OP_ESTATE, "%s: not a folder", dir);
    if (st.st_mode & 077)
        return err_set(e, OP_ESTATE,
                       "%s: key folder is accessible by others (mode %03o); run `chmod 700 %s`",
                       dir, (unsigned)(st.st_mode & 0777), dir);
    return 0;
}

/* Creates a new key of `kind` in `path` unless a file is there; either way loads it into
 * *out (NULL: wiped) and counts it in *rep. */
static int ensure_key(const char *path, enum key_kind kind, int serial, struct key *out,
                      struct keys_setup_report *rep, struct op_err *e)
{
    struct key k;
    generate(kind, serial, &k);
    char text[KEY_FILE_MAX];
    size_t len = serialize(&k, text, sizeof text);
    int rc = fs_write_new(path, text, len, 0600, e);
    sodium_memzero(text, sizeof text);
    if (rc < 0) {
        key_wipe(&k);
        return rc;
    }
    if (rc == 1) {
        key_wipe(&k);
        if (keys_load_file(path, &k, e) != 0)
            return e->code;
        if (k.kind != kind) {
            enum key_kind found = k.kind;
            key_wipe(&k);
            return err_set(e, OP_ESTATE, "%s: holds a %s key, not a %s key", path, kind_name(found),
                           kind_name(kind));
        }
        if (rep)
            rep->kept++;
    } else if (rep) {
        rep->created++;
    }
    if (out)
        *out = k;
    key_wipe(&k);
    return 0;
}

static int ensure_dir(const char *dir, struct op_err *e)
{
    if (fs_mkdir_p(dir, 0700, e) != 0)
        return OP_EIO;
    if (chmod(dir, 0700) != 0)
        return err_set(e, OP_EIO, "%s: cannot set mode 0700: %s", dir, strerror(errno));
    return 0;
}

/* ---- results keys ---- */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The serials of the results keys in `dir`, ascending. *out is malloc'ed (caller frees). */
static int list_serials(const char *dir, int **out, int *n, struct op_err *e)
{
    *out = NULL;
    *n = 0;
    if (check_dir(dir, e) != 0)
        return e->code;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return err_set(e, OP_EIO, "%s: cannot list keys: %s", dir, strerror(errno));
    }
    int *v = malloc(sizeof *v * MAX_RESULTS_KEYS);
    if (!v) {
        closedir(d);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        int serial = 0;
        char canonical[64];
        if (sscanf(de->d_name, RESULTS_PREFIX "%6d", &serial) != 1 || serial < 1)
            continue;
        snprintf(canonical, sizeof canonical, RESULTS_PREFIX "%04d" RESULTS_SUFFIX, serial);
        if (strcmp(canonical, de->d_name) != 0)
            continue; /* not ours: a temporary file, a backup copy, ... */
        if (*n >= MAX_RESULTS_KEYS) {
            free(v);
            closedir(d);
            return err_set(e, OP_ESTATE, "%s: more than %d results keys", dir, MAX_RESULTS_KEYS);
        }
        v[(*n)++] = serial;
    }
    closedir(d);
    qsort(v, (size_t)*n, sizeof *v, cmp_int);
    *out = v;
    return 0;
}

static char *results_path(const char *dir, int serial)
{
    char name[64];
    snprintf(name, sizeof name, RESULTS_PREFIX "%04d" RESULTS_SUFFIX, serial);
    return fs_join(dir, name);
}

static int load_results(const char *dir, int serial, struct key *out, struct op_err *e)
{
    char *path = results_path(dir, serial);
    int rc = keys_load_file(path, out, e);
    if (rc == 0 && (out->kind != KEY_RESULTS || out->serial != serial)) {
        key_wipe(out);
        rc = err_set(e, OP_ESTATE, "%s: not results key number %d", path, serial);
    }
    free(path);
    return rc;
}

int keys_results_each(const char *dir, keys_each_fn fn, void *ctx, struct op_err *e)
{
    int *serials, n;
    if (list_serials(dir, &serials, &n, e) != 0)
        return e->code;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        struct key k;
        rc = load_results(dir, serials[i], &k, e);
        if (rc == 0)
            rc = fn(&k, ctx);
        key_wipe(&k);
    }
    free(serials);
    return rc;
}

int keys_results_current(const char *dir, struct key *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int *serials, n;
    if (list_serials(dir, &serials, &n, e) != 0)
        return e->code;
    int rc = n == 0 ? err_set(e, OP_ENOTFOUND,
                              "%s: no results key; run `outpost setup-central` on the central "
                              "server",
                              dir)
                    : load_results(dir, serials[n - 1], out, e);
    free(serials);
    return rc;
}

struct find_ctx {
    const char *id;
    struct key *out;
};

static int find_id(const struct key *k, void *ctx)
{
    struct find_ctx *f = ctx;
    if (strcmp(k->id, f->id) != 0)
        return 0;
    *f->out = *k;
    return 1;
}

int keys_results_by_id(const char *dir, const char *id, struct key *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct find_ctx f = {id, out};
    int rc = keys_results_each(dir, find_id, &f, e);
    if (rc == 1)
        return 0;
    if (rc < 0)
        return rc;
    return err_set(e, OP_ENOTFOUND,
                   "no results key with id %s in %s (restore the key file from a backup)", id, dir);
}

int keys_rotate_results(const char *dir, struct key *out, struct op_err *e)
{
    if (ensure_dir(dir, e) != 0)
        return OP_EIO;
    /* A concurrent rotate may take the serial first: then try the next one. */
    for (int attempt = 0; attempt < 16; attempt++) {
        int *serials, n;
        if (list_serials(dir, &serials, &n, e) != 0)
            return e->code;
        int next = n ? serials[n - 1] + 1 : 1;
        free(serials);
        struct key k;
        generate(KEY_RESULTS, next, &k);
        char text[KEY_FILE_MAX];
        size_t len = serialize(&k, text, sizeof text);
        char *path = results_path(dir, next);
        int rc = fs_write_new(path, text, len, 0600, e);
        sodium_memzero(text, sizeof text);
        free(path);
        if (rc < 0) {
            key_wipe(&k);
            return rc;
        }
        if (rc == 0) {
            if (out)
                *out = k;
            key_wipe(&k);
            return 0;
        }
        key_wipe(&k);
    }
    return err_set(e, OP_ECONFLICT, "%s: could not take a new results key serial", dir);
}

/* ---- setup ---- */

int keys_setup_central(const char *dir, struct keys_setup_report *rep, struct op_err *e)
{
    struct keys_setup_report local = {0, 0};
    if (!rep)
        rep = &local;
    if (ensure_dir(dir, e) != 0)
        return OP_EIO;
    int *serials, n;
    if (list_serials(dir, &serials, &n, e) != 0)
        return e->code;
    int rc = 0;
    if (n == 0) {
        char *path = results_path(dir, 1);
        rc = ensure_key(path, KEY_RESULTS, 1, NULL, rep, e);
        free(path);
    } else {
        for (int i = 0; i < n && rc == 0; i++) {
            struct key k;
            rc = load_results(dir, serials[i], &k, e);
            key_wipe(&k);
            if (rc == 0)
                rep->kept++;
        }
    }
    free(serials);
    if (rc != 0)
        return rc;
    char *path = fs_join(dir, CENTRAL_SIGNING);
    rc = ensure_key(path, KEY_SIGNING, 0, NULL, rep, e);
    free(path);
    if (rc != 0)
        return rc;
    path = fs_join(dir, MASTER_FILE);
    rc = ensure_key(path, KEY_MASTER, 0, NULL, rep, e);
    free(path);
    return rc;
}

int keys_setup_device(const char *dir, struct keys_setup_report *rep, struct op_err *e)
{
    if (ensure_dir(dir, e) != 0)
        return OP_EIO;
    char *path = fs_join(dir, DEVICE_SIGNING);
    int rc = ensure_key(path, KEY_SIGNING, 0, NULL, rep, e);
    free(path);
    return rc;
}

static int load_named(const char *dir, const char *name, enum key_kind kind, const char *hint,
                      struct key *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (check_dir(dir, e) != 0)
        return e->code;
    char *path = fs_join(dir, name);
    int rc = keys_load_file(path, out, e);
    if (rc == OP_ENOTFOUND)
        err_set(e, OP_ENOTFOUND, "%s: no such key file; run `outpost %s`", path, hint);
    else if (rc == 0 && out->kind != kind) {
        enum key_kind found = out->kind;
        key_wipe(out);
        rc = err_set(e, OP_ESTATE, "%s: holds a %s key, not a %s key", path, kind_name(found),
                     kind_name(kind));
    }
    free(path);
    return rc;
}

int keys_load_central_signing(const char *dir, struct key *out, struct op_err *e)
{
    return load_named(dir, CENTRAL_SIGNING, KEY_SIGNING, "setup-central", out, e);
}

int keys_load_master(const char *dir, struct key *out, struct op_err *e)
{
    return load_named(dir, MASTER_FILE, KEY_MASTER, "setup-central", out, e);
}

int keys_load_device_signing(const char *dir, struct key *out, struct op_err *e)
{
    return load_named(dir, DEVICE_SIGNING, KEY_SIGNING, "setup-device", out, e);
}
