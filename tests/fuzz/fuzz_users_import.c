/* fuzz_users_import.c - any bytes given to import-users (as a test-taker or, when the first
 * byte is odd, a sync-manager file) must be imported or refused with a message, never crash,
 * leak or leave a transaction open. One database serves every input. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/fs.h"
#include "import/users_import.h"
#include "store/users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/outpost-fuzz-users-XXXXXX";
static struct db *db;

static void cleanup(void)
{
    db_close(db);
    fs_remove_tree(dir);
}

static void open_once(void)
{
    if (db)
        return;
    struct op_err e = {0};
    char *path;
    if (sodium_init() < 0 || !mkdtemp(dir))
        abort();
    path = fs_join(dir, "fuzz.db");
    if (db_open(path, 1, &db, &e) != 0)
        abort();
    free(path);
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    open_once();
    char *csv = fs_join(dir, "in.csv");
    FILE *f = fopen(csv, "wb");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    struct users_import_options opt = {
        .role = size && (data[0] & 1) ? ROLE_SYNC_MANAGER : ROLE_TEST_TAKER,
        .max_bytes = 1 << 20,
        .cost = {1, 8},
        .skip_invalid = size > 1 && (data[1] & 1),
        .workers = 2,
    };
    struct users_import_report r;
    struct op_err e = {0};
    users_import_report_init(&r, "in.csv");
    int rc = users_import_file(db, csv, &opt, &r, &e);
    if (rc != 0 && !e.msg[0])
        abort(); /* every refusal says why */
    if (db_in_transaction(db))
        abort(); /* no transaction left open */
    users_import_report_free(&r);
    free(csv);
    return 0;
}
