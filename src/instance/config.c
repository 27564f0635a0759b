/*
 * config.c - validation of setup.json into a normalised instance configuration (config.h).
 *
 * The validator is strict: an unknown key is an error (a typo such as "timzone" must not be
 * silently ignored), and every message starts with the JSON path of the offending value.
 */
#include "instance/config.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "base/log.h"

const char *instance_role_name(enum instance_role role)
{
    return role == ROLE_CENTRAL ? "central" : role == ROLE_DEVICE ? "device" : "unknown";
}

/* ---- small validation helpers: each names the path it checks ---- */

static int check_keys(json_t *obj, const char *path, const char *const *allowed, struct op_err *e)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                ok = 1;
        if (!ok) {
            char list[256] = "";
            for (const char *const *a = allowed; *a; a++) {
                strncat(list, *a, sizeof list - strlen(list) - 1);
                if (a[1])
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return err_set(e, OP_EINPUT, "%s%s%s: unknown key (expected one of: %s)", path,
                           path[0] ? "." : "", key, list);
        }
    }
    return 0;
}

static json_t *get_object(json_t *parent, const char *key, const char *path, int required,
                          struct op_err *e)
{
    json_t *v = json_object_get(parent, key);
    if (!v) {
        if (required)
            err_set(e, OP_EINPUT, "%s: missing (an object is required)", path);
        else
            e->code = 0;
        return NULL;
    }
    if (!json_is_object(v)) {
        err_set(e, OP_EINPUT, "%s: must be an object", path);
        return NULL;
    }
    return v;
}

static const char *get_string(json_t *parent, const char *key, const char *path, int required,
                              struct op_err *e)
{
    json_t *v = json_object_get(parent, key);
    if (!v) {
        if (required)
            err_set(e, OP_EINPUT, "%s: missing (a string is required)", path);
        return NULL;
    }
    if (!json_is_string(v)) {
        err_set(e, OP_EINPUT, "%s: must be a string", path);
        return NULL;
    }
    const char *s = json_string_value(v);
    if (required && s[0] == '\0') {
        err_set(e, OP_EINPUT, "%s: must not be empty", path);
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

static int get_uint(json_t *parent, const char *key, const char *path, json_int_t min,
                    json_int_t max, json_int_t def, json_int_t *out, struct op_err *e)
{
    json_t *v = json_object_get(parent, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return err_set(e, OP_EINPUT, "%s: must be a whole number from %lld to %lld", path,
                       (long long)min, (long long)max);
    *out = json_integer_value(v);
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
static int check_persistence_keys(json_t *def, const char *driver, struct op_err *e)
{
    const char *key;
    json_t *v;
    int pgsql = strcmp(driver, "pgsql") == 0;
    json_object_foreach(def, key, v)
    {
        if (strcmp(key, "password") == 0 || strcmp(key, "passwd") == 0)
            return err_set(e, OP_EINPUT,
                           PERSISTENCE
                           ".%s: the database password is never written in the "
                           "configuration; put it alone in a file (mode 600) named by "
                           "\"password-file\", or in the PGPASSWORD environment variable",
                           key);
        if (pgsql && key_in(key, sqlite_keys) && !key_in(key, pgsql_keys))
            return err_set(e, OP_EINPUT,
                           PERSISTENCE ".%s: only for the \"sqlite\" driver; a \"pgsql\" "
                                       "database is named by host, port and dbname",
                           key);
        if (!pgsql && key_in(key, pgsql_keys) && !key_in(key, sqlite_keys))
            return err_set(e, OP_EINPUT,
                           PERSISTENCE ".%s: only for the \"pgsql\" driver (this one is "
                                       "\"sqlite\", whose database is a file named by path)",
                           key);
    }
    return check_keys(def, PERSISTENCE, pgsql ? pgsql_keys : sqlite_keys, e);
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

static const char *get_pg_name(json_t *def, const char *key, const char *what, struct op_err *e)
{
    char path[64];
    snprintf(path, sizeof path, PERSISTENCE ".%s", key);
    const char *s = get_string(def, key, path, 1, e);
    if (!s)
        return NULL;
    if (!pg_name_is_valid(s)) {
        err_set(e, OP_EINPUT,
                "%s: not a valid %s name (1 to %d ASCII letters, digits, '_', '.', '@' or '-', "
                "starting with a letter or '_')",
                path, what, PG_NAME_MAX);
        return NULL;
    }
    return s;
}

int pg_settings_parse(json_t *def, struct pg_settings *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (check_persistence_keys(def, "pgsql", e) != 0)
        return OP_EINPUT;
    const char *host = get_string(def, "host", PERSISTENCE ".host", 1, e);
    if (!host)
        return OP_EINPUT;
    enum text_fault f = text_check(host, PG_HOST_MAX);
    if (f != TEXT_OK)
        return err_set(e, OP_EINPUT, PERSISTENCE ".host: %s%s", text_fault_message(f),
                       f == TEXT_TOO_LONG ? " (at most 255 bytes)" : "");
    json_int_t port = 0;
    if (get_uint(def, "port", PERSISTENCE ".port", 1, 65535, PG_DEFAULT_PORT, &port, e) != 0)
        return OP_EINPUT;
    const char *dbname = get_pg_name(def, "dbname", "database", e);
    if (!dbname)
        return OP_EINPUT;
    const char *user = get_pg_name(def, "user", "role", e);
    if (!user)
        return OP_EINPUT;
    const char *pwfile = NULL;
    if (json_object_get(def, "password-file")) {
        pwfile = get_string(def, "password-file", PERSISTENCE ".password-file", 1, e);
        if (!pwfile)
            return OP_EINPUT;
        f = text_check(pwfile, PG_PATH_MAX);
        if (f != TEXT_OK)
            return err_set(e, OP_EINPUT, PERSISTENCE ".password-file: %s", text_fault_message(f));
        if (pwfile[0] != '/')
            return err_set(e, OP_EINPUT,
                           PERSISTENCE ".password-file: must be an absolute path (one that "
                                       "starts with /), such as \"/etc/outpost/db-password\"");
    }
    out->host = host;
    out->port = (unsigned)port;
    out->dbname = dbname;
    out->user = user;
    out->password_file = pwfile;
    return 0;
}

/* Validates persistences.default and fills in its defaults in place. */
static int normalise_persistence(json_t *def, struct op_err *e)
{
    const char *driver = get_string(def, "driver", PERSISTENCE ".driver", 1, e);
    if (!driver)
        return OP_EINPUT;
    if (strcmp(driver, "pgsql") == 0) {
        struct pg_settings pg;
        if (pg_settings_parse(def, &pg, e) != 0)
            return OP_EINPUT;
        json_object_set_new(def, "port", json_integer((json_int_t)pg.port));
        return 0;
    }
    if (strcmp(driver, "sqlite") != 0)
        return err_set(e, OP_EINPUT,
                       PERSISTENCE ".driver: \"%s\" is not supported by this build (use "
                                   "\"sqlite\" or \"pgsql\")",
                       driver);
    if (check_persistence_keys(def, driver, e) != 0)
        return OP_EINPUT;
    const char *path = get_string(def, "path", PERSISTENCE ".path", 0, e);
    if (!path && json_object_get(def, "path"))
        return OP_EINPUT;
    if (!path || !path[0])
        json_object_set_new(def, "path", json_string("outpost.db"));
    return 0;
}

/* Validates `configuration` and fills in defaults in place. */
static int normalise_configuration(json_t *conf, struct op_err *e)
{
    static const char *const conf_keys[] = {"global", "persistences", "security", "limits", NULL};
    static const char *const global_keys[] = {"url", "timezone", "lang", NULL};
    static const char *const pers_keys[] = {"default", NULL};
    static const char *const security_keys[] = {"password-hash", "oauth-token-lifetime-seconds",
                                                NULL};
    static const char *const pwhash_keys[] = {"opslimit", "memlimit-kib", "insecure-for-tests",
                                              NULL};
    static const char *const limits_keys[] = {"csv-max-bytes", "qti-package-max-bytes", NULL};

    if (check_keys(conf, "configuration", conf_keys, e))
        return OP_EINPUT;

    json_t *global = get_object(conf, "global", "configuration.global", 1, e);
    if (!global)
        return OP_EINPUT;
    if (check_keys(global, "configuration.global", global_keys, e))
        return OP_EINPUT;
    const char *url = get_string(global, "url", "configuration.global.url", 1, e);
    if (!url)
        return OP_EINPUT;
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return err_set(e, OP_EINPUT,
                       "configuration.global.url: \"%s\" is not an http:// or https:// URL", url);
    const char *tz = get_string(global, "timezone", "configuration.global.timezone", 1, e);
    if (!tz)
        return OP_EINPUT;
    if (!timezone_is_known(tz))
        return err_set(e, OP_EINPUT,
                       "configuration.global.timezone: unknown time zone \"%s\" (use an IANA "
                       "name such as \"Europe/Luxembourg\" or \"UTC\")",
                       tz);
    const char *lang = get_string(global, "lang", "configuration.global.lang", 1, e);
    if (!lang)
        return OP_EINPUT;
    if (!lang_is_valid(lang))
        return err_set(e, OP_EINPUT,
                       "configuration.global.lang: \"%s\" is not a language tag such as \"en-US\"",
                       lang);

    json_t *pers = get_object(conf, "persistences", "configuration.persistences", 1, e);
    if (!pers)
        return OP_EINPUT;
    if (check_keys(pers, "configuration.persistences", pers_keys, e))
        return OP_EINPUT;
    json_t *def = get_object(pers, "default", "configuration.persistences.default", 1, e);
    if (!def)
        return OP_EINPUT;
    if (normalise_persistence(def, e) != 0)
        return OP_EINPUT;

    err_clear(e);
    json_t *security = get_object(conf, "security", "configuration.security", 0, e);
    if (!security && e->code)
        return OP_EINPUT;
    if (!security) {
        security = json_object();
        json_object_set_new(conf, "security", security);
    }
    if (check_keys(security, "configuration.security", security_keys, e))
        return OP_EINPUT;
    /* optional, and not written when absent: the default is app/oauth.h's */
    json_int_t lifetime = 0;
    if (get_uint(security, "oauth-token-lifetime-seconds",
                 "configuration.security.oauth-token-lifetime-seconds", 60, 86400, 0, &lifetime, e))
        return OP_EINPUT;
    json_t *pw =
        get_object(security, "password-hash", "configuration.security.password-hash", 0, e);
    if (!pw && e->code)
        return OP_EINPUT;
    if (!pw) {
        pw = json_object();
        json_object_set_new(security, "password-hash", pw);
    }
    if (check_keys(pw, "configuration.security.password-hash", pwhash_keys, e))
        return OP_EINPUT;
    json_int_t ops = 0, mem = 0;
    if (get_uint(pw, "opslimit", "configuration.security.password-hash.opslimit", 1, 64,
                 PASSWORD_DEFAULT_OPSLIMIT, &ops, e) ||
        get_uint(pw, "memlimit-kib", "configuration.security.password-hash.memlimit-kib", 8,
                 4 * 1024 * 1024, PASSWORD_DEFAULT_MEMLIMIT_KIB, &mem, e))
        return OP_EINPUT;
    json_t *insecure = json_object_get(pw, "insecure-for-tests");
    if (insecure && !json_is_boolean(insecure))
        return err_set(e, OP_EINPUT,
                       "configuration.security.password-hash.insecure-for-tests: must be true or "
                       "false");
    if (!json_is_true(insecure)) {
        /* Below these, guessing a stolen device's passwords gets cheap (docs/security.md §2). */
        if (ops < PASSWORD_MIN_OPSLIMIT)
            return err_set(e, OP_EINPUT,
                           "configuration.security.password-hash.opslimit: %lld is too weak "
                           "(at least %d; the default is %d); a cost this low is for tests "
                           "only: add \"insecure-for-tests\": true next to it",
                           (long long)ops, PASSWORD_MIN_OPSLIMIT, PASSWORD_DEFAULT_OPSLIMIT);
        if (mem < PASSWORD_MIN_MEMLIMIT_KIB)
            return err_set(e, OP_EINPUT,
                           "configuration.security.password-hash.memlimit-kib: %lld is too weak "
                           "(at least %d; the default is %d); a cost this low is for tests "
                           "only: add \"insecure-for-tests\": true next to it",
                           (long long)mem, PASSWORD_MIN_MEMLIMIT_KIB,
                           PASSWORD_DEFAULT_MEMLIMIT_KIB);
    }
    json_object_set_new(pw, "opslimit", json_integer(ops));
    json_object_set_new(pw, "memlimit-kib", json_integer(mem));

    json_t *limits = get_object(conf, "limits", "configuration.limits", 0, e);
    if (!limits && e->code)
        return OP_EINPUT;
    if (!limits) {
        limits = json_object();
        json_object_set_new(conf, "limits", limits);
    }
    if (check_keys(limits, "configuration.limits", limits_keys, e))
        return OP_EINPUT;
    json_int_t csv_max = 0;
    if (get_uint(limits, "csv-max-bytes", "configuration.limits.csv-max-bytes", 1024,
                 (json_int_t)1 << 32, CONFIG_DEFAULT_CSV_MAX_BYTES, &csv_max, e))
        return OP_EINPUT;
    json_object_set_new(limits, "csv-max-bytes", json_integer(csv_max));
    json_int_t qti_max = 0;
    if (get_uint(limits, "qti-package-max-bytes", "configuration.limits.qti-package-max-bytes",
                 1024, (json_int_t)1 << 40, CONFIG_DEFAULT_QTI_PACKAGE_MAX_BYTES, &qti_max, e))
        return OP_EINPUT;
    json_object_set_new(limits, "qti-package-max-bytes", json_integer(qti_max));
    return 0;
}

int setup_request_load(const char *path, struct setup_request *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
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
    static const char *const top_keys[] = {"role", "super-user", "configuration", NULL};
    int rc = 0;
    if (!json_is_object(root)) {
        rc = err_set(e, OP_EINPUT, "top level: must be an object");
        goto fail;
    }
    if ((rc = check_keys(root, "", top_keys, e)) != 0)
        goto fail;
    const char *role = get_string(root, "role", "role", 1, e);
    if (!role) {
        rc = OP_EINPUT;
        goto fail;
    }
    if (strcmp(role, "central") == 0)
        out->role = ROLE_CENTRAL;
    else if (strcmp(role, "device") == 0)
        out->role = ROLE_DEVICE;
    else {
        rc = err_set(e, OP_EINPUT, "role: unknown role \"%s\" (use \"central\" or \"device\")",
                     role);
        goto fail;
    }
    json_t *su = get_object(root, "super-user", "super-user", 1, e);
    if (!su) {
        rc = OP_EINPUT;
        goto fail;
    }
    static const char *const su_keys[] = {"login", "password", NULL};
    if ((rc = check_keys(su, "super-user", su_keys, e)) != 0)
        goto fail;
    out->super_login = get_string(su, "login", "super-user.login", 1, e);
    if (!out->super_login) {
        rc = OP_EINPUT;
        goto fail;
    }
    if (!login_is_valid(out->super_login)) {
        rc = err_set(e, OP_EINPUT,
                     "super-user.login: not a valid login (1-255 characters, no "
                     "control characters, no leading or trailing space)");
        goto fail;
    }
    out->super_password = get_string(su, "password", "super-user.password", 1, e);
    if (!out->super_password) {
        rc = OP_EINPUT;
        goto fail;
    }
    if (strlen(out->super_password) < 8) {
        rc = err_set(e, OP_EINPUT, "super-user.password: must be at least 8 characters");
        goto fail;
    }
    if (strcmp(out->super_password, CONFIG_EXAMPLE_PASSWORD) == 0) {
        rc = err_set(e, OP_EINPUT,
                     "super-user.password: still the example password of the shipped setup "
                     "files; choose your own");
        goto fail;
    }
    out->configuration = get_object(root, "configuration", "configuration", 1, e);
    if (!out->configuration) {
        rc = OP_EINPUT;
        goto fail;
    }
    if ((rc = normalise_configuration(out->configuration, e)) != 0)
        goto fail;
    return 0;
fail:
    err_prefix(e, "%s", path);
    setup_request_free(out);
    return rc ? rc : OP_EINPUT;
}

void setup_request_free(struct setup_request *r)
{
    /* jansson owns the string; wipe it here too, in case no wiping allocator is installed */
    if (r->super_password)
        sodium_memzero((char *)r->super_password, strlen(r->super_password));
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
    out->oauth_token_lifetime_s = (int)json_integer_value(
        json_object_get(json_object_get(conf, "security"), "oauth-token-lifetime-seconds"));
    /* Instances set up before this limit existed have no key: the default applies. */
    json_t *qti_max = json_object_get(limits, "qti-package-max-bytes");
    out->qti_package_max_bytes = json_is_integer(qti_max) ? (uint64_t)json_integer_value(qti_max)
                                                          : CONFIG_DEFAULT_QTI_PACKAGE_MAX_BYTES;
    if (!out->driver || (out->driver == DB_DRIVER_SQLITE && !out->db_path))
        return err_set(e, OP_ESTATE, "instance configuration has no database");
    return password_cost_check(&out->password_cost, "configuration.security.password-hash", e);
}
