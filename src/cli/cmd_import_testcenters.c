/*
 * cmd_import_testcenters.c - `outpost import-testcenters -f FILE.csv`: test centers, their
 * organisation ids, parents and staff from a CSV file, all or nothing (the format and the
 * rules are in import/testcenters_import.h and docs/testcenters.md).
 */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "import/csv.h"
#include "import/problems.h"
#include "import/testcenters_import.h"

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
    int rc = instance_require_role(inst, ROLE_CENTRAL, "import-testcenters", &e);
    if (rc == 0)
        rc = csv_table_load(file, inst->settings.csv_max_bytes, &t, &e);
    if (rc == 0)
        rc = testcenters_import(inst->db, t, skip_invalid, &problems, &counts, &e);
    import_problems_print(&problems, stderr);
    if (json && (rc == 0 || problems.count > 0))
        cli_print_json(batch_summary_json(file, &counts, &problems));
    else if (rc == 0 && counts.skipped)
        printf("%s: test centers: %d created, %d updated, %d unchanged; %d invalid row%s skipped\n",
               file, counts.created, counts.updated, counts.unchanged, counts.skipped,
               counts.skipped == 1 ? "" : "s");
    else if (rc == 0)
        printf("%s: test centers: %d created, %d updated, %d unchanged\n", file, counts.created,
               counts.updated, counts.unchanged);
    import_problems_free(&problems);
    csv_table_free(t);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}
