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
    "(--max-executions, default 0: unlimited). A package of several tests makes one delivery\n"
    "per test, all or none, labelled \"L (N)\" with N the test's place in the manifest (without\n"
    "--label, each test's title, \"(N)\" added when two tests share it). Prints the delivery\n"
    "id, or for several tests one line per delivery (id, a tab, label); with --json an array\n"
    "of the deliveries. What the import changed rather than refused (a link to a page the\n"
    "package lacks, made inert) is a warning on stderr naming the file and line. A package\n"
    "over configuration.limits.qti-package-max-bytes, unsafe or invalid is refused with the\n"
    "file inside the archive and the problem, and nothing is imported.",
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
        OPT_FLAG(0, "json", &json, "print the new deliveries as a JSON array"),
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
    struct app_import_result r;
    int rc = app_deliveries_import_all(run.inst, &in, NULL, &r, &run.e);
    if (rc == 0) {
        for (size_t i = 0; i < json_array_size(r.warnings); i++)
            fprintf(stderr, "outpost: warning: %s\n",
                    json_string_value(json_object_get(json_array_get(r.warnings, i), "message")));
        json_t *arr = json ? json_array() : NULL;
        for (size_t i = 0; i < r.n; i++) {
            if (arr)
                json_array_append_new(arr, app_delivery_json(&r.deliveries[i]));
            else if (r.n == 1)
                printf("%s\n", r.deliveries[i].id);
            else
                printf("%s\t%s\n", r.deliveries[i].id, r.deliveries[i].label);
        }
        if (arr)
            cli_print_json(arr);
        app_import_result_clear(&r);
    }
    return cli_end(&run, rc);
}
