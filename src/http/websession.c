/*
 * websession.c - the web sessions of `outpost serve` (websession.h): a fixed table of `max`
 * slots guarded by one mutex, each slot's key pair in one sodium_malloc'ed arena, and a
 * sweeper thread that ends idle sessions even when no request comes.
 *
 * A slot is free, reserved (a login in progress), or live. A live slot that ends (logout,
 * idle, stop) leaves the lookup at once (`ended`); its key is wiped and the slot freed when
 * its last borrower gives it back (`refs` 0).
 */
#include "http/websession.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"

#define KEY_SLOT_BYTES (VAULT_PUBLIC_BYTES + VAULT_SECRET_BYTES)
#define HASH_BYTES     32
#define RAW_BYTES      32

enum slot_state { SLOT_FREE = 0, SLOT_RESERVED, SLOT_LIVE };

struct websession {
    enum slot_state state;
    int ended; /* out of the lookup; freed when refs reaches 0 */
    int refs;
    int has_key;
    unsigned char *key; /* this slot's KEY_SLOT_BYTES in the arena: public, then secret key */
    unsigned char id_hash[HASH_BYTES];
    char csrf[WEBSESSION_TOKEN_LEN + 1];
    time_t last_used;
    struct web_user user;
};

struct websessions {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t sweeper;
    int has_sweeper;
    int stopping;
    unsigned idle_s;
    unsigned max;
    time_t (*now)(void *ctx);
    void *now_ctx;
    unsigned char *arena; /* sodium_malloc'ed: max * KEY_SLOT_BYTES */
    struct websession *slots;
};

/* ---- roles ---- */

static const struct {
    unsigned bit;
    const char *json;
    const char *store;
} roles[] = {
    {WEB_ROLE_TEST_TAKER, "test_taker", "test-taker"},
    {WEB_ROLE_PROCTOR, "proctor", "proctor"},
    {WEB_ROLE_SYNC_MANAGER, "sync_manager", "sync-manager"},
    {WEB_ROLE_TEST_CENTER_ADMIN, "test_center_admin", "test-center-admin"},
    {WEB_ROLE_SUPER_USER, "super_user", "super-user"},
};

const char *web_role_name(unsigned role_bit)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].bit == role_bit)
            return roles[i].json;
    return NULL;
}

unsigned web_role_of_store(const char *store_role)
{
    for (size_t i = 0; store_role && i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(roles[i].store, store_role) == 0)
            return roles[i].bit;
    return 0;
}

/* ---- time and randomness ---- */

static time_t monotonic_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static time_t now_of(const struct websessions *t)
{
    return t->now(t->now_ctx);
}

static void random_token(char out[WEBSESSION_TOKEN_LEN + 1])
{
    unsigned char raw[RAW_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, WEBSESSION_TOKEN_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

static void hash_token(const char *token, unsigned char out[HASH_BYTES])
{
    crypto_generichash(out, HASH_BYTES, (const unsigned char *)token, strlen(token), NULL, 0);
}

/* ---- slots (the lock held) ---- */

/* Wipes the slot's key and everything it knew, and frees it. */
static void slot_free(struct websessions *t, struct websession *s)
{
    unsigned char *key = s->key;
    (void)t;
    sodium_memzero(key, KEY_SLOT_BYTES);
    sodium_memzero(s, sizeof *s);
    s->key = key;
    s->state = SLOT_FREE;
}

/* Takes a live session out of the lookup; frees it now if nobody borrows it. */
static void slot_end(struct websessions *t, struct websession *s)
{
    s->ended = 1;
    if (s->refs == 0)
        slot_free(t, s);
}

static int slot_idle(const struct websessions *t, const struct websession *s, time_t now)
{
    return now - s->last_used >= (time_t)t->idle_s;
}

static int sweep_locked(struct websessions *t)
{
    time_t now = now_of(t);
    int n = 0;
    for (unsigned i = 0; i < t->max; i++) {
        struct websession *s = &t->slots[i];
        if (s->state == SLOT_LIVE && !s->ended && slot_idle(t, s, now)) {
            slot_end(t, s);
            n++;
        }
    }
    return n;
}

/* ---- the table ---- */

static void *sweeper_main(void *arg)
{
    struct websessions *t = arg;
    unsigned every = t->idle_s / 4;
    if (every < 1)
        every = 1;
    if (every > WEBSESSION_SWEEP_MAX_S)
        every = WEBSESSION_SWEEP_MAX_S;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += every;
        pthread_cond_timedwait(&t->wake, &t->lock, &until);
        if (!t->stopping) {
            int n = sweep_locked(t);
            if (n)
                log_info("web sessions: %d idle session(s) ended, their keys wiped", n);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int websessions_new(const struct websession_options *o, struct websessions **out, struct op_err *e)
{
    *out = NULL;
    unsigned idle = o && o->idle_s ? o->idle_s : WEBSESSION_DEFAULT_IDLE_S;
    unsigned max = o && o->max ? o->max : WEBSESSION_DEFAULT_MAX;
    if (idle > WEBSESSION_MAX_IDLE_S)
        return err_set(e, OP_EINPUT, "session idle time-out: %u seconds, expected 1 to %d", idle,
                       WEBSESSION_MAX_IDLE_S);
    if (max > WEBSESSION_MAX_MAX)
        return err_set(e, OP_EINPUT, "web sessions: %u, expected 1 to %d", max, WEBSESSION_MAX_MAX);
    if (sodium_init() < 0)
        return err_set(e, OP_ECRYPTO, "cannot initialise libsodium");
    struct websessions *t = calloc(1, sizeof *t);
    if (!t)
        return err_set(e, OP_ENOMEM, "out of memory");
    t->idle_s = idle;
    t->max = max;
    t->now = o && o->now ? o->now : monotonic_now;
    t->now_ctx = o ? o->now_ctx : NULL;
    t->slots = calloc(max, sizeof *t->slots);
    t->arena = sodium_malloc((size_t)max * KEY_SLOT_BYTES);
    if (!t->slots || !t->arena) {
        free(t->slots);
        if (t->arena)
            sodium_free(t->arena);
        free(t);
        return err_set(e, OP_ENOMEM, "out of memory for %u web sessions", max);
    }
    sodium_memzero(t->arena, (size_t)max * KEY_SLOT_BYTES);
    for (unsigned i = 0; i < max; i++)
        t->slots[i].key = t->arena + (size_t)i * KEY_SLOT_BYTES;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&t->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (!(o && o->no_sweeper)) {
        if (pthread_create(&t->sweeper, NULL, sweeper_main, t) != 0) {
            websessions_free(t);
            return err_set(e, OP_ENOMEM, "cannot start the web sessions' sweeper thread");
        }
        t->has_sweeper = 1;
    }
    *out = t;
    return 0;
}

void websessions_free(struct websessions *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
    if (t->has_sweeper)
        pthread_join(t->sweeper, NULL);
    for (unsigned i = 0; i < t->max; i++)
        if (t->slots[i].state != SLOT_FREE)
            slot_free(t, &t->slots[i]);
    sodium_memzero(t->arena, (size_t)t->max * KEY_SLOT_BYTES);
    sodium_free(t->arena); /* wipes again, and unlocks */
    free(t->slots);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int websessions_sweep(struct websessions *t)
{
    pthread_mutex_lock(&t->lock);
    int n = sweep_locked(t);
    pthread_mutex_unlock(&t->lock);
    return n;
}

int websessions_count(struct websessions *t)
{
    pthread_mutex_lock(&t->lock);
    int n = 0;
    for (unsigned i = 0; i < t->max; i++)
        n += t->slots[i].state == SLOT_LIVE && !t->slots[i].ended;
    pthread_mutex_unlock(&t->lock);
    return n;
}

unsigned websessions_idle_s(const struct websessions *t)
{
    return t->idle_s;
}

/* ---- login ---- */

int websession_reserve(struct websessions *t, struct websession **out, struct op_err *e)
{
    *out = NULL;
    pthread_mutex_lock(&t->lock);
    struct websession *s = NULL;
    for (int pass = 0; pass < 2 && !s; pass++) {
        for (unsigned i = 0; i < t->max && !s; i++)
            if (t->slots[i].state == SLOT_FREE)
                s = &t->slots[i];
        if (!s && pass == 0)
            sweep_locked(t); /* idle sessions make room before anyone is refused */
    }
    if (s) {
        s->state = SLOT_RESERVED;
        s->refs = 0;
        s->ended = 0;
    }
    pthread_mutex_unlock(&t->lock);
    if (!s)
        return err_set(e, OP_EBUSY,
                       "too many people are logged in on this device (%u sessions): try again "
                       "when someone has logged out",
                       t->max);
    *out = s;
    return 0;
}

unsigned char *websession_key_pk(struct websession *s)
{
    return s->key;
}

unsigned char *websession_key_sk(struct websession *s)
{
    return s->key + VAULT_PUBLIC_BYTES;
}

/* When `login` has WEBSESSION_PER_USER_MAX live sessions, ends the least recently used. */
static void end_oldest_of(struct websessions *t, const char *login)
{
    int n = 0;
    struct websession *oldest = NULL;
    for (unsigned i = 0; i < t->max; i++) {
        struct websession *o = &t->slots[i];
        if (o->state != SLOT_LIVE || o->ended || strcmp(o->user.login, login) != 0)
            continue;
        n++;
        if (!oldest || o->last_used < oldest->last_used)
            oldest = o;
    }
    if (n >= WEBSESSION_PER_USER_MAX && oldest)
        slot_end(t, oldest);
}

void websession_open(struct websessions *t, struct websession *s, const struct web_user *who,
                     int has_key, char token[WEBSESSION_TOKEN_LEN + 1],
                     char csrf[WEBSESSION_TOKEN_LEN + 1])
{
    random_token(token);
    unsigned char h[HASH_BYTES];
    hash_token(token, h);
    pthread_mutex_lock(&t->lock);
    end_oldest_of(t, who->login);
    memcpy(s->id_hash, h, sizeof h);
    random_token(s->csrf);
    snprintf(csrf, WEBSESSION_TOKEN_LEN + 1, "%s", s->csrf);
    s->user = *who;
    s->has_key = has_key;
    if (!has_key)
        sodium_memzero(s->key, KEY_SLOT_BYTES);
    s->user.vault_pk = has_key ? s->key : NULL;
    s->user.vault_sk = has_key ? s->key + VAULT_PUBLIC_BYTES : NULL;
    s->last_used = now_of(t);
    s->state = SLOT_LIVE;
    pthread_mutex_unlock(&t->lock);
}

void websession_discard(struct websessions *t, struct websession *s)
{
    pthread_mutex_lock(&t->lock);
    slot_free(t, s);
    pthread_mutex_unlock(&t->lock);
}

/* ---- lookup ---- */

int websession_get(struct websessions *t, const char *token, struct websession **out,
                   struct op_err *e)
{
    *out = NULL;
    if (!token || strlen(token) != WEBSESSION_TOKEN_LEN)
        return err_set(e, OP_EUNAUTH, "not logged in (or the session has ended): log in again");
    unsigned char h[HASH_BYTES];
    hash_token(token, h);
    pthread_mutex_lock(&t->lock);
    struct websession *found = NULL;
    for (unsigned i = 0; i < t->max; i++) {
        struct websession *s = &t->slots[i];
        /* every live slot is compared, in constant time each: a hash, but no shortcut */
        if (s->state == SLOT_LIVE && !s->ended && sodium_memcmp(s->id_hash, h, HASH_BYTES) == 0)
            found = s;
    }
    int rc = 0;
    if (found && slot_idle(t, found, now_of(t))) {
        slot_end(t, found);
        found = NULL;
        rc = err_set(e, OP_EUNAUTH, "the session ended after %u minutes without use: log in again",
                     (t->idle_s + 59) / 60);
    } else if (!found) {
        rc = err_set(e, OP_EUNAUTH, "not logged in (or the session has ended): log in again");
    } else {
        found->refs++;
        found->last_used = now_of(t);
    }
    pthread_mutex_unlock(&t->lock);
    *out = found;
    return rc;
}

void websession_put(struct websessions *t, struct websession *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&t->lock);
    if (s->refs > 0)
        s->refs--;
    if (s->ended && s->refs == 0)
        slot_free(t, s);
    pthread_mutex_unlock(&t->lock);
}

const struct web_user *websession_user(const struct websession *s)
{
    return &s->user;
}

const char *websession_csrf(const struct websession *s)
{
    return s->csrf;
}

int websession_csrf_ok(const struct websession *s, const char *token)
{
    if (!token || strlen(token) != WEBSESSION_TOKEN_LEN)
        return 0;
    return sodium_memcmp(s->csrf, token, WEBSESSION_TOKEN_LEN) == 0;
}

void websession_end(struct websessions *t, struct websession *s)
{
    pthread_mutex_lock(&t->lock);
    if (s->state == SLOT_LIVE && !s->ended)
        slot_end(t, s);
    pthread_mutex_unlock(&t->lock);
}

/* ---- in a handler ---- */

struct borrowed {
    struct websessions *t;
    struct websession *s;
};

static void give_back(void *arg)
{
    struct borrowed *b = arg;
    websession_put(b->t, b->s);
    free(b);
}

static int is_safe_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

int websession_same_origin(const struct http_request *req, struct http_response *res,
                           struct op_err *e)
{
    const char *site = http_request_header(req, "Sec-Fetch-Site");
    const char *origin = http_request_header(req, "Origin");
    const char *host = http_request_header(req, "Host");
    int cross = site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0;
    if (!cross && origin) {
        const char *scheme = req->tls ? "https://" : "http://";
        size_t n = strlen(scheme);
        cross = !host || strncasecmp(origin, scheme, n) != 0 || strcasecmp(origin + n, host) != 0;
    }
    if (!cross)
        return 0;
    err_set(e, OP_EFORBIDDEN,
            "a request from another site (Origin %.128s) may not change "
            "anything here",
            origin ? origin : "(none)");
    return http_response_error_code(res, 403, "cross_site", e);
}

int websession_require_session(const struct http_request *req, struct http_response *res,
                               unsigned want, const struct web_user **who, struct websession **sess,
                               struct op_err *e)
{
    *who = NULL;
    if (sess)
        *sess = NULL;
    if (!req->sessions)
        return err_set(e, OP_ESTATE, "this server keeps no web sessions");
    char token[WEBSESSION_TOKEN_LEN + 8];
    const char *c = http_request_cookie(req, WEBSESSION_COOKIE, token, sizeof token);
    struct websession *s = NULL;
    int rc = websession_get(req->sessions, c, &s, e);
    if (rc != 0)
        return http_response_error(res, 401, e);
    struct borrowed *b = malloc(sizeof *b);
    if (!b) {
        websession_put(req->sessions, s);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    b->t = req->sessions;
    b->s = s;
    if (http_request_defer(req, give_back, b, e) != 0) {
        give_back(b);
        return e->code;
    }
    if (!is_safe_method(req->method) && (rc = websession_same_origin(req, res, e)) != 0)
        return rc;
    if (!is_safe_method(req->method) &&
        !websession_csrf_ok(s, http_request_header(req, WEBSESSION_CSRF_HEADER))) {
        err_set(e, OP_EFORBIDDEN,
                "this request lacks the session's CSRF token (header " WEBSESSION_CSRF_HEADER
                "): reload the page");
        return http_response_error_code(res, 403, "csrf", e);
    }
    const struct web_user *u = websession_user(s);
    if (want != WEB_ROLE_ANY && (u->roles & want) == 0) {
        err_set(e, OP_EFORBIDDEN, "your role may not do this");
        return http_response_error(res, 403, e);
    }
    *who = u;
    if (sess)
        *sess = s;
    return 0;
}

int websession_set_cookie(struct http_response *res, const char *token, int secure,
                          struct op_err *e)
{
    char v[256];
    snprintf(v, sizeof v, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", WEBSESSION_COOKIE,
             token ? token : "", token ? "" : "; Max-Age=0", secure ? "; Secure" : "");
    int rc = http_response_header(res, "Set-Cookie", v);
    sodium_memzero(v, sizeof v);
    if (rc != 0)
        return err_set(e, OP_ENOMEM, "cannot set the session cookie");
    return 0;
}
