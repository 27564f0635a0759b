/*
 * cmd_setup.c - `outpost setup FILE.json`: initialises the data folder as a central server or
 * an offline device (TAO's taoSetup). See instance/config.h for the file and
 * instance/instance.c for what is created.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/commands.h"

static const struct command_usage setup_usage = {
    "outpost [--data DIR] setup FILE.json",
    "Initialises DIR as an Outpost central server or offline device, as FILE.json says\n"
    "(\"role\": \"central\" or \"device\"): creates the database, the super-user and the keys.\n"
    "Setup never overwrites an existing instance or a non-empty folder. Examples of FILE.json:\n"
    "config/central.setup.json and config/device.setup.json; keys in docs/setup.md.",
};

int cmd_setup(int argc, char **argv)
{
    int json = 0;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print the new instance as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &setup_usage, 1, "setup takes one FILE.json",
                            &status) != 0)
        return status;

    struct op_err e = {0};
    struct setup_request req;
    if (setup_request_load(argv[0], &req, &e) != 0)
        return cli_fail(&e);
    const char *dir = cli_data_dir();
    int rc = instance_create(dir, &req, &e);
    if (rc != 0) {
        setup_request_free(&req);
        return cli_fail(&e);
    }
    struct instance *inst = NULL;
    if (instance_open(dir, &inst, &e) != 0) {
        setup_request_free(&req);
        return cli_fail(&e);
    }
    if (json) {
        json_t *doc =
            json_pack("{s:s, s:s, s:s, s:s}", "data", dir, "role", instance_role_name(inst->role),
                      "instance_id", inst->id, "super_user", req.super_login);
        cli_print_json(doc);
    } else {
        printf("Outpost %s initialised in %s\n", instance_role_name(inst->role), dir);
        printf("  instance id: %s\n", inst->id);
        printf("  super-user:  %s\n", req.super_login);
    }
    instance_close(inst);
    setup_request_free(&req);
    return 0;
}
