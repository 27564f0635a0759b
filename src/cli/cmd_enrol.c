/*
 * cmd_enrol.c - `outpost enrol --login L [--password-stdin] [--label TEXT] [--force] [--json]`,
 * on a device: enrols it with the central registered by `register-central`, as the sync
 * manager L. The work is sync/enrol.h; this file reads the options and the password, and
 * prints. The client secret central returns is never printed.
 */
#include <stdio.h>

#include "base/secret.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "sync/enrol.h"

static const struct command_usage usage = {
    "outpost enrol --login LOGIN [--password-stdin] [--label TEXT] [--force] [--json]",
    "Enrols this device with the central server registered by `outpost register-central`, as\n"
    "the sync manager LOGIN (a user of role sync-manager on central, with an organisation): the\n"
    "device then syncs that organisation's test centers, users, eligibilities and deliveries.\n"
    "The password is asked on the terminal without echo, or read from one line of standard\n"
    "input (--password-stdin, or when standard input is not a terminal).\n"
    "Central's signing key is pinned: if register-central was given --pin, the key central\n"
    "presents must have that fingerprint (otherwise nothing is stored); without --pin the\n"
    "device trusts the key it sees now. The credential is kept in DATA/keys/oauth-client.secret\n"
    "(mode 0600), never printed. --label names the device on central (`outpost devices list`;\n"
    "default: \"device\" and the start of its id). A device enrolled already is refused unless\n"
    "--force (revoke it on central first: `outpost devices revoke ID`).\n"
    "--json fields: root_url, org_id, client_id, device_id, signing_key_id,\n"
    "signing_key_fingerprint_sha256, results_key_id, trust (\"pin\" or \"first-use\").",
};

int cmd_enrol(int argc, char **argv)
{
    const char *login = NULL, *label = NULL;
    int json = 0, force = 0, from_stdin = 0;
    const struct cli_option opts[] = {
        OPT_STRING(0, "login", &login, "LOGIN", "the sync manager's login (required)"),
        OPT_FLAG(0, "password-stdin", &from_stdin, "read the password from standard input"),
        OPT_STRING(0, "label", &label, "TEXT", "the device's name on central"),
        OPT_FLAG(0, "force", &force, "enrol again a device enrolled already"),
        OPT_FLAG(0, "json", &json, "print the result as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &usage, 0, NULL, &status) != 0)
        return status;
    if (!login)
        return options_usage_error(&usage, "--login is required");
    (void)from_stdin; /* secret_read reads stdin whenever it is not a terminal */
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    char *pw = NULL;
    char prompt[300];
    snprintf(prompt, sizeof prompt, "Password of %s on central: ", login);
    int rc = secret_read(prompt, 0, &pw, &run.e);
    struct sync_enrolment en;
    if (rc == 0) {
        const struct sync_enrol_request req = {login, pw, label, force};
        rc = sync_enrol(run.inst, &req, &en, &run.e);
    }
    secret_free(pw);
    if (rc == 0) {
        if (json) {
            cli_print_json(sync_enrolment_json(&en, 1));
        } else {
            printf("device %s enrolled with %s\n", en.device_id, en.root_url);
            printf("  organisation     %s\n", en.org_id);
            printf("  client id        %s (secret in keys/oauth-client.secret)\n", en.client_id);
            printf("  central's key    %s (fingerprint %s, %s)\n", en.signing_key_id,
                   en.signing_key_fingerprint,
                   en.pinned ? "matches the pin"
                             : "trusted on first use: compare with `outpost "
                               "keys show` on central");
            printf("  results key      %s\n", en.results_key_id);
            printf("next: outpost sync\n");
        }
    }
    return cli_end(&run, rc);
}
