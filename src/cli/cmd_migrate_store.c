/*
 * cmd_migrate_store.c - `outpost migrate-store --to pgsql CONF.json`: moves a central's
 * records from SQLite to an empty PostgreSQL database and switches the instance to it (no
 * TAO counterpart). The work and its order are app/migrate_store.h's; this file prints.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app/migrate_store.h"
#include "cli/cli.h"
#include "cli/commands.h"

static const struct command_usage migrate_store_usage = {
    "outpost [--data DIR] migrate-store --to pgsql CONF.json [--json]",
    "Moves a central's records from its SQLite database to the empty PostgreSQL database that\n"
    "CONF.json describes, in the shape of setup.json's persistences.default:\n"
    "  {\"driver\": \"pgsql\", \"host\": \"db.example.org\", \"port\": 5432, \"dbname\": "
    "\"outpost\",\n"
    "   \"user\": \"outpost\", \"password-file\": \"/etc/outpost/db-password\"}\n"
    "Every table is copied in one transaction and counted and hashed (SHA-256) on both sides;\n"
    "only when they match is DIR/outpost.json switched to PostgreSQL. The SQLite file is not\n"
    "changed: it stays as the fallback, with the old outpost.json kept as outpost.json.sqlite.\n"
    "While it runs, other commands may read; one that writes waits, then is told to retry.\n"
    "A device keeps SQLite. Runbook: docs/operations.md.",
};

static void print_report(const struct app_store_migrate_report *r)
{
    const struct copy_report *c = &r->copy;
    printf("%-26s %10s  %s\n", "TABLE", "ROWS", "SHA-256 (the same in SQLite and PostgreSQL)");
    for (int i = 0; i < c->src.n; i++)
        printf("%-26s %10" PRId64 "  %s\n", c->src.t[i].table, c->src.t[i].rows,
               c->src.t[i].sha256);
    printf("moved %" PRId64 " rows of %d tables (schema version %d) to %s\n", c->rows, c->src.n,
           c->schema_version, r->target);
    printf("verified: every table has the same row count and SHA-256 on both sides (all "
           "tables: %s)\n",
           r->total_sha256);
    printf("%s/outpost.json now uses PostgreSQL; the previous one is kept as %s\n", cli_data_dir(),
           r->kept_config);
    printf("the SQLite database is kept, untouched, as the fallback: %s\n", r->sqlite_path);
}

static json_t *report_json(const struct app_store_migrate_report *r)
{
    const struct copy_report *c = &r->copy;
    json_t *tables = json_array();
    for (int i = 0; i < c->src.n; i++)
        json_array_append_new(
            tables, json_pack("{s:s, s:I, s:s, s:I, s:s}", "table", c->src.t[i].table,
                              "source_rows", (json_int_t)c->src.t[i].rows, "source_sha256",
                              c->src.t[i].sha256, "target_rows", (json_int_t)c->dst.t[i].rows,
                              "target_sha256", c->dst.t[i].sha256));
    return json_pack("{s:s, s:I, s:i, s:s, s:o, s:s, s:s}", "target", r->target, "rows",
                     (json_int_t)c->rows, "schema_version", c->schema_version, "sha256",
                     r->total_sha256, "tables", tables, "kept_config", r->kept_config,
                     "sqlite_fallback", r->sqlite_path);
}

int cmd_migrate_store(int argc, char **argv)
{
    const char *to = NULL;
    int json = 0;
    const struct cli_option opts[] = {
        OPT_STRING(0, "to", &to, "pgsql", "the backend to move to (pgsql, the only one)"),
        OPT_FLAG(0, "json", &json, "print the tables' counts and hashes as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &migrate_store_usage, 1,
                            "give one CONF.json (the PostgreSQL persistence)", &status) != 0)
        return status;
    if (!to)
        return options_usage_error(&migrate_store_usage, "say where to: --to pgsql");
    if (strcmp(to, "pgsql") != 0)
        return options_usage_error(&migrate_store_usage,
                                   "--to takes pgsql (a store moves from SQLite to PostgreSQL), "
                                   "not \"%s\"",
                                   to);
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    const struct app_store_migrate_in in = {argv[0]};
    struct app_store_migrate_report r;
    int rc = app_store_migrate(run.inst, &in, &r, &run.e);
    if (rc == 0) {
        if (json)
            cli_print_json(report_json(&r));
        else
            print_report(&r);
    }
    app_store_migrate_report_free(&r);
    return cli_end(&run, rc);
}
