/*
 * test_qti_expr.c - the QTI expression language, operator by operator, as the QTI 2.1/2.2
 * Information Model (§15 Expressions) defines it. Every expression evaluated through
 * tctx_eval also goes through its JSON form and must evaluate the same from it.
 */
#include "qti_testctx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define BV(bt, v) "<baseValue baseType='" bt "'>" v "</baseValue>"
#define INT(v)    BV("integer", v)
#define FLT(v)    BV("float", v)
#define ID(v)     BV("identifier", v)
#define STR(v)    BV("string", v)
#define BOOL(v)   BV("boolean", v)
#define NUL       "<null/>"

#define CTX struct tctx c = {.rng = 42}

static void done(struct tctx *c)
{
    tctx_free(c);
}

/* ---- leaves ---- */

static void test_base_value_gives_its_typed_value(void **state)
{
    (void)state;
    CTX;
    tctx_assert_float(tctx_eval(&c, FLT("2.5")), 2.5);
    tctx_assert_int(tctx_eval(&c, INT("-3")), -3);
    tctx_assert_bool(tctx_eval(&c, BOOL("true")), true);
    tctx_assert_json(tctx_eval(&c, BV("directedPair", "A B")), "\"A B\"");
    tctx_assert_json(tctx_eval(&c, BV("point", "10 20")), "\"10 20\"");
    tctx_assert_json(tctx_eval(&c, BV("duration", "PT1M30S")), "90.0");
    done(&c);
}

static void test_base_value_refuses_a_value_not_of_its_type(void **state)
{
    (void)state;
    CTX;
    tctx_expect_error(&c, INT("2.5"), "not an integer");
    tctx_expect_error(&c, BV("pair", "A"), "not a pair");
    tctx_expect_error(&c, BV("banana", "A"), "not a QTI base type");
    tctx_expect_error(&c, BV("file", "x"), "not supported");
    done(&c);
}

static void test_empty_string_base_value_is_null(void **state)
{
    (void)state;
    CTX;
    tctx_assert_null(tctx_eval(&c, "<baseValue baseType='string'></baseValue>"));
    tctx_assert_bool(tctx_eval(&c, "<isNull><baseValue baseType='string'/></isNull>"), true);
    done(&c);
}

static void test_variable_gives_current_value(void **state)
{
    (void)state;
    CTX;
    tctx_declare(&c, "<outcomeDeclaration identifier='X' cardinality='single' baseType='integer'>"
                     "<defaultValue><value>7</value></defaultValue></outcomeDeclaration>");
    tctx_assert_int(tctx_eval(&c, "<variable identifier='X'/>"), 7);
    tctx_set_json(&c, "X", "9");
    tctx_assert_int(tctx_eval(&c, "<variable identifier='X'/>"), 9);
    done(&c);
}

static void test_unknown_variable_is_an_error_naming_it(void **state)
{
    (void)state;
    CTX;
    tctx_expect_error(&c, "<variable identifier='NOPE'/>", "unknown variable NOPE");
    done(&c);
}

static void test_default_and_correct_give_declared_values(void **state)
{
    (void)state;
    CTX;
    tctx_declare(&c, "<responseDeclaration identifier='R' cardinality='multiple' "
                     "baseType='identifier'><defaultValue><value>A</value></defaultValue>"
                     "<correctResponse><value>B</value><value>C</value></correctResponse>"
                     "</responseDeclaration>");
    tctx_assert_json(tctx_eval(&c, "<default identifier='R'/>"), "[\"A\"]");
    tctx_assert_json(tctx_eval(&c, "<correct identifier='R'/>"), "[\"B\",\"C\"]");
    done(&c);
}

static void test_math_constant_pi_and_e(void **state)
{
    (void)state;
    CTX;
    tctx_assert_float(tctx_eval(&c, "<mathConstant name='pi'/>"), M_PI);
    tctx_assert_float(tctx_eval(&c, "<mathConstant name='e'/>"), M_E);
    done(&c);
}

static void test_null_is_null(void **state)
{
    (void)state;
    CTX;
    tctx_assert_null(tctx_eval(&c, NUL));
    done(&c);
}

/* ---- arithmetic ---- */

static void test_sum_of_integers_is_integer(void **state)
{
    (void)state;
    CTX;
    tctx_assert_int(tctx_eval(&c, "<sum>" INT("1") INT("2") INT("3") "</sum>"), 6);
    done(&c);
}

static void test_sum_with_a_float_is_float(void **state)
{
    (void)state;
    CTX;
    tctx_assert_float(tctx_eval(&c, "<sum>" INT("1") FLT("0.5") "</sum>"), 1.5);
    done(&c);
}

static void test_sum_is_null_if_any_operand_null(void **state)
{
    (void)state;
    CTX;
    tctx_assert_null(tctx_eval(&c, "<sum>" INT("1") NUL "</sum>"));
    done(&c);
}

/* QTI 2.1 integers are 32-bit: a result outside [-2147483648, 2147483647] is NULL. */
static void test_integer_results_outside_32_bits_give_null(void **state)
{
    (void)state;
    CTX;
    tctx_assert_null(tctx_eval(&c, "<sum>" INT("2147483647") INT("1") "</sum>"));
    tctx_assert_int(tctx_eval(&c, "<sum>" INT("2147483647") INT("0") "</sum>"), 2147483647);
    /* only the result counts, not a partial sum */
    tctx_assert_int(tctx_eval(&c, "<sum>" INT("2147483647") INT("1") INT("-5") "</sum>"),
                    2147483643);
    tctx_assert_null(tctx_eval(&c, "<product>" INT("65536") INT("32768") "</product>"));
    tctx_assert_int(tctx_eval(&c, "<product>" INT("65536") INT("-32768") "</product>"),
                    -2147483648);
    tctx_assert_null(tctx_eval(&c, "<subtract>" INT("-2147483648") INT("1") "</subtract>"));
    tctx_assert_null(
        tctx_eval(&c, "<integerDivide>" INT("-2147483648") INT("-1") "</integerDivide>"));
    tctx_assert_null(
        tctx_eval(&c, "<mathOperator name='abs'>" INT("-2147483648") "</mathOperator>"));
    tctx_assert_null(tctx_eval(&c, "<round>" FLT("2147483647.5") "</round>"));
    tctx_assert_int(tctx_eval(&c, "<round>" FLT("2147483646.5") "</round>"), 2147483647);
    tctx_assert_null(tctx_eval(&c, "<truncate>" FLT("-3e9") "</truncate>"));
    tctx_assert_null(tctx_eval(&c, "<lcm>" INT("65536") INT("32769") "</lcm>"));
    done(&c);
}

static void test_integer_outside_32_bits_is_refused_when_read(void **state)
{
    (void)state;
    CTX;
    tctx_expect_error(&c, "<sum>" INT("2147483648") INT("1") "</sum>",
                      "2147483648 is outside the range of a QTI integer");
    tctx_expect_error(&c, "<sum>" INT("-2147483649") INT("1") "</sum>", "outside the range");
    tctx_expect_error(&c, BV("point", "2147483648 0"), "is not a point");
    struct qti_value *v = NULL;
    struct op_err e = {0};
    json_t *j = json_integer(4294967296LL);
    assert_int_equal(qti_value_from_json(QTI_BT_INTEGER, QTI_CARD_SINGLE, j, "RESPONSE", &v, &e),
                     OP_EINPUT);
    assert_non_null(strstr(e.msg, "RESPONSE: 4294967296 is outside the range of a QTI integer"));
    json_decref(j);
    j = json_integer(-2147483648LL);
    assert_int_equal(qti_value_from_json(QTI_BT_INTEGER, QTI_CARD_SINGLE, j, "RESPONSE", &v, &e),
                     0);
    assert_int_equal(v->items[0].u.i, -2147483648LL);
    qti_value_free(v);
    json_decref(j);
    done(&c);
}

static void test_sum_of_a_string_is_a_type_error(void **state)
{
    (void)state;
    CTX;
    tctx_expect_error(&c, "<sum>" INT("1") STR("x") "</sum>", "must be numbers");
    tctx_expect_error(&c, "<subtract>" INT("1") STR("x") "</subtract>", "must be a single number");
    done(&c);
}

static void test_sum_adds_the_members_of_containers(void **state)
{
    (void)state;
    CTX;
    tctx_assert_int(
        tctx_eval(&c, "<sum>" INT("1") "<multiple>" INT("2") INT("3") "</multiple></sum>"), 6);
    tctx_assert_float(
        tctx_eval(&c, "<product><ordered>" FLT("0.5") FLT("4") "</ordered>" INT("2") "</product>"),
        4);
    done(&c);
}

static void test_product_and_subtract(void **state)
{
    (void)state;
    CTX;
    tctx_assert_int(tctx_eval(&c, "<product>" INT("3") INT("-4") "</product>"), -12);
    tctx_assert_float(tctx_eval(&c, "<subtract>" FLT("1") INT("3") "</subtract>"), -2);
    done(&c);
}

static void test_divide_gives_float(void **state)
{
    (void)state;
    CTX;
    tctx_assert_float(tctx_eval(&c, "<divide>" INT("7") INT("2") "</divide>"), 3.5);
    done(&c);
}

static void test_divide_by_zero_is_null(void **state)
{
    (void)state;
    CTX;
    tctx_assert_null(tctx_eval(&c, "<divide>" INT("1") INT("0") "</divide>"));
    done(&c);
}

static void test_power_gives_float_and_null_outside_float_range(void **state)
{
    (void)state;
    CTX;
    tctx_assert_float(tctx_eval(&c, "<power>" INT("2") INT("10") "</power>"), 1024);
    tctx_assert_null(tctx_eval(&c, "<power>" INT("10") INT("400") "</power>"));
    tctx_assert_null(tctx_eval(&c, "<power>" INT("0") INT("-1") "</power>"));
    done(&c);
}

static void test_integer_divide_rounds_down(void **state)
{
    (void)state;
    CTX;
    tctx_assert_int(tctx_eval(&c, "<integerDivide>" INT("7") INT("2") "</integerDivide>"), 3);
    tctx_assert_int(tctx_eval(&c, "<integerDivide>" INT("-7") INT("2") "</integerDivide>"), -4);
    tctx_assert_null(tctx_eval(&c, "<integerDivide>" INT("7") INT("0") "</integerDivide>"));
    done(&c);
}

static void test_integer_modulus_follows_integer_divide(void **state)
{
    (void)state;
    CTX;
    tctx_assert_int(tctx_eval(&c, "<integerModulus>" INT("7") INT("3") "</integerModulus>"), 1);
    tctx_assert_int(tctx_eval(&c, "<integerModulus>" INT("-7") INT("2") "</integerModulus>"), 1);
    tctx_assert_null(tctx_eval(&c, "<integerModulus>" INT("7") INT("0") "</integerModulus>"));
    done(&c);
}

static void test_round_takes_half_up(void **state)
{
    (void)state;
    CTX;
    tctx_assert_int(tctx_eval(&c, "<round>" FLT("6.5") "</round>"), 7);
    tctx_assert_int(tctx_eval(&c, "<round>" FLT("6.49") "</round>"), 6);
    tctx_assert_int(tctx_eval(&c, "<round>" FLT("-6.5") "</round>"), -6);
    tctx_assert_null(tctx_eval(&c, "<round>" NUL "</round>"));
    done(&c);
}

static void test_truncate_goes_toward_zero(void **state)
{
    (void)state;
    CTX;
    tctx_assert_int(tctx_eval(&c, "<truncate>" FLT("6.8") "</truncate>"), 6);
    tctx_assert_int(tctx_eval(&c, "<truncate>" FLT("-6.8") "</truncate>"), -6);
    done(&c);
}

static void test_round_to_decimal_places_and_significant_figures(void **state)
{
    (void)state;
    CTX;
    tctx_assert_float(tctx_eval(&c, "<roundTo roundingMode='decimalPlaces' figures='2'>" FLT(
                                        "1.005") "</roundTo>"),
                      1.01);
    tctx_assert_float(tctx_eval(&c, "<roundTo roundingMode='significantFigures' figures='3'>" FLT(
                                        "1234.5") "</roundTo>"),
                      1230);
    tctx_assert_float(tctx_eval(&c, "<roundTo roundingMode='significantFigures' figures='2'>" FLT(
                                        "0.01234") "</roundTo>"),
                      0.012);
    tctx_expect_error(
        &c, "<roundTo roundingMode='significantFigures' figures='0'>" FLT("1") "</roundTo>",
        "out of range");
    done(&c);
}

static void test_integer_to_float(void **state)
{
    (void)state;
    CTX;
    tctx_assert_float(tctx_eval(&c, "<integerToFloat>" INT("3") "</integerToFloat>"), 3.0);
    tctx_expect_error(&c, "<integerToFloat>" FLT("3") "</integerToFloat>", "integer");
    done(&c);
}

/* ---- comparison ---- */

static void test_equal_exact(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<equal>" INT("3") FLT("3.0") "</equal>"), true);
    tctx_assert_bool(
        tctx_eval(&c, "<equal toleranceMode='exact'>" FLT("3.0001") INT("3") "</equal>"), false);
    tctx_assert_null(tctx_eval(&c, "<equal>" NUL INT("3") "</equal>"));
    done(&c);
}

/* QTI 2.1 equal: "true if the value of the second expression, y, is within the range
 * defined by the first value, x": [x-t0, x+t1]. Asymmetric tolerances tell the two
 * operands apart. */
static void test_equal_absolute_tolerance(void **state)
{
    (void)state;
    CTX;
    /* x = 3, t0 = 0.1, t1 = 0.2: the range is [2.9, 3.2] */
    const char *tol = "<equal toleranceMode='absolute' tolerance='0.1 0.2'>";
    char xml[256];
    snprintf(xml, sizeof xml, "%s" FLT("3") FLT("3.15") "</equal>", tol);
    tctx_assert_bool(tctx_eval(&c, xml), true);
    snprintf(xml, sizeof xml, "%s" FLT("3") FLT("2.85") "</equal>", tol);
    tctx_assert_bool(tctx_eval(&c, xml), false);
    /* the range is the first operand's: x = 3.15 gives [3.05, 3.35], which 3 is not in */
    snprintf(xml, sizeof xml, "%s" FLT("3.15") FLT("3") "</equal>", tol);
    tctx_assert_bool(tctx_eval(&c, xml), false);
    /* and x = 2.85 gives [2.75, 3.05], which 3 is in */
    snprintf(xml, sizeof xml, "%s" FLT("2.85") FLT("3") "</equal>", tol);
    tctx_assert_bool(tctx_eval(&c, xml), true);
    done(&c);
}

static void test_equal_relative_tolerance(void **state)
{
    (void)state;
    CTX;
    /* x = 200, 10%: [180, 220]; 181 is inside, 179 is not */
    tctx_assert_bool(tctx_eval(&c, "<equal toleranceMode='relative' tolerance='10'>" INT("200")
                                       INT("181") "</equal>"),
                     true);
    tctx_assert_bool(tctx_eval(&c, "<equal toleranceMode='relative' tolerance='10'>" INT("200")
                                       INT("179") "</equal>"),
                     false);
    /* x = 181: [162.9, 199.1], so 200 is not equal to it */
    tctx_assert_bool(tctx_eval(&c, "<equal toleranceMode='relative' tolerance='10'>" INT("181")
                                       INT("200") "</equal>"),
                     false);
    /* t0 = 0, t1 = 50: [100, 150] from x = 100 */
    tctx_assert_bool(tctx_eval(&c, "<equal toleranceMode='relative' tolerance='0 50'>" INT("100")
                                       INT("140") "</equal>"),
                     true);
    tctx_assert_bool(tctx_eval(&c, "<equal toleranceMode='relative' tolerance='0 50'>" INT("100")
                                       INT("99") "</equal>"),
                     false);
    /* a negative x: the bounds [-220, -180] are put in order */
    tctx_assert_bool(tctx_eval(&c, "<equal toleranceMode='relative' tolerance='10'>" INT("-200")
                                       INT("-190") "</equal>"),
                     true);
    done(&c);
}

static void test_equal_excludes_a_bound_when_asked(void **state)
{
    (void)state;
    CTX;
    /* x = 3, tolerance 1: [2, 4]; both bounds are included by default */
    tctx_assert_bool(tctx_eval(&c, "<equal toleranceMode='absolute' tolerance='1'>" INT("3")
                                       INT("4") "</equal>"),
                     true);
    tctx_assert_bool(tctx_eval(&c, "<equal toleranceMode='absolute' tolerance='1'>" INT("3")
                                       INT("2") "</equal>"),
                     true);
    tctx_assert_bool(
        tctx_eval(
            &c, "<equal toleranceMode='absolute' tolerance='1' includeUpperBound='false'>" INT("3")
                    INT("4") "</equal>"),
        false);
    tctx_assert_bool(
        tctx_eval(
            &c, "<equal toleranceMode='absolute' tolerance='1' includeUpperBound='false'>" INT("3")
                    INT("2") "</equal>"),
        true);
    tctx_assert_bool(
        tctx_eval(
            &c, "<equal toleranceMode='absolute' tolerance='1' includeLowerBound='false'>" INT("3")
                    INT("2") "</equal>"),
        false);
    tctx_assert_bool(
        tctx_eval(&c,
                  "<equal toleranceMode='relative' tolerance='10' includeLowerBound='false'>" INT(
                      "200") INT("180") "</equal>"),
        false);
    done(&c);
}

static void test_equal_needs_a_tolerance_outside_exact_mode(void **state)
{
    (void)state;
    CTX;
    tctx_expect_error(&c, "<equal toleranceMode='absolute'>" INT("1") INT("1") "</equal>",
                      "tolerance is required");
    tctx_expect_error(&c, "<equal toleranceMode='near'>" INT("1") INT("1") "</equal>", "not known");
    done(&c);
}

static void test_equal_rounded_compares_after_rounding(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(
        tctx_eval(&c, "<equalRounded roundingMode='significantFigures' figures='3'>" FLT("3.175")
                          FLT("3.18") "</equalRounded>"),
        true);
    tctx_assert_bool(tctx_eval(&c, "<equalRounded roundingMode='decimalPlaces' figures='1'>" FLT(
                                       "3.14") FLT("3.16") "</equalRounded>"),
                     false);
    done(&c);
}

static void test_ordering_comparisons(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<lt>" INT("1") FLT("1.5") "</lt>"), true);
    tctx_assert_bool(tctx_eval(&c, "<gt>" INT("1") FLT("1.5") "</gt>"), false);
    tctx_assert_bool(tctx_eval(&c, "<lte>" INT("2") INT("2") "</lte>"), true);
    tctx_assert_bool(tctx_eval(&c, "<gte>" INT("1") INT("2") "</gte>"), false);
    tctx_assert_null(tctx_eval(&c, "<lt>" NUL INT("2") "</lt>"));
    tctx_expect_error(&c, "<lt>" STR("a") INT("2") "</lt>", "single numbers");
    done(&c);
}

static void test_duration_comparisons(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(
        tctx_eval(&c, "<durationLT>" BV("duration", "10") BV("duration", "PT11S") "</durationLT>"),
        true);
    tctx_assert_bool(
        tctx_eval(&c, "<durationGTE>" BV("duration", "10") BV("duration", "10") "</durationGTE>"),
        true);
    tctx_expect_error(&c, "<durationLT>" INT("1") INT("2") "</durationLT>", "durations");
    done(&c);
}

static void test_match_multiple_compares_as_bags(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<match><multiple>" ID("A") ID("B")
                                       ID("B") "</multiple>"
                                               "<multiple>" ID("B") ID("A")
                                                   ID("B") "</multiple></match>"),
                     true);
    tctx_assert_bool(tctx_eval(&c, "<match><multiple>" ID("A")
                                       ID("B") "</multiple>"
                                               "<multiple>" ID("A") ID("B")
                                                   ID("B") "</multiple></match>"),
                     false);
    done(&c);
}

static void test_match_ordered_compares_as_sequences(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<match><ordered>" ID("A")
                                       ID("B") "</ordered>"
                                               "<ordered>" ID("B") ID("A") "</ordered></match>"),
                     false);
    tctx_assert_bool(tctx_eval(&c, "<match><ordered>" ID("A")
                                       ID("B") "</ordered>"
                                               "<ordered>" ID("A") ID("B") "</ordered></match>"),
                     true);
    done(&c);
}

static void test_match_pairs_are_unordered_directed_pairs_are_not(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<match>" BV("pair", "A B") BV("pair", "B A") "</match>"), true);
    tctx_assert_bool(
        tctx_eval(&c, "<match>" BV("directedPair", "A B") BV("directedPair", "B A") "</match>"),
        false);
    done(&c);
}

static void test_match_with_null_is_null(void **state)
{
    (void)state;
    CTX;
    tctx_assert_null(tctx_eval(&c, "<match>" NUL ID("A") "</match>"));
    done(&c);
}

static void test_match_of_different_types_is_an_error(void **state)
{
    (void)state;
    CTX;
    tctx_expect_error(&c, "<match>" ID("A") STR("A") "</match>", "same cardinality and base type");
    done(&c);
}

static void test_inside_shapes(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(
        tctx_eval(&c, "<inside shape='rect' coords='0,0,10,10'>" BV("point", "10 5") "</inside>"),
        true);
    tctx_assert_bool(
        tctx_eval(&c, "<inside shape='circle' coords='5,5,2'>" BV("point", "8 5") "</inside>"),
        false);
    tctx_assert_bool(tctx_eval(&c, "<inside shape='poly' coords='0,0,10,0,0,10'>" BV(
                                       "point", "2 2") "</inside>"),
                     true);
    tctx_assert_bool(
        tctx_eval(&c, "<inside shape='ellipse' coords='0,0,4,2'>" BV("point", "0 3") "</inside>"),
        false);
    tctx_assert_bool(tctx_eval(&c, "<inside shape='rect' coords='0,0,1,1'><multiple>" BV(
                                       "point", "5 5") BV("point", "1 1") "</multiple></inside>"),
                     true);
    tctx_expect_error(&c, "<inside shape='rect' coords='0,0,1'>" BV("point", "1 1") "</inside>",
                      "cannot have 3 coordinates");
    done(&c);
}

/* ---- logic ---- */

static void test_and_false_dominates_null(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<and>" NUL BOOL("false") "</and>"), false);
    tctx_assert_null(tctx_eval(&c, "<and>" NUL BOOL("true") "</and>"));
    tctx_assert_bool(tctx_eval(&c, "<and>" BOOL("true") BOOL("true") "</and>"), true);
    done(&c);
}

static void test_or_true_dominates_null(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<or>" NUL BOOL("true") "</or>"), true);
    tctx_assert_null(tctx_eval(&c, "<or>" NUL BOOL("false") "</or>"));
    tctx_assert_bool(tctx_eval(&c, "<or>" BOOL("false") "</or>"), false);
    done(&c);
}

static void test_not_inverts_and_keeps_null(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<not>" BOOL("false") "</not>"), true);
    tctx_assert_null(tctx_eval(&c, "<not>" NUL "</not>"));
    tctx_expect_error(&c, "<not>" INT("1") "</not>", "single boolean");
    done(&c);
}

static void test_any_n_counts_trues_and_nulls(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(
        tctx_eval(&c, "<anyN min='1' max='2'>" BOOL("true") BOOL("false") BOOL("false") "</anyN>"),
        true);
    tctx_assert_bool(tctx_eval(&c, "<anyN min='1' max='1'>" BOOL("true") BOOL("true") "</anyN>"),
                     false);
    /* one true and one NULL, 1..1: the NULL decides */
    tctx_assert_null(tctx_eval(&c, "<anyN min='1' max='1'>" BOOL("true") NUL "</anyN>"));
    /* two false out of three with min 2: false whatever the NULL is */
    tctx_assert_bool(
        tctx_eval(&c, "<anyN min='2' max='3'>" BOOL("false") BOOL("false") NUL "</anyN>"), false);
    done(&c);
}

/* The examples of QTI 2.1 anyN, min 3 and max 4: {true,true,false,NULL} is NULL,
 * {true,false,false,NULL} false and {true,true,true,NULL} true. */
static void test_any_n_follows_the_specification_examples(void **state)
{
    (void)state;
    CTX;
    tctx_assert_null(tctx_eval(&c, "<anyN min='3' max='4'>" BOOL("true") BOOL("true") BOOL("false")
                                       NUL "</anyN>"));
    tctx_assert_bool(tctx_eval(&c, "<anyN min='3' max='4'>" BOOL("true") BOOL("false") BOOL("false")
                                       NUL "</anyN>"),
                     false);
    tctx_assert_bool(tctx_eval(&c, "<anyN min='3' max='4'>" BOOL("true") BOOL("true") BOOL("true")
                                       NUL "</anyN>"),
                     true);
    /* with max 3 the NULL could make a fourth true: undetermined */
    tctx_assert_null(tctx_eval(&c, "<anyN min='3' max='3'>" BOOL("true") BOOL("true") BOOL("true")
                                       NUL "</anyN>"));
    /* more than max true is false whatever the NULLs are */
    tctx_assert_bool(tctx_eval(&c, "<anyN min='1' max='2'>" BOOL("true") BOOL("true") BOOL("true")
                                       NUL "</anyN>"),
                     false);
    done(&c);
}

/* ---- containers ---- */

static void test_multiple_flattens_and_ignores_null(void **state)
{
    (void)state;
    CTX;
    tctx_assert_json(tctx_eval(&c, "<multiple>" ID("A") NUL "<multiple>" ID("B")
                                       ID("C") "</multiple></multiple>"),
                     "[\"A\",\"B\",\"C\"]");
    done(&c);
}

static void test_empty_multiple_is_null(void **state)
{
    (void)state;
    CTX;
    tctx_assert_null(tctx_eval(&c, "<multiple/>"));
    tctx_assert_null(tctx_eval(&c, "<multiple>" NUL "</multiple>"));
    done(&c);
}

static void test_multiple_refuses_mixed_base_types(void **state)
{
    (void)state;
    CTX;
    tctx_expect_error(&c, "<multiple>" ID("A") INT("1") "</multiple>", "one base type");
    tctx_expect_error(&c, "<multiple><ordered>" ID("A") "</ordered></multiple>",
                      "single or multiple");
    done(&c);
}

static void test_ordered_keeps_order(void **state)
{
    (void)state;
    CTX;
    struct qti_value *v = tctx_eval(&c, "<ordered>" INT("3") INT("1") INT("2") "</ordered>");
    assert_int_equal(v->card, QTI_CARD_ORDERED);
    tctx_assert_json(v, "[3,1,2]");
    done(&c);
}

static void test_container_size_of_null_is_zero(void **state)
{
    (void)state;
    CTX;
    tctx_assert_int(tctx_eval(&c, "<containerSize>" NUL "</containerSize>"), 0);
    tctx_assert_int(
        tctx_eval(&c, "<containerSize><multiple>" ID("A") ID("A") "</multiple></containerSize>"),
        2);
    done(&c);
}

static void test_is_null_of_values(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<isNull>" NUL "</isNull>"), true);
    tctx_assert_bool(tctx_eval(&c, "<isNull>" INT("0") "</isNull>"), false);
    tctx_assert_bool(tctx_eval(&c, "<isNull><multiple/></isNull>"), true);
    done(&c);
}

static void test_index_is_one_based_and_null_outside(void **state)
{
    (void)state;
    CTX;
    const char *seq = "<ordered>" ID("A") ID("B") ID("C") "</ordered>";
    char xml[512];
    snprintf(xml, sizeof xml, "<index n='2'>%s</index>", seq);
    tctx_assert_json(tctx_eval(&c, xml), "\"B\"");
    snprintf(xml, sizeof xml, "<index n='4'>%s</index>", seq);
    tctx_assert_null(tctx_eval(&c, xml));
    done(&c);
}

static void test_index_with_a_variable_reference(void **state)
{
    (void)state;
    CTX;
    tctx_declare(&c, "<templateDeclaration identifier='N' cardinality='single' baseType='integer'>"
                     "<defaultValue><value>3</value></defaultValue></templateDeclaration>");
    tctx_assert_json(
        tctx_eval(&c, "<index n='{N}'><ordered>" ID("A") ID("B") ID("C") "</ordered></index>"),
        "\"C\"");
    done(&c);
}

static void test_member_delete_contains(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(
        tctx_eval(&c, "<member>" ID("B") "<multiple>" ID("A") ID("B") "</multiple></member>"),
        true);
    tctx_assert_bool(
        tctx_eval(&c, "<member>" ID("C") "<multiple>" ID("A") ID("B") "</multiple></member>"),
        false);
    tctx_assert_null(tctx_eval(&c, "<member>" NUL "<multiple>" ID("A") "</multiple></member>"));
    tctx_assert_json(
        tctx_eval(&c, "<delete>" ID("B") "<ordered>" ID("B") ID("A") ID("B") "</ordered></delete>"),
        "[\"A\"]");
    tctx_assert_null(tctx_eval(&c, "<delete>" ID("B") "<ordered>" ID("B") "</ordered></delete>"));
    done(&c);
}

static void test_contains_multiple_counts_repeats(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<contains><multiple>" ID("A") ID("B") ID(
                                       "C") "</multiple>"
                                            "<multiple>" ID("B") ID("B") "</multiple></contains>"),
                     false);
    tctx_assert_bool(tctx_eval(&c, "<contains><multiple>" ID("A") ID("B") ID("B")
                                       ID("C") "</multiple><multiple>" ID("B")
                                           ID("B") "</multiple></contains>"),
                     true);
    done(&c);
}

static void test_contains_ordered_needs_a_contiguous_subsequence(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<contains><ordered>" ID("A") ID("B")
                                       ID("C") "</ordered>"
                                               "<ordered>" ID("B") ID("C") "</ordered></contains>"),
                     true);
    tctx_assert_bool(tctx_eval(&c, "<contains><ordered>" ID("A") ID("B")
                                       ID("C") "</ordered>"
                                               "<ordered>" ID("A") ID("C") "</ordered></contains>"),
                     false);
    done(&c);
}

static void test_field_value_reads_a_record_field(void **state)
{
    (void)state;
    CTX;
    tctx_declare(&c, "<outcomeDeclaration identifier='REC' cardinality='record'/>");
    tctx_set_json(&c, "REC", "{\"n\": {\"baseType\": \"integer\", \"value\": 4}}");
    tctx_assert_int(tctx_eval(&c, "<fieldValue fieldIdentifier='n'><variable identifier='REC'/>"
                                  "</fieldValue>"),
                    4);
    tctx_assert_null(tctx_eval(&c, "<fieldValue fieldIdentifier='m'><variable identifier='REC'/>"
                                   "</fieldValue>"));
    done(&c);
}

static void test_repeat_builds_an_ordered_container(void **state)
{
    (void)state;
    CTX;
    tctx_assert_json(tctx_eval(&c, "<repeat numberRepeats='3'>" INT("1") NUL "</repeat>"),
                     "[1,1,1]");
    tctx_assert_null(tctx_eval(&c, "<repeat numberRepeats='0'>" INT("1") "</repeat>"));
    done(&c);
}

/* ---- randomness (seeded) ---- */

static void test_random_picks_a_member(void **state)
{
    (void)state;
    CTX;
    for (int i = 0; i < 20; i++) {
        struct qti_value *v =
            tctx_eval(&c, "<random><multiple>" ID("A") ID("B") ID("C") "</multiple></random>");
        assert_int_equal(v->card, QTI_CARD_SINGLE);
        assert_non_null(strchr("ABC", v->items[0].u.s[0]));
        qti_value_free(v);
    }
    done(&c);
}

static void test_random_integer_stays_on_steps_within_bounds(void **state)
{
    (void)state;
    CTX;
    bool seen[13] = {false};
    for (int i = 0; i < 200; i++) {
        struct qti_value *v = tctx_eval(&c, "<randomInteger min='4' max='12' step='2'/>");
        int64_t n = v->items[0].u.i;
        assert_true(n >= 4 && n <= 12 && n % 2 == 0);
        seen[n] = true;
        qti_value_free(v);
    }
    assert_true(seen[4] && seen[6] && seen[8] && seen[10] && seen[12]);
    done(&c);
}

static void test_random_float_stays_within_bounds(void **state)
{
    (void)state;
    CTX;
    for (int i = 0; i < 50; i++) {
        struct qti_value *v = tctx_eval(&c, "<randomFloat min='1.5' max='2'/>");
        assert_true(v->items[0].u.f >= 1.5 && v->items[0].u.f <= 2);
        qti_value_free(v);
    }
    done(&c);
}

static void test_same_seed_gives_same_random_values(void **state)
{
    (void)state;
    struct tctx a = {.rng = 7}, b = {.rng = 7};
    for (int i = 0; i < 10; i++) {
        struct qti_value *x = tctx_eval(&a, "<randomInteger min='0' max='1000000'/>");
        struct qti_value *y = tctx_eval(&b, "<randomInteger min='0' max='1000000'/>");
        assert_true(qti_value_equal(x, y));
        qti_value_free(x);
        qti_value_free(y);
    }
}

static void test_random_without_a_generator_is_an_error(void **state)
{
    (void)state;
    CTX;
    struct qti_expr *x;
    struct op_err e = {0};
    assert_int_equal(tctx_parse_expr("<randomInteger min='1' max='3'/>", &x, &e), 0);
    struct qti_eval_ops ops = {tctx_get, tctx_decl, NULL, NULL, NULL};
    struct qti_value *v = NULL;
    assert_int_not_equal(qti_expr_eval(x, &ops, &c, &v, &e), 0);
    assert_non_null(strstr(e.msg, "randomness"));
    qti_expr_free(x);
    done(&c);
}

/* ---- strings ---- */

static void test_substring_first_inside_second(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<substring>" STR("ell") STR("Hello") "</substring>"), true);
    tctx_assert_bool(
        tctx_eval(&c, "<substring caseSensitive='false'>" STR("HELL") STR("Hello") "</substring>"),
        true);
    tctx_assert_bool(tctx_eval(&c, "<substring>" STR("HELL") STR("Hello") "</substring>"), false);
    done(&c);
}

static void test_string_match_case(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(tctx_eval(&c, "<stringMatch caseSensitive='false'>" STR("Paris")
                                       STR("paris") "</stringMatch>"),
                     true);
    tctx_assert_bool(tctx_eval(&c, "<stringMatch caseSensitive='true'>" STR("Paris")
                                       STR("paris") "</stringMatch>"),
                     false);
    tctx_assert_bool(tctx_eval(&c, "<stringMatch caseSensitive='true' substring='true'>" STR(
                                       "in Paris now") STR("Paris") "</stringMatch>"),
                     true);
    tctx_expect_error(&c, "<stringMatch>" STR("a") STR("a") "</stringMatch>",
                      "caseSensitive is required");
    done(&c);
}

static void test_pattern_match_is_anchored_xml_schema_regex(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(
        tctx_eval(&c, "<patternMatch pattern='\\d{3}-[A-Z]+'>" STR("123-AB") "</patternMatch>"),
        true);
    tctx_assert_bool(
        tctx_eval(&c, "<patternMatch pattern='\\d{3}'>" STR("x1234") "</patternMatch>"), false);
    /* ^ and $ are ordinary characters in XML Schema */
    tctx_assert_bool(tctx_eval(&c, "<patternMatch pattern='a^b$'>" STR("a^b$") "</patternMatch>"),
                     true);
    tctx_assert_bool(
        tctx_eval(&c, "<patternMatch pattern='[^a-c\\-]+'>" STR("xyz") "</patternMatch>"), true);
    tctx_assert_bool(
        tctx_eval(&c, "<patternMatch pattern='\\p{Lu}\\w*'>" STR("Word") "</patternMatch>"), true);
    tctx_assert_null(tctx_eval(&c, "<patternMatch pattern='a'>" NUL "</patternMatch>"));
    done(&c);
}

static void test_pattern_match_counts_characters_not_bytes(void **state)
{
    (void)state;
    CTX;
    tctx_assert_bool(
        tctx_eval(&c, "<patternMatch pattern='.{2}'>" STR("\xc3\xa9t") "</patternMatch>"), true);
    done(&c);
}

static void test_pattern_match_bounds_and_refusals(void **state)
{
    (void)state;
    CTX;
    /* counted repetitions are counters in libxml2's automaton: they do not expand */
    tctx_assert_bool(
        tctx_eval(&c, "<patternMatch pattern='((a{100}){100}){100}'>" STR("a") "</patternMatch>"),
        false);
    /* character class subtraction is XML Schema (it was refused before libxml2 ran both) */
    tctx_assert_bool(
        tctx_eval(&c, "<patternMatch pattern='[a-z-[aeiou]]'>" STR("b") "</patternMatch>"), true);
    tctx_expect_error(&c, "<patternMatch pattern='(a'>" STR("a") "</patternMatch>",
                      "pattern \"(a\" is not a valid XML Schema regular expression");
    /* a pattern read from a variable can only be checked when it runs */
    tctx_declare(&c, "<outcomeDeclaration identifier='P' cardinality='single' baseType='string'>"
                     "<defaultValue><value>[a-z]</value></defaultValue></outcomeDeclaration>");
    tctx_assert_bool(tctx_eval(&c, "<patternMatch pattern='{P}'>" STR("a") "</patternMatch>"),
                     true);
    tctx_set_json(&c, "P", "\"(a\"");
    tctx_expect_error(&c, "<patternMatch pattern='{P}'>" STR("a") "</patternMatch>",
                      "pattern \"(a\" is not a valid XML Schema regular expression");
    done(&c);
}

/* ---- numbers in containers ---- */

static void test_max_and_min(void **state)
{
    (void)state;
    CTX;
    tctx_assert_int(
        tctx_eval(&c, "<max>" INT("3") "<multiple>" INT("7") INT("-1") "</multiple></max>"), 7);
    tctx_assert_float(tctx_eval(&c, "<min>" INT("3") FLT("2.5") "</min>"), 2.5);
    tctx_assert_null(tctx_eval(&c, "<max>" INT("3") NUL "</max>"));
    tctx_assert_null(tctx_eval(&c, "<max>" INT("3") STR("x") "</max>"));
    done(&c);
}

static void test_gcd_and_lcm(void **state)
{
    (void)state;
    CTX;
    tctx_assert_int(tctx_eval(&c, "<gcd>" INT("12") INT("18") INT("0") "</gcd>"), 6);
    tctx_assert_int(tctx_eval(&c, "<gcd>" INT("0") INT("0") "</gcd>"), 0);
    tctx_assert_int(tctx_eval(&c, "<lcm>" INT("4") INT("6") "</lcm>"), 12);
    tctx_assert_int(tctx_eval(&c, "<lcm>" INT("4") INT("0") "</lcm>"), 0);
    tctx_assert_null(tctx_eval(&c, "<gcd>" INT("4") FLT("2") "</gcd>"));
    done(&c);
}

static void test_stats_operator(void **state)
{
    (void)state;
    CTX;
    const char *set = "<multiple>" INT("2") INT("4") INT("4") INT("4") INT("5") INT("5") INT("7")
        INT("9") "</multiple>";
    char xml[1024];
    snprintf(xml, sizeof xml, "<statsOperator name='mean'>%s</statsOperator>", set);
    tctx_assert_float(tctx_eval(&c, xml), 5);
    snprintf(xml, sizeof xml, "<statsOperator name='popSD'>%s</statsOperator>", set);
    tctx_assert_float(tctx_eval(&c, xml), 2);
    snprintf(xml, sizeof xml, "<statsOperator name='sampleVariance'>%s</statsOperator>", set);
    tctx_assert_float(tctx_eval(&c, xml), 32.0 / 7);
    tctx_assert_null(tctx_eval(&c, "<statsOperator name='sampleVariance'><multiple>" INT(
                                       "2") "</multiple></statsOperator>"));
    done(&c);
}

static void test_math_operator(void **state)
{
    (void)state;
    CTX;
    tctx_assert_float(
        tctx_eval(&c, "<mathOperator name='sin'><divide><mathConstant name='pi'/>" INT(
                          "2") "</divide></mathOperator>"),
        1);
    tctx_assert_int(tctx_eval(&c, "<mathOperator name='floor'>" FLT("-2.5") "</mathOperator>"), -3);
    tctx_assert_int(tctx_eval(&c, "<mathOperator name='signum'>" FLT("-0.1") "</mathOperator>"),
                    -1);
    tctx_assert_null(tctx_eval(&c, "<mathOperator name='ln'>" INT("-1") "</mathOperator>"));
    tctx_assert_float(
        tctx_eval(&c, "<mathOperator name='atan2'>" INT("1") INT("1") "</mathOperator>"), M_PI / 4);
    tctx_assert_float(tctx_eval(&c, "<mathOperator name='toDegrees'><mathConstant name='pi'/>"
                                    "</mathOperator>"),
                      180);
    tctx_expect_error(&c, "<mathOperator name='sin'>" INT("1") INT("2") "</mathOperator>",
                      "takes 1 sub-expression");
    done(&c);
}

/* ---- mapping ---- */

#define MAPPED_DECL                                                                                \
    "<responseDeclaration identifier='R' cardinality='multiple' baseType='identifier'>"            \
    "<mapping lowerBound='0' upperBound='2' defaultValue='-1'>"                                    \
    "<mapEntry mapKey='A' mappedValue='1'/><mapEntry mapKey='B' mappedValue='0.5'/>"               \
    "<mapEntry mapKey='C' mappedValue='1'/></mapping></responseDeclaration>"

static void test_map_response_counts_each_value_once(void **state)
{
    (void)state;
    CTX;
    tctx_declare(&c, MAPPED_DECL);
    tctx_set_json(&c, "R", "[\"B\", \"B\", \"A\"]");
    tctx_assert_float(tctx_eval(&c, "<mapResponse identifier='R'/>"), 1.5);
    done(&c);
}

static void test_map_response_applies_upper_bound(void **state)
{
    (void)state;
    CTX;
    tctx_declare(&c, MAPPED_DECL);
    tctx_set_json(&c, "R", "[\"A\", \"B\", \"C\"]");
    tctx_assert_float(tctx_eval(&c, "<mapResponse identifier='R'/>"), 2);
    done(&c);
}

static void test_map_response_unmapped_value_gives_default_then_lower_bound(void **state)
{
    (void)state;
    CTX;
    tctx_declare(&c, MAPPED_DECL);
    tctx_set_json(&c, "R", "[\"Z\"]");
    tctx_assert_float(tctx_eval(&c, "<mapResponse identifier='R'/>"), 0);
    tctx_set_json(&c, "R", "[\"Z\", \"A\", \"C\"]");
    tctx_assert_float(tctx_eval(&c, "<mapResponse identifier='R'/>"), 1);
    done(&c);
}

static void test_map_response_case_insensitive_string_keys(void **state)
{
    (void)state;
    CTX;
    tctx_declare(&c, "<responseDeclaration identifier='T' cardinality='single' baseType='string'>"
                     "<mapping defaultValue='0'><mapEntry mapKey='York' mappedValue='1' "
                     "caseSensitive='false'/></mapping></responseDeclaration>");
    tctx_set_json(&c, "T", "\"YORK\"");
    tctx_assert_float(tctx_eval(&c, "<mapResponse identifier='T'/>"), 1);
    done(&c);
}

static void test_map_response_without_mapping_is_an_error(void **state)
{
    (void)state;
    CTX;
    tctx_declare(&c, "<responseDeclaration identifier='R' cardinality='single' "
                     "baseType='identifier'/>");
    tctx_expect_error(&c, "<mapResponse identifier='R'/>", "has no mapping");
    done(&c);
}

static void test_map_response_point_maps_each_area_once(void **state)
{
    (void)state;
    CTX;
    tctx_declare(&c, "<responseDeclaration identifier='P' cardinality='multiple' baseType='point'>"
                     "<areaMapping defaultValue='-0.5' lowerBound='-1'>"
                     "<areaMapEntry shape='rect' coords='0,0,10,10' mappedValue='1'/>"
                     "<areaMapEntry shape='circle' coords='50,50,5' mappedValue='2'/>"
                     "</areaMapping></responseDeclaration>");
    tctx_set_json(&c, "P", "[\"1 1\", \"2 2\", \"50 52\"]");
    tctx_assert_float(tctx_eval(&c, "<mapResponsePoint identifier='P'/>"), 3);
    tctx_set_json(&c, "P", "[\"1 1\", \"99 99\"]");
    tctx_assert_float(tctx_eval(&c, "<mapResponsePoint identifier='P'/>"), 0.5);
    done(&c);
}

/* ---- test level ---- */

static void setup_test_level(struct tctx *c)
{
    c->test_level = true;
    const char *refs[] = {"Q1", "Q2", "Q3"};
    const char *sections[] = {"S1", "S1", "S2"};
    const char *cats[] = {"math", "lang", "math"};
    for (int i = 0; i < 3; i++) {
        struct tctx_item *it = &c->items[c->nitems++];
        it->st.ref = refs[i];
        it->st.selected = true;
        it->st.presented = i < 2;
        it->st.attempted = i < 2;
        it->st.responded = i == 0;
        it->st.judgeable = true;
        it->st.correct = i == 0;
        it->section = sections[i];
        it->category = cats[i];
        it->weight_id = "W";
        it->weight = i + 1;
        char xml[300];
        snprintf(xml, sizeof xml,
                 "<outcomeDeclaration identifier='%s.SCORE' cardinality='single' "
                 "baseType='%s' %s><defaultValue><value>%d</value></defaultValue>"
                 "</outcomeDeclaration>",
                 refs[i], i == 1 ? "float" : "integer",
                 i == 2 ? "" : "normalMaximum='4' normalMinimum='-1'", i + 1);
        tctx_declare(c, xml);
    }
}

static void test_number_operators_count_item_states(void **state)
{
    (void)state;
    CTX;
    setup_test_level(&c);
    tctx_assert_int(tctx_eval(&c, "<numberSelected/>"), 3);
    tctx_assert_int(tctx_eval(&c, "<numberPresented/>"), 2);
    tctx_assert_int(tctx_eval(&c, "<numberResponded/>"), 1);
    tctx_assert_int(tctx_eval(&c, "<numberCorrect/>"), 1);
    tctx_assert_int(tctx_eval(&c, "<numberIncorrect/>"), 1);
    done(&c);
}

/* QTI 2.1: numberCorrect and numberIncorrect consider only items whose every declared response
 * variable has a correct response (an item with a free-text comment beside its choice has
 * none for the comment: it is neither correct nor incorrect). */
static void test_number_correct_and_incorrect_ignore_items_that_cannot_be_judged(void **state)
{
    (void)state;
    CTX;
    setup_test_level(&c);
    c.items[0].st.judgeable = false; /* attempted and its judged responses right */
    c.items[1].st.judgeable = false; /* attempted and wrong */
    tctx_assert_int(tctx_eval(&c, "<numberCorrect/>"), 0);
    tctx_assert_int(tctx_eval(&c, "<numberIncorrect/>"), 0);
    tctx_assert_int(tctx_eval(&c, "<numberResponded/>"), 1); /* the other counts are not affected */
    done(&c);
}

static void test_item_subset_filters_by_section_and_category(void **state)
{
    (void)state;
    CTX;
    setup_test_level(&c);
    tctx_assert_int(tctx_eval(&c, "<numberSelected sectionIdentifier='S1'/>"), 2);
    tctx_assert_int(tctx_eval(&c, "<numberSelected includeCategory='math'/>"), 2);
    tctx_assert_int(tctx_eval(&c, "<numberSelected excludeCategory='math lang'/>"), 0);
    done(&c);
}

static void test_test_variables_collects_and_promotes_to_float(void **state)
{
    (void)state;
    CTX;
    setup_test_level(&c);
    /* Q2's SCORE is a float: the result is a float container */
    tctx_assert_json(tctx_eval(&c, "<testVariables variableIdentifier='SCORE'/>"), "[1.0,2.0,3.0]");
    done(&c);
}

static void test_test_variables_integers_stay_integers(void **state)
{
    (void)state;
    CTX;
    setup_test_level(&c);
    tctx_assert_json(
        tctx_eval(&c, "<testVariables variableIdentifier='SCORE' baseType='integer'/>"), "[1,3]");
    done(&c);
}

static void test_test_variables_applies_weights(void **state)
{
    (void)state;
    CTX;
    setup_test_level(&c);
    /* 1*1 + 2*2 + 3*3 */
    struct qti_value *v = tctx_eval(&c, "<testVariables variableIdentifier='SCORE' "
                                        "weightIdentifier='W'/>");
    assert_int_equal(v->type, QTI_BT_FLOAT);
    double sum = 0;
    for (size_t i = 0; i < v->n; i++)
        sum += v->items[i].u.f;
    assert_float_equal(sum, 14, 1e-9);
    qti_value_free(v);
    done(&c);
}

static void test_variable_weight_applies_to_item_variables(void **state)
{
    (void)state;
    CTX;
    setup_test_level(&c);
    tctx_assert_float(tctx_eval(&c, "<variable identifier='Q3.SCORE' weightIdentifier='W'/>"), 9);
    /* QTI 2.1: a weight the item ref does not define is 1.0, and a weighted integer is a
     * float */
    tctx_assert_float(tctx_eval(&c, "<variable identifier='Q3.SCORE' weightIdentifier='NONE'/>"),
                      3);
    /* without a weight the declared type stays */
    tctx_assert_int(tctx_eval(&c, "<variable identifier='Q3.SCORE'/>"), 3);
    done(&c);
}

static void test_outcome_maximum_is_null_when_an_item_has_none(void **state)
{
    (void)state;
    CTX;
    setup_test_level(&c);
    tctx_assert_null(tctx_eval(&c, "<outcomeMaximum outcomeIdentifier='SCORE'/>"));
    tctx_assert_json(tctx_eval(&c, "<outcomeMaximum outcomeIdentifier='SCORE' "
                                   "sectionIdentifier='S1' weightIdentifier='W'/>"),
                     "[4.0,8.0]");
    done(&c);
}

static void test_outcome_minimum_ignores_items_without_one(void **state)
{
    (void)state;
    CTX;
    setup_test_level(&c);
    tctx_assert_json(tctx_eval(&c, "<outcomeMinimum outcomeIdentifier='SCORE'/>"), "[-1.0,-1.0]");
    done(&c);
}

/* An item of the subset that does not declare the outcome has no declared maximum either:
 * outcomeMaximum is NULL, outcomeMinimum ignores it. */
static void test_outcome_maximum_is_null_when_an_item_lacks_the_outcome(void **state)
{
    (void)state;
    CTX;
    setup_test_level(&c);
    tctx_declare(&c, "<outcomeDeclaration identifier='Q1.EXTRA' cardinality='single' "
                     "baseType='float' normalMaximum='5' normalMinimum='2'/>");
    tctx_assert_null(
        tctx_eval(&c, "<outcomeMaximum outcomeIdentifier='EXTRA' sectionIdentifier='S1'/>"));
    tctx_assert_json(
        tctx_eval(&c, "<outcomeMinimum outcomeIdentifier='EXTRA' sectionIdentifier='S1'/>"),
        "[2.0]");
    done(&c);
}

static void test_test_variables_refuses_a_weight_with_integer_base_type(void **state)
{
    (void)state;
    CTX;
    setup_test_level(&c);
    tctx_expect_error(&c,
                      "<testVariables variableIdentifier='SCORE' baseType='integer' "
                      "weightIdentifier='W'/>",
                      "weightIdentifier cannot be used with baseType integer");
    /* baseType float with a weight keeps only float variables (Q2: 2.0 * weight 2) */
    tctx_assert_json(tctx_eval(&c, "<testVariables variableIdentifier='SCORE' baseType='float' "
                                   "weightIdentifier='W'/>"),
                     "[4.0]");
    done(&c);
}

static void test_test_level_operator_at_item_level_is_an_error(void **state)
{
    (void)state;
    CTX;
    tctx_expect_error(&c, "<numberCorrect/>", "only allowed in outcome processing of a test");
    done(&c);
}

/* ---- parsing and hostile input ---- */

static void test_custom_operator_is_refused_naming_its_class(void **state)
{
    (void)state;
    CTX;
    tctx_expect_error(&c, "<customOperator class='com.example.Fancy'>" INT("1") "</customOperator>",
                      "com.example.Fancy");
    done(&c);
}

static void test_unknown_element_is_not_an_expression(void **state)
{
    (void)state;
    CTX;
    tctx_expect_error(&c, "<sum>" INT("1") "<banana/></sum>", "not a QTI expression");
    done(&c);
}

static void test_wrong_number_of_sub_expressions(void **state)
{
    (void)state;
    CTX;
    tctx_expect_error(&c, "<match>" INT("1") "</match>", "needs at least 2");
    tctx_expect_error(&c, "<not>" BOOL("true") BOOL("true") "</not>", "at most 1");
    done(&c);
}

static void test_deep_nesting_fails_cleanly(void **state)
{
    (void)state;
    CTX;
    size_t depth = 5000;
    char *xml = malloc(depth * 12 + 100);
    char *p = xml;
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "<not>");
    p += sprintf(p, BOOL("true"));
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "</not>");
    /* libxml2 itself stops at 256 levels without XML_PARSE_HUGE; 100 levels reach our limit */
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "deep.xml", NULL, XML_PARSE_NONET);
    if (doc) {
        struct qti_expr *x = NULL;
        struct op_err e = {0};
        assert_int_not_equal(qti_expr_parse(xmlDocGetRootElement(doc), &x, &e), 0);
        xmlFreeDoc(doc);
    }
    p = xml;
    for (size_t i = 0; i < 100; i++)
        p += sprintf(p, "<not>");
    p += sprintf(p, BOOL("true"));
    for (size_t i = 0; i < 100; i++)
        p += sprintf(p, "</not>");
    tctx_expect_error(&c, xml, "nested deeper than 64");
    free(xml);
    done(&c);
}

static void test_deep_json_fails_cleanly(void **state)
{
    (void)state;
    json_t *leaf =
        json_pack("{s:s, s:s, s:s}", "op", "baseValue", "baseType", "boolean", "value", "true");
    for (int i = 0; i < 200; i++)
        leaf = json_pack("{s:s, s:[o]}", "op", "not", "args", leaf);
    struct qti_expr *x = NULL;
    struct op_err e = {0};
    assert_int_not_equal(qti_expr_from_json(leaf, &x, &e), 0);
    assert_non_null(strstr(e.msg, "nested deeper"));
    json_decref(leaf);
}

static void test_huge_containers_fail_cleanly(void **state)
{
    (void)state;
    CTX;
    /* repeat cannot build more than QTI_VALUE_MAX_ITEMS values */
    tctx_expect_error(&c, "<repeat numberRepeats='5000'>" INT("1") INT("2") INT("3") "</repeat>",
                      "over 10000");
    tctx_expect_error(&c, "<repeat numberRepeats='99999999'>" INT("1") "</repeat>",
                      "numberRepeats over");
    /* too many operators in one tree */
    size_t n = QTI_EXPR_MAX_NODES + 10;
    char *xml = malloc(n * 8 + 64);
    char *p = xml + sprintf(xml, "<multiple>");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "<null/>");
    sprintf(p, "</multiple>");
    tctx_expect_error(&c, xml, "over 100000 operators");
    free(xml);
    done(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_value_gives_its_typed_value),
        cmocka_unit_test(test_base_value_refuses_a_value_not_of_its_type),
        cmocka_unit_test(test_empty_string_base_value_is_null),
        cmocka_unit_test(test_variable_gives_current_value),
        cmocka_unit_test(test_unknown_variable_is_an_error_naming_it),
        cmocka_unit_test(test_default_and_correct_give_declared_values),
        cmocka_unit_test(test_math_constant_pi_and_e),
        cmocka_unit_test(test_null_is_null),
        cmocka_unit_test(test_sum_of_integers_is_integer),
        cmocka_unit_test(test_sum_with_a_float_is_float),
        cmocka_unit_test(test_sum_is_null_if_any_operand_null),
        cmocka_unit_test(test_integer_results_outside_32_bits_give_null),
        cmocka_unit_test(test_integer_outside_32_bits_is_refused_when_read),
        cmocka_unit_test(test_sum_of_a_string_is_a_type_error),
        cmocka_unit_test(test_sum_adds_the_members_of_containers),
        cmocka_unit_test(test_product_and_subtract),
        cmocka_unit_test(test_divide_gives_float),
        cmocka_unit_test(test_divide_by_zero_is_null),
        cmocka_unit_test(test_power_gives_float_and_null_outside_float_range),
        cmocka_unit_test(test_integer_divide_rounds_down),
        cmocka_unit_test(test_integer_modulus_follows_integer_divide),
        cmocka_unit_test(test_round_takes_half_up),
        cmocka_unit_test(test_truncate_goes_toward_zero),
        cmocka_unit_test(test_round_to_decimal_places_and_significant_figures),
        cmocka_unit_test(test_integer_to_float),
        cmocka_unit_test(test_equal_exact),
        cmocka_unit_test(test_equal_absolute_tolerance),
        cmocka_unit_test(test_equal_relative_tolerance),
        cmocka_unit_test(test_equal_excludes_a_bound_when_asked),
        cmocka_unit_test(test_equal_needs_a_tolerance_outside_exact_mode),
        cmocka_unit_test(test_equal_rounded_compares_after_rounding),
        cmocka_unit_test(test_ordering_comparisons),
        cmocka_unit_test(test_duration_comparisons),
        cmocka_unit_test(test_match_multiple_compares_as_bags),
        cmocka_unit_test(test_match_ordered_compares_as_sequences),
        cmocka_unit_test(test_match_pairs_are_unordered_directed_pairs_are_not),
        cmocka_unit_test(test_match_with_null_is_null),
        cmocka_unit_test(test_match_of_different_types_is_an_error),
        cmocka_unit_test(test_inside_shapes),
        cmocka_unit_test(test_and_false_dominates_null),
        cmocka_unit_test(test_or_true_dominates_null),
        cmocka_unit_test(test_not_inverts_and_keeps_null),
        cmocka_unit_test(test_any_n_counts_trues_and_nulls),
        cmocka_unit_test(test_any_n_follows_the_specification_examples),
        cmocka_unit_test(test_multiple_flattens_and_ignores_null),
        cmocka_unit_test(test_empty_multiple_is_null),
        cmocka_unit_test(test_multiple_refuses_mixed_base_types),
        cmocka_unit_test(test_ordered_keeps_order),
        cmocka_unit_test(test_container_size_of_null_is_zero),
        cmocka_unit_test(test_is_null_of_values),
        cmocka_unit_test(test_index_is_one_based_and_null_outside),
        cmocka_unit_test(test_index_with_a_variable_reference),
        cmocka_unit_test(test_member_delete_contains),
        cmocka_unit_test(test_contains_multiple_counts_repeats),
        cmocka_unit_test(test_contains_ordered_needs_a_contiguous_subsequence),
        cmocka_unit_test(test_field_value_reads_a_record_field),
        cmocka_unit_test(test_repeat_builds_an_ordered_container),
        cmocka_unit_test(test_random_picks_a_member),
        cmocka_unit_test(test_random_integer_stays_on_steps_within_bounds),
        cmocka_unit_test(test_random_float_stays_within_bounds),
        cmocka_unit_test(test_same_seed_gives_same_random_values),
        cmocka_unit_test(test_random_without_a_generator_is_an_error),
        cmocka_unit_test(test_substring_first_inside_second),
        cmocka_unit_test(test_string_match_case),
        cmocka_unit_test(test_pattern_match_is_anchored_xml_schema_regex),
        cmocka_unit_test(test_pattern_match_counts_characters_not_bytes),
        cmocka_unit_test(test_pattern_match_bounds_and_refusals),
        cmocka_unit_test(test_max_and_min),
        cmocka_unit_test(test_gcd_and_lcm),
        cmocka_unit_test(test_stats_operator),
        cmocka_unit_test(test_math_operator),
        cmocka_unit_test(test_map_response_counts_each_value_once),
        cmocka_unit_test(test_map_response_applies_upper_bound),
        cmocka_unit_test(test_map_response_unmapped_value_gives_default_then_lower_bound),
        cmocka_unit_test(test_map_response_case_insensitive_string_keys),
        cmocka_unit_test(test_map_response_without_mapping_is_an_error),
        cmocka_unit_test(test_map_response_point_maps_each_area_once),
        cmocka_unit_test(test_number_operators_count_item_states),
        cmocka_unit_test(test_number_correct_and_incorrect_ignore_items_that_cannot_be_judged),
        cmocka_unit_test(test_item_subset_filters_by_section_and_category),
        cmocka_unit_test(test_test_variables_collects_and_promotes_to_float),
        cmocka_unit_test(test_test_variables_integers_stay_integers),
        cmocka_unit_test(test_test_variables_applies_weights),
        cmocka_unit_test(test_variable_weight_applies_to_item_variables),
        cmocka_unit_test(test_outcome_maximum_is_null_when_an_item_has_none),
        cmocka_unit_test(test_outcome_minimum_ignores_items_without_one),
        cmocka_unit_test(test_outcome_maximum_is_null_when_an_item_lacks_the_outcome),
        cmocka_unit_test(test_test_variables_refuses_a_weight_with_integer_base_type),
        cmocka_unit_test(test_test_level_operator_at_item_level_is_an_error),
        cmocka_unit_test(test_custom_operator_is_refused_naming_its_class),
        cmocka_unit_test(test_unknown_element_is_not_an_expression),
        cmocka_unit_test(test_wrong_number_of_sub_expressions),
        cmocka_unit_test(test_deep_nesting_fails_cleanly),
        cmocka_unit_test(test_deep_json_fails_cleanly),
        cmocka_unit_test(test_huge_containers_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
