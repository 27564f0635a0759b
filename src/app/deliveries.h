/*
 * deliveries.h - the application's deliveries: importing a QTI package as a new delivery,
 * listing, changing and withdrawing deliveries, and the public JSON form of a delivery. The
 * command line (import-qti, deliveries ...) and the HTTP server call these; each operation
 * checks its input, runs its own transaction on the instance's database and never prints.
 * Operations return 0 or a negative OP_E* code with *e filled.
 */
#ifndef OUTPOST_APP_DELIVERIES_H
#define OUTPOST_APP_DELIVERIES_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "instance/instance.h"
#include "store/deliveries.h"

/* The stable JSON form of a delivery: id, label, package_sha256 (null if none),
 * max_executions, proctored_default, version, created_at, updated_at, status ("published" or
 * "withdrawn"). New reference. */
json_t *app_delivery_json(const struct delivery *d);

/* deliveries show: delivery `id_or_label` as app_delivery_json gives it, with
 * "encrypted_package": its current encrypted copy (app_content_json) or null when it has none
 * (a device, or a delivery imported before encrypted packages: see app_content_ensure).
 * *out: a new reference. */
int app_deliveries_show(struct instance *inst, const char *id_or_label, json_t **out,
                        struct op_err *e);

/* The delivery that an option or a field (--delivery, `delivery`) names by its id or its
 * label: its id into `id` and, when `label` is not NULL, its label into *label (the caller
 * frees it). Refusals, each with the field "delivery": a name no delivery has, OP_ENOTFOUND
 * "no delivery "X" (give its id or label: outpost deliveries list)", never read as "no
 * results"; a label several deliveries share, OP_EINPUT naming their ids. With
 * APP_DELIVERY_DELETED_OK, an id (a UUID) that no delivery has any more is taken as it is,
 * *label NULL: a delivery deleted since, whose results central keeps. Read in the caller's
 * transaction or outside one. */
#define APP_DELIVERY_DELETED_OK 1u
int app_deliveries_resolve(struct db *db, const char *id_or_label, unsigned flags,
                           char id[UUID_STR_LEN], char **label, struct op_err *e);

/* The phases of an import, in order, as its progress names them. */
#define APP_IMPORT_READING    "reading"    /* the archive is opened and checked */
#define APP_IMPORT_CHECKING   "checking"   /* the test's items, one by one (done, total) */
#define APP_IMPORT_COMPILING  "compiling"  /* the compiled package is written and stored */
#define APP_IMPORT_ENCRYPTING "encrypting" /* its encrypted copy for devices */
#define APP_IMPORT_RECORDING  "recording"  /* the delivery's transaction */

struct app_deliveries_import_in {
    const char *file;       /* the QTI content package (zip) */
    const char *label;      /* NULL: the test's title */
    int proctored_default;  /* 0 or 1: eligibilities created later default to proctored */
    int64_t max_executions; /* executions per test taker; 0: unlimited */
    /* 1: the package (of one test) becomes the next version of the delivery its label names
     * (deliveries update -f's way) instead of a new delivery; proctored_default and
     * max_executions may then be -1, unchanged. */
    int new_version;
};

/* What a caller watching an import (the backoffice's upload) may ask for besides it. */
struct app_import_watch {
    /* Called at each phase (done and total count items while checking, else 0); may be
     * NULL. */
    void (*progress)(void *ctx, const char *phase, size_t done, size_t total);
    void *ctx;
    /* A JSON array (or NULL) that receives, when the package is refused, every problem found
     * (every item is checked, not only up to the first bad one: qti_load_with) as
     * {"file": path in the archive or null, "line": number or null, "message": the whole
     * message}; e->msg is then the first. */
    json_t *problems;
    /* The name messages give the package (the uploaded file's name); NULL: the file's. */
    const char *archive_name;
    /* A JSON object (or NULL) that receives, when the package is refused because a delivery
     * has one of its labels already (remedy OP_REMEDY_LABEL_TAKEN), what a front end needs to
     * offer the two ways on: "labels": [{"label", "delivery": the id of the delivery that has
     * it, or null when several have}], and "new_version": true when the package has one test
     * (it can become the next version of that delivery), false otherwise. */
    json_t *taken;
};

/* One problem message of a package ("Pkg.zip: items/q1.xml line 8: ...") as the
 * {"file", "line", "message"} of app_deliveries_import_in.problems; `archive` is the name
 * the messages start with. A new reference. */
json_t *app_qti_problem_json(const char *archive, const char *message);

/* What an import made: one delivery per test of the package, in the manifest's order. */
struct app_import_result {
    struct delivery *deliveries;
    size_t n;
    /* What the import changed rather than refused (a link to a page the package lacks, made
     * inert), as [{"file", "line", "message"}] (app_qti_problem_json), in the order found. */
    json_t *warnings;
    int new_version; /* the import gave deliveries[0] a new version (in->new_version) */
    int changed;     /* with new_version: 0 when the delivery had this package and these
                      * settings already, and nothing was written */
};
void app_import_result_clear(struct app_import_result *r);

/* import-qti, on a central: reads, checks and compiles every test of the package (at most
 * configuration.limits.qti-package-max-bytes) before anything is written, stores each compiled
 * package by its SHA-256 (idempotent) and its encrypted copy under a fresh content key
 * (app/content.h), then creates one delivery per test and records the copies in one
 * transaction: all or none. A bad package, or a bad test among several, creates nothing (an
 * encrypted file left by a failed transaction is swept later). Labels: `in->label`, else the
 * test's title; with several tests, `in->label` followed by " (N)", N the test's position in
 * the manifest from 1, and a title two tests of the package share followed by " (N)" too.
 * A label a delivery has already is refused (OP_ECONFLICT, remedy OP_REMEDY_LABEL_TAKEN,
 * naming the label and the delivery) before anything is written: two deliveries of one label
 * would make every command that names it ambiguous. With in->new_version, the package (of
 * one test) goes to the delivery its label names instead, as app_deliveries_update with a
 * file does (OP_ENOTFOUND when no delivery has that label).
 * `w` (may be NULL) watches it. *out gets the stored deliveries and the warnings (caller
 * clears with app_import_result_clear). */
int app_deliveries_import_all(struct instance *inst, const struct app_deliveries_import_in *in,
                              const struct app_import_watch *w, struct app_import_result *out,
                              struct op_err *e);
/* The same, giving only the first delivery made (a package of one test makes one); *out is
 * the caller's (delivery_clear). */
int app_deliveries_import(struct instance *inst, const struct app_deliveries_import_in *in,
                          struct delivery *out, struct op_err *e);
/* The same, watched: progress and every problem (`w` may be NULL). */
int app_deliveries_import_watched(struct instance *inst, const struct app_deliveries_import_in *in,
                                  const struct app_import_watch *w, struct delivery *out,
                                  struct op_err *e);

/* Calls fn for each delivery, ordered by label then id (store/deliveries.h); a non-zero
 * return stops and is returned. No statement is open during the call, so fn may use the
 * database. */
typedef int (*app_delivery_fn)(const struct delivery *d, void *ctx);
int app_deliveries_list(struct instance *inst, app_delivery_fn fn, void *ctx, struct op_err *e);

struct app_deliveries_update_in {
    const char *delivery;   /* an id or a label */
    const char *label;      /* NULL: unchanged */
    int proctored_default;  /* -1: unchanged, else 0 or 1 */
    int64_t max_executions; /* -1: unchanged, else 0 (unlimited) or more */
    int64_t version;        /* the version the caller read (OP_ECONFLICT if it changed
                             * meanwhile); 0: whatever is current */
    const char *file;       /* a new QTI package (zip) for the test; NULL: unchanged */
};

/* deliveries update, on a central: changes what `in` sets, in one transaction. Nothing to
 * change is OP_EINPUT; a label another delivery has is OP_ECONFLICT; values equal to the stored
 * ones write nothing (the version stays). A package of several tests is refused (a delivery has one
 * test). A new package (`file`) is compiled, stored and encrypted (app/content.h) before the
 * transaction; when it differs from the current one, the new version records its encrypted
 * copy under a new content key, and older versions keep theirs.
 * *out gets the delivery as it now is (caller clears); *changed (may be NULL) is 0 when the
 * values given were those stored already and nothing was written. */
int app_deliveries_update(struct instance *inst, const struct app_deliveries_update_in *in,
                          struct delivery *out, int *changed, struct op_err *e);
/* The same; `warnings` (a JSON array, may be NULL) receives what loading the new package
 * changed rather than refused, as app_import_result.warnings. */
int app_deliveries_update_warned(struct instance *inst, const struct app_deliveries_update_in *in,
                                 json_t *warnings, struct delivery *out, int *changed,
                                 struct op_err *e);

/* deliveries delete, on a central: withdraws the delivery `id_or_label` with its
 * eligibilities (devices delete them at their next sync); results and the package file are
 * kept; the rows of its encrypted packages go with it (app_content_sweep removes the files). *out
 * gets the delivery as it was (caller clears). */
int app_deliveries_delete(struct instance *inst, const char *id_or_label, struct delivery *out,
                          struct op_err *e);

/* deliveries publish / withdraw, on a central: sets the status of `id_or_label`
 * (DELIVERY_PUBLISHED or DELIVERY_WITHDRAWN; store/deliveries.h says what each means for
 * devices), read by the caller at `version` (0: whatever is current; OP_ECONFLICT if it
 * changed since). A status it already has changes nothing (*changed = 0, may be NULL). *out
 * gets the delivery as it now is (caller clears). */
int app_deliveries_set_status(struct instance *inst, const char *id_or_label, int64_t version,
                              const char *status, struct delivery *out, int *changed,
                              struct op_err *e);

/* The package history of `id_or_label`, on a central: a new reference
 * {"delivery": <app_delivery_json>, "versions": [{"version", "package_sha256", "enc_sha256",
 * "enc_size", "created_at", "current"}]}, oldest first: one entry per delivery version at
 * which the test's package changed (the import is version 1); "current" marks the one devices
 * get now. Keys are never shown. */
int app_deliveries_versions(struct instance *inst, const char *id_or_label, json_t **out,
                            struct op_err *e);

#endif
