/*
 * pattern.c - QTI patterns (patternMatch, patternMask) compiled and run by libxml2's XML
 * Schema regexp engine, with a bounded per-thread cache of compiled patterns (see pattern.h
 * for the contract and the threading rule).
 *
 * Invariant: a thread's cache holds at most QTI_PATTERN_CACHE_SLOTS entries, each owning a
 * copy of its pattern text and its compiled form; only this thread reads or frees them.
 */
#include "qti/pattern.h"

#include <libxml/xmlerror.h>
#include <libxml/xmlregexp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "qti/qti_alloc.h"

struct slot {
    char *text;
    xmlRegexpPtr re;
    unsigned long used; /* the cache's clock at the last lookup: the smallest is evicted */
};

struct cache {
    struct slot slots[QTI_PATTERN_CACHE_SLOTS];
    size_t n;
    unsigned long clock;
};

/* The thread's cache. The pointer lives in static TLS (so leak checkers see it); the key only
 * gives it a destructor at thread exit. */
static __thread struct cache *this_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(struct cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->slots[i].text);
        xmlRegFreeRegexp(c->slots[i].re);
    }
    free(c);
}

static void cache_destroy(void *p)
{
    cache_free(p);
    this_cache = NULL;
}

static void cache_key_create(void)
{
    if (pthread_key_create(&cache_key, cache_destroy) != 0)
        abort();
}

static struct cache *cache_get(void)
{
    if (!this_cache) {
        pthread_once(&cache_once, cache_key_create);
        this_cache = qti_xcalloc(1, sizeof *this_cache);
        if (pthread_setspecific(cache_key, this_cache) != 0)
            abort();
    }
    return this_cache;
}

static void silent(void *ctx, const char *msg, ...) {}

/* Compiles `pattern`, new (the caller frees it with xmlRegFreeRegexp), or NULL with *why. */
static xmlRegexpPtr compile(const char *pattern, const char **why)
{
    if (strlen(pattern) > QTI_PATTERN_MAX_BYTES) {
        *why = "is over 1000 bytes";
        return NULL;
    }
    /* libxml2 prints regexp syntax errors through its generic handler (per thread); we report
     * our own. */
    xmlGenericErrorFunc prev = xmlGenericError;
    void *prev_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, silent);
    xmlRegexpPtr re = xmlRegexpCompile(BAD_CAST pattern);
    xmlSetGenericErrorFunc(prev_ctx, prev);
    if (!re)
        *why = "is not a valid XML Schema regular expression";
    return re;
}

const void *qti_pattern_compiled(const char *pattern, const char **why)
{
    struct cache *c = cache_get();
    c->clock++;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->slots[i].text, pattern) == 0) {
            c->slots[i].used = c->clock;
            return c->slots[i].re;
        }
    }
    xmlRegexpPtr re = compile(pattern, why);
    if (!re)
        return NULL;
    struct slot *s;
    if (c->n < QTI_PATTERN_CACHE_SLOTS) {
        s = &c->slots[c->n++];
    } else {
        s = &c->slots[0];
        for (size_t i = 1; i < c->n; i++)
            if (c->slots[i].used < s->used)
                s = &c->slots[i];
        free(s->text);
        xmlRegFreeRegexp(s->re);
    }
    *s = (struct slot){qti_xstrdup(pattern), re, c->clock};
    return re;
}

int qti_pattern_check(const char *pattern, const char **why)
{
    return qti_pattern_compiled(pattern, why) ? 0 : -1;
}

int qti_pattern_match(const char *pattern, const char *subject, bool *matched, const char **why)
{
    *matched = false;
    xmlRegexpPtr re = (xmlRegexpPtr)qti_pattern_compiled(pattern, why);
    if (!re)
        return -1;
    int rc = xmlRegexpExec(re, BAD_CAST subject);
    if (rc < 0) {
        /* an unknown \p{Is..} block only shows here, as do ten million backtracking steps */
        *why = "could not be matched against this string (an unknown \\p{Is..} block, or "
               "too many backtracking steps)";
        return -1;
    }
    *matched = rc == 1;
    return 0;
}

size_t qti_pattern_cache_count(void)
{
    return this_cache ? this_cache->n : 0;
}

void qti_pattern_cache_clear(void)
{
    cache_free(this_cache);
    this_cache = NULL;
    if (pthread_once(&cache_once, cache_key_create) == 0)
        pthread_setspecific(cache_key, NULL);
}
