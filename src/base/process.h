/*
 * process.h - what every outpost command does first to keep secrets out of places nobody
 * wipes: no core dump (a core taken during decrypt-results held the results secret key), and
 * jansson's memory wiped when freed (a setup file's password passes through it).
 */
#ifndef OUTPOST_BASE_PROCESS_H
#define OUTPOST_BASE_PROCESS_H

#include "base/err.h"

/* Sets RLIMIT_CORE to 0 (soft and hard, so a child cannot raise it), makes the process
 * non-dumpable (PR_SET_DUMPABLE 0: no core, no ptrace attach by other processes of the same
 * user) and installs a jansson allocator that wipes every block it frees. Call it before any
 * other jansson call (main does). Returns 0, or an error if core dumps could not be
 * disabled. */
int process_harden(struct op_err *e);

#endif
