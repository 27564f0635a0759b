/*
 * package.c - reading an IMS content package with limits (see package.h).
 *
 * The archive is checked in three passes, cheapest first: the raw central directory (entry
 * names as bytes, so a NUL hidden in a name is seen), libzip's view of every entry (sizes,
 * ratio, symlinks, duplicates), then decompression with a hard cap per entry and in total.
 * Only then is imsmanifest.xml read.
 */
#include "qti/package.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "base/buf.h"
#include "qti/item.h"
#include "qti/qti_alloc.h"

void qti_limits_default(struct qti_limits *l)
{
    l->max_archive_bytes = QTI_DEFAULT_MAX_ARCHIVE_BYTES;
    l->max_entries = QTI_DEFAULT_MAX_ENTRIES;
    l->max_total_bytes = QTI_DEFAULT_MAX_TOTAL_BYTES;
    l->max_ratio = QTI_DEFAULT_MAX_RATIO;
    l->max_xml_bytes = QTI_DEFAULT_MAX_XML_BYTES;
}

/* ---- paths ---- */

int qti_path_normalise(const char *name, char **out, const char **why)
{
    *out = NULL;
    if (!name[0]) {
        *why = "empty name";
        return -1;
    }
    if (name[0] == '/') {
        *why = "absolute path";
        return -1;
    }
    if (((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')) &&
        name[1] == ':') {
        *why = "absolute path (drive letter)";
        return -1;
    }
    for (const char *p = name; *p; p++) {
        if (*p == '\\') {
            *why = "backslash in path";
            return -1;
        }
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *why = "control character in path";
            return -1;
        }
    }
    struct buf b = BUF_INIT;
    const char *p = name;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            buf_free(&b);
            *why = "path climbs out of the archive (\"..\")";
            return -1;
        }
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (b.len)
                buf_puts(&b, "/");
            buf_append(&b, p, n);
        }
        p += n;
        if (*p == '/')
            p++;
    }
    if (!b.len) {
        buf_free(&b);
        *why = "empty name";
        return -1;
    }
    *out = buf_detach(&b);
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int qti_path_resolve(const char *base, const char *href, char **out, struct op_err *e)
{
    *out = NULL;
    if (!href || !href[0])
        return err_set(e, OP_EINPUT, "empty href");
    /* A scheme ("http:", "file:", "data:") is not a file of the package. */
    for (const char *p = href; *p && *p != '/'; p++) {
        if (*p == ':')
            return err_set(e, OP_EINPUT, "href \"%s\" is not a path inside the package", href);
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '+' || *p == '-' || *p == '.'))
            break;
    }
    if (href[0] == '/' || strchr(href, '\\'))
        return err_set(e, OP_EINPUT, "href \"%s\" is not a relative path inside the package", href);
    /* Percent-decode first ("my%20image.png" names "my image.png"), then resolve: "%2e%2e" is
     * "..", and must climb (or be refused) exactly as ".." does. An escaped separator or NUL
     * is refused rather than decoded into one. The query and fragment go first. */
    size_t hl = strcspn(href, "?#");
    struct buf joined = BUF_INIT;
    const char *slash = base ? strrchr(base, '/') : NULL;
    if (slash)
        buf_append(&joined, base, (size_t)(slash - base) + 1);
    for (size_t i = 0; i < hl; i++) {
        char c = href[i];
        int hi, lo;
        if (c == '%' && (hi = hex_digit(href[i + 1])) >= 0 && (lo = hex_digit(href[i + 2])) >= 0) {
            c = (char)(hi * 16 + lo);
            i += 2;
            if (c == 0 || c == '/' || c == '\\') {
                buf_free(&joined);
                return err_set(e, OP_EINPUT, "href \"%s\" encodes a forbidden character", href);
            }
        }
        buf_append(&joined, &c, 1);
    }
    /* Resolve ".." against the components before it; one too many escapes the archive. */
    char **parts = NULL;
    size_t np = 0;
    char *s = joined.data ? joined.data : (char *)"";
    char *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(s, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0)
            continue;
        if (strcmp(t, "..") == 0) {
            if (np == 0) {
                rc = err_set(e, OP_EINPUT, "href \"%s\" climbs out of the package", href);
                break;
            }
            np--;
            continue;
        }
        parts = qti_xrealloc(parts, np + 1, sizeof *parts);
        parts[np++] = t;
    }
    if (rc == 0 && np == 0)
        rc = err_set(e, OP_EINPUT, "href \"%s\" names no file", href);
    if (rc == 0) {
        struct buf b = BUF_INIT;
        for (size_t i = 0; i < np; i++) {
            if (i)
                buf_puts(&b, "/");
            buf_puts(&b, parts[i]);
        }
        *out = buf_detach(&b);
    }
    free(parts);
    buf_free(&joined);
    return rc;
}

/* ---- the raw central directory ---- */

static uint32_t rd16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const unsigned char *p)
{
    return rd16(p) | rd16(p + 2) << 16;
}

/* Looks at entry names as stored, before libzip turns them into C strings: a NUL inside a
 * name would otherwise cut it short silently. Structural problems are left to libzip. */
static int check_raw_names(const char *name, const unsigned char *d, size_t len, struct op_err *e)
{
    if (len < 22)
        return 0;
    size_t min = len > 22 + 65535 ? len - 22 - 65535 : 0;
    for (size_t i = len - 22 + 1; i-- > min;) {
        if (rd32(d + i) != 0x06054b50)
            continue;
        uint32_t count = rd16(d + i + 10);
        uint32_t off = rd32(d + i + 16);
        if (off == 0xffffffffu || count == 0xffffu)
            return 0; /* zip64: libzip checks it */
        size_t pos = off;
        for (uint32_t k = 0; k < count; k++) {
            if (pos > len || len - pos < 46 || rd32(d + pos) != 0x02014b50)
                return 0;
            size_t nl = rd16(d + pos + 28), xl = rd16(d + pos + 30), cl = rd16(d + pos + 32);
            if (len - pos - 46 < nl)
                return 0;
            if (memchr(d + pos + 46, 0, nl))
                return err_set(e, OP_EINPUT, "%s: entry %u has a NUL character in its name", name,
                               k + 1);
            pos += 46 + nl + xl + cl;
        }
        return 0;
    }
    return 0;
}

/* ---- reading the archive ---- */

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct qti_file *)a)->path, ((const struct qti_file *)b)->path);
}

void qti_package_free(struct qti_package *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nfiles; i++) {
        free(p->files[i].path);
        free(p->files[i].data);
    }
    free(p->files);
    struct qti_manifest *m = &p->manifest;
    for (size_t i = 0; i < m->nres; i++) {
        struct qti_resource *r = &m->res[i];
        free(r->identifier);
        free(r->type);
        free(r->href);
        for (size_t k = 0; k < r->nfiles; k++)
            free(r->files[k]);
        free(r->files);
        for (size_t k = 0; k < r->ndeps; k++)
            free(r->deps[k]);
        free(r->deps);
    }
    free(m->res);
    free(m->tests);
    free(m->identifier);
    free(p->name);
    free(p);
}

const struct qti_file *qti_package_find(const struct qti_package *p, const char *path)
{
    struct qti_file key = {(char *)path, NULL, 0};
    if (!p->nfiles)
        return NULL;
    return bsearch(&key, p->files, p->nfiles, sizeof *p->files, cmp_file);
}

static int zip_fail(const char *name, zip_error_t *ze, struct op_err *e)
{
    int code = zip_error_code_zip(ze);
    const char *what = zip_error_strerror(ze);
    if (code == ZIP_ER_NOZIP || code == ZIP_ER_INCONS || code == ZIP_ER_CRC)
        return err_set(e, OP_EINPUT, "%s: not a valid zip archive (%s)", name, what);
    return err_set(e, OP_EINPUT, "%s: cannot read the zip archive (%s)", name, what);
}

/* Checks what the central directory declares for every entry, before decompressing. */
static int check_entries(const char *name, zip_t *za, const struct qti_limits *lim,
                         size_t archive_len, struct qti_package *p, struct op_err *e)
{
    zip_int64_t n = zip_get_num_entries(za, 0);
    if (n < 0)
        return err_set(e, OP_EINPUT, "%s: cannot list the archive", name);
    if ((uint64_t)n > lim->max_entries)
        return err_set(e, OP_EINPUT, "%s: %lld entries, over the limit of %llu", name, (long long)n,
                       (unsigned long long)lim->max_entries);
    uint64_t total = 0;
    p->files = qti_xrealloc(NULL, (size_t)(n ? n : 1), sizeof *p->files);
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        if (zip_stat_index(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW, &st) != 0 ||
            !(st.valid & ZIP_STAT_NAME) || !(st.valid & ZIP_STAT_SIZE) ||
            !(st.valid & ZIP_STAT_COMP_SIZE))
            return err_set(e, OP_EINPUT, "%s: entry %lld cannot be read", name, (long long)i + 1);
        const char *en = st.name;
        size_t enl = strlen(en);
        zip_uint8_t opsys;
        zip_uint32_t attr;
        if (zip_file_get_external_attributes(za, (zip_uint64_t)i, 0, &opsys, &attr) == 0 &&
            opsys == ZIP_OPSYS_UNIX && S_ISLNK((attr >> 16) & 0xffff))
            return err_set(e, OP_EINPUT, "%s: %s: symbolic links are not allowed in a package",
                           name, en);
        char *norm;
        const char *why;
        if (qti_path_normalise(en, &norm, &why) != 0)
            return err_set(e, OP_EINPUT, "%s: %s: unsafe entry name: %s", name, en, why);
        if (enl && en[enl - 1] == '/') { /* a folder: nothing to read */
            free(norm);
            continue;
        }
        if (st.size > lim->max_total_bytes - total) {
            free(norm);
            return err_set(e, OP_EINPUT,
                           "%s: %s: the archive expands to more than %llu bytes (zip bomb?)", name,
                           en, (unsigned long long)lim->max_total_bytes);
        }
        total += st.size;
        if (st.size > 1024 * 1024 &&
            (st.comp_size == 0 || st.size / st.comp_size > lim->max_ratio)) {
            free(norm);
            return err_set(e, OP_EINPUT, "%s: %s: compression ratio over %llu:1 (zip bomb?)", name,
                           en, (unsigned long long)lim->max_ratio);
        }
        if (st.comp_size > archive_len) {
            free(norm);
            return err_set(e, OP_EINPUT, "%s: %s: declares more data than the archive holds", name,
                           en);
        }
        struct qti_file *f = &p->files[p->nfiles++];
        f->path = norm;
        f->data = NULL;
        f->len = (size_t)st.size;
        /* index in the archive kept in the data pointer's place until extraction */
        f->data = (unsigned char *)(uintptr_t)(i + 1);
    }
    qsort(p->files, p->nfiles, sizeof *p->files, cmp_file);
    for (size_t i = 1; i < p->nfiles; i++)
        if (strcmp(p->files[i - 1].path, p->files[i].path) == 0) {
            for (size_t k = 0; k < p->nfiles; k++)
                p->files[k].data = NULL;
            return err_set(e, OP_EINPUT, "%s: %s: the archive holds this file twice", name,
                           p->files[i].path);
        }
    return 0;
}

/* Decompresses every file, never reading more than it declared. */
static int extract_entries(const char *name, zip_t *za, struct qti_package *p, struct op_err *e)
{
    int rc = 0;
    size_t i;
    for (i = 0; i < p->nfiles; i++) {
        struct qti_file *f = &p->files[i];
        zip_uint64_t idx = (zip_uint64_t)(uintptr_t)f->data - 1;
        f->data = NULL;
        if (rc)
            continue;
        unsigned char *data = qti_xmalloc(f->len + 1, 1);
        zip_file_t *zf = zip_fopen_index(za, idx, 0);
        if (!zf) {
            free(data);
            rc = err_set(e, OP_EINPUT, "%s: %s: cannot be decompressed (%s)", name, f->path,
                         zip_strerror(za));
            continue;
        }
        size_t got = 0;
        for (;;) {
            unsigned char extra;
            zip_int64_t r =
                got < f->len ? zip_fread(zf, data + got, f->len - got) : zip_fread(zf, &extra, 1);
            if (r < 0) {
                rc = err_set(e, OP_EINPUT, "%s: %s: corrupt data (%s)", name, f->path,
                             zip_file_strerror(zf));
                break;
            }
            if (r == 0)
                break;
            if (got >= f->len) {
                rc = err_set(e, OP_EINPUT, "%s: %s: holds more data than it declares (zip bomb?)",
                             name, f->path);
                break;
            }
            got += (size_t)r;
        }
        zip_fclose(zf);
        if (rc == 0 && got != f->len)
            rc = err_set(e, OP_EINPUT, "%s: %s: truncated data", name, f->path);
        if (rc) {
            free(data);
            continue;
        }
        data[got] = 0;
        f->data = data;
    }
    return rc;
}

static int parse_manifest(struct qti_package *p, const struct qti_limits *lim, struct op_err *e);

int qti_package_open_memory(const char *name, const void *data, size_t len,
                            const struct qti_limits *limits, struct qti_package **out,
                            struct op_err *e)
{
    *out = NULL;
    struct qti_limits def;
    if (!limits) {
        qti_limits_default(&def);
        limits = &def;
    }
    if ((uint64_t)len > limits->max_archive_bytes)
        return err_set(e, OP_EINPUT, "%s: %zu bytes, over the limit of %llu bytes for a package",
                       name, len, (unsigned long long)limits->max_archive_bytes);
    if (check_raw_names(name, data, len, e))
        return OP_EINPUT;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    if (!src) {
        int rc = zip_fail(name, &ze, e);
        zip_error_fini(&ze);
        return rc;
    }
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    if (!za) {
        zip_source_free(src);
        int rc = zip_fail(name, &ze, e);
        zip_error_fini(&ze);
        return rc;
    }
    zip_error_fini(&ze);
    struct qti_package *p = qti_xcalloc(1, sizeof *p);
    p->name = qti_xstrdup(name);
    int rc = check_entries(name, za, limits, len, p, e);
    if (rc == 0)
        rc = extract_entries(name, za, p, e);
    else
        for (size_t i = 0; i < p->nfiles; i++)
            p->files[i].data = NULL;
    zip_discard(za);
    if (rc == 0)
        rc = parse_manifest(p, limits, e);
    if (rc) {
        qti_package_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int qti_package_from_files(const char *name, const struct qti_file *files, size_t n,
                           const struct qti_limits *limits, struct qti_package **out,
                           struct op_err *e)
{
    *out = NULL;
    struct qti_limits def;
    if (!limits) {
        qti_limits_default(&def);
        limits = &def;
    }
    struct qti_package *p = qti_xcalloc(1, sizeof *p);
    p->name = qti_xstrdup(name);
    p->files = qti_xrealloc(NULL, n ? n : 1, sizeof *p->files);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *why;
        char *norm;
        if (qti_path_normalise(files[i].path, &norm, &why) != 0) {
            rc = err_set(e, OP_EINPUT, "%s: %s: unsafe entry name: %s", name, files[i].path, why);
            break;
        }
        struct qti_file *f = &p->files[p->nfiles++];
        f->path = norm;
        f->len = files[i].len;
        f->data = qti_xmalloc(files[i].len + 1, 1);
        memcpy(f->data, files[i].data, files[i].len);
        f->data[f->len] = 0;
    }
    if (rc == 0) {
        qsort(p->files, p->nfiles, sizeof *p->files, cmp_file);
        for (size_t i = 1; rc == 0 && i < p->nfiles; i++)
            if (strcmp(p->files[i - 1].path, p->files[i].path) == 0)
                rc = err_set(e, OP_EINPUT, "%s: %s: the archive holds this file twice", name,
                             p->files[i].path);
    }
    if (rc == 0)
        rc = parse_manifest(p, limits, e);
    if (rc) {
        qti_package_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int qti_package_open(const char *path, const struct qti_limits *limits, struct qti_package **out,
                     struct op_err *e)
{
    *out = NULL;
    struct qti_limits def;
    if (!limits) {
        qti_limits_default(&def);
        limits = &def;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    struct stat st;
    if (stat(path, &st) != 0)
        return err_set(e, OP_EIO, "%s: cannot read the package (%s)", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return err_set(e, OP_EINPUT, "%s: not a file", path);
    if ((uint64_t)st.st_size > limits->max_archive_bytes)
        return err_set_remedy(e, OP_EINPUT, OP_REMEDY_QTI_LIMIT,
                              "%s: %lld bytes, over the limit of %llu bytes for a package", base,
                              (long long)st.st_size, (unsigned long long)limits->max_archive_bytes);
    /* Mapped, not read: the archive's bytes stay in the page cache and only what is looked
     * at (the central directory, the entries extracted) is read, so a package of hundreds of
     * MB costs no heap of its size (an upload from the backoffice: app/import_jobs.h). */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, OP_EIO, "%s: cannot open the package (%s)", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > limits->max_archive_bytes) { /* replaced since the stat above */
        close(fd);
        return err_set(e, OP_EINPUT, "%s: the package changed while it was read", base);
    }
    size_t len = (size_t)st.st_size;
    if (len == 0) {
        close(fd);
        return qti_package_open_memory(base, "", 0, limits, out, e);
    }
    void *data = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (data == MAP_FAILED)
        return err_set(e, OP_EIO, "%s: cannot read the package (%s)", path, strerror(errno));
    int rc = qti_package_open_memory(base, data, len, limits, out, e);
    munmap(data, len);
    return rc;
}

/* ---- XML ---- */

int qti_package_parse_xml(const struct qti_package *p, const struct qti_file *f, size_t max_bytes,
                          xmlDocPtr *doc, struct op_err *e)
{
    /* The reader of items and tests, with room for a large manifest: 20,000 entries, each a
     * resource with its files, dependencies and metadata. */
    struct qti_xml_limits lim;
    qti_xml_limits_default(&lim);
    lim.max_bytes = max_bytes ? max_bytes : INT32_MAX;
    lim.max_nodes = QTI_MANIFEST_MAX_ELEMENTS;
    if (qti_xml_read(f->path, (const char *)f->data, f->len, &lim, doc, e) != 0)
        return err_prefix(e, "%s", p->name);
    return 0;
}

char *qti_xml_attr(xmlNodePtr n, const char *name)
{
    return (char *)xmlGetNoNsProp(n, (const xmlChar *)name);
}

int qti_xml_local_is(xmlNodePtr n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, local) == 0;
}

/* ---- the manifest ---- */

const struct qti_resource *qti_manifest_resource(const struct qti_manifest *m,
                                                 const char *identifier)
{
    for (size_t i = 0; i < m->nres; i++)
        if (strcmp(m->res[i].identifier, identifier) == 0)
            return &m->res[i];
    return NULL;
}

#define MANIFEST "imsmanifest.xml"

/* Classifies a resource type; -1 for a QTI version we do not deliver. */
static int classify_type(const char *type, struct qti_resource *r)
{
    r->qti_version = 0;
    r->kind = QTI_RES_CONTENT;
    if (strncmp(type, "imsqti_test_xmlv", 16) == 0 || strncmp(type, "imsqti_item_xmlv", 16) == 0) {
        const char *v = type + 16;
        if (strcmp(v, "2p1") == 0)
            r->qti_version = 21;
        else if (strcmp(v, "2p2") == 0)
            r->qti_version = 22;
        else
            return -1;
        r->kind = type[7] == 't' ? QTI_RES_TEST : QTI_RES_ITEM;
        return 0;
    }
    /* Other QTI resource kinds of the 2.x packaging profile are plain files to us. */
    if (strncmp(type, "imsqti_", 7) == 0 && !strstr(type, "v2p"))
        return -1;
    return 0;
}

static int manifest_path(struct qti_package *p, xmlNodePtr n, const char *href, char **out,
                         struct op_err *e)
{
    /* hrefs in the manifest are relative to the package root (xml:base is not supported). */
    if (qti_path_resolve(NULL, href, out, e) != 0)
        return err_prefix(e, "%s: " MANIFEST " line %ld", p->name, xmlGetLineNo(n));
    return 0;
}

static int parse_resource(struct qti_package *p, xmlNodePtr rn, struct qti_resource *r,
                          struct op_err *e)
{
    long line = xmlGetLineNo(rn);
    r->line = (int)line;
    char *id = qti_xml_attr(rn, "identifier");
    char *type = qti_xml_attr(rn, "type");
    char *href = qti_xml_attr(rn, "href");
    int rc = 0;
    if (!id || !id[0])
        rc = err_set(e, OP_EINPUT, "%s: " MANIFEST " line %ld: resource without identifier",
                     p->name, line);
    else if (!type || !type[0])
        rc = err_set(e, OP_EINPUT, "%s: " MANIFEST " line %ld: resource %s has no type", p->name,
                     line, id);
    if (rc == 0) {
        r->identifier = qti_xstrdup(id);
        r->type = qti_xstrdup(type);
        if (classify_type(type, r) != 0)
            rc = err_set(e, OP_EINPUT,
                         "%s: " MANIFEST " line %ld: resource %s has type %s: unknown QTI "
                         "version (QTI 2.1 and 2.2 are supported)",
                         p->name, line, id, type);
    }
    if (rc == 0 && href && href[0] && (rc = manifest_path(p, rn, href, &r->href, e)) == 0 &&
        !qti_package_find(p, r->href))
        rc = err_set(e, OP_EINPUT,
                     "%s: " MANIFEST " line %ld: resource %s points to %s, which is not in the "
                     "archive",
                     p->name, line, id, r->href);
    if (rc == 0 && r->kind != QTI_RES_CONTENT && !r->href)
        rc = err_set(e, OP_EINPUT, "%s: " MANIFEST " line %ld: QTI resource %s has no href",
                     p->name, line, id);
    for (xmlNodePtr c = rn->children; rc == 0 && c; c = c->next) {
        if (qti_xml_local_is(c, "file")) {
            char *fh = qti_xml_attr(c, "href");
            char *path = NULL;
            if (!fh)
                rc = err_set(e, OP_EINPUT, "%s: " MANIFEST " line %ld: file without href", p->name,
                             xmlGetLineNo(c));
            else if ((rc = manifest_path(p, c, fh, &path, e)) == 0 && !qti_package_find(p, path))
                rc = err_set(e, OP_EINPUT,
                             "%s: " MANIFEST " line %ld: resource %s lists %s, which is not in "
                             "the archive",
                             p->name, xmlGetLineNo(c), r->identifier, path);
            if (rc == 0) {
                r->files = qti_xrealloc(r->files, r->nfiles + 1, sizeof *r->files);
                r->files[r->nfiles++] = path;
            } else {
                free(path);
            }
            xmlFree(fh);
        } else if (qti_xml_local_is(c, "dependency")) {
            char *ref = qti_xml_attr(c, "identifierref");
            if (!ref || !ref[0])
                rc = err_set(e, OP_EINPUT,
                             "%s: " MANIFEST " line %ld: dependency without "
                             "identifierref",
                             p->name, xmlGetLineNo(c));
            else {
                r->deps = qti_xrealloc(r->deps, r->ndeps + 1, sizeof *r->deps);
                r->deps[r->ndeps++] = qti_xstrdup(ref);
            }
            xmlFree(ref);
        }
    }
    xmlFree(id);
    xmlFree(type);
    xmlFree(href);
    return rc;
}

static int parse_manifest(struct qti_package *p, const struct qti_limits *lim, struct op_err *e)
{
    const struct qti_file *f = qti_package_find(p, MANIFEST);
    if (!f)
        return err_set(e, OP_EINPUT,
                       "%s: no " MANIFEST " at the root of the archive (is this an IMS content "
                       "package?)",
                       p->name);
    xmlDocPtr doc;
    if (qti_package_parse_xml(p, f, lim->max_xml_bytes, &doc, e))
        return OP_EINPUT;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    int rc = 0;
    struct qti_manifest *m = &p->manifest;
    if (!qti_xml_local_is(root, "manifest")) {
        rc = err_set(e, OP_EINPUT, "%s: " MANIFEST ": the root element is <%s>, not <manifest>",
                     p->name, (const char *)root->name);
        goto done;
    }
    if (root->ns && root->ns->href &&
        strncmp((const char *)root->ns->href, "http://www.imsglobal.org/xsd/imscp_v1p", 38) != 0) {
        rc = err_set(e, OP_EINPUT,
                     "%s: " MANIFEST ": unknown manifest namespace %s (IMS CP 1.1 or "
                     "1.2 expected)",
                     p->name, (const char *)root->ns->href);
        goto done;
    }
    char *mid = qti_xml_attr(root, "identifier");
    m->identifier = qti_xstrdup(mid ? mid : "");
    xmlFree(mid);
    for (xmlNodePtr c = root->children; rc == 0 && c; c = c->next) {
        if (!qti_xml_local_is(c, "resources"))
            continue;
        for (xmlNodePtr rn = c->children; rc == 0 && rn; rn = rn->next) {
            if (!qti_xml_local_is(rn, "resource"))
                continue;
            m->res = qti_xrealloc(m->res, m->nres + 1, sizeof *m->res);
            struct qti_resource *r = &m->res[m->nres++];
            memset(r, 0, sizeof *r);
            rc = parse_resource(p, rn, r, e);
        }
    }
    /* Identifiers are unique; every dependency names a resource. */
    for (size_t i = 0; rc == 0 && i < m->nres; i++) {
        for (size_t k = 0; rc == 0 && k < i; k++)
            if (strcmp(m->res[i].identifier, m->res[k].identifier) == 0)
                rc = err_set(e, OP_EINPUT,
                             "%s: " MANIFEST " line %d: resource identifier %s is used twice",
                             p->name, m->res[i].line, m->res[i].identifier);
        for (size_t k = 0; rc == 0 && k < m->res[i].ndeps; k++)
            if (!qti_manifest_resource(m, m->res[i].deps[k]))
                rc = err_set(e, OP_EINPUT,
                             "%s: " MANIFEST " line %d: resource %s depends on %s, which the "
                             "manifest does not declare",
                             p->name, m->res[i].line, m->res[i].identifier, m->res[i].deps[k]);
    }
    if (rc == 0) {
        for (size_t i = 0; i < m->nres; i++)
            if (m->res[i].kind == QTI_RES_TEST) {
                m->tests = qti_xrealloc(m->tests, m->ntests + 1, sizeof *m->tests);
                m->tests[m->ntests++] = &m->res[i];
            }
        if (m->ntests == 0)
            rc = err_set(e, OP_EINPUT,
                         "%s: " MANIFEST ": no assessmentTest resource (type "
                         "imsqti_test_xmlv2p1 or imsqti_test_xmlv2p2); a package of loose items "
                         "cannot be delivered",
                         p->name);
        else
            m->test = m->tests[0];
    }
done:
    xmlFreeDoc(doc);
    return rc;
}
