/*
 * rules.h - QTI processing rules: responseProcessing, templateProcessing (item level) and
 * outcomeProcessing (test level), QTI 2.1/2.2 Information Model §"Response Processing",
 * §"Template Processing", §"Outcome Processing".
 *
 * Rules read: responseCondition / outcomeCondition / templateCondition (if, elseIf..., else),
 * setOutcomeValue, setTemplateValue, setCorrectResponse, setDefaultValue, lookupOutcomeValue,
 * exitResponse, exitTest, exitTemplate, templateConstraint, responseProcessingFragment and
 * outcomeProcessingFragment (their rules run in place).
 *
 * The standard response processing templates match_correct, map_response and
 * map_response_point are built in and never fetched: a responseProcessing whose `template`
 * (or `templateLocation`) names one of them - QTI 2.1 or 2.2 URI, with or without ".xml", or
 * any path ending in the template's name - gets the template's rules. A template that is not
 * one of these, with no rules of its own inside, is refused with a message naming its URI.
 * When the element also holds rules and the template is not recognised, its rules are used.
 *
 * Running: qti_rules_run evaluates the rules in order against an evaluation context
 * (expr.h) and writes variables through a setter. Values are checked against the target's
 * declaration: an integer given to a float variable becomes a float; a whole float given to
 * an integer variable becomes an integer (the standard templates set SCORE to 1.0 and some
 * items declare SCORE as an integer); identifier and string convert into each other; a single
 * value fills a container of one. Any other mismatch of base type or cardinality is an error
 * naming the rule, its line and the variable. A condition that is NULL counts as false. At most
 * QTI_RULES_MAX_STEPS expression nodes are visited in one run.
 *
 * Ownership: parsed or loaded rules belong to the caller (qti_rules_free); a value handed to
 * the setter belongs to the setter from then on, whatever it returns.
 */
#ifndef OUTPOST_QTI_RULES_H
#define OUTPOST_QTI_RULES_H

#include <jansson.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "qti/expr.h"

#define QTI_RULES_MAX_DEPTH 32    /* nesting of conditions and fragments */
#define QTI_RULES_MAX_RULES 10000 /* rules in one processing, nested ones included */
#define QTI_RULES_MAX_STEPS 1000000
/* Times template processing is run while a templateConstraint fails (QTI suggests 100). */
#define QTI_TEMPLATE_MAX_TRIES 100

enum qti_rules_kind {
    QTI_RULES_RESPONSE = 0, /* responseProcessing */
    QTI_RULES_TEMPLATE,     /* templateProcessing */
    QTI_RULES_OUTCOME,      /* outcomeProcessing */
};

enum qti_rule_type {
    QTI_RULE_CONDITION = 0, /* responseCondition, outcomeCondition, templateCondition */
    QTI_RULE_SET_VALUE,     /* setOutcomeValue, setTemplateValue */
    QTI_RULE_SET_CORRECT,   /* setCorrectResponse */
    QTI_RULE_SET_DEFAULT,   /* setDefaultValue */
    QTI_RULE_LOOKUP,        /* lookupOutcomeValue */
    QTI_RULE_EXIT,          /* exitResponse, exitTest, exitTemplate */
    QTI_RULE_CONSTRAINT,    /* templateConstraint */
    QTI_RULE_FRAGMENT,      /* responseProcessingFragment, outcomeProcessingFragment */
};

/* One branch of a condition: `cond` is NULL for the else branch. */
struct qti_branch {
    struct qti_expr *cond;
    size_t n;
    struct qti_rule *rules;
};

struct qti_rule {
    enum qti_rule_type type;
    int line;
    char *identifier;      /* set*, lookup: the target variable */
    struct qti_expr *expr; /* set*, lookup, constraint */
    size_t nbranches;      /* condition: if, elseIf..., else (last, cond NULL) */
    struct qti_branch *branches;
    size_t n; /* fragment: its rules */
    struct qti_rule *rules;
};

struct qti_rules {
    enum qti_rules_kind kind;
    /* "match_correct", "map_response", "map_response_point" when built from a standard
     * template, else NULL (kept for reports; the rules below are what runs) */
    char *template_name;
    size_t n;
    struct qti_rule *rules;
};

/* Parses responseProcessing, templateProcessing or outcomeProcessing (matched by local name;
 * the kind follows from it). Rules that do not belong to the kind (setTemplateValue in
 * responseProcessing, exitTest in templateProcessing, ...) are refused with their line.
 * On success *out is owned by the caller. */
int qti_rules_parse(xmlNode *node, struct qti_rules **out, struct op_err *e);

/* The rules of a standard template by name or URI ("match_correct",
 * "http://www.imsglobal.org/question/qti_v2p2/rptemplates/map_response.xml", ...).
 * OP_ENOTFOUND if `uri` is not one of the three. On success *out is owned by the caller. */
int qti_rules_standard_template(const char *uri, struct qti_rules **out, struct op_err *e);

/* The standard name ("match_correct", ...) a template URI or location refers to, or NULL. */
const char *qti_rules_template_name(const char *uri);

void qti_rules_free(struct qti_rules *r);

/* JSON: {"kind": "response"|"template"|"outcome", "template": name (if any),
 * "rules": [{"rule": "<element name>", ...}]}. New reference owned by the caller. */
json_t *qti_rules_to_json(const struct qti_rules *r);
/* Reads what qti_rules_to_json wrote, with the parser's checks and bounds. */
int qti_rules_from_json(const json_t *j, struct qti_rules **out, struct op_err *e);

/* What a setter is asked to change. */
enum qti_set_what {
    QTI_SET_VALUE = 0, /* the variable's value (setOutcomeValue, setTemplateValue, lookup) */
    QTI_SET_CORRECT,   /* its correct response (setCorrectResponse) */
    QTI_SET_DEFAULT,   /* its default value (setDefaultValue) */
};

/* Sets `identifier` to `v` (owned by the setter from the call on; NULL = QTI NULL). The value
 * already fits the variable's declaration. Returns 0, or a negative code with `e` filled. */
typedef int (*qti_set_fn)(void *ud, enum qti_set_what what, const char *identifier,
                          struct qti_value *v, struct op_err *e);

/* Makes `v` (owned by the call) fit declaration `d` as setOutcomeValue and the other setters
 * do: a single value fills a container of one, an integer becomes a float, a whole float an
 * integer, identifiers and strings convert; NULL stays NULL. 0 and *out (the caller's), or
 * OP_EINPUT with "SCORE is single float; the expression gave multiple identifier". */
int qti_value_fit(const struct qti_decl *d, struct qti_value *v, struct qti_value **out,
                  struct op_err *e);

/* How a run ended. */
enum qti_run_end {
    QTI_RUN_DONE = 0,         /* all rules ran */
    QTI_RUN_EXIT,             /* exitResponse, exitTest or exitTemplate */
    QTI_RUN_CONSTRAINT_FALSE, /* a templateConstraint was false or NULL: start again */
};

/* Runs `r` once with the context `ops`/`ud` and the setter `set` (same `ud`). Only outcome
 * variables may be set by responseProcessing and outcomeProcessing, only template variables
 * (and correct/default values) by templateProcessing: ops->decl tells which is which.
 * On success *end says how the run ended. */
int qti_rules_run(const struct qti_rules *r, const struct qti_eval_ops *ops, void *ud,
                  qti_set_fn set, enum qti_run_end *end, struct op_err *e);

/* Restores every template variable to its default value and every correct response and
 * default value to its declared one, before a retry of template processing. */
typedef int (*qti_reset_fn)(void *ud, struct op_err *e);

/* Template processing as QTI specifies it: runs `r`; while a templateConstraint fails,
 * calls `reset` and runs again, at most QTI_TEMPLATE_MAX_TRIES times; if the constraint still
 * fails, resets once more so the template variables keep their default values (the spec's
 * fallback) and returns 0. */
int qti_rules_run_template(const struct qti_rules *r, const struct qti_eval_ops *ops, void *ud,
                           qti_set_fn set, qti_reset_fn reset, struct op_err *e);

#endif
