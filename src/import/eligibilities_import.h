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

#include "import/batch.h"

/* The import, run by app/imports.c (app_imports_eligibilities). */
extern const struct batch_kind eligibilities_import;

#endif
