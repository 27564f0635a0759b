/*
 * fuzz_backup_archive.c - `outpost restore` reads an archive that may come from anywhere (a
 * backup system, a copy of a copy): any bytes must be refused cleanly, with nothing left in the
 * target folder, and never written outside it (app/backup.h). The input is written to a file
 * and restored into a fresh folder, which must be empty afterwards unless the restore
 * succeeded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/backup.h"
#include "base/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char tmpl[] = "/tmp/outpost-fuzz-restore-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir)
        abort();
    char *file = fs_join(dir, "in.zip"), *target = fs_join(dir, "target");
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    struct op_err e = {0};
    struct app_restore_out out;
    int rc = app_restore(file, target, &out, &e);
    if (rc != 0 && fs_exists(target))
        abort(); /* a refusal left something behind */
    if (rc != 0 && !e.msg[0])
        abort(); /* a refusal says why */
    fs_remove_tree(dir);
    free(file);
    free(target);
    return 0;
}
