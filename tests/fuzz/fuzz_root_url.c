/* fuzz_root_url.c - central's root URL (http/url.h) and a signing key pin (app/central.h), as
 * an operator types them: any bytes are refused or normalised without crashing, and a
 * normalised URL or pin normalises to itself (one central, one stored form). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/central.h"
#include "http/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct op_err e = {0};
    char a[HTTP_URL_MAX], b[HTTP_URL_MAX];
    if (http_root_url_normalise(s, a, &e) == 0) {
        if (http_root_url_normalise(a, b, &e) != 0 || strcmp(a, b) != 0)
            abort();
        char host[256];
        http_root_url_host(a, host, sizeof host);
        if (a[strlen(a) - 1] == '/')
            abort();
    }
    char p[SHA256_HEX_LEN], q[SHA256_HEX_LEN];
    if (app_central_normalise_pin(s, p, &e) == 0) {
        if (app_central_normalise_pin(p, q, &e) != 0 || strcmp(p, q) != 0 ||
            !sha256_hex_is_valid(p))
            abort();
    }
    free(s);
    return 0;
}
