/*
 * users_import.c - users from a CSV file: check, hash in parallel, write in one transaction
 * (see users_import.h).
 *
 * Ownership: `struct import` owns every row and the credentials of the valid ones; a row owns
 * one allocation (`text`) holding its known fields one after the other, and its list of
 * reasons. A row is kept small (about 100 bytes and its text) because a file within the size
 * limit may hold up to USERS_IMPORT_MAX_ROWS of them. Passwords are wiped from `text` as soon
 * as they are hashed, and the file buffer
 * as soon as it is parsed.
 */
#include "import/users_import.h"

#include <stdarg.h>
#include <stdint.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/credentials.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/ids.h"
#include "base/text.h"
#include "import/csv.h"
#include "instance/config.h"
#include "store/users.h"

/* ---- columns ---- */

enum column {
    COL_LABEL,
    COL_FIRST_NAME,
    COL_LAST_NAME,
    COL_LOGIN,
    COL_MAIL,
    COL_PASSWORD,
    COL_INTERFACE_LANG,
    COL_DEFAULT_LANG,
    COL_ORG_ID,
    COL_COUNT
};

/* As TAO's example file writes them; matched case-insensitively, spaces trimmed. */
static const char *const column_names[COL_COUNT] = {
    "Label",    "First Name",         "Last Name",        "Login",           "Mail",
    "Password", "Interface Language", "Default language", "organisation id",
};

/* ---- the state of one import ---- */

struct import_row {
    int line;
    int exists;               /* the login exists already (same role): update */
    char *text;               /* the fields of the file's known columns, NUL-separated */
    uint32_t text_size;       /* bytes allocated for text */
    uint32_t off[COL_COUNT];  /* where each field starts in text (see row_field) */
    char *reasons;            /* why the row is refused, "; "-separated; NULL if valid */
    char id[UUID_STR_LEN];    /* the existing user's id, or the new user's */
    struct credentials *cred; /* valid rows: filled by the hashing phase (in im->creds) */
    unsigned char *vault_sk;  /* existing users: their vault secret key, recovered from
                                 escrow (VAULT_SECRET_BYTES, wiped and freed with the row) */
};

struct import {
    struct db *db;
    const char *file; /* as shown in messages */
    const struct users_import_options *opt;
    int is_sync_manager;
    int col[COL_COUNT]; /* header index of each known column, or -1 */
    int ncols;          /* fields in the header */
    struct import_row *rows;
    int nrows, cap;
    struct credentials *creds; /* one per valid row, in row order */
    int ncreds;
    struct users_import_report *r;
};

static void row_refuse(struct import_row *row, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void row_refuse(struct import_row *row, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    if (row->reasons) {
        buf_puts(&b, row->reasons);
        buf_puts(&b, "; ");
        free(row->reasons);
    }
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    row->reasons = buf_detach(&b);
}

static int row_is_valid(const struct import_row *row)
{
    return row->reasons == NULL;
}

/* The field of column c, or NULL if the file has no such column. */
static const char *row_field(const struct import *im, const struct import_row *row, enum column c)
{
    return im->col[c] >= 0 ? row->text + row->off[c] : NULL;
}

/* The field of column c, or NULL if the column is absent or the field empty (stored as NULL). */
static const char *row_value(const struct import *im, const struct import_row *row, enum column c)
{
    const char *v = row_field(im, row, c);
    return v && v[0] ? v : NULL;
}

static void rows_free(struct import *im)
{
    for (int i = 0; i < im->nrows; i++) {
        struct import_row *row = &im->rows[i];
        if (row->text) {
            sodium_memzero(row->text, row->text_size); /* it held a password */
            free(row->text);
        }
        free(row->reasons);
        if (row->vault_sk) {
            sodium_memzero(row->vault_sk, VAULT_SECRET_BYTES);
            free(row->vault_sk);
        }
    }
    free(im->rows);
    im->rows = NULL;
    im->nrows = im->cap = 0;
    if (im->creds) {
        sodium_memzero(im->creds, sizeof *im->creds * (size_t)im->ncreds);
        free(im->creds);
        im->creds = NULL;
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- phase 1: check ---- */

static int on_header(void *ctx, const struct csv_table *t, struct op_err *e)
{
    struct import *im = ctx;
    struct buf unknown = BUF_INIT;
    int nunknown = 0;
    for (int c = 0; c < COL_COUNT; c++)
        im->col[c] = -1;
    im->ncols = t->ncols;
    for (int i = 0; i < t->ncols; i++) {
        const char *name = t->header[i];
        int c = 0;
        while (c < COL_COUNT && strcasecmp(name, column_names[c]) != 0)
            c++;
        if (c == COL_COUNT) {
            if (!name[0])
                buf_printf(&unknown, "%scolumn %d has no name", nunknown ? "; " : "", i + 1);
            else
                buf_printf(&unknown, "%sunknown column \"%s\"", nunknown ? "; " : "", name);
            nunknown++;
        } else if (im->col[c] >= 0) {
            import_problems_add(&im->r->problems, t->header_line,
                                "column \"%s\" appears twice (columns %d and %d)", column_names[c],
                                im->col[c] + 1, i + 1);
        } else {
            im->col[c] = i;
        }
    }
    if (nunknown)
        import_problems_add(&im->r->problems, t->header_line,
                            "%s (the columns are: Label, First Name, Last Name, Login, Mail, "
                            "Password, Interface Language, Default language, and organisation "
                            "id for sync-manager users)",
                            unknown.data);
    buf_free(&unknown);
    if (im->col[COL_LOGIN] < 0)
        import_problems_add(&im->r->problems, t->header_line,
                            "missing column Login (it is required)");
    if (im->col[COL_PASSWORD] < 0)
        import_problems_add(&im->r->problems, t->header_line,
                            "missing column Password (it is required)");
    if (im->is_sync_manager && im->col[COL_ORG_ID] < 0)
        import_problems_add(&im->r->problems, t->header_line,
                            "missing column \"organisation id\" (required for sync-manager users)");
    if (im->r->problems.count)
        return err_set(e, OP_EINPUT, "%s: the header line is not usable; nothing imported",
                       im->file);
    return 0;
}

/* Copies the fields of the known columns into one allocation owned by the row. */
static void row_keep_fields(struct import *im, struct import_row *row, const struct csv_row *in)
{
    size_t size = 0;
    for (int c = 0; c < COL_COUNT; c++)
        if (im->col[c] >= 0)
            size += strlen(csv_table_field(in, im->col[c])) + 1;
    /* At most COL_COUNT fields of CSV_FIELD_MAX bytes: far below 4 GiB. */
    row->text_size = (uint32_t)(size + 1);
    row->text = malloc(row->text_size);
    if (!row->text)
        abort();
    char *p = row->text;
    for (int c = 0; c < COL_COUNT; c++) {
        if (im->col[c] < 0)
            continue;
        const char *v = csv_table_field(in, im->col[c]);
        size_t n = strlen(v) + 1;
        memcpy(p, v, n);
        row->off[c] = (uint32_t)(p - row->text);
        p += n;
    }
    *p = '\0';
}

static void check_lang(const struct import *im, struct import_row *row, enum column c)
{
    const char *v = row_value(im, row, c);
    if (v && !lang_is_valid(v))
        row_refuse(row, "%s \"%.40s\" is not a language tag such as en-US", column_names[c], v);
}

/* Checks the login against the database: a new login, or an existing one of the same role. */
static int check_existing(struct import *im, struct import_row *row, struct op_err *e)
{
    struct user u;
    int rc = users_get_by_login(im->db, row_field(im, row, COL_LOGIN), &u, e);
    if (rc == OP_ENOTFOUND) {
        err_clear(e);
        uuid_generate(row->id);
        return 0;
    }
    if (rc != 0)
        return rc;
    if (strcmp(u.role, ROLE_SUPER_USER) == 0)
        row_refuse(row, "login \"%s\" is the super-user's and cannot be imported", u.login);
    else if (strcmp(u.role, im->opt->role) != 0)
        row_refuse(row, "login \"%s\" exists as a %s; import it with -t %s or delete it first",
                   u.login, u.role, u.role);
    row->exists = 1;
    memcpy(row->id, u.id, sizeof row->id);
    /* Keep the user's vault key pair: recover it from escrow now (no escrow copy: a new one). */
    if (row_is_valid(row) && im->opt->master) {
        unsigned char sk[VAULT_SECRET_BYTES];
        struct op_err why = {0};
        int r = credentials_recover(im->opt->master, &u, sk, &why);
        if (r == 0) {
            row->vault_sk = malloc(VAULT_SECRET_BYTES);
            if (!row->vault_sk)
                abort();
            memcpy(row->vault_sk, sk, VAULT_SECRET_BYTES);
        } else if (r != OP_ENOTFOUND) {
            row_refuse(row, "login \"%s\": %s", u.login, why.msg);
        }
        sodium_memzero(sk, sizeof sk);
    }
    user_clear(&u);
    return 0;
}

static int on_row(void *ctx, const struct csv_table *t, const struct csv_row *in, struct op_err *e)
{
    (void)t;
    struct import *im = ctx;
    int max_rows = im->opt->max_rows > 0 ? im->opt->max_rows : USERS_IMPORT_MAX_ROWS;
    if (im->nrows == max_rows)
        return err_set(e, OP_EINPUT,
                       "%s line %d: more than %d users in one file; split it into several files",
                       im->file, in->line, max_rows);
    if (im->nrows == im->cap) {
        int cap = im->cap ? im->cap * 2 : 64;
        if (cap > max_rows)
            cap = max_rows;
        struct import_row *v = realloc(im->rows, sizeof *v * (size_t)cap);
        if (!v)
            abort();
        im->rows = v;
        im->cap = cap;
    }
    struct import_row *row = &im->rows[im->nrows++];
    memset(row, 0, sizeof *row);
    row->line = in->line;
    row_keep_fields(im, row, in);

    if (in->nfields != im->ncols)
        row_refuse(row, "%d field%s where the header has %d", in->nfields,
                   in->nfields == 1 ? "" : "s", im->ncols);
    /* The text rule of the store (users_check), checked here per column so that a refusal
     * names the file's line and column. A control character is a refusal of its own: such a
     * value is never echoed in a message, where it would reach the operator's terminal. */
    unsigned text_ok = 0; /* bit c: field c is empty or good text */
    for (int c = 0; c < COL_COUNT; c++) {
        const char *v = row_value(im, row, (enum column)c);
        if (c == COL_PASSWORD || !v) {
            text_ok |= 1u << c;
            continue;
        }
        enum text_fault f = text_check(v, c == COL_LOGIN ? 255 : 0);
        if (f == TEXT_CONTROL)
            row_refuse(row, "field %s contains a control character", column_names[c]);
        else if (f == TEXT_TOO_LONG)
            row_refuse(row, "field %s is longer than 255 bytes", column_names[c]);
        else if (f != TEXT_OK)
            row_refuse(row, "field %s %s", column_names[c], text_fault_message(f));
        else
            text_ok |= 1u << c;
    }
    const char *login = row_field(im, row, COL_LOGIN);
    int login_ok = 0;
    if (!login[0])
        row_refuse(row, "missing Login");
    else if (text_ok & (1u << COL_LOGIN))
        login_ok = 1;
    const char *pw = row_value(im, row, COL_PASSWORD);
    if (!pw) {
        row_refuse(row, "empty Password");
    } else if (im->opt->policy) {
        enum password_fault f = password_policy_check(im->opt->policy, login, pw, strlen(pw));
        char why[256];
        if (f != PASSWORD_OK)
            row_refuse(row, "Password is %s",
                       password_fault_text(f, im->opt->policy, why, sizeof why));
    }
    if (text_ok & (1u << COL_INTERFACE_LANG))
        check_lang(im, row, COL_INTERFACE_LANG);
    if (text_ok & (1u << COL_DEFAULT_LANG))
        check_lang(im, row, COL_DEFAULT_LANG);
    const char *org = row_value(im, row, COL_ORG_ID);
    if (im->is_sync_manager && !org)
        row_refuse(row, "missing organisation id (a sync-manager needs one)");
    if (!im->is_sync_manager && org)
        row_refuse(row, "an organisation id is only for sync-manager users (this import is for %s)",
                   im->opt->role);
    if (login_ok)
        return check_existing(im, row, e);
    return 0;
}

struct login_ref {
    const char *login;
    int row;
};

static int by_login_then_row(const void *a, const void *b)
{
    const struct login_ref *x = a, *y = b;
    int c = strcmp(x->login, y->login);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

#define DUPLICATE_LINES_SHOWN 10

/* Refuses every row whose login appears on another row too, naming the lines. */
static void check_duplicates(struct import *im)
{
    struct login_ref *refs = malloc(sizeof *refs * (size_t)(im->nrows + 1));
    if (!refs)
        abort();
    int n = 0;
    for (int i = 0; i < im->nrows; i++) {
        const char *login = row_value(im, &im->rows[i], COL_LOGIN);
        if (login && login_is_valid(login)) /* the message quotes it */
            refs[n++] = (struct login_ref){login, i};
    }
    qsort(refs, (size_t)n, sizeof *refs, by_login_then_row);
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && strcmp(refs[i].login, refs[j].login) == 0)
            j++;
        if (j - i > 1) {
            /* Name the lines, but not thousands of them: the list goes into every row. */
            struct buf lines = BUF_INIT;
            int shown = j - i <= DUPLICATE_LINES_SHOWN ? j - i : DUPLICATE_LINES_SHOWN;
            for (int k = i; k < i + shown; k++)
                buf_printf(&lines, "%s%d",
                           k == i                         ? ""
                           : k == j - 1 && shown == j - i ? " and "
                                                          : ", ",
                           im->rows[refs[k].row].line);
            if (shown < j - i)
                buf_printf(&lines, " and %d more", j - i - shown);
            for (int k = i; k < j; k++)
                row_refuse(&im->rows[refs[k].row], "login \"%s\" appears more than once (lines %s)",
                           refs[k].login, lines.data);
            buf_free(&lines);
        }
        i = j;
    }
    free(refs);
}

/* Lists the refused rows (the first USERS_IMPORT_LISTED_MAX) and counts them. */
static void collect_problems(struct import *im)
{
    for (int i = 0; i < im->nrows; i++) {
        struct import_row *row = &im->rows[i];
        if (row_is_valid(row))
            continue;
        im->r->invalid++;
        if (im->r->problems.count < USERS_IMPORT_LISTED_MAX)
            import_problems_add(&im->r->problems, row->line, "%s", row->reasons);
        else
            im->r->unlisted++;
    }
}

static int load_and_check(struct import *im, const char *path, struct op_err *e)
{
    char *data;
    size_t len;
    int rc = csv_file_read(path, im->opt->max_bytes, &data, &len, e);
    if (rc != 0)
        return rc;
    const struct csv_handler h = {on_header, on_row, im};
    rc = csv_table_stream(im->file, data, len, &h, e);
    sodium_memzero(data, len); /* it holds the passwords in clear */
    free(data);
    if (rc != 0)
        return rc;
    im->r->rows = im->nrows;
    check_duplicates(im);
    collect_problems(im);
    return 0;
}

/* ---- phase 2: hash the passwords on every core ---- */

struct hash_pool {
    const struct import *im;
    pthread_mutex_t mu;
    pthread_cond_t changed;
    struct import_row **todo;
    int total, next, done;
    int running; /* workers not yet finished */
    const struct password_cost *cost;
    int failed;
    struct op_err err; /* the first failure */
};

static void *hash_worker(void *arg)
{
    struct hash_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->failed && p->next < p->total) {
        struct import_row *row = p->todo[p->next++];
        pthread_mutex_unlock(&p->mu);

        struct op_err e = {0};
        char *pw = (char *)row_field(p->im, row, COL_PASSWORD); /* into row->text, ours */
        size_t len = strlen(pw);
        struct credentials_keys keys = {p->im->opt->master, row->vault_sk};
        int rc = credentials_make(p->cost, row->id, pw, len, &keys, row->cred, &e);
        sodium_memzero(pw, len);

        pthread_mutex_lock(&p->mu);
        if (rc != 0 && !p->failed) {
            p->failed = 1;
            err_set(&p->err, rc, "line %d: %s", row->line, e.msg);
        }
        p->done++;
        pthread_cond_signal(&p->changed);
    }
    p->running--;
    pthread_cond_signal(&p->changed);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Memory all hashing threads together may use for Argon2id: on a central with many cores,
 * one thread per core at 19 MiB each would otherwise take gigabytes. */
#define HASHING_MEMORY_BUDGET (1024ull * 1024 * 1024)

static int workers_wanted(const struct users_import_options *opt, int total)
{
    long n = opt->workers > 0 ? opt->workers : sysconf(_SC_NPROCESSORS_ONLN);
    unsigned long long per_worker = opt->cost.memlimit_kib * 1024ull;
    if (per_worker && (unsigned long long)n > HASHING_MEMORY_BUDGET / per_worker)
        n = (long)(HASHING_MEMORY_BUDGET / per_worker);
    if (n > 256)
        n = 256;
    if (n > total)
        n = total;
    if (n < 1)
        n = 1;
    return (int)n;
}

/* Waits for the workers, reporting progress about ten times a second. */
static void hash_wait(struct hash_pool *p, const struct users_import_options *opt)
{
    double last = 0;
    pthread_mutex_lock(&p->mu);
    while (p->running > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&p->changed, &p->mu, &until);
        double now = now_seconds();
        if (opt->progress && now - last >= 0.1 && p->running > 0) {
            int done = p->done;
            pthread_mutex_unlock(&p->mu);
            opt->progress(opt->progress_ctx, done, p->total);
            last = now;
            pthread_mutex_lock(&p->mu);
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (opt->progress && !p->failed)
        opt->progress(opt->progress_ctx, p->total, p->total);
}

static int hash_passwords(struct import *im, struct op_err *e)
{
    struct hash_pool p;
    memset(&p, 0, sizeof p);
    p.im = im;
    p.cost = &im->opt->cost;
    p.todo = malloc(sizeof *p.todo * (size_t)(im->nrows + 1));
    if (!p.todo)
        abort();
    for (int i = 0; i < im->nrows; i++)
        if (row_is_valid(&im->rows[i]))
            p.todo[p.total++] = &im->rows[i];
    if (p.total == 0) {
        free(p.todo);
        return 0;
    }
    im->creds = calloc((size_t)p.total, sizeof *im->creds);
    if (!im->creds)
        abort();
    im->ncreds = p.total;
    for (int i = 0; i < p.total; i++)
        p.todo[i]->cred = &im->creds[i];
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.changed, NULL);
    int n = workers_wanted(im->opt, p.total);
    pthread_t *threads = calloc((size_t)n, sizeof *threads);
    if (!threads)
        abort();
    int started = 0, create_err = 0;
    for (; started < n; started++) {
        pthread_mutex_lock(&p.mu);
        p.running++;
        pthread_mutex_unlock(&p.mu);
        create_err = pthread_create(&threads[started], NULL, hash_worker, &p);
        if (create_err != 0) {
            pthread_mutex_lock(&p.mu);
            p.running--;
            pthread_mutex_unlock(&p.mu);
            break;
        }
    }
    int rc = 0;
    if (started == 0) {
        rc = err_set(e, OP_ENOMEM, "cannot start a password hashing thread: %s",
                     strerror(create_err));
    } else {
        hash_wait(&p, im->opt);
        for (int i = 0; i < started; i++)
            pthread_join(threads[i], NULL);
        if (p.failed)
            rc = err_set(e, p.err.code, "%s %s", im->file, p.err.msg);
    }
    im->r->workers = started;
    free(threads);
    free(p.todo);
    pthread_cond_destroy(&p.changed);
    pthread_mutex_destroy(&p.mu);
    return rc;
}

/* ---- phase 3: write everything in one transaction ---- */

/* The change one row makes (borrowed from the row): the profile fields the file has a
 * column for, the credentials, and the label (the login) when `cur` (NULL for a new user) has
 * none. */
static void row_changes(const struct import *im, const struct import_row *row,
                        const struct user *cur, struct user_changes *ch)
{
    memset(ch, 0, sizeof *ch);
    const char *label = row_value(im, row, COL_LABEL);
    /* the role of a user already there is the import's (write_row checks it): not set again,
     * so the update does not look for a role change (store/users.c) */
    ch->set = USER_SET_LOGIN | USER_SET_ORG_ID | (cur ? 0 : USER_SET_ROLE);
    ch->login = row_field(im, row, COL_LOGIN);
    ch->role = im->opt->role;
    if (row_field(im, row, COL_LABEL) || !cur || !cur->label) {
        ch->set |= USER_SET_LABEL;
        ch->label = label ? label : ch->login;
    }
#define SET_IF_COLUMN(member, bit, c)                                                              \
    if (row_field(im, row, c)) {                                                                   \
        ch->set |= bit;                                                                            \
        ch->member = row_value(im, row, c);                                                        \
    }
    SET_IF_COLUMN(first_name, USER_SET_FIRST_NAME, COL_FIRST_NAME)
    SET_IF_COLUMN(last_name, USER_SET_LAST_NAME, COL_LAST_NAME)
    SET_IF_COLUMN(mail, USER_SET_MAIL, COL_MAIL)
    SET_IF_COLUMN(interface_lang, USER_SET_INTERFACE_LANG, COL_INTERFACE_LANG)
    SET_IF_COLUMN(default_lang, USER_SET_DEFAULT_LANG, COL_DEFAULT_LANG)
#undef SET_IF_COLUMN
    ch->org_id = im->is_sync_manager ? row_value(im, row, COL_ORG_ID) : NULL;
    credentials_changes(row->cred, ch);
}

/* Writes one row inside the open transaction. The database is checked again: another command
 * may have added or removed the login since phase 1, and the credentials are bound to the id
 * chosen then. */
static int write_row(struct import *im, struct import_row *row, struct op_err *e)
{
    struct user cur;
    const char *login = row_field(im, row, COL_LOGIN);
    int rc = users_get_by_login(im->db, login, &cur, e);
    if (rc != 0 && rc != OP_ENOTFOUND)
        return rc;
    int found = rc == 0;
    if (found != row->exists ||
        (found && (strcmp(cur.id, row->id) != 0 || strcmp(cur.role, im->opt->role) != 0))) {
        if (found)
            user_clear(&cur);
        return err_set(e, OP_ECONFLICT,
                       "%s line %d: login \"%s\" was changed by another command during the "
                       "import; nothing imported, run it again",
                       im->file, row->line, login);
    }
    err_clear(e);
    struct user_changes ch;
    row_changes(im, row, found ? &cur : NULL, &ch);
    if (!found) {
        struct user u;
        memset(&u, 0, sizeof u);
        memcpy(u.id, row->id, sizeof u.id);
        user_apply_changes(&u, &ch);
        rc = users_insert(im->db, &u, e);
        if (rc == 0)
            im->r->created++;
        return rc;
    }
    rc = users_update(im->db, cur.id, cur.version, &ch, NULL, e);
    user_clear(&cur);
    if (rc == 0)
        im->r->updated++;
    return rc;
}

/* db_write body: every valid row, counted afresh on every run. */
static int write_rows_body(struct db *db, void *ctx, struct op_err *e)
{
    struct import *im = ctx;
    (void)db; /* im->db */
    im->r->created = im->r->updated = 0;
    int rc = 0;
    for (int i = 0; i < im->nrows && rc == 0; i++)
        if (row_is_valid(&im->rows[i]))
            rc = write_row(im, &im->rows[i], e);
    return rc;
}

static int write_rows(struct import *im, struct op_err *e)
{
    int rc = db_write(im->db, write_rows_body, im, e);
    if (rc != 0)
        im->r->created = im->r->updated = 0;
    return rc;
}

/* ---- the import ---- */

void users_import_report_init(struct users_import_report *r, const char *file)
{
    memset(r, 0, sizeof *r);
    import_problems_init(&r->problems, file);
}

void users_import_report_free(struct users_import_report *r)
{
    import_problems_free(&r->problems);
}

int users_import_file(struct db *db, const char *path, const struct users_import_options *opt,
                      struct users_import_report *r, struct op_err *e)
{
    if (!user_role_is_valid(opt->role))
        return err_set(e, OP_EUSAGE, "unknown role \"%s\" (use %s)", opt->role ? opt->role : "",
                       user_roles_list());
    struct import im;
    memset(&im, 0, sizeof im);
    im.db = db;
    im.file = r->problems.file ? r->problems.file : path;
    im.opt = opt;
    im.is_sync_manager = strcmp(opt->role, ROLE_SYNC_MANAGER) == 0;
    im.r = r;

    int rc = load_and_check(&im, path, e);
    if (rc == 0 && r->rows == 0)
        rc = err_set(e, OP_EINPUT, "%s: no users (the file has a header line only)", im.file);
    if (rc == 0 && r->invalid && !opt->skip_invalid) {
        int valid = r->rows - r->invalid;
        if (valid == 0)
            rc = err_set(e, OP_EINPUT, "%s: no valid row (%d invalid); nothing imported", im.file,
                         r->invalid);
        else
            rc = err_set_remedy(e, OP_EINPUT, OP_REMEDY_SKIP_INVALID,
                                "%s: %d invalid row%s; nothing imported", im.file, r->invalid,
                                r->invalid == 1 ? "" : "s");
    }
    if (rc == 0) {
        double t0 = now_seconds();
        rc = hash_passwords(&im, e);
        double t1 = now_seconds();
        if (rc == 0)
            rc = write_rows(&im, e);
        r->hash_seconds = t1 - t0;
        r->write_seconds = now_seconds() - t1;
    }
    if (rc == 0)
        r->skipped = r->invalid;
    rows_free(&im);
    return rc;
}
