/*
 * spawn.h - running another program (PostgreSQL's pg_dump and pg_restore, for backup.c) and
 * waiting for it: its variables given in its environment only (a password reaches it through
 * a file named there, never on its command line, where `ps` shows it), its error output kept
 * for the message.
 */
#ifndef OUTPOST_BASE_SPAWN_H
#define OUTPOST_BASE_SPAWN_H

#include "base/err.h"

#define SPAWN_ERR_MAX 2048 /* bytes of the program's error output kept */

/* Runs argv[0] (looked up in PATH) with the arguments argv[1..] (NULL-terminated), `set`
 * ("NAME=value" strings, NULL-terminated; may be NULL) added to its environment and the
 * variables named in `unset` removed from it; standard input and output /dev/null. Returns 0
 * when it exits with status 0; OP_EIO otherwise, the message naming the program and what it
 * said on standard error (its first lines), or that it could not be run (not installed). */
int spawn_run(const char *const *argv, const char *const *set, const char *const *unset,
              struct op_err *e);

#endif
