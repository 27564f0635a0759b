/*
 * test_json.c - a test's JSON form (see test.h): writing a parsed test as JSON, and reading
 * it back with every field checked, since a package may come from elsewhere. Reading the
 * XML is test.c.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "qti/qti_alloc.h"
#include "qti/test.h"
#include "qti/test_internal.h"

/* ---- JSON ---- */

static json_t *isc_json(const struct qti_isc *i)
{
    json_t *o = json_object();
#define F(key, v)                                                                                  \
    if ((v) >= 0)                                                                                  \
        json_object_set_new(o, key, key[0] == 'm' ? json_integer(v) : json_boolean(v));
    F("maxAttempts", i->max_attempts);
    F("allowSkipping", i->allow_skipping);
    F("validateResponses", i->validate_responses);
    F("showFeedback", i->show_feedback);
    F("allowReview", i->allow_review);
    F("showSolution", i->show_solution);
    F("allowComment", i->allow_comment);
#undef F
    return o;
}

static json_t *tl_json(const struct qti_time_limits *tl)
{
    if (!tl->present)
        return json_null();
    json_t *o = json_object();
    if (tl->has_min)
        json_object_set_new(o, "minTime", json_real(tl->min_time));
    if (tl->has_max)
        json_object_set_new(o, "maxTime", json_real(tl->max_time));
    json_object_set_new(o, "allowLateSubmission", json_boolean(tl->allow_late_submission));
    return o;
}

static json_t *pre_json(struct qti_expr **p, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, qti_expr_to_json(p[i]));
    return a;
}

static json_t *branches_json(const struct qti_branch_rule *b, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:o}", "target", b[i].target, "expr", qti_expr_to_json(b[i].cond)));
    return a;
}

static json_t *feedback_json(const struct qti_test_feedback *f, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:s}", "identifier", f[i].identifier,
                              "outcomeIdentifier", f[i].outcome, "show", f[i].show, "access",
                              f[i].at_end ? "atEnd" : "during", "xhtml", f[i].xhtml);
        if (f[i].title)
            json_object_set_new(o, "title", json_string(f[i].title));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *node_json(const struct qti_node *nd)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(nd->kind == QTI_NODE_ITEM ? "itemRef" : "section"));
    json_object_set_new(o, "identifier", json_string(nd->identifier));
    json_object_set_new(o, "required", json_boolean(nd->required));
    json_object_set_new(o, "fixed", json_boolean(nd->fixed));
    json_object_set_new(o, "preConditions", pre_json(nd->preconditions, nd->npre));
    json_object_set_new(o, "branchRules", branches_json(nd->branches, nd->nbranches));
    json_object_set_new(o, "itemSessionControl", isc_json(&nd->isc));
    json_object_set_new(o, "timeLimits", tl_json(&nd->time_limits));
    if (nd->kind == QTI_NODE_SECTION) {
        json_object_set_new(o, "title", json_string(nd->title ? nd->title : ""));
        json_object_set_new(o, "visible", json_boolean(nd->visible));
        json_object_set_new(o, "keepTogether", json_boolean(nd->keep_together));
        if (nd->has_selection)
            json_object_set_new(o, "selection",
                                json_pack("{s:i, s:b}", "select", nd->select, "withReplacement",
                                          nd->with_replacement));
        json_object_set_new(o, "shuffle", json_boolean(nd->shuffle));
        json_t *rb = json_array();
        for (size_t i = 0; i < nd->nrubrics; i++) {
            json_t *views = json_array();
            for (size_t k = 0; k < nd->rubrics[i].nviews; k++)
                json_array_append_new(views, json_string(nd->rubrics[i].views[k]));
            json_array_append_new(
                rb, json_pack("{s:o, s:s}", "views", views, "xhtml", nd->rubrics[i].xhtml));
        }
        json_object_set_new(o, "rubricBlocks", rb);
        json_t *kids = json_array();
        for (size_t i = 0; i < nd->nchildren; i++)
            json_array_append_new(kids, node_json(nd->children[i]));
        json_object_set_new(o, "children", kids);
    } else {
        json_object_set_new(o, "href", json_string(nd->href));
        json_t *cats = json_array();
        for (size_t i = 0; i < nd->ncategories; i++)
            json_array_append_new(cats, json_string(nd->categories[i]));
        json_object_set_new(o, "categories", cats);
        json_t *w = json_array();
        for (size_t i = 0; i < nd->nweights; i++)
            json_array_append_new(w,
                                  json_pack("{s:s, s:f}", "identifier", nd->weights[i].identifier,
                                            "value", nd->weights[i].value));
        json_object_set_new(o, "weights", w);
        json_t *m = json_array();
        for (size_t i = 0; i < nd->nmappings; i++)
            json_array_append_new(m, json_pack("{s:s, s:s}", "sourceIdentifier",
                                               nd->mappings[i].source, "targetIdentifier",
                                               nd->mappings[i].target));
        json_object_set_new(o, "variableMappings", m);
        json_t *td = json_array();
        for (size_t i = 0; i < nd->ntemplate_defaults; i++)
            json_array_append_new(td, json_pack("{s:s, s:o}", "templateIdentifier",
                                                nd->template_defaults[i].identifier, "expr",
                                                qti_expr_to_json(nd->template_defaults[i].expr)));
        json_object_set_new(o, "templateDefaults", td);
    }
    return o;
}

json_t *qti_test_to_json(const struct qti_test *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "identifier", json_string(t->identifier));
    json_object_set_new(o, "title", json_string(t->title));
    json_object_set_new(o, "timeLimits", tl_json(&t->time_limits));
    json_t *outs = json_array();
    for (size_t i = 0; i < t->noutcomes; i++)
        json_array_append_new(outs, qti_decl_to_json(t->outcomes[i], QTI_DECL_VIEW_SCORING));
    json_object_set_new(o, "outcomeDeclarations", outs);
    json_t *parts = json_array();
    for (size_t i = 0; i < t->nparts; i++) {
        const struct qti_test_part *p = &t->parts[i];
        json_t *secs = json_array();
        for (size_t k = 0; k < p->nsections; k++)
            json_array_append_new(secs, node_json(p->sections[k]));
        json_t *po = json_object();
        json_object_set_new(po, "identifier", json_string(p->identifier));
        json_object_set_new(po, "navigationMode",
                            json_string(p->navigation == QTI_NAV_LINEAR ? "linear" : "nonlinear"));
        json_object_set_new(
            po, "submissionMode",
            json_string(p->submission == QTI_SUB_INDIVIDUAL ? "individual" : "simultaneous"));
        json_object_set_new(po, "preConditions", pre_json(p->preconditions, p->npre));
        json_object_set_new(po, "branchRules", branches_json(p->branches, p->nbranches));
        json_object_set_new(po, "itemSessionControl", isc_json(&p->isc));
        json_object_set_new(po, "timeLimits", tl_json(&p->time_limits));
        json_object_set_new(po, "sections", secs);
        json_object_set_new(po, "testFeedback", feedback_json(p->feedback, p->nfeedback));
        json_array_append_new(parts, po);
    }
    json_object_set_new(o, "testParts", parts);
    json_object_set_new(o, "outcomeProcessing",
                        t->outcome_processing ? qti_rules_to_json(t->outcome_processing)
                                              : json_null());
    json_object_set_new(o, "testFeedback", feedback_json(t->feedback, t->nfeedback));
    return o;
}

/* Reading JSON back: every field is checked, since a package may come from elsewhere. */
struct jreader {
    struct op_err *e;
    size_t nodes;
};

static int jfail(struct jreader *r, const char *what)
{
    return err_set(r->e, OP_EINPUT, "compiled test: %s", what);
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int jbool(json_t *o, const char *key, int def)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

static int isc_from_json(struct jreader *r, json_t *o, struct qti_isc *i)
{
    test_isc_unset(i);
    if (!json_is_object(o))
        return jfail(r, "itemSessionControl must be an object");
    json_t *m = json_object_get(o, "maxAttempts");
    if (m) {
        if (!json_is_integer(m) || json_integer_value(m) < 0 || json_integer_value(m) > 1000000)
            return jfail(r, "bad maxAttempts");
        i->max_attempts = (int)json_integer_value(m);
    }
#define B(key, f)                                                                                  \
    if (json_object_get(o, key))                                                                   \
        i->f = jbool(o, key, 0);
    B("allowSkipping", allow_skipping);
    B("validateResponses", validate_responses);
    B("showFeedback", show_feedback);
    B("allowReview", allow_review);
    B("showSolution", show_solution);
    B("allowComment", allow_comment);
#undef B
    return 0;
}

static int tl_from_json(struct jreader *r, json_t *o, struct qti_time_limits *tl)
{
    memset(tl, 0, sizeof *tl);
    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o))
        return jfail(r, "timeLimits must be an object");
    tl->present = true;
    json_t *mn = json_object_get(o, "minTime"), *mx = json_object_get(o, "maxTime");
    if (mn) {
        if (!json_is_number(mn) || json_number_value(mn) < 0)
            return jfail(r, "bad minTime");
        tl->has_min = true;
        tl->min_time = json_number_value(mn);
    }
    if (mx) {
        if (!json_is_number(mx) || json_number_value(mx) < 0)
            return jfail(r, "bad maxTime");
        tl->has_max = true;
        tl->max_time = json_number_value(mx);
    }
    tl->allow_late_submission = jbool(o, "allowLateSubmission", 0);
    return 0;
}

static int pre_from_json(struct jreader *r, json_t *a, struct qti_expr ***out, size_t *n)
{
    if (!a)
        return 0;
    if (!json_is_array(a))
        return jfail(r, "preConditions must be an array");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        struct qti_expr *x;
        if (qti_expr_from_json(v, &x, r->e))
            return err_prefix(r->e, "compiled test: preCondition");
        QTI_PUSH(*out, *n, x);
    }
    return 0;
}

static int branches_from_json(struct jreader *r, json_t *a, struct qti_branch_rule **out, size_t *n)
{
    if (!a)
        return 0;
    if (!json_is_array(a))
        return jfail(r, "branchRules must be an array");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *target = jstr(v, "target");
        if (!target)
            return jfail(r, "branchRule without target");
        struct qti_branch_rule b = {NULL, NULL, 0};
        if (qti_expr_from_json(json_object_get(v, "expr"), &b.cond, r->e))
            return err_prefix(r->e, "compiled test: branchRule");
        b.target = qti_xstrdup(target);
        QTI_PUSH(*out, *n, b);
    }
    return 0;
}

static int feedback_from_json(struct jreader *r, json_t *a, struct qti_test_feedback **out,
                              size_t *n)
{
    if (!a)
        return 0;
    if (!json_is_array(a))
        return jfail(r, "testFeedback must be an array");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *id = jstr(v, "identifier"), *oid = jstr(v, "outcomeIdentifier"),
                   *acc = jstr(v, "access"), *x = jstr(v, "xhtml"), *title = jstr(v, "title");
        if (!id || !oid || !acc || !x)
            return jfail(r, "incomplete testFeedback");
        struct qti_test_feedback f = {qti_xstrdup(id),
                                      qti_xstrdup(oid),
                                      jbool(v, "show", 1),
                                      strcmp(acc, "atEnd") == 0,
                                      title ? qti_xstrdup(title) : NULL,
                                      qti_xstrdup(x)};
        QTI_PUSH(*out, *n, f);
    }
    return 0;
}

static int node_from_json(struct jreader *r, json_t *o, int part, struct qti_node *parent,
                          int depth, struct qti_node **out)
{
    *out = NULL;
    if (++r->nodes > QTI_TEST_MAX_NODES || depth > QTI_TEST_MAX_DEPTH)
        return jfail(r, "too many or too deeply nested sections");
    const char *kind = jstr(o, "kind"), *id = jstr(o, "identifier");
    if (!kind || !id || !id[0])
        return jfail(r, "node without kind or identifier");
    struct qti_node *nd = qti_xcalloc(1, sizeof *nd);
    *out = nd;
    nd->kind = strcmp(kind, "itemRef") == 0 ? QTI_NODE_ITEM : QTI_NODE_SECTION;
    nd->identifier = qti_xstrdup(id);
    nd->part = part;
    nd->parent = parent;
    nd->required = jbool(o, "required", 0);
    nd->fixed = jbool(o, "fixed", 0);
    if (pre_from_json(r, json_object_get(o, "preConditions"), &nd->preconditions, &nd->npre) ||
        branches_from_json(r, json_object_get(o, "branchRules"), &nd->branches, &nd->nbranches) ||
        isc_from_json(r, json_object_get(o, "itemSessionControl"), &nd->isc) ||
        tl_from_json(r, json_object_get(o, "timeLimits"), &nd->time_limits))
        return OP_EINPUT;
    if (nd->kind == QTI_NODE_ITEM) {
        const char *href = jstr(o, "href");
        if (!href)
            return jfail(r, "itemRef without href");
        nd->href = qti_xstrdup(href);
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(o, "categories"), i, v)
        {
            if (!json_is_string(v))
                return jfail(r, "bad category");
            QTI_PUSH(nd->categories, nd->ncategories, qti_xstrdup(json_string_value(v)));
        }
        json_array_foreach(json_object_get(o, "weights"), i, v)
        {
            const char *wid = jstr(v, "identifier");
            json_t *val = json_object_get(v, "value");
            if (!wid || !json_is_number(val))
                return jfail(r, "bad weight");
            struct qti_weight w = {qti_xstrdup(wid), json_number_value(val)};
            QTI_PUSH(nd->weights, nd->nweights, w);
        }
        json_array_foreach(json_object_get(o, "variableMappings"), i, v)
        {
            const char *s = jstr(v, "sourceIdentifier"), *t = jstr(v, "targetIdentifier");
            if (!s || !t)
                return jfail(r, "bad variableMapping");
            struct qti_var_mapping m = {qti_xstrdup(s), qti_xstrdup(t)};
            QTI_PUSH(nd->mappings, nd->nmappings, m);
        }
        json_array_foreach(json_object_get(o, "templateDefaults"), i, v)
        {
            const char *tid = jstr(v, "templateIdentifier");
            struct qti_expr *x;
            if (!tid)
                return jfail(r, "bad templateDefault");
            if (qti_expr_from_json(json_object_get(v, "expr"), &x, r->e))
                return err_prefix(r->e, "compiled test: templateDefault");
            struct qti_template_default td = {qti_xstrdup(tid), x};
            QTI_PUSH(nd->template_defaults, nd->ntemplate_defaults, td);
        }
        return 0;
    }
    const char *title = jstr(o, "title");
    nd->title = qti_xstrdup(title ? title : "");
    nd->visible = jbool(o, "visible", 1);
    nd->keep_together = jbool(o, "keepTogether", 1);
    nd->shuffle = jbool(o, "shuffle", 0);
    json_t *sel = json_object_get(o, "selection");
    if (sel) {
        json_t *s = json_object_get(sel, "select");
        if (!json_is_integer(s) || json_integer_value(s) < 0 ||
            json_integer_value(s) > QTI_TEST_MAX_SELECT)
            return jfail(r, "bad selection");
        nd->has_selection = true;
        nd->select = (int)json_integer_value(s);
        nd->with_replacement = jbool(sel, "withReplacement", 0);
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "rubricBlocks"), i, v)
    {
        const char *x = jstr(v, "xhtml");
        if (!x)
            return jfail(r, "bad rubricBlock");
        struct qti_rubric rb = {NULL, 0, qti_xstrdup(x)};
        size_t k;
        json_t *vw;
        json_array_foreach(json_object_get(v, "views"), k, vw) if (json_is_string(vw))
            QTI_PUSH(rb.views, rb.nviews, qti_xstrdup(json_string_value(vw)));
        QTI_PUSH(nd->rubrics, nd->nrubrics, rb);
    }
    json_array_foreach(json_object_get(o, "children"), i, v)
    {
        struct qti_node *c = NULL;
        int rc = node_from_json(r, v, part, nd, depth + 1, &c);
        if (c)
            QTI_PUSH(nd->children, nd->nchildren, c);
        if (rc)
            return rc;
    }
    size_t required = 0;
    for (size_t k = 0; k < nd->nchildren; k++)
        required += nd->children[k]->required;
    if (nd->has_selection && !nd->with_replacement &&
        ((size_t)nd->select > nd->nchildren || (size_t)nd->select < required))
        return jfail(r, "selection does not fit the section");
    if (nd->has_selection && nd->with_replacement && nd->select > 0 && nd->nchildren == 0)
        return jfail(r, "selection from an empty section");
    return 0;
}

int qti_test_from_json(const json_t *jc, struct qti_test **out, struct op_err *e)
{
    *out = NULL;
    json_t *j = (json_t *)jc;
    struct jreader r = {e, 0};
    if (!json_is_object(j) || !jstr(j, "identifier"))
        return jfail(&r, "not a test object");
    struct qti_test *t = qti_xcalloc(1, sizeof *t);
    t->identifier = qti_xstrdup(jstr(j, "identifier"));
    t->title = qti_xstrdup(jstr(j, "title") ? jstr(j, "title") : t->identifier);
    int rc = tl_from_json(&r, json_object_get(j, "timeLimits"), &t->time_limits);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, "outcomeDeclarations"), i, v)
    {
        if (rc)
            break;
        struct qti_decl *d;
        if ((rc = qti_decl_from_json(v, &d, e)) == 0)
            QTI_PUSH(t->outcomes, t->noutcomes, d);
    }
    json_t *parts = json_object_get(j, "testParts");
    if (rc == 0 && (!json_is_array(parts) || json_array_size(parts) == 0))
        rc = jfail(&r, "no testParts");
    json_array_foreach(parts, i, v)
    {
        if (rc)
            break;
        t->parts = qti_xrealloc(t->parts, t->nparts + 1, sizeof *t->parts);
        struct qti_test_part *p = &t->parts[t->nparts++];
        memset(p, 0, sizeof *p);
        const char *pid = jstr(v, "identifier"), *nav = jstr(v, "navigationMode"),
                   *sub = jstr(v, "submissionMode");
        if (!pid || !nav || !sub) {
            rc = jfail(&r, "incomplete testPart");
            break;
        }
        p->identifier = qti_xstrdup(pid);
        p->navigation = strcmp(nav, "nonlinear") == 0 ? QTI_NAV_NONLINEAR : QTI_NAV_LINEAR;
        p->submission =
            strcmp(sub, "simultaneous") == 0 ? QTI_SUB_SIMULTANEOUS : QTI_SUB_INDIVIDUAL;
        if ((rc = pre_from_json(&r, json_object_get(v, "preConditions"), &p->preconditions,
                                &p->npre)) ||
            (rc = branches_from_json(&r, json_object_get(v, "branchRules"), &p->branches,
                                     &p->nbranches)) ||
            (rc = isc_from_json(&r, json_object_get(v, "itemSessionControl"), &p->isc)) ||
            (rc = tl_from_json(&r, json_object_get(v, "timeLimits"), &p->time_limits)) ||
            (rc = feedback_from_json(&r, json_object_get(v, "testFeedback"), &p->feedback,
                                     &p->nfeedback)))
            break;
        size_t k;
        json_t *sv;
        json_array_foreach(json_object_get(v, "sections"), k, sv)
        {
            struct qti_node *s = NULL;
            rc = node_from_json(&r, sv, (int)t->nparts - 1, NULL, 1, &s);
            if (s)
                QTI_PUSH(p->sections, p->nsections, s);
            if (rc)
                break;
        }
        if (rc == 0 && p->nsections == 0)
            rc = jfail(&r, "testPart without sections");
    }
    json_t *op = json_object_get(j, "outcomeProcessing");
    if (rc == 0 && op && !json_is_null(op))
        rc = qti_rules_from_json(op, &t->outcome_processing, e);
    if (rc == 0)
        rc =
            feedback_from_json(&r, json_object_get(j, "testFeedback"), &t->feedback, &t->nfeedback);
    if (rc) {
        qti_test_free(t);
        return rc;
    }
    *out = t;
    return 0;
}
