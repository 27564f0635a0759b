#!/bin/sh
# check-layers.sh [ROOT] - checks the layering of ROOT/src (default: this checkout); fails,
# naming each file and line, when
#   1. a file under src/<layer>/ includes a header of a higher layer (a lower layer never
#      knows the ones built on it, so the layers do not loop), or src/ has a folder that is in
#      no layer (place it below, and in docs/architecture.md);
#   2. a file under src/cli/ or src/http/ holds SQL (sqlite3 calls, db_stmt/db_exec/db_run, SQL
#      keywords in strings) or a transaction (db_begin, db_commit, db_commit_if, db_rollback):
#      the CLI parses options, calls one operation of src/app, prints; an HTTP handler does the
#      same with a request and its answer.
#   3. a C file of src/, tests/ or bench/ other than the SQLite backend (src/store/db_sqlite.c)
#      calls sqlite3_* or includes <sqlite3.h>: everything else goes through the storage
#      interface of src/store/db.h, so that another backend (PostgreSQL) can take its place;
#      and the backend table, store/db_backend.h, is included only by src/store/db*.c.
#   4. a C file of src/, tests/ or bench/ other than the PostgreSQL backend
#      (src/store/db_pgsql.c) and the tests allowed below calls PQ* or includes <libpq-fe.h>.
#   5. a C file of src/, tests/ or bench/ other than the HTTP server (src/http/server.c) calls
#      MHD_* or includes <microhttpd.h>: endpoints are written against http/server.h, so that
#      the server library is one file's business.
#   6. a C file of src/, tests/ or bench/ other than the HTTP client (src/http/client.c)
#      calls curl_* or includes <curl/curl.h>: one place sets TLS checking, timeouts, limits.
# The layers, lowest first; folders on one line are on the same level and may include each
# other. Files directly in src/ (main.c) are above them all.
LAYERS='base
store
crypto auth
instance
qti import
app
sync
cli http'

# Files that sit at the level of base although their folder is higher (rule 1): the HTTP
# client and its root URL parser live in src/http beside the server, but the device's sync
# code (src/sync, below cli/http) calls them, so they include only base/ and are checked as
# base (docs/architecture.md, "src/http").
BASE_LEVEL_FILES='src/http/client.c src/http/client.h src/http/url.c src/http/url.h'

# Files of src/cli exempt from rule 2 while their SQL moves to src/app, space-separated.
# None left: cmd_eligibilities.c, the last one, moved to src/app/eligibilities.c.
CLI_SQL_ALLOW=''

# The one file that may talk to SQLite (rule 3), and the files exempt from rule 3: the
# benchmarks' bare-SQLite baselines, the limits outpost's own writes are measured against.
SQLITE_BACKEND='src/store/db_sqlite.c'
# The one file that may call libpq (rule 4), and the tests that reach the server on purpose:
# the throw-away server's checks, the connection string's (parsed by libpq itself), and the
# fixture that creates and
# drops each test's database; and bench/bench_store.c and bench/bench_backoffice.c, whose
# bare-libpq runs are the limits outpost's PostgreSQL backend is measured against.
PGSQL_BACKEND='src/store/db_pgsql.c'
PGSQL_ALLOW='tests/unit/test_pg_server.c tests/unit/test_pg_conninfo.c tests/unit/test_config_pgsql.c
             tests/unit/testutil.c bench/bench_store.c bench/bench_backoffice.c'
SQLITE_ALLOW='bench/bench_import_users.c bench/bench_testcenters.c bench/bench_store.c
              bench/bench_sync.c bench/bench_backoffice.c'
# The one file that may call libmicrohttpd (rule 5).
MHD_SERVER='src/http/server.c'
# The HTTP client's test, which runs a bare libmicrohttpd server in process to misbehave on purpose
# (cut downloads, no answer, redirects), something outpost's own server never does; and
# bench/bench_sync.c, whose bare libmicrohttpd server (the same bytes, no outpost) is the limit
# `outpost serve` is measured against.
MHD_ALLOW='tests/unit/test_http_client.c bench/bench_sync.c'

set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if [ ! -d "$root/src" ]; then
    echo "check-layers: $root/src: no such folder" >&2
    exit 2
fi
cd "$root" || exit 2
LC_ALL=C
export LC_ALL
failed=0

levels=$(echo "$LAYERS" | awk '{ for (i = 1; i <= NF; i++) printf "%s=%d ", $i, NR }')

# 1. includes
out=$(find src -name '*.[ch]' | sort | xargs awk -v levels="$levels" -v baselevel="$BASE_LEVEL_FILES" '
    BEGIN {
        n = split(levels, kv, " ")
        for (i = 1; i <= n; i++) { split(kv[i], p, "="); level[p[1]] = p[2] + 0 }
        n = split(baselevel, bl, " ")
        for (i = 1; i <= n; i++) atbase[bl[i]] = 1
        top = 1000
    }
    FNR == 1 {
        split(FILENAME, part, "/")
        dir = part[2]
        if (part[3] == "") { mine = top } # a file directly in src/
        else if (dir in level) { mine = level[dir] }
        else {
            if (!(dir in told))
                print "src/" dir "/: in no layer (add it to LAYERS in scripts/check-layers.sh" \
                      " and to docs/architecture.md)"
            told[dir] = 1
            mine = -1
        }
        if (FILENAME in atbase) { mine = level["base"]; dir = "base (a base-level file)" }
    }
    /^[ \t]*#[ \t]*include[ \t]*"/ {
        if (mine < 0) next
        inc = $0
        sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
        if (inc ~ /\.\./) {
            print FILENAME ":" FNR ": includes \"" inc "\" through .. (name it from src/)"
            next
        }
        if (inc !~ /\//) next
        idir = inc; sub(/\/.*/, "", idir)
        if (!(idir in level)) next
        if (("src/" inc) in atbase) next # a base-level file: any layer may include it
        if (level[idir] > mine)
            print FILENAME ":" FNR ": includes " inc ": " idir " is a layer above " dir
    }')
if [ -n "$out" ]; then
    echo "$out" | sed 's/^/check-layers: /' >&2
    failed=1
fi

# Rules 2 to 6 grep all their files at once (one grep per rule, not one per file: the
# check runs in about a second, and tests/cli/layers.sh runs it some thirty times).

# usage: skip_re FILE... - an ERE matching exactly those file names (none: matches nothing)
skip_re() {
    if [ $# = 0 ]; then echo '^$'; return; fi
    printf '^(%s)$\n' "$(echo "$*" | sed 's/\./\\./g; s/[[:space:]][[:space:]]*/|/g')"
}

# usage: scan FILES SKIP MESSAGE GREP-ARGS... - every line of FILES (one a line) that the
# grep arguments match, in a file whose name SKIP (an ERE) does not match, reported as
# "check-layers: FILE:LINE:TEXT (MESSAGE)"; sets failed when there is one.
scan() {
    scan_files=$1 scan_skip=$2 scan_msg=$3
    shift 3
    [ -n "$scan_files" ] || return 0
    scan_hits=$(echo "$scan_files" | xargs grep -nHE "$@" | awk -v skip="$scan_skip" '{
        f = $0; sub(/:.*/, "", f); if (f !~ skip) print }')
    if [ -n "$scan_hits" ]; then
        echo "$scan_hits" | sed "s|^|check-layers: |; s|\$| ($scan_msg)|" >&2
        failed=1
    fi
}

# 2. no SQL and no transaction in src/cli and src/http
for door in cli http; do
    [ -d src/$door ] || continue
    if [ $door = cli ]; then what='the CLI'; else what='an HTTP handler or the server'; fi
    # shellcheck disable=SC2086
    scan "$(find src/$door -name '*.[ch]' | sort)" "$(skip_re $CLI_SQL_ALLOW)" \
        "SQL or a transaction in $what: move it to src/app" \
        -e 'sqlite3_|#[[:space:]]*include[[:space:]]*<sqlite3\.h>' \
        -e '\<db_(stmt|exec|run|sqlite|bind_text|column_[a-z_]+|find_labelled|next_seq)[[:space:]]*\(' \
        -e '\<db_(begin|commit|commit_if|rollback)[[:space:]]*\(' \
        -e '"[^"]*(SELECT |INSERT INTO|UPDATE |DELETE FROM|BEGIN IMMEDIATE|BEGIN TRANSACTION|PRAGMA )'
done

files=$(for d in src tests bench; do [ -d "$d" ] && find "$d" -name '*.[ch]'; done | sort)

# 3. SQLite only in its backend file
# shellcheck disable=SC2086
scan "$files" "$(skip_re $SQLITE_BACKEND $SQLITE_ALLOW)" \
    "SQLite outside $SQLITE_BACKEND: use the statement API of src/store/db.h" \
    -e '\<sqlite3_' -e '#[[:space:]]*include[[:space:]]*<sqlite3\.h>'
scan "$files" '^src/store/db[^/]*\.c$' \
    "the backend table is private to src/store/db*.c: use src/store/db.h" \
    -e '#[[:space:]]*include[[:space:]]*"store/db_backend\.h"'

# 4. libpq only in its backend file (and the tests that reach the server on purpose)
# shellcheck disable=SC2086
scan "$files" "$(skip_re $PGSQL_BACKEND $PGSQL_ALLOW)" \
    "libpq outside $PGSQL_BACKEND: use the statement API of src/store/db.h" \
    -e '\<PQ[a-z][A-Za-z]*[[:space:]]*\(' -e '#[[:space:]]*include[[:space:]]*<libpq-fe\.h>'

# 5. libmicrohttpd only in the HTTP server's file
# shellcheck disable=SC2086
scan "$files" "$(skip_re $MHD_SERVER $MHD_ALLOW)" \
    "libmicrohttpd outside $MHD_SERVER: write endpoints against http/server.h" \
    -e '\<MHD_[A-Za-z_]+' -e '#[[:space:]]*include[[:space:]]*<microhttpd\.h>'

# 6. libcurl only in the HTTP client
HTTP_CLIENT='src/http/client.c'
scan "$files" "$(skip_re $HTTP_CLIENT)" "libcurl outside $HTTP_CLIENT: use src/http/client.h" \
    -e '\<curl_[a-z_]+[[:space:]]*\(' -e '#[[:space:]]*include[[:space:]]*<curl/'

[ "$failed" = 0 ] || exit 1
echo "check-layers: $(echo "$LAYERS" | sed 's/ /\//g' | paste -sd' ' - | sed 's/ / < /g'): ok"
