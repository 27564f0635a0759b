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

#include "import/batch.h"

/* The import, run by app/imports.c (app_imports_testcenters). */
extern const struct batch_kind testcenters_import;

#endif
