/*
 * cmd_deliveries.c - `outpost deliveries list|update|delete`: the deliveries of an instance
 * with the hash of their compiled package (TAO: the Deliveries list of the back office).
 * Deliveries are created by import-qti.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "store/deliveries.h"
#include "store/eligibilities.h"

/* The stable JSON form of a delivery, shared with import-qti. */
json_t *delivery_to_json(const struct delivery *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(d->id));
    json_object_set_new(o, "label", json_string(d->label ? d->label : ""));
    json_object_set_new(o, "package_sha256",
                        d->package_sha256[0] ? json_string(d->package_sha256) : json_null());
    json_object_set_new(o, "max_executions", json_integer(d->max_executions));
    json_object_set_new(o, "proctored_default", json_boolean(d->proctored_default));
    json_object_set_new(o, "version", json_integer(d->version));
    json_object_set_new(o, "created_at", json_string(d->created_at));
    json_object_set_new(o, "updated_at", json_string(d->updated_at));
    return o;
}

static const struct command_usage list_usage = {
    "outpost deliveries list [--json]",
    "Lists deliveries ordered by label. --json prints one array of objects with the fields id,\n"
    "label, package_sha256, max_executions, proctored_default, version, created_at, updated_at.",
};

static int list_row(const struct delivery *d, void *ctx)
{
    struct cli_list *l = ctx;
    if (l->arr)
        json_array_append_new(l->arr, delivery_to_json(d));
    else
        cli_table_add(l->table, d->id, d->package_sha256, d->label);
    return 0;
}

static int deliveries_list_cmd(int argc, char **argv)
{
    int json = 0;
    const struct option opts[] = {
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &list_usage, 0, NULL, &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_instance(&inst)) != 0)
        return status;
    struct op_err e = {0};
    struct cli_list l = CLI_LIST(json, "ID", "PACKAGE SHA-256", "LABEL");
    int rc = deliveries_each(inst->db, list_row, &l, &e);
    cli_list_print(&l, rc);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
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
    const struct option opts[] = {
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
    struct instance *inst;
    if ((status = cli_open_central("deliveries update", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct delivery d;
    memset(&d, 0, sizeof d);
    int rc = db_begin(inst->db, &e);
    if (rc == 0)
        rc = deliveries_find(inst->db, argv[0], &d, &e);
    if (rc == 0) {
        if (label) {
            free(d.label);
            d.label = strdup(label);
        }
        if (proctored)
            d.proctored_default = proctored_default;
        if (max_executions >= 0)
            d.max_executions = max_executions;
        rc = deliveries_update(inst->db, &d, &e);
    }
    rc = db_commit_if(inst->db, rc, &e);
    if (rc == 0) {
        if (json)
            cli_print_json(delivery_to_json(&d));
        else
            printf("updated delivery %s (%s), version %lld\n", d.label, d.id, (long long)d.version);
        delivery_clear(&d);
    }
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
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
    const struct option opts[] = {OPT_END()};
    int status;
    if (options_parse_exact(argc, argv, opts, &delete_usage, 1, "give one DELIVERY", &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_central("deliveries delete", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct delivery d;
    memset(&d, 0, sizeof d);
    int rc = db_begin(inst->db, &e);
    if (rc == 0)
        rc = deliveries_find(inst->db, argv[0], &d, &e);
    if (rc == 0)
        rc = deliveries_delete(inst->db, d.id, &e);
    rc = db_commit_if(inst->db, rc, &e);
    if (rc == 0)
        printf("deleted delivery %s (%s)\n", d.label, d.id);
    delivery_clear(&d);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
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
