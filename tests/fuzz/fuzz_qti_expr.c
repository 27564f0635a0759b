/*
 * fuzz_qti_expr.c - any XML fragment given as a QTI expression (or declaration, or processing
 * rules) must be refused with an error or parse, serialise to JSON, load back and evaluate
 * against an empty context without crashing, leaking or running unbounded.
 */
#include <libxml/parser.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qti/decl.h"
#include "qti/expr.h"
#include "qti/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no_get(void *ud, const char *id, const struct qti_value **out)
{
    (void)ud;
    (void)id;
    *out = NULL;
    return -1;
}

static const struct qti_decl *no_decl(void *ud, const char *id)
{
    (void)ud;
    (void)id;
    return NULL;
}

static uint64_t counter_random(void *ud)
{
    uint64_t *s = ud;
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s;
}

static int no_set(void *ud, enum qti_set_what what, const char *id, struct qti_value *v,
                  struct op_err *e)
{
    (void)ud;
    (void)what;
    (void)id;
    qti_value_free(v);
    return err_set(e, OP_EINPUT, "no variables here");
}

static void fuzz_expr(xmlNode *root)
{
    struct qti_expr *x = NULL, *y = NULL;
    struct op_err e = {0};
    if (qti_expr_parse(root, &x, &e) != 0)
        return;
    json_t *j = qti_expr_to_json(x);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    json_error_t je;
    json_t *j2 = text ? json_loads(text, 0, &je) : NULL;
    if (!j2 || qti_expr_from_json(j2, &y, &e) != 0)
        abort(); /* what we wrote must load back */
    uint64_t seed = 1;
    struct qti_eval_ops ops = {no_get, no_decl, NULL, NULL, counter_random};
    struct qti_value *v = NULL;
    if (qti_expr_eval(y, &ops, &seed, &v, &e) == 0) {
        json_t *vj = qti_value_to_json(v);
        json_decref(vj);
    }
    qti_value_free(v);
    json_decref(j2);
    free(text);
    qti_expr_free(x);
    qti_expr_free(y);
}

static void fuzz_rules(xmlNode *root)
{
    struct qti_rules *r = NULL, *r2 = NULL;
    struct op_err e = {0};
    if (qti_rules_parse(root, &r, &e) != 0)
        return;
    json_t *j = qti_rules_to_json(r);
    if (qti_rules_from_json(j, &r2, &e) != 0)
        abort();
    uint64_t seed = 1;
    struct qti_eval_ops ops = {no_get, no_decl, NULL, NULL, counter_random};
    enum qti_run_end end;
    (void)qti_rules_run(r2, &ops, &seed, no_set, &end, &e);
    json_decref(j);
    qti_rules_free(r);
    qti_rules_free(r2);
}

static void fuzz_decl(xmlNode *root)
{
    struct qti_decl *d = NULL, *d2 = NULL;
    struct op_err e = {0};
    if (qti_decl_parse(root, &d, &e) != 0)
        return;
    json_t *j = qti_decl_to_json(d, QTI_DECL_VIEW_SCORING);
    if (qti_decl_from_json(j, &d2, &e) != 0)
        abort();
    double out;
    (void)qti_decl_map_response(d2, d2->correct_response, &out, &e);
    json_decref(j);
    qti_decl_free(d);
    qti_decl_free(d2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1000000)
        return 0;
    xmlDoc *doc = xmlReadMemory((const char *)data, (int)size, "fuzz.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                    XML_PARSE_NOBLANKS);
    if (!doc)
        return 0;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root) {
        const char *name = (const char *)root->name;
        if (strstr(name, "Processing"))
            fuzz_rules(root);
        else if (strstr(name, "Declaration"))
            fuzz_decl(root);
        else
            fuzz_expr(root);
    }
    xmlFreeDoc(doc);
    return 0;
}
