/*
 * pattern.h - QTI patterns: the `pattern` of patternMatch and the `patternMask` of
 * textEntryInteraction and extendedTextInteraction. QTI defines both as XML Schema regular
 * expressions (XML Schema Part 2, appendix F: implicitly anchored, no ^ or $ metacharacters,
 * character class subtraction such as [a-z-[aeiou]], \p{..} categories and blocks), and both
 * are compiled and run here by libxml2's XML Schema regexp engine (xmlRegexpCompile,
 * xmlRegexpExec), so a pattern means the same wherever it is written and is refused at import
 * in both places alike.
 *
 * Cache and threads: compiled patterns are kept in a cache of its own per thread, of at most
 * QTI_PATTERN_CACHE_SLOTS patterns keyed by their text (the least recently used is evicted).
 * No compiled pattern is shared between threads and no lock is taken, so sessions may run on
 * several threads; a thread's cache is freed when the thread exits, or by
 * qti_pattern_cache_clear. Invalid patterns are not cached.
 *
 * Bounds: a pattern is at most QTI_PATTERN_MAX_BYTES bytes. libxml2 compiles counted
 * repetitions to counters (a{1000} does not expand), and stops matching after ten million
 * backtracking steps; a subject it gives up on is an error, not a "no match" (so is a
 * \p{Is..} block libxml2 does not know, which it only reports when the pattern runs).
 */
#ifndef OUTPOST_QTI_PATTERN_H
#define OUTPOST_QTI_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#define QTI_PATTERN_MAX_BYTES   1000
#define QTI_PATTERN_CACHE_SLOTS 32

/* 0 if `pattern` is a valid pattern; otherwise -1 with *why (a static string) saying what is
 * wrong, e.g. "is not a valid XML Schema regular expression". */
int qti_pattern_check(const char *pattern, const char **why);

/* Whether the whole of `subject` (UTF-8) matches `pattern`: 0 with *matched set, or -1 with
 * *why (a static string) when the pattern is invalid or libxml2 gave up on this subject. */
int qti_pattern_match(const char *pattern, const char *subject, bool *matched, const char **why);

/* The compiled pattern (an xmlRegexpPtr) from this thread's cache, compiled and cached on a
 * miss; NULL with *why if the pattern is invalid. Borrowed from the cache: valid until this
 * thread's next call into this module. For tests of the cache. */
const void *qti_pattern_compiled(const char *pattern, const char **why);

/* How many compiled patterns this thread's cache holds (never more than
 * QTI_PATTERN_CACHE_SLOTS). */
size_t qti_pattern_cache_count(void);

/* Frees this thread's cache. */
void qti_pattern_cache_clear(void);

#endif
