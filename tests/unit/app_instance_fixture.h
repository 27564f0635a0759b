/*
 * app_instance_fixture.h - a temporary instance for the tests of the application layer
 * (src/app): a data folder with a migrated database, the role asked for and, on a central,
 * its keys; no outpost.json and no super-user (the app functions do not read them). Static
 * functions, included by the test_app_*.c programs only.
 */
#ifndef OUTPOST_TESTS_APP_INSTANCE_FIXTURE_H
#define OUTPOST_TESTS_APP_INSTANCE_FIXTURE_H

#include <stdlib.h>

#include "base/fs.h"
#include "crypto/keys.h"
#include "instance/instance.h"
#include "testutil.h"

/* A new instance of `role` in a fresh temporary folder; free with fx_instance_free. */
static inline struct instance *fx_instance(enum instance_role role)
{
    struct instance *inst = calloc(1, sizeof *inst);
    assert_non_null(inst);
    inst->dir = testutil_tmpdir();
    inst->role = role;
    uuid_generate(inst->id);
    inst->settings.qti_package_max_bytes = 64u << 20;
    inst->settings.csv_max_bytes = 1u << 20;
    /* the password policy relaxed explicitly, as a setup file would say it: the tests' users
     * have short passwords ("pw"); test_app_users sets the default to test the policy */
    inst->settings.password_policy = (struct password_policy){1, 0, 0};
    inst->db = testutil_db_open(inst->dir, "outpost.db");
    struct op_err e = {0};
    char *keys = fs_join(inst->dir, "keys");
    int rc = role == ROLE_CENTRAL ? keys_setup_central(keys, NULL, &e)
                                  : keys_setup_device(keys, NULL, &e);
    if (rc != 0)
        fail_msg("keys: %s", e.msg);
    free(keys);
    return inst;
}

/* Closes the instance and removes its folder. */
static inline void fx_instance_free(struct instance *inst)
{
    char *dir = inst->dir;
    inst->dir = NULL;
    instance_close(inst);
    testutil_rmdir(dir);
}

/* The number `sql` (SELECT count(*) ...) returns. */
static inline int fx_count(struct instance *inst, const char *sql)
{
    struct op_err e = {0};
    struct db_stmt *st = db_stmt(inst->db, sql, &e);
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_ROW);
    int n = db_column_int(st, 0);
    db_stmt_done(inst->db, st);
    return n;
}

/* A cmocka teardown for a test whose state is a struct that starts with its instance
 * (struct fixture { struct instance *inst; ... }) and owns nothing else: frees both. */
static inline int fx_state_teardown(void **state)
{
    struct instance **inst = *state;
    fx_instance_free(*inst);
    free(*state);
    return 0;
}

#endif
