/*
 * routes.c - the route table of the JSON API: every endpoint of `outpost serve`, one line
 * each (method, path, prefix, handler). An endpoint is added here and in api.h, with its
 * handler in api_<topic>.c (docs/architecture.md, "The HTTP server").
 */
#include "http/api.h"

const struct http_route http_api_routes[] = {
    {"GET", "/api/v1/health", 0, api_health_get},
    {"POST", "/api/v1/enrol", 0, api_enrol_post},
    {"POST", "/api/v1/oauth/token", 0, api_oauth_token_post},
    {"GET", "/api/v1/changes", 0, api_changes_get},
    {"GET", "/api/v1/packages/", 1, api_packages_get},
    {"POST", "/api/v1/results", 0, api_results_post},
    {"POST", "/api/v1/sync/report", 0, api_sync_report_post},
    {"GET", "/api/v1/keys", 0, api_keys_get},
    {"POST", "/api/v1/session", 0, api_session_post},
    {"GET", "/api/v1/session", 0, api_session_get},
    {"DELETE", "/api/v1/session", 0, api_session_delete},
    {"GET", "/api/v1/executions/", 1, api_take_get},
    {"POST", "/api/v1/executions/", 1, api_take_post},
    {"GET", "/api/v1/my/deliveries", 0, api_my_deliveries_get},
    {"POST", "/api/v1/executions", 0, api_executions_post},
    {"GET", "/api/v1/proctor/executions", 0, api_proctor_executions_get},
    {"POST", "/api/v1/proctor/executions/", 1, api_proctor_execution_post},
    {"POST", "/api/v1/sync", 0, api_sync_post},
    {"GET", "/api/v1/sync", 0, api_sync_get},
    {"GET", "/api/v1/sync/history", 0, api_sync_history_get},
    {"GET", "/api/v1/readiness", 0, api_readiness_get},
    /* central's backoffice (docs/api.md "Backoffice"): every path under /api/v1/admin/,
     * one block per topic, each handler starting with api_bo_caller (api.h) */
    {"GET", "/api/v1/admin/me", 0, api_bo_me_get},
    /* -- users (api_bo_users.c) -- */
    {"GET", "/api/v1/admin/users", 0, api_bo_users_get},
    {"POST", "/api/v1/admin/users", 0, api_bo_users_post},
    {"POST", "/api/v1/admin/users/import", 0, api_bo_users_import_post},
    {"GET", "/api/v1/admin/users/import/", 1, api_bo_users_import_get},
    {"GET", "/api/v1/admin/users/", 1, api_bo_user_get},
    {"PATCH", "/api/v1/admin/users/", 1, api_bo_user_patch},
    {"POST", "/api/v1/admin/users/", 1, api_bo_user_post},
    {"DELETE", "/api/v1/admin/users/", 1, api_bo_user_delete},

    /* -- test centers, eligibilities, deliveries (api_bo_centers.c, api_bo_eligibilities.c,
     * api_bo_deliveries.c) -- */
    {"GET", "/api/v1/admin/centers", 0, api_bo_centers_get},
    {"POST", "/api/v1/admin/centers", 0, api_bo_centers_post},
    {"GET", "/api/v1/admin/centers/", 1, api_bo_center_get},
    {"PUT", "/api/v1/admin/centers/", 1, api_bo_center_put},
    {"DELETE", "/api/v1/admin/centers/", 1, api_bo_center_delete},
    {"POST", "/api/v1/admin/centers/", 1, api_bo_center_post},
    {"GET", "/api/v1/admin/eligibilities", 0, api_bo_eligibilities_get},
    {"PUT", "/api/v1/admin/eligibilities", 0, api_bo_eligibilities_put},
    {"DELETE", "/api/v1/admin/eligibilities/", 1, api_bo_eligibility_delete},
    {"GET", "/api/v1/admin/deliveries", 0, api_bo_deliveries_get},
    {"GET", "/api/v1/admin/deliveries/", 1, api_bo_delivery_get},
    {"POST", "/api/v1/admin/deliveries/", 1, api_bo_delivery_post},
    {"GET", "/api/v1/admin/imports/", 1, api_bo_import_get},
    {"POST", "/api/v1/admin/imports/", 1, api_bo_import_post},

    /* -- devices and sync history (api_bo_devices.c) -- */
    {"GET", "/api/v1/admin/devices", 0, api_bo_devices_get},
    {"GET", "/api/v1/admin/devices/", 1, api_bo_device_get},
    {"POST", "/api/v1/admin/devices/", 1, api_bo_device_post},
    {"GET", "/api/v1/admin/sync-runs", 0, api_bo_sync_runs_get},
    {"GET", "/api/v1/admin/sync-runs/", 1, api_bo_sync_run_get},

    /* -- results and exports (api_bo_results.c) -- */
    {"GET", "/api/v1/admin/results", 0, api_bo_results_get},
    {"GET", "/api/v1/admin/results/", 1, api_bo_result_get},
    {"POST", "/api/v1/admin/results/", 1, api_bo_result_post},

    {NULL, NULL, 0, NULL},
};

/* Routes whose body is a file, streamed to disk as it arrives (server.h). */
const struct http_upload_route http_upload_routes[] = {
    {"/api/v1/admin/deliveries/upload", api_bo_upload_check, api_bo_upload_post},
    {NULL, NULL, NULL},
};
