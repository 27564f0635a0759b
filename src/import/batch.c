/* batch.c - shared parts of the record imports (see batch.h). */
#include "import/batch.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "import/tao_uri.h"
#include "store/users.h"

/* ';' and white space as documented; '|' too, which TAO's own CSV files use. */
#define NAME_SEPARATORS "; \t\r\n|"

char **batch_split_names(const char *cell, int *n)
{
    *n = 0;
    char **names = calloc(strlen(cell) / 2 + 2, sizeof *names);
    if (!names)
        abort();
    const char *p = cell;
    while (*p) {
        while (*p && strchr(NAME_SEPARATORS, *p))
            p++;
        const char *start = p;
        while (*p && !strchr(NAME_SEPARATORS, *p))
            p++;
        if (p > start) {
            names[(*n)++] = strndup(start, (size_t)(p - start));
            if (!names[*n - 1])
                abort();
        }
    }
    names[*n] = NULL;
    return names;
}

void batch_free_names(char **names)
{
    if (!names)
        return;
    for (char **p = names; *p; p++)
        free(*p);
    free(names);
}

/* 1 if header name `h` is one of the '|'-separated alternatives of `names`. */
static int name_matches(const char *names, const char *h)
{
    size_t hl = strlen(h);
    const char *p = names;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == hl && strncasecmp(p, h, len) == 0)
            return 1;
        if (!bar)
            return 0;
        p = bar + 1;
    }
}

/* The name messages use: the first alternative. */
static void first_name(const char *names, char *out, size_t cap)
{
    const char *bar = strchr(names, '|');
    size_t len = bar ? (size_t)(bar - names) : strlen(names);
    if (len >= cap)
        len = cap - 1;
    memcpy(out, names, len);
    out[len] = '\0';
}

int batch_column(const struct csv_table *t, const char *names)
{
    for (int i = 0; i < t->ncols; i++)
        if (name_matches(names, t->header[i]))
            return i;
    return -1;
}

int batch_check_header(const struct csv_table *t, const char *const *required,
                       const char *const *known, struct op_err *e)
{
    char name[128];
    for (int i = 0; required[i]; i++) {
        if (batch_column(t, required[i]) >= 0)
            continue;
        first_name(required[i], name, sizeof name);
        return err_set(e, OP_EINPUT, "%s line %d: missing column \"%s\" (it is required)", t->path,
                       t->header_line, name);
    }
    for (int i = 0; i < t->ncols; i++) {
        int k = 0;
        while (known[k] && !name_matches(known[k], t->header[i]))
            k++;
        if (!known[k]) {
            struct buf list = BUF_INIT;
            for (int j = 0; known[j]; j++) {
                first_name(known[j], name, sizeof name);
                buf_printf(&list, "%s%s", j ? ", " : "", name);
            }
            int rc =
                err_set(e, OP_EINPUT, "%s line %d: unknown column \"%s\" (the columns are: %s)",
                        t->path, t->header_line, t->header[i], list.data);
            buf_free(&list);
            return rc;
        }
        for (int j = 0; j < i; j++)
            if (name_matches(known[k], t->header[j]))
                return err_set(e, OP_EINPUT,
                               "%s line %d: column \"%s\" appears twice (columns %d and %d)",
                               t->path, t->header_line, t->header[i], j + 1, i + 1);
    }
    return 0;
}

struct keyed {
    const char *key;
    int index;
};

static int by_key(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

void batch_find_duplicates(const char *const *keys, int n, int *first_of)
{
    struct keyed *v = malloc(sizeof *v * (size_t)(n ? n : 1));
    if (!v)
        abort();
    int m = 0;
    for (int i = 0; i < n; i++) {
        first_of[i] = -1;
        if (keys[i])
            v[m++] = (struct keyed){keys[i], i};
    }
    qsort(v, (size_t)m, sizeof *v, by_key);
    /* Sorted by key then index: the first entry of each run of equal keys is the first row. */
    for (int i = 1, start = 0; i < m; i++) {
        if (strcmp(v[i].key, v[start].key) != 0)
            start = i;
        else
            first_of[v[i].index] = v[start].index;
    }
    free(v);
}

int batch_resolve_logins(struct db *db, const char *cell, const char *column, const char *role,
                         int line, struct import_problems *p, struct idlist *out, struct op_err *e)
{
    int n;
    char **logins = batch_split_names(cell, &n);
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        struct user u;
        struct op_err ue = {0};
        int found = users_get_by_login(db, logins[i], &u, &ue);
        if (found == OP_ENOTFOUND && tao_uri_is(logins[i])) {
            import_problems_add(p, line, "%s: \"%s\" is a TAO URI, and Outpost keeps none: %s",
                                column, logins[i], tao_uri_advice(TAO_URI_USER));
        } else if (found == OP_ENOTFOUND) {
            import_problems_add(p, line, "%s: no user with login \"%s\"", column, logins[i]);
        } else if (found != 0) {
            rc = err_set(e, found, "%s", ue.msg);
        } else {
            if (strcmp(u.role, role) != 0)
                import_problems_add(p, line, "%s: \"%s\" is a %s, not a %s", column, logins[i],
                                    u.role, role);
            else
                idlist_add(out, u.id);
            user_clear(&u);
        }
    }
    batch_free_names(logins);
    return rc;
}

int batch_plans_start(const struct csv_table *t, const char *const *required,
                      const char *const *known, size_t size, size_t row_size,
                      void (*clear_row)(void *row), void **out, struct op_err *e)
{
    struct batch_plans *b = calloc(1, size);
    if (!b || !(b->rows = calloc((size_t)t->nrows + 1, row_size)))
        abort();
    b->row_size = row_size;
    b->clear_row = clear_row;
    *out = b;
    return batch_check_header(t, required, known, e);
}

/* Row i's `int bad`, the first member of its row struct. */
static int *bad_of(const struct batch_plans *b, int i)
{
    return (int *)((char *)b->rows + (size_t)i * b->row_size);
}

int batch_plans_is_bad(const void *plans, int i)
{
    return *bad_of(plans, i);
}

void batch_plans_set_bad(void *plans, int i)
{
    *bad_of(plans, i) = 1;
}

void batch_plans_free(void *plans, int nrows)
{
    struct batch_plans *b = plans;
    if (!b)
        return;
    for (int i = 0; b->clear_row && i < nrows; i++)
        b->clear_row((char *)b->rows + (size_t)i * b->row_size);
    free(b->rows);
    free(b);
}
