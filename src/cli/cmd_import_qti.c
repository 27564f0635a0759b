/*
 * cmd_import_qti.c - `outpost import-qti -f PACKAGE.zip`: an IMS QTI 2.1/2.2 content package
 * becomes a compiled delivery package in the content-addressed store and a published
 * delivery (TAO: importing a test package, then publishing a delivery of it). The rules are
 * app_deliveries_import's (app/deliveries.h).
 */
#include <stdio.h>

#include "app/deliveries.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "store/eligibilities.h"

static const struct command_usage usage = {
    "outpost import-qti -f PACKAGE.zip [--label L] [--proctored yes|no] [--max-executions N]\n"
    "                   [--json]",
    "Imports a QTI 2.1/2.2 test package (an IMS content package exported by TAO or another\n"
    "authoring tool) on a central server: checks the manifest, the test, every item and asset,\n"
    "compiles the delivery package (docs/delivery-package.md), stores it by its SHA-256 and\n"
    "creates a delivery labelled L (default: the test's title), proctored by default unless\n"
    "--proctored no (new eligibilities inherit this), allowing N executions per test taker\n"
    "(--max-executions, default 0: unlimited). Prints the delivery id, or the\n"
    "whole delivery with --json. A package over configuration.limits.qti-package-max-bytes,\n"
    "unsafe or invalid is refused with the file inside the archive and the problem.",
};

int cmd_import_qti(int argc, char **argv)
{
    const char *file = NULL, *label = NULL, *proctored = "yes";
    int json = 0, max_executions = 0;
    const struct cli_option opts[] = {
        OPT_STRING('f', "file", &file, "PACKAGE.zip", "the QTI content package (required)"),
        OPT_STRING(0, "label", &label, "L", "label of the delivery (default: the test title)"),
        OPT_STRING(0, "proctored", &proctored, "yes|no",
                   "whether eligibilities are proctored by default (default yes)"),
        OPT_INT(0, "max-executions", &max_executions, "N",
                "executions allowed per test taker (default 0: unlimited)"),
        OPT_FLAG(0, "json", &json, "print the new delivery as JSON"),
        OPT_END(),
    };
    int status;
    int n = options_parse(argc, argv, opts, &usage, &status);
    if (n < 0)
        return status;
    if (n != 0)
        return options_usage_error(&usage, "unexpected argument \"%s\"", argv[0]);
    if (!file)
        return options_usage_error(&usage, "-f PACKAGE.zip is required");
    if (label && !label[0])
        return options_usage_error(&usage, "--label must not be empty");
    int proctored_default = eligibilities_parse_proctored(proctored);
    if (proctored_default < 0)
        return options_usage_error(&usage, "--proctored takes yes or no, not \"%s\"", proctored);
    if (max_executions < 0)
        return options_usage_error(&usage, "--max-executions must be 0 (unlimited) or more");
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    const struct app_deliveries_import_in in = {file, label, proctored_default, max_executions};
    struct delivery d;
    int rc = app_deliveries_import(run.inst, &in, &d, &run.e);
    if (rc == 0) {
        if (json)
            cli_print_json(app_delivery_json(&d));
        else
            printf("%s\n", d.id);
        delivery_clear(&d);
    }
    return cli_end(&run, rc);
}
