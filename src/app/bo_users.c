/* bo_users.c - the users of central's backoffice (bo_users.h). */
#include "app/bo_users.h"

#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "store/users.h"

/* ---- reading ---- */

int app_bo_users_list(struct instance *inst, const struct bo_caller *who,
                      const struct app_bo_users_query *q, json_t **out, struct op_err *e)
{
    *out = NULL;
    if (q->role && app_users_check_role(q->role, e) != 0)
        return err_set_field(e, OP_EINPUT, "role", "%s", e->msg);
    int limit = q->limit ? q->limit : BO_USERS_PAGE_DEFAULT;
    if (limit < 1 || limit > BO_USERS_PAGE_MAX)
        return err_set_field(e, OP_EINPUT, "limit", "limit: %d, expected 1 to %d", limit,
                             BO_USERS_PAGE_MAX);
    if (q->q && text_check(q->q, USERS_SEARCH_MAX) != TEXT_OK)
        return err_set_field(e, OP_EINPUT, "q", "search: %s (at most %d bytes)",
                             text_fault_message(text_check(q->q, USERS_SEARCH_MAX)),
                             USERS_SEARCH_MAX);
    const struct users_search s = {q->role, q->q, who->super ? NULL : who->user_id, q->after,
                                   limit};
    struct user *rows;
    int n, more;
    int rc = users_search_page(inst->db, &s, &rows, &n, &more, e);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(arr, app_user_json(&rows[i]));
        if (i < n - 1)
            user_clear(&rows[i]);
    }
    json_t *next = more && n > 0 ? json_string(rows[n - 1].login) : json_null();
    if (n > 0)
        user_clear(&rows[n - 1]);
    free(rows);
    *out = json_pack("{s:o, s:o}", "users", arr, "next", next);
    return *out ? 0 : err_set(e, OP_ENOMEM, "out of memory");
}

/* The user `id` into *u (user_clear it) when within the caller's reach. */
static int reach_user(struct instance *inst, const struct bo_caller *who, const char *id,
                      struct user *u, struct op_err *e)
{
    memset(u, 0, sizeof *u);
    if (!id || !uuid_is_valid(id))
        return err_set(e, OP_ENOTFOUND, "no user %.64s", id ? id : "");
    int rc = app_bo_access_user(inst, who, id, e);
    if (rc != 0)
        return rc;
    struct op_err ge = {0};
    rc = users_get_by_id(inst->db, id, u, &ge);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no user %s", id);
    return rc != 0 ? err_set(e, rc, "%s", ge.msg) : 0;
}

/* A test-center administrator changes the test takers and proctors of their reach only. */
static int may_change(const struct bo_caller *who, const struct user *u, struct op_err *e)
{
    if (who->super)
        return 0;
    if (strcmp(u->role, ROLE_TEST_TAKER) == 0 || strcmp(u->role, ROLE_PROCTOR) == 0)
        return 0;
    return err_set(e, OP_EFORBIDDEN,
                   "a test-center administrator changes test takers and proctors only; %s is a %s",
                   u->login, u->role);
}

int app_bo_users_get(struct instance *inst, const struct bo_caller *who, const char *id,
                     json_t **out, struct op_err *e)
{
    *out = NULL;
    struct user u;
    int rc = reach_user(inst, who, id, &u, e);
    if (rc == 0)
        *out = app_user_json(&u);
    user_clear(&u);
    return rc;
}

/* ---- bodies ---- */

/* Member `name` of `body`: 0 with *out the string (NULL when absent, or null and `nullable`),
 * OP_EINPUT naming it otherwise (not a string, empty when required, too long, control
 * characters). */
static int member_text(json_t *body, const char *name, int required, int nullable, size_t max,
                       const char **out, struct op_err *e)
{
    *out = NULL;
    json_t *v = json_object_get(body, name);
    if (!v || (json_is_null(v) && nullable)) {
        if (required)
            return err_set_field(e, OP_EINPUT, name, "%s: required", name);
        return 0;
    }
    if (!json_is_string(v))
        return err_set_field(e, OP_EINPUT, name, "%s: a string is expected", name);
    const char *s = json_string_value(v);
    if (required && !s[0])
        return err_set_field(e, OP_EINPUT, name, "%s: required", name);
    if (json_string_length(v) > max || strlen(s) != json_string_length(v))
        return err_set_field(e, OP_EINPUT, name, "%s: at most %zu bytes, no NUL", name, max);
    *out = s;
    return 0;
}

static int member_version(json_t *body, int required, int64_t *out, struct op_err *e)
{
    *out = 0;
    json_t *v = json_object_get(body, "version");
    if (!v && !required)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return err_set_field(e, OP_EINPUT, "version",
                             "version: the user's version as read (a whole number) is required");
    *out = json_integer_value(v);
    return 0;
}

int app_bo_user_create_parse(json_t *body, struct app_bo_user_create *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return err_set_field(e, OP_EINPUT, "body", "the body is not a JSON object");
    struct app_user_new *u = &out->user;
    int rc = member_text(body, "login", 1, 0, 255, &u->login, e);
    if (rc == 0)
        rc = member_text(body, "role", 1, 0, 32, &u->role, e);
    if (rc == 0)
        rc = member_text(body, "password", 1, 0, BO_PASSWORD_MAX, &out->password, e);
    if (rc == 0)
        rc = member_text(body, "org_id", 0, 1, 255, &u->org_id, e);
    if (rc == 0)
        rc = member_text(body, "label", 0, 1, 255, &u->label, e);
    if (rc == 0)
        rc = member_text(body, "first_name", 0, 1, 255, &u->first_name, e);
    if (rc == 0)
        rc = member_text(body, "last_name", 0, 1, 255, &u->last_name, e);
    if (rc == 0)
        rc = member_text(body, "mail", 0, 1, 255, &u->mail, e);
    if (rc == 0)
        rc = member_text(body, "lang", 0, 1, 35, &u->lang, e);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    /* "" for an optional field is none */
    const char **opt[] = {&u->org_id, &u->label, &u->first_name, &u->last_name, &u->mail, &u->lang};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        if (*opt[i] && !(*opt[i])[0])
            *opt[i] = NULL;
    out->password_len = strlen(out->password);
    return app_users_check_new(u, e);
}

int app_bo_user_edit_parse(json_t *body, struct app_bo_user_edit *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return err_set_field(e, OP_EINPUT, "body", "the body is not a JSON object");
    int rc = member_version(body, 1, &out->version, e);
    static const struct {
        const char *name;
        unsigned bit;
        size_t max;
    } fields[] = {
        {"label", USER_SET_LABEL, 255},
        {"first_name", USER_SET_FIRST_NAME, 255},
        {"last_name", USER_SET_LAST_NAME, 255},
        {"mail", USER_SET_MAIL, 255},
        {"lang", USER_SET_INTERFACE_LANG | USER_SET_DEFAULT_LANG, 35},
    };
    struct user_changes *ch = &out->ch;
    for (size_t i = 0; rc == 0 && i < sizeof fields / sizeof fields[0]; i++) {
        if (!json_object_get(body, fields[i].name))
            continue;
        const char *v;
        rc = member_text(body, fields[i].name, 0, 1, fields[i].max, &v, e);
        if (rc != 0)
            break;
        if (v && !v[0])
            v = NULL;
        ch->set |= fields[i].bit;
        switch (i) {
        case 0:
            ch->label = v;
            break;
        case 1:
            ch->first_name = v;
            break;
        case 2:
            ch->last_name = v;
            break;
        case 3:
            ch->mail = v;
            break;
        default:
            ch->interface_lang = ch->default_lang = v;
        }
    }
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

int app_bo_user_password_parse(json_t *body, struct app_bo_user_password *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(body))
        return err_set_field(e, OP_EINPUT, "body", "the body is not a JSON object");
    int rc = member_text(body, "password", 1, 0, BO_PASSWORD_MAX, &out->password, e);
    if (rc == 0)
        rc = member_version(body, 0, &out->version, e);
    json_t *nk = json_object_get(body, "new_keys");
    if (rc == 0 && nk && !json_is_boolean(nk))
        rc = err_set_field(e, OP_EINPUT, "new_keys", "new_keys: true or false");
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->password_len = strlen(out->password);
    out->new_keys = json_is_true(nk);
    return 0;
}

/* ---- changes ---- */

int app_bo_users_create(struct instance *inst, const struct bo_caller *who,
                        const struct app_bo_user_create *in, json_t **out, struct op_err *e)
{
    *out = NULL;
    int rc = app_bo_require_super(who, "create users", e);
    if (rc != 0)
        return rc;
    struct user u;
    rc = app_users_add(inst, &in->user, in->password, in->password_len, &u, e);
    if (rc == OP_ECONFLICT)
        rc = err_set_field(e, OP_ECONFLICT, "login", "the login %s is taken", in->user.login);
    if (rc == 0)
        *out = app_user_json(&u);
    user_clear(&u);
    return rc;
}

int app_bo_users_edit(struct instance *inst, const struct bo_caller *who, const char *id,
                      const struct app_bo_user_edit *in, json_t **out, struct op_err *e)
{
    *out = NULL;
    struct user u;
    int rc = reach_user(inst, who, id, &u, e);
    if (rc == 0)
        rc = may_change(who, &u, e);
    /* a label cleared is the login again, as for a new user */
    struct user_changes ch = in->ch;
    if (rc == 0 && (ch.set & USER_SET_LABEL) && !ch.label)
        ch.label = u.login;
    struct user after;
    memset(&after, 0, sizeof after);
    if (rc == 0)
        rc = app_users_update(inst, id, in->version, &ch, &after, e);
    if (rc == 0)
        *out = app_user_json(&after);
    user_clear(&after);
    user_clear(&u);
    return rc;
}

int app_bo_users_password(struct instance *inst, const struct bo_caller *who, const char *id,
                          const struct app_bo_user_password *in, struct op_err *e)
{
    struct user u;
    int rc = reach_user(inst, who, id, &u, e);
    if (rc == 0)
        rc = may_change(who, &u, e);
    if (rc == 0) {
        const struct app_user_passwd p = {u.login, in->new_keys, in->version};
        rc = app_users_passwd(inst, &p, in->password, in->password_len, NULL, e);
    }
    user_clear(&u);
    return rc;
}

int app_bo_users_delete(struct instance *inst, const struct bo_caller *who, const char *id,
                        struct op_err *e)
{
    int rc = app_bo_require_super(who, "delete users", e);
    struct user u;
    memset(&u, 0, sizeof u);
    if (rc == 0)
        rc = reach_user(inst, who, id, &u, e);
    if (rc == 0)
        rc = app_users_delete(inst, u.login, e);
    user_clear(&u);
    return rc;
}
