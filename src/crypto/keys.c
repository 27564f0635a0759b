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
    int created;
    int rc = fs_write_new(path, text, len, 0600, &created, e);
    sodium_memzero(text, sizeof text);
    if (rc < 0) {
        key_wipe(&k);
        return rc;
    }
    if (!created) {
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

/* A results key file in the folder: named by its serial (results-NNNN.key, as setup and
 * rotate make them) or by its key id (results-<id>.key: a replacement made by
 * `setup-central --replace-lost-key`, or a key restored from a backup whose own name is
 * taken). The name is checked against the file's content when it is loaded. */
struct results_file {
    char name[64];
    int serial; /* from the name, or read from an id-named file (0: unreadable) */
    char created[TIMESTAMP_STR_LEN]; /* id-named files only: orders keys of equal serial */
    char id[KEY_ID_HEX_LEN];         /* id-named files only */
};

/* Ascending serial; at equal serials (a replacement and the restored key it replaced), the
 * older one first, so that the replacement stays current. */
static int cmp_results_file(const void *a, const void *b)
{
    const struct results_file *x = a, *y = b;
    if (x->serial != y->serial)
        return (x->serial > y->serial) - (x->serial < y->serial);
    int c = strcmp(x->created, y->created);
    return c ? c : strcmp(x->name, y->name);
}

static int is_hex_id(const char *s, size_t len)
{
    if (len != KEY_ID_HEX_LEN - 1)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789abcdef", s[i]))
            return 0;
    return 1;
}

/* Fills *f if `name` is the name of a results key file, else returns 0. */
static int results_file_of(const char *dir, const char *name, struct results_file *f)
{
    memset(f, 0, sizeof *f);
    size_t n = strlen(name), lp = strlen(RESULTS_PREFIX), ls = strlen(RESULTS_SUFFIX);
    if (n <= lp + ls || n >= sizeof f->name || strncmp(name, RESULTS_PREFIX, lp) != 0 ||
        strcmp(name + n - ls, RESULTS_SUFFIX) != 0)
        return 0;
    snprintf(f->name, sizeof f->name, "%s", name);
    const char *mid = name + lp;
    size_t mlen = n - lp - ls;
    if (is_hex_id(mid, mlen)) {
        memcpy(f->id, mid, mlen);
        /* Its serial is inside: read it now to order the keys (an unreadable file sorts first
         * and reports its problem when it is loaded). */
        char *path = fs_join(dir, name);
        struct key k;
        if (keys_load_file(path, &k, &(struct op_err){0}) == 0) {
            f->serial = k.serial;
            snprintf(f->created, sizeof f->created, "%s", k.created);
        }
        key_wipe(&k);
        free(path);
        return 1;
    }
    int serial = 0;
    char canonical[64];
    if (sscanf(mid, "%6d", &serial) != 1 || serial < 1)
        return 0;
    snprintf(canonical, sizeof canonical, RESULTS_PREFIX "%04d" RESULTS_SUFFIX, serial);
    if (strcmp(canonical, name) != 0)
        return 0; /* not ours: a temporary file, a backup copy, ... */
    f->serial = serial;
    return 1;
}

/* The results key files in `dir`, current last (see cmp_results_file). *out is malloc'ed
 * (caller frees). */
static int list_results(const char *dir, struct results_file **out, int *n, struct op_err *e)
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
    struct results_file *v = malloc(sizeof *v * MAX_RESULTS_KEYS);
    if (!v) {
        closedir(d);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        struct results_file f;
        if (!results_file_of(dir, de->d_name, &f))
            continue;
        if (*n >= MAX_RESULTS_KEYS) {
            free(v);
            closedir(d);
            return err_set(e, OP_ESTATE, "%s: more than %d results keys", dir, MAX_RESULTS_KEYS);
        }
        v[(*n)++] = f;
    }
    closedir(d);
    qsort(v, (size_t)*n, sizeof *v, cmp_results_file);
    *out = v;
    return 0;
}

static char *results_path(const char *dir, int serial)
{
    char name[64];
    snprintf(name, sizeof name, RESULTS_PREFIX "%04d" RESULTS_SUFFIX, serial);
    return fs_join(dir, name);
}

/* Loads one listed results key file and checks that its content matches its name. */
static int load_results(const char *dir, const struct results_file *f, struct key *out,
                        struct op_err *e)
{
    char *path = fs_join(dir, f->name);
    int rc = keys_load_file(path, out, e);
    if (rc == 0 && out->kind != KEY_RESULTS) {
        key_wipe(out);
        rc = err_set(e, OP_ESTATE, "%s: not a results key", path);
    } else if (rc == 0 && f->id[0] && strcmp(out->id, f->id) != 0) {
        char id[KEY_ID_HEX_LEN];
        snprintf(id, sizeof id, "%s", out->id);
        key_wipe(out);
        rc = err_set(e, OP_ESTATE, "%s: holds results key %s, not %s; rename it results-%s.key",
                     path, id, f->id, id);
    } else if (rc == 0 && !f->id[0] && out->serial != f->serial) {
        int serial = out->serial;
        char id[KEY_ID_HEX_LEN];
        snprintf(id, sizeof id, "%s", out->id);
        key_wipe(out);
        rc = err_set(e, OP_ESTATE,
                     "%s: holds results key number %d (id %s), not number %d; rename it "
                     "results-%s.key",
                     path, serial, id, f->serial, id);
    }
    free(path);
    return rc;
}

int keys_results_each(const char *dir, keys_each_fn fn, keys_problem_fn on_problem, void *ctx,
                      struct op_err *e)
{
    struct results_file *files;
    int n;
    if (list_results(dir, &files, &n, e) != 0)
        return e->code;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        struct key k;
        struct op_err why = {0};
        rc = load_results(dir, &files[i], &k, &why);
        if (rc == OP_ENOMEM || (rc != 0 && !on_problem)) {
            *e = why;
        } else if (rc != 0) {
            char *path = fs_join(dir, files[i].name);
            on_problem(path, &why, ctx);
            free(path);
            rc = 0;
        } else {
            rc = fn(&k, ctx);
        }
        key_wipe(&k);
    }
    free(files);
    return rc;
}

int keys_results_current(const char *dir, struct key *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct results_file *files;
    int n;
    if (list_results(dir, &files, &n, e) != 0)
        return e->code;
    int rc = n == 0 ? err_set_remedy(e, OP_ENOTFOUND, OP_REMEDY_RESTORE_RESULTS_KEY,
                                     "%s: no results key; restore the key files from a backup "
                                     "of this folder",
                                     dir)
                    : load_results(dir, &files[n - 1], out, e);
    free(files);
    return rc;
}

struct find_ctx {
    const char *id;
    struct key *out;
    int unloadable;      /* key files that did not load */
    struct op_err first; /* why the first of them did not */
};

static int find_id(const struct key *k, void *ctx)
{
    struct find_ctx *f = ctx;
    if (strcmp(k->id, f->id) != 0)
        return 0;
    *f->out = *k;
    return 1;
}

static void find_problem(const char *path, const struct op_err *why, void *ctx)
{
    (void)path;
    struct find_ctx *f = ctx;
    if (f->unloadable++ == 0)
        f->first = *why;
}

int keys_results_by_id(const char *dir, const char *id, struct key *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct find_ctx f = {.id = id, .out = out};
    int rc = keys_results_each(dir, find_id, find_problem, &f, e);
    if (rc == 1)
        return 0;
    if (rc < 0)
        return rc;
    if (f.unloadable)
        return err_set(e, OP_ESTATE,
                       "no results key with id %s among the key files of %s that load; %d do not "
                       "load, and one of them may be it: %s%s",
                       id, dir, f.unloadable, f.first.msg, f.unloadable > 1 ? " (and others)" : "");
    return err_set(e, OP_ENOTFOUND,
                   "results key %s is not in %s: restore its key file from a backup, under its "
                   "own name (results-NNNN.key) or as results-%s.key",
                   id, dir, id);
}

/* Writes a new results key with serial `serial`, named by its serial or (`by_id`) by its id;
 * returns 0 with *created 0 if the name is taken (nothing written), or an error. */
static int write_results_key(const char *dir, int serial, int by_id, struct key *out, int *created,
                             struct op_err *e)
{
    struct key k;
    generate(KEY_RESULTS, serial, &k);
    char text[KEY_FILE_MAX];
    size_t len = serialize(&k, text, sizeof text);
    char *path;
    if (by_id) {
        char name[64];
        snprintf(name, sizeof name, RESULTS_PREFIX "%s" RESULTS_SUFFIX, k.id);
        path = fs_join(dir, name);
    } else {
        path = results_path(dir, serial);
    }
    int rc = fs_write_new(path, text, len, 0600, created, e);
    sodium_memzero(text, sizeof text);
    free(path);
    if (rc == 0 && *created && out)
        *out = k;
    key_wipe(&k);
    return rc;
}

/* Adds a results key with a serial above every one in the folder. A name already taken (a
 * concurrent rotate, or a restored key file) moves on to the next serial. */
static int add_results_key(const char *dir, int by_id, struct key *out, struct op_err *e)
{
    if (ensure_dir(dir, e) != 0)
        return OP_EIO;
    struct results_file *files;
    int n;
    if (list_results(dir, &files, &n, e) != 0)
        return e->code;
    int next = n ? files[n - 1].serial + 1 : 1;
    for (int i = 0; i < n; i++)
        if (files[i].serial >= next)
            next = files[i].serial + 1;
    free(files);
    for (int attempt = 0; attempt < 16; attempt++, next++) {
        int created;
        int rc = write_results_key(dir, next, by_id, out, &created, e);
        if (rc != 0 || created)
            return rc;
    }
    return err_set(e, OP_ECONFLICT, "%s: could not take a new results key serial", dir);
}

int keys_rotate_results(const char *dir, struct key *out, struct op_err *e)
{
    return add_results_key(dir, 0, out, e);
}

/* ---- setup ---- */

int keys_setup_central_with(const char *dir, const struct keys_setup_options *opt,
                            struct keys_setup_report *rep, struct op_err *e)
{
    struct keys_setup_report local = {0, 0};
    if (!rep)
        rep = &local;
    if (ensure_dir(dir, e) != 0)
        return OP_EIO;
    struct results_file *files;
    int n;
    if (list_results(dir, &files, &n, e) != 0)
        return e->code;
    int rc = 0;
    if (n == 0 && opt && opt->results_by_id) {
        rc = add_results_key(dir, 1, NULL, e);
        if (rc == 0)
            rep->created++;
    } else if (n == 0) {
        char *path = results_path(dir, 1);
        rc = ensure_key(path, KEY_RESULTS, 1, NULL, rep, e);
        free(path);
    } else {
        for (int i = 0; i < n && rc == 0; i++) {
            struct key k;
            rc = load_results(dir, &files[i], &k, e);
            key_wipe(&k);
            if (rc == 0)
                rep->kept++;
        }
    }
    free(files);
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

int keys_setup_central(const char *dir, struct keys_setup_report *rep, struct op_err *e)
{
    return keys_setup_central_with(dir, NULL, rep, e);
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

static int load_named(const char *dir, const char *name, enum key_kind kind, enum op_remedy setup,
                      struct key *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (check_dir(dir, e) != 0)
        return e->code;
    char *path = fs_join(dir, name);
    int rc = keys_load_file(path, out, e);
    if (rc == OP_ENOTFOUND && kind == KEY_MASTER)
        err_set_remedy(e, OP_ENOTFOUND, OP_REMEDY_RESTORE_MASTER_KEY,
                       "%s: no such key file; restore it from a backup of %s (the escrow copies "
                       "of user vault keys open with no other key)",
                       path, dir);
    else if (rc == OP_ENOTFOUND)
        err_set_remedy(e, OP_ENOTFOUND, setup, "%s: no such key file", path);
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
    return load_named(dir, CENTRAL_SIGNING, KEY_SIGNING, OP_REMEDY_SETUP_CENTRAL_KEYS, out, e);
}

int keys_load_master(const char *dir, struct key *out, struct op_err *e)
{
    return load_named(dir, MASTER_FILE, KEY_MASTER, OP_REMEDY_SETUP_CENTRAL_KEYS, out, e);
}

int keys_load_device_signing(const char *dir, struct key *out, struct op_err *e)
{
    return load_named(dir, DEVICE_SIGNING, KEY_SIGNING, OP_REMEDY_SETUP_DEVICE_KEYS, out, e);
}

/* ---- master keys restored beside the current one ---- */

/* A master key file other than master.key: master-<id>.key, a master key restored from a
 * backup after a replacement took its name. Returns 1 and fills `id` if `name` is one. */
static int restored_master_name(const char *name, char id[KEY_ID_HEX_LEN])
{
    size_t n = strlen(name);
    if (n != strlen("master-") + KEY_ID_HEX_LEN - 1 + strlen(".key") ||
        strncmp(name, "master-", 7) != 0 || strcmp(name + n - 4, ".key") != 0 ||
        !is_hex_id(name + 7, KEY_ID_HEX_LEN - 1))
        return 0;
    memcpy(id, name + 7, KEY_ID_HEX_LEN - 1);
    id[KEY_ID_HEX_LEN - 1] = '\0';
    return 1;
}

static int load_restored_master(const char *dir, const char *name, const char *id, struct key *out,
                                struct op_err *e)
{
    char *path = fs_join(dir, name);
    int rc = keys_load_file(path, out, e);
    if (rc == 0 && (out->kind != KEY_MASTER || strcmp(out->id, id) != 0)) {
        char found[KEY_ID_HEX_LEN];
        snprintf(found, sizeof found, "%s", out->id);
        int master = out->kind == KEY_MASTER;
        key_wipe(out);
        rc = master
                 ? err_set(e, OP_ESTATE, "%s: holds master key %s, not %s; rename it master-%s.key",
                           path, found, id, found)
                 : err_set(e, OP_ESTATE, "%s: not a master key", path);
    }
    free(path);
    return rc;
}

int keys_master_each(const char *dir, keys_each_fn fn, void *ctx, struct op_err *e)
{
    if (check_dir(dir, e) != 0)
        return e->code;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT
                   ? 0
                   : err_set(e, OP_EIO, "%s: cannot list keys: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        char id[KEY_ID_HEX_LEN];
        struct key k;
        if (strcmp(de->d_name, MASTER_FILE) == 0)
            rc = load_named(dir, MASTER_FILE, KEY_MASTER, OP_REMEDY_SETUP_CENTRAL_KEYS, &k, e);
        else if (restored_master_name(de->d_name, id))
            rc = load_restored_master(dir, de->d_name, id, &k, e);
        else
            continue;
        if (rc == 0)
            rc = fn(&k, ctx);
        key_wipe(&k);
    }
    closedir(d);
    return rc;
}

int keys_load_master_by_id(const char *dir, const char *id, struct key *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = keys_load_master(dir, out, e);
    if (rc == 0 && strcmp(out->id, id) == 0)
        return 0;
    key_wipe(out);
    if (rc != 0 && rc != OP_ENOTFOUND)
        return rc;
    char name[64];
    snprintf(name, sizeof name, "master-%s.key", id);
    rc = load_restored_master(dir, name, id, out, e);
    if (rc == OP_ENOTFOUND)
        rc = err_set(e, OP_ENOTFOUND,
                     "master key %s is not in %s: restore its key file from a backup, as "
                     "master.key if that name is free, else as %s",
                     id, dir, name);
    return rc;
}
