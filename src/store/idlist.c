/* idlist.c - lists of record ids collected before a write (see idlist.h). */
#include "store/idlist.h"

#include <stdlib.h>
#include <string.h>

#include "store/feed.h"

int idlist_has(const struct idlist *l, const char *id)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i], id) == 0)
            return 1;
    return 0;
}

void idlist_add(struct idlist *l, const char *id)
{
    if (idlist_has(l, id))
        return;
    char **v = realloc(l->v, sizeof *v * (size_t)(l->n + 1));
    if (!v)
        abort();
    l->v = v;
    l->v[l->n] = strdup(id);
    if (!l->v[l->n])
        abort();
    l->n++;
}

void idlist_free(struct idlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int idlist_collect(struct db *db, const char *sql, const char *arg, struct idlist *l,
                   const char *what, struct op_err *e)
{
    sqlite3_stmt *st = db_stmt(db, sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, arg);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *id = sqlite3_column_text(st, 0);
        if (id)
            idlist_add(l, (const char *)id);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_fail(db, e, what);
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
