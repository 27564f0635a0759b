/*
 * options.h - the one option parser every command uses (after git's parse-options).
 *
 * A command declares a table of struct cli_option, ends it with OPT_END, and calls
 * options_parse(). Long options take `--name value` or `--name=value`; `--` ends options.
 * `--help` prints the usage line, the description and the table, and the command returns 0.
 * Whatever is not an option is left in argv (positional arguments) and counted in the return.
 */
#ifndef OUTPOST_CLI_OPTIONS_H
#define OUTPOST_CLI_OPTIONS_H

#include "base/err.h"

enum option_type { OPTION_END, OPTION_FLAG, OPTION_STRING, OPTION_INT };

struct cli_option {
    enum option_type type;
    char short_name;       /* 0 for none */
    const char *long_name; /* without the dashes */
    void *value;           /* int * for FLAG and INT, const char ** for STRING */
    const char *arg_name;  /* shown in help: "FILE" */
    const char *help;
};

#define OPT_FLAG(s, l, v, h)                                                                       \
    {                                                                                              \
        OPTION_FLAG, (s), (l), (v), NULL, (h)                                                      \
    }
#define OPT_STRING(s, l, v, a, h)                                                                  \
    {                                                                                              \
        OPTION_STRING, (s), (l), (v), (a), (h)                                                     \
    }
#define OPT_INT(s, l, v, a, h)                                                                     \
    {                                                                                              \
        OPTION_INT, (s), (l), (v), (a), (h)                                                        \
    }
#define OPT_END()                                                                                  \
    {                                                                                              \
        OPTION_END, 0, NULL, NULL, NULL, NULL                                                      \
    }

struct command_usage {
    const char *usage;       /* "outpost users add --login L --role R" */
    const char *description; /* a paragraph, may span lines */
};

/* Parses argv[1..argc) (argv[0] is the command name). Returns the number of positional
 * arguments, moved to argv[0..n), or -1 when the command should end now: after --help
 * (*exit_status = 0) or a usage error, already printed (*exit_status = 2). */
int options_parse(int argc, char **argv, const struct cli_option *opts,
                  const struct command_usage *usage, int *exit_status);

/* options_parse for a command that takes exactly `nargs` positional arguments (left in
 * argv[0..nargs)). Returns 0, or -1 when the command should end now with *exit_status: after
 * --help, or a usage error already printed: with nargs 0 naming the first argument, otherwise
 * the message `wrong_count` ("give one LOGIN"). */
int options_parse_exact(int argc, char **argv, const struct cli_option *opts,
                        const struct command_usage *usage, int nargs, const char *wrong_count,
                        int *exit_status);
void options_print_help(const struct cli_option *opts, const struct command_usage *usage);

/* Prints "outpost: <msg>" (control characters escaped, base/text.h) and the usage line to
 * stderr; returns 2. */
int options_usage_error(const struct command_usage *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "outpost: <message>" for a failed operation (control characters escaped, as the
 * message may quote a value from a file or the database) and returns its exit status. */
int cli_fail(const struct op_err *e);

#endif
