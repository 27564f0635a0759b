/*
 * cmd_import_qti.c - `outpost import-qti -f PACKAGE.zip`: an IMS QTI 2.1/2.2 content package
 * becomes a compiled delivery package in the content-addressed store and a published
 * delivery (TAO: importing a test package, then publishing a delivery of it). The rules are
 * app_deliveries_import's (app/deliveries.h).
 */
#include <limits.h>
#include <stdio.h>

#include "app/deliveries.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "store/eligibilities.h"

static const struct command_usage usage = {
    "outpost import-qti -f PACKAGE.zip [--label L] [--new-version] [--proctored yes|no]\n"
    "                   [--max-executions N] [--json]",
    "Imports a QTI 2.1/2.2 test package (an IMS content package exported by TAO or another\n"
    "authoring tool) on a central server: checks the manifest, the test, every item and asset,\n"
    "compiles the delivery package (docs/delivery-package.md), stores it by its SHA-256 and\n"
    "creates a delivery labelled L (default: the test's title), proctored by default unless\n"
    "--proctored no (new eligibilities inherit this), allowing N executions per test taker\n"
    "(--max-executions, default 0: unlimited). A package of several tests makes one delivery\n"
    "per test, all or none, labelled \"L (N)\" with N the test's place in the manifest (without\n"
    "--label, each test's title, \"(N)\" added when two tests share it). A label a delivery\n"
    "has already is refused, naming that delivery: give another --label, or --new-version to\n"
    "make the package (of one test) the next version of the delivery labelled L (or the\n"
    "test's title), as `deliveries update L -f PACKAGE` does (--proctored and\n"
    "--max-executions then change only when given). Prints the delivery id, or for several\n"
    "tests one line per delivery (id, a tab, label); with --json an object: \"deliveries\"\n"
    "(their records), \"warnings\" and \"new_version\". Warnings, on stderr, name the file\n"
    "and line of what the import changed rather than refused: a link to a page the package\n"
    "lacks made inert, and what the sanitiser removed from the items' HTML (scripts, event\n"
    "handlers, outside URLs...). A package over configuration.limits.qti-package-max-bytes,\n"
    "unsafe or invalid is refused with the file inside the archive and every problem, and\n"
    "nothing is imported.",
};

int cmd_import_qti(int argc, char **argv)
{
    const char *file = NULL, *label = NULL, *proctored = NULL;
    int json = 0, max_executions = INT_MIN, new_version = 0; /* INT_MIN: not given */
    const struct cli_option opts[] = {
        OPT_STRING('f', "file", &file, "PACKAGE.zip", "the QTI content package (required)"),
        OPT_STRING(0, "label", &label, "L", "label of the delivery (default: the test title)"),
        OPT_FLAG(0, "new-version", &new_version,
                 "the package becomes the next version of the delivery labelled L"),
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
    /* not given: a new delivery's defaults, or unchanged for a new version */
    int proctored_default = proctored     ? eligibilities_parse_proctored(proctored)
                            : new_version ? -1
                                          : 1;
    if (proctored && proctored_default < 0)
        return options_usage_error(&usage, "--proctored takes yes or no, not \"%s\"", proctored);
    if (max_executions == INT_MIN)
        max_executions = new_version ? -1 : 0;
    else if (max_executions < 0)
        return options_usage_error(&usage, "--max-executions must be 0 (unlimited) or more");
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    const struct app_deliveries_import_in in = {file, label, proctored_default, max_executions,
                                                new_version};
    struct app_import_result r;
    int rc = app_deliveries_import_all(run.inst, &in, NULL, &r, &run.e);
    if (rc == 0) {
        for (size_t i = 0; i < json_array_size(r.warnings); i++)
            fprintf(stderr, "outpost: warning: %s\n",
                    json_string_value(json_object_get(json_array_get(r.warnings, i), "message")));
        if (json) {
            json_t *doc = json_object(), *arr = json_array();
            for (size_t i = 0; i < r.n; i++)
                json_array_append_new(arr, app_delivery_json(&r.deliveries[i]));
            json_object_set_new(doc, "deliveries", arr);
            json_object_set(doc, "warnings", r.warnings);
            json_object_set_new(doc, "new_version", json_boolean(r.new_version));
            if (r.new_version)
                json_object_set_new(doc, "changed", json_boolean(r.changed));
            cli_print_json(doc);
        } else {
            for (size_t i = 0; i < r.n; i++) {
                if (r.n == 1)
                    printf("%s\n", r.deliveries[i].id);
                else
                    printf("%s\t%s\n", r.deliveries[i].id, r.deliveries[i].label);
            }
        }
        if (r.new_version && r.n == 1) {
            const struct delivery *d = &r.deliveries[0];
            if (r.changed)
                fprintf(stderr, "outpost: delivery \"%s\" (%s) is at version %lld now\n", d->label,
                        d->id, (long long)d->version);
            else
                fprintf(stderr,
                        "outpost: nothing changed: delivery \"%s\" (%s) has this package and "
                        "these settings already (version %lld stays; nothing was written)\n",
                        d->label, d->id, (long long)d->version);
        }
        app_import_result_clear(&r);
    }
    return cli_end(&run, rc);
}
