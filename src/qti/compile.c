/*
 * compile.c - QTI package to compiled delivery package and back (see compile.h and
 * docs/delivery-package.md).
 *
 * The compiled archive is deliberately not a zip: a zip carries timestamps, permissions and
 * extra fields that differ between libraries and runs, and its reader is a large attack
 * surface. Ours is a magic line followed by entries sorted by name, each
 *     u32 name length (big-endian) | name | u64 data length (big-endian) | data
 * so two compilations of the same package are byte-identical and a reader is a few bounded
 * loops.
 */
#include "qti/compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "qti/qti_alloc.h"
#include "qti/xhtml.h"

void qti_loaded_free(struct qti_loaded *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nitems; i++) {
        free(l->items[i].href);
        qti_item_free(l->items[i].item);
    }
    free(l->items);
    qti_test_free(l->test);
    qti_warnings_free(&l->warnings);
    if (!l->borrows_pkg)
        qti_package_free(l->pkg);
    json_decref(l->delivery_manifest);
    free(l->name);
    free(l);
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct qti_loaded_item *)a)->href,
                  ((const struct qti_loaded_item *)b)->href);
}

static struct qti_loaded_item *find_item(const struct qti_loaded *l, const char *href)
{
    struct qti_loaded_item key = {(char *)href, NULL};
    if (!l->nitems)
        return NULL;
    return bsearch(&key, l->items, l->nitems, sizeof *l->items, cmp_item);
}

const struct qti_item *qti_loaded_lookup(void *ud, const struct qti_node *ref, struct op_err *e)
{
    const struct qti_loaded *l = ud;
    struct qti_loaded_item *it = find_item(l, ref->href);
    if (!it) {
        err_set(e, OP_ENOTFOUND, "%s: item ref %s: no item %s", l->name, ref->identifier,
                ref->href);
        return NULL;
    }
    return it->item;
}

/* ---- loading a QTI package ---- */

static int qti_load_package_with(struct qti_package *pkg, const struct qti_load_options *o,
                                 struct qti_loaded **out, struct op_err *e);

/* What an item ref says about its item's variables must hold for that item: a
 * variableMapping's source is a variable the item declares, a templateDefault names one of
 * its template variables (QTI 2.1). Checked at import, so a device never meets a mapping
 * that silently reads nothing. */
static int check_ref_variables(const struct qti_loaded *l, const struct qti_node *ref,
                               const struct qti_item *item, struct op_err *e)
{
    const char *test = ref->src ? ref->src : l->resource->href;
    for (size_t i = 0; i < ref->nmappings; i++)
        if (!qti_item_decl(item, ref->mappings[i].source))
            return err_set(e, OP_EINPUT,
                           "%s: %s line %d: assessmentItemRef %s: variableMapping: item %s "
                           "declares no variable %s",
                           l->name, test, ref->line, ref->identifier, qti_item_identifier(item),
                           ref->mappings[i].source);
    for (size_t i = 0; i < ref->ntemplate_defaults; i++) {
        const struct qti_decl *d = qti_item_decl(item, ref->template_defaults[i].identifier);
        if (!d || d->kind != QTI_DECL_TEMPLATE)
            return err_set(e, OP_EINPUT,
                           "%s: %s line %d: assessmentItemRef %s: templateDefault: item %s "
                           "declares no template variable %s",
                           l->name, test, ref->line, ref->identifier, qti_item_identifier(item),
                           ref->template_defaults[i].identifier);
    }
    return 0;
}

static int load_item(struct qti_loaded *l, const struct qti_node *ref, struct op_err *e)
{
    struct qti_package *p = l->pkg;
    const struct qti_loaded_item *known = find_item(l, ref->href);
    if (known)
        return check_ref_variables(l, ref, known->item, e);
    const struct qti_file *f = qti_package_find(p, ref->href);
    if (!f)
        return err_set(e, OP_EINPUT,
                       "%s: %s line %d: assessmentItemRef %s points to %s, which is not in the "
                       "archive",
                       p->name, ref->src ? ref->src : l->resource->href, ref->line, ref->identifier,
                       ref->href);
    struct qti_item *item = NULL;
    int rc = qti_item_parse_package(p, f->path, NULL, &item, e);
    if (rc)
        return err_prefix(e, "%s", p->name);
    const struct qti_assets *as = qti_item_assets(item);
    for (size_t i = 0; as && i < as->count; i++)
        if (!qti_package_find(p, as->paths[i])) {
            rc = err_set(e, OP_EINPUT, "%s: %s: uses %s, which is not in the archive", p->name,
                         f->path, as->paths[i]);
            qti_item_free(item);
            return rc;
        }
    if ((rc = check_ref_variables(l, ref, item, e)) != 0) {
        qti_item_free(item);
        return rc;
    }
    const struct qti_warnings *w = qti_item_warnings(item);
    for (size_t i = 0; i < w->count; i++)
        qti_warnings_add(&l->warnings, "%s: %s", p->name, w->msgs[i]);
    l->items = qti_xrealloc(l->items, l->nitems + 1, sizeof *l->items);
    l->items[l->nitems].href = qti_xstrdup(ref->href);
    l->items[l->nitems].item = item;
    l->nitems++;
    qsort(l->items, l->nitems, sizeof *l->items, cmp_item);
    return 0;
}

void qti_problems_free(struct qti_problems *p)
{
    for (size_t i = 0; p && i < p->n; i++)
        free(p->v[i]);
    if (p) {
        free(p->v);
        p->v = NULL;
        p->n = 0;
    }
}

/* Adds `msg` once (an item two refs point to fails twice the same way). */
static void problem_add(struct qti_problems *p, const char *msg)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i], msg) == 0)
            return;
    p->v = qti_xrealloc(p->v, p->n + 1, sizeof *p->v);
    p->v[p->n++] = qti_xstrdup(msg);
}

struct load_ctx {
    struct qti_loaded *l; /* the test whose items are being loaded */
    struct op_err *e;
    const struct qti_load_options *o;
    size_t done, total;
    struct op_err first; /* the first problem, when collecting them */
    size_t before;       /* problems already in the list when the load started */
};

static int count_each(const struct qti_node *ref, void *arg)
{
    (void)ref;
    ((struct load_ctx *)arg)->total++;
    return 0;
}

static int load_each(const struct qti_node *ref, void *arg)
{
    struct load_ctx *c = arg;
    int rc = load_item(c->l, ref, c->e);
    c->done++;
    if (c->o && c->o->progress)
        c->o->progress(c->o->ctx, c->done, c->total);
    if (rc != 0 && c->o && c->o->problems && rc == OP_EINPUT) {
        if (c->o->problems->n == c->before)
            c->first = *c->e;
        problem_add(c->o->problems, c->e->msg);
        return 0; /* on to the next item */
    }
    return rc;
}

/* A new loaded for the test of resource `tr` of `pkg` (borrowed when `borrow`: another
 * loaded of the same package owns it), its test read; its items are loaded by load_items. */
static int load_test(struct qti_package *pkg, const struct qti_resource *tr, int borrow,
                     struct qti_loaded **out, struct op_err *e)
{
    struct qti_loaded *l = qti_xcalloc(1, sizeof *l);
    *out = l;
    l->pkg = pkg;
    l->borrows_pkg = borrow;
    l->resource = tr;
    l->name = qti_xstrdup(pkg->name);
    const struct qti_file *tf = qti_package_find(pkg, tr->href);
    char where[1024];
    snprintf(where, sizeof where, "%s: %s", pkg->name, tr->href);
    xmlDocPtr doc = NULL;
    int rc = 0;
    if (!tf)
        rc = err_set(e, OP_EINPUT, "%s: the test %s is not in the archive", pkg->name, tr->href);
    else if (qti_xml_read(tf->path, (const char *)tf->data, tf->len, NULL, &doc, e))
        rc = err_prefix(e, "%s", pkg->name);
    if (rc == 0) {
        rc = qti_test_parse_package(pkg, doc, tf->path, where, &l->test, e);
        xmlFreeDoc(doc);
    }
    for (size_t i = 0; rc == 0 && i < l->test->warnings.count; i++)
        qti_warnings_add(&l->warnings, "%s: %s", pkg->name, l->test->warnings.msgs[i]);
    return rc;
}

/* Loads the items of `l` and checks its test's assets, counting in `c` (shared by the tests
 * of a package); problems are collected as qti_load_options says. */
static int load_items(struct qti_loaded *l, struct load_ctx *c)
{
    struct qti_problems *problems = c->o ? c->o->problems : NULL;
    c->l = l;
    int rc = qti_test_each_item(l->test, load_each, c);
    for (size_t i = 0; rc == 0 && i < l->test->assets.count; i++)
        if (!qti_package_find(l->pkg, l->test->assets.paths[i])) {
            rc = err_set(c->e, OP_EINPUT, "%s: %s: uses %s, which is not in the archive", l->name,
                         l->resource->href, l->test->assets.paths[i]);
            if (problems) {
                if (problems->n == c->before)
                    c->first = *c->e;
                problem_add(problems, c->e->msg);
                rc = 0;
            }
        }
    return rc;
}

/* Loads the `n` tests `trs` of `pkg` into out[0..n-1] (out[0] owns the package, the others
 * borrow it): every test is read before any item, so that progress counts the items of all. */
static int load_tests(struct qti_package *pkg, const struct qti_resource *const *trs, size_t n,
                      const struct qti_load_options *o, struct qti_loaded **out, struct op_err *e)
{
    struct qti_problems *problems = o ? o->problems : NULL;
    struct load_ctx c = {NULL, e, o, 0, 0, {0}, problems ? problems->n : 0};
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = load_test(pkg, trs[i], i > 0, &out[i], e);
    if (!out[0])
        qti_package_free(pkg); /* nothing owns it yet */
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (out[i]) /* load_test gives one when it succeeds */
            qti_test_each_item(out[i]->test, count_each, &c);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = load_items(out[i], &c);
    if (rc == 0 && problems && problems->n > c.before)
        rc = err_set(e, OP_EINPUT, "%s", c.first.msg); /* the first; the list has them all */
    else if (rc != 0 && problems && problems->n == c.before)
        problem_add(problems, e->msg); /* what stopped the load */
    if (rc) {
        for (size_t i = n; i-- > 0;) { /* the owner of the package last */
            qti_loaded_free(out[i]);
            out[i] = NULL;
        }
    }
    return rc;
}

/* The test resource `o->test` names, or the one test of the package. */
static int pick_test(const struct qti_package *pkg, const struct qti_load_options *o,
                     const struct qti_resource **out, struct op_err *e)
{
    const struct qti_manifest *m = &pkg->manifest;
    const char *want = o ? o->test : NULL;
    *out = NULL;
    for (size_t i = 0; want && i < m->ntests; i++)
        if (m->tests[i] && strcmp(m->tests[i]->identifier, want) == 0)
            *out = m->tests[i];
    if (!want && m->ntests == 1)
        *out = m->tests[0];
    if (*out)
        return 0;
    struct buf ids = BUF_INIT;
    for (size_t i = 0; i < m->ntests; i++)
        if (m->tests[i])
            buf_printf(&ids, "%s%s (%s)", i ? ", " : "", m->tests[i]->identifier,
                       m->tests[i]->href);
    int rc = want ? err_set(e, OP_EINPUT, "%s: no test resource %s in the manifest; its tests: %s",
                            pkg->name, want, ids.data)
                  : err_set(e, OP_EINPUT,
                            "%s: the package holds %zu tests: %s; name the one to load by its "
                            "resource identifier",
                            pkg->name, m->ntests, ids.data);
    buf_free(&ids);
    return rc;
}

int qti_load_package(struct qti_package *pkg, struct qti_loaded **out, struct op_err *e)
{
    return qti_load_package_with(pkg, NULL, out, e);
}

static int qti_load_package_with(struct qti_package *pkg, const struct qti_load_options *o,
                                 struct qti_loaded **out, struct op_err *e)
{
    *out = NULL;
    const struct qti_resource *tr;
    if (pick_test(pkg, o, &tr, e) != 0) {
        if (o && o->problems)
            problem_add(o->problems, e->msg);
        qti_package_free(pkg);
        return OP_EINPUT;
    }
    return load_tests(pkg, &tr, 1, o, out, e);
}

int qti_load(const char *path, const struct qti_limits *limits, struct qti_loaded **out,
             struct op_err *e)
{
    return qti_load_with(path, limits, NULL, out, e);
}

int qti_load_with(const char *path, const struct qti_limits *limits,
                  const struct qti_load_options *o, struct qti_loaded **out, struct op_err *e)
{
    *out = NULL;
    struct qti_package *pkg;
    int rc = qti_package_open(path, limits, &pkg, e);
    if (rc) {
        if (o && o->problems)
            problem_add(o->problems, e->msg);
        return rc;
    }
    return qti_load_package_with(pkg, o, out, e);
}

void qti_loaded_set_free(struct qti_loaded_set *s)
{
    for (size_t i = s->n; i-- > 0;) /* the owner of the package last */
        qti_loaded_free(s->tests[i]);
    free(s->tests);
    s->tests = NULL;
    s->n = 0;
}

int qti_load_all_package(struct qti_package *pkg, const struct qti_load_options *o,
                         struct qti_loaded_set *out, struct op_err *e)
{
    out->n = pkg->manifest.ntests;
    out->tests = qti_xcalloc(out->n, sizeof *out->tests);
    int rc = load_tests(pkg, pkg->manifest.tests, out->n, o, out->tests, e);
    if (rc) {
        free(out->tests);
        out->tests = NULL;
        out->n = 0;
    }
    return rc;
}

int qti_load_all(const char *path, const struct qti_limits *limits,
                 const struct qti_load_options *o, struct qti_loaded_set *out, struct op_err *e)
{
    out->tests = NULL;
    out->n = 0;
    struct qti_package *pkg;
    int rc = qti_package_open(path, limits, &pkg, e);
    if (rc) {
        if (o && o->problems)
            problem_add(o->problems, e->msg);
        return rc;
    }
    return qti_load_all_package(pkg, o, out, e);
}

/* ---- writing the compiled package ---- */

struct entry {
    char *name;
    unsigned char *data; /* owned, or borrowed when `borrowed` */
    size_t len;
    int borrowed;
};

struct entries {
    struct entry *v;
    size_t n;
};

static void add_entry(struct entries *es, const char *name, void *data, size_t len, int borrowed)
{
    es->v = qti_xrealloc(es->v, es->n + 1, sizeof *es->v);
    es->v[es->n++] = (struct entry){qti_xstrdup(name), data, len, borrowed};
}

static void add_json(struct entries *es, const char *name, json_t *j)
{
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!s)
        abort();
    add_entry(es, name, s, strlen(s), 0);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static void put_be(struct buf *out, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    buf_append(out, b, (size_t)bytes);
}

static const char *media_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    static const char *const map[][2] = {
        {".png", "image/png"},       {".jpg", "image/jpeg"},    {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},       {".svg", "image/svg+xml"}, {".webp", "image/webp"},
        {".css", "text/css"},        {".mp3", "audio/mpeg"},    {".ogg", "audio/ogg"},
        {".wav", "audio/wav"},       {".mp4", "video/mp4"},     {".webm", "video/webm"},
        {".woff", "font/woff"},      {".woff2", "font/woff2"},  {".ttf", "font/ttf"},
        {".xml", "application/xml"}, {".txt", "text/plain"},
    };
    for (size_t i = 0; dot && i < sizeof map / sizeof *map; i++)
        if (strcasecmp(dot, map[i][0]) == 0)
            return map[i][1];
    return "application/octet-stream";
}

int qti_compile(const struct qti_loaded *l, struct buf *out, struct op_err *e)
{
    if (!l->pkg)
        return err_set(e, OP_EINPUT, "only a test loaded from a QTI package can be compiled");
    struct entries es = {NULL, 0};
    int rc = 0;
    /* Assets: every file items and the test reference, each once. */
    struct qti_assets assets = {0, NULL};
    for (size_t i = 0; i < l->test->assets.count; i++)
        qti_assets_add(&assets, l->test->assets.paths[i]);
    json_t *items = json_array();
    for (size_t i = 0; rc == 0 && i < l->nitems; i++) {
        const struct qti_assets *as = qti_item_assets(l->items[i].item);
        for (size_t k = 0; as && k < as->count; k++)
            qti_assets_add(&assets, as->paths[k]);
        json_t *render = NULL, *scoring = NULL;
        if (qti_item_compile(l->items[i].item, &render, &scoring, e)) {
            rc = err_prefix(e, "%s: %s", l->name, l->items[i].href);
            break;
        }
        char name[4200];
        snprintf(name, sizeof name, "items/%s/render.json", l->items[i].href);
        add_json(&es, name, render);
        json_t *it = json_pack("{s:s, s:s, s:s}", "href", l->items[i].href, "identifier",
                               qti_item_identifier(l->items[i].item), "render", name);
        snprintf(name, sizeof name, "items/%s/scoring.json", l->items[i].href);
        add_json(&es, name, scoring);
        json_object_set_new(it, "scoring", json_string(name));
        json_array_append_new(items, it);
        json_decref(render);
        json_decref(scoring);
    }
    json_t *asset_list = json_array();
    for (size_t i = 0; rc == 0 && i < assets.count; i++) {
        const struct qti_file *f = qti_package_find(l->pkg, assets.paths[i]);
        if (!f) {
            rc = err_set(e, OP_EINPUT, "%s: %s is referenced but not in the archive", l->name,
                         assets.paths[i]);
            break;
        }
        char name[4200];
        snprintf(name, sizeof name, "assets/%s", f->path);
        add_entry(&es, name, f->data, f->len, 1);
        char sha[SHA256_HEX_LEN];
        sha256_hex(f->data, f->len, sha);
        json_array_append_new(asset_list,
                              json_pack("{s:s, s:s, s:s, s:I, s:s}", "path", f->path, "entry", name,
                                        "sha256", sha, "size", (json_int_t)f->len, "type",
                                        media_type(f->path)));
    }
    qti_assets_free(&assets);
    if (rc == 0) {
        json_t *tj = qti_test_to_json(l->test);
        add_json(&es, "test.json", tj);
        json_decref(tj);
        qsort(es.v, es.n, sizeof *es.v, cmp_entry);
        json_t *ents = json_array();
        for (size_t i = 0; i < es.n; i++) {
            char sha[SHA256_HEX_LEN];
            sha256_hex(es.v[i].data, es.v[i].len, sha);
            json_array_append_new(ents, json_pack("{s:s, s:s, s:I}", "name", es.v[i].name, "sha256",
                                                  sha, "size", (json_int_t)es.v[i].len));
        }
        json_t *man =
            json_pack("{s:s, s:i, s:{s:s, s:s}, s:s, s:o, s:o, s:o}", "format", "outpost-delivery",
                      "version", QTI_DELIVERY_FORMAT, "test", "identifier", l->test->identifier,
                      "title", l->test->title, "source", l->pkg->manifest.identifier, "items",
                      items, "assets", asset_list, "entries", ents);
        items = asset_list = NULL;
        add_json(&es, "manifest.json", man);
        json_decref(man);
        qsort(es.v, es.n, sizeof *es.v, cmp_entry);
        buf_puts(out, QTI_DELIVERY_MAGIC);
        for (size_t i = 0; i < es.n; i++) {
            size_t nl = strlen(es.v[i].name);
            put_be(out, nl, 4);
            buf_append(out, es.v[i].name, nl);
            put_be(out, es.v[i].len, 8);
            buf_append(out, es.v[i].data, es.v[i].len);
        }
    }
    json_decref(items);
    json_decref(asset_list);
    for (size_t i = 0; i < es.n; i++) {
        free(es.v[i].name);
        if (!es.v[i].borrowed)
            free(es.v[i].data);
    }
    free(es.v);
    return rc;
}

/* ---- reading a compiled package ---- */

static uint64_t get_be(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

void qti_delivery_close(struct qti_delivery *d)
{
    for (size_t i = 0; i < d->n; i++)
        free((char *)d->entries[i].name);
    free(d->entries);
    memset(d, 0, sizeof *d);
}

static int cmp_dentry(const void *a, const void *b)
{
    return strcmp(((const struct qti_delivery_entry *)a)->name,
                  ((const struct qti_delivery_entry *)b)->name);
}

const struct qti_delivery_entry *qti_delivery_find(const struct qti_delivery *d, const char *name)
{
    struct qti_delivery_entry key = {name, NULL, 0};
    if (!d->n)
        return NULL;
    return bsearch(&key, d->entries, d->n, sizeof *d->entries, cmp_dentry);
}

int qti_delivery_open(const unsigned char *data, size_t len, struct qti_delivery *out,
                      struct op_err *e)
{
    memset(out, 0, sizeof *out);
    size_t ml = strlen(QTI_DELIVERY_MAGIC);
    if (len < ml || memcmp(data, QTI_DELIVERY_MAGIC, ml) != 0)
        return err_set(e, OP_EINPUT, "not a compiled delivery package");
    size_t pos = ml;
    int rc = 0;
    while (pos < len) {
        if (out->n >= QTI_DELIVERY_MAX_ENTRIES) {
            rc = err_set(e, OP_EINPUT, "delivery package: too many entries");
            break;
        }
        if (len - pos < 4) {
            rc = err_set(e, OP_EINPUT, "delivery package: truncated entry header");
            break;
        }
        uint64_t nl = get_be(data + pos, 4);
        pos += 4;
        if (nl == 0 || nl > 4096 || len - pos < nl + 8) {
            rc = err_set(e, OP_EINPUT, "delivery package: bad entry name");
            break;
        }
        char *name = qti_xmalloc(nl + 1, 1);
        memcpy(name, data + pos, nl);
        name[nl] = 0;
        pos += nl;
        uint64_t dl = get_be(data + pos, 8);
        pos += 8;
        if (strlen(name) != nl || dl > len - pos) {
            free(name);
            rc = err_set(e, OP_EINPUT, "delivery package: entry data out of bounds");
            break;
        }
        out->entries = qti_xrealloc(out->entries, out->n + 1, sizeof *out->entries);
        out->entries[out->n++] = (struct qti_delivery_entry){name, data + pos, (size_t)dl};
        if (out->n > 1 && strcmp(out->entries[out->n - 2].name, name) >= 0) {
            rc = err_set(e, OP_EINPUT, "delivery package: entries not sorted or repeated (%s)",
                         name);
            break;
        }
        pos += dl;
    }
    const struct qti_delivery_entry *m = rc ? NULL : qti_delivery_find(out, "manifest.json");
    if (rc == 0 && !m)
        rc = err_set(e, OP_EINPUT, "delivery package: no manifest.json");
    json_t *man = NULL;
    if (rc == 0) {
        json_error_t je;
        man = json_loadb((const char *)m->data, m->len, JSON_REJECT_DUPLICATES, &je);
        if (!man || json_integer_value(json_object_get(man, "version")) != QTI_DELIVERY_FORMAT)
            rc = err_set(e, OP_EINPUT, "delivery package: unreadable manifest or unknown version");
    }
    json_t *ents = json_object_get(man, "entries");
    if (rc == 0 && json_array_size(ents) + 1 != out->n)
        rc =
            err_set(e, OP_EINPUT, "delivery package: manifest lists %zu entries, archive holds %zu",
                    json_array_size(ents), out->n - 1);
    for (size_t i = 0; rc == 0 && i < json_array_size(ents); i++) {
        json_t *x = json_array_get(ents, i);
        const char *n = json_string_value(json_object_get(x, "name"));
        const char *sha = json_string_value(json_object_get(x, "sha256"));
        const struct qti_delivery_entry *en = n ? qti_delivery_find(out, n) : NULL;
        char got[SHA256_HEX_LEN];
        if (!en || !sha)
            rc = err_set(e, OP_EINPUT, "delivery package: manifest names a missing entry");
        else {
            sha256_hex(en->data, en->len, got);
            if (strcmp(got, sha) != 0)
                rc =
                    err_set(e, OP_ECRYPTO, "delivery package: entry %s does not match its hash", n);
        }
    }
    json_decref(man);
    if (rc)
        qti_delivery_close(out);
    return rc;
}

static json_t *entry_json(const struct qti_delivery *d, const char *name, struct op_err *e)
{
    const struct qti_delivery_entry *en = name ? qti_delivery_find(d, name) : NULL;
    if (!en) {
        err_set(e, OP_EINPUT, "delivery package: no entry %s", name ? name : "(unnamed)");
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb((const char *)en->data, en->len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        err_set(e, OP_EINPUT, "delivery package: %s: %s", name, je.text);
    return j;
}

int qti_delivery_load(const unsigned char *data, size_t len, struct qti_loaded **out,
                      struct op_err *e)
{
    *out = NULL;
    struct qti_delivery d;
    int rc = qti_delivery_open(data, len, &d, e);
    if (rc)
        return rc;
    struct qti_loaded *l = qti_xcalloc(1, sizeof *l);
    l->name = qti_xstrdup("delivery package");
    l->delivery_manifest = entry_json(&d, "manifest.json", e);
    json_t *tj = l->delivery_manifest ? entry_json(&d, "test.json", e) : NULL;
    if (!tj)
        rc = OP_EINPUT;
    if (rc == 0)
        rc = qti_test_from_json(tj, &l->test, e);
    json_decref(tj);
    json_t *items = json_object_get(l->delivery_manifest, "items");
    for (size_t i = 0; rc == 0 && i < json_array_size(items); i++) {
        json_t *x = json_array_get(items, i);
        const char *href = json_string_value(json_object_get(x, "href"));
        json_t *r = entry_json(&d, json_string_value(json_object_get(x, "render")), e);
        json_t *s = r ? entry_json(&d, json_string_value(json_object_get(x, "scoring")), e) : NULL;
        struct qti_item *item = NULL;
        if (!href || !r || !s)
            rc = OP_EINPUT;
        else
            rc = qti_item_load(r, s, &item, e);
        json_decref(r);
        json_decref(s);
        if (rc == 0) {
            l->items = qti_xrealloc(l->items, l->nitems + 1, sizeof *l->items);
            l->items[l->nitems].href = qti_xstrdup(href);
            l->items[l->nitems].item = item;
            l->nitems++;
        }
    }
    qti_delivery_close(&d);
    if (rc == 0) {
        qsort(l->items, l->nitems, sizeof *l->items, cmp_item);
        for (size_t i = 1; rc == 0 && i < l->nitems; i++)
            if (strcmp(l->items[i - 1].href, l->items[i].href) == 0)
                rc = err_set(e, OP_EINPUT, "delivery package: item %s listed twice",
                             l->items[i].href);
    }
    if (rc) {
        qti_loaded_free(l);
        return rc;
    }
    *out = l;
    return 0;
}
