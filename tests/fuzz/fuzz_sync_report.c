/*
 * fuzz_sync_report.c - the sync report a device sends central (app/sync_report.h,
 * POST /api/v1/sync/report) must refuse or accept any bytes without crashing, reading out of
 * bounds or leaking; what it accepts must come back the same through the device's encoder.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/sync_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct op_err e = {0};
    struct app_sync_report r, back;
    if (app_sync_report_parse((const char *)data, size, &r, &e) != 0)
        return 0;
    char *s = app_sync_report_json(&r);
    if (!s || app_sync_report_parse(s, strlen(s), &back, &e) != 0)
        abort();
    if (strcmp(r.started_at, back.started_at) != 0 || strcmp(r.ended_at, back.ended_at) != 0 ||
        r.ok != back.ok || r.results_sent != back.results_sent || r.bytes != back.bytes ||
        r.pending_results != back.pending_results || r.device_time != back.device_time ||
        strcmp(r.software_version, back.software_version) != 0 || !!r.error != !!back.error ||
        (r.error && strcmp(r.error, back.error) != 0) || !json_equal(r.counts, back.counts))
        abort();
    free(s);
    app_sync_report_free(&r);
    app_sync_report_free(&back);
    return 0;
}
