# Tests of `outpost eligibilities`: set, list, delete, with their bad input and the change feed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
C="$WORK/c"
new_instance "$C" central
for u in t1 t2 t3; do add_user "$C" $u test-taker; done
add_user "$C" proc proctor
MATHS=11111111-1111-4111-8111-111111111111
PHYS=22222222-2222-4222-8222-222222222222
add_delivery "$C" $MATHS Maths 1
add_delivery "$C" $PHYS Physics 0
add_delivery "$C" 33333333-3333-4333-8333-333333333333 Dup 1
add_delivery "$C" 44444444-4444-4444-8444-444444444444 Dup 1
"$OUTPOST" --data "$C" testcenters add --label "Lycee Nord" --org ORG-A > /dev/null
"$OUTPOST" --data "$C" testcenters add --label Twin --org ORG-B > /dev/null
"$OUTPOST" --data "$C" testcenters add --label Twin --org ORG-C 2> /dev/null > /dev/null
NORD=$(center_id "$C" "Lycee Nord")
T1=$(user_id "$C" t1)
T2=$(user_id "$C" t2)
elig() { sql "$C" "SELECT $1 FROM eligibilities WHERE center_id = '$NORD' AND delivery_id = '$2'"; }

# ---- set ----
run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Maths --test-takers t1,t2
check "set creates an eligibility" status_is 0
check "set says it created it" contains "$OUT" "created eligibility"
check "the delivery's default makes it proctored" [ "$(elig proctored $MATHS)" = 1 ]
EL=$(elig id $MATHS)
check "both test takers are in it" \
    [ "$(sql "$C" "SELECT count(*) FROM eligibility_test_takers WHERE eligibility_id = '$EL'")" = 2 ]
check "a test taker added enters the organisation's feed" [ "$(feed_state "$C" ORG-A user "$T1")" = live ]
check "the delivery enters the organisation's feed" [ "$(feed_state "$C" ORG-A delivery $MATHS)" = live ]
check "the eligibility is in the organisation's feed" [ "$(feed_state "$C" ORG-A eligibility "$EL")" = live ]
check "other organisations do not see them" [ -z "$(feed_state "$C" ORG-B user "$T1")" ]

run "$OUTPOST" --data "$C" eligibilities set --center "$NORD" --delivery $MATHS --test-takers "t2, t1"
check "the same list again changes nothing" contains "$OUT" "unchanged eligibility"
check "and keeps the version" [ "$(elig version $MATHS)" = 1 ]

run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Maths --test-takers t2
check "set replaces the list" contains "$OUT" "updated eligibility"
check "the version is bumped" [ "$(elig version $MATHS)" = 2 ]
check "a test taker removed from the org's only eligibility gets a tombstone" \
    [ "$(feed_state "$C" ORG-A user "$T1")" = tombstone ]
check "the remaining test taker stays" [ "$(feed_state "$C" ORG-A user "$T2")" = live ]

run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Physics --test-takers t3
check "a delivery not proctored by default gives an unproctored eligibility" [ "$(elig proctored $PHYS)" = 0 ]
run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Physics --test-takers t3 --proctored YES
check "--proctored yes changes the setting" [ "$(elig proctored $PHYS)" = 1 ]
check "which bumps the version" [ "$(elig version $PHYS)" = 2 ]
run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Physics --test-takers t3,t1
check "without --proctored an existing eligibility keeps its setting" [ "$(elig proctored $PHYS)" = 1 ]
check "the output says proctored" contains "$OUT" ", proctored"

# ---- set: bad input ----
before=$(sql_list "$C" "SELECT id || ':' || version FROM eligibilities ORDER BY id")
run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Maths --test-takers t1 --proctored maybe
check "a bad yes/no is a usage error" status_is 2
check "the error shows the value" contains "$ERR" '--proctored must be yes or no, not "maybe"'
run "$OUTPOST" --data "$C" eligibilities set --center Nowhere --delivery Maths --test-takers t1
check "an unknown center is refused" status_is 1
check "the refusal names it" contains "$ERR" '--center: no test center with id or label "Nowhere"'
run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Chemistry --test-takers t1
check "an unknown delivery is named" contains "$ERR" '--delivery: no delivery with id or label "Chemistry"'
run "$OUTPOST" --data "$C" eligibilities set --center Twin --delivery Maths --test-takers t1
check "an ambiguous center label is refused" contains "$ERR" '2 test centers are labelled "Twin"'
run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Dup --test-takers t1
check "an ambiguous delivery label is refused" contains "$ERR" '2 deliveries are labelled "Dup"'
run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Maths --test-takers t1,proc,ghost
check "a wrong role or an unknown login is refused" status_is 1
check "the proctor is named" contains "$ERR" '"proc" is a proctor, not a test-taker'
check "the unknown login is named too" contains "$ERR" 'no user with login "ghost"'
run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Maths
check "--test-takers is required" status_is 2
check "no refused command changed anything" \
    [ "$(sql_list "$C" "SELECT id || ':' || version FROM eligibilities ORDER BY id")" = "$before" ]

# ---- list ----
run "$OUTPOST" --data "$C" eligibilities list --json
check "list --json lists every eligibility" [ "$(json_count)" = 2 ]
check "list --json gives the test takers by login" [ "$(json_where delivery_label Physics test_takers)" = '["t1","t3"]' ]
check "list --json gives the center label" [ "$(json_where delivery_label Maths center_label)" = "Lycee Nord" ]
check "list --json gives the center id" [ "$(json_where delivery_label Maths center_id)" = "$NORD" ]
check "list --json gives the delivery id" [ "$(json_where delivery_label Maths delivery_id)" = $MATHS ]
check "list --json gives proctored as a boolean" contains "$OUT" '"proctored": true'
check "list --json gives the version" [ "$(json_where delivery_label Maths version)" = 2 ]
run "$OUTPOST" --data "$C" eligibilities list
check "list prints a table" sh -c 'printf "%s\n" "$1" | grep Physics | grep -q "t1, t3"' _ "$OUT"

# ---- users delete ----
run "$OUTPOST" --data "$C" users delete t3
check "deleting a user removes them from the eligibility" \
    [ "$(sql "$C" "SELECT count(*) FROM eligibility_test_takers t JOIN users u ON u.id = t.user_id WHERE u.login = 't3'")" = 0 ]
check "and bumps its version" [ "$(elig version $PHYS)" = 4 ]

# ---- an empty list ----
run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Maths --test-takers ""
check "an empty list leaves no test takers" contains "$OUT" "0 test takers"
check "the last test taker gets a tombstone" [ "$(feed_state "$C" ORG-A user "$T2")" = tombstone ]

# ---- delete ----
run "$OUTPOST" --data "$C" eligibilities delete --center "Lycee Nord" --delivery Maths
check "delete removes the eligibility" status_is 0
check "it is gone" [ -z "$(elig id $MATHS)" ]
check "it left the feed as a tombstone" [ "$(feed_state "$C" ORG-A eligibility "$EL")" = tombstone ]
check "its delivery left the organisation's feed" [ "$(feed_state "$C" ORG-A delivery $MATHS)" = tombstone ]
run "$OUTPOST" --data "$C" eligibilities delete --center "Lycee Nord" --delivery Maths
check "deleting a missing eligibility is refused" status_is 1
check "the refusal names center and delivery" contains "$ERR" 'test center "Lycee Nord" has no eligibility for delivery "Maths"'
run "$OUTPOST" --data "$C" eligibilities delete --center "Lycee Nord"
check "delete needs --delivery" status_is 2

# ---- deleting the center deletes its eligibilities ----
run "$OUTPOST" --data "$C" testcenters delete "Lycee Nord"
check "the center is deleted" status_is 0
check "with its eligibilities" [ "$(sql "$C" "SELECT count(*) FROM eligibilities")" = 0 ]
check "whose test takers leave the feed" [ "$(feed_state "$C" ORG-A user "$T1")" = tombstone ]

# ---- on a device ----
D="$WORK/d"
new_instance "$D" device
run "$OUTPOST" --data "$D" eligibilities list
check "eligibilities refuses to run on a device" contains "$ERR" "runs on a central"
run "$OUTPOST" --data "$D" eligibilities set --center X --delivery Y --test-takers t1
check "eligibilities set refuses to run on a device" status_is 1

finish
