/*
 * deliveries.c - deliveries as the application sees them (see deliveries.h): the rules of
 * import-qti and of deliveries list/update/delete, whoever calls them.
 */
#include "app/deliveries.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "qti/compile.h"
#include "store/packages.h"

json_t *app_delivery_json(const struct delivery *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(d->id));
    json_object_set_new(o, "label", json_string(d->label ? d->label : ""));
    json_object_set_new(o, "package_sha256",
                        d->package_sha256[0] ? json_string(d->package_sha256) : json_null());
    json_object_set_new(o, "max_executions", json_integer(d->max_executions));
    json_object_set_new(o, "proctored_default", json_boolean(d->proctored_default));
    json_object_set_new(o, "version", json_integer(d->version));
    json_object_set_new(o, "created_at", json_string(d->created_at));
    json_object_set_new(o, "updated_at", json_string(d->updated_at));
    return o;
}

/* The settings a caller may give: proctored_default 0 or 1 (or -1, "unchanged", when
 * `keep` allows it), max_executions 0 or more (or -1 likewise). */
static int check_settings(int proctored_default, int64_t max_executions, int keep, struct op_err *e)
{
    if (proctored_default != 0 && proctored_default != 1 && !(keep && proctored_default == -1))
        return err_set(e, OP_EINPUT, "proctored by default is yes or no");
    if (max_executions < 0 && !(keep && max_executions == -1))
        return err_set(e, OP_EINPUT, "max executions must be 0 (unlimited) or more");
    return 0;
}

/* db_write bodies (the package file is written before: a retried run finds it there). */
static int insert_delivery(struct db *db, void *d, struct op_err *e)
{
    return deliveries_insert(db, d, e);
}

int app_deliveries_import(struct instance *inst, const struct app_deliveries_import_in *in,
                          struct delivery *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "import-qti", e);
    if (rc == 0 && !in->file)
        rc = err_set(e, OP_EINPUT, "no QTI package given");
    if (rc == 0 && in->label && !in->label[0])
        rc = err_set(e, OP_EINPUT, "the label of a delivery must not be empty");
    if (rc == 0)
        rc = check_settings(in->proctored_default, in->max_executions, 0, e);
    if (rc != 0)
        return rc;
    struct qti_loaded *l = NULL;
    struct buf compiled = BUF_INIT;
    struct delivery d;
    memset(&d, 0, sizeof d);
    struct qti_limits lim;
    qti_limits_default(&lim);
    lim.max_archive_bytes = inst->settings.qti_package_max_bytes;
    rc = qti_load(in->file, &lim, &l, e);
    if (rc == 0)
        rc = qti_compile(l, &compiled, e);
    if (rc == 0)
        rc = packages_put(inst->dir, compiled.data, compiled.len, d.package_sha256, e);
    if (rc == 0) {
        d.label = (char *)(in->label ? in->label : l->test->title);
        d.proctored_default = in->proctored_default;
        d.max_executions = in->max_executions;
        rc = db_write(inst->db, insert_delivery, &d, e);
    }
    if (rc == 0)
        rc = deliveries_get(inst->db, d.id, out, e);
    buf_free(&compiled);
    qti_loaded_free(l);
    return rc;
}

int app_deliveries_list(struct instance *inst, app_delivery_fn fn, void *ctx, struct op_err *e)
{
    struct db_cursor c;
    deliveries_cursor(&c);
    const void *row;
    int rc;
    while ((rc = db_cursor_next(inst->db, &c, &row, e)) == 0 && row && (rc = fn(row, ctx)) == 0)
        ;
    db_cursor_close(&c);
    return rc;
}

struct update_run {
    const struct app_deliveries_update_in *in;
    struct delivery *out;
};

static int update_delivery(struct db *db, void *ctx, struct op_err *e)
{
    struct update_run *r = ctx;
    const struct app_deliveries_update_in *in = r->in;
    struct delivery *out = r->out;
    delivery_clear(out); /* what a run that did not count read */
    int rc = deliveries_find(db, in->delivery, out, e);
    if (rc == 0) {
        if (in->version) /* the store refuses it if the delivery is no longer there */
            out->version = in->version;
        if (in->label) {
            free(out->label);
            out->label = strdup(in->label);
            if (!out->label)
                rc = err_set(e, OP_ENOMEM, "out of memory");
        }
        if (in->proctored_default != -1)
            out->proctored_default = in->proctored_default;
        if (in->max_executions != -1)
            out->max_executions = in->max_executions;
    }
    if (rc == 0)
        rc = deliveries_update(db, out, NULL, e);
    return rc;
}

int app_deliveries_update(struct instance *inst, const struct app_deliveries_update_in *in,
                          struct delivery *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "deliveries update", e);
    if (rc == 0 && !in->label && in->proctored_default == -1 && in->max_executions == -1)
        rc = err_set(e, OP_EINPUT, "nothing to change: give a label, proctored or max executions");
    if (rc == 0)
        rc = check_settings(in->proctored_default, in->max_executions, 1, e);
    if (rc != 0)
        return rc;
    struct update_run r = {in, out};
    rc = db_write(inst->db, update_delivery, &r, e);
    if (rc != 0)
        delivery_clear(out);
    return rc;
}

struct delete_run {
    const char *id_or_label;
    struct delivery *out;
};

static int delete_delivery(struct db *db, void *ctx, struct op_err *e)
{
    struct delete_run *r = ctx;
    delivery_clear(r->out); /* what a run that did not count read */
    int rc = deliveries_find(db, r->id_or_label, r->out, e);
    if (rc == 0)
        rc = deliveries_delete(db, r->out->id, e);
    return rc;
}

int app_deliveries_delete(struct instance *inst, const char *id_or_label, struct delivery *out,
                          struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "deliveries delete", e);
    struct delete_run r = {id_or_label, out};
    if (rc == 0)
        rc = db_write(inst->db, delete_delivery, &r, e);
    if (rc != 0)
        delivery_clear(out);
    return rc;
}
