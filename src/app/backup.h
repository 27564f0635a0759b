/*
 * backup.h - `outpost backup` and `outpost restore`: one private archive of an instance (its
 * database, keys, setup file and packages), made while the service runs, and its restore into
 * an empty data folder (and, for a central on PostgreSQL, an empty database), checked before
 * anything is used (docs/operations.md, "Backups").
 *
 * The archive is a ZIP file (mode 0600, written in a private folder beside the target and
 * renamed into place, so a half-made archive never carries the target's name):
 *
 *   outpost-backup.json   the manifest: format, when, the instance's role and id, the
 *                         backend, the schema version, and every other entry with its size
 *                         and SHA-256
 *   outpost.json          the instance's setup file
 *   keys/...              every key file
 *   outpost.db           SQLite: one consistent snapshot (SQLite's online backup), under
 *                         the name outpost.json gives it, so that the archive unpacked is
 *                         the data folder
 *   outpost.pgdump       PostgreSQL: pg_dump's custom format (one snapshot, one
 *                         transaction), restored by pg_restore into the database outpost.json
 *                         names, which must be empty
 *   db-password          the database password a TAO setup file gave (instance.h), if any
 *   packages/...          the compiled and encrypted packages (content-addressed, never
 *                         changed once written; downloads under way are left out)
 *
 * A restore refuses, and leaves the folder as it found it, when: the folder is not empty;
 * the archive is not one (no manifest, another format); an entry is missing, extra, of
 * another size or SHA-256 than the manifest says, or named outside the folder; the database
 * fails SQLite's integrity check or was made by a newer Outpost (a higher schema version);
 * the PostgreSQL database holds tables, or pg_restore fails; a key that the data names (a
 * master key of users' escrow copies, a results key of stored results) is not among the
 * restored keys (a PostgreSQL database is then emptied again).
 */
#ifndef OUTPOST_APP_BACKUP_H
#define OUTPOST_APP_BACKUP_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "instance/instance.h"

#define BACKUP_FORMAT       "outpost backup v1"
#define BACKUP_MANIFEST     "outpost-backup.json"
#define BACKUP_MANIFEST_MAX (16u << 20)      /* bytes of manifest read at most */
#define BACKUP_FILES_MAX    1000000          /* entries at most */
#define BACKUP_PG_DUMP      "outpost.pgdump" /* a PostgreSQL central's dump in the archive */

struct app_backup_out {
    char *path;       /* the archive (malloc'ed) */
    int64_t files;    /* entries besides the manifest */
    int64_t bytes;    /* their bytes, uncompressed */
    int64_t packages; /* of which packages */
    int schema_version;
    char backend[16];
};

/* Writes the archive of `inst` to `to`, which must not exist. */
int app_backup(struct instance *inst, const char *to, struct app_backup_out *out, struct op_err *e);

struct app_restore_out {
    char role[16];
    char instance_id[64];
    int schema_version; /* of the archive's database */
    int64_t files, bytes;
    char created_at[32];
};

/* Restores the archive `from` into `dir` (absent, or an empty folder), checked as above. On
 * any refusal nothing of the archive is left in `dir`. */
int app_restore(const char *from, const char *dir, struct app_restore_out *out, struct op_err *e);

void app_backup_out_free(struct app_backup_out *o);
json_t *app_backup_json(const struct app_backup_out *o);
json_t *app_restore_json(const struct app_restore_out *o);

#endif
