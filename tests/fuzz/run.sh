#!/bin/sh
# Runs every libFuzzer target of build folder $1 for $2 seconds each, starting from its seed
# corpus in tests/fuzz/corpus/<target>. New inputs go to a scratch folder, not the seeds.
set -eu
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
failed=0
count=0
for bin in "$build"/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    scratch=$(mktemp -d)
    echo "fuzz: $name for ${seconds}s"
    if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=65536 \
        -artifact_prefix="$build/$name-" "$scratch" "$here/corpus/$name" \
        > "$build/$name.log" 2>&1; then
        echo "fuzz: $name FAILED (see $build/$name.log)"
        tail -30 "$build/$name.log"
        failed=$((failed + 1))
    fi
    count=$((count + 1))
    rm -rf "$scratch"
done
echo "fuzz: $count targets, $failed failed"
[ "$failed" = 0 ]
