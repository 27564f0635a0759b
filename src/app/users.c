/*
 * app/users.c - the users of an instance (see app/users.h): the rules of the application
 * around the users store, password resets with escrow recovery, and the public JSON shape.
 */
#include "app/users.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credentials.h"
#include "crypto/keys.h"
#include "instance/config.h"

json_t *app_user_json(const struct user *u)
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

int app_users_check_role(const char *role, struct op_err *e)
{
    if (!role || (!user_role_is_valid(role) && strcmp(role, ROLE_SUPER_USER) != 0))
        return err_set(e, OP_EINPUT, "unknown role \"%s\" (use %s or super-user)", role ? role : "",
                       user_roles_list());
    return 0;
}

int app_users_list(struct instance *inst, const char *role, app_user_fn fn, void *ctx,
                   struct op_err *e)
{
    if (role && app_users_check_role(role, e) != 0)
        return OP_EINPUT;
    struct db_cursor c;
    users_cursor(&c, role);
    const void *row;
    int rc;
    while ((rc = db_cursor_next(inst->db, &c, &row, e)) == 0 && row && (rc = fn(row, ctx)) == 0)
        ;
    db_cursor_close(&c);
    return rc;
}

/* A sync-manager synchronises one organisation, so it has an organisation id; no other user
 * has one. */
static int check_role_org(const char *role, const char *org, struct op_err *e)
{
    int sync_manager = strcmp(role, ROLE_SYNC_MANAGER) == 0;
    if (sync_manager && (!org || !org[0]))
        return err_set(e, OP_EINPUT, "a sync-manager needs an organisation id");
    if (!sync_manager && org)
        return err_set(e, OP_EINPUT, "an organisation id applies to sync-manager users only");
    return 0;
}

/* The record a new user becomes (borrowing the strings of `in`). */
static void new_user(const struct app_user_new *in, struct user *u)
{
    memset(u, 0, sizeof *u);
    u->login = (char *)in->login;
    u->role = (char *)in->role;
    u->label = (char *)(in->label ? in->label : in->login);
    u->first_name = (char *)in->first_name;
    u->last_name = (char *)in->last_name;
    u->mail = (char *)in->mail;
    u->interface_lang = u->default_lang = (char *)in->lang;
    u->org_id = (char *)in->org_id;
}

int app_users_check_lang(const char *lang, struct op_err *e)
{
    if (!lang || lang_is_valid(lang))
        return 0;
    return err_set_field(e, OP_EINPUT, "lang",
                         "\"%.64s\" is not a language tag: write it as en-US, fr or pt-BR "
                         "(letters, a hyphen between the parts)",
                         lang);
}

int app_users_check_password(const struct instance *inst, const char *login, const char *password,
                             size_t len, struct op_err *e)
{
    if (!password || len == 0)
        return err_set_field(e, OP_EINPUT, "password",
                             "a user needs a password; an empty one is refused");
    const struct password_policy *p = &inst->settings.password_policy;
    enum password_fault f = password_policy_check(p, login, password, len);
    if (f == PASSWORD_OK)
        return 0;
    char why[256];
    return err_set_field(e, OP_EINPUT, "password", "password: %s",
                         password_fault_text(f, p, why, sizeof why));
}

int app_users_check_new(const struct app_user_new *in, struct op_err *e)
{
    if (!in->login || !in->role)
        return err_set(e, OP_EINPUT, "a new user needs a login and a role");
    if (app_users_check_lang(in->lang, e) != 0)
        return OP_EINPUT;
    if (!user_role_is_valid(in->role))
        return err_set(e, OP_EINPUT, "unknown role \"%s\" (use %s)", in->role, user_roles_list());
    if (check_role_org(in->role, in->org_id, e) != 0)
        return OP_EINPUT;
    struct user u;
    new_user(in, &u);
    return users_check(&u, e);
}

/* Central's master key, which escrows every vault key (crypto/vault.h), into `master`
 * (sodium_malloc memory from key_new). */
static int load_master(struct instance *inst, struct key *master, struct op_err *e)
{
    if (!master)
        return err_set(e, OP_ENOMEM, "out of memory");
    char *dir = instance_path(inst, "keys");
    int rc = keys_load_master(dir, master, e);
    free(dir);
    return rc;
}

int app_users_check_central(struct instance *inst, const char *what, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, what, e);
    if (rc != 0)
        return rc;
    struct key *master = key_new();
    rc = load_master(inst, master, e);
    key_free(master);
    return rc;
}

/* db_write body: the user (users_insert sets its dates and version again on every run). */
static int insert_user(struct db *db, void *u, struct op_err *e)
{
    return users_insert(db, u, e);
}

int app_users_add(struct instance *inst, const struct app_user_new *in, const char *password,
                  size_t len, struct user *out, struct op_err *e)
{
    if (out)
        memset(out, 0, sizeof *out);
    int rc = app_users_check_new(in, e);
    if (rc != 0)
        return rc;
    if ((rc = instance_require_role(inst, ROLE_CENTRAL, "users add", e)) != 0)
        return rc;
    if ((rc = app_users_check_password(inst, in->login, password, len, e)) != 0)
        return rc;
    struct user u;
    new_user(in, &u);
    uuid_generate(u.id);
    struct credentials cred;
    struct key *master = key_new(); /* sodium_malloc: guarded, left out of core dumps */
    rc = load_master(inst, master, e);
    if (rc == 0) {
        struct credentials_keys keys = {master, NULL};
        rc = credentials_make(&inst->settings.password_cost, u.id, password, len, &keys, &cred, e);
    }
    key_free(master);
    if (rc != 0)
        return rc;
    credentials_apply(&cred, &u);
    rc = db_write(inst->db, insert_user, &u, e);
    credentials_wipe(&cred);
    if (rc == 0 && out)
        rc = users_get_by_id(inst->db, u.id, out, e);
    return rc;
}

/* The rules of a change to user `cur` that the store does not know: no password here, the
 * super-user stays the only super-user, and the organisation id follows the role. */
static int check_change(const struct user *cur, const struct user_changes *ch, struct op_err *e)
{
    if (ch->set & USER_SET_CREDENTIALS)
        return err_set(e, OP_EINPUT, "a password is changed by a password reset, not an update");
    if ((ch->set & USER_SET_INTERFACE_LANG && app_users_check_lang(ch->interface_lang, e) != 0) ||
        (ch->set & USER_SET_DEFAULT_LANG && app_users_check_lang(ch->default_lang, e) != 0))
        return OP_EINPUT;
    const char *role = ch->set & USER_SET_ROLE ? ch->role : cur->role;
    const char *org = ch->set & USER_SET_ORG_ID ? ch->org_id : cur->org_id;
    int was_super = strcmp(cur->role, ROLE_SUPER_USER) == 0;
    if (!role || was_super != (strcmp(role, ROLE_SUPER_USER) == 0))
        return err_set(e, OP_EINPUT,
                       was_super ? "the super-user's role cannot change"
                                 : "a user cannot become the super-user");
    if (!was_super && !user_role_is_valid(role))
        return err_set(e, OP_EINPUT, "unknown role \"%s\" (use %s)", role, user_roles_list());
    return check_role_org(role, org, e);
}

static int same_text(const char *a, const char *b)
{
    return (!a || !*a) ? (!b || !*b) : (b && strcmp(a, b) == 0);
}

/* 1 when every field `ch` sets already has that value in `cur`: the update would write
 * nothing, so it writes nothing (no new version, nothing for devices to pull again). */
static int change_is_noop(const struct user *cur, const struct user_changes *ch)
{
    const struct {
        unsigned bit;
        const char *now, *to;
    } f[] = {{USER_SET_LOGIN, cur->login, ch->login},
             {USER_SET_ROLE, cur->role, ch->role},
             {USER_SET_LABEL, cur->label, ch->label},
             {USER_SET_FIRST_NAME, cur->first_name, ch->first_name},
             {USER_SET_LAST_NAME, cur->last_name, ch->last_name},
             {USER_SET_MAIL, cur->mail, ch->mail},
             {USER_SET_INTERFACE_LANG, cur->interface_lang, ch->interface_lang},
             {USER_SET_DEFAULT_LANG, cur->default_lang, ch->default_lang},
             {USER_SET_ORG_ID, cur->org_id, ch->org_id}};
    if (ch->set & USER_SET_CREDENTIALS)
        return 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (ch->set & f[i].bit && !same_text(f[i].now, f[i].to))
            return 0;
    return 1;
}

struct update_user {
    const char *id;
    int64_t version;
    const struct user_changes *ch;
};

static int update_user(struct db *db, void *ctx, struct op_err *e)
{
    struct update_user *u = ctx;
    struct user cur;
    int rc = users_get_by_id(db, u->id, &cur, e);
    if (rc != 0)
        return rc;
    rc = check_change(&cur, u->ch, e);
    /* a stale version is still a conflict, even for a change that is already there */
    int noop = cur.version == u->version && change_is_noop(&cur, u->ch);
    user_clear(&cur);
    if (rc == 0 && !noop)
        rc = users_update(db, u->id, u->version, u->ch, NULL, e);
    return rc;
}

int app_users_update(struct instance *inst, const char *id, int64_t version,
                     const struct user_changes *ch, struct user *out, struct op_err *e)
{
    if (out)
        memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "users update", e);
    struct update_user u = {id, version, ch};
    if (rc == 0)
        rc = db_write(inst->db, update_user, &u, e);
    if (rc == 0 && out)
        rc = users_get_by_id(inst->db, id, out, e);
    return rc;
}

struct update_login {
    const char *login;
    const struct user_changes *ch;
    char id[UUID_STR_LEN];
    int changed;
};

static int update_login(struct db *db, void *ctx, struct op_err *e)
{
    struct update_login *u = ctx;
    struct user cur;
    int rc = users_get_by_login(db, u->login, &cur, e);
    if (rc != 0)
        return rc;
    snprintf(u->id, sizeof u->id, "%s", cur.id);
    rc = check_change(&cur, u->ch, e);
    u->changed = rc == 0 && !change_is_noop(&cur, u->ch);
    if (u->changed)
        rc = users_update(db, cur.id, cur.version, u->ch, NULL, e);
    user_clear(&cur);
    return rc;
}

int app_users_update_login(struct instance *inst, const char *login, const struct user_changes *ch,
                           struct user *out, int *changed, struct op_err *e)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (changed)
        *changed = 0;
    const unsigned editable = USER_SET_LABEL | USER_SET_FIRST_NAME | USER_SET_LAST_NAME |
                              USER_SET_MAIL | USER_SET_INTERFACE_LANG | USER_SET_DEFAULT_LANG |
                              USER_SET_ORG_ID;
    if (ch->set == 0)
        return err_set(e, OP_EINPUT,
                       "nothing to change: give --label, --first-name, --last-name, --mail, "
                       "--lang or --org");
    if (ch->set & ~editable)
        return err_set(e, OP_EINPUT,
                       "users update changes a user's details, not their login, "
                       "role or password");
    int rc = instance_require_role(inst, ROLE_CENTRAL, "users update", e);
    struct update_login u = {login, ch, "", 0};
    if (rc == 0)
        rc = db_write(inst->db, update_login, &u, e);
    if (rc == 0 && changed)
        *changed = u.changed;
    if (rc == 0 && out)
        rc = users_get_by_id(inst->db, u.id, out, e);
    return rc;
}

static int delete_user(struct db *db, void *login, struct op_err *e)
{
    struct user u;
    int rc = users_get_by_login(db, login, &u, e);
    if (rc == 0 && strcmp(u.role, ROLE_SUPER_USER) == 0)
        rc = err_set(e, OP_EINPUT, "%s is the super-user and cannot be deleted", (char *)login);
    if (rc == 0)
        rc = users_delete(db, u.id, e);
    user_clear(&u);
    return rc;
}

int app_users_delete(struct instance *inst, const char *login, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "users delete", e);
    if (rc != 0)
        return rc;
    return db_write(inst->db, delete_user, (void *)login, e);
}

/* ---- password resets ---- */

/* What a reset needs besides the password: the user, and on central the master key and the
 * user's recovered vault secret key (reset_clear wipes them). */
struct reset {
    struct user u;
    struct key *master; /* sodium_malloc: guarded, left out of core dumps */
    unsigned char sk[VAULT_SECRET_BYTES];
    struct credentials_keys keys;
};

static void reset_clear(struct reset *r)
{
    sodium_memzero(r->sk, sizeof r->sk);
    key_free(r->master);
    user_clear(&r->u);
    memset(r, 0, sizeof *r);
}

/* On central the same key pair is re-wrapped (recovered from escrow), so everything sealed
 * to the user stays readable; a user without an escrow copy (a device's super-user: devices
 * have no master key) gets a new key pair.
 *
 * new_keys makes a new pair even when the old one could be recovered, wrapped under the new
 * password and escrowed under the master key: a copy of the old wrapped vault (a lost device,
 * a backup) then opens only the old secret key, which nothing new is sealed to. Re-sealing:
 * the new public key and wrapped vault bump the user's version (users_update), and
 * credentials_store gives a new version to what devices hold sealed to the old key (the
 * user's eligibilities, and the profiles of the centers they proctor), so the next pull
 * brings copies sealed to the new key (app/changes.c seals them as it builds the pages). */
static int reset_prepare(struct instance *inst, const struct app_user_passwd *in, struct reset *r,
                         struct op_err *e)
{
    memset(r, 0, sizeof *r);
    int rc = users_get_by_login(inst->db, in->login, &r->u, e);
    if (rc == 0 && inst->role != ROLE_CENTRAL && strcmp(r->u.role, ROLE_SUPER_USER) != 0)
        rc = err_set(e, OP_ESTATE,
                     "on a device only the super-user's password is changed here; other users' "
                     "passwords are set on central and arrive by sync");
    if (rc != 0 || inst->role != ROLE_CENTRAL)
        return rc;
    r->master = key_new();
    if ((rc = load_master(inst, r->master, e)) != 0)
        return rc;
    r->keys.master = r->master;
    if (in->new_keys)
        return 0;
    char *dir = instance_path(inst, "keys");
    rc = credentials_recover_in(inst->db, dir, &r->u, r->sk, e);
    free(dir);
    if (rc == 0)
        r->keys.secret_key = r->sk;
    return rc == OP_ENOTFOUND ? 0 : rc;
}

int app_users_passwd_check(struct instance *inst, const struct app_user_passwd *in,
                           struct op_err *e)
{
    struct reset r;
    int rc = reset_prepare(inst, in, &r, e);
    reset_clear(&r);
    return rc;
}

struct store_cred {
    const char *user_id;
    int64_t version;
    const struct credentials *cred;
};

static int store_cred(struct db *db, void *ctx, struct op_err *e)
{
    struct store_cred *sc = ctx;
    return credentials_store(db, sc->user_id, sc->version, sc->cred, e);
}

int app_users_passwd(struct instance *inst, const struct app_user_passwd *in, const char *password,
                     size_t len, char public_key[VAULT_PUBLIC_B64_LEN], struct op_err *e)
{
    int rc = app_users_check_password(inst, in->login, password, len, e);
    if (rc != 0)
        return rc;
    struct reset r;
    struct credentials cred;
    rc = reset_prepare(inst, in, &r, e);
    if (rc == 0)
        rc = credentials_make(&inst->settings.password_cost, r.u.id, password, len, &r.keys, &cred,
                              e);
    if (rc == 0) {
        struct store_cred sc = {r.u.id, in->if_version ? in->if_version : r.u.version, &cred};
        rc = db_write(inst->db, store_cred, &sc, e);
        if (rc == 0 && public_key)
            memcpy(public_key, cred.vault_public_key, VAULT_PUBLIC_B64_LEN);
        credentials_wipe(&cred);
    }
    reset_clear(&r);
    return rc;
}
