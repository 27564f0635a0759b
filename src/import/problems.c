/* problems.c - bad-row lists of the CSV imports (see problems.h). */
#include "import/problems.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/text.h"

void import_problems_init(struct import_problems *p, const char *file)
{
    memset(p, 0, sizeof *p);
    p->file = file;
}

void import_problems_add(struct import_problems *p, int line, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    struct import_problem *v = realloc(p->items, sizeof *v * (size_t)(p->count + 1));
    if (!v)
        abort();
    p->items = v;
    p->items[p->count].line = line;
    p->items[p->count].message = buf_detach(&b);
    p->count++;
}

int import_problems_has_line(const struct import_problems *p, int line)
{
    for (int i = 0; i < p->count; i++)
        if (p->items[i].line == line)
            return 1;
    return 0;
}

static int by_line(const void *a, const void *b)
{
    const struct import_problem *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

static void sort(const struct import_problems *p)
{
    /* Stable enough: problems of one line keep their relative order in practice. */
    if (p->count > 1) /* items is NULL when there are none, which qsort must not get */
        qsort(p->items, (size_t)p->count, sizeof *p->items, by_line);
}

void import_problems_print(const struct import_problems *p, FILE *out)
{
    sort(p);
    /* A message may quote a value of the file, which may hold an escape sequence: the
     * terminal gets it escaped (base/text.h). */
    for (int i = 0; i < p->count; i++) {
        char *msg = text_escape(p->items[i].message);
        fprintf(out, "%s line %d: %s\n", p->file, p->items[i].line, msg);
        free(msg);
    }
}

json_t *import_problems_json(const struct import_problems *p)
{
    sort(p);
    json_t *arr = json_array();
    for (int i = 0; i < p->count; i++)
        json_array_append_new(
            arr, json_pack("{s:i, s:s}", "line", p->items[i].line, "message", p->items[i].message));
    return arr;
}

void import_problems_free(struct import_problems *p)
{
    for (int i = 0; i < p->count; i++)
        free(p->items[i].message);
    free(p->items);
    p->items = NULL;
    p->count = 0;
}
