/*
 * backoffice.h - who may use central's backoffice (the web pages under /admin/ and the API
 * under /api/v1/admin, docs/api.md "Backoffice"), and what each may reach. Every rule of
 * access is here, once; the handlers (http/api_bo_*.c) and any other door call these.
 *
 *   - Only the super-user and test-center administrators use the backoffice. Test takers,
 *     proctors and sync managers are refused (OP_EFORBIDDEN, e->field "role"; the server
 *     answers 403 with code "not_backoffice"), even with the right password.
 *   - The super-user may do everything.
 *   - A test-center administrator reaches the centers they administer and every sub-center of
 *     those, at any depth (their "scope"), and what belongs to them: their eligibilities,
 *     their staff and test takers, the results taken there. A record outside the scope is
 *     answered as if it did not exist (OP_ENOTFOUND), so that an administrator cannot learn
 *     which ids exist elsewhere; an action reserved to the super-user is OP_EFORBIDDEN.
 *   - The caller is read from the store at every request (app_bo_caller_load), never kept in
 *     the session: a role taken away or a center reassigned counts at the next request.
 *
 * A backoffice handler starts with one line (http/api_bo.c):
 *
 *     struct bo_caller who;
 *     int rc = api_bo_caller(req, res, &who, e);   // 401, 403, 403 csrf, 404 on a device
 *     if (rc != 0)
 *         return rc;
 *     rc = app_bo_access_center(&who, center_id, e);   // 404 outside the caller's scope
 *     ...
 *     app_bo_caller_clear(&who);
 */
#ifndef OUTPOST_APP_BACKOFFICE_H
#define OUTPOST_APP_BACKOFFICE_H

#include "base/err.h"
#include "base/ids.h"
#include "instance/instance.h"
#include "store/idlist.h"

/* The field of the OP_EFORBIDDEN given to a user whose role may not use the backoffice. */
#define BO_FIELD_ROLE "role"

/* Who calls the backoffice. */
struct bo_caller {
    char user_id[UUID_STR_LEN];
    char login[256];
    char label[256];
    char role[32];         /* ROLE_SUPER_USER or ROLE_TEST_CENTER_ADMIN */
    int super;             /* 1 for the super-user: everything is in reach */
    struct idlist centers; /* a test-center administrator's scope: the ids of the centers they
                              administer and of all their sub-centers; empty for the super-user */
    int by_token;          /* authenticated by an API token, not a web session */
};

/* Frees what a caller holds and zeroes it (safe on a zeroed one, and twice). */
void app_bo_caller_clear(struct bo_caller *c);

/* 1 when a user of store role `role` may use the backoffice. */
int app_bo_role_allowed(const char *role);

/* Reads user `user_id` as a backoffice caller: 0 and *out (clear it), OP_EUNAUTH when the
 * user no longer exists, OP_EFORBIDDEN (field BO_FIELD_ROLE) for a role that may not use the
 * backoffice, OP_ENOTFOUND on a device (there is no backoffice there). */
int app_bo_caller_load(struct instance *inst, const char *user_id, struct bo_caller *out,
                       struct op_err *e);

/* 0 for the super-user; OP_EFORBIDDEN ("only the super-user may WHAT") for anyone else. */
int app_bo_require_super(const struct bo_caller *who, const char *what, struct op_err *e);

/* 1 when center `center_id` is in the caller's reach (always for the super-user). */
int app_bo_center_in_scope(const struct bo_caller *who, const char *center_id);

/* 0 when the caller reaches center `center_id`; OP_ENOTFOUND "no test center ID" otherwise
 * (the same answer as for an id that does not exist). Does not check that it exists. */
int app_bo_access_center(const struct bo_caller *who, const char *center_id, struct op_err *e);

/* 0 when the caller reaches user `user_id`: the super-user every user; a test-center
 * administrator the staff of their centers and the test takers of their centers'
 * eligibilities (app/backoffice.c). OP_ENOTFOUND "no user ID" otherwise. */
int app_bo_access_user(struct instance *inst, const struct bo_caller *who, const char *user_id,
                       struct op_err *e);

#endif
