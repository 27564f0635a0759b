/*
 * xhtml.h - QTI item content to sanitised XHTML for the browser.
 *
 * The item body, prompts, choice contents and feedback of a QTI item are XHTML (plus MathML
 * and QTI elements). The browser is shown none of it as authored: this module writes a new
 * document from an allow-list, so whatever is not explicitly known to be harmless is dropped.
 *
 *  - XHTML elements and attributes on the allow-list are copied (in the XHTML namespace, no
 *    prefix); any other element is dropped with its content when it can carry active content
 *    (script, style, iframe, embed, applet, form controls, ...) or unwrapped (content kept)
 *    otherwise. Attributes named on* are never copied.
 *  - URLs (img src, object data, a href, ...) must be relative paths inside the package: no
 *    scheme (javascript:, data:, http:, ...), no "//host", no absolute path, no ".." above the
 *    package root. Asset URLs are rewritten relative to the package root (the item's folder
 *    joined with the URL, normalised) and recorded in the asset list; a link that is not
 *    allowed is dropped (the element is kept without it). A hyperlink (a href) to a page the
 *    package lacks is made inert with a warning rather than refused (qti_xhtml_ctx.has_file).
 *  - object is kept only for a package asset of a non-scriptable type (images, audio, video);
 *    otherwise its fallback content is rendered instead.
 *  - MathML is passed through with its own allow-list (presentation and content markup, no
 *    href, no actiontype/maction scripts).
 *  - QTI elements (interactions, feedbackBlock/Inline, templateBlock/Inline, printedVariable,
 *    gap, hottext, rubricBlock, ...) are handed to the caller's hook, which writes the marked
 *    placeholder the runner fills (see item.h for the markers).
 *
 * The output is well-formed XHTML fragment text (UTF-8), with <, >, &, " escaped in text and
 * attribute values.
 */
#ifndef OUTPOST_QTI_XHTML_H
#define OUTPOST_QTI_XHTML_H

#include <libxml/tree.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define QTI_NS_21     "http://www.imsglobal.org/xsd/imsqti_v2p1"
#define QTI_NS_22     "http://www.imsglobal.org/xsd/imsqti_v2p2"
#define QTI_NS_MATHML "http://www.w3.org/1998/Math/MathML"

/* Most nested elements the sanitiser follows; deeper content is refused (it is never
 * authored by hand and only serves to exhaust the stack). */
#define QTI_XHTML_MAX_DEPTH 64

/* The package-relative asset paths a fragment references (img src, object data, ...), each
 * once, in first-seen order. Owns its strings. */
struct qti_assets {
    size_t count;
    char **paths;
};

void qti_assets_free(struct qti_assets *a);
/* Adds `path` unless already there. */
void qti_assets_add(struct qti_assets *a, const char *path);

/* What an import changed rather than refused, one message each ("items/q1.xml line 12: the
 * link to ... was made inert", "... <script> was removed with its content: ..."), in the
 * order found, each message once. Owns its strings. */
struct qti_warning_kind;
struct qti_warnings {
    size_t count;
    char **msgs;
    /* NULL, or per message its kind (qti_warnings_add_kind); kept by these functions */
    struct qti_warning_kind *kinds;
};

void qti_warnings_free(struct qti_warnings *w);
void qti_warnings_add(struct qti_warnings *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Adds the message unless a message of the same `kind` (any text naming what was found, e.g.
 * the element and the attribute) is there already: that one then ends with "(and N more in
 * this file)" instead, so that a thing found on every line of a file is said once, where it
 * was first found. */
void qti_warnings_add_kind(struct qti_warnings *w, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct qti_xhtml_ctx;

/* Called for every element in the QTI namespace that is not plain XHTML content (the QTI
 * namespace also holds the XHTML elements of the item body), and for MathML <mi> and <ci>
 * (items replace those naming a mathVariable template variable by its value). It writes the
 * element's replacement to `out` (it may call qti_xhtml_children to render its children) and
 * returns 0, 1 when it does not handle the element (the sanitiser then unwraps it: children only),
 * or a negative OP_E* code with `e` filled. */
typedef int (*qti_xhtml_hook)(struct qti_xhtml_ctx *cx, xmlNode *node, struct buf *out,
                              struct op_err *e);

struct qti_xhtml_ctx {
    const char *href;          /* package path of the item file (in messages, and the base
                                  that asset URLs are resolved against) */
    struct qti_assets *assets; /* where referenced assets are recorded (may be NULL) */
    qti_xhtml_hook hook;       /* QTI elements (may be NULL: all unwrapped) */
    void *user;                /* for the hook */
    int depth;                 /* current nesting, kept by the sanitiser */
    /* Links (a href) when the package is known (has_file set): a link to a page the package
     * lacks (a file not in it, or a URL out of it) is made inert, its href dropped and its
     * content kept, and `warnings` (may be NULL) gets a message naming the file and line.
     * Without has_file a relative link is recorded as an asset, as an image is. */
    int (*has_file)(const void *files, const char *path);
    const void *files;
    struct qti_warnings *warnings;
    /* A PCI's markup (qti/pci.c): a <script> whose type is a template's (text/x-handlebars-
     * template, text/x-template-manifest, text/x-asset-manifest, text/template) is kept as
     * text with its type, id and class, for the PCI's code to read; such a script never runs
     * (not JavaScript, and the frame's CSP lets only its listed scripts run). */
    int keep_templates;
};

/* Writes the sanitised children of `parent` to `out`. Fails (OP_EINPUT, message naming the
 * href and line) only on content nested deeper than QTI_XHTML_MAX_DEPTH or an error from the
 * hook; unsafe content is dropped, not refused, and cx->warnings (when set) gets one message
 * per thing dropped that an author would miss, naming the file and line: an element dropped
 * with its content (script, style, iframe, form controls, svg, ...; an element of another
 * namespace; a MathML element outside the allow-list), a URL that is not a path inside the
 * package (http:, //host, javascript:, data:, an absolute path), an object replaced by its
 * fallback, and every attribute removed: of XHTML and MathML content, any the allow-list
 * leaves out (an event handler, style, another namespace's, ...); the QTI elements the hook
 * writes (simpleChoice, interactions, ...) are said by qti_xhtml_warn_qti_attrs. An attribute
 * removed is said once per element and attribute in a file (qti_warnings_add_kind), at its
 * first line, with how many more there are. */
int qti_xhtml_children(struct qti_xhtml_ctx *cx, xmlNode *parent, struct buf *out,
                       struct op_err *e);

/* Adds to cx->warnings (when set) the event handlers and style attributes of `node` and the
 * QTI elements under it (interactions, simpleChoice, feedbackInline, ... : the elements the
 * hook writes from what it knows of them, so that their other attributes are dropped
 * unsaid). The XHTML and MathML content between them is said by qti_xhtml_children. Called
 * once per fragment root (an item's itemBody, a modalFeedback, a rubric block). */
void qti_xhtml_warn_qti_attrs(struct qti_xhtml_ctx *cx, xmlNode *node);

/* Writes one sanitised node (element, text, CDATA; comments and PIs are dropped). */
int qti_xhtml_node(struct qti_xhtml_ctx *cx, xmlNode *node, struct buf *out, struct op_err *e);

/* Resolves a URL found in content of the item at `href` to a package-relative path
 * ("items/q1/qti.xml" + "images/a.png" -> "items/q1/images/a.png"). Returns a new string
 * (caller frees) or NULL when the URL is not a relative path inside the package (it has a
 * scheme, a host, is absolute, climbs above the root, or holds control characters). */
char *qti_xhtml_resolve_asset(const char *href, const char *url);

/* Adds to `w` (may be NULL) the warning for a link to `url`, written in `file` at `line`,
 * made inert: `path` is the archive path it names when it is not in the archive, NULL when
 * it points out of the package. Nothing for an empty url. */
void qti_xhtml_warn_inert_link(struct qti_warnings *w, const char *file, long line, const char *url,
                               const char *path);

/* Appends `s` escaped for XHTML text and attribute values. */
void qti_xhtml_escape(struct buf *out, const char *s);

/* 1 if `name` is an XHTML element the sanitiser copies (lower-case local name). */
int qti_xhtml_element_allowed(const char *name);

#endif
