/*
 * cmd_deliveries.c - `outpost deliveries list`: the deliveries of an instance with the hash of
 * their compiled package (TAO: the Deliveries list of the back office).
 */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "store/deliveries.h"

json_t *delivery_to_json(const struct delivery *d);

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

int cmd_deliveries(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"list", deliveries_list_cmd, "list deliveries with their package hash"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
