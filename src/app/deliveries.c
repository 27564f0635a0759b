/*
 * deliveries.c - deliveries as the application sees them (see deliveries.h): the rules of
 * import-qti and of deliveries list/update/delete, whoever calls them.
 */
#include "app/deliveries.h"

#include <stdlib.h>
#include <string.h>

#include "app/changes.h"
#include "app/content.h"
#include "base/buf.h"
#include "qti/compile.h"
#include "store/delivery_content.h"
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
    json_object_set_new(o, "status", json_string(d->status[0] ? d->status : DELIVERY_PUBLISHED));
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

/* db_write bodies (the package files, clear and encrypted, are written before: a retried
 * run finds them there). */
struct insert_run {
    struct delivery *d;
    const struct app_content_new *content;
};

static int insert_delivery(struct db *db, void *ctx, struct op_err *e)
{
    struct insert_run *r = ctx;
    int rc = deliveries_insert(db, r->d, e);
    if (rc == 0)
        rc = app_content_record(db, r->content, r->d->id, r->d->version, e);
    return rc;
}

/* ---- the problems of a refused package ---- */

/* The "PATH line N" or "PATH" that a message's head (before its first ": ") names. */
static int is_path_like(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ' ' || (unsigned char)s[i] < 0x20)
            return 0;
    return memchr(s, '.', n) != NULL || memchr(s, '/', n) != NULL;
}

json_t *app_qti_problem_json(const char *archive, const char *message)
{
    const char *m = message;
    size_t an = archive ? strlen(archive) : 0;
    if (an && strncmp(m, archive, an) == 0 && strncmp(m + an, ": ", 2) == 0)
        m += an + 2;
    json_t *file = json_null(), *line = json_null();
    const char *colon = strstr(m, ": ");
    if (colon) {
        size_t n = (size_t)(colon - m);
        const char *ln = NULL;
        for (const char *p = m; p + 6 <= colon; p++)
            if (strncmp(p, " line ", 6) == 0)
                ln = p;
        size_t pathlen = ln ? (size_t)(ln - m) : n;
        if (is_path_like(m, pathlen)) {
            json_decref(file);
            file = json_stringn(m, pathlen);
        }
    }
    /* the first " line N" of the message, wherever it is (an item's messages name the
     * declaration before the line) */
    for (const char *p = strstr(m, " line "); p; p = strstr(p + 1, " line ")) {
        char *end;
        long v = strtol(p + 6, &end, 10);
        if (end != p + 6 && v > 0 && v < 100000000 && (*end == ':' || *end == ',' || *end == ' ')) {
            json_decref(line);
            line = json_integer(v);
            break;
        }
    }
    return json_pack("{s:o, s:o, s:s}", "file", file, "line", line, "message", message);
}

/* ---- importing ---- */

static void progress(const struct app_import_watch *w, const char *phase, size_t done, size_t total)
{
    if (w && w->progress)
        w->progress(w->ctx, phase, done, total);
}

static void progress_items(void *ctx, size_t done, size_t total)
{
    progress(ctx, APP_IMPORT_CHECKING, done, total);
}

/* Reads, checks and compiles the QTI package `file` and stores the compiled package by its
 * hash, into sha; *title (may be NULL) gets the test's title (caller frees). `in` (may be
 * NULL) asks for progress and the list of problems. */
static int compile_package(struct instance *inst, const char *file,
                           const struct app_import_watch *in, char sha[DELIVERY_SHA256_HEX],
                           char **title, struct op_err *e)
{
    struct qti_loaded *l = NULL;
    struct buf compiled = BUF_INIT;
    struct qti_limits lim;
    qti_limits_default(&lim);
    lim.max_archive_bytes = inst->settings.qti_package_max_bytes;
    struct qti_problems problems = {NULL, 0};
    int want_problems = in && json_is_array(in->problems);
    const struct qti_load_options o = {progress_items, (void *)in,
                                       want_problems ? &problems : NULL};
    progress(in, APP_IMPORT_READING, 0, 0);
    int rc = qti_load_with(file, &lim, &o, &l, e);
    if (rc != 0 && want_problems) {
        const char *slash = strrchr(file, '/');
        const char *base = slash ? slash + 1 : file;
        for (size_t i = 0; i < problems.n; i++) {
            /* messages name the file; the user knows it by the name they gave */
            json_t *p = app_qti_problem_json(base, problems.v[i]);
            if (in->archive_name && strncmp(problems.v[i], base, strlen(base)) == 0) {
                char *msg = NULL;
                if (asprintf(&msg, "%s%s", in->archive_name, problems.v[i] + strlen(base)) > 0)
                    json_object_set_new(p, "message", json_string(msg));
                free(msg);
            }
            json_array_append_new(in->problems, p);
        }
    }
    if (rc != 0 && in && in->archive_name) {
        const char *slash = strrchr(file, '/');
        const char *base = slash ? slash + 1 : file;
        if (strncmp(e->msg, base, strlen(base)) == 0) {
            char rest[OP_ERR_MAX];
            snprintf(rest, sizeof rest, "%s", e->msg + strlen(base));
            err_set(e, rc, "%s%s", in->archive_name, rest);
        }
    }
    qti_problems_free(&problems);
    if (rc == 0) {
        progress(in, APP_IMPORT_COMPILING, 0, 0);
        rc = qti_compile(l, &compiled, e);
    }
    if (rc == 0)
        rc = packages_put(inst->dir, compiled.data, compiled.len, sha, e);
    if (rc == 0 && title && !(*title = strdup(l->test->title ? l->test->title : "")))
        rc = err_set(e, OP_ENOMEM, "out of memory");
    buf_free(&compiled);
    qti_loaded_free(l);
    return rc;
}

int app_deliveries_import(struct instance *inst, const struct app_deliveries_import_in *in,
                          struct delivery *out, struct op_err *e)
{
    return app_deliveries_import_watched(inst, in, NULL, out, e);
}

int app_deliveries_import_watched(struct instance *inst, const struct app_deliveries_import_in *in,
                                  const struct app_import_watch *w, struct delivery *out,
                                  struct op_err *e)
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
    struct delivery d;
    memset(&d, 0, sizeof d);
    char *title = NULL;
    struct app_content_new *content = NULL;
    rc = compile_package(inst, in->file, w, d.package_sha256, &title, e);
    /* The encrypted copy is bound to the delivery's id, so the id comes first; the package is
     * encrypted before the transaction, which only records it. */
    uuid_generate(d.id);
    if (rc == 0) {
        progress(w, APP_IMPORT_ENCRYPTING, 0, 0);
        rc = app_content_prepare(inst, d.id, d.package_sha256, &content, e);
    }
    if (rc == 0) {
        progress(w, APP_IMPORT_RECORDING, 0, 0);
        d.label = (char *)(in->label ? in->label : title);
        d.proctored_default = in->proctored_default;
        d.max_executions = in->max_executions;
        struct insert_run r = {&d, content};
        rc = db_write(inst->db, insert_delivery, &r, e);
    }
    if (rc == 0)
        rc = deliveries_get(inst->db, d.id, out, e);
    app_content_new_free(content);
    free(title);
    return rc;
}

int app_deliveries_show(struct instance *inst, const char *id_or_label, json_t **out,
                        struct op_err *e)
{
    *out = NULL;
    struct delivery d;
    int rc = deliveries_find(inst->db, id_or_label, &d, e);
    if (rc != 0)
        return rc;
    struct delivery_content c;
    struct op_err none = {0};
    int have = delivery_content_get(inst->db, d.id, d.version, &c, &none);
    if (have != 0 && have != OP_ENOTFOUND) {
        delivery_clear(&d);
        return err_set(e, none.code, "%s", none.msg);
    }
    json_t *o = app_delivery_json(&d);
    /* A row for an older package (the current one changed without a copy) is not shown as
     * current. */
    int current = have == 0 && strcmp(c.package_sha256, d.package_sha256) == 0;
    json_object_set_new(o, "encrypted_package", current ? app_content_json(&c) : json_null());
    delivery_clear(&d);
    *out = o;
    return 0;
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
    const char *package_sha256;            /* the new package (in->file), else NULL */
    const struct app_content_new *content; /* its encrypted copy, when it differs */
    char content_for[UUID_STR_LEN];        /* the delivery it was encrypted for */
};

static int update_delivery(struct db *db, void *ctx, struct op_err *e)
{
    struct update_run *r = ctx;
    const struct app_deliveries_update_in *in = r->in;
    struct delivery *out = r->out;
    delivery_clear(out); /* what a run that did not count read */
    int rc = deliveries_find(db, in->delivery, out, e);
    int new_package = 0;
    if (rc == 0 && r->package_sha256 && strcmp(out->package_sha256, r->package_sha256) != 0) {
        /* encrypted for the delivery read before the transaction: still the same one? */
        if (!r->content || strcmp(app_content_new_package(r->content), r->package_sha256) != 0)
            rc = err_set(e, OP_ECONFLICT, "delivery %s changed meanwhile: run again", out->id);
        new_package = 1;
        snprintf(out->package_sha256, sizeof out->package_sha256, "%s", r->package_sha256);
    }
    if (rc == 0 && new_package && strcmp(out->id, r->content_for) != 0)
        rc = err_set(e, OP_ECONFLICT, "delivery \"%s\" now names another delivery: run again",
                     in->delivery);
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
    /* A new package: its encrypted copy becomes current from the new version on; the rows of
     * older versions stay for the executions that started on them. */
    if (rc == 0 && new_package)
        rc = app_content_record(db, r->content, out->id, out->version, e);
    return rc;
}

int app_deliveries_update(struct instance *inst, const struct app_deliveries_update_in *in,
                          struct delivery *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "deliveries update", e);
    if (rc == 0 && !in->label && in->proctored_default == -1 && in->max_executions == -1 &&
        !in->file)
        rc = err_set(e, OP_EINPUT,
                     "nothing to change: give a label, proctored, max executions or a package");
    if (rc == 0)
        rc = check_settings(in->proctored_default, in->max_executions, 1, e);
    if (rc != 0)
        return rc;
    struct update_run r = {in, out, NULL, NULL, ""};
    char sha[DELIVERY_SHA256_HEX];
    struct app_content_new *content = NULL;
    if (in->file) {
        /* Compiled, stored and encrypted before the transaction (a big package must not hold
         * the write lock); the transaction checks the delivery is still the one encrypted for. */
        struct delivery now;
        rc = compile_package(inst, in->file, NULL, sha, NULL, e);
        if (rc == 0)
            rc = deliveries_find(inst->db, in->delivery, &now, e);
        if (rc == 0) {
            if (strcmp(now.package_sha256, sha) != 0)
                rc = app_content_prepare(inst, now.id, sha, &content, e);
            memcpy(r.content_for, now.id, sizeof r.content_for);
            delivery_clear(&now);
        }
        r.package_sha256 = sha;
        r.content = content;
    }
    int64_t seq = 0;
    if (rc == 0)
        rc = changes_feed_seq(inst, &seq, e);
    if (rc == 0)
        rc = db_write(inst->db, update_delivery, &r, e);
    if (rc == 0 && in->file)
        changes_prepare_quietly(inst, seq); /* the new content key sealed to its test takers */
    app_content_new_free(content);
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

/* ---- publish, withdraw, versions ---- */

struct status_run {
    const char *id_or_label;
    int64_t version;
    const char *status;
    struct delivery *out;
    int changed;
};

static int status_body(struct db *db, void *ctx, struct op_err *e)
{
    struct status_run *r = ctx;
    delivery_clear(r->out); /* what a run that did not count read */
    r->changed = 0;
    int rc = deliveries_find(db, r->id_or_label, r->out, e);
    if (rc == 0)
        rc = deliveries_set_status(db, r->out->id, r->version, r->status, &r->changed, e);
    if (rc == 0 && r->changed) {
        char id[UUID_STR_LEN];
        memcpy(id, r->out->id, sizeof id);
        delivery_clear(r->out);
        rc = deliveries_get(db, id, r->out, e);
    }
    return rc;
}

int app_deliveries_set_status(struct instance *inst, const char *id_or_label, int64_t version,
                              const char *status, struct delivery *out, int *changed,
                              struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (changed)
        *changed = 0;
    int publish = status && strcmp(status, DELIVERY_PUBLISHED) == 0;
    int rc = instance_require_role(inst, ROLE_CENTRAL,
                                   publish ? "deliveries publish" : "deliveries withdraw", e);
    if (rc != 0)
        return rc;
    if (version < 0)
        return err_set_field(e, OP_EINPUT, "version", "a version is 1 or more");
    struct status_run r = {id_or_label ? id_or_label : "", version, status, out, 0};
    rc = db_write(inst->db, status_body, &r, e);
    if (rc != 0)
        delivery_clear(out);
    else if (changed)
        *changed = r.changed;
    return rc;
}

struct versions_run {
    json_t *arr;
    const char *current; /* the delivery's package now */
    int64_t now;         /* the delivery's version */
    int64_t newest;      /* the greatest row version <= now */
};

static int version_row(const struct delivery_content *c, void *ctx)
{
    struct versions_run *r = ctx;
    if (c->version <= r->now)
        r->newest = c->version;
    json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:s}", "version", (json_int_t)c->version,
                          "package_sha256", c->package_sha256, "enc_sha256", c->enc_sha256,
                          "enc_size", (json_int_t)c->enc_size, "created_at", c->created_at);
    if (!o || json_array_append_new(r->arr, o) != 0)
        return OP_ENOMEM;
    return 0;
}

int app_deliveries_versions(struct instance *inst, const char *id_or_label, json_t **out,
                            struct op_err *e)
{
    *out = NULL;
    int rc = instance_require_role(inst, ROLE_CENTRAL, "deliveries versions", e);
    struct delivery d;
    memset(&d, 0, sizeof d);
    if (rc == 0)
        rc = deliveries_find(inst->db, id_or_label ? id_or_label : "", &d, e);
    if (rc != 0)
        return rc;
    struct versions_run r = {json_array(), d.package_sha256, d.version, 0};
    rc = delivery_content_history(inst->db, d.id, version_row, &r, e);
    if (rc == OP_ENOMEM)
        err_set(e, rc, "out of memory listing the versions of a delivery");
    /* the current one: the newest row at or below the delivery's version, for its package
     * (a row of an older package is not what devices get: app_deliveries_show) */
    for (size_t i = 0; rc == 0 && i < json_array_size(r.arr); i++) {
        json_t *v = json_array_get(r.arr, i);
        int cur = json_integer_value(json_object_get(v, "version")) == r.newest &&
                  strcmp(json_string_value(json_object_get(v, "package_sha256")), r.current) == 0;
        json_object_set_new(v, "current", json_boolean(cur));
    }
    if (rc == 0) {
        *out = json_pack("{s:o, s:o}", "delivery", app_delivery_json(&d), "versions", r.arr);
        r.arr = NULL;
        if (!*out)
            rc = err_set(e, OP_ENOMEM, "out of memory listing the versions of a delivery");
    }
    json_decref(r.arr);
    delivery_clear(&d);
    return rc;
}
