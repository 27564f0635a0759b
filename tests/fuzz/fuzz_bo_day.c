/*
 * fuzz_bo_day.c - the day filter of the backoffice's sync history (app_bo_parse_day,
 * GET /api/v1/admin/sync-runs?from=&to=) must refuse or accept any text without crashing or
 * reading out of bounds; a day it accepts comes back unchanged, and the day after it is a later
 * day of the same form.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/bo_devices.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1); /* a query parameter is text: up to its first NUL */
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct op_err e = {0};
    char day[11], next[11];
    if (app_bo_parse_day(text, "from", 0, day, &e) == 0) {
        if (strcmp(day, text) != 0)
            abort();
        if (app_bo_parse_day(text, "to", 1, next, &e) == 0 &&
            (strlen(next) != 10 || strcmp(next, day) <= 0))
            abort();
    } else if (e.code != OP_EINPUT || strcmp(e.field, "from") != 0) {
        abort();
    }
    free(text);
    return 0;
}
