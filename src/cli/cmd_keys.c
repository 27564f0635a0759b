/*
 * cmd_keys.c - `outpost keys show|rotate`: the public side of an instance's keys (what a
 * device pins, what an operator compares) and the rotation of central's results key. Secret
 * keys are never printed. The work is app/keys.h; this file reads the options and prints.
 */
#include <stdio.h>

#include "app/keys.h"
#include "cli/cli.h"
#include "cli/commands.h"

static void print_key_line(const char *what, json_t *k)
{
    printf("%-26s id %s  created %s\n", what, json_string_value(json_object_get(k, "id")),
           json_string_value(json_object_get(k, "created")));
    if (json_object_get(k, "public_key"))
        printf("  public key  %s\n  SHA-256     %s\n",
               json_string_value(json_object_get(k, "public_key")),
               json_string_value(json_object_get(k, "fingerprint_sha256")));
}

static const struct command_usage show_usage = {
    "outpost keys show [--json]",
    "Prints the instance's public keys with their ids and SHA-256 fingerprints. On central:\n"
    "every results key (the current one marked; devices seal results to it and pin its\n"
    "fingerprint), the signing key and the id of the master key. On a device: its signing key.\n"
    "--json fields: role, instance_id, results_keys[] {id, serial, current, public_key,\n"
    "fingerprint_sha256, created}, signing_key {...}, master_key {id, created},\n"
    "restored_master_keys [{id, created}] (older master keys restored as master-ID.key).",
};

static int keys_show_cmd(int argc, char **argv)
{
    int json = 0;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    struct cli_run run;
    if (cli_start(&run, argc, argv, opts, &show_usage) != 0)
        return run.status;
    json_t *doc;
    int rc = app_keys_show(run.inst, &doc, &run.e);
    if ((rc = cli_end(&run, rc)) != 0)
        return rc;
    if (json) {
        cli_print_json(doc);
        return 0;
    }
    json_t *arr = json_object_get(doc, "results_keys");
    size_t i;
    json_t *k;
    json_array_foreach(arr, i, k)
    {
        char what[64];
        snprintf(what, sizeof what, "results key #%lld%s",
                 (long long)json_integer_value(json_object_get(k, "serial")),
                 json_is_true(json_object_get(k, "current")) ? " (current)" : "");
        print_key_line(what, k);
    }
    if ((k = json_object_get(doc, "signing_key")))
        print_key_line("signing key", k);
    if ((k = json_object_get(doc, "master_key")))
        print_key_line("master key (escrow)", k);
    json_array_foreach(json_object_get(doc, "restored_master_keys"), i, k)
    {
        print_key_line("older master key (restored)", k);
    }
    json_decref(doc);
    return 0;
}

static const struct command_usage rotate_usage = {
    "outpost keys rotate [--json]",
    "Adds a new results key on central; it becomes current, so devices seal new results to it\n"
    "after their next sync. Older results keys are kept: every result sealed to them still\n"
    "decrypts (each envelope names its key).",
};

static int keys_rotate_cmd(int argc, char **argv)
{
    int json = 0;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print the new key as JSON"),
        OPT_END(),
    };
    struct cli_run run;
    if (cli_start(&run, argc, argv, opts, &rotate_usage) != 0)
        return run.status;
    struct key k;
    int rc = app_keys_rotate(run.inst, &k, &run.e);
    if (rc == 0) {
        json_t *o = app_key_json(&k);
        if (json) {
            cli_print_json(o);
        } else {
            printf("new current results key #%d %s\n  SHA-256 fingerprint %s\n", k.serial, k.id,
                   json_string_value(json_object_get(o, "fingerprint_sha256")));
            json_decref(o);
        }
    }
    key_wipe(&k);
    return cli_end(&run, rc);
}

int cmd_keys(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"show", keys_show_cmd, "print public keys and fingerprints"},
        {"rotate", keys_rotate_cmd, "add a new current results key (central)"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
