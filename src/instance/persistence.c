/*
 * persistence.c - the instance's store setting changed (see persistence.h): the only writer
 * of an existing outpost.json. The switch is one rename(2), so a crash leaves either the old
 * file or the new one, and the old one is kept (with link(2), never over another file) so
 * that going back is one `mv`.
 */
#include "instance/persistence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"

int persistence_load_pgsql(const char *path, json_t **def, struct pg_settings *pg, struct op_err *e)
{
    *def = NULL;
    memset(pg, 0, sizeof *pg);
    char *text = NULL;
    size_t len = 0;
    if (fs_read_file(path, PERSISTENCE_FILE_MAX, &text, &len, e) != 0)
        return e->code;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root)
        return err_set(e, OP_EINPUT, "%s line %d column %d: malformed JSON: %s", path, jerr.line,
                       jerr.column, jerr.text);
    const char *driver = json_string_value(json_object_get(root, "driver"));
    int rc = 0;
    if (!json_is_object(root))
        rc = err_set(e, OP_EINPUT,
                     "%s: must be one object, like setup.json's persistences.default: "
                     "{\"driver\": \"pgsql\", \"host\": ..., \"dbname\": ..., \"user\": ...}",
                     path);
    else if (!driver || strcmp(driver, "pgsql") != 0)
        rc = err_set(e, OP_EINPUT, "%s: driver: must be \"pgsql\" (the store moves to PostgreSQL)",
                     path);
    else if ((rc = pg_settings_parse(root, pg, e)) != 0)
        err_prefix(e, "%s", path);
    if (rc != 0) {
        json_decref(root);
        memset(pg, 0, sizeof *pg);
        return rc;
    }
    json_object_set_new(root, "port", json_integer((json_int_t)pg->port));
    *def = root;
    return 0;
}

char *persistence_sqlite_path(const struct instance *inst)
{
    const char *p = inst->settings.db_path;
    if (inst->settings.driver != DB_DRIVER_SQLITE || !p)
        return NULL;
    if (p[0] == '/') {
        char *copy = strdup(p);
        if (!copy)
            abort();
        return copy;
    }
    return fs_join(inst->dir, p);
}

/* Writes `data` to the first free name of DIR/outpost.json.sqlite, .sqlite.2, ...; *kept. */
static int keep_old(const struct instance *inst, const char *data, size_t len, char **kept,
                    struct op_err *e)
{
    for (int i = 1; i < 100; i++) {
        char name[64];
        if (i == 1)
            snprintf(name, sizeof name, "%s.sqlite", INSTANCE_CONFIG_FILE);
        else
            snprintf(name, sizeof name, "%s.sqlite.%d", INSTANCE_CONFIG_FILE, i);
        char *path = fs_join(inst->dir, name);
        int created = 0;
        if (fs_write_new(path, data, len, 0600, &created, e) != 0) {
            free(path);
            return e->code;
        }
        if (created) {
            *kept = path;
            return 0;
        }
        free(path);
    }
    return err_set(e, OP_ESTATE, "%s: 99 copies of %s.sqlite are kept already; move them away",
                   inst->dir, INSTANCE_CONFIG_FILE);
}

int persistence_switch(const struct instance *inst, json_t *def, char **kept, struct op_err *e)
{
    *kept = NULL;
    char *cfg = fs_join(inst->dir, INSTANCE_CONFIG_FILE);
    char *old = NULL;
    size_t old_len = 0;
    int rc = fs_read_file(cfg, CONFIG_MAX_BYTES, &old, &old_len, e);
    json_t *file = rc == 0 ? json_deep_copy(inst->file) : NULL;
    json_t *pers = json_object_get(json_object_get(file, "configuration"), "persistences");
    if (rc == 0 && !json_is_object(pers))
        rc = err_set(e, OP_ESTATE, "%s: no configuration.persistences", cfg);
    if (rc == 0)
        rc = keep_old(inst, old, old_len, kept, e);
    if (rc == 0) {
        json_object_set_new(pers, "default", json_deep_copy(def));
        char *text = json_dumps(file, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!text)
            abort();
        rc = fs_write_atomic(cfg, text, strlen(text), 0600, e);
        free(text);
    }
    json_decref(file);
    free(old);
    free(cfg);
    return rc;
}
