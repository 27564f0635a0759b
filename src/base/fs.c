/* fs.c - file helpers (see fs.h). */
#include "base/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_open_regular(const char *path, int *fd, struct op_err *e)
{
    *fd = -1;
    /* O_NONBLOCK: opening a FIFO put in place of the file would otherwise block until a
     * writer comes; it is refused just below. On a regular file the flag changes nothing. */
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f < 0)
        return err_set(e, OP_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return err_set(e, OP_EINPUT, "%s: not a regular file", path);
    }
    *fd = f;
    return 0;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct op_err *e)
{
    *out = NULL;
    *len = 0;
    int fd;
    if (fs_open_regular(path, &fd, e) != 0)
        return e->code;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return err_set(e, OP_EIO, "%s: cannot read: %s", path, strerror(errno));
    }
    if ((unsigned long long)st.st_size > max) {
        close(fd);
        return err_set(e, OP_EINPUT, "%s: file is %lld bytes, over the limit of %zu bytes", path,
                       (long long)st.st_size, max);
    }
    size_t cap = (size_t)st.st_size + 1;
    char *p = malloc(cap);
    if (!p) {
        close(fd);
        return err_set(e, OP_ENOMEM, "%s: out of memory", path);
    }
    size_t n = 0;
    for (;;) {
        if (n + 1 >= cap) { /* file grew while we read it: bounded by max */
            if (cap > max + 1) {
                free(p);
                close(fd);
                return err_set(e, OP_EINPUT, "%s: file over the limit of %zu bytes", path, max);
            }
            char *q = realloc(p, cap * 2);
            if (!q) {
                free(p);
                close(fd);
                return err_set(e, OP_ENOMEM, "%s: out of memory", path);
            }
            p = q;
            cap *= 2;
        }
        ssize_t r = read(fd, p + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int saved = errno;
            free(p);
            close(fd);
            return err_set(e, OP_EIO, "%s: read failed: %s", path, strerror(saved));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max) {
        free(p);
        return err_set(e, OP_EINPUT, "%s: file over the limit of %zu bytes", path, max);
    }
    p[n] = '\0';
    *out = p;
    *len = n;
    return 0;
}

int fs_read_secret(const char *path, size_t max, int flags, const char *what, char **out,
                   size_t *len, mode_t *mode, struct op_err *e)
{
    *out = NULL;
    *len = 0;
    int oflags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (flags & FS_NOFOLLOW ? O_NOFOLLOW : 0);
    int fd = open(path, oflags);
    if (fd < 0) {
        int saved = errno;
        if (saved == ENOENT)
            return err_set(e, OP_ENOTFOUND, "%s: no such %s", path, what);
        if (saved == ELOOP && (flags & FS_NOFOLLOW))
            return err_set(e, OP_ESTATE,
                           "%s: is a symbolic link; a %s must be the file itself (put the file "
                           "there instead of a link)",
                           path, what);
        return err_set(e, OP_EIO, "%s: cannot open: %s", path, strerror(saved));
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = err_set(e, OP_EIO, "%s: cannot read: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = err_set(e, OP_EINPUT, "%s: not a regular file", path);
    else if ((flags & FS_PRIVATE) && st.st_uid != geteuid())
        rc = err_set(e, OP_ESTATE,
                     "%s: %s owned by uid %u, not by the user running outpost (uid %u); run "
                     "`chown %u %s` if it is yours",
                     path, what, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(),
                     path);
    else if ((flags & FS_PRIVATE) && (st.st_mode & 077))
        rc = err_set(e, OP_ESTATE, "%s: %s is accessible by others (mode %03o); run `chmod 600 %s`",
                     path, what, (unsigned)(st.st_mode & 0777), path);
    else if ((unsigned long long)st.st_size > max)
        rc = err_set(e, OP_EINPUT, "%s: file is %lld bytes, over the limit of %zu bytes", path,
                     (long long)st.st_size, max);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    if (mode)
        *mode = st.st_mode;
    /* One byte more than the size, to see a file that grew since fstat. */
    size_t cap = (size_t)st.st_size + 2;
    char *p = sodium_malloc(cap);
    if (!p) {
        close(fd);
        return err_set(e, OP_ENOMEM, "%s: out of memory", path);
    }
    size_t n = 0;
    while (n < cap - 1) {
        ssize_t r = read(fd, p + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = err_set(e, OP_EIO, "%s: read failed: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (rc == 0 && n > (size_t)st.st_size)
        rc = err_set(e, OP_ESTATE, "%s: the file changed while it was read; try again", path);
    if (rc != 0) {
        sodium_free(p);
        return rc;
    }
    p[n] = '\0';
    *out = p;
    *len = n;
    return 0;
}

void fs_secret_free(char *data)
{
    if (data)
        sodium_free(data); /* wipes before release */
}

int fs_fsync_dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Writes `data` to a temporary file next to `path` (fsynced, with `mode`), then puts it in
 * place: by rename() (replacing any file there) or, when `exclusive`, by link(), which fails
 * if `path` exists. Returns 0, 1 when exclusive and `path` already existed, or an error. */
static int write_then_place(const char *path, const void *data, size_t len, mode_t mode,
                            int exclusive, struct op_err *e)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return err_set(e, OP_ENOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int saved = errno;
        free(tmp);
        return err_set(e, OP_EIO, "%s: cannot create: %s", path, strerror(saved));
    }
    if (fchmod(fd, mode) != 0)
        goto fail;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            goto fail;
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (exclusive) {
        if (link(tmp, path) != 0) {
            int saved = errno;
            unlink(tmp);
            free(tmp);
            if (saved == EEXIST)
                return 1;
            return err_set(e, OP_EIO, "%s: cannot write: %s", path, strerror(saved));
        }
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        goto fail;
    }
    free(tmp);
    fs_fsync_dir_of(path);
    return 0;
fail:;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return err_set(e, OP_EIO, "%s: cannot write: %s", path, strerror(saved));
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct op_err *e)
{
    return write_then_place(path, data, len, mode, 0, e);
}

int fs_write_new(const char *path, const void *data, size_t len, mode_t mode, int *created,
                 struct op_err *e)
{
    int made = 0;
    int rc = fs_exists(path) ? 1 : write_then_place(path, data, len, mode, 1, e);
    if (rc == 0)
        made = 1;
    if (created)
        *created = made;
    return rc < 0 ? rc : 0;
}

int fs_mkdir_p(const char *path, mode_t mode, struct op_err *e)
{
    char *copy = strdup(path);
    if (!copy)
        return err_set(e, OP_ENOMEM, "out of memory");
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, mode) != 0 && errno != EEXIST) {
            int saved = errno;
            err_set(e, OP_EIO, "%s: cannot create folder: %s", copy, strerror(saved));
            free(copy);
            return OP_EIO;
        }
        *p = '/';
    }
    if (mkdir(copy, mode) != 0 && errno != EEXIST) {
        int saved = errno;
        err_set(e, OP_EIO, "%s: cannot create folder: %s", copy, strerror(saved));
        free(copy);
        return OP_EIO;
    }
    free(copy);
    if (!fs_is_dir(path))
        return err_set(e, OP_EIO, "%s: exists and is not a folder", path);
    return 0;
}

int fs_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *de;
    int empty = 1;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            empty = 0;
            break;
        }
    }
    closedir(d);
    return empty;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int fs_remove_tree(const char *path)
{
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *fs_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    char *p = malloc(la + lb + 2);
    if (!p)
        abort();
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}
