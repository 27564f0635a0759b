/*
 * config.h - the setup file (setup.json) and the instance configuration it becomes.
 *
 * setup.json (keys follow TAO's seed file where they mean the same; docs/setup.md):
 *   role                                         "central" | "device"
 *   super-user.login, super-user.password        the first administrator
 *   configuration.global.url                     public URL of this instance
 *   configuration.global.timezone                IANA zone name, e.g. "Europe/Luxembourg"
 *   configuration.global.lang                    language tag, e.g. "en-US"
 *   configuration.persistences.default.driver    "sqlite"
 *   configuration.persistences.default.path      database file, relative to the data folder
 *   configuration.security.password-hash.opslimit / .memlimit-kib   Argon2id cost (optional)
 *   configuration.limits.csv-max-bytes           largest CSV file accepted (optional)
 *   configuration.limits.qti-package-max-bytes   largest QTI package accepted (optional)
 *
 * The instance keeps `configuration` (never the super-user password) in DIR/outpost.json.
 */
#ifndef OUTPOST_INSTANCE_CONFIG_H
#define OUTPOST_INSTANCE_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/password.h"
#include "base/err.h"
#include "base/text.h" /* login_is_valid, utf8_is_valid (they lived here before) */

#define CONFIG_DEFAULT_CSV_MAX_BYTES         (64u * 1024 * 1024)
#define CONFIG_DEFAULT_QTI_PACKAGE_MAX_BYTES ((uint64_t)512 * 1024 * 1024)
#define CONFIG_MAX_BYTES                     (1024 * 1024)
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
    json_t *configuration; /* normalised: every optional key filled with its default */
};

/* Loads and validates a setup file. Every error names the JSON path, e.g.
 * "setup.json: configuration.global.timezone: unknown time zone \"Mars/Base\"". */
int setup_request_load(const char *path, struct setup_request *out, struct op_err *e);
void setup_request_free(struct setup_request *r);

/* Reads the typed values the instance uses out of a normalised configuration object. */
struct instance_settings {
    struct password_cost password_cost;
    size_t csv_max_bytes;
    uint64_t qti_package_max_bytes;
    const char *db_driver;
    const char *db_path;
    const char *url;
    const char *timezone;
    const char *lang;
};
int config_settings(json_t *configuration, struct instance_settings *out, struct op_err *e);

/* 1 if `s` has the shape of a BCP 47 language tag ("en", "en-US", "zh-Hant-TW"). */
int lang_is_valid(const char *s);

#endif
