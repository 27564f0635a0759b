/*
 * results_view.c - the results tab's rules (see results_view.h): the query checked and made a
 * store filter, pages and walks, the full view of one result with its audit chain verified,
 * the score distribution, the review within the caller's scope, and the summary recorded at
 * decryption.
 */
#include "app/results_view.h"

#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/deliveries.h"
#include "app/results.h"
#include "app/upload.h"
#include "store/deliveries.h"
#include "store/executions.h"

#define SEARCH_MAX   100 /* bytes of a test taker search */
#define PAGE_DEFAULT 50
#define PAGE_MAX     500
#define WALK_PAGE    500

/* ---- the query ---- */

/* "YYYY-MM-DD" (a day: its start, or with `end` the start of the next day) or a full time
 * stamp "YYYY-MM-DDTHH:MM:SSZ", written into out as a time stamp. */
static int parse_day(const char *s, int end, const char *field, char out[TIMESTAMP_STR_LEN],
                     struct op_err *e)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
    size_t len = strlen(s);
    int ok = 0;
    if (len == 10)
        ok = sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10;
    else if (len == 20)
        ok =
            sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 && n == 20;
    for (size_t i = 0; ok && i < len; i++)
        if (!isdigit((unsigned char)s[i]) && !strchr("-T:Z", s[i]))
            ok = 0;
    if (ok && (y < 2000 || y > 9998 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
               sec > 59))
        ok = 0;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = ok ? timegm(&tm) : (time_t)-1;
    if (ok && (tm.tm_mday != d || tm.tm_mon != mo - 1)) /* 2026-02-30 */
        ok = 0;
    if (!ok || t == (time_t)-1)
        return err_set_field(e, OP_EINPUT, field,
                             "%s: \"%.40s\" is not a date (YYYY-MM-DD) or a time stamp "
                             "(YYYY-MM-DDTHH:MM:SSZ)",
                             field, s);
    if (end && len == 10)
        t += 86400;
    timestamp_format(t, out);
    return 0;
}

/* The LIKE pattern of what was typed: lower case, %, _ and \ escaped, inside % ... %. */
static int make_search(const char *s, char **out, struct op_err *e)
{
    size_t n = strlen(s);
    if (n > SEARCH_MAX)
        return err_set_field(e, OP_EINPUT, "search", "search: at most %d bytes", SEARCH_MAX);
    char *p = malloc(2 * n + 3), *w = p;
    if (!p)
        abort();
    *w++ = '%';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            free(p);
            return err_set_field(e, OP_EINPUT, "search", "search: no control characters");
        }
        if (c == '%' || c == '_' || c == '\\')
            *w++ = '\\';
        *w++ = (char)tolower(c);
    }
    *w++ = '%';
    *w = '\0';
    *out = p;
    return 0;
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* A page cursor is "STARTED_AT,ID" of the last row of the page before. */
static int parse_cursor(const char *after, char started[TIMESTAMP_STR_LEN], char id[UUID_STR_LEN],
                        struct op_err *e)
{
    started[0] = id[0] = '\0';
    if (!after || !*after)
        return 0;
    const char *comma = strchr(after, ',');
    size_t sl = comma ? (size_t)(comma - after) : 0;
    if (!comma || sl != TIMESTAMP_STR_LEN - 5 || !uuid_is_valid(comma + 1))
        return err_set_field(e, OP_EINPUT, "after",
                             "after: not a cursor this list gave (use the \"next\" of a page)");
    memcpy(started, after, sl);
    started[sl] = '\0';
    snprintf(id, UUID_STR_LEN, "%s", comma + 1);
    return 0;
}

void app_results_filter_clear(struct app_results_filter *f)
{
    free(f->delivery_label);
    free(f->search);
    memset(f, 0, sizeof *f);
}

int app_results_query_parse(const struct app_results_query *q, const char *after,
                            struct app_results_filter *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc;
    if (!nonempty(q->delivery))
        return err_set_field(e, OP_EINPUT, "delivery", "give a delivery (its id or label)");
    if (strlen(q->delivery) > 1000)
        return err_set_field(e, OP_EINPUT, "delivery", "delivery: at most 1000 bytes");
    const char *status = nonempty(q->status), *state = nonempty(q->state);
    if (status && app_results_check_status(status, e) != 0) {
        snprintf(e->field, sizeof e->field, "status");
        return OP_EINPUT;
    }
    if (state && strcmp(state, "finished") != 0 && strcmp(state, "terminated") != 0)
        return err_set_field(e, OP_EINPUT, "state",
                             "unknown state \"%.40s\" (use finished or terminated)", state);
    const char *center = nonempty(q->center);
    if (center && !uuid_is_valid(center))
        return err_set_field(e, OP_EINPUT, "center", "center: give a test center's id");
    if (nonempty(q->from) && (rc = parse_day(q->from, 0, "from", out->from, e)) != 0)
        return rc;
    if (nonempty(q->to) && (rc = parse_day(q->to, 1, "to", out->to, e)) != 0)
        return rc;
    if ((rc = parse_cursor(after, out->after_started, out->after_id, e)) != 0)
        return rc;
    if (nonempty(q->search) && (rc = make_search(q->search, &out->search, e)) != 0)
        return rc;
    out->f = (struct results_filter){
        .delivery_id = out->delivery_id,
        .center_id = center,
        .status = status,
        .state = state,
        .from = out->from[0] ? out->from : NULL,
        .to = out->to[0] ? out->to : NULL,
        .search = out->search,
        .admin_id = nonempty(q->admin_id),
    };
    return 0;
}

static int filter_make(struct instance *inst, const struct app_results_query *q, const char *after,
                       struct app_results_filter *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "the results of a delivery", e);
    if (rc != 0)
        return rc;
    if ((rc = app_results_query_parse(q, after, out, e)) != 0) {
        app_results_filter_clear(out);
        return rc;
    }
    /* a delivery there now: the view shows its label (a deleted one's results are listed by
     * results list, which takes its id) */
    rc =
        app_deliveries_resolve(inst->db, q->delivery, 0, out->delivery_id, &out->delivery_label, e);
    if (rc != 0)
        app_results_filter_clear(out);
    return rc;
}

int app_results_filter_make(struct instance *inst, const struct app_results_query *q,
                            struct app_results_filter *out, struct op_err *e)
{
    return filter_make(inst, q, NULL, out, e);
}

/* ---- rows ---- */

static const char *const SCORE_NAMES[] = {"SCORE_TOTAL", "TOTAL_SCORE", "SCORE", NULL};
static const char *const MAX_NAMES[] = {"SCORE_TOTAL_MAX", "MAX_SCORE", "MAXSCORE", NULL};

static int number_of(const json_t *outcomes, const char *const *names, double *out)
{
    for (int i = 0; names[i]; i++) {
        const json_t *v = json_object_get(outcomes, names[i]);
        if (json_is_number(v)) {
            *out = json_number_value(v);
            return 1;
        }
    }
    return 0;
}

int app_results_score(const json_t *outcomes, double *score, double *max)
{
    *max = NAN;
    if (!json_is_object(outcomes) || !number_of(outcomes, SCORE_NAMES, score))
        return 0;
    number_of(outcomes, MAX_NAMES, max);
    return 1;
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *app_results_row_json(const struct results_view_row *v)
{
    const struct result_row *r = &v->r;
    json_error_t je;
    json_t *outcomes = v->outcomes_json ? json_loads(v->outcomes_json, 0, &je) : NULL;
    double score = 0, max = NAN;
    int scored = app_results_score(outcomes, &score, &max);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "execution_id", json_string(r->execution_id));
    json_object_set_new(o, "delivery_id", json_string(r->delivery_id));
    json_object_set_new(o, "test_taker",
                        json_pack("{s:s, s:o, s:o}", "id", r->test_taker_id, "login",
                                  str_or_null(v->taker_login), "label",
                                  str_or_null(v->taker_label)));
    json_object_set_new(o, "center",
                        v->center_id[0] ? json_pack("{s:s, s:o}", "id", v->center_id, "label",
                                                    str_or_null(v->center_label))
                                        : json_null());
    json_object_set_new(
        o, "device",
        json_pack("{s:s, s:o}", "id", r->device_id, "label", str_or_null(v->device_label)));
    json_object_set_new(o, "state", json_string(r->state));
    json_object_set_new(o, "status", json_string(r->status));
    json_object_set_new(o, "review", str_or_null(r->review));
    json_object_set_new(o, "review_reason", str_or_null(r->review_reason));
    json_object_set_new(o, "problem", str_or_null(r->problem));
    json_object_set_new(o, "quarantined", json_integer(r->quarantined));
    json_object_set_new(o, "started_at", json_string(r->started_at));
    json_object_set_new(o, "ended_at", json_string(r->ended_at));
    json_object_set_new(o, "received_at", json_string(r->received_at));
    json_object_set_new(o, "decrypted_at", str_or_null(r->decrypted_at));
    json_object_set_new(o, "score", scored ? json_real(score) : json_null());
    json_object_set_new(o, "max_score", scored && !isnan(max) ? json_real(max) : json_null());
    json_object_set_new(o, "outcomes", outcomes ? outcomes : json_null());
    return o;
}

/* ---- pages and walks ---- */

int app_results_page(struct instance *inst, const struct app_results_query *q, const char *after,
                     int limit, json_t **out, struct op_err *e)
{
    *out = NULL;
    if (limit == 0)
        limit = PAGE_DEFAULT;
    if (limit < 1 || limit > PAGE_MAX)
        return err_set_field(e, OP_EINPUT, "limit", "limit: 1 to %d results a page, not %d",
                             PAGE_MAX, limit);
    struct app_results_filter f;
    int rc = filter_make(inst, q, after, &f, e);
    if (rc != 0)
        return rc;
    /* the total on the first page only: counting costs more than a page (every result the
     * filters select is counted), and the page after it has it already */
    int64_t total = -1;
    struct results_view_page p;
    memset(&p, 0, sizeof p);
    if (!f.after_started[0])
        rc = results_view_count(inst->db, &f.f, &total, e);
    if (rc == 0)
        rc = results_view_read(inst->db, &f.f, f.after_started, f.after_id, limit, &p, e);
    if (rc == 0) {
        json_t *rows = json_array();
        for (int i = 0; i < p.n; i++)
            json_array_append_new(rows, app_results_row_json(&p.rows[i]));
        char next[TIMESTAMP_STR_LEN + UUID_STR_LEN + 1];
        snprintf(next, sizeof next, "%s,%s", p.next_started, p.next_id);
        *out = json_pack("{s:{s:s, s:s}, s:o, s:o, s:o}", "delivery", "id", f.delivery_id, "label",
                         f.delivery_label, "total", total >= 0 ? json_integer(total) : json_null(),
                         "results", rows, "next", p.more ? json_string(next) : json_null());
        if (!*out)
            rc = err_set(e, OP_ENOMEM, "out of memory");
    }
    results_view_page_clear(&p);
    app_results_filter_clear(&f);
    return rc;
}

int app_results_each(struct instance *inst, const struct app_results_filter *f,
                     app_results_row_fn fn, void *ctx, struct op_err *e)
{
    char started[TIMESTAMP_STR_LEN] = "", id[UUID_STR_LEN] = "";
    for (;;) {
        struct results_view_page p;
        int rc = results_view_read(inst->db, &f->f, started, id, WALK_PAGE, &p, e);
        if (rc != 0)
            return rc;
        for (int i = 0; i < p.n && rc == 0; i++)
            rc = fn(&p.rows[i], ctx);
        int more = p.more;
        memcpy(started, p.next_started, sizeof started);
        memcpy(id, p.next_id, sizeof id);
        results_view_page_clear(&p);
        if (rc != 0 || !more)
            return rc;
    }
}

/* ---- one result ---- */

static const char *member_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : NULL;
}

/* Copies `s` into dst (cap bytes), 0 if it fits. */
static int copy_field(char *dst, size_t cap, const char *s)
{
    if (!s || strlen(s) >= cap)
        return -1;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

int app_results_audit_check(const json_t *audit, const char *execution_id, int64_t *bad,
                            char why[APP_AUDIT_WHY_MAX])
{
    *bad = 0;
    why[0] = '\0';
    if (!json_is_array(audit) || json_array_size(audit) == 0) {
        *bad = 1;
        snprintf(why, APP_AUDIT_WHY_MAX, "the result carries no audit log");
        return 1;
    }
    char prev[SHA256_HEX_LEN];
    memset(prev, '0', SHA256_HEX_LEN - 1);
    prev[SHA256_HEX_LEN - 1] = '\0';
    size_t i;
    const json_t *en;
    json_array_foreach(audit, i, en)
    {
        int64_t pos = (int64_t)i + 1;
        struct audit_entry *a = calloc(1, sizeof *a);
        if (!a)
            abort();
        const json_t *detail = json_object_get(en, "detail");
        char *dtext = json_is_string(detail) ? strdup(json_string_value(detail))
                      : detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
                               : NULL;
        int shape =
            json_is_object(en) && json_is_integer(json_object_get(en, "seq")) &&
            json_is_integer(json_object_get(en, "at")) && dtext &&
            copy_field(a->execution_id, sizeof a->execution_id, execution_id) == 0 &&
            copy_field(a->actor_id, sizeof a->actor_id, member_str(en, "actor_id")) == 0 &&
            copy_field(a->actor_role, sizeof a->actor_role, member_str(en, "actor_role")) == 0 &&
            copy_field(a->action, sizeof a->action, member_str(en, "action")) == 0 &&
            copy_field(a->from_state, sizeof a->from_state, member_str(en, "from")) == 0 &&
            copy_field(a->to_state, sizeof a->to_state, member_str(en, "to")) == 0 &&
            copy_field(a->detail, sizeof a->detail, dtext) == 0 &&
            copy_field(a->prev_hash, sizeof a->prev_hash, member_str(en, "prev_hash")) == 0 &&
            copy_field(a->hash, sizeof a->hash, member_str(en, "hash")) == 0;
        free(dtext);
        if (!shape) {
            free(a);
            *bad = pos;
            snprintf(why, APP_AUDIT_WHY_MAX,
                     "entry %lld is malformed (a member missing, of the "
                     "wrong type or too long)",
                     (long long)pos);
            return 1;
        }
        a->seq = json_integer_value(json_object_get(en, "seq"));
        a->at = json_integer_value(json_object_get(en, "at"));
        char h[SHA256_HEX_LEN];
        struct op_err e = {0};
        int rc = audit_hash(a, prev, h, &e);
        const char *wrong = rc != 0         ? "cannot be hashed"
                            : a->seq != pos ? "is out of order (its seq is not its place)"
                            : strcmp(a->prev_hash, prev) != 0
                                ? "does not follow the entry before it "
                                  "(prev_hash differs)"
                            : strcmp(a->hash, h) != 0 ? "was altered (its hash does not match its "
                                                        "content)"
                                                      : NULL;
        memcpy(prev, a->hash, SHA256_HEX_LEN);
        free(a);
        if (wrong) {
            *bad = pos;
            snprintf(why, APP_AUDIT_WHY_MAX, "entry %lld %s", (long long)pos, wrong);
            return 1;
        }
    }
    return 0;
}

/* The items of a result's outcome in the route's order, then any not on the route. */
json_t *app_results_items_json(const json_t *outcome)
{
    const json_t *items = json_object_get(outcome, "items");
    const json_t *route = json_object_get(outcome, "route");
    json_t *out = json_array();
    if (!json_is_object(items))
        return out;
    json_t *seen = json_object();
    size_t i;
    const json_t *k;
    json_array_foreach(route, i, k)
    {
        const char *key = json_string_value(k);
        const json_t *it = key ? json_object_get(items, key) : NULL;
        if (!it || json_object_get(seen, key))
            continue;
        json_object_set_new(seen, key, json_true());
        json_t *o = json_deep_copy(it);
        json_object_set_new(o, "key", json_string(key));
        json_array_append_new(out, o);
    }
    const char *key;
    json_t *it;
    json_object_foreach((json_t *)items, key, it)
    {
        if (json_object_get(seen, key) || !json_is_object(it))
            continue;
        json_t *o = json_deep_copy(it);
        json_object_set_new(o, "key", json_string(key));
        json_array_append_new(out, o);
    }
    json_decref(seen);
    return out;
}

int app_results_detail(struct instance *inst, const char *id, const char *admin_id, json_t **out,
                       struct op_err *e)
{
    *out = NULL;
    int rc = instance_require_role(inst, ROLE_CENTRAL, "a result", e);
    if (rc != 0)
        return rc;
    if (!id || !uuid_is_valid(id))
        return err_set_field(e, OP_EINPUT, "id", "give a result's id (a UUID)");
    struct results_view_row v;
    rc = results_view_get(inst->db, id, nonempty(admin_id), &v, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no result %s", id);
    if (rc != 0)
        return rc;
    char *text = NULL;
    json_t *doc = NULL;
    if (strcmp(v.r.status, "decrypted") == 0) {
        if ((rc = results_get_json(inst->db, id, &text, e)) != 0) {
            results_view_row_clear(&v);
            return rc;
        }
        json_error_t je;
        doc = json_loads(text, 0, &je);
        free(text);
    }
    json_t *o = app_results_row_json(&v);
    struct delivery d;
    memset(&d, 0, sizeof d);
    struct op_err ignored = {0};
    if (deliveries_get(inst->db, v.r.delivery_id, &d, &ignored) == 0)
        json_object_set_new(o, "delivery_label", json_string(d.label));
    else
        json_object_set_new(o, "delivery_label", json_null());
    delivery_clear(&d);
    if (doc) {
        const json_t *outcome = json_object_get(doc, "outcome");
        json_object_set_new(o, "outcome_partial",
                            json_boolean(json_is_true(json_object_get(outcome, "partial"))));
        json_t *items = app_results_items_json(outcome);
        app_upload_strip_all(items); /* a file is downloaded on its own (app_results_file) */
        json_object_set_new(o, "items", items);
        const json_t *audit = json_object_get(doc, "audit");
        int64_t bad = 0;
        char why[APP_AUDIT_WHY_MAX];
        int broken = app_results_audit_check(audit, v.r.execution_id, &bad, why);
        json_object_set_new(o, "audit",
                            json_pack("{s:O, s:b, s:o, s:o}", "entries",
                                      json_is_array(audit) ? audit : json_array(), "verified",
                                      !broken, "broken_at",
                                      broken ? json_integer(bad) : json_null(), "problem",
                                      broken ? json_string(why) : json_null()));
        json_decref(doc);
    } else {
        json_object_set_new(o, "outcome_partial", json_false());
        json_object_set_new(o, "items", json_null());
        json_object_set_new(o, "audit", json_null());
    }
    results_view_row_clear(&v);
    *out = o;
    return 0;
}

void app_result_file_clear(struct app_result_file *f)
{
    free(f->data);
    free(f->type);
    free(f->name);
    memset(f, 0, sizeof *f);
}

/* An item key or a response identifier in a path: letters, digits, '_', '-', '.', at most 128. */
static int path_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("_-.", s[i]))
            return 0;
    return 1;
}

int app_results_file(struct instance *inst, const char *id, const char *admin_id, const char *item,
                     const char *response, struct app_result_file *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_CENTRAL, "a result's file", e);
    if (rc != 0)
        return rc;
    if (!id || !uuid_is_valid(id) || !path_name_ok(item) || !path_name_ok(response))
        return err_set(e, OP_ENOTFOUND, "no such file of a result");
    struct results_view_row v;
    rc = results_view_get(inst->db, id, nonempty(admin_id), &v, e);
    if (rc == OP_ENOTFOUND)
        return err_set(e, OP_ENOTFOUND, "no result %s", id);
    if (rc != 0)
        return rc;
    int decrypted = strcmp(v.r.status, "decrypted") == 0;
    results_view_row_clear(&v);
    if (!decrypted)
        return err_set(e, OP_ENOTFOUND, "result %s is not decrypted", id);
    char *text = NULL;
    if ((rc = results_get_json(inst->db, id, &text, e)) != 0)
        return rc;
    json_error_t je;
    json_t *doc = json_loads(text, 0, &je);
    free(text);
    const json_t *it =
        json_object_get(json_object_get(json_object_get(doc, "outcome"), "items"), item);
    const json_t *vars = json_object_get(it, "responses");
    if (!vars)
        vars = json_object_get(it, "values"); /* a terminated test's */
    const json_t *f = json_object_get(vars, response);
    if (!app_upload_is_open(f)) {
        json_decref(doc);
        return err_set(e, OP_ENOTFOUND, "result %s: item %s has no file response %s", id, item,
                       response);
    }
    const char *b64 = json_string_value(json_object_get(f, "data"));
    const char *name = json_string_value(json_object_get(f, "name"));
    size_t b64len = strlen(b64), cap = b64len / 4 * 3 + 3;
    out->data = malloc(cap);
    out->type = strdup(json_string_value(json_object_get(f, "type")));
    out->name = strdup(name && *name ? name : "file");
    if (!out->data || !out->type || !out->name) {
        json_decref(doc);
        app_result_file_clear(out);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    rc = sodium_base642bin(out->data, cap, b64, b64len, NULL, &out->len, NULL,
                           sodium_base64_VARIANT_ORIGINAL);
    json_decref(doc);
    if (rc != 0) {
        app_result_file_clear(out);
        return err_set(e, OP_ESTATE, "result %s: the file of item %s is damaged", id, item);
    }
    return 0;
}

/* ---- the score distribution ---- */

struct dist {
    double *scores;
    size_t n, cap;
    int64_t results;
    double max_score;
    int max_agree; /* 1 while every scored result gave the same maximum, -1 once they differ */
};

static int dist_row(const struct results_view_row *v, void *ctx)
{
    struct dist *d = ctx;
    d->results++;
    if (!v->outcomes_json)
        return 0;
    json_error_t je;
    json_t *o = json_loads(v->outcomes_json, 0, &je);
    double s, m;
    if (app_results_score(o, &s, &m) && isfinite(s)) {
        if (d->n == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 256;
            double *g = realloc(d->scores, sizeof *g * d->cap);
            if (!g)
                abort();
            d->scores = g;
        }
        d->scores[d->n++] = s;
        if (isfinite(m) && d->max_agree == 0) {
            d->max_score = m;
            d->max_agree = 1;
        } else if (d->max_agree == 1 && !(isfinite(m) && m == d->max_score)) {
            d->max_agree = -1;
        } else if (d->max_agree == 0 && !isfinite(m)) {
            d->max_agree = -1;
        }
    }
    json_decref(o);
    return 0;
}

int app_results_distribution(struct instance *inst, const struct app_results_query *q, int nb,
                             json_t **out, struct op_err *e)
{
    *out = NULL;
    if (nb == 0)
        nb = 10;
    if (nb < 1 || nb > 50)
        return err_set_field(e, OP_EINPUT, "buckets", "buckets: 1 to 50, not %d", nb);
    struct app_results_filter f;
    int rc = app_results_filter_make(inst, q, &f, e);
    if (rc != 0)
        return rc;
    struct dist d = {0};
    rc = app_results_each(inst, &f, dist_row, &d, e);
    if (rc == 0) {
        double lo = 0, hi = 0, sum = 0, mn = 0, mx = 0;
        for (size_t i = 0; i < d.n; i++) {
            double s = d.scores[i];
            mn = i == 0 || s < mn ? s : mn;
            mx = i == 0 || s > mx ? s : mx;
            sum += s;
        }
        int has_max = d.max_agree == 1;
        lo = mn < 0 ? mn : 0;
        hi = has_max && d.max_score > mx ? d.max_score : mx;
        if (hi <= lo)
            hi = lo + 1;
        double width = (hi - lo) / nb;
        int64_t *count = calloc((size_t)nb, sizeof *count);
        if (!count)
            abort();
        for (size_t i = 0; i < d.n; i++) {
            int b = (int)floor((d.scores[i] - lo) / width);
            count[b < 0 ? 0 : b >= nb ? nb - 1 : b]++;
        }
        json_t *buckets = json_array();
        for (int b = 0; b < nb; b++)
            json_array_append_new(buckets, json_pack("{s:f, s:f, s:I}", "from", lo + b * width,
                                                     "to", b == nb - 1 ? hi : lo + (b + 1) * width,
                                                     "count", (json_int_t)count[b]));
        free(count);
        *out = json_pack("{s:{s:s, s:s}, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "delivery", "id",
                         f.delivery_id, "label", f.delivery_label, "results", (json_int_t)d.results,
                         "scored", (json_int_t)d.n, "min", d.n ? json_real(mn) : json_null(), "max",
                         d.n ? json_real(mx) : json_null(), "mean",
                         d.n ? json_real(sum / (double)d.n) : json_null(), "max_score",
                         has_max ? json_real(d.max_score) : json_null(), "buckets", buckets);
        if (!*out)
            rc = err_set(e, OP_ENOMEM, "out of memory");
    }
    free(d.scores);
    app_results_filter_clear(&f);
    return rc;
}

/* ---- review ---- */

int app_results_review(struct instance *inst, const char *id, const char *admin_id, int accept,
                       const char *reason, struct op_err *e)
{
    int rc = instance_require_role(inst, ROLE_CENTRAL, "reviewing a result", e);
    if (rc != 0)
        return rc;
    if (!id || !uuid_is_valid(id))
        return err_set_field(e, OP_EINPUT, "id", "give a result's id (a UUID)");
    if (nonempty(admin_id)) {
        struct results_view_row v;
        rc = results_view_get(inst->db, id, admin_id, &v, e);
        if (rc == OP_ENOTFOUND)
            return err_set(e, OP_ENOTFOUND, "no result %s", id);
        results_view_row_clear(&v);
        if (rc != 0)
            return rc;
    }
    rc = accept ? app_results_accept(inst, id, e) : app_results_reject(inst, id, reason, e);
    /* not held for review, or decided already: a state the request contradicts (409), not a
     * fault of the instance */
    if (rc == OP_ESTATE)
        e->code = rc = OP_ECONFLICT;
    return rc;
}

int app_results_review_body(const json_t *body, int accept, const char **reason, struct op_err *e)
{
    *reason = NULL;
    if (!json_is_object(body))
        return err_set_field(e, OP_EINPUT, "body", "the body is a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v)
    {
        if (accept || strcmp(k, "reason") != 0)
            return err_set_field(e, OP_EINPUT, "body", "unknown member \"%.40s\"%s", k,
                                 accept ? " (accepting takes no member)" : " (only reason)");
        if (!json_is_string(v) && !json_is_null(v))
            return err_set_field(e, OP_EINPUT, "reason", "reason: a text");
        if (json_is_string(v) && json_string_length(v) > APP_REVIEW_REASON_MAX)
            return err_set_field(e, OP_EINPUT, "reason", "reason: at most %d bytes",
                                 APP_REVIEW_REASON_MAX);
        if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
            return err_set_field(e, OP_EINPUT, "reason", "reason: no NUL character");
        *reason = json_string_value(v);
    }
    return 0;
}

/* ---- the summary recorded at decryption ---- */

int app_results_summarise(struct db *db, const char *id, const char *result_json, struct op_err *e)
{
    json_error_t je;
    json_t *doc = result_json ? json_loads(result_json, 0, &je) : NULL;
    const json_t *outcomes = json_object_get(json_object_get(doc, "outcome"), "outcomes");
    char *text =
        json_is_object(outcomes) ? json_dumps(outcomes, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    const char *center =
        json_string_value(json_object_get(json_object_get(doc, "execution"), "center_id"));
    int rc = results_set_summary(db, id, text, center, e);
    free(text);
    json_decref(doc);
    return rc;
}
