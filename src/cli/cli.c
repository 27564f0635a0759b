/* cli.c - helpers shared by the commands: the skeleton of a command, list commands, JSON
 * output, and the options and printing of the CSV record imports (see cli.h). */
#include "cli/cli.h"
#include "cli/table.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_data_option;

const char *cli_data_dir(void)
{
    return instance_resolve_dir(cli_data_option);
}

/* jansson escapes the C0 controls in strings, as JSON requires, but writes DEL and the C1
 * controls (U+0080-U+009F, which some terminals obey like ESC sequences) raw. Outside
 * strings JSON text is ASCII without them, so writing each as its \u escape keeps the
 * document equal and keeps them off the terminal. */
static int json_write_safe(const char *buffer, size_t size, void *data)
{
    FILE *out = data;
    const unsigned char *p = (const unsigned char *)buffer;
    size_t start = 0;
    for (size_t i = 0; i < size; i++) {
        unsigned cp = 0;
        size_t n = 0;
        if (p[i] == 0x7f) {
            cp = 0x7f;
            n = 1;
        } else if (p[i] == 0xc2 && i + 1 < size && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
            cp = p[i + 1];
            n = 2;
        } else {
            continue;
        }
        if (fwrite(p + start, 1, i - start, out) != i - start || fprintf(out, "\\u%04X", cp) < 0)
            return -1;
        i += n - 1;
        start = i + 1;
    }
    return fwrite(p + start, 1, size - start, out) == size - start ? 0 : -1;
}

void cli_print_json(json_t *doc)
{
    json_dump_callback(doc, json_write_safe, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(doc);
}

int cli_list_add(struct cli_list *l, json_t *obj, ...)
{
    if (l->arr) {
        json_array_append_new(l->arr, obj);
        return 0;
    }
    json_decref(obj);
    va_list ap;
    va_start(ap, obj);
    cli_table_addv(l->table, ap);
    va_end(ap);
    return 0;
}

void cli_list_print(struct cli_list *l, int rc)
{
    if (l->table)
        cli_table_print(l->table, stdout);
    else if (rc == 0)
        cli_print_json(l->arr);
    else
        json_decref(l->arr);
    l->arr = NULL;
    l->table = NULL;
}

/* ---- the skeleton of a command ---- */

int cli_open(struct cli_run *run)
{
    memset(&run->e, 0, sizeof run->e);
    run->inst = NULL;
    run->status = 0;
    struct op_err e = {0};
    if (instance_open(cli_data_dir(), &run->inst, &e) != 0) {
        run->inst = NULL;
        run->status = cli_fail(&e);
        return -1;
    }
    return 0;
}

int cli_open_central(struct cli_run *run, const char *what)
{
    if (cli_open(run) != 0)
        return -1;
    struct op_err e = {0};
    if (instance_require_role(run->inst, ROLE_CENTRAL, what, &e) != 0) {
        instance_close(run->inst);
        run->inst = NULL;
        run->status = cli_fail(&e);
        return -1;
    }
    return 0;
}

/* No option but --help. */
static const struct cli_option no_options[] = {OPT_END()};

int cli_start(struct cli_run *run, int argc, char **argv, const struct cli_option *opts,
              const struct command_usage *usage)
{
    run->inst = NULL;
    if (options_parse_exact(argc, argv, opts ? opts : no_options, usage, 0, NULL, &run->status) !=
        0)
        return -1;
    return cli_open(run);
}

int cli_start_arg(struct cli_run *run, int argc, char **argv, const struct cli_option *opts,
                  const struct command_usage *usage, const char *wrong_count)
{
    run->inst = NULL;
    if (options_parse_exact(argc, argv, opts ? opts : no_options, usage, 1, wrong_count,
                            &run->status) != 0)
        return -1;
    return cli_open(run);
}

int cli_end(struct cli_run *run, int rc)
{
    if (run->inst)
        instance_close(run->inst);
    run->inst = NULL;
    return rc ? cli_fail(&run->e) : 0;
}

int cli_list_command(int argc, char **argv, const struct command_usage *usage, const char *central,
                     const char *const *columns, cli_fill_fn fill)
{
    int json = 0;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    struct cli_run run;
    if (options_parse_exact(argc, argv, opts, usage, 0, NULL, &run.status) != 0)
        return run.status;
    if ((central ? cli_open_central(&run, central) : cli_open(&run)) != 0)
        return run.status;
    struct cli_list out = {json ? json_array() : NULL,
                           json ? NULL : cli_table_new_columns(columns)};
    int rc = fill(run.inst, &out, &run.e);
    cli_list_print(&out, rc);
    return cli_end(&run, rc);
}

/* ---- the CSV record imports ---- */

int cli_import_records(int argc, char **argv, const struct command_usage *usage, const char *noun,
                       cli_import_fn import)
{
    struct app_import_request req = {0};
    int json = 0;
    const struct cli_option opts[] = {
        OPT_STRING('f', "file", &req.file, "FILE.csv", "the CSV file (required)"),
        OPT_FLAG(0, "skip-invalid", &req.skip_invalid, "import the valid rows, list the others"),
        OPT_FLAG(0, "json", &json, "print the summary as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, usage, 0, NULL, &status) != 0)
        return status;
    if (!req.file)
        return options_usage_error(usage, "-f FILE.csv is required");
    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    struct app_import_report r;
    int rc = import(run.inst, &req, &r, &run.e);
    import_problems_print(&r.problems, stderr);
    if (json && (rc == 0 || r.problems.count > 0))
        cli_print_json(app_import_report_json(&r));
    else if (rc == 0 && r.skipped)
        printf("%s: %s: %d created, %d updated, %d unchanged; %d invalid row%s skipped\n", req.file,
               noun, r.created, r.updated, r.unchanged, r.skipped, r.skipped == 1 ? "" : "s");
    else if (rc == 0)
        printf("%s: %s: %d created, %d updated, %d unchanged\n", req.file, noun, r.created,
               r.updated, r.unchanged);
    app_import_report_free(&r);
    return cli_end(&run, rc);
}

char **cli_split_list(const char *s, int *n)
{
    *n = 0;
    char **list = calloc(strlen(s) + 2, sizeof *list);
    if (!list)
        abort();
    const char *p = s;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a)
            list[(*n)++] = strndup(a, (size_t)(b - a));
        p = *end ? end + 1 : end;
    }
    list[*n] = NULL;
    return list;
}

void cli_free_list(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

static void print_subcommands(FILE *out, const char *cmd, const struct subcommand *subs)
{
    fprintf(out, "usage: outpost %s SUBCOMMAND [options]\n\nsubcommands:\n", cmd);
    for (const struct subcommand *s = subs; s->name; s++)
        fprintf(out, "  %-12s %s\n", s->name, s->summary);
    fprintf(out, "\n`outpost %s SUBCOMMAND --help` explains one.\n", cmd);
}

int cli_run_subcommand(int argc, char **argv, const struct subcommand *subs)
{
    if (argc < 2) {
        print_subcommands(stderr, argv[0], subs);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_subcommands(stdout, argv[0], subs);
        return 0;
    }
    for (const struct subcommand *s = subs; s->name; s++)
        if (strcmp(s->name, argv[1]) == 0)
            return s->fn(argc - 1, argv + 1);
    fprintf(stderr, "outpost: %s: unknown subcommand \"%s\"\n", argv[0], argv[1]);
    print_subcommands(stderr, argv[0], subs);
    return 2;
}
