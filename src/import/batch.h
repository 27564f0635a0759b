/*
 * batch.h - what the record imports (import-testcenters, import-eligibilities) share.
 *
 * Such an import runs in two passes over a loaded CSV table:
 *  1. every row is checked against the file and the database without writing anything
 *     (missing fields, unknown logins, duplicates inside the file, ...);
 *  2. in one transaction, every row that passed is applied inside its own savepoint, so that
 *     what only the write can find out (a parent cycle, ...) becomes a problem of that row
 *     and undoes that row alone.
 * At the end the transaction is committed if no row had a problem, or if the caller asked to
 * skip invalid rows; otherwise it is rolled back and nothing was imported.
 */
#ifndef OUTPOST_IMPORT_BATCH_H
#define OUTPOST_IMPORT_BATCH_H

#include <jansson.h>

#include "base/err.h"
#include "import/csv.h"
#include "import/problems.h"
#include "store/db.h"
#include "store/idlist.h"

struct import_counts {
    int created;
    int updated;
    int unchanged;
    int skipped;   /* invalid rows left out (--skip-invalid) */
    int committed; /* 1 if the import's transaction was committed */
};

/* Splits a cell holding a list of names ("a; b c") at ';', '|' and white space into a
 * NULL-terminated array of non-empty names; *n receives the count. The caller frees with
 * batch_free_names. */
char **batch_split_names(const char *cell, int *n);
void batch_free_names(char **names);

/* Checks the header: each of `required` must be present; every column must be one of
 * `known` (a typo such as "Proctor" must not silently drop data) and appear once. Lists are
 * NULL-terminated; an entry may hold alternatives separated by '|' ("Organisation Id|
 * Organization Id"), the first being the name messages use. */
int batch_check_header(const struct csv_table *t, const char *const *required,
                       const char *const *known, struct op_err *e);

/* The column of a name with '|' alternatives, or -1. */
int batch_column(const struct csv_table *t, const char *names);

/* Finds repeated keys among n rows (keys[i] NULL: row i takes no part). Sets first_of[i] to
 * the index of the first row with the same key when row i repeats one, else to -1. Sorts,
 * so a file of a million rows costs no more than sorting it. */
void batch_find_duplicates(const char *const *keys, int n, int *first_of);

/* Resolves the logins of a cell ("a; b") into user ids appended to `out`, recording a problem
 * "COLUMN: ..." for each unknown login or user whose role is not `role`. Returns 0, or a
 * database error. */
int batch_resolve_logins(struct db *db, const char *cell, const char *column, const char *role,
                         int line, struct import_problems *p, struct idlist *out, struct op_err *e);

/* What applying one row of pass 2 did. */
enum batch_outcome { BATCH_UNCHANGED, BATCH_CREATED, BATCH_UPDATED };

/* Savepoint around row i of pass 2. batch_row_end takes what the row's write returned
 * (row_rc, message in *re): on success it counts `outcome`; on a problem of the row it records
 * "FILE line N: message", sets *bad and undoes the row; both release the savepoint and return
 * 0. A database failure (OP_EDB) returns it, as "FILE line N: ..." in *e: the import stops. */
int batch_row_begin(struct db *db, struct op_err *e);
int batch_row_end(struct db *db, const struct csv_table *t, int i, int row_rc,
                  const struct op_err *re, enum batch_outcome outcome, struct import_problems *p,
                  struct import_counts *counts, int *bad, struct op_err *e);

/* Ends pass 2: commits if there is no problem or skip_invalid, else rolls back and fails
 * with "FILE: N rows have problems; nothing was imported". Sets counts->committed. */
int batch_finish(struct db *db, const struct import_problems *p, int skip_invalid,
                 struct import_counts *counts, struct op_err *e);

/* {"file", "imported", "created", "updated", "unchanged", "skipped", "problems"}. */
json_t *batch_summary_json(const char *file, const struct import_counts *c,
                           const struct import_problems *p);

#endif
