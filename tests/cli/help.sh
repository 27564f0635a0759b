# Every command and subcommand explains itself with --help (exit 0, a usage line), and an
# unknown subcommand is a usage error.
. "$(dirname "$0")/lib.sh"

run "$OUTPOST" --help
check "outpost --help succeeds" status_is 0
commands=$(printf '%s\n' "$OUT" | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
check "outpost --help lists commands" [ -n "$commands" ]
for c in $commands; do
    run "$OUTPOST" "$c" --help
    check "$c --help succeeds" status_is 0
    check "$c --help prints a usage line" contains "$OUT" "usage: outpost"
    subs=$(printf '%s\n' "$OUT" | sed -n '/^subcommands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
    for s in $subs; do
        run "$OUTPOST" "$c" "$s" --help
        check "$c $s --help succeeds" status_is 0
        check "$c $s --help prints a usage line" contains "$OUT" "usage: outpost"
    done
    if [ -n "$subs" ]; then
        run "$OUTPOST" "$c" no-such-subcommand
        check "$c with an unknown subcommand is a usage error" status_is 2
    fi
done
finish
