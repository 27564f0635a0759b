/*
 * cmd_testcenters.c - `outpost testcenters add|list|update|assign|unassign|delete`: the test
 * centers of a central server, their organisation ids, sub-centers and staff (administrators and
 * proctors). A CENTER argument is an id or a label; a label several centers share is refused
 * with their ids. Devices receive test centers by sync, so these commands run on central only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/testcenters.h"
#include "base/buf.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/table.h"

/* Puts in `id` the id of the center `parent` names (an id or a label); messages name
 * --parent. */
static int find_parent(struct instance *inst, const char *parent, char id[UUID_STR_LEN],
                       struct op_err *e)
{
    struct test_center pc;
    int rc = app_testcenters_find(inst, parent, &pc, e);
    if (rc != 0) {
        err_prefix(e, "--parent");
        return rc;
    }
    memcpy(id, pc.id, UUID_STR_LEN);
    test_center_clear(&pc);
    return 0;
}

static void note_shared_label(int n, const char *label)
{
    if (n > 1)
        fprintf(stderr,
                "outpost: note: %d test centers are now labelled \"%s\"; commands will need the "
                "id to tell them apart\n",
                n, label);
}

/* ---- testcenters add ---- */

static const struct command_usage add_usage = {
    "outpost testcenters add --label LABEL --org ORG [--parent CENTER]",
    "Adds a test center and prints its id. ORG is the organisation id: the scope an offline\n"
    "device synchronises (several centers may share one). --parent makes it a sub-center of\n"
    "CENTER (an id or a label).",
};

static int add_cmd(int argc, char **argv)
{
    const char *label = NULL, *org = NULL, *parent = NULL;
    const struct cli_option opts[] = {
        OPT_STRING(0, "label", &label, "LABEL", "the center's label (required)"),
        OPT_STRING(0, "org", &org, "ORG", "its organisation id (required)"),
        OPT_STRING(0, "parent", &parent, "CENTER", "the center it belongs to (id or label)"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &add_usage, 0, NULL, &status) != 0)
        return status;
    if (!label || !org)
        return options_usage_error(&add_usage, "--label and --org are required");
    struct cli_run run;
    if (cli_open_central(&run, "testcenters add") != 0)
        return run.status;
    char parent_id[UUID_STR_LEN] = "";
    struct test_center c;
    memset(&c, 0, sizeof c);
    int nsame = 0;
    int rc = parent ? find_parent(run.inst, parent, parent_id, &run.e) : 0;
    if (rc == 0) {
        const struct app_center_new in = {label, org, parent_id};
        rc = app_testcenters_add(run.inst, &in, &c, &nsame, &run.e);
    }
    if (rc == 0) {
        printf("%s\n", c.id);
        note_shared_label(nsame, label);
    }
    test_center_clear(&c);
    return cli_end(&run, rc);
}

/* ---- testcenters list ---- */

static const struct command_usage list_usage = {
    "outpost testcenters list [--json]",
    "Lists test centers ordered by label. --json prints one array of objects with the fields\n"
    "id, label, org_id, parent_id (null for a top-level center), admins and proctors (arrays\n"
    "of logins) and version.",
};

/* "a, b", or "-" for none; the caller frees. */
static char *join_logins(const struct idlist *l)
{
    struct buf b = BUF_INIT;
    for (int i = 0; i < l->n; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", l->v[i]);
    if (!l->n)
        buf_printf(&b, "-");
    return buf_detach(&b);
}

static int list_one(const struct app_center *ac, void *ctx)
{
    struct cli_list *out = ctx;
    if (out->arr) {
        json_array_append_new(out->arr, app_center_json(ac));
        return 0;
    }
    const struct test_center *c = &ac->center;
    char *a = join_logins(&ac->admins), *p = join_logins(&ac->proctors);
    cli_table_add(out->table, c->id, c->label, c->org_id, ac->parent_label ? ac->parent_label : "-",
                  a, p);
    free(a);
    free(p);
    return 0;
}

static int list_rows(struct instance *inst, struct cli_list *out, struct op_err *e)
{
    return app_testcenters_list(inst, list_one, out, e);
}

static int list_cmd(int argc, char **argv)
{
    static const char *const columns[] = {
        "ID", "LABEL", "ORGANISATION", "PARENT", "ADMINISTRATORS", "PROCTORS", NULL};
    return cli_list_command(argc, argv, &list_usage, "testcenters list", columns, list_rows);
}

/* ---- testcenters update ---- */

static const struct command_usage update_usage = {
    "outpost testcenters update CENTER [--label LABEL] [--org ORG] [--parent CENTER|--no-parent]\n"
    "                           [--if-version N] [--json]",
    "Changes the label, the organisation id or the parent of CENTER (an id or a label) and\n"
    "prints what changed. A new organisation moves the center, its eligibilities, their\n"
    "deliveries and test takers, and its staff to that organisation's devices. A parent that\n"
    "would make a cycle is refused. Values equal to the current ones change nothing. --json\n"
    "prints the center as `testcenters list --json` does. --if-version N refuses the change if\n"
    "the center is no longer at version N (as `testcenters list --json` showed it), so that\n"
    "two administrators editing it at once never silently overwrite each other.",
};

/* "\"label\"" of the parent of `c`, else its id, or "none"; the caller frees. */
static char *parent_text(const struct app_center *c)
{
    struct buf b = BUF_INIT;
    if (c->parent_label)
        buf_printf(&b, "\"%s\"", c->parent_label);
    else
        buf_printf(&b, "%s", c->center.parent_id[0] ? c->center.parent_id : "none");
    return buf_detach(&b);
}

/* Prints, one line each, the properties that differ between `old` and `now`. */
static void print_changes(const struct app_center *old_c, const struct app_center *now_c)
{
    const struct test_center *old = &old_c->center, *now = &now_c->center;
    printf("updated test center \"%s\" (%s), version %lld\n", now->label, now->id,
           (long long)now->version);
    if (strcmp(old->label, now->label) != 0)
        printf("  label: \"%s\" -> \"%s\"\n", old->label, now->label);
    if (strcmp(old->org_id, now->org_id) != 0)
        printf("  organisation: %s -> %s (with its eligibilities, their deliveries and test "
               "takers, and its staff)\n",
               old->org_id, now->org_id);
    if (strcmp(old->parent_id, now->parent_id) != 0) {
        char *from = parent_text(old_c), *to = parent_text(now_c);
        printf("  parent: %s -> %s\n", from, to);
        free(from);
        free(to);
    }
}

static int update_cmd(int argc, char **argv)
{
    const char *label = NULL, *org = NULL, *parent = NULL;
    int no_parent = 0, json = 0, if_version = 0;
    const struct cli_option opts[] = {
        OPT_STRING(0, "label", &label, "LABEL", "the new label"),
        OPT_STRING(0, "org", &org, "ORG", "the new organisation id"),
        OPT_STRING(0, "parent", &parent, "CENTER", "the new parent (id or label)"),
        OPT_FLAG(0, "no-parent", &no_parent, "make it a top-level center"),
        OPT_INT(0, "if-version", &if_version, "N", "only if the center is still at version N"),
        OPT_FLAG(0, "json", &json, "print the center as JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &update_usage, 1,
                            "give one CENTER (an id or a label)", &status) != 0)
        return status;
    if (parent && no_parent)
        return options_usage_error(&update_usage, "give --parent or --no-parent, not both");
    if (!label && !org && !parent && !no_parent)
        return options_usage_error(&update_usage,
                                   "nothing to change: give --label, --org, --parent or "
                                   "--no-parent");
    struct cli_run run;
    if (cli_open_central(&run, "testcenters update") != 0)
        return run.status;
    struct test_center c;
    struct app_center_update up;
    memset(&up, 0, sizeof up);
    char parent_id[UUID_STR_LEN] = "";
    int rc = app_testcenters_find(run.inst, argv[0], &c, &run.e);
    if (rc == 0 && parent)
        rc = find_parent(run.inst, parent, parent_id, &run.e);
    if (rc == 0) {
        const struct test_center_changes ch = {label, org, parent || no_parent ? parent_id : NULL};
        rc = app_testcenters_update(run.inst, c.id, if_version > 0 ? if_version : c.version, &ch,
                                    &up, &run.e);
    }
    if (rc == 0 && json)
        cli_print_json(app_center_json(&up.after));
    else if (rc == 0 && up.changed)
        print_changes(&up.before, &up.after);
    else if (rc == 0)
        printf("test center \"%s\" (%s) already has that label, organisation and parent; "
               "nothing changed\n",
               c.label, c.id);
    if (rc == 0 && up.changed)
        note_shared_label(up.same_label, label);
    test_center_clear(&c);
    app_center_update_clear(&up);
    return cli_end(&run, rc);
}

/* ---- testcenters assign / unassign ---- */

static const struct command_usage assign_usage = {
    "outpost testcenters assign CENTER --admin LOGIN | --proctor LOGIN",
    "Makes LOGIN an administrator (a test-center-admin user) or a proctor (a proctor user) of\n"
    "CENTER (an id or a label). Assigning someone already assigned changes nothing.",
};

static const struct command_usage unassign_usage = {
    "outpost testcenters unassign CENTER --admin LOGIN | --proctor LOGIN",
    "Removes LOGIN from the administrators or the proctors of CENTER (an id or a label).",
};

/* The shared body of assign and unassign. */
static int staff_cmd(int argc, char **argv, int assign)
{
    const struct command_usage *usage = assign ? &assign_usage : &unassign_usage;
    const char *admin = NULL, *proctor = NULL;
    const struct cli_option opts[] = {
        OPT_STRING(0, "admin", &admin, "LOGIN", "a test-center-admin user"),
        OPT_STRING(0, "proctor", &proctor, "LOGIN", "a proctor user"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, usage, 1, "give one CENTER (an id or a label)",
                            &status) != 0)
        return status;
    if (!admin == !proctor)
        return options_usage_error(usage, "give either --admin LOGIN or --proctor LOGIN");
    const char *login = admin ? admin : proctor;
    const char *duty = admin ? CENTER_DUTY_ADMIN : CENTER_DUTY_PROCTOR;
    const char *noun = admin ? "an administrator" : "a proctor";
    struct cli_run run;
    if (cli_open_central(&run, assign ? "testcenters assign" : "testcenters unassign") != 0)
        return run.status;
    struct test_center c;
    int changed = 0;
    int rc = app_testcenters_find(run.inst, argv[0], &c, &run.e);
    if (rc == 0 && assign)
        rc = app_testcenters_assign(run.inst, c.id, login, duty, &changed, &run.e);
    else if (rc == 0)
        rc = app_testcenters_unassign(run.inst, c.id, login, duty, &run.e);
    if (rc == 0 && assign)
        printf("%s %s %s of %s\n", login, changed ? "is now" : "was already", noun, c.label);
    else if (rc == 0)
        printf("%s is no longer %s of %s\n", login, noun, c.label);
    test_center_clear(&c);
    return cli_end(&run, rc);
}

static int assign_cmd(int argc, char **argv)
{
    return staff_cmd(argc, argv, 1);
}

static int unassign_cmd(int argc, char **argv)
{
    return staff_cmd(argc, argv, 0);
}

/* ---- testcenters delete ---- */

static const struct command_usage delete_usage = {
    "outpost testcenters delete CENTER",
    "Deletes a test center (an id or a label) with its eligibilities and staff assignments;\n"
    "devices delete them at their next sync. A center with sub-centers is not deleted: delete\n"
    "or move its sub-centers first.",
};

static int delete_cmd(int argc, char **argv)
{
    const struct cli_option opts[] = {OPT_END()};
    int status;
    if (options_parse_exact(argc, argv, opts, &delete_usage, 1,
                            "give one CENTER (an id or a label)", &status) != 0)
        return status;
    struct cli_run run;
    if (cli_open_central(&run, "testcenters delete") != 0)
        return run.status;
    struct test_center c;
    int rc = app_testcenters_find(run.inst, argv[0], &c, &run.e);
    if (rc == 0)
        rc = app_testcenters_delete(run.inst, c.id, &run.e);
    if (rc == 0)
        printf("deleted test center %s (%s)\n", c.label, c.id);
    test_center_clear(&c);
    return cli_end(&run, rc);
}

int cmd_testcenters(int argc, char **argv)
{
    static const struct subcommand subs[] = {
        {"add", add_cmd, "add a test center (prints its id)"},
        {"list", list_cmd, "list test centers with their staff"},
        {"update", update_cmd, "change a center's label, organisation or parent"},
        {"assign", assign_cmd, "make a user an administrator or a proctor of a center"},
        {"unassign", unassign_cmd, "remove an administrator or a proctor from a center"},
        {"delete", delete_cmd, "delete a test center with its eligibilities"},
        {NULL, NULL, NULL},
    };
    return cli_run_subcommand(argc, argv, subs);
}
