# Tests of `outpost deliveries list|update|delete` on deliveries made by import-qti.
. "$(dirname "$0")/lib.sh"
C="$WORK/c"
new_instance "$C" central
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/demo.zip"
run "$OUTPOST" --data "$C" import-qti -f "$WORK/demo.zip" --label "Maths"
check "import-qti makes a delivery" status_is 0
ID=$OUT
printf 'pw\n' | "$OUTPOST" --data "$C" users add --login ada --role test-taker > /dev/null
"$OUTPOST" --data "$C" testcenters add --label "School" --org ORG-1 > /dev/null
run "$OUTPOST" --data "$C" eligibilities set --center School --delivery Maths --test-takers ada
check "an eligibility for the delivery is set" status_is 0

run "$OUTPOST" --data "$C" deliveries list
check "deliveries list shows the label" contains "$OUT" "Maths"
check "deliveries list shows the package hash" contains "$OUT" "$(sql "$C" "SELECT package_sha256 FROM deliveries")"

seq_before=$(sql "$C" "SELECT max(seq) FROM sync_feed WHERE org_id='ORG-1'")
run "$OUTPOST" --data "$C" deliveries update Maths --label "Maths 2026" --proctored no --max-executions 2 --json
check "deliveries update succeeds" status_is 0
check "the label changed" contains "$OUT" '"label": "Maths 2026"'
check "proctored_default changed" contains "$OUT" '"proctored_default": false'
check "max_executions changed" contains "$OUT" '"max_executions": 2'
check "the version went up" contains "$OUT" '"version": 2'
check "the change reaches the organisation's feed" [ "$(sql "$C" "SELECT count(*) FROM sync_feed WHERE org_id='ORG-1' AND entity='delivery' AND seq > $seq_before AND deleted = 0")" = 1 ]
check "existing eligibilities keep their proctoring" [ "$(sql "$C" "SELECT proctored FROM eligibilities")" = 1 ]

check "the JSON says it changed" contains "$OUT" '"changed": true'
seq_same=$(sql "$C" "SELECT max(seq) FROM sync_feed")
run "$OUTPOST" --data "$C" deliveries update "Maths 2026" --label "Maths 2026" --max-executions 2
check "an update to the values it has succeeds" status_is 0
check "and says nothing changed" contains "$OUT" "nothing changed: delivery Maths 2026"
check "the version stays" contains "$OUT" "(version 2 stays; nothing was written)"
check "nothing reaches the feed" [ "$(sql "$C" "SELECT max(seq) FROM sync_feed")" = "$seq_same" ]
run "$OUTPOST" --data "$C" deliveries update "Maths 2026" --proctored no --json
check "its JSON says changed: false" contains "$OUT" '"changed": false'

run "$OUTPOST" --data "$C" deliveries update "Maths 2026"
check "an update with nothing to change is a usage error" status_is 2
run "$OUTPOST" --data "$C" deliveries update "Maths 2026" --proctored perhaps
check "--proctored takes yes or no" status_is 2
run "$OUTPOST" --data "$C" deliveries update Nope --label X
check "updating an unknown delivery is refused" status_is 1
check "the refusal names it" contains "$ERR" '"Nope"'

run "$OUTPOST" --data "$C" deliveries withdraw "Maths 2026"
check "deliveries withdraw succeeds" status_is 0
check "it says so" contains "$OUT" "withdrawn delivery Maths 2026"
check "the withdrawn delivery is kept on central" [ "$(sql "$C" "SELECT status FROM deliveries")" = withdrawn ]
check "its eligibility is kept on central" [ "$(sql "$C" "SELECT count(*) FROM eligibilities")" = 1 ]
check "devices get a tombstone for the withdrawn delivery" [ "$(sql "$C" "SELECT deleted FROM sync_feed WHERE org_id='ORG-1' AND entity='delivery'")" = 1 ]
check "devices get a tombstone for its eligibility" [ "$(sql "$C" "SELECT deleted FROM sync_feed WHERE org_id='ORG-1' AND entity='eligibility'")" = 1 ]
run "$OUTPOST" --data "$C" deliveries withdraw "Maths 2026"
check "withdrawing it again changes nothing" contains "$OUT" "already delivery"
run "$OUTPOST" --data "$C" deliveries list --json
check "deliveries list shows the status" contains "$OUT" '"status": "withdrawn"'
run "$OUTPOST" --data "$C" deliveries publish "$ID"
check "deliveries publish succeeds" status_is 0
check "the delivery is back in the organisation's scope" [ "$(sql "$C" "SELECT deleted FROM sync_feed WHERE org_id='ORG-1' AND entity='delivery'")" = 0 ]
check "its eligibility is back too" [ "$(sql "$C" "SELECT deleted FROM sync_feed WHERE org_id='ORG-1' AND entity='eligibility'")" = 0 ]
run "$OUTPOST" --data "$C" deliveries versions "$ID" --json
check "deliveries versions succeeds" status_is 0
check "the import is version 1 of the package history" contains "$OUT" '"version": 1'
check "it is the current package" contains "$OUT" '"current": true'

run "$OUTPOST" --data "$C" deliveries delete "$ID"
check "deliveries delete by id succeeds" status_is 0
check "the delivery is gone" [ "$(sql "$C" "SELECT count(*) FROM deliveries")" = 0 ]
check "its eligibility is gone" [ "$(sql "$C" "SELECT count(*) FROM eligibilities")" = 0 ]
check "the organisation's feed has a tombstone for the delivery" [ "$(sql "$C" "SELECT deleted FROM sync_feed WHERE org_id='ORG-1' AND entity='delivery'")" = 1 ]
check "the organisation's feed has a tombstone for the eligibility" [ "$(sql "$C" "SELECT deleted FROM sync_feed WHERE org_id='ORG-1' AND entity='eligibility'")" = 1 ]
check "the test taker left the organisation's scope" [ "$(sql "$C" "SELECT f.deleted FROM sync_feed f JOIN users u ON u.id = f.entity_id WHERE f.org_id='ORG-1' AND u.login='ada'")" = 1 ]
check "the package file is kept" [ -n "$(ls "$C/packages")" ]
run "$OUTPOST" --data "$C" deliveries delete "$ID"
check "deleting it again is refused" status_is 1

D="$WORK/d"
new_instance "$D" device
run "$OUTPOST" --data "$D" deliveries delete whatever
check "deliveries delete is refused on a device" contains "$ERR" "runs on a central"

finish
