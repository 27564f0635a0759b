# Bad input and faults of the runner API (issue 12), over HTTP against a real `outpost serve`
# of a device enrolled with a real central and synced: a paused execution refuses answers and
# moves; an answer after the time limit (a test of 4 s, on the device's clock) is refused and
# the execution ends with its result sealed once; the same answer sent twice counts one
# attempt; and kill -9 of the server in the middle of an answer's write, after its commit,
# in the middle of the finish (the seal into the outbox) and after it loses nothing and
# duplicates nothing (OUTPOST_TEST_KILL_AT, src/base/killpoint.h): after a restart the
# session resumes with the last acknowledged answer, and a finished execution has exactly
# one envelope in the outbox.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
. "$(dirname "$0")/fixtures/sync.sh"
C="$WORK/c"; D="$WORK/d"
new_instance "$C" central
new_instance "$D" device
org_fixture "$C"
# two variants of the demo test: a time limit of 4 s, and items that take any number of attempts
cp -r "$OUTPOST_SOURCE/demo/qti-test" "$WORK/short"
sed -i 's/maxTime="1800"/maxTime="4"/' "$WORK/short/test.xml"
cp -r "$OUTPOST_SOURCE/demo/qti-test" "$WORK/retry"
sed -i 's/maxAttempts="1"/maxAttempts="0"/' "$WORK/retry/test.xml"
for v in short retry; do
    sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/$v.zip" "$WORK/$v" > /dev/null &&
        "$OUTPOST" --data "$C" import-qti -f "$WORK/$v.zip" --label "$v" > /dev/null ||
        { echo "FAIL: fixture: package $v"; exit 1; }
done
elig() { # CENTER DELIVERY TAKERS PROCTORED
    "$OUTPOST" --data "$C" eligibilities set --center "$1" --delivery "$2" --test-takers "$3" \
        --proctored "$4" > /dev/null || { echo "FAIL: eligibility $1 $2"; exit 1; }
}
elig "A North" Maths ta1,ta2,ta3 no
elig "A South" Maths ta4 yes
elig "A North" short ta3 no
elig "A North" retry ta1 no
start_serve "$C"
C_PID=$SERVE_PID
enrol_device "$D" sm-a
run "$OUTPOST" --data "$D" sync
check "the device syncs the deliveries and their packages" status_is 0

# usage: serve_device [KILL_AT] - (re)starts the device's server on its port, with the test
# hook OUTPOST_TEST_KILL_AT set to KILL_AT when given
SERVE_PORT=0
serve_device() {
    if [ -n "${1:-}" ]; then
        export OUTPOST_TEST_KILL_AT="$1"
    fi
    start_serve "$D"
    unset OUTPOST_TEST_KILL_AT
    DEV=$URL; D_PID=$SERVE_PID
}
# usage: stop_device - SIGTERM (or reaps a server the kill point killed)
stop_device() { SERVE_PID=$D_PID; stop_serve; }
serve_device

# usage: login NAME - cookie jar $WORK/NAME.jar, CSRF token in $WORK/NAME.csrf (password pw-NAME)
login() {
    curl -s -c "$WORK/$1.jar" -H 'Content-Type: application/json' \
        -d "{\"login\":\"$1\",\"password\":\"pw-$1\"}" "$DEV/api/v1/session" > "$WORK/$1.login"
    jq -r .csrf "$WORK/$1.login" > "$WORK/$1.csrf"
}
# usage: api NAME METHOD PATH [BODY] - sets OUT (the body) and CODE (the status; 000 when the
# server died before answering)
api() {
    if [ -n "${4:-}" ]; then
        CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -b "$WORK/$1.jar" -X "$2" \
            -H 'Content-Type: application/json' -H "X-CSRF-Token: $(cat "$WORK/$1.csrf")" \
            -d "$4" "$DEV$3")
    else
        CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -b "$WORK/$1.jar" -X "$2" \
            -H "X-CSRF-Token: $(cat "$WORK/$1.csrf")" "$DEV$3")
    fi
    OUT=$(cat "$WORK/body" 2> /dev/null)
}
code_is() { [ "$CODE" = "$1" ]; }
field_is() { [ "$(printf '%s' "$OUT" | jq -r .error.field)" = "$1" ]; }
jqv() { printf '%s' "$OUT" | jq -c "$1"; }
# usage: start_exec NAME LABEL CENTER - starts NAME's execution of LABEL there: EXEC, VERSION
start_exec() {
    api "$1" GET /api/v1/my/deliveries
    se_d=$(jqv ".deliveries[] | select(.label == \"$2\" and .center_label == \"$3\")")
    api "$1" POST /api/v1/executions \
        "{\"delivery_id\":$(printf '%s' "$se_d" | jq .delivery_id),\"center_id\":$(printf '%s' "$se_d" | jq .center_id)}"
    EXEC=$(printf '%s' "$OUT" | jq -r .execution.id)
    VERSION=$(jqv .execution.version)
}
dev_sql() { sqlite3 "$D/outpost.db" "$1"; }
envelopes_of() { dev_sql "SELECT count(*) FROM result_outbox WHERE result_id = (SELECT result_id FROM executions WHERE id = '$1')"; }
state_of() { dev_sql "SELECT state FROM executions WHERE id = '$1'"; }
# usage: attempts NAME EXEC - the attempts of the current item, as the device's saved
# session gives them (GET; sets OUT and CODE)
attempts() { api "$1" GET "/api/v1/executions/$2"; jqv .view.session.numAttempts; }

# ---- a paused execution refuses answers and moves ----
login ta4; login pa2; login pa1
start_exec ta4 Maths "A South"
check "a proctored execution waits for its proctor" [ "$(jqv .execution.state)" = '"awaiting_authorization"' ]
X4=$EXEC
api pa1 POST "/api/v1/proctor/executions/$X4/authorize" "{\"version\":$VERSION}"
check "the proctor of another center cannot authorize it" code_is 403
api pa2 POST "/api/v1/proctor/executions/$X4/authorize" "{\"version\":$VERSION}"
check "its own proctor authorizes it" code_is 200
api ta4 POST "/api/v1/executions/$X4/begin" "{\"version\":$(jqv .execution.version)}"
check "the test taker begins" code_is 200
api ta4 GET "/api/v1/executions/$X4"
V=$(jqv .execution.version)
api pa2 POST "/api/v1/proctor/executions/$X4/pause" "{\"version\":$V}"
check "the proctor pauses" code_is 200
SAVED=$(dev_sql "SELECT version || session FROM executions WHERE id = '$X4'")
api ta4 POST "/api/v1/executions/$X4/responses" '{"item_key":"capital","responses":{"RESPONSE":"paris"}}'
check "an answer while paused is refused" code_is 409
check "  because of the state" field_is state
api ta4 POST "/api/v1/executions/$X4/move" '{"item_key":"capital","to":"next"}'
check "a move while paused is refused" code_is 409
api ta4 POST "/api/v1/executions/$X4/finish" '{"item_key":"capital"}'
check "finishing while paused is refused" code_is 409
check "  and nothing of the execution changed" [ "$(dev_sql "SELECT version || session FROM executions WHERE id = '$X4'")" = "$SAVED" ]
api ta4 GET "/api/v1/executions/$X4"
check "the page sees it paused, without an item" [ "$(jqv '[.execution.state, .view]')" = '["paused",null]' ]
api pa2 POST "/api/v1/proctor/executions/$X4/resume" "{\"version\":$(jqv .execution.version)}"
check "the proctor resumes" code_is 200
api ta4 POST "/api/v1/executions/$X4/responses" '{"item_key":"capital","responses":{"RESPONSE":"paris"}}'
check "then the answer is taken" code_is 200
api ta4 POST "/api/v1/executions/$X4/move" '{"item_key":"capital","to":3}'
check "a jump in a linear part is refused" code_is 409
check "  as a move the navigation forbids" field_is to
api ta4 POST "/api/v1/executions/$X4/move" '{"item_key":"capital","to":"previous"}'
check "so is going back" code_is 409
SAVED=$(dev_sql "SELECT version || session FROM executions WHERE id = '$X4'")
api ta4 DELETE /api/v1/session
check "the test taker logs out" code_is 204
api ta4 POST "/api/v1/executions/$X4/move" '{"item_key":"capital","to":"next"}'
check "a step replayed with the old cookie and token after logout is refused" code_is 401
check "  and changes nothing" [ "$(dev_sql "SELECT version || session FROM executions WHERE id = '$X4'")" = "$SAVED" ]

# ---- an answer after the time limit (4 s of the device's clock) ----
login ta3
start_exec ta3 short "A North"
XS=$EXEC
api ta3 GET "/api/v1/executions/$XS"
check "the short test shows its first item" [ "$(jqv .view.item_key)" = '"capital"' ]
api ta3 POST "/api/v1/executions/$XS/responses" '{"item_key":"capital","responses":{"RESPONSE":"paris"}}'
check "an answer in time is taken" code_is 200
api ta3 POST "/api/v1/executions/$XS/move" '{"item_key":"capital","to":"next"}'
sleep 5
api ta3 POST "/api/v1/executions/$XS/responses" '{"item_key":"primes","responses":{"RESPONSE":["n2"]}}'
check "an answer after the time limit is refused" code_is 409
check "  because of the time" field_is time
check "the execution has ended" [ "$(state_of "$XS")" = finished ]
check "  with its result sealed once" [ "$(envelopes_of "$XS")" = 1 ]
api ta3 POST "/api/v1/executions/$XS/responses" '{"item_key":"primes","responses":{"RESPONSE":["n2"]}}'
check "a second late answer is refused too" code_is 409
check "  and seals nothing more" [ "$(envelopes_of "$XS")" = 1 ]

# ---- the same answer sent twice counts one attempt (items with unlimited attempts) ----
login ta1
start_exec ta1 retry "A North"
XR=$EXEC
api ta1 GET "/api/v1/executions/$XR"
# another site's page, with the test taker's cookie and even the token: refused
CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -b "$WORK/ta1.jar" -H 'Origin: http://evil.example' \
    -H 'Content-Type: application/json' -H "X-CSRF-Token: $(cat "$WORK/ta1.csrf")" \
    -d '{"item_key":"capital","responses":{"RESPONSE":"nice"}}' "$DEV/api/v1/executions/$XR/responses")
OUT=$(cat "$WORK/body")
check "an answer posted from another site is refused" code_is 403
check "  as cross-site" [ "$(jqv .error.code)" = '"cross_site"' ]
check "  and is not taken" [ "$(attempts ta1 "$XR")" = 0 ]
api ta1 POST "/api/v1/executions/$XR/responses" '{"item_key":"capital","responses":{"RESPONSE":"lyon"}}'
check "an answer is taken" code_is 200
check "  as the first attempt" [ "$(attempts ta1 "$XR")" = 1 ]
V=$(dev_sql "SELECT version FROM executions WHERE id = '$XR'")
api ta1 POST "/api/v1/executions/$XR/responses" '{"item_key":"capital","responses":{"RESPONSE":"lyon"}}'
check "the same request again is answered" code_is 200
check "  with the same item and answer" [ "$(jqv '[.view.item_key, .view.responses.RESPONSE]')" = '["capital","lyon"]' ]
check "  nor saves anything" [ "$(dev_sql "SELECT version FROM executions WHERE id = '$XR'")" = "$V" ]
check "  and counts no second attempt" [ "$(attempts ta1 "$XR")" = 1 ]
api ta1 POST "/api/v1/executions/$XR/responses" '{"item_key":"capital","responses":{"RESPONSE":"paris"}}'
check "another answer is taken" code_is 200
check "  as a second attempt" [ "$(attempts ta1 "$XR")" = 2 ]

# ---- kill -9 in the middle of an answer's write and of the finish ----
login ta2
start_exec ta2 Maths "A North"
XK=$EXEC
api ta2 GET "/api/v1/executions/$XK"
api ta2 POST "/api/v1/executions/$XK/responses" '{"item_key":"capital","responses":{"RESPONSE":"paris"}}'
api ta2 POST "/api/v1/executions/$XK/move" '{"item_key":"capital","to":"next"}'
check "(setup) two steps acknowledged" code_is 200
# usage: restart_with KILL_AT - the device's server again, dying at KILL_AT; ta2 logs in
restart_with() { stop_device; serve_device "$1"; login ta2; }
# usage: after_kill DESCRIPTION - the request got no answer, the server died, the database is
# sound; then the server is started again, plainly, and ta2 logs in
after_kill() {
    check "$1: no answer" code_is 000
    wait $D_PID 2> /dev/null
    check "$1: the server was killed" [ $? = 137 ]
    check "$1: the database is intact" [ "$(db_intact "$D")" = ok ]
    serve_device
    login ta2
}

restart_with exec-save-written
api ta2 POST "/api/v1/executions/$XK/responses" '{"item_key":"primes","responses":{"RESPONSE":["n2","n3"]}}'
after_kill "killed while writing an answer"
api ta2 GET "/api/v1/executions/$XK"
check "the session resumes at the same item, without the unacknowledged answer" [ "$(jqv '[.view.item_key, .view.position, .view.responses.RESPONSE]')" = '["primes",1,null]' ]
check "  and it took no attempt" [ "$(jqv .view.session.numAttempts)" = 0 ]
api ta2 POST "/api/v1/executions/$XK/responses" '{"item_key":"primes","responses":{"RESPONSE":["n2","n3"]}}'
check "  so it can be sent again" code_is 200
api ta2 POST "/api/v1/executions/$XK/move" '{"item_key":"primes","to":"next"}'

restart_with exec-save-committed
api ta2 POST "/api/v1/executions/$XK/responses" '{"item_key":"planet","responses":{"RESPONSE":"Mars"}}'
after_kill "killed after an answer's commit"
api ta2 GET "/api/v1/executions/$XK"
check "the committed answer is there" [ "$(jqv '[.view.item_key, .view.position, .view.responses.RESPONSE]')" = '["planet",2,"Mars"]' ]
check "  once" [ "$(jqv .view.session.numAttempts)" = 1 ]
api ta2 POST "/api/v1/executions/$XK/responses" '{"item_key":"planet","responses":{"RESPONSE":"Mars"}}'
check "  sending it again is refused (maxAttempts 1)" code_is 409
check "  and counts no second attempt" [ "$(attempts ta2 "$XK")" = 1 ]
check "earlier answers kept" [ "$(dev_sql "SELECT session FROM executions WHERE id = '$XK'" | grep -c '"paris"')" = 1 ]

restart_with exec-finish-sealed
api ta2 POST "/api/v1/executions/$XK/finish" '{"item_key":"planet"}'
after_kill "killed while sealing the finish"
check "the execution is still active" [ "$(state_of "$XK")" = active ]
check "  with no envelope in the outbox" [ "$(envelopes_of "$XK")" = 0 ]
api ta2 GET "/api/v1/executions/$XK"
check "  at the same item" [ "$(jqv '[.view.item_key, .view.responses.RESPONSE]')" = '["planet","Mars"]' ]
api ta2 POST "/api/v1/executions/$XK/finish" '{"item_key":"planet"}'
check "finishing again finishes it" code_is 200
check "  (the store says so)" [ "$(state_of "$XK")" = finished ]
check "  with exactly one envelope" [ "$(envelopes_of "$XK")" = 1 ]

# ta1's retry execution: killed after the finish's commit
stop_device; serve_device exec-finish-committed; login ta1
api ta1 POST "/api/v1/executions/$XR/finish" '{"item_key":"capital"}'
check "killed after the finish's commit: no answer" code_is 000
wait $D_PID 2> /dev/null
check "  the server was killed" [ $? = 137 ]
serve_device; login ta1
check "the execution is finished" [ "$(state_of "$XR")" = finished ]
check "  with exactly one envelope" [ "$(envelopes_of "$XR")" = 1 ]
api ta1 POST "/api/v1/executions/$XR/finish" '{"item_key":"capital"}'
check "finishing again is refused" code_is 409
check "  and seals nothing more" [ "$(envelopes_of "$XR")" = 1 ]
check "the outbox holds one envelope per ended execution" [ "$(dev_sql "SELECT count(*) FROM result_outbox")" = "$(dev_sql "SELECT count(*) FROM executions WHERE state IN ('finished', 'terminated')")" ]

# the results reach central once each
stop_device
run "$OUTPOST" --data "$D" sync
check "the device syncs its results" status_is 0
check "central holds one result per ended execution" [ "$(sql "$C" "SELECT count(*) FROM results")" = 3 ]
SERVE_PID=$C_PID; stop_serve
finish
