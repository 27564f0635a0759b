# The test taker's step endpoints end to end (docs/runner.md, docs/api.md "Test taker"): a real
# central and a real device (`outpost serve` each, on loopback), the device enrolled and
# synced; a test taker logs in to the device with curl, starts the demo test, answers, reloads
# (and the device's server restarts) at the same item with the same answers, is refused what
# the test forbids (a stale item, a move back in a linear part, another taker's execution),
# finishes; the device syncs and central decrypts the result with the expected score.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
. "$(dirname "$0")/fixtures/sync.sh"
C="$WORK/c"; D="$WORK/d"
new_instance "$C" central
new_instance "$D" device
org_fixture "$C"
"$OUTPOST" --data "$C" eligibilities set --center "A North" --delivery Maths \
    --test-takers ta1,ta2,ta3 --proctored no > /dev/null || { echo "FAIL: eligibility"; exit 1; }
start_serve "$C"
CURL_C=$URL; C_PID=$SERVE_PID
enrol_device "$D" sm-a
run "$OUTPOST" --data "$D" sync
check "the device syncs the delivery and its package" status_is 0

SERVE_PORT=0
start_serve "$D"
DEV=$URL; D_PID=$SERVE_PID

# usage: login NAME LOGIN - cookie jar $WORK/NAME.jar, CSRF token in $WORK/NAME.csrf
login() {
    curl -s -c "$WORK/$1.jar" -H 'Content-Type: application/json' \
        -d "{\"login\":\"$2\",\"password\":\"pw-$2\"}" "$DEV/api/v1/session" > "$WORK/$1.login"
    jq -r .csrf "$WORK/$1.login" > "$WORK/$1.csrf"
}
# usage: api NAME METHOD PATH [BODY] - sets OUT (the body) and CODE (the status)
api() {
    if [ -n "${4:-}" ]; then
        CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -b "$WORK/$1.jar" -X "$2" \
            -H 'Content-Type: application/json' -H "X-CSRF-Token: $(cat "$WORK/$1.csrf")" \
            -d "$4" "$DEV$3")
    else
        CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -b "$WORK/$1.jar" -X "$2" \
            -H "X-CSRF-Token: $(cat "$WORK/$1.csrf")" "$DEV$3")
    fi
    OUT=$(cat "$WORK/body")
}
code_is() { [ "$CODE" = "$1" ]; }
not_contains() { ! contains "$1" "$2"; }

login ta1 ta1
check "the test taker logs in" [ -s "$WORK/ta1.csrf" ] && [ "$(cat "$WORK/ta1.csrf")" != null ]
api ta1 GET /api/v1/my/deliveries
check "their deliveries list Maths" contains "$OUT" '"label":"Maths"'
DELIVERY=$(printf '%s' "$OUT" | jq -r '.deliveries[] | select(.center_label == "A North") | .delivery_id')
CENTER=$(printf '%s' "$OUT" | jq -r '.deliveries[] | select(.center_label == "A North") | .center_id')
api ta1 POST /api/v1/executions "{\"delivery_id\":\"$DELIVERY\",\"center_id\":\"$CENTER\"}"
check "the test taker starts an execution" code_is 201
EXEC=$(printf '%s' "$OUT" | jq -r .execution.id)
check "active at once (not proctored)" contains "$OUT" '"state":"active"'

api ta1 GET "/api/v1/executions/$EXEC"
check "the first item is shown" [ "$(printf '%s' "$OUT" | jq -r .view.item_key)" = capital ]
check "without its correct response" not_contains "$OUT" "correctResponse"
check "without response processing" not_contains "$OUT" "responseProcessing"
check "nor the other items" not_contains "$OUT" "Select every prime"
check "with the time left of the test (1800 s)" [ "$(printf '%s' "$OUT" | jq '.view.time_left <= 1800 and .view.time_left > 1700')" = true ]
check "and no way back in a linear part" [ "$(printf '%s' "$OUT" | jq .view.navigation.previous)" = false ]

login ta2 ta2
api ta2 GET "/api/v1/executions/$EXEC"
check "another test taker cannot see it" code_is 403
api ta2 POST "/api/v1/executions/$EXEC/responses" '{"item_key":"capital","responses":{"RESPONSE":"lyon"}}'
check "nor answer in it" code_is 403
api ta1 POST "/api/v1/executions/$EXEC/responses" '{"item_key":"capital","responses":{"RESPONSE":"paris"}}'
check "the answer is taken" code_is 200
api ta1 POST "/api/v1/executions/$EXEC/responses" '{"item_key":"capital","responses":{"RESPONSE":"paris"}}'
check "twice is refused (maxAttempts 1)" code_is 409
api ta1 POST "/api/v1/executions/$EXEC/move" '{"item_key":"capital","to":"next"}'
check "next" code_is 200
check "moves to primes" [ "$(printf '%s' "$OUT" | jq -r .view.item_key)" = primes ]
api ta1 POST "/api/v1/executions/$EXEC/responses" '{"item_key":"capital","responses":{"RESPONSE":"nice"}}'
check "an answer to an item that is not the current one is refused" code_is 409
check "as a conflict on item_key" contains "$OUT" '"field":"item_key"'
api ta1 POST "/api/v1/executions/$EXEC/move" '{"item_key":"primes","to":"previous"}'
check "going back in a linear part is refused" code_is 409
api ta1 POST "/api/v1/executions/$EXEC/responses" '{"item_key":"primes","responses":{"RESPONSE":[2,3]}}'
check "a response of the wrong type is refused" code_is 400
api ta1 POST "/api/v1/executions/$EXEC/responses" '{"item_key":"primes","responses":{"SCORE":3}}'
check "a variable the item does not take as a response is refused" code_is 400
api ta1 POST "/api/v1/executions/$EXEC/responses" '{"item_key":"primes","responses":{"RESPONSE":["n2"]},"extra":1}'
check "a body with an unknown member is refused" code_is 400
api ta1 POST "/api/v1/executions/$EXEC/responses" '{"item_key":"primes","responses":{"RESPONSE":["n2"]}}' 
CSRF_SAVED=$(cat "$WORK/ta1.csrf"); echo wrong > "$WORK/ta1.csrf"
check "(setup) the right token was accepted" code_is 200
api ta1 POST "/api/v1/executions/$EXEC/move" '{"item_key":"primes","to":"next"}'
check "a step without the CSRF token is refused" code_is 403
echo "$CSRF_SAVED" > "$WORK/ta1.csrf"

api ta1 POST "/api/v1/executions/$EXEC/move" '{"item_key":"primes","to":"next"}'
api ta1 POST "/api/v1/executions/$EXEC/responses" '{"item_key":"planet","responses":{"RESPONSE":"Mars"}}'
check "planet answered" code_is 200
api ta1 GET "/api/v1/executions/$EXEC"
BEFORE=$(printf '%s' "$OUT" | jq -c '[.view.item_key, .view.responses, .view.position]')
check "the answer shows after a reload" [ "$BEFORE" = '["planet",{"RESPONSE":"Mars"},2]' ]
api ta1 GET "/api/v1/executions/$EXEC/assets/assets/planet.svg"
check "the item's image is served" code_is 200
api ta2 GET "/api/v1/executions/$EXEC/assets/assets/planet.svg"
check "but not to another test taker" code_is 403

# the device's server restarts: the session resumes where it was, with the same answers
SERVE_PID=$D_PID; stop_serve
SERVE_PORT=${DEV##*:}
start_serve "$D"
D_PID=$SERVE_PID
login ta1 ta1
api ta1 GET "/api/v1/executions/$EXEC"
check "after a restart, the same item with the same answers" [ "$(printf '%s' "$OUT" | jq -c '[.view.item_key, .view.responses, .view.position]')" = "$BEFORE" ]
check "and the time left still counted" [ "$(printf '%s' "$OUT" | jq '.view.time_left <= 1800 and .view.time_left > 1700')" = true ]
api ta1 POST "/api/v1/executions/$EXEC/move" '{"item_key":"planet","to":"next"}'
api ta1 POST "/api/v1/executions/$EXEC/finish" '{"item_key":"rivers"}'
check "the test taker finishes" code_is 200
check "the execution is finished" contains "$OUT" '"state":"finished"'
api ta1 POST "/api/v1/executions/$EXEC/responses" '{"item_key":"rivers","responses":{"RESPONSE":["nile"]}}'
check "after the end nothing is taken" code_is 409

SERVE_PID=$D_PID; stop_serve
run "$OUTPOST" --data "$D" sync
check "the device syncs the result" status_is 0
run "$OUTPOST" --data "$C" decrypt-results --all
check "central decrypts it" contains "$OUT" "1 decrypted"
RID=$(sql "$C" "SELECT id FROM results WHERE execution_id = '$EXEC'")
run "$OUTPOST" --data "$C" results show "$RID"
# capital 1 + primes 1 (2 right) + planet 1; rivers and comment not answered
check "with the expected score" [ "$(printf '%s' "$OUT" | jq -c .outcome.outcomes.TOTAL_SCORE)" = 3 ]
check "and the answers given" [ "$(printf '%s' "$OUT" | jq -c '[.outcome.items.capital.responses.RESPONSE, .outcome.items.primes.responses.RESPONSE, .outcome.items.planet.responses.RESPONSE]')" = '["paris",["n2"],"Mars"]' ]
SERVE_PID=$C_PID; stop_serve
finish
