/*
 * cmd_testcenters.c - `outpost testcenters add|list|update|assign|unassign|delete`: the test
 * centers of a central server, their organisation ids, sub-centers and staff (administrators and
 * proctors). A CENTER argument is an id or a label; a label several centers share is refused
 * with their ids. Devices receive test centers by sync, so these commands run on central only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/table.h"
#include "base/buf.h"
#include "cli/commands.h"
#include "store/idlist.h"
#include "store/testcenters.h"
#include "store/users.h"

/* Puts in `id` the id of the center `parent` names (an id or a label); messages name
 * --parent. */
static int find_parent(struct db *db, const char *parent, char id[UUID_STR_LEN], struct op_err *e)
{
    struct test_center pc;
    int rc = testcenters_find(db, parent, &pc, e);
    if (rc != 0) {
        err_prefix(e, "--parent");
        return rc;
    }
    memcpy(id, pc.id, UUID_STR_LEN);
    test_center_clear(&pc);
    return 0;
}

/* How many centers are labelled `label`, counted inside the write's transaction so that
 * note_shared_label can warn when a label has just become ambiguous. */
static int count_labelled(struct db *db, const char *label, int *n, struct op_err *e)
{
    struct idlist same = IDLIST_INIT;
    int rc = idlist_collect(db, "SELECT id FROM test_centers WHERE label = ?1", label, &same,
                            "reading test centers", e);
    *n = same.n;
    idlist_free(&same);
    return rc;
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
    const struct option opts[] = {
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
    struct instance *inst;
    if ((status = cli_open_central("testcenters add", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct test_center c;
    memset(&c, 0, sizeof c);
    c.label = (char *)label;
    c.org_id = (char *)org;
    int nsame = 0;
    int rc = parent ? find_parent(inst->db, parent, c.parent_id, &e) : 0;
    if (rc == 0)
        rc = db_begin(inst->db, &e);
    if (rc == 0) {
        rc = testcenters_insert(inst->db, &c, &e);
        if (rc == 0)
            rc = count_labelled(inst->db, label, &nsame, &e);
        rc = db_commit_if(inst->db, rc, &e);
    }
    if (rc == 0) {
        printf("%s\n", c.id);
        note_shared_label(nsame, label);
    }
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}

/* ---- testcenters list ---- */

static const struct command_usage list_usage = {
    "outpost testcenters list [--json]",
    "Lists test centers ordered by label. --json prints one array of objects with the fields\n"
    "id, label, org_id, parent_id (null for a top-level center), admins and proctors (arrays\n"
    "of logins) and version.",
};

static int append_login(const char *login, void *ctx)
{
    json_array_append_new(ctx, json_string(login));
    return 0;
}

struct list_ctx {
    struct db *db;
    struct cli_list out;
    struct op_err *e;
};

/* "a, b" from a JSON array of strings; the caller frees. */
static char *join_logins(json_t *arr)
{
    size_t i, len = 1;
    json_t *v;
    json_array_foreach(arr, i, v) len += strlen(json_string_value(v)) + 2;
    char *s = calloc(1, len);
    if (!s)
        abort();
    json_array_foreach(arr, i, v)
    {
        if (i)
            strcat(s, ", ");
        strcat(s, json_string_value(v));
    }
    return s;
}

/* The center as `list --json` prints it; the caller owns the object. NULL on a database
 * error (in *e). */
static json_t *center_json(struct db *db, const struct test_center *c, struct op_err *e)
{
    json_t *admins = json_array(), *proctors = json_array();
    int rc = testcenters_staff_each(db, c->id, CENTER_DUTY_ADMIN, append_login, admins, e);
    if (rc == 0)
        rc = testcenters_staff_each(db, c->id, CENTER_DUTY_PROCTOR, append_login, proctors, e);
    if (rc != 0) {
        json_decref(admins);
        json_decref(proctors);
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(c->id));
    json_object_set_new(o, "label", json_string(c->label));
    json_object_set_new(o, "org_id", json_string(c->org_id));
    json_object_set_new(o, "parent_id", c->parent_id[0] ? json_string(c->parent_id) : json_null());
    json_object_set_new(o, "admins", admins);
    json_object_set_new(o, "proctors", proctors);
    json_object_set_new(o, "version", json_integer(c->version));
    return o;
}

/* The label of center `id`, or NULL for "" or an unreadable center; the caller frees. */
static char *label_of(struct db *db, const char *id)
{
    if (!id[0])
        return NULL;
    struct op_err ignore = {0};
    struct test_center pc;
    if (testcenters_get(db, id, &pc, &ignore) != 0)
        return NULL;
    char *label = pc.label;
    pc.label = NULL;
    test_center_clear(&pc);
    return label;
}

static int list_one(const struct test_center *c, void *vctx)
{
    struct list_ctx *ctx = vctx;
    json_t *o = center_json(ctx->db, c, ctx->e);
    if (!o)
        return ctx->e->code ? ctx->e->code : OP_EDB;
    if (ctx->out.arr) {
        json_array_append_new(ctx->out.arr, o);
        return 0;
    }
    char *parent = label_of(ctx->db, c->parent_id);
    char *a = join_logins(json_object_get(o, "admins"));
    char *p = join_logins(json_object_get(o, "proctors"));
    cli_table_add(ctx->out.table, c->id, c->label, c->org_id, parent ? parent : "-", a[0] ? a : "-",
                  p[0] ? p : "-");
    free(parent);
    free(a);
    free(p);
    json_decref(o);
    return 0;
}

static int list_cmd(int argc, char **argv)
{
    int json = 0;
    const struct option opts[] = {
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &list_usage, 0, NULL, &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_central("testcenters list", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct list_ctx ctx = {
        inst->db,
        CLI_LIST(json, "ID", "LABEL", "ORGANISATION", "PARENT", "ADMINISTRATORS", "PROCTORS"), &e};
    int rc = testcenters_each(inst->db, list_one, &ctx, &e);
    cli_list_print(&ctx.out, rc);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
}

/* ---- testcenters update ---- */

static const struct command_usage update_usage = {
    "outpost testcenters update CENTER [--label LABEL] [--org ORG] [--parent CENTER|--no-parent]\n"
    "                           [--json]",
    "Changes the label, the organisation id or the parent of CENTER (an id or a label) and\n"
    "prints what changed. A new organisation moves the center, its eligibilities, their\n"
    "deliveries and test takers, and its staff to that organisation's devices. A parent that\n"
    "would make a cycle is refused. Values equal to the current ones change nothing. --json\n"
    "prints the center as `testcenters list --json` does.",
};

/* "\"label\"" of center `id`, or "none"; the caller frees. */
static char *parent_text(struct db *db, const char *id)
{
    char *label = label_of(db, id);
    struct buf b = BUF_INIT;
    if (label)
        buf_printf(&b, "\"%s\"", label);
    else
        buf_printf(&b, "%s", id[0] ? id : "none");
    free(label);
    return buf_detach(&b);
}

/* Prints, one line each, the properties that differ between `old` and `now`. */
static void print_changes(struct db *db, const struct test_center *old,
                          const struct test_center *now)
{
    printf("updated test center \"%s\" (%s), version %lld\n", now->label, now->id,
           (long long)now->version);
    if (strcmp(old->label, now->label) != 0)
        printf("  label: \"%s\" -> \"%s\"\n", old->label, now->label);
    if (strcmp(old->org_id, now->org_id) != 0)
        printf("  organisation: %s -> %s (with its eligibilities, their deliveries and test "
               "takers, and its staff)\n",
               old->org_id, now->org_id);
    if (strcmp(old->parent_id, now->parent_id) != 0) {
        char *from = parent_text(db, old->parent_id), *to = parent_text(db, now->parent_id);
        printf("  parent: %s -> %s\n", from, to);
        free(from);
        free(to);
    }
}

static int update_cmd(int argc, char **argv)
{
    const char *label = NULL, *org = NULL, *parent = NULL;
    int no_parent = 0, json = 0;
    const struct option opts[] = {
        OPT_STRING(0, "label", &label, "LABEL", "the new label"),
        OPT_STRING(0, "org", &org, "ORG", "the new organisation id"),
        OPT_STRING(0, "parent", &parent, "CENTER", "the new parent (id or label)"),
        OPT_FLAG(0, "no-parent", &no_parent, "make it a top-level center"),
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
    struct instance *inst;
    if ((status = cli_open_central("testcenters update", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct test_center old, now;
    memset(&old, 0, sizeof old);
    memset(&now, 0, sizeof now);
    int changed = 0;
    int rc = testcenters_find(inst->db, argv[0], &old, &e);
    if (rc == 0) {
        now = old; /* borrows old's strings; only the fixed-size ids are copied */
        if (label)
            now.label = (char *)label;
        if (org)
            now.org_id = (char *)org;
        if (no_parent)
            now.parent_id[0] = '\0';
    }
    if (rc == 0 && parent)
        rc = find_parent(inst->db, parent, now.parent_id, &e);
    int nsame = 0;
    if (rc == 0)
        rc = db_begin(inst->db, &e);
    if (rc == 0) {
        rc = testcenters_update(inst->db, &now, &changed, &e);
        if (rc == 0 && label)
            rc = count_labelled(inst->db, label, &nsame, &e);
        rc = db_commit_if(inst->db, rc, &e);
    }
    json_t *doc = NULL;
    if (rc == 0 && json)
        rc = (doc = center_json(inst->db, &now, &e)) ? 0 : e.code;
    if (rc == 0 && json)
        cli_print_json(doc);
    else if (rc == 0 && changed)
        print_changes(inst->db, &old, &now);
    else if (rc == 0)
        printf("test center \"%s\" (%s) already has that label, organisation and parent; "
               "nothing changed\n",
               old.label, old.id);
    if (rc == 0 && changed)
        note_shared_label(nsame, label);
    test_center_clear(&old);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
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
    const struct option opts[] = {
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
    struct instance *inst;
    if ((status =
             cli_open_central(assign ? "testcenters assign" : "testcenters unassign", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct test_center c;
    struct user u;
    memset(&c, 0, sizeof c);
    memset(&u, 0, sizeof u);
    int changed = 0;
    int rc = testcenters_find(inst->db, argv[0], &c, &e);
    if (rc == 0)
        rc = users_get_by_login(inst->db, login, &u, &e);
    if (rc == 0)
        rc = db_begin(inst->db, &e);
    if (rc == 0) {
        if (assign)
            rc = testcenters_assign(inst->db, c.id, u.id, duty, &changed, &e);
        else
            rc = testcenters_unassign(inst->db, c.id, u.id, duty, &e);
        rc = db_commit_if(inst->db, rc, &e);
    }
    if (rc == 0 && assign)
        printf("%s %s %s of %s\n", login, changed ? "is now" : "was already", noun, c.label);
    else if (rc == 0)
        printf("%s is no longer %s of %s\n", login, noun, c.label);
    test_center_clear(&c);
    user_clear(&u);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
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
    const struct option opts[] = {OPT_END()};
    int status;
    if (options_parse_exact(argc, argv, opts, &delete_usage, 1,
                            "give one CENTER (an id or a label)", &status) != 0)
        return status;
    struct instance *inst;
    if ((status = cli_open_central("testcenters delete", &inst)) != 0)
        return status;
    struct op_err e = {0};
    struct test_center c;
    memset(&c, 0, sizeof c);
    int rc = testcenters_find(inst->db, argv[0], &c, &e);
    if (rc == 0)
        rc = db_begin(inst->db, &e);
    if (rc == 0) {
        rc = testcenters_delete(inst->db, c.id, &e);
        rc = db_commit_if(inst->db, rc, &e);
    }
    if (rc == 0)
        printf("deleted test center %s (%s)\n", c.label, c.id);
    test_center_clear(&c);
    instance_close(inst);
    return rc ? cli_fail(&e) : 0;
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
