/*
 * cmd_setup_device.c - `outpost setup-device` (TAO's SetupClientServer): creates the device's
 * Ed25519 signing key (crypto/keys.h), which signs every result envelope the device sends.
 * `setup` runs it for a new device; running it again keeps the existing key. The work is
 * app_keys_setup_device (app/keys.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "app/keys.h"
#include "cli/cli.h"
#include "cli/commands.h"

static const struct command_usage usage = {
    "outpost setup-device [--json]",
    "Creates the device's signing key in DIR/keys (mode 0600) if it is missing; an existing\n"
    "key is kept. Prints the key's SHA-256 fingerprint, which central records when the device\n"
    "enrols.",
};

int cmd_setup_device(int argc, char **argv)
{
    int json = 0;
    struct app_keys_setup_report rep;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print the outcome as JSON"),
        OPT_END(),
    };
    struct cli_run run;
    if (cli_start(&run, argc, argv, opts, &usage) != 0)
        return run.status;
    int rc = app_keys_setup_device(run.inst, &rep, &run.e);
    if (rc == 0 && json) {
        cli_print_json(app_keys_setup_device_json(&rep));
    } else if (rc == 0) {
        char *dir = instance_path(run.inst, "keys");
        printf("device keys in %s: %d created, %d kept\n", dir, rep.created, rep.kept);
        printf("  device %s signing key %s\n  SHA-256 fingerprint %s\n", rep.instance_id,
               rep.key_id, rep.fingerprint);
        free(dir);
    }
    app_keys_setup_report_free(&rep);
    return cli_end(&run, rc);
}
