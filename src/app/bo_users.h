/*
 * bo_users.h - the users of central's backoffice (docs/api.md, "Backoffice: users"): the list
 * with search, role filter and keyset paging, one user, create, edit, password reset, delete,
 * each with the access rules of app/backoffice.h, over app/users.h (whose rules they do not
 * repeat), and the request bodies of those endpoints, parsed here (fuzzed by
 * tests/fuzz/fuzz_bo_users.c).
 *
 * Who may do what:
 *   - the super-user: everything, on every user (the super-user's own record is never
 *     deleted and its role never changes: app/users.h);
 *   - a test-center administrator: list and read the users within their reach (staff of the
 *     centers of their scope, test takers of those centers' eligibilities); edit and reset the
 *     password of the test takers and proctors among them; no one else (OP_EFORBIDDEN), and
 *     a user out of reach is OP_ENOTFOUND, as one that does not exist. Creating, deleting and
 *     importing users is the super-user's (OP_EFORBIDDEN): a new user belongs to no center,
 *     so would be out of the creator's reach at once.
 */
#ifndef OUTPOST_APP_BO_USERS_H
#define OUTPOST_APP_BO_USERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app/backoffice.h"
#include "app/users.h"
#include "base/err.h"
#include "instance/instance.h"

#define BO_USERS_PAGE_DEFAULT 50
#define BO_USERS_PAGE_MAX     200
#define BO_PASSWORD_MAX       1024

/* The list's query (GET /api/v1/admin/users?q=&role=&after=&limit=). */
struct app_bo_users_query {
    const char *q;     /* search text, NULL or "" for none */
    const char *role;  /* a store role, NULL for every one */
    const char *after; /* the `next` of the previous page, NULL for the first */
    int limit;         /* 1 to BO_USERS_PAGE_MAX; 0: BO_USERS_PAGE_DEFAULT */
};

/* A page of users within the caller's reach, ordered by login: *out = {"users": [<user>],
 * "next": the login to ask after for the following page, or null}, <user> as app_user_json.
 * OP_EINPUT for an unknown role, a limit out of range, a search text too long. */
int app_bo_users_list(struct instance *inst, const struct bo_caller *who,
                      const struct app_bo_users_query *q, json_t **out, struct op_err *e);

/* The user `id` (*out as app_user_json), if within reach. */
int app_bo_users_get(struct instance *inst, const struct bo_caller *who, const char *id,
                     json_t **out, struct op_err *e);

/* ---- bodies ---- */

/* POST /api/v1/admin/users: {"login", "role", "password", "org_id", "label", "first_name",
 * "last_name", "mail", "lang"}: strings (or null for the optional ones); login, role and
 * password required. The strings are borrowed from `body`, the password too (the caller
 * wipes the body). */
struct app_bo_user_create {
    struct app_user_new user;
    const char *password;
    size_t password_len;
};
int app_bo_user_create_parse(json_t *body, struct app_bo_user_create *out, struct op_err *e);

/* PATCH /api/v1/admin/users/{id}: {"version" (required: the one read), "label",
 * "first_name", "last_name", "mail", "lang"}; a member present is set (null clears it, but
 * the label, which then becomes the login), one absent is kept. `lang` sets both the
 * interface and the default language. */
struct app_bo_user_edit {
    int64_t version;
    struct user_changes ch;
};
int app_bo_user_edit_parse(json_t *body, struct app_bo_user_edit *out, struct op_err *e);

/* POST /api/v1/admin/users/{id}/password: {"password" (required), "version" (optional: the one
 * read, 409 if it changed), "new_keys" (optional bool)}. */
struct app_bo_user_password {
    const char *password;
    size_t password_len;
    int64_t version; /* 0: not given */
    int new_keys;
};
int app_bo_user_password_parse(json_t *body, struct app_bo_user_password *out, struct op_err *e);

/* ---- changes ---- */

/* Creates a user (super-user only); *out the stored user as app_user_json. */
int app_bo_users_create(struct instance *inst, const struct bo_caller *who,
                        const struct app_bo_user_create *in, json_t **out, struct op_err *e);

/* Edits user `id` (see above for who); *out the user as stored after. */
int app_bo_users_edit(struct instance *inst, const struct bo_caller *who, const char *id,
                      const struct app_bo_user_edit *in, json_t **out, struct op_err *e);

/* Resets the password of user `id` (app_users_passwd: the vault key recovered from escrow
 * and wrapped under the new password unless new_keys). */
int app_bo_users_password(struct instance *inst, const struct bo_caller *who, const char *id,
                          const struct app_bo_user_password *in, struct op_err *e);

/* Deletes user `id` (super-user only; never the super-user). */
int app_bo_users_delete(struct instance *inst, const struct bo_caller *who, const char *id,
                        struct op_err *e);

#endif
