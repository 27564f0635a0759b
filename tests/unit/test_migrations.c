/* test_migrations.c - every past schema version upgrades to the latest, on SQLite and, run
 * again as pg/unit/test_migrations, on PostgreSQL, through the real open path (db_open,
 * db_open_pgsql):
 *  - for every version v from 0 (an empty database) to the latest, a database built at
 *    exactly v (db_set_migration_limit) and filled with representative rows valid at v (the
 *    `fills` table) opens at the latest version with every row and value it had, the data
 *    migrations done (migration 3 records the key ids of the results stored before it), the
 *    rows of later versions insertable, and a schema identical to a fresh database's;
 *  - the test knows the whole schema: a migration that adds a table, or a column that no row
 *    of `fills` gives a value, fails here until `fills` has rows for it;
 *  - a database newer than this outpost is refused, saying so, and left as it was;
 *  - a migration that fails (here: its bookkeeping row, the last statement of its
 *    transaction) leaves the database exactly as it was at the version before.
 * It runs to migrations_count(), so a new migration is covered as soon as it is written; what
 * its author adds here is described in docs/architecture.md ("Migrations"). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fs.h"
#include "instance/config.h"
#include "store/migrations.h"
#include "store/results_keys.h"

/* ---- the rows ----
 *
 * Representative rows for every table, each at the version whose schema it needs: a
 * database at version v gets every row with since <= v. Give every column a value in at
 * least one row (NULL in another where it may be NULL), 64-bit integers where the schema
 * keeps sequence numbers and versions, and text and bytes that a careless conversion would
 * change. A new migration adds rows here with since = its version. */

struct fill {
    int since;         /* the version whose schema the row needs */
    const char *table; /* the table it fills */
    const char *sql;   /* literal values; ?1, when present, is ENVELOPE */
};

static const unsigned char ENVELOPE[] = {0x00, 0x01, 0x27, 0x5c, 0x7f, 0x80, 0xfe, 0xff};

#define T0 "'2026-01-01T00:00:00Z'"
#define T1 "'2026-02-03T04:05:06Z'"

static const struct fill fills[] = {
    /* 1: foundation */
    {1, "meta", "INSERT INTO meta (key, value) VALUES ('lost-master-key:0a1b2c3d', " T1 ")"},
    {1, "counters", "UPDATE counters SET value = 5000000007 WHERE name = 'change_seq'"},
    {1, "users",
     "INSERT INTO users (id, login, role, label, first_name, last_name, mail, interface_lang,"
     " default_lang, org_id, password_hash, version, created_at, updated_at) VALUES"
     " ('u-admin', 'admin', 'super-user', 'Admin', 'Ada', 'Lovelace', 'ada@example.org',"
     " 'en-US', 'fr-FR', NULL, '$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA', 4294967297, " T0
     ", " T1 ")"},
    {1, "users",
     "INSERT INTO users (id, login, role, label, org_id, password_hash, created_at, updated_at)"
     " VALUES ('u-taker', 'taker-1', 'test-taker', '\xc3\x89l\xc3\xa8ve l''un', 'org-a', 'h1', " T0
     ", " T0 ")"},
    {1, "users",
     "INSERT INTO users (id, login, role, password_hash, created_at, updated_at) VALUES"
     " ('u-proctor', 'proctor-1', 'proctor', 'h2', " T0 ", " T0 ")"},
    {1, "users",
     "INSERT INTO users (id, login, role, password_hash, created_at, updated_at) VALUES"
     " ('u-tca', 'tca-1', 'test-center-admin', 'h3', " T0 ", " T0 ")"},
    {1, "users",
     "INSERT INTO users (id, login, role, org_id, password_hash, created_at, updated_at) VALUES"
     " ('u-sync', 'sync-1', 'sync-manager', 'org-a', 'h4', " T0 ", " T0 ")"},
    {1, "test_centers",
     "INSERT INTO test_centers (id, label, org_id, parent_id, version, created_at, updated_at)"
     " VALUES ('c-root', 'Centre A', 'org-a', NULL, 2, " T0 ", " T1 ")"},
    {1, "test_centers",
     "INSERT INTO test_centers (id, label, org_id, parent_id, created_at, updated_at)"
     " VALUES ('c-child', 'Centre A', 'org-a', 'c-root', " T0 ", " T0 ")"},
    {1, "test_centers",
     "INSERT INTO test_centers (id, label, org_id, created_at, updated_at)"
     " VALUES ('c-other', 'Centre B', 'org-b', " T0 ", " T0 ")"},
    {1, "test_center_staff",
     "INSERT INTO test_center_staff (center_id, user_id, duty) VALUES"
     " ('c-root', 'u-tca', 'admin'), ('c-child', 'u-tca', 'proctor'),"
     " ('c-child', 'u-proctor', 'proctor')"},
    {1, "deliveries",
     "INSERT INTO deliveries (id, label, package_sha256, max_executions, proctored_default,"
     " version, created_at, updated_at) VALUES ('d-1', 'Maths 2026',"
     " '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', 2, 0, 3, " T0 ", " T1
     ")"},
    {1, "deliveries",
     "INSERT INTO deliveries (id, label, created_at, updated_at) VALUES ('d-2', 'Draft', " T0
     ", " T0 ")"},
    {1, "eligibilities",
     "INSERT INTO eligibilities (id, center_id, delivery_id, proctored, version, created_at,"
     " updated_at) VALUES ('e-1', 'c-root', 'd-1', 0, 2, " T0 ", " T1 ")"},
    {1, "eligibilities",
     "INSERT INTO eligibilities (id, center_id, delivery_id, created_at, updated_at)"
     " VALUES ('e-2', 'c-child', 'd-1', " T0 ", " T0 ")"},
    {1, "eligibility_test_takers",
     "INSERT INTO eligibility_test_takers (eligibility_id, user_id) VALUES"
     " ('e-1', 'u-taker'), ('e-2', 'u-taker')"},
    {1, "sync_feed",
     "INSERT INTO sync_feed (org_id, entity, entity_id, seq, version, deleted) VALUES"
     " ('org-a', 'user', 'u-taker', 1, 1, 0), ('org-a', 'test-center', 'c-root', 2, 2, 0),"
     " ('org-a', 'eligibility', 'e-1', 5000000003, 4294967298, 0),"
     " ('org-b', 'test-center', 'c-gone', 4, 7, 1)"},

    /* 2: keys and encryption */
    {2, "users",
     "INSERT INTO users (id, login, role, org_id, password_hash, created_at, updated_at,"
     " vault_public_key, vault_secret_wrapped, vault_secret_escrow) VALUES ('u-vault',"
     " 'taker-2', 'test-taker', 'org-a', 'h5', " T0 ", " T0 ", 'pk-base64', 'wrapped-base64',"
     " 'escrow-base64')"},
    {2, "devices",
     "INSERT INTO devices (id, label, org_id, sync_manager_id, signing_public_key, revoked,"
     " enrolled_at, last_sync_at) VALUES ('dev-1', 'Laptop 1', 'org-a', 'u-sync', 'sig-1', 0, " T0
     ", NULL), ('dev-2', 'Laptop 2', 'org-a', NULL, 'sig-2', 1, " T0 ", " T1 ")"},
    {2, "results",
     "INSERT INTO results (id, execution_id, delivery_id, test_taker_id, device_id, key_id,"
     " state, started_at, ended_at, sealed_at, envelope, envelope_sha256, received_at) VALUES"
     " ('r-1', 'x-1', 'd-1', 'u-taker', 'dev-1', 'k-1', 'finished', " T0 ", " T0 ", " T0
     ", ?1, 'sha-r1', " T1 ")"},
    {2, "results",
     "INSERT INTO results (id, execution_id, delivery_id, test_taker_id, device_id, key_id,"
     " state, started_at, ended_at, sealed_at, envelope, envelope_sha256, status, result_json,"
     " received_at, decrypted_at) VALUES ('r-2', 'x-2', 'd-1', 'u-vault', 'dev-1', 'k-1',"
     " 'terminated', " T0 ", " T0 ", " T0 ", ?1, 'sha-r2', 'decrypted', '{\"score\": 1}', " T1
     ", " T1 ")"},
    {2, "results",
     "INSERT INTO results (id, execution_id, delivery_id, test_taker_id, device_id, key_id,"
     " state, started_at, ended_at, sealed_at, envelope, envelope_sha256, status, problem,"
     " received_at) VALUES ('r-3', 'x-3', 'd-1', 'u-taker', 'dev-2', 'k-2', 'finished', " T0 ", " T0
     ", " T0 ", ?1, 'sha-r3', 'damaged', 'the envelope does not open', " T1 ")"},

    /* 3: results keys (k-3 and k-4: migration 3 itself records k-1 and k-2 from results) */
    {3, "results_keys",
     "INSERT INTO results_keys (id, serial, public_key, created_at) VALUES"
     " ('k-3', 3, 'pub-3', " T1 "), ('k-4', NULL, NULL, NULL)"},

    /* 4: quarantined envelopes */
    {4, "results_quarantine",
     "INSERT INTO results_quarantine (result_id, device_id, envelope_sha256, reason,"
     " delivery_id, test_taker_id, key_id, envelope, received_at) VALUES ('r-1', 'dev-2',"
     " 'sha-q1', 'other device', 'd-1', 'u-taker', 'k-1', ?1, " T1 ")"},
    {4, "results_quarantine",
     "INSERT INTO results_quarantine (result_id, device_id, envelope_sha256, reason,"
     " delivery_id, test_taker_id, key_id, envelope, received_at) VALUES ('r-1', 'dev-1',"
     " 'sha-q2', 'other content', 'd-1', 'u-taker', 'k-1', ?1, " T1 ")"},

    /* 6: sync runs; what a device reports */
    {6, "devices",
     "INSERT INTO devices (id, label, org_id, sync_manager_id, signing_public_key, revoked,"
     " enrolled_at, last_sync_at, software_version, pending_results, clock_offset_seconds)"
     " VALUES ('dev-3', 'Laptop 3', 'org-a', NULL, 'sig-3', 0, " T0 ", " T1 ", '0.1.0', 3, -4)"},
    {6, "sync_runs",
     "INSERT INTO sync_runs (id, device_id, started_at, ended_at, status, counts, results_sent,"
     " bytes, error) VALUES ('run-1', 'dev-3', " T0 ", " T1 ", 'failed',"
     " '{\"users\": {\"created\": 2}}', 5000000001, 7, 'central unreachable'),"
     " ('run-2', 'dev-3', " T1 ", NULL, 'running', '{}', 0, 0, NULL)"},
    {7, "oauth_clients",
     "INSERT INTO oauth_clients (client_id, secret_hash, device_id, user_id, org_id, created_at,"
     " revoked_at) VALUES ('cl-1', 'hash-1', 'dev-1', 'u-sync', 'org-a', " T0 ", NULL),"
     " ('cl-2', 'hash-2', 'dev-2', 'u-sync', 'org-a', " T0 ", " T1 ")"},
    {7, "oauth_tokens",
     "INSERT INTO oauth_tokens (token_hash, client_id, expires_at, revoked) VALUES"
     " ('th-1', 'cl-1', 1700000900, 0), ('th-2', 'cl-2', 1700000900, 1)"},
    {7, "auth_throttle",
     "INSERT INTO auth_throttle (key, failures, window_start) VALUES ('login:sync-1', 3,"
     " 1700000000)"},
    /* 8: a device's synced records and pull state (migration 8 inserts the state row) */
    {8, "synced_records",
     "INSERT INTO synced_records (entity, id, version, data, generation) VALUES"
     " ('user', 'u-taker', 2, '{\"login\": \"t\"}', 3)"},
    {8, "sync_state",
     "UPDATE sync_state SET org_id = 'org-1', cursor_seq = 5000000000, full_resync = 1,"
     " generation = 3, updated_at = " T1 " WHERE id = 1"},
    /* 9: pushing results: the device's outbox and receipts, central's review of results */
    {9, "outbox_receipts",
     "INSERT INTO outbox_receipts (id, receipts, received_at) VALUES ('rc-1',"
     " '{\"body\": \"e30=\"}', " T1 ")"},
    {9, "result_outbox",
     "INSERT INTO result_outbox (result_id, seq, envelope, envelope_sha256, bytes, status,"
     " receipt_status, reason, receipt_id, added_at, answered_at) VALUES ('r-o1', 5000000011,"
     " ?1, 'sha-o1', 8, 'refused', 'refused', 'other content under this id', 'rc-1', " T0 ", " T1
     ")"},
    {9, "result_outbox",
     "INSERT INTO result_outbox (result_id, seq, envelope, envelope_sha256, bytes, added_at)"
     " VALUES ('r-o2', 2, ?1, 'sha-o2', 8, " T0 ")"},
    {9, "results",
     "INSERT INTO results (id, execution_id, delivery_id, test_taker_id, device_id, key_id,"
     " state, started_at, ended_at, sealed_at, envelope, envelope_sha256, status, received_at,"
     " review, review_reason, reviewed_at) VALUES ('r-6', 'x-6', 'd-1', 'u-taker', 'dev-1',"
     " 'k-1', 'finished', " T0 ", " T0 ", " T0 ", ?1, 'sha-r6', 'pending', " T1 ", 'rejected',"
     " 'eligibility withdrawn; l''examen annul\xc3\xa9', " T1 ")"},
    /* 10: encrypted packages (d-1 at two versions: the older row stays) */
    {10, "delivery_content",
     "INSERT INTO delivery_content (delivery_id, version, package_sha256, enc_sha256, enc_size,"
     " wrapped_key, master_key_id, created_at) VALUES ('d-1', 1,"
     " '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',"
     " '60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752', 5000000007, ?1,"
     " '0a1b2c3d4e5f6071', " T0 ")"},
    {10, "delivery_content",
     "INSERT INTO delivery_content (delivery_id, version, package_sha256, enc_sha256, enc_size,"
     " wrapped_key, master_key_id, created_at) VALUES ('d-1', 3,"
     " '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',"
     " 'fd61a03af4f77d870fc21e05e7e80678095c92d808cfb3b5c279ee04c74aca13', 1, ?1,"
     " '0a1b2c3d4e5f6071', " T1 ")"},
    /* 12: executions on a device and their audit log */
    {12, "executions",
     "INSERT INTO executions (id, delivery_id, delivery_version, test_taker_id, center_id,"
     " proctored, state, version, item_position, item_count, session, time_limit, extra_time,"
     " consumed, active_since, paused_at, created_at, started_at, updated_at, ended_at,"
     " result_id) VALUES ('x-12', 'd-1', 5000000003, 'u-taker', 'c-root', 1, 'finished',"
     " 4294967299, 3, 7,"
     " '{\"item\": \"\xc3\xa9t\xc3\xa9 l''un\"}', 3600, 300, 1200, 1700000100, 1700000200,"
     " 1700000000, 1700000050, 1700003600, 1700003601, 'r-12')"},
    {12, "executions",
     "INSERT INTO executions (id, delivery_id, delivery_version, test_taker_id, center_id,"
     " proctored, state, version, created_at, updated_at) VALUES ('x-13', 'd-1', 0, 'u-taker',"
     " 'c-child', 0, 'awaiting_authorization', 1, 1700000000, 1700000000)"},
    {12, "execution_audit",
     "INSERT INTO execution_audit (execution_id, seq, logged_at, actor_id, actor_role, action,"
     " from_state, to_state, detail, prev_hash, hash) VALUES ('x-12', 1, 1700000000, 'u-taker',"
     " 'test-taker', 'start', '', 'active', '{\"reason\": \"l''\xc3\xa9l\xc3\xa8ve\"}',"
     " '0000000000000000000000000000000000000000000000000000000000000000',"
     " '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08')"},
    /* 13: central's caches of sealed boxes and scope digests */
    {13, "sync_sealed",
     "INSERT INTO sync_sealed (kind, record_id, recipient, fingerprint, sealed) VALUES"
     " ('profile', 'u-taker', 'u-taker',"
     " '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae', 'c2VhbGVk-_')"},
    {13, "sync_sealed",
     "INSERT INTO sync_sealed (kind, record_id, recipient, fingerprint, sealed) VALUES"
     " ('content-key', 'd-1', 'u-taker',"
     " 'fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9', 'a2V5')"},
    {13, "sync_digests",
     "INSERT INTO sync_digests (org_id, max_seq, digest) VALUES ('org-a', 5000000011,"
     " 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')"},
    /* 15: the backoffice API's bearer tokens */
    {15, "api_tokens",
     "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at, expires_at,"
     " revoked_at) VALUES ('t-1', 'u-admin',"
     " '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', 'nightly export', " T0
     ", 4102444800, " T1 ")"},
    /* 16: the results tab's center and test-level outcomes of a result */
    {16, "results",
     "INSERT INTO results (id, execution_id, delivery_id, test_taker_id, device_id, key_id,"
     " state, started_at, ended_at, sealed_at, envelope, envelope_sha256, status, received_at,"
     " result_json, decrypted_at, center_id, outcomes_json) VALUES ('r-14', 'x-14', 'd-1',"
     " 'u-taker', 'dev-1', 'k-1', 'terminated', " T0 ", " T0 ", " T0 ", ?1, 'sha-r14',"
     " 'decrypted', " T1 ", '{}', " T1 ", 'c-child', '{\"SCORE\": 2.5, \"NOTE\": \"\xc3\xa9\"}')"},
    /* 18: central's kept texts of the records its pages carry */
    {18, "sync_texts",
     "INSERT INTO sync_texts (org_id, entity, entity_id, version, seq, data) VALUES"
     " ('org-a', 'user', 'u-taker', 3, 5000000011, '{\"login\":\"taker\"}')"},
};

#define NFILLS ((int)(sizeof fills / sizeof fills[0]))

/* The runner's own table: filled by the migrations, not by `fills`. */
#define BOOKKEEPING "schema_migrations"

/* Runs the rows of `fills` with from < since <= to. */
static void fill_rows(struct db *db, int from, int to)
{
    struct op_err e = {0};
    assert_int_equal(db_begin(db, &e), 0);
    for (int i = 0; i < NFILLS; i++) {
        if (fills[i].since <= from || fills[i].since > to)
            continue;
        struct db_stmt *st = db_stmt(db, fills[i].sql, &e);
        if (!st)
            fail_msg("version %d, row for %s: %s", to, fills[i].table, e.msg);
        if (strstr(fills[i].sql, "?1"))
            db_bind_blob(st, 1, ENVELOPE, sizeof ENVELOPE);
        if (db_step_done(db, st, fills[i].table, &e) != 0)
            fail_msg("version %d, row for %s: %s", to, fills[i].table, e.msg);
    }
    assert_int_equal(db_commit(db, &e), 0);
}

/* ---- opening at a version ---- */

/* Opens the database of the test folder `dir` (created empty the first time) as an outpost
 * whose latest migration is `limit` (-1: this one) would: 0, or the open's error. */
static int try_open(const char *dir, int limit, struct db **db, struct op_err *e)
{
    db_set_migration_limit(limit);
    int rc;
    if (testutil_on_pgsql()) {
        char *ci = testutil_pg_conninfo(dir, NULL);
        rc = db_open_pgsql(ci, 0, db, e);
        pg_conninfo_free(ci);
    } else {
        char *path = fs_join(dir, "test.db");
        rc = db_open(path, 1, db, e);
        free(path);
    }
    db_set_migration_limit(-1);
    return rc;
}

static struct db *open_at(const char *dir, int limit)
{
    struct db *db = NULL;
    struct op_err e = {0};
    if (try_open(dir, limit, &db, &e) != 0)
        fail_msg("opening at version %d: %s", limit, e.msg);
    return db;
}

/* ---- reading the schema and the rows, through the statement API ---- */

/* Appends the rows of `sql` (with ?1 = param unless NULL) to *out, one line each, its
 * `ncols` columns as text joined by '|' (SQL NULL as "NULL"); returns the number of rows. */
static int query_lines(struct db *db, const char *sql, const char *param, int ncols,
                       struct buf *out)
{
    struct op_err e = {0};
    struct db_stmt *st = db_stmt(db, sql, &e);
    if (!st)
        fail_msg("%s: %s", sql, e.msg);
    if (param)
        db_bind_text(st, 1, param);
    int n = 0, rc;
    while ((rc = db_step(st)) == DB_ROW) {
        for (int i = 0; i < ncols; i++) {
            const char *s = db_column_text(st, i);
            buf_printf(out, "%s%s", i ? "|" : "", s ? s : "NULL");
        }
        buf_puts(out, "\n");
        n++;
    }
    if (rc != DB_DONE) {
        db_fail(db, &e, "query");
        fail_msg("%s: %s", sql, e.msg);
    }
    db_stmt_done(db, st);
    return n;
}

struct query {
    const char *sql;
    int ncols;
};

/* The schema as the database describes it: every table's columns (name, type, nullability,
 * default, collation), indexes, constraints, and on SQLite the stored DDL. */
static const struct query sqlite_schema[] = {
    {"SELECT type, name, tbl_name, sql FROM sqlite_master"
     " WHERE substr(name, 1, 7) <> 'sqlite_' ORDER BY type, name",
     4},
    {"SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk"
     " FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'"
     " ORDER BY m.name, p.cid",
     7},
    {"SELECT m.name, l.name, l.\"unique\", l.origin, l.partial"
     " FROM sqlite_master m JOIN pragma_index_list(m.name) l WHERE m.type = 'table'"
     " ORDER BY m.name, l.name",
     5},
    {"SELECT m.name, f.id, f.seq, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete"
     " FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'"
     " ORDER BY m.name, f.id, f.seq",
     8},
};

static const struct query pgsql_schema[] = {
    {"SELECT table_name, ordinal_position, column_name, data_type, collation_name,"
     " is_nullable, column_default FROM information_schema.columns"
     " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
     7},
    {"SELECT tablename, indexname, indexdef FROM pg_indexes"
     " WHERE schemaname = current_schema() ORDER BY tablename, indexname",
     3},
    {"SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)"
     " FROM pg_constraint WHERE connamespace = current_schema()::regnamespace"
     " ORDER BY 1, 2",
     4},
};

/* The schema of `db` as text (the caller frees it). */
static char *schema_dump(struct db *db)
{
    int pg = testutil_on_pgsql();
    const struct query *q = pg ? pgsql_schema : sqlite_schema;
    int n = pg ? (int)(sizeof pgsql_schema / sizeof pgsql_schema[0])
               : (int)(sizeof sqlite_schema / sizeof sqlite_schema[0]);
    struct buf out = BUF_INIT;
    for (int i = 0; i < n; i++) {
        buf_printf(&out, "-- %d\n", i);
        query_lines(db, q[i].sql, NULL, q[i].ncols, &out);
    }
    return buf_detach(&out);
}

#define MAX_TABLES 64
#define MAX_COLS   64

/* The tables of a database and their columns, as found: the shape a version has. */
struct table_shape {
    char name[64];
    int ncols;
    char col[MAX_COLS][64];
    int is_blob[MAX_COLS];
};
struct shape {
    int n;
    struct table_shape t[MAX_TABLES];
};

/* Reads the one-column lines of `sql` into names[], returns how many. */
static int read_names(struct db *db, const char *sql, const char *param, int ncols,
                      char names[][64], char types[][64], int max)
{
    struct buf b = BUF_INIT;
    int n = query_lines(db, sql, param, ncols, &b);
    assert_true(n <= max);
    char *line = b.data;
    for (int i = 0; i < n; i++) {
        char *end = strchr(line, '\n');
        *end = '\0';
        char *bar = strchr(line, '|');
        if (bar) {
            *bar = '\0';
            snprintf(types[i], 64, "%s", bar + 1);
        }
        snprintf(names[i], 64, "%s", line);
        line = end + 1;
    }
    buf_free(&b);
    return n;
}

static void read_shape(struct db *db, struct shape *s)
{
    int pg = testutil_on_pgsql();
    memset(s, 0, sizeof *s);
    static char names[MAX_TABLES][64];
    s->n = read_names(db,
                      pg ? "SELECT table_name FROM information_schema.tables WHERE table_schema ="
                           " current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
                         : "SELECT name FROM sqlite_master WHERE type = 'table' AND"
                           " substr(name, 1, 7) <> 'sqlite_' ORDER BY name",
                      NULL, 1, names, NULL, MAX_TABLES);
    for (int i = 0; i < s->n; i++) {
        struct table_shape *t = &s->t[i];
        memcpy(t->name, names[i], sizeof t->name);
        static char types[MAX_COLS][64];
        t->ncols = read_names(db,
                              pg ? "SELECT column_name, data_type FROM information_schema.columns"
                                   " WHERE table_schema = current_schema() AND"
                                   " table_name::text = ?1 ORDER BY ordinal_position"
                                 : "SELECT name, type FROM pragma_table_info(?1) ORDER BY cid",
                              t->name, 2, t->col, types, MAX_COLS);
        for (int c = 0; c < t->ncols; c++)
            t->is_blob[c] = strcmp(types[c], "BLOB") == 0 || strcmp(types[c], "bytea") == 0;
    }
}

static const struct table_shape *shape_table(const struct shape *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->t[i].name, name) == 0)
            return &s->t[i];
    return NULL;
}

/* Every row of every table of `s` but the bookkeeping, the columns of `s` only (a later
 * version may have more), one line per row, "table|value|value...", blobs in hex. */
static char *rows_dump(struct db *db, const struct shape *s)
{
    struct buf out = BUF_INIT;
    for (int i = 0; i < s->n; i++) {
        const struct table_shape *t = &s->t[i];
        if (strcmp(t->name, BOOKKEEPING) == 0)
            continue;
        /* SQL from the schema's own names: a test reading whatever the schema holds */
        struct buf sql = BUF_INIT;
        buf_puts(&sql, "SELECT ");
        for (int c = 0; c < t->ncols; c++)
            buf_printf(&sql, "%s\"%s\"", c ? ", " : "", t->col[c]);
        buf_printf(&sql, " FROM \"%s\" ORDER BY ", t->name);
        for (int c = 0; c < t->ncols; c++)
            buf_printf(&sql, "%s%d", c ? ", " : "", c + 1);
        struct op_err e = {0};
        struct db_stmt *st = db_stmt(db, sql.data, &e);
        if (!st)
            fail_msg("%s: %s", sql.data, e.msg);
        int rc;
        while ((rc = db_step(st)) == DB_ROW) {
            buf_puts(&out, t->name);
            for (int c = 0; c < t->ncols; c++) {
                if (db_column_is_null(st, c)) {
                    buf_puts(&out, "|NULL");
                } else if (t->is_blob[c]) {
                    size_t len = 0;
                    const unsigned char *p = db_column_blob(st, c, &len);
                    buf_puts(&out, "|x");
                    for (size_t k = 0; k < len; k++)
                        buf_printf(&out, "%02x", p[k]);
                } else {
                    buf_printf(&out, "|%s", db_column_text(st, c));
                }
            }
            buf_puts(&out, "\n");
        }
        if (rc != DB_DONE) {
            db_fail(db, &e, "query");
            fail_msg("%s: %s", sql.data, e.msg);
        }
        db_stmt_done(db, st);
        buf_free(&sql);
    }
    char *r = buf_detach(&out);
    return r ? r : strdup("");
}

/* The bookkeeping rows of versions up to `v`. */
static char *bookkeeping_dump(struct db *db, int v)
{
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT version, applied_at FROM " BOOKKEEPING " WHERE version <= %d"
             " ORDER BY version",
             v);
    struct buf out = BUF_INIT;
    query_lines(db, sql, NULL, 2, &out);
    char *r = buf_detach(&out);
    return r ? r : strdup("");
}

static int count_rows(struct db *db, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return (int)testutil_query_int(db, sql);
}

/* Fails, naming the first line that differs, unless `got` is `want` (text of lines). */
static void assert_same_lines(const char *what, int v, const char *want, const char *got)
{
    size_t i = 0, line = 0;
    while (want[i] && want[i] == got[i])
        i++;
    if (!want[i] && !got[i])
        return;
    while (i > 0 && want[i - 1] != '\n')
        i--;
    line = i;
    int wn = (int)strcspn(want + line, "\n"), gn = (int)strcspn(got + line, "\n");
    fail_msg("%s, from version %d: expected line \"%.*s\", found \"%.*s\"", what, v, wn,
             want + line, gn, got + line);
}

/* The fresh database's schema, for comparison: made once. */
static char *fresh_schema;

static int setup(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct db *db = open_at(dir, -1);
    fresh_schema = schema_dump(db);
    db_close(db);
    testutil_rmdir(dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(fresh_schema);
    fresh_schema = NULL;
    return 0;
}

/* ---- what the data migrations did ----
 *
 * A migration that moves or derives data gets its check here: `from` is the version the
 * database was filled at (by `fills`), the database is now at the latest. */
/* Rows a data migration must change or remove, written after the rows of `fills` are read
 * (so "every row is still there" does not count them), at version `at`. */
static void seed_data_migrations(struct db *db, int at)
{
    if (at == 18 && migrations_count() >= 19) {
        /* 19: a kept text of a record out of scope (c-gone is a tombstone in org-b) */
        struct op_err e = {0};
        assert_int_equal(db_begin(db, &e), 0);
        assert_int_equal(db_run(db,
                                "INSERT INTO sync_texts (org_id, entity, entity_id, version, seq,"
                                " data) VALUES ('org-b', 'test-center', 'c-gone', 7, 4, '{}')",
                                NULL, NULL, "seeding migration 19", &e),
                         0);
        assert_int_equal(db_commit(db, &e), 0);
    }
}

static void check_data_migrations(struct db *db, int from)
{
    if (from == 18 && migrations_count() >= 19) {
        /* 19: the text of the record out of scope is gone, the live record's is kept */
        assert_int_equal(testutil_query_int(db, "SELECT count(*) FROM sync_texts"
                                                " WHERE entity_id = 'c-gone'"),
                         0);
        assert_int_equal(testutil_query_int(db, "SELECT count(*) FROM sync_texts"
                                                " WHERE entity_id = 'u-taker'"),
                         1);
    }
    if (from < 3 && migrations_count() >= 3) {
        /* 3: the key ids of the results stored before it are known, by id only */
        int64_t distinct = testutil_query_int(db, "SELECT count(DISTINCT key_id) FROM results");
        int64_t by_id =
            testutil_query_int(db, "SELECT count(*) FROM results_keys WHERE serial IS NULL"
                                   " AND public_key IS NULL AND created_at IS NULL");
        int64_t missing =
            testutil_query_int(db, "SELECT count(*) FROM results r WHERE NOT EXISTS"
                                   " (SELECT 1 FROM results_keys k WHERE k.id = r.key_id)");
        if (testutil_query_int(db, "SELECT count(*) FROM results_keys") != distinct ||
            by_id != distinct || missing != 0)
            fail_msg("from version %d, migration 3 should record the %lld key ids of the results "
                     "(by id only); results_keys holds %lld of them, %lld missing",
                     from, (long long)distinct, (long long)by_id, (long long)missing);
        if (from == 2) {
            assert_int_equal(distinct, 2); /* k-1 and k-2: the check saw rows */
            struct op_err e = {0};
            assert_int_equal(results_keys_known(db, "k-1", &e), 1); /* as intake asks */
            assert_int_equal(results_keys_known(db, "k-9", &e), 0);
        }
    }
}

/* ---- tests ---- */

/* Builds a database at exactly version v, fills it, then opens it as this outpost does. */
static void upgrade_from(int v)
{
    int latest = migrations_count();
    char *dir = testutil_tmpdir();
    struct db *db = open_at(dir, v);
    assert_int_equal(db_schema_version(db), v);
    fill_rows(db, 0, v);
    struct shape *at_v = calloc(1, sizeof *at_v);
    read_shape(db, at_v);
    /* the test fills every table a version has */
    for (int i = 0; i < at_v->n; i++)
        if (strcmp(at_v->t[i].name, BOOKKEEPING) != 0 && count_rows(db, at_v->t[i].name) == 0)
            fail_msg("version %d: table %s has no rows in `fills` of test_migrations.c: "
                     "add representative rows for it (docs/architecture.md, Migrations)",
                     v, at_v->t[i].name);
    char *rows_before = rows_dump(db, at_v);
    char *book_before = v > 0 ? bookkeeping_dump(db, v) : NULL;
    seed_data_migrations(db, v);
    db_close(db);

    db = open_at(dir, -1);
    /* the bookkeeping reaches the latest, each version once, the old rows untouched */
    assert_int_equal(db_schema_version(db), latest);
    assert_int_equal(testutil_query_int(db, "SELECT count(DISTINCT version) FROM " BOOKKEEPING),
                     latest);
    assert_int_equal(testutil_query_int(db, "SELECT count(*) FROM " BOOKKEEPING), latest);
    if (book_before) {
        char *book_after = bookkeeping_dump(db, v);
        assert_same_lines("the bookkeeping of the versions before", v, book_before, book_after);
        free(book_after);
    }
    /* every row is still there with its values */
    char *rows_after = rows_dump(db, at_v);
    assert_same_lines("the rows after the upgrade", v, rows_before, rows_after);
    check_data_migrations(db, v);
    /* the schema is a fresh database's */
    char *schema = schema_dump(db);
    assert_same_lines("the upgraded schema against a fresh database's", v, fresh_schema, schema);
    /* and takes the rows of the later versions */
    fill_rows(db, v, latest);
    db_close(db);

    free(schema);
    free(rows_after);
    free(rows_before);
    free(book_before);
    free(at_v);
    testutil_rmdir(dir);
}

static void test_every_past_version_upgrades_to_the_latest_with_its_rows(void **state)
{
    (void)state;
    /* the latest too: opening an up-to-date database changes nothing */
    for (int v = 0; v <= migrations_count(); v++)
        upgrade_from(v);
}

/* The rows of `fills` cover the latest schema: every table (a migration that adds one fails
 * here), and every column holds a value in at least one row. */
static void test_the_rows_cover_every_table_and_column_of_the_schema(void **state)
{
    (void)state;
    char *dir = testutil_tmpdir();
    struct db *db = open_at(dir, -1);
    fill_rows(db, 0, migrations_count());
    struct shape *s = calloc(1, sizeof *s);
    read_shape(db, s);
    for (int i = 0; i < s->n; i++) {
        const struct table_shape *t = &s->t[i];
        if (strcmp(t->name, BOOKKEEPING) == 0)
            continue;
        int known = 0;
        for (int f = 0; f < NFILLS; f++)
            known |= strcmp(fills[f].table, t->name) == 0;
        if (!known)
            fail_msg("table %s is new to the upgrade test: add representative rows for it to "
                     "`fills` in tests/unit/test_migrations.c, with `since` the version that "
                     "creates it (docs/architecture.md, Migrations)",
                     t->name);
        for (int c = 0; c < t->ncols; c++) {
            char sql[256];
            snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE %s IS NOT NULL", t->name,
                     t->col[c]);
            if (testutil_query_int(db, sql) == 0)
                fail_msg("column %s.%s is NULL in every row of `fills` in "
                         "tests/unit/test_migrations.c: give it a value in one",
                         t->name, t->col[c]);
        }
    }
    /* and names no table the schema lacks */
    for (int f = 0; f < NFILLS; f++)
        if (!shape_table(s, fills[f].table))
            fail_msg("`fills` names table %s, which the schema does not have", fills[f].table);
    free(s);
    db_close(db);
    testutil_rmdir(dir);
}

/* A database that a newer outpost migrated is refused, naming both versions and what to do,
 * and refused again the next time (nothing of it was taken away); the same for an older
 * outpost (db_set_migration_limit) opening today's schema. */
static void test_a_schema_newer_than_this_outpost_is_refused(void **state)
{
    (void)state;
    int latest = migrations_count();
    char *dir = testutil_tmpdir();
    struct db *db = open_at(dir, -1);
    fill_rows(db, 0, latest);
    db_close(db);

    /* an older outpost meets today's schema */
    struct op_err e = {0};
    assert_int_equal(try_open(dir, latest - 1, &db, &e), OP_ESTATE); /* not a database fault */
    assert_null(db);
    char want[160];
    snprintf(want, sizeof want,
             "database schema version %d is newer than this outpost (%d); upgrade outpost", latest,
             latest - 1);
    assert_non_null(strstr(e.msg, want));

    /* today's outpost meets a newer one's schema */
    db = open_at(dir, -1);
    assert_int_equal(db_schema_version(db), latest);
    struct db_stmt *st =
        db_stmt(db, "INSERT INTO " BOOKKEEPING " (version, applied_at) VALUES (?1, " T1 ")", &e);
    assert_non_null(st);
    db_bind_int(st, 1, latest + 1);
    assert_int_equal(db_step_done(db, st, "bookkeeping", &e), 0);
    db_close(db);

    for (int attempt = 0; attempt < 2; attempt++) {
        memset(&e, 0, sizeof e);
        assert_int_equal(try_open(dir, -1, &db, &e), OP_ESTATE);
        assert_null(db);
        snprintf(want, sizeof want,
                 "database schema version %d is newer than this outpost (%d); upgrade outpost",
                 latest + 1, latest);
        /* the second time too: the refusal took nothing away */
        assert_non_null(strstr(e.msg, want));
    }
    testutil_rmdir(dir);
}

/* A migration whose transaction fails (a trigger refuses its bookkeeping row, the last
 * statement, after the migration's own SQL ran) leaves the database exactly as it was at the
 * version before: schema, rows and bookkeeping; once the fault is gone the next open
 * migrates. For every migration. */
static void fail_migration(int v)
{
    int latest = migrations_count();
    int pg = testutil_on_pgsql();
    char *dir = testutil_tmpdir();
    struct db *db = open_at(dir, v);
    fill_rows(db, 0, v);
    struct op_err e = {0};
    if (v == 0) /* the runner's table, for the trigger to sit on */
        assert_int_equal(db_exec(db,
                                 "CREATE TABLE " BOOKKEEPING " ("
                                 " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
                                 &e),
                         0);
    if (pg) {
        assert_int_equal(db_exec(db,
                                 "CREATE FUNCTION refuse_migration() RETURNS trigger"
                                 " LANGUAGE plpgsql AS $$BEGIN"
                                 " RAISE EXCEPTION 'injected failure'; END$$;"
                                 "CREATE TRIGGER refuse_migration BEFORE INSERT ON " BOOKKEEPING
                                 " FOR EACH ROW EXECUTE FUNCTION refuse_migration()",
                                 &e),
                         0);
    } else {
        assert_int_equal(db_exec(db,
                                 "CREATE TRIGGER refuse_migration BEFORE INSERT ON " BOOKKEEPING
                                 " BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
                                 &e),
                         0);
    }
    struct shape *s = calloc(1, sizeof *s);
    read_shape(db, s);
    char *schema_before = schema_dump(db);
    char *rows_before = rows_dump(db, s);
    char *book_before = bookkeeping_dump(db, latest);
    db_close(db);

    memset(&e, 0, sizeof e);
    assert_int_not_equal(try_open(dir, -1, &db, &e), 0);
    assert_null(db);
    if (!strstr(e.msg, "injected failure"))
        fail_msg("migration %d: unexpected error: %s", v + 1, e.msg);

    db = open_at(dir, v);
    assert_int_equal(db_schema_version(db), v);
    char *schema_after = schema_dump(db);
    char *rows_after = rows_dump(db, s);
    char *book_after = bookkeeping_dump(db, latest);
    assert_same_lines("the schema after a failed migration", v, schema_before, schema_after);
    assert_same_lines("the rows after a failed migration", v, rows_before, rows_after);
    assert_same_lines("the bookkeeping after a failed migration", v, book_before, book_after);

    assert_int_equal(db_exec(db,
                             pg ? "DROP TRIGGER refuse_migration ON " BOOKKEEPING ";"
                                  "DROP FUNCTION refuse_migration()"
                                : "DROP TRIGGER refuse_migration",
                             &e),
                     0);
    db_close(db);
    db = open_at(dir, -1);
    assert_int_equal(db_schema_version(db), latest);
    db_close(db);

    free(schema_before);
    free(schema_after);
    free(rows_before);
    free(rows_after);
    free(book_before);
    free(book_after);
    free(s);
    testutil_rmdir(dir);
}

static void test_a_failing_migration_leaves_the_version_before_it(void **state)
{
    (void)state;
    for (int v = 0; v < migrations_count(); v++)
        fail_migration(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_past_version_upgrades_to_the_latest_with_its_rows),
        cmocka_unit_test(test_the_rows_cover_every_table_and_column_of_the_schema),
        cmocka_unit_test(test_a_schema_newer_than_this_outpost_is_refused),
        cmocka_unit_test(test_a_failing_migration_leaves_the_version_before_it),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
