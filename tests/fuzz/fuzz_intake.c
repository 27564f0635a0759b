/*
 * fuzz_intake.c - central's whole intake of result envelopes, past the signature: any bytes
 * must be refused or stored, and stored results decrypted or marked, without crashing,
 * reading out of bounds or leaking. fuzz_envelope stops at the device signature, which a
 * mutated envelope never passes; here each envelope is re-signed with the enrolled device's
 * fixed key, so that mutated headers (time stamps, ids, key ids, states, lengths) reach the
 * checks behind it, the store and decrypt-results.
 *
 * Input: one flags byte, then envelopes back to back (as `results import` reads a file).
 *   bit 0  make each envelope's test taker eligible for its delivery in the device's
 *          organisation (else the scope check refuses nearly every mutated header)
 *   bit 1  write the enrolled device's id into each header (else: unknown device)
 *   bit 2  write the id of central's results key into each header (else: mostly a key
 *          central never had)
 *   bit 3  run decrypt-results (app_results_decrypt) on what was stored
 * Each envelope is received in its own transaction (app_results_receive). Each input runs
 * against a central instance made by hand: an in-memory database emptied of results, keys
 * records and eligibilities before it (opened once: migrating per input cost most of the
 * time), with the device enrolled, and a key folder holding central's fixed results key (secret 32
 * bytes of 0x11; device seed 0x22, as in fuzz_envelope). The seeds in tests/fuzz/corpus/fuzz_intake
 * are written by tests/tools/make_intake_seeds.c (run it again when the envelope format changes).
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/results.h"
#include "base/fs.h"
#include "base/log.h"
#include "crypto/envelope.h"
#include "crypto/keys.h"
#include "crypto/sign.h"
#include "store/devices.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEVICE_ID "0d0d0d0d-0000-4000-8000-000000000001"

static struct key device;
static struct key results;
static char inst_dir[64]; /* the instance's data folder: only its keys/ is used */
static char keys_dir[80];
static unsigned char device_bin[16];
static unsigned char key_id_bin[KEY_ID_BYTES];

static void remove_keys(void)
{
    char *dir = strdup(inst_dir);
    fs_remove_tree(dir);
    free(dir);
}

/* Writes central's fixed results key as keys/results-0001.key of a fresh private folder. */
static void make_keys_dir(void)
{
    snprintf(inst_dir, sizeof inst_dir, "/tmp/outpost-fuzz-intake-XXXXXX");
    if (!mkdtemp(inst_dir))
        abort();
    atexit(remove_keys);
    snprintf(keys_dir, sizeof keys_dir, "%s/keys", inst_dir);
    if (mkdir(keys_dir, 0700) != 0)
        abort();
    char pub[65], sec[65], text[512];
    sodium_bin2hex(pub, sizeof pub, results.public_key, 32);
    sodium_bin2hex(sec, sizeof sec, results.secret, 32);
    int n = snprintf(text, sizeof text,
                     "# Outpost key file: secret, keep mode 0600, never edit\nformat 1\n"
                     "kind results-x25519\nid %s\nserial 1\ncreated 2026-01-01T00:00:00Z\n"
                     "public %s\nsecret %s\n",
                     results.id, pub, sec);
    char *path = fs_join(keys_dir, "results-0001.key");
    struct op_err e = {0};
    if (fs_write_new(path, text, (size_t)n, 0600, NULL, &e) != 0)
        abort();
    free(path);
}

static void init(void)
{
    if (sodium_init() < 0)
        abort();
    log_set_level(OP_LOG_ERROR); /* quarantine warnings on every input would drown the output */
    results.kind = KEY_RESULTS;
    results.serial = 1;
    memset(results.secret, 0x11, 32);
    crypto_scalarmult_base(results.public_key, results.secret);
    key_id_of_public(results.public_key, results.id);
    device.kind = KEY_SIGNING;
    memset(device.secret, 0x22, 32);
    crypto_sign_seed_keypair(device.public_key, device.sign_secret, device.secret);
    sodium_hex2bin(key_id_bin, sizeof key_id_bin, results.id, 16, NULL, NULL, NULL);
    sodium_hex2bin(device_bin, sizeof device_bin, DEVICE_ID, 36, "-", NULL, NULL);
    make_keys_dir();
}

/* The database of the central every input runs on. */
static struct db *fixture_db(void)
{
    static struct db *db;
    struct op_err e = {0};
    if (db) {
        if (db_begin(db, &e) != 0 ||
            db_exec(db,
                    "DELETE FROM results; DELETE FROM results_quarantine;"
                    " DELETE FROM results_keys; DELETE FROM eligibility_test_takers;"
                    " DELETE FROM eligibilities; DELETE FROM deliveries; DELETE FROM users;",
                    &e) != 0 ||
            db_commit(db, &e) != 0)
            abort();
        return db;
    }
    if (db_open(":memory:", 1, &db, &e) != 0)
        abort();
    struct device d;
    memset(&d, 0, sizeof d);
    memcpy(d.id, DEVICE_ID, sizeof d.id);
    d.label = "fuzz device";
    d.org_id = "ORG-1";
    memcpy(d.signing_public_key, device.public_key, KEY_PUBLIC_BYTES);
    if (db_begin(db, &e) != 0 || devices_insert(db, &d, &e) != 0 ||
        db_exec(db,
                "INSERT INTO test_centers (id, label, org_id, created_at, updated_at) VALUES"
                " ('c1', 'C1', 'ORG-1', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                &e) != 0 ||
        db_commit(db, &e) != 0)
        abort();
    return db;
}

/* The central every input runs on; the same connection, emptied of what the previous input
 * left. */
static struct instance *fixture_instance(void)
{
    static struct instance inst;
    inst.dir = inst_dir;
    inst.role = ROLE_CENTRAL;
    inst.db = fixture_db();
    return &inst;
}

/* Makes the test taker of `h` eligible for its delivery at the device's test center. */
static void grant_scope(struct db *db, const struct envelope_header *h)
{
    static const char *const sql[] = {
        "INSERT OR IGNORE INTO users (id, login, role, password_hash, created_at, updated_at)"
        " VALUES (?1, ?1, 'test-taker', 'x', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        "INSERT OR IGNORE INTO deliveries (id, label, created_at, updated_at)"
        " VALUES (?2, 'D', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        "INSERT OR IGNORE INTO eligibilities (id, center_id, delivery_id, created_at, updated_at)"
        " VALUES (?2, 'c1', ?2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        "INSERT OR IGNORE INTO eligibility_test_takers (eligibility_id, user_id) VALUES (?2, ?1)",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        struct op_err e = {0};
        /* INSERT OR IGNORE with ?1 and ?2: db_run binds both, unused ones are harmless */
        if (db_run(db, sql[i], h->test_taker_id, h->delivery_id, "scope", &e) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready, verbose;
    if (!ready) {
        init();
        verbose = getenv("OUTPOST_FUZZ_VERBOSE") != NULL; /* what each seed reaches */
        ready = 1;
    }
    if (size < 1 || size - 1 > 2 * ENVELOPE_MAX_BYTES)
        return 0;
    int flags = data[0];
    size_t n = size - 1;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf)
        abort();
    memcpy(buf, data + 1, n);
    struct instance *inst = fixture_instance();
    struct db *db = inst->db;
    struct op_err e = {0};
    enum app_results_outcome outcome;
    size_t off = 0;
    while (off < n) {
        unsigned char *p = buf + off;
        struct envelope env;
        size_t used;
        if (envelope_parse_next(p, n - off, &env, &used, &e) != 0) {
            /* what the parser refuses, intake refuses too: once, then stop like an import */
            if (app_results_receive(inst, p, n - off, &outcome, &e) == OP_EDB)
                abort();
            break;
        }
        if (flags & 2)
            memcpy(p + 80, device_bin, sizeof device_bin);
        if (flags & 4)
            memcpy(p + 8, key_id_bin, sizeof key_id_bin);
        if (envelope_parse_next(p, n - off, &env, &used, &e) != 0)
            abort(); /* the ids written are valid: the parse cannot change its mind */
        if (flags & 1)
            grant_scope(db, &env.h);
        if (sign_detached(SIGN_CONTEXT_RESULT_ENVELOPE, p, used - ENVELOPE_SIGNATURE_BYTES, &device,
                          p + used - ENVELOPE_SIGNATURE_BYTES, &e) != 0)
            abort();
        int rc = app_results_receive(inst, p, used, &outcome, &e);
        if (verbose)
            fprintf(stderr, "fuzz_intake: %d %s\n", rc, rc < 0 ? e.msg : "");
        if (rc == OP_EDB || rc == OP_ENOMEM)
            abort(); /* a database failure on bytes from a device is a bug */
        off += used;
    }
    if (flags & 8) {
        const struct app_results_decrypt_in all = {NULL};
        struct app_results_decrypt_out rep;
        if (app_results_decrypt(inst, &all, &rep, NULL, NULL, &e) != 0)
            abort();
        if (verbose)
            fprintf(stderr, "fuzz_intake: decrypted %d, damaged %d, missing key %d\n",
                    rep.decrypted, rep.damaged, rep.missing_key);
    }
    free(buf);
    return 0;
}
