/*
 * eligibilities_import.c - eligibilities from CSV (see eligibilities_import.h; the two passes
 * are described in batch.h).
 */
#include "import/eligibilities_import.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import/tao_uri.h"
#include "store/deliveries.h"
#include "store/eligibilities.h"
#include "store/idlist.h"
#include "store/testcenters.h"
#include "store/users.h"

#define COL_CENTER    "Test Center|Test Centre"
#define COL_DELIVERY  "Delivery"
#define COL_TAKERS    "Test Takers"
#define COL_PROCTORED "Proctored"
/* TAO's column: 1 or 0 (also yes/no, true/false), each meaning what it says */
#define COL_IS_PROCTORED "Is Proctored"

struct columns {
    int center, delivery, takers, proctored, is_proctored;
};

/* What pass 1 found out about a row. */
struct plan {
    int bad; /* first, as struct batch_plans wants */
    char center_id[UUID_STR_LEN];
    char delivery_id[UUID_STR_LEN];
    int proctored; /* 1, 0 or ELIGIBILITY_PROCTORED_KEEP */
    struct idlist takers;
    char *key; /* "center_id delivery_id" for finding repeats; NULL if either is unknown */
};
_Static_assert(offsetof(struct plan, bad) == 0, "struct batch_plans reads `bad` first");

/* Frees what one row's plan owns (struct batch_plans calls it). */
static void clear_row(void *row)
{
    struct plan *pl = row;
    idlist_free(&pl->takers);
    free(pl->key);
}

/* Resolves the Test Center cell; records a problem if it names no center or several. */
static int resolve_center(struct db *db, const char *cell, int line, struct import_problems *p,
                          char id[UUID_STR_LEN], struct op_err *e)
{
    if (!cell[0]) {
        import_problems_add(p, line, "missing Test Center");
        return 0;
    }
    struct test_center c;
    struct op_err fe = {0};
    int rc = testcenters_find(db, cell, &c, &fe);
    if (rc == 0) {
        memcpy(id, c.id, UUID_STR_LEN);
        test_center_clear(&c);
        return 0;
    }
    if (rc == OP_ENOTFOUND) {
        /* TAO's eligibility files (taoOffline) name the center by its organisation id */
        struct idlist same = IDLIST_INIT;
        struct op_err oe = {0};
        rc = testcenters_ids_of_org(db, cell, &same, &oe);
        if (rc != 0) {
            idlist_free(&same);
            return err_set(e, rc, "%s", oe.msg);
        }
        if (same.n == 1)
            memcpy(id, same.v[0], UUID_STR_LEN);
        else if (same.n > 1)
            import_problems_add(p, line,
                                "Test Center: no test center with id or label \"%s\", and %d "
                                "test centers have it as organisation id; give the id or label "
                                "of one",
                                cell, same.n);
        else if (tao_uri_is(cell))
            import_problems_add(p, line,
                                "Test Center: \"%s\" is a TAO URI, and Outpost keeps none: %s",
                                cell, tao_uri_advice(TAO_URI_TEST_CENTER));
        else
            import_problems_add(p, line, "Test Center: %s", fe.msg);
        idlist_free(&same);
        return 0;
    }
    if (rc == OP_EINPUT) {
        import_problems_add(p, line, "Test Center: %s", fe.msg);
        return 0;
    }
    return err_set(e, rc, "%s", fe.msg);
}

/* TAO's "is proctored": 1, yes or true (any case) is 1, 0, no or false is 0; else -1. */
static int parse_is_proctored(const char *s)
{
    if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0)
        return 1;
    if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0)
        return 0;
    return eligibilities_parse_proctored(s);
}

static int resolve_delivery(struct db *db, const char *cell, int line, struct import_problems *p,
                            char id[UUID_STR_LEN], struct op_err *e)
{
    if (!cell[0]) {
        import_problems_add(p, line, "missing Delivery");
        return 0;
    }
    struct delivery d;
    struct op_err fe = {0};
    int rc = deliveries_find(db, cell, &d, &fe);
    if (rc == 0) {
        memcpy(id, d.id, UUID_STR_LEN);
        delivery_clear(&d);
        return 0;
    }
    if (rc == OP_ENOTFOUND && tao_uri_is(cell)) {
        import_problems_add(p, line, "Delivery: \"%s\" is a TAO URI, and Outpost keeps none: %s",
                            cell, tao_uri_advice(TAO_URI_DELIVERY));
        return 0;
    }
    if (rc == OP_ENOTFOUND || rc == OP_EINPUT) {
        import_problems_add(p, line, "Delivery: %s", fe.msg);
        return 0;
    }
    return err_set(e, rc, "%s", fe.msg);
}

static int check_row(struct db *db, const struct csv_row *row, const struct columns *col,
                     struct plan *pl, struct import_problems *p, struct op_err *e)
{
    int line = row->line;
    int before = p->count;
    int rc = resolve_center(db, csv_table_field(row, col->center), line, p, pl->center_id, e);
    if (rc == 0)
        rc = resolve_delivery(db, csv_table_field(row, col->delivery), line, p, pl->delivery_id, e);
    if (rc == 0)
        rc = batch_resolve_logins(db, csv_table_field(row, col->takers), "Test Takers",
                                  ROLE_TEST_TAKER, line, p, &pl->takers, e);
    const char *proctored = csv_table_field(row, col->proctored);
    pl->proctored = ELIGIBILITY_PROCTORED_KEEP;
    if (proctored[0]) {
        pl->proctored = eligibilities_parse_proctored(proctored);
        if (pl->proctored < 0)
            import_problems_add(p, line, "Proctored must be yes or no, not \"%s\"", proctored);
    }
    const char *is_proctored = csv_table_field(row, col->is_proctored);
    if (is_proctored[0]) {
        pl->proctored = parse_is_proctored(is_proctored);
        if (pl->proctored < 0)
            import_problems_add(p, line, "is proctored must be 1 or 0 (or yes or no), not \"%s\"",
                                is_proctored);
    }
    if (pl->center_id[0] && pl->delivery_id[0]) {
        size_t len = strlen(pl->center_id) + strlen(pl->delivery_id) + 2;
        pl->key = malloc(len);
        if (!pl->key)
            abort();
        snprintf(pl->key, len, "%s %s", pl->center_id, pl->delivery_id);
    }
    pl->bad = p->count > before;
    return rc;
}

/* ---- the kind, as app/imports.c runs it ---- */

struct plans {
    struct batch_plans b; /* first: the rows, their bad flags */
    struct columns col;
    struct plan *v; /* b.rows */
};

static int check(struct db *db, const struct csv_table *t, struct import_problems *p, void **out,
                 struct op_err *e)
{
    static const char *const required[] = {COL_CENTER, COL_DELIVERY, COL_TAKERS, NULL};
    static const char *const known[] = {COL_CENTER,    COL_DELIVERY,     COL_TAKERS,
                                        COL_PROCTORED, COL_IS_PROCTORED, NULL};
    int n = t->nrows;
    struct plans *ps = NULL;
    int rc = batch_plans_start(t, required, known, sizeof *ps, sizeof *ps->v, clear_row, out, e);
    ps = *out;
    ps->v = ps->b.rows;
    if (rc != 0)
        return rc;
    ps->col = (struct columns){batch_column(t, COL_CENTER), batch_column(t, COL_DELIVERY),
                               batch_column(t, COL_TAKERS), batch_column(t, COL_PROCTORED),
                               batch_column(t, COL_IS_PROCTORED)};
    if (ps->col.proctored >= 0 && ps->col.is_proctored >= 0)
        return err_set(e, OP_EINPUT,
                       "%s line %d: columns \"Proctored\" and \"is proctored\" say the same; "
                       "keep one",
                       t->path, t->header_line);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = check_row(db, &t->rows[i], &ps->col, &ps->v[i], p, e);
    if (rc != 0)
        return rc;
    const char **keys = calloc((size_t)n + 1, sizeof *keys);
    int *first_of = calloc((size_t)n + 1, sizeof *first_of);
    if (!keys || !first_of)
        abort();
    for (int i = 0; i < n; i++)
        keys[i] = ps->v[i].key;
    batch_find_duplicates(keys, n, first_of);
    for (int i = 0; i < n; i++) {
        if (first_of[i] < 0)
            continue;
        const struct csv_row *row = &t->rows[i];
        import_problems_add(p, row->line,
                            "the eligibility of test center \"%s\" for delivery \"%s\" is "
                            "already on line %d",
                            csv_table_field(row, ps->col.center),
                            csv_table_field(row, ps->col.delivery), t->rows[first_of[i]].line);
        ps->v[i].bad = 1;
    }
    free(keys);
    free(first_of);
    return 0;
}

static int ready(void *plan, const struct csv_table *t, int i, struct import_problems *p)
{
    (void)t;
    (void)p;
    return !((struct plans *)plan)->v[i].bad;
}

static int apply(struct db *db, const struct csv_table *t, void *plan, int i,
                 enum batch_outcome *outcome, struct op_err *e)
{
    (void)t;
    struct plan *pl = &((struct plans *)plan)->v[i];
    enum eligibility_outcome o = ELIGIBILITY_UNCHANGED;
    int rc =
        eligibilities_set(db, pl->center_id, pl->delivery_id, (const char *const *)pl->takers.v,
                          pl->takers.n, pl->proctored, &o, NULL, e);
    *outcome = o == ELIGIBILITY_CREATED   ? BATCH_CREATED
               : o == ELIGIBILITY_UPDATED ? BATCH_UPDATED
                                          : BATCH_UNCHANGED;
    return rc;
}

const struct batch_kind eligibilities_import = {
    check, ready, apply, batch_plans_is_bad, batch_plans_set_bad, batch_plans_free};
