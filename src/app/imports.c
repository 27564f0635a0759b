/*
 * imports.c - the CSV imports of a central (see imports.h): the checks of the request, the
 * generic driver of the record imports (both passes, the transaction, one savepoint per row)
 * and the import of users with central's master key.
 */
#include "app/imports.h"

#include <stdlib.h>
#include <string.h>

#include "app/changes.h"
#include "crypto/keys.h"
#include "import/batch.h"
#include "import/csv.h"
#include "import/eligibilities_import.h"
#include "import/testcenters_import.h"
#include "store/users.h"

/* ---- the record imports: test centers, eligibilities ---- */

/* Ends row i of pass 2, whose write returned row_rc (message in *re): on success counts the
 * outcome; on a problem of the row records "line N: message", marks the row bad and undoes it.
 * Both release the savepoint and return 0. A database failure returns OP_EDB (OP_EBUSY for a
 * lost race, which db_write runs again) as "FILE line N: ...": the import stops. */
static int row_end(struct db *db, const struct csv_table *t, const struct batch_kind *k, void *plan,
                   int i, int row_rc, const struct op_err *re, enum batch_outcome outcome,
                   struct app_import_report *r, struct op_err *e)
{
    if (row_rc == OP_EDB || row_rc == OP_EBUSY) /* the database itself failed: stop */
        return err_set(e, row_rc, "%s line %d: %s", t->path, t->rows[i].line, re->msg);
    if (row_rc != 0) {
        import_problems_add(&r->problems, t->rows[i].line, "%s", re->msg);
        k->set_bad(plan, i);
        return db_savepoint_rollback(db, e); /* undoes the row and ends the savepoint */
    }
    if (outcome == BATCH_CREATED) {
        r->created++;
    } else if (outcome == BATCH_UPDATED) {
        r->updated++;
    } else {
        r->unchanged++;
    }
    return db_savepoint_release(db, e);
}

/* Pass 2 of every record import (import/batch.h), inside the caller's transaction: each row
 * pass 1 kept is written inside its own savepoint, so that what only the write finds out
 * becomes a problem of that row and undoes that row alone. 0 (commit) if no row had a problem
 * or skip_invalid; otherwise OP_EINPUT (roll back: nothing was imported). */
static int apply_rows(struct db *db, const struct csv_table *t, const struct batch_kind *k,
                      void *plan, int skip_invalid, struct app_import_report *r, struct op_err *e)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < t->nrows; i++) {
        if (!k->ready(plan, t, i, &r->problems))
            continue;
        if ((rc = db_savepoint(db, e)) != 0)
            break;
        struct op_err re = {0};
        enum batch_outcome outcome = BATCH_UNCHANGED;
        int row_rc = k->apply(db, t, plan, i, &outcome, &re);
        rc = row_end(db, t, k, plan, i, row_rc, &re, outcome, r, e);
    }
    if (rc != 0)
        return rc;
    const struct import_problems *p = &r->problems;
    if (p->count > 0 && !skip_invalid)
        return err_set_remedy(e, OP_EINPUT, OP_REMEDY_SKIP_INVALID,
                              "%s: %d problem%s; nothing was imported", p->file, p->count,
                              p->count == 1 ? "" : "s");
    return 0;
}

/* The transaction of a record import (a db_write body). Pass 2 marks rows bad and records
 * problems as it goes: a run that db_write repeats starts from a clean slate, pass 1 again
 * (inside the transaction, so it sees what the lost race's winner wrote). */
struct records_run {
    const struct csv_table *t;
    const struct batch_kind *k;
    void *plan;
    int skip_invalid;
    struct app_import_report *r;
    int runs;
};

static int records_body(struct db *db, void *ctx, struct op_err *e)
{
    struct records_run *run = ctx;
    struct app_import_report *r = run->r;
    r->created = r->updated = r->unchanged = 0;
    if (run->runs++ > 0) {
        run->k->free(run->plan, run->t->nrows);
        run->plan = NULL;
        import_problems_free(&r->problems);
        int rc = run->k->check(db, run->t, &r->problems, &run->plan, e);
        if (rc != 0)
            return rc;
    }
    return apply_rows(db, run->t, run->k, run->plan, run->skip_invalid, r, e);
}

/* The body of every record import: `what` names the operation in the refusal on a device. */
static int import_records(struct instance *inst, const char *what, const struct batch_kind *k,
                          const struct app_import_request *req, struct app_import_report *r,
                          struct op_err *e)
{
    memset(r, 0, sizeof *r);
    r->file = req->file;
    import_problems_init(&r->problems, req->file);
    if (!req->file || !req->file[0])
        return err_set(e, OP_EINPUT, "%s: no file given", what);
    int rc = instance_require_role(inst, ROLE_CENTRAL, what, e);
    if (rc != 0)
        return rc;
    struct csv_table *t = NULL;
    if (req->data && req->len > inst->settings.csv_max_bytes)
        rc = err_set_remedy(e, OP_EINPUT, OP_REMEDY_CSV_LIMIT,
                            "%s: the file is %zu bytes, over the limit of %zu bytes", req->file,
                            req->len, inst->settings.csv_max_bytes);
    else if (req->data)
        rc = csv_table_parse(req->file, req->data, req->len, &t, e);
    else
        rc = csv_table_load(req->file, inst->settings.csv_max_bytes, &t, e);
    if (rc != 0)
        return rc;
    struct records_run run = {t, k, NULL, req->skip_invalid, r, 0};
    int64_t seq = 0;
    rc = k->check(inst->db, t, &r->problems, &run.plan, e);
    if (rc == 0)
        rc = changes_feed_seq(inst, &seq, e);
    if (rc == 0)
        rc = db_write(inst->db, records_body, &run, e);
    if (rc == 0) {
        changes_prepare_quietly(inst, seq); /* what the devices' pages will seal, sealed now */
        r->committed = 1;
        for (int i = 0; i < t->nrows; i++)
            r->skipped += k->is_bad(run.plan, i);
    } else {
        r->created = r->updated = r->unchanged = 0;
    }
    k->free(run.plan, t->nrows);
    csv_table_free(t);
    return rc;
}

int app_imports_testcenters(struct instance *inst, const struct app_import_request *req,
                            struct app_import_report *r, struct op_err *e)
{
    return import_records(inst, "import-testcenters", &testcenters_import, req, r, e);
}

int app_imports_eligibilities(struct instance *inst, const struct app_import_request *req,
                              struct app_import_report *r, struct op_err *e)
{
    return import_records(inst, "import-eligibilities", &eligibilities_import, req, r, e);
}

void app_import_report_free(struct app_import_report *r)
{
    import_problems_free(&r->problems);
}

json_t *app_import_report_json(const struct app_import_report *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(r->file));
    json_object_set_new(o, "imported", json_boolean(r->committed));
    json_object_set_new(o, "created", json_integer(r->created));
    json_object_set_new(o, "updated", json_integer(r->updated));
    json_object_set_new(o, "unchanged", json_integer(r->unchanged));
    json_object_set_new(o, "skipped", json_integer(r->skipped));
    json_object_set_new(o, "problems", import_problems_json(&r->problems));
    return o;
}

/* ---- users ---- */

int app_imports_users(struct instance *inst, const struct app_users_import_request *req,
                      struct users_import_report *r, struct op_err *e)
{
    users_import_report_init(r, req->file);
    if (!req->file || !req->file[0])
        return err_set(e, OP_EINPUT, "import-users: no file given");
    if (!req->role || !user_role_is_valid(req->role))
        return err_set(e, OP_EINPUT, "unknown role \"%s\" (use %s)", req->role ? req->role : "",
                       user_roles_list());
    if (inst->role != ROLE_CENTRAL)
        return err_set(e, OP_ESTATE,
                       "import-users runs on a central server; %s is an offline device, which "
                       "gets its users from central by sync",
                       inst->dir);
    /* Central's master key escrows every vault key the import makes (crypto/vault.h). */
    struct key *master = key_new();
    if (!master)
        return err_set(e, OP_ENOMEM, "out of memory");
    char *keys_dir = instance_path(inst, "keys");
    int rc = keys_load_master(keys_dir, master, e);
    free(keys_dir);
    if (rc == 0) {
        struct users_import_options opt = {
            .role = req->role,
            .master = master,
            .max_bytes = inst->settings.csv_max_bytes,
            .cost = inst->settings.password_cost,
            .policy = &inst->settings.password_policy,
            .skip_invalid = req->skip_invalid,
            .workers = req->workers,
            .progress = req->progress,
            .progress_ctx = req->progress_ctx,
        };
        int64_t seq = 0;
        rc = changes_feed_seq(inst, &seq, e);
        if (rc == 0)
            rc = users_import_file(inst->db, req->file, &opt, r, e);
        if (rc == 0)
            changes_prepare_quietly(inst, seq); /* users already in a scope: sealed now */
    }
    key_free(master);
    return rc;
}

json_t *app_users_import_json(const struct users_import_report *r)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "created", json_integer(r->created));
    json_object_set_new(doc, "updated", json_integer(r->updated));
    json_object_set_new(doc, "skipped", json_integer(r->skipped));
    json_object_set_new(doc, "invalid", import_problems_json(&r->problems));
    return doc;
}
