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

struct delivery {
    char id[UUID_STR_LEN];
    char *label;
    char package_sha256[DELIVERY_SHA256_HEX]; /* lower-case hex, "" if none yet */
    int64_t max_executions;                   /* 0: unlimited */
    int proctored_default;                    /* eligibilities default to proctored */
    int64_t version;
    char created_at[TIMESTAMP_STR_LEN];
    char updated_at[TIMESTAMP_STR_LEN];
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
/* Deletes a delivery and its eligibilities (devices get tombstones). */
int deliveries_delete(struct db *db, const char *id, struct op_err *e);

/* The deliveries ordered by label then id, a page at a time (db.h): up to `limit` after the
 * key (label, id). The rows are struct delivery. deliveries_cursor opens a cursor on them. */
int deliveries_page(struct db *db, const struct db_key *after, int limit, struct db_page *out,
                    struct op_err *e);
#define DELIVERIES_CURSOR_PAGE 100
void deliveries_cursor(struct db_cursor *c);

#endif
