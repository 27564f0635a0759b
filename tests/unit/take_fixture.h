/*
 * take_fixture.h - a device holding what a sync leaves, for the tests of a test taker's steps:
 * central's results key, two test takers with vault keys, the package TAKE_FIXTURE_PACKAGE (a
 * folder of the source tree, defined by the test before it includes this) compiled, encrypted under
 * its own content key and stored, its key sealed to each test taker, an eligibility; and the steps
 * (start, get, step) over it. Static functions, included by the programs of a test taker's steps
 * only (test_app_take, test_app_upload, test_app_pci_state, test_app_pci_file).
 */
#ifndef OUTPOST_TESTS_TAKE_FIXTURE_H
#define OUTPOST_TESTS_TAKE_FIXTURE_H

#ifndef TAKE_FIXTURE_PACKAGE
#error "define TAKE_FIXTURE_PACKAGE (the package's folder) before including take_fixture.h"
#endif

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/central.h"
#include "app/executions.h"
#include "app/take.h"
#include "app_instance_fixture.h"
#include "base/buf.h"
#include "base/clock.h"
#include "crypto/content.h"
#include "crypto/envelope.h"
#include "crypto/keys.h"
#include "qti/compile.h"
#include "qti_testzip.h"
#include "store/executions.h"
#include "store/meta.h"
#include "store/outbox.h"
#include "store/packages.h"
#include "store/synced.h"

#define T1 "11111111-0000-4000-8000-000000000001"
#define T2 "11111111-0000-4000-8000-000000000002"
#define P1 "22222222-0000-4000-8000-000000000001"
#define CA "33333333-0000-4000-8000-00000000000a"
#define D1 "44444444-0000-4000-8000-000000000001"

static time_t now_t = 1800000000;

struct fixture {
    struct instance *dev;
    struct runner_cache *cache;
    struct key results;
    unsigned char pk1[VAULT_PUBLIC_BYTES], sk1[VAULT_SECRET_BYTES];
    unsigned char pk2[VAULT_PUBLIC_BYTES], sk2[VAULT_SECRET_BYTES];
};

static inline void put_json(struct db *db, const char *entity, const char *id, json_t *o)
{
    char *t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    struct op_err e = {0};
    if (synced_put(db, entity, id, 1, t, 0, &e) != 0)
        fail_msg("synced_put %s: %s", id, e.msg);
    free(t);
    json_decref(o);
}

static inline unsigned char *compile_fixture(size_t *len)
{
    char *dir = testutil_tmpdir();
    char *zip = fs_join(dir, "t.zip");
    assert_int_equal(testzip_fixture_zip(TAKE_FIXTURE_PACKAGE, zip), 0);
    struct qti_loaded *l;
    struct op_err e = {0};
    if (qti_load(zip, NULL, &l, &e) != 0)
        fail_msg("load: %s", e.msg);
    struct buf b = {0};
    assert_int_equal(qti_compile(l, &b, &e), 0);
    qti_loaded_free(l);
    free(zip);
    testutil_rmdir(dir);
    *len = b.len;
    return (unsigned char *)b.data;
}

static inline void sealed_text(const unsigned char *key, const unsigned char *pk, char *text,
                               size_t cap)
{
    unsigned char sealed[CONTENT_SEALED_KEY_BYTES];
    struct op_err e = {0};
    assert_int_equal(content_key_seal(key, pk, sealed, &e), 0);
    vault_to_text(sealed, sizeof sealed, text, cap);
}

static inline int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->dev = fx_instance(ROLE_DEVICE);
    struct db *db = f->dev->db;
    struct op_err e = {0};
    f->results.kind = KEY_RESULTS;
    crypto_box_keypair(f->results.public_key, f->results.secret);
    key_id_of_public(f->results.public_key, f->results.id);
    char hex[2 * KEY_PUBLIC_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, f->results.public_key, KEY_PUBLIC_BYTES);
    assert_int_equal(meta_set(db, META_CENTRAL_RESULTS_KEY, hex, &e), 0);
    assert_int_equal(meta_set(db, META_CENTRAL_RESULTS_KEY_ID, f->results.id, &e), 0);
    vault_keypair(f->pk1, f->sk1);
    vault_keypair(f->pk2, f->sk2);
    /* the demo package, encrypted under a content key, as a sync leaves it */
    size_t len;
    unsigned char *bytes = compile_fixture(&len);
    unsigned char key[CONTENT_KEY_BYTES];
    content_key_generate(key);
    char *enc = NULL;
    size_t enc_len = 0;
    FILE *in = fmemopen(bytes, len, "rb");
    FILE *out = open_memstream(&enc, &enc_len);
    assert_int_equal(content_encrypt(in, out, key, D1, &e), 0);
    fclose(in);
    fclose(out);
    char enc_sha[SHA256_HEX_LEN], sha[SHA256_HEX_LEN];
    sha256_hex(enc, enc_len, enc_sha);
    sha256_hex(bytes, len, sha);
    char *path = packages_enc_path(f->dev->dir, enc_sha);
    char *slash = strrchr(path, '/');
    *slash = 0;
    assert_int_equal(fs_mkdir_p(path, 0700, &e), 0);
    *slash = '/';
    assert_int_equal(fs_write_atomic(path, enc, enc_len, 0600, &e), 0);
    free(path);
    free(enc);
    free(bytes);
    put_json(db, "test-center", CA,
             json_pack("{s:[], s:s, s:s, s:n, s:[s]}", "admins", "label", "A", "org_id", "ORG",
                       "parent_id", "proctors", P1));
    put_json(db, "delivery", D1,
             json_pack("{s:s, s:i, s:b, s:s, s:s, s:I, s:i}", "label", "Demo", "max_executions", 0,
                       "proctored_default", 0, "package_sha256", sha, "enc_sha256", enc_sha,
                       "enc_size", (json_int_t)enc_len, "content_version", 1));
    char k1[CONTENT_SEALED_KEY_BYTES * 2], k2[CONTENT_SEALED_KEY_BYTES * 2];
    sealed_text(key, f->pk1, k1, sizeof k1);
    sealed_text(key, f->pk2, k2, sizeof k2);
    sodium_memzero(key, sizeof key);
    put_json(db, "eligibility", "e-1",
             json_pack("{s:s, s:s, s:b, s:[s, s], s:[{s:s, s:s}, {s:s, s:s}], s:i}", "center_id",
                       CA, "delivery_id", D1, "proctored", 0, "test_takers", T1, T2, "content_keys",
                       "to", T1, "sealed", k1, "to", T2, "sealed", k2, "content_version", 1));
    put_json(db, "user", T1,
             json_pack("{s:s, s:s, s:[]}", "login", "t1", "role", "test-taker", "profile"));
    put_json(db, "user", T2,
             json_pack("{s:s, s:s, s:[]}", "login", "t2", "role", "test-taker", "profile"));
    assert_int_equal(runner_cache_new(4, &f->cache, &e), 0);
    now_t = 1800000000;
    clock_set(&(struct op_clock){clock_fixed, &now_t});
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    struct fixture *f = *state;
    clock_set(NULL);
    runner_cache_free(f->cache);
    key_wipe(&f->results);
    fx_instance_free(f->dev);
    free(f);
    return 0;
}

static inline struct app_taker taker1(struct fixture *f)
{
    return (struct app_taker){T1, f->pk1, f->sk1};
}

static inline char *start(struct fixture *f)
{
    struct app_execution x;
    struct op_err e = {0};
    if (app_execution_start(f->dev, T1, D1, CA, &x, &e) != 0)
        fail_msg("start: %s", e.msg);
    char *id = strdup(x.row.id);
    app_execution_clear(&x);
    return id;
}

static inline json_t *get(struct fixture *f, const char *id)
{
    struct app_taker t = taker1(f);
    json_t *out;
    struct op_err e = {0};
    if (app_take_get(f->dev, f->cache, &t, id, (double)now_t, &out, &e) != 0)
        fail_msg("get: %s", e.msg);
    return out;
}

static inline int step(struct fixture *f, const char *id, enum runner_op op, const char *body,
                       json_t **out, struct op_err *e)
{
    struct app_taker t = taker1(f);
    json_t *b = json_loads(body, 0, NULL);
    assert_non_null(b);
    *out = NULL;
    int rc = app_take_step(f->dev, f->cache, &t, id, op, b, (double)now_t, out, e);
    json_decref(b);
    return rc;
}

static inline void step_ok(struct fixture *f, const char *id, enum runner_op op, const char *body)
{
    json_t *out;
    struct op_err e = {0};
    if (step(f, id, op, body, &out, &e) != 0)
        fail_msg("%s: %s", body, e.msg);
    json_decref(out);
}

static inline const char *key_of(json_t *out)
{
    return json_string_value(json_object_get(json_object_get(out, "view"), "item_key"));
}

/* The payload of the one envelope in the outbox, opened with central's results key. */
static inline json_t *sealed_result(struct fixture *f)
{
    struct outbox_item *items;
    int n;
    struct op_err e = {0};
    assert_int_equal(outbox_pending(f->dev->db, 10, 1u << 30, &items, &n, &e), 0);
    assert_int_equal(n, 1);
    struct envelope env;
    assert_int_equal(envelope_parse(items[0].envelope, items[0].len, &env, &e), 0);
    unsigned char *payload;
    size_t len;
    assert_int_equal(envelope_open(&env, &f->results, &payload, &len, &e), 0);
    json_t *doc = json_loadb((const char *)payload, len, 0, NULL);
    assert_non_null(doc);
    free(payload);
    outbox_items_free(items, n);
    return doc;
}

/* The session the device keeps for execution `id` ("" when none), malloc'ed. */
static inline char *stored_session(struct fixture *f, const char *id)
{
    struct execution_row row;
    struct op_err e = {0};
    assert_int_equal(executions_get(f->dev->db, id, &row, &e), 0);
    char *s = row.session ? strdup(row.session) : strdup("");
    execution_row_clear(&row);
    return s;
}

/* `n` bytes of `d` in base64, malloc'ed. */
static inline char *b64(const void *d, size_t n)
{
    size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *o = malloc(cap);
    sodium_bin2base64(o, cap, d, n, sodium_base64_VARIANT_ORIGINAL);
    return o;
}

/* A key lookup that knows the one key `ctx` (central's results key). */
static inline const struct key *the_key(const char *id, void *ctx)
{
    struct key *k = ctx;
    return strcmp(id, k->id) == 0 ? k : NULL;
}

#endif
