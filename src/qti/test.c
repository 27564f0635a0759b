/*
 * test.c - reading an assessmentTest from XML, the checks over the whole test, and the
 * questions asked of it (see test.h). Its JSON form is test_json.c; routes are test_route.c.
 *
 * The reader walks the tree with an allow-list per element: anything the test model does not
 * define is an error naming the file and line, because an authoring tool's extension we would
 * silently ignore could change what the candidate sees or how they are scored.
 */
#include "qti/test.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "qti/item.h"
#include "qti/package.h"
#include "qti/qti_alloc.h"
#include "qti/test_internal.h"
#include "qti/xhtml.h"

/* ---- freeing ---- */

static void free_branches(struct qti_branch_rule *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(b[i].target);
        qti_expr_free(b[i].cond);
    }
    free(b);
}

static void free_pre(struct qti_expr **p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        qti_expr_free(p[i]);
    free(p);
}

static void free_feedback(struct qti_test_feedback *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].identifier);
        free(f[i].outcome);
        free(f[i].title);
        free(f[i].xhtml);
    }
    free(f);
}

static void free_node(struct qti_node *nd)
{
    if (!nd)
        return;
    free(nd->identifier);
    free(nd->src);
    free_pre(nd->preconditions, nd->npre);
    free_branches(nd->branches, nd->nbranches);
    free(nd->title);
    for (size_t i = 0; i < nd->nrubrics; i++) {
        for (size_t k = 0; k < nd->rubrics[i].nviews; k++)
            free(nd->rubrics[i].views[k]);
        free(nd->rubrics[i].views);
        free(nd->rubrics[i].xhtml);
    }
    free(nd->rubrics);
    for (size_t i = 0; i < nd->nchildren; i++)
        free_node(nd->children[i]);
    free(nd->children);
    free(nd->href);
    for (size_t i = 0; i < nd->ncategories; i++)
        free(nd->categories[i]);
    free(nd->categories);
    for (size_t i = 0; i < nd->nweights; i++)
        free(nd->weights[i].identifier);
    free(nd->weights);
    for (size_t i = 0; i < nd->nmappings; i++) {
        free(nd->mappings[i].source);
        free(nd->mappings[i].target);
    }
    free(nd->mappings);
    for (size_t i = 0; i < nd->ntemplate_defaults; i++) {
        free(nd->template_defaults[i].identifier);
        qti_expr_free(nd->template_defaults[i].expr);
    }
    free(nd->template_defaults);
    free(nd);
}

void qti_test_free(struct qti_test *t)
{
    if (!t)
        return;
    free(t->identifier);
    free(t->title);
    free(t->tool_name);
    free(t->tool_version);
    for (size_t i = 0; i < t->noutcomes; i++)
        qti_decl_free(t->outcomes[i]);
    free(t->outcomes);
    for (size_t i = 0; i < t->nparts; i++) {
        struct qti_test_part *p = &t->parts[i];
        free(p->identifier);
        free_pre(p->preconditions, p->npre);
        free_branches(p->branches, p->nbranches);
        for (size_t k = 0; k < p->nsections; k++)
            free_node(p->sections[k]);
        free(p->sections);
        free_feedback(p->feedback, p->nfeedback);
    }
    free(t->parts);
    qti_rules_free(t->outcome_processing);
    free_feedback(t->feedback, t->nfeedback);
    qti_assets_free(&t->assets);
    qti_warnings_free(&t->warnings);
    free(t);
}

/* ---- XML reading ---- */

struct reader {
    const char *file;  /* archive path of the file being read (the test, or a section file) */
    const char *where; /* message prefix naming that file */
    struct op_err *e;
    size_t nodes;
    struct qti_assets *assets;     /* what rubric blocks and feedback reference */
    struct qti_warnings *warnings; /* links they make inert (with a package) */
    /* assessmentSectionRef (NULL pkg: refused) */
    const struct qti_package *pkg;
    const char *src;   /* the section file being read, NULL in the test file */
    const char **open; /* the files being read, the test first: a ref to one is circular */
    size_t nopen;
    size_t nrefs;     /* section files read so far */
    size_t ref_bytes; /* their sizes together */
};

static int fail(struct reader *r, xmlNodePtr n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct reader *r, xmlNodePtr n, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(r->e, OP_EINPUT, "%s line %ld: %s", r->where, n ? xmlGetLineNo(n) : 0L, msg);
}

/* Puts the reader's location in front of a message written by decl/expr/rules parsers. */
static int wrap(struct reader *r, xmlNodePtr n)
{
    return err_prefix(r->e, "%s line %ld", r->where, xmlGetLineNo(n));
}

/* Refuses attributes not in `allowed` (attributes in a namespace, xsi: and xml:, pass). */
static int check_attrs(struct reader *r, xmlNodePtr n, const char *const *allowed)
{
    for (xmlAttrPtr a = n->properties; a; a = a->next) {
        if (a->ns)
            continue;
        int ok = 0;
        for (const char *const *p = allowed; *p; p++)
            if (strcmp(*p, (const char *)a->name) == 0)
                ok = 1;
        if (!ok)
            return fail(r, n, "%s: unknown attribute \"%s\" (not in the QTI 2.1/2.2 test model)",
                        (const char *)n->name, (const char *)a->name);
    }
    return 0;
}

static int get_bool(struct reader *r, xmlNodePtr n, const char *name, int def, int *out)
{
    char *v = qti_xml_attr(n, name);
    *out = def;
    int rc = 0;
    if (v) {
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
            *out = 1;
        else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
            *out = 0;
        else
            rc = fail(r, n, "%s: %s=\"%s\" is not true or false", (const char *)n->name, name, v);
    }
    xmlFree(v);
    return rc;
}

static int get_number(struct reader *r, xmlNodePtr n, const char *name, int *has, double *out)
{
    char *v = qti_xml_attr(n, name);
    *has = 0;
    int rc = 0;
    if (v) {
        char *end;
        double d = strtod(v, &end);
        while (*end == ' ')
            end++;
        if (end == v || *end || !isfinite(d))
            rc = fail(r, n, "%s: %s=\"%s\" is not a number", (const char *)n->name, name, v);
        else {
            *has = 1;
            *out = d;
        }
    }
    xmlFree(v);
    return rc;
}

static int get_identifier(struct reader *r, xmlNodePtr n, char **out)
{
    char *v = qti_xml_attr(n, "identifier");
    if (!v || !v[0]) {
        xmlFree(v);
        return fail(r, n, "%s: missing identifier", (const char *)n->name);
    }
    *out = qti_xstrdup(v);
    xmlFree(v);
    return 0;
}

static int read_isc(struct reader *r, xmlNodePtr n, struct qti_isc *isc)
{
    static const char *const attrs[] = {
        "maxAttempts",  "showFeedback",  "allowReview",       "showSolution",
        "allowComment", "allowSkipping", "validateResponses", NULL};
    if (check_attrs(r, n, attrs))
        return OP_EINPUT;
    int has;
    double d;
    if (get_number(r, n, "maxAttempts", &has, &d))
        return OP_EINPUT;
    if (has) {
        if (d < 0 || d != floor(d) || d > 1000000)
            return fail(r, n, "itemSessionControl: maxAttempts must be a whole number >= 0");
        isc->max_attempts = (int)d;
    }
    if (get_bool(r, n, "showFeedback", isc->show_feedback, &isc->show_feedback) ||
        get_bool(r, n, "allowReview", isc->allow_review, &isc->allow_review) ||
        get_bool(r, n, "showSolution", isc->show_solution, &isc->show_solution) ||
        get_bool(r, n, "allowComment", isc->allow_comment, &isc->allow_comment) ||
        get_bool(r, n, "allowSkipping", isc->allow_skipping, &isc->allow_skipping) ||
        get_bool(r, n, "validateResponses", isc->validate_responses, &isc->validate_responses))
        return OP_EINPUT;
    return 0;
}

static int read_time_limits(struct reader *r, xmlNodePtr n, struct qti_time_limits *tl)
{
    static const char *const attrs[] = {"minTime", "maxTime", "allowLateSubmission", NULL};
    if (check_attrs(r, n, attrs))
        return OP_EINPUT;
    int has_min, has_max, late;
    if (get_number(r, n, "minTime", &has_min, &tl->min_time) ||
        get_number(r, n, "maxTime", &has_max, &tl->max_time) ||
        get_bool(r, n, "allowLateSubmission", 0, &late))
        return OP_EINPUT;
    tl->present = true;
    tl->has_min = has_min && tl->min_time > 0;
    tl->has_max = has_max && tl->max_time > 0;
    tl->allow_late_submission = late;
    if ((has_min && tl->min_time < 0) || (has_max && tl->max_time < 0))
        return fail(r, n, "timeLimits: times must not be negative");
    if (tl->has_min && tl->has_max && tl->min_time > tl->max_time)
        return fail(r, n, "timeLimits: minTime %g is over maxTime %g", tl->min_time, tl->max_time);
    return 0;
}

static int read_expr_child(struct reader *r, xmlNodePtr n, struct qti_expr **out)
{
    xmlNodePtr c = n->children;
    xmlNodePtr found = NULL;
    for (; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (found)
            return fail(r, n, "%s: exactly one expression expected", (const char *)n->name);
        found = c;
    }
    if (!found)
        return fail(r, n, "%s: an expression is required", (const char *)n->name);
    if (qti_expr_parse(found, out, r->e) != 0)
        return wrap(r, found);
    return 0;
}

static int read_branch(struct reader *r, xmlNodePtr n, struct qti_branch_rule **arr, size_t *na)
{
    static const char *const attrs[] = {"target", NULL};
    if (check_attrs(r, n, attrs))
        return OP_EINPUT;
    char *target = qti_xml_attr(n, "target");
    if (!target || !target[0]) {
        xmlFree(target);
        return fail(r, n, "branchRule: missing target");
    }
    struct qti_branch_rule b = {qti_xstrdup(target), NULL, (int)xmlGetLineNo(n)};
    xmlFree(target);
    if (read_expr_child(r, n, &b.cond)) {
        free(b.target);
        return OP_EINPUT;
    }
    QTI_PUSH(*arr, *na, b);
    return 0;
}

static int read_pre(struct reader *r, xmlNodePtr n, struct qti_expr ***arr, size_t *na)
{
    static const char *const attrs[] = {NULL};
    if (check_attrs(r, n, attrs))
        return OP_EINPUT;
    struct qti_expr *x = NULL;
    if (read_expr_child(r, n, &x))
        return OP_EINPUT;
    QTI_PUSH(*arr, *na, x);
    return 0;
}

static int package_has(const void *pkg, const char *path)
{
    return qti_package_find(pkg, path) != NULL;
}

/* The content of a rubric block or feedback as sanitised XHTML (the same allow-list as item
 * bodies, qti/xhtml.h); assets it references are recorded. NULL with r->e filled on error. */
static char *inner_xhtml(struct reader *r, xmlNodePtr n)
{
    struct qti_xhtml_ctx cx = {r->file, r->assets,   NULL, NULL, 0, r->pkg ? package_has : NULL,
                               r->pkg,  r->warnings, 0};
    struct buf b = BUF_INIT;
    qti_xhtml_warn_qti_attrs(&cx, n);
    if (qti_xhtml_children(&cx, n, &b, r->e) != 0) {
        buf_free(&b);
        err_prefix(r->e, "%s", r->where);
        return NULL;
    }
    return buf_detach(&b);
}

static int read_rubric(struct reader *r, xmlNodePtr n, struct qti_node *sec)
{
    static const char *const attrs[] = {"view", "id", "class", "label", "use", NULL};
    if (check_attrs(r, n, attrs))
        return OP_EINPUT;
    char *view = qti_xml_attr(n, "view");
    if (!view || !view[0]) {
        xmlFree(view);
        return fail(r, n, "rubricBlock: missing view");
    }
    static const char *const views[] = {"author",          "candidate", "proctor", "scorer",
                                        "testConstructor", "tutor",     NULL};
    struct qti_rubric rb = {NULL, 0, NULL};
    char *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(view, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
        int ok = 0;
        for (const char *const *v = views; *v; v++)
            ok |= strcmp(*v, t) == 0;
        if (!ok) {
            rc = fail(r, n, "rubricBlock: unknown view \"%s\"", t);
            break;
        }
        QTI_PUSH(rb.views, rb.nviews, qti_xstrdup(t));
    }
    xmlFree(view);
    rb.xhtml = rc ? NULL : inner_xhtml(r, n);
    if (rc == 0 && !rb.xhtml)
        rc = OP_EINPUT;
    if (!rb.xhtml)
        rb.xhtml = qti_xstrdup("");
    QTI_PUSH(sec->rubrics, sec->nrubrics, rb);
    return rc;
}

static int read_feedback(struct reader *r, xmlNodePtr n, struct qti_test_feedback **arr, size_t *na)
{
    static const char *const attrs[] = {
        "access", "outcomeIdentifier", "showHide", "identifier", "title", NULL};
    if (check_attrs(r, n, attrs))
        return OP_EINPUT;
    char *access = qti_xml_attr(n, "access");
    char *outcome = qti_xml_attr(n, "outcomeIdentifier");
    char *show = qti_xml_attr(n, "showHide");
    char *id = qti_xml_attr(n, "identifier");
    char *title = qti_xml_attr(n, "title");
    int rc = 0;
    if (!access || (strcmp(access, "atEnd") != 0 && strcmp(access, "during") != 0))
        rc = fail(r, n, "testFeedback: access must be atEnd or during");
    else if (!outcome || !outcome[0] || !id || !id[0])
        rc = fail(r, n, "testFeedback: outcomeIdentifier and identifier are required");
    else if (!show || (strcmp(show, "show") != 0 && strcmp(show, "hide") != 0))
        rc = fail(r, n, "testFeedback: showHide must be show or hide");
    char *html = rc == 0 ? inner_xhtml(r, n) : NULL;
    if (rc == 0 && !html)
        rc = OP_EINPUT;
    if (rc == 0) {
        assert(access && show); /* checked above */
        struct qti_test_feedback f = {qti_xstrdup(id),
                                      qti_xstrdup(outcome),
                                      strcmp(show, "show") == 0,
                                      strcmp(access, "atEnd") == 0,
                                      title ? qti_xstrdup(title) : NULL,
                                      html};
        QTI_PUSH(*arr, *na, f);
    }
    xmlFree(access);
    xmlFree(outcome);
    xmlFree(show);
    xmlFree(id);
    xmlFree(title);
    return rc;
}

void test_isc_unset(struct qti_isc *i)
{
    i->max_attempts = i->allow_skipping = i->validate_responses = i->show_feedback =
        i->allow_review = i->show_solution = i->allow_comment = -1;
}

static int read_item_ref(struct reader *r, xmlNodePtr n, struct qti_node *it)
{
    static const char *const attrs[] = {"identifier", "href",  "category",
                                        "required",   "fixed", NULL};
    if (check_attrs(r, n, attrs))
        return OP_EINPUT;
    char *href = qti_xml_attr(n, "href");
    if (!href || !href[0]) {
        xmlFree(href);
        return fail(r, n, "assessmentItemRef %s: missing href", it->identifier);
    }
    int rc = qti_path_resolve(r->file, href, &it->href, r->e);
    xmlFree(href);
    if (rc)
        return err_prefix(r->e, "%s line %ld: assessmentItemRef %s", r->where, xmlGetLineNo(n),
                          it->identifier);
    char *cat = qti_xml_attr(n, "category");
    if (cat) {
        char *save = NULL;
        for (char *t = strtok_r(cat, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save))
            QTI_PUSH(it->categories, it->ncategories, qti_xstrdup(t));
    }
    xmlFree(cat);
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)c->name;
        if (strcmp(name, "preCondition") == 0)
            rc = read_pre(r, c, &it->preconditions, &it->npre);
        else if (strcmp(name, "branchRule") == 0)
            rc = read_branch(r, c, &it->branches, &it->nbranches);
        else if (strcmp(name, "itemSessionControl") == 0)
            rc = read_isc(r, c, &it->isc);
        else if (strcmp(name, "timeLimits") == 0)
            rc = read_time_limits(r, c, &it->time_limits);
        else if (strcmp(name, "weight") == 0) {
            static const char *const wa[] = {"identifier", "value", NULL};
            char *id = NULL;
            int has;
            double v = 1;
            if ((rc = check_attrs(r, c, wa)) == 0 && (rc = get_identifier(r, c, &id)) == 0 &&
                (rc = get_number(r, c, "value", &has, &v)) == 0 && !has)
                rc = fail(r, c, "weight %s: missing value", id);
            if (rc == 0) {
                struct qti_weight w = {id, v};
                QTI_PUSH(it->weights, it->nweights, w);
            } else {
                free(id);
            }
        } else if (strcmp(name, "variableMapping") == 0) {
            static const char *const va[] = {"sourceIdentifier", "targetIdentifier", NULL};
            char *s = qti_xml_attr(c, "sourceIdentifier"), *t = qti_xml_attr(c, "targetIdentifier");
            if ((rc = check_attrs(r, c, va)) == 0 && (!s || !t || !s[0] || !t[0]))
                rc = fail(r, c,
                          "variableMapping: sourceIdentifier and targetIdentifier are "
                          "required");
            if (rc == 0) {
                struct qti_var_mapping m = {qti_xstrdup(s), qti_xstrdup(t)};
                QTI_PUSH(it->mappings, it->nmappings, m);
            }
            xmlFree(s);
            xmlFree(t);
        } else if (strcmp(name, "templateDefault") == 0) {
            static const char *const ta[] = {"templateIdentifier", NULL};
            char *tid = qti_xml_attr(c, "templateIdentifier");
            struct qti_expr *x = NULL;
            if ((rc = check_attrs(r, c, ta)) == 0 && (!tid || !tid[0]))
                rc = fail(r, c, "templateDefault: missing templateIdentifier");
            if (rc == 0 && (rc = read_expr_child(r, c, &x)) == 0) {
                struct qti_template_default td = {qti_xstrdup(tid), x};
                QTI_PUSH(it->template_defaults, it->ntemplate_defaults, td);
            }
            xmlFree(tid);
        } else {
            rc = fail(r, c, "assessmentItemRef %s: unexpected element <%s>", it->identifier, name);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int read_section(struct reader *r, xmlNodePtr n, struct qti_node *sec, int depth);
static int read_section_ref(struct reader *r, xmlNodePtr n, int part, struct qti_node *parent,
                            int depth, struct qti_node **out);

/* Reads what sections and item refs share, then the kind-specific content. */
static int read_node(struct reader *r, xmlNodePtr n, int part, struct qti_node *parent, int depth,
                     enum qti_node_kind kind, struct qti_node **out)
{
    if (++r->nodes > QTI_TEST_MAX_NODES)
        return fail(r, n, "more than %d sections and item refs", QTI_TEST_MAX_NODES);
    if (depth > QTI_TEST_MAX_DEPTH)
        return fail(r, n, "sections nested deeper than %d", QTI_TEST_MAX_DEPTH);
    struct qti_node *nd = qti_xcalloc(1, sizeof *nd);
    *out = nd;
    nd->kind = kind;
    nd->line = (int)xmlGetLineNo(n);
    nd->src = r->src ? qti_xstrdup(r->src) : NULL;
    nd->part = part;
    nd->parent = parent;
    nd->visible = true;
    nd->keep_together = true;
    test_isc_unset(&nd->isc);
    if (get_identifier(r, n, &nd->identifier))
        return OP_EINPUT;
    int req, fixed;
    if (get_bool(r, n, "required", 0, &req) || get_bool(r, n, "fixed", 0, &fixed))
        return OP_EINPUT;
    nd->required = req;
    nd->fixed = fixed;
    if (kind == QTI_NODE_ITEM)
        return read_item_ref(r, n, nd);
    return read_section(r, n, nd, depth);
}

static int read_section(struct reader *r, xmlNodePtr n, struct qti_node *sec, int depth)
{
    static const char *const attrs[] = {"identifier", "title",        "visible", "required",
                                        "fixed",      "keepTogether", NULL};
    if (check_attrs(r, n, attrs))
        return OP_EINPUT;
    char *title = qti_xml_attr(n, "title");
    sec->title = title ? qti_xstrdup(title) : NULL;
    xmlFree(title);
    int visible, keep;
    if (get_bool(r, n, "visible", 1, &visible) || get_bool(r, n, "keepTogether", 1, &keep))
        return OP_EINPUT;
    sec->visible = visible;
    sec->keep_together = keep;
    int rc = 0;
    xmlNodePtr selection = NULL;
    for (xmlNodePtr c = n->children; c && rc == 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)c->name;
        if (strcmp(name, "preCondition") == 0)
            rc = read_pre(r, c, &sec->preconditions, &sec->npre);
        else if (strcmp(name, "branchRule") == 0)
            rc = read_branch(r, c, &sec->branches, &sec->nbranches);
        else if (strcmp(name, "itemSessionControl") == 0)
            rc = read_isc(r, c, &sec->isc);
        else if (strcmp(name, "timeLimits") == 0)
            rc = read_time_limits(r, c, &sec->time_limits);
        else if (strcmp(name, "selection") == 0) {
            static const char *const sa[] = {"select", "withReplacement", NULL};
            int has, wr;
            double d = 0;
            selection = c;
            if ((rc = check_attrs(r, c, sa)) == 0 &&
                (rc = get_number(r, c, "select", &has, &d)) == 0 &&
                (rc = get_bool(r, c, "withReplacement", 0, &wr)) == 0) {
                if (!has || d < 0 || d != floor(d) || d > QTI_TEST_MAX_SELECT) {
                    rc = fail(r, c, "selection: select must be a whole number from 0 to %d",
                              QTI_TEST_MAX_SELECT);
                } else { /* only now is (int)d defined */
                    sec->has_selection = true;
                    sec->select = (int)d;
                    sec->with_replacement = wr;
                }
            }
        } else if (strcmp(name, "ordering") == 0) {
            static const char *const oa[] = {"shuffle", NULL};
            int sh;
            if ((rc = check_attrs(r, c, oa)) == 0 && (rc = get_bool(r, c, "shuffle", 0, &sh)) == 0)
                sec->shuffle = sh;
        } else if (strcmp(name, "rubricBlock") == 0)
            rc = read_rubric(r, c, sec);
        else if (strcmp(name, "assessmentSection") == 0 || strcmp(name, "assessmentItemRef") == 0) {
            struct qti_node *child = NULL;
            rc = read_node(r, c, sec->part, sec, depth + 1,
                           name[10] == 'S' ? QTI_NODE_SECTION : QTI_NODE_ITEM, &child);
            if (child)
                QTI_PUSH(sec->children, sec->nchildren, child);
        } else if (strcmp(name, "assessmentSectionRef") == 0) {
            struct qti_node *child = NULL;
            rc = read_section_ref(r, c, sec->part, sec, depth + 1, &child);
            if (child)
                QTI_PUSH(sec->children, sec->nchildren, child);
        } else
            rc = fail(r, c, "assessmentSection %s: unexpected element <%s>", sec->identifier, name);
    }
    if (rc)
        return rc;
    if (sec->has_selection && !sec->with_replacement) {
        size_t required = 0;
        for (size_t i = 0; i < sec->nchildren; i++)
            required += sec->children[i]->required;
        if ((size_t)sec->select > sec->nchildren)
            return fail(r, selection,
                        "selection: select=\"%d\" but section %s has only %zu "
                        "children (use withReplacement=\"true\" to repeat them)",
                        sec->select, sec->identifier, sec->nchildren);
        if ((size_t)sec->select < required)
            return fail(r, selection,
                        "selection: select=\"%d\" but section %s has %zu required "
                        "children",
                        sec->select, sec->identifier, required);
    }
    if (sec->has_selection && sec->with_replacement && sec->select > 0 && sec->nchildren == 0)
        return fail(r, selection, "selection: section %s has nothing to select from",
                    sec->identifier);
    return 0;
}

/* ---- assessmentSectionRef ---- */

/* The package name messages start with ("Pkg.zip"). */
static const char *package_name(const struct reader *r)
{
    return r->pkg ? r->pkg->name : "";
}

/* The sectionPart content of an assessmentSectionRef (preCondition, branchRule,
 * itemSessionControl, timeLimits), read into `ref` in the file of the reference. */
static int read_ref_part(struct reader *r, xmlNodePtr n, struct qti_node *ref)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)c->name;
        int rc;
        if (strcmp(name, "preCondition") == 0)
            rc = read_pre(r, c, &ref->preconditions, &ref->npre);
        else if (strcmp(name, "branchRule") == 0)
            rc = read_branch(r, c, &ref->branches, &ref->nbranches);
        else if (strcmp(name, "itemSessionControl") == 0)
            rc = read_isc(r, c, &ref->isc);
        else if (strcmp(name, "timeLimits") == 0)
            rc = read_time_limits(r, c, &ref->time_limits);
        else
            rc = fail(r, c, "assessmentSectionRef %s: unexpected element <%s>", ref->identifier,
                      name);
        if (rc)
            return rc;
    }
    return 0;
}

/* What the reference says about its section goes with the section: its preconditions and
 * branch rules first, its session control and time limits where the section has none. */
static void merge_ref(struct qti_node *sec, struct qti_node *ref)
{
    if (ref->npre) {
        ref->preconditions =
            qti_xrealloc(ref->preconditions, ref->npre + sec->npre, sizeof *ref->preconditions);
        for (size_t i = 0; i < sec->npre; i++)
            ref->preconditions[ref->npre + i] = sec->preconditions[i];
        free(sec->preconditions);
        sec->preconditions = ref->preconditions;
        sec->npre += ref->npre;
        ref->preconditions = NULL;
        ref->npre = 0;
    }
    if (ref->nbranches) {
        ref->branches =
            qti_xrealloc(ref->branches, ref->nbranches + sec->nbranches, sizeof *ref->branches);
        for (size_t i = 0; i < sec->nbranches; i++)
            ref->branches[ref->nbranches + i] = sec->branches[i];
        free(sec->branches);
        sec->branches = ref->branches;
        sec->nbranches += ref->nbranches;
        ref->branches = NULL;
        ref->nbranches = 0;
    }
#define INHERIT(f)                                                                                 \
    if (sec->isc.f < 0)                                                                            \
    sec->isc.f = ref->isc.f
    INHERIT(max_attempts);
    INHERIT(allow_skipping);
    INHERIT(validate_responses);
    INHERIT(show_feedback);
    INHERIT(allow_review);
    INHERIT(show_solution);
    INHERIT(allow_comment);
#undef INHERIT
    if (!sec->time_limits.present)
        sec->time_limits = ref->time_limits;
    sec->required = sec->required || ref->required;
    sec->fixed = sec->fixed || ref->fixed;
}

/* Reads the section an assessmentSectionRef names, in place of the reference (test.h,
 * qti_test_parse_package). */
static int read_section_ref(struct reader *r, xmlNodePtr n, int part, struct qti_node *parent,
                            int depth, struct qti_node **out)
{
    *out = NULL;
    static const char *const attrs[] = {"identifier", "href", "required", "fixed", NULL};
    long line = xmlGetLineNo(n);
    struct qti_node ref;
    memset(&ref, 0, sizeof ref);
    test_isc_unset(&ref.isc);
    int req = 0, fixed = 0;
    if (check_attrs(r, n, attrs) || get_identifier(r, n, &ref.identifier) ||
        get_bool(r, n, "required", 0, &req) || get_bool(r, n, "fixed", 0, &fixed)) {
        free(ref.identifier);
        return OP_EINPUT;
    }
    ref.required = req;
    ref.fixed = fixed;
    char *href = qti_xml_attr(n, "href");
    char *path = NULL;
    xmlDocPtr doc = NULL;
    const struct qti_file *f = NULL;
    int rc = 0;
    if (!href || !href[0])
        rc = fail(r, n, "assessmentSectionRef %s: missing href", ref.identifier);
    else if (!r->pkg)
        rc = fail(r, n,
                  "assessmentSectionRef %s: a section in a file of its own needs the test's "
                  "package; import the package",
                  ref.identifier);
    else if (qti_path_resolve(r->file, href, &path, r->e) != 0)
        rc = err_prefix(r->e, "%s line %ld: assessmentSectionRef %s", r->where, line,
                        ref.identifier);
    if (rc == 0)
        rc = read_ref_part(r, n, &ref);
    for (size_t i = 0; rc == 0 && path && i < r->nopen; i++) {
        if (strcmp(r->open[i], path) != 0)
            continue;
        struct buf chain = BUF_INIT;
        for (size_t k = i; k < r->nopen; k++)
            buf_printf(&chain, "%s -> ", r->open[k]);
        buf_puts(&chain, path);
        rc = fail(r, n, "assessmentSectionRef %s: circular reference (%s)", ref.identifier,
                  chain.data);
        buf_free(&chain);
    }
    if (rc == 0 && ++r->nrefs > QTI_TEST_MAX_SECTION_REFS)
        rc = fail(r, n, "more than %d assessmentSectionRef files in one test",
                  QTI_TEST_MAX_SECTION_REFS);
    if (rc == 0 && !(f = qti_package_find(r->pkg, path)))
        rc = fail(r, n, "assessmentSectionRef %s points to %s, which is not in the archive",
                  ref.identifier, path);
    if (rc == 0 && f && (r->ref_bytes += f->len) > QTI_TEST_MAX_SECTION_BYTES)
        rc = fail(r, n, "assessmentSectionRef %s: section files over %zu bytes in all",
                  ref.identifier, QTI_TEST_MAX_SECTION_BYTES);
    if (rc == 0 && f && qti_xml_read(f->path, (const char *)f->data, f->len, NULL, &doc, r->e) != 0)
        rc = err_prefix(r->e, "%s", package_name(r));
    xmlNodePtr root = rc == 0 ? xmlDocGetRootElement(doc) : NULL;
    if (rc == 0 && (!root || !qti_xml_local_is(root, "assessmentSection")))
        rc = fail(r, n,
                  "assessmentSectionRef %s: the root element of %s is <%s>, not "
                  "<assessmentSection>",
                  ref.identifier, path, root ? (const char *)root->name : "");
    if (rc == 0 && root && (!root->ns || !qti_xml_ns_ok((const char *)root->ns->href)))
        rc = fail(r, n,
                  "assessmentSectionRef %s: %s is not in the QTI 2.1 or 2.2 namespace "
                  "(namespace %s)",
                  ref.identifier, path,
                  root->ns && root->ns->href ? (const char *)root->ns->href : "none");
    if (rc == 0) {
        char where[1024];
        snprintf(where, sizeof where, "%s: %s", package_name(r), f->path);
        const char *ofile = r->file, *owhere = r->where, *osrc = r->src;
        QTI_PUSH(r->open, r->nopen, f->path);
        r->file = r->src = f->path;
        r->where = where;
        rc = read_node(r, root, part, parent, depth, QTI_NODE_SECTION, out);
        r->file = ofile;
        r->where = owhere;
        r->src = osrc;
        r->nopen--;
        if (rc == 0)
            merge_ref(*out, &ref);
    }
    xmlFreeDoc(doc);
    xmlFree(href);
    free(path);
    free(ref.identifier);
    free_pre(ref.preconditions, ref.npre);
    free_branches(ref.branches, ref.nbranches);
    return rc;
}

static int read_part(struct reader *r, xmlNodePtr n, int index, struct qti_test_part *p)
{
    static const char *const attrs[] = {"identifier", "navigationMode", "submissionMode", NULL};
    p->line = (int)xmlGetLineNo(n);
    test_isc_unset(&p->isc);
    if (check_attrs(r, n, attrs) || get_identifier(r, n, &p->identifier))
        return OP_EINPUT;
    char *nav = qti_xml_attr(n, "navigationMode"), *sub = qti_xml_attr(n, "submissionMode");
    int rc = 0;
    if (!nav || (strcmp(nav, "linear") != 0 && strcmp(nav, "nonlinear") != 0))
        rc = fail(r, n, "testPart %s: navigationMode must be linear or nonlinear", p->identifier);
    else if (!sub || (strcmp(sub, "individual") != 0 && strcmp(sub, "simultaneous") != 0))
        rc = fail(r, n, "testPart %s: submissionMode must be individual or simultaneous",
                  p->identifier);
    else {
        p->navigation = strcmp(nav, "linear") == 0 ? QTI_NAV_LINEAR : QTI_NAV_NONLINEAR;
        p->submission = strcmp(sub, "individual") == 0 ? QTI_SUB_INDIVIDUAL : QTI_SUB_SIMULTANEOUS;
    }
    xmlFree(nav);
    xmlFree(sub);
    for (xmlNodePtr c = n->children; c && rc == 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)c->name;
        if (strcmp(name, "preCondition") == 0)
            rc = read_pre(r, c, &p->preconditions, &p->npre);
        else if (strcmp(name, "branchRule") == 0)
            rc = read_branch(r, c, &p->branches, &p->nbranches);
        else if (strcmp(name, "itemSessionControl") == 0)
            rc = read_isc(r, c, &p->isc);
        else if (strcmp(name, "timeLimits") == 0)
            rc = read_time_limits(r, c, &p->time_limits);
        else if (strcmp(name, "assessmentSection") == 0) {
            struct qti_node *s = NULL;
            rc = read_node(r, c, index, NULL, 1, QTI_NODE_SECTION, &s);
            if (s)
                QTI_PUSH(p->sections, p->nsections, s);
        } else if (strcmp(name, "testFeedback") == 0)
            rc = read_feedback(r, c, &p->feedback, &p->nfeedback);
        else
            rc = fail(r, c, "testPart %s: unexpected element <%s>", p->identifier, name);
    }
    if (rc == 0 && p->nsections == 0)
        rc = fail(r, n, "testPart %s has no assessmentSection", p->identifier);
    return rc;
}

/* ---- checks over the whole test ---- */

struct id_seen {
    const char **ids;
    size_t n;
};

static int seen_add(struct id_seen *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return -1;
    QTI_PUSH(s->ids, s->n, id);
    return 0;
}

/* The message prefix of the file `nd` was written in: the test's, or its section file's. */
static const char *node_where(const struct reader *r, const struct qti_node *nd, char *buf,
                              size_t size)
{
    if (!nd->src)
        return r->where;
    snprintf(buf, size, "%s: %s", package_name(r), nd->src);
    return buf;
}

static int check_node_ids(struct reader *r, const struct qti_node *nd, struct id_seen *s)
{
    char w[1024];
    if (seen_add(s, nd->identifier) != 0)
        return err_set(r->e, OP_EINPUT, "%s line %d: identifier %s is used twice in the test",
                       node_where(r, nd, w, sizeof w), nd->line, nd->identifier);
    for (size_t i = 0; i < nd->nchildren; i++)
        if (check_node_ids(r, nd->children[i], s))
            return OP_EINPUT;
    return 0;
}

/* Route keys number the occurrences of an item selected several times "Q04.1", "Q04.2", ...
 * (qti_test_route), and test-level expressions read "Q04.1.SCORE": an item ref whose own
 * identifier reads as such a key would be confused with it, so it is refused. */
static int check_key_clash(struct reader *r, const struct qti_test *t, const struct qti_node *nd)
{
    for (size_t i = 0; i < nd->nchildren; i++)
        if (check_key_clash(r, t, nd->children[i]))
            return OP_EINPUT;
    if (nd->kind != QTI_NODE_ITEM)
        return 0;
    const char *dot = strrchr(nd->identifier, '.');
    if (!dot || dot[1] < '1' || dot[1] > '9' || strspn(dot + 1, "0123456789") != strlen(dot + 1))
        return 0;
    char *prefix = qti_xstrndup(nd->identifier, (size_t)(dot - nd->identifier));
    const struct qti_node *other = qti_test_find(t, prefix);
    int rc = 0;
    char w[1024];
    if (other && other->kind == QTI_NODE_ITEM)
        rc = err_set(r->e, OP_EINPUT,
                     "%s line %d: assessmentItemRef %s: the identifier reads as the route key of "
                     "occurrence %s of item ref %s (line %d) when that item is selected more "
                     "than once; rename one of the two item refs",
                     node_where(r, nd, w, sizeof w), nd->line, nd->identifier, dot + 1, prefix,
                     other->line);
    free(prefix);
    return rc;
}

static int target_ok(const struct qti_test *t, const char *target)
{
    return strcmp(target, "EXIT_TEST") == 0 || strcmp(target, "EXIT_TESTPART") == 0 ||
           strcmp(target, "EXIT_SECTION") == 0 || qti_test_find(t, target) ||
           qti_test_find_part(t, target) >= 0;
}

static int check_branches(struct reader *r, const char *where, const struct qti_test *t,
                          const struct qti_branch_rule *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!target_ok(t, b[i].target))
            return err_set(r->e, OP_EINPUT,
                           "%s line %d: branchRule target %s is not a test part, section or item "
                           "ref of this test",
                           where, b[i].line, b[i].target);
    return 0;
}

static int check_node_branches(struct reader *r, const struct qti_test *t,
                               const struct qti_node *nd)
{
    char w[1024];
    if (check_branches(r, node_where(r, nd, w, sizeof w), t, nd->branches, nd->nbranches))
        return OP_EINPUT;
    for (size_t i = 0; i < nd->nchildren; i++)
        if (check_node_branches(r, t, nd->children[i]))
            return OP_EINPUT;
    return 0;
}

int qti_test_parse(xmlDocPtr doc, const char *file, const char *where, struct qti_test **out,
                   struct op_err *e)
{
    return qti_test_parse_package(NULL, doc, file, where, out, e);
}

int qti_test_parse_package(const struct qti_package *pkg, xmlDocPtr doc, const char *file,
                           const char *where, struct qti_test **out, struct op_err *e)
{
    *out = NULL;
    struct qti_test *t = qti_xcalloc(1, sizeof *t);
    struct reader r = {file, where, e, 0, &t->assets, &t->warnings, pkg, NULL, NULL, 0, 0, 0};
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!qti_xml_local_is(root, "assessmentTest")) {
        qti_test_free(t);
        return err_set(e, OP_EINPUT, "%s: the root element is <%s>, not <assessmentTest>", where,
                       root ? (const char *)root->name : "");
    }
    if (root->ns && root->ns->href &&
        strcmp((const char *)root->ns->href, "http://www.imsglobal.org/xsd/imsqti_v2p1") != 0 &&
        strcmp((const char *)root->ns->href, "http://www.imsglobal.org/xsd/imsqti_v2p2") != 0) {
        qti_test_free(t);
        return err_set(e, OP_EINPUT, "%s: unknown QTI namespace %s (QTI 2.1 and 2.2 are supported)",
                       where, (const char *)root->ns->href);
    }
    QTI_PUSH(r.open, r.nopen, file); /* freed at the end, whatever happens from here */
    static const char *const attrs[] = {"identifier", "title", "toolName", "toolVersion", NULL};
    int rc = check_attrs(&r, root, attrs);
    if (rc == 0)
        rc = get_identifier(&r, root, &t->identifier);
    if (rc == 0) {
        char *title = qti_xml_attr(root, "title");
        char *tn = qti_xml_attr(root, "toolName"), *tv = qti_xml_attr(root, "toolVersion");
        t->title = qti_xstrdup(title ? title : t->identifier);
        t->tool_name = tn ? qti_xstrdup(tn) : NULL;
        t->tool_version = tv ? qti_xstrdup(tv) : NULL;
        xmlFree(title);
        xmlFree(tn);
        xmlFree(tv);
    }
    for (xmlNodePtr c = root->children; c && rc == 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)c->name;
        if (strcmp(name, "outcomeDeclaration") == 0) {
            struct qti_decl *d;
            if ((rc = qti_decl_parse(c, &d, e)) != 0)
                rc = wrap(&r, c);
            else if (qti_test_outcome(t, d->identifier)) {
                rc = fail(&r, c, "outcomeDeclaration %s is declared twice", d->identifier);
                qti_decl_free(d);
            } else
                QTI_PUSH(t->outcomes, t->noutcomes, d);
        } else if (strcmp(name, "timeLimits") == 0)
            rc = read_time_limits(&r, c, &t->time_limits);
        else if (strcmp(name, "testPart") == 0) {
            t->parts = qti_xrealloc(t->parts, t->nparts + 1, sizeof *t->parts);
            memset(&t->parts[t->nparts], 0, sizeof *t->parts);
            t->nparts++;
            rc = read_part(&r, c, (int)t->nparts - 1, &t->parts[t->nparts - 1]);
        } else if (strcmp(name, "outcomeProcessing") == 0) {
            if (t->outcome_processing)
                rc = fail(&r, c, "outcomeProcessing appears twice");
            else if ((rc = qti_rules_parse(c, &t->outcome_processing, e)) != 0)
                rc = wrap(&r, c);
        } else if (strcmp(name, "testFeedback") == 0)
            rc = read_feedback(&r, c, &t->feedback, &t->nfeedback);
        else if (strcmp(name, "stylesheet") == 0 || strcmp(name, "templateDeclaration") == 0)
            rc = 0; /* stylesheets of the test are not rendered; no templates at test level */
        else
            rc = fail(&r, c, "assessmentTest: unexpected element <%s>", name);
    }
    if (rc == 0 && t->nparts == 0)
        rc = err_set(e, OP_EINPUT, "%s: the test has no testPart", where);
    struct id_seen seen = {NULL, 0};
    for (size_t i = 0; rc == 0 && i < t->nparts; i++) {
        if (seen_add(&seen, t->parts[i].identifier) != 0)
            rc = err_set(e, OP_EINPUT, "%s line %d: identifier %s is used twice in the test", where,
                         t->parts[i].line, t->parts[i].identifier);
        for (size_t k = 0; rc == 0 && k < t->parts[i].nsections; k++)
            rc = check_node_ids(&r, t->parts[i].sections[k], &seen);
    }
    free(seen.ids);
    for (size_t i = 0; rc == 0 && i < t->nparts; i++)
        for (size_t k = 0; rc == 0 && k < t->parts[i].nsections; k++)
            rc = check_key_clash(&r, t, t->parts[i].sections[k]);
    for (size_t i = 0; rc == 0 && i < t->nparts; i++) {
        rc = check_branches(&r, where, t, t->parts[i].branches, t->parts[i].nbranches);
        for (size_t k = 0; rc == 0 && k < t->parts[i].nsections; k++)
            rc = check_node_branches(&r, t, t->parts[i].sections[k]);
    }
    free(r.open);
    if (rc) {
        qti_test_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* ---- questions ---- */

struct qti_isc qti_isc_effective(const struct qti_test *t, const struct qti_node *item)
{
    struct qti_isc r;
    test_isc_unset(&r);
#define TAKE(src)                                                                                  \
    do {                                                                                           \
        if (r.max_attempts < 0)                                                                    \
            r.max_attempts = (src).max_attempts;                                                   \
        if (r.allow_skipping < 0)                                                                  \
            r.allow_skipping = (src).allow_skipping;                                               \
        if (r.validate_responses < 0)                                                              \
            r.validate_responses = (src).validate_responses;                                       \
        if (r.show_feedback < 0)                                                                   \
            r.show_feedback = (src).show_feedback;                                                 \
        if (r.allow_review < 0)                                                                    \
            r.allow_review = (src).allow_review;                                                   \
        if (r.show_solution < 0)                                                                   \
            r.show_solution = (src).show_solution;                                                 \
        if (r.allow_comment < 0)                                                                   \
            r.allow_comment = (src).allow_comment;                                                 \
    } while (0)
    for (const struct qti_node *n = item; n; n = n->parent)
        TAKE(n->isc);
    if (item && item->part >= 0 && (size_t)item->part < t->nparts)
        TAKE(t->parts[item->part].isc);
    const struct qti_isc def = {1, 1, 0, 0, 1, 0, 0};
    TAKE(def);
#undef TAKE
    return r;
}

static const struct qti_node *find_in(const struct qti_node *n, const char *id)
{
    if (strcmp(n->identifier, id) == 0)
        return n;
    for (size_t i = 0; i < n->nchildren; i++) {
        const struct qti_node *f = find_in(n->children[i], id);
        if (f)
            return f;
    }
    return NULL;
}

const struct qti_node *qti_test_find(const struct qti_test *t, const char *identifier)
{
    for (size_t i = 0; i < t->nparts; i++)
        for (size_t k = 0; k < t->parts[i].nsections; k++) {
            const struct qti_node *f = find_in(t->parts[i].sections[k], identifier);
            if (f)
                return f;
        }
    return NULL;
}

int qti_test_find_part(const struct qti_test *t, const char *identifier)
{
    for (size_t i = 0; i < t->nparts; i++)
        if (strcmp(t->parts[i].identifier, identifier) == 0)
            return (int)i;
    return -1;
}

const struct qti_decl *qti_test_outcome(const struct qti_test *t, const char *identifier)
{
    for (size_t i = 0; i < t->noutcomes; i++)
        if (strcmp(t->outcomes[i]->identifier, identifier) == 0)
            return t->outcomes[i];
    return NULL;
}

static int each_in(const struct qti_node *n, qti_test_item_fn fn, void *arg)
{
    if (n->kind == QTI_NODE_ITEM)
        return fn(n, arg);
    for (size_t i = 0; i < n->nchildren; i++) {
        int rc = each_in(n->children[i], fn, arg);
        if (rc)
            return rc;
    }
    return 0;
}

int qti_test_each_item(const struct qti_test *t, qti_test_item_fn fn, void *arg)
{
    for (size_t i = 0; i < t->nparts; i++)
        for (size_t k = 0; k < t->parts[i].nsections; k++) {
            int rc = each_in(t->parts[i].sections[k], fn, arg);
            if (rc)
                return rc;
        }
    return 0;
}
