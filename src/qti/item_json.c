/*
 * item_json.c - an item's JSON form: compiling a parsed item into its render and scoring
 * documents, and loading an item back from them (see item.h for the formats). Parsing the
 * XML is item.c; running the item is item_session.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qti/item_internal.h"
#include "qti/qti_alloc.h"
#include "qti/rules.h"

static const char *const fb_kind_names[] = {"modal", "block", "inline"};

/* ------------------------------------------------------------------------ compiling -- */

static json_t *str_array(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static void set_opt(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

static int is_builtin(const char *id)
{
    return strcmp(id, "numAttempts") == 0 || strcmp(id, "duration") == 0 ||
           strcmp(id, "completionStatus") == 0;
}

int qti_item_compile(const struct qti_item *item, json_t **render, json_t **scoring,
                     struct op_err *e)
{
    *render = *scoring = NULL;
    json_t *r = json_object();
    json_object_set_new(r, "identifier", json_string(item->identifier));
    json_object_set_new(r, "title", json_string(item->title));
    set_opt(r, "label", item->label);
    json_object_set_new(r, "adaptive", json_boolean(item->adaptive));
    json_object_set_new(r, "timeDependent", json_boolean(item->time_dependent));
    json_object_set_new(r, "stylesheets", str_array(item->styles, item->nstyles));
    json_object_set_new(r, "assets", str_array(item->assets.paths, item->assets.count));
    json_object_set_new(r, "body", json_string(item->body_html));
    json_t *its = json_array();
    for (size_t i = 0; i < item->ninteractions; i++)
        json_array_append_new(its, qti_interaction_to_json(item->interactions[i]));
    json_object_set_new(r, "interactions", its);
    json_t *resp = json_object();
    for (size_t i = 0; i < item->ndecls; i++) {
        const struct qti_decl *d = item->decls[i];
        if (d->kind != QTI_DECL_RESPONSE || is_builtin(d->identifier))
            continue;
        json_t *t = json_object();
        json_object_set_new(t, "cardinality", json_string(qti_cardinality_name(d->card)));
        json_object_set_new(t, "baseType", json_string(qti_base_type_name(d->type)));
        json_object_set_new(resp, d->identifier, t);
    }
    json_object_set_new(r, "responses", resp);
    json_t *fbr = json_array(), *tbr = json_array(), *pvr = json_array();
    for (size_t i = 0; i < item->nfeedback; i++)
        if (item->feedback[i].kind != FB_MODAL)
            json_array_append_new(fbr, json_pack("{s:s,s:s}", "key", item->feedback[i].key, "kind",
                                                 fb_kind_names[item->feedback[i].kind]));
    for (size_t i = 0; i < item->ntemplates; i++)
        json_array_append_new(tbr, json_pack("{s:s,s:s}", "key", item->templates[i].key, "kind",
                                             fb_kind_names[item->templates[i].kind]));
    for (size_t i = 0; i < item->nprinted; i++) {
        const struct item_printed *pv = &item->printed[i];
        json_t *o = json_pack("{s:s,s:s,s:i}", "key", pv->key, "identifier", pv->identifier, "base",
                              pv->base);
        set_opt(o, "format", pv->format);
        set_opt(o, "delimiter", pv->delimiter);
        set_opt(o, "field", pv->field);
        set_opt(o, "index", pv->index);
        if (pv->feedback[0])
            json_object_set_new(o, "feedback", json_string(pv->feedback));
        json_array_append_new(pvr, o);
    }
    json_object_set_new(r, "feedback", fbr);
    json_object_set_new(r, "templates", tbr);
    json_object_set_new(r, "printed", pvr);

    json_t *s = json_object();
    json_object_set_new(s, "identifier", json_string(item->identifier));
    json_t *decls = json_array();
    for (size_t i = 0; i < item->ndecls; i++) {
        json_t *dj = qti_decl_to_json(item->decls[i], QTI_DECL_VIEW_SCORING);
        if (!dj) {
            json_decref(r);
            json_decref(s);
            json_decref(decls);
            return err_set(e, OP_ENOMEM, "item %s: out of memory", item->identifier);
        }
        json_array_append_new(decls, dj);
    }
    json_object_set_new(s, "declarations", decls);
    json_object_set_new(s, "templateProcessing",
                        item->template_processing ? qti_rules_to_json(item->template_processing)
                                                  : json_null());
    json_object_set_new(s, "responseProcessing",
                        item->response_processing ? qti_rules_to_json(item->response_processing)
                                                  : json_null());
    json_t *fbs = json_array(), *tbs = json_array();
    for (size_t i = 0; i < item->nfeedback; i++) {
        const struct item_cond *f = &item->feedback[i];
        json_t *o =
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "key", f->key, "kind", fb_kind_names[f->kind],
                      "outcomeIdentifier", f->outcome_identifier, "identifier", f->identifier,
                      "showHide", f->show ? "show" : "hide", "html", f->html ? f->html : "");
        set_opt(o, "title", f->title);
        json_array_append_new(fbs, o);
    }
    for (size_t i = 0; i < item->ntemplates; i++) {
        const struct item_cond *f = &item->templates[i];
        json_array_append_new(tbs, json_pack("{s:s,s:s,s:s,s:s,s:s}", "key", f->key, "kind",
                                             fb_kind_names[f->kind], "templateIdentifier",
                                             f->outcome_identifier, "identifier", f->identifier,
                                             "showHide", f->show ? "show" : "hide"));
    }
    json_object_set_new(s, "feedback", fbs);
    json_object_set_new(s, "templates", tbs);
    *render = r;
    *scoring = s;
    return 0;
}

/* -------------------------------------------------------------------------- loading -- */

static int load_err(struct op_err *e, const char *id, const char *what)
{
    return err_set(e, OP_EINPUT, "compiled item %s: %s", id ? id : "?", what);
}

static char *jdup(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? qti_xstrdup(v) : NULL;
}

static int valid_key(const char *k, const char *prefix)
{
    size_t n = strlen(prefix);
    if (!k || strncmp(k, prefix, n) != 0 || !k[n] || strlen(k) >= 16)
        return 0;
    for (const char *p = k + n; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

static int fb_kind_from(const char *s, enum fb_kind *out)
{
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, fb_kind_names[i]) == 0) {
            *out = (enum fb_kind)i;
            return 0;
        }
    return -1;
}

/* Reads one feedback (or, with `template`, template) entry into *f; on failure -1, with
 * nothing left in *f to free. */
static int load_conditional(const json_t *o, int template, struct item_cond *f)
{
    memset(f, 0, sizeof *f);
    const char *key = json_string_value(json_object_get(o, "key"));
    if (!valid_key(key, template ? "tb" : "fb") ||
        fb_kind_from(json_string_value(json_object_get(o, "kind")), &f->kind) < 0)
        return -1;
    snprintf(f->key, sizeof f->key, "%s", key);
    f->outcome_identifier = jdup(o, template ? "templateIdentifier" : "outcomeIdentifier");
    f->identifier = jdup(o, "identifier");
    const char *sh = json_string_value(json_object_get(o, "showHide"));
    f->show = !(sh && strcmp(sh, "hide") == 0);
    f->title = jdup(o, "title");
    f->html = template ? NULL : jdup(o, "html");
    if (!f->outcome_identifier || !f->identifier || (!template && !f->html)) {
        free(f->outcome_identifier);
        free(f->identifier);
        free(f->title);
        free(f->html);
        return -1;
    }
    return 0;
}

/* Appends the feedback (or, with `template`, template) entries of JSON array `list` to
 * *arr; -1 when one is incomplete (the entries before it stay in *arr, owned by the item). */
static int load_conditionals(const json_t *list, int template, struct item_cond **arr, size_t *n)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        struct item_cond f;
        if (load_conditional(v, template, &f) < 0)
            return -1;
        QTI_PUSH(*arr, *n, f);
    }
    return 0;
}

int qti_item_load(const json_t *render, const json_t *scoring, struct qti_item **out,
                  struct op_err *e)
{
    *out = NULL;
    const char *id = json_string_value(json_object_get(render, "identifier"));
    const char *sid = json_string_value(json_object_get(scoring, "identifier"));
    if (!id || !sid || strcmp(id, sid) != 0)
        return err_set(e, OP_EINPUT,
                       "compiled item: render and scoring models missing or of different items");
    struct qti_item *item = qti_xcalloc(1, sizeof *item);
    int rc = 0;
    item->href = qti_xstrdup("");
    item->identifier = qti_xstrdup(id);
    item->title = jdup(render, "title");
    item->label = jdup(render, "label");
    item->adaptive = json_is_true(json_object_get(render, "adaptive"));
    item->time_dependent = json_is_true(json_object_get(render, "timeDependent"));
    item->body_html = jdup(render, "body");
    if (!item->title || !item->body_html) {
        rc = load_err(e, id, "title or body missing");
        goto fail;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(render, "stylesheets"), i, v)
    {
        if (!json_is_string(v)) {
            rc = load_err(e, id, "stylesheets must be strings");
            goto fail;
        }
        QTI_PUSH(item->styles, item->nstyles, qti_xstrdup(json_string_value(v)));
    }
    json_array_foreach(json_object_get(render, "assets"), i, v)
    {
        if (json_is_string(v))
            qti_assets_add(&item->assets, json_string_value(v));
    }

    const json_t *decls = json_object_get(scoring, "declarations");
    if (!json_is_array(decls)) {
        rc = load_err(e, id, "declarations missing");
        goto fail;
    }
    json_array_foreach(decls, i, v)
    {
        struct qti_decl *d;
        if ((rc = qti_decl_from_json(v, &d, e)) < 0) {
            err_prefix(e, "compiled item %s", id);
            goto fail;
        }
        if (qti_item_decl(item, d->identifier)) {
            qti_decl_free(d);
            rc = load_err(e, id, "a variable is declared twice");
            goto fail;
        }
        item_add_decl(item, d);
    }
    if ((rc = item_add_builtins(item, e)) < 0)
        goto fail;

    const char *slots[2] = {"templateProcessing", "responseProcessing"};
    struct qti_rules **targets[2] = {&item->template_processing, &item->response_processing};
    for (int k = 0; k < 2; k++) {
        const json_t *rj = json_object_get(scoring, slots[k]);
        if (!rj || json_is_null(rj))
            continue;
        if ((rc = qti_rules_from_json(rj, targets[k], e)) < 0) {
            err_prefix(e, "compiled item %s %s", id, slots[k]);
            goto fail;
        }
    }

    json_array_foreach(json_object_get(render, "interactions"), i, v)
    {
        char what[320];
        snprintf(what, sizeof what, "compiled item %s interaction %zu", id, i + 1);
        struct qti_interaction *it;
        if ((rc = qti_interaction_from_json(v, what, &it, e)) < 0)
            goto fail;
        const struct qti_decl *d = qti_item_decl(item, it->response_identifier);
        if (!d || d->kind != QTI_DECL_RESPONSE || !item_base_type_fits(it->kind, d) ||
            qti_item_interaction_for(item, it->response_identifier)) {
            qti_interaction_free(it);
            rc = err_set(e, OP_EINPUT, "%s: response %s is not declared or does not fit", what,
                         it ? "" : "");
            goto fail;
        }
        QTI_PUSH(item->interactions, item->ninteractions, it);
    }

    if (load_conditionals(json_object_get(scoring, "feedback"), 0, &item->feedback,
                          &item->nfeedback) < 0) {
        rc = load_err(e, id, "a feedback entry is incomplete");
        goto fail;
    }
    if (load_conditionals(json_object_get(scoring, "templates"), 1, &item->templates,
                          &item->ntemplates) < 0) {
        rc = load_err(e, id, "a template entry is incomplete");
        goto fail;
    }
    json_array_foreach(json_object_get(render, "printed"), i, v)
    {
        struct item_printed pv = {0};
        const char *key = json_string_value(json_object_get(v, "key"));
        pv.identifier = jdup(v, "identifier");
        if (!valid_key(key, "pv") || !pv.identifier) {
            free(pv.identifier);
            rc = load_err(e, id, "a printedVariable entry is incomplete");
            goto fail;
        }
        snprintf(pv.key, sizeof pv.key, "%s", key);
        pv.format = jdup(v, "format");
        pv.delimiter = jdup(v, "delimiter");
        pv.field = jdup(v, "field");
        pv.index = jdup(v, "index");
        const char *fbk = json_string_value(json_object_get(v, "feedback"));
        if (fbk && valid_key(fbk, "fb"))
            snprintf(pv.feedback, sizeof pv.feedback, "%s", fbk);
        json_t *b = json_object_get(v, "base");
        pv.base = json_is_integer(b) ? (int)json_integer_value(b) : 10;
        QTI_PUSH(item->printed, item->nprinted, pv);
    }
    *out = item;
    return 0;
fail:
    qti_item_free(item);
    return rc;
}
