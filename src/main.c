/*
 * main.c - the `outpost` command table and dispatch; nothing else. Each command lives in
 * src/cli/cmd_<name>.c (see cli/commands.h).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/process.h"
#include "base/version.h"
#include "cli/cli.h"
#include "cli/commands.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

#define COMMAND_ENTRY(cname, name, summary) {name, cmd_##cname, summary},
static const struct command commands[] = {OUTPOST_COMMANDS(COMMAND_ENTRY)};
#undef COMMAND_ENTRY

static void usage(FILE *out)
{
    fprintf(out, "usage: outpost [--data DIR] COMMAND [options]\n\n"
                 "Outpost delivers tests where the internet is not: a central server holds\n"
                 "users, test centers, deliveries and results; offline devices synchronise\n"
                 "what their organisation needs and deliver tests with no connection.\n\n"
                 "DIR is the instance's data folder (default: $OUTPOST_HOME, else\n"
                 "./outpost-data); --data DIR may also follow the command.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-22s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`outpost COMMAND --help` explains one command.\n");
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "outpost: cannot initialise libsodium\n");
        return 1;
    }
    struct op_err e = {0};
    if (process_harden(&e) != 0) { /* no core file may hold a key or a password */
        fprintf(stderr, "outpost: %s\n", e.msg);
        return 1;
    }
    umask(077); /* databases, keys and configuration are for this user only */
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("outpost %s\n", OUTPOST_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            cli_data_option = argv[i + 1];
            i += 2;
            continue;
        }
        if (strncmp(argv[i], "--data=", 7) == 0) {
            cli_data_option = argv[i] + 7;
            i++;
            continue;
        }
        fprintf(stderr, "outpost: unknown option %s\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    /* --data after the command name too (outpost users list --data DIR), taken out of the
     * command's arguments; up to a "--", after which everything is the command's */
    int n = i + 1;
    for (int k = i + 1; k < argc; k++) {
        const char *dir = NULL;
        if (strcmp(argv[k], "--") == 0) {
            while (k < argc)
                argv[n++] = argv[k++];
            break;
        }
        if (strcmp(argv[k], "--data") == 0 && k + 1 < argc)
            dir = argv[++k];
        else if (strncmp(argv[k], "--data=", 7) == 0)
            dir = argv[k] + 7;
        else {
            argv[n++] = argv[k];
            continue;
        }
        if (cli_data_option && strcmp(cli_data_option, dir) != 0) {
            fprintf(stderr, "outpost: --data is given twice (%s and %s): give one data folder\n",
                    cli_data_option, dir);
            return 2;
        }
        cli_data_option = dir;
    }
    argc = n;
    argv[argc] = NULL;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(commands[k].name, argv[i]) == 0)
            return commands[k].fn(argc - i, argv + i);
    fprintf(stderr, "outpost: unknown command \"%s\" (see outpost --help)\n", argv[i]);
    return 2;
}
