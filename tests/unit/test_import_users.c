/* test_import_users.c - users_import_file: header mapping, row checks, all or nothing,
 * --skip-invalid, updates, limits and the hashing pool. Fixtures are written by each test. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "import/users_import.h"
#include "store/users.h"

/* A database holding the super-user "admin", a folder for the CSV files and the options of a
 * test-taker import with the cheapest password cost. */
struct fixture {
    char *dir;
    struct db *db;
    struct users_import_options opt;
    struct users_import_report r;
    struct op_err e;
    char *path;
};

static void add_user(struct db *db, const char *login, const char *role, const char *org)
{
    struct op_err e = {0};
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)login;
    u.role = (char *)role;
    u.org_id = (char *)org;
    u.label = (char *)login;
    u.first_name = (char *)"Kept";
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    assert_int_equal(db_begin(db, &e), 0);
    if (users_insert(db, &u, &e) != 0)
        fail_msg("users_insert: %s", e.msg);
    assert_int_equal(db_commit(db, &e), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->db = testutil_db(&f->dir);
    add_user(f->db, "admin", ROLE_SUPER_USER, NULL);
    f->opt.role = ROLE_TEST_TAKER;
    f->opt.max_bytes = 1024 * 1024;
    f->opt.cost.opslimit = 1;
    f->opt.cost.memlimit_kib = 8;
    users_import_report_init(&f->r, "users.csv");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    users_import_report_free(&f->r);
    db_close(f->db);
    testutil_rmdir(f->dir);
    free(f->path);
    free(f);
    return 0;
}

/* Writes `csv` as users.csv and imports it; returns the status. */
static int import_text(struct fixture *f, const char *csv)
{
    free(f->path);
    f->path = testutil_write(f->dir, "users.csv", csv);
    users_import_report_free(&f->r);
    users_import_report_init(&f->r, "users.csv");
    memset(&f->e, 0, sizeof f->e);
    return users_import_file(f->db, f->path, &f->opt, &f->r, &f->e);
}

static int64_t count_users(struct fixture *f)
{
    int64_t n = 0;
    struct op_err e = {0};
    assert_int_equal(users_count(f->db, NULL, &n, &e), 0);
    return n;
}

/* The stored user `login` (the caller clears it). */
static struct user get_user(struct fixture *f, const char *login)
{
    struct user u;
    struct op_err e = {0};
    if (users_get_by_login(f->db, login, &u, &e) != 0)
        fail_msg("%s", e.msg);
    return u;
}

/* 1 if a problem at `line` contains `text`. */
static int has_problem(const struct fixture *f, int line, const char *text)
{
    for (int i = 0; i < f->r.problems.count; i++)
        if (f->r.problems.items[i].line == line && strstr(f->r.problems.items[i].message, text))
            return 1;
    return 0;
}

#define assert_problem(f, line, text)                                                              \
    do {                                                                                           \
        if (!has_problem(f, line, text))                                                           \
            fail_msg("no problem at line %d with \"%s\"", line, text);                             \
    } while (0)

static void test_import_creates_users_from_tao_header(void **state)
{
    struct fixture *f = *state;
    int rc = import_text(f, "Label,\"First Name\",\"Last Name\",Login,Mail,Password,"
                            "\"Interface Language\", \"Default language\"\n"
                            "Ann B,Ann,\"Bee, Jr.\",ann,ann@example.org,pw-a,en-US,fr\n"
                            "Carl,Carl,Dee,carl,carl@example.org,pw-c,de-DE,de\n");
    if (rc != 0)
        fail_msg("%s", f->e.msg);
    assert_int_equal(f->r.created, 2);
    assert_int_equal(f->r.updated, 0);
    assert_int_equal(count_users(f), 3);
    struct user u = get_user(f, "ann");
    assert_string_equal(u.role, ROLE_TEST_TAKER);
    assert_string_equal(u.label, "Ann B");
    assert_string_equal(u.last_name, "Bee, Jr.");
    assert_string_equal(u.mail, "ann@example.org");
    assert_string_equal(u.interface_lang, "en-US");
    assert_string_equal(u.default_lang, "fr");
    assert_null(u.org_id);
    struct op_err e = {0};
    assert_int_equal(password_verify(u.password_hash, "pw-a", 4, NULL, &e), 0);
    user_clear(&u);
}

static void test_import_matches_headers_in_any_order_and_case(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "  PASSWORD , mail,LOGIN ,first name\nsecret,x@y.z,xavier,X\n"),
                     0);
    struct user u = get_user(f, "xavier");
    assert_string_equal(u.mail, "x@y.z");
    assert_string_equal(u.first_name, "X");
    user_clear(&u);
}

static void test_import_label_defaults_to_login(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password,Label\nnolabel,pw,\n"), 0);
    struct user u = get_user(f, "nolabel");
    assert_string_equal(u.label, "nolabel");
    user_clear(&u);
}

static void test_import_refuses_unknown_column_naming_it(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password,E-mail\nx,pw,x@y.z\n"), OP_EINPUT);
    assert_problem(f, 1, "unknown column \"E-mail\"");
    assert_int_equal(count_users(f), 1);
}

static void test_import_refuses_missing_login_column(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Label,Password\nx,pw\n"), OP_EINPUT);
    assert_problem(f, 1, "missing column Login");
}

static void test_import_refuses_missing_password_column(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login\nx\n"), OP_EINPUT);
    assert_problem(f, 1, "missing column Password");
}

static void test_import_refuses_a_column_given_twice(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password,login\nx,pw,y\n"), OP_EINPUT);
    assert_problem(f, 1, "column \"Login\" appears twice (columns 1 and 3)");
}

static void test_import_header_problem_stops_even_with_skip_invalid(void **state)
{
    struct fixture *f = *state;
    f->opt.skip_invalid = 1;
    assert_int_equal(import_text(f, "Login,Pasword\nx,pw\n"), OP_EINPUT);
    assert_int_equal(count_users(f), 1);
}

static void test_import_requires_org_id_column_for_sync_manager(void **state)
{
    struct fixture *f = *state;
    f->opt.role = ROLE_SYNC_MANAGER;
    assert_int_equal(import_text(f, "Login,Password\nsm,pw\n"), OP_EINPUT);
    assert_problem(f, 1, "missing column \"organisation id\"");
}

static void test_import_requires_org_id_in_each_sync_manager_row(void **state)
{
    struct fixture *f = *state;
    f->opt.role = ROLE_SYNC_MANAGER;
    assert_int_equal(import_text(f, "Login,Password,Organisation ID\nsm1,pw,ORG-1\nsm2,pw,\n"),
                     OP_EINPUT);
    assert_problem(f, 3, "missing organisation id");
    assert_int_equal(f->r.invalid, 1);
    f->opt.skip_invalid = 1;
    assert_int_equal(import_text(f, "Login,Password,Organisation ID\nsm1,pw,ORG-1\nsm2,pw,\n"), 0);
    struct user u = get_user(f, "sm1");
    assert_string_equal(u.role, ROLE_SYNC_MANAGER);
    assert_string_equal(u.org_id, "ORG-1");
    user_clear(&u);
}

static void test_import_refuses_org_id_for_other_roles(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password,organisation id\nt1,pw,\nt2,pw,ORG\n"),
                     OP_EINPUT);
    assert_problem(f, 3, "only for sync-manager users");
    assert_int_equal(f->r.invalid, 1);
}

static void test_import_refuses_duplicate_login_in_file(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password\nd,pw1\ne,pw\nd,pw2\nd,pw3\n"), OP_EINPUT);
    assert_problem(f, 2, "login \"d\" appears more than once (lines 2, 4 and 5)");
    assert_problem(f, 4, "lines 2, 4 and 5");
    assert_problem(f, 5, "lines 2, 4 and 5");
    assert_int_equal(f->r.invalid, 3);
    assert_int_equal(count_users(f), 1);
}

static void test_import_names_at_most_ten_lines_of_a_duplicate(void **state)
{
    struct fixture *f = *state;
    struct buf b = BUF_INIT;
    buf_puts(&b, "Login,Password\n");
    for (int i = 0; i < 500; i++)
        buf_puts(&b, "same,pw\n");
    assert_int_equal(import_text(f, b.data), OP_EINPUT);
    buf_free(&b);
    assert_int_equal(f->r.invalid, 500);
    assert_problem(f, 501, "(lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 490 more)");
}

static void test_import_refuses_empty_password(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password\nx,\n"), OP_EINPUT);
    assert_problem(f, 2, "empty Password");
}

static void test_import_refuses_missing_login(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password\n,pw\n"), OP_EINPUT);
    assert_problem(f, 2, "missing Login");
}

static void test_import_refuses_invalid_login(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password\n\"a\tb\",pw\n"), OP_EINPUT);
    assert_problem(f, 2, "field Login contains a control character");
}

static void test_import_refuses_escape_sequence_in_label(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password,Label\nx,pw,\"\x1b]0;owned\x07\"\n"),
                     OP_EINPUT);
    assert_problem(f, 2, "field Label contains a control character");
}

static void test_import_refuses_bad_language_tag(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password,Interface Language\nx,pw,en_US\n"), OP_EINPUT);
    assert_problem(f, 2, "Interface Language \"en_US\" is not a language tag");
}

static void test_import_refuses_row_with_wrong_field_count(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password,Mail\nx,pw\ny,pw,m,extra\n"), OP_EINPUT);
    assert_problem(f, 2, "2 fields where the header has 3");
    assert_problem(f, 3, "4 fields where the header has 3");
}

static void test_import_lists_every_reason_of_a_row_on_one_line(void **state)
{
    struct fixture *f = *state;
    /* The last row of TAO's example has this shape: a label and nothing else. */
    assert_int_equal(import_text(f, "Label,Login,Password,Mail\nu1,u1,pw,m\nu3,,,\n"), OP_EINPUT);
    assert_int_equal(f->r.problems.count, 1);
    assert_problem(f, 3, "missing Login; empty Password");
    /* the option that imports the valid rows is the CLI's advice (cli/remedy.c) */
    assert_string_equal(f->e.msg, "users.csv: 1 invalid row; nothing imported");
    assert_int_equal(f->e.remedy, OP_REMEDY_SKIP_INVALID);
}

static void test_import_refuses_role_change_of_existing_login(void **state)
{
    struct fixture *f = *state;
    add_user(f->db, "pat", ROLE_PROCTOR, NULL);
    assert_int_equal(import_text(f, "Login,Password\npat,pw\n"), OP_EINPUT);
    assert_problem(
        f, 2, "login \"pat\" exists as a proctor; import it with -t proctor or delete it first");
    struct user u = get_user(f, "pat");
    assert_string_equal(u.role, ROLE_PROCTOR);
    user_clear(&u);
}

static void test_import_refuses_super_user_login(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password\nadmin,pw\n"), OP_EINPUT);
    assert_problem(f, 2, "super-user");
}

static void test_import_writes_nothing_when_a_row_is_invalid(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, "Login,Password\na,pw\nb,pw\nc,\n"), OP_EINPUT);
    assert_int_equal(count_users(f), 1);
    assert_int_equal(f->r.created, 0);
    assert_int_equal(f->r.skipped, 0);
    assert_int_equal(f->r.invalid, 1);
}

static void test_import_skip_invalid_imports_valid_rows(void **state)
{
    struct fixture *f = *state;
    f->opt.skip_invalid = 1;
    assert_int_equal(import_text(f, "Login,Password\na,pw\nb,pw\nc,\n"), 0);
    assert_int_equal(count_users(f), 3);
    assert_int_equal(f->r.created, 2);
    assert_int_equal(f->r.skipped, 1);
    assert_problem(f, 4, "empty Password");
}

static void test_import_updates_existing_user_keeping_absent_columns(void **state)
{
    struct fixture *f = *state;
    add_user(f->db, "tt", ROLE_TEST_TAKER, NULL);
    struct user before = get_user(f, "tt");
    assert_int_equal(import_text(f, "Login,Password,Mail,Label\ntt,new-pw,new@x.org,\nnew,pw,,\n"),
                     0);
    assert_int_equal(f->r.updated, 1);
    assert_int_equal(f->r.created, 1);
    struct user u = get_user(f, "tt");
    assert_string_equal(u.id, before.id);
    assert_string_equal(u.mail, "new@x.org");
    assert_string_equal(u.first_name, "Kept"); /* no First Name column */
    assert_string_equal(u.label, "tt");        /* empty Label: the login */
    assert_true(u.version > before.version);
    struct op_err e = {0};
    assert_int_equal(password_verify(u.password_hash, "new-pw", 6, NULL, &e), 0);
    user_clear(&u);
    user_clear(&before);
}

static void test_import_refuses_file_over_size_limit_with_the_limit_remedy(void **state)
{
    struct fixture *f = *state;
    f->opt.max_bytes = 16;
    assert_int_equal(import_text(f, "Login,Password\nabcdef,ghijkl\n"), OP_EINPUT);
    assert_non_null(strstr(f->e.msg, "over the limit of 16 bytes"));
    /* the setting to raise is the front end's advice (the CLI names it: cli/remedy.c) */
    assert_int_equal(f->e.remedy, OP_REMEDY_CSV_LIMIT);
    assert_int_equal(f->r.problems.count, 0);
}

static void test_import_refuses_more_rows_than_the_maximum(void **state)
{
    struct fixture *f = *state;
    f->opt.max_rows = 2;
    assert_int_equal(import_text(f, "Login,Password\na,pw\nb,pw\nc,pw\n"), OP_EINPUT);
    assert_non_null(strstr(f->e.msg, "users.csv line 4: more than 2 users"));
    assert_int_equal(count_users(f), 1);
}

static void test_import_refuses_empty_file_and_header_only(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_text(f, ""), OP_EINPUT);
    assert_non_null(strstr(f->e.msg, "empty file"));
    assert_int_equal(import_text(f, "Login,Password\r\n"), OP_EINPUT);
    assert_non_null(strstr(f->e.msg, "no users"));
}

static void test_import_refuses_binary_data(void **state)
{
    struct fixture *f = *state;
    free(f->path);
    f->path = testutil_write(f->dir, "bin.csv", "Login,Password\n");
    FILE *out = fopen(f->path, "ab");
    fwrite("x,\0\1\2\n", 1, 6, out);
    fclose(out);
    assert_int_equal(users_import_file(f->db, f->path, &f->opt, &f->r, &f->e), OP_EINPUT);
    assert_non_null(strstr(f->e.msg, "binary data"));
}

static void test_import_lists_at_most_the_maximum_of_problems(void **state)
{
    struct fixture *f = *state;
    struct buf b = BUF_INIT;
    buf_puts(&b, "Login,Password\n");
    for (int i = 0; i < USERS_IMPORT_LISTED_MAX + 5; i++)
        buf_puts(&b, ",pw\n");
    assert_int_equal(import_text(f, b.data), OP_EINPUT);
    buf_free(&b);
    assert_int_equal(f->r.problems.count, USERS_IMPORT_LISTED_MAX);
    assert_int_equal(f->r.unlisted, 5);
    assert_int_equal(f->r.invalid, USERS_IMPORT_LISTED_MAX + 5);
}

struct progress_log {
    int calls, last_done, last_total, went_back;
};

static void record_progress(void *ctx, int done, int total)
{
    struct progress_log *p = ctx;
    if (done < p->last_done)
        p->went_back = 1;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

static void test_import_hashes_on_several_workers_with_progress(void **state)
{
    struct fixture *f = *state;
    struct progress_log log = {0};
    f->opt.workers = 4;
    f->opt.progress = record_progress;
    f->opt.progress_ctx = &log;
    struct buf b = BUF_INIT;
    buf_puts(&b, "Login,Password\n");
    for (int i = 0; i < 40; i++)
        buf_printf(&b, "user%d,password-%d\n", i, i);
    assert_int_equal(import_text(f, b.data), 0);
    buf_free(&b);
    assert_int_equal(f->r.workers, 4);
    assert_int_equal(f->r.created, 40);
    assert_true(log.calls >= 1);
    assert_int_equal(log.last_done, 40);
    assert_int_equal(log.last_total, 40);
    assert_false(log.went_back);
    /* Every row got its own password, not a neighbour's. */
    for (int i = 0; i < 40; i += 13) {
        char login[16], pw[24];
        snprintf(login, sizeof login, "user%d", i);
        snprintf(pw, sizeof pw, "password-%d", i);
        struct user u = get_user(f, login);
        struct op_err e = {0};
        assert_int_equal(password_verify(u.password_hash, pw, strlen(pw), NULL, &e), 0);
        user_clear(&u);
    }
}

/* With a password policy, each row it refuses is a bad row naming the line and the rule;
 * nothing is imported (all or nothing), and --skip-invalid imports the others. */
static void test_import_refuses_the_rows_the_password_policy_refuses(void **state)
{
    struct fixture *f = *state;
    struct password_policy policy;
    password_policy_default(&policy);
    f->opt.policy = &policy;
    const char *csv = "Login,Password\n"
                      "ann,ann-long-secret\n" /* line 2: accepted */
                      "bob,bob\n"             /* line 3: short */
                      "carl.dee,CARL.DEE\n"   /* line 4: the login (and short) */
                      "dora.explorer,DORA.EXPLORER\n"
                      "eve,eve-and-more-of-it\n" /* line 6: accepted: more than the login */
                      "fay,1qaz2wsx3edc\n"
                      "gil,lig-gil-lig-gil\n";
    assert_int_equal(import_text(f, csv), OP_EINPUT);
    assert_problem(f, 3, "Password is shorter than 10 characters (password policy: min-length)");
    assert_problem(f, 4, "min-length");
    assert_problem(f, 5, "Password is the same as the login, or the login backwards");
    assert_problem(f, 7, "Password is one of the 10000 most common passwords");
    assert_int_equal(f->r.invalid, 4);
    assert_int_equal(f->r.problems.count, 4);
    assert_int_equal(count_users(f), 1);          /* the super-user only: nothing imported */
    for (int i = 0; i < f->r.problems.count; i++) /* never the password itself */
        assert_null(strstr(f->r.problems.items[i].message, "DORA"));

    f->opt.skip_invalid = 1;
    assert_int_equal(import_text(f, csv), 0);
    assert_int_equal(f->r.created, 3);
    assert_int_equal(f->r.skipped, 4);

    /* relaxed: TAO's example rows (the login as password) are taken */
    policy = (struct password_policy){1, 0, 0};
    f->opt.skip_invalid = 0;
    assert_int_equal(import_text(f, "Login,Password\nuser1,user1\nuser2,user2\n"), 0);
    assert_int_equal(f->r.created, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_import_creates_users_from_tao_header),
        T(test_import_refuses_the_rows_the_password_policy_refuses),
        T(test_import_matches_headers_in_any_order_and_case),
        T(test_import_label_defaults_to_login),
        T(test_import_refuses_unknown_column_naming_it),
        T(test_import_refuses_missing_login_column),
        T(test_import_refuses_missing_password_column),
        T(test_import_refuses_a_column_given_twice),
        T(test_import_header_problem_stops_even_with_skip_invalid),
        T(test_import_requires_org_id_column_for_sync_manager),
        T(test_import_requires_org_id_in_each_sync_manager_row),
        T(test_import_refuses_org_id_for_other_roles),
        T(test_import_refuses_duplicate_login_in_file),
        T(test_import_names_at_most_ten_lines_of_a_duplicate),
        T(test_import_refuses_empty_password),
        T(test_import_refuses_missing_login),
        T(test_import_refuses_invalid_login),
        T(test_import_refuses_escape_sequence_in_label),
        T(test_import_refuses_bad_language_tag),
        T(test_import_refuses_row_with_wrong_field_count),
        T(test_import_lists_every_reason_of_a_row_on_one_line),
        T(test_import_refuses_role_change_of_existing_login),
        T(test_import_refuses_super_user_login),
        T(test_import_writes_nothing_when_a_row_is_invalid),
        T(test_import_skip_invalid_imports_valid_rows),
        T(test_import_updates_existing_user_keeping_absent_columns),
        T(test_import_refuses_file_over_size_limit_with_the_limit_remedy),
        T(test_import_refuses_more_rows_than_the_maximum),
        T(test_import_refuses_empty_file_and_header_only),
        T(test_import_refuses_binary_data),
        T(test_import_lists_at_most_the_maximum_of_problems),
        T(test_import_hashes_on_several_workers_with_progress),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
