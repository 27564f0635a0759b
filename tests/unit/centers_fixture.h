/*
 * centers_fixture.h - records for the test-center and eligibility unit tests: users, centers
 * and deliveries inserted through the store, and a look into an organisation's change feed.
 * Header-only (static inline) so that each test program includes what it uses.
 */
#ifndef OUTPOST_TESTS_CENTERS_FIXTURE_H
#define OUTPOST_TESTS_CENTERS_FIXTURE_H

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/deliveries.h"
#include "store/eligibilities.h"
#include "store/feed.h"
#include "store/testcenters.h"
#include "store/users.h"

/* Fails the test with the store's message unless rc is 0. */
#define OK(call)                                                                                   \
    do {                                                                                           \
        struct op_err fx_err_ = {0};                                                               \
        struct op_err *fx_e = &fx_err_;                                                            \
        if ((call) != 0)                                                                           \
            fail_msg("%s: %s", #call, fx_err_.msg);                                                \
    } while (0)

static inline void fx_begin(struct db *db)
{
    struct op_err e = {0};
    assert_int_equal(db_begin(db, &e), 0);
}

static inline void fx_commit(struct db *db)
{
    struct op_err e = {0};
    if (db_commit(db, &e) != 0)
        fail_msg("commit: %s", e.msg);
}

static inline void fx_user(struct db *db, const char *login, const char *role,
                           char id[UUID_STR_LEN])
{
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)login;
    u.role = (char *)role;
    u.org_id = strcmp(role, ROLE_SYNC_MANAGER) == 0 ? (char *)"ORG-A" : NULL;
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    fx_begin(db);
    OK(users_insert(db, &u, fx_e));
    fx_commit(db);
    memcpy(id, u.id, UUID_STR_LEN);
}

static inline void fx_center(struct db *db, const char *label, const char *org,
                             const char *parent_id, char id[UUID_STR_LEN])
{
    struct test_center c;
    memset(&c, 0, sizeof c);
    c.label = (char *)label;
    c.org_id = (char *)org;
    if (parent_id)
        snprintf(c.parent_id, sizeof c.parent_id, "%s", parent_id);
    fx_begin(db);
    OK(testcenters_insert(db, &c, fx_e));
    fx_commit(db);
    memcpy(id, c.id, UUID_STR_LEN);
}

static inline void fx_delivery(struct db *db, const char *label, int proctored_default,
                               char id[UUID_STR_LEN])
{
    struct delivery d;
    memset(&d, 0, sizeof d);
    d.label = (char *)label;
    d.proctored_default = proctored_default;
    fx_begin(db);
    OK(deliveries_insert(db, &d, fx_e));
    fx_commit(db);
    memcpy(id, d.id, UUID_STR_LEN);
}

/* Sets an eligibility in its own transaction; returns the outcome. */
static inline enum eligibility_outcome fx_eligible(struct db *db, const char *center_id,
                                                   const char *delivery_id,
                                                   const char *const *users, int n, int proctored,
                                                   char id[UUID_STR_LEN])
{
    enum eligibility_outcome out;
    fx_begin(db);
    OK(eligibilities_set(db, center_id, delivery_id, users, n, proctored, &out, id, fx_e));
    fx_commit(db);
    return out;
}

enum { FEED_ABSENT = 0, FEED_LIVE = 1, FEED_TOMBSTONE = 2 };

/* What `org`'s feed says about one record: absent, live or a tombstone. */
static inline int fx_feed(struct db *db, const char *org, const char *entity, const char *id)
{
    struct feed_change ch[256];
    int n;
    struct op_err e = {0};
    assert_int_equal(feed_read(db, org, 0, 256, ch, &n, &e), 0);
    for (int i = 0; i < n; i++)
        if (strcmp(ch[i].entity, entity) == 0 && strcmp(ch[i].entity_id, id) == 0)
            return ch[i].deleted ? FEED_TOMBSTONE : FEED_LIVE;
    return FEED_ABSENT;
}

/* The highest sequence number in `org`'s feed (0 if empty). */
static inline int64_t fx_feed_last(struct db *db, const char *org)
{
    struct feed_change ch[256];
    int n;
    struct op_err e = {0};
    assert_int_equal(feed_read(db, org, 0, 256, ch, &n, &e), 0);
    return n ? ch[n - 1].seq : 0;
}

static inline int64_t fx_center_version(struct db *db, const char *id)
{
    struct test_center c;
    OK(testcenters_get(db, id, &c, fx_e));
    int64_t v = c.version;
    test_center_clear(&c);
    return v;
}

static inline int64_t fx_eligibility_version(struct db *db, const char *id)
{
    struct eligibility el;
    OK(eligibilities_get(db, id, &el, fx_e));
    int64_t v = el.version;
    eligibility_clear(&el);
    return v;
}

#endif
