/*
 * app/bo_admin.h - the backoffice's test centers, eligibilities and deliveries (issue 13,
 * docs/api.md "Backoffice: test centers, eligibilities, deliveries"): what the super-user and
 * a test-center administrator may see and change of them, and the request bodies of their
 * endpoints. The operations themselves are app/testcenters.h's, app/eligibilities.h's and
 * app/deliveries.h's; this file adds who may call them (app/backoffice.h) and nothing else.
 *
 * Who may do what:
 *
 *   action                                       super-user   test-center administrator
 *   list, read centers                           all          their scope (their centers
 *                                                             and every sub-center)
 *   create a center                              any parent   a sub-center of one in scope
 *   change a center (label, organisation,        any          in scope; a new parent in
 *   parent), delete it, assign or unassign                    scope (a center never leaves
 *   administrators and proctors                               the scope by their change)
 *   list, set, delete eligibilities              all          of centers in scope
 *   list deliveries, read one with its versions  all          all (to choose for eligibilities)
 *   upload a package, publish, withdraw          yes          no (403)
 *
 * A center or an eligibility outside the caller's scope is answered as one that does not
 * exist (OP_ENOTFOUND), as app_bo_access_center does. Every function returns 0 or an OP_E*
 * code with *e filled; JSON out-parameters are new references the caller releases.
 */
#ifndef OUTPOST_APP_BO_ADMIN_H
#define OUTPOST_APP_BO_ADMIN_H

#include <jansson.h>
#include <stdint.h>

#include "app/backoffice.h"
#include "base/err.h"
#include "instance/instance.h"

#define BO_TEST_TAKERS_MAX 10000 /* test takers one eligibility body may list */
#define BO_TEXT_MAX        1000  /* bytes of a label, an organisation id, a login */

/* ---- request bodies (members already restricted by api_bo_body) ---- */

/* POST /centers (create) and PUT /centers/{id} (update). Strings point into the body. */
struct bo_center_body {
    const char *label;     /* NULL: not given (update) */
    const char *org_id;    /* NULL: not given (update) */
    const char *parent_id; /* the parent's id; "" for none; NULL: not given */
    int64_t version;       /* update: the version read (required); create: 0 */
};
/* create: "label" and "org_id" strings required, "parent_id" a string or null; update:
 * "version" (>= 1) required and at least one of the others. OP_EINPUT naming the member. */
int app_bo_center_body_parse(const json_t *body, int create, struct bo_center_body *out,
                             struct op_err *e);

/* POST /centers/{id}/staff: {"login": "...", "duty": "admin" | "proctor"}. */
struct bo_staff_body {
    const char *login;
    const char *duty; /* CENTER_DUTY_ADMIN or CENTER_DUTY_PROCTOR */
};
int app_bo_staff_body_parse(const json_t *body, struct bo_staff_body *out, struct op_err *e);

/* PUT /eligibilities: {"center": id or label, "delivery": id or label, "test_takers":
 * [logins] (at most BO_TEST_TAKERS_MAX), "proctored": true | false | null (null or absent:
 * a new one takes the delivery's default, an existing one keeps its own)}. The strings point
 * into the body; app_bo_eligibility_body_clear frees the array. */
struct bo_eligibility_body {
    const char *center;
    const char *delivery;
    const char **test_takers;
    int n;
    int proctored; /* 1, 0 or ELIGIBILITY_PROCTORED_KEEP */
};
int app_bo_eligibility_body_parse(const json_t *body, struct bo_eligibility_body *out,
                                  struct op_err *e);
void app_bo_eligibility_body_clear(struct bo_eligibility_body *b);

/* POST /deliveries/{id}/publish and .../withdraw: {"version": n} (n >= 1) or {} (whatever is
 * current: *version 0). */
int app_bo_version_body_parse(const json_t *body, int64_t *version, struct op_err *e);

/* The query of POST /deliveries/upload: filename (the name messages give the package;
 * default "package.zip"), label (optional, not empty), proctored ("yes" or "no", default
 * yes), max_executions (0 to 1000000, default 0). Each may be NULL (absent). */
struct bo_upload_params {
    const char *filename;
    const char *label;
    int proctored_default;
    int64_t max_executions;
};
int app_bo_upload_params_parse(const char *filename, const char *label, const char *proctored,
                               const char *max_executions, struct bo_upload_params *out,
                               struct op_err *e);

/* POST /imports/{id}/retry: {"label": "another label"} or {"new_version": true}, exactly
 * one of them (import_jobs_retry). The label points into the body. */
struct bo_retry_body {
    const char *label;
    int new_version;
};
int app_bo_retry_body_parse(const json_t *body, struct bo_retry_body *out, struct op_err *e);

/* ---- test centers ---- */

/* {"centers": [<center>, ...]} ordered by label: each as app_center_json with
 * "parent_label" (null for none), of the caller's scope. */
int app_bo_centers_list(struct instance *inst, const struct bo_caller *who, json_t **out,
                        struct op_err *e);
/* <center> with "parent_label" and "sub_centers": [{"id", "label"}] (of the scope). */
int app_bo_center_get(struct instance *inst, const struct bo_caller *who, const char *id,
                      json_t **out, struct op_err *e);
/* Creates a center; *out its <center>. */
int app_bo_center_create(struct instance *inst, const struct bo_caller *who,
                         const struct bo_center_body *b, json_t **out, struct op_err *e);
/* Changes a center read at b->version (OP_ECONFLICT if it changed); *out its <center> now
 * with "changed": true or false. */
int app_bo_center_update(struct instance *inst, const struct bo_caller *who, const char *id,
                         const struct bo_center_body *b, json_t **out, struct op_err *e);
int app_bo_center_delete(struct instance *inst, const struct bo_caller *who, const char *id,
                         struct op_err *e);
/* Assigns (assign 1) or unassigns a staff member; *out the center's <center> now. */
int app_bo_center_staff(struct instance *inst, const struct bo_caller *who, const char *id,
                        const char *login, const char *duty, int assign, json_t **out,
                        struct op_err *e);

/* ---- eligibilities ---- */

/* {"eligibilities": [app_eligibility_json, ...]} of the caller's centers, optionally only of
 * center `center_id` and/or delivery `delivery_id` (ids; NULL: any). */
int app_bo_eligibilities_list(struct instance *inst, const struct bo_caller *who,
                              const char *center_id, const char *delivery_id, json_t **out,
                              struct op_err *e);
/* Creates or replaces the eligibility of b's center and delivery; *created 1 when new. *out
 * the eligibility (app_eligibility_json) with "outcome": "created", "updated" or
 * "unchanged". */
int app_bo_eligibility_set(struct instance *inst, const struct bo_caller *who,
                           const struct bo_eligibility_body *b, json_t **out, int *created,
                           struct op_err *e);
/* Deletes eligibility `id` (of a center in scope). */
int app_bo_eligibility_delete(struct instance *inst, const struct bo_caller *who, const char *id,
                              struct op_err *e);

/* ---- deliveries ---- */

/* {"deliveries": [app_delivery_json + "eligibilities": how many, ...]} ordered by label. */
int app_bo_deliveries_list(struct instance *inst, const struct bo_caller *who, json_t **out,
                           struct op_err *e);
/* {"delivery", "versions"} (app_deliveries_versions) of delivery `id`. */
int app_bo_delivery_get(struct instance *inst, const struct bo_caller *who, const char *id,
                        json_t **out, struct op_err *e);
/* Publishes or withdraws delivery `id` read at `version` (0: current); super-user only. *out
 * {"delivery", "changed"}. */
int app_bo_delivery_set_status(struct instance *inst, const struct bo_caller *who, const char *id,
                               int64_t version, const char *status, json_t **out, struct op_err *e);
/* 0 when the caller may upload a package (the super-user), else OP_EFORBIDDEN. */
int app_bo_delivery_may_upload(const struct bo_caller *who, struct op_err *e);

#endif
