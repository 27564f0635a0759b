# Tests of the results held for review on central: a result whose test taker's eligibility
# was withdrawn after the test is stored and held (results list --status quarantined), then
# accepted or rejected by an operator (results accept / reject), never deleted.
# tests/tools/envelope_tool.c stands in for the device.
. "$(dirname "$0")/lib.sh"
TOOL="$BUILD_DIR/envelope_tool"
C="$WORK/c"; D="$WORK/d"
new_instance "$C" central
new_instance "$D" device
"$TOOL" enrol "$C" "$D" > /dev/null || { echo "FAIL: enrol"; exit 1; }
printf '{"score": 3}' > "$WORK/p.json"
DELIVERY=11111111-2222-4333-8444-555555555555
TAKER=aaaaaaaa-0000-4000-8000-0000000000aa
STRANGER=aaaaaaaa-0000-4000-8000-0000000000bb
r1=$("$TOOL" seal "$D" "$C" "$WORK/held.bin" "$WORK/p.json" finished "" "$DELIVERY" "$TAKER")
r2=$("$TOOL" seal "$D" "$C" "$WORK/held.bin" "$WORK/p.json" finished "" "$DELIVERY" "$TAKER")
r3=$("$TOOL" seal "$D" "$C" "$WORK/ok.bin" "$WORK/p.json" finished "" "$DELIVERY")
OUTPOST_TOOL_NO_SCOPE=1 "$TOOL" seal "$D" "$C" "$WORK/never.bin" "$WORK/p.json" finished "" "$DELIVERY" "$STRANGER" > /dev/null

# the test taker and the delivery were in ORG-1's scope (its change feed has them); then
# central withdraws the test taker's eligibility
sql "$C" "INSERT INTO sync_feed (org_id, entity, entity_id, seq, version, deleted) VALUES
  ('ORG-1', 'user', '$TAKER', 900001, 1, 1), ('ORG-1', 'delivery', '$DELIVERY', 900002, 1, 0)"
sql "$C" "DELETE FROM eligibility_test_takers WHERE user_id = '$TAKER'"

run "$OUTPOST" --data "$C" results import -f "$WORK/held.bin"
check "results of a withdrawn eligibility are stored, not refused" status_is 0
check "and the import says they are held for review" contains "$OUT" "2 stored, 0 already received, 0 refused (2 of the stored held for review"
run "$OUTPOST" --data "$C" results import -f "$WORK/ok.bin"
run "$OUTPOST" --data "$C" results import -f "$WORK/never.bin"
check "a test taker never in the organisation's scope is still refused" status_is 1
check "saying so" contains "$ERR" "not eligible for delivery"

run "$OUTPOST" --data "$C" results list --status quarantined
check "results list --status quarantined shows the held results" contains "$OUT" "$r1"
check "both of them" contains "$OUT" "$r2"
check "and not the others" eval "! contains \"\$OUT\" \"$r3\""
run "$OUTPOST" --data "$C" results list --status quarantined --json
check "--json gives the review and why" contains "$OUT" '"review": "quarantined"'
check "the reason says the eligibility was withdrawn" contains "$OUT" "eligibility was withdrawn after the test"
run "$OUTPOST" --data "$C" results list --status held
check "an unknown status is a usage error" status_is 2
check "naming the choices" contains "$ERR" "quarantined, accepted or rejected"

run "$OUTPOST" --data "$C" results accept "$r1"
check "results accept accepts a held result" status_is 0
check "and says so" contains "$OUT" "result $r1 accepted"
check "it is marked accepted" [ "$(sql "$C" "SELECT review FROM results WHERE id='$r1'")" = accepted ]
run "$OUTPOST" --data "$C" results reject "$r2" --reason "taken under another name"
check "results reject rejects a held result" status_is 0
check "a rejected result is kept" [ "$(sql "$C" "SELECT count(*) FROM results WHERE id='$r2'")" = 1 ]
check "marked rejected with the reason" [ "$(sql "$C" "SELECT review || ':' || review_reason FROM results WHERE id='$r2'")" = "rejected:taken under another name" ]
run "$OUTPOST" --data "$C" results list --status rejected
check "results list --status rejected shows it" contains "$OUT" "$r2"
run "$OUTPOST" --data "$C" results list --status quarantined --json
check "nothing is held any more" [ "$OUT" = "[]" ]

run "$OUTPOST" --data "$C" results accept "$r2"
check "a decided result cannot be decided again" status_is 1
check "saying what it was" contains "$ERR" "rejected already"
run "$OUTPOST" --data "$C" results reject "$r3"
check "an ordinary result cannot be rejected" contains "$ERR" "is not held for review"
run "$OUTPOST" --data "$C" results accept 00000000-0000-4000-8000-000000000000
check "an unknown id is a clear error" contains "$ERR" "no result 00000000-0000-4000-8000-000000000000"
run "$OUTPOST" --data "$C" results accept
check "results accept needs an id" status_is 2
run "$OUTPOST" --data "$C" results reject "$r1" "$r2"
check "results reject takes one id" status_is 2
run "$OUTPOST" --data "$D" results accept "$r1"
check "results accept refuses a device" contains "$ERR" "central"

finish
