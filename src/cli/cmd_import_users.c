/*
 * cmd_import_users.c - `outpost import-users -t ROLE -f FILE.csv`: users from a CSV file on a
 * central server (TAO's ImportUsersCsv). The work is in import/users_import.c; this file reads
 * the options, shows the hashing progress on a terminal and prints the outcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "import/users_import.h"
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

static void print_json(const struct users_import_report *r)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "created", json_integer(r->created));
    json_object_set_new(doc, "updated", json_integer(r->updated));
    json_object_set_new(doc, "skipped", json_integer(r->skipped));
    json_object_set_new(doc, "invalid", import_problems_json(&r->problems));
    cli_print_json(doc);
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
    const char *role = NULL, *file = NULL;
    int skip_invalid = 0, json = 0;
    const struct option opts[] = {
        OPT_STRING('t', "type", &role, "ROLE", "role of every user in the file (required)"),
        OPT_STRING('f', "file", &file, "FILE", "the CSV file (required)"),
        OPT_FLAG(0, "skip-invalid", &skip_invalid, "import the valid rows, list the others"),
        OPT_FLAG(0, "json", &json, "print the outcome as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &usage, 0, NULL, &status) != 0)
        return status;
    if (!role || !file)
        return options_usage_error(&usage, "-t ROLE and -f FILE are required");
    if (!user_role_is_valid(role))
        return options_usage_error(&usage, "unknown role \"%s\" (use %s)", role, user_roles_list());

    struct instance *inst;
    if ((status = cli_open_instance(&inst)) != 0)
        return status;
    struct op_err e = {0};
    if (inst->role != ROLE_CENTRAL) {
        err_set(&e, OP_ESTATE,
                "import-users runs on a central server; %s is an offline device, which gets its "
                "users from central by sync",
                inst->dir);
        instance_close(inst);
        return cli_fail(&e);
    }
    /* Central's master key escrows every vault key the import makes (crypto/vault.h). */
    struct key *master = key_new();
    char *keys_dir = instance_path(inst, "keys");
    int krc =
        master ? keys_load_master(keys_dir, master, &e) : err_set(&e, OP_ENOMEM, "out of memory");
    free(keys_dir);
    if (krc != 0) {
        key_free(master);
        instance_close(inst);
        return cli_fail(&e);
    }
    struct users_import_options opt = {
        .role = role,
        .master = master,
        .max_bytes = inst->settings.csv_max_bytes,
        .cost = inst->settings.password_cost,
        .skip_invalid = skip_invalid,
        .progress = isatty(STDERR_FILENO) ? show_progress : NULL,
    };
    struct users_import_report r;
    users_import_report_init(&r, file);
    int rc = users_import_file(inst->db, file, &opt, &r, &e);
    key_free(master);
    instance_close(inst);

    import_problems_print(&r.problems, stderr);
    if (r.unlisted)
        fprintf(stderr, "%s: %d more invalid row%s not listed\n", file, r.unlisted,
                r.unlisted == 1 ? "" : "s");
    /* The JSON document is printed whenever the rows were checked, refused or not. */
    if (json && (rc == 0 || r.problems.count))
        print_json(&r);
    else if (rc == 0)
        print_summary(file, role, &r);
    users_import_report_free(&r);
    return rc ? cli_fail(&e) : 0;
}
