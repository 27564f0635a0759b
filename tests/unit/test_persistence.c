/* test_persistence.c - the PostgreSQL persistence read from its own file (CONF.json of
 * migrate-store), checked as setup checks it, and outpost.json switched to it with the old file
 * kept, never overwritten. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "instance/persistence.h"

static const char *const OLD_CONFIG =
    "{\n  \"configuration\": {\"persistences\": {\"default\": {\"driver\": \"sqlite\", "
    "\"path\": \"outpost.db\"}}},\n  \"role\": \"central\"\n}\n";

static int load(const char *dir, const char *text, json_t **def, struct pg_settings *pg,
                struct op_err *e)
{
    char *path = testutil_write(dir, "conf.json", text);
    int rc = persistence_load_pgsql(path, def, pg, e);
    free(path);
    return rc;
}

static void test_persistence_load_takes_setups_pgsql_block_and_fills_the_port(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    json_t *def = NULL;
    struct pg_settings pg;
    struct op_err e = {0};
    assert_int_equal(load(dir,
                          "{\"driver\": \"pgsql\", \"host\": \"db.example.org\", \"dbname\": "
                          "\"outpost\", \"user\": \"outpost\", \"password-file\": \"/etc/pw\"}",
                          &def, &pg, &e),
                     0);
    assert_string_equal(pg.host, "db.example.org");
    assert_int_equal(pg.port, 5432);
    assert_int_equal(json_integer_value(json_object_get(def, "port")), 5432);
    assert_null(pg.password);
    json_decref(def);
    testutil_rmdir(dir);
}

static void test_persistence_load_refuses_what_setup_refuses(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"[]", "must be one object"},
        {"{\"driver\": \"sqlite\", \"path\": \"x.db\"}", "driver: must be \"pgsql\""},
        {"{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"d\", \"user\": \"u\", "
         "\"password\": \"hunter2\"}",
         "never written in the configuration"},
        {"{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"d\", \"user\": \"u\", "
         "\"password-file\": \"pw\"}",
         "must be an absolute path"},
        {"{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"d;x=1\", \"user\": \"u\"}",
         "not a valid database name"},
        {"{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"d\", \"user\": \"u\", "
         "\"path\": \"x.db\"}",
         "only for the \"sqlite\" driver"},
        {"{\"driver\": \"pgsql\", ", "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *def = NULL;
        struct pg_settings pg;
        struct op_err e = {0};
        assert_int_equal(load(dir, bad[i].text, &def, &pg, &e), OP_EINPUT);
        if (!strstr(e.msg, bad[i].says))
            fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].text, e.msg, bad[i].says);
        assert_non_null(strstr(e.msg, "conf.json")); /* the file is named */
        assert_null(def);
    }
    testutil_rmdir(dir);
}

static char *read_all(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    struct op_err e = {0};
    if (fs_read_file(path, 1 << 20, &text, &len, &e) != 0)
        fail_msg("%s", e.msg);
    return text;
}

static void test_persistence_switch_keeps_the_old_file_and_never_overwrites_a_kept_one(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *cfg = testutil_write(dir, "outpost.json", OLD_CONFIG);
    struct instance inst = {0};
    inst.dir = dir;
    json_error_t jerr;
    inst.file = json_load_file(cfg, 0, &jerr);
    assert_non_null(inst.file);
    json_t *def = json_pack("{s:s, s:s, s:i, s:s, s:s}", "driver", "pgsql", "host", "h", "port",
                            5432, "dbname", "d", "user", "u");
    struct op_err e = {0};
    char *kept = NULL;
    assert_int_equal(persistence_switch(&inst, def, &kept, &e), 0);
    char *want = fs_join(dir, "outpost.json.sqlite");
    assert_string_equal(kept, want);
    char *text = read_all(kept);
    assert_string_equal(text, OLD_CONFIG); /* the old file's bytes */
    free(text);
    struct stat st;
    assert_int_equal(stat(kept, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    json_t *now = json_load_file(cfg, 0, &jerr);
    assert_non_null(now);
    json_t *d = json_object_get(
        json_object_get(json_object_get(now, "configuration"), "persistences"), "default");
    assert_string_equal(json_string_value(json_object_get(d, "driver")), "pgsql");
    assert_string_equal(json_string_value(json_object_get(d, "dbname")), "d");
    assert_null(json_object_get(d, "path"));
    assert_string_equal(json_string_value(json_object_get(now, "role")), "central");
    json_decref(now);

    /* a second switch (after going back by hand) keeps under the next free name */
    char *again = NULL;
    assert_int_equal(persistence_switch(&inst, def, &again, &e), 0);
    char *want2 = fs_join(dir, "outpost.json.sqlite.2");
    assert_string_equal(again, want2);
    text = read_all(kept);
    assert_string_equal(text, OLD_CONFIG); /* the first kept copy is untouched */
    free(text);

    free(again);
    free(want2);
    free(kept);
    free(want);
    json_decref(def);
    json_decref(inst.file);
    free(cfg);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_persistence_load_takes_setups_pgsql_block_and_fills_the_port),
        cmocka_unit_test(test_persistence_load_refuses_what_setup_refuses),
        cmocka_unit_test(
            test_persistence_switch_keeps_the_old_file_and_never_overwrites_a_kept_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
