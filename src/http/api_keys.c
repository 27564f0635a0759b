/*
 * api_keys.c - GET /api/v1/keys (bearer): central's current results key, signed by its
 * signing key (app_enrol_central_keys), how a rotated results key reaches devices; a device
 * verifies the signature with its PINNED signing key before use (docs/protocol.md, "Keys").
 */
#include <sodium.h>

#include "app/enrol.h"
#include "http/api.h"

int api_keys_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct oauth_principal p;
    int rc = api_authenticate(req, res, &p, e);
    if (rc != 0)
        return rc;
    struct enrol_response k;
    if ((rc = app_enrol_central_keys(req->inst, &k, e)) != 0)
        return rc;
    char pk[KEY_PUBLIC_BYTES * 2 + 1], sig[SIGN_BYTES * 2 + 1];
    sodium_bin2hex(pk, sizeof pk, k.results_public_key, KEY_PUBLIC_BYTES);
    sodium_bin2hex(sig, sizeof sig, k.results_key_signature, SIGN_BYTES);
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:s}", "signing_key_id", k.signing_key_id, "results_public_key",
                  pk, "results_key_id", k.results_key_id, "results_key_signature", sig);
    return http_response_json(res, 200, doc);
}
