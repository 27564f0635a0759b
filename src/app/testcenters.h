/*
 * app/testcenters.h - the test centers of a central server as the command line and the web
 * server both see them: add, list, update, staff, delete, and the public JSON shape of a
 * center. Devices receive test centers by sync, so every operation runs on central only.
 *
 * Every operation takes the instance first, validates its input, owns its transaction and
 * never prints. The store keeps the rules of what a center may hold (store/testcenters.h:
 * labels, organisation ids, no parent cycles, versions and the change feed); an update
 * states the version it read, so two administrators editing at once never silently
 * overwrite each other. A center named by the user (an id or a label) is found with
 * app_testcenters_find, whose message the caller may prefix with its own name for the
 * input ("--parent: ...").
 */
#ifndef OUTPOST_APP_TESTCENTERS_H
#define OUTPOST_APP_TESTCENTERS_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "instance/instance.h"
#include "store/idlist.h"
#include "store/testcenters.h"

/* A center with what is shown of it: its parent's label and its staff. */
struct app_center {
    struct test_center center;
    char *parent_label;     /* NULL for a top-level center (or an unreadable parent) */
    struct idlist admins;   /* logins, ordered */
    struct idlist proctors; /* logins, ordered */
};

/* Frees what an app_center owns and zeroes it. */
void app_center_clear(struct app_center *c);

/* The public JSON shape of a center (testcenters list --json, update --json): id, label,
 * org_id, parent_id (null for a top-level center), admins and proctors (arrays of logins)
 * and version. The caller owns the object. */
json_t *app_center_json(const struct app_center *c);

/* Finds a center by id or label (testcenters_find); the caller owns *out. */
int app_testcenters_find(struct instance *inst, const char *id_or_label, struct test_center *out,
                         struct op_err *e);

/* Reads center `id` with its parent's label and staff; the caller clears *out. */
int app_testcenters_get(struct instance *inst, const char *id, struct app_center *out,
                        struct op_err *e);

/* Calls fn for each center ordered by label then id, with its staff: three queries for the
 * whole list (the centers, then each duty's staff), joined in memory. The struct is only
 * valid during the call; a non-zero return from fn stops and is returned. */
typedef int (*app_center_fn)(const struct app_center *c, void *ctx);
int app_testcenters_list(struct instance *inst, app_center_fn fn, void *ctx, struct op_err *e);

/* A new center. The strings are borrowed. */
struct app_center_new {
    const char *label;
    const char *org_id;
    const char *parent_id; /* NULL or "": a top-level center */
};

/* Adds a center; *out (may be NULL) receives it as stored (test_center_clear) and
 * *same_label (may be NULL) how many centers now carry its label (more than one: commands
 * need the id to tell them apart). */
int app_testcenters_add(struct instance *inst, const struct app_center_new *in,
                        struct test_center *out, int *same_label, struct op_err *e);

/* What app_testcenters_update did; app_center_update_clear frees it. */
struct app_center_update {
    struct app_center before, after;
    int changed;
    int same_label; /* centers carrying the new label, when the change gives one; else 0 */
};
void app_center_update_clear(struct app_center_update *u);

/* Applies `ch` (NULL fields unchanged; parent_id an id, "" for none) to center `id`, read by
 * the caller at `version`: OP_ECONFLICT if it changed since. */
int app_testcenters_update(struct instance *inst, const char *id, int64_t version,
                           const struct test_center_changes *ch, struct app_center_update *out,
                           struct op_err *e);

/* Makes the user `login` staff of `duty` (CENTER_DUTY_*) at center `id`, or removes them.
 * Assigning someone already assigned changes nothing (*changed = 0, may be NULL); removing
 * someone who was not assigned is OP_ENOTFOUND. */
int app_testcenters_assign(struct instance *inst, const char *id, const char *login,
                           const char *duty, int *changed, struct op_err *e);
int app_testcenters_unassign(struct instance *inst, const char *id, const char *login,
                             const char *duty, struct op_err *e);

/* Deletes center `id` with its eligibilities and staff assignments; refused while it has
 * sub-centers. */
int app_testcenters_delete(struct instance *inst, const char *id, struct op_err *e);

#endif
