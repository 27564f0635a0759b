/*
 * cmd_results.c - `outpost results list|show|import` on central: the result envelopes
 * received from devices. `import` takes envelopes from a file (one or more concatenated, e.g.
 * carried on a USB stick) and verifies each before storing it; sync brings them in the same
 * way over the network. `accept` and `reject` decide on a result held for review. The rules
 * are app/results.h's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "app/results.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/remedy.h"
#include "cli/table.h"

/* ---- results list ---- */

static const struct command_usage list_usage = {
    "outpost results list [--delivery ID] [--status STATUS] [--json]",
    "Lists the result envelopes received on central, oldest first. STATUS: pending (not\n"
    "decrypted yet), decrypted, damaged; or quarantined (stored but held for review: the test\n"
    "taker's eligibility was withdrawn after the test; `outpost results accept|reject ID`),\n"
    "accepted, rejected. --json prints one array of objects with the fields id,\n"
    "execution_id, delivery_id, test_taker_id, device_id, key_id, state, started_at,\n"
    "ended_at, sealed_at, envelope_sha256, status, problem, received_at, decrypted_at,\n"
    "quarantined (how many other copies under the id are held: `outpost results quarantine`),\n"
    "review (null, quarantined, accepted or rejected), review_reason.",
};

static int list_row(const struct result_row *r, void *ctx)
{
    char held[16] = "";
    if (r->quarantined)
        snprintf(held, sizeof held, "%d", r->quarantined);
    return cli_list_add(ctx, app_result_json(r), r->id, r->delivery_id, r->test_taker_id, r->state,
                        r->status, r->received_at, held, r->review);
}

static int results_list_cmd(int argc, char **argv)
{
    const char *delivery = NULL, *status_opt = NULL;
    int json = 0;
    const struct cli_option opts[] = {
        OPT_STRING(0, "delivery", &delivery, "ID", "only results of this delivery"),
        OPT_STRING(0, "status", &status_opt, "STATUS",
                   "pending, decrypted, damaged, quarantined, accepted or rejected"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &list_usage, 0, NULL, &status) != 0)
        return status;
    struct op_err e = {0};
    if (app_results_check_status(status_opt, &e) != 0)
        return options_usage_error(&list_usage, "%s", e.msg);
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    struct cli_list l = CLI_LIST(json, "RESULT", "DELIVERY", "TEST TAKER", "STATE", "STATUS",
                                 "RECEIVED", "HELD", "REVIEW");
    const struct app_results_list_in in = {delivery, status_opt};
    int rc = app_results_list(run.inst, &in, list_row, &l, &run.e);
    cli_list_print(&l, rc);
    return cli_end(&run, rc);
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
    return cli_list_add(ctx, app_quarantine_json(q), q->result_id, q->device_id, q->owner_device_id,
                        q->reason, q->received_at);
}

static int quarantine_rows(struct instance *inst, struct cli_list *out, struct op_err *e)
{
    return app_results_quarantine(inst, quarantine_row, out, e);
}

static int results_quarantine_cmd(int argc, char **argv)
{
    static const char *const columns[] = {"RESULT", "DEVICE",   "ID BELONGS TO",
                                          "WHY",    "RECEIVED", NULL};
    return cli_list_command(argc, argv, &quarantine_usage, NULL, columns, quarantine_rows);
}

/* ---- results accept / reject ---- */

static const struct command_usage accept_usage = {
    "outpost results accept RESULT_ID",
    "Accepts a result held for review (`outpost results list --status quarantined`): one\n"
    "stored although the test taker's eligibility was withdrawn after the test. It then counts\n"
    "as any other result.",
};

static int results_accept_cmd(int argc, char **argv)
{
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, NULL, &accept_usage, "give one RESULT_ID") != 0)
        return run.status;
    int rc = app_results_accept(run.inst, argv[0], &run.e);
    if (rc == 0)
        printf("result %s accepted\n", argv[0]);
    return cli_end(&run, rc);
}

static const struct command_usage reject_usage = {
    "outpost results reject RESULT_ID [--reason TEXT]",
    "Rejects a result held for review (`outpost results list --status quarantined`). The\n"
    "result is kept, never deleted, and marked rejected with the reason.",
};

static int results_reject_cmd(int argc, char **argv)
{
    const char *reason = NULL;
    const struct cli_option opts[] = {
        OPT_STRING(0, "reason", &reason, "TEXT", "why it is rejected (kept with the result)"),
        OPT_END(),
    };
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, opts, &reject_usage, "give one RESULT_ID") != 0)
        return run.status;
    int rc = app_results_reject(run.inst, argv[0], reason, &run.e);
    if (rc == 0)
        printf("result %s rejected (kept)\n", argv[0]);
    return cli_end(&run, rc);
}

/* ---- results show ---- */

static const struct command_usage show_usage = {
    "outpost results show RESULT_ID",
    "Prints the decrypted result JSON of one result (after `outpost decrypt-results`).",
};

static int results_show_cmd(int argc, char **argv)
{
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, NULL, &show_usage, "give one RESULT_ID") != 0)
        return run.status;
    char *json;
    int rc = app_results_show(run.inst, argv[0], &json, &run.e);
    if (rc == 0)
        printf("%s\n", json);
    free(json);
    return cli_end(&run, rc);
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
    "envelope was refused. A result whose eligibility was withdrawn after the test is stored\n"
    "and held for review. --json prints {stored, held, duplicates, rejected, quarantined,\n"
    "refusals: [{result_id, offset, reason}]}.",
};

struct import_ctx {
    const char *file;
    json_t *refusals; /* with --json; else each refusal goes to stderr as it comes */
};

static void import_refusal(const struct app_results_refusal *refusal, void *ctx)
{
    struct import_ctx *c = ctx;
    /* the reason with the CLI's advice for its remedy, in the text and in the JSON alike */
    struct op_err why = {.code = OP_EINPUT, .remedy = refusal->remedy};
    snprintf(why.msg, sizeof why.msg, "%s", refusal->reason);
    char reason[OP_ERR_MAX + 512];
    struct app_results_refusal with_advice = *refusal;
    with_advice.reason = cli_error_text(&why, reason, sizeof reason);
    const struct app_results_refusal *r = &with_advice;
    if (c->refusals)
        json_array_append_new(c->refusals, app_results_refusal_json(r));
    else if (r->rest_skipped)
        fprintf(stderr, "outpost: %s: byte %zu: %s; the rest of the file is skipped\n", c->file,
                r->offset, r->reason);
    else
        fprintf(stderr, "outpost: %s: refused: %s\n", c->file, r->reason);
}

static int results_import_cmd(int argc, char **argv)
{
    const char *file = NULL;
    int json = 0;
    const struct cli_option opts[] = {
        OPT_STRING('f', "file", &file, "FILE", "file of envelopes (required)"),
        OPT_FLAG(0, "json", &json, "print the outcome as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &import_usage, 0, NULL, &status) != 0)
        return status;
    if (!file)
        return options_usage_error(&import_usage, "-f FILE is required");
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    struct import_ctx ctx = {file, json ? json_array() : NULL};
    const struct app_results_import_in in = {file};
    struct app_results_import_out out;
    int rc = app_results_import(run.inst, &in, &out, import_refusal, &ctx, &run.e);
    if ((status = cli_end(&run, rc)) != 0) {
        json_decref(ctx.refusals);
        return status;
    }
    if (json) {
        cli_print_json(app_results_import_json(&out, ctx.refusals));
    } else {
        printf("%d stored, %d already received, %d refused", out.stored, out.duplicates,
               out.rejected);
        if (out.held)
            printf(" (%d of the stored held for review: outpost results list --status "
                   "quarantined)",
                   out.held);
        if (out.quarantined)
            printf(" (%d held in quarantine: outpost results quarantine)", out.quarantined);
        printf("\n");
    }
    return out.rejected ? 1 : 0;
}

int cmd_results(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"list", results_list_cmd, "list received results"},
        {"show", results_show_cmd, "print one decrypted result"},
        {"quarantine", results_quarantine_cmd, "list refused envelopes held for review"},
        {"import", results_import_cmd, "import result envelopes from a file"},
        {"accept", results_accept_cmd, "accept a result held for review"},
        {"reject", results_reject_cmd, "reject a result held for review (kept)"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
