/*
 * api_bo_results.c - the backoffice's results tab and exports (docs/api.md, "Backoffice:
 * results"): thin doors into app/results_view.h and app/results_export.h. The super-user
 * sees every result; a test-center administrator the results of their centers and
 * sub-centers (the scope goes into every query as admin_id; a result outside it is 404, as
 * one that does not exist); decrypting is the super-user's (403 for anyone else).
 *
 *   GET  /api/v1/admin/results?delivery=&center=&status=&state=&from=&to=&search=&after=&limit=
 *   GET  /api/v1/admin/results/distribution?delivery=&...&buckets=
 *   GET  /api/v1/admin/results/export?delivery=&format=csv|qti-xml&...   (a download)
 *   GET  /api/v1/admin/results/{id}                 one result, its audit chain verified
 *   GET  /api/v1/admin/results/{id}/qti-xml         its QTI XML document (a download)
 *   GET  /api/v1/admin/results/{id}/files/{item}/{response}   a file the test taker gave (an
 *                                                   upload or a drawing: a download)
 *   POST /api/v1/admin/results/{id}/accept          {} (a result held for review)
 *   POST /api/v1/admin/results/{id}/reject          {"reason"?}
 *   POST /api/v1/admin/results/decrypt              {"delivery"?}: decrypt-results
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/backoffice.h"
#include "app/results.h"
#include "app/results_export.h"
#include "app/results_view.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/ids.h"
#include "http/api.h"

/* The query parameter `name`, NULL when absent or empty (a form's empty filter). */
static const char *param(const struct http_request *req, const char *name)
{
    const char *v = http_request_query(req, name);
    return v && v[0] ? v : NULL;
}

/* The tab's query from the request's parameters, scoped to the caller. */
static struct app_results_query query_of(const struct http_request *req,
                                         const struct bo_caller *who)
{
    return (struct app_results_query){
        .delivery = param(req, "delivery"),
        .center = param(req, "center"),
        .status = param(req, "status"),
        .state = param(req, "state"),
        .from = param(req, "from"),
        .to = param(req, "to"),
        .search = param(req, "search"),
        .admin_id = who->super ? NULL : who->user_id,
    };
}

static int answer(struct http_response *res, struct bo_caller *who, int rc, int status, json_t *doc)
{
    app_bo_caller_clear(who);
    if (rc != 0) {
        json_decref(doc);
        return rc;
    }
    return http_response_json(res, status, doc);
}

/* The id in path_rest before `suffix` ("" or "/accept"), OP_ENOTFOUND for any other shape. */
static int path_id(const struct http_request *req, const char *suffix, char id[UUID_STR_LEN],
                   struct op_err *e)
{
    const char *rest = req->path_rest;
    size_t n = strlen(rest), s = strlen(suffix);
    if (n < s || strcmp(rest + n - s, suffix) != 0 || n - s != UUID_STR_LEN - 1 ||
        memchr(rest, '/', n - s))
        return err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    memcpy(id, rest, n - s);
    id[n - s] = '\0';
    if (!uuid_is_valid(id))
        return err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    return 0;
}

/* "attachment; filename=NAME.EXT" with NAME reduced to letters, digits, - and _. */
static void disposition(char *out, size_t cap, const char *name, const char *ext)
{
    char safe[80];
    size_t n = 0;
    for (const char *p = name; *p && n < sizeof safe - 1; p++)
        safe[n++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
                        ? *p
                        : '_';
    safe[n] = '\0';
    snprintf(out, cap, "attachment; filename=\"%s.%s\"", n ? safe : "results", ext);
}

/* Sends the file `path` (then removed: the open descriptor keeps it readable). */
static int send_file(struct http_response *res, const char *path, const char *type,
                     const char *filename, const char *ext, struct op_err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unlink(path);
    if (fd < 0)
        return err_set(e, OP_EIO, "the export cannot be read back");
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return err_set(e, OP_EIO, "the export cannot be read back");
    }
    char cd[160];
    disposition(cd, sizeof cd, filename, ext);
    int rc = http_response_header(res, "Content-Disposition", cd);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return http_response_file(res, fd, 0, (uint64_t)st.st_size, (uint64_t)st.st_size, type);
}

/* A private file name for an export under DIR/exports (mode 0700); the caller frees. */
static char *export_path(struct instance *inst, struct op_err *e)
{
    char *dir = instance_path(inst, "exports");
    if (!dir || fs_mkdir_p(dir, 0700, e) != 0) {
        free(dir);
        return NULL;
    }
    char name[UUID_STR_LEN + 8];
    uuid_generate(name);
    strcat(name, ".export");
    char *path = fs_join(dir, name);
    free(dir);
    return path;
}

static int export_get(const struct http_request *req, struct http_response *res,
                      struct bo_caller *who, struct op_err *e)
{
    enum app_export_format format;
    int rc = app_results_export_format_of(param(req, "format"), &format, e);
    if (rc != 0)
        return rc;
    struct app_results_query q = query_of(req, who);
    struct app_results_filter f; /* to name the file after the delivery */
    if ((rc = app_results_filter_make(req->inst, &q, &f, e)) != 0)
        return rc;
    char *path = export_path(req->inst, e);
    struct app_results_export_out out;
    rc = path ? app_results_export_file(req->inst, &q, format, path, &out, e) : OP_EIO;
    if (rc == 0)
        rc = send_file(res, path, app_results_export_media_type(format), f.delivery_label,
                       app_results_export_extension(format), e);
    free(path);
    app_results_filter_clear(&f);
    return rc;
}

static int write_buf(const void *data, size_t len, void *ctx, struct op_err *e)
{
    return buf_append(ctx, data, len) == 0 ? 0 : err_set(e, OP_ENOMEM, "out of memory");
}

static int qti_get(const struct http_request *req, struct http_response *res, struct bo_caller *who,
                   const char *id, struct op_err *e)
{
    struct buf doc = BUF_INIT;
    int rc =
        app_results_qti_xml(req->inst, id, who->super ? NULL : who->user_id, write_buf, &doc, e);
    char cd[160];
    disposition(cd, sizeof cd, id, "xml");
    if (rc == 0)
        rc = http_response_header(res, "Content-Disposition", cd);
    if (rc == 0)
        rc = http_response_body(res, 200, "application/xml; charset=utf-8", doc.data, doc.len);
    buf_free(&doc);
    return rc;
}

/* GET .../{id}/files/{item}/{response}: the file, always as a download of octets (never shown
 * in the backoffice's origin: a test taker's HTML or SVG must not run there). */
static int file_get(const struct http_request *req, struct http_response *res,
                    struct bo_caller *who, struct op_err *e)
{
    const char *rest = req->path_rest;
    char id[UUID_STR_LEN], item[130], resp[130];
    const char *files = strstr(rest, "/files/");
    if (!files || (size_t)(files - rest) != UUID_STR_LEN - 1)
        return err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    memcpy(id, rest, UUID_STR_LEN - 1);
    id[UUID_STR_LEN - 1] = '\0';
    const char *a = files + 7, *slash = strchr(a, '/');
    if (!slash || (size_t)(slash - a) >= sizeof item || strlen(slash + 1) >= sizeof resp ||
        strchr(slash + 1, '/'))
        return err_set(e, OP_ENOTFOUND, "%s: no such endpoint", req->path);
    memcpy(item, a, (size_t)(slash - a));
    item[slash - a] = '\0';
    snprintf(resp, sizeof resp, "%s", slash + 1);
    struct app_result_file f;
    int rc = app_results_file(req->inst, id, who->super ? NULL : who->user_id, item, resp, &f, e);
    if (rc != 0)
        return rc;
    /* the file's own name, reduced to safe characters, its extension kept */
    char base[100], ext[16] = "bin";
    const char *dot = strrchr(f.name, '.');
    size_t bl = dot && dot != f.name ? (size_t)(dot - f.name) : strlen(f.name);
    snprintf(base, sizeof base, "%.*s", (int)(bl < sizeof base ? bl : sizeof base - 1), f.name);
    if (dot && dot != f.name && strlen(dot + 1) > 0 && strlen(dot + 1) < sizeof ext) {
        size_t k = 0;
        for (const char *p = dot + 1; *p; p++)
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
                ext[k++] = *p;
        ext[k] = '\0';
        if (!k)
            snprintf(ext, sizeof ext, "bin");
    }
    char cd[160];
    disposition(cd, sizeof cd, base, ext);
    rc = http_response_header(res, "Content-Disposition", cd);
    if (rc == 0)
        rc = http_response_header(res, "Content-Security-Policy", "sandbox");
    if (rc == 0)
        rc = http_response_body(res, 200, "application/octet-stream", f.data, f.len);
    app_result_file_clear(&f);
    return rc;
}

int api_bo_results_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    int64_t limit = 0;
    rc = api_query_int64(req, "limit", 1, 500, 50, &limit, e);
    json_t *doc = NULL;
    if (rc == 0) {
        struct app_results_query q = query_of(req, &who);
        rc = app_results_page(req->inst, &q, param(req, "after"), (int)limit, &doc, e);
    }
    return answer(res, &who, rc, 200, doc);
}

int api_bo_result_get(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    json_t *doc = NULL;
    const char *rest = req->path_rest;
    char id[UUID_STR_LEN];
    if (strcmp(rest, "export") == 0) {
        rc = export_get(req, res, &who, e);
        app_bo_caller_clear(&who);
        return rc;
    }
    if (strcmp(rest, "distribution") == 0) {
        int64_t buckets = 0;
        rc = api_query_int64(req, "buckets", 1, 50, 10, &buckets, e);
        struct app_results_query q = query_of(req, &who);
        if (rc == 0)
            rc = app_results_distribution(req->inst, &q, (int)buckets, &doc, e);
        return answer(res, &who, rc, 200, doc);
    }
    if (path_id(req, "/qti-xml", id, e) == 0) {
        rc = qti_get(req, res, &who, id, e);
        app_bo_caller_clear(&who);
        return rc;
    }
    if (strstr(rest, "/files/")) {
        rc = file_get(req, res, &who, e);
        app_bo_caller_clear(&who);
        return rc;
    }
    if ((rc = path_id(req, "", id, e)) != 0)
        return answer(res, &who, rc, 200, NULL);
    json_t *r = NULL;
    rc = app_results_detail(req->inst, id, who.super ? NULL : who.user_id, &r, e);
    if (rc == 0)
        doc = json_pack("{s:o}", "result", r);
    return answer(res, &who, rc, 200, doc);
}

/* Each problem of a decryption into its array: [0] results, [1] key files. */
static void collect_problem(const struct app_results_problem *p, void *ctx)
{
    json_t **both = ctx;
    json_array_append_new(both[p->kind == APP_RESULTS_BAD_KEY], app_results_problem_json(p));
}

static int decrypt_post(const struct http_request *req, struct http_response *res,
                        struct bo_caller *who, json_t **doc, struct op_err *e)
{
    int rc = app_bo_require_super(who, "decrypt results", e);
    if (rc != 0)
        return rc;
    json_t *body = NULL;
    if (req->body_len > 0) {
        static const char *const allowed[] = {"delivery", NULL};
        if ((rc = api_bo_body(req, res, allowed, &body, e)) != 0)
            return rc;
    }
    const json_t *d = json_object_get(body, "delivery");
    if (d && !json_is_string(d) && !json_is_null(d)) {
        json_decref(body);
        return err_set_field(e, OP_EINPUT, "delivery", "delivery: a delivery's id or label");
    }
    char delivery_id[UUID_STR_LEN] = "";
    if (json_is_string(d) && json_string_length(d) > 0) {
        const struct app_results_query q = {.delivery = json_string_value(d)};
        struct app_results_filter f;
        rc = app_results_filter_make(req->inst, &q, &f, e);
        if (rc == 0)
            memcpy(delivery_id, f.delivery_id, sizeof delivery_id);
        app_results_filter_clear(&f);
    }
    json_decref(body);
    if (rc != 0)
        return rc;
    json_t *problems = json_array(), *key_problems = json_array();
    struct app_results_decrypt_out out;
    const struct app_results_decrypt_in in = {delivery_id[0] ? delivery_id : NULL};
    json_t *both[2] = {problems, key_problems};
    rc = app_results_decrypt(req->inst, &in, &out, collect_problem, both, e);
    if (rc == 0)
        *doc = app_results_decrypt_json(&out, problems, key_problems);
    else {
        json_decref(problems);
        json_decref(key_problems);
    }
    return rc;
}

int api_bo_result_post(const struct http_request *req, struct http_response *res, struct op_err *e)
{
    struct bo_caller who;
    int rc = api_bo_caller(req, res, &who, e);
    if (rc != 0)
        return rc;
    json_t *doc = NULL;
    if (strcmp(req->path_rest, "decrypt") == 0) {
        rc = decrypt_post(req, res, &who, &doc, e);
        return answer(res, &who, rc, 200, doc);
    }
    char id[UUID_STR_LEN];
    int accept = path_id(req, "/accept", id, e) == 0;
    if (!accept && (rc = path_id(req, "/reject", id, e)) != 0)
        return answer(res, &who, rc, 200, NULL);
    json_t *body = NULL;
    if (req->body_len > 0) {
        static const char *const allowed[] = {"reason", NULL};
        rc = api_bo_body(req, res, allowed, &body, e);
    }
    const char *reason = NULL;
    if (rc == 0 && body)
        rc = app_results_review_body(body, accept, &reason, e);
    if (rc == 0)
        rc = app_results_review(req->inst, id, who.super ? NULL : who.user_id, accept, reason, e);
    json_decref(body);
    json_t *r = NULL;
    if (rc == 0)
        rc = app_results_detail(req->inst, id, who.super ? NULL : who.user_id, &r, e);
    if (rc == 0)
        doc = json_pack("{s:o}", "result", r);
    return answer(res, &who, rc, 200, doc);
}
