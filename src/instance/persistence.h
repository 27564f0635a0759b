/*
 * persistence.h - changing where an instance keeps its records (configuration.persistences.
 * default of outpost.json), for `outpost migrate-store`: the PostgreSQL settings read from a
 * file of their own, and outpost.json switched to them in one atomic step, the file it
 * replaces kept beside it.
 */
#ifndef OUTPOST_INSTANCE_PERSISTENCE_H
#define OUTPOST_INSTANCE_PERSISTENCE_H

#include <jansson.h>

#include "base/err.h"
#include "instance/config.h"
#include "instance/instance.h"

/* The largest persistence file read. */
#define PERSISTENCE_FILE_MAX (64 * 1024)

/* Reads `path`, a JSON object of the shape of setup.json's persistences.default with driver
 * "pgsql" ({"driver": "pgsql", "host", "port", "dbname", "user", "password-file"}), validated
 * as setup validates it (no password in it), with the port filled in. *def (the caller
 * releases it with json_decref) owns what *pg points to; pg's password is not read. Errors
 * name the file and the key. */
int persistence_load_pgsql(const char *path, json_t **def, struct pg_settings *pg,
                           struct op_err *e);

/* The instance's SQLite database file (the caller frees); NULL when it is not on SQLite. */
char *persistence_sqlite_path(const struct instance *inst);

/* Replaces configuration.persistences.default in DIR/outpost.json by `def`, atomically (a
 * new file renamed over the old one), after keeping the old file's bytes as
 * DIR/outpost.json.sqlite (or .sqlite.2, .3 ... when that exists; never overwritten). *kept
 * (the caller frees) names the kept copy. The open instance `inst` is not changed: open it
 * again to use the new store. */
int persistence_switch(const struct instance *inst, json_t *def, char **kept, struct op_err *e);

#endif
