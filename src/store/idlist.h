/*
 * idlist.h - a small growable list of record ids, for the writes that must collect the
 * records they affect before changing anything (a deleted test center's eligibilities, the
 * test takers a new list drops, ...) and touch each in the change feed afterwards.
 *
 * The list owns its strings; idlist_free releases them. Adding never fails (out of memory
 * aborts, as everywhere in Outpost). Adding and looking up are O(1) on average (a hash
 * index), so a list of every test taker of a national delivery stays cheap.
 */
#ifndef OUTPOST_STORE_IDLIST_H
#define OUTPOST_STORE_IDLIST_H

#include "base/err.h"
#include "store/db.h"

struct idlist {
    char **v; /* the ids, in the order they were added */
    int n;
    int cap;
    int *slots; /* hash index over v: slot holds index + 1, 0 when empty */
    int nslots; /* a power of two, at least twice n */
};

#define IDLIST_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, NULL, 0                                                                        \
    }

/* Appends a copy of `id` unless the list already holds it. */
void idlist_add(struct idlist *l, const char *id);
int idlist_has(const struct idlist *l, const char *id);
void idlist_free(struct idlist *l);

/* Appends the first column of every row `sql` returns with `arg` bound to ?1 (duplicates
 * and NULLs dropped). `what` names the operation in a database error. */
int idlist_collect(struct db *db, const char *sql, const char *arg, struct idlist *l,
                   const char *what, struct op_err *e);

/* feed_touch() for every id of the list, as `entity`. */
int idlist_touch(struct db *db, const char *entity, const struct idlist *l, struct op_err *e);

/* Raises the version of every record of the list with `bump_sql` (?1 the id, ?2 the time
 * now), then touches it in the feed as `entity`: the records whose content a write changed
 * without writing them (an eligibility whose test taker was deleted or got a new key). */
int idlist_bump(struct db *db, const char *bump_sql, const char *entity, const struct idlist *l,
                const char *what, struct op_err *e);

/* idlist_bump of users: the users whose page text (their profile sealed to the proctors of
 * their centers, app/changes.c) a write changed without writing them: a test taker added to
 * or removed from an eligibility, the users of a center deleted or moved. Their next pages
 * are made again (central keeps each record's text by version, store/sealed.h). */
int idlist_bump_users(struct db *db, const struct idlist *l, const char *what, struct op_err *e);

#endif
