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
 *
 * This layer holds what is particular to each kind (struct batch_kind: the columns, the checks
 * of pass 1, the write of one row); the driver that runs both passes and owns the transaction
 * is app/imports.c.
 */
#ifndef OUTPOST_IMPORT_BATCH_H
#define OUTPOST_IMPORT_BATCH_H

#include "base/err.h"
#include "import/csv.h"
#include "import/problems.h"
#include "store/db.h"
#include "store/idlist.h"

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

/*
 * The `plan` of every kind starts with this: what pass 1 found about each row, one struct of
 * `row_size` bytes per row whose first member is `int bad` (the row had a problem, so pass 2
 * leaves it out). The kind's own plans struct has it as its first member, then what it needs
 * (the columns, ...). The batch_plans_* functions below serve as the kind's is_bad, set_bad
 * and free.
 */
struct batch_plans {
    void *rows;                   /* nrows + 1 zeroed row structs */
    size_t row_size;              /* sizeof the kind's row struct */
    void (*clear_row)(void *row); /* frees what one row owns; NULL if nothing */
};

/* The start of every kind's `check`: *out gets a zeroed plans struct of `size` bytes
 * (starting with struct batch_plans) with a row of `row_size` bytes for each row of `t`
 * (aborts when memory runs out; the driver frees it with batch_plans_free, even on failure),
 * then the header is checked as batch_check_header does. Returns its status. */
int batch_plans_start(const struct csv_table *t, const char *const *required,
                      const char *const *known, size_t size, size_t row_size,
                      void (*clear_row)(void *row), void **out, struct op_err *e);
int batch_plans_is_bad(const void *plans, int i);
void batch_plans_set_bad(void *plans, int i);
void batch_plans_free(void *plans, int nrows);

/* What applying one row of pass 2 did. */
enum batch_outcome { BATCH_UNCHANGED, BATCH_CREATED, BATCH_UPDATED };

/*
 * One kind of record import, as the generic driver (app/imports.c) runs it: this layer knows
 * the columns and what a row means; the driver owns the transaction, the savepoints and the
 * counting. `plan` is what pass 1 found out about every row, owned by the driver between
 * `check` and `free`.
 */
struct batch_kind {
    /* Pass 1: checks the header and every row of `t` without writing; problems of rows go to
     * `p`. Fills *plan (freed with `free` even on failure). Returns 0, or an error for the
     * file as a whole (missing column) or the database. */
    int (*check)(struct db *db, const struct csv_table *t, struct import_problems *p, void **plan,
                 struct op_err *e);
    /* Pass 2, before row i's savepoint: 1 to apply the row, 0 to leave it out (it had a
     * problem, or depends on a row that had one: then the problem is recorded in `p`). */
    int (*ready)(void *plan, const struct csv_table *t, int i, struct import_problems *p);
    /* Pass 2: writes row i inside its savepoint. Returns 0 with *outcome set; a problem of
     * the row (message in *e, without the line); or OP_EDB when the database failed. */
    int (*apply)(struct db *db, const struct csv_table *t, void *plan, int i,
                 enum batch_outcome *outcome, struct op_err *e);
    /* Whether row i was left out, and marking it so (its write had a problem). */
    int (*is_bad)(const void *plan, int i);
    void (*set_bad)(void *plan, int i);
    void (*free)(void *plan, int nrows);
};

#endif
