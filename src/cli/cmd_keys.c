/*
 * cmd_keys.c - `outpost keys show|rotate`: the public side of an instance's keys (what a
 * device pins, what an operator compares) and the rotation of central's results key. Secret
 * keys are never printed.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "crypto/keys.h"
#include "store/results_keys.h"

static json_t *public_json(const struct key *k)
{
    char pub[KEY_PUBLIC_BYTES * 2 + 1], fp[KEY_FINGERPRINT_HEX_LEN];
    sodium_bin2hex(pub, sizeof pub, k->public_key, sizeof k->public_key);
    key_fingerprint(k, fp);
    return json_pack("{s:s, s:s, s:s, s:s}", "id", k->id, "public_key", pub, "fingerprint_sha256",
                     fp, "created", k->created);
}

struct collect {
    json_t *arr;
    char current_id[KEY_ID_HEX_LEN]; /* by id: a replacement and a restored key share serials */
};

static int collect_results(const struct key *k, void *ctx)
{
    struct collect *c = ctx;
    json_t *o = public_json(k);
    json_object_set_new(o, "serial", json_integer(k->serial));
    json_object_set_new(o, "current", json_boolean(strcmp(k->id, c->current_id) == 0));
    json_array_append_new(c->arr, o);
    return 0;
}

struct restored {
    json_t *arr;
    const char *current_id; /* master.key's, listed as master_key */
};

static int collect_restored_master(const struct key *k, void *ctx)
{
    struct restored *r = ctx;
    if (strcmp(k->id, r->current_id) != 0)
        json_array_append_new(r->arr, json_pack("{s:s, s:s}", "id", k->id, "created", k->created));
    return 0;
}

/* The public description of the instance's keys; NULL with *e filled on failure. */
static json_t *describe(struct instance *inst, struct op_err *e)
{
    char *dir = instance_path(inst, "keys");
    json_t *doc =
        json_pack("{s:s, s:s}", "role", instance_role_name(inst->role), "instance_id", inst->id);
    struct key k;
    int rc;
    if (inst->role == ROLE_DEVICE) {
        rc = keys_load_device_signing(dir, &k, e);
        if (rc == 0)
            json_object_set_new(doc, "signing_key", public_json(&k));
        key_wipe(&k);
    } else {
        struct collect c = {json_array(), ""};
        rc = keys_results_current(dir, &k, e);
        snprintf(c.current_id, sizeof c.current_id, "%s", k.id);
        key_wipe(&k);
        if (rc == 0)
            rc = keys_results_each(dir, collect_results, NULL, &c, e);
        json_object_set_new(doc, "results_keys", c.arr);
        if (rc == 0 && (rc = keys_load_central_signing(dir, &k, e)) == 0)
            json_object_set_new(doc, "signing_key", public_json(&k));
        key_wipe(&k);
        if (rc == 0 && (rc = keys_load_master(dir, &k, e)) == 0)
            json_object_set_new(doc, "master_key",
                                json_pack("{s:s, s:s}", "id", k.id, "created", k.created));
        key_wipe(&k);
        /* Master keys restored beside master.key (master-<id>.key): checked, and listed. */
        struct restored r = {json_array(), ""};
        json_t *m = json_object_get(doc, "master_key");
        if (m)
            r.current_id = json_string_value(json_object_get(m, "id"));
        if (rc == 0)
            rc = keys_master_each(dir, collect_restored_master, &r, e);
        json_object_set_new(doc, "restored_master_keys", r.arr);
    }
    free(dir);
    if (rc != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

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
    const struct option opts[] = {
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &show_usage, 0, NULL, &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_instance(&inst)) != 0)
        return status;
    struct op_err e = {0};
    json_t *doc = describe(inst, &e);
    instance_close(inst);
    if (!doc)
        return cli_fail(&e);
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
    const struct option opts[] = {
        OPT_FLAG(0, "json", &json, "print the new key as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &rotate_usage, 0, NULL, &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_instance(&inst)) != 0)
        return status;
    struct op_err e = {0};
    struct key k;
    memset(&k, 0, sizeof k);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "keys rotate", &e);
    char *dir = instance_path(inst, "keys");
    if (rc == 0)
        rc = keys_rotate_results(dir, &k, &e);
    /* remembered for good, so that intake still knows the key if its file is ever lost */
    if (rc == 0 && (rc = db_begin(inst->db, &e)) == 0)
        rc = db_commit_if(inst->db, results_keys_record(inst->db, &k, &e), &e);
    if (rc == 0) {
        json_t *o = public_json(&k);
        json_object_set_new(o, "serial", json_integer(k.serial));
        if (json) {
            cli_print_json(o);
        } else {
            printf("new current results key #%d %s\n  SHA-256 fingerprint %s\n", k.serial, k.id,
                   json_string_value(json_object_get(o, "fingerprint_sha256")));
            json_decref(o);
        }
    }
    key_wipe(&k);
    free(dir);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
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
