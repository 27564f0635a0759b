/*
 * app/eligibilities.c - the eligibilities of a central server (see app/eligibilities.h):
 * naming the center, the delivery and the test takers of a request, the transactions of set
 * and delete, and the public JSON shape.
 */
#include "app/eligibilities.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
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

static int add_login(const char *login, void *ctx)
{
    idlist_add(ctx, login);
    return 0;
}

/* Reads eligibility `id` with its test takers into *out (cleared first). */
static int read_one(struct db *db, const char *id, struct app_eligibility *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = eligibilities_get(db, id, &out->el, e);
    if (rc == 0)
        rc = eligibilities_test_takers_each(db, id, add_login, &out->test_takers, e);
    if (rc != 0)
        app_eligibility_clear(out);
    return rc;
}

/* ---- list ---- */

struct list_ctx {
    struct db *db;
    app_eligibility_fn fn;
    void *ctx;
    struct op_err *e;
};

static int list_one(const struct eligibility *el, void *vctx)
{
    struct list_ctx *ctx = vctx;
    struct app_eligibility a = {*el, IDLIST_INIT};
    int rc = eligibilities_test_takers_each(ctx->db, el->id, add_login, &a.test_takers, ctx->e);
    if (rc == 0)
        rc = ctx->fn(&a, ctx->ctx);
    idlist_free(&a.test_takers); /* a.el's strings belong to the store's loop */
    return rc;
}

int app_eligibilities_list(struct instance *inst, app_eligibility_fn fn, void *ctx,
                           struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "eligibilities list", e);
    if (rc != 0)
        return rc;
    struct list_ctx lc = {inst->db, fn, ctx, e};
    return eligibilities_each(inst->db, list_one, &lc, e);
}

/* ---- naming what a request concerns ---- */

/* Marks the error in *e as concerning input `field`, keeping its code and message. */
static int blame(struct op_err *e, const char *field, int rc)
{
    snprintf(e->field, sizeof e->field, "%s", field);
    return rc;
}

/* Finds the center and the delivery a request names (ids or labels). On success the caller
 * clears both; on failure e->field says which was wrong. */
static int find_pair(struct db *db, const char *center, const char *delivery, struct test_center *c,
                     struct delivery *d, struct op_err *e)
{
    memset(c, 0, sizeof *c);
    memset(d, 0, sizeof *d);
    int rc = testcenters_find(db, center ? center : "", c, e);
    if (rc != 0)
        return blame(e, "center", rc);
    rc = deliveries_find(db, delivery ? delivery : "", d, e);
    if (rc != 0) {
        test_center_clear(c);
        return blame(e, "delivery", rc);
    }
    return 0;
}

/* Resolves `n` logins into user ids; every unknown login or user who is not a test taker is
 * named in one message (field "test_takers"). On success the caller frees *ids (n strings
 * and the array). */
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
        if (found == OP_ENOTFOUND) {
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
        for (int i = 0; i < n; i++)
            free((*ids)[i]);
        free(*ids);
        *ids = NULL;
    }
    return rc;
}

/* ---- set ---- */

int app_eligibilities_set(struct instance *inst, const struct app_eligibility_set *in,
                          enum eligibility_outcome *outcome, struct app_eligibility *out,
                          struct op_err *e)
{
    if (out)
        memset(out, 0, sizeof *out);
    enum eligibility_outcome what = ELIGIBILITY_UNCHANGED;
    int rc = instance_require_role(inst, ROLE_CENTRAL, "eligibilities set", e);
    if (rc == 0 && in->n < 0)
        rc = err_set_field(e, OP_EINPUT, "test_takers", "a negative number of test takers");
    if (rc == 0 && in->proctored != 0 && in->proctored != 1 &&
        in->proctored != ELIGIBILITY_PROCTORED_KEEP)
        rc = err_set_field(e, OP_EINPUT, "proctored", "proctored is yes or no");
    if (rc == 0)
        rc = db_begin(inst->db, e);
    if (rc != 0)
        return rc;
    struct test_center c;
    struct delivery d;
    char **ids = NULL;
    char id[UUID_STR_LEN] = "";
    rc = find_pair(inst->db, in->center, in->delivery, &c, &d, e);
    if (rc == 0) {
        rc = resolve_test_takers(inst->db, in->test_takers, in->n, &ids, e);
        if (rc == 0)
            rc = eligibilities_set(inst->db, c.id, d.id, (const char *const *)ids, in->n,
                                   in->proctored, &what, id, e);
        if (rc == 0 && out)
            rc = read_one(inst->db, id, out, e);
        for (int i = 0; ids && i < in->n; i++)
            free(ids[i]);
        free(ids);
        test_center_clear(&c);
        delivery_clear(&d);
    }
    rc = db_commit_if(inst->db, rc, e);
    if (rc != 0 && out)
        app_eligibility_clear(out);
    if (rc == 0 && outcome)
        *outcome = what;
    return rc;
}

/* ---- delete ---- */

int app_eligibilities_delete(struct instance *inst, const char *center, const char *delivery,
                             struct app_eligibility *out, struct op_err *e)
{
    if (out)
        memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "eligibilities delete", e);
    if (rc == 0)
        rc = db_begin(inst->db, e);
    if (rc != 0)
        return rc;
    struct test_center c;
    struct delivery d;
    rc = find_pair(inst->db, center, delivery, &c, &d, e);
    if (rc == 0) {
        struct eligibility el;
        struct op_err ge = {0};
        rc = eligibilities_get_pair(inst->db, c.id, d.id, &el, &ge);
        int got = rc == 0;
        if (rc == OP_ENOTFOUND)
            err_set(e, rc, "test center \"%s\" has no eligibility for delivery \"%s\"", c.label,
                    d.label);
        else if (rc != 0)
            err_set(e, rc, "%s", ge.msg);
        if (rc == 0 && out)
            rc = read_one(inst->db, el.id, out, e);
        if (rc == 0)
            rc = eligibilities_delete(inst->db, el.id, e);
        if (got)
            eligibility_clear(&el);
        test_center_clear(&c);
        delivery_clear(&d);
    }
    rc = db_commit_if(inst->db, rc, e);
    if (rc != 0 && out)
        app_eligibility_clear(out);
    return rc;
}
