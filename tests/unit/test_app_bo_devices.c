/* test_app_bo_devices.c - app/bo_devices.h: the backoffice's devices and sync history on a real
 * temporary central: what the super-user and a test-center administrator see, every refusal
 * (another organisation's device or run whatever its id, the roles that may not look), the
 * filters and keyset pages of the runs, and revocation. */
#include "instance_fixture.h"

#include <sodium.h>

#include "app/backoffice.h"
#include "app/bo_devices.h"
#include "app/devices.h"
#include "store/sync_runs.h"
#include "store/testcenters.h"
#include "store/users.h"

#define DEV_A "0b6f4a57-1c1e-4d0e-9d3b-5a4e0f7c2d11" /* ORG-1, label "Laptop A" */
#define DEV_B "1b6f4a57-1c1e-4d0e-9d3b-5a4e0f7c2d22" /* ORG-2, label "Laptop B" */
#define DEV_C "2b6f4a57-1c1e-4d0e-9d3b-5a4e0f7c2d33" /* ORG-1, label "Laptop C", never synced */
#define DEV_D "3b6f4a57-1c1e-4d0e-9d3b-5a4e0f7c2d44" /* ORG-3, of a sub-center of School 1 */
#define NO_ID "7d4f0a57-1c1e-4d0e-9d3b-5a4e0f7c2d99"

struct fixture {
    char *dir;
    struct instance *inst;
    char super[UUID_STR_LEN], admin[UUID_STR_LEN], admin2[UUID_STR_LEN], proctor[UUID_STR_LEN],
        taker[UUID_STR_LEN], manager[UUID_STR_LEN];
    char run_b[UUID_STR_LEN]; /* a run of DEV_B */
    struct bo_caller super_who, admin_who, admin2_who;
    json_t *out;
    struct op_err e;
};

static void add_user(struct instance *inst, const char *login, const char *role, const char *org,
                     char id[UUID_STR_LEN])
{
    struct op_err e = {0};
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)login;
    u.label = (char *)login;
    u.role = (char *)role;
    u.org_id = (char *)org;
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    assert_int_equal(db_begin(inst->db, &e), 0);
    if (users_insert(inst->db, &u, &e) != 0)
        fail_msg("users_insert: %s", e.msg);
    assert_int_equal(db_commit(inst->db, &e), 0);
    memcpy(id, u.id, UUID_STR_LEN);
}

/* A test center of `org` administered by `admin_id` (NULL: none), under `parent` (NULL: none);
 * its id in `id`. */
static void add_center(struct instance *inst, const char *label, const char *org,
                       const char *admin_id, const char *parent, char id[UUID_STR_LEN])
{
    struct op_err e = {0};
    struct test_center c;
    memset(&c, 0, sizeof c);
    c.label = (char *)label;
    c.org_id = (char *)org;
    if (parent)
        snprintf(c.parent_id, sizeof c.parent_id, "%s", parent);
    assert_int_equal(db_begin(inst->db, &e), 0);
    if (testcenters_insert(inst->db, &c, &e) != 0 ||
        (admin_id &&
         testcenters_assign(inst->db, c.id, admin_id, CENTER_DUTY_ADMIN, NULL, &e) != 0))
        fail_msg("center: %s", e.msg);
    assert_int_equal(db_commit(inst->db, &e), 0);
    memcpy(id, c.id, UUID_STR_LEN);
}

static void load_caller(struct instance *inst, const char *id, struct bo_caller *who)
{
    struct op_err e = {0};
    if (app_bo_caller_load(inst, id, who, &e) != 0)
        fail_msg("caller: %s", e.msg);
}

static void enrol(struct instance *inst, const char *id, const char *label, const char *org,
                  const char *manager)
{
    struct app_device_enrol_request req = {id, label, org, manager, {0}};
    randombytes_buf(req.signing_public_key, KEY_PUBLIC_BYTES);
    struct device d;
    struct op_err e = {0};
    if (app_devices_enrol(inst, &req, &d, &e) != 0)
        fail_msg("enrol: %s", e.msg);
    device_clear(&d);
}

/* A finished run of `device` started at `at`. */
static void add_run(struct instance *inst, const char *device, const char *at, const char *status,
                    const char *error, char id[UUID_STR_LEN])
{
    struct op_err e = {0};
    char rid[UUID_STR_LEN];
    uuid_generate(rid);
    assert_int_equal(db_begin(inst->db, &e), 0);
    if (sync_runs_insert(inst->db, rid, device, at, &e) != 0 ||
        (strcmp(status, "running") != 0 &&
         sync_runs_finish(inst->db, rid, status, at,
                          "{\"users\":{\"created\":3,\"updated\":1,\"deleted\":0}}", 2, 4096, error,
                          &e) != 0))
        fail_msg("run: %s", e.msg);
    assert_int_equal(db_commit(inst->db, &e), 0);
    if (id)
        memcpy(id, rid, UUID_STR_LEN);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance("central", &f->dir);
    add_user(f->inst, "root", ROLE_SUPER_USER, NULL, f->super);
    add_user(f->inst, "adm1", ROLE_TEST_CENTER_ADMIN, NULL, f->admin);
    add_user(f->inst, "adm2", ROLE_TEST_CENTER_ADMIN, NULL, f->admin2); /* administers nothing */
    add_user(f->inst, "proc", ROLE_PROCTOR, NULL, f->proctor);
    add_user(f->inst, "tt", ROLE_TEST_TAKER, NULL, f->taker);
    add_user(f->inst, "sm1", ROLE_SYNC_MANAGER, "ORG-1", f->manager);
    char school[UUID_STR_LEN], annex[UUID_STR_LEN], other[UUID_STR_LEN];
    add_center(f->inst, "School 1", "ORG-1", f->admin, NULL, school);
    add_center(f->inst, "Annex", "ORG-3", NULL, school, annex);
    add_center(f->inst, "Elsewhere", "ORG-2", NULL, NULL, other);
    enrol(f->inst, DEV_A, "Laptop A", "ORG-1", f->manager);
    enrol(f->inst, DEV_B, "Laptop B", "ORG-2", NULL);
    enrol(f->inst, DEV_C, "Laptop C", "ORG-1", NULL);
    enrol(f->inst, DEV_D, "Laptop D", "ORG-3", NULL);
    add_run(f->inst, DEV_A, "2026-12-01T08:00:00Z", "ok", NULL, NULL);
    add_run(f->inst, DEV_A, "2026-12-02T08:00:00Z", "failed", "central unreachable", NULL);
    add_run(f->inst, DEV_A, "2026-12-03T08:00:00Z", "ok", NULL, NULL);
    add_run(f->inst, DEV_B, "2026-12-02T09:00:00Z", "ok", NULL, f->run_b);
    struct op_err e = {0};
    if (app_devices_report_sync(f->inst, DEV_A, "0.13.0", 4, (int64_t)time(NULL) + 7, &e) != 0)
        fail_msg("report: %s", e.msg);
    load_caller(f->inst, f->super, &f->super_who);
    load_caller(f->inst, f->admin, &f->admin_who);
    load_caller(f->inst, f->admin2, &f->admin2_who);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    json_decref(f->out);
    app_bo_caller_clear(&f->super_who);
    app_bo_caller_clear(&f->admin_who);
    app_bo_caller_clear(&f->admin2_who);
    instance_close(f->inst);
    testutil_rmdir(f->dir);
    free(f);
    return 0;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static json_t *devices_of(struct fixture *f, const struct bo_caller *caller,
                          const struct app_bo_devices_query *q)
{
    json_decref(f->out);
    f->out = NULL;
    if (app_bo_devices_list(f->inst, caller, q, &f->out, &f->e) != 0)
        fail_msg("devices: %s", f->e.msg);
    return json_object_get(f->out, "devices");
}

static json_t *runs_of(struct fixture *f, const struct bo_caller *caller,
                       const struct app_bo_runs_query *q)
{
    json_decref(f->out);
    f->out = NULL;
    if (app_bo_sync_runs_list(f->inst, caller, q, &f->out, &f->e) != 0)
        fail_msg("runs: %s", f->e.msg);
    return json_object_get(f->out, "runs");
}

static void test_super_user_sees_every_device_with_its_report(void **state)
{
    struct fixture *f = *state;
    json_t *d = devices_of(f, &f->super_who, &(struct app_bo_devices_query){0});
    assert_int_equal(json_array_size(d), 4);
    json_t *a = json_array_get(d, 0);
    assert_string_equal(str(a, "id"), DEV_A);
    assert_string_equal(str(a, "org_id"), "ORG-1");
    assert_string_equal(str(a, "sync_manager_login"), "sm1");
    assert_string_equal(str(a, "software_version"), "0.13.0");
    assert_int_equal(json_integer_value(json_object_get(a, "results_waiting")), 4);
    json_int_t off = json_integer_value(json_object_get(a, "clock_offset_seconds"));
    assert_true(off >= 5 && off <= 9);
    assert_string_equal(str(a, "status"), "ok"); /* its newest run */
    assert_non_null(str(a, "last_sync_at"));
    json_t *c = json_array_get(d, 2);
    assert_string_equal(str(c, "status"), "never_synced");
    assert_true(json_is_null(json_object_get(c, "results_waiting")));
    assert_true(json_is_null(json_object_get(c, "last_sync_at")));
    assert_true(json_is_null(json_object_get(f->out, "next")));
}

static void test_admin_sees_the_devices_of_their_organisations_only(void **state)
{
    struct fixture *f = *state;
    /* School 1's ORG-1, and ORG-3 of its sub-center Annex; not ORG-2 */
    json_t *d = devices_of(f, &f->admin_who, &(struct app_bo_devices_query){0});
    assert_int_equal(json_array_size(d), 3);
    assert_string_equal(str(json_array_get(d, 0), "id"), DEV_A);
    assert_string_equal(str(json_array_get(d, 1), "id"), DEV_C);
    assert_string_equal(str(json_array_get(d, 2), "id"), DEV_D);
    /* asking for the other organisation gives nothing of it */
    d = devices_of(f, &f->admin_who, &(struct app_bo_devices_query){.org_id = "ORG-2"});
    assert_int_equal(json_array_size(d), 0);
    /* an administrator of no center sees no device */
    d = devices_of(f, &f->admin2_who, &(struct app_bo_devices_query){0});
    assert_int_equal(json_array_size(d), 0);
}

static void test_devices_are_paged_by_the_last_id(void **state)
{
    struct fixture *f = *state;
    json_t *d = devices_of(f, &f->super_who, &(struct app_bo_devices_query){.limit = 2});
    assert_int_equal(json_array_size(d), 2);
    char next[UUID_STR_LEN];
    snprintf(next, sizeof next, "%s", str(f->out, "next"));
    assert_string_equal(next, DEV_B);
    d = devices_of(f, &f->super_who, &(struct app_bo_devices_query){.limit = 2, .after = next});
    assert_int_equal(json_array_size(d), 2);
    assert_string_equal(str(json_array_get(d, 0), "id"), DEV_C);
    assert_true(json_is_null(json_object_get(f->out, "next")));
}

static void test_other_roles_never_get_a_caller_and_no_caller_gets_nothing(void **state)
{
    struct fixture *f = *state;
    /* the backoffice's door (app/backoffice.h) refuses them before any of these functions */
    const char *who[] = {f->proctor, f->taker, f->manager};
    for (int i = 0; i < 3; i++) {
        struct bo_caller c;
        memset(&f->e, 0, sizeof f->e);
        assert_int_equal(app_bo_caller_load(f->inst, who[i], &c, &f->e), OP_EFORBIDDEN);
        assert_string_equal(f->e.field, BO_FIELD_ROLE);
        app_bo_caller_clear(&c);
    }
    assert_int_equal(
        app_bo_devices_list(f->inst, NULL, &(struct app_bo_devices_query){0}, &f->out, &f->e),
        OP_EUNAUTH);
    assert_null(f->out);
    struct bo_caller nobody;
    memset(&nobody, 0, sizeof nobody);
    assert_int_equal(app_bo_device_get(f->inst, &nobody, DEV_A, &f->out, &f->e), OP_EUNAUTH);
    assert_int_equal(app_bo_device_revoke(f->inst, &nobody, DEV_A, &f->e), OP_EUNAUTH);
    assert_int_equal(
        app_bo_sync_runs_list(f->inst, &nobody, &(struct app_bo_runs_query){0}, &f->out, &f->e),
        OP_EUNAUTH);
    assert_int_equal(app_bo_sync_run_get(f->inst, &nobody, f->run_b, &f->out, &f->e), OP_EUNAUTH);
    struct device d;
    assert_int_equal(app_devices_get(f->inst, DEV_A, &d, &f->e), 0);
    assert_int_equal(d.revoked, 0);
    device_clear(&d);
}

static void test_admin_gets_not_found_for_another_organisations_device_and_run(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(app_bo_device_get(f->inst, &f->admin_who, DEV_B, &f->out, &f->e),
                     OP_ENOTFOUND);
    assert_int_equal(app_bo_device_get(f->inst, &f->admin_who, NO_ID, &f->out, &f->e),
                     OP_ENOTFOUND);
    assert_int_equal(app_bo_device_revoke(f->inst, &f->admin_who, DEV_B, &f->e), OP_ENOTFOUND);
    assert_int_equal(app_bo_sync_run_get(f->inst, &f->admin_who, f->run_b, &f->out, &f->e),
                     OP_ENOTFOUND);
    assert_int_equal(app_bo_sync_run_get(f->inst, &f->admin_who, NO_ID, &f->out, &f->e),
                     OP_ENOTFOUND);
    assert_int_equal(app_bo_sync_runs_list(f->inst, &f->admin_who,
                                           &(struct app_bo_runs_query){.device_id = DEV_B}, &f->out,
                                           &f->e),
                     OP_ENOTFOUND);
    struct device d;
    assert_int_equal(app_devices_get(f->inst, DEV_B, &d, &f->e), 0);
    assert_int_equal(d.revoked, 0);
    device_clear(&d);
    /* the same answer as for what does not exist, for the super-user too */
    assert_int_equal(app_bo_device_get(f->inst, &f->super_who, NO_ID, &f->out, &f->e),
                     OP_ENOTFOUND);
    assert_int_equal(app_bo_sync_run_get(f->inst, &f->super_who, NO_ID, &f->out, &f->e),
                     OP_ENOTFOUND);
}

static void test_device_detail_holds_its_runs_newest_first(void **state)
{
    struct fixture *f = *state;
    if (app_bo_device_get(f->inst, &f->admin_who, DEV_A, &f->out, &f->e) != 0)
        fail_msg("get: %s", f->e.msg);
    json_t *dev = json_object_get(f->out, "device");
    assert_string_equal(str(dev, "label"), "Laptop A");
    json_t *runs = json_object_get(f->out, "runs");
    assert_int_equal(json_array_size(runs), 3);
    json_t *r = json_array_get(runs, 1);
    assert_string_equal(str(r, "started_at"), "2026-12-02T08:00:00Z");
    assert_string_equal(str(r, "status"), "failed");
    assert_string_equal(str(r, "error"), "central unreachable");
    assert_string_equal(str(r, "device_label"), "Laptop A");
    json_t *users = json_object_get(json_object_get(r, "counts"), "users");
    assert_int_equal(json_integer_value(json_object_get(users, "created")), 3);
    assert_int_equal(json_integer_value(json_object_get(r, "results_sent")), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "bytes")), 4096);
}

static void test_runs_across_devices_by_scope_and_filters(void **state)
{
    struct fixture *f = *state;
    json_t *runs = runs_of(f, &f->super_who, &(struct app_bo_runs_query){0});
    assert_int_equal(json_array_size(runs), 4);
    assert_string_equal(str(json_array_get(runs, 0), "started_at"), "2026-12-03T08:00:00Z");
    assert_string_equal(str(json_array_get(runs, 1), "device_id"), DEV_B);
    runs = runs_of(f, &f->admin_who, &(struct app_bo_runs_query){0});
    assert_int_equal(json_array_size(runs), 3); /* not DEV_B's */
    runs = runs_of(f, &f->super_who, &(struct app_bo_runs_query){.status = "failed"});
    assert_int_equal(json_array_size(runs), 1);
    runs = runs_of(f, &f->super_who, &(struct app_bo_runs_query){.device_id = DEV_B});
    assert_int_equal(json_array_size(runs), 1);
    /* a day, both ends included */
    runs = runs_of(f, &f->super_who,
                   &(struct app_bo_runs_query){.from = "2026-12-02", .to = "2026-12-02"});
    assert_int_equal(json_array_size(runs), 2);
    runs = runs_of(f, &f->super_who, &(struct app_bo_runs_query){.from = "2026-12-03"});
    assert_int_equal(json_array_size(runs), 1);
    runs = runs_of(f, &f->super_who, &(struct app_bo_runs_query){.to = "2026-12-01"});
    assert_int_equal(json_array_size(runs), 1);
}

static void test_every_filter_at_once_with_an_administrators_scope(void **state)
{
    struct fixture *f = *state;
    json_t *runs = runs_of(f, &f->admin_who,
                           &(struct app_bo_runs_query){.device_id = DEV_A,
                                                       .status = "ok",
                                                       .from = "2026-12-01",
                                                       .to = "2026-12-02",
                                                       .limit = 1});
    assert_int_equal(json_array_size(runs), 1);
    assert_string_equal(str(json_array_get(runs, 0), "started_at"), "2026-12-01T08:00:00Z");
    assert_true(json_is_null(json_object_get(f->out, "next")));
    runs = runs_of(f, &f->admin_who,
                   &(struct app_bo_runs_query){.status = "ok", .from = "2026-12-02", .limit = 1});
    assert_int_equal(json_array_size(runs), 1); /* DEV_A's of 12-03; DEV_B's is not theirs */
    assert_string_equal(str(json_array_get(runs, 0), "started_at"), "2026-12-03T08:00:00Z");
    assert_true(json_is_null(json_object_get(f->out, "next")));
}

static void test_runs_are_paged_newest_first_without_repeats(void **state)
{
    struct fixture *f = *state;
    /* two runs at the same second: the id breaks the tie */
    add_run(f->inst, DEV_C, "2026-12-03T08:00:00Z", "ok", NULL, NULL);
    char seen[5][UUID_STR_LEN];
    int n = 0;
    char after[UUID_STR_LEN] = "";
    for (int page = 0; page < 5; page++) {
        json_t *runs =
            runs_of(f, &f->super_who,
                    &(struct app_bo_runs_query){.limit = 2, .after = after[0] ? after : NULL});
        for (size_t i = 0; i < json_array_size(runs); i++) {
            assert_true(n < 5);
            snprintf(seen[n++], UUID_STR_LEN, "%s", str(json_array_get(runs, i), "id"));
        }
        const char *next = str(f->out, "next");
        if (!next)
            break;
        snprintf(after, sizeof after, "%s", next);
    }
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            assert_string_not_equal(seen[i], seen[j]);
}

static void test_bad_filters_name_the_field(void **state)
{
    struct fixture *f = *state;
    struct {
        struct app_bo_runs_query q;
        const char *field;
    } bad[] = {
        {{.status = "done"}, "status"},
        {{.from = "2026-13-01"}, "from"},
        {{.from = "2026-02-30"}, "from"},
        {{.to = "yesterday"}, "to"},
        {{.from = "2026-12-03", .to = "2026-12-01"}, "to"},
        {{.device_id = "laptop"}, "device_id"},
        {{.after = "x"}, "after"},
        {{.after = NO_ID}, "after"},
        {{.limit = 501}, "limit"},
        {{.limit = -1}, "limit"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&f->e, 0, sizeof f->e);
        assert_int_equal(app_bo_sync_runs_list(f->inst, &f->super_who, &bad[i].q, &f->out, &f->e),
                         OP_EINPUT);
        assert_string_equal(f->e.field, bad[i].field);
    }
    memset(&f->e, 0, sizeof f->e);
    assert_int_equal(app_bo_devices_list(f->inst, &f->super_who,
                                         &(struct app_bo_devices_query){.after = NO_ID}, &f->out,
                                         &f->e),
                     OP_EINPUT);
    assert_string_equal(f->e.field, "after");
    assert_int_equal(app_bo_devices_list(f->inst, &f->super_who,
                                         &(struct app_bo_devices_query){.org_id = " x"}, &f->out,
                                         &f->e),
                     OP_EINPUT);
    assert_string_equal(f->e.field, "org_id");
}

static void test_admin_revokes_a_device_of_their_organisation(void **state)
{
    struct fixture *f = *state;
    if (app_bo_device_revoke(f->inst, &f->admin_who, DEV_A, &f->e) != 0)
        fail_msg("revoke: %s", f->e.msg);
    json_t *d = devices_of(f, &f->admin_who, &(struct app_bo_devices_query){0});
    assert_string_equal(str(json_array_get(d, 0), "status"), "revoked");
    assert_true(json_is_true(json_object_get(json_array_get(d, 0), "revoked")));
    assert_int_equal(app_bo_device_revoke(f->inst, &f->super_who, DEV_B, &f->e), 0);
    assert_int_equal(app_bo_device_revoke(f->inst, &f->super_who, NO_ID, &f->e), OP_ENOTFOUND);
}

static void test_run_detail(void **state)
{
    struct fixture *f = *state;
    if (app_bo_sync_run_get(f->inst, &f->super_who, f->run_b, &f->out, &f->e) != 0)
        fail_msg("run: %s", f->e.msg);
    json_t *r = json_object_get(f->out, "run");
    assert_string_equal(str(r, "id"), f->run_b);
    assert_string_equal(str(r, "org_id"), "ORG-2");
    assert_string_equal(str(r, "status"), "ok");
    assert_true(json_is_null(json_object_get(r, "error")));
}

static void test_on_a_device_it_is_refused(void **state)
{
    (void)state;
    char *dir;
    struct instance *dev = fx_instance("device", &dir);
    json_t *out = NULL;
    struct op_err e = {0};
    struct bo_caller who = {.super = 1};
    snprintf(who.user_id, sizeof who.user_id, "%s", NO_ID);
    assert_int_equal(app_bo_devices_list(dev, &who, &(struct app_bo_devices_query){0}, &out, &e),
                     OP_ESTATE);
    instance_close(dev);
    testutil_rmdir(dir);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_super_user_sees_every_device_with_its_report),
        T(test_admin_sees_the_devices_of_their_organisations_only),
        T(test_devices_are_paged_by_the_last_id),
        T(test_other_roles_never_get_a_caller_and_no_caller_gets_nothing),
        T(test_admin_gets_not_found_for_another_organisations_device_and_run),
        T(test_device_detail_holds_its_runs_newest_first),
        T(test_runs_across_devices_by_scope_and_filters),
        T(test_every_filter_at_once_with_an_administrators_scope),
        T(test_runs_are_paged_newest_first_without_repeats),
        T(test_bad_filters_name_the_field),
        T(test_admin_revokes_a_device_of_their_organisation),
        T(test_run_detail),
        cmocka_unit_test(test_on_a_device_it_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
