/*
 * testcenters.h - test centers: where test takers sit tests. A center has a label, an
 * organisation id (the scope a device synchronises; several centers may share one), an
 * optional parent (sub-centers form a tree: never a cycle), administrators (users with the
 * role test-center-admin) and proctors (role proctor).
 *
 * Invariants kept here:
 *  - a center's version is bumped whenever its label, organisation, parent or staff change,
 *    and only then;
 *  - the parent links never form a cycle, and a center with sub-centers cannot be deleted;
 *  - the change feed (feed.h) is current after every write: a center that changes
 *    organisation takes its eligibilities, their deliveries and test takers and its staff
 *    with it (tombstones in the old organisation's feed, rows in the new one).
 *
 * Labels need not be unique (TAO's are not), but commands find a center by id or label, so a
 * shared label is an error that lists the ids. A label may not look like an id.
 *
 * All writes must run inside a transaction the caller opened (db_begin).
 */
#ifndef OUTPOST_STORE_TESTCENTERS_H
#define OUTPOST_STORE_TESTCENTERS_H

#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "store/db.h"
#include "store/idlist.h"

/* What a staff member does at a center; each duty requires one user role. */
#define CENTER_DUTY_ADMIN   "admin"   /* role test-center-admin */
#define CENTER_DUTY_PROCTOR "proctor" /* role proctor */

struct test_center {
    char id[UUID_STR_LEN];
    char *label;
    char *org_id;
    char parent_id[UUID_STR_LEN]; /* "" for a top-level center */
    int64_t version;
    char created_at[TIMESTAMP_STR_LEN];
    char updated_at[TIMESTAMP_STR_LEN];
};

/* Frees the strings a struct test_center owns and zeroes it. */
void test_center_clear(struct test_center *c);

/* Checks a label or an organisation id a user gave: 1 to 255 bytes of UTF-8 text, no control
 * characters, no surrounding spaces (and a label must not look like an id). */
int testcenters_check_label(const char *label, struct op_err *e);
int testcenters_check_org(const char *org, struct op_err *e);

/* Inserts a new center from label, org_id and parent_id ("" for none); fills c->id (if
 * empty), version and time stamps. */
int testcenters_insert(struct db *db, struct test_center *c, struct op_err *e);

/* What testcenters_update changes; NULL keeps the stored value (a partial update, as a web
 * form sends). The strings are borrowed. */
struct test_center_changes {
    const char *label;
    const char *org_id;
    const char *parent_id; /* "" makes it a top-level center */
};

/* Applies `ch` to center `id`, provided its stored version is still `version` (the one the
 * caller read): otherwise OP_ECONFLICT, so that two administrators editing the same center
 * never silently overwrite each other. Checks the label and organisation id as
 * testcenters_insert does and refuses a parent that would make a cycle. *changed (may be
 * NULL) says whether anything changed; the version is bumped only then. */
int testcenters_update(struct db *db, const char *id, int64_t version,
                       const struct test_center_changes *ch, int *changed, struct op_err *e);

/* Reads a center by id; OP_ENOTFOUND if none. The caller owns *out (test_center_clear). */
int testcenters_get(struct db *db, const char *id, struct test_center *out, struct op_err *e);

/* Finds a center by id or, failing that, by label. A label several centers share is an
 * error that lists their ids. The caller owns *out. */
int testcenters_find(struct db *db, const char *id_or_label, struct test_center *out,
                     struct op_err *e);

/* Appends to `out` the ids of the centers whose organisation id is `org`, by id (TAO's
 * eligibility files name a center by its organisation id). */
int testcenters_ids_of_org(struct db *db, const char *org, struct idlist *out, struct op_err *e);

/* Deletes a center with its eligibilities and staff assignments (devices get tombstones).
 * Refused, naming them, while the center has sub-centers. */
int testcenters_delete(struct db *db, const char *id, struct op_err *e);

/* Staff changes below give a new version to the users whose synchronised profile is sealed to
 * another set of proctors now (the user moved; for proctors, also the center's test takers
 * and staff), so devices receive copies sealed to the current proctors.
 *
 * Makes user_id a staff member of `duty` (CENTER_DUTY_*) at the center. The user's role
 * must match the duty. Assigning someone already assigned changes nothing (*changed = 0). */
int testcenters_assign(struct db *db, const char *center_id, const char *user_id, const char *duty,
                       int *changed, struct op_err *e);

/* Removes user_id from `duty` at the center; OP_ENOTFOUND if they did not have it. */
int testcenters_unassign(struct db *db, const char *center_id, const char *user_id,
                         const char *duty, struct op_err *e);

/* A user's vault key changed (auth/credentials.c): what devices hold sealed to the old key is
 * of no use to them, so the records that carry it get a new version and the next pull brings
 * copies sealed to the new key (app/changes.c): the eligibilities that list the user (their
 * content keys) and, for each center the user proctors, its test takers and staff (their
 * profiles). Inside the caller's transaction. */
int testcenters_reseal_to_user(struct db *db, const char *user_id, struct op_err *e);

/* The centers where user `user_id` is assigned as a proctor, appended to `out`. */
int testcenters_proctored_by(struct db *db, const char *user_id, struct idlist *out,
                             struct op_err *e);
/* A proctor of the `centers` left them without a staff change (deleted, or no longer of role
 * proctor): the profiles devices receive are sealed to the proctors of the user's centers
 * (app/changes.h), and central keeps each record's page text by version (store/sealed.h), so
 * every test taker of the centers' eligibilities and every staff member of the centers gets a
 * new version (idlist_bump_users), once each, `except` (may be NULL) left out: their next texts
 * hold no box to the proctor who left. Inside the caller's transaction. */
int testcenters_reseal_after_proctor(struct db *db, const struct idlist *centers,
                                     const char *except, struct op_err *e);

/* Replaces the staff of `duty` at the center by the `n` users of `user_ids` (duplicates
 * allowed, counted once). *changed (may be NULL) says whether the list changed. */
int testcenters_set_staff(struct db *db, const char *center_id, const char *duty,
                          const char *const *user_ids, int n, int *changed, struct op_err *e);

/* The centers ordered by label then id, a page at a time (db.h): up to `limit` after the key
 * (label, id). The rows are struct test_center. testcenters_cursor opens a cursor on them. */
int testcenters_page(struct db *db, const struct db_key *after, int limit, struct db_page *out,
                     struct op_err *e);
#define TESTCENTERS_CURSOR_PAGE 100
void testcenters_cursor(struct db_cursor *c);

/* One staff member of a center. */
struct test_center_staff {
    char center_id[UUID_STR_LEN];
    char *login;
};
/* A cursor on the staff of `duty` (borrowed) at the center `center_id`, or at every center if
 * it is NULL, ordered by center id then login (the key); db_cursor_next yields
 * const struct test_center_staff *. */
void testcenters_staff_cursor(struct db_cursor *c, const char *center_id, const char *duty);

/* ---- a test-center administrator's reach (app/backoffice.h) ---- */

/* The opening of a query over the centers a test-center administrator ?1 administers and all
 * their sub-centers, at any depth: `scope(id)`. Store files that list records within an
 * administrator's reach start their SQL with it (a literal, so it can be concatenated):
 *     TESTCENTERS_ADMIN_SCOPE_CTE " SELECT ... WHERE x.center_id IN (SELECT id FROM scope)"
 * Parent links never form a cycle (and UNION would stop one). */
#define TESTCENTERS_ADMIN_SCOPE_CTE                                                                \
    "WITH RECURSIVE scope(id) AS (SELECT center_id FROM test_center_staff"                         \
    " WHERE user_id = ?1 AND duty = 'admin' UNION SELECT c.id FROM test_centers c"                 \
    " JOIN scope s ON c.parent_id = s.id)"

/* Adds to `out` the ids of the centers user `admin_id` administers and of all their
 * sub-centers (none for a user who administers nothing). */
int testcenters_admin_scope(struct db *db, const char *admin_id, struct idlist *out,
                            struct op_err *e);

/* *yes = 1 when user `user_id` belongs to a center of `admin_id`'s scope: staff there
 * (administrator or proctor) or a test taker of one of its eligibilities. */
int testcenters_user_in_admin_scope(struct db *db, const char *admin_id, const char *user_id,
                                    int *yes, struct op_err *e);

#endif
