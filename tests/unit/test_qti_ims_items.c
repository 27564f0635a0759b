/* test_qti_ims_items.c - conformance over the IMS QTI 2.1 sample items
 * ($OUTPOST_SAMPLES/qti/ims-items/\*.xml): every item parses, compiles and loads back, and
 * its SCORE for a correct, a partly correct (where the item allows it), a wrong and an empty
 * response is the value worked out by hand from the XML (the comment beside each says how).
 * Exits 77 (skipped, for CTest) when the samples are absent. */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "base/fs.h"
#include "qti/decl.h"
#include "qti/item.h"
#include "qti/item_session.h"
#include "qti/rules.h"

#define NO_SCORE (-999.0) /* SCORE is NULL (no responseProcessing sets it) */

struct scored {
    const char *file;
    const char *responses; /* JSON object */
    double score;
};

/* clang-format off */
static const struct scored cases[] = {
    /* choice.xml: match_correct, correct ChoiceA */
    {"choice.xml", "{\"RESPONSE\": \"ChoiceA\"}", 1},  /* matches correctResponse -> 1 */
    {"choice.xml", "{\"RESPONSE\": \"ChoiceB\"}", 0},  /* no match -> else branch 0 */
    {"choice.xml", "{}", 0},                           /* NULL: match is NULL -> else 0 */
    /* choice_multiple.xml: map_response H=1 O=1 Cl=-1 default -2, bounds [0, 2] */
    {"choice_multiple.xml", "{\"RESPONSE\": [\"H\", \"O\"]}", 2},        /* 1 + 1 */
    {"choice_multiple.xml", "{\"RESPONSE\": [\"H\"]}", 1},               /* 1 */
    {"choice_multiple.xml", "{\"RESPONSE\": [\"H\", \"O\", \"Cl\"]}", 1}, /* 1 + 1 - 1 */
    {"choice_multiple.xml", "{\"RESPONSE\": [\"He\", \"C\"]}", 0},       /* -2 - 2, lowerBound 0 */
    {"choice_multiple.xml", "{}", 0},                  /* isNull branch of map_response -> 0 */
    /* associate.xml: pairs A P=2 C M=1 D L=1 default 0 */
    {"associate.xml", "{\"RESPONSE\": [\"A P\", \"C M\", \"D L\"]}", 4}, /* 2 + 1 + 1 */
    {"associate.xml", "{\"RESPONSE\": [\"P A\", \"C L\"]}", 2}, /* pair unordered: 2, C L unmapped 0 */
    {"associate.xml", "{\"RESPONSE\": [\"A P\", \"P A\"]}", 2}, /* one pair twice: mapped once */
    {"associate.xml", "{\"RESPONSE\": [\"A C\"]}", 0},  /* unmapped -> default 0 */
    {"associate.xml", "{}", 0},                         /* isNull -> 0 */
    /* gap_match.xml: directed pairs W G1=1 Su G2=2 default -1, lowerBound 0 */
    {"gap_match.xml", "{\"RESPONSE\": [\"W G1\", \"Su G2\"]}", 3},  /* 1 + 2 */
    {"gap_match.xml", "{\"RESPONSE\": [\"Su G2\"]}", 2},            /* 2 */
    {"gap_match.xml", "{\"RESPONSE\": [\"W G1\", \"Sp G2\"]}", 0},  /* 1 - 1 */
    {"gap_match.xml", "{\"RESPONSE\": [\"Sp G1\"]}", 0},            /* -1, lowerBound 0 */
    {"gap_match.xml", "{}", 0},                                     /* isNull -> 0 */
    /* graphic_order.xml: match_correct, ordered A D C B */
    {"graphic_order.xml", "{\"RESPONSE\": [\"A\", \"D\", \"C\", \"B\"]}", 1}, /* same sequence */
    {"graphic_order.xml", "{\"RESPONSE\": [\"D\", \"A\", \"C\", \"B\"]}", 0}, /* order matters */
    {"graphic_order.xml", "{}", 0},                                          /* NULL -> 0 */
    /* hotspot.xml: match_correct A */
    {"hotspot.xml", "{\"RESPONSE\": \"A\"}", 1},
    {"hotspot.xml", "{\"RESPONSE\": \"B\"}", 0},
    {"hotspot.xml", "{}", 0},
    /* hottext.xml: match_correct B */
    {"hottext.xml", "{\"RESPONSE\": \"B\"}", 1},
    {"hottext.xml", "{\"RESPONSE\": \"A\"}", 0},
    {"hottext.xml", "{}", 0},
    /* inline_choice.xml: match_correct Y */
    {"inline_choice.xml", "{\"RESPONSE\": \"Y\"}", 1},
    {"inline_choice.xml", "{\"RESPONSE\": \"G\"}", 0},
    {"inline_choice.xml", "{}", 0},
    /* match.xml: directed pairs C R=1 D M=0.5 L M=0.5 P T=1 default 0 */
    {"match.xml", "{\"RESPONSE\": [\"C R\", \"D M\", \"L M\", \"P T\"]}", 3}, /* 1+.5+.5+1 */
    {"match.xml", "{\"RESPONSE\": [\"C R\", \"D M\"]}", 1.5},                 /* 1 + .5 */
    {"match.xml", "{\"RESPONSE\": [\"C M\", \"R C\"]}", 0}, /* unmapped; direction matters */
    {"match.xml", "{}", 0},
    /* order.xml: match_correct, ordered DriverC DriverA DriverB */
    {"order.xml", "{\"RESPONSE\": [\"DriverC\", \"DriverA\", \"DriverB\"]}", 1},
    /* partly: DriverC first as in the correct order, the rest swapped; match_correct
     * compares whole sequences -> 0 */
    {"order.xml", "{\"RESPONSE\": [\"DriverC\", \"DriverB\", \"DriverA\"]}", 0},
    {"order.xml", "{\"RESPONSE\": [\"DriverA\", \"DriverB\", \"DriverC\"]}", 0},
    {"order.xml", "{}", 0},
    /* select_point.xml: map_response_point, circle (102,113) r 16 -> 1, default 0 */
    {"select_point.xml", "{\"RESPONSE\": \"102 113\"}", 1}, /* the centre */
    {"select_point.xml", "{\"RESPONSE\": \"110 120\"}", 1}, /* 8^2 + 7^2 = 113 <= 256 */
    {"select_point.xml", "{\"RESPONSE\": \"10 10\"}", 0},   /* far outside -> default 0 */
    {"select_point.xml", "{}", 0},                          /* isNull -> 0 */
    /* slider.xml: integer mapping 12,13 -> .5; 14..18 -> 1; 19,20 -> .5; default 0 */
    {"slider.xml", "{\"RESPONSE\": 16}", 1},
    {"slider.xml", "{\"RESPONSE\": 12}", 0.5},
    {"slider.xml", "{\"RESPONSE\": 50}", 0},
    {"slider.xml", "{}", 0},
    /* text_entry.xml: string mapping York -> 1, york -> 0.5, default 0 */
    {"text_entry.xml", "{\"RESPONSE\": \"York\"}", 1},
    {"text_entry.xml", "{\"RESPONSE\": \"york\"}", 0.5}, /* the case-sensitive second key */
    {"text_entry.xml", "{\"RESPONSE\": \"Lancaster\"}", 0},
    {"text_entry.xml", "{}", 0},
    /* extended_text.xml: no responseProcessing; SCORE (single float) has no default, so it
     * starts at 0 (QTI 2.1 outcomeDeclaration: numeric outcomes without a default are 0) */
    {"extended_text.xml", "{\"RESPONSE\": \"Dear Sam, my town is small.\"}", 0},
    {"extended_text.xml", "{}", 0},
};
/* clang-format on */

static const char *samples_dir(void)
{
    static char dir[1024];
    const char *s = getenv("OUTPOST_SAMPLES");
    if (!s)
        return NULL;
    snprintf(dir, sizeof dir, "%s/qti/ims-items", s);
    return fs_is_dir(dir) ? dir : NULL;
}

/* Parses a sample, then compiles and loads it back: sessions run on the loaded item, as on a
 * device. */
static struct qti_item *load_sample(const char *file)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", samples_dir(), file);
    char *data;
    size_t len;
    struct op_err e = {0};
    if (fs_read_file(path, 1 << 20, &data, &len, &e) != 0)
        fail_msg("%s", e.msg);
    struct qti_item *item;
    if (qti_item_parse(file, data, len, NULL, &item, &e) != 0)
        fail_msg("%s", e.msg);
    free(data);
    json_t *r, *s;
    if (qti_item_compile(item, &r, &s, &e) != 0)
        fail_msg("compile %s: %s", file, e.msg);
    qti_item_free(item);
    struct qti_item *loaded;
    if (qti_item_load(r, s, &loaded, &e) != 0)
        fail_msg("load %s: %s", file, e.msg);
    json_decref(r);
    json_decref(s);
    return loaded;
}

static struct qti_item_session *session(const struct qti_item *item, uint64_t seed)
{
    struct qti_item_session *s;
    struct op_err e = {0};
    if (qti_item_session_new(item, seed, &s, &e) != 0)
        fail_msg("session: %s", e.msg);
    return s;
}

static void submit(struct qti_item_session *s, const char *json)
{
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    struct op_err e = {0};
    if (!j || qti_item_session_submit(s, j, NULL, NULL, &e) != 0)
        fail_msg("submit %s: %s", json, e.msg);
    json_decref(j);
}

/* SCORE as a number, or NO_SCORE when NULL. */
static double score(const struct qti_item_session *s)
{
    json_t *v = qti_item_session_variable_json(s, "SCORE");
    double d = json_is_number(v) ? json_number_value(v) : NO_SCORE;
    json_decref(v);
    return d;
}

static int64_t template_int(const struct qti_item_session *s, const char *id)
{
    json_t *v = qti_item_session_variable_json(s, id);
    if (!json_is_integer(v))
        fail_msg("template variable %s is not an integer", id);
    int64_t i = json_integer_value(v);
    json_decref(v);
    return i;
}

static void test_every_sample_item_parses_compiles_and_loads(void **state)
{
    (void)state;
    DIR *d = opendir(samples_dir());
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".xml") != 0)
            continue;
        struct qti_item *item = load_sample(de->d_name);
        struct qti_item_session *s = session(item, 1);
        submit(s, "{}"); /* an empty response must never break response processing */
        qti_item_session_free(s);
        qti_item_free(item);
        n++;
    }
    closedir(d);
    assert_true(n >= 18);
}

static void test_sample_scores_match_hand_worked_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct qti_item *item = load_sample(cases[i].file);
        struct qti_item_session *s = session(item, 1);
        submit(s, cases[i].responses);
        double got = score(s);
        if (fabs(got - cases[i].score) > 1e-9)
            fail_msg("%s %s: SCORE %g, expected %g", cases[i].file, cases[i].responses, got,
                     cases[i].score);
        qti_item_session_free(s);
        qti_item_free(item);
    }
}

/* likert.xml declares no outcome and no responseProcessing: only the built-ins, for an
 * answer as for no answer (a survey item has no correct, partly correct or wrong answer). */
static void test_likert_has_no_score(void **state)
{
    (void)state;
    struct qti_item *item = load_sample("likert.xml");
    static const char *const answers[] = {"{\"RESPONSE\": \"L4\"}", "{}"};
    for (size_t i = 0; i < 2; i++) {
        struct qti_item_session *s = session(item, 1);
        submit(s, answers[i]);
        json_t *o = qti_item_session_outcomes_json(s);
        assert_null(json_object_get(o, "SCORE"));
        assert_string_equal(json_string_value(json_object_get(o, "completionStatus")), "completed");
        assert_false(qti_item_session_is_judgeable(s)); /* no correctResponse */
        /* numberResponded: L4 is a response, nothing is not (no default value) */
        assert_int_equal(qti_item_session_is_responded(s), i == 0);
        json_decref(o);
        qti_item_session_free(s);
    }
    qti_item_free(item);
}

/* template.xml: B is drawn by templateProcessing and the correct answer is set to
 * integerDivide(120, B); match_correct gives 1 for it, 0 otherwise. */
static void test_template_item_scores_against_its_drawn_correct_response(void **state)
{
    (void)state;
    struct qti_item *item = load_sample("template.xml");
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct qti_item_session *s = session(item, seed);
        int64_t a = template_int(s, "A"), b = template_int(s, "B");
        assert_true(a >= 2 && a <= 4);
        assert_true(b == 4 || b == 6 || b == 8 || b == 10 || b == 12);
        char answer[64];
        snprintf(answer, sizeof answer, "{\"RESPONSE\": %lld}", (long long)(120 / b));
        submit(s, answer); /* 120 div B, the correct response -> 1 */
        assert_true(score(s) == 1.0);
        submit(s, "{\"RESPONSE\": 7}"); /* never 120 div B for B in {4..12} -> 0 */
        assert_true(score(s) == 0.0);
        submit(s, "{}"); /* NULL -> 0 */
        assert_true(score(s) == 0.0);
        qti_item_session_free(s);
    }
    qti_item_free(item);
}

/* mc_calc3.xml: i in 1..7 is drawn, the correct response is SOLUTION0_0_(i-1); right gives
 * SCORE 2 and the FEEDBACK0 modal, anything else 0 and DEFAULT_FEEDBACK. */
static void test_calculated_choice_scores_against_drawn_solution(void **state)
{
    (void)state;
    struct qti_item *item = load_sample("mc_calc3.xml");
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct qti_item_session *s = session(item, seed);
        int64_t i = template_int(s, "i");
        assert_true(i >= 1 && i <= 7);
        /* CALC0 = index i of (3 4 6 15 24 25 30), shown through the MathML <mi>CALC0</mi>
         * of a mathVariable */
        static const char *const numbers[] = {"3", "4", "6", "15", "24", "25", "30"};
        json_t *v0 = qti_item_session_view(s, 1);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(v0, "printed"), "pv0")),
            numbers[i - 1]);
        json_decref(v0);
        char answer[64];
        snprintf(answer, sizeof answer, "{\"RESPONSE0\": \"SOLUTION0_0_%lld\"}",
                 (long long)(i - 1));
        submit(s, answer);
        assert_true(score(s) == 2.0);
        json_t *view = qti_item_session_view(s, 1);
        json_t *modal = json_object_get(view, "modal");
        assert_int_equal(json_array_size(modal), 1);
        assert_non_null(
            strstr(json_string_value(json_object_get(json_array_get(modal, 0), "html")), "Bravo"));
        json_decref(view);
        snprintf(answer, sizeof answer, "{\"RESPONSE0\": \"SOLUTION0_0_%lld\"}",
                 (long long)(i % 7)); /* another solution -> 0 */
        submit(s, answer);
        assert_true(score(s) == 0.0);
        submit(s, "{}"); /* match with NULL is NULL -> else branch -> 0 */
        assert_true(score(s) == 0.0);
        qti_item_session_free(s);
    }
    qti_item_free(item);
}

/* adaptive.xml (Monty Hall): attempt 1 picks a door, Monty reveals a goat; attempt 2 opens
 * a door: switching to the other closed one scores 1, sticking (or the revealed door) 0;
 * attempt 3 answers the strategy question: switchStrategy adds 2 and completes the item. */
static void monty(const struct qti_item *item, int switch_door, const char *strategy, double expect)
{
    struct qti_item_session *s = session(item, 3);
    submit(s, "{\"DOOR\": \"DoorA\"}");
    assert_string_equal(qti_item_session_completion_status(s), "incomplete");
    json_t *revealed = qti_item_session_variable_json(s, "REVEALED");
    const char *r = json_string_value(revealed);
    assert_true(strcmp(r, "DoorB") == 0 || strcmp(r, "DoorC") == 0);
    const char *other = strcmp(r, "DoorB") == 0 ? "DoorC" : "DoorB";
    char answer[64];
    snprintf(answer, sizeof answer, "{\"DOOR\": \"%s\"}", switch_door ? other : "DoorA");
    json_decref(revealed);
    submit(s, answer);
    assert_true(score(s) == (switch_door ? 1.0 : 0.0));
    snprintf(answer, sizeof answer, "{\"RESPONSE\": \"%s\"}", strategy);
    submit(s, answer);
    assert_true(score(s) == expect);
    assert_string_equal(qti_item_session_completion_status(s), "completed");
    qti_item_session_free(s);
}

static void test_adaptive_monty_hall_scores_each_path(void **state)
{
    (void)state;
    struct qti_item *item = load_sample("adaptive.xml");
    monty(item, 1, "switchStrategy", 3); /* correct: 1 for the prize + 2 */
    monty(item, 0, "switchStrategy", 2); /* partly: goat 0 + 2 */
    monty(item, 0, "stickStrategy", 0);  /* wrong: goat 0, wrong strategy adds nothing */
    /* empty: no door chosen, nothing moves; SCORE (single float, no default) keeps its
     * initial 0, the item stays incomplete */
    struct qti_item_session *s = session(item, 3);
    submit(s, "{}");
    assert_true(score(s) == 0.0);
    assert_string_equal(qti_item_session_completion_status(s), "incomplete");
    qti_item_session_free(s);
    qti_item_free(item);
}

/* Every declaration and processing block of every sample item parses and round-trips through
 * its JSON form. */
static void test_ims_sample_items_processing_parses_and_round_trips(void **state)
{
    (void)state;
    const char *dir = samples_dir();
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int items = 0;
    while ((de = readdir(d))) {
        if (!strstr(de->d_name, ".xml"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
        assert_non_null(doc);
        items++;
        for (xmlNode *n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
            if (n->type != XML_ELEMENT_NODE)
                continue;
            const char *name = (const char *)n->name;
            struct op_err e = {0};
            if (strstr(name, "Declaration")) {
                struct qti_decl *decl = NULL, *back = NULL;
                if (qti_decl_parse(n, &decl, &e) != 0)
                    fail_msg("%s: %s", de->d_name, e.msg);
                json_t *j = qti_decl_to_json(decl, QTI_DECL_VIEW_SCORING);
                if (qti_decl_from_json(j, &back, &e) != 0)
                    fail_msg("%s: %s", de->d_name, e.msg);
                json_t *j2 = qti_decl_to_json(back, QTI_DECL_VIEW_SCORING);
                assert_true(json_equal(j, j2));
                json_decref(j);
                json_decref(j2);
                qti_decl_free(decl);
                qti_decl_free(back);
            } else if (strstr(name, "Processing")) {
                struct qti_rules *r = NULL, *back = NULL;
                if (qti_rules_parse(n, &r, &e) != 0)
                    fail_msg("%s: %s", de->d_name, e.msg);
                json_t *j = qti_rules_to_json(r);
                if (qti_rules_from_json(j, &back, &e) != 0)
                    fail_msg("%s: %s", de->d_name, e.msg);
                json_t *j2 = qti_rules_to_json(back);
                assert_true(json_equal(j, j2));
                json_decref(j);
                json_decref(j2);
                qti_rules_free(r);
                qti_rules_free(back);
            }
        }
        xmlFreeDoc(doc);
    }
    closedir(d);
    assert_true(items > 0);
}

int main(void)
{
    if (!samples_dir()) {
        printf("SKIP: IMS QTI sample items (no samples)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_sample_item_parses_compiles_and_loads),
        cmocka_unit_test(test_sample_scores_match_hand_worked_values),
        cmocka_unit_test(test_likert_has_no_score),
        cmocka_unit_test(test_template_item_scores_against_its_drawn_correct_response),
        cmocka_unit_test(test_calculated_choice_scores_against_drawn_solution),
        cmocka_unit_test(test_adaptive_monty_hall_scores_each_path),
        cmocka_unit_test(test_ims_sample_items_processing_parses_and_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
