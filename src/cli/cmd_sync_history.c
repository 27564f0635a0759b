/*
 * cmd_sync_history.c - `outpost sync-history [--json] [--limit N] [--device ID]`, on both
 * roles: the latest synchronisations, newest first (app/sync_history.h). On a device, its own
 * syncs; on central, every device's (or one's, with --device).
 */
#include <inttypes.h>
#include <stdio.h>

#include "app/sync_history.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"

static const struct command_usage usage = {
    "outpost sync-history [--json] [--limit N] [--device ID]",
    "Lists the latest synchronisations, newest first (20 unless --limit, at most 1000): start,\n"
    "end, status (running, ok, failed, or interrupted: a sync whose process was killed), the\n"
    "records created, updated and deleted, results sent, bytes and the error of a failed sync.\n"
    "On central every device's syncs are listed; --device ID lists one device's.\n"
    "--json fields: id, device_id, started_at, ended_at (null), status, counts {ENTITY:\n"
    "{created, updated, deleted}}, results_sent, bytes, error (null).",
};

/* The sum of one count ("created") over every entity. */
static json_int_t total(json_t *counts, const char *what)
{
    json_int_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(counts, k, v)
    {
        n += json_integer_value(json_object_get(v, what));
    }
    return n;
}

int cmd_sync_history(int argc, char **argv)
{
    int json = 0, limit = SYNC_HISTORY_DEFAULT;
    const char *device = NULL;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_INT(0, "limit", &limit, "N", "how many runs (default 20)"),
        OPT_STRING(0, "device", &device, "ID", "one device's runs (central)"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &usage, 0, NULL, &status) != 0)
        return status;
    if (limit < 1 || limit > 1000)
        return options_usage_error(&usage, "--limit must be between 1 and 1000");
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    json_t *arr;
    int rc = app_sync_history(run.inst, device, limit, &arr, &run.e);
    if (rc != 0)
        return cli_end(&run, rc);
    if (json) {
        cli_print_json(arr);
        return cli_end(&run, 0);
    }
    if (json_array_size(arr) == 0) {
        printf("no synchronisation yet\n");
        json_decref(arr);
        return cli_end(&run, 0);
    }
    int central = run.inst->role == ROLE_CENTRAL;
    struct cli_table *t =
        central ? cli_table_new("STARTED", "ENDED", "DEVICE", "STATUS", "CREATED", "UPDATED",
                                "DELETED", "RESULTS", "BYTES", "ERROR", NULL)
                : cli_table_new("STARTED", "ENDED", "STATUS", "CREATED", "UPDATED", "DELETED",
                                "RESULTS", "BYTES", "ERROR", NULL);
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r)
    {
        json_t *counts = json_object_get(r, "counts");
        char c[24], u[24], d[24], res[24], b[24];
        snprintf(c, sizeof c, "%" JSON_INTEGER_FORMAT, total(counts, "created"));
        snprintf(u, sizeof u, "%" JSON_INTEGER_FORMAT, total(counts, "updated"));
        snprintf(d, sizeof d, "%" JSON_INTEGER_FORMAT, total(counts, "deleted"));
        snprintf(res, sizeof res, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(r, "results_sent")));
        snprintf(b, sizeof b, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(r, "bytes")));
        const char *started = json_string_value(json_object_get(r, "started_at"));
        const char *ended = json_string_value(json_object_get(r, "ended_at"));
        const char *st = json_string_value(json_object_get(r, "status"));
        const char *err = json_string_value(json_object_get(r, "error"));
        if (central)
            cli_table_add(t, started, ended, json_string_value(json_object_get(r, "device_id")), st,
                          c, u, d, res, b, err);
        else
            cli_table_add(t, started, ended, st, c, u, d, res, b, err);
    }
    cli_table_print(t, stdout);
    json_decref(arr);
    return cli_end(&run, 0);
}
