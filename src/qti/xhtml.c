/*
 * xhtml.c - the allow-list sanitiser of QTI content (see xhtml.h).
 *
 * The output is written from scratch: an element or attribute reaches it only when it is in
 * one of the tables below, so new HTML features are off until someone adds them here.
 */
#include "qti/qti_alloc.h"
#include "qti/xhtml.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_XHTML "http://www.w3.org/1999/xhtml"

/* XHTML elements of the QTI content model (2.1) and the HTML5 ones QTI 2.2 adds. */
static const char *const xhtml_elements[] = {
    "a",     "abbr",     "acronym",    "address",    "article", "aside",   "audio", "b",
    "bdi",   "bdo",      "big",        "blockquote", "br",      "caption", "cite",  "code",
    "col",   "colgroup", "dd",         "del",        "details", "dfn",     "div",   "dl",
    "dt",    "em",       "figcaption", "figure",     "footer",  "h1",      "h2",    "h3",
    "h4",    "h5",       "h6",         "header",     "hr",      "i",       "img",   "ins",
    "kbd",   "label",    "li",         "mark",       "nav",     "object",  "ol",    "p",
    "pre",   "q",        "rb",         "rp",         "rt",      "rtc",     "ruby",  "s",
    "samp",  "section",  "small",      "source",     "span",    "strong",  "sub",   "summary",
    "sup",   "table",    "tbody",      "td",         "tfoot",   "th",      "thead", "tr",
    "track", "tt",       "u",          "ul",         "var",     "video",   "wbr",   NULL,
};

/* Elements dropped with everything inside: they run code, load other documents, submit
 * data, or only make sense with scripts. */
static const char *const dropped_elements[] = {
    "script", "style",  "iframe",   "frame",  "frameset", "embed", "applet", "form",     "input",
    "button", "select", "textarea", "option", "link",     "meta",  "base",   "noscript", "template",
    "svg",    "canvas", "param",    "dialog", "portal",   "head",  "title",  "slot",     NULL,
};

static const char *const void_elements[] = {"br",  "hr",     "img",   "col",
                                            "wbr", "source", "track", NULL};

/* Attributes any XHTML element may keep. */
static const char *const global_attrs[] = {"id", "class", "lang", "dir", "title", NULL};

struct elem_attrs {
    const char *element;
    const char *const attrs[10];
};

/* Attributes per element. URL-valued ones are listed in url_attrs too. */
static const struct elem_attrs element_attrs[] = {
    {"a", {"href", NULL}},
    {"img", {"src", "alt", "width", "height", NULL}},
    {"table", {"summary", "border", "cellpadding", "cellspacing", "width", NULL}},
    {"td", {"colspan", "rowspan", "headers", "scope", "abbr", "align", "valign", NULL}},
    {"th", {"colspan", "rowspan", "headers", "scope", "abbr", "align", "valign", NULL}},
    {"tr", {"align", "valign", NULL}},
    {"tbody", {"align", "valign", NULL}},
    {"thead", {"align", "valign", NULL}},
    {"tfoot", {"align", "valign", NULL}},
    {"col", {"span", "width", "align", "valign", NULL}},
    {"colgroup", {"span", "width", "align", "valign", NULL}},
    {"ol", {"start", "type", "reversed", NULL}},
    {"ul", {"type", NULL}},
    {"li", {"value", NULL}},
    {"object", {"data", "type", "width", "height", NULL}},
    {"audio", {"src", "controls", "loop", "muted", "preload", NULL}},
    {"video", {"src", "controls", "loop", "muted", "preload", "width", "height", "poster"}},
    {"source", {"src", "type", NULL}},
    {"track", {"src", "kind", "srclang", "label", "default", NULL}},
    {"bdo", {"dir", NULL}},
    {"details", {"open", NULL}},
    {NULL, {NULL}},
};

static const char *const url_attrs[] = {"href", "src", "data", "poster", NULL};

/* MathML: presentation markup, the common content markup, and their layout attributes.
 * No links (href, xlink:href) and no maction (its actions need scripts). */
static const char *const mathml_elements[] = {
    "math",         "mi",         "mn",        "mo",        "ms",         "mtext",
    "mspace",       "mrow",       "mfrac",     "msqrt",     "mroot",      "mstyle",
    "merror",       "mpadded",    "mphantom",  "mfenced",   "menclose",   "msub",
    "msup",         "msubsup",    "munder",    "mover",     "munderover", "mmultiscripts",
    "mprescripts",  "none",       "mtable",    "mtr",       "mtd",        "mlabeledtr",
    "maligngroup",  "malignmark", "mglyph",    "semantics", "annotation", "apply",
    "ci",           "cn",         "csymbol",   "plus",      "minus",      "times",
    "divide",       "power",      "root",      "eq",        "neq",        "lt",
    "gt",           "leq",        "geq",       "abs",       "sin",        "cos",
    "tan",          "log",        "ln",        "exp",       "sum",        "int",
    "bvar",         "lowlimit",   "uplimit",   "degree",    "interval",   "set",
    "list",         "vector",     "matrix",    "matrixrow", "pi",         "infinity",
    "exponentiale", "imaginaryi", "factorial", "quotient",  "rem",        NULL,
};

static const char *const mathml_attrs[] = {
    "id",          "class",       "dir",       "display",        "displaystyle", "scriptlevel",
    "mathvariant", "mathsize",    "mathcolor", "mathbackground", "fence",        "separator",
    "stretchy",    "symmetric",   "largeop",   "movablelimits",  "accent",       "accentunder",
    "lspace",      "rspace",      "width",     "height",         "depth",        "linethickness",
    "numalign",    "denomalign",  "bevelled",  "open",           "close",        "separators",
    "notation",    "columnalign", "rowalign",  "columnspan",     "rowspan",      "columnlines",
    "rowlines",    "frame",       "align",     "encoding",       "form",         "maxsize",
    "minsize",     "type",        "voffset",   "lquote",         "rquote",       "alttext",
    NULL,
};

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

int qti_xhtml_element_allowed(const char *name)
{
    return in_list(xhtml_elements, name);
}

void qti_assets_free(struct qti_assets *a)
{
    for (size_t i = 0; i < a->count; i++)
        free(a->paths[i]);
    free(a->paths);
    a->paths = NULL;
    a->count = 0;
}

void qti_assets_add(struct qti_assets *a, const char *path)
{
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->paths[i], path) == 0)
            return;
    a->paths = qti_xrealloc(a->paths, a->count + 1, sizeof *a->paths);
    a->paths[a->count++] = qti_xstrdup(path);
}

/* The kind of a message added by qti_warnings_add_kind: its kind, its text as first added,
 * and how many more of its kind were found since. */
struct qti_warning_kind {
    char *kind; /* NULL: a message of no kind (qti_warnings_add) */
    char *first;
    size_t more;
};

void qti_warnings_free(struct qti_warnings *w)
{
    for (size_t i = 0; i < w->count; i++) {
        free(w->msgs[i]);
        if (w->kinds) {
            free(w->kinds[i].kind);
            free(w->kinds[i].first);
        }
    }
    free(w->msgs);
    free(w->kinds);
    w->msgs = NULL;
    w->kinds = NULL;
    w->count = 0;
}

/* Appends `msg` (taken) of `kind` (copied; may be NULL). */
static void warnings_append(struct qti_warnings *w, char *msg, const char *kind)
{
    w->msgs = qti_xrealloc(w->msgs, w->count + 1, sizeof *w->msgs);
    w->kinds = qti_xrealloc(w->kinds, w->count + 1, sizeof *w->kinds);
    w->kinds[w->count] = (struct qti_warning_kind){kind ? qti_xstrdup(kind) : NULL,
                                                   kind ? qti_xstrdup(msg) : NULL, 0};
    w->msgs[w->count++] = msg;
}

void qti_warnings_add(struct qti_warnings *w, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    /* the same content sanitised twice (a shared part, a feedback shown in two places) says
     * it once */
    for (size_t i = 0; i < w->count; i++)
        if (strcmp(w->msgs[i], b.data ? b.data : "") == 0) {
            buf_free(&b);
            return;
        }
    if (!b.data)
        buf_puts(&b, "");
    warnings_append(w, buf_detach(&b), NULL);
}

void qti_warnings_add_kind(struct qti_warnings *w, const char *kind, const char *fmt, ...)
{
    for (size_t i = 0; w->kinds && i < w->count; i++) {
        struct qti_warning_kind *k = &w->kinds[i];
        if (!k->kind || strcmp(k->kind, kind) != 0)
            continue;
        k->more++;
        struct buf b = BUF_INIT;
        buf_printf(&b, "%s (and %zu more in this file)", k->first, k->more);
        free(w->msgs[i]);
        w->msgs[i] = buf_detach(&b);
        return;
    }
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (!b.data)
        buf_puts(&b, "");
    warnings_append(w, buf_detach(&b), kind);
}

void qti_xhtml_escape(struct buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            buf_puts(out, "&lt;");
            break;
        case '>':
            buf_puts(out, "&gt;");
            break;
        case '&':
            buf_puts(out, "&amp;");
            break;
        case '"':
            buf_puts(out, "&quot;");
            break;
        default:
            buf_append(out, s, 1);
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *qti_xhtml_resolve_asset(const char *href, const char *url)
{
    if (!url)
        return NULL;
    while (*url == ' ' || *url == '\t' || *url == '\n' || *url == '\r')
        url++;
    if (!*url || *url == '/' || *url == '\\' || *url == '#' || *url == '?')
        return NULL;
    /* A scheme is letters/digits/+.- then ':' before any '/': javascript:, data:, http: ... */
    for (const char *p = url; *p && *p != '/'; p++)
        if (*p == ':')
            return NULL;

    /* Percent-decode first so that "%2e%2e/" cannot climb unseen; drop query and fragment. */
    struct buf dec = BUF_INIT;
    for (const char *p = url; *p && *p != '?' && *p != '#'; p++) {
        char c = *p;
        if (c == '%') {
            int h = hexval(p[1]), l = h >= 0 ? hexval(p[2]) : -1;
            if (h < 0 || l < 0) {
                buf_free(&dec);
                return NULL;
            }
            c = (char)(h * 16 + l);
            p += 2;
        }
        if ((unsigned char)c < 0x20 || c == 0x7f || c == '\\') {
            buf_free(&dec);
            return NULL;
        }
        buf_append(&dec, &c, 1);
    }
    if (!dec.data) {
        return NULL;
    }

    /* The item's folder, then the URL's segments, normalised. */
    struct buf path = BUF_INIT;
    const char *slash = href ? strrchr(href, '/') : NULL;
    if (slash)
        buf_append(&path, href, (size_t)(slash - href));
    char *segs = buf_detach(&dec);
    char *save = NULL;
    int ok = 1;
    /* Normalise base segments too (an href never climbs, but be strict). */
    struct buf all = BUF_INIT;
    if (path.len)
        buf_printf(&all, "%s/", path.data);
    buf_puts(&all, segs);
    free(segs);
    buf_free(&path);

    char **stack = NULL;
    size_t n = 0;
    for (char *tok = strtok_r(all.data, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (strcmp(tok, ".") == 0)
            continue;
        if (strcmp(tok, "..") == 0) {
            if (n == 0) {
                ok = 0;
                break;
            }
            n--;
            continue;
        }
        char **ns = qti_xrealloc(stack, n + 1, sizeof *ns);
        stack = ns;
        stack[n++] = tok;
    }
    char *result = NULL;
    if (ok && n > 0) {
        struct buf r = BUF_INIT;
        for (size_t i = 0; i < n; i++)
            buf_printf(&r, "%s%s", i ? "/" : "", stack[i]);
        result = buf_detach(&r);
    }
    free(stack);
    buf_free(&all);
    return result;
}

static const char *node_ns(const xmlNode *n)
{
    return n->ns && n->ns->href ? (const char *)n->ns->href : "";
}

static int is_qti_ns(const char *ns)
{
    return strcmp(ns, QTI_NS_21) == 0 || strcmp(ns, QTI_NS_22) == 0 ||
           strcmp(ns, "http://www.imsglobal.org/xsd/imsqti_v2p0") == 0;
}

static int attr_allowed(const char *element, const char *attr)
{
    if (strncmp(attr, "on", 2) == 0)
        return 0;
    if (in_list(global_attrs, attr))
        return 1;
    for (size_t i = 0; element_attrs[i].element; i++)
        if (strcmp(element_attrs[i].element, element) == 0)
            return in_list(element_attrs[i].attrs, attr);
    return 0;
}

/* Object types a browser shows without running code. */
static int object_type_ok(const char *type)
{
    if (!type)
        return 1; /* decided by the path below */
    return strncmp(type, "image/", 6) == 0 && strcmp(type, "image/svg+xml") != 0 ? 1
           : strncmp(type, "audio/", 6) == 0                                     ? 1
           : strncmp(type, "video/", 6) == 0                                     ? 1
                                                                                 : 0;
}

static int path_ext_is_image_or_media(const char *path)
{
    static const char *const exts[] = {".png",  ".jpg",  ".jpeg", ".gif", ".bmp",
                                       ".webp", ".mp3",  ".ogg",  ".oga", ".wav",
                                       ".mp4",  ".webm", ".ogv",  ".m4a", NULL};
    const char *dot = strrchr(path, '.');
    if (!dot)
        return 0;
    for (size_t i = 0; exts[i]; i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return 1;
    return 0;
}

static void write_attr(struct buf *out, const char *name, const char *value)
{
    buf_printf(out, " %s=\"", name);
    qti_xhtml_escape(out, value);
    buf_puts(out, "\"");
}

static int too_deep(struct qti_xhtml_ctx *cx, xmlNode *node, struct op_err *e)
{
    return err_set(e, OP_EINPUT, "%s line %ld: content nested deeper than %d elements",
                   cx->href ? cx->href : "item", xmlGetLineNo(node), QTI_XHTML_MAX_DEPTH);
}

static int write_mathml(struct qti_xhtml_ctx *cx, xmlNode *node, struct buf *out, int top,
                        struct op_err *e);
static void warn_attrs_removed(struct qti_xhtml_ctx *cx, xmlNode *node, const char *lang,
                               int (*keep)(const char *element, const char *attr));
static int mathml_attr_kept(const char *element, const char *attr);
static void warn_dropped_element(struct qti_xhtml_ctx *cx, xmlNode *node, const char *why);

static int write_mathml_children(struct qti_xhtml_ctx *cx, xmlNode *node, struct buf *out,
                                 struct op_err *e)
{
    for (xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            qti_xhtml_escape(out, (const char *)c->content);
        } else if (c->type == XML_ELEMENT_NODE) {
            int rc = write_mathml(cx, c, out, 0, e);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static int write_mathml(struct qti_xhtml_ctx *cx, xmlNode *node, struct buf *out, int top,
                        struct op_err *e)
{
    if (cx->depth >= QTI_XHTML_MAX_DEPTH)
        return too_deep(cx, node, e);
    if (strcmp(node_ns(node), QTI_NS_MATHML) != 0)
        return 0; /* foreign markup inside MathML (annotation-xml payloads): dropped */
    const char *name = (const char *)node->name;
    if (!in_list(mathml_elements, name)) {
        warn_dropped_element(cx, node,
                             strcmp(name, "maction") == 0
                                 ? "its actions need scripts"
                                 : "it is not one of the MathML elements kept");
        return 0;
    }
    if (cx->hook && (strcmp(name, "mi") == 0 || strcmp(name, "ci") == 0)) {
        int rc = cx->hook(cx, node, out, e);
        if (rc <= 0)
            return rc;
    }
    warn_attrs_removed(cx, node, "MathML", mathml_attr_kept);
    cx->depth++;
    buf_printf(out, "<%s", name);
    if (top)
        write_attr(out, "xmlns", QTI_NS_MATHML);
    for (xmlAttr *a = node->properties; a; a = a->next) {
        if (a->ns)
            continue; /* xlink:href and friends */
        const char *an = (const char *)a->name;
        if (!in_list(mathml_attrs, an))
            continue;
        xmlChar *v = xmlNodeGetContent((xmlNode *)a);
        write_attr(out, an, v ? (const char *)v : "");
        xmlFree(v);
    }
    buf_puts(out, ">");
    int rc = write_mathml_children(cx, node, out, e);
    buf_printf(out, "</%s>", name);
    cx->depth--;
    return rc;
}

void qti_xhtml_warn_inert_link(struct qti_warnings *w, const char *file, long line, const char *url,
                               const char *path)
{
    if (!w || !url[strspn(url, " \t\r\n")])
        return; /* nothing to warn of for an empty href */
    char shown[256];
    size_t n = strlen(url);
    snprintf(shown, sizeof shown, "%.200s%s", url, n > 200 ? "..." : "");
    for (char *p = shown; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    if (path)
        qti_warnings_add(w,
                         "%s line %ld: the link to \"%s\" was made inert (its text is kept): %s is "
                         "not in the archive",
                         file, line, shown, path);
    else
        qti_warnings_add(w,
                         "%s line %ld: the link to \"%s\" was made inert (its text is kept): it "
                         "points out of the package, and tests are delivered offline",
                         file, line, shown);
}

/* ---- what the sanitiser removes, as warnings of the import ----
 *
 * Content is never refused for what it carries: it is dropped, and with cx->warnings set the
 * import says what and where (file and line), so that an author can see what the test taker
 * will not get. An attribute removed (an event handler, style, data-*, another namespace's)
 * is said once per element and attribute in a file, at its first line, with how many more
 * there are: a style on every paragraph of an item is one warning, not fifty. */

/* `value` as a message quotes it: at most 200 bytes, control characters as spaces. */
static void shown_value(char *out, size_t cap, const char *value)
{
    snprintf(out, cap, "%.200s%s", value, strlen(value) > 200 ? "..." : "");
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

static const char *file_of(const struct qti_xhtml_ctx *cx)
{
    return cx->href ? cx->href : "item";
}

/* Why an element of dropped_elements goes, for its warning. */
static const char *dropped_reason(const char *name)
{
    static const struct {
        const char *name, *why;
    } reasons[] = {
        {"script", "scripts do not run in a test"},
        {"noscript", "scripts do not run in a test"},
        {"template", "it is only used by scripts"},
        {"style", "styles come from the item's stylesheets (files of the package)"},
        {"link", "styles come from the item's stylesheets (files of the package)"},
        {"iframe", "it would load another document"},
        {"frame", "it would load another document"},
        {"frameset", "it would load another document"},
        {"portal", "it would load another document"},
        {"embed", "plugins do not run in a test"},
        {"applet", "plugins do not run in a test"},
        {"svg", "it can carry scripts (an SVG picture is kept as an image file)"},
        {"canvas", "it is only drawn by scripts"},
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (strcmp(reasons[i].name, name) == 0)
            return reasons[i].why;
    return "form controls and page-level elements are not item content (interactions are)";
}

/* 1 when `node` (a script) holds a template, by its type: data a PCI reads, never code. */
static int template_script(xmlNode *node)
{
    static const char *const types[] = {"text/x-handlebars-template", "text/x-template-manifest",
                                        "text/x-asset-manifest", "text/template", NULL};
    xmlChar *t = xmlGetProp(node, BAD_CAST "type");
    int yes = t && in_list(types, (const char *)t);
    xmlFree(t);
    return yes;
}

/* Writes a template script (template_script): its type, id and class, its text escaped.
 * TAO writes the markup of its PCIs with an "html5" namespace prefix, in a template's text
 * too ("<html5:button>", text to XML): the prefix of that namespace is taken off the tags of
 * the text, as it is off the markup's elements, so that the PCI's code makes HTML of it. */
static void write_template(xmlNode *node, struct buf *out)
{
    static const char *const attrs[] = {"type", "id", "class", NULL};
    buf_puts(out, "<script");
    for (size_t i = 0; attrs[i]; i++) {
        xmlChar *v = xmlGetProp(node, BAD_CAST attrs[i]);
        if (v) {
            buf_printf(out, " %s=\"", attrs[i]);
            qti_xhtml_escape(out, (const char *)v);
            buf_puts(out, "\"");
        }
        xmlFree(v);
    }
    buf_puts(out, ">");
    xmlChar *text = xmlNodeGetContent(node);
    xmlNs *h5 = xmlSearchNsByHref(node->doc, node, BAD_CAST "html5");
    if (text && h5 && h5->prefix) {
        struct buf plain = BUF_INIT;
        size_t plen = strlen((const char *)h5->prefix);
        for (const char *t = (const char *)text; *t;) {
            size_t skip = t[0] == '<' ? (t[1] == '/' ? 2 : 1) : 0;
            if (skip && strncmp(t + skip, (const char *)h5->prefix, plen) == 0 &&
                t[skip + plen] == ':') {
                buf_append(&plain, t, skip);
                t += skip + plen + 1;
            } else {
                buf_append(&plain, t++, 1);
            }
        }
        qti_xhtml_escape(out, plain.data ? plain.data : "");
        buf_free(&plain);
    } else if (text) {
        qti_xhtml_escape(out, (const char *)text);
    }
    xmlFree(text);
    buf_puts(out, "</script>");
}

static void warn_dropped_element(struct qti_xhtml_ctx *cx, xmlNode *node, const char *why)
{
    if (cx->warnings)
        qti_warnings_add(cx->warnings, "%s line %ld: <%s> was removed with its content: %s",
                         file_of(cx), xmlGetLineNo(node), (const char *)node->name, why);
}

/* Why a URL of `attr` the sanitiser does not keep is refused. */
static const char *url_reason(const char *url)
{
    url += strspn(url, " \t\r\n");
    if (strncasecmp(url, "javascript:", 11) == 0 || strncasecmp(url, "vbscript:", 9) == 0)
        return "it would run a script";
    if (strncasecmp(url, "data:", 5) == 0)
        return "data: URLs are not kept (put the file in the package and name it)";
    if (url[0] == '/' && url[1] != '/')
        return "an absolute path is not a file of the package (use a path relative to the item)";
    for (const char *p = url; *p && *p != '/'; p++)
        if (*p == ':')
            return "it points out of the package, and tests are delivered offline";
    if (url[0] == '/' || url[0] == '\\')
        return "it points out of the package, and tests are delivered offline";
    return "it is not a path inside the package";
}

static void warn_url_removed(struct qti_xhtml_ctx *cx, xmlNode *node, const char *attr,
                             const char *url)
{
    if (!cx->warnings || !url[strspn(url, " \t\r\n")])
        return;
    char shown[256];
    shown_value(shown, sizeof shown, url);
    qti_warnings_add(cx->warnings, "%s line %ld: the %s \"%s\" of <%s> was removed: %s",
                     file_of(cx), xmlGetLineNo(node), attr, shown, (const char *)node->name,
                     url_reason(url));
}

#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

/* Attributes that name a URL, outside url_attrs: the sanitiser never keeps them. */
static const char *const other_url_attrs[] = {
    "background", "srcset",  "cite",     "longdesc", "usemap",      "ping",    "action",
    "formaction", "profile", "manifest", "codebase", "classid",     "archive", "dynsrc",
    "lowsrc",     "xmlns",   "itemtype", "icon",     "imagesrcset", NULL,
};

/* Why attribute `an` of `element` (in `lang`: "XHTML", "MathML" or "QTI") is not kept,
 * given its value. */
static const char *attr_reason(const char *lang, const char *an, const char *value)
{
    if (strncasecmp(an, "on", 2) == 0)
        return "scripts do not run in a test";
    if (strcmp(an, "style") == 0)
        return value && strcasestr(value, "url(")
                   ? "inline styles are not kept, and this one loads a file (url(...)); the "
                     "item's stylesheets, files of the package, style it"
                   : "inline styles are not kept; the item's stylesheets, files of the "
                     "package, style it";
    if (strchr(an, ':'))
        return "attributes of other namespaces are not kept";
    if (strcmp(lang, "MathML") == 0)
        return strcmp(an, "href") == 0 ? "links in formulas are not kept"
                                       : "it is not one of the MathML attributes kept";
    if (in_list(other_url_attrs, an))
        return "it names a URL, which only src, href, data and poster may, inside the package";
    if (strncmp(an, "data-", 5) == 0)
        return "data-* attributes are only read by scripts";
    return "it is not one of the attributes kept for this element (id, class, lang, dir, "
           "title and the element's own)";
}

/* Says that attribute `an` (its qualified name) of `node` was removed: once per element and
 * attribute in the file (qti_warnings_add_kind). */
static void warn_attr_removed(struct qti_xhtml_ctx *cx, xmlNode *node, const char *lang,
                              const char *an, const char *value)
{
    if (!cx->warnings)
        return;
    const char *name = (const char *)node->name;
    char kind[256];
    snprintf(kind, sizeof kind, "attribute %s %.100s %.100s", lang, name, an);
    if (strncasecmp(an, "on", 2) == 0 && !strchr(an, ':'))
        qti_warnings_add_kind(
            cx->warnings, kind, "%s line %ld: the event handler %s of <%s> was removed: %s",
            file_of(cx), xmlGetLineNo(node), an, name, attr_reason(lang, an, value));
    else
        qti_warnings_add_kind(cx->warnings, kind,
                              "%s line %ld: the attribute %s of <%s> was removed: %s", file_of(cx),
                              xmlGetLineNo(node), an, name, attr_reason(lang, an, value));
}

/* The qualified name of attribute `a` ("xlink:href", or its name without a prefix) in
 * `out`. */
static const char *attr_qname(const xmlAttr *a, char *out, size_t cap)
{
    if (a->ns && a->ns->prefix)
        snprintf(out, cap, "%.60s:%.100s", (const char *)a->ns->prefix, (const char *)a->name);
    else
        snprintf(out, cap, "%.160s", (const char *)a->name);
    return out;
}

/* Warns of each attribute of `node` that is removed: `keep` says which are kept (NULL: only
 * the event handlers and style are said, for the QTI elements the hook writes). */
static void warn_attrs_removed(struct qti_xhtml_ctx *cx, xmlNode *node, const char *lang,
                               int (*keep)(const char *element, const char *attr))
{
    if (!cx->warnings)
        return;
    for (xmlAttr *a = node->properties; a; a = a->next) {
        const char *an = (const char *)a->name;
        if (a->ns && ((a->ns->prefix && strcmp((const char *)a->ns->prefix, "xml") == 0) ||
                      (a->ns->href && strcmp((const char *)a->ns->href, NS_XSI) == 0)))
            continue; /* xml:lang is kept; xml:space, xml:base and xsi:schemaLocation are
                       * about the file, not the content */
        int removed = keep ? a->ns || !keep((const char *)node->name, an)
                           : !a->ns && (strncasecmp(an, "on", 2) == 0 || strcmp(an, "style") == 0);
        if (!removed)
            continue;
        char qname[200];
        xmlChar *v = xmlNodeGetContent((xmlNode *)a);
        warn_attr_removed(cx, node, lang, attr_qname(a, qname, sizeof qname), (const char *)v);
        xmlFree(v);
    }
}

static int mathml_attr_kept(const char *element, const char *attr)
{
    (void)element;
    return in_list(mathml_attrs, attr);
}

/* A link to a page the package lacks: the href is not written (the text stays, as plain
 * text); the warning says which file and line, where it pointed, and why. */
static void link_made_inert(struct qti_xhtml_ctx *cx, xmlNode *node, const char *url,
                            const char *path)
{
    qti_xhtml_warn_inert_link(cx->warnings, cx->href ? cx->href : "item", xmlGetLineNo(node), url,
                              path);
}

/* Writes an allow-listed XHTML element with its allowed attributes and children. */
static int write_xhtml(struct qti_xhtml_ctx *cx, xmlNode *node, struct buf *out, struct op_err *e)
{
    const char *name = (const char *)node->name;

    if (strcmp(name, "object") == 0) {
        /* Kept only for a package image or media asset; otherwise its fallback content. */
        xmlChar *data = xmlGetProp(node, BAD_CAST "data");
        xmlChar *type = xmlGetProp(node, BAD_CAST "type");
        char *path = data ? qti_xhtml_resolve_asset(cx->href, (const char *)data) : NULL;
        int ok = path && object_type_ok((const char *)type) &&
                 (type || path_ext_is_image_or_media(path));
        if (!ok && cx->warnings) {
            char shown[256];
            shown_value(shown, sizeof shown, data ? (const char *)data : "");
            qti_warnings_add(cx->warnings,
                             "%s line %ld: <object data=\"%s\"> was replaced by its fallback "
                             "content: %s",
                             file_of(cx), xmlGetLineNo(node), shown,
                             !path ? url_reason(data ? (const char *)data : "")
                                   : "only an image, audio or video file of the package is "
                                     "shown (other objects can run code)");
        }
        xmlFree(data);
        xmlFree(type);
        if (!ok) {
            free(path);
            return qti_xhtml_children(cx, node, out, e);
        }
        if (cx->assets)
            qti_assets_add(cx->assets, path);
        free(path);
    }

    warn_attrs_removed(cx, node, "XHTML", attr_allowed);
    buf_printf(out, "<%s", name);
    for (xmlAttr *a = node->properties; a; a = a->next) {
        const char *an = (const char *)a->name;
        int is_xml_lang = a->ns && a->ns->prefix &&
                          strcmp((const char *)a->ns->prefix, "xml") == 0 &&
                          strcmp(an, "lang") == 0;
        if (a->ns && !is_xml_lang)
            continue; /* said by warn_attrs_removed */
        if (!is_xml_lang && !attr_allowed(name, an))
            continue;
        xmlChar *v = xmlNodeGetContent((xmlNode *)a);
        const char *value = v ? (const char *)v : "";
        if (is_xml_lang) {
            write_attr(out, "lang", value);
        } else if (in_list(url_attrs, an)) {
            if (strcmp(an, "href") == 0 && value[0] == '#' && !strpbrk(value, ":\"'<>")) {
                write_attr(out, an, value); /* a link inside the item */
            } else {
                char *path = qti_xhtml_resolve_asset(cx->href, value);
                /* only <a> has an href here: a page the package lacks leaves an inert link */
                if (strcmp(an, "href") == 0 && cx->has_file &&
                    (!path || !cx->has_file(cx->files, path))) {
                    link_made_inert(cx, node, value, path);
                } else if (path) {
                    write_attr(out, an, path);
                    if (cx->assets)
                        qti_assets_add(cx->assets, path);
                } else {
                    warn_url_removed(cx, node, an, value);
                }
                free(path);
            }
        } else {
            write_attr(out, an, value);
        }
        xmlFree(v);
    }
    if (in_list(void_elements, name)) {
        buf_puts(out, "/>");
        return 0;
    }
    buf_puts(out, ">");
    int rc = qti_xhtml_children(cx, node, out, e);
    buf_printf(out, "</%s>", name);
    return rc;
}

int qti_xhtml_node(struct qti_xhtml_ctx *cx, xmlNode *node, struct buf *out, struct op_err *e)
{
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
        if (node->content)
            qti_xhtml_escape(out, (const char *)node->content);
        return 0;
    }
    if (node->type == XML_ENTITY_REF_NODE) {
        return 0; /* entities are never expanded (and documents declaring them refused) */
    }
    if (node->type != XML_ELEMENT_NODE)
        return 0; /* comments, processing instructions */
    if (cx->depth >= QTI_XHTML_MAX_DEPTH)
        return too_deep(cx, node, e);

    const char *ns = node_ns(node);
    const char *name = (const char *)node->name;
    int rc = 0;
    cx->depth++;
    if (strcmp(ns, QTI_NS_MATHML) == 0) {
        if (strcmp(name, "math") == 0)
            rc = write_mathml(cx, node, out, 1, e);
    } else if (is_qti_ns(ns) || strcmp(ns, NS_XHTML) == 0 || ns[0] == '\0') {
        if (cx->keep_templates && strcmp(name, "script") == 0 && template_script(node)) {
            write_template(node, out);
        } else if (in_list(dropped_elements, name)) {
            warn_dropped_element(cx, node, dropped_reason(name));
            rc = 0;
        } else if (qti_xhtml_element_allowed(name)) {
            rc = write_xhtml(cx, node, out, e);
        } else {
            rc = is_qti_ns(ns) && cx->hook ? cx->hook(cx, node, out, e) : 1;
            if (rc == 1)
                rc = qti_xhtml_children(cx, node, out, e);
        }
    } else {
        /* Elements of any other namespace (SVG, XInclude, SSML, ...) are dropped. */
        warn_dropped_element(cx, node,
                             strcmp(name, "svg") == 0 ? dropped_reason(name)
                                                      : "only XHTML, MathML and QTI content "
                                                        "is kept");
    }
    cx->depth--;
    return rc;
}

/* qti_xhtml_warn_qti_attrs, `depth` elements down. */
static void warn_qti_attrs(struct qti_xhtml_ctx *cx, xmlNode *node, int depth)
{
    if (node->type != XML_ELEMENT_NODE || depth > QTI_XHTML_MAX_DEPTH)
        return; /* deeper: the sanitiser refuses the content */
    const char *ns = node_ns(node), *name = (const char *)node->name;
    if (!is_qti_ns(ns) || in_list(dropped_elements, name))
        return; /* MathML, other namespaces and dropped elements: said where they are met */
    if (!qti_xhtml_element_allowed(name))
        warn_attrs_removed(cx, node, "QTI", NULL);
    for (xmlNode *c = node->children; c; c = c->next)
        warn_qti_attrs(cx, c, depth + 1);
}

void qti_xhtml_warn_qti_attrs(struct qti_xhtml_ctx *cx, xmlNode *node)
{
    if (cx->warnings)
        warn_qti_attrs(cx, node, 0);
}

int qti_xhtml_children(struct qti_xhtml_ctx *cx, xmlNode *parent, struct buf *out, struct op_err *e)
{
    for (xmlNode *c = parent->children; c; c = c->next) {
        int rc = qti_xhtml_node(cx, c, out, e);
        if (rc < 0)
            return rc;
    }
    return 0;
}
