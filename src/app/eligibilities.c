/*
 * app/eligibilities.c - the eligibilities of a central server (see app/eligibilities.h):
 * naming the center, the delivery and the test takers of a request, the transactions of set
 * and delete, and the public JSON shape.
 */
#include "app/eligibilities.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "import/tao_uri.h"
#include "store/deliveries.h"
#include "store/testcenters.h"
#include "store/users.h"

void app_eligibility_clear(struct app_eligibility *a)
{
    eligibility_clear(&a->el);
    idlist_free(&a->test_takers);
    memset(a, 0, sizeof *a);
}

json_t *app_eligibility_json(const struct app_eligibility *a)
{
    const struct eligibility *el = &a->el;
    json_t *takers = json_array();
    for (int i = 0; i < a->test_takers.n; i++)
        json_array_append_new(takers, json_string(a->test_takers.v[i]));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(el->id));
    json_object_set_new(o, "center_id", json_string(el->center_id));
    json_object_set_new(o, "center_label", json_string(el->center_label));
    json_object_set_new(o, "delivery_id", json_string(el->delivery_id));
    json_object_set_new(o, "delivery_label", json_string(el->delivery_label));
    json_object_set_new(o, "proctored", json_boolean(el->proctored));
    json_object_set_new(o, "test_takers", takers);
    json_object_set_new(o, "version", json_integer(el->version));
    return o;
}

/* Reads eligibility `id` with its test takers into *out (cleared first). */
static int read_one(struct db *db, const char *id, struct app_eligibility *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = eligibilities_get(db, id, &out->el, e);
    if (rc == 0)
        rc = eligibilities_test_takers(db, id, &out->test_takers, e);
    if (rc != 0)
        app_eligibility_clear(out);
    return rc;
}

/* ---- list ---- */

int app_eligibilities_list(struct instance *inst, app_eligibility_fn fn, void *ctx,
                           struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "eligibilities list", e);
    if (rc != 0)
        return rc;
    struct db_cursor c;
    eligibilities_cursor(&c);
    const void *row;
    while ((rc = db_cursor_next(inst->db, &c, &row, e)) == 0 && row) {
        struct app_eligibility a = {*(const struct eligibility *)row, IDLIST_INIT};
        rc = eligibilities_test_takers(inst->db, a.el.id, &a.test_takers, e);
        if (rc == 0)
            rc = fn(&a, ctx);
        idlist_free(&a.test_takers); /* a.el's strings belong to the cursor's page */
        if (rc != 0)
            break;
    }
    db_cursor_close(&c);
    return rc;
}

/* ---- naming what a request concerns ---- */

/* Marks the error in *e as concerning input `field`, keeping its code and message. */
static void blame(struct op_err *e, const char *field)
{
    snprintf(e->field, sizeof e->field, "%s", field);
}

/* The center and the delivery a write names, found inside its transaction. */
struct pair {
    struct test_center c;
    struct delivery d;
};

/* Inside the transaction of set or delete: finds the center and the delivery (ids or labels;
 * on failure e->field says which was wrong, and *p is cleared). On success pair_clear must
 * follow. */
static int pair_find(struct db *db, const char *center, const char *delivery, struct pair *p,
                     struct op_err *e)
{
    memset(p, 0, sizeof *p);
    int rc = testcenters_find(db, center ? center : "", &p->c, e);
    if (rc == OP_ENOTFOUND && center && tao_uri_is(center))
        err_set(e, rc, "test center \"%s\" is a TAO URI, and Outpost keeps none: %s", center,
                tao_uri_advice(TAO_URI_TEST_CENTER));
    if (rc != 0)
        blame(e, "center");
    else if ((rc = deliveries_find(db, delivery ? delivery : "", &p->d, e)) != 0) {
        if (rc == OP_ENOTFOUND && delivery && tao_uri_is(delivery))
            err_set(e, rc, "delivery \"%s\" is a TAO URI, and Outpost keeps none: %s", delivery,
                    tao_uri_advice(TAO_URI_DELIVERY));
        blame(e, "delivery");
    }
    if (rc != 0)
        test_center_clear(&p->c);
    return rc;
}

static void pair_clear(struct pair *p)
{
    test_center_clear(&p->c);
    delivery_clear(&p->d);
}

/* Frees the n ids (and the array) resolve_test_takers gave. */
static void free_ids(char **ids, int n)
{
    for (int i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
}

/* Resolves `n` logins into user ids; every unknown login or user who is not a test taker is
 * named in one message (field "test_takers"). On success the caller frees *ids with
 * free_ids. */
static int resolve_test_takers(struct db *db, const char *const *logins, int n, char ***ids,
                               struct op_err *e)
{
    *ids = calloc((size_t)n + 1, sizeof **ids);
    if (!*ids)
        abort();
    struct buf bad = BUF_INIT;
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        struct user u;
        struct op_err ue = {0};
        int found = users_get_by_login(db, logins[i], &u, &ue);
        if (found == OP_ENOTFOUND && tao_uri_is(logins[i])) {
            buf_printf(&bad, "%s\"%s\" is a TAO URI, and Outpost keeps none: %s",
                       bad.len ? "; " : "", logins[i], tao_uri_advice(TAO_URI_USER));
        } else if (found == OP_ENOTFOUND) {
            buf_printf(&bad, "%sno user with login \"%s\"", bad.len ? "; " : "", logins[i]);
        } else if (found != 0) {
            rc = err_set(e, found, "%s", ue.msg);
        } else {
            if (strcmp(u.role, ROLE_TEST_TAKER) != 0)
                buf_printf(&bad, "%s\"%s\" is a %s, not a test-taker", bad.len ? "; " : "",
                           logins[i], u.role);
            (*ids)[i] = strdup(u.id);
            if (!(*ids)[i])
                abort();
            user_clear(&u);
        }
    }
    if (rc == 0 && bad.len)
        rc = err_set_field(e, OP_EINPUT, "test_takers", "%s", bad.data);
    buf_free(&bad);
    if (rc != 0) {
        free_ids(*ids, n);
        *ids = NULL;
    }
    return rc;
}

/* ---- set ---- */

struct set_run {
    const struct app_eligibility_set *in;
    enum eligibility_outcome what;
    struct app_eligibility *out; /* may be NULL */
};

/* db_write body of set. */
static int set_body(struct db *db, void *ctx, struct op_err *e)
{
    struct set_run *r = ctx;
    const struct app_eligibility_set *in = r->in;
    r->what = ELIGIBILITY_UNCHANGED;
    if (r->out)
        app_eligibility_clear(r->out); /* what a run that did not count read */
    struct pair p;
    int rc = pair_find(db, in->center, in->delivery, &p, e);
    if (rc != 0)
        return rc;
    char **ids = NULL;
    char id[UUID_STR_LEN] = "";
    rc = resolve_test_takers(db, in->test_takers, in->n, &ids, e);
    if (rc == 0)
        rc = eligibilities_set(db, p.c.id, p.d.id, (const char *const *)ids, in->n, in->proctored,
                               &r->what, id, e);
    if (rc == 0 && r->out)
        rc = read_one(db, id, r->out, e);
    free_ids(ids, in->n);
    pair_clear(&p);
    return rc;
}

int app_eligibilities_set(struct instance *inst, const struct app_eligibility_set *in,
                          enum eligibility_outcome *outcome, struct app_eligibility *out,
                          struct op_err *e)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (in->n < 0)
        return err_set_field(e, OP_EINPUT, "test_takers", "a negative number of test takers");
    if (in->proctored != 0 && in->proctored != 1 && in->proctored != ELIGIBILITY_PROCTORED_KEEP)
        return err_set_field(e, OP_EINPUT, "proctored", "proctored is yes or no");
    int rc = instance_require_role(inst, ROLE_CENTRAL, "eligibilities set", e);
    struct set_run r = {in, ELIGIBILITY_UNCHANGED, out};
    if (rc == 0)
        rc = db_write(inst->db, set_body, &r, e);
    if (rc != 0 && out)
        app_eligibility_clear(out);
    if (rc == 0 && outcome)
        *outcome = r.what;
    return rc;
}

/* ---- delete ---- */

struct delete_run {
    const char *center, *delivery;
    struct app_eligibility *out; /* may be NULL */
};

/* db_write body of delete. */
static int delete_body(struct db *db, void *ctx, struct op_err *e)
{
    struct delete_run *r = ctx;
    if (r->out)
        app_eligibility_clear(r->out); /* what a run that did not count read */
    struct pair p;
    int rc = pair_find(db, r->center, r->delivery, &p, e);
    if (rc != 0)
        return rc;
    struct eligibility el;
    struct op_err ge = {0};
    rc = eligibilities_get_pair(db, p.c.id, p.d.id, &el, &ge);
    int got = rc == 0;
    if (rc == OP_ENOTFOUND)
        err_set(e, rc, "test center \"%s\" has no eligibility for delivery \"%s\"", p.c.label,
                p.d.label);
    else if (rc != 0)
        err_set(e, rc, "%s", ge.msg);
    if (rc == 0 && r->out)
        rc = read_one(db, el.id, r->out, e);
    if (rc == 0)
        rc = eligibilities_delete(db, el.id, e);
    if (got)
        eligibility_clear(&el);
    pair_clear(&p);
    return rc;
}

int app_eligibilities_delete(struct instance *inst, const char *center, const char *delivery,
                             struct app_eligibility *out, struct op_err *e)
{
    if (out)
        memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "eligibilities delete", e);
    struct delete_run r = {center, delivery, out};
    if (rc == 0)
        rc = db_write(inst->db, delete_body, &r, e);
    if (rc != 0 && out)
        app_eligibility_clear(out);
    return rc;
}
