/*
 * eligibilities_import.h - `import-eligibilities`: eligibilities from a CSV file.
 *
 * Columns (header names case-insensitive, trimmed, any order): Test Center (a center's id or
 * label), Delivery (a delivery's id or label), Test Takers (logins separated by ';', '|'
 * or spaces; may be empty) are required; Proctored (yes or no) is optional: when absent or
 * empty, a new eligibility takes the delivery's default and an existing one keeps its
 * setting. A row whose (test center, delivery) pair has an eligibility replaces its test
 * takers; otherwise it creates one. See docs/testcenters.md.
 *
 * All or nothing, in one transaction (see batch.h).
 */
#ifndef OUTPOST_IMPORT_ELIGIBILITIES_IMPORT_H
#define OUTPOST_IMPORT_ELIGIBILITIES_IMPORT_H

#include "base/err.h"
#include "import/batch.h"
#include "import/csv.h"
#include "import/problems.h"
#include "store/db.h"

/* Same contract as testcenters_import. */
int eligibilities_import(struct db *db, const struct csv_table *t, int skip_invalid,
                         struct import_problems *p, struct import_counts *counts, struct op_err *e);

#endif
