#!/bin/sh
# run.sh - runs every benchmark program (bench_*) of the build folder given as $1, one after
# the other, or only those named after it, and prints their results. `make bench` calls
# `sh bench/run.sh build`; `sh bench/run.sh build bench_store` runs one.
# Benchmarks are never run by the tests: they take minutes and use every core.
#
# bench_store and bench_backoffice also measure PostgreSQL: this script starts a throw-away
# server with
# tests/tools/pg_tmp.sh, hands it over in the PG* variables, and stops it at the end, even on
# failure or interruption. When no server can be started, it says so and they run on SQLite
# only.
set -u
BUILD=${1:?usage: sh bench/run.sh BUILD_DIR [bench_NAME...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
pgdir=
found=0
status=0

cleanup() {
    if [ -n "$pgdir" ]; then
        sh "$here/../tests/tools/pg_tmp.sh" stop "$pgdir" 2> /dev/null || true
        pgdir=
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ARGS="$*"

start_pg() {
    [ -n "$pgdir" ] && return 0
    pgdir=$(mktemp -d "${TMPDIR:-/tmp}/outpost-bench-pg.XXXXXX")
    if sh "$here/../tests/tools/pg_tmp.sh" start "$pgdir/s"; then
        eval "$(sh "$here/../tests/tools/pg_tmp.sh" env "$pgdir/s")"
    else
        echo "bench: no PostgreSQL server could be started (see above): PostgreSQL not measured"
    fi
}

for prog in "$BUILD"/bench_*; do
    [ -f "$prog" ] && [ -x "$prog" ] || continue
    name=$(basename "$prog")
    if [ -n "$ARGS" ]; then
        case " $ARGS " in *" $name "*) ;; *) continue ;; esac
    fi
    found=1
    case $name in bench_store | bench_backoffice) start_pg ;; esac
    echo "== $name"
    "$prog" || { echo "FAILED: $name"; status=1; }
    echo
done
if [ "$found" = 0 ]; then
    echo "no bench_* program in $BUILD (build it first: make build)" >&2
    exit 1
fi
exit $status
