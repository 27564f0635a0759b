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

struct columns {
    int label, org, parent, admins, proctors; /* -1 when absent */
};

/* What pass 1 found out about a row. */
struct plan {
    int bad;                     /* the row has a problem: not applied (first: batch_plans) */
    int parent_row;              /* row index of an earlier row the Parent names, or -1 */
    char existing[UUID_STR_LEN]; /* the center this row updates; "" for a new one */
    struct idlist admins;        /* user ids */
    struct idlist proctors;
};
_Static_assert(offsetof(struct plan, bad) == 0, "struct batch_plans reads `bad` first");

/* Frees what one row's plan owns (struct batch_plans calls it). */
static void clear_row(void *row)
{
    struct plan *pl = row;
    idlist_free(&pl->admins);
    idlist_free(&pl->proctors);
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
    pl->bad = p->count > before;
    return rc;
}

/* Pass 2 for one row, inside its savepoint. */
static int apply_row(struct db *db, const struct csv_table *t, const struct columns *col, int i,
                     const struct plan *pl, enum batch_outcome *outcome, struct op_err *e)
{
    const struct csv_row *row = &t->rows[i];
    const char *parent = csv_table_field(row, col->parent);
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
            .parent_id = col->parent >= 0 ? parent_id : NULL,
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
    static const char *const known[] = {COL_LABEL,  COL_ORG,      COL_PARENT,
                                        COL_ADMINS, COL_PROCTORS, NULL};
    int n = t->nrows;
    struct plans *ps = NULL;
    int rc = batch_plans_start(t, required, known, sizeof *ps, sizeof *ps->v, clear_row, out, e);
    ps = *out;
    ps->v = ps->b.rows;
    if (rc != 0)
        return rc;
    ps->col = (struct columns){batch_column(t, COL_LABEL), batch_column(t, COL_ORG),
                               batch_column(t, COL_PARENT), batch_column(t, COL_ADMINS),
                               batch_column(t, COL_PROCTORS)};
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
        import_problems_add(
            p, t->rows[i].line, "Parent \"%s\" is the test center on line %d, which has problems",
            csv_table_field(&t->rows[i], ps->col.parent), t->rows[pl->parent_row].line);
        pl->bad = 1;
        return 0;
    }
    return 1;
}

static int apply(struct db *db, const struct csv_table *t, void *plan, int i,
                 enum batch_outcome *outcome, struct op_err *e)
{
    struct plans *ps = plan;
    return apply_row(db, t, &ps->col, i, &ps->v[i], outcome, e);
}

const struct batch_kind testcenters_import = {
    check, ready, apply, batch_plans_is_bad, batch_plans_set_bad, batch_plans_free};
