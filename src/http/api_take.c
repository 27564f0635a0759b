/*
 * api_take.c - the test taker's step endpoints of the runner API (docs/api.md, "Test taker";
 * docs/runner.md), thin doors over app/take.h, for a logged-in test taker (web session cookie,
 * CSRF token on POST):
 *   GET  /api/v1/executions/{id}                 {"execution", "view"}
 *   GET  /api/v1/executions/{id}/assets/<path>   a file of the execution's package
 *   GET  /api/v1/executions/{id}/pci/<entry>     the sandboxed frame of a PCI (app/pci_frame.h)
 *   POST /api/v1/executions/{id}/responses  {"item_key", "responses", "pci_states"} -> as GET
 *   POST /api/v1/executions/{id}/move            {"item_key", "to"} -> as GET
 *   POST /api/v1/executions/{id}/finish          {"item_key"} -> {"execution"}
 *   POST /api/v1/executions/{id}/begin, .../cancel {"version"} -> {"execution"}
 * The key that opens the package is the caller's, from their web session; another test
 * taker's execution is 403 (app_execution_get_for_taker).
 */
#include <stdio.h>
#include <string.h>

#include "app/take.h"
#include "base/clock.h"
#include "app/pci_frame.h"
#include "http/api.h"
#include "http/webpages.h"
#include "http/websession.h"

#define TAKE_ID_MAX 64

/* Splits "ID[/rest]" of the prefix route into the id (checked: letters, digits, '-', at most
 * TAKE_ID_MAX) and what follows the '/' ("" when nothing). */
static int split(const char *path_rest, char id[TAKE_ID_MAX + 1], const char **tail,
                 struct op_err *e)
{
    size_t n = strcspn(path_rest, "/");
    if (n == 0 || n > TAKE_ID_MAX)
        return err_set(e, OP_ENOTFOUND, "no such execution");
    for (size_t i = 0; i < n; i++) {
        char c = path_rest[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return err_set(e, OP_ENOTFOUND, "no such execution");
    }
    memcpy(id, path_rest, n);
    id[n] = '\0';
    *tail = path_rest[n] == '/' ? path_rest + n + 1 : "";
    return 0;
}

static void taker_of(const struct web_user *u, struct app_taker *t)
{
    t->id = u->id;
    t->vault_pk = u->vault_pk;
    t->vault_sk = u->vault_sk;
}

static int asset(const struct http_request *req, struct http_response *res,
                 const struct app_taker *t, const char *id, const char *path, struct op_err *e)
{
    struct runner_package *p = NULL;
    const unsigned char *data;
    size_t len;
    const char *type;
    int rc = app_take_asset(req->inst, req->runner_cache, t, id, path, &p, &data, &len, &type, e);
    if (rc != 0)
        return rc;
    /* a package file is content, never a page of this origin: an SVG's script does not run */
    rc = http_response_header(res, "Content-Security-Policy",
                              "default-src 'none'; img-src 'self' data:; style-src 'self' "
                              "'unsafe-inline'; font-src 'self'; sandbox");
    if (rc == 0)
        rc = http_response_header(res, "X-Content-Type-Options", "nosniff");
    if (rc == 0)
        rc = http_response_header(res, "Cache-Control", "private, max-age=300");
    if (rc == 0)
        rc = http_response_body(res, 200, type, data, len);
    runner_package_release(p);
    return rc;
}

/* The frame document of a PCI: its own CSP (only its scripts, by hash; no network; sandboxed),
 * no permission for camera, microphone and the like, never cached. */
static int pci_frame(const struct http_request *req, struct http_response *res,
                     const struct app_taker *t, const char *id, const char *entry, struct op_err *e)
{
    const struct web_asset *shim = web_asset_find("/pci-frame.js");
    if (!shim)
        return err_set(e, OP_ESTATE, "this build has no web/pci-frame.js");
    struct buf html = BUF_INIT, csp = BUF_INIT;
    int rc = app_take_pci_frame(req->inst, req->runner_cache, t, id, entry,
                                (const char *)shim->data, shim->len, &html, &csp, e);
    if (rc == 0)
        rc = http_response_header(res, "Content-Security-Policy", csp.data);
    if (rc == 0)
        rc = http_response_header(res, "Permissions-Policy", PCI_FRAME_PERMISSIONS);
    if (rc == 0)
        rc = http_response_header(res, "Referrer-Policy", "no-referrer");
    if (rc == 0)
        rc = http_response_header(res, "Cross-Origin-Opener-Policy", "same-origin");
    if (rc == 0)
        rc = http_response_body(res, 200, "text/html; charset=utf-8", html.data, html.len);
    buf_free(&html);
    buf_free(&csp);
    return rc;
}

/* Both handlers' start: the caller's test-taker session (CSRF checked on a POST), the
 * execution id and what follows it in the path, and the taker the app layer acts for. */
static int caller(const struct http_request *req, struct http_response *res,
                  char id[TAKE_ID_MAX + 1], const char **tail, struct app_taker *t,
                  struct op_err *e)
{
    const struct web_user *u;
    int rc = websession_require(req, res, WEB_ROLE_TEST_TAKER, &u, e);
    if (rc != 0)
        return rc;
    if ((rc = split(req->path_rest, id, tail, e)) != 0)
        return rc;
    taker_of(u, t);
    return 0;
}

int api_take_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    char id[TAKE_ID_MAX + 1];
    const char *tail;
    struct app_taker t;
    int rc = caller(req, res, id, &tail, &t, e);
    if (rc != 0)
        return rc;
    if (strncmp(tail, "assets/", 7) == 0)
        return asset(req, res, &t, id, tail + 7, e);
    if (strncmp(tail, "pci/", 4) == 0)
        return pci_frame(req, res, &t, id, tail + 4, e);
    if (tail[0])
        return err_set(e, OP_ENOTFOUND, "no such resource of an execution");
    json_t *out;
    rc = app_take_get(req->inst, req->runner_cache, &t, id, (double)clock_now(), &out, e);
    if (rc != 0)
        return rc;
    return http_response_json(res, 200, out);
}

int api_take_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    char id[TAKE_ID_MAX + 1];
    const char *tail;
    struct app_taker t;
    int rc = caller(req, res, id, &tail, &t, e);
    if (rc != 0)
        return rc;
    json_t *body, *out;
    enum runner_op op;
    if (strcmp(tail, "begin") == 0 || strcmp(tail, "cancel") == 0) {
        rc = http_request_check_type(req, res, "application/json", e);
        if (rc == 0)
            rc = http_request_json(req, &body, e);
        if (rc != 0)
            return rc;
        rc = app_take_transition(req->inst, &t, id,
                                 tail[0] == 'b' ? APP_TAKE_BEGIN : APP_TAKE_CANCEL, body, &out, e);
        json_decref(body);
        return rc != 0 ? rc : http_response_json(res, 200, out);
    }
    if (strcmp(tail, "responses") == 0)
        op = RUNNER_OP_RESPOND;
    else if (strcmp(tail, "move") == 0)
        op = RUNNER_OP_MOVE;
    else if (strcmp(tail, "finish") == 0)
        op = RUNNER_OP_FINISH;
    else
        return err_set(e, OP_ENOTFOUND, "no such step of an execution");
    rc = http_request_check_type(req, res, "application/json", e);
    if (rc != 0)
        return rc;
    rc = http_request_json(req, &body, e);
    if (rc != 0)
        return rc;
    rc =
        app_take_step(req->inst, req->runner_cache, &t, id, op, body, (double)clock_now(), &out, e);
    json_decref(body);
    if (rc != 0)
        return rc;
    return http_response_json(res, 200, out);
}
