/*
 * runner.c - a test taker's QTI test session on the device (runner.h, docs/runner.md).
 *
 * Three parts: the package (a compiled delivery package parsed once and shared, its bytes
 * kept for the render models and assets), the cache of packages and how a test taker's key
 * opens one, and the steps of a session, each of which restores the engine's session from
 * the state JSON, acts at the engine's clock (the device's clock minus paused time) and
 * saves it again. No step keeps anything between calls: the state is the caller's.
 */
#include "app/runner.h"

#include "app/upload.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/upload.h"
#include "base/sha256.h"
#include "crypto/content.h"
#include "qti/compile.h"
#include "qti/item_session.h"
#include "qti/pci.h"
#include "qti/test_session.h"
#include "store/feed.h"
#include "store/packages.h"
#include "store/synced.h"

/* ------------------------------------------------------------------------ packages -- */

struct runner_package {
    atomic_int refs;
    char sha[SHA256_HEX_LEN];
    unsigned char *bytes;
    size_t len;
    struct qti_delivery d; /* entries point into bytes */
    struct qti_loaded *l;  /* the test and its items */
};

static int oom(struct op_err *e)
{
    return err_set(e, OP_ENOMEM, "out of memory");
}

int runner_package_from_bytes(const unsigned char *data, size_t len, struct runner_package **out,
                              struct op_err *e)
{
    *out = NULL;
    if (len > RUNNER_PACKAGE_MAX)
        return err_set(e, OP_EINPUT, "the compiled package is over %u MiB",
                       RUNNER_PACKAGE_MAX >> 20);
    struct runner_package *p = calloc(1, sizeof *p);
    if (!p || !(p->bytes = malloc(len ? len : 1))) {
        free(p);
        return oom(e);
    }
    memcpy(p->bytes, data, len);
    p->len = len;
    atomic_init(&p->refs, 1);
    sha256_hex(p->bytes, len, p->sha);
    int rc = qti_delivery_open(p->bytes, len, &p->d, e);
    if (rc == 0) {
        rc = qti_delivery_load(p->bytes, len, &p->l, e);
        if (rc)
            qti_delivery_close(&p->d);
    }
    if (rc) {
        free(p->bytes);
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void runner_package_release(struct runner_package *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    qti_loaded_free(p->l);
    qti_delivery_close(&p->d);
    free(p->bytes);
    free(p);
}

static struct runner_package *package_ref(struct runner_package *p)
{
    atomic_fetch_add(&p->refs, 1);
    return p;
}

const char *runner_package_sha256(const struct runner_package *p)
{
    return p->sha;
}

int runner_package_asset(const struct runner_package *p, const char *path,
                         const unsigned char **data, size_t *len, const char **type,
                         struct op_err *e)
{
    json_t *assets = json_object_get(p->l->delivery_manifest, "assets"), *a;
    size_t i;
    json_array_foreach(assets, i, a)
    {
        const char *ap = json_string_value(json_object_get(a, "path"));
        if (!ap || !path || strcmp(ap, path) != 0)
            continue;
        const struct qti_delivery_entry *en =
            qti_delivery_find(&p->d, json_string_value(json_object_get(a, "entry")));
        if (!en)
            break;
        const char *t = json_string_value(json_object_get(a, "type"));
        *data = en->data;
        *len = en->len;
        *type = t && t[0] ? t : "application/octet-stream";
        return 0;
    }
    return err_set_field(e, OP_ENOTFOUND, "path", "the package has no file %s", path ? path : "");
}

int runner_package_pci(const struct runner_package *p, const char *entry,
                       const struct qti_pci **out, struct op_err *e)
{
    *out = NULL;
    for (size_t i = 0; entry && i < p->l->nitems; i++) {
        const struct qti_item *item = p->l->items[i].item;
        for (size_t k = 0; item && k < qti_item_interaction_count(item); k++) {
            const struct qti_interaction *it = qti_item_interaction(item, k);
            if (it->kind != QTI_INTERACTION_CUSTOM || !it->pci || it->pci->nmodules == 0)
                continue;
            if (strcmp(it->pci->modules[it->pci->nmodules - 1], entry) == 0) {
                *out = it->pci;
                return 0;
            }
        }
    }
    return err_set_field(e, OP_ENOTFOUND, "path", "the package has no PCI whose entry is %s",
                         entry ? entry : "");
}

/* The render model of the item at `href` (new reference). */
static int render_model(const struct runner_package *p, const char *href, json_t **out,
                        struct op_err *e)
{
    json_t *items = json_object_get(p->l->delivery_manifest, "items"), *x;
    size_t i;
    json_array_foreach(items, i, x)
    {
        const char *h = json_string_value(json_object_get(x, "href"));
        if (!h || strcmp(h, href) != 0)
            continue;
        const struct qti_delivery_entry *en =
            qti_delivery_find(&p->d, json_string_value(json_object_get(x, "render")));
        if (!en)
            break;
        *out = json_loadb((const char *)en->data, en->len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            break;
        }
        return 0;
    }
    return err_set(e, OP_EINPUT, "delivery package: no render model for item %s", href);
}

/* --------------------------------------------------------------------------- cache -- */

#define CACHE_TAKERS_MAX 4096 /* test takers remembered per package (then the key is opened) */

struct cache_entry {
    struct runner_package *p;
    char key_hash[SHA256_HEX_LEN]; /* SHA-256 of the content key that opened it */
    char **takers;                 /* test takers whose key was seen to open it */
    size_t ntakers;
    unsigned long used;
};

struct runner_cache {
    pthread_mutex_t mu;
    struct cache_entry *ents;
    size_t n, cap;
    unsigned long clock, loads;
};

int runner_cache_new(size_t capacity, struct runner_cache **out, struct op_err *e)
{
    *out = NULL;
    struct runner_cache *c = calloc(1, sizeof *c);
    if (!c)
        return oom(e);
    c->cap = capacity ? capacity : RUNNER_CACHE_DEFAULT;
    c->ents = calloc(c->cap, sizeof *c->ents);
    if (!c->ents) {
        free(c);
        return oom(e);
    }
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return 0;
}

static void entry_clear(struct cache_entry *en)
{
    runner_package_release(en->p);
    for (size_t i = 0; i < en->ntakers; i++)
        free(en->takers[i]);
    free(en->takers);
    memset(en, 0, sizeof *en);
}

void runner_cache_free(struct runner_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        entry_clear(&c->ents[i]);
    free(c->ents);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

size_t runner_cache_size(struct runner_cache *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

unsigned long runner_cache_loads(struct runner_cache *c)
{
    pthread_mutex_lock(&c->mu);
    unsigned long n = c->loads;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Under the lock. */
static struct cache_entry *cache_find(struct runner_cache *c, const char *sha)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->ents[i].p->sha, sha) == 0) {
            c->ents[i].used = ++c->clock;
            return &c->ents[i];
        }
    return NULL;
}

static int entry_knows(const struct cache_entry *en, const char *taker)
{
    for (size_t i = 0; i < en->ntakers; i++)
        if (strcmp(en->takers[i], taker) == 0)
            return 1;
    return 0;
}

static void entry_remember(struct cache_entry *en, const char *taker)
{
    if (entry_knows(en, taker) || en->ntakers >= CACHE_TAKERS_MAX)
        return;
    char **t = realloc(en->takers, (en->ntakers + 1) * sizeof *t);
    if (!t)
        return;
    en->takers = t;
    if ((t[en->ntakers] = strdup(taker)))
        en->ntakers++;
}

/* Under the lock: adds `p` (takes the reference), evicting the least recently used. */
static struct cache_entry *cache_insert(struct runner_cache *c, struct runner_package *p,
                                        const char *key_hash)
{
    size_t slot = c->n;
    if (c->n == c->cap) {
        slot = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->ents[i].used < c->ents[slot].used)
                slot = i;
        entry_clear(&c->ents[slot]);
    } else {
        c->n++;
    }
    struct cache_entry *en = &c->ents[slot];
    en->p = p;
    snprintf(en->key_hash, sizeof en->key_hash, "%s", key_hash);
    en->used = ++c->clock;
    return en;
}

/* What the device synchronised of delivery `id`. */
struct delivery_ref {
    char package_sha256[SHA256_HEX_LEN];
    char enc_sha256[SHA256_HEX_LEN];
    int64_t enc_size;
};

static int delivery_ref(struct db *db, const char *id, struct delivery_ref *r, struct op_err *e)
{
    int64_t v;
    char *data = NULL;
    int rc = synced_get(db, FEED_DELIVERY, id, &v, &data, e);
    if (rc == OP_ENOTFOUND)
        return err_set_field(e, OP_ENOTFOUND, "delivery_id", "this device has no delivery %s", id);
    if (rc)
        return rc;
    json_t *d = json_loads(data, 0, NULL);
    free(data);
    const char *sha = json_string_value(json_object_get(d, "package_sha256"));
    const char *enc = json_string_value(json_object_get(d, "enc_sha256"));
    json_t *size = json_object_get(d, "enc_size");
    if (!sha256_hex_is_valid(sha) || !sha256_hex_is_valid(enc) || !json_is_integer(size)) {
        json_decref(d);
        return err_set_field(e, OP_ENOTFOUND, "delivery_id",
                             "delivery %s has no encrypted package on this device yet: sync", id);
    }
    snprintf(r->package_sha256, sizeof r->package_sha256, "%s", sha);
    snprintf(r->enc_sha256, sizeof r->enc_sha256, "%s", enc);
    r->enc_size = json_integer_value(size);
    json_decref(d);
    return 0;
}

struct key_find {
    const char *delivery_id, *taker;
    unsigned char sealed[CONTENT_SEALED_KEY_BYTES];
    int found;
};

static int find_sealed(const char *id, int64_t version, const char *data, void *ctx,
                       struct op_err *e)
{
    (void)id;
    (void)version;
    struct key_find *k = ctx;
    json_t *el = json_loads(data, 0, NULL);
    const char *did = json_string_value(json_object_get(el, "delivery_id"));
    if (did && strcmp(did, k->delivery_id) == 0) {
        json_t *it;
        size_t i;
        json_array_foreach(json_object_get(el, "content_keys"), i, it)
        {
            const char *to = json_string_value(json_object_get(it, "to"));
            const char *text = json_string_value(json_object_get(it, "sealed"));
            if (to && text && strcmp(to, k->taker) == 0 &&
                vault_from_text(text, k->sealed, sizeof k->sealed, "sealed content key", e) == 0) {
                k->found = 1;
                break;
            }
        }
    }
    json_decref(el);
    return k->found ? 1 : 0;
}

/* Decrypts the encrypted package `r` with `key` into memory (caller frees *out). */
static int decrypt_package(struct instance *dev, const char *delivery_id,
                           const struct delivery_ref *r, const unsigned char *key,
                           unsigned char **out, size_t *len, struct op_err *e)
{
    *out = NULL;
    *len = 0;
    if (r->enc_size < 0 || (uint64_t)r->enc_size > (uint64_t)RUNNER_PACKAGE_MAX + (1u << 20))
        return err_set(e, OP_EINPUT, "the package of delivery %s is too large to open",
                       delivery_id);
    char *path = packages_enc_path(dev->dir, r->enc_sha256);
    FILE *in = path ? fopen(path, "rb") : NULL;
    free(path);
    if (!in)
        return err_set_field(e, OP_ENOTFOUND, "delivery_id",
                             "the package of delivery %s is not on this device yet: sync",
                             delivery_id);
    char *buf = NULL;
    size_t blen = 0;
    FILE *mem = open_memstream(&buf, &blen);
    if (!mem) {
        fclose(in);
        return oom(e);
    }
    int rc = content_decrypt(in, mem, key, delivery_id, e);
    fclose(in);
    if (fclose(mem) != 0 && rc == 0)
        rc = oom(e);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = (unsigned char *)buf;
    *len = blen;
    return 0;
}

int runner_package_open(struct instance *device, struct runner_cache *cache,
                        const char *delivery_id, const char *test_taker_id,
                        const unsigned char pk[VAULT_PUBLIC_BYTES],
                        const unsigned char sk[VAULT_SECRET_BYTES], struct runner_package **out,
                        struct op_err *e)
{
    *out = NULL;
    struct delivery_ref r;
    int rc = delivery_ref(device->db, delivery_id, &r, e);
    if (rc)
        return rc;
    if (cache) {
        pthread_mutex_lock(&cache->mu);
        struct cache_entry *en = cache_find(cache, r.package_sha256);
        if (en && entry_knows(en, test_taker_id))
            *out = package_ref(en->p);
        pthread_mutex_unlock(&cache->mu);
        if (*out)
            return 0;
    }
    struct key_find kf = {.delivery_id = delivery_id, .taker = test_taker_id};
    rc = synced_each(device->db, FEED_ELIGIBILITY, find_sealed, &kf, e);
    if (rc < 0)
        return rc;
    if (!kf.found)
        return err_set_field(e, OP_ENOTFOUND, "delivery_id",
                             "this device holds no content key of delivery %s for this test "
                             "taker: sync, or check the eligibility",
                             delivery_id);
    unsigned char key[CONTENT_KEY_BYTES];
    rc = content_key_open(kf.sealed, sizeof kf.sealed, pk, sk, key, e);
    if (rc)
        return rc;
    char key_hash[SHA256_HEX_LEN];
    sha256_hex(key, sizeof key, key_hash);
    if (cache) {
        pthread_mutex_lock(&cache->mu);
        struct cache_entry *en = cache_find(cache, r.package_sha256);
        if (en && sodium_memcmp(en->key_hash, key_hash, SHA256_HEX_LEN - 1) == 0) {
            entry_remember(en, test_taker_id);
            *out = package_ref(en->p);
        }
        pthread_mutex_unlock(&cache->mu);
        if (*out) {
            sodium_memzero(key, sizeof key);
            return 0;
        }
    }
    unsigned char *clear;
    size_t clen;
    rc = decrypt_package(device, delivery_id, &r, key, &clear, &clen, e);
    sodium_memzero(key, sizeof key);
    if (rc)
        return rc;
    char got[SHA256_HEX_LEN];
    sha256_hex(clear, clen, got);
    struct runner_package *p = NULL;
    if (strcmp(got, r.package_sha256) != 0)
        rc = err_set(e, OP_ECRYPTO, "the package of delivery %s is not the one central named",
                     delivery_id);
    else
        rc = runner_package_from_bytes(clear, clen, &p, e);
    free(clear);
    if (rc)
        return rc;
    if (!cache) {
        *out = p;
        return 0;
    }
    pthread_mutex_lock(&cache->mu);
    cache->loads++;
    struct cache_entry *en = cache_find(cache, p->sha);
    if (en) { /* another thread loaded it meanwhile */
        runner_package_release(p);
        p = en->p;
    } else {
        en = cache_insert(cache, p, key_hash);
    }
    entry_remember(en, test_taker_id);
    *out = package_ref(p);
    pthread_mutex_unlock(&cache->mu);
    return 0;
}

/* --------------------------------------------------------------------------- state -- */

struct rstate {
    const char *sha;
    int item_count;
    int has_limit;
    double time_limit;
    double started_at, paused_total, extra;
    int paused, ended;
    double paused_at, ended_at;
    const json_t *session; /* borrowed */
    const json_t *pci;     /* borrowed: "pci_states" ({"item key": "kept text"}) or NULL */
};

static int bad_state(struct op_err *e, const char *what)
{
    return err_set(e, OP_EINPUT, "runner state: %s", what);
}

static int num(const json_t *o, const char *k, double *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return isfinite(*out) ? 0 : -1;
}

static int state_read(const json_t *st, struct rstate *r, struct op_err *e)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(st) ||
        json_integer_value(json_object_get(st, "format")) != RUNNER_STATE_FORMAT)
        return bad_state(e, "not a runner state of format 1");
    r->sha = json_string_value(json_object_get(st, "package_sha256"));
    r->session = json_object_get(st, "session");
    json_t *ic = json_object_get(st, "item_count");
    if (!sha256_hex_is_valid(r->sha) || !json_is_object(r->session) || !json_is_integer(ic))
        return bad_state(e, "package_sha256, item_count or session missing");
    r->item_count = (int)json_integer_value(ic);
    if (num(st, "started_at", &r->started_at) || num(st, "paused_total", &r->paused_total) ||
        num(st, "extra_time", &r->extra))
        return bad_state(e, "started_at, paused_total or extra_time missing");
    r->has_limit = num(st, "time_limit", &r->time_limit) == 0;
    r->paused = num(st, "paused_at", &r->paused_at) == 0;
    r->ended = num(st, "ended_at", &r->ended_at) == 0;
    r->pci = json_object_get(st, "pci_states");
    if (r->pci && !json_is_object(r->pci))
        return bad_state(e, "pci_states is not an object");
    return 0;
}

/* A new state from `r` and the engine's saved session `session` (reference taken). */
static json_t *state_build(const struct rstate *r, json_t *session)
{
    json_t *o = json_pack("{s:i, s:s, s:i, s:f, s:f, s:f}", "format", RUNNER_STATE_FORMAT,
                          "package_sha256", r->sha, "item_count", r->item_count, "started_at",
                          r->started_at, "paused_total", r->paused_total, "extra_time", r->extra);
    if (!o) {
        json_decref(session);
        return NULL;
    }
    json_object_set_new(o, "time_limit", r->has_limit ? json_real(r->time_limit) : json_null());
    json_object_set_new(o, "paused_at", r->paused ? json_real(r->paused_at) : json_null());
    json_object_set_new(o, "ended_at", r->ended ? json_real(r->ended_at) : json_null());
    if (json_object_set_new(o, "session", session) != 0) {
        json_decref(o);
        return NULL;
    }
    /* the PCIs' states serve the test while it runs: an ended test drops them (they are not
     * part of the result, docs/qti.md) */
    if (!r->ended && json_object_size(r->pci) > 0 &&
        json_object_set_new(o, "pci_states", json_deep_copy(r->pci)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The engine's clock at device time `now`: active time since the start. */
static double engine_now(const struct rstate *r, double now)
{
    double t = now - r->started_at - r->paused_total;
    if (r->paused)
        t -= now - r->paused_at;
    return t > 0 ? t : 0;
}

/* ------------------------------------------------------------------------- session -- */

/* One step in progress: the package, the state read, the engine's session restored. */
struct step {
    const struct runner_package *p;
    struct rstate r;
    struct qti_test_session *s;
    double now, enow;
    int changed;
    json_t *pci; /* the PCIs' states once this step changes them (st->r.pci then points here) */
};

static int step_begin(struct step *st, const struct runner_package *p, const json_t *state,
                      double now, struct op_err *e)
{
    memset(st, 0, sizeof *st);
    st->p = p;
    st->now = now;
    int rc = state_read(state, &st->r, e);
    if (rc)
        return rc;
    if (strcmp(st->r.sha, p->sha) != 0)
        return err_set(e, OP_ECONFLICT,
                       "this session runs on package %.12s..., not on %.12s...: the delivery's "
                       "package changed after it started",
                       st->r.sha, p->sha);
    rc = qti_test_session_restore(p->l->test, qti_loaded_lookup, p->l, st->r.session, &st->s, e);
    if (rc)
        return rc;
    qti_test_session_set_extra_time(st->s, st->r.extra);
    st->enow = engine_now(&st->r, now);
    return 0;
}

static void step_end(struct step *st)
{
    qti_test_session_free(st->s);
    st->s = NULL;
    json_decref(st->pci);
    st->pci = NULL;
}

/* Notes that the engine's session changed; marks the end the first time it has ended. */
static void step_changed(struct step *st)
{
    st->changed = 1;
    if (qti_test_session_ended(st->s) && !st->r.ended) {
        st->r.ended = 1;
        st->r.ended_at = st->now;
    }
}

/* Moves on while the test's or the part's time is over (closing parts, ending the test). */
static int step_expire(struct step *st, struct op_err *e)
{
    for (size_t guard = 0; guard <= st->p->l->test->nparts + 1; guard++) {
        if (st->r.paused || !qti_test_session_over(st->s, st->enow))
            return 0;
        struct op_err ne = {0};
        int rc = qti_test_session_next(st->s, st->enow, &ne);
        step_changed(st);
        if (rc) /* what the time limit forces cannot be refused: end the test */
            rc = qti_test_session_finish(st->s, st->enow, e);
        if (rc)
            return rc;
        step_changed(st);
    }
    return 0;
}

static json_t *step_state(struct step *st)
{
    return state_build(&st->r, qti_test_session_save(st->s));
}

static int refuse(struct op_err *e, const char *field, const char *msg)
{
    return err_set_field(e, OP_ECONFLICT, field, "%s", msg);
}

/* The checks every step of the candidate makes: running, not paused, the page's item. */
static int step_check(struct step *st, const char *item_key, struct op_err *e)
{
    if (qti_test_session_ended(st->s))
        return refuse(e, "ended", "the test has ended");
    if (st->r.paused)
        return refuse(e, "paused", "the test is paused: wait for the proctor");
    const char *cur = qti_test_session_current_key(st->s);
    if (!item_key || !cur || strcmp(item_key, cur) != 0)
        return err_set_field(e, OP_ECONFLICT, "item_key",
                             "item %.256s is not the current item: the page is out of date, "
                             "reload it",
                             item_key ? item_key : "(none)");
    return 0;
}

/* The saved-state JSON of route entry `pos` (borrowed from `saved`). */
static json_t *saved_entry(json_t *saved, int pos)
{
    return json_array_get(json_object_get(saved, "entries"), (size_t)pos);
}

/* Candidate rubric blocks of the sections around `it`, outermost first. */
static json_t *rubrics_json(const struct qti_node *it)
{
    const struct qti_node *chain[QTI_TEST_MAX_DEPTH + 1];
    size_t n = 0;
    for (const struct qti_node *s = it->parent; s && n < QTI_TEST_MAX_DEPTH + 1; s = s->parent)
        chain[n++] = s;
    json_t *a = json_array();
    while (n-- > 0)
        for (size_t i = 0; i < chain[n]->nrubrics; i++) {
            const struct qti_rubric *rb = &chain[n]->rubrics[i];
            for (size_t v = 0; v < rb->nviews; v++)
                if (strcmp(rb->views[v], "candidate") == 0) {
                    json_array_append_new(a, json_string(rb->xhtml));
                    break;
                }
        }
    return a;
}

static int first_of_part(const struct qti_route *route, int pos)
{
    int part = route->entries[pos].part;
    while (pos > 0 && route->entries[pos - 1].part == part)
        pos--;
    return pos;
}

static int view_build(struct step *st, json_t **view, struct op_err *e)
{
    struct qti_test_session *s = st->s;
    const struct qti_route *route = qti_test_session_route(s);
    int pos = qti_test_session_position(s);
    json_t *v = json_pack("{s:i, s:b, s:b}", "item_count", (int)route->n, "ended",
                          qti_test_session_ended(s), "paused", st->r.paused);
    if (!v)
        return oom(e);
    double left = 0;
    int has_left = qti_test_session_time_left(s, st->enow, &left);
    json_object_set_new(v, "time_left", has_left ? json_real(floor(left)) : json_null());
    if (pos < 0) {
        json_object_set_new(v, "position", json_null());
        json_object_set_new(v, "item_key", json_null());
        json_object_set_new(v, "item", json_null());
        json_object_set_new(v, "session", json_null());
        json_object_set_new(v, "responses", json_null());
        json_object_set_new(v, "rubrics", json_array());
        json_object_set_new(v, "navigation",
                            json_pack("{s:b, s:b, s:b, s:b, s:b}", "previous", 0, "next", 0, "skip",
                                      0, "review", 0, "jump", 0));
        *view = v;
        return 0;
    }
    const struct qti_route_entry *en = &route->entries[pos];
    json_t *item = NULL;
    int rc = render_model(st->p, en->item->href, &item, e);
    if (rc) {
        json_decref(v);
        return rc;
    }
    struct qti_isc isc = qti_isc_effective(st->p->l->test, en->item);
    const struct qti_test_part *part = &st->p->l->test->parts[en->part];
    int nonlinear = part->navigation == QTI_NAV_NONLINEAR;
    const struct qti_item_session *is = qti_test_session_item(s, (size_t)pos);
    json_t *saved = qti_test_session_save(s);
    json_t *se = saved_entry(saved, pos);
    int submitted = json_is_true(json_object_get(se, "submitted"));
    json_t *responses = json_object_get(se, "pending");
    if (json_is_object(responses))
        responses = json_deep_copy(responses);
    else if (submitted && is)
        responses = qti_item_session_responses_json(is);
    else
        responses = json_object();
    json_decref(saved);
    /* a file's content never goes back to the page (it is sealed anyway) */
    const char *rk;
    json_t *rv;
    json_object_foreach(responses, rk, rv)
    {
        if (app_upload_is_sealed(rv))
            json_object_set_new(responses, rk, app_upload_public(rv));
    }
    int must_answer = !isc.allow_skipping && part->submission == QTI_SUB_INDIVIDUAL && is &&
                      qti_item_session_has_responses(is) && !submitted;
    json_object_set_new(v, "position", json_integer(pos));
    json_object_set_new(v, "item_key", json_string(en->key));
    json_object_set_new(v, "item", item);
    json_object_set_new(v, "session",
                        is ? qti_item_session_view(is, isc.show_feedback) : json_null());
    json_object_set_new(v, "responses", responses);
    json_object_set_new(v, "rubrics", rubrics_json(en->item));
    json_t *kept = json_object_get(json_object_get(st->r.pci, en->key), "kept");
    if (json_is_string(kept))
        json_object_set(v, "pci_states_kept", kept);
    json_object_set_new(v, "navigation",
                        json_pack("{s:b, s:b, s:b, s:b, s:b}", "previous",
                                  nonlinear && pos > first_of_part(route, pos), "next",
                                  nonlinear || !must_answer, "skip", isc.allow_skipping != 0,
                                  "review", nonlinear && isc.allow_review, "jump", nonlinear));
    *view = v;
    return 0;
}

/* Ends a step: the new state if it changed, the view if asked. */
static int step_finish(struct step *st, int rc, json_t **state_out, json_t **view, struct op_err *e)
{
    if (st->changed) {
        *state_out = step_state(st);
        if (!*state_out && rc == 0)
            rc = oom(e);
    }
    if (rc == 0 && view)
        rc = view_build(st, view, e);
    step_end(st);
    return rc;
}

int runner_start(const struct runner_package *p, uint64_t seed, double now, json_t **state_out,
                 struct op_err *e)
{
    *state_out = NULL;
    struct qti_test_session *s;
    int rc = qti_test_session_start(p->l->test, qti_loaded_lookup, p->l, seed, 0, &s, e);
    if (rc)
        return rc;
    const struct qti_test *t = p->l->test;
    struct rstate r = {.sha = p->sha,
                       .item_count = (int)qti_test_session_route(s)->n,
                       .has_limit = t->time_limits.has_max,
                       .time_limit = t->time_limits.max_time,
                       .started_at = now};
    if (qti_test_session_ended(s)) {
        r.ended = 1;
        r.ended_at = now;
    }
    *state_out = state_build(&r, qti_test_session_save(s));
    qti_test_session_free(s);
    return *state_out ? 0 : oom(e);
}

int runner_view(const struct runner_package *p, const json_t *state, double now, json_t **state_out,
                json_t **view, struct op_err *e)
{
    *state_out = *view = NULL;
    struct step st;
    int rc = step_begin(&st, p, state, now, e);
    if (rc) {
        step_end(&st);
        return rc;
    }
    rc = step_expire(&st, e);
    return step_finish(&st, rc, state_out, view, e);
}

/* The shape and size of a request's "pci_states": {"RESPONSE": "state" | null}. */
static int pci_states_parse(const json_t *ps, struct op_err *e)
{
    if (!json_is_object(ps))
        return err_set_field(e, OP_EINPUT, "pci_states",
                             "pci_states must be an object {\"RESPONSE\": \"state\"}");
    if (json_object_size(ps) > RUNNER_RESPONSES_MAX)
        return err_set_field(e, OP_EINPUT, "pci_states", "more than %d PCI states",
                             RUNNER_RESPONSES_MAX);
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ps, k, v)
    {
        if (!json_is_string(v) && !json_is_null(v))
            return err_set_field(e, OP_EINPUT, "pci_states",
                                 "the state of %.64s must be a string (what the PCI's getState "
                                 "gives) or null",
                                 k);
        size_t n = json_string_length(v);
        if (n > RUNNER_PCI_STATE_MAX)
            return err_set_field(e, OP_EINPUT, "pci_states",
                                 "the state of the interaction %.64s is %zu bytes; a PCI's state "
                                 "may be at most %u bytes (%u KiB): it was not kept",
                                 k, n, RUNNER_PCI_STATE_MAX, RUNNER_PCI_STATE_MAX / 1024);
        total += n;
    }
    if (total > RUNNER_PCI_STATES_MAX)
        return err_set_field(e, OP_EINPUT, "pci_states",
                             "the PCI states of this item are %zu bytes together; at most %u "
                             "bytes (%u KiB) are kept for one item",
                             total, RUNNER_PCI_STATES_MAX, RUNNER_PCI_STATES_MAX / 1024);
    return 0;
}

int runner_request_parse(enum runner_op op, const json_t *body, struct runner_request *out,
                         struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return err_set(e, OP_EINPUT, "the request body is not a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v)
    {
        int known = strcmp(k, "item_key") == 0 ||
                    (op == RUNNER_OP_RESPOND && strcmp(k, "responses") == 0) ||
                    (op == RUNNER_OP_RESPOND && strcmp(k, "pci_states") == 0) ||
                    (op == RUNNER_OP_MOVE && strcmp(k, "to") == 0);
        if (!known)
            return err_set_field(e, OP_EINPUT, k, "unknown member \"%.64s\" in the request", k);
    }
    json_t *key = json_object_get(body, "item_key");
    if (!json_is_string(key) || json_string_length(key) == 0 ||
        json_string_length(key) > RUNNER_ITEM_KEY_MAX)
        return err_set_field(e, OP_EINPUT, "item_key",
                             "item_key must be the key of the current item (a string)");
    out->item_key = json_string_value(key);
    if (op == RUNNER_OP_RESPOND) {
        json_t *ps = json_object_get(body, "pci_states");
        int rc = ps ? pci_states_parse(ps, e) : 0;
        if (rc)
            return rc;
        out->pci_states = ps;
        json_t *r = json_object_get(body, "responses");
        if (!r && ps)
            return 0; /* the states alone */
        if (!json_is_object(r))
            return err_set_field(e, OP_EINPUT, "responses",
                                 "responses must be an object {\"RESPONSE\": value}");
        if (json_object_size(r) > RUNNER_RESPONSES_MAX)
            return err_set_field(e, OP_EINPUT, "responses", "more than %d responses",
                                 RUNNER_RESPONSES_MAX);
        out->responses = r;
    } else if (op == RUNNER_OP_MOVE) {
        json_t *to = json_object_get(body, "to");
        if (json_is_string(to) && strcmp(json_string_value(to), "next") == 0)
            out->to = RUNNER_TO_NEXT;
        else if (json_is_string(to) && strcmp(json_string_value(to), "previous") == 0)
            out->to = RUNNER_TO_PREVIOUS;
        else if (json_is_integer(to) && json_integer_value(to) >= 0 &&
                 json_integer_value(to) < QTI_TEST_MAX_ROUTE) {
            out->to = RUNNER_TO_POSITION;
            out->position = (size_t)json_integer_value(to);
        } else
            return err_set_field(e, OP_EINPUT, "to",
                                 "to must be \"next\", \"previous\" or a route position");
    }
    return 0;
}

/* The responses name response variables the current item declares. */
static int check_declared(struct step *st, const json_t *responses, struct op_err *e)
{
    const struct qti_route *route = qti_test_session_route(st->s);
    const struct qti_route_entry *en = &route->entries[qti_test_session_position(st->s)];
    const struct qti_item *item = qti_loaded_lookup(st->p->l, en->item, e);
    if (!item)
        return OP_EINPUT;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)responses, k, v)
    {
        const struct qti_decl *d = qti_item_decl(item, k);
        if (!d || d->kind != QTI_DECL_RESPONSE || strcmp(k, "numAttempts") == 0 ||
            strcmp(k, "duration") == 0)
            return err_set_field(e, OP_EINPUT, "responses",
                                 "item %s declares no response variable \"%.64s\"", en->key, k);
    }
    return 0;
}

/* Each state of r->pci_states is the state of a customInteraction of the current item. */
static int check_pci_states(struct step *st, const struct runner_request *r, struct op_err *e)
{
    if (!r->pci_states)
        return 0;
    const struct qti_route *route = qti_test_session_route(st->s);
    const struct qti_route_entry *en = &route->entries[qti_test_session_position(st->s)];
    const struct qti_item *item = qti_loaded_lookup(st->p->l, en->item, e);
    if (!item)
        return OP_EINPUT;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)r->pci_states, k, v)
    {
        const struct qti_interaction *it = qti_item_interaction_for(item, k);
        if (!it || it->kind != QTI_INTERACTION_CUSTOM)
            return err_set_field(e, OP_EINPUT, "pci_states",
                                 "item %s has no portable custom interaction bound to \"%.64s\"",
                                 en->key, k);
    }
    return 0;
}

/* Keeps r->pci_kept as the PCIs' states of the current item (none when NULL). */
static int keep_pci_states(struct step *st, const struct runner_request *r, struct op_err *e)
{
    if (!r->pci_states)
        return 0;
    const char *key = qti_test_session_current_key(st->s);
    json_t *had = json_object_get(st->r.pci, key);
    const char *tag = json_string_value(json_object_get(had, "tag"));
    if (r->pci_kept ? tag && r->pci_tag && strcmp(tag, r->pci_tag) == 0 : !had)
        return 0;
    if (!st->pci) {
        st->pci = st->r.pci ? json_deep_copy(st->r.pci) : json_object();
        if (!st->pci)
            return oom(e);
        st->r.pci = st->pci;
    }
    if (!r->pci_kept)
        json_object_del(st->pci, key);
    else if (json_object_set_new(st->pci, key,
                                 json_pack("{s:s, s:s}", "tag", r->pci_tag ? r->pci_tag : "",
                                           "kept", r->pci_kept)) != 0)
        return oom(e);
    st->changed = 1;
    return 0;
}

/* The responses to submit: r->responses with each file the page sent made what is kept
 * (r->file_hook), and each file sent without its data replaced by the one the item holds. A
 * PCI bound to a file response (an audio recording) sends it in the QTI JSON binding
 * ({"base": {"file": {"data", "mime", "name"}}}): read into the file form first, then checked
 * and kept as an upload's. *out is a new reference. */
static int prepare_files(struct step *st, const struct runner_request *r, json_t **out,
                         struct op_err *e)
{
    *out = NULL;
    int pos = qti_test_session_position(st->s);
    const struct qti_route *route = qti_test_session_route(st->s);
    const struct qti_item *item = qti_loaded_lookup(st->p->l, route->entries[pos].item, e);
    if (!item)
        return OP_EINPUT;
    json_t *copy = json_copy((json_t *)r->responses);
    if (!copy)
        return err_set(e, OP_ENOMEM, "out of memory");
    const struct qti_item_session *is = qti_test_session_item(st->s, (size_t)pos);
    json_t *saved = NULL;
    int rc = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)r->responses, k, v)
    {
        const struct qti_decl *d = qti_item_decl(item, k);
        if (!d || d->type != QTI_BT_FILE || json_is_null(v))
            continue;
        const struct qti_interaction *it = qti_item_interaction_for(item, k);
        json_t *kept = NULL, *unwrapped = NULL;
        if (it && it->kind == QTI_INTERACTION_CUSTOM && json_is_object(v) &&
            json_object_get(v, "base")) {
            char what[300];
            snprintf(what, sizeof what, "item %s, response %s", qti_item_identifier(item), k);
            rc = qti_pci_file_from_binding(v, what, &unwrapped, e);
            if (rc) {
                snprintf(e->field, sizeof e->field, "%s", "responses");
                break;
            }
            if (!unwrapped) { /* {"base": null}: no recording */
                json_object_set_new(copy, k, json_null());
                continue;
            }
            v = unwrapped;
        }
        if (!json_is_object(v) || json_object_get(v, "sealed")) {
            rc = err_set_field(e, OP_EINPUT, "responses",
                               "response %s: a file is sent as {\"name\", \"type\", \"data\"}", k);
        } else if (json_object_get(v, "data")) {
            if (!it || !r->file_hook)
                rc = err_set_field(e, OP_EINPUT, "responses", "response %s takes no file here", k);
            else
                rc = r->file_hook(r->file_ctx, it, v, &kept, e);
        } else {
            if (!saved && is)
                saved = qti_item_session_responses_json(is);
            json_t *had = json_object_get(saved, k);
            const char *sha = json_string_value(json_object_get(v, "sha256"));
            const char *had_sha = json_string_value(json_object_get(had, "sha256"));
            if (!sha || !had_sha || strcmp(sha, had_sha) != 0)
                rc = err_set_field(e, OP_EINPUT, "responses",
                                   "response %s: the file was not sent (no \"data\"), and it is "
                                   "not the one this question holds",
                                   k);
            else
                kept = json_incref(had);
        }
        json_decref(unwrapped);
        if (rc)
            break;
        json_object_set_new(copy, k, kept);
    }
    json_decref(saved);
    if (rc) {
        json_decref(copy);
        return rc;
    }
    *out = copy;
    return 0;
}

/* 1 when `responses` are what the current item holds from its last attempt already (every
 * member equal, every response left out NULL): a replayed request, or the same answer sent
 * again, which must not count another attempt. Only where a new attempt would be taken: an
 * individual submission of a non-adaptive item with attempts left (where none are left the
 * engine refuses it; an adaptive item's attempt can change its state with the same answer;
 * a simultaneous submission only replaces what waits for the part's end). */
static int same_as_last_attempt(struct step *st, const json_t *responses)
{
    int pos = qti_test_session_position(st->s);
    const struct qti_route *route = qti_test_session_route(st->s);
    if (pos < 0 || st->p->l->test->parts[route->entries[pos].part].submission != QTI_SUB_INDIVIDUAL)
        return 0;
    const struct qti_item_session *is = qti_test_session_item(st->s, (size_t)pos);
    struct qti_isc isc = qti_isc_effective(st->p->l->test, route->entries[pos].item);
    int attempts = is ? qti_item_session_num_attempts(is) : 0;
    if (attempts < 1 || (isc.max_attempts > 0 && attempts >= isc.max_attempts) ||
        qti_item_adaptive(qti_item_session_item(is)))
        return 0;
    json_t *saved = qti_item_session_responses_json(is);
    if (!saved)
        return 0;
    int same = 1;
    const char *k;
    json_t *v;
    json_object_foreach(saved, k, v)
    {
        if (strcmp(k, "numAttempts") == 0 || strcmp(k, "duration") == 0)
            continue;
        json_t *asked = json_object_get(responses, k);
        if (asked ? !json_equal(asked, v) : !json_is_null(v))
            same = 0;
    }
    json_object_foreach((json_t *)responses, k, v)
    {
        if (!json_object_get(saved, k))
            same = 0;
    }
    json_decref(saved);
    return same;
}

int runner_respond(const struct runner_package *p, const json_t *state,
                   const struct runner_request *r, double now, json_t **state_out, json_t **view,
                   struct op_err *e)
{
    *state_out = *view = NULL;
    struct step st;
    int rc = step_begin(&st, p, state, now, e);
    if (rc) {
        step_end(&st);
        return rc;
    }
    /* the item the page shows, before time moves anything on */
    int stale = !qti_test_session_ended(st.s) && !st.r.paused &&
                (!qti_test_session_current_key(st.s) ||
                 strcmp(r->item_key, qti_test_session_current_key(st.s)) != 0);
    if (stale)
        rc = step_check(&st, r->item_key, e);
    else if (!st.r.paused && qti_test_session_over(st.s, st.enow)) {
        rc = step_expire(&st, e);
        if (rc == 0)
            rc = refuse(e, "time", "the time limit is over: the response was not saved");
    }
    if (rc == 0)
        rc = step_check(&st, r->item_key, e);
    if (rc == 0)
        rc = check_pci_states(&st, r, e);
    if (rc == 0 && !r->responses) { /* the PCIs' states alone: no attempt */
        rc = keep_pci_states(&st, r, e);
        return step_finish(&st, rc, state_out, rc == 0 ? view : NULL, e);
    }
    if (rc == 0)
        rc = check_declared(&st, r->responses, e);
    json_t *responses = NULL;
    if (rc == 0)
        rc = prepare_files(&st, r, &responses, e);
    if (rc == 0 && same_as_last_attempt(&st, responses)) {
        json_decref(responses);
        rc = keep_pci_states(&st, r, e); /* no new attempt, but a PCI may have moved on */
        return step_finish(&st, rc, state_out, rc == 0 ? view : NULL, e);
    }
    if (rc == 0) {
        json_t *invalid = NULL;
        rc = qti_test_session_submit(st.s, responses, st.enow, &invalid, e);
        json_decref(invalid);
        if (rc == OP_EINPUT)
            snprintf(e->field, sizeof e->field, "responses");
        else if (rc == OP_ECONFLICT)
            snprintf(e->field, sizeof e->field, "%s",
                     strstr(e->msg, "attempt") ? "attempts" : "time");
        else if (rc == 0)
            step_changed(&st);
    }
    json_decref(responses);
    /* kept after the submission, for the item the page showed (a submission that ended the
     * test drops them anyway) */
    if (rc == 0 && !qti_test_session_ended(st.s) && qti_test_session_current_key(st.s) &&
        strcmp(qti_test_session_current_key(st.s), r->item_key) == 0)
        rc = keep_pci_states(&st, r, e);
    return step_finish(&st, rc, state_out, rc == 0 ? view : NULL, e);
}

int runner_move(const struct runner_package *p, const json_t *state, const struct runner_request *r,
                double now, json_t **state_out, json_t **view, struct op_err *e)
{
    *state_out = *view = NULL;
    struct step st;
    int rc = step_begin(&st, p, state, now, e);
    if (rc) {
        step_end(&st);
        return rc;
    }
    rc = step_check(&st, r->item_key, e);
    if (rc == 0) {
        /* a time limit over moves on by itself; that is the move asked or more */
        int before = qti_test_session_position(st.s);
        rc = step_expire(&st, e);
        if (rc == 0 && qti_test_session_position(st.s) != before)
            return step_finish(&st, 0, state_out, view, e);
    }
    if (rc == 0) {
        const struct qti_route *route = qti_test_session_route(st.s);
        int pos = qti_test_session_position(st.s);
        const struct qti_test_part *part = &p->l->test->parts[route->entries[pos].part];
        int linear = part->navigation == QTI_NAV_LINEAR;
        if (r->to == RUNNER_TO_NEXT) {
            rc = qti_test_session_next(st.s, st.enow, e);
        } else if (linear) {
            rc =
                err_set_field(e, OP_ECONFLICT, "to",
                              "test part %s is linear: only \"next\" is allowed", part->identifier);
        } else if (r->to == RUNNER_TO_PREVIOUS) {
            rc = qti_test_session_previous(st.s, st.enow, e);
        } else if (r->to == RUNNER_TO_POSITION) {
            if (r->position >= route->n ||
                route->entries[r->position].part != route->entries[pos].part)
                rc = err_set_field(e, OP_ECONFLICT, "to",
                                   "position %zu is not an item of test part %s", r->position,
                                   part->identifier);
            else
                rc = qti_test_session_jump(st.s, r->position, st.enow, e);
        } else {
            rc = err_set_field(e, OP_EINPUT, "to", "no move asked");
        }
        if (rc == OP_ECONFLICT || rc == OP_EINPUT) {
            snprintf(e->field, sizeof e->field, "to");
            rc = OP_ECONFLICT;
        }
        if (rc == 0)
            step_changed(&st);
    }
    return step_finish(&st, rc, state_out, rc == 0 ? view : NULL, e);
}

int runner_finish(const struct runner_package *p, const json_t *state,
                  const struct runner_request *r, double now, json_t **state_out, struct op_err *e)
{
    *state_out = NULL;
    struct step st;
    int rc = step_begin(&st, p, state, now, e);
    if (rc) {
        step_end(&st);
        return rc;
    }
    rc = step_expire(&st, e);
    if (rc == 0 && !qti_test_session_ended(st.s)) {
        rc = step_check(&st, r->item_key, e);
        if (rc == 0)
            rc = qti_test_session_finish(st.s, st.enow, e);
        if (rc == 0)
            step_changed(&st);
    } else if (rc == 0 && !st.changed) {
        rc = refuse(e, "ended", "the test has ended already");
    }
    return step_finish(&st, rc, state_out, NULL, e);
}

int runner_end(const struct runner_package *p, const json_t *state, double now, json_t **state_out,
               struct op_err *e)
{
    *state_out = NULL;
    struct step st;
    int rc = step_begin(&st, p, state, now, e);
    if (rc == 0 && !qti_test_session_ended(st.s)) {
        rc = qti_test_session_finish(st.s, st.enow, e);
        if (rc == 0)
            step_changed(&st);
    }
    if (rc) {
        step_end(&st);
        return rc;
    }
    return step_finish(&st, 0, state_out, NULL, e);
}

int runner_result(const struct runner_package *p, const json_t *state, json_t **result,
                  struct op_err *e)
{
    *result = NULL;
    struct step st;
    int rc = step_begin(&st, p, state, 0, e);
    if (rc) {
        step_end(&st);
        return rc;
    }
    if (!qti_test_session_ended(st.s)) {
        step_end(&st);
        return refuse(e, "ended", "the test has not ended: no result yet");
    }
    const struct qti_route *route = qti_test_session_route(st.s);
    json_t *items = json_object();
    for (size_t i = 0; items && i < route->n; i++) {
        const struct qti_item_session *is = qti_test_session_item(st.s, i);
        if (!is)
            continue;
        json_object_set_new(items, route->entries[i].key,
                            json_pack("{s:s, s:o, s:o, s:f}", "identifier",
                                      qti_item_identifier(qti_item_session_item(is)), "responses",
                                      qti_item_session_responses_json(is), "outcomes",
                                      qti_item_session_outcomes_json(is), "duration",
                                      qti_item_session_duration(is)));
    }
    *result = json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:f, s:f, s:f, s:f, s:f}", "format", 1,
                        "package_sha256", p->sha, "test", p->l->test->identifier, "outcomes",
                        qti_test_session_outcomes_json(st.s), "route",
                        qti_test_session_route_taken_json(st.s), "items", items, "duration",
                        qti_test_session_duration(st.s), "started_at", st.r.started_at, "ended_at",
                        st.r.ended_at, "paused_total", st.r.paused_total, "extra_time", st.r.extra);
    step_end(&st);
    return *result ? 0 : oom(e);
}

/* ------------------------------------------------------------------ the state alone -- */

int runner_state_summary(const json_t *state, double now, struct runner_summary *out,
                         struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct rstate r;
    int rc = state_read(state, &r, e);
    if (rc)
        return rc;
    out->ended = r.ended || json_is_true(json_object_get(r.session, "ended"));
    out->paused = r.paused;
    json_t *pos = json_object_get(r.session, "position");
    out->position = out->ended || !json_is_integer(pos) ? -1 : (int)json_integer_value(pos);
    out->item_count = r.item_count;
    out->started_at = r.started_at;
    out->ended_at = r.ended ? r.ended_at : 0;
    if (r.has_limit && !out->ended) {
        out->has_time_left = 1;
        out->time_left = r.time_limit + r.extra - engine_now(&r, now);
        if (out->time_left < 0)
            out->time_left = 0;
    }
    return 0;
}

static int state_edit(const json_t *state, json_t **state_out, struct rstate *r, struct op_err *e)
{
    *state_out = NULL;
    int rc = state_read(state, r, e);
    if (rc == 0 && (r->ended || json_is_true(json_object_get(r->session, "ended"))))
        rc = refuse(e, "ended", "the test has ended");
    return rc;
}

static int state_done(struct rstate *r, json_t **state_out, struct op_err *e)
{
    *state_out = state_build(r, json_deep_copy(r->session));
    return *state_out ? 0 : oom(e);
}

int runner_state_pause(const json_t *state, double now, json_t **state_out, struct op_err *e)
{
    struct rstate r;
    int rc = state_edit(state, state_out, &r, e);
    if (rc == 0 && r.paused)
        rc = refuse(e, "paused", "the test is paused already");
    if (rc)
        return rc;
    r.paused = 1;
    r.paused_at = now;
    return state_done(&r, state_out, e);
}

int runner_state_resume(const json_t *state, double now, json_t **state_out, struct op_err *e)
{
    struct rstate r;
    int rc = state_edit(state, state_out, &r, e);
    if (rc == 0 && !r.paused)
        rc = refuse(e, "paused", "the test is not paused");
    if (rc)
        return rc;
    if (now > r.paused_at)
        r.paused_total += now - r.paused_at;
    r.paused = 0;
    return state_done(&r, state_out, e);
}

int runner_state_add_extra_time(const json_t *state, double seconds, json_t **state_out,
                                struct op_err *e)
{
    struct rstate r;
    if (!(seconds >= 1 && seconds <= 86400))
        return err_set_field(e, OP_EINPUT, "seconds", "extra time is 1 to 86400 seconds, not %g",
                             seconds);
    int rc = state_edit(state, state_out, &r, e);
    if (rc)
        return rc;
    r.extra += seconds;
    return state_done(&r, state_out, e);
}

int runner_state_clock(const json_t *state, double now, double active, double extra,
                       json_t **state_out, struct op_err *e)
{
    *state_out = NULL;
    struct rstate r;
    int rc = state_read(state, &r, e);
    if (rc)
        return rc;
    if (!(active >= 0) || !(extra >= 0) || !isfinite(active) || !isfinite(extra))
        return err_set(e, OP_EINPUT, "runner clock: active and extra time are seconds >= 0");
    double paused = now - r.started_at - active;
    r.paused_total = paused > 0 ? paused : 0;
    if (paused < 0) /* more active time than the clock shows: the start moves back */
        r.started_at = now - active;
    r.paused = 0;
    r.extra = extra;
    return state_done(&r, state_out, e);
}

/* {"X": {"baseType", "cardinality", "value": v}} (the engine's saved, typed values) as
 * {"X": v}, the way results give them. New reference. */
static json_t *plain_values(const json_t *typed)
{
    json_t *o = json_object(), *v;
    const char *k;
    json_object_foreach((json_t *)typed, k, v)
    {
        json_t *val = json_is_object(v) ? json_object_get(v, "value") : v;
        json_object_set(o, k, val ? val : json_null());
    }
    return o;
}

int runner_state_partial_result(const json_t *state, json_t **result, struct op_err *e)
{
    *result = NULL;
    struct rstate r;
    int rc = state_read(state, &r, e);
    if (rc)
        return rc;
    json_t *route = json_object_get(r.session, "route");
    json_t *entries = json_object_get(r.session, "entries");
    json_t *items = json_object(), *taken = json_array(), *v;
    size_t i;
    json_array_foreach(json_object_get(r.session, "taken"), i, v)
    {
        json_t *key = json_array_get(route, (size_t)json_integer_value(v));
        if (json_is_string(key))
            json_array_append(taken, key);
    }
    json_array_foreach(entries, i, v)
    {
        json_t *is = json_object_get(v, "item");
        json_t *key = json_array_get(route, i);
        if (!json_is_object(is) || !json_is_string(key))
            continue;
        json_object_set_new(items, json_string_value(key),
                            json_pack("{s:O*, s:o, s:O*}", "identifier",
                                      json_object_get(is, "item"), "values",
                                      plain_values(json_object_get(is, "values")), "duration",
                                      json_object_get(v, "duration")));
    }
    *result = json_pack(
        "{s:i, s:s, s:O*, s:b, s:o, s:o, s:o, s:f, s:f, s:f}", "format", 1, "package_sha256", r.sha,
        "test", json_object_get(r.session, "test"), "partial", 1, "outcomes",
        plain_values(json_object_get(r.session, "outcomes")), "route", taken, "items", items,
        "started_at", r.started_at, "paused_total", r.paused_total, "extra_time", r.extra);
    return *result ? 0 : err_set(e, OP_ENOMEM, "out of memory");
}
