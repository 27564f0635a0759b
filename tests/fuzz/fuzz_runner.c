/*
 * fuzz_runner.c - the bodies of the runner's step endpoints (POST .../responses, .../move,
 * .../finish; app/runner.h): any bytes are parsed as the server does (http_body_json), checked
 * by runner_request_parse, and a request it accepts is run against a real session of a small
 * built-in test, whose state must stay a state the runner reads back (an accepted response is
 * sent a second time, as a replay would). The first byte chooses
 * the step (0 respond, 1 move, 2 finish, 3 begin/cancel's {"version"}, app/take.h). A
 * response to item Q3, a Portable Custom Interaction, is sent there (the session first jumps
 * to it), with its "pci_states" kept as the device would (an opaque text per item): a state
 * kept must come back in the view, and the state must stay one the runner reads.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/runner.h"
#include "app/take.h"
#include "base/buf.h"
#include "http/body.h"
#include "qti/compile.h"
#include "qti/package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char manifest[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\"><organizations/>"
    "<resources><resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\">"
    "<file href=\"test.xml\"/><dependency identifierref=\"I\"/></resource>"
    "<resource identifier=\"I\" type=\"imsqti_item_xmlv2p1\" href=\"i.xml\"><file href=\"i.xml\"/>"
    "</resource><resource identifier=\"P\" type=\"imsqti_item_xmlv2p1\" href=\"p.xml\">"
    "<file href=\"p.xml\"/><file href=\"m.js\"/></resource></resources></manifest>";
static const char test[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"T\" "
    "title=\"T\"><timeLimits maxTime=\"600\"/>"
    "<testPart identifier=\"P\" navigationMode=\"nonlinear\" submissionMode=\"individual\">"
    "<itemSessionControl maxAttempts=\"0\"/>"
    "<assessmentSection identifier=\"S\" title=\"S\" visible=\"true\">"
    "<assessmentItemRef identifier=\"Q1\" href=\"i.xml\"/>"
    "<assessmentItemRef identifier=\"Q2\" href=\"i.xml\"/>"
    "<assessmentItemRef identifier=\"Q3\" href=\"p.xml\"/>"
    "</assessmentSection></testPart></assessmentTest>";
static const char item[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"I\" "
    "title=\"I\" adaptive=\"false\" timeDependent=\"false\">"
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"multiple\" baseType=\"identifier\">"
    "<correctResponse><value>a</value></correctResponse></responseDeclaration>"
    "<responseDeclaration identifier=\"NUM\" cardinality=\"single\" baseType=\"float\"/>"
    "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\"/>"
    "<itemBody><choiceInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"0\">"
    "<simpleChoice identifier=\"a\">A</simpleChoice><simpleChoice identifier=\"b\">B"
    "</simpleChoice></choiceInteraction>"
    "<p><textEntryInteraction responseIdentifier=\"NUM\"/></p></itemBody>"
    "<responseProcessing template=\"http://www.imsglobal.org/question/qti_v2p1/rptemplates/"
    "match_correct\"/></assessmentItem>";

static const char pci_item[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"P\" "
    "title=\"P\" adaptive=\"false\" timeDependent=\"false\">"
    "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"integer\"/>"
    "<responseDeclaration identifier=\"OTHER\" cardinality=\"single\" baseType=\"string\"/>"
    "<itemBody><customInteraction responseIdentifier=\"RESPONSE\"><portableCustomInteraction "
    "xmlns=\"http://www.imsglobal.org/xsd/portableCustomInteraction_v1\" "
    "customInteractionTypeIdentifier=\"urn:x:m\" module=\"m\"><resources><interactionModules>"
    "<interactionModule id=\"m\" primaryPath=\"m.js\"/></interactionModules></resources>"
    "<markup><p xmlns=\"http://www.w3.org/1999/xhtml\">M</p></markup>"
    "</portableCustomInteraction></customInteraction>"
    "<p><textEntryInteraction responseIdentifier=\"OTHER\"/></p></itemBody></assessmentItem>";
static const char pci_module[] =
    "define(['qtiCustomInteractionContext'], function (c) { c.register({typeIdentifier: "
    "'urn:x:m', getInstance: function () {}}); });";

static struct runner_package *the_package(void)
{
    static struct runner_package *p;
    if (p)
        return p;
    struct qti_file files[] = {
        {(char *)"imsmanifest.xml", (unsigned char *)manifest, sizeof manifest - 1},
        {(char *)"test.xml", (unsigned char *)test, sizeof test - 1},
        {(char *)"i.xml", (unsigned char *)item, sizeof item - 1},
        {(char *)"p.xml", (unsigned char *)pci_item, sizeof pci_item - 1},
        {(char *)"m.js", (unsigned char *)pci_module, sizeof pci_module - 1}};
    struct op_err e = {0};
    struct qti_package *pkg;
    struct qti_loaded *l;
    struct buf b = {0};
    if (qti_package_from_files("fuzz.zip", files, sizeof files / sizeof files[0], NULL, &pkg, &e) !=
            0 ||
        qti_load_package(pkg, &l, &e) != 0)
        abort();
    if (qti_compile(l, &b, &e) != 0 ||
        runner_package_from_bytes((unsigned char *)b.data, b.len, &p, &e) != 0)
        abort();
    qti_loaded_free(l);
    free(b.data);
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct runner_package *p = the_package();
    if (data[0] % 4 == 3) {
        struct op_err ve = {0};
        json_t *vb = NULL;
        int64_t version = 0;
        if (http_json_parse((const char *)data + 1, size - 1, HTTP_JSON_MAX_DEPTH, &vb, &ve) == 0) {
            int vr = app_take_version_parse(vb, &version, &ve);
            if ((vr != 0 && vr != OP_EINPUT) || (vr == 0 && version < 1))
                abort();
            json_decref(vb);
        }
        return 0;
    }
    enum runner_op op = data[0] % 3 == 0   ? RUNNER_OP_RESPOND
                        : data[0] % 3 == 1 ? RUNNER_OP_MOVE
                                           : RUNNER_OP_FINISH;
    struct op_err e = {0};
    json_t *body = NULL;
    if (http_json_parse((const char *)data + 1, size - 1, HTTP_JSON_MAX_DEPTH, &body, &e) != 0)
        return 0;
    struct runner_request r;
    int rc = runner_request_parse(op, body, &r, &e);
    if (rc != 0 && rc != OP_EINPUT)
        abort();
    if (rc == 0) {
        if (!r.item_key || strlen(r.item_key) > RUNNER_ITEM_KEY_MAX)
            abort();
        json_t *state, *state_out = NULL, *view = NULL;
        if (runner_start(p, 1, 1000, &state, &e) != 0)
            abort();
        if (op == RUNNER_OP_RESPOND && strcmp(r.item_key, "Q3") == 0) {
            struct runner_request to = {.item_key = "Q1", .to = RUNNER_TO_POSITION, .position = 2};
            json_t *moved = NULL, *mv = NULL;
            if (runner_move(p, state, &to, 1005, &moved, &mv, &e) != 0 || !moved)
                abort();
            json_decref(mv);
            json_decref(state);
            state = moved;
        }
        /* the device keeps the states sealed; here, an opaque text naming them */
        char kept[64];
        if (r.pci_states) {
            snprintf(kept, sizeof kept, "kept-%zu", json_object_size(r.pci_states));
            r.pci_kept = json_object_size(r.pci_states) ? kept : NULL;
            r.pci_tag = kept;
        }
        if (op == RUNNER_OP_RESPOND)
            rc = runner_respond(p, state, &r, 1010, &state_out, &view, &e);
        else if (op == RUNNER_OP_MOVE)
            rc = runner_move(p, state, &r, 1010, &state_out, &view, &e);
        else
            rc = runner_finish(p, state, &r, 1010, &state_out, &e);
        if (rc != 0 && rc != OP_EINPUT && rc != OP_ECONFLICT)
            abort();
        if (state_out) {
            struct runner_summary s;
            if (runner_state_summary(state_out, 1010, &s, &e) != 0)
                abort();
            json_t *v2 = NULL, *so2 = NULL;
            if (runner_view(p, state_out, 1011, &so2, &v2, &e) != 0)
                abort();
            /* states kept with a response taken come back with the item */
            const char *at = json_string_value(json_object_get(v2, "item_key"));
            if (op == RUNNER_OP_RESPOND && rc == 0 && r.pci_kept && at && strcmp(at, "Q3") == 0 &&
                !json_is_string(json_object_get(v2, "pci_states_kept")))
                abort();
            json_decref(v2);
            json_decref(so2);
            if (op == RUNNER_OP_RESPOND && rc == 0) {
                /* the same request again (a replay) is taken or refused, never half-done: a
                 * state it gives back (another attempt) is still one the runner reads */
                json_t *so3 = NULL, *v3 = NULL;
                int rc3 = runner_respond(p, state_out, &r, 1012, &so3, &v3, &e);
                if ((rc3 != 0 && rc3 != OP_EINPUT && rc3 != OP_ECONFLICT) || (rc3 == 0 && !v3))
                    abort();
                if (so3 && runner_state_summary(so3, 1012, &s, &e) != 0)
                    abort();
                json_decref(so3);
                json_decref(v3);
            }
        }
        json_decref(state_out);
        json_decref(view);
        json_decref(state);
    }
    json_decref(body);
    return 0;
}
