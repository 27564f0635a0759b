/*
 * cmd_decrypt_results.c - `outpost decrypt-results --all | --delivery ID` (TAO's
 * DecryptResults): decrypts the pending result envelopes on central with the results key each
 * one names, and stores the result next to its envelope (app_results_decrypt, app/results.h).
 * Idempotent: a decrypted result is never decrypted again; a damaged one is reported by id and
 * the others go on.
 */
#include <stdio.h>

#include "app/results.h"
#include "cli/cli.h"
#include "cli/commands.h"

static const struct command_usage usage = {
    "outpost decrypt-results (--all | --delivery DELIVERY) [--json]",
    "Decrypts every pending result (of DELIVERY, an id or a label, or of all deliveries) on\n"
    "central and stores the result JSON next to its envelope, which is kept. Prints how many were\n"
    "decrypted, and each damaged result (marked damaged, kept) or result whose results key is\n"
    "missing from DIR/keys (left pending: restore the key and run again) by id. A results key\n"
    "file that does not load (e.g. readable by others) is reported and the results sealed to\n"
    "the other keys are still decrypted. Running it again is safe. Exits 1 if any result\n"
    "could not be decrypted or any key file does not load. --json prints {decrypted, damaged,\n"
    "missing_key, bad_keys, problems: [{result_id, damaged, reason}], key_problems: [{file,\n"
    "reason}]}.",
};

struct report_ctx {
    json_t *problems;
    json_t *key_problems;
    int json;
};

static void on_problem(const struct app_results_problem *p, void *ctx)
{
    struct report_ctx *r = ctx;
    int key = p->kind == APP_RESULTS_BAD_KEY;
    json_array_append_new(key ? r->key_problems : r->problems, app_results_problem_json(p));
    if (r->json)
        return;
    /* problems, on stderr (docs/operations.md, "Running it"); the summary is the result */
    if (key)
        fprintf(stderr, "outpost: key file does not load %s: %s\n", p->id, p->reason);
    else
        fprintf(stderr, "outpost: %s %s: %s\n",
                p->kind == APP_RESULTS_DAMAGED ? "damaged" : "waiting for key", p->id, p->reason);
}

int cmd_decrypt_results(int argc, char **argv)
{
    int all = 0, json = 0;
    const char *delivery = NULL;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "all", &all, "decrypt the pending results of every delivery"),
        OPT_STRING(0, "delivery", &delivery, "DELIVERY",
                   "decrypt the pending results of DELIVERY (an id or a label)"),
        OPT_FLAG(0, "json", &json, "print the outcome as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &usage, 0, NULL, &status) != 0)
        return status;
    if (all == (delivery != NULL))
        return options_usage_error(&usage, "give either --all or --delivery DELIVERY");
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    struct app_results_decrypt_out rep;
    struct report_ctx ctx = {json_array(), json_array(), json};
    const struct app_results_decrypt_in in = {delivery};
    int rc = app_results_decrypt(run.inst, &in, &rep, on_problem, &ctx, &run.e);
    if ((status = cli_end(&run, rc)) != 0) {
        json_decref(ctx.problems);
        json_decref(ctx.key_problems);
        return status;
    }
    if (json) {
        cli_print_json(app_results_decrypt_json(&rep, ctx.problems, ctx.key_problems));
    } else {
        printf("%d decrypted, %d damaged, %d waiting for a missing key", rep.decrypted, rep.damaged,
               rep.missing_key);
        if (rep.bad_keys)
            printf(", %d key file%s not loading", rep.bad_keys, rep.bad_keys > 1 ? "s" : "");
        printf("\n");
        json_decref(ctx.problems);
        json_decref(ctx.key_problems);
    }
    return rep.damaged || rep.missing_key || rep.bad_keys ? 1 : 0;
}
