/* test_app_users.c - the application's users (app/users.h): what a new user must be, each bad
 * login refused on add and on update, the rules of an update (no password, the super-user
 * stays the only one, the organisation follows the role), a stale update refused as a
 * conflict, a partial update writing only what it sets, the super-user never deleted, and
 * password resets that recover the vault key from escrow (or make new keys), on a temporary
 * instance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/users.h"
#include "app_instance_fixture.h"
#include "auth/credentials.h"
#include "centers_fixture.h"

struct fixture {
    struct instance *inst;
};

/* Cheap Argon2id, so the tests stay fast. */
static void cheap_passwords(struct instance *inst)
{
    inst->settings.password_cost.opslimit = 1;
    inst->settings.password_cost.memlimit_kib = 8;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance(ROLE_CENTRAL);
    cheap_passwords(f->inst);
    *state = f;
    return 0;
}

/* Adds `login` as a test taker with `password`; the stored user in *out (user_clear). */
static void add(struct fixture *f, const char *login, const char *password, struct user *out)
{
    const struct app_user_new in = {login,      ROLE_TEST_TAKER,   NULL,   NULL, "Ada",
                                    "Lovelace", "ada@example.org", "en-US"};
    struct op_err e = {0};
    db_lose_races(f->inst->db, 1); /* run twice (db_write): the result is one run's */
    if (app_users_add(f->inst, &in, password, strlen(password), out, &e) != 0)
        fail_msg("add %s: %s", login, e.msg);
}

static struct user stored(struct fixture *f, const char *login)
{
    struct user u;
    OK(users_get_by_login(f->inst->db, login, &u, fx_e));
    return u;
}

/* Whether `password` opens the vault of `login`. */
static int unlocks(struct fixture *f, const char *login, const char *password)
{
    struct user u = stored(f, login);
    unsigned char pk[VAULT_PUBLIC_BYTES], sk[VAULT_SECRET_BYTES];
    struct op_err e = {0};
    int rc = credentials_unlock(&u, password, strlen(password), pk, sk, &e);
    user_clear(&u);
    return rc == 0;
}

/* The logins the store refuses: empty, a leading space, a newline, a terminal escape. */
static const char *const bad_logins[] = {"", " ada", "ada\nroot", "ada\x1b[2J", "ada\t"};
#define N_BAD_LOGINS (sizeof bad_logins / sizeof bad_logins[0])

/* ---- add ---- */

static void test_add_stores_the_user_with_escrowed_credentials(void **state)
{
    struct fixture *f = *state;
    struct user u;
    add(f, "ada", "secret-1", &u);
    assert_string_equal(u.login, "ada");
    assert_string_equal(u.role, ROLE_TEST_TAKER);
    assert_string_equal(u.label, "ada"); /* the login when no label is given */
    assert_string_equal(u.interface_lang, "en-US");
    assert_string_equal(u.default_lang, "en-US");
    assert_null(u.org_id);
    assert_int_equal(u.version, 1);
    assert_non_null(u.password_hash);
    assert_non_null(u.vault_public_key);
    assert_non_null(u.vault_secret_escrow); /* central escrows every vault key */
    user_clear(&u);
    assert_true(unlocks(f, "ada", "secret-1"));
    assert_false(unlocks(f, "ada", "secret-2"));
}

static void test_add_refuses_what_a_new_user_cannot_be(void **state)
{
    struct fixture *f = *state;
    const struct app_user_new bad[] = {
        {NULL, ROLE_TEST_TAKER, NULL, NULL, NULL, NULL, NULL, NULL},
        {"ada", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
        {"ada", "wizard", NULL, NULL, NULL, NULL, NULL, NULL},
        {"ada", ROLE_SUPER_USER, NULL, NULL, NULL, NULL, NULL, NULL},   /* there is one already */
        {"ada", ROLE_SYNC_MANAGER, NULL, NULL, NULL, NULL, NULL, NULL}, /* needs an org */
        {"ada", ROLE_PROCTOR, "ORG-A", NULL, NULL, NULL, NULL, NULL},   /* org: sync only */
        {"ada", ROLE_PROCTOR, NULL, "Ada\nLovelace", NULL, NULL, NULL, NULL},
    };
    struct op_err e = {0};
    struct user u;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(app_users_check_new(&bad[i], &e), OP_EINPUT);
        assert_int_equal(app_users_add(f->inst, &bad[i], "pw", 2, &u, &e), OP_EINPUT);
        assert_null(u.login);
    }
    const struct app_user_new ok = {"ada", ROLE_SYNC_MANAGER, "ORG-A", NULL, NULL, NULL, NULL,
                                    NULL};
    assert_int_equal(app_users_check_new(&ok, &e), 0);
    assert_int_equal(app_users_add(f->inst, &ok, "", 0, &u, &e), OP_EINPUT); /* no password */
    assert_non_null(strstr(e.msg, "empty one is refused"));
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM users"), 0);
    assert_int_equal(app_users_add(f->inst, &ok, "pw", 2, NULL, &e), 0);
    assert_int_equal(app_users_add(f->inst, &ok, "pw", 2, NULL, &e), OP_ECONFLICT);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM users"), 1);
}

static void test_each_bad_login_is_refused_on_add(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    for (size_t i = 0; i < N_BAD_LOGINS; i++) {
        const struct app_user_new in = {
            bad_logins[i], ROLE_TEST_TAKER, NULL, NULL, NULL, NULL, NULL, NULL};
        assert_int_equal(app_users_check_new(&in, &e), OP_EINPUT);
        assert_int_equal(app_users_add(f->inst, &in, "pw", 2, NULL, &e), OP_EINPUT);
    }
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM users"), 0);
}

/* ---- update ---- */

static void test_each_bad_login_is_refused_on_update(void **state)
{
    struct fixture *f = *state;
    struct user u;
    add(f, "ada", "pw", &u);
    struct op_err e = {0};
    for (size_t i = 0; i < N_BAD_LOGINS; i++) {
        const struct user_changes ch = {.set = USER_SET_LOGIN, .login = bad_logins[i]};
        assert_int_equal(app_users_update(f->inst, u.id, u.version, &ch, NULL, &e), OP_EINPUT);
    }
    struct user now = stored(f, "ada");
    assert_int_equal(now.version, u.version);
    user_clear(&now);
    user_clear(&u);
}

static void exec(struct fixture *f, const char *sql)
{
    struct op_err e = {0};
    if (db_exec(f->inst->db, sql, &e) != 0)
        fail_msg("%s: %s", sql, e.msg);
}

static void test_update_of_one_field_writes_only_that_field(void **state)
{
    struct fixture *f = *state;
    struct user before;
    add(f, "ada", "pw", &before);
    /* The mail changes under the update's feet, without a new version (as a write outside
     * the application would): an update that wrote back the fields it did not set, from
     * what it read, would undo it. */
    exec(f, "UPDATE users SET mail = 'elsewhere@example.org' WHERE login = 'ada'");
    const struct user_changes ch = {.set = USER_SET_LABEL, .label = "Countess"};
    struct user after;
    struct op_err e = {0};
    db_lose_races(f->inst->db, 1); /* run twice (db_write): the result is one run's */
    assert_int_equal(app_users_update(f->inst, before.id, before.version, &ch, &after, &e), 0);
    assert_string_equal(after.label, "Countess");
    assert_int_equal(after.version, before.version + 1);
    /* Everything else, the password record and the vault included, is as it was. */
    assert_string_equal(after.login, before.login);
    assert_string_equal(after.role, before.role);
    assert_string_equal(after.first_name, before.first_name);
    assert_string_equal(after.last_name, before.last_name);
    assert_string_equal(after.mail, "elsewhere@example.org");
    assert_string_equal(after.interface_lang, before.interface_lang);
    assert_string_equal(after.password_hash, before.password_hash);
    assert_string_equal(after.vault_public_key, before.vault_public_key);
    assert_string_equal(after.vault_secret_wrapped, before.vault_secret_wrapped);
    assert_string_equal(after.vault_secret_escrow, before.vault_secret_escrow);
    user_clear(&after);
    /* A set optional field given as NULL clears it; the others stay. */
    const struct user_changes clear_mail = {.set = USER_SET_MAIL, .mail = NULL};
    assert_int_equal(
        app_users_update(f->inst, before.id, before.version + 1, &clear_mail, &after, &e), 0);
    assert_null(after.mail);
    assert_string_equal(after.label, "Countess");
    assert_string_equal(after.first_name, "Ada");
    user_clear(&after);
    user_clear(&before);
    assert_true(unlocks(f, "ada", "pw"));
}

static void test_a_stale_update_is_refused_as_a_conflict(void **state)
{
    struct fixture *f = *state;
    struct user u;
    add(f, "ada", "pw", &u);
    struct op_err e = {0};
    /* Two administrators read version 1; the first one's change wins. */
    const struct user_changes first = {.set = USER_SET_LABEL, .label = "First"};
    const struct user_changes second = {.set = USER_SET_MAIL, .mail = "second@example.org"};
    assert_int_equal(app_users_update(f->inst, u.id, u.version, &first, NULL, &e), 0);
    struct user out;
    assert_int_equal(app_users_update(f->inst, u.id, u.version, &second, &out, &e), OP_ECONFLICT);
    assert_null(out.login);
    struct user now = stored(f, "ada");
    assert_string_equal(now.label, "First");
    assert_string_equal(now.mail, "ada@example.org");
    assert_int_equal(now.version, u.version + 1);
    user_clear(&now);
    user_clear(&u);
}

static void test_an_update_to_the_same_values_writes_nothing(void **state)
{
    struct fixture *f = *state;
    struct user u;
    add(f, "ada", "pw", &u);
    struct op_err e = {0};
    const struct user_changes same = {
        .set = USER_SET_LABEL | USER_SET_MAIL, .label = u.label, .mail = u.mail};
    struct user out;
    assert_int_equal(app_users_update(f->inst, u.id, u.version, &same, &out, &e), 0);
    assert_int_equal(out.version, u.version);
    user_clear(&out);
    /* a stale version is a conflict even when the values are there already */
    const struct user_changes first = {.set = USER_SET_LABEL, .label = "First"};
    assert_int_equal(app_users_update(f->inst, u.id, u.version, &first, NULL, &e), 0);
    const struct user_changes again = {.set = USER_SET_LABEL, .label = "First"};
    assert_int_equal(app_users_update(f->inst, u.id, u.version, &again, NULL, &e), OP_ECONFLICT);
    int changed = -1;
    assert_int_equal(app_users_update_login(f->inst, "ada", &again, NULL, &changed, &e), 0);
    assert_int_equal(changed, 0);
    const struct user_changes clear_mail = {.set = USER_SET_MAIL, .mail = NULL};
    assert_int_equal(app_users_update_login(f->inst, "ada", &clear_mail, NULL, &changed, &e), 0);
    assert_int_equal(changed, 1);
    struct user now = stored(f, "ada");
    assert_int_equal(now.version, u.version + 2);
    user_clear(&now);
    user_clear(&u);
}

static void test_update_keeps_the_rules_of_roles_and_passwords(void **state)
{
    struct fixture *f = *state;
    char root[UUID_STR_LEN];
    fx_user(f->inst->db, "root", ROLE_SUPER_USER, root);
    struct user u;
    add(f, "ada", "pw", &u);
    struct op_err e = {0};
    const struct user_changes password = {.set = USER_SET_CREDENTIALS, .password_hash = "x"};
    const struct user_changes to_super = {.set = USER_SET_ROLE, .role = ROLE_SUPER_USER};
    const struct user_changes from_super = {.set = USER_SET_ROLE, .role = ROLE_PROCTOR};
    const struct user_changes to_sync = {.set = USER_SET_ROLE, .role = ROLE_SYNC_MANAGER};
    const struct user_changes org = {.set = USER_SET_ORG_ID, .org_id = "ORG-A"};
    assert_int_equal(app_users_update(f->inst, u.id, 1, &password, NULL, &e), OP_EINPUT);
    assert_int_equal(app_users_update(f->inst, u.id, 1, &to_super, NULL, &e), OP_EINPUT);
    assert_int_equal(app_users_update(f->inst, root, 1, &from_super, NULL, &e), OP_EINPUT);
    assert_int_equal(app_users_update(f->inst, u.id, 1, &to_sync, NULL, &e), OP_EINPUT);
    assert_int_equal(app_users_update(f->inst, u.id, 1, &org, NULL, &e), OP_EINPUT);
    const struct user_changes sync = {
        .set = USER_SET_ROLE | USER_SET_ORG_ID, .role = ROLE_SYNC_MANAGER, .org_id = "ORG-A"};
    struct user out;
    assert_int_equal(app_users_update(f->inst, u.id, 1, &sync, &out, &e), 0);
    assert_string_equal(out.role, ROLE_SYNC_MANAGER);
    assert_string_equal(out.org_id, "ORG-A");
    user_clear(&out);
    user_clear(&u);
    assert_int_equal(app_users_update(f->inst, "no-such-id", 1, &org, NULL, &e), OP_ENOTFOUND);
}

/* ---- delete ---- */

static void test_the_super_user_cannot_be_deleted(void **state)
{
    struct fixture *f = *state;
    char root[UUID_STR_LEN];
    fx_user(f->inst->db, "root", ROLE_SUPER_USER, root);
    struct op_err e = {0};
    assert_int_equal(app_users_delete(f->inst, "root", &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "super-user and cannot be deleted"));
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM users"), 1);
}

static void test_delete_removes_the_user_from_staff_and_eligibilities(void **state)
{
    struct fixture *f = *state;
    struct user u;
    add(f, "ada", "pw", &u);
    char center[UUID_STR_LEN], delivery[UUID_STR_LEN], el[UUID_STR_LEN];
    fx_center(f->inst->db, "Nord", "ORG-A", NULL, center);
    fx_delivery(f->inst->db, "Maths", 1, delivery);
    const char *takers[] = {u.id};
    fx_eligible(f->inst->db, center, delivery, takers, 1, 1, el);
    struct op_err e = {0};
    assert_int_equal(app_users_delete(f->inst, "ada", &e), 0);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM users"), 0);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM eligibility_test_takers"), 0);
    assert_int_equal(app_users_delete(f->inst, "ada", &e), OP_ENOTFOUND);
    user_clear(&u);
}

/* ---- password resets ---- */

static void test_passwd_recovers_the_vault_key_from_escrow(void **state)
{
    struct fixture *f = *state;
    struct user u;
    add(f, "ada", "old-pw", &u);
    const struct app_user_passwd in = {"ada", 0, 0};
    char pk[VAULT_PUBLIC_B64_LEN] = "";
    struct op_err e = {0};
    assert_int_equal(app_users_passwd_check(f->inst, &in, &e), 0);
    assert_int_equal(app_users_passwd(f->inst, &in, "new-pw", 6, pk, &e), 0);
    /* The same key pair, wrapped under the new password: what was sealed to it stays
     * readable. */
    assert_string_equal(pk, u.vault_public_key);
    assert_true(unlocks(f, "ada", "new-pw"));
    assert_false(unlocks(f, "ada", "old-pw"));
    struct user now = stored(f, "ada");
    assert_string_equal(now.vault_public_key, u.vault_public_key);
    assert_string_not_equal(now.password_hash, u.password_hash);
    assert_int_equal(now.version, u.version + 1);
    user_clear(&now);
    user_clear(&u);
}

static void test_passwd_with_new_keys_makes_a_new_pair(void **state)
{
    struct fixture *f = *state;
    struct user u;
    add(f, "ada", "old-pw", &u);
    const struct app_user_passwd in = {"ada", 1, 0};
    char pk[VAULT_PUBLIC_B64_LEN] = "";
    struct op_err e = {0};
    assert_int_equal(app_users_passwd(f->inst, &in, "new-pw", 6, pk, &e), 0);
    assert_string_not_equal(pk, u.vault_public_key);
    assert_true(unlocks(f, "ada", "new-pw"));
    struct user now = stored(f, "ada");
    assert_string_equal(now.vault_public_key, pk);
    assert_non_null(now.vault_secret_escrow); /* escrowed too */
    assert_string_not_equal(now.vault_secret_escrow, u.vault_secret_escrow);
    user_clear(&now);
    user_clear(&u);
}

static void test_passwd_refuses_an_empty_password_a_stale_version_and_an_unknown_user(void **state)
{
    struct fixture *f = *state;
    struct user u;
    add(f, "ada", "pw", &u);
    struct op_err e = {0};
    const struct app_user_passwd in = {"ada", 0, 0};
    assert_int_equal(app_users_passwd(f->inst, &in, "", 0, NULL, &e), OP_EINPUT);
    const struct user_changes ch = {.set = USER_SET_LABEL, .label = "Ada L."};
    assert_int_equal(app_users_update(f->inst, u.id, u.version, &ch, NULL, &e), 0);
    const struct app_user_passwd stale = {"ada", 0, u.version};
    assert_int_equal(app_users_passwd(f->inst, &stale, "new", 3, NULL, &e), OP_ECONFLICT);
    assert_true(unlocks(f, "ada", "pw"));
    const struct app_user_passwd ghost = {"ghost", 0, 0};
    assert_int_equal(app_users_passwd_check(f->inst, &ghost, &e), OP_ENOTFOUND);
    assert_int_equal(app_users_passwd(f->inst, &ghost, "new", 3, NULL, &e), OP_ENOTFOUND);
    user_clear(&u);
}

/* ---- the password policy ---- */

/* Under the default policy (instance/config.h: what a setup file that says nothing gets),
 * users add and users passwd refuse a short password, the login (backwards, in capitals too)
 * and a common password, each naming the field and the rule, and store nothing; relaxed, the
 * same passwords are taken. */
static void test_the_password_policy_refuses_each_rule_on_add_and_passwd(void **state)
{
    struct fixture *f = *state;
    password_policy_default(&f->inst->settings.password_policy);
    const struct app_user_new in = {"ada-l", ROLE_TEST_TAKER, NULL, NULL, NULL, NULL, NULL, NULL};
    const struct {
        const char *password, *rule;
    } refused[] = {
        {"short-pw", "min-length"},
        {"Ada-L", "min-length"},
        {"qwertyuiop", "refuse-common"},
        {"PassWord123", "refuse-common"},
    };
    struct op_err e = {0};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *pw = refused[i].password;
        assert_int_equal(app_users_add(f->inst, &in, pw, strlen(pw), NULL, &e), OP_EINPUT);
        assert_string_equal(e.field, "password");
        assert_non_null(strstr(e.msg, refused[i].rule));
        assert_null(strstr(e.msg, pw)); /* never the password itself */
    }
    /* the login as password: the policy's minimum met, so the login rule is the one named */
    const struct app_user_new longer = {
        "ada-lovelace", ROLE_TEST_TAKER, NULL, NULL, NULL, NULL, NULL, NULL};
    const char *as_login[] = {"ada-lovelace", "ADA-LOVELACE", "ecalevol-ada", "ECALEVOL-ADA"};
    for (size_t i = 0; i < sizeof as_login / sizeof as_login[0]; i++) {
        assert_int_equal(app_users_add(f->inst, &longer, as_login[i], 12, NULL, &e), OP_EINPUT);
        assert_string_equal(e.field, "password");
        assert_non_null(strstr(e.msg, "refuse-login"));
    }
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM users"), 0);
    /* characters, not bytes: 9 characters in 18 bytes are too short, 10 are enough */
    const char *nine = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    assert_int_equal(app_users_add(f->inst, &in, nine, strlen(nine), NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "min-length"));
    const char *ten = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9z";
    assert_int_equal(app_users_add(f->inst, &in, ten, strlen(ten), NULL, &e), 0);

    /* users passwd (and the backoffice's reset, which calls it): the same rules */
    const struct app_user_passwd reset = {"ada-l", 0, 0};
    assert_int_equal(app_users_passwd(f->inst, &reset, "qwertyuiop", 10, NULL, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "refuse-common"));
    assert_int_equal(app_users_passwd(f->inst, &reset, "l-ada", 5, NULL, &e), OP_EINPUT);
    assert_int_equal(app_users_passwd(f->inst, &reset, "l-ada-l-ada", 11, NULL, &e), 0);
    assert_true(unlocks(f, "ada-l", "l-ada-l-ada"));

    /* relaxed explicitly: TAO's example password (the login) is taken */
    f->inst->settings.password_policy = (struct password_policy){1, 0, 0};
    const struct app_user_new tao = {"user1", ROLE_TEST_TAKER, NULL, NULL, NULL, NULL, NULL, NULL};
    assert_int_equal(app_users_add(f->inst, &tao, "user1", 5, NULL, &e), 0);
    assert_true(unlocks(f, "user1", "user1"));
}

/* ---- on a device ---- */

static void test_a_device_adds_nobody_and_resets_only_its_super_user(void **state)
{
    (void)state;
    struct instance *dev = fx_instance(ROLE_DEVICE);
    cheap_passwords(dev);
    char root[UUID_STR_LEN], ada[UUID_STR_LEN];
    fx_user(dev->db, "root", ROLE_SUPER_USER, root);
    fx_user(dev->db, "ada", ROLE_TEST_TAKER, ada);
    struct op_err e = {0};
    const struct app_user_new in = {"bob", ROLE_TEST_TAKER, NULL, NULL, NULL, NULL, NULL, NULL};
    assert_int_equal(app_users_check_central(dev, "users add", &e), OP_ESTATE);
    assert_int_equal(app_users_add(dev, &in, "pw", 2, NULL, &e), OP_ESTATE);
    assert_int_equal(app_users_delete(dev, "ada", &e), OP_ESTATE);
    const struct app_user_passwd other = {"ada", 0, 0};
    assert_int_equal(app_users_passwd_check(dev, &other, &e), OP_ESTATE);
    assert_int_equal(app_users_passwd(dev, &other, "pw", 2, NULL, &e), OP_ESTATE);
    const struct app_user_passwd super = {"root", 0, 0};
    char pk[VAULT_PUBLIC_B64_LEN] = "";
    assert_int_equal(app_users_passwd(dev, &super, "root-pw", 7, pk, &e), 0);
    struct user r;
    OK(users_get_by_login(dev->db, "root", &r, fx_e));
    assert_string_equal(r.vault_public_key, pk);
    assert_null(r.vault_secret_escrow); /* a device has no master key */
    user_clear(&r);
    fx_instance_free(dev);
}

/* ---- JSON ---- */

static void test_user_json_shows_the_public_fields_never_the_secrets(void **state)
{
    struct fixture *f = *state;
    struct user u;
    add(f, "ada", "pw", &u);
    json_t *o = app_user_json(&u);
    const char *keys[] = {
        "id",         "login",          "role",         "label",  "first_name",       "last_name",
        "mail",       "interface_lang", "default_lang", "org_id", "vault_public_key", "version",
        "created_at", "updated_at"};
    assert_int_equal(json_object_size(o), sizeof keys / sizeof keys[0]);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_non_null(json_object_get(o, keys[i]));
    assert_string_equal(json_string_value(json_object_get(o, "login")), "ada");
    assert_true(json_is_null(json_object_get(o, "org_id")));
    char *text = json_dumps(o, 0);
    assert_null(strstr(text, u.password_hash));
    assert_null(strstr(text, u.vault_secret_wrapped));
    assert_null(strstr(text, u.vault_secret_escrow));
    free(text);
    json_decref(o);
    user_clear(&u);
}

struct walk {
    struct instance *inst;
    char seen[512];
    int outer;
};

static int count_inner(const struct user *u, void *ctx)
{
    struct walk *w = ctx;
    size_t len = strlen(w->seen);
    snprintf(w->seen + len, sizeof w->seen - len, "%s", u->login);
    return 0;
}

/* Lists the users again from inside the list's callback. */
static int list_inside(const struct user *u, void *ctx)
{
    struct walk *w = ctx;
    if (++w->outer > 3)
        return -1; /* the outer walk restarted: the bug */
    size_t len = strlen(w->seen);
    snprintf(w->seen + len, sizeof w->seen - len, "%s%s:", len ? "|" : "", u->login);
    struct op_err e = {0};
    return app_users_list(w->inst, NULL, count_inner, w, &e);
}

/* Listing users inside the callback of a list of users restarted the outer loop forever (the
 * nested call reset the statement the outer one was stepping). Now each walk ends and the
 * inner one sees every user for each outer row. */
static void test_listing_users_inside_a_list_of_users_ends(void **state)
{
    struct fixture *f = *state;
    char id[UUID_STR_LEN];
    fx_user(f->inst->db, "cid", ROLE_TEST_TAKER, id);
    fx_user(f->inst->db, "ann", ROLE_TEST_TAKER, id);
    fx_user(f->inst->db, "bob", ROLE_PROCTOR, id);
    struct walk w = {f->inst, "", 0};
    struct op_err e = {0};
    assert_int_equal(app_users_list(f->inst, NULL, list_inside, &w, &e), 0);
    assert_string_equal(w.seen, "ann:annbobcid|bob:annbobcid|cid:annbobcid");
}
int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, fx_state_teardown)
    const struct CMUnitTest tests[] = {
        T(test_add_stores_the_user_with_escrowed_credentials),
        T(test_add_refuses_what_a_new_user_cannot_be),
        T(test_each_bad_login_is_refused_on_add),
        T(test_each_bad_login_is_refused_on_update),
        T(test_update_of_one_field_writes_only_that_field),
        T(test_a_stale_update_is_refused_as_a_conflict),
        T(test_an_update_to_the_same_values_writes_nothing),
        T(test_update_keeps_the_rules_of_roles_and_passwords),
        T(test_the_super_user_cannot_be_deleted),
        T(test_delete_removes_the_user_from_staff_and_eligibilities),
        T(test_passwd_recovers_the_vault_key_from_escrow),
        T(test_passwd_with_new_keys_makes_a_new_pair),
        T(test_passwd_refuses_an_empty_password_a_stale_version_and_an_unknown_user),
        T(test_the_password_policy_refuses_each_rule_on_add_and_passwd),
        cmocka_unit_test(test_a_device_adds_nobody_and_resets_only_its_super_user),
        T(test_user_json_shows_the_public_fields_never_the_secrets),
        T(test_listing_users_inside_a_list_of_users_ends),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
