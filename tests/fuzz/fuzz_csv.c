/* fuzz_csv.c - the CSV reader must refuse or accept any bytes without crashing or leaking. */
#include <stddef.h>
#include <stdint.h>

#include "import/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csv_table *t = NULL;
    struct op_err e = {0};
    if (csv_table_parse("fuzz.csv", (const char *)data, size, &t, &e) == 0) {
        for (int i = 0; i < t->nrows; i++)
            (void)csv_table_field(&t->rows[i], csv_table_column(t, "login"));
        csv_table_free(t);
    }
    return 0;
}
