/* test_oauth2.c - auth/oauth2.h and auth/enrol.h: the token request parser (RFC 6749 §4.4,
 * §2.3.1, every §5.2 error it answers), the answers, the bearer header (RFC 6750 §2.1), the
 * WWW-Authenticate value, the keyed hashes, and the enrolment JSON. */
#include <sodium.h>
#include <string.h>

#include "auth/enrol.h"
#include "auth/oauth2.h"
#include "testutil.h"

struct parsed {
    int rc;
    enum oauth2_error err;
    struct oauth_token_request r;
    struct op_err e;
};

static struct parsed parse(const char *body, const char *auth)
{
    struct parsed p;
    memset(&p, 0, sizeof p);
    p.rc = oauth2_parse_token_request(body, strlen(body), auth, &p.r, &p.err, &p.e);
    return p;
}

/* "Basic " + base64(s) */
static const char *basic(const char *s, char *out, size_t cap)
{
    memcpy(out, "Basic ", 6);
    sodium_bin2base64(out + 6, cap - 6, (const unsigned char *)s, strlen(s),
                      sodium_base64_VARIANT_ORIGINAL);
    return out;
}

static void test_body_credentials_are_parsed_and_scope_defaults_to_sync(void **state)
{
    (void)state;
    struct parsed p =
        parse("grant_type=client_credentials&client_id=abc&client_secret=s%2Bx+y", NULL);
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.r.client_id, "abc");
    assert_string_equal(p.r.client_secret, "s+x y");
    assert_string_equal(p.r.scope, "sync");
    assert_int_equal(p.r.basic, 0);
    p = parse("client_secret=z&scope=sync&grant_type=client_credentials&client_id=a&extra=1&",
              NULL);
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.r.client_id, "a");
}

static void test_basic_credentials_are_form_decoded(void **state)
{
    (void)state;
    char h[256];
    struct parsed p =
        parse("grant_type=client_credentials", basic("my%3Aid:se%25cret", h, sizeof h));
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.r.client_id, "my:id");
    assert_string_equal(p.r.client_secret, "se%cret");
    assert_int_equal(p.r.basic, 1);
    /* the scheme is case-insensitive */
    h[0] = 'b';
    h[1] = 'A';
    assert_int_equal(parse("grant_type=client_credentials", h).rc, 0);
}

static void expect(const char *body, const char *auth, enum oauth2_error err, int code)
{
    struct parsed p = parse(body, auth);
    if (p.rc != code || p.err != err)
        fail_msg("%s: rc %d err %s (%s)", body, p.rc, oauth2_error_code(p.err), p.e.msg);
    assert_string_equal(p.r.client_secret, ""); /* nothing left behind on failure */
}

static void test_invalid_request_cases(void **state)
{
    (void)state;
    char h[256];
    const enum oauth2_error IR = OAUTH2_INVALID_REQUEST;
    expect("client_id=a&client_secret=b", NULL, IR, OP_EINPUT); /* no grant_type */
    expect("grant_type=client_credentials&grant_type=client_credentials&client_id=a&"
           "client_secret=b",
           NULL, IR, OP_EINPUT); /* twice (§3.2) */
    expect("grant_type=client_credentials&client_id=a&client_id=a&client_secret=b", NULL, IR,
           OP_EINPUT);
    expect("grant_type=client_credentials&client_id=a&client_secret=b%2", NULL, IR, OP_EINPUT);
    expect("grant_type=client_credentials&client_id=a&client_secret=b%zz", NULL, IR, OP_EINPUT);
    expect("grant_type=client_credentials&client_id=a&client_secret=b%", NULL, IR, OP_EINPUT);
    expect("grant_type=client_credentials&client_id=a%00&client_secret=b", NULL, IR, OP_EINPUT);
    expect("grant_type=client_credentials&client_id=a%0A&client_secret=b", NULL, IR, OP_EINPUT);
    expect("grant_type=client_credentials&client_id=%C3%28&client_secret=b", NULL, IR, OP_EINPUT);
    expect("grant_type=client_credentials&client_id=a b&client_secret=b", NULL, IR, OP_EINPUT);
    expect("grant_type=client_credentials&client_id&client_secret=b", NULL, IR, OP_EINPUT);
    expect("grant_type=client_credentials&bad%G0name=1&client_id=a&client_secret=b", NULL, IR,
           OP_EINPUT);
    /* two client authentications at once (§2.3) */
    expect("grant_type=client_credentials&client_id=a&client_secret=b", basic("a:b", h, sizeof h),
           IR, OP_EINPUT);
    expect("grant_type=client_credentials&client_secret=b", basic("a:b", h, sizeof h), IR,
           OP_EINPUT);
    /* another scheme on the token endpoint */
    expect("grant_type=client_credentials", "Bearer abc", IR, OP_EINPUT);
    /* too long */
    char big[OAUTH2_BODY_MAX + 64];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "grant_type=client_credentials&x=", 32);
    expect(big, NULL, IR, OP_EINPUT);
}

static void test_unsupported_grant_type_and_invalid_scope(void **state)
{
    (void)state;
    expect("grant_type=password&client_id=a&client_secret=b", NULL, OAUTH2_UNSUPPORTED_GRANT_TYPE,
           OP_EINPUT);
    expect("grant_type=&client_id=a&client_secret=b", NULL, OAUTH2_UNSUPPORTED_GRANT_TYPE,
           OP_EINPUT);
    expect("grant_type=client_credentials&client_id=a&client_secret=b&scope=admin", NULL,
           OAUTH2_INVALID_SCOPE, OP_EINPUT);
    assert_int_equal(
        parse("grant_type=client_credentials&client_id=a&client_secret=b&scope=", NULL).rc, 0);
}

static void test_invalid_client_cases(void **state)
{
    (void)state;
    char h[512];
    const enum oauth2_error IC = OAUTH2_INVALID_CLIENT;
    expect("grant_type=client_credentials", NULL, IC, OP_EUNAUTH);             /* none */
    expect("grant_type=client_credentials&client_id=a", NULL, IC, OP_EUNAUTH); /* public */
    expect("grant_type=client_credentials&client_id=&client_secret=b", NULL, IC, OP_EUNAUTH);
    expect("grant_type=client_credentials", "Basic", IC, OP_EUNAUTH);
    expect("grant_type=client_credentials", "Basic !!!!", IC, OP_EUNAUTH);
    expect("grant_type=client_credentials", basic("no-colon", h, sizeof h), IC, OP_EUNAUTH);
    expect("grant_type=client_credentials", basic("a:%zz", h, sizeof h), IC, OP_EUNAUTH);
    char longid[300];
    memset(longid, 'i', 200);
    strcpy(longid + 200, ":s");
    expect("grant_type=client_credentials", basic(longid, h, sizeof h), IC, OP_EUNAUTH);
    char body[600];
    snprintf(body, sizeof body, "grant_type=client_credentials&client_secret=b&client_id=%.200s",
             longid);
    expect(body, NULL, IC, OP_EUNAUTH);
    /* a failed Basic attempt is said so: the handler answers WWW-Authenticate: Basic */
    struct parsed p = parse("grant_type=client_credentials", "Basic !!!!");
    assert_int_equal(p.r.basic, 1);
}

static void test_error_codes_and_statuses(void **state)
{
    (void)state;
    assert_string_equal(oauth2_error_code(OAUTH2_INVALID_REQUEST), "invalid_request");
    assert_string_equal(oauth2_error_code(OAUTH2_INVALID_CLIENT), "invalid_client");
    assert_string_equal(oauth2_error_code(OAUTH2_INVALID_GRANT), "invalid_grant");
    assert_string_equal(oauth2_error_code(OAUTH2_UNAUTHORIZED_CLIENT), "unauthorized_client");
    assert_string_equal(oauth2_error_code(OAUTH2_UNSUPPORTED_GRANT_TYPE), "unsupported_grant_type");
    assert_string_equal(oauth2_error_code(OAUTH2_INVALID_SCOPE), "invalid_scope");
    assert_int_equal(oauth2_error_http_status(OAUTH2_INVALID_CLIENT), 401);
    assert_int_equal(oauth2_error_http_status(OAUTH2_INVALID_SCOPE), 400);
    assert_int_equal(oauth2_error_http_status(OAUTH2_INVALID_REQUEST), 400);
}

static void test_answers_are_the_rfc_json(void **state)
{
    (void)state;
    char *s = oauth2_token_json("tok", 900);
    assert_string_equal(s,
                        "{\"access_token\":\"tok\",\"token_type\":\"Bearer\",\"expires_in\":900}");
    free(s);
    s = oauth2_error_json(OAUTH2_INVALID_CLIENT, "bad \"client\"\n\\");
    assert_string_equal(s,
                        "{\"error\":\"invalid_client\",\"error_description\":\"bad ?client???\"}");
    free(s);
    s = oauth2_error_json(OAUTH2_INVALID_SCOPE, NULL);
    assert_string_equal(s, "{\"error\":\"invalid_scope\"}");
    free(s);
    assert_true(oauth2_is_form_content_type("application/x-www-form-urlencoded"));
    assert_true(oauth2_is_form_content_type("Application/X-WWW-Form-Urlencoded; charset=UTF-8"));
    assert_false(oauth2_is_form_content_type("application/json"));
    assert_false(oauth2_is_form_content_type("application/x-www-form-urlencodedx"));
    assert_false(oauth2_is_form_content_type(NULL));
}

static void test_bearer_header(void **state)
{
    (void)state;
    char t[OAUTH2_TOKEN_MAX + 1];
    assert_int_equal(oauth2_parse_bearer("Bearer abc-._~+/DEF==", t), OAUTH2_BEARER_OK);
    assert_string_equal(t, "abc-._~+/DEF==");
    assert_int_equal(oauth2_parse_bearer("bearer   xyz", t), OAUTH2_BEARER_OK);
    assert_string_equal(t, "xyz");
    assert_int_equal(oauth2_parse_bearer(NULL, t), OAUTH2_BEARER_MISSING);
    assert_int_equal(oauth2_parse_bearer("", t), OAUTH2_BEARER_MISSING);
    assert_int_equal(oauth2_parse_bearer("Basic YTpi", t), OAUTH2_BEARER_MISSING);
    assert_int_equal(oauth2_parse_bearer("Bearerxyz", t), OAUTH2_BEARER_MISSING);
    assert_int_equal(oauth2_parse_bearer("Bearer", t), OAUTH2_BEARER_MALFORMED);
    assert_int_equal(oauth2_parse_bearer("Bearer ", t), OAUTH2_BEARER_MALFORMED);
    assert_int_equal(oauth2_parse_bearer("Bearer a b", t), OAUTH2_BEARER_MALFORMED);
    assert_int_equal(oauth2_parse_bearer("Bearer a=b", t), OAUTH2_BEARER_MALFORMED);
    assert_int_equal(oauth2_parse_bearer("Bearer a\"", t), OAUTH2_BEARER_MALFORMED);
    assert_int_equal(oauth2_parse_bearer("Bearer =", t), OAUTH2_BEARER_MALFORMED);
    char big[OAUTH2_TOKEN_MAX + 20] = "Bearer ";
    memset(big + 7, 'a', OAUTH2_TOKEN_MAX + 1);
    big[7 + OAUTH2_TOKEN_MAX + 1] = '\0';
    assert_int_equal(oauth2_parse_bearer(big, t), OAUTH2_BEARER_MALFORMED);
}

static void test_www_authenticate(void **state)
{
    (void)state;
    char out[512];
    assert_string_equal(oauth2_www_authenticate(out, sizeof out, "outpost", NULL, NULL),
                        "Bearer realm=\"outpost\"");
    assert_string_equal(oauth2_www_authenticate(out, sizeof out, "outpost", "invalid_token",
                                                "the \"token\" expired"),
                        "Bearer realm=\"outpost\", error=\"invalid_token\", "
                        "error_description=\"the ?token? expired\"");
    oauth2_www_authenticate(out, 10, "outpost", "invalid_token", "x");
    assert_int_equal(strlen(out), 9);
}

static void test_tokens_and_hashes(void **state)
{
    (void)state;
    char a[OAUTH2_TOKEN_LEN], b[OAUTH2_TOKEN_LEN];
    oauth2_random_token(a);
    oauth2_random_token(b);
    assert_int_equal(strlen(a), 43);
    assert_true(oauth2_token_shape_ok(a));
    assert_string_not_equal(a, b);
    assert_false(oauth2_token_shape_ok("short"));
    unsigned char k1[OAUTH2_HASH_KEY_BYTES], k2[OAUTH2_HASH_KEY_BYTES];
    randombytes_buf(k1, sizeof k1);
    randombytes_buf(k2, sizeof k2);
    char h[OAUTH2_HASH_HEX_LEN], h2[OAUTH2_HASH_HEX_LEN];
    oauth2_hash(k1, a, h);
    oauth2_hash(k2, a, h2);
    assert_int_equal(strlen(h), 64);
    assert_string_not_equal(h, h2); /* keyed: another server's hash differs */
    assert_true(oauth2_hash_matches(k1, a, h));
    assert_false(oauth2_hash_matches(k1, b, h));
    assert_false(oauth2_hash_matches(k2, a, h));
    assert_false(oauth2_hash_matches(k1, a, ""));
}

/* ---- enrolment JSON ---- */

#define DEV "0b6f4a57-1c1e-4d0e-9d3b-5a4e0f7c2d11"

static void test_enrol_request_round_trips(void **state)
{
    (void)state;
    struct enrol_request r, back;
    memset(&r, 0, sizeof r);
    strcpy(r.login, "sm");
    strcpy(r.password, "p\"w");
    strcpy(r.device_id, DEV);
    strcpy(r.label, "Laptop 1");
    randombytes_buf(r.signing_public_key, KEY_PUBLIC_BYTES);
    char *s = enrol_request_json(&r);
    struct op_err e = {0};
    assert_int_equal(enrol_request_parse(s, strlen(s), &back, &e), 0);
    assert_memory_equal(&r, &back, sizeof r);
    free(s);
}

static void enrol_bad(const char *body, const char *field)
{
    struct enrol_request r;
    struct op_err e = {0};
    int rc = enrol_request_parse(body, strlen(body), &r, &e);
    if (rc != OP_EINPUT)
        fail_msg("accepted: %s", body);
    if (field)
        assert_string_equal(e.field, field);
    assert_string_equal(r.password, "");
}

#define PK                                                                                         \
    "\""                                                                                           \
    "0102030405060708091011121314151617181920212223242526272829303132"                             \
    "\""

static void test_enrol_request_refuses_bad_bodies(void **state)
{
    (void)state;
    enrol_bad("", NULL);
    enrol_bad("[]", NULL);
    enrol_bad("{\"login\": \"a\", \"login\": \"b\"}", NULL); /* duplicate */
    enrol_bad("{\"password\": \"p\", \"device_id\": \"" DEV "\", \"label\": \"L\","
              " \"signing_public_key\": " PK "}",
              "login");
    enrol_bad("{\"login\": 1, \"password\": \"p\"}", "login");
    enrol_bad("{\"login\": \"a\\tb\", \"password\": \"p\"}", "login");
    enrol_bad("{\"login\": \"a\", \"password\": \"\"}", "password");
    enrol_bad("{\"login\": \"a\", \"password\": \"p\\u0000q\"}", NULL); /* jansson refuses NUL */
    enrol_bad("{\"login\": \"a\", \"password\": \"p\", \"device_id\": \"laptop\"}", "device_id");
    enrol_bad("{\"login\": \"a\", \"password\": \"p\", \"device_id\": \"" DEV "\"}", "label");
    enrol_bad("{\"login\": \"a\", \"password\": \"p\", \"device_id\": \"" DEV "\", \"label\": "
              "\"L\", \"signing_public_key\": \"0102\"}",
              "signing_public_key");
    enrol_bad("{\"login\": \"a\", \"password\": \"p\", \"device_id\": \"" DEV "\", \"label\": "
              "\"L\", \"signing_public_key\": \""
              "0000000000000000000000000000000000000000000000000000000000000000"
              "\"}",
              "signing_public_key");
    char big[ENROL_BODY_MAX + 10];
    memset(big, ' ', sizeof big - 1);
    big[0] = '{';
    big[sizeof big - 2] = '}';
    big[sizeof big - 1] = '\0';
    enrol_bad(big, NULL);
}

static void test_enrol_response_round_trips_and_the_results_key_signature_verifies(void **state)
{
    (void)state;
    struct key sk;
    memset(&sk, 0, sizeof sk);
    sk.kind = KEY_SIGNING;
    unsigned char seed[32];
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(sk.public_key, sk.sign_secret, seed);
    struct enrol_response r, back;
    memset(&r, 0, sizeof r);
    strcpy(r.client_id, "5b9b3c1a-1c1e-4d0e-9d3b-5a4e0f7c2d11");
    oauth2_random_token(r.client_secret);
    strcpy(r.org_id, "ORG-1");
    strcpy(r.device_id, DEV);
    memcpy(r.signing_public_key, sk.public_key, KEY_PUBLIC_BYTES);
    key_id_of_public(sk.public_key, r.signing_key_id);
    key_fingerprint(&sk, r.signing_key_fingerprint);
    randombytes_buf(r.results_public_key, KEY_PUBLIC_BYTES);
    key_id_of_public(r.results_public_key, r.results_key_id);
    struct op_err e = {0};
    assert_int_equal(enrol_results_key_sign(&sk, r.results_key_id, r.results_public_key,
                                            r.results_key_signature, &e),
                     0);
    char *s = enrol_response_json(&r);
    assert_int_equal(enrol_response_parse(s, strlen(s), &back, &e), 0);
    assert_memory_equal(&r, &back, sizeof r);
    assert_int_equal(enrol_results_key_verify(back.signing_public_key, back.results_key_id,
                                              back.results_public_key, back.results_key_signature,
                                              &e),
                     0);
    /* another results key under the same signature: refused */
    back.results_public_key[0] ^= 1;
    assert_int_equal(enrol_results_key_verify(back.signing_public_key, back.results_key_id,
                                              back.results_public_key, back.results_key_signature,
                                              &e),
                     OP_ECRYPTO);
    /* a fingerprint that is not the key's: refused by the parser */
    char *p = strstr(s, r.signing_key_fingerprint);
    p[0] = p[0] == 'a' ? 'b' : 'a';
    assert_int_equal(enrol_response_parse(s, strlen(s), &back, &e), OP_EINPUT);
    assert_string_equal(e.field, "signing_key_fingerprint_sha256");
    free(s);
    sodium_memzero(&sk, sizeof sk);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_credentials_are_parsed_and_scope_defaults_to_sync),
        cmocka_unit_test(test_basic_credentials_are_form_decoded),
        cmocka_unit_test(test_invalid_request_cases),
        cmocka_unit_test(test_unsupported_grant_type_and_invalid_scope),
        cmocka_unit_test(test_invalid_client_cases),
        cmocka_unit_test(test_error_codes_and_statuses),
        cmocka_unit_test(test_answers_are_the_rfc_json),
        cmocka_unit_test(test_bearer_header),
        cmocka_unit_test(test_www_authenticate),
        cmocka_unit_test(test_tokens_and_hashes),
        cmocka_unit_test(test_enrol_request_round_trips),
        cmocka_unit_test(test_enrol_request_refuses_bad_bodies),
        cmocka_unit_test(test_enrol_response_round_trips_and_the_results_key_signature_verifies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
