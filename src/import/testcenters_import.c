/*
 * testcenters_import.c - test centers from CSV (see testcenters_import.h; the two passes are
 * described in batch.h).
 */
#include "import/testcenters_import.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/idlist.h"
#include "store/testcenters.h"
#include "store/users.h"

#define COL_LABEL    "Label"
#define COL_ORG      "Organisation Id|Organization Id"
#define COL_PARENT   "Parent"
#define COL_ADMINS   "Administrators"
#define COL_PROCTORS "Proctors"
/* TAO's column (taoTestCenter's importer): the labels of the centers this row's center is the
 * parent of, the other way round from Parent */
#define COL_SUBS "Sub Centers|Sub Centres|Subcenters"

struct columns {
    int label, org, parent, admins, proctors, subs; /* -1 when absent */
};

/* What pass 1 found out about a row. */
struct plan {
    int bad;                     /* the row has a problem: not applied (first: batch_plans) */
    int parent_row;              /* row index of an earlier row the Parent names, or -1 */
    char existing[UUID_STR_LEN]; /* the center this row updates; "" for a new one */
    struct idlist admins;        /* user ids */
    struct idlist proctors;
    /* Sub Centers: the row whose Sub Centers list this row's center (-1: none); and the
     * centers this row adopts once written: those of the database (ids) and of earlier rows
     * (row indexes), whose parent becomes this row's center */
    int sub_of;
    struct idlist adopt;
    int *adopt_rows;
    int nadopt_rows;
};
_Static_assert(offsetof(struct plan, bad) == 0, "struct batch_plans reads `bad` first");

/* Frees what one row's plan owns (struct batch_plans calls it). */
static void clear_row(void *row)
{
    struct plan *pl = row;
    idlist_free(&pl->admins);
    idlist_free(&pl->proctors);
    idlist_free(&pl->adopt);
    free(pl->adopt_rows);
}

/* Rows sorted by label, to find the row a Parent names without a quadratic scan. */
struct label_row {
    const char *label;
    int row;
};

static int by_label(const void *a, const void *b)
{
    const struct label_row *x = a, *y = b;
    int c = strcmp(x->label, y->label);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* The first row labelled `label`, or -1. */
static int row_of_label(const struct label_row *v, int n, const char *label)
{
    int lo = 0, hi = n;
    while (lo < hi) { /* first entry >= label */
        int mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid].label, label) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(v[lo].label, label) == 0 ? v[lo].row : -1;
}

/* Pass 1 for one row: everything that can be checked without writing. */
static int check_row(struct db *db, const struct csv_table *t, const struct columns *col, int i,
                     const int *first_of, const struct label_row *sorted, int nsorted,
                     struct plan *plans, struct import_problems *p, struct op_err *e)
{
    const struct csv_row *row = &t->rows[i];
    struct plan *pl = &plans[i];
    int line = row->line;
    int before = p->count;
    const char *label = csv_table_field(row, col->label);
    const char *org = csv_table_field(row, col->org);
    struct op_err ce = {0};
    int label_ok = 0;
    pl->parent_row = -1;

    if (!label[0])
        import_problems_add(p, line, "missing Label");
    else if (testcenters_check_label(label, &ce) != 0)
        import_problems_add(p, line, "Label: %s", ce.msg);
    else
        label_ok = 1;
    if (!org[0])
        import_problems_add(p, line, "missing Organisation Id");
    else if (testcenters_check_org(org, &ce) != 0)
        import_problems_add(p, line, "Organisation Id: %s", ce.msg);
    if (first_of[i] >= 0)
        import_problems_add(p, line, "test center \"%s\" is already on line %d", label,
                            t->rows[first_of[i]].line);

    if (label_ok && first_of[i] < 0) {
        struct idlist same = IDLIST_INIT;
        int rc = idlist_collect(db, "SELECT id FROM test_centers WHERE label = ?1 ORDER BY id",
                                label, &same, "reading test centers", e);
        if (rc != 0)
            return rc;
        if (same.n == 1)
            memcpy(pl->existing, same.v[0], UUID_STR_LEN);
        else if (same.n > 1)
            import_problems_add(p, line,
                                "%d test centers are labelled \"%s\"; the import finds centers by "
                                "label, so give them different labels first",
                                same.n, label);
        idlist_free(&same);
    }

    const char *parent = csv_table_field(row, col->parent);
    if (!parent[0] && pl->sub_of >= 0 && pl->sub_of < i) {
        /* listed in the Sub Centers of an earlier row: that row's center is the parent */
        pl->parent_row = pl->sub_of;
        if (plans[pl->sub_of].bad)
            import_problems_add(p, line,
                                "listed in Sub Centers on line %d, a test center which has "
                                "problems",
                                t->rows[pl->sub_of].line);
    }
    if (parent[0]) {
        int j = row_of_label(sorted, nsorted, parent);
        if (strcmp(parent, label) == 0) {
            import_problems_add(p, line, "a test center cannot be its own parent");
        } else if (j >= 0 && j < i) {
            pl->parent_row = j;
            if (plans[j].bad)
                import_problems_add(p, line,
                                    "Parent \"%s\" is the test center on line %d, which "
                                    "has problems",
                                    parent, t->rows[j].line);
        } else {
            struct test_center pc;
            struct op_err fe = {0};
            int rc = testcenters_find(db, parent, &pc, &fe);
            if (rc == 0)
                test_center_clear(&pc);
            else if (rc == OP_ENOTFOUND && j > i)
                import_problems_add(p, line,
                                    "Parent \"%s\" is on line %d, after this one; list a parent "
                                    "before its sub-centers",
                                    parent, t->rows[j].line);
            else if (rc == OP_ENOTFOUND || rc == OP_EINPUT)
                import_problems_add(p, line, "Parent: %s", fe.msg);
            else
                return err_set(e, rc, "%s", fe.msg);
        }
    }

    int rc = batch_resolve_logins(db, csv_table_field(row, col->admins), "Administrators",
                                  ROLE_TEST_CENTER_ADMIN, line, p, &pl->admins, e);
    if (rc == 0)
        rc = batch_resolve_logins(db, csv_table_field(row, col->proctors), "Proctors", ROLE_PROCTOR,
                                  line, p, &pl->proctors, e);
    pl->bad |= p->count > before;
    return rc;
}

/* Splits a cell of labels at '|' (TAO's separator) and ';' (labels may hold spaces), each
 * trimmed, the empty ones left out; a NULL-terminated array freed with batch_free_names. */
static char **split_labels(const char *cell, int *n)
{
    char **v = calloc(strlen(cell) / 2 + 2, sizeof *v);
    if (!v)
        abort();
    *n = 0;
    const char *p = cell;
    while (*p) {
        size_t len = strcspn(p, "|;");
        const char *a = p, *b = p + len;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a && !(v[(*n)++] = strndup(a, (size_t)(b - a))))
            abort();
        p += len;
        if (*p)
            p++;
    }
    return v;
}

/* The Sub Centers of every row, before the rows are checked: each name is a row of the file
 * (that row's center gets this row's center as parent; a row the Sub Centers of two rows
 * name, or whose own Parent says otherwise, is a problem) or a center of the database (adopted
 * when this row is written). Problems are the listing row's. */
static int plan_sub_centers(struct db *db, const struct csv_table *t, const struct columns *col,
                            const struct label_row *sorted, int nsorted, struct plan *plans,
                            struct import_problems *p, struct op_err *e)
{
    for (int i = 0; i < t->nrows; i++)
        plans[i].sub_of = -1;
    if (col->subs < 0)
        return 0;
    for (int i = 0; i < t->nrows; i++) {
        const struct csv_row *row = &t->rows[i];
        const char *label = csv_table_field(row, col->label);
        int n = 0, before = p->count;
        char **names = split_labels(csv_table_field(row, col->subs), &n);
        for (int k = 0; k < n; k++) {
            const char *sub = names[k];
            int j = row_of_label(sorted, nsorted, sub);
            if (strcmp(sub, label) == 0) {
                import_problems_add(p, row->line,
                                    "Sub Centers: a test center cannot be its own sub-center");
            } else if (j >= 0) {
                const char *own = csv_table_field(&t->rows[j], col->parent);
                if (plans[j].sub_of >= 0 && plans[j].sub_of != i)
                    import_problems_add(p, row->line,
                                        "Sub Centers: \"%s\" is already a sub-center of \"%s\" "
                                        "(line %d)",
                                        sub, csv_table_field(&t->rows[plans[j].sub_of], col->label),
                                        t->rows[plans[j].sub_of].line);
                else if (own[0] && strcmp(own, label) != 0)
                    import_problems_add(p, row->line,
                                        "Sub Centers: \"%s\" names another parent, \"%s\", on "
                                        "line %d",
                                        sub, own, t->rows[j].line);
                else {
                    plans[j].sub_of = i;
                    if (j < i) {
                        int *v = realloc(plans[i].adopt_rows,
                                         sizeof *v * (size_t)(plans[i].nadopt_rows + 1));
                        if (!v)
                            abort();
                        v[plans[i].nadopt_rows++] = j;
                        plans[i].adopt_rows = v;
                    }
                }
            } else {
                struct test_center c;
                struct op_err fe = {0};
                int rc = testcenters_find(db, sub, &c, &fe);
                if (rc == 0) {
                    idlist_add(&plans[i].adopt, c.id);
                    test_center_clear(&c);
                } else if (rc == OP_ENOTFOUND || rc == OP_EINPUT) {
                    import_problems_add(p, row->line, "Sub Centers: %s", fe.msg);
                } else {
                    batch_free_names(names);
                    return err_set(e, rc, "%s", fe.msg);
                }
            }
        }
        batch_free_names(names);
        plans[i].bad = p->count > before;
    }
    return 0;
}

/* Makes the center `child` (an id or label) a sub-center of `parent_id`; *changed is set when
 * its parent was another. */
static int adopt(struct db *db, const char *parent_id, const char *child, int *changed,
                 struct op_err *e)
{
    struct test_center c;
    int rc = testcenters_find(db, child, &c, e);
    if (rc != 0)
        return err_prefix(e, "Sub Centers");
    if (strcmp(c.parent_id, parent_id) != 0) {
        struct test_center_changes ch = {.parent_id = parent_id};
        int ch_changed = 0;
        rc = testcenters_update(db, c.id, c.version, &ch, &ch_changed, e);
        *changed |= ch_changed;
    }
    test_center_clear(&c);
    return rc;
}

/* Pass 2 for one row, inside its savepoint. */
static int apply_row(struct db *db, const struct csv_table *t, const struct columns *col, int i,
                     const struct plan *plans, enum batch_outcome *outcome, struct op_err *e)
{
    const struct plan *pl = &plans[i];
    const struct csv_row *row = &t->rows[i];
    const char *parent = csv_table_field(row, col->parent);
    /* a row listed in an earlier row's Sub Centers has that row's center as parent */
    int set_parent = col->parent >= 0;
    if (!parent[0] && pl->sub_of >= 0 && pl->sub_of < i) {
        parent = csv_table_field(&t->rows[pl->sub_of], col->label);
        set_parent = 1;
    }
    char parent_id[UUID_STR_LEN] = "";
    int rc = 0;
    if (parent[0]) {
        struct test_center pc;
        if (testcenters_find(db, parent, &pc, e) != 0)
            return err_prefix(e, "Parent");
        memcpy(parent_id, pc.id, UUID_STR_LEN);
        test_center_clear(&pc);
    }
    struct test_center c;
    int changed = 0;
    if (pl->existing[0]) {
        if ((rc = testcenters_get(db, pl->existing, &c, e)) != 0)
            return rc;
        struct test_center_changes ch = {
            .org_id = csv_table_field(row, col->org),
            .parent_id = set_parent ? parent_id : NULL,
        };
        rc = testcenters_update(db, c.id, c.version, &ch, &changed, e);
    } else {
        memset(&c, 0, sizeof c);
        c.label = strdup(csv_table_field(row, col->label));
        c.org_id = strdup(csv_table_field(row, col->org));
        if (!c.label || !c.org_id)
            abort();
        memcpy(c.parent_id, parent_id, UUID_STR_LEN);
        rc = testcenters_insert(db, &c, e);
    }
    int staff_changed = 0;
    if (rc == 0 && col->admins >= 0)
        rc = testcenters_set_staff(db, c.id, CENTER_DUTY_ADMIN, (const char *const *)pl->admins.v,
                                   pl->admins.n, &staff_changed, e);
    changed |= staff_changed;
    if (rc == 0 && col->proctors >= 0)
        rc = testcenters_set_staff(db, c.id, CENTER_DUTY_PROCTOR,
                                   (const char *const *)pl->proctors.v, pl->proctors.n,
                                   &staff_changed, e);
    changed |= staff_changed;
    /* its Sub Centers written before it (earlier rows, the database's) become its children */
    for (int k = 0; rc == 0 && k < pl->nadopt_rows; k++) {
        int j = pl->adopt_rows[k];
        if (plans[j].bad)
            continue;
        rc = adopt(db, c.id, csv_table_field(&t->rows[j], col->label), &changed, e);
    }
    for (int k = 0; rc == 0 && k < pl->adopt.n; k++)
        rc = adopt(db, c.id, pl->adopt.v[k], &changed, e);
    *outcome = !pl->existing[0] ? BATCH_CREATED : changed ? BATCH_UPDATED : BATCH_UNCHANGED;
    test_center_clear(&c);
    return rc;
}

/* ---- the kind, as app/imports.c runs it ---- */

/* Every row's plan and the columns: the driver's `plan`. */
struct plans {
    struct batch_plans b; /* first: the rows, their bad flags */
    struct columns col;
    struct plan *v; /* b.rows */
};

static int check(struct db *db, const struct csv_table *t, struct import_problems *p, void **out,
                 struct op_err *e)
{
    static const char *const required[] = {COL_LABEL, COL_ORG, NULL};
    static const char *const known[] = {COL_LABEL,    COL_ORG,  COL_PARENT, COL_ADMINS,
                                        COL_PROCTORS, COL_SUBS, NULL};
    int n = t->nrows;
    struct plans *ps = NULL;
    int rc = batch_plans_start(t, required, known, sizeof *ps, sizeof *ps->v, clear_row, out, e);
    ps = *out;
    ps->v = ps->b.rows;
    if (rc != 0)
        return rc;
    ps->col = (struct columns){batch_column(t, COL_LABEL),    batch_column(t, COL_ORG),
                               batch_column(t, COL_PARENT),   batch_column(t, COL_ADMINS),
                               batch_column(t, COL_PROCTORS), batch_column(t, COL_SUBS)};
    const char **labels = calloc((size_t)n + 1, sizeof *labels);
    int *first_of = calloc((size_t)n + 1, sizeof *first_of);
    struct label_row *sorted = calloc((size_t)n + 1, sizeof *sorted);
    if (!labels || !first_of || !sorted)
        abort();
    int nsorted = 0;
    for (int i = 0; i < n; i++) {
        const char *label = csv_table_field(&t->rows[i], ps->col.label);
        labels[i] = label[0] ? label : NULL;
        if (label[0])
            sorted[nsorted++] = (struct label_row){label, i};
    }
    qsort(sorted, (size_t)nsorted, sizeof *sorted, by_label);
    batch_find_duplicates(labels, n, first_of);
    rc = plan_sub_centers(db, t, &ps->col, sorted, nsorted, ps->v, p, e);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = check_row(db, t, &ps->col, i, first_of, sorted, nsorted, ps->v, p, e);
    free(labels);
    free(first_of);
    free(sorted);
    return rc;
}

/* A row whose Parent is a row that had a problem is left out too. */
static int ready(void *plan, const struct csv_table *t, int i, struct import_problems *p)
{
    struct plans *ps = plan;
    struct plan *pl = &ps->v[i];
    if (pl->bad)
        return 0;
    if (pl->parent_row >= 0 && ps->v[pl->parent_row].bad) {
        const char *parent = csv_table_field(&t->rows[i], ps->col.parent);
        if (parent[0])
            import_problems_add(p, t->rows[i].line,
                                "Parent \"%s\" is the test center on line %d, which has problems",
                                parent, t->rows[pl->parent_row].line);
        else
            import_problems_add(p, t->rows[i].line,
                                "listed in Sub Centers on line %d, a test center which has "
                                "problems",
                                t->rows[pl->parent_row].line);
        pl->bad = 1;
        return 0;
    }
    return 1;
}

static int apply(struct db *db, const struct csv_table *t, void *plan, int i,
                 enum batch_outcome *outcome, struct op_err *e)
{
    struct plans *ps = plan;
    return apply_row(db, t, &ps->col, i, ps->v, outcome, e);
}

const struct batch_kind testcenters_import = {
    check, ready, apply, batch_plans_is_bad, batch_plans_set_bad, batch_plans_free};
