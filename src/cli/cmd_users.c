/*
 * cmd_users.c - `outpost users list|add|delete|passwd`: the users of an instance. Passwords
 * are read from the terminal or standard input, never from the command line (where `ps` and
 * shell history would show them). Setting a password also wraps the user's vault
 * (auth/credentials.h); on central the vault key is escrowed under the master key, and
 * `users passwd` recovers it from there so the key pair stays the same (`--new-keys` makes a
 * new pair instead, for a leaked password or a stolen device).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credentials.h"
#include "base/secret.h"
#include "base/text.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "store/users.h"

/* ---- users list ---- */

static const struct command_usage list_usage = {
    "outpost users list [--role ROLE] [--json]",
    "Lists users ordered by login. ROLE: super-user, test-taker, proctor, test-center-admin,\n"
    "sync-manager. --json prints one array of objects with the fields id, login, role, label,\n"
    "first_name, last_name, mail, interface_lang, default_lang, org_id, vault_public_key,\n"
    "version, created_at, updated_at (never the password nor the wrapped vault key).",
};

static json_t *user_to_json(const struct user *u)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(u->id));
    json_object_set_new(o, "login", json_string(u->login));
    json_object_set_new(o, "role", json_string(u->role));
#define OPT_STR(key, v) json_object_set_new(o, key, (v) ? json_string(v) : json_null())
    OPT_STR("label", u->label);
    OPT_STR("first_name", u->first_name);
    OPT_STR("last_name", u->last_name);
    OPT_STR("mail", u->mail);
    OPT_STR("interface_lang", u->interface_lang);
    OPT_STR("default_lang", u->default_lang);
    OPT_STR("org_id", u->org_id);
    OPT_STR("vault_public_key", u->vault_public_key);
#undef OPT_STR
    json_object_set_new(o, "version", json_integer(u->version));
    json_object_set_new(o, "created_at", json_string(u->created_at));
    json_object_set_new(o, "updated_at", json_string(u->updated_at));
    return o;
}

static int list_row(const struct user *u, void *ctx)
{
    struct cli_list *l = ctx;
    if (l->arr)
        json_array_append_new(l->arr, user_to_json(u));
    else
        cli_table_add(l->table, u->login, u->role, u->label, u->org_id);
    return 0;
}

static int users_list_cmd(int argc, char **argv)
{
    const char *role = NULL;
    int json = 0;
    const struct option opts[] = {
        OPT_STRING('r', "role", &role, "ROLE", "only users with this role"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &list_usage, 0, NULL, &status) != 0)
        return status;
    if (role && !user_role_is_valid(role) && strcmp(role, ROLE_SUPER_USER) != 0)
        return options_usage_error(&list_usage, "unknown role \"%s\" (use %s or super-user)", role,
                                   user_roles_list());
    struct instance *inst;
    if ((status = cli_open_instance(&inst)) != 0)
        return status;
    struct op_err e = {0};
    struct cli_list l = CLI_LIST(json, "LOGIN", "ROLE", "LABEL", "ORGANISATION");
    int rc = users_each(inst->db, role, list_row, &l, &e);
    cli_list_print(&l, rc);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}

/* Central's master key, which escrows every vault key (crypto/vault.h). */
static int load_master(struct instance *inst, struct key *master, struct op_err *e)
{
    char *dir = instance_path(inst, "keys");
    int rc = keys_load_master(dir, master, e);
    free(dir);
    return rc;
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
    const struct option opts[] = {
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
    if (!user_role_is_valid(role))
        return options_usage_error(&add_usage, "unknown role \"%s\" (use %s)", role,
                                   user_roles_list());
    if (strcmp(role, ROLE_SYNC_MANAGER) == 0 && (!org || !org[0]))
        return options_usage_error(&add_usage, "a sync-manager needs --org ORG");
    if (org && strcmp(role, ROLE_SYNC_MANAGER) != 0)
        return options_usage_error(&add_usage, "--org applies to sync-manager users only");
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)login;
    u.role = (char *)role;
    u.label = (char *)(label ? label : login);
    u.first_name = (char *)first;
    u.last_name = (char *)last;
    u.mail = (char *)mail;
    u.interface_lang = u.default_lang = (char *)lang;
    u.org_id = (char *)org;
    struct op_err e = {0};
    /* The store checks again on insert; checking here refuses before the password is asked. */
    if (users_check(&u, &e) != 0)
        return options_usage_error(&add_usage, "%s", e.msg);

    struct instance *inst;
    if ((status = cli_open_instance(&inst)) != 0)
        return status;
    char *pw = NULL;
    struct credentials cred;
    struct key *master = key_new(); /* sodium_malloc: guarded, left out of core dumps */
    int rc = master ? 0 : err_set(&e, OP_ENOMEM, "out of memory");
    if (rc == 0)
        rc = instance_require_role(inst, ROLE_CENTRAL, "users add", &e);
    if (rc == 0)
        rc = load_master(inst, master, &e);
    if (rc == 0)
        rc = secret_read("Password: ", 1, &pw, &e);
    if (rc == 0) {
        uuid_generate(u.id);
        struct credentials_keys keys = {master, NULL};
        rc =
            credentials_make(&inst->settings.password_cost, u.id, pw, strlen(pw), &keys, &cred, &e);
    }
    key_free(master);
    if (rc == 0) {
        credentials_apply(&cred, &u);
        rc = db_begin(inst->db, &e);
        if (rc == 0)
            rc = users_insert(inst->db, &u, &e);
        rc = db_commit_if(inst->db, rc, &e);
        credentials_wipe(&cred);
    }
    secret_free(pw);
    if (rc == 0) {
        if (json) {
            struct user stored;
            if (users_get_by_id(inst->db, u.id, &stored, &e) == 0) {
                cli_print_json(user_to_json(&stored));
                user_clear(&stored);
            }
        } else {
            printf("added %s %s (%s)\n", role, login, u.id);
        }
    }
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}

/* ---- users delete ---- */

static const struct command_usage delete_usage = {
    "outpost users delete LOGIN",
    "Deletes a user on a central server; they are removed from test centers and eligibilities,\n"
    "and devices delete them at their next sync.",
};

static int users_delete_cmd(int argc, char **argv)
{
    const struct option opts[] = {OPT_END()};
    int status;
    if (options_parse_exact(argc, argv, opts, &delete_usage, 1, "give one LOGIN", &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_instance(&inst)) != 0)
        return status;
    struct op_err e = {0};
    struct user u;
    memset(&u, 0, sizeof u);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "users delete", &e);
    if (rc == 0)
        rc = users_get_by_login(inst->db, argv[0], &u, &e);
    if (rc == 0 && strcmp(u.role, ROLE_SUPER_USER) == 0)
        rc = err_set(&e, OP_EINPUT, "%s is the super-user and cannot be deleted", argv[0]);
    if (rc == 0)
        rc = db_begin(inst->db, &e);
    if (rc == 0) {
        rc = users_delete(inst->db, u.id, &e);
        rc = db_commit_if(inst->db, rc, &e);
    }
    if (rc == 0)
        printf("deleted %s\n", argv[0]);
    user_clear(&u);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
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
    const struct option opts[] = {
        OPT_FLAG(0, "new-keys", &new_keys,
                 "a new vault key pair: after a leaked password or a stolen device"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &passwd_usage, 1, "give one LOGIN", &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_instance(&inst)) != 0)
        return status;
    struct op_err e = {0};
    struct user u;
    memset(&u, 0, sizeof u);
    char *pw = NULL;
    struct credentials cred;
    char cred_public[VAULT_PUBLIC_B64_LEN] = "";
    int rc = users_get_by_login(inst->db, argv[0], &u, &e);
    if (rc == 0 && inst->role != ROLE_CENTRAL && strcmp(u.role, ROLE_SUPER_USER) != 0)
        rc = err_set(&e, OP_ESTATE,
                     "on a device only the super-user's password is changed here; other users' "
                     "passwords are set on central and arrive by sync");
    /* On central the same key pair is re-wrapped (recovered from escrow), so everything sealed
     * to the user stays readable; a user without an escrow copy (a device's super-user: devices
     * have no master key) gets a new key pair.
     *
     * --new-keys makes a new pair even when the old one could be recovered, wrapped under the
     * new password and escrowed under the master key: a copy of the old wrapped vault (a lost
     * device, a backup) then opens only the old secret key, which nothing new is sealed to.
     * Re-sealing: nothing sealed to a user's public key is stored yet (content keys are sealed
     * by content_seal_key, which no command calls before sync exists; profiles are stored in
     * clear), so there is nothing to re-seal today. Once sealed data is stored, this is the
     * place to re-seal it to the new key (opening it with the old one, recovered from escrow).
     * The new public key and wrapped vault bump the user's version (users_set_credentials),
     * so sync sends them to devices as any change. */
    struct key *master = NULL; /* sodium_malloc: guarded, left out of core dumps */
    unsigned char sk[VAULT_SECRET_BYTES];
    struct credentials_keys keys = {NULL, NULL};
    if (rc == 0 && inst->role == ROLE_CENTRAL) {
        master = key_new();
        rc = master ? load_master(inst, master, &e) : err_set(&e, OP_ENOMEM, "out of memory");
        if (rc == 0)
            keys.master = master;
        if (rc == 0 && !new_keys) {
            char *dir = instance_path(inst, "keys");
            int r = credentials_recover_in(inst->db, dir, &u, sk, &e);
            free(dir);
            if (r == 0)
                keys.secret_key = sk;
            else if (r != OP_ENOTFOUND)
                rc = r;
        }
    }
    if (rc == 0)
        rc = secret_read("New password: ", 1, &pw, &e);
    if (rc == 0)
        rc =
            credentials_make(&inst->settings.password_cost, u.id, pw, strlen(pw), &keys, &cred, &e);
    sodium_memzero(sk, sizeof sk);
    key_free(master);
    if (rc == 0) {
        rc = db_begin(inst->db, &e);
        if (rc == 0)
            rc = credentials_store(inst->db, u.id, &cred, &e);
        rc = db_commit_if(inst->db, rc, &e);
        memcpy(cred_public, cred.vault_public_key, sizeof cred_public);
        credentials_wipe(&cred);
    }
    secret_free(pw);
    if (rc == 0 && new_keys)
        printf("password changed for %s, with a new vault key pair (public key %s)\n", argv[0],
               cred_public);
    else if (rc == 0)
        printf("password changed for %s\n", argv[0]);
    user_clear(&u);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}

int cmd_users(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"list", users_list_cmd, "list users"},
        {"add", users_add_cmd, "add a user (password from terminal or stdin)"},
        {"delete", users_delete_cmd, "delete a user"},
        {"passwd", users_passwd_cmd, "change a user's password (--new-keys: new vault keys)"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
