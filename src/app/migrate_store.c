/*
 * migrate_store.c - a central moved from SQLite to PostgreSQL (see migrate_store.h): the order
 * of the steps is what keeps the SQLite instance working whatever happens; the copying and
 * hashing are store/copy.c's, the switch of outpost.json instance/persistence.c's.
 */
#include "app/migrate_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "instance/persistence.h"

void app_store_migrate_report_free(struct app_store_migrate_report *r)
{
    free(r->target);
    free(r->sqlite_path);
    free(r->kept_config);
    memset(r, 0, sizeof *r);
}

static char *describe(const struct pg_settings *pg)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "database \"%s\" on %s port %u", pg->dbname, pg->host, pg->port);
    return buf_detach(&b);
}

/* Refuses what does not move: a device, and a store already on PostgreSQL. */
static int check_instance(const struct instance *inst, struct op_err *e)
{
    if (inst->role != ROLE_CENTRAL)
        return err_set(e, OP_ESTATE,
                       "%s is a %s: a device keeps its records in SQLite, on its own machine "
                       "and offline; only a central moves to PostgreSQL",
                       inst->dir, instance_role_name(inst->role));
    if (inst->settings.driver != DB_DRIVER_SQLITE)
        return err_set(e, OP_ESTATE,
                       "%s already keeps its records in PostgreSQL (database \"%s\" on %s port "
                       "%u); there is nothing to move",
                       inst->dir, inst->settings.pg.dbname, inst->settings.pg.host,
                       inst->settings.pg.port);
    return 0;
}

/* Step 5: the committed copy read back over a new connection (as the next command will open
 * it) and hashed again, under the write lock: no other process uses the database yet, and
 * none could change it half-way. */
static int verify_committed(const struct pg_settings *pg, const struct copy_digests *want,
                            struct op_err *e)
{
    struct db *db = NULL;
    int rc = instance_open_pgsql(pg, 0, &db, e);
    if (rc == 0)
        rc = db_begin(db, e);
    if (rc == 0) {
        struct copy_digests got;
        rc = copy_digest(db, &got, e);
        db_rollback(db);
        for (int i = 0; rc == 0 && i < got.n; i++)
            if (got.t[i].rows != want->t[i].rows || strcmp(got.t[i].sha256, want->t[i].sha256) != 0)
                rc = err_set(e, OP_EDB,
                             "table %s, read back after the commit, differs from the "
                             "source",
                             got.t[i].table);
    }
    db_close(db);
    return rc;
}

/* Step 7: the instance opens from the new outpost.json, on PostgreSQL. */
static int verify_switched(const struct instance *inst, struct op_err *e)
{
    struct instance *again = NULL;
    int rc = instance_open(inst->dir, &again, e);
    if (rc == 0 && again->settings.driver != DB_DRIVER_PGSQL)
        rc = err_set(e, OP_ESTATE, "%s/%s does not name PostgreSQL after the switch", inst->dir,
                     INSTANCE_CONFIG_FILE);
    instance_close(again);
    return rc;
}

int app_store_migrate(struct instance *inst, const struct app_store_migrate_in *in,
                      struct app_store_migrate_report *r, struct op_err *e)
{
    memset(r, 0, sizeof *r);
    int rc = check_instance(inst, e);
    if (rc != 0)
        return rc;
    json_t *def = NULL;
    struct pg_settings pg;
    if ((rc = persistence_load_pgsql(in->conf_path, &def, &pg, e)) != 0)
        return rc;
    r->target = describe(&pg);
    /* the password now, so that its absence is told before anything is locked or created */
    if ((rc = pg_settings_read_password(&pg, e)) != 0) {
        json_decref(def);
        return rc;
    }
    pg_settings_free(&pg);
    r->sqlite_path = persistence_sqlite_path(inst);

    /* 1, 2: the source, locked and hashed before the target is touched */
    struct db *src = inst->db, *dst = NULL;
    if (db_begin(src, e) != 0) {
        json_decref(def);
        return err_prefix(e, "%s", r->sqlite_path);
    }
    rc = copy_source(src, &r->copy, e);
    /* 3: the target, as setup opens it */
    if (rc == 0 && (rc = instance_open_pgsql(&pg, 1, &dst, e)) == OP_ESTATE)
        e->remedy = OP_REMEDY_PG_NEW_DATABASE; /* not empty, or not Outpost's */
    int touched = dst != NULL;
    /* 4: the copy, verified */
    if (rc == 0 && (rc = copy_store(src, dst, &r->copy, e)) != 0)
        err_prefix(e, "%s", r->target);
    db_close(dst);
    /* 5: read back; 6: the switch, still under the source's lock */
    if (rc == 0 && (rc = verify_committed(&pg, &r->copy.src, e)) != 0)
        err_prefix(e, "%s", r->target);
    if (rc == 0)
        rc = persistence_switch(inst, def, &r->kept_config, e);
    db_rollback(src); /* nothing was written to it: this only lets other commands go on */
    json_decref(def);
    if (rc != 0) {
        if (touched)
            e->remedy = OP_REMEDY_PG_NEW_DATABASE;
        return rc;
    }
    copy_digests_total(&r->copy.src, r->total_sha256);
    /* 7 */
    if (verify_switched(inst, e) != 0)
        return err_prefix(e,
                          "the instance now uses %s, but opening it again failed (the SQLite "
                          "file %s is untouched: to go back, put %s back as %s)",
                          r->target, r->sqlite_path, r->kept_config, INSTANCE_CONFIG_FILE);
    return 0;
}
