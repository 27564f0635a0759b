/*
 * csv.h - reading a CSV file whole, bounded, into rows of fields (RFC 4180 through libcsv).
 *
 * Accepts UTF-8 with or without a byte-order mark, CRLF or LF line ends, quoted fields with
 * embedded commas, quotes ("") and newlines. Refuses, with the file name and line: a file over
 * `max_bytes`, binary data (a NUL byte), text that is not UTF-8, an unclosed quote, a field
 * over CSV_FIELD_MAX bytes, a row over CSV_COLUMNS_MAX fields. Blank lines are skipped.
 *
 * Header names are looked up case-insensitively with surrounding spaces trimmed, so
 * "Interface Language" and " interface language" are the same column. Each row remembers the
 * line of the file it starts on, for messages such as "users.csv line 4: missing Login".
 */
#ifndef OUTPOST_IMPORT_CSV_H
#define OUTPOST_IMPORT_CSV_H

#include <stddef.h>

#include "base/err.h"

#define CSV_FIELD_MAX   (64 * 1024)
#define CSV_COLUMNS_MAX 256

struct csv_row {
    int line; /* 1-based line where the row starts */
    int nfields;
    char **fields; /* trimmed of surrounding spaces and tabs */
};

struct csv_table {
    char *path;
    int ncols;
    char **header;   /* as written, trimmed */
    int header_line; /* the line the header is on (after any blank lines) */
    int nrows;       /* data rows, without the header */
    struct csv_row *rows;
};

/* Reads a CSV file whole into a new buffer (*data, caller frees; wipe it first if it holds
 * passwords). A file over `max_bytes` is refused before it is read, with a message naming the
 * setting to raise. */
int csv_file_read(const char *path, size_t max_bytes, char **data, size_t *len, struct op_err *e);

/* Reads `path`. On success *out is owned by the caller (csv_table_free). */
int csv_table_load(const char *path, size_t max_bytes, struct csv_table **out, struct op_err *e);

/* Parses `len` bytes of CSV text; `name` is used in messages. Same rules as csv_table_load. */
int csv_table_parse(const char *name, const char *data, size_t len, struct csv_table **out,
                    struct op_err *e);

/* Like csv_table_parse, but hands each row to a handler as soon as it is read instead of
 * keeping it, so that memory holds one row at a time however many rows the file has. The
 * table passed to the handler has the header and no rows (nrows 0) and lives until the call
 * returns. A handler returns 0 to go on, or a negative OP_E* code with *e filled to stop:
 * that code is returned. */
struct csv_handler {
    int (*header)(void *ctx, const struct csv_table *t, struct op_err *e);
    int (*row)(void *ctx, const struct csv_table *t, const struct csv_row *row, struct op_err *e);
    void *ctx;
};
int csv_table_stream(const char *name, const char *data, size_t len, const struct csv_handler *h,
                     struct op_err *e);

void csv_table_free(struct csv_table *t);

/* Index of the header column called `name` (case-insensitive, trimmed), or -1. */
int csv_table_column(const struct csv_table *t, const char *name);

/* The field of `row` in column `col`, or "" if col is -1 or the row is short. */
const char *csv_table_field(const struct csv_row *row, int col);

#endif
