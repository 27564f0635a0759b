/*
 * cmd_users.c - `outpost users list|add|delete|passwd`: the users of an instance. Passwords
 * are read from the terminal or standard input, never from the command line (where `ps` and
 * shell history would show them). Setting a password also wraps the user's vault
 * (auth/credentials.h); on central the vault key is escrowed under the master key, and
 * `users passwd` recovers it from there so the key pair stays the same (`--new-keys` makes a
 * new pair instead, for a leaked password or a stolen device).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/users.h"
#include "base/secret.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"

/* ---- users list ---- */

static const struct command_usage list_usage = {
    "outpost users list [--role ROLE] [--json]",
    "Lists users ordered by login. ROLE: super-user, test-taker, proctor, test-center-admin,\n"
    "sync-manager. --json prints one array of objects with the fields id, login, role, label,\n"
    "first_name, last_name, mail, interface_lang, default_lang, org_id, vault_public_key,\n"
    "version, created_at, updated_at (never the password nor the wrapped vault key).",
};

static int list_row(const struct user *u, void *ctx)
{
    return cli_list_add(ctx, app_user_json(u), u->login, u->role, u->label, u->org_id);
}

static int users_list_cmd(int argc, char **argv)
{
    const char *role = NULL;
    int json = 0;
    const struct cli_option opts[] = {
        OPT_STRING('r', "role", &role, "ROLE", "only users with this role"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &list_usage, 0, NULL, &status) != 0)
        return status;
    struct op_err e = {0};
    if (role && app_users_check_role(role, &e) != 0)
        return options_usage_error(&list_usage, "%s", e.msg);
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    struct cli_list l = CLI_LIST(json, "LOGIN", "ROLE", "LABEL", "ORGANISATION");
    int rc = app_users_list(run.inst, role, list_row, &l, &run.e);
    cli_list_print(&l, rc);
    return cli_end(&run, rc);
}

/* ---- users add ---- */

static const struct command_usage add_usage = {
    "outpost users add --login LOGIN --role ROLE [--org ORG] [--label L] [--first-name F]\n"
    "                  [--last-name N] [--mail M] [--lang TAG]",
    "Adds one user on a central server. The password is read from the terminal (asked twice)\n"
    "or from the first line of standard input. ROLE: test-taker, proctor, test-center-admin,\n"
    "sync-manager; a sync-manager needs --org, the organisation id it synchronises.",
};

static int users_add_cmd(int argc, char **argv)
{
    const char *login = NULL, *role = NULL, *org = NULL, *label = NULL, *first = NULL, *last = NULL,
               *mail = NULL, *lang = NULL;
    int json = 0;
    const struct cli_option opts[] = {
        OPT_STRING('l', "login", &login, "LOGIN", "login (required)"),
        OPT_STRING('r', "role", &role, "ROLE", "role (required)"),
        OPT_STRING(0, "org", &org, "ORG", "organisation id (sync-manager only, required there)"),
        OPT_STRING(0, "label", &label, "LABEL", "label shown in lists (default: the login)"),
        OPT_STRING(0, "first-name", &first, "NAME", "first name"),
        OPT_STRING(0, "last-name", &last, "NAME", "last name"),
        OPT_STRING(0, "mail", &mail, "MAIL", "e-mail address"),
        OPT_STRING(0, "lang", &lang, "TAG", "interface and default language, e.g. en-US"),
        OPT_FLAG(0, "json", &json, "print the new user as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &add_usage, 0, NULL, &status) != 0)
        return status;
    if (!login || !role)
        return options_usage_error(&add_usage, "--login and --role are required");
    const struct app_user_new in = {login, role, org, label, first, last, mail, lang};
    struct op_err e = {0};
    /* app_users_add checks again; checking here refuses before the password is asked. */
    if (app_users_check_new(&in, &e) != 0)
        return options_usage_error(&add_usage, "%s", e.msg);
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    char *pw = NULL;
    struct user stored;
    memset(&stored, 0, sizeof stored);
    int rc = app_users_check_central(run.inst, "users add", &run.e);
    if (rc == 0)
        rc = secret_read("Password: ", 1, &pw, &run.e);
    if (rc == 0)
        rc = app_users_add(run.inst, &in, pw, strlen(pw), &stored, &run.e);
    secret_free(pw);
    if (rc == 0 && json)
        cli_print_json(app_user_json(&stored));
    else if (rc == 0)
        printf("added %s %s (%s)\n", role, login, stored.id);
    user_clear(&stored);
    return cli_end(&run, rc);
}

/* ---- users update ---- */

static const struct command_usage update_usage = {
    "outpost users update LOGIN [--label L] [--first-name F] [--last-name N] [--mail M]\n"
    "                     [--lang TAG] [--org ORG] [--json]",
    "Changes a user's details on a central server, never their password (users passwd) nor\n"
    "login or role: the label, names, mail, language (a tag such as en-US) and, for a\n"
    "sync-manager, the organisation. An empty value (--mail \"\") clears a detail. Devices\n"
    "receive the change at their next sync.",
};

static int users_update_cmd(int argc, char **argv)
{
    const char *label = NULL, *first = NULL, *last = NULL, *mail = NULL, *lang = NULL, *org = NULL;
    int json = 0;
    const struct cli_option opts[] = {
        OPT_STRING(0, "label", &label, "LABEL", "label shown in lists"),
        OPT_STRING(0, "first-name", &first, "NAME", "first name"),
        OPT_STRING(0, "last-name", &last, "NAME", "last name"),
        OPT_STRING(0, "mail", &mail, "MAIL", "e-mail address"),
        OPT_STRING(0, "lang", &lang, "TAG", "interface and default language, e.g. en-US"),
        OPT_STRING(0, "org", &org, "ORG", "organisation id (sync-manager only)"),
        OPT_FLAG(0, "json", &json, "print the user as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &update_usage, 1, "give one LOGIN", &status) != 0)
        return status;
    struct user_changes ch;
    memset(&ch, 0, sizeof ch);
    /* "" clears an optional detail; a label cannot be empty (the store says so) */
    const struct {
        const char *v;
        unsigned bit;
        const char **to;
    } set[] = {{label, USER_SET_LABEL, &ch.label},
               {first, USER_SET_FIRST_NAME, &ch.first_name},
               {last, USER_SET_LAST_NAME, &ch.last_name},
               {mail, USER_SET_MAIL, &ch.mail},
               {lang, USER_SET_INTERFACE_LANG, &ch.interface_lang},
               {lang, USER_SET_DEFAULT_LANG, &ch.default_lang},
               {org, USER_SET_ORG_ID, &ch.org_id}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (set[i].v) {
            ch.set |= set[i].bit;
            *set[i].to = set[i].v[0] || set[i].bit == USER_SET_LABEL ? set[i].v : NULL;
        }
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    struct user stored;
    int changed = 0;
    int rc = app_users_update_login(run.inst, argv[0], &ch, &stored, &changed, &run.e);
    if (rc == 0 && json)
        cli_print_json(app_user_json(&stored));
    else if (rc == 0 && !changed)
        printf("nothing changed: user %s already has these details (version %lld stays; nothing "
               "was written)\n",
               argv[0], (long long)stored.version);
    else if (rc == 0)
        printf("updated %s (version %lld)\n", argv[0], (long long)stored.version);
    user_clear(&stored);
    return cli_end(&run, rc);
}

/* ---- users delete ---- */

static const struct command_usage delete_usage = {
    "outpost users delete LOGIN",
    "Deletes a user on a central server; they are removed from test centers and eligibilities,\n"
    "and devices delete them at their next sync.",
};

static int users_delete_cmd(int argc, char **argv)
{
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, NULL, &delete_usage, "give one LOGIN") != 0)
        return run.status;
    int rc = app_users_delete(run.inst, argv[0], &run.e);
    if (rc == 0)
        printf("deleted %s\n", argv[0]);
    return cli_end(&run, rc);
}

/* ---- users passwd ---- */

static const struct command_usage passwd_usage = {
    "outpost users passwd [--new-keys] LOGIN",
    "Sets a new password for LOGIN, read from the terminal (asked twice) or from the first line\n"
    "of standard input; never from the command line. On central this is the administrator's\n"
    "reset: the user's vault key is recovered from escrow and wrapped under the new password,\n"
    "so data sealed to the user stays readable. That also means a copy of the old vault (on a\n"
    "lost device, in a backup) still opens the same key with the old password: when the\n"
    "password leaked or a device holding the user was stolen, use --new-keys, which gives the\n"
    "user a new vault key pair (escrowed on central) that no old copy opens.",
};

static int users_passwd_cmd(int argc, char **argv)
{
    int new_keys = 0;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "new-keys", &new_keys,
                 "a new vault key pair: after a leaked password or a stolen device"),
        OPT_END(),
    };
    struct cli_run run;
    if (cli_start_arg(&run, argc, argv, opts, &passwd_usage, "give one LOGIN") != 0)
        return run.status;
    const struct app_user_passwd in = {argv[0], new_keys, 0};
    char *pw = NULL;
    char public_key[VAULT_PUBLIC_B64_LEN] = "";
    /* app_users_passwd checks again; checking here refuses before the password is asked. */
    int rc = app_users_passwd_check(run.inst, &in, &run.e);
    if (rc == 0)
        rc = secret_read("New password: ", 1, &pw, &run.e);
    if (rc == 0)
        rc = app_users_passwd(run.inst, &in, pw, strlen(pw), public_key, &run.e);
    secret_free(pw);
    if (rc == 0 && new_keys)
        printf("password changed for %s, with a new vault key pair (public key %s)\n", argv[0],
               public_key);
    else if (rc == 0)
        printf("password changed for %s\n", argv[0]);
    return cli_end(&run, rc);
}

int cmd_users(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"list", users_list_cmd, "list users"},
        {"add", users_add_cmd, "add a user (password from terminal or stdin)"},
        {"update", users_update_cmd, "change a user's details (not the password)"},
        {"delete", users_delete_cmd, "delete a user"},
        {"passwd", users_passwd_cmd, "change a user's password (--new-keys: new vault keys)"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
