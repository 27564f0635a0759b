/*
 * rules.c - QTI processing rules (see rules.h): reading them from QTI XML or from their JSON
 * form, the built-in standard response processing templates, and running them.
 *
 * Invariants of parsed or loaded rules: every rule belongs to the processing kind it is in
 * (no setTemplateValue in responseProcessing ...), a condition has an if branch first and
 * an else branch only last, and the whole processing keeps within QTI_RULES_MAX_DEPTH,
 * QTI_RULES_MAX_RULES and QTI_EXPR_MAX_NODES, so running it is bounded before it starts.
 */
#include "qti/rules.h"

#include <libxml/parser.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qti/qti_alloc.h"
#include "qti/qti_xml.h"

/* ---- element names per kind ---- */

static const char *const kind_names[] = {"response", "template", "outcome"};
static const char *const processing_names[] = {"responseProcessing", "templateProcessing",
                                               "outcomeProcessing"};
static const char *const condition_names[] = {"responseCondition", "templateCondition",
                                              "outcomeCondition"};
static const char *const if_names[] = {"responseIf", "templateIf", "outcomeIf"};
static const char *const elseif_names[] = {"responseElseIf", "templateElseIf", "outcomeElseIf"};
static const char *const else_names[] = {"responseElse", "templateElse", "outcomeElse"};
static const char *const exit_names[] = {"exitResponse", "exitTemplate", "exitTest"};
static const char *const set_names[] = {"setOutcomeValue", "setTemplateValue", "setOutcomeValue"};
static const char *const fragment_names[] = {"responseProcessingFragment", NULL,
                                             "outcomeProcessingFragment"};

/* The element name of a rule in a processing of kind k. */
static const char *rule_name(enum qti_rules_kind k, enum qti_rule_type t)
{
    switch (t) {
    case QTI_RULE_CONDITION:
        return condition_names[k];
    case QTI_RULE_SET_VALUE:
        return set_names[k];
    case QTI_RULE_SET_CORRECT:
        return "setCorrectResponse";
    case QTI_RULE_SET_DEFAULT:
        return "setDefaultValue";
    case QTI_RULE_LOOKUP:
        return "lookupOutcomeValue";
    case QTI_RULE_EXIT:
        return exit_names[k];
    case QTI_RULE_CONSTRAINT:
        return "templateConstraint";
    case QTI_RULE_FRAGMENT:
        return fragment_names[k] ? fragment_names[k] : "?";
    }
    return "?";
}

/* The rule type of element `name` in kind k; -1 if it is not a rule of that kind. */
static int rule_type(enum qti_rules_kind k, const char *name)
{
    if (strcmp(name, condition_names[k]) == 0)
        return QTI_RULE_CONDITION;
    if (strcmp(name, set_names[k]) == 0)
        return QTI_RULE_SET_VALUE;
    if (strcmp(name, exit_names[k]) == 0)
        return QTI_RULE_EXIT;
    if (k == QTI_RULES_TEMPLATE) {
        if (strcmp(name, "setCorrectResponse") == 0)
            return QTI_RULE_SET_CORRECT;
        if (strcmp(name, "setDefaultValue") == 0)
            return QTI_RULE_SET_DEFAULT;
        if (strcmp(name, "templateConstraint") == 0)
            return QTI_RULE_CONSTRAINT;
        return -1;
    }
    if (strcmp(name, "lookupOutcomeValue") == 0)
        return QTI_RULE_LOOKUP;
    if (fragment_names[k] && strcmp(name, fragment_names[k]) == 0)
        return QTI_RULE_FRAGMENT;
    return -1;
}

static bool rule_has_identifier(enum qti_rule_type t)
{
    return t == QTI_RULE_SET_VALUE || t == QTI_RULE_SET_CORRECT || t == QTI_RULE_SET_DEFAULT ||
           t == QTI_RULE_LOOKUP;
}

static bool rule_has_expr(enum qti_rule_type t)
{
    return rule_has_identifier(t) || t == QTI_RULE_CONSTRAINT;
}

/* ---- freeing ---- */

static void rule_list_free(struct qti_rule *rules, size_t n);

static void rule_clear(struct qti_rule *r)
{
    free(r->identifier);
    qti_expr_free(r->expr);
    for (size_t i = 0; i < r->nbranches; i++) {
        qti_expr_free(r->branches[i].cond);
        rule_list_free(r->branches[i].rules, r->branches[i].n);
    }
    free(r->branches);
    rule_list_free(r->rules, r->n);
}

static void rule_list_free(struct qti_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rule_clear(&rules[i]);
    free(rules);
}

void qti_rules_free(struct qti_rules *r)
{
    if (!r)
        return;
    free(r->template_name);
    rule_list_free(r->rules, r->n);
    free(r);
}

/* ---- reading: XML and JSON through the same checks ---- */

struct reader {
    enum qti_rules_kind kind;
    size_t rules_left;
    size_t nodes_left;
    struct op_err *e;
};

static int rule_err(struct reader *rd, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int rule_err(struct reader *rd, int line, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        return err_set(rd->e, OP_EINPUT, "%s line %d: %s", processing_names[rd->kind], line, msg);
    return err_set(rd->e, OP_EINPUT, "%s: %s", processing_names[rd->kind], msg);
}

static int read_xml_list(struct reader *rd, xmlNode *first, int depth, struct qti_rule **out,
                         size_t *n);

static int read_xml_rule(struct reader *rd, xmlNode *node, int depth, struct qti_rule *r)
{
    const char *name = qti_xml_name(node);
    int line = qti_xml_line(node);
    memset(r, 0, sizeof *r);
    r->line = line;
    if (depth > QTI_RULES_MAX_DEPTH)
        return rule_err(rd, line, "rules nested deeper than %d levels", QTI_RULES_MAX_DEPTH);
    if (rd->rules_left == 0)
        return rule_err(rd, line, "over %d rules", QTI_RULES_MAX_RULES);
    rd->rules_left--;
    int t = rule_type(rd->kind, name);
    if (t < 0)
        return rule_err(rd, line, "%s is not allowed in %s", name, processing_names[rd->kind]);
    r->type = (enum qti_rule_type)t;
    if (rule_has_identifier(r->type)) {
        r->identifier = qti_xml_attr(node, "identifier");
        if (!r->identifier || !*r->identifier)
            return rule_err(rd, line, "%s: identifier is required", name);
    }
    if (rule_has_expr(r->type)) {
        xmlNode *c = qti_xml_next_elem(node->children);
        if (!c || qti_xml_next_elem(c->next))
            return rule_err(rd, line, "%s takes exactly one expression", name);
        return qti_expr_parse_budget(c, 1, &rd->nodes_left, &r->expr, rd->e);
    }
    if (r->type == QTI_RULE_FRAGMENT)
        return read_xml_list(rd, node->children, depth + 1, &r->rules, &r->n);
    if (r->type == QTI_RULE_CONDITION) {
        QTI_XML_FOREACH_CHILD(c, node)
        {
            const char *cn = qti_xml_name(c);
            bool is_if = strcmp(cn, if_names[rd->kind]) == 0;
            bool is_elseif = strcmp(cn, elseif_names[rd->kind]) == 0;
            bool is_else = strcmp(cn, else_names[rd->kind]) == 0;
            if (!is_if && !is_elseif && !is_else)
                return rule_err(rd, qti_xml_line(c), "%s is not allowed in %s", cn, name);
            if (is_if != (r->nbranches == 0))
                return rule_err(rd, qti_xml_line(c), "%s must start with %s", name,
                                if_names[rd->kind]);
            if (r->nbranches && r->branches[r->nbranches - 1].cond == NULL)
                return rule_err(rd, qti_xml_line(c), "%s: nothing may follow %s", name,
                                else_names[rd->kind]);
            r->branches = qti_grow(r->branches, r->nbranches, sizeof *r->branches);
            struct qti_branch *b = &r->branches[r->nbranches++];
            memset(b, 0, sizeof *b);
            xmlNode *first = qti_xml_next_elem(c->children);
            if (!is_else) {
                if (!first)
                    return rule_err(rd, qti_xml_line(c), "%s needs a condition expression", cn);
                int rc = qti_expr_parse_budget(first, 1, &rd->nodes_left, &b->cond, rd->e);
                if (rc < 0)
                    return rc;
                first = first->next;
            }
            int rc = read_xml_list(rd, first, depth + 1, &b->rules, &b->n);
            if (rc < 0)
                return rc;
        }
        if (r->nbranches == 0)
            return rule_err(rd, line, "%s must start with %s", name, if_names[rd->kind]);
    }
    return 0;
}

static int read_xml_list(struct reader *rd, xmlNode *first, int depth, struct qti_rule **out,
                         size_t *n)
{
    *out = NULL;
    *n = 0;
    for (xmlNode *c = qti_xml_next_elem(first); c; c = qti_xml_next_elem(c->next)) {
        if (*n == 0 || (*n & (*n - 1)) == 0) /* full: double */
            *out = qti_xrealloc(*out, *n ? *n * 2 : 1, sizeof **out);
        int rc = read_xml_rule(rd, c, depth, &(*out)[*n]);
        (*n)++; /* counted even on failure so that rule_list_free frees what was read */
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int read_json_list(struct reader *rd, const json_t *arr, int depth, struct qti_rule **out,
                          size_t *n);

static int read_json_rule(struct reader *rd, const json_t *j, int depth, struct qti_rule *r)
{
    memset(r, 0, sizeof *r);
    const char *name = json_string_value(json_object_get(j, "rule"));
    if (!name)
        return rule_err(rd, 0, "a rule has no \"rule\" name");
    if (depth > QTI_RULES_MAX_DEPTH)
        return rule_err(rd, 0, "rules nested deeper than %d levels", QTI_RULES_MAX_DEPTH);
    if (rd->rules_left == 0)
        return rule_err(rd, 0, "over %d rules", QTI_RULES_MAX_RULES);
    rd->rules_left--;
    int t = rule_type(rd->kind, name);
    if (t < 0)
        return rule_err(rd, 0, "%s is not allowed in %s", name, processing_names[rd->kind]);
    r->type = (enum qti_rule_type)t;
    if (rule_has_identifier(r->type)) {
        const char *id = json_string_value(json_object_get(j, "identifier"));
        if (!id || !*id)
            return rule_err(rd, 0, "%s: identifier is required", name);
        r->identifier = qti_xstrdup(id);
    }
    if (rule_has_expr(r->type)) {
        const json_t *x = json_object_get(j, "expr");
        if (!x)
            return rule_err(rd, 0, "%s takes exactly one expression", name);
        return qti_expr_from_json_budget(x, 1, &rd->nodes_left, &r->expr, rd->e);
    }
    if (r->type == QTI_RULE_FRAGMENT)
        return read_json_list(rd, json_object_get(j, "rules"), depth + 1, &r->rules, &r->n);
    if (r->type == QTI_RULE_CONDITION) {
        const json_t *br = json_object_get(j, "branches");
        if (!json_is_array(br) || json_array_size(br) == 0)
            return rule_err(rd, 0, "%s needs branches", name);
        if (json_array_size(br) > rd->rules_left)
            return rule_err(rd, 0, "over %d rules", QTI_RULES_MAX_RULES);
        r->branches = qti_xcalloc(json_array_size(br), sizeof *r->branches);
        for (size_t i = 0; i < json_array_size(br); i++) {
            const json_t *bj = json_array_get(br, i);
            const json_t *cond = json_object_get(bj, "if");
            struct qti_branch *b = &r->branches[r->nbranches++];
            if (!json_is_object(bj) || (i == 0 && !cond))
                return rule_err(rd, 0, "%s must start with %s", name, if_names[rd->kind]);
            if (!cond && i + 1 != json_array_size(br))
                return rule_err(rd, 0, "%s: nothing may follow %s", name, else_names[rd->kind]);
            int rc;
            if (cond &&
                (rc = qti_expr_from_json_budget(cond, 1, &rd->nodes_left, &b->cond, rd->e)) < 0)
                return rc;
            if ((rc = read_json_list(rd, json_object_get(bj, "rules"), depth + 1, &b->rules,
                                     &b->n)) < 0)
                return rc;
        }
    }
    return 0;
}

static int read_json_list(struct reader *rd, const json_t *arr, int depth, struct qti_rule **out,
                          size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return rule_err(rd, 0, "rules must be an array");
    size_t count = json_array_size(arr);
    if (count > rd->rules_left)
        return rule_err(rd, 0, "over %d rules", QTI_RULES_MAX_RULES);
    *out = qti_xcalloc(count, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        int rc = read_json_rule(rd, json_array_get(arr, i), depth, &(*out)[*n]);
        (*n)++;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- standard templates ---- */

/* The rules of the standard templates, as the QTI specification states them: SCORE from
 * RESPONSE, 1 or 0 by match_correct, the mapped value (0 for no response) by the others. */
static const char tpl_match_correct[] =
    "<responseProcessing><responseCondition><responseIf>"
    "<match><variable identifier='RESPONSE'/><correct identifier='RESPONSE'/></match>"
    "<setOutcomeValue identifier='SCORE'><baseValue baseType='float'>1</baseValue>"
    "</setOutcomeValue></responseIf><responseElse>"
    "<setOutcomeValue identifier='SCORE'><baseValue baseType='float'>0</baseValue>"
    "</setOutcomeValue></responseElse></responseCondition></responseProcessing>";

#define TPL_MAPPED(op)                                                                             \
    "<responseProcessing><responseCondition><responseIf>"                                          \
    "<isNull><variable identifier='RESPONSE'/></isNull>"                                           \
    "<setOutcomeValue identifier='SCORE'><baseValue baseType='float'>0</baseValue>"                \
    "</setOutcomeValue></responseIf><responseElse>"                                                \
    "<setOutcomeValue identifier='SCORE'><" op " identifier='RESPONSE'/></setOutcomeValue>"        \
    "</responseElse></responseCondition></responseProcessing>"

static const struct {
    const char *name;
    const char *xml;
} templates[] = {
    {"match_correct", tpl_match_correct},
    {"map_response", TPL_MAPPED("mapResponse")},
    {"map_response_point", TPL_MAPPED("mapResponsePoint")},
};

const char *qti_rules_template_name(const char *uri)
{
    if (!uri)
        return NULL;
    const char *base = strrchr(uri, '/');
    base = base ? base + 1 : uri;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".xml") == 0)
        n -= 4;
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        if (strlen(templates[i].name) == n && strncmp(base, templates[i].name, n) == 0)
            return templates[i].name;
    return NULL;
}

static int parse_processing(xmlNode *node, bool use_template, struct qti_rules **out,
                            struct op_err *e);

int qti_rules_standard_template(const char *uri, struct qti_rules **out, struct op_err *e)
{
    *out = NULL;
    const char *name = qti_rules_template_name(uri);
    if (!name)
        return err_set(e, OP_ENOTFOUND,
                       "response processing template \"%.200s\" is not one of "
                       "match_correct, map_response, map_response_point",
                       uri ? uri : "");
    const char *xml = NULL;
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        if (strcmp(templates[i].name, name) == 0)
            xml = templates[i].xml;
    if (!xml)
        return err_set(e, OP_EINPUT, "internal: no template %s", name);
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "template.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    if (!doc)
        return err_set(e, OP_EINPUT, "internal: template %s does not parse", name);
    int rc = parse_processing(xmlDocGetRootElement(doc), false, out, e);
    xmlFreeDoc(doc);
    if (rc == 0)
        (*out)->template_name = qti_xstrdup(name);
    return rc;
}

static int parse_processing(xmlNode *node, bool use_template, struct qti_rules **out,
                            struct op_err *e)
{
    *out = NULL;
    int kind = -1;
    for (int k = 0; k < 3; k++)
        if (qti_xml_is(node, processing_names[k]))
            kind = k;
    if (kind < 0)
        return err_set(e, OP_EINPUT,
                       "line %d: %s is not responseProcessing, templateProcessing "
                       "or outcomeProcessing",
                       node ? qti_xml_line(node) : 0, node ? qti_xml_name(node) : "(nothing)");
    if (use_template && kind == QTI_RULES_RESPONSE) {
        char *tpl = qti_xml_attr(node, "template");
        char *loc = qti_xml_attr(node, "templateLocation");
        const char *name = qti_rules_template_name(tpl);
        if (!name)
            name = qti_rules_template_name(loc);
        bool has_rules = qti_xml_next_elem(node->children) != NULL;
        int rc = 1;
        if (name)
            rc = qti_rules_standard_template(name, out, e);
        else if (!has_rules && (tpl || loc))
            rc = err_set(e, OP_EINPUT,
                         "responseProcessing line %d: template \"%.200s\" is not a standard "
                         "template (match_correct, map_response, map_response_point) and has no "
                         "rules of its own; Outpost never fetches templates",
                         qti_xml_line(node), tpl ? tpl : loc);
        free(tpl);
        free(loc);
        if (rc <= 0)
            return rc;
    }
    struct qti_rules *r = qti_xcalloc(1, sizeof *r);
    r->kind = (enum qti_rules_kind)kind;
    struct reader rd = {r->kind, QTI_RULES_MAX_RULES, QTI_EXPR_MAX_NODES, e};
    int rc = read_xml_list(&rd, node->children, 1, &r->rules, &r->n);
    if (rc < 0) {
        qti_rules_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int qti_rules_parse(xmlNode *node, struct qti_rules **out, struct op_err *e)
{
    return parse_processing(node, true, out, e);
}

/* ---- JSON ---- */

static json_t *rule_list_to_json(enum qti_rules_kind k, const struct qti_rule *rules, size_t n);

static json_t *rule_to_json(enum qti_rules_kind k, const struct qti_rule *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "rule", json_string(rule_name(k, r->type)));
    if (r->identifier)
        json_object_set_new(o, "identifier", json_string(r->identifier));
    if (r->expr)
        json_object_set_new(o, "expr", qti_expr_to_json(r->expr));
    if (r->type == QTI_RULE_FRAGMENT)
        json_object_set_new(o, "rules", rule_list_to_json(k, r->rules, r->n));
    if (r->type == QTI_RULE_CONDITION) {
        json_t *br = json_array();
        for (size_t i = 0; i < r->nbranches; i++) {
            json_t *bj = json_object();
            if (r->branches[i].cond)
                json_object_set_new(bj, "if", qti_expr_to_json(r->branches[i].cond));
            json_object_set_new(bj, "rules",
                                rule_list_to_json(k, r->branches[i].rules, r->branches[i].n));
            json_array_append_new(br, bj);
        }
        json_object_set_new(o, "branches", br);
    }
    return o;
}

static json_t *rule_list_to_json(enum qti_rules_kind k, const struct qti_rule *rules, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, rule_to_json(k, &rules[i]));
    return a;
}

json_t *qti_rules_to_json(const struct qti_rules *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(kind_names[r->kind]));
    if (r->template_name)
        json_object_set_new(o, "template", json_string(r->template_name));
    json_object_set_new(o, "rules", rule_list_to_json(r->kind, r->rules, r->n));
    return o;
}

int qti_rules_from_json(const json_t *j, struct qti_rules **out, struct op_err *e)
{
    *out = NULL;
    const char *kind = json_string_value(json_object_get(j, "kind"));
    int k = -1;
    for (int i = 0; kind && i < 3; i++)
        if (strcmp(kind, kind_names[i]) == 0)
            k = i;
    if (!json_is_object(j) || k < 0)
        return err_set(e, OP_EINPUT,
                       "rules: expected an object with kind response, template or "
                       "outcome");
    struct qti_rules *r = qti_xcalloc(1, sizeof *r);
    r->kind = (enum qti_rules_kind)k;
    const char *tpl = json_string_value(json_object_get(j, "template"));
    if (tpl && qti_rules_template_name(tpl))
        r->template_name = qti_xstrdup(qti_rules_template_name(tpl));
    struct reader rd = {r->kind, QTI_RULES_MAX_RULES, QTI_EXPR_MAX_NODES, e};
    int rc = read_json_list(&rd, json_object_get(j, "rules"), 1, &r->rules, &r->n);
    if (rc < 0) {
        qti_rules_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* ---- running ---- */

struct run {
    enum qti_rules_kind kind;
    const struct qti_eval_ops *ops;
    void *ud;
    qti_set_fn set;
    size_t steps;
    struct op_err *e;
    enum qti_run_end end;
};

static int run_err(struct run *rn, const struct qti_rule *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int run_err(struct run *rn, const struct qti_rule *r, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *name = rule_name(rn->kind, r->type);
    if (r->line > 0)
        return err_set(rn->e, OP_EINPUT, "%s line %d: %s", name, r->line, msg);
    return err_set(rn->e, OP_EINPUT, "%s: %s", name, msg);
}

int qti_value_fit(const struct qti_decl *d, struct qti_value *v, struct qti_value **out,
                  struct op_err *e)
{
    *out = NULL;
    if (qti_value_is_null(v)) {
        qti_value_free(v);
        return 0;
    }
    char got[100];
    if (v->card == QTI_CARD_RECORD)
        snprintf(got, sizeof got, "a record");
    else
        snprintf(got, sizeof got, "%s %s", qti_cardinality_name(v->card),
                 qti_base_type_name(v->type));
    int rc = 0;
    if (d->card == QTI_CARD_RECORD || v->card == QTI_CARD_RECORD) {
        if (d->card != v->card)
            rc = -1;
    } else {
        /* a single value may fill a container of one (authoring tools write this) */
        if (v->card != d->card && v->card == QTI_CARD_SINGLE)
            v->card = d->card;
        else if (v->card != d->card)
            rc = -1;
        for (size_t i = 0; rc == 0 && i < v->n && v->type != d->type; i++) {
            struct qti_scalar *s = &v->items[i];
            if (s->type == QTI_BT_INTEGER && d->type == QTI_BT_FLOAT) {
                double f = (double)s->u.i;
                s->type = QTI_BT_FLOAT;
                s->u.f = f;
            } else if (s->type == QTI_BT_FLOAT && d->type == QTI_BT_INTEGER &&
                       s->u.f == floor(s->u.f) && fabs(s->u.f) < 9.0e15) {
                /* a whole float into an integer variable: the standard templates set SCORE
                 * to 1.0 and some items declare SCORE as an integer */
                int64_t i2 = (int64_t)s->u.f;
                s->type = QTI_BT_INTEGER;
                s->u.i = i2;
            } else if ((s->type == QTI_BT_IDENTIFIER || s->type == QTI_BT_STRING) &&
                       (d->type == QTI_BT_IDENTIFIER || d->type == QTI_BT_STRING) &&
                       (d->type == QTI_BT_STRING || !strpbrk(s->u.s, " \t\r\n"))) {
                s->type = d->type;
            } else {
                rc = -1;
            }
        }
        if (rc == 0)
            v->type = d->type;
    }
    if (rc < 0) {
        qti_value_free(v);
        if (d->card == QTI_CARD_RECORD)
            return err_set(e, OP_EINPUT, "%s is a record; the expression gave %s", d->identifier,
                           got);
        return err_set(e, OP_EINPUT, "%s is %s %s; the expression gave %s", d->identifier,
                       qti_cardinality_name(d->card), qti_base_type_name(d->type), got);
    }
    *out = v;
    return 0;
}

/* qti_value_fit, with the rule named in the message. */
static int coerce(struct run *rn, const struct qti_rule *r, const struct qti_decl *d,
                  struct qti_value *v, struct qti_value **out)
{
    if (qti_value_fit(d, v, out, rn->e) == 0)
        return 0;
    char msg[sizeof rn->e->msg];
    snprintf(msg, sizeof msg, "%s", rn->e->msg);
    return run_err(rn, r, "%s", msg);
}

static int eval_expr(struct run *rn, const struct qti_expr *x, struct qti_value **out)
{
    return qti_expr_eval_budget(x, rn->ops, rn->ud, &rn->steps, out, rn->e);
}

/* A condition holds when it is a true boolean; NULL counts as false. */
static int condition(struct run *rn, const struct qti_rule *r, const struct qti_expr *x,
                     bool *holds)
{
    struct qti_value *v = NULL;
    int rc = eval_expr(rn, x, &v);
    if (rc < 0)
        return rc;
    *holds = false;
    if (v && (v->card != QTI_CARD_SINGLE || v->type != QTI_BT_BOOLEAN)) {
        qti_value_free(v);
        return run_err(rn, r, "the condition is not a single boolean");
    }
    *holds = v && v->items[0].u.b;
    qti_value_free(v);
    return 0;
}

static int lookup(struct run *rn, const struct qti_rule *r, const struct qti_decl *d,
                  struct qti_value *src, struct qti_value **out)
{
    *out = NULL;
    const struct qti_lookup_table *t = &d->lookup;
    if (t->kind == QTI_LOOKUP_NONE) {
        qti_value_free(src);
        return run_err(rn, r, "%s has no matchTable or interpolationTable", d->identifier);
    }
    const struct qti_value *target = t->default_value;
    if (!qti_value_is_null(src)) {
        if (src->card != QTI_CARD_SINGLE ||
            (src->type != QTI_BT_INTEGER && src->type != QTI_BT_FLOAT)) {
            qti_value_free(src);
            return run_err(rn, r, "the expression must give a single number");
        }
        double s = src->type == QTI_BT_INTEGER ? (double)src->items[0].u.i : src->items[0].u.f;
        for (size_t i = 0; i < t->n; i++) {
            const struct qti_lookup_entry *le = &t->entries[i];
            bool hit = t->kind == QTI_LOOKUP_MATCH
                           ? s == le->source
                           : s > le->source || (s == le->source && le->include_boundary);
            if (hit) {
                target = le->target;
                break;
            }
        }
    }
    qti_value_free(src);
    return qti_value_copy(target, out);
}

static int run_list(struct run *rn, const struct qti_rule *rules, size_t n);

static int run_rule(struct run *rn, const struct qti_rule *r)
{
    int rc;
    switch (r->type) {
    case QTI_RULE_CONDITION:
        for (size_t i = 0; i < r->nbranches; i++) {
            bool holds = true;
            if (r->branches[i].cond && (rc = condition(rn, r, r->branches[i].cond, &holds)) < 0)
                return rc;
            if (holds)
                return run_list(rn, r->branches[i].rules, r->branches[i].n);
        }
        return 0;
    case QTI_RULE_FRAGMENT:
        return run_list(rn, r->rules, r->n);
    case QTI_RULE_EXIT:
        rn->end = QTI_RUN_EXIT;
        return 0;
    case QTI_RULE_CONSTRAINT: {
        bool holds;
        if ((rc = condition(rn, r, r->expr, &holds)) < 0)
            return rc;
        if (!holds)
            rn->end = QTI_RUN_CONSTRAINT_FALSE;
        return 0;
    }
    default:
        break;
    }
    /* set*, lookup */
    const struct qti_decl *d = rn->ops->decl(rn->ud, r->identifier);
    if (!d)
        return run_err(rn, r, "unknown variable %s", r->identifier);
    enum qti_decl_kind want = QTI_DECL_OUTCOME;
    enum qti_set_what what = QTI_SET_VALUE;
    if (r->type == QTI_RULE_SET_VALUE && rn->kind == QTI_RULES_TEMPLATE)
        want = QTI_DECL_TEMPLATE;
    if (r->type == QTI_RULE_SET_CORRECT) {
        want = QTI_DECL_RESPONSE;
        what = QTI_SET_CORRECT;
    }
    if (r->type == QTI_RULE_SET_DEFAULT)
        what = QTI_SET_DEFAULT;
    bool kind_ok = r->type == QTI_RULE_SET_DEFAULT
                       ? d->kind == QTI_DECL_RESPONSE || d->kind == QTI_DECL_OUTCOME
                       : d->kind == want;
    if (!kind_ok)
        return run_err(rn, r, "%s is not %s variable", r->identifier,
                       r->type == QTI_RULE_SET_DEFAULT ? "a response or outcome"
                       : want == QTI_DECL_OUTCOME      ? "an outcome"
                       : want == QTI_DECL_TEMPLATE     ? "a template"
                                                       : "a response");
    struct qti_value *v = NULL, *fitted = NULL;
    if ((rc = eval_expr(rn, r->expr, &v)) < 0)
        return rc;
    if (r->type == QTI_RULE_LOOKUP)
        rc = lookup(rn, r, d, v, &fitted);
    else
        rc = coerce(rn, r, d, v, &fitted);
    if (rc < 0)
        return rc;
    return rn->set(rn->ud, what, r->identifier, fitted, rn->e);
}

static int run_list(struct run *rn, const struct qti_rule *rules, size_t n)
{
    for (size_t i = 0; i < n && rn->end == QTI_RUN_DONE; i++) {
        int rc = run_rule(rn, &rules[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int qti_rules_run(const struct qti_rules *r, const struct qti_eval_ops *ops, void *ud,
                  qti_set_fn set, enum qti_run_end *end, struct op_err *e)
{
    struct run rn = {r->kind, ops, ud, set, QTI_RULES_MAX_STEPS, e, QTI_RUN_DONE};
    int rc = run_list(&rn, r->rules, r->n);
    if (end)
        *end = rn.end;
    return rc;
}

int qti_rules_run_template(const struct qti_rules *r, const struct qti_eval_ops *ops, void *ud,
                           qti_set_fn set, qti_reset_fn reset, struct op_err *e)
{
    for (int attempt = 0; attempt < QTI_TEMPLATE_MAX_TRIES; attempt++) {
        enum qti_run_end end;
        int rc = qti_rules_run(r, ops, ud, set, &end, e);
        if (rc < 0)
            return rc;
        if (end != QTI_RUN_CONSTRAINT_FALSE)
            return 0;
        if ((rc = reset(ud, e)) < 0)
            return rc;
    }
    /* the constraint never held: the template variables keep their default values (the
     * last reset above restored them) */
    return 0;
}
