/*
 * packages.c - the content-addressed package store (see packages.h).
 */
#include "store/packages.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"

char *packages_path(const char *dir, const char *sha)
{
    size_t n = strlen(dir) + 80;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s/packages/%s", dir, sha);
    return p;
}

int packages_put(const char *dir, const void *data, size_t len, char sha[PACKAGE_SHA256_HEX],
                 struct op_err *e)
{
    sha256_hex(data, len, sha);
    size_t n = strlen(dir) + 16;
    char *folder = malloc(n);
    if (!folder)
        abort();
    snprintf(folder, n, "%s/packages", dir);
    int rc = fs_mkdir_p(folder, 0700, e);
    free(folder);
    if (rc)
        return rc;
    char *path = packages_path(dir, sha);
    /* Same name, same bytes: an existing, intact copy is kept as it is. */
    unsigned char *old;
    size_t old_len;
    struct op_err ignore = {0};
    if (fs_exists(path) && packages_get(dir, sha, len + 1, &old, &old_len, &ignore) == 0) {
        free(old);
        free(path);
        return 0;
    }
    rc = fs_write_atomic(path, data, len, 0600, e);
    free(path);
    return rc;
}

int packages_get(const char *dir, const char *sha, size_t max, unsigned char **out, size_t *len,
                 struct op_err *e)
{
    *out = NULL;
    *len = 0;
    if (!sha256_hex_is_valid(sha))
        return err_set(e, OP_EINPUT, "\"%s\" is not a package hash (64 hex digits)", sha);
    char *path = packages_path(dir, sha);
    char *data;
    size_t n;
    int rc = fs_read_file(path, max, &data, &n, e);
    free(path);
    if (rc)
        return rc;
    char got[PACKAGE_SHA256_HEX];
    sha256_hex(data, n, got);
    if (strcmp(got, sha) != 0) {
        free(data);
        return err_set(e, OP_ECRYPTO,
                       "package %s is corrupted: its content hashes to %s (fetch it again)", sha,
                       got);
    }
    *out = (unsigned char *)data;
    *len = n;
    return 0;
}

/* ---- encrypted packages ---- */

#define ENC_BUF (64 * 1024)
#define TMP_PFX ".tmp-"

static char *enc_folder(const char *dir)
{
    size_t n = strlen(dir) + 16;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s/packages/enc", dir);
    return p;
}

char *packages_enc_path(const char *dir, const char *sha)
{
    size_t n = strlen(dir) + 96;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s/packages/enc/%s", dir, sha);
    return p;
}

/* Hashes the open stream `f` from where it is to its end. */
static int hash_stream(FILE *f, char sha[PACKAGE_SHA256_HEX], uint64_t *size, const char *what,
                       struct op_err *e)
{
    struct sha256_stream st;
    sha256_stream_init(&st);
    unsigned char *buf = malloc(ENC_BUF);
    if (!buf)
        return err_set(e, OP_ENOMEM, "out of memory");
    uint64_t total = 0;
    size_t r;
    while ((r = fread(buf, 1, ENC_BUF, f)) > 0) {
        sha256_stream_update(&st, buf, r);
        total += r;
    }
    free(buf);
    if (ferror(f))
        return err_set(e, OP_EIO, "%s: cannot read", what);
    sha256_stream_final_hex(&st, sha);
    if (size)
        *size = total;
    return 0;
}

int packages_file_sha256(const char *path, char sha[PACKAGE_SHA256_HEX], uint64_t *size,
                         struct op_err *e)
{
    int fd;
    int rc = fs_open_regular(path, &fd, e);
    if (rc != 0)
        return rc;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return err_set(e, OP_EIO, "%s: cannot read: %s", path, strerror(errno));
    }
    rc = hash_stream(f, sha, size, path, e);
    fclose(f);
    return rc;
}

static void fsync_folder(const char *folder)
{
    int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* A new private temporary file in `folder`: its path in *tmp (caller frees), open for
 * reading and writing in *out. */
static int open_tmp(const char *folder, char **tmp, FILE **out, struct op_err *e)
{
    *out = NULL;
    int rc = fs_mkdir_p(folder, 0700, e);
    if (rc != 0)
        return rc;
    size_t n = strlen(folder) + 32;
    *tmp = malloc(n);
    if (!*tmp)
        return err_set(e, OP_ENOMEM, "out of memory");
    snprintf(*tmp, n, "%s/" TMP_PFX "XXXXXX", folder);
    int fd = mkstemp(*tmp); /* 0600 */
    if (fd < 0 || !(*out = fdopen(fd, "w+b"))) {
        int saved = errno;
        if (fd >= 0) {
            close(fd);
            unlink(*tmp);
        }
        free(*tmp);
        *tmp = NULL;
        return err_set(e, OP_EIO, "%s: cannot create a temporary file: %s", folder,
                       strerror(saved));
    }
    return 0;
}

/* Flushes and fsyncs `f`, hashes it from its start, closes it and renames `tmp` to its hash
 * in `folder`. The temporary file is removed on every failure. */
static int place_by_hash(FILE *f, char *tmp, const char *folder, const char *want,
                         char sha[PACKAGE_SHA256_HEX], uint64_t *size, struct op_err *e)
{
    int rc = 0;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = err_set(e, OP_EIO, "%s: cannot write: %s", folder, strerror(errno));
    if (rc == 0 && fseek(f, 0, SEEK_SET) != 0)
        rc = err_set(e, OP_EIO, "%s: cannot read back: %s", folder, strerror(errno));
    if (rc == 0)
        rc = hash_stream(f, sha, size, folder, e);
    if (fclose(f) != 0 && rc == 0)
        rc = err_set(e, OP_EIO, "%s: cannot write: %s", folder, strerror(errno));
    if (rc == 0 && want && strcmp(want, sha) != 0)
        rc = err_set(e, OP_ECRYPTO, "the package's bytes hash to %s, not %s: fetch it again", sha,
                     want);
    if (rc == 0) {
        size_t n = strlen(folder) + 80;
        char *final = malloc(n);
        if (!final)
            rc = err_set(e, OP_ENOMEM, "out of memory");
        else {
            snprintf(final, n, "%s/%s", folder, sha);
            /* Same name, same bytes (a hash's name): replacing is harmless and atomic. */
            if (rename(tmp, final) != 0)
                rc = err_set(e, OP_EIO, "%s: cannot rename into place: %s", final, strerror(errno));
            free(final);
        }
    }
    if (rc != 0)
        unlink(tmp);
    else
        fsync_folder(folder);
    free(tmp);
    return rc;
}

int packages_enc_write(const char *dir, packages_writer_fn fn, void *ctx,
                       char sha[PACKAGE_SHA256_HEX], uint64_t *size, struct op_err *e)
{
    sha[0] = 0;
    *size = 0;
    char *folder = enc_folder(dir);
    char *tmp;
    FILE *f;
    int rc = open_tmp(folder, &tmp, &f, e);
    if (rc == 0) {
        rc = fn(f, ctx, e);
        if (rc != 0) {
            fclose(f);
            unlink(tmp);
            free(tmp);
        } else {
            rc = place_by_hash(f, tmp, folder, NULL, sha, size, e);
        }
    }
    free(folder);
    if (rc != 0) {
        sha[0] = 0;
        *size = 0;
    }
    return rc;
}

static int enc_adopt(const char *dir, const char *path, const char *sha, int hash_checked,
                     struct op_err *e)
{
    if (!sha256_hex_is_valid(sha))
        return err_set(e, OP_EINPUT, "\"%s\" is not a package hash (64 hex digits)", sha);
    struct stat lst;
    if (lstat(path, &lst) != 0 || !S_ISREG(lst.st_mode))
        return err_set(e, OP_EINPUT, "downloaded package %s: not a regular file", path);
    int rc = 0;
    uint64_t size = 0;
    if (!hash_checked) {
        char got[PACKAGE_SHA256_HEX];
        rc = packages_file_sha256(path, got, &size, e);
        if (rc != 0)
            return rc;
        if (strcmp(got, sha) != 0)
            return err_set(e, OP_ECRYPTO,
                           "downloaded package %s: its bytes hash to %s, not %s (fetch it again)",
                           path, got, sha);
    }
    char *folder = enc_folder(dir);
    char *final = packages_enc_path(dir, sha);
    rc = fs_mkdir_p(folder, 0700, e);
    if (rc == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)fsync(fd);
            close(fd);
        }
        if (rename(path, final) == 0) {
            fsync_folder(folder);
        } else if (errno == EXDEV) {
            /* Another file system: copy into the folder, checking the copy's hash. */
            FILE *in = fopen(path, "rb"), *f = NULL;
            char *tmp = NULL;
            if (!in)
                rc = err_set(e, OP_EIO, "%s: cannot read: %s", path, strerror(errno));
            if (rc == 0)
                rc = open_tmp(folder, &tmp, &f, e);
            if (rc == 0) {
                unsigned char *buf = malloc(ENC_BUF);
                size_t r;
                if (!buf)
                    rc = err_set(e, OP_ENOMEM, "out of memory");
                while (rc == 0 && (r = fread(buf, 1, ENC_BUF, in)) > 0)
                    if (fwrite(buf, 1, r, f) != r)
                        rc = err_set(e, OP_EIO, "%s: cannot write", folder);
                if (rc == 0 && ferror(in))
                    rc = err_set(e, OP_EIO, "%s: cannot read", path);
                free(buf);
                if (rc != 0) {
                    fclose(f);
                    unlink(tmp);
                    free(tmp);
                } else {
                    char again[PACKAGE_SHA256_HEX];
                    rc = place_by_hash(f, tmp, folder, sha, again, &size, e);
                }
            }
            if (in)
                fclose(in);
            if (rc == 0)
                unlink(path);
        } else {
            rc = err_set(e, OP_EIO, "%s: cannot move into %s: %s", path, folder, strerror(errno));
        }
    }
    free(final);
    free(folder);
    return rc;
}

int packages_enc_adopt(const char *dir, const char *path, const char *sha, struct op_err *e)
{
    return enc_adopt(dir, path, sha, 0, e);
}

int packages_enc_adopt_checked(const char *dir, const char *path, const char *sha, struct op_err *e)
{
    return enc_adopt(dir, path, sha, 1, e);
}

int packages_enc_has(const char *dir, const char *sha, uint64_t size)
{
    if (!sha256_hex_is_valid(sha))
        return 0;
    char *path = packages_enc_path(dir, sha);
    struct stat st;
    int ok =
        lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (size == 0 || (uint64_t)st.st_size == size);
    free(path);
    return ok;
}

int packages_enc_sweep(const char *dir, packages_ref_fn referenced, void *ctx, time_t min_age,
                       int *removed, struct op_err *e)
{
    *removed = 0;
    char *folder = enc_folder(dir);
    DIR *d = opendir(folder);
    if (!d) {
        int saved = errno;
        free(folder);
        if (saved == ENOENT)
            return 0;
        return err_set(e, OP_EIO, "%s/packages/enc: cannot read: %s", dir, strerror(saved));
    }
    int rc = 0;
    /* the fine-grained clock: a file's mtime may be taken from it and so be ahead of the
     * coarse one time() reads, across a second boundary (a file just written looked -1 s old
     * and a sweep with min_age 0 left it: test_app_content failed so in the gate) */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t now = ts.tv_sec;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        int tmp = strncmp(name, TMP_PFX, strlen(TMP_PFX)) == 0;
        if (!tmp && !sha256_hex_is_valid(name))
            continue; /* ".", "..", anything an operator put there */
        size_t n = strlen(folder) + strlen(name) + 2;
        char *path = malloc(n);
        if (!path) {
            rc = err_set(e, OP_ENOMEM, "out of memory");
            break;
        }
        snprintf(path, n, "%s/%s", folder, name);
        struct stat st;
        int old = lstat(path, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime >= min_age;
        int drop = 0;
        if (old)
            drop = tmp ? 1 : (rc = referenced(name, ctx, e)) == 0;
        if (rc >= 0 && drop && unlink(path) == 0)
            (*removed)++;
        if (rc > 0)
            rc = 0;
        free(path);
    }
    closedir(d);
    if (*removed)
        fsync_folder(folder);
    free(folder);
    return rc;
}
