/*
 * copy.c - a whole store copied from one database to another, table by table through the
 * statement API, and the per-table digests that prove it (see copy.h).
 *
 * The tables are listed once below, in an order where a row's references are copied before
 * it (a table that references itself, test_centers.parent_id, gets that column after all its
 * rows). Each table's statements are made from the list's names, which are literals of this
 * file: no value is ever put into SQL text. A table is read in keyset pages of PAGE_ROWS rows
 * in primary-key order, so memory stays bounded whatever the size of the store (PostgreSQL
 * fetches a statement's whole result at once).
 */
#include "store/copy.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "store/migrations.h"

#define PAGE_ROWS 500
#define COLS_MAX  24
#define PK_MAX    3

/* A table: its name, its columns with their types ('i' integer, 't' text, 'b' blob; one
 * letter per column), its primary key (the first npk columns) and the column, if any, that
 * references the table's own key. */
struct table {
    const char *name;
    int npk;
    const char *types;
    const char *self_ref;
    const char *cols[COLS_MAX];
};

/* Every table of the schema (migrations.c), parents before children. */
static const struct table tables[] = {
    {"schema_migrations", 1, "it", NULL, {"version", "applied_at"}},
    {"meta", 1, "tt", NULL, {"key", "value"}},
    {"counters", 1, "ti", NULL, {"name", "value"}},
    {"users",
     1,
     "tttttttttttittttt",
     NULL,
     {"id", "login", "role", "label", "first_name", "last_name", "mail", "interface_lang",
      "default_lang", "org_id", "password_hash", "version", "created_at", "updated_at",
      "vault_public_key", "vault_secret_wrapped", "vault_secret_escrow"}},
    {"test_centers",
     1,
     "ttttitt",
     "parent_id",
     {"id", "label", "org_id", "parent_id", "version", "created_at", "updated_at"}},
    {"test_center_staff", 3, "ttt", NULL, {"center_id", "user_id", "duty"}},
    {"deliveries",
     1,
     "tttiiittt",
     NULL,
     {"id", "label", "package_sha256", "max_executions", "proctored_default", "version",
      "created_at", "updated_at", "status"}},
    {"delivery_content",
     2,
     "tittibtt",
     NULL,
     {"delivery_id", "version", "package_sha256", "enc_sha256", "enc_size", "wrapped_key",
      "master_key_id", "created_at"}},
    {"eligibilities",
     1,
     "tttiitt",
     NULL,
     {"id", "center_id", "delivery_id", "proctored", "version", "created_at", "updated_at"}},
    {"eligibility_test_takers", 2, "tt", NULL, {"eligibility_id", "user_id"}},
    {"sync_feed",
     3,
     "tttiii",
     NULL,
     {"org_id", "entity", "entity_id", "seq", "version", "deleted"}},
    {"sync_sealed", 3, "ttttt", NULL, {"kind", "record_id", "recipient", "fingerprint", "sealed"}},
    {"sync_digests", 1, "tit", NULL, {"org_id", "max_seq", "digest"}},
    {"sync_texts", 3, "tttiit", NULL, {"org_id", "entity", "entity_id", "version", "seq", "data"}},
    {"devices",
     1,
     "tttttitttii",
     NULL,
     {"id", "label", "org_id", "sync_manager_id", "signing_public_key", "revoked", "enrolled_at",
      "last_sync_at", "software_version", "pending_results", "clock_offset_seconds"}},
    {"results",
     1,
     "ttttttttttbttttttttttt",
     NULL,
     {"id",          "execution_id",    "delivery_id", "test_taker_id", "device_id",
      "key_id",      "state",           "started_at",  "ended_at",      "sealed_at",
      "envelope",    "envelope_sha256", "status",      "problem",       "result_json",
      "received_at", "decrypted_at",    "review",      "review_reason", "reviewed_at",
      "center_id",   "outcomes_json"}},
    {"results_keys", 1, "titt", NULL, {"id", "serial", "public_key", "created_at"}},
    {"results_quarantine",
     3,
     "tttttttbt",
     NULL,
     {"result_id", "device_id", "envelope_sha256", "reason", "delivery_id", "test_taker_id",
      "key_id", "envelope", "received_at"}},
    {"sync_runs",
     1,
     "ttttttiit",
     NULL,
     {"id", "device_id", "started_at", "ended_at", "status", "counts", "results_sent", "bytes",
      "error"}},
    {"oauth_clients",
     1,
     "ttttttt",
     NULL,
     {"client_id", "secret_hash", "device_id", "user_id", "org_id", "created_at", "revoked_at"}},
    {"oauth_tokens", 1, "ttii", NULL, {"token_hash", "client_id", "expires_at", "revoked"}},
    {"api_tokens",
     1,
     "tttttit",
     NULL,
     {"id", "user_id", "token_hash", "label", "created_at", "expires_at", "revoked_at"}},
    {"auth_throttle", 1, "tii", NULL, {"key", "failures", "window_start"}},
    {"synced_records", 2, "ttiti", NULL, {"entity", "id", "version", "data", "generation"}},
    {"sync_state",
     1,
     "itiiit",
     NULL,
     {"id", "org_id", "cursor_seq", "full_resync", "generation", "updated_at"}},
    /* a device's outbox (empty on a central) */
    {"outbox_receipts", 1, "ttt", NULL, {"id", "receipts", "received_at"}},
    {"result_outbox",
     1,
     "tibtitttttt",
     NULL,
     {"result_id", "seq", "envelope", "envelope_sha256", "bytes", "status", "receipt_status",
      "reason", "receipt_id", "added_at", "answered_at"}},
    /* a device's executions and their audit log (empty on a central) */
    {"executions",
     1,
     "ttittitiiitiiiiiiiiit",
     NULL,
     {"id",         "delivery_id", "delivery_version", "test_taker_id", "center_id",  "proctored",
      "state",      "version",     "item_position",    "item_count",    "session",    "time_limit",
      "extra_time", "consumed",    "active_since",     "paused_at",     "created_at", "started_at",
      "updated_at", "ended_at",    "result_id"}},
    {"execution_audit",
     2,
     "tiitttttttt",
     NULL,
     {"execution_id", "seq", "logged_at", "actor_id", "actor_role", "action", "from_state",
      "to_state", "detail", "prev_hash", "hash"}},
};
#define NTABLES ((int)(sizeof tables / sizeof tables[0]))
_Static_assert(NTABLES <= COPY_TABLES_MAX, "COPY_TABLES_MAX holds every table");

static int ncols(const struct table *t)
{
    return (int)strlen(t->types);
}

/* ---- statements, made from the table list ---- */

/* "a, b, c": the first n columns of t. */
static void put_cols(struct buf *b, const struct table *t, int n)
{
    for (int i = 0; i < n; i++)
        buf_printf(b, "%s%s", i ? ", " : "", t->cols[i]);
}

/* A page of t in key order: the first one (after == 0) or the one after the key bound to
 * ?1 .. ?npk; the limit is the last parameter. The caller frees. */
static char *sql_page(const struct table *t, int after)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "SELECT ");
    put_cols(&b, t, ncols(t));
    buf_printf(&b, " FROM %s", t->name);
    if (after) {
        buf_puts(&b, " WHERE (");
        put_cols(&b, t, t->npk);
        buf_puts(&b, ") > (");
        for (int i = 0; i < t->npk; i++)
            buf_printf(&b, "%s?%d", i ? ", " : "", i + 1);
        buf_puts(&b, ")");
    }
    buf_puts(&b, " ORDER BY ");
    put_cols(&b, t, t->npk);
    buf_printf(&b, " LIMIT ?%d", after ? t->npk + 1 : 1);
    return buf_detach(&b);
}

static char *sql_insert(const struct table *t)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "INSERT INTO %s (", t->name);
    put_cols(&b, t, ncols(t));
    buf_puts(&b, ") VALUES (");
    for (int i = 0; i < ncols(t); i++)
        buf_printf(&b, "%s?%d", i ? ", " : "", i + 1);
    buf_puts(&b, ")");
    return buf_detach(&b);
}

static int col_index(const struct table *t, const char *name)
{
    for (int i = 0; i < ncols(t); i++)
        if (strcmp(t->cols[i], name) == 0)
            return i;
    return -1;
}

/* ---- walking a table in key order ---- */

/* Called for each row of a table, the statement on it; 0 to go on. */
typedef int (*row_fn)(void *ctx, const struct table *t, struct db_stmt *st, struct op_err *e);

/* The key of the last row read: text, or integers kept as their decimal text. */
struct key {
    char *v[PK_MAX];
};

static void key_clear(struct key *k)
{
    for (int i = 0; i < PK_MAX; i++) {
        free(k->v[i]);
        k->v[i] = NULL;
    }
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

/* Reads integer column `col` of the row into *v: an error when the value is not an integer
 * (SQLite keeps what it is given in an INTEGER column), so that nothing is hashed or copied as
 * something else. */
static int read_int(const struct table *t, struct db_stmt *st, int col, int64_t *v,
                    struct op_err *e)
{
    *v = db_column_int64(st, col);
    char want[24];
    snprintf(want, sizeof want, "%" PRId64, *v);
    const char *text = db_column_text(st, col);
    if (!text || strcmp(text, want) != 0)
        return err_set(e, OP_ESTATE,
                       "table %s, column %s: the value \"%.40s\" is not an integer; fix the "
                       "row before moving the store",
                       t->name, t->cols[col], text ? text : "");
    return 0;
}

/* Calls fn for every row of t in db, in key order. */
static int walk(struct db *db, const struct table *t, row_fn fn, void *ctx, struct op_err *e)
{
    char *first = sql_page(t, 0), *next = sql_page(t, 1);
    struct key k = {{NULL}};
    int rc = 0, started = 0;
    for (;;) {
        struct db_stmt *st = db_stmt(db, started ? next : first, e);
        if (!st) {
            rc = OP_EDB;
            break;
        }
        int p = 1;
        if (started) {
            for (int i = 0; i < t->npk; i++) {
                if (t->types[i] == 'i')
                    db_bind_int64(st, p++, strtoll(k.v[i], NULL, 10));
                else
                    db_bind_text(st, p++, k.v[i]);
            }
        }
        db_bind_int(st, p, PAGE_ROWS);
        int n = 0, s = DB_DONE;
        while (rc == 0 && (s = db_step(st)) == DB_ROW) {
            n++;
            if ((rc = fn(ctx, t, st, e)) != 0)
                break;
            key_clear(&k);
            for (int i = 0; i < t->npk; i++)
                k.v[i] = xstrdup(db_column_text(st, i));
        }
        if (rc == 0 && s != DB_DONE && s != DB_ROW) {
            char what[96];
            snprintf(what, sizeof what, "reading table %s", t->name);
            rc = db_fail(db, e, what);
        }
        db_stmt_done(db, st);
        started = 1;
        if (rc != 0 || n < PAGE_ROWS)
            break;
    }
    key_clear(&k);
    free(first);
    free(next);
    return rc;
}

/* ---- digests ---- */

static void hash_len(crypto_hash_sha256_state *h, char tag, uint64_t n)
{
    unsigned char b[9];
    b[0] = (unsigned char)tag;
    for (int i = 0; i < 8; i++)
        b[1 + i] = (unsigned char)(n >> (56 - 8 * i));
    crypto_hash_sha256_update(h, b, sizeof b);
}

struct hashing {
    crypto_hash_sha256_state h;
    int64_t rows;
};

static int hash_row(void *ctx, const struct table *t, struct db_stmt *st, struct op_err *e)
{
    struct hashing *x = ctx;
    for (int c = 0; c < ncols(t); c++) {
        if (db_column_is_null(st, c)) {
            unsigned char tag = 'N';
            crypto_hash_sha256_update(&x->h, &tag, 1);
            continue;
        }
        if (t->types[c] == 'i') {
            int64_t v;
            if (read_int(t, st, c, &v, e) != 0)
                return e->code;
            hash_len(&x->h, 'I', (uint64_t)v);
        } else if (t->types[c] == 't') {
            const char *s = db_column_text(st, c);
            size_t n = strlen(s);
            hash_len(&x->h, 'T', n);
            crypto_hash_sha256_update(&x->h, (const unsigned char *)s, n);
        } else {
            size_t n = 0;
            const void *p = db_column_blob(st, c, &n);
            hash_len(&x->h, 'B', n);
            if (n)
                crypto_hash_sha256_update(&x->h, p, n);
        }
    }
    x->rows++;
    return 0;
}

static void hex(const unsigned char *d, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, d, n);
}

int copy_digest(struct db *db, struct copy_digests *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < NTABLES; i++) {
        struct hashing x;
        memset(&x, 0, sizeof x);
        crypto_hash_sha256_init(&x.h);
        int rc = walk(db, &tables[i], hash_row, &x, e);
        if (rc != 0)
            return rc;
        unsigned char d[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_final(&x.h, d);
        struct copy_digest *t = &out->t[out->n++];
        t->table = tables[i].name;
        t->rows = x.rows;
        hex(d, sizeof d, t->sha256);
    }
    return 0;
}

void copy_digests_total(const struct copy_digests *d, char out[COPY_SHA256_HEX])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    for (int i = 0; i < d->n; i++) {
        size_t n = strlen(d->t[i].table);
        hash_len(&h, 'T', n);
        crypto_hash_sha256_update(&h, (const unsigned char *)d->t[i].table, n);
        hash_len(&h, 'I', (uint64_t)d->t[i].rows);
        crypto_hash_sha256_update(&h, (const unsigned char *)d->t[i].sha256, 64);
    }
    unsigned char b[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&h, b);
    hex(b, sizeof b, out);
}

/* ---- the schema check ---- */

/* The catalog queries: the tables, then a table's columns (name, declared type, position in
 * the primary key or 0). SQLite and PostgreSQL name their catalogs differently. */
static const char *const sqlite_tables_sql =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'";
static const char *const sqlite_cols_sql = "SELECT name, type, pk FROM pragma_table_info(?1)";
static const char *const pgsql_tables_sql =
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()";
static const char *const pgsql_cols_sql =
    "SELECT column_name, data_type, 0 FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name = ?1";

static const struct table *find_table(const char *name)
{
    for (int i = 0; i < NTABLES; i++)
        if (strcmp(tables[i].name, name) == 0)
            return &tables[i];
    return NULL;
}

/* 1 if `declared` is the type letter's name on this backend. */
static int type_is(char type, const char *declared, int pgsql)
{
    static const char *const names[][2] = {
        {"INTEGER", "bigint"}, {"TEXT", "text"}, {"BLOB", "bytea"}};
    int i = type == 'i' ? 0 : type == 't' ? 1 : 2;
    return declared && strcasecmp(declared, names[i][pgsql]) == 0;
}

static int check_columns(struct db *db, const struct table *t, int pgsql, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, pgsql ? pgsql_cols_sql : sqlite_cols_sql, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, t->name);
    int rc = 0, seen = 0, s = DB_DONE;
    while (rc == 0 && (s = db_step(st)) == DB_ROW) {
        const char *name = db_column_text(st, 0), *type = db_column_text(st, 1);
        int pk = db_column_int(st, 2);
        int c = col_index(t, name ? name : "");
        if (c < 0)
            rc = err_set(e, OP_ESTATE,
                         "table %s has a column %s that this outpost does not copy; use the "
                         "outpost that made the database",
                         t->name, name ? name : "");
        else if (!type_is(t->types[c], type, pgsql))
            rc = err_set(e, OP_ESTATE, "table %s, column %s: type %s, not the one expected",
                         t->name, name, type ? type : "");
        else if (!pgsql && (c < t->npk ? pk != c + 1 : pk != 0))
            rc =
                err_set(e, OP_ESTATE, "table %s: the primary key is not the one expected", t->name);
        seen++;
    }
    if (rc == 0 && s != DB_DONE)
        rc = db_fail(db, e, "reading the schema");
    db_stmt_done(db, st);
    if (rc == 0 && seen != ncols(t))
        rc = err_set(e, OP_ESTATE, "table %s has %d columns, not the %d expected", t->name, seen,
                     ncols(t));
    return rc;
}

int copy_check_schema(struct db *db, struct op_err *e)
{
    int pgsql = strcmp(db_backend_name(db), "pgsql") == 0;
    struct db_stmt *st = db_stmt(db, pgsql ? pgsql_tables_sql : sqlite_tables_sql, e);
    if (!st)
        return OP_EDB;
    int rc = 0, seen = 0, s = DB_DONE;
    while (rc == 0 && (s = db_step(st)) == DB_ROW) {
        const char *name = db_column_text(st, 0);
        if (!find_table(name ? name : ""))
            rc = err_set(e, OP_ESTATE,
                         "the database has a table %s that this outpost does not copy; use the "
                         "outpost that made the database",
                         name ? name : "");
        seen++;
    }
    if (rc == 0 && s != DB_DONE)
        rc = db_fail(db, e, "reading the schema");
    db_stmt_done(db, st);
    if (rc == 0 && seen != NTABLES)
        rc =
            err_set(e, OP_ESTATE, "the database has %d tables, not the %d expected", seen, NTABLES);
    for (int i = 0; rc == 0 && i < NTABLES; i++)
        rc = check_columns(db, &tables[i], pgsql, e);
    return rc;
}

/* ---- the copy ---- */

/* A row whose self-referencing column is set after all the table's rows are in. */
struct later {
    char *id, *ref;
};

struct copying {
    struct db *dst;
    const char *insert;
    int self_ref; /* the column, or -1 */
    struct later *later;
    size_t nlater, cap;
    int64_t rows;
};

static int copy_row(void *ctx, const struct table *t, struct db_stmt *st, struct op_err *e)
{
    static const unsigned char empty[1];
    struct copying *x = ctx;
    struct db_stmt *ins = db_stmt(x->dst, x->insert, e);
    if (!ins)
        return OP_EDB;
    int rc = 0;
    for (int c = 0; rc == 0 && c < ncols(t); c++) {
        if (db_column_is_null(st, c)) {
            db_bind_null(ins, c + 1);
        } else if (c == x->self_ref) {
            if (x->nlater == x->cap) {
                x->cap = x->cap ? 2 * x->cap : 64;
                x->later = realloc(x->later, x->cap * sizeof *x->later);
                if (!x->later)
                    abort();
            }
            x->later[x->nlater++] =
                (struct later){xstrdup(db_column_text(st, 0)), xstrdup(db_column_text(st, c))};
            db_bind_null(ins, c + 1);
        } else if (t->types[c] == 'i') {
            int64_t v;
            rc = read_int(t, st, c, &v, e);
            db_bind_int64(ins, c + 1, v);
        } else if (t->types[c] == 't') {
            db_bind_text(ins, c + 1, db_column_text(st, c));
        } else {
            size_t n = 0;
            const void *p = db_column_blob(st, c, &n);
            db_bind_blob(ins, c + 1, n ? p : empty, n); /* an empty blob, not NULL */
        }
    }
    if (rc != 0) {
        db_stmt_done(x->dst, ins);
        return rc;
    }
    char what[96];
    snprintf(what, sizeof what, "copying a row of table %s", t->name);
    rc = db_step_done(x->dst, ins, what, e);
    if (rc == 0)
        x->rows++;
    return rc;
}

/* Sets the self-referencing column of the rows copy_row put aside. */
static int copy_later(struct copying *x, const struct table *t, struct op_err *e)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "UPDATE %s SET %s = ?2 WHERE %s = ?1", t->name, t->self_ref, t->cols[0]);
    char *sql = buf_detach(&b);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < x->nlater; i++) {
        struct db_stmt *st = db_stmt(x->dst, sql, e);
        if (!st) {
            rc = OP_EDB;
            break;
        }
        db_bind_text(st, 1, x->later[i].id);
        db_bind_text(st, 2, x->later[i].ref);
        rc = db_step_done(x->dst, st, "copying a reference", e);
    }
    free(sql);
    return rc;
}

static void copying_clear(struct copying *x)
{
    for (size_t i = 0; i < x->nlater; i++) {
        free(x->later[i].id);
        free(x->later[i].ref);
    }
    free(x->later);
    x->later = NULL;
    x->nlater = x->cap = 0;
}

/* Empties the target's tables (children first) of what its migrations seeded; refuses a
 * target that holds a user (every instance has its super-user): that is a store in use. */
static int clear_seeds(struct db *dst, struct op_err *e)
{
    struct db_stmt *st = db_stmt(dst, "SELECT count(*) FROM users", e);
    if (!st)
        return OP_EDB;
    int rc = db_step(st) == DB_ROW ? 0 : db_fail(dst, e, "reading the target");
    int64_t users = rc == 0 ? db_column_int64(st, 0) : 0;
    db_stmt_done(dst, st);
    if (rc != 0)
        return rc;
    if (users > 0)
        return err_set(e, OP_ESTATE,
                       "the target database already holds %" PRId64 " user%s: it is an "
                       "instance's store, and a copy goes into an empty database only",
                       users, users == 1 ? "" : "s");
    for (int i = NTABLES - 1; i >= 0; i--) {
        char sql[96];
        snprintf(sql, sizeof sql, "DELETE FROM %s", tables[i].name);
        if (db_exec(dst, sql, e) != 0)
            return OP_EDB;
    }
    return 0;
}

static int copy_tables(struct db *src, struct db *dst, int64_t *rows, struct op_err *e)
{
    int rc = clear_seeds(dst, e);
    for (int i = 0; rc == 0 && i < NTABLES; i++) {
        const struct table *t = &tables[i];
        struct copying x = {.dst = dst, .self_ref = t->self_ref ? col_index(t, t->self_ref) : -1};
        char *insert = sql_insert(t);
        x.insert = insert;
        rc = walk(src, t, copy_row, &x, e);
        if (rc == 0 && x.nlater)
            rc = copy_later(&x, t, e);
        *rows += x.rows;
        copying_clear(&x);
        free(insert);
    }
    return rc;
}

/* Names the tables whose digests differ (at most a line's worth); 0 when none does. */
static int compare(const struct copy_digests *a, const struct copy_digests *b, struct op_err *e)
{
    struct buf diff = BUF_INIT;
    int n = 0;
    for (int i = 0; i < a->n && i < b->n; i++) {
        if (a->t[i].rows == b->t[i].rows && strcmp(a->t[i].sha256, b->t[i].sha256) == 0)
            continue;
        buf_printf(&diff, "%s%s (%" PRId64 " rows, now %" PRId64 ")", n ? ", " : "", a->t[i].table,
                   a->t[i].rows, b->t[i].rows);
        n++;
    }
    int rc = 0;
    if (n || a->n != b->n)
        rc = err_set(e, OP_EDB,
                     "the copy does not match the source: %s; nothing was kept in the target",
                     n ? diff.data : "the tables differ");
    buf_free(&diff);
    return rc;
}

int copy_source(struct db *src, struct copy_report *r, struct op_err *e)
{
    memset(r, 0, sizeof *r);
    if (!db_in_transaction(src))
        return err_set(e, OP_EDB, "copy: the source is read outside a transaction");
    if (copy_check_schema(src, e) != 0)
        return err_prefix(e, "source");
    int v = db_schema_version(src);
    if (v != migrations_count())
        return err_set(e, OP_ESTATE,
                       "the source is at schema version %d, not this outpost's (%d); open it "
                       "with this outpost first",
                       v, migrations_count());
    r->schema_version = v;
    if (copy_digest(src, &r->src, e) != 0)
        return err_prefix(e, "source");
    return 0;
}

int copy_store(struct db *src, struct db *dst, struct copy_report *r, struct op_err *e)
{
    if (!db_in_transaction(src) || r->src.n != NTABLES)
        return err_set(e, OP_EDB, "copy: copy_source first, in the transaction held since");
    if (copy_check_schema(dst, e) != 0)
        return err_prefix(e, "target");
    int v = db_schema_version(dst);
    if (v != r->schema_version)
        return err_set(e, OP_ESTATE,
                       "the source is at schema version %d and the target at %d; both must be "
                       "at this outpost's, %d",
                       r->schema_version, v, migrations_count());
    int rc = db_begin(dst, e);
    if (rc != 0)
        return err_prefix(e, "target");
    r->rows = 0;
    rc = copy_tables(src, dst, &r->rows, e);
    if (rc == 0 && (rc = copy_digest(dst, &r->dst, e)) != 0)
        err_prefix(e, "target");
    if (rc == 0)
        rc = compare(&r->src, &r->dst, e);
    return db_commit_if(dst, rc, e);
}
