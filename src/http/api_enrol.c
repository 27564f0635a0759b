/*
 * api_enrol.c - POST /api/v1/enrol: a sync manager enrols a device (docs/protocol.md,
 * "Enrolment"). Parsed by auth/enrol.h, done by app_enrol, answered 201 with the enrol
 * response (which holds the client secret, shown once: wiped after it is copied out).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "app/enrol.h"
#include "http/api.h"

int api_enrol_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    int rc = http_request_check_type(req, res, "application/json", e);
    if (rc != 0)
        return rc;
    struct enrol_request m;
    memset(&m, 0, sizeof m);
    rc = enrol_request_parse(req->body, req->body_len, &m, e);
    struct app_enrol_out out;
    memset(&out, 0, sizeof out);
    if (rc == 0) {
        struct app_enrol_request ar;
        app_enrol_request_from(&m, &ar);
        rc = app_enrol(req->inst, &ar, req->remote, &out, e);
    }
    enrol_request_wipe(&m);
    if (rc == 0) {
        char *json = enrol_response_json(&out.msg);
        if (!json)
            rc = err_set(e, OP_ENOMEM, "out of memory writing the enrolment answer");
        else {
            rc = http_response_body(res, 201, "application/json", json, strlen(json));
            sodium_memzero(json, strlen(json));
            free(json);
        }
    }
    app_enrol_out_wipe(&out);
    return rc;
}
