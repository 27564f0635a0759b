/*
 * cmd_deliveries.c - `outpost deliveries list|update|delete`: the deliveries of an instance
 * with the hash of their compiled package (TAO: the Deliveries list of the back office).
 * Deliveries are created by import-qti; the rules are app/deliveries.h's.
 */
#include <stdio.h>

#include "app/content.h"
#include "app/deliveries.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "store/eligibilities.h"

static const struct command_usage list_usage = {
    "outpost deliveries list [--json]",
    "Lists deliveries ordered by label. --json prints one array of objects with the fields id,\n"
    "label, package_sha256, max_executions, proctored_default, version, created_at, updated_at.",
};

static int list_row(const struct delivery *d, void *ctx)
{
    return cli_list_add(ctx, app_delivery_json(d), d->id, d->package_sha256, d->label);
}

static int list_rows(struct instance *inst, struct cli_list *out, struct op_err *e)
{
    return app_deliveries_list(inst, list_row, out, e);
}

static int deliveries_list_cmd(int argc, char **argv)
{
    static const char *const columns[] = {"ID", "PACKAGE SHA-256", "LABEL", NULL};
    return cli_list_command(argc, argv, &list_usage, NULL, columns, list_rows);
}

/* ---- deliveries show ---- */

static const struct command_usage show_usage = {
    "outpost deliveries show DELIVERY [--json]",
    "Shows DELIVERY (an id or a label): its settings, the hash of its compiled package and, on\n"
    "a central, the SHA-256 and size of the encrypted package devices download (null for a\n"
    "delivery imported before encrypted packages: `deliveries encrypt` makes them). --json\n"
    "prints the fields of `deliveries list --json` and encrypted_package {enc_sha256, enc_size,\n"
    "since_version, package_sha256, master_key_id}.",
};

static int deliveries_show_cmd(int argc, char **argv)
{
    int json = 0;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print the delivery as JSON"),
        OPT_END(),
    };
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, opts, &show_usage, "give one DELIVERY") != 0)
        return run.status;
    json_t *o;
    int rc = app_deliveries_show(run.inst, argv[0], &o, &run.e);
    if (rc == 0 && json) {
        cli_print_json(o);
    } else if (rc == 0) {
        const json_t *p = json_object_get(o, "package_sha256");
        const json_t *c = json_object_get(o, "encrypted_package");
        printf("id                %s\n", json_string_value(json_object_get(o, "id")));
        printf("label             %s\n", json_string_value(json_object_get(o, "label")));
        printf("version           %lld\n",
               (long long)json_integer_value(json_object_get(o, "version")));
        printf("package sha-256   %s\n", json_is_string(p) ? json_string_value(p) : "(none)");
        if (json_is_object(c)) {
            printf("encrypted sha-256 %s\n", json_string_value(json_object_get(c, "enc_sha256")));
            printf("encrypted size    %lld bytes (since version %lld)\n",
                   (long long)json_integer_value(json_object_get(c, "enc_size")),
                   (long long)json_integer_value(json_object_get(c, "since_version")));
        } else {
            printf("encrypted sha-256 (none)\n");
        }
        json_decref(o);
    }
    return cli_end(&run, rc);
}

/* ---- deliveries encrypt, deliveries prune-packages ---- */

static const struct command_usage encrypt_usage = {
    "outpost deliveries encrypt",
    "Makes the encrypted package of every delivery that lacks one (deliveries imported before\n"
    "encrypted packages existed), on a central server. Deliveries imported or updated since\n"
    "have theirs already; running it again does nothing.",
};

static int deliveries_encrypt_cmd(int argc, char **argv)
{
    struct cli_run run;
    if (cli_start(&run, argc, argv, NULL, &encrypt_usage) != 0)
        return run.status;
    int made = 0;
    int rc = app_content_ensure_all(run.inst, &made, &run.e);
    if (rc == 0)
        printf("encrypted the packages of %d deliveries\n", made);
    return cli_end(&run, rc);
}

static const struct command_usage prune_usage = {
    "outpost deliveries prune-packages [--min-age SECONDS]",
    "Removes, on a central server, encrypted package files that no delivery refers to (left by\n"
    "an import that failed or was killed, or by a deleted delivery), temporary files, and the\n"
    "folders of backoffice uploads a killed server left in DATA/uploads,\n"
    "when older than --min-age seconds (default 3600: a younger file may belong to an import\n"
    "still running).",
};

static int deliveries_prune_cmd(int argc, char **argv)
{
    int min_age = APP_CONTENT_SWEEP_MIN_AGE;
    const struct cli_option opts[] = {
        OPT_INT(0, "min-age", &min_age, "SECONDS", "only files older than this"),
        OPT_END(),
    };
    struct cli_run run;
    if (cli_start(&run, argc, argv, opts, &prune_usage) != 0)
        return run.status;
    int removed = 0;
    int rc = app_content_sweep(run.inst, min_age, &removed, &run.e);
    if (rc == 0)
        printf("removed %d unused package files\n", removed);
    return cli_end(&run, rc);
}

/* ---- deliveries update ---- */

static const struct command_usage update_usage = {
    "outpost deliveries update DELIVERY [--label L] [--proctored yes|no] [--max-executions N]\n"
    "                          [-f PACKAGE.zip]",
    "Changes the label, the settings or the test (-f: a new QTI package) of DELIVERY (an id or a\n"
    "label) on a central server. The delivery gets a new version and devices receive the change\n"
    "at their next sync; a new test gets a new encrypted package under a new key, and\n"
    "executions already started on a device keep the package they started with. PACKAGE.zip\n"
    "holds one test; a link to a page it lacks is made inert with a warning on stderr, as in\n"
    "import-qti. --proctored sets the default of eligibilities created later; existing\n"
    "eligibilities keep their own setting (change them with `eligibilities set --proctored`).",
};

static int deliveries_update_cmd(int argc, char **argv)
{
    const char *label = NULL, *proctored = NULL, *file = NULL;
    int max_executions = -1, json = 0;
    const struct cli_option opts[] = {
        OPT_STRING('f', "file", &file, "PACKAGE.zip", "a new QTI package for the test"),
        OPT_STRING(0, "label", &label, "L", "new label"),
        OPT_STRING(0, "proctored", &proctored, "yes|no", "proctored by default"),
        OPT_INT(0, "max-executions", &max_executions, "N",
                "executions allowed per test taker (0: unlimited)"),
        OPT_FLAG(0, "json", &json, "print the delivery as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &update_usage, 1, "give one DELIVERY", &status) != 0)
        return status;
    int proctored_default = proctored ? eligibilities_parse_proctored(proctored) : -1;
    if (proctored && proctored_default < 0)
        return options_usage_error(&update_usage, "--proctored takes yes or no, not \"%s\"",
                                   proctored);
    if (label && !label[0])
        return options_usage_error(&update_usage, "--label must not be empty");
    if (!label && !proctored && max_executions == -1 && !file)
        return options_usage_error(&update_usage, "nothing to change: give --label, --proctored, "
                                                  "--max-executions or -f");
    if (max_executions < -1)
        return options_usage_error(&update_usage, "--max-executions must be 0 (unlimited) or more");
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    const struct app_deliveries_update_in in = {argv[0],        label, proctored_default,
                                                max_executions, 0,     file};
    struct delivery d;
    int changed = 0;
    json_t *warnings = json_array();
    int rc = app_deliveries_update_warned(run.inst, &in, warnings, &d, &changed, &run.e);
    for (size_t i = 0; rc == 0 && i < json_array_size(warnings); i++)
        fprintf(stderr, "outpost: warning: %s\n",
                json_string_value(json_object_get(json_array_get(warnings, i), "message")));
    json_decref(warnings);
    if (rc == 0) {
        if (json) {
            json_t *o = app_delivery_json(&d);
            json_object_set_new(o, "changed", json_boolean(changed));
            cli_print_json(o);
        } else if (changed)
            printf("updated delivery %s (%s), version %lld\n", d.label, d.id, (long long)d.version);
        else
            printf("nothing changed: delivery %s (%s) already has these values (version %lld "
                   "stays; nothing was written)\n",
                   d.label, d.id, (long long)d.version);
        delivery_clear(&d);
    }
    return cli_end(&run, rc);
}

/* ---- deliveries delete ---- */

static const struct command_usage delete_usage = {
    "outpost deliveries delete DELIVERY",
    "Deletes DELIVERY (an id or a label) on a central server: the delivery and its\n"
    "eligibilities are deleted, and devices delete them at their next sync (`deliveries\n"
    "withdraw` takes it off devices but keeps it, its eligibilities and its versions). Results "
    "already\n"
    "received for it are kept, and so is its compiled package file (other deliveries may share\n"
    "it); its encrypted packages are no longer served (`deliveries prune-packages` removes\n"
    "their files).",
};

static int deliveries_delete_cmd(int argc, char **argv)
{
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, NULL, &delete_usage, "give one DELIVERY") != 0)
        return run.status;
    struct delivery d;
    int rc = app_deliveries_delete(run.inst, argv[0], &d, &run.e);
    if (rc == 0) {
        printf("deleted delivery %s (%s)\n", d.label, d.id);
        delivery_clear(&d);
    }
    return cli_end(&run, rc);
}

/* ---- deliveries publish, withdraw, versions ---- */

static const struct command_usage publish_usage = {
    "outpost deliveries publish DELIVERY",
    "Publishes DELIVERY (an id or a label) again on a central server: devices of the\n"
    "organisations whose centers have an eligibility for it get it back at their next sync,\n"
    "with those eligibilities and their test takers.",
};

static const struct command_usage withdraw_usage = {
    "outpost deliveries withdraw DELIVERY",
    "Withdraws DELIVERY (an id or a label) on a central server: devices delete it, its\n"
    "eligibilities and the test takers only they held at their next sync; central keeps the\n"
    "delivery, its eligibilities and its package history (`deliveries publish` sends them\n"
    "back). Results received for it are kept, and results taken before are still accepted.",
};

static int set_status_cmd(int argc, char **argv, const struct command_usage *usage,
                          const char *status)
{
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, NULL, usage, "give one DELIVERY") != 0)
        return run.status;
    struct delivery d;
    int changed = 0;
    int rc = app_deliveries_set_status(run.inst, argv[0], 0, status, &d, &changed, &run.e);
    if (rc == 0) {
        printf("%s delivery %s (%s), version %lld\n", changed ? status : "already", d.label, d.id,
               (long long)d.version);
        delivery_clear(&d);
    }
    return cli_end(&run, rc);
}

static int deliveries_publish_cmd(int argc, char **argv)
{
    return set_status_cmd(argc, argv, &publish_usage, DELIVERY_PUBLISHED);
}

static int deliveries_withdraw_cmd(int argc, char **argv)
{
    return set_status_cmd(argc, argv, &withdraw_usage, DELIVERY_WITHDRAWN);
}

static const struct command_usage versions_usage = {
    "outpost deliveries versions DELIVERY [--json]",
    "Lists the package history of DELIVERY (an id or a label) on a central server: each\n"
    "delivery version at which its test changed (import-qti, `deliveries update -f`), with the\n"
    "compiled package's hash, the encrypted package's hash and size, and which is current.",
};

static int deliveries_versions_cmd(int argc, char **argv)
{
    int json = 0;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print the history as JSON"),
        OPT_END(),
    };
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, opts, &versions_usage, "give one DELIVERY") != 0)
        return run.status;
    json_t *o;
    int rc = app_deliveries_versions(run.inst, argv[0], &o, &run.e);
    if (rc == 0 && json) {
        cli_print_json(o);
    } else if (rc == 0) {
        printf(
            "VERSION  CURRENT  PACKAGE SHA-256                                                   "
            "ENCRYPTED SIZE  CREATED\n");
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(o, "versions"), i, v)
        {
            printf("%-8lld %-8s %-65s %-15lld %s\n",
                   (long long)json_integer_value(json_object_get(v, "version")),
                   json_is_true(json_object_get(v, "current")) ? "yes" : "-",
                   json_string_value(json_object_get(v, "package_sha256")),
                   (long long)json_integer_value(json_object_get(v, "enc_size")),
                   json_string_value(json_object_get(v, "created_at")));
        }
        json_decref(o);
    }
    return cli_end(&run, rc);
}

int cmd_deliveries(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"list", deliveries_list_cmd, "list deliveries with their package hash"},
        {"show", deliveries_show_cmd, "show a delivery with its encrypted package"},
        {"update", deliveries_update_cmd, "change a delivery's label, settings or test"},
        {"encrypt", deliveries_encrypt_cmd, "encrypt the packages of older deliveries"},
        {"prune-packages", deliveries_prune_cmd, "remove unused encrypted package files"},
        {"publish", deliveries_publish_cmd, "put a withdrawn delivery back on devices"},
        {"withdraw", deliveries_withdraw_cmd, "take a delivery off devices, keeping it"},
        {"versions", deliveries_versions_cmd, "list the package history of a delivery"},
        {"delete", deliveries_delete_cmd, "delete a delivery and its eligibilities"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
