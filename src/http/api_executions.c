/*
 * api_executions.c - the execution endpoints of a device that are not the runner's steps
 * (docs/api.md, "Test taker" and "Proctor"), each a door into app/executions.h behind the
 * web session (http/websession.h: cookie, CSRF token on every POST, role):
 *
 *   GET  /api/v1/my/deliveries                 test taker: app_my_deliveries
 *   POST /api/v1/executions                    test taker: {"delivery_id", "center_id"} ->
 *                                              201 {"execution"} (app_execution_start)
 *   GET  /api/v1/proctor/executions            proctor, test-center administrator:
 *                                              {"executions"} of their own centers
 *   POST /api/v1/proctor/executions/{id}/{action}
 *                                              {"version", "seconds", "reason"} ->
 *                                              {"execution"} (app_execution_proctor_act)
 *
 * Who the caller is comes from the session only, never from the body.
 */
#include <string.h>

#include "app/executions.h"
#include "app/take.h"
#include "http/api.h"
#include "http/websession.h"

#define PROCTOR_ROLES (WEB_ROLE_PROCTOR | WEB_ROLE_TEST_CENTER_ADMIN)

static int answer_execution(struct http_response *res, int status, struct app_execution *x,
                            struct op_err *e)
{
    json_t *doc = json_pack("{s:o}", "execution", app_execution_json(x));
    app_execution_clear(x);
    if (!doc)
        return err_set(e, OP_ENOMEM, "out of memory answering an execution");
    return http_response_json(res, status, doc);
}

int api_my_deliveries_get(const struct http_request *req, struct http_response *res,
                          struct op_err *e)
{
    const struct web_user *u;
    int rc = websession_require(req, res, WEB_ROLE_TEST_TAKER, &u, e);
    if (rc != 0)
        return rc;
    json_t *doc;
    if ((rc = app_my_deliveries(req->inst, u->id, &doc, e)) != 0)
        return rc;
    return http_response_json(res, 200, doc);
}

int api_executions_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    const struct web_user *u;
    int rc = websession_require(req, res, WEB_ROLE_TEST_TAKER, &u, e);
    if (rc == 0)
        rc = http_request_check_type(req, res, "application/json", e);
    if (rc != 0)
        return rc;
    json_t *body;
    if ((rc = http_request_json(req, &body, e)) != 0)
        return rc;
    struct app_exec_start_body b;
    rc = app_exec_start_body_parse(body, &b, e);
    json_decref(body);
    struct app_execution x;
    if (rc == 0)
        rc = app_execution_start(req->inst, u->id, b.delivery_id, b.center_id, &x, e);
    return rc != 0 ? rc : answer_execution(res, 201, &x, e);
}

int api_proctor_executions_get(const struct http_request *req, struct http_response *res,
                               struct op_err *e)
{
    const struct web_user *u;
    int rc = websession_require(req, res, PROCTOR_ROLES, &u, e);
    if (rc != 0)
        return rc;
    const struct app_exec_viewer v = {u->id, u->vault_pk, u->vault_sk};
    json_t *doc;
    if ((rc = app_proctor_executions(req->inst, &v, &doc, e)) != 0)
        return rc;
    return http_response_json(res, 200, doc);
}

int api_proctor_execution_post(const struct http_request *req, struct http_response *res,
                               struct op_err *e)
{
    const struct web_user *u;
    int rc = websession_require(req, res, PROCTOR_ROLES, &u, e);
    if (rc != 0)
        return rc;
    /* {id}/{action}: an id of at most EXEC_ID_LEN - 1 bytes and a known action, or 404 */
    const char *rest = req->path_rest, *slash = strchr(rest, '/');
    size_t idlen = slash ? (size_t)(slash - rest) : 0;
    int action = slash ? app_proctor_action_of(slash + 1) : -1;
    if (!slash || idlen == 0 || idlen >= EXEC_ID_LEN || action < 0)
        return err_set(e, OP_ENOTFOUND,
                       "no such endpoint: POST /api/v1/proctor/executions/{id}/{authorize|pause|"
                       "resume|terminate|extra-time|irregularity}");
    char id[EXEC_ID_LEN];
    memcpy(id, rest, idlen);
    id[idlen] = '\0';
    if ((rc = http_request_check_type(req, res, "application/json", e)) != 0)
        return rc;
    json_t *body;
    if ((rc = http_request_json(req, &body, e)) != 0)
        return rc;
    struct app_proctor_request p;
    rc = app_proctor_body_parse(body, (enum app_proctor_action)action, &p, e);
    p.outcome = app_take_outcome; /* a terminated result carries the scores so far */
    const struct app_exec_viewer v = {u->id, u->vault_pk, u->vault_sk};
    struct app_execution x;
    if (rc == 0) /* p.reason points into body: released after the action */
        rc = app_execution_proctor_act(req->inst, &v, id, &p, &x, e);
    json_decref(body);
    return rc != 0 ? rc : answer_execution(res, 200, &x, e);
}
