/*
 * cmd_setup_central.c - `outpost setup-central` (TAO's SetupCentralServer): creates the keys a
 * central server needs (results key, signing key, master key; crypto/keys.h) where they are
 * missing. `setup` runs it for a new central; running it again is safe: existing keys are
 * checked and kept, never replaced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "crypto/keys.h"
#include "instance/keycheck.h"
#include "instance/roles.h"
#include "store/results_keys.h"

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
    int json = 0, replace = 0;
    const struct option opts[] = {
        OPT_FLAG(0, "replace-lost-key", &replace,
                 "make a new key in place of a lost one that data depends on"),
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
    struct key current;
    struct keycheck kc;
    memset(&kc, 0, sizeof kc);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "setup-central", &e);
    if (rc == 0)
        rc = keycheck_central(inst, &kc, &e);
    int replacing = rc == 0 && keycheck_needs_replacement(&kc);
    if (replacing && !replace)
        rc = keycheck_refuse(inst, &kc, &e);
    if (rc == 0) {
        /* A replacement results key is named by its id: the lost key's name stays free. */
        struct keys_setup_options kopt = {kc.results_none && kc.nresults > 0};
        rc = roles_setup_central(inst, &kopt, &rep, &e);
    }
    if (rc == 0 && replacing)
        rc = keycheck_record_replaced(inst, &kc, &e);
    if (rc == 0)
        keycheck_print(inst, &kc, replacing, stderr);
    keycheck_free(&kc);
    char *dir = instance_path(inst, "keys");
    /* the results keys central has, remembered even if a file is lost later */
    if (rc == 0 && (rc = db_begin(inst->db, &e)) == 0)
        rc = db_commit_if(inst->db, results_keys_record_dir(inst->db, dir, &e), &e);
    if (rc == 0)
        rc = keys_results_current(dir, &current, &e);
    if (rc == 0) {
        char fp[KEY_FINGERPRINT_HEX_LEN];
        key_fingerprint(&current, fp);
        if (json) {
            cli_print_json(json_pack("{s:i, s:i, s:s, s:s}", "created", rep.created, "kept",
                                     rep.kept, "results_key_id", current.id,
                                     "results_key_fingerprint_sha256", fp));
        } else {
            printf("central keys in %s: %d created, %d kept\n", dir, rep.created, rep.kept);
            printf("  current results key %s\n  SHA-256 fingerprint %s\n", current.id, fp);
        }
        key_wipe(&current);
    }
    free(dir);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}
