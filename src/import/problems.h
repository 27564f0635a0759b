/*
 * problems.h - the list of bad rows an import collects before it decides anything. Every CSV
 * import reads the whole file, checks every row, and only then imports (all or nothing, or
 * the valid rows with --skip-invalid), so the user sees every problem at once as
 * "FILE line N: reason".
 */
#ifndef OUTPOST_IMPORT_PROBLEMS_H
#define OUTPOST_IMPORT_PROBLEMS_H

#include <jansson.h>
#include <stdio.h>

struct import_problem {
    int line;
    char *message;
};

struct import_problems {
    const char *file; /* borrowed: the path shown in messages */
    int count;
    struct import_problem *items;
};

void import_problems_init(struct import_problems *p, const char *file);
/* Records "line N: message" (printf format). */
void import_problems_add(struct import_problems *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 1 if a problem was recorded for `line`. */
int import_problems_has_line(const struct import_problems *p, int line);
/* Prints every problem as "FILE line N: message", in line order, control characters in the
 * message escaped (text_escape). */
void import_problems_print(const struct import_problems *p, FILE *out);
/* [{"line": N, "message": "..."}, ...] in line order. */
json_t *import_problems_json(const struct import_problems *p);
void import_problems_free(struct import_problems *p);

#endif
