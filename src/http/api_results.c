/*
 * api_results.c - POST /api/v1/results (bearer): a batch of result envelopes in
 * (sync/batch.h), receipts signed by central out (sync/receipts.h), by sync_results_push for
 * the credential's device (docs/protocol.md, "Results").
 */
#include <stdlib.h>

#include "http/api.h"
#include "sync/results_push.h"

int api_results_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct oauth_principal p;
    int rc = api_authenticate(req, res, &p, e);
    if (rc != 0)
        return rc;
    if ((rc = http_request_check_type(req, res, "application/json", e)) != 0)
        return rc;
    char *receipts = NULL;
    size_t len = 0;
    rc = sync_results_push(req->inst, p.device_id, (const unsigned char *)req->body, req->body_len,
                           &receipts, &len, e);
    if (rc != 0)
        return rc;
    rc = http_response_body(res, 200, "application/json", receipts, len);
    free(receipts);
    return rc;
}
