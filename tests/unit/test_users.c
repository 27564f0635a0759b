/* test_users.c - the users store keeps its own rules for what it stores: whichever door a
 * user comes through (users add, import-users, sync later), a login, label, name or mail
 * with a control character, invalid UTF-8 or a space at either end is refused, so nothing
 * stored can carry a terminal escape sequence to an operator's screen. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "store/users.h"

static void fill(struct user *u, const char *login)
{
    memset(u, 0, sizeof *u);
    u->login = (char *)login;
    u->role = ROLE_TEST_TAKER;
    u->label = "Ann B\xc3\xa9";
    u->first_name = "Ann";
    u->last_name = "B\xc3\xa9";
    u->mail = "ann@example.org";
    u->interface_lang = u->default_lang = "en-US";
    u->password_hash = "$op-argon2id$v=1$m=8,t=1$x$y";
}

static int64_t count(struct db *db)
{
    int64_t n = -1;
    struct op_err e = {0};
    assert_int_equal(users_count(db, NULL, &n, &e), 0);
    return n;
}

/* Each bad value, in each field, is refused by users_insert with a message naming the field. */
static void test_users_insert_refuses_control_characters_in_every_field(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    static const char *const bad[] = {
        "a\x1b[31mb", /* ESC: a terminal escape sequence */
        "a\nb",       /* newline */
        "a\tb",       /* tab */
        "a\rb",       /* carriage return */
        "a\x7f"
        "b", /* DEL */
        "a\xc2\x9b"
        "31mb", /* U+009B, the C1 control sequence introducer */
        "a\xc2\x85"
        "b", /* U+0085, next line */
    };
    static const char *const fields[] = {"login", "label", "first name", "last name", "mail"};
    for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            struct user u;
            fill(&u, "ann");
            char **slot[] = {&u.login, &u.label, &u.first_name, &u.last_name, &u.mail};
            *slot[f] = (char *)bad[i];
            assert_int_equal(db_begin(db, &e), 0);
            int rc = users_insert(db, &u, &e);
            db_rollback(db);
            if (rc != OP_EINPUT)
                fail_msg("field %s, value %zu: users_insert returned %d (%s)", fields[f], i, rc,
                         e.msg);
            if (!strstr(e.msg, fields[f]) || !strstr(e.msg, "control character"))
                fail_msg("field %s, value %zu: message \"%s\"", fields[f], i, e.msg);
            /* the message never echoes the raw control character */
            for (const unsigned char *p = (const unsigned char *)e.msg; *p; p++)
                assert_true(*p >= 0x20 && *p != 0x7f && !(*p == 0xc2 && p[1] <= 0x9f));
        }
    assert_int_equal(count(db), 0);
    db_close(db);
    testutil_rmdir(dir);
}

static void test_users_insert_refuses_bad_logins(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    static const char *const bad[] = {"", " ann", "ann ", "a\xff", "a\xc3", "\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct user u;
        fill(&u, bad[i]);
        assert_int_equal(db_begin(db, &e), 0);
        int rc = users_insert(db, &u, &e);
        db_rollback(db);
        if (rc != OP_EINPUT || !strstr(e.msg, "login"))
            fail_msg("login %zu: users_insert returned %d (%s)", i, rc, e.msg);
    }
    /* text in any script is fine */
    struct user u;
    fill(&u, "\xc3\xa9\x64ouard-\xe5\xad\xa6");
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(users_insert(db, &u, &e), 0);
    assert_int_equal(db_commit(db, &e), 0);
    assert_int_equal(count(db), 1);
    db_close(db);
    testutil_rmdir(dir);
}

static void test_users_update_refuses_control_characters(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct op_err e = {0};
    struct user u;
    fill(&u, "ann");
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(users_insert(db, &u, &e), 0);
    assert_int_equal(db_commit(db, &e), 0);

    struct user_changes ch = {.set = USER_SET_LABEL, .label = "\x1b]0;pwned\x07"};
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(users_update(db, u.id, 1, &ch, NULL, &e), OP_EINPUT);
    db_rollback(db);
    assert_non_null(strstr(e.msg, "label contains a control character"));
    ch = (struct user_changes){.set = USER_SET_FIRST_NAME, .first_name = "Ann\n"};
    assert_int_equal(db_begin(db, &e), 0);
    assert_int_equal(users_update(db, u.id, 1, &ch, NULL, &e), OP_EINPUT);
    db_rollback(db);
    assert_non_null(strstr(e.msg, "first name contains a control character"));

    struct user stored;
    assert_int_equal(users_get_by_login(db, "ann", &stored, &e), 0);
    assert_string_equal(stored.label, "Ann B\xc3\xa9");
    assert_string_equal(stored.first_name, "Ann");
    assert_int_equal(stored.version, 1);
    user_clear(&stored);
    db_close(db);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_users_insert_refuses_control_characters_in_every_field),
        cmocka_unit_test(test_users_insert_refuses_bad_logins),
        cmocka_unit_test(test_users_update_refuses_control_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
