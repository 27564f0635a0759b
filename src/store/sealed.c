/*
 * sealed.c - central's cache of sealed boxes (see sealed.h).
 */
#include "store/sealed.h"

#include <stdlib.h>
#include <string.h>

void sealed_rows_clear(struct sealed_rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].sealed);
    free(r->v);
    memset(r, 0, sizeof *r);
}

int sealed_rows_add(struct sealed_rows *r, const char *record_id, const char *recipient,
                    const char *fingerprint, const char *sealed, struct op_err *e)
{
    if (!record_id || !recipient || !fingerprint || !sealed || strlen(record_id) >= SEALED_ID_MAX ||
        strlen(recipient) >= SEALED_ID_MAX || strlen(fingerprint) >= SEALED_FP_HEX)
        return err_set(e, OP_EINPUT, "a sealed box's record, recipient or fingerprint is bad");
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct sealed_row *v = realloc(r->v, sizeof *v * cap);
        if (!v)
            return err_set(e, OP_ENOMEM, "out of memory reading sealed boxes");
        r->v = v;
        r->cap = cap;
    }
    struct sealed_row *row = &r->v[r->n];
    row->sealed = strdup(sealed);
    if (!row->sealed)
        return err_set(e, OP_ENOMEM, "out of memory reading sealed boxes");
    strcpy(row->record_id, record_id);
    strcpy(row->recipient, recipient);
    strcpy(row->fingerprint, fingerprint);
    r->n++;
    return 0;
}

static int cmp_row(const void *a, const void *b)
{
    const struct sealed_row *x = a, *y = b;
    int c = strcmp(x->record_id, y->record_id);
    return c ? c : strcmp(x->recipient, y->recipient);
}

const struct sealed_row *sealed_rows_find(const struct sealed_rows *r, const char *record_id,
                                          const char *recipient)
{
    if (r->n == 0 || strlen(record_id) >= SEALED_ID_MAX || strlen(recipient) >= SEALED_ID_MAX)
        return NULL;
    struct sealed_row key;
    strcpy(key.record_id, record_id);
    strcpy(key.recipient, recipient);
    return bsearch(&key, r->v, r->n, sizeof *r->v, cmp_row);
}

size_t sealed_rows_count(const struct sealed_rows *r, const char *record_id)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) { /* the first row of record_id or after it */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(r->v[mid].record_id, record_id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t n = 0;
    while (lo + n < r->n && strcmp(r->v[lo + n].record_id, record_id) == 0)
        n++;
    return n;
}

/* Appends the rows of `st` (record_id, recipient, fingerprint, sealed), then sorts them all in
 * byte order (a server's ORDER BY follows its collation, not bytes). */
static int read_rows(struct db *db, struct db_stmt *st, struct sealed_rows *out, struct op_err *e)
{
    int r, rc = 0;
    while (rc == 0 && (r = db_step(st)) == DB_ROW)
        rc = sealed_rows_add(out, db_column_text(st, 0), db_column_text(st, 1),
                             db_column_text(st, 2), db_column_text(st, 3), e);
    if (rc == 0 && r == DB_ERROR)
        rc = db_fail(db, e, "reading sealed boxes");
    db_stmt_done(db, st);
    if (rc == 0 && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_row);
    return rc;
}

int sealed_read_page(struct db *db, const char *kind, const char *entity, const char *org,
                     int64_t since, int64_t upto, struct sealed_rows *out, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "SELECT s.record_id, s.recipient, s.fingerprint, s.sealed"
                                 " FROM sync_feed f JOIN sync_sealed s ON s.kind = ?1"
                                 " AND s.record_id = f.entity_id"
                                 " WHERE f.org_id = ?2 AND f.seq > ?3 AND f.seq <= ?4"
                                 " AND f.entity = ?5 AND f.deleted = 0",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, kind);
    db_bind_text(st, 2, org);
    db_bind_int64(st, 3, since);
    db_bind_int64(st, 4, upto);
    db_bind_text(st, 5, entity);
    return read_rows(db, st, out, e);
}

int sealed_read_record(struct db *db, const char *kind, const char *record_id,
                       struct sealed_rows *out, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "SELECT record_id, recipient, fingerprint, sealed"
                                 " FROM sync_sealed WHERE kind = ?1 AND record_id = ?2",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, kind);
    db_bind_text(st, 2, record_id);
    return read_rows(db, st, out, e);
}

int sealed_replace(struct db *db, const char *kind, const struct sealed_rows *rows, int prune,
                   struct op_err *e)
{
    for (size_t i = 0; i < rows->n; i++) {
        const struct sealed_row *r = &rows->v[i];
        if (prune && (i == 0 || strcmp(r->record_id, rows->v[i - 1].record_id) != 0)) {
            struct db_stmt *del =
                db_stmt(db, "DELETE FROM sync_sealed WHERE kind = ?1 AND record_id = ?2", e);
            if (!del)
                return OP_EDB;
            db_bind_text(del, 1, kind);
            db_bind_text(del, 2, r->record_id);
            int rc = db_step_done(db, del, "replacing sealed boxes", e);
            if (rc != 0)
                return rc;
        }
        struct db_stmt *st = db_stmt(db,
                                     "INSERT INTO sync_sealed (kind, record_id, recipient,"
                                     " fingerprint, sealed) VALUES (?1, ?2, ?3, ?4, ?5)"
                                     " ON CONFLICT (kind, record_id, recipient) DO UPDATE SET"
                                     " fingerprint = excluded.fingerprint,"
                                     " sealed = excluded.sealed",
                                     e);
        if (!st)
            return OP_EDB;
        db_bind_text(st, 1, kind);
        db_bind_text(st, 2, r->record_id);
        db_bind_text(st, 3, r->recipient);
        db_bind_text(st, 4, r->fingerprint);
        db_bind_text(st, 5, r->sealed);
        int rc = db_step_done(db, st, "storing a sealed box", e);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- the records' texts ---- */

void sync_texts_clear(struct sync_texts *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].data);
    free(t->v);
    memset(t, 0, sizeof *t);
}

int sync_texts_read_page(struct db *db, const char *org, int64_t since, int64_t upto,
                         struct sync_texts *out, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "SELECT f.seq, t.data FROM sync_feed f"
                                 " JOIN sync_texts t ON t.org_id = f.org_id AND t.entity = f.entity"
                                 " AND t.entity_id = f.entity_id AND t.version = f.version"
                                 " AND t.seq = f.seq"
                                 " WHERE f.org_id = ?1 AND f.seq > ?2 AND f.seq <= ?3"
                                 " AND f.deleted = 0 ORDER BY f.seq",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    db_bind_int64(st, 2, since);
    db_bind_int64(st, 3, upto);
    int r, rc = 0;
    while (rc == 0 && (r = db_step(st)) == DB_ROW) {
        if (out->n == out->cap) {
            size_t cap = out->cap ? 2 * out->cap : 256;
            struct sync_text *v = realloc(out->v, sizeof *v * cap);
            if (!v) {
                rc = err_set(e, OP_ENOMEM, "out of memory reading kept texts");
                break;
            }
            out->v = v;
            out->cap = cap;
        }
        struct sync_text *t = &out->v[out->n];
        t->seq = db_column_int64(st, 0);
        t->data = db_column_strdup(st, 1);
        if (!t->data) {
            rc = err_set(e, OP_ENOMEM, "out of memory reading kept texts");
            break;
        }
        t->len = strlen(t->data);
        out->n++;
    }
    if (rc == 0 && r == DB_ERROR)
        rc = db_fail(db, e, "reading the kept texts of a page");
    db_stmt_done(db, st);
    return rc;
}

int sync_texts_put(struct db *db, const char *org, const char *entity, const char *id,
                   int64_t version, int64_t seq, const char *data, size_t len, struct op_err *e)
{
    struct db_stmt *st =
        db_stmt(db,
                "INSERT INTO sync_texts (org_id, entity, entity_id, version, seq, data)"
                " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM sync_feed f"
                " WHERE f.org_id = ?1 AND f.entity = ?2 AND f.entity_id = ?3"
                " AND f.version = ?4 AND f.seq = ?5 AND f.deleted = 0)"
                " ON CONFLICT (org_id, entity, entity_id)"
                " DO UPDATE SET version = excluded.version, seq = excluded.seq,"
                " data = excluded.data",
                e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    db_bind_text(st, 2, entity);
    db_bind_text(st, 3, id);
    db_bind_int64(st, 4, version);
    db_bind_int64(st, 5, seq);
    db_bind_text_n(st, 6, data, len);
    return db_step_done(db, st, "keeping a record's text", e);
}
