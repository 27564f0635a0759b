/*
 * test_qti_rules.c - response, template and outcome processing as QTI 2.1/2.2 defines them:
 * the standard templates on correct, partly correct, wrong and empty responses, conditions,
 * exits, lookup tables, template constraints, type checks of the targets, the JSON form,
 * bounds on hostile input. The IMS sample items' processing is in test_qti_ims_items.c.
 */
#include "qti_testctx.h"

#include <stdio.h>
#include <stdlib.h>

#define SCORE_DECL "<outcomeDeclaration identifier='SCORE' cardinality='single' baseType='float'/>"

static int parse_rules(const char *xml, struct qti_rules **r, struct op_err *e)
{
    xmlDoc *doc = tctx_xml(xml);
    int rc = qti_rules_parse(xmlDocGetRootElement(doc), r, e);
    xmlFreeDoc(doc);
    return rc;
}

/* Runs rules given as XML, then again from their JSON form on a copy of the starting values,
 * and checks that both runs leave every variable the same. */
static enum qti_run_end run_xml(struct tctx *c, const char *xml)
{
    struct qti_rules *r = NULL, *r2 = NULL;
    struct op_err e = {0};
    if (parse_rules(xml, &r, &e) != 0)
        fail_msg("rules do not parse: %s", e.msg);
    json_t *j = qti_rules_to_json(r);
    if (qti_rules_from_json(j, &r2, &e) != 0)
        fail_msg("JSON form does not load: %s", e.msg);
    json_decref(j);

    /* run the JSON form first on a copy of the store */
    struct tctx copy = *c;
    for (size_t i = 0; i < c->n; i++) {
        qti_decl_copy(c->decls[i], &copy.decls[i]);
        qti_value_copy(c->vals[i], &copy.vals[i]);
    }
    struct qti_eval_ops ops = tctx_ops(c);
    enum qti_run_end end1, end2;
    if (qti_rules_run(r2, &ops, &copy, tctx_set, &end2, &e) != 0)
        fail_msg("JSON form does not run: %s", e.msg);
    if (qti_rules_run(r, &ops, c, tctx_set, &end1, &e) != 0)
        fail_msg("rules do not run: %s", e.msg);
    assert_int_equal(end1, end2);
    for (size_t i = 0; i < c->n; i++)
        if (!qti_value_equal(c->vals[i], copy.vals[i]))
            fail_msg("JSON form gives %s a different value", c->decls[i]->identifier);
    tctx_free(&copy);
    qti_rules_free(r);
    qti_rules_free(r2);
    return end1;
}

static void expect_run_error(struct tctx *c, const char *xml, const char *needle)
{
    struct qti_rules *r = NULL;
    struct op_err e = {0};
    int rc = parse_rules(xml, &r, &e);
    if (rc == 0) {
        struct qti_eval_ops ops = tctx_ops(c);
        rc = qti_rules_run(r, &ops, c, tctx_set, NULL, &e);
        qti_rules_free(r);
    }
    if (rc == 0)
        fail_msg("expected an error containing \"%s\"", needle);
    if (!strstr(e.msg, needle))
        fail_msg("error \"%s\" does not contain \"%s\"", e.msg, needle);
}

static double score(struct tctx *c)
{
    const struct qti_value *v = tctx_value(c, "SCORE");
    if (!v)
        fail_msg("SCORE is NULL");
    assert_int_equal(v->type, QTI_BT_FLOAT);
    return v->items[0].u.f;
}

#define RP(tpl)          "<responseProcessing template='" tpl "'/>"
#define MATCH_CORRECT_21 RP("http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct")
#define MAP_RESPONSE_22                                                                            \
    RP("http://www.imsglobal.org/question/qti_v2p2/rptemplates/map_response.xml")
#define MAP_POINT_21 RP("http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response_point")

/* ---- match_correct ---- */

static void choice_item(struct tctx *c)
{
    tctx_declare(c, "<responseDeclaration identifier='RESPONSE' cardinality='multiple' "
                    "baseType='identifier'><correctResponse><value>A</value><value>C</value>"
                    "</correctResponse></responseDeclaration>");
    tctx_declare(c, SCORE_DECL);
}

static void test_match_correct_scores_1_for_the_correct_response(void **state)
{
    (void)state;
    struct tctx c = {0};
    choice_item(&c);
    tctx_set_json(&c, "RESPONSE", "[\"C\", \"A\"]");
    run_xml(&c, MATCH_CORRECT_21);
    assert_float_equal(score(&c), 1, 0);
    tctx_free(&c);
}

static void test_match_correct_scores_0_for_a_partly_correct_response(void **state)
{
    (void)state;
    struct tctx c = {0};
    choice_item(&c);
    tctx_set_json(&c, "RESPONSE", "[\"A\"]");
    run_xml(&c, MATCH_CORRECT_21);
    assert_float_equal(score(&c), 0, 0);
    tctx_free(&c);
}

static void test_match_correct_scores_0_for_a_wrong_response(void **state)
{
    (void)state;
    struct tctx c = {0};
    choice_item(&c);
    tctx_set_json(&c, "RESPONSE", "[\"B\", \"D\"]");
    run_xml(&c, MATCH_CORRECT_21);
    assert_float_equal(score(&c), 0, 0);
    tctx_free(&c);
}

static void test_match_correct_scores_0_for_no_response(void **state)
{
    (void)state;
    struct tctx c = {0};
    choice_item(&c);
    run_xml(&c, MATCH_CORRECT_21);
    assert_float_equal(score(&c), 0, 0);
    tctx_free(&c);
}

static void test_match_correct_fills_an_integer_score(void **state)
{
    (void)state;
    struct tctx c = {0};
    tctx_declare(&c, "<responseDeclaration identifier='RESPONSE' cardinality='single' "
                     "baseType='identifier'><correctResponse><value>A</value></correctResponse>"
                     "</responseDeclaration>");
    tctx_declare(&c, "<outcomeDeclaration identifier='SCORE' cardinality='single' "
                     "baseType='integer'/>");
    tctx_set_json(&c, "RESPONSE", "\"A\"");
    run_xml(&c, MATCH_CORRECT_21);
    assert_int_equal(tctx_value(&c, "SCORE")->items[0].u.i, 1);
    tctx_free(&c);
}

/* ---- map_response ---- */

static void mapped_item(struct tctx *c)
{
    tctx_declare(c, "<responseDeclaration identifier='RESPONSE' cardinality='multiple' "
                    "baseType='directedPair'><correctResponse><value>A X</value><value>B Y</value>"
                    "</correctResponse><mapping defaultValue='-1' lowerBound='0' upperBound='3'>"
                    "<mapEntry mapKey='A X' mappedValue='2'/><mapEntry mapKey='B Y' "
                    "mappedValue='1'/></mapping></responseDeclaration>");
    tctx_declare(c, SCORE_DECL);
}

static void test_map_response_template_on_correct_response(void **state)
{
    (void)state;
    struct tctx c = {0};
    mapped_item(&c);
    tctx_set_json(&c, "RESPONSE", "[\"A X\", \"B Y\"]");
    run_xml(&c, MAP_RESPONSE_22);
    assert_float_equal(score(&c), 3, 1e-12);
    tctx_free(&c);
}

static void test_map_response_template_on_partly_correct_response(void **state)
{
    (void)state;
    struct tctx c = {0};
    mapped_item(&c);
    tctx_set_json(&c, "RESPONSE", "[\"A X\", \"B X\"]");
    run_xml(&c, MAP_RESPONSE_22);
    assert_float_equal(score(&c), 1, 1e-12);
    tctx_free(&c);
}

static void test_map_response_template_on_wrong_response_uses_lower_bound(void **state)
{
    (void)state;
    struct tctx c = {0};
    mapped_item(&c);
    tctx_set_json(&c, "RESPONSE", "[\"X A\"]");
    run_xml(&c, MAP_RESPONSE_22);
    assert_float_equal(score(&c), 0, 1e-12);
    tctx_free(&c);
}

static void test_map_response_template_on_empty_response_gives_0(void **state)
{
    (void)state;
    struct tctx c = {0};
    mapped_item(&c);
    tctx_set_json(&c, "RESPONSE", "[]");
    run_xml(&c, MAP_RESPONSE_22);
    assert_float_equal(score(&c), 0, 1e-12);
    tctx_free(&c);
}

/* ---- map_response_point ---- */

static void point_item(struct tctx *c)
{
    tctx_declare(c, "<responseDeclaration identifier='RESPONSE' cardinality='multiple' "
                    "baseType='point'><areaMapping defaultValue='0'>"
                    "<areaMapEntry shape='circle' coords='100,100,10' mappedValue='1'/>"
                    "<areaMapEntry shape='rect' coords='0,0,20,20' mappedValue='1'/>"
                    "</areaMapping></responseDeclaration>");
    tctx_declare(c, SCORE_DECL);
}

static void test_map_response_point_template_on_correct_response(void **state)
{
    (void)state;
    struct tctx c = {0};
    point_item(&c);
    tctx_set_json(&c, "RESPONSE", "[\"102 98\", \"5 5\"]");
    run_xml(&c, MAP_POINT_21);
    assert_float_equal(score(&c), 2, 1e-12);
    tctx_free(&c);
}

static void test_map_response_point_template_on_partly_correct_response(void **state)
{
    (void)state;
    struct tctx c = {0};
    point_item(&c);
    tctx_set_json(&c, "RESPONSE", "[\"5 5\", \"6 6\", \"300 300\"]");
    run_xml(&c, MAP_POINT_21);
    assert_float_equal(score(&c), 1, 1e-12);
    tctx_free(&c);
}

static void test_map_response_point_template_on_wrong_and_empty_responses(void **state)
{
    (void)state;
    struct tctx c = {0};
    point_item(&c);
    tctx_set_json(&c, "RESPONSE", "[\"300 300\"]");
    run_xml(&c, MAP_POINT_21);
    assert_float_equal(score(&c), 0, 1e-12);
    tctx_set_json(&c, "RESPONSE", "null");
    run_xml(&c, MAP_POINT_21);
    assert_float_equal(score(&c), 0, 1e-12);
    tctx_free(&c);
}

/* ---- template recognition ---- */

static void test_standard_templates_are_recognised_in_every_form(void **state)
{
    (void)state;
    const char *forms[] = {
        "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct",
        "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct.xml",
        "http://www.imsglobal.org/question/qti_v2p2/rptemplates/match_correct",
        "https://purl.imsglobal.org/spec/qti/v2p2/rptemplates/match_correct.xml",
        "../rptemplates/match_correct.xml",
        "match_correct",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        assert_string_equal(qti_rules_template_name(forms[i]), "match_correct");
    assert_null(qti_rules_template_name("http://example.com/rptemplates/my_own"));
    struct qti_rules *r = NULL;
    struct op_err e = {0};
    assert_int_equal(parse_rules("<responseProcessing templateLocation='/templates/"
                                 "map_response_point.xml'/>",
                                 &r, &e),
                     0);
    assert_string_equal(r->template_name, "map_response_point");
    qti_rules_free(r);
}

static void test_unknown_template_without_rules_is_refused_naming_it(void **state)
{
    (void)state;
    struct tctx c = {0};
    expect_run_error(&c, RP("http://example.com/rp/partial_credit"),
                     "http://example.com/rp/partial_credit");
}

static void test_unknown_template_with_rules_uses_the_rules(void **state)
{
    (void)state;
    struct tctx c = {0};
    tctx_declare(&c, SCORE_DECL);
    run_xml(&c, "<responseProcessing template='http://example.com/rp/x'><setOutcomeValue "
                "identifier='SCORE'><baseValue baseType='float'>5</baseValue></setOutcomeValue>"
                "</responseProcessing>");
    assert_float_equal(score(&c), 5, 0);
    tctx_free(&c);
}

/* ---- rules ---- */

#define SET(id, v) "<setOutcomeValue identifier='" id "'>" v "</setOutcomeValue>"
#define F(v)       "<baseValue baseType='float'>" v "</baseValue>"
#define B(v)       "<baseValue baseType='boolean'>" v "</baseValue>"

static void test_condition_takes_the_first_true_branch(void **state)
{
    (void)state;
    struct tctx c = {0};
    tctx_declare(&c, SCORE_DECL);
    run_xml(&c, "<responseProcessing><responseCondition>"
                "<responseIf>" B("false")
                    SET("SCORE",
                        F("1")) "</responseIf>"
                                "<responseElseIf>" B("true")
                                    SET("SCORE",
                                        F("2")) "</responseElseIf>"
                                                "<responseElseIf>" B("true")
                                                    SET("SCORE",
                                                        F("3")) "</responseElseIf>"
                                                                "<responseElse>" SET(
                                                                    "SCORE",
                                                                    F("4")) "</responseElse>"
                                                                            "</responseCondition></"
                                                                            "responseProcessing>");
    assert_float_equal(score(&c), 2, 0);
    tctx_free(&c);
}

static void test_null_condition_counts_as_false(void **state)
{
    (void)state;
    struct tctx c = {0};
    tctx_declare(&c, SCORE_DECL);
    run_xml(&c,
            "<responseProcessing><responseCondition>"
            "<responseIf><null/>" SET(
                "SCORE", F("1")) "</responseIf>"
                                 "<responseElse>" SET(
                                     "SCORE", F("4")) "</responseElse>"
                                                      "</responseCondition></responseProcessing>");
    assert_float_equal(score(&c), 4, 0);
    tctx_free(&c);
}

static void test_condition_must_start_with_if(void **state)
{
    (void)state;
    struct tctx c = {0};
    expect_run_error(&c,
                     "<responseProcessing><responseCondition><responseElse/></responseCondition>"
                     "</responseProcessing>",
                     "must start with responseIf");
}

static void test_exit_response_stops_processing(void **state)
{
    (void)state;
    struct tctx c = {0};
    tctx_declare(&c, SCORE_DECL);
    enum qti_run_end end = run_xml(
        &c,
        "<responseProcessing>" SET("SCORE", F("1")) "<responseProcessingFragment><exitResponse/>"
                                                    "</responseProcessingFragment>" SET(
                                                        "SCORE", F("2")) "</responseProcessing>");
    assert_int_equal(end, QTI_RUN_EXIT);
    assert_float_equal(score(&c), 1, 0);
    tctx_free(&c);
}

static void test_rule_of_another_kind_is_refused(void **state)
{
    (void)state;
    struct tctx c = {0};
    expect_run_error(&c,
                     "<responseProcessing><setTemplateValue identifier='X'><null/>"
                     "</setTemplateValue></responseProcessing>",
                     "setTemplateValue is not allowed in responseProcessing");
    expect_run_error(&c, "<templateProcessing><exitTest/></templateProcessing>",
                     "exitTest is not allowed");
}

static void test_set_outcome_promotes_integer_to_float(void **state)
{
    (void)state;
    struct tctx c = {0};
    tctx_declare(&c, SCORE_DECL);
    run_xml(&c,
            "<responseProcessing>" SET(
                "SCORE", "<baseValue baseType='integer'>3</baseValue>") "</responseProcessing>");
    assert_float_equal(score(&c), 3, 0);
    tctx_free(&c);
}

static void test_set_outcome_refuses_a_value_of_another_type_naming_the_variable(void **state)
{
    (void)state;
    struct tctx c = {0};
    tctx_declare(&c, SCORE_DECL);
    expect_run_error(&c,
                     "<responseProcessing>" SET("SCORE", "<baseValue baseType='point'>1 "
                                                         "2</baseValue>") "</responseProcessing>",
                     "SCORE is single float; the expression gave single point");
    tctx_free(&c);
}

static void test_set_outcome_on_a_response_variable_is_refused(void **state)
{
    (void)state;
    struct tctx c = {0};
    choice_item(&c);
    expect_run_error(&c, "<responseProcessing>" SET("RESPONSE", "<null/>") "</responseProcessing>",
                     "RESPONSE is not an outcome variable");
    expect_run_error(&c, "<responseProcessing>" SET("NOPE", "<null/>") "</responseProcessing>",
                     "unknown variable NOPE");
    tctx_free(&c);
}

static void test_lookup_outcome_value_with_a_match_table(void **state)
{
    (void)state;
    struct tctx c = {0};
    tctx_declare(&c, "<outcomeDeclaration identifier='GRADE' cardinality='single' "
                     "baseType='identifier'><matchTable defaultValue='none'>"
                     "<matchTableEntry sourceValue='1' targetValue='low'/>"
                     "<matchTableEntry sourceValue='2' targetValue='high'/>"
                     "</matchTable></outcomeDeclaration>");
#define GRADE_RP(v)                                                                                \
    "<outcomeProcessing><lookupOutcomeValue identifier='GRADE'><baseValue baseType='integer'>" v   \
    "</baseValue></lookupOutcomeValue></outcomeProcessing>"
    run_xml(&c, GRADE_RP("2"));
    assert_string_equal(tctx_value(&c, "GRADE")->items[0].u.s, "high");
    run_xml(&c, GRADE_RP("7"));
    assert_string_equal(tctx_value(&c, "GRADE")->items[0].u.s, "none");
    tctx_free(&c);
}

static void test_lookup_outcome_value_with_an_interpolation_table(void **state)
{
    (void)state;
    struct tctx c = {0};
    tctx_declare(&c, "<outcomeDeclaration identifier='BAND' cardinality='single' "
                     "baseType='integer'><interpolationTable defaultValue='0'>"
                     "<interpolationTableEntry sourceValue='80' targetValue='3'/>"
                     "<interpolationTableEntry sourceValue='50' includeBoundary='false' "
                     "targetValue='2'/></interpolationTable></outcomeDeclaration>");
    const char *rp1 = "<outcomeProcessing><lookupOutcomeValue identifier='BAND'>"
                      "<baseValue baseType='float'>";
    const char *rp2 = "</baseValue></lookupOutcomeValue></outcomeProcessing>";
    const char *in[] = {"90", "80", "60", "50", "10"};
    int64_t want[] = {3, 3, 2, 0, 0};
    for (int i = 0; i < 5; i++) {
        char xml[512];
        snprintf(xml, sizeof xml, "%s%s%s", rp1, in[i], rp2);
        run_xml(&c, xml);
        assert_int_equal(tctx_value(&c, "BAND")->items[0].u.i, want[i]);
    }
    tctx_free(&c);
}

/* ---- template processing ---- */

static void template_item(struct tctx *c)
{
    c->rng = 99;
    tctx_declare(c, "<templateDeclaration identifier='A' cardinality='single' baseType='integer'>"
                    "<defaultValue><value>0</value></defaultValue></templateDeclaration>");
    tctx_declare(c, "<responseDeclaration identifier='RESPONSE' cardinality='single' "
                    "baseType='float'/>");
    tctx_declare(c, "<outcomeDeclaration identifier='FEEDBACK' cardinality='single' "
                    "baseType='identifier'/>");
}

static void test_template_processing_sets_values_and_correct_response(void **state)
{
    (void)state;
    struct tctx c = {0};
    template_item(&c);
    run_xml(&c, "<templateProcessing><setTemplateValue identifier='A'><randomInteger min='2' "
                "max='4'/></setTemplateValue><setCorrectResponse identifier='RESPONSE'>"
                "<integerDivide><baseValue baseType='integer'>120</baseValue><variable "
                "identifier='A'/></integerDivide></setCorrectResponse><setDefaultValue "
                "identifier='FEEDBACK'><baseValue baseType='identifier'>F1</baseValue>"
                "</setDefaultValue></templateProcessing>");
    int64_t a = tctx_value(&c, "A")->items[0].u.i;
    assert_true(a >= 2 && a <= 4);
    const struct qti_value *cr = tctx_decl(&c, "RESPONSE")->correct_response;
    assert_int_equal(cr->type, QTI_BT_FLOAT); /* integer promoted to the response's float */
    assert_float_equal(cr->items[0].u.f, (double)(120 / a), 0);
    assert_string_equal(tctx_decl(&c, "FEEDBACK")->default_value->items[0].u.s, "F1");
    tctx_free(&c);
}

static void test_template_constraint_retries_until_it_holds(void **state)
{
    (void)state;
    struct tctx c = {0};
    template_item(&c);
    struct qti_rules *r = NULL;
    struct op_err e = {0};
    assert_int_equal(parse_rules("<templateProcessing><setTemplateValue identifier='A'>"
                                 "<randomInteger min='1' max='10'/></setTemplateValue>"
                                 "<templateConstraint><equal><variable identifier='A'/>"
                                 "<baseValue baseType='integer'>7</baseValue></equal>"
                                 "</templateConstraint></templateProcessing>",
                                 &r, &e),
                     0);
    struct qti_eval_ops ops = tctx_ops(&c);
    assert_int_equal(qti_rules_run_template(r, &ops, &c, tctx_set, tctx_reset, &e), 0);
    assert_int_equal(tctx_value(&c, "A")->items[0].u.i, 7);
    assert_true(c.resets > 0);
    qti_rules_free(r);
    tctx_free(&c);
}

static void test_template_constraint_never_holding_leaves_defaults(void **state)
{
    (void)state;
    struct tctx c = {0};
    template_item(&c);
    struct qti_rules *r = NULL;
    struct op_err e = {0};
    assert_int_equal(parse_rules("<templateProcessing><setTemplateValue identifier='A'>"
                                 "<baseValue baseType='integer'>5</baseValue></setTemplateValue>"
                                 "<templateConstraint><baseValue baseType='boolean'>false"
                                 "</baseValue></templateConstraint></templateProcessing>",
                                 &r, &e),
                     0);
    struct qti_eval_ops ops = tctx_ops(&c);
    assert_int_equal(qti_rules_run_template(r, &ops, &c, tctx_set, tctx_reset, &e), 0);
    assert_int_equal(c.resets, QTI_TEMPLATE_MAX_TRIES);
    assert_int_equal(tctx_value(&c, "A")->items[0].u.i, 0);
    qti_rules_free(r);
    tctx_free(&c);
}

static void test_exit_template_ends_template_processing(void **state)
{
    (void)state;
    struct tctx c = {0};
    template_item(&c);
    enum qti_run_end end =
        run_xml(&c, "<templateProcessing><exitTemplate/><setTemplateValue identifier='A'>"
                    "<baseValue baseType='integer'>5</baseValue></setTemplateValue>"
                    "</templateProcessing>");
    assert_int_equal(end, QTI_RUN_EXIT);
    assert_int_equal(tctx_value(&c, "A")->items[0].u.i, 0);
    tctx_free(&c);
}

/* ---- outcome processing ---- */

static void test_outcome_processing_sums_item_scores(void **state)
{
    (void)state;
    struct tctx c = {0};
    c.test_level = true;
    const char *refs[] = {"Q1", "Q2"};
    for (int i = 0; i < 2; i++) {
        c.items[c.nitems].st.ref = refs[i];
        c.items[c.nitems].section = "S";
        c.nitems++;
        char xml[200];
        snprintf(xml, sizeof xml,
                 "<outcomeDeclaration identifier='%s.SCORE' cardinality='single' "
                 "baseType='float'><defaultValue><value>%d.5</value></defaultValue>"
                 "</outcomeDeclaration>",
                 refs[i], i + 1);
        tctx_declare(&c, xml);
    }
    tctx_declare(&c, "<outcomeDeclaration identifier='TOTAL' cardinality='single' "
                     "baseType='float'/>");
    enum qti_run_end end = run_xml(&c, "<outcomeProcessing><setOutcomeValue identifier='TOTAL'>"
                                       "<sum><testVariables variableIdentifier='SCORE'/></sum>"
                                       "</setOutcomeValue><exitTest/><setOutcomeValue "
                                       "identifier='TOTAL'><null/></setOutcomeValue>"
                                       "</outcomeProcessing>");
    assert_int_equal(end, QTI_RUN_EXIT);
    const struct qti_value *total = tctx_value(&c, "TOTAL");
    assert_non_null(total);
    assert_float_equal(total->items[0].u.f, 4, 1e-12);
    tctx_free(&c);
}

/* ---- hostile input ---- */

static void test_deeply_nested_conditions_fail_cleanly(void **state)
{
    (void)state;
    size_t depth = 40;
    char *xml = malloc(depth * 80 + 200);
    char *p = xml + sprintf(xml, "<responseProcessing>");
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "<responseCondition><responseIf><null/>");
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "</responseIf></responseCondition>");
    sprintf(p, "</responseProcessing>");
    struct tctx c = {0};
    expect_run_error(&c, xml, "nested deeper than 32");
    free(xml);
}

static void test_too_many_rules_fail_cleanly(void **state)
{
    (void)state;
    size_t n = QTI_RULES_MAX_RULES + 5;
    char *xml = malloc(n * 20 + 100);
    char *p = xml + sprintf(xml, "<responseProcessing>");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "<exitResponse/>");
    sprintf(p, "</responseProcessing>");
    struct tctx c = {0};
    expect_run_error(&c, xml, "over 10000 rules");
    free(xml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_correct_scores_1_for_the_correct_response),
        cmocka_unit_test(test_match_correct_scores_0_for_a_partly_correct_response),
        cmocka_unit_test(test_match_correct_scores_0_for_a_wrong_response),
        cmocka_unit_test(test_match_correct_scores_0_for_no_response),
        cmocka_unit_test(test_match_correct_fills_an_integer_score),
        cmocka_unit_test(test_map_response_template_on_correct_response),
        cmocka_unit_test(test_map_response_template_on_partly_correct_response),
        cmocka_unit_test(test_map_response_template_on_wrong_response_uses_lower_bound),
        cmocka_unit_test(test_map_response_template_on_empty_response_gives_0),
        cmocka_unit_test(test_map_response_point_template_on_correct_response),
        cmocka_unit_test(test_map_response_point_template_on_partly_correct_response),
        cmocka_unit_test(test_map_response_point_template_on_wrong_and_empty_responses),
        cmocka_unit_test(test_standard_templates_are_recognised_in_every_form),
        cmocka_unit_test(test_unknown_template_without_rules_is_refused_naming_it),
        cmocka_unit_test(test_unknown_template_with_rules_uses_the_rules),
        cmocka_unit_test(test_condition_takes_the_first_true_branch),
        cmocka_unit_test(test_null_condition_counts_as_false),
        cmocka_unit_test(test_condition_must_start_with_if),
        cmocka_unit_test(test_exit_response_stops_processing),
        cmocka_unit_test(test_rule_of_another_kind_is_refused),
        cmocka_unit_test(test_set_outcome_promotes_integer_to_float),
        cmocka_unit_test(test_set_outcome_refuses_a_value_of_another_type_naming_the_variable),
        cmocka_unit_test(test_set_outcome_on_a_response_variable_is_refused),
        cmocka_unit_test(test_lookup_outcome_value_with_a_match_table),
        cmocka_unit_test(test_lookup_outcome_value_with_an_interpolation_table),
        cmocka_unit_test(test_template_processing_sets_values_and_correct_response),
        cmocka_unit_test(test_template_constraint_retries_until_it_holds),
        cmocka_unit_test(test_template_constraint_never_holding_leaves_defaults),
        cmocka_unit_test(test_exit_template_ends_template_processing),
        cmocka_unit_test(test_outcome_processing_sums_item_scores),
        cmocka_unit_test(test_deeply_nested_conditions_fail_cleanly),
        cmocka_unit_test(test_too_many_rules_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
