/* testutil.h - helpers shared by the cmocka unit tests. */
#ifndef OUTPOST_TESTS_TESTUTIL_H
#define OUTPOST_TESTS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/db.h"

/* A fresh temporary folder (caller frees the string; removed by testutil_rmdir). */
char *testutil_tmpdir(void);
void testutil_rmdir(char *dir);

/* A fresh migrated database in a temporary folder. */
struct db *testutil_db(char **dir);

/* Writes `text` to DIR/name and returns the path (caller frees). */
char *testutil_write(const char *dir, const char *name, const char *text);

#endif
