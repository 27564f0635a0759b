/*
 * err.h - the one error type of Outpost.
 *
 * A function that can fail returns 0 on success and a negative OP_E* code on failure, and
 * fills a caller-owned `struct op_err` with a message that says what went wrong and what to
 * do ("users.csv line 4: missing Login"). A user sees exactly one message per fault: the
 * function closest to the fault writes it, callers pass it on (they may prefix context with
 * err_prefix) and never overwrite it with a vaguer one.
 *
 * Lower layers (store, import, crypto, qti, instance) say what is wrong, never which
 * command-line option or configuration key fixes it: they set `remedy` to name the kind of
 * fix, and the front end in use (the CLI today, the web server later) words it for its user.
 *
 * A server maps a code to an HTTP status with err_http_status; the table (also in
 * docs/architecture.md, "Errors"):
 *
 *   code           HTTP  meaning
 *   OP_OK           200  success
 *   OP_EINPUT       400  bad input; `field` names the field when one is to blame
 *   OP_EUSAGE       400  bad command line (a CLI code; a server never sees it)
 *   OP_EUNAUTH      401  not authenticated: no session, bad login or password
 *   OP_EFORBIDDEN   403  authenticated, but this user may not do this
 *   OP_ENOTFOUND    404  a named record does not exist
 *   OP_ECONFLICT    409  contradicts the current state (duplicate, still referenced)
 *   OP_ECRYPTO      422  a key, signature or ciphertext did not verify
 *   OP_EBUSY        503  the database is busy (another writer); retry later (Retry-After)
 *   OP_ETHROTTLED   429  too many failed logins or token requests; retry after
 *                        e->retry_after seconds (Retry-After)
 *   OP_ESTATE       500  wrong instance role, not initialised: an operator must act
 *   OP_EIO          500  file system or network
 *   OP_EDB          500  the database refused or failed
 *   OP_ENOMEM       500  out of memory
 *   any other       500
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
    OP_EUSAGE = -9,      /* bad command line */
    OP_EBUSY = -10,      /* the database is busy (locked by another writer): retry */
    OP_EUNAUTH = -11,    /* not authenticated (no session, wrong login or password) */
    OP_EFORBIDDEN = -12, /* authenticated, but not allowed to do this */
    OP_ETHROTTLED = -13, /* too many failures of a login, client or address: retry later */
};

/* The kind of fix a message calls for, beyond its text; the front end words it (the CLI
 * names its options, e.g. "use --skip-invalid"). OP_REMEDY_NONE when the message says it
 * all. */
enum op_remedy {
    OP_REMEDY_NONE = 0,
    OP_REMEDY_SKIP_INVALID,        /* an import refused for bad rows can import the valid ones */
    OP_REMEDY_CSV_LIMIT,           /* a CSV file is over the configured size limit */
    OP_REMEDY_QTI_LIMIT,           /* a QTI package is over the configured size limit */
    OP_REMEDY_REPARENT,            /* move or delete the sub-centers of a test center first */
    OP_REMEDY_SETUP,               /* no instance in the data folder: set one up */
    OP_REMEDY_REPLACE_LOST_KEY,    /* a key is lost: only a key replacement gets past it */
    OP_REMEDY_RESTORE_RESULTS_KEY, /* restore results keys; the front end can name them */
    OP_REMEDY_RESTORE_MASTER_KEY,  /* restore the master key; the front end can name its id */
    OP_REMEDY_SETUP_CENTRAL_KEYS,  /* a central key file is missing: the central key setup */
    OP_REMEDY_SETUP_DEVICE_KEYS,   /* a device key file is missing: the device key setup */
    OP_REMEDY_SHOW_KEYS,           /* the operator can show the current keys */
    OP_REMEDY_PG_NEW_DATABASE,     /* a store moves into an empty PostgreSQL database only */
    OP_REMEDY_LABEL_TAKEN,         /* an import's delivery label is taken: another label, or
                                      the package as the next version of that delivery */
    OP_REMEDY_COUNT                /* the number of kinds, not a kind */
};
/* OP_EBUSY needs no remedy: it always means "try again", and the front end says so. */

#define OP_ERR_MAX       2048
#define OP_ERR_FIELD_MAX 64

struct op_err {
    int code;
    char msg[OP_ERR_MAX];
    /* For OP_EINPUT: the input field at fault ("login", "csv:line 4"), so a web form can
     * mark it; "" when no one field is. Set by err_set_field, cleared by err_set. */
    char field[OP_ERR_FIELD_MAX];
    enum op_remedy remedy; /* set after err_set (err_set clears it) */
    /* For OP_ETHROTTLED: the seconds after which a new attempt may be let through (an HTTP
     * server's Retry-After); 0 otherwise. Set after err_set (err_set clears it). */
    int retry_after;
};

/* Sets the message (printf format) and returns `code`, so `return err_set(e, OP_EINPUT, ...)`. */
int err_set(struct op_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* err_set, naming the input field at fault in e->field (cut to fit). */
int err_set_field(struct op_err *e, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* err_set, then the kind of fix (e->remedy) the front end words. */
int err_set_remedy(struct op_err *e, int code, enum op_remedy remedy, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#ifdef __clang_analyzer__
/* The static analyser (make analyze) reads one file at a time and cannot see that these return
 * `code`: say so, so that `rc = err_set(e, OP_EINPUT, ...)` counts as an error on its path. */
#define err_set(e, code, ...)             (err_set((e), (code), __VA_ARGS__), (code))
#define err_set_field(e, code, fld, ...)  (err_set_field((e), (code), (fld), __VA_ARGS__), (code))
#define err_set_remedy(e, code, rem, ...) (err_set_remedy((e), (code), (rem), __VA_ARGS__), (code))
#endif

/* Puts "prefix: " in front of the current message; returns the current code (the field and
 * the remedy stay). */
int err_prefix(struct op_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void err_clear(struct op_err *e);

/* A short English name for a code ("bad input", "database error", ...). */
const char *err_code_name(int code);

/* The process exit status for a code: 0 ok, 2 usage, 1 everything else. */
int err_exit_status(int code);

/* The HTTP status a server answers for a code (the table above). */
int err_http_status(int code);

#endif
