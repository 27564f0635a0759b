/* table.c - aligned plain-text tables (see table.h). */
#include "cli/table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

#define TABLE_MAX_COLS 16

struct cli_table {
    int ncols;
    int nrows;    /* including the header, row 0 */
    char **cells; /* nrows * ncols, owned */
};

/* A cell is kept escaped (text_escape): a control character in a stored value, from an
 * older database or a record written by hand, must never reach the terminal raw. */
static char *dup_cell(const char *s)
{
    return text_escape(s);
}

static void add_row(struct cli_table *t, const char *first, va_list ap)
{
    char **cells = realloc(t->cells, sizeof *cells * (size_t)(t->nrows + 1) * (size_t)t->ncols);
    if (!cells)
        abort();
    t->cells = cells;
    char **row = cells + (size_t)t->nrows * (size_t)t->ncols;
    row[0] = dup_cell(first);
    for (int c = 1; c < t->ncols; c++)
        row[c] = dup_cell(va_arg(ap, const char *));
    t->nrows++;
}

struct cli_table *cli_table_new(const char *header, ...)
{
    struct cli_table *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    va_list ap;
    va_start(ap, header);
    t->ncols = 1;
    while (va_arg(ap, const char *) && t->ncols < TABLE_MAX_COLS)
        t->ncols++;
    va_end(ap);
    va_start(ap, header);
    add_row(t, header, ap);
    va_end(ap);
    return t;
}

struct cli_table *cli_table_new_columns(const char *const *headers)
{
    struct cli_table *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    while (headers[t->ncols] && t->ncols < TABLE_MAX_COLS)
        t->ncols++;
    t->cells = calloc((size_t)t->ncols, sizeof *t->cells);
    if (!t->cells)
        abort();
    for (int c = 0; c < t->ncols; c++)
        t->cells[c] = dup_cell(headers[c]);
    t->nrows = 1;
    return t;
}

void cli_table_addv(struct cli_table *t, va_list ap)
{
    const char *first = va_arg(ap, const char *);
    add_row(t, first, ap);
}

void cli_table_add(struct cli_table *t, ...)
{
    va_list ap;
    va_start(ap, t);
    const char *first = va_arg(ap, const char *);
    add_row(t, first, ap);
    va_end(ap);
}

/* Characters in a UTF-8 string: bytes that do not continue a sequence. */
static int width_of(const char *s)
{
    int n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

void cli_table_print(struct cli_table *t, FILE *out)
{
    int width[TABLE_MAX_COLS] = {0};
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            int w = width_of(t->cells[r * t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (int r = 0; r < t->nrows; r++) {
        char **row = t->cells + r * t->ncols;
        int last = t->ncols - 1; /* no padding after the last non-empty cell */
        while (last > 0 && row[last][0] == '\0')
            last--;
        for (int c = 0; c < t->ncols; c++) {
            const char *cell = row[c];
            fputs(cell, out);
            if (c < last)
                fprintf(out, "%*s", width[c] - width_of(cell) + 2, "");
            free(t->cells[r * t->ncols + c]);
        }
        fputc('\n', out);
    }
    free(t->cells);
    free(t);
}
