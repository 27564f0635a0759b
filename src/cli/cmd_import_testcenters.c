/*
 * cmd_import_testcenters.c - `outpost import-testcenters -f FILE.csv`: test centers, their
 * organisation ids, parents and staff from a CSV file, all or nothing (the format and the
 * rules are in import/testcenters_import.h and docs/testcenters.md; the import is app/imports.h).
 * The options and printing, shared with import-eligibilities, are cli_import_records (cli.h).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "app/imports.h"

static const struct command_usage usage = {
    "outpost import-testcenters -f FILE.csv [--skip-invalid] [--json]",
    "Creates or updates test centers from a CSV file with the columns Label, Organisation Id\n"
    "(required), Parent, Administrators, Proctors (logins separated by ';', '|' or spaces). A row\n"
    "whose Label names an existing center updates it. Every row is checked first; if any is\n"
    "invalid, each is listed as \"FILE line N: reason\" and nothing is imported, unless\n"
    "--skip-invalid, which imports the valid rows. --json prints a summary: file, imported,\n"
    "created, updated, unchanged, skipped, problems [{line, message}].",
};

int cmd_import_testcenters(int argc, char **argv)
{
    return cli_import_records(argc, argv, &usage, "test centers", app_imports_testcenters);
}
