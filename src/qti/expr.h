/*
 * expr.h - the QTI expression language (QTI 2.1/2.2 Information Model §15 "Expressions"):
 * parsing from QTI XML into a tree, the JSON form of the tree for the compiled delivery
 * package, and one evaluator that serves item level (response and template processing) and
 * test level (outcome processing, preconditions, branch rules) through a table of callbacks.
 *
 * Bounds: a tree is at most QTI_EXPR_MAX_DEPTH deep and QTI_EXPR_MAX_NODES nodes (parser and
 * JSON loader refuse bigger ones with a clear error, so hostile input cannot blow the stack);
 * evaluation spends at most QTI_EXPR_MAX_STEPS node visits per top-level call and never builds
 * a container larger than QTI_VALUE_MAX_ITEMS.
 *
 * NULL and types: operators follow the specification - most return NULL when a sub-expression
 * is NULL (sum, match, lt, ...), `and`/`or`/anyN skip or count NULL as the spec says, isNull
 * tests it. sum and product also take containers (QTI 2.1: `<sum><testVariables .../></sum>`
 * is the usual test total). A value of the wrong type or cardinality for an operator is an
 * evaluation error (OP_EINPUT, message naming the operator and line), not a silent NULL:
 * content that reaches delivery was compiled from checked XML, so a type error means the item
 * is broken and the caller must say so. Exceptions, as the spec says: max, min, gcd, lcm and
 * statsOperator give NULL for non-numeric arguments. Every operator of §15 is supported except
 * customOperator, which the parser refuses with a message naming its class.
 *
 * Ownership: qti_expr_parse / qti_expr_from_json return a tree owned by the caller
 * (qti_expr_free). qti_expr_eval returns a value owned by the caller (NULL = QTI NULL).
 */
#ifndef OUTPOST_QTI_EXPR_H
#define OUTPOST_QTI_EXPR_H

#include <jansson.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "qti/decl.h"
#include "qti/value.h"

#define QTI_EXPR_MAX_DEPTH 64
#define QTI_EXPR_MAX_NODES 100000
#define QTI_EXPR_MAX_STEPS 1000000

enum qti_op {
    /* leaves */
    QTI_OP_BASE_VALUE = 0,
    QTI_OP_VARIABLE,
    QTI_OP_DEFAULT,
    QTI_OP_CORRECT,
    QTI_OP_MAP_RESPONSE,
    QTI_OP_MAP_RESPONSE_POINT,
    QTI_OP_MATH_CONSTANT,
    QTI_OP_NULL,
    QTI_OP_RANDOM_INTEGER,
    QTI_OP_RANDOM_FLOAT,
    /* test level (item subsets) */
    QTI_OP_NUMBER_CORRECT,
    QTI_OP_NUMBER_INCORRECT,
    QTI_OP_NUMBER_PRESENTED,
    QTI_OP_NUMBER_RESPONDED,
    QTI_OP_NUMBER_SELECTED,
    QTI_OP_TEST_VARIABLES,
    QTI_OP_OUTCOME_MAXIMUM,
    QTI_OP_OUTCOME_MINIMUM,
    /* containers */
    QTI_OP_MULTIPLE,
    QTI_OP_ORDERED,
    QTI_OP_CONTAINER_SIZE,
    QTI_OP_IS_NULL,
    QTI_OP_INDEX,
    QTI_OP_FIELD_VALUE,
    QTI_OP_RANDOM,
    QTI_OP_MEMBER,
    QTI_OP_DELETE,
    QTI_OP_CONTAINS,
    QTI_OP_REPEAT,
    /* strings */
    QTI_OP_SUBSTRING,
    QTI_OP_STRING_MATCH,
    QTI_OP_PATTERN_MATCH,
    /* logic */
    QTI_OP_NOT,
    QTI_OP_AND,
    QTI_OP_OR,
    QTI_OP_ANY_N,
    /* comparison */
    QTI_OP_MATCH,
    QTI_OP_EQUAL,
    QTI_OP_EQUAL_ROUNDED,
    QTI_OP_INSIDE,
    QTI_OP_LT,
    QTI_OP_GT,
    QTI_OP_LTE,
    QTI_OP_GTE,
    QTI_OP_DURATION_LT,
    QTI_OP_DURATION_GTE,
    /* arithmetic */
    QTI_OP_SUM,
    QTI_OP_PRODUCT,
    QTI_OP_SUBTRACT,
    QTI_OP_DIVIDE,
    QTI_OP_POWER,
    QTI_OP_INTEGER_DIVIDE,
    QTI_OP_INTEGER_MODULUS,
    QTI_OP_TRUNCATE,
    QTI_OP_ROUND,
    QTI_OP_ROUND_TO,
    QTI_OP_INTEGER_TO_FLOAT,
    QTI_OP_MAX,
    QTI_OP_MIN,
    QTI_OP_GCD,
    QTI_OP_LCM,
    QTI_OP_STATS_OPERATOR,
    QTI_OP_MATH_OPERATOR,
    QTI_OP_COUNT_ /* number of operators, not an operator */
};

/* The QTI element name of an operator ("baseValue", "mapResponsePoint", ...). */
const char *qti_op_name(enum qti_op op);
/* The operator of a QTI element name; -1 if it is not an expression element. */
int qti_op_from_name(const char *name);

/* mathConstant names */
enum qti_math_constant { QTI_CONST_PI = 0, QTI_CONST_E };

/* mathOperator names (QTI 2.2) */
enum qti_math_fn {
    QTI_MATH_SIN = 0,
    QTI_MATH_COS,
    QTI_MATH_TAN,
    QTI_MATH_SEC,
    QTI_MATH_CSC,
    QTI_MATH_COT,
    QTI_MATH_ASIN,
    QTI_MATH_ACOS,
    QTI_MATH_ATAN,
    QTI_MATH_ATAN2,
    QTI_MATH_ASEC,
    QTI_MATH_ACSC,
    QTI_MATH_ACOT,
    QTI_MATH_SINH,
    QTI_MATH_COSH,
    QTI_MATH_TANH,
    QTI_MATH_SECH,
    QTI_MATH_CSCH,
    QTI_MATH_COTH,
    QTI_MATH_LOG, /* base 10 */
    QTI_MATH_LN,
    QTI_MATH_EXP,
    QTI_MATH_ABS,
    QTI_MATH_SIGNUM,
    QTI_MATH_FLOOR,
    QTI_MATH_CEIL,
    QTI_MATH_TO_DEGREES,
    QTI_MATH_TO_RADIANS,
};

/* statsOperator names */
enum qti_stats_fn {
    QTI_STATS_MEAN = 0,
    QTI_STATS_SAMPLE_VARIANCE,
    QTI_STATS_SAMPLE_SD,
    QTI_STATS_POP_VARIANCE,
    QTI_STATS_POP_SD,
};

enum qti_tolerance_mode { QTI_TOL_EXACT = 0, QTI_TOL_ABSOLUTE, QTI_TOL_RELATIVE };
enum qti_rounding_mode { QTI_ROUND_SIGNIFICANT_FIGURES = 0, QTI_ROUND_DECIMAL_PLACES };

/* An attribute that is a number or a reference to a template variable: QTI writes
 * min="3" or min="{NMIN}" (integerOrVariableRef, floatOrVariableRef, stringOrVariableRef).
 * `var` is the variable's identifier (without braces) or NULL when the literal applies. */
struct qti_ref {
    bool present;
    double num; /* integer or float literal */
    char *str;  /* string literal (patternMatch pattern) */
    char *var;  /* variable reference */
};

/* One node of an expression tree. Fields are meaningful only for the operators named. */
struct qti_expr {
    enum qti_op op;
    int line; /* line in the source XML, 0 if unknown (for messages) */
    size_t nargs;
    struct qti_expr **args;

    /* baseValue: the value (NULL never; an empty string baseValue is a string "") */
    struct qti_value *value;
    /* baseValue, testVariables: baseType (QTI_BT_NONE when testVariables has none) */
    enum qti_base_type base_type;
    /* variable, default, correct, mapResponse, mapResponsePoint: identifier;
     * fieldValue: fieldIdentifier; testVariables: variableIdentifier;
     * outcomeMaximum / outcomeMinimum: outcomeIdentifier */
    char *identifier;
    /* variable, testVariables, outcomeMaximum, outcomeMinimum: weightIdentifier or NULL */
    char *weight_identifier;

    /* test-level operators: the item subset (QTI "selection of items") */
    char *section_identifier; /* NULL: the whole test */
    size_t n_include, n_exclude;
    char **include_category; /* items in at least one of these categories */
    char **exclude_category; /* and in none of these */

    /* mathConstant (enum qti_math_constant), mathOperator (enum qti_math_fn),
     * statsOperator (enum qti_stats_fn), equal (enum qti_tolerance_mode),
     * equalRounded / roundTo (enum qti_rounding_mode), inside (enum qti_shape) */
    int sub;

    /* randomInteger: a = min, b = max, c = step; randomFloat: a = min, b = max;
     * anyN: a = min, b = max; index: a = n; repeat: a = numberRepeats;
     * equal: a, b = tolerance (b absent: same as a); equalRounded / roundTo: a = figures;
     * patternMatch: a = pattern (str or var) */
    struct qti_ref a, b, c;

    /* substring, stringMatch: caseSensitive; stringMatch: substring */
    bool case_sensitive, substring;
    /* equal: includeLowerBound, includeUpperBound (default true) */
    bool include_lower, include_upper;

    /* inside: coords */
    double *coords;
    size_t ncoords;
};

/* Parses an expression element (QTI 2.1 or 2.2 namespace, matched by local name), checking
 * the number of sub-expressions each operator takes and its attributes. Messages name the
 * element and its line ("line 40: equal: toleranceMode "near" is not exact, absolute or
 * relative"). On success *out is owned by the caller. */
int qti_expr_parse(xmlNode *node, struct qti_expr **out, struct op_err *e);

/* Same, spending from a node budget shared by several trees (rules use this so that a whole
 * responseProcessing stays within QTI_EXPR_MAX_NODES); `depth` is the depth of `node`. */
int qti_expr_parse_budget(xmlNode *node, int depth, size_t *budget, struct qti_expr **out,
                          struct op_err *e);

void qti_expr_free(struct qti_expr *x);

/* JSON of a tree: {"op": "<element name>", "args": [...], attributes by their QTI names}.
 * A new reference owned by the caller; NULL if out of memory. */
json_t *qti_expr_to_json(const struct qti_expr *x);
/* Reads what qti_expr_to_json wrote, with the same checks and bounds as the parser. */
int qti_expr_from_json(const json_t *j, struct qti_expr **out, struct op_err *e);
int qti_expr_from_json_budget(const json_t *j, int depth, size_t *budget, struct qti_expr **out,
                              struct op_err *e);

/* ---- evaluation ---- */

/* One item of the subset a test-level operator names, as the test session sees it. */
struct qti_item_state {
    const char *ref; /* assessmentItemRef identifier: ops->get(ref + "." + VAR) finds values */
    bool selected;   /* chosen by selection (every item that is part of the route) */
    bool presented;  /* shown to the candidate at least once */
    bool attempted;  /* at least one attempt submitted (numAttempts > 0) */
    bool responded;  /* attempted and a response given (not all responses NULL) */
    bool judgeable;  /* every declared response variable has a correct response: QTI 2.1
                        numberCorrect and numberIncorrect consider only such items */
    bool correct;    /* every response variable matches its correct response */
};

/* Called by ops->item_subset for each item of the subset; returns 0 to continue. */
typedef int (*qti_item_fn)(void *arg, const struct qti_item_state *item, struct op_err *e);

/*
 * The context of an evaluation. Every callback gets the `ud` given to qti_expr_eval.
 * Item level: `get` and `decl` see the item's variables; item_subset and weight are NULL.
 * Test level: `get` and `decl` also answer "ITEMREF.VAR" (a variable of an item of the
 * test: the value of its last attempt; an item not presented gives 0 with *out NULL).
 */
struct qti_eval_ops {
    /* The current value of a variable, borrowed until the next change of that variable:
     * 0 and *out (NULL = QTI NULL) if the variable exists, -1 if it does not (the evaluator
     * then fails with "unknown variable X"). Required. */
    int (*get)(void *ud, const char *identifier, const struct qti_value **out);
    /* The declaration of a variable, as modified during this session by setCorrectResponse
     * and setDefaultValue (default, correct, mapResponse, mapResponsePoint and
     * outcomeMaximum/Minimum read it); NULL if unknown. Required. */
    const struct qti_decl *(*decl)(void *ud, const char *identifier);
    /* Test level: calls `each` for every item of the subset `x` names (its
     * section_identifier, include_category, exclude_category), in test order; returns 0, or
     * the first non-zero return of `each`. NULL at item level: the test-level operators then
     * fail with "numberCorrect is only allowed in outcome processing of a test". */
    int (*item_subset)(void *ud, const struct qti_expr *x, qti_item_fn each, void *arg,
                       struct op_err *e);
    /* Test level: the weight `weight_id` of item ref `ref`: 0 and *out if the item defines it,
     * -1 if not (QTI then uses 1.0). NULL: every weight is 1.0. */
    int (*weight)(void *ud, const char *ref, const char *weight_id, double *out);
    /* A uniformly distributed 64-bit number from a PRNG seeded by the session, for
     * randomInteger, randomFloat and random. NULL: those operators fail with a clear error. */
    uint64_t (*random)(void *ud);
};

/* Evaluates `x`. On success (0) *out is the value owned by the caller (NULL = QTI NULL; an
 * empty container or empty string comes back as NULL). On failure *out is NULL and `e` says
 * which operator and why. */
int qti_expr_eval(const struct qti_expr *x, const struct qti_eval_ops *ops, void *ud,
                  struct qti_value **out, struct op_err *e);

/* Same, spending from a step budget shared by several evaluations (rules use this). */
int qti_expr_eval_budget(const struct qti_expr *x, const struct qti_eval_ops *ops, void *ud,
                         size_t *steps, struct qti_value **out, struct op_err *e);

/* A float uniformly in [0, 1) from ops->random (53 bits); helpers for callers that shuffle. */
double qti_random_unit(uint64_t r);
/* An integer uniformly in [0, n) without modulo bias; n > 0. */
uint64_t qti_random_below(const struct qti_eval_ops *ops, void *ud, uint64_t n);

#endif
