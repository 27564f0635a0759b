/*
 * migrations.c - the schema, one SQL script per version (see migrations.h).
 *
 * Portability: TEXT, INTEGER and BLOB only, ISO-8601 UTC time stamps in TEXT, ids are UUID
 * strings, no AUTOINCREMENT, no SQLite-only functions in defaults; so PostgreSQL accepts the
 * same DDL, with the one translation its backend makes (db_pgsql.c): INTEGER is BIGINT (a
 * 64-bit integer, as on SQLite: sequence numbers and versions), BLOB is BYTEA, and TEXT is
 * TEXT COLLATE "C" (text sorts in byte order on both).
 *
 * Every record that is synchronised to devices (users, test centers, eligibilities,
 * deliveries) carries a stable `id` (UUID) and a `version` that its store file bumps on every
 * change. The per-organisation change feed lives in `sync_feed` (see feed.h).
 */
#include "store/migrations.h"

#include <stddef.h>

static const char *const migrations[] = {
    /* 1: foundation - instance meta, users, test centers, deliveries, eligibilities, feed. */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);"

    "CREATE TABLE counters ("
    "  name TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL);"
    "INSERT INTO counters (name, value) VALUES ('change_seq', 0);"

    "CREATE TABLE users ("
    "  id TEXT PRIMARY KEY,"
    "  login TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK (role IN ('super-user', 'test-taker', 'proctor',"
    "                                     'test-center-admin', 'sync-manager')),"
    "  label TEXT,"
    "  first_name TEXT,"
    "  last_name TEXT,"
    "  mail TEXT,"
    "  interface_lang TEXT,"
    "  default_lang TEXT,"
    "  org_id TEXT,"
    "  password_hash TEXT NOT NULL,"
    "  version INTEGER NOT NULL DEFAULT 1,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL,"
    "  CHECK (role <> 'sync-manager' OR (org_id IS NOT NULL AND org_id <> '')));"
    "CREATE INDEX users_role ON users (role, login);"

    "CREATE TABLE test_centers ("
    "  id TEXT PRIMARY KEY,"
    "  label TEXT NOT NULL,"
    "  org_id TEXT NOT NULL CHECK (org_id <> ''),"
    "  parent_id TEXT REFERENCES test_centers (id),"
    "  version INTEGER NOT NULL DEFAULT 1,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);"
    "CREATE INDEX test_centers_org ON test_centers (org_id);"
    "CREATE INDEX test_centers_label ON test_centers (label);"
    "CREATE INDEX test_centers_parent ON test_centers (parent_id);"

    "CREATE TABLE test_center_staff ("
    "  center_id TEXT NOT NULL REFERENCES test_centers (id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  duty TEXT NOT NULL CHECK (duty IN ('admin', 'proctor')),"
    "  PRIMARY KEY (center_id, user_id, duty));"
    "CREATE INDEX test_center_staff_user ON test_center_staff (user_id);"

    "CREATE TABLE deliveries ("
    "  id TEXT PRIMARY KEY,"
    "  label TEXT NOT NULL,"
    "  package_sha256 TEXT,"
    "  max_executions INTEGER NOT NULL DEFAULT 0,"
    "  proctored_default INTEGER NOT NULL DEFAULT 1,"
    "  version INTEGER NOT NULL DEFAULT 1,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);"
    "CREATE INDEX deliveries_label ON deliveries (label);"

    "CREATE TABLE eligibilities ("
    "  id TEXT PRIMARY KEY,"
    "  center_id TEXT NOT NULL REFERENCES test_centers (id),"
    "  delivery_id TEXT NOT NULL REFERENCES deliveries (id),"
    "  proctored INTEGER NOT NULL DEFAULT 1,"
    "  version INTEGER NOT NULL DEFAULT 1,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL,"
    "  UNIQUE (center_id, delivery_id));"
    "CREATE INDEX eligibilities_delivery ON eligibilities (delivery_id);"

    "CREATE TABLE eligibility_test_takers ("
    "  eligibility_id TEXT NOT NULL REFERENCES eligibilities (id) ON DELETE CASCADE,"
    "  user_id TEXT NOT NULL REFERENCES users (id),"
    "  PRIMARY KEY (eligibility_id, user_id));"
    "CREATE INDEX eligibility_test_takers_user ON eligibility_test_takers (user_id);"

    /* The per-organisation change feed: the latest change of every record in an
     * organisation's scope, numbered by the global change sequence. deleted = 1 is a
     * tombstone: the record was deleted or left the scope. */
    "CREATE TABLE sync_feed ("
    "  org_id TEXT NOT NULL,"
    "  entity TEXT NOT NULL,"
    "  entity_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (org_id, entity, entity_id));"
    "CREATE UNIQUE INDEX sync_feed_org_seq ON sync_feed (org_id, seq);"
    "CREATE INDEX sync_feed_entity ON sync_feed (entity, entity_id);",

    /* 2: keys and encryption - user vaults, enrolled devices, result envelopes (see
     * crypto/vault.h, store/devices.h, store/results.h). */
    "ALTER TABLE users ADD COLUMN vault_public_key TEXT;"
    "ALTER TABLE users ADD COLUMN vault_secret_wrapped TEXT;"
    "ALTER TABLE users ADD COLUMN vault_secret_escrow TEXT;"

    "CREATE TABLE devices ("
    "  id TEXT PRIMARY KEY,"
    "  label TEXT NOT NULL,"
    "  org_id TEXT NOT NULL CHECK (org_id <> ''),"
    "  sync_manager_id TEXT REFERENCES users (id),"
    "  signing_public_key TEXT NOT NULL UNIQUE,"
    "  revoked INTEGER NOT NULL DEFAULT 0,"
    "  enrolled_at TEXT NOT NULL,"
    "  last_sync_at TEXT);"
    "CREATE INDEX devices_org ON devices (org_id);"

    /* Envelopes as received, never deleted; the decrypted result next to its ciphertext. */
    "CREATE TABLE results ("
    "  id TEXT PRIMARY KEY,"
    "  execution_id TEXT NOT NULL,"
    "  delivery_id TEXT NOT NULL,"
    "  test_taker_id TEXT NOT NULL,"
    "  device_id TEXT NOT NULL REFERENCES devices (id),"
    "  key_id TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('finished', 'terminated')),"
    "  started_at TEXT NOT NULL,"
    "  ended_at TEXT NOT NULL,"
    "  sealed_at TEXT NOT NULL,"
    "  envelope BLOB NOT NULL,"
    "  envelope_sha256 TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (status IN ('pending', 'decrypted', 'damaged')),"
    "  problem TEXT,"
    "  result_json TEXT,"
    "  received_at TEXT NOT NULL,"
    "  decrypted_at TEXT);"
    "CREATE INDEX results_status ON results (status, delivery_id);"
    "CREATE INDEX results_delivery ON results (delivery_id);",

    /* 3: the ids of every results key central has had (store/results_keys.h), so that intake
     * tells a key that never existed from one whose file is lost. Filled from the key files
     * by setup, setup-central, keys rotate, decrypt-results and intake; the ids of envelopes
     * stored before this migration are taken as known (serial and public key unknown). */
    "CREATE TABLE results_keys ("
    "  id TEXT PRIMARY KEY,"
    "  serial INTEGER,"
    "  public_key TEXT,"
    "  created_at TEXT);"
    "INSERT INTO results_keys (id) SELECT DISTINCT key_id FROM results;",

    /* 4: result envelopes held for an operator (store/results.h): a result id belongs to the
     * device that first sent it, so another device's envelope under it, or other bytes from
     * the same device, are kept here, never in `results` in its place and never dropped. One
     * row per distinct copy. */
    "CREATE TABLE results_quarantine ("
    "  result_id TEXT NOT NULL,"
    "  device_id TEXT NOT NULL REFERENCES devices (id),"
    "  envelope_sha256 TEXT NOT NULL,"
    "  reason TEXT NOT NULL CHECK (reason IN ('other device', 'other content')),"
    "  delivery_id TEXT NOT NULL,"
    "  test_taker_id TEXT NOT NULL,"
    "  key_id TEXT NOT NULL,"
    "  envelope BLOB NOT NULL,"
    "  received_at TEXT NOT NULL,"
    "  PRIMARY KEY (result_id, device_id, envelope_sha256));"
    "CREATE INDEX results_quarantine_received ON results_quarantine (received_at);",

    /* 5: the change feed numbers the rows it writes from the largest number in sync_feed
     * (store/feed.c), inside the statement that writes them, instead of from the
     * counters row (one statement per refresh, one round trip on PostgreSQL); this index
     * finds that number. The counters row stays, no longer advanced. */
    "CREATE INDEX sync_feed_seq ON sync_feed (seq);",

    /* 6: sync runs and what a device reports of itself (store/sync_runs.h, store/devices.h).
     * sync_runs, on both roles: one row per sync, begun as 'running' and ended 'ok' or
     * 'failed'; device_id is, on central, the device that synced, and on a device, its own
     * id. counts is a JSON object {"<entity>": {"created": n, "updated": n, "deleted": n}}.
     * A row a killed process left 'running' is shown as interrupted (app/sync_history.h).
     * On central, each device's last report: its software version, the results it still had
     * to send, and its clock's offset from central's (device minus central, in seconds). */
    "CREATE TABLE sync_runs ("
    "  id TEXT PRIMARY KEY,"
    "  device_id TEXT NOT NULL,"
    "  started_at TEXT NOT NULL,"
    "  ended_at TEXT,"
    "  status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed')),"
    "  counts TEXT NOT NULL DEFAULT '{}',"
    "  results_sent INTEGER NOT NULL DEFAULT 0,"
    "  bytes INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT);"
    "CREATE INDEX sync_runs_started ON sync_runs (started_at, id);"
    "CREATE INDEX sync_runs_device ON sync_runs (device_id, started_at);"
    "ALTER TABLE devices ADD COLUMN software_version TEXT;"
    "ALTER TABLE devices ADD COLUMN pending_results INTEGER;"
    "ALTER TABLE devices ADD COLUMN clock_offset_seconds INTEGER;",
    /* 7: OAuth2 (store/oauth.h, store/throttle.h). A client is the credential a device gets
     * at enrolment, bound on the server to that device, the sync manager who enrolled it and
     * their organisation; its secret and its access tokens are stored only as keyed BLAKE2b
     * hashes (hex), never in clear. expires_at and window_start are seconds since the epoch.
     * auth_throttle counts the recent failures of one login, client or address. */
    "CREATE TABLE oauth_clients ("
    "  client_id TEXT PRIMARY KEY,"
    "  secret_hash TEXT NOT NULL,"
    "  device_id TEXT NOT NULL REFERENCES devices (id),"
    "  user_id TEXT NOT NULL,"
    "  org_id TEXT NOT NULL CHECK (org_id <> ''),"
    "  created_at TEXT NOT NULL,"
    "  revoked_at TEXT);"
    "CREATE INDEX oauth_clients_device ON oauth_clients (device_id);"
    "CREATE TABLE oauth_tokens ("
    "  token_hash TEXT PRIMARY KEY,"
    "  client_id TEXT NOT NULL REFERENCES oauth_clients (client_id),"
    "  expires_at INTEGER NOT NULL,"
    "  revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX oauth_tokens_client ON oauth_tokens (client_id);"
    "CREATE INDEX oauth_tokens_expires ON oauth_tokens (expires_at);"
    "CREATE TABLE auth_throttle ("
    "  key TEXT PRIMARY KEY,"
    "  failures INTEGER NOT NULL,"
    "  window_start INTEGER NOT NULL);",
    /* 8: what a device received from central's change feed (store/synced.h, sync/pull.h):
     * one row per synchronised record, its data as central sent it (JSON text), and the
     * device's pull state, one row: its organisation, the last applied seq, and the full
     * resync in progress (records not seen in generation `generation` are deleted at its end).
     * Empty on a central. */
    "CREATE TABLE synced_records ("
    "  entity TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  data TEXT NOT NULL,"
    "  generation INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (entity, id));"
    "CREATE TABLE sync_state ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  org_id TEXT,"
    "  cursor_seq INTEGER NOT NULL DEFAULT 0,"
    "  full_resync INTEGER NOT NULL DEFAULT 0,"
    "  generation INTEGER NOT NULL DEFAULT 0,"
    "  updated_at TEXT);"
    "INSERT INTO sync_state (id) VALUES (1);",
    /* 9: pushing results (docs/sync-protocol.md, "Pushing results"). On a device, the outbox
     * of result envelopes (store/outbox.h): each waits (pending) until central's signed
     * receipts acknowledge it or refuse it (with central's reason), and the receipts that
     * answered are kept, once per batch, as proof. On central, a result stored although its
     * eligibility was withdrawn after the test is held for review (results.review
     * 'quarantined') until an operator accepts or rejects it; never deleted. */
    "CREATE TABLE outbox_receipts ("
    "  id TEXT PRIMARY KEY,"
    "  receipts TEXT NOT NULL,"
    "  received_at TEXT NOT NULL);"
    "CREATE TABLE result_outbox ("
    "  result_id TEXT PRIMARY KEY,"
    "  seq INTEGER NOT NULL UNIQUE,"
    "  envelope BLOB NOT NULL,"
    "  envelope_sha256 TEXT NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (status IN ('pending', 'acknowledged', 'refused')),"
    "  receipt_status TEXT"
    "    CHECK (receipt_status IN ('stored', 'duplicate', 'quarantined', 'refused')),"
    "  reason TEXT,"
    "  receipt_id TEXT REFERENCES outbox_receipts (id),"
    "  added_at TEXT NOT NULL,"
    "  answered_at TEXT);"
    "CREATE INDEX result_outbox_status ON result_outbox (status, seq);"
    "ALTER TABLE results ADD COLUMN review TEXT"
    "  CHECK (review IN ('quarantined', 'accepted', 'rejected'));"
    "ALTER TABLE results ADD COLUMN review_reason TEXT;"
    "ALTER TABLE results ADD COLUMN reviewed_at TEXT;"
    "CREATE INDEX results_review ON results (review);",
    /* 10: encrypted packages (store/delivery_content.h): for each delivery version at which
     * the compiled package changed, the encrypted copy's hash and size and its content key
     * wrapped under the master key (crypto/content.h). A table, not columns on deliveries:
     * the rows of older versions stay while devices may still run them. Deliveries imported
     * before get theirs from app_content_ensure. */
    "CREATE TABLE delivery_content ("
    "  delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL,"
    "  package_sha256 TEXT NOT NULL,"
    "  enc_sha256 TEXT NOT NULL,"
    "  enc_size INTEGER NOT NULL,"
    "  wrapped_key BLOB NOT NULL,"
    "  master_key_id TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  PRIMARY KEY (delivery_id, version));"
    "CREATE INDEX delivery_content_enc ON delivery_content (enc_sha256);",
    /* 11: the scope digest, computed on every last page of a pull on both sides, reads an
     * index alone instead of every row: on a device (synced_digest: entity, id and version of
     * every synced record in (entity, id) order) rather than synced_records, whose JSON data
     * makes the table tens of MB; on central (synced_feed_digest: the live rows of one
     * organisation's feed in the same order) rather than a look-up of each feed row. A
     * no-change sync of 10,000 records: bench/README.md, "Synchronisation". */
    ("CREATE INDEX synced_records_digest ON synced_records (entity, id, version);"
     "CREATE INDEX sync_feed_digest ON sync_feed (org_id, deleted, entity, entity_id, version);"),
    /* 12: delivery executions on a device (store/executions.h, app/executions.h): one row per
     * execution, changed only by compare-and-set on its version; the runner's session state
     * as opaque text; times in seconds since 1970 (the time left is computed from them). Its
     * audit log: every state change and proctor action, hash-chained per execution. */
    ("CREATE TABLE executions ("
     "  id TEXT PRIMARY KEY,"
     "  delivery_id TEXT NOT NULL,"
     "  delivery_version INTEGER NOT NULL,"
     "  test_taker_id TEXT NOT NULL,"
     "  center_id TEXT NOT NULL,"
     "  proctored INTEGER NOT NULL,"
     "  state TEXT NOT NULL CHECK (state IN ('awaiting_authorization', 'authorized', 'active',"
     "    'paused', 'finished', 'terminated', 'canceled')),"
     "  version INTEGER NOT NULL,"
     "  item_position INTEGER NOT NULL DEFAULT 0,"
     "  item_count INTEGER NOT NULL DEFAULT 0,"
     "  session TEXT,"
     "  time_limit INTEGER NOT NULL DEFAULT 0,"
     "  extra_time INTEGER NOT NULL DEFAULT 0,"
     "  consumed INTEGER NOT NULL DEFAULT 0,"
     "  active_since INTEGER,"
     "  paused_at INTEGER,"
     "  created_at INTEGER NOT NULL,"
     "  started_at INTEGER,"
     "  updated_at INTEGER NOT NULL,"
     "  ended_at INTEGER,"
     "  result_id TEXT UNIQUE);"
     "CREATE INDEX executions_taker ON executions (test_taker_id, delivery_id);"
     "CREATE INDEX executions_center ON executions (center_id, created_at);"
     "CREATE TABLE execution_audit ("
     "  execution_id TEXT NOT NULL REFERENCES executions (id),"
     "  seq INTEGER NOT NULL,"
     "  logged_at INTEGER NOT NULL,"
     "  actor_id TEXT NOT NULL,"
     "  actor_role TEXT NOT NULL,"
     "  action TEXT NOT NULL,"
     "  from_state TEXT NOT NULL,"
     "  to_state TEXT NOT NULL,"
     "  detail TEXT NOT NULL,"
     "  prev_hash TEXT NOT NULL,"
     "  hash TEXT NOT NULL,"
     "  PRIMARY KEY (execution_id, seq));"),
    /* 13: what central's pages cost, made once instead of on every page served (app/changes.c,
     * store/sealed.h). `sync_sealed`: each sealed box a page carried (a user's profile sealed
     * to one recipient, a delivery's content key sealed to one test taker), with the
     * fingerprint of what it was made from (recipient's public key and the plaintext); a page
     * reuses a box only while the fingerprint of the current key and plaintext is the same,
     * and the recipients are always read anew, so a removed proctor or a changed key never
     * gets an old box. `sync_digests`: an organisation's scope digest with the feed's max seq
     * it is for (any change to the scope gives the feed a higher seq), so a no-change sync
     * reads it instead of hashing the whole scope. Both are caches: emptying them costs only
     * time. */
    ("CREATE TABLE sync_sealed ("
     "  kind TEXT NOT NULL CHECK (kind IN ('profile', 'content-key')),"
     "  record_id TEXT NOT NULL,"
     "  recipient TEXT NOT NULL,"
     "  fingerprint TEXT NOT NULL,"
     "  sealed TEXT NOT NULL,"
     "  PRIMARY KEY (kind, record_id, recipient));"
     "CREATE TABLE sync_digests ("
     "  org_id TEXT PRIMARY KEY,"
     "  max_seq INTEGER NOT NULL,"
     "  digest TEXT NOT NULL);"),
    /* 14: a delivery is published or withdrawn (store/deliveries.h, docs/qti.md, "Publishing
     * and withdrawing"). A withdrawn delivery keeps its row, its eligibilities and its package
     * history on central, but leaves every organisation's scope: devices get tombstones for it
     * and its eligibilities (and the test takers only they held) through the change feed, and
     * get them back when it is published again. Existing deliveries are published. */
    ("ALTER TABLE deliveries ADD COLUMN status TEXT NOT NULL DEFAULT 'published'"
     " CHECK (status IN ('published', 'withdrawn'));"),
    /* 15: the bearer tokens of central's backoffice API (store/apitokens.h), each bound to one
     * backoffice user and gone with them; stored only as a keyed hash. */
    ("CREATE TABLE api_tokens ("
     "  id TEXT PRIMARY KEY,"
     "  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
     "  token_hash TEXT NOT NULL UNIQUE,"
     "  label TEXT,"
     "  created_at TEXT NOT NULL,"
     "  expires_at INTEGER NOT NULL DEFAULT 0,"
     "  revoked_at TEXT);"
     "CREATE INDEX api_tokens_user ON api_tokens (user_id);"),
    /* 16: the backoffice's results tab (store/results_view.h). `center_id`: the test center
     * a result was taken in, first the one whose eligibility let the device file it (intake),
     * then the one the decrypted result names, when it is a center of the device's
     * organisation; `outcomes_json`: the test-level outcomes of the decrypted result, so a
     * page of the tab reads no result JSON (results decrypted before this migration get it
     * at the next decrypt-results). The indexes serve the tab's keyset pages, newest first,
     * per delivery and per delivery and center. */
    ("ALTER TABLE results ADD COLUMN center_id TEXT;"
     "ALTER TABLE results ADD COLUMN outcomes_json TEXT;"
     "UPDATE results SET center_id = (SELECT el.center_id FROM eligibility_test_takers t"
     "  JOIN eligibilities el ON el.id = t.eligibility_id"
     "  JOIN test_centers tc ON tc.id = el.center_id"
     "  JOIN devices d ON d.org_id = tc.org_id"
     "  WHERE t.user_id = results.test_taker_id AND el.delivery_id = results.delivery_id"
     "  AND d.id = results.device_id ORDER BY el.center_id LIMIT 1);"
     "CREATE INDEX results_delivery_started ON results (delivery_id, started_at, id);"
     "CREATE INDEX results_delivery_center ON results (delivery_id, center_id, started_at, id);"),
    /* 17: the results tab's indexes cover every column its filters read (status, review,
     * state, center, test taker), so that counting a delivery's filtered results (the tab's
     * total) and skipping the rows a filter leaves out read the index only, never the rows
     * with their envelopes and result JSON: 100,000 results counted in tens of milliseconds
     * instead of hundreds (bench/bench_backoffice.c). They replace migration 16's. */
    ("DROP INDEX results_delivery_started;"
     "DROP INDEX results_delivery_center;"
     "CREATE INDEX results_tab ON results"
     " (delivery_id, started_at, id, status, review, state, center_id, test_taker_id);"
     "CREATE INDEX results_tab_center ON results"
     " (delivery_id, center_id, started_at, id, status, review, state, test_taker_id);"),
    /* 18: each record's data as central's pages carry it (compact JSON with its sealed
     * boxes: app/changes.c, store/sealed.h), kept per organisation with the feed row it was
     * made for (version and seq: the feed gives a row a new seq whenever the record's version
     * or its presence in the scope changes, and every input of the text raises the version),
     * so that a page is read as stored texts put one after the other instead of being built
     * record by record. A cache: emptying it costs only time. */
    ("CREATE TABLE sync_texts ("
     "  org_id TEXT NOT NULL,"
     "  entity TEXT NOT NULL,"
     "  entity_id TEXT NOT NULL,"
     "  version INTEGER NOT NULL,"
     "  seq INTEGER NOT NULL,"
     "  data TEXT NOT NULL,"
     "  PRIMARY KEY (org_id, entity, entity_id));"),
    /* 19: a record deleted or out of an organisation's scope keeps no text there: since this
     * version the feed drops it in the transaction that writes the record's tombstone
     * (store/feed.c); this drops the texts kept before for records already out of scope. */
    ("DELETE FROM sync_texts WHERE EXISTS (SELECT 1 FROM sync_feed f"
     " WHERE f.org_id = sync_texts.org_id AND f.entity = sync_texts.entity"
     " AND f.entity_id = sync_texts.entity_id AND f.deleted = 1);"),
};

int migrations_count(void)
{
    return (int)(sizeof migrations / sizeof migrations[0]);
}

const char *migrations_sql(int version)
{
    if (version < 1 || version > migrations_count())
        return NULL;
    return migrations[version - 1];
}
