/*
 * config.h - the setup file (setup.json) and the instance configuration it becomes.
 *
 * setup.json (keys follow TAO's seed file where they mean the same; docs/setup.md; TAO's own
 * file, with configuration.generis.persistences, is read too: setup_request_load):
 *   role                                         "central" | "device"
 *   super-user.login, super-user.password        the first administrator
 *   configuration.global.url                     public URL of this instance
 *   configuration.global.timezone                IANA zone name, e.g. "Europe/Luxembourg"
 *   configuration.global.lang                    language tag, e.g. "en-US"
 *   configuration.persistences.default.driver    "sqlite" or "pgsql" (a central on a
 *                                                PostgreSQL server: store/db_pgsql.c)
 *   configuration.persistences.default.path      sqlite: database file, relative to the data
 *                                                folder or absolute
 *   configuration.persistences.default.host, .port, .dbname, .user, .password-file
 *                                                pgsql: the server, the database, the role and
 *                                                the file holding its password (else
 *                                                $PGPASSWORD); struct pg_settings below
 *   configuration.security.password-hash.opslimit / .memlimit-kib   Argon2id cost (optional)
 *   configuration.security.password-policy.min-length / .refuse-login / .refuse-common
 *                                                the password policy (optional; auth/policy.h)
 *   configuration.limits.csv-max-bytes           largest CSV file accepted (optional)
 *   configuration.limits.qti-package-max-bytes   largest QTI package accepted (optional)
 *   configuration.limits.upload-max-bytes        largest file a test taker may upload or
 *                                                draw on a device (optional; 1 MiB, at most
 *                                                2 MiB: a result is sealed whole, 8 MiB at most)
 *
 * The instance keeps `configuration` (never the super-user password, never the database
 * password: only the name of the file holding it) in DIR/outpost.json.
 */
#ifndef OUTPOST_INSTANCE_CONFIG_H
#define OUTPOST_INSTANCE_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/password.h"
#include "auth/policy.h"
#include "base/err.h"
#include "base/text.h" /* login_is_valid, utf8_is_valid (they lived here before) */

#define CONFIG_DEFAULT_CSV_MAX_BYTES         (64u * 1024 * 1024)
#define CONFIG_DEFAULT_QTI_PACKAGE_MAX_BYTES ((uint64_t)512 * 1024 * 1024)
#define CONFIG_MAX_BYTES                     (1024 * 1024)
#define CONFIG_DEFAULT_UPLOAD_MAX_BYTES      (1024 * 1024)
#define CONFIG_UPLOAD_MAX_MAX_BYTES          (2 * 1024 * 1024)
/* The placeholder password of the shipped setup files (config/central.setup.json and
 * config/device.setup.json); setup refuses it so that nobody runs with it. */
#define CONFIG_EXAMPLE_PASSWORD "change-this-password"

enum instance_role { ROLE_CENTRAL = 1, ROLE_DEVICE = 2 };

const char *instance_role_name(enum instance_role role);

/* What setup.json says, validated. Strings point into `root`, which the struct owns. */
struct setup_request {
    json_t *root;
    enum instance_role role;
    const char *super_login;
    const char *super_password;
    /* super-user.firstname, .lastname, .email (TAO's names); NULL when absent or empty */
    const char *super_first_name, *super_last_name, *super_mail;
    json_t *configuration; /* normalised: every optional key filled with its default */
    /* A TAO file's database password (configuration.generis.persistences.default.password),
     * which setup writes into the instance's private DIR/db-password and names as the
     * password-file; NULL otherwise. sodium_malloc'ed, wiped and freed with the request. */
    char *db_password;
};

/* What loading a setup file found besides the request: every problem (the file is refused
 * when there is any), each "FILE: path: what is wrong", and in a TAO file the JSON paths of
 * the keys Outpost does not use (a whole object by its own path). */
struct setup_report {
    json_t *problems; /* array of strings */
    json_t *ignored;  /* array of strings */
};

/* Loads and validates a setup file: Outpost's own, or TAO's (taoSetup's seed file, recognised
 * by its configuration.generis: its persistences.default read as ours, its other keys ignored
 * and listed in rep->ignored). `role` is the role given on the command line (0: none), needed
 * by a TAO file whose postInstall does not say. Every problem names the JSON path, e.g.
 * "setup.json: configuration.global.timezone: unknown time zone \"Mars/Base\"", and all are
 * found in one pass: one problem is the message of `e`; several are listed in
 * rep->problems, `e` saying how many (without `rep`, `e` joins them with "; "). `rep` (may be
 * NULL) is filled on success and on failure; free it with setup_report_free. */
int setup_request_load(const char *path, enum instance_role role, struct setup_request *out,
                       struct setup_report *rep, struct op_err *e);
void setup_request_free(struct setup_request *r);
void setup_report_free(struct setup_report *rep);

/* ---- PostgreSQL connection settings ----
 *
 * What a "pgsql" persistences.default says, for the store backend that connects with it
 * (instance.c builds the connection string with pg_conninfo and opens db_open_pgsql).
 * The password is never in the configuration: it is read from `password-file` (a file of one
 * line, mode 600, owned by the user running outpost, not a symbolic link) or else from the
 * PGPASSWORD environment variable, never from the command line, and never logged or stored. */
#define PG_DEFAULT_PORT 5432
#define PG_NAME_MAX     63 /* PostgreSQL's NAMEDATALEN - 1: longest database or role name */
#define PG_HOST_MAX     255
#define PG_PATH_MAX     4095
#define PG_PASSWORD_MAX 1023

struct pg_settings {
    /* These point into the configuration object they were parsed from (it owns them). */
    const char *host;          /* a host name, an address, or a Unix socket folder ("/...") */
    unsigned port;             /* 1..65535 */
    const char *dbname;        /* 1..PG_NAME_MAX of [A-Za-z0-9_.@-], starting [A-Za-z_] */
    const char *user;          /* the same rule */
    const char *password_file; /* an absolute path; NULL: the password is in $PGPASSWORD */
    /* NULL until pg_settings_read_password; sodium_malloc'ed, owned by the struct, wiped and
     * freed by pg_settings_free. */
    char *password;
};

/* Validates a "pgsql" persistences.default object (`def`, whose "driver" is "pgsql") and fills
 * `out` (password NULL). Every message names the JSON path,
 * "configuration.persistences.default.<key>"; `path` is refused, naming it. */
int pg_settings_parse(json_t *def, struct pg_settings *out, struct op_err *e);

/* Reads the password into s->password: from s->password_file when set (the file's checks are
 * those of a key file: fs_read_secret with FS_NOFOLLOW | FS_PRIVATE; one line, its newline
 * stripped, not empty), else from $PGPASSWORD; neither is an error that says what to do.
 * No message ever contains the password. */
int pg_settings_read_password(struct pg_settings *s, struct op_err *e);

/* Wipes and frees the password (the rest is owned by the configuration). */
void pg_settings_free(struct pg_settings *s);

/* A libpq connection string for `s` (*out, sodium_malloc'ed because it holds the password;
 * free it with pg_conninfo_free): host, port, dbname, user and, when read, password, each
 * value in single quotes with every ' and \ escaped by a backslash (libpq's rule), so no
 * value can end its quotes and add a parameter. */
int pg_conninfo(const struct pg_settings *s, char **out, struct op_err *e);
void pg_conninfo_free(char *conninfo);

enum db_driver { DB_DRIVER_SQLITE = 1, DB_DRIVER_PGSQL = 2 };

/* Reads the typed values the instance uses out of a normalised configuration object. */
struct instance_settings {
    struct password_cost password_cost;
    struct password_policy password_policy; /* what new passwords must be (auth/policy.h) */
    size_t csv_max_bytes;
    uint64_t qti_package_max_bytes;
    size_t upload_max_bytes; /* limits.upload-max-bytes, or its default */
    const char *db_driver;
    enum db_driver driver;
    const char *db_path;   /* sqlite only (NULL for pgsql) */
    struct pg_settings pg; /* pgsql only; its password is not read (pg_settings_read_password) */
    const char *url;
    const char *timezone;
    const char *lang;
    /* configuration.security.oauth-token-lifetime-seconds (60 to 86400), the lifetime of an
     * access token; 0 when not set: app/oauth.h's default (900) */
    int oauth_token_lifetime_s;
};
int config_settings(json_t *configuration, struct instance_settings *out, struct op_err *e);

/* 1 if `s` has the shape of a BCP 47 language tag ("en", "en-US", "zh-Hant-TW"). */
int lang_is_valid(const char *s);

#endif
