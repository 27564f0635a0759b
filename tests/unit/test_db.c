/* test_db.c - statements (held, private, evicted) and lists read by keyset pages and cursors. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "centers_fixture.h"
#include "store/feed.h"

#define USERS_SQL "SELECT login FROM users ORDER BY login"

struct fixture {
    char *dir;
    struct db *db;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->db = testutil_db(&f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(db_stmt_held(f->db), 0); /* every test gives back what it took */
    db_close(f->db);
    testutil_rmdir(f->dir);
    free(f);
    return 0;
}

static void add_users(struct db *db, const char *const *logins, int n)
{
    char id[UUID_STR_LEN];
    for (int i = 0; i < n; i++)
        fx_user(db, logins[i], ROLE_TEST_TAKER, id);
}

static void append(char *out, size_t cap, const char *s)
{
    size_t len = strlen(out);
    snprintf(out + len, cap - len, "%s%s", len ? "," : "", s);
}

/* ---- statements ---- */

/* The bug: a loop stepping the cached statement for some SQL called a function running the
 * same SQL, which got the same statement back, reset it, and so restarted the outer loop
 * forever. A nested caller now gets a private statement; the outer loop sees each row once,
 * and so does every inner loop. */
static void test_nested_use_of_a_held_statement_gets_a_private_one(void **state)
{
    struct fixture *f = *state;
    const char *logins[] = {"ann", "bob", "cid"};
    add_users(f->db, logins, 3);
    struct op_err e = {0};
    struct db_stmt *outer = db_stmt(f->db, USERS_SQL, &e);
    assert_non_null(outer);
    char seen[256] = "";
    int outer_rows = 0;
    while (db_step(outer) == DB_ROW) {
        assert_true(++outer_rows <= 3); /* a restarted loop would go on */
        append(seen, sizeof seen, db_column_text(outer, 0));
        struct db_stmt *inner = db_stmt(f->db, USERS_SQL, &e);
        assert_non_null(inner);
        assert_ptr_not_equal(inner, outer);
        char inner_seen[256] = "";
        while (db_step(inner) == DB_ROW)
            append(inner_seen, sizeof inner_seen, db_column_text(inner, 0));
        assert_string_equal(inner_seen, "ann,bob,cid");
        assert_int_equal(db_stmt_held(f->db), 2);
        db_stmt_done(f->db, inner); /* finalizes the private one */
        assert_int_equal(db_stmt_held(f->db), 1);
    }
    assert_string_equal(seen, "ann,bob,cid");
    db_stmt_done(f->db, outer);
    /* given back, the cached statement is handed out again */
    struct db_stmt *again = db_stmt(f->db, USERS_SQL, &e);
    assert_ptr_equal(again, outer);
    db_stmt_done(f->db, again);
}

/* The cache failed at 256 distinct statements. Now it evicts the least recently used free
 * statement, never one that is held: a statement stepped half-way keeps its place and its
 * position through 300 others. */
static void test_300_distinct_statements_evict_but_never_a_held_one(void **state)
{
    struct fixture *f = *state;
    const char *logins[] = {"ann", "bob"};
    add_users(f->db, logins, 2);
    struct op_err e = {0};
    struct db_stmt *busy = db_stmt(f->db, USERS_SQL, &e);
    assert_non_null(busy);
    assert_int_equal(db_step(busy), DB_ROW);
    assert_string_equal(db_column_text(busy, 0), "ann");

    struct db_stmt *last = NULL;
    for (int i = 1; i <= 300; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d", i);
        struct db_stmt *st = db_stmt(f->db, sql, &e);
        if (!st)
            fail_msg("statement %d: %s", i, e.msg);
        assert_ptr_not_equal(st, busy);
        assert_int_equal(db_step(st), DB_ROW);
        assert_int_equal(db_column_int(st, 0), i);
        db_stmt_done(f->db, st);
        last = st;
    }
    assert_int_equal(db_stmt_cached(f->db), 256);
    assert_int_equal(db_stmt_held(f->db), 1);

    /* the held statement is still where it was, and is not handed out while held */
    struct db_stmt *other = db_stmt(f->db, USERS_SQL, &e);
    assert_ptr_not_equal(other, busy);
    db_stmt_done(f->db, other);
    assert_int_equal(db_step(busy), DB_ROW);
    assert_string_equal(db_column_text(busy, 0), "bob");
    db_stmt_done(f->db, busy);

    /* the most recent statement stayed cached; the held one too */
    struct db_stmt *st = db_stmt(f->db, "SELECT 300", &e);
    assert_ptr_equal(st, last);
    db_stmt_done(f->db, st);
    st = db_stmt(f->db, USERS_SQL, &e);
    assert_ptr_equal(st, busy);
    db_stmt_done(f->db, st);
    /* an evicted one is prepared again and works */
    st = db_stmt(f->db, "SELECT 1", &e);
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_ROW);
    assert_int_equal(db_column_int(st, 0), 1);
    db_stmt_done(f->db, st);
    assert_int_equal(db_stmt_cached(f->db), 256);
}

/* A cache full of held statements still serves a caller (a private statement). */
static void test_a_cache_of_held_statements_still_serves(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct db_stmt *held[256];
    for (int i = 0; i < 256; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d", i);
        held[i] = db_stmt(f->db, sql, &e);
        assert_non_null(held[i]);
    }
    struct db_stmt *extra = db_stmt(f->db, "SELECT 'extra'", &e);
    assert_non_null(extra);
    assert_int_equal(db_step(extra), DB_ROW);
    assert_string_equal(db_column_text(extra, 0), "extra");
    assert_int_equal(db_stmt_held(f->db), 257);
    db_stmt_done(f->db, extra);
    for (int i = 0; i < 256; i++)
        db_stmt_done(f->db, held[i]);
    assert_int_equal(db_stmt_held(f->db), 0);
}

/* ---- cursors and pages ---- */

/* Walking users inside a walk of users ends, and each inner walk sees every user once. Pages
 * of two rows make both walks cross page boundaries. */
static void test_nested_cursors_over_users_terminate(void **state)
{
    struct fixture *f = *state;
    const char *logins[] = {"eve", "ann", "dan", "bob", "cid"};
    add_users(f->db, logins, 5);
    struct op_err e = {0};
    struct db_cursor outer;
    users_cursor(&outer, NULL);
    outer.page_size = 2;
    const void *row;
    char seen[256] = "";
    int rc;
    while ((rc = db_cursor_next(f->db, &outer, &row, &e)) == 0 && row) {
        append(seen, sizeof seen, ((const struct user *)row)->login);
        assert_true(strlen(seen) < 40); /* a restarted walk would go on */
        struct db_cursor inner;
        users_cursor(&inner, ROLE_TEST_TAKER);
        inner.page_size = 2;
        char inner_seen[256] = "";
        const void *irow;
        while ((rc = db_cursor_next(f->db, &inner, &irow, &e)) == 0 && irow)
            append(inner_seen, sizeof inner_seen, ((const struct user *)irow)->login);
        assert_int_equal(rc, 0);
        db_cursor_close(&inner);
        assert_string_equal(inner_seen, "ann,bob,cid,dan,eve");
    }
    assert_int_equal(rc, 0);
    db_cursor_close(&outer);
    assert_string_equal(seen, "ann,bob,cid,dan,eve");
}

/* The logins of every page of `limit` rows, "|" between pages. */
static void page_through_users(struct db *db, int limit, char *out, size_t cap)
{
    out[0] = '\0';
    struct db_key after = {0};
    int more = 1;
    while (more) {
        struct db_page p;
        OK(users_page(db, NULL, &after, limit, &p, fx_e));
        assert_true(p.n <= limit);
        if (out[0])
            snprintf(out + strlen(out), cap - strlen(out), "|");
        for (int i = 0; i < p.n; i++) {
            size_t len = strlen(out);
            snprintf(out + len, cap - len, "%s%s", i ? "," : "",
                     ((const struct user *)p.rows)[i].login);
        }
        more = p.more;
        db_key_move(&after, &p.next);
        db_page_clear(&p);
    }
    db_key_clear(&after);
}

static void test_pages_of_1_2_and_n_cover_every_row_once_in_order(void **state)
{
    struct fixture *f = *state;
    const char *logins[] = {"eve", "ann", "dan", "bob", "cid"};
    add_users(f->db, logins, 5);
    char out[256];
    page_through_users(f->db, 1, out, sizeof out);
    assert_string_equal(out, "ann|bob|cid|dan|eve");
    page_through_users(f->db, 2, out, sizeof out);
    assert_string_equal(out, "ann,bob|cid,dan|eve");
    page_through_users(f->db, 5, out, sizeof out); /* exactly N: no empty page after */
    assert_string_equal(out, "ann,bob,cid,dan,eve");
    page_through_users(f->db, DB_PAGE_MAX, out, sizeof out);
    assert_string_equal(out, "ann,bob,cid,dan,eve");
}

/* Rows inserted between two pages: one before the key is not seen (and repeats nothing), one
 * after it is; an offset-based page would have shown "bob" twice. */
static void test_inserts_between_pages_cause_no_repeat(void **state)
{
    struct fixture *f = *state;
    const char *logins[] = {"bob", "cid", "dan", "eve"};
    add_users(f->db, logins, 4);
    struct db_page p;
    OK(users_page(f->db, NULL, NULL, 2, &p, fx_e));
    assert_int_equal(p.n, 2);
    assert_true(p.more);
    assert_string_equal(((const struct user *)p.rows)[1].login, "cid");
    struct db_key after = {0};
    db_key_move(&after, &p.next);
    db_page_clear(&p);

    const char *more[] = {"ann", "abe", "fay"};
    add_users(f->db, more, 3);
    char out[256] = "";
    OK(users_page(f->db, NULL, &after, DB_PAGE_MAX, &p, fx_e));
    for (int i = 0; i < p.n; i++)
        append(out, sizeof out, ((const struct user *)p.rows)[i].login);
    assert_false(p.more);
    db_page_clear(&p);
    db_key_clear(&after);
    assert_string_equal(out, "dan,eve,fay");
}

/* A key a client sends back (a web page's "next" link) is text: set it with db_key_set. */
static void test_a_page_starts_after_a_key_given_as_text(void **state)
{
    struct fixture *f = *state;
    const char *logins[] = {"ann", "bob", "cid"};
    add_users(f->db, logins, 3);
    struct db_key after = {0};
    const char *key[] = {"ann"};
    db_key_set(&after, 1, key);
    struct db_page p;
    OK(users_page(f->db, NULL, &after, 10, &p, fx_e));
    assert_int_equal(p.n, 2);
    assert_string_equal(((const struct user *)p.rows)[0].login, "bob");
    assert_int_equal(p.next.n, 1);
    assert_string_equal(p.next.col[0], "cid");
    db_page_clear(&p);
    db_key_clear(&after);
}

static void test_bad_page_sizes_and_keys_are_refused(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct db_page p;
    assert_int_equal(users_page(f->db, NULL, NULL, 0, &p, &e), OP_EINPUT);
    assert_int_equal(users_page(f->db, NULL, NULL, DB_PAGE_MAX + 1, &p, &e), OP_EINPUT);
    struct db_key two = {0};
    const char *cols[] = {"a", "b"};
    db_key_set(&two, 2, cols);
    assert_int_equal(users_page(f->db, NULL, &two, 10, &p, &e), OP_EINPUT);
    db_key_clear(&two);
    assert_string_equal(e.msg, "listing users: the page key has 1 part, not 2");
    db_page_clear(&p);
}

/* Centers sharing a label are ordered, and paged, by (label, id): pages of one row see each
 * once, where a key of the label alone would skip the second. */
static void test_pages_of_centers_with_the_same_label_see_each(void **state)
{
    struct fixture *f = *state;
    char a[UUID_STR_LEN], b[UUID_STR_LEN], c[UUID_STR_LEN];
    fx_center(f->db, "North", "ORG-A", NULL, a);
    fx_center(f->db, "North", "ORG-A", NULL, b);
    fx_center(f->db, "Alpha", "ORG-A", NULL, c);
    const char *first = strcmp(a, b) < 0 ? a : b, *second = strcmp(a, b) < 0 ? b : a;
    const char *want[] = {c, first, second};
    struct db_key after = {0};
    int n = 0, more = 1;
    while (more) {
        struct db_page p;
        OK(testcenters_page(f->db, &after, 1, &p, fx_e));
        for (int i = 0; i < p.n; i++, n++) {
            assert_true(n < 3);
            assert_string_equal(((const struct test_center *)p.rows)[i].id, want[n]);
        }
        more = p.more;
        db_key_move(&after, &p.next);
        db_page_clear(&p);
    }
    db_key_clear(&after);
    assert_int_equal(n, 3);
}

/* The staff cursor walks the duty's members by center then login, with the users behind it. */
static void test_staff_cursor_lists_members_by_center_then_login(void **state)
{
    struct fixture *f = *state;
    char center[UUID_STR_LEN], p1[UUID_STR_LEN], p2[UUID_STR_LEN];
    fx_center(f->db, "North", "ORG-A", NULL, center);
    fx_user(f->db, "zed", ROLE_PROCTOR, p1);
    fx_user(f->db, "amy", ROLE_PROCTOR, p2);
    const char *ids[] = {p1, p2};
    fx_begin(f->db);
    OK(testcenters_set_staff(f->db, center, CENTER_DUTY_PROCTOR, ids, 2, NULL, fx_e));
    fx_commit(f->db);
    struct db_cursor c;
    testcenters_staff_cursor(&c, NULL, CENTER_DUTY_PROCTOR);
    c.page_size = 1;
    struct op_err e = {0};
    const void *row;
    char seen[64] = "";
    while (db_cursor_next(f->db, &c, &row, &e) == 0 && row) {
        assert_string_equal(((const struct test_center_staff *)row)->center_id, center);
        append(seen, sizeof seen, ((const struct test_center_staff *)row)->login);
    }
    assert_int_equal(e.code, 0);
    db_cursor_close(&c);
    assert_string_equal(seen, "amy,zed");
}

/* ---- the statement API (the same for every backend) ---- */

/* Values go in and come back as they were: text, 64-bit integers, blobs with zero bytes in
 * them, SQL NULL (db_bind_text(NULL) too). */
static void test_bound_values_come_back_as_they_went_in(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    /* through columns of the schema's types, as in real SQL: PostgreSQL types a parameter by
     * where it goes */
    assert_int_equal(db_exec(f->db,
                             "CREATE TABLE v (t TEXT, i INTEGER, b BLOB, n1 TEXT, n2 TEXT,"
                             " s INTEGER)",
                             &e),
                     0);
    struct db_stmt *st = db_stmt(f->db, "INSERT INTO v VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &e);
    assert_non_null(st);
    const unsigned char blob[] = {0x00, 0xff, 0x00, 0x41};
    db_bind_text(st, 1, "été");
    db_bind_int64(st, 2, INT64_C(9007199254740993)); /* past a double's exact range */
    db_bind_blob(st, 3, blob, sizeof blob);
    db_bind_null(st, 4);
    db_bind_text(st, 5, NULL);
    db_bind_int(st, 6, -7);
    assert_int_equal(db_step(st), DB_DONE);
    db_stmt_done(f->db, st);
    st = db_stmt(f->db, "SELECT t, i, b, n1, n2, s FROM v", &e);
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_column_text(st, 0), "été");
    assert_true(db_column_int64(st, 1) == INT64_C(9007199254740993));
    size_t len = 0;
    const void *p = db_column_blob(st, 2, &len);
    assert_int_equal(len, sizeof blob);
    assert_memory_equal(p, blob, sizeof blob);
    assert_false(db_column_is_null(st, 2));
    assert_true(db_column_is_null(st, 3));
    assert_true(db_column_is_null(st, 4));
    assert_null(db_column_text(st, 4));
    assert_int_equal(db_column_int(st, 5), -7);
    assert_int_equal(db_step(st), DB_DONE);
    db_stmt_done(f->db, st);
}

/* A ?N inside a string literal is text, not a placeholder, on every backend (PostgreSQL's
 * rewrites ?N to $N only outside literals). */
static void test_a_placeholder_inside_a_literal_is_text(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    assert_int_equal(db_exec(f->db, "CREATE TABLE q (s TEXT)", &e), 0);
    assert_int_equal(
        db_run(f->db, "INSERT INTO q VALUES ('?1 isn''t ?2' || ?1)", "x", NULL, "q", &e), 0);
    struct db_stmt *st = db_stmt(f->db, "SELECT s FROM q", &e);
    assert_int_equal(db_step(st), DB_ROW);
    assert_string_equal(db_column_text(st, 0), "?1 isn't ?2x");
    db_stmt_done(f->db, st);
}

/* Text sorts in byte order on every backend (upper case before lower, "é" last), so a list
 * and its keyset pages read the same on SQLite and on PostgreSQL whatever its locale. */
static void test_text_sorts_in_byte_order(void **state)
{
    struct fixture *f = *state;
    const char *logins[] = {"b", "\xc3\xa9", "B", "a", "Z"};
    add_users(f->db, logins, 5);
    char seen[64] = "";
    page_through_users(f->db, 2, seen, sizeof seen);
    assert_string_equal(seen, "B,Z|a,b|\xc3\xa9");
}

/* A cached statement comes back with no bindings left from its last user. */
static void test_a_statement_comes_back_without_old_bindings(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct db_stmt *st = db_stmt(f->db, "SELECT ?1", &e);
    db_bind_text(st, 1, "old");
    assert_int_equal(db_step(st), DB_ROW);
    db_stmt_done(f->db, st);
    st = db_stmt(f->db, "SELECT ?1", &e);
    assert_int_equal(db_step(st), DB_ROW);
    assert_true(db_column_is_null(st, 0));
    db_stmt_done(f->db, st);
}

/* A unique key violated is DB_ERR_UNIQUE, another constraint DB_ERR_CONSTRAINT; db_fail makes
 * both OP_ECONFLICT, any other failure OP_EDB, each with the database's message. */
static void test_constraint_failures_have_a_backend_neutral_class(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    assert_int_equal(
        db_exec(f->db, "CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER CHECK (n > 0))", &e), 0);
    assert_int_equal(db_run(f->db, "INSERT INTO t (k, n) VALUES (?1, 1)", "a", NULL, "t", &e), 0);
    assert_int_equal(db_run(f->db, "INSERT INTO t (k, n) VALUES (?1, 1)", "a", NULL, "adding", &e),
                     OP_ECONFLICT);
    assert_int_equal(db_error_class(f->db), DB_ERR_UNIQUE);
    assert_non_null(strstr(e.msg, "adding: "));
    memset(&e, 0, sizeof e);
    assert_int_equal(db_run(f->db, "INSERT INTO t (k, n) VALUES (?1, 0)", "b", NULL, "adding", &e),
                     OP_ECONFLICT);
    assert_int_equal(db_error_class(f->db), DB_ERR_CONSTRAINT);
    memset(&e, 0, sizeof e);
    assert_int_equal(db_run(f->db, "INSERT INTO nowhere VALUES (?1)", "c", NULL, "adding", &e),
                     OP_EDB);
    assert_int_equal(db_error_class(f->db), DB_ERR_OTHER);
}

/* db_changes counts the rows the last write changed; a savepoint rolled back undoes its rows
 * and leaves the rest of the transaction; a released one keeps them. */
static void test_changes_and_savepoints(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    assert_int_equal(db_exec(f->db, "CREATE TABLE t (k TEXT PRIMARY KEY)", &e), 0);
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_true(db_in_transaction(f->db));
    assert_int_equal(db_run(f->db, "INSERT INTO t VALUES (?1), (?2)", "a", "b", "t", &e), 0);
    assert_int_equal(db_changes(f->db), 2);
    assert_int_equal(db_savepoint(f->db, &e), 0);
    assert_int_equal(db_run(f->db, "INSERT INTO t VALUES (?1)", "undone", NULL, "t", &e), 0);
    assert_int_equal(db_savepoint_rollback(f->db, &e), 0);
    assert_int_equal(db_savepoint(f->db, &e), 0);
    assert_int_equal(db_run(f->db, "INSERT INTO t VALUES (?1)", "kept", NULL, "t", &e), 0);
    assert_int_equal(db_savepoint_release(f->db, &e), 0);
    assert_int_equal(db_run(f->db, "DELETE FROM t WHERE k = ?1", "nothing", NULL, "t", &e), 0);
    assert_int_equal(db_changes(f->db), 0);
    assert_int_equal(db_commit(f->db, &e), 0);
    assert_false(db_in_transaction(f->db));
    struct db_stmt *st = db_stmt(f->db, "SELECT k FROM t ORDER BY k", &e);
    char seen[64] = "";
    while (db_step(st) == DB_ROW)
        append(seen, sizeof seen, db_column_text(st, 0));
    assert_string_equal(seen, "a,b,kept");
    db_stmt_done(f->db, st);
}

/* A second connection that wants to write while the first holds the write lock waits (up to
 * the backend's busy wait, 10 s on SQLite), then gets OP_EBUSY, "busy, retry", with
 * DB_ERR_BUSY as the class: never a raw database message. It gets the lock once the first
 * commits. */
static void test_a_second_writer_gets_busy_then_the_lock(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    struct db *other = testutil_db_open(f->dir, "test.db");
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(db_begin(other, &e), OP_EBUSY);
    assert_int_equal(db_error_class(other), DB_ERR_BUSY);
    assert_string_equal(e.msg, "database: starting a transaction: the database is busy");
    assert_false(db_in_transaction(other));
    assert_int_equal(db_commit(f->db, &e), 0);
    memset(&e, 0, sizeof e);
    assert_int_equal(db_begin(other, &e), 0);
    db_rollback(other);
    db_close(other);
}

/* ---- read transactions (db_read) ---- */

struct read_run {
    struct db *other; /* a second connection that writes while the read is open */
    int runs;
    int64_t before, after; /* users counted at the start and at the end of the body */
    const char *write;     /* SQL the body tries, or NULL */
    int touch;             /* the body touches the change feed */
};

static int count_users(struct db *db, int64_t *n, struct op_err *e)
{
    struct db_stmt *st = db_stmt(db, "SELECT count(*) FROM users", e);
    if (!st)
        return OP_EDB;
    int rc = db_step(st);
    *n = rc == DB_ROW ? db_column_int64(st, 0) : -1;
    db_stmt_done(db, st);
    return rc == DB_ROW ? 0 : db_fail(db, e, "counting users");
}

static int read_body(struct db *db, void *ctx, struct op_err *e)
{
    struct read_run *r = ctx;
    r->runs++;
    int rc = count_users(db, &r->before, e);
    if (rc == 0 && r->other) { /* another connection commits a user meanwhile */
        char id[UUID_STR_LEN], login[32];
        snprintf(login, sizeof login, "meanwhile%d", r->runs);
        fx_user(r->other, login, ROLE_TEST_TAKER, id);
    }
    if (rc == 0 && r->write)
        rc = db_exec(db, r->write, e);
    if (rc == 0 && r->touch)
        rc = feed_touch(db, FEED_USER, "someone", e);
    if (rc == 0)
        rc = count_users(db, &r->after, e);
    return rc;
}

/* A read sees one snapshot: a user another connection commits during the body is not seen
 * by the body's later statements, and is seen by the next read. */
static void test_a_read_transaction_sees_one_snapshot(void **state)
{
    struct fixture *f = *state;
    const char *a[] = {"ann", "bob"};
    add_users(f->db, a, 2);
    struct db *other = testutil_db_open(f->dir, "test.db");
    struct read_run r = {other, 0, 0, 0, NULL, 0};
    OK(db_read(f->db, read_body, &r, fx_e));
    assert_int_equal(r.before, 2);
    assert_int_equal(r.after, 2);
    struct read_run again = {NULL, 0, 0, 0, NULL, 0};
    OK(db_read(f->db, read_body, &again, fx_e));
    assert_int_equal(again.after, 3);
    assert_false(db_in_transaction(f->db));
    /* it re-runs its body like db_write */
    db_lose_races(f->db, 1);
    OK(db_read(f->db, read_body, &again, fx_e));
    assert_int_equal(again.runs, 3);
    db_close(other);
}

/* A read takes no write lock: it runs at once while another connection holds it (with a
 * busy wait of 50 ms, a read that waited would fail), and a writer is not held up by it. */
static void test_a_read_does_not_wait_for_the_writer(void **state)
{
    struct fixture *f = *state;
    struct db *other = testutil_db_open(f->dir, "test.db");
    OK(db_set_busy_timeout(f->db, 50, fx_e));
    OK(db_begin(other, fx_e));
    struct read_run r = {NULL, 0, 0, 0, NULL, 0};
    OK(db_read(f->db, read_body, &r, fx_e));
    OK(db_commit(other, fx_e));
    /* and a write after the read takes the lock as ever */
    OK(db_begin(f->db, fx_e));
    OK(db_commit(f->db, fx_e));
    db_close(other);
}

/* A write inside a read transaction fails and changes nothing; so does a change noted for the
 * feed; the connection writes normally afterwards. */
static void test_a_write_inside_a_read_transaction_fails(void **state)
{
    struct fixture *f = *state;
    const char *a[] = {"ann"};
    add_users(f->db, a, 1);
    struct read_run r = {NULL, 0, 0, 0, "DELETE FROM users", 0};
    struct op_err e = {0};
    assert_int_equal(db_read(f->db, read_body, &r, &e), OP_EDB);
    assert_true(e.msg[0] != '\0');
    assert_int_equal(testutil_query_int(f->db, "SELECT count(*) FROM users"), 1);
    struct read_run t = {NULL, 0, 0, 0, NULL, 1};
    memset(&e, 0, sizeof e);
    assert_int_equal(db_read(f->db, read_body, &t, &e), OP_ESTATE);
    assert_false(db_in_transaction(f->db));
    const char *b[] = {"bob"};
    add_users(f->db, b, 1);
    assert_int_equal(testutil_query_int(f->db, "SELECT count(*) FROM users"), 2);
}

/* Time comes from C (timestamp_now), never from SQL: no custom SQL function is registered,
 * so SQL that asked the database for the time would fail on every backend alike. */
static void test_sql_has_no_clock_function(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    assert_null(db_stmt(f->db, "SELECT op_now()", &e));
    assert_int_equal(e.code, OP_EDB);
}

static int64_t count_meta(struct db *db)
{
    struct op_err e = {0};
    struct db_stmt *st = db_stmt(db, "SELECT count(*) FROM meta WHERE key LIKE 'later-%'", &e);
    assert_non_null(st);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t n = db_column_int64(st, 0);
    db_stmt_done(db, st);
    return n;
}

/* db_step_later: a statement whose outcome waits for the next request (on PostgreSQL, sent
 * in a pipeline with the COMMIT). What it writes is seen by the next statement of the same
 * transaction and committed with it; when it fails, the transaction fails as a whole, at once
 * (SQLite) or at COMMIT (PostgreSQL), with the statement's error, and nothing of it stays. */
static void test_a_statement_run_later_commits_with_the_transaction_or_fails_it(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    const char *ins = "INSERT INTO meta (key, value) VALUES (?1, ?2)";
    assert_int_equal(db_begin(f->db, &e), 0);
    struct db_stmt *st = db_stmt(f->db, ins, &e);
    db_bind_text(st, 1, "later-1");
    db_bind_text(st, 2, "v");
    assert_int_equal(db_step_later(f->db, st, "meta", &e), 0);
    assert_int_equal(count_meta(f->db), 1); /* the next request sees it */
    st = db_stmt(f->db, ins, &e);
    db_bind_text(st, 1, "later-2");
    db_bind_text(st, 2, "v");
    assert_int_equal(db_step_later(f->db, st, "meta", &e), 0);
    assert_int_equal(db_commit(f->db, &e), 0); /* sent with the COMMIT */
    assert_int_equal(count_meta(f->db), 2);

    assert_int_equal(db_begin(f->db, &e), 0);
    st = db_stmt(f->db, ins, &e);
    db_bind_text(st, 1, "later-3");
    db_bind_text(st, 2, "v");
    assert_int_equal(db_step_later(f->db, st, "meta", &e), 0);
    st = db_stmt(f->db, ins, &e);
    db_bind_text(st, 1, "later-4");
    db_bind_null(st, 2); /* value is NOT NULL */
    int rc = db_step_later(f->db, st, "meta", &e);
    if (rc == 0)
        rc = db_commit(f->db, &e);
    else
        db_rollback(f->db);
    assert_int_equal(rc, OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "value"));
    assert_false(db_in_transaction(f->db));
    assert_int_equal(count_meta(f->db), 2); /* later-3 went with the failure */

    assert_int_equal(db_begin(f->db, &e), 0); /* the connection works on */
    assert_int_equal(db_run(f->db, ins, "later-5", "v", "meta", &e), 0);
    assert_int_equal(db_commit(f->db, &e), 0);
    assert_int_equal(count_meta(f->db), 3);
}

/* Many statements run later in one transaction all commit with it; on PostgreSQL they go in
 * pipelines of at most 256, so the server's replies never fill the socket (a deadlock): 600
 * cost BEGIN, two full pipelines and the last one with the COMMIT. */
static void test_many_statements_run_later_commit_in_bounded_pipelines(void **state)
{
    struct fixture *f = *state;
    struct op_err e = {0};
    const char *ins = "INSERT INTO meta (key, value) VALUES (?1, ?2)";
    assert_int_equal(db_begin(f->db, &e), 0);
    assert_int_equal(db_run(f->db, ins, "later-prepared", "v", "meta", &e), 0);
    assert_int_equal(db_commit(f->db, &e), 0);
    uint64_t rt = db_pgsql_round_trips();
    assert_int_equal(db_begin(f->db, &e), 0);
    for (int i = 0; i < 600; i++) {
        char key[32];
        snprintf(key, sizeof key, "later-%d", i);
        struct db_stmt *st = db_stmt(f->db, ins, &e);
        assert_non_null(st);
        db_bind_text(st, 1, key);
        db_bind_text(st, 2, "v");
        assert_int_equal(db_step_later(f->db, st, "meta", &e), 0);
    }
    assert_int_equal(db_commit(f->db, &e), 0);
    int pg = strcmp(db_backend_name(f->db), "pgsql") == 0;
    assert_int_equal(db_pgsql_round_trips() - rt, pg ? 1 + 2 + 1 : 0);
    assert_int_equal(count_meta(f->db), 601);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_nested_use_of_a_held_statement_gets_a_private_one),
        T(test_300_distinct_statements_evict_but_never_a_held_one),
        T(test_a_cache_of_held_statements_still_serves),
        T(test_nested_cursors_over_users_terminate),
        T(test_pages_of_1_2_and_n_cover_every_row_once_in_order),
        T(test_inserts_between_pages_cause_no_repeat),
        T(test_a_page_starts_after_a_key_given_as_text),
        T(test_a_placeholder_inside_a_literal_is_text),
        T(test_text_sorts_in_byte_order),
        T(test_bad_page_sizes_and_keys_are_refused),
        T(test_pages_of_centers_with_the_same_label_see_each),
        T(test_staff_cursor_lists_members_by_center_then_login),
        T(test_bound_values_come_back_as_they_went_in),
        T(test_a_statement_comes_back_without_old_bindings),
        T(test_constraint_failures_have_a_backend_neutral_class),
        T(test_a_statement_run_later_commits_with_the_transaction_or_fails_it),
        T(test_many_statements_run_later_commit_in_bounded_pipelines),
        T(test_changes_and_savepoints),
        T(test_sql_has_no_clock_function),
        T(test_a_second_writer_gets_busy_then_the_lock),
        T(test_a_read_transaction_sees_one_snapshot),
        T(test_a_read_does_not_wait_for_the_writer),
        T(test_a_write_inside_a_read_transaction_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
