/*
 * secret.h - reading a password without it ever touching argv, the environment or a log.
 * On a TTY the prompt is shown and echo is off; otherwise one line is read from stdin (for
 * scripts: `printf '%s\n' "$pw" | outpost users passwd LOGIN`). The line is read with
 * read(2) into locked memory: nothing past it is consumed and no stdio buffer keeps a copy.
 */
#ifndef OUTPOST_BASE_SECRET_H
#define OUTPOST_BASE_SECRET_H

#include <stddef.h>

#include "base/err.h"

#define SECRET_MAX 1024

/* Reads a password into a sodium_malloc'ed buffer (*out; free with secret_free). An empty
 * password is refused. With `confirm` on a TTY, asks twice. */
int secret_read(const char *prompt, int confirm, char **out, struct op_err *e);
void secret_free(char *s);

#endif
