/*
 * migrate_store.h - `outpost migrate-store`: a central's records moved from its SQLite file to
 * an empty PostgreSQL database, verified, and the instance switched to it.
 *
 * Only a central moves: a device runs offline on one machine and keeps SQLite, which needs no
 * server (docs/setup.md, "The database"). The SQLite file is never written: it stays where it
 * was as the fallback, with the outpost.json that used it kept beside the new one.
 */
#ifndef OUTPOST_APP_MIGRATE_STORE_H
#define OUTPOST_APP_MIGRATE_STORE_H

#include "base/err.h"
#include "instance/instance.h"
#include "store/copy.h"

struct app_store_migrate_in {
    const char *conf_path; /* the PostgreSQL persistence, shaped like persistences.default */
};

/* What was moved, and where things are now. Strings are owned by the report
 * (app_store_migrate_report_free). */
struct app_store_migrate_report {
    struct copy_report copy; /* per-table counts and SHA-256, source and target */
    char total_sha256[COPY_SHA256_HEX];
    char *target;      /* "database \"outpost\" on db.example.org port 5432" */
    char *sqlite_path; /* the SQLite file, untouched: the fallback */
    char *kept_config; /* the outpost.json that used it, kept beside the new one */
};
void app_store_migrate_report_free(struct app_store_migrate_report *r);

/*
 * Moves the open instance's records from SQLite to the PostgreSQL database in->conf_path
 * describes, in this order, so that whatever fails (or kills the process) before the end
 * leaves the instance on SQLite, working:
 *   1. the SQLite write lock is taken and held to the end: one snapshot is copied, and no
 *      command writes to the file meanwhile (one that tries waits, then is told "busy");
 *   2. the source's schema is checked and every table counted and hashed (copy.h);
 *   3. the target is opened as setup opens one (an empty database only: reachable, the login
 *      accepted, no tables of another application, no Outpost schema) and the schema created
 *      by the migrations;
 *   4. every table is copied in one PostgreSQL transaction, committed only when the target's
 *      counts and hashes equal the source's;
 *   5. the committed copy is read back over a new connection and hashed once more;
 *   6. outpost.json is switched to the new persistence (one rename), the old one kept;
 *   7. the instance is opened again from the new outpost.json.
 * Refused, with nothing changed: a device (OP_ESTATE), an instance already on PostgreSQL
 * (OP_ESTATE), a bad file (OP_EINPUT), an unreachable server or a refused login (OP_EDB), a
 * target that is not empty (OP_ESTATE), a busy source (OP_EBUSY). From step 3 on, a failure
 * leaves the target holding Outpost's schema: the error's remedy is
 * OP_REMEDY_PG_NEW_DATABASE (drop it, create it again, run again). *r is filled as far as the
 * operation went; free it whatever the outcome.
 */
int app_store_migrate(struct instance *inst, const struct app_store_migrate_in *in,
                      struct app_store_migrate_report *r, struct op_err *e);

#endif
