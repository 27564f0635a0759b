/*
 * cmd_register_central.c - `outpost register-central --root-url URL [--pin FINGERPRINT]
 * [--ca-file F] [--no-check] [--json]` (TAO's RegisterHandShakeRootURL), on a device: which
 * central server it syncs with. The work is app/central.h; this file reads the options and
 * prints. An unreachable central is a warning on stderr, and the command still succeeds.
 */
#include <stdio.h>

#include "app/central.h"
#include "cli/cli.h"
#include "cli/commands.h"

static const struct command_usage usage = {
    "outpost register-central --root-url URL [--pin FINGERPRINT] [--ca-file F] [--no-check] "
    "[--json]",
    "Registers, on a device, the central server it syncs with. URL is central's root, e.g.\n"
    "https://central.example.org or https://host/outpost (a trailing slash makes no\n"
    "difference; http:// only on a network you trust). --pin is the SHA-256 fingerprint of\n"
    "central's signing key as `outpost keys show` prints it on central (colons and case do not\n"
    "matter): the device then refuses a central whose key differs; without it the device trusts\n"
    "the key central presents when it enrols. --ca-file trusts a private CA for central's TLS\n"
    "certificate (checking is never off). Unless --no-check, GET /api/v1/health is tried: if\n"
    "central cannot be reached the settings are stored anyway, with a warning (devices are set\n"
    "up offline). Registering again replaces all three settings.\n"
    "--json fields: root_url, signing_key_pin (null), ca_file (null), checked, reachable,\n"
    "warning (null).",
};

int cmd_register_central(int argc, char **argv)
{
    const char *url = NULL, *pin = NULL, *ca = NULL;
    int no_check = 0, json = 0;
    const struct cli_option opts[] = {
        OPT_STRING(0, "root-url", &url, "URL", "central's root URL (required)"),
        OPT_STRING(0, "pin", &pin, "FINGERPRINT", "SHA-256 fingerprint of central's signing key"),
        OPT_STRING(0, "ca-file", &ca, "FILE", "PEM CA bundle to trust for central's certificate"),
        OPT_FLAG(0, "no-check", &no_check, "do not try to reach central now"),
        OPT_FLAG(0, "json", &json, "print the result as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &usage, 0, NULL, &status) != 0)
        return status;
    if (!url)
        return options_usage_error(&usage, "--root-url is required");
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    const struct app_central_request req = {url, pin, ca, no_check};
    struct app_central c;
    int rc = app_central_register(run.inst, &req, &c, &run.e);
    if (rc == 0) {
        if (c.checked && !c.reachable)
            fprintf(stderr,
                    "outpost: warning: central is not reachable now (registered anyway; the "
                    "device syncs once it is): %s\n",
                    c.warning);
        if (json) {
            cli_print_json(app_central_json(&c, 1));
        } else {
            printf("central registered: %s\n", c.root_url);
            printf("  signing key pin  %s\n",
                   c.pin[0] ? c.pin : "none (trust on first use at enrolment)");
            if (c.ca_file[0])
                printf("  CA file          %s\n", c.ca_file);
            printf("  reachable        %s\n", !c.checked    ? "not checked"
                                              : c.reachable ? "yes"
                                                            : "no (see the warning)");
        }
    }
    return cli_end(&run, rc);
}
