/*
 * testcenters.c - SQL for test centers and their staff (see testcenters.h for the
 * invariants). Writes that change which organisation a record belongs to collect the
 * affected records first (idlist.h) and touch each in the change feed once the write is done.
 */
#include "store/testcenters.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/text.h"
#include "store/feed.h"
#include "store/idlist.h"
#include "store/users.h"

#define CENTER_COLUMNS "id, label, org_id, parent_id, version, created_at, updated_at"

void test_center_clear(struct test_center *c)
{
    free(c->label);
    free(c->org_id);
    memset(c, 0, sizeof *c);
}

/* Fills a struct test_center from a row of CENTER_COLUMNS (a db_read_fn). */
static void read_row(struct db_stmt *st, void *row)
{
    struct test_center *c = row;
    memset(c, 0, sizeof *c);
    db_column_copy(st, 0, c->id, sizeof c->id);
    c->label = db_column_strdup(st, 1);
    c->org_id = db_column_strdup(st, 2);
    db_column_copy(st, 3, c->parent_id, sizeof c->parent_id);
    c->version = db_column_int64(st, 4);
    db_column_copy(st, 5, c->created_at, sizeof c->created_at);
    db_column_copy(st, 6, c->updated_at, sizeof c->updated_at);
}

/* ---- checks ---- */

/* A name a center needs (`need`: "a label"): the same rules as a login, printable UTF-8 that
 * survives JSON, CSV and a terminal. `noun` names it in the message. */
static int check_name(const char *v, const char *need, const char *noun, struct op_err *e)
{
    if (!v || !v[0])
        return err_set(e, OP_EINPUT, "a test center needs %s", need);
    if (!login_is_valid(v))
        return err_set(e, OP_EINPUT,
                       "%s must be 1 to 255 bytes of UTF-8 text with no control characters and "
                       "no leading or trailing space",
                       noun);
    return 0;
}

int testcenters_check_label(const char *label, struct op_err *e)
{
    if (check_name(label, "a label", "a test center label", e) != 0)
        return OP_EINPUT;
    if (uuid_is_valid(label))
        return err_set(e, OP_EINPUT,
                       "test center label \"%s\" looks like an id, which commands would confuse "
                       "with one; choose another label",
                       label);
    return 0;
}

int testcenters_check_org(const char *org, struct op_err *e)
{
    return check_name(org, "an organisation id", "an organisation id", e);
}

/* The user role a duty requires, and how messages name the duty. */
static const char *duty_role(const char *duty)
{
    if (strcmp(duty, CENTER_DUTY_ADMIN) == 0)
        return ROLE_TEST_CENTER_ADMIN;
    if (strcmp(duty, CENTER_DUTY_PROCTOR) == 0)
        return ROLE_PROCTOR;
    return NULL;
}

static const char *duty_noun(const char *duty)
{
    return strcmp(duty, CENTER_DUTY_ADMIN) == 0 ? "administrator" : "proctor";
}

/* Loads the user and checks their role fits `duty`; the caller owns *u on success. */
static int staff_user(struct db *db, const char *user_id, const char *duty, struct user *u,
                      struct op_err *e)
{
    const char *role = duty_role(duty);
    if (!role)
        return err_set(e, OP_EINPUT, "unknown test center duty \"%s\"", duty);
    int rc = users_get_by_id(db, user_id, u, e);
    if (rc != 0)
        return rc;
    if (strcmp(u->role, role) != 0) {
        rc = err_set(e, OP_EINPUT, "\"%s\" is a %s; only %s users can be %ss of a test center",
                     u->login, u->role, role, duty_noun(duty));
        user_clear(u);
    }
    return rc;
}

/* ---- reading ---- */

int testcenters_get(struct db *db, const char *id, struct test_center *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = db_get_row(db, "SELECT " CENTER_COLUMNS " FROM test_centers WHERE id = ?1", id,
                        read_row, out, "reading test center", e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no test center with id \"%s\"", id);
    return rc;
}

int testcenters_find(struct db *db, const char *key, struct test_center *out, struct op_err *e)
{
    struct op_err ignore = {0};
    if (testcenters_get(db, key, out, &ignore) == 0)
        return 0;
    if (ignore.code != OP_ENOTFOUND)
        return err_set(e, ignore.code, "%s", ignore.msg);
    int rc = db_find_labelled(
        db, "SELECT " CENTER_COLUMNS " FROM test_centers WHERE label = ?1 ORDER BY id", key,
        "test center", "test centers", read_row, out, e);
    if (rc != 0)
        test_center_clear(out);
    return rc;
}

int testcenters_ids_of_org(struct db *db, const char *org, struct idlist *out, struct op_err *e)
{
    return idlist_collect(db, "SELECT id FROM test_centers WHERE org_id = ?1 ORDER BY id", org, out,
                          "reading test centers", e);
}

static void clear_center(void *row)
{
    test_center_clear(row);
}

/* All centers after (label ?3, id ?4), by label then id. */
static const struct db_list centers_by_label = {
    .sql = "SELECT " CENTER_COLUMNS " FROM test_centers"
           " WHERE (label, id) > (?3, ?4) ORDER BY label, id LIMIT ?5",
    .nkey = 2,
    .key_col = {1, 0},
    .row_size = sizeof(struct test_center),
    .read = read_row,
    .clear = clear_center,
    .what = "listing test centers",
};

int testcenters_page(struct db *db, const struct db_key *after, int limit, struct db_page *out,
                     struct op_err *e)
{
    return db_page_read(db, &centers_by_label, NULL, NULL, after, limit, out, e);
}

void testcenters_cursor(struct db_cursor *c)
{
    db_cursor_open(c, &centers_by_label, NULL, NULL, TESTCENTERS_CURSOR_PAGE);
}

static void read_staff(struct db_stmt *st, void *row)
{
    struct test_center_staff *s = row;
    db_column_copy(st, 0, s->center_id, sizeof s->center_id);
    s->login = db_column_strdup(st, 1);
}

static void clear_staff(void *row)
{
    struct test_center_staff *s = row;
    free(s->login);
}

/* The staff of duty ?2 at center ?1 (all if NULL) after (center ?3, login ?4). */
static const struct db_list staff_by_center = {
    .sql = "SELECT s.center_id, u.login FROM test_center_staff s JOIN users u ON u.id = s.user_id"
           " WHERE (?1 IS NULL OR s.center_id = ?1) AND s.duty = ?2"
           " AND (s.center_id, u.login) > (?3, ?4)"
           " ORDER BY s.center_id, u.login LIMIT ?5",
    .nkey = 2,
    .key_col = {0, 1},
    .row_size = sizeof(struct test_center_staff),
    .read = read_staff,
    .clear = clear_staff,
    .what = "listing test center staff",
};

void testcenters_staff_cursor(struct db_cursor *c, const char *center_id, const char *duty)
{
    db_cursor_open(c, &staff_by_center, center_id, duty, DB_PAGE_MAX);
}
/* ---- the records that follow a center between organisations ---- */

struct center_deps {
    struct idlist eligibilities;
    struct idlist deliveries;
    struct idlist users; /* test takers of its eligibilities and its staff */
};

static void deps_free(struct center_deps *d)
{
    idlist_free(&d->eligibilities);
    idlist_free(&d->deliveries);
    idlist_free(&d->users);
}

static int deps_collect(struct db *db, const char *center_id, struct center_deps *d,
                        struct op_err *e)
{
    memset(d, 0, sizeof *d);
    const char *what = "test center: related records";
    int rc = idlist_collect(db, "SELECT id FROM eligibilities WHERE center_id = ?1", center_id,
                            &d->eligibilities, what, e);
    if (rc == 0)
        rc = idlist_collect(db, "SELECT delivery_id FROM eligibilities WHERE center_id = ?1",
                            center_id, &d->deliveries, what, e);
    if (rc == 0)
        rc = idlist_collect(db,
                            "SELECT t.user_id FROM eligibility_test_takers t"
                            " JOIN eligibilities el ON el.id = t.eligibility_id"
                            " WHERE el.center_id = ?1",
                            center_id, &d->users, what, e);
    if (rc == 0)
        rc = idlist_collect(db, "SELECT user_id FROM test_center_staff WHERE center_id = ?1",
                            center_id, &d->users, what, e);
    if (rc != 0)
        deps_free(d);
    return rc;
}

/* Referenced records first, so that a device reading the feed in order meets a delivery or a
 * user before the eligibility that names it. */
static int deps_touch(struct db *db, const struct center_deps *d, struct op_err *e)
{
    int rc = idlist_touch(db, FEED_DELIVERY, &d->deliveries, e);
    if (rc == 0)
        rc = idlist_bump_users(db, &d->users, "moving a test center", e);
    if (rc == 0)
        rc = idlist_touch(db, FEED_ELIGIBILITY, &d->eligibilities, e);
    return rc;
}

/* ---- writes ---- */

static int bump_version(struct db *db, const char *id, struct op_err *e)
{
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    int rc =
        db_run(db, "UPDATE test_centers SET version = version + 1, updated_at = ?2 WHERE id = ?1",
               id, now, "updating test center", e);
    return rc != 0 ? rc : feed_touch(db, FEED_TEST_CENTER, id, e);
}

/* Adds or removes one staff row (?1 center, ?2 user, ?3 duty). */
static int staff_write(struct db *db, const char *sql, const char *center_id, const char *user_id,
                       const char *duty, const char *what, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, center_id);
    db_bind_text(st, 2, user_id);
    db_bind_text(st, 3, duty);
    return db_step_done(db, st, what, e);
}

#define STAFF_INSERT                                                                               \
    "INSERT INTO test_center_staff (center_id, user_id, duty) VALUES (?1, ?2, ?3)"                 \
    " ON CONFLICT DO NOTHING"
#define STAFF_DELETE                                                                               \
    "DELETE FROM test_center_staff WHERE center_id = ?1 AND user_id = ?2 AND duty = ?3"

/* Checks that `parent_id` may be the parent of center `id` ("" for a new center): it exists
 * and is not `id` or one of its sub-centers, at any depth. */
static int check_parent(struct db *db, const char *id, const char *label, const char *parent_id,
                        struct op_err *e)
{
    struct test_center parent;
    int rc = testcenters_get(db, parent_id, &parent, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no parent test center with id \"%s\"", parent_id);
    if (rc != 0)
        return rc;
    if (strcmp(parent_id, id) == 0) {
        rc = err_set(e, OP_EINPUT, "test center \"%s\" cannot be its own parent", label);
    } else if (id[0]) {
        /* Walk up from the new parent; UNION (not UNION ALL) ends even on a cycle. The start
         * is read from the table (the parent exists, checked above), not the bare parameter,
         * so both terms have the column's type and collation (PostgreSQL requires it). */
        struct db_stmt *st =
            db_stmt(db,
                    "WITH RECURSIVE up (id) AS (SELECT id FROM test_centers WHERE id = ?1"
                    " UNION SELECT tc.parent_id FROM test_centers tc JOIN up ON tc.id = up.id"
                    " WHERE tc.parent_id IS NOT NULL)"
                    " SELECT 1 FROM up WHERE id = ?2",
                    e);
        if (!st) {
            rc = OP_EDB;
        } else {
            db_bind_text(st, 1, parent_id);
            db_bind_text(st, 2, id);
            int step = db_step(st);
            db_stmt_done(db, st);
            if (step == DB_ROW)
                rc = err_set(e, OP_EINPUT,
                             "test center \"%s\" is a sub-center of \"%s\", so it cannot be its "
                             "parent (that would make a cycle)",
                             parent.label, label);
            else if (step != DB_DONE)
                rc = db_fail(db, e, "checking test center parents");
        }
    }
    test_center_clear(&parent);
    return rc;
}

/* Binds ?1 to ?5 of testcenters_insert and testcenters_update: the fields, then `stamp`. */
static void bind_fields(struct db_stmt *st, const struct test_center *c, const char *stamp)
{
    db_bind_text(st, 1, c->id);
    db_bind_text(st, 2, c->label);
    db_bind_text(st, 3, c->org_id);
    db_bind_text(st, 4, c->parent_id[0] ? c->parent_id : NULL);
    db_bind_text(st, 5, stamp);
}

int testcenters_insert(struct db *db, struct test_center *c, struct op_err *e)
{
    int rc = testcenters_check_label(c->label, e);
    if (rc == 0)
        rc = testcenters_check_org(c->org_id, e);
    if (rc == 0 && c->parent_id[0])
        rc = check_parent(db, "", c->label, c->parent_id, e);
    if (rc != 0)
        return rc;
    if (!c->id[0])
        uuid_generate(c->id);
    timestamp_now(c->created_at);
    memcpy(c->updated_at, c->created_at, sizeof c->updated_at);
    c->version = 1;
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO test_centers (id, label, org_id, parent_id, version,"
                                 " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
                                 e);
    if (!st)
        return OP_EDB;
    bind_fields(st, c, c->created_at);
    rc = db_step_done(db, st, "adding test center", e);
    return rc != 0 ? rc : feed_touch(db, FEED_TEST_CENTER, c->id, e);
}

int testcenters_update(struct db *db, const char *id, int64_t version,
                       const struct test_center_changes *ch, int *changed, struct op_err *e)
{
    if (changed)
        *changed = 0;
    struct test_center old;
    int rc = testcenters_get(db, id, &old, e);
    if (rc != 0)
        return rc;
    if (old.version != version) {
        rc = err_set(e, OP_ECONFLICT,
                     "test center \"%s\" was changed by someone else since it was read (now "
                     "version %lld, not %lld); read it again and retry",
                     old.label, (long long)old.version, (long long)version);
        test_center_clear(&old);
        return rc;
    }
    struct test_center c = old; /* borrows old's strings and ch's */
    if (ch->label)
        c.label = (char *)ch->label;
    if (ch->org_id)
        c.org_id = (char *)ch->org_id;
    if (ch->parent_id)
        snprintf(c.parent_id, sizeof c.parent_id, "%s", ch->parent_id);
    rc = testcenters_check_label(c.label, e);
    if (rc == 0)
        rc = testcenters_check_org(c.org_id, e);
    if (rc == 0 && c.parent_id[0] && strcmp(c.parent_id, old.parent_id) != 0)
        rc = check_parent(db, c.id, c.label, c.parent_id, e);
    assert(old.label && old.org_id && c.label && c.org_id); /* NOT NULL in the table */
    int org_changed = strcmp(old.org_id, c.org_id) != 0;
    int any =
        org_changed || strcmp(old.label, c.label) != 0 || strcmp(old.parent_id, c.parent_id) != 0;
    if (rc != 0 || !any) {
        test_center_clear(&old);
        return rc;
    }

    timestamp_now(c.updated_at);
    struct db_stmt *st = db_stmt(db,
                                 "UPDATE test_centers SET label = ?2, org_id = ?3, parent_id = ?4,"
                                 " updated_at = ?5, version = version + 1 WHERE id = ?1",
                                 e);
    if (st) {
        bind_fields(st, &c, c.updated_at);
        rc = db_step_done(db, st, "updating test center", e);
    } else {
        rc = OP_EDB;
    }
    test_center_clear(&old);
    if (rc != 0)
        return rc;
    if (changed)
        *changed = 1;
    rc = feed_touch(db, FEED_TEST_CENTER, id, e);
    if (rc != 0 || !org_changed)
        return rc;
    /* Everything in scope through this center moves with it. */
    struct center_deps deps;
    rc = deps_collect(db, id, &deps, e);
    if (rc == 0) {
        rc = deps_touch(db, &deps, e);
        deps_free(&deps);
    }
    return rc;
}

/* Fails, naming them, if the center has sub-centers. */
static int refuse_if_parent(struct db *db, const struct test_center *c, struct op_err *e)
{
    struct db_stmt *st = db_stmt(
        db, "SELECT id, label FROM test_centers WHERE parent_id = ?1 ORDER BY label, id", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, c->id);
    struct buf names = BUF_INIT;
    int n = 0, rc;
    while ((rc = db_step(st)) == DB_ROW) {
        buf_printf(&names, "%s\"%s\" (%s)", n ? ", " : "", db_column_text(st, 1),
                   db_column_text(st, 0));
        n++;
    }
    db_stmt_done(db, st);
    if (rc != DB_DONE)
        rc = db_fail(db, e, "deleting test center");
    else if (n > 0)
        rc = err_set_remedy(e, OP_ECONFLICT, OP_REMEDY_REPARENT,
                            "test center \"%s\" has %d sub-center%s: %s; delete %s or give %s "
                            "another parent",
                            c->label, n, n == 1 ? "" : "s", names.data, n == 1 ? "it" : "them",
                            n == 1 ? "it" : "them");
    else
        rc = 0;
    buf_free(&names);
    return rc;
}

int testcenters_delete(struct db *db, const char *id, struct op_err *e)
{
    struct test_center c;
    int rc = testcenters_get(db, id, &c, e);
    if (rc != 0)
        return rc;
    rc = refuse_if_parent(db, &c, e);
    test_center_clear(&c);
    if (rc != 0)
        return rc;
    struct center_deps deps;
    if ((rc = deps_collect(db, id, &deps, e)) != 0)
        return rc;
    const char *what = "deleting test center";
    rc = db_run(db,
                "DELETE FROM eligibility_test_takers WHERE eligibility_id IN"
                " (SELECT id FROM eligibilities WHERE center_id = ?1)",
                id, NULL, what, e);
    if (rc == 0)
        rc = db_run(db, "DELETE FROM eligibilities WHERE center_id = ?1", id, NULL, what, e);
    if (rc == 0)
        rc = db_run(db, "DELETE FROM test_center_staff WHERE center_id = ?1", id, NULL, what, e);
    if (rc == 0)
        rc = db_run(db, "DELETE FROM test_centers WHERE id = ?1", id, NULL, what, e);
    /* Tombstones: the eligibilities and the center, then whatever only they kept in scope. */
    if (rc == 0)
        rc = idlist_touch(db, FEED_ELIGIBILITY, &deps.eligibilities, e);
    if (rc == 0)
        rc = feed_touch(db, FEED_TEST_CENTER, id, e);
    if (rc == 0)
        rc = idlist_touch(db, FEED_DELIVERY, &deps.deliveries, e);
    if (rc == 0)
        rc = idlist_bump_users(db, &deps.users, what, e);
    deps_free(&deps);
    return rc;
}

/* Staff of a center changed (`users`: who was assigned or removed, with `duty`): the profiles
 * devices receive are sealed to the proctors of the user's centers (app/changes.h), so the
 * records whose sealed copies are now for another set of proctors get a new version and are
 * sent again: the users moved themselves, and, when proctors moved, every test taker of the
 * center's eligibilities and every staff member of the center. Their next copies are sealed
 * to the current proctors: a proctor added can open them, one removed gets no new copy. */
static int reseal_profiles(struct db *db, const char *center_id, const char *duty,
                           const struct idlist *users, struct op_err *e)
{
    const char *what = "updating the profiles sealed to a center's proctors";
    struct idlist ids = IDLIST_INIT;
    for (int i = 0; i < users->n; i++)
        idlist_add(&ids, users->v[i]);
    int rc = 0;
    if (strcmp(duty, CENTER_DUTY_PROCTOR) == 0)
        rc = idlist_collect(db,
                            "SELECT t.user_id FROM eligibility_test_takers t"
                            " JOIN eligibilities el ON el.id = t.eligibility_id"
                            " WHERE el.center_id = ?1"
                            " UNION SELECT user_id FROM test_center_staff WHERE center_id = ?1",
                            center_id, &ids, what, e);
    for (int i = 0; rc == 0 && i < ids.n; i++)
        rc = db_run(db, "UPDATE users SET version = version + 1 WHERE id = ?1", ids.v[i], NULL,
                    what, e);
    if (rc == 0)
        rc = idlist_touch(db, FEED_USER, &ids, e);
    idlist_free(&ids);
    return rc;
}

static int reseal_one(struct db *db, const char *center_id, const char *duty, const char *user_id,
                      struct op_err *e)
{
    struct idlist one = IDLIST_INIT;
    idlist_add(&one, user_id);
    int rc = reseal_profiles(db, center_id, duty, &one, e);
    idlist_free(&one);
    return rc;
}

int testcenters_reseal_to_user(struct db *db, const char *user_id, struct op_err *e)
{
    const char *what = "updating what is sealed to a user whose key changed";
    struct idlist elig = IDLIST_INIT, centers = IDLIST_INIT, none = IDLIST_INIT;
    int rc =
        idlist_collect(db, "SELECT eligibility_id FROM eligibility_test_takers WHERE user_id = ?1",
                       user_id, &elig, what, e);
    if (rc == 0)
        rc = idlist_bump(db,
                         "UPDATE eligibilities SET version = version + 1, updated_at = ?2"
                         " WHERE id = ?1",
                         FEED_ELIGIBILITY, &elig, what, e);
    if (rc == 0)
        rc = idlist_collect(db,
                            "SELECT center_id FROM test_center_staff WHERE user_id = ?1"
                            " AND duty = 'proctor'",
                            user_id, &centers, what, e);
    for (int i = 0; rc == 0 && i < centers.n; i++)
        rc = reseal_profiles(db, centers.v[i], CENTER_DUTY_PROCTOR, &none, e);
    idlist_free(&elig);
    idlist_free(&centers);
    return rc;
}

int testcenters_proctored_by(struct db *db, const char *user_id, struct idlist *out,
                             struct op_err *e)
{
    return idlist_collect(db,
                          "SELECT center_id FROM test_center_staff WHERE user_id = ?1"
                          " AND duty = 'proctor'",
                          user_id, out, "reading the centers a user proctors", e);
}

int testcenters_reseal_after_proctor(struct db *db, const struct idlist *centers,
                                     const char *except, struct op_err *e)
{
    const char *what = "updating the profiles sealed to a proctor who left";
    struct idlist users = IDLIST_INIT, bump = IDLIST_INIT;
    int rc = 0;
    for (int i = 0; rc == 0 && i < centers->n; i++)
        rc = idlist_collect(db,
                            "SELECT t.user_id FROM eligibility_test_takers t"
                            " JOIN eligibilities el ON el.id = t.eligibility_id"
                            " WHERE el.center_id = ?1"
                            " UNION SELECT user_id FROM test_center_staff WHERE center_id = ?1",
                            centers->v[i], &users, what, e);
    for (int i = 0; rc == 0 && i < users.n; i++)
        if (!except || strcmp(users.v[i], except) != 0)
            idlist_add(&bump, users.v[i]);
    if (rc == 0)
        rc = idlist_bump_users(db, &bump, what, e);
    idlist_free(&users);
    idlist_free(&bump);
    return rc;
}

int testcenters_assign(struct db *db, const char *center_id, const char *user_id, const char *duty,
                       int *changed, struct op_err *e)
{
    if (changed)
        *changed = 0;
    struct test_center c;
    int rc = testcenters_get(db, center_id, &c, e);
    if (rc != 0)
        return rc;
    test_center_clear(&c);
    struct user u;
    if ((rc = staff_user(db, user_id, duty, &u, e)) != 0)
        return rc;
    user_clear(&u);
    rc = staff_write(db, STAFF_INSERT, center_id, user_id, duty, "assigning test center staff", e);
    if (rc != 0 || db_changes(db) == 0)
        return rc;
    if (changed)
        *changed = 1;
    rc = bump_version(db, center_id, e);
    if (rc == 0)
        rc = reseal_one(db, center_id, duty, user_id, e);
    return rc;
}

int testcenters_unassign(struct db *db, const char *center_id, const char *user_id,
                         const char *duty, struct op_err *e)
{
    struct test_center c;
    struct user u;
    int rc = testcenters_get(db, center_id, &c, e);
    if (rc != 0)
        return rc;
    if ((rc = users_get_by_id(db, user_id, &u, e)) != 0) {
        test_center_clear(&c);
        return rc;
    }
    rc =
        staff_write(db, STAFF_DELETE, center_id, user_id, duty, "unassigning test center staff", e);
    if (rc == 0 && db_changes(db) == 0)
        rc = err_set(e, OP_ENOTFOUND, "\"%s\" is not %s %s of test center \"%s\"", u.login,
                     strcmp(duty, CENTER_DUTY_ADMIN) == 0 ? "an" : "a", duty_noun(duty), c.label);
    test_center_clear(&c);
    user_clear(&u);
    if (rc == 0)
        rc = bump_version(db, center_id, e);
    if (rc == 0)
        rc = reseal_one(db, center_id, duty, user_id, e);
    return rc;
}

int testcenters_set_staff(struct db *db, const char *center_id, const char *duty,
                          const char *const *user_ids, int n, int *changed, struct op_err *e)
{
    if (changed)
        *changed = 0;
    struct test_center c;
    int rc = testcenters_get(db, center_id, &c, e);
    if (rc != 0)
        return rc;
    test_center_clear(&c);
    struct idlist want = IDLIST_INIT, have = IDLIST_INIT, moved = IDLIST_INIT;
    for (int i = 0; rc == 0 && i < n; i++) {
        struct user u;
        rc = staff_user(db, user_ids[i], duty, &u, e);
        if (rc == 0) {
            idlist_add(&want, u.id);
            user_clear(&u);
        }
    }
    if (rc == 0)
        rc = idlist_collect(db,
                            strcmp(duty, CENTER_DUTY_ADMIN) == 0
                                ? "SELECT user_id FROM test_center_staff"
                                  " WHERE center_id = ?1 AND duty = 'admin'"
                                : "SELECT user_id FROM test_center_staff"
                                  " WHERE center_id = ?1 AND duty = 'proctor'",
                            center_id, &have, "reading test center staff", e);
    /* Drop those no longer wanted, add the new ones. */
    for (int i = 0; rc == 0 && i < have.n; i++) {
        if (idlist_has(&want, have.v[i]))
            continue;
        rc = staff_write(db, STAFF_DELETE, center_id, have.v[i], duty, "updating test center staff",
                         e);
        idlist_add(&moved, have.v[i]);
    }
    for (int i = 0; rc == 0 && i < want.n; i++) {
        if (idlist_has(&have, want.v[i]))
            continue;
        rc = staff_write(db, STAFF_INSERT, center_id, want.v[i], duty, "updating test center staff",
                         e);
        idlist_add(&moved, want.v[i]);
    }
    if (rc == 0 && moved.n > 0) {
        if (changed)
            *changed = 1;
        rc = bump_version(db, center_id, e);
        if (rc == 0)
            rc = reseal_profiles(db, center_id, duty, &moved, e);
    }
    idlist_free(&want);
    idlist_free(&have);
    idlist_free(&moved);
    return rc;
}

/* ---- a test-center administrator's reach ---- */

int testcenters_admin_scope(struct db *db, const char *admin_id, struct idlist *out,
                            struct op_err *e)
{
    return idlist_collect(db, TESTCENTERS_ADMIN_SCOPE_CTE " SELECT id FROM scope ORDER BY id",
                          admin_id, out, "reading the centers of an administrator", e);
}

int testcenters_user_in_admin_scope(struct db *db, const char *admin_id, const char *user_id,
                                    int *yes, struct op_err *e)
{
    *yes = 0;
    struct db_stmt *st =
        db_stmt(db,
                TESTCENTERS_ADMIN_SCOPE_CTE
                " SELECT 1 WHERE EXISTS (SELECT 1 FROM test_center_staff s WHERE s.user_id = ?2"
                " AND s.center_id IN (SELECT id FROM scope)) OR EXISTS (SELECT 1 FROM"
                " eligibility_test_takers t JOIN eligibilities el ON el.id = t.eligibility_id"
                " WHERE t.user_id = ?2 AND el.center_id IN (SELECT id FROM scope))",
                e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, admin_id);
    db_bind_text(st, 2, user_id);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *yes = 1;
    int result = rc == DB_ERROR ? db_fail(db, e, "reading the reach of an administrator") : 0;
    db_stmt_done(db, st);
    return result;
}
