/* test_feed_concurrency.c - several processes on one database, each with its own connection
 * (fork): two writers importing test takers, assigning them, moving centers between
 * organisations and withdrawing eligibilities at once, while a reader pages through both
 * organisations' feeds with small pages; the reader ends with exactly the scope central holds.
 * A center moved in one transaction while a test taker is added to its eligibility in another
 * reaches both organisations' devices; two processes adding the same login at once leave one
 * row and the loser gets the usual "already exists".
 *
 * Runs on both backends (unit/ and pg/unit/); it is written for PostgreSQL's several writers
 * (store/db_pgsql.c: one writer at a time under the advisory lock) and SQLite's single
 * writer must pass it too. The children use no cmocka assertion: they print what went wrong
 * and exit non-zero, and the parent checks their exit codes. */
#include "testutil.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "centers_fixture.h"
#include "feed_view_fixture.h"

#define DB_FILE  "test.db"
#define N_CENTER 4
#define ROUNDS   30
#define RETRIES  100

static const char *const ORGS[2] = {"ORG-A", "ORG-B"};

struct world {
    char d[2][UUID_STR_LEN];
    char c[N_CENTER][UUID_STR_LEN];
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs fn in a transaction, again while the database is busy (a bounded number of times). */
typedef int (*tx_fn)(struct db *db, void *arg, struct op_err *e);
static int tx(struct db *db, tx_fn fn, void *arg, struct op_err *e)
{
    for (int attempt = 0; attempt < RETRIES; attempt++) {
        memset(e, 0, sizeof *e);
        int rc = db_begin(db, e);
        if (rc == 0) {
            rc = fn(db, arg, e);
            if (rc == 0)
                rc = db_commit(db, e);
            if (rc != 0)
                db_rollback(db);
        }
        if (rc != OP_EBUSY)
            return rc;
        sleep_ms(10);
    }
    return OP_EBUSY;
}

struct move {
    const char *center;
    const char *org; /* NULL: the other one */
};
static int do_move(struct db *db, void *arg, struct op_err *e)
{
    struct move *m = arg;
    struct test_center c;
    int rc = testcenters_get(db, m->center, &c, e);
    if (rc != 0)
        return rc;
    const char *to = m->org ? m->org : strcmp(c.org_id, ORGS[0]) == 0 ? ORGS[1] : ORGS[0];
    struct test_center_changes ch = {.org_id = to};
    int changed = 0;
    rc = testcenters_update(db, m->center, c.version, &ch, &changed, e);
    test_center_clear(&c);
    return rc;
}

/* Adds a new test taker and makes the eligibility (center, delivery) theirs, with the
 * `keep` test takers it is given (the import of one row). */
struct enrol {
    const char *center, *delivery, *login;
    const char *keep[4];
    int nkeep;
    char id[UUID_STR_LEN]; /* out: the new test taker */
};
static int do_enrol(struct db *db, void *arg, struct op_err *e)
{
    struct enrol *en = arg;
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)en->login;
    u.role = (char *)ROLE_TEST_TAKER;
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    int rc = users_insert(db, &u, e);
    if (rc != 0)
        return rc;
    memcpy(en->id, u.id, UUID_STR_LEN);
    const char *ids[5];
    for (int i = 0; i < en->nkeep; i++)
        ids[i] = en->keep[i];
    ids[en->nkeep] = u.id;
    return eligibilities_set(db, en->center, en->delivery, ids, en->nkeep + 1,
                             ELIGIBILITY_PROCTORED_KEEP, NULL, NULL, e);
}

struct pair {
    const char *center, *delivery;
};
static int do_withdraw(struct db *db, void *arg, struct op_err *e)
{
    struct pair *p = arg;
    struct eligibility el;
    int rc = eligibilities_get_pair(db, p->center, p->delivery, &el, e);
    if (rc == OP_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    rc = eligibilities_delete(db, el.id, e);
    eligibility_clear(&el);
    return rc;
}

static void build(struct db *db, struct world *w)
{
    fx_delivery(db, "D1", 0, w->d[0]);
    fx_delivery(db, "D2", 1, w->d[1]);
    for (int k = 0; k < N_CENTER; k++) {
        char label[8];
        snprintf(label, sizeof label, "C%d", k);
        fx_center(db, label, ORGS[k % 2], NULL, w->c[k]);
    }
}

/* Writer `who` (0 or 1): ROUNDS rounds of enrolling a new test taker (with the previous one
 * kept), moving a center to the other organisation and withdrawing an eligibility. Writer 0
 * works on delivery D1, writer 1 on D2, both on every center. */
static int writer(const char *dir, const struct world *w, int who)
{
    struct db *db = testutil_db_open(dir, DB_FILE);
    struct op_err e = {0};
    char prev[UUID_STR_LEN] = "";
    for (int i = 0; i < ROUNDS; i++) {
        char login[32];
        snprintf(login, sizeof login, "w%d-%d", who, i);
        struct enrol en = {
            .center = w->c[(i + who) % N_CENTER], .delivery = w->d[who], .login = login};
        if (prev[0])
            en.keep[en.nkeep++] = prev;
        if (tx(db, do_enrol, &en, &e) != 0) {
            fprintf(stderr, "writer %d: enrol %s: %s\n", who, login, e.msg);
            return 1;
        }
        memcpy(prev, en.id, UUID_STR_LEN);
        struct move m = {.center = w->c[(i + 2 * who + 1) % N_CENTER]};
        if (tx(db, do_move, &m, &e) != 0) {
            fprintf(stderr, "writer %d: move: %s\n", who, e.msg);
            return 1;
        }
        if (i % 3 == 2) {
            struct pair p = {w->c[(i + who + 2) % N_CENTER], w->d[who]};
            if (tx(db, do_withdraw, &p, &e) != 0) {
                fprintf(stderr, "writer %d: withdraw: %s\n", who, e.msg);
                return 1;
            }
        }
    }
    db_close(db);
    return 0;
}

/* The reader: pages through both organisations' feeds with pages of 1, 2 and 3 while the
 * writers run, until `done` is readable, then catches up and compares its views with the
 * scope central holds. Returns the number of differences (each printed); prints how many
 * pages it read while the writers ran. */
static int reader(const char *dir, int done)
{
    struct db *db = testutil_db_open(dir, DB_FILE);
    struct feed_view fv[2];
    memset(fv, 0, sizeof fv);
    int pages = 0, bad = 0;
    for (;;) {
        struct pollfd p = {.fd = done, .events = POLLIN};
        int finished = poll(&p, 1, 0) > 0;
        for (int k = 0; k < 2; k++)
            if (fv_page(db, ORGS[k], 1 + pages % 3, &fv[k]) < 0)
                return 1;
        pages++;
        if (finished)
            break;
    }
    for (int k = 0; k < 2; k++) {
        if (fv_catch_up(db, ORGS[k], 2, &fv[k]) != 0)
            return 1;
        int d = fv_check(db, ORGS[k], &fv[k]);
        bad += d < 0 ? 1 : d;
        struct feed_view once;
        d = fv_read_once(db, ORGS[k], 3, &once);
        bad += d < 0 ? 1 : d;
        d = fv_check(db, ORGS[k], &once);
        bad += d < 0 ? 1 : d;
        fv_free(&once);
        fv_free(&fv[k]);
    }
    fprintf(stderr, "reader: %d pages while the writers ran\n", pages);
    db_close(db);
    return bad;
}

static void wait_ok(pid_t kid, const char *who)
{
    int status = 0;
    assert_int_equal(waitpid(kid, &status, 0), kid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s failed (status %d)", who, status);
}

/* Two writers and a reader at once; the reader's view of each organisation is the scope. */
static void test_two_writers_and_a_paging_reader_end_with_the_scope(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    struct world w;
    build(db, &w);
    int done[2];
    assert_int_equal(pipe(done), 0);
    fflush(NULL);
    pid_t rd = fork();
    assert_true(rd >= 0);
    if (rd == 0) {
        close(done[1]);
        _exit(reader(dir, done[0]) == 0 ? 0 : 1);
    }
    close(done[0]);
    pid_t wr[2];
    for (int i = 0; i < 2; i++) {
        wr[i] = fork();
        assert_true(wr[i] >= 0);
        if (wr[i] == 0)
            _exit(writer(dir, &w, i));
    }
    wait_ok(wr[0], "writer 0");
    wait_ok(wr[1], "writer 1");
    assert_int_equal(write(done[1], "x", 1), 1);
    close(done[1]);
    wait_ok(rd, "reader");
    /* the writers did what they were asked: 2 * ROUNDS test takers, none lost */
    int64_t n = 0;
    struct op_err e = {0};
    assert_int_equal(users_count(db, ROLE_TEST_TAKER, &n, &e), 0);
    assert_int_equal(n, 2 * ROUNDS);
    db_close(db);
    testutil_rmdir(dir);
}

/* The case of issue 10: center C moves from ORG-A to ORG-B in one transaction while a test
 * taker is added to C's eligibility in another, started while the first is open. `mover_first`
 * says which transaction opens first (and holds on for a while before committing). Both
 * organisations' devices, having read their feeds before, catch up to the scope: the new
 * test taker live in ORG-B, nothing of it live in ORG-A. */
static void race_move_and_enrol(int mover_first)
{
    char *dir;
    struct db *db = testutil_db(&dir);
    struct world w;
    build(db, &w);
    char t0[UUID_STR_LEN];
    fx_user(db, "t0", ROLE_TEST_TAKER, t0);
    const char *v[] = {t0};
    char el[UUID_STR_LEN];
    fx_eligible(db, w.c[0], w.d[0], v, 1, 0, el); /* C0 is in ORG-A */
    struct feed_view fv[2];
    memset(fv, 0, sizeof fv);
    for (int k = 0; k < 2; k++)
        assert_int_equal(fv_catch_up(db, ORGS[k], 2, &fv[k]), 0);

    int opened[2];
    assert_int_equal(pipe(opened), 0);
    fflush(NULL);
    pid_t kids[2];
    for (int role = 0; role < 2; role++) { /* 0: mover, 1: enroller */
        int first = (role == 0) == (mover_first != 0);
        kids[role] = fork();
        assert_true(kids[role] >= 0);
        if (kids[role] != 0)
            continue;
        struct db *c = testutil_db_open(dir, DB_FILE);
        struct op_err e = {0};
        char ch;
        if (!first && read(opened[0], &ch, 1) != 1)
            _exit(1);
        int rc = db_begin(c, &e);
        if (rc == 0 && role == 0) {
            struct move m = {.center = w.c[0], .org = ORGS[1]};
            rc = do_move(c, &m, &e);
        } else if (rc == 0) {
            struct enrol en = {.center = w.c[0], .delivery = w.d[0], .login = "new", .nkeep = 1};
            en.keep[0] = t0;
            rc = do_enrol(c, &en, &e);
        }
        if (rc == 0 && first) {
            if (write(opened[1], "x", 1) != 1)
                _exit(1);
            sleep_ms(300); /* the other transaction starts meanwhile */
        }
        if (rc == 0)
            rc = db_commit(c, &e);
        if (rc != 0) {
            fprintf(stderr, "%s: %s\n", role ? "enrol" : "move", e.msg);
            _exit(1);
        }
        db_close(c);
        _exit(0);
    }
    close(opened[0]);
    close(opened[1]);
    wait_ok(kids[0], "mover");
    wait_ok(kids[1], "enroller");

    struct user u;
    OK(users_get_by_login(db, "new", &u, fx_e));
    for (int k = 0; k < 2; k++) {
        assert_int_equal(fv_catch_up(db, ORGS[k], 1, &fv[k]), 0);
        assert_int_equal(fv_check(db, ORGS[k], &fv[k]), 0);
        struct fv_entry *x = fv_find(&fv[k], FEED_USER, u.id);
        if (k == 0) /* ORG-A: never read it, or read it and then its tombstone */
            assert_true(x == NULL || x->deleted);
        else
            assert_true(x != NULL && !x->deleted);
        fv_free(&fv[k]);
    }
    user_clear(&u);
    db_close(db);
    testutil_rmdir(dir);
}

static void test_center_moved_while_a_test_taker_joins_its_eligibility(void **state)
{
    (void)state;
    race_move_and_enrol(1);
}

static void test_test_taker_joins_an_eligibility_while_its_center_moves(void **state)
{
    (void)state;
    race_move_and_enrol(0);
}

/* Two processes add the same login at once: one row; the loser gets OP_ECONFLICT and the
 * message SQLite gives. The first holds its transaction open while the second inserts. */
static void test_same_login_added_at_once_leaves_one_row(void **state)
{
    (void)state;
    char *dir;
    struct db *db = testutil_db(&dir);
    int opened[2], out[2];
    assert_int_equal(pipe(opened), 0);
    assert_int_equal(pipe(out), 0);
    fflush(NULL);
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] != 0)
            continue;
        struct db *c = testutil_db_open(dir, DB_FILE);
        struct op_err e = {0};
        char ch;
        if (i == 1 && read(opened[0], &ch, 1) != 1)
            _exit(1);
        struct user u;
        memset(&u, 0, sizeof u);
        u.login = (char *)"same";
        u.role = (char *)ROLE_TEST_TAKER;
        u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
        int rc = db_begin(c, &e);
        if (rc == 0)
            rc = users_insert(c, &u, &e);
        if (rc == 0 && i == 0) {
            if (write(opened[1], "x", 1) != 1)
                _exit(1);
            sleep_ms(300);
        }
        if (rc == 0)
            rc = db_commit(c, &e);
        else
            db_rollback(c);
        char msg[OP_ERR_MAX + 16];
        int len = snprintf(msg, sizeof msg, "%d %s\n", rc, rc ? e.msg : "");
        if (write(out[1], msg, (size_t)len) != len)
            _exit(1);
        db_close(c);
        _exit(0);
    }
    close(opened[0]);
    close(opened[1]);
    close(out[1]);
    wait_ok(kids[0], "first");
    wait_ok(kids[1], "second");
    char buf[2 * (OP_ERR_MAX + 16)];
    ssize_t len = 0, r;
    while ((r = read(out[0], buf + len, sizeof buf - 1 - (size_t)len)) > 0)
        len += r;
    close(out[0]);
    buf[len] = '\0';
    /* one line each: the winner "0", the loser the conflict (either order) */
    char expect[128];
    snprintf(expect, sizeof expect, "%d login \"same\" already exists\n", OP_ECONFLICT);
    char *line2 = strchr(buf, '\n');
    assert_non_null(line2);
    line2++;
    int winner_first = strncmp(buf, "0 \n", 3) == 0;
    if (winner_first)
        assert_string_equal(line2, expect);
    else
        assert_true(strncmp(buf, expect, strlen(expect)) == 0 && strcmp(line2, "0 \n") == 0);
    int64_t n = 0;
    struct op_err e = {0};
    assert_int_equal(users_count(db, ROLE_TEST_TAKER, &n, &e), 0);
    assert_int_equal(n, 1);
    db_close(db);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_writers_and_a_paging_reader_end_with_the_scope),
        cmocka_unit_test(test_center_moved_while_a_test_taker_joins_its_eligibility),
        cmocka_unit_test(test_test_taker_joins_an_eligibility_while_its_center_moves),
        cmocka_unit_test(test_same_login_added_at_once_leaves_one_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
