/*
 * oauth2.c - the OAuth2 token request, bearer header and their answers (see oauth2.h). The
 * form parser decodes into fixed buffers: nothing it reads can make it allocate or write past
 * a bound.
 */
#include "auth/oauth2.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/text.h"

const char *oauth2_error_code(enum oauth2_error err)
{
    switch (err) {
    case OAUTH2_OK:
        return "";
    case OAUTH2_INVALID_REQUEST:
        return "invalid_request";
    case OAUTH2_INVALID_CLIENT:
        return "invalid_client";
    case OAUTH2_INVALID_GRANT:
        return "invalid_grant";
    case OAUTH2_UNAUTHORIZED_CLIENT:
        return "unauthorized_client";
    case OAUTH2_UNSUPPORTED_GRANT_TYPE:
        return "unsupported_grant_type";
    case OAUTH2_INVALID_SCOPE:
        return "invalid_scope";
    }
    return "invalid_request";
}

int oauth2_error_http_status(enum oauth2_error err)
{
    return err == OAUTH2_OK ? 200 : err == OAUTH2_INVALID_CLIENT ? 401 : 400;
}

void oauth2_token_request_wipe(struct oauth_token_request *r)
{
    sodium_memzero(r, sizeof *r);
}

/* ---- application/x-www-form-urlencoded ---- */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) ('+' is a space, %XX a byte) into out (cap bytes with the NUL). 0, or -1
 * for a malformed escape, -2 when it does not fit, -3 for a control character or invalid
 * UTF-8 in the result. */
static int form_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (unsigned char)(h * 16 + l);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        } else if (c < 0x21 || c > 0x7e) {
            return -1; /* raw bytes outside the form's character set */
        }
        if (c < 0x20 || c == 0x7f)
            return -3;
        if (o + 1 >= cap)
            return -2;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return utf8_is_valid(out, o) ? 0 : -3;
}

/* The parameters the token request reads; the others are skipped (but still checked). */
enum { P_GRANT, P_ID, P_SECRET, P_SCOPE, P_COUNT };
static const char *const param_names[P_COUNT] = {"grant_type", "client_id", "client_secret",
                                                 "scope"};

static int refuse(enum oauth2_error *err, enum oauth2_error code, struct op_err *e, const char *msg)
{
    *err = code;
    return err_set(e, code == OAUTH2_INVALID_CLIENT ? OP_EUNAUTH : OP_EINPUT, "%s", msg);
}

/* Splits "id:secret" of a Basic header into the request (each part form-urlencoded,
 * §2.3.1). */
static int parse_basic(const char *header, struct oauth_token_request *out, enum oauth2_error *err,
                       struct op_err *e)
{
    const char *p = header + 5;
    if (*p != ' ')
        return refuse(err, OAUTH2_INVALID_CLIENT, e, "malformed Basic authorization header");
    while (*p == ' ')
        p++;
    size_t n = strlen(p);
    if (n == 0 || n > OAUTH2_HEADER_MAX)
        return refuse(err, OAUTH2_INVALID_CLIENT, e, "malformed Basic authorization header");
    unsigned char dec[OAUTH2_HEADER_MAX];
    size_t dlen = 0;
    const char *end = NULL;
    if (sodium_base642bin(dec, sizeof dec - 1, p, n, NULL, &dlen, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != p + n)
        return refuse(err, OAUTH2_INVALID_CLIENT, e,
                      "the Basic authorization header is not valid base64");
    unsigned char *colon = memchr(dec, ':', dlen);
    int rc = 0;
    if (!colon)
        rc = refuse(err, OAUTH2_INVALID_CLIENT, e,
                    "the Basic authorization header holds no \"client_id:client_secret\"");
    else if (form_decode((char *)dec, (size_t)(colon - dec), out->client_id,
                         sizeof out->client_id) != 0 ||
             form_decode((char *)colon + 1, dlen - (size_t)(colon - dec) - 1, out->client_secret,
                         sizeof out->client_secret) != 0)
        rc = refuse(err, OAUTH2_INVALID_CLIENT, e,
                    "the client id or secret in the Basic authorization header is malformed or "
                    "too long");
    sodium_memzero(dec, sizeof dec);
    out->basic = 1;
    return rc;
}

int oauth2_parse_token_request(const char *body, size_t len, const char *authorization,
                               struct oauth_token_request *out, enum oauth2_error *err,
                               struct op_err *e)
{
    memset(out, 0, sizeof *out);
    *err = OAUTH2_OK;
    if (len > OAUTH2_BODY_MAX)
        return refuse(err, OAUTH2_INVALID_REQUEST, e,
                      "the token request is longer than 4096 bytes");
    char grant[64] = "";
    int seen[P_COUNT] = {0};
    char scratch[OAUTH2_BODY_MAX + 1];
    size_t i = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        const char *pair = body + i;
        const char *amp = memchr(pair, '&', len - i);
        size_t plen = amp ? (size_t)(amp - pair) : len - i;
        i += plen + (amp ? 1 : 0);
        if (plen == 0)
            continue; /* "a=1&&b=2" or a trailing '&' */
        const char *eq = memchr(pair, '=', plen);
        if (!eq) {
            rc = refuse(err, OAUTH2_INVALID_REQUEST, e,
                        "malformed token request: a parameter without '='");
            break;
        }
        size_t nlen = (size_t)(eq - pair), vlen = plen - nlen - 1;
        char name[32];
        int d = form_decode(pair, nlen, name, sizeof name);
        if (d == -2) { /* a long name is no name we read: check it, then skip it */
            d = form_decode(pair, nlen, scratch, sizeof scratch);
            if (d == 0)
                d = form_decode(eq + 1, vlen, scratch, sizeof scratch);
            if (d != 0)
                rc = refuse(err, OAUTH2_INVALID_REQUEST, e,
                            "malformed token request: bad percent-encoding or character");
            continue;
        }
        if (d != 0) {
            rc = refuse(err, OAUTH2_INVALID_REQUEST, e,
                        "malformed token request: bad percent-encoding or character in a "
                        "parameter name");
            break;
        }
        int p = 0;
        while (p < P_COUNT && strcmp(name, param_names[p]) != 0)
            p++;
        char *dst = scratch;
        size_t cap = sizeof scratch;
        if (p < P_COUNT) {
            if (seen[p]++) {
                *err = OAUTH2_INVALID_REQUEST;
                rc = err_set(e, OP_EINPUT, "malformed token request: %s given twice", name);
                break;
            }
            dst = p == P_GRANT    ? grant
                  : p == P_ID     ? out->client_id
                  : p == P_SECRET ? out->client_secret
                                  : out->scope;
            cap = p == P_GRANT    ? sizeof grant
                  : p == P_ID     ? sizeof out->client_id
                  : p == P_SECRET ? sizeof out->client_secret
                                  : sizeof out->scope;
        }
        d = form_decode(eq + 1, vlen, dst, cap);
        if (d == -2 && (p == P_ID || p == P_SECRET)) {
            rc = refuse(err, OAUTH2_INVALID_CLIENT, e, "the client id or secret is too long");
        } else if (d == -2 && p == P_SCOPE) {
            rc = refuse(err, OAUTH2_INVALID_SCOPE, e, "the scope is too long");
        } else if (d == -2 && p == P_GRANT) {
            rc = refuse(err, OAUTH2_UNSUPPORTED_GRANT_TYPE, e,
                        "unsupported grant_type: only client_credentials is");
        } else if (d != 0) {
            *err = OAUTH2_INVALID_REQUEST;
            rc = err_set(e, OP_EINPUT,
                         "malformed token request: bad percent-encoding or character in %s",
                         p < P_COUNT ? param_names[p] : "a parameter");
        }
    }
    sodium_memzero(scratch, sizeof scratch);
    if (rc != 0)
        goto fail;
    if (!seen[P_GRANT]) {
        rc = refuse(err, OAUTH2_INVALID_REQUEST, e, "the token request has no grant_type");
        goto fail;
    }
    if (strcmp(grant, "client_credentials") != 0) {
        rc = refuse(err, OAUTH2_UNSUPPORTED_GRANT_TYPE, e,
                    "unsupported grant_type: only client_credentials is");
        goto fail;
    }
    if (seen[P_SCOPE] && out->scope[0] && strcmp(out->scope, OAUTH2_SCOPE_SYNC) != 0) {
        rc = refuse(err, OAUTH2_INVALID_SCOPE, e, "unknown scope: the only scope is \"sync\"");
        goto fail;
    }
    int has_basic = authorization && strncasecmp(authorization, "Basic", 5) == 0 &&
                    (authorization[5] == ' ' || authorization[5] == '\0');
    if (authorization && authorization[0] && !has_basic) {
        rc = refuse(err, OAUTH2_INVALID_REQUEST, e,
                    "the token endpoint takes HTTP Basic client authentication or none");
        goto fail;
    }
    if (has_basic) {
        if (seen[P_ID] || seen[P_SECRET]) {
            rc = refuse(err, OAUTH2_INVALID_REQUEST, e,
                        "two client authentications at once: HTTP Basic and client_id/"
                        "client_secret in the body; use one");
            goto fail;
        }
        rc = parse_basic(authorization, out, err, e);
        if (rc != 0)
            goto fail;
    } else if (!seen[P_ID] && !seen[P_SECRET]) {
        rc = refuse(err, OAUTH2_INVALID_CLIENT, e,
                    "no client authentication: send client_id and client_secret (HTTP Basic or "
                    "in the body)");
        goto fail;
    }
    if (!out->client_id[0] || !out->client_secret[0]) {
        rc = refuse(err, OAUTH2_INVALID_CLIENT, e, "the client id or secret is missing");
        goto fail;
    }
    if (!out->scope[0])
        snprintf(out->scope, sizeof out->scope, "%s", OAUTH2_SCOPE_SYNC);
    return 0;
fail : {
    int basic = out->basic;
    oauth2_token_request_wipe(out);
    out->basic = basic || (authorization && strncasecmp(authorization, "Basic", 5) == 0);
    return rc;
}
}

int oauth2_is_form_content_type(const char *ct)
{
    static const char form[] = "application/x-www-form-urlencoded";
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, form, sizeof form - 1) != 0)
        return 0;
    ct += sizeof form - 1;
    while (*ct == ' ')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* ---- Answers ---- */

/* Copies `s` into out (cap bytes) keeping RFC 6749's error_description characters
 * (%x20-21 / %x23-5B / %x5D-7E); any other byte becomes '?'. */
static void clean_text(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; s && *s && o + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        out[o++] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\') ? '?' : (char)c;
    }
    out[o] = '\0';
}

char *oauth2_token_json(const char *access_token, int expires_in)
{
    json_t *o = json_pack("{s:s, s:s, s:i}", "access_token", access_token, "token_type", "Bearer",
                          "expires_in", expires_in);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

char *oauth2_error_json(enum oauth2_error err, const char *description)
{
    char desc[201];
    clean_text(description, desc, sizeof desc);
    json_t *o = json_pack("{s:s}", "error",
                          oauth2_error_code(err == OAUTH2_OK ? OAUTH2_INVALID_REQUEST : err));
    if (o && desc[0])
        json_object_set_new(o, "error_description", json_string(desc));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static int b64token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

enum oauth2_bearer oauth2_parse_bearer(const char *header, char token[OAUTH2_TOKEN_MAX + 1])
{
    token[0] = '\0';
    if (!header || strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\0'))
        return OAUTH2_BEARER_MISSING;
    const char *p = header + 6;
    while (*p == ' ')
        p++;
    size_t n = 0;
    while (b64token_char((unsigned char)p[n]))
        n++;
    size_t eq = 0;
    while (p[n + eq] == '=')
        eq++;
    if (n == 0 || p[n + eq] != '\0' || n + eq > OAUTH2_TOKEN_MAX)
        return OAUTH2_BEARER_MALFORMED;
    memcpy(token, p, n + eq);
    token[n + eq] = '\0';
    return OAUTH2_BEARER_OK;
}

char *oauth2_www_authenticate(char *out, size_t cap, const char *realm, const char *error,
                              const char *description)
{
    char r[128], code[64], desc[201];
    clean_text(realm ? realm : "outpost", r, sizeof r);
    if (!error || !error[0]) {
        snprintf(out, cap, "Bearer realm=\"%s\"", r);
        return out;
    }
    clean_text(error, code, sizeof code);
    clean_text(description, desc, sizeof desc);
    if (desc[0])
        snprintf(out, cap, "Bearer realm=\"%s\", error=\"%s\", error_description=\"%s\"", r, code,
                 desc);
    else
        snprintf(out, cap, "Bearer realm=\"%s\", error=\"%s\"", r, code);
    return out;
}

/* ---- Tokens and their hashes ---- */

void oauth2_random_token(char out[OAUTH2_TOKEN_LEN])
{
    unsigned char b[OAUTH2_RANDOM_BYTES];
    randombytes_buf(b, sizeof b);
    sodium_bin2base64(out, OAUTH2_TOKEN_LEN, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(b, sizeof b);
}

int oauth2_token_shape_ok(const char *s)
{
    if (!s || strlen(s) != OAUTH2_TOKEN_LEN - 1)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

void oauth2_hash(const unsigned char key[OAUTH2_HASH_KEY_BYTES], const char *secret,
                 char out[OAUTH2_HASH_HEX_LEN])
{
    unsigned char h[OAUTH2_HASH_BYTES];
    crypto_generichash(h, sizeof h, (const unsigned char *)secret, strlen(secret), key,
                       OAUTH2_HASH_KEY_BYTES);
    sodium_bin2hex(out, OAUTH2_HASH_HEX_LEN, h, sizeof h);
}

int oauth2_hash_matches(const unsigned char key[OAUTH2_HASH_KEY_BYTES], const char *secret,
                        const char *hash_hex)
{
    char mine[OAUTH2_HASH_HEX_LEN];
    oauth2_hash(key, secret, mine);
    return hash_hex && strlen(hash_hex) == OAUTH2_HASH_HEX_LEN - 1 &&
           sodium_memcmp(mine, hash_hex, OAUTH2_HASH_HEX_LEN - 1) == 0;
}
