/* test_app_testcenters.c - the application's test centers (app/testcenters.h): add with its
 * label checks and shared-label count, list and get with staff and parent labels, partial
 * updates (only the label, only the organisation, only the parent), a stale version refused
 * as a conflict, staff assignment, delete, central only, and the public JSON shape, on a
 * temporary instance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/testcenters.h"
#include "app_instance_fixture.h"
#include "centers_fixture.h"

struct fixture {
    struct instance *inst;
    char nord[UUID_STR_LEN], sud[UUID_STR_LEN];
    char admin[UUID_STR_LEN], proctor[UUID_STR_LEN], taker[UUID_STR_LEN];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance(ROLE_CENTRAL);
    struct db *db = f->inst->db;
    fx_center(db, "Lycee Nord", "ORG-A", NULL, f->nord);
    fx_center(db, "Lycee Sud", "ORG-A", f->nord, f->sud);
    fx_user(db, "ada", ROLE_TEST_CENTER_ADMIN, f->admin);
    fx_user(db, "pat", ROLE_PROCTOR, f->proctor);
    fx_user(db, "tom", ROLE_TEST_TAKER, f->taker);
    *state = f;
    return 0;
}

/* Center `id` as stored now; the caller clears it. */
static struct test_center stored(struct fixture *f, const char *id)
{
    struct test_center c;
    OK(testcenters_get(f->inst->db, id, &c, fx_e));
    return c;
}

/* ---- add ---- */

static void test_add_stores_the_center_and_counts_its_label(void **state)
{
    struct fixture *f = *state;
    const struct app_center_new in = {"Annexe", "ORG-B", f->nord};
    struct test_center c;
    int same = 0;
    struct op_err e = {0};
    assert_int_equal(app_testcenters_add(f->inst, &in, &c, &same, &e), 0);
    assert_string_equal(c.label, "Annexe");
    assert_string_equal(c.org_id, "ORG-B");
    assert_string_equal(c.parent_id, f->nord);
    assert_int_equal(c.version, 1);
    assert_int_equal(same, 1);
    test_center_clear(&c);
    /* A second center with the label: the caller learns the label is now shared. */
    const struct app_center_new twin = {"Annexe", "ORG-C", NULL};
    assert_int_equal(app_testcenters_add(f->inst, &twin, &c, &same, &e), 0);
    assert_int_equal(same, 2);
    assert_string_equal(c.parent_id, "");
    test_center_clear(&c);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM test_centers"), 4);
}

static void test_add_refuses_a_bad_label_org_or_parent_and_writes_nothing(void **state)
{
    struct fixture *f = *state;
    const struct app_center_new bad[] = {
        {"", "ORG-A", NULL},         {" Annexe", "ORG-A", NULL},
        {"An\nnexe", "ORG-A", NULL}, {"An\x1b[2Jnexe", "ORG-A", NULL},
        {"Annexe", "", NULL},        {"Annexe", "ORG A ", NULL},
        {f->sud, "ORG-A", NULL}, /* a label that looks like an id */
    };
    struct op_err e = {0};
    struct test_center c;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(app_testcenters_add(f->inst, &bad[i], &c, NULL, &e), OP_EINPUT);
        assert_null(c.label);
    }
    const struct app_center_new orphan = {"Annexe", "ORG-A", "no-such-center"};
    assert_int_not_equal(app_testcenters_add(f->inst, &orphan, NULL, NULL, &e), 0);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM test_centers"), 2);
}

/* ---- reading ---- */

struct seen {
    int n;
    char lines[8][160];
};

static void join(char *out, size_t size, const struct idlist *l)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < l->n && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "," : "", l->v[i]);
}

static int collect(const struct app_center *ac, void *ctx)
{
    struct seen *s = ctx;
    char admins[64], proctors[64];
    join(admins, sizeof admins, &ac->admins);
    join(proctors, sizeof proctors, &ac->proctors);
    snprintf(s->lines[s->n++], sizeof s->lines[0], "%s parent=%s admins=%s proctors=%s",
             ac->center.label, ac->parent_label ? ac->parent_label : "-", admins, proctors);
    return 0;
}

static void test_list_joins_staff_and_parent_labels_in_label_order(void **state)
{
    struct fixture *f = *state;
    char ben[UUID_STR_LEN], zed[UUID_STR_LEN];
    fx_user(f->inst->db, "ben", ROLE_TEST_CENTER_ADMIN, ben);
    fx_user(f->inst->db, "zed", ROLE_PROCTOR, zed);
    struct op_err e = {0};
    assert_int_equal(app_testcenters_assign(f->inst, f->nord, "ben", CENTER_DUTY_ADMIN, NULL, &e),
                     0);
    assert_int_equal(app_testcenters_assign(f->inst, f->nord, "ada", CENTER_DUTY_ADMIN, NULL, &e),
                     0);
    assert_int_equal(app_testcenters_assign(f->inst, f->sud, "zed", CENTER_DUTY_PROCTOR, NULL, &e),
                     0);
    assert_int_equal(app_testcenters_assign(f->inst, f->sud, "pat", CENTER_DUTY_PROCTOR, NULL, &e),
                     0);
    struct seen s = {0};
    assert_int_equal(app_testcenters_list(f->inst, collect, &s, &e), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.lines[0], "Lycee Nord parent=- admins=ada,ben proctors=");
    assert_string_equal(s.lines[1], "Lycee Sud parent=Lycee Nord admins= proctors=pat,zed");

    /* get reads one center the same way, its parent's label from outside the set. */
    struct app_center ac;
    assert_int_equal(app_testcenters_get(f->inst, f->sud, &ac, &e), 0);
    struct seen one = {0};
    collect(&ac, &one);
    assert_string_equal(one.lines[0], s.lines[1]);
    app_center_clear(&ac);
    assert_int_equal(app_testcenters_get(f->inst, "no-such-id", &ac, &e), OP_ENOTFOUND);
}

static void test_find_takes_an_id_or_a_label_and_refuses_a_shared_label(void **state)
{
    struct fixture *f = *state;
    struct test_center c;
    struct op_err e = {0};
    assert_int_equal(app_testcenters_find(f->inst, "Lycee Sud", &c, &e), 0);
    assert_string_equal(c.id, f->sud);
    test_center_clear(&c);
    assert_int_equal(app_testcenters_find(f->inst, f->nord, &c, &e), 0);
    assert_string_equal(c.label, "Lycee Nord");
    test_center_clear(&c);
    char twin[UUID_STR_LEN];
    fx_center(f->inst->db, "Lycee Sud", "ORG-B", NULL, twin);
    assert_int_not_equal(app_testcenters_find(f->inst, "Lycee Sud", &c, &e), 0);
    assert_non_null(strstr(e.msg, "2 test centers are labelled \"Lycee Sud\""));
    assert_int_equal(app_testcenters_find(f->inst, "Nowhere", &c, &e), OP_ENOTFOUND);
}

/* ---- update ---- */

static void test_update_of_only_the_label_leaves_the_rest(void **state)
{
    struct fixture *f = *state;
    const struct test_center_changes ch = {"Lycee du Sud", NULL, NULL};
    struct app_center_update up;
    struct op_err e = {0};
    db_lose_races(f->inst->db, 1); /* run twice (db_write): the result is one run's */
    assert_int_equal(app_testcenters_update(f->inst, f->sud, 1, &ch, &up, &e), 0);
    assert_int_equal(up.changed, 1);
    assert_int_equal(up.same_label, 1);
    assert_string_equal(up.before.center.label, "Lycee Sud");
    assert_string_equal(up.after.center.label, "Lycee du Sud");
    assert_string_equal(up.after.center.org_id, "ORG-A");
    assert_string_equal(up.after.center.parent_id, f->nord);
    assert_string_equal(up.after.parent_label, "Lycee Nord");
    assert_int_equal(up.after.center.version, 2);
    app_center_update_clear(&up);
    struct test_center c = stored(f, f->sud);
    assert_string_equal(c.label, "Lycee du Sud");
    assert_string_equal(c.org_id, "ORG-A");
    assert_string_equal(c.parent_id, f->nord);
    test_center_clear(&c);
}

static void test_update_of_only_the_organisation_leaves_the_rest(void **state)
{
    struct fixture *f = *state;
    const struct test_center_changes ch = {NULL, "ORG-B", NULL}; /* no label: a web form's */
    struct app_center_update up;
    struct op_err e = {0};
    assert_int_equal(app_testcenters_update(f->inst, f->sud, 1, &ch, &up, &e), 0);
    assert_int_equal(up.changed, 1);
    assert_int_equal(up.same_label, 0); /* no new label, nothing counted */
    app_center_update_clear(&up);
    struct test_center c = stored(f, f->sud);
    assert_string_equal(c.label, "Lycee Sud");
    assert_string_equal(c.org_id, "ORG-B");
    assert_string_equal(c.parent_id, f->nord);
    assert_int_equal(c.version, 2);
    test_center_clear(&c);
}

static void test_update_of_only_the_parent_and_to_no_parent(void **state)
{
    struct fixture *f = *state;
    char annexe[UUID_STR_LEN];
    fx_center(f->inst->db, "Annexe", "ORG-A", NULL, annexe);
    const struct test_center_changes to_annexe = {NULL, NULL, annexe};
    struct app_center_update up;
    struct op_err e = {0};
    assert_int_equal(app_testcenters_update(f->inst, f->sud, 1, &to_annexe, &up, &e), 0);
    assert_string_equal(up.after.parent_label, "Annexe");
    assert_string_equal(up.after.center.label, "Lycee Sud");
    app_center_update_clear(&up);
    const struct test_center_changes top = {NULL, NULL, ""};
    assert_int_equal(app_testcenters_update(f->inst, f->sud, 2, &top, &up, &e), 0);
    assert_null(up.after.parent_label);
    app_center_update_clear(&up);
    struct test_center c = stored(f, f->sud);
    assert_string_equal(c.parent_id, "");
    assert_string_equal(c.org_id, "ORG-A");
    assert_int_equal(c.version, 3);
    test_center_clear(&c);
}

static void test_update_with_the_same_values_changes_nothing(void **state)
{
    struct fixture *f = *state;
    const struct test_center_changes ch = {"Lycee Sud", "ORG-A", f->nord};
    struct app_center_update up;
    struct op_err e = {0};
    assert_int_equal(app_testcenters_update(f->inst, f->sud, 1, &ch, &up, &e), 0);
    assert_int_equal(up.changed, 0);
    assert_int_equal(up.after.center.version, 1);
    app_center_update_clear(&up);
}

static void test_update_with_a_stale_version_is_a_conflict_and_writes_nothing(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct app_center_update up;
    /* Another administrator renames the center after we read it at version 1. */
    const struct test_center_changes theirs = {"Lycee Sud 2", NULL, NULL};
    assert_int_equal(app_testcenters_update(f->inst, f->sud, 1, &theirs, &up, &e), 0);
    app_center_update_clear(&up);
    const struct test_center_changes ours = {NULL, "ORG-Z", NULL};
    assert_int_equal(app_testcenters_update(f->inst, f->sud, 1, &ours, &up, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "changed by someone else"));
    assert_null(up.after.center.label); /* cleared on failure */
    struct test_center c = stored(f, f->sud);
    assert_string_equal(c.label, "Lycee Sud 2");
    assert_string_equal(c.org_id, "ORG-A");
    assert_int_equal(c.version, 2);
    test_center_clear(&c);
}

static void test_update_refuses_a_bad_label_and_a_parent_cycle(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct app_center_update up;
    const struct test_center_changes bad = {" Nord", NULL, NULL};
    assert_int_equal(app_testcenters_update(f->inst, f->nord, 1, &bad, &up, &e), OP_EINPUT);
    const struct test_center_changes cycle = {NULL, NULL, f->sud}; /* Sud is Nord's child */
    assert_int_equal(app_testcenters_update(f->inst, f->nord, 1, &cycle, &up, &e), OP_EINPUT);
    struct test_center c = stored(f, f->nord);
    assert_string_equal(c.label, "Lycee Nord");
    assert_string_equal(c.parent_id, "");
    assert_int_equal(c.version, 1);
    test_center_clear(&c);
}

/* ---- staff ---- */

static void test_assign_and_unassign_follow_the_duty_rules(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    int changed = -1;
    db_lose_races(f->inst->db, 1); /* run twice (db_write): the result is one run's */
    assert_int_equal(
        app_testcenters_assign(f->inst, f->nord, "ada", CENTER_DUTY_ADMIN, &changed, &e), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(
        app_testcenters_assign(f->inst, f->nord, "ada", CENTER_DUTY_ADMIN, &changed, &e), 0);
    assert_int_equal(changed, 0); /* already assigned: nothing changes */
    /* The role must match the duty; an unknown login is not found. */
    assert_int_equal(
        app_testcenters_assign(f->inst, f->nord, "tom", CENTER_DUTY_PROCTOR, &changed, &e),
        OP_EINPUT);
    assert_int_equal(
        app_testcenters_assign(f->inst, f->nord, "ghost", CENTER_DUTY_ADMIN, &changed, &e),
        OP_ENOTFOUND);
    assert_int_equal(app_testcenters_unassign(f->inst, f->nord, "ada", CENTER_DUTY_ADMIN, &e), 0);
    assert_int_equal(app_testcenters_unassign(f->inst, f->nord, "ada", CENTER_DUTY_ADMIN, &e),
                     OP_ENOTFOUND);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM test_center_staff"), 0);
}

/* ---- delete ---- */

static void test_delete_refuses_a_center_with_sub_centers(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    assert_int_equal(app_testcenters_delete(f->inst, f->nord, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "Lycee Sud"));
    char delivery[UUID_STR_LEN], el[UUID_STR_LEN];
    fx_delivery(f->inst->db, "Maths", 1, delivery);
    const char *takers[] = {f->taker};
    fx_eligible(f->inst->db, f->sud, delivery, takers, 1, 1, el);
    assert_int_equal(app_testcenters_delete(f->inst, f->sud, &e), 0);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM eligibilities"), 0);
    assert_int_equal(app_testcenters_delete(f->inst, f->nord, &e), 0);
    assert_int_equal(fx_count(f->inst, "SELECT count(*) FROM test_centers"), 0);
}

static void test_testcenters_run_on_a_central_only(void **state)
{
    (void)state;
    struct instance *dev = fx_instance(ROLE_DEVICE);
    const struct app_center_new in = {"Annexe", "ORG-A", NULL};
    const struct test_center_changes ch = {"X", NULL, NULL};
    struct app_center_update up;
    struct test_center c;
    struct seen s = {0};
    struct op_err e = {0};
    assert_int_equal(app_testcenters_add(dev, &in, &c, NULL, &e), OP_ESTATE);
    assert_non_null(strstr(e.msg, "runs on a central"));
    assert_int_equal(app_testcenters_list(dev, collect, &s, &e), OP_ESTATE);
    assert_int_equal(app_testcenters_find(dev, "Annexe", &c, &e), OP_ESTATE);
    assert_int_equal(app_testcenters_update(dev, "x", 1, &ch, &up, &e), OP_ESTATE);
    assert_int_equal(app_testcenters_assign(dev, "x", "ada", CENTER_DUTY_ADMIN, NULL, &e),
                     OP_ESTATE);
    assert_int_equal(app_testcenters_delete(dev, "x", &e), OP_ESTATE);
    assert_int_equal(s.n, 0);
    fx_instance_free(dev);
}

/* ---- JSON ---- */

static void test_center_json_has_the_public_fields(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    assert_int_equal(app_testcenters_assign(f->inst, f->sud, "pat", CENTER_DUTY_PROCTOR, NULL, &e),
                     0);
    struct app_center nord, sud;
    assert_int_equal(app_testcenters_get(f->inst, f->nord, &nord, &e), 0);
    assert_int_equal(app_testcenters_get(f->inst, f->sud, &sud, &e), 0);
    json_t *a = app_center_json(&nord), *b = app_center_json(&sud);
    const char *keys[] = {"id", "label", "org_id", "parent_id", "admins", "proctors", "version"};
    assert_int_equal(json_object_size(a), 7);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_non_null(json_object_get(a, keys[i]));
    assert_string_equal(json_string_value(json_object_get(a, "id")), f->nord);
    assert_string_equal(json_string_value(json_object_get(a, "label")), "Lycee Nord");
    assert_string_equal(json_string_value(json_object_get(a, "org_id")), "ORG-A");
    assert_true(json_is_null(json_object_get(a, "parent_id"))); /* top-level */
    assert_int_equal(json_array_size(json_object_get(a, "admins")), 0);
    assert_string_equal(json_string_value(json_object_get(b, "parent_id")), f->nord);
    json_t *proctors = json_object_get(b, "proctors");
    assert_int_equal(json_array_size(proctors), 1);
    assert_string_equal(json_string_value(json_array_get(proctors, 0)), "pat");
    assert_int_equal(json_integer_value(json_object_get(b, "version")), sud.center.version);
    json_decref(a);
    json_decref(b);
    app_center_clear(&nord);
    app_center_clear(&sud);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, fx_state_teardown)
    const struct CMUnitTest tests[] = {
        T(test_add_stores_the_center_and_counts_its_label),
        T(test_add_refuses_a_bad_label_org_or_parent_and_writes_nothing),
        T(test_list_joins_staff_and_parent_labels_in_label_order),
        T(test_find_takes_an_id_or_a_label_and_refuses_a_shared_label),
        T(test_update_of_only_the_label_leaves_the_rest),
        T(test_update_of_only_the_organisation_leaves_the_rest),
        T(test_update_of_only_the_parent_and_to_no_parent),
        T(test_update_with_the_same_values_changes_nothing),
        T(test_update_with_a_stale_version_is_a_conflict_and_writes_nothing),
        T(test_update_refuses_a_bad_label_and_a_parent_cycle),
        T(test_assign_and_unassign_follow_the_duty_rules),
        T(test_delete_refuses_a_center_with_sub_centers),
        cmocka_unit_test(test_testcenters_run_on_a_central_only),
        T(test_center_json_has_the_public_fields),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
