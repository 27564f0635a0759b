/*
 * expr.c - the QTI expression language (see expr.h): the operator table, reading trees from
 * QTI XML or from their JSON form through one attribute reader, and writing the JSON form.
 * Evaluation is in expr_eval.c (context, helpers, item subsets) and expr_ops.c (operators).
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

#include "qti/expr_internal.h"
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
const char *const expr_math_names[] = {
    "sin",  "cos",  "tan",  "sec",    "csc",   "cot",  "asin",      "acos",      "atan", "atan2",
    "asec", "acsc", "acot", "sinh",   "cosh",  "tanh", "sech",      "csch",      "coth", "log",
    "ln",   "exp",  "abs",  "signum", "floor", "ceil", "toDegrees", "toRadians", NULL};
static const char *const stats_names[] = {"mean",        "sampleVariance", "sampleSD",
                                          "popVariance", "popSD",          NULL};
static const char *const tol_names[] = {"exact", "absolute", "relative", NULL};
const char *const expr_rounding_names[] = {"significantFigures", "decimalPlaces", NULL};
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
        return expr_math_names;
    case QTI_OP_STATS_OPERATOR:
        *attr = "name";
        return stats_names;
    case QTI_OP_EQUAL:
        *attr = "toleranceMode";
        return tol_names;
    case QTI_OP_EQUAL_ROUNDED:
    case QTI_OP_ROUND_TO:
        *attr = "roundingMode";
        return expr_rounding_names;
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
        if (found < 0) {
            rc = node_err(r, line, op, "%s \"%.40s\" is %s", sub_attr, v ? v : "",
                          v ? "not known" : "missing");
            free(v);
            return rc;
        }
        free(v);
        x->sub = found;
    }
    if (x->op == QTI_OP_MATH_OPERATOR) {
        size_t want = x->sub == QTI_MATH_ATAN2 ? 2 : 1;
        if (x->nargs != want)
            return node_err(r, line, op, "%s takes %zu sub-expression%s, not %zu",
                            expr_math_names[x->sub], want, want > 1 ? "s" : "", x->nargs);
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
