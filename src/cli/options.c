/* options.c - the shared option parser (see options.h). */
#include "cli/options.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/text.h"
#include "cli/remedy.h"

static const struct cli_option *find_long(const struct cli_option *opts, const char *name,
                                          size_t len)
{
    for (; opts->type != OPTION_END; opts++)
        if (opts->long_name && strlen(opts->long_name) == len &&
            strncmp(opts->long_name, name, len) == 0)
            return opts;
    return NULL;
}

static const struct cli_option *find_short(const struct cli_option *opts, char c)
{
    for (; opts->type != OPTION_END; opts++)
        if (opts->short_name && opts->short_name == c)
            return opts;
    return NULL;
}

static void print_option_name(FILE *out, const struct cli_option *o)
{
    char left[96];
    int n = 0;
    if (o->short_name && o->long_name)
        n = snprintf(left, sizeof left, "-%c, --%s", o->short_name, o->long_name);
    else if (o->short_name)
        n = snprintf(left, sizeof left, "-%c", o->short_name);
    else
        n = snprintf(left, sizeof left, "    --%s", o->long_name);
    if (o->type != OPTION_FLAG && n > 0 && (size_t)n < sizeof left)
        snprintf(left + n, sizeof left - (size_t)n, " %s", o->arg_name ? o->arg_name : "VALUE");
    fprintf(out, "  %-28s %s\n", left, o->help ? o->help : "");
}

void options_print_help(const struct cli_option *opts, const struct command_usage *usage)
{
    printf("usage: %s\n\n", usage->usage);
    if (usage->description)
        printf("%s\n\n", usage->description);
    printf("options:\n");
    for (const struct cli_option *o = opts; o->type != OPTION_END; o++)
        print_option_name(stdout, o);
    printf("  %-28s %s\n", "-h, --help", "show this help");
}

int options_usage_error(const struct command_usage *usage, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char *msg = text_escape(b.data);
    fprintf(stderr, "outpost: %s\nusage: %s\n(see --help)\n", msg, usage->usage);
    free(msg);
    buf_free(&b);
    return 2;
}

static int set_value(const struct cli_option *o, const char *arg, const struct command_usage *usage)
{
    switch (o->type) {
    case OPTION_FLAG: /* handled by the caller: a flag takes no value */
        break;
    case OPTION_STRING:
        *(const char **)o->value = arg;
        return 0;
    case OPTION_INT: {
        char *end;
        errno = 0;
        long v = strtol(arg, &end, 10);
        if (errno || *end || end == arg || v < INT_MIN || v > INT_MAX)
            return options_usage_error(usage, "--%s: \"%s\" is not a whole number", o->long_name,
                                       arg);
        *(int *)o->value = (int)v;
        return 0;
    }
    case OPTION_END:
        break;
    }
    return 2;
}

int options_parse(int argc, char **argv, const struct cli_option *opts,
                  const struct command_usage *usage, int *exit_status)
{
    int npos = 0;
    int only_positional = 0;
    *exit_status = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == '\0') {
            argv[npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            options_print_help(opts, usage);
            return -1;
        }
        const struct cli_option *o;
        const char *inline_val = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(opts, name, len);
            if (!o) {
                *exit_status = options_usage_error(usage, "unknown option --%.*s", (int)len, name);
                return -1;
            }
            if (eq)
                inline_val = eq + 1;
        } else {
            if (a[2] != '\0') {
                *exit_status = options_usage_error(usage, "unknown option %s", a);
                return -1;
            }
            o = find_short(opts, a[1]);
            if (!o) {
                *exit_status = options_usage_error(usage, "unknown option %s", a);
                return -1;
            }
        }
        if (o->type == OPTION_FLAG) {
            if (inline_val) {
                *exit_status = options_usage_error(usage, "--%s takes no value", o->long_name);
                return -1;
            }
            *(int *)o->value = 1;
            continue;
        }
        const char *val = inline_val;
        if (!val) {
            if (i + 1 >= argc) {
                *exit_status = options_usage_error(usage, "--%s needs a value (%s)",
                                                   o->long_name ? o->long_name : "",
                                                   o->arg_name ? o->arg_name : "VALUE");
                return -1;
            }
            val = argv[++i];
        }
        if (set_value(o, val, usage) != 0) {
            *exit_status = 2;
            return -1;
        }
    }
    return npos;
}

int cli_fail(const struct op_err *e)
{
    /* A message may quote a value from a file, the database or the command line: control
     * characters in it reach the terminal escaped, never raw (base/text.h). */
    char text[OP_ERR_MAX + 512];
    char *msg = text_escape(cli_error_text(e, text, sizeof text));
    fprintf(stderr, "outpost: %s\n", msg);
    free(msg);
    return err_exit_status(e->code ? e->code : OP_EINPUT);
}

int options_parse_exact(int argc, char **argv, const struct cli_option *opts,
                        const struct command_usage *usage, int nargs, const char *wrong_count,
                        int *exit_status)
{
    int n = options_parse(argc, argv, opts, usage, exit_status);
    if (n < 0)
        return -1;
    if (n == nargs)
        return 0;
    if (nargs == 0)
        *exit_status = options_usage_error(usage, "unexpected argument \"%s\"", argv[0]);
    else
        *exit_status = options_usage_error(usage, "%s", wrong_count);
    return -1;
}
