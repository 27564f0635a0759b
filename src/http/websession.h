/*
 * websession.h - the web sessions of `outpost serve` on a device: who is logged in through a
 * browser, and the key their password unwrapped (docs/web.md, docs/security.md).
 *
 * A session is created by a login (POST /api/v1/session, api_session.c, app/weblogin.h) and
 * lives in this process's memory only: nothing of it is written to disk or the database.
 *
 *   - Its id is 32 random bytes (libsodium), sent once in the cookie `outpost_session`
 *     (HttpOnly, SameSite=Strict, Path=/, Secure when the server speaks TLS); the server keeps
 *     only a BLAKE2b hash of it, so the table does not hold usable cookies.
 *   - The user's unwrapped vault key pair lives in one sodium_malloc'ed arena (guard pages,
 *     locked in memory where the system allows, never swapped out), one slot per session; it
 *     is wiped (sodium_memzero) when the session ends: logout, idle time-out, server stop. The
 *     arena itself is wiped and freed (sodium_free) when the server stops.
 *   - A session unused for `idle_s` seconds (default WEBSESSION_DEFAULT_IDLE_S) ends: the next
 *     request with its cookie is 401, and a sweeper thread wipes it within
 *     WEBSESSION_SWEEP_MAX_S even if no request comes.
 *   - Each session has a CSRF token (32 random bytes), returned by the login and GET
 *     /api/v1/session; every request but GET and HEAD made with the cookie must carry it in
 *     the header X-CSRF-Token, or it is refused 403 with code "csrf" before the handler acts.
 *   - At most `max` sessions at once (default WEBSESSION_DEFAULT_MAX): a login past that is
 *     refused 503 (no live session is pushed out by a newcomer); and at most
 *     WEBSESSION_PER_USER_MAX of one login: their next login ends their least recently used
 *     one, so that one account cannot fill the table and lock everyone else out.
 *
 * Sessions are shared by the server's threads (a mutex guards the table). A handler borrows
 * its caller's session for the length of the request: websession_require takes a reference
 * that the server gives back when the handler returns (http_request_defer), so a logout from
 * another tab meanwhile cannot free the key under a running handler.
 *
 * A handler that needs a logged-in user writes one line:
 *
 *     const struct web_user *u;
 *     int rc = websession_require(req, res, WEB_ROLE_PROCTOR, &u, e);
 *     if (rc != 0)
 *         return rc;   // 401 no session or idle, 403 "csrf" or the wrong role (answered)
 *     ... u->id, u->roles, u->vault_sk (NULL when the session holds no key) ...
 */
#ifndef OUTPOST_HTTP_WEBSESSION_H
#define OUTPOST_HTTP_WEBSESSION_H

#include <stddef.h>
#include <time.h>

#include "base/err.h"
#include "crypto/vault.h"
#include "http/server.h"

#define WEBSESSION_COOKIE         "outpost_session"
#define WEBSESSION_CSRF_HEADER    "X-CSRF-Token"
#define WEBSESSION_DEFAULT_IDLE_S 900
#define WEBSESSION_MAX_IDLE_S     86400
#define WEBSESSION_DEFAULT_MAX    1024
#define WEBSESSION_MAX_MAX        100000
#define WEBSESSION_SWEEP_MAX_S    30
#define WEBSESSION_TOKEN_LEN      43 /* 32 bytes, URL-safe base64 without padding */
#define WEBSESSION_PER_USER_MAX   8  /* sessions of one login: a ninth ends their oldest */

/* Roles, as bits (a user of the store has one; the mask lets a handler accept several). */
enum {
    WEB_ROLE_TEST_TAKER = 1 << 0,
    WEB_ROLE_PROCTOR = 1 << 1,
    WEB_ROLE_SYNC_MANAGER = 1 << 2,
    WEB_ROLE_TEST_CENTER_ADMIN = 1 << 3,
    WEB_ROLE_SUPER_USER = 1 << 4, /* central's backoffice only (app/backoffice.h) */
    WEB_ROLE_ANY = 0,             /* websession_require: any logged-in user */
};

#define WEB_ID_MAX    64
#define WEB_LOGIN_MAX 256
#define WEB_LABEL_MAX 256
#define WEB_ORG_MAX   256

/* Who a session is. Valid while the request that borrowed it runs. */
struct web_user {
    char id[WEB_ID_MAX]; /* the user's id in the store (synced record id); "" for a sync
                            manager logged in by enrolment before the first sync */
    char login[WEB_LOGIN_MAX];
    char label[WEB_LABEL_MAX]; /* from the user's sealed profile; the login when none */
    char org_id[WEB_ORG_MAX];  /* sync managers: their organisation; else "" */
    unsigned roles;            /* WEB_ROLE_* bits */
    /* The vault key pair the password unwrapped (in the sodium_malloc'ed arena), or NULL. */
    const unsigned char *vault_pk;
    const unsigned char *vault_sk;
};

/* The JSON name of one role bit ("test_taker", "proctor", "sync_manager",
 * "test_center_admin", "super_user"), and the bit of a store role ("test-taker"...; 0 when
 * unknown). */
const char *web_role_name(unsigned role_bit);
unsigned web_role_of_store(const char *store_role);

/* ---- the table ---- */

struct websessions;
struct websession;

struct websession_options {
    unsigned idle_s;          /* 0: WEBSESSION_DEFAULT_IDLE_S */
    unsigned max;             /* 0: WEBSESSION_DEFAULT_MAX */
    time_t (*now)(void *ctx); /* seconds of a monotonic clock; NULL: CLOCK_MONOTONIC (tests
                                 pass their own) */
    void *now_ctx;
    int no_sweeper; /* tests: no sweeper thread (they call websessions_sweep) */
};

/* A new table (the key arena allocated at once, for `max` sessions). *out is freed with
 * websessions_free. OP_ENOMEM when the arena cannot be had. */
int websessions_new(const struct websession_options *o, struct websessions **out, struct op_err *e);
/* Ends every session (keys wiped), stops the sweeper, wipes and frees the arena. Sessions
 * still borrowed must have been given back (the server stops its handlers first). */
void websessions_free(struct websessions *t);
/* Ends the sessions idle past the limit (keys wiped now); returns how many. */
int websessions_sweep(struct websessions *t);
/* Live sessions (not ended). */
int websessions_count(struct websessions *t);
unsigned websessions_idle_s(const struct websessions *t);

/* Login, in three steps so that the key goes straight into the arena:
 * websession_reserve takes a slot (OP_EBUSY when `max` sessions are live), the login writes
 * the key pair into websession_key_pk/_sk, then websession_open makes it a live session
 * (copying `who`, whose key pointers are ignored; has_key says whether the slot holds a key;
 * ending the login's least recently used session when they have WEBSESSION_PER_USER_MAX)
 * and gives its cookie value and CSRF token, or websession_discard wipes the slot and frees
 * it. */
int websession_reserve(struct websessions *t, struct websession **out, struct op_err *e);
unsigned char *websession_key_pk(struct websession *s);
unsigned char *websession_key_sk(struct websession *s);
void websession_open(struct websessions *t, struct websession *s, const struct web_user *who,
                     int has_key, char token[WEBSESSION_TOKEN_LEN + 1],
                     char csrf[WEBSESSION_TOKEN_LEN + 1]);
void websession_discard(struct websessions *t, struct websession *s);

/* The live session of cookie value `token`, borrowed (give it back with websession_put):
 * OP_EUNAUTH when there is none or it has been idle too long (then it is ended now). Touches
 * its last use. */
int websession_get(struct websessions *t, const char *token, struct websession **out,
                   struct op_err *e);
void websession_put(struct websessions *t, struct websession *s);
/* Who the (borrowed) session is, with its key pointers; its CSRF token. */
const struct web_user *websession_user(const struct websession *s);
const char *websession_csrf(const struct websession *s);
/* 1 when `token` (may be NULL) is the session's CSRF token (constant time). */
int websession_csrf_ok(const struct websession *s, const char *token);
/* Ends a borrowed session (logout): it leaves the table at once, and its key is wiped when
 * the last borrower gives it back. */
void websession_end(struct websessions *t, struct websession *s);

/* ---- in a handler ---- */

/* 0 when a request that changes something may come from a page of this device: a browser's
 * Sec-Fetch-Site, when sent, is "same-origin" or "none" (typed, not a link), and its Origin,
 * when sent, is this server's own (scheme and Host); otherwise 403 code "cross_site",
 * answered in `res`. Clients that send neither (curl, the load tool) pass: the CSRF token
 * still guards them. */
int websession_same_origin(const struct http_request *req, struct http_response *res,
                           struct op_err *e);

/* The caller's session (its cookie), checked: 401 (OP_EUNAUTH) when none or idle; for any
 * method but GET and HEAD, 403 code "cross_site" from another site
 * (websession_same_origin), 403 code "csrf" without the session's X-CSRF-Token; 403
 * (OP_EFORBIDDEN) when `roles` (WEB_ROLE_* bits; WEB_ROLE_ANY: any user) has none of the
 * user's. The error is answered in `res`: `return rc;` it. *who is valid until the handler
 * returns (the server gives the session back then). `*sess` (may be NULL) gets the session
 * itself, for the session endpoints. */
int websession_require_session(const struct http_request *req, struct http_response *res,
                               unsigned roles, const struct web_user **who,
                               struct websession **sess, struct op_err *e);
static inline int websession_require(const struct http_request *req, struct http_response *res,
                                     unsigned roles, const struct web_user **who, struct op_err *e)
{
    return websession_require_session(req, res, roles, who, NULL, e);
}

/* Sets the session cookie in `res`: `token` with HttpOnly, SameSite=Strict, Path=/ and, when
 * `secure`, Secure; NULL `token` clears it (Max-Age=0). */
int websession_set_cookie(struct http_response *res, const char *token, int secure,
                          struct op_err *e);

#endif
