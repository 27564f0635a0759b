# Tests of register-central (on a device: the central server it syncs with) and of
# sync-history with no sync yet, on both roles.
. "$(dirname "$0")/lib.sh"
C="$WORK/c"
D="$WORK/d"
new_instance "$C" central
new_instance "$D" device
meta() { sqlite3 "$D/outpost.db" "SELECT value FROM meta WHERE key = '$1'"; }

# a central that answers GET /api/v1/health (the stub stands in until `serve`)
STUB="$BUILD_DIR/http_stub"
"$STUB" "$WORK/port" &
STUB_PID=$!
trap 'kill $STUB_PID 2> /dev/null; lib_cleanup' EXIT
i=0
while [ ! -s "$WORK/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat "$WORK/port")

# every trailing-slash form gives one root
for form in "http://127.0.0.1:$PORT" "http://127.0.0.1:$PORT/" "http://127.0.0.1:$PORT//" "HTTP://127.0.0.1:$PORT/"; do
    run "$OUTPOST" --data "$D" register-central --root-url "$form"
    check "register-central $form succeeds" status_is 0
    check "$form: central is reachable" contains "$OUT" "reachable        yes"
    check "$form: no warning" [ -z "$ERR" ]
    check "$form is stored as its root" [ "$(meta central-root-url)" = "http://127.0.0.1:$PORT" ]
done
run "$OUTPOST" --data "$D" register-central --root-url "http://127.0.0.1:$PORT/outpost/" --json
check "a path prefix is kept without its slash" [ "$(meta central-root-url)" = "http://127.0.0.1:$PORT/outpost" ]
check "the health check goes under the prefix" contains "$OUT" '"reachable": true'

# pins: the fingerprint `keys show` prints on central, with or without colons, any case
run "$OUTPOST" --data "$C" keys show --json
FP=$(printf '%s' "$OUT" | sed -n '/"signing_key"/,/}/s/.*"fingerprint_sha256": "\([0-9a-f]*\)".*/\1/p' | head -1)
check "central's signing key fingerprint is 64 hex digits" [ ${#FP} = 64 ]
UPPER=$(printf '%s' "$FP" | tr a-f A-F)
COLONS=$(printf '%s' "$UPPER" | sed 's/../&:/g; s/:$//')
for pin in "$FP" "$UPPER" "$COLONS"; do
    run "$OUTPOST" --data "$D" register-central --root-url "http://127.0.0.1:$PORT" --pin "$pin" --no-check
    check "pin $pin is accepted" status_is 0
    check "pin $pin is stored as lower-case hex" [ "$(meta central-signing-key-pin)" = "$FP" ]
done
for pin in "abc" "${FP}00" "$(printf '%s' "$FP" | sed 's/^./g/')" ""; do
    run "$OUTPOST" --data "$D" register-central --root-url "https://other.example.org" --pin "$pin" --no-check
    check "bad pin \"$pin\" is refused" status_is 1
    check "bad pin \"$pin\": the message says what a pin is" contains "$ERR" "64 hex digits"
    check "bad pin \"$pin\": nothing changed" [ "$(meta central-root-url)" = "http://127.0.0.1:$PORT" ]
done
run "$OUTPOST" --data "$D" register-central --root-url "http://127.0.0.1:$PORT" --no-check --json
check "registering again without --pin removes the pin" [ -z "$(meta central-signing-key-pin)" ]
check "--no-check does not try" contains "$OUT" '"checked": false'

# bad URLs: refused, nothing changed
for url in "ftp://h" "https://user:pw@h" "https://h/#x" "https://h/?a=1" "central.example.org" "https://"; do
    run "$OUTPOST" --data "$D" register-central --root-url "$url" --no-check
    check "root URL $url is refused" status_is 1
    check "$url: the message names the URL" contains "$ERR" "root URL"
    check "$url: nothing changed" [ "$(meta central-root-url)" = "http://127.0.0.1:$PORT" ]
done
run "$OUTPOST" --data "$D" register-central
check "--root-url is required" status_is 2

# the CA file must be readable; it is stored as an absolute path
run "$OUTPOST" --data "$D" register-central --root-url "https://h.example.org" --ca-file "$WORK/none.pem" --no-check
check "a missing CA file is refused" status_is 1
check "the refusal names the CA file" contains "$ERR" "none.pem"
printf 'not really a CA\n' > "$WORK/ca.pem"
(cd "$WORK" && "$OUTPOST" --data "$D" register-central --root-url "https://h.example.org" --ca-file ca.pem --no-check > /dev/null 2>&1)
check "the CA file is stored as an absolute path" [ "$(meta central-ca-file)" = "$(cd "$WORK" && pwd -P)/ca.pem" ]

# unreachable: a warning, the settings stored all the same
kill $STUB_PID 2> /dev/null
wait $STUB_PID 2> /dev/null
run "$OUTPOST" --data "$D" register-central --root-url "http://127.0.0.1:$PORT/" --json
check "an unreachable central is not a refusal" status_is 0
check "the warning says it is not reachable" contains "$ERR" "warning: central is not reachable"
check "the warning names the host" contains "$ERR" "127.0.0.1:$PORT"
check "--json says so" contains "$OUT" '"reachable": false'
check "the URL is stored anyway" [ "$(meta central-root-url)" = "http://127.0.0.1:$PORT" ]
check "a new registration without --ca-file removes the CA file" [ -z "$(meta central-ca-file)" ]

# central: refused
run "$OUTPOST" --data "$C" register-central --root-url "https://h.example.org" --no-check
check "register-central is refused on central" status_is 1
check "the refusal names the role" contains "$ERR" "runs on a device"

# sync-history with no sync yet, on both roles
for dir in "$D" "$C"; do
    run "$OUTPOST" --data "$dir" sync-history
    check "sync-history with no sync succeeds" status_is 0
    check "sync-history says there is none" contains "$OUT" "no synchronisation yet"
    run "$OUTPOST" --data "$dir" sync-history --json --limit 5
    check "sync-history --json is an empty array" [ "$OUT" = "[]" ]
done
run "$OUTPOST" --data "$D" sync-history --limit 0
check "sync-history --limit 0 is a usage error" status_is 2
run "$OUTPOST" --data "$C" sync-history --device not-a-uuid
check "sync-history --device with a bad id is refused" status_is 1
finish
