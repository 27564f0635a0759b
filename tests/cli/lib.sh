# lib.sh - helpers for the command-line tests, which run the real `outpost` binary.
# Each test script sources this file, calls the helpers, and ends with `finish`.
# Environment (set by CTest): OUTPOST (the binary), OUTPOST_SOURCE (the checkout),
# OUTPOST_SAMPLES (../shared/samples, may be absent: a test needing it calls skip_rest).
set -u
: "${OUTPOST:?OUTPOST must point at the outpost binary}"
: "${OUTPOST_SOURCE:?OUTPOST_SOURCE must point at the source tree}"
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/outpost-$TEST_NAME-XXXXXX")
FAILURES=0
CHECKS=0
trap 'rm -rf "$WORK"' EXIT

# A setup.json for a fresh instance with cheap password hashing, flagged as for tests only
# (setup refuses costs below the defaults otherwise).
# usage: write_setup FILE ROLE
write_setup() {
    cat > "$1" <<JSON
{
  "role": "$2",
  "super-user": {"login": "admin", "password": "admin-password"},
  "configuration": {
    "global": {"url": "http://127.0.0.1:8080/", "timezone": "UTC", "lang": "en-US"},
    "persistences": {"default": {"driver": "sqlite", "path": "outpost.db"}},
    "security": {"password-hash": {"opslimit": 1, "memlimit-kib": 8, "insecure-for-tests": true}}
  }
}
JSON
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

sql() { # usage: sql DIR QUERY - one value from the instance's database
    sqlite3 "$1/outpost.db" "$2"
}

# usage: kill_in_write_transaction DIR CMD...  - runs CMD in the background and kills it
# with SIGKILL in the middle of its write transaction: once it holds the write lock of DIR's
# database (a probe's BEGIN IMMEDIATE finds it busy) and has already written uncommitted
# pages to the write-ahead log (which happens once a transaction outgrows SQLite's page
# cache, about 2 MB: give it a large file). KILLED is 1 if the kill hit the command there, 0
# if the command ended first.
kill_in_write_transaction() {
    kdb="$1/outpost.db"; shift
    kwal() { { wc -c < "$kdb-wal"; } 2> /dev/null || echo 0; }
    kwal0=$(kwal)
    "$@" > "$WORK/killed.out" 2> "$WORK/killed.err" < /dev/null &
    kpid=$!
    KILLED=0
    while kill -0 $kpid 2> /dev/null; do
        if [ "$(kwal)" -gt "$kwal0" ] && ! sqlite3 "$kdb" "BEGIN IMMEDIATE; ROLLBACK;" > /dev/null 2>&1; then
            kill -9 $kpid 2> /dev/null && KILLED=1
            break
        fi
        sleep 0.01
    done
    wait $kpid 2> /dev/null
    [ $? = 137 ] || KILLED=0 # 128 + SIGKILL: the command did not end by itself
}

finish() {
    echo "$TEST_NAME: $CHECKS checks, $FAILURES failed"
    [ "$FAILURES" = 0 ]
}

# usage: skip_rest WHAT  - ends a test whose remaining checks need something absent (the
# samples): fails if a check so far failed, else exits 77, which CTest reports as skipped
# (SKIP_RETURN_CODE), never as passed.
skip_rest() {
    echo "SKIP: $1"
    echo "$TEST_NAME: $CHECKS checks, $FAILURES failed, the rest skipped"
    [ "$FAILURES" = 0 ] || exit 1
    exit 77
}
