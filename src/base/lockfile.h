/*
 * lockfile.h - a process lock on a file, for work that must never run twice at once on one
 * data folder (the device's sync: DATA/sync.lock).
 *
 * The lock is flock(2) LOCK_EX on the open file: the kernel drops it when its holder exits,
 * however it ends (SIGKILL included), so a lock is never left behind by a crash and needs no
 * stale-lock cleanup. The holder writes its pid into the file, only so that the refusal can
 * name it. Taking the lock never waits: a second process is told at once.
 */
#ifndef OUTPOST_BASE_LOCKFILE_H
#define OUTPOST_BASE_LOCKFILE_H

#include "base/err.h"

/* Takes the lock on `path` (created 0600 if missing) and returns 0 with *fd holding it (pass
 * it to lockfile_release). When another open file holds it: OP_EBUSY, "`what` is already
 * running (pid N)" (or without the pid if it cannot be read). OP_EIO if the file cannot be
 * opened. */
int lockfile_take(const char *path, const char *what, int *fd, struct op_err *e);

/* Releases a lock lockfile_take returned (closes fd; -1 is ignored). */
void lockfile_release(int fd);

/* 1 when some open file holds the lock on `path` (this process's own included), 0 when it is
 * free or the file does not exist, negative when it cannot be checked. */
int lockfile_is_held(const char *path);

/* As lockfile_is_held, and when held, *pid is the pid its holder wrote (0 when unreadable). */
int lockfile_holder(const char *path, long *pid);

#endif
