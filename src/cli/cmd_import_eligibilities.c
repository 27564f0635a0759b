/*
 * cmd_import_eligibilities.c - `outpost import-eligibilities -f FILE.csv`: eligibilities (test
 * center x delivery, its test takers, proctored or not) from a CSV file, all or nothing (the
 * format and the rules are in import/eligibilities_import.h and docs/testcenters.md).
 */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "import/csv.h"
#include "import/problems.h"
#include "import/eligibilities_import.h"

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
    const char *file = NULL;
    int skip_invalid = 0, json = 0;
    const struct option opts[] = {
        OPT_STRING('f', "file", &file, "FILE.csv", "the CSV file (required)"),
        OPT_FLAG(0, "skip-invalid", &skip_invalid, "import the valid rows, list the others"),
        OPT_FLAG(0, "json", &json, "print the summary as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &usage, 0, NULL, &status) != 0)
        return status;
    if (!file)
        return options_usage_error(&usage, "-f FILE.csv is required");
    struct instance *inst;
    if ((status = cli_open_instance(&inst)) != 0)
        return status;
    struct op_err e = {0};
    struct csv_table *t = NULL;
    struct import_problems problems;
    import_problems_init(&problems, file);
    struct import_counts counts = {0};
    int rc = instance_require_role(inst, ROLE_CENTRAL, "import-eligibilities", &e);
    if (rc == 0)
        rc = csv_table_load(file, inst->settings.csv_max_bytes, &t, &e);
    if (rc == 0)
        rc = eligibilities_import(inst->db, t, skip_invalid, &problems, &counts, &e);
    import_problems_print(&problems, stderr);
    if (json && (rc == 0 || problems.count > 0))
        cli_print_json(batch_summary_json(file, &counts, &problems));
    else if (rc == 0 && counts.skipped)
        printf(
            "%s: eligibilities: %d created, %d updated, %d unchanged; %d invalid row%s skipped\n",
            file, counts.created, counts.updated, counts.unchanged, counts.skipped,
            counts.skipped == 1 ? "" : "s");
    else if (rc == 0)
        printf("%s: eligibilities: %d created, %d updated, %d unchanged\n", file, counts.created,
               counts.updated, counts.unchanged);
    import_problems_free(&problems);
    csv_table_free(t);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}
