/* sync_report.c - the sync report of a device: its JSON form and central's recording of it
 * (see sync_report.h). */
#include "app/sync_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/devices.h"
#include "base/clock.h"
#include "base/text.h"

#define MAX_COUNT ((int64_t)1 << 53) /* what a JSON number holds exactly */

/* "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (1970 or later) into the canonical form, or -1. */
static int parse_time(const char *s, char out[TIMESTAMP_STR_LEN])
{
    if (strlen(s) < 20 || strlen(s) > 40)
        return -1;
    for (int i = 0; i < 19; i++) {
        int digit = s[i] >= '0' && s[i] <= '9';
        char sep = i == 4 || i == 7 ? '-' : i == 10 ? 'T' : i == 13 || i == 16 ? ':' : 0;
        if (sep ? s[i] != sep : !digit)
            return -1;
    }
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (strcmp(p, "Z") != 0)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    tm.tm_hour = atoi(s + 11);
    tm.tm_min = atoi(s + 14);
    tm.tm_sec = atoi(s + 17);
    if (tm.tm_year < 70 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    struct tm check = tm;
    time_t t = timegm(&check);
    if (t == (time_t)-1 || check.tm_mday != tm.tm_mday) /* 31 February */
        return -1;
    return timestamp_format(t, out);
}

static int get_count(json_t *doc, const char *name, int64_t *out, struct op_err *e)
{
    json_t *v = json_object_get(doc, name);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > MAX_COUNT)
        return err_set_field(e, OP_EINPUT, name, "sync report: %s is a whole number of 0 or more",
                             name);
    *out = json_integer_value(v);
    return 0;
}

static int check_counts(json_t *counts, struct op_err *e)
{
    if (!json_is_object(counts) || json_object_size(counts) > SYNC_REPORT_MAX_ENTITIES)
        return err_set_field(e, OP_EINPUT, "counts",
                             "sync report: counts is an object of at most %d entities",
                             SYNC_REPORT_MAX_ENTITIES);
    const char *entity;
    json_t *v;
    json_object_foreach(counts, entity, v)
    {
        if (!entity[0] || text_check(entity, 32) != TEXT_OK || !json_is_object(v))
            return err_set_field(e, OP_EINPUT, "counts",
                                 "sync report: counts of an entity are an object under its name");
        const char *k;
        json_t *n;
        json_object_foreach(v, k, n)
        {
            if ((strcmp(k, "created") != 0 && strcmp(k, "updated") != 0 &&
                 strcmp(k, "deleted") != 0) ||
                !json_is_integer(n) || json_integer_value(n) < 0 ||
                json_integer_value(n) > MAX_COUNT)
                return err_set_field(e, OP_EINPUT, "counts",
                                     "sync report: counts hold created, updated and deleted, "
                                     "each a whole number of 0 or more");
        }
    }
    return 0;
}

int app_sync_report_parse(const char *body, size_t len, struct app_sync_report *out,
                          struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (len > SYNC_REPORT_MAX_BYTES)
        return err_set_field(e, OP_EINPUT, "body", "sync report: more than %d bytes",
                             SYNC_REPORT_MAX_BYTES);
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return err_set_field(e, OP_EINPUT, "body", "sync report: not a JSON object");
    }
    int rc = 0;
    const char *names[2] = {"started_at", "ended_at"};
    char *dest[2] = {out->started_at, out->ended_at};
    for (int i = 0; i < 2 && rc == 0; i++) {
        const char *s = json_string_value(json_object_get(doc, names[i]));
        if (!s || parse_time(s, dest[i]) != 0)
            rc = err_set_field(e, OP_EINPUT, names[i],
                               "sync report: %s is a UTC time as 2026-12-06T08:00:00Z", names[i]);
    }
    if (rc == 0 && strcmp(out->ended_at, out->started_at) < 0)
        rc = err_set_field(e, OP_EINPUT, "ended_at", "sync report: ended_at is before started_at");
    const char *status = json_string_value(json_object_get(doc, "status"));
    if (rc == 0 && (!status || (strcmp(status, "ok") != 0 && strcmp(status, "failed") != 0)))
        rc = err_set_field(e, OP_EINPUT, "status", "sync report: status is \"ok\" or \"failed\"");
    if (rc == 0)
        out->ok = strcmp(status, "ok") == 0;
    json_t *counts = json_object_get(doc, "counts");
    if (rc == 0 && counts && !json_is_null(counts) && (rc = check_counts(counts, e)) == 0)
        out->counts = json_incref(counts);
    if (rc == 0 && !out->counts && !(out->counts = json_object()))
        rc = err_set(e, OP_ENOMEM, "out of memory");
    if (rc == 0)
        rc = get_count(doc, "results_sent", &out->results_sent, e);
    if (rc == 0)
        rc = get_count(doc, "bytes", &out->bytes, e);
    if (rc == 0)
        rc = get_count(doc, "pending_results", &out->pending_results, e);
    if (rc == 0)
        rc = get_count(doc, "device_time", &out->device_time, e);
    json_t *err = json_object_get(doc, "error");
    if (rc == 0 && err && !json_is_null(err)) {
        const char *s = json_string_value(err);
        if (!s || strlen(s) > SYNC_RUN_ERROR_MAX || text_check(s, SYNC_RUN_ERROR_MAX) != TEXT_OK)
            rc = err_set_field(e, OP_EINPUT, "error",
                               "sync report: error is null or a text of at most %d bytes",
                               SYNC_RUN_ERROR_MAX);
        else if (!(out->error = strdup(s)))
            rc = err_set(e, OP_ENOMEM, "out of memory");
    }
    const char *v = json_string_value(json_object_get(doc, "software_version"));
    if (rc == 0 && (!v || !v[0] || text_check(v, SYNC_REPORT_VERSION_MAX) != TEXT_OK))
        rc = err_set_field(e, OP_EINPUT, "software_version",
                           "sync report: software_version is 1 to %d bytes of text",
                           SYNC_REPORT_VERSION_MAX);
    if (rc == 0)
        snprintf(out->software_version, sizeof out->software_version, "%s", v);
    json_decref(doc);
    if (rc != 0)
        app_sync_report_free(out);
    return rc;
}

void app_sync_report_free(struct app_sync_report *r)
{
    json_decref(r->counts);
    free(r->error);
    r->counts = NULL;
    r->error = NULL;
}

char *app_sync_report_json(const struct app_sync_report *r)
{
    json_t *counts = r->counts ? json_incref(r->counts) : json_object();
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:o, s:I, s:I, s:s?, s:s, s:I, s:I}", "started_at", r->started_at,
        "ended_at", r->ended_at, "status", r->ok ? "ok" : "failed", "counts", counts,
        "results_sent", (json_int_t)r->results_sent, "bytes", (json_int_t)r->bytes, "error",
        r->error, "software_version", r->software_version, "pending_results",
        (json_int_t)r->pending_results, "device_time", (json_int_t)r->device_time);
    if (!doc)
        return NULL;
    if (json_object_get(doc, "error") == NULL)
        json_object_set_new(doc, "error", json_null());
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

int app_sync_report_record(struct instance *central, const char *device_id,
                           const struct app_sync_report *r, char run_id[UUID_STR_LEN],
                           int64_t *server_time, struct op_err *e)
{
    run_id[0] = '\0';
    *server_time = (int64_t)clock_now();
    int rc = app_devices_report_sync(central, device_id, r->software_version, r->pending_results,
                                     r->device_time, e);
    if (rc != 0)
        return rc;
    struct app_sync_run run;
    if ((rc = app_sync_run_begin(central, device_id, &run, e)) != 0)
        return rc;
    struct app_sync_outcome o = {r->ok, r->counts, r->results_sent, r->bytes, r->error};
    if ((rc = app_sync_run_end(central, &run, &o, e)) != 0)
        return rc;
    snprintf(run_id, UUID_STR_LEN, "%s", run.id);
    return 0;
}
