/*
 * app/testcenters.c - the test centers of a central server (see app/testcenters.h). Listing
 * reads every center, then every administrator and every proctor in one query each, and
 * joins them in memory by center id, so a list costs three queries however long it is.
 */
#include "app/testcenters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/users.h"

void app_center_clear(struct app_center *c)
{
    test_center_clear(&c->center);
    free(c->parent_label);
    idlist_free(&c->admins);
    idlist_free(&c->proctors);
    memset(c, 0, sizeof *c);
}

static json_t *logins_json(const struct idlist *l)
{
    json_t *arr = json_array();
    for (int i = 0; i < l->n; i++)
        json_array_append_new(arr, json_string(l->v[i]));
    return arr;
}

json_t *app_center_json(const struct app_center *ac)
{
    const struct test_center *c = &ac->center;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "label", json_string(c->label));
    json_object_set_new(o, "org_id", json_string(c->org_id));
    json_object_set_new(o, "parent_id", c->parent_id[0] ? json_string(c->parent_id) : json_null());
    json_object_set_new(o, "admins", logins_json(&ac->admins));
    json_object_set_new(o, "proctors", logins_json(&ac->proctors));
    json_object_set_new(o, "version", json_integer(c->version));
    return o;
}

static int require_central(struct instance *inst, const char *what, struct op_err *e)
{
    return instance_require_role(inst, ROLE_CENTRAL, what, e);
}

int app_testcenters_find(struct instance *inst, const char *id_or_label, struct test_center *out,
                         struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = require_central(inst, "testcenters", e);
    return rc ? rc : testcenters_find(inst->db, id_or_label, out, e);
}

/* ---- centers with their staff, joined in memory ---- */

/* Centers being listed, sorted by id in `by_id` for the join (the array keeps list order). */
struct center_set {
    struct app_center *v;
    int n, cap;
    struct app_center **by_id;
};

static void set_free(struct center_set *s)
{
    for (int i = 0; i < s->n; i++)
        app_center_clear(&s->v[i]);
    free(s->v);
    free(s->by_id);
    memset(s, 0, sizeof *s);
}

static void collect_center(const struct test_center *c, struct center_set *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = realloc(s->v, (size_t)s->cap * sizeof *s->v);
        if (!s->v)
            abort();
    }
    struct app_center *ac = &s->v[s->n++];
    memset(ac, 0, sizeof *ac);
    ac->center = *c;
    ac->center.label = strdup(c->label);
    ac->center.org_id = strdup(c->org_id);
    if (!ac->center.label || !ac->center.org_id)
        abort();
}

static int by_id_cmp(const void *a, const void *b)
{
    return strcmp((*(struct app_center *const *)a)->center.id,
                  (*(struct app_center *const *)b)->center.id);
}

static struct app_center *set_lookup(const struct center_set *s, const char *id)
{
    struct app_center key, *pkey = &key;
    snprintf(key.center.id, sizeof key.center.id, "%s", id);
    struct app_center **hit = bsearch(&pkey, s->by_id, (size_t)s->n, sizeof *s->by_id, by_id_cmp);
    return hit ? *hit : NULL;
}

/* Adds the staff of `duty` (of the center `only`, or of all) to the centers of `s` they work
 * at, as admins or proctors. */
static int add_staff(struct db *db, const struct center_set *s, const char *only, const char *duty,
                     int admin, struct op_err *e)
{
    struct db_cursor c;
    testcenters_staff_cursor(&c, only, duty);
    const void *row;
    int rc;
    while ((rc = db_cursor_next(db, &c, &row, e)) == 0 && row) {
        const struct test_center_staff *m = row;
        struct app_center *ac = set_lookup(s, m->center_id);
        if (ac)
            idlist_add(admin ? &ac->admins : &ac->proctors, m->login);
    }
    db_cursor_close(&c);
    return rc;
}

/* Fills the staff and parent labels of the centers of `s` (all of them: `only` NULL; or the
 * one center `only`). A parent outside the set is read from the store. */
static int set_fill(struct db *db, struct center_set *s, const char *only, struct op_err *e)
{
    s->by_id = calloc((size_t)s->n + 1, sizeof *s->by_id);
    if (!s->by_id)
        abort();
    for (int i = 0; i < s->n; i++)
        s->by_id[i] = &s->v[i];
    qsort(s->by_id, (size_t)s->n, sizeof *s->by_id, by_id_cmp);
    int rc = add_staff(db, s, only, CENTER_DUTY_ADMIN, 1, e);
    if (rc == 0)
        rc = add_staff(db, s, only, CENTER_DUTY_PROCTOR, 0, e);
    for (int i = 0; rc == 0 && i < s->n; i++) {
        const char *pid = s->v[i].center.parent_id;
        if (!pid[0])
            continue;
        struct app_center *parent = set_lookup(s, pid);
        struct test_center pc;
        struct op_err ignore = {0};
        if (parent)
            s->v[i].parent_label = strdup(parent->center.label);
        else if (testcenters_get(db, pid, &pc, &ignore) == 0) {
            s->v[i].parent_label = pc.label;
            pc.label = NULL;
            test_center_clear(&pc);
        }
    }
    return rc;
}

int app_testcenters_get(struct instance *inst, const char *id, struct app_center *out,
                        struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = require_central(inst, "testcenters", e);
    struct test_center c;
    if (rc == 0)
        rc = testcenters_get(inst->db, id, &c, e);
    if (rc != 0)
        return rc;
    struct center_set s = {0};
    collect_center(&c, &s);
    test_center_clear(&c);
    rc = set_fill(inst->db, &s, id, e);
    if (rc == 0) {
        *out = s.v[0];
        s.n = 0; /* *out owns it now */
    }
    set_free(&s);
    return rc;
}

int app_testcenters_list(struct instance *inst, app_center_fn fn, void *ctx, struct op_err *e)
{
    struct center_set s = {0};
    int rc = require_central(inst, "testcenters list", e);
    if (rc == 0) {
        struct db_cursor c;
        testcenters_cursor(&c);
        const void *row;
        while ((rc = db_cursor_next(inst->db, &c, &row, e)) == 0 && row)
            collect_center(row, &s);
        db_cursor_close(&c);
    }
    if (rc == 0)
        rc = set_fill(inst->db, &s, NULL, e);
    for (int i = 0; rc == 0 && i < s.n; i++)
        rc = fn(&s.v[i], ctx);
    set_free(&s);
    return rc;
}

/* ---- writes ---- */

/* How many centers are labelled `label`, counted inside the write's transaction so that the
 * caller can warn when a label has just become ambiguous. */
static int count_labelled(struct db *db, const char *label, int *n, struct op_err *e)
{
    struct idlist same = IDLIST_INIT;
    int rc = idlist_collect(db, "SELECT id FROM test_centers WHERE label = ?1", label, &same,
                            "reading test centers", e);
    *n = same.n;
    idlist_free(&same);
    return rc;
}

struct add_run {
    struct test_center *c;
    const char *label;
    int nsame;
};

/* db_write body of add (testcenters_insert dates the center again on every run). */
static int add_center(struct db *db, void *ctx, struct op_err *e)
{
    struct add_run *r = ctx;
    r->nsame = 0;
    int rc = testcenters_insert(db, r->c, e);
    if (rc == 0)
        rc = count_labelled(db, r->label, &r->nsame, e);
    return rc;
}

int app_testcenters_add(struct instance *inst, const struct app_center_new *in,
                        struct test_center *out, int *same_label, struct op_err *e)
{
    if (out)
        memset(out, 0, sizeof *out);
    int rc = require_central(inst, "testcenters add", e);
    if (rc != 0)
        return rc;
    struct test_center c;
    memset(&c, 0, sizeof c);
    c.label = (char *)in->label;
    c.org_id = (char *)in->org_id;
    if (in->parent_id)
        snprintf(c.parent_id, sizeof c.parent_id, "%s", in->parent_id);
    struct add_run r = {&c, in->label, 0};
    rc = db_write(inst->db, add_center, &r, e);
    if (rc == 0 && same_label)
        *same_label = r.nsame;
    if (rc == 0 && out)
        rc = testcenters_get(inst->db, c.id, out, e);
    return rc;
}

void app_center_update_clear(struct app_center_update *u)
{
    app_center_clear(&u->before);
    app_center_clear(&u->after);
    memset(u, 0, sizeof *u);
}

struct update_run {
    struct instance *inst;
    const char *id;
    int64_t version;
    const struct test_center_changes *ch;
    struct app_center_update *out;
};

/* db_write body of update (app_testcenters_get reads through inst->db, the same connection). */
static int update_center(struct db *db, void *ctx, struct op_err *e)
{
    struct update_run *r = ctx;
    struct app_center_update *out = r->out;
    app_center_update_clear(out); /* what a run that did not count read */
    int rc = app_testcenters_get(r->inst, r->id, &out->before, e);
    if (rc == 0)
        rc = testcenters_update(db, r->id, r->version, r->ch, &out->changed, e);
    if (rc == 0 && r->ch->label)
        rc = count_labelled(db, r->ch->label, &out->same_label, e);
    if (rc == 0)
        rc = app_testcenters_get(r->inst, r->id, &out->after, e);
    return rc;
}

int app_testcenters_update(struct instance *inst, const char *id, int64_t version,
                           const struct test_center_changes *ch, struct app_center_update *out,
                           struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = require_central(inst, "testcenters update", e);
    if (rc != 0)
        return rc;
    struct update_run r = {inst, id, version, ch, out};
    rc = db_write(inst->db, update_center, &r, e);
    if (rc != 0)
        app_center_update_clear(out);
    return rc;
}

struct staff_run {
    const char *id, *login, *duty;
    int assign;
    int *changed; /* may be NULL */
};

/* db_write body of assign and unassign. */
static int staff_body(struct db *db, void *ctx, struct op_err *e)
{
    struct staff_run *r = ctx;
    if (r->changed)
        *r->changed = 0;
    struct user u;
    int rc = users_get_by_login(db, r->login, &u, e);
    if (rc == 0 && r->assign)
        rc = testcenters_assign(db, r->id, u.id, r->duty, r->changed, e);
    else if (rc == 0)
        rc = testcenters_unassign(db, r->id, u.id, r->duty, e);
    user_clear(&u);
    return rc;
}

/* The shared body of assign and unassign. */
static int staff_write(struct instance *inst, const char *id, const char *login, const char *duty,
                       int assign, int *changed, struct op_err *e)
{
    if (changed)
        *changed = 0;
    int rc = require_central(inst, assign ? "testcenters assign" : "testcenters unassign", e);
    if (rc != 0)
        return rc;
    struct staff_run r = {id, login, duty, assign, changed};
    return db_write(inst->db, staff_body, &r, e);
}

int app_testcenters_assign(struct instance *inst, const char *id, const char *login,
                           const char *duty, int *changed, struct op_err *e)
{
    return staff_write(inst, id, login, duty, 1, changed, e);
}

int app_testcenters_unassign(struct instance *inst, const char *id, const char *login,
                             const char *duty, struct op_err *e)
{
    return staff_write(inst, id, login, duty, 0, NULL, e);
}

static int delete_center(struct db *db, void *id, struct op_err *e)
{
    return testcenters_delete(db, id, e);
}

int app_testcenters_delete(struct instance *inst, const char *id, struct op_err *e)
{
    int rc = require_central(inst, "testcenters delete", e);
    if (rc != 0)
        return rc;
    return db_write(inst->db, delete_center, (void *)id, e);
}
