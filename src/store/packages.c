/*
 * packages.c - the content-addressed package store (see packages.h).
 */
#include "store/packages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"

static char *package_path(const char *dir, const char *sha)
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
    char *path = package_path(dir, sha);
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
    char *path = package_path(dir, sha);
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
