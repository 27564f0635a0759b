/*
 * qti_testzip.h - building zip archives for the QTI tests at run time: a fixture folder
 * (tests/fixtures/qti/<name>/) zipped as a package, or hand-made hostile archives. Static
 * functions, included by the QTI test programs only.
 */
#ifndef OUTPOST_TESTS_QTI_TESTZIP_H
#define OUTPOST_TESTS_QTI_TESTZIP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

/* tests/fixtures/qti/<name> in the source tree, or, when `name` has a '/', that path from the
 * top of the source tree (e.g. "demo/qti-test"); the caller frees. */
static inline char *testzip_fixture(const char *name)
{
    const char *src = getenv("OUTPOST_SOURCE");
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s%s", src ? src : ".", strchr(name, '/') ? "" : "tests/fixtures/qti/",
             name);
    return p;
}

static inline int testzip_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static inline void testzip_add_tree(zip_t *za, const char *root, const char *rel)
{
    char path[8192];
    snprintf(path, sizeof path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return;
    char *names[512];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 512)
        if (de->d_name[0] != '.')
            names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, testzip_cmp);
    for (int i = 0; i < n; i++) {
        char r[2048], full[4096 + 2048 + 2];
        if (snprintf(r, sizeof r, "%s%s%s", rel, rel[0] ? "/" : "", names[i]) >= (int)sizeof r ||
            snprintf(full, sizeof full, "%s/%s", root, r) >= (int)sizeof full)
            abort(); /* fixture paths are short; a longer one is a broken test */
        struct stat st;
        if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            testzip_add_tree(za, root, r);
        } else {
            zip_source_t *s = zip_source_file(za, full, 0, -1);
            zip_file_add(za, r, s, ZIP_FL_ENC_UTF_8);
        }
        free(names[i]);
    }
}

/* Zips the fixture folder `name` to `out` (entries sorted). Returns 0 on success. */
static inline int testzip_fixture_zip(const char *name, const char *out)
{
    char *dir = testzip_fixture(name);
    int err;
    zip_t *za = zip_open(out, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!za) {
        free(dir);
        return -1;
    }
    testzip_add_tree(za, dir, "");
    free(dir);
    return zip_close(za);
}

/* One entry of a hand-made archive. `symlink` marks it as a Unix symbolic link. */
struct testzip_entry {
    const char *name;
    const void *data;
    size_t len;
    int symlink;
};

/* Writes an archive of `n` entries to `out`. Returns 0 on success. */
static inline int testzip_write(const char *out, const struct testzip_entry *ents, int n)
{
    int err;
    zip_t *za = zip_open(out, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!za)
        return -1;
    for (int i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(za, ents[i].data, ents[i].len, 0);
        zip_int64_t idx = zip_file_add(za, ents[i].name, s, ZIP_FL_ENC_RAW);
        if (idx < 0) {
            zip_source_free(s);
            zip_discard(za);
            return -1;
        }
        if (ents[i].symlink)
            zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                             (zip_uint32_t)(S_IFLNK | 0777) << 16);
    }
    return zip_close(za);
}

#endif
