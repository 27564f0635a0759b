/*
 * results_export.c - the CSV and QTI XML exports of a delivery's results (see
 * results_export.h). Both walk the results tab's rows (app_results_each) a page at a time;
 * the CSV is written row by row, the ZIP of QTI documents is built by libzip, which asks for
 * each document only when it writes it, so one document at a time is in memory.
 */
#include "app/results_export.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "app/upload.h"
#include "base/buf.h"
#include "base/fs.h"

#define OUTCOME_COLUMNS_MAX 256
#define FILE_COLUMNS_MAX    256

int app_results_export_format_of(const char *name, enum app_export_format *out, struct op_err *e)
{
    if (name && strcmp(name, "csv") == 0)
        *out = APP_EXPORT_CSV;
    else if (name && strcmp(name, "qti-xml") == 0)
        *out = APP_EXPORT_QTI_XML;
    else
        return err_set_field(e, OP_EINPUT, "format",
                             "unknown export format \"%.40s\" (use csv or qti-xml)",
                             name ? name : "");
    return 0;
}

const char *app_results_export_media_type(enum app_export_format f)
{
    return f == APP_EXPORT_CSV ? "text/csv; charset=utf-8" : "application/zip";
}

const char *app_results_export_extension(enum app_export_format f)
{
    return f == APP_EXPORT_CSV ? "csv" : "zip";
}

static int oom(struct op_err *e)
{
    return err_set(e, OP_ENOMEM, "out of memory");
}

/* A number as the shortest text that reads back as the same double ("3", "2.75"). */
static void format_number(double v, char out[40])
{
    if (!isfinite(v)) {
        snprintf(out, 40, "%s", isnan(v) ? "NaN" : v > 0 ? "INF" : "-INF");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 40, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* The decrypted result of row v, parsed (*doc: a new reference): 0, OP_ENOTFOUND when it is
 * not decrypted yet, OP_ESTATE when its JSON does not parse. */
static int result_doc(struct instance *inst, const struct results_view_row *v, json_t **doc,
                      struct op_err *e)
{
    char *text = NULL;
    *doc = NULL;
    int rc = results_get_json(inst->db, v->r.id, &text, e);
    if (rc != 0)
        return rc;
    json_error_t je;
    *doc = json_loads(text, 0, &je);
    free(text);
    if (!*doc)
        return err_set(e, OP_ESTATE, "result %s: its decrypted JSON does not parse", v->r.id);
    return 0;
}

/* ---- CSV ---- */

/* Appends one cell: quoted when it holds , " CR or LF; a text starting with = + - @ tab or CR
 * gets a leading ' (`text`: 0 for a number outpost wrote). */
static void csv_cell(struct buf *b, int first, const char *s, int text)
{
    if (!first)
        buf_puts(b, ",");
    if (!s)
        return;
    int neutralise = text && s[0] && strchr("=+-@\t\r", s[0]);
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        buf_puts(b, "\"");
    if (neutralise)
        buf_puts(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            buf_puts(b, "\"");
        buf_append(b, p, 1);
    }
    if (quote)
        buf_puts(b, "\"");
}

/* A JSON value as a cell: a number as a number, a string as text, true/false, a list or a
 * record as compact JSON; null or absent as an empty cell. */
static void csv_json_cell(struct buf *b, const json_t *v)
{
    char num[40];
    if (!v || json_is_null(v)) {
        csv_cell(b, 0, NULL, 0);
    } else if (json_is_number(v)) {
        format_number(json_number_value(v), num);
        csv_cell(b, 0, num, 0);
    } else if (json_is_string(v)) {
        csv_cell(b, 0, json_string_value(v), 1);
    } else if (json_is_boolean(v)) {
        csv_cell(b, 0, json_is_true(v) ? "true" : "false", 0);
    } else {
        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        csv_cell(b, 0, text ? text : "", 1);
        free(text);
    }
}

struct csv_run {
    struct instance *inst;
    json_t *names; /* the outcome names seen: an object used as a set */
    const char **cols;
    int ncols;
    json_t *file_names; /* the file columns seen ("ITEM.RESPONSE"): a set */
    const char **fcols;
    int nfcols;
    struct buf row;
    app_export_write_fn write;
    void *ctx;
    int64_t rows;
    struct op_err *e;
};

/* The files a test taker gave in the result of row v (uploads, drawings: app/upload.h), as
 * cells: a new object "ITEM.RESPONSE" -> "essay.pdf (application/pdf, 35840 bytes, sha256
 * HEX)", ITEM the item's key in the test. Empty for a result not decrypted. The bytes stay in
 * the result (results show, the QTI XML export, the backoffice's download). */
static int row_files(struct instance *inst, const struct results_view_row *v, json_t **out,
                     struct op_err *e)
{
    *out = json_object();
    json_t *doc = NULL;
    int rc = result_doc(inst, v, &doc, e);
    if (rc == OP_ENOTFOUND) { /* not decrypted: no content yet */
        err_clear(e);
        return 0;
    }
    if (rc != 0)
        return rc;
    json_t *items = app_results_items_json(json_object_get(doc, "outcome"));
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *key = json_string_value(json_object_get(it, "key"));
        const json_t *vars = json_object_get(it, "values"); /* a terminated test's */
        if (!json_is_object(vars))
            vars = json_object_get(it, "responses");
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)vars, k, x)
        {
            if (!key || !app_upload_is_open(x))
                continue;
            const char *name = json_string_value(json_object_get(x, "name"));
            const char *type = json_string_value(json_object_get(x, "type"));
            const char *sha = json_string_value(json_object_get(x, "sha256"));
            struct buf col = BUF_INIT, cell = BUF_INIT;
            buf_printf(&col, "%s.%s", key, k);
            buf_printf(&cell, "%s (%s, %lld bytes, sha256 %s)", name ? name : "file",
                       type ? type : "", (long long)json_integer_value(json_object_get(x, "size")),
                       sha ? sha : "");
            json_object_set_new(*out, col.data, json_string(cell.data));
            buf_free(&col);
            buf_free(&cell);
        }
    }
    json_decref(items);
    json_decref(doc);
    return 0;
}

static int collect_names(const struct results_view_row *v, void *ctx)
{
    struct csv_run *r = ctx;
    json_t *files = NULL;
    int rc = row_files(r->inst, v, &files, r->e);
    const char *fk;
    json_t *fx;
    json_object_foreach(files, fk, fx)
    {
        if (rc != 0 || json_object_get(r->file_names, fk))
            continue;
        if (json_object_size(r->file_names) >= FILE_COLUMNS_MAX)
            rc = err_set(r->e, OP_EINPUT,
                         "the results hold files for more than %d different questions; the CSV "
                         "export stops there (export QTI XML instead)",
                         FILE_COLUMNS_MAX);
        else
            json_object_set_new(r->file_names, fk, json_true());
    }
    json_decref(files);
    if (rc != 0)
        return rc;
    if (!v->outcomes_json)
        return 0;
    json_error_t je;
    json_t *o = json_loads(v->outcomes_json, 0, &je);
    const char *k;
    json_t *x;
    json_object_foreach(o, k, x)
    {
        if (json_object_get(r->names, k))
            continue;
        if (json_object_size(r->names) >= OUTCOME_COLUMNS_MAX) {
            json_decref(o);
            return err_set(r->e, OP_EINPUT,
                           "the results hold more than %d different test-level outcomes; the "
                           "CSV export stops there (export QTI XML instead)",
                           OUTCOME_COLUMNS_MAX);
        }
        json_object_set_new(r->names, k, json_true());
    }
    json_decref(o);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int flush_row(struct csv_run *r)
{
    buf_puts(&r->row, "\r\n");
    if (!r->row.data)
        return oom(r->e);
    int rc = r->write(r->row.data, r->row.len, r->ctx, r->e);
    buf_reset(&r->row);
    return rc;
}

static int write_csv_row(const struct results_view_row *v, void *ctx)
{
    struct csv_run *r = ctx;
    const struct result_row *x = &v->r;
    json_error_t je;
    json_t *o = v->outcomes_json ? json_loads(v->outcomes_json, 0, &je) : NULL;
    double score = 0, max = NAN;
    int scored = app_results_score(o, &score, &max);
    char s1[40] = "", s2[40] = "";
    if (scored)
        format_number(score, s1);
    if (scored && !isnan(max))
        format_number(max, s2);
    struct buf *b = &r->row;
    csv_cell(b, 1, x->id, 1);
    csv_cell(b, 0, x->execution_id, 1);
    csv_cell(b, 0, v->taker_login, 1);
    csv_cell(b, 0, v->taker_label, 1);
    csv_cell(b, 0, v->center_label, 1);
    csv_cell(b, 0, v->device_label, 1);
    csv_cell(b, 0, x->started_at, 1);
    csv_cell(b, 0, x->ended_at, 1);
    csv_cell(b, 0, x->state, 1);
    csv_cell(b, 0, x->status, 1);
    csv_cell(b, 0, x->review, 1);
    csv_cell(b, 0, s1, 0);
    csv_cell(b, 0, s2, 0);
    for (int i = 0; i < r->ncols; i++)
        csv_json_cell(b, json_object_get(o, r->cols[i]));
    json_decref(o);
    json_t *files = NULL;
    int rc = row_files(r->inst, v, &files, r->e);
    for (int i = 0; rc == 0 && i < r->nfcols; i++)
        csv_cell(b, 0, json_string_value(json_object_get(files, r->fcols[i])), 1);
    json_decref(files);
    if (rc != 0)
        return rc;
    r->rows++;
    return flush_row(r);
}

int app_results_export_csv(struct instance *inst, const struct app_results_query *q,
                           app_export_write_fn write, void *ctx, struct app_results_export_out *out,
                           struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct app_results_filter f;
    int rc = app_results_filter_make(inst, q, &f, e);
    if (rc != 0)
        return rc;
    struct csv_run r = {.inst = inst,
                        .names = json_object(),
                        .file_names = json_object(),
                        .write = write,
                        .ctx = ctx,
                        .e = e};
    r.row = (struct buf)BUF_INIT;
    rc = app_results_each(inst, &f, collect_names, &r, e);
    if (rc == 0) {
        r.ncols = (int)json_object_size(r.names);
        r.cols = calloc((size_t)r.ncols + 1, sizeof *r.cols);
        if (!r.cols)
            abort();
        const char *k;
        json_t *x;
        int i = 0;
        json_object_foreach(r.names, k, x) r.cols[i++] = k;
        qsort(r.cols, (size_t)r.ncols, sizeof *r.cols, cmp_str);
        r.nfcols = (int)json_object_size(r.file_names);
        r.fcols = calloc((size_t)r.nfcols + 1, sizeof *r.fcols);
        if (!r.fcols)
            abort();
        i = 0;
        json_object_foreach(r.file_names, k, x) r.fcols[i++] = k;
        qsort(r.fcols, (size_t)r.nfcols, sizeof *r.fcols, cmp_str);
        static const char *const head[] = {"result_id",
                                           "execution_id",
                                           "test_taker_login",
                                           "test_taker_label",
                                           "test_center",
                                           "device",
                                           "started_at",
                                           "ended_at",
                                           "state",
                                           "status",
                                           "review",
                                           "score",
                                           "max_score",
                                           NULL};
        for (i = 0; head[i]; i++)
            csv_cell(&r.row, i == 0, head[i], 0);
        for (i = 0; i < r.ncols; i++)
            csv_cell(&r.row, 0, r.cols[i], 1);
        for (i = 0; i < r.nfcols; i++)
            csv_cell(&r.row, 0, r.fcols[i], 1);
        rc = flush_row(&r);
    }
    if (rc == 0)
        rc = app_results_each(inst, &f, write_csv_row, &r, e);
    out->results = r.rows;
    out->outcomes = r.ncols;
    out->files = r.nfcols;
    free(r.cols);
    free(r.fcols);
    json_decref(r.names);
    json_decref(r.file_names);
    buf_free(&r.row);
    app_results_filter_clear(&f);
    return rc;
}

/* ---- QTI XML ---- */

static void xml_text(struct buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        case '\t':
            buf_puts(b, "&#9;");
            break;
        case '\n':
            buf_puts(b, "&#10;");
            break;
        case '\r':
            buf_puts(b, "&#13;");
            break;
        default:
            if (*p < 0x20) /* not allowed in XML 1.0, even as a reference */
                buf_puts(b, "\xef\xbf\xbd");
            else
                buf_append(b, p, 1);
        }
    }
}

/* An identifier made an NCName (what the schema's Identifier.Type is): a character that may
 * not be in one becomes '_', and one that may not start one gets a '_' before it. */
static void xml_ncname(struct buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!*p || !(isalpha(*p) || *p == '_' || *p >= 0x80))
        buf_puts(b, "_");
    for (; *p; p++) {
        char c =
            (char)(isalnum(*p) || *p == '_' || *p == '-' || *p == '.' || *p >= 0x80 ? *p : '_');
        buf_append(b, &c, 1);
    }
}

/* One value's text and base type (NULL when the value does not tell it). */
static const char *value_text(const json_t *v, char num[40], char **dumped)
{
    *dumped = NULL;
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_number(v)) {
        format_number(json_number_value(v), num);
        return num;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    *dumped = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    return *dumped ? *dumped : "";
}

static const char *base_type_of(const json_t *v)
{
    if (json_is_integer(v))
        return "integer";
    if (json_is_real(v))
        return "float";
    if (json_is_boolean(v))
        return "boolean";
    return NULL;
}

static void xml_value(struct buf *b, const json_t *v, const char *field, const char *bt)
{
    char num[40];
    char *dumped;
    const char *text = value_text(v, num, &dumped);
    buf_puts(b, "<value");
    if (field) {
        buf_puts(b, " fieldIdentifier=\"");
        xml_ncname(b, field);
        buf_puts(b, "\"");
    }
    if (bt)
        buf_printf(b, " baseType=\"%s\"", bt);
    buf_puts(b, ">");
    xml_text(b, text);
    buf_puts(b, "</value>");
    free(dumped);
}

static const char *const BASE_TYPES[] = {"boolean", "directedPair", "duration", "file",
                                         "float",   "identifier",   "integer",  "pair",
                                         "point",   "string",       "uri",      NULL};

static const char *known_base_type(const char *s)
{
    for (int i = 0; s && BASE_TYPES[i]; i++)
        if (strcmp(s, BASE_TYPES[i]) == 0)
            return BASE_TYPES[i];
    return NULL;
}

/* The values of a variable (after its opening tag): one for a single value, each of a list,
 * each field of a record ({"field": {"baseType", "value"}}), none for null. */
static void xml_values(struct buf *b, const json_t *v)
{
    if (json_is_null(v) || !v)
        return;
    if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) if (!json_is_null(x)) xml_value(b, x, NULL, NULL);
        return;
    }
    if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            const json_t *val = json_is_object(x) ? json_object_get(x, "value") : x;
            const char *bt =
                json_is_object(x)
                    ? known_base_type(json_string_value(json_object_get(x, "baseType")))
                    : NULL;
            if (!json_is_null(val))
                xml_value(b, val, k, bt ? bt : base_type_of(val));
        }
        return;
    }
    xml_value(b, v, NULL, NULL);
}

static const char *cardinality_of(const json_t *v)
{
    return json_is_array(v) ? "multiple" : json_is_object(v) ? "record" : "single";
}

/* A file a test taker gave (app/upload.h): single, base type file, its content in base64 as
 * the value (QTI's results binding has no other form for a file), its name, type and size
 * said in a comment before it. */
static void xml_file_variable(struct buf *b, const char *tag, const char *name, const json_t *v)
{
    buf_printf(b, "<%s identifier=\"", tag);
    xml_ncname(b, name);
    buf_puts(b, "\" cardinality=\"single\" baseType=\"file\">");
    if (strcmp(tag, "responseVariable") == 0)
        buf_puts(b, "<candidateResponse>");
    const char *fname = json_string_value(json_object_get(v, "name"));
    const char *type = json_string_value(json_object_get(v, "type"));
    /* a comment may not hold "--": those become "- -" */
    buf_puts(b, "<!-- file ");
    struct buf c = BUF_INIT;
    buf_printf(&c, "%s (%s, %lld bytes)", fname ? fname : "file", type ? type : "",
               (long long)json_integer_value(json_object_get(v, "size")));
    for (size_t i = 0; c.data && i < c.len; i++) {
        buf_printf(b, "%c", c.data[i]);
        if (c.data[i] == '-' && (i + 1 == c.len || c.data[i + 1] == '-'))
            buf_puts(b, " ");
    }
    buf_free(&c);
    buf_puts(b, " --><value>");
    xml_text(b, json_string_value(json_object_get(v, "data")));
    buf_puts(b, "</value>");
    if (strcmp(tag, "responseVariable") == 0)
        buf_puts(b, "</candidateResponse>");
    buf_printf(b, "</%s>\n", tag);
}

/* <responseVariable> or <outcomeVariable> of `name` holding `v`. */
static void xml_variable(struct buf *b, int response, const char *name, const json_t *v)
{
    const char *tag = response ? "responseVariable" : "outcomeVariable";
    if (app_upload_is_open(v)) {
        xml_file_variable(b, tag, name, v);
        return;
    }
    buf_printf(b, "<%s identifier=\"", tag);
    xml_ncname(b, name);
    buf_printf(b, "\" cardinality=\"%s\"", cardinality_of(v));
    const char *bt = json_is_array(v) ? base_type_of(json_array_get(v, 0)) : base_type_of(v);
    if (bt && !json_is_object(v))
        buf_printf(b, " baseType=\"%s\"", bt);
    buf_puts(b, ">");
    if (response)
        buf_puts(b, "<candidateResponse>");
    xml_values(b, v);
    if (response)
        buf_puts(b, "</candidateResponse>");
    buf_printf(b, "</%s>\n", tag);
}

static void xml_variables(struct buf *b, int response, const json_t *vars)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)vars, k, v) xml_variable(b, response, k, v);
}

static void xml_session_id(struct buf *b, const char *source, const char *id)
{
    if (!id || !*id)
        return;
    buf_printf(b, "<sessionIdentifier sourceID=\"urn:outpost:%s\" identifier=\"", source);
    xml_text(b, id);
    buf_puts(b, "\"/>\n");
}

/* The assessmentResult of one decrypted result into b. */
static void qti_document(struct buf *b, const struct results_view_row *v, const json_t *doc)
{
    const json_t *outcome = json_object_get(doc, "outcome");
    const char *datestamp = v->r.ended_at;
    buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<assessmentResult xmlns=\"http://www.imsglobal.org/xsd/imsqti_result_v2p1\""
                " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
                " xsi:schemaLocation=\"http://www.imsglobal.org/xsd/imsqti_result_v2p1"
                " http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_result_v2p1.xsd\">\n");
    buf_printf(b, "<context sourcedId=\"r-%s\">\n", v->r.id);
    xml_session_id(b, "result", v->r.id);
    xml_session_id(b, "execution", v->r.execution_id);
    xml_session_id(b, "test-taker", v->r.test_taker_id);
    xml_session_id(b, "test-taker-login", v->taker_login);
    xml_session_id(b, "delivery", v->r.delivery_id);
    xml_session_id(b, "test-center", v->center_id);
    xml_session_id(b, "device", v->r.device_id);
    buf_puts(b, "</context>\n<testResult identifier=\"");
    const char *test = json_string_value(json_object_get(outcome, "test"));
    xml_text(b, test && *test ? test : v->r.delivery_id);
    buf_printf(b, "\" datestamp=\"%s\">\n", datestamp);
    xml_variables(b, 0, json_object_get(outcome, "outcomes"));
    buf_puts(b, "</testResult>\n");
    json_t *items = app_results_items_json(outcome);
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it)
    {
        buf_puts(b, "<itemResult identifier=\"");
        xml_text(b, json_string_value(json_object_get(it, "key")));
        buf_printf(b, "\" sequenceIndex=\"%zu\" datestamp=\"%s\" sessionStatus=\"final\">\n", i + 1,
                   datestamp);
        const json_t *values = json_object_get(it, "values");
        if (json_is_object(values)) { /* a terminated test's: responses and outcomes together */
            const char *k;
            const json_t *x;
            json_object_foreach((json_t *)values, k, x)
                xml_variable(b, strncmp(k, "RESPONSE", 8) == 0, k, x);
        } else {
            xml_variables(b, 1, json_object_get(it, "responses"));
            xml_variables(b, 0, json_object_get(it, "outcomes"));
        }
        buf_puts(b, "</itemResult>\n");
    }
    json_decref(items);
    buf_puts(b, "</assessmentResult>\n");
}

/* The document of the result of row v (decrypted) into b. */
static int qti_of_row(struct instance *inst, const struct results_view_row *v, struct buf *b,
                      struct op_err *e)
{
    json_t *doc = NULL;
    int rc = result_doc(inst, v, &doc, e);
    if (rc != 0)
        return rc;
    qti_document(b, v, doc);
    json_decref(doc);
    return b->data ? 0 : oom(e);
}

int app_results_qti_xml(struct instance *inst, const char *id, const char *admin_id,
                        app_export_write_fn write, void *ctx, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "a result's QTI XML", e);
    if (rc != 0)
        return rc;
    if (!id || !uuid_is_valid(id))
        return err_set_field(e, OP_EINPUT, "id", "give a result's id (a UUID)");
    struct results_view_row v;
    rc = results_view_get(inst->db, id, admin_id && *admin_id ? admin_id : NULL, &v, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no result %s", id);
    if (rc != 0)
        return rc;
    if (strcmp(v.r.status, "decrypted") != 0) {
        rc = err_set(e, OP_ESTATE, "result %s is %s, not decrypted: nothing to report yet", id,
                     v.r.status);
        results_view_row_clear(&v);
        return rc;
    }
    struct buf b = BUF_INIT;
    rc = qti_of_row(inst, &v, &b, e);
    if (rc == 0)
        rc = write(b.data, b.len, ctx, e);
    buf_free(&b);
    results_view_row_clear(&v);
    return rc;
}

/* ---- the ZIP of QTI documents ---- */

/* Shared by every entry of one archive: the document being written and the first error. */
struct zip_run {
    struct instance *inst;
    zip_t *za;
    struct buf doc;
    size_t pos;
    int64_t added, skipped;
    struct op_err err;
    int failed;
};

/* One entry: its result's id; the row and the document are read when libzip writes it. */
struct zip_entry {
    struct zip_run *run;
    char id[UUID_STR_LEN];
};

/* The document of result `id` into run->doc. */
static int entry_document(struct zip_run *run, const char *id)
{
    struct results_view_row v;
    int rc = results_view_get(run->inst->db, id, NULL, &v, &run->err);
    if (rc == OP_ENOTFOUND)
        rc = err_set(&run->err, OP_ENOTFOUND, "result %s vanished during the export", id);
    if (rc == 0)
        rc = qti_of_row(run->inst, &v, &run->doc, &run->err);
    results_view_row_clear(&v);
    return rc;
}

static zip_int64_t entry_source(void *user, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct zip_entry *en = user;
    struct zip_run *run = en->run;
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        buf_reset(&run->doc);
        run->pos = 0;
        if (entry_document(run, en->id) != 0) {
            run->failed = 1;
            return -1;
        }
        return 0;
    case ZIP_SOURCE_READ: {
        size_t left = run->doc.len - run->pos;
        size_t n = left < len ? left : (size_t)len;
        memcpy(data, run->doc.data + run->pos, n);
        run->pos += n;
        return (zip_int64_t)n;
    }
    case ZIP_SOURCE_CLOSE:
        buf_free(&run->doc);
        return 0;
    case ZIP_SOURCE_STAT: {
        zip_stat_t *st = data;
        zip_stat_init(st);
        return sizeof *st;
    }
    case ZIP_SOURCE_ERROR: {
        zip_error_t ze;
        zip_error_init_with_code(&ze, ZIP_ER_READ);
        zip_int64_t n = zip_error_to_data(&ze, data, len);
        zip_error_fini(&ze);
        return n;
    }
    case ZIP_SOURCE_FREE:
        free(en);
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                              -1);
    default:
        return -1;
    }
}

static int add_entry(const struct results_view_row *v, void *ctx)
{
    struct zip_run *run = ctx;
    if (strcmp(v->r.status, "decrypted") != 0) {
        run->skipped++;
        return 0;
    }
    struct zip_entry *en = calloc(1, sizeof *en);
    if (!en)
        abort();
    en->run = run;
    memcpy(en->id, v->r.id, sizeof en->id);
    zip_source_t *src = zip_source_function(run->za, entry_source, en);
    if (!src) {
        free(en);
        return err_set(&run->err, OP_ENOMEM, "out of memory building the archive");
    }
    char name[UUID_STR_LEN + 8];
    snprintf(name, sizeof name, "%s.xml", v->r.id);
    if (zip_file_add(run->za, name, src, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(src);
        return err_set(&run->err, OP_EIO, "adding %s to the archive: %s", name,
                       zip_strerror(run->za));
    }
    run->added++;
    return 0;
}

static int export_zip(struct instance *inst, const struct app_results_filter *f, const char *path,
                      struct app_results_export_out *out, struct op_err *e)
{
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        int rc =
            err_set(e, OP_EIO, "%s: cannot create the archive: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return rc;
    }
    struct zip_run run = {.inst = inst, .za = za};
    run.doc = (struct buf)BUF_INIT;
    int rc = app_results_each(inst, f, add_entry, &run, e);
    if (rc != 0 && run.err.code)
        *e = run.err;
    if (rc == 0 && zip_close(za) != 0) {
        rc = run.failed ? run.err.code : OP_EIO;
        if (run.failed)
            *e = run.err;
        else
            err_set(e, OP_EIO, "%s: writing the archive: %s", path, zip_strerror(za));
        zip_discard(za);
    } else if (rc != 0) {
        zip_discard(za);
    }
    buf_free(&run.doc);
    out->results = run.added;
    out->skipped = run.skipped;
    if (rc == 0)
        chmod(path, 0600);
    return rc;
}

/* ---- to a file ---- */

static int write_fd(const void *data, size_t len, void *ctx, struct op_err *e)
{
    int fd = *(int *)ctx;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(e, OP_EIO, "writing the export: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int app_results_export_file(struct instance *inst, const struct app_results_query *q,
                            enum app_export_format format, const char *path,
                            struct app_results_export_out *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    if (format == APP_EXPORT_QTI_XML) {
        struct app_results_filter f;
        int rc = app_results_filter_make(inst, q, &f, e);
        if (rc == 0)
            rc = export_zip(inst, &f, path, out, e);
        app_results_filter_clear(&f);
        return rc;
    }
    struct buf tmp = BUF_INIT;
    buf_printf(&tmp, "%s.tmp-XXXXXX", path);
    if (!tmp.data)
        return oom(e);
    int fd = mkstemp(tmp.data);
    if (fd < 0) {
        int rc = err_set(e, OP_EIO, "%s: cannot create the export next to it: %s", path,
                         strerror(errno));
        buf_free(&tmp);
        return rc;
    }
    int rc = app_results_export_csv(inst, q, write_fd, &fd, out, e);
    if (rc == 0 && fsync(fd) != 0)
        rc = err_set(e, OP_EIO, "%s: %s", tmp.data, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = err_set(e, OP_EIO, "%s: %s", tmp.data, strerror(errno));
    if (rc == 0 && rename(tmp.data, path) != 0)
        rc = err_set(e, OP_EIO, "%s: cannot put the export in place: %s", path, strerror(errno));
    if (rc != 0)
        unlink(tmp.data);
    else
        fs_fsync_dir_of(path);
    buf_free(&tmp);
    return rc;
}
