/*
 * table.h - plain-text tables for the list commands: rows are collected first, then printed
 * with each column as wide as its widest cell, counted in characters (not bytes), so that
 * "Édouard" lines up with "Ada". The table copies the cells it is given, escaped as
 * text_escape does (base/text.h): a control character or a byte that is not UTF-8 is printed
 * visibly (ESC as \x1b, U+009B as \u009b), never raw, whatever the database holds.
 */
#ifndef OUTPOST_CLI_TABLE_H
#define OUTPOST_CLI_TABLE_H

#include <stdarg.h>
#include <stdio.h>

struct cli_table;

/* A table with `ncols` columns and these header names (NULL-terminated list). */
struct cli_table *cli_table_new(const char *header, ...);
/* The same from a NULL-terminated array of header names. */
struct cli_table *cli_table_new_columns(const char *const *headers);
/* Adds one row of exactly as many cells as there are columns; NULL prints as "". */
void cli_table_add(struct cli_table *t, ...);
/* The same with the cells in `ap`. */
void cli_table_addv(struct cli_table *t, va_list ap);
/* Prints the header and rows to `out`, two spaces between columns, and frees the table. */
void cli_table_print(struct cli_table *t, FILE *out);

#endif
