# Tests of `outpost testcenters`: add, list, assign, unassign, delete, with their bad input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
C="$WORK/c"
new_instance "$C" central
add_user "$C" boss test-center-admin
add_user "$C" proc proctor
add_user "$C" t1 test-taker

# ---- add ----
run "$OUTPOST" --data "$C" testcenters add --label "Lycee Nord" --org ORG-A
check "add prints the new id" sh -c 'printf "%s" "$1" | grep -Eq "^[0-9a-f-]{36}$"' _ "$OUT"
NORD=$OUT
check "the center is stored with its organisation" \
    [ "$(sql "$C" "SELECT org_id FROM test_centers WHERE id = '$NORD'")" = ORG-A ]
check "the new center is in its organisation's feed" \
    [ "$(feed_state "$C" ORG-A test-center "$NORD")" = live ]

run "$OUTPOST" --data "$C" testcenters add --label Annexe --org ORG-A --parent "Lycee Nord"
check "add --parent takes a label" status_is 0
ANNEXE=$OUT
check "the parent is stored by id" \
    [ "$(sql "$C" "SELECT parent_id FROM test_centers WHERE id = '$ANNEXE'")" = "$NORD" ]
run "$OUTPOST" --data "$C" testcenters add --label Annexe2 --org ORG-A --parent "$NORD"
check "add --parent takes an id" status_is 0

run "$OUTPOST" --data "$C" testcenters add --label Lost --org ORG-A --parent Nowhere
check "an unknown parent is refused" status_is 1
check "the refusal names the parent" contains "$ERR" '--parent: no test center with id or label "Nowhere"'
run "$OUTPOST" --data "$C" testcenters add --label Lost
check "add without --org is a usage error" status_is 2
run "$OUTPOST" --data "$C" testcenters add --label "" --org ORG-A
check "an empty label is refused" contains "$ERR" "needs a label"
run "$OUTPOST" --data "$C" testcenters add --label 0b5b3c2e-8a4f-4d7e-9c1a-2f3e4d5c6b7a --org ORG-A
check "a label that looks like an id is refused" contains "$ERR" "looks like an id"
check "nothing was added by the refused commands" \
    [ "$(sql "$C" "SELECT count(*) FROM test_centers")" = 3 ]

run "$OUTPOST" --data "$C" testcenters add --label Twin --org ORG-B
TWIN1=$OUT
run "$OUTPOST" --data "$C" testcenters add --label Twin --org ORG-C
check "a shared label is allowed" status_is 0
check "with a note that ids are now needed" contains "$ERR" '2 test centers are now labelled "Twin"'

# ---- list ----
run "$OUTPOST" --data "$C" testcenters list --json
check "list --json lists every center" [ "$(json_count)" = 5 ]
check "list --json gives the organisation" [ "$(json_where label "Lycee Nord" org_id)" = ORG-A ]
check "list --json gives the parent id" [ "$(json_where label Annexe parent_id)" = "$NORD" ]
check "a top-level center has a null parent" \
    [ "$(json_where label "Lycee Nord" "parent_id IS NULL")" = "" ]
check "list --json has the version" [ "$(json_where label Annexe version)" = 1 ]
run "$OUTPOST" --data "$C" testcenters list
check "list prints a table" contains "$OUT" "Lycee Nord"
check "the table names the parent by label" sh -c 'printf "%s\n" "$1" | grep Annexe2 | grep -q "Lycee Nord"' _ "$OUT"

# ---- assign ----
run "$OUTPOST" --data "$C" testcenters assign "Lycee Nord" --admin boss
check "assign --admin" status_is 0
check "assign says what it did" contains "$OUT" "boss is now an administrator of Lycee Nord"
run "$OUTPOST" --data "$C" testcenters assign "Lycee Nord" --admin boss
check "assigning again changes nothing" contains "$OUT" "was already"
check "the version was bumped once" \
    [ "$(sql "$C" "SELECT version FROM test_centers WHERE id = '$NORD'")" = 2 ]
run "$OUTPOST" --data "$C" testcenters assign "$NORD" --proctor proc
check "assign --proctor by center id" status_is 0
check "the proctor is in the organisation's feed" \
    [ "$(feed_state "$C" ORG-A user "$(user_id "$C" proc)")" = live ]
run "$OUTPOST" --data "$C" testcenters list --json
check "list --json gives administrators by login" [ "$(json_where label "Lycee Nord" admins)" = '["boss"]' ]
check "list --json gives proctors by login" [ "$(json_where label "Lycee Nord" proctors)" = '["proc"]' ]

run "$OUTPOST" --data "$C" testcenters assign "Lycee Nord" --admin proc
check "a proctor cannot be an administrator" status_is 1
check "the refusal names the role needed" contains "$ERR" '"proc" is a proctor; only test-center-admin users can be administrators'
run "$OUTPOST" --data "$C" testcenters assign "Lycee Nord" --proctor t1
check "a test taker cannot be a proctor" contains "$ERR" '"t1" is a test-taker; only proctor users can be proctors'
run "$OUTPOST" --data "$C" testcenters assign "Lycee Nord" --proctor nobody
check "an unknown login is named" contains "$ERR" 'no user with login "nobody"'
run "$OUTPOST" --data "$C" testcenters assign Nowhere --proctor proc
check "an unknown center is named" contains "$ERR" 'no test center with id or label "Nowhere"'
run "$OUTPOST" --data "$C" testcenters assign Twin --proctor proc
check "an ambiguous label is refused" status_is 1
check "the refusal says the label is shared" contains "$ERR" '2 test centers are labelled "Twin"'
check "the refusal lists the ids" contains "$ERR" "$TWIN1"
run "$OUTPOST" --data "$C" testcenters assign "Lycee Nord" --admin boss --proctor proc
check "--admin and --proctor together is a usage error" status_is 2
run "$OUTPOST" --data "$C" testcenters assign "Lycee Nord"
check "assign needs --admin or --proctor" status_is 2

# ---- unassign ----
run "$OUTPOST" --data "$C" testcenters unassign "Lycee Nord" --proctor proc
check "unassign --proctor" status_is 0
check "the proctor left the feed as a tombstone" \
    [ "$(feed_state "$C" ORG-A user "$(user_id "$C" proc)")" = tombstone ]
check "the center's version was bumped" \
    [ "$(sql "$C" "SELECT version FROM test_centers WHERE id = '$NORD'")" = 4 ]
run "$OUTPOST" --data "$C" testcenters unassign "Lycee Nord" --proctor proc
check "unassigning someone not assigned is refused" status_is 1
check "the refusal says so" contains "$ERR" '"proc" is not a proctor of test center "Lycee Nord"'

# ---- delete ----
run "$OUTPOST" --data "$C" testcenters delete "Lycee Nord"
check "a center with sub-centers is not deleted" status_is 1
check "the refusal names the sub-centers" contains "$ERR" 'has 2 sub-centers: "Annexe"'
check "the refusal says how to move them" contains "$ERR" "testcenters update --parent or --no-parent"
check "the CLI's advice reads in place" contains "$ERR" "another parent (testcenters update --parent or --no-parent) first"
run "$OUTPOST" --data "$C" testcenters delete Annexe
check "delete by label" status_is 0
run "$OUTPOST" --data "$C" testcenters delete Annexe2
run "$OUTPOST" --data "$C" testcenters delete "$NORD"
check "delete by id once the sub-centers are gone" status_is 0
check "the center is gone" [ -z "$(sql "$C" "SELECT 1 FROM test_centers WHERE id = '$NORD'")" ]
check "its staff assignments are gone" [ "$(sql "$C" "SELECT count(*) FROM test_center_staff")" = 0 ]
check "the center left the feed as a tombstone" [ "$(feed_state "$C" ORG-A test-center "$NORD")" = tombstone ]
check "its administrator left the feed as a tombstone" \
    [ "$(feed_state "$C" ORG-A user "$(user_id "$C" boss)")" = tombstone ]
run "$OUTPOST" --data "$C" testcenters delete Nowhere
check "deleting an unknown center names it" contains "$ERR" '"Nowhere"'
run "$OUTPOST" --data "$C" testcenters delete
check "delete needs a CENTER" status_is 2

# ---- the command itself ----
run "$OUTPOST" --data "$C" testcenters --help
check "testcenters --help lists the subcommands" contains "$OUT" "unassign"
run "$OUTPOST" --data "$C" testcenters frobnicate
check "an unknown subcommand is a usage error" status_is 2
D="$WORK/d"
new_instance "$D" device
run "$OUTPOST" --data "$D" testcenters list
check "testcenters refuses to run on a device" status_is 1
check "the refusal says it runs on central" contains "$ERR" "runs on a central"
run "$OUTPOST" --data "$D" testcenters add --label X --org ORG-A
check "testcenters add refuses to run on a device" contains "$ERR" "runs on a central"

finish
