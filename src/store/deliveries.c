/*
 * deliveries.c - SQL for the deliveries table (see deliveries.h).
 */
#include "store/deliveries.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/feed.h"
#include "store/idlist.h"
#include "store/packages.h"

#define DELIVERY_COLUMNS                                                                           \
    "id, label, package_sha256, max_executions, proctored_default, version, created_at,"           \
    " updated_at, status"

void delivery_clear(struct delivery *d)
{
    free(d->label);
    memset(d, 0, sizeof *d);
}

/* Fills a struct delivery from a row of DELIVERY_COLUMNS (a db_read_fn). */
static void read_row(struct db_stmt *st, void *row)
{
    struct delivery *d = row;
    memset(d, 0, sizeof *d);
    db_column_copy(st, 0, d->id, sizeof d->id);
    d->label = db_column_strdup(st, 1);
    db_column_copy(st, 2, d->package_sha256, sizeof d->package_sha256);
    d->max_executions = db_column_int64(st, 3);
    d->proctored_default = db_column_int(st, 4);
    d->version = db_column_int64(st, 5);
    db_column_copy(st, 6, d->created_at, sizeof d->created_at);
    db_column_copy(st, 7, d->updated_at, sizeof d->updated_at);
    db_column_copy(st, 8, d->status, sizeof d->status);
}

/* Binds ?1 to ?6 of deliveries_insert and deliveries_update: the fields, then `stamp`. */
static void bind_fields(struct db_stmt *st, const struct delivery *d, const char *stamp)
{
    db_bind_text(st, 1, d->id);
    db_bind_text(st, 2, d->label);
    db_bind_text(st, 3, d->package_sha256[0] ? d->package_sha256 : NULL);
    db_bind_int64(st, 4, d->max_executions);
    db_bind_int(st, 5, d->proctored_default);
    db_bind_text(st, 6, stamp);
}

/* The rules every stored delivery keeps. */
static int check_fields(const struct delivery *d, struct op_err *e)
{
    if (!d->label || !d->label[0])
        return err_set(e, OP_EINPUT, "a delivery needs a label");
    if (d->max_executions < 0)
        return err_set(e, OP_EINPUT, "max executions must be 0 (unlimited) or more, not %lld",
                       (long long)d->max_executions);
    if (d->package_sha256[0] && !sha256_hex_is_valid(d->package_sha256))
        return err_set(e, OP_EINPUT, "\"%s\" is not the SHA-256 of a package", d->package_sha256);
    return 0;
}

int deliveries_insert(struct db *db, struct delivery *d, struct op_err *e)
{
    int rc = check_fields(d, e);
    if (rc != 0)
        return rc;
    if (!d->id[0])
        uuid_generate(d->id);
    timestamp_now(d->created_at);
    memcpy(d->updated_at, d->created_at, sizeof d->updated_at);
    d->version = 1;
    snprintf(d->status, sizeof d->status, "%s", DELIVERY_PUBLISHED);
    struct db_stmt *st =
        db_stmt(db,
                "INSERT INTO deliveries (id, label, package_sha256, max_executions,"
                " proctored_default, version, created_at, updated_at)"
                " VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)",
                e);
    if (!st)
        return OP_EDB;
    bind_fields(st, d, d->created_at);
    rc = db_step_done(db, st, "adding delivery", e);
    return rc != 0 ? rc : feed_touch(db, FEED_DELIVERY, d->id, e);
}

int deliveries_update(struct db *db, struct delivery *d, int *changed, struct op_err *e)
{
    if (changed)
        *changed = 0;
    int rc = check_fields(d, e);
    if (rc != 0)
        return rc;
    struct delivery old;
    if ((rc = deliveries_get(db, d->id, &old, e)) != 0)
        return rc;
    assert(old.label); /* NOT NULL in the table */
    int64_t now_at = old.version;
    int any =
        strcmp(old.label, d->label) != 0 || strcmp(old.package_sha256, d->package_sha256) != 0 ||
        old.max_executions != d->max_executions || !old.proctored_default != !d->proctored_default;
    delivery_clear(&old);
    if (now_at != d->version)
        return err_set(e, OP_ECONFLICT,
                       "delivery %s changed meanwhile (it is at version %lld, the change was made "
                       "to version %lld): read it again and redo the change",
                       d->id, (long long)now_at, (long long)d->version);
    if (!any)
        return 0;
    timestamp_now(d->updated_at);
    struct db_stmt *st = db_stmt(db,
                                 "UPDATE deliveries SET label = ?2, package_sha256 = ?3,"
                                 " max_executions = ?4, proctored_default = ?5, updated_at = ?6,"
                                 " version = version + 1 WHERE id = ?1 AND version = ?7"
                                 " RETURNING version",
                                 e);
    if (!st)
        return OP_EDB;
    bind_fields(st, d, d->updated_at);
    db_bind_int64(st, 7, d->version);
    rc = db_step(st);
    if (rc == DB_ROW)
        d->version = db_column_int64(st, 0);
    db_stmt_done(db, st);
    if (rc == DB_DONE) /* only without the caller's transaction */
        return err_set(e, OP_ECONFLICT, "delivery %s changed meanwhile: read it again", d->id);
    if (rc != DB_ROW)
        return db_fail(db, e, "updating delivery");
    if (changed)
        *changed = 1;
    return feed_touch(db, FEED_DELIVERY, d->id, e);
}

int deliveries_bump(struct db *db, const char *id, struct op_err *e)
{
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    int rc =
        db_run(db, "UPDATE deliveries SET version = version + 1, updated_at = ?2 WHERE id = ?1", id,
               now, "updating delivery", e);
    if (rc == 0 && db_changes(db) == 0)
        rc = err_set(e, OP_ENOTFOUND, "no delivery with id \"%s\"", id);
    return rc != 0 ? rc : feed_touch(db, FEED_DELIVERY, id, e);
}

int deliveries_get(struct db *db, const char *id, struct delivery *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = db_get_row(db, "SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE id = ?1", id,
                        read_row, out, "reading delivery", e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no delivery with id \"%s\"", id);
    return rc;
}

int deliveries_find(struct db *db, const char *key, struct delivery *out, struct op_err *e)
{
    struct op_err ignore = {0};
    if (deliveries_get(db, key, out, &ignore) == 0)
        return 0;
    int rc = db_find_labelled(
        db, "SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE label = ?1 ORDER BY id", key,
        "delivery", "deliveries", read_row, out, e);
    if (rc != 0)
        delivery_clear(out);
    return rc;
}

int deliveries_set_status(struct db *db, const char *id, int64_t version, const char *status,
                          int *changed, struct op_err *e)
{
    if (changed)
        *changed = 0;
    if (!status ||
        (strcmp(status, DELIVERY_PUBLISHED) != 0 && strcmp(status, DELIVERY_WITHDRAWN) != 0))
        return err_set(e, OP_EINPUT, "a delivery's status is %s or %s", DELIVERY_PUBLISHED,
                       DELIVERY_WITHDRAWN);
    struct delivery d;
    int rc = deliveries_get(db, id, &d, e);
    if (rc != 0)
        return rc;
    int64_t now_at = d.version;
    int same = strcmp(d.status, status) == 0;
    delivery_clear(&d);
    if (version && version != now_at)
        return err_set(e, OP_ECONFLICT,
                       "delivery %s changed meanwhile (it is at version %lld, the change was made "
                       "to version %lld): read it again and redo the change",
                       id, (long long)now_at, (long long)version);
    if (same)
        return 0;
    /* Its eligibilities and their test takers enter or leave the scopes with it. */
    const char *what = "changing the status of a delivery";
    struct idlist elig = IDLIST_INIT, takers = IDLIST_INIT;
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    struct db_stmt *st = db_stmt(db,
                                 "UPDATE deliveries SET status = ?2, updated_at = ?3,"
                                 " version = version + 1 WHERE id = ?1 AND version = ?4",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, status);
    db_bind_text(st, 3, now);
    db_bind_int64(st, 4, now_at);
    rc = db_step_done(db, st, what, e);
    if (rc == 0 && db_changes(db) == 0)
        rc = err_set(e, OP_ECONFLICT, "delivery %s changed meanwhile: read it again", id);
    if (rc == 0)
        rc = idlist_collect(db, "SELECT id FROM eligibilities WHERE delivery_id = ?1", id, &elig,
                            what, e);
    for (int i = 0; rc == 0 && i < elig.n; i++)
        rc = idlist_collect(db,
                            "SELECT user_id FROM eligibility_test_takers WHERE eligibility_id = ?1",
                            elig.v[i], &takers, what, e);
    if (rc == 0)
        rc = feed_touch(db, FEED_DELIVERY, id, e);
    if (rc == 0)
        rc = idlist_touch(db, FEED_ELIGIBILITY, &elig, e);
    if (rc == 0)
        rc = idlist_touch(db, FEED_USER, &takers, e);
    idlist_free(&elig);
    idlist_free(&takers);
    if (rc == 0 && changed)
        *changed = 1;
    return rc;
}

int deliveries_delete(struct db *db, const char *id, struct op_err *e)
{
    /* Eligibilities of the delivery go first; each leaves the feed as a tombstone. Test takers
     * of those eligibilities may leave an organisation's scope. */
    const char *what = "deleting delivery";
    struct idlist elig = IDLIST_INIT, takers = IDLIST_INIT;
    int rc = idlist_collect(db, "SELECT id FROM eligibilities WHERE delivery_id = ?1", id, &elig,
                            what, e);
    for (int i = 0; rc == 0 && i < elig.n; i++)
        rc = idlist_collect(db,
                            "SELECT user_id FROM eligibility_test_takers WHERE eligibility_id = ?1",
                            elig.v[i], &takers, what, e);
    for (int i = 0; rc == 0 && i < elig.n; i++)
        rc = db_run(db, "DELETE FROM eligibilities WHERE id = ?1", elig.v[i], NULL, what, e);
    if (rc == 0)
        rc = idlist_touch(db, FEED_ELIGIBILITY, &elig, e);
    if (rc == 0)
        rc = db_run(db, "DELETE FROM deliveries WHERE id = ?1", id, NULL, what, e);
    if (rc == 0 && db_changes(db) == 0)
        rc = err_set(e, OP_ENOTFOUND, "no delivery with id \"%s\"", id);
    /* its content key's sealed boxes (store/sealed.h, a cache) go with it */
    if (rc == 0)
        rc = db_run(db, "DELETE FROM sync_sealed WHERE kind = 'content-key' AND record_id = ?1", id,
                    NULL, what, e);
    if (rc == 0)
        rc = feed_touch(db, FEED_DELIVERY, id, e);
    if (rc == 0)
        rc = idlist_touch(db, FEED_USER, &takers, e);
    idlist_free(&elig);
    idlist_free(&takers);
    return rc;
}

static void clear_delivery(void *row)
{
    delivery_clear(row);
}

/* All deliveries after (label ?3, id ?4), by label then id. */
static const struct db_list deliveries_by_label = {
    .sql = "SELECT " DELIVERY_COLUMNS " FROM deliveries"
           " WHERE (label, id) > (?3, ?4) ORDER BY label, id LIMIT ?5",
    .nkey = 2,
    .key_col = {1, 0},
    .row_size = sizeof(struct delivery),
    .read = read_row,
    .clear = clear_delivery,
    .what = "listing deliveries",
};

int deliveries_page(struct db *db, const struct db_key *after, int limit, struct db_page *out,
                    struct op_err *e)
{
    return db_page_read(db, &deliveries_by_label, NULL, NULL, after, limit, out, e);
}

void deliveries_cursor(struct db_cursor *c)
{
    db_cursor_open(c, &deliveries_by_label, NULL, NULL, DELIVERIES_CURSOR_PAGE);
}
