/*
 * cmd_setup.c - `outpost setup FILE.json`: initialises the data folder as a central server or
 * an offline device (TAO's taoSetup). See instance/config.h for the file and
 * instance/instance.c for what is created.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "cli/cli.h"
#include "cli/commands.h"

/* The keys of a TAO file Outpost does not use: one warning that lists them all. */
static void report_ignored(const char *file, json_t *ignored)
{
    size_t n = json_array_size(ignored);
    if (n == 0)
        return;
    char list[4096] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used + 1 < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 json_string_value(json_array_get(ignored, i)));
    char *safe = text_escape(list);
    fprintf(stderr,
            "outpost: warning: %s: %zu key%s of TAO's setup file Outpost does not use, "
            "ignored: %s\n",
            file, n, n == 1 ? "" : "s", safe);
    free(safe);
}

/* One problem of the file, on its own line (the values it quotes escaped, as cli_fail does). */
static void print_problem(const char *line)
{
    char *safe = text_escape(line);
    fprintf(stderr, "outpost: %s\n", safe);
    free(safe);
}

static const struct command_usage setup_usage = {
    "outpost [--data DIR] setup [--role central|device] FILE.json",
    "Initialises DIR as an Outpost central server or offline device, as FILE.json says\n"
    "(\"role\": \"central\" or \"device\"): creates the database, the super-user and the keys.\n"
    "Setup never overwrites an existing instance or a non-empty folder. Examples of FILE.json:\n"
    "config/central.setup.json and config/device.setup.json; keys in docs/setup.md. TAO's own\n"
    "setup.json is read as it is (docs/coming-from-tao.md): its database, and the keys Outpost\n"
    "does not use listed once as ignored; --role says what it sets up when the file does not.",
};

int cmd_setup(int argc, char **argv)
{
    int json = 0;
    const char *role_name = NULL;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print the new instance as JSON"),
        OPT_STRING(0, "role", &role_name, "ROLE",
                   "central or device, for a TAO setup file that does not say"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &setup_usage, 1, "setup takes one FILE.json",
                            &status) != 0)
        return status;

    enum instance_role role = 0;
    if (role_name && strcmp(role_name, "central") == 0)
        role = ROLE_CENTRAL;
    else if (role_name && strcmp(role_name, "device") == 0)
        role = ROLE_DEVICE;
    else if (role_name)
        return options_usage_error(&setup_usage, "--role: \"%s\" is not a role (central or device)",
                                   role_name);

    struct op_err e = {0};
    struct setup_request req;
    struct setup_report rep;
    int loaded = setup_request_load(argv[0], role, &req, &rep, &e);
    report_ignored(argv[0], rep.ignored);
    if (json_array_size(rep.problems) > 1) {
        size_t i;
        json_t *v;
        json_array_foreach(rep.problems, i, v) print_problem(json_string_value(v));
    }
    if (loaded != 0) {
        setup_report_free(&rep);
        return cli_fail(&e);
    }
    const char *dir = cli_data_dir();
    int rc = instance_create(dir, &req, &e);
    struct instance *inst = NULL;
    if (rc == 0)
        rc = instance_open(dir, &inst, &e);
    if (rc != 0) {
        setup_request_free(&req);
        setup_report_free(&rep);
        return cli_fail(&e);
    }
    if (json) {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:O}", "data", dir, "role",
                                instance_role_name(inst->role), "instance_id", inst->id,
                                "super_user", req.super_login, "ignored", rep.ignored);
        cli_print_json(doc);
    } else {
        printf("Outpost %s initialised in %s\n", instance_role_name(inst->role), dir);
        printf("  instance id: %s\n", inst->id);
        printf("  super-user:  %s\n", req.super_login);
    }
    instance_close(inst);
    setup_request_free(&req);
    setup_report_free(&rep);
    return 0;
}
