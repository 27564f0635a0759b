/*
 * pull.c - applies signed pages of central's change feed on a device (see pull.h).
 */
#include "sync/pull.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/feed.h"
#include "sync/page.h"

static const char *const entity_names[SYNC_ENT_COUNT] = {FEED_USER, FEED_TEST_CENTER,
                                                         FEED_ELIGIBILITY, FEED_DELIVERY};

const char *sync_entity_name(int i)
{
    return i >= 0 && i < SYNC_ENT_COUNT ? entity_names[i] : "";
}

static int entity_index(const char *name)
{
    for (int i = 0; i < SYNC_ENT_COUNT; i++)
        if (strcmp(name, entity_names[i]) == 0)
            return i;
    return -1;
}

static int fail_after = -1;

void sync_pull_fail_after(int n)
{
    fail_after = n;
}

struct bind_ctx {
    const char *org;
};

static int bind_body(struct db *db, void *vctx, struct op_err *e)
{
    struct bind_ctx *c = vctx;
    struct synced_state st;
    int rc = synced_state_get(db, &st, e);
    if (rc != 0 || strcmp(st.org_id, c->org) == 0)
        return rc;
    if (st.org_id[0]) { /* another organisation: what came from the old one goes */
        rc = db_exec(db, "DELETE FROM synced_records", e);
        if (rc != 0)
            return rc;
    }
    memset(&st, 0, sizeof st);
    snprintf(st.org_id, sizeof st.org_id, "%s", c->org);
    return synced_state_put(db, &st, e);
}

int sync_device_bind_org(struct instance *device, const char *org, struct op_err *e)
{
    int rc = instance_require_role(device, ROLE_DEVICE, "binding to an organisation", e);
    if (rc != 0)
        return rc;
    if (!org || !org[0] || strlen(org) >= SYNCED_ORG_MAX)
        return err_set_field(e, OP_EINPUT, "org", "the organisation id is empty or too long");
    struct bind_ctx c = {org};
    return db_write(device->db, bind_body, &c, e);
}

int sync_device_state(struct instance *device, struct synced_state *out, struct op_err *e)
{
    return synced_state_get(device->db, out, e);
}

struct apply_ctx {
    const struct sync_page *page;
    struct sync_apply_report *rep;
};

static int apply_record(struct db *db, const struct sync_page_record *r,
                        const struct synced_state *st, struct sync_counts *cnt, struct op_err *e)
{
    int found = 0, rc;
    if (r->deleted) {
        rc = synced_delete(db, r->entity, r->id, &found, e);
        if (rc == 0 && found)
            cnt->deleted++;
        return rc;
    }
    int64_t have = 0;
    rc = synced_version(db, r->entity, r->id, &have, &found, e);
    if (rc != 0)
        return rc;
    /* Higher versions only; during a full resync central's copy wins whatever it is. */
    if (found && (have == r->version || (have > r->version && !st->full_resync)))
        return st->full_resync ? synced_mark_seen(db, r->entity, r->id, st->generation, e) : 0;
    /* the bytes central sent, checked by the page's parser (sync/page.h): no tree, no dump */
    rc = synced_put_n(db, r->entity, r->id, r->version, (const char *)r->data, r->data_len,
                      st->generation, e);
    if (rc == 0) {
        if (found)
            cnt->updated++;
        else
            cnt->created++;
    }
    return rc;
}

static int apply_body(struct db *db, void *vctx, struct op_err *e)
{
    struct apply_ctx *c = vctx;
    const struct sync_page *p = c->page;
    struct sync_apply_report *rep = c->rep;
    memset(rep, 0, sizeof *rep);
    rep->records = p->n;
    struct synced_state st;
    int rc = synced_state_get(db, &st, e);
    if (rc != 0)
        return rc;
    if (!st.org_id[0])
        return err_set(e, OP_ESTATE,
                       "this device is bound to no organisation yet: enrol it with a sync"
                       " manager of its organisation first; nothing was applied");
    if (strcmp(p->org, st.org_id) != 0)
        return err_set_field(e, OP_EINPUT, "org",
                             "the page is for organisation '%s', this device is bound to '%s';"
                             " nothing was applied",
                             p->org, st.org_id);
    if (p->since != st.cursor)
        return err_set_field(e, OP_ECONFLICT, "since",
                             "the page follows seq %lld but this device is at seq %lld: a"
                             " replayed or out-of-order page; nothing was applied",
                             (long long)p->since, (long long)st.cursor);
    for (int i = 0; rc == 0 && i < p->n; i++) {
        if (fail_after >= 0 && i >= fail_after)
            return err_set(e, OP_EIO, "sync_pull_fail_after: failing after %d records", i);
        int k = entity_index(p->rec[i].entity);
        if (k < 0)
            return err_set(e, OP_EINPUT, "unknown entity '%s'", p->rec[i].entity);
        rc = apply_record(db, &p->rec[i], &st, &rep->counts[k], e);
    }
    if (rc != 0)
        return rc;
    st.cursor = p->next;
    rep->again = p->has_more;
    if (!p->has_more) {
        if (st.full_resync) {
            for (int k = 0; rc == 0 && k < SYNC_ENT_COUNT; k++) {
                int64_t n = 0;
                rc = synced_sweep(db, entity_names[k], st.generation, &n, e);
                rep->counts[k].deleted += n;
            }
            st.full_resync = 0;
            rep->full_resync_done = 1;
        }
        char mine[65];
        if (rc == 0 && p->digest)
            rc = synced_digest(db, mine, e);
        if (rc == 0 && p->digest) {
            rep->digest_checked = 1;
            if (strcmp(mine, p->digest) != 0) {
                rep->digest_mismatch = 1;
                rep->again = 1;
                st.cursor = 0;
                st.full_resync = 1;
                st.generation++;
            }
        }
    }
    if (rc == 0)
        rc = synced_state_put(db, &st, e);
    rep->cursor = st.cursor;
    return rc;
}

int sync_page_hold(const unsigned char *envelope, size_t len,
                   const unsigned char pinned_signing_pk[KEY_PUBLIC_BYTES],
                   struct sync_held_page *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = sync_envelope_open(envelope, len, pinned_signing_pk, &out->body, &out->len, e);
    if (rc != 0)
        return rc;
    rc = sync_page_parse(out->body, out->len, &out->page, e);
    if (rc != 0) {
        free(out->body);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

void sync_held_page_free(struct sync_held_page *h)
{
    if (h->body)
        sync_page_free(&h->page);
    free(h->body); /* after the page: its records' data are spans of it */
    memset(h, 0, sizeof *h);
}

struct apply_many_ctx {
    const struct sync_held_page *pages;
    int n;
    struct sync_apply_report *out;
};

/* db_write body: every page in order, each with its cursor, in the one transaction. */
static int apply_many_body(struct db *db, void *vctx, struct op_err *e)
{
    struct apply_many_ctx *c = vctx;
    int rc = 0;
    for (int i = 0; rc == 0 && i < c->n; i++) {
        struct apply_ctx one = {&c->pages[i].page, &c->out[i]};
        rc = apply_body(db, &one, e);
    }
    return rc;
}

int sync_apply_pages(struct instance *device, const struct sync_held_page *pages, int n,
                     struct sync_apply_report *out, struct op_err *e)
{
    if (n > 0)
        memset(out, 0, sizeof *out * (size_t)n);
    int rc = instance_require_role(device, ROLE_DEVICE, "applying a changes page", e);
    if (rc != 0)
        return rc;
    if (n < 1)
        return err_set(e, OP_EINPUT, "no page to apply");
    struct apply_many_ctx c = {pages, n, out};
    rc = db_write(device->db, apply_many_body, &c, e);
    if (rc != 0)
        memset(out, 0, sizeof *out * (size_t)n);
    return rc;
}

int sync_apply_page(struct instance *device, const unsigned char *envelope, size_t len,
                    const unsigned char pinned_signing_pk[KEY_PUBLIC_BYTES],
                    struct sync_apply_report *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(device, ROLE_DEVICE, "applying a changes page", e);
    if (rc != 0)
        return rc;
    struct sync_held_page h;
    rc = sync_page_hold(envelope, len, pinned_signing_pk, &h, e);
    if (rc != 0)
        return rc;
    rc = sync_apply_pages(device, &h, 1, out, e);
    sync_held_page_free(&h);
    return rc;
}
