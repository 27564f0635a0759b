/*
 * cmd_eligibilities.c - `outpost eligibilities set|list|delete`: which test takers may sit
 * which delivery at which test center, and whether a proctor must authorise them. CENTER and
 * DELIVERY are ids or labels. Devices receive eligibilities by sync, so these commands run on
 * central only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "cli/commands.h"
#include "store/deliveries.h"
#include "store/eligibilities.h"
#include "store/testcenters.h"
#include "store/users.h"

/* Finds the center and the delivery named on the command line; messages say which option
 * was wrong. The caller clears both on success. */
static int find_pair(struct db *db, const char *center, const char *delivery, struct test_center *c,
                     struct delivery *d, struct op_err *e)
{
    memset(c, 0, sizeof *c);
    memset(d, 0, sizeof *d);
    int rc = testcenters_find(db, center, c, e);
    if (rc != 0)
        return err_prefix(e, "--center");
    rc = deliveries_find(db, delivery, d, e);
    if (rc != 0) {
        test_center_clear(c);
        return err_prefix(e, "--delivery");
    }
    return 0;
}

/* ---- eligibilities set ---- */

static const struct command_usage set_usage = {
    "outpost eligibilities set --center CENTER --delivery DELIVERY\n"
    "                          --test-takers LOGIN[,LOGIN...] [--proctored yes|no]",
    "Makes LOGINs (test-taker users) eligible for DELIVERY at CENTER: creates the eligibility,\n"
    "or replaces the test takers of the existing one (an empty list leaves none). Without\n"
    "--proctored a new eligibility takes the delivery's default and an existing one keeps its\n"
    "setting. Devices of the center's organisation pick the change up at their next sync.",
};

/* Resolves the logins into user ids; every unknown login or wrong role is named in one
 * message. On success the caller frees *ids with cli_free_list. */
static int resolve_test_takers(struct db *db, const char *list, char ***ids, int *n,
                               struct op_err *e)
{
    char **logins = cli_split_list(list, n);
    *ids = calloc((size_t)*n + 1, sizeof **ids);
    if (!*ids)
        abort();
    struct buf bad = BUF_INIT;
    int rc = 0;
    for (int i = 0; rc == 0 && i < *n; i++) {
        struct user u;
        struct op_err ue = {0};
        int found = users_get_by_login(db, logins[i], &u, &ue);
        if (found == OP_ENOTFOUND) {
            buf_printf(&bad, "%sno user with login \"%s\"", bad.len ? "; " : "", logins[i]);
        } else if (found != 0) {
            rc = err_set(e, found, "%s", ue.msg);
        } else {
            if (strcmp(u.role, ROLE_TEST_TAKER) != 0)
                buf_printf(&bad, "%s\"%s\" is a %s, not a test-taker", bad.len ? "; " : "",
                           logins[i], u.role);
            (*ids)[i] = strdup(u.id);
            if (!(*ids)[i])
                abort();
            user_clear(&u);
        }
    }
    if (rc == 0 && bad.len)
        rc = err_set(e, OP_EINPUT, "--test-takers: %s", bad.data);
    buf_free(&bad);
    cli_free_list(logins);
    if (rc != 0) {
        for (int i = 0; i < *n; i++)
            free((*ids)[i]);
        free(*ids);
        *ids = NULL;
    }
    return rc;
}

static int set_cmd(int argc, char **argv)
{
    const char *center = NULL, *delivery = NULL, *takers = NULL, *proctored_arg = NULL;
    const struct cli_option opts[] = {
        OPT_STRING(0, "center", &center, "CENTER", "test center id or label (required)"),
        OPT_STRING(0, "delivery", &delivery, "DELIVERY", "delivery id or label (required)"),
        OPT_STRING(0, "test-takers", &takers, "LOGINS", "comma-separated logins (required)"),
        OPT_STRING(0, "proctored", &proctored_arg, "yes|no", "whether a proctor authorises"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &set_usage, 0, NULL, &status) != 0)
        return status;
    if (!center || !delivery || !takers)
        return options_usage_error(&set_usage,
                                   "--center, --delivery and --test-takers are required");
    int proctored = ELIGIBILITY_PROCTORED_KEEP;
    if (proctored_arg && (proctored = eligibilities_parse_proctored(proctored_arg)) < 0)
        return options_usage_error(&set_usage, "--proctored must be yes or no, not \"%s\"",
                                   proctored_arg);
    struct instance *inst;
    if ((status = cli_open_central("eligibilities set", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct test_center c;
    struct delivery d;
    char **ids = NULL;
    int nids = 0;
    enum eligibility_outcome outcome = ELIGIBILITY_UNCHANGED;
    char id[UUID_STR_LEN] = "";
    int rc = find_pair(inst->db, center, delivery, &c, &d, &e);
    if (rc == 0) {
        rc = resolve_test_takers(inst->db, takers, &ids, &nids, &e);
        if (rc == 0)
            rc = db_begin(inst->db, &e);
        if (rc == 0) {
            rc = eligibilities_set(inst->db, c.id, d.id, (const char *const *)ids, nids, proctored,
                                   &outcome, id, &e);
            rc = db_commit_if(inst->db, rc, &e);
        }
        if (rc == 0) {
            struct eligibility el;
            if (eligibilities_get(inst->db, id, &el, &e) == 0) {
                printf("%s eligibility %s: %d test taker%s for %s at %s, %s\n",
                       outcome == ELIGIBILITY_CREATED   ? "created"
                       : outcome == ELIGIBILITY_UPDATED ? "updated"
                                                        : "unchanged",
                       id, nids, nids == 1 ? "" : "s", d.label, c.label,
                       el.proctored ? "proctored" : "not proctored");
                eligibility_clear(&el);
            }
        }
        test_center_clear(&c);
        delivery_clear(&d);
    }
    cli_free_list(ids);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}

/* ---- eligibilities list ---- */

static const struct command_usage list_usage = {
    "outpost eligibilities list [--json]",
    "Lists eligibilities ordered by test center and delivery. --json prints one array of\n"
    "objects with the fields id, center_id, center_label, delivery_id, delivery_label,\n"
    "proctored (true or false), test_takers (an array of logins) and version.",
};

struct list_ctx {
    struct db *db;
    struct cli_list out;
    struct op_err *e;
};

static int append_login(const char *login, void *ctx)
{
    json_array_append_new(ctx, json_string(login));
    return 0;
}

static int list_one(const struct eligibility *el, void *vctx)
{
    struct list_ctx *ctx = vctx;
    json_t *takers = json_array();
    int rc = eligibilities_test_takers_each(ctx->db, el->id, append_login, takers, ctx->e);
    if (rc != 0) {
        json_decref(takers);
        return rc;
    }
    if (ctx->out.arr) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(el->id));
        json_object_set_new(o, "center_id", json_string(el->center_id));
        json_object_set_new(o, "center_label", json_string(el->center_label));
        json_object_set_new(o, "delivery_id", json_string(el->delivery_id));
        json_object_set_new(o, "delivery_label", json_string(el->delivery_label));
        json_object_set_new(o, "proctored", json_boolean(el->proctored));
        json_object_set_new(o, "test_takers", takers);
        json_object_set_new(o, "version", json_integer(el->version));
        json_array_append_new(ctx->out.arr, o);
        return 0;
    }
    struct buf list = BUF_INIT;
    size_t i;
    json_t *v;
    json_array_foreach(takers, i, v) buf_printf(&list, "%s%s", i ? ", " : "", json_string_value(v));
    cli_table_add(ctx->out.table, el->center_label, el->delivery_label,
                  el->proctored ? "yes" : "no", list.len ? list.data : "-");
    buf_free(&list);
    json_decref(takers);
    return 0;
}

static int list_cmd(int argc, char **argv)
{
    int json = 0;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &list_usage, 0, NULL, &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_central("eligibilities list", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct list_ctx ctx = {
        inst->db, CLI_LIST(json, "TEST CENTER", "DELIVERY", "PROCTORED", "TEST TAKERS"), &e};
    int rc = eligibilities_each(inst->db, list_one, &ctx, &e);
    cli_list_print(&ctx.out, rc);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}

/* ---- eligibilities delete ---- */

static const struct command_usage delete_usage = {
    "outpost eligibilities delete --center CENTER --delivery DELIVERY",
    "Deletes the eligibility of DELIVERY at CENTER; devices delete it (and test takers left\n"
    "with no eligibility in their organisation) at their next sync.",
};

static int delete_cmd(int argc, char **argv)
{
    const char *center = NULL, *delivery = NULL;
    const struct cli_option opts[] = {
        OPT_STRING(0, "center", &center, "CENTER", "test center id or label (required)"),
        OPT_STRING(0, "delivery", &delivery, "DELIVERY", "delivery id or label (required)"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &delete_usage, 0, NULL, &status) != 0)
        return status;
    if (!center || !delivery)
        return options_usage_error(&delete_usage, "--center and --delivery are required");
    struct instance *inst;
    if ((status = cli_open_central("eligibilities delete", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct test_center c;
    struct delivery d;
    int rc = find_pair(inst->db, center, delivery, &c, &d, &e);
    if (rc == 0) {
        struct eligibility el;
        struct op_err ge = {0};
        rc = eligibilities_get_pair(inst->db, c.id, d.id, &el, &ge);
        if (rc == OP_ENOTFOUND)
            err_set(&e, rc, "test center \"%s\" has no eligibility for delivery \"%s\"", c.label,
                    d.label);
        else if (rc != 0)
            err_set(&e, rc, "%s", ge.msg);
        int got = rc == 0;
        if (rc == 0)
            rc = db_begin(inst->db, &e);
        if (rc == 0) {
            rc = eligibilities_delete(inst->db, el.id, &e);
            rc = db_commit_if(inst->db, rc, &e);
        }
        if (rc == 0)
            printf("deleted eligibility %s (%s at %s)\n", el.id, d.label, c.label);
        if (got)
            eligibility_clear(&el);
        test_center_clear(&c);
        delivery_clear(&d);
    }
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}

int cmd_eligibilities(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"set", set_cmd, "create an eligibility or replace its test takers"},
        {"list", list_cmd, "list eligibilities with their test takers"},
        {"delete", delete_cmd, "delete an eligibility"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
