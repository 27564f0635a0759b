/*
 * cmd_qti.c - `outpost qti run`: scores a whole test session without a browser, for authors
 * and tests. The package is compiled and loaded back exactly as a device would load it, then
 * walked as a candidate would: preconditions, branch rules, selection and ordering with the
 * seed; each item presented gets the responses FILE.json holds for its route key (an item
 * not mentioned is submitted empty).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fs.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "qti/compile.h"
#include "qti/item_session.h"
#include "qti/test_session.h"

#define RESPONSES_MAX_BYTES (16 * 1024 * 1024)

static const struct command_usage run_usage = {
    "outpost qti run -f PACKAGE.zip --responses FILE.json [--seed N] [--test ID]",
    "Scores a test session. FILE.json maps item ref identifiers (route keys: \"Q01\", or\n"
    "\"Q01.2\" for the second occurrence of an item selected with replacement) to responses\n"
    "typed by their declarations: {\"Q01\": {\"RESPONSE\": \"A\"}, \"Q02\": {\"RESPONSE\":\n"
    "[\"A\", \"C\"]}}. Prints {\"route\": [...], \"items\": {KEY: {outcomes}}, \"test\":\n"
    "{outcomes}}. N (default 1) seeds selection, ordering and templates. A package of\n"
    "several tests needs --test ID, the identifier of the test's resource in imsmanifest.xml.\n"
    "What the import would change (a link to a page the package lacks) is a warning on stderr.",
};

/* The item session of route position `i` through a const-free accessor. */
static int run_walk(struct qti_loaded *l, json_t *responses, uint64_t seed, json_t **result,
                    struct op_err *e)
{
    struct qti_test_session *s;
    double now = 0;
    int rc = qti_test_session_start(l->test, qti_loaded_lookup, l, seed, now, &s, e);
    if (rc)
        return rc;
    const struct qti_route *route = qti_test_session_route(s);
    /* Every key of FILE.json must be an item of the test. */
    const char *key;
    json_t *v;
    json_object_foreach(responses, key, v)
    {
        int known = qti_test_find(l->test, key) != NULL;
        for (size_t i = 0; !known && i < route->n; i++)
            known = strcmp(route->entries[i].key, key) == 0;
        if (!known) {
            qti_test_session_free(s);
            return err_set(e, OP_EINPUT, "responses: %s is not an item ref of test %s", key,
                           l->test->identifier);
        }
        if (!json_is_object(v)) {
            qti_test_session_free(s);
            return err_set(e, OP_EINPUT, "responses: %s must map response identifiers to values",
                           key);
        }
    }
    size_t guard = route->n * 4 + 16;
    while (rc == 0 && !qti_test_session_ended(s) && guard-- > 0) {
        const char *k = qti_test_session_current_key(s);
        json_t *r = json_object_get(responses, k);
        if (!r) {
            /* "Q01" also answers every occurrence "Q01.N" of a repeated item. */
            const struct qti_node *it = route->entries[qti_test_session_position(s)].item;
            r = json_object_get(responses, it->identifier);
        }
        now += 1;
        struct op_err se = {0};
        int src = qti_test_session_submit(s, r, now, NULL, &se);
        if (src == OP_ECONFLICT) {
            /* Attempts used up or time over: the candidate moves on, as in a real session. */
        } else if (src != 0) {
            *e = se;
            rc = src;
            break;
        }
        rc = qti_test_session_next(s, now, e);
    }
    if (rc == 0 && !qti_test_session_ended(s))
        rc = err_set(e, OP_EINPUT, "the test did not end (navigation loop?)");
    if (rc == 0) {
        json_t *items = json_object();
        for (size_t i = 0; i < route->n; i++) {
            const struct qti_item_session *is = qti_test_session_item(s, i);
            if (is)
                json_object_set_new(items, route->entries[i].key,
                                    qti_item_session_outcomes_json(is));
        }
        *result = json_pack("{s:o, s:o, s:o}", "route", qti_test_session_route_taken_json(s),
                            "items", items, "test", qti_test_session_outcomes_json(s));
    }
    qti_test_session_free(s);
    return rc;
}

static int qti_run_cmd(int argc, char **argv)
{
    const char *file = NULL, *resp_file = NULL, *seed_s = NULL, *test = NULL;
    const struct cli_option opts[] = {
        OPT_STRING('f', "file", &file, "PACKAGE.zip", "the QTI content package (required)"),
        OPT_STRING(0, "responses", &resp_file, "FILE.json", "responses per item (required)"),
        OPT_STRING(0, "seed", &seed_s, "N", "seed of selection, ordering, templates (default 1)"),
        OPT_STRING(0, "test", &test, "ID",
                   "the test resource to run, in a package of several tests"),
        OPT_END(),
    };
    int status;
    int n = options_parse(argc, argv, opts, &run_usage, &status);
    if (n < 0)
        return status;
    if (n != 0)
        return options_usage_error(&run_usage, "unexpected argument \"%s\"", argv[0]);
    if (!file || !resp_file)
        return options_usage_error(&run_usage, "-f PACKAGE.zip and --responses FILE.json are "
                                               "required");
    uint64_t seed = 1;
    if (seed_s) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(seed_s, &end, 10);
        if (errno || end == seed_s || *end || seed_s[0] == '-')
            return options_usage_error(&run_usage, "--seed must be a whole number >= 0");
        seed = v;
    }
    struct op_err e = {0};
    char *text = NULL;
    size_t len;
    json_t *responses = NULL;
    int rc = fs_read_file(resp_file, RESPONSES_MAX_BYTES, &text, &len, &e);
    if (rc == 0) {
        json_error_t je;
        responses = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!responses)
            rc = err_set(&e, OP_EINPUT, "%s line %d: malformed JSON: %s", resp_file, je.line,
                         je.text);
        else if (!json_is_object(responses))
            rc = err_set(&e, OP_EINPUT, "%s: must be an object of item ref identifiers", resp_file);
    }
    free(text);
    struct qti_loaded *src = NULL, *dev = NULL;
    struct buf compiled = BUF_INIT;
    const struct qti_load_options o = {NULL, NULL, NULL, test};
    if (rc == 0)
        rc = qti_load_with(file, NULL, &o, &src, &e);
    for (size_t i = 0; rc == 0 && i < src->warnings.count; i++)
        fprintf(stderr, "outpost: warning: %s\n", src->warnings.msgs[i]);
    if (rc == 0)
        rc = qti_compile(src, &compiled, &e);
    if (rc == 0)
        rc = qti_delivery_load((const unsigned char *)compiled.data, compiled.len, &dev, &e);
    json_t *result = NULL;
    if (rc == 0)
        rc = run_walk(dev, responses, seed, &result, &e);
    if (rc == 0)
        cli_print_json(result);
    json_decref(responses);
    qti_loaded_free(dev);
    qti_loaded_free(src);
    buf_free(&compiled);
    return rc ? cli_fail(&e) : 0;
}

int cmd_qti(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"run", qti_run_cmd, "score a whole test session from a responses file"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
