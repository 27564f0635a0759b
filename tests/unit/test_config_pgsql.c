/* test_config_pgsql.c - setup.json's "pgsql" persistence (instance/config.h): every key
 * validated with a message naming its JSON path, the keys of one driver refused under the
 * other, the password read from its file (the checks of a key file) or from PGPASSWORD and
 * never stored, the libpq connection string quoted so that no value can add a parameter (proved
 * with libpq's own parser; nothing connects here), and setup refusing "pgsql" until the store
 * can use it, leaving nothing behind. */
#include "testutil.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "instance/config.h"
#include "instance/instance.h"

#define P "configuration.persistences.default"

/* A setup file whose persistences.default is `persistence` (JSON text), in `dir`; the caller
 * frees the path. */
static char *setup_file(const char *dir, const char *persistence)
{
    char json[8192];
    snprintf(json, sizeof json,
             "{\"role\": \"central\", \"super-user\": {\"login\": \"admin\", \"password\": "
             "\"a-test-password\"}, \"configuration\": {\"global\": {\"url\": "
             "\"https://example.org/\", \"timezone\": \"UTC\", \"lang\": \"en-US\"}, "
             "\"persistences\": {\"default\": %s}, \"security\": {\"password-hash\": "
             "{\"opslimit\": 1, \"memlimit-kib\": 8, \"insecure-for-tests\": true}}}}",
             persistence);
    char *path = testutil_write(dir, "setup.json", json);
    chmod(path, 0600);
    return path;
}

/* Loads a setup file holding `persistence`; returns the status, the message in *e. */
static int load(const char *persistence, struct op_err *e)
{
    char *dir = testutil_tmpdir();
    char *path = setup_file(dir, persistence);
    struct setup_request req;
    memset(e, 0, sizeof *e);
    int rc = setup_request_load(path, 0, &req, NULL, e);
    if (rc == 0)
        setup_request_free(&req);
    free(path);
    testutil_rmdir(dir);
    return rc;
}

/* Expects `persistence` refused with a message containing `needle`. */
static void expect_refused(const char *persistence, const char *needle)
{
    struct op_err e;
    int rc = load(persistence, &e);
    if (rc == 0)
        fail_msg("accepted: %s", persistence);
    assert_int_equal(rc, OP_EINPUT);
    if (!strstr(e.msg, needle))
        fail_msg("for %s\n  message: %s\n  expected to contain: %s", persistence, e.msg, needle);
}

#define GOOD_PG                                                                                    \
    "{\"driver\": \"pgsql\", \"host\": \"db.example.org\", \"port\": 5433, \"dbname\": "           \
    "\"outpost\", \"user\": \"outpost\", \"password-file\": \"/etc/outpost/db-password\"}"

static void test_pgsql_setup_file_is_accepted_and_read_into_pg_settings(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *path = setup_file(dir, GOOD_PG);
    struct setup_request req;
    struct op_err e = {0};
    if (setup_request_load(path, 0, &req, NULL, &e) != 0)
        fail_msg("%s", e.msg);
    struct instance_settings s;
    assert_int_equal(config_settings(req.configuration, &s, &e), 0);
    assert_int_equal(s.driver, DB_DRIVER_PGSQL);
    assert_string_equal(s.db_driver, "pgsql");
    assert_null(s.db_path);
    assert_string_equal(s.pg.host, "db.example.org");
    assert_int_equal(s.pg.port, 5433);
    assert_string_equal(s.pg.dbname, "outpost");
    assert_string_equal(s.pg.user, "outpost");
    assert_string_equal(s.pg.password_file, "/etc/outpost/db-password");
    assert_null(s.pg.password); /* not read until the store connects */
    setup_request_free(&req);
    free(path);
    testutil_rmdir(dir);
}

static void test_pgsql_port_defaults_to_5432_in_the_normalised_configuration(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *path = setup_file(dir, "{\"driver\": \"pgsql\", \"host\": \"/run/postgresql\", "
                                 "\"dbname\": \"outpost\", \"user\": \"outpost_app\"}");
    struct setup_request req;
    struct op_err e = {0};
    if (setup_request_load(path, 0, &req, NULL, &e) != 0)
        fail_msg("%s", e.msg);
    json_t *def = json_object_get(json_object_get(req.configuration, "persistences"), "default");
    assert_int_equal(json_integer_value(json_object_get(def, "port")), 5432);
    assert_null(json_object_get(def, "path")); /* no sqlite default slipped in */
    struct instance_settings s;
    assert_int_equal(config_settings(req.configuration, &s, &e), 0);
    assert_int_equal(s.pg.port, PG_DEFAULT_PORT);
    assert_null(s.pg.password_file); /* PGPASSWORD then */
    setup_request_free(&req);
    free(path);
    testutil_rmdir(dir);
}

static void test_pgsql_required_keys_missing_are_named(void **state)
{
    (void)state;
    expect_refused("{\"driver\": \"pgsql\", \"dbname\": \"o\", \"user\": \"o\"}",
                   P ".host: missing");
    expect_refused("{\"driver\": \"pgsql\", \"host\": \"h\", \"user\": \"o\"}",
                   P ".dbname: missing");
    expect_refused("{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"o\"}",
                   P ".user: missing");
    expect_refused("{\"host\": \"h\", \"dbname\": \"o\", \"user\": \"o\"}", P ".driver: missing");
}

static void test_pgsql_keys_of_the_wrong_type_are_named(void **state)
{
    (void)state;
    expect_refused("{\"driver\": \"pgsql\", \"host\": 5, \"dbname\": \"o\", \"user\": \"o\"}",
                   P ".host: must be a string");
    expect_refused("{\"driver\": \"pgsql\", \"host\": \"h\", \"port\": \"5432\", \"dbname\": "
                   "\"o\", \"user\": \"o\"}",
                   P ".port: must be a whole number from 1 to 65535");
    expect_refused("{\"driver\": \"pgsql\", \"host\": \"h\", \"port\": 5432.5, \"dbname\": "
                   "\"o\", \"user\": \"o\"}",
                   P ".port: must be a whole number");
    expect_refused("{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": [\"o\"], \"user\": "
                   "\"o\"}",
                   P ".dbname: must be a string");
    expect_refused("{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"o\", \"user\": true}",
                   P ".user: must be a string");
    expect_refused("{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"o\", \"user\": \"o\", "
                   "\"password-file\": 7}",
                   P ".password-file: must be a string");
    expect_refused("{\"driver\": 1}", P ".driver: must be a string");
}

static void test_pgsql_values_out_of_range_are_refused(void **state)
{
    (void)state;
    const char *ok_rest = "\"dbname\": \"o\", \"user\": \"o\"";
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"driver\": \"pgsql\", \"host\": \"h\", \"port\": 0, %s}", ok_rest);
    expect_refused(buf, P ".port: must be a whole number from 1 to 65535");
    snprintf(buf, sizeof buf, "{\"driver\": \"pgsql\", \"host\": \"h\", \"port\": 65536, %s}",
             ok_rest);
    expect_refused(buf, P ".port: must be a whole number from 1 to 65535");
    snprintf(buf, sizeof buf, "{\"driver\": \"pgsql\", \"host\": \"h\", \"port\": -1, %s}",
             ok_rest);
    expect_refused(buf, P ".port");
    snprintf(buf, sizeof buf, "{\"driver\": \"pgsql\", \"host\": \"h\", \"port\": 65535, %s}",
             ok_rest);
    struct op_err e;
    assert_int_equal(load(buf, &e), 0); /* the bounds themselves are fine */
    snprintf(buf, sizeof buf, "{\"driver\": \"pgsql\", \"host\": \"h\", \"port\": 1, %s}", ok_rest);
    assert_int_equal(load(buf, &e), 0);

    snprintf(buf, sizeof buf, "{\"driver\": \"pgsql\", \"host\": \"\", %s}", ok_rest);
    expect_refused(buf, P ".host: must not be empty");
    snprintf(buf, sizeof buf, "{\"driver\": \"pgsql\", \"host\": \"db\\nexample\", %s}", ok_rest);
    expect_refused(buf, P ".host: contains a control character");
    snprintf(buf, sizeof buf, "{\"driver\": \"pgsql\", \"host\": \"db\\u001b[2J\", %s}", ok_rest);
    expect_refused(buf, P ".host: contains a control character");
    char longhost[300];
    memset(longhost, 'h', 256);
    longhost[256] = '\0';
    snprintf(buf, sizeof buf, "{\"driver\": \"pgsql\", \"host\": \"%s\", %s}", longhost, ok_rest);
    expect_refused(buf, P ".host: is too long");

    /* dbname and user: bounded identifiers, nothing libpq could read as more */
    const char *bad_names[] = {"1outpost", "out post", "a=b",   "postgresql://x",
                               "o'p",      "o;drop",   "élève", ""};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        snprintf(buf, sizeof buf,
                 "{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"%s\", \"user\": \"o\"}",
                 bad_names[i]);
        expect_refused(buf, P ".dbname: ");
        snprintf(buf, sizeof buf,
                 "{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"o\", \"user\": \"%s\"}",
                 bad_names[i]);
        expect_refused(buf, P ".user: ");
    }
    char name[80];
    memset(name, 'n', 64);
    name[64] = '\0';
    snprintf(buf, sizeof buf,
             "{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"%s\", \"user\": \"o\"}", name);
    expect_refused(buf, P ".dbname: not a valid database name (1 to 63");
    name[63] = '\0'; /* 63 is PostgreSQL's longest name */
    snprintf(buf, sizeof buf,
             "{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"%s\", \"user\": "
             "\"_app.user@server-1\"}",
             name);
    assert_int_equal(load(buf, &e), 0);

    snprintf(buf, sizeof buf,
             "{\"driver\": \"pgsql\", \"host\": \"h\", %s, \"password-file\": \"db-password\"}",
             ok_rest);
    expect_refused(buf, P ".password-file: must be an absolute path");
    snprintf(buf, sizeof buf,
             "{\"driver\": \"pgsql\", \"host\": \"h\", %s, \"password-file\": \"\"}", ok_rest);
    expect_refused(buf, P ".password-file: must not be empty");
    snprintf(buf, sizeof buf,
             "{\"driver\": \"pgsql\", \"host\": \"h\", %s, \"password-file\": \"/etc/a\\tb\"}",
             ok_rest);
    expect_refused(buf, P ".password-file: contains a control character");
}

static void test_pgsql_unknown_key_is_named_with_the_keys_it_takes(void **state)
{
    (void)state;
    expect_refused("{\"driver\": \"pgsql\", \"hots\": \"h\", \"dbname\": \"o\", \"user\": \"o\"}",
                   P ".hots: unknown key (expected one of: driver, host, port, dbname, user, "
                     "password-file)");
    expect_refused("{\"driver\": \"sqlite\", \"pth\": \"x.db\"}",
                   P ".pth: unknown key (expected one of: driver, path)");
    expect_refused("{\"driver\": \"oracle\"}",
                   P ".driver: \"oracle\" is not supported by this build (use \"sqlite\" or "
                     "\"pgsql\")");
}

static void test_keys_of_the_other_driver_are_refused_naming_the_key(void **state)
{
    (void)state;
    expect_refused("{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"o\", \"user\": \"o\", "
                   "\"path\": \"outpost.db\"}",
                   P ".path: only for the \"sqlite\" driver");
    const char *pg_only[] = {"\"host\": \"h\"", "\"port\": 5432", "\"dbname\": \"o\"",
                             "\"user\": \"o\"", "\"password-file\": \"/etc/pw\""};
    const char *names[] = {"host", "port", "dbname", "user", "password-file"};
    for (size_t i = 0; i < 5; i++) {
        char buf[256], needle[128];
        snprintf(buf, sizeof buf, "{\"driver\": \"sqlite\", \"path\": \"outpost.db\", %s}",
                 pg_only[i]);
        snprintf(needle, sizeof needle, P ".%s: only for the \"pgsql\" driver", names[i]);
        expect_refused(buf, needle);
    }
    /* a password written into the configuration, under either driver */
    expect_refused("{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"o\", \"user\": \"o\", "
                   "\"password\": \"s3cret-in-clear\"}",
                   P ".password: the database password is never written in the configuration");
    struct op_err e;
    load("{\"driver\": \"sqlite\", \"password\": \"s3cret-in-clear\"}", &e);
    assert_non_null(strstr(e.msg, P ".password: the database password is never written"));
    assert_null(strstr(e.msg, "s3cret-in-clear"));
}

/* ---- the password ---- */

static struct pg_settings pg_with_file(const char *file)
{
    struct pg_settings s = {.host = "h", .port = 5432, .dbname = "o", .user = "o"};
    s.password_file = file;
    return s;
}

static void expect_password_refused(const char *file, int code, const char *needle)
{
    struct pg_settings s = pg_with_file(file);
    struct op_err e = {0};
    assert_int_equal(pg_settings_read_password(&s, &e), code);
    assert_null(s.password);
    if (!strstr(e.msg, needle))
        fail_msg("message: %s\nexpected to contain: %s", e.msg, needle);
}

static void test_password_file_is_one_line_with_its_newline_stripped(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    const char *contents[] = {"pw one\n", "pw one\r\n", "pw one"};
    for (size_t i = 0; i < 3; i++) {
        char *file = testutil_write(dir, "pw", contents[i]);
        chmod(file, 0600);
        struct pg_settings s = pg_with_file(file);
        struct op_err e = {0};
        if (pg_settings_read_password(&s, &e) != 0)
            fail_msg("%s", e.msg);
        assert_string_equal(s.password, "pw one");
        pg_settings_free(&s);
        assert_null(s.password);
        free(file);
    }
    testutil_rmdir(dir);
}

static void test_password_file_missing_open_to_others_linked_or_empty_is_refused(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *missing = fs_join(dir, "no-such-file");
    expect_password_refused(missing, OP_ENOTFOUND, "no such database password file");
    expect_password_refused(missing, OP_ENOTFOUND, missing);

    char *open = testutil_write(dir, "open", "the-password\n");
    chmod(open, 0644);
    char fix[4200];
    snprintf(fix, sizeof fix, "run `chmod 600 %s`", open);
    expect_password_refused(open, OP_ESTATE, fix);
    expect_password_refused(open, OP_ESTATE, P ".password-file: ");
    chmod(open, 0640); /* group-readable is refused as well */
    expect_password_refused(open, OP_ESTATE, fix);

    char *target = testutil_write(dir, "target", "the-password\n");
    chmod(target, 0600);
    char *link = fs_join(dir, "link");
    assert_int_equal(symlink(target, link), 0);
    expect_password_refused(link, OP_ESTATE, "is a symbolic link");

    char *empty = testutil_write(dir, "empty", "");
    chmod(empty, 0600);
    expect_password_refused(empty, OP_EINPUT, "is empty");
    char *blank = testutil_write(dir, "blank", "\n");
    chmod(blank, 0600);
    expect_password_refused(blank, OP_EINPUT, "is empty");

    char *two = testutil_write(dir, "two", "first-line-secret\nsecond\n");
    chmod(two, 0600);
    expect_password_refused(two, OP_EINPUT, "more than one line");
    struct pg_settings s = pg_with_file(two);
    struct op_err e = {0};
    assert_int_not_equal(pg_settings_read_password(&s, &e), 0);
    assert_null(strstr(e.msg, "first-line-secret")); /* never in a message */

    char *folder = fs_join(dir, "folder");
    assert_int_equal(mkdir(folder, 0700), 0);
    expect_password_refused(folder, OP_EINPUT, "not a regular file");

    char big[PG_PASSWORD_MAX + 10];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *huge = testutil_write(dir, "huge", big);
    chmod(huge, 0600);
    expect_password_refused(huge, OP_EINPUT, "over the limit");

    free(missing);
    free(open);
    free(target);
    free(link);
    free(empty);
    free(blank);
    free(two);
    free(folder);
    free(huge);
    testutil_rmdir(dir);
}

static void test_password_comes_from_PGPASSWORD_only_without_a_password_file(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    setenv("PGPASSWORD", "from-the-environment", 1);
    struct pg_settings s = pg_with_file(NULL);
    struct op_err e = {0};
    assert_int_equal(pg_settings_read_password(&s, &e), 0);
    assert_string_equal(s.password, "from-the-environment");
    pg_settings_free(&s);

    /* a password file, when named, wins over the environment */
    char *file = testutil_write(dir, "pw", "from-the-file\n");
    chmod(file, 0600);
    s = pg_with_file(file);
    assert_int_equal(pg_settings_read_password(&s, &e), 0);
    assert_string_equal(s.password, "from-the-file");
    pg_settings_free(&s);
    /* ... and a named file that is missing is an error, not a reason to use the environment */
    char *missing = fs_join(dir, "missing");
    s = pg_with_file(missing);
    assert_int_equal(pg_settings_read_password(&s, &e), OP_ENOTFOUND);
    assert_null(s.password);

    /* neither */
    unsetenv("PGPASSWORD");
    s = pg_with_file(NULL);
    assert_int_equal(pg_settings_read_password(&s, &e), OP_ESTATE);
    assert_null(s.password);
    assert_non_null(strstr(e.msg, "no database password"));
    assert_non_null(strstr(e.msg, "password-file"));
    assert_non_null(strstr(e.msg, "PGPASSWORD"));
    setenv("PGPASSWORD", "", 1); /* empty counts as unset */
    assert_int_equal(pg_settings_read_password(&s, &e), OP_ESTATE);
    unsetenv("PGPASSWORD");
    free(file);
    free(missing);
    testutil_rmdir(dir);
}

/* What setup would copy into DIR/outpost.json (the normalised configuration) names the
 * password file and holds neither the file's password nor PGPASSWORD's. */
static void test_the_stored_configuration_names_the_password_file_not_the_password(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *pwfile = testutil_write(dir, "db-password", "file-secret-4711\n");
    chmod(pwfile, 0600);
    setenv("PGPASSWORD", "env-secret-4712", 1);
    char pers[4200];
    snprintf(pers, sizeof pers,
             "{\"driver\": \"pgsql\", \"host\": \"h\", \"dbname\": \"o\", \"user\": \"o\", "
             "\"password-file\": \"%s\"}",
             pwfile);
    char *path = setup_file(dir, pers);
    struct setup_request req;
    struct op_err e = {0};
    if (setup_request_load(path, 0, &req, NULL, &e) != 0)
        fail_msg("%s", e.msg);
    struct instance_settings s;
    assert_int_equal(config_settings(req.configuration, &s, &e), 0);
    assert_int_equal(pg_settings_read_password(&s.pg, &e), 0);
    assert_string_equal(s.pg.password, "file-secret-4711");
    char *stored = json_dumps(req.configuration, JSON_SORT_KEYS);
    assert_non_null(strstr(stored, pwfile));
    assert_null(strstr(stored, "file-secret-4711"));
    assert_null(strstr(stored, "env-secret-4712"));
    assert_null(strstr(stored, "\"password\""));
    free(stored);
    pg_settings_free(&s.pg);
    setup_request_free(&req);
    unsetenv("PGPASSWORD");
    free(path);
    free(pwfile);
    testutil_rmdir(dir);
}

/* ---- the connection string ---- */

/* libpq's own reading of `conninfo`: the value of `key`, or NULL; the caller frees. */
static char *libpq_value(const char *conninfo, const char *key)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (!opts)
        fail_msg("libpq cannot parse %s: %s", conninfo, err ? err : "?");
    char *v = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, key) == 0 && o->val)
            v = strdup(o->val);
    PQconninfoFree(opts);
    return v;
}

static void test_conninfo_quotes_every_value(void **state)
{
    (void)state;
    struct pg_settings s = {
        .host = "db.example.org", .port = 5432, .dbname = "outpost", .user = "outpost"};
    char *ci = NULL;
    struct op_err e = {0};
    assert_int_equal(pg_conninfo(&s, &ci, &e), 0);
    assert_string_equal(ci, "host='db.example.org' port='5432' dbname='outpost' user='outpost'");
    pg_conninfo_free(ci);

    s.password = (char *)"pw";
    assert_int_equal(pg_conninfo(&s, &ci, &e), 0);
    assert_string_equal(ci, "host='db.example.org' port='5432' dbname='outpost' user='outpost' "
                            "password='pw'");
    pg_conninfo_free(ci);

    s.password = (char *)"it's a \\ test = x";
    assert_int_equal(pg_conninfo(&s, &ci, &e), 0);
    assert_non_null(strstr(ci, "password='it\\'s a \\\\ test = x'"));
    char *v = libpq_value(ci, "password");
    assert_string_equal(v, "it's a \\ test = x");
    free(v);
    pg_conninfo_free(ci);
}

/* A value that tries to close its quotes and add parameters stays one value for libpq. */
static void test_conninfo_values_cannot_add_parameters(void **state)
{
    (void)state;
    const char *evil[] = {"x' dbname='evil' sslmode='disable",
                          "x\\' dbname=\\'evil",
                          "x\\",
                          "\\'",
                          "' '",
                          "a b\tc=d",
                          "'",
                          "\\\\'\\"};
    for (size_t i = 0; i < sizeof evil / sizeof *evil; i++) {
        struct pg_settings s = {.host = "/run/postgresql",
                                .port = 6543,
                                .dbname = "outpost",
                                .user = "outpost",
                                .password = (char *)evil[i]};
        char *ci = NULL;
        struct op_err e = {0};
        assert_int_equal(pg_conninfo(&s, &ci, &e), 0);
        char *pw = libpq_value(ci, "password");
        char *db = libpq_value(ci, "dbname");
        char *ssl = libpq_value(ci, "sslmode");
        char *host = libpq_value(ci, "host");
        char *port = libpq_value(ci, "port");
        if (!pw || strcmp(pw, evil[i]) != 0)
            fail_msg("password %s came back as %s from %s", evil[i], pw ? pw : "(none)", ci);
        assert_string_equal(db, "outpost");
        assert_string_equal(host, "/run/postgresql");
        assert_string_equal(port, "6543");
        /* sslmode is only what libpq defaults to, never "disable" from the password */
        assert_true(ssl == NULL || strcmp(ssl, "disable") != 0);
        free(pw);
        free(db);
        free(ssl);
        free(host);
        free(port);
        pg_conninfo_free(ci);
    }
}

/* ---- setup and open on a server that cannot be reached ---- */

static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

#define UNREACHABLE_PG                                                                             \
    "{\"driver\": \"pgsql\", \"host\": \"127.0.0.1\", \"port\": 1, \"dbname\": \"outpost\", "      \
    "\"user\": \"outpost\"}"

/* The PostgreSQL store is used (setup no longer refuses "pgsql"): with nothing listening, setup
 * says it cannot reach the server, shows no password, and makes nothing; an outpost.json
 * naming that server does not open, and makes no database file on the way. A real server is
 * tested by unit/test_db_pgsql and cli/setup_pgsql. */
static void test_setup_on_an_unreachable_server_says_so_and_creates_nothing(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    char *path = setup_file(dir, UNREACHABLE_PG);
    struct setup_request req;
    struct op_err e = {0};
    if (setup_request_load(path, 0, &req, NULL, &e) != 0)
        fail_msg("%s", e.msg);
    setenv("PGPASSWORD", "db-secret-in-env", 1);
    char *data = fs_join(dir, "data");
    assert_int_equal(instance_create(data, &req, &e), OP_EDB);
    assert_non_null(strstr(e.msg, "cannot reach the PostgreSQL server"));
    assert_null(strstr(e.msg, "db-secret"));
    assert_false(fs_exists(data));
    assert_int_equal(dir_entries(dir), 1); /* setup.json alone: no .outpost-setup-* folder */

    /* an empty folder given for the instance stays as it was */
    assert_int_equal(mkdir(data, 0755), 0);
    assert_int_equal(instance_create(data, &req, &e), OP_EDB);
    assert_int_equal(dir_entries(data), 0);
    assert_int_equal(dir_entries(dir), 2);

    json_t *file =
        json_pack("{s:i, s:s, s:s, s:O}", "format", 1, "role", "central", "instance_id",
                  "0b3c7c2e-8f0a-4d8e-9a57-3c1d2e4f5a6b", "configuration", req.configuration);
    char *cfg = fs_join(data, INSTANCE_CONFIG_FILE);
    assert_int_equal(json_dump_file(file, cfg, 0), 0);
    json_decref(file);
    struct instance *inst = NULL;
    memset(&e, 0, sizeof e);
    assert_int_equal(instance_open(data, &inst, &e), OP_EDB);
    assert_null(inst);
    assert_non_null(strstr(e.msg, "cannot reach the PostgreSQL server"));
    assert_null(strstr(e.msg, "db-secret"));
    assert_int_equal(dir_entries(data), 1); /* no database file made on the way */
    unsetenv("PGPASSWORD");

    free(cfg);
    free(data);
    setup_request_free(&req);
    free(path);
    testutil_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pgsql_setup_file_is_accepted_and_read_into_pg_settings),
        cmocka_unit_test(test_pgsql_port_defaults_to_5432_in_the_normalised_configuration),
        cmocka_unit_test(test_pgsql_required_keys_missing_are_named),
        cmocka_unit_test(test_pgsql_keys_of_the_wrong_type_are_named),
        cmocka_unit_test(test_pgsql_values_out_of_range_are_refused),
        cmocka_unit_test(test_pgsql_unknown_key_is_named_with_the_keys_it_takes),
        cmocka_unit_test(test_keys_of_the_other_driver_are_refused_naming_the_key),
        cmocka_unit_test(test_password_file_is_one_line_with_its_newline_stripped),
        cmocka_unit_test(test_password_file_missing_open_to_others_linked_or_empty_is_refused),
        cmocka_unit_test(test_password_comes_from_PGPASSWORD_only_without_a_password_file),
        cmocka_unit_test(test_the_stored_configuration_names_the_password_file_not_the_password),
        cmocka_unit_test(test_conninfo_quotes_every_value),
        cmocka_unit_test(test_conninfo_values_cannot_add_parameters),
        cmocka_unit_test(test_setup_on_an_unreachable_server_says_so_and_creates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
