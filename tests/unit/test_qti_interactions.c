/* test_qti_interactions.c - interaction parsing, shuffling and response validation, checked
 * against the rules of the QTI 2.1 information model for each interaction. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "qti/interaction.h"
#include "qti/item.h"

#define QTI21 "http://www.imsglobal.org/xsd/imsqti_v2p1"

/* Parses one interaction element written in the QTI 2.1 namespace. Returns NULL with `e`
 * filled when the parser refuses it. */
static struct qti_interaction *parse(const char *xml, struct op_err *e)
{
    char *doc_text = NULL;
    if (asprintf(&doc_text, "<itemBody xmlns=\"" QTI21 "\">%s</itemBody>", xml) < 0)
        abort();
    xmlDoc *doc;
    if (qti_xml_read("items/q.xml", doc_text, strlen(doc_text), NULL, &doc, e) != 0)
        fail_msg("read: %s", e->msg);
    free(doc_text);
    xmlNode *n = xmlDocGetRootElement(doc)->children;
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    struct qti_xhtml_ctx cx = {"items/q.xml", NULL, NULL, NULL, 0, NULL, NULL, NULL, 0};
    struct qti_interaction *it = NULL;
    qti_interaction_parse(n, "Q1", &cx, &it, e);
    xmlFreeDoc(doc);
    return it;
}

static struct qti_interaction *must_parse(const char *xml)
{
    struct op_err e = {0};
    struct qti_interaction *it = parse(xml, &e);
    if (!it)
        fail_msg("parse: %s", e.msg);
    return it;
}

/* Validates the response given as JSON text; returns 1 valid, 0 invalid (why filled). */
static int check(const struct qti_interaction *it, const char *json, struct qti_invalid *why)
{
    json_error_t jerr;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &jerr);
    if (!j)
        fail_msg("bad test JSON %s", json);
    memset(why, 0, sizeof *why);
    int ok = qti_interaction_validate(it, j, why);
    json_decref(j);
    return ok;
}

static const char *choice3 =
    "<choiceInteraction responseIdentifier=\"R\" shuffle=\"true\" maxChoices=\"2\" "
    "minChoices=\"1\"><prompt>Pick <b>two</b></prompt>"
    "<simpleChoice identifier=\"A\">Alpha</simpleChoice>"
    "<simpleChoice identifier=\"B\" fixed=\"true\">Beta</simpleChoice>"
    "<simpleChoice identifier=\"C\">Gamma</simpleChoice>"
    "<simpleChoice identifier=\"D\">Delta</simpleChoice>"
    "<simpleChoice identifier=\"E\">Epsilon</simpleChoice></choiceInteraction>";

static void test_choice_parses_prompt_and_choices(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(choice3);
    assert_int_equal(it->kind, QTI_INTERACTION_CHOICE);
    assert_string_equal(it->response_identifier, "R");
    assert_string_equal(it->prompt_html, "Pick <b>two</b>");
    assert_int_equal(it->nchoices, 5);
    assert_string_equal(it->choices[1].identifier, "B");
    assert_int_equal(it->choices[1].fixed, 1);
    assert_string_equal(it->choices[2].html, "Gamma");
    assert_int_equal(it->max_choices, 2);
    assert_int_equal(it->min_choices, 1);
    qti_interaction_free(it);
}

static void test_choice_refuses_more_than_max_choices(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(choice3);
    struct qti_invalid why;
    assert_int_equal(check(it, "[\"A\", \"C\"]", &why), 1);
    assert_int_equal(check(it, "[\"A\", \"C\", \"D\"]", &why), 0);
    assert_string_equal(why.rule, "maxChoices");
    assert_string_equal(why.message, "Select at most 2 answers.");
    qti_interaction_free(it);
}

static void test_choice_refuses_fewer_than_min_choices(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(choice3);
    struct qti_invalid why;
    assert_int_equal(check(it, "null", &why), 0);
    assert_string_equal(why.rule, "minChoices");
    assert_string_equal(why.message, "Select at least 1 answer.");
    qti_interaction_free(it);
}

static void test_choice_refuses_identifier_that_is_not_a_choice(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(choice3);
    struct qti_invalid why;
    assert_int_equal(check(it, "[\"A\", \"Z\"]", &why), 0);
    assert_string_equal(why.rule, "choice");
    assert_non_null(strstr(why.message, "\"Z\" is not one of the answers"));
    assert_int_equal(check(it, "[\"A\", \"A\"]", &why), 0);
    assert_string_equal(why.rule, "choice");
    qti_interaction_free(it);
}

static void test_single_choice_without_min_accepts_no_answer(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<choiceInteraction responseIdentifier=\"R\" maxChoices=\"1\">"
                   "<simpleChoice identifier=\"A\">a</simpleChoice>"
                   "<simpleChoice identifier=\"B\">b</simpleChoice></choiceInteraction>");
    struct qti_invalid why;
    assert_int_equal(check(it, "null", &why), 1);
    assert_int_equal(check(it, "\"B\"", &why), 1);
    qti_interaction_free(it);
}

static void test_shuffle_keeps_fixed_choices_and_is_deterministic(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(choice3);
    size_t a[5], b[5];
    int moved = 0;
    for (uint64_t seed = 1; seed < 40; seed++) {
        qti_interaction_shuffle(it, seed, a);
        qti_interaction_shuffle(it, seed, b);
        assert_memory_equal(a, b, sizeof a);
        assert_int_equal(a[1], 1); /* B is fixed */
        int seen[5] = {0};
        for (int i = 0; i < 5; i++)
            seen[a[i]]++;
        for (int i = 0; i < 5; i++)
            assert_int_equal(seen[i], 1);
        if (a[0] != 0 || a[2] != 2)
            moved = 1;
    }
    assert_true(moved);
    qti_interaction_free(it);
}

static void test_no_shuffle_keeps_document_order(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<orderInteraction responseIdentifier=\"R\" shuffle=\"false\">"
                   "<simpleChoice identifier=\"A\">a</simpleChoice>"
                   "<simpleChoice identifier=\"B\">b</simpleChoice>"
                   "<simpleChoice identifier=\"C\">c</simpleChoice></orderInteraction>");
    size_t o[3];
    qti_interaction_shuffle(it, 12345, o);
    assert_int_equal(o[0], 0);
    assert_int_equal(o[1], 1);
    assert_int_equal(o[2], 2);
    struct qti_invalid why;
    assert_int_equal(check(it, "[\"C\", \"A\", \"B\"]", &why), 1);
    assert_int_equal(check(it, "[\"C\", \"C\", \"B\"]", &why), 0);
    assert_string_equal(why.rule, "choice");
    qti_interaction_free(it);
}

static const char *associate =
    "<associateInteraction responseIdentifier=\"R\" maxAssociations=\"2\">"
    "<simpleAssociableChoice identifier=\"A\" matchMax=\"1\">a</simpleAssociableChoice>"
    "<simpleAssociableChoice identifier=\"B\" matchMax=\"1\">b</simpleAssociableChoice>"
    "<simpleAssociableChoice identifier=\"C\" matchMax=\"2\">c</simpleAssociableChoice>"
    "</associateInteraction>";

static void test_associate_refuses_choice_used_more_than_match_max(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(associate);
    struct qti_invalid why;
    assert_int_equal(check(it, "[\"A C\", \"B C\"]", &why), 1);
    assert_int_equal(check(it, "[\"A C\", \"A B\"]", &why), 0);
    assert_string_equal(why.rule, "matchMax");
    assert_string_equal(why.message, "\"A\" can be used at most 1 time.");
    qti_interaction_free(it);
}

static void test_associate_refuses_too_many_associations_and_self_pairs(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(associate);
    struct qti_invalid why;
    assert_int_equal(check(it, "[\"C C\"]", &why), 0);
    assert_string_equal(why.rule, "choice");
    it->choices[0].match_max = 0;
    it->choices[1].match_max = 0;
    it->choices[2].match_max = 0;
    assert_int_equal(check(it, "[\"A B\", \"B C\", \"A C\"]", &why), 0);
    assert_string_equal(why.rule, "maxAssociations");
    assert_string_equal(why.message, "Make at most 2 associations.");
    /* pairs are unordered: "A B" and "B A" are the same association */
    assert_int_equal(check(it, "[\"A B\", \"B A\"]", &why), 0);
    qti_interaction_free(it);
}

static void test_match_refuses_pair_in_the_wrong_direction(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(
        "<matchInteraction responseIdentifier=\"R\" maxAssociations=\"4\" shuffle=\"true\">"
        "<simpleMatchSet><simpleAssociableChoice identifier=\"C\" matchMax=\"1\">Capulet"
        "</simpleAssociableChoice><simpleAssociableChoice identifier=\"D\" matchMax=\"1\">"
        "Demetrius</simpleAssociableChoice></simpleMatchSet>"
        "<simpleMatchSet><simpleAssociableChoice identifier=\"M\" matchMax=\"4\">Dream"
        "</simpleAssociableChoice><simpleAssociableChoice identifier=\"R2\" matchMax=\"4\">"
        "Romeo</simpleAssociableChoice></simpleMatchSet></matchInteraction>");
    assert_int_equal(it->choices[2].match_set, 1);
    struct qti_invalid why;
    assert_int_equal(check(it, "[\"C R2\", \"D M\"]", &why), 1);
    assert_int_equal(check(it, "[\"R2 C\"]", &why), 0);
    assert_string_equal(why.rule, "choice");
    /* each set shuffles within itself */
    size_t o[4];
    for (uint64_t seed = 0; seed < 20; seed++) {
        qti_interaction_shuffle(it, seed, o);
        assert_true(o[0] < 2 && o[1] < 2 && o[2] >= 2 && o[3] >= 2);
    }
    qti_interaction_free(it);
}

static const char *gap_match =
    "<gapMatchInteraction responseIdentifier=\"R\" shuffle=\"true\">"
    "<gapText identifier=\"W\" matchMax=\"1\">winter</gapText>"
    "<gapText identifier=\"S\" matchMax=\"2\">summer</gapText>"
    "<p>Now is the <gap identifier=\"G1\"/> of our discontent, made glorious "
    "<gap identifier=\"G2\" required=\"true\"/>.</p></gapMatchInteraction>";

static void test_gap_match_renders_gaps_and_refuses_two_texts_in_one_gap(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(gap_match);
    assert_int_equal(it->nchoices, 4);
    assert_non_null(strstr(it->html, "<span data-qti-gap=\"G1\"></span>"));
    assert_null(strstr(it->html, "winter")); /* gap texts are choices, not body */
    struct qti_invalid why;
    assert_int_equal(check(it, "[\"W G1\", \"S G2\"]", &why), 1);
    assert_int_equal(check(it, "[\"W G2\", \"S G2\"]", &why), 0);
    assert_string_equal(why.rule, "matchMax");
    assert_int_equal(check(it, "[\"G1 W\"]", &why), 0);
    assert_string_equal(why.rule, "choice");
    qti_interaction_free(it);
}

static void test_gap_match_refuses_empty_required_gap(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(gap_match);
    struct qti_invalid why;
    assert_int_equal(check(it, "[\"W G1\"]", &why), 0);
    assert_string_equal(why.rule, "required");
    qti_interaction_free(it);
}

static void test_inline_choice_required_needs_an_answer(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<inlineChoiceInteraction responseIdentifier=\"R\" required=\"true\">"
                   "<inlineChoice identifier=\"G\">Gloucester</inlineChoice>"
                   "<inlineChoice identifier=\"Y\">York</inlineChoice>"
                   "</inlineChoiceInteraction>");
    struct qti_invalid why;
    assert_int_equal(check(it, "null", &why), 0);
    assert_string_equal(why.rule, "required");
    assert_int_equal(check(it, "\"Y\"", &why), 1);
    assert_int_equal(check(it, "\"X\"", &why), 0);
    qti_interaction_free(it);
}

static void test_text_entry_pattern_mask_is_enforced(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<textEntryInteraction responseIdentifier=\"R\" patternMask=\"[0-9]{3}\" "
                   "expectedLength=\"2\"/>");
    struct qti_invalid why;
    assert_int_equal(check(it, "\"123\"", &why), 1);
    /* the whole string must match, not a part of it */
    assert_int_equal(check(it, "\"1234\"", &why), 0);
    assert_string_equal(why.rule, "patternMask");
    assert_int_equal(check(it, "\"12a\"", &why), 0);
    qti_interaction_free(it);
}

static void test_text_entry_expected_length_is_only_a_hint(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<textEntryInteraction responseIdentifier=\"R\" expectedLength=\"3\"/>");
    struct qti_invalid why;
    assert_int_equal(check(it, "\"a much longer answer than expected\"", &why), 1);
    assert_int_equal(it->expected_length, 3);
    qti_interaction_free(it);
}

static void test_text_entry_refuses_invalid_pattern_mask(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_null(parse("<textEntryInteraction responseIdentifier=\"R\" patternMask=\"[0-9\"/>", &e));
    assert_non_null(strstr(e.msg, "items/q.xml line 1"));
    assert_non_null(strstr(e.msg, "patternMask"));
}

static void test_extended_text_counts_strings(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<extendedTextInteraction responseIdentifier=\"R\" maxStrings=\"2\" "
                   "minStrings=\"1\" expectedLines=\"5\"/>");
    struct qti_invalid why;
    assert_int_equal(check(it, "[\"a\", \"b\"]", &why), 1);
    assert_int_equal(check(it, "[\"a\", \"b\", \"c\"]", &why), 0);
    assert_string_equal(why.rule, "maxStrings");
    assert_int_equal(check(it, "[]", &why), 0);
    assert_string_equal(why.rule, "minStrings");
    qti_interaction_free(it);
}

static void test_slider_refuses_values_outside_bounds_or_step(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<sliderInteraction responseIdentifier=\"R\" lowerBound=\"0\" "
                   "upperBound=\"100\" step=\"5\"/>");
    struct qti_invalid why;
    assert_int_equal(check(it, "35", &why), 1);
    assert_int_equal(check(it, "100", &why), 1);
    assert_int_equal(check(it, "101", &why), 0);
    assert_string_equal(why.rule, "bounds");
    assert_string_equal(why.message, "Choose a value between 0 and 100.");
    assert_int_equal(check(it, "-1", &why), 0);
    assert_int_equal(check(it, "33", &why), 0);
    assert_string_equal(why.rule, "step");
    qti_interaction_free(it);
}

static void test_slider_needs_bounds(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_null(parse("<sliderInteraction responseIdentifier=\"R\" lowerBound=\"0\"/>", &e));
    assert_non_null(strstr(e.msg, "upperBound is missing"));
}

static void test_select_point_refuses_point_outside_the_image(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(
        "<selectPointInteraction responseIdentifier=\"R\" maxChoices=\"1\">"
        "<object type=\"image/png\" width=\"196\" height=\"280\" data=\"images/uk.png\">UK</object>"
        "</selectPointInteraction>");
    assert_string_equal(it->object_data, "items/images/uk.png");
    struct qti_invalid why;
    assert_int_equal(check(it, "\"102 113\"", &why), 1);
    assert_int_equal(check(it, "\"300 10\"", &why), 0);
    assert_string_equal(why.rule, "point");
    assert_int_equal(check(it, "[\"1 1\", \"2 2\"]", &why), 0);
    assert_string_equal(why.rule, "maxChoices");
    qti_interaction_free(it);
}

static void test_hottext_content_holds_placeholders(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<hottextInteraction responseIdentifier=\"R\" maxChoices=\"1\">"
                   "<p>Sponsors <hottext identifier=\"A\">who bought</hottext> time "
                   "<hottext identifier=\"B\">includes</hottext> firms.</p></hottextInteraction>");
    assert_int_equal(it->nchoices, 2);
    assert_string_equal(it->html, "<p>Sponsors <span data-qti-hottext=\"A\">who bought</span> "
                                  "time <span data-qti-hottext=\"B\">includes</span> firms.</p>");
    struct qti_invalid why;
    assert_int_equal(check(it, "\"B\"", &why), 1);
    assert_int_equal(check(it, "[\"A\", \"B\"]", &why), 0);
    assert_string_equal(why.rule, "maxChoices");
    qti_interaction_free(it);
}

static void test_graphic_interaction_needs_an_object(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_null(parse("<selectPointInteraction responseIdentifier=\"R\"/>", &e));
    assert_non_null(strstr(e.msg, "needs an object"));
    assert_null(parse("<selectPointInteraction responseIdentifier=\"R\"><object "
                      "data=\"http://x.example/a.png\" type=\"image/png\"/>"
                      "</selectPointInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "inside the package"));
}

static void test_unsupported_interaction_is_named_with_its_item(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_null(parse("<handwritingInteraction responseIdentifier=\"R\"/>", &e));
    assert_non_null(strstr(e.msg, "unsupported interaction handwritingInteraction in item Q1"));
}

/* uploadInteraction: its `type` (one MIME type in QTI; a list is taken) normalised, a bad one
 * refused; drawingInteraction needs an image object; both survive the render model. */
static void test_upload_and_drawing_parse_and_round_trip(void **state)
{
    (void)state;
    struct op_err e = {0};
    struct qti_interaction *it = parse(
        "<uploadInteraction responseIdentifier=\"R\" type=\"Application/PDF, image/*\"/>", &e);
    assert_non_null(it);
    assert_int_equal(it->kind, QTI_INTERACTION_UPLOAD);
    assert_string_equal(it->upload_types, "application/pdf image/*");
    assert_true(qti_interaction_accepts_type(it, "application/pdf"));
    assert_true(qti_interaction_accepts_type(it, "image/jpeg"));
    assert_false(qti_interaction_accepts_type(it, "text/plain"));
    json_t *j = qti_interaction_to_json(it);
    struct qti_interaction *back = NULL;
    assert_int_equal(qti_interaction_from_json(j, "it", &back, &e), 0);
    assert_string_equal(back->upload_types, "application/pdf image/*");
    json_decref(j);
    qti_interaction_free(back);
    qti_interaction_free(it);
    it = parse("<uploadInteraction responseIdentifier=\"R\"/>", &e);
    assert_non_null(it);
    assert_null(it->upload_types);
    assert_true(qti_interaction_accepts_type(it, "application/x-anything"));
    qti_interaction_free(it);
    assert_null(parse("<uploadInteraction responseIdentifier=\"R\" type=\"pdf\"/>", &e));
    assert_non_null(strstr(e.msg, "type \"pdf\" is not a MIME type"));

    it = parse("<drawingInteraction responseIdentifier=\"R\"><object data=\"map.png\" "
               "type=\"image/png\" width=\"200\" height=\"100\"/></drawingInteraction>",
               &e);
    assert_non_null(it);
    assert_int_equal(it->kind, QTI_INTERACTION_DRAWING);
    assert_int_equal(it->object_width, 200);
    assert_true(qti_interaction_accepts_type(it, "image/png"));
    assert_false(qti_interaction_accepts_type(it, "image/jpeg"));
    qti_interaction_free(it);
    assert_null(parse("<drawingInteraction responseIdentifier=\"R\"/>", &e));
    assert_non_null(strstr(e.msg, "needs an object"));
    assert_null(parse("<drawingInteraction responseIdentifier=\"R\"><object data=\"a.mp3\" "
                      "type=\"audio/mpeg\"/></drawingInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "must be an image"));
}

/* The types an uploadInteraction (XML) takes at import: `want`, or none (NULL). */
static void assert_upload_types(const char *xml, const char *want)
{
    struct op_err e = {0};
    struct qti_interaction *it = parse(xml, &e);
    assert_non_null(it);
    if (want)
        assert_string_equal(it->upload_types, want);
    else
        assert_null(it->upload_types);
    qti_interaction_free(it);
}

/* TAO's editor writes several allowed types as classes (x-tao-upload-type-application_pdf)
 * and leaves `type` out of the exported item: they are the allowed types then; a `type`, when
 * there is one, wins (TAO reads only it); a class of that form naming no type is refused. */
static void test_upload_types_from_tao_classes(void **state)
{
    (void)state;
    struct op_err e = {0};
    struct qti_interaction *it = parse(
        "<uploadInteraction responseIdentifier=\"R\" class=\"big x-tao-upload-type-application_pdf "
        "x-tao-upload-type-application_vnd.oasis.opendocument.text  "
        "x-tao-upload-type-image_svg+xml\"/>",
        &e);
    assert_non_null(it);
    assert_string_equal(it->upload_types,
                        "application/pdf application/vnd.oasis.opendocument.text image/svg+xml");
    assert_true(qti_interaction_accepts_type(it, "application/pdf"));
    assert_true(qti_interaction_accepts_type(it, "image/svg+xml"));
    assert_false(qti_interaction_accepts_type(it, "image/png"));
    qti_interaction_free(it);
    /* a subtype with '_' of its own keeps it: only the first one stands for the '/' */
    assert_upload_types("<uploadInteraction responseIdentifier=\"R\" "
                        "class=\"x-tao-upload-type-application_x_zip\"/>",
                        "application/x_zip");
    assert_upload_types("<uploadInteraction responseIdentifier=\"R\" type=\"text/plain\" "
                        "class=\"x-tao-upload-type-application_pdf\"/>",
                        "text/plain");
    assert_upload_types("<uploadInteraction responseIdentifier=\"R\" class=\"wide x-tao-other\"/>",
                        NULL);
    assert_null(parse("<uploadInteraction responseIdentifier=\"R\" "
                      "class=\"x-tao-upload-type-pdf\"/>",
                      &e));
    assert_non_null(strstr(e.msg, "class \"x-tao-upload-type-pdf\" names no MIME type"));
    assert_null(parse("<uploadInteraction responseIdentifier=\"R\" "
                      "class=\"x-tao-upload-type-application_pdf x-tao-upload-type-a_b/c\"/>",
                      &e));
    assert_non_null(strstr(e.msg, "is not a MIME type"));
}

/* An associableHotspot without matchMax (QTI requires one) takes any number of images, as in
 * TAO; a hotspot without shape is the whole picture: both imported with a warning naming the
 * file, line, item and element; a complete one says nothing. */
static void test_hotspot_without_match_max_or_shape_is_taken_with_a_warning(void **state)
{
    (void)state;
    const char *xml =
        "<itemBody xmlns=\"" QTI21 "\"><graphicGapMatchInteraction responseIdentifier=\"R\">"
        "<object type=\"image/png\" data=\"m.png\"/>"
        "<gapImg identifier=\"A\" matchMax=\"1\"><object type=\"image/png\" data=\"a.png\"/>"
        "</gapImg>\n"
        "<associableHotspot identifier=\"H1\" shape=\"rect\" coords=\"0,0,9,9\"/>\n"
        "<associableHotspot identifier=\"H2\" matchMax=\"1\"/>\n"
        "<associableHotspot identifier=\"H3\" shape=\"circle\" coords=\"5,5,4\" "
        "matchMax=\"2\"/></graphicGapMatchInteraction></itemBody>";
    struct op_err e = {0};
    xmlDoc *doc;
    assert_int_equal(qti_xml_read("items/q.xml", xml, strlen(xml), NULL, &doc, &e), 0);
    xmlNode *n = xmlDocGetRootElement(doc)->children;
    struct qti_warnings w = {0};
    struct qti_xhtml_ctx cx = {"items/q.xml", NULL, NULL, NULL, 0, NULL, NULL, &w, 0};
    struct qti_interaction *it = NULL;
    assert_int_equal(qti_interaction_parse(n, "Q1", &cx, &it, &e), 0);
    xmlFreeDoc(doc);
    int h1 = qti_interaction_find_choice(it, "H1"), h2 = qti_interaction_find_choice(it, "H2");
    assert_int_equal(it->choices[h1].match_max, 0);
    assert_int_equal(it->choices[h2].shape, QTI_SHAPE_DEFAULT);
    assert_int_equal(w.count, 2);
    assert_string_equal(w.msgs[0], "items/q.xml line 2: item Q1: associableHotspot H1 has no "
                                   "matchMax (QTI requires one): it is taken as 0, no limit, as "
                                   "in TAO");
    assert_string_equal(w.msgs[1], "items/q.xml line 3: item Q1: associableHotspot H2 has no "
                                   "shape (QTI requires one): it is taken as the whole picture; "
                                   "give its area (shape and coords)");
    qti_warnings_free(&w);
    qti_interaction_free(it);
}

static void test_choice_refuses_duplicate_identifiers_and_min_over_max(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_null(parse("<choiceInteraction responseIdentifier=\"R\">"
                      "<simpleChoice identifier=\"A\">a</simpleChoice>"
                      "<simpleChoice identifier=\"A\">b</simpleChoice></choiceInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "A is used twice"));
    assert_null(parse("<choiceInteraction responseIdentifier=\"R\" maxChoices=\"1\" "
                      "minChoices=\"2\"><simpleChoice identifier=\"A\">a</simpleChoice>"
                      "</choiceInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "minChoices (2) is greater than maxChoices (1)"));
}

/* graphicGapMatchInteraction (QTI 2.1 and 2.2): gapImg (or, in 2.2, gapText) choices placed
 * on associableHotspots; a directedPair is "GAPIMG HOTSPOT". */
static const char *graphic_gap =
    "<graphicGapMatchInteraction responseIdentifier=\"R\" shuffle=\"true\">"
    "<prompt>Flags</prompt>"
    "<object type=\"image/png\" width=\"300\" height=\"200\" data=\"img/map.png\">Map</object>"
    "<gapImg identifier=\"FR\" matchMax=\"1\" objectLabel=\"French flag\">"
    "<object type=\"image/png\" width=\"30\" height=\"20\" data=\"img/fr.png\">France</object>"
    "</gapImg>"
    "<gapImg identifier=\"IT\" matchMax=\"2\">"
    "<object type=\"image/png\" data=\"img/it.png\">Italy</object></gapImg>"
    "<gapText identifier=\"T\" matchMax=\"0\">Capital</gapText>"
    "<associableHotspot identifier=\"ZF\" shape=\"rect\" coords=\"100,40,160,100\" "
    "matchMax=\"1\" hotspotLabel=\"France\"/>"
    "<associableHotspot identifier=\"ZI\" shape=\"circle\" coords=\"220,150,30\" "
    "matchMax=\"2\" matchMin=\"1\"/>"
    "</graphicGapMatchInteraction>";

static void test_graphic_gap_match_parses_images_hotspots_and_labels(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(graphic_gap);
    assert_int_equal(it->kind, QTI_INTERACTION_GRAPHIC_GAP_MATCH);
    assert_string_equal(it->object_data, "items/img/map.png");
    assert_int_equal(it->object_width, 300);
    assert_int_equal(it->nchoices, 5);
    assert_string_equal(it->choices[0].identifier, "FR");
    assert_int_equal(it->choices[0].match_set, 0);
    assert_string_equal(it->choices[0].label, "French flag");
    assert_non_null(strstr(it->choices[0].html, "data=\"items/img/fr.png\""));
    assert_string_equal(it->choices[0].object_data, "items/img/fr.png");
    assert_string_equal(it->choices[0].object_type, "image/png");
    assert_int_equal(it->choices[0].object_width, 30);
    assert_int_equal(it->choices[0].object_height, 20);
    assert_null(it->choices[2].object_data); /* the gapText has no image */
    assert_string_equal(it->choices[2].html, "Capital");
    assert_int_equal(it->choices[3].match_set, 1);
    assert_string_equal(it->choices[3].label, "France");
    assert_int_equal(it->choices[4].shape, QTI_SHAPE_CIRCLE);
    /* no maxAssociations (QTI 2.1 has none): unbounded, the choices' matchMax bound it */
    assert_int_equal(it->max_choices, 0);
    /* shuffling moves the gap images among themselves, never the hotspots */
    size_t order[5];
    for (uint64_t seed = 0; seed < 20; seed++) {
        qti_interaction_shuffle(it, seed, order);
        assert_int_equal(order[3], 3);
        assert_int_equal(order[4], 4);
    }
    qti_interaction_free(it);
}

static void test_graphic_gap_match_validates_placements(void **state)
{
    (void)state;
    struct qti_interaction *it = must_parse(graphic_gap);
    struct qti_invalid why;
    assert_int_equal(check(it, "[\"FR ZF\", \"IT ZI\"]", &why), 1);
    assert_int_equal(check(it, "[\"IT ZI\", \"T ZI\"]", &why), 1);
    assert_int_equal(check(it, "null", &why), 1);
    /* a hotspot holds at most its matchMax images, named by its hotspotLabel */
    assert_int_equal(check(it, "[\"FR ZF\", \"IT ZF\"]", &why), 0);
    assert_string_equal(why.rule, "matchMax");
    assert_string_equal(why.message, "\"France\" can hold at most 1 image.");
    /* an image is placed at most its matchMax times */
    assert_int_equal(check(it, "[\"FR ZF\", \"FR ZI\"]", &why), 0);
    assert_string_equal(why.message, "\"FR\" can be used at most 1 time.");
    /* the pair is directed: image first, hotspot second */
    assert_int_equal(check(it, "[\"ZF FR\"]", &why), 0);
    assert_string_equal(why.message, "\"ZF\" cannot be placed in \"FR\".");
    assert_int_equal(check(it, "[\"FR ZI\", \"FR ZI\"]", &why), 0);
    assert_non_null(strstr(why.message, "more than once"));
    assert_int_equal(check(it, "[\"XX ZF\"]", &why), 0);
    assert_string_equal(why.rule, "choice");
    /* matchMin of a hotspot: once something is placed, ZI must hold one */
    assert_int_equal(check(it, "[\"FR ZF\"]", &why), 0);
    assert_string_equal(why.rule, "matchMin");
    qti_interaction_free(it);

    /* QTI 2.2 minAssociations/maxAssociations */
    it = must_parse("<graphicGapMatchInteraction responseIdentifier=\"R\" minAssociations=\"1\" "
                    "maxAssociations=\"2\"><object type=\"image/png\" data=\"m.png\"/>"
                    "<gapImg identifier=\"A\" matchMax=\"0\"><object type=\"image/png\" "
                    "data=\"a.png\"/></gapImg>"
                    "<associableHotspot identifier=\"H1\" shape=\"default\" coords=\"\" "
                    "matchMax=\"0\"/>"
                    "<associableHotspot identifier=\"H2\" shape=\"ellipse\" coords=\"5,5,4,2\" "
                    "matchMax=\"0\"/>"
                    "<associableHotspot identifier=\"H3\" shape=\"rect\" coords=\"0,0,1,1\" "
                    "matchMax=\"0\"/></graphicGapMatchInteraction>");
    assert_int_equal(check(it, "[]", &why), 0);
    assert_string_equal(why.rule, "minAssociations");
    assert_int_equal(check(it, "[\"A H1\", \"A H2\", \"A H3\"]", &why), 0);
    assert_string_equal(why.rule, "maxAssociations");
    assert_string_equal(why.message, "Make at most 2 associations.");
    assert_int_equal(check(it, "[\"A H1\", \"A H2\"]", &why), 1);
    qti_interaction_free(it);
}

/* TAO's graphic items often use SVG images: a gapImg's SVG object is kept as its image (the
 * page shows it as an image, never as a document), though the sanitiser keeps only the
 * fallback text of an SVG object in content. */
static void test_graphic_gap_match_keeps_svg_gap_images(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<graphicGapMatchInteraction responseIdentifier=\"R\">"
                   "<object type=\"image/svg+xml\" data=\"map.svg\"/>"
                   "<gapImg identifier=\"A\" matchMax=\"1\"><object type=\"image/svg+xml\" "
                   "data=\"a.svg\" width=\"12\">Arrow</object></gapImg>"
                   "<associableHotspot identifier=\"H\" shape=\"rect\" coords=\"0,0,9,9\" "
                   "matchMax=\"1\"/></graphicGapMatchInteraction>");
    assert_string_equal(it->choices[0].object_data, "items/a.svg");
    assert_string_equal(it->choices[0].object_type, "image/svg+xml");
    assert_int_equal(it->choices[0].object_width, 12);
    assert_null(strstr(it->choices[0].html, "<object"));
    json_t *j = qti_interaction_to_json(it);
    json_t *ob = json_object_get(json_array_get(json_object_get(j, "choices"), 0), "object");
    assert_string_equal(json_string_value(json_object_get(ob, "data")), "items/a.svg");
    json_decref(j);
    qti_interaction_free(it);
}

static void test_graphic_gap_match_refuses_bad_content(void **state)
{
    (void)state;
    struct op_err e = {0};
    /* a gapImg without an image of the package */
    assert_null(parse("<graphicGapMatchInteraction responseIdentifier=\"R\">"
                      "<object type=\"image/png\" data=\"m.png\"/>"
                      "<gapImg identifier=\"A\" matchMax=\"1\"/>"
                      "<associableHotspot identifier=\"H\" shape=\"rect\" coords=\"0,0,9,9\" "
                      "matchMax=\"1\"/></graphicGapMatchInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "items/q.xml line 1: item Q1: gapImg A needs an object"));
    assert_null(parse("<graphicGapMatchInteraction responseIdentifier=\"R\">"
                      "<object type=\"image/png\" data=\"m.png\"/>"
                      "<gapImg identifier=\"A\" matchMax=\"1\"><object type=\"image/png\" "
                      "data=\"https://cdn.example/a.png\"/></gapImg>"
                      "<associableHotspot identifier=\"H\" shape=\"rect\" coords=\"0,0,9,9\" "
                      "matchMax=\"1\"/></graphicGapMatchInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "an image inside the package (got https://cdn.example/a.png)"));
    assert_null(parse("<graphicGapMatchInteraction responseIdentifier=\"R\">"
                      "<object type=\"image/png\" data=\"m.png\"/>"
                      "<gapImg identifier=\"A\" matchMax=\"1\"><object type=\"video/mp4\" "
                      "data=\"a.mp4\"/></gapImg>"
                      "<associableHotspot identifier=\"H\" shape=\"rect\" coords=\"0,0,9,9\" "
                      "matchMax=\"1\"/></graphicGapMatchInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "gapImg A: the object must be an image"));
    /* no hotspots, no images, no picture, a bad shape */
    assert_null(parse("<graphicGapMatchInteraction responseIdentifier=\"R\">"
                      "<object type=\"image/png\" data=\"m.png\"/>"
                      "<gapImg identifier=\"A\" matchMax=\"1\"><object type=\"image/png\" "
                      "data=\"a.png\"/></gapImg></graphicGapMatchInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "needs associableHotspots"));
    assert_null(parse("<graphicGapMatchInteraction responseIdentifier=\"R\">"
                      "<object type=\"image/png\" data=\"m.png\"/>"
                      "<associableHotspot identifier=\"H\" shape=\"rect\" coords=\"0,0,9,9\" "
                      "matchMax=\"1\"/></graphicGapMatchInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "needs gapImg choices"));
    assert_null(parse("<graphicGapMatchInteraction responseIdentifier=\"R\">"
                      "<gapImg identifier=\"A\" matchMax=\"1\"><object type=\"image/png\" "
                      "data=\"a.png\"/></gapImg><associableHotspot identifier=\"H\" "
                      "shape=\"rect\" coords=\"0,0,9,9\" matchMax=\"1\"/>"
                      "</graphicGapMatchInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "graphicGapMatchInteraction needs an object (the image)"));
    assert_null(parse("<graphicGapMatchInteraction responseIdentifier=\"R\">"
                      "<object type=\"image/png\" data=\"m.png\"/>"
                      "<gapImg identifier=\"A\" matchMax=\"1\"><object type=\"image/png\" "
                      "data=\"a.png\"/></gapImg><associableHotspot identifier=\"H\" "
                      "shape=\"rect\" coords=\"0,0,9\" matchMax=\"1\"/>"
                      "</graphicGapMatchInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "choice H:"));
}

/* positionObjectInteraction read alone (item.c gives it its stage): its object, centerPoint,
 * maxChoices (default 1) and minChoices. */
static void test_position_object_parses_center_point_and_limits(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<positionObjectInteraction responseIdentifier=\"R\" centerPoint=\"16 24\" "
                   "maxChoices=\"3\" minChoices=\"1\"><object type=\"image/png\" width=\"32\" "
                   "height=\"32\" data=\"img/tent.png\">Tent</object></positionObjectInteraction>");
    assert_int_equal(it->kind, QTI_INTERACTION_POSITION_OBJECT);
    assert_string_equal(it->object_data, "items/img/tent.png");
    assert_int_equal(it->has_center, 1);
    assert_int_equal(it->center_x, 16);
    assert_int_equal(it->center_y, 24);
    assert_int_equal(it->max_choices, 3);
    assert_int_equal(it->min_choices, 1);
    qti_interaction_free(it);
    it = must_parse("<positionObjectInteraction responseIdentifier=\"R\"><object "
                    "type=\"image/png\" data=\"f.png\"/></positionObjectInteraction>");
    assert_int_equal(it->has_center, 0);
    assert_int_equal(it->max_choices, 1);
    assert_int_equal(it->min_choices, 0);
    qti_interaction_free(it);

    struct op_err e = {0};
    assert_null(parse("<positionObjectInteraction responseIdentifier=\"R\" centerPoint=\"16\">"
                      "<object type=\"image/png\" data=\"f.png\"/></positionObjectInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "centerPoint must be two whole numbers"));
    assert_null(parse("<positionObjectInteraction responseIdentifier=\"R\" centerPoint=\"-1 4\">"
                      "<object type=\"image/png\" data=\"f.png\"/></positionObjectInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "centerPoint"));
    assert_null(parse("<positionObjectInteraction responseIdentifier=\"R\"/>", &e));
    assert_non_null(strstr(e.msg, "positionObjectInteraction needs an object"));
    assert_null(parse("<positionObjectInteraction responseIdentifier=\"R\" maxChoices=\"1\" "
                      "minChoices=\"2\"><object type=\"image/png\" data=\"f.png\"/>"
                      "</positionObjectInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "minChoices (2) is greater than maxChoices (1)"));
}

static void test_position_object_validates_points_on_the_stage(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<positionObjectInteraction responseIdentifier=\"R\" maxChoices=\"2\" "
                   "minChoices=\"1\"><object type=\"image/png\" data=\"f.png\"/>"
                   "</positionObjectInteraction>");
    it->stage_width = 400;
    it->stage_height = 300;
    struct qti_invalid why;
    assert_int_equal(check(it, "[\"0 0\", \"400 300\"]", &why), 1);
    assert_int_equal(check(it, "[]", &why), 0);
    assert_string_equal(why.rule, "minChoices");
    assert_string_equal(why.message, "Place the image at least 1 time.");
    assert_int_equal(check(it, "[\"1 1\", \"2 2\", \"3 3\"]", &why), 0);
    assert_string_equal(why.rule, "maxChoices");
    assert_string_equal(why.message, "Place the image at most 2 times.");
    assert_int_equal(check(it, "[\"401 10\"]", &why), 0);
    assert_string_equal(why.rule, "point");
    assert_int_equal(check(it, "[\"10 -1\"]", &why), 0);
    assert_string_equal(why.rule, "point");
    assert_int_equal(check(it, "[\"10\"]", &why), 0);
    assert_string_equal(why.rule, "type");
    /* maxChoices 0: no limit */
    it->max_choices = 0;
    assert_int_equal(check(it, "[\"1 1\", \"2 2\", \"3 3\"]", &why), 1);
    qti_interaction_free(it);
}

static void test_interaction_json_round_trip_keeps_everything(void **state)
{
    (void)state;
    const char *all[] = {choice3,
                         associate,
                         gap_match,
                         "<sliderInteraction responseIdentifier=\"R\" lowerBound=\"1\" "
                         "upperBound=\"9\" step=\"2\" reverse=\"true\"/>",
                         "<textEntryInteraction responseIdentifier=\"R\" patternMask=\"[a-z]+\" "
                         "expectedLength=\"4\" placeholderText=\"word\"/>",
                         "<mediaInteraction responseIdentifier=\"R\" autostart=\"true\" "
                         "minPlays=\"1\" maxPlays=\"2\" loop=\"true\"><object "
                         "type=\"audio/mpeg\" data=\"a.mp3\"/></mediaInteraction>",
                         graphic_gap};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        struct qti_interaction *it = must_parse(all[i]);
        json_t *j = qti_interaction_to_json(it);
        struct qti_interaction *back;
        struct op_err e = {0};
        assert_int_equal(qti_interaction_from_json(j, "test", &back, &e), 0);
        json_t *j2 = qti_interaction_to_json(back);
        char *a = json_dumps(j, JSON_SORT_KEYS), *b = json_dumps(j2, JSON_SORT_KEYS);
        assert_string_equal(a, b);
        free(a);
        free(b);
        json_decref(j);
        json_decref(j2);
        qti_interaction_free(it);
        qti_interaction_free(back);
    }
}

static void test_media_plays_are_bounded_by_min_and_max_plays(void **state)
{
    (void)state;
    struct qti_interaction *it =
        must_parse("<mediaInteraction responseIdentifier=\"R\" autostart=\"false\" minPlays=\"1\" "
                   "maxPlays=\"2\"><object type=\"video/mp4\" width=\"320\" height=\"240\" "
                   "data=\"media/clip.mp4\">A clip</object></mediaInteraction>");
    assert_int_equal(it->kind, QTI_INTERACTION_MEDIA);
    assert_string_equal(it->object_data, "items/media/clip.mp4");
    assert_int_equal(it->min_plays, 1);
    assert_int_equal(it->max_plays, 2);
    struct qti_invalid why;
    assert_int_equal(check(it, "1", &why), 1);
    assert_int_equal(check(it, "2", &why), 1);
    assert_int_equal(check(it, "3", &why), 0);
    assert_string_equal(why.rule, "maxPlays");
    assert_string_equal(why.message, "The media can be played at most 2 times.");
    assert_int_equal(check(it, "0", &why), 0);
    assert_string_equal(why.rule, "minPlays");
    assert_int_equal(check(it, "null", &why), 0);
    assert_string_equal(why.rule, "minPlays");
    assert_int_equal(check(it, "-1", &why), 0);
    assert_string_equal(why.rule, "type");
    assert_int_equal(check(it, "1.5", &why), 0);
    assert_string_equal(why.rule, "type");
    qti_interaction_free(it);

    /* maxPlays 0 (the default) is no limit; minPlays 0 (the default) accepts no play */
    it = must_parse("<mediaInteraction responseIdentifier=\"R\" autostart=\"true\">"
                    "<object type=\"audio/mpeg\" data=\"a.mp3\"/></mediaInteraction>");
    assert_int_equal(check(it, "null", &why), 1);
    assert_int_equal(check(it, "0", &why), 1);
    assert_int_equal(check(it, "1000", &why), 1);
    qti_interaction_free(it);
}

static void test_media_refuses_bad_play_limits(void **state)
{
    (void)state;
    struct op_err e = {0};
    assert_null(parse("<mediaInteraction responseIdentifier=\"R\" autostart=\"false\" "
                      "minPlays=\"3\" maxPlays=\"2\"><object type=\"audio/mpeg\" "
                      "data=\"a.mp3\"/></mediaInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "minPlays (3) is greater than maxPlays (2)"));
    assert_null(parse("<mediaInteraction responseIdentifier=\"R\" autostart=\"false\" "
                      "maxPlays=\"-1\"><object type=\"audio/mpeg\" data=\"a.mp3\"/>"
                      "</mediaInteraction>",
                      &e));
    assert_non_null(strstr(e.msg, "cannot be negative"));
    assert_null(parse("<mediaInteraction responseIdentifier=\"R\" autostart=\"false\"/>", &e));
    assert_non_null(strstr(e.msg, "needs an object"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choice_parses_prompt_and_choices),
        cmocka_unit_test(test_choice_refuses_more_than_max_choices),
        cmocka_unit_test(test_choice_refuses_fewer_than_min_choices),
        cmocka_unit_test(test_choice_refuses_identifier_that_is_not_a_choice),
        cmocka_unit_test(test_single_choice_without_min_accepts_no_answer),
        cmocka_unit_test(test_shuffle_keeps_fixed_choices_and_is_deterministic),
        cmocka_unit_test(test_no_shuffle_keeps_document_order),
        cmocka_unit_test(test_associate_refuses_choice_used_more_than_match_max),
        cmocka_unit_test(test_associate_refuses_too_many_associations_and_self_pairs),
        cmocka_unit_test(test_match_refuses_pair_in_the_wrong_direction),
        cmocka_unit_test(test_gap_match_renders_gaps_and_refuses_two_texts_in_one_gap),
        cmocka_unit_test(test_gap_match_refuses_empty_required_gap),
        cmocka_unit_test(test_inline_choice_required_needs_an_answer),
        cmocka_unit_test(test_text_entry_pattern_mask_is_enforced),
        cmocka_unit_test(test_text_entry_expected_length_is_only_a_hint),
        cmocka_unit_test(test_text_entry_refuses_invalid_pattern_mask),
        cmocka_unit_test(test_extended_text_counts_strings),
        cmocka_unit_test(test_slider_refuses_values_outside_bounds_or_step),
        cmocka_unit_test(test_slider_needs_bounds),
        cmocka_unit_test(test_select_point_refuses_point_outside_the_image),
        cmocka_unit_test(test_hottext_content_holds_placeholders),
        cmocka_unit_test(test_graphic_interaction_needs_an_object),
        cmocka_unit_test(test_unsupported_interaction_is_named_with_its_item),
        cmocka_unit_test(test_upload_and_drawing_parse_and_round_trip),
        cmocka_unit_test(test_upload_types_from_tao_classes),
        cmocka_unit_test(test_hotspot_without_match_max_or_shape_is_taken_with_a_warning),
        cmocka_unit_test(test_choice_refuses_duplicate_identifiers_and_min_over_max),
        cmocka_unit_test(test_interaction_json_round_trip_keeps_everything),
        cmocka_unit_test(test_media_plays_are_bounded_by_min_and_max_plays),
        cmocka_unit_test(test_media_refuses_bad_play_limits),
        cmocka_unit_test(test_graphic_gap_match_parses_images_hotspots_and_labels),
        cmocka_unit_test(test_graphic_gap_match_validates_placements),
        cmocka_unit_test(test_graphic_gap_match_keeps_svg_gap_images),
        cmocka_unit_test(test_graphic_gap_match_refuses_bad_content),
        cmocka_unit_test(test_position_object_parses_center_point_and_limits),
        cmocka_unit_test(test_position_object_validates_points_on_the_stage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
