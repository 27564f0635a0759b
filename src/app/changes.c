/*
 * changes.c - one page of an organisation's change feed with its records (see changes.h).
 */
#include "app/changes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/content.h"
#include "base/fs.h"
#include "crypto/vault.h"
#include "store/deliveries.h"
#include "store/delivery_content.h"
#include "store/eligibilities.h"
#include "store/feed.h"
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

/* Seals the content key `k` to the vault public key `pk_text` (base64) of test taker `to` and
 * appends it to `arr`. A test taker without a vault gets nothing. */
static int seal_key_to(json_t *arr, const struct app_content_key *k, const char *to,
                       const char *pk_text, struct op_err *e)
{
    if (!pk_text || !pk_text[0])
        return 0;
    unsigned char pk[VAULT_PUBLIC_BYTES], sealed[CONTENT_SEALED_KEY_BYTES];
    int rc = vault_from_text(pk_text, pk, sizeof pk, "vault public key", e);
    if (rc == 0)
        rc = app_content_key_seal(k, pk, sealed, e);
    if (rc != 0)
        return rc;
    char text[CONTENT_SEALED_KEY_BYTES * 4 / 3 + 4];
    vault_to_text(sealed, sizeof sealed, text, sizeof text);
    if (json_array_append_new(arr, json_pack("{s:s, s:s}", "to", to, "sealed", text)) != 0)
        return oom(e);
    return 0;
}

/* An eligibility, with the content key of its delivery's current encrypted package sealed to
 * each of its test takers (`content_keys`, for `content_version`; [] and null when the
 * delivery has none): the key reaches a device only sealed to those who may take the test. */
static int eligibility_data(struct instance *inst, const char *id, json_t **out, struct op_err *e)
{
    struct db *db = inst->db;
    struct eligibility el;
    memset(&el, 0, sizeof el);
    struct delivery d;
    memset(&d, 0, sizeof d);
    struct delivery_content c;
    int have = 0;
    struct app_content_key *key = NULL;
    int rc = eligibilities_get(db, id, &el, e);
    if (rc == 0)
        rc = deliveries_get(db, el.delivery_id, &d, e);
    if (rc == 0)
        rc = current_content(db, &d, &c, &have, e);
    if (rc == 0 && have)
        rc = app_content_key_open(inst, d.id, c.version, &key, e);
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
                else if (key)
                    rc = seal_key_to(keys, key, db_column_text(st, 0), db_column_text(st, 1), e);
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
    json_decref(takers);
    json_decref(keys);
    delivery_clear(&d);
    eligibility_clear(&el);
    return rc;
}

/* Seals `profile` to the public key `pk_text` (base64) of `to` and appends it to `arr`. A
 * user without a vault (none yet) gets nothing sealed to them. */
static int seal_to(json_t *arr, const char *to, const char *pk_text, const char *profile,
                   struct op_err *e)
{
    if (!pk_text || !pk_text[0])
        return 0;
    unsigned char pk[VAULT_PUBLIC_BYTES];
    int rc = vault_from_text(pk_text, pk, sizeof pk, "vault public key", e);
    if (rc != 0)
        return rc;
    size_t len = strlen(profile), slen = len + VAULT_SEAL_OVERHEAD;
    unsigned char *sealed = malloc(slen);
    size_t tcap = slen * 4 / 3 + 4;
    char *text = malloc(tcap);
    if (!sealed || !text)
        rc = oom(e);
    if (rc == 0)
        rc = vault_seal(pk, (const unsigned char *)profile, len, sealed, e);
    if (rc == 0) {
        vault_to_text(sealed, slen, text, tcap);
        if (json_array_append_new(arr, json_pack("{s:s, s:s}", "to", to, "sealed", text)) != 0)
            rc = oom(e);
    }
    free(sealed);
    free(text);
    return rc;
}

/* The proctors (with a vault) of the centers of `org` where `user_id` is a test taker or staff
 * member, other than the user. */
#define PROCTORS_SQL                                                                               \
    "SELECT DISTINCT u.id, u.vault_public_key FROM users u"                                        \
    " JOIN test_center_staff s ON s.user_id = u.id AND s.duty = 'proctor'"                         \
    " JOIN test_centers tc ON tc.id = s.center_id"                                                 \
    " WHERE tc.org_id = ?1 AND u.role = 'proctor' AND u.id <> ?2"                                  \
    " AND u.vault_public_key IS NOT NULL AND s.center_id IN ("                                     \
    "  SELECT e.center_id FROM eligibilities e"                                                    \
    "  JOIN eligibility_test_takers t ON t.eligibility_id = e.id WHERE t.user_id = ?2"             \
    "  UNION SELECT center_id FROM test_center_staff WHERE user_id = ?2)"                          \
    " ORDER BY u.id"

static int user_data(struct db *db, const char *org, const char *id, json_t **out, struct op_err *e)
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
    if (!profile || !sealed)
        rc = oom(e);
    if (rc == 0)
        rc = seal_to(sealed, u.id, u.vault_public_key, profile, e);
    struct db_stmt *st = rc == 0 ? db_stmt(db, PROCTORS_SQL, e) : NULL;
    if (rc == 0 && !st)
        rc = OP_EDB;
    if (st) {
        db_bind_text(st, 1, org);
        db_bind_text(st, 2, u.id);
        int r;
        while (rc == 0 && (r = db_step(st)) == DB_ROW)
            rc = seal_to(sealed, db_column_text(st, 0), db_column_text(st, 1), profile, e);
        if (rc == 0 && r == DB_ERROR)
            rc = db_fail(db, e, "reading the proctors of a user's centers");
        db_stmt_done(db, st);
    }
    if (profile) {
        memset(profile, 0, strlen(profile));
        free(profile);
    }
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
};

static void page_reset(struct changes_page *p)
{
    for (int i = 0; i < p->n; i++)
        json_decref(p->rec[i].data);
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
    for (int i = 0; rc == 0 && i < n; i++) {
        struct changes_record *r = &p->rec[p->n++];
        r->seq = ch[i].seq;
        snprintf(r->entity, sizeof r->entity, "%s", ch[i].entity);
        snprintf(r->id, sizeof r->id, "%s", ch[i].entity_id);
        r->version = ch[i].version;
        r->deleted = ch[i].deleted;
        p->next = r->seq;
        if (r->deleted)
            continue;
        if (strcmp(r->entity, FEED_TEST_CENTER) == 0)
            rc = center_data(db, r->id, &r->data, e);
        else if (strcmp(r->entity, FEED_DELIVERY) == 0)
            rc = delivery_data(c->inst, r->id, &r->data, e);
        else if (strcmp(r->entity, FEED_ELIGIBILITY) == 0)
            rc = eligibility_data(c->inst, r->id, &r->data, e);
        else if (strcmp(r->entity, FEED_USER) == 0)
            rc = user_data(db, c->org, r->id, &r->data, e);
        else
            rc = err_set(e, OP_ESTATE, "the change feed holds an unknown entity '%s'", r->entity);
        if (rc == OP_ENOTFOUND) { /* cannot happen in one transaction; be a tombstone */
            rc = 0;
            r->deleted = 1;
        }
    }
    free(ch);
    if (rc == 0)
        rc = max_seq(db, c->org, &p->max_seq, e);
    if (rc == 0 && !p->has_more)
        rc = synced_feed_digest(db, c->org, p->digest, e);
    if (rc != 0)
        page_reset(p);
    return rc;
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
    struct read_ctx c = {central, org, since, limit, out};
    /* a read snapshot: the records, max_seq and the digest agree, and devices' syncs do not
     * queue on the write lock */
    return db_read(central->db, read_body, &c, e);
}

void changes_page_free(struct changes_page *p)
{
    page_reset(p);
}
