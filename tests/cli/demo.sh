# `make demo` keeps working: runs scripts/demo.sh with the binary under test and checks that
# each step of the story happened.
. "$(dirname "$0")/lib.sh"

OUTPOST_DEMO_STOP=1 sh "$OUTPOST_SOURCE/scripts/demo.sh" "$OUTPOST" > "$WORK/demo.out" 2>&1
RC=$?
OUT=$(cat "$WORK/demo.out")
ERR=""
demo_dir=$(sed -n 's/^The demo instances are in \(.*\) (remove.*/\1/p' "$WORK/demo.out")
[ -n "$demo_dir" ] && case "$demo_dir" in /tmp/outpost-demo-*) rm -rf "$demo_dir" ;; esac

check "the demo runs to the end" status_is 0
check "the demo sets up a central" contains "$OUT" "Outpost central initialised"
check "the demo sets up a device" contains "$OUT" "Outpost device initialised"
check "the demo imports test takers" contains "$OUT" "as test-taker: 4 created"
check "the demo imports the sync manager" contains "$OUT" "as sync-manager: 1 created"
check "the demo publishes its QTI test" contains "$OUT" "Demo test"
check "the demo sets an eligibility" contains "$OUT" "4 test takers for Demo test"
check "the demo shows central's keys" contains "$OUT" "results key #1 (current)"
check "the demo scores a session" contains "$OUT" '"TOTAL_SCORE": 4.0'
check "the demo shows a refused file with its bad rows" contains "$OUT" "line 3: missing Login"
check "the demo enrols its device" contains "$OUT" "organisation     school-42"
check "the demo syncs its device" contains "$OUT" "sync done"
check "the demo prints what the device received" contains "$OUT" "  test-center: 1"
check "the device got the encrypted package" contains "$OUT" "encrypted packages: 1"
check "a test taker logs in on the device" contains "$OUT" "ada logged in as test_taker"
check "the proctored test waits for the proctor" contains "$OUT" "ada starts it: awaiting_authorization"
check "the proctor authorizes it" contains "$OUT" "paula authorizes it: authorized"
check "the test taker answers every item through the runner API" contains "$OUT" "item 5 of 5 (comment): answered"
check "and finishes" contains "$OUT" "the test is finished"
check "the result goes to central at the next sync" contains "$OUT" "results      1 sent, 1 acknowledged"
check "central decrypts it" contains "$OUT" "1 decrypted, 0 damaged"
check "with the score the engine gives Ada's answers" contains "$OUT" "test score: 4 of 7 (finished"
check "and the execution's audit log" contains "$OUT" "audit log: start -> authorize -> begin -> finish"
check "the demo's servers are stopped when asked" eval "! pgrep -f '$demo_dir/' > /dev/null"
check "the demo says where its instances are" [ -n "$demo_dir" ]
finish
