/*
 * eligibilities.c - SQL for eligibilities and their test takers (see eligibilities.h for the
 * invariants). A write first works out which test takers enter or leave, then writes, then
 * touches each affected record in the change feed.
 */
#include "store/eligibilities.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/deliveries.h"
#include "store/feed.h"
#include "store/idlist.h"
#include "store/testcenters.h"
#include "store/users.h"

#define ELIGIBILITY_SELECT                                                                         \
    "SELECT el.id, el.center_id, el.delivery_id, tc.label, d.label, el.proctored, el.version,"     \
    " el.created_at, el.updated_at FROM eligibilities el"                                          \
    " JOIN test_centers tc ON tc.id = el.center_id"                                                \
    " JOIN deliveries d ON d.id = el.delivery_id"

int eligibilities_parse_proctored(const char *s)
{
    if (strcasecmp(s, "yes") == 0)
        return 1;
    if (strcasecmp(s, "no") == 0)
        return 0;
    return -1;
}

void eligibility_clear(struct eligibility *el)
{
    free(el->center_label);
    free(el->delivery_label);
    memset(el, 0, sizeof *el);
}

static void read_row(struct db_stmt *st, struct eligibility *el)
{
    memset(el, 0, sizeof *el);
    db_column_copy(st, 0, el->id, sizeof el->id);
    db_column_copy(st, 1, el->center_id, sizeof el->center_id);
    db_column_copy(st, 2, el->delivery_id, sizeof el->delivery_id);
    el->center_label = db_column_strdup(st, 3);
    el->delivery_label = db_column_strdup(st, 4);
    el->proctored = db_column_int(st, 5);
    el->version = db_column_int64(st, 6);
    db_column_copy(st, 7, el->created_at, sizeof el->created_at);
    db_column_copy(st, 8, el->updated_at, sizeof el->updated_at);
}

/* Runs a one-row SELECT (ELIGIBILITY_SELECT ...) with up to two bound values. */
static int get_one(struct db *db, const char *sql, const char *a, const char *b,
                   struct eligibility *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, a);
    if (b)
        db_bind_text(st, 2, b);
    int rc = db_step(st);
    if (rc == DB_ROW)
        read_row(st, out);
    db_stmt_done(db, st);
    if (rc == DB_DONE)
        return OP_ENOTFOUND;
    return rc == DB_ROW ? 0 : db_fail(db, e, "reading eligibility");
}

int eligibilities_get(struct db *db, const char *id, struct eligibility *out, struct op_err *e)
{
    int rc = get_one(db, ELIGIBILITY_SELECT " WHERE el.id = ?1", id, NULL, out, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, rc, "no eligibility with id \"%s\"", id);
    return rc;
}

int eligibilities_get_pair(struct db *db, const char *center_id, const char *delivery_id,
                           struct eligibility *out, struct op_err *e)
{
    int rc = get_one(db, ELIGIBILITY_SELECT " WHERE el.center_id = ?1 AND el.delivery_id = ?2",
                     center_id, delivery_id, out, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, rc, "no eligibility for test center %s and delivery %s", center_id,
                       delivery_id);
    return rc;
}

static void read_eligibility(struct db_stmt *st, void *row)
{
    read_row(st, row);
}

static void clear_eligibility(void *row)
{
    eligibility_clear(row);
}

/* All eligibilities after the key ?3..?7, by center label and id, delivery label and id,
 * and id. */
static const struct db_list eligibilities_by_center = {
    .sql =
        ELIGIBILITY_SELECT " WHERE (tc.label, tc.id, d.label, d.id, el.id) > (?3, ?4, ?5, ?6, ?7)"
                           " ORDER BY tc.label, tc.id, d.label, d.id, el.id LIMIT ?8",
    .nkey = 5,
    .key_col = {3, 1, 4, 2, 0},
    .row_size = sizeof(struct eligibility),
    .read = read_eligibility,
    .clear = clear_eligibility,
    .what = "listing eligibilities",
};

int eligibilities_page(struct db *db, const struct db_key *after, int limit, struct db_page *out,
                       struct op_err *e)
{
    return db_page_read(db, &eligibilities_by_center, NULL, NULL, after, limit, out, e);
}

void eligibilities_cursor(struct db_cursor *c)
{
    db_cursor_open(c, &eligibilities_by_center, NULL, NULL, ELIGIBILITIES_CURSOR_PAGE);
}

static void read_login(struct db_stmt *st, void *row)
{
    struct eligibility_test_taker *t = row;
    t->login = db_column_strdup(st, 0);
}

static void clear_login(void *row)
{
    struct eligibility_test_taker *t = row;
    free(t->login);
}

/* The test takers of eligibility ?1 after login ?3, by login. */
static const struct db_list test_takers_by_login = {
    .sql = "SELECT u.login FROM eligibility_test_takers t JOIN users u ON u.id = t.user_id"
           " WHERE t.eligibility_id = ?1 AND u.login > ?3"
           " ORDER BY u.login LIMIT ?4",
    .nkey = 1,
    .key_col = {0},
    .row_size = sizeof(struct eligibility_test_taker),
    .read = read_login,
    .clear = clear_login,
    .what = "listing test takers of an eligibility",
};

int eligibilities_test_takers_page(struct db *db, const char *id, const struct db_key *after,
                                   int limit, struct db_page *out, struct op_err *e)
{
    return db_page_read(db, &test_takers_by_login, id, NULL, after, limit, out, e);
}

int eligibilities_test_takers(struct db *db, const char *id, struct idlist *logins,
                              struct op_err *e)
{
    return idlist_collect(db,
                          "SELECT u.login FROM eligibility_test_takers t"
                          " JOIN users u ON u.id = t.user_id WHERE t.eligibility_id = ?1"
                          " ORDER BY u.login",
                          id, logins, "listing test takers of an eligibility", e);
}

/* ---- writes ---- */

/* Checks every user is a test taker; fills `want` with their ids, each once. */
static int collect_test_takers(struct db *db, const char *const *user_ids, int n,
                               struct idlist *want, struct op_err *e)
{
    for (int i = 0; i < n; i++) {
        struct user u;
        int rc = users_get_by_id(db, user_ids[i], &u, e);
        if (rc != 0)
            return rc;
        if (strcmp(u.role, ROLE_TEST_TAKER) != 0) {
            rc = err_set(e, OP_EINPUT,
                         "\"%s\" is a %s; only test-taker users can be in an eligibility", u.login,
                         u.role);
            user_clear(&u);
            return rc;
        }
        idlist_add(want, u.id);
        user_clear(&u);
    }
    return 0;
}

static int insert_new(struct db *db, const char *center_id, const struct delivery *d, int proctored,
                      const struct idlist *want, char id[UUID_STR_LEN], struct op_err *e)
{
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    uuid_generate(id);
    struct db_stmt *st = db_stmt(db,
                                 "INSERT INTO eligibilities (id, center_id, delivery_id, proctored,"
                                 " version, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5,"
                                 " ?5)",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, center_id);
    db_bind_text(st, 3, d->id);
    db_bind_int(st, 4, proctored < 0 ? d->proctored_default : proctored);
    db_bind_text(st, 5, now);
    int rc = db_step_done(db, st, "adding eligibility", e);
    for (int i = 0; rc == 0 && i < want->n; i++)
        rc = db_run(db,
                    "INSERT INTO eligibility_test_takers (eligibility_id, user_id)"
                    " VALUES (?1, ?2)",
                    id, want->v[i], "writing eligibility", e);
    /* The delivery and the test takers first, then the eligibility that names them. */
    if (rc == 0)
        rc = feed_touch(db, FEED_DELIVERY, d->id, e);
    if (rc == 0)
        rc = idlist_bump_users(db, want, "adding eligibility", e);
    if (rc == 0)
        rc = feed_touch(db, FEED_ELIGIBILITY, id, e);
    return rc;
}

static int replace_existing(struct db *db, const struct eligibility *old, int proctored,
                            const struct idlist *want, int *changed, struct op_err *e)
{
    *changed = 0;
    struct idlist have = IDLIST_INIT, moved = IDLIST_INIT;
    int rc = idlist_collect(db,
                            "SELECT user_id FROM eligibility_test_takers"
                            " WHERE eligibility_id = ?1",
                            old->id, &have, "reading eligibility", e);
    for (int i = 0; rc == 0 && i < have.n; i++) {
        if (idlist_has(want, have.v[i]))
            continue;
        rc = db_run(db,
                    "DELETE FROM eligibility_test_takers WHERE eligibility_id = ?1"
                    " AND user_id = ?2",
                    old->id, have.v[i], "writing eligibility", e);
        idlist_add(&moved, have.v[i]);
    }
    for (int i = 0; rc == 0 && i < want->n; i++) {
        if (idlist_has(&have, want->v[i]))
            continue;
        rc = db_run(db,
                    "INSERT INTO eligibility_test_takers (eligibility_id, user_id)"
                    " VALUES (?1, ?2)",
                    old->id, want->v[i], "writing eligibility", e);
        idlist_add(&moved, want->v[i]);
    }
    int new_proctored = proctored < 0 ? old->proctored : proctored;
    if (rc == 0 && (moved.n > 0 || new_proctored != old->proctored)) {
        char now[TIMESTAMP_STR_LEN];
        timestamp_now(now);
        struct db_stmt *st = db_stmt(db,
                                     "UPDATE eligibilities SET proctored = ?2, updated_at = ?3,"
                                     " version = version + 1 WHERE id = ?1",
                                     e);
        if (!st) {
            rc = OP_EDB;
        } else {
            db_bind_text(st, 1, old->id);
            db_bind_int(st, 2, new_proctored);
            db_bind_text(st, 3, now);
            rc = db_step_done(db, st, "updating eligibility", e);
        }
        if (rc == 0)
            rc = idlist_bump_users(db, &moved, "updating eligibility", e);
        if (rc == 0)
            rc = feed_touch(db, FEED_ELIGIBILITY, old->id, e);
        if (rc == 0)
            *changed = 1;
    }
    idlist_free(&have);
    idlist_free(&moved);
    return rc;
}

int eligibilities_set(struct db *db, const char *center_id, const char *delivery_id,
                      const char *const *user_ids, int n, int proctored,
                      enum eligibility_outcome *outcome, char id_out[UUID_STR_LEN],
                      struct op_err *e)
{
    if (outcome)
        *outcome = ELIGIBILITY_UNCHANGED;
    if (proctored != 0 && proctored != 1 && proctored != ELIGIBILITY_PROCTORED_KEEP)
        return err_set(e, OP_EINPUT, "proctored must be yes or no");
    struct test_center c;
    int rc = testcenters_get(db, center_id, &c, e);
    if (rc != 0)
        return rc;
    test_center_clear(&c);
    struct delivery d;
    if ((rc = deliveries_get(db, delivery_id, &d, e)) != 0)
        return rc;
    struct idlist want = IDLIST_INIT;
    rc = collect_test_takers(db, user_ids, n, &want, e);
    struct eligibility old;
    int found = 0;
    if (rc == 0) {
        struct op_err notfound = {0};
        rc = eligibilities_get_pair(db, center_id, delivery_id, &old, &notfound);
        if (rc == 0)
            found = 1;
        else if (rc == OP_ENOTFOUND)
            rc = 0;
        else
            err_set(e, rc, "%s", notfound.msg);
    }
    char id[UUID_STR_LEN] = "";
    if (rc == 0 && !found) {
        rc = insert_new(db, center_id, &d, proctored, &want, id, e);
        if (rc == 0 && outcome)
            *outcome = ELIGIBILITY_CREATED;
    } else if (rc == 0) {
        int changed;
        memcpy(id, old.id, sizeof id);
        rc = replace_existing(db, &old, proctored, &want, &changed, e);
        if (rc == 0 && changed && outcome)
            *outcome = ELIGIBILITY_UPDATED;
    }
    if (found)
        eligibility_clear(&old);
    if (rc == 0 && id_out)
        memcpy(id_out, id, UUID_STR_LEN);
    delivery_clear(&d);
    idlist_free(&want);
    return rc;
}

int eligibilities_bump_delivery(struct db *db, const char *delivery_id, struct op_err *e)
{
    const char *what = "updating the eligibilities of a delivery";
    struct idlist ids = IDLIST_INIT;
    int rc = idlist_collect(db, "SELECT id FROM eligibilities WHERE delivery_id = ?1", delivery_id,
                            &ids, what, e);
    if (rc == 0 && ids.n > 0) {
        char now[TIMESTAMP_STR_LEN];
        timestamp_now(now);
        rc = db_run(db,
                    "UPDATE eligibilities SET version = version + 1, updated_at = ?2"
                    " WHERE delivery_id = ?1",
                    delivery_id, now, what, e);
    }
    if (rc == 0)
        rc = idlist_touch(db, FEED_ELIGIBILITY, &ids, e);
    idlist_free(&ids);
    return rc;
}

int eligibilities_delete(struct db *db, const char *id, struct op_err *e)
{
    struct eligibility el;
    int rc = eligibilities_get(db, id, &el, e);
    if (rc != 0)
        return rc;
    struct idlist takers = IDLIST_INIT;
    rc = idlist_collect(db, "SELECT user_id FROM eligibility_test_takers WHERE eligibility_id = ?1",
                        id, &takers, "deleting eligibility", e);
    if (rc == 0)
        rc = db_run(db, "DELETE FROM eligibility_test_takers WHERE eligibility_id = ?1", id, NULL,
                    "deleting eligibility", e);
    if (rc == 0)
        rc = db_run(db, "DELETE FROM eligibilities WHERE id = ?1", id, NULL, "deleting eligibility",
                    e);
    if (rc == 0)
        rc = feed_touch(db, FEED_ELIGIBILITY, id, e);
    if (rc == 0)
        rc = feed_touch(db, FEED_DELIVERY, el.delivery_id, e);
    if (rc == 0)
        rc = idlist_bump_users(db, &takers, "deleting eligibility", e);
    idlist_free(&takers);
    eligibility_clear(&el);
    return rc;
}
