/*
 * cmd_setup_device.c - `outpost setup-device` (TAO's SetupClientServer): creates the device's
 * Ed25519 signing key (crypto/keys.h), which signs every result envelope the device sends.
 * `setup` runs it for a new device; running it again keeps the existing key.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "crypto/keys.h"
#include "instance/roles.h"

static const struct command_usage usage = {
    "outpost setup-device [--json]",
    "Creates the device's signing key in DIR/keys (mode 0600) if it is missing; an existing\n"
    "key is kept. Prints the key's SHA-256 fingerprint, which central records when the device\n"
    "enrols.",
};

int cmd_setup_device(int argc, char **argv)
{
    int json = 0;
    const struct option opts[] = {
        OPT_FLAG(0, "json", &json, "print the outcome as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &usage, 0, NULL, &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_instance(&inst)) != 0)
        return status;
    struct op_err e = {0};
    struct keys_setup_report rep = {0, 0};
    struct key k;
    int rc = instance_require_role(inst, ROLE_DEVICE, "setup-device", &e);
    if (rc == 0)
        rc = roles_setup_device(inst, &rep, &e);
    char *dir = instance_path(inst, "keys");
    if (rc == 0)
        rc = keys_load_device_signing(dir, &k, &e);
    if (rc == 0) {
        char fp[KEY_FINGERPRINT_HEX_LEN];
        key_fingerprint(&k, fp);
        if (json) {
            cli_print_json(json_pack("{s:i, s:i, s:s, s:s, s:s}", "created", rep.created, "kept",
                                     rep.kept, "device_id", inst->id, "signing_key_id", k.id,
                                     "signing_key_fingerprint_sha256", fp));
        } else {
            printf("device keys in %s: %d created, %d kept\n", dir, rep.created, rep.kept);
            printf("  device %s signing key %s\n  SHA-256 fingerprint %s\n", inst->id, k.id, fp);
        }
        key_wipe(&k);
    }
    free(dir);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}
