/* run.c - one synchronisation of a device with central (see run.h). */
#include "sync/run.h"

#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/content.h"
#include "app/outbox.h"
#include "app/sync_history.h"
#include "base/fs.h"
#include "base/killpoint.h"
#include "base/sha256.h"
#include "base/version.h"
#include "store/feed.h"
#include "store/synced.h"
#include "sync/enrol.h"
#include "sync/results_push.h"

/* ---- test hook ---- */

/* kill_point_at (base/killpoint.h) with a step name made like printf's. */
static void kill_point(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void kill_point(const char *fmt, ...)
{
    char step[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(step, sizeof step, fmt, ap);
    va_end(ap);
    kill_point_at(step);
}

/* ---- the run's state ---- */

struct run {
    struct instance *dev;
    const struct sync_run_options *o;
    struct sync_run_summary *s;
    struct sync_enrolment en;
    struct http_client *hc;
    char *secret;
    int renewed; /* the token was renewed once already */
};

static void progress(struct run *r, const char *phase)
{
    if (r->o->on_progress)
        r->o->on_progress(r->o->progress_arg, phase, r->s, 0);
    if (!r->o->progress)
        return;
    const struct sync_run_summary *s = r->s;
    int64_t rec = 0;
    for (int i = 0; i < SYNC_ENT_COUNT; i++)
        rec += s->counts[i].created + s->counts[i].updated + s->counts[i].deleted;
    fprintf(r->o->progress,
            "\rsync: %-8s pages %" PRId64 ", records %" PRId64 " (%" PRId64 " changed), %" PRId64
            " bytes, results %" PRId64 " sent   ",
            phase, s->pages, s->records, rec, s->bytes, s->results_sent);
    fflush(r->o->progress);
}

/* OP_EIO SYNC_CANCELLED_MSG once the run's cancel flag is set (run.h), else 0. */
static int check_cancel(struct run *r, struct op_err *e)
{
    if (r->o->cancel && atomic_load(r->o->cancel))
        return err_set(e, OP_EIO, SYNC_CANCELLED_MSG);
    return 0;
}

/* ---- the token ---- */

static int get_token(struct run *r, struct op_err *e)
{
    int rc = http_client_set_basic(r->hc, r->en.client_id, r->secret, e);
    static const char form[] = "grant_type=client_credentials";
    struct http_reply rep = {0};
    if (rc == 0)
        rc = http_post(r->hc, "/api/v1/oauth/token", "application/x-www-form-urlencoded", form,
                       strlen(form), &rep, e);
    http_client_set_basic(r->hc, NULL, NULL, e);
    if (rc == 0 && rep.status == 401)
        rc = err_set(e, OP_EUNAUTH,
                     "central refused this device's credential (client %s): the device was "
                     "revoked on central, or enrolled again elsewhere. Check `outpost devices "
                     "list` on central; to sync again, enrol anew (`outpost enrol --login LOGIN "
                     "--force`)",
                     r->en.client_id);
    else if (rc == 0 && rep.status != 200)
        rc = sync_reply_error(&rep, "the token request", e);
    json_t *doc = NULL;
    const char *tok = NULL;
    if (rc == 0) {
        doc = json_loadb(rep.body.data, rep.body.len, 0, NULL);
        tok = doc ? json_string_value(json_object_get(doc, "access_token")) : NULL;
        if (!tok)
            rc = err_set(e, OP_EIO, "central's token answer holds no access_token");
    }
    if (rc == 0)
        rc = http_client_set_bearer(r->hc, tok, e);
    json_decref(doc);
    if (rep.body.data)
        sodium_memzero(rep.body.data, rep.body.len);
    http_reply_free(&rep);
    kill_point("token");
    return rc;
}

/* A request with the bearer token; a 401 invalid_token renews the token once and asks again. */
static int authed(struct run *r, const char *method, const char *path, const char *type,
                  const void *body, size_t len, struct http_reply *rep, struct op_err *e)
{
    for (;;) {
        int rc = strcmp(method, "GET") == 0 ? http_get(r->hc, path, rep, e)
                                            : http_post(r->hc, path, type, body, len, rep, e);
        if (rc != 0)
            return rc;
        r->s->bytes += (int64_t)rep->body.len;
        if (rep->status != 401 || r->renewed || !strstr(rep->www_authenticate, "invalid_token"))
            return 0;
        r->renewed = 1;
        http_reply_free(rep);
        if ((rc = get_token(r, e)) != 0)
            return rc;
    }
}

/* ---- pull ---- */

static int changed_key_error(struct run *r, struct op_err *e, const char *what)
{
    return err_set(e, OP_ECRYPTO,
                   "%s from %s is not signed by the central signing key this device pinned "
                   "(key %s, fingerprint %s); nothing of it was applied. Check on central with "
                   "`outpost keys show`: if central's signing key changed (a restore without "
                   "its keys folder, a new central), or this device was registered to another "
                   "central, revoke and enrol the device again (`outpost enrol --force`); if "
                   "central's key is the pinned one, something between this device and central "
                   "is altering the traffic (%s)",
                   what, r->en.root_url, r->en.signing_key_id, r->en.signing_key_fingerprint,
                   e->msg);
}

/* The pages of one transaction (sync_apply_pages): SYNC_APPLY_PAGES_MAX, or fewer for tests
 * (OUTPOST_TEST_APPLY_PAGES=1: a transaction a page, as before batches). */
static int apply_pages_max(void)
{
    const char *t = getenv("OUTPOST_TEST_APPLY_PAGES");
    if (t && atoi(t) > 0 && atoi(t) <= SYNC_APPLY_PAGES_MAX)
        return atoi(t);
    return SYNC_APPLY_PAGES_MAX;
}

/* Fetches and holds (verified, parsed) the pages from `cursor` until the last page or the
 * batch's bounds: *n pages in held[]. */
static int fetch_batch(struct run *r, int64_t cursor, int limit, struct sync_held_page *held,
                       int max, int *n, struct op_err *e)
{
    *n = 0;
    size_t bytes = 0;
    for (;;) {
        int rc = check_cancel(r, e);
        if (rc != 0)
            return rc;
        char path[128];
        snprintf(path, sizeof path, "/api/v1/changes?since=%" PRId64 "&limit=%d", cursor, limit);
        struct http_reply rep = {0};
        rc = authed(r, "GET", path, NULL, NULL, 0, &rep, e);
        if (rc == 0 && rep.status != 200)
            rc = sync_reply_error(&rep, "the changes page", e);
        if (rc == 0) {
            rc = sync_page_hold((const unsigned char *)rep.body.data, rep.body.len,
                                r->en.signing_public_key, &held[*n], e);
            if (rc == OP_ECRYPTO)
                rc = changed_key_error(r, e, "a changes page");
        }
        http_reply_free(&rep);
        if (rc != 0)
            return rc;
        const struct sync_page *p = &held[*n].page;
        bytes += held[*n].len;
        (*n)++;
        /* held, not applied: a kill here loses the batch, which is asked for again */
        kill_point("held-%" PRId64, r->s->pages + *n);
        if (!p->has_more || *n >= max || bytes >= SYNC_APPLY_BYTES_MAX)
            return 0;
        cursor = p->next;
    }
}

/* Pages of changes from the device's cursor until the last, applied a batch of pages per
 * transaction (sync/pull.h: the records and the cursor after the batch's last page commit
 * together, so a kill at any point loses nothing applied and applies nothing twice). */
static int pull(struct run *r, struct op_err *e)
{
    struct synced_state st;
    int rc = sync_device_state(r->dev, &st, e);
    if (rc != 0)
        return rc;
    int64_t cursor = st.cursor;
    int limit = r->o->page_limit > 0 ? r->o->page_limit : SYNC_PAGE_LIMIT;
    const char *tl = getenv("OUTPOST_TEST_PAGE_LIMIT"); /* tests: many small pages */
    if (tl && atoi(tl) > 0 && atoi(tl) <= SYNC_PAGE_LIMIT)
        limit = atoi(tl);
    int max = apply_pages_max();
    struct sync_held_page held[SYNC_APPLY_PAGES_MAX];
    struct sync_apply_report ar[SYNC_APPLY_PAGES_MAX];
    for (;;) {
        int n = 0;
        struct op_err fetch_e = {0};
        int fetch_rc = fetch_batch(r, cursor, limit, held, max, &n, &fetch_e);
        /* the pages held before a fetch failed are applied all the same: a poor network still
         * moves the device forward */
        rc = n > 0 ? sync_apply_pages(r->dev, held, n, ar, e) : 0;
        for (int i = 0; i < n; i++)
            sync_held_page_free(&held[i]);
        if (rc != 0)
            return rc;
        for (int k = 0; k < n; k++) {
            r->s->pages++;
            r->s->records += ar[k].records;
            for (int i = 0; i < SYNC_ENT_COUNT; i++) {
                r->s->counts[i].created += ar[k].counts[i].created;
                r->s->counts[i].updated += ar[k].counts[i].updated;
                r->s->counts[i].deleted += ar[k].counts[i].deleted;
            }
            progress(r, "pull");
            kill_point("page-%" PRId64, r->s->pages);
        }
        if (fetch_rc != 0) {
            *e = fetch_e;
            return fetch_rc;
        }
        const struct sync_apply_report *last = &ar[n - 1];
        if (last->digest_mismatch && ++r->s->full_resyncs > SYNC_MAX_RESYNCS)
            return err_set(e, OP_EIO,
                           "the device's records still differ from central's after %d full "
                           "resyncs (central changing fast?): sync again later",
                           SYNC_MAX_RESYNCS);
        if (!last->again)
            return 0;
        cursor = last->cursor;
    }
}

/* ---- content ---- */

struct needed {
    struct app_content_ref *refs;
    size_t n, cap;
};

static int need_delivery(const char *id, int64_t version, const char *data, void *ctx,
                         struct op_err *e)
{
    struct needed *nd = ctx;
    json_t *doc = json_loads(data, 0, NULL);
    /* the encrypted package of the delivery's current content (docs/sync-protocol.md, the
     * delivery's data): null while central has none */
    const char *sha = json_string_value(json_object_get(doc, "enc_sha256"));
    json_t *size = json_object_get(doc, "enc_size");
    json_t *cv = json_object_get(doc, "content_version");
    if (sha && json_is_integer(size) && json_integer_value(size) >= 0) {
        if (nd->n == nd->cap) {
            size_t cap = nd->cap ? nd->cap * 2 : 16;
            void *p = realloc(nd->refs, cap * sizeof *nd->refs);
            if (!p) {
                json_decref(doc);
                return err_set(e, OP_ENOMEM, "out of memory");
            }
            nd->refs = p;
            nd->cap = cap;
        }
        struct app_content_ref *ref = &nd->refs[nd->n++];
        memset(ref, 0, sizeof *ref);
        snprintf(ref->delivery_id, sizeof ref->delivery_id, "%s", id);
        ref->version = json_is_integer(cv) ? json_integer_value(cv) : version;
        snprintf(ref->enc_sha256, sizeof ref->enc_sha256, "%s", sha);
        ref->enc_size = (uint64_t)json_integer_value(size);
    }
    json_decref(doc);
    return 0;
}

struct dl_progress {
    struct run *r;
    int64_t n;
    uint64_t last;     /* bytes at the last terminal line */
    uint64_t reported; /* bytes at the last on_progress */
};

static void on_download(void *arg, uint64_t have, uint64_t total)
{
    struct dl_progress *p = arg;
    if (total && have >= total / 2)
        kill_point("package-%" PRId64, p->n);
    if (p->r->o->on_progress && have - p->reported >= (256u << 10)) {
        p->reported = have;
        p->r->o->on_progress(p->r->o->progress_arg, "content", p->r->s, (int64_t)have);
    }
    if (p->r->o->progress && have - p->last >= (1u << 20)) {
        p->last = have;
        fprintf(p->r->o->progress,
                "\rsync: content  package %" PRId64 ": %" PRIu64 " of %" PRIu64 " bytes   ", p->n,
                have, total);
        fflush(p->r->o->progress);
    }
}

static int content(struct run *r, struct op_err *e)
{
    struct needed nd = {0};
    int rc = synced_each(r->dev->db, FEED_DELIVERY, need_delivery, &nd, e);
    struct app_content_ref *missing = NULL;
    size_t nmissing = 0;
    if (rc == 0 && nd.n)
        rc = app_content_missing(r->dev, nd.refs, nd.n, &missing, &nmissing, e);
    char *dir = nmissing ? instance_path(r->dev, "packages/download") : NULL;
    if (rc == 0 && nmissing)
        rc = dir ? fs_mkdir_p(dir, 0700, e) : err_set(e, OP_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < nmissing; i++) {
        const struct app_content_ref *m = &missing[i];
        char path[128];
        snprintf(path, sizeof path, "/api/v1/packages/%s", m->enc_sha256);
        char *dest = fs_join(dir, m->enc_sha256);
        if (!dest) {
            rc = err_set(e, OP_ENOMEM, "out of memory");
            break;
        }
        if ((rc = check_cancel(r, e)) != 0)
            break;
        struct dl_progress dp = {r, r->s->packages + 1, 0, 0};
        rc = http_download(r->hc, path, dest, m->enc_sha256, SYNC_PACKAGE_MAX, on_download, &dp, e);
        if (rc == 0) {
            r->s->bytes += (int64_t)m->enc_size;
            /* http_download checked the bytes while writing them: not read back again */
            rc = app_content_store_checked(r->dev, m->delivery_id, m->version, m->enc_sha256, dest,
                                           e);
        }
        free(dest);
        if (rc == 0) {
            r->s->packages++;
            progress(r, "content");
        }
    }
    free(dir);
    free(missing);
    free(nd.refs);
    return rc;
}

/* ---- push ---- */

static int push(struct run *r, struct op_err *e)
{
    int64_t batches = 0;
    for (;;) {
        int crc = check_cancel(r, e);
        if (crc != 0)
            return crc;
        char *batch = NULL;
        size_t len = 0;
        int count = 0;
        int rc = sync_outbox_next_batch(r->dev, SYNC_BATCH_COUNT, SYNC_BATCH_BYTES, &batch, &len,
                                        &count, e);
        if (rc != 0 || count == 0) {
            free(batch);
            return rc;
        }
        struct http_reply rep = {0};
        rc = authed(r, "POST", "/api/v1/results", "application/json", batch, len, &rep, e);
        free(batch);
        if (rc == 0 && rep.status != 200)
            rc = sync_reply_error(&rep, "the results sent", e);
        batches++;
        kill_point("batch-%" PRId64, batches);
        struct app_outbox_report ar = {0};
        if (rc == 0) {
            rc = sync_outbox_apply_receipts(r->dev, (const unsigned char *)rep.body.data,
                                            rep.body.len, r->en.signing_public_key, &ar, e);
            if (rc == OP_ECRYPTO)
                rc = changed_key_error(r, e, "the receipts of the results sent");
        }
        http_reply_free(&rep);
        if (rc != 0)
            return rc;
        kill_point("receipts-%" PRId64, batches);
        r->s->results_sent += count;
        r->s->results_acknowledged += ar.acknowledged;
        r->s->results_refused += ar.refused;
        progress(r, "push");
        if (ar.acknowledged + ar.refused == 0) /* nothing moved: never loop on it */
            return err_set(e, OP_EIO,
                           "central's receipts matched none of the %d results sent: they stay "
                           "pending for the next sync",
                           count);
    }
}

/* ---- keys ---- */

static int hex_field(json_t *doc, const char *name, unsigned char *out, size_t n)
{
    const char *h = json_string_value(json_object_get(doc, name));
    size_t got = 0;
    return h && strlen(h) == 2 * n && sodium_hex2bin(out, n, h, 2 * n, NULL, &got, NULL) == 0 &&
                   got == n
               ? 0
               : -1;
}

static int keys(struct run *r, struct op_err *e)
{
    struct http_reply rep = {0};
    int rc = authed(r, "GET", "/api/v1/keys", NULL, NULL, 0, &rep, e);
    if (rc == 0 && rep.status != 200)
        rc = sync_reply_error(&rep, "the keys request", e);
    json_t *doc = rc == 0 ? json_loadb(rep.body.data, rep.body.len, 0, NULL) : NULL;
    http_reply_free(&rep);
    if (rc != 0)
        return rc;
    unsigned char pk[KEY_PUBLIC_BYTES], sig[SIGN_BYTES];
    const char *kid = json_string_value(json_object_get(doc, "results_key_id"));
    const char *sid = json_string_value(json_object_get(doc, "signing_key_id"));
    if (!doc || !kid || strlen(kid) != KEY_ID_HEX_LEN - 1 ||
        hex_field(doc, "results_public_key", pk, sizeof pk) != 0 ||
        hex_field(doc, "results_key_signature", sig, sizeof sig) != 0) {
        json_decref(doc);
        return err_set(e, OP_EIO, "central's answer to GET /api/v1/keys is malformed");
    }
    if (sid && strcmp(sid, r->en.signing_key_id) != 0) {
        err_set(e, OP_ECRYPTO, "central now signs with key %s", sid);
        json_decref(doc);
        return changed_key_error(r, e, "the results key");
    }
    int changed = 0;
    rc = sync_keys_store_results(r->dev, kid, pk, sig, &changed, e);
    json_decref(doc);
    if (rc == 0)
        r->s->results_key_changed = changed;
    kill_point("keys");
    return rc;
}

/* ---- report ---- */

static void iso(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *counts_json(const struct sync_run_summary *s)
{
    json_t *o = json_object();
    for (int i = 0; o && i < SYNC_ENT_COUNT; i++)
        json_object_set_new(o, sync_entity_name(i),
                            json_pack("{s:I, s:I, s:I}", "created",
                                      (json_int_t)s->counts[i].created, "updated",
                                      (json_int_t)s->counts[i].updated, "deleted",
                                      (json_int_t)s->counts[i].deleted));
    return o;
}

static int report(struct run *r, time_t started, int ok, const char *error, struct op_err *e)
{
    struct outbox_counts oc = {0};
    struct op_err ignore = {0};
    app_outbox_counts(r->dev, &oc, &ignore);
    r->s->results_pending = oc.pending;
    char a[32], b[32];
    iso(started, a);
    iso(time(NULL), b);
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:o, s:I, s:I, s:o, s:s, s:I, s:I}", "started_at", a, "ended_at", b,
        "status", ok ? "ok" : "failed", "counts", counts_json(r->s), "results_sent",
        (json_int_t)r->s->results_sent, "bytes", (json_int_t)r->s->bytes, "error",
        error && error[0] ? json_string(error) : json_null(), "software_version", OUTPOST_VERSION,
        "pending_results", (json_int_t)oc.pending, "device_time", (json_int_t)time(NULL));
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!body)
        return err_set(e, OP_ENOMEM, "out of memory");
    struct http_reply rep = {0};
    int rc =
        authed(r, "POST", "/api/v1/sync/report", "application/json", body, strlen(body), &rep, e);
    free(body);
    if (rc == 0 && rep.status != 200 && rep.status != 201)
        rc = sync_reply_error(&rep, "the sync report", e);
    http_reply_free(&rep);
    kill_point("report");
    return rc;
}

/* ---- the run ---- */

int sync_run(struct instance *device, const struct sync_run_options *o,
             struct sync_run_summary *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(device, ROLE_DEVICE, "sync", e);
    if (rc != 0)
        return rc;
    struct run r;
    memset(&r, 0, sizeof r);
    r.dev = device;
    r.o = o;
    r.s = out;
    /* Check what needs no lock first, so that a device not enrolled records no run. */
    if ((rc = sync_enrolment_get(device, &r.en, e)) != 0)
        return rc;
    struct app_sync_run run;
    if ((rc = app_sync_run_begin(device, NULL, &run, e)) != 0)
        return rc;
    snprintf(out->run_id, sizeof out->run_id, "%s", run.id);
    time_t started = time(NULL);
    progress(&r, "lock");
    rc = sync_client_secret_read(device, &r.secret, e);
    if (rc == 0)
        rc = sync_client_open(device, &r.hc, e);
    if (rc == 0)
        http_client_set_cancel(r.hc, o->cancel);
    /* the binding is idempotent: it completes an enrolment cut before it */
    if (rc == 0)
        rc = sync_device_bind_org(device, r.en.org_id, e);
    if (rc == 0) {
        progress(&r, "token");
        rc = get_token(&r, e);
    }
    if (rc == 0) {
        progress(&r, "pull");
        rc = pull(&r, e);
        out->pull_ok = rc == 0;
    }
    if (rc == 0) {
        progress(&r, "content");
        rc = content(&r, e);
        out->pull_ok = rc == 0;
    }
    /* Results go out even when the pull failed for a reason of its own (a page refused, a
     * package missing): they are what must never wait. Not when the credential, the network
     * or central's key failed. */
    if (rc == 0 || (r.hc && !check_cancel(&r, &(struct op_err){0}) &&
                    (rc == OP_EINPUT || rc == OP_ECONFLICT || rc == OP_ENOTFOUND))) {
        struct op_err pe = {0};
        progress(&r, "push");
        int push_rc = push(&r, &pe);
        out->push_ok = push_rc == 0;
        if (rc == 0 && push_rc != 0) {
            *e = pe;
            rc = push_rc;
        }
    }
    if (rc == 0 && (rc = check_cancel(&r, e)) == 0) {
        progress(&r, "keys");
        rc = keys(&r, e);
    }
    /* a cancelled run says so, whatever step noticed it first */
    int cancelled = r.o->cancel && atomic_load(r.o->cancel);
    if (rc != 0 && cancelled)
        err_set(e, OP_EIO, SYNC_CANCELLED_MSG);
    if (rc != 0)
        snprintf(out->error, sizeof out->error, "%s", e->msg);
    /* a server that stops reports nothing to central: the next run reports */
    if (r.hc && rc != OP_EUNAUTH && !cancelled) {
        progress(&r, "report");
        struct op_err re = {0};
        if (report(&r, started, rc == 0, out->error, &re) != 0 && rc == 0) {
            *e = re;
            rc = re.code;
            snprintf(out->error, sizeof out->error, "%s", e->msg);
        }
    }
    if (o->progress) {
        progress(&r, rc == 0 ? "done" : "failed");
        fputc('\n', o->progress);
    }
    json_t *counts = counts_json(out);
    const struct app_sync_outcome oc = {rc == 0, counts, out->results_sent, out->bytes,
                                        rc == 0 ? NULL : out->error};
    struct op_err ee = {0};
    int erc = app_sync_run_end(device, &run, &oc, &ee);
    json_decref(counts);
    if (rc == 0 && erc != 0) {
        *e = ee;
        rc = erc;
    }
    http_client_free(r.hc);
    if (r.secret)
        fs_secret_free(r.secret);
    return rc;
}

json_t *sync_run_summary_json(const struct sync_run_summary *s)
{
    int ok = s->pull_ok && s->push_ok && !s->error[0];
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:b, s:o}",
        "run_id", s->run_id, "status", ok ? "ok" : "failed", "pull", s->pull_ok ? "ok" : "failed",
        "push", s->push_ok ? "ok" : "failed", "counts", counts_json(s), "pages",
        (json_int_t)s->pages, "records", (json_int_t)s->records, "full_resyncs", s->full_resyncs,
        "packages", (json_int_t)s->packages, "bytes", (json_int_t)s->bytes, "results_sent",
        (json_int_t)s->results_sent, "results_acknowledged", (json_int_t)s->results_acknowledged,
        "results_refused", (json_int_t)s->results_refused, "results_pending",
        (json_int_t)s->results_pending, "results_key_changed", s->results_key_changed, "error",
        s->error[0] ? json_string(s->error) : json_null());
}
