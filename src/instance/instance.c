/*
 * instance.c - opening and creating instances (see instance.h).
 *
 * Creation is atomic: everything is built in a private temporary folder next to DIR and
 * renamed into place at the end, so a crash or an error during setup leaves either no
 * instance or a complete one, and never touches an existing instance.
 */
#include "instance/instance.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <sodium.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/credentials.h"
#include "base/fs.h"
#include "instance/keycheck.h"
#include "instance/roles.h"
#include "store/users.h"

const char *instance_resolve_dir(const char *opt)
{
    if (opt && opt[0])
        return opt;
    const char *env = getenv("OUTPOST_HOME");
    if (env && env[0])
        return env;
    return INSTANCE_DEFAULT_DIR;
}

char *instance_path(const struct instance *inst, const char *name)
{
    return fs_join(inst->dir, name);
}

static char *db_path_for(const char *dir, const char *db_path)
{
    if (db_path[0] == '/') {
        char *p = strdup(db_path);
        if (!p)
            abort();
        return p;
    }
    return fs_join(dir, db_path);
}

int instance_open_pgsql(const struct pg_settings *settings, int create, struct db **out,
                        struct op_err *e)
{
    struct pg_settings pg = *settings;
    pg.password = NULL;
    int rc = pg_settings_read_password(&pg, e);
    if (rc != 0)
        return rc;
    char *conninfo = NULL;
    rc = pg_conninfo(&pg, &conninfo, e);
    pg_settings_free(&pg);
    if (rc != 0)
        return rc;
    rc = db_open_pgsql(conninfo, create, out, e);
    pg_conninfo_free(conninfo);
    if (rc != 0)
        err_prefix(e, "database \"%s\" on %s port %u", pg.dbname, pg.host, pg.port);
    return rc;
}

/* Opens (with `create`, for setup) the store the settings name: the SQLite file at `db_path`,
 * or the PostgreSQL database (instance_open_pgsql). */
static int open_store(const struct instance_settings *s, const char *db_path, int create,
                      struct db **out, struct op_err *e)
{
    if (s->driver == DB_DRIVER_SQLITE)
        return db_open(db_path, create, out, e);
    return instance_open_pgsql(&s->pg, create, out, e);
}

/* Root working on a folder another user owns (the service's) would leave root-owned files
 * there that the service then cannot read ("Permission denied" at its next start): refused,
 * naming the user to run as. */
static int refuse_root_on_others(const char *dir, struct op_err *e)
{
    struct stat st;
    if (geteuid() != 0 || stat(dir, &st) != 0 || st.st_uid == 0)
        return 0;
    struct passwd *pw = getpwuid(st.st_uid);
    char name[64];
    if (pw)
        snprintf(name, sizeof name, "%s", pw->pw_name);
    else
        snprintf(name, sizeof name, "%u", (unsigned)st.st_uid);
    return err_set(e, OP_ESTATE,
                   "%s belongs to the user %s: run outpost as that user (runuser -u %s -- "
                   "outpost ..., or sudo -u %s outpost ...); as root it would leave files there "
                   "that %s cannot read",
                   dir, name, name, name, name);
}

int instance_open(const char *dir, struct instance **out, struct op_err *e)
{
    *out = NULL;
    if (refuse_root_on_others(dir, e) != 0)
        return OP_ESTATE;
    char *cfg_path = fs_join(dir, INSTANCE_CONFIG_FILE);
    if (!fs_exists(cfg_path)) {
        free(cfg_path);
        if (!fs_exists(dir))
            return err_set_remedy(e, OP_ESTATE, OP_REMEDY_SETUP, "%s: no Outpost instance here",
                                  dir);
        return err_set_remedy(e, OP_ESTATE, OP_REMEDY_SETUP, "%s: not an Outpost instance (no %s)",
                              dir, INSTANCE_CONFIG_FILE);
    }
    json_error_t jerr;
    json_t *file = json_load_file(cfg_path, JSON_REJECT_DUPLICATES, &jerr);
    if (!file) {
        err_set(e, OP_ESTATE, "%s line %d: damaged instance file: %s", cfg_path, jerr.line,
                jerr.text);
        free(cfg_path);
        return OP_ESTATE;
    }
    free(cfg_path);
    struct instance *inst = calloc(1, sizeof *inst);
    if (!inst)
        abort();
    inst->dir = strdup(dir);
    inst->file = file;
    const char *role = json_string_value(json_object_get(file, "role"));
    const char *id = json_string_value(json_object_get(file, "instance_id"));
    if (role && strcmp(role, "central") == 0)
        inst->role = ROLE_CENTRAL;
    else if (role && strcmp(role, "device") == 0)
        inst->role = ROLE_DEVICE;
    if (!inst->role || !id || !uuid_is_valid(id)) {
        instance_close(inst);
        return err_set(e, OP_ESTATE, "%s/%s: damaged instance file (role or instance_id)", dir,
                       INSTANCE_CONFIG_FILE);
    }
    snprintf(inst->id, sizeof inst->id, "%s", id);
    if (config_settings(json_object_get(file, "configuration"), &inst->settings, e) != 0) {
        err_prefix(e, "%s/%s", dir, INSTANCE_CONFIG_FILE);
        instance_close(inst);
        return OP_ESTATE;
    }
    char *db_path =
        inst->settings.driver == DB_DRIVER_SQLITE ? db_path_for(dir, inst->settings.db_path) : NULL;
    int rc = open_store(&inst->settings, db_path, 0, &inst->db, e);
    free(db_path);
    if (rc != 0) {
        instance_close(inst);
        return rc;
    }
    *out = inst;
    return 0;
}

int instance_open_db(const struct instance *inst, struct db **out, struct op_err *e)
{
    char *db_path = inst->settings.driver == DB_DRIVER_SQLITE
                        ? db_path_for(inst->dir, inst->settings.db_path)
                        : NULL;
    int rc = open_store(&inst->settings, db_path, 0, out, e);
    free(db_path);
    return rc;
}

void instance_close(struct instance *inst)
{
    if (!inst)
        return;
    db_close(inst->db);
    json_decref(inst->file);
    free(inst->dir);
    free(inst);
}

/* The commands (by their first word) that write or read the records a device receives from
 * central by sync (sync/pull.h): on a device those records are central's, read-only, and the
 * refusal says so. */
static int about_synced_records(const char *what)
{
    static const char *const words[] = {
        "users",        "testcenters",        "eligibilities",        "deliveries",
        "import-users", "import-testcenters", "import-eligibilities", "import-qti"};
    size_t n = strcspn(what, " ");
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && strncmp(what, words[i], n) == 0)
            return 1;
    return 0;
}

int instance_require_role(const struct instance *inst, enum instance_role role, const char *what,
                          struct op_err *e)
{
    if (inst->role == role)
        return 0;
    if (role == ROLE_CENTRAL && inst->role == ROLE_DEVICE && about_synced_records(what))
        return err_set(e, OP_ESTATE,
                       "%s runs on a central; %s is a device, whose users, test centers,"
                       " eligibilities and deliveries come from central by sync and are"
                       " read-only here: change them on central, then sync this device",
                       what, inst->dir);
    return err_set(e, OP_ESTATE, "%s runs on a %s; %s is a %s", what, instance_role_name(role),
                   inst->dir, instance_role_name(inst->role));
}

/* db_write body: the super-user (users_insert dates it again on every run). */
static int insert_user(struct db *db, void *u, struct op_err *e)
{
    return users_insert(db, u, e);
}

/* Adds the super-user; on a central, its vault key is escrowed under the master key (which
 * roles_setup has just created in tmp/keys) like every other user's. */
static int add_super_user(struct db *db, const char *tmp, const struct setup_request *req,
                          const struct instance_settings *s, struct op_err *e)
{
    struct user u;
    memset(&u, 0, sizeof u);
    struct credentials cred;
    struct key *master = NULL;
    struct credentials_keys keys = {NULL, NULL};
    if (req->role == ROLE_CENTRAL) {
        if (!(master = key_new()))
            return err_set(e, OP_ENOMEM, "out of memory");
        char *dir = fs_join(tmp, "keys");
        int rc = keys_load_master(dir, master, e);
        free(dir);
        if (rc != 0) {
            key_free(master);
            return rc;
        }
        keys.master = master;
    }
    uuid_generate(u.id);
    int made = credentials_make(&s->password_cost, u.id, req->super_password,
                                strlen(req->super_password), &keys, &cred, e);
    key_free(master);
    if (made != 0)
        return err_prefix(e, "super-user.password");
    u.login = (char *)req->super_login;
    u.role = (char *)ROLE_SUPER_USER;
    u.label = (char *)"Super user";
    u.first_name = (char *)req->super_first_name;
    u.last_name = (char *)req->super_last_name;
    u.mail = (char *)req->super_mail;
    credentials_apply(&cred, &u);
    int rc = db_write(db, insert_user, &u, e);
    credentials_wipe(&cred);
    return rc;
}

static int record_keys(struct db *db, void *dir, struct op_err *e)
{
    return keycheck_record_results_keys(db, dir, e);
}

static int record_results_keys(struct db *db, const char *tmp, struct op_err *e)
{
    char *dir = fs_join(tmp, "keys");
    int rc = db_write(db, record_keys, dir, e);
    free(dir);
    return rc;
}

/* Writes a TAO file's database password alone on one line into `path`, mode 600. */
static int write_db_password(const char *path, const char *password, struct op_err *e)
{
    size_t n = strlen(password);
    char *text = sodium_malloc(n + 2);
    if (!text)
        return err_set(e, OP_ENOMEM, "out of memory");
    memcpy(text, password, n);
    text[n] = '\n';
    text[n + 1] = '\0';
    int rc = fs_write_atomic(path, text, n + 1, 0600, e);
    sodium_memzero(text, n + 2);
    sodium_free(text);
    return rc;
}

/* Where a TAO file's database password goes: DIR/db-password, by an absolute path (a
 * password-file must be one); sets it as the configuration's password-file. */
static int name_db_password_file(const char *dir, json_t *configuration, struct op_err *e)
{
    char cwd[4096];
    char path[8192];
    if (dir[0] == '/')
        snprintf(path, sizeof path, "%s/%s", dir, INSTANCE_DB_PASSWORD_FILE);
    else if (getcwd(cwd, sizeof cwd))
        snprintf(path, sizeof path, "%s/%s/%s", cwd, dir, INSTANCE_DB_PASSWORD_FILE);
    else
        return err_set(e, OP_EIO, "cannot name the current folder: %s", strerror(errno));
    json_t *def = json_object_get(json_object_get(configuration, "persistences"), "default");
    if (!def)
        return err_set(e, OP_ESTATE, "instance configuration has no database");
    json_object_set_new(def, "password-file", json_string(path));
    return 0;
}

/* Builds the instance in `tmp` (a fresh folder); the database may live outside it. */
static int build_instance(const char *tmp, const char *final_dir, const struct setup_request *req,
                          const char *db_path, struct op_err *e)
{
    struct instance_settings s;
    if (config_settings(req->configuration, &s, e) != 0)
        return OP_EINPUT;
    json_t *file = json_object();
    char id[UUID_STR_LEN], now[TIMESTAMP_STR_LEN];
    uuid_generate(id);
    timestamp_now(now);
    json_object_set_new(file, "format", json_integer(1));
    json_object_set_new(file, "role", json_string(instance_role_name(req->role)));
    json_object_set_new(file, "instance_id", json_string(id));
    json_object_set_new(file, "created_at", json_string(now));
    json_object_set_new(file, "configuration", json_deep_copy(req->configuration));

    struct instance inst = {0};
    inst.dir = (char *)tmp;
    inst.role = req->role;
    memcpy(inst.id, id, sizeof id);
    inst.file = file;
    inst.settings = s;
    int rc = roles_setup(&inst, final_dir, e);
    /* a TAO file's database password: the instance's own private file, named in outpost.json
     * by its final path; setup connects with it where it is now */
    char *pw_now = NULL;
    if (rc == 0 && req->db_password) {
        pw_now = fs_join(tmp, INSTANCE_DB_PASSWORD_FILE);
        rc = write_db_password(pw_now, req->db_password, e);
        s.pg.password_file = pw_now;
    }
    struct db *db = NULL;
    /* a relative path with sub-folders (data/outpost.db): the folders are made, private */
    if (rc == 0 && db_path && s.db_path[0] != '/' && strchr(s.db_path, '/')) {
        char *copy = strdup(db_path);
        rc = copy ? fs_mkdir_p(dirname(copy), 0700, e) : OP_ENOMEM;
        free(copy);
    }
    if (rc == 0)
        rc = open_store(&s, db_path, 1, &db, e);
    if (rc == 0 && req->role == ROLE_CENTRAL) /* its results keys, remembered for good */
        rc = record_results_keys(db, tmp, e);
    if (rc == 0)
        rc = add_super_user(db, tmp, req, &s, e);
    db_close(db);
    free(pw_now);
    if (rc == 0) {
        char *text = json_dumps(file, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *cfg = fs_join(tmp, INSTANCE_CONFIG_FILE);
        rc = fs_write_atomic(cfg, text, strlen(text), 0600, e);
        free(cfg);
        free(text);
    }
    json_decref(file);
    return rc;
}

/* Moves what setup built in `tmp` (inside `dir`) up into `dir`: everything else first, the
 * instance file last, so that `dir` is an instance only once it is whole. */
static int move_up(const char *tmp, const char *dir, struct op_err *e)
{
    DIR *d = opendir(tmp);
    if (!d)
        return err_set(e, OP_EIO, "%s: cannot read the new instance: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strcmp(de->d_name, INSTANCE_CONFIG_FILE) == 0)
            continue;
        char *from = fs_join(tmp, de->d_name), *to = fs_join(dir, de->d_name);
        if (rename(from, to) != 0)
            rc = err_set(e, OP_EIO, "%s: cannot move the new instance's %s into place: %s", dir,
                         de->d_name, strerror(errno));
        free(from);
        free(to);
    }
    closedir(d);
    char *from = fs_join(tmp, INSTANCE_CONFIG_FILE), *to = fs_join(dir, INSTANCE_CONFIG_FILE);
    if (rc == 0 && rename(from, to) != 0)
        rc = err_set(e, OP_EIO, "%s: cannot move the new instance's %s into place: %s", dir,
                     INSTANCE_CONFIG_FILE, strerror(errno));
    if (rc == 0) {
        rmdir(tmp);
        fs_fsync_dir_of(to);
    }
    free(from);
    free(to);
    return rc;
}

/* After a failed move_up: takes out of `dir` what setup put there (it was empty). */
static void clear_setup(const char *tmp, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = fs_join(dir, de->d_name);
        if (strcmp(p, tmp) != 0)
            fs_remove_tree(p);
        free(p);
    }
    closedir(d);
}

/* Writes `to` in place of every `from` in e's message. */
static void err_replace_path(struct op_err *e, const char *from, const char *to)
{
    size_t fl = strlen(from);
    char out[sizeof e->msg];
    size_t n = 0;
    for (const char *p = e->msg; *p && n + 1 < sizeof out;) {
        if (strncmp(p, from, fl) == 0) {
            n += (size_t)snprintf(out + n, sizeof out - n, "%s", to);
            if (n >= sizeof out)
                n = sizeof out - 1;
            p += fl;
        } else
            out[n++] = *p++;
    }
    out[n] = '\0';
    memcpy(e->msg, out, n + 1);
}

int instance_create(const char *dir, const struct setup_request *req, struct op_err *e)
{
    struct instance_settings s;
    if (req->db_password && name_db_password_file(dir, req->configuration, e) != 0)
        return e->code;
    int rc = config_settings(req->configuration, &s, e);
    if (rc != 0)
        return rc;
    char *cfg = fs_join(dir, INSTANCE_CONFIG_FILE);
    int is_instance = fs_exists(cfg);
    free(cfg);
    if (is_instance)
        return err_set(e, OP_ESTATE,
                       "%s is already an Outpost instance; setup never overwrites one (to start "
                       "over, move the folder away first)",
                       dir);
    if (fs_exists(dir)) {
        if (!fs_is_dir(dir))
            return err_set(e, OP_EINPUT, "%s exists and is not a folder", dir);
        if (fs_dir_is_empty(dir) != 1)
            return err_set(e, OP_ESTATE,
                           "%s is not empty and is not an Outpost instance; choose a new or "
                           "empty folder",
                           dir);
    }
    if (s.driver == DB_DRIVER_SQLITE && s.db_path[0] != '/' && strstr(s.db_path, ".."))
        return err_set(e, OP_EINPUT,
                       "configuration.persistences.default.path: \"%s\" leaves the data folder "
                       "(..): give a path inside it, or an absolute one",
                       s.db_path);
    if (refuse_root_on_others(dir, e) != 0)
        return OP_ESTATE;
    /* The instance is built in a private temporary folder and put in place whole. An empty
     * DIR that exists (the service's /var/lib/outpost, whose parent the service user may not
     * write) holds that folder itself; otherwise it is a sibling of DIR, renamed to it. */
    int inside = fs_exists(dir);
    char *parent = NULL;
    if (!inside) {
        char *copy = strdup(dir);
        parent = strdup(dirname(copy));
        free(copy);
        if (fs_mkdir_p(parent, 0755, e) != 0) {
            free(parent);
            return OP_EIO;
        }
    }
    char *tmpl = fs_join(inside ? dir : parent, ".outpost-setup-XXXXXX");
    free(parent);
    if (!mkdtemp(tmpl)) {
        err_set(e, OP_EIO,
                "%s: cannot write in it: %s (the user running setup must be able to "
                "write there)",
                inside ? dir : "its parent folder", strerror(errno));
        free(tmpl);
        return OP_EIO;
    }
    chmod(tmpl, 0700);

    int sqlite = s.driver == DB_DRIVER_SQLITE;
    int external_db = sqlite && s.db_path[0] == '/';
    char *db_path = sqlite ? db_path_for(tmpl, s.db_path) : NULL;
    if (external_db && fs_exists(db_path))
        rc = err_set(e, OP_ESTATE,
                     "configuration.persistences.default.path: %s already exists; setup never "
                     "overwrites a database",
                     db_path);
    if (rc == 0)
        rc = build_instance(tmpl, dir, req, db_path, e);
    if (rc == 0 && inside)
        rc = move_up(tmpl, dir, e);
    else if (rc == 0 && rename(tmpl, dir) != 0)
        rc = err_set(e, OP_EIO, "%s: cannot move the new instance into place: %s", dir,
                     strerror(errno));
    if (rc == 0)
        chmod(dir, 0700);
    if (rc != 0) {
        err_replace_path(e, tmpl, dir); /* never name the temporary folder */
        if (inside)
            clear_setup(tmpl, dir);
        fs_remove_tree(tmpl);
        if (external_db && rc != OP_ESTATE) {
            unlink(db_path);
            char side[4096];
            snprintf(side, sizeof side, "%s-wal", db_path);
            unlink(side);
            snprintf(side, sizeof side, "%s-shm", db_path);
            unlink(side);
        }
    }
    free(db_path);
    free(tmpl);
    return rc;
}
