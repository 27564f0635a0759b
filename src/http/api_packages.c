/*
 * api_packages.c - GET /api/v1/packages/{enc_sha256} (bearer): an encrypted delivery package,
 * resumable with HTTP Range (docs/protocol.md, "Packages"). Only a package of a delivery in
 * the credential's organisation is served; any other hash is answered as an unknown one
 * (app_content_locate_in_org).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "app/content.h"
#include "http/api.h"

int api_packages_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct oauth_principal p;
    int rc = api_authenticate(req, res, &p, e);
    if (rc != 0)
        return rc;
    char *path = NULL;
    uint64_t size = 0;
    rc = app_content_locate_in_org(req->inst, p.org_id, req->path_rest, &path, &size, e);
    if (rc != 0)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return err_set(e, OP_EIO, "the package %s cannot be opened", req->path_rest);
    return http_response_file_range(res, req, fd, size, "application/octet-stream");
}
