/*
 * health.h - the state a monitor asks of a running instance (GET /api/v1/health): its role,
 * the version of this outpost, the schema version of its database (read from the database,
 * so the answer also proves the database answers) and the server's clock.
 */
#ifndef OUTPOST_APP_HEALTH_H
#define OUTPOST_APP_HEALTH_H

#include <jansson.h>
#include <time.h>

#include "base/err.h"
#include "instance/instance.h"

struct app_health {
    enum instance_role role;
    const char *version; /* OUTPOST_VERSION, static */
    int schema;          /* the database's schema version */
    time_t time;         /* clock_now() */
};

/* Reads the health of `inst` into *out. Fails (OP_EDB) when the database does not answer. */
int app_health_read(struct instance *inst, struct app_health *out, struct op_err *e);

/* {"status": "ok", "role": "central"|"device", "version": "...", "schema": N, "time": unix
 * seconds}, a new reference. */
json_t *app_health_json(const struct app_health *h);

#endif
