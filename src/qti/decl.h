/*
 * decl.h - QTI variable declarations: responseDeclaration, outcomeDeclaration and
 * templateDeclaration, with what hangs off them (defaultValue, correctResponse, mapping,
 * areaMapping, matchTable / interpolationTable, interpretation, normal range, mastery value,
 * paramVariable / mathVariable).
 *
 * A declaration is read once from QTI XML (qti_decl_parse) on central, then travels in the
 * compiled delivery package as JSON (qti_decl_to_json / qti_decl_from_json); devices never
 * read QTI XML. The JSON has two views: QTI_DECL_VIEW_SCORING holds everything, and
 * QTI_DECL_VIEW_PUBLIC holds only what the browser may see: identifier, kind, cardinality,
 * base type, default value and the descriptive outcome attributes - never correctResponse,
 * mapping, areaMapping or a lookup table, which would give the answers away.
 *
 * Ownership: a `struct qti_decl *` returned by a function belongs to the caller, who frees it
 * with qti_decl_free; every pointer inside it belongs to the declaration.
 */
#ifndef OUTPOST_QTI_DECL_H
#define OUTPOST_QTI_DECL_H

#include <jansson.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "qti/value.h"

/* Most mapEntry / areaMapEntry / table entries accepted in one declaration. */
#define QTI_DECL_MAX_ENTRIES 10000
/* Most coordinates in one shape (a poly of 500 points). */
#define QTI_SHAPE_MAX_COORDS 1000

enum qti_decl_kind {
    QTI_DECL_RESPONSE = 0,
    QTI_DECL_OUTCOME,
    QTI_DECL_TEMPLATE,
};

/* One mapEntry of a mapping: the key has the declaration's base type. */
struct qti_map_entry {
    struct qti_scalar key;
    double value;
    bool case_sensitive; /* for string keys; default true */
};

/* mapping: lower/upper bounds are optional (has_*); defaultValue defaults to 0. */
struct qti_mapping {
    bool present;
    bool has_lower, has_upper;
    double lower_bound, upper_bound;
    double default_value;
    size_t n;
    struct qti_map_entry *entries;
};

enum qti_shape {
    QTI_SHAPE_DEFAULT = 0, /* the whole area */
    QTI_SHAPE_RECT,        /* left-x, top-y, right-x, bottom-y */
    QTI_SHAPE_CIRCLE,      /* center-x, center-y, radius */
    QTI_SHAPE_POLY,        /* x1, y1, x2, y2, ..., xn, yn (closed or not) */
    QTI_SHAPE_ELLIPSE,     /* center-x, center-y, h-radius, v-radius */
};

/* "rect", "circle", "poly", "ellipse", "default" -> 0 and *out; -1 if unknown. */
int qti_shape_from_name(const char *name, enum qti_shape *out);
const char *qti_shape_name(enum qti_shape s);
/* Parses "10,20,30,40" into *coords (owned by the caller) and checks the count for `s`.
 * `what` names the place for messages. */
int qti_shape_parse_coords(enum qti_shape s, const char *text, const char *what, double **coords,
                           size_t *n, struct op_err *e);
/* True if point (x, y) is inside the shape (edges count as inside). */
bool qti_shape_contains(enum qti_shape s, const double *coords, size_t n, double x, double y);

struct qti_area_entry {
    enum qti_shape shape;
    double *coords;
    size_t ncoords;
    double value; /* mappedValue */
};

struct qti_area_mapping {
    bool present;
    bool has_lower, has_upper;
    double lower_bound, upper_bound;
    double default_value;
    size_t n;
    struct qti_area_entry *entries;
};

/* matchTable (integer source values, exact match) or interpolationTable (float source values,
 * first entry whose sourceValue is below the value - or equal, if includeBoundary - wins). */
enum qti_lookup_kind {
    QTI_LOOKUP_NONE = 0,
    QTI_LOOKUP_MATCH,
    QTI_LOOKUP_INTERPOLATION,
};

struct qti_lookup_entry {
    double source;            /* sourceValue (an integer for a matchTable) */
    bool include_boundary;    /* interpolationTable only; default true */
    struct qti_value *target; /* targetValue, of the outcome's base type */
};

struct qti_lookup_table {
    enum qti_lookup_kind kind;
    struct qti_value *default_value; /* defaultValue of the table; NULL if none */
    size_t n;
    struct qti_lookup_entry *entries;
};

struct qti_decl {
    enum qti_decl_kind kind;
    char *identifier;
    enum qti_cardinality card;
    enum qti_base_type type; /* QTI_BT_NONE for a record */

    struct qti_value *default_value; /* defaultValue; NULL if none */
    char *default_interpretation;    /* defaultValue/@interpretation or NULL */

    /* response and template declarations */
    struct qti_value *correct_response; /* NULL if none */
    char *correct_interpretation;
    struct qti_mapping mapping;           /* response only */
    struct qti_area_mapping area_mapping; /* response only */

    /* outcome declarations */
    char *interpretation;      /* NULL if absent */
    char *long_interpretation; /* NULL if absent */
    bool has_normal_maximum, has_normal_minimum, has_mastery_value;
    double normal_maximum, normal_minimum, mastery_value;
    bool external_scored; /* externalScored present (QTI 2.2): scored outside Outpost */
    struct qti_lookup_table lookup;

    /* template declarations */
    bool param_variable, math_variable;
};

/* Reads a responseDeclaration, outcomeDeclaration or templateDeclaration element (QTI 2.1
 * or 2.2 namespace; matched by local name). Checks: identifier present, cardinality and base
 * type known and consistent (records have no base type, others need one), default and
 * correct values fit the declaration, mapping keys fit the base type, shapes have the right
 * number of coordinates, limits above hold. Messages name the element, the identifier and
 * the line ("responseDeclaration RESPONSE line 12: mapEntry mapKey "X Y": not an
 * identifier"). On success *out is owned by the caller. */
int qti_decl_parse(xmlNode *node, struct qti_decl **out, struct op_err *e);

/* A new, empty declaration (identifier copied); the caller fills the rest. For built-in
 * variables such as completionStatus, numAttempts and duration. NULL if out of memory. */
struct qti_decl *qti_decl_new(enum qti_decl_kind kind, const char *identifier,
                              enum qti_cardinality card, enum qti_base_type type);

int qti_decl_copy(const struct qti_decl *d, struct qti_decl **out);
void qti_decl_free(struct qti_decl *d);

enum qti_decl_view {
    QTI_DECL_VIEW_SCORING = 0, /* everything */
    QTI_DECL_VIEW_PUBLIC,      /* what the browser may see (see the top of this file) */
};

/* JSON of a declaration; a new reference owned by the caller, NULL if out of memory.
 * Stable field names: "kind" ("response"/"outcome"/"template"), "identifier",
 * "cardinality", "baseType", "defaultValue" (JSON form of value.h), "correctResponse",
 * "mapping", "areaMapping", "lookupTable", "interpretation", "longInterpretation",
 * "normalMaximum", "normalMinimum", "masteryValue", "externalScored", "paramVariable",
 * "mathVariable" (absent when not set). */
json_t *qti_decl_to_json(const struct qti_decl *d, enum qti_decl_view view);
/* Reads what qti_decl_to_json wrote (either view), with the same checks as parsing XML.
 * On success *out is owned by the caller. */
int qti_decl_from_json(const json_t *j, struct qti_decl **out, struct op_err *e);

/* The mapResponse operator on one declaration: maps `v` (the response, NULL allowed) through
 * d->mapping as QTI says (each distinct value of a container counted once; unmapped values
 * give the default; then bounds). *out is the float result. OP_EINPUT if there is no mapping
 * or the declaration is not single/multiple/ordered. */
int qti_decl_map_response(const struct qti_decl *d, const struct qti_value *v, double *out,
                          struct op_err *e);
/* mapResponsePoint: each area scored once if any point is inside it (first matching area
 * entry per point); bounds then apply. */
int qti_decl_map_response_point(const struct qti_decl *d, const struct qti_value *v, double *out,
                                struct op_err *e);

#endif
