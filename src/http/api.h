/*
 * api.h - the handlers of the JSON API under /api/v1, one line each, listed in routes.c.
 * A handler lives in api_<topic>.c and is a thin door into one operation of src/app
 * (server.h says what a handler may count on and must do).
 */
#ifndef OUTPOST_HTTP_API_H
#define OUTPOST_HTTP_API_H

#include <stdint.h>

#include "app/oauth.h"
#include "http/server.h"

/* GET /api/v1/health: {"status", "role", "version", "schema", "time"}; no authentication. */
int api_health_get(const struct http_request *req, struct http_response *res, struct op_err *e);

/* ---- what the handlers share ---- */

/* Bearer authentication of a protected endpoint (api_auth.c): the Authorization header checked
 * by app_oauth_authenticate, *p the principal read from the token's client row. On failure
 * answers 401 in `res` with WWW-Authenticate (RFC 6750 §3) and returns OP_EUNAUTH (or the
 * database's error): `return rc;` it. */
int api_authenticate(const struct http_request *req, struct http_response *res,
                     struct oauth_principal *p, struct op_err *e);

/* The query parameter `name` as a whole number in [min, max] (*out = def when absent);
 * OP_EINPUT naming the parameter otherwise (api_params.c). */
int api_query_int64(const struct http_request *req, const char *name, int64_t min, int64_t max,
                    int64_t def, int64_t *out, struct op_err *e);

/* ---- the sync endpoints (docs/protocol.md) ---- */

/* POST /api/v1/enrol: enrol request JSON in (auth/enrol.h), 201 and the enrol response out
 * (app_enrol); no token. */
int api_enrol_post(const struct http_request *req, struct http_response *res, struct op_err *e);

/* POST /api/v1/oauth/token: the client-credentials grant (RFC 6749 §4.4), app_oauth_token;
 * errors as RFC 6749 §5.2 bodies. */
int api_oauth_token_post(const struct http_request *req, struct http_response *res,
                         struct op_err *e);

/* GET /api/v1/changes?since=SEQ&limit=N (bearer): the signed page of sync_changes_page for
 * the credential's organisation. */
int api_changes_get(const struct http_request *req, struct http_response *res, struct op_err *e);

/* GET /api/v1/packages/{enc_sha256} (bearer): the encrypted package, with Range (200, 206,
 * 416); 404 for any hash not of a delivery in the credential's organisation. */
int api_packages_get(const struct http_request *req, struct http_response *res, struct op_err *e);

/* POST /api/v1/results (bearer): a results batch in, signed receipts out
 * (sync_results_push for the credential's device). */
int api_results_post(const struct http_request *req, struct http_response *res, struct op_err *e);

/* POST /api/v1/sync/report (bearer): the device's sync report (app/sync_report.h), recorded
 * for the credential's device; {"run_id", "server_time"} out. */
int api_sync_report_post(const struct http_request *req, struct http_response *res,
                         struct op_err *e);

/* GET /api/v1/keys (bearer): {"signing_key_id", "results_public_key", "results_key_id",
 * "results_key_signature"} (hex). */
int api_keys_get(const struct http_request *req, struct http_response *res, struct op_err *e);

/* ---- the device's web sessions (api_session.c, http/websession.h) ---- */

/* POST /api/v1/session: {"login", "password"} -> 200 {"user", "csrf", "idle_timeout"} and the
 * session cookie (app_weblogin); 401, 429, 503. */
int api_session_post(const struct http_request *req, struct http_response *res, struct op_err *e);
/* GET /api/v1/session: the caller's session, or 401. */
int api_session_get(const struct http_request *req, struct http_response *res, struct op_err *e);
/* DELETE /api/v1/session: logout (CSRF token required), 204. */
int api_session_delete(const struct http_request *req, struct http_response *res, struct op_err *e);

/* ---- the test taker's steps (api_take.c, app/take.h, docs/runner.md) ---- */

/* GET /api/v1/executions/{id} ({"execution", "view"}) and .../assets/<path> (a package file). */
int api_take_get(const struct http_request *req, struct http_response *res, struct op_err *e);
/* POST /api/v1/executions/{id}/responses, .../move ({"execution", "view"}), .../finish,
 * .../begin and .../cancel ({"execution"}). */
int api_take_post(const struct http_request *req, struct http_response *res, struct op_err *e);

/* ---- executions on a device (api_executions.c, app/executions.h) ---- */

/* GET /api/v1/my/deliveries (test taker): {"deliveries": [...]} (app_my_deliveries). */
int api_my_deliveries_get(const struct http_request *req, struct http_response *res,
                          struct op_err *e);
/* POST /api/v1/executions (test taker): {"delivery_id", "center_id"} -> 201 {"execution"}. */
int api_executions_post(const struct http_request *req, struct http_response *res,
                        struct op_err *e);
/* GET /api/v1/proctor/executions (proctor, test-center administrator): {"executions"} of
 * their own centers. */
int api_proctor_executions_get(const struct http_request *req, struct http_response *res,
                               struct op_err *e);
/* POST /api/v1/proctor/executions/{id}/{action} (prefix route): {"version", "seconds",
 * "reason"} -> {"execution"}; 403 another center's, 409 a stale version or state. */
int api_proctor_execution_post(const struct http_request *req, struct http_response *res,
                               struct op_err *e);

/* ---- the sync manager's button on a device (api_sync.c, sync/bg.h; a sync manager's web
 * session, CSRF on the POST; 404 on central) ---- */

/* POST /api/v1/sync: starts a sync in the background: 202 {"sync": <progress>,
 * "already_running": false}, or 200 with "already_running": true and the running sync's
 * progress (this server's, or another process's holding the lock: cron's `outpost sync`). */
int api_sync_post(const struct http_request *req, struct http_response *res, struct op_err *e);
/* GET /api/v1/sync: {"sync": <progress>} (sync_bg_progress_json). */
int api_sync_get(const struct http_request *req, struct http_response *res, struct op_err *e);
/* GET /api/v1/sync/history?limit=N: {"runs": [...]} as `outpost sync-history --json`. */
int api_sync_history_get(const struct http_request *req, struct http_response *res,
                         struct op_err *e);
/* GET /api/v1/readiness: app_readiness_json. */
int api_readiness_get(const struct http_request *req, struct http_response *res, struct op_err *e);

/* ---- central's backoffice (docs/api.md "Backoffice"; app/backoffice.h) ----
 *
 * Every backoffice endpoint lives under /api/v1/admin/, answers on central only (404 on a
 * device), and starts with one line that resolves the caller, by the session cookie (with
 * X-CSRF-Token on every change) or by `Authorization: Bearer <API token>` (no CSRF: a browser
 * never sends one by itself):
 *
 *     struct bo_caller who;
 *     int rc = api_bo_caller(req, res, &who, e);
 *     if (rc != 0)
 *         return rc;
 *     ... app_bo_access_center(&who, id, e), app_bo_require_super(&who, "...", e) ...
 *     app_bo_caller_clear(&who);
 *
 * Handlers of one topic go in api_bo_<topic>.c, their lines in routes.c and below in the
 * topic's block. */

/* The error code of a 403 to a user whose role may not use the backoffice. */
#define BO_CODE_NOT_BACKOFFICE "not_backoffice"

struct bo_caller;
/* Resolves the caller of a backoffice request (api_bo.c) into *who (app_bo_caller_clear it
 * on every path once this returned 0). Answers in `res` and returns the error otherwise:
 * 404 on a device; 401 without a session or token (with WWW-Authenticate for a bad token);
 * 403 "cross_site" or "csrf" for a change by session without its token; 403
 * "not_backoffice" for a test taker, proctor or sync manager. */
int api_bo_caller(const struct http_request *req, struct http_response *res, struct bo_caller *who,
                  struct op_err *e);

/* Reads the body of a backoffice POST/PUT/PATCH as one JSON object (Content-Type
 * application/json, 415 otherwise; 400 when not an object, or with a member not in the
 * NULL-terminated `allowed`, field naming it). *out is a new reference. */
int api_bo_body(const struct http_request *req, struct http_response *res,
                const char *const *allowed, json_t **out, struct op_err *e);

/* GET /api/v1/admin/me: {"user": {"id", "login", "label", "role"}, "centers": [ids]} - who
 * the caller is and their reach (the shell's navigation, scripts checking their token). */
int api_bo_me_get(const struct http_request *req, struct http_response *res, struct op_err *e);

/* -- backoffice: users (api_bo_users.c) -- */

/* GET /api/v1/admin/users?q=&role=&after=&limit=: {"users", "next"} (app_bo_users_list). */
int api_bo_users_get(const struct http_request *req, struct http_response *res, struct op_err *e);
/* POST /api/v1/admin/users: 201 {"user"} (super-user). */
int api_bo_users_post(const struct http_request *req, struct http_response *res, struct op_err *e);
/* GET, PATCH, DELETE /api/v1/admin/users/{id}; POST .../{id}/password (prefix routes). */
int api_bo_user_get(const struct http_request *req, struct http_response *res, struct op_err *e);
int api_bo_user_patch(const struct http_request *req, struct http_response *res, struct op_err *e);
int api_bo_user_post(const struct http_request *req, struct http_response *res, struct op_err *e);
int api_bo_user_delete(const struct http_request *req, struct http_response *res, struct op_err *e);
/* POST /api/v1/admin/users/import?role=R (text/csv): 202 {"job"}; GET .../import/{job}. */
int api_bo_users_import_post(const struct http_request *req, struct http_response *res,
                             struct op_err *e);
int api_bo_users_import_get(const struct http_request *req, struct http_response *res,
                            struct op_err *e);

/* -- backoffice: test centers, eligibilities, deliveries (api_bo_centers.c,
 * api_bo_eligibilities.c, api_bo_deliveries.c; rules in app/bo_admin.h) -- */

/* GET /api/v1/admin/centers: {"centers"} of the caller's scope. */
int api_bo_centers_get(const struct http_request *req, struct http_response *res, struct op_err *e);
/* POST /api/v1/admin/centers: {"label", "org_id", "parent_id"} -> 201 {"center"}. */
int api_bo_centers_post(const struct http_request *req, struct http_response *res,
                        struct op_err *e);
/* GET, PUT {"version", ...}, DELETE /api/v1/admin/centers/{id}; POST .../{id}/staff
 * {"login", "duty"}; DELETE .../{id}/staff/{duty}/{login} (prefix routes, one door). */
int api_bo_center_get(const struct http_request *req, struct http_response *res, struct op_err *e);
int api_bo_center_put(const struct http_request *req, struct http_response *res, struct op_err *e);
int api_bo_center_delete(const struct http_request *req, struct http_response *res,
                         struct op_err *e);
int api_bo_center_post(const struct http_request *req, struct http_response *res, struct op_err *e);
/* GET /api/v1/admin/eligibilities[?center=ID&delivery=ID]: {"eligibilities"}. */
int api_bo_eligibilities_get(const struct http_request *req, struct http_response *res,
                             struct op_err *e);
/* PUT /api/v1/admin/eligibilities: {"center", "delivery", "test_takers", "proctored"} ->
 * 201 or 200 {"eligibility"}. */
int api_bo_eligibilities_put(const struct http_request *req, struct http_response *res,
                             struct op_err *e);
/* DELETE /api/v1/admin/eligibilities/{id}: 204. */
int api_bo_eligibility_delete(const struct http_request *req, struct http_response *res,
                              struct op_err *e);
/* GET /api/v1/admin/deliveries: {"deliveries"}. */
int api_bo_deliveries_get(const struct http_request *req, struct http_response *res,
                          struct op_err *e);
/* GET /api/v1/admin/deliveries/{id}: {"delivery", "versions"}. */
int api_bo_delivery_get(const struct http_request *req, struct http_response *res,
                        struct op_err *e);
/* POST /api/v1/admin/deliveries/{id}/publish, .../withdraw: {"version"} -> {"delivery",
 * "changed"} (super-user). */
int api_bo_delivery_post(const struct http_request *req, struct http_response *res,
                         struct op_err *e);
/* POST /api/v1/admin/deliveries/upload (an upload route, routes.c): the check before the
 * body (super-user, query, media type), then the package on disk -> 202 {"import"}. */
int api_bo_upload_check(const struct http_request *req, struct http_response *res,
                        struct op_err *e);
int api_bo_upload_post(const struct http_request *req, struct http_response *res, struct op_err *e);
/* GET /api/v1/admin/imports/{id}: {"import"} (app/import_jobs.h), the starter's only. */
int api_bo_import_get(const struct http_request *req, struct http_response *res, struct op_err *e);
int api_bo_import_post(const struct http_request *req, struct http_response *res, struct op_err *e);

/* -- backoffice: devices and sync history (api_bo_devices.c; app/bo_devices.h) -- */

/* GET /api/v1/admin/devices?org_id=&after=&limit=: {"devices": [...], "next"}. */
int api_bo_devices_get(const struct http_request *req, struct http_response *res, struct op_err *e);
/* GET /api/v1/admin/devices/{id} (prefix route): {"device", "runs"}. */
int api_bo_device_get(const struct http_request *req, struct http_response *res, struct op_err *e);
/* POST /api/v1/admin/devices/{id}/revoke (prefix route; no body): {"device", "runs"}. */
int api_bo_device_post(const struct http_request *req, struct http_response *res, struct op_err *e);
/* GET /api/v1/admin/sync-runs?device_id=&status=&from=&to=&after=&limit=: {"runs", "next"}. */
int api_bo_sync_runs_get(const struct http_request *req, struct http_response *res,
                         struct op_err *e);
/* GET /api/v1/admin/sync-runs/{id} (prefix route): {"run"}. */
int api_bo_sync_run_get(const struct http_request *req, struct http_response *res,
                        struct op_err *e);

/* -- backoffice: results and exports (api_bo_results.c) -- */

/* GET /api/v1/admin/results?delivery=&center=&status=&state=&from=&to=&search=&after=&limit=:
 * a page of the results tab (app_results_page). */
int api_bo_results_get(const struct http_request *req, struct http_response *res, struct op_err *e);
/* GET /api/v1/admin/results/{id} {"result"}, .../{id}/qti-xml, .../distribution, .../export
 * (prefix route). */
int api_bo_result_get(const struct http_request *req, struct http_response *res, struct op_err *e);
/* POST /api/v1/admin/results/{id}/accept, .../{id}/reject {"reason"?}, .../decrypt
 * {"delivery"?} (prefix route). */
int api_bo_result_post(const struct http_request *req, struct http_response *res, struct op_err *e);

#endif
