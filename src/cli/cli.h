/*
 * cli.h - what commands share: the data folder chosen by the global --data option, the
 * skeleton of a command (cli_start, cli_end), opening the instance with the error printed,
 * list commands, and JSON output.
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

/*
 * The skeleton of a command that works on the instance, so that a command is only its options,
 * one app operation and its printing:
 *
 *     struct cli_run run;
 *     if (cli_start(&run, argc, argv, opts, &usage) != 0)
 *         return run.status;
 *     int rc = app_<entity>_<verb>(run.inst, &in, &out, &run.e);
 *     if (rc == 0)
 *         ... print out, or cli_print_json(app_<entity>_json(&out)) ...
 *     return cli_end(&run, rc);
 *
 * cli_start parses argv against `opts` (NULL: no option but --help) with no positional
 * argument, and opens the instance. cli_start_arg wants exactly one positional argument, left
 * in argv[0], and says `wrong_count` ("give one LOGIN") otherwise. A command that checks its
 * options before it opens the instance parses them itself (options_parse_exact), then calls
 * cli_open, or cli_open_central for a command that runs on central only (`what` names it in
 * the refusal: "testcenters add runs on a central; DIR is a device"); the app operation checks
 * the instance's role itself too.
 * Each returns 0 with run->inst open and run->e clear, or -1 when the command ends now with
 * run->status: after --help (0), a usage error (2) or a failure to open the instance, each
 * already printed (run->inst is then NULL).
 * cli_end closes run->inst (may be NULL) and returns the exit status: 0 when rc is 0, else it
 * prints run->e (cli_fail) and returns its status.
 */
struct cli_run {
    struct instance *inst;
    struct op_err e;
    int status;
};
int cli_start(struct cli_run *run, int argc, char **argv, const struct cli_option *opts,
              const struct command_usage *usage);
int cli_start_arg(struct cli_run *run, int argc, char **argv, const struct cli_option *opts,
                  const struct command_usage *usage, const char *wrong_count);
int cli_open(struct cli_run *run);
int cli_open_central(struct cli_run *run, const char *what);
int cli_end(struct cli_run *run, int rc);

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

/* Adds one row to a listing, for a list command's row callback: `obj` (a new reference, taken)
 * to the array with --json, else the cells (one per column, NULL prints as "") to the table;
 * `obj` is then released. Returns 0. */
int cli_list_add(struct cli_list *l, json_t *obj, ...);

/* Prints the listing and releases it: the array only when the listing succeeded (rc == 0),
 * the table always (with the rows read before an error). */
void cli_list_print(struct cli_list *l, int rc);

/* A list command whose only option is --json (`outpost deliveries list`): parses argv, opens
 * the instance (cli_open, or cli_open_central(`central`) when `central` names a command that
 * runs on central only), lets `fill` add the rows to a cli_list (an array with --json, else a
 * table with the NULL-terminated `columns`) and prints it (cli_list_print). Returns the exit
 * status. */
typedef int (*cli_fill_fn)(struct instance *inst, struct cli_list *out, struct op_err *e);
int cli_list_command(int argc, char **argv, const struct command_usage *usage, const char *central,
                     const char *const *columns, cli_fill_fn fill);

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
