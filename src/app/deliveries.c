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

/* db_write body: the deliveries of an import, each with its encrypted copy, in one
 * transaction (the package files, clear and encrypted, are written before: a retried run
 * finds them there). */
struct insert_run {
    struct delivery *d;
    struct app_content_new **content;
    size_t n;
    json_t *taken; /* app_import_watch.taken, or NULL */
};

static int labels_free(struct db *db, struct delivery *d, size_t n, json_t *taken_out,
                       struct op_err *e);

static int insert_deliveries(struct db *db, void *ctx, struct op_err *e)
{
    struct insert_run *r = ctx;
    /* checked again inside the transaction: another import may have taken a label since */
    int rc = labels_free(db, r->d, r->n, r->taken, e);
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        rc = deliveries_insert(db, &r->d[i], e);
        if (rc == 0)
            rc = app_content_record(db, r->content[i], r->d[i].id, r->d[i].version, e);
    }
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

/* One message of a package as {"file", "line", "message"}, the archive called by the name
 * the user knows it by (`w->archive_name`, else the file's). */
static json_t *message_json(const char *file, const struct app_import_watch *w, const char *msg)
{
    const char *slash = strrchr(file, '/');
    const char *base = slash ? slash + 1 : file;
    json_t *p = app_qti_problem_json(base, msg);
    if (w && w->archive_name && strncmp(msg, base, strlen(base)) == 0) {
        char *renamed = NULL;
        if (asprintf(&renamed, "%s%s", w->archive_name, msg + strlen(base)) > 0)
            json_object_set_new(p, "message", json_string(renamed));
        free(renamed);
    }
    return p;
}

/* One test of the package, compiled and stored. */
struct compiled {
    char sha[DELIVERY_SHA256_HEX];
    char *title;
};

static void compiled_free(struct compiled *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++)
        free(c[i].title);
    free(c);
}

/* Reads, checks and compiles every test of the QTI package `file` (only one when `one`) and
 * stores each compiled package by its hash: *out gets them in the manifest's order (caller
 * frees with compiled_free). `w` (may be NULL) asks for progress and the list of problems;
 * `warnings` (may be NULL) receives what the load changed rather than refused. */
static int compile_packages(struct instance *inst, const char *file,
                            const struct app_import_watch *w, int one, struct compiled **out,
                            size_t *n, json_t *warnings, struct op_err *e)
{
    *out = NULL;
    *n = 0;
    struct qti_loaded_set set = {NULL, 0};
    struct qti_limits lim;
    qti_limits_default(&lim);
    lim.max_archive_bytes = inst->settings.qti_package_max_bytes;
    struct qti_problems problems = {NULL, 0};
    int want_problems = w && json_is_array(w->problems);
    const struct qti_load_options o = {progress_items, (void *)w, want_problems ? &problems : NULL,
                                       NULL};
    progress(w, APP_IMPORT_READING, 0, 0);
    int rc = qti_load_all(file, &lim, &o, &set, e);
    for (size_t i = 0; rc != 0 && want_problems && i < problems.n; i++)
        json_array_append_new(w->problems, message_json(file, w, problems.v[i]));
    if (rc != 0 && w && w->archive_name) {
        const char *slash = strrchr(file, '/');
        const char *base = slash ? slash + 1 : file;
        if (strncmp(e->msg, base, strlen(base)) == 0) {
            char rest[OP_ERR_MAX];
            snprintf(rest, sizeof rest, "%s", e->msg + strlen(base));
            err_set(e, rc, "%s%s", w->archive_name, rest);
        }
    }
    qti_problems_free(&problems);
    if (rc == 0 && one && set.n > 1) {
        struct buf ids = BUF_INIT;
        for (size_t i = 0; i < set.n; i++)
            buf_printf(&ids, "%s%s", i ? ", " : "", set.tests[i]->resource->identifier);
        rc = err_set(e, OP_EINPUT,
                     "%s holds %zu tests (%s): a delivery takes a package of one test (import-qti "
                     "makes one delivery per test)",
                     w && w->archive_name ? w->archive_name : file, set.n, ids.data);
        buf_free(&ids);
    }
    if (rc == 0)
        progress(w, APP_IMPORT_COMPILING, 0, 0);
    struct compiled *c = rc == 0 ? calloc(set.n ? set.n : 1, sizeof *c) : NULL;
    if (rc == 0 && !c)
        rc = err_set(e, OP_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < set.n; i++) {
        const struct qti_loaded *l = set.tests[i];
        struct buf compiled = BUF_INIT;
        rc = qti_compile(l, &compiled, e);
        if (rc == 0)
            rc = packages_put(inst->dir, compiled.data, compiled.len, c[i].sha, e);
        if (rc == 0 && !(c[i].title = strdup(l->test->title ? l->test->title : "")))
            rc = err_set(e, OP_ENOMEM, "out of memory");
        buf_free(&compiled);
        for (size_t k = 0; rc == 0 && warnings && k < l->warnings.count; k++)
            json_array_append_new(warnings, message_json(file, w, l->warnings.msgs[k]));
    }
    if (rc == 0) {
        *out = c;
        *n = set.n;
    } else {
        compiled_free(c, set.n);
    }
    qti_loaded_set_free(&set);
    return rc;
}

void app_import_result_clear(struct app_import_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        delivery_clear(&r->deliveries[i]);
    free(r->deliveries);
    json_decref(r->warnings);
    memset(r, 0, sizeof *r);
}

/* The label of delivery `i` of `n` made from one package: the given label or the test's
 * title; with several tests, " (N)" (its position in the manifest) after the given label,
 * and after a title another test of the package shares. A new string, or NULL (no memory). */
static char *import_label(const char *given, const struct compiled *c, size_t n, size_t i)
{
    int shared = 0;
    for (size_t k = 0; !given && k < n; k++)
        shared |= k != i && strcmp(c[k].title, c[i].title) == 0;
    const char *base = given ? given : c[i].title;
    char *label = NULL;
    if ((given && n > 1) || shared) {
        if (asprintf(&label, "%s (%zu)", base, i + 1) < 0)
            label = NULL;
    } else {
        label = strdup(base);
    }
    return label;
}

/* OP_ECONFLICT (remedy OP_REMEDY_LABEL_TAKEN) when a delivery already has one of the labels
 * of d[0..n): two deliveries of one label make every later command that names it ambiguous.
 * The message names each label taken and the delivery that has it. */
static int labels_free(struct db *db, struct delivery *d, size_t n, json_t *taken_out,
                       struct op_err *e)
{
    json_t *labels = json_array();
    struct buf taken = BUF_INIT;
    int count = 0, rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct delivery old;
        struct op_err why = {0};
        int found = deliveries_find(db, d[i].label, &old, &why);
        if (found == 0) {
            buf_printf(&taken, "%s\"%s\" (%s)", count ? ", " : "", d[i].label, old.id);
            json_array_append_new(labels,
                                  json_pack("{s:s, s:s}", "label", d[i].label, "delivery", old.id));
            delivery_clear(&old);
            count++;
        } else if (found == OP_EINPUT) { /* several have it already */
            buf_printf(&taken, "%s\"%s\" (several)", count ? ", " : "", d[i].label);
            json_array_append_new(labels, json_pack("{s:s, s:n}", "label", d[i].label, "delivery"));
            count++;
        } else if (found != OP_ENOTFOUND) {
            rc = err_set(e, found, "%s", why.msg);
        }
    }
    if (rc == 0 && count)
        rc = err_set_remedy(e, OP_ECONFLICT, OP_REMEDY_LABEL_TAKEN,
                            "%s %s already: a second delivery of the same label would make it "
                            "ambiguous",
                            count == 1 ? "a delivery is labelled" : "deliveries are labelled",
                            taken.data);
    if (rc == OP_ECONFLICT && taken_out) {
        json_object_set(taken_out, "labels", labels);
        json_object_set_new(taken_out, "new_version", json_boolean(n == 1));
    }
    json_decref(labels);
    buf_free(&taken);
    return rc;
}

static int update_to(struct instance *inst, const struct app_deliveries_update_in *in,
                     const char *sha, struct delivery *out, int *changed, struct op_err *e);

/* import-qti --new-version: the one test of the package compiled as `c` becomes the next
 * version of the delivery labelled `label` (deliveries update's way), its settings changed
 * where `in` gives them. */
static int import_new_version(struct instance *inst, const struct app_deliveries_import_in *in,
                              const struct compiled *c, struct app_import_result *out,
                              struct op_err *e)
{
    const char *label = in->label ? in->label : c->title;
    struct delivery now;
    int rc = deliveries_find(inst->db, label, &now, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND,
                       "no delivery is labelled \"%s\" to take a new version of this package "
                       "(without a new version, the import makes that delivery)",
                       label);
    if (rc != 0)
        return rc;
    char id[UUID_STR_LEN];
    memcpy(id, now.id, sizeof id);
    delivery_clear(&now);
    const struct app_deliveries_update_in up = {
        id, NULL, in->proctored_default, in->max_executions, 0, in->file};
    if (!(out->deliveries = calloc(1, sizeof *out->deliveries)))
        return err_set(e, OP_ENOMEM, "out of memory");
    rc = update_to(inst, &up, c->sha, &out->deliveries[0], &out->changed, e);
    if (rc == 0)
        out->n = 1;
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
    struct app_import_result r;
    int rc = app_deliveries_import_all(inst, in, w, &r, e);
    if (rc == 0) {
        *out = r.deliveries[0]; /* the first; the others stay imported */
        memset(&r.deliveries[0], 0, sizeof r.deliveries[0]);
        app_import_result_clear(&r);
    }
    return rc;
}

int app_deliveries_import_all(struct instance *inst, const struct app_deliveries_import_in *in,
                              const struct app_import_watch *w, struct app_import_result *out,
                              struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "import-qti", e);
    if (rc == 0 && !in->file)
        rc = err_set(e, OP_EINPUT, "no QTI package given");
    if (rc == 0 && in->label && !in->label[0])
        rc = err_set(e, OP_EINPUT, "the label of a delivery must not be empty");
    if (rc == 0)
        rc = check_settings(in->proctored_default, in->max_executions, in->new_version, e);
    if (rc != 0)
        return rc;
    json_t *warnings = json_array();
    struct compiled *c = NULL;
    size_t n = 0;
    rc = compile_packages(inst, in->file, w, in->new_version, &c, &n, warnings, e);
    if (in->new_version) {
        if (rc == 0)
            rc = import_new_version(inst, in, &c[0], out, e);
        compiled_free(c, n);
        if (rc == 0) {
            out->new_version = 1;
            out->warnings = warnings;
        } else {
            json_decref(warnings);
            app_import_result_clear(out);
        }
        return rc;
    }
    struct delivery *d = rc == 0 ? calloc(n, sizeof *d) : NULL;
    struct app_content_new **content = rc == 0 ? calloc(n, sizeof *content) : NULL;
    if (rc == 0 && (!d || !content))
        rc = err_set(e, OP_ENOMEM, "out of memory");
    /* Each encrypted copy is bound to its delivery's id, so the ids come first; the packages
     * are encrypted before the transaction, which only records them. */
    if (rc == 0)
        progress(w, APP_IMPORT_ENCRYPTING, 0, 0);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uuid_generate(d[i].id);
        memcpy(d[i].package_sha256, c[i].sha, sizeof d[i].package_sha256);
        d[i].proctored_default = in->proctored_default;
        d[i].max_executions = in->max_executions;
        if (!(d[i].label = import_label(in->label, c, n, i)))
            rc = err_set(e, OP_ENOMEM, "out of memory");
    }
    /* a label taken is refused before the packages are encrypted (and again in the
     * transaction) */
    if (rc == 0)
        rc = labels_free(inst->db, d, n, w ? w->taken : NULL, e);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = app_content_prepare(inst, d[i].id, d[i].package_sha256, &content[i], e);
    if (rc == 0) {
        progress(w, APP_IMPORT_RECORDING, 0, 0);
        struct insert_run r = {d, content, n, w ? w->taken : NULL};
        rc = db_write(inst->db, insert_deliveries, &r, e); /* all or none */
    }
    if (rc == 0 && !(out->deliveries = calloc(n, sizeof *out->deliveries)))
        rc = err_set(e, OP_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((rc = deliveries_get(inst->db, d[i].id, &out->deliveries[out->n], e)) == 0)
            out->n++;
    for (size_t i = 0; d && i < n; i++) {
        free(d[i].label);
        if (content)
            app_content_new_free(content[i]);
    }
    free(d);
    free(content);
    compiled_free(c, n);
    if (rc == 0) {
        out->warnings = warnings;
    } else {
        json_decref(warnings);
        app_import_result_clear(out);
    }
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
    int changed;                           /* the store wrote something */
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
        if (in->label && strcmp(in->label, out->label) != 0) {
            /* another delivery's label would make both ambiguous */
            struct delivery other;
            struct op_err why = {0};
            int found = deliveries_find(db, in->label, &other, &why);
            if (found == 0 && strcmp(other.id, out->id) == 0) {
                delivery_clear(&other);
                found = OP_ENOTFOUND; /* its own id, given as a label */
            }
            if (found == 0 || found == OP_EINPUT)
                rc = err_set(e, OP_ECONFLICT,
                             "another delivery is labelled \"%s\" already (%s): choose another "
                             "label",
                             in->label, found == 0 ? other.id : "several");
            else if (found != OP_ENOTFOUND)
                rc = err_set(e, found, "%s", why.msg);
            if (found == 0)
                delivery_clear(&other);
        }
        if (rc == 0 && in->label) {
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
        rc = deliveries_update(db, out, &r->changed, e);
    /* A new package: its encrypted copy becomes current from the new version on; the rows of
     * older versions stay for the executions that started on them. */
    if (rc == 0 && new_package)
        rc = app_content_record(db, r->content, out->id, out->version, e);
    return rc;
}

int app_deliveries_update(struct instance *inst, const struct app_deliveries_update_in *in,
                          struct delivery *out, int *changed, struct op_err *e)
{
    return app_deliveries_update_warned(inst, in, NULL, out, changed, e);
}

int app_deliveries_update_warned(struct instance *inst, const struct app_deliveries_update_in *in,
                                 json_t *warnings, struct delivery *out, int *changed,
                                 struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (changed)
        *changed = 0;
    int rc = instance_require_role(inst, ROLE_CENTRAL, "deliveries update", e);
    if (rc == 0 && !in->label && in->proctored_default == -1 && in->max_executions == -1 &&
        !in->file)
        rc = err_set(e, OP_EINPUT,
                     "nothing to change: give a label, proctored, max executions or a package");
    if (rc == 0)
        rc = check_settings(in->proctored_default, in->max_executions, 1, e);
    if (rc != 0)
        return rc;
    char sha[DELIVERY_SHA256_HEX];
    if (in->file) {
        /* Compiled and stored before the transaction (a big package must not hold the write
         * lock). */
        struct compiled *c = NULL;
        size_t n = 0;
        rc = compile_packages(inst, in->file, NULL, 1, &c, &n, warnings, e);
        if (rc == 0)
            memcpy(sha, c[0].sha, sizeof sha);
        compiled_free(c, n);
    }
    if (rc == 0)
        rc = update_to(inst, in, in->file ? sha : NULL, out, changed, e);
    return rc;
}

/* The update of `in` with its package, when it has one, compiled and stored already as `sha`
 * (NULL: no new package); *out, *changed as app_deliveries_update. */
static int update_to(struct instance *inst, const struct app_deliveries_update_in *in,
                     const char *sha, struct delivery *out, int *changed, struct op_err *e)
{
    struct update_run r = {in, out, NULL, NULL, "", 0};
    struct app_content_new *content = NULL;
    int rc = 0;
    if (sha) {
        /* Encrypted before the transaction; the transaction checks the delivery is still the
         * one encrypted for. */
        struct delivery now;
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
    if (rc == 0 && sha && r.changed)
        changes_prepare_quietly(inst, seq); /* the new content key sealed to its test takers */
    if (rc == 0 && changed)
        *changed = r.changed;
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

int app_deliveries_resolve(struct db *db, const char *id_or_label, unsigned flags,
                           char id[UUID_STR_LEN], char **label, struct op_err *e)
{
    id[0] = '\0';
    if (label)
        *label = NULL;
    struct delivery d;
    memset(&d, 0, sizeof d);
    struct op_err quiet = {0};
    int rc = deliveries_find(db, id_or_label, &d, &quiet);
    if (rc == OP_ENOTFOUND && (flags & APP_DELIVERY_DELETED_OK) && uuid_is_valid(id_or_label)) {
        snprintf(id, UUID_STR_LEN, "%s", id_or_label); /* deleted since: its results are kept */
        return 0;
    }
    if (rc == OP_ENOTFOUND)
        return err_set_field(e, OP_ENOTFOUND, "delivery",
                             "no delivery \"%s\" (give its id or label: outpost deliveries list)",
                             id_or_label);
    if (rc != 0) {
        *e = quiet;
        if (rc == OP_EINPUT) /* a label several deliveries share */
            snprintf(e->field, sizeof e->field, "delivery");
        return rc;
    }
    snprintf(id, UUID_STR_LEN, "%s", d.id);
    if (label) {
        *label = d.label;
        d.label = NULL;
    }
    delivery_clear(&d);
    return 0;
}
