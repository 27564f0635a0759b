/*
 * users_import.h - importing users from a CSV file (`outpost import-users`, TAO's
 * ImportUsersCsv). The format is documented for users in docs/csv-formats.md.
 *
 * An import runs in three phases, so that it is all or nothing and a crash changes nothing:
 *  1. check: the file is read (bounded by max_bytes), the header mapped and every row checked,
 *     against the file and the database; every problem is collected, none stops the check;
 *  2. hash: the password of every valid row is derived (Argon2id, credentials_make) by a pool
 *     of threads, one per online CPU, with no transaction open;
 *  3. write: one transaction inserts the new users and updates the existing ones; a kill at
 *     any moment leaves the database with none or all of the rows.
 * If a row is invalid nothing is written, unless skip_invalid is set: then the valid rows
 * are imported and the others counted as skipped. A problem with the header (unknown or
 * missing column) always stops the import.
 *
 * Memory: the file is read whole (at most max_bytes), then handed to the CSV reader row by
 * row; each row keeps only its known fields and its derived credentials (about 300 bytes
 * with a typical row). At most USERS_IMPORT_MAX_ROWS rows and USERS_IMPORT_LISTED_MAX
 * listed problems are held, so the memory of any file within the size limit is bounded.
 */
#ifndef OUTPOST_IMPORT_USERS_IMPORT_H
#define OUTPOST_IMPORT_USERS_IMPORT_H

#include "auth/password.h"
#include "auth/policy.h"
#include "base/err.h"
#include "crypto/keys.h"
#include "import/problems.h"
#include "store/db.h"

#define USERS_IMPORT_MAX_ROWS   1000000
#define USERS_IMPORT_LISTED_MAX 1000

struct users_import_options {
    const char *role;          /* test-taker, proctor, test-center-admin or sync-manager */
    size_t max_bytes;          /* the largest file accepted (csv-max-bytes) */
    struct password_cost cost; /* Argon2id cost of the new password records */
    /* Central's master key (crypto/keys.h): every new vault key is escrowed under it, and an
     * existing user's key is recovered from their escrow copy so that an update re-wraps the
     * same key pair (data sealed to them stays readable). NULL: no escrow, new key pairs. */
    const struct key *master;
    /* The password policy every row's password must keep (auth/policy.h): a row it refuses
     * is a bad row, named with the rule. NULL: no policy (the application layer passes the
     * instance's). */
    const struct password_policy *policy;
    int skip_invalid; /* import the valid rows even if some are invalid */
    int workers;      /* hashing threads; 0 means one per online CPU */
    int max_rows;     /* rows accepted; 0 means USERS_IMPORT_MAX_ROWS */
    /* Called on the importing thread while passwords are hashed: about ten times a
     * second, and once with done == total. May be NULL. */
    void (*progress)(void *ctx, int done, int total);
    void *progress_ctx;
};

struct users_import_report {
    int rows;                        /* data rows read */
    int created;                     /* users inserted */
    int updated;                     /* existing users (same role) updated */
    int skipped;                     /* invalid rows left out by skip_invalid */
    int invalid;                     /* invalid rows (all of them, listed or not) */
    int unlisted;                    /* invalid rows beyond USERS_IMPORT_LISTED_MAX, counted only */
    struct import_problems problems; /* "line N: reason", at most one per line */
    int workers;                     /* hashing threads used */
    double hash_seconds;             /* phase 2 */
    double write_seconds;            /* phase 3, the transaction */
};

/* Prepares an empty report; `file` (borrowed, must outlive the report) names the file in
 * problem messages. */
void users_import_report_init(struct users_import_report *r, const char *file);
void users_import_report_free(struct users_import_report *r);

/*
 * Imports the users of the CSV file `path` as opt->role.
 *
 * Returns 0 when the rows were written (with skip_invalid, r->skipped says how many were
 * left out). Returns OP_EINPUT when nothing was written because of the file: then either
 * r->problems lists the bad rows (or header problems, at line 1) and *e says that nothing
 * was imported, or the file itself was refused (too big, not text, not CSV, empty) and *e
 * says why with no problems listed. Other codes: a database or system failure, in *e; the
 * database is unchanged.
 */
int users_import_file(struct db *db, const char *path, const struct users_import_options *opt,
                      struct users_import_report *r, struct op_err *e);

#endif
