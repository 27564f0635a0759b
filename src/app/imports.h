/*
 * imports.h - the CSV imports of a central server: users (import-users), test centers
 * (import-testcenters) and eligibilities (import-eligibilities), as the command line and the
 * HTTP server both run them.
 *
 * Every import reads the whole file and checks every row before it writes anything, then
 * writes in one transaction: all or nothing, or with skip_invalid the valid rows. The rules
 * of each kind of row live in src/import (users_import.h, testcenters_import.h,
 * eligibilities_import.h); this file checks the request, runs the passes and owns the
 * transaction. Nothing here prints: problems of rows are returned in the report, progress is
 * a callback.
 */
#ifndef OUTPOST_APP_IMPORTS_H
#define OUTPOST_APP_IMPORTS_H

#include <jansson.h>
#include <stddef.h>

#include "base/err.h"
#include "import/problems.h"
#include "import/users_import.h"
#include "instance/instance.h"

/* ---- test centers and eligibilities ---- */

/* What to import: the file `file`, or, when `data` is set, the `len` bytes of CSV text at
 * `data` (an upload), named `file` in messages. */
struct app_import_request {
    const char *file;
    const char *data;
    size_t len;
    int skip_invalid; /* import the valid rows even if some are invalid */
};

struct app_import_report {
    const char *file; /* borrowed from the request */
    int created;
    int updated;
    int unchanged;
    int skipped;                     /* invalid rows left out (skip_invalid) */
    int committed;                   /* 1 if the import's transaction was committed */
    struct import_problems problems; /* the bad rows: "line N: reason", in line order */
};

/* Imports test centers or eligibilities. Fills *r, which the caller frees with
 * app_import_report_free whatever the outcome. Returns 0 when the rows were written;
 * OP_EINPUT when rows had problems (listed in r->problems) and nothing was imported, or the
 * file as a whole is unusable (too big, not CSV, a missing column: *e says why); OP_ESTATE
 * on a device; another code when the database failed (nothing was written). */
int app_imports_testcenters(struct instance *inst, const struct app_import_request *req,
                            struct app_import_report *r, struct op_err *e);
int app_imports_eligibilities(struct instance *inst, const struct app_import_request *req,
                              struct app_import_report *r, struct op_err *e);
void app_import_report_free(struct app_import_report *r);

/* {"file", "imported", "created", "updated", "unchanged", "skipped", "problems": [{"line",
 * "message"}]}. */
json_t *app_import_report_json(const struct app_import_report *r);

/* ---- users ---- */

struct app_users_import_request {
    const char *file; /* the CSV file */
    const char *role; /* test-taker, proctor, test-center-admin or sync-manager */
    int skip_invalid;
    int workers; /* password hashing threads; 0: one per online CPU */
    /* Called while passwords are hashed, about ten times a second and once with done ==
     * total (users_import.h). May be NULL. */
    void (*progress)(void *ctx, int done, int total);
    void *progress_ctx;
};

/* Imports users with central's master key escrowing their vault keys. Fills *r (the caller
 * frees it with users_import_report_free whatever the outcome). Returns what
 * users_import_file returns (users_import.h), or OP_EINPUT for an unknown role, OP_ESTATE on
 * a device, or the error loading the master key. */
int app_imports_users(struct instance *inst, const struct app_users_import_request *req,
                      struct users_import_report *r, struct op_err *e);

/* {"created", "updated", "skipped", "invalid": [{"line", "message"}]}. */
json_t *app_users_import_json(const struct users_import_report *r);

#endif
