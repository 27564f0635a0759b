/*
 * fuzz_http_parse.c - the parsers of `outpost serve` over outside input must accept or refuse
 * any bytes without crashing, leaking or reading past them: the first byte chooses the parser
 * (0 Range header, 1 query string, 2 JSON body, 3 Content-Type), the rest is its input. Each
 * answer is checked against the parser's contract.
 */
#include <assert.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "http/body.h"
#include "http/query.h"
#include "http/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned which = data[0] % 4;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    char *text = malloc(len + 1); /* the header parsers read NUL-terminated values */
    if (!text)
        return 0;
    memcpy(text, in, len);
    text[len] = '\0';
    struct op_err e = {0};
    switch (which) {
    case 0: {
        uint64_t totals[] = {0, 1, 100, UINT64_MAX};
        for (size_t i = 0; i < 4; i++) {
            struct http_range r;
            enum http_range_kind k = http_range_parse(text, totals[i], &r);
            if (k == HTTP_RANGE_PARTIAL)
                assert(r.length > 0 && r.start < totals[i] && r.length <= totals[i] - r.start);
            if (k == HTTP_RANGE_FULL)
                assert(r.start == 0 && r.length == totals[i]);
        }
        break;
    }
    case 1: {
        struct http_query q;
        if (http_query_parse(in, len, &q, &e) == 0) {
            assert(q.n <= HTTP_QUERY_MAX_PARAMS);
            for (int i = 0; i < q.n; i++)
                assert(http_query_get(&q, q.name[i]) == q.value[i]); /* names are unique */
            struct buf b = BUF_INIT;
            http_query_log(&q, 512, &b);
            assert(b.len <= 512 + 3);
            buf_free(&b);
        }
        http_query_free(&q);
        break;
    }
    case 2: {
        json_t *doc = NULL;
        if (http_json_parse(in, len, HTTP_JSON_MAX_DEPTH, &doc, &e) == 0)
            json_decref(doc);
        else
            assert(doc == NULL && e.code == OP_EINPUT);
        break;
    }
    default:
        (void)http_content_type_is(text, "application/json");
        break;
    }
    free(text);
    return 0;
}
