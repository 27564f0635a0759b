/*
 * changes.c - one page of an organisation's change feed with its records (see changes.h).
 */
#include "app/changes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/content.h"
#include "base/fs.h"
#include "base/log.h"
#include "crypto/vault.h"
#include "store/deliveries.h"
#include "store/delivery_content.h"
#include "store/eligibilities.h"
#include "store/feed.h"
#include "store/sealed.h"
#include "store/synced.h"
#include "store/testcenters.h"
#include "store/users.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int oom(struct op_err *e)
{
    return err_set(e, OP_ENOMEM, "out of memory reading the change feed");
}

/* The staff of center `id` (user ids, sorted) into `proctors` and `admins`: the device checks
 * with them who may act on the center's executions (app/executions.h). A staff change bumps
 * the center's version (store/testcenters.h), so devices receive the new lists. */
static int center_staff(struct db *db, const char *id, json_t *proctors, json_t *admins,
                        struct op_err *e)
{
    struct db_stmt *st = db_stmt(db,
                                 "SELECT user_id, duty FROM test_center_staff WHERE center_id = ?1"
                                 " ORDER BY duty, user_id",
                                 e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, id);
    int r, rc = 0;
    while (rc == 0 && (r = db_step(st)) == DB_ROW) {
        json_t *to = strcmp(db_column_text(st, 1), CENTER_DUTY_PROCTOR) == 0 ? proctors : admins;
        if (json_array_append_new(to, json_string(db_column_text(st, 0))) != 0)
            rc = oom(e);
    }
    if (rc == 0 && r != DB_DONE)
        rc = db_fail(db, e, "reading the staff of a test center");
    db_stmt_done(db, st);
    return rc;
}

static int center_data(struct db *db, const char *id, json_t **out, struct op_err *e)
{
    struct test_center c;
    memset(&c, 0, sizeof c);
    json_t *proctors = json_array(), *admins = json_array();
    int rc = proctors && admins ? testcenters_get(db, id, &c, e) : oom(e);
    if (rc == 0)
        rc = center_staff(db, id, proctors, admins, e);
    if (rc == 0) {
        *out = json_pack("{s:s, s:s, s:o, s:O, s:O}", "label", c.label ? c.label : "", "org_id",
                         c.org_id ? c.org_id : "", "parent_id",
                         c.parent_id[0] ? json_string(c.parent_id) : json_null(), "proctors",
                         proctors, "admins", admins);
        if (!*out)
            rc = oom(e);
    }
    json_decref(proctors);
    json_decref(admins);
    test_center_clear(&c);
    return rc;
}

/* The encrypted package of delivery `d` as it is now: *have 1 and *c filled when the delivery
 * has a package and the newest encrypted copy is of that package (a copy of an older package,
 * the current one not encrypted yet, is not the delivery's: `deliveries encrypt` makes it). */
static int current_content(struct db *db, const struct delivery *d, struct delivery_content *c,
                           int *have, struct op_err *e)
{
    *have = 0;
    if (!d->package_sha256[0])
        return 0;
    struct op_err none = {0};
    int rc = delivery_content_get(db, d->id, d->version, c, &none);
    if (rc == OP_ENOTFOUND)
        return 0;
    if (rc != 0)
        return err_set(e, none.code, "%s", none.msg);
    *have = strcmp(c->package_sha256, d->package_sha256) == 0;
    return 0;
}

static int delivery_data(struct instance *inst, const char *id, json_t **out, struct op_err *e)
{
    struct delivery d;
    memset(&d, 0, sizeof d);
    struct delivery_content c;
    int have = 0;
    int rc = deliveries_get(inst->db, id, &d, e);
    if (rc == 0)
        rc = current_content(inst->db, &d, &c, &have, e);
    if (rc == 0) {
        json_int_t size = 0;
        if (d.package_sha256[0]) {
            char name[16 + DELIVERY_SHA256_HEX];
            snprintf(name, sizeof name, "packages/%s", d.package_sha256);
            char *path = fs_join(inst->dir, name);
            struct stat sb;
            if (path && stat(path, &sb) == 0)
                size = (json_int_t)sb.st_size;
            free(path);
        }
        *out = json_pack("{s:s, s:o, s:I, s:I, s:b}", "label", d.label ? d.label : "",
                         "package_sha256",
                         d.package_sha256[0] ? json_string(d.package_sha256) : json_null(),
                         "package_size", size, "max_executions", (json_int_t)d.max_executions,
                         "proctored_default", d.proctored_default);
        /* what the device downloads (GET /api/v1/packages/{enc_sha256}) and opens */
        if (*out && (json_object_set_new(*out, "enc_sha256",
                                         have ? json_string(c.enc_sha256) : json_null()) != 0 ||
                     json_object_set_new(*out, "enc_size",
                                         have ? json_integer(c.enc_size) : json_null()) != 0 ||
                     json_object_set_new(*out, "content_version",
                                         have ? json_integer(c.version) : json_null()) != 0)) {
            json_decref(*out);
            *out = NULL;
        }
        if (!*out)
            rc = oom(e);
    }
    delivery_clear(&d);
    return rc;
}

/* ---- sealed boxes made once (store/sealed.h) ----
 *
 * Every box a page carries is kept in `sync_sealed` with the fingerprint of what it was made
 * from: BLAKE2b-256 of the kind, the record, the recipient, the recipient's public key as
 * central has it now and the plaintext (a profile's JSON; for a content key, the delivery,
 * the content version and the key as wrapped under the master key, which names the key
 * without unwrapping it). A page uses a kept box only when the fingerprint it computes from
 * the current key and plaintext is the same; the recipients are always read from the
 * database, never from the cache. So a new key, a new profile or a new package gives a new
 * box, and a proctor removed from a center is not a recipient any more, whatever is kept.
 * The boxes a page made are written after its read snapshot ends (keep_fresh). */

struct fingerprint_part {
    const void *p;
    size_t n;
};

static void fingerprint(const char *kind, const char *record, const char *recipient,
                        const char *pk_text, const struct fingerprint_part *plain, int nplain,
                        char out[SEALED_FP_HEX])
{
    static const char ctx[] = "outpost sealed box v1";
    crypto_generichash_state h;
    unsigned char d[32];
    crypto_generichash_init(&h, NULL, 0, sizeof d);
    const char *parts[] = {ctx, kind, record, recipient, pk_text};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) /* each with its NUL */
        crypto_generichash_update(&h, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
    for (int i = 0; i < nplain; i++) {
        uint64_t n = plain[i].n; /* length first: parts cannot run into each other */
        crypto_generichash_update(&h, (const unsigned char *)&n, sizeof n);
        crypto_generichash_update(&h, plain[i].p, plain[i].n);
    }
    crypto_generichash_final(&h, d, sizeof d);
    sodium_bin2hex(out, SEALED_FP_HEX, d, sizeof d);
}

/* The boxes of one page: those kept (read in the page's snapshot) and those made now. */
struct seal_cache {
    struct sealed_rows profiles;       /* kept boxes of the page's users */
    struct sealed_rows fresh_profiles; /* every current box of each user with a new one */
    struct sealed_rows fresh_keys;     /* content keys sealed now */
    int64_t made, reused;              /* boxes, for tests and the bench */
};

static void seal_cache_clear(struct seal_cache *c)
{
    sealed_rows_clear(&c->profiles);
    sealed_rows_clear(&c->fresh_profiles);
    sealed_rows_clear(&c->fresh_keys);
    c->made = c->reused = 0;
}

/* Appends {to, sealed: text} to arr. */
static int append_box(json_t *arr, const char *to, const char *text, struct op_err *e)
{
    if (json_array_append_new(arr, json_pack("{s:s, s:s}", "to", to, "sealed", text)) != 0)
        return oom(e);
    return 0;
}

/* Seals the content key `*k` (opened now if still NULL, from `c`) to the vault public key
 * `pk_text` (base64) of test taker `to` and appends it to `arr`, reusing the box kept in `kept`
 * when its fingerprint is current. A test taker without a vault gets nothing. */
static int seal_key_to(struct instance *inst, json_t *arr, const struct delivery_content *c,
                       struct app_content_key **k, const struct sealed_rows *kept,
                       struct seal_cache *sc, const char *to, const char *pk_text, struct op_err *e)
{
    if (!pk_text || !pk_text[0])
        return 0;
    int64_t version = c->version;
    const struct fingerprint_part plain[] = {{c->delivery_id, strlen(c->delivery_id)},
                                             {&version, sizeof version},
                                             {c->wrapped_key, c->wrapped_len}};
    char fp[SEALED_FP_HEX];
    fingerprint(SEALED_CONTENT_KEY, c->delivery_id, to, pk_text, plain, 3, fp);
    const struct sealed_row *row = sealed_rows_find(kept, c->delivery_id, to);
    if (row && strcmp(row->fingerprint, fp) == 0) {
        sc->reused++;
        return append_box(arr, to, row->sealed, e);
    }
    unsigned char pk[VAULT_PUBLIC_BYTES], sealed[CONTENT_SEALED_KEY_BYTES];
    int rc = vault_from_text(pk_text, pk, sizeof pk, "vault public key", e);
    if (rc == 0 && !*k)
        rc = app_content_key_open(inst, c->delivery_id, c->version, k, e);
    if (rc == 0)
        rc = app_content_key_seal(*k, pk, sealed, e);
    if (rc != 0)
        return rc;
    char text[CONTENT_SEALED_KEY_BYTES * 4 / 3 + 4];
    vault_to_text(sealed, sizeof sealed, text, sizeof text);
    sc->made++;
    rc = sealed_rows_add(&sc->fresh_keys, c->delivery_id, to, fp, text, e);
    return rc == 0 ? append_box(arr, to, text, e) : rc;
}

/* An eligibility, with the content key of its delivery's current encrypted package sealed to
 * each of its test takers (`content_keys`, for `content_version`; [] and null when the
 * delivery has none): the key reaches a device only sealed to those who may take the test. */
static int eligibility_data(struct instance *inst, struct seal_cache *sc, const char *id,
                            json_t **out, struct op_err *e)
{
    struct db *db = inst->db;
    struct eligibility el;
    memset(&el, 0, sizeof el);
    struct delivery d;
    memset(&d, 0, sizeof d);
    struct delivery_content c;
    int have = 0;
    struct app_content_key *key = NULL; /* opened at the first box not kept */
    struct sealed_rows kept = {0};
    int rc = eligibilities_get(db, id, &el, e);
    if (rc == 0)
        rc = deliveries_get(db, el.delivery_id, &d, e);
    if (rc == 0)
        rc = current_content(db, &d, &c, &have, e);
    if (rc == 0 && have)
        rc = sealed_read_record(db, SEALED_CONTENT_KEY, d.id, &kept, e);
    json_t *takers = json_array(), *keys = json_array();
    if (rc == 0 && (!takers || !keys))
        rc = oom(e);
    if (rc == 0) {
        struct db_stmt *st = db_stmt(db,
                                     "SELECT t.user_id, u.vault_public_key"
                                     " FROM eligibility_test_takers t"
                                     " JOIN users u ON u.id = t.user_id"
                                     " WHERE t.eligibility_id = ?1 ORDER BY t.user_id",
                                     e);
        if (!st)
            rc = OP_EDB;
        else {
            db_bind_text(st, 1, id);
            int r;
            while (rc == 0 && (r = db_step(st)) == DB_ROW) {
                if (json_array_append_new(takers, json_string(db_column_text(st, 0))) != 0)
                    rc = oom(e);
                else if (have)
                    rc = seal_key_to(inst, keys, &c, &key, &kept, sc, db_column_text(st, 0),
                                     db_column_text(st, 1), e);
            }
            if (rc == 0 && r == DB_ERROR)
                rc = db_fail(db, e, "reading the test takers of an eligibility");
            db_stmt_done(db, st);
        }
    }
    if (rc == 0) {
        *out = json_pack("{s:s, s:s, s:b, s:O, s:O, s:o}", "center_id", el.center_id, "delivery_id",
                         el.delivery_id, "proctored", el.proctored, "test_takers", takers,
                         "content_keys", keys, "content_version",
                         have ? json_integer(c.version) : json_null());
        if (!*out)
            rc = oom(e);
    }
    app_content_key_free(key);
    sealed_rows_clear(&kept);
    json_decref(takers);
    json_decref(keys);
    delivery_clear(&d);
    eligibility_clear(&el);
    return rc;
}

/* Seals `profile` to the public key `pk_text` (base64) of `to` and appends it to `arr`,
 * reusing the box kept for (user, to) when its fingerprint is current; `cur` gets the box
 * either way, *made 1 when it is new. A user without a vault (none yet) gets nothing sealed to
 * them. */
static int seal_to(json_t *arr, struct seal_cache *sc, struct sealed_rows *cur, int *made,
                   const char *user, const char *to, const char *pk_text, const char *profile,
                   struct op_err *e)
{
    if (!pk_text || !pk_text[0])
        return 0;
    size_t len = strlen(profile);
    const struct fingerprint_part plain[] = {{profile, len}};
    char fp[SEALED_FP_HEX];
    fingerprint(SEALED_PROFILE, user, to, pk_text, plain, 1, fp);
    const struct sealed_row *row = sealed_rows_find(&sc->profiles, user, to);
    if (row && strcmp(row->fingerprint, fp) == 0) {
        sc->reused++;
        int rc = sealed_rows_add(cur, user, to, fp, row->sealed, e);
        return rc == 0 ? append_box(arr, to, row->sealed, e) : rc;
    }
    unsigned char pk[VAULT_PUBLIC_BYTES];
    int rc = vault_from_text(pk_text, pk, sizeof pk, "vault public key", e);
    if (rc != 0)
        return rc;
    size_t slen = len + VAULT_SEAL_OVERHEAD;
    unsigned char *sealed = malloc(slen);
    size_t tcap = slen * 4 / 3 + 4;
    char *text = malloc(tcap);
    if (!sealed || !text)
        rc = oom(e);
    if (rc == 0)
        rc = vault_seal(pk, (const unsigned char *)profile, len, sealed, e);
    if (rc == 0) {
        vault_to_text(sealed, slen, text, tcap);
        sc->made++;
        *made = 1;
        rc = sealed_rows_add(cur, user, to, fp, text, e);
        if (rc == 0)
            rc = append_box(arr, to, text, e);
    }
    free(sealed);
    free(text);
    return rc;
}

/* The proctors of a page's users: for each user of the page, the proctors (with a vault) of
 * the centers of `org` where the user is a test taker or a staff member, other than the user;
 * read in one statement for the whole page, sorted by (user, proctor) in byte order. */
struct page_proctor {
    char user[SEALED_ID_MAX];
    char proctor[SEALED_ID_MAX];
    char *pk_text;
};

struct page_proctors {
    struct page_proctor *v;
    size_t n, cap;
};

static void page_proctors_clear(struct page_proctors *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].pk_text);
    free(p->v);
    memset(p, 0, sizeof *p);
}

static int cmp_proctor(const void *a, const void *b)
{
    const struct page_proctor *x = a, *y = b;
    int c = strcmp(x->user, y->user);
    return c ? c : strcmp(x->proctor, y->proctor);
}

/* The rows of the page's users whose feed rows are in (since, upto]. */
#define PAGE_USERS                                                                                 \
    "SELECT f.entity_id AS uid FROM sync_feed f WHERE f.org_id = ?1 AND f.seq > ?2"                \
    " AND f.seq <= ?3 AND f.entity = 'user' AND f.deleted = 0"

#define PAGE_PROCTORS_SQL                                                                          \
    "SELECT DISTINCT x.uid, u.id, u.vault_public_key FROM ("                                       \
    " SELECT pu.uid, e.center_id AS cid FROM (" PAGE_USERS ") pu"                                  \
    " JOIN eligibility_test_takers t ON t.user_id = pu.uid"                                        \
    " JOIN eligibilities e ON e.id = t.eligibility_id"                                             \
    " UNION SELECT pu.uid, s.center_id FROM (" PAGE_USERS ") pu"                                   \
    " JOIN test_center_staff s ON s.user_id = pu.uid) x"                                           \
    " JOIN test_centers tc ON tc.id = x.cid AND tc.org_id = ?1"                                    \
    " JOIN test_center_staff p ON p.center_id = x.cid AND p.duty = 'proctor'"                      \
    " JOIN users u ON u.id = p.user_id"                                                            \
    " WHERE u.role = 'proctor' AND u.vault_public_key IS NOT NULL AND u.id <> x.uid"

static int page_proctors_read(struct db *db, const char *org, int64_t since, int64_t upto,
                              struct page_proctors *out, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, PAGE_PROCTORS_SQL, e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    db_bind_int64(st, 2, since);
    db_bind_int64(st, 3, upto);
    int r, rc = 0;
    while (rc == 0 && (r = db_step(st)) == DB_ROW) {
        const char *uid = db_column_text(st, 0), *pid = db_column_text(st, 1);
        if (!uid || !pid || strlen(uid) >= SEALED_ID_MAX || strlen(pid) >= SEALED_ID_MAX)
            continue; /* ids are UUIDs; nothing else is a user of a page */
        if (out->n == out->cap) {
            size_t cap = out->cap ? 2 * out->cap : 256;
            struct page_proctor *v = realloc(out->v, sizeof *v * cap);
            if (!v) {
                rc = oom(e);
                break;
            }
            out->v = v;
            out->cap = cap;
        }
        struct page_proctor *pp = &out->v[out->n];
        pp->pk_text = db_column_strdup(st, 2);
        if (!pp->pk_text) {
            rc = oom(e);
            break;
        }
        strcpy(pp->user, uid);
        strcpy(pp->proctor, pid);
        out->n++;
    }
    if (rc == 0 && r == DB_ERROR)
        rc = db_fail(db, e, "reading the proctors of the users of a page");
    db_stmt_done(db, st);
    if (rc == 0 && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_proctor);
    return rc;
}

static int user_data(struct db *db, struct seal_cache *sc, const struct page_proctors *pp,
                     const char *id, json_t **out, struct op_err *e)
{
    struct user u;
    memset(&u, 0, sizeof u);
    int rc = users_get_by_id(db, id, &u, e);
    if (rc != 0) {
        user_clear(&u);
        return rc;
    }
    json_t *prof =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "label", str_or_null(u.label), "first_name",
                  str_or_null(u.first_name), "last_name", str_or_null(u.last_name), "mail",
                  str_or_null(u.mail), "interface_lang", str_or_null(u.interface_lang),
                  "default_lang", str_or_null(u.default_lang));
    char *profile = prof ? json_dumps(prof, JSON_COMPACT) : NULL;
    json_decref(prof);
    json_t *sealed = json_array();
    struct sealed_rows cur = {0};
    int made = 0;
    if (!profile || !sealed)
        rc = oom(e);
    if (rc == 0)
        rc = seal_to(sealed, sc, &cur, &made, u.id, u.id, u.vault_public_key, profile, e);
    /* this user's proctors: a run of pp, which is sorted by user then proctor */
    size_t lo = 0, hi = pp->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(pp->v[mid].user, u.id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; rc == 0 && i < pp->n && strcmp(pp->v[i].user, u.id) == 0; i++)
        rc = seal_to(sealed, sc, &cur, &made, u.id, pp->v[i].proctor, pp->v[i].pk_text, profile, e);
    if (profile) {
        memset(profile, 0, strlen(profile));
        free(profile);
    }
    /* a new box, or a recipient gone (fewer boxes now than kept): keep exactly the user's
     * current boxes */
    if (rc == 0 && sealed_rows_count(&sc->profiles, u.id) != cur.n)
        made = 1;
    for (size_t i = 0; rc == 0 && made && i < cur.n; i++)
        rc = sealed_rows_add(&sc->fresh_profiles, cur.v[i].record_id, cur.v[i].recipient,
                             cur.v[i].fingerprint, cur.v[i].sealed, e);
    sealed_rows_clear(&cur);
    if (rc == 0) {
        *out = json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:O}", "login", u.login, "role", u.role,
                         "org_id", str_or_null(u.org_id), "password_hash",
                         u.password_hash ? u.password_hash : "", "vault_public_key",
                         str_or_null(u.vault_public_key), "vault_secret_wrapped",
                         str_or_null(u.vault_secret_wrapped), "profile", sealed);
        if (!*out)
            rc = oom(e);
    }
    json_decref(sealed);
    user_clear(&u);
    return rc;
}

struct read_ctx {
    struct instance *inst;
    const char *org;
    int64_t since;
    int limit;
    struct changes_page *out;
    struct seal_cache seals;
    int keep_digest; /* the digest was computed, not read: keep it */
};

static void page_reset(struct changes_page *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->rec[i].text);
    free(p->rec);
    memset(p, 0, sizeof *p);
}

static int max_seq(struct db *db, const char *org, int64_t *out, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, "SELECT max(seq) FROM sync_feed WHERE org_id = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, org);
    int r = db_step(st);
    *out = r == DB_ROW ? db_column_int64(st, 0) : 0;
    db_stmt_done(db, st);
    return r == DB_ROW ? 0 : db_fail(db, e, "reading the change feed");
}

static int read_body(struct db *db, void *vctx, struct op_err *e)
{
    struct read_ctx *c = vctx;
    struct changes_page *p = c->out;
    page_reset(p);
    seal_cache_clear(&c->seals); /* the body may run again */
    c->keep_digest = 0;
    struct page_proctors pp = {0};
    snprintf(p->org, sizeof p->org, "%s", c->org);
    p->since = c->since;
    p->next = c->since;
    struct feed_change *ch = calloc((size_t)c->limit + 1, sizeof *ch);
    p->rec = calloc((size_t)c->limit + 1, sizeof *p->rec);
    if (!ch || !p->rec) {
        free(ch);
        return oom(e);
    }
    int n = 0;
    int rc = feed_read(db, c->org, c->since, c->limit + 1, ch, &n, e);
    if (rc == 0 && n > c->limit) {
        p->has_more = 1;
        n = c->limit;
    }
    /* the texts kept for the page's feed rows (store/sealed.h, sync_texts): those records are
     * not built again */
    struct sync_texts texts = {0};
    if (rc == 0 && n > 0)
        rc = sync_texts_read_page(db, c->org, c->since, ch[n - 1].seq, &texts, e);
    size_t k = 0;
    int users_to_build = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        struct changes_record *r = &p->rec[p->n++];
        r->seq = ch[i].seq;
        snprintf(r->entity, sizeof r->entity, "%s", ch[i].entity);
        snprintf(r->id, sizeof r->id, "%s", ch[i].entity_id);
        r->version = ch[i].version;
        r->deleted = ch[i].deleted;
        p->next = r->seq;
        while (k < texts.n && texts.v[k].seq < r->seq)
            k++;
        if (!r->deleted && k < texts.n && texts.v[k].seq == r->seq) { /* taken, not copied */
            r->text = texts.v[k].data;
            r->text_len = texts.v[k].len;
            texts.v[k].data = NULL;
            p->texts_kept++;
        } else if (!r->deleted && strcmp(r->entity, FEED_USER) == 0)
            users_to_build++;
    }
    sync_texts_clear(&texts);
    /* what the users to build need, in a few statements for the whole page (seqs in
     * (since, the page's last]): the boxes kept for them and the proctors of their centers */
    if (rc == 0 && users_to_build > 0)
        rc = sealed_read_page(db, SEALED_PROFILE, FEED_USER, c->org, c->since, ch[n - 1].seq,
                              &c->seals.profiles, e);
    if (rc == 0 && users_to_build > 0)
        rc = page_proctors_read(db, c->org, c->since, ch[n - 1].seq, &pp, e);
    for (int i = 0; rc == 0 && i < p->n; i++) {
        struct changes_record *r = &p->rec[i];
        if (r->deleted || r->text)
            continue;
        json_t *data = NULL;
        if (strcmp(r->entity, FEED_TEST_CENTER) == 0)
            rc = center_data(db, r->id, &data, e);
        else if (strcmp(r->entity, FEED_DELIVERY) == 0)
            rc = delivery_data(c->inst, r->id, &data, e);
        else if (strcmp(r->entity, FEED_ELIGIBILITY) == 0)
            rc = eligibility_data(c->inst, &c->seals, r->id, &data, e);
        else if (strcmp(r->entity, FEED_USER) == 0)
            rc = user_data(db, &c->seals, &pp, r->id, &data, e);
        else
            rc = err_set(e, OP_ESTATE, "the change feed holds an unknown entity '%s'", r->entity);
        if (rc == OP_ENOTFOUND) { /* cannot happen in one transaction; be a tombstone */
            rc = 0;
            r->deleted = 1;
        }
        if (rc == 0 && data) {
            /* the bytes every page and device will carry: compact, keys sorted */
            r->text = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
            if (!r->text)
                rc = oom(e);
            else {
                r->text_len = strlen(r->text);
                r->text_made = 1;
                p->texts_made++;
            }
        }
        json_decref(data);
    }
    free(ch);
    page_proctors_clear(&pp);
    if (rc == 0)
        rc = max_seq(db, c->org, &p->max_seq, e);
    /* the digest kept for this max seq is the digest (store/synced.h); else compute it */
    int kept = 0;
    if (rc == 0 && !p->has_more)
        rc = synced_feed_digest_kept(db, c->org, p->max_seq, p->digest, &kept, e);
    if (rc == 0 && !p->has_more && !kept) {
        rc = synced_feed_digest(db, c->org, p->digest, e);
        c->keep_digest = 1;
    }
    p->digest_kept = kept;
    p->sealed_made = c->seals.made;
    p->sealed_reused = c->seals.reused;
    if (rc != 0)
        page_reset(p);
    return rc;
}

/* Writes what the page made (its new boxes, its digest) for the next pages and devices. */
static int keep_body(struct db *db, void *vctx, struct op_err *e)
{
    struct read_ctx *c = vctx;
    int rc = sealed_replace(db, SEALED_PROFILE, &c->seals.fresh_profiles, 1, e);
    if (rc == 0)
        rc = sealed_replace(db, SEALED_CONTENT_KEY, &c->seals.fresh_keys, 0, e);
    if (rc == 0 && c->keep_digest)
        rc = synced_feed_digest_keep(db, c->org, c->out->max_seq, c->out->digest, e);
    /* the texts made for this page, for its feed rows as they were in its snapshot (a row
     * changed since has another seq: its text is not used for it) */
    for (int i = 0; rc == 0 && i < c->out->n; i++) {
        const struct changes_record *r = &c->out->rec[i];
        if (r->text_made)
            rc = sync_texts_put(db, c->org, r->entity, r->id, r->version, r->seq, r->text,
                                r->text_len, e);
    }
    return rc;
}

/* After the read snapshot (a read transaction cannot write): a cache, so a failure (the
 * database busy with a writer) costs the next page time, not this page its answer. */
static void keep_fresh(struct instance *central, struct read_ctx *c)
{
    if (c->seals.fresh_profiles.n == 0 && c->seals.fresh_keys.n == 0 && !c->keep_digest &&
        c->out->texts_made == 0)
        return;
    struct op_err e = {0};
    if (db_write(central->db, keep_body, c, &e) != 0)
        log_msg(OP_LOG_WARN,
                "changes: the sealed boxes, texts and digest of a page were not kept: %s", e.msg);
}

int changes_read(struct instance *central, const char *org, int64_t since, int limit,
                 struct changes_page *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(central, ROLE_CENTRAL, "serving changes", e);
    if (rc != 0)
        return rc;
    if (!org || !org[0] || strlen(org) >= sizeof out->org)
        return err_set_field(e, OP_EINPUT, "org", "the organisation id is empty or too long");
    if (since < 0)
        return err_set_field(e, OP_EINPUT, "since", "since must be 0 or a seq a page gave");
    if (limit < 1 || limit > CHANGES_PAGE_MAX)
        return err_set_field(e, OP_EINPUT, "limit", "limit must be 1 to %d", CHANGES_PAGE_MAX);
    struct read_ctx c;
    memset(&c, 0, sizeof c);
    c.inst = central;
    c.org = org;
    c.since = since;
    c.limit = limit;
    c.out = out;
    /* a read snapshot: the records, max_seq and the digest agree, and devices' syncs do not
     * queue on the write lock */
    rc = db_read(central->db, read_body, &c, e);
    if (rc == 0)
        keep_fresh(central, &c);
    seal_cache_clear(&c.seals);
    return rc;
}

void changes_page_free(struct changes_page *p)
{
    page_reset(p);
}

int changes_feed_seq(struct instance *central, int64_t *seq, struct op_err *e)
{
    *seq = 0;
    struct db_stmt *st = db_stmt(central->db, "SELECT coalesce(max(seq), 0) FROM sync_feed", e);
    if (!st)
        return OP_EDB;
    int r = db_step(st);
    if (r == DB_ROW)
        *seq = db_column_int64(st, 0);
    db_stmt_done(central->db, st);
    return r == DB_ROW ? 0 : db_fail(central->db, e, "reading the change feed");
}

/* The organisations with changes after `after` (caller frees each and the array). */
static int orgs_after(struct db *db, int64_t after, char ***out, int *n, struct op_err *e)
{
    *out = NULL;
    *n = 0;
    struct db_stmt *st =
        db_stmt(db, "SELECT DISTINCT org_id FROM sync_feed WHERE seq > ?1 ORDER BY org_id", e);
    if (!st)
        return OP_EDB;
    db_bind_int64(st, 1, after);
    int r, rc = 0;
    while (rc == 0 && (r = db_step(st)) == DB_ROW) {
        char **v = realloc(*out, sizeof *v * (size_t)(*n + 1));
        char *org = db_column_strdup(st, 0);
        if (!v || !org) {
            free(org);
            if (v)
                *out = v;
            rc = oom(e);
            break;
        }
        *out = v;
        (*out)[(*n)++] = org;
    }
    if (rc == 0 && r == DB_ERROR)
        rc = db_fail(db, e, "reading the change feed");
    db_stmt_done(db, st);
    return rc;
}

int changes_prepare(struct instance *central, int64_t after, struct op_err *e)
{
    int rc = instance_require_role(central, ROLE_CENTRAL, "preparing changes", e);
    char **orgs = NULL;
    int n = 0;
    if (rc == 0)
        rc = orgs_after(central->db, after, &orgs, &n, e);
    for (int i = 0; rc == 0 && i < n; i++) {
        int64_t since = after;
        for (;;) {
            struct changes_page p;
            rc = changes_read(central, orgs[i], since, CHANGES_PAGE_MAX, &p, e);
            int more = rc == 0 && p.has_more && p.next > since;
            since = p.next;
            changes_page_free(&p);
            if (!more)
                break;
        }
    }
    for (int i = 0; i < n; i++)
        free(orgs[i]);
    free(orgs);
    return rc;
}

void changes_prepare_quietly(struct instance *central, int64_t after)
{
    struct op_err e = {0};
    if (changes_prepare(central, after, &e) != 0)
        log_msg(OP_LOG_WARN,
                "changes: the sealed boxes of the new changes were not made ahead"
                " (the next sync makes them): %s",
                e.msg);
}
