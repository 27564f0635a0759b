/* health.c - the health of a running instance (see health.h). */
#include "app/health.h"

#include "base/clock.h"
#include "base/version.h"

int app_health_read(struct instance *inst, struct app_health *out, struct op_err *e)
{
    out->role = inst->role;
    out->version = OUTPOST_VERSION;
    out->time = clock_now();
    out->schema = db_schema_version(inst->db);
    if (out->schema <= 0)
        return err_set(e, OP_EDB, "database: the schema version cannot be read");
    return 0;
}

json_t *app_health_json(const struct app_health *h)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:I}", "status", "ok", "role",
                     instance_role_name(h->role), "version", h->version, "schema", h->schema,
                     "time", (json_int_t)h->time);
}
