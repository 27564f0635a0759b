/*
 * feed.h - the per-organisation change feed that device sync reads.
 *
 * For every organisation, `sync_feed` holds one row per record that is or was in that
 * organisation's scope: the record's version and the change sequence number of the last time
 * it changed *for that organisation*. A record that is deleted or leaves the scope keeps its
 * row as a tombstone (deleted = 1). A device that has applied everything up to sequence S asks
 * for rows with seq > S of its organisation, in seq order (keyset paging). Writing a tombstone
 * also drops the record's kept page text in that organisation (store/sealed.h, `sync_texts`),
 * in the same transaction: the cache holds texts of records in scope only.
 *
 * Scope of an organisation ORG:
 *  - test-center: the centers whose org_id is ORG;
 *  - eligibility: the eligibilities of those centers whose delivery is published;
 *  - delivery:    the published deliveries those eligibilities name;
 *  - user:        test takers in those eligibilities, proctors and administrators assigned to
 *                 those centers, and sync managers whose org_id is ORG.
 *
 * Store files call feed_touch() for each record a write may have changed, inside the write's
 * transaction, after the write. Inside a transaction the record is only noted; db_commit
 * brings every noted record's rows up to date once, just before COMMIT, so the feed is
 * current at every commit and a record touched a thousand times is refreshed once. On
 * PostgreSQL the refresh is one statement per 16 records of one entity, sent with the COMMIT;
 * on SQLite a few small statements per record (feed.c). Change sequence numbers are global,
 * unique, and taken in commit order (the write lock of db_begin: one writer at a time).
 */
#ifndef OUTPOST_STORE_FEED_H
#define OUTPOST_STORE_FEED_H

#include <stdint.h>

#include "base/err.h"
#include "store/db.h"

#define FEED_USER        "user"
#define FEED_TEST_CENTER "test-center"
#define FEED_ELIGIBILITY "eligibility"
#define FEED_DELIVERY    "delivery"

/* Brings the feed rows of one record up to date with its current version and scope. */
int feed_touch(struct db *db, const char *entity, const char *id, struct op_err *e);

struct feed_change {
    int64_t seq;
    char entity[16];
    char entity_id[40];
    int64_t version;
    int deleted;
};

/* Reads up to `limit` changes of `org` with seq > since, in seq order, into `out` (caller's
 * array of `limit` entries). *n receives how many were read. */
int feed_read(struct db *db, const char *org, int64_t since, int limit, struct feed_change *out,
              int *n, struct op_err *e);

/* *in = 1 if record `entity`/`id` is in `org`'s scope now (a feed row that is not a
 * tombstone), else 0. */
int feed_in_scope(struct db *db, const char *org, const char *entity, const char *id, int *in,
                  struct op_err *e);

#endif
