/*
 * qti_testctx.h - a small variable store for the QTI engine tests: declarations and values
 * by identifier, a seeded PRNG, and (for test-level operators) a list of items with states,
 * sections, categories and weights. Header-only so that each test program stays one file.
 */
#ifndef OUTPOST_TESTS_QTI_TESTCTX_H
#define OUTPOST_TESTS_QTI_TESTCTX_H

#include <libxml/parser.h>
#include <string.h>

#include "testutil.h"

#include "qti/decl.h"
#include "qti/expr.h"
#include "qti/rules.h"
#include "qti/value.h"

#define TCTX_MAX 64

struct tctx_item {
    struct qti_item_state st;
    const char *section;
    const char *category;
    const char *weight_id;
    double weight;
};

struct tctx {
    struct qti_decl *decls[TCTX_MAX];
    struct qti_value *vals[TCTX_MAX];
    size_t n;
    uint64_t rng;
    bool test_level;
    struct tctx_item items[16];
    size_t nitems;
    int resets;
};

static inline int tctx_find(const struct tctx *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->decls[i]->identifier, id) == 0)
            return (int)i;
    return -1;
}

static inline int tctx_get(void *ud, const char *id, const struct qti_value **out)
{
    struct tctx *c = ud;
    int i = tctx_find(c, id);
    if (i < 0)
        return -1;
    *out = c->vals[i];
    return 0;
}

static inline const struct qti_decl *tctx_decl(void *ud, const char *id)
{
    struct tctx *c = ud;
    int i = tctx_find(c, id);
    return i < 0 ? NULL : c->decls[i];
}

static inline uint64_t tctx_random(void *ud)
{
    struct tctx *c = ud;
    /* splitmix64 */
    uint64_t z = (c->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline int tctx_subset(void *ud, const struct qti_expr *x, qti_item_fn each, void *arg,
                              struct op_err *e)
{
    struct tctx *c = ud;
    for (size_t i = 0; i < c->nitems; i++) {
        const struct tctx_item *it = &c->items[i];
        if (x->section_identifier && strcmp(x->section_identifier, it->section) != 0)
            continue;
        bool in = x->n_include == 0;
        for (size_t k = 0; k < x->n_include; k++)
            in = in || (it->category && strcmp(it->category, x->include_category[k]) == 0);
        for (size_t k = 0; k < x->n_exclude; k++)
            in = in && !(it->category && strcmp(it->category, x->exclude_category[k]) == 0);
        if (!in)
            continue;
        int rc = each(arg, &it->st, e);
        if (rc)
            return rc;
    }
    return 0;
}

static inline int tctx_weight(void *ud, const char *ref, const char *wid, double *out)
{
    struct tctx *c = ud;
    for (size_t i = 0; i < c->nitems; i++)
        if (strcmp(c->items[i].st.ref, ref) == 0 && c->items[i].weight_id &&
            strcmp(c->items[i].weight_id, wid) == 0) {
            *out = c->items[i].weight;
            return 0;
        }
    return -1;
}

static inline int tctx_set(void *ud, enum qti_set_what what, const char *id, struct qti_value *v,
                           struct op_err *e)
{
    struct tctx *c = ud;
    int i = tctx_find(c, id);
    if (i < 0) {
        qti_value_free(v);
        return err_set(e, OP_EINPUT, "test store: no %s", id);
    }
    struct qti_value **slot = what == QTI_SET_VALUE     ? &c->vals[i]
                              : what == QTI_SET_CORRECT ? &c->decls[i]->correct_response
                                                        : &c->decls[i]->default_value;
    qti_value_free(*slot);
    *slot = v;
    return 0;
}

static inline int tctx_reset(void *ud, struct op_err *e)
{
    struct tctx *c = ud;
    (void)e;
    c->resets++;
    for (size_t i = 0; i < c->n; i++)
        if (c->decls[i]->kind == QTI_DECL_TEMPLATE) {
            qti_value_free(c->vals[i]);
            qti_value_copy(c->decls[i]->default_value, &c->vals[i]);
        }
    return 0;
}

static inline struct qti_eval_ops tctx_ops(const struct tctx *c)
{
    struct qti_eval_ops ops = {tctx_get, tctx_decl, NULL, NULL, tctx_random};
    if (c->test_level) {
        ops.item_subset = tctx_subset;
        ops.weight = tctx_weight;
    }
    return ops;
}

static inline void tctx_free(struct tctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        qti_decl_free(c->decls[i]);
        qti_value_free(c->vals[i]);
    }
    c->n = 0;
}

/* Parses an XML fragment into a new document (caller frees); fails the test on bad XML. */
static inline xmlDoc *tctx_xml(const char *xml)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "test.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    if (!doc)
        fail_msg("test XML does not parse: %s", xml);
    return doc;
}

/* Declares a variable from its QTI XML declaration; its value starts as its default. */
static inline void tctx_declare(struct tctx *c, const char *xml)
{
    xmlDoc *doc = tctx_xml(xml);
    struct op_err e = {0};
    struct qti_decl *d;
    if (qti_decl_parse(xmlDocGetRootElement(doc), &d, &e) != 0)
        fail_msg("declaration does not parse: %s", e.msg);
    xmlFreeDoc(doc);
    assert_true(c->n < TCTX_MAX);
    c->decls[c->n] = d;
    qti_value_copy(d->default_value, &c->vals[c->n]);
    c->n++;
}

/* Sets a variable from its JSON form. */
static inline void tctx_set_json(struct tctx *c, const char *id, const char *json)
{
    int i = tctx_find(c, id);
    assert_true(i >= 0);
    json_error_t je;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &je);
    assert_non_null(j);
    struct op_err e = {0};
    qti_value_free(c->vals[i]);
    c->vals[i] = NULL;
    if (qti_value_from_json(c->decls[i]->type, c->decls[i]->card, j, id, &c->vals[i], &e) != 0)
        fail_msg("value does not fit: %s", e.msg);
    json_decref(j);
}

static inline const struct qti_value *tctx_value(struct tctx *c, const char *id)
{
    int i = tctx_find(c, id);
    assert_true(i >= 0);
    return c->vals[i];
}

/* Parses an expression; 0 or the parse error code (message in e). */
static inline int tctx_parse_expr(const char *xml, struct qti_expr **x, struct op_err *e)
{
    xmlDoc *doc = tctx_xml(xml);
    int rc = qti_expr_parse(xmlDocGetRootElement(doc), x, e);
    xmlFreeDoc(doc);
    return rc;
}

/*
 * Evaluates an expression given as XML, then checks that its JSON form loads back and
 * evaluates to the same value with the same random seed. Returns the value (caller frees).
 */
static inline struct qti_value *tctx_eval(struct tctx *c, const char *xml)
{
    struct qti_expr *x = NULL, *y = NULL;
    struct op_err e = {0};
    if (tctx_parse_expr(xml, &x, &e) != 0)
        fail_msg("expression does not parse: %s", e.msg);
    struct qti_eval_ops ops = tctx_ops(c);
    uint64_t seed = c->rng;
    struct qti_value *v = NULL, *w = NULL;
    if (qti_expr_eval(x, &ops, c, &v, &e) != 0)
        fail_msg("expression does not evaluate: %s", e.msg);
    json_t *j = qti_expr_to_json(x);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    json_error_t je;
    json_t *j2 = json_loads(text, 0, &je);
    if (qti_expr_from_json(j2, &y, &e) != 0)
        fail_msg("JSON form does not load back: %s (%s)", e.msg, text);
    c->rng = seed;
    if (qti_expr_eval(y, &ops, c, &w, &e) != 0)
        fail_msg("JSON form does not evaluate: %s", e.msg);
    if (!qti_value_equal(v, w))
        fail_msg("JSON form evaluates differently: %s", text);
    /* and the JSON form of the loaded tree is the same JSON */
    json_t *j3 = qti_expr_to_json(y);
    char *text2 = json_dumps(j3, JSON_COMPACT);
    if (strcmp(text, text2) != 0)
        fail_msg("JSON form changes on a round trip:\n%s\n%s", text, text2);
    free(text);
    free(text2);
    json_decref(j2);
    json_decref(j3);
    qti_value_free(w);
    qti_expr_free(x);
    qti_expr_free(y);
    return v;
}

/* Expects parsing or evaluation to fail with a message containing `needle`. */
static inline void tctx_expect_error(struct tctx *c, const char *xml, const char *needle)
{
    struct qti_expr *x = NULL;
    struct op_err e = {0};
    int rc = tctx_parse_expr(xml, &x, &e);
    if (rc == 0) {
        struct qti_eval_ops ops = tctx_ops(c);
        struct qti_value *v = NULL;
        rc = qti_expr_eval(x, &ops, c, &v, &e);
        qti_value_free(v);
        qti_expr_free(x);
    }
    if (rc == 0)
        fail_msg("expected an error containing \"%s\"", needle);
    if (!strstr(e.msg, needle))
        fail_msg("error \"%s\" does not contain \"%s\"", e.msg, needle);
}

static inline void tctx_assert_bool(struct qti_value *v, bool b)
{
    if (!v)
        fail_msg("expected %s, got NULL", b ? "true" : "false");
    assert_int_equal(v->card, QTI_CARD_SINGLE);
    assert_int_equal(v->type, QTI_BT_BOOLEAN);
    assert_int_equal(v->items[0].u.b, b);
    qti_value_free(v);
}

static inline void tctx_assert_int(struct qti_value *v, int64_t i)
{
    if (!v)
        fail_msg("expected %lld, got NULL", (long long)i);
    assert_int_equal(v->card, QTI_CARD_SINGLE);
    assert_int_equal(v->type, QTI_BT_INTEGER);
    assert_int_equal(v->items[0].u.i, i);
    qti_value_free(v);
}

static inline void tctx_assert_float(struct qti_value *v, double f)
{
    if (!v)
        fail_msg("expected %g, got NULL", f);
    assert_int_equal(v->card, QTI_CARD_SINGLE);
    if (v->type != QTI_BT_FLOAT)
        fail_msg("expected a float %g, got a %s", f, qti_base_type_name(v->type));
    assert_float_equal(v->items[0].u.f, f, 1e-9);
    qti_value_free(v);
}

static inline void tctx_assert_null(struct qti_value *v)
{
    if (v) {
        json_t *j = qti_value_to_json(v);
        char *s = json_dumps(j, JSON_ENCODE_ANY);
        fail_msg("expected NULL, got %s", s);
    }
}

/* Asserts the JSON form of v (compact) and frees v. */
static inline void tctx_assert_json(struct qti_value *v, const char *json)
{
    json_t *j = qti_value_to_json(v);
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    if (strcmp(s, json) != 0)
        fail_msg("expected %s, got %s", json, s);
    free(s);
    json_decref(j);
    qti_value_free(v);
}

#endif
