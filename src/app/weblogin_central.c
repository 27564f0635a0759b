/* weblogin_central.c - the backoffice login on central (weblogin.h, app_weblogin_central). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/backoffice.h"
#include "app/throttle.h"
#include "app/weblogin.h"
#include "auth/password.h"
#include "store/users.h"

#define THROTTLE_KIND "weblogin" /* the device's kind: one rule for both */
#define BAD_LOGIN     "wrong login or password"

/* A record no password matches, verified for an unknown login so that the answer takes as
 * long as for a known one (the cost of setup's default). */
#define DUMMY_RECORD                                                                               \
    "$op-argon2id$v=1$m=19456,t=2$AAAAAAAAAAAAAAAAAAAAAA$"                                         \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static int reset_body(struct db *db, void *ctx, struct op_err *e)
{
    return app_throttle_reset_in(db, THROTTLE_KIND, ctx, e);
}

int app_weblogin_central(struct instance *central, const struct weblogin_request *req,
                         struct weblogin_result *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (central->role != ROLE_CENTRAL)
        return err_set(e, OP_EFORBIDDEN, "the backoffice login is central's; this is a device");
    if (!req->login || !req->login[0] || strlen(req->login) > WEBLOGIN_LOGIN_MAX ||
        !req->password || req->password_len == 0 || req->password_len > WEBLOGIN_PASSWORD_MAX)
        return err_set_field(e, OP_EINPUT, "login", "login: a login and a password are needed");
    int rc = app_throttle_check(central, THROTTLE_KIND, req->login, req->remote, "login", e);
    if (rc != 0)
        return rc;

    struct user u;
    struct op_err ge = {0};
    rc = users_get_by_login(central->db, req->login, &u, &ge);
    if (rc != 0 && rc != OP_ENOTFOUND)
        return err_set(e, rc, "%s", ge.msg);
    struct op_err ve = {0};
    int good = rc == 0 && u.password_hash && u.password_hash[0] &&
               password_verify(u.password_hash, req->password, req->password_len, NULL, &ve) == 0;
    if (rc != 0) /* unknown login: the same Argon2id work, the same answer */
        (void)password_verify(DUMMY_RECORD, req->password, req->password_len, NULL, &ve);
    if (!good) {
        if (rc == 0)
            user_clear(&u);
        app_throttle_fail(central, THROTTLE_KIND, req->login, req->remote);
        return err_set(e, OP_EUNAUTH, BAD_LOGIN);
    }
    char *login = (char *)req->login;
    rc = db_write(central->db, reset_body, login, e);
    if (rc == 0 && !app_bo_role_allowed(u.role))
        rc = err_set_field(e, OP_EFORBIDDEN, BO_FIELD_ROLE,
                           "the backoffice is for the super-user and test-center administrators; "
                           "a %s has no pages on central (use the device of your test center)",
                           u.role);
    if (rc == 0) {
        snprintf(out->user_id, sizeof out->user_id, "%s", u.id);
        snprintf(out->login, sizeof out->login, "%s", u.login);
        snprintf(out->label, sizeof out->label, "%s", u.label && u.label[0] ? u.label : u.login);
        snprintf(out->role, sizeof out->role, "%s", u.role);
    }
    user_clear(&u);
    return rc;
}
