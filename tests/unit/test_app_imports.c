/* test_app_imports.c - app/imports.h on a real temporary central: the record imports from a
 * file and from memory, all or nothing, --skip-invalid, the device refusal, the summary JSON,
 * and import-users with central's master key. */
#include "instance_fixture.h"

#include "app/imports.h"
#include "store/testcenters.h"

struct fixture {
    char *dir;
    struct instance *inst;
    struct app_import_report r;
    struct op_err e;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance("central", &f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    app_import_report_free(&f->r);
    instance_close(f->inst);
    testutil_rmdir(f->dir);
    free(f);
    return 0;
}

static int import_centers(struct fixture *f, const char *csv, int skip)
{
    app_import_report_free(&f->r);
    struct app_import_request req = {"centers.csv", csv, strlen(csv), skip};
    return app_imports_testcenters(f->inst, &req, &f->r, &f->e);
}

static void test_centers_from_memory_are_created_then_unchanged(void **state)
{
    struct fixture *f = *state;
    const char *csv = "Label,Organisation Id\nA,ORG-1\nB,ORG-1\n";
    if (import_centers(f, csv, 0) != 0)
        fail_msg("import: %s", f->e.msg);
    assert_int_equal(f->r.created, 2);
    assert_int_equal(f->r.committed, 1);
    assert_int_equal(import_centers(f, csv, 0), 0);
    assert_int_equal(f->r.unchanged, 2);
    json_t *o = app_import_report_json(&f->r);
    assert_true(json_is_true(json_object_get(o, "imported")));
    assert_int_equal(json_integer_value(json_object_get(o, "unchanged")), 2);
    json_decref(o);
}

static void test_a_bad_row_imports_nothing_unless_skip_invalid(void **state)
{
    struct fixture *f = *state;
    const char *csv = "Label,Organisation Id\nA,ORG-1\nB,\n";
    assert_int_equal(import_centers(f, csv, 0), OP_EINPUT);
    assert_int_equal(f->r.problems.count, 1);
    assert_int_equal(f->r.problems.items[0].line, 3);
    assert_int_equal(f->r.created, 0);
    assert_int_equal(f->r.committed, 0);
    struct test_center c;
    struct op_err e = {0};
    assert_int_equal(testcenters_find(f->inst->db, "A", &c, &e), OP_ENOTFOUND);
    assert_int_equal(import_centers(f, csv, 1), 0);
    assert_int_equal(f->r.created, 1);
    assert_int_equal(f->r.skipped, 1);
    assert_int_equal(testcenters_find(f->inst->db, "A", &c, &e), 0);
    test_center_clear(&c);
}

static void test_a_row_under_a_bad_parent_is_left_out_too(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(import_centers(f, "Label,Organisation Id,Parent\nA,,\nB,ORG-1,A\n", 1), 0);
    assert_int_equal(f->r.created, 0);
    assert_int_equal(f->r.skipped, 2);
}

static void test_eligibilities_naming_unknown_records_are_refused(void **state)
{
    struct fixture *f = *state;
    const char *csv = "Test Center,Delivery,Test Takers\nNowhere,Maths,\n";
    struct app_import_request req = {"elig.csv", csv, strlen(csv), 0};
    assert_int_equal(app_imports_eligibilities(f->inst, &req, &f->r, &f->e), OP_EINPUT);
    assert_int_equal(f->r.problems.count, 2); /* the center and the delivery */
    assert_int_equal(db_in_transaction(f->inst->db), 0);
}

static void test_users_are_imported_and_an_unknown_role_refused(void **state)
{
    struct fixture *f = *state;
    char *path = testutil_write(f->dir, "users.csv", "Login,Password\nada,pw-ada\nalan,pw-al\n");
    struct app_users_import_request req = {path, "test-taker", 0, 2, NULL, NULL};
    struct users_import_report r;
    if (app_imports_users(f->inst, &req, &r, &f->e) != 0)
        fail_msg("import-users: %s", f->e.msg);
    assert_int_equal(r.created, 2);
    json_t *o = app_users_import_json(&r);
    assert_int_equal(json_integer_value(json_object_get(o, "created")), 2);
    json_decref(o);
    users_import_report_free(&r);
    req.role = "wizard";
    assert_int_equal(app_imports_users(f->inst, &req, &r, &f->e), OP_EINPUT);
    users_import_report_free(&r);
    free(path);
}

static int count_rows(struct fixture *f, const char *sql)
{
    struct op_err e = {0};
    struct db_stmt *st = db_stmt(f->inst->db, sql, &e);
    if (!st)
        fail_msg("%s: %s", sql, e.msg);
    assert_int_equal(db_step(st), DB_ROW);
    int n = db_column_int(st, 0);
    db_stmt_done(f->inst->db, st);
    return n;
}

/* A transaction that lost a race is run again (db_write): the run that commits counts and
 * reports each row once, pass 1's problems included. */
static void test_a_retried_import_counts_and_reports_each_row_once(void **state)
{
    struct fixture *f = *state;
    const char *csv = "Label,Organisation Id,Parent\nA,ORG-1,\nB,,\nC,ORG-1,B\nD,ORG-2,\n";
    db_lose_races(f->inst->db, 2);
    if (import_centers(f, csv, 1) != 0)
        fail_msg("import: %s", f->e.msg);
    assert_int_equal(f->r.created, 2); /* A and D */
    assert_int_equal(f->r.skipped, 2); /* B, and C under it */
    assert_int_equal(f->r.problems.count, 2);
    assert_int_equal(f->r.committed, 1);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM test_centers"), 2);
    /* the users import, too */
    char *path = testutil_write(f->dir, "users.csv", "Login,Password\nada,pw-ada\nalan,pw-al\n");
    struct app_users_import_request req = {path, "test-taker", 0, 2, NULL, NULL};
    struct users_import_report r;
    db_lose_races(f->inst->db, 1);
    if (app_imports_users(f->inst, &req, &r, &f->e) != 0)
        fail_msg("import-users: %s", f->e.msg);
    assert_int_equal(r.created, 2);
    assert_int_equal(r.updated, 0);
    users_import_report_free(&r);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM users WHERE role = 'test-taker'"), 2);
    free(path);
}

static void test_imports_run_on_central_only(void **state)
{
    (void)state;
    char *dir;
    struct instance *dev = fx_instance("device", &dir);
    const char *csv = "Label,Organisation Id\nA,ORG-1\n";
    struct app_import_request req = {"centers.csv", csv, strlen(csv), 0};
    struct app_import_report r;
    struct op_err e = {0};
    assert_int_equal(app_imports_testcenters(dev, &req, &r, &e), OP_ESTATE);
    app_import_report_free(&r);
    struct app_users_import_request ureq = {"users.csv", "test-taker", 0, 1, NULL, NULL};
    struct users_import_report ur;
    assert_int_equal(app_imports_users(dev, &ureq, &ur, &e), OP_ESTATE);
    users_import_report_free(&ur);
    instance_close(dev);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_centers_from_memory_are_created_then_unchanged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_bad_row_imports_nothing_unless_skip_invalid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_row_under_a_bad_parent_is_left_out_too, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_eligibilities_naming_unknown_records_are_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_are_imported_and_an_unknown_role_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_retried_import_counts_and_reports_each_row_once,
                                        setup, teardown),
        cmocka_unit_test(test_imports_run_on_central_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
