#!/bin/sh
# Runs every libFuzzer target of build folder $1 against its seed corpus in
# tests/fuzz/corpus/<target>.
#   run.sh BUILD replay     each target runs every file of its corpus once, in name order, and
#                           nothing else: deterministic, so the gate (`make test`) gives the same
#                           answer twice
#   run.sh BUILD SECONDS    timed fuzzing (`make fuzz`): each target for SECONDS, starting from
#                           its corpus; new inputs go to a scratch folder, not the seeds
set -eu
build=$(cd "$1" && pwd)
mode=$2
here=$(cd "$(dirname "$0")" && pwd)
failed=0
count=0
for bin in "$build"/fuzz_*; do
    [ -x "$bin" ] && [ -f "$bin" ] || continue
    name=$(basename "$bin")
    corpus="$here/corpus/$name"
    if [ "$mode" = replay ]; then
        if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
            echo "fuzz: $name has no corpus in $corpus"
            failed=$((failed + 1))
            count=$((count + 1))
            continue
        fi
        echo "fuzz: $name replays $(ls "$corpus" | wc -l) inputs"
        # given files (not a folder), libFuzzer runs each once and exits
        if ! (cd "$corpus" && ls | LC_ALL=C sort | xargs "$bin" -seed=1 -rss_limit_mb=1024 \
            -artifact_prefix="$build/$name-") > "$build/$name.log" 2>&1; then
            echo "fuzz: $name FAILED (see $build/$name.log)"
            tail -30 "$build/$name.log"
            failed=$((failed + 1))
        fi
    else
        scratch=$(mktemp -d)
        echo "fuzz: $name for ${mode}s"
        if ! "$bin" -max_total_time="$mode" -rss_limit_mb=1024 -max_len=65536 \
            -artifact_prefix="$build/$name-" "$scratch" "$corpus" \
            > "$build/$name.log" 2>&1; then
            echo "fuzz: $name FAILED (see $build/$name.log)"
            tail -30 "$build/$name.log"
            failed=$((failed + 1))
        fi
        rm -rf "$scratch"
    fi
    count=$((count + 1))
done
echo "fuzz: $count targets, $failed failed"
[ "$count" -gt 0 ] && [ "$failed" = 0 ]
