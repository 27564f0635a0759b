#!/bin/sh
# Runs every benchmark of build folder $1 (built with `make build`, RelWithDebInfo).
set -eu
build=${1:-build}
for b in "$build"/bench_*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
done
