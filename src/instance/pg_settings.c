/*
 * pg_settings.c - the PostgreSQL connection settings' secret half (config.h): the password,
 * read from its file or from $PGPASSWORD into guarded memory, and the libpq connection string
 * that carries it. pg_settings_parse, which validates the rest, lives with the other setup
 * checks in config.c.
 *
 * Nothing here calls libpq: the string is built by libpq's documented quoting rule, and the
 * store backend that connects with it is the only file that will.
 */
#include "instance/config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"

#define PASSWORD_FILE_WHAT "database password file"

/* Copies `len` bytes of `src` into a new sodium_malloc'ed string (*out); 0 or OP_ENOMEM. */
static int secret_copy(const char *src, size_t len, char **out, struct op_err *e)
{
    char *p = sodium_malloc(len + 1);
    if (!p)
        return err_set(e, OP_ENOMEM, "out of memory");
    memcpy(p, src, len);
    p[len] = '\0';
    *out = p;
    return 0;
}

/* The password file: one line, its newline (and a carriage return before it) stripped.
 * Messages name the file, never its content. */
static int read_password_file(const char *path, char **out, struct op_err *e)
{
    char *text = NULL;
    size_t len = 0;
    /* room for the longest password and its "\r\n" */
    int rc = fs_read_secret(path, PG_PASSWORD_MAX + 2, FS_NOFOLLOW | FS_PRIVATE, PASSWORD_FILE_WHAT,
                            &text, &len, NULL, e);
    if (rc != 0)
        return err_prefix(e, "configuration.persistences.default.password-file");
    size_t n = strlen(text);
    if (n != len)
        rc = err_set(e, OP_EINPUT, "%s: %s holds a NUL byte; it must hold the password alone", path,
                     PASSWORD_FILE_WHAT);
    if (rc == 0 && n > 0 && text[n - 1] == '\n')
        n--;
    if (rc == 0 && n > 0 && text[n - 1] == '\r')
        n--;
    if (rc == 0 && memchr(text, '\n', n))
        rc = err_set(e, OP_EINPUT,
                     "%s: %s holds more than one line; it must hold the password alone, on one "
                     "line",
                     path, PASSWORD_FILE_WHAT);
    if (rc == 0 && n == 0)
        rc = err_set(e, OP_EINPUT, "%s: %s is empty; write the database password in it", path,
                     PASSWORD_FILE_WHAT);
    if (rc == 0 && n > PG_PASSWORD_MAX)
        rc = err_set(e, OP_EINPUT, "%s: the password in the %s is longer than %d bytes", path,
                     PASSWORD_FILE_WHAT, PG_PASSWORD_MAX);
    if (rc == 0)
        rc = secret_copy(text, n, out, e);
    fs_secret_free(text);
    return rc;
}

int pg_settings_read_password(struct pg_settings *s, struct op_err *e)
{
    pg_settings_free(s);
    if (s->password_file)
        return read_password_file(s->password_file, &s->password, e);
    const char *env = getenv("PGPASSWORD");
    if (!env || !env[0])
        return err_set(e, OP_ESTATE,
                       "configuration.persistences.default: no database password: name a file "
                       "that holds it (mode 600) in \"password-file\", or set the PGPASSWORD "
                       "environment variable");
    size_t n = strlen(env);
    if (n > PG_PASSWORD_MAX)
        return err_set(e, OP_EINPUT, "PGPASSWORD: the password is longer than %d bytes",
                       PG_PASSWORD_MAX);
    return secret_copy(env, n, &s->password, e);
}

void pg_settings_free(struct pg_settings *s)
{
    if (s->password)
        sodium_free(s->password); /* wipes before release */
    s->password = NULL;
}

/* Appends ` key='value'` to `dst` (at *pos), escaping ' and \ with a backslash: inside single
 * quotes libpq takes every other byte as it is, spaces and '=' included. `dst` has room
 * (pg_conninfo counts 2 bytes for every byte of a value). */
static void append_param(char *dst, size_t *pos, const char *key, const char *value)
{
    size_t p = *pos;
    if (p > 0)
        dst[p++] = ' ';
    size_t klen = strlen(key);
    memcpy(dst + p, key, klen);
    p += klen;
    dst[p++] = '=';
    dst[p++] = '\'';
    for (const char *v = value; *v; v++) {
        if (*v == '\'' || *v == '\\')
            dst[p++] = '\\';
        dst[p++] = *v;
    }
    dst[p++] = '\'';
    dst[p] = '\0';
    *pos = p;
}

int pg_conninfo(const struct pg_settings *s, char **out, struct op_err *e)
{
    *out = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", s->port);
    const char *keys[] = {"host", "port", "dbname", "user", "password"};
    const char *values[] = {s->host, port, s->dbname, s->user, s->password};
    size_t count = s->password ? 5 : 4;
    size_t cap = 1;
    for (size_t i = 0; i < count; i++) {
        if (!values[i])
            return err_set(e, OP_EINPUT, "PostgreSQL settings: no %s", keys[i]);
        cap += 1 + strlen(keys[i]) + 3 + 2 * strlen(values[i]);
    }
    char *p = sodium_malloc(cap);
    if (!p)
        return err_set(e, OP_ENOMEM, "out of memory");
    size_t pos = 0;
    p[0] = '\0';
    for (size_t i = 0; i < count; i++)
        append_param(p, &pos, keys[i], values[i]);
    *out = p;
    return 0;
}

void pg_conninfo_free(char *conninfo)
{
    if (conninfo)
        sodium_free(conninfo);
}
