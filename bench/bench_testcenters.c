/*
 * bench_testcenters.c - import-testcenters when every center shares the same staff (the
 * national-exam shape: the same four proctors on every center), at two sizes, to show that
 * the cost grows linearly with the rows, compared in the same run with the raw limit: the
 * same centers and staff rows inserted with bare SQLite in one transaction, no change feed.
 *
 * usage: bench_testcenters [N1 N2]   (default 2000 20000)
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/fs.h"
#include "import/csv.h"
#include "import/problems.h"
#include "app/imports.h"
#include "store/db.h"
#include "store/users.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const struct op_err *e)
{
    fprintf(stderr, "bench_testcenters: %s\n", e->msg);
    exit(1);
}

static struct db *fresh_db(const char *dir, const char *name)
{
    char *path = fs_join(dir, name);
    struct db *db;
    struct op_err e = {0};
    if (db_open(path, 1, &db, &e) != 0)
        die(&e);
    free(path);
    return db;
}

static double outpost_import(const char *dir, int n)
{
    char name[64];
    snprintf(name, sizeof name, "outpost-%d.db", n);
    struct db *db = fresh_db(dir, name);
    struct op_err e = {0};
    if (db_begin(db, &e) != 0)
        die(&e);
    for (int i = 1; i <= 4; i++) {
        struct user u;
        memset(&u, 0, sizeof u);
        char login[16];
        snprintf(login, sizeof login, "p%d", i);
        u.login = login;
        u.role = (char *)ROLE_PROCTOR;
        u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
        if (users_insert(db, &u, &e) != 0)
            die(&e);
    }
    if (db_commit(db, &e) != 0)
        die(&e);
    struct buf csv = BUF_INIT;
    buf_puts(&csv, "Label,Organisation Id,Proctors\n");
    for (int i = 0; i < n; i++)
        buf_printf(&csv, "Center %d,org-%d,p1;p2;p3;p4\n", i, i % 10);
    /* the import as the app layer runs it (its time includes parsing the CSV text) */
    struct instance inst;
    memset(&inst, 0, sizeof inst);
    inst.dir = (char *)dir;
    inst.role = ROLE_CENTRAL;
    inst.db = db;
    inst.settings.csv_max_bytes = csv.len + 1;
    struct app_import_request req = {"centers.csv", csv.data, csv.len, 0};
    struct app_import_report r;
    double t0 = now();
    if (app_imports_testcenters(&inst, &req, &r, &e) != 0)
        die(&e);
    double dt = now() - t0;
    app_import_report_free(&r);
    buf_free(&csv);
    db_close(db);
    return dt;
}

static double raw_insert(const char *dir, int n)
{
    char name[64];
    snprintf(name, sizeof name, "raw-%d.db", n);
    db_close(fresh_db(dir, name)); /* the schema */
    char *path = fs_join(dir, name);
    sqlite3 *s = NULL;
    if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_testcenters: %s\n", sqlite3_errmsg(s));
        exit(1);
    }
    free(path);
    sqlite3_exec(s, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    double t0 = now();
    sqlite3_exec(s, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_stmt *c, *st;
    sqlite3_prepare_v2(s,
                       "INSERT INTO test_centers (id, label, org_id, created_at, updated_at)"
                       " VALUES (?1, ?2, ?3, 'now', 'now')",
                       -1, &c, NULL);
    sqlite3_prepare_v2(s,
                       "INSERT INTO test_center_staff (center_id, user_id, duty)"
                       " VALUES (?1, ?2, 'proctor')",
                       -1, &st, NULL);
    sqlite3_exec(s, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
    for (int i = 0; i < n; i++) {
        char id[40], label[40], org[16];
        snprintf(id, sizeof id, "c-%d", i);
        snprintf(label, sizeof label, "Center %d", i);
        snprintf(org, sizeof org, "org-%d", i % 10);
        sqlite3_bind_text(c, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 2, label, -1, SQLITE_STATIC);
        sqlite3_bind_text(c, 3, org, -1, SQLITE_STATIC);
        sqlite3_step(c);
        sqlite3_reset(c);
        for (int k = 1; k <= 4; k++) {
            char uid[8];
            snprintf(uid, sizeof uid, "u%d", k);
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, uid, -1, SQLITE_STATIC);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(c);
    sqlite3_finalize(st);
    if (sqlite3_exec(s, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_testcenters: %s\n", sqlite3_errmsg(s));
        exit(1);
    }
    double dt = now() - t0;
    sqlite3_close(s);
    return dt;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    int sizes[2] = {2000, 20000};
    if (argc == 3) {
        sizes[0] = atoi(argv[1]);
        sizes[1] = atoi(argv[2]);
    }
    char tmpl[] = "/tmp/outpost-bench-centers-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir)
        return 1;
    printf("import-testcenters, every center with the same 4 proctors\n");
    printf("%8s %12s %12s %8s %14s\n", "centers", "outpost s", "raw s", "ratio", "outpost us/row");
    for (int i = 0; i < 2; i++) {
        double o = outpost_import(dir, sizes[i]);
        double r = raw_insert(dir, sizes[i]);
        printf("%8d %12.3f %12.3f %8.1f %14.1f\n", sizes[i], o, r, o / r, o / sizes[i] * 1e6);
    }
    fs_remove_tree(dir);
    return 0;
}
