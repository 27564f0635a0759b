/*
 * backup.c - one archive of an instance, and its checked restore (see backup.h).
 */
#include "app/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <sodium.h>

#include "base/fs.h"
#include "base/ids.h"
#include "base/sha256.h"
#include "base/spawn.h"
#include "base/version.h"
#include "instance/keycheck.h"
#include "instance/persistence.h"
#include "store/db.h"

static int oom(struct op_err *e)
{
    return err_set(e, OP_ENOMEM, "out of memory making or reading a backup");
}

/* ---- PostgreSQL: pg_dump and pg_restore ----
 *
 * A central on PostgreSQL is dumped by pg_dump (custom format: one consistent snapshot, taken
 * in one transaction while the service goes on writing) and restored by pg_restore, both run
 * with the connection of the instance's settings. The password never reaches their command
 * line: it is written to a libpq password file (mode 600) in a private folder of the backup
 * or restore, named by PGPASSFILE in their environment, and removed when they are done. */

/* Writes the libpq password file `path` (0600) matching any server, port, database and role
 * with `password` (':' and '\' escaped, as libpq reads them). */
static int write_pgpass(const char *path, const char *password, struct op_err *e)
{
    size_t n = strlen(password);
    char *text = sodium_malloc(2 * n + 16);
    if (!text)
        return oom(e);
    size_t k = (size_t)snprintf(text, 16, "*:*:*:*:");
    for (size_t i = 0; i < n; i++) {
        if (password[i] == ':' || password[i] == '\\')
            text[k++] = '\\';
        text[k++] = password[i];
    }
    text[k++] = '\n';
    int rc = fs_write_atomic(path, text, k, 0600, e);
    sodium_memzero(text, 2 * n + 16);
    sodium_free(text);
    return rc;
}

/* Runs `tool` (pg_dump or pg_restore) with `args` (NULL-terminated) against the server of
 * `settings`, its password read as every command reads it (password-file, else $PGPASSWORD)
 * and handed over in a password file inside the private folder `tmpdir`. */
static int pg_tool(const char *tool, const struct pg_settings *settings, const char *tmpdir,
                   const char *const *args, struct op_err *e)
{
    struct pg_settings pg = *settings;
    pg.password = NULL;
    int rc = pg_settings_read_password(&pg, e);
    char *pass = rc == 0 ? fs_join(tmpdir, "pgpass") : NULL;
    if (rc == 0)
        rc = write_pgpass(pass, pg.password, e);
    pg_settings_free(&pg);
    if (rc != 0) {
        free(pass);
        return rc;
    }
    char host[PG_HOST_MAX + 16], port[32], user[PG_NAME_MAX + 16], dbname[PG_NAME_MAX + 16];
    char passfile[PATH_MAX + 16];
    snprintf(host, sizeof host, "PGHOST=%s", settings->host);
    snprintf(port, sizeof port, "PGPORT=%u", settings->port);
    snprintf(user, sizeof user, "PGUSER=%s", settings->user);
    snprintf(dbname, sizeof dbname, "PGDATABASE=%s", settings->dbname);
    snprintf(passfile, sizeof passfile, "PGPASSFILE=%s", pass);
    const char *set[] = {host,
                         port,
                         user,
                         dbname,
                         passfile,
                         "PGSSLMODE=prefer",
                         "PGCONNECT_TIMEOUT=10",
                         "PGAPPNAME=outpost",
                         NULL};
    /* what the environment may hold for another server must not redirect them */
    const char *unset[] = {"PGPASSWORD", "PGSERVICE",  "PGSERVICEFILE",
                           "PGOPTIONS",  "PGHOSTADDR", NULL};
    const char *argv[16];
    int n = 0;
    argv[n++] = tool;
    for (const char *const *a = args; *a && n < 15; a++)
        argv[n++] = *a;
    argv[n] = NULL;
    rc = spawn_run(argv, set, unset, e);
    if (rc != 0)
        err_prefix(e, "database \"%s\" on %s port %u", settings->dbname, settings->host,
                   settings->port);
    unlink(pass);
    free(pass);
    return rc;
}

/* ---- what goes in ---- */

struct entry {
    char *name; /* in the archive */
    char *path; /* on disk */
    int64_t size;
    char sha256[SHA256_HEX_LEN];
    int packed; /* already compressed or encrypted: stored as it is */
};

struct entries {
    struct entry *v;
    int n, cap;
};

static void entries_free(struct entries *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].path);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* SHA-256 and size of the file at `path`. */
static int hash_file(const char *path, char sha[SHA256_HEX_LEN], int64_t *size, struct op_err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, OP_EIO, "%s: cannot read it: %s", path, strerror(errno));
    struct sha256_stream st;
    sha256_stream_init(&st);
    static __thread unsigned char buf[1 << 16];
    int64_t n = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        sha256_stream_update(&st, buf, (size_t)r);
        n += r;
    }
    int err = r < 0 ? errno : 0;
    close(fd);
    if (err)
        return err_set(e, OP_EIO, "%s: cannot read it: %s", path, strerror(err));
    sha256_stream_final_hex(&st, sha);
    *size = n;
    return 0;
}

static int add_entry(struct entries *l, const char *name, const char *path, int packed,
                     struct op_err *e)
{
    if (l->n >= BACKUP_FILES_MAX)
        return err_set(e, OP_EINPUT, "more than %d files to back up", BACKUP_FILES_MAX);
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        struct entry *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return oom(e);
        l->v = v;
        l->cap = cap;
    }
    struct entry *x = &l->v[l->n];
    memset(x, 0, sizeof *x);
    x->name = strdup(name);
    x->path = strdup(path);
    x->packed = packed;
    if (!x->name || !x->path) {
        free(x->name);
        free(x->path);
        return oom(e);
    }
    l->n++;
    return hash_file(path, x->sha256, &x->size, e);
}

/* Files that are being written and not part of the instance yet. */
static int unfinished(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || (n > 5 && strcmp(name + n - 5, ".part") == 0) ||
           strstr(name, ".tmp") != NULL;
}

/* Every regular file under disk folder `dir`, named `prefix/...` in the archive. */
static int add_tree(struct entries *l, const char *dir, const char *prefix, int packed,
                    struct op_err *e)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0
                               : err_set(e, OP_EIO, "%s: cannot list it: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 || unfinished(de->d_name))
            continue;
        char *path = fs_join(dir, de->d_name), *name = fs_join(prefix, de->d_name);
        struct stat st;
        if (lstat(path, &st) != 0)
            rc = err_set(e, OP_EIO, "%s: %s", path, strerror(errno));
        else if (S_ISDIR(st.st_mode) && strcmp(de->d_name, "download") != 0)
            rc = add_tree(l, path, name, packed, e);
        else if (S_ISREG(st.st_mode))
            rc = add_entry(l, name, path, packed, e);
        free(path);
        free(name);
    }
    closedir(d);
    return rc;
}

/* The parent folder of `path` ("." when it has none). */
static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static json_t *manifest_of(const struct instance *inst, const struct entries *l, int schema,
                           const char *backend, const char *dbname)
{
    char now[TIMESTAMP_STR_LEN];
    timestamp_now(now);
    json_t *files = json_array();
    for (int i = 0; i < l->n; i++)
        json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "name", l->v[i].name, "size",
                                               (json_int_t)l->v[i].size, "sha256", l->v[i].sha256));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:o}", "format", BACKUP_FORMAT,
                     "created_at", now, "outpost_version", OUTPOST_VERSION, "role",
                     instance_role_name(inst->role), "instance_id", inst->id, "backend", backend,
                     "database", dbname, "schema_version", schema, "files", files);
}

static int zip_error_of(zip_t *za, const char *path, struct op_err *e)
{
    return err_set(e, OP_EIO, "%s: writing the archive: %s", path, zip_strerror(za));
}

/* Writes the archive at `path` (a new file in a private folder). */
static int write_zip(const char *path, const char *manifest, const struct entries *l,
                     struct op_err *e)
{
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_EXCL, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        int rc =
            err_set(e, OP_EIO, "%s: cannot create the archive: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return rc;
    }
    zip_source_t *src = zip_source_buffer(za, manifest, strlen(manifest), 0);
    if (!src || zip_file_add(za, BACKUP_MANIFEST, src, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(src);
        int rc = zip_error_of(za, path, e);
        zip_discard(za);
        return rc;
    }
    for (int i = 0; i < l->n; i++) {
        src = zip_source_file(za, l->v[i].path, 0, -1);
        zip_int64_t idx = src ? zip_file_add(za, l->v[i].name, src, ZIP_FL_ENC_UTF_8) : -1;
        if (idx < 0) {
            zip_source_free(src);
            int rc = zip_error_of(za, path, e);
            zip_discard(za);
            return rc;
        }
        if (l->v[i].packed)
            zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
        else
            zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1);
    }
    if (zip_close(za) != 0) {
        int rc = zip_error_of(za, path, e);
        zip_discard(za);
        return rc;
    }
    return 0;
}

int app_backup(struct instance *inst, const char *to, struct app_backup_out *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (!to || !*to)
        return err_set_field(e, OP_EINPUT, "to", "say where the archive goes: --to FILE");
    if (fs_exists(to))
        return err_set_field(e, OP_ECONFLICT, "to",
                             "%s exists already: a backup never replaces a file; name a new one",
                             to);
    const char *backend = db_backend_name(inst->db);
    int pgsql = inst->settings.driver == DB_DRIVER_PGSQL;
    char *parent = parent_of(to);
    char *tmpl = parent ? fs_join(parent, ".outpost-backup-XXXXXX") : NULL;
    free(parent);
    if (!tmpl)
        return oom(e);
    if (!mkdtemp(tmpl)) { /* mode 0700: what is written in it stays private */
        int rc =
            err_set_field(e, OP_EIO, "to", "%s: cannot write beside it: %s", to, strerror(errno));
        free(tmpl);
        return rc;
    }
    struct entries l = {0};
    char *snap = fs_join(tmpl, pgsql ? BACKUP_PG_DUMP : "outpost.db");
    char *zip = fs_join(tmpl, "backup.zip");
    char *dbpass = fs_join(inst->dir, INSTANCE_DB_PASSWORD_FILE);
    char *cfg = fs_join(inst->dir, INSTANCE_CONFIG_FILE), *keys = fs_join(inst->dir, "keys");
    char *pkgs = fs_join(inst->dir, "packages");
    json_t *manifest = NULL;
    char *text = NULL;
    /* the snapshot first: packages are never changed once written, and one the snapshot
     * names was written before it */
    int rc = 0;
    if (pgsql) {
        char file_arg[PATH_MAX + 16];
        snprintf(file_arg, sizeof file_arg, "--file=%s", snap);
        const char *args[] = {"--format=custom", "--no-owner", "--no-privileges", file_arg, NULL};
        rc = pg_tool("pg_dump", &inst->settings.pg, tmpl, args, e);
    } else
        rc = db_backup_to_file(inst->db, snap, e);
    if (rc == 0)
        rc = add_entry(&l, INSTANCE_CONFIG_FILE, cfg, 0, e);
    if (rc == 0)
        rc = add_tree(&l, keys, "keys", 0, e);
    /* the database password a TAO setup file gave, kept in the folder (instance.h) */
    if (rc == 0 && fs_exists(dbpass))
        rc = add_entry(&l, INSTANCE_DB_PASSWORD_FILE, dbpass, 0, e);
    /* the database under the name outpost.json gives it, so that the archive unpacked is the
     * data folder itself (an absolute path, outside the folder: under its file name); a
     * PostgreSQL dump as outpost.pgdump */
    const char *dbname = pgsql                    ? BACKUP_PG_DUMP
                         : inst->settings.db_path ? inst->settings.db_path
                                                  : "outpost.db";
    if (dbname[0] == '/')
        dbname = strrchr(dbname, '/') + 1;
    if (rc == 0)
        rc = add_entry(&l, dbname, snap, pgsql, e);
    if (rc == 0)
        rc = add_tree(&l, pkgs, "packages", 1, e);
    if (rc == 0) {
        manifest = manifest_of(inst, &l, db_schema_version(inst->db), backend, dbname);
        text = manifest ? json_dumps(manifest, JSON_INDENT(1)) : NULL;
        if (!text)
            rc = oom(e);
    }
    if (rc == 0)
        rc = write_zip(zip, text, &l, e);
    if (rc == 0) {
        int fd = open(zip, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fchmod(fd, 0600) != 0 || fsync(fd) != 0)
            rc = err_set(e, OP_EIO, "%s: cannot make it private and durable: %s", zip,
                         strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    /* link, not rename: a file that appeared at `to` meanwhile is never replaced */
    if (rc == 0 && link(zip, to) != 0)
        rc = err_set_field(e, errno == EEXIST ? OP_ECONFLICT : OP_EIO, "to",
                           "%s: cannot put the archive there: %s", to, strerror(errno));
    if (rc == 0) {
        fs_fsync_dir_of(to);
        out->path = strdup(to);
        out->files = l.n;
        for (int i = 0; i < l.n; i++) {
            out->bytes += l.v[i].size;
            out->packages += strncmp(l.v[i].name, "packages/", 9) == 0;
        }
        out->schema_version = db_schema_version(inst->db);
        snprintf(out->backend, sizeof out->backend, "%s", backend);
    }
    fs_remove_tree(tmpl);
    free(text);
    json_decref(manifest);
    entries_free(&l);
    free(snap);
    free(zip);
    free(dbpass);
    free(cfg);
    free(keys);
    free(pkgs);
    free(tmpl);
    return rc;
}

void app_backup_out_free(struct app_backup_out *o)
{
    free(o->path);
    memset(o, 0, sizeof *o);
}

json_t *app_backup_json(const struct app_backup_out *o)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:i, s:s}", "path", o->path ? o->path : "", "files",
                     (json_int_t)o->files, "bytes", (json_int_t)o->bytes, "packages",
                     (json_int_t)o->packages, "schema_version", o->schema_version, "backend",
                     o->backend);
}

json_t *app_restore_json(const struct app_restore_out *o)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:I, s:I}", "role", o->role, "instance_id",
                     o->instance_id, "created_at", o->created_at, "schema_version",
                     o->schema_version, "files", (json_int_t)o->files, "bytes",
                     (json_int_t)o->bytes);
}

/* ---- restore ---- */

/* 1 when `name` is a path the archive may hold: relative, no empty, "." or ".." component,
 * under one of the instance's own places. */
static int name_is_safe(const char *name, const char *dbname)
{
    size_t n = strlen(name);
    if (n == 0 || n > 1024 || name[0] == '/' || name[n - 1] == '/')
        return 0;
    for (const char *p = name; *p;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += len + (end ? 1 : 0);
    }
    return strcmp(name, INSTANCE_CONFIG_FILE) == 0 || (dbname && strcmp(name, dbname) == 0) ||
           strcmp(name, INSTANCE_DB_PASSWORD_FILE) == 0 || strncmp(name, "keys/", 5) == 0 ||
           strncmp(name, "packages/", 9) == 0;
}

/* Removes what is in `dir` (it was empty before the restore). */
static void clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = fs_join(dir, de->d_name);
        fs_remove_tree(p);
        free(p);
    }
    closedir(d);
}

/* Makes the folders of `path` below `dir` (mode 0700). */
static int make_parents(const char *path, struct op_err *e)
{
    char *parent = parent_of(path);
    if (!parent)
        return oom(e);
    int rc = fs_mkdir_p(parent, 0700, e);
    free(parent);
    return rc;
}

/* Reads the manifest entry into a JSON object. */
static int read_manifest(zip_t *za, const char *from, json_t **out, struct op_err *e)
{
    *out = NULL;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(za, BACKUP_MANIFEST, 0, &st) != 0)
        return err_set(e, OP_EINPUT, "%s: not an Outpost backup (it has no %s)", from,
                       BACKUP_MANIFEST);
    if (!(st.valid & ZIP_STAT_SIZE) || st.size > BACKUP_MANIFEST_MAX)
        return err_set(e, OP_EINPUT, "%s: its %s is over %u bytes", from, BACKUP_MANIFEST,
                       BACKUP_MANIFEST_MAX);
    char *buf = malloc(st.size + 1);
    zip_file_t *f = buf ? zip_fopen(za, BACKUP_MANIFEST, 0) : NULL;
    zip_int64_t got = f ? zip_fread(f, buf, st.size) : -1;
    if (f)
        zip_fclose(f);
    if (got != (zip_int64_t)st.size) {
        free(buf);
        return err_set(e, OP_EINPUT, "%s: cannot read its %s", from, BACKUP_MANIFEST);
    }
    json_error_t jerr;
    *out = json_loadb(buf, st.size, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return err_set(e, OP_EINPUT, "%s: %s line %d: %s", from, BACKUP_MANIFEST, jerr.line,
                       jerr.text);
    }
    return 0;
}

/* Extracts entry `idx` to `path` (a new file, 0600), checking its size and SHA-256. */
static int extract(zip_t *za, zip_uint64_t idx, const char *name, const char *path, int64_t size,
                   const char *sha, struct op_err *e)
{
    int rc = make_parents(path, e);
    if (rc != 0)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(e, OP_EIO, "%s: cannot create it: %s", path, strerror(errno));
    zip_file_t *f = zip_fopen_index(za, idx, 0);
    if (!f) {
        close(fd);
        return err_set(e, OP_EINPUT, "%s: cannot read it from the archive: %s", name,
                       zip_strerror(za));
    }
    struct sha256_stream st;
    sha256_stream_init(&st);
    static __thread char buf[1 << 16];
    int64_t n = 0;
    zip_int64_t r;
    while (rc == 0 && (r = zip_fread(f, buf, sizeof buf)) > 0) {
        sha256_stream_update(&st, buf, (size_t)r);
        n += r;
        if (n > size)
            rc = err_set(e, OP_EINPUT, "%s: larger in the archive than its manifest says", name);
        else if (write(fd, buf, (size_t)r) != r)
            rc = err_set(e, OP_EIO, "%s: cannot write it: %s", path, strerror(errno));
    }
    if (rc == 0 && r < 0)
        rc = err_set(e, OP_EINPUT, "%s: damaged in the archive: %s", name, zip_file_strerror(f));
    zip_fclose(f);
    char got[SHA256_HEX_LEN];
    sha256_stream_final_hex(&st, got);
    if (rc == 0 && (n != size || strcmp(got, sha) != 0))
        rc = err_set(e, OP_EINPUT,
                     "%s: its bytes are not those the backup recorded (%lld bytes, SHA-256 "
                     "%.16s..., not %lld bytes, %.16s...): the archive was changed or damaged",
                     name, (long long)n, got, (long long)size, sha);
    if (rc == 0 && fsync(fd) != 0)
        rc = err_set(e, OP_EIO, "%s: cannot write it: %s", path, strerror(errno));
    close(fd);
    return rc;
}

/* The restored setup file's store settings (*file owns what they point to; the caller
 * releases it with json_decref): a SQLite file inside `dir`, the archive's `dbname` (*dbpath,
 * the caller frees), or with `pgsql` the PostgreSQL database the settings name. */
static int restored_settings(const char *dir, const char *dbname, int pgsql, json_t **file,
                             struct instance_settings *s, char **dbpath, struct op_err *e)
{
    *dbpath = NULL;
    char *cfg = fs_join(dir, INSTANCE_CONFIG_FILE);
    json_error_t jerr;
    *file = json_load_file(cfg, JSON_REJECT_DUPLICATES, &jerr);
    free(cfg);
    memset(s, 0, sizeof *s);
    int rc =
        *file ? config_settings(json_object_get(*file, "configuration"), s, e)
              : err_set(e, OP_EINPUT, "%s line %d: %s", INSTANCE_CONFIG_FILE, jerr.line, jerr.text);
    if (rc != 0)
        return rc;
    if (pgsql)
        return s->driver == DB_DRIVER_PGSQL
                   ? 0
                   : err_set(e, OP_EINPUT,
                             "the backup holds a PostgreSQL dump but its %s does not use "
                             "PostgreSQL",
                             INSTANCE_CONFIG_FILE);
    if (s->driver != DB_DRIVER_SQLITE || !s->db_path)
        return err_set(e, OP_EINPUT, "the backup's %s does not use SQLite", INSTANCE_CONFIG_FILE);
    if (strcmp(s->db_path, dbname) != 0)
        return err_set(e, OP_EINPUT,
                       "the backup's %s keeps the database at \"%s\", not in the data folder "
                       "as %s: unpack the archive by hand and put %s there (docs/operations.md)",
                       INSTANCE_CONFIG_FILE, s->db_path, dbname, dbname);
    *dbpath = fs_join(dir, s->db_path);
    return 0;
}

/* The restored dump into the empty PostgreSQL database the settings name: refused when the
 * database holds tables; pg_restore in one transaction (all or nothing). *restored is set
 * once the database holds the backup's records. */
static int restore_pgsql(const char *dir, const char *dump, const struct pg_settings *settings,
                         int *restored, struct op_err *e)
{
    *restored = 0;
    char *tmpl = fs_join(dir, ".outpost-restore-XXXXXX");
    if (!tmpl)
        return oom(e);
    if (!mkdtemp(tmpl)) {
        int rc = err_set(e, OP_EIO, "%s: cannot write in it: %s", dir, strerror(errno));
        free(tmpl);
        return rc;
    }
    struct pg_settings pg = *settings;
    pg.password = NULL;
    char *conninfo = NULL;
    int64_t tables = 0;
    int rc = pg_settings_read_password(&pg, e);
    if (rc == 0)
        rc = pg_conninfo(&pg, &conninfo, e);
    pg_settings_free(&pg);
    if (rc == 0)
        rc = db_pgsql_table_count(conninfo, &tables, e);
    if (rc == 0 && tables > 0)
        rc = err_set(e, OP_ECONFLICT,
                     "database \"%s\" on %s port %u is not empty (%lld tables): a restore goes "
                     "into an empty database; its administrator drops it and creates it again, "
                     "empty (dropdb %s; createdb -O %s %s)",
                     settings->dbname, settings->host, settings->port, (long long)tables,
                     settings->dbname, settings->user, settings->dbname);
    else if (rc != 0)
        err_prefix(e, "database \"%s\" on %s port %u", settings->dbname, settings->host,
                   settings->port);
    if (rc == 0) {
        char db_arg[PG_NAME_MAX + 16];
        snprintf(db_arg, sizeof db_arg, "--dbname=%s", settings->dbname);
        const char *args[] = {"--exit-on-error",
                              "--single-transaction",
                              "--no-owner",
                              "--no-privileges",
                              db_arg,
                              dump,
                              NULL};
        rc = pg_tool("pg_restore", settings, tmpl, args, e);
        *restored = rc == 0;
    }
    if (conninfo)
        pg_conninfo_free(conninfo);
    fs_remove_tree(tmpl);
    free(tmpl);
    return rc;
}

/* A refused restore into PostgreSQL: the tables it restored dropped again. */
static void unrestore_pgsql(const struct pg_settings *settings)
{
    struct pg_settings pg = *settings;
    pg.password = NULL;
    char *conninfo = NULL;
    struct op_err ignore = {0};
    if (pg_settings_read_password(&pg, &ignore) == 0 && pg_conninfo(&pg, &conninfo, &ignore) == 0)
        db_pgsql_drop_tables(conninfo, &ignore);
    pg_settings_free(&pg);
    if (conninfo)
        pg_conninfo_free(conninfo);
}

/* Everything of the archive, checked, into `dir`. */
static int restore_into(zip_t *za, const char *from, const char *dir, json_t *m,
                        struct app_restore_out *out, struct op_err *e)
{
    json_t *files = json_object_get(m, "files");
    const char *format = json_string_value(json_object_get(m, "format"));
    const char *role = json_string_value(json_object_get(m, "role"));
    const char *backend = json_string_value(json_object_get(m, "backend"));
    const char *dbname = json_string_value(json_object_get(m, "database"));
    if (!format || strcmp(format, BACKUP_FORMAT) != 0)
        return err_set(e, OP_EINPUT, "%s: not an archive of format \"%s\"", from, BACKUP_FORMAT);
    int pgsql = backend && strcmp(backend, "pgsql") == 0;
    if (!role || (strcmp(role, "central") != 0 && strcmp(role, "device") != 0) ||
        !json_is_array(files) || !backend || (strcmp(backend, "sqlite") != 0 && !pgsql) ||
        !dbname || (pgsql && strcmp(dbname, BACKUP_PG_DUMP) != 0) ||
        strcmp(dbname, INSTANCE_CONFIG_FILE) == 0 || strncmp(dbname, "keys/", 5) == 0 ||
        strncmp(dbname, "packages/", 9) == 0 || !name_is_safe(dbname, dbname))
        return err_set(e, OP_EINPUT,
                       "%s: its manifest lacks a role, the backend, the database or the files",
                       from);
    snprintf(out->role, sizeof out->role, "%s", role);
    const char *id = json_string_value(json_object_get(m, "instance_id"));
    const char *at = json_string_value(json_object_get(m, "created_at"));
    snprintf(out->instance_id, sizeof out->instance_id, "%s", id ? id : "");
    snprintf(out->created_at, sizeof out->created_at, "%s", at ? at : "");
    out->schema_version = (int)json_integer_value(json_object_get(m, "schema_version"));
    if (out->schema_version > db_latest_schema_version())
        return err_set(e, OP_ESTATE,
                       "%s: its database is at schema version %d, newer than this outpost (%d): "
                       "restore it with the outpost that made it, or a newer one",
                       from, out->schema_version, db_latest_schema_version());
    /* the manifest's entries by name: each once, safe, sized and hashed */
    json_t *want = json_object();
    size_t i;
    json_t *f;
    int rc = want ? 0 : oom(e);
    json_array_foreach(files, i, f)
    {
        if (rc != 0)
            break;
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *sha = json_string_value(json_object_get(f, "sha256"));
        json_t *size = json_object_get(f, "size");
        if (!name || !name_is_safe(name, dbname) || !sha || !sha256_hex_is_valid(sha) ||
            !json_is_integer(size) || json_integer_value(size) < 0)
            rc = err_set(e, OP_EINPUT,
                         "%s: manifest entry %zu (%s) is not a safe name with a "
                         "size and a SHA-256",
                         from, i + 1, name ? name : "no name");
        else if (json_object_get(want, name))
            rc = err_set(e, OP_EINPUT, "%s: the manifest names %s twice", from, name);
        else
            json_object_set(want, name, f);
    }
    if (rc == 0 && !json_object_get(want, INSTANCE_CONFIG_FILE))
        rc = err_set(e, OP_EINPUT, "%s: the backup holds no %s", from, INSTANCE_CONFIG_FILE);
    if (rc == 0 && !json_object_get(want, dbname))
        rc = err_set(e, OP_EINPUT, "%s: the backup holds no database", from);
    /* every entry of the archive is in the manifest, and every one of the manifest is there */
    zip_int64_t n = rc == 0 ? zip_get_num_entries(za, 0) : 0;
    for (zip_int64_t k = 0; rc == 0 && k < n; k++) {
        const char *name = zip_get_name(za, (zip_uint64_t)k, ZIP_FL_ENC_RAW);
        if (name && strcmp(name, BACKUP_MANIFEST) == 0)
            continue;
        if (!name || !json_object_get(want, name))
            rc = err_set(e, OP_EINPUT, "%s: it holds %s, which its manifest does not list", from,
                         name ? name : "an entry with no name");
    }
    if (rc == 0 && n - 1 != (zip_int64_t)json_object_size(want))
        rc = err_set(e, OP_EINPUT, "%s: its manifest lists %zu files but it holds %lld", from,
                     json_object_size(want), (long long)(n - 1));
    /* outpost.json first: it says where the database goes */
    char *dbpath = NULL;
    json_t *file = NULL;
    struct instance_settings settings;
    memset(&settings, 0, sizeof settings);
    const char *order[] = {INSTANCE_CONFIG_FILE, NULL};
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        for (zip_int64_t k = 0; rc == 0 && k < n; k++) {
            const char *name = zip_get_name(za, (zip_uint64_t)k, ZIP_FL_ENC_RAW);
            if (strcmp(name, BACKUP_MANIFEST) == 0)
                continue;
            int first = strcmp(name, order[0]) == 0;
            if ((pass == 0) != first)
                continue;
            json_t *w = json_object_get(want, name);
            char *path = fs_join(dir, name);
            int64_t size = json_integer_value(json_object_get(w, "size"));
            rc = path ? extract(za, (zip_uint64_t)k, name, path, size,
                                json_string_value(json_object_get(w, "sha256")), e)
                      : oom(e);
            free(path);
            out->files++;
            out->bytes += size;
        }
        if (rc == 0 && pass == 0)
            rc = restored_settings(dir, dbname, pgsql, &file, &settings, &dbpath, e);
    }
    json_decref(want);
    /* the database: whole, not newer than this binary (db_open refuses that and migrates an
     * older one), and every key its data names present */
    struct db *db = NULL;
    int restored = 0;
    if (rc == 0 && pgsql) {
        char *dump = fs_join(dir, BACKUP_PG_DUMP);
        rc = restore_pgsql(dir, dump, &settings.pg, &restored, e);
        unlink(dump); /* in the database now, or refused: not part of the instance */
        free(dump);
    } else if (rc == 0 && (rc = db_open(dbpath, 0, &db, e)) == 0)
        rc = db_check_integrity(db, e);
    if (db)
        db_close(db);
    free(dbpath);
    struct instance *inst = NULL;
    if (rc == 0)
        rc = instance_open(dir, &inst, e);
    if (rc == 0 && inst->role == ROLE_CENTRAL) {
        struct keycheck kc;
        memset(&kc, 0, sizeof kc);
        rc = keycheck_central(inst, &kc, e);
        if (rc == 0 && kc.master_file_missing)
            rc = err_set(e, OP_ESTATE,
                         "the backup holds no keys/master.key: a central's "
                         "backup must hold its keys (docs/operations.md)");
        else if (rc == 0 && (kc.nmasters > 0 || kc.nresults > 0))
            rc = keycheck_refuse(inst, &kc, e);
        keycheck_free(&kc);
    }
    instance_close(inst);
    if (rc != 0 && restored)
        unrestore_pgsql(&settings.pg);
    json_decref(file);
    return rc;
}

int app_restore(const char *from, const char *dir, struct app_restore_out *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int created = 0;
    if (fs_exists(dir)) {
        if (!fs_is_dir(dir) || !fs_dir_is_empty(dir))
            return err_set(e, OP_ECONFLICT,
                           "%s is not an empty folder: a restore goes into a new or empty data "
                           "folder (move the old one away first)",
                           dir);
    } else {
        if (mkdir(dir, 0700) != 0)
            return err_set(e, OP_EIO, "%s: cannot make it: %s", dir, strerror(errno));
        created = 1;
    }
    int zerr = 0;
    zip_t *za = zip_open(from, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    int rc = 0;
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        rc = err_set(e, OP_EINPUT, "%s: not a readable archive: %s", from, zip_error_strerror(&ze));
        zip_error_fini(&ze);
    }
    json_t *m = NULL;
    if (rc == 0)
        rc = read_manifest(za, from, &m, e);
    if (rc == 0)
        rc = restore_into(za, from, dir, m, out, e);
    json_decref(m);
    if (za)
        zip_discard(za);
    if (rc != 0) {
        if (created)
            fs_remove_tree(dir);
        else
            clear_dir(dir);
    }
    return rc;
}
