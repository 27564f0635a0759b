/*
 * item.c - assessmentItem: safe XML reading, parsing and the accessors (see item.h for the
 * formats and markers). The render/scoring JSON form and loading back from it are in
 * item_json.c.
 *
 * Invariants: an item's `decls` hold every variable the sessions know, built-ins included
 * (numAttempts, duration, completionStatus), identifiers unique; every interaction is bound
 * to a declared response variable; feedback and template keys ("fb<N>", "tb<N>", "pv<N>")
 * are unique and numbered in document order, so compiling the same XML twice gives the
 * same JSON.
 */
#include "qti/item.h"

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "qti/item_internal.h"
#include "qti/package.h"
#include "qti/qti_alloc.h"
#include "qti/rules.h"
#include "qti/xhtml.h"

/* --------------------------------------------------------------------- safe XML read -- */

void qti_xml_limits_default(struct qti_xml_limits *lim)
{
    lim->max_bytes = 4u << 20;
    lim->max_depth = 128;
    lim->max_nodes = 200000;
}

struct read_state {
    struct qti_xml_limits lim;
    int depth;
    size_t nodes;
    int refused; /* 1: entity declaration, 2: too deep, 3: too many nodes, 4: encoding */
    long line;
    char encoding[48]; /* the decoder libxml2 chose, when refused for it */
    int err_line;      /* the first well-formedness error: its line and message */
    char err_msg[256];
};

/* Keeps the first error: the later ones are mostly consequences of it. */
static void on_error(void *ctx, xmlErrorPtr err)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct read_state *st = ctxt ? ctxt->_private : NULL;
    if (!st || st->err_msg[0] || !err || err->level < XML_ERR_ERROR)
        return;
    st->err_line = err->line;
    snprintf(st->err_msg, sizeof st->err_msg, "%s", err->message ? err->message : "error");
    size_t l = strlen(st->err_msg);
    while (l && (st->err_msg[l - 1] == '\n' || st->err_msg[l - 1] == ' '))
        st->err_msg[--l] = '\0';
}

static void refuse(xmlParserCtxtPtr ctxt, int why)
{
    struct read_state *st = ctxt->_private;
    if (!st->refused) {
        st->refused = why;
        st->line = xmlSAX2GetLineNumber(ctxt);
    }
    xmlStopParser(ctxt);
}

/* The name of a decoder libxml2 uses other than UTF-16 (none for UTF-8), or NULL. */
static const char *foreign_decoder(xmlParserCtxtPtr ctxt)
{
    xmlParserInputPtr in = ctxt->input;
    if (!in || !in->buf || !in->buf->encoder || !in->buf->encoder->name)
        return NULL;
    const char *name = in->buf->encoder->name;
    if (!strcasecmp(name, "UTF-16LE") || !strcasecmp(name, "UTF-16BE") ||
        !strcasecmp(name, "UTF-16"))
        return NULL;
    return name;
}

/* The second lock behind qti_xml_encoding_check: called once the XML declaration is read and
 * the decoder chosen, before any markup of the document. */
static void on_start_document(void *ctx)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct read_state *st = ctxt->_private;
    const char *name = foreign_decoder(ctxt);
    if (name) {
        snprintf(st->encoding, sizeof st->encoding, "%s", name);
        return refuse(ctxt, 4);
    }
    xmlSAX2StartDocument(ctx);
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content)
{
    refuse(ctx, 1);
}

static void on_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
                                    const xmlChar *system_id, const xmlChar *notation)
{
    refuse(ctx, 1);
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
                     int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct read_state *st = ctxt->_private;
    if (++st->depth > st->lim.max_depth)
        return refuse(ctxt, 2);
    if (++st->nodes > st->lim.max_nodes)
        return refuse(ctxt, 3);
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                          nb_defaulted, attributes);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct read_state *st = ctxt->_private;
    st->depth--;
    xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

int qti_xml_read(const char *href, const char *data, size_t len, const struct qti_xml_limits *lim,
                 xmlDoc **out, struct op_err *e)
{
    *out = NULL;
    struct read_state st = {0};
    if (lim)
        st.lim = *lim;
    else
        qti_xml_limits_default(&st.lim);
    if (len > st.lim.max_bytes)
        return err_set(e, OP_EINPUT, "%s: %zu bytes is over the limit of %zu bytes for one file",
                       href, len, st.lim.max_bytes);
    if (len > 0x7fffffff)
        return err_set(e, OP_EINPUT, "%s: file too large", href);
    if (qti_xml_encoding_check(href, data, len, e) != 0 ||
        qti_xml_attr_guard(href, data, len, QTI_XML_MAX_ATTRIBUTES, 0, e) != 0)
        return OP_EINPUT;

    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return err_set(e, OP_ENOMEM, "%s: out of memory", href);
    ctxt->_private = &st;
    ctxt->sax->startDocument = on_start_document;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->unparsedEntityDecl = on_unparsed_entity_decl;
    ctxt->sax->startElementNs = on_start;
    ctxt->sax->endElementNs = on_end;
    ctxt->sax->serror = on_error;
    /* No XML_PARSE_NOENT (entities stay unexpanded), no DTDLOAD/DTDATTR/DTDVALID (nothing is
     * fetched), NONET as a second lock, no XInclude processing. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES |
               XML_PARSE_NOCDATA;
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, data, (int)len, href, NULL, opts);
    if (!st.refused && foreign_decoder(ctxt)) { /* the declaration was malformed */
        snprintf(st.encoding, sizeof st.encoding, "%s", foreign_decoder(ctxt));
        st.refused = 4;
    }
    int rc = 0;
    if (st.refused == 4) {
        rc = err_set(e, OP_EINPUT,
                     "%s: the file is encoded in %s (found by the parser); only UTF-8 and UTF-16 "
                     "are accepted: re-save it as UTF-8",
                     href, st.encoding);
    } else if (st.refused == 1) {
        rc = err_set(e, OP_EINPUT,
                     "%s line %ld: the document declares entities, which QTI content never "
                     "needs; refused (they can expand without bound or read local files)",
                     href, st.line);
    } else if (st.refused == 2) {
        rc = err_set(e, OP_EINPUT, "%s line %ld: elements nested deeper than %d", href, st.line,
                     st.lim.max_depth);
    } else if (st.refused == 3) {
        rc = err_set(e, OP_EINPUT, "%s line %ld: more than %zu elements", href, st.line,
                     st.lim.max_nodes);
    } else if (!doc || !ctxt->wellFormed) {
        rc = err_set(e, OP_EINPUT, "%s line %d: malformed XML: %s", href, st.err_line,
                     st.err_msg[0] ? st.err_msg : "not well-formed");
    } else if (!xmlDocGetRootElement(doc)) {
        rc = err_set(e, OP_EINPUT, "%s: empty document", href);
    }
    xmlFreeParserCtxt(ctxt);
    if (rc < 0) {
        xmlFreeDoc(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

int qti_xml_ns_ok(const char *ns)
{
    return ns && (strcmp(ns, QTI_NS_21) == 0 || strcmp(ns, QTI_NS_22) == 0);
}

int qti_xml_is(const xmlNode *node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && node->ns &&
           qti_xml_ns_ok((const char *)node->ns->href) &&
           strcmp((const char *)node->name, name) == 0;
}

/* ------------------------------------------------------------------------- the item -- */

void qti_item_free(struct qti_item *item)
{
    if (!item)
        return;
    free(item->href);
    free(item->identifier);
    free(item->title);
    free(item->label);
    for (size_t i = 0; i < item->ndecls; i++)
        qti_decl_free(item->decls[i]);
    free(item->decls);
    qti_rules_free(item->template_processing);
    qti_rules_free(item->response_processing);
    for (size_t i = 0; i < item->nstyles; i++)
        free(item->styles[i]);
    free(item->styles);
    qti_assets_free(&item->assets);
    qti_warnings_free(&item->warnings);
    free(item->body_html);
    for (size_t i = 0; i < item->ninteractions; i++)
        qti_interaction_free(item->interactions[i]);
    free(item->interactions);
    struct item_cond *lists[2] = {item->feedback, item->templates};
    size_t counts[2] = {item->nfeedback, item->ntemplates};
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < counts[l]; i++) {
            free(lists[l][i].outcome_identifier);
            free(lists[l][i].identifier);
            free(lists[l][i].title);
            free(lists[l][i].html);
        }
        free(lists[l]);
    }
    for (size_t i = 0; i < item->nprinted; i++) {
        free(item->printed[i].identifier);
        free(item->printed[i].format);
        free(item->printed[i].delimiter);
        free(item->printed[i].field);
        free(item->printed[i].index);
    }
    free(item->printed);
    free(item);
}

static char *attr(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, BAD_CAST name);
    if (!v)
        return NULL;
    char *s = qti_xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

const struct qti_decl *qti_item_decl(const struct qti_item *item, const char *identifier)
{
    for (size_t i = 0; i < item->ndecls; i++)
        if (strcmp(item->decls[i]->identifier, identifier) == 0)
            return item->decls[i];
    return NULL;
}

void item_add_decl(struct qti_item *item, struct qti_decl *d)
{
    QTI_PUSH(item->decls, item->ndecls, d);
}

/* The built-in variables every item has (QTI 2.1 §"Built-in variables"). */
int item_add_builtins(struct qti_item *item, struct op_err *e)
{
    if (!qti_item_decl(item, "numAttempts"))
        item_add_decl(
            item, qti_decl_new(QTI_DECL_RESPONSE, "numAttempts", QTI_CARD_SINGLE, QTI_BT_INTEGER));
    if (!qti_item_decl(item, "duration"))
        item_add_decl(
            item, qti_decl_new(QTI_DECL_RESPONSE, "duration", QTI_CARD_SINGLE, QTI_BT_DURATION));
    if (!qti_item_decl(item, "completionStatus")) {
        struct qti_decl *d =
            qti_decl_new(QTI_DECL_OUTCOME, "completionStatus", QTI_CARD_SINGLE, QTI_BT_IDENTIFIER);
        if (d)
            d->default_value = qti_value_identifier("not_attempted");
        item_add_decl(item, d);
    }
    for (size_t i = 0; i < item->ndecls; i++)
        if (!item->decls[i])
            return err_set(e, OP_ENOMEM, "out of memory");
    return 0;
}

/* ------------------------------------------------------------------------- parsing -- */

/* The positionObjectStage being read: its image, which its positionObjectInteractions share. */
struct stage {
    char *data; /* package path */
    char *type;
    int width, height;
};

struct parse {
    struct qti_item *item;
    struct op_err *e;
    int in_modal;        /* rendering modalFeedback: no interactions there */
    char cur_fb[16];     /* key of the feedback whose content is being rendered, or "" */
    struct stage *stage; /* inside a positionObjectStage, else NULL */
};

static int perr(struct parse *p, xmlNode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct parse *p, xmlNode *at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(p->e, OP_EINPUT, "%s line %ld: item %s: %s", p->item->href,
                   at ? xmlGetLineNo(at) : 0L, p->item->identifier ? p->item->identifier : "?",
                   msg);
}

static int inline_kind(enum qti_interaction_kind k)
{
    return k == QTI_INTERACTION_INLINE_CHOICE || k == QTI_INTERACTION_TEXT_ENTRY ||
           k == QTI_INTERACTION_END_ATTEMPT;
}

/* The base types an interaction can be bound to (QTI 2.1 §"Interactions"). */
int item_base_type_fits(enum qti_interaction_kind k, const struct qti_decl *d)
{
    enum qti_base_type t = d->type;
    switch (k) {
    case QTI_INTERACTION_CHOICE:
    case QTI_INTERACTION_ORDER:
    case QTI_INTERACTION_HOTTEXT:
    case QTI_INTERACTION_HOTSPOT:
    case QTI_INTERACTION_GRAPHIC_ORDER:
    case QTI_INTERACTION_INLINE_CHOICE:
        return t == QTI_BT_IDENTIFIER;
    case QTI_INTERACTION_ASSOCIATE:
    case QTI_INTERACTION_GRAPHIC_ASSOCIATE:
        return t == QTI_BT_PAIR;
    case QTI_INTERACTION_MATCH:
    case QTI_INTERACTION_GAP_MATCH:
    case QTI_INTERACTION_GRAPHIC_GAP_MATCH:
        return t == QTI_BT_DIRECTED_PAIR;
    case QTI_INTERACTION_SELECT_POINT:
    case QTI_INTERACTION_POSITION_OBJECT:
        return t == QTI_BT_POINT;
    case QTI_INTERACTION_SLIDER:
        return t == QTI_BT_INTEGER || t == QTI_BT_FLOAT;
    case QTI_INTERACTION_TEXT_ENTRY:
    case QTI_INTERACTION_EXTENDED_TEXT:
        return t == QTI_BT_STRING || t == QTI_BT_INTEGER || t == QTI_BT_FLOAT;
    case QTI_INTERACTION_MEDIA:
        return t == QTI_BT_INTEGER;
    case QTI_INTERACTION_END_ATTEMPT:
        return t == QTI_BT_BOOLEAN && d->card == QTI_CARD_SINGLE;
    case QTI_INTERACTION_CUSTOM:
        /* a PCI defines its own response; a file (a recording) is kept as an upload's */
        return t != QTI_BT_FILE || d->card == QTI_CARD_SINGLE;
    case QTI_INTERACTION_UPLOAD:
    case QTI_INTERACTION_DRAWING:
        return t == QTI_BT_FILE && d->card == QTI_CARD_SINGLE;
    }
    return 0;
}

static int body_hook(struct qti_xhtml_ctx *cx, xmlNode *n, struct buf *out, struct op_err *e);
static int package_has(const void *pkg, const char *path);
static int math_var(struct parse *p, xmlNode *n, struct buf *out);

static int add_interaction(struct parse *p, struct qti_xhtml_ctx *cx, xmlNode *n, struct buf *out)
{
    struct qti_item *item = p->item;
    if (p->in_modal)
        return perr(p, n, "%s cannot be inside modalFeedback", (const char *)n->name);
    struct qti_interaction *it;
    int rc = qti_interaction_parse(n, item->identifier, cx, &it, p->e);
    if (rc < 0)
        return rc;
    const struct qti_decl *d = qti_item_decl(item, it->response_identifier);
    if (!d || d->kind != QTI_DECL_RESPONSE) {
        rc = perr(p, n, "%s is bound to %s, which is not a declared response variable",
                  (const char *)n->name, it->response_identifier);
    } else if (!item_base_type_fits(it->kind, d)) {
        rc = perr(p, n, "%s cannot be bound to %s of base type %s", (const char *)n->name,
                  it->response_identifier, qti_base_type_name(d->type));
    } else if (qti_item_interaction_for(item, it->response_identifier)) {
        rc = perr(p, n, "response %s is bound to two interactions", it->response_identifier);
    } else if (it->kind == QTI_INTERACTION_CUSTOM && cx->has_file == package_has) {
        /* the PCI's code is read now, so that a package whose PCI cannot run is refused */
        char what[600];
        snprintf(what, sizeof what, "%s line %ld: item %s: customInteraction %s", item->href,
                 xmlGetLineNo(n), item->identifier, it->response_identifier);
        /* TAO draws a PCI inside its item: the item's stylesheets style its frame too */
        for (size_t i = 0; i < item->nstyles; i++)
            qti_pci_add_style(it->pci, item->styles[i]);
        rc = qti_pci_check_loadable(it->pci, cx->files, cx->assets, what, p->e);
    } else if (it->kind == QTI_INTERACTION_POSITION_OBJECT && !p->stage) {
        rc = perr(p, n, "positionObjectInteraction must be inside a positionObjectStage");
    } else if (it->kind == QTI_INTERACTION_POSITION_OBJECT && it->max_choices != 1 &&
               d->card == QTI_CARD_SINGLE) {
        /* QTI 2.1: "If maxChoices is greater than 1 (or 0) then the interaction must be bound
         * to a response with multiple cardinality." */
        rc = perr(p, n,
                  "positionObjectInteraction with maxChoices %d must be bound to a response of "
                  "multiple cardinality (%s is single)",
                  it->max_choices, it->response_identifier);
    }
    if (rc < 0) {
        qti_interaction_free(it);
        return rc;
    }
    if (it->kind == QTI_INTERACTION_POSITION_OBJECT) {
        it->stage_data = qti_xstrdup(p->stage->data);
        it->stage_type = p->stage->type ? qti_xstrdup(p->stage->type) : NULL;
        it->stage_width = p->stage->width;
        it->stage_height = p->stage->height;
    }
    QTI_PUSH(item->interactions, item->ninteractions, it);
    const char *tag = inline_kind(it->kind) ? "span" : "div";
    buf_printf(out, "<%s data-qti-interaction=\"", tag);
    qti_xhtml_escape(out, it->response_identifier);
    buf_printf(out, "\"></%s>", tag);
    return 0;
}

static int stage_dim(struct parse *p, xmlNode *n, const char *name, int *out)
{
    char *v = attr(n, name);
    *out = 0;
    if (!v)
        return 0;
    char *end;
    long l = strtol(v, &end, 10);
    int bad = end == v || *end || l < 0 || l > 1000000;
    free(v);
    if (bad)
        return perr(p, n, "the object of positionObjectStage: %s must be a whole number", name);
    *out = (int)l;
    return 0;
}

/* positionObjectStage (QTI 2.1): an image (its object) and the positionObjectInteractions
 * whose objects are placed on it. The stage becomes a marker holding the interactions'
 * markers, and each interaction carries the stage's image (its points are in its pixels). */
static int add_stage(struct parse *p, struct qti_xhtml_ctx *cx, xmlNode *n, struct buf *out)
{
    if (p->stage)
        return perr(p, n, "positionObjectStage cannot be inside another positionObjectStage");
    if (p->in_modal)
        return perr(p, n, "positionObjectStage cannot be inside modalFeedback");
    xmlNode *obj = NULL;
    size_t ninteractions = 0;
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)c->name;
        if (strcmp(name, "object") == 0 && !obj)
            obj = c;
        else if (strcmp(name, "positionObjectInteraction") == 0)
            ninteractions++;
        else
            return perr(p, c,
                        "positionObjectStage holds one object and positionObjectInteractions "
                        "only (found %s%s)",
                        strcmp(name, "object") == 0 ? "a second " : "", name);
    }
    if (!obj || ninteractions == 0)
        return perr(p, n, "positionObjectStage needs %s",
                    obj ? "at least one positionObjectInteraction"
                        : "an object (the image the objects are placed on)");
    struct stage st = {0};
    char *data = attr(obj, "data");
    st.data = data ? qti_xhtml_resolve_asset(p->item->href, data) : NULL;
    int rc = 0;
    if (!st.data)
        rc = perr(p, obj,
                  "the object of positionObjectStage needs a data path inside the package "
                  "(got %s)",
                  data ? data : "none");
    free(data);
    st.type = attr(obj, "type");
    if (rc == 0 && st.type && strncmp(st.type, "image/", 6) != 0)
        rc = perr(p, obj, "the object of positionObjectStage must be an image (type %s)", st.type);
    if (rc == 0 && (rc = stage_dim(p, obj, "width", &st.width)) == 0)
        rc = stage_dim(p, obj, "height", &st.height);
    if (rc == 0) {
        if (cx->assets)
            qti_assets_add(cx->assets, st.data);
        buf_puts(out, "<div class=\"qti-positionObjectStage\" data-qti-stage=\"\">");
        p->stage = &st;
        for (xmlNode *c = n->children; c && rc >= 0; c = c->next)
            if (c->type == XML_ELEMENT_NODE &&
                strcmp((const char *)c->name, "positionObjectInteraction") == 0)
                rc = add_interaction(p, cx, c, out);
        p->stage = NULL;
        buf_puts(out, "</div>");
    }
    free(st.data);
    free(st.type);
    return rc;
}

/* feedbackBlock/feedbackInline (template = 0) and templateBlock/templateInline (1). */
static int add_conditional(struct parse *p, struct qti_xhtml_ctx *cx, xmlNode *n, struct buf *out,
                           int template, enum fb_kind kind, size_t *idx_out)
{
    int block = kind != FB_INLINE;
    struct qti_item *item = p->item;
    const char *var_attr = template ? "templateIdentifier" : "outcomeIdentifier";
    struct item_cond f = {0};
    f.kind = kind;
    f.outcome_identifier = attr(n, var_attr);
    f.identifier = attr(n, "identifier");
    char *sh = attr(n, "showHide");
    f.show = !(sh && strcmp(sh, "hide") == 0);
    int bad_sh = sh && strcmp(sh, "hide") != 0 && strcmp(sh, "show") != 0;
    free(sh);
    int rc = 0;
    if (!f.outcome_identifier || !f.identifier || bad_sh)
        rc = perr(p, n, "%s needs %s, identifier and showHide (show or hide)",
                  (const char *)n->name, var_attr);
    else if (!qti_item_decl(item, f.outcome_identifier))
        rc = perr(p, n, "%s refers to %s, which is not declared", (const char *)n->name,
                  f.outcome_identifier);
    if (rc < 0) {
        free(f.outcome_identifier);
        free(f.identifier);
        return rc;
    }
    /* Reserve the key before the content so numbering follows the document order. */
    size_t *count = template ? &item->ntemplates : &item->nfeedback;
    struct item_cond **list = template ? &item->templates : &item->feedback;
    size_t idx = *count;
    if (idx_out)
        *idx_out = idx;
    snprintf(f.key, sizeof f.key, "%s%zu", template ? "tb" : "fb", idx);
    QTI_PUSH(*list, *count, f);

    struct buf content = BUF_INIT;
    char saved_fb[16];
    memcpy(saved_fb, p->cur_fb, sizeof saved_fb);
    if (!template)
        memcpy(p->cur_fb, f.key, sizeof p->cur_fb);
    rc = qti_xhtml_children(cx, n, &content, p->e);
    memcpy(p->cur_fb, saved_fb, sizeof saved_fb);
    if (rc < 0) {
        buf_free(&content);
        return rc;
    }
    const char *tag = block ? "div" : "span";
    if (template) {
        buf_printf(out, "<%s data-qti-template=\"%s\">%s</%s>", tag, f.key,
                   content.data ? content.data : "", tag);
        buf_free(&content);
    } else {
        buf_printf(out, "<%s data-qti-feedback=\"%s\"></%s>", tag, f.key, tag);
        (*list)[idx].html = buf_detach(&content);
    }
    return 0;
}

static int add_printed(struct parse *p, xmlNode *n, struct buf *out)
{
    struct qti_item *item = p->item;
    struct item_printed pv = {0};
    pv.identifier = attr(n, "identifier");
    if (!pv.identifier || !qti_item_decl(item, pv.identifier)) {
        int rc = perr(p, n, "printedVariable refers to %s, which is not declared",
                      pv.identifier ? pv.identifier : "(no identifier)");
        free(pv.identifier);
        return rc;
    }
    pv.format = attr(n, "format");
    char *base = attr(n, "base");
    pv.base = base ? atoi(base) : 10;
    free(base);
    pv.delimiter = attr(n, "delimiter");
    pv.field = attr(n, "field");
    pv.index = attr(n, "index");
    snprintf(pv.key, sizeof pv.key, "pv%zu", item->nprinted);
    memcpy(pv.feedback, p->cur_fb, sizeof pv.feedback);
    QTI_PUSH(item->printed, item->nprinted, pv);
    buf_printf(out, "<span data-qti-printed=\"%s\"></span>", pv.key);
    return 0;
}

/* Renders the QTI elements of the body that are not XHTML (see item.h for the markers). */
static int body_hook(struct qti_xhtml_ctx *cx, xmlNode *n, struct buf *out, struct op_err *e)
{
    struct parse *p = cx->user;
    const char *name = (const char *)n->name;
    if (n->ns && strcmp((const char *)n->ns->href, QTI_NS_MATHML) == 0)
        return math_var(p, n, out);
    if (strcmp(name, "positionObjectStage") == 0)
        return add_stage(p, cx, n, out);
    if (qti_interaction_is_interaction_name(name))
        return add_interaction(p, cx, n, out);
    if (strcmp(name, "feedbackBlock") == 0 || strcmp(name, "feedbackInline") == 0)
        return add_conditional(p, cx, n, out, 0, name[8] == 'B' ? FB_BLOCK : FB_INLINE, NULL);
    if (strcmp(name, "templateBlock") == 0 || strcmp(name, "templateInline") == 0)
        return add_conditional(p, cx, n, out, 1, name[8] == 'B' ? FB_BLOCK : FB_INLINE, NULL);
    if (strcmp(name, "printedVariable") == 0)
        return add_printed(p, n, out);
    if (strcmp(name, "rubricBlock") == 0) {
        /* Only the candidate's view is shown; scorer, author, proctor views are dropped. */
        char *view = attr(n, "view");
        int candidate = !view || strstr(view, "candidate") != NULL;
        free(view);
        if (!candidate)
            return 0;
        buf_puts(out, "<div class=\"qti-rubricBlock\" data-qti-view=\"candidate\">");
        int rc = qti_xhtml_children(cx, n, out, e);
        buf_puts(out, "</div>");
        return rc;
    }
    if (strcmp(name, "stylesheet") == 0 || strcmp(name, "apipAccessibility") == 0)
        return 0;
    return 1; /* anything else: content kept, element dropped */
}

/* MathML <mi>/<ci> naming a template variable declared mathVariable="true" shows the
 * variable's value (QTI 2.1 template processing): it becomes a printed-variable marker.
 * Returns 1 for any other mi/ci. */
static int math_var(struct parse *p, xmlNode *n, struct buf *out)
{
    xmlChar *text = xmlNodeGetContent(n);
    char name[257] = "";
    const char *t = text ? (const char *)text : "";
    t += strspn(t, " \t\r\n");
    size_t l = strcspn(t, " \t\r\n");
    int whole = l > 0 && l < sizeof name && t[l + strspn(t + l, " \t\r\n")] == '\0';
    if (whole)
        memcpy(name, t, l);
    xmlFree(text);
    const struct qti_decl *d = whole ? qti_item_decl(p->item, name) : NULL;
    if (!d || d->kind != QTI_DECL_TEMPLATE || !d->math_variable)
        return 1;
    struct qti_item *item = p->item;
    struct item_printed pv = {0};
    pv.identifier = qti_xstrdup(name);
    pv.base = 10;
    snprintf(pv.key, sizeof pv.key, "pv%zu", item->nprinted);
    memcpy(pv.feedback, p->cur_fb, sizeof pv.feedback);
    QTI_PUSH(item->printed, item->nprinted, pv);
    buf_printf(out, "<%s data-qti-printed=\"%s\"></%s>", (const char *)n->name, pv.key,
               (const char *)n->name);
    return 0;
}

static int parse_stylesheet(struct parse *p, xmlNode *n)
{
    char *href = attr(n, "href");
    char *path = href ? qti_xhtml_resolve_asset(p->item->href, href) : NULL;
    if (!path) {
        int rc =
            perr(p, n, "stylesheet %s is not a path inside the package", href ? href : "(no href)");
        free(href);
        return rc;
    }
    free(href);
    struct qti_item *item = p->item;
    QTI_PUSH(item->styles, item->nstyles, path);
    qti_assets_add(&item->assets, path);
    return 0;
}

static int parse_modal(struct parse *p, struct qti_xhtml_ctx *cx, xmlNode *n)
{
    struct buf scratch = BUF_INIT; /* modal feedback has no place in the body */
    size_t idx;
    p->in_modal = 1;
    int rc = add_conditional(p, cx, n, &scratch, 0, FB_MODAL, &idx);
    p->in_modal = 0;
    buf_free(&scratch);
    if (rc < 0)
        return rc;
    p->item->feedback[idx].title = attr(n, "title");
    return 0;
}

static int parse_bool_attr(struct parse *p, xmlNode *n, const char *name, int *out)
{
    char *v = attr(n, name);
    *out = 0;
    if (!v)
        return 0;
    int rc = 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0)
        rc = perr(p, n, "%s must be true or false", name);
    free(v);
    return rc;
}

/* The first interaction under `n` that Outpost does not deliver, or NULL. Looked for before
 * the declarations so that, e.g., an uploadInteraction is reported as such rather than as
 * its "file" response declaration. */
static xmlNode *find_unsupported(xmlNode *n, int depth)
{
    for (xmlNode *c = n->children; c && depth < 256; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)c->name;
        enum qti_interaction_kind k;
        if (qti_interaction_is_interaction_name(name) &&
            qti_interaction_kind_from_name(name, &k) < 0)
            return c;
        if (strcmp(name, "customInteraction") == 0)
            continue; /* its content is the PCI's (qti/pci.h) */
        xmlNode *found = find_unsupported(c, depth + 1);
        if (found)
            return found;
    }
    return NULL;
}

static int item_from_node(const struct qti_package *pkg, const char *href, xmlNode *root,
                          struct qti_item **out, struct op_err *e);

/* ------------------------------------------------------------ shared stimuli (xi:include) -- */

#define XINCLUDE_NS  "http://www.w3.org/2001/XInclude"
#define MAX_INCLUDES 100

static int is_xinclude(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, XINCLUDE_NS) == 0 &&
           strcmp((const char *)n->name, "include") == 0;
}

/* The first xi:include at or under `n`, or NULL. */
static xmlNode *find_include(xmlNode *n, int depth)
{
    for (xmlNode *c = n ? n->children : NULL; c && depth < 512; c = c->next) {
        if (is_xinclude(c))
            return c;
        xmlNode *found = find_include(c, depth + 1);
        if (found)
            return found;
    }
    return NULL;
}

/* Rewrites the relative URLs of an included fragment, written in the archive file `from`,
 * so that from the item at `item_href` they name the same archive files. A URL that does
 * not name a file inside the archive from where it was written (it climbs out, say) is
 * removed rather than left to be read from the item's folder, where it would name another
 * file; a scheme URL or a "#fragment" is left to the sanitiser. */
static void rebase_urls(const struct qti_package *pkg, struct qti_warnings *w, xmlNode *n,
                        const char *from, const char *item_href)
{
    static const char *const attrs[] = {"src", "href", "data", NULL};
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        for (const char *const *a = attrs; *a; a++) {
            xmlAttr *at = xmlHasProp(n, (const xmlChar *)*a);
            if (!at || at->ns)
                continue;
            xmlChar *v = xmlNodeGetContent((xmlNode *)at);
            const char *url = v ? (const char *)v : "";
            while (*url == ' ' || *url == '\t' || *url == '\n' || *url == '\r')
                url++;
            const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
            int scheme = colon && (!slash || colon < slash);
            char *abs = qti_xhtml_resolve_asset(from, url);
            /* a hyperlink to a page the package lacks is made inert here, so that its warning
             * names the stimulus's file and line (the sanitiser sees no href then) */
            int link =
                strcmp(*a, "href") == 0 && strcmp((const char *)n->name, "a") == 0 && url[0] != '#';
            if (link && (!abs || !qti_package_find(pkg, abs))) {
                qti_xhtml_warn_inert_link(w, from, xmlGetLineNo(n), url, abs);
                xmlRemoveProp(at);
            } else if (abs) {
                /* climb from the item's folder to the root, then down; '%' is escaped because
                 * the sanitiser percent-decodes again */
                struct buf b = BUF_INIT;
                for (const char *p = item_href; (p = strchr(p, '/')); p++)
                    buf_puts(&b, "../");
                for (const char *p = abs; *p; p++) {
                    if (*p == '%')
                        buf_puts(&b, "%25");
                    else
                        buf_append(&b, p, 1);
                }
                xmlSetProp(n, (const xmlChar *)*a, (const xmlChar *)b.data);
                buf_free(&b);
            } else if (!(url[0] == '#' || scheme)) {
                xmlRemoveProp(at);
            }
            free(abs);
            xmlFree(v);
        }
        rebase_urls(pkg, w, n->children, from, item_href);
    }
}

struct includes {
    const struct qti_package *pkg;
    const char *href; /* the item's */
    size_t max_bytes; /* all included files together */
    size_t bytes;
    int count;
    struct op_err *e;
    struct qti_warnings *warnings; /* links in included files made inert (may be NULL) */
};

static int include_err(struct includes *in, xmlNode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int include_err(struct includes *in, xmlNode *at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(in->e, OP_EINPUT, "%s line %ld: xi:include: %s", in->href, xmlGetLineNo(at),
                   msg);
}

/* Replaces one xi:include by the content of the file it names. */
static int include_one(struct includes *in, xmlNode *inc)
{
    if (++in->count > MAX_INCLUDES)
        return include_err(in, inc, "more than %d in one item", MAX_INCLUDES);
    char *parse = attr(inc, "parse");
    int xml = !parse || strcmp(parse, "xml") == 0;
    free(parse);
    if (!xml)
        return include_err(in, inc, "only parse=\"xml\" is supported");
    if (xmlHasProp(inc, (const xmlChar *)"xpointer"))
        return include_err(in, inc, "xpointer is not supported; include the whole file");
    char *target = attr(inc, "href");
    if (!target || !*target) {
        free(target);
        return include_err(in, inc, "no href");
    }
    char *path = NULL;
    struct op_err why = {0};
    if (qti_path_resolve(in->href, target, &path, &why) < 0) {
        int rc = include_err(in, inc, "%s: %s", target, why.msg);
        free(target);
        return rc;
    }
    free(target);
    const struct qti_file *f = qti_package_find(in->pkg, path);
    if (!f) {
        int rc = include_err(in, inc, "%s is not in the archive", path);
        free(path);
        return rc;
    }
    if (f->len > in->max_bytes - in->bytes) {
        int rc =
            include_err(in, inc, "%s: included files over %zu bytes in all", path, in->max_bytes);
        free(path);
        return rc;
    }
    in->bytes += f->len;
    struct qti_xml_limits lim;
    qti_xml_limits_default(&lim);
    lim.max_bytes = in->max_bytes;
    xmlDoc *sdoc;
    if (qti_xml_read(f->path, (const char *)f->data, f->len, &lim, &sdoc, in->e) < 0) {
        free(path);
        return err_prefix(in->e, "%s line %ld: xi:include", in->href, xmlGetLineNo(inc));
    }
    xmlNode *root = xmlDocGetRootElement(sdoc);
    xmlNode *nested = is_xinclude(root) ? root : find_include(root, 0);
    if (nested) {
        int rc = err_set(in->e, OP_EINPUT,
                         "%s line %ld: a shared stimulus may not include further files", f->path,
                         xmlGetLineNo(nested));
        xmlFreeDoc(sdoc);
        free(path);
        return rc;
    }
    /* A QTI 2.2 assessmentStimulus brings its stimulusBody's content; any other root element
     * (TAO writes a div) is included itself. */
    xmlNode *from = root, *body = NULL;
    if (qti_xml_is(root, "assessmentStimulus")) {
        for (xmlNode *c = root->children; c && !body; c = c->next)
            if (qti_xml_is(c, "stimulusBody"))
                body = c;
        if (!body) {
            int rc =
                err_set(in->e, OP_EINPUT, "%s line %ld: assessmentStimulus has no stimulusBody",
                        f->path, xmlGetLineNo(root));
            xmlFreeDoc(sdoc);
            free(path);
            return rc;
        }
        from = body->children;
    }
    xmlNode *copy = body ? xmlDocCopyNodeList(inc->doc, from) : xmlDocCopyNode(from, inc->doc, 1);
    xmlFreeDoc(sdoc);
    if (from && !copy) {
        free(path);
        return err_set(in->e, OP_ENOMEM, "out of memory including %s", f->path);
    }
    rebase_urls(in->pkg, in->warnings, copy, path, in->href);
    free(path);
    for (xmlNode *c = copy, *next; c; c = next) {
        next = body ? c->next : NULL;
        xmlUnlinkNode(c);
        xmlAddPrevSibling(inc, c);
    }
    xmlUnlinkNode(inc);
    xmlFreeNode(inc);
    return 0;
}

/* Replaces every xi:include under `root` by the file it names in `pkg`. Without a package an
 * xi:include is refused: its content would silently be missing. */
static int resolve_includes(const struct qti_package *pkg, const char *href, xmlNode *root,
                            size_t max_bytes, struct qti_warnings *w, struct op_err *e)
{
    struct includes in = {pkg, href, max_bytes, 0, 0, e, w};
    for (xmlNode *inc; (inc = find_include(root, 0));) {
        if (!pkg)
            return include_err(&in, inc,
                               "a shared stimulus needs the item's package; import the package "
                               "rather than the item alone");
        int rc = include_one(&in, inc);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int qti_item_from_node(const char *href, xmlNode *root, struct qti_item **out, struct op_err *e)
{
    *out = NULL;
    if (root && find_include(root, 0))
        return resolve_includes(NULL, href ? href : "item.xml", root, 0, NULL, e);
    return item_from_node(NULL, href, root, out, e);
}

static int package_has(const void *pkg, const char *path)
{
    return qti_package_find(pkg, path) != NULL;
}

/* `pkg` (may be NULL) is the item's package: links to pages it lacks are made inert. */
static int item_from_node(const struct qti_package *pkg, const char *href, xmlNode *root,
                          struct qti_item **out, struct op_err *e)
{
    *out = NULL;
    struct qti_item *item = qti_xcalloc(1, sizeof *item);
    item->href = qti_xstrdup(href ? href : "item.xml");
    struct parse p = {item, e, 0, "", NULL};
    int rc = 0;

    if (!root || root->type != XML_ELEMENT_NODE ||
        strcmp((const char *)root->name, "assessmentItem") != 0) {
        rc = perr(&p, root, "the root element is %s, not assessmentItem",
                  root ? (const char *)root->name : "missing");
        goto fail;
    }
    if (!root->ns || !qti_xml_ns_ok((const char *)root->ns->href)) {
        rc = perr(&p, root, "unknown QTI version: namespace %s (QTI 2.1 and 2.2 are supported)",
                  root->ns ? (const char *)root->ns->href : "(none)");
        goto fail;
    }
    item->identifier = attr(root, "identifier");
    item->title = attr(root, "title");
    item->label = attr(root, "label");
    if (!item->identifier || !*item->identifier) {
        rc = perr(&p, root, "assessmentItem has no identifier");
        goto fail;
    }
    if (!item->title)
        item->title = qti_xstrdup(item->identifier);
    if ((rc = parse_bool_attr(&p, root, "adaptive", &item->adaptive)) < 0 ||
        (rc = parse_bool_attr(&p, root, "timeDependent", &item->time_dependent)) < 0)
        goto fail;

    for (xmlNode *c = root->children; c; c = c->next) {
        xmlNode *bad = qti_xml_is(c, "itemBody") ? find_unsupported(c, 0) : NULL;
        if (bad) {
            rc = perr(&p, bad, "unsupported interaction %s in item %s", (const char *)bad->name,
                      item->identifier);
            goto fail;
        }
    }
    /* Declarations first: the body refers to them wherever they appear. */
    for (xmlNode *c = root->children; c; c = c->next) {
        if (!qti_xml_is(c, "responseDeclaration") && !qti_xml_is(c, "outcomeDeclaration") &&
            !qti_xml_is(c, "templateDeclaration"))
            continue;
        struct qti_decl *d;
        if ((rc = qti_decl_parse(c, &d, e)) < 0) {
            err_prefix(e, "%s: item %s", item->href, item->identifier);
            goto fail;
        }
        if (qti_item_decl(item, d->identifier)) {
            rc = perr(&p, c, "variable %s is declared twice", d->identifier);
            qti_decl_free(d);
            goto fail;
        }
        item_add_decl(item, d);
    }
    if ((rc = item_add_builtins(item, e)) < 0)
        goto fail;

    struct qti_xhtml_ctx cx = {
        item->href, &item->assets,   body_hook, &p, 0, pkg ? package_has : NULL,
        pkg,        &item->warnings, 0};
    int seen_body = 0;
    for (xmlNode *c = root->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (qti_xml_is(c, "templateProcessing") || qti_xml_is(c, "responseProcessing")) {
            struct qti_rules **slot = qti_xml_is(c, "templateProcessing")
                                          ? &item->template_processing
                                          : &item->response_processing;
            if (*slot) {
                rc = perr(&p, c, "%s appears twice", (const char *)c->name);
                goto fail;
            }
            if ((rc = qti_rules_parse(c, slot, e)) < 0) {
                err_prefix(e, "%s: item %s", item->href, item->identifier);
                goto fail;
            }
        } else if (qti_xml_is(c, "stylesheet")) {
            if ((rc = parse_stylesheet(&p, c)) < 0)
                goto fail;
        } else if (qti_xml_is(c, "itemBody")) {
            if (seen_body++) {
                rc = perr(&p, c, "itemBody appears twice");
                goto fail;
            }
            struct buf body = BUF_INIT;
            buf_puts(&body, "<div class=\"qti-itemBody");
            char *cls = attr(c, "class");
            if (cls) {
                buf_puts(&body, " ");
                qti_xhtml_escape(&body, cls);
                free(cls);
            }
            buf_puts(&body, "\">");
            qti_xhtml_warn_qti_attrs(&cx, c);
            rc = qti_xhtml_children(&cx, c, &body, e);
            buf_puts(&body, "</div>");
            item->body_html = buf_detach(&body);
            if (rc < 0)
                goto fail;
        } else if (qti_xml_is(c, "modalFeedback")) {
            qti_xhtml_warn_qti_attrs(&cx, c);
            if ((rc = parse_modal(&p, &cx, c)) < 0)
                goto fail;
        }
    }
    if (!item->body_html)
        item->body_html = qti_xstrdup("<div class=\"qti-itemBody\"></div>");
    *out = item;
    return 0;
fail:
    qti_item_free(item);
    return rc;
}

/* Reads, resolves the includes of (when `pkg` is given) and parses one item. */
static int parse_item(const struct qti_package *pkg, const char *href, const char *data, size_t len,
                      const struct qti_xml_limits *lim, struct qti_item **out, struct op_err *e)
{
    *out = NULL;
    struct qti_xml_limits l;
    if (lim)
        l = *lim;
    else
        qti_xml_limits_default(&l);
    xmlDoc *doc;
    int rc = qti_xml_read(href, data, len, &l, &doc, e);
    if (rc < 0)
        return rc;
    xmlNode *root = xmlDocGetRootElement(doc);
    struct qti_warnings w = {0}; /* of the included files, named by theirs */
    rc = resolve_includes(pkg, href, root, l.max_bytes, &w, e);
    if (rc == 0)
        rc = item_from_node(pkg, href, root, out, e);
    if (rc == 0 && *out && w.count) { /* the included files' warnings first */
        struct qti_warnings *iw = &(*out)->warnings;
        for (size_t i = 0; i < iw->count; i++)
            qti_warnings_add(&w, "%s", iw->msgs[i]);
        qti_warnings_free(iw);
        *iw = w;
    } else {
        qti_warnings_free(&w);
    }
    xmlFreeDoc(doc);
    return rc;
}

int qti_item_parse(const char *href, const char *data, size_t len, const struct qti_xml_limits *lim,
                   struct qti_item **out, struct op_err *e)
{
    return parse_item(NULL, href, data, len, lim, out, e);
}

int qti_item_parse_package(const struct qti_package *pkg, const char *href,
                           const struct qti_xml_limits *lim, struct qti_item **out,
                           struct op_err *e)
{
    *out = NULL;
    const struct qti_file *f = qti_package_find(pkg, href);
    if (!f)
        return err_set(e, OP_EINPUT, "%s is not in the archive", href);
    return parse_item(pkg, f->path, (const char *)f->data, f->len, lim, out, e);
}

/* ------------------------------------------------------------------------ accessors -- */

const char *qti_item_identifier(const struct qti_item *item)
{
    return item->identifier;
}

const char *qti_item_title(const struct qti_item *item)
{
    return item->title;
}

const char *qti_item_href(const struct qti_item *item)
{
    return item->href;
}

int qti_item_adaptive(const struct qti_item *item)
{
    return item->adaptive;
}

int qti_item_time_dependent(const struct qti_item *item)
{
    return item->time_dependent;
}

const struct qti_assets *qti_item_assets(const struct qti_item *item)
{
    return &item->assets;
}

const struct qti_warnings *qti_item_warnings(const struct qti_item *item)
{
    return &item->warnings;
}

size_t qti_item_stylesheet_count(const struct qti_item *item)
{
    return item->nstyles;
}

const char *qti_item_stylesheet(const struct qti_item *item, size_t i)
{
    return i < item->nstyles ? item->styles[i] : NULL;
}

size_t qti_item_interaction_count(const struct qti_item *item)
{
    return item->ninteractions;
}

const struct qti_interaction *qti_item_interaction(const struct qti_item *item, size_t i)
{
    return i < item->ninteractions ? item->interactions[i] : NULL;
}

const struct qti_interaction *qti_item_interaction_for(const struct qti_item *item,
                                                       const char *response_identifier)
{
    for (size_t i = 0; i < item->ninteractions; i++)
        if (strcmp(item->interactions[i]->response_identifier, response_identifier) == 0)
            return item->interactions[i];
    return NULL;
}

const char *qti_item_body_html(const struct qti_item *item)
{
    return item->body_html;
}

size_t qti_item_variable_count(const struct qti_item *item)
{
    return item->ndecls;
}

const char *qti_item_variable_name(const struct qti_item *item, size_t i)
{
    return i < item->ndecls ? item->decls[i]->identifier : NULL;
}
