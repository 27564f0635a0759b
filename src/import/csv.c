/*
 * csv.c - bounded CSV reading on top of libcsv (see csv.h).
 *
 * The input is fed to libcsv one physical line at a time so that every row knows the line it
 * started on: a row ends while its last line is being parsed, so the next row starts on the
 * following line.
 */
#include "import/csv.h"

#include <csv.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "base/text.h"

struct parse_state {
    const char *name;
    struct csv_table *t;
    int cur_line;  /* line being fed */
    int row_start; /* line where the current row started */
    int have_header;
    char **fields; /* fields of the row being built */
    int nfields;
    struct op_err *e;
    int failed;
    const struct csv_handler *h; /* NULL: keep every row in t->rows */
};

static char *trim_dup(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    char *p = malloc(len + 1);
    if (!p)
        abort();
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* Fields are wiped before they are freed: a users file carries passwords in clear. */
static void free_fields(char **f, int n)
{
    for (int i = 0; i < n; i++) {
        sodium_memzero(f[i], strlen(f[i]));
        free(f[i]);
    }
    free(f);
}

static void on_field(void *data, size_t len, void *ctx)
{
    struct parse_state *ps = ctx;
    if (ps->failed)
        return;
    if (ps->nfields >= CSV_COLUMNS_MAX) {
        err_set(ps->e, OP_EINPUT, "%s line %d: more than %d fields in a row", ps->name,
                ps->row_start, CSV_COLUMNS_MAX);
        ps->failed = 1;
        return;
    }
    if (len > CSV_FIELD_MAX) {
        err_set(ps->e, OP_EINPUT, "%s line %d: a field is longer than %d bytes", ps->name,
                ps->row_start, CSV_FIELD_MAX);
        ps->failed = 1;
        return;
    }
    char **f = realloc(ps->fields, sizeof *f * (size_t)(ps->nfields + 1));
    if (!f)
        abort();
    ps->fields = f;
    ps->fields[ps->nfields++] = trim_dup(data ? data : "", data ? len : 0);
}

static void on_row(int term, void *ctx)
{
    (void)term;
    struct parse_state *ps = ctx;
    if (ps->failed) {
        free_fields(ps->fields, ps->nfields);
    } else if (!ps->have_header) {
        ps->t->header = ps->fields;
        ps->t->header_line = ps->row_start;
        ps->t->ncols = ps->nfields;
        ps->have_header = 1;
        if (ps->h && ps->h->header(ps->h->ctx, ps->t, ps->e) != 0)
            ps->failed = 1;
    } else if (ps->h) {
        struct csv_row row = {ps->row_start, ps->nfields, ps->fields};
        if (ps->h->row(ps->h->ctx, ps->t, &row, ps->e) != 0)
            ps->failed = 1;
        free_fields(ps->fields, ps->nfields);
    } else {
        struct csv_row *rows = realloc(ps->t->rows, sizeof *rows * (size_t)(ps->t->nrows + 1));
        if (!rows)
            abort();
        ps->t->rows = rows;
        struct csv_row *r = &rows[ps->t->nrows++];
        r->line = ps->row_start;
        r->nfields = ps->nfields;
        r->fields = ps->fields;
    }
    ps->fields = NULL;
    ps->nfields = 0;
    ps->row_start = ps->cur_line + 1;
}

/* Checks a physical line before parsing: no NUL, valid UTF-8. */
static int check_line(struct parse_state *ps, const char *p, size_t n)
{
    if (memchr(p, '\0', n))
        return err_set(ps->e, OP_EINPUT,
                       "%s line %d: binary data (a NUL byte); a CSV file must be UTF-8 text",
                       ps->name, ps->cur_line);
    if (!utf8_is_valid(p, n))
        return err_set(ps->e, OP_EINPUT,
                       "%s line %d: not valid UTF-8 text (save the file as UTF-8)", ps->name,
                       ps->cur_line);
    return 0;
}

/* Parses into `t`, keeping the rows or, with a handler `h`, handing them over one by one. */
static int parse(const char *name, const char *data, size_t len, struct csv_table *t,
                 const struct csv_handler *h, struct op_err *e)
{
    struct parse_state ps = {name, t, 1, 1, 0, NULL, 0, e, 0, h};
    struct csv_parser parser;
    /* CSV_STRICT: without it libcsv accepts an unclosed quote at the end of the file (the
     * rest of the file silently becomes one field) and stray quotes inside fields. */
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return err_set(e, OP_ENOMEM, "out of memory");
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) { /* UTF-8 byte-order mark */
        data += 3;
        len -= 3;
    }
    int rc = 0;
    size_t pos = 0;
    while (pos < len && rc == 0) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
        rc = check_line(&ps, data + pos, n);
        /* pstate 0 is libcsv's ROW_NOT_BEGUN (private to libcsv.c): no row has begun yet, so the
         * next row starts on this line; this skips blank lines in the numbering. */
        if (parser.pstate == 0)
            ps.row_start = ps.cur_line;
        if (rc == 0 && csv_parse(&parser, data + pos, n, on_field, on_row, &ps) != n)
            rc = csv_error(&parser) == CSV_EPARSE
                     ? err_set(e, OP_EINPUT,
                               "%s line %d: a stray quote (a field holding a \" must be quoted "
                               "whole, with the inner quote doubled: \"say \"\"hi\"\"\")",
                               name, ps.cur_line)
                     : err_set(e, OP_EINPUT, "%s line %d: %s", name, ps.cur_line,
                               csv_strerror(csv_error(&parser)));
        if (rc == 0 && ps.failed)
            rc = e->code ? e->code : OP_EINPUT;
        pos += n;
        ps.cur_line++;
    }
    if (rc == 0) {
        ps.cur_line--; /* the last line fed */
        if (csv_fini(&parser, on_field, on_row, &ps) != 0)
            rc = err_set(e, OP_EINPUT, "%s line %d: a quoted field is not closed (a \" is missing)",
                         name, ps.row_start);
        else if (ps.failed)
            rc = e->code ? e->code : OP_EINPUT;
    }
    if (parser.entry_buf) /* libcsv's copy of the last field (a password, maybe) */
        sodium_memzero(parser.entry_buf, parser.entry_size);
    csv_free(&parser);
    free_fields(ps.fields, ps.nfields);
    if (rc == 0 && !ps.have_header)
        rc = err_set(e, OP_EINPUT, "%s: empty file (a header line is required)", name);
    return rc;
}

static struct csv_table *table_new(const char *name)
{
    struct csv_table *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    t->path = strdup(name);
    if (!t->path)
        abort();
    return t;
}

int csv_table_parse(const char *name, const char *data, size_t len, struct csv_table **out,
                    struct op_err *e)
{
    *out = NULL;
    struct csv_table *t = table_new(name);
    int rc = parse(name, data, len, t, NULL, e);
    if (rc != 0) {
        csv_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int csv_table_stream(const char *name, const char *data, size_t len, const struct csv_handler *h,
                     struct op_err *e)
{
    struct csv_table *t = table_new(name);
    int rc = parse(name, data, len, t, h, e);
    csv_table_free(t);
    return rc;
}

void csv_table_free(struct csv_table *t)
{
    if (!t)
        return;
    free_fields(t->header, t->ncols);
    for (int i = 0; i < t->nrows; i++)
        free_fields(t->rows[i].fields, t->rows[i].nfields);
    free(t->rows);
    free(t->path);
    free(t);
}

int csv_file_read(const char *path, size_t max_bytes, char **data, size_t *len, struct op_err *e)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max_bytes)
        return err_set_remedy(e, OP_EINPUT, OP_REMEDY_CSV_LIMIT,
                              "%s: the file is %lld bytes, over the limit of %zu bytes", path,
                              (long long)st.st_size, max_bytes);
    return fs_read_file(path, max_bytes, data, len, e);
}

int csv_table_load(const char *path, size_t max_bytes, struct csv_table **out, struct op_err *e)
{
    char *data = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = csv_file_read(path, max_bytes, &data, &len, e);
    if (rc != 0)
        return rc;
    rc = csv_table_parse(path, data, len, out, e);
    free(data);
    return rc;
}

int csv_table_column(const struct csv_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcasecmp(t->header[i], name) == 0)
            return i;
    return -1;
}

const char *csv_table_field(const struct csv_row *row, int col)
{
    if (col < 0 || col >= row->nfields)
        return "";
    return row->fields[col];
}
