/*
 * err.h - the one error type of Outpost.
 *
 * A function that can fail returns 0 on success and a negative OP_E* code on failure, and
 * fills a caller-owned `struct op_err` with a message that says what went wrong and what to
 * do ("users.csv line 4: missing Login"). A user sees exactly one message per fault: the
 * function closest to the fault writes it, callers pass it on (they may prefix context with
 * err_prefix) and never overwrite it with a vaguer one.
 */
#ifndef OUTPOST_BASE_ERR_H
#define OUTPOST_BASE_ERR_H

#include <stddef.h>

enum {
    OP_OK = 0,
    OP_EINPUT = -1,    /* bad input from the user: file, option, request */
    OP_EIO = -2,       /* file system or network */
    OP_EDB = -3,       /* the database refused or failed */
    OP_ENOTFOUND = -4, /* a named record does not exist */
    OP_ECONFLICT = -5, /* the request contradicts the current state */
    OP_ESTATE = -6,    /* wrong instance role, not initialised, ... */
    OP_ECRYPTO = -7,   /* a key, signature or ciphertext did not verify */
    OP_ENOMEM = -8,
    OP_EUSAGE = -9, /* bad command line */
};

#define OP_ERR_MAX 2048

struct op_err {
    int code;
    char msg[OP_ERR_MAX];
};

/* Sets the message (printf format) and returns `code`, so `return err_set(e, OP_EINPUT, ...)`. */
int err_set(struct op_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Puts "prefix: " in front of the current message; returns the current code. */
int err_prefix(struct op_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void err_clear(struct op_err *e);

/* A short English name for a code ("bad input", "database error", ...). */
const char *err_code_name(int code);

/* The process exit status for a code: 0 ok, 2 usage, 1 everything else. */
int err_exit_status(int code);

#endif
