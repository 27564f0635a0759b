#!/bin/sh
# run.sh - runs every benchmark program (bench_*) of the build folder given as $1, one after
# the other, and prints their results. `make bench` calls `sh bench/run.sh build`.
# Benchmarks are never run by the tests: they take minutes and use every core.
set -u
BUILD=${1:?usage: sh bench/run.sh BUILD_DIR}
found=0
status=0
for prog in "$BUILD"/bench_*; do
    [ -f "$prog" ] && [ -x "$prog" ] || continue
    found=1
    echo "== $(basename "$prog")"
    "$prog" || { echo "FAILED: $(basename "$prog")"; status=1; }
    echo
done
if [ "$found" = 0 ]; then
    echo "no bench_* program in $BUILD (build it first: make build)" >&2
    exit 1
fi
exit $status
