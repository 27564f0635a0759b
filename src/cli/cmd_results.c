/*
 * cmd_results.c - `outpost results list|show|import` on central: the result envelopes
 * received from devices (store/results.h). `import` takes envelopes from a file (one or more
 * concatenated, e.g. carried on a USB stick) and verifies each before storing it
 * (crypto/intake.h); sync brings them in the same way over the network. The file is read
 * one envelope at a time, so a large file does not take its size in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "crypto/intake.h"
#include "store/results.h"

/* ---- results list ---- */

static const struct command_usage list_usage = {
    "outpost results list [--delivery ID] [--status STATUS] [--json]",
    "Lists the result envelopes received on central, oldest first. STATUS: pending (not\n"
    "decrypted yet), decrypted, damaged. --json prints one array of objects with the fields\n"
    "id, execution_id, delivery_id, test_taker_id, device_id, key_id, state, started_at,\n"
    "ended_at, sealed_at, envelope_sha256, status, problem, received_at, decrypted_at,\n"
    "quarantined (how many other copies under the id are held: `outpost results quarantine`).",
};

static json_t *row_json(const struct result_row *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "execution_id", json_string(r->execution_id));
    json_object_set_new(o, "delivery_id", json_string(r->delivery_id));
    json_object_set_new(o, "test_taker_id", json_string(r->test_taker_id));
    json_object_set_new(o, "device_id", json_string(r->device_id));
    json_object_set_new(o, "key_id", json_string(r->key_id));
    json_object_set_new(o, "state", json_string(r->state));
    json_object_set_new(o, "started_at", json_string(r->started_at));
    json_object_set_new(o, "ended_at", json_string(r->ended_at));
    json_object_set_new(o, "sealed_at", json_string(r->sealed_at));
    json_object_set_new(o, "envelope_sha256", json_string(r->envelope_sha256));
    json_object_set_new(o, "status", json_string(r->status));
    json_object_set_new(o, "problem", r->problem ? json_string(r->problem) : json_null());
    json_object_set_new(o, "received_at", json_string(r->received_at));
    json_object_set_new(o, "decrypted_at",
                        r->decrypted_at[0] ? json_string(r->decrypted_at) : json_null());
    json_object_set_new(o, "quarantined", json_integer(r->quarantined));
    return o;
}

static int list_row(const struct result_row *r, void *ctx)
{
    struct cli_list *l = ctx;
    if (l->arr)
        json_array_append_new(l->arr, row_json(r));
    else {
        char held[16] = "";
        if (r->quarantined)
            snprintf(held, sizeof held, "%d", r->quarantined);
        cli_table_add(l->table, r->id, r->delivery_id, r->test_taker_id, r->state, r->status,
                      r->received_at, held);
    }
    return 0;
}

static int results_list_cmd(int argc, char **argv)
{
    const char *delivery = NULL, *status_opt = NULL;
    int json = 0;
    const struct option opts[] = {
        OPT_STRING(0, "delivery", &delivery, "ID", "only results of this delivery"),
        OPT_STRING(0, "status", &status_opt, "STATUS", "pending, decrypted or damaged"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &list_usage, 0, NULL, &status) != 0)
        return status;
    if (status_opt && strcmp(status_opt, "pending") && strcmp(status_opt, "decrypted") &&
        strcmp(status_opt, "damaged"))
        return options_usage_error(
            &list_usage, "unknown status \"%s\" (use pending, decrypted or damaged)", status_opt);
    struct instance *inst;
    if ((status = cli_open_central("results list", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct cli_list l =
        CLI_LIST(json, "RESULT", "DELIVERY", "TEST TAKER", "STATE", "STATUS", "RECEIVED", "HELD");
    int rc = results_each(inst->db, delivery, status_opt, list_row, &l, &e);
    cli_list_print(&l, rc);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}

/* ---- results quarantine ---- */

static const struct command_usage quarantine_usage = {
    "outpost results quarantine [--json]",
    "Lists the envelopes held in quarantine, oldest first: a result id belongs to the device\n"
    "that first sent it, so an envelope from another device under that id (WHY: other device),\n"
    "or other bytes from the same device (other content), was refused, kept here and never\n"
    "stored in place of the first. Either copy may be the genuine one: compare with the device\n"
    "owners. --json prints one array of objects with the fields result_id, device_id,\n"
    "owner_device_id, reason, delivery_id, test_taker_id, key_id, envelope_sha256,\n"
    "received_at.",
};

static int quarantine_row(const struct quarantine_row *q, void *ctx)
{
    struct cli_list *l = ctx;
    if (l->arr)
        json_array_append_new(
            l->arr, json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:s}", "result_id",
                              q->result_id, "device_id", q->device_id, "owner_device_id",
                              q->owner_device_id[0] ? q->owner_device_id : NULL, "reason",
                              q->reason, "delivery_id", q->delivery_id, "test_taker_id",
                              q->test_taker_id, "key_id", q->key_id, "envelope_sha256",
                              q->envelope_sha256, "received_at", q->received_at));
    else
        cli_table_add(l->table, q->result_id, q->device_id, q->owner_device_id, q->reason,
                      q->received_at);
    return 0;
}

static int results_quarantine_cmd(int argc, char **argv)
{
    int json = 0;
    const struct option opts[] = {
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &quarantine_usage, 0, NULL, &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_central("results quarantine", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct cli_list l = CLI_LIST(json, "RESULT", "DEVICE", "ID BELONGS TO", "WHY", "RECEIVED");
    int rc = results_quarantine_each(inst->db, quarantine_row, &l, &e);
    cli_list_print(&l, rc);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}

/* ---- results show ---- */

static const struct command_usage show_usage = {
    "outpost results show RESULT_ID",
    "Prints the decrypted result JSON of one result (after `outpost decrypt-results`).",
};

static int results_show_cmd(int argc, char **argv)
{
    const struct option opts[] = {OPT_END()};
    int status;
    if (options_parse_exact(argc, argv, opts, &show_usage, 1, "give one RESULT_ID", &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_central("results show", &inst)) != 0)
        return status;
    struct op_err e = {0};
    char *json = NULL;
    int rc = results_get_json(inst->db, argv[0], &json, &e);
    if (rc == 0)
        printf("%s\n", json);
    free(json);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}

/* ---- results import ---- */

static const struct command_usage import_usage = {
    "outpost results import -f FILE [--json]",
    "Imports result envelopes from FILE (one or more, back to back, as a device exports them)\n"
    "on central. Each is checked before it is stored: format, enrolled and not revoked device,\n"
    "device signature, results key central has had, test taker eligible in the device's\n"
    "organisation. A result already received from the same device with the same content is\n"
    "accepted again. A result id belongs to the device that first sent it: an envelope under a\n"
    "known id from another device, or with other content, is refused and held in quarantine\n"
    "(`outpost results quarantine`), never stored in place of the first. Exits 1 if any\n"
    "envelope was refused. --json prints {stored, duplicates, rejected, quarantined,\n"
    "refusals: [{result_id, offset, reason}]}.",
};

static int results_import_cmd(int argc, char **argv)
{
    const char *file = NULL;
    int json = 0;
    const struct option opts[] = {
        OPT_STRING('f', "file", &file, "FILE", "file of envelopes (required)"),
        OPT_FLAG(0, "json", &json, "print the outcome as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &import_usage, 0, NULL, &status) != 0)
        return status;
    if (!file)
        return options_usage_error(&import_usage, "-f FILE is required");
    struct instance *inst;
    if ((status = cli_open_central("results import", &inst)) != 0)
        return status;
    struct op_err e = {0};
    int fd;
    if (fs_open_regular(file, &fd, &e) != 0) {
        instance_close(inst);
        return cli_fail(&e);
    }
    char *keys_dir = instance_path(inst, "keys");
    /* One envelope in memory at a time (at most ENVELOPE_MAX_BYTES), whatever the file size. */
    unsigned char *buf = NULL;
    size_t cap = 0;
    int stored = 0, duplicates = 0, rejected = 0, held = 0;
    json_t *refusals = json_array();
    size_t off = 0;
    int rc = db_begin(inst->db, &e);
    while (rc == 0) {
        struct envelope env;
        size_t used;
        struct op_err why = {0};
        int r = envelope_read_next(fd, &buf, &cap, &env, &used, &why);
        if (r == 1) {
            if (off == 0)
                rc = err_set(&e, OP_EINPUT, "%s: empty file, no envelope in it", file);
            break;
        }
        if (r == OP_EIO || r == OP_ENOMEM) {
            rc = err_set(&e, r, "%s: %s", file, why.msg);
            break;
        }
        if (r != 0) {
            /* Without a readable header the next envelope cannot be found: stop here. */
            rejected++;
            json_array_append_new(refusals, json_pack("{s:n, s:I, s:s}", "result_id", "offset",
                                                      (json_int_t)off, "reason", why.msg));
            if (!json)
                fprintf(stderr, "outpost: %s: byte %zu: %s; the rest of the file is skipped\n",
                        file, off, why.msg);
            break;
        }
        r = intake_receive(inst->db, keys_dir, buf, used, NULL, &why);
        if (r == RESULTS_STORED) {
            stored++;
        } else if (r == RESULTS_DUPLICATE) {
            duplicates++;
        } else if (r == OP_EDB) {
            e = why;
            rc = r;
            break;
        } else {
            rejected++;
            held += r == OP_ECONFLICT; /* refused and held in quarantine (intake.h) */
            json_array_append_new(refusals,
                                  json_pack("{s:s, s:I, s:s}", "result_id", env.h.result_id,
                                            "offset", (json_int_t)off, "reason", why.msg));
            if (!json)
                fprintf(stderr, "outpost: %s: refused: %s\n", file, why.msg);
        }
        off += used;
    }
    rc = db_commit_if(inst->db, rc, &e);
    close(fd);
    free(buf);
    free(keys_dir);
    instance_close(inst);
    if (rc != 0) {
        json_decref(refusals);
        return cli_fail(&e);
    }
    if (json)
        cli_print_json(json_pack("{s:i, s:i, s:i, s:i, s:o}", "stored", stored, "duplicates",
                                 duplicates, "rejected", rejected, "quarantined", held, "refusals",
                                 refusals));
    else {
        printf("%d stored, %d already received, %d refused", stored, duplicates, rejected);
        if (held)
            printf(" (%d held in quarantine: outpost results quarantine)", held);
        printf("\n");
        json_decref(refusals);
    }
    return rejected ? 1 : 0;
}

int cmd_results(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"list", results_list_cmd, "list received results"},
        {"show", results_show_cmd, "print one decrypted result"},
        {"quarantine", results_quarantine_cmd, "list refused envelopes held for review"},
        {"import", results_import_cmd, "import result envelopes from a file"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
