# lib.sh - helpers for the command-line tests, which run the real `outpost` binary.
# Each test script sources this file, calls the helpers, and ends with `finish`.
# Environment (set by CTest): OUTPOST (the binary), OUTPOST_SOURCE (the checkout),
# OUTPOST_SAMPLES (../shared/samples, may be absent: a test needing it calls skip_rest).
# With OUTPOST_TEST_DB=pgsql (the second run, pg/cli/NAME) every central the test sets up
# through write_setup or new_instance gets its own new database on the throw-away PostgreSQL
# server of OUTPOST_PG_DIR (the CTest fixture `pgserver`), dropped when the test ends; devices
# stay on SQLite, as they always are. The helpers sql, db_intact and kill_in_write_transaction
# work on either. Without a server the test exits 77 (skipped).
set -u
: "${OUTPOST:?OUTPOST must point at the outpost binary}"
: "${OUTPOST_SOURCE:?OUTPOST_SOURCE must point at the source tree}"
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/outpost-$TEST_NAME-XXXXXX")
FAILURES=0
CHECKS=0
PG_DBS="$WORK/pg-databases" # the databases this test created, one a line
PG_DB_COUNT=0

on_pgsql() { [ "${OUTPOST_TEST_DB:-}" = pgsql ]; }

# usage: pg_q DATABASE SQL - runs SQL with psql on the test server, rows one a line. The PG*
# variables that let psql in are set for psql alone: `outpost` must find its server and
# password from the setup file, not from libpq's environment.
pg_q() { (eval "$PG_ENV" && "$PSQL" -X -q -t -A -v ON_ERROR_STOP=1 -d "$1" -c "$2"); }

# Drops the databases of this test (even when it failed) and removes its folder.
lib_cleanup() {
    if [ -s "$PG_DBS" ]; then
        while read -r pgdb; do
            # FORCE ends autovacuum's session too (pg_signal_backend, pg_tmp.sh); a session
            # starting at that moment can still fail it under load: a few tries
            tries=0
            until pg_q outpost "DROP DATABASE IF EXISTS \"$pgdb\" WITH (FORCE)" > /dev/null 2>&1; do
                tries=$((tries + 1))
                if [ $tries -ge 10 ]; then
                    echo "warning: could not drop database $pgdb"
                    break
                fi
                sleep 0.2
            done
        done < "$PG_DBS"
    fi
    rm -rf "$WORK"
}
trap lib_cleanup EXIT

# usage: pg_server_init - finds the tests' throw-away server (OUTPOST_PG_DIR), or skips the
# test (77) saying why there is none; sets PG_ENV (its PG* variables, for psql and pg_dump
# alone, through pg_q) and PSQL (the server's own psql).
pg_server_init() {
    : "${OUTPOST_PG_DIR:?OUTPOST_PG_DIR must name the pg_tmp.sh folder (run with ctest)}"
    if [ -f "$OUTPOST_PG_DIR/unavailable" ]; then
        echo "skipped, no PostgreSQL server: $(cat "$OUTPOST_PG_DIR/unavailable")"
        exit 77
    fi
    PG_ENV=$(sh "$OUTPOST_SOURCE/tests/tools/pg_tmp.sh" env "$OUTPOST_PG_DIR") || exit 1
    PSQL="$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -t/ -k5,5n | tail -n 1)/psql"
    [ -x "$PSQL" ] || PSQL=psql
}
if on_pgsql; then
    pg_server_init
fi

# usage: new_pg_database - creates a new empty database on the test server, named in $PG_DB
# (outpost_cli_, the test's name, its process id and a count) and dropped at exit.
new_pg_database() {
    PG_DB_COUNT=$((PG_DB_COUNT + 1))
    PG_DB="outpost_cli_${TEST_NAME}_$$_$PG_DB_COUNT"
    echo "$PG_DB" >> "$PG_DBS"
    if ! pg_q outpost "CREATE DATABASE \"$PG_DB\"" > /dev/null; then
        echo "FAIL: cannot create database $PG_DB on the test server"
        exit 1
    fi
}

# usage: persistence ROLE - sets PERSISTENCE to setup.json's persistences.default for a new
# instance of ROLE: a SQLite file, or on the pgsql run for a central, a new database on the
# test server.
persistence() {
    if on_pgsql && [ "$1" = central ]; then
        new_pg_database
        PERSISTENCE=$(sed "s|\"dbname\": \"outpost\"|\"dbname\": \"$PG_DB\"|" "$OUTPOST_PG_DIR/persistence.json")
    else
        PERSISTENCE='{"driver": "sqlite", "path": "outpost.db"}'
    fi
}

# The password policy of the instances write_setup makes: relaxed, explicitly, as the setup
# file of an operator bringing TAO's short passwords would say, because the tests give their
# users short passwords ("pw", "pw-sm"); a test of the policy itself sets SETUP_POLICY=default
# (the policy an operator gets by saying nothing) before write_setup or new_instance.
SETUP_POLICY=${SETUP_POLICY:-relaxed}
RELAXED_POLICY='"password-policy": {"min-length": 1, "refuse-login": false, "refuse-common": false}'

# A setup.json for a fresh instance with cheap password hashing, flagged as for tests only
# (setup refuses costs below the defaults otherwise), and the password policy SETUP_POLICY
# says. On the pgsql run, a central's file names a new database of its own: each file sets up
# one instance.
# usage: write_setup FILE ROLE
write_setup() {
    persistence "$2"
    ws_policy=""
    [ "$SETUP_POLICY" = default ] || ws_policy=", $RELAXED_POLICY"
    cat > "$1" <<JSON
{
  "role": "$2",
  "super-user": {"login": "admin", "password": "admin-password"},
  "configuration": {
    "global": {"url": "http://127.0.0.1:8080/", "timezone": "UTC", "lang": "en-US"},
    "persistences": {"default": $PERSISTENCE},
    "security": {"password-hash": {"opslimit": 1, "memlimit-kib": 8, "insecure-for-tests": true}$ws_policy}
  }
}
JSON
    chmod 600 "$1" # it holds a password
}

# usage: new_instance DIR ROLE  - sets up an instance in DIR (fails the test if it cannot)
new_instance() {
    write_setup "$WORK/setup-$2.json" "$2"
    if ! "$OUTPOST" --data "$1" setup "$WORK/setup-$2.json" > "$WORK/setup.out" 2>&1; then
        echo "FAIL: setup of $1 failed:"; cat "$WORK/setup.out"
        exit 1
    fi
}

# usage: run CMD...  - runs a command, keeps its status in $RC, stdout in $OUT, stderr in $ERR
run() {
    "$@" > "$WORK/out" 2> "$WORK/err" < /dev/null
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

# usage: run_stdin TEXT CMD... - like run, with TEXT on standard input
run_stdin() {
    text=$1; shift
    printf '%s\n' "$text" | "$@" > "$WORK/out" 2> "$WORK/err"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

check() { # usage: check DESCRIPTION CONDITION...
    desc=$1; shift
    CHECKS=$((CHECKS + 1))
    if "$@"; then
        echo "ok   $desc"
    else
        FAILURES=$((FAILURES + 1))
        echo "FAIL $desc"
        echo "     status: ${RC:-}"
        echo "     stdout: $(printf '%s' "${OUT:-}" | head -c 2000)"
        echo "     stderr: $(printf '%s' "${ERR:-}" | head -c 2000)"
    fi
}

contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }
status_is() { [ "$RC" = "$1" ]; }
status_not() { [ "$RC" != "$1" ]; }

# usage: start_writer DIR - starts a writer in the background that adds test takers w1, w2, ...
# to instance DIR, one `users add` after the other (at most 400), until stop_writer; waits (at
# most 60 s: a writer that fails stops the test, not the machine) until it has added 5, and
# sets WRITTEN_BEFORE to how many it had added then, each one committed (a user counts once
# its command has exited). The count is published by renaming a new file over the old one:
# `echo N > FILE` leaves FILE empty between its truncation and its write, and a reader that
# comes in between (it did, under load) reads "" where it expects a number.
start_writer() {
    (i=1; while [ ! -f "$WORK/writer.stop" ] && [ "$i" -le 400 ]; do
        printf 'pw-w-%s\n' "$i" | "$OUTPOST" --data "$1" users add --login "w$i" --role test-taker \
            > /dev/null 2> "$WORK/writer.err" || { touch "$WORK/writer.failed"; exit 1; }
        echo "$i" > "$WORK/writer.new" && mv -f "$WORK/writer.new" "$WORK/writer.count"
        i=$((i + 1))
    done) &
    WRITER=$!
    WRITTEN_BEFORE=0
    n=0
    while [ "$WRITTEN_BEFORE" -lt 5 ] && [ ! -f "$WORK/writer.failed" ] && [ "$n" -lt 600 ]; do
        sleep 0.1; n=$((n + 1))
        WRITTEN_BEFORE=$(cat "$WORK/writer.count" 2> /dev/null || echo 0)
    done
}

# usage: stop_writer - stops the writer of start_writer and waits for it; WRITER_STATUS is 0
# when every `users add` it ran succeeded (else the error of the one that failed is in
# $WORK/writer.err).
stop_writer() {
    touch "$WORK/writer.stop"
    wait "$WRITER"
    WRITER_STATUS=$?
    [ "$WRITER_STATUS" = 0 ] || echo "     the writer's last command said: $(cat "$WORK/writer.err")"
}

# usage: instance_pg_db DIR - the database of the instance in DIR when it is on PostgreSQL
# (its outpost.json names the pgsql driver), else nothing and status 1
instance_pg_db() {
    grep -q '"driver": "pgsql"' "$1/outpost.json" 2> /dev/null || return 1
    sed -n 's/^ *"dbname": "\([^"]*\)",*$/\1/p' "$1/outpost.json"
}

# usage: sql DIR QUERY - one value from the instance's database (either backend). A query
# that fails (SQL the backend does not know) fails the test at `finish`, so that a check such
# as [ -z "$(sql ...)" ] cannot pass on an error.
sql() {
    if sql_db=$(instance_pg_db "$1"); then
        pg_q "$sql_db" "$2"
    else
        sqlite3 "$1/outpost.db" "$2"
    fi || {
        printf '%s\n' "$2" >> "$WORK/sql-errors"
        return 1
    }
}

# usage: sql_list DIR QUERY - the one-column rows of QUERY joined by commas (SQLite's
# group_concat has no PostgreSQL equivalent of the same name: order the rows in QUERY)
sql_list() {
    sql "$1" "$2" | paste -s -d, -
}

# usage: db_file DIR - prints the name of a file holding all of the instance's database, for
# grep: the SQLite file itself, or on PostgreSQL a fresh pg_dump of its database (in $WORK)
db_file() {
    if df_db=$(instance_pg_db "$1"); then
        (eval "$PG_ENV" && "$(dirname "$PSQL")/pg_dump" --no-owner -d "$df_db") > "$WORK/$df_db.sql" ||
            return 1
        echo "$WORK/$df_db.sql"
    else
        echo "$1/outpost.db"
    fi
}

# usage: db_intact DIR - prints ok when the instance's database is sound: SQLite's integrity
# check; on PostgreSQL (whose server keeps its files sound) that no session is left inside a
# transaction on the database, waiting up to 10 s for the server to end the one of a killed
# client
db_intact() {
    if di_db=$(instance_pg_db "$1"); then
        di_i=0
        while :; do
            di_n=$(pg_q "$di_db" "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                                  AND pid <> pg_backend_pid() AND xact_start IS NOT NULL")
            if [ "$di_n" = 0 ]; then
                echo ok
                return
            fi
            di_i=$((di_i + 1))
            if [ $di_i -ge 100 ]; then
                echo "$di_n sessions still inside a transaction"
                return
            fi
            sleep 0.1
        done
    else
        sqlite3 "$1/outpost.db" 'PRAGMA integrity_check'
    fi
}

# usage: kill_in_write_transaction DIR CMD...  - runs CMD in the background and kills it
# with SIGKILL in the middle of its write transaction. On SQLite: once it holds the write lock
# of DIR's database (a probe's BEGIN IMMEDIATE finds it busy) and has already written
# uncommitted pages to the write-ahead log (which happens once a transaction outgrows SQLite's
# page cache, about 2 MB: give it a large file). On PostgreSQL: once a session on the
# instance's database holds a transaction id, which it gets at its first write and loses at
# COMMIT. KILLED is 1 if the kill hit the command there, 0 if the command ended first.
kill_in_write_transaction() {
    kdir=$1
    kdb="$1/outpost.db"; shift
    kpg=$(instance_pg_db "$kdir") || kpg=
    kwal() { { wc -c < "$kdb-wal"; } 2> /dev/null || echo 0; }
    kwal0=$(kwal)
    "$@" > "$WORK/killed.out" 2> "$WORK/killed.err" < /dev/null &
    kpid=$!
    KILLED=0
    while kill -0 $kpid 2> /dev/null; do
        if [ -n "$kpg" ]; then
            if [ "$(pg_q "$kpg" "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                                 AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")" != 0 ]; then
                kill -9 $kpid 2> /dev/null && KILLED=1
                break
            fi
        elif [ "$(kwal)" -gt "$kwal0" ] && ! sqlite3 "$kdb" "BEGIN IMMEDIATE; ROLLBACK;" > /dev/null 2>&1; then
            kill -9 $kpid 2> /dev/null && KILLED=1
            break
        fi
        sleep 0.01
    done
    wait $kpid 2> /dev/null
    [ $? = 137 ] || KILLED=0 # 128 + SIGKILL: the command did not end by itself
}

finish() {
    if [ -s "$WORK/sql-errors" ]; then
        FAILURES=$((FAILURES + 1))
        echo "FAIL the test's own queries ran (see the errors above); these failed:"
        sed 's/^/     /' "$WORK/sql-errors"
    fi
    echo "$TEST_NAME: $CHECKS checks, $FAILURES failed"
    [ "$FAILURES" = 0 ]
}

# usage: skip_rest WHAT  - ends a test whose remaining checks need something absent (the
# samples): fails if a check so far failed, else exits 77, which CTest reports as skipped
# (SKIP_RETURN_CODE), never as passed.
skip_rest() {
    echo "SKIP: $1"
    echo "$TEST_NAME: $CHECKS checks, $FAILURES failed, the rest skipped"
    [ "$FAILURES" = 0 ] && [ ! -s "$WORK/sql-errors" ] || exit 1
    exit 77
}
