/*
 * expr.c - the QTI expression language (see expr.h): the operator table, reading trees from
 * QTI XML or from their JSON form through one attribute reader, and the evaluator.
 *
 * One parser for both sources: a node's attributes are read through `struct src`, which
 * answers from an XML element or from a JSON object holding the same attributes as strings
 * (the JSON form of a tree is its XML attributes, so XML and JSON trees pass the same
 * checks and round-trip exactly).
 *
 * Bounds: depth and node count are checked while reading; evaluation recurses only as deep
 * as the tree (at most QTI_EXPR_MAX_DEPTH) and counts steps against a budget.
 */
#include "qti/expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qti/pattern.h"
#include "qti/qti_alloc.h"
#include "qti/qti_xml.h"

/* ---- the operator table ---- */

#define ANY 100000 /* no upper bound on sub-expressions (the node budget bounds them) */

static const struct opinfo {
    const char *name;
    int min_args, max_args;
} ops_table[QTI_OP_COUNT_] = {
    [QTI_OP_BASE_VALUE] = {"baseValue", 0, 0},
    [QTI_OP_VARIABLE] = {"variable", 0, 0},
    [QTI_OP_DEFAULT] = {"default", 0, 0},
    [QTI_OP_CORRECT] = {"correct", 0, 0},
    [QTI_OP_MAP_RESPONSE] = {"mapResponse", 0, 0},
    [QTI_OP_MAP_RESPONSE_POINT] = {"mapResponsePoint", 0, 0},
    [QTI_OP_MATH_CONSTANT] = {"mathConstant", 0, 0},
    [QTI_OP_NULL] = {"null", 0, 0},
    [QTI_OP_RANDOM_INTEGER] = {"randomInteger", 0, 0},
    [QTI_OP_RANDOM_FLOAT] = {"randomFloat", 0, 0},
    [QTI_OP_NUMBER_CORRECT] = {"numberCorrect", 0, 0},
    [QTI_OP_NUMBER_INCORRECT] = {"numberIncorrect", 0, 0},
    [QTI_OP_NUMBER_PRESENTED] = {"numberPresented", 0, 0},
    [QTI_OP_NUMBER_RESPONDED] = {"numberResponded", 0, 0},
    [QTI_OP_NUMBER_SELECTED] = {"numberSelected", 0, 0},
    [QTI_OP_TEST_VARIABLES] = {"testVariables", 0, 0},
    [QTI_OP_OUTCOME_MAXIMUM] = {"outcomeMaximum", 0, 0},
    [QTI_OP_OUTCOME_MINIMUM] = {"outcomeMinimum", 0, 0},
    [QTI_OP_MULTIPLE] = {"multiple", 0, ANY},
    [QTI_OP_ORDERED] = {"ordered", 0, ANY},
    [QTI_OP_CONTAINER_SIZE] = {"containerSize", 1, 1},
    [QTI_OP_IS_NULL] = {"isNull", 1, 1},
    [QTI_OP_INDEX] = {"index", 1, 1},
    [QTI_OP_FIELD_VALUE] = {"fieldValue", 1, 1},
    [QTI_OP_RANDOM] = {"random", 1, 1},
    [QTI_OP_MEMBER] = {"member", 2, 2},
    [QTI_OP_DELETE] = {"delete", 2, 2},
    [QTI_OP_CONTAINS] = {"contains", 2, 2},
    [QTI_OP_REPEAT] = {"repeat", 0, ANY},
    [QTI_OP_SUBSTRING] = {"substring", 2, 2},
    [QTI_OP_STRING_MATCH] = {"stringMatch", 2, 2},
    [QTI_OP_PATTERN_MATCH] = {"patternMatch", 1, 1},
    [QTI_OP_NOT] = {"not", 1, 1},
    [QTI_OP_AND] = {"and", 1, ANY},
    [QTI_OP_OR] = {"or", 1, ANY},
    [QTI_OP_ANY_N] = {"anyN", 1, ANY},
    [QTI_OP_MATCH] = {"match", 2, 2},
    [QTI_OP_EQUAL] = {"equal", 2, 2},
    [QTI_OP_EQUAL_ROUNDED] = {"equalRounded", 2, 2},
    [QTI_OP_INSIDE] = {"inside", 1, 1},
    [QTI_OP_LT] = {"lt", 2, 2},
    [QTI_OP_GT] = {"gt", 2, 2},
    [QTI_OP_LTE] = {"lte", 2, 2},
    [QTI_OP_GTE] = {"gte", 2, 2},
    [QTI_OP_DURATION_LT] = {"durationLT", 2, 2},
    [QTI_OP_DURATION_GTE] = {"durationGTE", 2, 2},
    [QTI_OP_SUM] = {"sum", 1, ANY},
    [QTI_OP_PRODUCT] = {"product", 1, ANY},
    [QTI_OP_SUBTRACT] = {"subtract", 2, 2},
    [QTI_OP_DIVIDE] = {"divide", 2, 2},
    [QTI_OP_POWER] = {"power", 2, 2},
    [QTI_OP_INTEGER_DIVIDE] = {"integerDivide", 2, 2},
    [QTI_OP_INTEGER_MODULUS] = {"integerModulus", 2, 2},
    [QTI_OP_TRUNCATE] = {"truncate", 1, 1},
    [QTI_OP_ROUND] = {"round", 1, 1},
    [QTI_OP_ROUND_TO] = {"roundTo", 1, 1},
    [QTI_OP_INTEGER_TO_FLOAT] = {"integerToFloat", 1, 1},
    [QTI_OP_MAX] = {"max", 1, ANY},
    [QTI_OP_MIN] = {"min", 1, ANY},
    [QTI_OP_GCD] = {"gcd", 1, ANY},
    [QTI_OP_LCM] = {"lcm", 1, ANY},
    [QTI_OP_STATS_OPERATOR] = {"statsOperator", 1, 1},
    [QTI_OP_MATH_OPERATOR] = {"mathOperator", 1, 2},
};

const char *qti_op_name(enum qti_op op)
{
    if ((int)op < 0 || op >= QTI_OP_COUNT_)
        return "?";
    return ops_table[op].name;
}

int qti_op_from_name(const char *name)
{
    for (int i = 0; name && i < QTI_OP_COUNT_; i++)
        if (strcmp(ops_table[i].name, name) == 0)
            return i;
    return -1;
}

static const char *const const_names[] = {"pi", "e", NULL};
static const char *const math_names[] = {
    "sin",  "cos",  "tan",  "sec",    "csc",   "cot",  "asin",      "acos",      "atan", "atan2",
    "asec", "acsc", "acot", "sinh",   "cosh",  "tanh", "sech",      "csch",      "coth", "log",
    "ln",   "exp",  "abs",  "signum", "floor", "ceil", "toDegrees", "toRadians", NULL};
static const char *const stats_names[] = {"mean",        "sampleVariance", "sampleSD",
                                          "popVariance", "popSD",          NULL};
static const char *const tol_names[] = {"exact", "absolute", "relative", NULL};
static const char *const rounding_names[] = {"significantFigures", "decimalPlaces", NULL};
static const char *const shape_names[] = {"default", "rect", "circle", "poly", "ellipse", NULL};

/* The names `sub` takes for an operator, and the attribute carrying it. */
static const char *const *sub_names(enum qti_op op, const char **attr)
{
    switch (op) {
    case QTI_OP_MATH_CONSTANT:
        *attr = "name";
        return const_names;
    case QTI_OP_MATH_OPERATOR:
        *attr = "name";
        return math_names;
    case QTI_OP_STATS_OPERATOR:
        *attr = "name";
        return stats_names;
    case QTI_OP_EQUAL:
        *attr = "toleranceMode";
        return tol_names;
    case QTI_OP_EQUAL_ROUNDED:
    case QTI_OP_ROUND_TO:
        *attr = "roundingMode";
        return rounding_names;
    case QTI_OP_INSIDE:
        *attr = "shape";
        return shape_names;
    default:
        *attr = NULL;
        return NULL;
    }
}

/* The attribute holding `identifier` for an operator, or NULL. */
static const char *identifier_attr(enum qti_op op)
{
    switch (op) {
    case QTI_OP_VARIABLE:
    case QTI_OP_DEFAULT:
    case QTI_OP_CORRECT:
    case QTI_OP_MAP_RESPONSE:
    case QTI_OP_MAP_RESPONSE_POINT:
        return "identifier";
    case QTI_OP_FIELD_VALUE:
        return "fieldIdentifier";
    case QTI_OP_TEST_VARIABLES:
        return "variableIdentifier";
    case QTI_OP_OUTCOME_MAXIMUM:
    case QTI_OP_OUTCOME_MINIMUM:
        return "outcomeIdentifier";
    default:
        return NULL;
    }
}

static bool is_subset_op(enum qti_op op)
{
    return op >= QTI_OP_NUMBER_CORRECT && op <= QTI_OP_OUTCOME_MINIMUM;
}

static bool has_weight(enum qti_op op)
{
    return op == QTI_OP_VARIABLE || op == QTI_OP_TEST_VARIABLES || op == QTI_OP_OUTCOME_MAXIMUM ||
           op == QTI_OP_OUTCOME_MINIMUM;
}

/* The reference attributes of an operator: names for a, b, c (NULL: unused), whether each
 * is required, and its kind: 'i' integer, 'f' float, 's' string. */
struct refspec {
    const char *name[3];
    bool required[3];
    char kind;
    double dflt[3];
};

static struct refspec refs_of(enum qti_op op)
{
    struct refspec r = {{NULL, NULL, NULL}, {false, false, false}, 'i', {0, 0, 0}};
    switch (op) {
    case QTI_OP_RANDOM_INTEGER:
        r = (struct refspec){{"min", "max", "step"}, {false, true, false}, 'i', {0, 0, 1}};
        break;
    case QTI_OP_RANDOM_FLOAT:
        r = (struct refspec){{"min", "max", NULL}, {false, true, false}, 'f', {0, 0, 0}};
        break;
    case QTI_OP_ANY_N:
        r = (struct refspec){{"min", "max", NULL}, {true, true, false}, 'i', {0, 0, 0}};
        break;
    case QTI_OP_INDEX:
        r = (struct refspec){{"n", NULL, NULL}, {true, false, false}, 'i', {0, 0, 0}};
        break;
    case QTI_OP_REPEAT:
        r = (struct refspec){{"numberRepeats", NULL, NULL}, {true, false, false}, 'i', {0, 0, 0}};
        break;
    case QTI_OP_EQUAL_ROUNDED:
    case QTI_OP_ROUND_TO:
        r = (struct refspec){{"figures", NULL, NULL}, {true, false, false}, 'i', {0, 0, 0}};
        break;
    case QTI_OP_PATTERN_MATCH:
        r = (struct refspec){{"pattern", NULL, NULL}, {true, false, false}, 's', {0, 0, 0}};
        break;
    default:
        break;
    }
    return r;
}

/* ---- reading: one attribute source for XML and JSON ---- */

struct src {
    xmlNode *xml;
    const json_t *json;
};

/* The attribute in a new string owned by the caller, or NULL if absent. */
static char *src_attr(const struct src *s, const char *name)
{
    if (s->xml)
        return qti_xml_attr(s->xml, name);
    const char *v = json_string_value(json_object_get(s->json, name));
    return v ? qti_xstrdup(v) : NULL;
}

struct reader {
    size_t *budget;
    struct op_err *e;
};

static int node_err(const struct reader *r, int line, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int node_err(const struct reader *r, int line, const char *op, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        return err_set(r->e, OP_EINPUT, "line %d: %s: %s", line, op, msg);
    return err_set(r->e, OP_EINPUT, "%s: %s", op, msg);
}

/* Parses a reference attribute ("3", "2.5", "{VAR}", or a bare identifier in the old form). */
static int parse_ref(const struct reader *r, int line, const char *op, const char *attr,
                     const char *text, char kind, struct qti_ref *out)
{
    memset(out, 0, sizeof *out);
    out->present = true;
    size_t n = strlen(text);
    if (kind == 's') {
        if (n >= 2 && text[0] == '{' && text[n - 1] == '}' && n < 300) {
            out->var = qti_xcalloc(n - 1, 1);
            memcpy(out->var, text + 1, n - 2);
        } else {
            out->str = qti_xstrdup(text);
        }
        return 0;
    }
    if (n >= 3 && text[0] == '{' && text[n - 1] == '}') {
        out->var = qti_xcalloc(n - 1, 1);
        memcpy(out->var, text + 1, n - 2);
        return 0;
    }
    struct qti_scalar sc;
    struct op_err tmp = {0};
    if (qti_scalar_parse(kind == 'i' ? QTI_BT_INTEGER : QTI_BT_FLOAT, text, attr, &sc, &tmp) == 0) {
        out->num = kind == 'i' ? (double)sc.u.i : sc.u.f;
        if (!isfinite(out->num))
            return node_err(r, line, op, "%s must be a finite number", attr);
        return 0;
    }
    /* QTI 2.1 drafts wrote a variable reference without braces */
    bool ident = n > 0 && n < 300 && (isalpha((unsigned char)text[0]) || text[0] == '_');
    for (size_t i = 0; ident && i < n; i++)
        ident = isalnum((unsigned char)text[i]) || strchr("_-.", text[i]);
    if (!ident)
        return node_err(r, line, op, "%s \"%.60s\" is not %s or a {variable}", attr, text,
                        kind == 'i' ? "an integer" : "a number");
    out->var = qti_xstrdup(text);
    return 0;
}

static void ref_clear(struct qti_ref *r)
{
    free(r->str);
    free(r->var);
    memset(r, 0, sizeof *r);
}

static char *ref_format(const struct qti_ref *r, char kind)
{
    if (r->var) {
        size_t n = strlen(r->var) + 3;
        char *s = qti_xcalloc(n, 1);
        snprintf(s, n, "{%s}", r->var);
        return s;
    }
    if (r->str)
        return qti_xstrdup(r->str);
    struct qti_scalar sc = {.type = kind == 'i' ? QTI_BT_INTEGER : QTI_BT_FLOAT};
    if (kind == 'i')
        sc.u.i = (int64_t)r->num;
    else
        sc.u.f = r->num;
    return qti_scalar_format(&sc);
}

static int parse_bool(const struct reader *r, const struct src *s, int line, const char *op,
                      const char *attr, bool dflt, bool required, bool *out)
{
    char *v = src_attr(s, attr);
    *out = dflt;
    if (!v) {
        if (required)
            return node_err(r, line, op, "%s is required", attr);
        return 0;
    }
    int rc = 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = false;
    else
        rc = node_err(r, line, op, "%s \"%.40s\" is not true or false", attr, v);
    free(v);
    return rc;
}

/* Splits a space-separated identifier list (includeCategory="a b"). */
static int parse_list(const struct reader *r, int line, const char *op, const char *attr,
                      const char *text, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const char *p = text;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && !isspace((unsigned char)*q))
            q++;
        if (*n >= 1000)
            return node_err(r, line, op, "%s: over 1000 names", attr);
        *out = qti_grow(*out, *n, sizeof **out);
        (*out)[*n] = qti_xcalloc((size_t)(q - p) + 1, 1);
        memcpy((*out)[*n], p, (size_t)(q - p));
        (*n)++;
        p = q;
    }
    return 0;
}

static int read_node(const struct reader *r, const struct src *s, const char *name, int line,
                     int depth, struct qti_expr **out);

/* Reads the attributes of node x (op already set). */
static int read_attrs(const struct reader *r, const struct src *s, struct qti_expr *x)
{
    const char *op = qti_op_name(x->op);
    int line = x->line, rc = 0;
    char *v;

    const char *ida = identifier_attr(x->op);
    if (ida) {
        x->identifier = src_attr(s, ida);
        if (!x->identifier || !*x->identifier)
            return node_err(r, line, op, "%s is required", ida);
    }
    if (has_weight(x->op)) {
        x->weight_identifier = src_attr(s, "weightIdentifier");
        if (x->weight_identifier && !*x->weight_identifier) {
            free(x->weight_identifier);
            x->weight_identifier = NULL;
        }
    }
    if (is_subset_op(x->op)) {
        x->section_identifier = src_attr(s, "sectionIdentifier");
        if ((v = src_attr(s, "includeCategory"))) {
            rc = parse_list(r, line, op, "includeCategory", v, &x->include_category, &x->n_include);
            free(v);
            if (rc < 0)
                return rc;
        }
        if ((v = src_attr(s, "excludeCategory"))) {
            rc = parse_list(r, line, op, "excludeCategory", v, &x->exclude_category, &x->n_exclude);
            free(v);
            if (rc < 0)
                return rc;
        }
    }
    if (x->op == QTI_OP_BASE_VALUE || x->op == QTI_OP_TEST_VARIABLES) {
        v = src_attr(s, "baseType");
        x->base_type = qti_base_type_from_name(v);
        bool bad = v && (x->base_type == QTI_BT_NONE || x->base_type == QTI_BT_FILE);
        if (bad || (!v && x->op == QTI_OP_BASE_VALUE))
            rc = node_err(r, line, op, "baseType \"%.40s\" is %s", v ? v : "",
                          !v                            ? "missing"
                          : x->base_type == QTI_BT_FILE ? "not supported (file)"
                                                        : "not a QTI base type");
        free(v);
        if (rc < 0)
            return rc;
        /* QTI 2.1 testVariables: a weighting makes the result float, "incompatible with
         * base-type integer" */
        if (x->op == QTI_OP_TEST_VARIABLES && x->weight_identifier &&
            x->base_type == QTI_BT_INTEGER)
            return node_err(r, line, op,
                            "weightIdentifier cannot be used with baseType integer (a weighted "
                            "result is a float)");
    }
    if (x->op == QTI_OP_BASE_VALUE) {
        char *text;
        if (s->xml)
            text = qti_xml_text(s->xml);
        else if (!(text = src_attr(s, "value")))
            return node_err(r, line, op, "value is required");
        struct qti_scalar sc;
        rc = qti_scalar_parse(x->base_type, text, op, &sc, r->e);
        free(text);
        if (rc < 0)
            return err_prefix(r->e, "line %d", line);
        x->value = qti_value_single(&sc);
        qti_scalar_clear(&sc);
    }

    const char *sub_attr;
    const char *const *names = sub_names(x->op, &sub_attr);
    if (names) {
        v = src_attr(s, sub_attr);
        int found = -1;
        for (int i = 0; v && names[i]; i++)
            if (strcmp(names[i], v) == 0)
                found = i;
        if (found < 0 && !v && x->op == QTI_OP_EQUAL)
            found = QTI_TOL_EXACT;
        if (found < 0 && !v && (x->op == QTI_OP_EQUAL_ROUNDED || x->op == QTI_OP_ROUND_TO))
            found = QTI_ROUND_SIGNIFICANT_FIGURES;
        if (found < 0)
            rc = node_err(r, line, op, "%s \"%.40s\" is %s", sub_attr, v ? v : "",
                          v ? "not known" : "missing");
        free(v);
        if (rc < 0)
            return rc;
        x->sub = found;
    }
    if (x->op == QTI_OP_MATH_OPERATOR) {
        size_t want = x->sub == QTI_MATH_ATAN2 ? 2 : 1;
        if (x->nargs != want)
            return node_err(r, line, op, "%s takes %zu sub-expression%s, not %zu",
                            math_names[x->sub], want, want > 1 ? "s" : "", x->nargs);
    }

    struct refspec rs = refs_of(x->op);
    struct qti_ref *refs[3] = {&x->a, &x->b, &x->c};
    for (int i = 0; i < 3; i++) {
        if (!rs.name[i])
            continue;
        v = src_attr(s, rs.name[i]);
        if (!v) {
            if (rs.required[i])
                return node_err(r, line, op, "%s is required", rs.name[i]);
            refs[i]->num = rs.dflt[i];
            continue;
        }
        rc = parse_ref(r, line, op, rs.name[i], v, rs.kind, refs[i]);
        free(v);
        if (rc < 0)
            return rc;
    }
    /* a literal pattern is checked now, so that a broken one is refused at import (one read
     * from a variable can only be checked when it runs) */
    const char *why = NULL;
    if (x->op == QTI_OP_PATTERN_MATCH && x->a.str && qti_pattern_check(x->a.str, &why) < 0)
        return node_err(r, line, op, "pattern \"%.200s\" %s", x->a.str, why);
    if (x->op == QTI_OP_EQUAL) {
        rc = parse_bool(r, s, line, op, "includeLowerBound", true, false, &x->include_lower);
        if (rc == 0)
            rc = parse_bool(r, s, line, op, "includeUpperBound", true, false, &x->include_upper);
        if (rc < 0)
            return rc;
        v = src_attr(s, "tolerance");
        if (!v && x->sub != QTI_TOL_EXACT)
            return node_err(r, line, op, "tolerance is required with toleranceMode %s",
                            tol_names[x->sub]);
        if (v) {
            char **parts = NULL;
            size_t np = 0;
            rc = parse_list(r, line, op, "tolerance", v, &parts, &np);
            free(v);
            if (rc == 0 && (np < 1 || np > 2))
                rc = node_err(r, line, op, "tolerance takes one or two values");
            for (size_t i = 0; rc == 0 && i < np; i++)
                rc = parse_ref(r, line, op, "tolerance", parts[i], 'f', i ? &x->b : &x->a);
            for (size_t i = 0; i < np; i++)
                free(parts[i]);
            free(parts);
            if (rc < 0)
                return rc;
        }
    }
    if (x->op == QTI_OP_SUBSTRING || x->op == QTI_OP_STRING_MATCH) {
        rc = parse_bool(r, s, line, op, "caseSensitive", true, x->op == QTI_OP_STRING_MATCH,
                        &x->case_sensitive);
        if (rc == 0 && x->op == QTI_OP_STRING_MATCH)
            rc = parse_bool(r, s, line, op, "substring", false, false, &x->substring);
        if (rc < 0)
            return rc;
    }
    if (x->op == QTI_OP_INSIDE) {
        v = src_attr(s, "coords");
        char what[200];
        snprintf(what, sizeof what, "line %d: inside", line);
        rc = qti_shape_parse_coords((enum qti_shape)x->sub, v ? v : "", what, &x->coords,
                                    &x->ncoords, r->e);
        free(v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int read_node(const struct reader *r, const struct src *s, const char *name, int line,
                     int depth, struct qti_expr **out)
{
    *out = NULL;
    if (depth > QTI_EXPR_MAX_DEPTH)
        return node_err(r, line, name, "expression nested deeper than %d levels",
                        QTI_EXPR_MAX_DEPTH);
    if (*r->budget == 0)
        return node_err(r, line, name, "expression over %d operators", QTI_EXPR_MAX_NODES);
    (*r->budget)--;
    if (strcmp(name, "customOperator") == 0) {
        char *cls = src_attr(s, "class");
        int rc = node_err(r, line, name,
                          "custom operators are not supported (class \"%.100s\"); rewrite the "
                          "rule with standard QTI operators",
                          cls ? cls : "");
        free(cls);
        return rc;
    }
    int op = qti_op_from_name(name);
    if (op < 0)
        return node_err(r, line, name, "not a QTI expression");
    struct qti_expr *x = qti_xcalloc(1, sizeof *x);
    x->op = (enum qti_op)op;
    x->line = line;
    int rc = 0;

    /* sub-expressions first: some attribute checks depend on their number */
    if (s->xml) {
        QTI_XML_FOREACH_CHILD(c, s->xml)
        {
            if ((size_t)ops_table[op].max_args <= x->nargs) {
                rc = node_err(r, line, name, "takes at most %d sub-expression%s",
                              ops_table[op].max_args, ops_table[op].max_args == 1 ? "" : "s");
                break;
            }
            struct src cs = {.xml = c};
            if (x->nargs == 0 || (x->nargs & (x->nargs - 1)) == 0) /* full: double */
                x->args = qti_xrealloc(x->args, x->nargs ? x->nargs * 2 : 1, sizeof *x->args);
            rc = read_node(r, &cs, qti_xml_name(c), qti_xml_line(c), depth + 1, &x->args[x->nargs]);
            if (rc < 0)
                break;
            x->nargs++;
        }
    } else {
        const json_t *args = json_object_get(s->json, "args");
        if (args && !json_is_array(args))
            rc = node_err(r, line, name, "args must be an array");
        size_t n = json_array_size(args);
        if (rc == 0 && n > (size_t)ops_table[op].max_args)
            rc = node_err(r, line, name, "takes at most %d sub-expression%s",
                          ops_table[op].max_args, ops_table[op].max_args == 1 ? "" : "s");
        if (rc == 0 && n > *r->budget)
            rc = node_err(r, line, name, "expression over %d operators", QTI_EXPR_MAX_NODES);
        if (rc == 0)
            x->args = qti_xcalloc(n, sizeof *x->args);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const json_t *cj = json_array_get(args, i);
            const char *cn = json_string_value(json_object_get(cj, "op"));
            if (!json_is_object(cj) || !cn) {
                rc = node_err(r, line, name, "argument %zu has no \"op\"", i + 1);
                break;
            }
            struct src cs = {.json = cj};
            rc = read_node(r, &cs, cn, 0, depth + 1, &x->args[x->nargs]);
            if (rc == 0)
                x->nargs++;
        }
    }
    if (rc == 0 && x->nargs < (size_t)ops_table[op].min_args)
        rc = node_err(r, line, name, "needs at least %d sub-expression%s", ops_table[op].min_args,
                      ops_table[op].min_args == 1 ? "" : "s");
    if (rc == 0)
        rc = read_attrs(r, s, x);
    if (rc < 0) {
        qti_expr_free(x);
        return rc;
    }
    *out = x;
    return 0;
}

int qti_expr_parse_budget(xmlNode *node, int depth, size_t *budget, struct qti_expr **out,
                          struct op_err *e)
{
    *out = NULL;
    if (!node || node->type != XML_ELEMENT_NODE)
        return err_set(e, OP_EINPUT, "expected an expression element");
    struct reader r = {budget, e};
    struct src s = {.xml = node};
    return read_node(&r, &s, qti_xml_name(node), qti_xml_line(node), depth, out);
}

int qti_expr_parse(xmlNode *node, struct qti_expr **out, struct op_err *e)
{
    size_t budget = QTI_EXPR_MAX_NODES;
    return qti_expr_parse_budget(node, 1, &budget, out, e);
}

int qti_expr_from_json_budget(const json_t *j, int depth, size_t *budget, struct qti_expr **out,
                              struct op_err *e)
{
    *out = NULL;
    const char *name = json_string_value(json_object_get(j, "op"));
    if (!json_is_object(j) || !name)
        return err_set(e, OP_EINPUT, "expression: expected an object with \"op\"");
    struct reader r = {budget, e};
    struct src s = {.json = j};
    return read_node(&r, &s, name, 0, depth, out);
}

int qti_expr_from_json(const json_t *j, struct qti_expr **out, struct op_err *e)
{
    size_t budget = QTI_EXPR_MAX_NODES;
    return qti_expr_from_json_budget(j, 1, &budget, out, e);
}

void qti_expr_free(struct qti_expr *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->nargs; i++)
        qti_expr_free(x->args[i]);
    free(x->args);
    qti_value_free(x->value);
    free(x->identifier);
    free(x->weight_identifier);
    free(x->section_identifier);
    for (size_t i = 0; i < x->n_include; i++)
        free(x->include_category[i]);
    free(x->include_category);
    for (size_t i = 0; i < x->n_exclude; i++)
        free(x->exclude_category[i]);
    free(x->exclude_category);
    ref_clear(&x->a);
    ref_clear(&x->b);
    ref_clear(&x->c);
    free(x->coords);
    free(x);
}

/* ---- JSON form ---- */

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

static void set_owned(json_t *o, const char *key, char *v)
{
    set_str(o, key, v);
    free(v);
}

static char *join_list(char **items, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(items[i]) + 1;
    char *s = qti_xcalloc(len, 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, items[i]);
    }
    return s;
}

json_t *qti_expr_to_json(const struct qti_expr *x)
{
    json_t *o = json_object();
    set_str(o, "op", qti_op_name(x->op));
    if (x->nargs) {
        json_t *a = json_array();
        for (size_t i = 0; i < x->nargs; i++)
            json_array_append_new(a, qti_expr_to_json(x->args[i]));
        json_object_set_new(o, "args", a);
    }
    const char *ida = identifier_attr(x->op);
    if (ida)
        set_str(o, ida, x->identifier);
    if (has_weight(x->op))
        set_str(o, "weightIdentifier", x->weight_identifier);
    if (is_subset_op(x->op)) {
        set_str(o, "sectionIdentifier", x->section_identifier);
        if (x->n_include)
            set_owned(o, "includeCategory", join_list(x->include_category, x->n_include));
        if (x->n_exclude)
            set_owned(o, "excludeCategory", join_list(x->exclude_category, x->n_exclude));
    }
    if ((x->op == QTI_OP_BASE_VALUE || x->op == QTI_OP_TEST_VARIABLES) &&
        x->base_type != QTI_BT_NONE)
        set_str(o, "baseType", qti_base_type_name(x->base_type));
    if (x->op == QTI_OP_BASE_VALUE && x->value)
        set_owned(o, "value", qti_scalar_format(&x->value->items[0]));
    const char *sub_attr;
    const char *const *names = sub_names(x->op, &sub_attr);
    if (names)
        set_str(o, sub_attr, names[x->sub]);
    struct refspec rs = refs_of(x->op);
    const struct qti_ref *refs[3] = {&x->a, &x->b, &x->c};
    for (int i = 0; i < 3; i++)
        if (rs.name[i] && refs[i]->present)
            set_owned(o, rs.name[i], ref_format(refs[i], rs.kind));
    if (x->op == QTI_OP_EQUAL) {
        json_object_set_new(o, "includeLowerBound",
                            json_string(x->include_lower ? "true" : "false"));
        json_object_set_new(o, "includeUpperBound",
                            json_string(x->include_upper ? "true" : "false"));
        if (x->a.present) {
            char *t0 = ref_format(&x->a, 'f');
            char *t1 = x->b.present ? ref_format(&x->b, 'f') : NULL;
            size_t n = strlen(t0) + (t1 ? strlen(t1) : 0) + 2;
            char *t = qti_xcalloc(n, 1);
            snprintf(t, n, "%s%s%s", t0, t1 ? " " : "", t1 ? t1 : "");
            set_owned(o, "tolerance", t);
            free(t0);
            free(t1);
        }
    }
    if (x->op == QTI_OP_SUBSTRING || x->op == QTI_OP_STRING_MATCH)
        set_str(o, "caseSensitive", x->case_sensitive ? "true" : "false");
    if (x->op == QTI_OP_STRING_MATCH)
        set_str(o, "substring", x->substring ? "true" : "false");
    if (x->op == QTI_OP_INSIDE) {
        size_t len = 1;
        char *s = qti_xcalloc(x->ncoords * 32 + 1, 1);
        for (size_t i = 0; i < x->ncoords; i++)
            len += (size_t)snprintf(s + len - 1, 32, "%s%.17g", i ? "," : "", x->coords[i]);
        set_owned(o, "coords", s);
    }
    return o;
}

/* ---- evaluation: context and helpers ---- */

struct ev {
    const struct qti_eval_ops *ops;
    void *ud;
    size_t *steps;
    struct op_err *e;
};

static int fail(const struct ev *ev, const struct qti_expr *x, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const struct ev *ev, const struct qti_expr *x, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (x->line > 0)
        return err_set(ev->e, OP_EINPUT, "line %d: %s: %s", x->line, qti_op_name(x->op), msg);
    return err_set(ev->e, OP_EINPUT, "%s: %s", qti_op_name(x->op), msg);
}

static bool is_numeric(enum qti_base_type t)
{
    return t == QTI_BT_INTEGER || t == QTI_BT_FLOAT;
}

static bool is_single(const struct qti_value *v, enum qti_base_type t)
{
    return v && v->card == QTI_CARD_SINGLE && v->type == t;
}

static bool is_num_single(const struct qti_value *v)
{
    return v && v->card == QTI_CARD_SINGLE && is_numeric(v->type);
}

static bool is_container(const struct qti_value *v)
{
    return v && (v->card == QTI_CARD_MULTIPLE || v->card == QTI_CARD_ORDERED);
}

static double scalar_num(const struct qti_scalar *s)
{
    return s->type == QTI_BT_INTEGER ? (double)s->u.i : s->u.f;
}

static double num_of(const struct qti_value *v)
{
    return scalar_num(&v->items[0]);
}

/* A float result; NULL when it is not finite (QTI: values outside the float value set). */
static struct qti_value *float_or_null(double d)
{
    return isfinite(d) ? qti_value_float(d) : NULL;
}

/* An integer result from a double that must be whole; NULL if it does not fit. */
/* An integer result, or NULL when it falls outside the 32-bit range of a QTI integer. */
static struct qti_value *int_or_null(int64_t i)
{
    if (i < QTI_INT_MIN || i > QTI_INT_MAX)
        return NULL;
    return qti_value_integer(i);
}

static struct qti_value *int_from_double(double d)
{
    if (!isfinite(d) || d > (double)QTI_INT_MAX || d < (double)QTI_INT_MIN)
        return NULL;
    return qti_value_integer((int64_t)d);
}

static const char *card_type(const struct qti_value *v, char *buf, size_t n)
{
    if (!v)
        return "NULL";
    if (v->card == QTI_CARD_RECORD)
        return "a record";
    snprintf(buf, n, "%s %s", qti_cardinality_name(v->card), qti_base_type_name(v->type));
    return buf;
}

static int eval(const struct ev *ev, const struct qti_expr *x, struct qti_value **out);

static void free_all(struct qti_value **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        qti_value_free(v[i]);
    free(v);
}

/* Evaluates every sub-expression; on success *out holds nargs values (owned, NULLs kept). */
static int eval_all(const struct ev *ev, const struct qti_expr *x, struct qti_value ***out)
{
    struct qti_value **v = qti_xcalloc(x->nargs, sizeof *v);
    for (size_t i = 0; i < x->nargs; i++) {
        int rc = eval(ev, x->args[i], &v[i]);
        if (rc < 0) {
            free_all(v, x->nargs);
            *out = NULL;
            return rc;
        }
    }
    *out = v;
    return 0;
}

static bool any_null(struct qti_value **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (qti_value_is_null(v[i]))
            return true;
    return false;
}

/* Resolves a reference attribute to a number ('i' or 'f') or a string ('s', *str borrowed). */
static int resolve_ref(const struct ev *ev, const struct qti_expr *x, const struct qti_ref *r,
                       char kind, double *num, const char **str, bool *is_null)
{
    *is_null = false;
    if (!r->var) {
        if (num)
            *num = r->num;
        if (str)
            *str = r->str ? r->str : "";
        return 0;
    }
    const struct qti_value *v = NULL;
    if (ev->ops->get(ev->ud, r->var, &v) < 0)
        return fail(ev, x, "unknown variable %s", r->var);
    if (qti_value_is_null(v)) {
        *is_null = true;
        return 0;
    }
    if (kind == 's') {
        if (v->card != QTI_CARD_SINGLE ||
            (v->type != QTI_BT_STRING && v->type != QTI_BT_IDENTIFIER))
            return fail(ev, x, "variable %s must be a single string", r->var);
        *str = v->items[0].u.s;
        return 0;
    }
    if (!is_num_single(v) || (kind == 'i' && v->type != QTI_BT_INTEGER))
        return fail(ev, x, "variable %s must be a single %s", r->var,
                    kind == 'i' ? "integer" : "number");
    *num = num_of(v);
    return 0;
}

double qti_random_unit(uint64_t r)
{
    return (double)(r >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t qti_random_below(const struct qti_eval_ops *ops, void *ud, uint64_t n)
{
    if (n <= 1)
        return 0;
    /* reject the top partial range so every value is equally likely */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do
        r = ops->random(ud);
    while (r >= limit);
    return r % n;
}

/* Rounds half up to `places` decimal places (negative: tens, hundreds...). A value within a
 * hair of the .5 boundary counts as on it, so that 1.005 rounds to 1.01 as decimal
 * arithmetic would, not to 1.00 as its binary approximation suggests. */
static double round_places(double v, int places)
{
    if (!isfinite(v) || places > 300 || places < -300)
        return v;
    double p = pow(10.0, places);
    double r = v * p;
    if (!isfinite(r))
        return v;
    double f = floor(r);
    double frac = r - f;
    double eps = 1e-9 * fmax(1.0, fabs(r));
    if (frac >= 0.5 - eps)
        f += 1;
    return f / p;
}

static int round_figures(double v, int mode, int64_t figures, double *out)
{
    if (mode == QTI_ROUND_SIGNIFICANT_FIGURES) {
        if (figures < 1)
            return -1;
        if (v == 0 || !isfinite(v)) {
            *out = v;
            return 0;
        }
        int mag = (int)floor(log10(fabs(v)));
        *out = round_places(v, (int)(figures > 400 ? 400 : figures) - 1 - mag);
        return 0;
    }
    if (figures < 0)
        return -1;
    *out = round_places(v, (int)(figures > 400 ? 400 : figures));
    return 0;
}

/* ---- evaluation: test-level operators over item subsets ---- */

struct subset_acc {
    const struct ev *ev;
    const struct qti_expr *x;
    int64_t count;
    bool null_result;       /* outcomeMaximum: an item without normalMaximum */
    bool any_float;         /* testVariables: a float value or a weight was seen */
    struct qti_value *vals; /* float container being built, or of x->base_type */
    int64_t *ints;          /* testVariables integers, until a float shows up */
    size_t nints;
};

static char *item_var(const char *ref, const char *var)
{
    size_t n = strlen(ref) + strlen(var) + 2;
    char *s = qti_xcalloc(n, 1);
    snprintf(s, n, "%s.%s", ref, var);
    return s;
}

static double item_weight(const struct ev *ev, const char *ref, const char *wid, bool *weighted)
{
    double w = 1.0;
    *weighted = false;
    if (wid && ev->ops->weight && ev->ops->weight(ev->ud, ref, wid, &w) == 0)
        *weighted = true;
    else
        w = 1.0;
    return w;
}

static int add_float(struct subset_acc *a, double d)
{
    struct qti_scalar s = {.type = QTI_BT_FLOAT, .u.f = d};
    return qti_value_append(a->vals, &s, a->ev->e);
}

static int subset_each(void *arg, const struct qti_item_state *it, struct op_err *e)
{
    struct subset_acc *a = arg;
    const struct qti_expr *x = a->x;
    const struct ev *ev = a->ev;
    (void)e;
    switch (x->op) {
    case QTI_OP_NUMBER_CORRECT:
        /* QTI 2.1: "Only items for which all declared response variables have correct
         * responses defined are considered" (and, for numberIncorrect, "have been attempted
         * at least once"). */
        a->count += it->attempted && it->judgeable && it->correct;
        return 0;
    case QTI_OP_NUMBER_INCORRECT:
        a->count += it->attempted && it->judgeable && !it->correct;
        return 0;
    case QTI_OP_NUMBER_PRESENTED:
        a->count += it->presented;
        return 0;
    case QTI_OP_NUMBER_RESPONDED:
        a->count += it->responded;
        return 0;
    case QTI_OP_NUMBER_SELECTED:
        a->count += it->selected;
        return 0;
    case QTI_OP_OUTCOME_MAXIMUM:
    case QTI_OP_OUTCOME_MINIMUM: {
        char *id = item_var(it->ref, x->identifier);
        const struct qti_decl *d = ev->ops->decl(ev->ud, id);
        free(id);
        bool max = x->op == QTI_OP_OUTCOME_MAXIMUM;
        bool single = d && d->kind == QTI_DECL_OUTCOME && d->card == QTI_CARD_SINGLE;
        if (!single || !(max ? d->has_normal_maximum : d->has_normal_minimum)) {
            /* QTI 2.1: "if any of the items in the given subset have no declared maximum the
             * result is NULL" (an item without the outcome has none either); items with no
             * declared minimum are ignored */
            if (max)
                a->null_result = true;
            return 0;
        }
        bool weighted;
        double w = item_weight(ev, it->ref, x->weight_identifier, &weighted);
        return add_float(a, (max ? d->normal_maximum : d->normal_minimum) * w);
    }
    case QTI_OP_TEST_VARIABLES: {
        char *id = item_var(it->ref, x->identifier);
        const struct qti_value *v = NULL;
        int rc = ev->ops->get(ev->ud, id, &v);
        free(id);
        if (rc < 0 || qti_value_is_null(v) || v->card != QTI_CARD_SINGLE)
            return 0;
        if (x->base_type != QTI_BT_NONE ? v->type != x->base_type : !is_numeric(v->type))
            return 0;
        if (!is_numeric(v->type))
            return qti_value_append(a->vals, &v->items[0], a->ev->e);
        bool weighted;
        double w = item_weight(ev, it->ref, x->weight_identifier, &weighted);
        if (x->weight_identifier || v->type == QTI_BT_FLOAT)
            a->any_float = true;
        if (!a->any_float) {
            if (a->nints >= QTI_VALUE_MAX_ITEMS)
                return err_set(ev->e, OP_EINPUT, "testVariables: over %d values",
                               QTI_VALUE_MAX_ITEMS);
            a->ints = qti_grow(a->ints, a->nints, sizeof *a->ints);
            a->ints[a->nints++] = v->items[0].u.i;
            return 0;
        }
        /* a float appears: move the integers seen so far into the float container */
        for (size_t i = 0; i < a->nints; i++)
            if ((rc = add_float(a, (double)a->ints[i])) < 0)
                return rc;
        a->nints = 0;
        return add_float(a, num_of(v) * w);
    }
    default:
        return 0;
    }
}

static int eval_subset(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    if (!ev->ops->item_subset)
        return fail(ev, x, "only allowed in outcome processing of a test");
    struct subset_acc a = {.ev = ev, .x = x};
    enum qti_base_type vt = QTI_BT_FLOAT;
    if (x->op == QTI_OP_TEST_VARIABLES && x->base_type != QTI_BT_NONE && !is_numeric(x->base_type))
        vt = x->base_type;
    a.vals = qti_value_container(QTI_CARD_MULTIPLE, vt);
    int rc = ev->ops->item_subset(ev->ud, x, subset_each, &a, ev->e);
    if (rc < 0) {
        qti_value_free(a.vals);
        free(a.ints);
        return rc;
    }
    switch (x->op) {
    case QTI_OP_NUMBER_CORRECT:
    case QTI_OP_NUMBER_INCORRECT:
    case QTI_OP_NUMBER_PRESENTED:
    case QTI_OP_NUMBER_RESPONDED:
    case QTI_OP_NUMBER_SELECTED:
        qti_value_free(a.vals);
        *out = qti_value_integer(a.count);
        return 0;
    default:
        break;
    }
    if (a.nints) {
        qti_value_free(a.vals);
        a.vals = qti_value_container(QTI_CARD_MULTIPLE, QTI_BT_INTEGER);
        for (size_t i = 0; i < a.nints; i++) {
            struct qti_scalar s = {.type = QTI_BT_INTEGER, .u.i = a.ints[i]};
            qti_value_append(a.vals, &s, ev->e);
        }
    }
    free(a.ints);
    if (a.null_result || a.vals->n == 0) {
        qti_value_free(a.vals);
        a.vals = NULL;
    }
    *out = a.vals;
    return 0;
}

/* ---- evaluation: operators ---- */

static int eval_variable(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    const struct qti_value *v = NULL;
    if (ev->ops->get(ev->ud, x->identifier, &v) < 0)
        return fail(ev, x, "unknown variable %s", x->identifier);
    qti_value_copy(v, out);
    /* weights apply to item variables looked up as ITEM.VAR in a test, numbers only */
    const char *dot = strchr(x->identifier, '.');
    if (!*out || !x->weight_identifier || !dot || !is_numeric((*out)->type) ||
        (*out)->card == QTI_CARD_RECORD)
        return 0;
    /* QTI 2.1 variable: a weight the item ref does not define is 1.0, and applying a weight
     * to an integer promotes it to float, so the result is a float either way. */
    char ref[256];
    snprintf(ref, sizeof ref, "%.*s", (int)(dot - x->identifier), x->identifier);
    bool weighted;
    double w = item_weight(ev, ref, x->weight_identifier, &weighted);
    struct qti_value *v2 = (*out);
    for (size_t i = 0; i < v2->n; i++) {
        double d = scalar_num(&v2->items[i]) * w;
        v2->items[i].type = QTI_BT_FLOAT;
        v2->items[i].u.f = d;
    }
    v2->type = QTI_BT_FLOAT;
    return 0;
}

static const struct qti_decl *need_decl(const struct ev *ev, const struct qti_expr *x,
                                        const char *id)
{
    const struct qti_decl *d = ev->ops->decl(ev->ud, id);
    if (!d)
        fail(ev, x, "unknown variable %s", id);
    return d;
}

static int eval_map(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    const struct qti_decl *d = need_decl(ev, x, x->identifier);
    if (!d)
        return ev->e->code;
    if (d->kind != QTI_DECL_RESPONSE)
        return fail(ev, x, "%s is not a response variable", x->identifier);
    const struct qti_value *v = NULL;
    if (ev->ops->get(ev->ud, x->identifier, &v) < 0)
        return fail(ev, x, "unknown variable %s", x->identifier);
    double r;
    int rc = x->op == QTI_OP_MAP_RESPONSE ? qti_decl_map_response(d, v, &r, ev->e)
                                          : qti_decl_map_response_point(d, v, &r, ev->e);
    if (rc < 0)
        return x->line ? err_prefix(ev->e, "line %d", x->line) : rc;
    *out = qti_value_float(r);
    return 0;
}

static int eval_random_number(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    if (!ev->ops->random)
        return fail(ev, x, "randomness is not available here");
    double lo, hi, step = 1;
    bool n1, n2, n3 = false;
    int rc;
    char k = x->op == QTI_OP_RANDOM_INTEGER ? 'i' : 'f';
    if ((rc = resolve_ref(ev, x, &x->a, k, &lo, NULL, &n1)) < 0 ||
        (rc = resolve_ref(ev, x, &x->b, k, &hi, NULL, &n2)) < 0)
        return rc;
    if (k == 'i' && (rc = resolve_ref(ev, x, &x->c, 'i', &step, NULL, &n3)) < 0)
        return rc;
    if (n1 || n2 || n3 || hi < lo)
        return 0; /* NULL */
    if (k == 'f') {
        *out = float_or_null(lo + qti_random_unit(ev->ops->random(ev->ud)) * (hi - lo));
        return 0;
    }
    if (step < 1)
        return fail(ev, x, "step must be 1 or more");
    uint64_t count = (uint64_t)floor((hi - lo) / step) + 1;
    uint64_t k2 = qti_random_below(ev->ops, ev->ud, count);
    *out = int_from_double(lo + (double)k2 * step);
    return 0;
}

/* multiple, ordered, repeat: gather values into a container. */
static int gather(const struct ev *ev, const struct qti_expr *x, enum qti_cardinality card,
                  struct qti_value *acc, struct qti_value *v)
{
    if (qti_value_is_null(v))
        return 0;
    if (v->card == QTI_CARD_RECORD || (v->card != QTI_CARD_SINGLE && v->card != card))
        return fail(ev, x, "sub-expressions must be single or %s, not %s",
                    qti_cardinality_name(card), qti_cardinality_name(v->card));
    if (acc->type == QTI_BT_NONE)
        acc->type = v->type;
    if (v->type != acc->type)
        return fail(ev, x, "sub-expressions must share one base type (%s and %s)",
                    qti_base_type_name(acc->type), qti_base_type_name(v->type));
    for (size_t i = 0; i < v->n; i++) {
        int rc = qti_value_append(acc, &v->items[i], ev->e);
        if (rc < 0)
            return fail(ev, x, "%s", ev->e->msg);
    }
    return 0;
}

static int eval_container(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    enum qti_cardinality card = x->op == QTI_OP_MULTIPLE ? QTI_CARD_MULTIPLE : QTI_CARD_ORDERED;
    struct qti_value *acc = qti_value_container(card, QTI_BT_NONE);
    int rc = 0;
    int64_t repeats = 1;
    if (x->op == QTI_OP_REPEAT) {
        double n;
        bool isnull;
        if ((rc = resolve_ref(ev, x, &x->a, 'i', &n, NULL, &isnull)) < 0) {
            qti_value_free(acc);
            return rc;
        }
        if (isnull || n < 1) {
            qti_value_free(acc);
            return 0;
        }
        if (n > QTI_VALUE_MAX_ITEMS) {
            qti_value_free(acc);
            return fail(ev, x, "numberRepeats over %d", QTI_VALUE_MAX_ITEMS);
        }
        repeats = (int64_t)n;
    }
    for (int64_t r = 0; r < repeats && rc == 0; r++)
        for (size_t i = 0; i < x->nargs && rc == 0; i++) {
            struct qti_value *v = NULL;
            rc = eval(ev, x->args[i], &v);
            if (rc == 0)
                rc = gather(ev, x, card, acc, v);
            qti_value_free(v);
        }
    if (rc < 0 || acc->n == 0) {
        qti_value_free(acc);
        acc = NULL;
    }
    *out = acc;
    return rc;
}

static bool text_type(enum qti_base_type t)
{
    return t == QTI_BT_STRING || t == QTI_BT_IDENTIFIER || t == QTI_BT_URI;
}

static const char *find_sub(const char *hay, const char *needle, bool case_sensitive)
{
    return case_sensitive ? strstr(hay, needle) : strcasestr(hay, needle);
}

/* Is `b` (as a container of a's cardinality) contained in container `a`? */
static bool contains(const struct qti_value *a, const struct qti_value *b)
{
    if (a->card == QTI_CARD_ORDERED) {
        if (b->n > a->n)
            return false;
        for (size_t s = 0; s + b->n <= a->n; s++) {
            size_t k = 0;
            while (k < b->n && qti_scalar_equal(&a->items[s + k], &b->items[k]))
                k++;
            if (k == b->n)
                return true;
        }
        return false;
    }
    bool *used = qti_xcalloc(a->n, sizeof *used);
    bool ok = true;
    for (size_t i = 0; i < b->n && ok; i++) {
        ok = false;
        for (size_t k = 0; k < a->n && !ok; k++)
            if (!used[k] && qti_scalar_equal(&a->items[k], &b->items[i]))
                used[k] = ok = true;
    }
    free(used);
    return ok;
}

static int eval_containers2(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                            struct qti_value **out)
{
    char b1[80], b2[80];
    if (any_null(v, 2))
        return 0;
    struct qti_value *a = v[0], *b = v[1];
    if (a->type != b->type || a->card == QTI_CARD_RECORD || b->card == QTI_CARD_RECORD)
        return fail(ev, x, "sub-expressions must have the same base type (got %s and %s)",
                    card_type(a, b1, sizeof b1), card_type(b, b2, sizeof b2));
    if (x->op == QTI_OP_CONTAINS) {
        if (a->card == QTI_CARD_SINGLE || (b->card != QTI_CARD_SINGLE && a->card != b->card))
            return fail(ev, x,
                        "sub-expressions must be containers of the same cardinality "
                        "(got %s and %s)",
                        card_type(a, b1, sizeof b1), card_type(b, b2, sizeof b2));
        *out = qti_value_boolean(contains(a, b));
        return 0;
    }
    if (a->card != QTI_CARD_SINGLE || !is_container(b))
        return fail(ev, x, "needs a single value and a container (got %s and %s)",
                    card_type(a, b1, sizeof b1), card_type(b, b2, sizeof b2));
    if (x->op == QTI_OP_MEMBER) {
        bool found = false;
        for (size_t i = 0; i < b->n && !found; i++)
            found = qti_scalar_equal(&a->items[0], &b->items[i]);
        *out = qti_value_boolean(found);
        return 0;
    }
    struct qti_value *r = qti_value_container(b->card, b->type);
    for (size_t i = 0; i < b->n; i++)
        if (!qti_scalar_equal(&a->items[0], &b->items[i]))
            qti_value_append(r, &b->items[i], ev->e);
    if (r->n == 0) {
        qti_value_free(r);
        r = NULL;
    }
    *out = r;
    return 0;
}

static int eval_logic(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    size_t ntrue = 0, nfalse = 0, nnull = 0;
    for (size_t i = 0; i < x->nargs; i++) {
        struct qti_value *v = NULL;
        int rc = eval(ev, x->args[i], &v);
        if (rc < 0)
            return rc;
        char b1[80];
        if (qti_value_is_null(v))
            nnull++;
        else if (!is_single(v, QTI_BT_BOOLEAN)) {
            rc = fail(ev, x, "sub-expression %zu must be a single boolean, not %s", i + 1,
                      card_type(v, b1, sizeof b1));
            qti_value_free(v);
            return rc;
        } else if (v->items[0].u.b)
            ntrue++;
        else
            nfalse++;
        qti_value_free(v);
        /* false decides `and`, true decides `or` */
        if ((x->op == QTI_OP_AND && nfalse) || (x->op == QTI_OP_OR && ntrue))
            break;
    }
    if (x->op == QTI_OP_AND) {
        if (!nfalse && !nnull)
            *out = qti_value_boolean(true);
        else if (nfalse)
            *out = qti_value_boolean(false);
        return 0;
    }
    if (x->op == QTI_OP_OR) {
        if (ntrue)
            *out = qti_value_boolean(true);
        else if (!nnull)
            *out = qti_value_boolean(false);
        return 0;
    }
    if (x->op == QTI_OP_NOT) {
        if (!nnull)
            *out = qti_value_boolean(nfalse == 1);
        return 0;
    }
    /* anyN */
    double lo, hi;
    bool n1, n2;
    int rc;
    if ((rc = resolve_ref(ev, x, &x->a, 'i', &lo, NULL, &n1)) < 0 ||
        (rc = resolve_ref(ev, x, &x->b, 'i', &hi, NULL, &n2)) < 0)
        return rc;
    if (n1 || n2)
        return 0;
    double n = (double)x->nargs;
    if ((double)nfalse > n - lo || (double)ntrue > hi)
        *out = qti_value_boolean(false);
    else if ((double)ntrue >= lo && (double)(ntrue + nnull) <= hi)
        *out = qti_value_boolean(true);
    return 0; /* otherwise the NULLs decide: NULL */
}

static int eval_compare(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                        struct qti_value **out)
{
    char b1[80], b2[80];
    if (any_null(v, 2))
        return 0;
    bool dur = x->op == QTI_OP_DURATION_LT || x->op == QTI_OP_DURATION_GTE;
    bool ok = dur ? is_single(v[0], QTI_BT_DURATION) && is_single(v[1], QTI_BT_DURATION)
                  : is_num_single(v[0]) && is_num_single(v[1]);
    if (!ok)
        return fail(ev, x, "needs two single %s (got %s and %s)", dur ? "durations" : "numbers",
                    card_type(v[0], b1, sizeof b1), card_type(v[1], b2, sizeof b2));
    double a = num_of(v[0]), b = num_of(v[1]);
    if (dur) {
        a = v[0]->items[0].u.f;
        b = v[1]->items[0].u.f;
    }
    /* compare integers exactly (doubles lose precision above 2^53) */
    int c;
    if (v[0]->type == QTI_BT_INTEGER && v[1]->type == QTI_BT_INTEGER)
        c = v[0]->items[0].u.i < v[1]->items[0].u.i ? -1 : v[0]->items[0].u.i > v[1]->items[0].u.i;
    else
        c = a < b ? -1 : a > b;
    bool r;
    switch (x->op) {
    case QTI_OP_LT:
    case QTI_OP_DURATION_LT:
        r = c < 0;
        break;
    case QTI_OP_GT:
        r = c > 0;
        break;
    case QTI_OP_LTE:
        r = c <= 0;
        break;
    default: /* gte, durationGTE */
        r = c >= 0;
        break;
    }
    if (isnan(a) || isnan(b))
        return 0;
    *out = qti_value_boolean(r);
    return 0;
}

static int eval_equal(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                      struct qti_value **out)
{
    char b1[80], b2[80];
    if (any_null(v, 2))
        return 0;
    if (!is_num_single(v[0]) || !is_num_single(v[1]))
        return fail(ev, x, "needs two single numbers (got %s and %s)",
                    card_type(v[0], b1, sizeof b1), card_type(v[1], b2, sizeof b2));
    double a = num_of(v[0]), b = num_of(v[1]);
    if (x->op == QTI_OP_EQUAL_ROUNDED) {
        double f;
        bool isnull;
        int rc = resolve_ref(ev, x, &x->a, 'i', &f, NULL, &isnull);
        if (rc < 0 || isnull)
            return rc;
        double ra, rb;
        if (round_figures(a, x->sub, (int64_t)f, &ra) < 0 ||
            round_figures(b, x->sub, (int64_t)f, &rb) < 0)
            return fail(ev, x, "figures %g is out of range for %s", f, rounding_names[x->sub]);
        *out = qti_value_boolean(ra == rb);
        return 0;
    }
    if (x->sub == QTI_TOL_EXACT) {
        if (v[0]->type == QTI_BT_INTEGER && v[1]->type == QTI_BT_INTEGER)
            *out = qti_value_boolean(v[0]->items[0].u.i == v[1]->items[0].u.i);
        else
            *out = qti_value_boolean(a == b);
        return 0;
    }
    double t0, t1;
    bool n0, n1 = false;
    int rc = resolve_ref(ev, x, &x->a, 'f', &t0, NULL, &n0);
    if (rc < 0)
        return rc;
    t1 = t0;
    if (x->b.present && (rc = resolve_ref(ev, x, &x->b, 'f', &t1, NULL, &n1)) < 0)
        return rc;
    if (n0 || n1)
        return 0;
    /* QTI 2.1: the range is defined by the first value x, [x-t0, x+t1] (absolute) or
     * [x*(1-t0/100), x*(1+t1/100)] (relative), and the second value y must lie in it. For a
     * negative x the relative bounds come out reversed; they are put in order (the
     * specification does not say, and an empty range would make every answer wrong). */
    double lo, hi;
    if (x->sub == QTI_TOL_ABSOLUTE) {
        lo = a - t0;
        hi = a + t1;
    } else {
        lo = a * (1 - t0 / 100);
        hi = a * (1 + t1 / 100);
        if (lo > hi) {
            double t = lo;
            lo = hi;
            hi = t;
        }
    }
    bool ok = (x->include_lower ? b >= lo : b > lo) && (x->include_upper ? b <= hi : b < hi);
    *out = qti_value_boolean(ok);
    return 0;
}

/* sum and product: QTI 2.1 lets their arguments be containers too (for testVariables). */
static int eval_sum_product(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                            struct qti_value **out)
{
    char b1[80];
    bool all_int = true;
    for (size_t i = 0; i < x->nargs; i++) {
        if (qti_value_is_null(v[i]))
            continue;
        if (v[i]->card == QTI_CARD_RECORD || !is_numeric(v[i]->type))
            return fail(ev, x, "sub-expression %zu must be numbers, not %s", i + 1,
                        card_type(v[i], b1, sizeof b1));
        all_int = all_int && v[i]->type == QTI_BT_INTEGER;
    }
    if (any_null(v, x->nargs))
        return 0;
    bool sum = x->op == QTI_OP_SUM;
    int64_t iacc = sum ? 0 : 1;
    double facc = sum ? 0 : 1;
    for (size_t i = 0; i < x->nargs; i++)
        for (size_t k = 0; k < v[i]->n; k++) {
            if (all_int) {
                int64_t y = v[i]->items[k].u.i;
                if (sum ? __builtin_add_overflow(iacc, y, &iacc)
                        : __builtin_mul_overflow(iacc, y, &iacc))
                    return 0;
            } else {
                double y = scalar_num(&v[i]->items[k]);
                facc = sum ? facc + y : facc * y;
            }
        }
    *out = all_int ? int_or_null(iacc) : float_or_null(facc);
    return 0;
}

static int eval_arith(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                      struct qti_value **out)
{
    char b1[80];
    if (x->op == QTI_OP_SUM || x->op == QTI_OP_PRODUCT)
        return eval_sum_product(ev, x, v, out);
    for (size_t i = 0; i < x->nargs; i++)
        if (!qti_value_is_null(v[i]) && !is_num_single(v[i]))
            return fail(ev, x, "sub-expression %zu must be a single number, not %s", i + 1,
                        card_type(v[i], b1, sizeof b1));
    if (any_null(v, x->nargs))
        return 0;
    bool all_int = true;
    for (size_t i = 0; i < x->nargs; i++)
        all_int = all_int && v[i]->type == QTI_BT_INTEGER;
    switch (x->op) {
    case QTI_OP_SUBTRACT: {
        if (all_int) {
            int64_t acc;
            if (__builtin_sub_overflow(v[0]->items[0].u.i, v[1]->items[0].u.i, &acc))
                return 0;
            *out = int_or_null(acc);
            return 0;
        }
        *out = float_or_null(num_of(v[0]) - num_of(v[1]));
        return 0;
    }
    case QTI_OP_DIVIDE: {
        double b = num_of(v[1]);
        if (b == 0)
            return 0;
        *out = float_or_null(num_of(v[0]) / b);
        return 0;
    }
    case QTI_OP_POWER:
        *out = float_or_null(pow(num_of(v[0]), num_of(v[1])));
        return 0;
    case QTI_OP_INTEGER_DIVIDE:
    case QTI_OP_INTEGER_MODULUS: {
        if (!all_int)
            return fail(ev, x, "needs two integers");
        int64_t a = v[0]->items[0].u.i, b = v[1]->items[0].u.i;
        if (b == 0 || (a == INT64_MIN && b == -1))
            return 0;
        /* QTI: rounded down, so -7 / 2 = -4 and -7 mod 2 = 1 */
        int64_t q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0)))
            q--;
        *out = int_or_null(x->op == QTI_OP_INTEGER_DIVIDE ? q : a - q * b);
        return 0;
    }
    default:
        return fail(ev, x, "internal: not an arithmetic operator");
    }
}

static int eval_unary_num(const struct ev *ev, const struct qti_expr *x, struct qti_value *v,
                          struct qti_value **out)
{
    char b1[80];
    if (qti_value_is_null(v))
        return 0;
    if (!is_num_single(v))
        return fail(ev, x, "needs a single number, not %s", card_type(v, b1, sizeof b1));
    double d = num_of(v);
    switch (x->op) {
    case QTI_OP_INTEGER_TO_FLOAT:
        if (v->type != QTI_BT_INTEGER)
            return fail(ev, x, "needs a single integer, not %s", card_type(v, b1, sizeof b1));
        *out = qti_value_float(d);
        return 0;
    case QTI_OP_TRUNCATE:
        if (v->type == QTI_BT_INTEGER)
            return qti_value_copy(v, out);
        *out = int_from_double(trunc(d));
        return 0;
    case QTI_OP_ROUND:
        if (v->type == QTI_BT_INTEGER)
            return qti_value_copy(v, out);
        /* [n - 0.5, n + 0.5) rounds to n: -6.5 gives -6 */
        *out = int_from_double(floor(d + 0.5));
        return 0;
    case QTI_OP_ROUND_TO: {
        double f, r;
        bool isnull;
        int rc = resolve_ref(ev, x, &x->a, 'i', &f, NULL, &isnull);
        if (rc < 0 || isnull)
            return rc;
        if (round_figures(d, x->sub, (int64_t)f, &r) < 0)
            return fail(ev, x, "figures %g is out of range for %s", f, rounding_names[x->sub]);
        *out = float_or_null(r);
        return 0;
    }
    default:
        return fail(ev, x, "internal: not a unary operator");
    }
}

/* max, min, gcd, lcm, statsOperator: numbers from single or container values. QTI says a
 * NULL or a non-numeric argument makes the result NULL. */
static int eval_aggregate(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                          struct qti_value **out)
{
    size_t total = 0;
    bool all_int = true;
    for (size_t i = 0; i < x->nargs; i++) {
        if (qti_value_is_null(v[i]) || v[i]->card == QTI_CARD_RECORD || !is_numeric(v[i]->type))
            return 0;
        if (x->op == QTI_OP_STATS_OPERATOR && !is_container(v[i]))
            return 0;
        all_int = all_int && v[i]->type == QTI_BT_INTEGER;
        total += v[i]->n;
    }
    if (total == 0)
        return 0;
    if ((x->op == QTI_OP_GCD || x->op == QTI_OP_LCM) && !all_int)
        return 0;
    if (x->op == QTI_OP_MAX || x->op == QTI_OP_MIN) {
        bool max = x->op == QTI_OP_MAX;
        const struct qti_scalar *best = NULL;
        for (size_t i = 0; i < x->nargs; i++)
            for (size_t k = 0; k < v[i]->n; k++) {
                const struct qti_scalar *s = &v[i]->items[k];
                if (isnan(scalar_num(s)))
                    return 0;
                bool better;
                if (!best)
                    better = true;
                else if (all_int)
                    better = max ? s->u.i > best->u.i : s->u.i < best->u.i;
                else
                    better =
                        max ? scalar_num(s) > scalar_num(best) : scalar_num(s) < scalar_num(best);
                if (better)
                    best = s;
            }
        *out = all_int ? qti_value_integer(best->u.i) : float_or_null(scalar_num(best));
        return 0;
    }
    if (x->op == QTI_OP_GCD || x->op == QTI_OP_LCM) {
        uint64_t acc = x->op == QTI_OP_GCD ? 0 : 1;
        for (size_t i = 0; i < x->nargs; i++)
            for (size_t k = 0; k < v[i]->n; k++) {
                int64_t si = v[i]->items[k].u.i;
                uint64_t n = si < 0 ? (uint64_t)0 - (uint64_t)si : (uint64_t)si;
                if (x->op == QTI_OP_LCM && n == 0) {
                    *out = qti_value_integer(0);
                    return 0;
                }
                uint64_t a = acc, b = n;
                while (b) {
                    uint64_t t = a % b;
                    a = b;
                    b = t;
                }
                if (x->op == QTI_OP_GCD)
                    acc = a;
                else if (__builtin_mul_overflow(acc / a, n, &acc))
                    return 0;
            }
        if (acc > (uint64_t)QTI_INT_MAX)
            return 0;
        *out = qti_value_integer((int64_t)acc);
        return 0;
    }
    /* statsOperator */
    double sum = 0, n = (double)total;
    for (size_t k = 0; k < v[0]->n; k++)
        sum += scalar_num(&v[0]->items[k]);
    double mean = sum / n;
    if (x->sub == QTI_STATS_MEAN) {
        *out = float_or_null(mean);
        return 0;
    }
    double ss = 0;
    for (size_t k = 0; k < v[0]->n; k++) {
        double d = scalar_num(&v[0]->items[k]) - mean;
        ss += d * d;
    }
    bool sample = x->sub == QTI_STATS_SAMPLE_VARIANCE || x->sub == QTI_STATS_SAMPLE_SD;
    if (sample && total < 2)
        return 0;
    double var = ss / (sample ? n - 1 : n);
    bool sd = x->sub == QTI_STATS_SAMPLE_SD || x->sub == QTI_STATS_POP_SD;
    *out = float_or_null(sd ? sqrt(var) : var);
    return 0;
}

static int eval_math(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                     struct qti_value **out)
{
    char b1[80];
    for (size_t i = 0; i < x->nargs; i++) {
        if (qti_value_is_null(v[i]))
            return 0;
        if (!is_num_single(v[i]))
            return fail(ev, x, "%s needs single numbers, not %s", math_names[x->sub],
                        card_type(v[i], b1, sizeof b1));
    }
    double a = num_of(v[0]), r;
    switch ((enum qti_math_fn)x->sub) {
    case QTI_MATH_SIN:
        r = sin(a);
        break;
    case QTI_MATH_COS:
        r = cos(a);
        break;
    case QTI_MATH_TAN:
        r = tan(a);
        break;
    case QTI_MATH_SEC:
        r = 1 / cos(a);
        break;
    case QTI_MATH_CSC:
        r = 1 / sin(a);
        break;
    case QTI_MATH_COT:
        r = 1 / tan(a);
        break;
    case QTI_MATH_ASIN:
        r = asin(a);
        break;
    case QTI_MATH_ACOS:
        r = acos(a);
        break;
    case QTI_MATH_ATAN:
        r = atan(a);
        break;
    case QTI_MATH_ATAN2:
        r = atan2(a, num_of(v[1]));
        break;
    case QTI_MATH_ASEC:
        r = acos(1 / a);
        break;
    case QTI_MATH_ACSC:
        r = asin(1 / a);
        break;
    case QTI_MATH_ACOT:
        r = a == 0 ? M_PI / 2 : atan(1 / a);
        break;
    case QTI_MATH_SINH:
        r = sinh(a);
        break;
    case QTI_MATH_COSH:
        r = cosh(a);
        break;
    case QTI_MATH_TANH:
        r = tanh(a);
        break;
    case QTI_MATH_SECH:
        r = 1 / cosh(a);
        break;
    case QTI_MATH_CSCH:
        r = 1 / sinh(a);
        break;
    case QTI_MATH_COTH:
        r = 1 / tanh(a);
        break;
    case QTI_MATH_LOG:
        r = a > 0 ? log10(a) : NAN;
        break;
    case QTI_MATH_LN:
        r = a > 0 ? log(a) : NAN;
        break;
    case QTI_MATH_EXP:
        r = exp(a);
        break;
    case QTI_MATH_ABS:
        if (v[0]->type == QTI_BT_INTEGER) {
            int64_t i = v[0]->items[0].u.i;
            *out = i == INT64_MIN ? NULL : int_or_null(i < 0 ? -i : i);
            return 0;
        }
        r = fabs(a);
        break;
    case QTI_MATH_TO_DEGREES:
        r = a * 180.0 / M_PI;
        break;
    case QTI_MATH_TO_RADIANS:
        r = a * M_PI / 180.0;
        break;
    case QTI_MATH_SIGNUM:
        if (isnan(a))
            return 0;
        *out = qti_value_integer(a > 0 ? 1 : a < 0 ? -1 : 0);
        return 0;
    case QTI_MATH_FLOOR:
        *out = int_from_double(floor(a));
        return 0;
    case QTI_MATH_CEIL:
        *out = int_from_double(ceil(a));
        return 0;
    default:
        return fail(ev, x, "internal: unknown function");
    }
    *out = float_or_null(r);
    return 0;
}

static int eval_strings(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                        struct qti_value **out)
{
    char b1[80];
    for (size_t i = 0; i < x->nargs; i++) {
        if (qti_value_is_null(v[i]))
            return 0;
        if (v[i]->card != QTI_CARD_SINGLE || !text_type(v[i]->type))
            return fail(ev, x, "needs single strings, not %s", card_type(v[i], b1, sizeof b1));
    }
    const char *a = v[0]->items[0].u.s;
    if (x->op == QTI_OP_PATTERN_MATCH) {
        const char *pattern = NULL, *why = NULL;
        bool isnull, matched = false;
        int rc = resolve_ref(ev, x, &x->a, 's', NULL, &pattern, &isnull);
        if (rc < 0 || isnull)
            return rc;
        if (qti_pattern_match(pattern, a, &matched, &why) < 0)
            return fail(ev, x, "pattern \"%.100s\" %s", pattern, why);
        *out = qti_value_boolean(matched);
        return 0;
    }
    const char *b = v[1]->items[0].u.s;
    bool r;
    if (x->op == QTI_OP_SUBSTRING) /* the first is a substring of the second */
        r = find_sub(b, a, x->case_sensitive) != NULL;
    else if (x->substring) /* deprecated stringMatch substring="true": first contains second */
        r = find_sub(a, b, x->case_sensitive) != NULL;
    else
        r = x->case_sensitive ? strcmp(a, b) == 0 : strcasecmp(a, b) == 0;
    *out = qti_value_boolean(r);
    return 0;
}

static int eval_single_arg(const struct ev *ev, const struct qti_expr *x, struct qti_value *v,
                           struct qti_value **out)
{
    char b1[80];
    switch (x->op) {
    case QTI_OP_IS_NULL:
        *out = qti_value_boolean(qti_value_is_null(v));
        return 0;
    case QTI_OP_CONTAINER_SIZE:
        if (qti_value_is_null(v)) {
            *out = qti_value_integer(0);
            return 0;
        }
        if (!is_container(v))
            return fail(ev, x, "needs a multiple or ordered container, not %s",
                        card_type(v, b1, sizeof b1));
        *out = qti_value_integer((int64_t)v->n);
        return 0;
    case QTI_OP_INDEX: {
        if (qti_value_is_null(v))
            return 0;
        if (v->card != QTI_CARD_ORDERED)
            return fail(ev, x, "needs an ordered container, not %s", card_type(v, b1, sizeof b1));
        double n;
        bool isnull;
        int rc = resolve_ref(ev, x, &x->a, 'i', &n, NULL, &isnull);
        if (rc < 0 || isnull)
            return rc;
        if (n < 1 || n > (double)v->n)
            return 0;
        *out = qti_value_single(&v->items[(size_t)n - 1]);
        return 0;
    }
    case QTI_OP_FIELD_VALUE:
        if (qti_value_is_null(v))
            return 0;
        if (v->card != QTI_CARD_RECORD)
            return fail(ev, x, "needs a record, not %s", card_type(v, b1, sizeof b1));
        return qti_value_copy(qti_value_record_get(v, x->identifier), out);
    case QTI_OP_RANDOM:
        if (qti_value_is_null(v))
            return 0;
        if (v->card == QTI_CARD_RECORD)
            return fail(ev, x, "needs a container, not a record");
        if (!ev->ops->random)
            return fail(ev, x, "randomness is not available here");
        *out = qti_value_single(&v->items[qti_random_below(ev->ops, ev->ud, v->n)]);
        return 0;
    case QTI_OP_INSIDE: {
        if (qti_value_is_null(v))
            return 0;
        if (v->card == QTI_CARD_RECORD || v->type != QTI_BT_POINT)
            return fail(ev, x, "needs points, not %s", card_type(v, b1, sizeof b1));
        bool in = false;
        for (size_t i = 0; i < v->n && !in; i++)
            in = qti_shape_contains((enum qti_shape)x->sub, x->coords, x->ncoords,
                                    (double)v->items[i].u.point.x, (double)v->items[i].u.point.y);
        *out = qti_value_boolean(in);
        return 0;
    }
    default:
        return eval_unary_num(ev, x, v, out);
    }
}

static int eval_match(const struct ev *ev, const struct qti_expr *x, struct qti_value **v,
                      struct qti_value **out)
{
    char b1[80], b2[80];
    if (any_null(v, 2))
        return 0;
    if (v[0]->card != v[1]->card || v[0]->type != v[1]->type)
        return fail(ev, x,
                    "sub-expressions must have the same cardinality and base type (got "
                    "%s and %s)",
                    card_type(v[0], b1, sizeof b1), card_type(v[1], b2, sizeof b2));
    *out = qti_value_boolean(qti_value_equal(v[0], v[1]));
    return 0;
}

static int eval_leaf(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    const struct qti_decl *d;
    switch (x->op) {
    case QTI_OP_BASE_VALUE:
        return qti_value_copy(x->value, out);
    case QTI_OP_VARIABLE:
        return eval_variable(ev, x, out);
    case QTI_OP_DEFAULT:
        if (!(d = need_decl(ev, x, x->identifier)))
            return ev->e->code;
        return qti_value_copy(d->default_value, out);
    case QTI_OP_CORRECT:
        if (!(d = need_decl(ev, x, x->identifier)))
            return ev->e->code;
        if (d->kind == QTI_DECL_OUTCOME)
            return fail(ev, x, "%s is an outcome variable: it has no correct response",
                        x->identifier);
        return qti_value_copy(d->correct_response, out);
    case QTI_OP_MAP_RESPONSE:
    case QTI_OP_MAP_RESPONSE_POINT:
        return eval_map(ev, x, out);
    case QTI_OP_MATH_CONSTANT:
        *out = qti_value_float(x->sub == QTI_CONST_PI ? M_PI : M_E);
        return 0;
    case QTI_OP_NULL:
        return 0;
    case QTI_OP_RANDOM_INTEGER:
    case QTI_OP_RANDOM_FLOAT:
        return eval_random_number(ev, x, out);
    default:
        return eval_subset(ev, x, out);
    }
}

static int eval(const struct ev *ev, const struct qti_expr *x, struct qti_value **out)
{
    *out = NULL;
    if (*ev->steps == 0)
        return fail(ev, x, "evaluation over %d steps: the rules loop or are too big",
                    QTI_EXPR_MAX_STEPS);
    (*ev->steps)--;
    if (x->op <= QTI_OP_OUTCOME_MINIMUM)
        return eval_leaf(ev, x, out);
    switch (x->op) {
    case QTI_OP_MULTIPLE:
    case QTI_OP_ORDERED:
    case QTI_OP_REPEAT:
        return eval_container(ev, x, out);
    case QTI_OP_AND:
    case QTI_OP_OR:
    case QTI_OP_NOT:
    case QTI_OP_ANY_N:
        return eval_logic(ev, x, out);
    default:
        break;
    }
    struct qti_value **v;
    int rc = eval_all(ev, x, &v);
    if (rc < 0)
        return rc;
    switch (x->op) {
    case QTI_OP_MEMBER:
    case QTI_OP_DELETE:
    case QTI_OP_CONTAINS:
        rc = eval_containers2(ev, x, v, out);
        break;
    case QTI_OP_SUBSTRING:
    case QTI_OP_STRING_MATCH:
    case QTI_OP_PATTERN_MATCH:
        rc = eval_strings(ev, x, v, out);
        break;
    case QTI_OP_MATCH:
        rc = eval_match(ev, x, v, out);
        break;
    case QTI_OP_EQUAL:
    case QTI_OP_EQUAL_ROUNDED:
        rc = eval_equal(ev, x, v, out);
        break;
    case QTI_OP_LT:
    case QTI_OP_GT:
    case QTI_OP_LTE:
    case QTI_OP_GTE:
    case QTI_OP_DURATION_LT:
    case QTI_OP_DURATION_GTE:
        rc = eval_compare(ev, x, v, out);
        break;
    case QTI_OP_SUM:
    case QTI_OP_PRODUCT:
    case QTI_OP_SUBTRACT:
    case QTI_OP_DIVIDE:
    case QTI_OP_POWER:
    case QTI_OP_INTEGER_DIVIDE:
    case QTI_OP_INTEGER_MODULUS:
        rc = eval_arith(ev, x, v, out);
        break;
    case QTI_OP_MAX:
    case QTI_OP_MIN:
    case QTI_OP_GCD:
    case QTI_OP_LCM:
    case QTI_OP_STATS_OPERATOR:
        rc = eval_aggregate(ev, x, v, out);
        break;
    case QTI_OP_MATH_OPERATOR:
        rc = eval_math(ev, x, v, out);
        break;
    default:
        rc = eval_single_arg(ev, x, v[0], out);
        break;
    }
    free_all(v, x->nargs);
    if (rc < 0) {
        qti_value_free(*out);
        *out = NULL;
    }
    return rc;
}

int qti_expr_eval_budget(const struct qti_expr *x, const struct qti_eval_ops *ops, void *ud,
                         size_t *steps, struct qti_value **out, struct op_err *e)
{
    struct ev ev = {ops, ud, steps, e};
    int rc = eval(&ev, x, out);
    /* the outside world never sees an empty container or empty string: they are NULL */
    if (rc == 0 && qti_value_is_null(*out)) {
        qti_value_free(*out);
        *out = NULL;
    }
    return rc;
}

int qti_expr_eval(const struct qti_expr *x, const struct qti_eval_ops *ops, void *ud,
                  struct qti_value **out, struct op_err *e)
{
    size_t steps = QTI_EXPR_MAX_STEPS;
    return qti_expr_eval_budget(x, ops, ud, &steps, out, e);
}
