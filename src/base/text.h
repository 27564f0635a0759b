/*
 * text.h - the one rule for the short text Outpost stores and shows (logins, labels, names,
 * mail addresses, organisation ids), and the one way of showing text that may break it.
 *
 * Such text travels into JSON, CSV files and, above all, operators' terminals, where a
 * control character is not inert: ESC starts an escape sequence that can retitle the
 * window, clear the screen or rewrite what was printed before; U+009B (CSI) does the same in
 * one character on terminals that honour C1 controls. So the rule (text_check) is: valid
 * UTF-8, no control character at all (C0 U+0000-U+001F, so no newline or tab either, DEL
 * U+007F, and C1 U+0080-U+009F), no space at either end, and at most a given length. Every
 * door that stores such text checks it here, and every printer of text that may predate the
 * rule (an older database, a record written by hand) goes through text_escape.
 */
#ifndef OUTPOST_BASE_TEXT_H
#define OUTPOST_BASE_TEXT_H

#include <stddef.h>

/* What text_check found wrong, in the order it looks. */
enum text_fault {
    TEXT_OK = 0,
    TEXT_EMPTY,     /* "" (NULL counts as empty too) */
    TEXT_TOO_LONG,  /* over the `max` bytes given */
    TEXT_NOT_UTF8,  /* not valid UTF-8 (overlong forms and surrogates included) */
    TEXT_CONTROL,   /* a C0 control, DEL or a C1 control */
    TEXT_EDGE_SPACE /* a space at the start or the end */
};

/* Checks `s` against the rule above; `max` is the longest length in bytes (0: no limit). */
enum text_fault text_check(const char *s, size_t max);

/* The end of a sentence that starts with the field's name: "contains a control character",
 * "is not valid UTF-8 text", ... ("" for TEXT_OK). Never contains the text itself. */
const char *text_fault_message(enum text_fault f);

/* 1 if `login` is acceptable as a login (and as a test center label or an organisation id):
 * text_check(login, 255) finds nothing wrong. */
int login_is_valid(const char *login);

/* 1 if `s` (of `len` bytes) is valid UTF-8 without NUL. */
int utf8_is_valid(const char *s, size_t len);

/* A copy of `s` fit for a terminal: every C0 control and DEL is written as \xHH (ESC as
 * \x1b, a newline as \x0a), every C1 control as \u00HH, and every byte that is not part of
 * valid UTF-8 as \xHH; everything else, backslashes included, is copied as is. The caller
 * frees the result; NULL gives "". Aborts if memory runs out, like the table code using it. */
char *text_escape(const char *s);

/* 1 if text_escape(s) would change `s`. */
int text_needs_escape(const char *s);

#endif
