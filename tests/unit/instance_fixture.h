/*
 * instance_fixture.h - a real instance for the tests of the application layer (src/app): a
 * central or a device made by instance_create as `outpost setup` makes it, in a fresh
 * temporary folder, with the cheapest password cost and the password policy relaxed
 * explicitly (the tests' users have short passwords such as "pw"; a test of the policy sets
 * inst->settings.password_policy to what it checks). Header-only (static inline) so that each
 * test program includes what it uses.
 */
#ifndef OUTPOST_TESTS_INSTANCE_FIXTURE_H
#define OUTPOST_TESTS_INSTANCE_FIXTURE_H

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "instance/instance.h"

/* Makes and opens a new instance of `role` ("central" or "device") in DIR/data, where DIR is
 * a new temporary folder (*dir, removed with testutil_rmdir after instance_close). The
 * super-user is "admin". With OUTPOST_TEST_DB=pgsql a central is set up on the folder's own
 * database on the test server (testutil_persistence); a device stays on SQLite. */
static inline struct instance *fx_instance(const char *role, char **dir)
{
    *dir = testutil_tmpdir();
    char *persistence = testutil_persistence(*dir, role);
    char json[2048];
    int n = snprintf(json, sizeof json,
                     "{\"role\": \"%s\", \"super-user\": {\"login\": \"admin\", \"password\": "
                     "\"a-test-password\"}, \"configuration\": {\"global\": {\"url\": "
                     "\"https://example.org/\", \"timezone\": \"UTC\", \"lang\": \"en-US\"}, "
                     "\"persistences\": {\"default\": %s}, \"security\": {\"password-hash\": "
                     "{\"opslimit\": 1, \"memlimit-kib\": 8, \"insecure-for-tests\": true}, "
                     "\"password-policy\": {\"min-length\": 1, \"refuse-login\": false, "
                     "\"refuse-common\": false}}}}",
                     role, persistence);
    assert_true(n > 0 && (size_t)n < sizeof json);
    free(persistence);
    char *setup = testutil_write(*dir, "setup.json", json);
    chmod(setup, 0600); /* it holds a password: setup warns otherwise */
    char *data = fs_join(*dir, "data");
    struct op_err e = {0};
    struct setup_request req;
    if (setup_request_load(setup, 0, &req, NULL, &e) != 0)
        fail_msg("setup_request_load: %s", e.msg);
    if (instance_create(data, &req, &e) != 0)
        fail_msg("instance_create: %s", e.msg);
    setup_request_free(&req);
    struct instance *inst = NULL;
    if (instance_open(data, &inst, &e) != 0)
        fail_msg("instance_open: %s", e.msg);
    /* the pgsql run really puts a central on the server: no SQLite file beside it */
    char *file = fs_join(data, "outpost.db");
    struct stat sb;
    assert_int_equal(stat(file, &sb) == 0, !(testutil_on_pgsql() && strcmp(role, "central") == 0));
    free(file);
    free(setup);
    free(data);
    return inst;
}

/* DIR/keys/name of an instance; the caller frees. */
static inline char *fx_key_path(const struct instance *inst, const char *name)
{
    char *keys = instance_path(inst, "keys");
    char *path = fs_join(keys, name);
    free(keys);
    return path;
}

#endif
