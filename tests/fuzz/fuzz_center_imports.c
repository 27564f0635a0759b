/*
 * fuzz_center_imports.c - import-testcenters and import-eligibilities must accept or refuse
 * any CSV without crashing, leaking or leaving a transaction open. Each input is given to both
 * imports (app/imports.h; its header decides which one gets past the column check) against
 * a fresh in-memory database holding a few users, centers and deliveries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/imports.h"
#include "store/deliveries.h"
#include "store/testcenters.h"
#include "store/users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void add_user(struct db *db, const char *login, const char *role, struct op_err *e)
{
    struct user u;
    memset(&u, 0, sizeof u);
    u.login = (char *)login;
    u.role = (char *)role;
    u.password_hash = (char *)"$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x";
    users_insert(db, &u, e);
}

static void add_center(struct db *db, const char *label, const char *org, struct op_err *e)
{
    struct test_center c;
    memset(&c, 0, sizeof c);
    c.label = (char *)label;
    c.org_id = (char *)org;
    testcenters_insert(db, &c, e);
}

static void add_delivery(struct db *db, const char *label, struct op_err *e)
{
    struct delivery d;
    memset(&d, 0, sizeof d);
    d.label = (char *)label;
    deliveries_insert(db, &d, e);
}

static struct db *fixture_db(void)
{
    struct db *db = NULL;
    struct op_err e = {0};
    if (db_open(":memory:", 1, &db, &e) != 0)
        abort();
    if (db_begin(db, &e) != 0)
        abort();
    add_user(db, "t1", ROLE_TEST_TAKER, &e);
    add_user(db, "t2", ROLE_TEST_TAKER, &e);
    add_user(db, "proc", ROLE_PROCTOR, &e);
    add_user(db, "boss", ROLE_TEST_CENTER_ADMIN, &e);
    add_center(db, "A", "ORG-A", &e);
    add_center(db, "Twin", "ORG-A", &e);
    add_center(db, "Twin", "ORG-B", &e);
    add_delivery(db, "Maths", &e);
    add_delivery(db, "Dup", &e);
    add_delivery(db, "Dup", &e);
    if (db_commit(db, &e) != 0)
        abort();
    return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct db *db = fixture_db();
    /* a central as the app layer sees one: its database and its limits */
    struct instance inst;
    memset(&inst, 0, sizeof inst);
    inst.dir = (char *)"fuzz";
    inst.role = ROLE_CENTRAL;
    inst.db = db;
    inst.settings.csv_max_bytes = 1 << 20;
    for (int skip = 0; skip < 2; skip++) {
        struct app_import_request req = {"fuzz.csv", (const char *)data, size, skip};
        struct app_import_report r;
        struct op_err e = {0};
        app_imports_testcenters(&inst, &req, &r, &e);
        if (db_in_transaction(db))
            abort(); /* an import must never leave its transaction open */
        app_import_report_free(&r);
        err_clear(&e);
        app_imports_eligibilities(&inst, &req, &r, &e);
        if (db_in_transaction(db))
            abort();
        app_import_report_free(&r);
    }
    db_close(db);
    return 0;
}
