/*
 * cmd_decrypt_results.c - `outpost decrypt-results --all | --delivery ID` (TAO's
 * DecryptResults): decrypts the pending result envelopes on central with the results key each
 * one names, and stores the result next to its envelope (crypto/intake.h). Idempotent: a
 * decrypted result is never decrypted again; a damaged one is reported by id and the others go
 * on.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "crypto/intake.h"

static const struct command_usage usage = {
    "outpost decrypt-results (--all | --delivery ID) [--json]",
    "Decrypts every pending result (of delivery ID, or of all deliveries) on central and\n"
    "stores the result JSON next to its envelope, which is kept. Prints how many were\n"
    "decrypted, and each damaged result (marked damaged, kept) or result whose results key is\n"
    "missing from DIR/keys (left pending: restore the key and run again) by id. Running it\n"
    "again is safe. Exits 1 if any result could not be decrypted. --json prints {decrypted,\n"
    "damaged, missing_key, problems: [{result_id, damaged, reason}]}.",
};

struct report_ctx {
    json_t *problems;
    int json;
};

static void on_problem(const char *id, int damaged, const char *problem, void *ctx)
{
    struct report_ctx *r = ctx;
    json_array_append_new(r->problems, json_pack("{s:s, s:b, s:s}", "result_id", id, "damaged",
                                                 damaged, "reason", problem));
    if (!r->json)
        printf("%s %s: %s\n", damaged ? "damaged" : "waiting for key", id, problem);
}

int cmd_decrypt_results(int argc, char **argv)
{
    int all = 0, json = 0;
    const char *delivery = NULL;
    const struct option opts[] = {
        OPT_FLAG(0, "all", &all, "decrypt the pending results of every delivery"),
        OPT_STRING(0, "delivery", &delivery, "ID", "decrypt the pending results of delivery ID"),
        OPT_FLAG(0, "json", &json, "print the outcome as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &usage, 0, NULL, &status) != 0)
        return status;
    if (all == (delivery != NULL))
        return options_usage_error(&usage, "give either --all or --delivery ID");
    struct instance *inst;
    if ((status = cli_open_instance(&inst)) != 0)
        return status;
    struct op_err e = {0};
    int rc = instance_require_role(inst, ROLE_CENTRAL, "decrypt-results", &e);
    struct intake_report rep = {0, 0, 0};
    struct report_ctx ctx = {json_array(), json};
    char *dir = instance_path(inst, "keys");
    if (rc == 0)
        rc = intake_decrypt(inst->db, dir, delivery, &rep, on_problem, &ctx, &e);
    free(dir);
    instance_close(inst);
    if (rc != 0) {
        json_decref(ctx.problems);
        return cli_fail(&e);
    }
    if (json)
        cli_print_json(json_pack("{s:i, s:i, s:i, s:o}", "decrypted", rep.decrypted, "damaged",
                                 rep.damaged, "missing_key", rep.missing_key, "problems",
                                 ctx.problems));
    else {
        printf("%d decrypted, %d damaged, %d waiting for a missing key\n", rep.decrypted,
               rep.damaged, rep.missing_key);
        json_decref(ctx.problems);
    }
    return rep.damaged || rep.missing_key ? 1 : 0;
}
