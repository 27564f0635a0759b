/* test_sync_pull.c - the pull without HTTP: central (the tests' backend: SQLite, or PostgreSQL
 * as pg/unit/test_sync_pull) builds signed pages of an organisation's change feed
 * (sync/page.h, app/changes.h) and a device (always SQLite) applies them (sync/pull.h). Two
 * organisations: the device of ORG-A receives exactly ORG-A's scope, follows edits and
 * removals, pages with small limits, refuses every bad page without changing anything,
 * repairs drift by a full resync, and keeps its cursor when an apply fails half-way. User
 * profiles travel sealed to the user and to the proctors of their centers. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/changes.h"
#include "app/content.h"
#include "app/deliveries.h"
#include "app_instance_fixture.h"
#include "auth/credentials.h"
#include "centers_fixture.h"
#include "crypto/sign.h"
#include "qti_testzip.h"
#include "store/packages.h"
#include "store/sealed.h"
#include "store/synced.h"
#include "sync/page.h"
#include "sync/pull.h"

#define ORG_A "ORG-A"
#define ORG_B "ORG-B"

struct fixture {
    struct instance *central;
    struct instance *device;
    unsigned char pinned[KEY_PUBLIC_BYTES];
    char ca1[UUID_STR_LEN], ca2[UUID_STR_LEN], cb[UUID_STR_LEN];
    char p1[UUID_STR_LEN], p2[UUID_STR_LEN], ad[UUID_STR_LEN], sm[UUID_STR_LEN];
    char t1[UUID_STR_LEN], t2[UUID_STR_LEN], t3[UUID_STR_LEN];
    char d1[UUID_STR_LEN], d2[UUID_STR_LEN], e1[UUID_STR_LEN], e2[UUID_STR_LEN];
};

/* A device instance: always SQLite, whatever backend central is on. */
static struct instance *device_instance(void)
{
    struct instance *inst = calloc(1, sizeof *inst);
    assert_non_null(inst);
    inst->dir = testutil_tmpdir();
    inst->role = ROLE_DEVICE;
    uuid_generate(inst->id);
    char *path = fs_join(inst->dir, "outpost.db");
    struct op_err e = {0};
    if (db_open(path, 1, &inst->db, &e) != 0)
        fail_msg("db_open: %s", e.msg);
    free(path);
    return inst;
}

static const struct password_cost cheap = {1, 8};

/* A user with a real vault for `password` (cheap Argon2id). */
static void vault_user(struct db *db, const char *login, const char *role, const char *org,
                       const char *first, char id[UUID_STR_LEN])
{
    struct user u;
    memset(&u, 0, sizeof u);
    uuid_generate(u.id);
    u.login = (char *)login;
    u.role = (char *)role;
    u.org_id = (char *)org;
    u.first_name = (char *)first;
    u.label = (char *)first;
    struct credentials c;
    struct op_err e = {0};
    if (credentials_make(&cheap, u.id, login, strlen(login), NULL, &c, &e) != 0)
        fail_msg("credentials_make: %s", e.msg);
    credentials_apply(&c, &u);
    fx_begin(db);
    OK(users_insert(db, &u, fx_e));
    fx_commit(db);
    memcpy(id, u.id, UUID_STR_LEN);
    credentials_wipe(&c);
}

static void assign(struct db *db, const char *center, const char *user, const char *duty)
{
    int changed;
    fx_begin(db);
    OK(testcenters_assign(db, center, user, duty, &changed, fx_e));
    fx_commit(db);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->central = fx_instance(ROLE_CENTRAL);
    f->device = device_instance();
    struct key k;
    struct op_err e = {0};
    char *keys = fs_join(f->central->dir, "keys");
    if (keys_load_central_signing(keys, &k, &e) != 0)
        fail_msg("signing key: %s", e.msg);
    free(keys);
    memcpy(f->pinned, k.public_key, KEY_PUBLIC_BYTES);
    key_wipe(&k);
    OK(sync_device_bind_org(f->device, ORG_A, fx_e));

    struct db *db = f->central->db;
    fx_center(db, "A1", ORG_A, NULL, f->ca1);
    fx_center(db, "A2", ORG_A, NULL, f->ca2);
    fx_center(db, "B1", ORG_B, NULL, f->cb);
    vault_user(db, "p1", ROLE_PROCTOR, NULL, "Petra", f->p1);
    vault_user(db, "p2", ROLE_PROCTOR, NULL, "Paul", f->p2);
    vault_user(db, "ad", ROLE_TEST_CENTER_ADMIN, NULL, "Ada", f->ad);
    vault_user(db, "sm", ROLE_SYNC_MANAGER, ORG_A, "Sam", f->sm);
    vault_user(db, "t1", ROLE_TEST_TAKER, NULL, "Tina", f->t1);
    vault_user(db, "t2", ROLE_TEST_TAKER, NULL, "Tom", f->t2);
    vault_user(db, "t3", ROLE_TEST_TAKER, NULL, "Theo", f->t3);
    assign(db, f->ca1, f->p1, CENTER_DUTY_PROCTOR);
    assign(db, f->ca1, f->ad, CENTER_DUTY_ADMIN);
    assign(db, f->cb, f->p2, CENTER_DUTY_PROCTOR);
    fx_delivery(db, "Maths", 1, f->d1);
    fx_delivery(db, "Physics", 0, f->d2);
    const char *a[] = {f->t1, f->t2}, *b[] = {f->t3};
    fx_eligible(db, f->ca1, f->d1, a, 2, ELIGIBILITY_PROCTORED_KEEP, f->e1);
    fx_eligible(db, f->cb, f->d2, b, 1, ELIGIBILITY_PROCTORED_KEEP, f->e2);
    *state = f;
    return 0;
}

static void parsed_free(void);

static int teardown(void **state)
{
    parsed_free();
    struct fixture *f = *state;
    sync_pull_fail_after(-1);
    fx_instance_free(f->central);
    fx_instance_free(f->device);
    free(f);
    return 0;
}

static int64_t device_cursor(struct fixture *f)
{
    struct synced_state st;
    OK(sync_device_state(f->device, &st, fx_e));
    return st.cursor;
}

static int64_t device_count(struct fixture *f, const char *entity)
{
    int64_t n;
    OK(synced_count(f->device->db, entity, &n, fx_e));
    return n;
}

static int has(struct fixture *f, const char *entity, const char *id)
{
    int64_t v;
    char *data = NULL;
    struct op_err e = {0};
    int rc = synced_get(f->device->db, entity, id, &v, &data, &e);
    free(data);
    if (rc != 0 && rc != OP_ENOTFOUND)
        fail_msg("synced_get: %s", e.msg);
    return rc == 0;
}

/* The device's data equals central's scope of ORG-A, by the digest. */
static void assert_in_step(struct fixture *f)
{
    char mine[65], theirs[65];
    OK(synced_digest(f->device->db, mine, fx_e));
    OK(synced_feed_digest(f->central->db, ORG_A, theirs, fx_e));
    assert_string_equal(mine, theirs);
}

/* A signed page of `org` after `since`. */
static char *page(struct fixture *f, const char *org, int64_t since, int limit, size_t *len)
{
    char *env = NULL;
    OK(sync_changes_page(f->central, org, since, limit, &env, len, fx_e));
    return env;
}

/* Pulls until the device is caught up; sums the reports; returns the number of pages. */
static int pull_all(struct fixture *f, int limit, struct sync_apply_report *sum)
{
    memset(sum, 0, sizeof *sum);
    int pages = 0;
    for (;;) {
        assert_true(pages < 200);
        size_t len;
        char *env = page(f, ORG_A, device_cursor(f), limit, &len);
        struct sync_apply_report r;
        struct op_err e = {0};
        int rc = sync_apply_page(f->device, (unsigned char *)env, len, f->pinned, &r, &e);
        free(env);
        if (rc != 0)
            fail_msg("sync_apply_page: %s", e.msg);
        pages++;
        for (int k = 0; k < SYNC_ENT_COUNT; k++) {
            sum->counts[k].created += r.counts[k].created;
            sum->counts[k].updated += r.counts[k].updated;
            sum->counts[k].deleted += r.counts[k].deleted;
        }
        sum->records += r.records;
        sum->digest_mismatch |= r.digest_mismatch;
        sum->full_resync_done |= r.full_resync_done;
        sum->digest_checked |= r.digest_checked;
        sum->cursor = r.cursor;
        if (!r.again)
            break;
    }
    return pages;
}

/* With OUTPOST_FUZZ_SEED_DIR set, writes real pages of this fixture as seeds of
 * tests/fuzz/fuzz_changes_page.c: signed by its fixed key (the Ed25519 key of seed 32 x 0x33),
 * and one bare body. */
static void write_fuzz_seeds(struct fixture *f)
{
    const char *dir = getenv("OUTPOST_FUZZ_SEED_DIR");
    if (!dir)
        return;
    struct key k;
    memset(&k, 0, sizeof k);
    k.kind = KEY_SIGNING;
    memset(k.secret, 0x33, 32);
    crypto_sign_seed_keypair(k.public_key, k.sign_secret, k.secret);
    key_id_of_public(k.public_key, k.id);
    const int limits[] = {1000, 3};
    const char *names[] = {"last-page.signed", "first-of-several.signed"};
    for (int i = 0; i < 2; i++) {
        struct changes_page p;
        OK(changes_read(f->central, ORG_A, 0, limits[i], &p, fx_e));
        char *body, *env;
        size_t blen, elen;
        OK(sync_page_encode(&p, &body, &blen, fx_e));
        OK(sync_envelope_sign(body, blen, &k, &env, &elen, fx_e));
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *out = fopen(path, "wb");
        assert_non_null(out);
        fwrite(env, 1, elen, out);
        fclose(out);
        if (i == 1) {
            snprintf(path, sizeof path, "%s/bare-body.json", dir);
            out = fopen(path, "wb");
            assert_non_null(out);
            fwrite(body, 1, blen, out);
            fclose(out);
        }
        free(body);
        free(env);
        changes_page_free(&p);
    }
    key_wipe(&k);
}

static void test_first_pull_is_the_organisation_scope_exactly(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_report r;
    write_fuzz_seeds(f);
    assert_int_equal(pull_all(f, 1000, &r), 1);
    assert_true(r.digest_checked);
    assert_false(r.digest_mismatch);
    assert_in_step(f);
    assert_int_equal(r.counts[SYNC_ENT_TEST_CENTER].created, 2);
    assert_int_equal(r.counts[SYNC_ENT_ELIGIBILITY].created, 1);
    assert_int_equal(r.counts[SYNC_ENT_DELIVERY].created, 1);
    assert_int_equal(r.counts[SYNC_ENT_USER].created, 5); /* p1, ad, sm, t1, t2 */
    assert_int_equal(device_count(f, NULL), 9);
    assert_true(has(f, FEED_USER, f->t1) && has(f, FEED_USER, f->sm) && has(f, FEED_USER, f->ad));
    /* nothing of ORG-B */
    assert_false(has(f, FEED_TEST_CENTER, f->cb));
    assert_false(has(f, FEED_USER, f->p2));
    assert_false(has(f, FEED_USER, f->t3));
    assert_false(has(f, FEED_DELIVERY, f->d2));
    assert_false(has(f, FEED_ELIGIBILITY, f->e2));
    /* the records themselves */
    int64_t v;
    char *data;
    OK(synced_get(f->device->db, FEED_ELIGIBILITY, f->e1, &v, &data, fx_e));
    assert_non_null(strstr(data, f->t1));
    assert_non_null(strstr(data, f->d1));
    free(data);
    OK(synced_get(f->device->db, FEED_USER, f->t1, &v, &data, fx_e));
    assert_non_null(strstr(data, "\"login\":\"t1\""));
    assert_null(strstr(data, "Tina")); /* the profile is sealed */
    free(data);
    /* a no-change pull applies nothing */
    assert_int_equal(pull_all(f, 1000, &r), 1);
    assert_int_equal(r.records, 0);
    assert_false(r.digest_mismatch);
}

static void test_an_edit_on_central_updates_the_device(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    struct test_center_changes ch = {.label = "A1 renamed"};
    int changed;
    fx_begin(f->central->db);
    OK(testcenters_update(f->central->db, f->ca1, fx_center_version(f->central->db, f->ca1), &ch,
                          &changed, fx_e));
    fx_commit(f->central->db);
    pull_all(f, 1000, &r);
    assert_int_equal(r.counts[SYNC_ENT_TEST_CENTER].updated, 1);
    assert_int_equal(r.counts[SYNC_ENT_TEST_CENTER].created, 0);
    int64_t v;
    char *data;
    OK(synced_get(f->device->db, FEED_TEST_CENTER, f->ca1, &v, &data, fx_e));
    assert_non_null(strstr(data, "A1 renamed"));
    assert_int_equal(v, fx_center_version(f->central->db, f->ca1));
    free(data);
    assert_in_step(f);
}

static void test_removed_taker_deleted_proctor_and_deleted_delivery_disappear(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    struct db *db = f->central->db;
    const char *only_t1[] = {f->t1};
    fx_eligible(db, f->ca1, f->d1, only_t1, 1, ELIGIBILITY_PROCTORED_KEEP, f->e1);
    pull_all(f, 1000, &r);
    assert_false(has(f, FEED_USER, f->t2));
    assert_true(has(f, FEED_USER, f->t1));
    assert_int_equal(r.counts[SYNC_ENT_USER].deleted, 1);
    assert_int_equal(r.counts[SYNC_ENT_ELIGIBILITY].updated, 1);
    assert_in_step(f);

    fx_begin(db);
    OK(users_delete(db, f->p1, fx_e));
    fx_commit(db);
    pull_all(f, 1000, &r);
    assert_false(has(f, FEED_USER, f->p1));
    assert_in_step(f);

    fx_begin(db);
    OK(deliveries_delete(db, f->d1, fx_e));
    fx_commit(db);
    pull_all(f, 1000, &r);
    assert_false(has(f, FEED_DELIVERY, f->d1));
    assert_false(has(f, FEED_ELIGIBILITY, f->e1));
    assert_false(has(f, FEED_USER, f->t1)); /* no eligibility left in ORG-A */
    assert_in_step(f);
}

static void test_small_pages_give_the_same_scope(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_report r;
    int pages = pull_all(f, 2, &r);
    assert_true(pages >= 5);
    assert_int_equal(device_count(f, NULL), 9);
    assert_false(r.digest_mismatch);
    assert_in_step(f);
    /* bad limits and cursors are refused */
    struct changes_page p;
    struct op_err e = {0};
    assert_int_equal(changes_read(f->central, ORG_A, 0, 0, &p, &e), OP_EINPUT);
    assert_int_equal(changes_read(f->central, ORG_A, 0, 1001, &p, &e), OP_EINPUT);
    assert_int_equal(changes_read(f->central, ORG_A, -1, 10, &p, &e), OP_EINPUT);
    assert_int_equal(changes_read(f->central, "", 0, 10, &p, &e), OP_EINPUT);
    char *env = NULL;
    size_t len = 0;
    assert_int_equal(sync_changes_page(f->central, ORG_A, 0, 1001, &env, &len, &e), OP_EINPUT);
    assert_int_equal(sync_changes_page(f->central, ORG_A, 0, 0, &env, &len, &e), OP_EINPUT);
    assert_null(env);
    /* the device cannot serve pages, central cannot apply them */
    assert_int_equal(changes_read(f->device, ORG_A, 0, 10, &p, &e), OP_ESTATE);
    env = page(f, ORG_A, 0, 10, &len);
    struct sync_apply_report rep;
    assert_int_equal(sync_apply_page(f->central, (unsigned char *)env, len, f->pinned, &rep, &e),
                     OP_ESTATE);
    free(env);
}

/* Applies `env` and expects `code`, with nothing changed on the device. */
static void refused(struct fixture *f, const char *env, size_t len, int code)
{
    char before[65], after[65];
    OK(synced_digest(f->device->db, before, fx_e));
    int64_t cursor = device_cursor(f);
    struct sync_apply_report r;
    struct op_err e = {0};
    int rc = sync_apply_page(f->device, (const unsigned char *)env, len, f->pinned, &r, &e);
    if (rc != code)
        fail_msg("expected %d, got %d: %s", code, rc, e.msg);
    assert_true(e.msg[0] != '\0');
    OK(synced_digest(f->device->db, after, fx_e));
    assert_string_equal(before, after);
    assert_int_equal(device_cursor(f), cursor);
}

/* Re-signs the envelope with another envelope's body, or another key. */
static char *envelope_with(const char *body, size_t blen, const char *keys_dir, size_t *len)
{
    struct key k;
    OK(keys_load_central_signing(keys_dir, &k, fx_e));
    char *env;
    OK(sync_envelope_sign(body, blen, &k, &env, len, fx_e));
    key_wipe(&k);
    return env;
}

static void test_bad_pages_apply_nothing(void **state)
{
    struct fixture *f = *state;
    size_t len;
    char *good = page(f, ORG_A, 0, 3, &len);

    /* a signature with one character changed */
    char *bad = malloc(len);
    assert_non_null(bad);
    memcpy(bad, good, len);
    size_t sig_at = sizeof SYNC_ENVELOPE_MAGIC + 16 + 1;
    bad[sig_at + 3] = bad[sig_at + 3] == 'A' ? 'B' : 'A';
    refused(f, bad, len, OP_ECRYPTO);

    /* the body altered (one character of the page JSON), the signature kept */
    memcpy(bad, good, len);
    char *at = memmem(bad + SYNC_ENVELOPE_HEAD_LEN, len - SYNC_ENVELOPE_HEAD_LEN, "\"ORG-A\"", 7);
    assert_non_null(at);
    at[5] = 'Z';
    refused(f, bad, len, OP_ECRYPTO);
    /* ... and a byte added after the body */
    char *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, good, len);
    longer[len] = ' ';
    refused(f, longer, len + 1, OP_ECRYPTO);
    free(longer);
    /* ... a head that is not one: no newline where it ends, a key id not hex, v1's JSON */
    memcpy(bad, good, len);
    bad[SYNC_ENVELOPE_HEAD_LEN - 1] = ' ';
    refused(f, bad, len, OP_EINPUT);
    memcpy(bad, good, len);
    bad[sizeof SYNC_ENVELOPE_MAGIC] = 'G';
    refused(f, bad, len, OP_EINPUT);
    const char *v1 = "{\"body\":\"e30=\",\"key_id\":\"0011223344556677\",\"signature\":\"\"}";
    refused(f, v1, strlen(v1), OP_EINPUT);

    /* the same body signed by another central's key */
    const char *body = good + SYNC_ENVELOPE_HEAD_LEN;
    size_t blen = len - SYNC_ENVELOPE_HEAD_LEN;
    char *other = testutil_tmpdir();
    char *okeys = fs_join(other, "keys");
    OK(keys_setup_central(okeys, NULL, fx_e));
    size_t elen;
    char *forged = envelope_with(body, blen, okeys, &elen);
    refused(f, forged, elen, OP_ECRYPTO);
    /* ... with the key id of the pinned key put in its place */
    memcpy(forged + sizeof SYNC_ENVELOPE_MAGIC, good + sizeof SYNC_ENVELOPE_MAGIC, 16);
    refused(f, forged, elen, OP_ECRYPTO);
    free(forged);
    free(okeys);
    testutil_rmdir(other);
    free(bad);

    /* a genuine page of the other organisation */
    char *page_b = page(f, ORG_B, 0, 100, &elen);
    refused(f, page_b, elen, OP_EINPUT);
    free(page_b);

    /* not a page, truncated (the signature covers the whole body), empty, over the limit */
    refused(f, "not json", 8, OP_EINPUT);
    refused(f, good, len / 2, OP_ECRYPTO);
    refused(f, good, SYNC_ENVELOPE_HEAD_LEN - 1, OP_EINPUT);
    refused(f, "{}", 2, OP_EINPUT);
    refused(f, good, SYNC_ENVELOPE_MAX_BYTES + 1, OP_EINPUT);

    /* the good page applies; replayed, it is refused */
    struct sync_apply_report r;
    OK(sync_apply_page(f->device, (unsigned char *)good, len, f->pinned, &r, fx_e));
    assert_int_equal(r.records, 3);
    assert_true(r.again);
    refused(f, good, len, OP_ECONFLICT);
    free(good);

    /* a device bound to no organisation applies nothing */
    struct instance *unbound = device_instance();
    good = page(f, ORG_A, 0, 3, &len);
    struct op_err e = {0};
    assert_int_equal(sync_apply_page(unbound, (unsigned char *)good, len, f->pinned, &r, &e),
                     OP_ESTATE);
    free(good);
    fx_instance_free(unbound);
}

static struct user user_from_synced(struct fixture *f, const char *id, json_t **root)
{
    int64_t v;
    char *data;
    OK(synced_get(f->device->db, FEED_USER, id, &v, &data, fx_e));
    *root = json_loads(data, 0, NULL);
    free(data);
    assert_non_null(*root);
    struct user u;
    memset(&u, 0, sizeof u);
    snprintf(u.id, sizeof u.id, "%s", id);
    u.login = (char *)json_string_value(json_object_get(*root, "login"));
    u.password_hash = (char *)json_string_value(json_object_get(*root, "password_hash"));
    u.vault_public_key = (char *)json_string_value(json_object_get(*root, "vault_public_key"));
    u.vault_secret_wrapped =
        (char *)json_string_value(json_object_get(*root, "vault_secret_wrapped"));
    return u;
}

/* Opens the profile of `data` sealed to `to` with the key pair (pk, sk); 0 or OP_ECRYPTO. */
static int open_profile(json_t *data, const char *to, const unsigned char *pk,
                        const unsigned char *sk, char *out, size_t cap)
{
    json_t *arr = json_object_get(data, "profile"), *it;
    size_t i;
    const char *text = NULL;
    json_array_foreach(arr, i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "to")), to) == 0)
            text = json_string_value(json_object_get(it, "sealed"));
    }
    if (!text)
        return OP_ENOTFOUND;
    size_t n = strlen(text) * 3 / 4;
    unsigned char *bin = malloc(n + 1);
    struct op_err e = {0};
    size_t got = 0;
    int rc = sodium_base642bin(bin, n + 1, text, strlen(text), NULL, &got, NULL,
                               sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_int_equal(rc, 0);
    assert_true(got - VAULT_SEAL_OVERHEAD < cap);
    rc = vault_open(pk, sk, bin, got, (unsigned char *)out, &e);
    if (rc == 0)
        out[got - VAULT_SEAL_OVERHEAD] = '\0';
    free(bin);
    return rc;
}

static void test_profiles_are_sealed_to_the_user_and_their_proctors(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    json_t *t1root, *p1root;
    struct user t1 = user_from_synced(f, f->t1, &t1root);
    struct user p1 = user_from_synced(f, f->p1, &p1root);
    unsigned char tpk[VAULT_PUBLIC_BYTES], tsk[VAULT_SECRET_BYTES];
    unsigned char ppk[VAULT_PUBLIC_BYTES], psk[VAULT_SECRET_BYTES];
    /* the device checks passwords offline with what it received */
    struct op_err e = {0};
    assert_int_equal(credentials_unlock(&t1, "wrong", 5, tpk, tsk, &e), OP_ECRYPTO);
    OK(credentials_unlock(&t1, "t1", 2, tpk, tsk, fx_e));
    OK(credentials_unlock(&p1, "p1", 2, ppk, psk, fx_e));
    char prof[512];
    assert_int_equal(open_profile(t1root, f->t1, tpk, tsk, prof, sizeof prof), 0);
    assert_non_null(strstr(prof, "\"first_name\":\"Tina\""));
    assert_int_equal(open_profile(t1root, f->p1, ppk, psk, prof, sizeof prof), 0); /* CA1 */
    assert_non_null(strstr(prof, "Tina"));
    /* sealed to no one else: not to p2 (ORG-B), not to the admin */
    assert_int_equal(json_array_size(json_object_get(t1root, "profile")), 2);
    /* another user's key does not open what was sealed to p1 */
    assert_int_equal(open_profile(t1root, f->p1, tpk, tsk, prof, sizeof prof), OP_ECRYPTO);
    /* on central, p2 (a proctor of another organisation's center) has its own key */
    struct user p2;
    OK(users_get_by_id(f->central->db, f->p2, &p2, fx_e));
    unsigned char p2pk[VAULT_PUBLIC_BYTES], p2sk[VAULT_SECRET_BYTES];
    OK(credentials_unlock(&p2, "p2", 2, p2pk, p2sk, fx_e));
    assert_int_equal(open_profile(t1root, f->p1, p2pk, p2sk, prof, sizeof prof), OP_ECRYPTO);
    user_clear(&p2);
    /* no secret escrow copy travels */
    assert_null(json_object_get(t1root, "vault_secret_escrow"));
    json_decref(t1root);
    json_decref(p1root);
}

/* ---- encrypted packages and their content keys ---- */

/* The synced record `entity`/`id` as JSON (caller decrefs). */
static json_t *synced_json(struct fixture *f, const char *entity, const char *id)
{
    int64_t v;
    char *data;
    OK(synced_get(f->device->db, entity, id, &v, &data, fx_e));
    json_t *o = json_loads(data, 0, NULL);
    free(data);
    assert_non_null(o);
    return o;
}

/* The vault key pair of synced user `id`, unlocked with `password`. */
static void unlock(struct fixture *f, const char *id, const char *password,
                   unsigned char pk[VAULT_PUBLIC_BYTES], unsigned char sk[VAULT_SECRET_BYTES])
{
    json_t *root;
    struct user u = user_from_synced(f, id, &root);
    OK(credentials_unlock(&u, password, strlen(password), pk, sk, fx_e));
    json_decref(root);
}

/* The delivery `id` as the device received it: the reference of its encrypted package. */
static void delivery_ref(struct fixture *f, const char *id, struct app_content_ref *r)
{
    json_t *d = synced_json(f, FEED_DELIVERY, id);
    memset(r, 0, sizeof *r);
    snprintf(r->delivery_id, sizeof r->delivery_id, "%s", id);
    assert_true(json_is_string(json_object_get(d, "enc_sha256")));
    snprintf(r->enc_sha256, sizeof r->enc_sha256, "%s",
             json_string_value(json_object_get(d, "enc_sha256")));
    r->enc_size = (uint64_t)json_integer_value(json_object_get(d, "enc_size"));
    r->version = json_integer_value(json_object_get(d, "content_version"));
    assert_true(r->version >= 1);
    json_decref(d);
}

/* Fetches the encrypted package of `r` from central as a download would. */
static void fetch_package(struct fixture *f, const struct app_content_ref *r)
{
    char *src = packages_enc_path(f->central->dir, r->enc_sha256);
    char *bytes;
    size_t len;
    OK(fs_read_file(src, 64u << 20, &bytes, &len, fx_e));
    assert_int_equal(len, r->enc_size);
    char *dst = fs_join(f->device->dir, "download.part");
    OK(fs_write_atomic(dst, bytes, len, 0600, fx_e));
    OK(app_content_store_downloaded(f->device, r->delivery_id, r->version, r->enc_sha256, dst,
                                    fx_e));
    free(bytes);
    free(src);
    free(dst);
}

/* The content key eligibility `el` carries for `to`, decoded into `out`; 0 when there is none. */
static size_t sealed_key_for(json_t *el, const char *to,
                             unsigned char out[CONTENT_SEALED_KEY_BYTES])
{
    json_t *it;
    size_t i;
    json_array_foreach(json_object_get(el, "content_keys"), i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "to")), to) != 0)
            continue;
        const char *text = json_string_value(json_object_get(it, "sealed"));
        size_t got = 0;
        assert_int_equal(sodium_base642bin(out, CONTENT_SEALED_KEY_BYTES, text, strlen(text), NULL,
                                           &got, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                         0);
        assert_int_equal(got, CONTENT_SEALED_KEY_BYTES);
        return got;
    }
    return 0;
}

/* Opens the package `r` with the key sealed to `to` in eligibility `el`, opened with (pk, sk);
 * the clear bytes in *clear (caller frees). */
static int open_package(struct fixture *f, const struct app_content_ref *r, json_t *el,
                        const char *to, const unsigned char *pk, const unsigned char *sk,
                        char **clear, size_t *clen)
{
    unsigned char sealed[CONTENT_SEALED_KEY_BYTES];
    *clear = NULL;
    *clen = 0;
    if (sealed_key_for(el, to, sealed) == 0)
        return OP_ENOTFOUND;
    FILE *out = open_memstream(clear, clen);
    struct op_err e = {0};
    int rc = app_content_open_for(f->device, r, sealed, sizeof sealed, pk, sk, out, &e);
    fclose(out);
    return rc;
}

/* The compiled package `sha` on central (caller frees). */
static unsigned char *compiled_package(struct fixture *f, const char *sha, size_t *len)
{
    unsigned char *bytes;
    OK(packages_get(f->central->dir, sha, 64u << 20, &bytes, len, fx_e));
    return bytes;
}

/* With OUTPOST_FUZZ_SEED_DIR set, writes the bare body of ORG-A's first page as seed `name`. */
static void write_fuzz_body(struct fixture *f, const char *name)
{
    const char *dir = getenv("OUTPOST_FUZZ_SEED_DIR");
    if (!dir)
        return;
    struct changes_page p;
    OK(changes_read(f->central, ORG_A, 0, 1000, &p, fx_e));
    char *body;
    size_t blen;
    OK(sync_page_encode(&p, &body, &blen, fx_e));
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    fwrite(body, 1, blen, out);
    fclose(out);
    free(body);
    changes_page_free(&p);
}

static void test_content_keys_reach_the_device_sealed_to_eligible_test_takers(void **state)
{
    struct fixture *f = *state;
    char *zip = fs_join(f->central->dir, "demo.zip"), *zip2 = fs_join(f->central->dir, "o.zip");
    assert_int_equal(testzip_fixture_zip("demo/qti-test", zip), 0);
    assert_int_equal(testzip_fixture_zip("rule-number-correct", zip2), 0);
    struct delivery d;
    const struct app_deliveries_import_in in = {zip, "Chemistry", 0, 0, 0};
    OK(app_deliveries_import(f->central, &in, &d, fx_e));
    const char *both[] = {f->t1, f->t2};
    char el_id[UUID_STR_LEN];
    fx_eligible(f->central->db, f->ca2, d.id, both, 2, ELIGIBILITY_PROCTORED_KEEP, el_id);
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    assert_in_step(f);
    write_fuzz_body(f, "content-keys-body.json");

    /* the delivery names its encrypted package; the eligibility its key, sealed to each */
    struct app_content_ref ref;
    delivery_ref(f, d.id, &ref);
    struct delivery_content c;
    OK(app_content_get(f->central, d.id, 0, &c, fx_e));
    assert_string_equal(ref.enc_sha256, c.enc_sha256);
    assert_int_equal(ref.enc_size, (uint64_t)c.enc_size);
    json_t *el = synced_json(f, FEED_ELIGIBILITY, el_id);
    assert_int_equal(json_array_size(json_object_get(el, "content_keys")), 2);
    assert_int_equal(json_integer_value(json_object_get(el, "content_version")), ref.version);
    /* a delivery without a package (fixture's Maths) names none */
    json_t *maths = synced_json(f, FEED_DELIVERY, f->d1);
    assert_true(json_is_null(json_object_get(maths, "enc_sha256")));
    json_decref(maths);
    json_t *e1 = synced_json(f, FEED_ELIGIBILITY, f->e1);
    assert_int_equal(json_array_size(json_object_get(e1, "content_keys")), 0);
    json_decref(e1);

    /* t1's key opens the package to the exact compiled test; t2's key cannot open t1's */
    fetch_package(f, &ref);
    unsigned char pk1[VAULT_PUBLIC_BYTES], sk1[VAULT_SECRET_BYTES];
    unsigned char pk2[VAULT_PUBLIC_BYTES], sk2[VAULT_SECRET_BYTES];
    unlock(f, f->t1, "t1", pk1, sk1);
    unlock(f, f->t2, "t2", pk2, sk2);
    char *clear;
    size_t clen, want_len;
    assert_int_equal(open_package(f, &ref, el, f->t1, pk1, sk1, &clear, &clen), 0);
    unsigned char *want = compiled_package(f, d.package_sha256, &want_len);
    assert_int_equal(clen, want_len);
    assert_memory_equal(clear, want, clen);
    free(clear);
    free(want);
    assert_int_equal(open_package(f, &ref, el, f->t1, pk2, sk2, &clear, &clen), OP_ECRYPTO);
    free(clear);
    assert_int_equal(open_package(f, &ref, el, f->t2, pk2, sk2, &clear, &clen), 0);
    free(clear);
    /* no clear key anywhere in the page: a stolen device holds only sealed keys */
    unsigned char key[CONTENT_SEALED_KEY_BYTES];
    assert_int_equal(sealed_key_for(el, f->p1, key), 0);
    json_decref(el);

    /* t2 removed from the eligibility: the device no longer has a key for t2 */
    const char *only_t1[] = {f->t1};
    fx_eligible(f->central->db, f->ca2, d.id, only_t1, 1, ELIGIBILITY_PROCTORED_KEEP, el_id);
    pull_all(f, 1000, &r);
    el = synced_json(f, FEED_ELIGIBILITY, el_id);
    assert_int_equal(json_array_size(json_object_get(el, "content_keys")), 1);
    assert_int_equal(sealed_key_for(el, f->t2, key), 0);
    assert_true(sealed_key_for(el, f->t1, key) > 0);
    json_decref(el);

    /* a new package: the device gets a new hash and a key that opens it */
    const struct app_deliveries_update_in up = {d.id, NULL, -1, -1, 0, zip2};
    struct delivery d2;
    OK(app_deliveries_update(f->central, &up, &d2, NULL, fx_e));
    pull_all(f, 1000, &r);
    assert_int_equal(r.counts[SYNC_ENT_DELIVERY].updated, 1);
    assert_int_equal(r.counts[SYNC_ENT_ELIGIBILITY].updated, 1);
    assert_in_step(f);
    struct app_content_ref ref2;
    delivery_ref(f, d.id, &ref2);
    assert_string_not_equal(ref2.enc_sha256, ref.enc_sha256);
    assert_true(ref2.version > ref.version);
    fetch_package(f, &ref2);
    el = synced_json(f, FEED_ELIGIBILITY, el_id);
    assert_int_equal(json_integer_value(json_object_get(el, "content_version")), ref2.version);
    assert_int_equal(open_package(f, &ref2, el, f->t1, pk1, sk1, &clear, &clen), 0);
    want = compiled_package(f, d2.package_sha256, &want_len);
    assert_int_equal(clen, want_len);
    assert_memory_equal(clear, want, clen);
    free(clear);
    free(want);
    /* the new key does not open the old package */
    assert_int_equal(open_package(f, &ref, el, f->t1, pk1, sk1, &clear, &clen), OP_ECRYPTO);
    free(clear);
    json_decref(el);
    delivery_clear(&d);
    delivery_clear(&d2);
    free(zip);
    free(zip2);
}

static void test_an_encrypted_copy_made_later_reaches_the_device(void **state)
{
    struct fixture *f = *state;
    /* a delivery whose package was recorded without an encrypted copy (from before) */
    char *zip = fs_join(f->central->dir, "demo.zip");
    assert_int_equal(testzip_fixture_zip("demo/qti-test", zip), 0);
    struct delivery d;
    const struct app_deliveries_import_in in = {zip, "Biology", 0, 0, 0};
    OK(app_deliveries_import(f->central, &in, &d, fx_e));
    struct op_err e = {0};
    assert_int_equal(db_exec(f->central->db, "DELETE FROM delivery_content", &e), 0);
    const char *a[] = {f->t1};
    char el_id[UUID_STR_LEN];
    fx_eligible(f->central->db, f->ca1, d.id, a, 1, ELIGIBILITY_PROCTORED_KEEP, el_id);
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    json_t *o = synced_json(f, FEED_DELIVERY, d.id);
    assert_true(json_is_null(json_object_get(o, "enc_sha256")));
    json_decref(o);
    int made = 0;
    OK(app_content_ensure(f->central, d.id, &made, fx_e));
    assert_int_equal(made, 1);
    pull_all(f, 1000, &r);
    assert_int_equal(r.counts[SYNC_ENT_DELIVERY].updated, 1);
    assert_int_equal(r.counts[SYNC_ENT_ELIGIBILITY].updated, 1);
    struct app_content_ref ref;
    delivery_ref(f, d.id, &ref);
    fetch_package(f, &ref);
    o = synced_json(f, FEED_ELIGIBILITY, el_id);
    unsigned char pk[VAULT_PUBLIC_BYTES], sk[VAULT_SECRET_BYTES];
    unlock(f, f->t1, "t1", pk, sk);
    char *clear;
    size_t clen;
    assert_int_equal(open_package(f, &ref, o, f->t1, pk, sk, &clear, &clen), 0);
    assert_true(clen > 0);
    free(clear);
    json_decref(o);
    assert_in_step(f);
    delivery_clear(&d);
    free(zip);
}

/* A last page holding one record of `entity` with `data`, parsed: 0 or the error. */
static int parse_one(const char *entity, const char *data)
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"format\":\"outpost changes v1\",\"org\":\"O\",\"since\":0,\"next\":1,"
             "\"has_more\":false,\"max_seq\":1,\"digest\":\"%064d\",\"records\":[{\"seq\":1,"
             "\"entity\":\"%s\",\"id\":\"x\",\"version\":1,\"deleted\":false,\"data\":%s}]}",
             0, entity, data);
    struct sync_page p;
    struct op_err e = {0};
    int rc = sync_page_parse((const unsigned char *)body, strlen(body), &p, &e);
    if (rc == 0)
        sync_page_free(&p);
    else
        assert_true(e.msg[0] != '\0');
    return rc;
}

static void test_bad_content_fields_are_refused(void **state)
{
    (void)state;
    char k[SYNC_SEALED_KEY_TEXT_LEN + 1], data[1024];
    memset(k, 'A', SYNC_SEALED_KEY_TEXT_LEN);
    k[SYNC_SEALED_KEY_TEXT_LEN] = '\0';
    const char *sha = "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"";
#define DEL(s, z, v) "{\"enc_sha256\":" s ",\"enc_size\":" z ",\"content_version\":" v "}"
    assert_int_equal(parse_one("delivery", DEL("null", "null", "null")), 0);
    snprintf(data, sizeof data, DEL("%s", "10", "2"), sha);
    assert_int_equal(parse_one("delivery", data), 0);
    assert_int_equal(parse_one("delivery", "{}"), OP_EINPUT);
    assert_int_equal(parse_one("delivery", DEL("\"abc\"", "10", "2")), OP_EINPUT);
    snprintf(data, sizeof data, DEL("%s", "-1", "2"), sha);
    assert_int_equal(parse_one("delivery", data), OP_EINPUT);
    snprintf(data, sizeof data, DEL("%s", "10", "0"), sha);
    assert_int_equal(parse_one("delivery", data), OP_EINPUT);
    snprintf(data, sizeof data, DEL("%s", "null", "null"), sha);
    assert_int_equal(parse_one("delivery", data), OP_EINPUT);
#define EL(t, keys, v) "{\"test_takers\":" t ",\"content_keys\":" keys ",\"content_version\":" v "}"
    assert_int_equal(parse_one("eligibility", EL("[\"a\",\"b\"]", "[]", "null")), 0);
    snprintf(data, sizeof data, EL("[\"a\",\"b\"]", "[{\"to\":\"b\",\"sealed\":\"%s\"}]", "3"), k);
    assert_int_equal(parse_one("eligibility", data), 0);
    /* a key for someone not listed, twice for one, out of order, of the wrong length, extra */
    snprintf(data, sizeof data, EL("[\"a\"]", "[{\"to\":\"z\",\"sealed\":\"%s\"}]", "3"), k);
    assert_int_equal(parse_one("eligibility", data), OP_EINPUT);
    snprintf(data, sizeof data,
             EL("[\"a\",\"b\"]",
                "[{\"to\":\"a\",\"sealed\":\"%s\"},{\"to\":\"a\",\"sealed\":\"%s\"}]", "3"),
             k, k);
    assert_int_equal(parse_one("eligibility", data), OP_EINPUT);
    snprintf(data, sizeof data,
             EL("[\"a\",\"b\"]",
                "[{\"to\":\"b\",\"sealed\":\"%s\"},{\"to\":\"a\",\"sealed\":\"%s\"}]", "3"),
             k, k);
    assert_int_equal(parse_one("eligibility", data), OP_EINPUT);
    assert_int_equal(
        parse_one("eligibility", EL("[\"a\"]", "[{\"to\":\"a\",\"sealed\":\"AAAA\"}]", "3")),
        OP_EINPUT);
    snprintf(data, sizeof data, EL("[\"a\"]", "[{\"to\":\"a\",\"sealed\":\"%s\",\"x\":1}]", "3"),
             k);
    assert_int_equal(parse_one("eligibility", data), OP_EINPUT);
    /* keys without a version, a bad version, test takers that are not ids */
    snprintf(data, sizeof data, EL("[\"a\"]", "[{\"to\":\"a\",\"sealed\":\"%s\"}]", "null"), k);
    assert_int_equal(parse_one("eligibility", data), OP_EINPUT);
    assert_int_equal(parse_one("eligibility", EL("[\"a\"]", "[]", "0")), OP_EINPUT);
    assert_int_equal(parse_one("eligibility", EL("[1]", "[]", "null")), OP_EINPUT);
    assert_int_equal(parse_one("eligibility", EL("{}", "[]", "null")), OP_EINPUT);
    assert_int_equal(parse_one("eligibility", "{\"test_takers\":[]}"), OP_EINPUT);
#undef DEL
#undef EL
}

static void test_profiles_are_sealed_again_when_proctors_change(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    unsigned char ppk[VAULT_PUBLIC_BYTES], psk[VAULT_SECRET_BYTES];
    struct user p2;
    OK(users_get_by_id(f->central->db, f->p2, &p2, fx_e));
    OK(credentials_unlock(&p2, "p2", 2, ppk, psk, fx_e));
    user_clear(&p2);
    char prof[512];
    json_t *t1 = synced_json(f, FEED_USER, f->t1);
    assert_int_equal(open_profile(t1, f->p2, ppk, psk, prof, sizeof prof), OP_ENOTFOUND);
    json_decref(t1);

    /* p2 becomes a proctor of A1 after the first sync: the next pull brings t1 and t2 again,
     * sealed to p2 as well */
    assign(f->central->db, f->ca1, f->p2, CENTER_DUTY_PROCTOR);
    pull_all(f, 1000, &r);
    assert_true(r.counts[SYNC_ENT_USER].updated >= 2);
    assert_in_step(f);
    t1 = synced_json(f, FEED_USER, f->t1);
    assert_int_equal(open_profile(t1, f->p2, ppk, psk, prof, sizeof prof), 0);
    assert_non_null(strstr(prof, "Tina"));
    assert_non_null(json_object_get(t1, "profile"));
    json_decref(t1);
    json_t *t2 = synced_json(f, FEED_USER, f->t2);
    assert_int_equal(open_profile(t2, f->p2, ppk, psk, prof, sizeof prof), 0);
    json_decref(t2);
    /* the admin's own profile too (they are staff of A1) */
    json_t *ad = synced_json(f, FEED_USER, f->ad);
    assert_int_equal(open_profile(ad, f->p2, ppk, psk, prof, sizeof prof), 0);
    json_decref(ad);

    /* p1 removed from A1: the new copies are not sealed to p1 any more */
    fx_begin(f->central->db);
    OK(testcenters_unassign(f->central->db, f->ca1, f->p1, CENTER_DUTY_PROCTOR, fx_e));
    fx_commit(f->central->db);
    pull_all(f, 1000, &r);
    assert_in_step(f);
    t1 = synced_json(f, FEED_USER, f->t1);
    json_t *arr = json_object_get(t1, "profile"), *it;
    size_t i;
    json_array_foreach(arr, i, it)
        assert_string_not_equal(json_string_value(json_object_get(it, "to")), f->p1);
    assert_int_equal(json_array_size(arr), 2); /* t1 and p2 */
    json_decref(t1);

    /* the same through testcenters_set_staff (imports): p1 back, p2 out */
    const char *only_p1[] = {f->p1};
    int changed;
    fx_begin(f->central->db);
    OK(testcenters_set_staff(f->central->db, f->ca1, CENTER_DUTY_PROCTOR, only_p1, 1, &changed,
                             fx_e));
    fx_commit(f->central->db);
    pull_all(f, 1000, &r);
    assert_in_step(f);
    t1 = synced_json(f, FEED_USER, f->t1);
    assert_int_equal(open_profile(t1, f->p2, ppk, psk, prof, sizeof prof), OP_ENOTFOUND);
    assert_int_equal(json_array_size(json_object_get(t1, "profile")), 2); /* t1 and p1 */
    json_decref(t1);
}

/* A center's record lists its proctors and administrators (the device lets only them act on
 * its executions, app/executions.h), and a staff change reaches the device. */
static int staff_has(json_t *center, const char *list, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(center, list), i,
                       v) if (strcmp(json_string_value(v), id) == 0) return 1;
    return 0;
}

static void test_centers_reach_the_device_with_their_proctors_and_admins(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    json_t *c = synced_json(f, FEED_TEST_CENTER, f->ca1);
    assert_true(staff_has(c, "proctors", f->p1));
    assert_false(staff_has(c, "proctors", f->ad));
    assert_true(staff_has(c, "admins", f->ad));
    assert_false(staff_has(c, "proctors", f->p2));
    json_decref(c);
    assign(f->central->db, f->ca1, f->p2, CENTER_DUTY_PROCTOR);
    fx_begin(f->central->db);
    OK(testcenters_unassign(f->central->db, f->ca1, f->p1, CENTER_DUTY_PROCTOR, fx_e));
    fx_commit(f->central->db);
    pull_all(f, 1000, &r);
    assert_in_step(f);
    c = synced_json(f, FEED_TEST_CENTER, f->ca1);
    assert_true(staff_has(c, "proctors", f->p2));
    assert_false(staff_has(c, "proctors", f->p1));
    json_decref(c);
}

static void test_drift_triggers_a_full_resync_that_repairs_it(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    struct op_err e = {0};
    /* a row lost, a row changed, a row central never sent */
    assert_int_equal(
        db_exec(f->device->db, "DELETE FROM synced_records WHERE entity = 'delivery'", &e), 0);
    assert_int_equal(db_exec(f->device->db,
                             "UPDATE synced_records SET version = 7 WHERE entity = 'test-center'",
                             &e),
                     0);
    assert_int_equal(db_exec(f->device->db,
                             "INSERT INTO synced_records (entity, id, version, data) VALUES"
                             " ('user', 'stray', 1, '{}')",
                             &e),
                     0);
    pull_all(f, 3, &r);
    assert_true(r.digest_mismatch);
    assert_true(r.full_resync_done);
    assert_true(has(f, FEED_DELIVERY, f->d1));
    assert_false(has(f, FEED_USER, "stray"));
    assert_int_equal(device_count(f, NULL), 9);
    assert_in_step(f);
    struct synced_state st;
    OK(sync_device_state(f->device, &st, fx_e));
    assert_int_equal(st.full_resync, 0);
    /* and the next pull is quiet again */
    pull_all(f, 1000, &r);
    assert_false(r.digest_mismatch);
    assert_int_equal(r.records, 0);
}

static void test_a_failure_mid_apply_keeps_the_old_cursor(void **state)
{
    struct fixture *f = *state;
    size_t len;
    char *env = page(f, ORG_A, 0, 1000, &len);
    sync_pull_fail_after(4);
    struct sync_apply_report r;
    struct op_err e = {0};
    assert_int_equal(sync_apply_page(f->device, (unsigned char *)env, len, f->pinned, &r, &e),
                     OP_EIO);
    assert_int_equal(r.records, 0);
    assert_int_equal(device_cursor(f), 0);
    assert_int_equal(device_count(f, NULL), 0);
    sync_pull_fail_after(-1);
    OK(sync_apply_page(f->device, (unsigned char *)env, len, f->pinned, &r, fx_e));
    assert_int_equal(device_count(f, NULL), 9);
    assert_in_step(f);
    free(env);
    /* the apply body can run twice (db_write retries lost races) */
    struct instance *dev2 = device_instance();
    OK(sync_device_bind_org(dev2, ORG_A, fx_e));
    env = page(f, ORG_A, 0, 1000, &len);
    db_lose_races(dev2->db, 1);
    OK(sync_apply_page(dev2, (unsigned char *)env, len, f->pinned, &r, fx_e));
    assert_int_equal(r.counts[SYNC_ENT_USER].created, 5);
    free(env);
    fx_instance_free(dev2);
}

/* Pages held (verified, parsed) and applied together in one transaction, as `outpost sync`
 * applies a batch (sync/run.c): the same scope as page by page, the cursor after the last
 * page; a batch with a page that does not follow the one before applies none of its pages,
 * not even those before it. */
static void test_a_batch_of_pages_is_applied_all_or_none(void **state)
{
    struct fixture *f = *state;
    struct sync_held_page h[16];
    struct sync_apply_report rep[16];
    int n = 0;
    int64_t since = 0;
    for (;;) {
        assert_true(n < 16);
        size_t len;
        char *env = page(f, ORG_A, since, 2, &len);
        OK(sync_page_hold((unsigned char *)env, len, f->pinned, &h[n], fx_e));
        free(env);
        n++;
        if (!h[n - 1].page.has_more)
            break;
        since = h[n - 1].page.next;
    }
    assert_true(n >= 5);
    /* a tampered envelope is not held */
    size_t len;
    char *env = page(f, ORG_A, 0, 2, &len);
    env[len - 2] ^= 1;
    struct sync_held_page bad;
    struct op_err e = {0};
    assert_true(sync_page_hold((unsigned char *)env, len, f->pinned, &bad, &e) != 0);
    free(env);

    /* pages 1 and 3: the first applies inside the transaction, the second does not follow it */
    struct sync_held_page skip[2] = {h[0], h[2]}; /* borrowed: freed as h */
    assert_int_equal(sync_apply_pages(f->device, skip, 2, rep, &e), OP_ECONFLICT);
    assert_int_equal(rep[0].records, 0);
    assert_int_equal(device_cursor(f), 0);
    assert_int_equal(device_count(f, NULL), 0);
    /* nor on a central */
    assert_int_equal(sync_apply_pages(f->central, h, n, rep, &e), OP_ESTATE);

    /* all of them, in one transaction */
    OK(sync_apply_pages(f->device, h, n, rep, fx_e));
    int records = 0;
    for (int i = 0; i < n; i++) {
        records += rep[i].records;
        assert_int_equal(rep[i].again, i < n - 1);
    }
    assert_int_equal(records, 9);
    assert_true(rep[n - 1].digest_checked);
    assert_false(rep[n - 1].digest_mismatch);
    assert_int_equal(device_count(f, NULL), 9);
    assert_int_equal(device_cursor(f), h[n - 1].page.next);
    assert_in_step(f);
    /* the same batch again: refused (it does not follow the cursor), nothing changes */
    assert_int_equal(sync_apply_pages(f->device, h, n, rep, &e), OP_ECONFLICT);
    assert_int_equal(device_count(f, NULL), 9);
    for (int i = 0; i < n; i++)
        sync_held_page_free(&h[i]);
}

static void test_binding_to_another_organisation_clears_the_device(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    OK(sync_device_bind_org(f->device, ORG_A, fx_e)); /* the same: nothing changes */
    assert_int_equal(device_count(f, NULL), 9);
    OK(sync_device_bind_org(f->device, ORG_B, fx_e));
    assert_int_equal(device_count(f, NULL), 0);
    assert_int_equal(device_cursor(f), 0);
    struct op_err e = {0};
    assert_int_equal(sync_device_bind_org(f->central, ORG_A, &e), OP_ESTATE);
}

/* ---- what central keeps between pages (migration 13: sync_sealed, sync_digests) ---- */

static int64_t central_count(struct fixture *f, const char *sql, const char *p1, const char *p2)
{
    struct op_err e = {0};
    struct db_stmt *st = db_stmt(f->central->db, sql, &e);
    if (!st)
        fail_msg("db_stmt: %s", e.msg);
    if (p1)
        db_bind_text(st, 1, p1);
    if (p2)
        db_bind_text(st, 2, p2);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t n = db_column_int64(st, 0);
    db_stmt_done(f->central->db, st);
    return n;
}

/* ORG-A's whole scope in one page, read by central (caller frees). */
static void whole_page(struct fixture *f, struct changes_page *p)
{
    OK(changes_read(f->central, ORG_A, 0, 1000, p, fx_e));
    assert_int_equal(p->has_more, 0);
}

/* The data of record `id` in page p, parsed from its text (kept until the test's next
 * whole_page or the end of the process: borrowed). */
static json_t *parsed[64];
static int nparsed;

static void parsed_free(void)
{
    for (int i = 0; i < nparsed; i++)
        json_decref(parsed[i]);
    nparsed = 0;
}

static json_t *page_data(struct changes_page *p, const char *id)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->rec[i].id, id) == 0 && p->rec[i].text) {
            json_t *j = json_loadb(p->rec[i].text, p->rec[i].text_len, 0, NULL);
            assert_non_null(j);
            if (nparsed == 64)
                parsed_free();
            parsed[nparsed++] = j;
            return j;
        }
    fail_msg("record %s is not in the page", id);
    return NULL;
}

/* The text of the box for `to` in member `member` of record `id` of p (caller frees), or NULL. */
static char *box_text(struct changes_page *p, const char *id, const char *member, const char *to)
{
    json_t *it;
    size_t i;
    json_array_foreach(json_object_get(page_data(p, id), member), i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "to")), to) == 0)
            return strdup(json_string_value(json_object_get(it, "sealed")));
    }
    return NULL;
}

/* The vault key pair of central's user `id`, unlocked with `password`. */
static void central_keys(struct fixture *f, const char *id, const char *password,
                         unsigned char pk[VAULT_PUBLIC_BYTES], unsigned char sk[VAULT_SECRET_BYTES])
{
    struct user u;
    OK(users_get_by_id(f->central->db, id, &u, fx_e));
    OK(credentials_unlock(&u, password, strlen(password), pk, sk, fx_e));
    user_clear(&u);
}

/* Gives user `id` a new vault (a new password and key pair), as a password reset does. */
static void new_vault(struct fixture *f, const char *id, const char *password)
{
    struct user u;
    OK(users_get_by_id(f->central->db, id, &u, fx_e));
    struct credentials c;
    OK(credentials_make(&cheap, id, password, strlen(password), NULL, &c, fx_e));
    fx_begin(f->central->db);
    OK(credentials_store(f->central->db, id, u.version, &c, fx_e));
    fx_commit(f->central->db);
    credentials_wipe(&c);
    user_clear(&u);
}

static void test_sealed_boxes_and_the_digest_are_made_once_and_reused(void **state)
{
    struct fixture *f = *state;
    struct changes_page a, b;
    whole_page(f, &a);
    assert_true(a.sealed_made >= 8); /* every user's own box, t1's and t2's to p1, ... */
    assert_int_equal(a.sealed_reused, 0);
    assert_int_equal(a.digest_kept, 0);
    assert_int_equal(central_count(f, "SELECT count(*) FROM sync_sealed", NULL, NULL),
                     a.sealed_made);
    /* the same page again: nothing sealed, the same boxes, the digest read, not computed */
    whole_page(f, &b);
    assert_int_equal(b.sealed_made, 0);
    /* nor built: every record's text is read as kept (sync_texts) */
    assert_true(a.texts_made > 0);
    assert_int_equal(a.texts_kept, 0);
    assert_int_equal(b.texts_made, 0);
    assert_int_equal(b.texts_kept, a.texts_made);
    assert_int_equal(central_count(f, "SELECT count(*) FROM sync_texts", NULL, NULL), a.texts_made);
    assert_int_equal(b.digest_kept, 1);
    assert_string_equal(b.digest, a.digest);
    char want[65];
    OK(synced_feed_digest(f->central->db, ORG_A, want, fx_e));
    assert_string_equal(b.digest, want);
    char *x = box_text(&a, f->t1, "profile", f->p1), *y = box_text(&b, f->t1, "profile", f->p1);
    assert_non_null(x);
    assert_string_equal(x, y);
    free(x);
    free(y);
    /* and the device applies the reused boxes as it did the new ones */
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    assert_in_step(f);
    changes_page_free(&a);
    changes_page_free(&b);

    /* an edit: a new max seq, so the digest is computed again, and it is the new one */
    struct user t1;
    OK(users_get_by_id(f->central->db, f->t1, &t1, fx_e));
    struct user_changes ch = {.set = USER_SET_LABEL, .label = "Tina B."};
    fx_begin(f->central->db);
    OK(users_update(f->central->db, f->t1, t1.version, &ch, NULL, fx_e));
    fx_commit(f->central->db);
    user_clear(&t1);
    whole_page(f, &a);
    assert_int_equal(a.digest_kept, 0);
    OK(synced_feed_digest(f->central->db, ORG_A, want, fx_e));
    assert_string_equal(a.digest, want);
    assert_string_not_equal(a.digest, b.digest);
    assert_int_equal(a.sealed_made, 2); /* t1's profile, to t1 and to p1; the rest reused */
    assert_int_equal(a.texts_made, 1);  /* t1's text; every other record's read as kept */
    changes_page_free(&a);
    pull_all(f, 1000, &r);
    assert_in_step(f);
}

/* 1 if the device's copy of user `id` carries a profile box sealed to `to`. */
static int device_has_box(struct fixture *f, const char *id, const char *to)
{
    int64_t v;
    char *text = NULL;
    OK(synced_get(f->device->db, FEED_USER, id, &v, &text, fx_e));
    json_t *d = json_loads(text, 0, NULL), *it;
    free(text);
    assert_non_null(d);
    size_t i;
    int found = 0;
    json_array_foreach(json_object_get(d, "profile"), i, it)
    {
        found |= strcmp(json_string_value(json_object_get(it, "to")), to) == 0;
    }
    json_decref(d);
    return found;
}

/* Central keeps each record's text by version (sync_texts) and pages reuse it, so every input
 * of a text must give the record a new version: a test taker who joins or leaves an
 * eligibility of another center has new recipients for their profile (that center's
 * proctors), and the device receives the new text, not the kept one. */
static void test_a_kept_text_is_never_stale_when_a_taker_changes_center(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_report r;
    assign(f->central->db, f->ca2, f->p2, CENTER_DUTY_PROCTOR);
    pull_all(f, 1000, &r);
    assert_in_step(f);
    assert_int_equal(device_has_box(f, f->t1, f->p1), 1);
    assert_int_equal(device_has_box(f, f->t1, f->p2), 0);
    struct changes_page p;
    whole_page(f, &p); /* every text kept now */
    assert_int_equal(p.texts_made, 0);
    changes_page_free(&p);

    char el[UUID_STR_LEN];
    const char *t[] = {f->t1};
    fx_eligible(f->central->db, f->ca2, f->d1, t, 1, ELIGIBILITY_PROCTORED_KEEP, el);
    pull_all(f, 1000, &r);
    assert_in_step(f);
    assert_int_equal(device_has_box(f, f->t1, f->p2), 1);

    fx_eligible(f->central->db, f->ca2, f->d1, NULL, 0, ELIGIBILITY_PROCTORED_KEEP, el);
    pull_all(f, 1000, &r);
    assert_in_step(f);
    assert_int_equal(device_has_box(f, f->t1, f->p2), 0);
    assert_int_equal(device_has_box(f, f->t1, f->p1), 1);
}

/* The kept texts (sync_texts) of `org` of the record `id`. */
static int64_t kept_texts(struct fixture *f, const char *org, const char *id)
{
    return central_count(f, "SELECT count(*) FROM sync_texts WHERE org_id = ?1 AND entity_id = ?2",
                         org, id);
}

/* Every kept text is of a record in its organisation's scope (a live feed row). */
static void assert_no_text_out_of_scope(struct fixture *f)
{
    assert_int_equal(central_count(f,
                                   "SELECT count(*) FROM sync_texts t WHERE NOT EXISTS"
                                   " (SELECT 1 FROM sync_feed s WHERE s.org_id = t.org_id"
                                   " AND s.entity = t.entity AND s.entity_id = t.entity_id"
                                   " AND s.deleted = 0)",
                                   NULL, NULL),
                     0);
}

/* Pulls everything (which keeps every record's text), checks the device is exact, and that
 * ORG-A's texts are kept. */
static void pull_and_keep(struct fixture *f)
{
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    assert_in_step(f);
    struct changes_page p;
    whole_page(f, &p);
    assert_int_equal(p.texts_made, 0); /* the pull kept them all */
    changes_page_free(&p);
    assert_no_text_out_of_scope(f);
}

/* A record that leaves an organisation's scope, or is deleted, keeps no text there: the
 * transaction that writes its tombstone drops it (store/feed.c), so sync_texts does not grow
 * with the records that left; and the device's next sync is exact all the same. */
static void test_a_record_leaving_the_scope_keeps_no_text(void **state)
{
    struct fixture *f = *state;
    struct db *db = f->central->db;
    pull_and_keep(f);
    assert_int_equal(kept_texts(f, ORG_A, f->t2), 1);

    /* a test taker removed from the only eligibility of ORG-A */
    const char *only_t1[] = {f->t1};
    fx_eligible(db, f->ca1, f->d1, only_t1, 1, ELIGIBILITY_PROCTORED_KEEP, f->e1);
    assert_int_equal(kept_texts(f, ORG_A, f->t2), 0);
    assert_no_text_out_of_scope(f);
    pull_and_keep(f);
    assert_false(has(f, FEED_USER, f->t2));

    /* a test taker who moves to a center of another organisation: they leave ORG-A's scope
     * and enter ORG-B's (d2 published, so e2 is in ORG-B's scope) */
    int changed;
    fx_begin(db);
    OK(deliveries_set_status(db, f->d2, 0, DELIVERY_PUBLISHED, &changed, fx_e));
    fx_commit(db);
    const char *t1_t3[] = {f->t1, f->t3};
    fx_eligible(db, f->cb, f->d2, t1_t3, 2, ELIGIBILITY_PROCTORED_KEEP, f->e2);
    fx_eligible(db, f->ca1, f->d1, NULL, 0, ELIGIBILITY_PROCTORED_KEEP, f->e1);
    assert_int_equal(kept_texts(f, ORG_A, f->t1), 0);
    assert_no_text_out_of_scope(f);
    pull_and_keep(f);
    assert_false(has(f, FEED_USER, f->t1));
    struct changes_page p;
    OK(changes_read(f->central, ORG_B, 0, 1000, &p, fx_e)); /* ORG-B keeps t1's text now */
    changes_page_free(&p);
    assert_int_equal(kept_texts(f, ORG_B, f->t1), 1);

    /* a delivery withdrawn: it, its eligibilities and their test takers leave ORG-B */
    fx_begin(db);
    OK(deliveries_set_status(db, f->d2, 0, DELIVERY_WITHDRAWN, &changed, fx_e));
    fx_commit(db);
    assert_int_equal(kept_texts(f, ORG_B, f->d2), 0);
    assert_int_equal(kept_texts(f, ORG_B, f->e2), 0);
    assert_int_equal(kept_texts(f, ORG_B, f->t1), 0);
    assert_no_text_out_of_scope(f);

    /* a center moved to another organisation: it and its staff leave ORG-A */
    assert_int_equal(kept_texts(f, ORG_A, f->ca1), 1);
    assert_int_equal(kept_texts(f, ORG_A, f->ad), 1);
    struct test_center_changes ch = {.org_id = ORG_B};
    fx_begin(db);
    OK(testcenters_update(db, f->ca1, fx_center_version(db, f->ca1), &ch, &changed, fx_e));
    fx_commit(db);
    assert_int_equal(kept_texts(f, ORG_A, f->ca1), 0);
    assert_int_equal(kept_texts(f, ORG_A, f->ad), 0);
    assert_no_text_out_of_scope(f);
    pull_and_keep(f);
    assert_false(has(f, FEED_TEST_CENTER, f->ca1));

    /* records deleted: a user, a center */
    assert_int_equal(kept_texts(f, ORG_A, f->sm), 1);
    assert_int_equal(kept_texts(f, ORG_A, f->ca2), 1);
    const char *boxes = "SELECT count(*) FROM sync_sealed WHERE record_id = ?1";
    assert_true(central_count(f, boxes, f->sm, NULL) > 0);
    fx_begin(db);
    OK(users_delete(db, f->sm, fx_e));
    OK(testcenters_delete(db, f->ca2, fx_e));
    fx_commit(db);
    assert_int_equal(central_count(f, boxes, f->sm, NULL), 0); /* nor their profile's boxes */
    assert_int_equal(kept_texts(f, ORG_A, f->sm), 0);
    assert_int_equal(kept_texts(f, ORG_A, f->ca2), 0);
    assert_no_text_out_of_scope(f);
    pull_and_keep(f);
    assert_int_equal(device_count(f, NULL), 0);

    /* a text made in a page's snapshot is not kept once its record has left: it is kept only
     * for the record's live feed row (here: ca2's tombstone) */
    struct feed_change fc[64];
    int n;
    OK(feed_read(db, ORG_A, 0, 64, fc, &n, fx_e));
    int at = -1;
    for (int i = 0; i < n; i++)
        if (strcmp(fc[i].entity_id, f->ca2) == 0)
            at = i;
    assert_true(at >= 0 && fc[at].deleted);
    fx_begin(db);
    OK(sync_texts_put(db, ORG_A, FEED_TEST_CENTER, f->ca2, fc[at].version, fc[at].seq, "{}", 2,
                      fx_e));
    fx_commit(db);
    assert_int_equal(kept_texts(f, ORG_A, f->ca2), 0);
}

static int64_t user_version(struct db *db, const char *id)
{
    struct user u;
    OK(users_get_by_id(db, id, &u, fx_e));
    int64_t v = u.version;
    user_clear(&u);
    return v;
}

/* user `id` gets role `role` (store/users.h). */
static void set_role(struct fixture *f, const char *id, const char *role)
{
    struct user u;
    OK(users_get_by_id(f->central->db, id, &u, fx_e));
    struct user_changes ch = {.set = USER_SET_ROLE, .role = role};
    fx_begin(f->central->db);
    OK(users_update(f->central->db, id, u.version, &ch, NULL, fx_e));
    fx_commit(f->central->db);
    user_clear(&u);
}

/* A proctor who leaves without a staff change (given another role, or deleted) leaves no box
 * in the texts central keeps: the users of their centers get a new version, so their texts are
 * made again, sealed to the current proctors, and the device receives them. */
static void test_a_proctor_who_leaves_has_no_box_in_the_kept_texts(void **state)
{
    struct fixture *f = *state;
    struct db *db = f->central->db;
    struct sync_apply_report r;
    pull_and_keep(f);
    assert_int_equal(device_has_box(f, f->t1, f->p1), 1);
    assert_int_equal(device_has_box(f, f->ad, f->p1), 1);
    int64_t t2_version = user_version(db, f->t2);

    /* p1 becomes an administrator (still assigned as a proctor of A1) */
    set_role(f, f->p1, ROLE_TEST_CENTER_ADMIN);
    assert_true(user_version(db, f->t2) > t2_version);
    pull_all(f, 1000, &r);
    assert_in_step(f);
    assert_int_equal(device_has_box(f, f->t1, f->p1), 0);
    assert_int_equal(device_has_box(f, f->t2, f->p1), 0);
    assert_int_equal(device_has_box(f, f->ad, f->p1), 0);
    /* and back: the boxes to p1 again */
    set_role(f, f->p1, ROLE_PROCTOR);
    pull_all(f, 1000, &r);
    assert_in_step(f);
    assert_int_equal(device_has_box(f, f->t1, f->p1), 1);
    assert_int_equal(device_has_box(f, f->ad, f->p1), 1);
    /* an edit that sets the role it already has bumps nobody else */
    t2_version = user_version(db, f->t2);
    set_role(f, f->p1, ROLE_PROCTOR);
    assert_int_equal(user_version(db, f->t2), t2_version);
    pull_and_keep(f);

    /* p1 deleted */
    fx_begin(db);
    OK(users_delete(db, f->p1, fx_e));
    fx_commit(db);
    assert_true(user_version(db, f->t2) > t2_version);
    pull_all(f, 1000, &r);
    assert_in_step(f);
    assert_false(has(f, FEED_USER, f->p1));
    assert_int_equal(device_has_box(f, f->t1, f->p1), 0);
    assert_int_equal(device_has_box(f, f->t2, f->p1), 0);
    assert_int_equal(device_has_box(f, f->ad, f->p1), 0);
    /* the texts kept for the next devices hold no box to p1 either */
    struct changes_page p;
    whole_page(f, &p);
    assert_int_equal(p.texts_made, 0);
    for (int i = 0; i < p.n; i++)
        if (p.rec[i].text)
            assert_null(strstr(p.rec[i].text, f->p1));
    changes_page_free(&p);
}

static void test_changes_prepared_ahead_leave_nothing_to_seal(void **state)
{
    struct fixture *f = *state;
    int64_t seq;
    OK(changes_feed_seq(f->central, &seq, fx_e));
    assert_true(seq > 0);
    /* nothing after the last seq: nothing made */
    OK(changes_prepare(f->central, seq, fx_e));
    assert_int_equal(central_count(f, "SELECT count(*) FROM sync_sealed", NULL, NULL), 0);
    /* everything: the page a device then asks for seals nothing and reads its digest */
    OK(changes_prepare(f->central, 0, fx_e));
    assert_true(central_count(f, "SELECT count(*) FROM sync_sealed", NULL, NULL) >= 8);
    assert_int_equal(central_count(f, "SELECT count(*) FROM sync_digests", NULL, NULL), 2);
    struct changes_page p;
    whole_page(f, &p);
    assert_int_equal(p.sealed_made, 0);
    assert_int_equal(p.texts_made, 0); /* every record's text kept: nothing built */
    assert_true(p.texts_kept >= 8);
    assert_int_equal(p.digest_kept, 1);
    changes_page_free(&p);
    struct op_err e = {0};
    assert_int_equal(changes_prepare(f->device, 0, &e), OP_ESTATE); /* central only */
}

static void test_a_kept_box_is_made_again_when_its_key_or_plaintext_changes(void **state)
{
    struct fixture *f = *state;
    unsigned char tpk[VAULT_PUBLIC_BYTES], tsk[VAULT_SECRET_BYTES];
    unsigned char ppk[VAULT_PUBLIC_BYTES], psk[VAULT_SECRET_BYTES];
    unsigned char npk[VAULT_PUBLIC_BYTES], nsk[VAULT_SECRET_BYTES];
    central_keys(f, f->t1, "t1", tpk, tsk);
    central_keys(f, f->p1, "p1", ppk, psk);
    struct changes_page p;
    char prof[512];
    whole_page(f, &p); /* everything kept */
    char *t2_before = box_text(&p, f->t2, "profile", f->t2);
    changes_page_free(&p);

    /* the plaintext changes (t1's label): t1's boxes are new and say the new label */
    struct user t1;
    OK(users_get_by_id(f->central->db, f->t1, &t1, fx_e));
    struct user_changes ch = {.set = USER_SET_LABEL, .label = "Tina B."};
    fx_begin(f->central->db);
    OK(users_update(f->central->db, f->t1, t1.version, &ch, NULL, fx_e));
    fx_commit(f->central->db);
    user_clear(&t1);
    whole_page(f, &p);
    assert_int_equal(open_profile(page_data(&p, f->t1), f->t1, tpk, tsk, prof, sizeof prof), 0);
    assert_non_null(strstr(prof, "\"label\":\"Tina B.\""));
    assert_int_equal(open_profile(page_data(&p, f->t1), f->p1, ppk, psk, prof, sizeof prof), 0);
    assert_non_null(strstr(prof, "\"label\":\"Tina B.\""));
    char *t2_after = box_text(&p, f->t2, "profile", f->t2); /* t2 did not change: reused */
    assert_string_equal(t2_before, t2_after);
    free(t2_before);
    free(t2_after);
    changes_page_free(&p);

    /* the recipient's key changes (p1 gets a new vault): the box to p1 is sealed to the new
     * key, and the old key no longer opens what the page carries */
    new_vault(f, f->p1, "p1-new");
    central_keys(f, f->p1, "p1-new", npk, nsk);
    whole_page(f, &p);
    assert_int_equal(open_profile(page_data(&p, f->t1), f->p1, npk, nsk, prof, sizeof prof), 0);
    assert_non_null(strstr(prof, "Tina B."));
    assert_int_equal(open_profile(page_data(&p, f->t1), f->p1, ppk, psk, prof, sizeof prof),
                     OP_ECRYPTO);
    assert_int_equal(open_profile(page_data(&p, f->t2), f->p1, ppk, psk, prof, sizeof prof),
                     OP_ECRYPTO);
    changes_page_free(&p);
    /* the device gets them too */
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    assert_in_step(f);
    json_t *t1j = synced_json(f, FEED_USER, f->t1);
    assert_int_equal(open_profile(t1j, f->p1, npk, nsk, prof, sizeof prof), 0);
    json_decref(t1j);

    /* a proctor removed: no box to them in the page, and none kept for them */
    const char *box_sql = "SELECT count(*) FROM sync_sealed WHERE kind = 'profile'"
                          " AND record_id = ?1 AND recipient = ?2";
    assert_int_equal(central_count(f, box_sql, f->t1, f->p1), 1);
    fx_begin(f->central->db);
    OK(testcenters_unassign(f->central->db, f->ca1, f->p1, CENTER_DUTY_PROCTOR, fx_e));
    fx_commit(f->central->db);
    whole_page(f, &p);
    char *none = box_text(&p, f->t1, "profile", f->p1);
    assert_null(none);
    free(none); /* NULL; for the analyser, which cannot tell */
    assert_int_equal(json_array_size(json_object_get(page_data(&p, f->t1), "profile")), 1);
    changes_page_free(&p);
    assert_int_equal(central_count(f, box_sql, f->t1, f->p1), 0);
    /* and back: a box to p1's current key again */
    assign(f->central->db, f->ca1, f->p1, CENTER_DUTY_PROCTOR);
    whole_page(f, &p);
    assert_int_equal(open_profile(page_data(&p, f->t1), f->p1, npk, nsk, prof, sizeof prof), 0);
    changes_page_free(&p);
}

/* A delivery "Chemistry" of a real package (encrypted on import), t1 and t2 eligible for it at
 * `center`: its eligibility's id in el_id. */
static void chemistry_for_t1_t2(struct fixture *f, const char *center, struct delivery *d,
                                char el_id[UUID_STR_LEN])
{
    char *zip = fs_join(f->central->dir, "demo.zip");
    assert_int_equal(testzip_fixture_zip("demo/qti-test", zip), 0);
    const struct app_deliveries_import_in in = {zip, "Chemistry", 0, 0, 0};
    OK(app_deliveries_import(f->central, &in, d, fx_e));
    free(zip);
    const char *both[] = {f->t1, f->t2};
    fx_eligible(f->central->db, center, d->id, both, 2, ELIGIBILITY_PROCTORED_KEEP, el_id);
}

static void test_a_kept_content_key_is_sealed_again_to_a_new_key(void **state)
{
    struct fixture *f = *state;
    struct delivery d;
    char el_id[UUID_STR_LEN];
    chemistry_for_t1_t2(f, f->ca2, &d, el_id);
    unsigned char tpk[VAULT_PUBLIC_BYTES], tsk[VAULT_SECRET_BYTES];
    unsigned char npk[VAULT_PUBLIC_BYTES], nsk[VAULT_SECRET_BYTES];
    central_keys(f, f->t1, "t1", tpk, tsk);
    struct changes_page p;
    whole_page(f, &p);
    unsigned char box[CONTENT_SEALED_KEY_BYTES], key1[CONTENT_KEY_BYTES], key2[CONTENT_KEY_BYTES];
    assert_true(sealed_key_for(page_data(&p, el_id), f->t1, box) > 0);
    OK(vault_open(tpk, tsk, box, sizeof box, key1, fx_e));
    changes_page_free(&p);
    whole_page(f, &p); /* kept: nothing sealed */
    assert_int_equal(p.sealed_made, 0);
    changes_page_free(&p);

    /* t1's key changes: the content key reaches t1 sealed to the new key only */
    new_vault(f, f->t1, "t1-new");
    central_keys(f, f->t1, "t1-new", npk, nsk);
    whole_page(f, &p);
    assert_true(sealed_key_for(page_data(&p, el_id), f->t1, box) > 0);
    struct op_err e = {0};
    assert_int_equal(vault_open(tpk, tsk, box, sizeof box, key2, &e), OP_ECRYPTO);
    OK(vault_open(npk, nsk, box, sizeof box, key2, fx_e));
    assert_memory_equal(key1, key2, sizeof key1);
    changes_page_free(&p);

    /* a new package: a new content key, sealed anew to both */
    char *zip2 = fs_join(f->central->dir, "o.zip");
    assert_int_equal(testzip_fixture_zip("rule-number-correct", zip2), 0);
    const struct app_deliveries_update_in up = {d.id, NULL, -1, -1, 0, zip2};
    struct delivery d2;
    OK(app_deliveries_update(f->central, &up, &d2, NULL, fx_e));
    whole_page(f, &p);
    assert_true(sealed_key_for(page_data(&p, el_id), f->t1, box) > 0);
    OK(vault_open(npk, nsk, box, sizeof box, key2, fx_e));
    assert_memory_not_equal(key1, key2, sizeof key1);
    assert_int_equal(p.sealed_made, 0); /* sealed by the update itself (changes_prepare) */
    changes_page_free(&p);
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    assert_in_step(f);
    delivery_clear(&d);
    delivery_clear(&d2);
    free(zip2);
}

/* A new key pair alone (passwd --new-keys: no other change) reaches the device: the content
 * keys sealed to a test taker and the profiles sealed to a proctor come again, sealed to the
 * new key, in the next pull (they used to stay sealed to the old one until something else
 * changed the records). */
static void test_a_new_key_alone_reaches_the_device(void **state)
{
    struct fixture *f = *state;
    struct delivery d;
    char el_id[UUID_STR_LEN];
    chemistry_for_t1_t2(f, f->ca1, &d, el_id);
    struct sync_apply_report r;
    pull_all(f, 1000, &r);
    assert_in_step(f);

    /* t1's key: the eligibilities listing t1 come again, the content key sealed to the new key */
    unsigned char npk[VAULT_PUBLIC_BYTES], nsk[VAULT_SECRET_BYTES];
    unsigned char box[CONTENT_SEALED_KEY_BYTES], key[CONTENT_KEY_BYTES];
    new_vault(f, f->t1, "t1-new");
    central_keys(f, f->t1, "t1-new", npk, nsk);
    pull_all(f, 1000, &r);
    assert_in_step(f);
    assert_int_equal(r.counts[SYNC_ENT_ELIGIBILITY].updated, 2); /* e1 and Chemistry's */
    json_t *el = synced_json(f, FEED_ELIGIBILITY, el_id);
    assert_true(sealed_key_for(el, f->t1, box) > 0);
    OK(vault_open(npk, nsk, box, sizeof box, key, fx_e));
    json_decref(el);

    /* p1's key: every test taker and staff member of p1's center comes again, their profile
     * opened by p1's new key */
    new_vault(f, f->p1, "p1-new");
    central_keys(f, f->p1, "p1-new", npk, nsk);
    pull_all(f, 1000, &r);
    assert_in_step(f);
    assert_true(r.counts[SYNC_ENT_USER].updated >= 3); /* p1, t1, t2 (and the admin) */
    char prof[512];
    json_t *t2 = synced_json(f, FEED_USER, f->t2);
    assert_int_equal(open_profile(t2, f->p1, npk, nsk, prof, sizeof prof), 0);
    json_decref(t2);

    /* the same key re-wrapped under a new password (as central does from its escrow copy)
     * re-sends t2's own record only */
    unsigned char tpk[VAULT_PUBLIC_BYTES], tsk[VAULT_SECRET_BYTES];
    central_keys(f, f->t2, "t2", tpk, tsk);
    struct user u;
    OK(users_get_by_id(f->central->db, f->t2, &u, fx_e));
    struct credentials c;
    const struct credentials_keys same = {NULL, tsk};
    OK(credentials_make(&cheap, f->t2, "t2-other", 8, &same, &c, fx_e));
    fx_begin(f->central->db);
    OK(credentials_store(f->central->db, f->t2, u.version, &c, fx_e));
    fx_commit(f->central->db);
    credentials_wipe(&c);
    user_clear(&u);
    pull_all(f, 1000, &r);
    assert_int_equal(r.counts[SYNC_ENT_ELIGIBILITY].updated, 0);
    assert_int_equal(r.counts[SYNC_ENT_USER].updated, 1);
    delivery_clear(&d);
}

/* A delivery deleted takes its content key's kept boxes (sync_sealed) with it, and its kept
 * texts and its eligibility's leave with their tombstones. */
static void test_a_deleted_delivery_keeps_no_box_nor_text(void **state)
{
    struct fixture *f = *state;
    struct delivery d;
    char el_id[UUID_STR_LEN];
    chemistry_for_t1_t2(f, f->ca2, &d, el_id);
    pull_and_keep(f);
    const char *boxes = "SELECT count(*) FROM sync_sealed WHERE kind = 'content-key'"
                        " AND record_id = ?1";
    assert_int_equal(central_count(f, boxes, d.id, NULL), 2); /* to t1 and t2 */
    assert_int_equal(kept_texts(f, ORG_A, el_id), 1);
    fx_begin(f->central->db);
    OK(deliveries_delete(f->central->db, d.id, fx_e));
    fx_commit(f->central->db);
    assert_int_equal(central_count(f, boxes, d.id, NULL), 0);
    assert_int_equal(kept_texts(f, ORG_A, d.id), 0);
    assert_int_equal(kept_texts(f, ORG_A, el_id), 0);
    assert_no_text_out_of_scope(f);
    pull_and_keep(f);
    assert_false(has(f, FEED_DELIVERY, d.id));
    delivery_clear(&d);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_first_pull_is_the_organisation_scope_exactly),
        T(test_an_edit_on_central_updates_the_device),
        T(test_removed_taker_deleted_proctor_and_deleted_delivery_disappear),
        T(test_small_pages_give_the_same_scope),
        T(test_bad_pages_apply_nothing),
        T(test_profiles_are_sealed_to_the_user_and_their_proctors),
        T(test_content_keys_reach_the_device_sealed_to_eligible_test_takers),
        T(test_an_encrypted_copy_made_later_reaches_the_device),
        cmocka_unit_test(test_bad_content_fields_are_refused),
        T(test_profiles_are_sealed_again_when_proctors_change),
        T(test_centers_reach_the_device_with_their_proctors_and_admins),
        T(test_drift_triggers_a_full_resync_that_repairs_it),
        T(test_a_failure_mid_apply_keeps_the_old_cursor),
        T(test_binding_to_another_organisation_clears_the_device),
        T(test_sealed_boxes_and_the_digest_are_made_once_and_reused),
        T(test_a_new_key_alone_reaches_the_device),
        T(test_a_kept_box_is_made_again_when_its_key_or_plaintext_changes),
        T(test_a_kept_content_key_is_sealed_again_to_a_new_key),
        T(test_changes_prepared_ahead_leave_nothing_to_seal),
        T(test_a_kept_text_is_never_stale_when_a_taker_changes_center),
        T(test_a_record_leaving_the_scope_keeps_no_text),
        T(test_a_proctor_who_leaves_has_no_box_in_the_kept_texts),
        T(test_a_batch_of_pages_is_applied_all_or_none),
        T(test_a_deleted_delivery_keeps_no_box_nor_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
