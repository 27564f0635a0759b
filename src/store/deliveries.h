/*
 * deliveries.h - deliveries: a published, compiled test that test takers sit. The compiled
 * package itself lives in the content-addressed package store; a delivery names it by the
 * SHA-256 of its bytes. Deliveries are synchronised to devices (feed entity "delivery").
 *
 * Writes must run inside a transaction the caller opened; they keep the change feed current.
 */
#ifndef OUTPOST_STORE_DELIVERIES_H
#define OUTPOST_STORE_DELIVERIES_H

#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "store/db.h"

#define DELIVERY_SHA256_HEX 65

/* A delivery's status. A published delivery is in the scope of the organisations whose
 * centers have an eligibility for it; a withdrawn one is in no organisation's scope (nor are
 * its eligibilities, nor test takers through them): devices delete it at their next sync,
 * while central keeps it, its eligibilities and its package history, and publishing it again
 * sends them back (feed.h). */
#define DELIVERY_PUBLISHED  "published"
#define DELIVERY_WITHDRAWN  "withdrawn"
#define DELIVERY_STATUS_MAX 16

struct delivery {
    char id[UUID_STR_LEN];
    char *label;
    char package_sha256[DELIVERY_SHA256_HEX]; /* lower-case hex, "" if none yet */
    int64_t max_executions;                   /* 0: unlimited */
    int proctored_default;                    /* eligibilities default to proctored */
    int64_t version;
    char created_at[TIMESTAMP_STR_LEN];
    char updated_at[TIMESTAMP_STR_LEN];
    char status[DELIVERY_STATUS_MAX]; /* DELIVERY_PUBLISHED or DELIVERY_WITHDRAWN */
};

void delivery_clear(struct delivery *d);

/* Inserts; fills d->id (if empty), version and time stamps. */
int deliveries_insert(struct db *db, struct delivery *d, struct op_err *e);
/* Gives delivery d->id the label, package and settings of *d, provided it is still at
 * d->version (the version the caller read): OP_ECONFLICT if it changed meanwhile, OP_EINPUT
 * for an empty label, a negative max_executions or a malformed package hash. Writes only when
 * something differs: then the version is bumped (d->version and d->updated_at filled) and
 * devices get the change; *changed (may be NULL) says which. */
int deliveries_update(struct db *db, struct delivery *d, int *changed, struct op_err *e);
int deliveries_get(struct db *db, const char *id, struct delivery *out, struct op_err *e);
/* Finds a delivery by id or, failing that, by label. A label that several deliveries share
 * is an error that lists their ids. */
int deliveries_find(struct db *db, const char *id_or_label, struct delivery *out, struct op_err *e);
/* Gives delivery `id` a new version with nothing else changed, so that devices get it again
 * (its encrypted package changed: app/content.h). OP_ENOTFOUND if there is no such delivery. */
int deliveries_bump(struct db *db, const char *id, struct op_err *e);
/* Sets the status of delivery `id` (DELIVERY_PUBLISHED or DELIVERY_WITHDRAWN), provided it is
 * still at `version` (0: whatever is current; OP_ECONFLICT otherwise). A status it already has
 * changes nothing (*changed = 0, may be NULL); else the version goes up and the feed moves the
 * delivery, its eligibilities and their test takers into or out of the organisations' scopes.
 * OP_EINPUT for another status, OP_ENOTFOUND for no such delivery. */
int deliveries_set_status(struct db *db, const char *id, int64_t version, const char *status,
                          int *changed, struct op_err *e);
/* Deletes a delivery and its eligibilities (devices get tombstones). */
int deliveries_delete(struct db *db, const char *id, struct op_err *e);

/* The deliveries ordered by label then id, a page at a time (db.h): up to `limit` after the
 * key (label, id). The rows are struct delivery. deliveries_cursor opens a cursor on them. */
int deliveries_page(struct db *db, const struct db_key *after, int limit, struct db_page *out,
                    struct op_err *e);
#define DELIVERIES_CURSOR_PAGE 100
void deliveries_cursor(struct db_cursor *c);

#endif
