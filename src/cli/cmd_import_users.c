/*
 * cmd_import_users.c - `outpost import-users -t ROLE -f FILE.csv`: users from a CSV file on a
 * central server (TAO's ImportUsersCsv). The work is app_imports_users (app/imports.h); this
 * file reads the options, shows the hashing progress on a terminal and prints the outcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "app/imports.h"
#include "store/users.h"

static const struct command_usage usage = {
    "outpost import-users -t ROLE -f FILE.csv [--skip-invalid] [--json]",
    "Imports users from a CSV file on a central server (devices get their users by sync).\n"
    "ROLE: test-taker, proctor, test-center-admin, sync-manager. Columns (header line, any\n"
    "order and case): Label, First Name, Last Name, Login, Mail, Password, Interface Language,\n"
    "Default language; Login and Password are required, and a sync-manager file needs an\n"
    "\"organisation id\" column. A new login is created, an existing one (same role) updated.\n"
    "All or nothing: if a row is invalid, nothing is imported and every bad row is listed as\n"
    "FILE line N: reason (exit status 1). --skip-invalid imports the valid rows and lists the\n"
    "others. --json prints {\"created\", \"updated\", \"skipped\", \"invalid\": [{\"line\",\n"
    "\"message\"}]}. The format is described in docs/csv-formats.md.",
};

/* "hashing passwords: 4200/10000", rewritten in place on the terminal. */
static void show_progress(void *ctx, int done, int total)
{
    (void)ctx;
    fprintf(stderr, "\rhashing passwords: %d/%d", done, total);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static void print_summary(const char *file, const char *role, const struct users_import_report *r)
{
    printf("imported %s as %s: %d created, %d updated", file, role, r->created, r->updated);
    if (r->skipped)
        printf(", %d invalid row%s skipped (listed on stderr)", r->skipped,
               r->skipped == 1 ? "" : "s");
    printf("\n");
}

int cmd_import_users(int argc, char **argv)
{
    struct app_users_import_request req = {0};
    int json = 0;
    const struct cli_option opts[] = {
        OPT_STRING('t', "type", &req.role, "ROLE", "role of every user in the file (required)"),
        OPT_STRING('f', "file", &req.file, "FILE", "the CSV file (required)"),
        OPT_FLAG(0, "skip-invalid", &req.skip_invalid, "import the valid rows, list the others"),
        OPT_FLAG(0, "json", &json, "print the outcome as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &usage, 0, NULL, &status) != 0)
        return status;
    if (!req.role || !req.file)
        return options_usage_error(&usage, "-t ROLE and -f FILE are required");
    if (!user_role_is_valid(req.role))
        return options_usage_error(&usage, "unknown role \"%s\" (use %s)", req.role,
                                   user_roles_list());
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    req.progress = isatty(STDERR_FILENO) ? show_progress : NULL;
    struct users_import_report r;
    int rc = app_imports_users(run.inst, &req, &r, &run.e);

    import_problems_print(&r.problems, stderr);
    if (r.unlisted)
        fprintf(stderr, "%s: %d more invalid row%s not listed\n", req.file, r.unlisted,
                r.unlisted == 1 ? "" : "s");
    /* The JSON document is printed whenever the rows were checked, refused or not. */
    if (json && (rc == 0 || r.problems.count))
        cli_print_json(app_users_import_json(&r));
    else if (rc == 0)
        print_summary(req.file, req.role, &r);
    users_import_report_free(&r);
    return cli_end(&run, rc);
}
