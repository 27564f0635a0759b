/*
 * cmd_api_tokens.c - `outpost api-tokens create|list|revoke` on central: the bearer tokens
 * with which scripts call the backoffice API (docs/api.md, "Backoffice"). The work is
 * app/apitokens.h; this file reads the options and prints.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/apitokens.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"

/* ---- api-tokens create ---- */

static const struct command_usage create_usage = {
    "outpost api-tokens create --login LOGIN [--expires-days N] [--label TEXT] [--json]",
    "Creates a bearer token for the backoffice API, acting as LOGIN (the super-user or a\n"
    "test-center administrator, with that user's access). The token is printed once, on the\n"
    "first line (with --json: the member \"token\"); only its hash is kept, so a lost token is\n"
    "revoked and another created. Scripts send it as `Authorization: Bearer TOKEN`.\n"
    "--expires-days N: it stops working after N days (1 to 3650; default: never).",
};

static int create_cmd(int argc, char **argv)
{
    const char *login = NULL, *label = NULL;
    int days = 0, json = 0;
    const struct cli_option opts[] = {
        OPT_STRING('l', "login", &login, "LOGIN", "the backoffice user it acts as (required)"),
        OPT_INT(0, "expires-days", &days, "N", "days until it expires (default: never)"),
        OPT_STRING(0, "label", &label, "TEXT", "what the token is for"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &create_usage, 0, NULL, &status) != 0)
        return status;
    if (!login)
        return options_usage_error(&create_usage, "--login is required");
    if (days < 0 || days > APITOKEN_MAX_DAYS)
        return options_usage_error(&create_usage, "--expires-days: %d, expected 1 to %d", days,
                                   APITOKEN_MAX_DAYS);
    struct cli_run run;
    if (cli_open_central(&run, "api-tokens create") != 0)
        return run.status;
    const struct app_apitoken_new in = {login, days, label};
    struct api_token t;
    char token[OAUTH2_TOKEN_LEN];
    int rc = app_apitokens_create(run.inst, &in, &t, token, &run.e);
    if (rc == 0 && json) {
        json_t *doc = app_apitoken_json(&t);
        json_object_set_new(doc, "token", json_string(token));
        cli_print_json(doc);
    } else if (rc == 0) {
        printf("%s\n", token);
        fprintf(stderr, "api token %s for %s created%s: the line above is shown only this once\n",
                t.id, t.login, t.expires_at ? "" : " (never expires)");
    }
    sodium_memzero(token, sizeof token);
    return cli_end(&run, rc);
}

/* ---- api-tokens list ---- */

static const struct command_usage list_usage = {
    "outpost api-tokens list [--login LOGIN] [--json]",
    "Lists the API tokens (of LOGIN, or all), oldest first: id, login, label, created,\n"
    "expires, state (live, expired, revoked). Never the tokens themselves. --json prints one\n"
    "array of objects with the fields id, user_id, login, label, created_at, expires_at,\n"
    "revoked_at, state.",
};

static int list_row(const struct api_token *t, void *ctx)
{
    json_t *o = app_apitoken_json(t);
    const char *exp = json_string_value(json_object_get(o, "expires_at"));
    char expires[TIMESTAMP_STR_LEN];
    snprintf(expires, sizeof expires, "%s", exp ? exp : "never");
    return cli_list_add(ctx, o, t->id, t->login, t->label, t->created_at, expires,
                        app_apitoken_state(t));
}

static int list_cmd(int argc, char **argv)
{
    const char *login = NULL;
    int json = 0;
    const struct cli_option opts[] = {
        OPT_STRING('l', "login", &login, "LOGIN", "only the tokens of this user"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &list_usage, 0, NULL, &status) != 0)
        return status;
    struct cli_run run;
    if (cli_open_central(&run, "api-tokens list") != 0)
        return run.status;
    struct cli_list l = CLI_LIST(json, "ID", "LOGIN", "LABEL", "CREATED", "EXPIRES", "STATE");
    int rc = app_apitokens_list(run.inst, login, list_row, &l, &run.e);
    cli_list_print(&l, rc);
    return cli_end(&run, rc);
}

/* ---- api-tokens revoke ---- */

static const struct command_usage revoke_usage = {
    "outpost api-tokens revoke ID",
    "Revokes the API token ID (see `api-tokens list`): it stops working at once.",
};

static int revoke_cmd(int argc, char **argv)
{
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, NULL, &revoke_usage, "give one token ID") != 0)
        return run.status;
    int changed = 0;
    int rc = app_apitokens_revoke(run.inst, argv[0], &changed, &run.e);
    if (rc == 0)
        printf(changed ? "revoked api token %s\n" : "api token %s was revoked already\n", argv[0]);
    return cli_end(&run, rc);
}

int cmd_api_tokens(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"create", create_cmd, "create a bearer token for the backoffice API (central)"},
        {"list", list_cmd, "list the API tokens, never the tokens themselves (central)"},
        {"revoke", revoke_cmd, "revoke an API token: it stops at once (central)"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
