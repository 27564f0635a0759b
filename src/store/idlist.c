/* idlist.c - lists of record ids collected before a write (see idlist.h). */
#include "store/idlist.h"

#include <stdlib.h>
#include <string.h>

#include "base/ids.h"
#include "store/feed.h"

static unsigned hash_of(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot where `id` is, or the empty slot where it would go. */
static int slot_of(const struct idlist *l, const char *id)
{
    unsigned mask = (unsigned)l->nslots - 1;
    unsigned i = hash_of(id) & mask;
    while (l->slots[i] && strcmp(l->v[l->slots[i] - 1], id) != 0)
        i = (i + 1) & mask;
    return (int)i;
}

static void grow_index(struct idlist *l)
{
    int nslots = l->nslots ? l->nslots * 2 : 64;
    free(l->slots);
    l->slots = calloc((size_t)nslots, sizeof *l->slots);
    if (!l->slots)
        abort();
    l->nslots = nslots;
    for (int k = 0; k < l->n; k++)
        l->slots[slot_of(l, l->v[k])] = k + 1;
}

int idlist_has(const struct idlist *l, const char *id)
{
    return l->nslots && l->slots[slot_of(l, id)] != 0;
}

void idlist_add(struct idlist *l, const char *id)
{
    if (idlist_has(l, id))
        return;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v)
            abort();
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(id);
    if (!l->v[l->n])
        abort();
    l->n++;
    if (2 * l->n > l->nslots)
        grow_index(l); /* re-indexes everything, the new id included */
    else
        l->slots[slot_of(l, id)] = l->n;
}

void idlist_free(struct idlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    free(l->slots);
    memset(l, 0, sizeof *l);
}

int idlist_collect(struct db *db, const char *sql, const char *arg, struct idlist *l,
                   const char *what, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, arg);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *id = db_column_text(st, 0);
        if (id)
            idlist_add(l, id);
    }
    db_stmt_done(db, st);
    return rc == DB_DONE ? 0 : db_fail(db, e, what);
}

int idlist_touch(struct db *db, const char *entity, const struct idlist *l, struct op_err *e)
{
    for (int i = 0; i < l->n; i++) {
        int rc = feed_touch(db, entity, l->v[i], e);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int idlist_bump(struct db *db, const char *bump_sql, const char *entity, const struct idlist *l,
                const char *what, struct op_err *e)
{
    for (int i = 0; i < l->n; i++) {
        char now[TIMESTAMP_STR_LEN];
        timestamp_now(now);
        int rc = db_run(db, bump_sql, l->v[i], now, what, e);
        if (rc == 0)
            rc = feed_touch(db, entity, l->v[i], e);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int idlist_bump_users(struct db *db, const struct idlist *l, const char *what, struct op_err *e)
{
    return idlist_bump(db, "UPDATE users SET version = version + 1, updated_at = ?2 WHERE id = ?1",
                       FEED_USER, l, what, e);
}
