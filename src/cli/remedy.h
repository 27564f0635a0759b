/*
 * remedy.h - the one place where the CLI words the fix of an error: the lower layers set the
 * code and the kind of fix (base/err.h, enum op_remedy) and never name an option or a
 * command; this file turns that into the advice a CLI user reads after the message
 * ("use --skip-invalid ...", "run `outpost setup-central`").
 */
#ifndef OUTPOST_CLI_REMEDY_H
#define OUTPOST_CLI_REMEDY_H

#include <stddef.h>

#include "base/err.h"

/* The advice the CLI prints right after e->msg (it starts with its own separator: " (",
 * "; ", " "), or "" when the message says it all. `out` holds at least `cap` bytes; the
 * result is always a string, cut to fit. */
const char *cli_remedy_advice(const struct op_err *e, char *out, size_t cap);

/* e->msg and its advice in one string (cut to fit), as the CLI prints a message. */
const char *cli_error_text(const struct op_err *e, char *out, size_t cap);

#endif
