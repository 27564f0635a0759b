/*
 * cmd_deliveries.c - `outpost deliveries list|update|delete`: the deliveries of an instance
 * with the hash of their compiled package (TAO: the Deliveries list of the back office).
 * Deliveries are created by import-qti; the rules are app/deliveries.h's.
 */
#include <stdio.h>

#include "app/deliveries.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "store/eligibilities.h"

static const struct command_usage list_usage = {
    "outpost deliveries list [--json]",
    "Lists deliveries ordered by label. --json prints one array of objects with the fields id,\n"
    "label, package_sha256, max_executions, proctored_default, version, created_at, updated_at.",
};

static int list_row(const struct delivery *d, void *ctx)
{
    return cli_list_add(ctx, app_delivery_json(d), d->id, d->package_sha256, d->label);
}

static int list_rows(struct instance *inst, struct cli_list *out, struct op_err *e)
{
    return app_deliveries_list(inst, list_row, out, e);
}

static int deliveries_list_cmd(int argc, char **argv)
{
    static const char *const columns[] = {"ID", "PACKAGE SHA-256", "LABEL", NULL};
    return cli_list_command(argc, argv, &list_usage, NULL, columns, list_rows);
}

/* ---- deliveries update ---- */

static const struct command_usage update_usage = {
    "outpost deliveries update DELIVERY [--label L] [--proctored yes|no] [--max-executions N]",
    "Changes the label or the settings of DELIVERY (an id or a label) on a central server. The\n"
    "delivery gets a new version and devices receive the change at their next sync.\n"
    "--proctored sets the default of eligibilities created later; existing eligibilities keep\n"
    "their own setting (change them with `eligibilities set --proctored`).",
};

static int deliveries_update_cmd(int argc, char **argv)
{
    const char *label = NULL, *proctored = NULL;
    int max_executions = -1, json = 0;
    const struct cli_option opts[] = {
        OPT_STRING(0, "label", &label, "L", "new label"),
        OPT_STRING(0, "proctored", &proctored, "yes|no", "proctored by default"),
        OPT_INT(0, "max-executions", &max_executions, "N",
                "executions allowed per test taker (0: unlimited)"),
        OPT_FLAG(0, "json", &json, "print the delivery as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &update_usage, 1, "give one DELIVERY", &status) != 0)
        return status;
    int proctored_default = proctored ? eligibilities_parse_proctored(proctored) : -1;
    if (proctored && proctored_default < 0)
        return options_usage_error(&update_usage, "--proctored takes yes or no, not \"%s\"",
                                   proctored);
    if (label && !label[0])
        return options_usage_error(&update_usage, "--label must not be empty");
    if (!label && !proctored && max_executions == -1)
        return options_usage_error(&update_usage, "nothing to change: give --label, --proctored or "
                                                  "--max-executions");
    if (max_executions < -1)
        return options_usage_error(&update_usage, "--max-executions must be 0 (unlimited) or more");
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    const struct app_deliveries_update_in in = {argv[0], label, proctored_default, max_executions,
                                                0};
    struct delivery d;
    int rc = app_deliveries_update(run.inst, &in, &d, &run.e);
    if (rc == 0) {
        if (json)
            cli_print_json(app_delivery_json(&d));
        else
            printf("updated delivery %s (%s), version %lld\n", d.label, d.id, (long long)d.version);
        delivery_clear(&d);
    }
    return cli_end(&run, rc);
}

/* ---- deliveries delete ---- */

static const struct command_usage delete_usage = {
    "outpost deliveries delete DELIVERY",
    "Withdraws DELIVERY (an id or a label) on a central server: the delivery and its\n"
    "eligibilities are deleted, and devices delete them at their next sync. Results already\n"
    "received for it are kept, and so is its compiled package file (other deliveries may share\n"
    "it).",
};

static int deliveries_delete_cmd(int argc, char **argv)
{
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, NULL, &delete_usage, "give one DELIVERY") != 0)
        return run.status;
    struct delivery d;
    int rc = app_deliveries_delete(run.inst, argv[0], &d, &run.e);
    if (rc == 0) {
        printf("deleted delivery %s (%s)\n", d.label, d.id);
        delivery_clear(&d);
    }
    return cli_end(&run, rc);
}

int cmd_deliveries(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"list", deliveries_list_cmd, "list deliveries with their package hash"},
        {"update", deliveries_update_cmd, "change a delivery's label or settings"},
        {"delete", deliveries_delete_cmd, "withdraw a delivery and its eligibilities"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
