/*
 * cmd_setup_central.c - `outpost setup-central` (TAO's SetupCentralServer): creates the keys a
 * central server needs (results key, signing key, master key; crypto/keys.h) where they are
 * missing. `setup` runs it for a new central; running it again is safe: existing keys are
 * checked and kept, never replaced. The work, with the lost-key check, is
 * app_keys_setup_central (app/keys.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "app/keys.h"
#include "cli/cli.h"
#include "cli/commands.h"

static const struct command_usage usage = {
    "outpost setup-central [--replace-lost-key] [--json]",
    "Creates the missing keys of a central server in DIR/keys (mode 0600): the results key\n"
    "pair devices seal results to, the signing key, and the master key that escrows user\n"
    "vaults. Existing keys are kept as they are. Prints the current results key and its\n"
    "SHA-256 fingerprint, which devices pin (see `outpost keys show`).\n"
    "A missing key that data depends on (escrow copies under the master key, results sealed\n"
    "to a results key) is not replaced: the refusal names the key file and id to restore from\n"
    "a backup. --replace-lost-key makes a new key anyway, when the old one is lost for good,\n"
    "and says what can no longer be opened.",
};

int cmd_setup_central(int argc, char **argv)
{
    int json = 0;
    struct app_keys_setup_central_request req = {0};
    struct app_keys_setup_report rep;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "replace-lost-key", &req.replace_lost_key,
                 "make a new key in place of a lost one that data depends on"),
        OPT_FLAG(0, "json", &json, "print the outcome as JSON"),
        OPT_END(),
    };
    struct cli_run run;
    if (cli_start(&run, argc, argv, opts, &usage) != 0)
        return run.status;
    int rc = app_keys_setup_central(run.inst, &req, &rep, &run.e);
    if (rc == 0 && rep.notes)
        fputs(rep.notes, stderr);
    if (rc == 0 && json) {
        cli_print_json(app_keys_setup_central_json(&rep));
    } else if (rc == 0) {
        char *dir = instance_path(run.inst, "keys");
        printf("central keys in %s: %d created, %d kept\n", dir, rep.created, rep.kept);
        printf("  current results key %s\n  SHA-256 fingerprint %s\n", rep.key_id, rep.fingerprint);
        free(dir);
    }
    app_keys_setup_report_free(&rep);
    return cli_end(&run, rc);
}
