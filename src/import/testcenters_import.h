/*
 * testcenters_import.h - `import-testcenters`: test centers from a CSV file.
 *
 * Columns (header names case-insensitive, trimmed, any order): Label and Organisation Id
 * (also spelt Organization Id) are required; Parent (a center's id or label, in the database
 * or on an earlier line of the file), Administrators and Proctors (logins separated by ';',
 * '|' or spaces) are optional. A row whose Label names an existing center updates it, otherwise
 * it creates one. An optional column that is absent leaves that property of existing centers
 * alone; present, it sets it (an empty cell clears it). See docs/testcenters.md.
 *
 * All or nothing, in one transaction (see batch.h): every bad row is listed; nothing is
 * imported if there is one, unless skip_invalid.
 */
#ifndef OUTPOST_IMPORT_TESTCENTERS_IMPORT_H
#define OUTPOST_IMPORT_TESTCENTERS_IMPORT_H

#include "base/err.h"
#include "import/batch.h"
#include "import/csv.h"
#include "import/problems.h"
#include "store/db.h"

/* Imports the rows of `t` (loaded with csv_table_load). Problems of rows go to `p` (which the
 * caller initialised with the file name); *counts says what was done. Returns 0 when the
 * import was committed; OP_EINPUT with *e filled when rows had problems and nothing was
 * imported; another error (e filled) when the file as a whole is unusable (missing column)
 * or the database failed. */
int testcenters_import(struct db *db, const struct csv_table *t, int skip_invalid,
                       struct import_problems *p, struct import_counts *counts, struct op_err *e);

#endif
