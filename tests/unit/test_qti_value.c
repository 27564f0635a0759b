/*
 * test_qti_value.c - QTI values and declarations: the JSON form of every base type and
 * cardinality (the responses file of `outpost qti run`), equality as QTI defines it, the
 * text form, and declarations read from XML, written as JSON in both views and read back.
 */
#include "qti_testctx.h"

#include <stdio.h>
#include <stdlib.h>

static struct qti_value *from_json(enum qti_base_type t, enum qti_cardinality c, const char *text,
                                   struct op_err *e, int *rc)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    assert_non_null(j);
    struct qti_value *v = NULL;
    *rc = qti_value_from_json(t, c, j, "Q01 RESPONSE", &v, e);
    json_decref(j);
    return v;
}

/* Reads `in`, checks it writes back as `out`, and that `out` reads back equal. */
static void round_trip(enum qti_base_type t, enum qti_cardinality c, const char *in,
                       const char *out)
{
    struct op_err e = {0};
    int rc;
    struct qti_value *v = from_json(t, c, in, &e, &rc);
    if (rc != 0)
        fail_msg("%s does not read: %s", in, e.msg);
    json_t *j = qti_value_to_json(v);
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    if (strcmp(s, out) != 0)
        fail_msg("%s writes back as %s, not %s", in, s, out);
    struct qti_value *w = from_json(t, c, s, &e, &rc);
    assert_int_equal(rc, 0);
    assert_true(qti_value_equal(v, w));
    free(s);
    json_decref(j);
    qti_value_free(v);
    qti_value_free(w);
}

static void expect_json_error(enum qti_base_type t, enum qti_cardinality c, const char *in,
                              const char *needle)
{
    struct op_err e = {0};
    int rc;
    struct qti_value *v = from_json(t, c, in, &e, &rc);
    assert_null(v);
    assert_int_not_equal(rc, 0);
    if (!strstr(e.msg, needle))
        fail_msg("error \"%s\" does not contain \"%s\"", e.msg, needle);
    assert_non_null(strstr(e.msg, "Q01 RESPONSE"));
}

static void test_json_form_of_every_base_type(void **state)
{
    (void)state;
    round_trip(QTI_BT_IDENTIFIER, QTI_CARD_SINGLE, "\"rhinoceros\"", "\"rhinoceros\"");
    round_trip(QTI_BT_STRING, QTI_CARD_SINGLE, "\"two words \"", "\"two words \"");
    round_trip(QTI_BT_URI, QTI_CARD_SINGLE, "\"http://x/y\"", "\"http://x/y\"");
    round_trip(QTI_BT_BOOLEAN, QTI_CARD_SINGLE, "true", "true");
    round_trip(QTI_BT_INTEGER, QTI_CARD_SINGLE, "42", "42");
    round_trip(QTI_BT_INTEGER, QTI_CARD_SINGLE, "3.0", "3");
    round_trip(QTI_BT_FLOAT, QTI_CARD_SINGLE, "2.5", "2.5");
    round_trip(QTI_BT_FLOAT, QTI_CARD_SINGLE, "2", "2.0");
    round_trip(QTI_BT_DURATION, QTI_CARD_SINGLE, "90.5", "90.5");
    round_trip(QTI_BT_POINT, QTI_CARD_SINGLE, "\"10 -20\"", "\"10 -20\"");
    round_trip(QTI_BT_PAIR, QTI_CARD_SINGLE, "\"A  B\"", "\"A B\"");
    round_trip(QTI_BT_DIRECTED_PAIR, QTI_CARD_SINGLE, "\"B A\"", "\"B A\"");
}

static void test_json_form_of_containers_and_records(void **state)
{
    (void)state;
    round_trip(QTI_BT_IDENTIFIER, QTI_CARD_MULTIPLE, "[\"A\", \"C\"]", "[\"A\",\"C\"]");
    round_trip(QTI_BT_IDENTIFIER, QTI_CARD_ORDERED, "[\"C\", \"A\"]", "[\"C\",\"A\"]");
    round_trip(QTI_BT_DIRECTED_PAIR, QTI_CARD_MULTIPLE, "[\"A X\"]", "[\"A X\"]");
    /* a lone value is read as a container of one */
    round_trip(QTI_BT_IDENTIFIER, QTI_CARD_MULTIPLE, "\"A\"", "[\"A\"]");
    round_trip(QTI_BT_NONE, QTI_CARD_RECORD, "{\"n\": {\"baseType\": \"integer\", \"value\": 3}}",
               "{\"n\":{\"baseType\":\"integer\",\"value\":3}}");
}

static void test_json_null_empty_string_and_empty_array_are_null(void **state)
{
    (void)state;
    struct op_err e = {0};
    int rc;
    assert_null(from_json(QTI_BT_IDENTIFIER, QTI_CARD_SINGLE, "null", &e, &rc));
    assert_int_equal(rc, 0);
    assert_null(from_json(QTI_BT_STRING, QTI_CARD_SINGLE, "\"\"", &e, &rc));
    assert_int_equal(rc, 0);
    assert_null(from_json(QTI_BT_IDENTIFIER, QTI_CARD_MULTIPLE, "[]", &e, &rc));
    assert_int_equal(rc, 0);
    json_t *j = qti_value_to_json(NULL);
    assert_true(json_is_null(j));
    json_decref(j);
}

static void test_json_value_that_does_not_fit_names_the_variable(void **state)
{
    (void)state;
    expect_json_error(QTI_BT_IDENTIFIER, QTI_CARD_SINGLE, "[\"A\"]", "expected a single");
    expect_json_error(QTI_BT_IDENTIFIER, QTI_CARD_SINGLE, "\"two words\"", "not an identifier");
    expect_json_error(QTI_BT_INTEGER, QTI_CARD_SINGLE, "2.5", "expected an integer");
    expect_json_error(QTI_BT_FLOAT, QTI_CARD_SINGLE, "\"2.5\"", "JSON number");
    expect_json_error(QTI_BT_BOOLEAN, QTI_CARD_SINGLE, "1", "true or false");
    expect_json_error(QTI_BT_POINT, QTI_CARD_SINGLE, "\"1\"", "not a point");
    expect_json_error(QTI_BT_PAIR, QTI_CARD_SINGLE, "\"A B C\"", "not a pair");
    expect_json_error(QTI_BT_IDENTIFIER, QTI_CARD_MULTIPLE, "[[\"A\"]]", "not an array");
    expect_json_error(QTI_BT_FILE, QTI_CARD_SINGLE, "\"x\"", "expected a file as a JSON object");
    expect_json_error(QTI_BT_FILE, QTI_CARD_SINGLE, "{\"name\": \"a\"}", "its MIME type");
    expect_json_error(QTI_BT_FILE, QTI_CARD_SINGLE, "{\"type\": \"a/b\", \"x\": [1]}",
                      "not a string or a number");
    expect_json_error(QTI_BT_NONE, QTI_CARD_RECORD, "{\"n\": 3}", "record field n");
}

static void test_json_container_over_the_limit_is_refused(void **state)
{
    (void)state;
    size_t n = QTI_VALUE_MAX_ITEMS + 1;
    char *text = malloc(n * 4 + 8);
    char *p = text + sprintf(text, "[");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s1", i ? "," : "");
    sprintf(p, "]");
    expect_json_error(QTI_BT_INTEGER, QTI_CARD_MULTIPLE, text, "over 10000");
    free(text);
}

static struct qti_value *vj(enum qti_base_type t, enum qti_cardinality c, const char *text)
{
    struct op_err e = {0};
    int rc;
    struct qti_value *v = from_json(t, c, text, &e, &rc);
    assert_int_equal(rc, 0);
    return v;
}

static void test_equality_multiple_as_bags_ordered_as_sequences(void **state)
{
    (void)state;
    struct qti_value *a = vj(QTI_BT_IDENTIFIER, QTI_CARD_MULTIPLE, "[\"A\",\"B\",\"A\"]");
    struct qti_value *b = vj(QTI_BT_IDENTIFIER, QTI_CARD_MULTIPLE, "[\"A\",\"A\",\"B\"]");
    struct qti_value *c = vj(QTI_BT_IDENTIFIER, QTI_CARD_MULTIPLE, "[\"A\",\"B\",\"B\"]");
    struct qti_value *d = vj(QTI_BT_IDENTIFIER, QTI_CARD_ORDERED, "[\"A\",\"B\",\"A\"]");
    struct qti_value *f = vj(QTI_BT_IDENTIFIER, QTI_CARD_ORDERED, "[\"A\",\"A\",\"B\"]");
    assert_true(qti_value_equal(a, b));
    assert_false(qti_value_equal(a, c));
    assert_false(qti_value_equal(a, d)); /* cardinality differs */
    assert_false(qti_value_equal(d, f));
    qti_value_free(a);
    qti_value_free(b);
    qti_value_free(c);
    qti_value_free(d);
    qti_value_free(f);
}

static void test_equality_of_pairs_points_and_records(void **state)
{
    (void)state;
    struct qti_value *p1 = qti_value_pair(QTI_BT_PAIR, "A", "B");
    struct qti_value *p2 = qti_value_pair(QTI_BT_PAIR, "B", "A");
    struct qti_value *d1 = qti_value_pair(QTI_BT_DIRECTED_PAIR, "A", "B");
    struct qti_value *d2 = qti_value_pair(QTI_BT_DIRECTED_PAIR, "B", "A");
    assert_true(qti_value_equal(p1, p2));
    assert_false(qti_value_equal(d1, d2));
    assert_false(qti_value_equal(p1, d1));
    struct qti_value *x = qti_value_point(1, 2), *y = qti_value_point(2, 1);
    assert_false(qti_value_equal(x, y));
    struct qti_value *r1 = vj(QTI_BT_NONE, QTI_CARD_RECORD,
                              "{\"a\":{\"baseType\":\"integer\",\"value\":1},"
                              "\"b\":{\"baseType\":\"string\",\"value\":\"x\"}}");
    struct qti_value *r2 = vj(QTI_BT_NONE, QTI_CARD_RECORD,
                              "{\"b\":{\"baseType\":\"string\",\"value\":\"x\"},"
                              "\"a\":{\"baseType\":\"integer\",\"value\":1}}");
    assert_true(qti_value_equal(r1, r2));
    struct qti_value *vals[] = {p1, p2, d1, d2, x, y, r1, r2};
    for (size_t i = 0; i < 8; i++)
        qti_value_free(vals[i]);
}

static void test_copy_is_deep_and_equal(void **state)
{
    (void)state;
    struct qti_value *a = vj(QTI_BT_PAIR, QTI_CARD_ORDERED, "[\"A B\",\"C D\",\"E F\"]"), *b;
    assert_int_equal(qti_value_copy(a, &b), 0);
    assert_true(qti_value_equal(a, b));
    assert_ptr_not_equal(a->items[0].u.pair.a, b->items[0].u.pair.a);
    struct op_err e = {0};
    struct qti_scalar s;
    assert_int_equal(qti_scalar_parse(QTI_BT_PAIR, "G H", "test", &s, &e), 0);
    assert_int_equal(qti_value_append(b, &s, &e), 0); /* a copy can grow */
    qti_scalar_clear(&s);
    assert_int_equal(b->n, 4);
    qti_value_free(a);
    qti_value_free(b);
}

static void test_is_null_covers_empty_string_and_container(void **state)
{
    (void)state;
    struct qti_value *s = qti_value_string(""),
                     *c = qti_value_container(QTI_CARD_MULTIPLE, QTI_BT_INTEGER);
    struct qti_value *z = qti_value_integer(0);
    assert_true(qti_value_is_null(NULL));
    assert_true(qti_value_is_null(s));
    assert_true(qti_value_is_null(c));
    assert_false(qti_value_is_null(z));
    qti_value_free(s);
    qti_value_free(c);
    qti_value_free(z);
}

static void test_text_form_parses_and_formats(void **state)
{
    (void)state;
    struct op_err e = {0};
    struct qti_scalar s;
    assert_int_equal(qti_scalar_parse(QTI_BT_DURATION, "P1DT1H1M1.5S", "d", &s, &e), 0);
    assert_float_equal(s.u.f, 86400 + 3600 + 60 + 1.5, 1e-9);
    assert_int_equal(qti_scalar_parse(QTI_BT_FLOAT, "INF", "f", &s, &e), 0);
    char *t = qti_scalar_format(&s);
    assert_string_equal(t, "INF");
    free(t);
    assert_int_equal(qti_scalar_parse(QTI_BT_FLOAT, "0.1", "f", &s, &e), 0);
    t = qti_scalar_format(&s);
    assert_string_equal(t, "0.1");
    free(t);
    assert_int_not_equal(qti_scalar_parse(QTI_BT_FLOAT, "0x10", "f", &s, &e), 0);
    assert_int_not_equal(qti_scalar_parse(QTI_BT_INTEGER, "99999999999999999999", "i", &s, &e), 0);
    assert_int_not_equal(qti_scalar_parse(QTI_BT_DURATION, "P1Y", "d", &s, &e), 0);
}

/* ---- declarations ---- */

#define FULL_DECL                                                                                  \
    "<responseDeclaration identifier='RESPONSE' cardinality='multiple' baseType='identifier'>"     \
    "<defaultValue><value>A</value></defaultValue>"                                                \
    "<correctResponse><value>B</value></correctResponse>"                                          \
    "<mapping lowerBound='0' upperBound='3' defaultValue='-1'>"                                    \
    "<mapEntry mapKey='B' mappedValue='2'/><mapEntry mapKey='c' mappedValue='1' "                  \
    "caseSensitive='false'/></mapping></responseDeclaration>"

static struct qti_decl *decl_of(const char *xml, struct op_err *e, int *rc)
{
    xmlDoc *doc = tctx_xml(xml);
    struct qti_decl *d = NULL;
    *rc = qti_decl_parse(xmlDocGetRootElement(doc), &d, e);
    xmlFreeDoc(doc);
    return d;
}

static void test_declaration_json_round_trip_keeps_scoring_data(void **state)
{
    (void)state;
    struct op_err e = {0};
    int rc;
    struct qti_decl *d = decl_of(FULL_DECL, &e, &rc), *back = NULL;
    assert_int_equal(rc, 0);
    json_t *j = qti_decl_to_json(d, QTI_DECL_VIEW_SCORING);
    assert_int_equal(qti_decl_from_json(j, &back, &e), 0);
    json_t *j2 = qti_decl_to_json(back, QTI_DECL_VIEW_SCORING);
    assert_true(json_equal(j, j2));
    assert_true(qti_value_equal(d->correct_response, back->correct_response));
    assert_int_equal(back->mapping.n, 2);
    assert_false(back->mapping.entries[1].case_sensitive);
    json_decref(j);
    json_decref(j2);
    qti_decl_free(d);
    qti_decl_free(back);
}

static void test_public_view_of_a_declaration_gives_no_answers_away(void **state)
{
    (void)state;
    struct op_err e = {0};
    int rc;
    struct qti_decl *d = decl_of(FULL_DECL, &e, &rc);
    json_t *j = qti_decl_to_json(d, QTI_DECL_VIEW_PUBLIC);
    assert_null(json_object_get(j, "correctResponse"));
    assert_null(json_object_get(j, "mapping"));
    assert_null(json_object_get(j, "areaMapping"));
    char *text = json_dumps(j, JSON_COMPACT);
    assert_null(strstr(text, "\"B\""));
    assert_non_null(json_object_get(j, "defaultValue"));
    free(text);
    json_decref(j);
    qti_decl_free(d);
}

static void test_declaration_errors_name_the_variable_and_line(void **state)
{
    (void)state;
    struct op_err e = {0};
    int rc;
    decl_of("<responseDeclaration identifier='R' cardinality='single' baseType='integer'>\n"
            "<correctResponse><value>x</value></correctResponse></responseDeclaration>",
            &e, &rc);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(e.msg, "responseDeclaration R line 1"));
    assert_non_null(strstr(e.msg, "not an integer"));
    decl_of("<outcomeDeclaration identifier='S' cardinality='lots' baseType='float'/>", &e, &rc);
    assert_non_null(strstr(e.msg, "cardinality \"lots\""));
    decl_of("<responseDeclaration identifier='P' cardinality='single' baseType='point'>"
            "<areaMapping><areaMapEntry shape='rect' coords='1,2' mappedValue='1'/>"
            "</areaMapping></responseDeclaration>",
            &e, &rc);
    assert_non_null(strstr(e.msg, "cannot have 2 coordinates"));
    decl_of("<responseDeclaration identifier='R' cardinality='single' baseType='identifier'>"
            "<correctResponse><value>A</value><value>B</value></correctResponse>"
            "</responseDeclaration>",
            &e, &rc);
    assert_non_null(strstr(e.msg, "one value"));
}

static void test_declaration_json_refuses_bad_input(void **state)
{
    (void)state;
    const char *bad[] = {
        "[]",
        "{\"kind\":\"response\",\"cardinality\":\"single\",\"baseType\":\"integer\"}",
        "{\"kind\":\"x\",\"identifier\":\"R\",\"cardinality\":\"single\",\"baseType\":\"integer\"}",
        "{\"kind\":\"response\",\"identifier\":\"R\",\"cardinality\":\"single\","
        "\"baseType\":\"integer\",\"correctResponse\":\"x\"}",
        "{\"kind\":\"response\",\"identifier\":\"R\",\"cardinality\":\"single\","
        "\"baseType\":\"point\",\"areaMapping\":{\"entries\":[{\"shape\":\"circle\","
        "\"coords\":[1],\"mappedValue\":1}]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_error_t je;
        json_t *j = json_loads(bad[i], 0, &je);
        assert_non_null(j);
        struct qti_decl *d = NULL;
        struct op_err e = {0};
        if (qti_decl_from_json(j, &d, &e) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_null(d);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_form_of_every_base_type),
        cmocka_unit_test(test_json_form_of_containers_and_records),
        cmocka_unit_test(test_json_null_empty_string_and_empty_array_are_null),
        cmocka_unit_test(test_json_value_that_does_not_fit_names_the_variable),
        cmocka_unit_test(test_json_container_over_the_limit_is_refused),
        cmocka_unit_test(test_equality_multiple_as_bags_ordered_as_sequences),
        cmocka_unit_test(test_equality_of_pairs_points_and_records),
        cmocka_unit_test(test_copy_is_deep_and_equal),
        cmocka_unit_test(test_is_null_covers_empty_string_and_container),
        cmocka_unit_test(test_text_form_parses_and_formats),
        cmocka_unit_test(test_declaration_json_round_trip_keeps_scoring_data),
        cmocka_unit_test(test_public_view_of_a_declaration_gives_no_answers_away),
        cmocka_unit_test(test_declaration_errors_name_the_variable_and_line),
        cmocka_unit_test(test_declaration_json_refuses_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
