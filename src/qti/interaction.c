/*
 * interaction.c - QTI interactions: parsing, render model JSON and shuffling (see
 * interaction.h). Validating a candidate's response is interaction_validate.c.
 *
 * Banners: attribute helpers, parsing per kind, JSON, shuffle.
 */
#include "qti/interaction.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "qti/interaction_internal.h"
#include "qti/pattern.h"
#include "qti/qti_alloc.h"

static const struct {
    const char *name;
    enum qti_interaction_kind kind;
} kinds[] = {
    {"choiceInteraction", QTI_INTERACTION_CHOICE},
    {"orderInteraction", QTI_INTERACTION_ORDER},
    {"associateInteraction", QTI_INTERACTION_ASSOCIATE},
    {"matchInteraction", QTI_INTERACTION_MATCH},
    {"gapMatchInteraction", QTI_INTERACTION_GAP_MATCH},
    {"inlineChoiceInteraction", QTI_INTERACTION_INLINE_CHOICE},
    {"textEntryInteraction", QTI_INTERACTION_TEXT_ENTRY},
    {"extendedTextInteraction", QTI_INTERACTION_EXTENDED_TEXT},
    {"hottextInteraction", QTI_INTERACTION_HOTTEXT},
    {"sliderInteraction", QTI_INTERACTION_SLIDER},
    {"hotspotInteraction", QTI_INTERACTION_HOTSPOT},
    {"graphicOrderInteraction", QTI_INTERACTION_GRAPHIC_ORDER},
    {"graphicAssociateInteraction", QTI_INTERACTION_GRAPHIC_ASSOCIATE},
    {"selectPointInteraction", QTI_INTERACTION_SELECT_POINT},
    {"mediaInteraction", QTI_INTERACTION_MEDIA},
    {"endAttemptInteraction", QTI_INTERACTION_END_ATTEMPT},
    {"customInteraction", QTI_INTERACTION_CUSTOM},
    {"graphicGapMatchInteraction", QTI_INTERACTION_GRAPHIC_GAP_MATCH},
    {"positionObjectInteraction", QTI_INTERACTION_POSITION_OBJECT},
    {"uploadInteraction", QTI_INTERACTION_UPLOAD},
    {"drawingInteraction", QTI_INTERACTION_DRAWING},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static const char *const unsupported[] = {
    "portableCustomInteraction",
    NULL,
};

const char *qti_interaction_kind_name(enum qti_interaction_kind kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "interaction";
}

int qti_interaction_kind_from_name(const char *name, enum qti_interaction_kind *out)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i].name, name) == 0) {
            *out = kinds[i].kind;
            return 0;
        }
    return -1;
}

int qti_interaction_is_interaction_name(const char *name)
{
    enum qti_interaction_kind k;
    if (qti_interaction_kind_from_name(name, &k) == 0)
        return 1;
    for (size_t i = 0; unsupported[i]; i++)
        if (strcmp(unsupported[i], name) == 0)
            return 1;
    size_t n = strlen(name);
    return n > 11 && strcmp(name + n - 11, "Interaction") == 0;
}

/* True for kinds whose limits are counted in associations rather than choices. */
int interaction_counts_associations(enum qti_interaction_kind k)
{
    return k == QTI_INTERACTION_ASSOCIATE || k == QTI_INTERACTION_MATCH ||
           k == QTI_INTERACTION_GAP_MATCH || k == QTI_INTERACTION_GRAPHIC_ASSOCIATE ||
           k == QTI_INTERACTION_GRAPHIC_GAP_MATCH;
}

static int is_graphic(enum qti_interaction_kind k)
{
    return k == QTI_INTERACTION_HOTSPOT || k == QTI_INTERACTION_GRAPHIC_ORDER ||
           k == QTI_INTERACTION_GRAPHIC_ASSOCIATE || k == QTI_INTERACTION_SELECT_POINT ||
           k == QTI_INTERACTION_MEDIA || k == QTI_INTERACTION_GRAPHIC_GAP_MATCH ||
           k == QTI_INTERACTION_POSITION_OBJECT || k == QTI_INTERACTION_DRAWING;
}

/* ---------------------------------------------------------------- attribute helpers -- */

struct pctx {
    const char *href;
    const char *item;
    xmlNode *node;
    struct op_err *e;
};

static int perr(struct pctx *p, xmlNode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct pctx *p, xmlNode *at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(p->e, OP_EINPUT, "%s line %ld: item %s: %s", p->href ? p->href : "item",
                   xmlGetLineNo(at ? at : p->node), p->item ? p->item : "?", msg);
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

static int attr_int(struct pctx *p, xmlNode *n, const char *name, int def, int *out)
{
    char *v = attr(n, name);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long l = strtol(v, &end, 10);
    while (*end == ' ')
        end++;
    int bad = errno || end == v || *end || l < -1000000 || l > 1000000;
    free(v);
    if (bad)
        return perr(p, n, "%s must be a whole number", name);
    *out = (int)l;
    return 0;
}

static int attr_double(struct pctx *p, xmlNode *n, const char *name, int required, double def,
                       double *out)
{
    char *v = attr(n, name);
    if (!v) {
        if (required)
            return perr(p, n, "%s is missing", name);
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    int bad = errno || end == v || *end || !isfinite(d);
    free(v);
    if (bad)
        return perr(p, n, "%s must be a number", name);
    *out = d;
    return 0;
}

static int attr_bool(struct pctx *p, xmlNode *n, const char *name, int def, int *out)
{
    char *v = attr(n, name);
    if (!v) {
        *out = def;
        return 0;
    }
    int rc = 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = 0;
    else
        rc = perr(p, n, "%s must be true or false", name);
    free(v);
    return rc;
}

static int is_qti(const xmlNode *n, const char *name)
{
    if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0 || !n->ns)
        return 0;
    const char *ns = (const char *)n->ns->href;
    return strcmp(ns, QTI_NS_21) == 0 || strcmp(ns, QTI_NS_22) == 0;
}

/* ---------------------------------------------------------------------------- parsing -- */

void qti_interaction_free(struct qti_interaction *it)
{
    if (!it)
        return;
    for (size_t i = 0; i < it->nchoices; i++) {
        free(it->choices[i].identifier);
        free(it->choices[i].html);
        free(it->choices[i].template_identifier);
        free(it->choices[i].coords);
        free(it->choices[i].label);
        free(it->choices[i].object_data);
        free(it->choices[i].object_type);
    }
    free(it->choices);
    free(it->response_identifier);
    free(it->prompt_html);
    free(it->html);
    free(it->pattern_mask);
    free(it->placeholder);
    free(it->title);
    free(it->upload_types);
    free(it->format);
    free(it->orientation);
    free(it->object_data);
    free(it->object_type);
    qti_pci_free(it->pci);
    free(it->object_label);
    free(it->stage_data);
    free(it->stage_type);
    free(it);
}

static struct qti_choice *add_choice(struct qti_interaction *it)
{
    struct qti_choice *c = qti_xrealloc(it->choices, it->nchoices + 1, sizeof *c);
    it->choices = c;
    c = &it->choices[it->nchoices++];
    memset(c, 0, sizeof *c);
    c->show_hide_show = 1;
    return c;
}

int qti_interaction_find_choice(const struct qti_interaction *it, const char *identifier)
{
    for (size_t i = 0; i < it->nchoices; i++)
        if (strcmp(it->choices[i].identifier, identifier) == 0)
            return (int)i;
    return -1;
}

static int valid_identifier(const char *s)
{
    if (!s || !*s || strlen(s) > 256)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '&')
            return 0;
    return 1;
}

/* QTI 2.1 and 2.2 require a hotspot's `shape` and `coords`, and an associableHotspot's
 * `matchMax`. An item without them is still taken, as TAO takes it, and the import says what
 * they were read as: a missing matchMax as 0, no limit (TAO's renderer sets no limit either);
 * a missing shape as "default", the whole picture (TAO draws no area for it, so it cannot be
 * chosen there): the author should give the area. */
static void warn_hotspot_defaults(struct pctx *p, struct qti_xhtml_ctx *cx, xmlNode *n,
                                  const struct qti_choice *c, int has_shape)
{
    const char *el = (const char *)n->name;
    int associable = strcmp(el, "associableHotspot") == 0;
    if (!cx || !cx->warnings || (!associable && strcmp(el, "hotspotChoice") != 0))
        return;
    long line = xmlGetLineNo(n);
    const char *file = p->href ? p->href : "item";
    const char *item = p->item ? p->item : "?";
    if (!has_shape)
        qti_warnings_add(cx->warnings,
                         "%s line %ld: item %s: %s %s has no shape (QTI requires one): it is "
                         "taken as the whole picture; give its area (shape and coords)",
                         file, line, item, el, c->identifier);
    if (associable && !xmlHasProp(n, (const xmlChar *)"matchMax"))
        qti_warnings_add(cx->warnings,
                         "%s line %ld: item %s: %s %s has no matchMax (QTI requires one): it "
                         "is taken as 0, no limit, as in TAO",
                         file, line, item, el, c->identifier);
}

/* Reads the attributes every choice kind shares and its sanitised content. */
static int parse_choice(struct pctx *p, struct qti_interaction *it, xmlNode *n, int set,
                        int with_content, struct qti_xhtml_ctx *cx)
{
    char *id = attr(n, "identifier");
    if (!valid_identifier(id)) {
        free(id);
        return perr(p, n, "%s needs an identifier (no spaces)", (const char *)n->name);
    }
    if (qti_interaction_find_choice(it, id) >= 0) {
        int rc = perr(p, n, "choice identifier %s is used twice in %s", id,
                      qti_interaction_kind_name(it->kind));
        free(id);
        return rc;
    }
    struct qti_choice *c = add_choice(it);
    c->identifier = id;
    c->match_set = set;
    int rc;
    if ((rc = attr_bool(p, n, "fixed", 0, &c->fixed)) < 0)
        return rc;
    if ((rc = attr_int(p, n, "matchMax", 0, &c->match_max)) < 0 ||
        (rc = attr_int(p, n, "matchMin", 0, &c->match_min)) < 0)
        return rc;
    if (c->match_max < 0 || c->match_min < 0)
        return perr(p, n, "matchMax and matchMin cannot be negative");
    if ((rc = attr_bool(p, n, "required", 0, &c->required)) < 0)
        return rc;
    c->template_identifier = attr(n, "templateIdentifier");
    c->label =
        attr(n, strcmp((const char *)n->name, "gapImg") == 0 ? "objectLabel" : "hotspotLabel");
    char *sh = attr(n, "showHide");
    c->show_hide_show = !(sh && strcmp(sh, "hide") == 0);
    free(sh);
    char *shape = attr(n, "shape");
    int has_shape = shape != NULL;
    if (shape) {
        char *coords = attr(n, "coords");
        if (qti_shape_from_name(shape, &c->shape) < 0)
            rc = perr(p, n, "choice %s: unknown shape %s", c->identifier, shape);
        else if (qti_shape_parse_coords(c->shape, coords ? coords : "", "coords", &c->coords,
                                        &c->ncoords, p->e) < 0)
            rc = perr(p, n, "choice %s: %s", c->identifier, p->e->msg);
        free(shape);
        free(coords);
        if (rc < 0)
            return rc;
    }
    warn_hotspot_defaults(p, cx, n, c, has_shape);
    struct buf html = BUF_INIT;
    if (with_content) {
        rc = qti_xhtml_children(cx, n, &html, p->e);
        if (rc < 0) {
            buf_free(&html);
            return rc;
        }
    }
    /* `c` may have moved if the content held choices (hottext): look it up again. */
    it->choices[qti_interaction_find_choice(it, id)].html = buf_detach(&html);
    return 0;
}

/* A gapImg of graphicGapMatch holds the image the candidate places (QTI 2.1: an object of
 * the package, required). The sanitiser would quietly replace an unusable object of its
 * content by its fallback text: refuse that here, and keep the image apart (gap_img_object). */
static int check_gap_img(struct pctx *p, xmlNode *n)
{
    xmlNode *o = NULL;
    for (xmlNode *c = n->children; c && !o; c = c->next)
        if (is_qti(c, "object"))
            o = c;
    char *id = attr(n, "identifier");
    char *data = o ? attr(o, "data") : NULL;
    char *type = o ? attr(o, "type") : NULL;
    char *path = data ? qti_xhtml_resolve_asset(p->href, data) : NULL;
    int rc = 0;
    if (!path)
        rc = perr(p, o ? o : n, "gapImg %s needs an object: an image inside the package (got %s)",
                  id ? id : "?", data ? data : "none");
    else if (type && strncmp(type, "image/", 6) != 0)
        rc = perr(p, o, "gapImg %s: the object must be an image (type %s)", id ? id : "?", type);
    free(id);
    free(data);
    free(type);
    free(path);
    return rc;
}

/* Fills the image of the gapImg `n` (checked by check_gap_img) into the choice `c`, and
 * records it as an asset of the item. */
static int gap_img_object(struct pctx *p, struct qti_choice *c, xmlNode *n,
                          struct qti_xhtml_ctx *cx)
{
    xmlNode *o = NULL;
    for (xmlNode *k = n->children; k && !o; k = k->next)
        if (is_qti(k, "object"))
            o = k;
    char *data = o ? attr(o, "data") : NULL;
    c->object_data = data ? qti_xhtml_resolve_asset(p->href, data) : NULL;
    free(data);
    if (!o || !c->object_data)
        return perr(p, n, "gapImg %s needs an object", c->identifier);
    if (cx->assets)
        qti_assets_add(cx->assets, c->object_data);
    c->object_type = attr(o, "type");
    int rc;
    if ((rc = attr_int(p, o, "width", 0, &c->object_width)) < 0 ||
        (rc = attr_int(p, o, "height", 0, &c->object_height)) < 0)
        return rc;
    return 0;
}

static int parse_object(struct pctx *p, struct qti_interaction *it, xmlNode *n,
                        struct qti_xhtml_ctx *cx)
{
    char *data = attr(n, "data");
    char *path = data ? qti_xhtml_resolve_asset(cx->href, data) : NULL;
    if (!path) {
        int rc = perr(p, n, "the object of %s needs a data path inside the package (got %s)",
                      qti_interaction_kind_name(it->kind), data ? data : "none");
        free(data);
        return rc;
    }
    free(data);
    if (cx->assets)
        qti_assets_add(cx->assets, path);
    it->object_data = path;
    it->object_type = attr(n, "type");
    xmlChar *text = xmlNodeGetContent(n);
    if (text) {
        /* the fallback text names the object for screen readers ("A tent") */
        const char *t = (const char *)text;
        t += strspn(t, " \t\r\n");
        size_t l = strlen(t);
        while (l && strchr(" \t\r\n", t[l - 1]))
            l--;
        if (l > 200) /* cut on a character boundary */
            for (l = 200; l && ((unsigned char)t[l] & 0xC0) == 0x80; l--)
                ;
        if (l)
            it->object_label = qti_xstrndup(t, l);
        xmlFree(text);
    }
    int rc;
    if ((rc = attr_int(p, n, "width", 0, &it->object_width)) < 0 ||
        (rc = attr_int(p, n, "height", 0, &it->object_height)) < 0)
        return rc;
    return 0;
}

/* The hook used while rendering the content of hottext and gapMatch interactions: hottext
 * and gap become choices and placeholders; anything else goes to the item's hook. */
struct inner {
    qti_xhtml_hook prev;
    void *prev_user;
    struct qti_interaction *it;
    struct pctx *p;
};

static int inner_hook(struct qti_xhtml_ctx *cx, xmlNode *n, struct buf *out, struct op_err *e)
{
    struct inner *in = cx->user;
    const char *name = (const char *)n->name;
    if (in->it->kind == QTI_INTERACTION_HOTTEXT && strcmp(name, "hottext") == 0) {
        int rc = parse_choice(in->p, in->it, n, 0, 1, cx);
        if (rc < 0)
            return rc;
        struct qti_choice *c = &in->it->choices[in->it->nchoices - 1];
        buf_puts(out, "<span data-qti-hottext=\"");
        qti_xhtml_escape(out, c->identifier);
        buf_printf(out, "\">%s</span>", c->html);
        return 0;
    }
    if (in->it->kind == QTI_INTERACTION_GAP_MATCH && strcmp(name, "gap") == 0) {
        int rc = parse_choice(in->p, in->it, n, 1, 0, cx);
        if (rc < 0)
            return rc;
        struct qti_choice *c = &in->it->choices[in->it->nchoices - 1];
        buf_puts(out, "<span data-qti-gap=\"");
        qti_xhtml_escape(out, c->identifier);
        buf_puts(out, "\"></span>");
        return 0;
    }
    if (qti_interaction_is_interaction_name(name))
        return err_set(e, OP_EINPUT, "%s line %ld: item %s: %s cannot be inside %s", cx->href,
                       xmlGetLineNo(n), in->p->item, name, qti_interaction_kind_name(in->it->kind));
    if (!in->prev)
        return 1;
    cx->user = in->prev_user;
    cx->hook = in->prev;
    int rc = in->prev(cx, n, out, e);
    cx->hook = inner_hook;
    cx->user = in;
    return rc;
}

/* Renders the body content of hottext/gapMatch interactions (every child but prompt and the
 * gapText/gapImg choices) into it->html. */
static int parse_inner_html(struct pctx *p, struct qti_interaction *it, xmlNode *node,
                            struct qti_xhtml_ctx *cx)
{
    struct inner in = {cx->hook, cx->user, it, p};
    cx->hook = inner_hook;
    cx->user = &in;
    struct buf html = BUF_INIT;
    int rc = 0;
    for (xmlNode *c = node->children; c && rc >= 0; c = c->next) {
        if (is_qti(c, "prompt") || is_qti(c, "gapText") || is_qti(c, "gapImg"))
            continue;
        rc = qti_xhtml_node(cx, c, &html, p->e);
    }
    cx->hook = in.prev;
    cx->user = in.prev_user;
    if (rc < 0) {
        buf_free(&html);
        return rc;
    }
    it->html = buf_detach(&html);
    return 0;
}

static int parse_children(struct pctx *p, struct qti_interaction *it, xmlNode *node,
                          struct qti_xhtml_ctx *cx)
{
    int rc = 0, nsets = 0;
    for (xmlNode *c = node->children; c && rc >= 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_qti(c, "prompt")) {
            struct buf html = BUF_INIT;
            rc = qti_xhtml_children(cx, c, &html, p->e);
            free(it->prompt_html);
            it->prompt_html = buf_detach(&html);
            continue;
        }
        switch (it->kind) {
        case QTI_INTERACTION_CHOICE:
        case QTI_INTERACTION_ORDER:
            if (is_qti(c, "simpleChoice"))
                rc = parse_choice(p, it, c, 0, 1, cx);
            break;
        case QTI_INTERACTION_ASSOCIATE:
            if (is_qti(c, "simpleAssociableChoice"))
                rc = parse_choice(p, it, c, 0, 1, cx);
            break;
        case QTI_INTERACTION_MATCH:
            if (is_qti(c, "simpleMatchSet")) {
                if (nsets > 1)
                    return perr(p, c, "matchInteraction has more than two simpleMatchSets");
                for (xmlNode *m = c->children; m && rc >= 0; m = m->next)
                    if (is_qti(m, "simpleAssociableChoice"))
                        rc = parse_choice(p, it, m, nsets, 1, cx);
                nsets++;
            }
            break;
        case QTI_INTERACTION_GAP_MATCH:
            if (is_qti(c, "gapText") || is_qti(c, "gapImg"))
                rc = parse_choice(p, it, c, 0, 1, cx);
            break;
        case QTI_INTERACTION_INLINE_CHOICE:
            if (is_qti(c, "inlineChoice"))
                rc = parse_choice(p, it, c, 0, 1, cx);
            break;
        case QTI_INTERACTION_HOTSPOT:
        case QTI_INTERACTION_GRAPHIC_ORDER:
            if (is_qti(c, "hotspotChoice"))
                rc = parse_choice(p, it, c, 0, 0, cx);
            else if (is_qti(c, "object") && !it->object_data)
                rc = parse_object(p, it, c, cx);
            break;
        case QTI_INTERACTION_GRAPHIC_ASSOCIATE:
            if (is_qti(c, "associableHotspot"))
                rc = parse_choice(p, it, c, 0, 0, cx);
            else if (is_qti(c, "object") && !it->object_data)
                rc = parse_object(p, it, c, cx);
            break;
        case QTI_INTERACTION_GRAPHIC_GAP_MATCH:
            /* QTI 2.1: gapImg choices; QTI 2.2 also allows gapText */
            if (is_qti(c, "gapImg")) {
                if ((rc = check_gap_img(p, c)) == 0 && (rc = parse_choice(p, it, c, 0, 1, cx)) == 0)
                    rc = gap_img_object(p, &it->choices[it->nchoices - 1], c, cx);
            } else if (is_qti(c, "gapText")) {
                rc = parse_choice(p, it, c, 0, 1, cx);
            } else if (is_qti(c, "associableHotspot")) {
                rc = parse_choice(p, it, c, 1, 0, cx);
            } else if (is_qti(c, "object") && !it->object_data) {
                rc = parse_object(p, it, c, cx);
            }
            break;
        case QTI_INTERACTION_SELECT_POINT:
        case QTI_INTERACTION_MEDIA:
        case QTI_INTERACTION_POSITION_OBJECT:
        case QTI_INTERACTION_DRAWING:
            if (is_qti(c, "object") && !it->object_data)
                rc = parse_object(p, it, c, cx);
            break;
        default:
            break;
        }
    }
    return rc;
}

/* uploadInteraction's `type`: MIME types separated by spaces or commas (QTI 2.1 gives one),
 * each "type/subtype" (a star subtype taken as any), into *out, lower case, one space apart. */
static int upload_types(struct pctx *p, xmlNode *node, const char *text, char **out)
{
    struct buf b = BUF_INIT;
    const char *s = text;
    int n = 0;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n' || *s == '\r')
            s++;
        if (!*s)
            break;
        const char *start = s;
        while (*s && *s != ' ' && *s != ',' && *s != '\t' && *s != '\n' && *s != '\r')
            s++;
        size_t len = (size_t)(s - start);
        const char *slash = memchr(start, '/', len);
        int ok = slash && slash > start && slash < start + len - 1 && len <= 127 &&
                 !memchr(slash + 1, '/', len - (size_t)(slash - start) - 1);
        for (size_t i = 0; ok && i < len; i++) {
            unsigned char ch = (unsigned char)start[i];
            ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 strchr("/!#$&^_.+-*", ch);
        }
        if (!ok || ++n > 64) {
            buf_free(&b);
            return perr(p, node,
                        ok ? "uploadInteraction: more than 64 types"
                           : "uploadInteraction: type \"%.100s\" is not a MIME type "
                             "(type/subtype)",
                        text);
        }
        if (b.len)
            buf_printf(&b, " ");
        for (size_t i = 0; i < len; i++) {
            char ch = start[i];
            buf_printf(&b, "%c", ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        }
    }
    *out = b.len ? buf_detach(&b) : NULL;
    buf_free(&b);
    return 0;
}

/* TAO's form of several allowed types: one class per type, "x-tao-upload-type-" then the type
 * with its '/' made '_' ("x-tao-upload-type-application_pdf"). TAO's editor writes them beside
 * a `type` that lists the types; where `type` is absent (QTI 2.1 takes one type there, and an
 * export or another tool may leave the list out) the classes are what says the allowed types.
 * Into *out as for `type` (NULL when no class names a type). */
#define TAO_UPLOAD_TYPE_CLASS "x-tao-upload-type-"

static int upload_types_of_classes(struct pctx *p, xmlNode *node, const char *classes, char **out)
{
    struct buf b = BUF_INIT;
    const size_t plen = strlen(TAO_UPLOAD_TYPE_CLASS);
    for (const char *s = classes; *s;) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
            s++;
        const char *start = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            s++;
        size_t len = (size_t)(s - start);
        if (len <= plen || strncmp(start, TAO_UPLOAD_TYPE_CLASS, plen) != 0)
            continue;
        const char *type = start + plen;
        size_t tlen = len - plen;
        const char *sep = memchr(type, '_', tlen);
        if (!sep || sep == type || sep == type + tlen - 1) {
            buf_free(&b);
            return perr(p, node,
                        "uploadInteraction: class \"%.*s\" names no MIME type (TAO writes "
                        "%sTYPE_SUBTYPE, as " TAO_UPLOAD_TYPE_CLASS "application_pdf)",
                        (int)(len > 120 ? 120 : len), start, TAO_UPLOAD_TYPE_CLASS);
        }
        buf_printf(&b, "%s%.*s/%.*s", b.len ? " " : "", (int)(sep - type), type,
                   (int)(tlen - (size_t)(sep - type) - 1), sep + 1);
    }
    *out = NULL;
    if (!b.len) {
        buf_free(&b);
        return 0;
    }
    int rc = upload_types(p, node, b.data, out);
    buf_free(&b);
    return rc;
}

int qti_interaction_parse(xmlNode *node, const char *item_identifier, struct qti_xhtml_ctx *cx,
                          struct qti_interaction **out, struct op_err *e)
{
    struct pctx p = {cx->href, item_identifier, node, e};
    const char *name = (const char *)node->name;
    enum qti_interaction_kind kind;
    *out = NULL;
    if (qti_interaction_kind_from_name(name, &kind) < 0)
        return perr(&p, node, "unsupported interaction %s in item %s", name,
                    item_identifier ? item_identifier : "?");

    struct qti_interaction *it = qti_xcalloc(1, sizeof *it);
    it->kind = kind;
    int rc = 0;
    it->response_identifier = attr(node, "responseIdentifier");
    if (!valid_identifier(it->response_identifier)) {
        rc = perr(&p, node, "%s needs a responseIdentifier", name);
        goto fail;
    }

    int default_max = 0;
    if (kind == QTI_INTERACTION_CHOICE || kind == QTI_INTERACTION_HOTTEXT ||
        kind == QTI_INTERACTION_HOTSPOT || kind == QTI_INTERACTION_SELECT_POINT ||
        kind == QTI_INTERACTION_POSITION_OBJECT || interaction_counts_associations(kind))
        default_max = 1;
    /* gapMatch has no such limit; graphicGapMatch has one since QTI 2.2, unbounded when
     * absent (the matchMax of its choices bound it) */
    if (kind == QTI_INTERACTION_GAP_MATCH || kind == QTI_INTERACTION_GRAPHIC_GAP_MATCH)
        default_max = 0;
    const char *max_name = interaction_counts_associations(kind) ? "maxAssociations" : "maxChoices";
    const char *min_name = interaction_counts_associations(kind) ? "minAssociations" : "minChoices";
    if ((rc = attr_int(&p, node, max_name, default_max, &it->max_choices)) < 0 ||
        (rc = attr_int(&p, node, min_name, 0, &it->min_choices)) < 0 ||
        (rc = attr_bool(&p, node, "shuffle", 0, &it->shuffle)) < 0)
        goto fail;
    if (it->max_choices < 0 || it->min_choices < 0) {
        rc = perr(&p, node, "%s and %s cannot be negative", max_name, min_name);
        goto fail;
    }
    if (it->max_choices > 0 && it->min_choices > it->max_choices) {
        rc = perr(&p, node, "%s (%d) is greater than %s (%d)", min_name, it->min_choices, max_name,
                  it->max_choices);
        goto fail;
    }
    it->orientation = attr(node, "orientation");

    switch (kind) {
    case QTI_INTERACTION_INLINE_CHOICE:
        /* "required": a choice must be made */
        if ((rc = attr_bool(&p, node, "required", 0, &it->min_choices)) < 0)
            goto fail;
        it->max_choices = 1;
        break;
    case QTI_INTERACTION_TEXT_ENTRY:
    case QTI_INTERACTION_EXTENDED_TEXT:
        if ((rc = attr_int(&p, node, "expectedLength", 0, &it->expected_length)) < 0 ||
            (rc = attr_int(&p, node, "expectedLines", 0, &it->expected_lines)) < 0 ||
            (rc = attr_int(&p, node, "base", 10, &it->base)) < 0 ||
            (rc = attr_int(&p, node, "maxStrings", 0, &it->max_strings)) < 0 ||
            (rc = attr_int(&p, node, "minStrings", 0, &it->min_strings)) < 0)
            goto fail;
        it->pattern_mask = attr(node, "patternMask");
        it->placeholder = attr(node, "placeholderText");
        if (kind == QTI_INTERACTION_EXTENDED_TEXT) {
            it->format = attr(node, "format");
            if (it->format && strcmp(it->format, "plain") != 0 &&
                strcmp(it->format, "preFormatted") != 0 && strcmp(it->format, "xhtml") != 0) {
                rc = perr(&p, node, "format must be plain, preFormatted or xhtml");
                goto fail;
            }
        }
        const char *why = NULL;
        if (it->pattern_mask && qti_pattern_check(it->pattern_mask, &why) < 0) {
            rc = perr(&p, node, "patternMask \"%.200s\" %s", it->pattern_mask, why);
            goto fail;
        }
        it->max_choices = it->min_choices = 0;
        break;
    case QTI_INTERACTION_SLIDER:
        if ((rc = attr_double(&p, node, "lowerBound", 1, 0, &it->lower_bound)) < 0 ||
            (rc = attr_double(&p, node, "upperBound", 1, 0, &it->upper_bound)) < 0 ||
            (rc = attr_double(&p, node, "step", 0, 0, &it->step)) < 0 ||
            (rc = attr_bool(&p, node, "stepLabel", 0, &it->step_label)) < 0 ||
            (rc = attr_bool(&p, node, "reverse", 0, &it->reverse)) < 0)
            goto fail;
        if (it->lower_bound > it->upper_bound || it->step < 0) {
            rc = perr(&p, node,
                      "sliderInteraction needs lowerBound <= upperBound and a "
                      "positive step");
            goto fail;
        }
        it->max_choices = it->min_choices = 0;
        break;
    case QTI_INTERACTION_END_ATTEMPT:
        it->title = attr(node, "title");
        if (!it->title) {
            rc = perr(&p, node, "endAttemptInteraction needs a title (the button's text)");
            goto fail;
        }
        if ((rc = attr_bool(&p, node, "countAttempt", 1, &it->count_attempt)) < 0)
            goto fail;
        it->max_choices = it->min_choices = 0;
        break;
    case QTI_INTERACTION_MEDIA:
        if ((rc = attr_bool(&p, node, "autostart", 0, &it->autostart)) < 0 ||
            (rc = attr_int(&p, node, "minPlays", 0, &it->min_plays)) < 0 ||
            (rc = attr_int(&p, node, "maxPlays", 0, &it->max_plays)) < 0 ||
            (rc = attr_bool(&p, node, "loop", 0, &it->loop)) < 0)
            goto fail;
        if (it->min_plays < 0 || it->max_plays < 0) {
            rc = perr(&p, node, "mediaInteraction: minPlays and maxPlays cannot be negative");
            goto fail;
        }
        if (it->max_plays > 0 && it->min_plays > it->max_plays) {
            rc = perr(&p, node, "mediaInteraction: minPlays (%d) is greater than maxPlays (%d)",
                      it->min_plays, it->max_plays);
            goto fail;
        }
        break;
    case QTI_INTERACTION_POSITION_OBJECT: {
        char *cp = attr(node, "centerPoint");
        if (cp) {
            long x, y;
            char extra;
            int n = sscanf(cp, " %ld %ld %c", &x, &y, &extra);
            free(cp);
            if (n != 2 || x < 0 || y < 0 || x > 1000000 || y > 1000000) {
                rc = perr(&p, node,
                          "positionObjectInteraction: centerPoint must be two whole numbers "
                          "\"x y\" (pixels from the object's top-left corner)");
                goto fail;
            }
            it->has_center = 1;
            it->center_x = (int)x;
            it->center_y = (int)y;
        }
        break;
    }
    case QTI_INTERACTION_CUSTOM: {
        char what[300];
        snprintf(what, sizeof what, "%s", item_identifier ? item_identifier : "?");
        if ((rc = qti_pci_parse(node, cx, what, &it->pci, e)) < 0)
            goto fail;
        it->max_choices = it->min_choices = 0;
        it->line = (int)xmlGetLineNo(node);
        *out = it;
        return 0; /* its content is the PCI's: no prompt or choices of QTI's */
    }
    case QTI_INTERACTION_UPLOAD: {
        /* `type` first (TAO reads only it), else TAO's classes */
        char *types = attr(node, "type");
        char *classes = types ? NULL : attr(node, "class");
        rc = 0;
        if (types)
            rc = upload_types(&p, node, types, &it->upload_types);
        else if (classes)
            rc = upload_types_of_classes(&p, node, classes, &it->upload_types);
        free(types);
        free(classes);
        if (rc < 0)
            goto fail;
        it->max_choices = it->min_choices = 0;
        break;
    }
    case QTI_INTERACTION_DRAWING:
        it->max_choices = it->min_choices = 0;
        break;
    default:
        break;
    }

    if (kind == QTI_INTERACTION_HOTTEXT || kind == QTI_INTERACTION_GAP_MATCH) {
        /* choices first for gapMatch so gaps follow the gapTexts */
        if (kind == QTI_INTERACTION_GAP_MATCH && (rc = parse_children(&p, it, node, cx)) < 0)
            goto fail;
        if ((rc = parse_inner_html(&p, it, node, cx)) < 0)
            goto fail;
        for (xmlNode *c = node->children; c; c = c->next)
            if (is_qti(c, "prompt")) {
                struct buf html = BUF_INIT;
                rc = qti_xhtml_children(cx, c, &html, e);
                free(it->prompt_html);
                it->prompt_html = buf_detach(&html);
                if (rc < 0)
                    goto fail;
            }
    } else {
        if ((rc = parse_children(&p, it, node, cx)) < 0)
            goto fail;
    }
    it->line = (int)xmlGetLineNo(node);

    if (is_graphic(kind) && !it->object_data) {
        rc = perr(&p, node, "%s needs an object (the image)", name);
        goto fail;
    }
    if (kind == QTI_INTERACTION_DRAWING && it->object_type &&
        strncmp(it->object_type, "image/", 6) != 0) {
        rc = perr(&p, node,
                  "drawingInteraction: its object is drawn on, so it must be an image "
                  "(type \"%.100s\")",
                  it->object_type);
        goto fail;
    }
    int needs_choices = kind != QTI_INTERACTION_TEXT_ENTRY &&
                        kind != QTI_INTERACTION_EXTENDED_TEXT && kind != QTI_INTERACTION_SLIDER &&
                        kind != QTI_INTERACTION_SELECT_POINT && kind != QTI_INTERACTION_MEDIA &&
                        kind != QTI_INTERACTION_END_ATTEMPT &&
                        kind != QTI_INTERACTION_POSITION_OBJECT && kind != QTI_INTERACTION_UPLOAD &&
                        kind != QTI_INTERACTION_DRAWING;
    if (needs_choices && it->nchoices == 0) {
        rc = perr(&p, node, "%s has no choices", name);
        goto fail;
    }
    if (kind == QTI_INTERACTION_GRAPHIC_GAP_MATCH) {
        size_t gaps = 0;
        for (size_t i = 0; i < it->nchoices; i++)
            gaps += it->choices[i].match_set == 1;
        if (gaps == 0 || gaps == it->nchoices) {
            rc = perr(&p, node, "graphicGapMatchInteraction needs %s",
                      gaps ? "gapImg choices (the images to place)"
                           : "associableHotspots (the places on the image)");
            goto fail;
        }
    }
    *out = it;
    return 0;
fail:
    qti_interaction_free(it);
    return rc;
}

/* ------------------------------------------------------------------------------- JSON -- */

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

json_t *qti_interaction_to_json(const struct qti_interaction *it)
{
    enum qti_interaction_kind k = it->kind;
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(qti_interaction_kind_name(k)));
    json_object_set_new(o, "responseIdentifier", json_string(it->response_identifier));
    set_str(o, "prompt", it->prompt_html);
    set_str(o, "html", it->html);
    set_str(o, "orientation", it->orientation);
    int has_choices = it->nchoices > 0 || k == QTI_INTERACTION_CHOICE;
    if (has_choices) {
        json_object_set_new(o, "shuffle", json_boolean(it->shuffle));
        json_t *arr = json_array();
        for (size_t i = 0; i < it->nchoices; i++) {
            const struct qti_choice *c = &it->choices[i];
            json_t *cj = json_object();
            json_object_set_new(cj, "identifier", json_string(c->identifier));
            json_object_set_new(cj, "html", json_string(c->html ? c->html : ""));
            if (c->fixed)
                json_object_set_new(cj, "fixed", json_true());
            if (c->match_max)
                json_object_set_new(cj, "matchMax", json_integer(c->match_max));
            if (c->match_min)
                json_object_set_new(cj, "matchMin", json_integer(c->match_min));
            if (c->match_set)
                json_object_set_new(cj, "matchSet", json_integer(c->match_set));
            if (c->required)
                json_object_set_new(cj, "required", json_true());
            if (c->shape != QTI_SHAPE_DEFAULT || c->ncoords) {
                json_object_set_new(cj, "shape", json_string(qti_shape_name(c->shape)));
                json_t *co = json_array();
                for (size_t j = 0; j < c->ncoords; j++)
                    json_array_append_new(co, json_real(c->coords[j]));
                json_object_set_new(cj, "coords", co);
            }
            if (c->label)
                json_object_set_new(cj, "label", json_string(c->label));
            if (c->object_data) {
                json_t *ob = json_object();
                json_object_set_new(ob, "data", json_string(c->object_data));
                set_str(ob, "type", c->object_type);
                if (c->object_width)
                    json_object_set_new(ob, "width", json_integer(c->object_width));
                if (c->object_height)
                    json_object_set_new(ob, "height", json_integer(c->object_height));
                json_object_set_new(cj, "object", ob);
            }
            if (c->template_identifier) {
                json_object_set_new(cj, "templateIdentifier", json_string(c->template_identifier));
                json_object_set_new(cj, "showHide",
                                    json_string(c->show_hide_show ? "show" : "hide"));
            }
            json_array_append_new(arr, cj);
        }
        json_object_set_new(o, "choices", arr);
    }
    if (k != QTI_INTERACTION_TEXT_ENTRY && k != QTI_INTERACTION_EXTENDED_TEXT &&
        k != QTI_INTERACTION_SLIDER && k != QTI_INTERACTION_MEDIA &&
        k != QTI_INTERACTION_END_ATTEMPT && k != QTI_INTERACTION_CUSTOM &&
        k != QTI_INTERACTION_UPLOAD && k != QTI_INTERACTION_DRAWING) {
        int assoc = interaction_counts_associations(k);
        json_object_set_new(o, assoc ? "maxAssociations" : "maxChoices",
                            json_integer(it->max_choices));
        json_object_set_new(o, assoc ? "minAssociations" : "minChoices",
                            json_integer(it->min_choices));
    }
    if (k == QTI_INTERACTION_TEXT_ENTRY || k == QTI_INTERACTION_EXTENDED_TEXT) {
        if (it->expected_length)
            json_object_set_new(o, "expectedLength", json_integer(it->expected_length));
        if (it->expected_lines)
            json_object_set_new(o, "expectedLines", json_integer(it->expected_lines));
        set_str(o, "patternMask", it->pattern_mask);
        set_str(o, "placeholderText", it->placeholder);
        json_object_set_new(o, "base", json_integer(it->base));
        if (k == QTI_INTERACTION_EXTENDED_TEXT) {
            json_object_set_new(o, "maxStrings", json_integer(it->max_strings));
            json_object_set_new(o, "minStrings", json_integer(it->min_strings));
            set_str(o, "format", it->format);
        }
    }
    if (k == QTI_INTERACTION_SLIDER) {
        json_object_set_new(o, "lowerBound", json_real(it->lower_bound));
        json_object_set_new(o, "upperBound", json_real(it->upper_bound));
        json_object_set_new(o, "step", json_real(it->step));
        json_object_set_new(o, "stepLabel", json_boolean(it->step_label));
        json_object_set_new(o, "reverse", json_boolean(it->reverse));
    }
    if (it->object_data) {
        json_t *ob = json_object();
        json_object_set_new(ob, "data", json_string(it->object_data));
        set_str(ob, "type", it->object_type);
        set_str(ob, "label", it->object_label);
        if (it->object_width)
            json_object_set_new(ob, "width", json_integer(it->object_width));
        if (it->object_height)
            json_object_set_new(ob, "height", json_integer(it->object_height));
        json_object_set_new(o, "object", ob);
    }
    if (k == QTI_INTERACTION_END_ATTEMPT) {
        json_object_set_new(o, "title", json_string(it->title));
        json_object_set_new(o, "countAttempt", json_boolean(it->count_attempt));
    }
    if (k == QTI_INTERACTION_POSITION_OBJECT) {
        if (it->has_center)
            json_object_set_new(o, "centerPoint", json_pack("[ii]", it->center_x, it->center_y));
        if (it->stage_data) {
            json_t *st = json_object();
            json_object_set_new(st, "data", json_string(it->stage_data));
            set_str(st, "type", it->stage_type);
            if (it->stage_width)
                json_object_set_new(st, "width", json_integer(it->stage_width));
            if (it->stage_height)
                json_object_set_new(st, "height", json_integer(it->stage_height));
            json_object_set_new(o, "stage", st);
        }
    }
    if (k == QTI_INTERACTION_UPLOAD)
        set_str(o, "types", it->upload_types);
    if (k == QTI_INTERACTION_MEDIA) {
        json_object_set_new(o, "autostart", json_boolean(it->autostart));
        json_object_set_new(o, "minPlays", json_integer(it->min_plays));
        json_object_set_new(o, "maxPlays", json_integer(it->max_plays));
        json_object_set_new(o, "loop", json_boolean(it->loop));
    }
    if (k == QTI_INTERACTION_CUSTOM && it->pci)
        json_object_set_new(o, "pci", qti_pci_to_json(it->pci));
    return o;
}

static char *jstr(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        return NULL;
    char *s = qti_xstrdup(json_string_value(v));
    return s;
}

static int jint(const json_t *o, const char *k, int def)
{
    const json_t *v = json_object_get(o, k);
    if (json_is_integer(v) && json_integer_value(v) >= -1000000 && json_integer_value(v) <= 1000000)
        return (int)json_integer_value(v);
    return def;
}

static int jint_at(const json_t *a, size_t i)
{
    const json_t *v = json_array_get(a, i);
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
    return n >= 0 && n <= 1000000 ? (int)n : 0;
}

static double jnum(const json_t *o, const char *k, double def)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : def;
}

static int jbool(const json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

int qti_interaction_from_json(const json_t *j, const char *what, struct qti_interaction **out,
                              struct op_err *e)
{
    *out = NULL;
    if (!json_is_object(j))
        return err_set(e, OP_EINPUT, "%s: not a JSON object", what);
    const char *type = json_string_value(json_object_get(j, "type"));
    enum qti_interaction_kind kind;
    if (!type || qti_interaction_kind_from_name(type, &kind) < 0)
        return err_set(e, OP_EINPUT, "%s: unknown interaction type %s", what,
                       type ? type : "(none)");
    struct qti_interaction *it = qti_xcalloc(1, sizeof *it);
    it->kind = kind;
    it->response_identifier = jstr(j, "responseIdentifier");
    if (!valid_identifier(it->response_identifier)) {
        qti_interaction_free(it);
        return err_set(e, OP_EINPUT, "%s: responseIdentifier missing", what);
    }
    it->prompt_html = jstr(j, "prompt");
    it->html = jstr(j, "html");
    it->orientation = jstr(j, "orientation");
    it->shuffle = jbool(j, "shuffle");
    int assoc = interaction_counts_associations(kind);
    it->max_choices = jint(j, assoc ? "maxAssociations" : "maxChoices", 0);
    it->min_choices = jint(j, assoc ? "minAssociations" : "minChoices", 0);
    it->expected_length = jint(j, "expectedLength", 0);
    it->expected_lines = jint(j, "expectedLines", 0);
    it->pattern_mask = jstr(j, "patternMask");
    it->placeholder = jstr(j, "placeholderText");
    it->base = jint(j, "base", 10);
    it->max_strings = jint(j, "maxStrings", 0);
    it->min_strings = jint(j, "minStrings", 0);
    it->format = jstr(j, "format");
    it->lower_bound = jnum(j, "lowerBound", 0);
    it->upper_bound = jnum(j, "upperBound", 0);
    it->step = jnum(j, "step", 0);
    it->step_label = jbool(j, "stepLabel");
    it->reverse = jbool(j, "reverse");
    it->autostart = jbool(j, "autostart");
    it->min_plays = jint(j, "minPlays", 0);
    it->max_plays = jint(j, "maxPlays", 0);
    it->loop = jbool(j, "loop");
    it->title = jstr(j, "title");
    it->count_attempt = jbool(j, "countAttempt");
    if (kind == QTI_INTERACTION_UPLOAD)
        it->upload_types = jstr(j, "types");
    if (kind == QTI_INTERACTION_END_ATTEMPT && !it->title) {
        qti_interaction_free(it);
        return err_set(e, OP_EINPUT, "%s: endAttemptInteraction without a title", what);
    }
    if (kind == QTI_INTERACTION_CUSTOM &&
        qti_pci_from_json(json_object_get(j, "pci"), what, &it->pci, e) < 0) {
        qti_interaction_free(it);
        return OP_EINPUT;
    }
    const json_t *ob = json_object_get(j, "object");
    if (json_is_object(ob)) {
        it->object_data = jstr(ob, "data");
        it->object_type = jstr(ob, "type");
        it->object_label = jstr(ob, "label");
        it->object_width = jint(ob, "width", 0);
        it->object_height = jint(ob, "height", 0);
    }
    const json_t *cp = json_object_get(j, "centerPoint");
    if (json_is_array(cp) && json_array_size(cp) == 2) {
        it->has_center = 1;
        it->center_x = jint_at(cp, 0);
        it->center_y = jint_at(cp, 1);
    }
    const json_t *st = json_object_get(j, "stage");
    if (json_is_object(st)) {
        it->stage_data = jstr(st, "data");
        it->stage_type = jstr(st, "type");
        it->stage_width = jint(st, "width", 0);
        it->stage_height = jint(st, "height", 0);
    }
    if (kind == QTI_INTERACTION_POSITION_OBJECT && (!it->object_data || !it->stage_data)) {
        qti_interaction_free(it);
        return err_set(e, OP_EINPUT, "%s: positionObjectInteraction without its object or stage",
                       what);
    }
    const json_t *choices = json_object_get(j, "choices");
    size_t i;
    const json_t *cj;
    json_array_foreach(choices, i, cj)
    {
        char *id = jstr(cj, "identifier");
        if (!valid_identifier(id) || qti_interaction_find_choice(it, id) >= 0) {
            free(id);
            qti_interaction_free(it);
            return err_set(e, OP_EINPUT, "%s: choice %zu has a missing or repeated identifier",
                           what, i + 1);
        }
        struct qti_choice *c = add_choice(it);
        c->identifier = id;
        c->html = jstr(cj, "html");
        c->fixed = jbool(cj, "fixed");
        c->match_max = jint(cj, "matchMax", 0);
        c->match_min = jint(cj, "matchMin", 0);
        c->match_set = jint(cj, "matchSet", 0);
        c->required = jbool(cj, "required");
        c->template_identifier = jstr(cj, "templateIdentifier");
        c->label = jstr(cj, "label");
        const json_t *cob = json_object_get(cj, "object");
        if (json_is_object(cob)) {
            c->object_data = jstr(cob, "data");
            c->object_type = jstr(cob, "type");
            c->object_width = jint(cob, "width", 0);
            c->object_height = jint(cob, "height", 0);
        }
        const char *sh = json_string_value(json_object_get(cj, "showHide"));
        c->show_hide_show = !(sh && strcmp(sh, "hide") == 0);
        const char *shape = json_string_value(json_object_get(cj, "shape"));
        if (shape) {
            const json_t *co = json_object_get(cj, "coords");
            struct buf s = BUF_INIT;
            size_t k;
            const json_t *v;
            json_array_foreach(co, k, v)
                buf_printf(&s, "%s%.17g", k ? "," : "", json_number_value(v));
            int rc = qti_shape_from_name(shape, &c->shape) < 0
                         ? err_set(e, OP_EINPUT, "unknown shape %s", shape)
                         : qti_shape_parse_coords(c->shape, s.data ? s.data : "", "coords",
                                                  &c->coords, &c->ncoords, e);
            buf_free(&s);
            if (rc < 0) {
                qti_interaction_free(it);
                return err_prefix(e, "%s: choice %s", what, id);
            }
        }
    }
    *out = it;
    return 0;
}

/* ---------------------------------------------------------------------------- shuffle -- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Shuffles, among themselves, the non-fixed entries of order[] whose choice is in `set`
 * (set < 0: all). */
static void shuffle_set(const struct qti_interaction *it, size_t *order, int set, uint64_t *state)
{
    size_t n = it->nchoices;
    size_t *slots = qti_xmalloc(n, sizeof *slots);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct qti_choice *c = &it->choices[order[i]];
        if (!c->fixed && (set < 0 || c->match_set == set))
            slots[m++] = i;
    }
    for (size_t i = m; i > 1; i--) {
        size_t j = (size_t)(splitmix64(state) % i);
        size_t a = slots[i - 1], b = slots[j];
        size_t t = order[a];
        order[a] = order[b];
        order[b] = t;
    }
    free(slots);
}

void qti_interaction_shuffle(const struct qti_interaction *it, uint64_t seed, size_t *order)
{
    for (size_t i = 0; i < it->nchoices; i++)
        order[i] = i;
    if (!it->shuffle)
        return;
    /* Each interaction of an item gets its own stream from the one session seed. */
    uint64_t state = seed ^ fnv1a(it->response_identifier);
    switch (it->kind) {
    case QTI_INTERACTION_MATCH:
        shuffle_set(it, order, 0, &state);
        shuffle_set(it, order, 1, &state);
        break;
    case QTI_INTERACTION_GAP_MATCH:
    case QTI_INTERACTION_GRAPHIC_GAP_MATCH:
        shuffle_set(it, order, 0, &state);
        break;
    case QTI_INTERACTION_CHOICE:
    case QTI_INTERACTION_ORDER:
    case QTI_INTERACTION_ASSOCIATE:
    case QTI_INTERACTION_INLINE_CHOICE:
        shuffle_set(it, order, -1, &state);
        break;
    default:
        break; /* hottext, graphic: choices stay where the content puts them */
    }
}
