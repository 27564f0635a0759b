/*
 * decl.c - QTI variable declarations (see decl.h): reading them from QTI XML, their JSON
 * form in two views, shapes, and the mapping operators that depend only on a declaration.
 *
 * Invariants of a parsed or loaded declaration: default_value, correct_response and lookup
 * targets fit the declaration's cardinality and base type; mapping keys have its base type;
 * each shape has the number of coordinates it needs. Everything is checked once here, so the
 * evaluator can rely on it.
 */
#include "qti/decl.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qti/qti_alloc.h"
#include "qti/qti_xml.h"

/* ---- shapes ---- */

static const char *const shape_names[] = {"default", "rect", "circle", "poly", "ellipse"};

int qti_shape_from_name(const char *name, enum qti_shape *out)
{
    for (int i = 0; name && i < 5; i++)
        if (strcmp(name, shape_names[i]) == 0) {
            *out = (enum qti_shape)i;
            return 0;
        }
    return -1;
}

const char *qti_shape_name(enum qti_shape s)
{
    if ((int)s < 0 || s > QTI_SHAPE_ELLIPSE)
        return "default";
    return shape_names[s];
}

static int check_coords(enum qti_shape s, size_t n, const char *what, struct op_err *e)
{
    bool ok = true;
    switch (s) {
    case QTI_SHAPE_DEFAULT:
        break;
    case QTI_SHAPE_RECT:
    case QTI_SHAPE_ELLIPSE:
        ok = n == 4;
        break;
    case QTI_SHAPE_CIRCLE:
        ok = n == 3;
        break;
    case QTI_SHAPE_POLY:
        ok = n >= 6 && n % 2 == 0;
        break;
    }
    if (!ok)
        return err_set(e, OP_EINPUT, "%s: a %s cannot have %zu coordinates (%s)", what,
                       qti_shape_name(s), n,
                       s == QTI_SHAPE_RECT      ? "needs left, top, right, bottom"
                       : s == QTI_SHAPE_CIRCLE  ? "needs center-x, center-y, radius"
                       : s == QTI_SHAPE_ELLIPSE ? "needs center-x, center-y, h-radius, v-radius"
                                                : "needs at least 3 points x,y");
    return 0;
}

int qti_shape_parse_coords(enum qti_shape s, const char *text, const char *what, double **coords,
                           size_t *n, struct op_err *e)
{
    *coords = NULL;
    *n = 0;
    double *c = NULL;
    size_t k = 0;
    const char *p = text ? text : "";
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        char *end;
        errno = 0;
        double d = strtod(p, &end);
        if (end == p || errno || !isfinite(d) || strpbrk(p, "xX") == p + 1) {
            free(c);
            return err_set(e, OP_EINPUT,
                           "%s: coords \"%.100s\" are not numbers separated by commas", what, text);
        }
        if (k >= QTI_SHAPE_MAX_COORDS) {
            free(c);
            return err_set(e, OP_EINPUT, "%s: over %d coordinates", what, QTI_SHAPE_MAX_COORDS);
        }
        c = qti_grow(c, k, sizeof *c);
        c[k++] = d;
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ',')
            p++;
        else if (*p) {
            free(c);
            return err_set(e, OP_EINPUT,
                           "%s: coords \"%.100s\" are not numbers separated by commas", what, text);
        }
    }
    int rc = check_coords(s, k, what, e);
    if (rc < 0) {
        free(c);
        return rc;
    }
    *coords = c;
    *n = k;
    return 0;
}

static bool on_segment(double x, double y, double x1, double y1, double x2, double y2)
{
    double cross = (x - x1) * (y2 - y1) - (y - y1) * (x2 - x1);
    if (fabs(cross) > 1e-9 * (fabs(x2 - x1) + fabs(y2 - y1) + 1))
        return false;
    return x >= fmin(x1, x2) && x <= fmax(x1, x2) && y >= fmin(y1, y2) && y <= fmax(y1, y2);
}

bool qti_shape_contains(enum qti_shape s, const double *c, size_t n, double x, double y)
{
    switch (s) {
    case QTI_SHAPE_DEFAULT:
        return true;
    case QTI_SHAPE_RECT:
        if (n < 4)
            return false;
        return x >= fmin(c[0], c[2]) && x <= fmax(c[0], c[2]) && y >= fmin(c[1], c[3]) &&
               y <= fmax(c[1], c[3]);
    case QTI_SHAPE_CIRCLE:
        if (n < 3)
            return false;
        return (x - c[0]) * (x - c[0]) + (y - c[1]) * (y - c[1]) <= c[2] * c[2];
    case QTI_SHAPE_ELLIPSE: {
        if (n < 4 || c[2] == 0 || c[3] == 0)
            return false;
        double dx = (x - c[0]) / c[2], dy = (y - c[1]) / c[3];
        return dx * dx + dy * dy <= 1.0;
    }
    case QTI_SHAPE_POLY: {
        size_t np = n / 2;
        if (np < 3)
            return false;
        bool in = false;
        for (size_t i = 0, j = np - 1; i < np; j = i++) {
            double xi = c[2 * i], yi = c[2 * i + 1], xj = c[2 * j], yj = c[2 * j + 1];
            if (on_segment(x, y, xi, yi, xj, yj))
                return true;
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
                in = !in;
        }
        return in;
    }
    }
    return false;
}

/* ---- construction and freeing ---- */

struct qti_decl *qti_decl_new(enum qti_decl_kind kind, const char *identifier,
                              enum qti_cardinality card, enum qti_base_type type)
{
    struct qti_decl *d = qti_xcalloc(1, sizeof *d);
    d->kind = kind;
    d->identifier = qti_xstrdup(identifier);
    d->card = card;
    d->type = card == QTI_CARD_RECORD ? QTI_BT_NONE : type;
    return d;
}

static void lookup_clear(struct qti_lookup_table *t)
{
    qti_value_free(t->default_value);
    for (size_t i = 0; i < t->n; i++)
        qti_value_free(t->entries[i].target);
    free(t->entries);
    memset(t, 0, sizeof *t);
}

void qti_decl_free(struct qti_decl *d)
{
    if (!d)
        return;
    free(d->identifier);
    qti_value_free(d->default_value);
    free(d->default_interpretation);
    qti_value_free(d->correct_response);
    free(d->correct_interpretation);
    for (size_t i = 0; i < d->mapping.n; i++)
        qti_scalar_clear(&d->mapping.entries[i].key);
    free(d->mapping.entries);
    for (size_t i = 0; i < d->area_mapping.n; i++)
        free(d->area_mapping.entries[i].coords);
    free(d->area_mapping.entries);
    free(d->interpretation);
    free(d->long_interpretation);
    lookup_clear(&d->lookup);
    free(d);
}

static char *dup_or_null(const char *s)
{
    return s ? qti_xstrdup(s) : NULL;
}

int qti_decl_copy(const struct qti_decl *d, struct qti_decl **out)
{
    struct qti_decl *c = qti_xcalloc(1, sizeof *c);
    *c = *d;
    c->identifier = qti_xstrdup(d->identifier);
    qti_value_copy(d->default_value, &c->default_value);
    c->default_interpretation = dup_or_null(d->default_interpretation);
    qti_value_copy(d->correct_response, &c->correct_response);
    c->correct_interpretation = dup_or_null(d->correct_interpretation);
    c->mapping.entries = qti_xcalloc(d->mapping.n, sizeof *c->mapping.entries);
    for (size_t i = 0; i < d->mapping.n; i++) {
        c->mapping.entries[i] = d->mapping.entries[i];
        qti_scalar_copy(&c->mapping.entries[i].key, &d->mapping.entries[i].key);
    }
    c->area_mapping.entries = qti_xcalloc(d->area_mapping.n, sizeof *c->area_mapping.entries);
    for (size_t i = 0; i < d->area_mapping.n; i++) {
        const struct qti_area_entry *a = &d->area_mapping.entries[i];
        c->area_mapping.entries[i] = *a;
        c->area_mapping.entries[i].coords = qti_xcalloc(a->ncoords, sizeof(double));
        if (a->ncoords)
            memcpy(c->area_mapping.entries[i].coords, a->coords, a->ncoords * sizeof(double));
    }
    c->interpretation = dup_or_null(d->interpretation);
    c->long_interpretation = dup_or_null(d->long_interpretation);
    qti_value_copy(d->lookup.default_value, &c->lookup.default_value);
    c->lookup.entries = qti_xcalloc(d->lookup.n, sizeof *c->lookup.entries);
    for (size_t i = 0; i < d->lookup.n; i++) {
        c->lookup.entries[i] = d->lookup.entries[i];
        qti_value_copy(d->lookup.entries[i].target, &c->lookup.entries[i].target);
    }
    *out = c;
    return 0;
}

/* ---- reading QTI XML ---- */

/* Context for messages: "responseDeclaration RESPONSE line 12". */
struct where {
    char text[300];
};

static int parse_number_attr(const xmlNode *n, const char *name, const struct where *w, bool *has,
                             double *out, struct op_err *e)
{
    char *s = qti_xml_attr(n, name);
    if (!s)
        return 0;
    struct qti_scalar sc;
    char what[400];
    snprintf(what, sizeof what, "%s: %s", w->text, name);
    int rc = qti_scalar_parse(QTI_BT_FLOAT, s, what, &sc, e);
    free(s);
    if (rc < 0)
        return rc;
    if (!isfinite(sc.u.f))
        return err_set(e, OP_EINPUT, "%s: must be a finite number", what);
    if (has)
        *has = true;
    *out = sc.u.f;
    return 0;
}

static int parse_bool_attr(const xmlNode *n, const char *name, bool dflt, const struct where *w,
                           bool *out, struct op_err *e)
{
    *out = dflt;
    char *s = qti_xml_attr(n, name);
    if (!s)
        return 0;
    struct qti_scalar sc;
    char what[400];
    snprintf(what, sizeof what, "%s: %s", w->text, name);
    int rc = qti_scalar_parse(QTI_BT_BOOLEAN, s, what, &sc, e);
    free(s);
    if (rc == 0)
        *out = sc.u.b;
    return rc;
}

/* Reads the <value> children of `n` (defaultValue, correctResponse) as a value of the
 * declaration's cardinality and base type. */
static int parse_values(const xmlNode *n, enum qti_cardinality card, enum qti_base_type bt,
                        const char *what, struct qti_value **out, struct op_err *e)
{
    *out = NULL;
    struct qti_value *v = NULL;
    if (card == QTI_CARD_RECORD)
        v = qti_value_record();
    else if (card != QTI_CARD_SINGLE)
        v = qti_value_container(card, bt);
    size_t count = 0;
    int rc = 0;
    QTI_XML_FOREACH_CHILD(c, (xmlNode *)n)
    {
        if (!qti_xml_is(c, "value"))
            continue;
        if (++count > QTI_VALUE_MAX_ITEMS) {
            rc = err_set(e, OP_EINPUT, "%s: over %d values", what, QTI_VALUE_MAX_ITEMS);
            break;
        }
        char *text = qti_xml_text(c);
        struct qti_scalar sc;
        if (card == QTI_CARD_RECORD) {
            char *field = qti_xml_attr(c, "fieldIdentifier");
            char *btn = qti_xml_attr(c, "baseType");
            enum qti_base_type fbt = qti_base_type_from_name(btn);
            if (!field || fbt == QTI_BT_NONE)
                rc = err_set(e, OP_EINPUT,
                             "%s line %d: a record value needs fieldIdentifier and baseType", what,
                             qti_xml_line(c));
            else if ((rc = qti_scalar_parse(fbt, text, what, &sc, e)) == 0) {
                struct qti_value *fv = qti_value_single(&sc);
                qti_scalar_clear(&sc);
                rc = qti_value_record_set(v, field, fv, e);
            }
            free(field);
            free(btn);
        } else if ((rc = qti_scalar_parse(bt, text, what, &sc, e)) == 0) {
            if (card == QTI_CARD_SINGLE) {
                if (v)
                    rc = err_set(e, OP_EINPUT, "%s: a single variable takes one value, not more",
                                 what);
                else
                    v = qti_value_single(&sc);
            } else {
                rc = qti_value_append(v, &sc, e);
            }
            qti_scalar_clear(&sc);
        }
        free(text);
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        qti_value_free(v);
        return rc;
    }
    if (qti_value_is_null(v)) {
        qti_value_free(v);
        v = NULL;
    }
    *out = v;
    return 0;
}

static int parse_mapping(const xmlNode *n, struct qti_decl *d, const struct where *w,
                         struct op_err *e)
{
    struct qti_mapping *m = &d->mapping;
    m->present = true;
    int rc;
    if ((rc = parse_number_attr(n, "lowerBound", w, &m->has_lower, &m->lower_bound, e)) < 0 ||
        (rc = parse_number_attr(n, "upperBound", w, &m->has_upper, &m->upper_bound, e)) < 0 ||
        (rc = parse_number_attr(n, "defaultValue", w, NULL, &m->default_value, e)) < 0)
        return rc;
    if (d->card == QTI_CARD_RECORD || d->type == QTI_BT_NONE)
        return err_set(e, OP_EINPUT, "%s: a record variable cannot have a mapping", w->text);
    QTI_XML_FOREACH_CHILD(c, (xmlNode *)n)
    {
        if (!qti_xml_is(c, "mapEntry"))
            continue;
        if (m->n >= QTI_DECL_MAX_ENTRIES)
            return err_set(e, OP_EINPUT, "%s: over %d mapEntry", w->text, QTI_DECL_MAX_ENTRIES);
        struct where we;
        snprintf(we.text, sizeof we.text, "%.200s: mapEntry line %d", w->text, qti_xml_line(c));
        char *key = qti_xml_attr(c, "mapKey");
        if (!key)
            return err_set(e, OP_EINPUT, "%s: no mapKey", we.text);
        struct qti_map_entry me = {0};
        char what[400];
        snprintf(what, sizeof what, "%s: mapKey", we.text);
        rc = qti_scalar_parse(d->type, key, what, &me.key, e);
        free(key);
        if (rc < 0)
            return rc;
        bool has_value = false;
        if ((rc = parse_number_attr(c, "mappedValue", &we, &has_value, &me.value, e)) < 0 ||
            (rc = parse_bool_attr(c, "caseSensitive", true, &we, &me.case_sensitive, e)) < 0) {
            qti_scalar_clear(&me.key);
            return rc;
        }
        if (!has_value) {
            qti_scalar_clear(&me.key);
            return err_set(e, OP_EINPUT, "%s: no mappedValue", we.text);
        }
        m->entries = qti_grow(m->entries, m->n, sizeof *m->entries);
        m->entries[m->n++] = me;
    }
    return 0;
}

static int parse_area_mapping(const xmlNode *n, struct qti_decl *d, const struct where *w,
                              struct op_err *e)
{
    struct qti_area_mapping *m = &d->area_mapping;
    m->present = true;
    int rc;
    if ((rc = parse_number_attr(n, "lowerBound", w, &m->has_lower, &m->lower_bound, e)) < 0 ||
        (rc = parse_number_attr(n, "upperBound", w, &m->has_upper, &m->upper_bound, e)) < 0 ||
        (rc = parse_number_attr(n, "defaultValue", w, NULL, &m->default_value, e)) < 0)
        return rc;
    if (d->type != QTI_BT_POINT)
        return err_set(e, OP_EINPUT, "%s: an areaMapping needs a point variable", w->text);
    QTI_XML_FOREACH_CHILD(c, (xmlNode *)n)
    {
        if (!qti_xml_is(c, "areaMapEntry"))
            continue;
        if (m->n >= QTI_DECL_MAX_ENTRIES)
            return err_set(e, OP_EINPUT, "%s: over %d areaMapEntry", w->text, QTI_DECL_MAX_ENTRIES);
        struct where we;
        snprintf(we.text, sizeof we.text, "%.200s: areaMapEntry line %d", w->text, qti_xml_line(c));
        struct qti_area_entry ae = {0};
        char *shape = qti_xml_attr(c, "shape");
        if (qti_shape_from_name(shape, &ae.shape) < 0) {
            rc = err_set(e, OP_EINPUT,
                         "%s: shape \"%.50s\" is not rect, circle, poly, ellipse "
                         "or default",
                         we.text, shape ? shape : "");
            free(shape);
            return rc;
        }
        free(shape);
        char *coords = qti_xml_attr(c, "coords");
        rc = qti_shape_parse_coords(ae.shape, coords, we.text, &ae.coords, &ae.ncoords, e);
        free(coords);
        if (rc < 0)
            return rc;
        bool has_value = false;
        if ((rc = parse_number_attr(c, "mappedValue", &we, &has_value, &ae.value, e)) < 0 ||
            (!has_value && (rc = err_set(e, OP_EINPUT, "%s: no mappedValue", we.text)) < 0)) {
            free(ae.coords);
            return rc;
        }
        m->entries = qti_grow(m->entries, m->n, sizeof *m->entries);
        m->entries[m->n++] = ae;
    }
    return 0;
}

static int parse_target(const xmlNode *n, const char *attr, const struct qti_decl *d,
                        const char *what, struct qti_value **out, struct op_err *e)
{
    *out = NULL;
    char *s = qti_xml_attr(n, attr);
    if (!s)
        return 0;
    struct qti_scalar sc;
    char w2[400];
    snprintf(w2, sizeof w2, "%s: %s", what, attr);
    int rc = qti_scalar_parse(d->type, s, w2, &sc, e);
    free(s);
    if (rc < 0)
        return rc;
    *out = qti_value_single(&sc);
    qti_scalar_clear(&sc);
    return 0;
}

static int parse_lookup(const xmlNode *n, struct qti_decl *d, const struct where *w,
                        struct op_err *e)
{
    struct qti_lookup_table *t = &d->lookup;
    bool match = qti_xml_is(n, "matchTable");
    if (t->kind != QTI_LOOKUP_NONE)
        return err_set(e, OP_EINPUT, "%s: more than one lookup table", w->text);
    if (d->card != QTI_CARD_SINGLE)
        return err_set(e, OP_EINPUT, "%s: a lookup table needs a single variable", w->text);
    t->kind = match ? QTI_LOOKUP_MATCH : QTI_LOOKUP_INTERPOLATION;
    int rc = parse_target(n, "defaultValue", d, w->text, &t->default_value, e);
    if (rc < 0)
        return rc;
    const char *entry_name = match ? "matchTableEntry" : "interpolationTableEntry";
    QTI_XML_FOREACH_CHILD(c, (xmlNode *)n)
    {
        if (!qti_xml_is(c, entry_name))
            continue;
        if (t->n >= QTI_DECL_MAX_ENTRIES)
            return err_set(e, OP_EINPUT, "%s: over %d %s", w->text, QTI_DECL_MAX_ENTRIES,
                           entry_name);
        struct where we;
        snprintf(we.text, sizeof we.text, "%.200s: %s line %d", w->text, entry_name,
                 qti_xml_line(c));
        struct qti_lookup_entry le = {0};
        bool has_source = false;
        if ((rc = parse_number_attr(c, "sourceValue", &we, &has_source, &le.source, e)) < 0)
            return rc;
        if (!has_source)
            return err_set(e, OP_EINPUT, "%s: no sourceValue", we.text);
        if (match && le.source != floor(le.source))
            return err_set(e, OP_EINPUT, "%s: sourceValue must be an integer", we.text);
        if ((rc = parse_bool_attr(c, "includeBoundary", true, &we, &le.include_boundary, e)) < 0)
            return rc;
        if ((rc = parse_target(c, "targetValue", d, we.text, &le.target, e)) < 0)
            return rc;
        if (!le.target)
            return err_set(e, OP_EINPUT, "%s: no targetValue", we.text);
        t->entries = qti_grow(t->entries, t->n, sizeof *t->entries);
        t->entries[t->n++] = le;
    }
    return 0;
}

static int parse_decl(xmlNode *node, struct qti_decl *d, struct op_err *e)
{
    struct where w;
    snprintf(w.text, sizeof w.text, "%s %s line %d", qti_xml_name(node), d->identifier,
             qti_xml_line(node));
    int rc;
    if (d->kind == QTI_DECL_OUTCOME) {
        d->interpretation = qti_xml_attr(node, "interpretation");
        d->long_interpretation = qti_xml_attr(node, "longInterpretation");
        char *ext = qti_xml_attr(node, "externalScored");
        d->external_scored = ext != NULL;
        free(ext);
        if ((rc = parse_number_attr(node, "normalMaximum", &w, &d->has_normal_maximum,
                                    &d->normal_maximum, e)) < 0 ||
            (rc = parse_number_attr(node, "normalMinimum", &w, &d->has_normal_minimum,
                                    &d->normal_minimum, e)) < 0 ||
            (rc = parse_number_attr(node, "masteryValue", &w, &d->has_mastery_value,
                                    &d->mastery_value, e)) < 0)
            return rc;
    }
    if (d->kind == QTI_DECL_TEMPLATE) {
        if ((rc = parse_bool_attr(node, "paramVariable", false, &w, &d->param_variable, e)) < 0 ||
            (rc = parse_bool_attr(node, "mathVariable", false, &w, &d->math_variable, e)) < 0)
            return rc;
    }
    QTI_XML_FOREACH_CHILD(c, node)
    {
        char what[400];
        snprintf(what, sizeof what, "%s: %s", w.text, qti_xml_name(c));
        if (qti_xml_is(c, "defaultValue")) {
            if (d->default_value || d->default_interpretation)
                return err_set(e, OP_EINPUT, "%s: more than one", what);
            d->default_interpretation = qti_xml_attr(c, "interpretation");
            if ((rc = parse_values(c, d->card, d->type, what, &d->default_value, e)) < 0)
                return rc;
        } else if (qti_xml_is(c, "correctResponse") && d->kind != QTI_DECL_OUTCOME) {
            if (d->correct_response || d->correct_interpretation)
                return err_set(e, OP_EINPUT, "%s: more than one", what);
            d->correct_interpretation = qti_xml_attr(c, "interpretation");
            if ((rc = parse_values(c, d->card, d->type, what, &d->correct_response, e)) < 0)
                return rc;
        } else if (qti_xml_is(c, "mapping") && d->kind == QTI_DECL_RESPONSE) {
            if (d->mapping.present)
                return err_set(e, OP_EINPUT, "%s: more than one", what);
            if ((rc = parse_mapping(c, d, &w, e)) < 0)
                return rc;
        } else if (qti_xml_is(c, "areaMapping") && d->kind == QTI_DECL_RESPONSE) {
            if (d->area_mapping.present)
                return err_set(e, OP_EINPUT, "%s: more than one", what);
            if ((rc = parse_area_mapping(c, d, &w, e)) < 0)
                return rc;
        } else if ((qti_xml_is(c, "matchTable") || qti_xml_is(c, "interpolationTable")) &&
                   d->kind == QTI_DECL_OUTCOME) {
            if ((rc = parse_lookup(c, d, &w, e)) < 0)
                return rc;
        } else {
            return err_set(e, OP_EINPUT, "%s: unexpected element in a %s", what,
                           qti_xml_name(node));
        }
    }
    return 0;
}

/* Refuses an attribute the QTI 2.1/2.2 schema does not allow on this kind of declaration
 * (attributes in a namespace, xsi: and xml:, pass), as schema validation in other tools
 * does: a misspelt attribute would otherwise silently mean its default. */
static int check_attrs(xmlNode *node, enum qti_decl_kind kind, const char *id, struct op_err *e)
{
    static const char *const common[] = {"identifier", "cardinality", "baseType", NULL};
    static const char *const outcome[] = {
        "view",           "interpretation",        "longInterpretation",
        "normalMaximum",  "normalMinimum",         "masteryValue",
        "externalScored", "variableIdentifierRef", NULL};
    static const char *const tmpl[] = {"paramVariable", "mathVariable", NULL};
    const char *const *extra = kind == QTI_DECL_OUTCOME    ? outcome
                               : kind == QTI_DECL_TEMPLATE ? tmpl
                                                           : NULL;
    for (xmlAttr *a = node->properties; a; a = a->next) {
        if (a->ns)
            continue;
        const char *name = (const char *)a->name;
        bool ok = false;
        for (const char *const *k = common; *k && !ok; k++)
            ok = strcmp(*k, name) == 0;
        for (const char *const *k = extra; k && *k && !ok; k++)
            ok = strcmp(*k, name) == 0;
        if (!ok)
            return err_set(e, OP_EINPUT,
                           "%s %s line %d: unknown attribute \"%.100s\" (not in the QTI 2.1/2.2 "
                           "%s)",
                           qti_xml_name(node), id && *id ? id : "?", qti_xml_line(node), name,
                           qti_xml_name(node));
    }
    return 0;
}

int qti_decl_parse(xmlNode *node, struct qti_decl **out, struct op_err *e)
{
    *out = NULL;
    enum qti_decl_kind kind;
    if (qti_xml_is(node, "responseDeclaration"))
        kind = QTI_DECL_RESPONSE;
    else if (qti_xml_is(node, "outcomeDeclaration"))
        kind = QTI_DECL_OUTCOME;
    else if (qti_xml_is(node, "templateDeclaration"))
        kind = QTI_DECL_TEMPLATE;
    else
        return err_set(e, OP_EINPUT, "line %d: %s is not a variable declaration",
                       node ? qti_xml_line(node) : 0, node ? qti_xml_name(node) : "(nothing)");
    const char *en = qti_xml_name(node);
    int line = qti_xml_line(node);
    char *id = qti_xml_attr(node, "identifier");
    char *card = qti_xml_attr(node, "cardinality");
    char *bt = qti_xml_attr(node, "baseType");
    int rc = 0;
    enum qti_cardinality c = QTI_CARD_SINGLE;
    enum qti_base_type t = qti_base_type_from_name(bt);
    if (!id || !*id)
        rc = err_set(e, OP_EINPUT, "%s line %d: no identifier", en, line);
    else if (check_attrs(node, kind, id, e) < 0)
        rc = OP_EINPUT;
    else if (qti_cardinality_from_name(card, &c) < 0)
        rc = err_set(e, OP_EINPUT,
                     "%s %s line %d: cardinality \"%.50s\" is not single, multiple, "
                     "ordered or record",
                     en, id, line, card ? card : "");
    else if (c == QTI_CARD_RECORD && bt)
        rc = err_set(e, OP_EINPUT, "%s %s line %d: a record has no baseType", en, id, line);
    else if (c != QTI_CARD_RECORD && t == QTI_BT_NONE)
        rc = err_set(e, OP_EINPUT, "%s %s line %d: baseType \"%.50s\" is %s", en, id, line,
                     bt ? bt : "", bt ? "not a QTI base type" : "missing");
    else if (t == QTI_BT_FILE && (kind != QTI_DECL_RESPONSE || c != QTI_CARD_SINGLE))
        rc = err_set(e, OP_EINPUT,
                     "%s %s line %d: the file base type is supported for a response of single "
                     "cardinality only (what an upload or a drawing gives)",
                     en, id, line);
    if (rc == 0) {
        struct qti_decl *d = qti_decl_new(kind, id, c, t);
        rc = parse_decl(node, d, e);
        if (rc < 0)
            qti_decl_free(d);
        else
            *out = d;
    }
    free(id);
    free(card);
    free(bt);
    return rc;
}

/* ---- JSON ---- */

static const char *const kind_names[] = {"response", "outcome", "template"};

static json_t *mapping_to_json(bool has_lower, double lower, bool has_upper, double upper,
                               double dflt)
{
    json_t *o = json_object();
    if (has_lower)
        json_object_set_new(o, "lowerBound", json_real(lower));
    if (has_upper)
        json_object_set_new(o, "upperBound", json_real(upper));
    json_object_set_new(o, "defaultValue", json_real(dflt));
    return o;
}

json_t *qti_decl_to_json(const struct qti_decl *d, enum qti_decl_view view)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(kind_names[d->kind]));
    json_object_set_new(o, "identifier", json_string(d->identifier));
    json_object_set_new(o, "cardinality", json_string(qti_cardinality_name(d->card)));
    if (d->card != QTI_CARD_RECORD)
        json_object_set_new(o, "baseType", json_string(qti_base_type_name(d->type)));
    if (d->default_value)
        json_object_set_new(o, "defaultValue", qti_value_to_json(d->default_value));
    if (d->default_interpretation)
        json_object_set_new(o, "defaultInterpretation", json_string(d->default_interpretation));
    if (d->interpretation)
        json_object_set_new(o, "interpretation", json_string(d->interpretation));
    if (d->long_interpretation)
        json_object_set_new(o, "longInterpretation", json_string(d->long_interpretation));
    if (d->has_normal_maximum)
        json_object_set_new(o, "normalMaximum", json_real(d->normal_maximum));
    if (d->has_normal_minimum)
        json_object_set_new(o, "normalMinimum", json_real(d->normal_minimum));
    if (d->has_mastery_value)
        json_object_set_new(o, "masteryValue", json_real(d->mastery_value));
    if (d->external_scored)
        json_object_set_new(o, "externalScored", json_true());
    if (d->param_variable)
        json_object_set_new(o, "paramVariable", json_true());
    if (d->math_variable)
        json_object_set_new(o, "mathVariable", json_true());
    if (view == QTI_DECL_VIEW_PUBLIC)
        return o;

    if (d->correct_response)
        json_object_set_new(o, "correctResponse", qti_value_to_json(d->correct_response));
    if (d->correct_interpretation)
        json_object_set_new(o, "correctInterpretation", json_string(d->correct_interpretation));
    if (d->mapping.present) {
        const struct qti_mapping *m = &d->mapping;
        json_t *mj = mapping_to_json(m->has_lower, m->lower_bound, m->has_upper, m->upper_bound,
                                     m->default_value);
        json_t *entries = json_array();
        for (size_t i = 0; i < m->n; i++) {
            char *key = qti_scalar_format(&m->entries[i].key);
            json_t *ej = json_object();
            json_object_set_new(ej, "mapKey", json_string(key));
            json_object_set_new(ej, "mappedValue", json_real(m->entries[i].value));
            if (!m->entries[i].case_sensitive)
                json_object_set_new(ej, "caseSensitive", json_false());
            json_array_append_new(entries, ej);
            free(key);
        }
        json_object_set_new(mj, "entries", entries);
        json_object_set_new(o, "mapping", mj);
    }
    if (d->area_mapping.present) {
        const struct qti_area_mapping *m = &d->area_mapping;
        json_t *mj = mapping_to_json(m->has_lower, m->lower_bound, m->has_upper, m->upper_bound,
                                     m->default_value);
        json_t *entries = json_array();
        for (size_t i = 0; i < m->n; i++) {
            json_t *ej = json_object(), *cj = json_array();
            json_object_set_new(ej, "shape", json_string(qti_shape_name(m->entries[i].shape)));
            for (size_t k = 0; k < m->entries[i].ncoords; k++)
                json_array_append_new(cj, json_real(m->entries[i].coords[k]));
            json_object_set_new(ej, "coords", cj);
            json_object_set_new(ej, "mappedValue", json_real(m->entries[i].value));
            json_array_append_new(entries, ej);
        }
        json_object_set_new(mj, "entries", entries);
        json_object_set_new(o, "areaMapping", mj);
    }
    if (d->lookup.kind != QTI_LOOKUP_NONE) {
        const struct qti_lookup_table *t = &d->lookup;
        json_t *tj = json_object(), *entries = json_array();
        json_object_set_new(
            tj, "type",
            json_string(t->kind == QTI_LOOKUP_MATCH ? "matchTable" : "interpolationTable"));
        if (t->default_value)
            json_object_set_new(tj, "defaultValue", qti_value_to_json(t->default_value));
        for (size_t i = 0; i < t->n; i++) {
            json_t *ej = json_object();
            json_object_set_new(ej, "sourceValue", json_real(t->entries[i].source));
            if (t->kind == QTI_LOOKUP_INTERPOLATION)
                json_object_set_new(ej, "includeBoundary",
                                    json_boolean(t->entries[i].include_boundary));
            json_object_set_new(ej, "targetValue", qti_value_to_json(t->entries[i].target));
            json_array_append_new(entries, ej);
        }
        json_object_set_new(tj, "entries", entries);
        json_object_set_new(o, "lookupTable", tj);
    }
    return o;
}

static int json_num(const json_t *o, const char *key, bool *has, double *out, const char *what,
                    struct op_err *e)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_number(v))
        return err_set(e, OP_EINPUT, "%s: %s must be a number", what, key);
    if (has)
        *has = true;
    *out = json_number_value(v);
    return 0;
}

static int json_bool(const json_t *o, const char *key, bool dflt, bool *out, const char *what,
                     struct op_err *e)
{
    json_t *v = json_object_get(o, key);
    *out = dflt;
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return err_set(e, OP_EINPUT, "%s: %s must be true or false", what, key);
    *out = json_is_true(v);
    return 0;
}

static char *json_str_dup(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? qti_xstrdup(s) : NULL;
}

static int entries_of(const json_t *m, const char *what, const json_t **arr, struct op_err *e)
{
    *arr = json_object_get(m, "entries");
    if (!*arr)
        return 0;
    if (!json_is_array(*arr))
        return err_set(e, OP_EINPUT, "%s: entries must be an array", what);
    if (json_array_size(*arr) > QTI_DECL_MAX_ENTRIES)
        return err_set(e, OP_EINPUT, "%s: over %d entries", what, QTI_DECL_MAX_ENTRIES);
    return 0;
}

static int mapping_from_json(const json_t *mj, struct qti_decl *d, const char *what,
                             struct op_err *e)
{
    struct qti_mapping *m = &d->mapping;
    int rc;
    const json_t *arr;
    if (!json_is_object(mj))
        return err_set(e, OP_EINPUT, "%s: mapping must be an object", what);
    if (d->card == QTI_CARD_RECORD)
        return err_set(e, OP_EINPUT, "%s: a record variable cannot have a mapping", what);
    m->present = true;
    if ((rc = json_num(mj, "lowerBound", &m->has_lower, &m->lower_bound, what, e)) < 0 ||
        (rc = json_num(mj, "upperBound", &m->has_upper, &m->upper_bound, what, e)) < 0 ||
        (rc = json_num(mj, "defaultValue", NULL, &m->default_value, what, e)) < 0 ||
        (rc = entries_of(mj, what, &arr, e)) < 0)
        return rc;
    m->entries = qti_xcalloc(json_array_size(arr), sizeof *m->entries);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *ej = json_array_get(arr, i);
        const char *key = json_string_value(json_object_get(ej, "mapKey"));
        struct qti_map_entry me = {0};
        bool has = false;
        if (!key)
            return err_set(e, OP_EINPUT, "%s: mapping entry %zu: no mapKey", what, i + 1);
        if ((rc = json_num(ej, "mappedValue", &has, &me.value, what, e)) < 0 ||
            (rc = json_bool(ej, "caseSensitive", true, &me.case_sensitive, what, e)) < 0)
            return rc;
        if (!has)
            return err_set(e, OP_EINPUT, "%s: mapping entry %zu: no mappedValue", what, i + 1);
        if ((rc = qti_scalar_parse(d->type, key, what, &me.key, e)) < 0)
            return rc;
        m->entries[m->n++] = me;
    }
    return 0;
}

static int area_mapping_from_json(const json_t *mj, struct qti_decl *d, const char *what,
                                  struct op_err *e)
{
    struct qti_area_mapping *m = &d->area_mapping;
    int rc;
    const json_t *arr;
    if (!json_is_object(mj))
        return err_set(e, OP_EINPUT, "%s: areaMapping must be an object", what);
    if (d->type != QTI_BT_POINT)
        return err_set(e, OP_EINPUT, "%s: an areaMapping needs a point variable", what);
    m->present = true;
    if ((rc = json_num(mj, "lowerBound", &m->has_lower, &m->lower_bound, what, e)) < 0 ||
        (rc = json_num(mj, "upperBound", &m->has_upper, &m->upper_bound, what, e)) < 0 ||
        (rc = json_num(mj, "defaultValue", NULL, &m->default_value, what, e)) < 0 ||
        (rc = entries_of(mj, what, &arr, e)) < 0)
        return rc;
    m->entries = qti_xcalloc(json_array_size(arr), sizeof *m->entries);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *ej = json_array_get(arr, i);
        struct qti_area_entry *ae = &m->entries[m->n];
        bool has = false;
        const json_t *cj = json_object_get(ej, "coords");
        if (qti_shape_from_name(json_string_value(json_object_get(ej, "shape")), &ae->shape) < 0)
            return err_set(e, OP_EINPUT, "%s: area entry %zu: unknown shape", what, i + 1);
        if (cj && (!json_is_array(cj) || json_array_size(cj) > QTI_SHAPE_MAX_COORDS))
            return err_set(e, OP_EINPUT,
                           "%s: area entry %zu: coords must be an array of at most "
                           "%d numbers",
                           what, i + 1, QTI_SHAPE_MAX_COORDS);
        size_t nc = json_array_size(cj);
        ae->coords = qti_xcalloc(nc, sizeof(double));
        m->n++; /* owned by the declaration from here, freed on any failure below */
        for (size_t k = 0; k < nc; k++) {
            if (!json_is_number(json_array_get(cj, k)))
                return err_set(e, OP_EINPUT, "%s: area entry %zu: coords must be numbers", what,
                               i + 1);
            ae->coords[k] = json_number_value(json_array_get(cj, k));
        }
        ae->ncoords = nc;
        if ((rc = check_coords(ae->shape, nc, what, e)) < 0 ||
            (rc = json_num(ej, "mappedValue", &has, &ae->value, what, e)) < 0)
            return rc;
        if (!has)
            return err_set(e, OP_EINPUT, "%s: area entry %zu: no mappedValue", what, i + 1);
    }
    return 0;
}

static int lookup_from_json(const json_t *tj, struct qti_decl *d, const char *what,
                            struct op_err *e)
{
    struct qti_lookup_table *t = &d->lookup;
    const char *type = json_string_value(json_object_get(tj, "type"));
    const json_t *arr;
    int rc;
    if (!type || (strcmp(type, "matchTable") && strcmp(type, "interpolationTable")))
        return err_set(e, OP_EINPUT,
                       "%s: lookupTable type must be matchTable or "
                       "interpolationTable",
                       what);
    if (d->card != QTI_CARD_SINGLE)
        return err_set(e, OP_EINPUT, "%s: a lookup table needs a single variable", what);
    t->kind = strcmp(type, "matchTable") == 0 ? QTI_LOOKUP_MATCH : QTI_LOOKUP_INTERPOLATION;
    if ((rc = qti_value_from_json(d->type, QTI_CARD_SINGLE, json_object_get(tj, "defaultValue"),
                                  what, &t->default_value, e)) < 0 ||
        (rc = entries_of(tj, what, &arr, e)) < 0)
        return rc;
    t->entries = qti_xcalloc(json_array_size(arr), sizeof *t->entries);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *ej = json_array_get(arr, i);
        struct qti_lookup_entry *le = &t->entries[t->n];
        bool has = false;
        if ((rc = json_num(ej, "sourceValue", &has, &le->source, what, e)) < 0 ||
            (rc = json_bool(ej, "includeBoundary", true, &le->include_boundary, what, e)) < 0)
            return rc;
        if (!has)
            return err_set(e, OP_EINPUT, "%s: table entry %zu: no sourceValue", what, i + 1);
        if ((rc = qti_value_from_json(d->type, QTI_CARD_SINGLE, json_object_get(ej, "targetValue"),
                                      what, &le->target, e)) < 0)
            return rc;
        t->n++;
        if (!le->target)
            return err_set(e, OP_EINPUT, "%s: table entry %zu: no targetValue", what, i + 1);
    }
    return 0;
}

static int decl_from_json(const json_t *j, struct qti_decl *d, const char *what, struct op_err *e)
{
    int rc;
    json_t *v;
    if ((v = json_object_get(j, "defaultValue")) &&
        (rc = qti_value_from_json(d->type, d->card, v, what, &d->default_value, e)) < 0)
        return rc;
    if ((v = json_object_get(j, "correctResponse")) &&
        (rc = qti_value_from_json(d->type, d->card, v, what, &d->correct_response, e)) < 0)
        return rc;
    d->default_interpretation = json_str_dup(j, "defaultInterpretation");
    d->correct_interpretation = json_str_dup(j, "correctInterpretation");
    d->interpretation = json_str_dup(j, "interpretation");
    d->long_interpretation = json_str_dup(j, "longInterpretation");
    if ((rc = json_num(j, "normalMaximum", &d->has_normal_maximum, &d->normal_maximum, what, e)) <
            0 ||
        (rc = json_num(j, "normalMinimum", &d->has_normal_minimum, &d->normal_minimum, what, e)) <
            0 ||
        (rc = json_num(j, "masteryValue", &d->has_mastery_value, &d->mastery_value, what, e)) < 0 ||
        (rc = json_bool(j, "externalScored", false, &d->external_scored, what, e)) < 0 ||
        (rc = json_bool(j, "paramVariable", false, &d->param_variable, what, e)) < 0 ||
        (rc = json_bool(j, "mathVariable", false, &d->math_variable, what, e)) < 0)
        return rc;
    if ((v = json_object_get(j, "mapping")) && (rc = mapping_from_json(v, d, what, e)) < 0)
        return rc;
    if ((v = json_object_get(j, "areaMapping")) && (rc = area_mapping_from_json(v, d, what, e)) < 0)
        return rc;
    if ((v = json_object_get(j, "lookupTable")) && (rc = lookup_from_json(v, d, what, e)) < 0)
        return rc;
    return 0;
}

int qti_decl_from_json(const json_t *j, struct qti_decl **out, struct op_err *e)
{
    *out = NULL;
    if (!json_is_object(j))
        return err_set(e, OP_EINPUT, "declaration: expected a JSON object");
    const char *kind = json_string_value(json_object_get(j, "kind"));
    const char *id = json_string_value(json_object_get(j, "identifier"));
    const char *card = json_string_value(json_object_get(j, "cardinality"));
    const char *btn = json_string_value(json_object_get(j, "baseType"));
    int k = -1;
    for (int i = 0; kind && i < 3; i++)
        if (strcmp(kind, kind_names[i]) == 0)
            k = i;
    enum qti_cardinality c;
    enum qti_base_type t = qti_base_type_from_name(btn);
    if (!id || !*id)
        return err_set(e, OP_EINPUT, "declaration: no identifier");
    char what[300];
    snprintf(what, sizeof what, "declaration %.200s", id);
    if (k < 0)
        return err_set(e, OP_EINPUT, "%s: kind must be response, outcome or template", what);
    if (qti_cardinality_from_name(card, &c) < 0)
        return err_set(e, OP_EINPUT, "%s: unknown cardinality", what);
    if (c != QTI_CARD_RECORD && (t == QTI_BT_NONE || (t == QTI_BT_FILE && (k != QTI_DECL_RESPONSE ||
                                                                           c != QTI_CARD_SINGLE))))
        return err_set(e, OP_EINPUT, "%s: missing or unsupported baseType", what);
    struct qti_decl *d = qti_decl_new((enum qti_decl_kind)k, id, c, t);
    int rc = decl_from_json(j, d, what, e);
    if (rc < 0) {
        qti_decl_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* ---- mapping operators ---- */

static double apply_bounds(double v, bool has_lower, double lower, bool has_upper, double upper)
{
    if (has_lower && v < lower)
        v = lower;
    if (has_upper && v > upper)
        v = upper;
    return v;
}

static bool key_matches(const struct qti_map_entry *me, const struct qti_scalar *s)
{
    if (!me->case_sensitive && me->key.type == s->type &&
        (s->type == QTI_BT_STRING || s->type == QTI_BT_IDENTIFIER || s->type == QTI_BT_URI))
        return strcasecmp(me->key.u.s, s->u.s) == 0;
    return qti_scalar_equal(&me->key, s);
}

static double map_one(const struct qti_mapping *m, const struct qti_scalar *s)
{
    for (size_t i = 0; i < m->n; i++)
        if (key_matches(&m->entries[i], s))
            return m->entries[i].value;
    return m->default_value;
}

int qti_decl_map_response(const struct qti_decl *d, const struct qti_value *v, double *out,
                          struct op_err *e)
{
    *out = 0;
    if (!d->mapping.present)
        return err_set(e, OP_EINPUT, "mapResponse: %s has no mapping", d->identifier);
    if (d->card == QTI_CARD_RECORD)
        return err_set(e, OP_EINPUT, "mapResponse: %s is a record", d->identifier);
    const struct qti_mapping *m = &d->mapping;
    double sum = 0;
    if (!qti_value_is_null(v)) {
        if (v->card == QTI_CARD_RECORD || v->type != d->type)
            return err_set(e, OP_EINPUT, "mapResponse: the value of %s is not a %s", d->identifier,
                           qti_base_type_name(d->type));
        /* each distinct value counts once: {B, B, C} maps like {B, C} */
        for (size_t i = 0; i < v->n; i++) {
            bool seen = false;
            for (size_t k = 0; k < i && !seen; k++)
                seen = qti_scalar_equal(&v->items[k], &v->items[i]);
            if (!seen)
                sum += map_one(m, &v->items[i]);
        }
    }
    *out = apply_bounds(sum, m->has_lower, m->lower_bound, m->has_upper, m->upper_bound);
    return 0;
}

int qti_decl_map_response_point(const struct qti_decl *d, const struct qti_value *v, double *out,
                                struct op_err *e)
{
    *out = 0;
    if (!d->area_mapping.present)
        return err_set(e, OP_EINPUT, "mapResponsePoint: %s has no areaMapping", d->identifier);
    const struct qti_area_mapping *m = &d->area_mapping;
    double sum = 0;
    if (!qti_value_is_null(v)) {
        if (v->card == QTI_CARD_RECORD || v->type != QTI_BT_POINT)
            return err_set(e, OP_EINPUT, "mapResponsePoint: the value of %s is not a point",
                           d->identifier);
        bool *used = qti_xcalloc(m->n, sizeof *used);
        for (size_t i = 0; i < v->n; i++) {
            double x = (double)v->items[i].u.point.x, y = (double)v->items[i].u.point.y;
            size_t k = 0;
            while (k < m->n && !qti_shape_contains(m->entries[k].shape, m->entries[k].coords,
                                                   m->entries[k].ncoords, x, y))
                k++;
            if (k == m->n)
                sum += m->default_value;
            else if (!used[k]) {
                used[k] = true;
                sum += m->entries[k].value;
            }
        }
        free(used);
    }
    *out = apply_bounds(sum, m->has_lower, m->lower_bound, m->has_upper, m->upper_bound);
    return 0;
}
