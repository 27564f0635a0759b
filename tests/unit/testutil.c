/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"

char *testutil_tmpdir(void)
{
    if (sodium_init() < 0)
        abort();
    char tmpl[] = "/tmp/outpost-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

void testutil_rmdir(char *dir)
{
    fs_remove_tree(dir);
    free(dir);
}

struct db *testutil_db(char **dir)
{
    *dir = testutil_tmpdir();
    char *path = fs_join(*dir, "test.db");
    struct db *db = NULL;
    struct op_err e = {0};
    int rc = db_open(path, 1, &db, &e);
    if (rc != 0)
        fail_msg("db_open: %s", e.msg);
    free(path);
    return db;
}

char *testutil_write(const char *dir, const char *name, const char *text)
{
    char *path = fs_join(dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    return path;
}
