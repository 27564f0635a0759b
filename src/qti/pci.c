/*
 * pci.c - Portable Custom Interactions: the customInteraction element, the render model's
 * "pci" member, the checks that its code can be loaded, and the QTI JSON binding of its
 * responses (see pci.h).
 *
 * Banners: parsing, loadable, JSON, response binding.
 */
#include "qti/pci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "qti/pci_libs.h"
#include "qti/qti_alloc.h"

#define NS_XHTML  "http://www.w3.org/1999/xhtml"
#define MAX_DEPTH 8

/* ---------------------------------------------------------------------------- parsing -- */

void qti_pci_free(struct qti_pci *pci)
{
    if (!pci)
        return;
    for (size_t i = 0; i < pci->nmodules; i++) {
        free(pci->modules[i]);
        free(pci->module_ids[i]);
    }
    free(pci->modules);
    free(pci->module_ids);
    for (size_t i = 0; i < pci->nlibs; i++)
        free(pci->libs[i]);
    free(pci->libs);
    for (size_t i = 0; i < pci->nstyles; i++)
        free(pci->styles[i]);
    free(pci->styles);
    free(pci->config);
    free(pci->type_identifier);
    json_decref(pci->properties);
    free(pci->markup);
    free(pci);
}

void qti_pci_add_style(struct qti_pci *pci, const char *path)
{
    if (!path || !*path || pci->nstyles >= QTI_PCI_MAX_STYLES)
        return;
    for (size_t i = 0; i < pci->nstyles; i++)
        if (strcmp(pci->styles[i], path) == 0)
            return;
    pci->styles = qti_xrealloc(pci->styles, pci->nstyles + 1, sizeof *pci->styles);
    pci->styles[pci->nstyles++] = qti_xstrdup(path);
}

static int is_pci(const xmlNode *n, const char *local)
{
    if (!n || n->type != XML_ELEMENT_NODE || !n->ns || !n->ns->href ||
        strcmp((const char *)n->name, local) != 0)
        return 0;
    const char *ns = (const char *)n->ns->href;
    return strcmp(ns, QTI_PCI_NS_TAO) == 0 || strcmp(ns, QTI_PCI_NS_V1) == 0;
}

static xmlNode *child(xmlNode *n, const char *local)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_pci(c, local))
            return c;
    return NULL;
}

static char *prop(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, BAD_CAST name);
    if (!v)
        return NULL;
    char *s = qti_xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

struct pparse {
    const char *what;
    struct qti_xhtml_ctx *cx;
    struct qti_pci *pci;
    struct op_err *e;
    size_t nprops;
};

static int perr(struct pparse *p, xmlNode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct pparse *p, xmlNode *at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(p->e, OP_EINPUT, "%s line %ld: item %s: customInteraction: %s",
                   p->cx->href ? p->cx->href : "item", at ? xmlGetLineNo(at) : 0L, p->what, msg);
}

/* Adds the module `ref` (a path or a module id, relative to the item file) known as `id`.
 * The entry goes last: callers add it after the libraries. */
static int add_module(struct pparse *p, xmlNode *at, const char *ref, const char *id)
{
    struct qti_pci *pci = p->pci;
    if (!ref || !*ref)
        return perr(p, at, "PCI %s: a module without a path", pci->type_identifier);
    if (pci->nmodules >= QTI_PCI_MAX_MODULES)
        return perr(p, at, "PCI %s: more than %d modules", pci->type_identifier,
                    QTI_PCI_MAX_MODULES);
    const char *slash = strrchr(ref, '/');
    const char *base = slash ? slash + 1 : ref;
    struct buf file = BUF_INIT;
    buf_puts(&file, ref);
    if (!strchr(base, '.'))
        buf_puts(&file, ".js");
    char *path = qti_xhtml_resolve_asset(p->cx->href, file.data);
    buf_free(&file);
    if (!path)
        return perr(p, at, "PCI %s: module %s is not a path inside the package",
                    pci->type_identifier, ref);
    for (size_t i = 0; i < pci->nmodules; i++)
        if (pci->modules[i] && strcmp(pci->modules[i], path) == 0) {
            free(path);
            return 0; /* named twice (a library also listed as a module) */
        }
    pci->modules = qti_xrealloc(pci->modules, pci->nmodules + 1, sizeof *pci->modules);
    pci->module_ids = qti_xrealloc(pci->module_ids, pci->nmodules + 1, sizeof *pci->module_ids);
    /* the AMD id: the id as written, or the path as written without ".js" */
    char *mid = qti_xstrdup(id ? id : ref);
    size_t l = strlen(mid);
    if (!id && l > 3 && strcmp(mid + l - 3, ".js") == 0)
        mid[l - 3] = '\0';
    pci->modules[pci->nmodules] = path;
    pci->module_ids[pci->nmodules] = mid;
    pci->nmodules++;
    if (p->cx->assets)
        qti_assets_add(p->cx->assets, path);
    return 0;
}

/* Adds the module known as `id` whose file is not named (an IMS module without primaryPath,
 * a TAO lib that Outpost provides): qti_pci_check_loadable resolves it. */
static int add_unresolved(struct pparse *p, xmlNode *at, const char *id)
{
    struct qti_pci *pci = p->pci;
    if (!id || !*id)
        return perr(p, at, "PCI %s: a module without an id or a path", pci->type_identifier);
    if (pci->nmodules >= QTI_PCI_MAX_MODULES)
        return perr(p, at, "PCI %s: more than %d modules", pci->type_identifier,
                    QTI_PCI_MAX_MODULES);
    for (size_t i = 0; i < pci->nmodules; i++)
        if (strcmp(pci->module_ids[i], id) == 0)
            return 0;
    pci->modules = qti_xrealloc(pci->modules, pci->nmodules + 1, sizeof *pci->modules);
    pci->module_ids = qti_xrealloc(pci->module_ids, pci->nmodules + 1, sizeof *pci->module_ids);
    pci->modules[pci->nmodules] = NULL;
    pci->module_ids[pci->nmodules] = qti_xstrdup(id);
    pci->nmodules++;
    return 0;
}

/* Nested properties keyed 0, 1, ... n-1 (TAO's pages, tooltips, choices) as the list TAO's
 * delivery gives its PCIs (its JSON makes an array of them); any other object as it is.
 * Takes `o` and returns the value to keep. */
static json_t *as_list(json_t *o)
{
    size_t n = json_object_size(o);
    if (n == 0)
        return o;
    for (size_t i = 0; i < n; i++) {
        char k[32];
        snprintf(k, sizeof k, "%zu", i);
        if (!json_object_get(o, k))
            return o;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        char k[32];
        snprintf(k, sizeof k, "%zu", i);
        json_array_append(list, json_object_get(o, k));
    }
    json_decref(o);
    return list;
}

/* properties: entry/property key="k" -> text, nested properties key="k" -> object. */
static int parse_props(struct pparse *p, xmlNode *n, json_t *into, int depth)
{
    if (depth > MAX_DEPTH)
        return perr(p, n, "properties nested more than %d deep", MAX_DEPTH);
    for (xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        int value = is_pci(c, "entry") || is_pci(c, "property");
        int nested = is_pci(c, "properties");
        if (!value && !nested)
            continue;
        if (++p->nprops > QTI_PCI_MAX_PROPS)
            return perr(p, c, "more than %d properties", QTI_PCI_MAX_PROPS);
        char *key = prop(c, "key");
        if (!key || !*key) {
            free(key);
            return perr(p, c, "%s without a key", (const char *)c->name);
        }
        int rc = 0;
        if (value) {
            xmlChar *t = xmlNodeGetContent(c);
            const char *s = t ? (const char *)t : "";
            if (strlen(s) > QTI_PCI_MAX_PROP_TEXT)
                rc = perr(p, c, "property %s is over %d bytes", key, QTI_PCI_MAX_PROP_TEXT);
            else
                json_object_set_new(into, key, json_string(s));
            xmlFree(t);
        } else {
            json_t *o = json_object();
            rc = parse_props(p, c, o, depth + 1);
            json_object_set_new(into, key, as_list(o));
        }
        free(key);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* TAO writes markup in XHTML, and some exports with an "html5" namespace: both are XHTML
 * here; the sanitiser drops any other namespace. */
static void markup_to_xhtml(xmlNode *n, xmlNs *xhtml, int depth)
{
    for (xmlNode *c = n->children; c && depth < 256; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (c->ns && c->ns->href &&
            (strcmp((const char *)c->ns->href, "html5") == 0 ||
             strcmp((const char *)c->ns->href, QTI_PCI_NS_TAO) == 0 ||
             strcmp((const char *)c->ns->href, QTI_PCI_NS_V1) == 0))
            c->ns = xhtml;
        markup_to_xhtml(c, xhtml, depth + 1);
    }
}

static int parse_markup(struct pparse *p, xmlNode *m)
{
    xmlNs *xhtml = xmlSearchNsByHref(m->doc, m, BAD_CAST NS_XHTML);
    if (!xhtml)
        xhtml = xmlNewNs(m, BAD_CAST NS_XHTML, BAD_CAST "outpost-xhtml");
    if (!xhtml)
        return err_set(p->e, OP_ENOMEM, "out of memory");
    markup_to_xhtml(m, xhtml, 0);
    struct qti_xhtml_ctx mcx = *p->cx;
    mcx.hook = NULL; /* no QTI inside a PCI's markup: unwrapped */
    mcx.user = NULL;
    mcx.keep_templates = 1; /* TAO's PCIs keep their Handlebars templates in their markup */
    struct buf html = BUF_INIT;
    int rc = qti_xhtml_children(&mcx, m, &html, p->e);
    if (rc < 0) {
        buf_free(&html);
        return rc;
    }
    free(p->pci->markup);
    p->pci->markup = buf_detach(&html);
    if (!p->pci->markup)
        p->pci->markup = qti_xstrdup("");
    return 0;
}

/* IMS PCI 1.0 as TAO exports it (QTI 2.2.2): modules[@primaryConfiguration]/module[@id,
 * @primaryPath]; the entry (the attribute `module`, else the id that is the type identifier,
 * else the first) goes last. */
static int parse_modules(struct pparse *p, xmlNode *pc, xmlNode *mods)
{
    struct qti_pci *pci = p->pci;
    char *conf = prop(mods, "primaryConfiguration");
    if (conf && *conf) {
        pci->config = qti_xhtml_resolve_asset(p->cx->href, conf);
        if (!pci->config) {
            int rc =
                perr(p, mods, "PCI %s: primaryConfiguration %s is not a path inside the package",
                     pci->type_identifier, conf);
            free(conf);
            return rc;
        }
    }
    free(conf);
    char *entry = prop(pc, "module");
    xmlNode *entry_node = NULL, *first = NULL;
    for (xmlNode *c = mods->children; c; c = c->next) {
        if (!is_pci(c, "module"))
            continue;
        char *id = prop(c, "id");
        if (!first)
            first = c;
        if (!entry_node && id &&
            ((entry && strcmp(id, entry) == 0) ||
             (!entry && strcmp(id, pci->type_identifier) == 0)))
            entry_node = c;
        free(id);
    }
    free(entry);
    if (!entry_node)
        entry_node = first;
    if (!entry_node)
        return perr(p, mods, "PCI %s lists no module", pci->type_identifier);
    int rc = 0;
    for (int pass = 0; pass < 2 && rc >= 0; pass++)
        for (xmlNode *c = mods->children; c && rc >= 0; c = c->next) {
            if (!is_pci(c, "module") || (pass == 0) == (c == entry_node))
                continue;
            char *id = prop(c, "id");
            char *path = prop(c, "primaryPath");
            if (path && *path)
                rc = add_module(p, c, path, id);
            else
                rc = add_unresolved(p, c, id);
            free(id);
            free(path);
        }
    return rc;
}

int qti_pci_parse(xmlNode *node, struct qti_xhtml_ctx *cx, const char *what, struct qti_pci **out,
                  struct op_err *e)
{
    *out = NULL;
    struct qti_pci *pci = qti_xcalloc(1, sizeof *pci);
    pci->properties = json_object();
    pci->markup = qti_xstrdup("");
    struct pparse p = {what, cx, pci, e, 0};
    xmlNode *pc = child(node, "portableCustomInteraction");
    int rc = 0;
    if (!pc) {
        rc = perr(&p, node,
                  "it holds no portableCustomInteraction (IMS PCI): a custom interaction of "
                  "another kind cannot be delivered");
        goto fail;
    }
    pci->version = strcmp((const char *)pc->ns->href, QTI_PCI_NS_V1) == 0;
    pci->type_identifier = prop(pc, "customInteractionTypeIdentifier");
    if (!pci->type_identifier || !*pci->type_identifier || strlen(pci->type_identifier) > 256) {
        rc = perr(&p, pc, "portableCustomInteraction needs a customInteractionTypeIdentifier");
        goto fail;
    }
    xmlNode *res = child(pc, "resources");
    if (!pci->version) {
        /* TAO: libraries first (in order), then the hook */
        for (xmlNode *c = child(res, "libraries") ? child(res, "libraries")->children : NULL;
             c && rc >= 0; c = c->next)
            if (is_pci(c, "lib")) {
                /* a library Outpost provides is given to the frame, as TAO's delivery does */
                char *id = prop(c, "id");
                rc = qti_pci_lib_by_id(id) ? add_unresolved(&p, c, id) : add_module(&p, c, id, id);
                free(id);
            }
        if (rc < 0)
            goto fail;
        /* TAO's stylesheets of the PCI: files of the package, relative to the item */
        xmlNode *sheets = child(res, "stylesheets");
        for (xmlNode *c = sheets ? sheets->children : NULL; c; c = c->next) {
            if (!is_pci(c, "link"))
                continue;
            char *href = prop(c, "href");
            char *path = href ? qti_xhtml_resolve_asset(cx->href, href) : NULL;
            if (!path) {
                rc = perr(&p, c, "PCI %s: stylesheet %s is not a path inside the package",
                          pci->type_identifier, href ? href : "(no href)");
                free(href);
                goto fail;
            }
            qti_pci_add_style(pci, path);
            if (cx->assets)
                qti_assets_add(cx->assets, path);
            free(path);
            free(href);
        }
        char *hook = prop(pc, "hook");
        if (!hook)
            hook = prop(pc, "entryPoint");
        if (!hook) {
            rc = perr(&p, pc, "PCI %s has no hook (its entry module)", pci->type_identifier);
            goto fail;
        }
        /* the hook's own id: its path without ".js" */
        rc = add_module(&p, pc, hook, NULL);
        free(hook);
        if (rc < 0)
            goto fail;
    } else if (child(pc, "modules")) {
        rc = parse_modules(&p, pc, child(pc, "modules"));
        if (rc < 0)
            goto fail;
    } else {
        char *entry = prop(pc, "module");
        xmlNode *mods = child(res, "interactionModules");
        xmlNode *entry_node = NULL, *last = NULL;
        for (xmlNode *c = mods ? mods->children : NULL; c; c = c->next) {
            if (!is_pci(c, "interactionModule"))
                continue;
            char *id = prop(c, "id");
            if ((entry && id && strcmp(id, entry) == 0) ||
                (!entry && id && strcmp(id, pci->type_identifier) == 0))
                entry_node = c;
            last = c;
            free(id);
        }
        free(entry);
        if (!entry_node)
            entry_node = last;
        if (!entry_node) {
            rc = perr(&p, pc, "PCI %s lists no interactionModule", pci->type_identifier);
            goto fail;
        }
        for (int pass = 0; pass < 2 && rc >= 0; pass++)
            for (xmlNode *c = mods->children; c && rc >= 0; c = c->next) {
                if (!is_pci(c, "interactionModule") || (pass == 0) == (c == entry_node))
                    continue;
                char *id = prop(c, "id");
                char *path = prop(c, "primaryPath");
                rc = add_module(&p, c, path ? path : id, id);
                free(id);
                free(path);
            }
        if (rc < 0)
            goto fail;
    }
    xmlNode *props = child(pc, "properties");
    if (props && (rc = parse_props(&p, props, pci->properties, 0)) < 0)
        goto fail;
    xmlNode *markup = child(pc, "markup");
    /* TAO's IMS exports write <markup xmlns="http://www.w3.org/1999/xhtml"> */
    for (xmlNode *c = pc->children; c && !markup; c = c->next)
        if (c->type == XML_ELEMENT_NODE && c->ns && c->ns->href &&
            strcmp((const char *)c->ns->href, NS_XHTML) == 0 &&
            strcmp((const char *)c->name, "markup") == 0)
            markup = c;
    if (markup && (rc = parse_markup(&p, markup)) < 0)
        goto fail;
    *out = pci;
    return 0;
fail:
    qti_pci_free(pci);
    return rc;
}

/* --------------------------------------------------------------------------- loadable -- */

/* 1 when s[0..len) is UTF-8 text without NUL bytes. */
static int utf8_text(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        if (c == 0)
            return 0;
        if (c < 0x80)
            n = 0;
        else if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if ((c & 0xF0) == 0xE0)
            n = 2;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 3;
        else
            return 0;
        if (n >= len - i)
            return 0;
        for (size_t k = 1; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += n + 1;
    }
    return 1;
}

/* ---- AMD dependencies: what a module's define([...]) asks for, read from its text ---- */

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* A JavaScript string literal at p ('...' or "..."), without escapes, at most 512 bytes: its
 * text into out (NUL-terminated) and the position after it; NULL when there is none. */
static const char *string_at(const char *p, const char *end, char out[513])
{
    if (p >= end || (*p != '\'' && *p != '"'))
        return NULL;
    char q = *p++;
    size_t n = 0;
    while (p < end && *p != q) {
        if (*p == '\\' || *p == '\n' || n == 512)
            return NULL;
        out[n++] = *p++;
    }
    if (p >= end)
        return NULL;
    out[n] = '\0';
    return p + 1;
}

/* The id `dep` asks for from the module known as `from`, as web/pci-frame.js resolves it:
 * "./x" and "../x" from the folder of `from`, anything else as written; ".js" dropped. */
static void resolve_dep(const char *from, const char *dep, struct buf *out)
{
    buf_reset(out);
    if (strncmp(dep, "./", 2) == 0 || strncmp(dep, "../", 3) == 0) {
        const char *slash = strrchr(from, '/');
        struct buf joined = BUF_INIT;
        if (slash)
            buf_append(&joined, from, (size_t)(slash - from) + 1);
        buf_puts(&joined, dep);
        /* normalise: drop "." and "", ".." removes the segment before */
        char *segs = joined.data;
        size_t *starts = qti_xcalloc(joined.len + 1, sizeof *starts);
        size_t nseg = 0;
        for (char *t = strtok(segs, "/"); t; t = strtok(NULL, "/")) {
            if (strcmp(t, ".") == 0)
                continue;
            if (strcmp(t, "..") == 0) {
                if (nseg)
                    nseg--;
                continue;
            }
            starts[nseg++] = (size_t)(t - segs);
        }
        for (size_t i = 0; i < nseg; i++)
            buf_printf(out, "%s%s", i ? "/" : "", segs + starts[i]);
        free(starts);
        buf_free(&joined);
    } else {
        buf_puts(out, dep);
    }
    if (!out->data)
        buf_puts(out, "");
    if (out->len > 3 && strcmp(out->data + out->len - 3, ".js") == 0)
        out->data[out->len -= 3] = '\0';
}

/* Visits each define( of text: its name (NULL when anonymous) and dependency ids. `fn`
 * returns non-zero to stop; that value is returned. */
typedef int (*define_fn)(void *user, const char *name, const char *dep);

static int each_define(const char *text, size_t len, define_fn fn, void *user)
{
    const char *end = text + len;
    for (const char *p = text; (p = strstr(p, "define")) != NULL && p < end; p += 6) {
        if (p > text &&
            (p[-1] == '_' || p[-1] == '$' || p[-1] == '.' || (p[-1] >= 'a' && p[-1] <= 'z') ||
             (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9')))
            continue; /* another identifier (redefine, x.define) */
        const char *q = skip_space(p + 6, end);
        if (q >= end || *q != '(')
            continue;
        q = skip_space(q + 1, end);
        char name[513];
        const char *after = string_at(q, end, name);
        int named = after != NULL;
        if (named) {
            q = skip_space(after, end);
            if (q >= end || *q != ',')
                continue;
            q = skip_space(q + 1, end);
            int rc = fn(user, name, NULL);
            if (rc)
                return rc;
        }
        if (q >= end || *q != '[')
            continue;
        q = skip_space(q + 1, end);
        char dep[513];
        while (q < end && *q != ']' && (after = string_at(q, end, dep)) != NULL) {
            int rc = fn(user, named ? name : NULL, dep);
            if (rc)
                return rc;
            q = skip_space(after, end);
            if (q < end && *q == ',')
                q = skip_space(q + 1, end);
        }
    }
    return 0;
}

struct deps {
    json_t *known;     /* ids a module answers to */
    const char *from;  /* id of the module being read */
    char missing[513]; /* the first dependency nothing answers to */
    struct buf id;
    struct qti_pci *pci; /* gets the shared libraries needed */
    const struct qti_package *pkg;
    struct qti_assets *assets;
    const char *root; /* the folder module ids are relative to ("" the package's), or NULL */
};

/* Records the shared library `lib` in pci->libs, after the libraries it needs. */
static void need_lib(struct qti_pci *pci, const struct qti_pci_lib *lib, int depth)
{
    if (!lib || depth > 8)
        return;
    for (size_t i = 0; i < pci->nlibs; i++)
        if (strcmp(pci->libs[i], lib->file) == 0)
            return;
    for (size_t k = 0; k < QTI_PCI_LIB_MAX_DEPS && lib->deps[k]; k++)
        need_lib(pci, qti_pci_lib_by_file(lib->deps[k]), depth + 1);
    pci->libs = qti_xrealloc(pci->libs, pci->nlibs + 1, sizeof *pci->libs);
    pci->libs[pci->nlibs++] = qti_xstrdup(lib->file);
}

static int collect_names(void *user, const char *name, const char *dep)
{
    struct deps *d = user;
    if (name && !dep)
        json_object_set_new(d->known, name, json_true());
    return 0;
}

/* A css! dependency ("css!pci/runtime/css/style"): the package's CSS file it names, from the
 * folder module ids are relative to, is one of the PCI's styles when the package holds it
 * (a bundle defines its own css! modules instead). */
static void css_dep(struct deps *d, const char *dep)
{
    if (!d->root || strncmp(dep, "css!", 4) != 0 || strchr(dep + 4, '!'))
        return;
    struct buf path = BUF_INIT;
    buf_printf(&path, "%s%s", d->root, dep + 4);
    if (path.len < 4 || strcmp(path.data + path.len - 4, ".css") != 0)
        buf_puts(&path, ".css");
    if (strstr(path.data, "..") == NULL && qti_package_find(d->pkg, path.data)) {
        qti_pci_add_style(d->pci, path.data);
        if (d->assets)
            qti_assets_add(d->assets, path.data);
    }
    buf_free(&path);
}

static int check_dep(void *user, const char *name, const char *dep)
{
    struct deps *d = user;
    if (dep)
        css_dep(d, dep);
    if (!dep || strchr(dep, '!') || strcmp(dep, "require") == 0 || strcmp(dep, "exports") == 0 ||
        strcmp(dep, "module") == 0 || strcmp(dep, "qtiCustomInteractionContext") == 0)
        return 0;
    resolve_dep(name ? name : d->from, dep, &d->id);
    /* an id Outpost provides is always Outpost's file, even when the package carries a copy:
     * TAO's bundles (*.min.js) hold TAO's libraries under the same ids, and their Handlebars
     * 1.3 makes code with eval, which the frame forbids; the frame's loader takes the first
     * definition of an id, and the libraries come first */
    const struct qti_pci_lib *lib = qti_pci_lib_by_id(d->id.data);
    if (lib) {
        need_lib(d->pci, lib, 0);
        return 0;
    }
    if (json_object_get(d->known, d->id.data))
        return 0;
    snprintf(d->missing, sizeof d->missing, "%s", dep);
    return 1;
}

/* Takes module i out of the PCI (it is a shared library). */
static void drop_module(struct qti_pci *pci, size_t i)
{
    free(pci->modules[i]);
    free(pci->module_ids[i]);
    memmove(pci->modules + i, pci->modules + i + 1, (pci->nmodules - i - 1) * sizeof *pci->modules);
    memmove(pci->module_ids + i, pci->module_ids + i + 1,
            (pci->nmodules - i - 1) * sizeof *pci->module_ids);
    pci->nmodules--;
}

/* Gives a path to each module that has none: the primaryConfiguration's `paths` (relative
 * to that file), else the shared library of that id; else refuses, naming it. */
static int resolve_unnamed(struct qti_pci *pci, const struct qti_package *pkg,
                           struct qti_assets *assets, const char *what, struct op_err *e)
{
    json_t *paths = NULL, *conf = NULL;
    int rc = 0;
    for (size_t i = 0; i < pci->nmodules && rc >= 0;) {
        if (pci->modules[i]) {
            i++;
            continue;
        }
        const char *id = pci->module_ids[i];
        if (pci->config && !conf) {
            const struct qti_file *f = qti_package_find(pkg, pci->config);
            json_error_t je;
            if (!f) {
                rc = err_set(e, OP_EINPUT,
                             "%s: PCI %s cannot be loaded: its primaryConfiguration %s is not in "
                             "the archive",
                             what, pci->type_identifier, pci->config);
                break;
            }
            conf = json_loadb((const char *)f->data, f->len, JSON_REJECT_DUPLICATES, &je);
            if (!json_is_object(conf)) {
                rc = err_set(e, OP_EINPUT,
                             "%s: PCI %s cannot be loaded: its primaryConfiguration %s is not a "
                             "JSON object (line %d: %s)",
                             what, pci->type_identifier, pci->config, je.line, je.text);
                break;
            }
            paths = json_object_get(conf, "paths");
        }
        const char *rel = json_string_value(json_object_get(paths, id));
        if (rel && *rel) {
            struct buf file = BUF_INIT;
            buf_puts(&file, rel);
            const char *slash = strrchr(rel, '/');
            if (!strchr(slash ? slash + 1 : rel, '.'))
                buf_puts(&file, ".js");
            pci->modules[i] = qti_xhtml_resolve_asset(pci->config, file.data);
            buf_free(&file);
            if (!pci->modules[i]) {
                rc = err_set(e, OP_EINPUT,
                             "%s: PCI %s cannot be loaded: %s maps its module %s to %s, which is "
                             "not a path inside the package",
                             what, pci->type_identifier, pci->config, id, rel);
                break;
            }
            if (assets)
                qti_assets_add(assets, pci->modules[i]);
            i++;
        } else if (qti_pci_lib_by_id(id) && i + 1 < pci->nmodules) {
            need_lib(pci, qti_pci_lib_by_id(id), 0);
            drop_module(pci, i);
        } else {
            rc =
                err_set(e, OP_EINPUT,
                        "%s: PCI %s cannot be loaded: its module %s has no file (no primaryPath%s) "
                        "and is no shared library Outpost provides",
                        what, pci->type_identifier, id,
                        pci->config ? ", not in the primaryConfiguration's paths" : "");
        }
    }
    json_decref(conf);
    return rc;
}

int qti_pci_check_loadable(struct qti_pci *pci, const struct qti_package *pkg,
                           struct qti_assets *assets, const char *what, struct op_err *e)
{
    int rc = resolve_unnamed(pci, pkg, assets, what, e);
    if (rc < 0)
        return rc;
    /* the folder module ids are relative to: where a module's path ends with its id */
    char *root = NULL;
    for (size_t i = 0; i < pci->nmodules && !root; i++) {
        size_t pl = strlen(pci->modules[i]), il = strlen(pci->module_ids[i]);
        if (pl < 3 || strcmp(pci->modules[i] + pl - 3, ".js") != 0)
            continue;
        if (pl == il + 3 && strncmp(pci->modules[i], pci->module_ids[i], il) == 0)
            root = qti_xstrdup("");
        else if (pl > il + 3 && pci->modules[i][pl - il - 4] == '/' &&
                 strncmp(pci->modules[i] + pl - il - 3, pci->module_ids[i], il) == 0)
            root = qti_xstrndup(pci->modules[i], pl - il - 3);
    }
    struct deps d = {json_object(), NULL, "", BUF_INIT, pci, pkg, assets, root};
    for (size_t i = 0; i < pci->nmodules; i++) {
        json_object_set_new(d.known, pci->module_ids[i], json_true());
        const struct qti_file *f = qti_package_find(pkg, pci->modules[i]);
        if (f)
            each_define((const char *)f->data, f->len, collect_names, &d);
    }
    for (size_t i = 0; i < pci->nmodules; i++) {
        const char *path = pci->modules[i];
        const char *role = i + 1 == pci->nmodules ? "entry module" : "module";
        const struct qti_file *f = qti_package_find(pkg, path);
        const char *why = NULL;
        if (!f)
            why = "is not in the archive: a PCI's code must travel in the package";
        else if (f->len == 0)
            why = "is empty";
        else if (f->len > QTI_PCI_MAX_MODULE)
            why = "is over 4 MiB";
        else if (!utf8_text(f->data, f->len))
            why = "is not UTF-8 text (a script)";
        else if (i + 1 == pci->nmodules && !strstr((const char *)f->data, "define(") &&
                 !strstr((const char *)f->data, "define (") &&
                 !strstr((const char *)f->data, "qtiCustomInteractionContext"))
            why = "neither defines an AMD module nor registers with qtiCustomInteractionContext";
        if (why) {
            rc = err_set(e, OP_EINPUT, "%s: PCI %s cannot be loaded: its %s %s (%s) %s", what,
                         pci->type_identifier, role, pci->module_ids[i], path, why);
            break;
        }
        /* every module another one asks for (define([...])) must be one of the PCI's, or a
         * shared library Outpost provides */
        d.from = pci->module_ids[i];
        if (each_define((const char *)f->data, f->len, check_dep, &d)) {
            rc = err_set(e, OP_EINPUT,
                         "%s: PCI %s cannot be loaded: its %s %s (%s) needs the module %s, which "
                         "the package does not hold (a library the PCI lists with its file) and "
                         "which is no shared library Outpost provides",
                         what, pci->type_identifier, role, pci->module_ids[i], path, d.missing);
            break;
        }
    }
    json_decref(d.known);
    buf_free(&d.id);
    free(root);
    return rc;
}

/* ------------------------------------------------------------------------------- JSON -- */

json_t *qti_pci_to_json(const struct qti_pci *pci)
{
    json_t *mods = json_array();
    for (size_t i = 0; i < pci->nmodules; i++)
        if (pci->modules[i]) /* one not resolved (no package was read) has no file to give */
            json_array_append_new(
                mods, json_pack("{s:s,s:s}", "id", pci->module_ids[i], "path", pci->modules[i]));
    json_t *o = json_pack("{s:s,s:i,s:o,s:O,s:s}", "typeIdentifier", pci->type_identifier,
                          "version", pci->version, "modules", mods, "properties", pci->properties,
                          "markup", pci->markup);
    if (o && pci->nstyles) {
        json_t *styles = json_array();
        for (size_t i = 0; i < pci->nstyles; i++)
            json_array_append_new(styles, json_string(pci->styles[i]));
        json_object_set_new(o, "styles", styles);
    }
    if (o && pci->nlibs) {
        json_t *libs = json_array();
        for (size_t i = 0; i < pci->nlibs; i++)
            json_array_append_new(libs, json_string(pci->libs[i]));
        json_object_set_new(o, "libs", libs);
    }
    return o;
}

int qti_pci_from_json(const json_t *j, const char *what, struct qti_pci **out, struct op_err *e)
{
    *out = NULL;
    const json_t *mods = json_object_get(j, "modules");
    const char *type = json_string_value(json_object_get(j, "typeIdentifier"));
    const json_t *props = json_object_get(j, "properties");
    const char *markup = json_string_value(json_object_get(j, "markup"));
    if (!json_is_object(j) || !type || !json_is_array(mods) || json_array_size(mods) == 0 ||
        json_array_size(mods) > QTI_PCI_MAX_MODULES || !json_is_object(props) || !markup)
        return err_set(e, OP_EINPUT, "%s: an incomplete PCI", what);
    struct qti_pci *pci = qti_xcalloc(1, sizeof *pci);
    pci->type_identifier = qti_xstrdup(type);
    pci->version = json_integer_value(json_object_get(j, "version")) == 1;
    pci->properties = json_deep_copy(props);
    pci->markup = qti_xstrdup(markup);
    size_t n = json_array_size(mods);
    pci->modules = qti_xcalloc(n, sizeof *pci->modules);
    pci->module_ids = qti_xcalloc(n, sizeof *pci->module_ids);
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(mods, i);
        const char *id = json_string_value(json_object_get(m, "id"));
        const char *path = json_string_value(json_object_get(m, "path"));
        if (!id || !path || !*path) {
            qti_pci_free(pci);
            return err_set(e, OP_EINPUT, "%s: PCI module %zu has no id or path", what, i + 1);
        }
        pci->modules[i] = qti_xstrdup(path);
        pci->module_ids[i] = qti_xstrdup(id);
        pci->nmodules++;
    }
    const json_t *libs = json_object_get(j, "libs");
    if (libs && (!json_is_array(libs) || json_array_size(libs) > 64)) {
        qti_pci_free(pci);
        return err_set(e, OP_EINPUT, "%s: PCI libs is not a list of libraries", what);
    }
    for (size_t i = 0; i < json_array_size(libs); i++) {
        const char *lib = json_string_value(json_array_get(libs, i));
        if (!lib || !qti_pci_lib_by_file(lib)) {
            int rc = err_set(e, OP_EINPUT,
                             "%s: PCI %s needs the shared library %s, which this version of "
                             "Outpost does not provide",
                             what, type, lib ? lib : "(not a string)");
            qti_pci_free(pci);
            return rc;
        }
        pci->libs = qti_xrealloc(pci->libs, pci->nlibs + 1, sizeof *pci->libs);
        pci->libs[pci->nlibs++] = qti_xstrdup(lib);
    }
    const json_t *styles = json_object_get(j, "styles");
    if (styles && (!json_is_array(styles) || json_array_size(styles) > QTI_PCI_MAX_STYLES)) {
        qti_pci_free(pci);
        return err_set(e, OP_EINPUT, "%s: PCI styles is not a list of at most %d files", what,
                       QTI_PCI_MAX_STYLES);
    }
    for (size_t i = 0; i < json_array_size(styles); i++) {
        const char *style = json_string_value(json_array_get(styles, i));
        if (!style || !*style) {
            qti_pci_free(pci);
            return err_set(e, OP_EINPUT, "%s: PCI style %zu is not a path", what, i + 1);
        }
        qti_pci_add_style(pci, style);
    }
    if (!pci->properties) {
        qti_pci_free(pci);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    *out = pci;
    return 0;
}

/* ------------------------------------------------------------------- response binding -- */

/* One scalar of the binding (`v`, of base type `bt`) in the engine's JSON form (a new
 * reference), or NULL with e filled. */
static json_t *scalar(enum qti_base_type bt, const json_t *v, const char *what, struct op_err *e)
{
    const char *name = qti_base_type_name(bt);
    switch (bt) {
    case QTI_BT_POINT:
        if (json_is_array(v) && json_array_size(v) == 2 && json_is_integer(json_array_get(v, 0)) &&
            json_is_integer(json_array_get(v, 1))) {
            char s[64];
            snprintf(s, sizeof s, "%" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT,
                     json_integer_value(json_array_get(v, 0)),
                     json_integer_value(json_array_get(v, 1)));
            return json_string(s);
        }
        break;
    case QTI_BT_PAIR:
    case QTI_BT_DIRECTED_PAIR: {
        const char *a = json_string_value(json_array_get(v, 0));
        const char *b = json_string_value(json_array_get(v, 1));
        if (json_is_array(v) && json_array_size(v) == 2 && a && b && *a && *b &&
            !strpbrk(a, " \t\r\n") && !strpbrk(b, " \t\r\n")) {
            struct buf s = BUF_INIT;
            buf_printf(&s, "%s %s", a, b);
            json_t *r = json_string(s.data);
            buf_free(&s);
            return r;
        }
        break;
    }
    case QTI_BT_INTEGER:
        if (json_is_integer(v))
            return json_incref((json_t *)v);
        break;
    case QTI_BT_FLOAT:
    case QTI_BT_DURATION:
        if (json_is_number(v))
            return json_incref((json_t *)v);
        break;
    case QTI_BT_BOOLEAN:
        if (json_is_boolean(v))
            return json_incref((json_t *)v);
        break;
    case QTI_BT_IDENTIFIER:
    case QTI_BT_STRING:
    case QTI_BT_URI:
        if (json_is_string(v))
            return json_incref((json_t *)v);
        break;
    default:
        err_set(e, OP_EINPUT, "%s: a PCI response of base type %s is not supported", what, name);
        return NULL;
    }
    err_set(e, OP_EINPUT, "%s: the PCI's %s value is not in the form of the JSON binding", what,
            name);
    return NULL;
}

/* {"<baseType>": value} of a base (list = 0) or list (1): the engine form, or NULL. */
static json_t *typed(enum qti_base_type want, const json_t *o, int list, const char *what,
                     enum qti_base_type *got, struct op_err *e)
{
    if (!json_is_object(o) || json_object_size(o) != 1) {
        err_set(e, OP_EINPUT, "%s: the PCI's response must name one base type, as in {\"%s\": ...}",
                what, qti_base_type_name(want ? want : QTI_BT_STRING));
        return NULL;
    }
    const char *key = json_object_iter_key(json_object_iter((json_t *)o));
    const json_t *v = json_object_iter_value(json_object_iter((json_t *)o));
    enum qti_base_type bt = qti_base_type_from_name(key);
    if (bt == QTI_BT_NONE) {
        err_set(e, OP_EINPUT, "%s: the PCI's response names an unknown base type \"%.64s\"", what,
                key);
        return NULL;
    }
    if (want != QTI_BT_NONE && bt != want && !(want == QTI_BT_FLOAT && bt == QTI_BT_INTEGER)) {
        err_set(e, OP_EINPUT, "%s: the PCI gave a value of base type %s, the declaration is %s",
                what, key, qti_base_type_name(want));
        return NULL;
    }
    if (got)
        *got = bt;
    if (!list)
        return scalar(bt, v, what, e);
    if (json_is_null(v))
        return json_array();
    if (!json_is_array(v) || json_array_size(v) > QTI_VALUE_MAX_ITEMS) {
        err_set(e, OP_EINPUT, "%s: the PCI's list of %s is not an array of at most %d values", what,
                key, QTI_VALUE_MAX_ITEMS);
        return NULL;
    }
    json_t *arr = json_array();
    size_t i;
    const json_t *x;
    json_array_foreach(v, i, x)
    {
        json_t *s = scalar(bt, x, what, e);
        if (!s) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, s);
    }
    return arr;
}

static int card_error(const char *what, enum qti_cardinality c, const char *key, struct op_err *e)
{
    static const char *const need[] = {"base", "list", "list", "record"};
    return err_set(e, OP_EINPUT,
                   "%s: the declaration's cardinality is %s, so the PCI's response must be "
                   "{\"%s\": ...}, not {\"%.32s\": ...}",
                   what, qti_cardinality_name(c), need[c], key);
}

int qti_pci_file_from_binding(const json_t *j, const char *what, json_t **out, struct op_err *e)
{
    *out = NULL;
    if (json_is_null(j))
        return 0;
    const json_t *base = json_object_get(j, "base");
    if (!json_is_object(j) || json_object_size(j) != 1 || !base)
        return err_set(e, OP_EINPUT,
                       "%s: the declaration is a single file, so the PCI's response must be "
                       "{\"base\": {\"file\": {\"data\": ..., \"mime\": ..., \"name\": ...}}} "
                       "or {\"base\": null}",
                       what);
    if (json_is_null(base))
        return 0;
    const json_t *f = json_object_get(base, "file");
    if (!json_is_object(base) || json_object_size(base) != 1 || !f) {
        const char *key = json_is_object(base) && json_object_size(base) == 1
                              ? json_object_iter_key(json_object_iter((json_t *)base))
                              : NULL;
        return err_set(e, OP_EINPUT,
                       key ? "%s: the PCI gave a value of base type %.64s, the declaration is file"
                           : "%s: the PCI's response must name one base type, as in {\"file\": "
                             "...}",
                       what, key);
    }
    if (!json_is_object(f))
        return err_set(e, OP_EINPUT,
                       "%s: the PCI's file must be {\"data\": base64, \"mime\": ..., \"name\": "
                       "...}",
                       what);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)f, k, v)
    {
        if (strcmp(k, "data") != 0 && strcmp(k, "mime") != 0 && strcmp(k, "name") != 0)
            return err_set(e, OP_EINPUT,
                           "%s: the PCI's file has a member \"%.32s\" (only data, mime and name "
                           "are read)",
                           what, k);
        if (!json_is_string(v))
            return err_set(e, OP_EINPUT, "%s: the PCI's file: %s must be a string", what, k);
    }
    const json_t *data = json_object_get(f, "data");
    if (!data)
        return err_set(e, OP_EINPUT, "%s: the PCI's file has no data (its content in base64)",
                       what);
    if (json_string_length(data) > QTI_PCI_MAX_FILE_DATA)
        return err_set(e, OP_EINPUT, "%s: the PCI's file is over %d MiB of base64", what,
                       QTI_PCI_MAX_FILE_DATA / (1024 * 1024));
    if (json_string_length(json_object_get(f, "mime")) > 255 ||
        json_string_length(json_object_get(f, "name")) > 1024)
        return err_set(e, OP_EINPUT, "%s: the PCI's file has a type or name too long", what);
    json_t *o = json_object();
    if (!o || json_object_set(o, "data", (json_t *)data) != 0) {
        json_decref(o);
        return err_set(e, OP_ENOMEM, "out of memory");
    }
    if (json_object_get(f, "mime"))
        json_object_set(o, "type", json_object_get(f, "mime"));
    if (json_object_get(f, "name"))
        json_object_set(o, "name", json_object_get(f, "name"));
    *out = o;
    return 0;
}

int qti_value_from_pci_json(enum qti_base_type t, enum qti_cardinality c, const json_t *j,
                            const char *what, struct qti_value **out, struct op_err *e)
{
    *out = NULL;
    if (json_is_null(j))
        return 0;
    if (t == QTI_BT_FILE && c == QTI_CARD_SINGLE) {
        /* a recording: its own bound, read in the file form the engine knows */
        json_t *file = NULL;
        int rc = qti_pci_file_from_binding(j, what, &file, e);
        if (rc == 0 && file)
            rc = qti_value_from_json(t, c, file, what, out, e);
        json_decref(file);
        return rc;
    }
    if (!json_is_object(j) || json_object_size(j) != 1)
        return err_set(e, OP_EINPUT,
                       "%s: a PCI's response must be one of {\"base\": ...}, {\"list\": ...} or "
                       "{\"record\": [...]} (the QTI JSON binding)",
                       what);
    char *text = json_dumps(j, JSON_COMPACT);
    size_t size = text ? strlen(text) : 0;
    free(text);
    if (size > QTI_PCI_MAX_RESPONSE)
        return err_set(e, OP_EINPUT, "%s: the PCI's response is over %d KiB", what,
                       QTI_PCI_MAX_RESPONSE / 1024);
    const char *key = json_object_iter_key(json_object_iter((json_t *)j));
    const json_t *v = json_object_iter_value(json_object_iter((json_t *)j));
    json_t *engine = NULL;
    if (strcmp(key, "base") == 0) {
        if (c != QTI_CARD_SINGLE)
            return card_error(what, c, key, e);
        if (json_is_null(v))
            return 0;
        engine = typed(t, v, 0, what, NULL, e);
    } else if (strcmp(key, "list") == 0) {
        if (c != QTI_CARD_MULTIPLE && c != QTI_CARD_ORDERED)
            return card_error(what, c, key, e);
        if (json_is_null(v))
            return 0;
        engine = typed(t, v, 1, what, NULL, e);
    } else if (strcmp(key, "record") == 0) {
        if (c != QTI_CARD_RECORD)
            return card_error(what, c, key, e);
        if (json_is_null(v))
            return 0;
        if (!json_is_array(v) || json_array_size(v) > QTI_VALUE_MAX_ITEMS)
            return err_set(e, OP_EINPUT, "%s: a PCI's record must be an array of fields", what);
        engine = json_object();
        json_t *seen = json_object();
        size_t i;
        const json_t *f;
        json_array_foreach(v, i, f)
        {
            const char *name = json_string_value(json_object_get(f, "name"));
            const json_t *base = json_object_get(f, "base");
            if (!json_is_object(f) || !name || !*name || json_object_size(f) != 2 || !base ||
                json_object_get(seen, name)) {
                json_decref(engine);
                json_decref(seen);
                return err_set(e, OP_EINPUT,
                               "%s: record field %zu must be {\"name\": ..., \"base\": ...} with "
                               "a name used once",
                               what, i + 1);
            }
            json_t *fv = NULL;
            enum qti_base_type bt = QTI_BT_NONE;
            json_object_set_new(seen, name, json_true());
            if (!json_is_null(base) && !(fv = typed(QTI_BT_NONE, base, 0, what, &bt, e))) {
                json_decref(engine);
                json_decref(seen);
                return OP_EINPUT;
            }
            if (fv) /* a field left out is NULL */
                json_object_set_new(
                    engine, name,
                    json_pack("{s:s,s:o}", "baseType", qti_base_type_name(bt), "value", fv));
        }
        json_decref(seen);
    } else {
        return err_set(e, OP_EINPUT,
                       "%s: a PCI's response must be {\"base\": ...}, {\"list\": ...} or "
                       "{\"record\": [...]}, not {\"%.32s\": ...}",
                       what, key);
    }
    if (!engine)
        return e->code ? e->code : OP_EINPUT;
    int rc = qti_value_from_json(t, c, engine, what, out, e);
    json_decref(engine);
    return rc;
}
