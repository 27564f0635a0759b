/*
 * cmd_import_eligibilities.c - `outpost import-eligibilities -f FILE.csv`: eligibilities (test
 * center x delivery, its test takers, proctored or not) from a CSV file, all or nothing (the
 * format and the rules are in import/eligibilities_import.h and docs/testcenters.md; the import is
 * app/imports.h).
 * The options and printing, shared with import-testcenters, are cli_import_records (cli.h).
 */
#include "cli/cli.h"
#include "cli/commands.h"
#include "app/imports.h"

static const struct command_usage usage = {
    "outpost import-eligibilities -f FILE.csv [--skip-invalid] [--json]",
    "Creates eligibilities or replaces their test takers from a CSV file with the columns\n"
    "Test Center, Delivery (ids or labels), Test Takers (logins separated by ';', '|' or spaces) "
    "and\n"
    "optionally Proctored (yes or no). Every row is checked first; if any is invalid, each is\n"
    "listed as \"FILE line N: reason\" and nothing is imported, unless --skip-invalid, which\n"
    "imports the valid rows. --json prints a summary: file, imported, created, updated,\n"
    "unchanged, skipped, problems [{line, message}].",
};

int cmd_import_eligibilities(int argc, char **argv)
{
    return cli_import_records(argc, argv, &usage, "eligibilities", app_imports_eligibilities);
}
