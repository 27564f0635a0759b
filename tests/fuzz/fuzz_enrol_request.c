/*
 * fuzz_enrol_request.c - the enrolment JSON (auth/enrol.h) must refuse or accept any bytes
 * without crashing, reading out of bounds or leaking; what it accepts must come back the same
 * through its writer and parser (a request central answers, a response a device pins). The
 * input is read both as a request and as a response.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/enrol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        ready = 1;
    }
    struct op_err e = {0};
    struct enrol_request rq, rq2;
    if (enrol_request_parse((const char *)data, size, &rq, &e) == 0) {
        char *s = enrol_request_json(&rq);
        if (!s || enrol_request_parse(s, strlen(s), &rq2, &e) != 0 ||
            memcmp(&rq, &rq2, sizeof rq) != 0)
            abort();
        free(s);
    }
    enrol_request_wipe(&rq);
    enrol_request_wipe(&rq2);

    struct enrol_response rs, rs2;
    if (enrol_response_parse((const char *)data, size, &rs, &e) == 0) {
        char *s = enrol_response_json(&rs);
        if (!s || enrol_response_parse(s, strlen(s), &rs2, &e) != 0 ||
            memcmp(&rs, &rs2, sizeof rs) != 0)
            abort();
        free(s);
        (void)enrol_results_key_verify(rs.signing_public_key, rs.results_key_id,
                                       rs.results_public_key, rs.results_key_signature, &e);
    }
    enrol_response_wipe(&rs);
    enrol_response_wipe(&rs2);
    return 0;
}
