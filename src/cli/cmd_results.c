/*
 * cmd_results.c - `outpost results list|show|import` on central: the result envelopes
 * received from devices. `import` takes envelopes from a file (one or more concatenated, e.g.
 * carried on a USB stick) and verifies each before storing it; sync brings them in the same
 * way over the network. `accept` and `reject` decide on a result held for review. The rules
 * are app/results.h's.
 */
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/results.h"
#include "app/results_export.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/remedy.h"
#include "cli/table.h"
#include "base/buf.h"
#include "base/fs.h"

/* ---- results list ---- */

static const struct command_usage list_usage = {
    "outpost results list [--delivery DELIVERY] [--status STATUS] [--json]",
    "Lists the result envelopes received on central, oldest first, with each delivery's label\n"
    "and each test taker's login (their ids when deleted since). DELIVERY: an id or a label.\n"
    "STATUS: pending (not decrypted yet), decrypted, damaged; or quarantined (stored but held\n"
    "for review: the test taker's eligibility was withdrawn after the test; `outpost results\n"
    "accept|reject ID`), accepted, rejected. --json prints one array of objects with the\n"
    "fields id, execution_id, delivery_id, delivery_label, test_taker_id, test_taker_login,\n"
    "device_id, key_id, state, started_at, ended_at, sealed_at, envelope_sha256, status,\n"
    "problem, received_at, decrypted_at, quarantined (how many other copies under the id are\n"
    "held: `outpost results quarantine`),\n"
    "review (null, quarantined, accepted or rejected), review_reason.",
};

static int list_row(const struct result_row *r, void *ctx)
{
    char held[16] = "";
    if (r->quarantined)
        snprintf(held, sizeof held, "%d", r->quarantined);
    return cli_list_add(ctx, app_result_json(r), r->id,
                        r->delivery_label[0] ? r->delivery_label : r->delivery_id,
                        r->test_taker_login[0] ? r->test_taker_login : r->test_taker_id, r->state,
                        r->status, r->received_at, held, r->review);
}

static int results_list_cmd(int argc, char **argv)
{
    const char *delivery = NULL, *status_opt = NULL;
    int json = 0;
    const struct cli_option opts[] = {
        OPT_STRING(0, "delivery", &delivery, "DELIVERY",
                   "only results of this delivery (id or label)"),
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

/* ---- results export ---- */

static const struct command_usage export_usage = {
    "outpost results export --delivery ID|LABEL --format csv|qti-xml [--out FILE]\n"
    "       [--center ID] [--status STATUS] [--state finished|terminated] [--from DAY]\n"
    "       [--to DAY] [--search TEXT]\n"
    "   or: outpost results export --result ID [--out FILE]",
    "Exports the results of a delivery, as the backoffice's results tab shows them, with the\n"
    "same filters (DAY: YYYY-MM-DD, UTC, both ends included; TEXT: part of the test taker's\n"
    "login or label). csv: RFC 4180, UTF-8, CRLF, a header row, one row per result (score,\n"
    "maximum and every test-level outcome); a text cell starting with = + - @, a tab or a\n"
    "carriage return gets a leading ' so that a spreadsheet shows it instead of running it.\n"
    "qti-xml: a ZIP archive of one IMS QTI 2.1 Result Reporting document (assessmentResult)\n"
    "per decrypted result, RESULT_ID.xml; it needs --out, or a standard output that is not a\n"
    "terminal. --result ID writes the QTI XML document of one result. --out FILE is written\n"
    "whole or not at all (mode 0600); without it the export goes to standard output.\n"
    "docs/operations.md, \"Exporting results\".",
};

static int write_stdout(const void *data, size_t len, void *ctx, struct op_err *e)
{
    (void)ctx;
    if (len && fwrite(data, 1, len, stdout) != len)
        return err_set(e, OP_EIO, "writing the export to standard output: %s", strerror(errno));
    return 0;
}

static int write_buf(const void *data, size_t len, void *ctx, struct op_err *e)
{
    if (buf_append(ctx, data, len) != 0)
        return err_set(e, OP_ENOMEM, "out of memory");
    return 0;
}

/* Copies the file `path` to standard output. */
static int copy_to_stdout(const char *path, struct op_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, OP_EIO, "%s: %s", path, strerror(errno));
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = write_stdout(chunk, n, NULL, e);
    fclose(f);
    return rc;
}

/* The archive written to a private temporary file, then copied to standard output. */
static int export_zip_to_stdout(struct instance *inst, const struct app_results_query *q,
                                struct app_results_export_out *out, struct op_err *e)
{
    const char *tmpdir = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/outpost-export-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir))
        return err_set(e, OP_EIO, "%s: %s", dir, strerror(errno));
    char *path = fs_join(dir, "results.zip");
    int rc = app_results_export_file(inst, q, APP_EXPORT_QTI_XML, path, out, e);
    if (rc == 0)
        rc = copy_to_stdout(path, e);
    unlink(path);
    rmdir(dir);
    free(path);
    return rc;
}

static int results_export_cmd(int argc, char **argv)
{
    const char *delivery = NULL, *format_opt = NULL, *out_file = NULL, *result = NULL;
    struct app_results_query q = {0};
    const struct cli_option opts[] = {
        OPT_STRING(0, "delivery", &delivery, "ID|LABEL", "the delivery whose results to export"),
        OPT_STRING(0, "format", &format_opt, "FORMAT", "csv or qti-xml"),
        OPT_STRING(0, "out", &out_file, "FILE", "write to FILE (else standard output)"),
        OPT_STRING(0, "result", &result, "ID", "one result's QTI XML document"),
        OPT_STRING(0, "center", &q.center, "ID", "only results of this test center"),
        OPT_STRING(0, "status", &q.status, "STATUS",
                   "pending, decrypted, damaged, quarantined, accepted or rejected"),
        OPT_STRING(0, "state", &q.state, "STATE", "finished or terminated"),
        OPT_STRING(0, "from", &q.from, "DAY", "started on or after DAY (YYYY-MM-DD)"),
        OPT_STRING(0, "to", &q.to, "DAY", "started on or before DAY (YYYY-MM-DD)"),
        OPT_STRING(0, "search", &q.search, "TEXT", "test taker login or label containing TEXT"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &export_usage, 0, NULL, &status) != 0)
        return status;
    enum app_export_format format = APP_EXPORT_QTI_XML;
    struct op_err e = {0};
    if (result && delivery)
        return options_usage_error(&export_usage, "give --delivery or --result, not both");
    if (!result && !delivery)
        return options_usage_error(&export_usage, "--delivery ID|LABEL is required");
    if (!result && !format_opt)
        return options_usage_error(&export_usage, "--format csv|qti-xml is required");
    if (format_opt && app_results_export_format_of(format_opt, &format, &e) != 0)
        return options_usage_error(&export_usage, "%s", e.msg);
    if (result && format != APP_EXPORT_QTI_XML)
        return options_usage_error(&export_usage, "--result exports QTI XML only");
    if (!result && !out_file && format == APP_EXPORT_QTI_XML && isatty(STDOUT_FILENO))
        return options_usage_error(&export_usage,
                                   "qti-xml is a ZIP archive: give --out FILE or redirect the "
                                   "standard output");
    q.delivery = delivery;
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    struct app_results_export_out out = {0};
    int rc;
    if (result && out_file) {
        /* one document is small: held whole, then written atomically */
        struct buf doc = BUF_INIT;
        rc = app_results_qti_xml(run.inst, result, NULL, write_buf, &doc, &run.e);
        if (rc == 0)
            rc = fs_write_atomic(out_file, doc.data, doc.len, 0600, &run.e);
        buf_free(&doc);
    } else if (result) {
        rc = app_results_qti_xml(run.inst, result, NULL, write_stdout, NULL, &run.e);
    } else if (out_file) {
        rc = app_results_export_file(run.inst, &q, format, out_file, &out, &run.e);
    } else if (format == APP_EXPORT_CSV) {
        rc = app_results_export_csv(run.inst, &q, write_stdout, NULL, &out, &run.e);
    } else {
        rc = export_zip_to_stdout(run.inst, &q, &out, &run.e);
    }
    if (rc == 0 && fflush(stdout) != 0)
        rc = err_set(&run.e, OP_EIO, "writing the export to standard output: %s", strerror(errno));
    if (rc == 0 && out_file && !result) {
        fprintf(stderr, "%lld result%s exported to %s", (long long)out.results,
                out.results == 1 ? "" : "s", out_file);
        if (out.skipped)
            fprintf(stderr, " (%lld not decrypted yet left out: outpost decrypt-results --all)",
                    (long long)out.skipped);
        fprintf(stderr, "\n");
    }
    return cli_end(&run, rc);
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
        {"export", results_export_cmd, "export a delivery's results (CSV, QTI XML)"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
