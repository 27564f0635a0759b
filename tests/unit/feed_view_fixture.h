/*
 * feed_view_fixture.h - a device's view of an organisation's change feed, built by paging
 * through it, and the scope central holds, computed from the tables (not from the feed), to
 * compare the two. Plain C with no cmocka assertion, so that forked processes can use it too:
 * the checks print what differs to stderr and return how many differences they found.
 * Header-only (static), included by test_feed.c and test_feed_concurrency.c.
 */
#ifndef OUTPOST_TESTS_FEED_VIEW_FIXTURE_H
#define OUTPOST_TESTS_FEED_VIEW_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/feed.h"

struct fv_entry {
    char entity[16];
    char id[40];
    int64_t version;
    int deleted;
};

/* What a device of one organisation holds: one entry per record, the latest it read. */
struct feed_view {
    struct fv_entry *v;
    int n, cap;
    int64_t last; /* the highest seq read: the next page starts after it */
    int errors;   /* seq numbers that went backwards or repeated */
};

static void fv_free(struct feed_view *fv)
{
    free(fv->v);
    memset(fv, 0, sizeof *fv);
}

static struct fv_entry *fv_find(const struct feed_view *fv, const char *entity, const char *id)
{
    for (int i = 0; i < fv->n; i++)
        if (strcmp(fv->v[i].entity, entity) == 0 && strcmp(fv->v[i].id, id) == 0)
            return &fv->v[i];
    return NULL;
}

static void fv_apply(struct feed_view *fv, const struct feed_change *c)
{
    if (c->seq <= fv->last) {
        fprintf(stderr, "feed: seq %lld after %lld\n", (long long)c->seq, (long long)fv->last);
        fv->errors++;
    }
    fv->last = c->seq;
    struct fv_entry *x = fv_find(fv, c->entity, c->entity_id);
    if (!x) {
        if (fv->n == fv->cap) {
            fv->cap = fv->cap ? fv->cap * 2 : 64;
            fv->v = realloc(fv->v, (size_t)fv->cap * sizeof *fv->v);
            if (!fv->v)
                abort();
        }
        x = &fv->v[fv->n++];
        snprintf(x->entity, sizeof x->entity, "%s", c->entity);
        snprintf(x->id, sizeof x->id, "%s", c->entity_id);
    }
    x->version = c->version;
    x->deleted = c->deleted;
}

/* Reads one page of at most `limit` (<= 16) changes after fv->last into the view; returns how
 * many were read, or -1 on a store failure. */
static int fv_page(struct db *db, const char *org, int limit, struct feed_view *fv)
{
    struct feed_change ch[16];
    int n = 0;
    struct op_err e = {0};
    if (limit > 16)
        limit = 16;
    if (feed_read(db, org, fv->last, limit, ch, &n, &e) != 0) {
        fprintf(stderr, "feed_read: %s\n", e.msg);
        return -1;
    }
    if (n > limit) {
        fprintf(stderr, "feed_read: %d changes for a limit of %d\n", n, limit);
        fv->errors++;
    }
    for (int i = 0; i < n; i++)
        fv_apply(fv, &ch[i]);
    return n;
}

/* Pages on until the feed has nothing after fv->last; -1 on a store failure. */
static int fv_catch_up(struct db *db, const char *org, int limit, struct feed_view *fv)
{
    int n;
    while ((n = fv_page(db, org, limit, fv)) > 0)
        ;
    return n < 0 ? -1 : 0;
}

/* The scope of `org` central holds, from the tables (feed.h's definition): each record with
 * its current version. Every line of the union is one kind of record. */
#define FV_SCOPE_SQL                                                                               \
    "SELECT 'test-center', id, version FROM test_centers WHERE org_id = ?1"                        \
    " UNION SELECT 'eligibility', e.id, e.version FROM eligibilities e"                            \
    "  JOIN test_centers tc ON tc.id = e.center_id WHERE tc.org_id = ?1"                           \
    " UNION SELECT 'delivery', d.id, d.version FROM deliveries d"                                  \
    "  JOIN eligibilities e ON e.delivery_id = d.id"                                               \
    "  JOIN test_centers tc ON tc.id = e.center_id WHERE tc.org_id = ?1"                           \
    " UNION SELECT 'user', u.id, u.version FROM users u"                                           \
    "  JOIN eligibility_test_takers t ON t.user_id = u.id"                                         \
    "  JOIN eligibilities e ON e.id = t.eligibility_id"                                            \
    "  JOIN test_centers tc ON tc.id = e.center_id"                                                \
    "  WHERE tc.org_id = ?1 AND u.role = 'test-taker'"                                             \
    " UNION SELECT 'user', u.id, u.version FROM users u"                                           \
    "  JOIN test_center_staff s ON s.user_id = u.id"                                               \
    "  JOIN test_centers tc ON tc.id = s.center_id"                                                \
    "  WHERE tc.org_id = ?1 AND ((s.duty = 'proctor' AND u.role = 'proctor')"                      \
    "   OR (s.duty = 'admin' AND u.role = 'test-center-admin'))"                                   \
    " UNION SELECT 'user', id, version FROM users WHERE org_id = ?1 AND role = 'sync-manager'"

/* Compares the view of `org` with the scope central holds: every record in scope is live in
 * the view with its current version; every other record the view has is a tombstone. Returns
 * the number of differences (each printed), plus the view's seq errors; -1 on a failure. */
static int fv_check(struct db *db, const char *org, const struct feed_view *fv)
{
    struct op_err e = {0};
    struct db_stmt *st = db_stmt(db, FV_SCOPE_SQL, &e);
    if (!st) {
        fprintf(stderr, "scope: %s\n", e.msg);
        return -1;
    }
    db_bind_text(st, 1, org);
    int bad = fv->errors, in_scope = 0;
    char *seen = calloc((size_t)fv->n + 1, 1);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *entity = db_column_text(st, 0), *id = db_column_text(st, 1);
        int64_t version = db_column_int64(st, 2);
        in_scope++;
        struct fv_entry *x = fv_find(fv, entity, id);
        if (!x) {
            fprintf(stderr, "%s: %s %s in scope, never read\n", org, entity, id);
            bad++;
            continue;
        }
        seen[x - fv->v] = 1;
        if (x->deleted || x->version != version) {
            fprintf(stderr, "%s: %s %s v%lld in scope, read as v%lld%s\n", org, entity, id,
                    (long long)version, (long long)x->version, x->deleted ? " deleted" : "");
            bad++;
        }
    }
    db_stmt_done(db, st);
    if (rc != DB_DONE) {
        free(seen);
        fprintf(stderr, "scope: step failed\n");
        return -1;
    }
    for (int i = 0; i < fv->n; i++)
        if (!seen[i] && !fv->v[i].deleted) {
            fprintf(stderr, "%s: %s %s read live, not in scope\n", org, fv->v[i].entity,
                    fv->v[i].id);
            bad++;
        }
    free(seen);
    (void)in_scope;
    return bad;
}

/* A fresh read of `org`'s whole feed from 0, `limit` at a time, must list each record once;
 * returns the number of records listed twice (printed), -1 on a failure. Fills *fv. */
static int fv_read_once(struct db *db, const char *org, int limit, struct feed_view *fv)
{
    memset(fv, 0, sizeof *fv);
    int twice = 0, n;
    struct feed_change ch[16];
    struct op_err e = {0};
    do {
        if (feed_read(db, org, fv->last, limit, ch, &n, &e) != 0) {
            fprintf(stderr, "feed_read: %s\n", e.msg);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            if (fv_find(fv, ch[i].entity, ch[i].entity_id)) {
                fprintf(stderr, "%s: %s %s listed twice\n", org, ch[i].entity, ch[i].entity_id);
                twice++;
            }
            fv_apply(fv, &ch[i]);
        }
    } while (n > 0);
    return twice;
}

#endif
