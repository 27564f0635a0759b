# Tests of scripts/check-layers.sh: the source tree passes; a copy of it with one planted
# fault of each kind (a lower layer including an upper header, a folder in no layer, SQL or
# a transaction in src/cli or src/http, a sqlite3 call or <sqlite3.h> outside
# src/store/db_sqlite.c, a libpq call or <libpq-fe.h> outside src/store/db_pgsql.c, an MHD_*
# call or <microhttpd.h> outside src/http/server.c)
# fails, naming the file and line. check-layers.sh greps each rule's files at once, so each of
# the thirty runs below takes about a second (it took ~14 s with one grep per file).
. "$(dirname "$0")/lib.sh"
CHECK="$OUTPOST_SOURCE/scripts/check-layers.sh"

run sh "$CHECK" "$OUTPOST_SOURCE"
check "the source tree keeps its layers" status_is 0
check "the check names the order it enforces" contains "$OUT" "base < store < crypto/auth"

# usage: tree NAME - a fresh copy of the source tree's src/ in $WORK/NAME; T is its root
tree() {
    T="$WORK/$1"
    mkdir -p "$T"
    cp -R "$OUTPOST_SOURCE/src" "$T/src"
}

tree store-up
printf '#include "crypto/keys.h"\n' >> "$T/src/store/users.c"
line=$(wc -l < "$T/src/store/users.c")
run sh "$CHECK" "$T"
check "the store including a crypto header fails" status_is 1
check "the failure names the file, the line and the header" contains "$ERR" \
    "src/store/users.c:$line: includes crypto/keys.h: crypto is a layer above store"

tree base-up
printf '#include "app/users.h"\n' >> "$T/src/base/text.h"
run sh "$CHECK" "$T"
check "base including an app header fails" status_is 1
check "the failure names base/text.h" contains "$ERR" "src/base/text.h:"

tree qti-store
printf '#include "store/packages.h"\n' >> "$T/src/qti/compile.c"
run sh "$CHECK" "$T"
check "the QTI compiler including a store header passes (qti is above the store)" status_is 0

tree cli-in-base
printf '#include "cli/cli.h"\n' >> "$T/src/instance/config.c"
run sh "$CHECK" "$T"
check "instance including a cli header fails" status_is 1

tree no-layer
mkdir "$T/src/extra"
printf 'int extra(void);\n' > "$T/src/extra/extra.c"
run sh "$CHECK" "$T"
check "a folder in no layer fails" status_is 1
check "the failure says where to place it" contains "$ERR" "src/extra/: in no layer"

tree cli-sql
printf 'static const char *q = "SELECT id FROM users WHERE login = ?1";\n' >> "$T/src/cli/cmd_users.c"
run sh "$CHECK" "$T"
check "SQL in a string of src/cli fails" status_is 1
check "the failure names the file" contains "$ERR" "src/cli/cmd_users.c:"
check "the failure says where SQL goes" contains "$ERR" "move it to src/app"

tree cli-tx
printf 'static int f(struct db *db, struct op_err *e) { return db_begin(db, e); }\n' \
    >> "$T/src/cli/cmd_keys.c"
run sh "$CHECK" "$T"
check "a transaction in src/cli fails" status_is 1
check "the failure names cmd_keys.c" contains "$ERR" "src/cli/cmd_keys.c:"

tree cli-sqlite
printf 'static void g(sqlite3_stmt *st) { sqlite3_step(st); }\n' >> "$T/src/cli/table.c"
run sh "$CHECK" "$T"
check "a sqlite3 call in src/cli fails" status_is 1

tree cli-commit-if
printf 'static int h(struct db *db, struct op_err *e) { return db_commit_if(db, 0, e); }\n' \
    >> "$T/src/cli/options.c"
run sh "$CHECK" "$T"
check "db_commit_if in src/cli fails" status_is 1

tree store-sqlite
printf 'static int k(sqlite3_stmt *st) { return sqlite3_step(st); }\n' >> "$T/src/store/users.c"
line=$(wc -l < "$T/src/store/users.c")
run sh "$CHECK" "$T"
check "a sqlite3 call in an entity file of the store fails" status_is 1
check "the failure names the file and line and the way out" contains "$ERR" \
    "src/store/users.c:$line:"
check "the failure names the backend file and the API" contains "$ERR" \
    "SQLite outside src/store/db_sqlite.c: use the statement API of src/store/db.h"

tree include-sqlite
printf '#include <sqlite3.h>\n' >> "$T/src/instance/keycheck.c"
run sh "$CHECK" "$T"
check "including sqlite3.h outside the backend fails" status_is 1
check "the failure names keycheck.c" contains "$ERR" "src/instance/keycheck.c:"

tree test-sqlite
mkdir -p "$T/tests/unit"
printf 'static int q(sqlite3 *s) { return sqlite3_exec(s, "", 0, 0, 0); }\n' \
    > "$T/tests/unit/test_raw.c"
run sh "$CHECK" "$T"
check "a sqlite3 call in a test fails" status_is 1
check "the failure names the test file" contains "$ERR" "tests/unit/test_raw.c:1:"

tree bench-sqlite
mkdir -p "$T/bench"
printf '#include <sqlite3.h>\n' > "$T/bench/bench_import_users.c"
run sh "$CHECK" "$T"
check "a benchmark's bare-SQLite baseline on the allowlist passes" status_is 0
printf '#include <sqlite3.h>\n' > "$T/bench/bench_other.c"
run sh "$CHECK" "$T"
check "another benchmark including sqlite3.h fails" status_is 1

tree backend-table
printf '#include "store/db_backend.h"\n' >> "$T/src/store/feed.c"
run sh "$CHECK" "$T"
check "an entity file including the private backend table fails" status_is 1
check "the failure names feed.c and the header to use" contains "$ERR" \
    "src/store/feed.c:"

tree backend-sqlite
printf 'static int z(sqlite3 *s) { return sqlite3_changes(s); }\n' >> "$T/src/store/db_sqlite.c"
run sh "$CHECK" "$T"
check "the SQLite backend file itself may call sqlite3" status_is 0

tree store-libpq
printf 'static int p(PGconn *c) { return PQstatus(c); }\n' >> "$T/src/store/users.c"
line=$(wc -l < "$T/src/store/users.c")
run sh "$CHECK" "$T"
check "a libpq call in an entity file of the store fails" status_is 1
check "the failure names the file, the line and the way out" contains "$ERR" \
    "src/store/users.c:$line:static int p(PGconn *c) { return PQstatus(c); } (libpq outside src/store/db_pgsql.c"

tree include-libpq
mkdir -p "$T/tests/unit"
printf '#include <libpq-fe.h>\n' > "$T/tests/unit/test_raw.c"
run sh "$CHECK" "$T"
check "a test including libpq-fe.h off the allowlist fails" status_is 1
check "the failure names the test file" contains "$ERR" "tests/unit/test_raw.c:1:"

tree backend-libpq
printf 'static int z(PGconn *c) { return PQstatus(c); }\n' >> "$T/src/store/db_pgsql.c"
run sh "$CHECK" "$T"
check "the PostgreSQL backend file itself may call libpq" status_is 0

tree http-sql
printf 'static const char *q = "DELETE FROM users WHERE id = ?1";\n' >> "$T/src/http/api_health.c"
run sh "$CHECK" "$T"
check "SQL in an HTTP handler fails" status_is 1
check "the failure names the handler's file" contains "$ERR" "src/http/api_health.c:"

tree http-tx
printf 'static int t(struct db *db, struct op_err *e) { return db_begin(db, e); }\n' \
    >> "$T/src/http/routes.c"
run sh "$CHECK" "$T"
check "a transaction in src/http fails" status_is 1

tree http-mhd
printf 'static void m(struct MHD_Response *r) { MHD_destroy_response(r); }\n' >> "$T/src/http/api_health.c"
line=$(wc -l < "$T/src/http/api_health.c")
run sh "$CHECK" "$T"
check "an MHD call outside the server's file fails" status_is 1
check "the failure names the file, the line and the way out" contains "$ERR" \
    "src/http/api_health.c:$line:static void m(struct MHD_Response *r) { MHD_destroy_response(r); } (libmicrohttpd outside src/http/server.c"

tree include-mhd
mkdir -p "$T/tests/unit"
printf '#include <microhttpd.h>\n' > "$T/tests/unit/test_raw_http.c"
run sh "$CHECK" "$T"
check "a test including microhttpd.h fails" status_is 1

tree server-mhd
printf 'static void m2(struct MHD_Response *r) { MHD_destroy_response(r); }\n' >> "$T/src/http/server.c"
run sh "$CHECK" "$T"
check "the HTTP server's file itself may call libmicrohttpd" status_is 0

run sh "$CHECK" "$WORK/nowhere"
check "a root without src/ is an error, not a pass" status_not 0

finish
