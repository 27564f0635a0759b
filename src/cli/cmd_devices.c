/*
 * cmd_devices.c - `outpost devices list|revoke` on central: the devices enrolled by sync
 * managers (docs/sync-protocol.md, "Enrolment"), and their revocation, which stops the
 * device's access tokens and OAuth2 client at once and refuses its later results. The work is
 * app/devices.h; this file reads the options and prints.
 */
#include <stdio.h>

#include "app/devices.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"

static const struct command_usage list_usage = {
    "outpost devices list [--json]",
    "Lists the devices enrolled with this central, ordered by label: id, label, organisation,\n"
    "the login of the sync manager who enrolled it, when, its last sync and whether it is\n"
    "revoked. --json prints one array of objects with the fields id, label, org_id,\n"
    "sync_manager_login (null if none), enrolled_at, last_sync_at (null if never), revoked,\n"
    "and what the device reported at its last sync: software_version, pending_results,\n"
    "clock_offset_seconds (null until it did).",
};

static int list_row(const struct device_overview *d, void *ctx)
{
    return cli_list_add(ctx, app_device_listing_json(d), d->id, d->label, d->org_id,
                        d->sync_manager_login, d->enrolled_at,
                        d->last_sync_at[0] ? d->last_sync_at : "never", d->revoked ? "yes" : "no");
}

static int list_rows(struct instance *inst, struct cli_list *out, struct op_err *e)
{
    return app_devices_list(inst, list_row, out, e);
}

static int devices_list_cmd(int argc, char **argv)
{
    static const char *const columns[] = {"ID",       "LABEL",     "ORG",     "SYNC MANAGER",
                                          "ENROLLED", "LAST SYNC", "REVOKED", NULL};
    return cli_list_command(argc, argv, &list_usage, "devices list", columns, list_rows);
}

static const struct command_usage revoke_usage = {
    "outpost devices revoke ID",
    "Revokes the device ID (see `devices list`): its access tokens stop at once, it can get no\n"
    "new one, and the results it sends from now on are refused, saying it is revoked. The\n"
    "device stays listed. To let it sync again, its sync manager enrols it again.",
};

static int devices_revoke_cmd(int argc, char **argv)
{
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, NULL, &revoke_usage, "give one device ID") != 0)
        return run.status;
    int rc = app_devices_revoke(run.inst, argv[0], &run.e);
    if (rc == 0)
        printf("revoked device %s: its tokens no longer work and its results are refused\n",
               argv[0]);
    return cli_end(&run, rc);
}

int cmd_devices(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"list", devices_list_cmd, "list enrolled devices (central)"},
        {"revoke", devices_revoke_cmd, "revoke a device: its tokens stop at once (central)"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
