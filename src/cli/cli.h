/*
 * cli.h - what commands share: the data folder chosen by the global --data option, the
 * skeleton of a command (cli_start, cli_end), opening the instance with the error printed,
 * and JSON output.
 */
#ifndef OUTPOST_CLI_CLI_H
#define OUTPOST_CLI_CLI_H

#include <jansson.h>

#include "app/imports.h"
#include "cli/options.h"
#include "instance/instance.h"

/* Set by main() from --data; NULL means "use $OUTPOST_HOME or ./outpost-data". */
extern const char *cli_data_option;

/* The data folder commands operate on. */
const char *cli_data_dir(void);

/* Opens the instance; on failure prints the error and returns the exit status (non-zero). */
int cli_open_instance(struct instance **out);

/*
 * The skeleton of a command that works on the instance, so that a command is only its options,
 * one app operation and its printing:
 *
 *     struct instance *inst;
 *     int status;
 *     if (cli_start(argc, argv, opts, &usage, &inst, &status) != 0)
 *         return status;
 *     struct op_err e = {0};
 *     int rc = app_<entity>_<verb>(inst, &in, &out, &e);
 *     if (rc == 0)
 *         ... print out, or cli_print_json(app_<entity>_json(&out)) ...
 *     return cli_end(inst, rc, &e);
 *
 * cli_start parses argv against `opts` (no positional argument: options_parse_exact) and
 * opens the instance. It returns 0 with *inst open, or -1 when the command ends now with
 * *status: after --help (0), a usage error (2) or a failure to open the instance, each already
 * printed. The app operation checks the instance's role itself.
 * cli_end closes `inst` (may be NULL) and returns the exit status: 0 when rc is 0, else it
 * prints e's message (cli_fail) and returns its status.
 */
int cli_start(int argc, char **argv, const struct cli_option *opts,
              const struct command_usage *usage, struct instance **inst, int *status);
int cli_end(struct instance *inst, int rc, const struct op_err *e);

/* Opens the instance and checks it is a central server; `what` names the command in the
 * message ("eligibilities list runs on a central; DIR is a device"). */
int cli_open_central(const char *what, struct instance **out);

/* Prints `doc` as one JSON document on stdout (indented, keys in a stable order) and
 * releases it. */
void cli_print_json(json_t *doc);

/* What a list command writes to: with --json an array printed as one document, otherwise a
 * table (cli/table.h) with these column headers: CLI_LIST(json, "ID", "LABEL"). */
struct cli_table;
struct cli_list {
    json_t *arr;
    struct cli_table *table;
};
#define CLI_LIST(json, ...)                                                                        \
    {                                                                                              \
        (json) ? json_array() : NULL, (json) ? NULL : cli_table_new(__VA_ARGS__, NULL)             \
    }

/* Prints the listing and releases it: the array only when the listing succeeded (rc == 0),
 * the table always (with the rows read before an error). */
void cli_list_print(struct cli_list *l, int rc);

/* The options and output of the CSV record imports (import-testcenters, import-eligibilities;
 * the work is app/imports.h): parses -f FILE.csv [--skip-invalid] [--json], runs `import` on
 * the instance, lists the problems on stderr and prints the summary ("FILE: NOUN: 2 created,
 * ...") or its JSON form. Returns the exit status. */
typedef int (*cli_import_fn)(struct instance *inst, const struct app_import_request *req,
                             struct app_import_report *r, struct op_err *e);
int cli_import_records(int argc, char **argv, const struct command_usage *usage, const char *noun,
                       cli_import_fn import);

/* Splits "a,b,c" into a NULL-terminated array of trimmed, non-empty strings; the caller
 * frees with cli_free_list. */
char **cli_split_list(const char *s, int *n);
void cli_free_list(char **list);

/* Commands with subcommands (`outpost users list`): argv[0] is the command, argv[1] the
 * subcommand. Prints the list of subcommands for --help or an unknown one. */
struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv); /* receives argv starting at the subcommand */
    const char *summary;
};
int cli_run_subcommand(int argc, char **argv, const struct subcommand *subs);

#endif
