/*
 * item.h - a QTI assessmentItem: parsed once from XML on central, compiled to two JSON
 * documents, and loaded back from them on devices (which never parse QTI).
 *
 * Parsing (qti_item_parse) reads an assessmentItem of QTI 2.1 or 2.2 from memory with
 * libxml2, safely (qti_xml_read: no network, no DTD loading, no entities, bounded size and
 * depth), and takes from it the declarations, templateProcessing, responseProcessing
 * (standard templates included), stylesheets (as package assets), the item body (sanitised
 * by xhtml.h, interactions by interaction.h) and modalFeedback. Every error names the file
 * (its href inside the package) and the line.
 *
 * Compiling (qti_item_compile) splits the item in two:
 *  - the render model, what the browser is shown:
 *      {"identifier", "title", "label", "adaptive", "timeDependent", "stylesheets": [paths],
 *       "assets": [paths], "body": "<div class=\"qti-itemBody\">...</div>",
 *       "interactions": [qti_interaction_to_json...],
 *       "responses": {"RESPONSE": {"cardinality": "single", "baseType": "identifier"}},
 *       "feedback": [{"key": "fb0", "kind": "block"|"inline"}],
 *       "templates": [{"key": "tb0", "kind": "block"|"inline"}],
 *       "printed": [{"key": "pv0", "identifier": "A", "format", "base", "delimiter", "field",
 *                    "index", "feedback": "fb2" (the feedback holding it, if any)}]}
 *    never a correct response, a mapping, a processing rule or the content of a feedback.
 *  - the scoring model, kept on the server side of the device:
 *      {"identifier", "declarations": ..., "templateProcessing": ..., "responseProcessing":
 *       ..., "feedback": [{"key", "kind": "modal"|"block"|"inline", "outcomeIdentifier",
 *       "identifier", "showHide": "show"|"hide", "title", "html"}],
 *       "templates": [{"key", "templateIdentifier", "identifier", "showHide"}]}
 * Both are deterministic: the same item gives byte-identical JSON (json_dumps with
 * JSON_SORT_KEYS | JSON_COMPACT), so compiled packages are content-addressable.
 *
 * Markers in the sanitised body, filled by the runner from the session view
 * (qti_item_session_view):
 *   <div data-qti-interaction="RESPONSE"></div>   block interaction (span for inline ones:
 *                                                 inlineChoice, textEntry, endAttempt)
 *   <div data-qti-feedback="fb0"></div>           feedbackBlock (span for feedbackInline);
 *                                                 its content is sent only when visible
 *   <div data-qti-template="tb0">...</div>        templateBlock (span for templateInline);
 *                                                 content present, visibility per session
 *   <span data-qti-printed="pv0"></span>          printedVariable (and <mi data-qti-printed>
 *                                                 for MathML naming a mathVariable)
 *   <span data-qti-hottext="A">...</span>         hottext (inside its interaction's html)
 *   <span data-qti-gap="G1"></span>               gap (inside its interaction's html)
 *   <div class="qti-rubricBlock" data-qti-view="candidate">...</div>
 */
#ifndef OUTPOST_QTI_ITEM_H
#define OUTPOST_QTI_ITEM_H

#include <jansson.h>
#include <libxml/tree.h>
#include <stddef.h>

#include "base/err.h"
#include "qti/decl.h"
#include "qti/interaction.h"

/* Limits on an item file. The defaults (qti_item_limits_default) are generous for hand or
 * tool authored items and small enough that a hostile file cannot exhaust memory. */
struct qti_xml_limits {
    size_t max_bytes; /* file size (default 4 MiB) */
    int max_depth;    /* element nesting (default 128) */
    size_t max_nodes; /* elements in the document (default 200,000) */
};

void qti_xml_limits_default(struct qti_xml_limits *lim);

/* Parses XML from memory safely: the one reader of every XML file of a package (manifest,
 * test, items, shared stimuli). Only UTF-8 and UTF-16 documents (qti_xml_encoding_check),
 * XML_PARSE_NONET, no DTD loading or validation, no entity substitution, and a document
 * declaring any entity is refused (billion laughs, XXE), as is an element with more than
 * QTI_XML_MAX_ATTRIBUTES attributes. Refuses input over lim->max_bytes, nesting over
 * lim->max_depth, more than lim->max_nodes elements. Errors read "HREF line N: reason". On
 * success *out is a document the caller frees with xmlFreeDoc. `lim` may be NULL for the
 * defaults. */
int qti_xml_read(const char *href, const char *data, size_t len, const struct qti_xml_limits *lim,
                 xmlDoc **out, struct op_err *e);

/* Refuses (OP_EINPUT) a document that libxml2 would decode from anything but UTF-8 or UTF-16
 * (xml_guard.c): a byte order mark or first bytes of UTF-32 or EBCDIC, NUL bytes in what
 * would be read as UTF-8, an XML declaration naming another encoding (UTF-7, ISO-8859-1,
 * UCS-2, ...) or contradicting the bytes ("UTF-16" on UTF-8 bytes). The message names `href`
 * and says to re-save the file as UTF-8. qti_xml_read calls it first, so that the byte scans
 * below see the characters libxml2 parses. */
int qti_xml_encoding_check(const char *href, const void *data, size_t len, struct op_err *e);

/* Refuses (OP_EINPUT, naming the line) XML with an element of more than `max_attrs`
 * attributes, in one linear pass over the bytes (xml_guard.c): libxml2 2.9's duplicate check
 * is quadratic in the number of attributes of an element. With `refuse_entities`, also an
 * entity declaration in UTF-8, UTF-16 or UTF-32 (qti_xml_read refuses them as libxml2 reads
 * them, in its SAX hook, and passes 0). Only meaningful after qti_xml_encoding_check. */
#define QTI_XML_MAX_ATTRIBUTES 256
int qti_xml_attr_guard(const char *href, const void *data, size_t len, size_t max_attrs,
                       int refuse_entities, struct op_err *e);

/* 1 if `node` is an element of the QTI 2.1 or 2.2 namespace named `name`. */
int qti_xml_is(const xmlNode *node, const char *name);
/* 1 if `ns` is the QTI 2.1 or 2.2 namespace URI. */
int qti_xml_ns_ok(const char *ns);

struct qti_item; /* opaque */

struct qti_package; /* package.h */

/* Parses the assessmentItem at archive path `href` of `pkg`, the way every path that reads
 * an item from a package must (import-qti, qti run, the fuzz targets). Shared stimuli are
 * resolved here: each xi:include (XInclude namespace) is replaced by the root element of the
 * file it names, or by the stimulusBody content of a QTI 2.2 assessmentStimulus. Its href
 * is resolved from the item and must name a file inside the archive (no "../" out of it, no
 * absolute path or URL); the included file may not include further (one level, at most 100
 * includes, and all included files together within lim->max_bytes); only parse="xml"
 * without xpointer. Relative URLs inside an included file are rewritten so that from the
 * item they name the same archive files (its images become the item's assets); one that
 * names nothing inside the archive is dropped. Errors read "HREF line N: ..." (the caller
 * adds the package name). `lim` may be NULL. *out is new (qti_item_free). */
int qti_item_parse_package(const struct qti_package *pkg, const char *href,
                           const struct qti_xml_limits *lim, struct qti_item **out,
                           struct op_err *e);

/* Parses an assessmentItem in `data` (len bytes) that comes without its package (`href`
 * names it in messages), e.g. a single item file. An xi:include is refused: the shared
 * stimulus it names is only reachable through the package. `lim` may be NULL. On success
 * *out is a new item, freed with qti_item_free. */
int qti_item_parse(const char *href, const char *data, size_t len, const struct qti_xml_limits *lim,
                   struct qti_item **out, struct op_err *e);

/* Builds an item from an already parsed assessmentItem element; as qti_item_parse, an
 * xi:include is refused. */
int qti_item_from_node(const char *href, xmlNode *root, struct qti_item **out, struct op_err *e);

void qti_item_free(struct qti_item *item);

/* Compiles `item` into its render model and scoring model (both new, owned by the caller;
 * formats above). */
int qti_item_compile(const struct qti_item *item, json_t **render, json_t **scoring,
                     struct op_err *e);

/* Loads an item from its render and scoring models (as written by qti_item_compile; the
 * arguments are only read). Refuses documents that do not fit those formats, naming the
 * field. The loaded item behaves as the parsed one in every session. */
int qti_item_load(const json_t *render, const json_t *scoring, struct qti_item **out,
                  struct op_err *e);

/* Accessors (strings are borrowed from the item). */
const char *qti_item_identifier(const struct qti_item *item);
const char *qti_item_title(const struct qti_item *item);
const char *qti_item_href(const struct qti_item *item); /* "" after qti_item_load */
int qti_item_adaptive(const struct qti_item *item);
int qti_item_time_dependent(const struct qti_item *item);

/* Assets referenced by the body, feedback and stylesheets, as package-relative paths. */
const struct qti_assets *qti_item_assets(const struct qti_item *item);
/* What parsing the item from its package changed rather than refused: links to pages the
 * package lacks, made inert ("items/q1.xml line 12: the link to ..."). Empty for an item
 * parsed alone or loaded from a compiled package. */
const struct qti_warnings *qti_item_warnings(const struct qti_item *item);
size_t qti_item_stylesheet_count(const struct qti_item *item);
const char *qti_item_stylesheet(const struct qti_item *item, size_t i);

size_t qti_item_interaction_count(const struct qti_item *item);
const struct qti_interaction *qti_item_interaction(const struct qti_item *item, size_t i);
/* The interaction bound to response variable `response_identifier`, or NULL. */
const struct qti_interaction *qti_item_interaction_for(const struct qti_item *item,
                                                       const char *response_identifier);

/* The render model body (sanitised XHTML, markers above). */
const char *qti_item_body_html(const struct qti_item *item);

/* The names of the item's variables, in declaration order: responses, outcomes (including
 * the built-in duration, numAttempts, completionStatus) and templates. */
size_t qti_item_variable_count(const struct qti_item *item);
const char *qti_item_variable_name(const struct qti_item *item, size_t i);

/* The declaration of a variable as authored (built-ins included), NULL if not declared. */
const struct qti_decl *qti_item_decl(const struct qti_item *item, const char *identifier);

#endif
