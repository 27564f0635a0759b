/*
 * fuzz_bo_results.c - what the backoffice's results endpoints read from a request
 * (docs/api.md, "Backoffice: results"): the tab's query parameters and page cursor
 * (app_results_query_parse: GET /api/v1/admin/results?delivery=&center=&status=&state=&from=
 * &to=&search=&after=) and the body of a review (app_results_review_body: POST
 * .../{id}/accept, .../{id}/reject). The first byte picks which; for the query the rest is
 * split at newlines into the parameters in that order. Any input is refused (OP_EINPUT with
 * the field named) or accepted without a crash or a read out of bounds; an accepted search
 * becomes a LIKE pattern between two %; an accepted reason is at most APP_REVIEW_REASON_MAX
 * bytes.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/results.h"
#include "app/results_view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_query(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *v[8] = {0};
    char *p = text;
    for (int i = 0; i < 8 && p; i++) {
        v[i] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    const struct app_results_query q = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], NULL};
    struct app_results_filter f;
    struct op_err e = {0};
    if (app_results_query_parse(&q, v[7], &f, &e) == 0) {
        if (f.search && (f.search[0] != '%' || f.search[strlen(f.search) - 1] != '%'))
            abort();
    } else if (e.code != OP_EINPUT || !e.field[0]) {
        abort();
    }
    app_results_filter_clear(&f);
    free(text);
}

static void fuzz_body(const uint8_t *data, size_t size, int accept)
{
    json_error_t je;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!body)
        return;
    const char *reason = NULL;
    struct op_err e = {0};
    if (app_results_review_body(body, accept, &reason, &e) == 0) {
        if (accept && reason)
            abort();
        if (reason && strlen(reason) > APP_REVIEW_REASON_MAX)
            abort();
    } else if (e.code != OP_EINPUT || !e.field[0]) {
        abort();
    }
    json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] == 'q')
        fuzz_query(data + 1, size - 1);
    else
        fuzz_body(data + 1, size - 1, data[0] == 'a');
    return 0;
}
