/* test_qti_xhtml.c - the safe XML reader and the allow-list sanitiser of item content. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "qti/item.h"
#include "qti/xhtml.h"

#define QTI21 "http://www.imsglobal.org/xsd/imsqti_v2p1"

/* Sanitises the children of <itemBody> in `body` (item at items/q1/item.xml); the caller
 * frees the result. NULL with `e` filled when the sanitiser refuses. */
static char *sanitise(const char *body, struct qti_assets *assets, struct op_err *e)
{
    char *xml = NULL;
    if (asprintf(&xml, "<itemBody xmlns=\"" QTI21 "\">%s</itemBody>", body) < 0)
        abort();
    xmlDoc *doc;
    if (qti_xml_read("items/q1/item.xml", xml, strlen(xml), NULL, &doc, e) != 0)
        fail_msg("read: %s", e->msg);
    free(xml);
    struct qti_xhtml_ctx cx = {"items/q1/item.xml", assets, NULL, NULL, 0, NULL, NULL, NULL, 0};
    struct buf out = BUF_INIT;
    int rc = qti_xhtml_children(&cx, xmlDocGetRootElement(doc), &out, e);
    xmlFreeDoc(doc);
    if (rc < 0) {
        buf_free(&out);
        return NULL;
    }
    return buf_detach(&out);
}

/* The package of the link tests holds items/q1/about.html and items/q1/map.png only. */
static int has_file(const void *files, const char *path)
{
    (void)files;
    return strcmp(path, "items/q1/about.html") == 0 || strcmp(path, "items/q1/map.png") == 0;
}

/* Sanitises `body` as in its package (has_file above), collecting warnings. */
static char *sanitise_in_package(const char *body, struct qti_assets *assets,
                                 struct qti_warnings *w)
{
    char *xml = NULL;
    if (asprintf(&xml, "<itemBody xmlns=\"" QTI21 "\">\n%s</itemBody>", body) < 0)
        abort();
    xmlDoc *doc;
    struct op_err e = {0};
    if (qti_xml_read("items/q1/item.xml", xml, strlen(xml), NULL, &doc, &e) != 0)
        fail_msg("read: %s", e.msg);
    free(xml);
    struct qti_xhtml_ctx cx = {"items/q1/item.xml", assets, NULL, NULL, 0, has_file, NULL, w, 0};
    qti_xhtml_warn_qti_attrs(&cx, xmlDocGetRootElement(doc)); /* as an item's load does */
    struct buf out = BUF_INIT;
    if (qti_xhtml_children(&cx, xmlDocGetRootElement(doc), &out, &e) != 0)
        fail_msg("sanitise: %s", e.msg);
    xmlFreeDoc(doc);
    return buf_detach(&out);
}

static void test_links_to_pages_the_package_lacks_are_made_inert_with_a_warning(void **state)
{
    (void)state;
    struct qti_assets assets = {0, NULL};
    struct qti_warnings w = {0};
    char *h = sanitise_in_package(
        "<p><a href=\"about.html\">kept</a></p>\n"
        "<p><a href=\"https://example.org/x?a=1&amp;b=2\" class=\"ext\">web</a></p>\n"
        "<p><a href=\"legend.html#top\">absent</a> <a href=\"#here\">anchor</a></p>\n"
        "<p><a href=\"../../../outside.html\">climbs</a><a href=\"\">empty</a></p>\n"
        "<p><img src=\"map.png\" alt=\"m\"/><img src=\"gone.png\" alt=\"g\"/></p>\n",
        &assets, &w);
    assert_string_equal(h, "\n<p><a href=\"items/q1/about.html\">kept</a></p>\n"
                           "<p><a class=\"ext\">web</a></p>\n"
                           "<p><a>absent</a> <a href=\"#here\">anchor</a></p>\n"
                           "<p><a>climbs</a><a>empty</a></p>\n"
                           "<p><img src=\"items/q1/map.png\" alt=\"m\"/>"
                           "<img src=\"items/q1/gone.png\" alt=\"g\"/></p>\n");
    assert_int_equal(w.count, 3);
    assert_string_equal(w.msgs[0], "items/q1/item.xml line 3: the link to "
                                   "\"https://example.org/x?a=1&b=2\" was made inert (its text "
                                   "is kept): it points out of the package, and tests are "
                                   "delivered offline");
    assert_string_equal(w.msgs[1], "items/q1/item.xml line 4: the link to \"legend.html#top\" "
                                   "was made inert (its text is kept): items/q1/legend.html is "
                                   "not in the archive");
    assert_non_null(strstr(w.msgs[2], "line 5: the link to \"../../../outside.html\""));
    /* the page of the package is an asset (copied); an absent image is still an asset, so
     * the load refuses it as before */
    assert_int_equal(assets.count, 3);
    assert_string_equal(assets.paths[0], "items/q1/about.html");
    assert_string_equal(assets.paths[2], "items/q1/gone.png");
    free(h);
    qti_warnings_free(&w);
    qti_assets_free(&assets);
}

/* Each thing the sanitiser removes that an author would miss is a warning naming the file,
 * the line and why: elements dropped with their content, event handlers and style
 * attributes, URLs out of the package, an object replaced by its fallback, an element of
 * another namespace; the same removal found twice is said once. */
static void test_what_the_sanitiser_removes_is_a_warning_naming_the_line(void **state)
{
    (void)state;
    struct qti_assets assets = {0, NULL};
    struct qti_warnings w = {0};
    char *h = sanitise_in_package(
        "<script>steal()</script>\n"                                 /* line 2 */
        "<p onclick=\"x()\" style=\"color:red\">Hi</p>\n"            /* line 3 */
        "<p><img src=\"http://t.example/p.gif\" alt=\"\"/></p>\n"    /* line 4 */
        "<p><img src=\"data:image/png;base64,AA\" alt=\"d\"/></p>\n" /* line 5 */
        "<p><img src=\"/etc/x.png\" alt=\"a\"/><img src=\"javascript:x\"/></p>\n"
        "<iframe src=\"https://example.org\"></iframe>\n"                 /* line 7 */
        "<object data=\"map.png\" type=\"text/html\">fallback</object>\n" /* line 8 */
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>\n"     /* line 9 */
        "<x:thing xmlns:x=\"urn:other\">gone</x:thing>\n"                 /* line 10 */
        "<script>steal()</script><script>steal()</script>\n",             /* line 11 */
        &assets, &w);
    assert_null(strstr(h, "steal"));
    assert_null(strstr(h, "onclick"));
    assert_non_null(strstr(h, "fallback"));
    const char *want[] = {
        "items/q1/item.xml line 2: <script> was removed with its content: scripts do not run "
        "in a test",
        "items/q1/item.xml line 3: the event handler onclick of <p> was removed: scripts do not "
        "run in a test",
        "items/q1/item.xml line 3: the attribute style of <p> was removed: inline styles are not "
        "kept; the item's stylesheets, files of the package, style it",
        "items/q1/item.xml line 4: the src \"http://t.example/p.gif\" of <img> was removed: it "
        "points out of the package, and tests are delivered offline",
        "items/q1/item.xml line 5: the src \"data:image/png;base64,AA\" of <img> was removed: "
        "data: URLs are not kept (put the file in the package and name it)",
        "items/q1/item.xml line 6: the src \"/etc/x.png\" of <img> was removed: an absolute path "
        "is not a file of the package (use a path relative to the item)",
        "items/q1/item.xml line 6: the src \"javascript:x\" of <img> was removed: it would run a "
        "script",
        "items/q1/item.xml line 7: <iframe> was removed with its content: it would load another "
        "document",
        "items/q1/item.xml line 8: <object data=\"map.png\"> was replaced by its fallback "
        "content: only an image, audio or video file of the package is shown (other objects can "
        "run code)",
        "items/q1/item.xml line 9: <svg> was removed with its content: it can carry scripts (an "
        "SVG picture is kept as an image file)",
        "items/q1/item.xml line 10: <thing> was removed with its content: only XHTML, MathML and "
        "QTI content is kept",
        "items/q1/item.xml line 11: <script> was removed with its content: scripts do not run in "
        "a test",
    };
    assert_int_equal(w.count, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < w.count; i++)
        assert_string_equal(w.msgs[i], want[i]);
    free(h);
    qti_warnings_free(&w);
    qti_assets_free(&assets);
}

/* Every attribute the sanitiser removes is a warning naming the file, the line, the element
 * and the attribute, once per element and attribute in the file however often it is found
 * (the count of the others said): of XHTML (event handlers, style with or without url(...),
 * data-*, another namespace's, any other), of MathML (href, an unknown attribute; maction
 * goes with its content), and the event handlers and style of QTI elements (simpleChoice). */
static void test_removed_attributes_are_said_once_per_element_and_attribute(void **state)
{
    (void)state;
    struct qti_assets assets = {0, NULL};
    struct qti_warnings w = {0};
    char *h = sanitise_in_package(
        "<p style=\"background: url(http://t.example/x.png)\">a</p>\n" /* line 2 */
        "<p style=\"color: red\">b</p><p style=\"color: red\">c</p>\n" /* line 3 */
        "<span style=\"color: blue\" data-serial=\"s1\">d</span>\n"    /* line 4 */
        "<p onclick=\"a()\">e</p><p onclick=\"b()\">f</p>\n"           /* line 5 */
        "<a xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:href=\"x.html\" "
        "xml:space=\"preserve\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
        "xsi:schemaLocation=\"a b\">g</a>\n"                 /* line 6 */
        "<td bgcolor=\"red\" background=\"bg.png\">h</td>\n" /* line 7 */
        "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><mi href=\"x\" foo=\"1\">x</mi>"
        "<maction actiontype=\"toggle\"><mi>y</mi></maction></math>\n" /* line 8 */
        "<choiceInteraction responseIdentifier=\"R\">\n"               /* line 9 */
        "<simpleChoice identifier=\"A\" onclick=\"cheat()\" style=\"color: red\">A</simpleChoice>\n"
        "<simpleChoice identifier=\"B\" onclick=\"cheat()\">B</simpleChoice>\n" /* line 11 */
        "<simpleChoice identifier=\"C\" onclick=\"cheat()\">C</simpleChoice>\n" /* line 12 */
        "</choiceInteraction>\n",
        &assets, &w);
    assert_null(strstr(h, "style"));
    assert_null(strstr(h, "cheat"));
    assert_null(strstr(h, "data-serial"));
    const char *want[] = {
        /* the QTI elements first: their attributes are said before the content is written */
        "items/q1/item.xml line 10: the event handler onclick of <simpleChoice> was removed: "
        "scripts do not run in a test (and 2 more in this file)",
        "items/q1/item.xml line 10: the attribute style of <simpleChoice> was removed: inline "
        "styles are not kept; the item's stylesheets, files of the package, style it",
        "items/q1/item.xml line 2: the attribute style of <p> was removed: inline styles are not "
        "kept, and this one loads a file (url(...)); the item's stylesheets, files of the "
        "package, style it (and 2 more in this file)",
        "items/q1/item.xml line 4: the attribute style of <span> was removed: inline styles are "
        "not kept; the item's stylesheets, files of the package, style it",
        "items/q1/item.xml line 4: the attribute data-serial of <span> was removed: data-* "
        "attributes are only read by scripts",
        "items/q1/item.xml line 5: the event handler onclick of <p> was removed: scripts do not "
        "run in a test (and 1 more in this file)",
        "items/q1/item.xml line 6: the attribute xlink:href of <a> was removed: attributes of "
        "other namespaces are not kept",
        "items/q1/item.xml line 7: the attribute bgcolor of <td> was removed: it is not one of "
        "the attributes kept for this element (id, class, lang, dir, title and the element's "
        "own)",
        "items/q1/item.xml line 7: the attribute background of <td> was removed: it names a URL, "
        "which only src, href, data and poster may, inside the package",
        "items/q1/item.xml line 8: the attribute href of <mi> was removed: links in formulas are "
        "not kept",
        "items/q1/item.xml line 8: the attribute foo of <mi> was removed: it is not one of the "
        "MathML attributes kept",
        "items/q1/item.xml line 8: <maction> was removed with its content: its actions need "
        "scripts",
    };
    for (size_t i = 0; i < w.count && i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(w.msgs[i], want[i]);
    assert_int_equal(w.count, sizeof want / sizeof want[0]);
    free(h);
    qti_warnings_free(&w);
    qti_assets_free(&assets);
}

static void test_xhtml_drops_script_and_onclick(void **state)
{
    (void)state;
    struct op_err e = {0};
    char *h = sanitise("<p onclick=\"steal()\" class=\"x\">Hi<script>alert(1)</script></p>"
                       "<style>body{}</style>",
                       NULL, &e);
    assert_non_null(h);
    assert_string_equal(h, "<p class=\"x\">Hi</p>");
    free(h);
}

static void test_xhtml_drops_javascript_and_external_urls(void **state)
{
    (void)state;
    struct op_err e = {0};
    char *h = sanitise("<a href=\"javascript:alert(1)\">a</a><a href=\" JavaScript:x\">b</a>"
                       "<img src=\"http://evil.example/x.png\" alt=\"x\"/>"
                       "<img src=\"//evil.example/x.png\"/><img src=\"data:image/png;base64,AA\"/>",
                       NULL, &e);
    assert_non_null(h);
    assert_null(strstr(h, "javascript"));
    assert_null(strstr(h, "JavaScript"));
    assert_null(strstr(h, "evil"));
    assert_null(strstr(h, "data:"));
    assert_string_equal(h, "<a>a</a><a>b</a><img alt=\"x\"/><img/><img/>");
    free(h);
}

static void test_xhtml_resolves_assets_relative_to_the_package(void **state)
{
    (void)state;
    struct op_err e = {0};
    struct qti_assets a = {0};
    char *h = sanitise("<img src=\"images/sign.png\" alt=\"s\"/><img src=\"../shared/b.png\"/>"
                       "<img src=\"images/sign.png\"/>",
                       &a, &e);
    assert_non_null(h);
    assert_string_equal(h, "<img src=\"items/q1/images/sign.png\" alt=\"s\"/>"
                           "<img src=\"items/shared/b.png\"/>"
                           "<img src=\"items/q1/images/sign.png\"/>");
    assert_int_equal(a.count, 2);
    assert_string_equal(a.paths[0], "items/q1/images/sign.png");
    assert_string_equal(a.paths[1], "items/shared/b.png");
    qti_assets_free(&a);
    free(h);
}

static void test_xhtml_refuses_paths_escaping_the_package(void **state)
{
    (void)state;
    assert_null(qti_xhtml_resolve_asset("items/q1/item.xml", "../../../etc/passwd"));
    assert_null(qti_xhtml_resolve_asset("items/q1/item.xml", "%2e%2e/%2e%2e/%2e%2e/x"));
    assert_null(qti_xhtml_resolve_asset("items/q1/item.xml", "/etc/passwd"));
    assert_null(qti_xhtml_resolve_asset("items/q1/item.xml", "a\\b.png"));
    assert_null(qti_xhtml_resolve_asset("item.xml", "file:///etc/passwd"));
    char *p = qti_xhtml_resolve_asset("item.xml", "./img/a%20b.png?x=1");
    assert_string_equal(p, "img/a b.png");
    free(p);
}

static void test_xhtml_object_with_plugin_type_renders_its_fallback(void **state)
{
    (void)state;
    struct op_err e = {0};
    char *h = sanitise("<object data=\"m.swf\" type=\"application/x-shockwave-flash\">"
                       "<param name=\"a\" value=\"b\"/><p>Fallback</p></object>"
                       "<object data=\"pic.png\" type=\"image/png\" width=\"10\">Map</object>",
                       NULL, &e);
    assert_non_null(h);
    assert_string_equal(h, "<p>Fallback</p><object data=\"items/q1/pic.png\" type=\"image/png\" "
                           "width=\"10\">Map</object>");
    free(h);
}

static void test_xhtml_keeps_mathml_on_its_allow_list(void **state)
{
    (void)state;
    struct op_err e = {0};
    char *h = sanitise("<p><m:math xmlns:m=\"http://www.w3.org/1998/Math/MathML\">"
                       "<m:mi href=\"javascript:x\" mathvariant=\"bold\">x</m:mi>"
                       "<m:maction actiontype=\"statusline\"><m:mn>1</m:mn></m:maction>"
                       "<m:msup><m:mi>y</m:mi><m:mn>2</m:mn></m:msup></m:math></p>",
                       NULL, &e);
    assert_non_null(h);
    assert_string_equal(h, "<p><math xmlns=\"http://www.w3.org/1998/Math/MathML\">"
                           "<mi mathvariant=\"bold\">x</mi><msup><mi>y</mi><mn>2</mn></msup>"
                           "</math></p>");
    free(h);
}

static void test_xhtml_escapes_text_and_attributes(void **state)
{
    (void)state;
    struct op_err e = {0};
    char *h = sanitise("<p title=\"a&quot;b\">1 &lt; 2 &amp; &lt;b&gt;</p>", NULL, &e);
    assert_non_null(h);
    assert_string_equal(h, "<p title=\"a&quot;b\">1 &lt; 2 &amp; &lt;b&gt;</p>");
    free(h);
}

static void test_xhtml_drops_inline_styles_and_unknown_elements(void **state)
{
    (void)state;
    struct op_err e = {0};
    char *h = sanitise("<div style=\"background:url(javascript:x)\"><blink>on</blink>"
                       "<iframe src=\"x.html\">in</iframe><form><input/></form></div>",
                       NULL, &e);
    assert_non_null(h);
    assert_string_equal(h, "<div>on</div>");
    free(h);
}

static void test_xhtml_refuses_content_nested_too_deep(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    for (int i = 0; i < QTI_XHTML_MAX_DEPTH + 5; i++)
        buf_puts(&b, "<div>");
    for (int i = 0; i < QTI_XHTML_MAX_DEPTH + 5; i++)
        buf_puts(&b, "</div>");
    struct op_err e = {0};
    char *h = sanitise(b.data, NULL, &e);
    assert_null(h);
    assert_non_null(strstr(e.msg, "items/q1/item.xml line 1"));
    assert_non_null(strstr(e.msg, "nested deeper"));
    buf_free(&b);
}

static void test_xml_read_refuses_entity_expansion(void **state)
{
    (void)state;
    const char *laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
                         "<!ENTITY lol \"lol\">\n"
                         "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
                         "]>\n<assessmentItem>&lol2;</assessmentItem>\n";
    xmlDoc *doc = NULL;
    struct op_err e = {0};
    assert_int_equal(qti_xml_read("q.xml", laughs, strlen(laughs), NULL, &doc, &e), OP_EINPUT);
    assert_null(doc);
    assert_non_null(strstr(e.msg, "q.xml line 3"));
    assert_non_null(strstr(e.msg, "entities"));
}

static void test_xml_read_refuses_external_entities(void **state)
{
    (void)state;
    const char *xxe = "<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<a>&x;</a>";
    xmlDoc *doc = NULL;
    struct op_err e = {0};
    assert_int_equal(qti_xml_read("q.xml", xxe, strlen(xxe), NULL, &doc, &e), OP_EINPUT);
    assert_null(doc);
    assert_null(strstr(e.msg, "root:")); /* nothing of /etc/passwd in the message */
}

static void test_xml_read_names_file_and_line_of_malformed_xml(void **state)
{
    (void)state;
    const char *bad = "<a>\n<b>\n</a>\n";
    xmlDoc *doc = NULL;
    struct op_err e = {0};
    assert_int_equal(qti_xml_read("items/q7.xml", bad, strlen(bad), NULL, &doc, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "items/q7.xml line 3: malformed XML"));
}

static void test_xml_read_refuses_oversized_and_deep_input(void **state)
{
    (void)state;
    struct qti_xml_limits lim;
    qti_xml_limits_default(&lim);
    lim.max_bytes = 10;
    xmlDoc *doc = NULL;
    struct op_err e = {0};
    const char *x = "<a><b/></a>";
    assert_int_equal(qti_xml_read("q.xml", x, strlen(x), &lim, &doc, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "over the limit"));

    qti_xml_limits_default(&lim);
    lim.max_depth = 2;
    const char *deep = "<a><b><c/></b></a>";
    assert_int_equal(qti_xml_read("q.xml", deep, strlen(deep), &lim, &doc, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "nested deeper than 2"));

    qti_xml_limits_default(&lim);
    lim.max_nodes = 3;
    const char *wide = "<a><b/><b/><b/></a>";
    assert_int_equal(qti_xml_read("q.xml", wide, strlen(wide), &lim, &doc, &e), OP_EINPUT);
    assert_non_null(strstr(e.msg, "more than 3 elements"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_what_the_sanitiser_removes_is_a_warning_naming_the_line),
        cmocka_unit_test(test_removed_attributes_are_said_once_per_element_and_attribute),
        cmocka_unit_test(test_xhtml_drops_script_and_onclick),
        cmocka_unit_test(test_xhtml_drops_javascript_and_external_urls),
        cmocka_unit_test(test_xhtml_resolves_assets_relative_to_the_package),
        cmocka_unit_test(test_xhtml_refuses_paths_escaping_the_package),
        cmocka_unit_test(test_xhtml_object_with_plugin_type_renders_its_fallback),
        cmocka_unit_test(test_xhtml_keeps_mathml_on_its_allow_list),
        cmocka_unit_test(test_xhtml_escapes_text_and_attributes),
        cmocka_unit_test(test_xhtml_drops_inline_styles_and_unknown_elements),
        cmocka_unit_test(test_xhtml_refuses_content_nested_too_deep),
        cmocka_unit_test(test_xml_read_refuses_entity_expansion),
        cmocka_unit_test(test_links_to_pages_the_package_lacks_are_made_inert_with_a_warning),
        cmocka_unit_test(test_xml_read_refuses_external_entities),
        cmocka_unit_test(test_xml_read_names_file_and_line_of_malformed_xml),
        cmocka_unit_test(test_xml_read_refuses_oversized_and_deep_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
