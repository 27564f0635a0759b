/*
 * app/bo_admin.c - the backoffice's test centers, eligibilities and deliveries (see
 * bo_admin.h): the bodies of their endpoints, and who may call each operation. Lists read
 * what app/testcenters.h, app/eligibilities.h and app/deliveries.h list and keep what the
 * caller reaches; writes check the caller, then call the one operation that owns the rule.
 */
#include "app/bo_admin.h"

#include <stdlib.h>
#include <string.h>

#include "app/deliveries.h"
#include "app/eligibilities.h"
#include "app/testcenters.h"
#include "base/ids.h"
#include "store/eligibilities.h"
#include "store/testcenters.h"

/* ---- bodies ---- */

/* Member `name` of `body` as a string of 1 to BO_TEXT_MAX bytes without control characters
 * into *out; absent: *out NULL, an error only when `required`. */
static int text_member(const json_t *body, const char *name, int required, const char **out,
                       struct op_err *e)
{
    *out = NULL;
    json_t *v = json_object_get(body, name);
    if (!v) {
        if (required)
            return err_set_field(e, OP_EINPUT, name, "%s is required", name);
        return 0;
    }
    if (!json_is_string(v))
        return err_set_field(e, OP_EINPUT, name, "%s must be a string", name);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0)
        return err_set_field(e, OP_EINPUT, name, "%s must not be empty", name);
    if (n > BO_TEXT_MAX)
        return err_set_field(e, OP_EINPUT, name, "%s is longer than %d bytes", name, BO_TEXT_MAX);
    if (strlen(s) != n)
        return err_set_field(e, OP_EINPUT, name, "%s holds a NUL character", name);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return err_set_field(e, OP_EINPUT, name, "%s holds a control character", name);
    *out = s;
    return 0;
}

/* Member "version" as a whole number >= 1 into *out (0 when absent and not required). */
static int version_member(const json_t *body, int required, int64_t *out, struct op_err *e)
{
    *out = 0;
    json_t *v = json_object_get(body, "version");
    if (!v && !required)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return err_set_field(e, OP_EINPUT, "version",
                             "version must be the version last read (a whole number from 1)");
    *out = (int64_t)json_integer_value(v);
    return 0;
}

int app_bo_center_body_parse(const json_t *body, int create, struct bo_center_body *out,
                             struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return err_set_field(e, OP_EINPUT, "body", "the body is not a JSON object");
    int rc = text_member(body, "label", create, &out->label, e);
    if (rc == 0)
        rc = text_member(body, "org_id", create, &out->org_id, e);
    json_t *p = json_object_get(body, "parent_id");
    if (rc == 0 && p) {
        if (json_is_null(p))
            out->parent_id = "";
        else
            rc = text_member(body, "parent_id", 1, &out->parent_id, e);
    }
    if (rc == 0 && !create)
        rc = version_member(body, 1, &out->version, e);
    if (rc == 0 && !create && !out->label && !out->org_id && !out->parent_id)
        rc = err_set_field(e, OP_EINPUT, "body",
                           "nothing to change: give label, org_id or parent_id");
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

int app_bo_staff_body_parse(const json_t *body, struct bo_staff_body *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return err_set_field(e, OP_EINPUT, "body", "the body is not a JSON object");
    int rc = text_member(body, "login", 1, &out->login, e);
    if (rc == 0)
        rc = text_member(body, "duty", 1, &out->duty, e);
    if (rc == 0 && strcmp(out->duty, CENTER_DUTY_ADMIN) != 0 &&
        strcmp(out->duty, CENTER_DUTY_PROCTOR) != 0)
        rc = err_set_field(e, OP_EINPUT, "duty", "duty is \"%s\" or \"%s\"", CENTER_DUTY_ADMIN,
                           CENTER_DUTY_PROCTOR);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

void app_bo_eligibility_body_clear(struct bo_eligibility_body *b)
{
    free(b->test_takers);
    memset(b, 0, sizeof *b);
}

int app_bo_eligibility_body_parse(const json_t *body, struct bo_eligibility_body *out,
                                  struct op_err *e)
{
    memset(out, 0, sizeof *out);
    out->proctored = ELIGIBILITY_PROCTORED_KEEP;
    if (!json_is_object(body))
        return err_set_field(e, OP_EINPUT, "body", "the body is not a JSON object");
    int rc = text_member(body, "center", 1, &out->center, e);
    if (rc == 0)
        rc = text_member(body, "delivery", 1, &out->delivery, e);
    json_t *takers = json_object_get(body, "test_takers");
    if (rc == 0 && !json_is_array(takers))
        rc = err_set_field(e, OP_EINPUT, "test_takers",
                           "test_takers must be an array of logins (it may be empty)");
    if (rc == 0 && json_array_size(takers) > BO_TEST_TAKERS_MAX)
        rc = err_set_field(e, OP_EINPUT, "test_takers", "more than %d test takers",
                           BO_TEST_TAKERS_MAX);
    if (rc == 0) {
        size_t n = json_array_size(takers);
        out->test_takers = calloc(n + 1, sizeof *out->test_takers);
        if (!out->test_takers)
            rc = err_set(e, OP_ENOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            json_t *t = json_array_get(takers, i);
            const char *s = json_string_value(t);
            size_t len = json_is_string(t) ? json_string_length(t) : 0;
            if (!s || len == 0 || len > BO_TEXT_MAX || strlen(s) != len)
                rc = err_set_field(e, OP_EINPUT, "test_takers",
                                   "test_takers[%zu] must be a login (a non-empty string)", i);
            else
                out->test_takers[out->n++] = s;
        }
    }
    json_t *p = json_object_get(body, "proctored");
    if (rc == 0 && p && !json_is_null(p)) {
        if (!json_is_boolean(p))
            rc = err_set_field(e, OP_EINPUT, "proctored", "proctored is true, false or null");
        else
            out->proctored = json_is_true(p);
    }
    if (rc != 0)
        app_bo_eligibility_body_clear(out);
    return rc;
}

int app_bo_version_body_parse(const json_t *body, int64_t *version, struct op_err *e)
{
    *version = 0;
    if (!json_is_object(body))
        return err_set_field(e, OP_EINPUT, "body", "the body is not a JSON object");
    return version_member(body, 0, version, e);
}

int app_bo_retry_body_parse(const json_t *body, struct bo_retry_body *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return err_set_field(e, OP_EINPUT, "body", "the body is not a JSON object");
    json_t *nv = json_object_get(body, "new_version");
    if (nv && !json_is_boolean(nv))
        return err_set_field(e, OP_EINPUT, "new_version", "new_version is true or false");
    int rc = text_member(body, "label", 0, &out->label, e);
    if (rc != 0)
        return rc;
    out->new_version = json_is_true(nv);
    if (out->new_version == !!out->label) {
        out->label = NULL;
        out->new_version = 0;
        return err_set_field(e, OP_EINPUT, "body",
                             "give either \"label\" (import the package under another label) "
                             "or \"new_version\": true (make it the next version of the "
                             "delivery that has its label), not both");
    }
    return 0;
}

int app_bo_upload_params_parse(const char *filename, const char *label, const char *proctored,
                               const char *max_executions, struct bo_upload_params *out,
                               struct op_err *e)
{
    memset(out, 0, sizeof *out);
    out->filename = filename && filename[0] ? filename : "package.zip";
    out->proctored_default = 1;
    if (strlen(out->filename) > 255)
        return err_set_field(e, OP_EINPUT, "filename", "filename is longer than 255 bytes");
    if (label) {
        size_t n = strlen(label);
        if (n == 0)
            return err_set_field(e, OP_EINPUT, "label",
                                 "label must not be empty (leave it out "
                                 "for the test's title)");
        if (n > BO_TEXT_MAX)
            return err_set_field(e, OP_EINPUT, "label", "label is longer than %d bytes",
                                 BO_TEXT_MAX);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
                return err_set_field(e, OP_EINPUT, "label", "label holds a control character");
        out->label = label;
    }
    if (proctored) {
        out->proctored_default = eligibilities_parse_proctored(proctored);
        if (out->proctored_default < 0)
            return err_set_field(e, OP_EINPUT, "proctored", "proctored is yes or no");
    }
    if (max_executions) {
        char *end;
        long long v = strtoll(max_executions, &end, 10);
        if (end == max_executions || *end || v < 0 || v > 1000000)
            return err_set_field(e, OP_EINPUT, "max_executions",
                                 "max_executions is a whole number from 0 (unlimited) to "
                                 "1000000");
        out->max_executions = v;
    }
    return 0;
}

/* ---- test centers ---- */

/* <center>: app_center_json with "parent_label". */
static json_t *center_json(const struct app_center *c)
{
    json_t *o = app_center_json(c);
    json_object_set_new(o, "parent_label",
                        c->parent_label ? json_string(c->parent_label) : json_null());
    return o;
}

struct centers_run {
    const struct bo_caller *who;
    json_t *arr;
    const char *children_of; /* only the sub-centers of this center, as {"id", "label"} */
};

static int center_row(const struct app_center *c, void *ctx)
{
    struct centers_run *r = ctx;
    if (!app_bo_center_in_scope(r->who, c->center.id))
        return 0;
    if (r->children_of) {
        if (strcmp(c->center.parent_id, r->children_of) == 0)
            json_array_append_new(
                r->arr, json_pack("{s:s, s:s}", "id", c->center.id, "label", c->center.label));
        return 0;
    }
    return json_array_append_new(r->arr, center_json(c)) == 0 ? 0 : OP_ENOMEM;
}

int app_bo_centers_list(struct instance *inst, const struct bo_caller *who, json_t **out,
                        struct op_err *e)
{
    *out = NULL;
    struct centers_run r = {who, json_array(), NULL};
    int rc = app_testcenters_list(inst, center_row, &r, e);
    if (rc == OP_ENOMEM)
        err_set(e, rc, "out of memory listing test centers");
    if (rc != 0) {
        json_decref(r.arr);
        return rc;
    }
    *out = json_pack("{s:o}", "centers", r.arr);
    return 0;
}

/* *out: center `id` as the caller reaches it, with its sub-centers. */
static int center_doc(struct instance *inst, const struct bo_caller *who, const char *id,
                      json_t **out, struct op_err *e)
{
    *out = NULL;
    struct app_center c;
    int rc = app_testcenters_get(inst, id, &c, e);
    if (rc != 0)
        return rc;
    struct centers_run r = {who, json_array(), c.center.id};
    rc = app_testcenters_list(inst, center_row, &r, e);
    if (rc == 0) {
        *out = center_json(&c);
        json_object_set_new(*out, "sub_centers", r.arr);
    } else {
        json_decref(r.arr);
    }
    app_center_clear(&c);
    return rc;
}

int app_bo_center_get(struct instance *inst, const struct bo_caller *who, const char *id,
                      json_t **out, struct op_err *e)
{
    *out = NULL;
    int rc = app_bo_access_center(who, id, e);
    return rc ? rc : center_doc(inst, who, id, out, e);
}

int app_bo_center_create(struct instance *inst, const struct bo_caller *who,
                         const struct bo_center_body *b, json_t **out, struct op_err *e)
{
    *out = NULL;
    int top = !b->parent_id || !b->parent_id[0];
    if (top && !who->super)
        return err_set_field(e, OP_EFORBIDDEN, "parent_id",
                             "only the super-user may add a top-level test center; give one of "
                             "your centers as its parent");
    int rc = top ? 0 : app_bo_access_center(who, b->parent_id, e);
    if (rc != 0) {
        snprintf(e->field, sizeof e->field, "parent_id");
        return rc;
    }
    const struct app_center_new in = {b->label, b->org_id, top ? NULL : b->parent_id};
    struct test_center c;
    rc = app_testcenters_add(inst, &in, &c, NULL, e);
    if (rc != 0)
        return rc;
    rc = center_doc(inst, who, c.id, out, e);
    test_center_clear(&c);
    return rc;
}

int app_bo_center_update(struct instance *inst, const struct bo_caller *who, const char *id,
                         const struct bo_center_body *b, json_t **out, struct op_err *e)
{
    *out = NULL;
    int rc = app_bo_access_center(who, id, e);
    if (rc != 0)
        return rc;
    if (b->parent_id && b->parent_id[0] && !app_bo_center_in_scope(who, b->parent_id))
        return err_set_field(e, OP_ENOTFOUND, "parent_id", "no test center %.64s", b->parent_id);
    if (b->parent_id && !b->parent_id[0] && !who->super) {
        /* a top-level center stays in the scope only of its own administrators */
        struct app_center c;
        rc = app_testcenters_get(inst, id, &c, e);
        if (rc != 0)
            return rc;
        int mine = idlist_has(&c.admins, who->login) || !c.center.parent_id[0];
        app_center_clear(&c);
        if (!mine)
            return err_set_field(e, OP_EFORBIDDEN, "parent_id",
                                 "only the super-user may make a sub-center top-level (it would "
                                 "leave your centers)");
    }
    const struct test_center_changes ch = {b->label, b->org_id, b->parent_id};
    struct app_center_update u;
    rc = app_testcenters_update(inst, id, b->version, &ch, &u, e);
    if (rc != 0)
        return rc;
    int changed = u.changed;
    app_center_update_clear(&u);
    rc = center_doc(inst, who, id, out, e);
    if (rc == 0)
        json_object_set_new(*out, "changed", json_boolean(changed));
    return rc;
}

int app_bo_center_delete(struct instance *inst, const struct bo_caller *who, const char *id,
                         struct op_err *e)
{
    int rc = app_bo_access_center(who, id, e);
    return rc ? rc : app_testcenters_delete(inst, id, e);
}

int app_bo_center_staff(struct instance *inst, const struct bo_caller *who, const char *id,
                        const char *login, const char *duty, int assign, json_t **out,
                        struct op_err *e)
{
    *out = NULL;
    if (!duty || (strcmp(duty, CENTER_DUTY_ADMIN) != 0 && strcmp(duty, CENTER_DUTY_PROCTOR) != 0))
        return err_set_field(e, OP_EINPUT, "duty", "duty is \"%s\" or \"%s\"", CENTER_DUTY_ADMIN,
                             CENTER_DUTY_PROCTOR);
    int rc = app_bo_access_center(who, id, e);
    if (rc == 0 && assign)
        rc = app_testcenters_assign(inst, id, login, duty, NULL, e);
    else if (rc == 0)
        rc = app_testcenters_unassign(inst, id, login, duty, e);
    return rc ? rc : center_doc(inst, who, id, out, e);
}

/* ---- eligibilities ---- */

struct elig_run {
    const struct bo_caller *who;
    const char *center_id, *delivery_id;
    json_t *arr;
};

static int elig_row(const struct app_eligibility *a, void *ctx)
{
    struct elig_run *r = ctx;
    if (!app_bo_center_in_scope(r->who, a->el.center_id) ||
        (r->center_id && strcmp(r->center_id, a->el.center_id) != 0) ||
        (r->delivery_id && strcmp(r->delivery_id, a->el.delivery_id) != 0))
        return 0;
    return json_array_append_new(r->arr, app_eligibility_json(a)) == 0 ? 0 : OP_ENOMEM;
}

int app_bo_eligibilities_list(struct instance *inst, const struct bo_caller *who,
                              const char *center_id, const char *delivery_id, json_t **out,
                              struct op_err *e)
{
    *out = NULL;
    struct elig_run r = {who, center_id, delivery_id, json_array()};
    int rc = app_eligibilities_list(inst, elig_row, &r, e);
    if (rc == OP_ENOMEM)
        err_set(e, rc, "out of memory listing eligibilities");
    if (rc != 0) {
        json_decref(r.arr);
        return rc;
    }
    *out = json_pack("{s:o}", "eligibilities", r.arr);
    return 0;
}

/* The centers of the caller's scope labelled `label`: how many, and the last one's id. */
struct label_run {
    const struct bo_caller *who;
    const char *label;
    int n;
    char id[UUID_STR_LEN];
};

static int label_row(const struct app_center *c, void *ctx)
{
    struct label_run *r = ctx;
    if (strcmp(c->center.label, r->label) == 0 && app_bo_center_in_scope(r->who, c->center.id)) {
        r->n++;
        snprintf(r->id, sizeof r->id, "%s", c->center.id);
    }
    return 0;
}

int app_bo_eligibility_set(struct instance *inst, const struct bo_caller *who,
                           const struct bo_eligibility_body *b, json_t **out, int *created,
                           struct op_err *e)
{
    *out = NULL;
    if (created)
        *created = 0;
    /* the center named is resolved first, so that its scope is checked, then named by id; an
     * administrator's label is looked for among their centers only (an ambiguity elsewhere
     * would name centers they do not reach) */
    char id[UUID_STR_LEN] = "";
    int rc = 0;
    if (who->super || uuid_is_valid(b->center)) {
        struct test_center c;
        rc = app_testcenters_find(inst, b->center, &c, e);
        if (rc == 0) {
            snprintf(id, sizeof id, "%s", c.id);
            test_center_clear(&c);
        }
    } else {
        struct label_run lr = {who, b->center, 0, ""};
        rc = app_testcenters_list(inst, label_row, &lr, e);
        if (rc == 0 && lr.n == 1)
            snprintf(id, sizeof id, "%s", lr.id);
        else if (rc == 0 && lr.n > 1)
            rc =
                err_set(e, OP_EINPUT, "%d of your test centers are labelled \"%.64s\"; give the id",
                        lr.n, b->center);
    }
    if (rc == 0 && (!id[0] || !app_bo_center_in_scope(who, id)))
        rc = err_set(e, OP_ENOTFOUND, "no test center with id or label \"%.64s\"", b->center);
    if (rc != 0) {
        snprintf(e->field, sizeof e->field, "center");
        return rc;
    }
    const struct app_eligibility_set in = {id, b->delivery, b->test_takers, b->n, b->proctored};
    enum eligibility_outcome what = ELIGIBILITY_UNCHANGED;
    struct app_eligibility a;
    rc = app_eligibilities_set(inst, &in, &what, &a, e);
    if (rc != 0)
        return rc;
    static const char *const outcomes[] = {"unchanged", "created", "updated"};
    *out = app_eligibility_json(&a);
    json_object_set_new(*out, "outcome", json_string(outcomes[what]));
    app_eligibility_clear(&a);
    if (created)
        *created = what == ELIGIBILITY_CREATED;
    return 0;
}

int app_bo_eligibility_delete(struct instance *inst, const struct bo_caller *who, const char *id,
                              struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "eligibilities delete", e);
    struct eligibility el;
    struct op_err ge = {0};
    if (rc == 0 && (rc = eligibilities_get(inst->db, id, &el, &ge)) != 0)
        return rc == OP_ENOTFOUND ? err_set(e, rc, "no eligibility %.64s", id)
                                  : err_set(e, rc, "%s", ge.msg);
    if (rc != 0)
        return rc;
    if (!app_bo_center_in_scope(who, el.center_id))
        rc = err_set(e, OP_ENOTFOUND, "no eligibility %.64s", id);
    else
        rc = app_eligibilities_delete(inst, el.center_id, el.delivery_id, NULL, e);
    eligibility_clear(&el);
    return rc;
}

/* ---- deliveries ---- */

struct deliv_run {
    json_t *arr;
    json_t *counts; /* delivery id -> eligibilities */
};

static int count_elig(const struct app_eligibility *a, void *ctx)
{
    struct deliv_run *r = ctx;
    json_t *n = json_object_get(r->counts, a->el.delivery_id);
    json_object_set_new(r->counts, a->el.delivery_id,
                        json_integer(n ? json_integer_value(n) + 1 : 1));
    return 0;
}

static int deliv_row(const struct delivery *d, void *ctx)
{
    struct deliv_run *r = ctx;
    json_t *o = app_delivery_json(d);
    json_t *n = json_object_get(r->counts, d->id);
    json_object_set_new(o, "eligibilities", json_integer(n ? json_integer_value(n) : 0));
    return json_array_append_new(r->arr, o) == 0 ? 0 : OP_ENOMEM;
}

int app_bo_deliveries_list(struct instance *inst, const struct bo_caller *who, json_t **out,
                           struct op_err *e)
{
    (void)who; /* every backoffice user lists them: an administrator chooses among them */
    *out = NULL;
    struct deliv_run r = {json_array(), json_object()};
    int rc = app_eligibilities_list(inst, count_elig, &r, e);
    if (rc == 0)
        rc = app_deliveries_list(inst, deliv_row, &r, e);
    if (rc == OP_ENOMEM)
        err_set(e, rc, "out of memory listing deliveries");
    json_decref(r.counts);
    if (rc != 0) {
        json_decref(r.arr);
        return rc;
    }
    *out = json_pack("{s:o}", "deliveries", r.arr);
    return 0;
}

int app_bo_delivery_get(struct instance *inst, const struct bo_caller *who, const char *id,
                        json_t **out, struct op_err *e)
{
    (void)who;
    *out = NULL;
    struct delivery d;
    struct op_err ge = {0};
    /* by id only: a label is not an address */
    int rc = deliveries_get(inst->db, id, &d, &ge);
    if (rc != 0)
        return err_set(e, rc, "%s", ge.msg);
    rc = app_deliveries_versions(inst, d.id, out, e);
    delivery_clear(&d);
    return rc;
}

int app_bo_delivery_set_status(struct instance *inst, const struct bo_caller *who, const char *id,
                               int64_t version, const char *status, json_t **out, struct op_err *e)
{
    *out = NULL;
    int publish = status && strcmp(status, DELIVERY_PUBLISHED) == 0;
    int rc = app_bo_require_super(who, publish ? "publish a delivery" : "withdraw a delivery", e);
    struct delivery d;
    struct op_err ge = {0};
    if (rc == 0 && (rc = deliveries_get(inst->db, id, &d, &ge)) != 0)
        return err_set(e, rc, "%s", ge.msg);
    if (rc != 0)
        return rc;
    delivery_clear(&d);
    int changed = 0;
    rc = app_deliveries_set_status(inst, id, version, status, &d, &changed, e);
    if (rc != 0)
        return rc;
    *out = json_pack("{s:o, s:b}", "delivery", app_delivery_json(&d), "changed", changed);
    delivery_clear(&d);
    return 0;
}

int app_bo_delivery_may_upload(const struct bo_caller *who, struct op_err *e)
{
    return app_bo_require_super(who, "upload a QTI package", e);
}
