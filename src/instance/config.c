/*
 * config.c - validation of setup.json into a normalised instance configuration (config.h).
 *
 * The validator is strict with Outpost's own file: an unknown key is an error (a typo such as
 * "timzone" must not be silently ignored). TAO's own seed file (configuration.generis) is read
 * as it is: its database becomes ours, and the keys Outpost has no use for are listed as
 * ignored. Either way every problem of the file is found in one pass, each message starting
 * with the JSON path of the offending value.
 */
#include "instance/config.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "base/log.h"

const char *instance_role_name(enum instance_role role)
{
    return role == ROLE_CENTRAL ? "central" : role == ROLE_DEVICE ? "device" : "unknown";
}

/* ---- the check of one file: every problem, and in a TAO file every key not used ----
 *
 * A file's problems are all listed at once (an operator fixes them in one pass), each
 * starting with the JSON path it is about; a check goes on after a problem wherever what
 * follows does not depend on it. */

struct check {
    json_t *problems; /* strings "path: what is wrong", in the order found */
    json_t *ignored;  /* strings: the JSON paths of keys a TAO file holds that are not used */
    int tao;          /* the file is TAO's own (configuration.generis): keys Outpost does not
                       * use are ignored (listed), not refused */
};

static void problem(struct check *ck, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct check *ck, const char *fmt, ...)
{
    char msg[OP_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* the message quotes values of a JSON file (UTF-8), but may be cut in a character */
    json_array_append_new(ck->problems, json_string_nocheck(msg));
}

/* out = "at.key" (cut to fit: paths of a setup file are short) */
static void path_of(char *out, size_t n, const char *at, const char *key)
{
    int w = snprintf(out, n, "%s%s%s", at, at[0] ? "." : "", key);
    if (w < 0)
        out[0] = '\0';
}

static void ignore(struct check *ck, const char *path, const char *key)
{
    char full[1024];
    path_of(full, sizeof full, path, key);
    json_array_append_new(ck->ignored, json_string_nocheck(full));
}

static int key_in(const char *key, const char *const *list);

/* Lists as ignored every key of `obj` (at `path`) not in `used`. */
static void ignore_others(struct check *ck, json_t *obj, const char *path, const char *const *used)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (!key_in(key, used))
            ignore(ck, path, key);
    }
}

static size_t problem_count(const struct check *ck)
{
    return json_array_size(ck->problems);
}

static int check_init(struct check *ck)
{
    ck->problems = json_array();
    ck->ignored = json_array();
    ck->tao = 0;
    if (!ck->problems || !ck->ignored)
        abort();
    return 0;
}

static void check_free(struct check *ck)
{
    json_decref(ck->problems);
    json_decref(ck->ignored);
    memset(ck, 0, sizeof *ck);
}

/* The problems found as one message in `e` (joined by "; "), prefixed with `prefix` when not
 * NULL; 0 when there is none. */
static int check_to_err(const struct check *ck, const char *prefix, struct op_err *e)
{
    size_t n = problem_count(ck);
    if (n == 0)
        return 0;
    char msg[OP_ERR_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used + 1 < sizeof msg; i++)
        used += (size_t)snprintf(msg + used, sizeof msg - used, "%s%s", i ? "; " : "",
                                 json_string_value(json_array_get(ck->problems, i)));
    if (prefix)
        return err_set(e, OP_EINPUT, "%s: %s", prefix, msg);
    return err_set(e, OP_EINPUT, "%s", msg);
}

/* ---- small validation helpers: each names the path it checks ---- */

/* Each key of `obj` not in `allowed` is a problem (a typo must not be silently ignored), or in
 * a TAO file a key ignored. */
static void check_keys(struct check *ck, json_t *obj, const char *path, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                ok = 1;
        if (ok)
            continue;
        if (ck->tao) {
            ignore(ck, path, key);
            continue;
        }
        char list[256] = "";
        for (const char *const *a = allowed; *a; a++) {
            strncat(list, *a, sizeof list - strlen(list) - 1);
            if (a[1])
                strncat(list, ", ", sizeof list - strlen(list) - 1);
        }
        problem(ck, "%s%s%s: unknown key (expected one of: %s)", path, path[0] ? "." : "", key,
                list);
    }
}

/* The object at parent[key]; NULL when absent (a problem when `required`) or not an object (a
 * problem). */
static json_t *get_object(struct check *ck, json_t *parent, const char *key, const char *path,
                          int required)
{
    json_t *v = json_object_get(parent, key);
    if (!v) {
        if (required)
            problem(ck, "%s: missing (an object is required)", path);
        return NULL;
    }
    if (!json_is_object(v)) {
        problem(ck, "%s: must be an object", path);
        return NULL;
    }
    return v;
}

/* The string at parent[key]; NULL when absent (a problem when `required`), not a string, or
 * empty when required (problems). */
static const char *get_string(struct check *ck, json_t *parent, const char *key, const char *path,
                              int required)
{
    json_t *v = json_object_get(parent, key);
    if (!v) {
        if (required)
            problem(ck, "%s: missing (a string is required)", path);
        return NULL;
    }
    if (!json_is_string(v)) {
        problem(ck, "%s: must be a string", path);
        return NULL;
    }
    const char *s = json_string_value(v);
    if (required && s[0] == '\0') {
        problem(ck, "%s: must not be empty", path);
        return NULL;
    }
    return s;
}

static int timezone_is_known(const char *tz)
{
    if (!tz[0] || tz[0] == '/' || strstr(tz, "..") || strlen(tz) > 128)
        return 0;
    for (const char *p = tz; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("/_+-", *p)))
            return 0;
    if (strcmp(tz, "UTC") == 0)
        return 1;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", tz);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int lang_is_valid(const char *s)
{
    /* BCP 47 shape: 2-3 letters, then -subtags of 1-8 alphanumerics. */
    size_t i = 0;
    while (isalpha((unsigned char)s[i]))
        i++;
    if (i < 2 || i > 3)
        return 0;
    while (s[i] == '-') {
        size_t j = ++i;
        while (isalnum((unsigned char)s[i]))
            i++;
        if (i - j < 1 || i - j > 8)
            return 0;
    }
    return s[i] == '\0';
}

/* parent[key] as a whole number in [min, max], `def` when absent; -1 (a problem) otherwise.
 * `digits_too` accepts a string of digits as well (TAO's PHP files write "5432"). */
static int get_uint(struct check *ck, json_t *parent, const char *key, const char *path,
                    json_int_t min, json_int_t max, json_int_t def, json_int_t *out, int digits_too)
{
    json_t *v = json_object_get(parent, key);
    *out = def;
    if (!v)
        return 0;
    json_int_t n = -1;
    int ok = json_is_integer(v);
    if (ok)
        n = json_integer_value(v);
    else if (digits_too && json_is_string(v)) {
        const char *s = json_string_value(v);
        ok = s[0] && strlen(s) <= 18 && strspn(s, "0123456789") == strlen(s);
        if (ok)
            n = (json_int_t)strtoll(s, NULL, 10);
    }
    if (!ok || n < min || n > max) {
        problem(ck, "%s: must be a whole number from %lld to %lld", path, (long long)min,
                (long long)max);
        return -1;
    }
    *out = n;
    return 0;
}

/* ---- persistences.default: "sqlite" or "pgsql" ---- */

#define PERSISTENCE "configuration.persistences.default"

static const char *const sqlite_keys[] = {"driver", "path", NULL};
static const char *const pgsql_keys[] = {"driver", "host",          "port", "dbname",
                                         "user",   "password-file", NULL};

static int key_in(const char *key, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, key) == 0)
            return 1;
    return 0;
}

/* Refuses a key of the other driver, and a password written in the file, each by its own
 * message; then any other unknown key (check_keys lists those of `driver`). */
static void check_persistence_keys(struct check *ck, json_t *def, const char *driver)
{
    const char *key;
    json_t *v;
    int pgsql = strcmp(driver, "pgsql") == 0;
    json_t *rest = json_object();
    json_object_foreach(def, key, v)
    {
        if (strcmp(key, "password") == 0 || strcmp(key, "passwd") == 0)
            problem(ck,
                    PERSISTENCE ".%s: the database password is never written in the "
                                "configuration; put it alone in a file (mode 600) named by "
                                "\"password-file\", or in the PGPASSWORD environment variable",
                    key);
        else if (pgsql && key_in(key, sqlite_keys) && !key_in(key, pgsql_keys))
            problem(ck,
                    PERSISTENCE ".%s: only for the \"sqlite\" driver; a \"pgsql\" "
                                "database is named by host, port and dbname",
                    key);
        else if (!pgsql && key_in(key, pgsql_keys) && !key_in(key, sqlite_keys))
            problem(ck,
                    PERSISTENCE ".%s: only for the \"pgsql\" driver (this one is "
                                "\"sqlite\", whose database is a file named by path)",
                    key);
        else
            json_object_set(rest, key, v);
    }
    check_keys(ck, rest, PERSISTENCE, pgsql ? pgsql_keys : sqlite_keys);
    json_decref(rest);
}

/* A database or role name: 1..PG_NAME_MAX bytes of ASCII letters, digits, '_', '.', '@' and
 * '-', starting with a letter or '_'. PostgreSQL accepts more inside double quotes, but these
 * names are typed by operators and reach libpq, where a dbname holding '=' or "://" would be
 * read as a whole connection string: the narrow rule keeps both simple. */
static int pg_name_is_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PG_NAME_MAX)
        return 0;
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("_.@-", *p)))
            return 0;
    return 1;
}

/* `at` is the JSON path of the object read (PERSISTENCE, or where a TAO file has it). */
static const char *get_pg_name(struct check *ck, json_t *def, const char *at, const char *key,
                               const char *what)
{
    char path[512];
    path_of(path, sizeof path, at, key);
    const char *s = get_string(ck, def, key, path, 1);
    if (!s)
        return NULL;
    if (!pg_name_is_valid(s)) {
        problem(ck,
                "%s: not a valid %s name (1 to %d ASCII letters, digits, '_', '.', '@' or '-', "
                "starting with a letter or '_')",
                path, what, PG_NAME_MAX);
        return NULL;
    }
    return s;
}

/* The values of a pgsql persistence at `at`, without its keys' check; every problem listed. */
static void pg_read_values(struct check *ck, json_t *def, const char *at, struct pg_settings *out)
{
    char path[512];
    path_of(path, sizeof path, at, "host");
    const char *host = get_string(ck, def, "host", path, 1);
    if (host) {
        enum text_fault f = text_check(host, PG_HOST_MAX);
        if (f != TEXT_OK) {
            problem(ck, "%s: %s%s", path, text_fault_message(f),
                    f == TEXT_TOO_LONG ? " (at most 255 bytes)" : "");
            host = NULL;
        }
    }
    json_int_t port = 0;
    path_of(path, sizeof path, at, "port");
    get_uint(ck, def, "port", path, 1, 65535, PG_DEFAULT_PORT, &port, ck->tao);
    const char *dbname = get_pg_name(ck, def, at, "dbname", "database");
    const char *user = get_pg_name(ck, def, at, "user", "role");
    const char *pwfile = NULL;
    path_of(path, sizeof path, at, "password-file");
    if (json_object_get(def, "password-file")) {
        pwfile = get_string(ck, def, "password-file", path, 1);
        enum text_fault f = pwfile ? text_check(pwfile, PG_PATH_MAX) : TEXT_OK;
        if (f != TEXT_OK) {
            problem(ck, "%s: %s", path, text_fault_message(f));
            pwfile = NULL;
        } else if (pwfile && pwfile[0] != '/') {
            problem(ck,
                    "%s: must be an absolute path (one that starts with /), such as "
                    "\"/etc/outpost/db-password\"",
                    path);
            pwfile = NULL;
        }
    }
    out->host = host;
    out->port = (unsigned)port;
    out->dbname = dbname;
    out->user = user;
    out->password_file = pwfile;
}

static void pg_parse(struct check *ck, json_t *def, struct pg_settings *out)
{
    memset(out, 0, sizeof *out);
    check_persistence_keys(ck, def, "pgsql");
    pg_read_values(ck, def, PERSISTENCE, out);
}

int pg_settings_parse(json_t *def, struct pg_settings *out, struct op_err *e)
{
    struct check ck;
    check_init(&ck);
    pg_parse(&ck, def, out);
    int rc = check_to_err(&ck, NULL, e);
    check_free(&ck);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* Validates persistences.default and fills in its defaults in place. */
static void normalise_persistence(struct check *ck, json_t *def)
{
    const char *driver = get_string(ck, def, "driver", PERSISTENCE ".driver", 1);
    if (!driver)
        return;
    if (strcmp(driver, "pgsql") == 0) {
        struct pg_settings pg;
        size_t before = problem_count(ck);
        pg_parse(ck, def, &pg);
        if (problem_count(ck) == before)
            json_object_set_new(def, "port", json_integer((json_int_t)pg.port));
        return;
    }
    if (strcmp(driver, "sqlite") != 0) {
        problem(ck,
                PERSISTENCE ".driver: \"%s\" is not supported by this build (use "
                            "\"sqlite\" or \"pgsql\")",
                driver);
        return;
    }
    check_persistence_keys(ck, def, driver);
    const char *path = get_string(ck, def, "path", PERSISTENCE ".path", 0);
    if (!path && json_object_get(def, "path"))
        return;
    if (!path || !path[0])
        json_object_set_new(def, "path", json_string("outpost.db"));
}

/* ---- TAO's own setup file ----
 *
 * TAO's seed file (tao/scripts/taoSetup) names its database in
 * configuration.generis.persistences.default, either directly or inside a configurable
 * service ({"type": "configurableService", "class": ..., "options": {"persistences": ...}}),
 * with PDO's driver names and the password in the file. It becomes ours: "pdo_pgsql" a
 * "pgsql" persistence, "pdo_sqlite" a "sqlite" one; its password is kept apart (struct
 * setup_request's db_password) for setup to write into a private file of the instance. The
 * persistences other than "default" (cache, key-value stores) and the keys Outpost has no use
 * for are listed as ignored. */

#define TAO_PERSISTENCES "configuration.generis.persistences"

/* The pgsql or sqlite persistence of TAO's `def` (at `at`) as ours, in *out (new), and its
 * password in *password (copied into guarded memory, NULL when none). */
static void tao_persistence(struct check *ck, json_t *def, const char *at, json_t **out,
                            char **password)
{
    char path[512];
    path_of(path, sizeof path, at, "driver");
    const char *driver = get_string(ck, def, "driver", path, 1);
    if (!driver)
        return;
    if (strcmp(driver, "dbal") == 0) {
        /* {"driver": "dbal", "connection": {"driver": "pdo_pgsql", ...}}, or a read replica
         * set up as {"connection": {"driver": ..., "master": {...}, "slaves": [...]}}: the
         * master is the database; Outpost reads no replica. */
        char cpath[512];
        path_of(cpath, sizeof cpath, at, "connection");
        json_t *conn = get_object(ck, def, "connection", cpath, 1);
        static const char *const dbal_keys[] = {"driver", "connection", NULL};
        ignore_others(ck, def, at, dbal_keys);
        if (!conn)
            return;
        path_of(path, sizeof path, cpath, "driver");
        const char *inner = get_string(ck, conn, "driver", path, 1);
        if (!inner)
            return;
        if (strcmp(inner, "dbal") == 0) {
            problem(ck, "%s: \"dbal\" inside \"dbal\": name the database's own driver", path);
            return;
        }
        json_t *master = json_object_get(conn, "master");
        json_t *flat = json_deep_copy(json_is_object(master) ? master : conn);
        json_object_set_new(flat, "driver", json_string(inner));
        if (json_is_object(master)) {
            static const char *const conn_keys[] = {"driver", "master", NULL};
            ignore_others(ck, conn, cpath, conn_keys);
        }
        char mpath[600];
        path_of(mpath, sizeof mpath, cpath, json_is_object(master) ? "master" : "");
        if (!json_is_object(master))
            memcpy(mpath, cpath, strlen(cpath) + 1);
        tao_persistence(ck, flat, mpath, out, password);
        /* the values read point into `flat`: *out holds copies */
        json_decref(flat);
        return;
    }
    int pgsql = strcmp(driver, "pdo_pgsql") == 0 || strcmp(driver, "pgsql") == 0;
    int sqlite = strcmp(driver, "pdo_sqlite") == 0 || strcmp(driver, "sqlite") == 0;
    if (!pgsql && !sqlite) {
        const char *name = strcmp(driver, "pdo_mysql") == 0    ? " (MySQL)"
                           : strcmp(driver, "pdo_sqlsrv") == 0 ? " (SQL Server)"
                           : strcmp(driver, "pdo_oci") == 0    ? " (Oracle)"
                                                               : "";
        problem(ck,
                "%s: \"%s\"%s is not a database Outpost runs on: use \"pdo_pgsql\" "
                "(PostgreSQL) or \"pdo_sqlite\" (a SQLite file)",
                path, driver, name);
        return;
    }
    json_t *ours = json_object();
    if (sqlite) {
        /* TAO (Doctrine's DBAL) names a SQLite file by "path"; its installer by "dbname" */
        static const char *const used[] = {"driver", "path", "dbname", NULL};
        const char *file = json_object_get(def, "path") ? "path" : "dbname";
        path_of(path, sizeof path, at, file);
        const char *name = get_string(ck, def, file, path, 0);
        json_object_set_new(ours, "driver", json_string("sqlite"));
        json_object_set_new(ours, "path", json_string(name && name[0] ? name : "outpost.db"));
        static const char *const with_path[] = {"driver", "path", NULL};
        ignore_others(ck, def, at, file[0] == 'p' ? with_path : used);
        *out = ours;
        return;
    }
    static const char *const used[] = {"driver", "host",     "port",          "dbname",
                                       "user",   "password", "password-file", NULL};
    ignore_others(ck, def, at, used);
    struct pg_settings pg;
    memset(&pg, 0, sizeof pg);
    size_t before = problem_count(ck);
    pg_read_values(ck, def, at, &pg);
    path_of(path, sizeof path, at, "password");
    const char *pw = get_string(ck, def, "password", path, 0);
    if (pw && pw[0] && json_object_get(def, "password-file"))
        problem(ck, "%s: give the password or password-file, not both", path);
    else if (pw && strlen(pw) > PG_PASSWORD_MAX)
        problem(ck, "%s: longer than %d bytes", path, PG_PASSWORD_MAX);
    else if (pw && memchr(pw, '\n', strlen(pw)))
        problem(ck, "%s: holds a line break", path);
    if (problem_count(ck) != before) {
        json_decref(ours);
        return;
    }
    json_object_set_new(ours, "driver", json_string("pgsql"));
    json_object_set_new(ours, "host", json_string(pg.host));
    json_object_set_new(ours, "port", json_integer((json_int_t)pg.port));
    json_object_set_new(ours, "dbname", json_string(pg.dbname));
    json_object_set_new(ours, "user", json_string(pg.user));
    if (pg.password_file)
        json_object_set_new(ours, "password-file", json_string(pg.password_file));
    if (pw && pw[0]) {
        size_t n = strlen(pw);
        char *copy = sodium_malloc(n + 1);
        if (!copy)
            abort();
        memcpy(copy, pw, n + 1);
        *password = copy;
    }
    *out = ours;
}

/* configuration.generis of a TAO file: its persistences.default becomes
 * conf.persistences.default; everything else in it is ignored. */
static void tao_generis(struct check *ck, json_t *conf, json_t *generis, char **password)
{
    static const char *const generis_keys[] = {"persistences", NULL};
    static const char *const service_keys[] = {"options", NULL};
    static const char *const options_keys[] = {"persistences", NULL};
    static const char *const default_only[] = {"default", NULL};
    ignore_others(ck, generis, "configuration.generis", generis_keys);
    json_t *pers = get_object(ck, generis, "persistences", TAO_PERSISTENCES, 1);
    if (!pers)
        return;
    char at[256] = TAO_PERSISTENCES;
    const char *type = json_string_value(json_object_get(pers, "type"));
    if (type && strcmp(type, "configurableService") == 0) {
        ignore_others(ck, pers, at, service_keys);
        json_t *opts = get_object(ck, pers, "options", TAO_PERSISTENCES ".options", 1);
        if (!opts)
            return;
        ignore_others(ck, opts, TAO_PERSISTENCES ".options", options_keys);
        snprintf(at, sizeof at, "%s", TAO_PERSISTENCES ".options.persistences");
        if (!(pers = get_object(ck, opts, "persistences", at, 1)))
            return;
    }
    ignore_others(ck, pers, at, default_only);
    char def_at[300];
    path_of(def_at, sizeof def_at, at, "default");
    json_t *def = get_object(ck, pers, "default", def_at, 1);
    if (!def)
        return;
    json_t *ours = NULL;
    tao_persistence(ck, def, def_at, &ours, password);
    if (ours) {
        json_t *p = json_object();
        json_object_set_new(p, "default", ours);
        json_object_set_new(conf, "persistences", p);
    }
}

/* Validates `configuration` and fills in defaults in place; then keeps only what Outpost uses
 * (a TAO file's other keys are listed in ck->ignored). */
/* ---- security.password-policy (auth/policy.h) ---- */

#define POLICY "configuration.security.password-policy"

/* parent[key] as true or false, `def` when absent; -1 (a problem) otherwise. */
static int get_bool(struct check *ck, json_t *parent, const char *key, const char *path, int def,
                    int *out)
{
    json_t *v = json_object_get(parent, key);
    *out = def;
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        problem(ck, "%s: must be true or false", path);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

/* The policy of `security` (absent: the defaults) into *out; -1 when it has problems. */
static int read_password_policy(struct check *ck, json_t *security, struct password_policy *out)
{
    static const char *const policy_keys[] = {"min-length", "refuse-login", "refuse-common", NULL};
    password_policy_default(out);
    size_t before = problem_count(ck);
    json_t *p = get_object(ck, security, "password-policy", POLICY, 0);
    if (!p)
        return problem_count(ck) > before ? -1 : 0;
    check_keys(ck, p, POLICY, policy_keys);
    json_int_t min = 0;
    get_uint(ck, p, "min-length", POLICY ".min-length", 1, PASSWORD_POLICY_MAX_MIN_LENGTH,
             PASSWORD_POLICY_DEFAULT_MIN_LENGTH, &min, 0);
    get_bool(ck, p, "refuse-login", POLICY ".refuse-login", 1, &out->refuse_login);
    get_bool(ck, p, "refuse-common", POLICY ".refuse-common", 1, &out->refuse_common);
    out->min_length = (int)min;
    return problem_count(ck) > before ? -1 : 0;
}

/* Checks security.password-policy and writes it whole, defaults filled in, so that
 * outpost.json shows the policy in force. */
static void normalise_password_policy(struct check *ck, json_t *security)
{
    struct password_policy pp;
    if (read_password_policy(ck, security, &pp) != 0)
        return;
    json_t *p = json_object();
    json_object_set_new(p, "min-length", json_integer(pp.min_length));
    json_object_set_new(p, "refuse-login", json_boolean(pp.refuse_login));
    json_object_set_new(p, "refuse-common", json_boolean(pp.refuse_common));
    json_object_set_new(security, "password-policy", p);
}

static void normalise_configuration(struct check *ck, json_t *conf, char **password)
{
    static const char *const conf_keys[] = {"global", "persistences", "security", "limits", NULL};
    static const char *const global_keys[] = {"url", "timezone", "lang", NULL};
    static const char *const pers_keys[] = {"default", NULL};
    static const char *const security_keys[] = {"password-hash", "oauth-token-lifetime-seconds",
                                                "password-policy", NULL};
    static const char *const pwhash_keys[] = {"opslimit", "memlimit-kib", "insecure-for-tests",
                                              NULL};
    static const char *const limits_keys[] = {"csv-max-bytes", "qti-package-max-bytes",
                                              "upload-max-bytes", NULL};

    json_t *generis = json_object_get(conf, "generis");
    if (ck->tao) {
        static const char *const tao_conf_keys[] = {"generis", "global", "security", "limits",
                                                    NULL};
        ignore_others(ck, conf, "configuration", tao_conf_keys);
        if (json_object_get(conf, "persistences"))
            problem(ck, "configuration.persistences: two databases named (and %s): keep one",
                    TAO_PERSISTENCES);
        else if (json_is_object(generis))
            tao_generis(ck, conf, generis, password);
        else
            problem(ck, "configuration.generis: must be an object");
    } else
        check_keys(ck, conf, "configuration", conf_keys);

    json_t *global = get_object(ck, conf, "global", "configuration.global", 1);
    if (global) {
        check_keys(ck, global, "configuration.global", global_keys);
        const char *url = get_string(ck, global, "url", "configuration.global.url", 1);
        if (url && strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
            problem(ck, "configuration.global.url: \"%s\" is not an http:// or https:// URL", url);
        const char *tz = get_string(ck, global, "timezone", "configuration.global.timezone", 1);
        if (tz && !timezone_is_known(tz))
            problem(ck,
                    "configuration.global.timezone: unknown time zone \"%s\" (use an IANA "
                    "name such as \"Europe/Luxembourg\" or \"UTC\")",
                    tz);
        const char *lang = get_string(ck, global, "lang", "configuration.global.lang", 1);
        if (lang && !lang_is_valid(lang))
            problem(ck, "configuration.global.lang: \"%s\" is not a language tag such as \"en-US\"",
                    lang);
    }

    if (!ck->tao) {
        json_t *pers = get_object(ck, conf, "persistences", "configuration.persistences", 1);
        if (pers) {
            check_keys(ck, pers, "configuration.persistences", pers_keys);
            json_t *def = get_object(ck, pers, "default", "configuration.persistences.default", 1);
            if (def)
                normalise_persistence(ck, def);
        }
    }

    json_t *security = get_object(ck, conf, "security", "configuration.security", 0);
    if (!security && !json_object_get(conf, "security")) {
        security = json_object();
        json_object_set_new(conf, "security", security);
    }
    if (security) {
        int tao = ck->tao; /* our own sections are checked strictly, in a TAO file too */
        ck->tao = 0;
        check_keys(ck, security, "configuration.security", security_keys);
        /* optional, and not written when absent: the default is app/oauth.h's */
        json_int_t lifetime = 0;
        get_uint(ck, security, "oauth-token-lifetime-seconds",
                 "configuration.security.oauth-token-lifetime-seconds", 60, 86400, 0, &lifetime, 0);
        json_t *pw =
            get_object(ck, security, "password-hash", "configuration.security.password-hash", 0);
        if (!pw && !json_object_get(security, "password-hash")) {
            pw = json_object();
            json_object_set_new(security, "password-hash", pw);
        }
        if (pw) {
            check_keys(ck, pw, "configuration.security.password-hash", pwhash_keys);
            json_int_t ops = 0, mem = 0;
            int bad = get_uint(ck, pw, "opslimit", "configuration.security.password-hash.opslimit",
                               1, 64, PASSWORD_DEFAULT_OPSLIMIT, &ops, 0);
            bad |= get_uint(ck, pw, "memlimit-kib",
                            "configuration.security.password-hash.memlimit-kib", 8, 4 * 1024 * 1024,
                            PASSWORD_DEFAULT_MEMLIMIT_KIB, &mem, 0);
            json_t *insecure = json_object_get(pw, "insecure-for-tests");
            if (insecure && !json_is_boolean(insecure))
                problem(ck, "configuration.security.password-hash.insecure-for-tests: must be "
                            "true or false");
            else if (!bad && !json_is_true(insecure)) {
                /* Below these, guessing a stolen device's passwords gets cheap
                 * (docs/security.md §2). */
                if (ops < PASSWORD_MIN_OPSLIMIT)
                    problem(ck,
                            "configuration.security.password-hash.opslimit: %lld is too weak "
                            "(at least %d; the default is %d); a cost this low is for tests "
                            "only: add \"insecure-for-tests\": true next to it",
                            (long long)ops, PASSWORD_MIN_OPSLIMIT, PASSWORD_DEFAULT_OPSLIMIT);
                if (mem < PASSWORD_MIN_MEMLIMIT_KIB)
                    problem(ck,
                            "configuration.security.password-hash.memlimit-kib: %lld is too "
                            "weak (at least %d; the default is %d); a cost this low is for "
                            "tests only: add \"insecure-for-tests\": true next to it",
                            (long long)mem, PASSWORD_MIN_MEMLIMIT_KIB,
                            PASSWORD_DEFAULT_MEMLIMIT_KIB);
            }
            if (!bad) {
                json_object_set_new(pw, "opslimit", json_integer(ops));
                json_object_set_new(pw, "memlimit-kib", json_integer(mem));
            }
        }
        normalise_password_policy(ck, security);
        ck->tao = tao;
    }

    json_t *limits = get_object(ck, conf, "limits", "configuration.limits", 0);
    if (!limits && !json_object_get(conf, "limits")) {
        limits = json_object();
        json_object_set_new(conf, "limits", limits);
    }
    if (limits) {
        int tao = ck->tao;
        ck->tao = 0;
        check_keys(ck, limits, "configuration.limits", limits_keys);
        ck->tao = tao;
        json_int_t csv_max = 0;
        if (get_uint(ck, limits, "csv-max-bytes", "configuration.limits.csv-max-bytes", 1024,
                     (json_int_t)1 << 32, CONFIG_DEFAULT_CSV_MAX_BYTES, &csv_max, 0) == 0)
            json_object_set_new(limits, "csv-max-bytes", json_integer(csv_max));
        json_int_t qti_max = 0;
        if (get_uint(ck, limits, "qti-package-max-bytes",
                     "configuration.limits.qti-package-max-bytes", 1024, (json_int_t)1 << 40,
                     CONFIG_DEFAULT_QTI_PACKAGE_MAX_BYTES, &qti_max, 0) == 0)
            json_object_set_new(limits, "qti-package-max-bytes", json_integer(qti_max));
        /* optional and left out when not given (outpost.json of instances set up before it) */
        json_int_t upload_max = 0;
        (void)get_uint(ck, limits, "upload-max-bytes", "configuration.limits.upload-max-bytes",
                       1024, CONFIG_UPLOAD_MAX_MAX_BYTES, CONFIG_DEFAULT_UPLOAD_MAX_BYTES,
                       &upload_max, 0);
    }

    if (ck->tao && problem_count(ck) == 0) {
        /* the instance keeps what it uses: TAO's other sections stay out of outpost.json */
        json_t *g = json_object();
        json_object_set(g, "url", json_object_get(global, "url"));
        json_object_set(g, "timezone", json_object_get(global, "timezone"));
        json_object_set(g, "lang", json_object_get(global, "lang"));
        json_object_set_new(conf, "global", g);
        const char *key;
        void *tmp;
        json_t *v;
        json_object_foreach_safe(conf, tmp, key, v)
        {
            if (!key_in(key, conf_keys))
                json_object_del(conf, key);
        }
    }
}

/* The role a TAO file implies: TAO's own files say it only by the setup script they run after
 * installing (postInstall's SetupCentralServer or SetupClientServer of taoOffline); 0 when
 * none does. */
static enum instance_role tao_role(json_t *root)
{
    json_t *post = json_object_get(root, "postInstall");
    enum instance_role role = 0;
    size_t i;
    json_t *v;
    const char *key;
    if (json_is_array(post)) {
        json_array_foreach(post, i, v)
        {
            const char *cls = json_string_value(json_object_get(v, "class"));
            if (cls && strstr(cls, "SetupCentralServer"))
                role = ROLE_CENTRAL;
            else if (cls && strstr(cls, "SetupClientServer"))
                role = ROLE_DEVICE;
        }
    } else if (json_is_object(post)) {
        json_object_foreach(post, key, v)
        {
            const char *cls = json_string_value(json_object_get(v, "class"));
            if (cls && strstr(cls, "SetupCentralServer"))
                role = ROLE_CENTRAL;
            else if (cls && strstr(cls, "SetupClientServer"))
                role = ROLE_DEVICE;
        }
    }
    return role;
}

/* The checks of the whole file (root an object), every problem listed in ck. */
static void check_root(struct check *ck, json_t *root, enum instance_role role_given,
                       struct setup_request *out)
{
    static const char *const top_keys[] = {"role", "super-user", "configuration", NULL};
    check_keys(ck, root, "", top_keys);

    const char *role = NULL;
    json_t *rv = json_object_get(root, "role");
    if (rv)
        role = get_string(ck, root, "role", "role", 1);
    if (role && strcmp(role, "central") == 0)
        out->role = ROLE_CENTRAL;
    else if (role && strcmp(role, "device") == 0)
        out->role = ROLE_DEVICE;
    else if (role)
        problem(ck, "role: unknown role \"%s\" (use \"central\" or \"device\")", role);
    if (!rv && ck->tao)
        out->role = tao_role(root);
    if (role_given && out->role && out->role != role_given)
        problem(ck, "role: the file says %s (%s) and --role says %s: give one",
                instance_role_name(out->role), rv ? "\"role\"" : "postInstall",
                instance_role_name(role_given));
    else if (role_given)
        out->role = role_given;
    else if (!rv && !out->role)
        problem(ck, "role: missing%s: add \"role\": \"central\" or \"device\"%s",
                ck->tao ? " (TAO's file does not say whether it sets up a central server or an "
                          "offline device)"
                        : "",
                ck->tao ? ", or run setup with --role central or --role device" : "");

    json_t *su = get_object(ck, root, "super-user", "super-user", 1);
    if (su) {
        static const char *const su_keys[] = {"login",    "password", "firstname",
                                              "lastname", "email",    NULL};
        int tao = ck->tao;
        ck->tao = 0; /* TAO's super-user keys are all used */
        check_keys(ck, su, "super-user", su_keys);
        ck->tao = tao;
        out->super_login = get_string(ck, su, "login", "super-user.login", 1);
        if (out->super_login && !login_is_valid(out->super_login)) {
            problem(ck, "super-user.login: not a valid login (1-255 characters, no "
                        "control characters, no leading or trailing space)");
            out->super_login = NULL;
        }
        out->super_password = get_string(ck, su, "password", "super-user.password", 1);
        if (out->super_password && strlen(out->super_password) < 8)
            problem(ck, "super-user.password: must be at least 8 characters");
        else if (out->super_password && strcmp(out->super_password, CONFIG_EXAMPLE_PASSWORD) == 0)
            problem(ck, "super-user.password: still the example password of the shipped setup "
                        "files; choose your own");
        static const char *const names[] = {"firstname", "lastname", "email"};
        const char **dest[] = {&out->super_first_name, &out->super_last_name, &out->super_mail};
        for (size_t i = 0; i < 3; i++) {
            char path[64];
            path_of(path, sizeof path, "super-user", names[i]);
            const char *s = get_string(ck, su, names[i], path, 0);
            enum text_fault f = s && s[0] ? text_check(s, 255) : TEXT_OK;
            if (f != TEXT_OK)
                problem(ck, "%s: %s", path, text_fault_message(f));
            else if (s && s[0])
                *dest[i] = s;
        }
    }

    out->configuration = get_object(ck, root, "configuration", "configuration", 1);
    if (out->configuration)
        normalise_configuration(ck, out->configuration, &out->db_password);

    /* The super-user's password keeps the policy the file sets for everyone (and at least 8
     * characters, above, whatever the policy); a policy with problems is reported already. */
    struct password_policy policy;
    json_t *security = json_object_get(out->configuration, "security");
    struct check quiet;
    if (out->super_password && strlen(out->super_password) >= 8 && json_is_object(security) &&
        check_init(&quiet) == 0) {
        enum password_fault f = PASSWORD_OK;
        if (read_password_policy(&quiet, security, &policy) == 0)
            f = password_policy_check(&policy, out->super_login, out->super_password,
                                      strlen(out->super_password));
        char why[256];
        if (f != PASSWORD_OK)
            problem(ck, "super-user.password: %s",
                    password_fault_text(f, &policy, why, sizeof why));
        check_free(&quiet);
    }
}

void setup_report_free(struct setup_report *rep)
{
    if (!rep)
        return;
    json_decref(rep->problems);
    json_decref(rep->ignored);
    rep->problems = rep->ignored = NULL;
}

int setup_request_load(const char *path, enum instance_role role, struct setup_request *out,
                       struct setup_report *rep, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (rep)
        rep->problems = rep->ignored = NULL;
    json_error_t jerr;
    /* The file holds the super-user's password: read it into locked memory with read(2) (no
     * stdio buffer), and let jansson copy it only into memory that is wiped when freed
     * (base/process.h). */
    char *text = NULL;
    size_t len = 0;
    mode_t mode = 0;
    if (fs_read_secret(path, CONFIG_MAX_BYTES, 0, "setup file", &text, &len, &mode, e) != 0)
        return e->code;
    if (mode & 077)
        log_warn("%s holds the super-user's password and others can read it (mode %03o); run "
                 "`chmod 600 %s`, or delete it once setup is done",
                 path, (unsigned)(mode & 0777), path);
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    fs_secret_free(text);
    if (!root)
        return err_set(e, OP_EINPUT, "%s line %d column %d: malformed JSON: %s", path, jerr.line,
                       jerr.column, jerr.text);
    out->root = root;
    if (!json_is_object(root)) {
        err_set(e, OP_EINPUT, "%s: top level: must be an object", path);
        setup_request_free(out);
        return OP_EINPUT;
    }
    struct check ck;
    check_init(&ck);
    ck.tao = json_object_get(json_object_get(root, "configuration"), "generis") != NULL;
    check_root(&ck, root, role, out);
    size_t n = problem_count(&ck);
    int rc = 0;
    if (n == 1)
        rc = check_to_err(&ck, path, e);
    else if (n > 1)
        rc = err_set(e, OP_EINPUT, "%s: %zu problems (listed above); nothing was set up", path, n);
    if (rep) {
        /* each problem prefixed by the file, as a one-problem message is */
        rep->problems = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(ck.problems, i, v)
        {
            char line[OP_ERR_MAX + 256];
            snprintf(line, sizeof line, "%s: %s", path, json_string_value(v));
            json_array_append_new(rep->problems, json_string_nocheck(line));
        }
        rep->ignored = json_incref(ck.ignored);
    } else if (n > 1)
        check_to_err(&ck, path, e);
    check_free(&ck);
    if (rc != 0)
        setup_request_free(out);
    return rc;
}

void setup_request_free(struct setup_request *r)
{
    /* jansson owns the string; wipe it here too, in case no wiping allocator is installed */
    if (r->super_password)
        sodium_memzero((char *)r->super_password, strlen(r->super_password));
    if (r->db_password) {
        sodium_memzero(r->db_password, strlen(r->db_password));
        sodium_free(r->db_password);
    }
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}

int config_settings(json_t *conf, struct instance_settings *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    json_t *global = json_object_get(conf, "global");
    json_t *def = json_object_get(json_object_get(conf, "persistences"), "default");
    json_t *pw = json_object_get(json_object_get(conf, "security"), "password-hash");
    json_t *limits = json_object_get(conf, "limits");
    if (!global || !def || !pw || !limits)
        return err_set(e, OP_ESTATE, "instance configuration is incomplete");
    out->url = json_string_value(json_object_get(global, "url"));
    out->timezone = json_string_value(json_object_get(global, "timezone"));
    out->lang = json_string_value(json_object_get(global, "lang"));
    out->db_driver = json_string_value(json_object_get(def, "driver"));
    if (out->db_driver && strcmp(out->db_driver, "pgsql") == 0) {
        out->driver = DB_DRIVER_PGSQL;
        int rc = pg_settings_parse(def, &out->pg, e);
        if (rc != 0)
            return rc;
    } else if (out->db_driver && strcmp(out->db_driver, "sqlite") == 0) {
        out->driver = DB_DRIVER_SQLITE;
        out->db_path = json_string_value(json_object_get(def, "path"));
    }
    out->password_cost.opslimit = (uint64_t)json_integer_value(json_object_get(pw, "opslimit"));
    out->password_cost.memlimit_kib =
        (uint64_t)json_integer_value(json_object_get(pw, "memlimit-kib"));
    out->csv_max_bytes = (size_t)json_integer_value(json_object_get(limits, "csv-max-bytes"));
    /* Instances set up before the policy existed have no key: the defaults apply. */
    struct check ck;
    if (check_init(&ck) != 0)
        return err_set(e, OP_ENOMEM, "out of memory");
    int bad = read_password_policy(&ck, json_object_get(conf, "security"), &out->password_policy);
    if (bad)
        check_to_err(&ck, "outpost.json", e);
    check_free(&ck);
    if (bad)
        return OP_ESTATE;
    out->oauth_token_lifetime_s = (int)json_integer_value(
        json_object_get(json_object_get(conf, "security"), "oauth-token-lifetime-seconds"));
    /* Instances set up before this limit existed have no key: the default applies. */
    json_t *qti_max = json_object_get(limits, "qti-package-max-bytes");
    out->qti_package_max_bytes = json_is_integer(qti_max) ? (uint64_t)json_integer_value(qti_max)
                                                          : CONFIG_DEFAULT_QTI_PACKAGE_MAX_BYTES;
    json_t *up_max = json_object_get(limits, "upload-max-bytes");
    out->upload_max_bytes = json_is_integer(up_max) && json_integer_value(up_max) >= 1024 &&
                                    json_integer_value(up_max) <= CONFIG_UPLOAD_MAX_MAX_BYTES
                                ? (size_t)json_integer_value(up_max)
                                : CONFIG_DEFAULT_UPLOAD_MAX_BYTES;
    if (!out->driver || (out->driver == DB_DRIVER_SQLITE && !out->db_path))
        return err_set(e, OP_ESTATE, "instance configuration has no database");
    return password_cost_check(&out->password_cost, "configuration.security.password-hash", e);
}
