/*
 * api_changes.c - GET /api/v1/changes?since=SEQ&limit=N (bearer): the signed page of the
 * changes of the credential's organisation after SEQ (sync/page.h; docs/protocol.md,
 * "Changes"). The organisation is the credential's, never the request's.
 */
#include <stdlib.h>

#include "app/changes.h"
#include "app/oauth.h"
#include "http/api.h"
#include "sync/page.h"

int api_changes_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct oauth_principal p;
    int rc = api_authenticate(req, res, &p, e);
    if (rc != 0)
        return rc;
    int64_t since, limit;
    if ((rc = api_query_int64(req, "since", 0, INT64_MAX, 0, &since, e)) != 0 ||
        (rc = api_query_int64(req, "limit", 1, CHANGES_PAGE_MAX, CHANGES_PAGE_MAX, &limit, e)) != 0)
        return rc;
    char *page = NULL;
    size_t len = 0;
    rc = sync_changes_page(req->inst, p.org_id, since, (int)limit, &page, &len, e);
    if (rc != 0)
        return rc;
    rc = http_response_body(res, 200, SYNC_PAGE_MEDIA_TYPE, page, len);
    free(page);
    return rc;
}
