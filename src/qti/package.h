/*
 * package.h - an IMS content package (a zip holding imsmanifest.xml, a QTI assessmentTest,
 * its items and their assets), read into memory with limits, and its manifest.
 *
 * A package is hostile input until proven otherwise. qti_package_open checks the archive
 * before decompressing anything: its size, the number of entries, the declared total size and
 * compression ratio (zip bombs), entry names (no "../", absolute paths, backslashes, NUL,
 * duplicates) and symbolic links; then it decompresses every file, never reading more than an
 * entry declared. Every refusal names the archive, the file inside it and the problem:
 * "Basic.zip: items/Q02/qti.xml line 14: malformed XML: ...".
 *
 * The manifest (IMS CP 1.1/1.2) lists resources: QTI tests (imsqti_test_xmlv2p1/p2, one or
 * more), items (imsqti_item_xmlv2p1/p2), web content and other files, with their files and
 * dependencies. Every file the manifest names must be in the archive; a QTI resource of another
 * version (2.0, 3.0) is refused.
 */
#ifndef OUTPOST_QTI_PACKAGE_H
#define OUTPOST_QTI_PACKAGE_H

#include <libxml/tree.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define QTI_DEFAULT_MAX_ARCHIVE_BYTES ((uint64_t)512 * 1024 * 1024)
#define QTI_DEFAULT_MAX_ENTRIES       20000
#define QTI_DEFAULT_MAX_TOTAL_BYTES   ((uint64_t)1024 * 1024 * 1024)
#define QTI_DEFAULT_MAX_RATIO         200
#define QTI_DEFAULT_MAX_XML_BYTES     ((size_t)16 * 1024 * 1024)

struct qti_limits {
    uint64_t max_archive_bytes; /* the zip file itself */
    uint64_t max_entries;       /* files and folders in the archive */
    uint64_t max_total_bytes;   /* sum of the uncompressed sizes */
    uint64_t max_ratio;         /* uncompressed / compressed, for entries over 1 MiB */
    size_t max_xml_bytes;       /* one XML document */
};

void qti_limits_default(struct qti_limits *l);

/* One file of the archive, decompressed. `path` is normalised ("a/b/c.xml", no "./"). */
struct qti_file {
    char *path;
    unsigned char *data; /* NUL-terminated for convenience; `len` excludes the NUL */
    size_t len;
};

enum qti_resource_kind {
    QTI_RES_TEST,    /* imsqti_test_xmlv2p1 / v2p2 */
    QTI_RES_ITEM,    /* imsqti_item_xmlv2p1 / v2p2 */
    QTI_RES_CONTENT, /* webcontent, shared stimuli, anything else that only lists files */
};

struct qti_resource {
    char *identifier;
    char *type;      /* as written */
    int qti_version; /* 21 or 22 for QTI resources, 0 otherwise */
    enum qti_resource_kind kind;
    char *href;   /* normalised archive path, or NULL */
    char **files; /* normalised archive paths */
    size_t nfiles;
    char **deps; /* identifierref of each dependency */
    size_t ndeps;
    int line; /* in imsmanifest.xml */
};

struct qti_manifest {
    char *identifier;
    struct qti_resource *res;
    size_t nres;
    const struct qti_resource *test; /* the first test resource */
    /* every test resource, in the manifest's order (a package may hold several tests: one
     * delivery each) */
    const struct qti_resource **tests;
    size_t ntests;
};

struct qti_package {
    char *name;             /* the archive's base name, first word of every message */
    struct qti_file *files; /* sorted by path */
    size_t nfiles;
    struct qti_manifest manifest;
};

/* Reads the zip at `path` (refused over limits->max_archive_bytes without reading it) and its
 * manifest. On success *out is a new package the caller frees with qti_package_free. */
int qti_package_open(const char *path, const struct qti_limits *limits, struct qti_package **out,
                     struct op_err *e);
/* The same from memory; `name` is what messages call the archive. The bytes are not kept. */
int qti_package_open_memory(const char *name, const void *data, size_t len,
                            const struct qti_limits *limits, struct qti_package **out,
                            struct op_err *e);
void qti_package_free(struct qti_package *p);

/* Builds a package from files already in memory (copied; paths normalised and checked as
 * archive entries are) and reads its manifest: for tests and fuzzing without a zip. */
int qti_package_from_files(const char *name, const struct qti_file *files, size_t n,
                           const struct qti_limits *limits, struct qti_package **out,
                           struct op_err *e);

/* The file at normalised `path`, or NULL. */
const struct qti_file *qti_package_find(const struct qti_package *p, const char *path);

/* The resource with `identifier`, or NULL. */
const struct qti_resource *qti_manifest_resource(const struct qti_manifest *m,
                                                 const char *identifier);

/* Parses an XML file of the package (the manifest) with qti_xml_read (item.h): UTF-8 or
 * UTF-16 only, no network, no DTD loading, no entity declarations, at most `max_bytes` and
 * QTI_MANIFEST_MAX_ELEMENTS elements. *doc is the caller's (xmlFreeDoc). A failure names the
 * package, the file and the line. */
#define QTI_MANIFEST_MAX_ELEMENTS 1000000
int qti_package_parse_xml(const struct qti_package *p, const struct qti_file *f, size_t max_bytes,
                          xmlDocPtr *doc, struct op_err *e);

/* Resolves `href`, written in the archive file `base` (e.g. a test), to a normalised archive
 * path into `out` (caller frees). Refuses absolute paths, URLs with a scheme, backslashes and
 * paths that climb out of the archive. A "#fragment" or "?query" is dropped. Percent escapes
 * are decoded before ".." is resolved ("%2e%2e" is ".."); an escaped '/', '\\' or NUL is
 * refused. */
int qti_path_resolve(const char *base, const char *href, char **out, struct op_err *e);

/* Normalises an archive entry name: removes "." components and empty components; refuses
 * "..", absolute names, backslashes and control characters. 0 on success, -1 if refused,
 * with `why` pointing at a static reason. *out is the caller's. */
int qti_path_normalise(const char *name, char **out, const char **why);

/* Small helpers shared by the QTI readers. */
/* The value of attribute `name` (no namespace) or NULL; the caller frees with xmlFree. */
char *qti_xml_attr(xmlNodePtr n, const char *name);
/* 1 if `n` is an element named `local` (any namespace). */
int qti_xml_local_is(xmlNodePtr n, const char *local);

#endif
