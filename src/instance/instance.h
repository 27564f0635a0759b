/*
 * instance.h - an Outpost instance: a data folder initialised by `outpost setup` as a central
 * server or an offline device.
 *
 * Layout of DIR:
 *   outpost.json   role, instance id, configuration (written last by setup: its presence
 *                  means the instance is complete)
 *   outpost.db     the SQLite database (configuration.persistences.default.path; none when the
 *                  driver is "pgsql": the database is on the PostgreSQL server)
 *   keys/          key files, mode 0600 (crypto/keys.h)
 */
#ifndef OUTPOST_INSTANCE_INSTANCE_H
#define OUTPOST_INSTANCE_INSTANCE_H

#include <jansson.h>

#include "base/err.h"
#include "base/ids.h"
#include "instance/config.h"
#include "store/db.h"

#define INSTANCE_CONFIG_FILE "outpost.json"
/* The database password a TAO setup file held, kept for the instance (mode 600; config.h) */
#define INSTANCE_DB_PASSWORD_FILE "db-password"
#define INSTANCE_DEFAULT_DIR      "./outpost-data"

struct instance {
    char *dir;
    enum instance_role role;
    char id[UUID_STR_LEN];
    json_t *file; /* the whole outpost.json */
    struct instance_settings settings;
    struct db *db;
};

/* The data folder: `opt` (from --data) if set, else $OUTPOST_HOME, else ./outpost-data. */
const char *instance_resolve_dir(const char *opt);

/* Opens an initialised instance (migrating its database if needed). */
int instance_open(const char *dir, struct instance **out, struct op_err *e);
void instance_close(struct instance *inst);

/* Opens another connection (*out, the caller closes it with db_close) to the database of an
 * open instance, for a thread of its own: a `struct db` serves one thread at a time (the HTTP
 * server opens one per worker thread). */
int instance_open_db(const struct instance *inst, struct db **out, struct op_err *e);

/* Opens the PostgreSQL database `pg` names (with `create`, setup's checks: an empty database
 * only), reading the password from its file or $PGPASSWORD for this open only (wiped at once;
 * never in a message). Errors name the database, host and port. */
int instance_open_pgsql(const struct pg_settings *pg, int create, struct db **out,
                        struct op_err *e);

/* Fails with a clear message unless the instance has `role`; `what` names the command. */
int instance_require_role(const struct instance *inst, enum instance_role role, const char *what,
                          struct op_err *e);

/* DIR/name; the caller frees. */
char *instance_path(const struct instance *inst, const char *name);

/* Creates a new instance in `dir` from a validated setup request: database, super-user,
 * keys for the role, and outpost.json last. Refuses an existing instance or a non-empty
 * folder; on failure leaves nothing behind. */
int instance_create(const char *dir, const struct setup_request *req, struct op_err *e);

#endif
