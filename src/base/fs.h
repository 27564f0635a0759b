/*
 * fs.h - files: bounded reads, atomic writes, directories.
 */
#ifndef OUTPOST_BASE_FS_H
#define OUTPOST_BASE_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

/* Reads all of `path` into a new NUL-terminated buffer (*out, caller frees) of *len bytes.
 * Refuses a file larger than `max` bytes without reading it. */
int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct op_err *e);

/* Opens `path` for reading into *fd (caller closes); refuses anything but a regular file
 * (a FIFO or a device), without blocking on it. */
int fs_open_regular(const char *path, int *fd, struct op_err *e);

/* Flags of fs_read_secret. FS_NOFOLLOW refuses a symbolic link (the last part of the path;
 * folders may be links); FS_PRIVATE refuses a file not owned by the running user, or open to
 * group or others. */
#define FS_NOFOLLOW 1
#define FS_PRIVATE  2

/* Reads a file that holds a secret (a key file, a setup file with a password) into a
 * sodium_malloc'ed buffer (guarded, locked, left out of core dumps), NUL-terminated; the
 * caller frees it with fs_secret_free, which wipes it. The file is opened once (O_NONBLOCK,
 * O_CLOEXEC, O_NOFOLLOW with FS_NOFOLLOW) and every check applies to what was opened (fstat):
 * a regular file, at most `max` bytes, and with FS_PRIVATE owned by this user with no group or
 * other bits (the message names `what` and the `chmod 600` that fixes it). It is read with
 * read(2), so no stdio buffer keeps a copy. *mode (may be NULL) receives the file's mode. */
int fs_read_secret(const char *path, size_t max, int flags, const char *what, char **out,
                   size_t *len, mode_t *mode, struct op_err *e);
void fs_secret_free(char *data);

/* Writes `len` bytes to `path` atomically: a temporary file in the same folder, fsync,
 * rename, fsync of the folder. `mode` applies to the new file (e.g. 0600 for keys). */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct op_err *e);

/* Like fs_write_atomic, but never replaces anything: the file is put in place with link(),
 * which fails if `path` exists. Returns 0 with *created (may be NULL) 1 when written, 0 when
 * `path` already existed (nothing written), or an error. For key files, which must never be
 * overwritten. */
int fs_write_new(const char *path, const void *data, size_t len, mode_t mode, int *created,
                 struct op_err *e);

/* mkdir -p with `mode` for the folders it creates. */
int fs_mkdir_p(const char *path, mode_t mode, struct op_err *e);

/* fsync()s the folder holding `path`, so that a rename or link into it survives a crash;
 * 0, or -1 with errno set. */
int fs_fsync_dir_of(const char *path);

int fs_exists(const char *path);
int fs_is_dir(const char *path);
/* 1 if `path` is a folder with no entries, 0 if not, -1 if it cannot be read. */
int fs_dir_is_empty(const char *path);

/* Removes a tree (used to clean up a failed setup in its private temporary folder only). */
int fs_remove_tree(const char *path);

/* Joins two path parts with one '/'; the caller frees. */
char *fs_join(const char *a, const char *b);

#endif
