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
static void blame(struct op_err *e, const char *field)
{
    snprintf(e->field, sizeof e->field, "%s", field);
}

/* The center and the delivery a write names, found inside its transaction. */
struct pair {
    struct test_center c;
    struct delivery d;
};

/* Starts set or delete (`what`): checks that the instance is a central, opens the
 * transaction and finds the center and the delivery (ids or labels; on failure e->field says
 * which was wrong, and the transaction is rolled back). On success pair_end must follow. */
static int pair_begin(struct instance *inst, const char *what, const char *center,
                      const char *delivery, struct pair *p, struct op_err *e)
{
    memset(p, 0, sizeof *p);
    int rc = instance_require_role(inst, ROLE_CENTRAL, what, e);
    if (rc == 0)
        rc = db_begin(inst->db, e);
    if (rc != 0)
        return rc;
    rc = testcenters_find(inst->db, center ? center : "", &p->c, e);
    if (rc != 0)
        blame(e, "center");
    else if ((rc = deliveries_find(inst->db, delivery ? delivery : "", &p->d, e)) != 0)
        blame(e, "delivery");
    if (rc != 0) {
        test_center_clear(&p->c);
        return db_commit_if(inst->db, rc, e); /* rolls back */
    }
    return 0;
}

/* Ends what pair_begin started: commits if rc is 0, else rolls back and clears *out (may be
 * NULL). Returns the outcome. */
static int pair_end(struct instance *inst, struct pair *p, int rc, struct app_eligibility *out,
                    struct op_err *e)
{
    test_center_clear(&p->c);
    delivery_clear(&p->d);
    rc = db_commit_if(inst->db, rc, e);
    if (rc != 0 && out)
        app_eligibility_clear(out);
    return rc;
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
        free_ids(*ids, n);
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
    if (in->n < 0)
        return err_set_field(e, OP_EINPUT, "test_takers", "a negative number of test takers");
    if (in->proctored != 0 && in->proctored != 1 && in->proctored != ELIGIBILITY_PROCTORED_KEEP)
        return err_set_field(e, OP_EINPUT, "proctored", "proctored is yes or no");
    struct pair p;
    int rc = pair_begin(inst, "eligibilities set", in->center, in->delivery, &p, e);
    if (rc != 0)
        return rc;
    char **ids = NULL;
    enum eligibility_outcome what = ELIGIBILITY_UNCHANGED;
    char id[UUID_STR_LEN] = "";
    rc = resolve_test_takers(inst->db, in->test_takers, in->n, &ids, e);
    if (rc == 0)
        rc = eligibilities_set(inst->db, p.c.id, p.d.id, (const char *const *)ids, in->n,
                               in->proctored, &what, id, e);
    if (rc == 0 && out)
        rc = read_one(inst->db, id, out, e);
    free_ids(ids, in->n);
    rc = pair_end(inst, &p, rc, out, e);
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
    struct pair p;
    int rc = pair_begin(inst, "eligibilities delete", center, delivery, &p, e);
    if (rc != 0)
        return rc;
    struct eligibility el;
    struct op_err ge = {0};
    rc = eligibilities_get_pair(inst->db, p.c.id, p.d.id, &el, &ge);
    int got = rc == 0;
    if (rc == OP_ENOTFOUND)
        err_set(e, rc, "test center \"%s\" has no eligibility for delivery \"%s\"", p.c.label,
                p.d.label);
    else if (rc != 0)
        err_set(e, rc, "%s", ge.msg);
    if (rc == 0 && out)
        rc = read_one(inst->db, el.id, out, e);
    if (rc == 0)
        rc = eligibilities_delete(inst->db, el.id, e);
    if (got)
        eligibility_clear(&el);
    return pair_end(inst, &p, rc, out, e);
}
