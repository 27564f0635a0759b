# Messages go where docs/operations.md ("Running it") says, for a representative set of
# commands: what a command made or found (an id, a summary, a list, --help, one JSON document
# with --json) on standard output, every error, warning and note on standard error; exit
# status 0 on success, 1 on failure with nothing on standard output, 2 on a usage error with
# the usage on standard error.
. "$(dirname "$0")/lib.sh"
C="$WORK/c"
new_instance "$C" central
O="$OUTPOST"

is_json() { printf '%s' "$OUT" | python3 -c 'import json, sys; json.load(sys.stdin)' 2> /dev/null; }
out_empty() { [ -z "$OUT" ]; }
err_empty() { [ -z "$ERR" ]; }
# usage: ok_result DESC CMD... - exit 0, a result on stdout, nothing on stderr
ok_result() {
    desc=$1; shift
    run "$@"
    check "$desc: exit 0" status_is 0
    check "$desc: its result on stdout" [ -n "$OUT" ]
    check "$desc: nothing on stderr" err_empty
}
# usage: ok_json DESC CMD... - exit 0, one JSON document alone on stdout, nothing on stderr
ok_json() {
    desc=$1; shift
    run "$@"
    check "$desc: exit 0" status_is 0
    check "$desc: stdout is one JSON document" is_json
    check "$desc: nothing on stderr" err_empty
}
# usage: fails DESC TEXT CMD... - exit 1, nothing on stdout, "outpost: " and TEXT on stderr
fails() {
    desc=$1; text=$2; shift 2
    run "$@"
    check "$desc: exit 1" status_is 1
    check "$desc: nothing on stdout" out_empty
    check "$desc: the error on stderr" contains "$ERR" "outpost: "
    check "$desc: naming what" contains "$ERR" "$text"
}
# usage: usage_error DESC CMD... - exit 2, nothing on stdout, the usage line on stderr
usage_error() {
    desc=$1; shift
    run "$@"
    check "$desc: exit 2" status_is 2
    check "$desc: nothing on stdout" out_empty
    check "$desc: the usage on stderr" contains "$ERR" "usage: outpost"
}

# ---- results and lists ----
ok_result "outpost --help" "$O" --help
ok_result "users --help" "$O" users --help
ok_result "import-qti --help" "$O" import-qti --help
run_stdin "pw-ada-1" "$O" --data "$C" users add --login ada --role test-taker
check "users add: exit 0" status_is 0
check "users add: its summary on stdout" contains "$OUT" "added test-taker ada"
check "users add: nothing on stderr" err_empty
ok_result "testcenters add" "$O" --data "$C" testcenters add --label "North" --org org-a
ok_result "users list" "$O" --data "$C" users list
ok_result "keys show" "$O" --data "$C" keys show
ok_result "decrypt-results with nothing to do" "$O" --data "$C" decrypt-results --all
ok_json "users list --json" "$O" --data "$C" users list --json
ok_json "testcenters list --json" "$O" --data "$C" testcenters list --json
ok_json "deliveries list --json" "$O" --data "$C" deliveries list --json
ok_json "eligibilities list --json" "$O" --data "$C" eligibilities list --json
ok_json "results list --json" "$O" --data "$C" results list --json
ok_json "keys show --json" "$O" --data "$C" keys show --json
ok_json "sync-history --json" "$O" --data "$C" sync-history --json
ok_json "decrypt-results --json" "$O" --data "$C" decrypt-results --all --json

# ---- warnings: on stderr, the result alone on stdout ----
SAN="$WORK/sanitised.zip"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$SAN" "$OUTPOST_SOURCE/tests/fixtures/qti/sanitised"
run "$O" --data "$C" import-qti -f "$SAN" --json
check "import-qti --json with warnings: exit 0" status_is 0
check "import-qti --json with warnings: stdout is one JSON document" is_json
check "import-qti --json with warnings: the warnings on stderr" contains "$ERR" "outpost: warning: sanitised.zip: items/unsafe.xml line 16"
run "$O" --data "$C" import-qti -f "$SAN" --label "Again"
check "import-qti: the id alone on stdout" [ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ]
check "import-qti: the warnings on stderr" contains "$ERR" "outpost: warning: "
run "$O" --data "$C" testcenters add --label "North" --org org-b
check "a note (a label shared): exit 0" status_is 0
check "a note: the id alone on stdout" [ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ]
check "a note: on stderr" contains "$ERR" "outpost: note: "

# ---- failures ----
fails "a second setup" "already an Outpost instance" "$O" --data "$C" setup "$WORK/setup-central.json"
fails "no instance" "no Outpost instance here" "$O" --data "$WORK/none" users list
fails "an unknown user" "ghost" "$O" --data "$C" users delete ghost
fails "import-qti of a taken label" "already" "$O" --data "$C" import-qti -f "$SAN"
fails "deliveries show of an unknown delivery" "nope" "$O" --data "$C" deliveries show nope
run_stdin "pw-ada-2" "$O" --data "$C" users add --login ada --role test-taker
check "users add of a login taken: exit 1" status_is 1
check "users add of a login taken: nothing on stdout" out_empty
check "users add of a login taken: the error on stderr" contains "$ERR" "outpost: "
printf 'Login,Password\nbob,pw-bob-1\n,pw-x\n' > "$WORK/bad.csv"
run "$O" --data "$C" import-users -t test-taker -f "$WORK/bad.csv"
check "import-users with a bad row: exit 1" status_is 1
check "import-users with a bad row: nothing on stdout" out_empty
check "import-users with a bad row: the row on stderr" contains "$ERR" "bad.csv line 3: missing Login"
run "$O" --data "$C" import-users -t test-taker -f "$WORK/bad.csv" --json
check "import-users --json with a bad row: exit 1" status_is 1
check "import-users --json with a bad row: its report alone on stdout" is_json
check "import-users --json with a bad row: the error on stderr" contains "$ERR" "nothing imported"

# ---- usage errors ----
usage_error "an unknown option" "$O" --data "$C" users add --bogus
usage_error "a missing option" "$O" --data "$C" import-qti
usage_error "a bad option value" "$O" --data "$C" import-qti -f "$SAN" --proctored maybe
run "$O" --data "$C" nosuchcommand
check "an unknown command: exit 2" status_is 2
check "an unknown command: nothing on stdout" out_empty
check "an unknown command: said on stderr" contains "$ERR" 'unknown command "nosuchcommand"'

finish
