/*
 * compile.h - from an IMS QTI content package to a compiled delivery package, and back.
 *
 * qti_load reads a package (package.h), its assessmentTest (test.h) and every item the test
 * references (item.h, with shared stimuli pulled in from xi:include), and checks that every
 * file they need is in the archive. Every refusal names the archive, the file inside it and
 * the problem.
 *
 * qti_compile writes the delivery package (docs/delivery-package.md): one file, a simple
 * length-prefixed archive of sorted entries - manifest.json, test.json, one render model and
 * one scoring model per item in separate entries, and the assets - with no timestamps, so
 * the same QTI package always compiles to the same bytes and the same SHA-256.
 *
 * qti_delivery_open reads a compiled package back (bounded, every entry's hash checked) and
 * qti_delivery_load builds the test and the items from it, as a device does: it never parses
 * QTI XML.
 */
#ifndef OUTPOST_QTI_COMPILE_H
#define OUTPOST_QTI_COMPILE_H

#include <jansson.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "qti/item.h"
#include "qti/package.h"
#include "qti/test.h"

#define QTI_DELIVERY_MAGIC       "OUTPOST-DELIVERY\n"
#define QTI_DELIVERY_FORMAT      1
#define QTI_DELIVERY_MAX_ENTRIES 100000

/* A test with its items, from a QTI package or from a compiled delivery package. */
struct qti_loaded_item {
    char *href; /* archive path of the item file: the key item refs use */
    struct qti_item *item;
};

struct qti_loaded {
    char *name;              /* archive name, for messages */
    struct qti_package *pkg; /* NULL when loaded from a compiled package */
    int borrows_pkg;         /* pkg belongs to another loaded of the set (qti_load_all) */
    const struct qti_resource *resource; /* its test's resource in pkg's manifest, or NULL */
    struct qti_test *test;
    struct qti_loaded_item *items; /* sorted by href */
    size_t nitems;
    json_t *delivery_manifest; /* compiled package only: its manifest.json */
    /* From a QTI package: what the load changed rather than refused (links to pages the
     * package lacks, made inert), each "Pkg.zip: FILE line N: ...", test first, then items in
     * the order the test names them (an item several refs name, once). */
    struct qti_warnings warnings;
};

/* Loads and checks a QTI package file of one test (a package of several is refused, naming
 * them, unless qti_load_options.test names one). *out is the caller's (qti_loaded_free). */
int qti_load(const char *path, const struct qti_limits *limits, struct qti_loaded **out,
             struct op_err *e);
/* The same from a package already read (takes ownership of `pkg` even on failure). */
int qti_load_package(struct qti_package *pkg, struct qti_loaded **out, struct op_err *e);

/* Every problem of a package, one message each ("Pkg.zip: items/q1.xml line 8: ..."). */
struct qti_problems {
    char **v;
    size_t n;
};
void qti_problems_free(struct qti_problems *p);

/* What a caller of qti_load_with may ask besides the load. */
struct qti_load_options {
    /* Called as the items are checked: `done` of `total` item refs (a ref to an item already
     * read counts too). May be NULL. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *ctx;
    /* When set, a problem in one item does not stop the load: every item ref is checked and
     * every item's problem (its first one: a parser stops at its first fault) and every
     * missing asset is added here; the load still fails (OP_EINPUT, e->msg the first
     * problem) when any was found. A problem of the archive, the manifest or the test stops
     * at once (nothing else can be read), and is added here too. */
    struct qti_problems *problems;
    /* qti_load_with: the identifier of the test resource to load (imsmanifest.xml) when the
     * package holds several tests; NULL: the package must hold one. */
    const char *test;
};

/* qti_load with options (NULL: as qti_load). */
int qti_load_with(const char *path, const struct qti_limits *limits,
                  const struct qti_load_options *o, struct qti_loaded **out, struct op_err *e);
void qti_loaded_free(struct qti_loaded *l);

/* Every test of a package (several imsqti_test resources: one delivery each), sharing it. */
struct qti_loaded_set {
    struct qti_loaded **tests; /* in the manifest's order */
    size_t n;
};

/* Loads and checks every test of the package at `path` (o as for qti_load_with, but for
 * o->test: the progress counts the items of all tests, and problems are collected over all
 * of them): all or nothing. *out is the caller's (qti_loaded_set_free). */
int qti_load_all(const char *path, const struct qti_limits *limits,
                 const struct qti_load_options *o, struct qti_loaded_set *out, struct op_err *e);
/* The same from a package already read (takes ownership of `pkg` even on failure). */
int qti_load_all_package(struct qti_package *pkg, const struct qti_load_options *o,
                         struct qti_loaded_set *out, struct op_err *e);
void qti_loaded_set_free(struct qti_loaded_set *s);

/* The item an item ref points to (a qti_item_lookup for test_session.h; `ud` is the
 * struct qti_loaded). */
const struct qti_item *qti_loaded_lookup(void *ud, const struct qti_node *ref, struct op_err *e);

/* Compiles a test loaded from a QTI package into `out` (appended). */
int qti_compile(const struct qti_loaded *l, struct buf *out, struct op_err *e);

/* One entry of a compiled package, pointing into the caller's bytes. */
struct qti_delivery_entry {
    const char *name; /* NUL-terminated copy owned by the delivery */
    const unsigned char *data;
    size_t len;
};

struct qti_delivery {
    struct qti_delivery_entry *entries; /* sorted by name */
    size_t n;
    char *names; /* storage for the names */
};

/* Reads the entries of a compiled package (the bytes must outlive the delivery); checks the
 * magic, bounds, sorted unique names and, against manifest.json, every entry's SHA-256. */
int qti_delivery_open(const unsigned char *data, size_t len, struct qti_delivery *out,
                      struct op_err *e);
void qti_delivery_close(struct qti_delivery *d);
const struct qti_delivery_entry *qti_delivery_find(const struct qti_delivery *d, const char *name);

/* Builds the test and its items from a compiled package. *out is the caller's. */
int qti_delivery_load(const unsigned char *data, size_t len, struct qti_loaded **out,
                      struct op_err *e);

#endif
