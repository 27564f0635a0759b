/*
 * copy.h - copying a whole store from one database to another (`outpost migrate-store`: a
 * SQLite central moved to PostgreSQL), and the per-table digests that prove nothing was lost.
 *
 * What is copied is every table of the schema, listed once in copy.c with its columns, their
 * types and its primary key; copy_check_schema compares that list with the database's own
 * catalog, so a table or column that a later migration adds and copy.c does not know stops a
 * copy (and the unit test) instead of being left behind.
 *
 * A table's digest is its row count and a SHA-256 computed the same way on every backend,
 * through the statement API: rows in primary-key order (text in byte order on both backends),
 * each value typed and length-prefixed:
 *     NULL     'N'
 *     integer  'I' and the 8 bytes of the 64-bit value, big-endian
 *     text     'T', the length as 8 bytes big-endian, the bytes
 *     blob     'B', the length as 8 bytes big-endian, the bytes
 * so two tables have the same digest exactly when they hold the same rows. An integer column
 * whose value does not read back as that integer (text in an INTEGER column of SQLite) is an
 * error, never hashed as something else.
 *
 * Invariants of copy_store:
 *  - the source is read inside the caller's transaction, so what is copied and hashed is one
 *    snapshot;
 *  - the target is written in one transaction, committed only once its digests equal the
 *    source's: a failure or a crash leaves the target as it was before the copy;
 *  - the target holds nothing but what the migrations seed (it is refused otherwise), at the
 *    same schema version as the source.
 */
#ifndef OUTPOST_STORE_COPY_H
#define OUTPOST_STORE_COPY_H

#include <stdint.h>

#include "base/err.h"
#include "store/db.h"

#define COPY_TABLES_MAX 32
#define COPY_SHA256_HEX 65 /* 64 hex digits and the NUL */

/* One table's digest. `table` is a static string. */
struct copy_digest {
    const char *table;
    int64_t rows;
    char sha256[COPY_SHA256_HEX];
};

/* Every table's digest, in the order the tables are copied. */
struct copy_digests {
    int n;
    struct copy_digest t[COPY_TABLES_MAX];
};

/* What copy_store did: the source's digests and the target's after the copy (equal when it
 * succeeded), the rows copied, the schema version of both. */
struct copy_report {
    struct copy_digests src, dst;
    int64_t rows;
    int schema_version;
};

/* Checks that `db` holds exactly the tables and columns copy.c copies, with the types it
 * expects (and, on SQLite, the primary keys): 0, or OP_ESTATE naming the first difference. */
int copy_check_schema(struct db *db, struct op_err *e);

/* Computes every table's digest of `db` into *out. Call it inside a transaction for a
 * consistent view. */
int copy_digest(struct db *db, struct copy_digests *out, struct op_err *e);

/* The SHA-256 (hex) of all of `d`'s table digests, in order: one value to compare by eye. */
void copy_digests_total(const struct copy_digests *d, char out[COPY_SHA256_HEX]);

/* The first half of a copy, before the target is touched: checks the source's schema (and
 * that it is at this outpost's version) and fills r->src and r->schema_version. `src` must be
 * inside a transaction the caller holds until copy_store is done. */
int copy_source(struct db *src, struct copy_report *r, struct op_err *e);

/* The second half: copies every table of `src` into `dst` (see the invariants above), in the
 * same source transaction as copy_source, which filled *r; fills r->dst and r->rows. `dst`
 * must not be inside a transaction. Fails with OP_ESTATE when the schemas differ or `dst`
 * already holds records, OP_EDB when a row is refused or the digests differ after the copy
 * (naming the tables); the target is then rolled back. */
int copy_store(struct db *src, struct db *dst, struct copy_report *r, struct op_err *e);

#endif
