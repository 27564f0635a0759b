/*
 * fuzz_oauth_token_request.c - the token endpoint's parsers (auth/oauth2.h) must refuse or
 * accept any bytes without crashing, reading out of bounds or leaking. The input's first line
 * is the Authorization header ("-" for none), the rest the form body; the whole input is also
 * read as a bearer header, and its text goes into the error body and WWW-Authenticate value.
 * An accepted request must hold a client id and secret and the one scope.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/oauth2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * OAUTH2_BODY_MAX)
        return 0;
    char *all = malloc(size + 1);
    if (!all)
        return 0;
    memcpy(all, data, size);
    all[size] = '\0';

    const char *nl = memchr(data, '\n', size);
    size_t hlen = nl ? (size_t)(nl - (const char *)data) : 0;
    char *header = malloc(hlen + 1);
    if (!header) {
        free(all);
        return 0;
    }
    memcpy(header, data, hlen);
    header[hlen] = '\0';
    const char *body = nl ? nl + 1 : (const char *)data;
    size_t blen = nl ? size - hlen - 1 : size;

    struct oauth_token_request r;
    enum oauth2_error err;
    struct op_err e = {0};
    /* the body alone, unterminated copy: the parser must not read past len */
    char *b = malloc(blen ? blen : 1);
    if (b) {
        memcpy(b, body, blen);
        int rc = oauth2_parse_token_request(
            b, blen, (nl && strcmp(header, "-") != 0) ? header : NULL, &r, &err, &e);
        if (rc == 0 &&
            (!r.client_id[0] || !r.client_secret[0] || strcmp(r.scope, OAUTH2_SCOPE_SYNC) != 0))
            abort();
        if (rc != 0 && (err == OAUTH2_OK || r.client_secret[0]))
            abort();
        oauth2_token_request_wipe(&r);
        free(b);
    }

    char token[OAUTH2_TOKEN_MAX + 1];
    if (oauth2_parse_bearer(all, token) == OAUTH2_BEARER_OK && strlen(token) > OAUTH2_TOKEN_MAX)
        abort();
    (void)oauth2_token_shape_ok(token);
    char www[512];
    oauth2_www_authenticate(www, sizeof www, header, "invalid_token", all);
    if (strchr(www + 24, '\\'))
        abort();
    char *j = oauth2_error_json(OAUTH2_INVALID_REQUEST, all);
    free(j);
    (void)oauth2_is_form_content_type(all);
    free(header);
    free(all);
    return 0;
}
