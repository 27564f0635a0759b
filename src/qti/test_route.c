/*
 * test_route.c - routes through a test (see test.h): the seeded random stream, selection and
 * ordering of each section's children, and the flat list of item entries a session walks.
 * The same test and seed always give the same route.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "qti/qti_alloc.h"
#include "qti/test.h"

/* ---- routes ---- */

uint64_t qti_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias. */
static size_t below(uint64_t *st, size_t n)
{
    assert(n > 0);
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = qti_splitmix64(st);
    while (v >= lim);
    return (size_t)(v % n);
}

struct node_list {
    const struct qti_node **v;
    size_t n;
};

struct route_builder {
    uint64_t rng;
    struct qti_route *route;
    struct op_err *e;
};

static int expand(struct route_builder *b, const struct qti_node *sec);

/* The children of `sec` after selection and ordering, with invisible, not-keepTogether
 * sections dissolved into the list when `sec` shuffles. */
static int arrange(struct route_builder *b, const struct qti_node *sec, struct node_list *out)
{
    size_t n = sec->nchildren;
    struct node_list sel = {NULL, 0};
    if (!sec->has_selection) {
        for (size_t i = 0; i < n; i++)
            QTI_PUSH(sel.v, sel.n, sec->children[i]);
    } else if (!sec->with_replacement) {
        /* Required children first, then a uniform choice among the others; document order. */
        char *take = qti_xcalloc(n, 1);
        size_t chosen = 0;
        for (size_t i = 0; i < n; i++)
            if (sec->children[i]->required) {
                take[i] = 1;
                chosen++;
            }
        size_t want = (size_t)sec->select;
        while (chosen < want) {
            size_t left = 0;
            for (size_t i = 0; i < n; i++)
                left += !take[i];
            size_t k = below(&b->rng, left);
            for (size_t i = 0; i < n; i++)
                if (!take[i] && k-- == 0) {
                    take[i] = 1;
                    break;
                }
            chosen++;
        }
        for (size_t i = 0; i < n; i++)
            if (take[i])
                QTI_PUSH(sel.v, sel.n, sec->children[i]);
        free(take);
    } else {
        /* With replacement: each required child once, then draws from all children. */
        size_t *count = qti_xcalloc(n, sizeof *count);
        size_t chosen = 0;
        for (size_t i = 0; i < n; i++)
            if (sec->children[i]->required) {
                count[i] = 1;
                chosen++;
            }
        while (chosen < (size_t)sec->select) {
            count[below(&b->rng, n)]++;
            chosen++;
        }
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < count[i]; k++)
                QTI_PUSH(sel.v, sel.n, sec->children[i]);
        free(count);
    }
    if (sec->shuffle) {
        /* Dissolve invisible sections that need not keep together. */
        struct node_list flat = {NULL, 0};
        for (size_t i = 0; i < sel.n; i++) {
            const struct qti_node *c = sel.v[i];
            if (c->kind == QTI_NODE_SECTION && !c->visible && !c->keep_together) {
                struct node_list inner = {NULL, 0};
                if (arrange(b, c, &inner)) {
                    free(inner.v);
                    free(sel.v);
                    free(flat.v);
                    return OP_EINPUT;
                }
                for (size_t k = 0; k < inner.n; k++)
                    QTI_PUSH(flat.v, flat.n, inner.v[k]);
                free(inner.v);
            } else {
                QTI_PUSH(flat.v, flat.n, c);
            }
        }
        free(sel.v);
        sel = flat;
        /* Fixed children keep their place; the others are shuffled among the free places. */
        size_t *slots = qti_xcalloc(sel.n, sizeof *slots);
        size_t ns = 0;
        for (size_t i = 0; i < sel.n; i++)
            if (!sel.v[i]->fixed)
                slots[ns++] = i;
        for (size_t i = ns; i > 1; i--) {
            size_t j = below(&b->rng, i);
            const struct qti_node *tmp = sel.v[slots[i - 1]];
            sel.v[slots[i - 1]] = sel.v[slots[j]];
            sel.v[slots[j]] = tmp;
        }
        free(slots);
    }
    *out = sel;
    return 0;
}

static int add_entry(struct route_builder *b, const struct qti_node *item)
{
    struct qti_route *r = b->route;
    if (r->n >= QTI_TEST_MAX_ROUTE)
        return err_set(b->e, OP_EINPUT, "the route has more than %d items", QTI_TEST_MAX_ROUTE);
    int occ = 1;
    for (size_t i = 0; i < r->n; i++)
        occ += r->entries[i].item == item;
    struct qti_route_entry en = {item, item->part, occ, NULL};
    QTI_PUSH(r->entries, r->n, en);
    return 0;
}

static int expand(struct route_builder *b, const struct qti_node *sec)
{
    struct node_list kids;
    if (arrange(b, sec, &kids))
        return OP_EINPUT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < kids.n; i++)
        rc = kids.v[i]->kind == QTI_NODE_ITEM ? add_entry(b, kids.v[i]) : expand(b, kids.v[i]);
    free(kids.v);
    return rc;
}

void qti_route_free(struct qti_route *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->entries[i].key);
    free(r->entries);
    r->entries = NULL;
    r->n = 0;
}

int qti_test_route(const struct qti_test *t, uint64_t seed, struct qti_route *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    struct route_builder b = {seed, out, e};
    int rc = 0;
    for (size_t p = 0; rc == 0 && p < t->nparts; p++)
        for (size_t s = 0; rc == 0 && s < t->parts[p].nsections; s++) {
            /* A test part behaves as a section that keeps its order. */
            rc = expand(&b, t->parts[p].sections[s]);
        }
    if (rc) {
        qti_route_free(out);
        return rc;
    }
    /* Keys: the identifier, with ".N" only for items that occur more than once. */
    for (size_t i = 0; i < out->n; i++) {
        struct qti_route_entry *en = &out->entries[i];
        int many = en->occurrence > 1;
        for (size_t k = 0; !many && k < out->n; k++)
            many = k != i && out->entries[k].item == en->item;
        struct buf kb = BUF_INIT;
        if (many)
            buf_printf(&kb, "%s.%d", en->item->identifier, en->occurrence);
        else
            buf_puts(&kb, en->item->identifier);
        en->key = buf_detach(&kb);
    }
    return 0;
}
