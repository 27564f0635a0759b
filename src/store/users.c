/*
 * users.c - SQL for the users table (see users.h).
 */
#include "store/users.h"

#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "store/feed.h"
#include "store/idlist.h"
#include "store/testcenters.h"

#define USER_COLUMNS                                                                               \
    "id, login, role, label, first_name, last_name, mail, interface_lang, default_lang,"           \
    " org_id, password_hash, version, created_at, updated_at, vault_public_key,"                   \
    " vault_secret_wrapped, vault_secret_escrow"

int user_role_is_valid(const char *role)
{
    return role &&
           (strcmp(role, ROLE_TEST_TAKER) == 0 || strcmp(role, ROLE_PROCTOR) == 0 ||
            strcmp(role, ROLE_TEST_CENTER_ADMIN) == 0 || strcmp(role, ROLE_SYNC_MANAGER) == 0);
}

const char *user_roles_list(void)
{
    return "test-taker, proctor, test-center-admin, sync-manager";
}

void user_clear(struct user *u)
{
    free(u->login);
    free(u->role);
    free(u->label);
    free(u->first_name);
    free(u->last_name);
    free(u->mail);
    free(u->interface_lang);
    free(u->default_lang);
    free(u->org_id);
    free(u->password_hash);
    free(u->vault_public_key);
    free(u->vault_secret_wrapped);
    free(u->vault_secret_escrow);
    memset(u, 0, sizeof *u);
}

static void read_row(struct db_stmt *st, struct user *u)
{
    db_column_copy(st, 0, u->id, sizeof u->id);
    u->login = db_column_strdup(st, 1);
    u->role = db_column_strdup(st, 2);
    u->label = db_column_strdup(st, 3);
    u->first_name = db_column_strdup(st, 4);
    u->last_name = db_column_strdup(st, 5);
    u->mail = db_column_strdup(st, 6);
    u->interface_lang = db_column_strdup(st, 7);
    u->default_lang = db_column_strdup(st, 8);
    u->org_id = db_column_strdup(st, 9);
    u->password_hash = db_column_strdup(st, 10);
    u->version = db_column_int64(st, 11);
    db_column_copy(st, 12, u->created_at, sizeof u->created_at);
    db_column_copy(st, 13, u->updated_at, sizeof u->updated_at);
    u->vault_public_key = db_column_strdup(st, 14);
    u->vault_secret_wrapped = db_column_strdup(st, 15);
    u->vault_secret_escrow = db_column_strdup(st, 16);
}

static void read_user(struct db_stmt *st, void *row)
{
    read_row(st, row);
}

static int get_one(struct db *db, const char *sql, const char *key, const char *what,
                   struct user *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = db_get_row(db, sql, key, read_user, out, "users", e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no user with %s \"%s\"", what, key);
    return rc;
}

int users_get_by_login(struct db *db, const char *login, struct user *out, struct op_err *e)
{
    return get_one(db, "SELECT " USER_COLUMNS " FROM users WHERE login = ?1", login, "login", out,
                   e);
}

int users_get_by_id(struct db *db, const char *id, struct user *out, struct op_err *e)
{
    return get_one(db, "SELECT " USER_COLUMNS " FROM users WHERE id = ?1", id, "id", out, e);
}

#define USER_LOGIN_MAX 255

/* One optional text field: NULL or "" is fine, anything else follows the text rule. */
static int check_field(const struct user *u, const char *what, const char *v, struct op_err *e)
{
    if (!v || !v[0])
        return 0;
    enum text_fault f = text_check(v, 0);
    if (f == TEXT_OK)
        return 0;
    return err_set(e, OP_EINPUT, "user \"%s\": the %s %s", u->login, what, text_fault_message(f));
}

int users_check(const struct user *u, struct op_err *e)
{
    enum text_fault f = text_check(u->login, USER_LOGIN_MAX);
    if (f == TEXT_TOO_LONG)
        return err_set(e, OP_EINPUT, "a login is at most %d bytes", USER_LOGIN_MAX);
    if (f != TEXT_OK)
        return err_set(e, OP_EINPUT, "a user's login %s", text_fault_message(f));
    if (!u->role || (!user_role_is_valid(u->role) && strcmp(u->role, ROLE_SUPER_USER) != 0))
        return err_set(e, OP_EINPUT, "user \"%s\": unknown role (use %s or super-user)", u->login,
                       user_roles_list());
    const struct {
        const char *what, *v;
    } fields[] = {
        {"label", u->label},
        {"first name", u->first_name},
        {"last name", u->last_name},
        {"mail", u->mail},
        {"interface language", u->interface_lang},
        {"default language", u->default_lang},
        {"organisation id", u->org_id},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (check_field(u, fields[i].what, fields[i].v, e) != 0)
            return OP_EINPUT;
    return 0;
}

static void bind_profile(struct db_stmt *st, const struct user *u)
{
    db_bind_text(st, 1, u->id);
    db_bind_text(st, 2, u->login);
    db_bind_text(st, 3, u->role);
    db_bind_text(st, 4, u->label);
    db_bind_text(st, 5, u->first_name);
    db_bind_text(st, 6, u->last_name);
    db_bind_text(st, 7, u->mail);
    db_bind_text(st, 8, u->interface_lang);
    db_bind_text(st, 9, u->default_lang);
    db_bind_text(st, 10, u->org_id);
    db_bind_text(st, 11, u->password_hash);
    db_bind_text(st, 12, u->updated_at);
    db_bind_text(st, 13, u->vault_public_key);
    db_bind_text(st, 14, u->vault_secret_wrapped);
    db_bind_text(st, 15, u->vault_secret_escrow);
}

int users_insert(struct db *db, struct user *u, struct op_err *e)
{
    if (users_check(u, e) != 0)
        return OP_EINPUT;
    if (!u->id[0])
        uuid_generate(u->id);
    timestamp_now(u->created_at);
    memcpy(u->updated_at, u->created_at, sizeof u->updated_at);
    u->version = 1;
    struct db_stmt *st =
        db_stmt(db,
                "INSERT INTO users (id, login, role, label, first_name, last_name, mail,"
                " interface_lang, default_lang, org_id, password_hash, updated_at, created_at,"
                " version, vault_public_key, vault_secret_wrapped, vault_secret_escrow)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, 1, ?13, ?14,"
                " ?15)",
                e);
    if (!st)
        return OP_EDB;
    bind_profile(st, u);
    int step = db_step(st);
    int rc = step == DB_DONE ? 0 : db_fail(db, e, "adding user");
    db_stmt_done(db, st);
    if (rc == OP_ECONFLICT)
        return err_set(e, OP_ECONFLICT, "login \"%s\" already exists", u->login);
    if (rc != 0)
        return rc;
    return feed_touch(db, FEED_USER, u->id, e);
}

void user_apply_changes(struct user *u, const struct user_changes *ch)
{
#define APPLY(bit, member)                                                                         \
    if (ch->set & (bit))                                                                           \
        u->member = (char *)ch->member;
    APPLY(USER_SET_LOGIN, login)
    APPLY(USER_SET_ROLE, role)
    APPLY(USER_SET_LABEL, label)
    APPLY(USER_SET_FIRST_NAME, first_name)
    APPLY(USER_SET_LAST_NAME, last_name)
    APPLY(USER_SET_MAIL, mail)
    APPLY(USER_SET_INTERFACE_LANG, interface_lang)
    APPLY(USER_SET_DEFAULT_LANG, default_lang)
    APPLY(USER_SET_ORG_ID, org_id)
    APPLY(USER_SET_CREDENTIALS, password_hash)
    APPLY(USER_SET_CREDENTIALS, vault_public_key)
    APPLY(USER_SET_CREDENTIALS, vault_secret_wrapped)
    APPLY(USER_SET_CREDENTIALS, vault_secret_escrow)
#undef APPLY
}

/* One "column = CASE WHEN ?flag THEN ?value ELSE column END" per field: a statement prepared
 * once that writes only the columns the change sets (?1 id, ?2 time stamp, then a flag and a
 * value per field; the four credential columns share one flag). */
#define SET_IF(col, flag, val) " " col " = CASE WHEN ?" flag " THEN ?" val " ELSE " col " END,"
#define USER_UPDATE_SQL                                                                            \
    "UPDATE users SET" SET_IF("login", "3", "4") SET_IF("role", "5", "6") SET_IF(                  \
        "label", "7", "8") SET_IF("first_name", "9", "10") SET_IF("last_name", "11",               \
                                                                  "12") SET_IF("mail", "13", "14") \
        SET_IF("interface_lang", "15", "16") SET_IF("default_lang", "17", "18") SET_IF(            \
            "org_id", "19", "20") SET_IF("password_hash", "21", "22") SET_IF("vault_public_key",   \
                                                                             "21", "23")           \
            SET_IF("vault_secret_wrapped", "21", "24") SET_IF(                                     \
                "vault_secret_escrow", "21",                                                       \
                "25") " updated_at = ?2, version = version + 1 WHERE id = ?1 AND version = ?26"    \
                      " RETURNING version"

/* The refusal of an update of `id` at `version` with `ch` that cannot go ahead, read from the
 * stored user: missing (OP_ENOTFOUND), changed since `version` (OP_ECONFLICT), or a change that
 * makes the user invalid (OP_EINPUT); 0 when none of these holds. */
static int update_refusal(struct db *db, const char *id, int64_t version,
                          const struct user_changes *ch, struct op_err *e)
{
    struct user cur;
    int rc = users_get_by_id(db, id, &cur, e);
    if (rc != 0)
        return rc;
    if (cur.version != version) {
        rc = err_set(e, OP_ECONFLICT,
                     "user \"%s\" was changed by someone else since it was read (now version "
                     "%lld, not %lld); read it again and retry",
                     cur.login, (long long)cur.version, (long long)version);
        user_clear(&cur);
        return rc;
    }
    struct user after = cur; /* borrows cur's strings and ch's */
    user_apply_changes(&after, ch);
    rc = users_check(&after, e);
    user_clear(&cur);
    return rc;
}

/* Updates without reading the user first: the changed fields are checked alone (the stored
 * ones were checked when written), and the version check is the UPDATE's own WHERE, so an
 * edit is one statement. Only a refusal reads the stored user, to say why (update_refusal). */
int users_update(struct db *db, const char *id, int64_t version, const struct user_changes *ch,
                 int64_t *new_version, struct op_err *e)
{
    if (new_version)
        *new_version = version;
    /* the changes on a valid stand-in: fails exactly when the changed user would */
    struct user probe;
    memset(&probe, 0, sizeof probe);
    probe.login = (char *)"x";
    probe.role = (char *)ROLE_TEST_TAKER;
    user_apply_changes(&probe, ch);
    struct op_err ignored = {0};
    if (ch->set == 0 || users_check(&probe, &ignored) != 0) {
        int rc = update_refusal(db, id, version, ch, e);
        if (rc != 0 || ch->set == 0)
            return rc;
        return err_set(e, OP_EINPUT, "user: %s", ignored.msg); /* not reached: same check */
    }

    /* a new role for a user assigned as a proctor: the centers they proctor (read before the
     * update, which changes the role; an edit that sets no role reads nothing) */
    struct idlist proctor_moved = IDLIST_INIT;
    if (ch->set & USER_SET_ROLE) {
        struct db_stmt *q =
            db_stmt(db,
                    "SELECT s.center_id FROM users u JOIN test_center_staff s ON s.user_id = u.id"
                    " AND s.duty = 'proctor' WHERE u.id = ?1 AND u.role <> ?2",
                    e);
        if (!q)
            return OP_EDB;
        db_bind_text(q, 1, id);
        db_bind_text(q, 2, ch->role);
        int r;
        while ((r = db_step(q)) == DB_ROW)
            idlist_add(&proctor_moved, db_column_text(q, 0));
        db_stmt_done(db, q);
        if (r != DB_DONE) {
            idlist_free(&proctor_moved);
            return db_fail(db, e, "updating user: the centers they proctor");
        }
    }

    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    struct db_stmt *st = db_stmt(db, USER_UPDATE_SQL, e);
    if (!st) {
        idlist_free(&proctor_moved);
        return OP_EDB;
    }
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, now);
    const struct {
        unsigned bit;
        const char *v;
    } cols[] = {
        {USER_SET_LOGIN, ch->login},
        {USER_SET_ROLE, ch->role},
        {USER_SET_LABEL, ch->label},
        {USER_SET_FIRST_NAME, ch->first_name},
        {USER_SET_LAST_NAME, ch->last_name},
        {USER_SET_MAIL, ch->mail},
        {USER_SET_INTERFACE_LANG, ch->interface_lang},
        {USER_SET_DEFAULT_LANG, ch->default_lang},
        {USER_SET_ORG_ID, ch->org_id},
        {USER_SET_CREDENTIALS, ch->password_hash},
    };
    int idx = 3;
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++, idx += 2) {
        db_bind_int(st, idx, (ch->set & cols[i].bit) != 0);
        db_bind_text(st, idx + 1, cols[i].v);
    }
    db_bind_text(st, 23, ch->vault_public_key);
    db_bind_text(st, 24, ch->vault_secret_wrapped);
    db_bind_text(st, 25, ch->vault_secret_escrow);
    db_bind_int64(st, 26, version);
    int step = db_step(st);
    if (step == DB_ROW && new_version)
        *new_version = db_column_int64(st, 0);
    db_stmt_done(db, st);
    if (step != DB_ROW)
        idlist_free(&proctor_moved);
    if (step == DB_DONE) { /* no row at that id and version: say which */
        int rc = update_refusal(db, id, version, ch, e);
        return rc != 0 ? rc
                       : err_set(e, OP_ECONFLICT, "user \"%s\" changed while being updated", id);
    }
    if (step != DB_ROW) {
        int rc = db_fail(db, e, "updating user");
        if (rc == OP_ECONFLICT)
            return err_set(e, OP_ECONFLICT, "login \"%s\" already exists", ch->login);
        return rc;
    }
    int rc = feed_touch(db, FEED_USER, id, e);
    /* the role of a user assigned as a proctor changed (to another role, or back to proctor):
     * the profiles of their centers' users are sealed to other proctors now */
    if (rc == 0 && proctor_moved.n > 0)
        rc = testcenters_reseal_after_proctor(db, &proctor_moved, id, e);
    idlist_free(&proctor_moved);
    return rc;
}

int users_delete(struct db *db, const char *id, struct op_err *e)
{
    struct idlist elig = IDLIST_INIT, centers = IDLIST_INIT, proctored = IDLIST_INIT;
    int rc =
        idlist_collect(db, "SELECT eligibility_id FROM eligibility_test_takers WHERE user_id = ?1",
                       id, &elig, "users", e);
    if (rc == 0)
        rc = idlist_collect(db,
                            "SELECT DISTINCT center_id FROM test_center_staff WHERE user_id = ?1",
                            id, &centers, "users", e);
    if (rc == 0)
        rc = testcenters_proctored_by(db, id, &proctored, e);
    if (rc == 0)
        rc = db_run(db, "DELETE FROM eligibility_test_takers WHERE user_id = ?1", id, NULL,
                    "deleting user", e);
    if (rc == 0)
        rc = db_run(db, "DELETE FROM test_center_staff WHERE user_id = ?1", id, NULL,
                    "deleting user", e);
    if (rc == 0)
        rc = db_run(db, "DELETE FROM users WHERE id = ?1", id, NULL, "deleting user", e);
    if (rc == 0 && db_changes(db) == 0)
        rc = err_set(e, OP_ENOTFOUND, "no user with id \"%s\"", id);
    /* the boxes of their profile (store/sealed.h, a cache) go with them */
    if (rc == 0)
        rc = db_run(db, "DELETE FROM sync_sealed WHERE kind = 'profile' AND record_id = ?1", id,
                    NULL, "deleting user", e);
    if (rc == 0)
        rc = idlist_bump(db,
                         "UPDATE eligibilities SET version = version + 1,"
                         " updated_at = ?2 WHERE id = ?1",
                         FEED_ELIGIBILITY, &elig, "deleting a user", e);
    if (rc == 0)
        rc = idlist_bump(db,
                         "UPDATE test_centers SET version = version + 1,"
                         " updated_at = ?2 WHERE id = ?1",
                         FEED_TEST_CENTER, &centers, "deleting a user", e);
    /* a proctor: the users of their centers had profiles sealed to them too */
    if (rc == 0)
        rc = testcenters_reseal_after_proctor(db, &proctored, id, e);
    if (rc == 0)
        rc = feed_touch(db, FEED_USER, id, e);
    idlist_free(&elig);
    idlist_free(&centers);
    idlist_free(&proctored);
    return rc;
}

static void clear_user(void *row)
{
    user_clear(row);
}

/* The users of role ?1 (all if NULL) after login ?3, by login. */
static const struct db_list users_by_login = {
    .sql = "SELECT " USER_COLUMNS " FROM users WHERE (?1 IS NULL OR role = ?1)"
           " AND login > ?3 ORDER BY login LIMIT ?4",
    .nkey = 1,
    .key_col = {1},
    .row_size = sizeof(struct user),
    .read = read_user,
    .clear = clear_user,
    .what = "listing users",
};

int users_page(struct db *db, const char *role, const struct db_key *after, int limit,
               struct db_page *out, struct op_err *e)
{
    return db_page_read(db, &users_by_login, role, NULL, after, limit, out, e);
}

void users_cursor(struct db_cursor *c, const char *role)
{
    db_cursor_open(c, &users_by_login, role, NULL, USERS_CURSOR_PAGE);
}

int users_count(struct db *db, const char *role, int64_t *n, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, "SELECT count(*) FROM users WHERE ?1 IS NULL OR role = ?1", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, role);
    int rc = 0;
    if (db_step(st) == DB_ROW)
        *n = db_column_int64(st, 0);
    else
        rc = db_fail(db, e, "counting users");
    db_stmt_done(db, st);
    return rc;
}

/* ---- the backoffice's list ---- */

/* The search text ?2 (a LIKE pattern, NULL for none) over login, label and names. */
#define SEARCH_TEXT                                                                                \
    " AND (?2 IS NULL OR lower(login) LIKE ?2 ESCAPE '\\'"                                         \
    " OR lower(coalesce(label, '')) LIKE ?2 ESCAPE '\\'"                                           \
    " OR lower(coalesce(first_name, '')) LIKE ?2 ESCAPE '\\'"                                      \
    " OR lower(coalesce(last_name, '')) LIKE ?2 ESCAPE '\\')"

/* The users within the reach of administrator ?1: `members(id)`. */
#define MEMBERS_CTE                                                                                \
    TESTCENTERS_ADMIN_SCOPE_CTE                                                                    \
    ", members(id) AS (SELECT st.user_id FROM test_center_staff st"                                \
    " WHERE st.center_id IN (SELECT id FROM scope) UNION SELECT t.user_id"                         \
    " FROM eligibility_test_takers t JOIN eligibilities el ON el.id = t.eligibility_id"            \
    " WHERE el.center_id IN (SELECT id FROM scope))"

/* The statements, one per shape of query, so that each walks its own index:
 *   ?1 after, ?2 text, ?3 limit [, ?4 role]               everyone
 *   ?1 admin, ?2 text, ?3 limit, ?4 after [, ?5 role]     an administrator's reach
 * An administrator's reach is read one of two ways, by its size (REACH_SMALL): a large one
 * walks the login index and keeps the users who are staff or test takers of the scope
 * (EXISTS, hashed once by PostgreSQL, probed by index on SQLite): a page costs about its
 * rows over the reach's share of all users; a small one starts from its members and sorts
 * them (SQLite plans the IN so; PostgreSQL needs = ANY (ARRAY (...)), or it hashes the
 * members and reads every user). Each way costs a few milliseconds at 100,000 users where the
 * other would read them all. */
#define REACH_SMALL 2000
#define STAFF_OR_TAKER                                                                             \
    " AND (EXISTS (SELECT 1 FROM test_center_staff st WHERE st.user_id = u.id"                     \
    " AND st.center_id IN (SELECT id FROM scope)) OR EXISTS (SELECT 1"                             \
    " FROM eligibility_test_takers t JOIN eligibilities el ON el.id = t.eligibility_id"            \
    " WHERE t.user_id = u.id AND el.center_id IN (SELECT id FROM scope)))"
enum {
    SHAPE_ALL,
    SHAPE_ROLE,
    SHAPE_LARGE,
    SHAPE_LARGE_ROLE,
    SHAPE_SMALL,
    SHAPE_SMALL_ROLE,
    SHAPE_SMALL_PG,
    SHAPE_SMALL_PG_ROLE
};
static const char *const search_sql[] = {
    [SHAPE_ALL] = "SELECT " USER_COLUMNS " FROM users WHERE login > ?1" SEARCH_TEXT
                  " ORDER BY login LIMIT ?3",
    [SHAPE_ROLE] = "SELECT " USER_COLUMNS " FROM users WHERE role = ?4 AND login > ?1" SEARCH_TEXT
                   " ORDER BY login LIMIT ?3",
    [SHAPE_LARGE] = TESTCENTERS_ADMIN_SCOPE_CTE
    " SELECT " USER_COLUMNS " FROM users u WHERE login > ?4" SEARCH_TEXT STAFF_OR_TAKER
    " ORDER BY login LIMIT ?3",
    [SHAPE_LARGE_ROLE] = TESTCENTERS_ADMIN_SCOPE_CTE
    " SELECT " USER_COLUMNS
    " FROM users u WHERE role = ?5 AND login > ?4" SEARCH_TEXT STAFF_OR_TAKER
    " ORDER BY login LIMIT ?3",
    [SHAPE_SMALL] = MEMBERS_CTE " SELECT " USER_COLUMNS " FROM users WHERE login > ?4" SEARCH_TEXT
                                " AND id IN (SELECT id FROM members) ORDER BY login LIMIT ?3",
    [SHAPE_SMALL_ROLE] =
        MEMBERS_CTE " SELECT " USER_COLUMNS " FROM users WHERE role = ?5 AND login > ?4" SEARCH_TEXT
                    " AND id IN (SELECT id FROM members) ORDER BY login LIMIT ?3",
    [SHAPE_SMALL_PG] =
        MEMBERS_CTE " SELECT " USER_COLUMNS " FROM users WHERE login > ?4" SEARCH_TEXT
                    " AND id = ANY (ARRAY (SELECT id FROM members))"
                    " ORDER BY login LIMIT ?3",
    [SHAPE_SMALL_PG_ROLE] =
        MEMBERS_CTE " SELECT " USER_COLUMNS " FROM users WHERE role = ?5 AND login > ?4" SEARCH_TEXT
                    " AND id = ANY (ARRAY (SELECT id FROM members))"
                    " ORDER BY login LIMIT ?3",
};

/* 1 when administrator `admin_id` reaches more than REACH_SMALL users (counted up to one
 * more, so a large reach costs no more than a small one). */
static int reach_is_large(struct db *db, const char *admin_id, int *large, struct op_err *e)
{
    *large = 0;
    struct db_stmt *st = db_stmt(
        db, MEMBERS_CTE " SELECT count(*) FROM (SELECT id FROM members LIMIT ?2) AS reach", e);
    if (!st)
        return OP_EDB;
    db_bind_text(st, 1, admin_id);
    db_bind_int(st, 2, REACH_SMALL + 1);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *large = db_column_int64(st, 0) > REACH_SMALL;
    int result = rc == DB_ROW ? 0 : db_fail(db, e, "counting the users an administrator reaches");
    db_stmt_done(db, st);
    return result;
}

/* "%text%" in lower case, with LIKE's own characters escaped; NULL for no text. */
static char *like_pattern(const char *text)
{
    if (!text || !text[0])
        return NULL;
    size_t n = strlen(text);
    char *p = malloc(2 * n + 3);
    if (!p)
        return NULL;
    size_t j = 0;
    p[j++] = '%';
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == '%' || c == '_' || c == '\\')
            p[j++] = '\\';
        p[j++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    p[j++] = '%';
    p[j] = '\0';
    return p;
}

int users_search_page(struct db *db, const struct users_search *q, struct user **rows, int *n,
                      int *more, struct op_err *e)
{
    *rows = NULL;
    *n = 0;
    *more = 0;
    if (q->limit < 1 || q->limit > DB_PAGE_MAX)
        return err_set_field(e, OP_EINPUT, "limit", "limit: %d, expected 1 to %d", q->limit,
                             DB_PAGE_MAX);
    if (q->text && strlen(q->text) > USERS_SEARCH_MAX)
        return err_set_field(e, OP_EINPUT, "q", "the search text is over %d bytes",
                             USERS_SEARCH_MAX);
    int scoped = q->admin_id != NULL, by_role = q->role != NULL, large = 0;
    if (scoped) {
        int rc = reach_is_large(db, q->admin_id, &large, e);
        if (rc != 0)
            return rc;
    }
    int shape = !scoped            ? SHAPE_ALL
                : large            ? SHAPE_LARGE
                : db_is_remote(db) ? SHAPE_SMALL_PG
                                   : SHAPE_SMALL;
    char *pattern = like_pattern(q->text);
    if (q->text && q->text[0] && !pattern)
        return err_set(e, OP_ENOMEM, "out of memory");
    struct db_stmt *st = db_stmt(db, search_sql[shape + by_role], e);
    if (!st) {
        free(pattern);
        return OP_EDB;
    }
    const char *after = q->after ? q->after : "";
    db_bind_text(st, 1, scoped ? q->admin_id : after);
    db_bind_text(st, 2, pattern);
    db_bind_int(st, 3, q->limit + 1);
    if (scoped)
        db_bind_text(st, 4, after);
    if (by_role)
        db_bind_text(st, scoped ? 5 : 4, q->role);
    struct user *out = calloc((size_t)q->limit + 1, sizeof *out);
    int rc, got = 0;
    while (out && (rc = db_step(st)) == DB_ROW) {
        if (got == q->limit) {
            *more = 1;
            break;
        }
        read_row(st, &out[got++]);
    }
    int result = !out             ? err_set(e, OP_ENOMEM, "out of memory")
                 : rc == DB_ERROR ? db_fail(db, e, "listing users")
                                  : 0;
    db_stmt_done(db, st);
    free(pattern);
    if (result != 0) {
        for (int i = 0; i < got; i++)
            user_clear(&out[i]);
        free(out);
        *more = 0;
        return result;
    }
    *rows = out;
    *n = got;
    return 0;
}
