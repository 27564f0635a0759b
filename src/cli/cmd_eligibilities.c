/*
 * cmd_eligibilities.c - `outpost eligibilities set|list|delete`: which test takers may sit
 * which delivery at which test center, and whether a proctor must authorise them. CENTER and
 * DELIVERY are ids or labels. Devices receive eligibilities by sync, so these commands run on
 * central only.
 */
#include <stdio.h>
#include <string.h>

#include "app/eligibilities.h"
#include "base/buf.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"

/* cli_end, with the option that gave the input at fault in front of the message
 * ("--center: no test center with id or label ..."). */
static int end(struct cli_run *run, int rc)
{
    static const char *const options[][2] = {
        {"center", "--center"}, {"delivery", "--delivery"}, {"test_takers", "--test-takers"}};
    for (size_t i = 0; rc != 0 && i < sizeof options / sizeof options[0]; i++)
        if (strcmp(run->e.field, options[i][0]) == 0)
            err_prefix(&run->e, "%s", options[i][1]);
    return cli_end(run, rc);
}

/* ---- eligibilities set ---- */

static const struct command_usage set_usage = {
    "outpost eligibilities set --center CENTER --delivery DELIVERY\n"
    "                          --test-takers LOGIN[,LOGIN...] [--proctored yes|no]",
    "Makes LOGINs (test-taker users) eligible for DELIVERY at CENTER: creates the eligibility,\n"
    "or replaces the test takers of the existing one (an empty list leaves none). Without\n"
    "--proctored a new eligibility takes the delivery's default and an existing one keeps its\n"
    "setting. Devices of the center's organisation pick the change up at their next sync.",
};

static int set_cmd(int argc, char **argv)
{
    const char *center = NULL, *delivery = NULL, *takers = NULL, *proctored_arg = NULL;
    const struct cli_option opts[] = {
        OPT_STRING(0, "center", &center, "CENTER", "test center id or label (required)"),
        OPT_STRING(0, "delivery", &delivery, "DELIVERY", "delivery id or label (required)"),
        OPT_STRING(0, "test-takers", &takers, "LOGINS", "comma-separated logins (required)"),
        OPT_STRING(0, "proctored", &proctored_arg, "yes|no", "whether a proctor authorises"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &set_usage, 0, NULL, &status) != 0)
        return status;
    if (!center || !delivery || !takers)
        return options_usage_error(&set_usage,
                                   "--center, --delivery and --test-takers are required");
    int proctored = ELIGIBILITY_PROCTORED_KEEP;
    if (proctored_arg && (proctored = eligibilities_parse_proctored(proctored_arg)) < 0)
        return options_usage_error(&set_usage, "--proctored must be yes or no, not \"%s\"",
                                   proctored_arg);
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    struct app_eligibility_set in = {center, delivery, NULL, 0, proctored};
    char **logins = cli_split_list(takers, &in.n);
    in.test_takers = (const char *const *)logins;
    enum eligibility_outcome outcome;
    struct app_eligibility el;
    int rc = app_eligibilities_set(run.inst, &in, &outcome, &el, &run.e);
    if (rc == 0)
        printf("%s eligibility %s: %d test taker%s for %s at %s, %s\n",
               outcome == ELIGIBILITY_CREATED   ? "created"
               : outcome == ELIGIBILITY_UPDATED ? "updated"
                                                : "unchanged",
               el.el.id, in.n, in.n == 1 ? "" : "s", el.el.delivery_label, el.el.center_label,
               el.el.proctored ? "proctored" : "not proctored");
    app_eligibility_clear(&el);
    cli_free_list(logins);
    return end(&run, rc);
}

/* ---- eligibilities list ---- */

static const struct command_usage list_usage = {
    "outpost eligibilities list [--json]",
    "Lists eligibilities ordered by test center and delivery. --json prints one array of\n"
    "objects with the fields id, center_id, center_label, delivery_id, delivery_label,\n"
    "proctored (true or false), test_takers (an array of logins) and version.",
};

static int list_one(const struct app_eligibility *a, void *ctx)
{
    struct cli_list *out = ctx;
    if (out->arr) {
        json_array_append_new(out->arr, app_eligibility_json(a));
        return 0;
    }
    struct buf list = BUF_INIT;
    for (int i = 0; i < a->test_takers.n; i++)
        buf_printf(&list, "%s%s", i ? ", " : "", a->test_takers.v[i]);
    cli_table_add(out->table, a->el.center_label, a->el.delivery_label,
                  a->el.proctored ? "yes" : "no", list.len ? list.data : "-");
    buf_free(&list);
    return 0;
}

static int list_rows(struct instance *inst, struct cli_list *out, struct op_err *e)
{
    return app_eligibilities_list(inst, list_one, out, e);
}

static int list_cmd(int argc, char **argv)
{
    static const char *const columns[] = {"TEST CENTER", "DELIVERY", "PROCTORED", "TEST TAKERS",
                                          NULL};
    return cli_list_command(argc, argv, &list_usage, "eligibilities list", columns, list_rows);
}

/* ---- eligibilities delete ---- */

static const struct command_usage delete_usage = {
    "outpost eligibilities delete --center CENTER --delivery DELIVERY",
    "Deletes the eligibility of DELIVERY at CENTER; devices delete it (and test takers left\n"
    "with no eligibility in their organisation) at their next sync.",
};

static int delete_cmd(int argc, char **argv)
{
    const char *center = NULL, *delivery = NULL;
    const struct cli_option opts[] = {
        OPT_STRING(0, "center", &center, "CENTER", "test center id or label (required)"),
        OPT_STRING(0, "delivery", &delivery, "DELIVERY", "delivery id or label (required)"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &delete_usage, 0, NULL, &status) != 0)
        return status;
    if (!center || !delivery)
        return options_usage_error(&delete_usage, "--center and --delivery are required");
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    struct app_eligibility el;
    int rc = app_eligibilities_delete(run.inst, center, delivery, &el, &run.e);
    if (rc == 0)
        printf("deleted eligibility %s (%s at %s)\n", el.el.id, el.el.delivery_label,
               el.el.center_label);
    app_eligibility_clear(&el);
    return end(&run, rc);
}

int cmd_eligibilities(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"set", set_cmd, "create an eligibility or replace its test takers"},
        {"list", list_cmd, "list eligibilities with their test takers"},
        {"delete", delete_cmd, "delete an eligibility"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
