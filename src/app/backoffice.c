/* backoffice.c - who may use central's backoffice and what each reaches (backoffice.h). */
#include "app/backoffice.h"

#include <stdio.h>
#include <string.h>

#include "store/testcenters.h"
#include "store/users.h"

void app_bo_caller_clear(struct bo_caller *c)
{
    idlist_free(&c->centers);
    memset(c, 0, sizeof *c);
}

int app_bo_role_allowed(const char *role)
{
    return role &&
           (strcmp(role, ROLE_SUPER_USER) == 0 || strcmp(role, ROLE_TEST_CENTER_ADMIN) == 0);
}

int app_bo_caller_load(struct instance *inst, const char *user_id, struct bo_caller *out,
                       struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (inst->role != ROLE_CENTRAL)
        return err_set(e, OP_ENOTFOUND, "the backoffice is on central; this is a device");
    struct user u;
    struct op_err ge = {0};
    int rc = users_get_by_id(inst->db, user_id, &u, &ge);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_EUNAUTH, "your account no longer exists: log in again");
    if (rc != 0)
        return err_set(e, rc, "%s", ge.msg);
    if (!app_bo_role_allowed(u.role)) {
        rc = err_set_field(e, OP_EFORBIDDEN, BO_FIELD_ROLE,
                           "the backoffice is for the super-user and test-center administrators; "
                           "%s is a %s",
                           u.login, u.role);
        user_clear(&u);
        return rc;
    }
    memcpy(out->user_id, u.id, sizeof out->user_id);
    snprintf(out->login, sizeof out->login, "%s", u.login);
    snprintf(out->label, sizeof out->label, "%s", u.label ? u.label : u.login);
    snprintf(out->role, sizeof out->role, "%s", u.role);
    out->super = strcmp(u.role, ROLE_SUPER_USER) == 0;
    user_clear(&u);
    if (!out->super &&
        (rc = testcenters_admin_scope(inst->db, out->user_id, &out->centers, e)) != 0)
        app_bo_caller_clear(out);
    return rc;
}

int app_bo_require_super(const struct bo_caller *who, const char *what, struct op_err *e)
{
    if (who->super)
        return 0;
    return err_set(e, OP_EFORBIDDEN, "only the super-user may %s", what);
}

int app_bo_center_in_scope(const struct bo_caller *who, const char *center_id)
{
    return who->super || (center_id && idlist_has(&who->centers, center_id));
}

int app_bo_access_center(const struct bo_caller *who, const char *center_id, struct op_err *e)
{
    if (app_bo_center_in_scope(who, center_id))
        return 0;
    return err_set(e, OP_ENOTFOUND, "no test center %.64s", center_id ? center_id : "");
}

int app_bo_access_user(struct instance *inst, const struct bo_caller *who, const char *user_id,
                       struct op_err *e)
{
    if (who->super)
        return 0;
    int yes = 0;
    int rc = testcenters_user_in_admin_scope(inst->db, who->user_id, user_id, &yes, e);
    if (rc != 0)
        return rc;
    return yes ? 0 : err_set(e, OP_ENOTFOUND, "no user %.64s", user_id ? user_id : "");
}
