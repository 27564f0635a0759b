/*
 * cmd_backup.c - `outpost backup --to FILE` and `outpost restore FILE`: one private archive of
 * the instance while the service runs, and its checked restore into an empty data folder (TAO
 * had none: its operators copied the database and the folder by hand). The rules and checks
 * are app/backup.h's; this file prints.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app/backup.h"
#include "cli/cli.h"
#include "cli/commands.h"

static const struct command_usage backup_usage = {
    "outpost [--data DIR] backup --to FILE [--json]",
    "Writes one archive of the instance to FILE (a new file, mode 600): a consistent snapshot\n"
    "of its database taken while the service keeps running (SQLite's online backup; on\n"
    "PostgreSQL, pg_dump, given the password in a private file, never on its command line),\n"
    "its keys, its outpost.json and its packages, each listed with its SHA-256 in the\n"
    "archive's manifest. It holds the keys and the users' password verifiers: keep it as\n"
    "private as the instance (offline, encrypted). Restore it with\n"
    "`outpost --data NEWDIR restore FILE`.",
};

static const struct command_usage restore_usage = {
    "outpost --data DIR restore FILE [--json]",
    "Restores the archive FILE (made by `outpost backup`) into DIR, which must be absent or an\n"
    "empty folder; a PostgreSQL central's dump into the database its outpost.json names, which\n"
    "must exist and be empty (pg_restore, in one transaction). Every file is checked against\n"
    "the archive's manifest (size and SHA-256), the database against SQLite's integrity check\n"
    "and this outpost's schema version, and a central's data against its keys (a master or\n"
    "results key the data names must be in the archive). Any problem is named and nothing is\n"
    "left in DIR (nor in the PostgreSQL database). Runbook: docs/operations.md.",
};

int cmd_backup(int argc, char **argv)
{
    const char *to = NULL;
    int json = 0;
    const struct cli_option opts[] = {
        OPT_STRING(0, "to", &to, "FILE", "the archive to write (a new file)"),
        OPT_FLAG(0, "json", &json, "print what was written as JSON"),
        OPT_END(),
    };
    struct cli_run run;
    if (cli_start(&run, argc, argv, opts, &backup_usage) != 0)
        return run.status;
    struct app_backup_out out;
    int rc = app_backup(run.inst, to, &out, &run.e);
    if (rc == 0 && json)
        cli_print_json(app_backup_json(&out));
    else if (rc == 0)
        printf("backup written to %s (mode 600): %" PRId64 " files, %" PRId64 " bytes (%" PRId64
               " packages), database schema version %d\n",
               out.path, out.files, out.bytes, out.packages, out.schema_version);
    app_backup_out_free(&out);
    return cli_end(&run, rc);
}

int cmd_restore(int argc, char **argv)
{
    int json = 0;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print what was restored as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &restore_usage, 1, "give one FILE (the archive)",
                            &status) != 0)
        return status;
    struct cli_run run = {0};
    struct app_restore_out out;
    int rc = app_restore(argv[0], cli_data_dir(), &out, &run.e);
    if (rc == 0 && json)
        cli_print_json(app_restore_json(&out));
    else if (rc == 0)
        printf("restored the %s %s into %s: %" PRId64 " files, %" PRId64
               " bytes, from the backup of %s (schema version %d); every file matched its "
               "SHA-256, the database passed its integrity check and every key its data names "
               "is present\n",
               out.role, out.instance_id, cli_data_dir(), out.files, out.bytes, out.created_at,
               out.schema_version);
    return cli_end(&run, rc);
}
